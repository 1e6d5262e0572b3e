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
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "net.h"

#define NET_ADDRMAX	16	/* addresses of one name tried at the most */

/*
 * What a lookup found, as plain data with no pointers, so that a child
 * process can do the lookup and send it whole through a pipe.
 */
struct net_found {
	int32_t			 nf_gai;	/* getaddrinfo()'s result */
	int32_t			 nf_errno;	/* errno, for EAI_SYSTEM */
	int32_t			 nf_n;
	struct {
		int32_t		 family;
		int32_t		 socktype;
		int32_t		 protocol;
		uint32_t	 len;
		struct sockaddr_storage addr;
	}			 nf_addr[NET_ADDRMAX];
};

static void	net_lookup(const char *, const char *, int, int,
		    struct net_found *);
static int	net_lookup_child(const char *, const char *, int, int64_t,
		    struct net_found *);
static int	net_resolve(const char *, const char *, int, int64_t,
		    struct net_found *, char *, size_t);
static int	net_try_connect(const struct net_found *, int, int64_t);

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
 * Start a nonblocking connect to address i of nf and wait for it until
 * the deadline.  Return the socket, or -1 with errno set.
 */
static int
net_try_connect(const struct net_found *nf, int i, int64_t deadline)
{
	int fd, err, saved;
	socklen_t len = sizeof(err);

	if ((fd = net_socket(nf->nf_addr[i].family, nf->nf_addr[i].socktype,
	    nf->nf_addr[i].protocol)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)&nf->nf_addr[i].addr,
	    (socklen_t)nf->nf_addr[i].len) == 0)
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
 * getaddrinfo() for a TCP connection to host and port, numeric hosts
 * only when numeric is set, with the answer copied into nf.
 */
static void
net_lookup(const char *host, const char *port, int family, int numeric,
    struct net_found *nf)
{
	struct addrinfo hints, *res, *ai;

	memset(nf, 0, sizeof(*nf));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
	if ((nf->nf_gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		nf->nf_errno = errno;
		return;
	}
	for (ai = res; ai != NULL && nf->nf_n < NET_ADDRMAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(nf->nf_addr[0].addr))
			continue;
		nf->nf_addr[nf->nf_n].family = ai->ai_family;
		nf->nf_addr[nf->nf_n].socktype = ai->ai_socktype;
		nf->nf_addr[nf->nf_n].protocol = ai->ai_protocol;
		nf->nf_addr[nf->nf_n].len = (uint32_t)ai->ai_addrlen;
		memcpy(&nf->nf_addr[nf->nf_n].addr, ai->ai_addr, ai->ai_addrlen);
		nf->nf_n++;
	}
	freeaddrinfo(res);
}

/*
 * getaddrinfo() cannot be interrupted or given a deadline, so a name is
 * looked up in a child process that sends its answer through a pipe; at
 * the deadline the child is killed.  Return 0 with nf filled, or -1 with
 * errno (ETIMEDOUT at the deadline).
 */
static int
net_lookup_child(const char *host, const char *port, int family,
    int64_t deadline, struct net_found *nf)
{
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], rc = -1, saved = 0, st;

	if (pipe(p) == -1)
		return -1;
	if (io_cloexec(p[0]) == -1 || io_cloexec(p[1]) == -1 ||
	    (pid = fork()) == -1) {
		saved = errno;
		goto out;
	}
	if (pid == 0) {
		/* _exit(): the parent's stdio buffers are not ours. */
		net_lookup(host, port, family, 0, nf);
		_exit(io_write_all(p[1], nf, sizeof(*nf), IO_NEVER, NULL) ==
		    -1 ? 1 : 0);
	}
	close(p[1]);
	p[1] = -1;
	while (got < sizeof(*nf)) {
		if ((st = io_wait(p[0], POLLIN, deadline)) <= 0) {
			saved = st == 0 ? ETIMEDOUT : errno;
			break;
		}
		n = read(p[0], (char *)nf + got, sizeof(*nf) - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n == 0 ? EIO : errno;
			break;
		}
		got += (size_t)n;
	}
	if (got < sizeof(*nf))
		(void)kill(pid, SIGKILL);
	else
		rc = 0;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
out:
	close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	errno = saved;
	return rc;
}

/*
 * Look host up for a TCP connection to port, within the deadline: an
 * address literal at once, a name in a child process when there is a
 * deadline (see net_lookup_child()).  Return 0 with at least one address
 * in nf, or -1 with a one-line reason in err and errno set (ETIMEDOUT
 * when the deadline passed).
 */
static int
net_resolve(const char *host, const char *port, int family, int64_t deadline,
    struct net_found *nf, char *err, size_t errlen)
{
	net_lookup(host, port, family, 1, nf);
	if (nf->nf_gai == EAI_NONAME && deadline == IO_NEVER)
		net_lookup(host, port, family, 0, nf);
	else if (nf->nf_gai == EAI_NONAME &&
	    net_lookup_child(host, port, family, deadline, nf) == -1) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", host,
		    errno == ETIMEDOUT ? "timed out" : strerror(errno));
		return -1;
	}
	if (nf->nf_gai != 0 || nf->nf_n == 0) {
		snprintf(err, errlen, "cannot resolve \"%s\": %s", host,
		    nf->nf_gai == 0 ? "no address" : nf->nf_gai == EAI_SYSTEM ?
		    strerror(nf->nf_errno) : gai_strerror(nf->nf_gai));
		errno = EHOSTUNREACH;
		return -1;
	}
	return 0;
}

/*
 * Resolve host and port and connect to each address in turn until one
 * answers or the deadline passes: the deadline bounds the name lookup
 * and every connect together.  family is AF_UNSPEC, AF_INET or
 * AF_INET6.  Return a nonblocking, close-on-exec socket, or -1 with a
 * one-line reason in err naming the host and the last real error, which
 * is also left in errno (ETIMEDOUT when the deadline passed).
 */
int
net_connect(const char *host, const char *port, int family, int64_t deadline,
    char *err, size_t errlen)
{
	struct net_found nf;
	int fd = -1, i, saved = ECONNREFUSED;

	if (net_resolve(host, port, family, deadline, &nf, err, errlen) == -1)
		return -1;
	for (i = 0; i < nf.nf_n; i++) {
		if ((fd = net_try_connect(&nf, i, deadline)) != -1)
			break;
		saved = errno;
		if (saved == ETIMEDOUT)
			break;
	}
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
 * Accept a connection as a close-on-exec socket with TCP_NODELAY (on
 * Linux it comes from the listener, which must have it: accepted sockets
 * inherit it there), nonblocking when asked.  Return it, or -1 with
 * errno set (EAGAIN when another worker took the connection first).
 */
int
net_accept(int lfd, struct sockaddr *sa, socklen_t *salen, int nonblock)
{
	int fd;

#if defined(__linux__)
	do
		fd = accept4(lfd, sa, salen, SOCK_CLOEXEC |
		    (nonblock ? SOCK_NONBLOCK : 0));
	while (fd == -1 && errno == EINTR);
#else
	int on = 1;

	do
		fd = accept(lfd, sa, salen);
	while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	if (io_cloexec(fd) == -1 || io_nonblock(fd, nonblock) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
#endif
	return fd;
}
