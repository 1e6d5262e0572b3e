/*
 * worker.c: a worker process's life: set up, take a connection, serve its
 * session, repeat, until told to stop or finish, until a new generation
 * starts, or until the master is gone.  Everything the worker holds is in
 * one struct worker; the session borrows what it needs from it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

static void	worker_setup(struct worker *, const struct worker_ctx *);
static void	worker_serve(struct worker *, struct conn *);
static int	worker_done(const struct worker *);

/*
 * Take over what the master prepared (wc, filled before fork()), drop
 * privileges and get ready to accept.  Exit WEXIT_FATAL on what no
 * respawn can fix.
 */
static void
worker_setup(struct worker *w, const struct worker_ctx *wc)
{
	char err[256];

	memset(w, 0, sizeof(*w));
	w->w_cf = wc->wc_cf;
	w->w_sb = wc->wc_sb;
	w->w_slotno = wc->wc_slot;
	w->w_slot = &wc->wc_sb->sb_slot[wc->wc_slot];
	w->w_generation = wc->wc_generation;
	w->w_lfd = wc->wc_lfd;
	w->w_nlfd = wc->wc_nlfd;
	w->w_deathfd = wc->wc_deathfd;
#if defined(MSG_DONTWAIT) && !defined(HELLOD_PORTABLE)
	/*
	 * Sessions read blocking sockets: a line costs one recv() and one
	 * send(), not a poll() more.  Signals end the recv() with EINTR,
	 * and so does the worker's SIGALRM tick (see wake_tick_start()).
	 */
	w->w_block = 1;
#endif
	w->w_mutex = wc->wc_mutex;
	log_role("worker", w->w_slotno);
	if (wake_init(w) == -1)
		fatal("self-pipe");
	if (priv_drop(w->w_cf, err, sizeof(err)) == -1) {
		log_msg(LOG_L_EMERG, "cannot drop privileges: %s", err);
		_exit(WEXIT_FATAL);
	}
	/* After priv_drop(): a change of user clears the death signal. */
	wake_orphan(w, wc->wc_master);
	/*
	 * With WorkerTimeout, every wait is cut into pieces short enough
	 * that the heartbeat moves well within it: at least once a second,
	 * and three times a WorkerTimeout; the sessions' tick too.
	 */
	if (w->w_cf->cf_worker_timeout > 0) {
		w->w_beatms = (int64_t)w->w_cf->cf_worker_timeout * 1000 / 3;
		if (w->w_beatms > 1000)
			w->w_beatms = 1000;
	}
	w->w_tickms = BLOCK_TICK_MS;
	if (w->w_beatms > 0 && w->w_beatms < w->w_tickms)
		w->w_tickms = w->w_beatms;
	if (session_init(w) == -1)
		fatal("session buffers");
	if (w->w_cf->cf_handler == HANDLER_EXEC && exec_init(w) == -1)
		fatal("Handler exec setup");
	if (accept_init(w) == -1)
		fatal("accept setup");
	w->w_slot->ss_pid = getpid();
	beat_post(w);
}

/* Whether this worker has served its share (MaxConnectionsPerChild). */
static int
worker_done(const struct worker *w)
{
	long max = w->w_cf->cf_max_conn_child;

	return max > 0 && w->w_slot->ss_sessions >= (uint64_t)max;
}

static void
worker_serve(struct worker *w, struct conn *c)
{
	struct sb_slot *ss = w->w_slot;
	struct session_stats st;

	memset(&st, 0, sizeof(st));
	addr_fmt((const struct sockaddr *)&c->cn_peer, c->cn_peerlen,
	    st.st_client, sizeof(st.st_client));
	memcpy(ss->ss_client, st.st_client, sizeof(ss->ss_client));
	st.st_start = time(NULL);
	st.st_start_ms = io_now();
	ss->ss_begun = st.st_start_ms;
	ss->ss_sessions++;
	ss->ss_open++;
	sb_set_state(ss, w->w_finish ? SB_GRACEFUL : SB_READING);
	wake_tick_start(w);
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "accepted from %s", st.st_client);
	if (w->w_cf->cf_handler == HANDLER_EXEC)
		exec_run(w, c, &st);
	else
		session_run(w, c, &st);
	close(c->cn_fd);
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "connection from %s closed (%s)",
		    st.st_client, log_end_word(st.st_end));
	/* A reopen asked for during the session: log to the new file. */
	wake_reopen();
	if (st.st_unlogged)
		ss->ss_unlogged++;
	else
		log_access(&st);
	sb_session_end(ss, &st, io_now());
	ss->ss_open--;
	ss->ss_begun = 0;
	sb_set_state(ss, SB_WAITING);
}

/*
 * The worker's life.  The master filled wc before fork() and the child
 * has shed the master's own descriptors; exit with WEXIT_OK, or
 * WEXIT_FATAL when the worker cannot set up.
 */
void
worker_main(const struct worker_ctx *wc)
{
	struct worker w;
	struct conn c;

	worker_setup(&w, wc);
	sb_set_state(w.w_slot, SB_WAITING);
	while (!worker_done(&w) && accept_next(&w, &c) == 0) {
		worker_serve(&w, &c);
		if (w.w_finish)
			break;
	}
	accept_close(&w);
	sb_set_state(w.w_slot, SB_GRACEFUL);
	/*
	 * Not exit(): the atexit handlers, stdio and the dynamic linker's
	 * destructors have nothing to do in a worker but would fault in
	 * their pages, in each of thousands of workers a stop ends at once.
	 * What the log's handler would report, it reports here.
	 */
	log_losses();
	_exit(WEXIT_OK);
}
