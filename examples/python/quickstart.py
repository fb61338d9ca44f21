"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import granule

with granule.open("driver=blkdebug,align=4096,image.driver=memory,image.size=1M") as dev:
    dev.pwrite(4093, b"any offset, any length")   # read-modify-write of two blocks
    assert dev.pread(4093, 22) == b"any offset, any length"
    print(dev.limits.request_alignment, dev.stats.rmw_cycles)   # 4096 2
