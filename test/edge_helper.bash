# Helpers for the edge suites (proxyprotocol, limits, watchdog,
# haproxy).  Load after helper.bash.

BG_PIDS=()

# client ARGS...: test/edgeclient.py in the foreground (see its top).
client() {
	python3 "$TOP/test/edgeclient.py" "$@"
}

# bg_client NAME ARGS...: the same in the background, its output in
# $BATS_TEST_TMPDIR/NAME; stopped by bg_stop.
bg_client() {
	local name=$1
	shift
	python3 "$TOP/test/edgeclient.py" "$@" >"$BATS_TEST_TMPDIR/$name" 2>&1 3>&- &
	BG_PIDS+=($!)
}

# said NAME TEXT: background client NAME has printed the line TEXT.
said() {
	grep -qxF -- "$2" "$BATS_TEST_TMPDIR/$1"
}

# go NAME: let background clients waiting on "until:$BATS_TEST_TMPDIR/NAME" go.
go() {
	touch "$BATS_TEST_TMPDIR/$1"
}

# bg_wait: wait for every background client to end (each is bounded).
bg_wait() {
	local p
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	BG_PIDS=()
}

bg_stop() {
	local p
	for p in "${BG_PIDS[@]}"; do
		stop_pid "$p"
	done
	BG_PIDS=()
}

# logged FILE TEXT: FILE has a line holding TEXT.
logged() {
	grep -qF -- "$2" "$1"
}

# serving_worker PORT: the pid of the process holding an established
# connection accepted on 127.0.0.1:PORT (the worker serving it).
serving_worker() {
	ss -Htnp state established "( sport = :$1 )" |
	    sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}
