# 004: three unaligned writes into the same block(s), the first parked at each
# RMW event in turn. The second and third are issued while the first is
# parked: both must wait for it, and the third must then also wait for the
# second (older, same block), so they complete in issue order (p1, p2, p3)
# and each section counts 3 serialisation waits. In the last section p3
# overwrites bytes of p1 and spans two blocks: where writes overlap, the
# later-issued one must win. Every byte of the touched blocks is checked.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M

write -P 0x01 0 64k
stats -r

# pwritev_rmw_head, block 0: three disjoint writes, head and tail padding each.
break pwritev_rmw_head A
aio_write -P 0x0a 0x100 0x100
aio_write -P 0x0b 0x400 0x100
aio_write -P 0x0c 0x700 0x100
wait_break A
resume A
aio_flush

# pwritev_rmw_after_head, block 1: p1 to the block end, p2 from the block
# start, p3 in between.
break pwritev_rmw_after_head A
aio_write -P 0x1a 0x1800 0x800
aio_write -P 0x1b 0x1000 0x10
aio_write -P 0x1c 0x1400 0x100
wait_break A
resume A
aio_flush

# pwritev_rmw_tail, block 2: three writes back to back from the block start.
break pwritev_rmw_tail A
aio_write -P 0x2a 0x2000 0x100
aio_write -P 0x2b 0x2100 0x100
aio_write -P 0x2c 0x2200 0x100
wait_break A
resume A
aio_flush

# pwritev_rmw_after_tail, blocks 3-4: p1 [0x3800, 0x4800) is parked after
# reading its tail block, p2 in block 3, p3 [0x3f00, 0x4100) over p1's bytes.
break pwritev_rmw_after_tail A
aio_write -P 0x3a 0x3800 0x1000
aio_write -P 0x3b 0x3000 0x100
aio_write -P 0x3c 0x3f00 0x200
wait_break A
resume A
aio_flush

stats

read -P 0x01 0 0x100
read -P 0x0a 0x100 0x100
read -P 0x01 0x200 0x200
read -P 0x0b 0x400 0x100
read -P 0x01 0x500 0x200
read -P 0x0c 0x700 0x100
read -P 0x01 0x800 0x800

read -P 0x1b 0x1000 0x10
read -P 0x01 0x1010 0x3f0
read -P 0x1c 0x1400 0x100
read -P 0x01 0x1500 0x300
read -P 0x1a 0x1800 0x800

read -P 0x2a 0x2000 0x100
read -P 0x2b 0x2100 0x100
read -P 0x2c 0x2200 0x100
read -P 0x01 0x2300 0xd00

read -P 0x3b 0x3000 0x100
read -P 0x01 0x3100 0x700
read -P 0x3a 0x3800 0x700
read -P 0x3c 0x3f00 0x200
read -P 0x3a 0x4100 0x700
read -P 0x01 0x4800 0xb800
read -v 0x3efe 4
read -v 0x40fe 4
