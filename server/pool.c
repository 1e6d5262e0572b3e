/*
 * pool.c: the master's process table: fork workers into scoreboard
 * slots, reap them, replace the dead, and keep the idle count between
 * MinSpareServers and MaxSpareServers as Apache prefork does.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

struct proc {
	pid_t		 p_pid;		/* 0: the slot is free */
	uint32_t	 p_gen;
	int64_t		 p_started;
	int64_t		 p_deadline;	/* signal it at this time, or 0 */
	int		 p_retiring;	/* told to finish; no respawn */
	int		 p_termed;	/* TERM sent; KILL at p_deadline */
	int		 p_hung;	/* stopped by the watchdog */
	int		 p_probe;	/* forked during a back-off */
};

/*
 * Two kinds of replacement are owed.  A worker that had become ready
 * (it waited for connections, or served) and then died says nothing
 * about starting one: it is replaced at once, however often that
 * happens.  A worker that died before it was ready is the sign of a
 * crash loop: its replacement waits pl_backoff, which doubles with each
 * such death and ends once a worker forked during the back-off becomes
 * ready.
 */
struct pool {
	struct proc	*pl_tab;
	unsigned	 pl_nslots;
	int		 pl_owed;	/* replacements due now */
	int		 pl_late;	/* replacements held by the back-off */
	int64_t		 pl_late_at;	/* when the held ones are due */
	int64_t		 pl_backoff;	/* ms; 0 when workers start fine */
	int		 pl_fails;	/* failed starts since one was ready */
	char		 pl_why[128];	/* the last failed start, in words */
	int64_t		 pl_next_spawn;	/* no fork before this time */
	int		 pl_spawn_rate;	/* this second's batch, 1 to 32 */
	int		 pl_maxed;	/* "reached MaxRequestWorkers" logged */
	int64_t		 pl_below;	/* ... and below it since, or 0 */
	int		 pl_bursting;	/* forking on demand; look again soon */
	int		 pl_stopping;
	int		 pl_fatal;
};

static void	pool_child(struct worker_ctx *, int) __attribute__((__noreturn__));
static void	pool_counts(const struct pool *, const struct worker_ctx *,
		    int *, int *, int *);
static void	pool_died(struct pool *, struct worker_ctx *, int, int,
		    int64_t);
static void	pool_watch(struct pool *, const struct worker_ctx *);
static int	pool_queued(const struct worker_ctx *);
static void	pool_check_max(struct pool *, const struct config *, int,
		    int64_t);
static void	pool_sync_idle(const struct pool *, struct worker_ctx *);
static int	pool_retire_idle(struct pool *, struct worker_ctx *);
static int	pool_starting(const struct pool *, const struct worker_ctx *);
static void	pool_client(const struct sb_slot *, char *, size_t);
static char	pool_state(const struct sb_slot *);

struct pool *
pool_new(unsigned nslots)
{
	struct pool *pl;

	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return NULL;
	if ((pl->pl_tab = calloc(nslots, sizeof(*pl->pl_tab))) == NULL) {
		free(pl);
		return NULL;
	}
	pl->pl_nslots = nslots;
	pl->pl_spawn_rate = 1;
	return pl;
}

void
pool_free(struct pool *pl)
{
	if (pl == NULL)
		return;
	free(pl->pl_tab);
	free(pl);
}

/* In the child, right after fork(): shed the master's descriptors. */
static void
pool_child(struct worker_ctx *wc, int slot)
{
	int i;

	for (i = 0; i < wc->wc_nclose; i++)
		close(wc->wc_close[i]);
	status_forget();
	wc->wc_slot = slot;
	worker_main(wc);
	/* NOTREACHED */
}

/*
 * Fork one worker of the current generation into a free slot.  Return
 * its slot, or -1 when no slot is free or fork() failed (then further
 * forks wait a second, as Apache's make_child does).
 */
int
pool_spawn(struct pool *pl, struct worker_ctx *wc)
{
	struct sb_slot *ss;
	sigset_t all, old;
	unsigned i;
	pid_t pid;

	/* Our table says which slots are free, not what workers wrote. */
	for (i = 0; i < pl->pl_nslots; i++)
		if (pl->pl_tab[i].p_pid == 0)
			break;
	if (i == pl->pl_nslots)
		return -1;
	ss = &wc->wc_sb->sb_slot[i];
	ss->ss_generation = wc->wc_generation;
	sb_set_state(ss, SB_STARTING);
	/*
	 * Until the child has its own handlers, a signal would run the
	 * master's and be lost; hold them all, and let the child unblock
	 * them once it is ready.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	switch (pid = fork()) {
	case -1:
		sigprocmask(SIG_SETMASK, &old, NULL);
		snprintf(pl->pl_why, sizeof(pl->pl_why), "fork: %s",
		    strerror(errno));
		log_warn("fork() failed while starting worker %u", i);
		ss->ss_state = SB_OPEN;
		pl->pl_next_spawn = io_deadline(1000);
		pl->pl_fails++;
		return -1;
	case 0:
		pool_child(wc, (int)i);
		/* NOTREACHED */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	memset(&pl->pl_tab[i], 0, sizeof(pl->pl_tab[i]));
	pl->pl_tab[i].p_pid = pid;
	pl->pl_tab[i].p_gen = wc->wc_generation;
	pl->pl_tab[i].p_started = io_now();
	pl->pl_tab[i].p_probe = pl->pl_backoff > 0;
	log_msg(LOG_L_DEBUG, "started worker %u (pid %ld)", i, (long)pid);
	return (int)i;
}

/*
 * Policy for one reaped worker.  Retired workers and old generations go
 * quietly.  Any other death is replaced: at once if the worker had been
 * ready (its slot no longer says "starting"), after the growing back-off
 * if it died before that.
 */
static void
pool_died(struct pool *pl, struct worker_ctx *wc, int slot, int status,
    int64_t now)
{
	struct proc *p = &pl->pl_tab[slot];
	char how[64];
	int ready = wc->wc_sb->sb_slot[slot].ss_state != SB_STARTING;

	sb_exit(wc->wc_sb, status, !ready, p->p_hung);
	log_wait_words(status, how, sizeof(how));
	if (WIFEXITED(status) && WEXITSTATUS(status) == WEXIT_FATAL) {
		/* The worker said why; say once what it means. */
		if (!pl->pl_fatal)
			log_msg(LOG_L_EMERG, "worker %d (pid %ld) could not "
			    "start; stopping the server", slot, (long)p->p_pid);
		pl->pl_fatal = 1;
		return;
	}
	if (p->p_retiring || p->p_gen != wc->wc_generation || pl->pl_stopping) {
		log_msg(LOG_L_DEBUG, "worker %d (pid %ld) %s", slot,
		    (long)p->p_pid, how);
		return;
	}
	if (ready) {
		pl->pl_owed++;
		log_msg(WIFEXITED(status) && WEXITSTATUS(status) == WEXIT_OK ?
		    LOG_L_INFO : LOG_L_NOTICE, "worker %d (pid %ld) %s; "
		    "%s", slot, (long)p->p_pid, how,
		    WIFEXITED(status) && WEXITSTATUS(status) == WEXIT_OK ?
		    "replacing it" : "respawning");
		return;
	}
	/* Deaths while a back-off runs are one failed round, not many. */
	if (pl->pl_late == 0 || now >= pl->pl_late_at) {
		pl->pl_backoff = pl->pl_backoff == 0 ? BACKOFF_MIN_MS :
		    pl->pl_backoff * 2;
		if (pl->pl_backoff > BACKOFF_MAX_MS)
			pl->pl_backoff = BACKOFF_MAX_MS;
		pl->pl_late_at = now + pl->pl_backoff;
	}
	pl->pl_late++;
	pl->pl_fails++;
	snprintf(pl->pl_why, sizeof(pl->pl_why), "worker %d %s before it "
	    "was ready", slot, how);
	log_msg(LOG_L_ERR, "worker %d (pid %ld) %s before it was ready; "
	    "respawning in %lld ms", slot, (long)p->p_pid, how,
	    (long long)pl->pl_backoff);
}

/*
 * Reap every child that has ended (waitpid() with WNOHANG until there
 * is none), free its slot and apply the policy for it.
 */
void
pool_reap(struct pool *pl, struct worker_ctx *wc)
{
	int64_t now = io_now();
	unsigned i;
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == ECHILD))
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			log_warn("waitpid");
			break;
		}
		for (i = 0; i < pl->pl_nslots; i++)
			if (pl->pl_tab[i].p_pid == pid)
				break;
		if (i == pl->pl_nslots) {
			/*
			 * The status process, the new master of an upgrade,
			 * or a -d parent's leftover.
			 */
			if (!status_reaped(pid, status, now))
				(void)upgrade_reaped(pid, status);
			continue;
		}
		pool_died(pl, wc, (int)i, status, now);
		sb_reap(wc->wc_sb, (int)i);
		pl->pl_tab[i].p_pid = 0;
	}
}

/* Count the current generation: live workers, idle ones, busy ones. */
static void
pool_counts(const struct pool *pl, const struct worker_ctx *wc, int *live,
    int *idle, int *busy)
{
	unsigned i;
	char st;

	*live = *idle = *busy = 0;
	for (i = 0; i < pl->pl_nslots; i++) {
		if (pl->pl_tab[i].p_pid == 0 || pl->pl_tab[i].p_retiring ||
		    pl->pl_tab[i].p_gen != wc->wc_generation)
			continue;
		(*live)++;
		st = wc->wc_sb->sb_slot[i].ss_state;
		if (st == SB_WAITING || st == SB_STARTING)
			(*idle)++;
		else
			(*busy)++;
	}
}

/*
 * A worker forked during the back-off that became ready shows that
 * workers start again: the back-off ends, and what it held is due.
 */
static void
pool_watch(struct pool *pl, const struct worker_ctx *wc)
{
	unsigned i;

	if (pl->pl_backoff == 0 && pl->pl_fails == 0)
		return;
	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];

		if (p->p_pid == 0 || p->p_gen != wc->wc_generation ||
		    wc->wc_sb->sb_slot[i].ss_state == SB_STARTING)
			continue;
		if (p->p_probe || pl->pl_backoff == 0) {
			pl->pl_backoff = 0;
			pl->pl_fails = 0;
			pl->pl_late_at = 0;
			p->p_probe = 0;
			return;
		}
	}
}

/*
 * Fork what is owed: replacements for the dead (those held by the
 * back-off once it has passed), and in a fixed pool whatever brings it
 * back to its size.
 */
void
pool_fill(struct pool *pl, struct worker_ctx *wc, int64_t now)
{
	const struct config *cf = wc->wc_cf;
	int live, idle, busy;

	if (pl->pl_stopping || pl->pl_fatal)
		return;
	pool_watch(pl, wc);
	if (pl->pl_late > 0 && now >= pl->pl_late_at) {
		pl->pl_owed += pl->pl_late;
		pl->pl_late = 0;
	}
	pool_counts(pl, wc, &live, &idle, &busy);
	if (cf->cf_fixed && live + pl->pl_owed + pl->pl_late <
	    cf->cf_max_workers)
		pl->pl_owed = cf->cf_max_workers - live - pl->pl_late;
	if (pl->pl_owed > cf->cf_max_workers - live)
		pl->pl_owed = cf->cf_max_workers - live;
	while (pl->pl_owed > 0 && now >= pl->pl_next_spawn) {
		if (pool_spawn(pl, wc) == -1)
			break;
		pl->pl_owed--;
	}
}

/*
 * Connections waiting in the listen queues, summed; -1 where the
 * system does not say (see accept_queued()).
 */
static int
pool_queued(const struct worker_ctx *wc)
{
	int i, q, n = 0;

	for (i = 0; i < wc->wc_nlfd; i++) {
		if ((q = accept_queued(wc->wc_lfd[i])) == -1)
			return -1;
		n += q;
	}
	return n;
}

/*
 * "Reached MaxRequestWorkers", once while it lasts, as Apache says it,
 * and once when it is over.  Under a storm the busy count goes to the
 * limit and back many times a second: it is over only once the pool has
 * stayed below the limit for MAXED_CLEAR_MS.
 */
static void
pool_check_max(struct pool *pl, const struct config *cf, int busy,
    int64_t now)
{
	if (busy >= cf->cf_max_workers) {
		pl->pl_below = 0;
		if (!pl->pl_maxed)
			log_msg(LOG_L_ERR, "server reached MaxRequestWorkers "
			    "setting (%d), consider raising the "
			    "MaxRequestWorkers setting", cf->cf_max_workers);
		pl->pl_maxed = 1;
		return;
	}
	if (!pl->pl_maxed)
		return;
	if (pl->pl_below == 0)
		pl->pl_below = now;
	else if (now - pl->pl_below >= MAXED_CLEAR_MS) {
		log_msg(LOG_L_NOTICE, "server no longer at MaxRequestWorkers "
		    "(%d): below it for %d seconds", cf->cf_max_workers,
		    MAXED_CLEAR_MS / 1000);
		pl->pl_maxed = 0;
		pl->pl_below = 0;
	}
}

/*
 * Set the shared idle count to what the scoreboard shows.  A worker
 * killed between its state and the count would leave it wrong; what a
 * worker changes meanwhile is off by one until the next look.
 */
static void
pool_sync_idle(const struct pool *pl, struct worker_ctx *wc)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < pl->pl_nslots; i++)
		if (wc->wc_sb->sb_slot[i].ss_state == SB_WAITING)
			n++;
	atomic_store(&wc->wc_sb->sb_hdr->sh_idle, n);
}

/* Retire one idle worker of the current generation: 0, or -1 if none. */
static int
pool_retire_idle(struct pool *pl, struct worker_ctx *wc)
{
	unsigned i;

	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];

		if (p->p_pid == 0 || p->p_retiring ||
		    p->p_gen != wc->wc_generation ||
		    wc->wc_sb->sb_slot[i].ss_state != SB_WAITING)
			continue;
		p->p_retiring = 1;
		kill(p->p_pid, SIGUSR1);
		return 0;
	}
	return -1;
}

/*
 * The once-a-second look at the scoreboard.  Too few idle workers: fork
 * 1, then 2, 4, ... up to 32 a second while the shortfall lasts, but
 * where the listen queues can be seen, no more than the shortfall and
 * the queued connections need.  Too many: retire one idle worker a
 * second.  Never more than MaxRequestWorkers; reaching it is logged
 * once.
 */
void
pool_maintain(struct pool *pl, struct worker_ctx *wc, int64_t now)
{
	const struct config *cf = wc->wc_cf;
	int live, idle, busy, n, queued;

	if (pl->pl_stopping || pl->pl_fatal)
		return;
	pool_fill(pl, wc, now);
	pool_counts(pl, wc, &live, &idle, &busy);
	pool_sync_idle(pl, wc);
	pool_check_max(pl, cf, busy, now);
	if (cf->cf_fixed)
		return;
	if (idle > cf->cf_max_spare) {
		(void)pool_retire_idle(pl, wc);
		pl->pl_spawn_rate = 1;
		return;
	}
	/* While workers die before they are ready, only the back-off forks. */
	if (idle >= cf->cf_min_spare || live >= cf->cf_max_workers ||
	    now < pl->pl_next_spawn || pl->pl_backoff > 0) {
		pl->pl_spawn_rate = 1;
		return;
	}
	/*
	 * As Apache does, fork the whole batch, not just the shortfall,
	 * when a burst may wait unseen in the listen backlog.
	 */
	n = pl->pl_spawn_rate;
	if ((queued = pool_queued(wc)) != -1 &&
	    n > cf->cf_min_spare - idle + queued)
		n = cf->cf_min_spare - idle + queued;
	if (n > cf->cf_max_workers - live)
		n = cf->cf_max_workers - live;
	if (pl->pl_spawn_rate >= 8)
		log_msg(LOG_L_INFO, "server seems busy: forking %d workers "
		    "(%d idle, %d in all)", n, idle, live);
	while (n-- > 0 && pool_spawn(pl, wc) != -1)
		;
	if (pl->pl_spawn_rate < SPAWN_RATE_MAX)
		pl->pl_spawn_rate *= 2;
}

/*
 * Meet a burst when it comes, not at the next tick.  The worker that
 * takes the last idle place wakes the master (sb_set_state()), which
 * sizes the spawn from the demand it can see: every queued connection
 * needs a worker, and MinSpareServers more should wait.  Workers still
 * starting count as on their way.  At most SPAWN_BATCH_MAX are starting
 * at any time, so that a machine too loaded to start them quickly slows
 * the forking down rather than drowning in it; MaxRequestWorkers bounds
 * the rest.  Where the queues cannot be seen, each wake forks the next
 * batch of the 1, 2, 4 ... ramp.  Return 1 while connections still
 * wait for workers that could be forked: the master looks again soon.
 */
int
pool_burst(struct pool *pl, struct worker_ctx *wc, int64_t now)
{
	const struct config *cf = wc->wc_cf;
	int live, idle, busy, starting, queued, n;

	if (cf->cf_fixed || pl->pl_stopping || pl->pl_fatal ||
	    pl->pl_backoff > 0 || now < pl->pl_next_spawn ||
	    (!pl->pl_bursting && atomic_load(&wc->wc_sb->sb_hdr->sh_idle) > 0))
		return pl->pl_bursting = 0;
	pool_counts(pl, wc, &live, &idle, &busy);
	starting = pool_starting(pl, wc);
	if ((queued = pool_queued(wc)) == -1) {
		n = pl->pl_spawn_rate;
		if (pl->pl_spawn_rate < SPAWN_RATE_MAX)
			pl->pl_spawn_rate *= 2;
	} else
		n = queued + cf->cf_min_spare - idle;
	if (n > cf->cf_max_workers - live)
		n = cf->cf_max_workers - live;
	if (n > SPAWN_BATCH_MAX - starting)
		n = SPAWN_BATCH_MAX - starting;
	if (n > 0) {
		log_msg(LOG_L_INFO, "server seems busy: forking %d workers at "
		    "once (%d queued, %d idle, %d in all)", n, queued, idle,
		    live);
		while (n-- > 0 && pool_spawn(pl, wc) != -1)
			;
	} else if (live >= cf->cf_max_workers)
		pool_check_max(pl, cf, busy, now);
	pl->pl_bursting = queued > 0 && live < cf->cf_max_workers;
	return pl->pl_bursting;
}

/* Workers of the current generation forked but not yet ready. */
static int
pool_starting(const struct pool *pl, const struct worker_ctx *wc)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < pl->pl_nslots; i++)
		if (pl->pl_tab[i].p_pid != 0 &&
		    wc->wc_sb->sb_slot[i].ss_state == SB_STARTING)
			n++;
	return n;
}

/*
 * After a restart: every worker older than gen finishes its session and
 * exits (idle ones at once).  With a deadline, those still busy then
 * are stopped.
 */
void
pool_retire_old(struct pool *pl, uint32_t gen, int64_t deadline)
{
	unsigned i;

	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];

		if (p->p_pid == 0 || p->p_gen >= gen)
			continue;
		if (!p->p_retiring)
			kill(p->p_pid, SIGUSR1);
		p->p_retiring = 1;
		if (deadline != 0 && (p->p_deadline == 0 || deadline < p->p_deadline))
			p->p_deadline = deadline;
	}
	pl->pl_owed = pl->pl_late = 0;
	pl->pl_maxed = 0;
}

/*
 * Stop every worker: now (TERM, then KILL past the deadline), or
 * gracefully (finish the session, TERM at the deadline if there is one).
 */
void
pool_stop(struct pool *pl, int graceful, int64_t deadline)
{
	unsigned i;

	pl->pl_stopping = 1;
	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];

		if (p->p_pid == 0)
			continue;
		if (graceful) {
			if (!p->p_retiring)
				kill(p->p_pid, SIGUSR1);
			p->p_retiring = 1;
		} else {
			kill(p->p_pid, SIGTERM);
			p->p_termed = 1;
		}
		p->p_deadline = deadline;
	}
}

/*
 * Escalate where a deadline has passed: a worker told to finish gets
 * TERM; one that ignored TERM for STOP_KILL_MS gets KILL.
 */
void
pool_deadlines(struct pool *pl, int64_t now)
{
	unsigned i;

	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];

		if (p->p_pid == 0 || p->p_deadline == 0 || now < p->p_deadline)
			continue;
		if (p->p_termed) {
			log_warnx("worker %u (pid %ld) ignored TERM; "
			    "killing it", i, (long)p->p_pid);
			kill(p->p_pid, SIGKILL);
			p->p_deadline = 0;
		} else {
			kill(p->p_pid, SIGTERM);
			p->p_termed = 1;
			p->p_deadline = now + STOP_KILL_MS;
		}
	}
}

/*
 * A slot's client, as the worker wrote it, copied for a log line: the
 * worker may have left it unterminated or put anything in it, so the
 * copy is bounded and shows only printable ASCII ("none" when empty).
 */
static void
pool_client(const struct sb_slot *ss, char *buf, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i + 1 < len && i < sizeof(ss->ss_client); i++) {
		if ((c = ss->ss_client[i]) == '\0')
			break;
		buf[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	buf[i] = '\0';
	if (i == 0)
		snprintf(buf, len, "none");
}

/* A slot's state letter for a log line: one of ours, or '?'. */
static char
pool_state(const struct sb_slot *ss)
{
	char st = ss->ss_state;

	return st != '\0' && strchr("S_RWG.", st) != NULL ? st : '?';
}

/*
 * WorkerTimeout: a worker's heartbeat, in its scoreboard slot, moves
 * while it waits and between the steps of a session.  One that has not
 * moved for WorkerTimeout seconds is stuck (a loop, a blocking call), so
 * stop it as pool_stop() would, TERM and then KILL, and let pool_died()
 * replace it.  The log says what it was doing and for whom.
 */
void
pool_watchdog(struct pool *pl, struct worker_ctx *wc, int64_t now)
{
	int64_t limit = (int64_t)wc->wc_cf->cf_worker_timeout * 1000, beat;
	char client[ADDR_STRMAX];
	unsigned i;

	if (limit == 0)
		return;
	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];
		const struct sb_slot *ss = &wc->wc_sb->sb_slot[i];

		beat = ss->ss_beat;
		if (p->p_pid == 0 || p->p_termed || beat == 0 ||
		    now - beat <= limit)
			continue;
		pool_client(ss, client, sizeof(client));
		log_msg(LOG_L_ERR, "worker %u (pid %ld) hung: no heartbeat "
		    "for %lld s, state %c, client %s; stopping it", i,
		    (long)p->p_pid, (long long)((now - beat) / 1000),
		    pool_state(ss), client);
		kill(p->p_pid, SIGTERM);
		p->p_termed = 1;
		p->p_hung = 1;
		p->p_deadline = now + STOP_KILL_MS;
	}
}

/* The earliest time the pool needs the master's attention, or 0. */
int64_t
pool_next_event(const struct pool *pl)
{
	int64_t t = 0;
	unsigned i;

	/*
	 * A respawn held back by the back-off is due at pl_next_spawn; one
	 * that found no free slot waits for a reap (SIGCHLD) or the tick.
	 */
	if (pl->pl_owed > 0 && !pl->pl_stopping && pl->pl_next_spawn > io_now())
		t = pl->pl_next_spawn;
	if (pl->pl_late > 0 && !pl->pl_stopping &&
	    (t == 0 || pl->pl_late_at < t))
		t = pl->pl_late_at;
	for (i = 0; i < pl->pl_nslots; i++)
		if (pl->pl_tab[i].p_pid != 0 && pl->pl_tab[i].p_deadline != 0 &&
		    (t == 0 || pl->pl_tab[i].p_deadline < t))
			t = pl->pl_tab[i].p_deadline;
	return t;
}

/*
 * How many workers of a new generation could be forked now: the free
 * slots, plus those of idle current workers, which leave at once when
 * a restart retires them.  Workers of older generations still finishing
 * a session hold their slots; they never count.
 */
int
pool_room(const struct pool *pl, const struct worker_ctx *wc)
{
	unsigned i;
	int n = 0;
	char st;

	for (i = 0; i < pl->pl_nslots; i++) {
		st = wc->wc_sb->sb_slot[i].ss_state;
		if (pl->pl_tab[i].p_pid == 0 ||
		    (pl->pl_tab[i].p_gen == wc->wc_generation &&
		    !pl->pl_tab[i].p_retiring && st == SB_WAITING))
			n++;
	}
	return n;
}

/*
 * A fixed pool made one smaller (TTOU): retire one worker of the
 * current generation, an idle one if there is one, else a busy one,
 * which finishes its session first.  A replacement owed is simply not
 * forked.
 */
void
pool_shrink(struct pool *pl, struct worker_ctx *wc)
{
	unsigned i;

	if (pl->pl_owed > 0) {
		pl->pl_owed--;
		return;
	}
	if (pl->pl_late > 0) {
		pl->pl_late--;
		return;
	}
	if (pool_retire_idle(pl, wc) == 0)
		return;
	for (i = 0; i < pl->pl_nslots; i++) {
		struct proc *p = &pl->pl_tab[i];

		if (p->p_pid == 0 || p->p_retiring ||
		    p->p_gen != wc->wc_generation)
			continue;
		p->p_retiring = 1;
		kill(p->p_pid, SIGUSR1);
		return;
	}
}

/* Fork n more workers as soon as slots allow. */
void
pool_owe(struct pool *pl, int n)
{
	if (n > 0)
		pl->pl_owed += n;
}

int
pool_live(const struct pool *pl)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < pl->pl_nslots; i++)
		if (pl->pl_tab[i].p_pid != 0)
			n++;
	return n;
}

/*
 * Why workers cannot start, once tries forks or starts in a row have
 * failed with no worker ready since; NULL while there is hope.
 */
const char *
pool_start_failed(const struct pool *pl, int tries)
{
	return pl->pl_fails >= tries ? pl->pl_why : NULL;
}

int
pool_fatal(const struct pool *pl)
{
	return pl->pl_fatal;
}

/* Send sig to every live worker, of every generation. */
void
pool_signal(struct pool *pl, int sig)
{
	unsigned i;

	for (i = 0; i < pl->pl_nslots; i++)
		if (pl->pl_tab[i].p_pid != 0)
			kill(pl->pl_tab[i].p_pid, sig);
}

/*
 * The pid of the live worker of generation gen in slot, from the
 * master's own table, or 0.  Whatever signals a worker chosen by what
 * the scoreboard says goes through here: a pid read from shared memory
 * that workers write may name any process on the host.
 */
pid_t
pool_pid(const struct pool *pl, unsigned slot, uint32_t gen)
{
	const struct proc *p;

	if (slot >= pl->pl_nslots)
		return 0;
	p = &pl->pl_tab[slot];
	return p->p_pid != 0 && p->p_gen == gen && !p->p_retiring ?
	    p->p_pid : 0;
}

/*
 * True once a live worker of the current generation waits for
 * connections: it has dropped its privileges and is set up, so the
 * server is known to work and a "-d" parent may return 0.
 */
int
pool_serving(const struct pool *pl, const struct worker_ctx *wc)
{
	unsigned i;

	for (i = 0; i < pl->pl_nslots; i++)
		if (pool_pid(pl, i, wc->wc_generation) != 0 &&
		    wc->wc_sb->sb_slot[i].ss_state == SB_WAITING)
			return 1;
	return 0;
}
