# 015: regression -- on a FIXED-size node whose size (5000) is not a multiple
# of the 4096 alignment forced by blkdebug, writes into the partial last block
# land: the last request ends exactly at the node's end (ABI end-of-node rule),
# and blkdebug accepts it there.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=5000

write -P 0x11 4500 100
read -P 0 4096 404
read -P 0x11 4500 100
read -P 0 4600 400
write -P 0x22 4000 1000
read -P 0 0 4000
read -P 0x22 4000 1000
length
