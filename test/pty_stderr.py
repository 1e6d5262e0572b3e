#!/usr/bin/env python3
"""Run a command with its standard error on a pseudo-terminal.

pty_stderr.py STATUS CMD [ARGS...]: runs CMD with stdout on /dev/null and
stderr on a new pty, collects every byte written there, and prints them
as a Python bytes literal (so \\r and escapes are visible).  Exits 0 when
CMD exited with STATUS, 1 otherwise.
"""
import os
import pty
import subprocess
import sys

want = int(sys.argv[1])
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        b = os.read(master, 4096)
    except OSError:
        break
    if not b:
        break
    data += b
print(repr(data))
sys.exit(0 if p.wait() == want else 1)
