# 012: the spec names a file that does not exist ($IMG.missing, next to the
# runner's fresh image): raw-posix's error names the path and the errno text,
# on stderr, exit status 1 (as qemu-io), and no command of the script runs.
#! spec: driver=blkdebug,align=4096,image.driver=raw-posix,image.filename=$IMG.missing
#! status: 1

read 0 4096
