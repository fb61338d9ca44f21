"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import errno

import granule

try:
    granule.open("/nonexistent/disk.img")
except FileNotFoundError as e:
    assert isinstance(e, granule.Error) and e.errno == errno.ENOENT

with granule.open({"driver": "memory", "size": "1M"}, read_only=True) as dev:
    try:
        dev.pwrite(0, b"x")
    except PermissionError as e:
        assert e.errno == errno.EROFS and "read-only" in e.strerror
    try:
        dev.pread(dev.length - 10, 20)
    except granule.Error as e:
        assert e.errno == errno.EIO
        assert e.strerror.startswith("granule_pread: 20 bytes at offset 1048566")
