#!/usr/bin/env python3
"""Scripted hello clients for the hellod suites.

session.py raw PORT NAME...
    The teaching client: read the welcome with recv(1024), then for each
    NAME a bare send() (no newline) and one recv(1024), then send "exit"
    and wait for the close.  Prints each recv()'s bytes on a line of its
    own, then "[closed]".

session.py hold PORT [HOST]
    Open a session and keep it open: print the welcome line as soon as it
    comes, then everything else the server sends until it closes (at most
    20 s), then "[closed]".  For tests that act on a server while a
    session is open.

session.py swarm PORT N
    Connect N clients at once (one thread each); client i sends the line
    "client-i" and reads until the server closes after its "exit".  Prints
    "served K of N" (K clients got exactly welcome and their own answer)
    and "elapsed MS" (wall clock from the first connect to the last
    close, in milliseconds).  Exits 1 unless every client was served.

Every socket is on loopback and every wait is bounded.
"""
import socket
import sys
import threading
import time


def connect(port, host="127.0.0.1"):
    s = socket.create_connection((host, int(port)), 5)
    s.settimeout(10)
    return s


def read_to_close(s):
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out, True
            out += b
    except (socket.timeout, ConnectionResetError):
        return out, False


def emit(b):
    sys.stdout.buffer.write(b + b"\n")
    sys.stdout.buffer.flush()


def raw(port, names):
    s = connect(port)
    emit(s.recv(1024))
    for name in names:
        s.send(name.encode())
        emit(s.recv(1024))
    s.send(b"exit")
    rest, closed = read_to_close(s)
    if rest:
        emit(rest)
    emit(b"[closed]" if closed else b"[not closed]")
    return 0 if closed else 1


def hold(port, host):
    s = connect(port, host)
    s.settimeout(20)
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        buf += b
    sys.stdout.buffer.write(buf)
    sys.stdout.buffer.flush()
    rest, closed = read_to_close(s)
    sys.stdout.buffer.write(rest)
    emit(b"[closed]" if closed else b"[not closed]")
    return 0


def swarm(port, n):
    n = int(n)
    ok = [False] * n
    go = threading.Barrier(n + 1)

    def client(i):
        try:
            go.wait(10)
            s = connect(port)
            s.sendall(b"client-%d\nexit\n" % i)
            out, closed = read_to_close(s)
            ok[i] = closed and out == b"welcome!\nhello, client-%d!\n" % i
            if not ok[i]:
                print("client %d got %r" % (i, out), file=sys.stderr)
        except OSError as e:
            print("client %d: %s" % (i, e), file=sys.stderr)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.wait(10)
    t0 = time.monotonic()
    for t in threads:
        t.join()
    ms = int((time.monotonic() - t0) * 1000)
    print("served %d of %d" % (sum(ok), n))
    print("elapsed %d" % ms)
    return 0 if all(ok) else 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "raw":
        return raw(argv[2], argv[3:])
    if len(argv) in (3, 4) and argv[1] == "hold":
        return hold(argv[2], argv[3] if len(argv) == 4 else "127.0.0.1")
    if len(argv) == 4 and argv[1] == "swarm":
        return swarm(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
