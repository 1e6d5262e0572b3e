/*
 * httpget.c: fetch an http:// URL with HTTP/1.1, print the response
 * headers and save the body, following redirects; never report a
 * truncated or malformed transfer as a success.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io.h"
#include "net.h"
#include "httpget.h"

#define MAXHEADERS	64		/* -H options */
#define BUFSIZE		(128 * 1024)	/* one read() of the socket */
#define REQMAX		(32 * 1024)	/* the request header block */
#define FETCH_MORE	(-1)		/* handle_event: keep reading */
#define FETCH_REDIRECT	(-2)		/* fetch_once: follow f_location */

struct options {
	const char	*op_agent;	/* NULL: httpget/VERSION */
	const char	*op_output;	/* -o, or NULL */
	const char	*op_headers[MAXHEADERS];
	int		 op_nheaders;
	int		 op_force;
	int		 op_head;
	int		 op_quiet;
	long		 op_maxredirs;
	int64_t		 op_timeout;	/* ms, or -1 for none */
	const char	*op_timeout_arg;
};

struct fetch {
	const struct options *f_opt;
	struct url	 f_url;
	char		 f_name[URL_MAX + 300];	/* the URL, for messages */
	int		 f_fd;
	FILE		*f_hdr;		/* where header blocks go, or NULL */
	int		 f_hdrerr;	/* errno of the first failed write */
	int		 f_offhost;	/* f_url is not on the first host */
	struct url	 f_first;	/* the URL on the command line */
	struct http_parser f_hp;
	char		 f_status[128];	/* "404 Not Found" */
	char		 f_location[HTTP_LINEMAX + 1];
	int		 f_hasloc;
	struct output	 f_out;
	int		 f_outopen;
	struct progress	 f_pr;
	char		 f_err[512];
	char		 f_buf[BUFSIZE];
};

static volatile sig_atomic_t got_signal;
static struct fetch fetch;

static _Noreturn void usage(FILE *, int);
static void	fail(const char *, const char *);
static char   **long_options(int, char **);
static void	parse_options(int, char **, struct options *);
static int	has_ctl(const char *);
static int	check_header(const char *);
static int	is_header(const char *, const char *);
static int	user_withheld(const struct fetch *, const char *);
static int	user_has(const struct fetch *, const char *);
static int	build_request(const struct fetch *, char *, size_t);
static int	fetch_once(struct fetch *);
static int	fetch_read(struct fetch *);
static int	handle_event(struct fetch *, const struct http_event *);
static void	hdr_write(struct fetch *, const char *, size_t);
static int	hdr_check(struct fetch *);
static int	head_end(struct fetch *);
static int	body_start(struct fetch *);
static int	finish(struct fetch *);
static int	error_event(struct fetch *);
static int	follow(struct fetch *, long *);
static void	on_signal(int);
static void	catch_signals(void);
static void	die_of_signal(struct fetch *);
static void	std_fds(void);


static _Noreturn void
usage(FILE *fp, int status)
{
	fprintf(fp,
	    "usage: httpget [-fhIqV] [-A agent] [-H header] [-m max-redirs]\n"
	    "               [-o file] [-T seconds] URL\n"
	    "  -A agent        User-Agent (default httpget/%s)\n"
	    "  -f              overwrite an existing file\n"
	    "  -H 'Name: value'  add a request header (repeatable)\n"
	    "  -h, --help      print this help and exit\n"
	    "  -I              send HEAD; print the headers, save nothing\n"
	    "  -m, --max-redirs N  follow at most N redirects (default 20,"
	    " 0: none)\n"
	    "  -o file         save the body to file (- for standard output)\n"
	    "  -q              print no headers and no progress\n"
	    "  -T seconds      connect and read timeout (default 60,"
	    " 0: none)\n"
	    "  -V              print the version and exit\n", VERSION);
	exit(status);
}

/*
 * Print "httpget: what: why" on standard error, on a line of its own:
 * erase the progress bar first.
 */
static void
fail(const char *what, const char *why)
{
	prog_end(&fetch.f_pr);
	fflush(stdout);
	fprintf(stderr, "httpget: %s: %s\n", what, why);
}

/*
 * getopt() has no long options: rewrite --help, --version and
 * --max-redirs[=N] as their short forms, in a copy of argv.
 */
static char **
long_options(int argc, char **argv)
{
	static char mbuf[64];
	char **nv;
	int i;

	if ((nv = calloc((size_t)argc + 1, sizeof(*nv))) == NULL) {
		perror("httpget");
		exit(EX_GENERIC);
	}
	for (i = 0; i < argc; i++) {
		nv[i] = argv[i];
		if (i == 0 || strncmp(argv[i], "--", 2) != 0)
			continue;
		if (strcmp(argv[i], "--") == 0) {
			for (; i < argc; i++)
				nv[i] = argv[i];
			break;
		}
		if (strcmp(argv[i], "--help") == 0)
			nv[i] = "-h";
		else if (strcmp(argv[i], "--version") == 0)
			nv[i] = "-V";
		else if (strcmp(argv[i], "--max-redirs") == 0)
			nv[i] = "-m";
		else if (strncmp(argv[i], "--max-redirs=", 13) == 0) {
			snprintf(mbuf, sizeof(mbuf), "-m%s", argv[i] + 13);
			nv[i] = mbuf;
		} else {
			fprintf(stderr, "httpget: unknown option %s\n", argv[i]);
			usage(stderr, EX_USAGE);
		}
	}
	return nv;
}

/*
 * Return 1 when s holds a control character other than HTAB, which a
 * field value may not contain (RFC 9110 section 5.5).
 */
static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((*s != '\t' && (unsigned char)*s < 0x20) || *s == 0x7f)
			return 1;
	return 0;
}

/* Return 0 when h is "Name: value" with a token name and a clean value. */
static int
check_header(const char *h)
{
	size_t n = strcspn(h, ":");

	if (n == 0 || h[n] != ':' || has_ctl(h))
		return -1;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789!#$%&'*+-.^_`|~") == n ? 0 : -1;
}

static void
parse_options(int argc, char **argv, struct options *op)
{
	char *end;
	double t;
	int c;

	memset(op, 0, sizeof(*op));
	op->op_maxredirs = 20;
	op->op_timeout = 60000;
	op->op_timeout_arg = "60";
	while ((c = getopt(argc, argv, "A:fH:hIm:o:qT:V")) != -1) {
		switch (c) {
		case 'A':
			if (has_ctl(optarg))
				goto bad;
			op->op_agent = optarg;
			break;
		case 'f':
			op->op_force = 1;
			break;
		case 'H':
			if (check_header(optarg) == -1) {
				fprintf(stderr, "httpget: bad header \"%s\""
				    " (want 'Name: value')\n", optarg);
				exit(EX_USAGE);
			}
			if (op->op_nheaders == MAXHEADERS)
				goto bad;
			op->op_headers[op->op_nheaders++] = optarg;
			break;
		case 'h':
			usage(stdout, EX_OK);
		case 'I':
			op->op_head = 1;
			break;
		case 'm':
			errno = 0;
			op->op_maxredirs = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    op->op_maxredirs < 0 || op->op_maxredirs > 1000000)
				goto bad;
			break;
		case 'o':
			op->op_output = optarg;
			break;
		case 'q':
			op->op_quiet = 1;
			break;
		case 'T':
			t = strtod(optarg, &end);
			if (*end != '\0' || end == optarg || !(t >= 0) ||
			    t > 1e6)
				goto bad;
			/* Round up: -T 0.0001 must not mean "no time at all". */
			op->op_timeout = t == 0 ? -1 :
			    (int64_t)(t * 1000 + 0.999);
			op->op_timeout_arg = optarg;
			break;
		case 'V':
			printf("httpget %s\n", VERSION);
			exit(EX_OK);
		default:
			usage(stderr, EX_USAGE);
		}
	}
	return;
bad:
	fprintf(stderr, "httpget: bad value for -%c: \"%s\"\n", c, optarg);
	exit(EX_USAGE);
}

/* Return 1 when header h ("Name: value") is named name. */
static int
is_header(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/*
 * Return 1 when -H header h is not sent to f's host: as curl does, the
 * credentials and a custom Host given for one host do not follow a
 * redirect to another (host or port).
 */
static int
user_withheld(const struct fetch *f, const char *h)
{
	return f->f_offhost && (is_header(h, "Authorization") ||
	    is_header(h, "Cookie") || is_header(h, "Host"));
}

/* Return 1 when a -H option sent to f's host names the header name. */
static int
user_has(const struct fetch *f, const char *name)
{
	const struct options *op = f->f_opt;
	int i;

	for (i = 0; i < op->op_nheaders; i++)
		if (is_header(op->op_headers[i], name) &&
		    !user_withheld(f, op->op_headers[i]))
			return 1;
	return 0;
}

/*
 * Write the request into buf.  A -H header replaces the default of the
 * same name, and one with an empty value ("Accept:") removes it, as in
 * curl.  Return its length, or -1 when it does not fit.
 */
static int
build_request(const struct fetch *f, char *buf, size_t len)
{
	const struct options *op = f->f_opt;
	size_t o;
	int i, n;
	const char *h, *v;

	n = snprintf(buf, len, "%s %s HTTP/1.1\r\n", op->op_head ? "HEAD" :
	    "GET", f->f_url.u_target);
	if (!user_has(f, "Host"))
		n += snprintf(buf + n, len - (size_t)n, "Host: %s\r\n",
		    f->f_url.u_hosthdr);
	if (!user_has(f, "User-Agent") && (size_t)n < len) {
		if (op->op_agent != NULL)
			n += snprintf(buf + n, len - (size_t)n,
			    "User-Agent: %s\r\n", op->op_agent);
		else
			n += snprintf(buf + n, len - (size_t)n,
			    "User-Agent: httpget/%s\r\n", VERSION);
	}
	if (!user_has(f, "Accept") && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "Accept: */*\r\n");
	if (!user_has(f, "Connection") && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "Connection: close\r\n");
	for (i = 0; i < op->op_nheaders && (size_t)n < len; i++) {
		h = op->op_headers[i];
		for (v = strchr(h, ':') + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (*v == '\0' || user_withheld(f, h))
			continue;
		n += snprintf(buf + n, len - (size_t)n, "%s\r\n", h);
	}
	if ((size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "\r\n");
	o = (size_t)n;
	return o >= len ? -1 : n;
}

/* The handler only records the signal (STYLE rule 16). */
static void
on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Once a temporary file exists, INT, TERM, HUP and QUIT must remove it
 * before the process dies.  They interrupt poll() and write() (no
 * SA_RESTART); the read loop, or out_write()'s caller, does the cleanup.
 */
static void
catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* A signal ignored at startup (nohup, "&") stays ignored. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		(void)sigaction(sigs[i], &sa, NULL);
	}
}

static void
die_of_signal(struct fetch *f)
{
	int sig = got_signal;

	if (f->f_outopen)
		out_abort(&f->f_out);
	prog_end(&f->f_pr);
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/*
 * Start saving a 2xx body: pick the file, refuse to replace an existing
 * one unless allowed, create the temporary file.
 */
static int
body_start(struct fetch *f)
{
	const struct options *op = f->f_opt;
	char name[URL_MAX];
	const char *path = op->op_output;
	struct http_parser *hp = &f->f_hp;

	if (path == NULL) {
		url_filename(&f->f_url, name, sizeof(name));
		path = name;
	}
	if (out_open(&f->f_out, path, op->op_force || op->op_output != NULL,
	    f->f_err, sizeof(f->f_err)) == -1) {
		fail(f->f_name, f->f_err);
		return EX_FILEIO;
	}
	f->f_outopen = 1;
	f->f_out.o_intr = &got_signal;
	catch_signals();
	prog_start(&f->f_pr, !op->op_quiet && isatty(STDERR_FILENO),
	    hp->hp_framing == HTTP_FR_LENGTH ? (int64_t)hp->hp_length : -1);
	return FETCH_MORE;
}

/* Print one header line; remember why the first failed write failed. */
static void
hdr_write(struct fetch *f, const char *line, size_t len)
{
	if (f->f_hdr == NULL)
		return;
	if ((fwrite(line, 1, len, f->f_hdr) != len ||
	    fputc('\n', f->f_hdr) == EOF) && f->f_hdrerr == 0)
		f->f_hdrerr = errno;
}

/*
 * Flush the header block.  A full disk or a closed pipe is a file error
 * (exit 3), never a silent success.  Return 0, or -1 once reported.
 */
static int
hdr_check(struct fetch *f)
{
	char what[64];

	if (f->f_hdr == NULL)
		return 0;
	if (fflush(f->f_hdr) == EOF && f->f_hdrerr == 0)
		f->f_hdrerr = errno;
	if (f->f_hdrerr == 0 && !ferror(f->f_hdr))
		return 0;
	snprintf(what, sizeof(what), "write to standard %s",
	    f->f_hdr == stdout ? "output" : "error");
	fail(what, strerror(f->f_hdrerr != 0 ? f->f_hdrerr : EIO));
	f->f_hdr = NULL;
	return -1;
}

/*
 * The end of a header block: go on reading for an interim response or
 * a 2xx body; stop for a redirect or an error status.
 */
static int
head_end(struct fetch *f)
{
	int code = f->f_hp.hp_code;

	hdr_write(f, "", 0);
	if (hdr_check(f) == -1)
		return EX_FILEIO;
	if (code < 200)
		return FETCH_MORE;
	if (code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308) {
		if (f->f_hasloc)
			return FETCH_REDIRECT;
		snprintf(f->f_err, sizeof(f->f_err), "%s without Location",
		    f->f_status);
		fail(f->f_name, f->f_err);
		return EX_SERVER;
	}
	if (code >= 300) {
		fail(f->f_name, f->f_status);
		return EX_SERVER;
	}
	if (f->f_opt->op_head)
		return FETCH_MORE;
	return body_start(f);
}

/* The response is complete: put the file in place. */
static int
finish(struct fetch *f)
{
	prog_end(&f->f_pr);
	if (!f->f_outopen)
		return EX_OK;
	f->f_outopen = 0;
	if (out_commit(&f->f_out, f->f_err, sizeof(f->f_err)) == -1) {
		fail(f->f_name, f->f_err);
		return EX_FILEIO;
	}
	return EX_OK;
}

static int
error_event(struct fetch *f)
{
	fail(f->f_name, f->f_hp.hp_err);
	return f->f_hp.hp_errkind == HTTP_ERR_CLOSED ? EX_NETWORK :
	    EX_PROTOCOL;
}

/* Act on one parser event.  Return FETCH_MORE or how the fetch ends. */
static int
handle_event(struct fetch *f, const struct http_event *ev)
{
	switch (ev->he_type) {
	case HTTP_EV_STATUS:
		f->f_hasloc = 0;
		snprintf(f->f_status, sizeof(f->f_status), "%.*s",
		    ev->he_len > 9 ? (int)(ev->he_len - 9) : 0, ev->he_data + 9);
		/* FALLTHROUGH */
	case HTTP_EV_HEADER:
		hdr_write(f, ev->he_data, ev->he_len);
		if (ev->he_type == HTTP_EV_HEADER && !f->f_hasloc &&
		    ev->he_namelen == 8 &&
		    strncasecmp(ev->he_name, "Location", 8) == 0) {
			memcpy(f->f_location, ev->he_value, ev->he_valuelen);
			f->f_location[ev->he_valuelen] = '\0';
			f->f_hasloc = 1;
		}
		return FETCH_MORE;
	case HTTP_EV_HEAD_END:
		return head_end(f);
	case HTTP_EV_BODY:
		if (out_write(&f->f_out, ev->he_data, ev->he_len, f->f_err,
		    sizeof(f->f_err)) == -1) {
			if (got_signal)
				die_of_signal(f);
			fail(f->f_name, f->f_err);
			return EX_FILEIO;
		}
		prog_update(&f->f_pr, ev->he_len);
		return FETCH_MORE;
	case HTTP_EV_END:
		return finish(f);
	case HTTP_EV_ERROR:
		return error_event(f);
	default:
		return FETCH_MORE;
	}
}

/*
 * Read the response and feed the parser until it ends.  Each wait for
 * data is bounded by the timeout, so a stalled server is an error, not a
 * hang.  Return the exit status, or FETCH_REDIRECT.
 */
static int
fetch_read(struct fetch *f)
{
	struct http_event ev;
	struct pollfd pfd;
	ssize_t n;
	size_t off, used;
	int rc;

	pfd.fd = f->f_fd;
	pfd.events = POLLIN;
	for (;;) {
		if (got_signal)
			die_of_signal(f);
		n = read(f->f_fd, f->f_buf, sizeof(f->f_buf));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = poll(&pfd, 1, io_timeout(io_deadline(
			    f->f_opt->op_timeout)));
			if (rc == 0) {
				snprintf(f->f_err, sizeof(f->f_err), "timed out "
				    "waiting for data (-T %s)",
				    f->f_opt->op_timeout_arg);
				fail(f->f_name, f->f_err);
				return EX_NETWORK;
			}
			if (rc < 0 && errno != EINTR) {
				fail(f->f_name, strerror(errno));
				return EX_NETWORK;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(f->f_err, sizeof(f->f_err), "read: %s",
			    strerror(errno));
			fail(f->f_name, f->f_err);
			return EX_NETWORK;
		}
		if (n == 0) {
			http_eof(&f->f_hp, &ev);
			rc = handle_event(f, &ev);
			return rc == FETCH_MORE ? EX_GENERIC : rc;
		}
		for (off = 0;;) {
			used = http_feed(&f->f_hp, f->f_buf + off,
			    (size_t)n - off, &ev);
			off += used;
			if ((rc = handle_event(f, &ev)) != FETCH_MORE)
				return rc;
			if (ev.he_type == HTTP_EV_NONE)
				break;
		}
	}
}

/*
 * One request and its response.  Return the exit status, or
 * FETCH_REDIRECT with the target in f_location.
 */
static int
fetch_once(struct fetch *f)
{
	const struct options *op = f->f_opt;
	char req[REQMAX];
	int len, rc;

	url_fmt(&f->f_url, f->f_name, sizeof(f->f_name));
	if ((len = build_request(f, req, sizeof(req))) == -1) {
		fail(f->f_name, "request header too long");
		return EX_GENERIC;
	}
	f->f_fd = net_connect(f->f_url.u_host, f->f_url.u_port, AF_UNSPEC,
	    io_deadline(op->op_timeout), f->f_err, sizeof(f->f_err));
	if (f->f_fd == -1) {
		fail(f->f_name, f->f_err);
		return EX_NETWORK;
	}
	if (io_write_all(f->f_fd, req, (size_t)len,
	    io_deadline(op->op_timeout), NULL) == -1) {
		snprintf(f->f_err, sizeof(f->f_err), "send request: %s",
		    strerror(errno));
		fail(f->f_name, f->f_err);
		close(f->f_fd);
		return EX_NETWORK;
	}
	http_init(&f->f_hp, op->op_head);
	rc = fetch_read(f);
	if (f->f_outopen) {
		prog_end(&f->f_pr);
		out_abort(&f->f_out);
		f->f_outopen = 0;
	}
	close(f->f_fd);
	f->f_fd = -1;
	return rc;
}

/*
 * Move f to the URL its Location names.  Return FETCH_MORE, or the exit
 * status when the redirect cannot be followed.
 */
static int
follow(struct fetch *f, long *redirs)
{
	char next[HTTP_LINEMAX + URL_MAX + URL_HOSTMAX + 32];
	struct url u;
	int rc;

	if (*redirs >= f->f_opt->op_maxredirs) {
		snprintf(f->f_err, sizeof(f->f_err), "%ld redirections exceeded",
		    f->f_opt->op_maxredirs);
		fail(f->f_name, f->f_err);
		return EX_SERVER;
	}
	(*redirs)++;
	if (url_resolve(&f->f_url, f->f_location, next, sizeof(next)) == -1 ||
	    (rc = url_parse(next, &u, f->f_err, sizeof(f->f_err))) == -1) {
		snprintf(f->f_err, sizeof(f->f_err), "bad Location \"%.200s\"",
		    f->f_location);
		fail(f->f_name, f->f_err);
		return EX_PROTOCOL;
	}
	if (rc == -2) {
		fail(next, f->f_err);
		return EX_GENERIC;
	}
	f->f_url = u;
	/* Credentials and a custom Host are meant for the first host only. */
	f->f_offhost = strcmp(u.u_host, f->f_first.u_host) != 0 ||
	    strcmp(u.u_port, f->f_first.u_port) != 0;
	return FETCH_MORE;
}

/*
 * Open /dev/null on any of descriptors 0, 1 and 2 that is closed, before
 * any socket exists: otherwise the socket could become standard output
 * and the header blocks would be sent to the server.
 */
static void
std_fds(void)
{
	int fd;

	do {
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			_exit(EX_GENERIC);
	} while (fd <= STDERR_FILENO);
	(void)close(fd);
}

int
main(int argc, char *argv[])
{
	struct options op;
	struct fetch *f = &fetch;
	long redirs = 0;
	int rc;

	std_fds();
	(void)signal(SIGPIPE, SIG_IGN);
	argv = long_options(argc, argv);
	parse_options(argc, argv, &op);
	if (optind != argc - 1)
		usage(stderr, EX_USAGE);
	f->f_opt = &op;
	f->f_fd = -1;
	if ((rc = url_parse(argv[optind], &f->f_url, f->f_err,
	    sizeof(f->f_err))) != 0) {
		fail(argv[optind], f->f_err);
		free(argv);
		return rc == -2 ? EX_GENERIC : EX_USAGE;
	}
	f->f_first = f->f_url;
	if (!op.op_quiet)
		f->f_hdr = op.op_output != NULL &&
		    strcmp(op.op_output, "-") == 0 ? stderr : stdout;
	while ((rc = fetch_once(f)) == FETCH_REDIRECT)
		if ((rc = follow(f, &redirs)) != FETCH_MORE)
			break;
	free(argv);
	if (fflush(stdout) == EOF && rc == EX_OK) {
		fail("write to standard output", strerror(errno));
		rc = EX_FILEIO;
	}
	return rc;
}
