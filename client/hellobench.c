/*
 * hellobench: a load generator for the hello protocol, as ab(1) is for
 * Apache and redis-benchmark for Redis.  One process drives -c
 * connections with poll(); each is a small state machine that checks
 * every byte the server sends against what the protocol says it must
 * send, and times each session (or each answer, with -k).  Nothing is
 * allocated once the run has started.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "net.h"
#include "num.h"
#include "opt.h"

/* Exit statuses, documented in hellobench(1). */
#define EX_OK		0
#define EX_CONNECT	1	/* cannot resolve, connect or set up the run */
#define EX_USAGE	2
#define EX_ERRORS	3	/* the run ended with errors counted */
#define EX_INTR		4	/* stopped early by INT or TERM */

#define SYNOPSIS \
"usage: hellobench [-46hjkrV] [-B address] [-c connections] [-H seconds]\n" \
"                  [-m message] [-n count] [-t seconds] [-w seconds]\n" \
"                  [host [port]]\n"

/* A million: 100,000 idle clients, and room to spare. */
#define CONN_MAX	1000000
#define SRC_MAX		256	/* -B addresses */
/*
 * With -H, connections still being set up at once: each waits in the
 * server's listen queue at first, and a queue that overflows drops SYNs,
 * which come back a second later, and the time to connect them all
 * would measure the retransmission timer.  Below ListenBacklog's 511.
 */
#define HOLD_WINDOW	256
#define MSG_MAX		65536
#define NS		INT64_C(1000000000)

/*
 * Latencies go into a log-linear histogram: exact below HIST_SUB µs,
 * then HIST_SUB buckets for each power of two, so a percentile is off
 * by less than 1% and a run of any length needs no memory per message.
 */
#define HIST_SUB	128
#define HIST_BITS	7	/* log2(HIST_SUB) */
#define HIST_EXP	40	/* values up to 2^40 µs, about 12 days */
#define HIST_SIZE	(HIST_SUB * (HIST_EXP - HIST_BITS + 1))

enum err_kind {
	ERR_CONNECT,	/* a connection could not be made */
	ERR_TIMEOUT,	/* no progress within -w */
	ERR_CLOSED,	/* EOF before the expected bytes */
	ERR_RESET,	/* a read or write failed (reset, broken pipe) */
	ERR_MISMATCH,	/* bytes other than the protocol's */
	ERR_MAX
};

static const char *const err_names[] = {
	"connect", "timeout", "closed", "reset", "mismatch"
};
_Static_assert(MSG_MAX == 65536, "check_message() says 65536");
_Static_assert(sizeof(err_names) / sizeof(err_names[0]) == ERR_MAX,
    "err_names follows enum err_kind");

enum conn_state {
	CS_IDLE,	/* no descriptor: no work left for this slot */
	CS_CONNECT,	/* nonblocking connect() in progress */
	CS_GREET,	/* waiting for the greeting */
	CS_ANSWER,	/* a line sent, waiting for its answer */
	CS_HOLD,	/* -H: answered once, idle until the hold ends */
	CS_CLOSE	/* "exit" sent, waiting for the server to close */
};

struct text {
	const char	*t_buf;
	size_t		 t_len;
};

struct conn {
	enum conn_state	 c_state;
	int		 c_unit;	/* holds a unit of the count */
	int		 c_again;	/* failed: start over from the loop */
	size_t		 c_got;		/* bytes of the expected text seen */
	const char	*c_out;		/* bytes still to send, or NULL */
	size_t		 c_outlen;
	int64_t		 c_start;	/* when the timed interval began */
	int64_t		 c_deadline;	/* when this step times out */
	int		 c_parked;	/* CS_HOLD: the descriptor poll skips */
	int		 c_round;	/* -H: 1 once the hold has ended */
};

struct bench {
	int		 b_persist;	/* -k: many lines a connection */
	int		 b_raw;		/* -r: Framing raw */
	int		 b_json;
	int		 b_conns;
	uint64_t	 b_count;	/* -n, 0 for none */
	int64_t		 b_secs;	/* -t, 0 for none */
	int64_t		 b_end;		/* when -t runs out, 0 for never */
	int64_t		 b_wait;	/* -w, in ns */
	const char	*b_host;
	const char	*b_port;
	int		 b_portnum;
	struct sockaddr_storage b_addr;
	socklen_t	 b_addrlen;
	struct text	 b_greet, b_line, b_answer, b_exit;
	struct sockaddr_storage b_src[SRC_MAX];	/* -B */
	socklen_t	 b_srclen[SRC_MAX];
	const char	*b_srcname[SRC_MAX];
	int		 b_nsrc;
	uint64_t	 b_nextsrc;
	int		 b_holding;	/* -H given */
	int64_t		 b_hold;	/* -H, in ns */
	uint64_t	 b_held;	/* -H: connections answered once */
	uint64_t	 b_setup_failed; /* -H: failed before that */
	int64_t		 b_held_at;	/* when the last one was, or 0 */
	int		 b_released;	/* the hold is over */

	uint64_t	 b_issued;	/* units claimed */
	uint64_t	 b_ok;
	uint64_t	 b_failed;	/* units lost to an error */
	uint64_t	 b_connections;
	uint64_t	 b_errors[ERR_MAX];
	unsigned	 b_told;	/* kinds already described on stderr */
	int		 b_stopped;	/* INT or TERM arrived */
	int64_t		 b_t0;
	int64_t		 b_t1;
	uint64_t	 b_hist[HIST_SIZE];
	uint64_t	 b_max;		/* µs */
	struct conn	*b_conn;
	struct pollfd	*b_pfd;		/* b_conns + 1: last is sig_pipe */
};

static int sig_pipe[2] = { -1, -1 };

static void	usage(void) __attribute__((__noreturn__));
static void	usage_error(const char *) __attribute__((__noreturn__));
static void	die(int, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3), __noreturn__));
static long long parse_num(const char *, const char *, long long,
		    long long);
static void	on_signal(int);
static int64_t	now_ns(void);
static void	hist_add(struct bench *, int64_t);
static uint64_t	hist_pct(const struct bench *, unsigned);
static void	conn_fail(struct bench *, int, enum err_kind, const char *,
		    ...) __attribute__((__format__(__printf__, 4, 5)));
static void	conn_close(struct bench *, int);
static int	conn_claim(struct bench *);
static void	conn_start(struct bench *, int);
static int	conn_bind(struct bench *, int);
static void	conn_park(struct bench *, int);
static void	hold_check(struct bench *, int64_t, uint64_t);
static void	hold_release(struct bench *);
static void	conn_expect(struct bench *, int, enum conn_state);
static void	conn_send(struct bench *, int, const struct text *);
static void	conn_connected(struct bench *, int);
static void	conn_step(struct bench *, int);
static const char *conn_what(enum conn_state);
static const char *esc(const char *, size_t, char *, size_t);
static void	conn_mismatch(struct bench *, int, const struct text *,
		    const char *, size_t);
static void	conn_done(struct bench *, int);
static void	conn_read(struct bench *, int);
static void	conn_event(struct bench *, int, short);
static int	run_timers(struct bench *);
static void	run(struct bench *);
static void	setup_fds(struct bench *);
static void	parse_source(struct bench *, const char *);
static void	check_sources(const struct bench *);
static void	setup_signals(void);
static void	setup_texts(struct bench *, const char *);
static void	setup(struct bench *, int);
static double	elapsed(const struct bench *);
static double	rate(const struct bench *);
static void	report_text(const struct bench *);
static double	held_secs(const struct bench *);
static void	json_str(const char *);
static void	report_json(const struct bench *);
static void	check_message(const struct bench *, const char *);
static void	parse_operands(struct bench *, int, char **);
static int	parse_args(struct bench *, int, char *[], const char **);

/* -h, --help: the whole help on standard output. */
static void
usage(void)
{
	printf(SYNOPSIS
"  -4, -6          use IPv4 or IPv6 only\n"
"  -B address      connect from this local address; repeat it to spread\n"
"                  the connections over several in turn\n"
"  -c connections  connections open at once (default 16)\n"
"  -H seconds      hold: each connection is one session that is answered\n"
"                  once, stays idle until every one has been, then this\n"
"                  long, and is answered once more before its exit\n"
"  -h, --help      print this help and exit\n"
"  -j              print the summary as one JSON line\n"
"  -k              persistent: many lines a connection (default: one\n"
"                  session a connection: greeting, one line, exit)\n"
"  -m message      the line to send (default michael)\n"
"  -n count        sessions (replies with -k) to run (default 10000,\n"
"                  none with -t)\n"
"  -r              raw framing: messages without newlines\n"
"  -t seconds      run for this long at most\n"
"  -V, --version   print the version and exit\n"
"  -w seconds      wait at most this long for each step (default 10)\n"
"host and port default to 127.0.0.1 and 9999.\n"
"Options may follow the operands; -- ends them.\n"
"Exit status: 0 no error, 1 cannot connect, 2 usage, 3 errors counted,\n"
"4 interrupted.\n");
	exit(EX_OK);
}

/* A usage error: why, the synopsis and a pointer to -h, on stderr. */
static void
usage_error(const char *why)
{
	fprintf(stderr, "hellobench: %s\n" SYNOPSIS
	    "Try 'hellobench -h' for more information.\n", why);
	exit(EX_USAGE);
}

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "hellobench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Parse the value s of option opt as a decimal from min to max. */
static long long
parse_num(const char *opt, const char *s, long long min, long long max)
{
	char err[300];
	long long v;
	int rc;

	if ((rc = num_parse(s, min, max, &v)) != NUM_OK) {
		num_error(err, sizeof(err), rc, opt, s, min, max);
		usage_error(err);
	}
	return v;
}

/* INT and TERM end the run early; the loop hears it through the pipe. */
static void
on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	/* A full pipe already holds a wakeup; nothing is lost. */
	if (write(sig_pipe[1], "", 1) == -1) {
		/* nothing to do */
	}
	errno = saved;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* Count one latency of ns nanoseconds. */
static void
hist_add(struct bench *b, int64_t ns)
{
	uint64_t us = ns < 0 ? 0 : (uint64_t)ns / 1000, top;
	unsigned shift = 0;

	if (us > b->b_max)
		b->b_max = us;
	if (us >= (UINT64_C(1) << HIST_EXP))
		us = (UINT64_C(1) << HIST_EXP) - 1;
	for (top = us; top >= 2 * HIST_SUB; top >>= 1)
		shift++;
	/* Below 2 * HIST_SUB the index is the value itself. */
	b->b_hist[(size_t)shift * HIST_SUB + top]++;
}

/*
 * Return the pct-th percentile in µs: the upper bound of the bucket that
 * holds it, never more than the largest value seen.
 */
static uint64_t
hist_pct(const struct bench *b, unsigned pct)
{
	uint64_t rank, seen = 0, top, hi;
	unsigned shift;
	size_t i;

	if (b->b_ok == 0)
		return 0;
	rank = (b->b_ok * pct + 99) / 100;
	for (i = 0; i < HIST_SIZE; i++) {
		seen += b->b_hist[i];
		if (seen >= rank)
			break;
	}
	if (i < 2 * HIST_SUB)
		return i;
	shift = (unsigned)(i / HIST_SUB) - 1;
	top = i - (size_t)shift * HIST_SUB;
	hi = ((top + 1) << shift) - 1;
	return hi < b->b_max ? hi : b->b_max;
}

/*
 * Count an error of kind k on connection i, describe the first one of
 * each kind on stderr (the rest only count), and have the loop start
 * the slot over.  Not here: a server that refuses at once would make
 * conn_start() and conn_fail() recurse once a unit of work.
 */
static void
conn_fail(struct bench *b, int i, enum err_kind k, const char *fmt, ...)
{
	struct conn *c = &b->b_conn[i];
	va_list ap;

	b->b_errors[k]++;
	if (c->c_unit)
		b->b_failed++;
	if (c->c_unit && b->b_holding && c->c_round == 0)
		b->b_setup_failed++;
	c->c_unit = 0;
	if (!(b->b_told & (1u << k))) {
		b->b_told |= 1u << k;
		fprintf(stderr, "hellobench: %s: ", err_names[k]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	conn_close(b, i);
	c->c_again = 1;
}

static void
conn_close(struct bench *b, int i)
{
	if (b->b_pfd[i].fd != -1)
		close(b->b_pfd[i].fd);
	if (b->b_conn[i].c_state == CS_HOLD)
		close(b->b_conn[i].c_parked);
	b->b_pfd[i].fd = -1;
	b->b_pfd[i].events = 0;
	b->b_conn[i].c_state = CS_IDLE;
	b->b_conn[i].c_out = NULL;
}

/* Take one unit of work, if -n, -t and the signals leave one. */
static int
conn_claim(struct bench *b)
{
	if (b->b_stopped)
		return 0;
	if (b->b_count != 0 && b->b_issued >= b->b_count)
		return 0;
	if (b->b_end != 0 && now_ns() >= b->b_end)
		return 0;
	b->b_issued++;
	return 1;
}

/*
 * Open a new connection in slot i for the next unit of work, or leave
 * the slot idle when there is none.
 */
static void
conn_start(struct bench *b, int i)
{
	struct conn *c = &b->b_conn[i];
	struct sockaddr *sa = (struct sockaddr *)&b->b_addr;
	int fd;

	if (!conn_claim(b))
		return;
	c->c_unit = 1;
	c->c_round = 0;
	c->c_start = now_ns();
	c->c_deadline = c->c_start + b->b_wait;
	b->b_connections++;
	if ((fd = net_socket(sa->sa_family, SOCK_STREAM, 0)) == -1) {
		conn_fail(b, i, ERR_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	b->b_pfd[i].fd = fd;
	c->c_state = CS_CONNECT;
	b->b_pfd[i].events = POLLOUT;
	if (b->b_nsrc > 0 && conn_bind(b, i) == -1)
		return;
	if (connect(fd, sa, b->b_addrlen) == 0)
		conn_connected(b, i);
	else if (errno != EINPROGRESS && errno != EINTR)
		conn_fail(b, i, ERR_CONNECT, "connect to %s port %s: %s",
		    b->b_host, b->b_port, strerror(errno));
}

/*
 * Bind connection i to the next -B address, its port left to connect()
 * where the system can (Linux's IP_BIND_ADDRESS_NO_PORT): a port bound
 * ahead is taken for every destination and every process of the
 * machine, one chosen by connect() only for this one destination, so
 * 100,000 connections do not leave other programs without a port.
 */
static int
conn_bind(struct bench *b, int i)
{
	unsigned k = (unsigned)(b->b_nextsrc++ % (uint64_t)b->b_nsrc);
	int fd = b->b_pfd[i].fd;
#ifdef IP_BIND_ADDRESS_NO_PORT
	int on = 1;

	if (b->b_src[k].ss_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on,
		    sizeof(on));
#endif
	if (bind(fd, (struct sockaddr *)&b->b_src[k], b->b_srclen[k]) == -1) {
		conn_fail(b, i, ERR_CONNECT, "bind to %s: %s", b->b_srcname[k],
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait for the bytes (or the close) that state s expects. */
static void
conn_expect(struct bench *b, int i, enum conn_state s)
{
	struct conn *c = &b->b_conn[i];

	c->c_state = s;
	c->c_got = 0;
	c->c_deadline = now_ns() + b->b_wait;
	b->b_pfd[i].events = POLLIN | (c->c_out != NULL ? POLLOUT : 0);
}

/*
 * Send t, or as much as the socket takes now: the rest goes out when
 * poll() says the socket is writable again, by a call with t NULL.
 */
static void
conn_send(struct bench *b, int i, const struct text *t)
{
	struct conn *c = &b->b_conn[i];
	ssize_t n;

	if (t != NULL) {
		c->c_out = t->t_buf;
		c->c_outlen = t->t_len;
	}
	while (c->c_outlen > 0) {
		n = write(b->b_pfd[i].fd, c->c_out, c->c_outlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			b->b_pfd[i].events |= POLLOUT;
			return;
		}
		if (n == -1) {
			conn_fail(b, i, ERR_RESET, "send: %s", strerror(errno));
			return;
		}
		c->c_out += n;
		c->c_outlen -= (size_t)n;
	}
	c->c_out = NULL;
	b->b_pfd[i].events &= ~POLLOUT;
}

static void
conn_connected(struct bench *b, int i)
{
	int on = 1;

	/* A line protocol sends small writes that must not wait. */
	(void)setsockopt(b->b_pfd[i].fd, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on));
	conn_expect(b, i, CS_GREET);
}

/*
 * The expected text of the current state has arrived whole: move on to
 * the next step of the session.
 */
static void
conn_step(struct bench *b, int i)
{
	struct conn *c = &b->b_conn[i];
	int64_t t;

	if (c->c_state == CS_ANSWER && b->b_persist) {
		t = now_ns();
		hist_add(b, t - c->c_start);
		b->b_ok++;
		c->c_unit = 0;
		if (conn_claim(b)) {
			c->c_unit = 1;
			c->c_start = t;
			conn_expect(b, i, CS_ANSWER);
			conn_send(b, i, &b->b_line);
			return;
		}
	}
	if (c->c_state == CS_ANSWER && b->b_holding && c->c_round == 0) {
		conn_park(b, i);
		return;
	}
	if (c->c_state == CS_GREET) {
		if (b->b_persist)
			c->c_start = now_ns();
		conn_expect(b, i, CS_ANSWER);
		conn_send(b, i, &b->b_line);
	} else {
		conn_expect(b, i, CS_CLOSE);
		conn_send(b, i, &b->b_exit);
	}
}

/*
 * -H: connection i has its first answer, timed from its connect; it
 * idles, out of poll()'s way (a negative descriptor is skipped), until
 * the hold ends.
 */
static void
conn_park(struct bench *b, int i)
{
	struct conn *c = &b->b_conn[i];

	hist_add(b, now_ns() - c->c_start);
	b->b_held++;
	c->c_state = CS_HOLD;
	c->c_parked = b->b_pfd[i].fd;
	c->c_deadline = INT64_MAX;
	b->b_pfd[i].fd = -1;
	b->b_pfd[i].events = 0;
}

/*
 * -H: once every connection has been answered once or has failed, say
 * so on stderr (a script waits for that line) and start the hold.
 */
static void
hold_check(struct bench *b, int64_t now, uint64_t pending)
{
	if (b->b_held_at != 0 || pending != 0 || b->b_issued < b->b_count)
		return;
	b->b_held_at = now;
	fprintf(stderr, "hellobench: holding %llu connections, all answered "
	    "after %.3f s\n", (unsigned long long)b->b_held,
	    (double)(now - b->b_t0) / NS);
}

/* -H: the hold is over; every held connection sends its line again. */
static void
hold_release(struct bench *b)
{
	struct conn *c;
	int i;

	b->b_released = 1;
	for (i = 0; i < b->b_conns; i++) {
		c = &b->b_conn[i];
		if (c->c_state != CS_HOLD)
			continue;
		b->b_pfd[i].fd = c->c_parked;
		c->c_round = 1;
		conn_expect(b, i, CS_ANSWER);
		conn_send(b, i, &b->b_line);
	}
}

/* What state s waits for, in words. */
static const char *
conn_what(enum conn_state s)
{
	switch (s) {
	case CS_CONNECT:
		return "connection";
	case CS_GREET:
		return "greeting";
	case CS_ANSWER:
		return "answer";
	default:
		return "close after exit";
	}
}

/* Print p[0..n) into out as a C string body, cut at about 60 bytes. */
static const char *
esc(const char *p, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	unsigned char ch;

	for (i = 0; i < n && o + 8 < outlen; i++) {
		ch = (unsigned char)p[i];
		if (i == 60) {
			o += (size_t)snprintf(out + o, outlen - o, "...");
			break;
		}
		if (ch == '\n')
			o += (size_t)snprintf(out + o, outlen - o, "\\n");
		else if (ch == '\r')
			o += (size_t)snprintf(out + o, outlen - o, "\\r");
		else if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\%03o", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
}

/*
 * Bytes other than the expected text t came: describe what was expected
 * and what came (the part of t that matched, then buf[0..n)).
 */
static void
conn_mismatch(struct bench *b, int i, const struct text *t, const char *buf,
    size_t n)
{
	char got[128], want[512], gotesc[512];
	size_t g = b->b_conn[i].c_got;

	if (g > sizeof(got))
		g = sizeof(got);
	memcpy(got, t->t_buf, g);
	if (n > sizeof(got) - g)
		n = sizeof(got) - g;
	memcpy(got + g, buf, n);
	conn_fail(b, i, ERR_MISMATCH, "%s: expected \"%s\", got \"%s\"",
	    conn_what(b->b_conn[i].c_state), esc(t->t_buf, t->t_len, want,
	    sizeof(want)), esc(got, g + n, gotesc, sizeof(gotesc)));
}

/* The server closed after "exit", as it must: the session is done. */
static void
conn_done(struct bench *b, int i)
{
	struct conn *c = &b->b_conn[i];

	if (!b->b_persist) {
		if (!b->b_holding)
			hist_add(b, now_ns() - c->c_start);
		b->b_ok++;
		c->c_unit = 0;
	}
	conn_close(b, i);
	conn_start(b, i);
}

/* Read what the server sent and check it against what it must send. */
static void
conn_read(struct bench *b, int i)
{
	static char buf[MSG_MAX + 64];
	struct conn *c = &b->b_conn[i];
	const struct text *t;
	char want[512];
	ssize_t n;

	do
		n = read(b->b_pfd[i].fd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n == -1) {
		conn_fail(b, i, ERR_RESET, "read from %s port %s: %s",
		    b->b_host, b->b_port, strerror(errno));
		return;
	}
	if (c->c_state == CS_CLOSE) {
		if (n == 0)
			conn_done(b, i);
		else
			conn_fail(b, i, ERR_MISMATCH, "close after exit: "
			    "expected the close, got \"%s\"",
			    esc(buf, (size_t)n, want, sizeof(want)));
		return;
	}
	t = c->c_state == CS_GREET ? &b->b_greet : &b->b_answer;
	if (n == 0) {
		conn_fail(b, i, ERR_CLOSED, "%s port %s closed the connection "
		    "before the %s", b->b_host, b->b_port,
		    conn_what(c->c_state));
		return;
	}
	if ((size_t)n > t->t_len - c->c_got ||
	    memcmp(buf, t->t_buf + c->c_got, (size_t)n) != 0) {
		conn_mismatch(b, i, t, buf, (size_t)n);
		return;
	}
	c->c_got += (size_t)n;
	if (c->c_got == t->t_len)
		conn_step(b, i);
}

/* poll() says something happened on connection i. */
static void
conn_event(struct bench *b, int i, short revents)
{
	struct conn *c = &b->b_conn[i];
	socklen_t len = sizeof(int);
	int err = 0;

	if (c->c_state == CS_CONNECT) {
		if (getsockopt(b->b_pfd[i].fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1)
			err = errno;
		if (err != 0)
			conn_fail(b, i, ERR_CONNECT, "connect to %s port %s: %s",
			    b->b_host, b->b_port, strerror(err));
		else
			conn_connected(b, i);
		return;
	}
	if ((revents & POLLOUT) && c->c_out != NULL) {
		conn_send(b, i, NULL);
		if (c->c_state == CS_IDLE)
			return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		conn_read(b, i);
}

/*
 * Start the slots that asked to, fail those whose step has timed out,
 * and return the poll() timeout until the nearest deadline, or -2 when
 * no connection is left.
 */
static int
run_timers(struct bench *b)
{
	struct conn *c;
	int64_t now = now_ns(), next = INT64_MAX;
	uint64_t pending = 0;
	int i, active = 0;

	if (b->b_held_at != 0 && !b->b_released &&
	    now >= b->b_held_at + b->b_hold)
		hold_release(b);
	for (i = 0; i < b->b_conns; i++) {
		c = &b->b_conn[i];
		if (c->c_again && (!b->b_holding || b->b_issued -
		    b->b_held - b->b_setup_failed < HOLD_WINDOW)) {
			c->c_again = 0;
			conn_start(b, i);
		}
		if (c->c_state != CS_IDLE && c->c_deadline <= now)
			conn_fail(b, i, ERR_TIMEOUT, "no %s from %s port %s "
			    "within %lld s", conn_what(c->c_state), b->b_host,
			    b->b_port, (long long)(b->b_wait / NS));
		if (c->c_again)
			next = now;
		else if (c->c_state != CS_IDLE && c->c_deadline < next)
			next = c->c_deadline;
		if (c->c_again || c->c_state != CS_IDLE)
			active++;
		pending += c->c_again || (c->c_state != CS_IDLE &&
		    c->c_state != CS_HOLD && c->c_round == 0);
	}
	if (b->b_holding && !b->b_released) {
		hold_check(b, now, pending);
		if (b->b_held_at != 0 && b->b_held_at + b->b_hold < next)
			next = b->b_held_at + b->b_hold;
	}
	if (active == 0)
		return -2;
	if (next <= now)
		return 0;
	/* Round up: waking before the deadline would only spin. */
	return (int)((next - now + 999999) / 1000000);
}

/* The run: until no connection is left or a signal stops it. */
static void
run(struct bench *b)
{
	char drain[64];
	int i, n, timeout;

	b->b_pfd[b->b_conns].fd = sig_pipe[0];
	b->b_pfd[b->b_conns].events = POLLIN;
	while ((timeout = run_timers(b)) != -2) {
		n = poll(b->b_pfd, (nfds_t)b->b_conns + 1, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die(EX_CONNECT, "poll: %s", strerror(errno));
		if (b->b_pfd[b->b_conns].revents != 0) {
			while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
				;
			b->b_stopped = 1;
			break;
		}
		for (i = 0; i < b->b_conns && n > 0; i++) {
			if (b->b_pfd[i].revents == 0 || b->b_pfd[i].fd == -1)
				continue;
			n--;
			conn_event(b, i, b->b_pfd[i].revents);
		}
	}
	b->b_t1 = now_ns();
	for (i = 0; i < b->b_conns; i++)
		conn_close(b, i);
}

/*
 * Allow one descriptor a connection, and a few more: the soft limit
 * goes up to the hard one (an unlimited hard limit to what is needed).
 */
static void
setup_fds(struct bench *b)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)b->b_conns + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		die(EX_USAGE, "-c %d: needs %llu descriptors; the limit is %llu",
		    b->b_conns, (unsigned long long)need,
		    (unsigned long long)rl.rlim_max);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			die(EX_CONNECT, "setrlimit: %s", strerror(errno));
	}
}

/* A -B address: numeric, any port. */
static void
parse_source(struct bench *b, const char *arg)
{
	static char bare[SRC_MAX][ADDR_HOSTMAX];
	struct addrinfo hints, *ai;
	char err[600];
	int rc;

	if (b->b_nsrc == SRC_MAX)
		usage_error("-B: more than 256 addresses");
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	b->b_srcname[b->b_nsrc] = addr_unbracket(arg, bare[b->b_nsrc],
	    ADDR_HOSTMAX);
	if ((rc = getaddrinfo(b->b_srcname[b->b_nsrc], "0", &hints, &ai)) != 0) {
		snprintf(err, sizeof(err), "-B: bad address \"%.200s\": %s",
		    arg, rc == EAI_NONAME ? "not a numeric IPv4 or IPv6 address" :
		    gai_strerror(rc));
		usage_error(err);
	}
	memcpy(&b->b_src[b->b_nsrc], ai->ai_addr, ai->ai_addrlen);
	b->b_srclen[b->b_nsrc++] = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* Every -B address must be of the family of the server's address. */
static void
check_sources(const struct bench *b)
{
	int k;

	for (k = 0; k < b->b_nsrc; k++)
		if (b->b_src[k].ss_family != b->b_addr.ss_family)
			die(EX_USAGE, "-B %s: not an %s address, as %s is",
			    b->b_srcname[k], b->b_addr.ss_family == AF_INET6 ?
			    "IPv6" : "IPv4", b->b_host);
}

/* The self-pipe INT and TERM write to, and SIGPIPE out of the way. */
static void
setup_signals(void)
{
	struct sigaction sa;

	if (pipe(sig_pipe) == -1 || io_cloexec(sig_pipe[0]) == -1 ||
	    io_cloexec(sig_pipe[1]) == -1 || io_nonblock(sig_pipe[0], 1) == -1 ||
	    io_nonblock(sig_pipe[1], 1) == -1)
		die(EX_CONNECT, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The protocol's bytes for message msg, built once. */
static void
setup_texts(struct bench *b, const char *msg)
{
	static char line[MSG_MAX + 2], answer[MSG_MAX + 16];
	const char *nl = b->b_raw ? "" : "\n";
	int n;

	b->b_greet.t_buf = b->b_raw ? "welcome!" : "welcome!\n";
	b->b_greet.t_len = strlen(b->b_greet.t_buf);
	b->b_exit.t_buf = b->b_raw ? "exit" : "exit\n";
	b->b_exit.t_len = strlen(b->b_exit.t_buf);
	n = snprintf(line, sizeof(line), "%s%s", msg, nl);
	b->b_line.t_buf = line;
	b->b_line.t_len = (size_t)n;
	n = snprintf(answer, sizeof(answer), "hello, %s!%s", msg, nl);
	b->b_answer.t_buf = answer;
	b->b_answer.t_len = (size_t)n;
}

/*
 * Connect the first connection the way hello does, every address of
 * the host in turn, so that a server that is not there is one clear
 * error and exit 1; every later connection goes to the address that
 * answered.  The first connection is also the first session.
 */
static void
setup(struct bench *b, int family)
{
	char err[512];
	int fd, i;

	setup_fds(b);
	b->b_conn = calloc((size_t)b->b_conns, sizeof(*b->b_conn));
	b->b_pfd = calloc((size_t)b->b_conns + 1, sizeof(*b->b_pfd));
	if (b->b_conn == NULL || b->b_pfd == NULL)
		die(EX_CONNECT, "%s", strerror(errno));
	for (i = 0; i < b->b_conns; i++) {
		b->b_pfd[i].fd = -1;
		b->b_conn[i].c_again = 1;
	}
	setup_signals();
	b->b_t0 = now_ns();
	if (b->b_secs != 0)
		b->b_end = b->b_t0 + b->b_secs * NS;
	fd = net_connect(b->b_host, b->b_port, family,
	    io_deadline(b->b_wait / 1000000), err, sizeof(err));
	if (fd == -1)
		die(EX_CONNECT, "%s", err);
	b->b_addrlen = sizeof(b->b_addr);
	if (getpeername(fd, (struct sockaddr *)&b->b_addr, &b->b_addrlen) == -1)
		die(EX_CONNECT, "getpeername: %s", strerror(errno));
	check_sources(b);
	(void)conn_claim(b);
	b->b_connections++;
	b->b_pfd[0].fd = fd;
	b->b_conn[0].c_again = 0;
	b->b_conn[0].c_unit = 1;
	b->b_conn[0].c_start = b->b_t0;
	conn_connected(b, 0);
}

static double
elapsed(const struct bench *b)
{
	return (double)(b->b_t1 - b->b_t0) / NS;
}

static double
rate(const struct bench *b)
{
	double s = elapsed(b);

	return s > 0 ? (double)b->b_ok / s : 0;
}

static void
report_text(const struct bench *b)
{
	const char *unit = b->b_persist ? "replies" : "sessions";
	uint64_t total = 0;
	int k;

	for (k = 0; k < ERR_MAX; k++)
		total += b->b_errors[k];
	printf("mode:      %s, %s framing, %d connection%s to %s port %s\n",
	    b->b_persist ? "persistent" :
	    b->b_holding ? "hold" : "session", b->b_raw ? "raw" : "line",
	    b->b_conns, b->b_conns == 1 ? "" : "s", b->b_host, b->b_port);
	printf("%-10s %llu ok, %llu failed, over %llu connection%s\n",
	    b->b_persist ? "replies:" : "sessions:",
	    (unsigned long long)b->b_ok, (unsigned long long)b->b_failed,
	    (unsigned long long)b->b_connections,
	    b->b_connections == 1 ? "" : "s");
	printf("time:      %.3f s%s\n", elapsed(b),
	    b->b_stopped ? " (stopped by a signal)" : "");
	printf("rate:      %.1f %s/s\n", rate(b), unit);
	printf("latency:   p50 %llu us, p90 %llu us, p99 %llu us, max %llu us\n",
	    (unsigned long long)hist_pct(b, 50),
	    (unsigned long long)hist_pct(b, 90),
	    (unsigned long long)hist_pct(b, 99), (unsigned long long)b->b_max);
	printf("errors:    %llu", (unsigned long long)total);
	for (k = 0; k < ERR_MAX; k++)
		printf("%s%s %llu", k == 0 ? " (" : ", ", err_names[k],
		    (unsigned long long)b->b_errors[k]);
	printf(")\n");
	if (b->b_holding)
		printf("held:      %llu connections at once, all answered after "
		    "%.3f s\n", (unsigned long long)b->b_held, held_secs(b));
}

/* -H: from the start to the moment every connection was answered once. */
static double
held_secs(const struct bench *b)
{
	return b->b_held_at != 0 ? (double)(b->b_held_at - b->b_t0) / NS : 0;
}

/* Print s as a JSON string. */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
report_json(const struct bench *b)
{
	int k;

	printf("{\"mode\":\"%s\",\"framing\":\"%s\",\"host\":",
	    b->b_persist ? "persistent" :
	    b->b_holding ? "hold" : "session", b->b_raw ? "raw" : "line");
	json_str(b->b_host);
	printf(",\"port\":%d,\"concurrency\":%d,\"ok\":%llu,\"failed\":%llu,"
	    "\"connections\":%llu,\"seconds\":%.6f,\"rate\":%.1f,",
	    b->b_portnum, b->b_conns, (unsigned long long)b->b_ok,
	    (unsigned long long)b->b_failed,
	    (unsigned long long)b->b_connections, elapsed(b), rate(b));
	printf("\"latency_us\":{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,"
	    "\"max\":%llu},\"errors\":{",
	    (unsigned long long)hist_pct(b, 50),
	    (unsigned long long)hist_pct(b, 90),
	    (unsigned long long)hist_pct(b, 99), (unsigned long long)b->b_max);
	for (k = 0; k < ERR_MAX; k++)
		printf("%s\"%s\":%llu", k == 0 ? "" : ",", err_names[k],
		    (unsigned long long)b->b_errors[k]);
	printf("},\"stopped\":%s", b->b_stopped ? "true" : "false");
	if (b->b_holding)
		printf(",\"held\":%llu,\"held_seconds\":%.6f",
		    (unsigned long long)b->b_held, held_secs(b));
	printf("}\n");
}

/* The message must make one line the server answers as it is. */
static void
check_message(const struct bench *b, const char *msg)
{
	size_t len = strlen(msg);

	if (len > MSG_MAX)
		usage_error("-m: message longer than 65536 bytes");
	if (strchr(msg, '\n') != NULL)
		usage_error("-m: a message cannot hold a newline");
	if (strcmp(msg, "exit") == 0)
		usage_error("-m: \"exit\" ends the session; it has no answer");
	if (b->b_raw && len == 0)
		usage_error("-m: raw framing has no empty message");
	if (!b->b_raw && len > 0 && msg[len - 1] == '\r')
		usage_error("-m: the server drops a CR at the end of a line");
}

/* The [host [port]] operands into b. */
static void
parse_operands(struct bench *b, int nargs, char **args)
{
	static char bare[ADDR_HOSTMAX];
	char err[512];

	if (nargs > 2) {
		snprintf(err, sizeof(err), "unexpected argument \"%.200s\"",
		    args[2]);
		usage_error(err);
	}
	b->b_host = addr_unbracket(nargs > 0 ? args[0] : "127.0.0.1", bare,
	    sizeof(bare));
	b->b_port = nargs > 1 ? args[1] : "9999";
	if ((b->b_portnum = addr_port(b->b_port, err, sizeof(err))) == -1)
		die(EX_USAGE, "%s", err);
}

/*
 * The options and operands into b, the -m message into *msg; return the
 * address family -4 or -6 asks for.
 */
static int
parse_args(struct bench *b, int argc, char *argv[], const char **msg)
{
	struct opt o;
	int ch, family = AF_UNSPEC;

	opt_init(&o, argc, argv);
	while ((ch = opt_next(&o, "46B:c:H:hjkm:n:rt:Vw:", opt_std_longs)) !=
	    -1) {
		switch (ch) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'B':
			parse_source(b, o.o_arg);
			break;
		case 'c':
			b->b_conns = (int)parse_num("-c", o.o_arg, 1, CONN_MAX);
			break;
		case 'H':
			b->b_hold = parse_num("-H", o.o_arg, 0, 86400) * NS;
			b->b_holding = 1;
			break;
		case 'h':
			usage();
		case 'j':
			b->b_json = 1;
			break;
		case 'k':
			b->b_persist = 1;
			break;
		case 'm':
			*msg = o.o_arg;
			break;
		case 'n':
			b->b_count = (uint64_t)parse_num("-n", o.o_arg, 1,
			    LLONG_MAX);
			break;
		case 'r':
			b->b_raw = 1;
			break;
		case 't':
			b->b_secs = parse_num("-t", o.o_arg, 1, 86400);
			break;
		case 'V':
			printf("hellobench %s\n", VERSION);
			exit(EX_OK);
		case 'w':
			b->b_wait = parse_num("-w", o.o_arg, 1, 86400) * NS;
			break;
		default:
			usage_error(o.o_err);
		}
	}
	parse_operands(b, o.o_nargs, o.o_args);
	if (b->b_holding && (b->b_persist || b->b_count != 0 ||
	    b->b_secs != 0))
		usage_error("-H: a hold is one session a connection: no -k, -n "
		    "or -t");
	if (b->b_holding)
		b->b_count = (uint64_t)b->b_conns;
	return family;
}

int
main(int argc, char *argv[])
{
	static struct bench b;
	const char *msg = "michael";
	int family, k;

	b.b_conns = 16;
	b.b_wait = 10 * NS;
	family = parse_args(&b, argc, argv, &msg);
	check_message(&b, msg);
	if (b.b_count == 0 && b.b_secs == 0)
		b.b_count = 10000;
	setup_texts(&b, msg);
	setup(&b, family);
	run(&b);
	if (b.b_json)
		report_json(&b);
	else
		report_text(&b);
	if (b.b_stopped)
		return EX_INTR;
	for (k = 0; k < ERR_MAX; k++)
		if (b.b_errors[k] != 0)
			return EX_ERRORS;
	return EX_OK;
}
