# 014: writes INSIDE a device whose size (5000) is not a multiple of the
# alignment (4096), into its partial last block: the padded write reaches
# past the end, yet the file keeps its size (the runner prints 6100 at the
# end, from the one growing write below), the device's length and the node's
# agree, and the bytes after EOF still read as zeroes. An in-bounds write
# parked after its RMW read and a growing write issued after it are
# serialised: both land. Then a growable memory node of 5000 bytes: an
# in-bounds write leaves the node at 5000 (info: "memory: size 5000"); and a
# strict fixed-size memory node (align=4096) takes the write too.
# (Regression test: these writes used to extend the file/node to 8192.)
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.growable=on,image.filename=$IMG
#! image-size: 5000
#! show-image-size: yes

write -P 0x11 4500 100
length
read -P 0 4096 404
read -P 0x11 4500 100
read -P 0 4600 400
read -P 0 5000 4096
write -P 0x22 4000 1000
length
read -P 0 0 4000
read -P 0x22 4000 1000
read -P 0 5000 4096

break pwritev_rmw_after_head A
aio_write -P 0x33 4200 100
aio_write -P 0x44 6000 100
wait_break A
resume A
aio_flush
length
read -P 0x22 4000 200
read -P 0x33 4200 100
read -P 0x22 4300 700
read -P 0 5000 1000
read -P 0x44 6000 100
read -P 0 6100 4000

close
open -o driver=raw-posix,growable=on,filename=$IMG
length
read -P 0 0 4000
read -P 0x22 4000 200
read -P 0x33 4200 100
read -P 0x22 4300 700
read -P 0 5000 1000
read -P 0x44 6000 100

close
open -o driver=blkdebug,align=4096,image.driver=memory,image.size=5000,image.growable=on
write -P 0x55 4500 100
read -P 0 4096 404
read -P 0x55 4500 100
read -P 0 4600 400
length
info

# A strict fixed-size node of 5000 bytes (align=4096 enforced by the memory
# node itself): the padded write stops exactly at the node's end (the ABI's
# end-of-node rule) and lands; the node keeps its size.
close
open -o driver=memory,size=5000,align=4096
write -P 0x66 4500 100
read -P 0 4096 404
read -P 0x66 4500 100
read -P 0 4600 400
write -P 0x77 4000 1000
read -P 0 0 4000
read -P 0x77 4000 1000
info
