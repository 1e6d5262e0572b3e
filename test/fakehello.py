#!/usr/bin/env python3
"""A hello server that gets the protocol wrong on purpose, one way per
run, for hellobench's tests.  It listens on 127.0.0.1 on a port of its
own choosing, writes the port to PORTFILE once it accepts, and serves
each connection in a thread until it is killed.

usage: fakehello.py MODE PORTFILE

MODE      what the server does
good      the protocol, right (greeting, answers, close on exit)
greeting  greets "welcome?" instead of "welcome!"
wrong     answers "hallo, X!" instead of "hello, X!"
extra     answers right, then one byte more
early     closes instead of answering the first line
stall     greets, reads, never answers
noclose   answers right, but stays open after exit
after     sends "bye" after exit, then closes
reset     resets the connection instead of answering
once      serves one session right, then stops listening
"""
import os
import socket
import struct
import sys
import threading
import time


def answer(mode, conn, line):
    """Answer one line the way MODE says; return False to end."""
    if line == b"exit":
        if mode == "noclose":
            time.sleep(3600)
        if mode == "after":
            conn.sendall(b"bye\n")
        return False
    if mode == "early":
        return False
    if mode == "stall":
        time.sleep(3600)
    if mode == "reset":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
        return False
    word = b"hallo" if mode == "wrong" else b"hello"
    tail = b"!\n!" if mode == "extra" else b"!\n"
    conn.sendall(word + b", " + line + tail)
    return True


def serve(mode, conn):
    with conn:
        conn.sendall(b"welcome?\n" if mode == "greeting" else b"welcome!\n")
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not answer(mode, conn, line):
                    return


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(128)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, portfile)
    while True:
        conn, _ = lsock.accept()
        if mode == "once":
            lsock.close()
            serve("good", conn)
            time.sleep(3600)
        threading.Thread(target=serve, args=(mode, conn), daemon=True).start()


main()
