#!/usr/bin/env bats
# httpget's response parser and URL code, through test/http_test.  Each
# response is fed whole and one byte at a time; both must agree.
bats_require_minimum_version 1.5.0

setup() {
	load helper
}

# parse RESPONSE [OPTIONS]: print the parser's events for RESPONSE (a
# printf format), after checking that byte-at-a-time feeding agrees.
parse() {
	local resp=$1 whole bytes
	shift
	whole=$(printf "$resp" | http_test parse "$@")
	bytes=$(printf "$resp" | http_test parse -s 1 "$@")
	if [ "$whole" != "$bytes" ]; then
		echo "whole: $whole" >&2
		echo "bytes: $bytes" >&2
		return 1
	fi
	echo "$whole"
}

@test "Content-Length body; bytes after it are ignored" {
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  a b \t\r\n\r\nhelloEXTRA'
	assert_output 'status HTTP/1.1 200 OK
header Content-Length|5
header X-A|a b
head-end 200 length
body 5 hello
end'
}

@test "a complete Content-Length body needs no EOF" {
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' -k
	assert_line 'end'
}

@test "bare LF line ends are accepted" {
	run -0 parse 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok'
	assert_line 'body 2 ok'
}

@test "chunked: hex sizes, extensions, trailers; it wins over Content-Length" {
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nT: x\r\n\r\n' -k
	assert_line 'head-end 200 chunked'
	assert_line 'body 15 hello0123456789'
	assert_line 'end'
	refute_line --partial 'T|x'
}

@test "chunked must be last; otherwise the body ends at close" {
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw'
	assert_line 'head-end 200 close'
	assert_line 'body 3 raw'
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n'
	assert_line 'error proto: chunked transfer coding applied twice'
}

@test "bad and huge chunk sizes are protocol errors" {
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
	assert_line 'error proto: bad chunk size "zz"'
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n'
	assert_line 'error proto: bad chunk size "-1"'
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n'
	assert_line 'error proto: chunk size too large'
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000000001\r\nx\r\n0\r\n\r\n' -k
	assert_line 'body 1 x'
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n'
	assert_line 'error proto: chunk data longer than its size'
}

@test "Content-Length: equal lists pass, differing values and junk fail" {
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok' -k
	assert_line 'body 2 ok'
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok'
	assert_line 'error proto: conflicting Content-Length values'
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok'
	assert_line 'error proto: conflicting Content-Length values'
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'
	assert_line 'error proto: bad Content-Length "-1"'
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n'
	assert_line --partial 'error proto: bad Content-Length'
}

@test "status lines: HTTP/1.x and three digits, or a protocol error" {
	run -0 parse 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n'
	assert_line 'head-end 200 length'
	for bad in 'HTTP/2 200 OK' 'HTTP/1.1 20 OK' 'HTTP/1.1 2000 OK' \
	    'ICY 200 OK' 'HTTP/1.1 600 Odd' 'HTTP/1.1  200 OK' 'hello'; do
		run -0 parse "$bad\r\n\r\n"
		assert_output "error proto: bad status line \"$bad\""
	done
}

@test "1xx responses are skipped; 101 is refused" {
	run -0 parse 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx' -k
	assert_line --index 1 'head-end 100 none'
	assert_line 'head-end 103 none'
	assert_line 'head-end 200 length'
	assert_line 'body 1 x'
	run -0 parse 'HTTP/1.1 101 Switching Protocols\r\n\r\n'
	assert_line 'error proto: unexpected 101 Switching Protocols'
}

@test "HEAD, 204 and 304 have no body" {
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n' -H -k
	assert_line 'end'
	run -0 parse 'HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n' -k
	assert_line 'end'
	run -0 parse 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' -k
	assert_line 'end'
}

@test "malformed header lines are protocol errors" {
	run -0 parse 'HTTP/1.1 200 OK\r\nNo colon\r\n\r\n'
	assert_line 'error proto: bad header line "No colon"'
	run -0 parse 'HTTP/1.1 200 OK\r\nName : v\r\n\r\n'
	assert_line 'error proto: bad header line "Name : v"'
	run -0 parse 'HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n'
	assert_line 'error proto: obsolete header line folding'
	run -0 parse 'HTTP/1.1 200 OK\r\nA: b\001c\r\n\r\n'
	assert_line 'error proto: control character in header "A"'
	run -0 parse 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'
	assert_line 'error proto: Transfer-Encoding in an HTTP/1.0 response'
}

@test "limits: a header line of 8192 bytes passes, 8193 fails; 64 KiB block" {
	long=$(head -c 8189 /dev/zero | tr '\0' x)
	run -0 parse "HTTP/1.1 200 OK\r\nX: $long\r\nContent-Length: 0\r\n\r\n" -k
	assert_line 'end'
	run -0 parse "HTTP/1.1 200 OK\r\nX: ${long}y\r\nContent-Length: 0\r\n\r\n" -k
	assert_line 'error proto: header line longer than 8192 bytes'
	line=$(head -c 1000 /dev/zero | tr '\0' y)
	many=$(for i in $(seq 70); do printf 'X%d: %s\\r\\n' "$i" "$line"; done)
	run -0 parse "HTTP/1.1 200 OK\r\n$many\r\n" -k
	assert_line 'error proto: header block longer than 65536 bytes'
}

@test "EOF before the end is reported with what was missing" {
	run -0 parse ''
	assert_output 'error closed: connection closed before any response'
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Le'
	assert_line 'error closed: connection closed in the response header'
	run -0 parse 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'
	assert_line 'error closed: transfer closed with 3 of 5 bytes'
	run -0 parse 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n'
	assert_line 'error closed: transfer closed before the last chunk (3 bytes received)'
	run -0 parse 'HTTP/1.1 200 OK\r\n\r\nuntil close'
	assert_line 'body 11 until close'
}

@test "URLs: host, port, Host header, target, file name" {
	run -0 http_test url 'http://[::1]:8080/a b/../c?q=1 2#frag'
	assert_output 'host ::1
port 8080
hosthdr [::1]:8080
target /c?q=1%202
file c'
	run -0 http_test url 'HTTP://Example.com'
	assert_line 'hosthdr Example.com'
	assert_line 'target /'
	assert_line 'file index.html'
	run -0 http_test url 'example.com:81?x'
	assert_line 'hosthdr example.com:81'
	assert_line 'target /?x'
	run -0 http_test url 'http://h/%zz%41"<>'
	assert_line 'target /%25zz%41%22%3C%3E'
}

@test "file names never leave the current directory" {
	run -0 http_test url 'http://h/%2e%2e'
	assert_line 'file index.html'
	run -0 http_test url 'http://h/a/..%2F..%2Fetc%2Fpasswd'
	assert_line 'file _._.._etc_passwd'
	# Nor are they hidden: a leading dot becomes '_'.
	run -0 http_test url 'http://h/.bashrc'
	assert_line 'file _bashrc'
	run -0 http_test url 'http://h/%2Essh'
	assert_line 'file _ssh'
	run -0 http_test url 'http://h/../../x'
	assert_line 'target /x'
	run -0 http_test url 'http://h/dir/.'
	assert_line 'file index.html'
	run -0 http_test url 'http://h/a%00b'
	assert_line 'file a_b'
}

@test "URL errors: other schemes, user names, bad host or port" {
	run -0 http_test url 'https://h/'
	assert_output 'error -2: https is not supported'
	run -0 http_test url 'http://u:p@h/'
	assert_output 'error -1: user names in URLs are not supported'
	run -0 http_test url 'http://h:0/'
	assert_output 'error -1: bad port in URL'
	run -0 http_test url 'http://h:x/'
	assert_output 'error -1: bad port in URL'
	run -0 http_test url 'http://[zz]/'
	assert_output 'error -1: bad host in URL'
	run -0 http_test url 'http://'
	assert_output 'error -1: no host in URL'
}

@test "relative Location values resolve as RFC 3986 says" {
	base='http://h:81/a/b/c?x'
	run -0 http_test resolve "$base" 'd'
	assert_output 'http://h:81/a/b/d'
	run -0 http_test resolve "$base" '../d?y'
	assert_output 'http://h:81/a/d?y'
	run -0 http_test resolve "$base" '/e'
	assert_output 'http://h:81/e'
	run -0 http_test resolve "$base" '?z'
	assert_output 'http://h:81/a/b/c?z'
	run -0 http_test resolve "$base" '//other/p'
	assert_output 'http://other/p'
	run -0 http_test resolve "$base" 'http://new:82/q'
	assert_output 'http://new:82/q'
	run -0 http_test resolve "$base" '#frag'
	assert_output 'http://h:81/a/b/c?x'
	run -0 http_test resolve "$base" '../../../../up'
	assert_output 'http://h:81/up'
	run -0 http_test resolve "$base" 'https://s/'
	assert_output 'error -2: https is not supported'
}
