#!/usr/bin/env bats
# Issue 12, item 4: Debian's prometheus-apache-exporter, unchanged,
# scrapes hellod's StatusListen; what it reports matches what hellod
# says of itself.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	load pm_helper
	command -v prometheus-apache-exporter >/dev/null ||
	    skip "prometheus-apache-exporter is not installed (scripts/bootstrap)"
	PIDF="$BATS_TEST_TMPDIR/h.pid"
	SPORT=$(free_port)
	EPORT=$(free_port)
}

teardown() {
	hold_stop
	[ -z "${EXPORTER_PID:-}" ] || kill "$EXPORTER_PID" 2>/dev/null || true
	stop_hellod
}

# start_exporter: the exporter, scraping hellod's ?auto where its
# default URI would look on an Apache server.
start_exporter() {
	prometheus-apache-exporter \
	    --scrape_uri="http://127.0.0.1:$SPORT/server-status/?auto" \
	    --telemetry.address="127.0.0.1:$EPORT" \
	    2>"$BATS_TEST_TMPDIR/exporter.err" 3>&- &
	EXPORTER_PID=$!
	wait_until 10 port_open "$EPORT"
}

# scrape: the exporter's apache_ lines; AUTO: hellod's own ?auto.
scrape() {
	curl -sS -m 10 "http://127.0.0.1:$EPORT/metrics" | grep '^apache_'
}

auto() {
	curl -sS -m 10 "http://127.0.0.1:$SPORT/server-status?auto"
}

field() {
	sed -n "s/^$1: //p" <<<"$AUTO"
}

# letters L: how many times the letter L is in the Scoreboard field.
letters() {
	local sb
	sb=$(field Scoreboard)
	sb=${sb//[^$1]/}
	echo "${#sb}"
}

auto_says() {
	auto | grep -qx -- "$1"
}

@test "apache_exporter reads hellod: up, accesses, workers, scoreboard, generation match" {
	start_hellod -C "StatusListen 127.0.0.1:$SPORT" -C "PidFile $PIDF" \
	    -C 'StartServers 3' -C 'MinSpareServers 1' -C 'MaxSpareServers 5' \
	    -C 'MaxRequestWorkers 6'
	wait_until 5 port_open "$SPORT"
	wait_until 5 auto_says 'IdleWorkers: 3'
	local i
	for i in 1 2 3 4; do
		talk "$PORT" --half-close <<<"n$i" >/dev/null
	done
	# One worker stays busy reading, so that every kind of count shows.
	hold_start 1
	wait_until 10 hold_seen 1 'hello, before'
	wait_until 5 auto_says 'BusyWorkers: 1'
	start_exporter
	run -0 scrape
	AUTO=$(auto)
	assert_line 'apache_up 1'
	assert_line "apache_accesses_total $(field 'Total Accesses')"
	assert_line "apache_workers{state=\"busy\"} $(field BusyWorkers)"
	assert_line "apache_workers{state=\"idle\"} $(field IdleWorkers)"
	assert_line 'apache_workers{state="busy"} 1'
	assert_line "apache_scoreboard{state=\"idle\"} $(letters _)"
	assert_line "apache_scoreboard{state=\"read\"} $(letters R)"
	assert_line "apache_scoreboard{state=\"open_slot\"} $(letters .)"
	assert_line 'apache_scoreboard{state="read"} 1'
	assert_line 'apache_scoreboard{state="open_slot"} 3'
	assert_line "apache_generation{type=\"config\"} $(field ParentServerConfigGeneration)"
	assert_line "apache_generation{type=\"mpm\"} $(field ParentServerMPMGeneration)"
	assert_line --regexp '^apache_info\{mpm="prefork",version="hellod/[0-9.]+"\} 1$'
	# The event MPM's connection counts: the one session open.
	assert_line 'apache_connections{state="total"} 1'
	assert_line "apache_connections{state=\"total\"} $(field ConnsTotal)"
	assert_line 'apache_connections{state="writing"} 0'
	assert_line 'apache_connections{state="keepalive"} 0'
	assert_line 'apache_connections{state="closing"} 0'
	hold_release
	hold_wait
}

@test "apache_exporter follows a restart: the generations rise" {
	start_hellod -w 2 -C "StatusListen 127.0.0.1:$SPORT" -C "PidFile $PIDF"
	wait_until 5 port_open "$SPORT"
	start_exporter
	run -0 scrape
	assert_line 'apache_generation{type="mpm"} 0'
	assert_line 'apache_generation{type="config"} 1'
	kill -USR1 "$HELLOD_PID"
	wait_until 10 auto_says 'ParentServerMPMGeneration: 1'
	run -0 scrape
	assert_line 'apache_up 1'
	assert_line 'apache_generation{type="mpm"} 1'
	assert_line 'apache_generation{type="config"} 2'
}

@test "apache_exporter says apache_up 0 when the status listener is gone" {
	start_hellod -w 1 -C "StatusListen 127.0.0.1:$SPORT"
	wait_until 5 port_open "$SPORT"
	start_exporter
	stop_hellod
	run -0 scrape
	assert_line 'apache_up 0'
}
