"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import os
import tempfile

import granule

path = os.path.join(tempfile.mkdtemp(), "sparse.img")
with open(path, "wb") as f:
    f.truncate(8 << 20)          # a hole ...
    f.seek(1 << 20)
    f.write(b"d" * 65536)        # ... with 64 KiB of data in it
with granule.open(path) as dev:
    extents = list(dev.block_status())
    assert [(e.offset, e.length) for e in extents if not e.zero] == [(1 << 20, 65536)]
    assert sum(e.length for e in extents) == dev.length
