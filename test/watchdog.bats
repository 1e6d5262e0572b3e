#!/usr/bin/env bats
# WorkerTimeout (issue 11 item 5): a worker whose heartbeat stops is
# stopped (TERM, then KILL), replaced and logged; a worker that merely
# waits, however long, keeps beating.  A worker is made to hang with
# SIGSTOP, which no handler can catch.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load edge_helper
}

teardown() {
	bg_stop
	[ -z "${STOPPED:-}" ] || kill -CONT "$STOPPED" 2>/dev/null || true
	stop_hellod
}

@test "WorkerTimeout: a hung worker is killed, replaced and logged with its pid, state and client" {
	start_hellod -w 1 -C 'WorkerTimeout 1'
	bg_client a "$PORT" r 'w:michael\n' r "until:$BATS_TEST_TMPDIR/never" rest
	wait_until 10 said a 'hello, michael!'
	STOPPED=$(children "$HELLOD_PID")
	kill -STOP "$STOPPED"
	wait_until 10 pid_gone "$STOPPED"
	wait_until 5 logged "$HELLOD_ERR" "(pid $STOPPED) hung: no heartbeat for"
	run -0 grep -F "(pid $STOPPED) hung" "$HELLOD_ERR"
	assert_output --regexp "worker 0 \(pid $STOPPED\) hung: no heartbeat for [0-9]+ s, state R, client 127\.0\.0\.1:[0-9]+; stopping it$"
	wait_until 5 logged "$HELLOD_ERR" "(pid $STOPPED) killed by signal 9"
	# Its replacement serves.
	run -0 client "$PORT" r 'w:tracy\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, tracy!\nclosed'
	STOPPED=
}

@test "WorkerTimeout: waiting on ReplyDelay, a slow client or no client at all is not hanging" {
	start_hellod -w 1 -C 'WorkerTimeout 1' -C 'ReplyDelay 2500'
	local w
	w=$(children "$HELLOD_PID")
	# 2.5 s idle, then an answer that takes 2.5 s, then 2.5 s idle again.
	run -0 client "$PORT" r s:2500 'w:sarah\n' r s:2500 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	[ "$(children "$HELLOD_PID")" = "$w" ]
	run -1 grep -F 'hung' "$HELLOD_ERR"
}

@test "WorkerTimeout: idle workers queued on the portable accept mutex keep beating" {
	start_hellod -w 3 -C 'WorkerTimeout 1' -C 'AcceptMutex pthread'
	local before
	before=$(children "$HELLOD_PID" | sort)
	run -0 client "$PORT" r s:3000 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	[ "$(children "$HELLOD_PID" | sort)" = "$before" ]
	run -1 grep -F 'hung' "$HELLOD_ERR"
}

@test "WorkerTimeout 0 lets a stopped worker be" {
	start_hellod -w 1 -C 'WorkerTimeout 0'
	STOPPED=$(children "$HELLOD_PID")
	kill -STOP "$STOPPED"
	# Give a watchdog, were there one, three ticks.
	run -0 client "$PORT" s:3000
	pid_alive "$STOPPED"
	run -1 grep -F 'hung' "$HELLOD_ERR"
}

@test "hellod -t checks WorkerTimeout's range" {
	run -0 hellod -t -C 'WorkerTimeout 86400'
	run -1 --separate-stderr hellod -t -C 'WorkerTimeout 86401'
	assert_equal "$stderr" $'hellod: -C \'WorkerTimeout 86401\': WorkerTimeout: bad value "86401": out of range (0 to 86400)\nSyntax error'
}
