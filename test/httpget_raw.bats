#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# httpget against test/rawhttp.py: the responses no real server sends on
# purpose.  Each scenario is a small file under test/httpget-raw/.

setup() {
	load helper
	load httpget_helper
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_pid "${RAW_PID:-}"
}

url() {
	echo "http://127.0.0.1:$RAW_PORT${1:-/file}"
}

@test "httpget sends GET with Host, User-Agent, Accept, Connection: close" {
	start_rawhttp ok
	run -0 httpget -q "$(url '/a b?q=1#frag')"
	run -0 cat "$RAW_LOG"
	assert_output "GET /a%20b?q=1 HTTP/1.1
Host: 127.0.0.1:$RAW_PORT
User-Agent: httpget/0.1.0
Accept: */*
Connection: close
--"
	run -0 cat 'a b'
	assert_output content
}

@test "httpget -A and -H change and add request headers" {
	start_rawhttp ok
	run -0 httpget -q -A 'tester/1' -H 'X-One: 1' -H 'Accept: text/plain' \
	    -o out "$(url /)"
	run -0 cat "$RAW_LOG"
	assert_line 'User-Agent: tester/1'
	assert_line 'X-One: 1'
	assert_line 'Accept: text/plain'
	refute_line 'Accept: */*'
}

@test "a truncated Content-Length body is exit 4 and leaves no file" {
	start_rawhttp trunc-length
	run --separate-stderr -4 httpget "$(url /file)"
	assert_equal "$stderr" "Saving to 'file'
httpget: $(url /file): transfer closed with 40 of 100 bytes"
	[ ! -e file ]
	no_temp_files .
}

@test "a truncated chunked body is exit 4" {
	start_rawhttp trunc-chunked
	run --separate-stderr -4 httpget "$(url /file)"
	assert_equal "$stderr" "Saving to 'file'
httpget: $(url /file): transfer closed before the last chunk (10 bytes received)"
	[ ! -e file ]
	no_temp_files .
}

@test "a failed transfer keeps the old content of an -o file" {
	start_rawhttp trunc-length
	echo old >kept
	run -4 httpget -q -o kept "$(url /file)"
	run -0 cat kept
	assert_output old
	no_temp_files .
}

@test "a bad chunk size is a protocol error (exit 7)" {
	start_rawhttp bad-chunk
	run --separate-stderr -7 httpget -T 10 "$(url /file)"
	assert_equal "$stderr" "Saving to 'file'
httpget: $(url /file): bad chunk size \"zz\""
	[ ! -e file ]
	no_temp_files .
}

@test "a header line over the limit is a protocol error (exit 7)" {
	start_rawhttp long-header
	run --separate-stderr -7 httpget -T 10 "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): header line longer than 8192 bytes"
	[ ! -e file ]
}

@test "100 Continue is skipped; a complete body ends the transfer at once" {
	start_rawhttp continue
	run -0 httpget -T 20 "$(url /file)"
	assert_line --index 0 'HTTP/1.1 100 Continue'
	assert_line --index 1 'HTTP/1.1 200 OK'
	run -0 cat file
	assert_output 'after 100'
}

@test "a redirect loop stops after 20 redirects (exit 8)" {
	start_rawhttp loop
	run --separate-stderr -8 httpget -q "$(url /loop)"
	assert_equal "$stderr" "httpget: $(url /loop): 20 redirections exceeded"
	run -0 requests
	assert_output 21
	[ ! -e loop ]
}

@test "--max-redirs bounds the redirects; 0 follows none" {
	start_rawhttp loop
	run -8 httpget -q --max-redirs 3 "$(url /loop)"
	run -0 requests
	assert_output 4
	: >"$RAW_LOG"
	run --separate-stderr -8 httpget -q --max-redirs=0 "$(url /loop)"
	assert_equal "$stderr" "httpget: $(url /loop): 0 redirections exceeded"
	run -0 requests
	assert_output 1
}

@test "a relative Location is resolved against the current URL" {
	start_rawhttp relative
	run -0 httpget "$(url /dir/a)"
	assert_line --index 0 'HTTP/1.1 302 Found'
	assert_line 'HTTP/1.1 200 OK'
	run -0 grep '^GET ' "$RAW_LOG"
	assert_output 'GET /dir/a HTTP/1.1
GET /dir/b?x=1 HTTP/1.1'
	# Named after the URL as typed, as wget and curl -O do.
	run -0 cat a
	assert_output 'relative ok'
	[ ! -e b ]
}

@test "204 has no body even with Content-Length and an open connection" {
	start_rawhttp no-content
	run -0 httpget -T 20 -o out "$(url /)"
	assert_line --index 0 'HTTP/1.1 204 No Content'
	[ -f out ] && [ ! -s out ]
}

@test "304 has no body; it is not a success (exit 8)" {
	start_rawhttp not-modified
	run --separate-stderr -8 httpget -T 20 -o out "$(url /)"
	assert_equal "$stderr" "httpget: $(url /): 304 Not Modified"
	[ ! -e out ]
}

@test "conflicting Content-Length values are a protocol error (exit 7)" {
	start_rawhttp conflicting-length
	run --separate-stderr -7 httpget -T 10 "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): conflicting Content-Length values"
	[ ! -e file ]
}

@test "a server that stalls is a timeout (exit 4), not a hang" {
	start_rawhttp stall
	echo old >kept
	run --separate-stderr -4 httpget -T 1 -o kept "$(url /file)"
	assert_equal "$stderr" "Saving to 'kept'
httpget: $(url /file): timed out waiting for data (-T 1)"
	run -0 cat kept
	assert_output old
	no_temp_files .
}

@test "a body without length ends at close" {
	start_rawhttp close-delimited
	run -0 httpget -q "$(url /file)"
	run -0 cat file
	assert_output 'until close'
}

@test "chunked with extensions and trailers, connection held open" {
	start_rawhttp chunked-held
	run -0 httpget -q -T 20 -o - "$(url /file)"
	assert_output 'hello world'
	[ ! -e file ]
}

@test "a status line that is not HTTP/1.x is a protocol error (exit 7)" {
	start_rawhttp bad-status
	run --separate-stderr -7 httpget -T 10 "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): bad status line \"HTTP/2.0 200 OK\""
}

@test "a redirect without Location is exit 8" {
	start_rawhttp no-location
	run --separate-stderr -8 httpget -T 10 "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): 301 Moved Permanently without Location"
}

@test "a redirect to https is refused without connecting" {
	start_rawhttp to-https
	run --separate-stderr -1 httpget -T 10 "$(url /file)"
	assert_equal "$stderr" "httpget: https://127.0.0.1:1/secure: https is not supported"
	run -0 requests
	assert_output 1
}

@test "a 500 is exit 8; its body is not saved and a file is kept" {
	start_rawhttp server-error
	echo old >kept
	run --separate-stderr -8 httpget -o kept "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): 500 Internal Server Error"
	run -0 cat kept
	assert_output old
	[ ! -e file ]
	no_temp_files .
}

@test "a connection closed before any response is exit 4" {
	start_rawhttp no-response
	run --separate-stderr -4 httpget "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): connection closed before any response"
}

@test "a name from the URL never leaves the current directory" {
	start_rawhttp ok
	mkdir sub
	cd sub
	run -0 httpget -q "$(url /x/..%2F..%2Fescaped)"
	run -0 cat '_._.._escaped'
	assert_output content
	run -0 httpget -q "$(url /x/%2e%2e)"
	run -0 cat index.html
	assert_output content
	run -0 httpget -q "$(url /../../up)"
	[ -f up ]
	[ ! -e ../escaped ] && [ ! -e ../../up ] && [ ! -e ../up ]
}

@test "an existing file is not overwritten without -f (exit 3)" {
	start_rawhttp ok
	echo old >file
	run --separate-stderr -3 httpget -q "$(url /file)"
	assert_equal "$stderr" "httpget: $(url /file): file already exists (use -f to overwrite)"
	run -0 cat file
	assert_output old
	no_temp_files .
	run -0 httpget -q -f "$(url /file)"
	run -0 cat file
	assert_output content
}

@test "TERM during a transfer removes the temporary file" {
	start_rawhttp stall
	echo old >kept
	httpget -q -T 30 -o kept "$(url /file)" 3>&- &
	pid=$!
	wait_until 10 temp_file_exists
	kill -TERM "$pid"
	# wait in this shell: only it is httpget's parent.
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	no_temp_files .
	run -0 cat kept
	assert_output old
}

@test "a redirect to another host drops Authorization, Cookie and Host" {
	port=$(free_port)
	cat >scenario <<EOF
== /a
HTTP/1.1 302 Found\\r\\n
Location: http://localhost:$port/b\\r\\n
Content-Length: 0\\r\\n
\\r\\n
== /b
HTTP/1.1 200 OK\\r\\n
Content-Length: 3\\r\\n
\\r\\n
ok\\n
EOF
	start_rawhttp "$PWD/scenario" "$port"
	run -0 httpget -q -o out -H 'Authorization: Basic eDp5' \
	    -H 'Cookie: c=1' -H 'Host: custom' -H 'X-Keep: 1' \
	    "http://127.0.0.1:$port/a"
	run -0 cat out
	assert_output ok
	run -0 awk '/^--$/ { exit } 1' "$RAW_LOG"
	assert_line 'Host: custom'
	assert_line 'Authorization: Basic eDp5'
	assert_line 'Cookie: c=1'
	run -0 awk 'n == 1 { print } /^--$/ { n++ }' "$RAW_LOG"
	assert_line "Host: localhost:$port"
	assert_line 'X-Keep: 1'
	refute_line --partial 'Authorization'
	refute_line --partial 'Cookie'
	refute_line 'Host: custom'
}

@test "a redirect on the same host keeps Authorization" {
	start_rawhttp relative
	run -0 httpget -q -o out -H 'Authorization: Basic eDp5' "$(url /dir/a)"
	run -0 grep -c '^Authorization: Basic eDp5$' "$RAW_LOG"
	assert_output 2
}

@test "on a terminal, an error erases the progress bar first" {
	start_rawhttp trunc-length
	run -0 python3 "$TOP/test/pty_stderr.py" 4 httpget -o out "$(url /file)"
	assert_output --partial '40 B'
	assert_output --regexp "\\\\r +\\\\rhttpget: "
}

@test "on a terminal, a progress bar is drawn and then erased" {
	start_rawhttp ok
	run -0 python3 "$TOP/test/pty_stderr.py" 0 httpget -o out "$(url /file)"
	assert_output --partial '100%'
	assert_output --partial '8 B'
	assert_output --partial "Saving to 'out'"
	assert_output --regexp "\\\\r +\\\\r'out' saved \\["
	run -0 cat out
	assert_output content
}

@test "on a terminal 40 columns wide, each redraw of the progress bar fits in 39" {
	start_rawhttp ok
	run -0 python3 "$TOP/test/pty_stderr.py" --cols 40 0 httpget -o out "$(url /file)"
	assert_output --partial '100%'
	# Every redraw: what lies between carriage returns, lines left out.
	run -0 python3 -c 'import ast, sys
out = ast.literal_eval(sys.argv[1]).replace(b"\r\n", b"\n")
for piece in out.split(b"\r"):
    if b"\n" not in piece and len(piece) > 39:
        sys.exit("too wide: %r" % piece)' "$output"
}

# --- the local name and what is written where ----------------------------

@test "a redirect to a dotfile saves under the typed URL's name" {
	start_rawhttp dotfile
	run --separate-stderr -0 httpget "$(url /report.txt)"
	saved report.txt
	run -0 cat report.txt
	assert_output secret
	[ ! -e .bashrc ]
	# -f replaces report.txt, never .bashrc.
	echo mine >.bashrc
	run -0 httpget -q -f "$(url /report.txt)"
	run -0 cat .bashrc
	assert_output mine
}

@test "--trust-server-names names the file after the final URL, never a dotfile" {
	start_rawhttp dotfile
	run --separate-stderr -0 httpget --trust-server-names "$(url /plain)"
	saved final.txt
	run -0 cat final.txt
	assert_output final
	[ ! -e plain ]
	run --separate-stderr -0 httpget "$(url /report.txt)" --trust-server-names
	saved _bashrc
	run -0 cat _bashrc
	assert_output secret
	[ ! -e .bashrc ]
}

@test "a typed name that starts with a dot is saved with an underscore" {
	start_rawhttp ok
	run --separate-stderr -0 httpget "$(url /.profile)"
	saved _profile
	run --separate-stderr -0 httpget "$(url /%2Essh)"
	saved _ssh
	[ ! -e .profile ] && [ ! -e .ssh ]
	run -0 cat _ssh
	assert_output content
}

@test "Saving to names the file on stderr; not with -q, not with -o -" {
	start_rawhttp ok
	run --separate-stderr -0 httpget -o out "$(url /file)"
	saved out
	run --separate-stderr -0 httpget -q -f -o out "$(url /file)"
	assert_equal "$stderr" ''
	run --separate-stderr -0 httpget -q -o - "$(url /file)"
	assert_output content
	assert_equal "$stderr" ''
}

# on_tty CMD: run CMD with its standard output on a terminal.
on_tty() {
	timeout 10 script -qec "$*" /dev/null </dev/null
}

@test "a binary body is not written to a terminal without --binary (exit 3)" {
	start_rawhttp binary
	run -3 on_tty httpget -q -o - "$(url /image)"
	assert_output "httpget: $(url /image): not writing a binary body (image/png) to a terminal (--binary writes it anyway)"$'\r'
	run -3 on_tty httpget -q -o - "$(url /untyped)"
	assert_output --partial "httpget: $(url /untyped): not writing a binary body to a terminal (--binary writes it anyway)"
	run -0 on_tty httpget -q -o - "$(url /text)"
	assert_output $'text ok\r'
	run -0 on_tty httpget -q -o - "$(url /json)"
	assert_output $'{}\r'
	run -0 on_tty httpget -q --binary -o - "$(url /image)"
	assert_output --partial 'PN'
	# Not a terminal: bytes pass through untouched.
	run -0 --separate-stderr httpget -q -o - "$(url /untyped)"
	run -0 bash -c "httpget -q -o - '$(url /untyped)' | od -An -c | tr -s ' '"
	assert_output ' a \0 b \n'
}

@test "a server's control characters reach no message raw: status line, reason, Location (\\xHH, as curl)" {
	start_rawhttp hostile
	run -7 --separate-stderr env LC_ALL=C httpget -q -o out "$(url /status)"
	assert_equal "$stderr" "httpget: $(url /status): bad status line \"HTTP/1.1 200 OK \\x1b[31mRED\\x07\""
	run -8 --separate-stderr env LC_ALL=C httpget -q -o out "$(url /reason)"
	assert_equal "$stderr" "httpget: $(url /reason): 404 Gone\\x9b2J\\x7f\\xc2\\x9b"
	# UTF-8 text is text in a UTF-8 locale, but not its C1 controls.
	run -8 --separate-stderr env LC_ALL=C.UTF-8 httpget -q -o out "$(url /reason)"
	assert_equal "$stderr" "httpget: $(url /reason): 404 Gone\\x9b2J\\x7f\\xc2\\x9b"
	run -7 --separate-stderr env LC_ALL=C httpget -q -o out "$(url /location)"
	assert_equal "$stderr" "httpget: $(url /location): bad Location \"http://[\\x9b\\\"\\\\\""
	# Headers in a pipe are the server's bytes; on a terminal, escaped.
	run -0 bash -c "httpget -o out '$(url /header)' 2>/dev/null | grep -a '^X-Evil' | od -An -tx1 | tr -s ' '"
	assert_output ' 58 2d 45 76 69 6c 3a 20 61 9b 62 c3 a9 0a'
	run -0 on_tty env LC_ALL=C httpget -o out "$(url /header)"
	assert_line --index 1 $'X-Evil: a\\x9bb\\xc3\\xa9\r'
	run -0 on_tty env LC_ALL=C.UTF-8 httpget -o out2 "$(url /header)"
	assert_line --index 1 $'X-Evil: a\\x9bb\xc3\xa9\r'
}

@test "a text body with control sequences is not written to a terminal without --binary (exit 3)" {
	start_rawhttp hostile
	run -3 on_tty httpget -q -o - "$(url /body)"
	assert_output "httpget: $(url /body): not writing a body with control characters to a terminal (--binary writes it anyway)"$'\r'
	run -0 on_tty httpget -q --binary -o - "$(url /body)"
	assert_output --partial 'cHduZWQ='
	# Not a terminal: the bytes as they came.
	httpget -q -o - "$(url /body)" >body
	printf 'clip\e]52;c;cHduZWQ=\a ok\n' >want
	cmp body want
}
