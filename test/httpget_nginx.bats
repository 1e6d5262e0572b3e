#!/usr/bin/env bats
# httpget against a real nginx (started once for the file) and checked
# against what curl fetches from the same URLs.
bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	load httpget_helper
	WWW="$BATS_FILE_TMPDIR/www"
	mkdir -p "$WWW/dir"
	printf 'hello, world\n' >"$WWW/small.txt"
	printf 'spaced\n' >"$WWW/a b.txt"
	printf '<p>index</p>\n' >"$WWW/dir/index.html"
	: >"$WWW/empty.txt"
	head -c 1048576 /dev/urandom >"$WWW/1m.bin"
	head -c 104857600 /dev/urandom >"$WWW/big.bin"
	start_nginx "$BATS_FILE_TMPDIR/nginx" "$WWW"
	export WWW NGINX_PID NGINX_PORT
}

teardown_file() {
	load helper
	load httpget_helper
	stop_pid "${NGINX_PID:-}"
}

setup() {
	load helper
	load httpget_helper
	cd "$BATS_TEST_TMPDIR"
	BASE="http://127.0.0.1:$NGINX_PORT"
}

@test "a small file: headers on stdout, body in the file, same as curl" {
	run -0 httpget "$BASE/small.txt"
	assert_line --index 0 'HTTP/1.1 200 OK'
	assert_line 'Content-Length: 13'
	run -0 cat small.txt
	assert_output 'hello, world'
	same_as_curl "$BASE/small.txt" small.txt
}

@test "the 100 MiB file arrives intact (sha256, and the same as curl)" {
	run -0 httpget -q "$BASE/big.bin"
	assert_output ''
	want=$(sha256sum <"$WWW/big.bin")
	got=$(sha256sum <big.bin)
	assert_equal "$got" "$want"
	same_as_curl "$BASE/big.bin" big.bin
	no_temp_files .
}

@test "a 404 is exit 8 with one line on stderr and no file" {
	run --separate-stderr -8 httpget "$BASE/missing.txt"
	assert_equal "$stderr" "httpget: $BASE/missing.txt: 404 Not Found"
	assert_line --index 0 'HTTP/1.1 404 Not Found'
	[ ! -e missing.txt ]
	no_temp_files .
}

@test "a redirect chain 301, 302, 307, 308 is followed and shown" {
	run -0 httpget "$BASE/r1"
	run -0 grep '^HTTP/' <<<"$output"
	assert_output 'HTTP/1.1 301 Moved Permanently
HTTP/1.1 302 Moved Temporarily
HTTP/1.1 307 Temporary Redirect
HTTP/1.1 308 Permanent Redirect
HTTP/1.1 200 OK'
	run -0 cat r1
	assert_output 'hello, world'
	[ ! -e small.txt ]
	curl -s -L -o curl.out "$BASE/r1"
	cmp curl.out r1
}

@test "303 is followed with GET" {
	run -0 httpget -q -o out "$BASE/r303"
	same_as_curl "$BASE/small.txt" out
}

@test "--max-redirs 2 stops the chain (exit 8), nothing saved" {
	run --separate-stderr -8 httpget -q --max-redirs 2 "$BASE/r1"
	assert_equal "$stderr" "httpget: $BASE/r3: 2 redirections exceeded"
	[ ! -e small.txt ] && [ ! -e r3 ]
}

@test "-o - writes the body to stdout and the headers to stderr" {
	run --separate-stderr -0 httpget -o - "$BASE/small.txt"
	assert_output 'hello, world'
	[[ "$stderr" == "HTTP/1.1 200 OK"* ]]
	[ ! -e small.txt ]
}

@test "-q prints nothing; progress is off when stderr is no terminal" {
	run --separate-stderr -0 httpget -q "$BASE/small.txt"
	assert_output ''
	assert_equal "$stderr" ''
	run --separate-stderr -0 httpget -f "$BASE/small.txt"
	saved small.txt
}

@test "-o names a file that is replaced; the default name is not" {
	echo old >small.txt
	run --separate-stderr -3 httpget "$BASE/small.txt"
	assert_equal "$stderr" "httpget: $BASE/small.txt: small.txt already exists (use -f to overwrite)"
	run -0 cat small.txt
	assert_output old
	run -0 httpget -q -o small.txt "$BASE/small.txt"
	run -0 cat small.txt
	assert_output 'hello, world'
}

@test "a path ending in / is saved as index.html" {
	run -0 httpget -q "$BASE/dir/"
	same_as_curl "$BASE/dir/" index.html
}

@test "spaces in the URL are encoded; the file keeps the decoded name" {
	run -0 httpget -q "$BASE/a b.txt"
	same_as_curl "$BASE/a%20b.txt" 'a b.txt'
}

@test "an empty body makes an empty file" {
	run -0 httpget -q "$BASE/empty.txt"
	[ -f empty.txt ] && [ ! -s empty.txt ]
}

@test "-I sends HEAD: headers only, no file" {
	run -0 httpget -I "$BASE/big.bin"
	assert_line --index 0 'HTTP/1.1 200 OK'
	assert_line 'Content-Length: 104857600'
	[ ! -e big.bin ]
}

@test "IPv6 literal URLs work" {
	ipv6_ok || skip "no ::1 here"
	run -0 httpget -q "http://[::1]:$NGINX_PORT/small.txt"
	same_as_curl "http://[::1]:$NGINX_PORT/small.txt" small.txt
}

@test "a file in a missing directory is a file error (exit 3)" {
	run --separate-stderr -3 httpget -q -o nodir/x "$BASE/small.txt"
	[[ "$stderr" == "httpget: $BASE/small.txt: cannot create a file in nodir: "* ]]
}

@test "the saved file has mode 0666 less the umask" {
	umask 022
	run -0 httpget -q "$BASE/small.txt"
	run -0 stat -c %a small.txt
	assert_output 644
}

@test "peak memory does not grow with the body (100 MiB vs 1 MiB)" {
	small=$(maxrss httpget -q -o small.out "$BASE/1m.bin")
	large=$(maxrss httpget -q -o large.out "$BASE/big.bin")
	echo "peak RSS: 1 MiB body ${small} KiB, 100 MiB body ${large} KiB"
	[ "$large" -le $((small + 1024)) ]
}
