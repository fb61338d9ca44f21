"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import threading

import granule

with granule.open("driver=blkdebug,align=4096,image.driver=memory,image.size=1M") as dev:
    def worker(k):
        for _ in range(100):
            dev.pwrite(k * 5000 + 1, bytes([k]) * 5000)    # neighbours share blocks

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        assert dev.pread(k * 5000 + 1, 5000) == bytes([k]) * 5000
