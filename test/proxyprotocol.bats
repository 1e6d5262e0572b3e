#!/usr/bin/env bats
# ProxyProtocol and ProxyAllow (issue 11 item 1): the server reads the
# PROXY header before its greeting, uses the client address it carries,
# and closes without a greeting whatever it cannot believe.  The parser
# itself is tested byte by byte in proxy.bats.

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

# proxied [ARGS...]: a hellod that wants PROXY headers, logging each
# session and each refusal.
proxied() {
	start_hellod -w 2 -C 'ProxyProtocol on' -C "CustomLog $ALOG" \
	    -C 'LogLevel info' "$@"
}

@test "a v1 header's client stands in the access log; bytes after it are the first line" {
	proxied
	run -0 client "$PORT" 'w:PROXY TCP4 192.0.2.7 127.0.0.1 40000 9999\r\nmichael\n' r r 'w:exit\n' rest
	assert_output $'welcome!\nhello, michael!\nclosed'
	wait_until 5 logged "$ALOG" ' exit'
	run -0 grep ' exit$' "$ALOG"
	assert_output --regexp '^192\.0\.2\.7:40000 \[.*\] [0-9.]+ 1 [0-9]+ [0-9]+ exit$'
	wait_until 5 logged "$HELLOD_ERR" 'speaks for 192.0.2.7:40000'
}

@test "the scoreboard (-k fullstatus) shows the client a header carried, not the balancer" {
	proxied -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	bg_client a "$PORT" v1:192.0.2.7:40000 r "until:$BATS_TEST_TMPDIR/go" 'w:exit\n' rest
	wait_until 10 said a 'welcome!'
	run -0 hellod -k fullstatus -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	assert_line --regexp '^ +[0-9]+ +[0-9]+ +[0-9]+ R .* 192\.0\.2\.7:40000$'
	refute_line --regexp ' R .* 127\.0\.0\.1:[0-9]+$'
	go go
	bg_wait
}

@test "a v1 TCP6 header carries an IPv6 client" {
	proxied
	run -0 client "$PORT" 'w:PROXY TCP6 2001:db8::7 ::1 40000 9999\r\n' r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	wait_until 5 logged "$ALOG" ' exit'
	run -0 grep ' exit$' "$ALOG"
	assert_output --regexp '^\[2001:db8::7\]:40000 '
}

@test "a v2 header sent a byte at a time, with a TLV, is read whole" {
	proxied
	# 192.0.2.9:40001 to 127.0.0.1:9999, then a 3-byte NOOP TLV.
	run -0 client "$PORT" 'b:\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x12\xc0\x00\x02\x09\x7f\x00\x00\x01\x9c\x41\x27\x0f\x04\x00\x03abc' r 'w:tracy\nexit\n' rest
	assert_output $'welcome!\nhello, tracy!\nclosed'
	wait_until 5 logged "$ALOG" ' exit'
	run -0 grep ' exit$' "$ALOG"
	assert_output --regexp '^192\.0\.2\.9:40001 '
}

# V2_LOCAL: a v2 header with the LOCAL command, as a health check sends.
V2_LOCAL='w:\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00'

# unlogged_are N: "-k status" counts N sessions kept out of the access log.
unlogged_are() {
	hellod -k status -C "PidFile $BATS_TEST_TMPDIR/h.pid" |
	    grep -qx "Unlogged Accesses: $1"
}

@test "UNKNOWN and LOCAL headers leave the peer's own address" {
	proxied -C "PidFile $BATS_TEST_TMPDIR/h.pid" -C 'LogLevel debug'
	run -0 client "$PORT" 'w:PROXY UNKNOWN\r\n' r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	run -0 client "$PORT" "$V2_LOCAL" r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	wait_until 5 eval '[ "$(grep -c "connection from 127.0.0.1:[0-9]* closed (exit)" "$HELLOD_ERR")" -eq 2 ]'
	wait_until 5 unlogged_are 1
	run -0 bash -c "grep ' exit\$' '$ALOG' | cut -d: -f1"
	assert_output '127.0.0.1'
}

@test "a v2 LOCAL session (a balancer's health check) is counted in the status pages, not written to the access log" {
	local sport
	sport=$(free_port)
	proxied -C "PidFile $BATS_TEST_TMPDIR/h.pid" -C "StatusListen 127.0.0.1:$sport"
	run -0 client "$PORT" "$V2_LOCAL" r 'w:exit\n' rest
	run -0 client "$PORT" "$V2_LOCAL" r 'w:exit\n' rest
	run -0 client "$PORT" 'w:PROXY TCP4 192.0.2.7 127.0.0.1 40000 9999\r\n' r 'w:exit\n' rest
	wait_until 5 unlogged_are 2
	wait_until 5 logged "$ALOG" ' exit'
	run -0 grep ' exit$' "$ALOG"
	assert_output --regexp '^192\.0\.2\.7:40000 '
	run -0 curl -sS -m 5 "http://127.0.0.1:$sport/metrics"
	assert_line 'hellod_unlogged_sessions_total 2'
	# start_hellod's probe of the port is a session too.
	assert_line 'hellod_sessions_total 4'
	run -0 curl -sS -m 5 "http://127.0.0.1:$sport/server-status?auto"
	assert_line 'Unlogged Accesses: 2'
	assert_line 'Total Accesses: 4'
}

@test "LogExclude keeps the clients it names out of the access log: several ranges a line, repeatable" {
	proxied -C "PidFile $BATS_TEST_TMPDIR/h.pid" \
	    -C 'LogExclude 192.0.2.0/24 198.51.100.7' -C 'LogExclude 2001:db8::/32'
	local from
	for from in 'TCP4 192.0.2.7 127.0.0.1' 'TCP4 198.51.100.7 127.0.0.1' \
	    'TCP6 2001:db8::7 ::1' 'TCP4 203.0.113.5 127.0.0.1'; do
		run -0 client "$PORT" "w:PROXY $from 40000 9999\\r\\n" r 'w:exit\n' rest
		assert_output $'welcome!\nclosed'
	done
	wait_until 5 unlogged_are 3
	wait_until 5 logged "$ALOG" ' exit'
	run -0 bash -c "grep ' exit\$' '$ALOG' | cut -d' ' -f1"
	assert_output '203.0.113.5:40000'
	run -0 hellod -t -C 'LogExclude 10.0.0.0/8 ::1'
	run -1 --separate-stderr hellod -t -C 'LogExclude example.org'
	assert_equal "$stderr" $'hellod: -C \'LogExclude example.org\': LogExclude: bad address range "example.org": expected an IPv4 or IPv6 address, optionally with /bits\nSyntax error'
}

@test "LogExclude without ProxyProtocol: the peer's own address" {
	start_hellod -w 1 -C "CustomLog $ALOG" -C "PidFile $BATS_TEST_TMPDIR/h.pid" \
	    -C 'LogExclude 127.0.0.0/8'
	# start_hellod's own probe is one session, this the second.
	run -0 client "$PORT" r 'w:exit\n' rest
	wait_until 5 unlogged_are 2
	run -0 cat "$ALOG"
	assert_output ''
}

@test "a client that speaks first is closed without a greeting, and the log says why" {
	proxied
	run -0 client "$PORT" 'w:michael\n' rest
	assert_output 'closed'
	wait_until 5 logged "$HELLOD_ERR" 'without a greeting: not a PROXY protocol header'
	run -0 grep -c 'closed 127\.0\.0\.1:[0-9]* without a greeting' "$HELLOD_ERR"
	wait_until 5 logged "$ALOG" ' 0 8 0 bad-proxy'
	run -0 grep ' 0 8 0 bad-proxy$' "$ALOG"
	assert_output --regexp '^127\.0\.0\.1:[0-9]+ \[.*\] [0-9.]+ 0 8 0 bad-proxy$'
}

@test "malformed, oversized and inconsistent headers are refused, each with its reason" {
	proxied
	local f=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
	run -0 client "$PORT" 'w:PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n' rest
	assert_output 'closed'
	run -0 client "$PORT" "w:PROXY UNKNOWN $f $f 65535 65535 \\r\\n" rest
	assert_output 'closed'
	# v2 announcing 65535 bytes: past the 1024 the server takes.
	run -0 client "$PORT" 'w:\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff' rest
	assert_output 'closed'
	# v2 IPv6 with only IPv4's 12 bytes of addresses.
	run -0 client "$PORT" 'w:\r\n\r\n\x00\r\nQUIT\n\x21\x21\x00\x0c\x7f\x00\x00\x01\x7f\x00\x00\x01\x9c\x41\x27\x0f' rest
	assert_output 'closed'
	wait_until 5 logged "$HELLOD_ERR" 'v2: length too short for the address family'
	run -0 grep -c 'without a greeting: v1: bad destination address or port$' "$HELLOD_ERR"
	run -0 grep -c 'without a greeting: v1: no CRLF in the first 107 bytes$' "$HELLOD_ERR"
	run -0 grep -c 'without a greeting: v2: header longer than 1024 bytes$' "$HELLOD_ERR"
}

@test "a header that never completes is cut at the deadline, without a greeting" {
	proxied -C 'Timeout 1'
	run -0 client "$PORT" 'w:PROXY TCP4 192.0.2.7 127.0' rest
	assert_output 'closed'
	wait_until 5 logged "$HELLOD_ERR" 'without a greeting: no complete PROXY header within 1 s'
	# The worker is free again: the next client is served.
	run -0 client "$PORT" 'w:PROXY UNKNOWN\r\nexit\n' rest
	assert_output $'welcome!\nclosed'
}

@test "a header cut short by the client's end of file is refused" {
	proxied
	run -0 client "$PORT" 'w:\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x7f' shut rest
	assert_output 'closed'
	wait_until 5 logged "$HELLOD_ERR" 'without a greeting: closed before its PROXY header'
	wait_until 5 logged "$ALOG" ' 0 17 0 bad-proxy'
}

@test "a header from a peer outside ProxyAllow is refused; one inside is believed" {
	proxied -C 'ProxyAllow 10.0.0.0/8' -C 'ProxyAllow 127.0.0.2' -C 'ProxyAllow ::1'
	run -0 client "$PORT" 'w:PROXY TCP4 192.0.2.7 127.0.0.1 40000 9999\r\n' rest
	assert_output 'closed'
	wait_until 5 logged "$HELLOD_ERR" 'without a greeting: peer not in ProxyAllow'
	run -0 client --from 127.0.0.2 "$PORT" 'w:PROXY TCP4 192.0.2.8 127.0.0.1 40000 9999\r\n' r 'w:exit\n' rest
	assert_output $'welcome!\nclosed'
	wait_until 5 logged "$ALOG" ' exit'
	run -0 grep -c '^192\.0\.2\.8:40000 .* exit$' "$ALOG"
}

@test "with ProxyProtocol off a PROXY line is just a line" {
	start_hellod -w 1
	run -0 client "$PORT" r 'w:PROXY UNKNOWN\r\nexit\n' rest
	assert_output $'welcome!\nhello, PROXY UNKNOWN!\nclosed'
}

@test "hellod -t checks ProxyProtocol and ProxyAllow" {
	run -0 hellod -t -C 'ProxyProtocol on' -C 'ProxyAllow 10.0.0.0/8' -C 'ProxyAllow fd00::/8' -C 'ProxyAllow 192.0.2.1'
	run -1 --separate-stderr hellod -t -C 'ProxyProtocol yes'
	assert_equal "$stderr" $'hellod: -C \'ProxyProtocol yes\': ProxyProtocol: bad value "yes": expected on or off\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'ProxyAllow 10.0.0.1/8'
	assert_equal "$stderr" $'hellod: -C \'ProxyAllow 10.0.0.1/8\': ProxyAllow: bad address range "10.0.0.1/8": bits set past the /8 prefix\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'ProxyAllow localhost'
	assert_equal "$stderr" $'hellod: -C \'ProxyAllow localhost\': ProxyAllow: bad address range "localhost": expected an IPv4 or IPv6 address, optionally with /bits\nSyntax error'
	# Several ranges a line, as StatusAllow takes them.
	run -0 hellod -t -C 'ProxyAllow 10.0.0.0/8 ::1' -C 'ProxyAllow 192.0.2.1'
	local many=() i
	for i in $(seq 1 33); do many+=(-C "ProxyAllow 10.0.0.$i"); done
	run -1 --separate-stderr hellod -t "${many[@]}"
	assert_equal "$stderr" $'hellod: -C \'ProxyAllow 10.0.0.33\': ProxyAllow: more than 32 address ranges\nSyntax error'
}
