#!/usr/bin/env python3
# The hello protocol as a Handler exec program in Python, as hellod.8's
# worked example has it: the connection is standard input and output.
import sys

print("welcome!", flush=True)
for line in sys.stdin:
    name = line.rstrip("\r\n")
    if name == "exit":
        break
    print(f"hello, {name}!", flush=True)
