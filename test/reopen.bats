#!/usr/bin/env bats
# hellod -k reopen: ErrorLog and CustomLog reopened in the master and in
# every worker, with no restart, whatever the configuration on disk says.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	log_test_paths
}

teardown() {
	pm_teardown
}

k() { hellod -C "PidFile $PIDF" -k "$@"; }

# writes_to PID FILE: PID holds FILE open (not a renamed one).
writes_to() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = "$2" ] && return 0
	done
	return 1
}

# all_write_to FILE: the master and every worker hold FILE open.
all_write_to() {
	local p
	for p in "$HELLOD_PID" $(children "$HELLOD_PID"); do
		writes_to "$p" "$1" || return 1
	done
}

@test "reopen: -k reopen moves the master and every worker to new files, no restart" {
	start_hellod -w 3 -C "PidFile $PIDF" -C "ErrorLog $ELOG" -C "CustomLog $ALOG"
	kids=$(children "$HELLOD_PID" | sort)
	mv "$ELOG" "$ELOG.1"
	mv "$ALOG" "$ALOG.1"
	run -0 --separate-stderr k reopen
	[ -z "$stderr" ]
	wait_until 5 all_write_to "$ELOG"
	wait_until 5 all_write_to "$ALOG"
	# The same workers, the same generation: nothing restarted.
	[ "$(children "$HELLOD_PID" | sort)" = "$kids" ]
	run -0 k status
	assert_line 'ParentServerMPMGeneration: 0'
	run -0 grep -c 'logs reopened$' "$ELOG"
	run -1 grep -q 'logs reopened' "$ELOG.1"
	run -0 talk "$PORT" <<<$'michael\nexit'
	wait_until 5 log_has "$ALOG" ' 1 13 25 exit$'
	run -0 wc -l <"$ALOG.1"
	assert_output 1		# start_hellod's probe, before the rotation
}

@test "reopen: SIGURG to the master is what -k reopen sends" {
	start_hellod -w 2 -C "CustomLog $ALOG"
	mv "$ALOG" "$ALOG.1"
	kill -URG "$HELLOD_PID"
	wait_until 5 all_write_to "$ALOG"
}

@test "reopen: the running configuration's paths, whatever the file on disk says" {
	PORT=$(free_port)
	printf 'Listen 127.0.0.1:%s\nPidFile %s\nCustomLog %s\n' "$PORT" "$PIDF" \
	    "$ALOG" >"$CONF"
	launch_hellod -f "$CONF" -w 2
	mv "$ALOG" "$ALOG.1"
	# A broken file on disk: -k reopen does not need to read it.
	echo 'CustomLog' >>"$CONF"
	run -1 hellod -f "$CONF" -k reopen
	run -0 k reopen || { echo "$output"; cat "$HELLOD_ERR"; false; }
	wait_until 5 all_write_to "$ALOG"
	# A valid file naming other logs: the running ones are reopened.
	mv "$ALOG" "$ALOG.2"
	printf 'Listen 127.0.0.1:%s\nPidFile %s\nCustomLog %s.other\n' "$PORT" \
	    "$PIDF" "$ALOG" >"$CONF"
	run -0 hellod -f "$CONF" -k reopen || { echo "$output"; cat "$HELLOD_ERR"; false; }
	wait_until 5 all_write_to "$ALOG"
	[ ! -e "$ALOG.other" ]
}

@test "reopen: workers running as nobody get new 0640 root:adm files they could not open" {
	getent passwd nobody >/dev/null || skip "no user nobody"
	getent group adm >/dev/null || skip "no group adm"
	start_hellod -w 2 -C 'User nobody' -C "PidFile $PIDF" -C "CustomLog $ALOG"
	mv "$ALOG" "$ALOG.1"
	# What logrotate's "create 0640 root adm" leaves.
	install -m 0640 -o root -g adm /dev/null "$ALOG"
	run -0 k reopen || { echo "$output"; cat "$HELLOD_ERR"; false; }
	wait_until 5 all_write_to "$ALOG"
	run -0 talk "$PORT" <<<$'nobody\nexit'
	wait_until 5 log_has "$ALOG" ' exit$'
	run -0 stat -c '%a %U %G' "$ALOG"
	assert_output '640 root adm'
}

@test "reopen: a session in progress writes its access line to the new file" {
	start_hellod -w 1 -C "PidFile $PIDF" -C "CustomLog $ALOG"
	hold_start 1
	wait_until 5 hold_seen 1 'hello, before-1!'
	mv "$ALOG" "$ALOG.1"
	run -0 k reopen || { echo "$output"; cat "$HELLOD_ERR"; false; }
	hold_release
	hold_wait
	wait_until 5 log_has "$ALOG" ' exit$'
	run -0 wc -l <"$ALOG.1"
	assert_output 1		# the probe only
}

@test "reopen: a log that cannot be reopened is exit 5; the old file goes on" {
	mkdir "$BATS_TEST_TMPDIR/logs"
	start_hellod -w 1 -C "PidFile $PIDF" -C "ErrorLog $BATS_TEST_TMPDIR/logs/error.log"
	mv "$BATS_TEST_TMPDIR/logs" "$BATS_TEST_TMPDIR/gone"
	run -5 --separate-stderr k reopen
	[ "$stderr" = "hellod: server (pid $HELLOD_PID) could not reopen every log; its error log says why" ]
	run -0 grep -c "cannot reopen ErrorLog $BATS_TEST_TMPDIR/logs/error.log; still writing to the old file: No such file or directory" "$BATS_TEST_TMPDIR/gone/error.log"
	run -0 talk "$PORT" <<<$'still\nexit'
	assert_output $'welcome!\nhello, still!'
}
