#!/usr/bin/env python3
"""Hold hello sessions open while a test acts on the server.

hold.py PORT N [--go FILE] [--timeout S]
    Opens N sessions at once, one thread each.  Client i prints, one line
    per step, as it happens:
        i connected LOCALPORT     the TCP connection is up (maybe queued)
        i welcome                 the server sent "welcome!"
        i hello, before-i!        the answer to its first line
    then it waits (without sending) until FILE exists, and prints
        i hello, after-i!         the answer to a line sent after that
        i closed                  it sent "exit" and the server closed
    If the server closes the session while it waits, it prints
    "i closed early" instead.  Any other surprise prints "i error: WHY".
    Ends with "done K of N" (K clients closed normally); exits 1 unless
    every client did.  Every wait is bounded by --timeout (default 30 s).
"""
import os
import select
import socket
import sys
import threading
import time

args = sys.argv[1:]
port, n = int(args[0]), int(args[1])
go, timeout = None, 30.0
if "--go" in args:
    go = args[args.index("--go") + 1]
if "--timeout" in args:
    timeout = float(args[args.index("--timeout") + 1])
end_at = time.monotonic() + timeout
lock = threading.Lock()
ok = []


def say(i, text):
    with lock:
        sys.stdout.write("%d %s\n" % (i, text))
        sys.stdout.flush()


class Fail(Exception):
    pass


def left():
    t = end_at - time.monotonic()
    if t <= 0:
        raise Fail("timed out")
    return t


def readline(s, buf):
    while b"\n" not in buf[0]:
        s.settimeout(left())
        try:
            b = s.recv(4096)
        except socket.timeout:
            raise Fail("timed out")
        if not b:
            raise Fail("closed by the server after %r" % buf[0])
        buf[0] += b
    line, buf[0] = buf[0].split(b"\n", 1)
    return line.decode("utf-8", "replace")


def client(i):
    buf = [b""]
    try:
        try:
            s = socket.create_connection(("127.0.0.1", port), 5)
        except OSError as e:
            raise Fail("connect: %s" % e)
        say(i, "connected %d" % s.getsockname()[1])
        if readline(s, buf) != "welcome!":
            raise Fail("no welcome")
        say(i, "welcome")
        s.sendall(b"before-%d\n" % i)
        say(i, readline(s, buf))
        while go is not None and not os.path.exists(go):
            left()
            r, _, _ = select.select([s], [], [], 0.05)
            if r:
                b = s.recv(4096)
                if not b:
                    say(i, "closed early")
                    return
                buf[0] += b
                raise Fail("unexpected %r" % buf[0])
        s.sendall(b"after-%d\n" % i)
        say(i, readline(s, buf))
        s.sendall(b"exit\n")
        s.settimeout(left())
        rest = buf[0]
        while True:
            b = s.recv(4096)
            if not b:
                break
            rest += b
        if rest:
            raise Fail("extra bytes %r" % rest)
        say(i, "closed")
        with lock:
            ok.append(i)
    except (Fail, OSError) as e:
        say(i, "error: %s" % e)


threads = [threading.Thread(target=client, args=(i,)) for i in range(1, n + 1)]
for t in threads:
    t.start()
for t in threads:
    t.join()
say(0, "done %d of %d" % (len(ok), n))
sys.exit(0 if len(ok) == n else 1)
