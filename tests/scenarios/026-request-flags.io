# 026: the request flags of driver ABI 1.x from end to end (granule-io's
# qemu-io options -f, -u, -n). The memory driver models a volatile write
# cache (write-cache=on: `info` counts the bytes written since the last flush
# that are not durable), so a FUA write is seen to be durable whether the
# driver does FUA itself (fua=on) or the device flushes after it (fua=off,
# reopened below). -u lets zeroing deallocate (map shows a hole), without
# it the range stays allocated; -n refuses any part that would need zero
# buffers, before touching anything (a failed command: exit status 1).
#! spec: driver=memory,size=1M,write-cache=on
#! status: 1

write -P 0x11 0 64k
info
write -f -P 0x22 0 4k
info
flush
write -f -P 0x33 4k 4k
info
write -z -u 0 64k
write -z 64k 64k
map
read -P 0 0 128k
write -z -n 128k 64k
write -u 0 512
write -n 0 512
close
open -o driver=blkdebug,align=4096,image.driver=memory,image.size=1M,image.write-cache=on,image.fua=off
write -P 0x44 0 4k
write -f -P 0x55 100 200
info
read -P 0x55 100 200
write -z -n 100 5000
write -z -n 4k 8k
read -P 0 4k 8k
