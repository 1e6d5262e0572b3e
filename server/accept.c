/*
 * accept.c: one new connection wakes one idle worker.
 *
 * Every worker holds every listening socket.  If each idle worker polled
 * them, one connection would wake them all, and all but one would find
 * EAGAIN: at 256 workers that costs most of the server's time.  So idle
 * workers wait in one of two ways (AcceptMutex):
 *
 * epoll, the default on Linux 4.5 and later.  Each worker has an epoll set
 * of its own, with the listeners added EPOLLEXCLUSIVE and its self-pipe
 * and the master's death pipe added plainly.  For a new connection the
 * kernel wakes one worker waiting in epoll_wait(); a busy worker has no
 * waiter on its set and is passed over.  The pipes still wake whoever
 * they concern, so TERM, USR1 and the master's death are seen at once.
 *
 * pthread, everywhere else: Apache's accept mutex, a robust process-shared
 * POSIX mutex in a page the master maps for each generation.  Idle
 * workers queue on it; only the holder polls the listeners (and its
 * pipes), accepts one connection and unlocks before it serves, which
 * wakes one waiter, not all (an fcntl() lock would wake every waiter at
 * each unlock, the very herd we avoid).  A holder killed with the lock
 * leaves it to the next waiter (EOWNERDEAD).  Waiters are not woken by
 * signals, so news travels down the queue: when the master stops a
 * generation or dies, the holder sees it on its pipes and exits, and each
 * waiter in turn gets the lock, sees the same, and exits; that is why
 * each generation has a mutex of its own.  A waiter also looks at its
 * flags every WAIT_MS, for a USR1 meant for it alone (the pool retiring
 * one idle worker).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/epoll.h>
#endif

#include <netinet/in.h>
#if defined(__linux__)
#include <linux/tcp.h>		/* TCP_NODELAY, TCP_INFO, struct tcp_info */
#else
#include <netinet/tcp.h>
#endif

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "net.h"

/* -DHELLOD_PORTABLE builds the portable paths on Linux too. */
#if defined(__linux__) && defined(EPOLLEXCLUSIVE) && !defined(HELLOD_PORTABLE)
#define HAVE_EPOLL	1
#endif

_Static_assert(MAX_LISTEN <= 32, "a listener is a bit of an unsigned");

#define TAG_WAKE	(MAX_LISTEN + 0)	/* epoll data of the self-pipe */
#define TAG_DEATH	(MAX_LISTEN + 1)	/* and of the death pipe */
#define PAUSE_MS	1000	/* no accept after EMFILE and the like */
#define WAIT_MS		1000	/* a waiter for the mutex looks at its flags */

/* What the master maps for each generation. */
struct accept_mutex {
	pthread_mutex_t	am_mutex;
};

/* A worker's way of waiting, for this file alone (w_accept). */
struct accept_state {
	enum accept_mech as_mech;	/* epoll or pthread */
	int		 as_epfd;	/* epoll set, or -1 */
	int		 as_held;	/* listeners still open here */
	int		 as_next;	/* listener to try first */
	int64_t		 as_paused;	/* no accept until then */
	int64_t		 as_complained;	/* last accept error logged */
};

static int	accept_leave(struct worker *);
static int	accept_ready(struct worker *, unsigned, struct conn *);
static int	accept_pause(struct worker *);
static int	accept_poll(struct worker *, int, unsigned *);
static int	accept_lock(const struct worker *, int);
#ifdef HAVE_EPOLL
static int	accept_epoll_init(struct worker *);
static int	accept_epoll(struct worker *, unsigned *);
#endif

/*
 * Whether this system can wait as AcceptMutex asks (for -t and the
 * start).  Return 0, or -1 with the reason in err.
 */
int
accept_check(const struct config *cf, char *err, size_t errlen)
{
#ifndef HAVE_EPOLL
	if (cf->cf_accept == ACCEPT_EPOLL) {
		snprintf(err, errlen, "AcceptMutex epoll: not available on "
		    "this system");
		return -1;
	}
#else
	(void)cf;
	(void)err;
	(void)errlen;
#endif
	return 0;
}

/*
 * In the master, once per generation: the mutex that generation's
 * workers share, in a shared page of its own.  Return it, or NULL with a
 * reason in err.
 */
struct accept_mutex *
accept_mutex_new(char *err, size_t errlen)
{
	struct accept_mutex *am;
	pthread_mutexattr_t attr;
	int fd, e;

	if ((fd = open("/dev/zero", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "accept mutex: /dev/zero: %s",
		    strerror(errno));
		return NULL;
	}
	am = mmap(NULL, sizeof(*am), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (am == MAP_FAILED) {
		snprintf(err, errlen, "accept mutex: mmap: %s", strerror(errno));
		return NULL;
	}
	if ((e = pthread_mutexattr_init(&attr)) != 0 ||
	    (e = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (e = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (e = pthread_mutex_init(&am->am_mutex, &attr)) != 0) {
		snprintf(err, errlen, "accept mutex: %s", strerror(e));
		munmap(am, sizeof(*am));
		return NULL;
	}
	pthread_mutexattr_destroy(&attr);
	return am;
}

/* In the master: let go of a generation's mutex; its workers keep it. */
void
accept_mutex_free(struct accept_mutex *am)
{
	if (am != NULL)
		munmap(am, sizeof(*am));
}

/*
 * In the worker, once: choose the way to wait and set it up.  Linux's
 * accepted sockets inherit TCP_NODELAY from their listener, so it is set
 * here once rather than on every connection.  Return 0, or -1 with
 * errno set.
 */
int
accept_init(struct worker *w)
{
	struct accept_state *as;
	int i, on = 1;

	for (i = 0; i < w->w_nlfd; i++)
		(void)setsockopt(w->w_lfd[i], IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
	if ((as = calloc(1, sizeof(*as))) == NULL)
		return -1;
	w->w_accept = as;
	as->as_epfd = -1;
	as->as_held = 1;
	as->as_mech = ACCEPT_PTHREAD;
#ifdef HAVE_EPOLL
	if (w->w_cf->cf_accept != ACCEPT_PTHREAD) {
		if (accept_epoll_init(w) == 0)
			as->as_mech = ACCEPT_EPOLL;
		else if (w->w_cf->cf_accept == ACCEPT_EPOLL || errno != EINVAL)
			return -1;
		/* EINVAL: a kernel older than EPOLLEXCLUSIVE; use the mutex. */
	}
#endif
	if (as->as_mech == ACCEPT_PTHREAD && w->w_mutex == NULL) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

#ifdef HAVE_EPOLL
static int
accept_epoll_init(struct worker *w)
{
	struct accept_state *as = w->w_accept;
	struct epoll_event ev;
	int i, saved;

	if ((as->as_epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u32 = TAG_WAKE;
	if (epoll_ctl(as->as_epfd, EPOLL_CTL_ADD, w->w_wakefd, &ev) == -1)
		goto fail;
	ev.data.u32 = TAG_DEATH;
	if (epoll_ctl(as->as_epfd, EPOLL_CTL_ADD, w->w_deathfd, &ev) == -1)
		goto fail;
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	for (i = 0; i < w->w_nlfd; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(as->as_epfd, EPOLL_CTL_ADD, w->w_lfd[i], &ev) == -1)
			goto fail;
	}
	return 0;
fail:
	saved = errno;
	close(as->as_epfd);
	as->as_epfd = -1;
	errno = saved;
	return -1;
}

/* Wait in epoll_wait(); set *ready to the listeners that have work. */
static int
accept_epoll(struct worker *w, unsigned *ready)
{
	struct epoll_event ev[MAX_LISTEN + 2];
	int i, n;

	beat_post(w);
	n = epoll_wait(w->w_accept->as_epfd, ev, w->w_nlfd + 2,
	    io_timeout(beat_bound(w, IO_NEVER)));
	if (n == -1)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 >= TAG_WAKE)
			(void)wake_check(w);
		else
			*ready |= 1u << ev[i].data.u32;
	}
	return 0;
}
#endif

/*
 * Take (on != 0) or release the generation's accept mutex.  Return 0,
 * or -1 with errno set (ETIMEDOUT: WAIT_MS passed first).
 */
static int
accept_lock(const struct worker *w, int on)
{
	pthread_mutex_t *mx = &w->w_mutex->am_mutex;
	int64_t ms = WAIT_MS;
	struct timespec ts;
	int e;

	if (!on)
		return pthread_mutex_unlock(mx) == 0 ? 0 : -1;
	/* WorkerTimeout's heartbeat may be due sooner. */
	beat_post(w);
	if (w->w_beatms > 0 && w->w_beatms < ms)
		ms = w->w_beatms;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	e = pthread_mutex_timedlock(mx, &ts);
	if (e == EOWNERDEAD)	/* a holder died: nothing to repair */
		e = pthread_mutex_consistent(mx);
	if (e != 0) {
		errno = e;
		return -1;
	}
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
	beat_post(w);
	n = poll(pfd, (nfds_t)nfds, io_timeout(beat_bound(w,
	    listening ? IO_NEVER : w->w_accept->as_paused)));
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
	struct accept_state *as = w->w_accept;
	int i, k, fd;

	for (k = 0; k < w->w_nlfd; k++) {
		i = (as->as_next + k) % w->w_nlfd;
		if ((ready & (1u << i)) == 0)
			continue;
		c->cn_peerlen = sizeof(c->cn_peer);
		fd = net_accept(w->w_lfd[i], (struct sockaddr *)&c->cn_peer,
		    &c->cn_peerlen, !w->w_block);
		if (fd != -1) {
			c->cn_fd = fd;
			c->cn_listener = i;
			as->as_next = (i + 1) % w->w_nlfd;
			return 1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ECONNABORTED || errno == EPROTO || errno == EINTR)
			continue;
		if (io_now() - as->as_complained >= PAUSE_MS) {
			log_warn("accept");
			as->as_complained = io_now();
		}
		as->as_paused = io_deadline(PAUSE_MS);
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

	while (!accept_leave(w) && io_now() < w->w_accept->as_paused)
		if (accept_poll(w, 0, &none) == -1)
			return -1;
	w->w_accept->as_paused = 0;
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
	struct accept_state *as = w->w_accept;
	unsigned ready;
	int r, locked = 0;

	wake_tick_wait();
	for (;;) {
		wake_tick_idle();
		if (accept_leave(w))
			break;
		if (as->as_paused != 0) {
			if (accept_pause(w) == -1)
				break;
			continue;
		}
		ready = 0;
#ifdef HAVE_EPOLL
		if (as->as_mech == ACCEPT_EPOLL) {
			if (accept_epoll(w, &ready) == -1)
				break;
		} else
#endif
		{
			if (!locked && accept_lock(w, 1) == -1) {
				if (errno == ETIMEDOUT)
					continue;
				break;
			}
			locked = 1;
			if (accept_poll(w, 1, &ready) == -1)
				break;
		}
		if (ready == 0 || accept_leave(w))
			continue;
		if ((r = accept_ready(w, ready, c)) == 1) {
			if (locked)
				(void)accept_lock(w, 0);
			return 0;
		}
		if (r == -1 && locked) {
			(void)accept_lock(w, 0);
			locked = 0;
		}
	}
	if (locked)
		(void)accept_lock(w, 0);
	return -1;
}

/*
 * The number of connections waiting in fd's accept queue, or -1 where
 * the system does not say.  On Linux, TCP_INFO on a listening socket
 * reports the accept queue's length in tcpi_unacked.
 */
int
accept_queued(int fd)
{
#if defined(__linux__) && !defined(HELLOD_PORTABLE) && defined(TCP_INFO)
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= sizeof(ti.tcpi_unacked) + offsetof(struct tcp_info,
	    tcpi_unacked))
		return (int)ti.tcpi_unacked;
#else
	(void)fd;
#endif
	return -1;
}

/*
 * Stop holding the listening sockets, so that once the master closes
 * them too the kernel refuses new connections instead of queueing them
 * for nobody.  The epoll set goes first: closing our descriptors would
 * not take the listeners out of it, since other processes share them.
 */
void
accept_close(struct worker *w)
{
	struct accept_state *as = w->w_accept;
	int i;

	if (!as->as_held)
		return;
	if (as->as_epfd != -1) {
		close(as->as_epfd);
		as->as_epfd = -1;
	}
	for (i = 0; i < w->w_nlfd; i++)
		close(w->w_lfd[i]);
	as->as_held = 0;
}
