#!/usr/bin/env python3
"""Open N sessions to 127.0.0.1:PORT at once; each sends one line and waits
for its answer.  Prints how many were answered within 1, 2 and 5 seconds
of the start, and the time the last one took.

usage: slowload.py PORT N [LIMIT_SECONDS]
"""
import asyncio
import sys
import time


async def session(port, start, limit):
    try:
        r, w = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), limit)
        await asyncio.wait_for(r.readline(), limit)
        w.write(b"michael\n")
        await w.drain()
        line = await asyncio.wait_for(r.readline(), limit)
        w.write(b"exit\n")
        w.close()
        if line != b"hello, michael!\n":
            return None
        return time.monotonic() - start
    except (OSError, asyncio.TimeoutError):
        return None


async def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    start = time.monotonic()
    done = await asyncio.gather(*(session(port, start, limit) for _ in range(n)))
    ok = sorted(t for t in done if t is not None)
    within = [sum(1 for t in ok if t <= s) for s in (1, 2, 5)]
    print("%d %d %d %d %.2f" % (within[0], within[1], within[2],
                                n - len(ok), ok[-1] if ok else 0.0))


asyncio.run(main())
