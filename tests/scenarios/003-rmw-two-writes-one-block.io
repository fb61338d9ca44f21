# 003: two unaligned writes into the same 4096-byte block, the first parked at
# each RMW event in turn (pwritev_rmw_head, _after_head, _tail, _after_tail)
# while the second is issued. The second must wait for the first (it is
# serialised: counted in serialisation_waits, 1 per section) and both must
# land: with the first parked after its RMW read (_after_*), a second write
# that did not wait would be overwritten by the first one's stale copy of the
# block. Every byte of the touched blocks is checked afterwards, the
# background pattern 0x01 included.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M

write -P 0x01 0 64k
stats -r

# pwritev_rmw_head, block 0: p1 and p2 both pad head and tail in one block.
break pwritev_rmw_head A
aio_write -P 0x0a 0x100 0x100
aio_write -P 0x0b 0x300 0x100
wait_break A
info
resume A
aio_flush

# pwritev_rmw_after_head, block 1: p1 ends at the block end (head padding
# only), p2 starts at the block start (tail padding only).
break pwritev_rmw_after_head A
aio_write -P 0x1a 0x1f00 0x100
aio_write -P 0x1b 0x1000 0x80
wait_break A
resume A
aio_flush

# pwritev_rmw_tail, block 2: p1 starts at the block start (no head, so the
# tail block is read under the _tail events), p2 ends at the block end.
break pwritev_rmw_tail A
aio_write -P 0x2a 0x2000 0x10
aio_write -P 0x2b 0x2ff0 0x10
wait_break A
resume A
aio_flush

# pwritev_rmw_after_tail, blocks 3-4: p1 [0x3ff0, 0x4010) reads both blocks
# and is parked after the tail block's read; p2 lands in that tail block.
break pwritev_rmw_after_tail A
aio_write -P 0x3a 0x3ff0 0x20
aio_write -P 0x3b 0x4100 0x100
wait_break A
resume A
aio_flush

# 8 writes, 9 RMW blocks (p1 of the last section has two), 4 waits.
stats

read -P 0x01 0 0x100
read -P 0x0a 0x100 0x100
read -P 0x01 0x200 0x100
read -P 0x0b 0x300 0x100
read -P 0x01 0x400 0xc00

read -P 0x1b 0x1000 0x80
read -P 0x01 0x1080 0xe80
read -P 0x1a 0x1f00 0x100

read -P 0x2a 0x2000 0x10
read -P 0x01 0x2010 0xfe0
read -P 0x2b 0x2ff0 0x10

read -P 0x01 0x3000 0xff0
read -P 0x3a 0x3ff0 0x20
read -P 0x01 0x4010 0xf0
read -P 0x3b 0x4100 0x100
read -P 0x01 0x4200 0xbe00
