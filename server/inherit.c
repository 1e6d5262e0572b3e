/*
 * inherit.c: listening sockets handed to hellod at exec time, by a
 * service manager (systemd socket activation: $LISTEN_FDS descriptors
 * from 3 up, for the process $LISTEN_PID, named by $LISTEN_FDNAMES) or
 * by an old master re-executing the binary, which uses the same three
 * variables.  They are checked once at startup; then on every load of
 * the configuration inherit_apply() matches them to Listen addresses.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

#define INHERIT_FD0	3	/* SD_LISTEN_FDS_START */
#define INHERIT_MAX	(MAX_LISTEN + 1)	/* the Listen sockets, StatusListen */

struct inherited {
	int			 ih_fd;
	struct sockaddr_storage	 ih_addr;
	socklen_t		 ih_len;
	char			 ih_name[64];	/* from LISTEN_FDNAMES, or "" */
	int			 ih_taken;	/* by inherit_take() */
};

static struct inherited	inherited[INHERIT_MAX];
static int		ninherited;
static int		from_upgrade;	/* an old master's, not a manager's */

static int	inherit_check(struct inherited *, char *, size_t);
static int	inherit_same(const struct sockaddr *, socklen_t,
		    const struct inherited *);
static int	inherit_find(const struct hostport *);

/*
 * Is ih a listening TCP socket?  Note its address, make it close-on-exec
 * and nonblocking as our own listeners are.  Its socket timeouts stay as
 * they are, even those the hellod 0.1 that a binary upgrade replaces set
 * (a second): that master's workers, still serving, wake by them.  Ours
 * only pay a kernel timer a line for them (see wake_tick_start()).
 * Return 0, or -1 with err.
 */
static int
inherit_check(struct inherited *ih, char *err, size_t errlen)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);
	const char *why = NULL;

	ih->ih_len = sizeof(ih->ih_addr);
	if (getsockopt(ih->ih_fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		why = errno == ENOTSOCK ? "not a socket" : strerror(errno);
	else if (type != SOCK_STREAM)
		why = "not a stream socket";
	else if (getsockname(ih->ih_fd, (struct sockaddr *)&ih->ih_addr,
	    &ih->ih_len) == -1)
		why = strerror(errno);
	else if (ih->ih_addr.ss_family != AF_INET &&
	    ih->ih_addr.ss_family != AF_INET6)
		why = "not a TCP socket";
	else {
		len = sizeof(listening);
		if (getsockopt(ih->ih_fd, SOL_SOCKET, SO_ACCEPTCONN,
		    &listening, &len) == -1 || !listening)
			why = "not listening";
	}
	if (why == NULL && (io_cloexec(ih->ih_fd) == -1 ||
	    io_nonblock(ih->ih_fd, 1) == -1))
		why = strerror(errno);
	if (why != NULL) {
		snprintf(err, errlen, "inherited descriptor %d%s%s%s is not a "
		    "listening stream socket: %s", ih->ih_fd,
		    ih->ih_name[0] ? " (" : "", ih->ih_name,
		    ih->ih_name[0] ? ")" : "", why);
		return -1;
	}
	return 0;
}

/*
 * Take the sockets that $LISTEN_FDS and $LISTEN_PID hand to this
 * process, and unset the three variables so that nothing started later
 * mistakes them for its own.  Variables meant for another process are
 * ignored.  Return how many, or -1 with err when one is not a listening
 * stream socket (the caller exits 2: a unit that passes the wrong socket
 * is a mistake to report, not to serve around).
 */
int
inherit_init(char *err, size_t errlen)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	const char *names = getenv("LISTEN_FDNAMES"), *p;
	char *end;
	long n;
	size_t len;
	int i;

	if (fds == NULL || pid == NULL)
		return 0;
	errno = 0;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;
	n = strtol(fds, &end, 10);
	if (errno != 0 || end == fds || *end != '\0' || n < 0 ||
	    n > INHERIT_MAX) {
		snprintf(err, errlen, "LISTEN_FDS \"%s\": not a number of "
		    "sockets from 0 to %d", fds, INHERIT_MAX);
		return -1;
	}
	for (i = 0, p = names; i < n; i++) {
		struct inherited *ih = &inherited[i];

		ih->ih_fd = INHERIT_FD0 + i;
		/* LISTEN_FDNAMES is colon-separated, one name per socket. */
		len = p == NULL ? 0 : strcspn(p, ":");
		snprintf(ih->ih_name, sizeof(ih->ih_name), "%.*s",
		    len < sizeof(ih->ih_name) ? (int)len : 0, p ? p : "");
		if (p != NULL)
			p = p[len] == ':' ? p + len + 1 : NULL;
		if (inherit_check(ih, err, errlen) == -1)
			return -1;
	}
	ninherited = (int)n;
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	return ninherited;
}

/* Does sa name the address ih listens on?  Addresses, not spellings. */
static int
inherit_same(const struct sockaddr *sa, socklen_t len,
    const struct inherited *ih)
{
	const struct sockaddr *ia = (const struct sockaddr *)&ih->ih_addr;

	if (sa->sa_family != ia->sa_family)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa, *b = (const void *)ia;

		return len >= sizeof(*a) && a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *a = (const void *)sa, *b = (const void *)ia;

		return len >= sizeof(*a) && a->sin6_port == b->sin6_port &&
		    memcmp(&a->sin6_addr, &b->sin6_addr,
		    sizeof(a->sin6_addr)) == 0 &&
		    a->sin6_scope_id == b->sin6_scope_id;
	}
}

/*
 * The inherited socket listening on an address hp resolves to, as
 * net_listen() resolves it ("*" is every IPv4 address), or -1.
 */
static int
inherit_find(const struct hostport *hp)
{
	struct addrinfo hints, *res, *ai;
	int i, found = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = hp->hp_host[0] == '\0' ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(hp->hp_host[0] == '\0' ? NULL : hp->hp_host,
	    hp->hp_port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && found == -1; ai = ai->ai_next)
		for (i = 0; i < ninherited && found == -1; i++)
			if (!inherited[i].ih_taken &&
			    inherit_same(ai->ai_addr, ai->ai_addrlen,
			    &inherited[i]))
				found = i;
	freeaddrinfo(res);
	return found;
}

/*
 * Match the inherited sockets to cf's Listen addresses: lfd[i] becomes
 * the inherited socket serving cf_listen[i], or -1 for an address left
 * to bind.  Every inherited socket is served: one that no Listen names
 * is added to cf_listen, and when no Listen was configured at all the
 * inherited sockets replace the default 127.0.0.1:9999 rather than join
 * it.  Call it on every load of the configuration; the same sockets come
 * back each time, so they stay open across restarts.  Return 0, or -1
 * with err when there is no room for them.
 */
int
inherit_apply(struct config *cf, int *lfd, char *err, size_t errlen)
{
	char where[ADDR_STRMAX], msg[256];
	int used[INHERIT_MAX], i, k;

	for (k = 0; k < ninherited; k++)
		used[k] = inherited[k].ih_taken;
	if (ninherited > 0 && cf->cf_listen_default)
		cf->cf_nlisten = 0;
	for (i = 0; i < cf->cf_nlisten; i++) {
		lfd[i] = -1;
		if ((k = inherit_find(&cf->cf_listen[i])) != -1 && !used[k]) {
			lfd[i] = inherited[k].ih_fd;
			used[k] = 1;
		}
	}
	for (k = 0; k < ninherited; k++) {
		if (used[k])
			continue;
		if (from_upgrade && !cf->cf_listen_default) {
			close(inherited[k].ih_fd);
			continue;
		}
		if (cf->cf_nlisten == MAX_LISTEN) {
			snprintf(err, errlen, "Listen: more than %d addresses "
			    "with the inherited sockets", MAX_LISTEN);
			return -1;
		}
		addr_fmt((struct sockaddr *)&inherited[k].ih_addr,
		    inherited[k].ih_len, where, sizeof(where));
		if (addr_parse(where, &cf->cf_listen[cf->cf_nlisten], msg,
		    sizeof(msg)) == -1) {
			snprintf(err, errlen, "inherited descriptor %d: %s",
			    inherited[k].ih_fd, msg);
			return -1;
		}
		lfd[cf->cf_nlisten++] = inherited[k].ih_fd;
	}
	/* An old master's sockets are ours now, like those we bind. */
	if (from_upgrade)
		ninherited = 0;
	return 0;
}

/*
 * The inherited socket listening on hp, taken out of what
 * inherit_apply() hands to Listen: StatusListen's socket, passed on by
 * an old master at an upgrade or by a service manager.  Return it, or
 * -1 when none listens there.
 */
int
inherit_take(const struct hostport *hp)
{
	int k;

	if ((k = inherit_find(hp)) == -1)
		return -1;
	inherited[k].ih_taken = 1;
	return inherited[k].ih_fd;
}

/*
 * The inherited sockets come from an old master executing the binary
 * anew (USR2, see upgrade.c), not from a service manager.  The first
 * inherit_apply() then closes those that no Listen names any more
 * (unless no Listen is given at all: then all are served, as a
 * manager's are) and forgets the rest, which become the master's own
 * listeners: kept across restarts by address, closed when their Listen
 * goes, as if the master had bound them.
 */
void
inherit_from_upgrade(void)
{
	from_upgrade = 1;
}

/*
 * For the log: the LISTEN_FDNAMES name of an inherited descriptor, ""
 * for one without a name, NULL for a descriptor we bound ourselves.
 */
const char *
inherit_name(int fd)
{
	int i;

	for (i = 0; i < ninherited; i++)
		if (inherited[i].ih_fd == fd)
			return inherited[i].ih_name;
	return NULL;
}
