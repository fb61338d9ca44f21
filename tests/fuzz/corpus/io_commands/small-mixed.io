#! spec: driver=blkdebug,align=4096,mem-align=512,image.driver=memory,image.size=64k
write -P 0x41 100 3000
aio_write -P 0x42 -m 7 2000 5000
aio_read -P 0x42 4096 512
aio_flush
readv -v 0 100 412 4096
writev -q 4095 1 2 3
write -z 511 8193
discard 0 64k
map 0 64k
info
stats -r
reopen -o align=512
read -P 0 0 1
length
help write
quit
