#!/usr/bin/env bats
# The build itself: flags a packager passes are honoured, Debian's
# hardening flags build clean with gcc and clang, and "make run" builds
# every program the README uses next.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	SRC="$BATS_TEST_TMPDIR/src"
	mkdir -p "$SRC"
	# A copy, so that building it never races the suites using ours.
	tar -C "$TOP" --exclude=.git --exclude='*.o' --exclude='*.a' \
	    --exclude=debian-build -cf - . | tar -C "$SRC" -xf -
	make -s -C "$SRC" clean >/dev/null
}

# build_with CC: the programs and test drivers with dpkg-buildflags.
build_with() {
	make -C "$SRC" CC="$1" CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
	    CFLAGS="$(dpkg-buildflags --get CFLAGS)" \
	    LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" all test-bins
}

@test "build: CPPFLAGS reaches every compilation" {
	run -0 make -n -C "$SRC" CPPFLAGS=-DHELLOD_PROBE all test-bins
	compiles=$(grep -c -- ' -c ' <<<"$output")
	probed=$(grep -- ' -c ' <<<"$output" | grep -c -- '-DHELLOD_PROBE')
	[ "$compiles" -gt 10 ]
	assert_equal "$probed" "$compiles"
}

@test "build: clean under dpkg-buildflags with gcc (FORTIFY_SOURCE, -Werror)" {
	command -v dpkg-buildflags || skip "dpkg-dev not installed"
	[[ "$(dpkg-buildflags --get CPPFLAGS)" == *_FORTIFY_SOURCE=2* ]]
	run -0 build_with gcc
	refute_output --partial warning
	[ -x "$SRC/server/hellod" ]
	run -0 "$SRC/server/hellod" -V
}

@test "build: clean under dpkg-buildflags with clang" {
	command -v clang || skip "clang not installed"
	run -0 build_with clang
	refute_output --partial warning
	run -0 "$SRC/server/hellod" -V
}

@test "build: make run builds hello and httpget before starting hellod" {
	run -0 make -n -C "$SRC" run
	assert_output --regexp '-o client/hello '
	assert_output --regexp '-o client/httpget '
	assert_line --partial './server/hellod'
}

@test "build: -DHELLOD_PORTABLE (no epoll, no blocking reads) builds clean and serves: a session, Timeout, TERM" {
	run -0 make -C "$SRC" CPPFLAGS=-DHELLOD_PORTABLE server/hellod
	refute_output --partial warning
	PATH="$SRC/server:$PATH"
	run -1 --separate-stderr hellod -t -C 'AcceptMutex epoll'
	assert_equal "${stderr_lines[0]}" "hellod: AcceptMutex epoll: not available on this system"
	WORKERS=2 start_hellod -w 2 -C "Timeout 2"
	run -0 talk "$PORT" <<<$'ann\nexit'
	assert_output $'welcome!\nhello, ann!'
	# A client that says nothing is closed with an error line.
	run -0 talk "$PORT" </dev/null
	assert_output $'welcome!\nerror: timeout'
	local kids
	kids=$(children "$HELLOD_PID")
	kill -TERM "$HELLOD_PID"
	# shellcheck disable=SC2086
	wait_until 5 all_gone "$HELLOD_PID" $kids
}

# all_gone PID...: none of them runs any more.
all_gone() {
	local p
	for p in "$@"; do
		! pid_alive "$p" || return 1
	done
}
