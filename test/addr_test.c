/*
 * addr_test.c: drive address parsing and printing, connect and listen.
 *
 * usage: addr_test parse string
 *	  addr_test fmt address port
 *	  addr_test connect host port
 *	  addr_test refused
 *	  addr_test loop host
 *	  addr_test busy host
 *
 * "parse" prints the host and port addr_parse() found and the address
 * addr_fmt_hp() prints back.  "fmt" prints a numeric IPv4 or IPv6
 * address through addr_fmt().  "connect" tries net_connect().
 * "refused" binds 127.0.0.1 on a kernel-chosen port without listening,
 * so that a connect there is refused for certain, and connects to it.
 * "loop" listens with net_listen() on host, port 0, connects to that
 * port, accepts, and passes a byte.  "busy" listens on host, port 0,
 * and listens there again.  The kernel-chosen port, where there is
 * one, comes first on standard output; errors go to standard error as
 * one line, "addr_test: reason", with exit status 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "net.h"

#define WAIT_MS		5000	/* bound on every connect and accept */

static _Noreturn void usage(void);
static int	fail(const char *);
static _Noreturn void die(const char *);
static int	local_port(int, char *, size_t);
static int	do_parse(const char *);
static int	do_fmt(const char *, const char *);
static int	do_connect(const char *, const char *);
static int	do_refused(void);
static int	do_loop(const char *);
static int	do_busy(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: addr_test parse string | fmt address port | "
	    "connect host port | refused | loop host | busy host\n");
	exit(2);
}

static int
fail(const char *msg)
{
	fprintf(stderr, "addr_test: %s\n", msg);
	return 1;
}

static void
die(const char *what)
{
	fprintf(stderr, "addr_test: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Put the port fd is bound to, in decimal, in buf. */
static int
local_port(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char where[ADDR_STRMAX], *colon;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		die("getsockname");
	if (addr_fmt((struct sockaddr *)&ss, sl, where, sizeof(where)) == -1 ||
	    (colon = strrchr(where, ':')) == NULL) {
		errno = EINVAL;
		die("addr_fmt");
	}
	snprintf(buf, len, "%s", colon + 1);
	return 0;
}

static int
do_parse(const char *s)
{
	struct hostport hp;
	char err[256], back[ADDR_STRMAX];

	if (addr_parse(s, &hp, err, sizeof(err)) == -1)
		return fail(err);
	addr_fmt_hp(&hp, back, sizeof(back));
	printf("host \"%s\" port \"%s\" prints as %s\n", hp.hp_host,
	    hp.hp_port, back);
	return 0;
}

static int
do_fmt(const char *host, const char *port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char buf[ADDR_STRMAX];
	int rc;

	if (strchr(host, ':') != NULL) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
			return fail("bad IPv6 address");
		rc = addr_fmt((struct sockaddr *)&sin6, sizeof(sin6), buf,
		    sizeof(buf));
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return fail("bad IPv4 address");
		rc = addr_fmt((struct sockaddr *)&sin, sizeof(sin), buf,
		    sizeof(buf));
	}
	if (rc == -1)
		return fail("addr_fmt failed");
	printf("%s\n", buf);
	return 0;
}

static int
do_connect(const char *host, const char *port)
{
	char err[512];
	int fd;

	if ((fd = net_connect(host, port, AF_UNSPEC, io_deadline(WAIT_MS),
	    err, sizeof(err))) == -1)
		return fail(err);
	printf("connected\n");
	close(fd);
	return 0;
}

static int
do_refused(void)
{
	struct sockaddr_in sin;
	char port[ADDR_PORTMAX];
	int fd, rc;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind");
	local_port(fd, port, sizeof(port));
	printf("%s\n", port);
	fflush(stdout);
	rc = do_connect("127.0.0.1", port);
	close(fd);
	return rc;
}

/*
 * Listen on host, connect there, accept, and send one byte each way.
 * Print the port, then where the client got to and where the server
 * saw it come from (host only: the client's port is the kernel's).
 */
static int
do_loop(const char *host)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char err[512], port[ADDR_PORTMAX], where[ADDR_STRMAX], c = 'x';
	int lfd, cfd, afd;

	if ((lfd = net_listen(host, "0", 16, err, sizeof(err))) == -1)
		return fail(err);
	local_port(lfd, port, sizeof(port));
	printf("%s\n", port);
	if ((cfd = net_connect(host, port, AF_UNSPEC, io_deadline(WAIT_MS),
	    err, sizeof(err))) == -1)
		return fail(err);
	if (getpeername(cfd, (struct sockaddr *)&ss, &sl) == -1)
		die("getpeername");
	addr_fmt((struct sockaddr *)&ss, sl, where, sizeof(where));
	printf("connected to %s\n", where);
	if (io_wait(lfd, POLLIN, io_deadline(WAIT_MS)) != 1)
		die("wait for accept");
	sl = sizeof(ss);
	if ((afd = net_accept(lfd, (struct sockaddr *)&ss, &sl, 1)) == -1)
		die("net_accept");
	addr_fmt((struct sockaddr *)&ss, sl, where, sizeof(where));
	*strrchr(where, ':') = '\0';
	printf("accepted from %s\n", where);
	if (io_write_all(cfd, &c, 1, io_deadline(WAIT_MS), NULL) == -1)
		die("write");
	c = '\0';
	if (io_wait(afd, POLLIN, io_deadline(WAIT_MS)) != 1 ||
	    read(afd, &c, 1) != 1 || c != 'x')
		return fail("the byte did not arrive");
	printf("byte passed\n");
	close(afd);
	close(cfd);
	close(lfd);
	return 0;
}

static int
do_busy(const char *host)
{
	char err[512], port[ADDR_PORTMAX];
	int lfd, fd;

	if ((lfd = net_listen(host, "0", 16, err, sizeof(err))) == -1)
		return fail(err);
	local_port(lfd, port, sizeof(port));
	printf("%s\n", port);
	fflush(stdout);
	if ((fd = net_listen(host, port, 16, err, sizeof(err))) != -1) {
		close(fd);
		close(lfd);
		printf("listened twice\n");
		return 0;
	}
	close(lfd);
	return fail(err);
}

int
main(int argc, char *argv[])
{
	alarm(30);
	if (argc == 3 && strcmp(argv[1], "parse") == 0)
		return do_parse(argv[2]);
	if (argc == 4 && strcmp(argv[1], "fmt") == 0)
		return do_fmt(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "connect") == 0)
		return do_connect(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "refused") == 0)
		return do_refused();
	if (argc == 3 && strcmp(argv[1], "loop") == 0)
		return do_loop(argv[2]);
	if (argc == 3 && strcmp(argv[1], "busy") == 0)
		return do_busy(argv[2]);
	usage();
	/* NOTREACHED */
	return 2;
}
