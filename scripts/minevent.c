/*
 * minevent: the minimal event-driven hello server that scripts/bench-event
 * measures hellod's event workers against, as scripts/minprefork.c is for
 * its pre-forked ones.  Each process runs one epoll loop over its own
 * SO_REUSEPORT listening socket (so the kernel spreads connections over
 * the processes, as nginx's "reuseport" does): it accepts, sends the
 * greeting, answers each line "hello, X!" and closes on "exit", EOF or a
 * line over 1024 bytes.  Nothing else: no timeout, log, configuration or
 * output buffering (a client that does not read its answers, so that a
 * write would block, is closed).  It is the floor: the protocol's system
 * calls and one epoll_wait() for however many sessions are ready.
 *
 * usage: minevent PORT [PROCESSES]
 *
 * It listens on 127.0.0.1:PORT with PROCESSES processes (default 1), each
 * a child of the first, and stops, children and all, on TERM or INT.
 * Linux only.  Build: cc -O2 -o minevent scripts/minevent.c
 */
#define _GNU_SOURCE		/* accept4(), SO_REUSEPORT, prctl() */

#include <sys/epoll.h>
#include <sys/prctl.h>
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
#define EVENTS		256

/* One session: the unfinished line read so far. */
struct conn {
	size_t	len;
	char	buf[LINE_MAX_LEN + 2];
};

/* Write all of buf at once or fail: the socket is non-blocking. */
static int
send_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Answer the complete lines of in[0..n) after c's unfinished one, in one
 * write; keep the new unfinished rest in c.  Return 1 when the session
 * must end ("exit", a line too long, a write that would block), else 0.
 */
static int
answer(int fd, struct conn *c, const char *in, size_t n)
{
	static char out[64 * 1024];
	size_t olen = 0, l, take;
	const char *nl;
	int end = 0;

	while (n > 0 && !end) {
		nl = memchr(in, '\n', n);
		take = nl != NULL ? (size_t)(nl - in) : n;
		if (c->len + take > LINE_MAX_LEN + 1)
			return 1;
		memcpy(c->buf + c->len, in, take);
		c->len += take;
		if (nl == NULL)
			break;
		in += take + 1;
		n -= take + 1;
		l = c->len;
		c->len = 0;
		if (l > 0 && c->buf[l - 1] == '\r')
			l--;
		if (l > LINE_MAX_LEN || (l == 4 && memcmp(c->buf, "exit", 4) == 0))
			end = 1;
		else {
			if (olen + l + 9 > sizeof(out)) {
				if (send_all(fd, out, olen) == -1)
					return 1;
				olen = 0;
			}
			memcpy(out + olen, "hello, ", 7);
			memcpy(out + olen + 7, c->buf, l);
			memcpy(out + olen + 7 + l, "!\n", 2);
			olen += l + 9;
		}
	}
	if (olen > 0 && send_all(fd, out, olen) == -1)
		return 1;
	return end;
}

static void
drop(struct conn **conns, int fd)
{
	free(conns[fd]);
	conns[fd] = NULL;
	close(fd);
}

/* Take every waiting connection: greet it and watch it. */
static void
take(int ep, int lfd, struct conn **conns, int nconns)
{
	struct epoll_event ev;
	int fd, on = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (fd >= nconns ||
		    (conns[fd] = calloc(1, sizeof(struct conn))) == NULL) {
			close(fd);
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (send_all(fd, "welcome!\n", 9) == -1 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			drop(conns, fd);
	}
}

static void
serve(int lfd, int nconns)
{
	static char in[64 * 1024];
	struct epoll_event ev, evs[EVENTS];
	struct conn **conns;
	int ep, i, n, fd;
	ssize_t r;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		exit(1);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		exit(1);
	for (;;) {
		if ((n = epoll_wait(ep, evs, EVENTS, -1)) == -1)
			continue;
		for (i = 0; i < n; i++) {
			if ((fd = evs[i].data.fd) == lfd) {
				take(ep, lfd, conns, nconns);
				continue;
			}
			do
				r = read(fd, in, sizeof(in));
			while (r == -1 && errno == EINTR);
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r <= 0 || answer(fd, conns[fd], in, (size_t)r))
				drop(conns, fd);
		}
	}
}

/* A non-blocking SO_REUSEPORT socket listening on 127.0.0.1:port. */
static int
listener(int port)
{
	struct sockaddr_in sin;
	int fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		perror("minevent: listen");
		exit(1);
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	sigset_t set;
	pid_t *pids;
	int *lfds, i, n, port, sig, nconns;

	if (argc < 2 || argc > 3 || (port = atoi(argv[1])) < 1 ||
	    (n = argc == 3 ? atoi(argv[2]) : 1) < 1) {
		fprintf(stderr, "usage: minevent PORT [PROCESSES]\n");
		return 2;
	}
	/* Every socket bound before the first fork: no connection is lost
	 * to a socket that nobody serves yet. */
	if ((lfds = calloc((size_t)n, sizeof(*lfds))) == NULL ||
	    (pids = calloc((size_t)n, sizeof(*pids))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		lfds[i] = listener(port);
	nconns = (int)sysconf(_SC_OPEN_MAX);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++)
		if ((pids[i] = fork()) == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			serve(lfds[i], nconns);
		}
	for (i = 0; i < n; i++)
		close(lfds[i]);
	sigwait(&set, &sig);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
