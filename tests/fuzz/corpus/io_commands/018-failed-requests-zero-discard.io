# 018: regression -- stats' failed_requests counts failed write_zeroes and
# discard requests too (refused on a read-only device, or failed by the driver).
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M
#! status: 1

open -r -o driver=blkdebug,align=4096,image.driver=memory,image.size=1M
write -z 0 4096
discard 0 4096
write 0 4096
stats

open -o driver=blkdebug,align=4096,inject-error.0.event=write_zeroes,inject-error.1.event=discard,image.driver=memory,image.size=1M
write -z 0 8192
discard 0 8192
stats
