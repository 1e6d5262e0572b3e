#!/usr/bin/env python3
"""Run a command with its standard error on a pseudo-terminal.

pty_stderr.py [--stdout] [--cols N] STATUS CMD [ARGS...]: runs CMD with
stdout on /dev/null and stderr on a new pty (N columns wide with --cols),
collects every byte written there, and prints them as a Python bytes
literal (so \\r and escapes are visible).  With --stdout, standard output
goes to the pty too: CMD writes to a terminal.  Standard input is the
caller's.  Exits 0 when CMD exited with STATUS, 1 otherwise.
"""
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

args = sys.argv[1:]
both = cols = 0
while args[0] in ("--stdout", "--cols"):
    if args[0] == "--stdout":
        both = 1
        args = args[1:]
    else:
        cols = int(args[1])
        args = args[2:]
want = int(args[0])
master, slave = pty.openpty()
if cols:
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
p = subprocess.Popen(args[1:], stdout=slave if both else subprocess.DEVNULL,
                     stderr=slave)
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
