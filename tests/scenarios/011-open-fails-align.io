# 011: a spec that cannot be opened. align=3000 is not a power of two, so the
# open fails with a message naming the field and the value, granule-io prints
# it to stderr (captured by the runner) and exits with status 1 (as qemu-io) without
# running a single command of the script (no output from the lines below).
#! spec: driver=blkdebug,align=3000,image.driver=memory,image.size=1M
#! status: 1

write -P 0x11 0 4096
read -P 0x11 0 4096
info
