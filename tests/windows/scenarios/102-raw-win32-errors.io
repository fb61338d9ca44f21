# 102: raw-win32's refusals name the file, the option or the operation, with
# the errno text and the Windows error code (the system's text is filtered:
# Wine's differs from Windows'): a missing file (2), a directory (5), options
# raw-win32 does not have, a read-only open refusing every write path; then
# operations Wine does not support on files (FSCTL_SET_ZERO_DATA) fall back
# or are advisory, and the data stays intact.
#! spec: driver=raw-win32,filename=$IMG,cache.direct=on
#! image-size: 16k
#! status: 1

write -P 0x5a 1000 3000
close
open -o driver=raw-win32,filename=$IMG.missing
close
open -o driver=raw-win32,filename=/tmp
close
open -o driver=raw-win32,filename=$IMG,aio=threads
close
open -o driver=raw-win32,filename=$IMG,cache.writethrough=perhaps
close
open -o driver=raw-win32,filename=$IMG,cache.direct=on,align=512
read 0 1
close
open -r -o driver=raw-win32,filename=$IMG,cache.direct=on
write 0 1
write -z 0 4096
discard 0 4096
truncate 100
flush
read -P 0x5a 1000 3000
close
open -o driver=raw-win32,filename=$IMG,cache.direct=on
write -z 1500 1000
read -P 0 1500 1000
read -P 0x5a 1000 500
read -P 0x5a 2500 1500
discard 0 16384
read -P 0x5a 1000 500
length
