# 010: bad input through granule-io never crashes, never reaches the device,
# and leaves the data alone: zero lengths (accepted as qemu-io does: nothing
# moves), negative offsets, offset + length past 2^63-1, bad numbers and
# suffixes ("1.5k" is a good one, as in qemu), bad patterns and options, unknown
# commands, usage errors, breakpoints on unknown events; then writes refused
# by the device: past the end of a fixed-size memory node (EIO naming the
# offset, length, end and size), and every kind of write on a read-only open
# (EROFS); then opens that fail (non-power-of-two align, unknown driver,
# unknown option, missing file), after which no device is open. Each part
# ends with a read -P proving the earlier data intact. Exit status 1.
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
#! status: 1

write -P 0x5a 4000 200

# Numbers.
read 0 0
write 0 0
writev 0 0 0
aio_write 0 0
read -1 512
write -1 1
write -0x10 1
read 9223372036854775807 1
write 9223372036854775296 512
write 0x7fffffffffffffff 1
aio_read 9223372036854775807 1
writev 9223372036854775000 512 512
read 8E 1
read 16E 1
read 99999999999999999999 1
read 0 1x
read 0 4kk
read 0 1.5k
read abc 1
read 0 0x10k
read 0 2T
read 0 3G
discard 0 0
discard -1 1
truncate -1

# Patterns, options, usage, commands.
write -P 256 0 1
write -P -1 0 1
write -P 0x1g 0 1
write -P "" 0 1
write -z -P 1 0 1
write -X 0 1
read -m 4096 0 1
read -m -1 0 1
read
read 0
read 0 1 2
aio_flush now
length 1
frobnicate 1 2
"unterminated
sleep soon
break no_such_event A
break write_aio
resume nobody
remove_break nobody
read -P 0x5a 4000 200
read -P 0 0 4000
read -P 0 4200 4000

# Past the end of a fixed-size node.
close
open -o driver=blkdebug,align=4096,image.driver=memory,image.size=1M
write -P 0x77 1048476 100
write 1048575 2
write 1M 1
write 2M 512
writev 1048000 500 500
aio_write 1048575 1 1
write -z 1048000 1000
aio_flush
read -P 0x77 1048476 100
read -P 0 1048000 476
read -P 0 1M 4096
length

# Read-only open of the file: every write path refuses, nothing changes.
close
open -r -o driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
write 4000 1
writev 0 1 1
aio_write 4096 4096
write -z 0 4096
discard 0 4096
truncate 0
aio_flush
read -P 0x5a 4000 200
read -P 0 0 4000
read -P 0 4200 4000

# Opens that fail leave no device open.
close
open -o driver=blkdebug,align=3000,image.driver=raw-posix,image.filename=$IMG
read 0 1
close
open -o driver=nosuch,filename=$IMG
close
open -o driver=blkdebug,align=4096,image.driver=memory,image.size=1M,image.bogus=1
close
open -o driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG.missing
close
open -o driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG,align=8192
close
open -o driver=blkdebug,align=4096,image.driver=memory
write -P 1 0 1
stats
close
open -o driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG
read -P 0x5a 4000 200
read -P 0 0 4000
read -P 0 4200 4000
