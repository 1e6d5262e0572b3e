/*
 * master.c: the master's loop.  It waits in one place, poll() on a
 * self-pipe with a one-second tick (master_wait()), and then goes
 * through its phases, in the order hellod.8 gives: reap dead children,
 * stop, graceful stop, restart, pool resizing (TTIN, TTOU), log reopen,
 * upgrade (USR2, see upgrade.c), pool maintenance.  It keeps a "-d"
 * parent and a service manager told (notify.c).  The listening sockets
 * are listen.c's.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

#define TICK_MS		1000
#define SOON_MS		20	/* how often to look while someone waits */

static volatile sig_atomic_t	sig_chld, sig_term, sig_hup, sig_usr1,
				sig_winch, sig_urg, sig_usr2;
static int			self_pipe[2] = { -1, -1 };

struct master {
	struct config		*m_cf;
	const struct cmdline	*m_cl;
	struct listeners	 m_ls;
	struct worker_ctx	 m_wc;
	struct scoreboard	 m_sb;
	struct pool		*m_pool;
	int			 m_detached;
	int			 m_readyfd;	/* a "-d" parent waits, or -1 */
	int64_t			 m_start_by;	/* ... at the most until then */
	int64_t			 m_next_tick;
	int			 m_stopping;	/* 1: graceful stop, 2: stop */
	int			 m_status;
	int			 m_bursting;	/* forking as demand comes */
	int64_t			 m_reclaim_at;	/* reclaim_idle() asked to look */
	int64_t			 m_stop_by;	/* its deadline, or 0 */
	int			 m_restart;	/* 1: HUP, 2: USR1 asked for */
	int			 m_postponed;	/* ... and logged as waiting */
	int			 m_resize;	/* TTIN less TTOU not yet done */
	int			 m_ready;	/* READY=1 sent for this generation */
};

static void	master_sig(int, siginfo_t *, void *);
static int	master_from_kill(const siginfo_t *);
static int	master_signals(void);
static int	master_setup(struct master *, char *, size_t);
static void	master_start(struct master *, int);
static void	master_started(struct master *);
static int	master_ready(struct master *);
static void	master_notify_ready(struct master *);
static void	master_notify_stopping(const char *);
static void	master_tell(struct master *);
static int64_t	master_next_wakeup(struct master *);
static void	master_wait(struct master *);
static void	master_drain_pipe(struct master *);
static void	master_reap(struct master *);
static void	master_stop(struct master *, int64_t);
static void	master_graceful_stop(struct master *, int64_t);
static void	master_finish(struct master *);
static void	master_restart(struct master *);
static void	master_try_restart(struct master *);
static void	master_reload(struct master *, int);
static int	master_room(const struct master *, const struct config *,
		    char *, size_t);
static void	master_generation(struct master *, const char *, int);
static void	master_new_lock(struct master *);
static void	master_resize(struct master *);
static void	master_resize_by(struct master *, int);
static void	master_reopen(struct master *);
static void	master_upgrade(struct master *);
static int	master_stopped(const struct master *);
static void	master_maintain(struct master *, int64_t);
static void	master_end(struct master *);

/*
 * Whether a signal was sent by kill(2) or sigqueue(3), by a user: a
 * terminal's own signals (a window resize's WINCH, the TTOU of a
 * background write under "stty tostop") come from the kernel, which
 * Linux marks SI_KERNEL, and must not act as an administrator's
 * "kill -WINCH" or "-TTOU".
 */
static int
master_from_kill(const siginfo_t *si)
{
	if (si == NULL)
		return 1;
#ifdef SI_TKILL
	if (si->si_code == SI_TKILL)
		return 1;
#endif
	return si->si_code == SI_USER || si->si_code == SI_QUEUE;
}

/*
 * Record the signal and wake the loop; nothing else happens here.  TTIN
 * and TTOU are counted, not flagged: each asks for one worker more or
 * fewer, so each writes its own byte, which the loop counts.  WINCH,
 * TTIN and TTOU count only when a user sent them (master_from_kill()).
 */
static void
master_sig(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;
	char c = '\0';

	(void)ctx;
	if ((sig == SIGWINCH || sig == SIGTTIN || sig == SIGTTOU) &&
	    !master_from_kill(si))
		return;
	switch (sig) {
	case SIGCHLD:
		sig_chld = 1;
		break;
	case SIGTERM:
	case SIGINT:
		sig_term = 1;
		break;
	case SIGHUP:
		sig_hup = 1;
		break;
	case SIGUSR1:
		sig_usr1 = 1;
		break;
	case SIGWINCH:
		sig_winch = 1;
		break;
	case SIGTTIN:
		c = '+';
		break;
	case SIGTTOU:
		c = '-';
		break;
	case SIGURG:
		sig_urg = 1;
		break;
	case SIGUSR2:
		sig_usr2 = 1;
		break;
	}
	/*
	 * A full pipe already holds a wakeup; only a TTIN or TTOU beyond
	 * some 64 KB of them is lost.
	 */
	if (write(self_pipe[1], &c, 1) == -1) {
		/* nothing to do */
	}
	errno = saved;
}

static int
master_signals(void)
{
	static const int sigs[] = {
		SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGWINCH, SIGTTIN,
		SIGTTOU, SIGURG, SIGUSR2
	};
	struct sigaction sa;
	size_t i;

	if (pipe(self_pipe) == -1 || io_cloexec(self_pipe[0]) == -1 ||
	    io_cloexec(self_pipe[1]) == -1 || io_nonblock(self_pipe[0], 1) == -1 ||
	    io_nonblock(self_pipe[1], 1) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = master_sig;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/*
		 * A write to a terminal that stops background writers
		 * ("stty tostop") raises TTOU and is restarted after the
		 * handler, forever; without SA_RESTART it fails with EINTR
		 * instead, and log.c drops the line (log_put()).
		 */
		sa.sa_flags = SA_SIGINFO | (sigs[i] == SIGTTOU ? 0 :
		    SA_RESTART) | (sigs[i] == SIGCHLD ? SA_NOCLDSTOP : 0);
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	}
	return 0;
}

static int
master_setup(struct master *m, char *err, size_t errlen)
{
	char path[MAX_PATH + 16];
	int death[2];
	unsigned nslots;

	if (master_signals() == -1 || pipe(death) == -1 ||
	    io_cloexec(death[0]) == -1 || io_cloexec(death[1]) == -1) {
		snprintf(err, errlen, "master setup: %s", strerror(errno));
		return -1;
	}
	/*
	 * Room for the current generation and for older ones still
	 * finishing sessions after restarts, so that these never take the
	 * new generation's places (see master_try_restart()).  A fixed
	 * pool gets room to grow by TTIN up to its limit.
	 */
	nslots = (unsigned)cf_room(m->m_cf) * SB_GENERATIONS;
	if (sb_create(&m->m_sb, nslots, sb_path(m->m_cf->cf_pidfile, path,
	    sizeof(path)), err, errlen) == -1)
		return -1;
	sb_max_workers(&m->m_sb, m->m_cf->cf_max_workers);
	if ((m->m_pool = pool_new(nslots)) == NULL) {
		snprintf(err, errlen, "process table: %s", strerror(errno));
		return -1;
	}
	m->m_wc.wc_cf = m->m_cf;
	m->m_wc.wc_sb = &m->m_sb;
	m->m_wc.wc_lfd = m->m_ls.ls_fd;
	m->m_wc.wc_nlfd = m->m_cf->cf_nlisten;
	m->m_wc.wc_deathfd = death[0];
	m->m_wc.wc_master = getpid();
	if (accept_check(m->m_cf, err, errlen) == -1)
		return -1;
	if ((m->m_wc.wc_mutex = accept_mutex_new(err, errlen)) == NULL)
		return -1;
	/*
	 * Workers keep the self-pipe's write end: the one that takes the
	 * last idle place writes to it (see pool_burst()).
	 */
	m->m_wc.wc_close[0] = death[1];
	m->m_wc.wc_close[1] = self_pipe[0];
	m->m_wc.wc_nclose = 2;
	sb_wake_on_demand(&m->m_sb, m->m_cf->cf_fixed ? -1 : self_pipe[1]);
	notify_init();
	if (notify_fd() != -1)
		m->m_wc.wc_close[m->m_wc.wc_nclose++] = notify_fd();
	if (reopen_init(err, errlen) == -1)
		return -1;
	m->m_wc.wc_close[m->m_wc.wc_nclose++] = reopen_master_fd();
	return 0;
}

/*
 * The first generation, and the clocks of the loop.  Workers close
 * pidfd (the pid file's lock) and the "-d" parent's pipe, last in the
 * list: master_tell() takes it off once answered.
 */
static void
master_start(struct master *m, int pidfd)
{
	if (pidfd != -1)
		m->m_wc.wc_close[m->m_wc.wc_nclose++] = pidfd;
	if (m->m_readyfd != -1)
		m->m_wc.wc_close[m->m_wc.wc_nclose++] = m->m_readyfd;
	sb_pool(&m->m_sb, m->m_cf);
	pool_owe(m->m_pool, m->m_cf->cf_start_servers);
	pool_fill(m->m_pool, &m->m_wc, io_now());
	master_started(m);
	m->m_next_tick = io_deadline(TICK_MS);
	m->m_start_by = io_deadline(START_WAIT_MS);
}

static void
master_started(struct master *m)
{
	char line[MAX_LISTEN * (ADDR_STRMAX + 80)], addr[ADDR_STRMAX];
	char count[64];
	const struct config *cf = m->m_cf;
	const char *name;
	size_t n = 0;
	int i, live;

	line[0] = '\0';
	for (i = 0; i < cf->cf_nlisten && n < sizeof(line); i++) {
		addr_fmt_hp(&cf->cf_listen[i], addr, sizeof(addr));
		name = inherit_name(m->m_ls.ls_fd[i]);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s%s%s%s%s",
		    i ? ", " : "", addr, name ? " (inherited" : "",
		    name && *name ? ": " : "", name ? name : "",
		    name ? ")" : "");
	}
	/* Say how many were forked: a fork may have failed. */
	live = pool_live(m->m_pool);
	if (live < cf->cf_start_servers)
		snprintf(count, sizeof(count), "%d of %d worker%s", live,
		    cf->cf_start_servers, cf->cf_start_servers == 1 ? "" : "s");
	else
		snprintf(count, sizeof(count), "%d worker%s", live,
		    live == 1 ? "" : "s");
	if (cf->cf_fixed)
		log_msg(LOG_L_NOTICE, "%s started: %s, listening on %s",
		    SERVER_NAME, count, line);
	else
		log_msg(LOG_L_NOTICE, "%s started: %s (up to %d), "
		    "listening on %s", SERVER_NAME, count, cf->cf_max_workers,
		    line);
}

/*
 * For a "-d" parent waiting on m_readyfd: once a worker is ready, send
 * "R".  If none can be (START_TRIES failed starts in a row, or nothing
 * ready by m_start_by), send "F" and the reason, for the parent to
 * print, and stop the server.  Return 1 once m_readyfd is answered and
 * closed.
 */
static int
master_ready(struct master *m)
{
	const char *why;
	char msg[256];
	int n;

	if (pool_serving(m->m_pool, &m->m_wc))
		n = snprintf(msg, sizeof(msg), "R");
	else if ((why = pool_start_failed(m->m_pool, START_TRIES)) != NULL ||
	    (io_now() >= m->m_start_by && (why = "still starting") != NULL)) {
		n = snprintf(msg, sizeof(msg), "Fno worker became ready "
		    "(%s); the server stopped", why);
		log_msg(LOG_L_EMERG, "%s", msg + 1);
		m->m_status = EXIT_CHILDFATAL;
		sig_term = 1;
	} else
		return 0;
	/* A parent that is gone needs no answer. */
	if (write(m->m_readyfd, msg, (size_t)n) == -1) {
		/* nothing to do */
	}
	close(m->m_readyfd);
	return 1;
}

/*
 * Tell a service manager READY=1 once a worker of the current generation
 * serves: at startup and again after each restart.
 */
static void
master_notify_ready(struct master *m)
{
	if (m->m_ready || !pool_serving(m->m_pool, &m->m_wc))
		return;
	m->m_ready = 1;
	/* MAINPID: under -d, or after an upgrade, we are not the pid started. */
	notify_send("READY=1\nMAINPID=%ld", (long)getpid());
	notify_status(&m->m_sb);
}

/*
 * Tell a service manager that the service stops, unless the other
 * master of an upgrade goes on serving it: then this one is quiet from
 * now on (a rollback lets it speak again).
 */
static void
master_notify_stopping(const char *status)
{
	if (upgrade_shared())
		notify_mute(1);
	notify_send("STOPPING=1\nSTATUS=%s", status);
}

/*
 * Tell who waits for the pool to serve: a "-d" parent (once) and a
 * service manager (after each start or restart).
 */
static void
master_tell(struct master *m)
{
	if (m->m_readyfd != -1 && master_ready(m) == 1) {
		m->m_readyfd = -1;
		/* The number may be reused; children must not close it. */
		m->m_wc.wc_close[--m->m_wc.wc_nclose] = -1;
	}
	master_notify_ready(m);
}

/*
 * When the loop must look again: at the next tick, or sooner for a
 * pool or status process deadline, the service manager's watchdog or a
 * reclaim.  A "-d" parent or a service manager waits for the first
 * worker of a generation, a graceful stop or a restart for queues to
 * empty, a burst for workers to be forked as they start, and an upgrade
 * for the new master to serve: then look often.
 */
static int64_t
master_next_wakeup(struct master *m)
{
	int64_t t = m->m_next_tick, ev, soon = io_now() + SOON_MS;

	if ((ev = pool_next_event(m->m_pool)) != 0 && ev < t)
		t = ev;
	if ((ev = status_next_event()) != 0 && ev < t)
		t = ev;
	if ((m->m_readyfd != -1 || m->m_ls.ls_draining || m->m_bursting ||
	    m->m_ls.ls_ndrop > 0 || (!m->m_ready && notify_enabled()) ||
	    upgrade_pending() || upgrade_waiting()) && t > soon)
		t = soon;
	if ((ev = notify_watchdog(io_now())) != 0 && ev < t)
		t = ev;
	if (m->m_reclaim_at != 0 && m->m_reclaim_at < t)
		t = m->m_reclaim_at;
	return t;
}

/*
 * The one place the master waits: for a signal's byte on the self-pipe,
 * a worker's log reopen request (reopen.c), or the next wake-up.
 */
static void
master_wait(struct master *m)
{
	struct pollfd pfd[2];

	pfd[0].fd = self_pipe[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = reopen_master_fd();
	pfd[1].events = reopen_master_events();
	if (poll(pfd, 2, io_timeout(master_next_wakeup(m))) > 0) {
		master_drain_pipe(m);
		if (pfd[1].revents != 0)
			reopen_serve();
	}
}

/* Reap: dead workers leave the pool; one that cannot start stops all. */
static void
master_reap(struct master *m)
{
	if (sig_chld) {
		sig_chld = 0;
		pool_reap(m->m_pool, &m->m_wc);
	}
	if (pool_fatal(m->m_pool) && !m->m_stopping) {
		m->m_status = EXIT_CHILDFATAL;
		sig_term = 1;
	}
}

/* Stop (TERM, INT): close the listeners and every session now. */
static void
master_stop(struct master *m, int64_t now)
{
	if (!sig_term || m->m_stopping == 2)
		return;
	sig_term = 0;
	m->m_ls.ls_draining = 0;
	log_msg(LOG_L_NOTICE, "stopping: closing every session");
	master_notify_stopping("stopping");
	listen_close(&m->m_ls, m->m_cf->cf_nlisten);
	pool_stop(m->m_pool, 0, now + STOP_KILL_MS);
	status_stop(0);
	m->m_stopping = 2;
}

/*
 * Graceful stop (WINCH): no new connections, those queued served first
 * (listen_drain()), then master_finish(), within GracefulShutdownTimeout.
 */
static void
master_graceful_stop(struct master *m, int64_t now)
{
	const struct config *cf = m->m_cf;

	if (sig_winch && !m->m_stopping) {
		sig_winch = 0;
		master_notify_stopping("graceful stop: finishing sessions");
		m->m_stop_by = cf->cf_graceful_timeout > 0 ?
		    now + (int64_t)cf->cf_graceful_timeout * 1000 : 0;
		status_stop(0);
		m->m_stopping = 1;
		/*
		 * A listener shared with the other master of an upgrade
		 * keeps its queue: that master serves it.
		 */
		if (upgrade_shared())
			master_finish(m);
		else
			listen_drain(&m->m_ls, cf->cf_nlisten);
	}
	if (m->m_ls.ls_draining && (listen_drained(&m->m_ls, cf->cf_nlisten) ||
	    (m->m_stop_by != 0 && now >= m->m_stop_by)))
		master_finish(m);
}

/*
 * Graceful stop, second step, once the queues are empty (or the
 * deadline has passed): close the listeners and tell every worker to
 * finish its session and exit.
 */
static void
master_finish(struct master *m)
{
	char why[96];

	/* Draining: the queues are ours alone, and the deadline passed. */
	if (m->m_ls.ls_draining) {
		snprintf(why, sizeof(why), "graceful stop: "
		    "GracefulShutdownTimeout (%d s) passed",
		    m->m_cf->cf_graceful_timeout);
		listen_say_reset(m->m_ls.ls_fd, m->m_cf->cf_nlisten, why);
	}
	log_msg(LOG_L_NOTICE, "graceful stop: finishing sessions");
	listen_close(&m->m_ls, m->m_cf->cf_nlisten);
	pool_stop(m->m_pool, 1, m->m_stop_by);
	m->m_ls.ls_draining = 0;
}

/* Restart (HUP) and graceful restart (USR1), as soon as there is room. */
static void
master_restart(struct master *m)
{
	if ((sig_hup || sig_usr1) && !m->m_stopping) {
		/* HUP wins over USR1: its deadline is the stricter. */
		m->m_restart = sig_hup || m->m_restart == 1 ? 1 : 2;
		sig_hup = sig_usr1 = 0;
	}
	if (m->m_restart && !m->m_stopping)
		master_try_restart(m);
}

/*
 * A restart asked for (HUP or USR1) happens once the new generation has
 * room: old workers still finishing a session keep their slots, and the
 * new generation must not be left with none.  Until then the running
 * generation serves on, and the error log says why, once.  Before that,
 * the queues of listeners the new configuration drops are served.
 */
static void
master_try_restart(struct master *m)
{
	int room, need = m->m_cf->cf_start_servers > 0 ?
	    m->m_cf->cf_start_servers : 1;
	char why[96];

	if (listen_dropping(&m->m_ls, m->m_cf, m->m_cl))
		return;
	room = pool_room(m->m_pool, &m->m_wc);
	if (room < need) {
		if (!m->m_postponed)
			log_warnx("%s postponed: workers of older "
			    "generations still finishing sessions hold the "
			    "slots a new generation needs (%d free, %d "
			    "needed); the current one serves on",
			    m->m_restart == 2 ? "graceful restart" : "restart",
			    room, need);
		m->m_postponed = 1;
		return;
	}
	if (m->m_ls.ls_ndrop > 0) {
		snprintf(why, sizeof(why), "restart: the listeners it closes "
		    "were not drained within %d s", DROP_DRAIN_MS / 1000);
		listen_say_reset(m->m_ls.ls_drop, m->m_ls.ls_ndrop, why);
	}
	master_reload(m, m->m_restart == 2);
	listen_drop_end(&m->m_ls, m->m_cf->cf_nlisten);
	m->m_restart = 0;
	m->m_postponed = 0;
}

/*
 * HUP (graceful == 0) and USR1 (graceful == 1): re-read the whole
 * configuration, keep what listens on an unchanged address, reopen the
 * logs, start a new generation at once and tell the old one to finish.
 * A configuration that does not load is logged; the old one stays.
 */
static void
master_reload(struct master *m, int graceful)
{
	const char *what = graceful ? "graceful restart" : "restart";
	struct config ncf;
	int nfd[MAX_LISTEN];
	char err[512];

	notify_reloading(what);
	if (cf_load(&ncf, m->m_cl, err, sizeof(err)) == -1 ||
	    priv_resolve(&ncf, err, sizeof(err)) == -1 ||
	    handler_check(&ncf, err, sizeof(err)) == -1 ||
	    master_room(m, &ncf, err, sizeof(err)) == -1 ||
	    inherit_apply(&ncf, nfd, err, sizeof(err)) == -1 ||
	    listen_open(&ncf, m->m_cf, m->m_ls.ls_fd, nfd, err,
	    sizeof(err)) == -1) {
		log_msg(LOG_L_ERR, "%s failed, still running the old "
		    "configuration: %s", what, err);
		notify_send("READY=1\nSTATUS=%s failed, still running the old "
		    "configuration: %s", what, err);
		sb_reloaded(&m->m_sb, err);
		return;
	}
	/* The pid file is locked for the master's life; it stays. */
	memcpy(ncf.cf_pidfile, m->m_cf->cf_pidfile, sizeof(ncf.cf_pidfile));
	listen_adopt(&m->m_ls, m->m_cf->cf_nlisten, nfd, ncf.cf_nlisten);
	if (log_open(&ncf, m->m_detached, err, sizeof(err)) == -1)
		log_msg(LOG_L_ERR, "keeping the old logs: %s", err);
	if (status_open(&ncf, err, sizeof(err)) == -1)
		log_msg(LOG_L_ERR, "StatusListen: %s", err);
	*m->m_cf = ncf;
	sb_wake_on_demand(&m->m_sb, ncf.cf_fixed ? -1 : self_pipe[1]);
	m->m_wc.wc_nlfd = ncf.cf_nlisten;
	master_generation(m, what, graceful);
	sb_reloaded(&m->m_sb, NULL);
	m->m_ready = 0;
}

/*
 * A restart's pool must fit the scoreboard, which was sized at start
 * for ServerLimit (cf_room()); a ServerLimit changed since waits for the
 * next start.  Return 0, or -1 with err, which fails the restart.
 */
static int
master_room(const struct master *m, const struct config *ncf, char *err,
    size_t errlen)
{
	int room = sb_room(&m->m_sb);

	if (ncf->cf_server_limit != 0 && ncf->cf_server_limit != room)
		log_warnx("ServerLimit %d takes effect at the next "
		    "start, not on a restart: %d until then",
		    ncf->cf_server_limit, room);
	if (ncf->cf_max_workers <= room)
		return 0;
	snprintf(err, errlen, "%s %d is more than ServerLimit %d, which "
	    "holds until the server is stopped and started again",
	    ncf->cf_fixed ? "-w" : "MaxRequestWorkers", ncf->cf_max_workers,
	    room);
	return -1;
}

/*
 * Start a generation of the configuration just loaded, and have the old
 * one finish: after HUP within GracefulShutdownTimeout (if set), after
 * USR1 (graceful) whenever its sessions end.
 */
static void
master_generation(struct master *m, const char *what, int graceful)
{
	const struct config *cf = m->m_cf;
	int64_t deadline = 0;
	int i;

	master_new_lock(m);
	m->m_wc.wc_generation++;
	sb_generation(&m->m_sb, m->m_wc.wc_generation);
	sb_max_workers(&m->m_sb, cf->cf_max_workers);
	/* The status process restarts too, to read the new StatusAllow. */
	status_stop(1);
	if (!graceful && cf->cf_graceful_timeout > 0)
		deadline = io_deadline((int64_t)cf->cf_graceful_timeout * 1000);
	pool_retire_old(m->m_pool, m->m_wc.wc_generation, deadline);
	for (i = 0; i < cf->cf_start_servers; i++)
		if (pool_spawn(m->m_pool, &m->m_wc) == -1)
			break;
	/* The rest go into the slots of old idle workers once they leave. */
	pool_owe(m->m_pool, cf->cf_start_servers - i);
	sb_pool(&m->m_sb, cf);
	log_msg(LOG_L_NOTICE, "%s: generation %lu, %d worker%s", what,
	    (unsigned long)m->m_wc.wc_generation, cf->cf_start_servers,
	    cf->cf_start_servers == 1 ? "" : "s");
}

/*
 * A new generation queues on an accept mutex of its own (see accept.c);
 * the old workers keep theirs mapped until they exit.  Without a new
 * one the old mutex serves on, which only drains the old generation
 * more slowly.
 */
static void
master_new_lock(struct master *m)
{
	struct accept_mutex *am;
	char err[256];

	if ((am = accept_mutex_new(err, sizeof(err))) == NULL) {
		log_warnx("keeping the old accept mutex: %s", err);
		return;
	}
	accept_mutex_free(m->m_wc.wc_mutex);
	m->m_wc.wc_mutex = am;
}

/* Resize: the TTIN and TTOU counted since the last pass. */
static void
master_resize(struct master *m)
{
	if (m->m_resize != 0 && !m->m_stopping)
		master_resize_by(m, m->m_resize);
	m->m_resize = 0;
}

/*
 * TTIN (by > 0) and TTOU (by < 0), one step for each signal: a fixed
 * pool gets a worker more or fewer, between 1 and MaxRequestWorkers (or
 * the -w number, if larger), within the room the scoreboard was made
 * with; a dynamic pool has MinSpareServers and MaxSpareServers raised or
 * lowered together, between 1 and MaxRequestWorkers.  The change is to
 * the running configuration only: the next restart reads the file again
 * and forgets it.  A step that would leave the bounds is logged and not
 * made.  pool_fill() forks what a larger fixed pool lacks; a smaller
 * one retires a worker, an idle one if there is one, else one that
 * finishes its session first.  pool_maintain() applies new spare bounds.
 */
static void
master_resize_by(struct master *m, int by)
{
	struct config *cf = m->m_cf;
	int step = by > 0 ? 1 : -1, room, top;
	const char *sig = by > 0 ? "TTIN" : "TTOU";

	room = sb_room(&m->m_sb);
	for (; by != 0; by -= step) {
		if (cf->cf_fixed) {
			top = cf->cf_worker_limit < room ? cf->cf_worker_limit :
			    room;
			if (cf->cf_max_workers + step < 1 ||
			    cf->cf_max_workers + step > top) {
				log_warnx("%s ignored: the pool has %d "
				    "worker%s, its %s", sig, cf->cf_max_workers,
				    cf->cf_max_workers == 1 ? "" : "s",
				    step > 0 ? "most" : "least");
				break;
			}
			cf->cf_max_workers += step;
			cf->cf_start_servers = cf->cf_max_workers;
			if (step < 0)
				pool_shrink(m->m_pool, &m->m_wc);
			log_msg(LOG_L_NOTICE, "%s: %d worker%s", sig,
			    cf->cf_max_workers, cf->cf_max_workers == 1 ? "" :
			    "s");
			continue;
		}
		if (cf->cf_min_spare + step < 1 ||
		    cf->cf_max_spare + step > cf->cf_max_workers) {
			log_warnx("%s ignored: MinSpareServers %d, "
			    "MaxSpareServers %d are at their %s", sig,
			    cf->cf_min_spare, cf->cf_max_spare, step > 0 ?
			    "most (MaxRequestWorkers)" : "least");
			break;
		}
		cf->cf_min_spare += step;
		cf->cf_max_spare += step;
		log_msg(LOG_L_NOTICE, "%s: MinSpareServers %d, MaxSpareServers "
		    "%d", sig, cf->cf_min_spare, cf->cf_max_spare);
	}
	sb_pool(&m->m_sb, cf);
}

/*
 * Reopen (URG): the logs of the running configuration, whatever the
 * file on disk says now, then every worker takes the new files
 * (reopen.c).  The scoreboard tells "-k reopen" how it went.
 */
static void
master_reopen(struct master *m)
{
	if (!sig_urg)
		return;
	sig_urg = 0;
	sb_reopened(&m->m_sb, reopen_master() == -1);
	pool_signal(m->m_pool, SIGURG);
	/* A new status process starts with the reopened logs. */
	status_stop(1);
}

/*
 * USR2 and what follows it.  In an old master: start the new one (see
 * upgrade.c), or roll back when it has ended, telling a service manager
 * that this master is the main one again.  In a new master: take the
 * PidFile once a worker of its own serves; if that fails, stop, so that
 * the old master rolls back.
 */
static void
master_upgrade(struct master *m)
{
	char err[MAX_PATH + 128];
	int fd, fds[MAX_LISTEN + 1], n;

	upgrade_old_gone();
	if (sig_usr2) {
		sig_usr2 = 0;
		/* The new master takes StatusListen's socket too. */
		memcpy(fds, m->m_ls.ls_fd,
		    sizeof(fds[0]) * (size_t)m->m_cf->cf_nlisten);
		n = m->m_cf->cf_nlisten;
		if ((fds[n] = status_listener()) != -1)
			n++;
		upgrade_start(m->m_cf, fds, n, &m->m_sb, m->m_detached,
		    m->m_stopping);
	}
	if (upgrade_check(m->m_cf, &m->m_sb, m->m_stopping))
		notify_send("READY=1\nMAINPID=%ld\nSTATUS=upgrade failed; the "
		    "old master serves on", (long)getpid());
	if (!upgrade_pending() || m->m_stopping ||
	    !pool_serving(m->m_pool, &m->m_wc))
		return;
	if ((fd = upgrade_take(m->m_cf, err, sizeof(err))) == -2) {
		log_msg(LOG_L_EMERG, "upgrade: %s; stopping this new master",
		    err);
		m->m_status = EXIT_STARTUP;
		sig_term = 1;
	} else if (fd != -1)
		m->m_wc.wc_close[m->m_wc.wc_nclose++] = fd;
}

/* Empty the self-pipe, counting the TTIN ('+') and TTOU ('-') bytes. */
static void
master_drain_pipe(struct master *m)
{
	char buf[256];
	ssize_t n, i;

	while ((n = read(self_pipe[0], buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			m->m_resize += buf[i] == '+' ? 1 : buf[i] == '-' ? -1 : 0;
}

/*
 * A stop is done once no worker and no status process is left, and a
 * new master that never served has been ended first.
 */
static int
master_stopped(const struct master *m)
{
	return m->m_stopping && pool_live(m->m_pool) == 0 &&
	    status_pid() == 0 && !upgrade_waiting();
}

/*
 * Maintain: deadlines, the pool's size and bursts, idle sessions under
 * load, the status process; once a tick the status sample, the spare
 * workers, the watchdog and the service manager's status line.
 */
static void
master_maintain(struct master *m, int64_t now)
{
	pool_deadlines(m->m_pool, now);
	pool_fill(m->m_pool, &m->m_wc, now);
	m->m_bursting = pool_burst(m->m_pool, &m->m_wc, now);
	if (now >= m->m_next_tick ||
	    (m->m_reclaim_at != 0 && now >= m->m_reclaim_at))
		m->m_reclaim_at = reclaim_idle(m->m_pool, &m->m_wc, now);
	if (!m->m_stopping)
		status_spawn(&m->m_wc, now);
	if (now >= m->m_next_tick) {
		status_tick(&m->m_sb, m->m_cf, m->m_ls.ls_fd);
		pool_maintain(m->m_pool, &m->m_wc, now);
		pool_watchdog(m->m_pool, &m->m_wc, now);
		if (m->m_ready && !m->m_stopping)
			notify_status(&m->m_sb);
		m->m_next_tick = now + TICK_MS;
	}
}

/* After the last worker: the scoreboard file goes, and what it held. */
static void
master_end(struct master *m)
{
	char path[MAX_PATH + 16];

	sb_destroy(&m->m_sb, sb_path(m->m_cf->cf_pidfile, path, sizeof(path)));
	pool_free(m->m_pool);
	accept_mutex_free(m->m_wc.wc_mutex);
	log_msg(LOG_L_NOTICE, "stopped");
}

/*
 * Run the master until it stops.  lfd holds the bound listeners; readyfd
 * (or -1) gets one byte once the pool is up, for a "-d" parent waiting
 * on it; pidfd (or -1) is closed in every worker.  Return hellod's exit
 * status.
 */
int
master_main(struct config *cf, const struct cmdline *cl, int *lfd,
    int detached, int readyfd, int pidfd)
{
	struct master m;
	char err[512];
	int64_t now;

	memset(&m, 0, sizeof(m));
	m.m_cf = cf;
	m.m_cl = cl;
	m.m_ls.ls_fd = lfd;
	m.m_detached = detached;
	m.m_readyfd = readyfd;
	if (master_setup(&m, err, sizeof(err)) == -1) {
		log_msg(LOG_L_EMERG, "%s", err);
		/* A start that fails leaves nothing it made behind. */
		sb_destroy(&m.m_sb, sb_path(cf->cf_pidfile, err, sizeof(err)));
		return EXIT_STARTUP;
	}
	master_start(&m, pidfd);
	for (;;) {
		master_tell(&m);
		master_wait(&m);
		now = io_now();
		master_reap(&m);
		master_stop(&m, now);
		master_graceful_stop(&m, now);
		master_restart(&m);
		master_resize(&m);
		master_reopen(&m);
		master_upgrade(&m);
		if (master_stopped(&m))
			break;
		master_maintain(&m, now);
	}
	master_end(&m);
	return m.m_status;
}
