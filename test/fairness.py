#!/usr/bin/env python3
"""Which listener a lone worker serves next, when both have a queue.

fairness.py PORT_A PORT_B N: opens a session on A and holds it (so the
one worker is busy), queues N connections on each port, then ends the
held session.  As each queued connection gets its greeting it sends
"exit", so the worker takes them one at a time.  Prints the order of
the greetings as a string of A and B, or exits 1 after 10 s.
"""
import select
import socket
import sys
import time

pa, pb, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
held = socket.create_connection(("127.0.0.1", pa), 5)
held.settimeout(5)
if not held.recv(64).startswith(b"welcome!"):
    sys.exit(1)
socks = {}
for _ in range(n):
    for port, name in ((pa, "A"), (pb, "B")):
        s = socket.create_connection(("127.0.0.1", port), 5)
        socks[s] = name
# Both queues are full before the worker looks again.
time.sleep(0.2)
held.sendall(b"exit\n")
order = ""
deadline = time.time() + 10
while socks and time.time() < deadline:
    r, _, _ = select.select(list(socks), [], [], 0.5)
    for s in r:
        if s.recv(64).startswith(b"welcome!"):
            order += socks[s]
            s.sendall(b"exit\n")
        s.close()
        del socks[s]
print(order)
sys.exit(0 if not socks else 1)
