"""docs/python.md quotes this program verbatim (tools.doc_snippets checks it;
ctest python.examples runs it): change both together."""
import asyncio

import granule

async def main():
    with granule.open("driver=blkdebug,align=4096,image.driver=memory,image.size=16M") as dev:
        # 5000 requests in flight at once; the last write of each byte wins.
        futures = [dev.awrite(k * 1000, bytes([k % 256]) * 3000) for k in range(5000)]
        await asyncio.gather(*futures)
        data = await dev.aread(0, 5000 * 1000 + 2000)
        assert data[0:1000] == bytes([0]) * 1000
        assert data[1000:2000] == bytes([1]) * 1000
        assert data[-2000:] == bytes([4999 % 256]) * 2000
        await dev.aflush()

asyncio.run(main())
