#!/usr/bin/env bats
# The README's commands work as written from the repository root (on a
# free port instead of 9999, which may be taken on a shared machine).

bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$TOP"
}

teardown() {
	[ -n "${PORT:-}" ] && server/hellod -l "127.0.0.1:$PORT" -k stop >/dev/null 2>&1
	return 0
}

# tour: the tour's "server/hellod" lines that detach or use -k, without
# their comments.
tour() {
	sed -n '/^## A short tour/,/^## /p' README.md |
	    sed -n 's/^    \(server\/hellod [^#]*-[dk] [^#]*\)#.*/\1/p; s/^    \(server\/hellod -k [a-z-]*\) *$/\1/p' |
	    sed 's/ *$//'
}

@test "readme: the tour's daemon and -k commands work in order" {
	run -0 tour
	assert_output "server/hellod -d -w 2
server/hellod -k status
server/hellod -k fullstatus
server/hellod -k graceful
server/hellod -k upgrade
server/hellod -k reopen
server/hellod -k stop"
	PORT=$(free_port)
	local cmd
	while read -r cmd; do
		run -0 eval "$cmd -l 127.0.0.1:$PORT" 3>&-
		[[ "$cmd" != *-k\ status ]] || assert_line 'ServerMPM: prefork'
		[[ "$cmd" != *fullstatus ]] || assert_line 'Server MPM: prefork'
	done <<<"$output"
	run -0 port_closed "$PORT"
}

@test "readme: the piped hello session prints the answers" {
	run -0 grep -F "printf 'michael\\ntracy\\nsarah\\n' | client/hello" README.md
	PORT=$(free_port)
	run -0 server/hellod -d -w 1 -l "127.0.0.1:$PORT" 3>&-
	run -0 bash -c "printf 'michael\\ntracy\\nsarah\\n' | client/hello 127.0.0.1 $PORT"
	assert_output $'welcome!\nhello, michael!\nhello, tracy!\nhello, sarah!'
}

@test "readme: it names every package scripts/bootstrap installs, and no systemctl runs" {
	pkgs=$(sed -n '/^for pkg in/,/; do$/p' scripts/bootstrap |
	    sed 's/^for pkg in//; s/; do$//; s/\\$//' | tr -s ' \t\n' '\n' | grep .)
	[ "$(wc -l <<<"$pkgs")" -ge 20 ]
	local p
	for p in $pkgs; do
		grep -q -- "$p" README.md || fail "README.md does not name $p"
	done
	run -1 grep -n 'systemctl' scripts/bootstrap
}

# monitoring: the "Monitoring it" section's shell lines ("$ " and their
# continuations), without the prompt and comments.
monitoring() {
	sed -n '/^## Monitoring it/,/^## /p' README.md |
	    sed -n 's/^    \$ //p; s/^          \(--.*\)/\1/p' | sed 's/  *# .*//'
}

@test "readme: Monitoring it runs as written, the shown grep printing the lines shown" {
	command -v prometheus-apache-exporter >/dev/null ||
	    skip "prometheus-apache-exporter is not installed (scripts/bootstrap)"
	# Every URL with a "?" is quoted, as zsh wants it.
	run -1 grep -nE "^    \\$ .*[^'\"]http://[^ '\"]*\\?" README.md
	PORT=$(free_port)
	local sport eport script
	sport=$(free_port)
	eport=$(free_port)
	# The same lines on free ports; the exporter is waited for, as the
	# reader of the README does without noticing.
	script=$(monitoring | sed "s/9180/$sport/g; s/9117/$eport/g;
	    s/^server\/hellod -d .*/& -l 127.0.0.1:$PORT/;
	    s/server\/hellod -k stop/& -l 127.0.0.1:$PORT/;
	    s/?auto' &\$/?auto' --telemetry.address=127.0.0.1:$eport 2>\/dev\/null \&\\
	    wait_until 10 port_open $eport/")
	run -0 bash -ec "source test/helper.bash 2>/dev/null || true
	    $(declare -f wait_until port_open)
	    $script" 3>&-
	assert_line 'ServerMPM: prefork'
	assert_line --regexp '^hellod_sessions_total 0$'
	# The exporter's lines, as the README shows them.
	local shown
	shown=$(sed -n '/^## Monitoring it/,/^## /p' README.md |
	    sed -n 's/^    \(apache_.*\)/\1/p')
	[ "$(grep '^apache_' <<<"$output")" = "$shown" ]
	run -0 port_closed "$PORT"
}
