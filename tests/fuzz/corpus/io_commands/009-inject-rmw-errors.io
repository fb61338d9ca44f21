# 009: errors injected at each step of a read-modify-write, on a memory node.
# A write failing at pwritev_rmw_head sends nothing to the disk (stats:
# driver_requests 0); one failing at pwritev_rmw_tail has only read its head
# block (driver_requests 1, no write); a failed RMW read (read_aio) fails the
# write. In each case the block keeps its old bytes. A write failing at
# write_aio while a second write into its block waits: the waiter is woken
# and lands, the failed one leaves no trace. An error at pwritev_done comes
# after the data reached the disk: the write fails, yet its bytes are there
# (as with a real device error after a write, the range is then undefined).
# Rules are limited to ranges (offset/length), so other writes pass.
#! spec: driver=blkdebug,align=4096,inject-error.0.event=pwritev_rmw_head,inject-error.0.offset=0x1000,inject-error.0.length=0x1000,inject-error.1.event=pwritev_rmw_tail,inject-error.1.errno=28,inject-error.1.offset=0x3000,inject-error.2.event=read_aio,inject-error.2.offset=0x5000,inject-error.2.once=on,inject-error.3.event=pwritev_done,inject-error.3.offset=0x8000,inject-error.3.once=on,inject-error.4.event=write_aio,inject-error.4.offset=0x9000,inject-error.4.once=on,image.driver=memory,image.size=1M
#! status: 1

write -P 0x01 0 0x7000
stats -r

# pwritev_rmw_head (rule 0, EIO): fails before any I/O.
write -P 0x02 0x1100 0x100
stats -r
read -P 0x01 0x1000 0x1000
# No head padding, so no pwritev_rmw_head event: rule 0 does not apply.
write -P 0x03 0x1000 0x10
read -P 0x03 0x1000 0x10
read -P 0x01 0x1010 0xff0

# pwritev_rmw_tail (rule 1, ENOSPC): the head block was read, nothing written.
write -P 0x05 0x2f00 0x200
stats -r
read -P 0x01 0x2000 0x2000

# The RMW read itself fails (rule 2, once); the retry succeeds.
write -P 0x06 0x5100 0x100
read -P 0x01 0x5000 0x1000
write -P 0x06 0x5100 0x100
read -P 0x01 0x5000 0x100
read -P 0x06 0x5100 0x100
read -P 0x01 0x5200 0xe00

# write_aio (rule 4, once) fails p1 while p2 waits for it in the same block
# (block 9, never written before: zeroes).
break pwritev_rmw_after_head A
aio_write -P 0x07 0x9100 0x100
aio_write -P 0x08 0x9400 0x100
wait_break A
resume A
aio_flush
read -P 0 0x9000 0x400
read -P 0x08 0x9400 0x100
read -P 0 0x9500 0xb00

# pwritev_done (rule 3, once): reported as failed, but already written.
write -P 0x09 0x8000 0x100
read -P 0x09 0x8000 0x100
read -P 0 0x8100 0xf00
