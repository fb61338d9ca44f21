# 022: write coalescing. Seven 512-byte writes queue behind a first one into
# the same 4096-byte block while it is parked at its pwritev event (after its
# read-modify-write read): the first write carries them in its padding, so
# the eight writes cost one RMW read and one write (driver_requests 2, not
# 16), every byte lands, in issue order where they overlap (the last 0x19
# write covers part of 0x18's range and wins).
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=64k

write -P 0x01 0 8k
stats -r
break pwritev A
aio_write -P 0x11 0 512
wait_break A
aio_write -P 0x12 512 512
aio_write -P 0x13 1024 512
aio_write -P 0x14 1536 512
aio_write -P 0x15 2048 512
aio_write -P 0x16 2560 512
aio_write -P 0x17 3072 512
aio_write -P 0x18 3584 512
aio_write -P 0x19 3800 100
resume A
aio_flush
stats
read -P 0x11 0 512
read -P 0x12 512 512
read -P 0x16 2560 512
read -P 0x17 3072 512
read -P 0x18 3584 216
read -P 0x19 3800 100
read -P 0x18 3900 196
read -P 0x01 4096 4096
