# 025: writes into the partial last block of a fixed-size node whose size
# (5000) is not a multiple of mem-align (512), also from unaligned memory
# (issue 9, a fuzz_pipeline find: EINVAL before, the driver refused the last
# iovec's unaligned length). The write ends at the node's end, so its last
# iovec must end there too; blkdebug and memory check every other rule.
#! spec: driver=blkdebug,align=4096,mem-align=512,image.driver=memory,image.size=5000,image.mem-align=512

write -P 0x41 4500 10
write -P 0x42 4096 904
write -P 0x43 0 5000
write -P 0x44 4999 1
read -P 0x43 0 4999
read -P 0x44 4999 1
write -P 0x45 4095 2
read -P 0x43 0 4095
read -P 0x45 4095 2
read -P 0x43 4097 902
read -P 0x44 4999 1
