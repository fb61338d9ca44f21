# 029: format safety. With format=raw an image's bytes are the caller's, even
# a qcow2 header ("QFI\xfb", version 3), written here byte by byte. Opened
# again without format=raw, the open reads the first bytes, recognises qcow2,
# and refuses every write, zeroing, discard and truncate (EPERM, naming the
# format, the file and format=raw) while reads work. qemu-io's driver=raw says
# format=raw too. With one byte of the magic undone the image probes as raw:
# a write that would complete a signature in the first 512 bytes is refused
# (version 3, then version 2 over a 4096 alignment: the check sees the whole
# padded block), one that leaves none is taken ("QFI\xfb" with version 0 is
# no qcow2), as are writes past the first 512 bytes. The image keeps 64k.
#! spec: driver=raw-posix,filename=$IMG,format=raw
#! image-size: 64k
#! status: 1
#! show-image-size: yes

write -P 0x51 0 1
write -P 0x46 1 1
write -P 0x49 2 1
write -P 0xfb 3 1
write -P 0x03 7 1
close
open -o driver=raw-posix,filename=$IMG
read -v 0 16
read -P 0 8 65528
write -P 0x55 0 512
write -P 0x55 32k 512
write -z 32k 4k
discard 0 64k
truncate 32k
length
close
open -o driver=raw,file.filename=$IMG
write -P 0 3 1
close
open -o driver=raw-posix,filename=$IMG
write -P 0xfb 3 1
write -P 0 7 1
write -P 0xfb 3 1
close
open -o driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
write -P 0x02 7 1
write -P 0x02 512 1
read -v 0 16
read -P 0x02 512 1
