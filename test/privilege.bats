#!/usr/bin/env bats
# Issue 18, items 1 to 4: least privilege.  The root master trusts
# nothing its workers can write (the scoreboard), workers run with
# exactly their user's groups, and the pid file, the logs and the
# scoreboard are opened without following links, in directories no
# other user can write, with modes that keep clients' addresses private.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load edge_helper
	PIDF="$BATS_TEST_TMPDIR/hellod.pid"
	BYSTANDER=
}

teardown() {
	bg_stop
	stop_hellod
	if [ -n "$BYSTANDER" ]; then
		kill "$BYSTANDER" 2>/dev/null || true
		wait "$BYSTANDER" 2>/dev/null || true
	fi
}

# sb_forge_pid FILE OLD NEW: in the scoreboard FILE, write NEW where a
# slot holds the pid OLD, as a compromised worker could through its
# mapping (every 4-byte aligned place holding OLD: the slot's ss_pid).
sb_forge_pid() {
	python3 - "$@" <<'PY'
import mmap, struct, sys
path, old, new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    hits = 0
    for off in range(0, len(m) - 3, 4):
        if struct.unpack_from("<i", m, off)[0] == old:
            struct.pack_into("<i", m, off, new)
            hits += 1
    m.close()
sys.exit(0 if hits else 1)
PY
}

# sb_forge_nslots FILE N: write N as the header's slot count (the
# second 32-bit word, after the magic number).
sb_forge_nslots() {
	python3 - "$@" <<'PY'
import mmap, struct, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    struct.pack_into("<I", m, 4, int(sys.argv[2]))
    m.close()
PY
}

# bystander: a root process outside the pool, which nothing may signal.
bystander() {
	sleep 60 3>&- &
	BYSTANDER=$!
}

# --- item 1: the master acts on its own process table -----------------

@test "a pid forged into a scoreboard slot is not signalled: IdleTimeoutUnderLoad asks the real worker" {
	start_hellod -w 1 -C "PidFile $PIDF" -C 'IdleTimeoutUnderLoad 1'
	local worker
	worker=$(children "$HELLOD_PID")
	# a holds the only worker, idle, longer than c waits (10 s).
	bg_client a "$PORT" r "until:$BATS_TEST_TMPDIR/go" rest
	wait_until 10 said a 'welcome!'
	bystander
	sb_forge_pid "$PIDF.scoreboard" "$worker" "$BYSTANDER"
	# c waits until the master reclaims a's worker: the one it forked.
	run -0 client "$PORT" r 'w:sarah\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	go go
	wait_until 5 said a 'closed'
	run -0 cat "$BATS_TEST_TMPDIR/a"
	assert_output $'welcome!\nerror: server busy\nclosed'
	pid_alive "$BYSTANDER"
	pid_alive "$HELLOD_PID"
}

@test "a forged slot count in the scoreboard header does not make the master read past its table" {
	start_hellod -w 1 -C "PidFile $PIDF" -C 'IdleTimeoutUnderLoad 1'
	bg_client a "$PORT" r "until:$BATS_TEST_TMPDIR/go" rest
	wait_until 10 said a 'welcome!'
	sb_forge_nslots "$PIDF.scoreboard" 4294967295
	run -0 client "$PORT" r 'w:sarah\n' r 'w:exit\n' rest
	assert_output $'welcome!\nhello, sarah!\nclosed'
	pid_alive "$HELLOD_PID"
	# -k status will not read a header that claims more than it holds.
	run -3 hellod -k status -C "PidFile $PIDF"
	assert_output "hellod: scoreboard $PIDF.scoreboard: not a hellod scoreboard"
}

# --- item 2: a worker has its user's groups, never root's ---------------

# needs_root: User and Group are applied only by a server started as root.
needs_root() {
	[ "$(id -u)" -eq 0 ] || skip "User and Group need root (CI runs as root)"
	getent passwd nobody >/dev/null || skip "no user nobody"
}

# unknown_id: a number that is neither a user nor a group here.
unknown_id() {
	local id=54321
	while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do
		id=$((id + 1))
	done
	echo "$id"
}

# ids_are PID UID GID GROUPS: the process runs as UID, GID (all four
# ids of each) with exactly the supplementary GROUPS (in any order).
ids_are() {
	local groups want
	[ "$(idstatus "$1" Uid)" = "$2 $2 $2 $2" ] || return 1
	[ "$(idstatus "$1" Gid)" = "$3 $3 $3 $3" ] || return 1
	groups=$(idstatus "$1" Groups | tr ' ' '\n' | sed '/^$/d' | sort -n | xargs)
	want=$(echo "$4" | tr ' ' '\n' | sed '/^$/d' | sort -n | xargs)
	[ "$groups" = "$want" ] || { echo "Groups: '$groups', not '$want'" >&2; return 1; }
}

# every_child_is UID GID GROUPS: each process the master started (the
# workers, and the status process when there is one) runs so.
every_child_is() {
	local c n=0
	for c in $(children "$HELLOD_PID"); do
		ids_are "$c" "$@"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "User nobody: workers have nobody's group and its supplementary groups only" {
	needs_root
	WORKERS=2 start_hellod -w 2 -C 'User nobody'
	every_child_is "$(id -u nobody)" "$(id -g nobody)" "$(id -G nobody)"
	[ "$(idstatus "$HELLOD_PID" Uid)" = '0 0 0 0' ]
}

@test "User with supplementary groups: workers have exactly those, as initgroups() gives them" {
	needs_root
	local user
	user=$(getent group | awk -F: '$4 != "" { split($4, m, ","); print m[1]; exit }')
	[ -n "$user" ] && getent passwd "$user" >/dev/null ||
	    skip "no user with supplementary groups here"
	start_hellod -w 1 -C "User $user"
	every_child_is "$(id -u "$user")" "$(id -g "$user")" "$(id -G "$user")"
}

@test "User #65534 with no Group: the user's own groups, in workers and the status process" {
	needs_root
	local sport
	sport=$(free_port)
	WORKERS=2 start_hellod -w 1 -C "User #$(id -u nobody)" -C "StatusListen 127.0.0.1:$sport"
	wait_until 5 port_open "$sport"
	every_child_is "$(id -u nobody)" "$(id -g nobody)" "$(id -G nobody)"
	run -0 talk "$PORT" --half-close <<<'nobody'
	assert_output $'welcome!\nhello, nobody!'
}

@test "User nobody with Group #N: that group, and nobody's supplementary groups" {
	needs_root
	local gid extra
	gid=$(unknown_id)
	# initgroups(): Group, then every group that lists nobody.
	extra=$(id -G nobody | tr ' ' '\n' | grep -vx "$(id -g nobody)" | xargs)
	start_hellod -w 1 -C 'User nobody' -C "Group #$gid"
	every_child_is "$(id -u nobody)" "$gid" "$gid $extra"
}

@test "User #N and Group #M unknown to the user database: that uid and gid, no other group" {
	needs_root
	local id
	id=$(unknown_id)
	start_hellod -w 1 -C "User #$id" -C "Group #$id"
	every_child_is "$id" "$id" "$id"
}

@test "Group alone: workers keep uid 0 but have that group only, none of root's" {
	needs_root
	getent group nogroup >/dev/null || skip "no group nogroup"
	local gid
	gid=$(getent group nogroup | cut -d: -f3)
	start_hellod -w 1 -C 'Group nogroup'
	every_child_is 0 "$gid" "$gid"
}

@test "User #N that the user database does not know, without Group, is refused: it has no group" {
	local id
	id=$(unknown_id)
	run -1 --separate-stderr hellod -t -C "User #$id"
	assert_equal "$stderr" "hellod: User: #$id is not in the user database, so it has no group: set Group too
Syntax error"
	PORT=$(free_port)
	run -1 --separate-stderr hellod -l "127.0.0.1:$PORT" -C "User #$id" 3>&-
	assert_equal "$stderr" "hellod: User: #$id is not in the user database, so it has no group: set Group too"
}

# --- items 3 and 4: files opened safely, with private modes -------------

# file_refused DIRECTIVE PATH WHY: -t (exit 1) and a start (exit 2) both
# refuse DIRECTIVE PATH with the message "DIRECTIVE PATH: WHY".
file_refused() {
	run -1 --separate-stderr hellod -t -C "$1 $2"
	assert_equal "$stderr" "hellod: $1 $2: $3
Syntax error"
	PORT=$(free_port)
	run -2 --separate-stderr hellod -l "127.0.0.1:$PORT" -w 1 -C "$1 $2" 3>&-
	assert_equal "$stderr" "hellod: $1 $2: $3"
}

@test "PidFile, ErrorLog and CustomLog that are symbolic links are refused, at -t and at start; the target is untouched" {
	local d="$BATS_TEST_TMPDIR" what
	echo precious >"$d/target"
	for what in PidFile ErrorLog CustomLog; do
		ln -s "$d/target" "$d/$what.link"
		file_refused "$what" "$d/$what.link" "is a symbolic link; not followed"
	done
	run -0 cat "$d/target"
	assert_output precious
}

@test "a pid file or log in a directory other users can write is refused, at -t and at start" {
	local d="$BATS_TEST_TMPDIR/open"
	mkdir -m 0777 "$d"
	chmod 0777 "$d"
	file_refused PidFile "$d/h.pid" "directory $d can be written by other users (mode 0777) and is not sticky"
	file_refused ErrorLog "$d/error.log" "directory $d can be written by other users (mode 0777) and is not sticky"
	chmod 0775 "$d"
	chgrp nogroup "$d" 2>/dev/null || skip "no group nogroup"
	file_refused CustomLog "$d/access.log" "directory $d can be written by other users (mode 0775) and is not sticky"
	[ ! -e "$d/h.pid" ] && [ ! -e "$d/error.log" ] && [ ! -e "$d/access.log" ]
}

@test "a pid file or log in a directory another user owns is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to give a directory away"
	local d="$BATS_TEST_TMPDIR/theirs"
	mkdir -m 0755 "$d"
	chown nobody "$d"
	file_refused CustomLog "$d/access.log" "directory $d belongs to another user (uid $(id -u nobody)), who could replace the file"
}

@test "in a sticky directory others write, our own files are used and another user's file is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to make a file of another user"
	local d="$BATS_TEST_TMPDIR/sticky"
	mkdir -m 1777 "$d"
	chmod 1777 "$d"
	start_hellod -w 1 -C "PidFile $d/h.pid" -C "CustomLog $d/access.log"
	run -0 talk "$PORT" --half-close <<<'sticky'
	assert_output $'welcome!\nhello, sticky!'
	stop_hellod
	install -o nobody -m 0644 /dev/null "$d/theirs.log"
	file_refused ErrorLog "$d/theirs.log" "belongs to another user (uid $(id -u nobody)) in a directory others can write"
	run -0 stat -c %s "$d/theirs.log"
	assert_output 0
}

@test "in a sticky directory others write, a file with a second name (a hard link) is refused" {
	local d="$BATS_TEST_TMPDIR/sticky"
	mkdir -m 1777 "$d"
	chmod 1777 "$d"
	echo precious >"$d/precious"
	ln "$d/precious" "$d/access.log"
	file_refused CustomLog "$d/access.log" "has 2 names in a directory others can write"
	run -0 cat "$d/precious"
	assert_output precious
}

@test "-k with a pid file that is a symbolic link: not followed, exit 3" {
	start_hellod -w 1 -C "PidFile $BATS_TEST_TMPDIR/real.pid"
	ln -s "$BATS_TEST_TMPDIR/real.pid" "$BATS_TEST_TMPDIR/link.pid"
	run -3 --separate-stderr hellod -C "PidFile $BATS_TEST_TMPDIR/link.pid" -k stop
	assert_equal "$stderr" "hellod: PidFile $BATS_TEST_TMPDIR/link.pid: is a symbolic link; not followed"
	pid_alive "$HELLOD_PID"
}

@test "a log replaced by a symbolic link is not followed at -k reopen (exit 5) or at a restart; the old file goes on" {
	local d="$BATS_TEST_TMPDIR" alog="$BATS_TEST_TMPDIR/access.log"
	echo precious >"$d/target"
	start_hellod -w 1 -C "PidFile $d/h.pid" -C "CustomLog $alog"
	mv "$alog" "$alog.1"
	ln -s "$d/target" "$alog"
	run -5 --separate-stderr hellod -C "PidFile $d/h.pid" -k reopen
	assert_equal "$stderr" "hellod: server (pid $HELLOD_PID) could not reopen every log; its error log says why"
	grep -qF "cannot reopen CustomLog $alog; still writing to the old file: is a symbolic link; not followed" "$HELLOD_ERR"
	kill -HUP "$HELLOD_PID"
	wait_until 5 grep -qF "keeping the old logs: CustomLog $alog: is a symbolic link; not followed" "$HELLOD_ERR"
	run -0 talk "$PORT" --half-close <<<'old'
	wait_until 5 grep -q ' eof$' "$alog.1"
	run -0 cat "$d/target"
	assert_output precious
}

@test "modes: the scoreboard 0600, the logs 0640, the pid file 0644" {
	local d="$BATS_TEST_TMPDIR"
	umask 022
	start_hellod -w 1 -C "PidFile $d/h.pid" -C "ErrorLog $d/error.log" -C "CustomLog $d/access.log"
	run -0 stat -c '%a %n' "$d/h.pid" "$d/h.pid.scoreboard" "$d/error.log" "$d/access.log"
	assert_output "644 $d/h.pid
600 $d/h.pid.scoreboard
640 $d/error.log
640 $d/access.log"
	# Reopened logs are made 0640 too.
	mv "$d/access.log" "$d/access.log.1"
	run -0 hellod -C "PidFile $d/h.pid" -k reopen
	run -0 stat -c '%a' "$d/access.log"
	assert_output 640
}
