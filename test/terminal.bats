#!/usr/bin/env bats
# Issue 21, item 2: a terminal never stops or shrinks the server.  The
# signals a terminal sends by itself (a resize's WINCH, a background
# write's TTOU) are not an administrator's kill -WINCH or -TTOU.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	JOB_PID=
}

teardown() {
	pm_teardown
	if [ -n "$JOB_PID" ]; then
		kill "$JOB_PID" 2>/dev/null || true
		wait "$JOB_PID" 2>/dev/null || true
	fi
}

# tty_start [--bg] [--tostop] ARGS...: hellod ARGS on a terminal of its
# own (test/ttyjob.py), in the foreground or as a background job.  Sets
# HELLOD_PID, PORT, JOB_PID (the terminal's driver) and TTY_OUT (what
# hellod wrote on the terminal).
tty_start() {
	local opts=()
	while [[ $1 == --* ]]; do
		opts+=("$1")
		shift
	done
	PORT=$(free_port)
	TTY_OUT="$BATS_TEST_TMPDIR/tty.out"
	local pidf="$BATS_TEST_TMPDIR/job.pid"
	python3 "$TOP/test/ttyjob.py" "${opts[@]}" "$TTY_OUT" "$pidf" \
	    hellod -l "127.0.0.1:$PORT" "$@" 3>&- &
	JOB_PID=$!
	wait_until 10 test -s "$pidf"
	HELLOD_PID=$(cat "$pidf")
	wait_until 5 port_open "$PORT"
	wait_until 5 workers_ready
}

# job_ends_0: the job ends (within 10 s) with status 0.  Not under run:
# only this shell can wait for the job.
job_ends_0() {
	local st=0
	wait_until 10 pid_gone "$HELLOD_PID"
	wait "$JOB_PID" || st=$?
	JOB_PID=
	HELLOD_PID=
	[ "$st" -eq 0 ]
}

# in_foreground PID: PID's process group is its terminal's foreground one.
in_foreground() {
	awk '{ exit !($5 == $8) }' "/proc/$1/stat"
}

# signal_seen SIG N: send SIG with kill(1) and wait until the master has
# N workers: a signal sent after any the terminal sent, so these have
# been handled too.
signal_seen() {
	kill -"$1" "$HELLOD_PID"
	wait_until 10 workers_are "$2"
}

@test "a window resize does not stop a server in the foreground; kill -WINCH still does" {
	WORKERS=2 tty_start -w 2
	kill -USR1 "$JOB_PID"
	kill -USR1 "$JOB_PID"
	signal_seen TTIN 3
	pid_alive "$HELLOD_PID"
	run -0 talk "$PORT" --half-close <<<'one'
	assert_output $'welcome!\nhello, one!'
	run ! grep 'graceful stop' "$TTY_OUT"
	kill -WINCH "$HELLOD_PID"
	job_ends_0
	run port_open "$PORT"
	assert_failure
	grep -q 'graceful stop' "$TTY_OUT"
}

@test "stty tostop: a background master's refused writes neither shrink the pool nor spin" {
	WORKERS=3 tty_start --bg --tostop -w 3 -C 'LogLevel debug'
	local before after
	# Every log line of the master now raises TTOU from the terminal.
	signal_seen HUP 3
	signal_seen TTIN 4
	before=$(cpu_ticks "$HELLOD_PID")
	run -0 talk "$PORT" --half-close <<<'one'
	assert_output $'welcome!\nhello, one!'
	# A window of a second: a master that spins uses most of it.
	sleep 1
	after=$(cpu_ticks "$HELLOD_PID")
	[ $((after - before)) -le 20 ]
	[ "$(worker_count "$HELLOD_PID")" -eq 4 ]
	signal_seen TTOU 3
	# Back in the foreground, the master says how much it lost.
	kill -USR2 "$JOB_PID"
	wait_until 5 in_foreground "$HELLOD_PID"
	signal_seen TTIN 4
	wait_until 5 grep -Eq 'master: [0-9]+ log lines? dropped' "$TTY_OUT"
	kill -WINCH "$HELLOD_PID"
	job_ends_0
}
