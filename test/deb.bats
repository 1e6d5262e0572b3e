#!/usr/bin/env bats
# make deb: dpkg-buildpackage -us -uc -b in a copy of the tree, lintian
# clean; the package's contents; dpkg -i on this machine (where systemd
# need not be PID 1), the server started as shipped, and dpkg -P leaving
# the machine as it was.  The build (test/deb_helper.bash) takes about
# 35 s on a quiet machine, and is shared with test/systemd.bats.

bats_require_minimum_version 1.5.0

setup_file() {
	load helper
	load deb_helper
	deb_tools || return 0
	deb_build
}

setup() {
	load helper
	load deb_helper
	deb_tools ||
	    skip "dpkg-dev, debhelper or lintian not installed (scripts/bootstrap)"
	deb_build
}

teardown() {
	stop_hellod
}

@test "deb: make deb builds the package and lintian passes it" {
	if grep -q '^make deb: exit' "$DEB_LOG"; then
		cat "$DEB_LOG"
		false
	fi
	[ -f "$DEB" ]
	run -0 grep -c 'dpkg-buildpackage -us -uc -b$' "$DEB_LOG"
	run -0 grep -F 'lintian --fail-on error,warning' "$DEB_LOG"
	# Built with dpkg-buildflags: fortified and with RELRO.
	run -0 bash -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xOf - ./usr/sbin/hellod >'$BATS_TEST_TMPDIR/h' && readelf -Ws '$BATS_TEST_TMPDIR/h' | grep -c '_chk@'"
	run -0 bash -c "readelf -l '$BATS_TEST_TMPDIR/h' | grep -c GNU_RELRO"
}

@test "deb: dpkg-deb -c lists the programs, pages, units, logrotate file and conffile" {
	[ -f "$DEB" ]
	run -0 bash -c "dpkg-deb -c '$DEB' | awk '{ print \$1, \$6 }' | grep -v '/\$'"
	assert_output "$(cat <<'LIST'
-rw-r--r-- ./etc/hellod.conf
-rw-r--r-- ./etc/logrotate.d/hellod
-rw-r--r-- ./lib/systemd/system/hellod.service
-rw-r--r-- ./lib/systemd/system/hellod.socket
-rwxr-xr-x ./usr/bin/hello
-rwxr-xr-x ./usr/bin/hellobench
-rwxr-xr-x ./usr/bin/httpget
-rw-r--r-- ./usr/lib/tmpfiles.d/hellod.conf
-rwxr-xr-x ./usr/sbin/hellod
-rw-r--r-- ./usr/share/doc/hellod/changelog.gz
-rw-r--r-- ./usr/share/doc/hellod/copyright
-rw-r--r-- ./usr/share/doc/hellod/examples/hellod.conf
-rw-r--r-- ./usr/share/man/man1/hello.1.gz
-rw-r--r-- ./usr/share/man/man1/hellobench.1.gz
-rw-r--r-- ./usr/share/man/man1/httpget.1.gz
-rw-r--r-- ./usr/share/man/man5/hellod.conf.5.gz
-rw-r--r-- ./usr/share/man/man8/hellod.8.gz
LIST
)"
	run -0 bash -c "dpkg-deb -I '$DEB' conffiles"
	assert_output $'/etc/hellod.conf\n/etc/logrotate.d/hellod'
	run -0 bash -c "dpkg-deb --fsys-tarfile '$DEB' | tar -xOf - ./lib/systemd/system/hellod.service | grep '^ExecStart='"
	assert_output "ExecStart=/usr/sbin/hellod -f /etc/hellod.conf -C 'PidFile /run/hellod/hellod.pid'"
}

# state: what installing and purging hellod may touch on this machine
# (other packages may come and go meanwhile: only hellod's traces).
state() {
	getent passwd hellod || true
	getent group hellod || true
	ls -la /var/log/hellod /run/hellod/hellod.pid /etc/hellod.conf \
	    /etc/logrotate.d/hellod /usr/sbin/hellod /usr/bin/hello \
	    /lib/systemd/system/hellod.service 2>&1 || true
	find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
	    /var/lib/systemd/deb-systemd-helper-masked /var/lib/dpkg/info \
	    2>/dev/null | grep hellod | sort
	dpkg-query -W -f='${Status}\n' hellod 2>&1 || true
}

# with_dpkg CMD...: run a dpkg command once no other test of ours, and
# no apt or dpkg of the machine, holds the lock (at most 120 s).
with_dpkg() {
	local i
	for i in $(seq 1 60); do
		if flock -w 120 /tmp/hellod-deb-test.lock "$@" 2>"$BATS_TEST_TMPDIR/dpkg.err"; then
			return 0
		fi
		grep -q 'lock' "$BATS_TEST_TMPDIR/dpkg.err" || break
		sleep 2
	done
	cat "$BATS_TEST_TMPDIR/dpkg.err" >&2
	return 1
}

@test "deb: dpkg -i installs a server that starts as shipped; dpkg -P leaves the machine as it was" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -f "$DEB" ]
	dpkg-query -W -f='${Status}' hellod 2>/dev/null | grep -q 'ok installed' &&
	    skip "a hellod package is installed on this machine already"
	before=$(state)
	run -0 with_dpkg dpkg -i "$DEB"
	# Enabled the Debian way, with no systemd running to start it.
	[ -L /etc/systemd/system/multi-user.target.wants/hellod.service ]
	[ ! -e /etc/systemd/system/sockets.target.wants/hellod.socket ]
	# The system user the workers run as, and the log directory.
	run -0 getent passwd hellod
	run -0 grep '^User hellod$' /etc/hellod.conf
	run -0 stat -c '%a %U %G' /var/log/hellod
	assert_output '2750 root adm'
	run -0 /usr/sbin/hellod -t -f /etc/hellod.conf
	assert_output 'Syntax OK'
	# As shipped, on a free port instead of 9999, which may be in use.
	PORT=$(free_port)
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	/usr/sbin/hellod -f /etc/hellod.conf -l "127.0.0.1:$PORT" -w 1 \
	    2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 port_open "$PORT"
	run -0 talk "$PORT" <<<$'debian\nexit'
	assert_output $'welcome!\nhello, debian!'
	# With no -f, the packaged hellod reads /etc/hellod.conf, so -k
	# finds the server by its PidFile.
	run -0 --separate-stderr /usr/sbin/hellod -t
	assert_equal "$stderr" 'Syntax OK'
	run -0 /usr/sbin/hellod -k status
	assert_line "ServerPid: $HELLOD_PID"
	run -0 ps -o user= -p "$(children "$HELLOD_PID")"
	assert_output hellod
	run -0 /usr/sbin/hellod -C 'PidFile /run/hellod/hellod.pid' -k reopen
	stop_hellod
	[ -s /var/log/hellod/access.log ]
	# Made in the setgid directory: group adm, as logrotate makes them.
	run -0 stat -c '%U %G' /var/log/hellod/access.log /var/log/hellod/error.log
	assert_output $'root adm\nroot adm'
	run -0 with_dpkg dpkg -P hellod
	after=$(state)
	assert_equal "$after" "$before"
}
