# Shared by every suite: bats helpers, PATH, and a hellod that each test
# starts on a free loopback port and stops by its PID.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export TOP
PATH="$TOP/server:$TOP/client:$TOP/test:$PATH"
# HELLOD_ACCEPT=pthread: every hellod of the suite waits for connections
# with the portable accept lock (see scripts/run-tests).
if [ -n "${HELLOD_ACCEPT:-}" ]; then
	PATH="$TOP/test/fallback:$PATH"
fi
export PATH

# Debian's bats-assert and bats-support live in /usr/lib/bats.
load "/usr/lib/bats/bats-support/load.bash"
load "/usr/lib/bats/bats-assert/load.bash"

# Print a TCP port on 127.0.0.1 that nothing listens on right now, and
# that no earlier call in this test printed: the kernel may hand out the
# same free port twice in a row, and two Listen lines would then clash.
free_port() {
	local given="${BATS_TEST_TMPDIR:-/tmp}/.ports-given"
	python3 - "$given" <<'PY'
import socket, sys
try:
    given = set(open(sys.argv[1]).read().split())
except OSError:
    given = set()
for _ in range(100):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = str(s.getsockname()[1])
    s.close()
    if port not in given:
        break
with open(sys.argv[1], "a") as f:
    f.write(port + "\n")
print(port)
PY
}

# wait_until SECONDS CMD...: run CMD every 50 ms until it succeeds; fail
# once SECONDS have passed.
wait_until() {
	local limit=$1 i=0
	shift
	local tries=$((limit * 20))
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -ge "$tries" ]; then
			echo "wait_until: timed out after ${limit}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# port_open PORT [HOST]: true when something accepts on HOST:PORT.
port_open() {
	python3 - "$1" "${2:-127.0.0.1}" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[2], int(sys.argv[1])), 0.5).close()
except OSError:
    sys.exit(1)
PY
}

port_closed() { ! port_open "$@"; }

# children PID: the PIDs whose parent is PID, one a line.
children() {
	pgrep -P "$1" || true
}

worker_count() {
	children "$1" | wc -l
}

pid_alive() {
	kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]
}

pid_gone() { ! pid_alive "$1"; }

# idstatus PID FIELD: the four ids of the Uid: or Gid: line, or Groups:.
idstatus() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# cpu_ticks PID: utime + stime of PID, in clock ticks.  The fields are
# counted after the ") " that ends the command name, which may hold spaces.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat
}

# log_has FILE REGEX: FILE has a line matching the extended REGEX.
log_has() {
	grep -q -E -- "$2" "$1"
}

# stop_pid PID: TERM a process of ours, wait at most 5 s, then KILL it;
# reap it.  Safe on "".
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait_until 5 pid_gone "$1" || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# kill_master PID: KILL the master PID (a child of this shell), reap it,
# and wait (at most 5 s each) until its workers are gone too.
kill_master() {
	local kids k
	kids=$(children "$1")
	kill -KILL "$1"
	wait "$1" 2>/dev/null || true
	for k in $kids; do wait_until 5 pid_gone "$k"; done
}

# start_hellod [ARGS...]: start hellod in the foreground on a free port
# (unless ARGS hold a -l), remember HELLOD_PID and PORT, and wait (at most
# 5 s) until it accepts.  Its stderr goes to $HELLOD_ERR.
start_hellod() {
	PORT=$(free_port)
	launch_hellod -l "127.0.0.1:$PORT" "$@"
}

# launch_hellod ARGS...: like start_hellod, but with no -l of its own:
# the caller chose $PORT and put it in ARGS or a config file.
launch_hellod() {
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	hellod "$@" 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	if ! wait_until 5 port_open "$PORT"; then
		cat "$HELLOD_ERR" >&2
		return 1
	fi
	# The port accepts as soon as the master listens; the pool may
	# still be forking.
	wait_until 5 workers_ready
}

workers_ready() {
	[ "$(worker_count "$HELLOD_PID")" -ge "${WORKERS:-1}" ]
}

# stop_hellod: TERM the master we started, wait at most 5 s, then KILL
# it and any worker it left behind.  Safe to call twice.
stop_hellod() {
	[ -n "${HELLOD_PID:-}" ] || return 0
	local kids
	kids=$(children "$HELLOD_PID")
	kill -TERM "$HELLOD_PID" 2>/dev/null || true
	wait_until 5 pid_gone "$HELLOD_PID" || kill -KILL "$HELLOD_PID" 2>/dev/null || true
	for k in $kids; do
		wait_until 2 pid_gone "$k" || kill -KILL "$k" 2>/dev/null || true
	done
	wait "$HELLOD_PID" 2>/dev/null || true
	HELLOD_PID=
}

# talk PORT: send stdin to 127.0.0.1:PORT, print every byte that comes
# back until the server closes (at most 10 s).
talk() {
	python3 "$TOP/test/talk.py" "$@"
}

# promcheck FILE: FILE is Prometheus text format; prints its samples.
promcheck() {
	python3 "$TOP/test/promcheck.py" "$@"
}

# silent_dns CMD...: run CMD in a private mount namespace whose
# /etc/resolv.conf names a server (a random 127/8 address, port 53)
# that takes queries and never answers, so any name lookup hangs for
# the resolver's whole timeout (5 s, twice).  Skips the test without
# root or unshare.
silent_dns() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private resolv.conf"
	unshare -m true 2>/dev/null || skip "unshare -m is not allowed here"
	local ns="127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
	local conf="$BATS_TEST_TMPDIR/resolv.conf" pid rc=0
	printf 'nameserver %s\noptions timeout:5 attempts:2\n' "$ns" >"$conf"
	python3 - "$ns" >"$BATS_TEST_TMPDIR/dns.ready" 3>&- <<'PY' &
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 53))
t = socket.socket()
t.bind((sys.argv[1], 53))
t.listen(8)
print("ready", flush=True)
time.sleep(60)
PY
	pid=$!
	wait_until 5 grep -q ready "$BATS_TEST_TMPDIR/dns.ready" || return 1
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift &&
	    exec "$@"' sh "$conf" "$@" || rc=$?
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return "$rc"
}
