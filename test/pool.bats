#!/usr/bin/env bats
# Issue 3, items 2, 3 and 8 (respawn): the dynamic pool, MaxRequestWorkers,
# MaxConnectionsPerChild, the scoreboard and -k status, dead workers.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
}

teardown() {
	pm_teardown
}

count_is() { [ "$(worker_count "$HELLOD_PID")" -eq "$1" ]; }
count_at_least() { [ "$(worker_count "$HELLOD_PID")" -ge "$1" ]; }

@test "the pool grows while idle workers run short, and shrinks back to MaxSpareServers" {
	WORKERS=2 start_hellod -C 'StartServers 2' -C 'MinSpareServers 2' \
	    -C 'MaxSpareServers 4' -C 'LogLevel debug'
	count_is 2
	hold_start 4
	# 4 busy and at least 2 idle: the master forked more on its own
	wait_until 15 hold_seen 4 'hello, before-'
	wait_until 10 count_at_least 6
	hold_release
	wait_until 10 hold_seen 4 ' closed$'
	hold_wait
	# idle workers are retired, one a second, down to MaxSpareServers
	wait_until 15 count_is 4
	sleep 1.2
	count_is 4
	run -0 talk "$PORT" --half-close <<<'still'
	assert_output $'welcome!\nhello, still!'
}

@test "MaxRequestWorkers caps the pool; the rest wait in the backlog and are served" {
	WORKERS=1 start_hellod -C 'StartServers 1' -C 'MinSpareServers 1' \
	    -C 'MaxSpareServers 2' -C 'MaxRequestWorkers 3'
	hold_start 5
	wait_until 10 hold_seen 5 ' connected '
	wait_until 10 hold_seen 3 'hello, before-'
	wait_until 10 grep -q 'server reached MaxRequestWorkers' "$HELLOD_ERR"
	# over a while, never more than 3 workers, and the other 2 still wait
	local i
	for i in $(seq 10); do
		(( $(worker_count "$HELLOD_PID") <= 3 ))
		sleep 0.1
	done
	[ "$(grep -c welcome "$HOLD_OUT")" -eq 3 ]
	run -1 grep -E 'error|early' "$HOLD_OUT"
	hold_release
	hold_wait
	run -0 grep -c ' closed$' "$HOLD_OUT"
	assert_output 5
	run -0 grep -c 'server reached MaxRequestWorkers' "$HELLOD_ERR"
	assert_output 1
	(( $(worker_count "$HELLOD_PID") <= 3 ))
}

# idle_is N: -k status says N workers wait for connections.
idle_is() {
	hellod -k status -C "PidFile $PIDF" | grep -qx "IdleWorkers: $1"
}

@test "MaxConnectionsPerChild: the worker is replaced after that many sessions" {
	# No port probe: on a loaded machine a probe can be counted as a
	# session, so wait on the scoreboard instead.
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	hellod -w 1 -l "127.0.0.1:$PORT" -C 'MaxConnectionsPerChild 2' \
	    -C "PidFile $PIDF" 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 idle_is 1
	local first
	first=$(children "$HELLOD_PID")
	run -0 talk "$PORT" --half-close <<<'one'
	assert_output $'welcome!\nhello, one!'
	# one session: still the same process
	[ "$(children "$HELLOD_PID")" = "$first" ]
	run -0 talk "$PORT" --half-close <<<'two'
	assert_output $'welcome!\nhello, two!'
	wait_until 5 pid_gone "$first"
	wait_until 5 count_is 1
	local second
	second=$(children "$HELLOD_PID")
	[ "$second" != "$first" ]
	run -0 talk "$PORT" --half-close <<<'three'
	assert_output $'welcome!\nhello, three!'
	[ "$(children "$HELLOD_PID")" = "$second" ]
	run -0 talk "$PORT" --half-close <<<'four'
	assert_output $'welcome!\nhello, four!'
	wait_until 5 pid_gone "$second"
	wait_until 5 count_is 1
	run -0 talk "$PORT" --half-close <<<'five'
	assert_output $'welcome!\nhello, five!'
}

@test "a worker killed by any signal is replaced and the master says why" {
	WORKERS=2 start_hellod -w 2
	local victim
	for sig in KILL SEGV; do
		victim=$(children "$HELLOD_PID" | head -n1)
		kill -"$sig" "$victim"
		wait_until 5 pid_gone "$victim"
		wait_until 5 count_is 2
		wait_until 5 log_has "$HELLOD_ERR" "worker [0-9]+ \\(pid $victim\\) killed by signal $(kill -l "$sig")"
	done
	run -0 talk "$PORT" --half-close <<<'alive'
	assert_output $'welcome!\nhello, alive!'
}

new_child() {
	local now
	now=$(children "$HELLOD_PID")
	[ -n "$now" ] && [ "$now" != "$1" ]
}

@test "a dynamic pool whose workers die before they are ready forks no more than the back-off allows" {
	if nm "$TOP/server/hellod" 2>/dev/null | grep -q __asan_init; then
		skip "built with AddressSanitizer"
	fi
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	# The master fits in 4 MiB of address space; a worker that must
	# allocate two 1 MiB buffers does not, and exits before it is ready.
	prlimit --as=$((4096 * 1024)) hellod -l "127.0.0.1:$PORT" \
	    -C 'StartServers 2' -C 'MinSpareServers 4' -C 'MaxSpareServers 8' \
	    -C 'MaxLineLength 1048576' 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 8 log_has "$HELLOD_ERR" 'respawning in 4000 ms$'
	# Rounds at 0, 1 and 3 s: the spare-server check forked nothing
	# around the back-off.
	[ "$(count_in "$HELLOD_ERR" 'before it was ready')" -le 6 ] ||
	    fail "$(cat "$HELLOD_ERR")"
	run -0 port_open "$PORT"
}

status() { hellod -k status -C "PidFile $PIDF"; }

status_says() {
	status | grep -qx -- "$1"
}

@test "-k status prints the mod_status ?auto lines" {
	WORKERS=3 start_hellod -w 3 -C "PidFile $PIDF"
	wait_until 5 status_says 'IdleWorkers: 3'
	run -0 --separate-stderr status
	assert_line --regexp '^ServerVersion: hellod/[0-9]'
	assert_line 'ServerMPM: prefork'
	assert_line --regexp '^Uptime: [0-9]+$'
	assert_line --regexp '^Total Accesses: [0-9]+$'
	assert_line 'BusyWorkers: 0'
	assert_line 'IdleWorkers: 3'
	assert_line --regexp '^Scoreboard: [_SRWG.]+$'
	assert_line 'Scoreboard: ___'
}

@test "-k status counts busy workers and sessions served" {
	WORKERS=4 start_hellod -w 4 -C "PidFile $PIDF"
	wait_until 5 status_says 'IdleWorkers: 4'
	local base
	base=$(status | sed -n 's/^Total Accesses: //p')
	local i
	for i in 1 2 3; do
		talk "$PORT" --half-close <<<"n$i" >/dev/null
	done
	wait_until 5 status_says "Total Accesses: $((base + 3))"
	hold_start 2
	wait_until 10 hold_seen 2 'hello, before-'
	run -0 status
	assert_line 'BusyWorkers: 2'
	assert_line 'IdleWorkers: 2'
	assert_line "Total Accesses: $((base + 5))"
	assert_line --regexp '^Scoreboard: [_SRWG.]{4}$'
	local sb
	sb=$(sed -n 's/^Scoreboard: //p' <<<"$output")
	local busy=${sb//[_.]/}
	[ "${#busy}" -eq 2 ]
	hold_release
	hold_wait
	wait_until 5 status_says 'BusyWorkers: 0'
	run -0 status
	assert_line 'IdleWorkers: 4'
}

@test "-k status with no server running: exit 3 and a message" {
	run -3 --separate-stderr hellod -k status -C "PidFile $PIDF"
	assert_output ''
	[ "$stderr" = "hellod: not running (no live server holds PidFile $PIDF)" ]
}
