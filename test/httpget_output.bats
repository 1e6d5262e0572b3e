#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# httpget -o and -f over what already exists: devices, FIFOs, symbolic
# links, kept modes; signals while a write blocks; errors writing the
# headers.  Device nodes are made with mknod in the test's own directory,
# never taken from /dev.

setup() {
	load helper
	load httpget_helper
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_pid "${RAW_PID:-}"
	stop_pid "${READER_PID:-}"
}

url() {
	echo "http://127.0.0.1:$RAW_PORT${1:-/file}"
}

@test "-o on a character device writes into it, no temporary file" {
	start_rawhttp ok
	mknod null c 1 3
	run -0 httpget -q -o null "$(url)"
	[ -c null ]
	no_temp_files .
}

@test "-o on a FIFO, or a link to one, writes into it" {
	start_rawhttp ok
	mkfifo fifo
	ln -s fifo link
	for name in fifo link; do
		timeout 10 cat fifo >got 3>&- &
		run -0 httpget -q -o "$name" "$(url)"
		wait $!
		run -0 cat got
		assert_output content
	done
	[ -p fifo ] && [ -L link ]
	no_temp_files .
}

@test "-o on a link to standard output (a pipe) writes into the pipe" {
	start_rawhttp ok
	ln -s /proc/self/fd/1 stdout
	run -0 --separate-stderr sh -c "httpget -q -o stdout '$(url)' | cat"
	assert_output content
	[ -L stdout ]
	no_temp_files .
}

@test "-o and -f keep the mode of the file they replace" {
	start_rawhttp ok
	umask 022
	echo old >out
	chmod 640 out
	run -0 httpget -q -o out "$(url)"
	run -0 stat -c %a out
	assert_output 640
	echo old >file
	chmod 600 file
	run -0 httpget -q -f "$(url /file)"
	run -0 stat -c %a file
	assert_output 600
	run -0 cat file
	assert_output content
}

@test "as root, -o keeps the owner and group of the file it replaces" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	start_rawhttp ok
	echo old >out
	chown 1234:5678 out
	run -0 httpget -q -o out "$(url)"
	run -0 stat -c %u:%g out
	assert_output 1234:5678
}

@test "-o on a symbolic link replaces its target, in the target's directory" {
	start_rawhttp ok
	mkdir d
	echo old >d/target
	chmod 604 d/target
	ln -s d/target link
	run -0 httpget -q -o link "$(url)"
	[ -L link ]
	run -0 cat d/target
	assert_output content
	run -0 stat -c %a d/target
	assert_output 604
	no_temp_files . && no_temp_files d
}

@test "a failed transfer through a symbolic link leaves its target as it was" {
	start_rawhttp trunc-length
	mkdir d
	echo old >d/target
	ln -s d/target link
	run -4 httpget -q -o link "$(url)"
	[ -L link ]
	run -0 cat d/target
	assert_output old
	no_temp_files . && no_temp_files d
}

got_request() { [ "$(requests)" -ge 1 ]; }

# blocked_writer: wait until rawhttp.py has the request, then a moment
# for httpget to fill the pipe.
blocked_writer() {
	wait_until 10 got_request
	sleep 0.5
}

# term_dies_of_it PID: TERM the httpget we started; it must die of it
# (status 143) within 5 s.  Only this shell can wait for it.
term_dies_of_it() {
	local rc=0
	kill -TERM "$1"
	wait_until 5 pid_gone "$1"
	wait "$1" || rc=$?
	assert_equal "$rc" 143
}

@test "TERM ends a transfer blocked writing into a FIFO nobody reads" {
	start_rawhttp big
	mkfifo fifo
	sleep 60 <fifo 3>&- &
	READER_PID=$!
	httpget -q -o fifo "$(url)" 3>&- &
	pid=$!
	blocked_writer
	term_dies_of_it "$pid"
	no_temp_files .
}

@test "TERM ends a transfer blocked writing to standard output" {
	start_rawhttp big
	mkfifo fifo
	sleep 60 <fifo 3>&- &
	READER_PID=$!
	httpget -q -o - "$(url)" >fifo 3>&- &
	pid=$!
	blocked_writer
	term_dies_of_it "$pid"
}

@test "QUIT during a transfer removes the temporary file" {
	start_rawhttp stall
	ulimit -c 0
	echo old >kept
	# "&" in a script ignores QUIT, and httpget would keep it ignored.
	env --default-signal=QUIT httpget -q -T 30 -o kept "$(url)" 3>&- &
	pid=$!
	wait_until 10 temp_file_exists
	kill -QUIT "$pid"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 131
	no_temp_files .
	run -0 cat kept
	assert_output old
}

@test "a failed write of the headers is a file error (exit 3)" {
	start_rawhttp ok
	mknod full c 1 7
	run --separate-stderr -3 sh -c "httpget -o out '$(url)' >full"
	assert_equal "$stderr" \
	    'httpget: write to standard output: No space left on device'
	[ ! -e out ]
	no_temp_files .
}

@test "closed standard descriptors are opened on /dev/null, never a socket" {
	start_rawhttp stall
	httpget -q -T 30 -o out "$(url)" <&- >&- 3>&- &
	pid=$!
	wait_until 10 got_request
	run -0 readlink "/proc/$pid/fd/0" "/proc/$pid/fd/1"
	assert_output "/dev/null
/dev/null"
	kill -TERM "$pid"
	wait "$pid" || true
}
