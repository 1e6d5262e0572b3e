#!/usr/bin/env bats
# Issue 8: the pool under faults.  Workers killed from outside, workers
# that cannot start, restarts piled on busy workers, a master that is a
# zombie, stalled logs, pid-file races and connections queued at a
# graceful stop.  Every test bounds its waits and leaves nothing running.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	PIDF="$BATS_TEST_TMPDIR/h.pid"
}

teardown() {
	# A worker that outlived its master is no child of ours any more.
	[ -z "${ORPHANS:-}" ] || kill -KILL $ORPHANS 2>/dev/null || true
	[ -z "${FLOOD_PID:-}" ] || kill "$FLOOD_PID" 2>/dev/null || true
	pm_teardown
	kill_daemon "$PIDF"
	[ -z "${TEST_UID:-}" ] || kill_uid "$TEST_UID"
	# The default pid file's directory of a server run as that uid.
	[ -z "${TEST_UID:-}" ] || rm -rf "/tmp/hellod-$TEST_UID"
}

status() { hellod -k status -C "PidFile $PIDF"; }

# pids_gone PID...: none of them runs.
pids_gone() {
	local p
	for p in "$@"; do
		pid_gone "$p" || return 1
	done
}

# all_idle N: the scoreboard shows exactly N workers, all waiting.
all_idle() {
	status | grep -qx "Scoreboard: $(printf '%*s' "$1" '' | tr ' ' _)"
}

# kill_all_workers: SIGKILL every worker of $HELLOD_PID and wait until
# the master has reaped them all.
kill_all_workers() {
	local kids k
	kids=$(children "$HELLOD_PID")
	kill -KILL $kids
	for k in $kids; do
		wait_until 5 pid_gone "$k"
	done
}

# crash_at_start: hellod's address-space limit, set so that the master
# runs but a worker cannot allocate the buffers for MaxLineLength 1 MiB
# and dies before it is ready.  Not with AddressSanitizer, which needs
# terabytes of address space.
crash_at_start() {
	if nm -C "$TOP/server/hellod" 2>/dev/null | grep -q __asan_init; then
		skip "built with AddressSanitizer"
	fi
	CRASH_LIMIT=$((4096 * 1024))
}

@test "workers killed after they were ready are replaced at once, however young (double kill)" {
	WORKERS=8 start_hellod -w 8 -C "PidFile $PIDF"
	wait_until 5 all_idle 8
	kill_all_workers
	# The replacements are ready at once, and killed again while young.
	wait_until 5 all_idle 8
	kill_all_workers
	wait_until 2 all_idle 8
	run -0 session.py swarm "$PORT" 8
	assert_line --index 0 'served 8 of 8'
	[ "$(count_in "$HELLOD_ERR" 'killed by signal 9; respawning$')" -eq 16 ]
	run ! log_has "$HELLOD_ERR" 'before it was ready'
}

@test "workers that die before they are ready are respawned with growing back-off, master idle" {
	crash_at_start
	local ticks0 ticks1
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	prlimit --as="$CRASH_LIMIT" hellod -l "127.0.0.1:$PORT" -w 2 \
	    -C 'MaxLineLength 1048576' 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 log_has "$HELLOD_ERR" 'respawning in 2000 ms$'
	ticks0=$(cpu_ticks "$HELLOD_PID")
	run -0 cat "$HELLOD_ERR"
	assert_line --regexp '^.* master: worker [01] \(pid [0-9]+\) exited [0-9]+ before it was ready; respawning in 1000 ms$'
	# Both workers' deaths in one round double the wait once.
	[ "$(count_in "$HELLOD_ERR" 'respawning in 1000 ms$')" -eq 2 ]
	wait_until 5 log_has "$HELLOD_ERR" 'respawning in 4000 ms$'
	ticks1=$(cpu_ticks "$HELLOD_PID")
	[ $((ticks1 - ticks0)) -lt 50 ] ||
	    fail "master used $((ticks1 - ticks0)) ticks over the back-off"
	# The listener stays open and queues: nothing is refused.
	run -0 port_open "$PORT"
}

k() { hellod -k "$1" -C "PidFile $PIDF"; }

# hold N: hold N more sessions open in the background, until released
# by touch "$BATS_TEST_TMPDIR/go" (see test/hold.py); wait until all N
# have their first answer.
hold() {
	local out="$BATS_TEST_TMPDIR/hold.$RANDOM"
	python3 "$TOP/test/hold.py" "$PORT" "$1" --go "$BATS_TEST_TMPDIR/go" \
	    --timeout 20 >"$out" 2>&1 3>&- &
	HOLDERS+=("$!")
	wait_until 5 hold_in "$out" "$1"
}
hold_in() { [ "$(grep -c 'hello, before-' "$1")" -ge "$2" ]; }

release_holders() {
	local p
	touch "$BATS_TEST_TMPDIR/go"
	for p in "${HOLDERS[@]}"; do
		wait "$p" || true
	done
	HOLDERS=()
}

# one_idle_worker: the scoreboard shows one waiting worker, nothing else.
one_idle_worker() { status | grep -qx 'Scoreboard: [.]*_[.]*'; }

# scoreboard_is LINE: "hellod -k status" shows this Scoreboard line.
scoreboard_is() { status | grep -qx "Scoreboard: $1"; }

@test "two graceful restarts while every worker is busy: the new generation still has its workers" {
	HOLDERS=()
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	hold 2
	run -0 k graceful
	hold 2
	run -0 k graceful
	# Four old workers finish their sessions; two new ones wait.
	wait_until 5 scoreboard_is 'GGGG__'
	run -0 session.py swarm "$PORT" 2
	assert_line --index 0 'served 2 of 2'
	release_holders
	wait_until 5 scoreboard_is '....__'
}

@test "a restart with no room for a new generation is postponed; the current one serves on" {
	HOLDERS=()
	# ServerLimit 1: the scoreboard has four slots (four generations of
	# one worker).
	WORKERS=1 start_hellod -w 1 -C 'ServerLimit 1' -C "PidFile $PIDF"
	hold 1
	run -0 k graceful
	hold 1
	run -0 k graceful
	hold 1
	run -0 k graceful
	hold 1
	# Four slots, each busy.
	kill -USR1 "$HELLOD_PID"
	wait_until 5 log_has "$HELLOD_ERR" 'graceful restart postponed: .*\(0 free, 1 needed\); the current one serves on$'
	run -0 status
	assert_line 'ParentServerMPMGeneration: 3'
	assert_line 'Scoreboard: GGGR'
	# Once the old sessions end, the restart happens.
	release_holders
	wait_until 5 one_idle_worker
	run -0 status
	assert_line 'ParentServerMPMGeneration: 4'
	run -0 talk "$PORT" <<<$'after\nexit'
	assert_output $'welcome!\nhello, after!'
}

@test "-k stop returns once the master has exited, even while it is an unreaped zombie" {
	PORT=$(free_port)
	run -0 python3 - "$PORT" "$PIDF" <<'PY'
import os, socket, subprocess, sys, time
port, pidf = sys.argv[1], sys.argv[2]
# Popen without wait(): once it exits, the master stays a zombie.
p = subprocess.Popen(["hellod", "-l", "127.0.0.1:" + port, "-w", "1",
                      "-C", "PidFile " + pidf], stderr=subprocess.DEVNULL)
end = time.monotonic() + 5
while not (os.path.exists(pidf) and os.path.getsize(pidf) > 0):
    assert time.monotonic() < end, "no pid file"
    time.sleep(0.05)
try:
    k = subprocess.run(["hellod", "-k", "stop", "-C", "PidFile " + pidf,
                        "-C", "GracefulShutdownTimeout 1"], timeout=8)
    print("-k stop:", k.returncode)
    print("master:", open("/proc/%d/stat" % p.pid).read().split()[2])
finally:
    if p.poll() is None:
        p.kill()
    p.wait()
PY
	assert_output $'-k stop: 0\nmaster: Z'
}

has_children() { [ -n "$(children "$1")" ]; }

# holds_open PID FILE: process PID has FILE open.
holds_open() {
	local f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "$2" ] && return 0
	done 2>/dev/null
	return 1
}

@test "a server that locks a pid file being removed by one that stops takes a fresh one" {
	command -v strace >/dev/null || skip "needs strace"
	local port2 spid b
	WORKERS=1 start_hellod -w 1 -C "PidFile $PIDF"
	local a=$HELLOD_PID
	port2=$(free_port)
	# B opens the pid file now but locks it one second later (its first
	# fcntl() is delayed), after A has unlinked it and exited.
	strace -f -o /dev/null -e trace=fcntl \
	    -e inject=fcntl:delay_enter=1000000:when=1 \
	    hellod -l "127.0.0.1:$port2" -w 1 -C "PidFile $PIDF" \
	    2>"$BATS_TEST_TMPDIR/b.err" 3>&- &
	spid=$!
	wait_until 5 has_children "$spid"
	b=$(children "$spid")
	wait_until 5 holds_open "$b" "$PIDF"
	kill -TERM "$a"
	wait_until 5 pid_gone "$a"
	wait "$a" || true
	HELLOD_PID=$b
	wait_until 5 port_open "$port2"
	# B holds a pid file under the name, with its pid in it.
	wait_until 5 test -s "$PIDF"
	run -0 cat "$PIDF"
	assert_output "$b"
	run -0 hellod -k status -C "PidFile $PIDF"
	assert_line "ServerPid: $b"
	stop_hellod
	wait "$spid" || true
}

# kill_uid UID: stop, by PID, whatever UID still runs (after a failure).
kill_uid() {
	local p
	for p in $(pgrep -u "$1"); do
		kill -KILL "$p" 2>/dev/null || true
	done
}

@test "hellod -d gives up when no worker can be forked: says why, exits 4, leaves nothing running" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	# A uid of our own, so no other process counts against the limit.
	local uid=$((40000 + RANDOM % 20000))
	TEST_UID=$uid
	PORT=$(free_port)
	# Two processes at most: the -d parent and the master; every worker
	# fork fails with EAGAIN.
	run -4 --separate-stderr timeout 20 setpriv --reuid="$uid" \
	    --regid="$uid" --clear-groups prlimit --nproc=2 \
	    hellod -d -l "127.0.0.1:$PORT" -w 2
	# The last line: a first one may warn of a missing syslog socket.
	assert_equal "${stderr##*$'\n'}" 'hellod: no worker became ready (fork: Resource temporarily unavailable); the server stopped'
	[ "$(pgrep -c -u "$uid")" -eq 0 ] || { kill_uid "$uid"; fail "left running"; }
	run -0 port_closed "$PORT"
}

@test "hellod -d gives up when workers die before they are ready: says why, exits 4, leaves nothing running" {
	crash_at_start
	PORT=$(free_port)
	run -4 --separate-stderr timeout 20 prlimit --as="$CRASH_LIMIT" \
	    hellod -d -l "127.0.0.1:$PORT" -w 1 -C 'MaxLineLength 1048576' \
	    -C "PidFile $PIDF"
	[[ ${stderr##*$'\n'} =~ ^'hellod: no worker became ready (worker 0 exited '[0-9]+' before it was ready); the server stopped'$ ]] ||
	    fail "$stderr"
	run -0 port_closed "$PORT"
	run ! test -e "$PIDF"
}

@test "the start message counts the workers forked, not those asked for" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	local uid=$((40000 + RANDOM % 20000))
	TEST_UID=$uid
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	# Four processes: the master and three workers.
	setpriv --reuid="$uid" --regid="$uid" --clear-groups prlimit --nproc=4 \
	    hellod -l "127.0.0.1:$PORT" -w 8 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 log_has "$HELLOD_ERR" ' started: '
	run -0 grep ' started: ' "$HELLOD_ERR"
	assert_output --regexp 'master: hellod/[^ ]+ started: 3 of 8 workers, listening on 127\.0\.0\.1:[0-9]+$'
}

# connect_fails PORT: a connection to PORT does not complete in 0.5 s.
connect_fails() {
	python3 - "$1" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

# winch_queued [ARGS...]: hellod -w 2 ARGS, both workers held, five more
# clients in the listen queue (hold.py's output in $QUEUED), then WINCH.
winch_queued() {
	WORKERS=2 start_hellod -w 2 "$@"
	hold 2
	QUEUED="$BATS_TEST_TMPDIR/queued"
	python3 "$TOP/test/hold.py" "$PORT" 5 --go "$BATS_TEST_TMPDIR/go" \
	    --timeout 20 >"$QUEUED" 2>&1 3>&- &
	HOLDERS+=("$!")
	wait_until 5 hold_seen_in "$QUEUED" 5 connected
	kill -WINCH "$HELLOD_PID"
}

@test "graceful stop serves every connection already queued, and queues no new one" {
	HOLDERS=()
	winch_queued
	wait_until 5 log_has "$HELLOD_ERR" 'graceful stop: no new connections; serving the 5 queued first$'
	run -0 connect_fails "$PORT"
	release_holders
	run -0 cat "$QUEUED"
	assert_line --regexp '^[0-9]+ done 5 of 5$'
	wait_until 10 pid_gone "$HELLOD_PID"
	run -0 wait "$HELLOD_PID"
	HELLOD_PID=
}
hold_seen_in() { [ "$(grep -c -- "$3" "$1")" -ge "$2" ]; }

@test "a burst is met by forking at once, sized by the queued connections, not by the once-a-second ramp" {
	start_hellod -C 'StartServers 1' -C 'MinSpareServers 1' \
	    -C 'MaxSpareServers 40' -C 'LogLevel info' -C 'ReplyDelay 500'
	# Twenty sessions opened at once, each lasting half a second.
	run -0 hellobench -c 20 -n 20 127.0.0.1 "$PORT"
	run -0 grep -E 'server seems busy: forking [0-9]+ workers at once' "$HELLOD_ERR"
	# Each spawn covers what was queued then, plus the spare one, and
	# together they forked (nearly) a worker for each session.
	local l sum=0
	for l in "${lines[@]}"; do
		[[ $l =~ forking\ ([0-9]+)\ workers\ at\ once\ \(([0-9]+)\ queued,\ ([0-9]+)\ idle ]]
		[ "${BASH_REMATCH[1]}" -eq $((BASH_REMATCH[2] + 1 - BASH_REMATCH[3])) ] ||
		    fail "$l"
		sum=$((sum + BASH_REMATCH[1]))
	done
	[ "$sum" -ge 18 ] || fail "forked $sum at once"
	run ! log_has "$HELLOD_ERR" 'server seems busy: forking [0-9]+ workers \('
}

@test "a stderr nobody reads blocks neither sessions nor TERM; the lost lines are counted and reported" {
	PORT=$(free_port)
	run -0 timeout 60 python3 - "$PORT" <<'PY'
import fcntl, os, subprocess, sys, time
port = sys.argv[1]
r, w = os.pipe()
# Nobody reads r until the end: after 64 KiB every write would block.
p = subprocess.Popen(["hellod", "-l", "127.0.0.1:" + port, "-w", "2",
                      "-C", "LogLevel info"], stderr=w, pass_fds=())
os.close(w)
def bench(n):
    out = subprocess.run(["hellobench", "-c", "4", "-n", str(n), "-w", "5",
                          "127.0.0.1", port], capture_output=True, text=True)
    return out.returncode, out.stdout
try:
    end = time.monotonic() + 5
    while bench(1)[0] != 0:
        assert time.monotonic() < end, "never served"
        time.sleep(0.05)
    # About 200 bytes of log a session: 1500 sessions fill the pipe.
    rc, out = bench(1500)
    print("load:", rc, [l for l in out.splitlines() if l.startswith("errors")][0])
    fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
    while True:
        try:
            if not os.read(r, 65536):
                break
        except BlockingIOError:
            break
    # Drained: the next lines get through, led by the count of the lost.
    bench(1)
    time.sleep(0.2)
    text = b""
    try:
        text = os.read(r, 65536)
    except BlockingIOError:
        pass
    import re
    m = re.search(rb"\[warn\] \[pid \d+\] (worker|master)[ 0-9]*: \d+ log lines dropped\n", text)
    print("report:", bool(m))
    p.terminate()
    p.wait(timeout=5)
    print("stopped:", p.returncode)
finally:
    if p.poll() is None:
        p.kill()
        p.wait()
PY
	assert_line 'load: 0 errors:    0 (connect 0, timeout 0, closed 0, reset 0, mismatch 0)'
	assert_line 'report: True'
	assert_line 'stopped: 0'
}

@test "an access log on a full disk costs access lines, not sessions; the loss is reported" {
	WORKERS=1 start_hellod -w 1 -C 'CustomLog /dev/full' \
	    -C 'MaxConnectionsPerChild 3'
	local i
	for i in 1 2 3; do
		run -0 talk "$PORT" <<<$'x\nexit'
		assert_output $'welcome!\nhello, x!'
	done
	# The worker said so at its first loss, and counted them at exit
	# (the three sessions that retired it, counting start_hellod's).
	wait_until 5 log_has "$HELLOD_ERR" 'CustomLog /dev/full: 3 lines dropped \(No space left on device\)$'
	run -0 log_has "$HELLOD_ERR" 'worker 0: CustomLog /dev/full: No space left on device; counting the lines lost$'
}

@test "User and Group numbers are digits only, and a file name is not blanks only" {
	run -1 --separate-stderr hellod -t -C 'Group #-0'
	assert_equal "${stderr_lines[0]}" 'hellod: Group: bad value "#-0"'
	run -1 --separate-stderr hellod -t -C 'User #+5'
	assert_equal "${stderr_lines[0]}" 'hellod: User: bad value "#+5"'
	run -1 --separate-stderr hellod -t -C 'PidFile " "'
	assert_equal "${stderr_lines[0]}" "hellod: -C 'PidFile \" \"': PidFile: bad value \" \": only blanks"
	run -0 --separate-stderr hellod -t -C 'User #0' -C 'Group #0'
}

# drop_restart [LINE]: listeners $PORT and $PORT_B, both workers held on
# the first, three clients queued on the second (hold.py's output in
# $QUEUED); then USR1 with a configuration that drops $PORT_B.  LINE, a
# directive, goes in both configurations.
drop_restart() {
	local conf="$BATS_TEST_TMPDIR/h.conf"
	PORT=$(free_port)
	PORT_B=$(free_port)
	printf 'Listen 127.0.0.1:%s\nListen 127.0.0.1:%s\n%s\n' "$PORT" \
	    "$PORT_B" "${1:-}" >"$conf"
	WORKERS=2 launch_hellod -f "$conf" -w 2
	hold 2
	QUEUED="$BATS_TEST_TMPDIR/queued"
	python3 "$TOP/test/hold.py" "$PORT_B" 3 --go "$BATS_TEST_TMPDIR/go" \
	    --timeout 20 >"$QUEUED" 2>&1 3>&- &
	HOLDERS+=("$!")
	wait_until 5 hold_seen_in "$QUEUED" 3 connected
	printf 'Listen 127.0.0.1:%s\n%s\n' "$PORT" "${1:-}" >"$conf"
	kill -USR1 "$HELLOD_PID"
}

@test "a restart that drops a listener first serves the connections queued on it" {
	HOLDERS=()
	drop_restart
	wait_until 5 log_has "$HELLOD_ERR" 'restart: first serving the 3 connections queued on 1 listener it closes$'
	release_holders
	run -0 cat "$QUEUED"
	assert_line --regexp '^[0-9]+ done 3 of 3$'
	wait_until 5 log_has "$HELLOD_ERR" 'graceful restart: generation 1'
	wait_until 5 port_closed "$PORT_B"
	run -0 talk "$PORT" <<<$'still\nexit'
	assert_output $'welcome!\nhello, still!'
}

@test "a worker whose client sends without pause exits within a second of its master's SIGKILL; the port binds again" {
	WORKERS=2 start_hellod -w 2 -C "PidFile $PIDF"
	# Lines as fast as they go, answers read as fast: the worker never
	# waits.  At most 20 s, whatever happens.
	timeout 20 sh -c 'yes x | nc 127.0.0.1 "$1" >/dev/null' sh "$PORT" 3>&- &
	FLOOD_PID=$!
	wait_until 5 eval 'status | grep -qx "BusyWorkers: 1"'
	ORPHANS=$(children "$HELLOD_PID")
	kill -KILL "$HELLOD_PID"
	wait "$HELLOD_PID" 2>/dev/null || true
	HELLOD_PID=
	wait_until 2 pids_gone $ORPHANS
	# Nothing holds the port: a new server binds it and serves.
	launch_hellod -l "127.0.0.1:$PORT" -w 1
	run -0 talk "$PORT" --half-close <<<'again'
	assert_output $'welcome!\nhello, again!'
}

@test "a start that fails for want of descriptors leaves no pid file and no scoreboard behind" {
	local n rc failed=0 dir="$BATS_TEST_TMPDIR/run"
	mkdir "$dir"
	PIDF="$dir/h.pid"
	PORT=$(free_port)
	# From too few descriptors to start up to enough: every start that
	# fails, wherever it fails, leaves the directory as it was.
	for n in 8 9 10 11 12 13 14 15 16 17 18 19 20 22 24; do
		rc=0
		timeout 20 prlimit --nofile="$n:$n" hellod -d -w 1 \
		    -l "127.0.0.1:$PORT" -C "PidFile $PIDF" 2>/dev/null 3>&- || rc=$?
		[ "$rc" -eq 0 ] && break
		[ "$rc" -eq 2 ] || fail "nofile $n: exit $rc"
		failed=$((failed + 1))
		run -0 ls -A "$dir"
		assert_output ''
	done
	[ "$rc" -eq 0 ] && [ "$failed" -gt 0 ]
	run -0 hellod -k stop -C "PidFile $PIDF"
	run -0 ls -A "$dir"
	assert_output ''
}

@test "WINCH: connections still queued when GracefulShutdownTimeout passes are reset, and the log says how many" {
	HOLDERS=()
	winch_queued -C 'GracefulShutdownTimeout 2' -C 'IdleTimeoutUnderLoad 0'
	wait_until 10 log_has "$HELLOD_ERR" '\[notice\] .* master: graceful stop: GracefulShutdownTimeout \(2 s\) passed: 5 queued connections reset$'
	release_holders
	wait_until 10 pid_gone "$HELLOD_PID"
	run -0 wait "$HELLOD_PID"
	HELLOD_PID=
}

@test "a restart whose dropped listener is not drained in time says how many queued connections it resets" {
	HOLDERS=()
	# No worker comes free to serve them within the restart's 5 s.
	drop_restart 'IdleTimeoutUnderLoad 0'
	wait_until 15 log_has "$HELLOD_ERR" '\[notice\] .* master: restart: the listeners it closes were not drained within 5 s: 3 queued connections reset$'
	release_holders
}

@test "MaxRequestWorkers reached under a storm is logged once, and once when it is over" {
	WORKERS=1 start_hellod -C 'StartServers 1' -C 'MinSpareServers 1' \
	    -C 'MaxSpareServers 2' -C 'MaxRequestWorkers 2' -C 'ReplyDelay 30'
	# Eight clients against two workers, session after session: the
	# pool reaches its limit and leaves it again many times a second.
	run -0 python3 "$TOP/test/load.py" "$PORT" 4 8
	wait_until 12 log_has "$HELLOD_ERR" '\[notice\] .* master: server no longer at MaxRequestWorkers \(2\): below it for 5 seconds$'
	[ "$(count_in "$HELLOD_ERR" 'server reached MaxRequestWorkers setting \(2\)')" -eq 1 ]
	[ "$(count_in "$HELLOD_ERR" 'no longer at MaxRequestWorkers')" -eq 1 ]
}
