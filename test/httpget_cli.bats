#!/usr/bin/env bats
# httpget's command line, URL checks and connection errors; no server.
bats_require_minimum_version 1.5.0

setup() {
	load helper
	load httpget_helper
	cd "$BATS_TEST_TMPDIR"
}

# usage_error MSG: stderr is MSG, the synopsis and a pointer to -h.
usage_error() {
	assert_equal "$stderr" "$1
usage: httpget [-fhIqV] [--binary] [--trust-server-names] [-A agent]
               [-H header] [-m max-redirs] [-o file] [-T seconds] URL
Try 'httpget -h' for more information."
}

@test "httpget -h and --help print the usage on stdout, exit 0" {
	run -0 --separate-stderr httpget -h
	assert_line --index 0 'usage: httpget [-fhIqV] [--binary] [--trust-server-names] [-A agent]'
	for opt in -A --binary -f -H -h -I -m -o -q -T --trust-server-names -V; do
		assert_line --partial "  $opt"
	done
	assert_equal "$stderr" ''
	run -0 httpget --help
	assert_line --index 0 --partial 'usage: httpget'
}

@test "httpget -V and --version print the version" {
	run -0 httpget -V
	assert_output 'httpget 0.1.0'
	run -0 httpget --version
	assert_output 'httpget 0.1.0'
}

@test "no URL, two URLs or an unknown option: one line, the synopsis, a pointer to -h (exit 2)" {
	run --separate-stderr -2 httpget
	assert_output ''
	usage_error 'httpget: missing URL'
	run --separate-stderr -2 httpget http://a/ http://b/
	usage_error 'httpget: unexpected argument "http://b/"'
	run --separate-stderr -2 httpget -Z http://a/
	usage_error 'httpget: unknown option -Z'
	run --separate-stderr -2 httpget --bogus http://a/
	usage_error 'httpget: unknown option --bogus'
	run --separate-stderr -2 httpget http://a/ -o
	usage_error 'httpget: option -o needs a value'
	run --separate-stderr -2 httpget --help=yes
	usage_error 'httpget: option --help takes no value'
}

@test "bad option values are usage errors (exit 2)" {
	run --separate-stderr -2 httpget -T abc http://a/
	usage_error 'httpget: -T: bad value "abc": expected 0 to 1000000 seconds'
	run --separate-stderr -2 httpget -m -1 http://a/
	usage_error 'httpget: -m: bad value "-1": out of range (0 to 1000000)'
	run --separate-stderr -2 httpget --max-redirs=x http://a/
	usage_error 'httpget: -m: bad value "x": not a number'
	run --separate-stderr -2 httpget -H 'no colon' http://a/
	usage_error "httpget: bad header \"no colon\" (want 'Name: value')"
}

@test "options may follow the URL; -- ends them" {
	# Each of these would fetch, so a refused port proves the options
	# were read: -q silences the headers, -T is accepted after the URL.
	local p
	p=$(free_port)
	run --separate-stderr -4 httpget "http://127.0.0.1:$p/x" -q -T 5 -o out
	assert_output ''
	assert_equal "$stderr" "httpget: http://127.0.0.1:$p/x: connect to 127.0.0.1 port $p: Connection refused"
	run --separate-stderr -4 httpget -q "http://127.0.0.1:$p/x" --max-redirs 3
	# After --, "-q" is a second URL.
	run --separate-stderr -2 httpget -- "http://127.0.0.1:$p/x" -q
	usage_error 'httpget: unexpected argument "-q"'
}

@test "https and other schemes are not supported (exit 1)" {
	run --separate-stderr -1 httpget https://example.com/
	assert_equal "$stderr" 'httpget: https://example.com/: https is not supported'
	run --separate-stderr -1 httpget ftp://example.com/x
	assert_equal "$stderr" 'httpget: ftp://example.com/x: ftp is not supported'
}

@test "a malformed URL is a usage error (exit 2)" {
	run --separate-stderr -2 httpget 'http://[::1/'
	assert_equal "$stderr" 'httpget: http://[::1/: bad host in URL'
	run --separate-stderr -2 httpget 'http://host:99999/'
	assert_equal "$stderr" 'httpget: http://host:99999/: bad port in URL'
	run -2 httpget 'http:///path'
}

@test "http:/host/ and http:host/ are malformed URLs (exit 2)" {
	run --separate-stderr -2 httpget 'http:/127.0.0.1/'
	assert_equal "$stderr" \
	    'httpget: http:/127.0.0.1/: bad URL: expected http://host[:port]/path'
	run --separate-stderr -2 httpget 'http:127.0.0.1/'
	assert_equal "$stderr" \
	    'httpget: http:127.0.0.1/: bad URL: expected http://host[:port]/path'
}

@test "-A and -H values with control characters are usage errors" {
	run -2 httpget -A "$(printf 'a\001b')" http://a/
	run -2 httpget -A "$(printf 'a\177b')" http://a/
	run -2 httpget -H "$(printf 'X-A: a\033b')" http://a/
	run -2 httpget -H "$(printf 'X-A: a\rb')" http://a/
	# A tab is allowed in a field value; the fetch then fails to connect.
	port=$(free_port)
	run -4 httpget -q -H "$(printf 'X-A: a\tb')" \
	    -A "$(printf 'a\tb')" "http://127.0.0.1:$port/"
}

@test "connection refused is a network error (exit 4), nothing created" {
	port=$(free_port)
	run --separate-stderr -4 httpget "http://127.0.0.1:$port/x"
	assert_equal "$stderr" "httpget: http://127.0.0.1:$port/x: connect to 127.0.0.1 port $port: Connection refused"
	[ ! -e x ]
}

@test "an unknown host is a network error (exit 4)" {
	run --separate-stderr -4 httpget "http://no-such-host.invalid/"
	[[ "$stderr" == 'httpget: http://no-such-host.invalid/: cannot resolve "no-such-host.invalid": '* ]]
}

@test "man/httpget.1 is clean under mandoc -Tlint" {
	# Notes about a stale system mandoc.db (cross-references to pages
	# this machine lacks) are not about the page.
	run -0 mandoc -Tlint -W warning "$TOP/man/httpget.1"
	refute_output --regexp '^mandoc: .*httpget\.1:'
}

# squeeze: join lines and runs of blanks into single spaces.
squeeze() {
	tr '\t\n' '  ' | tr -s ' ' | sed 's/^ //; s/ $//'
}

@test "the man page SYNOPSIS matches usage()" {
	synopsis=$(mandoc -Tascii "$TOP/man/httpget.1" | col -b |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | squeeze)
	run -0 httpget -h
	usage=$(sed '/^  *-/,$d' <<<"$output" | sed 's/^usage: //' | squeeze)
	assert_equal "$synopsis" "$usage"
}

@test "every option in usage() is described in the man page" {
	for opt in A f H h I m o q T V; do
		run -0 grep -c "^\.It Fl $opt" "$TOP/man/httpget.1"
	done
	run -0 grep -c -- '-max-redirs' "$TOP/man/httpget.1"
	run -0 grep -c -- '^\.It Fl -binary$' "$TOP/man/httpget.1"
	run -0 grep -c -- '^\.It Fl -trust-server-names$' "$TOP/man/httpget.1"
}

@test "-T bounds the name lookup too (exit 4)" {
	# The resolver would wait 10 s; -T 1 gives up long before timeout 8.
	run --separate-stderr -4 silent_dns timeout 8 httpget -T 1 http://nosuch.example.com/x
	assert_equal "$stderr" 'httpget: http://nosuch.example.com/x: cannot resolve "nosuch.example.com": timed out'
	[ ! -e x ]
}
