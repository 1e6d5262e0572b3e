#!/usr/bin/env bats
# The PROXY protocol parser (server/proxy.c) through test/proxy_test.
# Every header is fed whole, one byte at a time and seven at a time;
# the three verdicts must agree.

bats_require_minimum_version 1.5.0

setup() {
	load helper
}

SIG='\r\n\r\n\0\r\nQUIT\n'
# 127.0.0.2 port 50000 to 10.0.0.1 port 9999, as a v2 address block.
INET='\x7f\x00\x00\x02\x0a\x00\x00\x01\xc3\x50\x27\x0f'
# 2001:db8::1 port 50000 to ::1 port 9999.
INET6='\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\xc3\x50\x27\x0f'

# parse BYTES: print the verdict on BYTES (a printf format) after
# checking that feeding them whole and in pieces agrees.
parse() {
	local whole one seven
	whole=$(printf "$1" | proxy_test)
	one=$(printf "$1" | proxy_test -s 1)
	seven=$(printf "$1" | proxy_test -s 7)
	if [ "$whole" != "$one" ] || [ "$whole" != "$seven" ]; then
		printf 'whole: %s\none: %s\nseven: %s\n' "$whole" "$one" "$seven" >&2
		return 1
	fi
	echo "$whole"
}

@test "proxy v1: TCP4 and TCP6; the client's bytes after it are left alone" {
	run -0 parse 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nhello\n'
	assert_output 'v1 192.168.0.1:56324 192.168.0.11:443 len 47 rest 6'
	run -0 parse 'PROXY TCP6 2001:db8::1 ::1 0 65535\r\n'
	assert_output 'v1 [2001:db8::1]:0 [::1]:65535 len 36 rest 0'
}

@test "proxy v1: UNKNOWN, short or with anything up to the CRLF, carries no address" {
	run -0 parse 'PROXY UNKNOWN\r\nexit\n'
	assert_output 'v1 local len 15 rest 5'
	run -0 parse 'PROXY UNKNOWN what ever\r\n'
	assert_output 'v1 local len 25 rest 0'
}

@test "proxy v1: the 107-byte worst case is accepted, 108 bytes are not" {
	local f=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
	run -0 parse "PROXY UNKNOWN $f $f 65535 65535\r\n"
	assert_output 'v1 local len 107 rest 0'
	run -0 parse "PROXY UNKNOWN $f $f 65535 65535 \r\n"
	assert_output 'invalid: v1: no CRLF in the first 107 bytes'
	run -0 parse "PROXY UNKNOWN $f $f 65535 65535xxxxxxxxxxxxxxxxxxxx"
	assert_output 'invalid: v1: no CRLF in the first 107 bytes'
}

@test "proxy: a client that speaks first is refused at its first byte" {
	run -0 proxy_test -s 1 <<<'michael'
	assert_output 'invalid: not a PROXY protocol header'
	run -0 parse 'PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n'
	assert_output 'invalid: not a PROXY protocol header'
	run -0 parse 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'
	assert_output 'invalid: not a PROXY protocol header'
}

@test "proxy: an incomplete header asks for more" {
	run -0 parse ''
	assert_output 'more'
	run -0 parse 'PROX'
	assert_output 'more'
	run -0 parse 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r'
	assert_output 'more'
	run -0 parse "$SIG"'\x21\x11\x00\x0c\x7f\x00'
	assert_output 'more'
	run -0 parse '\r\n\r\n\0'
	assert_output 'more'
}

@test "proxy v1: malformed lines" {
	local line want
	while IFS='|' read -r line want; do
		run -0 parse "$line"
		assert_output "invalid: $want"
	done <<'EOF'
PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n|v1: protocol not TCP4, TCP6 or UNKNOWN
PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n|v1: protocol not TCP4, TCP6 or UNKNOWN
PROXY \r\n|v1: protocol not TCP4, TCP6 or UNKNOWN
PROXY UNKNOWNX\r\n|v1: protocol not TCP4, TCP6 or UNKNOWN
PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n|v1: not five fields after PROXY
PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n|v1: not five fields after PROXY
PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n|v1: not five fields after PROXY
PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n|v1: not five fields after PROXY
PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n|v1: bad source address or port
PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n|v1: bad source address or port
PROXY TCP4 ::1 5.6.7.8 1 2\r\n|v1: bad source address or port
PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n|v1: bad source address or port
PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n|v1: bad source address or port
PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n|v1: bad source address or port
PROXY TCP6 1.2.3.4 ::1 1 2\r\n|v1: bad source address or port
PROXY TCP4 1.2.3.4 ::1 1 2\r\n|v1: bad destination address or port
PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n|v1: bad destination address or port
PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n|v1: line ends in LF without CR
PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx\n|v1: CR without LF
PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n|v1: NUL byte in the header
EOF
}

@test "proxy v2: PROXY over TCP/IPv4 and TCP/IPv6" {
	run -0 parse "$SIG"'\x21\x11\x00\x0c'"$INET"'hello\n'
	assert_output 'v2 127.0.0.2:50000 10.0.0.1:9999 len 28 rest 6'
	run -0 parse "$SIG"'\x21\x21\x00\x24'"$INET6"
	assert_output 'v2 [2001:db8::1]:50000 [::1]:9999 len 52 rest 0'
}

@test "proxy v2: TLVs after the addresses are skipped within the length" {
	# PP2_TYPE_UNIQUE_ID (0x05) of 4 bytes, then a NOOP (0x04) of 2.
	run -0 parse "$SIG"'\x21\x11\x00\x18'"$INET"'\x05\x00\x04abcd\x04\x00\x02\0\0exit\n'
	assert_output 'v2 127.0.0.2:50000 10.0.0.1:9999 len 40 rest 5'
}

@test "proxy v2: LOCAL, UNSPEC and UNIX carry no client address" {
	run -0 parse "$SIG"'\x20\x00\x00\x00'
	assert_output 'v2 local len 16 rest 0'
	# LOCAL with an address block: skipped, not read, whatever its family.
	run -0 parse "$SIG"'\x20\x11\x00\x0c'"$INET"
	assert_output 'v2 local len 28 rest 0'
	run -0 parse "$SIG"'\x20\xff\x00\x02\0\0'
	assert_output 'v2 local len 18 rest 0'
	run -0 parse "$SIG"'\x21\x00\x00\x00'
	assert_output 'v2 local len 16 rest 0'
	run -0 parse "$SIG"'\x21\x10\x00\x0c'"$INET"
	assert_output 'v2 local len 28 rest 0'
	run -0 parse "$SIG$(printf '\\x21\\x31\\x00\\xd8%0216d' 0)"
	assert_output 'v2 local len 232 rest 0'
}

@test "proxy v2: bad version, command, family or transport" {
	run -0 parse "$SIG"'\x11\x11\x00\x0c'"$INET"
	assert_output 'invalid: v2: version is not 2'
	run -0 parse "$SIG"'\x22\x11\x00\x0c'"$INET"
	assert_output 'invalid: v2: command is not LOCAL or PROXY'
	run -0 parse "$SIG"'\x21\x41\x00\x0c'"$INET"
	assert_output 'invalid: v2: unknown address family or transport'
	run -0 parse "$SIG"'\x21\x13\x00\x0c'"$INET"
	assert_output 'invalid: v2: unknown address family or transport'
	run -0 parse '\r\n\r\n\0\r\nQUIT!'
	assert_output 'invalid: not a PROXY protocol header'
}

@test "proxy v2: a length too short for the family is refused before the addresses" {
	run -0 parse "$SIG"'\x21\x11\x00\x08'
	assert_output 'invalid: v2: length too short for the address family'
	run -0 parse "$SIG"'\x21\x21\x00\x0c'"$INET"
	assert_output 'invalid: v2: length too short for the address family'
	run -0 parse "$SIG"'\x21\x31\x00\x24'
	assert_output 'invalid: v2: length too short for the address family'
}

@test "proxy v2: a length past the 1024-byte buffer is refused at once" {
	run -0 parse "$SIG"'\x21\x11\xff\xff'
	assert_output 'invalid: v2: header longer than 1024 bytes'
	run -0 parse "$SIG"'\x21\x11\x03\xf1'
	assert_output 'invalid: v2: header longer than 1024 bytes'
	# 1008 bytes of addresses and TLVs: 1024 in all, the most we take.
	run -0 parse "$SIG"'\x21\x11\x03\xf0'"$INET$(printf '%0996d' 0)"
	assert_output 'v2 127.0.0.2:50000 10.0.0.1:9999 len 1024 rest 0'
}
