#!/usr/bin/env bats
# httpget against python3 -m http.server (HTTP/1.0) and a node http
# server (chunked bodies, trailers), each file checked against curl.
bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	load httpget_helper
	WWW="$BATS_FILE_TMPDIR/www"
	mkdir -p "$WWW"
	printf 'from python\n' >"$WWW/py.txt"
	head -c 3000000 /dev/urandom >"$WWW/py.bin"
	start_pyhttp "$WWW"
	start_node
	export WWW PY_PID PY_PORT NODE_PID NODE_PORT
}

teardown_file() {
	load helper
	load httpget_helper
	stop_pid "${PY_PID:-}"
	stop_pid "${NODE_PID:-}"
}

setup() {
	load helper
	load httpget_helper
	cd "$BATS_TEST_TMPDIR"
	PY="http://127.0.0.1:$PY_PORT"
	NODE="http://127.0.0.1:$NODE_PORT"
}

@test "python http.server: an HTTP/1.0 response" {
	run -0 httpget "$PY/py.txt"
	assert_line --index 0 'HTTP/1.0 200 OK'
	run -0 cat py.txt
	assert_output 'from python'
	same_as_curl "$PY/py.txt" py.txt
}

@test "python http.server: a 3 MB binary, the same as curl" {
	run -0 httpget -q "$PY/py.bin"
	cmp "$WWW/py.bin" py.bin
	same_as_curl "$PY/py.bin" py.bin
}

@test "python http.server: a directory listing saved as index.html" {
	run -0 httpget -q "$PY/"
	same_as_curl "$PY/" index.html
}

@test "python http.server: 404 is exit 8" {
	run --separate-stderr -8 httpget "$PY/nope"
	assert_equal "$stderr" "httpget: $PY/nope: 404 File not found"
	[ ! -e nope ]
}

@test "node: a chunked body with a trailer" {
	run -0 httpget "$NODE/chunked"
	assert_line 'Transfer-Encoding: chunked'
	refute_line --partial 'abc123'
	run -0 cat chunked
	assert_output 'hello, chunked world'
	same_as_curl "$NODE/chunked" chunked
}

@test "node: chunks that arrive one by one" {
	run -0 httpget -q "$NODE/slow"
	run -0 wc -l <slow
	assert_output 10
	same_as_curl "$NODE/slow" slow
}

@test "node: 3 MiB in chunks of every size, the same as curl" {
	run -0 httpget -q "$NODE/big"
	run -0 wc -c <big
	assert_output 3145728
	same_as_curl "$NODE/big" big
}

@test "node: an empty body" {
	run -0 httpget -q "$NODE/empty"
	[ -f empty ] && [ ! -s empty ]
}
