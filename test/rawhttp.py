#!/usr/bin/env python3
"""A scripted raw-socket HTTP server, for responses no real server sends.

rawhttp.py PORT SCENARIO LOG

Listens on 127.0.0.1:PORT.  For each connection it reads the request
head, appends it to LOG (CRLF made LF, then a line "--"), and answers
with the section of SCENARIO whose path matches the request target
exactly, or the section "*".  A SCENARIO file holds sections:

    == /path [hold]
    HTTP/1.1 200 OK\\r\\n
    Content-Length: 5\\r\\n
    \\r\\n
    hello

The lines of a section are joined with nothing between them and then
backslash escapes (\\r, \\n, \\xHH, \\\\) are decoded, so every byte is
explicit.  A line "@repeat N TEXT" stands for TEXT N times.  Lines
starting with "#" are comments.  After sending, the server closes the
connection, or with "hold" keeps it open until the client closes it
(at most 30 s), like a server that ignores "Connection: close" or
stalls.  A section may contain "@pause MS" to wait between its parts.
"""
import codecs
import socket
import socketserver
import sys
import threading
import time

PORT = int(sys.argv[1])
SCENARIO = sys.argv[2]
LOG = sys.argv[3]
lock = threading.Lock()


def load(path):
    """Return {target: (hold, [bytes or pause-seconds, ...])}."""
    sections = {}
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("#"):
                continue
            if line.startswith("== "):
                words = line[3:].split()
                cur = []
                sections[words[0]] = ("hold" in words[1:], cur)
                continue
            if cur is None:
                continue
            if line.startswith("@pause "):
                cur.append(int(line.split()[1]) / 1000.0)
                continue
            if line.startswith("@repeat "):
                _, n, text = line.split(" ", 2)
                line = text * int(n)
            data = codecs.escape_decode(line.encode("utf-8"))[0]
            if cur and isinstance(cur[-1], bytes):
                cur[-1] += data
            else:
                cur.append(data)
    return sections


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(30)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                b = s.recv(4096)
                if not b:
                    break
                head += b
        except OSError:
            return
        if b"\r\n\r\n" not in head:
            return
        head = head.split(b"\r\n\r\n", 1)[0]
        with lock, open(LOG, "ab") as log:
            log.write(head.replace(b"\r\n", b"\n") + b"\n--\n")
        parts = head.split(b"\r\n")[0].split(b" ")
        target = parts[1].decode("latin-1") if len(parts) > 1 else ""
        sections = load(SCENARIO)
        hold, body = sections.get(target, sections.get("*", (False, [])))
        try:
            for part in body:
                if isinstance(part, float):
                    time.sleep(part)
                else:
                    s.sendall(part)
            if hold:
                while s.recv(4096):
                    pass
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
