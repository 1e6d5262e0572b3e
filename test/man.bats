#!/usr/bin/env bats
# The man pages: mandoc lint, and agreement with the programs' usage(),
# exit codes and config.c's directive table.

bats_require_minimum_version 1.5.0

setup() {
	load helper
}

# squeeze: join lines and runs of blanks into single spaces.
squeeze() {
	tr '\t\n' '  ' | tr -s ' ' | sed 's/^ //; s/ $//'
}

# usage_letters PROG: every option letter in PROG -h's synopsis lines
# (those before the first option description), one a line.
usage_letters() {
	"$1" -h | sed '/^  *-/,$d' | grep -o '\[-[A-Za-z0-9]*' |
	    sed 's/^\[-//' | fold -w1
}

# options_described PROG PAGE N: PROG -h's synopsis has N option letters
# and man/PAGE an ".It Fl" entry for each.
options_described() {
	local letters l
	letters=$(usage_letters "$1")
	[ "$(wc -w <<<"$letters")" -eq "$3" ] || fail "parsed: $letters"
	for l in $letters; do
		grep -q "^\.It Fl $l\( \|$\)" "$TOP/man/$2" ||
		    fail "$2 has no .It Fl $l"
	done
}

# synopsis PAGE: the SYNOPSIS section as plain text on one line.
synopsis() {
	mandoc -Tascii "$1" | col -b |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | squeeze
}

# section PAGE NAME: the mdoc source of section NAME.
section() {
	sed -n "/^\\.Sh $2\$/,/^\\.Sh /p" "$1" | sed '1d;$d'
}

# directives: the names in server/config.c's directive table.
directives() {
	sed -n '/^static const struct directive directives\[\]/,/^};/p' \
	    "$TOP/server/config.c" |
	    sed -n 's/^[[:space:]]*{ "\([A-Za-z]*\)",.*/\1/p'
}

@test "man/ holds hellod.8, hellod.conf.5, hello.1 and hellobench.1" {
	for page in hellod.8 hellod.conf.5 hello.1 hellobench.1; do
		[ -f "$TOP/man/$page" ] || fail "man/$page is missing"
	done
}

@test "every page in man/ is silent under mandoc -Tlint -Wwarning" {
	local n=0
	for page in "$TOP"/man/*.[1-8]; do
		[ -e "$page" ] || continue
		run mandoc -Tlint -Wwarning "$page"
		[ "$status" -eq 0 ] ||
		    fail "mandoc -Tlint exited $status on ${page##*/}: $output"
		[ -z "$output" ] ||
		    fail "mandoc -Tlint on ${page##*/}: $output"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
}

@test "every page uses \$Mdocdate\$ and the conventional section order" {
	for page in "$TOP"/man/hellod.8 "$TOP"/man/hellod.conf.5 \
	    "$TOP"/man/hello.1 "$TOP"/man/hellobench.1; do
		run -0 sed -n 1p "$page"
		assert_output '.Dd $Mdocdate$'
	done
	run -0 grep '^\.Sh ' "$TOP/man/hellod.8"
	assert_output "$(printf '.Sh %s\n' NAME SYNOPSIS DESCRIPTION SIGNALS \
	    ENVIRONMENT FILES 'EXIT STATUS' EXAMPLES 'SEE ALSO' HISTORY CAVEATS \
	    'SECURITY CONSIDERATIONS')"
	run -0 grep '^\.Sh ' "$TOP/man/hello.1"
	assert_output "$(printf '.Sh %s\n' NAME SYNOPSIS DESCRIPTION \
	    'EXIT STATUS' EXAMPLES 'SEE ALSO' HISTORY CAVEATS)"
	run -0 grep '^\.Sh ' "$TOP/man/hellobench.1"
	assert_output "$(printf '.Sh %s\n' NAME SYNOPSIS DESCRIPTION \
	    'EXIT STATUS' EXAMPLES 'SEE ALSO' HISTORY CAVEATS)"
}

@test "hellod.8's SYNOPSIS matches hellod -h" {
	run -0 hellod -h
	usage=$(sed '/^  *-/,$d' <<<"$output" | sed 's/^usage: //' | squeeze)
	assert_equal "$(synopsis "$TOP/man/hellod.8")" "$usage"
}

@test "hello.1's SYNOPSIS matches hello -h" {
	run -0 hello -h
	usage=$(sed -n 1p <<<"$output" | sed 's/^usage: //' | squeeze)
	assert_equal "$(synopsis "$TOP/man/hello.1")" "$usage"
}

@test "hellobench.1's SYNOPSIS matches hellobench -h" {
	run -0 hellobench -h
	usage=$(sed '/^  *-/,$d' <<<"$output" | sed 's/^usage: //' | squeeze)
	assert_equal "$(synopsis "$TOP/man/hellobench.1")" "$usage"
}

@test "every option of hellod -h is described in hellod.8" {
	options_described hellod hellod.8 9
}

@test "every option of hello -h is described in hello.1" {
	options_described hello hello.1 7
}

@test "every option of hellobench -h is described in hellobench.1" {
	options_described hellobench hellobench.1 14
}

@test "every -k word of hellod is described in hellod.8" {
	for w in start stop restart graceful graceful-stop status fullstatus; do
		grep -q "^\.It Cm $w$" "$TOP/man/hellod.8" ||
		    fail "hellod.8 has no .It Cm $w"
	done
}

@test "hellod.conf.5 has one entry for each directive of config.c" {
	names=$(directives)
	[ "$(wc -l <<<"$names")" -ge 18 ] || fail "parsed: $names"
	for d in $names; do
		[ "$(grep -c "^\.It Ic $d\( \|$\)" "$TOP/man/hellod.conf.5")" \
		    -eq 1 ] || fail "hellod.conf.5: not one .It Ic $d"
	done
	# And no entry for a directive the parser does not know.
	run -0 bash -c "sed -n 's/^\\.It Ic \\([A-Za-z]*\\).*/\\1/p' \
	    '$TOP/man/hellod.conf.5' | sort"
	assert_output "$(sort <<<"$names")"
}

@test "hellod.8 documents every exit status of hellod.h" {
	codes=$(sed -n 's/^#define W\{0,1\}EXIT_[A-Z]*[[:space:]]*\([0-9]*\).*/\1/p' \
	    "$TOP/server/hellod.h")
	[ "$(wc -w <<<"$codes")" -ge 6 ] || fail "parsed: $codes"
	exit_status=$(section "$TOP/man/hellod.8" 'EXIT STATUS')
	for c in $codes; do
		grep -q "^\.It $c$" <<<"$exit_status" ||
		    fail "hellod.8 EXIT STATUS has no .It $c"
	done
}

@test "hellod: a usage error has an exit status of its own, the one hellod.8 and -h give" {
	local code args
	code=$(sed -n 's/^#define EXIT_USAGE[[:space:]]*\([0-9]*\).*/\1/p' \
	    "$TOP/server/hellod.h")
	[ -n "$code" ] || fail "no EXIT_USAGE in server/hellod.h"
	grep -A1 "^\.It $code$" <<<"$(section "$TOP/man/hellod.8" 'EXIT STATUS')" |
	    grep -q '^Usage error' || fail "hellod.8: .It $code is not the usage error"
	run -0 hellod -h
	assert_output --partial ", $code usage error."
	# An unknown option, a missing value, a bad -w or -k, an operand.
	for args in --no-such-option -x -f '-w 0' '-k bounce' extra; do
		# shellcheck disable=SC2086 # the words are the options
		run -"$code" --separate-stderr hellod $args
	done
	# A configuration error is not one.
	run -1 --separate-stderr hellod -C 'Bogus 1'
}

# exit_codes_documented PROG N [SOURCE]: every EX_ code of SOURCE
# (default client/PROG.c; there are N) but 0, which .Ex -std states, has
# its .It in the EXIT STATUS of man/PROG.1.
exit_codes_documented() {
	codes=$(sed -n 's/^#define EX_[A-Z]*[[:space:]]*\([0-9]*\).*/\1/p' \
	    "$TOP/${3:-client/$1.c}")
	[ "$(wc -w <<<"$codes")" -eq "$2" ] || fail "parsed: $codes"
	exit_status=$(section "$TOP/man/$1.1" 'EXIT STATUS')
	for c in $codes; do
		[ "$c" -eq 0 ] && continue
		grep -q "^\.It $c$" <<<"$exit_status" ||
		    fail "$1.1 EXIT STATUS has no .It $c"
	done
}

@test "hello.1 documents every exit status of hello.c" {
	exit_codes_documented hello 6
}

@test "hellobench.1 documents every exit status of hellobench.c" {
	exit_codes_documented hellobench 5
}

# kwords: the -k words of server/ctl.c's one table, one a line.
kwords() {
	sed -n '/^} ctl_words\[\] = {/,/^};/p' "$TOP/server/ctl.c" |
	    sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",.*/\1/p'
}

@test "the -k words: ctl.c's table, hellod -h and hellod.8 agree" {
	words=$(kwords)
	[ "$(wc -l <<<"$words")" -ge 6 ] || fail "parsed: $words"
	run -0 hellod -h
	# The lines that follow "-k word" until the next option list them.
	synopsis_words=$(sed -n '/^  -k word/,/^  -[a-zA-Z] /p' <<<"$output" |
	    sed '1d;$d' | tr ',' ' ' | sed 's/ or / /' | tr -s ' ' '\n' | grep .)
	assert_equal "$synopsis_words" "$words"
	for w in $words; do
		grep -q "^\.It Cm $w$" "$TOP/man/hellod.8" ||
		    fail "hellod.8 has no .It Cm $w"
	done
}

@test "the LogLevel words of config.c are those of hellod.conf.5" {
	words=$(sed -n '/^const char \*const cf_levels/,/^};/p' \
	    "$TOP/server/config.c" | grep -o '"[a-z]*"' | tr -d '"')
	[ "$(wc -w <<<"$words")" -eq 8 ] || fail "parsed: $words"
	entry=$(sed -n '/^\.It Ic LogLevel/,/^\.It Ic /p' "$TOP/man/hellod.conf.5")
	assert_equal "$(grep -o '^\.Cm [a-z]*' <<<"$entry" | sed 's/^\.Cm //' |
	    sed '$d')" "$words"
}

@test "httpget.1 documents every exit status of httpget.h" {
	exit_codes_documented httpget 7 client/httpget.h
}

@test "every program: -V and --version print 'NAME X.Y.Z'; -h and --help the same help" {
	local p
	for p in hellod hello httpget hellobench; do
		run -0 --separate-stderr "$p" -V
		assert_output --regexp "^$p [0-9]+\\.[0-9]+\\.[0-9]+\$"
		local v=$output
		run -0 --separate-stderr "$p" --version
		assert_output "$v"
		run -0 --separate-stderr "$p" -h
		assert_equal "$stderr" ''
		local h=$output
		run -0 --separate-stderr "$p" --help
		assert_output "$h"
	done
}

@test "every program: a usage error is one line, the -h synopsis and a pointer to -h" {
	local p synopsis
	for p in hellod hello httpget hellobench; do
		run -0 "$p" -h
		synopsis=$(sed '/^  *-/,$d' <<<"$output")
		run --separate-stderr "$p" --no-such-option
		[ "$status" -ne 0 ] || fail "$p accepted --no-such-option"
		assert_output ''
		assert_equal "$stderr" "$p: unknown option --no-such-option
$synopsis
Try '$p -h' for more information."
	done
}

# master_signals: the signals server/master.c's master_signals() handles.
master_signals() {
	sed -n '/^master_signals(void)/,/^}/p' "$TOP/server/master.c" |
	    sed -n '/static const int sigs\[\]/,/};/p' | grep -o 'SIG[A-Z0-9]*'
}

@test "every signal the master handles is in hellod.8's SIGNALS and hellod -h" {
	sigs=$(master_signals)
	[ "$(wc -l <<<"$sigs")" -ge 10 ] || fail "parsed: $sigs"
	run -0 hellod -h
	for s in $sigs; do
		section "$TOP/man/hellod.8" SIGNALS | grep -q "^\.It .*Dv $s\( \|$\)" ||
		    fail "hellod.8 SIGNALS has no .It for $s"
		[ "$s" = SIGCHLD ] || grep -q "${s#SIG}" <<<"$output" ||
		    fail "hellod -h does not name ${s#SIG}"
	done
}

@test "the SYNOPSIS of every page and every program's usage lines fit in 80 columns" {
	local page prog
	for page in "$TOP"/man/*.[0-9]; do
		run -0 bash -c "mandoc -Tascii -O width=80 '$page' | col -bx |
		    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | awk 'length > 80'"
		assert_output ''
	done
	for prog in hellod hello httpget hellobench; do
		run -0 bash -c "$prog -h | awk 'length > 80'"
		assert_output ''
	done
}
