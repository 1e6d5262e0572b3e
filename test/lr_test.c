/*
 * lr_test.c: drive the line reader from a scripted writer and print
 * every status it returns, one a line, in a form a test can compare.
 *
 * usage: lr_test [-c] [-l ms] [-t ms] max [step ...]
 *
 * A child process plays the peer on one end of a socketpair and runs
 * the steps in order; the parent reads the other end with lr_read()
 * (or lr_chunk() with -c) into a buffer of exactly max + 2 bytes, the
 * tightest the reader allows, so that compaction is exercised.  Steps:
 *
 *	w:DATA	write DATA in one write()
 *	b:DATA	write DATA a byte at a time, 5 ms apart
 *	s:MS	sleep MS milliseconds
 *	a:N	wait until the reader has returned N more results
 *	wake	make the reader's wake descriptor readable
 *	hold	keep the connection open until the reader closes it
 *
 * DATA understands \n, \r, \0, \\ and \xNN.  Without hold, the writer
 * closes after the last step, so the reader sees EOF.  Each call's
 * deadline is -t milliseconds away (default 5000); -l gives each line
 * that many milliseconds from its first byte (lr_linems).  Output:
 *
 *	LINE len bytes		PARTIAL len bytes	EOF
 *	TOOLONG			TIMEOUT			WAKE
 *	ERROR reason
 *
 * with bytes outside printable ASCII (and the backslash) as \xNN.  The
 * reader stops after any status but LINE and PARTIAL.  A timeout that
 * comes before its deadline, or absurdly late, is reported as such.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "linereader.h"

#define LATE_MS		5000	/* a timeout this late past its deadline is a bug */
#define SAFETY_S	30	/* nothing here may run longer than this */

static _Noreturn void usage(void);
static _Noreturn void die(const char *);
static void	msleep(long);
static size_t	unescape(const char *, char *);
static void	put_bytes(const char *, const char *, size_t);
static void	writer(int, int, int, char **, int);
static int	reader(int, int, int, int, size_t, int64_t, int64_t);

static void
usage(void)
{
	fprintf(stderr, "usage: lr_test [-c] [-l ms] [-t ms] max [step ...]\n");
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "lr_test: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
msleep(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Decode the escapes of s into out, which must hold strlen(s) bytes. */
static size_t
unescape(const char *s, char *out)
{
	size_t n = 0;
	unsigned int v;

	while (*s != '\0') {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case '0':
			out[n++] = '\0';
			break;
		case 'x':
			if (sscanf(s + 1, "%2x", &v) != 1) {
				fprintf(stderr, "lr_test: bad \\x escape\n");
				exit(2);
			}
			out[n++] = (char)v;
			s += 2;
			break;
		default:
			out[n++] = *s;
			break;
		}
		s++;
	}
	return n;
}

static void
put_bytes(const char *tag, const char *p, size_t len)
{
	size_t i;
	unsigned char c;

	printf("%s %zu", tag, len);
	if (len > 0)
		putchar(' ');
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	putchar('\n');
}

/*
 * The peer: run the steps against fd.  ack delivers one byte for each
 * result the reader returned; wake is the reader's wake descriptor.
 */
static void
writer(int fd, int ack, int wake, char **step, int nstep)
{
	char *buf, c;
	size_t n, i;
	long want;
	int k;

	signal(SIGPIPE, SIG_IGN);
	alarm(SAFETY_S);
	for (k = 0; k < nstep; k++) {
		const char *s = step[k];

		if ((buf = malloc(strlen(s) + 1)) == NULL)
			die("malloc");
		if (strncmp(s, "w:", 2) == 0) {
			n = unescape(s + 2, buf);
			if (io_write_all(fd, buf, n, IO_NEVER, NULL) == -1)
				_exit(errno == EPIPE ? 0 : 3);
		} else if (strncmp(s, "b:", 2) == 0) {
			n = unescape(s + 2, buf);
			for (i = 0; i < n; i++) {
				if (write(fd, buf + i, 1) != 1)
					_exit(errno == EPIPE ? 0 : 3);
				msleep(5);
			}
		} else if (strncmp(s, "s:", 2) == 0) {
			msleep(atol(s + 2));
		} else if (strncmp(s, "a:", 2) == 0) {
			for (want = atol(s + 2); want > 0; want--)
				if (read(ack, &c, 1) != 1)
					_exit(0);
		} else if (strcmp(s, "wake") == 0) {
			if (write(wake, "w", 1) != 1)
				_exit(errno == EPIPE ? 0 : 3);
		} else if (strcmp(s, "hold") == 0) {
			while (read(fd, &c, 1) > 0)
				;
		} else {
			fprintf(stderr, "lr_test: bad step \"%s\"\n", s);
			_exit(2);
		}
		free(buf);
	}
	_exit(0);
}

/*
 * Read from fd until a final status, printing each.  Return 0, or 1
 * when a timeout came at the wrong time.
 */
static int
reader(int fd, int ack, int wake, int chunk, size_t max, int64_t ms,
    int64_t linems)
{
	struct linereader lr;
	const char *line;
	size_t len;
	int64_t start, took;
	char *buf;
	int st;

	if ((buf = malloc(max + 2)) == NULL)
		die("malloc");
	if (lr_init(&lr, fd, buf, max + 2, max) == -1)
		die("lr_init");
	lr.lr_wake[0] = wake;
	lr.lr_linems = linems;
	for (;;) {
		start = io_now();
		if (chunk)
			st = lr_chunk(&lr, io_deadline(ms), &line, &len);
		else
			st = lr_read(&lr, io_deadline(ms), &line, &len);
		took = io_now() - start;
		switch (st) {
		case LR_LINE:
			put_bytes("LINE", line, len);
			break;
		case LR_PARTIAL:
			put_bytes("PARTIAL", line, len);
			break;
		case LR_EOF:
			printf("EOF\n");
			break;
		case LR_TOOLONG:
			printf("TOOLONG\n");
			break;
		case LR_TIMEOUT:
			/* A line's own deadline may come first. */
			if ((linems == 0 && took < ms) || took > ms + LATE_MS) {
				printf("TIMEOUT after %lld ms, deadline %lld ms\n",
				    (long long)took, (long long)ms);
				return 1;
			}
			printf("TIMEOUT\n");
			break;
		case LR_WAKE:
			printf("WAKE\n");
			break;
		default:
			printf("ERROR %s\n", strerror(errno));
			break;
		}
		fflush(stdout);
		if (st != LR_LINE && st != LR_PARTIAL)
			break;
		/* The writer may be gone already; then nobody waits. */
		if (write(ack, "a", 1) == -1 && errno != EPIPE)
			die("write ack");
	}
	free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	int sv[2], ackp[2], wakep[2], ch, chunk = 0, status, rc;
	long max = 0;
	int64_t ms = 5000, linems = 0;
	pid_t pid;

	while ((ch = getopt(argc, argv, "cl:t:")) != -1) {
		switch (ch) {
		case 'c':
			chunk = 1;
			break;
		case 'l':
			linems = atol(optarg);
			break;
		case 't':
			ms = atol(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (max = atol(argv[0])) <= 0)
		usage();
	alarm(SAFETY_S);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		die("socketpair");
	if (pipe(ackp) == -1 || pipe(wakep) == -1)
		die("pipe");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		close(ackp[1]);
		close(wakep[0]);
		writer(sv[1], ackp[0], wakep[1], argv + 1, argc - 1);
	}
	/*
	 * Keep the wake pipe's write end open here too: when the writer
	 * exits, a hang-up would otherwise wake the reader.
	 */
	close(sv[1]);
	close(ackp[0]);
	rc = reader(sv[0], ackp[1], wakep[0], chunk, (size_t)max, ms, linems);
	close(sv[0]);
	close(ackp[1]);
	close(wakep[0]);
	close(wakep[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "lr_test: writer failed (status %d)\n", status);
		rc = 1;
	}
	return rc;
}
