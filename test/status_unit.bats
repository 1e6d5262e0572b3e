#!/usr/bin/env bats
# Unit-level tests of the status listener's pure pieces through
# test/status_test: the HTTP request parser, fed whole and a byte at a
# time, and the three texts made from a fixed snapshot.

bats_require_minimum_version 1.5.0

setup() {
	load helper
}

# req BYTES [STEP]: parse BYTES (printf escapes) a STEP at a time.
req() {
	printf "$1" | status_test req -s "${2:-1}"
}

@test "parser: a request, whole and byte by byte" {
	run -0 req 'GET /server-status?auto HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n' 0
	assert_output '200 GET path=/server-status query=auto minor=1 head=60'
	run -0 req 'GET /server-status?auto HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n' 1
	assert_output '200 GET path=/server-status query=auto minor=1 head=60'
}

@test "parser: HEAD, other methods, HTTP/1.0 without Host, bare LF, empty lines first" {
	run -0 req 'HEAD /metrics HTTP/1.1\nHost: h:1\n\n'
	assert_output '200 HEAD path=/metrics minor=1 head=34'
	run -0 req 'DELETE /metrics HTTP/1.1\r\nHost: h\r\n\r\n'
	assert_output '200 OTHER path=/metrics minor=1 head=37'
	run -0 req 'GET / HTTP/1.0\r\n\r\n'
	assert_output '200 GET path=/ minor=0 head=18'
	run -0 req '\r\n\nGET / HTTP/1.0\r\n\r\n'
	assert_output '200 GET path=/ minor=0 head=21'
}

@test "parser: absolute form; the body is not read" {
	run -0 req 'GET http://example.org:81/server-status?auto HTTP/1.1\r\nHost: example.org:81\r\nContent-Length: 4\r\n\r\nBODY'
	assert_output '200 GET path=/server-status query=auto minor=1 head=98'
	run -0 req 'GET http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n'
	assert_output '200 GET path=/ minor=1 head=54'
}

@test "parser: incomplete heads wait for more" {
	run -0 req 'GET /metrics HTTP/1.1\r\nHost: x\r\n'
	assert_output '0'
	run -0 req 'GET /metr'
	assert_output '0'
	run -0 req ''
	assert_output '0'
}

@test "parser: malformed request lines are 400 at once" {
	local bad
	for bad in 'GET  / HTTP/1.1\r\n' 'GET / HTTP/1.1 \r\n' 'GET /\r\n' \
	    ' GET / HTTP/1.1\r\n' 'GET / http/1.1\r\n' 'GET / HTTP/1.10\r\n' \
	    'G(T / HTTP/1.1\r\n' 'GET /a\001b HTTP/1.1\r\n' 'GET / HTTP/1.1\rX\n' \
	    'GET /\x7f HTTP/1.1\r\n'; do
		run -0 req "$bad"
		assert_output '400'
	done
}

@test "parser: malformed header fields are 400" {
	local bad
	for bad in 'Host : x' 'Host' ': x' 'Ho st: x' 'X: a\001b' ' folded: x' \
	    'X: a\rb'; do
		run -0 req "GET / HTTP/1.1\r\nHost: h\r\n$bad\r\n\r\n"
		assert_output '400'
	done
}

@test "parser: HTTP/1.1 needs exactly one Host; Content-Length at most once" {
	run -0 req 'GET / HTTP/1.1\r\n\r\n'
	assert_output '400'
	run -0 req 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'
	assert_output '400'
	run -0 req 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n'
	assert_output '400'
}

@test "parser: another major version is 505" {
	run -0 req 'GET / HTTP/2.0\r\n'
	assert_output '505'
	run -0 req 'GET / HTTP/0.9\r\n\r\n'
	assert_output '505'
}

@test "parser: an over-long request line is 414, even before it ends" {
	local long
	long=$(printf 'a%.0s' $(seq 4100))
	run -0 req "GET /$long HTTP/1.1\r\nHost: x\r\n\r\n" 1000
	assert_output '414'
	run -0 req "GET /$long" 0
	assert_output '414'
}

@test "parser: over-long or too many header fields are 431" {
	local long i many=''
	long=$(printf 'a%.0s' $(seq 4100))
	run -0 req "GET / HTTP/1.1\r\nHost: x\r\nX: $long\r\n\r\n" 1000
	assert_output '431'
	for i in $(seq 65); do many="${many}X-$i: v\r\n"; done
	run -0 req "GET / HTTP/1.1\r\nHost: x\r\n$many\r\n" 7
	assert_output '431'
	# Many short fields that add up past the 8192-byte head.
	many=''
	for i in $(seq 60); do many="${many}X-$i: $(printf 'b%.0s' $(seq 150))\r\n"; done
	run -0 req "GET / HTTP/1.1\r\nHost: x\r\n$many\r\n" 100
	assert_output '431'
}

@test "text: ?auto has Apache 2.4's fields in Apache's order" {
	TZ=UTC run -0 status_test text auto
	assert_output "example.org
ServerVersion: hellod/1.2.3
ServerMPM: prefork
Server Built: Nov 27 2026 09:00:00
CurrentTime: Saturday, 28-Nov-2026 11:01:01 UTC
RestartTime: Friday, 27-Nov-2026 10:00:00 UTC
ParentServerConfigGeneration: 3
ParentServerMPMGeneration: 2
ServerUptimeSeconds: 90061
ServerUptime: 1 day 1 hour 1 minute 1 second
Load1: 0.50
Load5: 0.25
Load15: 0.12
Total Accesses: 1000
Total kBytes: 118
Total Duration: 123456
CPUUser: 1.5
CPUSystem: 0.25
CPUChildrenUser: 10
CPUChildrenSystem: 2.25
CPULoad: 0.015545
Uptime: 90061
ReqPerSec: 0.0111036
BytesPerSec: 1.34167
BytesPerReq: 120.832
DurationPerReq: 123.456
ServerPid: 4242
Total Messages: 5000
Unlogged Accesses: 0
MinSpareServers: 1
MaxSpareServers: 3
BusyWorkers: 2
GracefulWorkers: 1
IdleWorkers: 1
Processes: 4
Stopping: 1
ConnsTotal: 42
ConnsAsyncWriting: 2
ConnsAsyncKeepAlive: 37
ConnsAsyncClosing: 1
Scoreboard: _W.RG"
}

@test "text: the full page has one line per worker" {
	TZ=UTC run -0 status_test text full
	assert_line --index 0 'hellod status for example.org (pid 4242)'
	assert_line 'Server uptime: 1 day 1 hour 1 minute 1 second'
	assert_line '2 sessions being served, 1 worker finishing, 1 idle worker, 0 starting'
	assert_line '42 sessions open: 37 waiting for a line in an event loop, 2 writing, 1 closing'
	assert_line '_W.RG'
	assert_line ' Slot     PID   Gen M    Open      SS  Sessions  Messages        Bytes  Client'
	assert_line '    0     101     2 _       0       5        10        50          900  -'
	assert_line '    1     102     2 W       1       1         7         3          120  127.0.0.1:50000'
	assert_line '    3     103     2 R      40       0         1         0            0  [::1]:40000'
	assert_line '    4      99     1 G       1      30         4         8           64  10.0.0.1:1234'
	refute_line --regexp '^ +(2|5) '
}

@test "text: metrics in Prometheus text format, histogram cumulative" {
	run -0 status_test text metrics
	assert_line '# TYPE hellod_sessions_total counter'
	assert_line 'hellod_sessions_total 1000'
	assert_line 'hellod_bytes_received_total 40000'
	assert_line 'hellod_bytes_sent_total 80960'
	assert_line 'hellod_workers{state="writing"} 1'
	assert_line 'hellod_worker_exits_total{reason="crash_at_start"} 1'
	assert_line 'hellod_generation 2'
	assert_line 'hellod_max_request_workers 4'
	assert_line 'hellod_session_duration_seconds_bucket{le="0.5"} 10'
	assert_line 'hellod_session_duration_seconds_bucket{le="1"} 910'
	assert_line 'hellod_session_duration_seconds_bucket{le="+Inf"} 995'
	assert_line 'hellod_session_duration_seconds_sum 123.456'
	assert_line 'hellod_session_duration_seconds_count 995'
	assert_line 'hellod_listen_queue{listen="127.0.0.1:9999"} 3'
	assert_line 'hellod_sessions_open{state="all"} 42'
	assert_line 'hellod_sessions_open{state="waiting"} 37'
	assert_line 'hellod_sessions_open{state="writing"} 2'
	assert_line 'hellod_sessions_open{state="closing"} 1'
	assert_line 'hellod_worker_sessions_open{slot="3"} 40'
	assert_line 'hellod_worker_sessions_open{slot="4"} 1'
	refute_line --partial 'hellod_worker_sessions_open{slot="2"}'
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/m"
	run -0 promcheck "$BATS_TEST_TMPDIR/m"
}
