# 023: `map` (device::block_status) on a sparse file, then on an empty memory
# overlay with that file as its backing: the overlay's holes show the file's
# extents; a copy-on-read (of zeroes, even) and a write make granules of the
# overlay data. Reads see the file's bytes through the overlay.
#! spec: driver=raw-posix,filename=$IMG
#! image-size: 1M
#! linux-only: raw-win32 reports no holes (it has no block_status), so the maps differ

write -P 0x5a 64k 64k
map
close
open -o driver=memory,size=0,growable=on,copy-on-read=on,backing.filename=$IMG
map
read -P 0 300000 10
read -P 0x5a 70000 10
write -P 0x77 600000 10
map
map 600000 10
read -P 0 600010 100
stats
