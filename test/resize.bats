#!/usr/bin/env bats
# Issue 10, item 4: TTIN and TTOU resize the pool until the next restart.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
}

teardown() {
	pm_teardown
}

# signal_logged SIG REGEX: send SIG to the master, wait for a new log line
# matching REGEX.  One signal at a time: two sent before the master runs
# are one pending signal, as the kernel keeps them.
signal_logged() {
	local before
	before=$(count_in "$HELLOD_ERR" "$2")
	kill -"$1" "$HELLOD_PID"
	wait_until 10 logged_more "$2" "$before"
}

# logged_more REGEX N: more than N lines of the log match REGEX.
logged_more() { [ "$(count_in "$HELLOD_ERR" "$1")" -gt "$2" ]; }


@test "TTIN and TTOU: a fixed pool gets a worker more or fewer, never fewer than 1" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	signal_logged TTIN 'master: TTIN: 3 workers$'
	wait_until 10 workers_are 3
	status_has '^PoolWorkers: 3$'
	wait_until 10 status_has '^Scoreboard: ___$'
	signal_logged TTOU 'master: TTOU: 2 workers$'
	signal_logged TTOU 'master: TTOU: 1 worker$'
	wait_until 10 workers_are 1
	status_has '^PoolWorkers: 1$'
	signal_logged TTOU '\[warn\] .*master: TTOU ignored: the pool has 1 worker, its least$'
	[ "$(worker_count "$HELLOD_PID")" -eq 1 ]
	run -0 talk "$PORT" --half-close <<<'one'
	assert_output $'welcome!\nhello, one!'
}

@test "TTIN grows a fixed pool up to MaxRequestWorkers, not past it" {
	WORKERS=2 start_hellod -w 2 -C 'MaxRequestWorkers 3' -C "PidFile $PIDF"
	signal_logged TTIN 'master: TTIN: 3 workers$'
	signal_logged TTIN '\[warn\] .*master: TTIN ignored: the pool has 3 workers, its most$'
	wait_until 10 workers_are 3
	status_has '^PoolWorkers: 3$'
}

@test "TTOU on a busy fixed pool lets a session finish before its worker leaves" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	hold_start 2
	wait_until 10 hold_seen 2 'hello, before-'
	signal_logged TTOU 'master: TTOU: 1 worker$'
	# both workers are busy: one of them is told to leave after its session
	[ "$(worker_count "$HELLOD_PID")" -eq 2 ]
	hold_release
	hold_wait
	run -0 cat "$HOLD_OUT"
	assert_line '1 closed'
	assert_line '2 closed'
	refute_line --partial 'early'
	wait_until 10 workers_are 1
	status_has '^PoolWorkers: 1$'
}

@test "TTIN and TTOU: a dynamic pool has its spare bounds moved together" {
	WORKERS=2 start_hellod -C 'StartServers 2' -C 'MinSpareServers 2' \
	    -C 'MaxSpareServers 3' -C 'MaxRequestWorkers 5' -C "PidFile $PIDF"
	status_has '^MinSpareServers: 2$'
	status_has '^MaxSpareServers: 3$'
	signal_logged TTIN 'master: TTIN: MinSpareServers 3, MaxSpareServers 4$'
	status_has '^MinSpareServers: 3$'
	status_has '^MaxSpareServers: 4$'
	# the once-a-second look forks the third idle worker
	wait_until 10 status_has '^Scoreboard: ___..$'
	signal_logged TTIN 'master: TTIN: MinSpareServers 4, MaxSpareServers 5$'
	signal_logged TTIN '\[warn\] .*master: TTIN ignored: MinSpareServers 4, MaxSpareServers 5 are at their most \(MaxRequestWorkers\)$'
	signal_logged TTOU 'master: TTOU: MinSpareServers 3, MaxSpareServers 4$'
	signal_logged TTOU 'master: TTOU: MinSpareServers 2, MaxSpareServers 3$'
	signal_logged TTOU 'master: TTOU: MinSpareServers 1, MaxSpareServers 2$'
	signal_logged TTOU '\[warn\] .*master: TTOU ignored: MinSpareServers 1, MaxSpareServers 2 are at their least$'
	# too many idle workers now: one retires each second, down to 2
	wait_until 15 workers_are 2
	status_has '^MaxSpareServers: 2$'
}

@test "TTIN and TTOU last until a restart reads the configuration again" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	signal_logged TTIN 'master: TTIN: 3 workers$'
	wait_until 10 workers_are 3
	kill -HUP "$HELLOD_PID"
	wait_until 10 log_has "$HELLOD_ERR" 'restart: generation 1, 2 workers'
	wait_until 10 workers_are 2
	status_has '^PoolWorkers: 2$'
}

@test "workers ignore TTIN and TTOU: only the master resizes the pool" {
	WORKERS=1 start_hellod -w 1
	local w
	w=$(children "$HELLOD_PID")
	kill -TTIN "$w"
	kill -TTOU "$w"
	run -0 talk "$PORT" --half-close <<<'still'
	assert_output $'welcome!\nhello, still!'
	[ "$(children "$HELLOD_PID")" = "$w" ]
	[ "$(ps -o stat= -p "$w" | cut -c1)" != T ]
}

# Issue 21, item 6: ServerLimit bounds the pool for the server's life.

# scoreboard_width N: "-k status" shows a scoreboard N places wide.
scoreboard_width() {
	[ "$(hellod -k status -C "PidFile $PIDF" | sed -n 's/^Scoreboard: //p' |
	    tr -d '\n' | wc -c)" -eq "$1" ]
}

@test "ServerLimit: MaxRequestWorkers or -w above it is a configuration error" {
	run -1 --separate-stderr hellod -t -C 'ServerLimit 10' -C 'MaxRequestWorkers 20'
	assert_equal "$stderr" $'hellod: MaxRequestWorkers 20 is more than ServerLimit 10\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'ServerLimit 10' -w 12
	assert_equal "$stderr" $'hellod: -w 12 is more than ServerLimit 10\nSyntax error'
	run -0 hellod -t -C 'ServerLimit 10' -C 'MaxRequestWorkers 10'
}

@test "ServerLimit: a restart may raise MaxRequestWorkers up to it; past it the restart fails and the old pool serves on" {
	local conf="$BATS_TEST_TMPDIR/h.conf"
	PORT=$(free_port)
	printf 'Listen 127.0.0.1:%s\nPidFile %s\nServerLimit 6\nMaxRequestWorkers 4\nStartServers 2\nMinSpareServers 1\nMaxSpareServers 2\n' \
	    "$PORT" "$PIDF" >"$conf"
	launch_hellod -f "$conf"
	scoreboard_width 4
	sed -i 's/^MaxRequestWorkers .*/MaxRequestWorkers 6/' "$conf"
	run -0 hellod -f "$conf" -k graceful
	scoreboard_width 6
	# A file that asks for more than its own ServerLimit does not load.
	sed -i 's/^MaxRequestWorkers .*/MaxRequestWorkers 8/' "$conf"
	run -1 --separate-stderr hellod -f "$conf" -k graceful
	assert_equal "$stderr" "hellod: MaxRequestWorkers 8 is more than ServerLimit 6"
	# One that raises ServerLimit too loads, and the server refuses it.
	sed -i 's/^ServerLimit .*/ServerLimit 8/' "$conf"
	run -5 --separate-stderr hellod -f "$conf" -k graceful
	assert_equal "$stderr" "hellod: server (pid $HELLOD_PID) did not restart, it keeps the old configuration: MaxRequestWorkers 8 is more than ServerLimit 6, which holds until the server is stopped and started again"
	grep -q 'ServerLimit 8 takes effect at the next start, not on a restart: 6 until then' "$HELLOD_ERR"
	grep -q 'graceful restart failed, still running the old configuration: MaxRequestWorkers 8 is more than ServerLimit 6' "$HELLOD_ERR"
	scoreboard_width 6
	run -0 talk "$PORT" --half-close <<<'one'
	assert_output $'welcome!\nhello, one!'
}

@test "ServerLimit: by default 256, or the starting pool if larger" {
	local conf="$BATS_TEST_TMPDIR/h.conf"
	PORT=$(free_port)
	printf 'Listen 127.0.0.1:%s\nPidFile %s\nMaxRequestWorkers 4\nStartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n' \
	    "$PORT" "$PIDF" >"$conf"
	launch_hellod -f "$conf"
	sed -i 's/^MaxRequestWorkers .*/MaxRequestWorkers 257/' "$conf"
	run -5 --separate-stderr hellod -f "$conf" -k graceful
	assert_equal "$stderr" "hellod: server (pid $HELLOD_PID) did not restart, it keeps the old configuration: MaxRequestWorkers 257 is more than ServerLimit 256, which holds until the server is stopped and started again"
	sed -i 's/^MaxRequestWorkers .*/MaxRequestWorkers 256/' "$conf"
	run -0 hellod -f "$conf" -k graceful
	scoreboard_width 256
}
