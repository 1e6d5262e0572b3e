#!/usr/bin/env bats
# Issue 12: the status listener (StatusListen, StatusAllow): the ?auto
# text, the full page, /metrics, every error, clients that never finish,
# the status process's restart, -k status and -k fullstatus.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	SPORT=$(free_port)
}

teardown() {
	[ -z "${HOLD_PID:-}" ] || kill "$HOLD_PID" 2>/dev/null || true
	# The new master of an upgrade is not our child: stop it by its file.
	kill_daemon "$PIDF"
	stop_hellod
}

# start_status ARGS...: hellod with a status listener on $SPORT.
start_status() {
	start_hellod -C "StatusListen 127.0.0.1:$SPORT" -C "PidFile $PIDF" "$@"
	wait_until 5 status_running
}

# The master has forked the status process (port_open alone would not
# tell: the listener accepts into its backlog before that).
status_running() {
	[ -n "$(status_pid)" ]
}

# geti ARGS...: curl -i, with the CRs of the head taken out.
geti() {
	curl -sS -i -m 10 "$@" | tr -d '\r'
}

get() {
	curl -sS -m 10 "http://127.0.0.1:$SPORT$1"
}

auto_says() {
	get '/server-status?auto' | grep -qx -- "$1"
}

# metric NAME: its value in /metrics.
metric() {
	get /metrics | awk -v n="$1" '$1 == n { print $2 }'
}

metric_is() {
	[ "$(metric "$1")" = "$2" ]
}

# raw: send stdin to the status port as it is; print the answer, with
# the CRs of its head taken out.
raw() {
	talk "$SPORT" | tr -d '\r'
}

# keys: the field names of an ?auto text on stdin (the host line apart).
keys() {
	sed -n '2,$s/^\([^:]*\):.*/\1/p'
}

# status_pid: the status process, from the master's log ($STATUS_LOG,
# by default its stderr).
status_pid() {
	sed -n 's/.*status listener on .* (pid \([0-9]*\))$/\1/p' \
	    "${STATUS_LOG:-$HELLOD_ERR}" 2>/dev/null | tail -n 1
}

AUTO_KEYS='ServerVersion
ServerMPM
Server Built
CurrentTime
RestartTime
ParentServerConfigGeneration
ParentServerMPMGeneration
ServerUptimeSeconds
ServerUptime
Load1
Load5
Load15
Total Accesses
Total kBytes
Total Duration
CPUUser
CPUSystem
CPUChildrenUser
CPUChildrenSystem
CPULoad
Uptime
ReqPerSec
BytesPerSec
BytesPerReq
DurationPerReq
ServerPid
Total Messages
Unlogged Accesses
MinSpareServers
MaxSpareServers
BusyWorkers
GracefulWorkers
IdleWorkers
Processes
Stopping
ConnsTotal
ConnsAsyncWriting
ConnsAsyncKeepAlive
ConnsAsyncClosing
Scoreboard'

@test "?auto: Apache 2.4's fields in its order; the scoreboard as wide as the pool can grow" {
	start_status -C 'StartServers 2' -C 'MinSpareServers 1' \
	    -C 'MaxSpareServers 5' -C 'MaxRequestWorkers 6'
	wait_until 5 auto_says 'IdleWorkers: 2'
	# start_hellod's probe of the port was a session already.
	local base
	base=$(get '/server-status?auto' | sed -n 's/^Total Accesses: //p')
	talk "$PORT" --half-close <<<'x' >/dev/null
	wait_until 5 auto_says "Total Accesses: $((base + 1))"
	# The CPU load and the rates show once there is something to show.
	wait_until 10 auto_says 'ServerUptimeSeconds: [1-9][0-9]*'
	run -0 geti "http://127.0.0.1:$SPORT/server-status?auto"
	assert_line --index 0 'HTTP/1.1 200 OK'
	assert_line 'Content-Type: text/plain; charset=ISO-8859-1'
	assert_line 'Connection: close'
	run -0 get '/server-status?auto'
	assert_line --index 0 "$(hostname)"
	assert_line --regexp '^ServerVersion: hellod/[0-9]+\.[0-9]+\.[0-9]+$'
	assert_line 'ServerMPM: prefork'
	assert_line 'ParentServerConfigGeneration: 1'
	assert_line 'ParentServerMPMGeneration: 0'
	assert_line "ServerPid: $HELLOD_PID"
	assert_line 'Scoreboard: __....'
	assert_line --regexp '^Total Duration: [0-9]+$'
	run -0 keys <<<"$output"
	if ! grep -q '^CPULoad$' <<<"$output"; then
		# No CPU time counted yet: Apache leaves CPULoad out then.
		assert_output "$(grep -v '^CPULoad$' <<<"$AUTO_KEYS")"
	else
		assert_output "$AUTO_KEYS"
	fi
}

@test "-k status prints the same fields and scoreboard as /server-status?auto" {
	start_status -w 3
	wait_until 5 auto_says 'IdleWorkers: 3'
	run -0 hellod -k status -C "PidFile $PIDF"
	assert_line 'Scoreboard: ___'
	assert_line 'BusyWorkers: 0'
	local k=$(keys <<<"$output")
	run -0 get '/server-status?auto'
	assert_line 'Scoreboard: ___'
	[ "$(keys <<<"$output" | grep -v CPULoad)" = "$(grep -v CPULoad <<<"$k")" ]
}

@test "/server-status/?auto and ?refresh=5&auto are the short form too; HEAD sends no body" {
	start_status -w 1
	run -0 get '/server-status/?auto'
	assert_line 'ServerMPM: prefork'
	run -0 get '/server-status?refresh=5&auto'
	assert_line 'ServerMPM: prefork'
	run -0 raw < <(printf 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 200 OK'
	assert_line --regexp '^Content-Length: [1-9][0-9]*$'
	assert_line 'Content-Type: text/plain; version=0.0.4; charset=utf-8'
	# The head ends with an empty line, and nothing comes after it.
	[ "${lines[-1]}" = 'Connection: close' ]
}

@test "/server-status: one line per worker; -k fullstatus prints the same page" {
	start_status -w 2
	wait_until 5 auto_says 'IdleWorkers: 2'
	local w base
	base=$(get '/server-status?auto' | sed -n 's/^Total Accesses: //p')
	talk "$PORT" --half-close <<<$'a\nb' >/dev/null
	wait_until 5 auto_says "Total Accesses: $((base + 1))"
	for page in web ctl; do
		if [ "$page" = web ]; then
			run -0 get /server-status
		else
			run -0 hellod -k fullstatus -C "PidFile $PIDF"
		fi
		assert_line --index 0 --regexp "^hellod status for .* \\(pid $HELLOD_PID\\)$"
		assert_line ' Slot     PID   Gen M    Open      SS  Sessions  Messages        Bytes  Client'
		for w in $(children "$HELLOD_PID"); do
			[ "$w" = "$(status_pid)" ] && continue
			assert_line --regexp "^ +[01] +$w +0 _ +0 +[0-9]+ +[0-9]+ +[02] +[0-9]+  "
		done
		# The worker that served the session: 2 messages, and its client.
		assert_line --regexp '^ +[01] +[0-9]+ +0 _ +0 +[0-9]+ +[1-9][0-9]* +2 +[0-9]+  127\.0\.0\.1:[0-9]+$'
	done
}

# open_in_slots: the workers' lines of -k fullstatus with sessions open,
# as "OPEN CLIENT-ADDRESS" (the Open column, the client without port).
open_in_slots() {
	hellod -k fullstatus -C "PidFile $PIDF" |
	    awk 'NF == 10 && $4 ~ /^[_SRWG]$/ && $5 > 0 {
		sub(/:[0-9]+$/, "", $NF); print $5, $NF }' | sort
}

@test "sessions open now: ConnsTotal and the other Conns* in ?auto, Open in fullstatus, /metrics by worker" {
	start_status -w 3
	run -0 get '/server-status?auto'
	assert_line 'ConnsTotal: 0'
	assert_line 'Processes: 3'
	assert_line 'Stopping: 0'
	# Two sessions held open: the first from 127.0.0.1, the next from
	# 127.0.0.2 (hellobench -B).
	hellobench -H 1 -c 2 -B 127.0.0.2 127.0.0.1 "$PORT" >/dev/null \
	    2>"$BATS_TEST_TMPDIR/hb.err" 3>&- &
	HOLD_PID=$!
	wait_until 5 grep -q holding "$BATS_TEST_TMPDIR/hb.err"
	run -0 get '/server-status?auto'
	assert_line 'ConnsTotal: 2'
	# A prefork worker holds its session itself: none is async.
	assert_line 'ConnsAsyncWriting: 0'
	assert_line 'ConnsAsyncKeepAlive: 0'
	assert_line 'ConnsAsyncClosing: 0'
	run -0 open_in_slots
	assert_output "$(printf '1 127.0.0.1\n1 127.0.0.2')"
	run -0 get /metrics
	assert_line 'hellod_sessions_open{state="all"} 2'
	run -0 awk '/^hellod_worker_sessions_open/ { n++; s += $2 } END { print n, s }' <<<"$output"
	assert_output '3 2'
	wait "$HOLD_PID"
	HOLD_PID=
	wait_until 5 auto_says 'ConnsTotal: 0'
}

@test "/metrics: every line parses; counters rise by exactly N after N sessions" {
	start_status -w 2
	get /metrics >"$BATS_TEST_TMPDIR/m0"
	run -0 promcheck "$BATS_TEST_TMPDIR/m0"
	local s0 m0 in0 out0 c0
	s0=$(metric hellod_sessions_total)
	m0=$(metric hellod_messages_total)
	in0=$(metric hellod_bytes_received_total)
	out0=$(metric hellod_bytes_sent_total)
	c0=$(metric hellod_session_duration_seconds_count)
	local i
	for i in 1 2 3 4 5; do
		talk "$PORT" --half-close <<<$'n1\nn2' >/dev/null
	done
	wait_until 5 metric_is hellod_session_duration_seconds_count $((c0 + 5))
	get /metrics >"$BATS_TEST_TMPDIR/m1"
	run -0 promcheck "$BATS_TEST_TMPDIR/m1"
	assert_line "hellod_sessions_total{} $((s0 + 5))"
	assert_line "hellod_messages_total{} $((m0 + 10))"
	# In: "n1\nn2\n"; out: "welcome!\n" and two "hello, nX!\n".
	assert_line "hellod_bytes_received_total{} $((in0 + 30))"
	assert_line "hellod_bytes_sent_total{} $((out0 + 155))"
	assert_line "hellod_session_duration_seconds_bucket{le=\"+Inf\"} $((c0 + 5))"
	assert_line 'hellod_workers{state="idle"} 2'
	assert_line 'hellod_generation{} 0'
	assert_line 'hellod_max_request_workers{} 2'
	assert_line "hellod_listen_queue{listen=\"127.0.0.1:$PORT\"} 0"
	assert_line --regexp '^hellod_start_time_seconds\{\} [0-9]{10}$'
	assert_line 'hellod_worker_exits_total{reason="crash_at_start"} 0'
}

@test "/metrics counts worker exits by reason" {
	start_status -w 1 -C 'MaxConnectionsPerChild 1'
	wait_until 5 metric_is 'hellod_workers{state="idle"}' 1
	local n0
	n0=$(metric 'hellod_worker_exits_total{reason="normal"}')
	talk "$PORT" --half-close <<<'a' >/dev/null
	wait_until 5 metric_is 'hellod_worker_exits_total{reason="normal"}' $((n0 + 1))
	wait_until 5 metric_is 'hellod_workers{state="idle"}' 1
	sleep 1.1	# past "right after starting"
	local w
	w=$(get /server-status | awk '$4 == "_" { print $2 }')
	kill -KILL "$w"
	wait_until 5 metric_is 'hellod_worker_exits_total{reason="signal"}' 1
}

@test "errors: 404, 405 with Allow, 400 (Content-Length with Transfer-Encoding too), 414, 431, 505; every answer closes" {
	start_status -w 1
	run -0 geti "http://127.0.0.1:$SPORT/nope"
	assert_line --index 0 'HTTP/1.1 404 Not Found'
	assert_line 'Connection: close'
	run -0 geti -X POST "http://127.0.0.1:$SPORT/metrics"
	assert_line --index 0 'HTTP/1.1 405 Method Not Allowed'
	assert_line 'Allow: GET, HEAD'
	assert_line 'Connection: close'
	run -0 raw < <(printf 'GET /metrics HTTP/1.1\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 400 Bad Request'
	assert_line 'Connection: close'
	run -0 raw < <(printf 'GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 400 Bad Request'
	# RFC 9112 section 6.1: Content-Length with Transfer-Encoding may
	# be smuggling a request; either alone is no error.
	run -0 raw < <(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 400 Bad Request'
	run -0 raw < <(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 0\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 400 Bad Request'
	run -0 raw < <(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 200 OK'
	run -0 raw < <(printf 'GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 505 HTTP Version Not Supported'
	run -0 raw < <(printf 'GET /%05000d HTTP/1.1\r\nHost: x\r\n\r\n' 0)
	assert_line --index 0 'HTTP/1.1 414 URI Too Long'
	run -0 raw < <(printf 'GET / HTTP/1.1\r\nHost: x\r\nX: %05000d\r\n\r\n' 0)
	assert_line --index 0 'HTTP/1.1 431 Request Header Fields Too Large'
	# The listener still serves.
	run -0 get /metrics
	assert_line --index 0 '# HELP hellod_sessions_total Sessions accepted.'
}

@test "a status request line is logged escaped: nothing a client sends reaches the log raw" {
	start_status -w 1 -C 'LogLevel info'
	# A line that would clear the terminal's line and forge a log line.
	run -0 raw < <(printf 'GET /\e[2K\e[1G[2026-12-03 09:00:00] [notice] master: stopped HTTP/1.1\r\nHost: x\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 400 Bad Request'
	run -0 raw < <(printf 'GET /a"b\\c?\x9b\x07 HTTP/1.1\r\nHost: x\r\n\r\n')
	assert_line --index 0 'HTTP/1.1 400 Bad Request'
	wait_until 5 grep -q 'c?' "$HELLOD_ERR"
	run -0 grep -E '^\[[^]]*\] \[info\] \[pid [0-9]+\] status: 127\.0\.0\.1:[0-9]+ "GET /' "$HELLOD_ERR"
	assert_line --index 0 --regexp ' "GET /\\x1b\[2K\\x1b\[1G\[2026-12-03 09:00:00\] \[notice\] master: stopped HTTP/1\.1" 400$'
	assert_line --index 1 --regexp ' "GET /a\\"b\\\\c\?\\x9b\\x07 HTTP/1\.1" 400$'
	# No escape, bell or C1 byte in the whole log.
	run -1 grep -c $'[\e\a]\|\x9b' "$HELLOD_ERR"
}

@test "408 for a request that does not complete within 5 seconds" {
	start_status -w 1
	run -0 raw < <(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n')
	assert_line --index 0 'HTTP/1.1 408 Request Timeout'
	assert_line 'Connection: close'
}

# refused_storm N: N connections to the status port, one after another,
# each sending a whole request; print how many got a byte back and how
# many were not closed within 500 ms.
refused_storm() {
	python3 - "$SPORT" "$1" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
answered = slow = 0
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), 2)
    t = time.monotonic()
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(2)
        while True:
            b = s.recv(4096)
            if not b:
                break
            answered += 1
    except OSError:
        pass            # a reset: closed with the request unread
    if time.monotonic() - t > 0.5:
        slow += 1
    s.close()
print(answered, slow)
PY
}

# refused_total: the clients the log says were refused, summed.
refused_total() {
	awk '/: not in StatusAllow$/ { n++ }
	    / clients not in StatusAllow within a second/ {
		for (i = 1; i < NF; i++) if ($i == "refused") n += $(i + 1) }
	    END { print n + 0 }' "$HELLOD_ERR"
}

# status_refuses: a client of ours is closed at once, unanswered.
status_refuses() {
	[ "$(refused_storm 1)" = '0 0' ]
}

refused_are() {
	[ "$(refused_total)" -eq "$1" ]
}

@test "a client outside StatusAllow is closed at once, unanswered; StatusAllow 127.0.0.1 lets it in" {
	start_status -w 1 -C 'StatusAllow 192.0.2.0/24 2001:db8::/32'
	# Closed before its request is read: no 403, no 408 five seconds on.
	run -0 refused_storm 1
	assert_output '0 0'
	run -0 grep -c ': not in StatusAllow$' "$HELLOD_ERR"
	assert_output 1
	run -0 grep -E 'refused 127\.0\.0\.1:[0-9]+: not in StatusAllow$' "$HELLOD_ERR"
	stop_hellod
	start_status -w 1 -C 'StatusAllow 192.0.2.0/24 127.0.0.1'
	run -0 geti "http://127.0.0.1:$SPORT/metrics"
	assert_line --index 0 'HTTP/1.1 200 OK'
}

@test "a storm of clients outside StatusAllow: each closed at once, a log line a second, allowed clients served" {
	python3 -c 'import socket; socket.socket().bind(("127.0.0.2", 0))' ||
	    skip "no 127.0.0.2 here"
	# 127.0.0.1 is refused; 127.0.0.2 is the monitoring host.
	start_status -w 1 -C 'StatusAllow 127.0.0.2'
	run -0 curl -sS -m 3 --interface 127.0.0.2 "http://127.0.0.1:$SPORT/metrics"
	assert_line 'hellod_generation 0'
	refused_storm 200 >"$BATS_TEST_TMPDIR/storm" 3>&- &
	local storm=$!
	local i ok=0
	for i in 1 2 3 4 5; do
		curl -sS -m 3 --interface 127.0.0.2 \
		    "http://127.0.0.1:$SPORT/metrics" | grep -qx 'hellod_generation 0' &&
		    ok=$((ok + 1))
	done
	wait "$storm"
	[ "$ok" -eq 5 ]
	run -0 cat "$BATS_TEST_TMPDIR/storm"
	assert_output '0 0'
	# Every refusal is counted, in a few lines (the last within a second).
	wait_until 5 refused_are 200
	run -0 grep -c 'not in StatusAllow' "$HELLOD_ERR"
	[ "$output" -le 6 ]
}

@test "40 clients sending half a request delay neither status, nor hello, nor the master" {
	start_status -w 2
	python3 "$TOP/test/halfreq.py" "$SPORT" --hold 40 \
	    --ready "$BATS_TEST_TMPDIR/held" 3>&- &
	HOLD_PID=$!
	wait_until 10 test -e "$BATS_TEST_TMPDIR/held"
	run -0 curl -sS -m 3 "http://127.0.0.1:$SPORT/server-status?auto"
	assert_line 'ServerMPM: prefork'
	run -0 talk "$PORT" --half-close <<<'still'
	assert_output $'welcome!\nhello, still!'
	kill -HUP "$HELLOD_PID"
	wait_until 10 auto_says 'ParentServerMPMGeneration: 1'
	run -0 curl -sS -m 3 "http://127.0.0.1:$SPORT/metrics"
	assert_line 'hellod_generation 1'
}

@test "EMFILE: the status process pauses accepting, says so once, and does not spin" {
	start_status -w 1
	local sp t0 t1
	sp=$(status_pid)
	# Few descriptors: about twenty held clients use them all up.
	prlimit --pid "$sp" --nofile=30:30
	python3 "$TOP/test/halfreq.py" "$SPORT" --hold 200 \
	    --ready "$BATS_TEST_TMPDIR/held" 3>&- &
	HOLD_PID=$!
	wait_until 10 test -e "$BATS_TEST_TMPDIR/held"
	# Two seconds, well before the held clients' 408s free anything.
	t0=$(cpu_ticks "$sp")
	sleep 2
	t1=$(cpu_ticks "$sp")
	[ $((t1 - t0)) -lt 20 ] || fail "status process: $((t1 - t0)) ticks in 2 s"
	run -0 grep -c 'status listener: accept: Too many open files' "$HELLOD_ERR"
	assert_output 1
	# Once the clients go, it serves again, and says so.
	kill "$HOLD_PID"
	wait "$HOLD_PID" 2>/dev/null || true
	HOLD_PID=
	wait_until 10 auto_says 'ServerMPM: prefork'
	grep -q 'status: accepting status clients again' "$HELLOD_ERR"
}

@test "the status process is forked again when it dies" {
	start_status -w 1
	local old
	old=$(status_pid)
	[ -n "$old" ]
	kill -KILL "$old"
	wait_until 10 eval '[ "$(status_pid)" != "$old" ]'
	wait_until 5 auto_says 'ServerMPM: prefork'
	grep -q "status process (pid $old) killed by signal" "$HELLOD_ERR"
	# Workers were not touched.
	run -0 talk "$PORT" --half-close <<<'x'
	assert_output $'welcome!\nhello, x!'
}

@test "a restart keeps the listener and applies a new StatusAllow" {
	local conf="$BATS_TEST_TMPDIR/h.conf"
	printf 'StatusListen 127.0.0.1:%s\nPidFile %s\n' "$SPORT" "$PIDF" >"$conf"
	start_hellod -w 1 -f "$conf"
	wait_until 5 port_open "$SPORT"
	run -0 get '/server-status?auto'
	assert_line 'ParentServerMPMGeneration: 0'
	echo 'StatusAllow 192.0.2.1' >>"$conf"
	kill -HUP "$HELLOD_PID"
	wait_until 10 status_refuses
	run -0 hellod -k status -C "PidFile $PIDF"
	assert_line 'ParentServerMPMGeneration: 1'
	assert_line 'ParentServerConfigGeneration: 2'
}

@test "-k reopen: the status process logs to the new ErrorLog" {
	local log="$BATS_TEST_TMPDIR/error.log"
	STATUS_LOG=$log
	start_status -w 1 -C "ErrorLog $log" -C 'LogLevel info'
	get /metrics >/dev/null
	wait_until 5 grep -q 'status: 127.0.0.1:[0-9]* "GET /metrics HTTP/1.1" 200$' "$log"
	mv "$log" "$log.1"
	run -0 hellod -k reopen -C "PidFile $PIDF"
	wait_until 5 test -e "$log"
	wait_until 5 auto_says 'ServerMPM: prefork'
	get /metrics >/dev/null
	wait_until 5 grep -q 'status: 127.0.0.1:[0-9]* "GET /metrics HTTP/1.1" 200$' "$log"
}

@test "-k upgrade: the new master takes the status listener over (it could not bind it)" {
	start_status -w 1
	local old=$HELLOD_PID new
	run -0 --separate-stderr hellod -k upgrade -C "PidFile $PIDF"
	new=$(cat "$PIDF")
	[ "$new" != "$old" ]
	wait_until 40 pid_gone "$old"
	wait "$old" || true
	HELLOD_PID=
	wait_until 5 auto_says "ServerPid: $new"
	run -0 get /metrics
	assert_line 'hellod_generation 0'
}

@test "the master's death ends the status process and frees its port" {
	start_status -w 1
	local sp
	sp=$(status_pid)
	kill -KILL "$HELLOD_PID"
	wait "$HELLOD_PID" 2>/dev/null || true
	HELLOD_PID=
	wait_until 5 pid_gone "$sp"
	wait_until 5 port_closed "$SPORT"
}

@test "stop closes the status listener" {
	start_status -w 1
	stop_hellod
	port_closed "$SPORT"
}

@test "StatusListen and StatusAllow errors are reported before starting" {
	run -1 --separate-stderr hellod -t -l 127.0.0.1:9999 -C 'StatusListen 127.0.0.1:9999'
	assert_equal "$stderr" $'hellod: StatusListen 127.0.0.1:9999 is also a Listen address\nSyntax error'
	run -1 --separate-stderr hellod -t -C 'StatusAllow 10.0.0.0/8 300.1.1.1/8'
	assert_equal "${stderr%%$'\n'*}" "hellod: -C 'StatusAllow 10.0.0.0/8 300.1.1.1/8': StatusAllow: bad address range \"300.1.1.1/8\": expected an IPv4 or IPv6 address, optionally with /bits"
	run -0 hellod -t -C 'StatusListen none'
	# Several ranges on a line, or one a line.
	run -0 hellod -t -C 'StatusAllow 10.0.0.0/8 ::1' -C 'StatusAllow 192.0.2.1'
}

@test "a StatusListen port in use: hellod does not start" {
	python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(30)' "$SPORT" "$BATS_TEST_TMPDIR/busy" 3>&- &
	HOLD_PID=$!
	wait_until 5 test -e "$BATS_TEST_TMPDIR/busy"
	run -2 --separate-stderr hellod -l "127.0.0.1:$(free_port)" -C "StatusListen 127.0.0.1:$SPORT"
	assert_output ''
	assert_equal "$stderr" "hellod: cannot listen on 127.0.0.1:$SPORT: Address already in use"
}

@test "a reader never counts a reaped worker twice (sb_reap against sb_snapshot)" {
	run -0 status_test race 20000000
	assert_output --regexp '^ok 20000000 after [0-9]+ snapshots$'
}
