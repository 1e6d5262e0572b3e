#!/bin/sh
# A Handler exec program that leaves a process behind in its process
# group and exits: "stray PID" tells the client which.  With "deaf",
# the stray ignores TERM (only KILL ends it).  Each pid also goes to
# $EXEC_PIDS, for the suite to check that nothing is left running.
if [ "${1:-}" = deaf ]; then
	trap '' TERM
fi
sleep 30 &
echo "$!" >>"${EXEC_PIDS:-/dev/null}"
echo "stray $!"
