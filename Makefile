# hellod: a pre-forking TCP server, its line-protocol client and an
# HTTP/1.1 fetcher.  Plain make; override CC, CPPFLAGS, CFLAGS, LDFLAGS,
# PREFIX, MANPREFIX, DESTDIR on the command line (Debian's dpkg-buildflags
# set all three flag variables).
.POSIX:

VERSION	= 0.1.0
# What "Server Built:" says in the status texts (a date, say); the
# compiler's own __DATE__ would make every build differ.
BUILT	= unknown
PREFIX	= /usr/local
MANPREFIX = $(PREFIX)/share/man
SYSCONFDIR = /etc
UNITDIR	= $(PREFIX)/lib/systemd/system
TMPFILESDIR = $(PREFIX)/lib/tmpfiles.d
EXAMPLEDIR = $(PREFIX)/share/doc/hellod/examples
LOGDIR	= /var/log/hellod
# The user the installed hellod.conf runs the workers as, and its group
# (by default that user's own, as id -gn names it at install time).
WORKER_USER = nobody
WORKER_GROUP =
CC	= cc
OPT	= -O2 -g
WARN	= -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	  -Wmissing-declarations -Wshadow -Wpointer-arith -Wsign-compare \
	  -Wcast-qual
CFLAGS	= $(OPT)
CPPFLAGS =
ALL_CFLAGS = -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L \
	  -DVERSION=\"$(VERSION)\" '-DBUILT="$(BUILT)"' -Icommon $(CPPFLAGS) \
	  $(CFLAGS)
LDFLAGS	=
# hellod's portable accept mutex is a process-shared POSIX mutex.
THREADS	= -pthread
# hellod's symbols are all bound at start (-z now), in the master: a
# worker forked later never runs the dynamic linker's lazy binding, whose
# code and GOT writes would be page faults in each of thousands of new
# workers.  Empty it for a linker without -z now.
BINDNOW	= -Wl,-z,now

COMMON_OBJ = common/io.o common/linereader.o common/addr.o common/net.o \
	  common/cidr.o common/opt.o common/num.o common/esc.o
COMMON_HDR = common/io.h common/linereader.h common/addr.h common/net.h \
	  common/cidr.h common/opt.h common/num.h common/esc.h
SERVER_OBJ = server/main.o $(SERVER_LIB)
SERVER_LIB = server/config.o server/master.o server/listen.o server/pool.o \
	  server/worker.o server/beat.o server/wake.o server/accept.o server/session.o \
	  server/scoreboard.o server/log.o server/pidfile.o server/ctl.o server/priv.o \
	  server/proxy.o server/admit.o server/bye.o server/limit.o server/reclaim.o server/httpreq.o \
	  server/safefile.o server/handler.o server/exec.o server/tcpinfo.o \
	  server/statustext.o server/statusd.o \
	  server/notify.o server/inherit.o server/reopen.o \
	  server/upgrade.o
HELLO_OBJ = client/hello.o
BENCH_OBJ = client/hellobench.o
HTTPGET_OBJ = client/httpget.o client/http.o client/url.o client/output.o
HTTPGET_HDR = client/httpget.h
TEST_BIN = test/lr_test test/addr_test test/io_test test/http_test \
	  test/cidr_test test/proxy_test test/status_test test/opt_test \
	  test/exec_hello
PROGS	= server/hellod client/hello client/httpget client/hellobench
MANS	= man/hellod.8 man/hellod.conf.5 man/hello.1 man/httpget.1 \
	  man/hellobench.1

all: $(PROGS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(ALL_CFLAGS) -c $< -o $@

common/libcommon.a: $(COMMON_OBJ)
	rm -f $@
	ar rcs $@ $(COMMON_OBJ)

server/hellod: $(SERVER_OBJ) common/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(BINDNOW) -o $@ $(SERVER_OBJ) \
	    common/libcommon.a $(THREADS)

client/hello: $(HELLO_OBJ) common/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(HELLO_OBJ) common/libcommon.a

client/hellobench: $(BENCH_OBJ) common/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(BENCH_OBJ) common/libcommon.a

client/httpget: $(HTTPGET_OBJ) common/libcommon.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(HTTPGET_OBJ) common/libcommon.a

$(COMMON_OBJ): $(COMMON_HDR)
$(SERVER_OBJ): server/hellod.h server/proxy.h server/status.h $(COMMON_HDR)
$(HELLO_OBJ) $(BENCH_OBJ): $(COMMON_HDR)
$(HTTPGET_OBJ): $(HTTPGET_HDR) $(COMMON_HDR)

# Every unit test is one file, test/NAME.c, linked with the server and
# client objects it drives (an archive: each test pulls only the members
# it calls) and common/.
TEST_OBJ = server/proxy.o server/httpreq.o server/statustext.o \
	  server/scoreboard.o server/safefile.o client/http.o client/url.o
test/libtest.a: $(TEST_OBJ)
	rm -f $@
	ar rcs $@ $(TEST_OBJ)
$(TEST_BIN): test/libtest.a common/libcommon.a
.c:
	$(CC) $(ALL_CFLAGS) -Iserver -Iclient $(LDFLAGS) -o $@ $< \
	    test/libtest.a common/libcommon.a

# The C drivers the suites run.
test-bins: $(TEST_BIN)

# Builds every program (the README's next steps use client/hello), then
# runs hellod in the foreground on 127.0.0.1:9999; Ctrl-C stops it.
run: all
	./server/hellod

# Installs what the tests need (once), builds, runs every suite, and ends
# with "N passed, N failed".
check: all $(TEST_BIN)
	@scripts/bootstrap
	@scripts/run-tests

# Benchmarks against a minimal pre-forked server; not part of check.
bench: all
	scripts/bench-sessions
	scripts/bench-event
	scripts/bench-pingpong
	scripts/bench-spawn
	scripts/bench-httpget
	scripts/bench-idle
	scripts/bench-scale

# Coverage-guided fuzzing of the parsers with clang's libFuzzer, for
# FUZZ_SECONDS each (default 60).
FUZZ_SECONDS = 60
FUZZ_FLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -DVERSION=\"$(VERSION)\" \
	  -Icommon -Iclient -Iserver -g -O1 -fsanitize=fuzzer,address,undefined
fuzz:
	mkdir -p test/fuzz-corpus/http test/fuzz-corpus/config \
	    test/fuzz-corpus/proxy test/fuzz-corpus/httpreq
	clang $(FUZZ_FLAGS) -o test/fuzz_http test/fuzz_http.c client/http.c \
	    common/esc.c common/num.c
	clang $(FUZZ_FLAGS) -o test/fuzz_config test/fuzz_config.c \
	    server/config.c server/handler.c common/addr.c common/num.c \
	    common/cidr.c
	clang $(FUZZ_FLAGS) -o test/fuzz_proxy test/fuzz_proxy.c server/proxy.c \
	    common/num.c
	clang $(FUZZ_FLAGS) -o test/fuzz_httpreq test/fuzz_httpreq.c \
	    server/httpreq.c
	./test/fuzz_http -max_total_time=$(FUZZ_SECONDS) test/fuzz-corpus/http
	./test/fuzz_config -max_total_time=$(FUZZ_SECONDS) test/fuzz-corpus/config
	./test/fuzz_proxy -max_total_time=$(FUZZ_SECONDS) test/fuzz-corpus/proxy
	./test/fuzz_httpreq -max_total_time=$(FUZZ_SECONDS) -max_len=10000 \
	    test/fuzz-corpus/httpreq

# The suite, built with AddressSanitizer and UBSan.  A worker killed by
# SIGSEGV on purpose must die of it, not be caught by ASan.
sanitize:
	$(MAKE) clean
	ASAN_OPTIONS=handle_segv=0:detect_leaks=1 $(MAKE) CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" check

# The installed server: main.c compiled again to read
# $(SYSCONFDIR)/hellod.conf when given no -f (always, since SYSCONFDIR
# may differ from the last install's); the in-tree build reads no file.
INST_BIN = server/hellod-inst
inst-bin: $(SERVER_LIB) common/libcommon.a
	$(CC) $(ALL_CFLAGS) '-DHELLOD_CONF="$(SYSCONFDIR)/hellod.conf"' \
	    -c server/main.c -o server/main-inst.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(BINDNOW) -o $(INST_BIN) \
	    server/main-inst.o $(SERVER_LIB) common/libcommon.a $(THREADS)

# The installed hellod.conf: the sample, with the workers run as
# WORKER_USER and WORKER_GROUP rather than as root.
INST_CONF = scripts/hellod.conf.inst
inst-conf:
	g='$(WORKER_GROUP)'; [ -n "$$g" ] || g=$$(id -gn '$(WORKER_USER)') || \
	    { echo "make: no user $(WORKER_USER): set WORKER_USER" >&2; exit 1; }; \
	sed -e 's/^.User nobody$$/User $(WORKER_USER)/' \
	    -e "s/^.Group nogroup$$/Group $$g/" scripts/hellod.conf.sample \
	    >$(INST_CONF)

# Everything a system needs: programs, pages, the systemd units, the
# tmpfiles.d file and the logrotate file (their paths follow PREFIX and
# SYSCONFDIR), the sample configuration as an example, and as
# $(SYSCONFDIR)/hellod.conf with User and Group set unless one exists
# (never overwritten), and the log directory (setgid: see
# scripts/hellod.tmpfiles).
install: all inst-bin inst-conf
	mkdir -p $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	mkdir -p $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man5
	mkdir -p $(DESTDIR)$(MANPREFIX)/man8 $(DESTDIR)$(UNITDIR)
	mkdir -p $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(EXAMPLEDIR)
	mkdir -p $(DESTDIR)$(LOGDIR) $(DESTDIR)$(TMPFILESDIR)
	chmod 2750 $(DESTDIR)$(LOGDIR)
	cp -f $(INST_BIN) $(DESTDIR)$(PREFIX)/sbin/hellod
	cp -f client/hello client/httpget client/hellobench \
	    $(DESTDIR)$(PREFIX)/bin/
	chmod 755 $(DESTDIR)$(PREFIX)/sbin/hellod $(DESTDIR)$(PREFIX)/bin/hello \
	    $(DESTDIR)$(PREFIX)/bin/httpget $(DESTDIR)$(PREFIX)/bin/hellobench
	cp -f man/hello.1 man/httpget.1 man/hellobench.1 \
	    $(DESTDIR)$(MANPREFIX)/man1/
	cp -f man/hellod.conf.5 $(DESTDIR)$(MANPREFIX)/man5/
	cp -f man/hellod.8 $(DESTDIR)$(MANPREFIX)/man8/
	chmod 644 $(DESTDIR)$(MANPREFIX)/man1/hello.1 \
	    $(DESTDIR)$(MANPREFIX)/man1/httpget.1 \
	    $(DESTDIR)$(MANPREFIX)/man1/hellobench.1 \
	    $(DESTDIR)$(MANPREFIX)/man5/hellod.conf.5 \
	    $(DESTDIR)$(MANPREFIX)/man8/hellod.8
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' \
	    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' scripts/hellod.service.in \
	    >$(DESTDIR)$(UNITDIR)/hellod.service
	cp -f scripts/hellod.socket $(DESTDIR)$(UNITDIR)/hellod.socket
	cp -f scripts/hellod.tmpfiles $(DESTDIR)$(TMPFILESDIR)/hellod.conf
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' scripts/hellod.logrotate.in \
	    >$(DESTDIR)$(SYSCONFDIR)/logrotate.d/hellod
	cp -f scripts/hellod.conf.sample $(DESTDIR)$(EXAMPLEDIR)/hellod.conf
	chmod 644 $(DESTDIR)$(UNITDIR)/hellod.service \
	    $(DESTDIR)$(UNITDIR)/hellod.socket \
	    $(DESTDIR)$(TMPFILESDIR)/hellod.conf \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/hellod \
	    $(DESTDIR)$(EXAMPLEDIR)/hellod.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/hellod.conf ] || \
	    cp $(INST_CONF) $(DESTDIR)$(SYSCONFDIR)/hellod.conf

# Removes what install put; a hellod.conf that differs from the sample
# was edited, and stays, as do logs.
uninstall: inst-conf
	rm -f $(DESTDIR)$(PREFIX)/sbin/hellod $(DESTDIR)$(PREFIX)/bin/hello \
	    $(DESTDIR)$(PREFIX)/bin/httpget $(DESTDIR)$(PREFIX)/bin/hellobench
	rm -f $(DESTDIR)$(MANPREFIX)/man1/hello.1 \
	    $(DESTDIR)$(MANPREFIX)/man1/httpget.1 \
	    $(DESTDIR)$(MANPREFIX)/man1/hellobench.1 \
	    $(DESTDIR)$(MANPREFIX)/man5/hellod.conf.5 \
	    $(DESTDIR)$(MANPREFIX)/man8/hellod.8
	rm -f $(DESTDIR)$(UNITDIR)/hellod.service $(DESTDIR)$(UNITDIR)/hellod.socket \
	    $(DESTDIR)$(TMPFILESDIR)/hellod.conf \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/hellod
	! cmp -s $(INST_CONF) $(DESTDIR)$(SYSCONFDIR)/hellod.conf || \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/hellod.conf
	rm -f $(DESTDIR)$(EXAMPLEDIR)/hellod.conf
	-rmdir $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(LOGDIR) 2>/dev/null

# A Debian package, built in a copy of the tree (debian-build/) with the
# packaging files of scripts/debian/ as its debian/ directory, then
# checked by lintian.  The .deb lands in debian-build/.
DEBDIR	= debian-build
deb:
	rm -rf $(DEBDIR)
	mkdir -p $(DEBDIR)/hellod-$(VERSION)
	cp -R Makefile README.md common server client man scripts \
	    $(DEBDIR)/hellod-$(VERSION)/
	cp -R scripts/debian $(DEBDIR)/hellod-$(VERSION)/debian
	$(MAKE) -C $(DEBDIR)/hellod-$(VERSION) clean >/dev/null
	cd $(DEBDIR)/hellod-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning $(DEBDIR)/hellod_$(VERSION)_*.deb

clean:
	rm -f $(COMMON_OBJ) $(SERVER_OBJ) $(HELLO_OBJ) $(BENCH_OBJ) \
	    $(HTTPGET_OBJ) \
	    common/libcommon.a test/libtest.a $(PROGS) $(TEST_BIN) test/fuzz_http test/fuzz_config \
	    test/fuzz_proxy test/fuzz_httpreq server/main-inst.o $(INST_BIN) \
	    $(INST_CONF)
	rm -rf $(DEBDIR)

.PHONY: all test-bins run check deb bench fuzz sanitize install uninstall clean \
	inst-bin inst-conf
