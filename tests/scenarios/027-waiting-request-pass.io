# 027: a request may pass an overlapping one that is itself waiting only when
# their bytes do not overlap (qemu lets any request pass a waiting one, so two
# byte-overlapping writes can land out of issue order there). A parks after
# its tail read in block 0; W spans blocks 0 and 1 and waits for A; D shares
# only block 1 with W and passes it (it parks at its head read: D is past
# W); B overlaps W's bytes and stays behind W, so B's bytes win where they
# overlap, as issued.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=64k

break pwritev_rmw_after_tail A
aio_write -P 0x01 0 0x200
wait_break A
aio_write -P 0x02 0xc00 0x800
break pwritev_rmw_after_head D
aio_write -P 0x04 0x1e00 0x100
wait_break D
aio_write -P 0x03 0x1000 0x100
resume D
sleep 50
resume A
aio_flush
read -P 0x01 0 0x200
read -P 0x00 0x200 0xa00
read -P 0x02 0xc00 0x400
read -P 0x03 0x1000 0x100
read -P 0x02 0x1100 0x300
read -P 0x00 0x1400 0xa00
read -P 0x04 0x1e00 0x100
