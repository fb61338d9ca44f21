# 030: write gathering. P parks at its pwritev event (after the RMW read of
# its block). C, D and E are a stream of unaligned writes, each starting
# where the one before it ends: C waits for P (they share block 0), and D and
# E queue behind C and D though they share only a block with them (a write
# that continues a waiting one does not pass it). When P lands, C starts and
# gathers D and E into its padded request: one RMW read (the tail block 3,
# reading 48 KiB ahead into the block cache as the run is a stream; the head
# block 0 is the one P just wrote, from the cache) and one write of blocks
# 0-3 for three writes (driver_requests 4 in all, not 8;
# writes_carried 2). D and E complete right after C, all at once rather
# than one after another as each leaves the tracker (format=raw: into the
# first 512 bytes of a probed raw image every write is checked alone and
# none is gathered). Then the same stream with an error injected once into
# the gathered write: C fails; D and E, handed back, go again, and D gathers
# E (writes_carried 1: RMW reads of blocks 9 and 11, which the failed write
# took out of the cache; one write); C's bytes stay zeroes. (P's block 8 and
# C's tail block 11 came from the first run's read-ahead.)
#! spec: driver=blkdebug,align=4096,inject-error.0.event=write_aio,inject-error.0.offset=0x9000,inject-error.0.once=on,image.driver=memory,image.size=64k,format=raw

write -P 0x01 0 0x8000
write -P 0x01 0xc000 0x4000
stats -r
break pwritev A
aio_write -P 0x11 0 100
wait_break A
aio_write -P 0x12 100 4096
aio_write -P 0x13 4196 4096
aio_write -P 0x14 8292 4096
resume A
aio_flush
stats -r
read -P 0x11 0 100
read -P 0x12 100 4096
read -P 0x13 4196 4096
read -P 0x14 8292 4096
read -P 0x01 12388 3996

# The gathered write (blocks 8-11, zeroes) fails once.
break pwritev B
aio_write -P 0x21 0x8000 100
wait_break B
aio_write -P 0x22 0x8064 4096
aio_write -P 0x23 0x9064 4096
aio_write -P 0x24 0xa064 4096
resume B
aio_flush
stats
read -P 0x21 0x8000 100
read -P 0x00 0x8064 4096
read -P 0x23 0x9064 4096
read -P 0x24 0xa064 4096
read -P 0x00 0xb064 3996
