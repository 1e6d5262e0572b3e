#!/usr/bin/env python3
"""A bounded client load: many short hello sessions.

load.py PORT SECONDS THREADS
    Each thread runs sessions back to back for SECONDS: connect, read
    "welcome!", send "t-K", expect "hello, t-K!", send "exit", expect the
    close with no further byte.  Prints "sessions N failed F", and the
    first few failures on stderr.  Exits 1 if any session failed or none
    ran.  Every socket wait is bounded (5 s).
"""
import socket
import sys
import threading
import time

port, seconds, nthreads = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
done = [0]
failures = []


def session(name):
    s = socket.create_connection(("127.0.0.1", port), 5)
    try:
        s.settimeout(5)
        s.sendall(name.encode() + b"\nexit\n")
        want = b"welcome!\nhello, " + name.encode() + b"!\n"
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
        if got != want:
            raise ValueError("got %r, want %r" % (got, want))
    finally:
        s.close()


def worker(t):
    end = time.monotonic() + seconds
    k = 0
    while time.monotonic() < end:
        k += 1
        name = "t%d-%d" % (t, k)
        try:
            session(name)
            with lock:
                done[0] += 1
        except (OSError, ValueError) as e:
            with lock:
                failures.append("%s: %s" % (name, e))


threads = [threading.Thread(target=worker, args=(t,)) for t in range(nthreads)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("sessions %d failed %d" % (done[0] + len(failures), len(failures)))
for f in failures[:5]:
    print(f, file=sys.stderr)
sys.exit(0 if done[0] > 0 and not failures else 1)
