# 017: granule-io's guards around parked requests. aio_flush with a request
# parked at a breakpoint fails after 1 s naming the tag and resumes nothing
# (info still shows it parked); `resume` then lets it finish. remove_break
# resumes the request parked under its tag. A breakpoint never reached does
# not keep the device from closing. Exit status 1 (the failed aio_flush).
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M
#! status: 1

write -P 0x01 0 8k
break pwritev_rmw_after_head A
aio_write -P 0x02 100 100
wait_break A
aio_flush
info
resume A
aio_flush
read -P 0x01 0 100
read -P 0x02 100 100
read -P 0x01 200 7992

break pwritev B
aio_write -P 0x03 4200 100
wait_break B
remove_break B
aio_flush
read -P 0x01 4096 104
read -P 0x03 4200 100
read -P 0x01 4300 3892

break write_aio C
close
read 0 1
