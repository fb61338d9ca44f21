"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import mmap

import granule

spec = "driver=blkdebug,align=4096,mem-align=4096,image.driver=memory,image.size=1M"
with granule.open(spec) as dev:
    page_aligned = memoryview(mmap.mmap(-1, 65536))
    for buf, bounced in [(page_aligned, 0), (page_aligned[4096:8192], 0),
                         (page_aligned[1:4097], 4096), (bytes(4096), 4096)]:
        dev.reset_stats()
        dev.pwrite(8192, buf)
        assert dev.stats.bytes_bounced == bounced


import numpy

def aligned_array(nbytes, alignment=4096):
    raw = numpy.empty(nbytes + alignment, dtype=numpy.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + nbytes]

a = aligned_array(1 << 20)
assert a.ctypes.data % 4096 == 0 and a.nbytes == 1 << 20
