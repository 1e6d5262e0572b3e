# Helpers for the process-management suites (config, pool, signals,
# daemon, logs).  Load after helper.bash.

# hold_start N [ARGS...]: hold N sessions open on $PORT in the background
# (test/hold.py); they proceed once hold_release is called.  Output goes
# to $HOLD_OUT, the PID is HOLD_PID.
hold_start() {
	HOLD_GO="$BATS_TEST_TMPDIR/go.$RANDOM"
	HOLD_OUT="$BATS_TEST_TMPDIR/hold.$RANDOM"
	python3 "$TOP/test/hold.py" "$PORT" "$@" --go "$HOLD_GO" >"$HOLD_OUT" 2>&1 3>&- &
	HOLD_PID=$!
}

hold_release() {
	[ -n "${HOLD_GO:-}" ] && touch "$HOLD_GO"
	return 0
}

# hold_wait: wait (at most 30 s) for the holder to end; its status.  Not
# under run: only this shell can wait for it.  On failure its output is
# shown.
hold_wait() {
	local st=0
	wait "$HOLD_PID" || st=$?
	HOLD_PID=
	[ "$st" -eq 0 ] || cat "$HOLD_OUT" >&2
	return "$st"
}

# hold_seen N WORD: at least N lines of the holder's output hold WORD.
hold_seen() {
	[ "$(grep -c -- "$2" "$HOLD_OUT")" -ge "$1" ]
}

# hold_stop: release and reap a holder left over by a failed test.
hold_stop() {
	hold_release
	if [ -n "${HOLD_PID:-}" ]; then
		kill "$HOLD_PID" 2>/dev/null || true
		wait "$HOLD_PID" 2>/dev/null || true
		HOLD_PID=
	fi
}

# kill_daemon PIDFILE: stop a -d server left over by a failed test.
kill_daemon() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	pid_alive "$pid" || return 0
	local kids
	kids=$(children "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 5 pid_gone "$pid" || kill -KILL "$pid" $kids 2>/dev/null || true
}

# listen_sockets PID: the socket inodes PID holds, sorted, one a line.
listen_sockets() {
	local f
	for f in /proc/"$1"/fd/*; do
		readlink "$f"
	done 2>/dev/null | grep '^socket:' | sort
}

# disjoint A B: the two newline-separated lists share no line.
disjoint() {
	[ -z "$(comm -12 <(sort <<<"$1") <(sort <<<"$2"))" ]
}

# workers_replaced OLD N: the master has exactly N workers, none in OLD.
workers_replaced() {
	local now
	now=$(children "$HELLOD_PID")
	[ "$(grep -c . <<<"$now")" -eq "$2" ] && disjoint "$1" "$now"
}

# count_in FILE REGEX: the number of lines of FILE matching REGEX.
count_in() {
	grep -c -E -- "$2" "$1" || true
}

# lines_are FILE REGEX OP N: the number of lines of FILE matching REGEX
# compares to N by OP (-eq, -ge ...).  For wait_until, which runs its
# words again each time: a "$(...)" in them would be expanded only once.
lines_are() {
	[ "$(count_in "$1" "$2")" "$3" "$4" ]
}

# workers_are N: the master $HELLOD_PID has N children.
workers_are() {
	[ "$(worker_count "$HELLOD_PID")" -eq "$1" ]
}

# status_has REGEX: "hellod -k status" for the master of $PIDF prints a
# line matching the extended REGEX.
status_has() {
	hellod -k status -C "PidFile $PIDF" | grep -q -E -- "$1"
}

# set_nofile PID N: set the soft descriptor limit of the running PID to N.
set_nofile() {
	python3 - "$1" "$2" <<'PY'
import resource, sys
pid, n = int(sys.argv[1]), int(sys.argv[2])
hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)[1]
resource.prlimit(pid, resource.RLIMIT_NOFILE, (n, hard))
PY
}

pm_teardown() {
	hold_stop
	stop_hellod
}

# log_test_paths: the error and access logs, pid file and configuration
# file of a logging test, in its own directory.
log_test_paths() {
	ELOG="$BATS_TEST_TMPDIR/error.log"
	ALOG="$BATS_TEST_TMPDIR/access.log"
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	CONF="$BATS_TEST_TMPDIR/h.conf"
}
