"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import os
import tempfile

import granule

path = os.path.join(tempfile.mkdtemp(), "disk.img")
with open(path, "wb") as f:
    f.truncate(1 << 20)

specs = [
    path,                                                           # a filename
    f"driver=blkdebug,align=4096,image.driver=raw-posix,image.filename={path}",
    {"driver": "blkdebug", "align": 4096,
     "image": {"driver": "raw-posix", "filename": path}},          # nested mapping
    {"driver": "raw-posix", "filename": path, "cache.direct": False},
]
for spec in specs:
    with granule.open(spec) as dev:
        assert dev.length == 1 << 20 and not dev.read_only

ro = granule.open(path, read_only=True)
assert ro.read_only
ro.close()
ro.close()                     # idempotent
assert ro.closed
try:
    ro.pread(0, 1)
except ValueError as e:        # any use after close
    print(e)                   # I/O operation on a closed device
