# 016: regression -- an unaligned write_zeroes is tracked as ONE request, so a
# write issued later into its aligned middle waits for the zeroing and survives
# (issue order for overlapping requests). The zeroing of [100, 10100) is parked
# after reading its head block; the later write [0x1100, 0x1200) must survive.
# (-q on both aio writes: completion order of the two lines is unspecified.)
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M

write -P 0x01 0 64k
break pwritev_rmw_after_head A
aio_write -q -z 100 10000
wait_break A
aio_write -q -P 0x02 0x1100 0x100
sleep 100
resume A
aio_flush
read -P 0x01 0 100
read -P 0 100 4252
read -P 0x02 0x1100 0x100
read -P 0 0x1200 5492
read -P 0x01 10100 55436
