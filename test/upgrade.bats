#!/usr/bin/env bats
# Issue 10: the binary replaced under load (USR2, -k upgrade), and its
# rollback.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	CONF="$BATS_TEST_TMPDIR/h.conf"
}

teardown() {
	[ -n "${NL_PID:-}" ] && kill "$NL_PID" 2>/dev/null
	[ -z "${STANDIN:-}" ] || kill -KILL "$STANDIN" 2>/dev/null || true
	hold_stop
	# The new master of an upgrade is not our child: stop it by its file.
	kill_daemon "$PIDF"
	kill_daemon "$PIDF.oldbin"
	stop_hellod
}

up() { hellod -k upgrade -C "PidFile $PIDF"; }

# holder FILE: the pid that holds FILE's lock (the master it names), or
# nothing.
holder() {
	python3 - "$1" <<'PY'
import fcntl, struct, sys
try:
    fd = open(sys.argv[1], "rb")
except OSError:
    sys.exit(0)
lk = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0)
r = fcntl.fcntl(fd, fcntl.F_GETLK, lk)
typ, _, _, _, pid = struct.unpack("hhqqi", r)
if typ != fcntl.F_UNLCK:
    print(pid)
PY
}

# new_serves: a master other than $HELLOD_PID holds the PidFile.
new_serves() {
	local h
	h=$(holder "$PIDF")
	[ -n "$h" ] && [ "$h" != "$HELLOD_PID" ]
}

# listener PORT: "socket:[INODE]" of the socket listening on
# 127.0.0.1:PORT, as /proc/PID/fd shows it.
listener() {
	awk -v port="$(printf '%04X' "$1")" '$2 == "0100007F:" port && $4 == "0A" {
		print "socket:[" $10 "]" }' /proc/net/tcp
}

# holds PID SOCKET: PID has SOCKET ("socket:[INODE]") open.
holds() { listen_sockets "$1" | grep -qxF -- "$2"; }

# wait_exit: wait for the master we started; its exit status.
wait_exit() {
	local st=0
	wait_until 40 pid_gone "$HELLOD_PID"
	wait "$HELLOD_PID" || st=$?
	HELLOD_PID=
	return "$st"
}

status_pid() {
	hellod -k status -C "PidFile $1" | sed -n 's/^ServerPid: //p'
}

# serves_on OLD WORD: after a rollback, master OLD holds $PIDF again, no
# PidFile.oldbin is left, -k status names it, and it answers WORD.
serves_on() {
	[ "$(holder "$PIDF")" = "$1" ]
	[ ! -e "$PIDF.oldbin" ]
	[ "$(status_pid "$PIDF")" = "$1" ]
	run -0 talk "$PORT" --half-close <<<"$2"
	assert_output "welcome!"$'\n'"hello, $2!"
}

@test "-k upgrade: a new master on the same listening socket, the old one gone, exit 0" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	local old=$HELLOD_PID sock args new
	sock=$(listener "$PORT")
	holds "$old" "$sock"
	args=$(ps -o args= -p "$old")
	run -0 --separate-stderr up
	[ -z "$stderr" ]
	new=$(cat "$PIDF")
	[ "$new" != "$old" ]
	pid_alive "$new"
	[ "$(holder "$PIDF")" = "$new" ]
	wait_exit
	[ ! -e "$PIDF.oldbin" ]
	# the same socket, the same command line
	[ "$(listener "$PORT")" = "$sock" ]
	holds "$new" "$sock"
	# (test/fallback/hellod, run again, adds its -C once more)
	if [ -z "${HELLOD_ACCEPT:-}" ]; then
		[ "$(ps -o args= -p "$new")" = "$args" ]
	else
		[[ "$(ps -o args= -p "$new")" == *"${args#hellod }" ]]
	fi
	run -0 talk "$PORT" --half-close <<<'new'
	assert_output $'welcome!\nhello, new!'
	[ "$(status_pid "$PIDF")" = "$new" ]
	log_has "$HELLOD_ERR" "\\[pid $old\\] master: upgrade: started the new master \\(pid $new\\)"
	log_has "$HELLOD_ERR" "\\[pid $new\\] master: upgrade: serving; PidFile $PIDF names this master"
	# and once more, from the new master
	run -0 up
	wait_until 10 pid_gone "$new"
	pid_alive "$(cat "$PIDF")"
}

@test "USR2: PidFile.oldbin keeps the old master's lock and status; WINCH ends it" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	local old=$HELLOD_PID new
	kill -USR2 "$old"
	wait_until 10 new_serves
	new=$(holder "$PIDF")
	[ "$(holder "$PIDF.oldbin")" = "$old" ]
	[ "$(cat "$PIDF.oldbin")" = "$old" ]
	[ "$(status_pid "$PIDF.oldbin")" = "$old" ]
	[ "$(status_pid "$PIDF")" = "$new" ]
	wait_until 5 log_has "$HELLOD_ERR" "\\[pid $old\\] master: upgrade: the new master \\(pid $new\\) serves and holds $PIDF; this master serves until told WINCH or TERM"
	kill -WINCH "$old"
	wait_exit
	[ ! -e "$PIDF.oldbin" ]
	[ ! -e "$PIDF.oldbin.scoreboard" ]
	[ "$(holder "$PIDF")" = "$new" ]
	run -0 talk "$PORT" --half-close <<<'after'
	assert_output $'welcome!\nhello, after!'
}

@test "TERM to the old master during an upgrade: it exits 0, the new one serves on with the PidFile" {
	WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	local old=$HELLOD_PID new
	kill -USR2 "$old"
	wait_until 10 new_serves
	new=$(holder "$PIDF")
	kill -TERM "$old"
	wait_exit
	[ ! -e "$PIDF.oldbin" ]
	[ "$(holder "$PIDF")" = "$new" ]
	run -0 talk "$PORT" --half-close <<<'term'
	assert_output $'welcome!\nhello, term!'
	# the new master, its old one gone, may be upgraded in turn
	run -0 up
	wait_until 10 pid_gone "$new"
}

@test "-k upgrade under load: no session refused, reset or unanswered; long old sessions finish" {
	WORKERS=4 start_hellod -w 4 -C "PidFile $PIDF"
	local old=$HELLOD_PID
	hold_start 2
	wait_until 10 hold_seen 2 'hello, before-'
	python3 "$TOP/test/load.py" "$PORT" 4 4 >"$BATS_TEST_TMPDIR/load.out" 2>&1 3>&- &
	local load=$!
	up >"$BATS_TEST_TMPDIR/up.out" 2>&1 3>&- &
	local ctl=$!
	# the old master waits for its two held sessions
	wait_until 15 log_has "$HELLOD_ERR" "\\[pid $old\\] master: graceful stop: finishing sessions"
	pid_alive "$old"
	hold_release
	local st=0
	wait "$ctl" || st=$?
	cat "$BATS_TEST_TMPDIR/up.out"
	[ "$st" -eq 0 ]
	hold_wait
	run -0 cat "$HOLD_OUT"
	assert_line '1 hello, after-1!'
	assert_line '2 hello, after-2!'
	assert_line '1 closed'
	assert_line '2 closed'
	refute_line --partial 'early'
	refute_line --partial 'error'
	st=0
	wait "$load" || st=$?
	run cat "$BATS_TEST_TMPDIR/load.out"
	assert_line --regexp '^sessions [0-9]+ failed 0$'
	[ "$st" -eq 0 ]
	local n
	n=$(sed -n 's/^sessions \([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/load.out")
	echo "# $n sessions through the upgrade" >&3
	(( n >= 50 ))
	wait_exit
	pid_alive "$(holder "$PIDF")"
}

@test "rollback: a configuration that fails in the new master leaves the old one serving" {
	printf 'Framing line\n' >"$CONF"
	WORKERS=2 start_hellod -w 2 -f "$CONF" -C "PidFile $PIDF"
	local old=$HELLOD_PID
	printf 'Bogus 1\n' >>"$CONF"
	run -5 --separate-stderr up
	[ -z "$output" ]
	[[ "$stderr" =~ ^hellod:\ upgrade\ failed:\ the\ new\ master\ \(pid\ [0-9]+\)\ exited\ 1\ before\ it\ served\;\ the\ old\ master\ \(pid\ $old\)\ serves\ on\;\ its\ error\ log\ says\ more$ ]]
	log_has "$HELLOD_ERR" 'unknown directive "Bogus"'
	log_has "$HELLOD_ERR" "\\[error\\] \\[pid $old\\] master: upgrade failed: the new master \\(pid [0-9]+\\) exited 1 before it served; rolled back: this master serves on with PidFile $PIDF\$"
	serves_on "$old" still
	# fixed, the next upgrade goes through
	printf 'Framing line\n' >"$CONF"
	run -0 up
	wait_exit
}

@test "rollback: USR2, then TERM to the new master; the old one serves on with its PidFile" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	local old=$HELLOD_PID new
	kill -USR2 "$old"
	wait_until 10 new_serves
	new=$(holder "$PIDF")
	kill -TERM "$new"
	wait_until 10 pid_gone "$new"
	wait_until 10 [ -e "$PIDF" ]
	wait_until 10 log_has "$HELLOD_ERR" "\\[pid $old\\] master: upgrade failed: the new master \\(pid $new\\) exited 0 after it served; rolled back: this master serves on with PidFile $PIDF\$"
	serves_on "$old" back
	run -0 hellod -k stop -C "PidFile $PIDF"
	wait_exit
}

@test "USR2 during an upgrade, or to the new master while the old one runs, is ignored and logged" {
	WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	local old=$HELLOD_PID new
	kill -USR2 "$old"
	wait_until 10 new_serves
	new=$(holder "$PIDF")
	kill -USR2 "$old"
	wait_until 5 log_has "$HELLOD_ERR" "\\[warn\\] \\[pid $old\\] master: USR2 ignored: an upgrade is under way \\(new master pid $new\\)\$"
	run -5 --separate-stderr up
	assert_equal "$stderr" "hellod: upgrade failed: USR2 ignored: this master is the new one of an upgrade not finished: its old master (pid $old) still runs; its error log says more"
	log_has "$HELLOD_ERR" "\\[warn\\] \\[pid $new\\] master: USR2 ignored: this master is the new one"
	# two masters, one worker each: nothing more was started
	[ "$(children "$old" | grep -cvx "$new")" -eq 1 ]
	[ "$(worker_count "$new")" -eq 1 ]
	kill -WINCH "$old"
	wait_exit
}

@test "a stale PidFile.oldbin is taken over; -k upgrade of a server not running says so" {
	run -3 --separate-stderr up
	assert_equal "$stderr" "hellod: not running (no live server holds PidFile $PIDF)"
	printf '999999\n' >"$PIDF.oldbin"
	WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	run -0 --separate-stderr up
	[ -z "$stderr" ]
	wait_exit
	[ ! -e "$PIDF.oldbin" ]
	pid_alive "$(holder "$PIDF")"
}

@test "a binary that cannot be executed: the old master rolls back and says so" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$TOP/server/hellod" "$BATS_TEST_TMPDIR/bin/hellod"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	chmod a-x "$BATS_TEST_TMPDIR/bin/hellod"
	run -5 --separate-stderr up
	[[ "$stderr" =~ ^hellod:\ upgrade\ failed:\ the\ new\ master\ \(pid\ [0-9]+\)\ could\ not\ execute\ $BATS_TEST_TMPDIR/bin/hellod\ before\ it\ served ]]
	[ "$(holder "$PIDF")" = "$HELLOD_PID" ]
	run -0 talk "$PORT" --half-close <<<'same'
	assert_output $'welcome!\nhello, same!'
}

@test "the new master keeps the sockets its Listen still names, closes the others, binds the new" {
	local a b c
	a=$(free_port)
	b=$(free_port)
	printf 'Listen 127.0.0.1:%s\nListen 127.0.0.1:%s\nPidFile %s\n' "$a" "$b" "$PIDF" >"$CONF"
	PORT=$a WORKERS=1 launch_hellod -w 1 -f "$CONF"
	port_open "$b"
	local sock
	sock=$(listener "$a")
	c=$(free_port)
	printf 'Listen 127.0.0.1:%s\nListen 127.0.0.1:%s\nPidFile %s\n' "$a" "$c" "$PIDF" >"$CONF"
	run -0 hellod -k upgrade -f "$CONF"
	wait_exit
	local new
	new=$(holder "$PIDF")
	port_open "$a"
	port_open "$c"
	port_closed "$b"
	[ "$(listener "$a")" = "$sock" ]
	holds "$new" "$sock"
	holds "$new" "$(listener "$c")"
}

@test "the new master keeps the old one's PidFile, as a restart does, whatever the file says now" {
	PORT=$(free_port)
	printf 'Listen 127.0.0.1:%s\nPidFile %s\n' "$PORT" "$PIDF" >"$CONF"
	WORKERS=1 launch_hellod -w 1 -f "$CONF"
	printf 'Listen 127.0.0.1:%s\nPidFile %s\n' "$PORT" "$BATS_TEST_TMPDIR/other.pid" >"$CONF"
	run -0 --separate-stderr up
	[ -z "$stderr" ]
	wait_exit
	pid_alive "$(holder "$PIDF")"
	[ ! -e "$BATS_TEST_TMPDIR/other.pid" ]
}

@test "-k upgrade of a -d server started with relative paths" {
	cd "$BATS_TEST_TMPDIR"
	PORT=$(free_port)
	printf 'Listen 127.0.0.1:%s\nPidFile h.pid\nErrorLog h.log\n' "$PORT" >h.conf
	run -0 "$(realpath --relative-to=. "$TOP/server/hellod")" -d -w 1 -f h.conf
	local old
	old=$(cat h.pid)
	run -0 --separate-stderr hellod -k upgrade -f h.conf
	[ -z "$stderr" ]
	wait_until 5 pid_gone "$old"
	local new
	new=$(holder "$PIDF")
	[ -n "$new" ] && [ "$new" != "$old" ]
	run -0 talk "$PORT" --half-close <<<'daemon'
	assert_output $'welcome!\nhello, daemon!'
	log_has h.log "\\[pid $new\\] master: upgrade: serving"
	# a detached master's stderr is /dev/null: the new master's startup
	# error goes to the ErrorLog file
	printf 'Bogus 1\n' >>h.conf
	run -5 hellod -k upgrade -C "PidFile $PIDF"
	log_has h.log '^hellod: .*h\.conf:4: unknown directive "Bogus"$'
	log_has h.log "\\[pid $new\\] master: upgrade failed: .* exited 1 before it served; rolled back"
	sed -i '$d' h.conf
	run -0 hellod -k stop -f h.conf
}

# notified REGEX: a message to the test's notify socket matches REGEX.
notified() { grep -qE -- "$1" "$NLOG"; }

@test "with a service manager: MAINPID= names the new master, the old one sends no STOPPING; a rollback names the old again" {
	NLOG="$BATS_TEST_TMPDIR/notify.log"
	python3 "$TOP/test/notify_listen.py" "$BATS_TEST_TMPDIR/n.sock" "$NLOG" 3>&- &
	NL_PID=$!
	wait_until 5 test -e "$NLOG"
	NOTIFY_SOCKET="$BATS_TEST_TMPDIR/n.sock" WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	local old=$HELLOD_PID new
	wait_until 5 notified "^READY=1 MAINPID=$old\$"
	# TERM to the new master: the old one is the main one again
	kill -USR2 "$old"
	wait_until 10 new_serves
	new=$(holder "$PIDF")
	wait_until 5 notified "^READY=1 MAINPID=$new\$"
	kill -TERM "$new"
	wait_until 10 notified "^READY=1 MAINPID=$old STATUS=upgrade failed"
	# and through: the old master leaves without a word
	run -0 up
	new=$(holder "$PIDF")
	wait_until 5 notified "^READY=1 MAINPID=$new\$"
	wait_exit
	run -1 grep STOPPING "$NLOG"
}

# standin_start ARGS...: start hellod from a copy in $BATS_TEST_TMPDIR/bin,
# which is then replaced by a stand-in that never serves: it sleeps, holding
# the listening sockets it inherits, for at most 30 s.
standin_start() {
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$TOP/server/hellod" "$BATS_TEST_TMPDIR/bin/hellod"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF" "$@"
	printf '#!/bin/sh\nexec sleep 30\n' >"$BATS_TEST_TMPDIR/bin/hellod.new"
	chmod +x "$BATS_TEST_TMPDIR/bin/hellod.new"
	mv "$BATS_TEST_TMPDIR/bin/hellod.new" "$BATS_TEST_TMPDIR/bin/hellod"
}

# standin_pid: the new master the old one started, from its log.
standin_pid() {
	sed -n 's/.*upgrade: started the new master (pid \([0-9]*\)).*/\1/p' "$HELLOD_ERR" | tail -n 1
}

@test "a raw USR2 whose new master never serves: UpgradeTimeout ends it, the old master rolls back; -k finds PidFile.oldbin meanwhile" {
	standin_start -C 'UpgradeTimeout 2'
	local old=$HELLOD_PID
	kill -USR2 "$old"
	wait_until 5 eval '[ -n "$(standin_pid)" ]'
	STANDIN=$(standin_pid)
	[ -e "$PIDF.oldbin" ]
	run -0 --separate-stderr hellod -k status -C "PidFile $PIDF"
	assert_line "ServerPid: $old"
	assert_equal "$stderr" "hellod: an upgrade is under way: the server (pid $old) holds $PIDF.oldbin"
	wait_until 10 pid_gone "$STANDIN"
	log_has "$HELLOD_ERR" "master: upgrade: the new master \\(pid $STANDIN\\) did not serve within 2 seconds \\(UpgradeTimeout\\); stopping it\$"
	wait_until 5 log_has "$HELLOD_ERR" "master: upgrade failed: the new master \\(pid $STANDIN\\) killed by signal 15 before it served; rolled back: this master serves on with PidFile $PIDF\$"
	[ "$(holder "$PIDF")" = "$old" ]
	[ ! -e "$PIDF.oldbin" ]
	run -0 talk "$PORT" --half-close <<<'still'
	assert_output $'welcome!\nhello, still!'
}

@test "TERM to an old master whose new master never served ends both; nothing holds the port" {
	standin_start
	local old=$HELLOD_PID
	kill -USR2 "$old"
	wait_until 5 eval '[ -n "$(standin_pid)" ]'
	STANDIN=$(standin_pid)
	run -0 hellod -k stop -C "PidFile $PIDF"
	wait_exit
	pid_gone "$STANDIN"
	log_has "$HELLOD_ERR" "master: upgrade: this master stops before the new master \\(pid $STANDIN\\) served; stopping it\$"
	[ ! -e "$PIDF" ] && [ ! -e "$PIDF.oldbin" ]
	port_closed "$PORT"
}

@test "an old master killed mid-upgrade: the new master says so and removes PidFile.oldbin and its scoreboard" {
	WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	local old=$HELLOD_PID
	kill -USR2 "$old"
	wait_until 5 log_has "$HELLOD_ERR" "\\[pid $old\\] master: upgrade: started the new master"
	kill -KILL "$old"
	wait "$old" 2>/dev/null || true
	HELLOD_PID=
	wait_until 10 eval '[ -n "$(holder "$PIDF")" ]'
	wait_until 5 log_has "$HELLOD_ERR" "upgrade: the old master \\(pid $old\\) died before the upgrade was over; removed what it left: $PIDF.oldbin, $PIDF.oldbin.scoreboard\$"
	[ ! -e "$PIDF.oldbin" ] && [ ! -e "$PIDF.oldbin.scoreboard" ]
	run -0 talk "$PORT" --half-close <<<'on'
	assert_output $'welcome!\nhello, on!'
}
