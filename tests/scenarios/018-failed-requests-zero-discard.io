# 018: regression -- stats' failed_requests counts failed write_zeroes and
# discard requests too (failed by the driver; a read-only device's refusals
# are counted in tst_device, granule-io refuses those before the device, as
# qemu-io does).
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M
#! status: 1


close
open -o driver=blkdebug,align=4096,inject-error.0.event=write_zeroes,inject-error.1.event=discard,image.driver=memory,image.size=1M
write -z 0 8192
discard 0 8192
stats
