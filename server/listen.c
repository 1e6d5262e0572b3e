/*
 * listen.c: the master's listening sockets: binding them, keeping those
 * whose address a restart keeps, closing them, and emptying their accept
 * queues before a graceful stop, or before a restart closes some of them
 * (the drop-all filter).
 */
#include <sys/socket.h>
#include <netinet/in.h>
/*
 * Linux calls, each with a portable fallback; -DHELLOD_PORTABLE builds
 * the fallbacks on Linux too.
 */
#if defined(__linux__) && !defined(HELLOD_PORTABLE)
#include <asm/socket.h>		/* SO_ATTACH_FILTER */
#include <linux/filter.h>
#endif

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "net.h"

static int	listen_queueing(int, int);
static int	listen_drainable(int);
static int	listen_drain_begin(const int *, int);
static int	listen_empty(const int *, int);
static void	listen_drop_begin(struct listeners *, const struct config *,
		    const struct cmdline *);

/*
 * Open the listeners of cf into lfd, reusing the descriptor of any
 * address that old (with its descriptors oldfd) already listens on, so
 * that a restart never closes a socket whose address stays.  An lfd[i]
 * already set (an inherited socket, see inherit_apply()) is kept.
 * Sockets opened here are closed again on failure.  Return 0, or -1
 * with err.
 */
int
listen_open(const struct config *cf, const struct config *old,
    const int *oldfd, int *lfd, char *err, size_t errlen)
{
	int i, j;

	for (i = 0; i < cf->cf_nlisten; i++) {
		const struct hostport *hp = &cf->cf_listen[i];

		if (lfd[i] != -1)
			continue;
		for (j = 0; old != NULL && j < old->cf_nlisten; j++)
			if (oldfd[j] != -1 &&
			    strcmp(hp->hp_host, old->cf_listen[j].hp_host) == 0 &&
			    strcmp(hp->hp_port, old->cf_listen[j].hp_port) == 0)
				lfd[i] = oldfd[j];
		if (lfd[i] != -1)
			continue;
		lfd[i] = net_listen(hp->hp_host, hp->hp_port, cf->cf_backlog,
		    err, errlen);
		if (lfd[i] == -1) {
			while (i-- > 0) {
				for (j = 0; old != NULL && j < old->cf_nlisten; j++)
					if (oldfd[j] == lfd[i])
						break;
				if (old == NULL || j == old->cf_nlisten)
					close(lfd[i]);
			}
			return -1;
		}
	}
	return 0;
}

/*
 * Take the inherited sockets, then bind every other Listen address of cf
 * into lfd, and StatusListen.  For main(), before the pool exists.
 * Return 0, or -1 with err.
 */
int
listen_bind(struct config *cf, int *lfd, char *err, size_t errlen)
{
	/* StatusListen first: an inherited socket of its is not a Listen. */
	if (status_open(cf, err, errlen) == -1 ||
	    inherit_apply(cf, lfd, err, errlen) == -1)
		return -1;
	return listen_open(cf, NULL, NULL, lfd, err, errlen);
}

/*
 * After a restart: close the n old listeners that the new ones nfd (nn
 * of them, see listen_open()) do not keep, and hold the new ones.
 */
void
listen_adopt(struct listeners *ls, int n, const int *nfd, int nn)
{
	int i, j, keep;

	for (i = 0; i < n; i++) {
		for (keep = 0, j = 0; j < nn; j++)
			keep |= nfd[j] == ls->ls_fd[i];
		if (!keep)
			close(ls->ls_fd[i]);
	}
	memcpy(ls->ls_fd, nfd, sizeof(nfd[0]) * (size_t)nn);
}

/* Close the n listeners. */
void
listen_close(struct listeners *ls, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (ls->ls_fd[i] != -1)
			close(ls->ls_fd[i]);
		ls->ls_fd[i] = -1;
	}
}

/*
 * A graceful stop serves the connections the kernel has already queued:
 * they are clients, and closing the listeners would reset them.  First
 * no new connection may join the queues.  On Linux a socket filter that
 * drops every packet does that: the listener runs it on each packet it
 * receives (SYNs, and ACKs that would complete a handshake), while the
 * queued connections are sockets of their own that it does not touch.
 * A client that tries from then on gets no answer to its SYN and, once
 * the listener is closed, is refused when it retries.  Elsewhere the
 * queues are drained as found, and a connection that arrives between
 * the last accept and the close is reset, as it always was.  on != 0
 * takes the filter off again.  Return 0, or -1 with errno.
 */
static int
listen_queueing(int fd, int on)
{
#if !defined(HELLOD_PORTABLE) && defined(SO_ATTACH_FILTER)
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog;
	int none = 0;

	if (on)
		return setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &none,
		    sizeof(none));
	prog.len = 1;
	prog.filter = &drop;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
#else
	(void)fd;
	(void)on;
	return 0;
#endif
}

/*
 * A socket a service manager handed over is not drained: the manager
 * keeps it, with its queue, and starts the next server on it.  Closing
 * it loses nothing, and a filter left on it would drop every
 * connection meant for that next server.
 */
static int
listen_drainable(int fd)
{
	return fd != -1 && inherit_name(fd) == NULL;
}

/*
 * Stop queueing on the n listeners fd (see listen_queueing()).  Return
 * how many connections they hold queued, or -1 if that cannot be told.
 */
static int
listen_drain_begin(const int *fd, int n)
{
	int i, q, queued = 0;

	for (i = 0; i < n; i++)
		if (listen_drainable(fd[i]) && listen_queueing(fd[i], 0) == -1)
			log_warn("listener %d still queues", i);
	for (i = 0; i < n && queued != -1; i++)
		if (listen_drainable(fd[i]))
			queued = (q = accept_queued(fd[i])) == -1 ? -1 :
			    queued + q;
	return queued;
}

/*
 * The n listeners fd are about to close with connections still queued,
 * which the kernel resets: say how many, and why, at notice, since no
 * client sees more than a reset.  Nothing when none wait.
 */
void
listen_say_reset(const int *fd, int n, const char *why)
{
	int i, q, queued = 0;

	for (i = 0; i < n && queued != -1; i++)
		if (fd[i] != -1)
			queued = (q = accept_queued(fd[i])) == -1 ? -1 :
			    queued + q;
	if (queued == -1 && !listen_empty(fd, n))
		log_msg(LOG_L_NOTICE, "%s: connections still queued are "
		    "reset", why);
	else if (queued > 0)
		log_msg(LOG_L_NOTICE, "%s: %d queued connection%s reset", why,
		    queued, queued == 1 ? "" : "s");
}

/* True once none of the n listeners fd has a connection waiting. */
static int
listen_empty(const int *fd, int n)
{
	struct pollfd pfd[MAX_LISTEN];
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (!listen_drainable(fd[i]))
			continue;
		pfd[k].fd = fd[i];
		pfd[k++].events = POLLIN;
	}
	return poll(pfd, (nfds_t)k, 0) == 0;
}

/*
 * The first step of a graceful stop (SIGWINCH): no new connections on
 * the n listeners, those queued served first (ls_draining).
 */
void
listen_drain(struct listeners *ls, int n)
{
	int queued;

	queued = listen_drain_begin(ls->ls_fd, n);
	if (queued == -1)
		log_msg(LOG_L_NOTICE, "graceful stop: no new connections; "
		    "serving those queued first");
	else
		log_msg(LOG_L_NOTICE, "graceful stop: no new connections; "
		    "serving the %d queued first", queued);
	ls->ls_draining = 1;
}

/* True once the n listeners' queues are empty. */
int
listen_drained(const struct listeners *ls, int n)
{
	return listen_empty(ls->ls_fd, n);
}

/*
 * Before a restart: the listeners the new configuration drops may hold
 * queued connections, which closing them would reset.  Stop queueing on
 * those, and let the running generation serve what they hold first
 * (listen_dropping() says how long, at most DROP_DRAIN_MS).  A
 * configuration that does not load is left for the restart to report.
 */
static void
listen_drop_begin(struct listeners *ls, const struct config *cf,
    const struct cmdline *cl)
{
	struct config ncf;
	char err[512];
	int i, j, kept, n;

	ls->ls_ndrop = 0;
	if (cf_load(&ncf, cl, err, sizeof(err)) == -1)
		return;
	for (i = 0; i < cf->cf_nlisten; i++) {
		for (kept = 0, j = 0; j < ncf.cf_nlisten; j++)
			kept |= strcmp(cf->cf_listen[i].hp_host,
			    ncf.cf_listen[j].hp_host) == 0 &&
			    strcmp(cf->cf_listen[i].hp_port,
			    ncf.cf_listen[j].hp_port) == 0;
		if (!kept && ls->ls_fd[i] != -1 &&
		    !listen_empty(&ls->ls_fd[i], 1))
			ls->ls_drop[ls->ls_ndrop++] = ls->ls_fd[i];
	}
	if (ls->ls_ndrop == 0)
		return;
	n = listen_drain_begin(ls->ls_drop, ls->ls_ndrop);
	ls->ls_drop_by = io_deadline(DROP_DRAIN_MS);
	log_msg(LOG_L_NOTICE, "restart: first serving the %d connection%s "
	    "queued on %d listener%s it closes", n, n == 1 ? "" : "s",
	    ls->ls_ndrop, ls->ls_ndrop == 1 ? "" : "s");
}

/*
 * A restart asked for, to the configuration cf and cl would load now:
 * true while it should wait for the listeners it drops to be served.
 */
int
listen_dropping(struct listeners *ls, const struct config *cf,
    const struct cmdline *cl)
{
	if (!ls->ls_drop_looked) {
		listen_drop_begin(ls, cf, cl);
		ls->ls_drop_looked = 1;
	}
	return ls->ls_ndrop > 0 && !listen_empty(ls->ls_drop, ls->ls_ndrop) &&
	    io_now() < ls->ls_drop_by;
}

/*
 * After the restart (or its failure), the n listeners it left: one of
 * those it meant to drop that stayed open queues again.
 */
void
listen_drop_end(struct listeners *ls, int n)
{
	int i, j;

	for (i = 0; i < ls->ls_ndrop; i++)
		for (j = 0; j < n; j++)
			if (ls->ls_fd[j] == ls->ls_drop[i])
				(void)listen_queueing(ls->ls_drop[i], 1);
	ls->ls_ndrop = 0;
	ls->ls_drop_looked = 0;
}
