/*
 * reclaim.c: IdleTimeoutUnderLoad, in the master.
 *
 * One session per worker means that idle clients can hold every worker
 * while others wait unserved in the listen backlog; Apache's prefork
 * leaves them waiting for the whole Timeout.  So once a second, and at
 * the moment an idle session reaches the limit while clients wait, when
 * no worker of the current generation is idle and connections wait, the
 * master asks the workers whose sessions have awaited a line longest
 * (and at least IdleTimeoutUnderLoad) to close them, one for each
 * waiting connection.  Each such worker sends an error line, closes,
 * and accepts a waiting connection.
 *
 * The scoreboard only says which slots look idle; workers write it, and
 * a compromised one may write anything there.  Which process is
 * signalled comes from the master's own table (pool_pid()), never from
 * a pid in the slot, and the loops are bounded by the master's own
 * count of slots.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <poll.h>
#include <signal.h>
#include <stdlib.h>

#include "hellod.h"

#define RECLAIM_MAX	64	/* sessions closed in one look at the most */
#define RECHECK_MS	50	/* looks no closer together than this */

static int	reclaim_waiting(const int *, int);
static int	reclaim_pick(const struct pool *, const struct scoreboard *,
		    uint32_t, int64_t, int64_t, int, int *, int64_t *);

/*
 * How many connections wait in the backlogs of the listeners: as many
 * as accept_queued() says, or, where the system does not say, one for
 * a readable listener.
 */
static int
reclaim_waiting(const int *lfd, int n)
{
	struct pollfd pfd;
	int i, q, waiting = 0;

	for (i = 0; i < n; i++) {
		if ((q = accept_queued(lfd[i])) != -1) {
			waiting += q;
			continue;
		}
		pfd.fd = lfd[i];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN))
			waiting++;
	}
	return waiting;
}

/*
 * Choose, in slot, the (at most max) sessions of generation gen idle
 * longest, each at least limit ms.  Return how many; set *next to when
 * the next session still short of the limit reaches it, or 0.
 */
static int
reclaim_pick(const struct pool *pl, const struct scoreboard *sb, uint32_t gen,
    int64_t now, int64_t limit, int max, int *slot, int64_t *next)
{
	int64_t since[RECLAIM_MAX], t;
	int n = 0, i, j;
	unsigned k;

	*next = 0;
	for (k = 0; k < sb->sb_nslots; k++) {
		const struct sb_slot *ss = &sb->sb_slot[k];

		t = ss->ss_idle;
		if (pool_pid(pl, k, gen) == 0 || ss->ss_state != SB_READING ||
		    t <= 0 || t > now)
			continue;
		if (now - t < limit) {
			if (*next == 0 || t + limit < *next)
				*next = t + limit;
			continue;
		}
		/* Keep the longest idle, oldest first, by insertion. */
		for (i = n; i > 0 && since[i - 1] > t; i--)
			;
		if (i == max)
			continue;
		if (n < max)
			n++;
		for (j = n - 1; j > i; j--) {
			since[j] = since[j - 1];
			slot[j] = slot[j - 1];
		}
		since[i] = t;
		slot[i] = (int)k;
	}
	return n;
}

/*
 * The master's look, once a second and when it was asked to: when every
 * worker of the current generation is busy and connections wait on the
 * listeners, signal (SIGUSR2) the workers idle longest, at least
 * IdleTimeoutUnderLoad, one for each waiting connection.  Return when
 * to look again, sooner than the next tick, because more connections
 * wait than sessions are idle long enough yet (or 0): so a waiting
 * client is served as soon as a session reaches the limit, not up to a
 * second later.
 */
int64_t
reclaim_idle(const struct pool *pl, const struct worker_ctx *wc, int64_t now)
{
	const struct scoreboard *sb = wc->wc_sb;
	int64_t limit = (int64_t)wc->wc_cf->cf_idle_under_load * 1000, next;
	int slot[RECLAIM_MAX], waiting, n, i;
	unsigned k;
	pid_t pid;

	if (limit == 0)
		return 0;
	for (k = 0; k < sb->sb_nslots; k++) {
		const struct sb_slot *ss = &sb->sb_slot[k];

		/* A worker still starting will be idle in a moment. */
		if (pool_pid(pl, k, wc->wc_generation) != 0 &&
		    (ss->ss_state == SB_WAITING || ss->ss_state == SB_STARTING))
			return 0;
	}
	if ((waiting = reclaim_waiting(wc->wc_lfd, wc->wc_nlfd)) == 0)
		return 0;
	if (waiting > RECLAIM_MAX)
		waiting = RECLAIM_MAX;
	n = reclaim_pick(pl, sb, wc->wc_generation, now, limit, waiting, slot,
	    &next);
	if (n > 0)
		log_msg(LOG_L_NOTICE, "%d connection%s waiting and no idle "
		    "worker: closing %d session%s idle for %d s or more",
		    waiting, waiting == 1 ? "" : "s", n, n == 1 ? "" : "s",
		    wc->wc_cf->cf_idle_under_load);
	for (i = 0; i < n; i++)
		if ((pid = pool_pid(pl, (unsigned)slot[i],
		    wc->wc_generation)) != 0)
			kill(pid, SIGUSR2);
	if (n == waiting || next == 0)
		return 0;
	/* Not more often than RECHECK_MS, however the times fall. */
	return next < now + RECHECK_MS ? now + RECHECK_MS : next;
}
