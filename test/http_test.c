/*
 * http_test.c: drive httpget's response parser and URL code from bats.
 *
 *   http_test parse [-H] [-k] [-s N]  < response
 *	feed standard input to the parser N bytes at a time (default: all
 *	at once) and print one line per event; -H parses as for HEAD; -k
 *	means the connection stays open (no EOF is reported at the end).
 *   http_test url URL
 *	print the parts of URL and its local file name.
 *   http_test resolve BASE REF
 *	print REF resolved against BASE.
 *   http_test maxrss CMD [ARG...]
 *	run CMD with its output discarded and print its peak resident set
 *	size in KiB.  A small C parent matters: the child's peak includes
 *	what it held before exec(), which for a python or shell parent
 *	would hide the command's own figure.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpget.h"

#define INMAX	(4 * 1024 * 1024)

static const char *framing[] = { "none", "length", "chunked", "close" };

static char in[INMAX];
static char body[INMAX];
static size_t bodylen;

static int	event(struct http_parser *, const struct http_event *);
static int	do_parse(int, char **);
static int	do_url(const char *);
static int	do_resolve(const char *, const char *);
static int	do_maxrss(char **);

/* Print ev; return 1 once the parser is finished. */
static int
event(struct http_parser *p, const struct http_event *ev)
{
	switch (ev->he_type) {
	case HTTP_EV_STATUS:
		printf("status %.*s\n", (int)ev->he_len, ev->he_data);
		break;
	case HTTP_EV_HEADER:
		printf("header %.*s|%.*s\n", (int)ev->he_namelen, ev->he_name,
		    (int)ev->he_valuelen, ev->he_value);
		break;
	case HTTP_EV_HEAD_END:
		printf("head-end %d %s\n", p->hp_code, framing[p->hp_framing]);
		break;
	case HTTP_EV_BODY:
		memcpy(body + bodylen, ev->he_data, ev->he_len);
		bodylen += ev->he_len;
		break;
	case HTTP_EV_END:
		printf("body %zu %.*s\nend\n", bodylen, (int)bodylen, body);
		return 1;
	case HTTP_EV_ERROR:
		printf("error %s: %s\n", p->hp_errkind == HTTP_ERR_CLOSED ?
		    "closed" : "proto", p->hp_err);
		return 1;
	}
	return 0;
}

static int
do_parse(int argc, char **argv)
{
	struct http_parser p;
	struct http_event ev;
	size_t len = 0, step = 0, off = 0, piece, used;
	ssize_t n;
	int c, head = 0, keep = 0;

	while ((c = getopt(argc, argv, "Hks:")) != -1) {
		if (c == 'H')
			head = 1;
		else if (c == 'k')
			keep = 1;
		else if (c == 's')
			step = (size_t)atol(optarg);
		else
			return 2;
	}
	while ((n = read(STDIN_FILENO, in + len, sizeof(in) - len)) > 0)
		len += (size_t)n;
	http_init(&p, head);
	for (;;) {
		piece = step == 0 || len - off < step ? len - off : step;
		for (;;) {
			used = http_feed(&p, in + off, piece, &ev);
			off += used;
			piece -= used;
			if (event(&p, &ev))
				return 0;
			if (ev.he_type == HTTP_EV_NONE)
				break;
		}
		if (off == len)
			break;
	}
	if (keep) {
		printf("incomplete\n");
		return 0;
	}
	http_eof(&p, &ev);
	event(&p, &ev);
	return 0;
}

static int
do_url(const char *s)
{
	struct url u;
	char err[256], name[URL_MAX];
	int rc;

	if ((rc = url_parse(s, &u, err, sizeof(err))) != 0) {
		printf("error %d: %s\n", rc, err);
		return 0;
	}
	url_filename(&u, name, sizeof(name));
	printf("host %s\nport %s\nhosthdr %s\ntarget %s\nfile %s\n",
	    u.u_host, u.u_port, u.u_hosthdr, u.u_target, name);
	return 0;
}

static int
do_resolve(const char *base, const char *ref)
{
	struct url b, u;
	char err[256], out[2 * URL_MAX];
	int rc;

	if (url_parse(base, &b, err, sizeof(err)) != 0 ||
	    url_resolve(&b, ref, out, sizeof(out)) == -1) {
		printf("error\n");
		return 0;
	}
	if ((rc = url_parse(out, &u, err, sizeof(err))) != 0) {
		printf("error %d: %s\n", rc, err);
		return 0;
	}
	url_fmt(&u, out, sizeof(out));
	printf("%s\n", out);
	return 0;
}

static int
do_maxrss(char **cmd)
{
	struct rusage ru;
	pid_t pid;
	int status, fd;

	if ((pid = fork()) == -1)
		return 1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%ld\n", (long)ru.ru_maxrss);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 3 && strcmp(argv[1], "maxrss") == 0)
		return do_maxrss(argv + 2);
	if (argc >= 2 && strcmp(argv[1], "parse") == 0)
		return do_parse(argc - 1, argv + 1);
	if (argc == 3 && strcmp(argv[1], "url") == 0)
		return do_url(argv[2]);
	if (argc == 4 && strcmp(argv[1], "resolve") == 0)
		return do_resolve(argv[2], argv[3]);
	fprintf(stderr, "usage: http_test parse [-Hk] [-s N] | url URL | "
	    "resolve BASE REF | maxrss CMD...\n");
	return 2;
}
