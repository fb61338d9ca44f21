# 021: throttling through granule-io. At 2 requests/s without burst, three
# writes are held twice (whatever the machine's speed: each write takes far
# less than 500 ms); reopen lifts the limit (no more waits) and refuses a
# mistyped throttle key, naming it, without changing anything.
#! spec: driver=memory,size=64k,throttle.iops-total=2,throttle.burst-ms=0
#! status: 1

write -P 0x11 0 512
write -P 0x12 512 512
write -P 0x13 1024 512
stats -r
reopen -o throttle.iops-totl=0
reopen -o throttle.iops-total=0
write -P 0x14 1536 512
write -P 0x15 2048 512
read -P 0x13 1024 512
stats
