#!/usr/bin/env bats
# hello, the line-protocol client, against a hellod each test starts on
# a free loopback port: the teaching session, raw framing, IPv6, and
# each error a user meets, with its one line on stderr and its exit
# status (hello.1: 1 cannot connect, 2 usage, 3 timeout, 4 closed early).

bats_require_minimum_version 1.5.0

setup() {
	load helper
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || kill "$FAKE_PID" 2>/dev/null || true
	stop_hellod
}

@test "the michael/tracy/sarah session: welcome and three answers, no prompt in a pipe" {
	start_hellod -w 2
	run -0 --separate-stderr hello 127.0.0.1 "$PORT" <<<$'michael\ntracy\nsarah'
	assert_output $'welcome!\nhello, michael!\nhello, tracy!\nhello, sarah!'
	assert_equal "$stderr" ''
}

@test "hello says exit at the end: the server logs an exit, not an EOF" {
	start_hellod -w 1 -C 'LogLevel info'
	run -0 hello 127.0.0.1 "$PORT" <<<'michael'
	wait_until 5 grep -q 'closed (exit)$' "$HELLOD_ERR"
}

@test "a last input line without newline is sent and answered" {
	start_hellod -w 1
	printf 'michael\ntracy' >"$BATS_TEST_TMPDIR/in"
	run -0 hello 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
	assert_output $'welcome!\nhello, michael!\nhello, tracy!'
}

@test "an exit line in the input ends the session there" {
	start_hellod -w 1
	run -0 hello 127.0.0.1 "$PORT" <<<$'michael\nexit\ntracy'
	assert_output $'welcome!\nhello, michael!'
}

@test "no input: just the welcome" {
	start_hellod -w 1
	run -0 hello 127.0.0.1 "$PORT" </dev/null
	assert_output 'welcome!'
}

@test "hello -r against Framing raw: each answer on a line of its own" {
	start_hellod -w 1 -C 'Framing raw'
	run -0 --separate-stderr hello -r 127.0.0.1 "$PORT" <<<$'michael\ntracy\nsarah'
	assert_output $'welcome!\nhello, michael!\nhello, tracy!\nhello, sarah!'
	assert_equal "$stderr" ''
}

@test "IPv6: hello ::1 and hello [::1] against a [::1] listener" {
	local p6
	p6=$(free_port)
	start_hellod -w 1 -l "[::1]:$p6"
	run -0 hello ::1 "$p6" <<<'michael'
	assert_output $'welcome!\nhello, michael!'
	run -0 hello '[::1]' "$p6" <<<'tracy'
	assert_output $'welcome!\nhello, tracy!'
	run -0 hello -6 ::1 "$p6" <<<'sarah'
	assert_output $'welcome!\nhello, sarah!'
}

@test "NUL and high bytes go through hello unchanged" {
	start_hellod -w 1
	printf 'a\000b\377c\n' >"$BATS_TEST_TMPDIR/in"
	hello 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/got"
	printf 'welcome!\nhello, a\000b\377c!\n' >"$BATS_TEST_TMPDIR/want"
	run -0 cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "error: connection refused (exit 1)" {
	local p
	p=$(free_port)
	run -1 --separate-stderr hello 127.0.0.1 "$p" <<<'michael'
	assert_output ''
	assert_equal "$stderr" "hello: connect to 127.0.0.1 port $p: Connection refused"
}

@test "error: a host that does not resolve (exit 1)" {
	run -1 --separate-stderr hello nosuch.invalid 9999 <<<'michael'
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^hello: cannot resolve "nosuch\.invalid": .+'
}

@test "error: no answer within -w 1 (exit 3)" {
	start_hellod -w 1 -C 'ReplyDelay 3000'
	run -3 --separate-stderr hello -w 1 127.0.0.1 "$PORT" <<<'michael'
	assert_output 'welcome!'
	assert_equal "$stderr" "hello: no answer from 127.0.0.1 port $PORT within 1 s"
}

@test "error: a line-mode session with a raw-framing server says to try -r" {
	start_hellod -w 1 -C 'Framing raw'
	run -3 --separate-stderr hello -w 1 127.0.0.1 "$PORT" <<<'michael'
	assert_output ''
	assert_equal "$stderr" "hello: no answer from 127.0.0.1 port $PORT within 1 s; it sent bytes with no newline: if it uses raw framing, try -r"
}

@test "error: the server closes early on a long line (exit 4), the error line shown" {
	start_hellod -w 1 -C 'MaxLineLength 4'
	run -4 --separate-stderr hello 127.0.0.1 "$PORT" <<<'michael'
	assert_output $'welcome!\nerror: line too long'
	assert_equal "$stderr" 'hello: server closed the connection'
	run -4 --separate-stderr hello 127.0.0.1 "$PORT" <<<$'abc\nmichael\ntracy'
	assert_output $'welcome!\nhello, abc!\nerror: line too long'
	assert_equal "$stderr" 'hello: server closed the connection'
}

@test "error: the server's idle timeout ends the session (exit 4)" {
	start_hellod -w 1 -C 'Timeout 1'
	# Standard input stays open and silent (a FIFO we hold open for
	# writing too); the server gives up first.
	mkfifo "$BATS_TEST_TMPDIR/in"
	run -4 --separate-stderr hello 127.0.0.1 "$PORT" <>"$BATS_TEST_TMPDIR/in"
	assert_output $'welcome!\nerror: timeout'
	assert_equal "$stderr" 'hello: server closed the connection'
}

# usage_error MSG: stderr is MSG, the synopsis and a pointer to -h.
usage_error() {
	assert_equal "$stderr" "$1
usage: hello [-46hqrV] [-w seconds] [host [port]]
Try 'hello -h' for more information."
}

@test "error: bad usage: one line, the synopsis, a pointer to -h (exit 2)" {
	run -2 --separate-stderr hello -z
	assert_output ''
	usage_error 'hello: unknown option -z'
	run -2 --separate-stderr hello a b c
	usage_error 'hello: unexpected argument "c"'
	run -2 --separate-stderr hello --bogus
	usage_error 'hello: unknown option --bogus'
	run -2 --separate-stderr hello 127.0.0.1 99999
	usage_error 'hello: bad port "99999": out of range'
	run -2 --separate-stderr hello 127.0.0.1 notaport
	usage_error 'hello: bad port "notaport": not a number'
	run -2 --separate-stderr hello -w 0 127.0.0.1
	usage_error 'hello: -w: bad value "0": out of range (1 to 86400)'
	run -2 --separate-stderr hello -w 1x 127.0.0.1
	usage_error 'hello: -w: bad value "1x": not a number'
	run -2 --separate-stderr hello -w
	usage_error 'hello: option -w needs a value'
}

@test "options may follow the operands; -- ends them" {
	start_hellod -w 1 -C 'Framing raw'
	run -0 --separate-stderr hello 127.0.0.1 "$PORT" -r -w 5 <<<'michael'
	assert_output $'welcome!\nhello, michael!'
	run -0 --separate-stderr hello 127.0.0.1 -r "$PORT" <<<'tracy'
	assert_output $'welcome!\nhello, tracy!'
	# After --, "-r" is the port operand, not an option.
	run -2 --separate-stderr hello -- 127.0.0.1 -r
	usage_error 'hello: bad port "-r": not a number'
}

@test "-h lists every option on stdout and exits 0; -V the version" {
	run -0 --separate-stderr hello -h
	assert_line --index 0 'usage: hello [-46hqrV] [-w seconds] [host [port]]'
	local o
	for o in '-4, -6' '-h, --help' -q -r '-V, --version' -w; do
		assert_line --regexp "^  $o "
	done
	assert_equal "$stderr" ''
	run -0 --separate-stderr hello --help
	assert_line --index 0 'usage: hello [-46hqrV] [-w seconds] [host [port]]'
	run -0 hello -V
	assert_output --regexp '^hello [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 hello --version
	assert_output --regexp '^hello [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "on a terminal hello prompts; -q silences the prompt" {
	start_hellod -w 1
	run -0 timeout 10 script -qec "hello 127.0.0.1 $PORT" /dev/null <<<'michael'
	assert_output --partial $'welcome!\r\n> '
	assert_output --partial $'hello, michael!\r\n> '
	run -0 timeout 10 script -qec "hello -q 127.0.0.1 $PORT" /dev/null <<<'michael'
	assert_output --partial 'hello, michael!'
	refute_output --partial '> '
}

@test "hello -r skips an empty input line instead of waiting for an answer" {
	start_hellod -w 1 -C 'Framing raw'
	run --separate-stderr -0 timeout 10 hello -r -w 5 127.0.0.1 "$PORT" <<<$'michael\n\nsarah'
	assert_output $'welcome!\nhello, michael!\nhello, sarah!'
}

@test "error: an input line over 1 MiB is exit 5, not a usage error" {
	start_hellod -w 1
	run -5 --separate-stderr bash -c "head -c 1100000 /dev/zero | tr '\\0' a | hello 127.0.0.1 $PORT"
	assert_equal "$stderr" 'hello: input line longer than 1048576 bytes'
}

@test "on a terminal, an error from the server starts on a new line" {
	start_hellod -w 1 -C 'Timeout 1'
	# Standard input stays open with a half-typed line; the server
	# gives up first.
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 4<>"$BATS_TEST_TMPDIR/in"
	printf 'mic' >&4
	run -4 timeout 10 script -qec "hello 127.0.0.1 $PORT" /dev/null <"$BATS_TEST_TMPDIR/in"
	exec 4>&-
	assert_output --partial $'> \r\nerror: timeout\r\n'
	assert_output --partial $'hello: server closed the connection'
}

@test "-w bounds the name lookup too (exit 3)" {
	run --separate-stderr -3 silent_dns timeout 8 hello -w 1 nosuch.example.com 9999
	assert_equal "$stderr" 'hello: cannot resolve "nosuch.example.com": timed out'
}

# hostile_hello: a hello server, in the background, whose greeting sets
# the terminal's title, whose answers clear the screen and carry C1
# controls, and which writes the clipboard (OSC 52) after "exit".  Sets
# FAKE_PORT and FAKE_PID.
hostile_hello() {
	local pf="$BATS_TEST_TMPDIR/fake.port"
	python3 - "$pf" 3>&- <<'PY' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
tmp = sys.argv[1] + ".tmp"
open(tmp, "w").write(str(s.getsockname()[1]))
os.rename(tmp, sys.argv[1])
while True:
    c, _ = s.accept()
    c.sendall(b"welcome!\x1b]0;pwned\x07\n")
    # One read is one message: hello waits for each answer.
    while True:
        line = c.recv(1024).rstrip(b"\n")
        if line in (b"", b"exit"):
            c.sendall(b"bye\x1b]52;c;cHduZWQ=\x07\n")
            break
        c.sendall(b"hello, \x1b[2J" + line + b"\x9b\xc2\x9b\xc3\xa9\t\r!\n")
    c.close()
PY
	FAKE_PID=$!
	wait_until 5 test -s "$pf"
	FAKE_PORT=$(cat "$pf")
}

@test "on a terminal, the server's control characters are shown escaped; in a pipe and with -r, byte for byte" {
	hostile_hello
	# A terminal, in an ASCII locale: everything but text is \xHH.
	run -0 env LC_ALL=C python3 "$TOP/test/pty_stderr.py" --stdout 0 \
	    hello 127.0.0.1 "$FAKE_PORT" <<<'ann'
	assert_output "b'welcome!\\\\x1b]0;pwned\\\\x07\\r\\nhello, \\\\x1b[2Jann\\\\x9b\\\\xc2\\\\x9b\\\\xc3\\\\xa9\\t\\\\x0d!\\r\\nbye\\\\x1b]52;c;cHduZWQ=\\\\x07\\r\\n'"
	# In a UTF-8 locale, UTF-8 text stays, its C1 controls do not.
	if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then
		run -0 env LC_ALL=C.UTF-8 python3 "$TOP/test/pty_stderr.py" \
		    --stdout 0 hello 127.0.0.1 "$FAKE_PORT" <<<'ann'
		assert_line --partial "hello, \\\\x1b[2Jann\\\\x9b\\\\xc2\\\\x9b\\xc3\\xa9\\t\\\\x0d!"
	fi
	# A pipe gets the bytes as they came.
	hello 127.0.0.1 "$FAKE_PORT" <<<'ann' >"$BATS_TEST_TMPDIR/out"
	printf 'welcome!\e]0;pwned\a\nhello, \e[2Jann\x9b\xc2\x9b\xc3\xa9\t\r!\nbye\e]52;c;cHduZWQ=\a\n' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
	# -r asks for the bytes as they came, on a terminal too.
	run -0 env LC_ALL=C python3 "$TOP/test/pty_stderr.py" --stdout 0 \
	    hello -r 127.0.0.1 "$FAKE_PORT" <<<'ann'
	assert_output --partial "hello, \\x1b[2Jann\\x9b\\xc2\\x9b\\xc3\\xa9\\t\\r!"
}
