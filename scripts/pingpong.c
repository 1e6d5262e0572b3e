/*
 * pingpong: a load generator for the hello protocol, and the minimal
 * reference server it is compared against.
 *
 *   pingpong client PORT CONNS SECONDS   replies per second over CONNS
 *                                        connections, each one message
 *                                        in flight (request/answer)
 *   pingpong serve PORT WORKERS          a pre-forked server that does
 *                                        nothing but the protocol's bytes:
 *                                        the floor hellod is measured
 *                                        against
 */
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
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dial(int port)
{
	struct sockaddr_in sin;
	int fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		perror("pingpong: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fd;
}

/* Read until a '\n' ends the buffer; return -1 on EOF or error. */
static int
read_line(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	do {
		n = read(fd, buf + got, cap - got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	} while (buf[got - 1] != '\n' && got < cap);
	return 0;
}

static long
one_client(int port, double seconds)
{
	char buf[256];
	double end;
	long replies = 0;
	int fd = dial(port);

	if (read_line(fd, buf, sizeof(buf)) == -1)
		return -1;
	end = now() + seconds;
	while (now() < end) {
		if (write(fd, "michael\n", 8) != 8 ||
		    read_line(fd, buf, sizeof(buf)) == -1)
			return -1;
		replies++;
	}
	(void)write(fd, "exit\n", 5);
	close(fd);
	return replies;
}

static int
client(int port, int conns, double seconds)
{
	int p[2], i, status;
	long total = 0, r;

	if (pipe(p) == -1)
		return 1;
	for (i = 0; i < conns; i++) {
		if (fork() == 0) {
			close(p[0]);
			r = one_client(port, seconds);
			(void)write(p[1], &r, sizeof(r));
			_exit(r < 0);
		}
	}
	close(p[1]);
	while (read(p[0], &r, sizeof(r)) == sizeof(r)) {
		if (r < 0) {
			fprintf(stderr, "pingpong: a connection failed\n");
			return 1;
		}
		total += r;
	}
	while (wait(&status) > 0)
		;
	printf("%.0f\n", total / seconds);
	return 0;
}

static void
serve_one(int fd)
{
	static const char answer[] = "hello, michael!\n";
	char buf[1024];
	ssize_t n;

	(void)write(fd, "welcome!\n", 9);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (n == 5 && memcmp(buf, "exit\n", 5) == 0)
			break;
		if (write(fd, answer, sizeof(answer) - 1) < 0)
			break;
	}
	close(fd);
}

static int
serve(int port, int workers)
{
	struct sockaddr_in sin;
	int lfd, fd, on = 1, i;
	sigset_t set;
	pid_t *pids;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 511) == -1) {
		perror("pingpong: listen");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((pids = calloc((size_t)workers, sizeof(*pids))) == NULL)
		return 1;
	for (i = 0; i < workers; i++)
		if ((pids[i] = fork()) == 0)
			for (;;)
				if ((fd = accept(lfd, NULL, NULL)) != -1) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &on, sizeof(on));
					serve_one(fd);
				}
	/* Stopped by TERM or INT, like hellod: take the workers along. */
	sigwait(&set, &i);
	for (i = 0; i < workers; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 5 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: pingpong client PORT CONNS SECONDS\n"
	    "       pingpong serve PORT WORKERS\n");
	return 2;
}
