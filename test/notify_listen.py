#!/usr/bin/env python3
"""notify_listen.py ADDRESS FILE: be a service manager's notify socket.

Bind an AF_UNIX datagram socket at ADDRESS ("@name" is abstract) and
append each datagram received to FILE as one line, its newlines turned
into spaces, until killed.  FILE is created empty once the socket is
bound, so a test can wait for it."""
import os
import socket
import sys

addr, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if not addr.startswith("@") and os.path.exists(addr):
    os.unlink(addr)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
with open(path, "a", buffering=1) as f:
    while True:
        f.write(s.recv(65536).decode(errors="replace").replace("\n", " ") + "\n")
