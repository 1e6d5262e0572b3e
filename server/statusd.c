/*
 * statusd.c: the status listener (StatusListen): /server-status?auto,
 * /server-status and /metrics over HTTP/1.1, served by a status process
 * of its own, and the master's side of keeping that process alive.
 *
 * Who serves it.  Not the master: its loop reaps, respawns and keeps
 * the pool, and must never wait on a client; even a non-blocking HTTP
 * server inside it would put parsing and megabyte answers (the full page
 * of 20,000 slots) between a SIGCHLD and the respawn.  Not the hello
 * workers: one of them serves one session at a time, so every status
 * client would take a worker from the hello service, and a few clients
 * sending half a request would take several.  So the master forks one
 * status process, in no pool slot, as it forks a worker, and forks it
 * again (after a pause if it keeps dying) when it dies.  That process
 * only reads the scoreboard, holds none of the hello listeners (so a
 * graceful stop still refuses new hello connections), and serves every
 * client from one poll() loop on non-blocking sockets: a client that
 * sends slowly or reads slowly holds only its own buffer until its
 * deadline, never the loop, another status client, or anything else.
 */
#include <sys/socket.h>
#include <sys/times.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esc.h"
#include "hellod.h"
#include "io.h"
#include "net.h"
#include "status.h"

#define STATUS_CLIENTS	32	/* served at once; more wait in the backlog */
#define STATUS_READ_MS	5000	/* to send the request head, else 408 */
#define STATUS_SEND_MS	10000	/* to read the whole answer */
#define STATUS_LINGER_MS 2000	/* to read our FIN before we close */
#define STATUS_BACKOFF_MAX_MS 32000
#define STATUS_PAUSE_MS	1000	/* no accept after EMFILE and the like */
#define STATUS_REFUSED_LOG_MS 1000	/* one line about refused clients */
#define STATUS_LOG_LINE	200	/* bytes of a request line logged */

enum sc_state { SC_FREE, SC_READING, SC_WRITING, SC_LINGER };
enum sd_page { PAGE_NONE, PAGE_METRICS, PAGE_AUTO, PAGE_FULL };

struct st_client {
	enum sc_state	 sc_state;
	int		 sc_fd;
	char		 sc_peer[ADDR_STRMAX];
	size_t		 sc_inlen;
	char		*sc_out;
	size_t		 sc_outlen;
	size_t		 sc_outoff;
	int64_t		 sc_deadline;
	int64_t		 sc_since;	/* accepted: the oldest goes first */
	char		 sc_in[RQ_HEAD_MAX];	/* last: not cleared */
};

/* The status process's own state. */
struct statusd {
	const struct config	*sd_cf;
	struct scoreboard	*sd_sb;
	int			 sd_lfd;
	int			 sd_deathfd;
	int			 sd_wakefd;
	int64_t			 sd_paused;	/* no accept until then, or 0 */
	int			 sd_failing;	/* accept failing: said once */
	struct st_worker	*sd_slots;	/* room for a snapshot */
	/*
	 * Clients outside StatusAllow, closed as they come: one log line
	 * for the first, then one a STATUS_REFUSED_LOG_MS with the count of
	 * the others, so that a storm of them writes a line a second.
	 */
	unsigned long		 sd_refused;	/* not logged yet */
	int64_t			 sd_refused_at;	/* io_now() of the last line */
	char			 sd_refused_peer[ADDR_STRMAX];	/* the last */
	struct st_client	 sd_client[STATUS_CLIENTS];
};

/* The master's record of its status process. */
struct status_proc {
	pid_t		 sp_pid;	/* 0: none runs */
	int		 sp_fd;		/* the StatusListen socket, or -1 */
	struct hostport	 sp_addr;
	int64_t		 sp_started;
	int64_t		 sp_next;	/* no fork before this */
	int64_t		 sp_backoff;
	int		 sp_told;	/* TERM sent: a restart, not a crash */
};

static struct status_proc	sp = { 0, -1, { "", "" }, 0, 0, 0, 0 };
static volatile sig_atomic_t	sd_stop;
static int			sd_wake_w = -1;

static void	sd_sig(int);
static void	sd_signals(void);
static void	sd_child(const struct worker_ctx *) __attribute__((__noreturn__));
static void	sd_loop(struct statusd *) __attribute__((__noreturn__));
static int	sd_poll_set(struct statusd *, struct pollfd *, int *,
		    int64_t *);
static void	sd_accept(struct statusd *);
static void	sd_accept_failed(struct statusd *);
static int	sd_allowed(struct statusd *, const struct sockaddr_storage *,
		    socklen_t);
static void	sd_refused_log(struct statusd *, int64_t);
static struct st_client *sd_slot(struct statusd *);
static void	sd_read(struct statusd *, struct st_client *);
static void	sd_write(struct st_client *);
static void	sd_linger(struct st_client *);
static void	sd_expire(struct st_client *, int64_t);
static void	sd_close(struct st_client *);
static void	sd_answer(struct statusd *, struct st_client *, int,
		    const struct rq_request *);
static int	sd_route(struct statusd *, int, const struct rq_request *,
		    FILE *, const char **, const char **);
static int	sd_respond(struct st_client *, int, const char *,
		    const char *, size_t, const char *, int);
static const char *sd_reason(int);
static int	sd_has(const char *, size_t, const char *);
static void	sd_log_request(const struct st_client *, int);

/*
 * Master: open, keep or close the StatusListen socket for cf.  An
 * unchanged address keeps its socket across restarts, as Listen does,
 * and one handed over (an upgrade's old master, a service manager) is
 * taken rather than bound.  Return 0, or -1 with err (the old socket,
 * if any, stays).
 */
int
status_open(const struct config *cf, char *err, size_t errlen)
{
	int fd;

	if (sp.sp_fd != -1 && cf->cf_has_status &&
	    strcmp(sp.sp_addr.hp_host, cf->cf_status.hp_host) == 0 &&
	    strcmp(sp.sp_addr.hp_port, cf->cf_status.hp_port) == 0)
		return 0;
	fd = -1;
	if (cf->cf_has_status && (fd = inherit_take(&cf->cf_status)) == -1 &&
	    (fd = net_listen(cf->cf_status.hp_host, cf->cf_status.hp_port,
	    cf->cf_backlog, err, errlen)) == -1)
		return -1;
	if (sp.sp_fd != -1)
		close(sp.sp_fd);
	sp.sp_fd = fd;
	sp.sp_addr = cf->cf_status;
	return 0;
}

/*
 * Master: fork the status process if there is a listener, none runs,
 * and no back-off holds it.  A failed fork() is retried a second later.
 */
void
status_spawn(const struct worker_ctx *wc, int64_t now)
{
	char addr[ADDR_STRMAX];
	sigset_t all, old;
	pid_t pid;

	if (sp.sp_fd == -1 || sp.sp_pid != 0 || now < sp.sp_next)
		return;
	/* As in pool_spawn(): no handler of ours may run in the child. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0)
		sd_child(wc);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_warn("fork() failed while starting the status process");
		sp.sp_next = now + 1000;
		return;
	}
	sp.sp_pid = pid;
	sp.sp_started = now;
	sp.sp_told = 0;
	addr_fmt_hp(&sp.sp_addr, addr, sizeof(addr));
	log_msg(LOG_L_NOTICE, "status listener on %s (pid %ld)", addr,
	    (long)pid);
}

/*
 * Master: if pid was the status process, note its end and return 1; it
 * is forked again at once, or after a growing pause when it died right
 * after starting.  Return 0 for any other pid.
 */
int
status_reaped(pid_t pid, int status, int64_t now)
{
	if (pid != sp.sp_pid || pid == 0)
		return 0;
	sp.sp_pid = 0;
	if (sp.sp_told)
		return 1;
	if (now - sp.sp_started < 1000) {
		sp.sp_backoff = sp.sp_backoff == 0 ? 1000 : sp.sp_backoff * 2;
		if (sp.sp_backoff > STATUS_BACKOFF_MAX_MS)
			sp.sp_backoff = STATUS_BACKOFF_MAX_MS;
	} else
		sp.sp_backoff = 0;
	sp.sp_next = now + sp.sp_backoff;
	if (WIFSIGNALED(status))
		log_msg(LOG_L_ERR, "status process (pid %ld) killed by signal "
		    "%d; restarting it%s", (long)pid, WTERMSIG(status),
		    sp.sp_backoff > 0 ? " after a pause" : "");
	else
		log_msg(LOG_L_ERR, "status process (pid %ld) exited %d; "
		    "restarting it%s", (long)pid, WEXITSTATUS(status),
		    sp.sp_backoff > 0 ? " after a pause" : "");
	return 1;
}

/*
 * Master: TERM the status process.  With restart, a new one (with the
 * configuration just loaded) starts once it is gone; without, the
 * listener closes too.
 */
void
status_stop(int restart)
{
	if (sp.sp_pid != 0 && !sp.sp_told)
		kill(sp.sp_pid, SIGTERM);
	sp.sp_told = 1;
	if (!restart && sp.sp_fd != -1) {
		close(sp.sp_fd);
		sp.sp_fd = -1;
	}
}

/*
 * In a worker, right after fork(): let go of the status listener, so
 * that closing it in the master (at a stop, or a restart that moves it)
 * really closes it.
 */
void
status_forget(void)
{
	if (sp.sp_fd != -1)
		close(sp.sp_fd);
	sp.sp_fd = -1;
}

/* Master: the StatusListen socket, for an upgrade to pass on; or -1. */
int
status_listener(void)
{
	return sp.sp_fd;
}

/* Master: the status process's pid, or 0. */
pid_t
status_pid(void)
{
	return sp.sp_pid;
}

/* Master: when status_spawn() is next due, or 0 for nothing pending. */
int64_t
status_next_event(void)
{
	return sp.sp_fd != -1 && sp.sp_pid == 0 ? sp.sp_next : 0;
}

/* TERM: leave the loop.  Nothing else happens here. */
static void
sd_sig(int sig)
{
	int saved = errno;

	(void)sig;
	sd_stop = 1;
	/* A full pipe already holds a wakeup; nothing is lost. */
	if (write(sd_wake_w, "", 1) == -1) {
		/* nothing to do */
	}
	errno = saved;
}

/* As a worker's: TERM ours, Ctrl-C left to the master, SIGPIPE never. */
static void
sd_signals(void)
{
	static const int ign[] = { SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH,
	    SIGPIPE, SIGTTIN, SIGTTOU };
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sd_sig;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		sigaction(ign[i], &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The status process, right after fork(): shed every descriptor of the
 * master's, the hello listeners first, set up, and serve until TERM or
 * the master's death.
 */
static void
sd_child(const struct worker_ctx *wc)
{
	static struct statusd sd;
	char err[256];
	int i, p[2];

	for (i = 0; i < wc->wc_nclose; i++)
		close(wc->wc_close[i]);
	for (i = 0; i < wc->wc_nlfd; i++)
		close(wc->wc_lfd[i]);
	log_role("status", -1);
	if (pipe(p) == -1 || io_cloexec(p[0]) == -1 || io_cloexec(p[1]) == -1 ||
	    io_nonblock(p[0], 1) == -1 || io_nonblock(p[1], 1) == -1 ||
	    io_nonblock(sp.sp_fd, 1) == -1)
		fatal("status process setup");
	sd_wake_w = p[1];
	sd_signals();
	if (priv_drop(wc->wc_cf, err, sizeof(err)) == -1) {
		log_msg(LOG_L_EMERG, "cannot drop privileges: %s", err);
		_exit(WEXIT_FATAL);
	}
	sd.sd_cf = wc->wc_cf;
	sd.sd_sb = wc->wc_sb;
	sd.sd_lfd = sp.sp_fd;
	sd.sd_deathfd = wc->wc_deathfd;
	sd.sd_wakefd = p[0];
	sd.sd_slots = calloc(wc->wc_sb->sb_nslots,
	    sizeof(*sd.sd_slots));
	if (sd.sd_slots == NULL)
		fatal("status process: snapshot");
	sd_loop(&sd);
}

/*
 * Fill pfd: the self-pipe, the death pipe, the listener while there is
 * room, and every client, each for what it waits on.  map[i] is the
 * client of pfd[i].  Return the count and the earliest deadline.
 */
static int
sd_poll_set(struct statusd *sd, struct pollfd *pfd, int *map,
    int64_t *deadline)
{
	struct st_client *c;
	int n = 0, i;

	*deadline = IO_NEVER;
	pfd[n].fd = sd->sd_wakefd;
	pfd[n++].events = POLLIN;
	pfd[n].fd = sd->sd_deathfd;
	pfd[n++].events = POLLIN;
	/*
	 * After EMFILE and the like the listener stays readable: leave it
	 * out of the set until the pause ends, rather than spin on it.
	 */
	if (sd->sd_paused != 0 && io_now() >= sd->sd_paused)
		sd->sd_paused = 0;
	pfd[n].fd = sd->sd_paused != 0 ? -1 : sd->sd_lfd;
	pfd[n].revents = 0;
	pfd[n++].events = POLLIN;
	if (sd->sd_paused != 0)
		*deadline = sd->sd_paused;
	for (i = 0; i < STATUS_CLIENTS; i++) {
		c = &sd->sd_client[i];
		if (c->sc_state == SC_FREE)
			continue;
		map[n] = i;
		pfd[n].fd = c->sc_fd;
		pfd[n++].events = c->sc_state == SC_WRITING ? POLLOUT : POLLIN;
		if (*deadline == IO_NEVER || c->sc_deadline < *deadline)
			*deadline = c->sc_deadline;
	}
	if (sd->sd_refused > 0 && (*deadline == IO_NEVER ||
	    sd->sd_refused_at + STATUS_REFUSED_LOG_MS < *deadline))
		*deadline = sd->sd_refused_at + STATUS_REFUSED_LOG_MS;
	return n;
}

static void
sd_loop(struct statusd *sd)
{
	struct pollfd pfd[STATUS_CLIENTS + 3];
	int map[STATUS_CLIENTS + 3], n, i;
	struct st_client *c;
	int64_t deadline, now;
	char b;

	for (;;) {
		n = sd_poll_set(sd, pfd, map, &deadline);
		if (poll(pfd, (nfds_t)n, io_timeout(deadline)) == -1 &&
		    errno != EINTR)
			fatal("status process: poll");
		while (read(sd->sd_wakefd, &b, 1) == 1)
			;
		if (sd_stop || pfd[1].revents != 0)
			exit(0);
		if (pfd[2].revents != 0)
			sd_accept(sd);
		now = io_now();
		if (sd->sd_refused > 0)
			sd_refused_log(sd, now);
		for (i = 3; i < n; i++) {
			c = &sd->sd_client[map[i]];
			if (pfd[i].revents != 0 && c->sc_state == SC_READING)
				sd_read(sd, c);
			else if (pfd[i].revents != 0 && c->sc_state == SC_WRITING)
				sd_write(c);
			else if (pfd[i].revents != 0 && c->sc_state == SC_LINGER)
				sd_linger(c);
			sd_expire(c, now);
		}
	}
}

/*
 * A free client record; when all are taken, the oldest client still
 * sending its request is dropped for the new one, so that a handful of
 * half-requests can never lock everyone else out.  NULL when every
 * client is past reading (they end by their own deadlines).
 */
static struct st_client *
sd_slot(struct statusd *sd)
{
	struct st_client *c, *oldest = NULL;
	int i;

	for (i = 0; i < STATUS_CLIENTS; i++) {
		c = &sd->sd_client[i];
		if (c->sc_state == SC_FREE)
			return c;
		if (c->sc_state == SC_READING &&
		    (oldest == NULL || c->sc_since < oldest->sc_since))
			oldest = c;
	}
	if (oldest != NULL) {
		log_msg(LOG_L_INFO, "dropping %s, still sending its "
		    "request, for a new client", oldest->sc_peer);
		sd_close(oldest);
	}
	return oldest;
}

/*
 * accept() failed.  EAGAIN and a client gone before we took it are
 * nothing; anything else (EMFILE, ENFILE, ENOBUFS) pauses accepting for
 * a second, as a worker does, and is logged once until an accept works
 * again: a listener that stays readable would otherwise spin the loop.
 */
static void
sd_accept_failed(struct statusd *sd)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED ||
	    errno == EPROTO || errno == EINTR)
		return;
	if (!sd->sd_failing)
		log_warnx("status listener: accept: %s; pausing "
		    "a second at a time until it works", strerror(errno));
	sd->sd_failing = 1;
	sd->sd_paused = io_deadline(STATUS_PAUSE_MS);
}

/*
 * Say that clients outside StatusAllow were refused: once a
 * STATUS_REFUSED_LOG_MS at most, with how many since the last line.
 */
static void
sd_refused_log(struct statusd *sd, int64_t now)
{
	if (sd->sd_refused_at != 0 &&
	    now < sd->sd_refused_at + STATUS_REFUSED_LOG_MS)
		return;
	if (sd->sd_refused == 1)
		log_warnx("refused %s: not in StatusAllow",
		    sd->sd_refused_peer);
	else
		log_warnx("refused %lu clients not in StatusAllow "
		    "within a second, the last %s", sd->sd_refused,
		    sd->sd_refused_peer);
	sd->sd_refused = 0;
	sd->sd_refused_at = now;
}

/*
 * Whether the peer of a connection just accepted is in StatusAllow.
 * One that is not is closed at once, before a byte of it is read, so
 * that it never holds one of the STATUS_CLIENTS places an allowed
 * client may need; and it is logged at a bounded rate.
 */
static int
sd_allowed(struct statusd *sd, const struct sockaddr_storage *ss,
    socklen_t len)
{
	const struct allow *al = &sd->sd_cf->cf_status_allow;

	if (cidr_match_list(al->al_net, (size_t)al->al_n,
	    (const struct sockaddr *)ss))
		return 1;
	addr_fmt((const struct sockaddr *)ss, len, sd->sd_refused_peer,
	    sizeof(sd->sd_refused_peer));
	sd->sd_refused++;
	sd_refused_log(sd, io_now());
	return 0;
}

/* Take every waiting connection there is room for. */
static void
sd_accept(struct statusd *sd)
{
	struct sockaddr_storage ss;
	struct st_client *c;
	socklen_t len;
	int fd;

	for (;;) {
		len = sizeof(ss);
		if ((fd = net_accept(sd->sd_lfd, (struct sockaddr *)&ss,
		    &len, 1)) == -1) {
			sd_accept_failed(sd);
			return;
		}
		if (sd->sd_failing) {
			log_msg(LOG_L_NOTICE, "accepting status clients again");
			sd->sd_failing = 0;
		}
		if (!sd_allowed(sd, &ss, len)) {
			close(fd);
			continue;
		}
		if ((c = sd_slot(sd)) == NULL) {
			close(fd);
			return;
		}
		memset(c, 0, offsetof(struct st_client, sc_in));
		c->sc_fd = fd;
		c->sc_state = SC_READING;
		c->sc_since = io_now();
		c->sc_deadline = c->sc_since + STATUS_READ_MS;
		addr_fmt((const struct sockaddr *)&ss, len, c->sc_peer,
		    sizeof(c->sc_peer));
	}
}

/* Read what the client sent; answer once the head is whole or wrong. */
static void
sd_read(struct statusd *sd, struct st_client *c)
{
	struct rq_request rq;
	ssize_t n;
	int r;

	n = read(c->sc_fd, c->sc_in + c->sc_inlen,
	    sizeof(c->sc_in) - c->sc_inlen);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		sd_close(c);	/* gone before asking anything complete */
		return;
	}
	c->sc_inlen += (size_t)n;
	if ((r = rq_parse(c->sc_in, c->sc_inlen, &rq)) != RQ_MORE)
		sd_answer(sd, c, r, &rq);
}

/* Send what is left of the answer; then close our side and linger. */
static void
sd_write(struct st_client *c)
{
	ssize_t n;

	while (c->sc_outoff < c->sc_outlen) {
		n = write(c->sc_fd, c->sc_out + c->sc_outoff,
		    c->sc_outlen - c->sc_outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			sd_close(c);
			return;
		}
		c->sc_outoff += (size_t)n;
	}
	free(c->sc_out);
	c->sc_out = NULL;
	/*
	 * Closing with the client's bytes unread (a body, a pipelined
	 * request) would send a reset that can destroy the answer in
	 * flight; shut our side and read until the client closes, as
	 * Apache's lingering close does.
	 */
	if (shutdown(c->sc_fd, SHUT_WR) == -1) {
		sd_close(c);
		return;
	}
	c->sc_state = SC_LINGER;
	c->sc_deadline = io_now() + STATUS_LINGER_MS;
}

static void
sd_linger(struct st_client *c)
{
	char sink[4096];
	ssize_t n;

	while ((n = read(c->sc_fd, sink, sizeof(sink))) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR))
		sd_close(c);
}

/* A client past its deadline: 408 if it never finished asking. */
static void
sd_expire(struct st_client *c, int64_t now)
{
	if (c->sc_state == SC_FREE || now < c->sc_deadline)
		return;
	if (c->sc_state == SC_READING) {
		log_msg(LOG_L_INFO, "%s sent no whole request in %d "
		    "seconds", c->sc_peer, STATUS_READ_MS / 1000);
		if (sd_respond(c, 408, NULL, "408 Request Timeout\n", 20,
		    NULL, 0) == 0) {
			sd_write(c);
			return;
		}
	}
	sd_close(c);
}

static void
sd_close(struct st_client *c)
{
	close(c->sc_fd);
	free(c->sc_out);
	c->sc_out = NULL;
	c->sc_state = SC_FREE;
}

/* True when word occurs in the n bytes at s. */
static int
sd_has(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if (memcmp(s + i, word, w) == 0)
			return 1;
	return 0;
}

/*
 * Log the client's request line (its first 200 bytes) and the answer,
 * as Apache's access log does: the line in quotes, escaped (\xHH, \"
 * and \\), so that what a client sends cannot forge a log line.
 */
static void
sd_log_request(const struct st_client *c, int code)
{
	char line[4 * STATUS_LOG_LINE + 1];
	size_t n;

	for (n = 0; n < c->sc_inlen && n < STATUS_LOG_LINE; n++)
		if (c->sc_in[n] == '\r' || c->sc_in[n] == '\n')
			break;
	(void)esc_bytes(line, sizeof(line), c->sc_in, n, ESC_QUOTED);
	log_msg(LOG_L_INFO, "%s \"%s\" %d", c->sc_peer, line, code);
}

static const char *
sd_reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	}
	return "Internal Server Error";
}

/*
 * Which text the request asks for, written into body.  Return the
 * status code, with the content type and any Allow header to send.
 * mod_status reads its options anywhere in the query, so "?auto" and
 * "?refresh=5&auto" are both the short form; "/server-status/" is the
 * same place (apache_exporter asks there).
 */
static int
sd_route(struct statusd *sd, int verdict, const struct rq_request *rq,
    FILE *body, const char **type, const char **allow)
{
	enum sd_page page = PAGE_NONE;
	struct st_snap sn;

	*type = "text/plain; charset=utf-8";
	*allow = NULL;
	if (verdict != RQ_OK)
		return verdict;
	if (rq->rq_method == RQ_OTHER) {
		*allow = "GET, HEAD";
		return 405;
	}
	if (rq->rq_pathlen == 8 && memcmp(rq->rq_path, "/metrics", 8) == 0)
		page = PAGE_METRICS;
	else if ((rq->rq_pathlen == 14 || (rq->rq_pathlen == 15 &&
	    rq->rq_path[14] == '/')) &&
	    memcmp(rq->rq_path, "/server-status", 14) == 0)
		page = rq->rq_query != NULL && sd_has(rq->rq_query,
		    rq->rq_querylen, "auto") ? PAGE_AUTO : PAGE_FULL;
	if (page == PAGE_NONE)
		return 404;
	sb_snapshot(sd->sd_sb, &sn, sd->sd_slots);
	if (page == PAGE_METRICS) {
		*type = "text/plain; version=0.0.4; charset=utf-8";
		st_metrics(&sn, body);
	} else if (page == PAGE_AUTO) {
		*type = "text/plain; charset=ISO-8859-1";
		st_auto(&sn, body);
	} else
		st_full(&sn, body);
	return 200;
}

/* Answer the client: the status the parser or the route decides. */
static void
sd_answer(struct statusd *sd, struct st_client *c, int verdict,
    const struct rq_request *rq)
{
	const char *type, *allow;
	char *text = NULL;
	size_t len = 0;
	FILE *body;
	int code;

	if ((body = open_memstream(&text, &len)) == NULL) {
		sd_close(c);
		return;
	}
	code = sd_route(sd, verdict, rq, body, &type, &allow);
	if (code != 200) {
		type = "text/plain; charset=utf-8";
		fprintf(body, "%d %s\n", code, sd_reason(code));
	}
	if (fclose(body) != 0 || text == NULL) {
		free(text);
		sd_close(c);
		return;
	}
	if (log_enabled(LOG_L_INFO))
		sd_log_request(c, code);
	if (sd_respond(c, code, type, text, len, code == 405 ? allow : NULL,
	    verdict == RQ_OK && rq->rq_method == RQ_HEAD) == 0)
		sd_write(c);
	else
		sd_close(c);
	free(text);
}

/*
 * Put the whole response (head, and body unless head_only) in c's out
 * buffer and make it the writer.  Return 0, or -1 when out of memory.
 */
static int
sd_respond(struct st_client *c, int code, const char *type, const char *body,
    size_t len, const char *allow, int head_only)
{
	char date[64], head[512];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nDate: %s\r\n"
	    "Server: %s\r\n%s%s%sContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-cache\r\nConnection: close\r\n\r\n", code,
	    sd_reason(code), date, SERVER_NAME, allow != NULL ? "Allow: " : "",
	    allow != NULL ? allow : "", allow != NULL ? "\r\n" : "",
	    type != NULL ? type : "text/plain; charset=utf-8", len);
	if (head_only)
		len = 0;
	if ((c->sc_out = malloc((size_t)n + len)) == NULL)
		return -1;
	memcpy(c->sc_out, head, (size_t)n);
	memcpy(c->sc_out + n, body, len);
	c->sc_outlen = (size_t)n + len;
	c->sc_outoff = 0;
	c->sc_state = SC_WRITING;
	c->sc_deadline = io_now() + STATUS_SEND_MS;
	return 0;
}

/*
 * Master: the once-a-second figures in the scoreboard: CPU time (its own
 * and its reaped children's, as times(3) counts them) and each
 * listener's accept queue where the system tells it (accept_queued()).
 */
void
status_tick(struct scoreboard *sb, const struct config *cf, const int *lfd)
{
	struct sb_header *sh = sb->sb_hdr;
	long tck = sysconf(_SC_CLK_TCK);
	struct tms t;
	int i, q, n = 0;

	if (tck > 0 && times(&t) != (clock_t)-1) {
		sh->sh_cpu_ms[0] = (int64_t)t.tms_utime * 1000 / tck;
		sh->sh_cpu_ms[1] = (int64_t)t.tms_stime * 1000 / tck;
		sh->sh_cpu_ms[2] = (int64_t)t.tms_cutime * 1000 / tck;
		sh->sh_cpu_ms[3] = (int64_t)t.tms_cstime * 1000 / tck;
	}
	for (i = 0; i < cf->cf_nlisten && i < MAX_LISTEN; i++) {
		if (lfd[i] == -1 || (q = accept_queued(lfd[i])) == -1)
			continue;
		addr_fmt_hp(&cf->cf_listen[i], sh->sh_listen[n].sl_addr,
		    sizeof(sh->sh_listen[n].sl_addr));
		sh->sh_listen[n].sl_queue = (int32_t)q;
		n++;
	}
	sh->sh_nlisten = n;
}
