#!/usr/bin/env bats
# Issue 3, item 6: ErrorLog, LogLevel, CustomLog, and reopening on USR1.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	log_test_paths
}

teardown() {
	pm_teardown
}

STAMP='^\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\] '
# The access log's time: [25/Nov/2026:14:08:53 +0000]
WHEN='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\]'

@test "ErrorLog: lines with a timestamp, the level and the pid" {
	start_hellod -C "ErrorLog $ELOG"
	wait_until 5 log_has "$ELOG" 'started'
	run -0 cat "$ELOG"
	assert_line --regexp "${STAMP}\\[notice\\] \\[pid $HELLOD_PID\\] master: hellod/[^ ]+ started: 5 workers \\(up to 256\\), listening on 127\\.0\\.0\\.1:$PORT\$"
	# every line has the same shape
	run -1 grep -v -E "${STAMP}\\[(emerg|alert|crit|error|warn|notice|info|debug)\\] \\[pid [0-9]+\\] " "$ELOG"
	# and nothing went to stderr
	[ ! -s "$HELLOD_ERR" ]
	stop_hellod
	log_has "$ELOG" "\\[notice\\] \\[pid [0-9]+\\] master: stopped\$"
}

@test "LogLevel debug shows worker starts and sessions" {
	start_hellod -w 1 -C "ErrorLog $ELOG" -C 'LogLevel debug'
	run -0 talk "$PORT" --half-close <<<'dbg'
	local w
	w=$(children "$HELLOD_PID")
	wait_until 5 log_has "$ELOG" "\\[info\\] \\[pid $w\\] worker 0: connection from 127\\.0\\.0\\.1:[0-9]+ closed \\(eof\\)"
	log_has "$ELOG" "\\[debug\\] \\[pid $HELLOD_PID\\] master: started worker 0 \\(pid $w\\)"
	log_has "$ELOG" "\\[info\\] \\[pid $w\\] worker 0: accepted from 127\\.0\\.0\\.1:[0-9]+"
}

@test "LogLevel warn keeps notices, info and debug out, errors in" {
	printf 'ErrorLog %s\nLogLevel warn\n' "$ELOG" >"$CONF"
	WORKERS=2 start_hellod -w 2 -f "$CONF"
	run -0 talk "$PORT" --half-close <<<'quiet'
	local old
	old=$(children "$HELLOD_PID")
	kill -HUP "$HELLOD_PID"
	wait_until 10 workers_replaced "$old" 2
	[ -e "$ELOG" ] && [ ! -s "$ELOG" ]
	echo 'Timeout soon' >>"$CONF"
	kill -HUP "$HELLOD_PID"
	wait_until 5 log_has "$ELOG" "\\[error\\] .*restart failed"
	run -1 grep -E '\[(notice|info|debug)\]' "$ELOG"
}

@test "CustomLog: one line per session with address, time, duration, counts and how it ended" {
	start_hellod -w 1 -C "CustomLog $ALOG" -C 'Timeout 1' -C 'MaxLineLength 8'
	# start_hellod's probe connected and closed: a session too
	wait_until 5 log_has "$ALOG" .
	: >"$ALOG"
	run -0 talk "$PORT" <<<$'bob\nexit'
	wait_until 5 lines_are "$ALOG" . -eq 1
	run -0 talk "$PORT" --half-close <<<'a'
	wait_until 5 lines_are "$ALOG" . -eq 2
	run -0 talk "$PORT" </dev/null
	assert_output $'welcome!\nerror: timeout'
	wait_until 5 lines_are "$ALOG" . -eq 3
	run -0 talk "$PORT" <<<'too-long!'
	assert_output $'welcome!\nerror: line too long'
	wait_until 5 lines_are "$ALOG" . -eq 4
	# a session still open when the server stops
	hold_start 1
	wait_until 10 hold_seen 1 'hello, before-1!'
	local cport
	cport=$(sed -n 's/^1 connected //p' "$HOLD_OUT")
	stop_hellod
	wait_until 5 hold_seen 1 'closed early'
	run -0 cat "$ALOG"
	[ "${#lines[@]}" -eq 5 ]
	# ADDR:PORT [TIME] SECONDS MESSAGES IN OUT END
	assert_line --index 0 --regexp "^127\\.0\\.0\\.1:[0-9]+ $WHEN 0\\.[0-9]{3} 1 9 21 exit\$"
	assert_line --index 1 --regexp "^127\\.0\\.0\\.1:[0-9]+ $WHEN 0\\.[0-9]{3} 1 2 19 eof\$"
	assert_line --index 2 --regexp "^127\\.0\\.0\\.1:[0-9]+ $WHEN 1\\.[0-9]{3} 0 0 24 timeout\$"
	assert_line --index 3 --regexp "^127\\.0\\.0\\.1:[0-9]+ $WHEN 0\\.[0-9]{3} 0 [0-9]+ 30 too-long\$"
	assert_line --index 4 --regexp "^127\\.0\\.0\\.1:$cport $WHEN [0-9]+\\.[0-9]{3} 1 9 26 shutdown\$"
}

@test "USR1 reopens both logs: renamed files get no new lines, none are lost" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF" -C "ErrorLog $ELOG" \
	    -C "CustomLog $ALOG" -C 'LogLevel info'
	local round
	for round in 1 2 3; do
		talk "$PORT" --half-close <<<"old$round" >/dev/null
	done
	wait_until 5 lines_are "$ALOG" . -ge 4
	mv "$ELOG" "$ELOG.1"
	mv "$ALOG" "$ALOG.1"
	local old
	old=$(children "$HELLOD_PID")
	run -0 hellod -k graceful -C "PidFile $PIDF"
	wait_until 10 workers_replaced "$old" 2
	wait_until 5 log_has "$ELOG" '\[notice\] .* master: graceful restart: generation 1'
	for round in 1 2 3; do
		talk "$PORT" --half-close <<<"new$round" >/dev/null
	done
	wait_until 5 lines_are "$ALOG" ' eof$' -eq 3
	# the new sessions went to the new files only
	run -0 grep -c 'accepted from' "$ELOG"
	assert_output 3
	[ "$(count_in "$ALOG.1" .)" -eq "$(count_in "$ELOG.1" 'accepted from')" ]
	run -1 grep -F 'graceful restart' "$ELOG.1"
	# none lost: every line of the old files is whole
	run -1 grep -v -E "^127\\.0\\.0\\.1:[0-9]+ $WHEN [0-9]+\\.[0-9]{3} [0-9]+ [0-9]+ [0-9]+ [a-z-]+\$" "$ALOG.1" "$ALOG"
	stop_hellod
	log_has "$ELOG" 'master: stopped$'
	run -1 grep -F 'stopped' "$ELOG.1"
}

@test "CustomLog: a client that resets the connection is logged as reset" {
	start_hellod -w 1 -C "CustomLog $ALOG" -C 'ReplyDelay 300'
	wait_until 5 log_has "$ALOG" .
	: >"$ALOG"
	python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(5)
assert s.recv(9) == b"welcome!\n"
s.sendall(b"gone\n")
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
	wait_until 5 log_has "$ALOG" .
	run -0 cat "$ALOG"
	assert_output --regexp "^127\\.0\\.0\\.1:[0-9]+ $WHEN 0\\.[0-9]{3} 0 5 9 reset\$"
}
