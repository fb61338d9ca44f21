# 101: byte-granular I/O on a file opened with FILE_FLAG_NO_BUFFERING
# (raw-win32 cache.direct=on), below blkdebug forcing 4096-byte requests and
# buffers (Wine does not enforce NO_BUFFERING alignment, blkdebug does): the
# edges of 4096-byte blocks, vectored I/O with uneven and misaligned elements,
# aio requests in flight together, parked at breakpoints so the waits do not
# depend on timing (0x47 shares a block with 0x46 and waits for it; 0x48
# shares one with 0x47 and crosses into the next, so it waits for 0x47 but
# is never carried by its write), bounce counters (the third write
# continues in the block the first one wrote, so its tail read reads ahead
# to the end of the image: later RMW blocks come from the block cache,
# bytes_read_ahead 49152). Then the same bytes
# through raw-win32 alone, direct (its own probed limits) and buffered; the
# file keeps its size (shown by the runner).
#! spec: driver=blkdebug,align=4096,mem-align=4096,image.driver=raw-win32,image.filename=$IMG,image.cache.direct=on
#! image-size: 64k
#! show-image-size: yes

write -P 0x41 4095 2
write -P 0x42 100 3000
write -P 0x43 -m 1 8190 4100
writev -P 0x44 -m 7 20000 1 4095 5000
writev -P 0x45 32768 512 1024 2560
break pwritev_done A
aio_write -P 0x46 40000 3000
aio_write -P 0x47 44000 3000
wait_break A
break pwritev_done B
resume A
aio_write -P 0x48 -m 3 48900 100 200 300
wait_break B
resume B
aio_flush
stats -r
read -P 0x42 100 3000
stats
length

read -P 0 0 100
read -P 0x42 100 3000
read -P 0 3100 995
read -P 0x41 4095 2
read -P 0 4097 4093
read -P 0x43 8190 4100
read -P 0 12290 7710
readv -P 0x44 -m 3 20000 4096 5000
read -P 0 29096 3672
readv -P 0x45 32768 4096
aio_read -P 0x46 40000 3000
aio_read -P 0x47 44000 3000
aio_read -P 0x48 48900 600
aio_flush
read -P 0 49500 16036

# The same bytes through raw-win32 alone: its own limits, then buffered.
close
open -o driver=raw-win32,filename=$IMG,cache.direct=on
read -P 0x42 100 3000
read -P 0x41 4095 2
read -P 0x43 -m 5 8190 4100
readv -P 0x44 20000 1000 8096
read -v 4092 8
read -v 29092 8
close
open -o driver=raw-win32,filename=$IMG
read -P 0x45 32768 4096
read -P 0x48 48900 600
length
