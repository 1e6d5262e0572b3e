#!/usr/bin/env bats
# Issue 3, item 1: the configuration file, -C, -l, -w and -t.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	CONF="$BATS_TEST_TMPDIR/h.conf"
}

teardown() {
	pm_teardown
	[ -z "${OWN_DIR:-}" ] || rm -rf "$OWN_DIR"
}

# A file with every directive, comments and blank lines, listening on $PORT.
write_full_conf() {
	cat >"$CONF" <<-EOF
	# hellod test configuration

	Listen 127.0.0.1:$PORT
	StartServers 2
	MinSpareServers 1
	  MaxSpareServers 3     
	MaxRequestWorkers 4
	MaxConnectionsPerChild 0
	ListenBacklog 64
	# a comment between directives
	Timeout 1
	GracefulShutdownTimeout 3
	MaxLineLength 10
	Framing line
	ReplyDelay 300
	PidFile "$BATS_TEST_TMPDIR/h.pid"
	ErrorLog $BATS_TEST_TMPDIR/error.log
	LogLevel info
	CustomLog $BATS_TEST_TMPDIR/access.log
	User root
	Group root

	EOF
}

@test "-f: every directive, with comments and blank lines, takes effect" {
	PORT=$(free_port)
	write_full_conf
	WORKERS=2 launch_hellod -f "$CONF"
	# StartServers 2, and MinSpare 1..MaxSpare 3 keeps it at 2
	[ "$(worker_count "$HELLOD_PID")" -eq 2 ]
	# PidFile
	[ "$(cat "$BATS_TEST_TMPDIR/h.pid")" = "$HELLOD_PID" ]
	# ErrorLog at LogLevel info
	wait_until 5 log_has "$BATS_TEST_TMPDIR/error.log" '\[notice\] .*started: 2 workers \(up to 4\), listening on 127\.0\.0\.1:'"$PORT"
	# MaxLineLength 10: 10 bytes pass, 11 do not
	run -0 talk "$PORT" <<<$'0123456789\n01234567890'
	assert_output $'welcome!\nhello, 0123456789!\nerror: line too long'
	# Timeout 1: a silent client is told and closed
	run -0 talk "$PORT" </dev/null
	assert_output $'welcome!\nerror: timeout'
	# CustomLog, and ReplyDelay 300 shows in the session's duration
	wait_until 5 log_has "$BATS_TEST_TMPDIR/access.log" ' too-long$'
	wait_until 5 log_has "$BATS_TEST_TMPDIR/access.log" ' timeout$'
	run -0 grep ' too-long$' "$BATS_TEST_TMPDIR/access.log"
	assert_output --regexp '\] [0-9]+\.([3-9][0-9]{2}) 1 '
	# LogLevel info logs every accept (launch_hellod's probe is one too)
	run -0 grep -c 'accepted from 127.0.0.1:' "$BATS_TEST_TMPDIR/error.log"
	(( output >= 2 ))
}

@test "-C wins over the file" {
	PORT=$(free_port)
	write_full_conf
	launch_hellod -f "$CONF" -C 'Framing raw' -C 'ReplyDelay 0' -C 'LogLevel warn'
	run -0 talk "$PORT" --half-close <<<'bob'
	assert_output $'welcome!hello, bob\n!'
	run -1 grep -F '[notice]' "$BATS_TEST_TMPDIR/error.log"
}

@test "-l and -w are shorthands for Listen and a fixed pool" {
	PORT=$(free_port)
	local other=$PORT
	write_full_conf
	PORT=$(free_port)
	WORKERS=3 launch_hellod -f "$CONF" -l "127.0.0.1:$PORT" -w 3
	port_closed "$other"
	run -0 talk "$PORT" --half-close <<<'ann'
	assert_output $'welcome!\nhello, ann!'
	# StartServers 2 and MaxSpareServers 3 of the file give way to -w 3
	sleep 1.1
	[ "$(worker_count "$HELLOD_PID")" -eq 3 ]
}

@test "an unknown directive names the file, the line and the directive" {
	printf '# comment\n\nBogusDirective 3\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[ "$stderr" = "hellod: $CONF:3: unknown directive \"BogusDirective\"" ]
	assert_output ''
}

@test "a bad value names the file, the line and the directive" {
	printf 'StartServers 2\n# timeout next\nTimeout x\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[ "$stderr" = "hellod: $CONF:3: Timeout: bad value \"x\": not a number" ]
	printf 'Framing lines\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[ "$stderr" = "hellod: $CONF:1: Framing: bad value \"lines\": expected line or raw" ]
	printf '\nLogLevel loud\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[[ $stderr == "hellod: $CONF:2: LogLevel: bad value \"loud\": expected "* ]]
	printf 'Listen nowhere\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[[ $stderr == "hellod: $CONF:1: "* ]]
}

@test "an out-of-range number names the file, the line and the directive" {
	printf 'StartServers 0\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[ "$stderr" = "hellod: $CONF:1: StartServers: bad value \"0\": out of range (1 to 20000)" ]
	printf 'Timeout 5\nMaxLineLength 99999999\n' >"$CONF"
	run -1 --separate-stderr hellod -f "$CONF"
	[ "$stderr" = "hellod: $CONF:2: MaxLineLength: bad value \"99999999\": out of range (1 to 1048576)" ]
}

@test "a config line over 4096 bytes, or with a NUL byte, names the file and line" {
	# /dev/zero has no newline and no end: refused at its first byte.
	run -1 --separate-stderr timeout 5 hellod -t -f /dev/zero
	assert_equal "$stderr" $'hellod: /dev/zero:1: line holds a NUL byte\nSyntax error'
	# A NUL would otherwise end the line early: "Timeout 5" would pass.
	printf 'Timeout 5\0 nonsense\n' >"$CONF"
	run -1 --separate-stderr hellod -t -f "$CONF"
	assert_equal "$stderr" "hellod: $CONF:1: line holds a NUL byte"$'\nSyntax error'
	{ echo 'Timeout 5'; printf '#%04096d\n' 0; } >"$CONF"
	run -1 --separate-stderr hellod -t -f "$CONF"
	assert_equal "$stderr" "hellod: $CONF:2: line longer than 4096 bytes"$'\nSyntax error'
	# 4096 bytes is still a line, with or without its newline.
	{ echo 'Timeout 5'; printf '#%04095d\n' 0; printf 'Timeout 6'; } >"$CONF"
	run -0 --separate-stderr hellod -t -f "$CONF"
	assert_equal "$stderr" 'Syntax OK'
}

@test "a bad -C names the option and the directive" {
	run -1 --separate-stderr hellod -C 'Timeout -3'
	[ "$stderr" = "hellod: -C 'Timeout -3': Timeout: bad value \"-3\": out of range (1 to 86400)" ]
	run -1 --separate-stderr hellod -C 'NoSuch 1'
	[ "$stderr" = "hellod: -C 'NoSuch 1': unknown directive \"NoSuch\"" ]
	run -8 --separate-stderr hellod -w 0
	[ "${stderr_lines[0]}" = 'hellod: -w: bad value "0": out of range (1 to 20000)' ]
	run -1 --separate-stderr hellod -C 'User no-such-user-here'
	[ "$stderr" = 'hellod: User: no such user "no-such-user-here"' ]
	run -1 --separate-stderr hellod -f "$BATS_TEST_TMPDIR/missing.conf"
	[ "$stderr" = "hellod: $BATS_TEST_TMPDIR/missing.conf: No such file or directory" ]
}

@test "-t says Syntax OK without binding, forking or writing the pid file" {
	# A server already holds the port: a -t that bound it would fail.
	start_hellod
	local before
	before=$(worker_count "$HELLOD_PID")
	PIDF="$BATS_TEST_TMPDIR/t.pid"
	write_full_conf
	sed -i "s|^PidFile .*|PidFile $PIDF|" "$CONF"
	run -0 --separate-stderr hellod -t -f "$CONF"
	# On stderr, as httpd -t and nginx -t print it.
	assert_output ''
	assert_equal "$stderr" 'Syntax OK'
	[ ! -e "$PIDF" ]
	[ ! -e "$BATS_TEST_TMPDIR/error.log" ]
	[ ! -e "$PIDF.scoreboard" ]
	# without -t the same configuration cannot start here
	run -2 --separate-stderr hellod -f "$CONF"
	[ "$stderr" = "hellod: cannot listen on 127.0.0.1:$PORT: Address already in use" ]
	[ "$(worker_count "$HELLOD_PID")" -eq "$before" ]
	port_open "$PORT"
}

@test "-t with a bad file prints the error and fails, binding nothing" {
	PORT=$(free_port)
	printf 'Listen 127.0.0.1:%s\nMaxSpareServers 1\nMinSpareServers 2\n' "$PORT" >"$CONF"
	run -1 --separate-stderr hellod -t -f "$CONF"
	assert_output ''
	[ "$stderr" = $'hellod: MinSpareServers 2 is more than MaxSpareServers 1\nSyntax error' ]
	printf 'Listen 127.0.0.1:%s\nTimeout x\n' "$PORT" >"$CONF"
	run -1 --separate-stderr hellod -t -f "$CONF"
	[ "$stderr" = $'hellod: '"$CONF"$':2: Timeout: bad value "x": not a number\nSyntax error' ]
	port_closed "$PORT"
}

@test "the same Listen twice is an error that says so" {
	run --separate-stderr -1 hellod -t -l 127.0.0.1:9 -l 127.0.0.1:9
	assert_equal "$stderr" $'hellod: Listen 127.0.0.1:9 given twice\nSyntax error'
}

@test "a numeric User out of range is refused by -t" {
	run --separate-stderr -1 hellod -t -C 'User #4294967295'
	assert_equal "$stderr" $'hellod: User: bad value "#4294967295"\nSyntax error'
}

# --- hellod -t checks what a start would ------------------------------

@test "-t: a missing directory for ErrorLog, CustomLog or PidFile is an error" {
	local d
	for d in ErrorLog CustomLog PidFile; do
		run -1 --separate-stderr hellod -t -C "$d $BATS_TEST_TMPDIR/nodir/f"
		assert_output ''
		assert_equal "$stderr" "hellod: $d $BATS_TEST_TMPDIR/nodir/f: No such file or directory
Syntax error"
	done
	# The same configuration does not start either: -t told the truth.
	run -2 --separate-stderr hellod -l "127.0.0.1:$(free_port)" \
	    -C "PidFile $BATS_TEST_TMPDIR/nodir/f"
	# A relative path is checked against the starting directory.
	cd "$BATS_TEST_TMPDIR"
	run -1 --separate-stderr hellod -t -C 'ErrorLog logs/error.log'
	assert_equal "${stderr_lines[0]}" "hellod: ErrorLog $BATS_TEST_TMPDIR/logs/error.log: No such file or directory"
	mkdir logs
	run -0 --separate-stderr hellod -t -C 'ErrorLog logs/error.log'
	assert_equal "$stderr" 'Syntax OK'
	[ ! -e logs/error.log ]
}

@test "-t: a directory in place of a file, or a file in place of a directory" {
	touch "$BATS_TEST_TMPDIR/plain"
	run -1 --separate-stderr hellod -t -C "ErrorLog $BATS_TEST_TMPDIR"
	assert_equal "${stderr_lines[0]}" "hellod: ErrorLog $BATS_TEST_TMPDIR: Is a directory"
	run -1 --separate-stderr hellod -t -C "PidFile $BATS_TEST_TMPDIR/plain/h.pid"
	assert_equal "${stderr_lines[0]}" "hellod: PidFile $BATS_TEST_TMPDIR/plain/h.pid: Not a directory"
}

@test "-t: a directory the server cannot write to is an error" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run hellod as nobody"
	mkdir -m 755 "$BATS_TEST_TMPDIR/ro"
	chmod 755 "$BATS_TEST_TMPDIR"
	run -1 --separate-stderr setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups hellod -t -C "PidFile $BATS_TEST_TMPDIR/ro/h.pid"
	assert_equal "${stderr_lines[0]}" "hellod: PidFile $BATS_TEST_TMPDIR/ro/h.pid: Permission denied"
}

@test "two values for a one-value directive name the directive and the line" {
	printf 'Timeout 5\nErrorLog /var/log/a.log /var/log/b.log\n' >"$CONF"
	run -1 --separate-stderr hellod -t -f "$CONF"
	assert_equal "$stderr" "hellod: $CONF:2: ErrorLog: more than one value: /var/log/a.log /var/log/b.log (quote a value that holds blanks)
Syntax error"
	run -1 --separate-stderr hellod -t -C 'Timeout 5 10'
	assert_equal "${stderr_lines[0]}" "hellod: -C 'Timeout 5 10': Timeout: more than one value: 5 10 (quote a value that holds blanks)"
	run -1 --separate-stderr hellod -t -C 'PidFile "/tmp/a b" c'
	assert_equal "${stderr_lines[0]}" "hellod: -C 'PidFile \"/tmp/a b\" c': PidFile: more than one value: \"/tmp/a b\" c (quote a value that holds blanks)"
	run -1 --separate-stderr hellod -t -C 'PidFile "/tmp/a b'
	assert_equal "${stderr_lines[0]}" "hellod: -C 'PidFile \"/tmp/a b': PidFile: missing closing quote"
}

@test "a '#' after a blank ends the value; a '#' inside a word stays" {
	PORT=$(free_port)
	cat >"$CONF" <<-EOF
	Listen 127.0.0.1:$PORT   # loopback only
	ErrorLog $BATS_TEST_TMPDIR/e#1.log # main log
	CustomLog "$BATS_TEST_TMPDIR/a b.log"	# quoted, with a blank
	User #0 # root, by number
	Timeout 5#
	EOF
	run -1 --separate-stderr hellod -t -f "$CONF"
	assert_equal "${stderr_lines[0]}" "hellod: $CONF:5: Timeout: bad value \"5#\": not a number"
	sed -i '$d' "$CONF"
	launch_hellod -f "$CONF"
	wait_until 5 test -s "$BATS_TEST_TMPDIR/e#1.log"
	[ -e "$BATS_TEST_TMPDIR/a b.log" ]
	run -0 ls "$BATS_TEST_TMPDIR"
	refute_output --partial 'main log'
	refute_output --partial 'quoted'
}

@test "User and Group when not root: a warning from -t and at start" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run hellod as nobody"
	chmod 755 "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups hellod -t -C 'User nobody' -C 'Group nogroup'
	assert_equal "$stderr" 'hellod: warning: User and Group ignored: not running as root
Syntax OK'
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	# nobody's default pid file goes in /tmp/hellod-UID, removed by
	# teardown if this test made it.
	[ -e "/tmp/hellod-$(id -u nobody)" ] || OWN_DIR="/tmp/hellod-$(id -u nobody)"
	env -u XDG_RUNTIME_DIR setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups hellod -w 1 \
	    -l "127.0.0.1:$PORT" -C 'User nobody' 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 port_open "$PORT"
	wait_until 5 grep -q 'started' "$HELLOD_ERR"
	run -0 grep -c '\[warn\] .* master: User ignored: not running as root$' "$HELLOD_ERR"
	# As root, no warning.
	run -0 --separate-stderr hellod -t -C 'User nobody'
	assert_equal "$stderr" 'Syntax OK'
}
