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
