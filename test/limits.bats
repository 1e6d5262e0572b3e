#!/usr/bin/env bats
# Per-client and per-line limits and room under pressure (issue 11
# items 2, 3 and 4): MaxConnectionsPerIP, LineTimeout and
# IdleTimeoutUnderLoad.  Clients come from 127.0.0.1 and 127.0.0.2 (all
# of 127/8 is loopback) to be two addresses.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load edge_helper
	ALOG="$BATS_TEST_TMPDIR/access.log"
}

teardown() {
	bg_stop
	stop_hellod
}

# --- MaxConnectionsPerIP ---------------------------------------------

@test "MaxConnectionsPerIP: over the cap a client gets the error line, the log says so, the worker is free" {
	start_hellod -w 3 -C 'MaxConnectionsPerIP 2' -C "CustomLog $ALOG"
	bg_client a "$PORT" r "until:$BATS_TEST_TMPDIR/go" 'w:exit\n' rest
	bg_client b "$PORT" r "until:$BATS_TEST_TMPDIR/go" 'w:exit\n' rest
	wait_until 10 said a 'welcome!'
	wait_until 10 said b 'welcome!'
	run -0 client "$PORT" rest
	assert_output $'error: too many connections\nclosed'
	wait_until 5 logged "$HELLOD_ERR" 'too many connections from 127.0.0.1 (MaxConnectionsPerIP 2)'
	wait_until 5 logged "$ALOG" ' too-many'
	# The third worker took the refusal and is free again at once:
	# another address is served while a and b still hold theirs.
	run -0 client --from 127.0.0.2 "$PORT" r 'w:sarah\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	go go
	bg_wait
	# With a and b gone, 127.0.0.1 has room again.
	run -0 client "$PORT" r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
}

@test "MaxConnectionsPerIP is exact when many connections race for it" {
	start_hellod -w 12 -C 'MaxConnectionsPerIP 3'
	local i
	for i in $(seq 1 10); do
		bg_client "c$i" "$PORT" r "until:$BATS_TEST_TMPDIR/go" 'w:exit\n' rest
	done
	wait_until 20 eval '[ "$(cat "$BATS_TEST_TMPDIR"/c* | grep -c -e "^welcome!$" -e "^error: too many connections$")" -eq 10 ]'
	run -0 bash -c "cat '$BATS_TEST_TMPDIR'/c* | grep -c '^welcome!\$'"
	assert_output 3
	run -0 bash -c "cat '$BATS_TEST_TMPDIR'/c* | grep -c '^error: too many connections\$'"
	assert_output 7
	go go
	bg_wait
}

@test "MaxConnectionsPerIP: a worker killed mid-session gives its place back" {
	start_hellod -w 2 -C 'MaxConnectionsPerIP 1'
	bg_client a "$PORT" r rest
	wait_until 10 said a 'welcome!'
	run -0 client "$PORT" rest
	assert_output $'error: too many connections\nclosed'
	local w
	w=$(serving_worker "$PORT")
	[ -n "$w" ]
	kill -KILL "$w"
	wait_until 10 eval 'said a closed || said a reset'
	wait_until 10 logged "$HELLOD_ERR" "(pid $w) killed by signal 9"
	run -0 client "$PORT" r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
}

@test "MaxConnectionsPerIP counts the address a PROXY header carries" {
	start_hellod -w 3 -C 'MaxConnectionsPerIP 1' -C 'ProxyProtocol on'
	bg_client a "$PORT" v1:192.0.2.1:40000 r "until:$BATS_TEST_TMPDIR/go" 'w:exit\n' rest
	wait_until 10 said a 'welcome!'
	# Same peer, another client behind it: served.
	run -0 client "$PORT" v1:192.0.2.2:40000 r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	# The same client again: over its cap.
	run -0 client "$PORT" v2:192.0.2.1:40001 rest
	assert_output $'error: too many connections\nclosed'
	go go
	bg_wait
}

# --- LineTimeout -----------------------------------------------------

@test "LineTimeout: a line trickled slower than it is cut with error: timeout" {
	start_hellod -w 1 -C 'LineTimeout 1' -C "CustomLog $ALOG"
	run -0 client "$PORT" r 'w:m' s:400 'w:i' s:400 'w:c' s:400 'w:h' s:400 'w:a' s:400 'w:el\n' rest
	assert_output $'welcome!\nerror: timeout\nclosed'
	wait_until 5 logged "$ALOG" ' timeout'
}

@test "LineTimeout 0: the same trickle is a line" {
	start_hellod -w 1 -C 'LineTimeout 0'
	run -0 client "$PORT" r 'w:m' s:400 'w:i' s:400 'w:c' s:400 'w:h' s:400 'w:a' s:400 'w:el\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, michael!\nclosed'
}

@test "LineTimeout does not count the wait before a line's first byte" {
	start_hellod -w 1 -C 'LineTimeout 1'
	run -0 client "$PORT" r s:1800 'w:tracy\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, tracy!\nclosed'
}

# --- IdleTimeoutUnderLoad --------------------------------------------

# every N MS LINE: edgeclient steps sending LINE N times, MS apart, each
# answer read.
every() {
	local i
	for i in $(seq 1 "$1"); do
		printf "%s " "w:$3\\n" r "s:$2"
	done
}

@test "IdleTimeoutUnderLoad: with every worker held by idle clients, the longest idle makes room" {
	start_hellod -w 2 -C 'IdleTimeoutUnderLoad 1' -C "CustomLog $ALOG"
	bg_client a "$PORT" r rest
	wait_until 10 said a 'welcome!'
	bg_client b "$PORT" r "until:$BATS_TEST_TMPDIR/go" 'w:exit\n' rest
	wait_until 10 said b 'welcome!'
	# c waits in the backlog until a, idle longest, is closed.
	run -0 client "$PORT" r 'w:sarah\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	wait_until 5 said a 'closed'
	run -0 cat "$BATS_TEST_TMPDIR/a"
	assert_output $'welcome!\nerror: server busy\nclosed'
	# b, idle for less time, was left alone.
	go go
	bg_wait
	run -0 cat "$BATS_TEST_TMPDIR/b"
	assert_output $'welcome!\nclosed'
	wait_until 5 logged "$HELLOD_ERR" 'closing 1 session idle for 1 s or more'
	run -0 grep -c ' busy$' "$ALOG"
	assert_output 1
}

@test "IdleTimeoutUnderLoad: empty lines every 300 ms do not make a session busy" {
	start_hellod -w 1 -C 'IdleTimeoutUnderLoad 1'
	# a keeps its worker with empty lines, as a keep-alive would, for
	# 12 s: longer than c would wait without IdleTimeoutUnderLoad.
	bg_client a "$PORT" r $(every 40 300 "") rest
	wait_until 10 said a 'hello, !'
	run -0 client "$PORT" r 'w:sarah\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	bg_wait
	run -0 grep -c '^error: server busy$' "$BATS_TEST_TMPDIR/a"
	assert_output 1
	# After it, a finds the connection closed, whichever way it looks.
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/a"
	assert_output --regexp '^(closed|broken pipe|reset)$'
}

@test "IdleTimeoutUnderLoad 0: idle clients keep their workers" {
	start_hellod -w 1 -C 'IdleTimeoutUnderLoad 0'
	bg_client a "$PORT" r s:2500 'w:exit\n' rest
	wait_until 10 said a 'welcome!'
	# b waits in the backlog past a's 2.5 s of idleness; a is not cut.
	run -0 client "$PORT" r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	bg_wait
	run -0 cat "$BATS_TEST_TMPDIR/a"
	assert_output $'welcome!\nclosed'
}

# --- MaxSessionAgeUnderLoad ------------------------------------------

@test "MaxSessionAgeUnderLoad: clients sending a line every second lose their workers to a waiting client" {
	start_hellod -w 2 -C 'MaxSessionAgeUnderLoad 2' -C "CustomLog $ALOG"
	# a and b hold both workers for 20 s, never idle for
	# IdleTimeoutUnderLoad (5 s): only their age can make room.
	bg_client a "$PORT" r $(every 20 1000 x) rest
	bg_client b "$PORT" r $(every 20 1000 x) rest
	wait_until 10 said a 'hello, x!'
	wait_until 10 said b 'hello, x!'
	local t0=$SECONDS
	run -0 client "$PORT" r 'w:sarah\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	# Served once a session is 2 s old, long before a or b is done.
	[ $((SECONDS - t0)) -le 10 ]
	wait_until 5 logged "$HELLOD_ERR" 'closing 1 session idle for 5 s or more, or open for 2 s or more'
	wait_until 5 logged "$ALOG" ' busy'
	# The session closed got the error line, then the close.
	bg_wait
	run -0 bash -c "grep -l '^error: server busy$' '$BATS_TEST_TMPDIR'/a '$BATS_TEST_TMPDIR'/b | wc -l"
	assert_output 1
}

@test "MaxSessionAgeUnderLoad 0: a client sending a line every second keeps its worker" {
	start_hellod -w 1 -C 'MaxSessionAgeUnderLoad 0'
	bg_client a "$PORT" r $(every 3 1000 x) 'w:exit\n' rest
	wait_until 10 said a 'hello, x!'
	run -0 client "$PORT" r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	bg_wait
	run -0 cat "$BATS_TEST_TMPDIR/a"
	assert_output $'welcome!\nhello, x!\nhello, x!\nhello, x!\nclosed'
}

@test "hellod -t checks the limits' ranges" {
	run -0 hellod -t -C 'MaxConnectionsPerIP 20000' -C 'LineTimeout 0' -C 'IdleTimeoutUnderLoad 86400' -C 'MaxSessionAgeUnderLoad 86400'
	run -1 --separate-stderr hellod -t -C 'MaxSessionAgeUnderLoad 86401'
	assert_equal "$stderr" $'hellod: -C \'MaxSessionAgeUnderLoad 86401\': MaxSessionAgeUnderLoad: bad value "86401": out of range (0 to 86400)\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'MaxConnectionsPerIP -1'
	assert_equal "$stderr" $'hellod: -C \'MaxConnectionsPerIP -1\': MaxConnectionsPerIP: bad value "-1": out of range (0 to 20000)\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'LineTimeout 86401'
	assert_equal "$stderr" $'hellod: -C \'LineTimeout 86401\': LineTimeout: bad value "86401": out of range (0 to 86400)\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'IdleTimeoutUnderLoad soon'
	assert_equal "$stderr" $'hellod: -C \'IdleTimeoutUnderLoad soon\': IdleTimeoutUnderLoad: bad value "soon": not a number\nSyntax error'
}
