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

#include "esc.h"
#include "io.h"
#include "net.h"
#include "num.h"
#include "opt.h"
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
	int		 op_binary;	/* --binary */
	int		 op_trust_names; /* --trust-server-names */
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
	int		 f_hdrtty;	/* ... a terminal: shown escaped */
	int		 f_esc;		/* esc_locale(): text the user can read */
	int		 f_hdrerr;	/* errno of the first failed write */
	int		 f_offhost;	/* f_url is not on the first host */
	struct url	 f_first;	/* the URL on the command line */
	struct http_parser f_hp;
	char		 f_status[128];	/* "404 Not Found" */
	char		 f_location[HTTP_LINEMAX + 1];
	int		 f_hasloc;
	char		 f_ctype[128];	/* Content-Type, cut, or "" */
	int		 f_sniff;	/* refuse a NUL or a control on the way
					   to a tty */
	int		 f_c2;		/* the last body byte was 0xc2 */
	struct output	 f_out;
	int		 f_outopen;
	struct progress	 f_pr;
	char		 f_err[512];
	char		 f_buf[BUFSIZE];
};

static volatile sig_atomic_t got_signal;
static struct fetch fetch;

static _Noreturn void usage(void);
static _Noreturn void usage_error(const char *);
static void	fail(const char *, const char *);
static void	add_header(struct options *, const char *);
static long	parse_redirs(const char *);
static int64_t	parse_timeout(const char *);
static void	set_option(struct options *, int, const struct opt *);
static const char *parse_options(int, char **, struct options *);
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
static int	text_type(const char *);
static int	binary_guard(struct fetch *);
static int	body_sniff(struct fetch *, const char *, size_t);
static int	finish(struct fetch *);
static int	error_event(struct fetch *);
static int	follow(struct fetch *, long *);
static void	on_signal(int);
static void	catch_signals(void);
static void	die_of_signal(struct fetch *);
static void	std_fds(void);


#define SYNOPSIS \
	"usage: httpget [-fhIqV] [--binary] [--trust-server-names] [-A agent]\n" \
	"               [-H header] [-m max-redirs] [-o file] [-T seconds] URL\n"

/* Long options with no letter of their own. */
#define OPT_BINARY	256
#define OPT_TRUST	257

static const struct opt_long longopts[] = {
	{ "binary",		OPT_NOARG,	OPT_BINARY },
	{ "help",		OPT_NOARG,	'h' },
	{ "max-redirs",		OPT_ARG,	'm' },
	{ "trust-server-names",	OPT_NOARG,	OPT_TRUST },
	{ "version",		OPT_NOARG,	'V' },
	{ NULL,			0,		0 }
};

/* -h, --help: the whole help on standard output. */
static _Noreturn void
usage(void)
{
	printf(SYNOPSIS
	    "  -A agent        User-Agent (default httpget/%s)\n"
	    "  --binary        with -o -, write a binary body to a terminal"
	    " too\n"
	    "  -f              overwrite an existing file\n"
	    "  -H 'Name: value'  add a request header (repeatable)\n"
	    "  -h, --help      print this help and exit\n"
	    "  -I              send HEAD; print the headers, save nothing\n"
	    "  -m, --max-redirs N  follow at most N redirects (default 20,"
	    " 0: none)\n"
	    "  -o file         save the body to file (- for standard output)\n"
	    "  -q              print no headers and no progress\n"
	    "  -T seconds      lookup, connect, send and read timeout"
	    " (default 60, 0: none)\n"
	    "  --trust-server-names  name the file after the last redirect's"
	    " URL\n"
	    "  -V, --version   print the version and exit\n"
	    "The file is named after the URL as typed (index.html for /).\n"
	    "Options may follow the URL; -- ends them.\n"
	    "Exit status: 0 ok, 1 generic, 2 usage, 3 file I/O, 4 network,\n"
	    "7 protocol error, 8 server error response.\n", VERSION);
	exit(EX_OK);
}

/* A usage error: why, the synopsis, and where the help is. */
static _Noreturn void
usage_error(const char *why)
{
	fprintf(stderr, "httpget: %s\n" SYNOPSIS
	    "Try 'httpget -h' for more information.\n", why);
	exit(EX_USAGE);
}

/*
 * Print "httpget: what: why" on standard error, on a line of its own:
 * erase the progress bar first.  Both may quote what a server sent (a
 * status line, a Location, a redirect's URL): its control characters
 * and bytes that are not text in the user's locale come out as \xHH,
 * as curl shows them, so that a server cannot drive the terminal.
 */
static void
fail(const char *what, const char *why)
{
	static char w[4 * sizeof(fetch.f_name) + 1];
	static char y[4 * sizeof(fetch.f_err) + 1];

	prog_end(&fetch.f_pr);
	fflush(stdout);
	(void)esc_bytes(w, sizeof(w), what, strlen(what), fetch.f_esc);
	(void)esc_bytes(y, sizeof(y), why, strlen(why), fetch.f_esc);
	fprintf(stderr, "httpget: %s: %s\n", w, y);
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

/* -H: one more request header, checked. */
static void
add_header(struct options *op, const char *h)
{
	char err[300];

	if (check_header(h) == -1) {
		snprintf(err, sizeof(err), "bad header \"%.200s\""
		    " (want 'Name: value')", h);
		usage_error(err);
	}
	if (op->op_nheaders == MAXHEADERS)
		usage_error("more than 64 -H options");
	op->op_headers[op->op_nheaders++] = h;
}

/* -m: the most redirects to follow. */
static long
parse_redirs(const char *arg)
{
	char err[300];
	long long v;
	int rc;

	if ((rc = num_parse(arg, 0, 1000000, &v)) != NUM_OK) {
		num_error(err, sizeof(err), rc, "-m", arg, 0, 1000000);
		usage_error(err);
	}
	return (long)v;
}

/* -T: seconds, maybe fractional, into milliseconds; 0 is -1, no limit. */
static int64_t
parse_timeout(const char *arg)
{
	char err[300], *end;
	double t;

	t = strtod(arg, &end);
	if (*end != '\0' || end == arg || !(t >= 0) || t > 1e6) {
		snprintf(err, sizeof(err), "-T: bad value \"%.200s\": "
		    "expected 0 to 1000000 seconds", arg);
		usage_error(err);
	}
	/* Round up: -T 0.0001 must not mean "no time at all". */
	return t == 0 ? -1 : (int64_t)(t * 1000 + 0.999);
}

/* One option, c as opt_next() returned it, into op. */
static void
set_option(struct options *op, int c, const struct opt *o)
{
	switch (c) {
	case 'A':
		if (has_ctl(o->o_arg))
			usage_error("-A: control character in the User-Agent");
		op->op_agent = o->o_arg;
		break;
	case OPT_BINARY:
		op->op_binary = 1;
		break;
	case 'f':
		op->op_force = 1;
		break;
	case 'H':
		add_header(op, o->o_arg);
		break;
	case 'h':
		usage();
	case 'I':
		op->op_head = 1;
		break;
	case 'm':
		op->op_maxredirs = parse_redirs(o->o_arg);
		break;
	case 'o':
		op->op_output = o->o_arg;
		break;
	case 'q':
		op->op_quiet = 1;
		break;
	case 'T':
		op->op_timeout = parse_timeout(o->o_arg);
		op->op_timeout_arg = o->o_arg;
		break;
	case OPT_TRUST:
		op->op_trust_names = 1;
		break;
	case 'V':
		printf("httpget %s\n", VERSION);
		exit(EX_OK);
	default:
		usage_error(o->o_err);
	}
}

/*
 * Read the options, anywhere on the command line, into op; return the
 * URL.  Every mistake is a usage error (exit 2).
 */
static const char *
parse_options(int argc, char **argv, struct options *op)
{
	char err[300];
	struct opt o;
	int c;

	memset(op, 0, sizeof(*op));
	op->op_maxredirs = 20;
	op->op_timeout = 60000;
	op->op_timeout_arg = "60";
	opt_init(&o, argc, argv);
	while ((c = opt_next(&o, "A:fH:hIm:o:qT:V", longopts)) != -1)
		set_option(op, c, &o);
	if (o.o_nargs == 0)
		usage_error("missing URL");
	if (o.o_nargs > 1) {
		snprintf(err, sizeof(err), "unexpected argument \"%.200s\"",
		    o.o_args[1]);
		usage_error(err);
	}
	return o.o_args[0];
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
 * Return 1 when the media type t is text a terminal can show: any text
 * type,
 * JSON, XML, JavaScript, and any "+json" or "+xml" type.
 */
static int
text_type(const char *t)
{
	static const char *const texts[] = {
		"application/json", "application/xml", "application/javascript",
		"application/ecmascript"
	};
	size_t n = strcspn(t, "; \t"), i;

	if (strncasecmp(t, "text/", 5) == 0)
		return 1;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (n == strlen(texts[i]) && strncasecmp(t, texts[i], n) == 0)
			return 1;
	return (n > 5 && strncasecmp(t + n - 5, "+json", 5) == 0) ||
	    (n > 4 && strncasecmp(t + n - 4, "+xml", 4) == 0);
}

/*
 * With -o - on a terminal, as curl does, refuse a body that is not text
 * unless --binary asks for it: a declared non-text type now, or a NUL
 * byte or a control sequence when it comes (body_sniff()).  Return 0,
 * or -1 once reported.
 */
static int
binary_guard(struct fetch *f)
{
	if (f->f_opt->op_binary || !f->f_out.o_stdout ||
	    !isatty(STDOUT_FILENO))
		return 0;
	f->f_sniff = 1;
	f->f_c2 = 0;
	if (f->f_ctype[0] == '\0' || text_type(f->f_ctype))
		return 0;
	snprintf(f->f_err, sizeof(f->f_err), "not writing a binary body (%s) "
	    "to a terminal (--binary writes it anyway)", f->f_ctype);
	fail(f->f_name, f->f_err);
	return -1;
}

/*
 * A body on its way to a terminal: refuse a NUL byte (binary), and a
 * control character other than tab, newline, carriage return and form
 * feed, or a C1 control in UTF-8: text that holds them is a sequence
 * that drives the terminal (clears it, sets its title, writes the
 * clipboard), which --binary alone lets through.  Return 0, or -1 once
 * reported.
 */
static int
body_sniff(struct fetch *f, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\0') {
			fail(f->f_name, "not writing a binary body to a "
			    "terminal (--binary writes it anyway)");
			return -1;
		}
		if ((p[i] < 0x20 && strchr("\t\n\r\f", p[i]) == NULL) ||
		    p[i] == 0x7f || (f->f_c2 && p[i] >= 0x80 && p[i] <= 0x9f)) {
			fail(f->f_name, "not writing a body with control "
			    "characters to a terminal (--binary writes it "
			    "anyway)");
			return -1;
		}
		f->f_c2 = p[i] == 0xc2;
	}
	return 0;
}

/*
 * Start saving a 2xx body: pick the file, refuse to replace an existing
 * one unless allowed, create the temporary file.  The name comes from
 * the URL as typed, never from a redirect unless --trust-server-names.
 */
static int
body_start(struct fetch *f)
{
	const struct options *op = f->f_opt;
	char name[URL_MAX];
	const char *path = op->op_output;
	struct http_parser *hp = &f->f_hp;

	f->f_sniff = 0;
	if (path == NULL) {
		url_filename(op->op_trust_names ? &f->f_url : &f->f_first,
		    name, sizeof(name));
		path = name;
	}
	if (out_open(&f->f_out, path, op->op_force || op->op_output != NULL,
	    f->f_err, sizeof(f->f_err)) == -1) {
		fail(f->f_name, f->f_err);
		return EX_FILEIO;
	}
	f->f_outopen = 1;
	if (binary_guard(f) == -1)
		return EX_FILEIO;
	if (!op->op_quiet && !f->f_out.o_stdout) {
		/* With --trust-server-names, a server chose the name. */
		(void)esc_bytes(name, sizeof(name), path, strlen(path),
		    f->f_esc);
		fprintf(stderr, "Saving to '%s'\n", name);
	}
	f->f_out.o_intr = &got_signal;
	catch_signals();
	prog_start(&f->f_pr, !op->op_quiet && isatty(STDERR_FILENO),
	    hp->hp_framing == HTTP_FR_LENGTH ? (int64_t)hp->hp_length : -1);
	return FETCH_MORE;
}

/*
 * Print one header line; remember why the first failed write failed.
 * On a terminal, what the parser lets through but a terminal obeys
 * (DEL, C1 controls, bytes that are not text) is shown as \xHH, as
 * hello does; elsewhere the line goes as it came.
 */
static void
hdr_write(struct fetch *f, const char *line, size_t len)
{
	char buf[1024];
	size_t n;
	int ok = 1;

	if (f->f_hdr == NULL)
		return;
	if (!f->f_hdrtty)
		ok = fwrite(line, 1, len, f->f_hdr) == len;
	for (n = 0; f->f_hdrtty && ok && len > 0; line += n, len -= n) {
		n = esc_bytes(buf, sizeof(buf), line, len, ESC_TEXT | f->f_esc);
		ok = fputs(buf, f->f_hdr) != EOF;
	}
	if ((!ok || fputc('\n', f->f_hdr) == EOF) && f->f_hdrerr == 0)
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
	char name[sizeof(f->f_out.o_final) * 4];

	prog_end(&f->f_pr);
	if (!f->f_outopen)
		return EX_OK;
	f->f_outopen = 0;
	if (out_commit(&f->f_out, f->f_err, sizeof(f->f_err)) == -1) {
		fail(f->f_name, f->f_err);
		return EX_FILEIO;
	}
	if (!f->f_opt->op_quiet && !f->f_out.o_stdout) {
		/* The name as "Saving to" gave it: escaped. */
		(void)esc_bytes(name, sizeof(name), f->f_out.o_final,
		    strlen(f->f_out.o_final), f->f_esc);
		prog_summary(&f->f_pr, name);
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
		f->f_ctype[0] = '\0';
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
		if (ev->he_type == HTTP_EV_HEADER && f->f_ctype[0] == '\0' &&
		    ev->he_namelen == 12 &&
		    strncasecmp(ev->he_name, "Content-Type", 12) == 0)
			snprintf(f->f_ctype, sizeof(f->f_ctype), "%.*s",
			    (int)ev->he_valuelen, ev->he_value);
		return FETCH_MORE;
	case HTTP_EV_HEAD_END:
		return head_end(f);
	case HTTP_EV_BODY:
		if (f->f_sniff && body_sniff(f, ev->he_data, ev->he_len) == -1)
			return EX_FILEIO;
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
		(void)esc_bytes(next, 4 * HTTP_QUOTE + 1, f->f_location,
		    strnlen(f->f_location, HTTP_QUOTE), ESC_QUOTED);
		snprintf(f->f_err, sizeof(f->f_err), "bad Location \"%.*s\"",
		    4 * HTTP_QUOTE, next);
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
	const char *url;
	long redirs = 0;
	int rc;

	std_fds();
	(void)signal(SIGPIPE, SIG_IGN);
	f->f_esc = esc_locale();
	url = parse_options(argc, argv, &op);
	f->f_opt = &op;
	f->f_fd = -1;
	if ((rc = url_parse(url, &f->f_url, f->f_err,
	    sizeof(f->f_err))) != 0) {
		fail(url, f->f_err);
		return rc == -2 ? EX_GENERIC : EX_USAGE;
	}
	f->f_first = f->f_url;
	if (!op.op_quiet)
		f->f_hdr = op.op_output != NULL &&
		    strcmp(op.op_output, "-") == 0 ? stderr : stdout;
	f->f_hdrtty = f->f_hdr != NULL && isatty(fileno(f->f_hdr));
	while ((rc = fetch_once(f)) == FETCH_REDIRECT)
		if ((rc = follow(f, &redirs)) != FETCH_MORE)
			break;
	if (fflush(stdout) == EOF && rc == EX_OK) {
		fail("write to standard output", strerror(errno));
		rc = EX_FILEIO;
	}
	return rc;
}
