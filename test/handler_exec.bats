#!/usr/bin/env bats
# Handler exec (issue 19 item 2): PROGRAM per session with the
# connection on 0 and 1 (the UCSPI-TCP contract of tcpserver), and
# everything hellod does around a session still done.  The programs
# are test/exec_*: the hello protocol in C, Python and shell, one that
# prints its environment, one that leaves a process behind.  Every
# process a program leaves is written to $EXEC_PIDS, and teardown
# checks that none of them is still running.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load edge_helper
	ALOG="$BATS_TEST_TMPDIR/access.log"
	EXEC_PIDS="$BATS_TEST_TMPDIR/pids"
	export EXEC_PIDS
	: >"$EXEC_PIDS"
}

teardown() {
	bg_stop
	stop_hellod
	local p
	for p in $(cat "$EXEC_PIDS"); do
		wait_until 2 pid_gone "$p" || {
			echo "left running: $(ps -o pid=,args= -p "$p")" >&2
			kill -KILL "$p"
			return 1
		}
	done
}

# prog NAME LINE...: a shell program $BATS_TEST_TMPDIR/NAME of the
# lines given; its path is printed.
prog() {
	local f="$BATS_TEST_TMPDIR/$1"
	shift
	printf '#!/bin/sh\n' >"$f"
	printf '%s\n' "$@" >>"$f"
	chmod 0755 "$f"
	echo "$f"
}

# deaf: a program that writes its pid to $EXEC_PIDS, says "up", then
# ignores TERM, silent, until killed.
deaf() {
	prog deaf 'echo $$ >>"$EXEC_PIDS"' 'trap "" TERM' 'echo up' \
	    'while :; do sleep 0.2; done'
}

# exec_hellod PROGRAM [ARGS...] -- [hellod ARGS...]
exec_hellod() {
	local h=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do h+=("$1"); shift; done
	[ $# -eq 0 ] || shift
	start_hellod -w 2 -C "Handler exec ${h[*]}" -C "CustomLog $ALOG" "$@"
}

@test "-t refuses a Handler it could not serve, naming the file and line" {
	local conf="$BATS_TEST_TMPDIR/h.conf"
	printf 'Timeout 5\nHandler exec %s/test/exec_hello "a b" c  # ok\n' \
	    "$TOP" >"$conf"
	run -0 hellod -t -f "$conf"
	assert_output 'Syntax OK'
	printf '# comment\nHandler exec exec_hello\n' >"$conf"
	run -1 hellod -t -f "$conf"
	assert_line "hellod: $conf:2: Handler exec: PROGRAM \"exec_hello\" is not an absolute path"
	printf 'Handler exec /nonexistent/prog\n' >"$conf"
	run -1 hellod -t -f "$conf"
	assert_line "hellod: $conf:1: Handler exec: /nonexistent/prog: No such file or directory"
	printf 'Handler exec %s/test\n' "$TOP" >"$conf"
	run -1 hellod -t -f "$conf"
	assert_line "hellod: $conf:1: Handler exec: $TOP/test: not a regular file"
	printf 'Handler exec %s/README.md\n' "$TOP" >"$conf"
	run -1 hellod -t -f "$conf"
	assert_line --partial "hellod: $conf:1: Handler exec: $TOP/README.md: not executable by"
	run -1 hellod -t -C 'Handler exec'
	assert_line "hellod: -C 'Handler exec': Handler exec: missing PROGRAM"
	run -1 hellod -t -C 'Handler cgi /bin/cat'
	assert_line "hellod: -C 'Handler cgi /bin/cat': Handler: bad value \"cgi\": expected hello or exec PROGRAM [ARG...]"
	run -1 hellod -t -C 'Handler hello /bin/cat'
	assert_line --partial 'Handler hello takes nothing more, not "/bin/cat"'
	run -1 hellod -t -C 'Handler exec "/bin/cat'
	assert_line --partial 'Handler: missing closing quote'
}

@test "-t: a program the workers' User may not execute is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to name a User"
	local prog="$BATS_TEST_TMPDIR/own.sh"
	printf '#!/bin/sh\n' >"$prog"
	chmod 0700 "$prog"
	chmod 0755 "$BATS_TEST_TMPDIR"
	run -1 hellod -t -C "Handler exec $prog" -C 'User nobody'
	assert_line "hellod: -C 'Handler exec $prog': Handler exec: $prog: not executable by nobody"
	chmod 0755 "$prog"
	run -0 hellod -t -C "Handler exec $prog" -C 'User nobody'
}

@test "a C program serves the hello protocol; the access log has its bytes and exit status" {
	exec_hellod "$TOP/test/exec_hello"
	run -0 hello 127.0.0.1 "$PORT" <<<$'michael\ntracy'
	assert_output $'welcome!\nhello, michael!\nhello, tracy!'
	wait_until 5 logged "$ALOG" ' program '
	# in: "michael\ntracy\nexit\n" 19; out: welcome and two answers 39
	run -0 cat "$ALOG"
	assert_line --regexp '^127\.0\.0\.1:[0-9]+ \[.*\] [0-9.]+ 0 19 39 program exit=0$'
}

@test "arguments are split as the config line splits them; Python and shell programs" {
	exec_hellod "$TOP/test/exec_hello.py" -- -C 'LogLevel info'
	run -0 hello 127.0.0.1 "$PORT" <<<'sarah'
	assert_output $'welcome!\nhello, sarah!'
	stop_hellod
	exec_hellod "$(prog args 'printf "[%s]" "$@"')" 'one' '"two words"' '""' \
	    '"#3"' '# a comment'
	run -0 talk "$PORT" </dev/null
	assert_output '[one][two words][][#3]'
}

@test "the UCSPI-TCP environment is tcpserver's, for the same connection" {
	command -v tcpserver >/dev/null || skip "tcpserver (ucspi-tcp) is not installed"
	exec_hellod "$TOP/test/exec_env.sh"
	run -0 talk "$PORT" </dev/null
	local ours=$output tport
	tport=$(free_port)
	tcpserver -H -R 127.0.0.1 "$tport" "$TOP/test/exec_env.sh" 3>&- &
	BG_PIDS+=($!)
	wait_until 5 port_open "$tport"
	run -0 talk "$tport" </dev/null
	local theirs=$output
	# The same names and values, but for the ports: ours, theirs.
	diff <(sed -e "s/=$PORT\$/=LOCAL/" -e 's/^TCPREMOTEPORT=[0-9]*$/TCPREMOTEPORT=N/' <<<"$ours") \
	    <(sed -e "s/=$tport\$/=LOCAL/" -e 's/^TCPREMOTEPORT=[0-9]*$/TCPREMOTEPORT=N/' <<<"$theirs")
	assert_line --index 0 'PROTO=TCP'
	assert_line 'TCPLOCALPORT=LOCAL' || true
	[[ "$ours" == *"TCPREMOTEIP=127.0.0.1"* && "$ours" != *TCPREMOTEHOST* ]]
}

@test "IPv6: the addresses without brackets; no descriptor of hellod's but 0, 1 and 2" {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
	    skip "no IPv6 loopback"
	PORT=$(free_port)
	launch_hellod -w 1 -l "127.0.0.1:$PORT" -l "[::1]:$PORT" \
	    -C "Handler exec $TOP/test/exec_env.sh"
	run -0 talk "$PORT" ::1 </dev/null
	assert_line 'PROTO=TCP'
	assert_line 'TCPREMOTEIP=::1'
	assert_line 'TCPLOCALIP=::1'
	assert_line "TCPLOCALPORT=$PORT"
	assert_line --regexp '^TCPREMOTEPORT=[0-9]+$'
	stop_hellod
	# 3 is ls's own directory.  The shell that runs the suite holds
	# more, and hellod was started with them.
	exec 7</dev/null
	exec_hellod /bin/ls /proc/self/fd
	exec 7<&-
	run -0 talk "$PORT" </dev/null
	assert_output $'0\n1\n2\n3'
}

@test "a PROXY-carried address is TCPREMOTEIP; the bytes after the header reach the program" {
	exec_hellod /bin/sh -c '"echo $TCPREMOTEIP $TCPREMOTEPORT; head -n 1"' -- \
	    -C 'ProxyProtocol on'
	run -0 client "$PORT" 'w:PROXY TCP4 192.0.2.7 127.0.0.1 40000 9999\r\nfirst line\n' r r rest
	assert_output $'192.0.2.7 40000\nfirst line\nclosed'
	run -0 client "$PORT" v2:198.51.100.9:4711 'w:x\n' r r rest
	assert_output $'198.51.100.9 4711\nx\nclosed'
	wait_until 5 logged "$ALOG" '198.51.100.9:4711'
}

@test "the program's stderr goes to the ErrorLog, a line a line, tagged with the client" {
	exec_hellod "$TOP/test/exec_hello.sh"
	run -0 hello 127.0.0.1 "$PORT" <<<$'ann\nbob'
	assert_output $'welcome!\nhello, ann!\nhello, bob!'
	wait_until 5 log_has "$HELLOD_ERR" '\[error\] .*\[client 127\.0\.0\.1:[0-9]+\] 127\.0\.0\.1 said bob$'
	log_has "$HELLOD_ERR" '\[client 127\.0\.0\.1:[0-9]+\] 127\.0\.0\.1 said ann$'
}

@test "what a program leaves running in its group is ended: TERM, or KILL a second later" {
	exec_hellod "$TOP/test/exec_stray.sh"
	SECONDS=0
	run -0 talk "$PORT" </dev/null
	assert_output --regexp '^stray [0-9]+$'
	[ "$SECONDS" -lt 10 ]	# the stray sleeps 30 s
	pid_gone "${output#stray }"
	stop_hellod
	exec_hellod "$TOP/test/exec_stray.sh" deaf
	run -0 talk "$PORT" </dev/null
	assert_output --regexp '^stray [0-9]+$'
	pid_gone "${output#stray }"
	run -0 client "$PORT" r rest
	wait_until 5 logged "$ALOG" 'program exit=0'
}

@test "Timeout: a program silent both ways gets TERM, and KILL if it ignores it" {
	exec_hellod "$(deaf)" -- -C 'Timeout 1'
	SECONDS=0
	run -0 client "$PORT" rest
	assert_output $'up\nclosed'
	[ "$SECONDS" -lt 12 ]	# the program never ends by itself
	wait_until 5 logged "$ALOG" ' timeout signal=9'
	stop_hellod
	exec_hellod /bin/sh -c '"exec sleep 30 <&-"' -- -C 'Timeout 1'
	run -0 client "$PORT" rest
	wait_until 5 logged "$ALOG" ' timeout signal=15'
}

@test "a program that cannot be executed: logged, counted, the connection closed; fixed, it serves" {
	local prog="$BATS_TEST_TMPDIR/prog"
	cp "$TOP/test/exec_hello.sh" "$prog"
	local sport
	sport=$(free_port)
	exec_hellod "$prog" -- -C "StatusListen 127.0.0.1:$sport"
	chmod -x "$prog"
	run -0 client "$PORT" rest
	assert_output 'closed'
	wait_until 5 log_has "$HELLOD_ERR" "Handler exec: cannot execute $prog for 127\.0\.0\.1:[0-9]+: Permission denied"
	wait_until 5 logged "$ALOG" ' program noexec'
	run -0 httpget -q -o - "http://127.0.0.1:$sport/metrics"
	assert_line 'hellod_handler_failures_total{reason="exec"} 1'
	chmod +x "$prog"
	run -0 hello 127.0.0.1 "$PORT" <<<'again'
	assert_output $'welcome!\nhello, again!'
}

@test "exec sessions through graceful restarts under load: none lost" {
	exec_hellod "$TOP/test/exec_hello"
	hellobench -c 4 -t 3 -j 127.0.0.1 "$PORT" >"$BATS_TEST_TMPDIR/bench" 2>&1 &
	local bench=$!
	BG_PIDS+=($bench)
	sleep 0.5
	kill -USR1 "$HELLOD_PID"
	sleep 0.7
	kill -HUP "$HELLOD_PID"
	sleep 0.7
	kill -USR1 "$HELLOD_PID"
	wait "$bench"
	run -0 cat "$BATS_TEST_TMPDIR/bench"
	assert_output --regexp '"failed":0,'
	refute_output --regexp '"ok":0,'
}

@test "stop: a running program gets TERM with the worker, KILL if it ignores it; nothing is left" {
	exec_hellod "$(deaf)"
	bg_client a "$PORT" r rest
	wait_until 5 said a up
	local worker
	worker=$(serving_worker "$PORT")
	SECONDS=0
	stop_hellod
	[ "$SECONDS" -lt 8 ]
	wait_until 5 said a closed
	pid_gone "$worker"
}

@test "MaxConnectionsPerIP and IdleTimeoutUnderLoad apply to program sessions" {
	exec_hellod /bin/sh -c '"echo up; exec cat >/dev/null"' -- \
	    -C 'MaxConnectionsPerIP 1' -C 'LogLevel info'
	bg_client a "$PORT" r rest
	wait_until 5 said a up
	run -0 client "$PORT" r rest
	assert_output $'error: too many connections\nclosed'
	bg_stop
	stop_hellod
	PORT=$(free_port)
	launch_hellod -w 1 -l "127.0.0.1:$PORT" -C "CustomLog $ALOG" \
	    -C "Handler exec /bin/sh -c \"echo up; exec sleep 20\"" \
	    -C 'IdleTimeoutUnderLoad 1' -C 'LogLevel info'
	bg_client a "$PORT" r rest
	wait_until 5 said a up
	run -0 client "$PORT" r
	assert_output 'up'
	wait_until 5 said a closed
	wait_until 5 logged "$ALOG" ' busy signal=15'
}

@test "User: the program runs as the workers' user; fullstatus shows its session" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to name a User"
	chmod 0755 "$BATS_TEST_TMPDIR"
	exec_hellod /bin/sh -c '"id -u; exec cat >/dev/null"' -- -C 'User nobody' \
	    -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	bg_client a "$PORT" r rest
	wait_until 5 said a "$(id -u nobody)"
	run -0 hellod -k fullstatus -C "PidFile $BATS_TEST_TMPDIR/h.pid"
	assert_output --regexp 'R .*127\.0\.0\.1:[0-9]+'
}
