#!/usr/bin/env bats
# Issue 3, item 4: HUP, USR1, WINCH, TERM and INT, and their -k words.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	CONF="$BATS_TEST_TMPDIR/h.conf"
}

teardown() {
	pm_teardown
}

# wait_exit: wait for the master we started; its exit status.
wait_exit() {
	local st=0
	wait_until 10 pid_gone "$HELLOD_PID"
	wait "$HELLOD_PID" || st=$?
	HELLOD_PID=
	return "$st"
}

@test "HUP starts a new generation; the master and its listening socket stay" {
	WORKERS=2 start_hellod -w 2
	local old socks
	old=$(children "$HELLOD_PID")
	socks=$(listen_sockets "$HELLOD_PID")
	[ -n "$socks" ]
	kill -HUP "$HELLOD_PID"
	wait_until 10 workers_replaced "$old" 2
	pid_alive "$HELLOD_PID"
	[ "$(listen_sockets "$HELLOD_PID")" = "$socks" ]
	wait_until 5 log_has "$HELLOD_ERR" 'restart: generation 1, 2 workers'
	run -0 talk "$PORT" --half-close <<<'after'
	assert_output $'welcome!\nhello, after!'
}

@test "USR1 replaces the workers; a busy session survives and finishes normally" {
	WORKERS=2 start_hellod -w 2 -C 'LogLevel info'
	hold_start 1
	wait_until 10 hold_seen 1 'hello, before-1!'
	local old held socks
	old=$(children "$HELLOD_PID")
	held=$(grep -o '\[pid [0-9]*\] worker [0-9]*: accepted' "$HELLOD_ERR" | tail -n1 | grep -o '[0-9]*' | head -n1)
	socks=$(listen_sockets "$HELLOD_PID")
	local accepts
	accepts=$(grep -c "\[pid $held\] worker [0-9]*: accepted from" "$HELLOD_ERR")
	kill -USR1 "$HELLOD_PID"
	wait_until 10 log_has "$HELLOD_ERR" 'graceful restart: generation 1'
	# the idle old worker is gone; the busy one stays, beside 2 new ones
	local idle
	idle=$(grep -vx "$held" <<<"$old")
	[ -n "$idle" ]
	wait_until 10 pid_gone "$idle"
	wait_until 10 workers_are 3
	pid_alive "$held"
	[ "$(listen_sockets "$HELLOD_PID")" = "$socks" ]
	# new sessions go to the new generation only
	local round	# not i: bats's run uses it
	for round in 1 2 3 4; do
		run -0 talk "$PORT" --half-close <<<"new$round"
		assert_output "$(printf 'welcome!\nhello, new%s!' "$round")"
	done
	run -0 grep -c "\[pid $held\] worker [0-9]*: accepted from" "$HELLOD_ERR"
	assert_output "$accepts"
	# the held session goes on as if nothing happened
	sleep 0.5
	run -1 grep -E 'early|error' "$HOLD_OUT"
	hold_release
	hold_wait
	run -0 cat "$HOLD_OUT"
	assert_line '1 hello, after-1!'
	assert_line '1 closed'
	wait_until 5 pid_gone "$held"
	[ "$(worker_count "$HELLOD_PID")" -eq 2 ]
	run -0 grep -c "\[pid $held\] worker [0-9]*: accepted from" "$HELLOD_ERR"
	assert_output "$accepts"
}

@test "HUP closes a busy old session after GracefulShutdownTimeout" {
	start_hellod -w 1 -C 'GracefulShutdownTimeout 1'
	hold_start 1
	wait_until 10 hold_seen 1 'hello, before-1!'
	local t0 t1
	t0=$(date +%s%N)
	kill -HUP "$HELLOD_PID"
	wait_until 5 hold_seen 1 'closed early'
	t1=$(date +%s%N)
	local ms=$(( (t1 - t0) / 1000000 ))
	echo "# closed after $ms ms" >&3
	(( ms >= 800 && ms <= 3500 ))
	run -0 talk "$PORT" --half-close <<<'next'
	assert_output $'welcome!\nhello, next!'
}

@test "a client load through repeated HUP and USR1 sees every session served" {
	WORKERS=3 start_hellod -w 3
	python3 "$TOP/test/load.py" "$PORT" 3 4 >"$BATS_TEST_TMPDIR/load.out" 2>&1 3>&- &
	local load=$!
	local sig
	for sig in HUP USR1 HUP USR1 HUP USR1; do
		sleep 0.4
		kill -"$sig" "$HELLOD_PID"
	done
	local st=0
	wait "$load" || st=$?
	run cat "$BATS_TEST_TMPDIR/load.out"
	assert_line --regexp '^sessions [0-9]+ failed 0$'
	[ "$st" -eq 0 ]
	local n
	n=$(sed -n 's/^sessions \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/load.out")
	echo "# $n sessions" >&3
	(( n >= 100 ))
	wait_until 5 log_has "$HELLOD_ERR" 'generation 6'
}

@test "a configuration broken before HUP is logged and the old one kept" {
	printf 'Framing raw\nStartServers 2\n' >"$CONF"
	WORKERS=2 start_hellod -f "$CONF" -C 'MinSpareServers 1' -C 'MaxSpareServers 2'
	local old
	old=$(children "$HELLOD_PID")
	printf 'Framing line\nStartServers nope\n' >"$CONF"
	kill -HUP "$HELLOD_PID"
	wait_until 5 log_has "$HELLOD_ERR" "\\[error\\] .*restart failed, still running the old configuration: $CONF:2: StartServers: bad value \"nope\": not a number"
	pid_alive "$HELLOD_PID"
	[ "$(children "$HELLOD_PID")" = "$old" ]
	# still raw framing: the old configuration
	run -0 talk "$PORT" --half-close <<<'x'
	assert_output $'welcome!hello, x\n!'
	kill -USR1 "$HELLOD_PID"
	wait_until 5 lines_are "$HELLOD_ERR" 'restart failed' -eq 2
	[ "$(children "$HELLOD_PID")" = "$old" ]
}

@test "WINCH: busy sessions finish, then everything exits 0" {
	WORKERS=2 start_hellod -w 2
	hold_start 1
	wait_until 10 hold_seen 1 'hello, before-1!'
	local kids
	kids=$(children "$HELLOD_PID")
	kill -WINCH "$HELLOD_PID"
	wait_until 5 port_closed "$PORT"
	wait_until 5 workers_are 1
	pid_alive "$HELLOD_PID"
	hold_release
	hold_wait
	run -0 cat "$HOLD_OUT"
	assert_line '1 hello, after-1!'
	assert_line '1 closed'
	run -0 wait_exit
	for k in $kids; do pid_gone "$k"; done
}

@test "TERM and INT stop at once: sessions closed, exit 0, nothing left" {
	local sig kids
	for sig in TERM INT; do
		WORKERS=2 start_hellod -w 2
		hold_start 1
		wait_until 10 hold_seen 1 'hello, before-1!'
		kids=$(children "$HELLOD_PID")
		kill -"$sig" "$HELLOD_PID"
		wait_until 5 hold_seen 1 'closed early'
		hold_wait || true
		wait_exit
		for k in $kids; do pid_gone "$k"; done
		port_closed "$PORT"
	done
}

k() { hellod -k "$1" -C "PidFile $PIDF"; }

@test "-k restart and -k graceful start a new generation through the PidFile" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	local old word
	for word in restart graceful; do
		old=$(children "$HELLOD_PID")
		run -0 --separate-stderr k "$word"
		[ -z "$stderr" ]
		wait_until 10 workers_replaced "$old" 2
		pid_alive "$HELLOD_PID"
		run -0 talk "$PORT" --half-close <<<"$word"
		assert_output $'welcome!\nhello, '"$word"'!'
	done
	log_has "$HELLOD_ERR" 'graceful restart: generation 2'
}

@test "-k stop and -k graceful-stop return once the server is gone" {
	local word kids
	for word in stop graceful-stop; do
		WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
		kids=$(children "$HELLOD_PID")
		run -0 --separate-stderr k "$word"
		[ -z "$stderr" ]
		pid_gone "$HELLOD_PID"
		[ ! -e "$PIDF" ]
		wait_exit
		for k in $kids; do wait_until 2 pid_gone "$k"; done
		port_closed "$PORT"
	done
	run -3 --separate-stderr k stop
	[ "$stderr" = "hellod: not running (no live server holds PidFile $PIDF)" ]
}

@test "when the master dies, every worker exits and the port is released" {
	WORKERS=3 start_hellod -w 3
	kill_master "$HELLOD_PID"
	HELLOD_PID=
	port_closed "$PORT"
}

@test "a worker finishing its session after a restart shows G in -k status" {
	start_hellod -w 2 -C "PidFile $PIDF"
	hold_start 1
	wait_until 10 hold_seen 1 'hello, before'
	kill -USR1 "$HELLOD_PID"
	wait_until 10 status_has 'Scoreboard: .*G'
	# Not just an idle old worker on its way out: the busy one stays G.
	sleep 0.5
	status_has 'Scoreboard: .*G'
	hold_release
	hold_wait
}
