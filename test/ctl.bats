#!/usr/bin/env bats
# -k an administrator can trust: a default PidFile named after the first
# Listen address, "not permitted" apart from "not running", and a failed
# restart reported as soon as it fails.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	CONF="$BATS_TEST_TMPDIR/h.conf"
}

teardown() {
	stop_hellod
	[ -n "${H2:-}" ] && kill "$H2" 2>/dev/null
	[ -n "${RUNUSER_PID:-}" ] && wait "$RUNUSER_PID" 2>/dev/null
	[ -n "${OPEN_DIR:-}" ] && rm -rf "$OPEN_DIR"
	return 0
}

# open_dir: a directory every user may enter ($BATS_TEST_TMPDIR's
# parents may not be), removed by teardown.
open_dir() {
	OPEN_DIR=$(mktemp -d /tmp/hellod-ctl.XXXXXX)
	chmod 0755 "$OPEN_DIR"
}

# as_nobody CMD...: run CMD as the user nobody.
as_nobody() {
	runuser -u nobody -- env XDG_RUNTIME_DIR="${XUSER_DIR:-}" "$@"
}

@test "ctl: without PidFile, -k reaches the server given the same -l (default /run/hellod/...)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for /run/hellod"
	start_hellod -w 1
	[ -e "/run/hellod/hellod-127.0.0.1-$PORT.pid" ]
	run -0 cat "/run/hellod/hellod-127.0.0.1-$PORT.pid"
	assert_output "$HELLOD_PID"
	run -0 hellod -l "127.0.0.1:$PORT" -k status
	assert_line "ServerPid: $HELLOD_PID"
	run -0 hellod -l "127.0.0.1:$PORT" -k graceful
	run -0 hellod -l "127.0.0.1:$PORT" -k stop
	wait_until 5 pid_gone "$HELLOD_PID"
	[ ! -e "/run/hellod/hellod-127.0.0.1-$PORT.pid" ]
	HELLOD_PID=
}

@test "ctl: two servers on different addresses have different default PidFiles" {
	start_hellod -w 1
	first=$PORT
	P2=$(free_port)
	hellod -l "127.0.0.1:$P2" -w 1 2>"$BATS_TEST_TMPDIR/h2.err" 3>&- &
	H2=$!
	wait_until 5 port_open "$P2"
	run -0 hellod -l "127.0.0.1:$P2" -k status
	assert_line "ServerPid: $H2"
	run -0 hellod -l "127.0.0.1:$first" -k status
	assert_line "ServerPid: $HELLOD_PID"
}

@test "ctl: a user's default PidFile is under \$XDG_RUNTIME_DIR, else the user's own /tmp/hellod-UID" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	open_dir
	XUSER_DIR="$OPEN_DIR/xdg"
	mkdir -m 0700 "$XUSER_DIR"
	chown nobody "$XUSER_DIR"
	PORT=$(free_port)
	as_nobody "$TOP/server/hellod" -l "127.0.0.1:$PORT" -w 1 \
	    2>"$OPEN_DIR/err" 3>&- &
	RUNUSER_PID=$!
	wait_until 5 port_open "$PORT"
	[ -e "$XUSER_DIR/hellod-127.0.0.1-$PORT.pid" ]
	# runuser forwards no TERM: teardown stops the master itself.
	HELLOD_PID=$(cat "$XUSER_DIR/hellod-127.0.0.1-$PORT.pid")
	run -0 as_nobody "$TOP/server/hellod" -l "127.0.0.1:$PORT" -k status
	assert_line "ServerPid: $HELLOD_PID"
	XUSER_DIR=
	run -3 --separate-stderr as_nobody "$TOP/server/hellod" -l "127.0.0.1:$PORT" -k status
	[ "$stderr" = "hellod: not running (no live server holds PidFile /tmp/hellod-$(id -u nobody)/hellod-127.0.0.1-$PORT.pid)" ]
}

@test "ctl: without \$XDG_RUNTIME_DIR a user's server makes /tmp/hellod-UID, 0700, and puts its pid file there" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	[ "$(id -u)" -eq 0 ] || skip "needs root to run as nobody"
	local own="/tmp/hellod-$(id -u nobody)"
	# Removed afterwards only if this test made it.
	[ -e "$own" ] || OPEN_DIR=$own
	PORT=$(free_port)
	as_nobody "$TOP/server/hellod" -l "127.0.0.1:$PORT" -w 1 \
	    2>"$BATS_TEST_TMPDIR/err" 3>&- &
	RUNUSER_PID=$!
	wait_until 5 port_open "$PORT"
	HELLOD_PID=$(cat "$own/hellod-127.0.0.1-$PORT.pid")
	run -0 stat -c '%a %U' "$own"
	assert_output "700 nobody"
	run -0 as_nobody "$TOP/server/hellod" -l "127.0.0.1:$PORT" -k stop
	wait_until 5 pid_gone "$HELLOD_PID"
	HELLOD_PID=
}

@test "ctl: -k as a user who may not signal the server: its own message, exit 7" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	start_hellod -w 1
	PIDF=/run/hellod/hellod-127.0.0.1-$PORT.pid
	run -7 --separate-stderr as_nobody "$TOP/server/hellod" -C "PidFile $PIDF" -k graceful-stop
	[ "$stderr" = "hellod: permission denied: cannot signal the server (pid $HELLOD_PID) of PidFile $PIDF (run -k as the server's user or as root)" ]
	# nobody's own default PidFile is elsewhere; root's is found too.
	run -7 --separate-stderr as_nobody "$TOP/server/hellod" -l "127.0.0.1:$PORT" -k stop
	[ "$stderr" = "hellod: permission denied: cannot signal the server (pid $HELLOD_PID) of PidFile $PIDF (run -k as the server's user or as root)" ]
	# The scoreboard is 0600: the same status.
	run -7 --separate-stderr as_nobody "$TOP/server/hellod" -C "PidFile $PIDF" -k status
	[ "$stderr" = "hellod: permission denied: cannot read the scoreboard $PIDF.scoreboard (run -k as the server's user or as root)" ]
	pid_alive "$HELLOD_PID"
}

@test "ctl: a restart that fails is reported at once, exit 5, the server keeps serving" {
	PORT=$(free_port)
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	printf 'Listen 127.0.0.1:%s\nPidFile %s\n' "$PORT" "$PIDF" >"$CONF"
	launch_hellod -f "$CONF" -w 1
	# A file that parses but cannot be served: the address is taken.
	busy=$(free_port)
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
time.sleep(60)' "$busy" 3>&- &
	holder=$!
	wait_until 5 port_open "$busy"
	printf 'Listen 127.0.0.1:%s\nListen 127.0.0.1:%s\nPidFile %s\n' "$PORT" "$busy" "$PIDF" >"$CONF"
	# Well before the 10 s -k waits for an answer.
	run -5 --separate-stderr timeout 5 hellod -f "$CONF" -k graceful
	kill "$holder"
	[ "$stderr" = "hellod: server (pid $HELLOD_PID) did not restart, it keeps the old configuration: cannot listen on 127.0.0.1:$busy: Address already in use" ]
	run -0 grep -c "graceful restart failed, still running the old configuration: cannot listen on 127.0.0.1:$busy: Address already in use" "$HELLOD_ERR"
	run -0 talk "$PORT" <<<$'ok\nexit'
	assert_output $'welcome!\nhello, ok!'
}
