/*
 * wake.c: what a worker hears from outside, turned into flags on its
 * struct worker: TERM, USR1 and USR2 from the master (through a
 * self-pipe, so that any wait can include them) and the master's death
 * (EOF on the death pipe).  URG asks it to take the master's reopened
 * logs (reopen.c), which wake_check() does.  And while it serves, its
 * own SIGALRM tick (wake_tick_start()).
 *
 * The handlers only set a flag and write a byte; wake_check() reads the
 * flags into the worker, so no other file sees a global.
 *
 * A session whose client sends without pause never blocks, so neither
 * a signal's EINTR nor the pipes would reach it: every handler also sets
 * got_news, which the session looks at between lines (wake_news()), one
 * load a line.  The tick sets it too, so the death pipe is looked at
 * within a tick whatever the client does; on Linux the kernel also sends
 * TERM the moment the master dies (wake_orphan()).
 */
#if defined(__linux__) && !defined(HELLOD_PORTABLE)
#include <sys/prctl.h>
#define HAVE_PDEATHSIG	1
#endif
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

static volatile sig_atomic_t	got_term;
static volatile sig_atomic_t	got_usr1;
static volatile sig_atomic_t	got_usr2;
static volatile sig_atomic_t	got_urg;
static volatile sig_atomic_t	got_tick;
static volatile sig_atomic_t	got_news;	/* any of the above */
static int			wake_w = -1;	/* write end of the self-pipe */
static int			ticking;	/* the interval timer runs */

static void	wake_sig(int);
static void	wake_tick_sig(int);
static void	wake_timer(int64_t);

static void
wake_sig(int sig)
{
	int saved = errno;

	if (sig == SIGTERM)
		got_term = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else if (sig == SIGURG)
		got_urg = 1;
	else if (sig == SIGCHLD)
		;	/* Handler exec's program: the byte wakes the watch */
	else
		got_usr1 = 1;
	got_news = 1;
	/* A full pipe already holds a wakeup; nothing is lost. */
	if (write(wake_w, "", 1) == -1) {
		/* nothing to do */
	}
	errno = saved;
}

/*
 * The tick only has to end a blocked call, or, between lines, have the
 * session look at its pipes: no byte.
 */
static void
wake_tick_sig(int sig)
{
	(void)sig;
	got_tick = 1;
	got_news = 1;
}

/*
 * Right after fork(): the self-pipe, our own handlers, and SIGINT
 * ignored so that a Ctrl-C on the terminal reaches the workers only
 * through the master.  Return 0, or -1 with errno set.
 */
int
wake_init(struct worker *w)
{
	struct sigaction sa;
	sigset_t none;
	int p[2];

	if (pipe(p) == -1)
		return -1;
	if (io_cloexec(p[0]) == -1 || io_cloexec(p[1]) == -1 ||
	    io_nonblock(p[0], 1) == -1 || io_nonblock(p[1], 1) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	w->w_wakefd = p[0];
	wake_w = p[1];
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = wake_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGURG, &sa, NULL);
	/* No SA_RESTART, for this one above all: it is there to interrupt. */
	sa.sa_handler = wake_tick_sig;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = wake_sig;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_flags = 0;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return 0;
}

/*
 * Empty the self-pipe and bring the worker's flags up to date: w_stop
 * for TERM or a master that is gone, w_finish for USR1, w_reclaim for
 * USR2 (IdleTimeoutUnderLoad, MaxSessionAgeUnderLoad); after URG, take
 * the reopened logs.
 * Return 1 when the worker must stop now.
 */
int
wake_check(struct worker *w)
{
	struct pollfd pfd;
	char buf[64];

	/* First: news that comes from here on is seen by the next check. */
	got_news = 0;
	while (read(w->w_wakefd, buf, sizeof(buf)) > 0)
		;
	wake_reopen();
	if (got_term)
		w->w_stop = 1;
	if (got_usr1)
		w->w_finish = 1;
	/* USR2 asks for one thing once: the session's reclaim.c check. */
	if (got_usr2) {
		got_usr2 = 0;
		w->w_reclaim = 1;
	}
	pfd.fd = w->w_deathfd;
	pfd.events = POLLIN;
	if (!w->w_stop && poll(&pfd, 1, 0) == 1) {
		w->w_stop = 1;
		w->w_orphan = 1;
	}
	return w->w_stop;
}

/*
 * After URG: take the master's reopened logs (reopen.c), once.  The
 * worker calls it wherever it may write a log line soon, so it is
 * cheap when nothing was asked.
 */
void
wake_reopen(void)
{
	if (!got_urg)
		return;
	got_urg = 0;
	reopen_worker();
}

/*
 * Whether a signal came since the last wake_check(): a tick, or word
 * from the master.  For a session to look between lines, at the cost
 * of one load.
 */
int
wake_news(void)
{
	return got_news;
}

/*
 * Right after priv_drop() (a change of user clears the setting): on
 * Linux, have the kernel send TERM the moment the master dies, so that
 * a worker whose client keeps it busy stops at its next line, not at
 * its next tick.  A master that died before the call sends nothing, so
 * the parent is looked at once after it; if it is no longer the
 * master, the worker stops now.  Elsewhere the death pipe and the tick
 * do the same within a second.
 */
void
wake_orphan(struct worker *w, pid_t master)
{
#ifdef HAVE_PDEATHSIG
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		log_warn("prctl(PR_SET_PDEATHSIG)");
#endif
	if (getppid() != master) {
		w->w_stop = 1;
		w->w_orphan = 1;
	}
}

/* The flags alone, without a system call: for checks between steps. */
int
wake_pending(const struct worker *w)
{
	return got_term || got_usr1 || w->w_stop || w->w_finish;
}

/*
 * A session blocks in recv() on its socket, with no poll() and no
 * timeout of the socket's own: a receive timeout would arm and cancel a
 * kernel timer on every line.  So while it serves, the worker has an
 * interval timer instead, one for the process: every w_tickms its
 * SIGALRM ends a blocked recv() with EINTR, and the session looks at its
 * deadlines (Timeout, LineTimeout), at the pipes (a signal that came
 * just before it blocked is seen then) and at the master's death pipe,
 * and posts its heartbeat.  Start it before a session, if it is not
 * running yet.
 */
void
wake_tick_start(struct worker *w)
{
	if (ticking || !w->w_block)
		return;
	wake_timer(w->w_tickms);
	ticking = 1;
}

/*
 * The wait for a connection begins: ticks seen so far were the
 * session's.  A write only when needed: the page is the master's until
 * a worker writes to it, and an idle worker should not copy it.
 */
void
wake_tick_wait(void)
{
	if (got_tick)
		got_tick = 0;
}

/*
 * After a wait for a connection: a tick that came during it found the
 * worker idle, and an idle worker waits on its pipes, which need no tick.
 * So the timer stops, and an idle pool sleeps; under load the timer just
 * runs on, at no cost a session.
 */
void
wake_tick_idle(void)
{
	if (!ticking || !got_tick)
		return;
	wake_timer(0);
	ticking = 0;
	got_tick = 0;
}

/* Set the interval timer to ms, or stop it (0). */
static void
wake_timer(int64_t ms)
{
	struct itimerval it;

	it.it_interval.tv_sec = (time_t)(ms / 1000);
	it.it_interval.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	it.it_value = it.it_interval;
	(void)setitimer(ITIMER_REAL, &it, NULL);
}
