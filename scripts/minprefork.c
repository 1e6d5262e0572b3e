/*
 * minprefork: the minimal pre-forked hello server that
 * scripts/bench-sessions measures hellod against.  The master binds and
 * forks W workers; each blocks in accept(), sends the greeting, answers
 * each line "hello, X!", and closes on "exit" or EOF.  Nothing else: no
 * configuration, log, timeout, scoreboard or respawn.  It is the floor,
 * the cost of the protocol's system calls (accept, write, read, write,
 * read, close for one session) and of the kernel's wake-ups.
 *
 * usage: minprefork PORT WORKERS
 *
 * It listens on 127.0.0.1:PORT and stops, workers and all, on TERM or
 * INT.  Build: cc -O2 -o minprefork scripts/minprefork.c
 */
#if defined(__linux__)
#define _GNU_SOURCE		/* prctl() */
#include <sys/prctl.h>
#endif
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN	1024

/* Write all of buf; return -1 on any error. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Answer every complete line in buf[0..*len); keep the unfinished rest
 * at the start of buf.  Return 1 when the session must end ("exit", a
 * line too long or a failed write), else 0.
 */
static int
answer_lines(int fd, char *buf, size_t *len)
{
	static char out[4 * (LINE_MAX_LEN + 16)];
	size_t start = 0, olen = 0, l;
	char *nl;

	while ((nl = memchr(buf + start, '\n', *len - start)) != NULL) {
		l = (size_t)(nl - (buf + start));
		if (l > 0 && buf[start + l - 1] == '\r')
			l--;
		if (l > LINE_MAX_LEN ||
		    (l == 4 && memcmp(buf + start, "exit", 4) == 0)) {
			/* The answers to the lines before it still go out. */
			(void)write_all(fd, out, olen);
			return 1;
		}
		if (olen + l + 10 > sizeof(out)) {
			if (write_all(fd, out, olen) == -1)
				return 1;
			olen = 0;
		}
		memcpy(out + olen, "hello, ", 7);
		memcpy(out + olen + 7, buf + start, l);
		memcpy(out + olen + 7 + l, "!\n", 2);
		olen += l + 9;
		start = (size_t)(nl - buf) + 1;
	}
	if (olen > 0 && write_all(fd, out, olen) == -1)
		return 1;
	memmove(buf, buf + start, *len - start);
	*len -= start;
	return *len > LINE_MAX_LEN + 1;
}

static void
session(int fd)
{
	static char buf[2 * LINE_MAX_LEN + 4];
	size_t len = 0;
	ssize_t n;

	if (write_all(fd, "welcome!\n", 9) == -1)
		return;
	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		if (answer_lines(fd, buf, &len))
			return;
	}
}

static void
worker(int lfd)
{
	int fd, on = 1;

#if defined(__linux__)
	/* Leave with the master, even after its kill -9. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		session(fd);
		close(fd);
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	sigset_t set;
	pid_t *pids;
	int lfd, on = 1, i, n, sig;

	if (argc != 3 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: minprefork PORT WORKERS\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 511) == -1) {
		perror("minprefork: listen");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* TERM and INT wait for the master's sigwait(); workers die of them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if ((pids[i] = fork()) == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			worker(lfd);
		}
	}
	sigwait(&set, &sig);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
