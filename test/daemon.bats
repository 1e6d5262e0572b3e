#!/usr/bin/env bats
# Issue 3, items 5, 7 and 8: PidFile, -d, User and Group, accept() faults.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	DPIDF="$BATS_TEST_TMPDIR/d.pid"
}

teardown() {
	pm_teardown
	kill_daemon "$DPIDF"
	if [ -n "${DAEMON_PID:-}" ]; then
		pid_gone "$DAEMON_PID" || kill -KILL "$DAEMON_PID" 2>/dev/null || true
	fi
	[ -z "${LIMITED:-}" ] || kill -KILL "$LIMITED" 2>/dev/null || true
}

@test "PidFile holds the master's pid while it runs and is removed at exit" {
	start_hellod -C "PidFile $PIDF"
	run -0 cat "$PIDF"
	assert_output "$HELLOD_PID"
	[ -e "$PIDF.scoreboard" ]
	stop_hellod
	[ ! -e "$PIDF" ]
	[ ! -e "$PIDF.scoreboard" ]
}

@test "a second server with the same PidFile refuses to start" {
	start_hellod -C "PidFile $PIDF"
	local other
	other=$(free_port)
	run -2 --separate-stderr hellod -l "127.0.0.1:$other" -C "PidFile $PIDF"
	[ "$stderr" = "hellod: PidFile $PIDF is held by a running hellod (pid $HELLOD_PID)" ]
	port_closed "$other"
	run -0 cat "$PIDF"
	assert_output "$HELLOD_PID"
	run -0 talk "$PORT" --half-close <<<'first'
	assert_output $'welcome!\nhello, first!'
}

@test "a stale pid file left by a dead process is taken over" {
	sh -c 'exit 0' &
	local dead=$!
	wait "$dead"
	pid_gone "$dead"
	echo "$dead" >"$PIDF"
	start_hellod -C "PidFile $PIDF"
	run -0 cat "$PIDF"
	assert_output "$HELLOD_PID"
	run -0 hellod -k status -C "PidFile $PIDF"
	assert_line "ServerPid: $HELLOD_PID"
}

@test "a server that cannot start leaves no pid file behind" {
	start_hellod
	run -2 --separate-stderr hellod -l "127.0.0.1:$PORT" -C "PidFile $PIDF"
	[ "$stderr" = "hellod: cannot listen on 127.0.0.1:$PORT: Address already in use" ]
	[ ! -e "$PIDF" ]
}

@test "-d returns once the server listens; the daemon has its own session and no terminal" {
	PORT=$(free_port)
	run -0 --separate-stderr hellod -d -l "127.0.0.1:$PORT" -w 2 \
	    -C "PidFile $DPIDF" -C "ErrorLog $BATS_TEST_TMPDIR/error.log" 3>&-
	assert_output ''
	[ -z "$stderr" ]
	# no waiting: it listens the moment -d returns
	port_open "$PORT"
	DAEMON_PID=$(cat "$DPIDF")
	pid_alive "$DAEMON_PID"
	run -0 ps -o sid= -p "$DAEMON_PID"
	[ "${output// /}" = "$DAEMON_PID" ]
	[ "$(ps -o sid= -p $$ | tr -d ' ')" != "$DAEMON_PID" ]
	local fd
	for fd in 0 1 2; do
		[ "$(readlink "/proc/$DAEMON_PID/fd/$fd")" = /dev/null ]
	done
	[ "$(readlink "/proc/$DAEMON_PID/cwd")" = / ]
	run -0 talk "$PORT" --half-close <<<'daemon'
	assert_output $'welcome!\nhello, daemon!'
	local kids
	kids=$(children "$DAEMON_PID")
	run -0 hellod -k stop -C "PidFile $DPIDF"
	pid_gone "$DAEMON_PID"
	for k in $kids; do wait_until 2 pid_gone "$k"; done
	[ ! -e "$DPIDF" ]
	port_closed "$PORT"
}

@test "-d reports a startup error on the terminal with a non-zero status" {
	start_hellod
	run -2 --separate-stderr hellod -d -l "127.0.0.1:$PORT" -C "PidFile $DPIDF" \
	    -C "ErrorLog $BATS_TEST_TMPDIR/error.log" 3>&-
	[ "$stderr" = "hellod: cannot listen on 127.0.0.1:$PORT: Address already in use" ]
	[ ! -s "$DPIDF" ]
	run -1 --separate-stderr hellod -d -l "127.0.0.1:$PORT" -C 'Timeout 0' 3>&-
	[ "$stderr" = "hellod: -C 'Timeout 0': Timeout: bad value \"0\": out of range (1 to 86400)" ]
}

@test "a second -d on the port of a running one says it is already running, and its pid" {
	PORT=$(free_port)
	local elog="$BATS_TEST_TMPDIR/error.log"
	run -0 hellod -d -w 1 -l "127.0.0.1:$PORT" -C "PidFile $DPIDF" -C "ErrorLog $elog" 3>&-
	DAEMON_PID=$(cat "$DPIDF")
	run -2 --separate-stderr hellod -d -w 1 -l "127.0.0.1:$PORT" -C "PidFile $DPIDF" -C "ErrorLog $elog" 3>&-
	assert_equal "$stderr" "hellod: already running (pid $DAEMON_PID): cannot listen on 127.0.0.1:$PORT: Address already in use"
	run -0 hellod -k stop -C "PidFile $DPIDF"
}

@test "-d whose error log is syslog, on a host with no syslog socket, says so before it detaches" {
	[ ! -S /dev/log ] || skip "this host has a syslog socket at /dev/log"
	PORT=$(free_port)
	local word
	for word in syslog stderr; do
		run -0 --separate-stderr hellod -d -w 1 -l "127.0.0.1:$PORT" \
		    -C "PidFile $DPIDF" -C "ErrorLog $word" 3>&-
		assert_equal "$stderr" "hellod: warning: a daemon's ErrorLog $word goes to syslog, and there is no syslog socket at /dev/log: its messages will be lost (name a file instead)"
		port_open "$PORT"
		run -0 hellod -k stop -C "PidFile $DPIDF"
	done
}

@test "User and Group: workers run as them, the master stays root" {
	if [ "$(id -u)" -ne 0 ]; then
		skip "User and Group need root (CI runs as root)"
	fi
	getent passwd nobody >/dev/null || skip "no user nobody"
	getent group nogroup >/dev/null || skip "no group nogroup"
	local uid gid
	uid=$(id -u nobody)
	gid=$(getent group nogroup | cut -d: -f3)
	WORKERS=2 start_hellod -w 2 -C 'User nobody' -C 'Group nogroup'
	local w
	for w in $(children "$HELLOD_PID"); do
		[ "$(idstatus "$w" Uid)" = "$uid $uid $uid $uid" ]
		[ "$(idstatus "$w" Gid)" = "$gid $gid $gid $gid" ]
		[ "$(idstatus "$w" Groups | tr -d ' ')" = "$gid" ]
	done
	[ "$(idstatus "$HELLOD_PID" Uid)" = '0 0 0 0' ]
	run -0 talk "$PORT" --half-close <<<'nobody'
	assert_output $'welcome!\nhello, nobody!'
}

@test "accept() failing with EMFILE does not spin, logs at most once a second, and recovers" {
	start_hellod -w 1
	local w fds
	w=$(children "$HELLOD_PID")
	# The worker's descriptor limit set to its lowest free number: every
	# accept() fails with EMFILE until it is raised again.
	fds=0
	while [ -e "/proc/$w/fd/$fds" ]; do fds=$((fds + 1)); done
	set_nofile "$w" "$fds"
	hold_start 3
	wait_until 10 hold_seen 3 ' connected '
	wait_until 5 log_has "$HELLOD_ERR" "\\[pid $w\\] worker 0: accept: Too many open files"
	local t0 t1
	t0=$(cpu_ticks "$w")
	sleep 2.5
	t1=$(cpu_ticks "$w")
	echo "# worker CPU: $((t1 - t0)) ticks in 2.5 s" >&3
	(( t1 - t0 <= 25 ))
	local complaints
	complaints=$(count_in "$HELLOD_ERR" 'accept: Too many open files')
	echo "# $complaints complaints" >&3
	(( complaints >= 2 && complaints <= 5 ))
	[ "$(grep -c welcome "$HOLD_OUT")" -eq 0 ]
	# descriptors free up: the waiting sessions are all served
	hold_release
	set_nofile "$w" 1024
	hold_wait
	run -0 grep -c ' closed$' "$HOLD_OUT"
	assert_output 3
	[ "$(children "$HELLOD_PID")" = "$w" ]
}

# Run as root, but without CAP_SETUID and CAP_SETGID, so that a worker
# told to drop privileges cannot.
NO_SETID="setpriv --bounding-set -setuid,-setgid"

@test "workers that cannot drop privileges stop the server: exit 4, said once" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "needs setpriv"
	PORT=$(free_port)
	run --separate-stderr -4 timeout 20 $NO_SETID hellod -w 3 \
	    -l "127.0.0.1:$PORT" -C 'User nobody'
	grep -q 'cannot drop privileges: initgroups: Operation not permitted$' <<<"$stderr"
	[ "$(grep -c 'could not start; stopping the server' <<<"$stderr")" -eq 1 ]
	port_closed "$PORT"
}

@test "-d returns 4 on the terminal when no worker can start" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "needs setpriv"
	PORT=$(free_port)
	run -4 timeout 20 $NO_SETID hellod -d -l "127.0.0.1:$PORT" \
	    -C 'User nobody' -C "PidFile $DPIDF" \
	    -C "ErrorLog $BATS_TEST_TMPDIR/err.log"
	wait_until 5 port_closed "$PORT"
	[ ! -e "$DPIDF" ]
	log_has "$BATS_TEST_TMPDIR/err.log" 'could not start; stopping the server'
}
