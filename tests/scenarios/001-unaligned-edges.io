# 001: byte-granular read/write/readv/writev at the edges of 4096-byte blocks
# (offsets 0, 1, 4095, 4096, 4097, 8191, 8192, 12289, the last byte) through
# blkdebug align=4096 over a memory node. blkdebug fails every driver request
# that is not a multiple of 4096 with EINVAL, so each command that succeeds
# proves the core padded it. Every written range is read back with -P, and so
# are its untouched neighbours (still 0, or still the earlier pattern after a
# partial overwrite); read -v pins the exact bytes on both sides of each edge.
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M

# A fresh device reads as zeroes, also in pieces that cross the edges.
read -P 0 0 1
read -P 0 4095 2
read -P 0 8191 1
read -P 0 0 12288

# One write per edge; 12289+12286 spans a head block, a whole block and a
# tail block, and ends one byte before the block end.
write -P 0x11 0 1
write -P 0x22 1 4094
write -P 0x33 4095 2
write -P 0x44 4097 4094
write -P 0x55 8191 1
write -P 0x66 8192 4096
write -P 0x77 12289 12286

read -P 0x11 0 1
read -P 0x22 1 4094
read -P 0x33 4095 2
read -P 0x44 4097 4094
read -P 0x55 8191 1
read -P 0x66 8192 4096
read -P 0 12288 1
read -P 0x77 12289 12286
read -P 0 24575 1
read -P 0 24576 8192
read -v 4092 8
read -v 8186 12
read -v 12284 8
read -v 24572 8

# Vectored writes whose elements (1, 3, 95 bytes...) straddle the edges.
writev -P 0x88 4000 95 1 3
readv -P 0x22 1 3000 999
readv -P 0x88 4000 96 2 1
readv -P 0x44 4099 1 4091
read -P 0x55 8191 1
read -v 3996 8
read -v 4097 4

# Starting exactly at the edge 4096 (tail padding only).
write -P 0xcc 4096 3
readv -P 0xcc 4096 1 2
readv -P 0x88 4000 48 48
read -P 0x44 4099 1
read -v 4092 8

# [8191, 12289): one byte of a head block, a whole block, one byte of a tail block.
writev -P 0x99 8191 1 4096 1
readv -P 0x99 8191 2 4095 1
read -P 0x44 8190 1
read -P 0x77 12289 12286
read -v 8188 8
read -v 12284 8

# Offset 0 (no head padding) and the last byte of the device (no tail padding).
writev -P 0xaa 0 1 1
read -P 0xaa 0 2
read -P 0x22 2 3998
write -P 0xbb 1048575 1
read -P 0xbb 1048575 1
read -P 0 1044480 4095
readv -v 1048568 7 1
