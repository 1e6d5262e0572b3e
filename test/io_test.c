/*
 * io_test.c: drive io_write_all() through short writes, EINTR, a
 * deadline and a closed peer, and check the deadline arithmetic.
 *
 * usage: io_test pipe|pipe-block bytes
 *	  io_test timeout ms
 *	  io_test closed
 *	  io_test deadline
 *
 * "pipe" writes bytes of a counting pattern into a nonblocking pipe
 * that a child drains slowly, in reads of odd sizes, while an interval
 * timer fires SIGALRM every millisecond into a handler installed
 * without SA_RESTART.  "pipe-block" does the same with a blocking pipe,
 * so that write() itself comes back short or with EINTR.  The child
 * checks every byte and its order.  "timeout" writes into a pipe
 * nobody reads, under the same timer, and expects ETIMEDOUT no sooner
 * than the deadline.  "closed" expects EPIPE.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

#define LATE_MS		5000	/* a deadline overshot by this much is a bug */
#define SAFETY_S	60	/* nothing here may run longer than this */
#define WRITE_MS	30000	/* deadline for the draining tests */

static volatile sig_atomic_t ticks;

static _Noreturn void usage(void);
static _Noreturn void die(const char *);
static void	on_alarm(int);
static void	timer_on(void);
static void	timer_off(void);
static unsigned char pattern(size_t);
static int	drain(int, size_t);
static int	test_pipe(size_t, int);
static int	test_timeout(long);
static int	test_closed(void);
static int	test_deadline(void);

static void
usage(void)
{
	fprintf(stderr, "usage: io_test pipe|pipe-block bytes | timeout ms | "
	    "closed | deadline\n");
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "io_test: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

/* SIGALRM every millisecond, interrupting rather than restarting calls. */
static void
timer_on(void)
{
	struct sigaction sa;
	struct itimerval it;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		die("sigaction");
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = 1000;
	it.it_value = it.it_interval;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		die("setitimer");
}

static void
timer_off(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		die("setitimer");
}

/* A pattern that does not repeat at any power-of-two pipe size. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i % 251 + i / 251);
}

/*
 * The slow reader: read fd to EOF in reads of 1 to 8191 bytes with a
 * pause after each, and check length and order.  Return 0 when all
 * want bytes came in order.
 */
static int
drain(int fd, size_t want)
{
	static unsigned char buf[8192];
	size_t got = 0, size = 1, i;
	ssize_t n;
	struct timespec pause = { 0, 200000 };

	for (;;) {
		size = (size * 37 + 11) % (sizeof(buf) - 1) + 1;
		n = read(fd, buf, size);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("read");
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != pattern(got + i)) {
				printf("reader: byte %zu is wrong\n", got + i);
				return 1;
			}
		}
		got += (size_t)n;
		nanosleep(&pause, NULL);
	}
	if (got != want) {
		printf("reader: got %zu of %zu bytes\n", got, want);
		return 1;
	}
	printf("reader: %zu bytes in order\n", got);
	return 0;
}

static int
test_pipe(size_t len, int block)
{
	unsigned char *buf;
	size_t i, done = 0;
	ssize_t n;
	int p[2], status, rc = 0;
	pid_t pid;

	if ((buf = malloc(len)) == NULL)
		die("malloc");
	for (i = 0; i < len; i++)
		buf[i] = pattern(i);
	if (pipe(p) == -1)
		die("pipe");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		close(p[1]);
		alarm(SAFETY_S);
		rc = drain(p[0], len);
		fflush(stdout);
		_exit(rc);
	}
	close(p[0]);
	if (!block && io_nonblock(p[1], 1) == -1)
		die("io_nonblock");
	timer_on();
	n = io_write_all(p[1], buf, len, io_deadline(WRITE_MS), &done);
	timer_off();
	if (n == -1) {
		printf("writer: %s after %zu bytes\n", strerror(errno), done);
		rc = 1;
	} else if ((size_t)n != len || done != len) {
		printf("writer: returned %zd, done %zu of %zu\n", n, done, len);
		rc = 1;
	} else
		printf("writer: %zu bytes\n", done);
	printf("writer: %s\n", ticks > 0 ? "interrupted" : "never interrupted");
	fflush(stdout);
	close(p[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = 1;
	free(buf);
	return rc;
}

static int
test_timeout(long ms)
{
	static char buf[1 << 20];
	size_t done = 0;
	int64_t start, took;
	ssize_t n;
	int p[2], saved;

	if (pipe(p) == -1)
		die("pipe");
	if (io_nonblock(p[1], 1) == -1)
		die("io_nonblock");
	timer_on();
	start = io_now();
	n = io_write_all(p[1], buf, sizeof(buf), io_deadline(ms), &done);
	saved = errno;
	took = io_now() - start;
	timer_off();
	if (n != -1) {
		printf("io_write_all returned %zd\n", n);
		return 1;
	}
	printf("io_write_all: %s\n", strerror(saved));
	printf("%s\n", done > 0 && done < sizeof(buf) ?
	    "partial count reported" : "bad partial count");
	if (took < ms || took > ms + LATE_MS) {
		printf("took %lld ms, deadline %ld ms\n", (long long)took, ms);
		return 1;
	}
	close(p[0]);
	close(p[1]);
	return 0;
}

static int
test_closed(void)
{
	size_t done = 1;
	int p[2];

	signal(SIGPIPE, SIG_IGN);
	if (pipe(p) == -1)
		die("pipe");
	close(p[0]);
	if (io_write_all(p[1], "x", 1, io_deadline(1000), &done) != -1) {
		printf("io_write_all succeeded\n");
		return 1;
	}
	printf("io_write_all: %s, done %zu\n", strerror(errno), done);
	close(p[1]);
	return 0;
}

static int
test_deadline(void)
{
	int64_t now = io_now();

	printf("io_deadline(-1) %s\n",
	    io_deadline(-1) == IO_NEVER ? "is IO_NEVER" : "is wrong");
	printf("io_timeout(IO_NEVER) %d\n", io_timeout(IO_NEVER));
	printf("io_timeout(past) %d\n", io_timeout(now - 1000));
	printf("io_timeout(far) %s\n", io_timeout(now + ((int64_t)1 << 40)) ==
	    INT_MAX ? "INT_MAX" : "wrong");
	printf("io_timeout(10 s) %s\n", io_timeout(io_deadline(10000)) > 9000 &&
	    io_timeout(io_deadline(10000)) <= 10000 ? "about 10000" : "wrong");
	return 0;
}

int
main(int argc, char *argv[])
{
	alarm(SAFETY_S);
	if (argc == 3 && strcmp(argv[1], "pipe") == 0)
		return test_pipe((size_t)atol(argv[2]), 0);
	if (argc == 3 && strcmp(argv[1], "pipe-block") == 0)
		return test_pipe((size_t)atol(argv[2]), 1);
	if (argc == 3 && strcmp(argv[1], "timeout") == 0)
		return test_timeout(atol(argv[2]));
	if (argc == 2 && strcmp(argv[1], "closed") == 0)
		return test_closed();
	if (argc == 2 && strcmp(argv[1], "deadline") == 0)
		return test_deadline();
	usage();
	/* NOTREACHED */
	return 2;
}
