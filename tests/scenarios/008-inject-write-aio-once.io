# 008: an injected write error (blkdebug inject-error.0.event=write_aio,
# once=on) on a real file. Data is written first without the rule, then the
# file is reopened with it: the first write, an unaligned one, fails with a
# message naming the padded driver request and the rule, after its RMW read
# but before anything reached the file; the bytes written before are intact.
# The rule fired once, so the same write then succeeds. Exit status 1.
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
#! image-size: 64k
#! status: 1

write -P 0x01 0 16k
write -P 0x02 5000 100
close
open -o driver=blkdebug,align=4096,inject-error.0.event=write_aio,inject-error.0.once=on,image.driver=raw-posix,image.filename=$IMG
write -P 0x03 4100 2000
stats
read -P 0x01 0 5000
read -P 0x02 5000 100
read -P 0x01 5100 11284
read -P 0 16k 48k
write -P 0x03 4100 2000
read -P 0x01 0 4100
read -P 0x03 4100 2000
read -P 0x01 6100 10284
