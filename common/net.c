/*
 * net.c: TCP sockets: resolve and connect with a deadline, listen,
 * accept.  Every descriptor returned is close-on-exec.
 */
#if defined(__linux__)
#define _GNU_SOURCE		/* accept4() */
#endif
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "net.h"

static int	net_try_connect(const struct addrinfo *, int64_t);

/*
 * socket() that is close-on-exec and nonblocking from birth where the
 * system allows, and by fcntl() right after where it does not.  Return
 * the descriptor, or -1 with errno set.
 */
int
net_socket(int family, int type, int protocol)
{
	int fd, saved;

#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
	if (fd != -1 || errno != EINVAL)
		return fd;
#endif
	if ((fd = socket(family, type, protocol)) == -1)
		return -1;
	if (io_cloexec(fd) == -1 || io_nonblock(fd, 1) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Start a nonblocking connect to one address and wait for it until the
 * deadline.  Return the socket, or -1 with errno set.
 */
static int
net_try_connect(const struct addrinfo *ai, int64_t deadline)
{
	int fd, err, saved;
	socklen_t len = sizeof(err);

	if ((fd = net_socket(ai->ai_family, ai->ai_socktype,
	    ai->ai_protocol)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	switch (io_wait(fd, POLLOUT, deadline)) {
	case 1:
		break;
	case 0:
		errno = ETIMEDOUT;
		/* FALLTHROUGH */
	default:
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		goto fail;
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Resolve host and port and connect to each address in turn until one
 * answers or the deadline passes.  family is AF_UNSPEC, AF_INET or
 * AF_INET6.  Return a nonblocking, close-on-exec socket, or -1 with a
 * one-line reason in err naming the host and the last real error, which
 * is also left in errno (ETIMEDOUT when the deadline passed).
 */
int
net_connect(const char *host, const char *port, int family, int64_t deadline,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = net_try_connect(ai, deadline)) != -1)
			break;
		saved = errno;
		if (saved == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(err, errlen, "connect to %s port %s: %s", host, port,
		    strerror(saved));
		errno = saved;
	} else {
		int on = 1;

		/* A line protocol sends small writes that must not wait. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	return fd;
}

/*
 * Bind and listen on host:port ("" or NULL host: every IPv4 address, as
 * nginx reads "*").  The socket is nonblocking and close-on-exec, with
 * SO_REUSEADDR so a restart does not wait out TIME_WAIT, and an IPv6
 * socket is IPv6-only so "*:p" and "[::]:p" can both be bound.  Return
 * it, or -1 with a one-line reason in err.
 */
int
net_listen(const char *host, const char *port, int backlog, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char where[ADDR_STRMAX];
	int fd = -1, rc, on = 1, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = (host == NULL || *host == '\0') ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host != NULL && *host == '\0')
		host = NULL;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s",
		    host ? host : "*",
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	snprintf(where, sizeof(where), "%s:%s", host ? host : "*", port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		addr_fmt(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
		if ((fd = net_socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "cannot listen on %s: %s", where,
		    strerror(saved));
	return fd;
}

/*
 * Accept a connection as a nonblocking, close-on-exec socket with
 * TCP_NODELAY.  Return it, or -1 with errno set (EAGAIN when another
 * worker took the connection first).
 */
int
net_accept(int lfd, struct sockaddr *sa, socklen_t *salen)
{
	int fd, on = 1;

#if defined(__linux__)
	do
		fd = accept4(lfd, sa, salen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
#else
	do
		fd = accept(lfd, sa, salen);
	while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	if (io_cloexec(fd) == -1 || io_nonblock(fd, 1) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
#endif
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fd;
}
