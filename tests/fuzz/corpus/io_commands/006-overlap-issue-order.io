# 006: overlapping requests of different kinds run in issue order. An aligned
# write overlapping a parked unaligned one waits for it (and vice versa: an
# unaligned write waits for a parked aligned write, parked before submission
# at pwritev, inside the driver at write_aio, or after it at pwritev_done); an
# unaligned write waits for a parked aligned read, which must still return the
# old data. Where two writes overlap, the final content is the later-issued
# one; every section counts exactly one serialisation wait.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M

write -P 0x01 0 64k
stats -r

# Block 0: aligned write after a parked unaligned one: all 0x0b at the end.
break pwritev_rmw_after_head A
aio_write -P 0x0a 0x100 0x200
aio_write -P 0x0b 0 0x1000
wait_break A
resume A
aio_flush

# Block 1: unaligned write after an aligned one parked inside the driver.
break write_aio A
aio_write -P 0x1a 0x1000 0x1000
aio_write -P 0x1b 0x1100 0x200
wait_break A
resume A
aio_flush

# Blocks 2-3: unaligned [0x2f00, 0x3100) parked after its tail read, then an
# aligned write of block 3 which covers the tail part.
break pwritev_rmw_after_tail A
aio_write -P 0x2a 0x2f00 0x200
aio_write -P 0x2b 0x3000 0x1000
wait_break A
resume A
aio_flush

# Blocks 4-6: aligned [0x4000, 0x6000) parked before submission, then an
# unaligned write over its last 256 bytes and into block 6.
break pwritev A
aio_write -P 0x3a 0x4000 0x2000
aio_write -P 0x3b 0x5f00 0x200
wait_break A
resume A
aio_flush

# Block 7: aligned write parked after it was written, then an unaligned one.
break pwritev_done A
aio_write -P 0x4a 0x7000 0x1000
aio_write -P 0x4b 0x7800 0x100
wait_break A
resume A
aio_flush

# Block 8: an aligned read parked in the driver; the newer unaligned write
# waits, so the read returns the old bytes.
break read_aio A
aio_read -P 0x01 0x8000 0x1000
aio_write -P 0x5b 0x8100 0x100
wait_break A
resume A
aio_flush

# Block 9: two unaligned writes sharing [0x9200, 0x9300).
break pwritev_rmw_after_head A
aio_write -P 0x6a 0x9100 0x200
aio_write -P 0x6b 0x9200 0x200
wait_break A
resume A
aio_flush

stats

read -P 0x0b 0 0x1000
read -P 0x1a 0x1000 0x100
read -P 0x1b 0x1100 0x200
read -P 0x1a 0x1300 0xd00
read -P 0x01 0x2000 0xf00
read -P 0x2a 0x2f00 0x100
read -P 0x2b 0x3000 0x1000
read -P 0x3a 0x4000 0x1f00
read -P 0x3b 0x5f00 0x200
read -P 0x01 0x6100 0xf00
read -P 0x4a 0x7000 0x800
read -P 0x4b 0x7800 0x100
read -P 0x4a 0x7900 0x700
read -P 0x01 0x8000 0x100
read -P 0x5b 0x8100 0x100
read -P 0x01 0x8200 0xf00
read -P 0x01 0x9000 0x100
read -P 0x6a 0x9100 0x100
read -P 0x6b 0x9200 0x200
read -P 0x01 0x9400 0x6c00
