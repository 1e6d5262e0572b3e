#!/usr/bin/env bats
# Socket activation: sockets handed over with LISTEN_FDS, LISTEN_PID and
# LISTEN_FDNAMES (systemd-socket-activate, as systemd itself does).

bats_require_minimum_version 1.5.0

setup() {
	load helper
	command -v systemd-socket-activate >/dev/null ||
	    skip "systemd-socket-activate not installed (scripts/bootstrap)"
}

teardown() {
	stop_hellod
}

# activate ADDR... -- HELLOD-ARGS...: start hellod under
# systemd-socket-activate listening on each ADDR, and make the first
# connection, which is what makes it exec hellod.
activate() {
	local args=()
	while [ "$1" != -- ]; do
		args+=(-l "$1")
		shift
	done
	shift
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	systemd-socket-activate "${args[@]}" "$@" 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 port_open "$PORT"
	wait_until 5 grep -q 'started' "$HELLOD_ERR"
}

# listeners PID: the TCP addresses PID listens on, one a line, sorted.
listeners() {
	lsof -nP -a -p "$1" -iTCP -sTCP:LISTEN -Fn | sed -n 's/^n//p' | sort
}

# serves_only NAME: hellod listens on 127.0.0.1:$PORT alone, and a
# session there is answered.
serves_only() {
	run -0 listeners "$HELLOD_PID"
	assert_output "127.0.0.1:$PORT"
	run -0 talk "$PORT" <<<"$1"$'\nexit'
	assert_output "welcome!"$'\n'"hello, $1!"
}

@test "activation: with no Listen, only the inherited socket is served" {
	PORT=$(free_port)
	activate "127.0.0.1:$PORT" -- "$TOP/server/hellod" -w 2 \
	    -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	serves_only michael
	run -0 grep -c "listening on 127.0.0.1:$PORT (inherited)$" "$HELLOD_ERR"
}

@test "activation: with no Listen and no PidFile, the pid file is named after the inherited socket" {
	PORT=$(free_port)
	activate "127.0.0.1:$PORT" -- "$TOP/server/hellod" -w 1
	run -0 hellod -k status -l "127.0.0.1:$PORT"
	assert_line "ServerPid: $HELLOD_PID"
}

@test "activation: a Listen naming the inherited address, spelled otherwise, uses it" {
	PORT=$(free_port)
	activate "127.0.0.1:$PORT" -- "$TOP/server/hellod" -w 1 \
	    -l "localhost:$PORT" -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	serves_only tracy
}

@test "activation: inherited sockets and other Listen addresses are all served, with names" {
	PORT=$(free_port)
	P2=$(free_port)
	P3=$(free_port)
	activate "127.0.0.1:$PORT" "127.0.0.1:$P2" -- --fdname=one:two \
	    "$TOP/server/hellod" -w 1 -l "127.0.0.1:$P3" -l "127.0.0.1:$P2" \
	    -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	run -0 listeners "$HELLOD_PID"
	assert_output "$(printf '127.0.0.1:%s\n' "$PORT" "$P2" "$P3" | sort)"
	run -0 grep -F "listening on 127.0.0.1:$P3, 127.0.0.1:$P2 (inherited: two), 127.0.0.1:$PORT (inherited: one)" "$HELLOD_ERR"
	for p in "$PORT" "$P2" "$P3"; do
		run -0 talk "$p" <<<$'sarah\nexit'
		assert_output $'welcome!\nhello, sarah!'
	done
}

@test "activation: inherited sockets stay open across HUP and USR1" {
	PORT=$(free_port)
	activate "127.0.0.1:$PORT" -- "$TOP/server/hellod" -w 1 \
	    -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	before=$(readlink "/proc/$HELLOD_PID/fd/3")
	kill -HUP "$HELLOD_PID"
	wait_until 5 grep -q 'restart: generation 1' "$HELLOD_ERR"
	kill -USR1 "$HELLOD_PID"
	wait_until 5 grep -q 'graceful restart: generation 2' "$HELLOD_ERR"
	[ "$(readlink "/proc/$HELLOD_PID/fd/3")" = "$before" ]
	serves_only again
}

@test "activation: an inherited datagram socket is an error, exit 2" {
	PORT=$(free_port)
	systemd-socket-activate --datagram -l "127.0.0.1:$PORT" \
	    "$TOP/server/hellod" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_until 5 grep -q "Listening on" "$BATS_TEST_TMPDIR/err"
	python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", int(sys.argv[1])))' "$PORT"
	run -2 wait "$pid"
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/err"
	assert_output "hellod: inherited descriptor 3 is not a listening stream socket: not a stream socket"
}

@test "activation: a descriptor that is not a socket, or a socket not listening, is exit 2" {
	run -2 --separate-stderr python3 -c 'import os, sys
fd = os.open("/dev/null", os.O_RDONLY)
os.dup2(fd, 3)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="web")
os.execvp(sys.argv[1], sys.argv[1:])' hellod -l "127.0.0.1:$(free_port)"
	[ "$stderr" = "hellod: inherited descriptor 3 (web) is not a listening stream socket: not a socket" ]
	run -2 --separate-stderr python3 -c 'import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
os.dup2(s.fileno(), 3)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execvp(sys.argv[1], sys.argv[1:])' hellod
	[ "$stderr" = "hellod: inherited descriptor 3 is not a listening stream socket: not listening" ]
}

@test "activation: LISTEN_FDS meant for another process is ignored" {
	LISTEN_FDS=1 LISTEN_PID=1 start_hellod -w 1
	run -0 talk "$PORT" <<<$'x\nexit'
	assert_output $'welcome!\nhello, x!'
}

@test "activation: a socket at StatusListen's address serves the status, not hello" {
	PORT=$(free_port)
	local sport
	sport=$(free_port)
	activate "127.0.0.1:$PORT" "127.0.0.1:$sport" -- "$TOP/server/hellod" \
	    -w 1 -C "StatusListen 127.0.0.1:$sport" \
	    -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	run -0 curl -sS -m 10 "http://127.0.0.1:$sport/server-status?auto"
	assert_line 'ServerMPM: prefork'
	run -0 grep -c "listening on 127.0.0.1:$PORT (inherited)$" "$HELLOD_ERR"
	run -1 grep -q "listening on .*:$sport" "$HELLOD_ERR"
	run -0 talk "$PORT" <<<$'sarah\nexit'
	assert_output $'welcome!\nhello, sarah!'
}

@test "activation: an inherited socket's timeouts are left as they are (a 0.1 master's workers during an upgrade wake by them)" {
	# The other holder of the socket sees its options after hellod has
	# served on it: hellod must not have changed them for both.
	run -0 python3 - "$(command -v hellod)" <<'PY'
import os, signal, socket, struct, subprocess, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 1, 0))
s.bind(("127.0.0.1", 0))
s.listen(16)
port = s.getsockname()[1]
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3)
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    os.execv(sys.argv[1], ["hellod", "-w", "1", "-C", "ErrorLog /dev/null",
                           "-C", "PidFile " + os.environ["BATS_TEST_TMPDIR"] + "/h.pid"])
try:
    deadline = time.time() + 5
    while True:
        talk = subprocess.run([sys.executable,
                               os.environ["TOP"] + "/test/talk.py", str(port)],
                              input=b"x\nexit\n", capture_output=True)
        if talk.stdout == b"welcome!\nhello, x!\n":
            break
        if time.time() > deadline:
            sys.exit("no session served")
        time.sleep(0.05)
    sec, usec = struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET,
                                                 socket.SO_RCVTIMEO, 16))
    print("served; SO_RCVTIMEO %d.%06d" % (sec, usec))
finally:
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
PY
	assert_output "served; SO_RCVTIMEO 1.000000"
}

@test "activation: a graceful stop leaves the manager's socket taking connections for the next server" {
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	# A manager, as systemd's hellod.socket: it keeps the socket that
	# it hands over, and once hellod has exited, tries a connection.
	python3 - "$PORT" "$TOP/server/hellod" "$BATS_TEST_TMPDIR/h.pid" \
	    >"$BATS_TEST_TMPDIR/mgr.out" 2>"$HELLOD_ERR" 3>&- <<'PY' &
import os, socket, sys
port, hellod, pidf = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.socket()
ls.bind(("127.0.0.1", port))
ls.listen(16)
pid = os.fork()
if pid == 0:
    os.dup2(ls.fileno(), 3)
    os.set_inheritable(3, True)
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    os.execv(hellod, [hellod, "-w", "1", "-C", "PidFile " + pidf])
print(pid, flush=True)
os.waitpid(pid, 0)
try:
    socket.create_connection(("127.0.0.1", port), 2).close()
    print("queued", flush=True)
except OSError as e:
    print("lost: %s" % e, flush=True)
PY
	MGR=$!
	wait_until 5 test -s "$BATS_TEST_TMPDIR/mgr.out"
	HELLOD_PID=$(head -n 1 "$BATS_TEST_TMPDIR/mgr.out")
	wait_until 5 grep -q 'started' "$HELLOD_ERR"
	run -0 talk "$PORT" <<<$'before\nexit'
	assert_output $'welcome!\nhello, before!'
	kill -WINCH "$HELLOD_PID"
	wait "$MGR"
	run -0 sed -n 2p "$BATS_TEST_TMPDIR/mgr.out"
	assert_output queued
}
