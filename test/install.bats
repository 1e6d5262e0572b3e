#!/usr/bin/env bats
# make install and uninstall (PREFIX, DESTDIR): programs, pages, units,
# logrotate file, sample configuration; the units pass systemd-analyze
# verify; the logrotate file rotates a running server's logs.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	D="$BATS_TEST_TMPDIR/root"
}

teardown() {
	pm_teardown
}

# inst [VAR=value...]: make install into $D, quietly.
inst() {
	make -s -C "$TOP" install DESTDIR="$D" "$@" >/dev/null
}

@test "install: DESTDIR gets programs, pages, units, logrotate file and config" {
	run -0 inst
	run -0 bash -c "cd '$D' && find . -type f -printf '%m %p\n' | sort -k 2"
	assert_output "$(cat <<'LIST'
644 ./etc/hellod.conf
644 ./etc/logrotate.d/hellod
755 ./usr/local/bin/hello
755 ./usr/local/bin/hellobench
755 ./usr/local/bin/httpget
644 ./usr/local/lib/systemd/system/hellod.service
644 ./usr/local/lib/systemd/system/hellod.socket
644 ./usr/local/lib/tmpfiles.d/hellod.conf
755 ./usr/local/sbin/hellod
644 ./usr/local/share/doc/hellod/examples/hellod.conf
644 ./usr/local/share/man/man1/hello.1
644 ./usr/local/share/man/man1/hellobench.1
644 ./usr/local/share/man/man1/httpget.1
644 ./usr/local/share/man/man5/hellod.conf.5
644 ./usr/local/share/man/man8/hellod.8
LIST
)"
	# Setgid, so logs made in it take its group (see test/deb.bats).
	run -0 stat -c '%a' "$D/var/log/hellod"
	assert_output 2750
	# The sample, with the workers run as nobody rather than as root.
	run -1 diff "$TOP/scripts/hellod.conf.sample" "$D/etc/hellod.conf"
	assert_output "$(cat <<DIFF
21,22c21,22
< #User nobody
< #Group nogroup
---
> User nobody
> Group $(id -gn nobody)
DIFF
)"
	# The installed config passes -t once its directories are in $D.
	mkdir -p "$D/run/hellod"
	sed -e "s|/var/log/hellod/|$D/var/log/hellod/|" -e "s|/run/|$D/run/|" \
	    "$D/etc/hellod.conf" >"$BATS_TEST_TMPDIR/t.conf"
	run -0 --separate-stderr "$D/usr/local/sbin/hellod" -t -f "$BATS_TEST_TMPDIR/t.conf"
	[ "$stderr" = 'Syntax OK' ]
}

@test "install: the units and the logrotate file name the programs under PREFIX" {
	run -0 inst PREFIX=/opt/hellod SYSCONFDIR=/opt/etc
	run -0 grep '^Exec' "$D/opt/hellod/lib/systemd/system/hellod.service"
	assert_line --index 0 "ExecStartPre=/opt/hellod/sbin/hellod -t -f /opt/etc/hellod.conf"
	assert_line --index 1 "ExecStart=/opt/hellod/sbin/hellod -f /opt/etc/hellod.conf -C 'PidFile /run/hellod/hellod.pid'"
	assert_line --index 2 "ExecReload=/opt/hellod/sbin/hellod -f /opt/etc/hellod.conf -C 'PidFile /run/hellod/hellod.pid' -k graceful"
	run -0 grep -c "/opt/hellod/sbin/hellod -C 'PidFile /run/hellod/hellod.pid' -k reopen" \
	    "$D/opt/etc/logrotate.d/hellod"
	run -1 grep -r '@[A-Z]*@\|/usr/local' "$D/opt/hellod/lib" "$D/opt/etc"
}

@test "install: an existing hellod.conf is never overwritten, nor removed by uninstall" {
	mkdir -p "$D/etc"
	echo 'Listen 127.0.0.1:1234' >"$D/etc/hellod.conf"
	run -0 inst
	run -0 cat "$D/etc/hellod.conf"
	assert_output 'Listen 127.0.0.1:1234'
	run -0 make -s -C "$TOP" uninstall DESTDIR="$D"
	run -0 cat "$D/etc/hellod.conf"
	assert_output 'Listen 127.0.0.1:1234'
}

@test "uninstall removes every file install put" {
	run -0 inst
	run -0 make -s -C "$TOP" uninstall DESTDIR="$D"
	run -0 find "$D" -type f
	assert_output ''
	[ ! -e "$D/var/log/hellod" ]
}

@test "install: systemd-analyze verify passes on the installed units" {
	command -v systemd-analyze >/dev/null || skip "systemd not installed"
	P="$BATS_TEST_TMPDIR/prefix"
	# A real PREFIX, so the ExecStart program and man pages exist.
	run -0 make -s -C "$TOP" install PREFIX="$P" SYSCONFDIR="$P/etc" \
	    LOGDIR="$P/log"
	MANPATH="$P/share/man" run -0 systemd-analyze verify \
	    "$P/lib/systemd/system/hellod.service" \
	    "$P/lib/systemd/system/hellod.socket"
	assert_output ''
	grep -q '^Type=notify$' "$P/lib/systemd/system/hellod.service"
	grep -q '^ReadWritePaths=-/var/log/hellod$' "$P/lib/systemd/system/hellod.service"
	grep -q '^KillSignal=SIGWINCH$' "$P/lib/systemd/system/hellod.service"
	grep -q '^RuntimeDirectory=hellod$' "$P/lib/systemd/system/hellod.service"
	grep -q '^Documentation=man:hellod(8)' "$P/lib/systemd/system/hellod.service"
}

@test "install: the logrotate file rotates the logs of a running server, 0640 root:adm" {
	command -v logrotate >/dev/null || skip "logrotate not installed"
	getent group adm >/dev/null || skip "no group adm"
	run -0 inst
	L="$BATS_TEST_TMPDIR/logs"
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	mkdir "$L"
	# The installed file, pointed at this test's logs, pid file and build.
	sed -e "s|/var/log/hellod/|$L/|" -e "s|/run/hellod/hellod.pid|$PIDF|g" \
	    -e "s|/usr/local/sbin/hellod|$TOP/server/hellod|" \
	    "$D/etc/logrotate.d/hellod" >"$BATS_TEST_TMPDIR/lr.conf"
	start_hellod -w 2 -C "PidFile $PIDF" -C "ErrorLog $L/error.log" \
	    -C "CustomLog $L/access.log"
	run -0 logrotate -f -s "$BATS_TEST_TMPDIR/lr.state" "$BATS_TEST_TMPDIR/lr.conf"
	[ -s "$L/access.log.1" ]
	run -0 stat -c '%a %U %G' "$L/access.log" "$L/error.log"
	assert_output $'640 root adm\n640 root adm'
	wait_until 5 log_has "$L/error.log" 'logs reopened$'
	run -0 talk "$PORT" <<<$'rotated\nexit'
	wait_until 5 log_has "$L/access.log" ' exit$'
	# With no server running, the rotation still succeeds.
	stop_hellod
	echo x >>"$L/access.log"
	run -0 logrotate -f -s "$BATS_TEST_TMPDIR/lr.state" "$BATS_TEST_TMPDIR/lr.conf"
}

@test "install: the installed hellod reads SYSCONFDIR/hellod.conf when given no -f; the in-tree one reads none" {
	getent passwd nobody >/dev/null || skip "no user nobody"
	P="$BATS_TEST_TMPDIR/prefix"
	run -0 make -s -C "$TOP" install PREFIX="$P" SYSCONFDIR="$P/etc" \
	    LOGDIR="$P/log"
	run -0 "$P/sbin/hellod" -h
	assert_line "                   (default $P/etc/hellod.conf)"
	run -0 hellod -h
	refute_output --partial 'hellod.conf)'
	# The installed configuration, pointed at this test's directories.
	PORT=$(free_port)
	sed -i -e "s|/var/log/hellod/|$P/log/|" \
	    -e "s|/run/hellod/hellod.pid|$P/h.pid|" \
	    -e "s|^Listen .*|Listen 127.0.0.1:$PORT|" "$P/etc/hellod.conf"
	run -0 --separate-stderr "$P/sbin/hellod" -t
	assert_equal "$stderr" 'Syntax OK'
	HELLOD_ERR="$BATS_TEST_TMPDIR/hellod.err"
	"$P/sbin/hellod" 2>"$HELLOD_ERR" 3>&- &
	HELLOD_PID=$!
	wait_until 5 port_open "$PORT"
	run -0 talk "$PORT" <<<$'installed\nexit'
	assert_output $'welcome!\nhello, installed!'
	# Workers unprivileged, as the installed file says.
	wait_until 5 workers_ready
	run -0 ps -o user= -p "$(children "$HELLOD_PID" | head -n 1)"
	assert_output nobody
	run -0 "$P/sbin/hellod" -k status
	assert_line "ServerPid: $HELLOD_PID"
	# The in-tree build, in the same directory, knows no such file.
	cd "$P/etc"
	run -3 hellod -k status
	run -0 "$P/sbin/hellod" -k stop
	wait_until 5 pid_gone "$HELLOD_PID"
	# A missing file is an error, as for -f.
	rm "$P/etc/hellod.conf"
	run -1 --separate-stderr "$P/sbin/hellod" -t
	assert_equal "$stderr" "hellod: $P/etc/hellod.conf: No such file or directory"$'\nSyntax error'
}
