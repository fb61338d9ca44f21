# 028: an image file is fixed-size unless opened with growable=on, as qemu's
# raw is: a write or a read that reaches past the end fails with EIO and
# changes nothing (the runner prints the size: still 5000). Inside the device
# everything works, also in the partial last block of a 5000-byte file under
# a 4096 alignment: the padded write covers the aligned end and the file is
# cut back to 5000 (GRANULE_NODE_PADDED_END), and the bytes of the last block
# past the end read as zeroes inside the core only. truncate resizes it
# explicitly (qemu-img resize).
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
#! image-size: 5000
#! status: 1
#! show-image-size: yes

write -P 0x11 4900 200
read -P 0 5000 1
write -P 0x12 4000 1000
read -P 0x12 4000 1000
read -P 0 0 4000
length
truncate 6000
write -P 0x13 5000 1000
read -P 0x12 4000 1000
read -P 0x13 5000 1000
truncate 5000
length
