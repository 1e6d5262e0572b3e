#!/usr/bin/env python3
"""Send standard input to a TCP server and print what comes back.

talk.py PORT [HOST] [--half-close]: writes stdin (bytes as they are),
then reads until the server closes or 10 s pass, and writes the reply
bytes unchanged to standard output.  With --half-close, shuts down the
write side after sending.  Exits 1 when the connection fails or the
server does not close in time.
"""
import socket
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
port = int(args[0])
host = args[1] if len(args) > 1 else "127.0.0.1"
data = sys.stdin.buffer.read()
try:
    s = socket.create_connection((host, port), 5)
except OSError as e:
    print("talk: %s" % e, file=sys.stderr)
    sys.exit(1)
s.settimeout(10)
s.sendall(data)
if "--half-close" in sys.argv:
    s.shutdown(socket.SHUT_WR)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except socket.timeout:
    sys.stdout.buffer.write(out)
    print("talk: timed out waiting for close", file=sys.stderr)
    sys.exit(1)
except ConnectionResetError:
    pass
sys.stdout.buffer.write(out)
