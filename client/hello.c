/*
 * hello: the line-protocol client.  Prints the server's welcome, sends
 * each line of standard input and prints each answer, then says "exit"
 * and waits for the server to close.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "esc.h"
#include "io.h"
#include "linereader.h"
#include "net.h"
#include "num.h"
#include "opt.h"

#define IN_MAX		(1024 * 1024)	/* longest line read from stdin */
#define ANSWER_MAX	(IN_MAX + 64)
#define SERVER_ERROR	"error: "

/* Exit statuses, documented in hello(1). */
#define EX_OK		0
#define EX_CONNECT	1	/* cannot resolve or connect */
#define EX_USAGE	2
#define EX_TIMEOUT	3	/* the server did not answer in time */
#define EX_CLOSED	4	/* the server closed or reset the session early */
#define EX_INPUT	5	/* standard input unreadable or a line too long */

#define SYNOPSIS	"usage: hello [-46hqrV] [-w seconds] [host [port]]\n"

struct hello {
	int			 h_fd;
	int			 h_raw;
	int			 h_prompt;
	int			 h_show;	/* esc_bytes() flags, or -1: as is */
	int64_t			 h_wait_ms;
	const char		*h_host;
	const char		*h_port;
	struct linereader	 h_net;
	struct linereader	 h_in;
};

static void	usage(void) __attribute__((__noreturn__));
static void	usage_error(const char *) __attribute__((__noreturn__));
static void	die(int, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3), __noreturn__));
static void	show(const struct hello *, const char *, size_t);
static void	receive(struct hello *, int);
static const char *raw_hint(const struct hello *);
static void	send_line(struct hello *, const char *, size_t);
static void	finish(struct hello *);
static int	parse_seconds(const char *);
static int	parse_args(struct hello *, int, char *[]);
static void	converse(struct hello *);

/* -h, --help: the whole help on standard output. */
static void
usage(void)
{
	printf(SYNOPSIS
"  -4, -6         use IPv4 or IPv6 only\n"
"  -h, --help     print this help and exit\n"
"  -q             no prompt, even on a terminal\n"
"  -r             raw framing: messages without newlines\n"
"  -V, --version  print the version and exit\n"
"  -w seconds     wait at most this long to look up and connect, and\n"
"                 for each answer (default 30)\n"
"host and port default to 127.0.0.1 and 9999.\n"
"Options may follow the operands; -- ends them.\n"
"Exit status: 0 ok, 1 cannot connect, 2 usage, 3 timeout,\n"
"4 the server closed the connection early, 5 standard input failed.\n");
	exit(EX_OK);
}

/* A usage error: why, the synopsis, and where the help is. */
static void
usage_error(const char *why)
{
	fprintf(stderr, "hello: %s\n" SYNOPSIS
	    "Try 'hello -h' for more information.\n", why);
	exit(EX_USAGE);
}

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "hello: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static int
parse_seconds(const char *s)
{
	char err[300];
	long long v;
	int rc;

	if ((rc = num_parse(s, 1, 86400, &v)) != NUM_OK) {
		num_error(err, sizeof(err), rc, "-w", s, 1, 86400);
		usage_error(err);
	}
	return (int)v;
}

/*
 * Print what the server sent.  On a terminal, its control characters
 * (but tab and newline) and bytes that are not text in the user's
 * character set come out as \xHH: a server must not clear the screen,
 * set the title or write the clipboard (OSC 52) of whoever runs hello.
 * In a pipe, and with -r, every byte is written as it came.
 */
static void
show(const struct hello *h, const char *p, size_t len)
{
	char buf[1024];
	size_t n;

	if (h->h_show == -1) {
		fwrite(p, 1, len, stdout);
		return;
	}
	while (len > 0) {
		n = esc_bytes(buf, sizeof(buf), p, len, h->h_show);
		fputs(buf, stdout);
		p += n;
		len -= n;
	}
}

/*
 * After a wait that brought bytes but no newline, in line mode: the
 * server is most likely a raw-framing one (Framing raw), whose answers
 * never end a line.  Say so with the timeout.
 */
static const char *
raw_hint(const struct hello *h)
{
	if (h->h_raw || h->h_net.lr_end == h->h_net.lr_start)
		return "";
	return "; it sent bytes with no newline: if it uses raw framing, "
	    "try -r";
}

/*
 * Read one answer (a line, or in raw framing whatever one read brings)
 * and print it on a line of its own.  A close is an error unless
 * closing_ok says the session is ending.
 */
static void
receive(struct hello *h, int closing_ok)
{
	const char *p;
	size_t len;
	int st;

	if (h->h_raw)
		st = lr_chunk(&h->h_net, io_deadline(h->h_wait_ms), &p, &len);
	else
		st = lr_read(&h->h_net, io_deadline(h->h_wait_ms), &p, &len);
	switch (st) {
	case LR_LINE:
	case LR_PARTIAL:
		show(h, p, len);
		fputc('\n', stdout);
		fflush(stdout);
		/*
		 * An answer always starts "hello, "; "error: " is the
		 * server's last word before it closes (line too long,
		 * timeout).  Its close may not have arrived yet, so this
		 * line, not the close, says the session ended early.
		 */
		if ((st == LR_PARTIAL && !closing_ok) ||
		    (len >= sizeof(SERVER_ERROR) - 1 &&
		    memcmp(p, SERVER_ERROR, sizeof(SERVER_ERROR) - 1) == 0))
			die(EX_CLOSED, "server closed the connection");
		return;
	case LR_EOF:
		if (closing_ok)
			return;
		die(EX_CLOSED, "server closed the connection");
	case LR_TIMEOUT:
		die(EX_TIMEOUT, "no answer from %s port %s within %lld s%s",
		    h->h_host, h->h_port, (long long)(h->h_wait_ms / 1000),
		    raw_hint(h));
	case LR_TOOLONG:
		die(EX_CLOSED, "answer longer than %d bytes", ANSWER_MAX);
	default:
		die(EX_CLOSED, "read from %s port %s: %s", h->h_host,
		    h->h_port, strerror(errno));
	}
}

static void
send_line(struct hello *h, const char *line, size_t len)
{
	static char buf[IN_MAX + 1];

	memcpy(buf, line, len);
	if (!h->h_raw)
		buf[len++] = '\n';
	if (io_write_all(h->h_fd, buf, len, io_deadline(h->h_wait_ms),
	    NULL) == -1) {
		if (errno == ETIMEDOUT)
			die(EX_TIMEOUT, "send to %s port %s: timed out",
			    h->h_host, h->h_port);
		die(EX_CLOSED, "send to %s port %s: %s", h->h_host, h->h_port,
		    strerror(errno));
	}
}

/* Say "exit" and wait for the server to close, printing what it sends. */
static void
finish(struct hello *h)
{
	const char *p;
	size_t len;
	int st;

	send_line(h, "exit", 4);
	for (;;) {
		st = lr_chunk(&h->h_net, io_deadline(h->h_wait_ms), &p, &len);
		if (st == LR_LINE) {
			show(h, p, len);
			continue;
		}
		if (st == LR_TIMEOUT)
			die(EX_TIMEOUT, "%s port %s did not close the session "
			    "within %lld s", h->h_host, h->h_port,
			    (long long)(h->h_wait_ms / 1000));
		fflush(stdout);
		exit(EX_OK);
	}
}

/*
 * The options and the [host [port]] operands into h; return the address
 * family -4 or -6 asks for.
 */
static int
parse_args(struct hello *h, int argc, char *argv[])
{
	static char bare[ADDR_HOSTMAX];
	struct opt o;
	char err[512];
	int ch, family = AF_UNSPEC, quiet = 0;

	opt_init(&o, argc, argv);
	while ((ch = opt_next(&o, "46hqrVw:", opt_std_longs)) != -1) {
		switch (ch) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'h':
			usage();
		case 'q':
			quiet = 1;
			break;
		case 'r':
			h->h_raw = 1;
			break;
		case 'V':
			printf("hello %s\n", VERSION);
			exit(EX_OK);
		case 'w':
			h->h_wait_ms = (int64_t)parse_seconds(o.o_arg) * 1000;
			break;
		default:
			usage_error(o.o_err);
		}
	}
	if (o.o_nargs > 2) {
		snprintf(err, sizeof(err), "unexpected argument \"%.200s\"",
		    o.o_args[2]);
		usage_error(err);
	}
	h->h_host = o.o_nargs > 0 ? o.o_args[0] : "127.0.0.1";
	h->h_port = o.o_nargs > 1 ? o.o_args[1] : "9999";
	h->h_host = addr_unbracket(h->h_host, bare, sizeof(bare));
	if (addr_port(h->h_port, err, sizeof(err)) == -1)
		usage_error(err);
	h->h_prompt = !quiet && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	h->h_show = !h->h_raw && isatty(STDOUT_FILENO) ?
	    ESC_TEXT | esc_locale() : -1;
	return family;
}

/*
 * Send each line of standard input and print its answer, until the end
 * of the input or "exit".  The server may also speak first.
 */
static void
converse(struct hello *h)
{
	const char *line;
	size_t len;
	int st;

	for (;;) {
		if (h->h_prompt) {
			fputs("> ", stdout);
			fflush(stdout);
		}
		st = lr_read(&h->h_in, IO_NEVER, &line, &len);
		if (st == LR_EOF || (st == LR_PARTIAL && len == 0))
			return;
		if (st == LR_WAKE) {
			/*
			 * The server spoke first (an error before it closes):
			 * on a terminal, leave the prompt and any half-typed
			 * line alone on theirs.
			 */
			if (h->h_prompt)
				fputc('\n', stdout);
			receive(h, 0);
			continue;
		}
		if (st == LR_TOOLONG)
			die(EX_INPUT, "input line longer than %d bytes", IN_MAX);
		if (st == LR_ERROR)
			die(EX_INPUT, "standard input: %s", strerror(errno));
		if (len == 4 && memcmp(line, "exit", 4) == 0)
			return;
		/* Raw framing has no empty message: nothing would arrive. */
		if (h->h_raw && len == 0)
			continue;
		send_line(h, line, len);
		receive(h, 0);
		if (st == LR_PARTIAL)
			return;
	}
}

int
main(int argc, char *argv[])
{
	static char netbuf[ANSWER_MAX + 2], inbuf[IN_MAX + 2];
	struct hello h;
	char err[512];
	int family;

	memset(&h, 0, sizeof(h));
	h.h_wait_ms = 30000;
	signal(SIGPIPE, SIG_IGN);
	family = parse_args(&h, argc, argv);
	h.h_fd = net_connect(h.h_host, h.h_port, family,
	    io_deadline(h.h_wait_ms), err, sizeof(err));
	if (h.h_fd == -1)
		die(errno == ETIMEDOUT ? EX_TIMEOUT : EX_CONNECT, "%s", err);
	lr_init(&h.h_net, h.h_fd, netbuf, sizeof(netbuf), ANSWER_MAX);
	lr_init(&h.h_in, STDIN_FILENO, inbuf, sizeof(inbuf), IN_MAX);
	/* A server that gives up on us (Timeout) must not wait for stdin. */
	h.h_in.lr_wake[0] = h.h_fd;
	receive(&h, 0);
	converse(&h);
	if (h.h_prompt)
		fputc('\n', stdout);
	finish(&h);
	return EX_OK;
}
