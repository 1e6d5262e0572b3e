#!/usr/bin/env bats
# Unit-level tests of common/cidr.c through test/cidr_test: parsing
# address ranges and matching peer addresses against a list of them
# (ProxyAllow, StatusAllow).  No sockets, no waits.

bats_require_minimum_version 1.5.0

setup() {
	load helper
}

@test "cidr: IPv4 and IPv6 ranges print back as parsed" {
	run -0 cidr_test parse 127.0.0.0/8 10.128.0.0/9 0.0.0.0/0 \
	    ::1/128 fe80::/10 ::/0 2001:db8:0:0:0:0:0:0/32
	assert_output $'127.0.0.0/8\n10.128.0.0/9\n0.0.0.0/0\n::1/128\nfe80::/10\n::/0\n2001:db8::/32'
}

@test "cidr: a bare address is a range of one host" {
	run -0 cidr_test parse 192.0.2.7 ::1 2001:db8::5
	assert_output $'192.0.2.7/32\n::1/128\n2001:db8::5/128'
}

@test "cidr: an IPv4-mapped IPv6 range is stored as the IPv4 range" {
	run -0 cidr_test parse ::ffff:10.0.0.0/104 ::ffff:192.0.2.1 ::ffff:0:0/96
	assert_output $'10.0.0.0/8\n192.0.2.1/32\n0.0.0.0/0'
}

@test "cidr: not an address" {
	for bad in foo localhost '' /8 1.2.3 1.2.3.4.5 256.0.0.1 01.2.3.4 \
	    '[::1]' ::1::2 1.2.3.4:80 ' 1.2.3.4'; do
		run -1 --separate-stderr cidr_test parse "$bad"
		assert_equal "$stderr" "cidr_test: bad address range \"$bad\": expected an IPv4 or IPv6 address, optionally with /bits"
	done
}

@test "cidr: prefix length out of range or not a number" {
	for bad in 10.0.0.0/33 10.0.0.0/ 10.0.0.0/-1 10.0.0.0/+8 \
	    10.0.0.0/8x 10.0.0.0/0008 '10.0.0.0/8 ' 10.0.0.0/8/8; do
		run -1 --separate-stderr cidr_test parse "$bad"
		assert_equal "$stderr" "cidr_test: bad address range \"$bad\": prefix length is not a number from 0 to 32"
	done
	run -1 --separate-stderr cidr_test parse ::/129
	assert_equal "$stderr" 'cidr_test: bad address range "::/129": prefix length is not a number from 0 to 128'
}

@test "cidr: host bits past the prefix are refused, not cleared" {
	run -1 --separate-stderr cidr_test parse 10.0.0.1/8
	assert_equal "$stderr" 'cidr_test: bad address range "10.0.0.1/8": bits set past the /8 prefix'
	run -1 --separate-stderr cidr_test parse 10.128.0.0/8
	assert_equal "$stderr" 'cidr_test: bad address range "10.128.0.0/8": bits set past the /8 prefix'
	run -1 --separate-stderr cidr_test parse ::1/64
	assert_equal "$stderr" 'cidr_test: bad address range "::1/64": bits set past the /64 prefix'
	run -0 cidr_test parse 10.128.0.0/9 10.0.0.1/32 0.0.0.0/0
}

@test "cidr: IPv4 peers match on the prefix bits only" {
	run -0 cidr_test match 127.1.2.3 127.0.0.0/8
	assert_output 'match 127.0.0.0/8'
	run -0 cidr_test match 10.255.0.1 10.0.0.0/9 10.128.0.0/9
	assert_output 'match 10.128.0.0/9'
	run -0 cidr_test match 10.127.255.255 10.128.0.0/9
	assert_output 'no match'
	run -0 cidr_test match 192.0.2.8 192.0.2.7
	assert_output 'no match'
	run -0 cidr_test match 203.0.113.9 0.0.0.0/0
	assert_output 'match 0.0.0.0/0'
}

@test "cidr: IPv6 peers match on the prefix bits only" {
	run -0 cidr_test match ::1 127.0.0.0/8 ::1/128
	assert_output 'match ::1/128'
	run -0 cidr_test match fe80::1 fe80::/10
	assert_output 'match fe80::/10'
	run -0 cidr_test match fec0::1 fe80::/10
	assert_output 'no match'
	run -0 cidr_test match 2001:db8::1 ::/0
	assert_output 'match ::/0'
}

@test "cidr: an IPv4-mapped IPv6 peer matches IPv4 ranges" {
	run -0 cidr_test match ::ffff:127.0.0.1 ::1 127.0.0.0/8
	assert_output 'match 127.0.0.0/8'
	run -0 cidr_test match ::ffff:10.1.2.3 ::ffff:10.0.0.0/104
	assert_output 'match 10.0.0.0/8'
	run -0 cidr_test match ::ffff:192.0.2.1 192.0.2.0/24
	assert_output 'match 192.0.2.0/24'
}

@test "cidr: families never cross otherwise" {
	# ::/0 is every IPv6 peer, not every peer: write 0.0.0.0/0 as well.
	run -0 cidr_test match 127.0.0.1 ::/0 ::1
	assert_output 'no match'
	run -0 cidr_test match ::1 0.0.0.0/0
	assert_output 'no match'
	run -0 cidr_test match ::7f00:1 127.0.0.0/8
	assert_output 'no match'
}

@test "cidr: a local socket matches no range" {
	run -0 cidr_test match unix 0.0.0.0/0 ::/0
	assert_output 'no match'
}
