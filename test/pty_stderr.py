#!/usr/bin/env python3
"""Run a command with its standard error on a pseudo-terminal.

pty_stderr.py [--stdout] STATUS CMD [ARGS...]: runs CMD with stdout on
/dev/null and stderr on a new pty, collects every byte written there, and
prints them as a Python bytes literal (so \\r and escapes are visible).
With --stdout, standard output goes to the pty too: CMD writes to a
terminal.  Standard input is the caller's.  Exits 0 when CMD exited with
STATUS, 1 otherwise.
"""
import os
import pty
import subprocess
import sys

args = sys.argv[1:]
both = args[0] == "--stdout"
if both:
    args = args[1:]
want = int(args[0])
master, slave = pty.openpty()
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
