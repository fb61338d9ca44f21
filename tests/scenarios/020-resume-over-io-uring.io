# 020: a request suspended at blkdebug's write_aio / read_aio breakpoints over
# raw-posix (io_uring, which batches submits until the device unplugs it)
# completes after resume: blkdebug's resumed submit to its child must be
# unplugged too, or the request waits forever.
#! spec: driver=blkdebug,image.driver=raw-posix,image.filename=$IMG,image.aio=io_uring
#! image-size: 64k

break write_aio A
aio_write -P 0x1a 0x1000 0x1000
wait_break A
resume A
aio_flush
break read_aio B
aio_read -P 0x1a 0x1000 0x1000
wait_break B
resume B
aio_flush
break write_aio C
aio_write -P 0x2b 0x2100 0x100
wait_break C
remove_break C
aio_flush
read -P 0x1a 0x1000 0x1000
read -P 0x2b 0x2100 0x100
read -P 0 0x2000 0x100
