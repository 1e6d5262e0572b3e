#!/usr/bin/env python3
"""Hold connections to the status listener, each with half a request.

halfreq.py PORT --hold N --ready FILE
    Open N connections and send each half a request, never its end;
    create FILE once all are open, then sleep until killed.
"""
import socket
import sys
import time

port = int(sys.argv[1])
n = int(sys.argv[sys.argv.index('--hold') + 1])
ready = sys.argv[sys.argv.index('--ready') + 1]
held = []
for i in range(n):
    s = socket.create_connection(('127.0.0.1', port), 5)
    s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    held.append(s)
open(ready, 'w').close()
time.sleep(600)
