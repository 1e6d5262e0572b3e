#!/usr/bin/env bats
# The package under Debian's own systemd, as PID 1 of a container made
# from this machine: systemd-nspawn (systemd-container, which
# scripts/bootstrap installs at the installed systemd's version) on an
# overlay of / whose upper layer is a tmpfs, so that nothing the
# container does reaches this machine's files; a network of its own
# (loopback alone); /proc/sys read-only, as nspawn mounts it.  The .deb
# (test/deb_helper.bash) is installed in it with dpkg -i, and
# hellod.service and hellod.socket are driven with systemctl.
#
# One container serves the whole file: booted in setup_file, powered off
# in teardown_file.  Its mounts live in a mount namespace of its own
# (unshare -m), so they go when it ends whatever happens to this suite;
# its cgroup, under this machine's, is removed after it.  Commands run
# in it through nsenter: systemctl and the package's programs in all its
# namespaces (ct), clients from this tree in its network alone (ctnet).
# Without root, nspawn, overlayfs or the packaging tools, or when the
# container does not boot, every test skips, saying why.

bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	load deb_helper
	export CT_SKIP="$BATS_FILE_TMPDIR/skip"
	ct_can_boot || return 0
	deb_build
	if [ -z "$DEB" ]; then
		echo "the package did not build (see test/deb.bats)" >"$CT_SKIP"
		return 0
	fi
	ct_boot || return 0
	# The package, as an administrator installs it: postinst starts it.
	# man-db's trigger, which would index every page again, is off.
	ct sh -c 'cat >/var/tmp/hellod.deb' <"$DEB"
	ct rm -f /var/lib/man-db/auto-update
	CT_TIMEOUT=300 ct dpkg -i /var/tmp/hellod.deb \
	    >"$BATS_FILE_TMPDIR/dpkg.out" 2>&1 ||
	    echo "dpkg -i: exit $?" >>"$BATS_FILE_TMPDIR/dpkg.out"
	ct cp /etc/hellod.conf /var/tmp/hellod.conf.shipped
}

teardown_file() {
	load helper
	ct_poweroff
}

setup() {
	load helper
	[ ! -s "$CT_SKIP" ] || skip "$(cat "$CT_SKIP")"
	ct_reset
}

teardown() {
	local pid
	for pid in ${CLIENTS:-}; do
		kill "$pid" 2>/dev/null || true
	done
	CLIENTS=""
}

# ct_can_boot: whether a container can be made here; if not, say why in
# $CT_SKIP.
ct_can_boot() {
	local why=""
	if [ "$(id -u)" -ne 0 ]; then
		why="needs root"
	elif ! command -v systemd-nspawn >/dev/null; then
		why="systemd-nspawn not installed (systemd-container, scripts/bootstrap)"
	elif ! deb_tools; then
		why="dpkg-dev, debhelper or lintian not installed (scripts/bootstrap)"
	elif ! grep -qw overlay /proc/filesystems && ! modprobe -q overlay 2>/dev/null; then
		why="no overlay file system in this kernel"
	elif ! unshare -m true 2>/dev/null; then
		why="unshare -m is not allowed here"
	fi
	[ -z "$why" ] || echo "$why" >"$CT_SKIP"
	[ -z "$why" ]
}

# ct_cgroups: the cgroup directories the container runs under, one in
# each hierarchy systemd uses (cgroup v2 alone, or the named v1
# "systemd" one and v2's beside it).  A host run by systemd has its own:
# none then.
ct_cgroups() {
	local name="hellod-test-$$"
	[ -d /run/systemd/system ] && return 0
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo "/sys/fs/cgroup/$name"
		return 0
	fi
	[ -d /sys/fs/cgroup/systemd ] && echo "/sys/fs/cgroup/systemd/$name"
	[ -d /sys/fs/cgroup/unified ] && echo "/sys/fs/cgroup/unified/$name"
	return 0
}

# ct_boot: boot the container; export CT_NSPAWN (systemd-nspawn's PID),
# CT_LEADER (the container's PID 1) and CT_CGROUPS.  On failure, say
# why in $CT_SKIP and return 1.
ct_boot() {
	local root="$BATS_FILE_TMPDIR/ct" cg state
	export CT_CGROUPS
	CT_CGROUPS=$(ct_cgroups)
	for cg in $CT_CGROUPS; do
		if ! mkdir "$cg" 2>/dev/null; then
			echo "cannot make a cgroup here: $cg" >"$CT_SKIP"
			return 1
		fi
	done
	mkdir -p "$root"
	# In a mount namespace of its own: a tmpfs holding the overlay's
	# upper layer, and one on /run for nspawn's own state; nspawn's
	# --keep-unit then makes payload/ and supervisor/ in our cgroup, not
	# at the root of the hierarchy, which other containers share.
	unshare -m --propagation private sh -c '
		set -e
		for cg in $1; do echo $$ >"$cg/cgroup.procs"; done
		mount -t tmpfs -o mode=0755 hellod-test "$2"
		mkdir "$2/upper" "$2/work" "$2/root"
		mount -t overlay -o "lowerdir=/,upperdir=$2/upper,workdir=$2/work" \
		    overlay "$2/root"
		mount -t tmpfs -o mode=0755 hellod-test /run
		exec systemd-nspawn --quiet --directory="$2/root" \
		    --machine="hellod-test-$3" --private-network --keep-unit \
		    --register=no --link-journal=no --console=passive --boot -- \
		    systemd.unit=basic.target systemd.mask=timers.target
	' sh "$CT_CGROUPS" "$root" "$$" >"$BATS_FILE_TMPDIR/nspawn.out" 2>&1 \
	    </dev/null 3>&- &
	export CT_NSPAWN=$! CT_LEADER=""
	if ! wait_until 30 ct_leader; then
		echo "the container does not start: $(head -n 1 "$BATS_FILE_TMPDIR/nspawn.out")" >"$CT_SKIP"
		return 1
	fi
	CT_LEADER=$(pgrep -P "$CT_NSPAWN" | head -n 1)
	wait_until 30 ct test -S /run/systemd/private || true
	# Booted (to basic.target, with no timer to run): running, or
	# degraded when a unit of this machine's failed in there.
	state=$(ct systemctl is-system-running --wait 2>&1 || true)
	case $state in
	running | degraded) return 0 ;;
	esac
	echo "the container's systemd did not boot: $state" >"$CT_SKIP"
	return 1
}

# ct_leader: the container's PID 1 runs, a child of nspawn.
ct_leader() {
	local pid
	pid=$(pgrep -P "$CT_NSPAWN" | head -n 1)
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm")" = systemd ]
}

# ct_poweroff: nspawn asks the container's systemd to power off on TERM;
# what is left after 30 s is killed.  Then the cgroups go.
ct_poweroff() {
	local cg
	if [ -n "${CT_NSPAWN:-}" ]; then
		kill -TERM "$CT_NSPAWN" 2>/dev/null || true
		if ! wait_until 30 pid_gone "$CT_NSPAWN"; then
			[ -z "${CT_LEADER:-}" ] || kill -KILL "$CT_LEADER" 2>/dev/null || true
			kill -KILL "$CT_NSPAWN" 2>/dev/null || true
			wait_until 10 pid_gone "$CT_NSPAWN" || true
		fi
	fi
	for cg in ${CT_CGROUPS:-}; do
		[ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \;
	done
	return 0
}

# ct CMD...: run CMD in the container, with its PATH, at most
# $CT_TIMEOUT seconds (60).
ct() {
	timeout "${CT_TIMEOUT:-60}" nsenter -t "$CT_LEADER" -a \
	    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

# ctnet CMD...: run CMD of this machine in the container's network.
ctnet() {
	nsenter -t "$CT_LEADER" -n "$@"
}

# ct_reset: hellod.service running with the shipped configuration, no
# drop-in, hellod.socket stopped, as dpkg -i left them; restarted only
# when the last test changed its configuration.  One nsenter: each
# costs.
ct_reset() {
	ct sh -c '
		restart=
		if ! cmp -s /var/tmp/hellod.conf.shipped /etc/hellod.conf; then
			cp /var/tmp/hellod.conf.shipped /etc/hellod.conf
			restart=1
		fi
		if [ -d /etc/systemd/system/hellod.service.d ]; then
			rm -rf /etc/systemd/system/hellod.service.d
			systemctl daemon-reload
			restart=1
		fi
		systemctl stop hellod.socket
		systemctl reset-failed hellod.service 2>/dev/null
		if [ -n "$restart" ]; then
			systemctl restart hellod.service
		else
			systemctl start hellod.service
		fi'
}

main_pid() {
	ct systemctl show -P MainPID hellod.service
}

# served PORT: a session on the container's 127.0.0.1:PORT is answered.
served() {
	run -0 ctnet python3 "$TOP/test/talk.py" "$1" <<<$'systemd\nexit'
	assert_output $'welcome!\nhello, systemd!'
}

# client NAME CMD...: run CMD of this machine in the container's network,
# in the background, its output in $BATS_TEST_TMPDIR/NAME; teardown
# ends it if the test does not.
client() {
	local out="$BATS_TEST_TMPDIR/$1"
	shift
	ctnet "$@" >"$out" 2>&1 3>&- &
	CLIENTS="${CLIENTS:-} $!"
	CLIENT_PID=$!
}

# access_lines: how many lines the container's access log has.
access_lines() {
	ct sh -c 'cat /var/log/hellod/access.log 2>/dev/null | wc -l'
}

more_access_lines() {
	[ "$(access_lines)" -gt "$1" ]
}

# new_access_lines N: the container's access log from line N+1 on.
new_access_lines() {
	ct tail -n "+$(($1 + 1))" /var/log/hellod/access.log
}

main_pid_not() {
	[ "$(main_pid)" != "$1" ]
}

# in_state STATE: hellod.service is in STATE (is-active's word).
in_state() {
	[ "$(ct systemctl is-active hellod.service)" = "$1" ]
}

@test "systemd: the container runs Debian's systemd as PID 1, /proc/sys read-only, loopback alone" {
	run -0 ct cat /proc/1/comm
	assert_output systemd
	run -0 ct systemctl --version
	assert_line --index 0 "$(systemctl --version | head -n 1)"
	run -0 ct findmnt -n -o OPTIONS /proc/sys
	assert_output --regexp '^ro,'
	run -0 ct ls /sys/class/net
	assert_output lo
}

@test "systemd: dpkg -i starts hellod.service; a start returns once a session is served (Type=notify)" {
	if grep -q '^dpkg -i: exit' "$BATS_FILE_TMPDIR/dpkg.out"; then
		cat "$BATS_FILE_TMPDIR/dpkg.out"
		false
	fi
	run -0 ct systemctl is-enabled hellod.service
	assert_output enabled
	for i in 1 2 3; do
		run -0 ct systemctl restart hellod.service
		# At once: no polling.
		served 9999
	done
	pid=$(main_pid)
	run -0 ct ps -o user= --ppid "$pid"
	assert_line hellod
	refute_line root
	# The packaged hellod reads /etc/hellod.conf with no -f.
	run -0 ct hellod -k status
	assert_line "ServerPid: $pid"
	run -0 ct systemctl show -P StatusText hellod.service
	assert_output --partial idle
}

@test "systemd: reload applies a good file, and fails on a parse error or an unbindable Listen, the old generation serving" {
	pid=$(main_pid)
	ct sed -i 's/^Listen 127.0.0.1:9999$/&\nListen 127.0.0.1:9998/' /etc/hellod.conf
	run -0 ct systemctl reload hellod.service
	served 9998
	served 9999
	ct sh -c 'echo "NoSuchDirective 1" >>/etc/hellod.conf'
	run ! ct systemctl reload hellod.service
	ct sed -i -e '/^NoSuchDirective/d' \
	    -e 's/^Listen 127.0.0.1:9998$/Listen 192.0.2.1:9997/' /etc/hellod.conf
	run ! ct systemctl reload hellod.service
	run -0 ct systemctl is-active hellod.service
	assert_output active
	[ "$(main_pid)" = "$pid" ]
	# The generation of the good file still serves, both its ports.
	served 9998
	served 9999
	run -0 ct grep -c '192.0.2.1:9997' /var/log/hellod/error.log
}

@test "systemd: stop lets an open session finish, and closes one still open after GracefulShutdownTimeout" {
	ct sed -i 's/^GracefulShutdownTimeout .*/GracefulShutdownTimeout 3/' /etc/hellod.conf
	ct systemctl restart hellod.service
	n=$(access_lines)
	# One session goes on once the stop has begun; one says nothing.
	client finishes python3 "$TOP/test/hold.py" 9999 1 \
	    --go "$BATS_TEST_TMPDIR/go" --timeout 20
	FINISHES=$CLIENT_PID
	client silent python3 "$TOP/test/hold.py" 9999 1 \
	    --go "$BATS_TEST_TMPDIR/never" --timeout 20
	SILENT=$CLIENT_PID
	wait_until 10 grep -q 'hello, before-1!' "$BATS_TEST_TMPDIR/finishes"
	wait_until 10 grep -q 'hello, before-1!' "$BATS_TEST_TMPDIR/silent"
	start=$(date +%s%N)
	ct systemctl stop hellod.service >"$BATS_TEST_TMPDIR/stop.out" 2>&1 3>&- &
	STOP=$!
	wait_until 10 in_state deactivating
	touch "$BATS_TEST_TMPDIR/go"
	wait "$FINISHES" || true
	run -0 cat "$BATS_TEST_TMPDIR/finishes"
	assert_line '1 hello, after-1!'
	assert_line '1 closed'
	wait "$STOP"
	took=$((($(date +%s%N) - start) / 1000000))
	wait "$SILENT" || true
	run -0 cat "$BATS_TEST_TMPDIR/silent"
	assert_line '1 closed early'
	# The bound: GracefulShutdownTimeout, well before systemd's 40 s.
	echo "stop took $took ms"
	[ "$took" -ge 2500 ] && [ "$took" -lt 15000 ]
	run -0 in_state inactive
	run -0 new_access_lines "$n"
	assert_equal "${#lines[@]}" 2
	assert_line --regexp ' exit$'
	assert_line --regexp ' shutdown$'
	run -0 ct grep -c 'graceful stop' /var/log/hellod/error.log
}

@test "systemd: a start leaves the log directory 2750 root:adm; logs are root:adm, rotated by the logrotate file" {
	run -0 ct stat -c '%a %U %G' /var/log/hellod
	assert_output '2750 root adm'
	run -0 ct systemctl restart hellod.service
	run -0 ct stat -c '%a %U %G' /var/log/hellod
	assert_output '2750 root adm'
	# An administrator's tighter mode stays, too.
	ct chmod 0700 /var/log/hellod
	run -0 ct systemctl restart hellod.service
	run -0 ct stat -c '%a %U %G' /var/log/hellod
	ct chmod 2750 /var/log/hellod
	assert_output '2700 root adm'
	run -0 ct stat -c '%U %G' /var/log/hellod/access.log /var/log/hellod/error.log
	assert_output $'root adm\nroot adm'
	served 9999
	run -0 ct logrotate -f /etc/logrotate.d/hellod
	run -0 ct stat -c '%a %U %G' /var/log/hellod/access.log
	assert_output '640 root adm'
	wait_until 10 ct grep -q 'logs reopened' /var/log/hellod/error.log
	served 9999
	wait_until 10 ct test -s /var/log/hellod/access.log
}

@test "systemd: hellod.socket starts hellod.service on the first connection; no session fails through a reload and a restart" {
	ct systemctl stop hellod.service
	run -0 ct systemctl start hellod.socket
	run -3 ct systemctl is-active hellod.service
	served 9999
	run -0 ct systemctl is-active hellod.service
	assert_output active
	n=$(access_lines)
	client load python3 "$TOP/test/load.py" 9999 8 2
	wait_until 5 more_access_lines "$n"
	run -0 ct systemctl reload hellod.service
	run -0 ct systemctl restart hellod.service
	run -0 ct systemctl is-active hellod.service
	wait "$CLIENT_PID" || true
	run -0 cat "$BATS_TEST_TMPDIR/load"
	assert_output --regexp '^sessions [1-9][0-9]* failed 0$'
}

@test "systemd: a master stopped with SIGSTOP misses the watchdog, and systemd restarts it" {
	ct mkdir -p /etc/systemd/system/hellod.service.d
	ct sh -c 'printf "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=2s\nLimitCORE=0\n" >/etc/systemd/system/hellod.service.d/watchdog.conf'
	ct systemctl daemon-reload
	ct systemctl restart hellod.service
	pid=$(main_pid)
	ct kill -STOP "$pid"
	wait_until 20 main_pid_not "$pid"
	wait_until 10 in_state active
	run -0 ct systemctl show -P NRestarts hellod.service
	assert_output 1
	served 9999
	run ! ct kill -0 "$pid"
}

@test "systemd: -k upgrade keeps the service active, with the new master as MainPID" {
	pid=$(main_pid)
	run -0 ct hellod -k upgrade
	new=$(main_pid)
	[ "$new" != "$pid" ] && [ "$new" != 0 ]
	run -0 ct systemctl is-active hellod.service
	assert_output active
	served 9999
	run ! ct kill -0 "$pid"
	run -0 ct hellod -k status
	assert_line "ServerPid: $new"
}
