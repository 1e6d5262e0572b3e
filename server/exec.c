/*
 * exec.c: Handler exec, the UCSPI-TCP contract of tcpserver.  For each
 * session the worker starts PROGRAM with the connection as descriptors
 * 0 and 1, a pipe as 2 (each line of it goes to the ErrorLog, tagged
 * with the client) and PROTO, TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP,
 * TCPLOCALPORT added to hellod's environment; then it watches: the
 * program's exit, Timeout (no byte either way, by the kernel's counts:
 * tcpinfo.c), IdleTimeoutUnderLoad, a stop.  PROGRAM leads a process
 * group of its own, and whatever is left of the group when the session
 * ends gets TERM, then KILL.
 *
 * posix_spawn(), not fork(): the worker stays, to watch; the C library
 * starts the program without copying the worker's page tables (a
 * vfork-like clone on Linux), measured faster than fork() and exec
 * (hellod.8, "what a program can rely on").  Everything it needs is
 * made once per worker: no allocation per session.
 */
#define _DEFAULT_SOURCE		/* syscall(): close_range, not in POSIX */

#if defined(__linux__) && !defined(HELLOD_PORTABLE)
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/close_range.h>
#define HAVE_SUBREAPER	1
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "linereader.h"

#define EXEC_KILL_MS	1000	/* TERM, then KILL after this */
#define EXEC_STOP_KILL_MS (STOP_KILL_MS / 2)	/* ... when the worker stops */
#define EXEC_LOOK_MS	1000	/* byte counts looked at this often */
#define EXEC_ERRLINE	512	/* a stderr line longer is logged in pieces */
#define EXEC_NVARS	5	/* PROTO and the four addresses */
#define EXEC_FD_SCAN	65536	/* descriptors looked at without close_range */

extern char **environ;

/* What each session's spawn needs, made once (exec_init()). */
struct exec {
	char			*e_argv[HANDLER_ARGC_MAX + 1];
	char			**e_envp;	/* environ, less ours, + ours */
	size_t			 e_nenv;	/* where ours begin */
	char			 e_var[EXEC_NVARS][ADDR_HOSTMAX + 16];
	posix_spawnattr_t	 e_attr;
	posix_spawn_file_actions_t e_fa;
	int			 e_fa_conn;	/* e_fa is for these fds */
	int			 e_fa_err;
	char			 e_line[EXEC_ERRLINE];	/* stderr, unended */
	size_t			 e_len;
};

/* One session's program, as exec_watch() follows it. */
struct prog {
	pid_t		 p_pid;		/* 0 once reaped */
	pid_t		 p_pgid;	/* its process group */
	int		 p_status;
	int		 p_errfd;	/* stderr's read end, or -1 */
	int64_t		 p_kill_at;	/* TERM sent: KILL then, or 0 */
	uint64_t	 p_in, p_out;	/* bytes, as last counted */
	int		 p_counted;	/* the system counts them */
	int64_t		 p_quiet;	/* no byte either way since */
};

static struct exec	ex;

static const char *const exec_names[] = {
	"PROTO=", "TCPREMOTEIP=", "TCPREMOTEPORT=", "TCPLOCALIP=",
	"TCPLOCALPORT=", "TCPREMOTEHOST=", "TCPREMOTEINFO=", "TCPLOCALHOST="
};

static int	exec_ours(const char *);
static void	exec_cloexec_all(void);
static void	exec_addr(const struct sockaddr *, socklen_t, int);
static int	exec_actions(int, int);
static int	exec_spawn(struct worker *, const struct conn *,
		    struct session_stats *, struct prog *);
static void	exec_errlog(struct prog *, const char *, int);
static void	exec_signal(struct prog *, pid_t, int64_t);
static void	exec_count(const struct conn *, struct prog *, int64_t);
static void	exec_news(struct worker *, struct prog *,
		    struct session_stats *);
static void	exec_watch(struct worker *, const struct conn *,
		    struct prog *, struct session_stats *);
static void	exec_reap(struct prog *);
static void	exec_leftovers(struct worker *, struct prog *,
		    struct session_stats *);

/* Whether the environment entry s is one of the names we set or unset. */
static int
exec_ours(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(exec_names) / sizeof(exec_names[0]); i++)
		if (strncmp(s, exec_names[i], strlen(exec_names[i])) == 0)
			return 1;
	return 0;
}

/*
 * Every descriptor above 2 close-on-exec, those hellod was started with
 * too (a shell's, a supervisor's), which the program must not get.
 * hellod's own are close-on-exec already.  Linux marks them all in one
 * call (close_range(), 5.11); elsewhere each is looked at.
 */
static void
exec_cloexec_all(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd, fl;

#if defined(HAVE_SUBREAPER) && defined(SYS_close_range)
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	if (max < 0 || max > EXEC_FD_SCAN)
		max = EXEC_FD_SCAN;
	for (fd = 3; fd < max; fd++)
		if ((fl = fcntl(fd, F_GETFD)) != -1 && !(fl & FD_CLOEXEC))
			(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/*
 * Once per worker: the argument vector, the environment less any
 * TCP* of our names it had, the spawn attributes (a process group of
 * its own, every signal at its default and none blocked: the worker
 * ignores some, and ignored signals survive exec).  Return 0, or -1.
 */
int
exec_init(const struct worker *w)
{
	const struct config *cf = w->w_cf;
	char *p = (char *)(uintptr_t)cf->cf_handler_args;
	sigset_t all, none;
	size_t n, i;
	int k;

	for (k = 0; k < cf->cf_handler_argc; k++, p += strlen(p) + 1)
		ex.e_argv[k] = p;
	ex.e_argv[k] = NULL;
	for (n = 0; environ[n] != NULL; n++)
		;
	if ((ex.e_envp = calloc(n + EXEC_NVARS + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!exec_ours(environ[i]))
			ex.e_envp[ex.e_nenv++] = environ[i];
	for (k = 0; k < EXEC_NVARS; k++)
		ex.e_envp[ex.e_nenv + (size_t)k] = ex.e_var[k];
	snprintf(ex.e_var[0], sizeof(ex.e_var[0]), "PROTO=TCP");
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	ex.e_fa_conn = ex.e_fa_err = -1;
	exec_cloexec_all();
#ifdef HAVE_SUBREAPER
	/*
	 * What a program leaves behind when it exits comes to the worker,
	 * not to init, to be reaped at once: kill(-pgid, 0) stops finding
	 * it as soon as it is gone, not when init gets round to it.
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
#endif
	if (posix_spawnattr_init(&ex.e_attr) != 0 ||
	    posix_spawnattr_setflags(&ex.e_attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) != 0 ||
	    posix_spawnattr_setpgroup(&ex.e_attr, 0) != 0 ||
	    posix_spawnattr_setsigdefault(&ex.e_attr, &all) != 0 ||
	    posix_spawnattr_setsigmask(&ex.e_attr, &none) != 0)
		return -1;
	return 0;
}

/* TCPREMOTEIP and PORT (local 0) or TCPLOCALIP and PORT (local 1). */
static void
exec_addr(const struct sockaddr *sa, socklen_t len, int local)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	char host[ADDR_HOSTMAX], port[ADDR_PORTMAX + 2];
	int v = local ? 3 : 1;

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		host[0] = port[0] = '\0';
	/* An IPv4 client of a [::] listener is an IPv4 address. */
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	    strncmp(host, "::ffff:", 7) == 0)
		memmove(host, host + 7, strlen(host + 7) + 1);
	snprintf(ex.e_var[v], sizeof(ex.e_var[v]), "%s%s",
	    local ? "TCPLOCALIP=" : "TCPREMOTEIP=", host);
	snprintf(ex.e_var[v + 1], sizeof(ex.e_var[v + 1]), "%s%s",
	    local ? "TCPLOCALPORT=" : "TCPREMOTEPORT=", port);
}

/*
 * The spawn's descriptor moves: the connection onto 0 and 1, the
 * stderr pipe onto 2.  Made again only when the numbers change, which
 * they seldom do: the lowest free ones come back each session.
 */
static int
exec_actions(int conn, int err)
{
	if (conn == ex.e_fa_conn && err == ex.e_fa_err)
		return 0;
	if (ex.e_fa_conn != -1)
		posix_spawn_file_actions_destroy(&ex.e_fa);
	ex.e_fa_conn = -1;
	if (posix_spawn_file_actions_init(&ex.e_fa) != 0)
		return -1;
	if (posix_spawn_file_actions_adddup2(&ex.e_fa, conn, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&ex.e_fa, conn, 1) != 0 ||
	    posix_spawn_file_actions_adddup2(&ex.e_fa, err, 2) != 0) {
		posix_spawn_file_actions_destroy(&ex.e_fa);
		return -1;
	}
	ex.e_fa_conn = conn;
	ex.e_fa_err = err;
	return 0;
}

/*
 * Start PROGRAM for connection c.  Return 0, or -1 when it could not be
 * started: the reason is logged, and counted as a handler failure.
 */
static int
exec_spawn(struct worker *w, const struct conn *c, struct session_stats *st,
    struct prog *p)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int pfd[2], rc;

	exec_addr((const struct sockaddr *)&w->w_client, w->w_clientlen, 0);
	if (getsockname(c->cn_fd, (struct sockaddr *)&local, &len) == -1)
		len = 0;
	exec_addr((const struct sockaddr *)&local, len, 1);
	if (pipe(pfd) == -1) {
		rc = errno;
		goto fail;
	}
	(void)io_cloexec(pfd[0]);
	(void)io_cloexec(pfd[1]);
	(void)io_nonblock(pfd[0], 1);
	rc = exec_actions(c->cn_fd, pfd[1]) == -1 ? ENOMEM :
	    posix_spawn(&p->p_pid, ex.e_argv[0], &ex.e_fa, &ex.e_attr,
	    ex.e_argv, ex.e_envp);
	close(pfd[1]);
	if (rc == 0) {
		p->p_errfd = pfd[0];
		return 0;
	}
	close(pfd[0]);
fail:
	p->p_pid = 0;
	log_msg(LOG_L_ERR, "Handler exec: cannot execute %s for %s: %s",
	    ex.e_argv[0], st->st_client, strerror(rc));
	w->w_slot->ss_hfail[HFAIL_EXEC]++;
	st->st_noexec = 1;
	return -1;
}

/*
 * Read what the program wrote on its stderr and log it, a line at a
 * time, tagged with the client; a line longer than EXEC_ERRLINE goes
 * in pieces.  At the end (last), an unended line goes too.
 */
static void
exec_errlog(struct prog *p, const char *client, int last)
{
	char buf[4096], *nl;
	ssize_t n;
	size_t i, k;

	while (p->p_errfd != -1) {
		if ((n = read(p->p_errfd, buf, sizeof(buf))) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				close(p->p_errfd);
				p->p_errfd = -1;
				last = 1;
			}
			break;
		}
		for (i = 0; i < (size_t)n; i += k) {
			nl = memchr(buf + i, '\n', (size_t)n - i);
			k = nl != NULL ? (size_t)(nl - (buf + i)) + 1 :
			    (size_t)n - i;
			if (k > sizeof(ex.e_line) - ex.e_len)
				k = sizeof(ex.e_line) - ex.e_len;
			memcpy(ex.e_line + ex.e_len, buf + i, k);
			ex.e_len += k;
			if (ex.e_line[ex.e_len - 1] == '\n' ||
			    ex.e_len == sizeof(ex.e_line)) {
				log_msg(LOG_L_ERR, "[client %s] %.*s", client,
				    (int)(ex.e_len - (ex.e_line[ex.e_len - 1] ==
				    '\n')), ex.e_line);
				ex.e_len = 0;
			}
		}
	}
	if (last && ex.e_len > 0) {
		log_msg(LOG_L_ERR, "[client %s] %.*s", client, (int)ex.e_len,
		    ex.e_line);
		ex.e_len = 0;
	}
}

/*
 * TERM to the program's process group, KILL after wait ms (a shorter
 * wait does not put a KILL off).
 */
static void
exec_signal(struct prog *p, pid_t pgid, int64_t wait)
{
	int64_t at = io_now() + wait;

	if (p->p_kill_at == 0)
		(void)kill(-pgid, SIGTERM);
	if (p->p_kill_at == 0 || at < p->p_kill_at)
		p->p_kill_at = at;
}

/*
 * Count the bytes either way, as the system does; any new one makes
 * the session busy again (Timeout, IdleTimeoutUnderLoad start over).
 */
static void
exec_count(const struct conn *c, struct prog *p, int64_t now)
{
	uint64_t in, out;

	if (tcpinfo_bytes(c->cn_fd, 0, &in, &out) == -1)
		return;
	if (!p->p_counted || in != p->p_in || out != p->p_out)
		p->p_quiet = now;
	p->p_counted = 1;
	p->p_in = in;
	p->p_out = out;
}

/*
 * Reap what has ended: the program (its status kept) and, where the
 * worker is their subreaper, what it left behind.
 */
static void
exec_reap(struct prog *p)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == p->p_pid) {
			p->p_pid = 0;
			p->p_status = status;
		}
}

/*
 * The worker's pipes spoke: a stop (TERM now, KILL soon), a graceful
 * stop (let go of the listeners; the program finishes), a reclaim
 * (IdleTimeoutUnderLoad: TERM, unless a byte has moved just now).
 */
static void
exec_news(struct worker *w, struct prog *p, struct session_stats *st)
{
	const struct config *cf = w->w_cf;
	int64_t now = io_now(), idle, age;
	int old;

	if (wake_check(w)) {
		if (st->st_end != END_TIMEOUT && st->st_end != END_BUSY)
			st->st_end = END_SHUTDOWN;
		exec_signal(p, p->p_pgid, EXEC_STOP_KILL_MS);
	}
	if (w->w_finish && w->w_slot->ss_state != SB_GRACEFUL) {
		accept_close(w);
		sb_set_state(w->w_slot, SB_GRACEFUL);
	}
	if (!w->w_reclaim)
		return;
	w->w_reclaim = 0;
	idle = (int64_t)cf->cf_idle_under_load * 1000;
	age = (int64_t)cf->cf_age_under_load * 1000;
	old = age > 0 && now - st->st_start_ms >= age;
	if (w->w_finish || p->p_kill_at != 0 ||
	    (!old && (idle == 0 || now - p->p_quiet < idle)))
		return;
	st->st_end = END_BUSY;
	exec_signal(p, p->p_pgid, EXEC_KILL_MS);
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "ending the %s program session of %s: "
		    "every worker is busy and connections wait", old ? "long" :
		    "idle", st->st_client);
}

/*
 * Until the program exits: its stderr to the log, the worker's pipes,
 * and once a second (or when due) the byte counts, Timeout and a KILL
 * after a TERM that was not enough.
 */
static void
exec_watch(struct worker *w, const struct conn *c, struct prog *p,
    struct session_stats *st)
{
	int64_t tmo = (int64_t)w->w_cf->cf_timeout * 1000, now, next;
	struct pollfd pfd[3];

	p->p_quiet = io_now();
	while (p->p_pid != 0) {
		now = io_now();
		exec_count(c, p, now);
		w->w_slot->ss_idle = p->p_quiet;
		if (p->p_kill_at == 0 && now - p->p_quiet >= tmo) {
			st->st_end = END_TIMEOUT;
			exec_signal(p, p->p_pgid, EXEC_KILL_MS);
		}
		if (p->p_kill_at > 0 && now >= p->p_kill_at) {
			(void)kill(-p->p_pgid, SIGKILL);
			p->p_kill_at = -1;
		}
		next = now + EXEC_LOOK_MS;
		if (p->p_kill_at == 0 && p->p_quiet + tmo < next)
			next = p->p_quiet + tmo;
		if (p->p_kill_at > 0 && p->p_kill_at < next)
			next = p->p_kill_at;
		pfd[0].fd = w->w_wakefd;
		pfd[1].fd = w->w_stop ? -1 : w->w_deathfd;
		pfd[2].fd = p->p_errfd;
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		beat_post(w);
		if (poll(pfd, 3, io_timeout(beat_bound(w, next))) > 0) {
			if (pfd[2].revents != 0)
				exec_errlog(p, st->st_client, 0);
			if (pfd[0].revents != 0 || pfd[1].revents != 0)
				exec_news(w, p, st);
		}
		exec_reap(p);
	}
}

/*
 * The program has exited: what it left running in its process group
 * gets TERM, and KILL a second later (half that when the worker is
 * stopping, so that it is done before the master's KILL).
 */
static void
exec_leftovers(struct worker *w, struct prog *p, struct session_stats *st)
{
	int64_t give_up;

	if (p->p_kill_at == 0 && kill(-p->p_pgid, SIGTERM) == -1)
		return;
	if (p->p_kill_at == 0) {
		p->p_kill_at = io_now() + (w->w_stop ? EXEC_STOP_KILL_MS :
		    EXEC_KILL_MS);
		log_msg(LOG_L_INFO, "the program of %s left processes "
		    "running: TERM", st->st_client);
	}
	give_up = io_now() + EXEC_KILL_MS * 2;
	while (kill(-p->p_pgid, 0) == 0 && io_now() < give_up) {
		if (p->p_kill_at > 0 && io_now() >= p->p_kill_at) {
			(void)kill(-p->p_pgid, SIGKILL);
			p->p_kill_at = -1;
		}
		(void)io_wait(p->p_errfd, POLLIN, io_deadline(20));
		exec_errlog(p, st->st_client, 0);
		exec_reap(p);
		beat_post(w);
	}
}

/*
 * Serve connection c with PROGRAM: admission as for any session (PROXY
 * header, MaxConnectionsPerIP), then the program until it and its
 * process group are gone.  Fills st for the access log: bytes and the
 * program's wait status.
 */
void
exec_run(struct worker *w, const struct conn *c, struct session_stats *st)
{
	struct linereader lr;
	struct prog p;

	memset(&p, 0, sizeof(p));
	p.p_errfd = -1;
	lr_init(&lr, c->cn_fd, w->w_in, w->w_incap, (size_t)w->w_cf->cf_max_line);
	st->st_end = END_PROGRAM;
	w->w_reclaim = 0;
	if (!admit_conn(w, c, &lr, st))
		return;
	st->st_program = 1;
	if (exec_spawn(w, c, st, &p) == 0) {
		p.p_pgid = p.p_pid;
		exec_watch(w, c, &p, st);
		exec_leftovers(w, &p, st);
		st->st_status = p.p_status;
		exec_errlog(&p, st->st_client, 1);
		if (p.p_errfd != -1)
			close(p.p_errfd);
	}
	w->w_slot->ss_idle = 0;
	if (tcpinfo_bytes(c->cn_fd, 1, &st->st_in, &st->st_out) == -1)
		st->st_in = lr.lr_bytes;
	admit_leave(w);
}
