#!/usr/bin/env bats
# hellod as a client and an operator see it: the protocol bytes on the
# wire in both framings, the line limit, binary bytes, the idle timeout,
# the fixed pool under load, worker and master deaths, stop signals, the
# logs, and every startup error a user can make.  Each test starts its
# own hellod on a free loopback port and teardown stops it by PID.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	HOLD_PIDS=()
	VERSION_WORD=hellod/$(hellod -V | cut -d' ' -f2)
}

teardown() {
	local p
	for p in "${HOLD_PIDS[@]}"; do
		stop_pid "$p"
	done
	stop_hellod
}

# hold_session NAME [PORT [HOST]]: open a session in the background that
# stays open until the server closes it; its transcript goes to
# $BATS_TEST_TMPDIR/NAME.  Returns once the welcome has arrived.
hold_session() {
	local out="$BATS_TEST_TMPDIR/$1"
	session.py hold "${2:-$PORT}" "${3:-127.0.0.1}" >"$out" 3>&- &
	HOLD_PIDS+=("$!")
	wait_until 5 grep -q '^welcome!$' "$out"
}

# other_worker OLD: hellod has exactly one worker and it is not OLD.
other_worker() {
	local w
	w=$(children "$HELLOD_PID")
	[ -n "$w" ] && [ "$w" = "${w%%[[:space:]]*}" ] && [ "$w" != "$1" ]
}

# older_than SECONDS PID: PID has run for at least SECONDS.
older_than() {
	[ "$(ps -o etimes= -p "$2")" -ge "$1" ]
}

pool_is() {
	[ "$(worker_count "$HELLOD_PID")" -eq "$1" ]
}

# hellod_fails STATUS STDERR ARGS...: hellod with a fresh listener and
# ARGS exits STATUS, says STDERR (one line) and nothing on stdout, and
# leaves no process and no listener behind.
hellod_fails() {
	local status=$1 msg=$2 p
	shift 2
	p=$(free_port)
	run -"$status" --separate-stderr hellod -l "127.0.0.1:$p" "$@"
	assert_output ''
	assert_equal "$stderr" "$msg"
	run -1 pgrep -f -- "hellod -l 127.0.0.1:$p"
	run -0 port_closed "$p"
}

# --- line framing --------------------------------------------------------

@test "line: welcome, one answer a line, and exit closes without an answer" {
	start_hellod -w 2
	run -0 talk "$PORT" <<<$'michael\ntracy\nsarah\nexit'
	assert_output $'welcome!\nhello, michael!\nhello, tracy!\nhello, sarah!'
}

@test "line: the greeting and answers are byte-exact" {
	start_hellod -w 1
	talk "$PORT" <<<$'michael\nexit' >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!\nhello, michael!\n' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "line: EOF closes the session; a last line without newline is answered" {
	start_hellod -w 1
	printf 'michael\n' >"$BATS_TEST_TMPDIR/in"
	run -0 talk "$PORT" --half-close <"$BATS_TEST_TMPDIR/in"
	assert_output $'welcome!\nhello, michael!'
	printf 'michael\ntracy' >"$BATS_TEST_TMPDIR/in"
	talk "$PORT" --half-close <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!\nhello, michael!\nhello, tracy!\n' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "line: EOF with no line at all closes after the welcome" {
	start_hellod -w 1
	run -0 talk "$PORT" --half-close </dev/null
	assert_output 'welcome!'
}

@test "line: CRLF is accepted and the CR dropped, exit included" {
	start_hellod -w 1
	printf 'michael\r\ntracy\r\nexit\r\n' >"$BATS_TEST_TMPDIR/in"
	talk "$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!\nhello, michael!\nhello, tracy!\n' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "line: an empty line is a message too" {
	start_hellod -w 1
	run -0 talk "$PORT" <<<$'\nexit'
	assert_output $'welcome!\nhello, !'
}

@test "line: NUL, 0xff, control bytes and a CR mid-line are echoed exactly" {
	start_hellod -w 1
	printf 'a\000b\377\001c\rd\n\000\nexit\n' >"$BATS_TEST_TMPDIR/in"
	talk "$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!\nhello, a\000b\377\001c\rd!\nhello, \000!\n' \
	    >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "line: every byte value but LF goes through" {
	start_hellod -w 1
	python3 -c 'import sys
sys.stdout.buffer.write(bytes(b for b in range(256) if b != 10) + b"\nexit\n")' \
	    >"$BATS_TEST_TMPDIR/in"
	python3 -c 'import sys
sys.stdout.buffer.write(b"welcome!\nhello, " +
    bytes(b for b in range(256) if b != 10) + b"!\n")' >"$BATS_TEST_TMPDIR/want"
	talk "$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

# --- raw framing ---------------------------------------------------------

@test "raw: the teaching client's session, bare sends and recv(1024)" {
	start_hellod -w 2 -C 'Framing raw'
	run -0 session.py raw "$PORT" michael tracy sarah
	assert_output $'welcome!\nhello, michael!\nhello, tracy!\nhello, sarah!\n[closed]'
}

@test "raw: no newline anywhere, and a message's bytes come back as sent" {
	start_hellod -w 1 -C 'Framing raw'
	printf 'a b\r\n' >"$BATS_TEST_TMPDIR/in"
	talk "$PORT" --half-close <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!hello, a b\r\n!' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

# --- MaxLineLength -------------------------------------------------------

@test "MaxLineLength 8: a line at the limit is answered, with LF and with CRLF" {
	start_hellod -w 1 -C 'MaxLineLength 8'
	run -0 talk "$PORT" <<<$'12345678\nexit'
	assert_output $'welcome!\nhello, 12345678!'
	printf '12345678\r\nexit\r\n' >"$BATS_TEST_TMPDIR/in"
	talk "$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!\nhello, 12345678!\n' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "MaxLineLength 8: one byte over gets the error line and the close; the worker serves on" {
	WORKERS=1 start_hellod -w 1 -C 'MaxLineLength 8'
	local worker
	worker=$(children "$HELLOD_PID")
	# No exit: only the server's close ends talk.
	run -0 talk "$PORT" <<<$'michael\n123456789\nnever answered'
	assert_output $'welcome!\nhello, michael!\nerror: line too long'
	run -0 talk "$PORT" <<<$'123456789abcdefgh'
	assert_output $'welcome!\nerror: line too long'
	run -0 talk "$PORT" <<<$'tracy\nexit'
	assert_output $'welcome!\nhello, tracy!'
	run -0 children "$HELLOD_PID"
	assert_output "$worker"
}

@test "MaxLineLength default 1024: 1024 bytes are answered, 1025 refused" {
	WORKERS=2 start_hellod -w 2
	local l1024 l1025
	l1024=$(printf '%01024d' 0)
	l1025=$(printf '%01025d' 0)
	run -0 talk "$PORT" <<<"$l1024"$'\nexit'
	assert_output $'welcome!\nhello, '"$l1024!"
	printf '%s\r\nexit\r\n' "$l1024" >"$BATS_TEST_TMPDIR/in"
	run -0 talk "$PORT" <"$BATS_TEST_TMPDIR/in"
	assert_output $'welcome!\nhello, '"$l1024!"
	run -0 talk "$PORT" <<<"$l1025"$'\nexit'
	assert_output $'welcome!\nerror: line too long'
	run -0 talk "$PORT" <<<$'sarah\nexit'
	assert_output $'welcome!\nhello, sarah!'
	run -0 worker_count "$HELLOD_PID"
	assert_output 2
}

# --- Timeout -------------------------------------------------------------

@test "Timeout 1: a silent client gets the timeout line, then the close" {
	start_hellod -w 1 -C 'Timeout 1'
	# talk gives up after 10 s; the server must close well before.
	run -0 talk "$PORT" </dev/null
	assert_output $'welcome!\nerror: timeout'
}

@test "Timeout 1: half a line is no line; the session still times out" {
	start_hellod -w 1 -C 'Timeout 1'
	printf 'michael\ntra' >"$BATS_TEST_TMPDIR/in"
	run -0 talk "$PORT" <"$BATS_TEST_TMPDIR/in"
	assert_output $'welcome!\nhello, michael!\nerror: timeout'
}

# --- the pool under load -------------------------------------------------

@test "20 clients at once against -w 4 are all served" {
	WORKERS=4 start_hellod -w 4
	run -0 session.py swarm "$PORT" 20
	assert_line --index 0 'served 20 of 20'
}

@test "-w 4 with ReplyDelay 1000 serves four clients in one second, not four" {
	WORKERS=4 start_hellod -w 4 -C 'ReplyDelay 1000'
	run -0 session.py swarm "$PORT" 4
	assert_line --index 0 'served 4 of 4'
	local ms=${lines[1]#elapsed }
	# The delay is in effect (at least 1 s), and the four overlap.
	[ "$ms" -ge 1000 ] || fail "4 sessions took $ms ms, under ReplyDelay"
	[ "$ms" -lt 2500 ] || fail "4 sessions on 4 workers took $ms ms"
}

# --- deaths and signals --------------------------------------------------

@test "kill -9 of a worker: the pool is back to N, new clients are served, the log says why" {
	WORKERS=3 start_hellod -w 3
	local victim
	victim=$(children "$HELLOD_PID" | head -n 1)
	# A worker younger than a second counts as dying young, and its
	# replacement waits; this one has served its time.
	wait_until 5 older_than 1 "$victim"
	kill -KILL "$victim"
	wait_until 5 pid_gone "$victim"
	wait_until 3 pool_is 3
	run -0 children "$HELLOD_PID"
	refute_line "$victim"
	run -0 session.py swarm "$PORT" 6
	assert_line --index 0 'served 6 of 6'
	wait_until 5 log_has "$HELLOD_ERR" "worker [0-9]+ \\(pid $victim\\) killed by signal 9; respawning$"
}

@test "a worker killed as soon as it is ready is respawned at once, each time" {
	WORKERS=1 start_hellod -w 1
	local w i
	w=$(children "$HELLOD_PID")
	# A worker killed young is no crash loop once it was ready: no
	# back-off, however often it happens.
	for i in 1 2 3; do
		# Served by the only worker, so it was ready.
		talk "$PORT" <<<$'ready\nexit' >/dev/null
		kill -KILL "$w"
		wait_until 3 other_worker "$w"
		w=$(children "$HELLOD_PID")
	done
	run ! log_has "$HELLOD_ERR" 'respawning in'
	[ "$(grep -c 'killed by signal 9; respawning$' "$HELLOD_ERR")" -eq 3 ]
	run -0 talk "$PORT" <<<$'michael\nexit'
	assert_output $'welcome!\nhello, michael!'
}

@test "kill -9 of the master: no worker left and the port free within 2 s" {
	WORKERS=3 start_hellod -w 3
	local kids k
	kids=$(children "$HELLOD_PID")
	kill -KILL "$HELLOD_PID"
	for k in $kids; do
		wait_until 2 pid_gone "$k"
	done
	wait_until 2 port_closed "$PORT"
	wait "$HELLOD_PID" || true
	HELLOD_PID=
}

@test "kill -9 of the master with a session open: the session closes, nothing is left" {
	WORKERS=2 start_hellod -w 2
	local kids k
	kids=$(children "$HELLOD_PID")
	hold_session s1
	kill -KILL "$HELLOD_PID"
	for k in $kids; do
		wait_until 2 pid_gone "$k"
	done
	wait_until 2 port_closed "$PORT"
	wait_until 2 grep -q '^\[closed\]$' "$BATS_TEST_TMPDIR/s1"
	wait "$HELLOD_PID" || true
	HELLOD_PID=
}

# stop_with SIG: SIG during two open sessions makes the master exit 0,
# closes both sessions and leaves no process and no listener.
stop_with() {
	WORKERS=3 start_hellod -w 3
	local kids k rc=0
	kids=$(children "$HELLOD_PID")
	hold_session s1
	hold_session s2
	kill -"$1" "$HELLOD_PID"
	wait_until 5 pid_gone "$HELLOD_PID"
	wait "$HELLOD_PID" || rc=$?
	HELLOD_PID=
	assert_equal "$rc" 0
	for k in $kids; do
		wait_until 2 pid_gone "$k"
	done
	run -0 port_closed "$PORT"
	wait_until 2 grep -q '^\[closed\]$' "$BATS_TEST_TMPDIR/s1"
	wait_until 2 grep -q '^\[closed\]$' "$BATS_TEST_TMPDIR/s2"
	run -0 cat "$BATS_TEST_TMPDIR/s1"
	assert_output $'welcome!\n[closed]'
	run -0 tail -n 1 "$HELLOD_ERR"
	assert_output --regexp 'master: stopped$'
}

@test "TERM during open sessions: exit 0, sessions closed, nothing left running" {
	stop_with TERM
}

@test "INT during open sessions: exit 0, sessions closed, nothing left running" {
	stop_with INT
}

# --- logs ----------------------------------------------------------------

@test "startup line: version, worker count and every listening address" {
	local p6
	p6=$(free_port)
	WORKERS=3 start_hellod -w 3 -l "[::1]:$p6"
	run -0 cat "$HELLOD_ERR"
	assert_line --regexp "\\[notice\\] \\[pid $HELLOD_PID\\] master: $VERSION_WORD started: 3 workers, listening on 127\\.0\\.0\\.1:$PORT, \\[::1\\]:$p6\$"
}

@test "LogLevel info: the per-connection lines name the client's address and port" {
	start_hellod -w 1 -C 'LogLevel info'
	run -0 talk "$PORT" <<<$'michael\nexit'
	wait_until 5 log_has "$HELLOD_ERR" 'connection from 127\.0\.0\.1:[0-9]+ closed \(exit\)'
	# The last session is ours; start_hellod's probe came before it.
	run -0 grep -Eo 'accepted from 127\.0\.0\.1:[0-9]+$' "$HELLOD_ERR"
	local client=${lines[${#lines[@]} - 1]#accepted from }
	run -0 cat "$HELLOD_ERR"
	assert_line --regexp "worker 0: connection from $client closed \\(exit\\)\$"
}

@test "LogLevel notice (the default) logs no per-connection line" {
	start_hellod -w 1
	run -0 talk "$PORT" <<<$'michael\nexit'
	run -0 cat "$HELLOD_ERR"
	refute_line --partial 'accepted from'
}

# --- listeners -----------------------------------------------------------

@test "two listeners, IPv4 and IPv6, are both served" {
	local p6
	p6=$(free_port)
	start_hellod -w 2 -l "[::1]:$p6"
	run -0 talk "$PORT" <<<$'michael\nexit'
	assert_output $'welcome!\nhello, michael!'
	run -0 talk "$p6" ::1 <<<$'tracy\nexit'
	assert_output $'welcome!\nhello, tracy!'
}

# --- user errors: one line, a documented status, nothing started -------

@test "error: port in use (exit 2), and the other listener is released" {
	start_hellod -w 1
	hellod_fails 2 "hellod: cannot listen on 127.0.0.1:$PORT: Address already in use" \
	    -l "127.0.0.1:$PORT" -w 2
	run -0 worker_count "$HELLOD_PID"
	assert_output 1
}

@test "error: an address that does not parse (exit 1)" {
	hellod_fails 1 "hellod: -l 'foo': bad port \"foo\": not a number" -l foo
	hellod_fails 1 "hellod: -l '[::1]80': bad address \"[::1]80\": expected \"]:port\"" \
	    -l '[::1]80'
	hellod_fails 1 "hellod: -l '[::1:80': bad address \"[::1:80\": missing ']'" \
	    -l '[::1:80'
}

@test "error: an IPv6 address without brackets (exit 1)" {
	hellod_fails 1 "hellod: -l '::1:80': bad address \"::1:80\": an IPv6 address needs brackets, as in [::1]:9999" \
	    -l ::1:80
}

@test "error: a port out of range or missing (exit 1)" {
	hellod_fails 1 "hellod: -l '127.0.0.1:99999': bad port \"99999\": out of range" \
	    -l 127.0.0.1:99999
	hellod_fails 1 "hellod: -l '127.0.0.1:0': bad port \"0\": out of range" \
	    -l 127.0.0.1:0
	hellod_fails 1 "hellod: -l '127.0.0.1:': missing port" \
	    -l 127.0.0.1:
}

@test "error: a host that does not resolve (exit 2)" {
	local p
	p=$(free_port)
	run -2 --separate-stderr hellod -l "127.0.0.1:$p" -l nosuch.invalid:80
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^hellod: cannot resolve "nosuch\.invalid": .+'
	run -1 pgrep -f -- "hellod -l 127.0.0.1:$p"
	run -0 port_closed "$p"
}

# usage_error MSG: stderr is MSG, the synopsis and a pointer to -h.
usage_error() {
	assert_equal "$stderr" "$1
usage: hellod [-dhtV] [-C 'directive value'] [-f file] [-k word]
              [-l addr:port] [-w workers]
Try 'hellod -h' for more information."
}

@test "error: a usage error is one line, the synopsis and a pointer to -h (exit 8)" {
	run -8 --separate-stderr hellod -x
	assert_output ''
	usage_error 'hellod: unknown option -x'
	run -8 --separate-stderr hellod extra
	usage_error 'hellod: unexpected argument "extra"'
	run -8 --separate-stderr hellod --bogus
	usage_error 'hellod: unknown option --bogus'
	run -8 --separate-stderr hellod -f
	usage_error 'hellod: option -f needs a value'
	run -8 --separate-stderr hellod -k bounce
	usage_error 'hellod: -k: unknown command "bounce"'
	run -8 --separate-stderr hellod -w abc
	usage_error 'hellod: -w: bad value "abc": not a number'
	run -8 --separate-stderr hellod -w 0
	usage_error 'hellod: -w: bad value "0": out of range (1 to 20000)'
}

@test "options may follow one another in any order; -- ends them" {
	local conf="$BATS_TEST_TMPDIR/h.conf"
	PORT=$(free_port)
	echo "Listen 127.0.0.1:$PORT" >"$conf"
	# -t after -f's value and -C; the words after -- are operands.
	run -0 --separate-stderr hellod -f "$conf" -C 'Timeout 5' -t
	run -8 --separate-stderr hellod -t -- -f "$conf"
	usage_error 'hellod: unexpected argument "-f"'
	# Clustered flags, an attached value.
	run -0 --separate-stderr hellod -tf"$conf"
}

@test "error: bad numbers (exit 1)" {
	hellod_fails 1 "hellod: -C 'Timeout x': Timeout: bad value \"x\": not a number" \
	    -C 'Timeout x'
	hellod_fails 1 "hellod: -C 'MaxLineLength 0': MaxLineLength: bad value \"0\": out of range (1 to 1048576)" \
	    -C 'MaxLineLength 0'
}

@test "error: an unknown directive or a bad value word (exit 1)" {
	hellod_fails 1 "hellod: -C 'Bogus 1': unknown directive \"Bogus\"" -C 'Bogus 1'
	hellod_fails 1 "hellod: -C 'Framing fast': Framing: bad value \"fast\": expected line or raw" \
	    -C 'Framing fast'
	hellod_fails 1 "hellod: -C 'Timeout': Timeout: missing value" -C 'Timeout'
}

@test "-h prints the usage on stdout and exits 0; -V the version" {
	run -0 --separate-stderr hellod -h
	assert_line --index 0 'usage: hellod [-dhtV] [-C '"'directive value'"'] [-f file] [-k word]'
	local o
	for o in -C -d -f '-h, --help' -k -l -t '-V, --version' -w; do
		assert_line --regexp "^  $o "
	done
	assert_equal "$stderr" ''
	run -0 --separate-stderr hellod --help
	assert_line --index 0 'usage: hellod [-dhtV] [-C '"'directive value'"'] [-f file] [-k word]'
	run -0 hellod -V
	assert_output --regexp '^hellod [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 hellod --version
	assert_output --regexp '^hellod [0-9]+\.[0-9]+\.[0-9]+$'
}

# A client that sends 1 MiB lines without ever reading: a few answers
# fill every socket buffer on the way back (at most a few MiB), and the
# worker's write blocks.
flood_without_reading() {
	python3 - "$PORT" <<'PY' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(20)
try:
    for _ in range(64):
        s.sendall(b"x" * 1048576 + b"\n")
except OSError:
    pass
PY
	FLOOD_PID=$!
}

# writing_blocked: the scoreboard shows the worker in W (writing an
# answer) for a second: its write cannot finish.
writing_blocked() {
	hellod -C "PidFile $BATS_TEST_TMPDIR/w.pid" -k status |
	    grep -q '^Scoreboard: W$' || return 1
	sleep 1
	hellod -C "PidFile $BATS_TEST_TMPDIR/w.pid" -k status |
	    grep -q '^Scoreboard: W$'
}

# block_a_worker: a one-worker hellod whose worker ($worker) is stuck
# writing to a client ($FLOOD_PID) that never reads.
block_a_worker() {
	WORKERS=1 start_hellod -w 1 -C "PidFile $BATS_TEST_TMPDIR/w.pid" \
	    -C 'MaxLineLength 1048576'
	worker=$(children "$HELLOD_PID")
	flood_without_reading
	wait_until 20 writing_blocked
}

@test "kill -9 of the master reaches a worker blocked writing to a client that never reads" {
	block_a_worker
	kill -KILL "$HELLOD_PID"
	wait "$HELLOD_PID" 2>/dev/null || true
	HELLOD_PID=
	wait_until 2 pid_gone "$worker"
	wait_until 2 port_closed "$PORT"
	kill "$FLOOD_PID" 2>/dev/null || true
	wait "$FLOOD_PID" 2>/dev/null || true
}

@test "TERM stops a worker blocked writing to a client that never reads, without KILL" {
	block_a_worker
	kill -TERM "$HELLOD_PID"
	wait_until 3 pid_gone "$worker"
	wait_until 3 pid_gone "$HELLOD_PID"
	rc=0
	wait "$HELLOD_PID" || rc=$?
	HELLOD_PID=
	assert_equal "$rc" 0
	# The worker heard TERM itself; the master did not have to KILL it.
	run -1 grep -F 'ignored TERM' "$HELLOD_ERR"
	kill "$FLOOD_PID" 2>/dev/null || true
	wait "$FLOOD_PID" 2>/dev/null || true
}

@test "exit 6 is a system error, never a configuration error (-k status into a full disk)" {
	local pidf="$BATS_TEST_TMPDIR/h.pid"
	start_hellod -w 1 -C "PidFile $pidf"
	run -6 --separate-stderr bash -c "hellod -k status -C 'PidFile $pidf' >/dev/full"
	run -0 --separate-stderr hellod -k status -C "PidFile $pidf"
	assert_line 'ServerMPM: prefork'
}
