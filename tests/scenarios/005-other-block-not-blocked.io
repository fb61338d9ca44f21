# 005: a write parked mid-RMW blocks only its own aligned block. While p1
# [0x100, 0x300) is parked after reading block 0, writes into other blocks
# (the very next byte's block, an aligned block, an unaligned aio write) run
# to completion: their lines come BEFORE p1's, and the stats taken while p1
# is parked show they neither waited (serialisation_waits 0) nor hung. A read
# of p1's range issued while it is parked waits and returns p1's data; its
# line follows p1's.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M

write -P 0x01 0 64k
break pwritev_rmw_after_head A
aio_write -P 0x0a 0x100 0x200
wait_break A
stats -r

# Synchronous writes: each returns while p1 is still parked, or the command
# would stall and report the breakpoint after 10 s.
write -P 0x0b 0x1000 1
write -P 0x0c 0x1100 0x200
write -P 0x0d 0x2000 0x1000
stats
# An aio write elsewhere; the read of its range serialises behind it, so its
# line is printed first, and both still before p1's.
aio_write -P 0x0e 0x3ffe 2
read -P 0x0e 0x3ffe 2
# A read of p1's range: must wait for p1 and see its data.
aio_read -P 0x0a 0x100 0x200
info
resume A
aio_flush

read -P 0x01 0 0x100
read -P 0x0a 0x100 0x200
read -P 0x01 0x300 0xd00
read -P 0x0b 0x1000 1
read -P 0x01 0x1001 0xff
read -P 0x0c 0x1100 0x200
read -P 0x01 0x1300 0xd00
read -P 0x0d 0x2000 0x1000
read -P 0x01 0x3000 0xffe
read -P 0x0e 0x3ffe 2
read -P 0x01 0x4000 0xc000
