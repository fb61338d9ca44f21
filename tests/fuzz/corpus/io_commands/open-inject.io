open -o driver=null-c,size=1M
read 0 1
open -o "driver=blkdebug,inject-error.0.event=write_aio,inject-error.0.once=on,image.driver=memory,image.size=8k"
write 0 1
write 0 1
close
read 0 1
