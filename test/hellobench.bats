#!/usr/bin/env bats
# hellobench, the load generator: against a real hellod (counts, modes,
# framings, IPv6, JSON), against test/fakehello.py, a server that gets
# the protocol wrong one way per run (each error kind counted, exit 3),
# and its usage errors (hellobench.1: 1 cannot connect, 2 usage,
# 3 errors counted, 4 interrupted).

bats_require_minimum_version 1.5.0

setup() {
	load helper
	ALOG="$BATS_TEST_TMPDIR/access.log"
	FAKE_PID=
}

teardown() {
	stop_hellod
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# fake MODE: start fakehello.py in MODE and set FAKE_PORT.
fake() {
	local pf="$BATS_TEST_TMPDIR/fake.port"
	python3 "$TOP/test/fakehello.py" "$1" "$pf" 3>&- &
	FAKE_PID=$!
	wait_until 5 [ -s "$pf" ]
	FAKE_PORT=$(cat "$pf")
}

# log_lines OP N: the number of sessions in the access log compares so
# to N (test's -eq, -gt...).  A function, so that wait_until counts anew
# each time it tries.
log_lines() {
	[ "$(wc -l <"$ALOG")" "$1" "$2" ]
}

# start_logged ARGS...: hellod with an access log that is empty once the
# start-up probe's session has been logged.
start_logged() {
	start_hellod -C "CustomLog $ALOG" "$@"
	wait_until 5 [ -s "$ALOG" ]
	: >"$ALOG"
}

@test "session mode: -n 300 runs exactly 300 sessions, each greeting, one line, exit" {
	start_logged -w 4
	run -0 --separate-stderr hellobench -n 300 -c 8 127.0.0.1 "$PORT"
	assert_line --index 0 "mode:      session, line framing, 8 connections to 127.0.0.1 port $PORT"
	assert_line --index 1 'sessions:  300 ok, 0 failed, over 300 connections'
	assert_line --index 3 --regexp '^rate:      [0-9]+\.[0-9] sessions/s$'
	assert_line --index 4 --regexp '^latency:   p50 [0-9]+ us, p90 [0-9]+ us, p99 [0-9]+ us, max [0-9]+ us$'
	assert_line --index 5 'errors:    0 (connect 0, timeout 0, closed 0, reset 0, mismatch 0)'
	assert_equal "$stderr" ''
	# The server saw the same: 300 sessions of one message, ended by exit.
	wait_until 5 log_lines -eq 300
	run -0 grep -c ' 1 13 25 exit$' "$ALOG"
	assert_output 300
}

@test "persistent mode: -k -n 500 -c 5 sends 500 lines over 5 connections" {
	start_logged -w 5
	run -0 hellobench -k -n 500 -c 5 127.0.0.1 "$PORT"
	assert_line --index 0 --partial 'mode:      persistent, line framing, 5 connections'
	assert_line --index 1 'replies:   500 ok, 0 failed, over 5 connections'
	assert_line --index 3 --regexp '^rate:      [0-9]+\.[0-9] replies/s$'
	wait_until 5 log_lines -eq 5
	# Every line answered, and every session ended by exit.
	run -0 awk '$NF == "exit" { n += $5 } END { print n }' "$ALOG"
	assert_output 500
}

@test "one connection is said in the singular" {
	start_logged -w 1
	run -0 hellobench -n 1 -c 1 127.0.0.1 "$PORT"
	assert_line --index 0 "mode:      session, line framing, 1 connection to 127.0.0.1 port $PORT"
	assert_line --index 1 'sessions:  1 ok, 0 failed, over 1 connection'
}

@test "-c larger than -n opens only -n connections" {
	start_logged -w 2
	run -0 hellobench -n 3 -c 50 127.0.0.1 "$PORT"
	assert_line --index 1 'sessions:  3 ok, 0 failed, over 3 connections'
	wait_until 5 log_lines -eq 3
}

@test "-j prints one JSON line that python3 reads" {
	start_hellod -w 2
	run -0 --separate-stderr hellobench -j -n 50 -c 2 127.0.0.1 "$PORT"
	[ "${#lines[@]}" -eq 1 ]
	run -0 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["mode"] == "session" and r["framing"] == "line", r
assert r["host"] == "127.0.0.1" and r["port"] == int(sys.argv[2]), r
assert r["concurrency"] == 2 and r["connections"] == 50, r
assert r["ok"] == 50 and r["failed"] == 0 and r["stopped"] is False, r
assert r["rate"] > 0 and r["seconds"] > 0, r
l = r["latency_us"]
assert 0 <= l["p50"] <= l["p90"] <= l["p99"] <= l["max"], l
assert r["errors"] == dict(connect=0, timeout=0, closed=0, reset=0,
    mismatch=0), r
print("ok")' "$output" "$PORT"
	assert_output ok
}

@test "latencies are in microseconds: never below the server's ReplyDelay" {
	start_hellod -w 2 -C 'ReplyDelay 200'
	run -0 hellobench -j -k -n 4 -c 2 127.0.0.1 "$PORT"
	run -0 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
l = r["latency_us"]
assert 200000 <= l["p50"] <= l["p90"] <= l["p99"] <= l["max"], l
print("ok")' "$output"
	run -0 hellobench -j -n 2 -c 2 127.0.0.1 "$PORT"
	run -0 python3 -c '
import json, sys
l = json.loads(sys.argv[1])["latency_us"]
assert 200000 <= l["p50"] <= l["max"], l
print("ok")' "$output"
}

@test "-t 1 runs for about a second with no count" {
	start_hellod -w 2
	run -0 hellobench -j -t 1 -c 2 127.0.0.1 "$PORT"
	run -0 python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["ok"] > 0 and r["failed"] == 0, r
assert 1.0 <= r["seconds"] < 30, r
print("ok")' "$output"
}

@test "-r against Framing raw, and -m chooses the line" {
	start_logged -w 2 -C 'Framing raw'
	run -0 hellobench -r -m tracy -n 20 -c 2 127.0.0.1 "$PORT"
	assert_line --index 0 --partial 'session, raw framing'
	assert_line --index 1 'sessions:  20 ok, 0 failed, over 20 connections'
	# Line framing against a raw server: the greeting has no newline.
	run -3 --separate-stderr hellobench -w 1 -n 1 -c 1 127.0.0.1 "$PORT"
	assert_equal "$stderr" "hellobench: timeout: no greeting from 127.0.0.1 port $PORT within 1 s"
}

@test "IPv6: hellobench ::1 and [::1]" {
	local p6
	p6=$(free_port)
	start_hellod -w 2 -l "[::1]:$p6"
	run -0 hellobench -n 10 -c 2 ::1 "$p6"
	assert_line --index 0 "mode:      session, line framing, 2 connections to ::1 port $p6"
	assert_line --index 1 'sessions:  10 ok, 0 failed, over 10 connections'
	run -0 hellobench -6 -k -n 10 -c 2 '[::1]' "$p6"
	assert_line --index 1 'replies:   10 ok, 0 failed, over 2 connections'
}

@test "INT stops the run: the summary so far, exit 4" {
	start_logged -w 2
	hellobench -c 2 -t 60 127.0.0.1 "$PORT" >"$BATS_TEST_TMPDIR/out" 3>&- &
	local pid=$!
	wait_until 10 log_lines -gt 0
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 4
	run -0 grep -c '^time: .*(stopped by a signal)$' "$BATS_TEST_TMPDIR/out"
	run -0 grep -E '^sessions:  [0-9]+ ok, 0 failed' "$BATS_TEST_TMPDIR/out"
}

@test "a wrong answer is a mismatch, counted each time, and exits 3" {
	fake wrong
	run -3 --separate-stderr hellobench -n 7 -c 2 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" 'hellobench: mismatch: answer: expected "hello, michael!\n", got "hallo, michael!\n"'
	assert_line --index 1 'sessions:  0 ok, 7 failed, over 7 connections'
	assert_line --index 5 'errors:    7 (connect 0, timeout 0, closed 0, reset 0, mismatch 7)'
}

@test "a wrong greeting is a mismatch" {
	fake greeting
	run -3 --separate-stderr hellobench -k -n 3 -c 1 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" 'hellobench: mismatch: greeting: expected "welcome!\n", got "welcome?\n"'
	assert_line --index 5 'errors:    3 (connect 0, timeout 0, closed 0, reset 0, mismatch 3)'
}

@test "one byte too many after an answer is a mismatch" {
	fake extra
	run -3 --separate-stderr hellobench -k -n 4 -c 1 127.0.0.1 "$FAKE_PORT"
	assert_line --index 5 --partial 'mismatch 4)'
}

@test "bytes after exit instead of the close are a mismatch" {
	fake after
	run -3 --separate-stderr hellobench -n 2 -c 1 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" 'hellobench: mismatch: close after exit: expected the close, got "bye\n"'
	assert_line --index 1 'sessions:  0 ok, 2 failed, over 2 connections'
}

@test "a server that closes before answering is counted as closed" {
	fake early
	run -3 --separate-stderr hellobench -n 5 -c 2 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" "hellobench: closed: 127.0.0.1 port $FAKE_PORT closed the connection before the answer"
	assert_line --index 5 'errors:    5 (connect 0, timeout 0, closed 5, reset 0, mismatch 0)'
}

@test "a reset instead of an answer is counted as reset" {
	fake reset
	run -3 --separate-stderr hellobench -n 3 -c 1 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" "hellobench: reset: read from 127.0.0.1 port $FAKE_PORT: Connection reset by peer"
	assert_line --index 5 'errors:    3 (connect 0, timeout 0, closed 0, reset 3, mismatch 0)'
}

@test "a server that stalls is a timeout after -w seconds" {
	fake stall
	run -3 --separate-stderr hellobench -w 1 -n 2 -c 2 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" "hellobench: timeout: no answer from 127.0.0.1 port $FAKE_PORT within 1 s"
	assert_line --index 5 'errors:    2 (connect 0, timeout 2, closed 0, reset 0, mismatch 0)'
}

@test "a server that does not close after exit is a timeout" {
	fake noclose
	run -3 --separate-stderr hellobench -w 1 -k -n 3 -c 1 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" "hellobench: timeout: no close after exit from 127.0.0.1 port $FAKE_PORT within 1 s"
	# The three replies came; the error is the connection's end.
	assert_line --index 1 'replies:   3 ok, 0 failed, over 1 connection'
	assert_line --index 5 --partial 'errors:    1 (connect 0, timeout 1,'
}

@test "a server that goes away mid-run: refused connections are counted" {
	fake once
	run -3 --separate-stderr hellobench -n 4 -c 1 127.0.0.1 "$FAKE_PORT"
	assert_equal "$stderr" "hellobench: connect: connect to 127.0.0.1 port $FAKE_PORT: Connection refused"
	assert_line --index 1 'sessions:  1 ok, 3 failed, over 4 connections'
	assert_line --index 5 'errors:    3 (connect 3, timeout 0, closed 0, reset 0, mismatch 0)'
}

@test "the good fake server passes: the fake itself is right" {
	fake good
	run -0 hellobench -n 20 -c 4 127.0.0.1 "$FAKE_PORT"
	run -0 hellobench -k -n 20 -c 4 127.0.0.1 "$FAKE_PORT"
}

@test "-c: a low soft descriptor limit is raised; past the hard one, exit 2" {
	[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 200 ] ||
	    skip "hard descriptor limit below 200"
	start_hellod -w 2
	run -0 bash -c "ulimit -Sn 64 && hellobench -c 100 -n 200 127.0.0.1 $PORT"
	assert_line --index 1 'sessions:  200 ok, 0 failed, over 200 connections'
	run -2 --separate-stderr bash -c "ulimit -n 64 && hellobench -c 100 127.0.0.1 $PORT"
	assert_equal "$stderr" 'hellobench: -c 100: needs 116 descriptors; the limit is 64'
}

@test "the soft descriptor limit goes up to the hard one" {
	[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 200 ] ||
	    skip "hard descriptor limit below 200"
	start_hellod -w 1
	# -H 1 holds the connection while this reads hellobench's limits.
	bash -c "ulimit -Sn 64 && exec hellobench -c 1 -H 1 127.0.0.1 $PORT" \
	    >/dev/null 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$!
	wait_until 5 grep -q holding "$BATS_TEST_TMPDIR/err"
	run -0 awk '/^Max open files/ { print $4, $5 }' "/proc/$pid/limits"
	assert_output "$(ulimit -Hn) $(ulimit -Hn)"
	wait "$pid"
}

@test "no server: one line and exit 1" {
	local p
	p=$(free_port)
	run -1 --separate-stderr hellobench 127.0.0.1 "$p"
	assert_output ''
	assert_equal "$stderr" "hellobench: connect to 127.0.0.1 port $p: Connection refused"
}

# usage_error MSG: stderr is MSG, the synopsis and a pointer to -h.
usage_error() {
	assert_equal "$stderr" "$1
usage: hellobench [-46hjkrV] [-B address] [-c connections] [-H seconds]
                  [-m message] [-n count] [-t seconds] [-w seconds]
                  [host [port]]
Try 'hellobench -h' for more information."
}

@test "usage errors: the reason, the synopsis, a pointer to -h; exit 2" {
	run -2 --separate-stderr hellobench -c 0
	usage_error 'hellobench: -c: bad value "0": out of range (1 to 1000000)'
	run -2 --separate-stderr hellobench -n 1x
	usage_error 'hellobench: -n: bad value "1x": not a number'
	run -2 --separate-stderr hellobench -t 0
	usage_error 'hellobench: -t: bad value "0": out of range (1 to 86400)'
	run -2 --separate-stderr hellobench -w
	usage_error 'hellobench: option -w needs a value'
	run -2 --separate-stderr hellobench -m exit
	usage_error 'hellobench: -m: "exit" ends the session; it has no answer'
	run -2 --separate-stderr hellobench -r -m ''
	usage_error 'hellobench: -m: raw framing has no empty message'
	run -2 --separate-stderr hellobench -m $'a\r'
	usage_error 'hellobench: -m: the server drops a CR at the end of a line'
	run -2 --separate-stderr hellobench a 1 2
	usage_error 'hellobench: unexpected argument "2"'
	run -2 --separate-stderr hellobench -x
	usage_error 'hellobench: unknown option -x'
	run -2 --separate-stderr hellobench -B localhost
	usage_error 'hellobench: -B: bad address "localhost": not a numeric IPv4 or IPv6 address'
	run -2 --separate-stderr hellobench -H 1 -k
	usage_error 'hellobench: -H: a hold is one session a connection: no -k, -n or -t'
	assert_output ''
	run -2 --separate-stderr hellobench 127.0.0.1 99999
	assert_equal "$stderr" 'hellobench: bad port "99999": out of range'
}

@test "options may follow the operands; -- ends them" {
	start_hellod -w 2
	run -0 hellobench 127.0.0.1 "$PORT" -n 5 -c 1 -k
	assert_line --index 1 'replies:   5 ok, 0 failed, over 1 connection'
	run -2 --separate-stderr hellobench -- 127.0.0.1 -k
	assert_equal "$stderr" 'hellobench: bad port "-k": not a number'
}

@test "-h prints the usage on stdout; -V the version" {
	run -0 --separate-stderr hellobench -h
	assert_line --index 0 'usage: hellobench [-46hjkrV] [-B address] [-c connections] [-H seconds]'
	local o
	for o in '-4, -6' -B -c -H '-h, --help' -j -k -m -n -r -t '-V, --version' -w; do
		assert_line --regexp "^  $o "
	done
	assert_equal "$stderr" ''
	run -0 hellobench --help
	assert_line --index 0 --partial 'usage: hellobench'
	run -0 hellobench -V
	assert_output --regexp '^hellobench [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 hellobench --version
	assert_output --regexp '^hellobench [0-9]+\.[0-9]+\.[0-9]+$'
}

# by_source: the access log's sessions counted by client address.
by_source() {
	sed 's/:[0-9]* .*//' "$ALOG" | sort | uniq -c | awk '{ print $2, $1 }'
}

@test "-B: connections come from each address in turn, after the first" {
	start_logged -w 2
	run -0 hellobench -n 7 -c 1 -B 127.0.0.2 -B 127.0.0.3 127.0.0.1 "$PORT"
	assert_line --index 1 'sessions:  7 ok, 0 failed, over 7 connections'
	wait_until 5 log_lines -eq 7
	run -0 by_source
	assert_output "$(printf '127.0.0.1 1\n127.0.0.2 3\n127.0.0.3 3')"
}

@test "-B: an address of the other family than the server's, exit 2" {
	start_hellod -w 1
	run -2 --separate-stderr hellobench -n 1 -B ::1 127.0.0.1 "$PORT"
	assert_equal "$stderr" 'hellobench: -B ::1: not an IPv4 address, as 127.0.0.1 is'
}

@test "-H: every connection held at once, answered once, then once more" {
	start_logged -w 6
	hellobench -j -H 1 -c 5 -B 127.0.0.2 127.0.0.1 "$PORT" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$!
	wait_until 5 grep -q holding "$BATS_TEST_TMPDIR/err"
	run -0 cat "$BATS_TEST_TMPDIR/err"
	assert_output --regexp '^hellobench: holding 5 connections, all answered after [0-9.]+ s$'
	# Held: five sessions open, none logged yet.
	run -0 hellod -l "127.0.0.1:$PORT" -k status
	assert_line 'BusyWorkers: 5'
	assert_equal "$(wc -l <"$ALOG")" 0
	wait "$pid"
	run -0 python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["mode"], r["ok"], r["held"], r["connections"]) == ("hold", 5, 5, 5), r
assert 0 < r["held_seconds"] < r["seconds"] and r["seconds"] >= 1, r
assert sum(r["errors"].values()) == 0, r' "$BATS_TEST_TMPDIR/out"
	# Each session: two lines, then exit, and it lasted the hold.
	wait_until 5 log_lines -eq 5
	run -0 awk '$5 == 2 && $NF == "exit" && $4 >= 1 { n++ } END { print n }' "$ALOG"
	assert_output 5
}
