/*
 * reclaim.c: IdleTimeoutUnderLoad and MaxSessionAgeUnderLoad, in the
 * master.
 *
 * One session per worker means that clients can hold every worker while
 * others wait unserved in the listen backlog; Apache's prefork leaves
 * them waiting for the whole Timeout.  So once a second, and at the
 * moment a session reaches a limit while clients wait, when no worker of
 * the current generation is idle and connections wait, the master asks
 * workers to close sessions, one for each waiting connection: those
 * that have awaited a line for IdleTimeoutUnderLoad, and those that
 * have lasted MaxSessionAgeUnderLoad, however often they send (a line
 * now and then would otherwise keep a worker for good); the session
 * that reached its limit first goes first.  Each such worker sends an
 * error line, closes, and accepts a waiting connection.
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
#include <stdio.h>
#include <stdlib.h>

#include "hellod.h"

#define RECLAIM_MAX	64	/* sessions closed in one look at the most */
#define RECHECK_MS	50	/* looks no closer together than this */

static int	reclaim_waiting(const int *, int);
static int64_t	reclaim_due(const struct sb_slot *, int64_t, const int64_t *);
static int	reclaim_pick(const struct pool *, const struct scoreboard *,
		    uint32_t, int64_t, const int64_t *, int, int *, int64_t *);
static void	reclaim_say(const struct config *, int, int);

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
 * When the session in ss may be closed under load: IdleTimeoutUnderLoad
 * (limit[0] ms) after it began to await a line, or MaxSessionAgeUnderLoad
 * (limit[1] ms) after it began, whichever comes first; 0 for never.  A
 * time the worker wrote that is not in the past is no time at all.
 */
static int64_t
reclaim_due(const struct sb_slot *ss, int64_t now, const int64_t *limit)
{
	int64_t t, due = 0;

	if (limit[0] > 0 && (t = ss->ss_idle) > 0 && t <= now)
		due = t + limit[0];
	if (limit[1] > 0 && (t = ss->ss_begun) > 0 && t <= now &&
	    (due == 0 || t + limit[1] < due))
		due = t + limit[1];
	return due;
}

/*
 * Choose, in slot, the (at most max) sessions of generation gen that
 * have been due (reclaim_due()) longest.  Return how many; set *next to
 * when the next session not due yet will be, or 0.
 */
static int
reclaim_pick(const struct pool *pl, const struct scoreboard *sb, uint32_t gen,
    int64_t now, const int64_t *limit, int max, int *slot, int64_t *next)
{
	int64_t since[RECLAIM_MAX], t;
	int n = 0, i, j;
	unsigned k;

	*next = 0;
	for (k = 0; k < sb->sb_nslots; k++) {
		const struct sb_slot *ss = &sb->sb_slot[k];

		if (pool_pid(pl, k, gen) == 0 || ss->ss_state != SB_READING ||
		    (t = reclaim_due(ss, now, limit)) == 0)
			continue;
		if (t > now) {
			if (*next == 0 || t < *next)
				*next = t;
			continue;
		}
		/* Keep those due longest, the earliest first, by insertion. */
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

/* Log that n sessions are being closed for waiting connections. */
static void
reclaim_say(const struct config *cf, int waiting, int n)
{
	char age[64] = "";

	if (cf->cf_age_under_load > 0)
		snprintf(age, sizeof(age), ", or open for %d s or more",
		    cf->cf_age_under_load);
	if (cf->cf_idle_under_load == 0)
		log_msg(LOG_L_NOTICE, "%d connection%s waiting and no idle "
		    "worker: closing %d session%s open for %d s or more",
		    waiting, waiting == 1 ? "" : "s", n, n == 1 ? "" : "s",
		    cf->cf_age_under_load);
	else
		log_msg(LOG_L_NOTICE, "%d connection%s waiting and no idle "
		    "worker: closing %d session%s idle for %d s or more%s",
		    waiting, waiting == 1 ? "" : "s", n, n == 1 ? "" : "s",
		    cf->cf_idle_under_load, age);
}

/*
 * The master's look, once a second and when it was asked to: when every
 * worker of the current generation is busy and connections wait on the
 * listeners, signal (SIGUSR2) the workers whose sessions have been due
 * longest (idle IdleTimeoutUnderLoad, or open MaxSessionAgeUnderLoad),
 * one for each waiting connection.  Return when to look again, sooner
 * than the next tick, because more connections wait than sessions are
 * due yet (or 0): so a waiting client is served as soon as a session
 * reaches a limit, not up to a second later.
 */
int64_t
reclaim_idle(const struct pool *pl, const struct worker_ctx *wc, int64_t now)
{
	const struct scoreboard *sb = wc->wc_sb;
	const struct config *cf = wc->wc_cf;
	int64_t limit[2], next;
	int slot[RECLAIM_MAX], waiting, n, i;
	unsigned k;
	pid_t pid;

	limit[0] = (int64_t)cf->cf_idle_under_load * 1000;
	limit[1] = (int64_t)cf->cf_age_under_load * 1000;
	if (limit[0] == 0 && limit[1] == 0)
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
		reclaim_say(cf, waiting, n);
	for (i = 0; i < n; i++)
		if ((pid = pool_pid(pl, (unsigned)slot[i],
		    wc->wc_generation)) != 0)
			kill(pid, SIGUSR2);
	if (n == waiting || next == 0)
		return 0;
	/* Not more often than RECHECK_MS, however the times fall. */
	return next < now + RECHECK_MS ? now + RECHECK_MS : next;
}
