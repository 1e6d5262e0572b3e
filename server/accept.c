/*
 * accept.c: an idle worker waits for a connection on every listener,
 * and for its pipes, and accepts.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "net.h"

_Static_assert(MAX_LISTEN <= 32, "a listener is a bit of an unsigned");

#define PAUSE_MS	1000	/* no accept after EMFILE and the like */

static int	accept_leave(struct worker *);
static int	accept_ready(struct worker *, unsigned, struct conn *);
static int	accept_pause(struct worker *);
static int	accept_poll(struct worker *, int, unsigned *);

/*
 * In the worker, once.  Linux's accepted sockets inherit TCP_NODELAY
 * from their listener, so it is set here once rather than on every
 * connection.  Return 0, or -1 with errno set.
 */
int
accept_init(struct worker *w)
{
	int i, on = 1;

	for (i = 0; i < w->w_nlfd; i++)
		(void)setsockopt(w->w_lfd[i], IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
	w->w_lheld = 1;
	return 0;
}

/*
 * Poll the pipes and, unless listening is off, the listeners; set *ready
 * to the listeners that have work.  Return 0, or -1 with errno set.
 */
static int
accept_poll(struct worker *w, int listening, unsigned *ready)
{
	struct pollfd pfd[MAX_LISTEN + 2];
	int i, n, nfds = 2 + (listening ? w->w_nlfd : 0);

	pfd[0].fd = w->w_wakefd;
	pfd[1].fd = w->w_deathfd;
	for (i = 0; i < w->w_nlfd; i++)
		pfd[i + 2].fd = w->w_lfd[i];
	for (i = 0; i < nfds; i++)
		pfd[i].events = POLLIN;
	n = poll(pfd, (nfds_t)nfds, listening ? -1 : io_timeout(w->w_paused));
	if (n == -1)
		return errno == EINTR ? 0 : -1;
	if (pfd[0].revents != 0 || pfd[1].revents != 0)
		(void)wake_check(w);
	for (i = 2; i < nfds; i++)
		if (pfd[i].revents != 0)
			*ready |= 1u << (i - 2);
	return 0;
}

/* True when the worker must stop taking connections. */
static int
accept_leave(struct worker *w)
{
	if (wake_pending(w))
		(void)wake_check(w);
	return w->w_stop || w->w_finish ||
	    w->w_sb->sb_hdr->sh_generation != w->w_generation;
}

/*
 * Accept from one of the ready listeners, taking them in turn so that a
 * busy one cannot starve the others.  Return 1 with c filled, 0 when
 * they had nothing after all, -1 after an error that calls for a pause.
 */
static int
accept_ready(struct worker *w, unsigned ready, struct conn *c)
{
	int i, k, fd;

	for (k = 0; k < w->w_nlfd; k++) {
		i = (w->w_next + k) % w->w_nlfd;
		if ((ready & (1u << i)) == 0)
			continue;
		c->cn_peerlen = sizeof(c->cn_peer);
		fd = net_accept(w->w_lfd[i], (struct sockaddr *)&c->cn_peer,
		    &c->cn_peerlen);
		if (fd != -1) {
			c->cn_fd = fd;
			c->cn_listener = i;
			w->w_next = (i + 1) % w->w_nlfd;
			return 1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ECONNABORTED || errno == EPROTO || errno == EINTR)
			continue;
		if (io_now() - w->w_complained >= PAUSE_MS) {
			log_warn("accept");
			w->w_complained = io_now();
		}
		w->w_paused = io_deadline(PAUSE_MS);
		return -1;
	}
	return 0;
}

/*
 * After EMFILE and the like: wait out the pause hearing only the pipes,
 * rather than spin on a listener that stays readable.
 */
static int
accept_pause(struct worker *w)
{
	unsigned none = 0;

	while (!accept_leave(w) && io_now() < w->w_paused)
		if (accept_poll(w, 0, &none) == -1)
			return -1;
	w->w_paused = 0;
	return 0;
}

/*
 * Wait for the next connection and accept it into c.  Return 0, or -1
 * when the worker must stop taking connections: told to stop or finish,
 * a new generation, or the master gone.
 */
int
accept_next(struct worker *w, struct conn *c)
{
	unsigned ready;

	for (;;) {
		if (accept_leave(w))
			break;
		if (w->w_paused != 0) {
			if (accept_pause(w) == -1)
				break;
			continue;
		}
		ready = 0;
		if (accept_poll(w, 1, &ready) == -1)
			break;
		if (ready == 0 || accept_leave(w))
			continue;
		if (accept_ready(w, ready, c) == 1)
			return 0;
	}
	return -1;
}

/*
 * Stop holding the listening sockets, so that once the master closes
 * them too the kernel refuses new connections instead of queueing them
 * for nobody.
 */
void
accept_close(struct worker *w)
{
	int i;

	if (!w->w_lheld)
		return;
	for (i = 0; i < w->w_nlfd; i++)
		close(w->w_lfd[i]);
	w->w_lheld = 0;
}
