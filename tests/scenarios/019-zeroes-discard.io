# 019: write -z and discard at byte granularity. An unaligned write -z zeroes
# exactly its range: the partial head and tail blocks go through the RMW write
# path (2 write requests, 2 RMW cycles), the aligned middle through the
# driver's write_zeroes; a -z inside one block is a plain padded write; an
# aligned one is driver-only (no write request). Discard is advisory: only the
# whole blocks inside the range are discarded (the memory node zeroes them),
# partial blocks keep their bytes. aio_write -z zeroes through a worker
# thread. On a file, a write -z past EOF grows it to exactly its end (7000).
#! spec: driver=blkdebug,align=4096,image.driver=memory,image.size=1M
#! image-size: 5000
#! show-image-size: yes

write -P 0x01 0 64k
stats -r
write -z 100 10000
stats -r
read -P 0x01 0 100
read -P 0 100 10000
read -P 0x01 10100 100

write -z 20000 100
write -z 0x6000 0x2000
stats -r
read -P 0x01 19900 100
read -P 0 20000 100
read -P 0x01 20100 100
read -P 0x01 0x5f00 0x100
read -P 0 0x6000 0x2000
read -P 0x01 0x8000 0x100

discard 0x9100 0x2000
read -P 0x01 0x9000 0x1000
read -P 0 0xa000 0x1000
read -P 0x01 0xb000 0x1000
discard 0xc100 0x100
read -P 0x01 0xc000 0x1000

aio_write -z 0xd010 0x20
aio_flush
read -P 0x01 0xd000 0x10
read -P 0 0xd010 0x20
read -P 0x01 0xd030 0xfd0

close
open -o driver=blkdebug,align=4096,image.driver=raw-posix,image.growable=on,image.filename=$IMG
write -P 0x02 0 5000
write -z 4000 3000
length
read -P 0x02 0 4000
read -P 0 4000 3000
read -P 0 7000 1000
