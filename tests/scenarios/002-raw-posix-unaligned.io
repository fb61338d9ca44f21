# 002: unaligned writes and vectored I/O over a real file: blkdebug align=4096
# over raw-posix (default engine), with buffers misaligned by -m so the whole
# padded range is bounced. The file is then reopened through raw-posix alone
# (thread engine, no blkdebug, byte-granular requests straight to the file)
# and every byte is checked again: the RMW cycles wrote back exactly the old
# neighbours, and the file did not grow (65536 bytes, shown by the runner).
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
#! image-size: 64k
#! show-image-size: yes

write -P 0x41 4095 2
write -P 0x42 100 3000
write -P 0x43 -m 1 8190 4100
writev -P 0x44 -m 7 20000 1 4095 5000
length

read -P 0 0 100
read -P 0x42 100 3000
read -P 0 3100 995
read -P 0x41 4095 2
read -P 0 4097 4093
read -P 0x43 8190 4100
read -P 0 12290 7710
readv -P 0x44 -m 3 20000 4096 5000
read -P 0 29096 36440

# The same bytes through a different stack.
close
open -o driver=raw-posix,filename=$IMG,aio=threads
length
read -P 0 0 100
read -P 0x42 100 3000
read -P 0 3100 995
read -P 0x41 4095 2
read -P 0 4097 4093
read -P 0x43 8190 4100
read -P 0 12290 7710
read -P 0x44 20000 9096
read -P 0 29096 36440
read -v 4092 8
read -v 12286 8
read -v 29092 8
