# 007: end of file on a file whose size (5000) is not a multiple of the 4096
# alignment, through blkdebug align=4096 over raw-posix. Reads across and past
# EOF return zeroes (the buffer starts as 0xab, so nothing passes by
# accident), also through bounce buffers (-m).
# Unaligned writes past EOF grow the file to exactly their end (the runner
# prints the final size: 12600): the aligned padding past the end is trimmed
# and the gap reads as zeroes. Two growing writes are serialised: the second,
# issued while the first is parked after reading its head block, would
# otherwise be overwritten by the first one's padded write and cut off by its
# trim. Reads issued while a growing write is parked and overlapping it wait
# for it. Finally raw-posix alone (byte-granular) sees the same bytes.
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.growable=on,image.filename=$IMG
#! image-size: 5000
#! show-image-size: yes

length
read -P 0 0 5000
read -P 0 4096 4096
read -P 0 4990 20
read -P 0 5000 1
read -P 0 5000 3192
read -P 0 8192 4096
read -P 0 1M 1
# The same through bounce buffers (misaligned by -m).
read -m 3 -P 0 4096 4096
readv -m 5 -P 0 4990 5 15

# Growing write into the last partial block: 5000 -> 5100.
write -P 0x33 4900 200
length
read -v 4896 8
read -v 5096 8
read -P 0 5100 3092
readv -m 1 -v 5096 3 5

# Growing writes leaving gaps: 5100 -> 6100 -> 9100.
write -P 0x44 6000 100
length
read -P 0x33 4900 200
read -P 0 5100 900
read -P 0x44 6000 100
read -P 0 6100 10000
write -P 0x55 9000 100
length
read -P 0 6100 2900
read -P 0x55 9000 100
read -P 0 9100 3000

# Two growing writes, the first parked after its head block read.
break pwritev_rmw_after_head A
aio_write -P 0x66 9500 100
aio_write -P 0x77 12000 100
wait_break A
resume A
aio_flush
length

# Reads issued while a growing write is parked: those overlapping what it
# grows wait and see its data (-q: their completion order is not fixed); a
# read outside [8192, end) (the growing write serialises from the aligned
# old end, 12100 -> 8192) completes at once (synchronous: it would stall).
break pwritev_rmw_after_head A
aio_write -P 0x88 12500 100
wait_break A
aio_read -q -P 0x88 12500 100
aio_read -q -P 0 12100 400
read -P 0x33 4900 200
resume A
aio_flush
length

close
open -o driver=raw-posix,growable=on,filename=$IMG
length
read -P 0 0 4900
read -P 0x33 4900 200
read -P 0 5100 900
read -P 0x44 6000 100
read -P 0 6100 2900
read -P 0x55 9000 100
read -P 0 9100 400
read -P 0x66 9500 100
read -P 0 9600 2400
read -P 0x77 12000 100
read -P 0 12100 400
read -P 0x88 12500 100
read -P 0 12600 4000
