#!/usr/bin/env python3
"""A scripted hello client for the edge features' tests.

edgeclient.py [--from ADDR] PORT STEP...

Connects to 127.0.0.1:PORT (from source address ADDR when given, such as
127.0.0.2: all of 127/8 is loopback on Linux) and runs the steps in
order.  DATA understands Python's bytes escapes (\\r, \\n, \\x00, \\\\).

    w:DATA      send DATA in one write
    b:DATA      send DATA a byte at a time, 20 ms apart
    v1:SRC:SPORT        send "PROXY TCP4 SRC 127.0.0.1 SPORT PORT\\r\\n"
    v2:SRC:SPORT        send a v2 PROXY header for TCP over IPv4
    s:MS        sleep MS milliseconds
    shut        shut down the sending side (the server reads EOF)
    r           read one line and print it
    until:FILE  wait until FILE exists
    rest        read until the server closes; print what came, then
                "closed"

Each printed line is what the server sent, with bytes outside
printable ASCII as \\xNN.  Every wait is bounded (10 s; "until" 30 s);
a wait that runs out prints "timeout" and exits 1.  A server that
closes while a line is awaited prints the partial bytes and "closed".
"""
import os
import socket
import struct
import sys
import time

args = sys.argv[1:]
src = None
if args and args[0] == "--from":
    src = args[1]
    args = args[2:]
port = int(args[0])
steps = args[1:]


def show(b):
    return "".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else
                   "\\x%02x" % c for c in b)


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def v2_header(srcaddr, sport):
    addrs = socket.inet_aton(srcaddr) + socket.inet_aton("127.0.0.1")
    body = addrs + struct.pack("!HH", sport, port)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) +
            struct.pack("!H", len(body)) + body)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if src:
    s.bind((src, 0))
s.settimeout(10)
s.connect(("127.0.0.1", port))
buf = b""
for step in steps:
    kind, _, arg = step.partition(":")
    try:
        if kind == "w":
            s.sendall(unescape(arg))
        elif kind == "b":
            for c in unescape(arg):
                s.sendall(bytes([c]))
                time.sleep(0.02)
        elif kind == "v1":
            a, p = arg.split(":")
            s.sendall(b"PROXY TCP4 %s 127.0.0.1 %s %d\r\n" %
                      (a.encode(), p.encode(), port))
        elif kind == "v2":
            a, p = arg.split(":")
            s.sendall(v2_header(a, int(p)))
        elif kind == "s":
            time.sleep(int(arg) / 1000)
        elif kind == "shut":
            s.shutdown(socket.SHUT_WR)
        elif kind == "until":
            end = time.monotonic() + 30
            while not os.path.exists(arg):
                if time.monotonic() > end:
                    say("timeout")
                    sys.exit(1)
                time.sleep(0.02)
        elif kind == "r":
            while b"\n" not in buf:
                b = s.recv(4096)
                if not b:
                    if buf:
                        say(show(buf))
                    say("closed")
                    sys.exit(0)
                buf += b
            line, _, buf = buf.partition(b"\n")
            say(show(line))
        elif kind == "rest":
            while True:
                b = s.recv(4096)
                if not b:
                    break
                buf += b
            for line in buf.split(b"\n"):
                if line:
                    say(show(line))
            buf = b""
            say("closed")
        else:
            sys.exit("edgeclient: bad step %r" % step)
    except socket.timeout:
        say("timeout")
        sys.exit(1)
    except ConnectionResetError:
        say("reset")
        sys.exit(0)
    except BrokenPipeError:
        say("broken pipe")
        sys.exit(0)
