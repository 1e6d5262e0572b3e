# Servers for the httpget suites: nginx, python3 -m http.server, a node
# chunked server and test/rawhttp.py, each on a free loopback port,
# started in the background (fd 3 closed, so bats does not wait on
# them) and stopped by PID.  Load after helper.

# ipv6_ok: true when ::1 can be bound here.
ipv6_ok() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	    2>/dev/null
}

# start_nginx DIR ROOT: run nginx in the foreground with its config,
# pid, logs and temp files in DIR, serving ROOT on 127.0.0.1 (and ::1
# when it exists) at a free port.  Sets NGINX_PID and NGINX_PORT.
# A few fixed locations redirect, for the redirect tests.
start_nginx() {
	local dir=$1 root=$2 user="" v6=""
	NGINX_PORT=$(free_port)
	mkdir -p "$dir/tmp"
	[ "$(id -u)" -eq 0 ] && user="user root;"
	ipv6_ok && v6="listen [::1]:$NGINX_PORT;"
	cat >"$dir/nginx.conf" <<EOF
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	types { text/plain txt; text/html html; }
	default_type application/octet-stream;
	sendfile on;
	absolute_redirect off;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		$v6
		root $root;
		location = /r1 { return 301 /r2; }
		location = /r2 { return 302 http://127.0.0.1:$NGINX_PORT/r3; }
		location = /r3 { return 307 /r4; }
		location = /r4 { return 308 /small.txt; }
		location = /r303 { return 303 /small.txt; }
	}
}
EOF
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
	    -g 'daemon off;' >"$dir/stderr" 2>&1 3>&- &
	NGINX_PID=$!
	if ! wait_until 10 port_open "$NGINX_PORT"; then
		cat "$dir/stderr" "$dir/error.log" >&2
		return 1
	fi
}

# start_rawhttp SCENARIO [PORT]: serve test/httpget-raw/SCENARIO (or
# SCENARIO itself when it is an absolute path, for one a test writes) on
# PORT or a free port; requests are logged to $RAW_LOG.  Sets RAW_PID
# and RAW_PORT.
start_rawhttp() {
	local scen=$TOP/test/httpget-raw/$1
	[[ $1 == /* ]] && scen=$1
	RAW_PORT=${2:-$(free_port)}
	RAW_LOG="$BATS_TEST_TMPDIR/raw.log"
	: >"$RAW_LOG"
	python3 "$TOP/test/rawhttp.py" "$RAW_PORT" \
	    "$scen" "$RAW_LOG" 2>"$BATS_TEST_TMPDIR/raw.err" 3>&- &
	RAW_PID=$!
	wait_until 10 port_open "$RAW_PORT"
}

# start_pyhttp ROOT: python3 -m http.server (HTTP/1.0) serving ROOT.
start_pyhttp() {
	PY_PORT=$(free_port)
	python3 -m http.server --bind 127.0.0.1 --directory "$1" "$PY_PORT" \
	    >/dev/null 2>&1 3>&- &
	PY_PID=$!
	wait_until 10 port_open "$PY_PORT"
}

# start_node: test/chunked.js.  Sets NODE_PID and NODE_PORT.
start_node() {
	NODE_PORT=$(free_port)
	node "$TOP/test/chunked.js" "$NODE_PORT" >/dev/null 2>&1 3>&- &
	NODE_PID=$!
	wait_until 10 port_open "$NODE_PORT"
}

# requests: how many requests rawhttp.py has logged.
requests() {
	grep -c '^--$' "$RAW_LOG"
}

# no_temp_files DIR: true when no httpget temporary file is left in DIR.
no_temp_files() {
	[ -z "$(find "${1:-.}" -maxdepth 1 -name '.httpget-*')" ]
}

temp_file_exists() { ! no_temp_files "${1:-.}"; }

# same_as_curl URL FILE: FILE equals what curl -s saves from URL.
same_as_curl() {
	curl -s -o "$BATS_TEST_TMPDIR/curl.out" "$1" && cmp "$BATS_TEST_TMPDIR/curl.out" "$2"
}

# maxrss CMD...: run CMD and print its peak resident set size in KiB.
maxrss() {
	http_test maxrss "$@"
}

# saved NAME: stderr is "Saving to 'NAME'", then the line that says what
# was saved, how much and how fast.
saved() {
	assert_equal "${stderr%%$'\n'*}" "Saving to '$1'"
	assert_regex "${stderr#*$'\n'}" "^'$1' saved \\[[0-9.]+ [KMGT]?i?B in (under 1 ms|[0-9]+\\.[0-9]{3} s, [0-9.]+ [KMGT]?i?B/s)\\]$"
}
