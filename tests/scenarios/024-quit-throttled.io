# 024: quit with a throttled aio request in flight (issue 9): at 1 byte per
# second the held 1 KiB read would start after ~17 minutes; quit lifts the
# throttle and the read completes at once (the test's 60 s timeout would
# end a quit that waits). The first read goes through on the burst.
#! spec: driver=memory,size=1M,throttle.bps-total=1

write -P 0x42 0 1k
aio_read -P 0x42 0 1k
quit
