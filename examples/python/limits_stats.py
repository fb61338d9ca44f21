"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import granule

with granule.open("driver=blkdebug,align=4096,image.driver=memory,image.size=1M") as dev:
    limits = dev.limits
    assert limits.request_alignment == 4096
    assert limits.sources["request_alignment"] == "blkdebug: option align"
    for name, value, source in limits:
        print(f"{name}: {value} ({source})")
    dev.pwrite(1, b"x")
    stats = dev.stats
    assert stats.write_requests == 1 and stats.rmw_cycles == 1
    assert stats.as_dict()["bytes_written"] == 1
