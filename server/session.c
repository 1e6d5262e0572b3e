/*
 * session.c: one client's hello session, in line or raw framing.
 *
 * Per message the worker does one poll(), one read() and one write(),
 * into buffers allocated once per worker: nothing is allocated and
 * nothing is logged per message unless LogLevel debug asks for it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "linereader.h"
#include "proxy.h"

#define GREETING	"welcome!"
#define PREFIX		"hello, "
#define SUFFIX		"!"
#define ERR_TOOLONG	"error: line too long\n"
#define ERR_TIMEOUT	"error: timeout\n"
#define ERR_BUSY	"error: server busy\n"

static int	session_pause(struct worker *, int);
static int	session_send(struct worker *, int, const char *, size_t,
		    struct session_stats *);
static int	session_answer(struct worker *, int, const char *, size_t,
		    struct session_stats *);
static int	session_woken(struct worker *);
static int	session_is_exit(const char *, size_t);
static int	session_step(struct worker *, int, int, const char *, size_t,
		    struct session_stats *);
static int	session_expired(const struct linereader *, int64_t);
static int	session_read(struct worker *, struct linereader *, int64_t,
		    const char **, size_t *);
static int	session_reclaimed(struct worker *, int, struct session_stats *);
static void	session_loop(struct worker *, int, struct linereader *,
		    struct session_stats *);

/*
 * Allocate the worker's buffers, once, for MaxLineLength: the line with
 * its CRLF, and the answer around it.  Return 0, or -1 with errno ENOMEM.
 */
int
session_init(struct worker *w)
{
	size_t max = (size_t)w->w_cf->cf_max_line;

	/* The PROXY header is read into the same buffer, before any line. */
	w->w_incap = max + 2;
	if (w->w_cf->cf_proxy && w->w_incap < PROXY_HDR_MAX)
		w->w_incap = PROXY_HDR_MAX;
	w->w_in = malloc(w->w_incap);
	w->w_out = malloc(sizeof(PREFIX) + max + sizeof(SUFFIX) + 1);
	return w->w_in == NULL || w->w_out == NULL ? -1 : 0;
}

/*
 * The worker's self-pipe or the master's death pipe woke us mid-session.
 * Told to finish, the worker lets go of the listeners at once and shows
 * G.  Return 1 when the session must end now: a stop, or a master gone.
 */
static int
session_woken(struct worker *w)
{
	if (wake_check(w))
		return 1;
	if (w->w_finish && w->w_slot->ss_state != SB_GRACEFUL) {
		accept_close(w);
		sb_set_state(w->w_slot, SB_GRACEFUL);
	}
	return 0;
}

/*
 * Sleep ReplyDelay milliseconds, the way the teaching server slept, but
 * wake for a stop.  Return -1 when the session must end.
 */
static int
session_pause(struct worker *w, int ms)
{
	struct pollfd pfd[2];
	int64_t until = io_deadline(ms);
	int n;

	pfd[0].fd = w->w_wakefd;
	pfd[1].fd = w->w_deathfd;
	pfd[0].events = pfd[1].events = POLLIN;
	do {
		beat_post(w);
		n = poll(pfd, 2, io_timeout(beat_bound(w, until)));
		if (n > 0 && session_woken(w))
			return -1;
	} while (io_now() < until);
	return 0;
}

/*
 * Send buf within Timeout.  While the client does not read, still wake
 * for a stop or the master's death: a blocked write must not outlive
 * them.  Return 0, or the way the session ends (END_RESET, END_SHUTDOWN).
 */
static int
session_send(struct worker *w, int fd, const char *buf, size_t len,
    struct session_stats *st)
{
	int64_t deadline;
	int wake[2] = { w->w_wakefd, w->w_deathfd };
	size_t off = 0, done;
	ssize_t n;
	int end = 0;

	/* Most answers go at once, with no clock read and no state change. */
	if (w->w_block && (n = io_send_now(fd, buf, len)) > 0) {
		off = (size_t)n;
		st->st_out += off;
		if (off == len)
			return 0;
	}
	/* The client is slow to read: W while we wait for it. */
	if (!w->w_finish)
		sb_set_state(w->w_slot, SB_WRITING);
	deadline = io_deadline((int64_t)w->w_cf->cf_timeout * 1000);
	while (off < len) {
		done = 0;
		beat_post(w);
		if ((w->w_block ? io_send_wake : io_write_wake)(fd, buf + off,
		    len - off, beat_bound(w, deadline), wake, &done) != -1)
			done = len - off;
		off += done;
		st->st_out += done;
		if (off == len)
			break;
		if (errno == ETIMEDOUT && io_now() < deadline)
			continue;	/* only a heartbeat was due */
		if (errno != ECANCELED) {
			end = END_RESET;
			break;
		}
		if (session_woken(w)) {
			end = END_SHUTDOWN;
			break;
		}
	}
	if (!w->w_finish)
		sb_set_state(w->w_slot, SB_READING);
	return end;
}

/* Answer one message X with "hello, X!" (and a newline in line framing). */
static int
session_answer(struct worker *w, int fd, const char *msg, size_t len,
    struct session_stats *st)
{
	const struct config *cf = w->w_cf;
	char *out = w->w_out;
	size_t n = sizeof(PREFIX) - 1;
	int end;

	if (cf->cf_reply_delay > 0 &&
	    session_pause(w, cf->cf_reply_delay) == -1) {
		st->st_end = END_SHUTDOWN;
		return -1;
	}
	memcpy(out, PREFIX, n);
	memcpy(out + n, msg, len);
	n += len;
	out[n++] = '!';
	if (cf->cf_framing == FRAMING_LINE)
		out[n++] = '\n';
	if ((end = session_send(w, fd, out, n, st)) != 0) {
		st->st_end = end;
		return -1;
	}
	st->st_messages++;
	w->w_slot->ss_messages++;
	return 0;
}

/* Whether msg is the line that ends a session. */
static int
session_is_exit(const char *msg, size_t len)
{
	return len == 4 && memcmp(msg, "exit", 4) == 0;
}

/*
 * Act on what the line reader returned.  Return 1 to read on, 0 when the
 * session is over (st_end says why).
 */
static int
session_step(struct worker *w, int fd, int status, const char *msg,
    size_t len, struct session_stats *st)
{
	switch (status) {
	case LR_LINE:
		if (session_is_exit(msg, len)) {
			st->st_end = END_EXIT;
			return 0;
		}
		return session_answer(w, fd, msg, len, st) == 0;
	case LR_PARTIAL:
		/* A last line without its newline is still a line. */
		if (!session_is_exit(msg, len))
			(void)session_answer(w, fd, msg, len, st);
		return 0;
	case LR_EOF:
		return 0;
	case LR_TOOLONG:
		st->st_end = END_TOOLONG;
		bye_error(w, fd, ERR_TOOLONG, sizeof(ERR_TOOLONG) - 1, st);
		bye_linger(w, fd, 1);
		return 0;
	case LR_TIMEOUT:
		st->st_end = END_TIMEOUT;
		bye_error(w, fd, ERR_TIMEOUT, sizeof(ERR_TIMEOUT) - 1, st);
		/* A client cut mid-line (LineTimeout) may still be sending. */
		if (msg != NULL)
			bye_linger(w, fd, 1);
		return 0;
	case LR_WAKE:
		if (!session_woken(w))
			return 1;
		st->st_end = END_SHUTDOWN;
		return 0;
	default:
		st->st_end = END_RESET;
		return 0;
	}
}

/*
 * Whether the wait for a line is over: the idle deadline has passed, or
 * LineTimeout since the first byte of a line still incomplete.
 */
static int
session_expired(const struct linereader *lr, int64_t deadline)
{
	int64_t now = io_now();

	if (deadline != IO_NEVER && now >= deadline)
		return 1;
	return lr->lr_linems > 0 && lr->lr_first != 0 &&
	    lr_buffered(lr) > 0 && now >= lr->lr_first + lr->lr_linems;
}

/*
 * The next line (or raw chunk), waiting at most until deadline, or less
 * when a line trickles in past LineTimeout.  The wait is cut into
 * pieces for the heartbeat; only a real deadline is a timeout.  On
 * LR_TIMEOUT, *msg is non-NULL when a line had begun.
 */
static int
session_read(struct worker *w, struct linereader *lr, int64_t deadline,
    const char **msg, size_t *len)
{
	int status;

	for (;;) {
		beat_post(w);
		*msg = NULL;
		*len = 0;
		if (w->w_cf->cf_framing == FRAMING_RAW)
			status = lr_chunk(lr, beat_bound(w, deadline), msg, len);
		else
			status = lr_read(lr, beat_bound(w, deadline), msg, len);
		if (status != LR_TIMEOUT)
			return status;
		if (session_expired(lr, deadline)) {
			if (lr_buffered(lr) > 0)
				*msg = "";
			return status;
		}
		/* Not over yet: let the caller look at the pipes meanwhile. */
		if (lr->lr_block)
			return LR_WAKE;
	}
}

/*
 * IdleTimeoutUnderLoad, MaxSessionAgeUnderLoad: the master (reclaim.c)
 * saw connections waiting and this session due, and sent USR2.  A
 * session open MaxSessionAgeUnderLoad is closed whatever it sends;
 * otherwise, unless the client has just sent something, it is closed
 * for being idle.  Either gets an error line.  Return 1 when the
 * session is over.
 */
static int
session_reclaimed(struct worker *w, int fd, struct session_stats *st)
{
	int64_t age = (int64_t)w->w_cf->cf_age_under_load * 1000;
	int old, sent;

	w->w_reclaim = 0;
	if (w->w_finish)
		return 0;
	old = age > 0 && io_now() - st->st_start_ms >= age;
	sent = io_wait(fd, POLLIN, io_now()) == 1;
	if (sent && !old)
		return 0;
	bye_error(w, fd, ERR_BUSY, sizeof(ERR_BUSY) - 1, st);
	/* What it sent, unread, would make the close a reset: drop it. */
	if (sent)
		bye_linger(w, fd, 0);
	st->st_end = END_BUSY;
	if (log_enabled(LOG_L_INFO))
		log_msg(LOG_L_INFO, "closing the %s session of %s: every "
		    "worker is busy and connections wait", old ? "long" :
		    "idle", st->st_client);
	return 1;
}

/*
 * Lines and answers until the session ends.  While it waits for a line,
 * the slot says since when it has been quiet (ss_idle), for reclaim.c to
 * choose whom to close under load.  An empty line keeps a session within
 * Timeout but is no sign of work, so it leaves the quiet time running:
 * clients that hold workers with keep-alive lines are closed too.
 */
static void
session_loop(struct worker *w, int fd, struct linereader *lr,
    struct session_stats *st)
{
	int64_t idle = (int64_t)w->w_cf->cf_timeout * 1000, deadline, quiet;
	const char *msg;
	size_t len;
	int status;

	w->w_slot->ss_idle = quiet = io_now();
	deadline = quiet + idle;
	for (;;) {
		if (w->w_reclaim && session_reclaimed(w, fd, st))
			break;
		/*
		 * A client that sends without pause never lets a read block
		 * for a signal to cut: look at the news between lines.
		 */
		if (wake_news() && session_woken(w)) {
			st->st_end = END_SHUTDOWN;
			break;
		}
		status = session_read(w, lr, deadline, &msg, &len);
		st->st_in = lr->lr_bytes;
		if (status == LR_LINE)
			w->w_slot->ss_idle = 0;
		if (!session_step(w, fd, status, msg, len, st))
			break;
		/* Timeout is the idle time between lines, answers aside. */
		if (status == LR_LINE) {
			int64_t now = io_now();

			deadline = now + idle;
			if (len > 0)
				quiet = now;
			w->w_slot->ss_idle = quiet;
			/* A request that came while busy is out of date. */
			w->w_reclaim = 0;
		}
	}
	w->w_slot->ss_idle = 0;
}

/*
 * Serve the hello protocol on the connection c until exit, EOF, an
 * error, the idle Timeout or a stop.  The line reader is the session's:
 * whatever the connection sends first (after a PROXY header) is read
 * through it.  Fills st for the access log.
 */
void
session_run(struct worker *w, const struct conn *c, struct session_stats *st)
{
	const struct config *cf = w->w_cf;
	int raw = cf->cf_framing == FRAMING_RAW, status;
	struct linereader lr;

	lr_init(&lr, c->cn_fd, w->w_in, w->w_incap, (size_t)cf->cf_max_line);
	lr.lr_wake[0] = w->w_wakefd;
	lr.lr_wake[1] = w->w_deathfd;
	lr.lr_block = w->w_block;
	if (!raw)
		lr.lr_linems = (int64_t)cf->cf_line_timeout * 1000;
	st->st_end = END_EOF;
	w->w_reclaim = 0;
	if (!admit_conn(w, c, &lr, st))
		return;
	if ((status = session_send(w, c->cn_fd, GREETING "\n",
	    sizeof(GREETING) - raw, st)) != 0)
		st->st_end = status;
	else
		session_loop(w, c->cn_fd, &lr, st);
	admit_leave(w);
}
