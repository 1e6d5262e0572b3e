#!/usr/bin/env bats
# sd_notify, by hand: READY once workers serve, RELOADING then READY on
# HUP and USR1, STOPPING on TERM, INT and WINCH, STATUS kept current,
# MAINPID, the watchdog.  The test owns the datagram socket.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	NSOCK="$BATS_TEST_TMPDIR/notify.sock"
	NLOG="$BATS_TEST_TMPDIR/notify.log"
}

teardown() {
	stop_hellod
	[ -n "${NL_PID:-}" ] && kill "$NL_PID" 2>/dev/null
	[ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null
	return 0
}

# listen_notify [ADDRESS]: start the test's notify socket.
listen_notify() {
	NADDR=${1:-$NSOCK}
	python3 "$TOP/test/notify_listen.py" "$NADDR" "$NLOG" 3>&- &
	NL_PID=$!
	wait_until 5 test -e "$NLOG"
}

# seen REGEX [N]: at least N (default 1) messages match REGEX.
seen() {
	[ "$(grep -cE -- "$1" "$NLOG")" -ge "${2:-1}" ] && return 0
	cat "$NLOG" >&2
	return 1
}

# messages: the log without watchdog pings and STATUS-only updates.
messages() {
	grep -vE '^(WATCHDOG=1|STATUS=[^=]*)$' "$NLOG"
}

@test "notify: READY=1 with MAINPID once a worker serves, then STATUS" {
	listen_notify
	NOTIFY_SOCKET=$NSOCK start_hellod -w 2
	wait_until 5 seen '^READY=1'
	# A worker was already waiting for connections when READY came.
	run -0 hellod -l "127.0.0.1:$PORT" -k status
	assert_line --regexp '^IdleWorkers: [12]$'
	run -0 sed -n 1p "$NLOG"
	assert_output "READY=1 MAINPID=$HELLOD_PID"
	# start_hellod's probe of the port was a session too: one, singular.
	wait_until 5 seen '^STATUS=0 busy, 2 idle, 1 session served$'
	run -0 talk "$PORT" <<<$'michael\nexit'
	n=$(hellod -l "127.0.0.1:$PORT" -k status | sed -n 's/^Total Accesses: //p')
	wait_until 5 seen "^STATUS=0 busy, 2 idle, $n sessions served\$"
}

@test "notify: HUP and USR1 send RELOADING=1 with MONOTONIC_USEC, then READY=1" {
	listen_notify
	NOTIFY_SOCKET=$NSOCK start_hellod -w 1
	wait_until 5 seen '^READY=1'
	kill -HUP "$HELLOD_PID"
	wait_until 5 seen '^READY=1' 2
	kill -USR1 "$HELLOD_PID"
	wait_until 5 seen '^READY=1' 3
	run -0 messages
	assert_line --index 0 "READY=1 MAINPID=$HELLOD_PID"
	assert_line --index 1 --regexp '^RELOADING=1 MONOTONIC_USEC=[0-9]+ STATUS=restart$'
	assert_line --index 2 "READY=1 MAINPID=$HELLOD_PID"
	assert_line --index 3 --regexp '^RELOADING=1 MONOTONIC_USEC=[0-9]+ STATUS=graceful restart$'
	assert_line --index 4 "READY=1 MAINPID=$HELLOD_PID"
	# MONOTONIC_USEC is CLOCK_MONOTONIC, as systemd compares it.
	usec=$(sed -n 's/^RELOADING=1 MONOTONIC_USEC=\([0-9]*\).*/\1/p' "$NLOG" | tail -n 1)
	now=$(python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6))')
	[ "$usec" -le "$now" ] && [ "$((now - usec))" -lt 600000000 ]
}

@test "notify: a reload that fails says READY=1 again with the reason in STATUS" {
	listen_notify
	PORT=$(free_port)
	CONF="$BATS_TEST_TMPDIR/h.conf"
	echo "Listen 127.0.0.1:$PORT" >"$CONF"
	NOTIFY_SOCKET=$NSOCK launch_hellod -f "$CONF" -w 1
	wait_until 5 seen '^READY=1'
	echo 'NoSuchDirective 1' >>"$CONF"
	kill -HUP "$HELLOD_PID"
	wait_until 5 seen '^READY=1' 2
	run -0 messages
	assert_line --index 1 --regexp '^RELOADING=1 '
	assert_line --index 2 --regexp '^READY=1 STATUS=restart failed, still running the old configuration: .*NoSuchDirective'
}

@test "notify: TERM and INT send STOPPING=1" {
	local sig
	for sig in TERM INT; do
		rm -f "$NLOG"
		listen_notify
		NOTIFY_SOCKET=$NSOCK start_hellod -w 1
		wait_until 5 seen '^READY=1'
		kill -"$sig" "$HELLOD_PID"
		wait_until 5 pid_gone "$HELLOD_PID"
		# The listener writes what it received in its own time.
		wait_until 5 seen '^STOPPING=1'
		run -0 messages
		assert_line --index 1 'STOPPING=1 STATUS=stopping'
		stop_hellod
		kill "$NL_PID"
		NL_PID=
	done
}

@test "notify: WINCH sends STOPPING=1" {
	listen_notify
	NOTIFY_SOCKET=$NSOCK start_hellod -w 1
	wait_until 5 seen '^READY=1'
	kill -WINCH "$HELLOD_PID"
	wait_until 5 pid_gone "$HELLOD_PID"
	wait_until 5 seen '^STOPPING=1'
	run -0 messages
	assert_line --index 1 'STOPPING=1 STATUS=graceful stop: finishing sessions'
}

@test "notify: an abstract @address works" {
	listen_notify "@hellod-test-$$-$RANDOM"
	NOTIFY_SOCKET=$NADDR start_hellod -w 1
	wait_until 5 seen '^READY=1'
}

@test "notify: -d sends MAINPID of the daemon, not of the process started" {
	listen_notify
	PORT=$(free_port)
	PIDF="$BATS_TEST_TMPDIR/d.pid"
	NOTIFY_SOCKET=$NSOCK run -0 hellod -d -l "127.0.0.1:$PORT" -w 1 \
	    -C "PidFile $PIDF" 3>&-
	DAEMON_PID=$(cat "$PIDF")
	wait_until 5 seen '^READY=1'
	run -0 sed -n 1p "$NLOG"
	assert_output "READY=1 MAINPID=$DAEMON_PID"
}

@test "notify: WATCHDOG=1 at half of WATCHDOG_USEC; none for another WATCHDOG_PID" {
	listen_notify
	NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=200000 start_hellod -w 1
	wait_until 10 seen '^WATCHDOG=1$' 5
	stop_hellod
	rm -f "$NLOG"
	kill "$NL_PID"
	listen_notify
	NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=200000 WATCHDOG_PID=1 start_hellod -w 1
	wait_until 5 seen '^READY=1'
	# A session and the STATUS it brings: the loop ran, and no ping.
	run -0 talk "$PORT" <<<$'a\nexit'
	wait_until 5 seen 'sessions served' 2
	run -1 grep -c '^WATCHDOG' "$NLOG"
}

@test "notify: an unreachable NOTIFY_SOCKET is logged once and ignored" {
	NOTIFY_SOCKET="$BATS_TEST_TMPDIR/nobody-listens" start_hellod -w 1
	kill -HUP "$HELLOD_PID"
	wait_until 5 grep -q 'restart: generation 1' "$HELLOD_ERR"
	run -0 talk "$PORT" <<<$'tracy\nexit'
	assert_output $'welcome!\nhello, tracy!'
	run -0 grep -c 'cannot notify the service manager' "$HELLOD_ERR"
	assert_output 1
	assert_line --partial "nobody-listens: Connection refused; no further notifications" ||
	    grep 'cannot notify' "$HELLOD_ERR" | grep -q 'No such file or directory'
}

@test "notify: workers do not hold the notify socket" {
	listen_notify
	NOTIFY_SOCKET=$NSOCK start_hellod -w 1
	wait_until 5 seen '^READY=1'
	master=$(find "/proc/$HELLOD_PID/fd" -lname 'socket:*' | wc -l)
	kid=$(children "$HELLOD_PID")
	worker=$(find "/proc/$kid/fd" -lname 'socket:*' | wc -l)
	# The master holds its listener, the reopen channel's two ends and
	# the notify socket; a worker the listener and one channel end.
	[ "$master" -eq 4 ]
	[ "$worker" -eq 2 ]
}
