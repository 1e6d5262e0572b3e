#!/usr/bin/env bats
# Unit-level tests of common/: the line reader (lr_test), io_write_all
# (io_test), address parsing and printing, connect and listen
# (addr_test).  Each driver is described at the top of its source; every
# socket is on loopback and every wait in the drivers is bounded.

bats_require_minimum_version 1.5.0

setup() {
	load helper
}

# --- line reader: lr_test [-c] [-t ms] max step... -------------------

@test "lr: one LF line, then EOF on a boundary" {
	run -0 lr_test 5 'w:hello\n'
	assert_output $'LINE 5 hello\nEOF'
}

@test "lr: no input at all is EOF" {
	run -0 lr_test 5
	assert_output 'EOF'
}

@test "lr: EOF mid-line hands back the tail as PARTIAL, then EOF" {
	run -0 lr_test 5 'w:one\ntwo'
	assert_output $'LINE 3 one\nPARTIAL 3 two\nEOF'
}

@test "lr: a partial tail loses a final CR, as a CRLF line would" {
	run -0 lr_test 5 'w:ab\r'
	assert_output $'PARTIAL 2 ab\nEOF'
}

@test "lr: a line sent a byte at a time comes back whole" {
	run -0 lr_test 32 'b:hello, world\r\n' 'b:second\n'
	assert_output $'LINE 12 hello, world\nLINE 6 second\nEOF'
}

@test "lr: CRLF drops the CR; a lone CR mid-line is kept" {
	run -0 lr_test 10 'w:crlf\r\na\rb\n\r\n\n'
	assert_output $'LINE 4 crlf\nLINE 3 a\\x0db\nLINE 0\nLINE 0\nEOF'
}

@test "lr: only one CR is dropped before the LF" {
	run -0 lr_test 10 'w:ab\r\r\n'
	assert_output $'LINE 3 ab\\x0d\nEOF'
}

@test "lr: a line of exactly max bytes with LF" {
	run -0 lr_test 5 'w:hello\n'
	assert_output $'LINE 5 hello\nEOF'
}

@test "lr: a line of exactly max bytes with CRLF" {
	run -0 lr_test 5 'w:hello\r\n'
	assert_output $'LINE 5 hello\nEOF'
}

@test "lr: max bytes and CR in one read, the LF in the next" {
	run -0 lr_test 5 'w:hello\r' 's:50' 'w:\n'
	assert_output $'LINE 5 hello\nEOF'
}

@test "lr: max bytes with CRLF, a byte at a time" {
	run -0 lr_test 5 'b:hello\r\n'
	assert_output $'LINE 5 hello\nEOF'
}

@test "lr: a 1024-byte line passes at the default limit" {
	local long
	long=$(printf '%1024s' '' | tr ' ' x)
	run -0 lr_test 1024 "w:$long\\r\\n" "w:${long}y\\n"
	assert_output "LINE 1024 $long"$'\nTOOLONG'
}

@test "lr: one byte over max with LF is TOOLONG" {
	run -0 lr_test 5 'w:hello!\n'
	assert_output 'TOOLONG'
}

@test "lr: one byte over max with CRLF is TOOLONG" {
	run -0 lr_test 5 'w:hello!\r\n'
	assert_output 'TOOLONG'
}

@test "lr: one byte over max is TOOLONG without waiting for the LF" {
	run -0 lr_test 5 'w:hello!' hold
	assert_output 'TOOLONG'
}

@test "lr: max bytes, CR and then not LF is TOOLONG" {
	run -0 lr_test 5 'w:hello\r' 's:50' 'w:x' hold
	assert_output 'TOOLONG'
}

@test "lr: max bytes plus two CRs is TOOLONG" {
	run -0 lr_test 5 'w:hello\r\r\n'
	assert_output 'TOOLONG'
}

@test "lr: one byte over max, a byte at a time, is TOOLONG" {
	run -0 lr_test 5 'b:hello!'
	assert_output 'TOOLONG'
}

@test "lr: lines before a long one are still handed out" {
	run -0 lr_test 5 'w:ok\nabcdefgh\n'
	assert_output $'LINE 2 ok\nTOOLONG'
}

@test "lr: NUL and high bytes inside a line are kept" {
	run -0 lr_test 10 'w:a\0b\xff\x7f\\\n'
	assert_output $'LINE 6 a\\x00b\\xff\\x7f\\x5c\nEOF'
}

@test "lr: several lines in one read" {
	run -0 lr_test 8 'w:one\ntwo\r\nthree\n'
	assert_output $'LINE 3 one\nLINE 3 two\nLINE 5 three\nEOF'
}

@test "lr: lines of every length through a max + 2 byte buffer" {
	run -0 lr_test 8 'w:a\nbb\r\nccc\ndddd\r\neeeee\nffffff\r\nggggggg\nhhhhhhhh\r\n'
	assert_output "$(printf '%s\n' 'LINE 1 a' 'LINE 2 bb' 'LINE 3 ccc' \
	    'LINE 4 dddd' 'LINE 5 eeeee' 'LINE 6 ffffff' 'LINE 7 ggggggg' \
	    'LINE 8 hhhhhhhh' 'EOF')"
}

@test "lr: the deadline passing with nothing sent is TIMEOUT" {
	run -0 lr_test -t 300 5 hold
	assert_output 'TIMEOUT'
}

@test "lr: the deadline passing mid-line is TIMEOUT, not a line" {
	run -0 lr_test -t 300 10 'w:abc' hold
	assert_output 'TIMEOUT'
}

@test "lr: complete lines come out before the TIMEOUT" {
	run -0 lr_test -t 300 10 'w:one\ntwo\npart' hold
	assert_output $'LINE 3 one\nLINE 3 two\nTIMEOUT'
}

@test "lr: a line trickled past its line time is TIMEOUT though bytes keep coming" {
	run -0 lr_test -l 300 10 'w:a' 's:200' 'w:b' 's:200' 'w:c' 's:200' 'w:\n'
	assert_output 'TIMEOUT'
	# Without a line time the same trickle is a line.
	run -0 lr_test 10 'w:a' 's:200' 'w:b' 's:200' 'w:c' 's:200' 'w:\n'
	assert_output $'LINE 3 abc\nEOF'
}

@test "lr: the line time runs from each line's first byte, not while idle" {
	# An idle wait longer than the line time is no timeout ...
	run -0 lr_test -l 300 10 's:600' 'w:hi\n'
	assert_output $'LINE 2 hi\nEOF'
	# ... and the second line's clock starts with its own first byte.
	run -0 lr_test -l 2000 10 'w:ab' 's:1200' 'w:c\nd' 's:1200' 'w:e\n'
	assert_output $'LINE 3 abc\nLINE 2 de\nEOF'
}

@test "lr: the wake descriptor ends a wait with WAKE" {
	run -0 lr_test 5 wake hold
	assert_output 'WAKE'
}

@test "lr: WAKE comes after the lines that arrived first" {
	run -0 lr_test 5 'w:ab\n' 'a:1' wake hold
	assert_output $'LINE 2 ab\nWAKE'
}

@test "lr: WAKE during a partial line" {
	run -0 lr_test 5 'w:ab' 's:100' wake hold
	assert_output 'WAKE'
}

# --- lr_chunk: each read of up to max bytes is one message -----------

@test "lr_chunk: each write is one message, no framing" {
	run -0 lr_test -c 10 'w:michael' 'a:1' 'w:tracy\n' 'a:1' 'w:exit'
	assert_output $'LINE 7 michael\nLINE 6 tracy\\x0a\nLINE 4 exit\nEOF'
}

@test "lr_chunk: a write longer than max comes in max-byte messages" {
	run -0 lr_test -c 3 'w:abcdefgh' 'a:3' 'w:xy'
	assert_output $'LINE 3 abc\nLINE 3 def\nLINE 2 gh\nLINE 2 xy\nEOF'
}

@test "lr_chunk: CR, LF and NUL are plain bytes" {
	run -0 lr_test -c 10 'w:a\r\n\0b'
	assert_output $'LINE 5 a\\x0d\\x0a\\x00b\nEOF'
}

@test "lr_chunk: TIMEOUT and WAKE" {
	run -0 lr_test -c -t 300 10 'w:hi' 'a:1' hold
	assert_output $'LINE 2 hi\nTIMEOUT'
	run -0 lr_test -c 10 'w:hi' 'a:1' wake hold
	assert_output $'LINE 2 hi\nWAKE'
}

# --- io_write_all ----------------------------------------------------

@test "io: write-all to a slow reader, nonblocking, under SIGALRM" {
	run -0 io_test pipe 4000000
	assert_output "$(printf '%s\n' 'writer: 4000000 bytes' \
	    'writer: interrupted' 'reader: 4000000 bytes in order')"
}

@test "io: write-all to a slow reader, blocking, short writes and EINTR" {
	run -0 io_test pipe-block 4000000
	assert_output "$(printf '%s\n' 'writer: 4000000 bytes' \
	    'writer: interrupted' 'reader: 4000000 bytes in order')"
}

@test "io: write-all times out with ETIMEDOUT when nobody reads" {
	run -0 io_test timeout 300
	assert_output $'io_write_all: Connection timed out\npartial count reported'
}

@test "io: write-all to a closed pipe fails with EPIPE" {
	run -0 io_test closed
	assert_output 'io_write_all: Broken pipe, done 0'
}

@test "io: deadline and poll timeout arithmetic" {
	run -0 io_test deadline
	assert_output "$(printf '%s\n' 'io_deadline(-1) is IO_NEVER' \
	    'io_timeout(IO_NEVER) -1' 'io_timeout(past) 0' \
	    'io_timeout(far) INT_MAX' 'io_timeout(10 s) about 10000')"
}

# --- addr_parse and addr_fmt -----------------------------------------

@test "addr: host:port" {
	run -0 addr_test parse 127.0.0.1:9999
	assert_output 'host "127.0.0.1" port "9999" prints as 127.0.0.1:9999'
	run -0 addr_test parse localhost:1
	assert_output 'host "localhost" port "1" prints as localhost:1'
	run -0 addr_test parse example.org:65535
	assert_output 'host "example.org" port "65535" prints as example.org:65535'
}

@test "addr: [v6]:port" {
	run -0 addr_test parse '[::1]:9999'
	assert_output 'host "::1" port "9999" prints as [::1]:9999'
	run -0 addr_test parse '[::]:80'
	assert_output 'host "::" port "80" prints as [::]:80'
}

@test "addr: *:port and a bare port mean every address" {
	run -0 addr_test parse '*:80'
	assert_output 'host "" port "80" prints as *:80'
	run -0 addr_test parse 9999
	assert_output 'host "" port "9999" prints as *:9999'
}

@test "addr: a port with leading zeros is stored as its number" {
	run -0 addr_test parse '*:000080'
	assert_output 'host "" port "80" prints as *:80'
	run -0 addr_test parse 0000000443
	assert_output 'host "" port "443" prints as *:443'
}

@test "addr: port out of range" {
	run -1 --separate-stderr addr_test parse 127.0.0.1:99999
	assert_equal "$stderr" 'addr_test: bad port "99999": out of range'
	run -1 --separate-stderr addr_test parse 127.0.0.1:65536
	assert_equal "$stderr" 'addr_test: bad port "65536": out of range'
	run -1 --separate-stderr addr_test parse '*:0'
	assert_equal "$stderr" 'addr_test: bad port "0": out of range'
	run -1 --separate-stderr addr_test parse 99999999999999999999
	assert_equal "$stderr" 'addr_test: bad port "99999999999999999999": out of range'
}

@test "addr: port not a number" {
	run -1 --separate-stderr addr_test parse 127.0.0.1:http
	assert_equal "$stderr" 'addr_test: bad port "http": not a number'
	run -1 --separate-stderr addr_test parse 127.0.0.1:-1
	assert_equal "$stderr" 'addr_test: bad port "-1": not a number'
	run -1 --separate-stderr addr_test parse localhost
	assert_equal "$stderr" 'addr_test: bad port "localhost": not a number'
}

@test "addr: missing port" {
	run -1 --separate-stderr addr_test parse 127.0.0.1:
	assert_equal "$stderr" 'addr_test: missing port'
	run -1 --separate-stderr addr_test parse '[::1]:'
	assert_equal "$stderr" 'addr_test: missing port'
	run -1 --separate-stderr addr_test parse ''
	assert_equal "$stderr" 'addr_test: missing port'
}

@test "addr: an unbracketed IPv6 address" {
	run -1 --separate-stderr addr_test parse ::1:80
	assert_equal "$stderr" 'addr_test: bad address "::1:80": an IPv6 address needs brackets, as in [::1]:9999'
}

@test "addr: a missing ] or :port after it" {
	run -1 --separate-stderr addr_test parse '[::1:80'
	assert_equal "$stderr" "addr_test: bad address \"[::1:80\": missing ']'"
	run -1 --separate-stderr addr_test parse '[::1]'
	assert_equal "$stderr" 'addr_test: bad address "[::1]": expected "]:port"'
	run -1 --separate-stderr addr_test parse '[::1]80'
	assert_equal "$stderr" 'addr_test: bad address "[::1]80": expected "]:port"'
}

@test "addr: an empty host" {
	run -1 --separate-stderr addr_test parse :80
	assert_equal "$stderr" 'addr_test: bad address ":80": missing host'
	run -1 --separate-stderr addr_test parse '[]:80'
	assert_equal "$stderr" 'addr_test: bad address "[]:80": missing host'
}

@test "addr: a host too long" {
	local host
	host=$(printf '%256s' '' | tr ' ' h)
	run -1 --separate-stderr addr_test parse "$host:80"
	assert_equal "$stderr" "addr_test: bad address \"${host:0:40}...\": host too long"
}

@test "addr_fmt: IPv4 and IPv6" {
	run -0 addr_test fmt 192.0.2.1 80
	assert_output '192.0.2.1:80'
	run -0 addr_test fmt 2001:db8::1 443
	assert_output '[2001:db8::1]:443'
	run -0 addr_test fmt ::1 65535
	assert_output '[::1]:65535'
}

# --- net_connect and net_listen --------------------------------------

@test "net: connect to a closed port is refused" {
	# The driver holds the port bound but not listening, so nothing
	# else can take it meanwhile; its number comes on stdout.
	run -1 --separate-stderr addr_test refused
	assert_output --regexp '^[0-9]+$'
	assert_equal "$stderr" \
	    "addr_test: connect to 127.0.0.1 port $output: Connection refused"
}

@test "net: connect to an unresolvable host" {
	run -1 --separate-stderr addr_test connect nosuch.invalid 80
	assert_output ''
	assert_regex "$stderr" '^addr_test: cannot resolve "nosuch\.invalid": [^:]+$'
}

@test "net: listen and connect on 127.0.0.1" {
	run -0 addr_test loop 127.0.0.1
	assert_line --index 0 --regexp '^[0-9]+$'
	local port=${lines[0]}
	assert_output "$(printf '%s\n' "$port" \
	    "connected to 127.0.0.1:$port" 'accepted from 127.0.0.1' \
	    'byte passed')"
}

@test "net: listen and connect on [::1]" {
	run -0 addr_test loop ::1
	assert_line --index 0 --regexp '^[0-9]+$'
	local port=${lines[0]}
	assert_output "$(printf '%s\n' "$port" \
	    "connected to [::1]:$port" 'accepted from [::1]' 'byte passed')"
}

@test "net: listen on a busy port names the address" {
	run -1 --separate-stderr addr_test busy 127.0.0.1
	assert_output --regexp '^[0-9]+$'
	assert_equal "$stderr" \
	    "addr_test: cannot listen on 127.0.0.1:$output: Address already in use"
	run -1 --separate-stderr addr_test busy ::1
	assert_output --regexp '^[0-9]+$'
	assert_equal "$stderr" \
	    "addr_test: cannot listen on [::1]:$output: Address already in use"
}

# --- options in any order: opt_test opt SHORTS args... ----------------

@test "opt: options before, between and after operands; operands keep their order" {
	run -0 opt_test opt 'qo:' a -q b -o x c
	assert_output $'q\no=x\noperand: a\noperand: b\noperand: c'
}

@test "opt: -- ends the options; a lone - is an operand" {
	run -0 opt_test opt 'qo:' -- -q -o x
	assert_output $'operand: -q\noperand: -o\noperand: x'
	run -0 opt_test opt 'q' - -q
	assert_output $'q\noperand: -'
}

@test "opt: clusters, attached values, and a value that looks like an option" {
	run -0 opt_test opt 'qro:' -qrofile -o -q
	assert_output $'q\nr\no=file\no=-q'
}

@test "opt: long options, exact names, =value or the next word" {
	run -0 opt_test opt 'q' --help --max=3 --max 4 --flag
	assert_output $'h\nm=3\nm=4\nflag'
	run -0 opt_test opt 'q' --hel --max
	assert_output $'? unknown option --hel\n? option --max needs a value'
	run -0 opt_test opt 'q' --help=yes --flag=1
	assert_output $'? option --help takes no value\n? option --flag takes no value'
}

@test "opt: an unknown letter or a missing value is one reason each" {
	run -0 opt_test opt 'qo:' -z -q: -o
	assert_output $'? unknown option -z\nq\n? unknown option -:\n? option -o needs a value'
}

# --- integers: opt_test num S MIN MAX ----------------------------------

@test "num: digits only, with an optional minus and leading zeros" {
	run -0 opt_test num 0080 1 100
	assert_output 'ok 80'
	run -0 opt_test num -5 -10 10
	assert_output 'ok -5'
	for s in '' - + '+5' ' 5' '5 ' 5x 0x10 1e3 '5.0'; do
		run -0 opt_test num "$s" -10 10
		assert_output bad
	done
}

@test "num: range and overflow are 'range', never a wrapped value" {
	run -0 opt_test num 0 1 10
	assert_output range
	run -0 opt_test num 11 1 10
	assert_output range
	run -0 opt_test num 9223372036854775807 0 9223372036854775807
	assert_output 'ok 9223372036854775807'
	run -0 opt_test num 9223372036854775808 0 9223372036854775807
	assert_output range
	run -0 opt_test num 99999999999999999999999 0 10
	assert_output range
	run -0 opt_test num 99999999999999999999999x 0 10
	assert_output bad
}
