/*
 * master.c: the master's loop.  It waits in one place, poll() on a
 * self-pipe with a one-second tick, and there handles, in this order:
 * dead children, stop, graceful stop, restart, pool resizing (TTIN,
 * TTOU), log reopen, upgrade (USR2, see upgrade.c), pool maintenance.
 * It keeps a service manager told (notify.c).
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

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "net.h"

#define TICK_MS		1000

static volatile sig_atomic_t	sig_chld, sig_term, sig_hup, sig_usr1,
				sig_winch, sig_urg, sig_usr2;
static int			self_pipe[2] = { -1, -1 };

struct master {
	struct config		*m_cf;
	const struct cmdline	*m_cl;
	int			*m_lfd;
	struct worker_ctx	 m_wc;
	struct scoreboard	 m_sb;
	struct pool		*m_pool;
	int			 m_detached;
	int			 m_stopping;
	int			 m_status;
	int			 m_draining;	/* graceful stop: queues first */
	int			 m_bursting;	/* forking as demand comes */
	int64_t			 m_reclaim_at;	/* reclaim_idle() asked to look */
	int64_t			 m_stop_by;	/* its deadline, or 0 */
	int			 m_restart;	/* 1: HUP, 2: USR1 asked for */
	int			 m_postponed;	/* ... and logged as waiting */
	int			 m_drop_looked;	/* ... its dropped listeners seen */
	int			 m_drop[MAX_LISTEN]; /* ... which hold a queue */
	int			 m_ndrop;
	int64_t			 m_drop_by;	/* ... served until then */
	int			 m_resize;	/* TTIN less TTOU not yet done */
	int			 m_ready;	/* READY=1 sent for this generation */
};

static void	master_sig(int, siginfo_t *, void *);
static int	master_from_kill(const siginfo_t *);
static int	master_signals(void);
static int	master_listen(const struct config *, const struct config *,
		    const int *, int *, char *, size_t);
static int	master_room(struct master *, const struct config *, char *,
		    size_t);
static void	master_restart_failed(struct master *, int, const char *);
static void	master_restart(struct master *, int);
static void	master_try_restart(struct master *);
static void	master_close_listeners(struct master *);
static int	master_queueing(int, int);
static int	master_drainable(int);
static int	master_drain_begin(const int *, int);
static int	master_drained(const int *, int);
static void	master_say_reset(const int *, int, const char *);
static void	master_stop_queueing(struct master *);
static void	master_drop_begin(struct master *);
static void	master_drop_end(struct master *);
static void	master_graceful_stop(struct master *, int64_t);
static void	master_started(struct master *);
static int	master_setup(struct master *, char *, size_t);
static int	master_ready(struct master *, int, int64_t);
static void	master_new_lock(struct master *);
static void	master_drain_pipe(struct master *);
static void	master_resize(struct master *, int);
static void	master_publish(struct master *);
static void	master_notify_ready(struct master *);
static void	master_reopen(struct master *);
static void	master_upgrade(struct master *);
static void	master_notify_stopping(const char *);

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

/*
 * Open the listeners of cf into lfd, reusing the descriptor of any
 * address that old (with its descriptors oldfd) already listens on, so
 * that a restart never closes a socket whose address stays.  An lfd[i]
 * already set (an inherited socket, see inherit_apply()) is kept.
 * Sockets opened here are closed again on failure.  Return 0, or -1
 * with err.
 */
static int
master_listen(const struct config *cf, const struct config *old,
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
master_bind(struct config *cf, int *lfd, char *err, size_t errlen)
{
	/* StatusListen first: an inherited socket of its is not a Listen. */
	if (status_open(cf, err, errlen) == -1 ||
	    inherit_apply(cf, lfd, err, errlen) == -1)
		return -1;
	return master_listen(cf, NULL, NULL, lfd, err, errlen);
}

static void
master_close_listeners(struct master *m)
{
	int i;

	for (i = 0; i < m->m_cf->cf_nlisten; i++) {
		if (m->m_lfd[i] != -1)
			close(m->m_lfd[i]);
		m->m_lfd[i] = -1;
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
master_queueing(int fd, int on)
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
master_drainable(int fd)
{
	return fd != -1 && inherit_name(fd) == NULL;
}

/*
 * Stop queueing on the n listeners fd (see master_queueing()).  Return
 * how many connections they hold queued, or -1 if that cannot be told.
 */
static int
master_drain_begin(const int *fd, int n)
{
	int i, q, queued = 0;

	for (i = 0; i < n; i++)
		if (master_drainable(fd[i]) && master_queueing(fd[i], 0) == -1)
			log_warn("listener %d still queues", i);
	for (i = 0; i < n && queued != -1; i++)
		if (master_drainable(fd[i]))
			queued = (q = accept_queued(fd[i])) == -1 ? -1 :
			    queued + q;
	return queued;
}

/*
 * The n listeners fd are about to close with connections still queued,
 * which the kernel resets: say how many, and why, at notice, since no
 * client sees more than a reset.  Nothing when none wait.
 */
static void
master_say_reset(const int *fd, int n, const char *why)
{
	int i, q, queued = 0;

	for (i = 0; i < n && queued != -1; i++)
		if (fd[i] != -1)
			queued = (q = accept_queued(fd[i])) == -1 ? -1 :
			    queued + q;
	if (queued == -1 && !master_drained(fd, n))
		log_msg(LOG_L_NOTICE, "%s: connections still queued are "
		    "reset", why);
	else if (queued > 0)
		log_msg(LOG_L_NOTICE, "%s: %d queued connection%s reset", why,
		    queued, queued == 1 ? "" : "s");
}

/* True once none of the n listeners fd has a connection waiting. */
static int
master_drained(const int *fd, int n)
{
	struct pollfd pfd[MAX_LISTEN];
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (!master_drainable(fd[i]))
			continue;
		pfd[k].fd = fd[i];
		pfd[k++].events = POLLIN;
	}
	return poll(pfd, (nfds_t)k, 0) == 0;
}

/* The first step of a graceful stop (SIGWINCH): no new connections. */
static void
master_stop_queueing(struct master *m)
{
	int n;

	n = master_drain_begin(m->m_lfd, m->m_cf->cf_nlisten);
	if (n == -1)
		log_msg(LOG_L_NOTICE, "graceful stop: no new connections; "
		    "serving those queued first");
	else
		log_msg(LOG_L_NOTICE, "graceful stop: no new connections; "
		    "serving the %d queued first", n);
}

/*
 * Before a restart: the listeners the new configuration drops may hold
 * queued connections, which closing them would reset.  Stop queueing on
 * those, and let the running generation serve what they hold first
 * (master_try_restart() waits, at most DROP_DRAIN_MS).  A configuration
 * that does not load is left for master_restart() to report.
 */
static void
master_drop_begin(struct master *m)
{
	const struct config *cf = m->m_cf;
	struct config ncf;
	char err[512];
	int i, j, kept, n;

	m->m_ndrop = 0;
	if (cf_load(&ncf, m->m_cl, err, sizeof(err)) == -1)
		return;
	for (i = 0; i < cf->cf_nlisten; i++) {
		for (kept = 0, j = 0; j < ncf.cf_nlisten; j++)
			kept |= strcmp(cf->cf_listen[i].hp_host,
			    ncf.cf_listen[j].hp_host) == 0 &&
			    strcmp(cf->cf_listen[i].hp_port,
			    ncf.cf_listen[j].hp_port) == 0;
		if (!kept && m->m_lfd[i] != -1 &&
		    !master_drained(&m->m_lfd[i], 1))
			m->m_drop[m->m_ndrop++] = m->m_lfd[i];
	}
	if (m->m_ndrop == 0)
		return;
	n = master_drain_begin(m->m_drop, m->m_ndrop);
	m->m_drop_by = io_deadline(DROP_DRAIN_MS);
	log_msg(LOG_L_NOTICE, "restart: first serving the %d connection%s "
	    "queued on %d listener%s it closes", n, n == 1 ? "" : "s",
	    m->m_ndrop, m->m_ndrop == 1 ? "" : "s");
}

/*
 * After the restart (or its failure): a listener that stayed open
 * queues again.
 */
static void
master_drop_end(struct master *m)
{
	int i, j;

	for (i = 0; i < m->m_ndrop; i++)
		for (j = 0; j < m->m_cf->cf_nlisten; j++)
			if (m->m_lfd[j] == m->m_drop[i])
				(void)master_queueing(m->m_drop[i], 1);
	m->m_ndrop = 0;
}

/*
 * Graceful stop, second step, once the queues are empty (or the
 * deadline has passed): close the listeners and tell every worker to
 * finish its session and exit.
 */
static void
master_graceful_stop(struct master *m, int64_t deadline)
{
	char why[96];

	/* Draining: the queues are ours alone, and the deadline passed. */
	if (m->m_draining) {
		snprintf(why, sizeof(why), "graceful stop: "
		    "GracefulShutdownTimeout (%d s) passed",
		    m->m_cf->cf_graceful_timeout);
		master_say_reset(m->m_lfd, m->m_cf->cf_nlisten, why);
	}
	log_msg(LOG_L_NOTICE, "graceful stop: finishing sessions");
	master_close_listeners(m);
	pool_stop(m->m_pool, 1, deadline);
	m->m_draining = 0;
}

/*
 * A restart's pool must fit the scoreboard, which was sized at start
 * for ServerLimit (cf_room()); a ServerLimit changed since waits for the
 * next start.  Return 0, or -1 with err, which fails the restart.
 */
static int
master_room(struct master *m, const struct config *ncf, char *err,
    size_t errlen)
{
	int room = (int)m->m_sb.sb_nslots / SB_GENERATIONS;

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
 * A restart that could not load its configuration: say so in the log,
 * to systemd, and to "-k graceful" (the reason first, then the count
 * it waits on).
 */
static void
master_restart_failed(struct master *m, int graceful, const char *err)
{
	struct sb_header *sh = m->m_sb.sb_hdr;
	const char *what = graceful ? "graceful restart" : "restart";

	log_msg(LOG_L_ERR, "%s failed, still running the old configuration: "
	    "%s", what, err);
	notify_send("READY=1\nSTATUS=%s failed, still running the old "
	    "configuration: %s", what, err);
	snprintf(sh->sh_reload_why, sizeof(sh->sh_reload_why), "%s", err);
	sh->sh_reload_failed = 1;
	atomic_thread_fence(memory_order_release);
	sh->sh_reloads++;
}

/*
 * HUP (graceful == 0) and USR1 (graceful == 1): re-read the whole
 * configuration, keep what listens on an unchanged address, reopen the
 * logs, start a new generation at once and tell the old one to finish.
 * A configuration that does not load is logged; the old one stays.
 */
static void
master_restart(struct master *m, int graceful)
{
	struct config ncf;
	int nfd[MAX_LISTEN], i, j, keep;
	char err[512];
	int64_t deadline = 0;

	notify_reloading(graceful ? "graceful restart" : "restart");
	if (cf_load(&ncf, m->m_cl, err, sizeof(err)) == -1 ||
	    priv_resolve(&ncf, err, sizeof(err)) == -1 ||
	    master_room(m, &ncf, err, sizeof(err)) == -1 ||
	    inherit_apply(&ncf, nfd, err, sizeof(err)) == -1 ||
	    master_listen(&ncf, m->m_cf, m->m_lfd, nfd, err, sizeof(err)) == -1) {
		master_restart_failed(m, graceful, err);
		return;
	}
	/* The pid file is locked for the master's life; it stays. */
	memcpy(ncf.cf_pidfile, m->m_cf->cf_pidfile, sizeof(ncf.cf_pidfile));
	for (i = 0; i < m->m_cf->cf_nlisten; i++) {
		for (keep = 0, j = 0; j < ncf.cf_nlisten; j++)
			keep |= nfd[j] == m->m_lfd[i];
		if (!keep)
			close(m->m_lfd[i]);
	}
	if (log_open(&ncf, m->m_detached, err, sizeof(err)) == -1)
		log_msg(LOG_L_ERR, "keeping the old logs: %s", err);
	if (status_open(&ncf, err, sizeof(err)) == -1)
		log_msg(LOG_L_ERR, "StatusListen: %s", err);
	*m->m_cf = ncf;
	sb_wake_on_demand(&m->m_sb, ncf.cf_fixed ? -1 : self_pipe[1]);
	memcpy(m->m_lfd, nfd, sizeof(nfd[0]) * (size_t)ncf.cf_nlisten);
	m->m_wc.wc_nlfd = ncf.cf_nlisten;
	master_new_lock(m);
	m->m_wc.wc_generation++;
	m->m_sb.sb_hdr->sh_generation = m->m_wc.wc_generation;
	m->m_sb.sb_hdr->sh_restarted = (int64_t)time(NULL);
	m->m_sb.sb_hdr->sh_max_workers = (uint32_t)ncf.cf_max_workers;
	/* The status process restarts too, to read the new StatusAllow. */
	status_stop(1);
	if (!graceful && ncf.cf_graceful_timeout > 0)
		deadline = io_deadline((int64_t)ncf.cf_graceful_timeout * 1000);
	pool_retire_old(m->m_pool, m->m_wc.wc_generation, deadline);
	for (i = 0; i < ncf.cf_start_servers; i++)
		if (pool_spawn(m->m_pool, &m->m_wc) == -1)
			break;
	/* The rest go into the slots of old idle workers once they leave. */
	pool_owe(m->m_pool, ncf.cf_start_servers - i);
	master_publish(m);
	log_msg(LOG_L_NOTICE, "%s: generation %lu, %d worker%s",
	    graceful ? "graceful restart" : "restart",
	    (unsigned long)m->m_wc.wc_generation, ncf.cf_start_servers,
	    ncf.cf_start_servers == 1 ? "" : "s");
	m->m_sb.sb_hdr->sh_reload_failed = 0;
	m->m_sb.sb_hdr->sh_reloads++;
	m->m_ready = 0;
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

/*
 * A restart asked for (HUP or USR1) happens once the new generation has
 * room: old workers still finishing a session keep their slots, and the
 * new generation must not be left with none.  Until then the running
 * generation serves on, and the error log says why, once.
 */
static void
master_try_restart(struct master *m)
{
	int room, need = m->m_cf->cf_start_servers > 0 ?
	    m->m_cf->cf_start_servers : 1;
	char why[96];

	if (!m->m_drop_looked) {
		master_drop_begin(m);
		m->m_drop_looked = 1;
	}
	if (m->m_ndrop > 0 && !master_drained(m->m_drop, m->m_ndrop) &&
	    io_now() < m->m_drop_by)
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
	if (m->m_ndrop > 0) {
		snprintf(why, sizeof(why), "restart: the listeners it closes "
		    "were not drained within %d s", DROP_DRAIN_MS / 1000);
		master_say_reset(m->m_drop, m->m_ndrop, why);
	}
	master_restart(m, m->m_restart == 2);
	master_drop_end(m);
	m->m_restart = 0;
	m->m_postponed = 0;
	m->m_drop_looked = 0;
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
		memcpy(fds, m->m_lfd, sizeof(fds[0]) * (size_t)m->m_cf->cf_nlisten);
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
master_resize(struct master *m, int by)
{
	struct config *cf = m->m_cf;
	int step = by > 0 ? 1 : -1, room, top;
	const char *sig = by > 0 ? "TTIN" : "TTOU";

	room = (int)m->m_sb.sb_nslots / SB_GENERATIONS;
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
	master_publish(m);
}

/* Show the pool's running size or spare bounds in "-k status". */
static void
master_publish(struct master *m)
{
	struct sb_header *sh = m->m_sb.sb_hdr;

	sh->sh_fixed = m->m_cf->cf_fixed;
	sh->sh_pool_size = m->m_cf->cf_fixed ? m->m_cf->cf_max_workers : 0;
	sh->sh_min_spare = m->m_cf->cf_min_spare;
	sh->sh_max_spare = m->m_cf->cf_max_spare;
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
		name = inherit_name(m->m_lfd[i]);
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
 * For a "-d" parent waiting on readyfd: once a worker is ready, send
 * "R".  If none can be (START_TRIES failed starts in a row, or nothing
 * ready by start_by), send "F" and the reason, for the parent to print,
 * and stop the server.  Return 1 once readyfd is answered and closed.
 */
static int
master_ready(struct master *m, int readyfd, int64_t start_by)
{
	const char *why;
	char msg[256];
	int n;

	if (pool_serving(m->m_pool, &m->m_wc))
		n = snprintf(msg, sizeof(msg), "R");
	else if ((why = pool_start_failed(m->m_pool, START_TRIES)) != NULL ||
	    (io_now() >= start_by && (why = "still starting") != NULL)) {
		n = snprintf(msg, sizeof(msg), "Fno worker became ready "
		    "(%s); the server stopped", why);
		log_msg(LOG_L_EMERG, "%s", msg + 1);
		m->m_status = EXIT_CHILDFATAL;
		sig_term = 1;
	} else
		return 0;
	/* A parent that is gone needs no answer. */
	if (write(readyfd, msg, (size_t)n) == -1) {
		/* nothing to do */
	}
	close(readyfd);
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
 * Reopen the logs of the running configuration, whatever the file on
 * disk says now, then have every worker take the new files (reopen.c).
 * The scoreboard tells "-k reopen" how it went.
 */
static void
master_reopen(struct master *m)
{
	m->m_sb.sb_hdr->sh_reopen_failed = reopen_master() == -1;
	m->m_sb.sb_hdr->sh_reopens++;
	pool_signal(m->m_pool, SIGURG);
	/* A new status process starts with the reopened logs. */
	status_stop(1);
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
	m->m_sb.sb_hdr->sh_max_workers = (uint32_t)m->m_cf->cf_max_workers;
	if ((m->m_pool = pool_new(nslots)) == NULL) {
		snprintf(err, errlen, "process table: %s", strerror(errno));
		return -1;
	}
	m->m_wc.wc_cf = m->m_cf;
	m->m_wc.wc_sb = &m->m_sb;
	m->m_wc.wc_lfd = m->m_lfd;
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
	struct pollfd pfd[2];
	int64_t now, next_tick, t, start_by, wd;
	char err[512];

	memset(&m, 0, sizeof(m));
	m.m_cf = cf;
	m.m_cl = cl;
	m.m_lfd = lfd;
	m.m_detached = detached;
	if (master_setup(&m, err, sizeof(err)) == -1) {
		log_msg(LOG_L_EMERG, "%s", err);
		/* A start that fails leaves nothing it made behind. */
		sb_destroy(&m.m_sb, sb_path(cf->cf_pidfile, err, sizeof(err)));
		return EXIT_STARTUP;
	}
	if (pidfd != -1)
		m.m_wc.wc_close[m.m_wc.wc_nclose++] = pidfd;
	if (readyfd != -1)
		m.m_wc.wc_close[m.m_wc.wc_nclose++] = readyfd;
	master_publish(&m);
	pool_owe(m.m_pool, cf->cf_start_servers);
	pool_fill(m.m_pool, &m.m_wc, io_now());
	master_started(&m);
	pfd[0].fd = self_pipe[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = reopen_master_fd();
	next_tick = io_deadline(TICK_MS);
	start_by = io_deadline(START_WAIT_MS);
	for (;;) {
		if (readyfd != -1 && master_ready(&m, readyfd, start_by) == 1) {
			readyfd = -1;
			/* The number may be reused; children must not close it. */
			m.m_wc.wc_close[--m.m_wc.wc_nclose] = -1;
		}
		master_notify_ready(&m);
		t = pool_next_event(m.m_pool);
		if (t == 0 || t > next_tick)
			t = next_tick;
		if (status_next_event() != 0 && status_next_event() < t)
			t = status_next_event();
		/*
		 * A "-d" parent or a service manager waits for the first
		 * worker of a generation, a graceful stop for the queues to
		 * empty, a burst for workers to be forked as they start,
		 * and an upgrade for the new master to serve: look often.
		 */
		if ((readyfd != -1 || m.m_draining || m.m_bursting ||
		    m.m_ndrop > 0 || (!m.m_ready && notify_enabled()) ||
		    upgrade_pending() || upgrade_waiting()) &&
		    t > io_now() + 20)
			t = io_now() + 20;
		if ((wd = notify_watchdog(io_now())) != 0 && wd < t)
			t = wd;
		if (m.m_reclaim_at != 0 && m.m_reclaim_at < t)
			t = m.m_reclaim_at;
		pfd[1].events = reopen_master_events();
		if (poll(pfd, 2, io_timeout(t)) > 0) {
			master_drain_pipe(&m);
			if (pfd[1].revents != 0)
				reopen_serve();
		}
		now = io_now();
		if (sig_chld) {
			sig_chld = 0;
			pool_reap(m.m_pool, &m.m_wc);
		}
		if (pool_fatal(m.m_pool) && !m.m_stopping) {
			m.m_status = EXIT_CHILDFATAL;
			sig_term = 1;
		}
		if (sig_term && m.m_stopping != 2) {
			sig_term = 0;
			m.m_draining = 0;
			log_msg(LOG_L_NOTICE, "stopping: closing every session");
			master_notify_stopping("stopping");
			master_close_listeners(&m);
			pool_stop(m.m_pool, 0, now + STOP_KILL_MS);
			status_stop(0);
			m.m_stopping = 2;
		}
		if (sig_winch && !m.m_stopping) {
			sig_winch = 0;
			master_notify_stopping("graceful stop: finishing "
			    "sessions");
			m.m_stop_by = cf->cf_graceful_timeout > 0 ?
			    now + (int64_t)cf->cf_graceful_timeout * 1000 : 0;
			status_stop(0);
			m.m_stopping = 1;
			/*
			 * A listener shared with the other master of an
			 * upgrade keeps its queue: that master serves it.
			 */
			if (upgrade_shared())
				master_graceful_stop(&m, m.m_stop_by);
			else {
				master_stop_queueing(&m);
				m.m_draining = 1;
			}
		}
		if (m.m_draining && (master_drained(m.m_lfd, cf->cf_nlisten) ||
		    (m.m_stop_by != 0 && now >= m.m_stop_by)))
			master_graceful_stop(&m, m.m_stop_by);
		if ((sig_hup || sig_usr1) && !m.m_stopping) {
			/* HUP wins over USR1: its deadline is the stricter. */
			m.m_restart = sig_hup || m.m_restart == 1 ? 1 : 2;
			sig_hup = sig_usr1 = 0;
		}
		if (m.m_restart && !m.m_stopping)
			master_try_restart(&m);
		if (m.m_resize != 0 && !m.m_stopping)
			master_resize(&m, m.m_resize);
		m.m_resize = 0;
		if (sig_urg) {
			sig_urg = 0;
			master_reopen(&m);
		}
		master_upgrade(&m);
		/* A new master that never served is ended first. */
		if (m.m_stopping && pool_live(m.m_pool) == 0 &&
		    status_pid() == 0 && !upgrade_waiting())
			break;
		pool_deadlines(m.m_pool, now);
		pool_fill(m.m_pool, &m.m_wc, now);
		m.m_bursting = pool_burst(m.m_pool, &m.m_wc, now);
		if (now >= next_tick ||
		    (m.m_reclaim_at != 0 && now >= m.m_reclaim_at))
			m.m_reclaim_at = reclaim_idle(m.m_pool, &m.m_wc,
			    now);
		if (!m.m_stopping)
			status_spawn(&m.m_wc, now);
		if (now >= next_tick) {
			status_tick(&m.m_sb, cf, m.m_lfd);
			pool_maintain(m.m_pool, &m.m_wc, now);
			pool_watchdog(m.m_pool, &m.m_wc, now);
			if (m.m_ready && !m.m_stopping)
				notify_status(&m.m_sb);
			next_tick = now + TICK_MS;
		}
	}
	{
		char path[MAX_PATH + 16];

		sb_destroy(&m.m_sb, sb_path(cf->cf_pidfile, path, sizeof(path)));
	}
	pool_free(m.m_pool);
	accept_mutex_free(m.m_wc.wc_mutex);
	log_msg(LOG_L_NOTICE, "stopped");
	return m.m_status;
}
