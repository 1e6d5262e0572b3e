#!/bin/sh
# A Handler exec (or tcpserver) program that prints the UCSPI-TCP
# variables it was given, sorted, then its user id, and ends.
env | grep -E '^(PROTO|TCP[A-Z]*)=' | sort
echo "uid=$(id -u)"
