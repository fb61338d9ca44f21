# 013: what the stats counters prove about padding, bouncing and splitting.
# With mem-align=512 and granule-io's 4096-aligned buffers, `writev 512 1024`
# is zero-copy: only the padding (512 head + 2560 tail = 3072) goes through
# Granule's buffers, with 1 RMW cycle; misaligned by -m 1 the whole padded
# block (4096) is bounced. The same for reads. Elements or head padding that
# are not multiples of 512 force a full bounce; aligned writes from
# 512-aligned buffers bounce nothing. Then: mem-align (4096) above align (512)
# pads to 4096; max-transfer=8k splits a 5-block padded write into 3 driver
# requests. Every write is read back.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M,image.mem-align=512

stats -r
writev 512 1024
stats -r
writev -m 1 512 1024
stats -r
readv -P 0xcd 512 1024
stats -r
readv -m 1 -P 0xcd 512 1024
stats -r
# Elements of 100 and 412 bytes: not multiples of 512.
writev -P 0x11 4096 100 412 512
stats -r
# No head padding, tail 2048, three 512-multiple elements: zero-copy.
writev -P 0x22 8192 512 512 1024
stats -r
# Head padding of 100 bytes: not a multiple of 512.
writev -P 0x33 12388 1024
stats -r
# Aligned writes: no RMW; -m 512 keeps the buffer 512-aligned, -m 256 does not.
writev -P 0x44 16384 4096 4096
writev -m 512 -P 0x45 24576 4096
stats -r
writev -m 256 -P 0x46 28672 4096
stats -r

read -P 0 0 512
read -P 0xcd 512 1024
read -P 0 1536 2560
read -P 0x11 4096 1024
read -P 0 5120 3072
read -P 0x22 8192 2048
read -P 0 10240 2148
read -P 0x33 12388 1024
read -P 0 13412 2972
read -P 0x44 16384 8192
read -P 0x45 24576 4096
read -P 0x46 28672 4096
read -P 0 32768 4096

# mem-align 4096 > align 512: the core pads to max(align, mem-align).
close
open -o driver=blkdebug,align=512,mem-align=4096,image.driver=memory,image.size=1M,image.align=512
writev 512 512
stats -r
writev -P 0x66 4096 4096
stats -r
read -P 0 0 512
read -P 0xcd 512 512
read -P 0 1024 3072
read -P 0x66 4096 4096

# max-transfer=8k: [100, 20100) pads to [0, 20480) = 8k + 8k + 4k.
close
open -o driver=blkdebug,align=4096,max-transfer=8k,image.driver=memory,image.size=1M
writev -P 0x55 100 20000
stats -r
read -P 0x55 100 20000
stats -r
read -P 0 0 100
read -P 0 20100 380
