/*
 * worker.c: a worker process: accept a connection, serve its session,
 * repeat, until told to stop or finish, or until the master is gone.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "net.h"

volatile sig_atomic_t	worker_stop;
volatile sig_atomic_t	worker_finish;

static int	wake_w = -1;		/* write end of the self-pipe */
static int	listeners_closed;

static void	worker_sig(int);
static void	worker_signals(void);
static int	worker_accept(struct worker_ctx *, struct sockaddr_storage *,
		    socklen_t *);
static void	worker_serve(struct worker_ctx *, struct sb_slot *, int,
		    const struct sockaddr_storage *, socklen_t);

/* TERM: close the session and exit now; USR1: finish it, then exit. */
static void
worker_sig(int sig)
{
	int saved = errno;

	if (sig == SIGTERM)
		worker_stop = 1;
	else
		worker_finish = 1;
	/* A full pipe already holds a wakeup; nothing is lost. */
	if (write(wake_w, "", 1) == -1) {
		/* nothing to do */
	}
	errno = saved;
}

/*
 * Right after fork(): our own handlers, and SIGINT ignored so that a
 * Ctrl-C on the terminal reaches the workers only through the master.
 */
static void
worker_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = worker_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * A worker told to finish stops holding the listening sockets, so that
 * once the master closes them too the kernel refuses new connections
 * instead of queueing them for nobody.
 */
void
worker_drop_listeners(const struct worker_ctx *wc)
{
	int i;

	if (listeners_closed)
		return;
	for (i = 0; i < wc->wc_nlfd; i++)
		close(wc->wc_lfd[i]);
	listeners_closed = 1;
}

/*
 * Wait for a connection on any listener.  Return the connected socket,
 * or -1 when the worker must exit (stop, finish, or the master is gone).
 * After EMFILE and the like, stop accepting for a second rather than
 * spin on a listener that stays readable, and say so at most once a
 * second.
 */
static int
worker_accept(struct worker_ctx *wc, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	static int64_t last_complaint;
	static int next;
	struct pollfd pfd[MAX_LISTEN + 2];
	int64_t paused_until = 0;
	int i, n, fd, k;
	char c;

	pfd[0].fd = wc->wc_wakefd;
	pfd[1].fd = wc->wc_deathfd;
	for (i = 0; i < wc->wc_nlfd; i++)
		pfd[i + 2].fd = wc->wc_lfd[i];
	for (i = 0; i < wc->wc_nlfd + 2; i++)
		pfd[i].events = POLLIN;
	for (;;) {
		if (worker_stop || worker_finish)
			return -1;
		if (paused_until != 0 && io_now() >= paused_until)
			paused_until = 0;
		n = poll(pfd, paused_until ? 2 : (nfds_t)wc->wc_nlfd + 2,
		    paused_until ? io_timeout(paused_until) : -1);
		if (n <= 0)
			continue;
		if (pfd[1].revents != 0)
			return -1;
		if (pfd[0].revents != 0)
			while (read(wc->wc_wakefd, &c, 1) == 1)
				;
		if (paused_until != 0)
			continue;
		for (k = 0; k < wc->wc_nlfd; k++) {
			i = (next + k) % wc->wc_nlfd;
			if (pfd[i + 2].revents == 0)
				continue;
			*sslen = sizeof(*ss);
			fd = net_accept(wc->wc_lfd[i], (struct sockaddr *)ss, sslen);
			if (fd != -1) {
				next = (i + 1) % wc->wc_nlfd;
				return fd;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ECONNABORTED || errno == EPROTO ||
			    errno == EINTR)
				continue;
			if (io_now() - last_complaint >= 1000) {
				log_warn("accept");
				last_complaint = io_now();
			}
			paused_until = io_deadline(1000);
			break;
		}
	}
}

static void
worker_serve(struct worker_ctx *wc, struct sb_slot *ss, int fd,
    const struct sockaddr_storage *sa, socklen_t salen)
{
	struct session_stats st;

	memset(&st, 0, sizeof(st));
	addr_fmt((const struct sockaddr *)sa, salen, st.st_client,
	    sizeof(st.st_client));
	memcpy(ss->ss_client, st.st_client, sizeof(ss->ss_client));
	st.st_start = time(NULL);
	st.st_start_ms = io_now();
	ss->ss_sessions++;
	sb_set_state(ss, worker_finish ? SB_GRACEFUL : SB_READING);
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "accepted from %s", st.st_client);
	session_run(wc, fd, ss, &st);
	close(fd);
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "connection from %s closed (%s)",
		    st.st_client, log_end_word(st.st_end));
	log_access(&st);
	ss->ss_bytes += st.st_in + st.st_out;
	sb_set_state(ss, SB_WAITING);
}

/*
 * The worker's life.  The master filled wc before fork() and closed
 * nothing yet; we keep the listeners, the death pipe's read end and our
 * slot, and exit with WEXIT_OK, or WEXIT_FATAL when we cannot set up.
 */
void
worker_main(struct worker_ctx *wc)
{
	const struct config *cf = wc->wc_cf;
	struct sb_slot *ss = &wc->wc_sb->sb_slot[wc->wc_slot];
	struct sockaddr_storage sa;
	socklen_t salen;
	char err[256];
	int pfd[2], fd;

	log_role("worker %d", wc->wc_slot);
	if (pipe(pfd) == -1 || io_cloexec(pfd[0]) == -1 ||
	    io_cloexec(pfd[1]) == -1 || io_nonblock(pfd[0], 1) == -1 ||
	    io_nonblock(pfd[1], 1) == -1)
		fatal("self-pipe");
	wc->wc_wakefd = pfd[0];
	wake_w = pfd[1];
	worker_signals();
	if (priv_drop(cf, err, sizeof(err)) == -1) {
		log_msg(LOG_L_EMERG, "cannot drop privileges: %s", err);
		_exit(WEXIT_FATAL);
	}
	if (session_init(cf) == -1)
		fatal("session buffers");
	ss->ss_pid = getpid();
	ss->ss_generation = wc->wc_generation;
	sb_set_state(ss, SB_WAITING);
	for (;;) {
		if (cf->cf_max_conn_child > 0 &&
		    ss->ss_sessions >= (uint64_t)cf->cf_max_conn_child)
			break;
		if (wc->wc_sb->sb_hdr->sh_generation != wc->wc_generation)
			break;
		if ((fd = worker_accept(wc, &sa, &salen)) == -1)
			break;
		worker_serve(wc, ss, fd, &sa, salen);
	}
	sb_set_state(ss, SB_GRACEFUL);
	exit(WEXIT_OK);
}
