#!/usr/bin/env python3
"""Run a command as a job on a terminal of its own, as a shell would.

ttyjob.py [--bg] [--tostop] OUT PIDFILE CMD [ARGS...]

A new pseudo-terminal becomes the controlling terminal of a new session
(a stand-in for the shell), and CMD runs there with descriptors 0, 1 and
2 on it: in the foreground process group, or with --bg in a background
group of its own.  --tostop sets "stty tostop" first.  CMD's pid goes to
PIDFILE; every byte it writes to the terminal is appended to OUT.

What a terminal does to a job, on request:
  SIGUSR1  resize the window (the kernel sends SIGWINCH to the
           foreground group);
  SIGUSR2  bring the job to the foreground (tcsetpgrp), as "fg" does.
Exits with CMD's exit status once CMD has ended.
"""
import fcntl
import os
import pty
import signal
import struct
import sys
import termios

args = sys.argv[1:]
bg = tostop = False
while args and args[0].startswith("--"):
    opt = args.pop(0)
    bg = bg or opt == "--bg"
    tostop = tostop or opt == "--tostop"
out, pidfile, cmd = args[0], args[1], args[2:]

master, slave = pty.openpty()
slave_name = os.ttyname(slave)
rows = [24]


def resize(sig, frame):
    rows[0] += 1
    fcntl.ioctl(master, termios.TIOCSWINSZ,
                struct.pack("HHHH", rows[0], 80, 0, 0))


signal.signal(signal.SIGUSR1, resize)
leader = os.fork()
if leader == 0:
    # The "shell": a session of its own whose controlling terminal is
    # the pty, in the foreground until told otherwise.
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    os.close(master)
    os.setsid()
    fd = os.open(slave_name, os.O_RDWR)
    os.close(slave)
    if tostop:
        t = termios.tcgetattr(fd)
        t[3] |= termios.TOSTOP
        termios.tcsetattr(fd, termios.TCSANOW, t)
    r, w = os.pipe()
    job = os.fork()
    if job == 0:
        os.close(r)
        if bg:
            os.setpgid(0, 0)
        os.write(w, b"x")
        for i in (0, 1, 2):
            os.dup2(fd, i)
        if fd > 2:
            os.close(fd)
        os.execvp(cmd[0], cmd)
    os.close(w)
    os.read(r, 1)
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % job)
    os.rename(pidfile + ".tmp", pidfile)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    signal.signal(signal.SIGUSR2,
                  lambda s, fr: os.tcsetpgrp(fd, os.getpgid(job)))
    _, st = os.waitpid(job, 0)
    os._exit(os.waitstatus_to_exitcode(st) & 0xFF)

os.close(slave)
signal.signal(signal.SIGUSR2, lambda s, fr: os.kill(leader, signal.SIGUSR2))
with open(out, "ab", buffering=0) as f:
    while True:
        try:
            b = os.read(master, 4096)
        except OSError:
            break
        if not b:
            break
        f.write(b)
_, st = os.waitpid(leader, 0)
sys.exit(os.waitstatus_to_exitcode(st))
