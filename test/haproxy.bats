#!/usr/bin/env bats
# Scale-out behind HAProxy (issue 11 item 6): Debian's haproxy in front
# of two hellod, each with ProxyProtocol on, configured as
# scripts/haproxy.cfg.sample is, with faster health checks.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load edge_helper
	command -v haproxy >/dev/null || skip "haproxy is not installed (scripts/bootstrap)"
	HAPROXY_PID=
	H1_PID=
	H2_PID=
}

teardown() {
	bg_stop
	local p
	for p in "$HAPROXY_PID" "$H1_PID" "$H2_PID"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || true
		wait_until 5 pid_gone "$p" || kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# backend N: start hellod number N (1 or 2) on its own port, with its
# own access log, behind the balancer.
backend() {
	local port
	port=$(free_port)
	hellod -l "127.0.0.1:$port" -w 4 -C 'ProxyProtocol on' \
	    -C "CustomLog $BATS_TEST_TMPDIR/access$1.log" \
	    -C "ErrorLog $BATS_TEST_TMPDIR/error$1.log" 3>&- &
	eval "H$1_PID=$! H$1_PORT=$port"
	wait_until 5 port_open "$port"
}

# balancer: HAProxy on $PORT in front of both, with a stats socket.
balancer() {
	PORT=$(free_port)
	SOCK="$BATS_TEST_TMPDIR/haproxy.sock"
	sed -e "s|^	log /dev/log local0|	stats socket $SOCK|" \
	    -e "s|^	bind :9999|	bind 127.0.0.1:$PORT|" \
	    -e "s|check inter 2s fall 2 rise 2|check inter 300ms fall 2 rise 1|" \
	    -e "s|10.0.0.11:9999|127.0.0.1:$H1_PORT|" \
	    -e "s|10.0.0.12:9999|127.0.0.1:$H2_PORT|" \
	    -e "/^	log global/d" -e "/^	option tcplog/d" \
	    "$TOP/scripts/haproxy.cfg.sample" >"$BATS_TEST_TMPDIR/haproxy.cfg"
	haproxy -db -f "$BATS_TEST_TMPDIR/haproxy.cfg" \
	    >"$BATS_TEST_TMPDIR/haproxy.out" 2>&1 3>&- &
	HAPROXY_PID=$!
	wait_until 5 port_open "$PORT"
	wait_until 10 server_is hellod1 UP
	wait_until 10 server_is hellod2 UP
}

# server_is NAME STATE: HAProxy's stats socket shows NAME in STATE.
server_is() {
	python3 - "$SOCK" "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
for line in out.decode().splitlines():
    f = line.split(",")
    if len(f) > 17 and f[1] == sys.argv[2]:
        sys.exit(0 if f[17].startswith(sys.argv[3]) else 1)
sys.exit(1)
PY
}

# sessions N: N sessions through the balancer, four at a time; each
# prints "PORT ok" (its own local port) or "PORT failed: WHY".
sessions() {
	python3 - "$PORT" "$1" <<'PY'
import socket, sys, threading, time
port, n = int(sys.argv[1]), int(sys.argv[2])
sem = threading.Semaphore(4)
lock = threading.Lock()
def one(i):
    with sem:
        try:
            s = socket.create_connection(("127.0.0.1", port), 5)
            s.settimeout(10)
            me = s.getsockname()[1]
            f = s.makefile("rb")
            got = [f.readline()]
            time.sleep(0.05)
            s.sendall(b"n%d\nexit\n" % i)
            got.append(f.readline())
            got.append(f.read())
            ok = got == [b"welcome!\n", b"hello, n%d!\n" % i, b""]
            with lock:
                print("%d %s" % (me, "ok" if ok else "failed: %r" % got), flush=True)
        except OSError as e:
            with lock:
                print("0 failed: %s" % e, flush=True)
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
PY
}

@test "haproxy: the sample configuration is valid" {
	run -0 haproxy -c -f "$TOP/scripts/haproxy.cfg.sample"
}

@test "haproxy: each client's own port appears in the access log of the hellod that served it" {
	backend 1
	backend 2
	balancer
	run -0 sessions 8
	refute_output --partial failed
	local port total=0 in1 in2
	for port in $(cut -d' ' -f1 <<<"$output"); do
		wait_until 5 eval "grep -q '^127\.0\.0\.1:$port .* exit\$' '$BATS_TEST_TMPDIR'/access[12].log"
		in1=$(grep -c "^127\.0\.0\.1:$port " "$BATS_TEST_TMPDIR/access1.log" || true)
		in2=$(grep -c "^127\.0\.0\.1:$port " "$BATS_TEST_TMPDIR/access2.log" || true)
		[ $((in1 + in2)) -eq 1 ] || fail "port $port: $in1 + $in2 lines"
		total=$((total + 1))
	done
	[ "$total" -eq 8 ]
	# Both instances served some (leastconn, four at a time).
	grep -q ' exit$' "$BATS_TEST_TMPDIR/access1.log"
	grep -q ' exit$' "$BATS_TEST_TMPDIR/access2.log"
	# The balancer's health checks (every 300 ms, each ending with
	# "exit") are counted in the status page, not logged.
	wait_until 5 checks_counted "$H1_PORT"
	wait_until 5 checks_counted "$H2_PORT"
	[ "$(cat "$BATS_TEST_TMPDIR"/access[12].log | grep -c ' exit$')" -eq 8 ]
}

# checks_counted PORT: the hellod on PORT counts sessions kept out of
# its access log.
checks_counted() {
	hellod -k status -l "127.0.0.1:$1" | grep -Eq '^Unlogged Accesses: [1-9]'
}

@test "haproxy: an instance drained with graceful-stop under load loses no session" {
	backend 1
	backend 2
	balancer
	sessions 120 >"$BATS_TEST_TMPDIR/load" 3>&- &
	local load=$!
	wait_until 20 eval '[ "$(grep -c " ok$" "$BATS_TEST_TMPDIR/load")" -ge 20 ]'
	kill -WINCH "$H1_PID"
	wait_until 20 pid_gone "$H1_PID"
	wait "$load"
	run -0 grep -c ' ok$' "$BATS_TEST_TMPDIR/load"
	assert_output 120
	run -1 grep failed "$BATS_TEST_TMPDIR/load"
	H1_PID=
}

@test "haproxy: an instance killed with SIGKILL is taken out by the health check" {
	backend 1
	backend 2
	balancer
	kill_master "$H1_PID"
	H1_PID=
	wait_until 10 server_is hellod1 DOWN
	run -0 sessions 8
	refute_output --partial failed
	wait_until 5 eval '[ "$(grep -c " exit$" "$BATS_TEST_TMPDIR/access2.log")" -ge 8 ]'
}
