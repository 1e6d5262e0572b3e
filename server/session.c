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

#define GREETING	"welcome!"
#define PREFIX		"hello, "
#define SUFFIX		"!"
#define ERR_TOOLONG	"error: line too long\n"
#define ERR_TIMEOUT	"error: timeout\n"
/* The best-effort error line may wait this long for a slow reader. */
#define ERR_WAIT_MS	1000

static int	session_pause(struct worker *, int);
static int	session_send(struct worker *, int, const char *, size_t,
		    struct session_stats *);
static int	session_answer(struct worker *, int, const char *, size_t,
		    struct session_stats *);
static int	session_woken(struct worker *);
static void	session_error(int, const char *, size_t, struct session_stats *);
static void	session_linger(int);
static int	session_is_exit(const char *, size_t);
static int	session_step(struct worker *, int, int, const char *, size_t,
		    struct session_stats *);

/*
 * Allocate the worker's buffers, once, for MaxLineLength: the line with
 * its CRLF, and the answer around it.  Return 0, or -1 with errno ENOMEM.
 */
int
session_init(struct worker *w)
{
	size_t max = (size_t)w->w_cf->cf_max_line;

	w->w_incap = max + 2;
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
	while ((n = poll(pfd, 2, io_timeout(until))) != 0) {
		if (n > 0 && session_woken(w))
			return -1;
	}
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
	int64_t deadline = io_deadline((int64_t)w->w_cf->cf_timeout * 1000);
	int wake[2] = { w->w_wakefd, w->w_deathfd };
	size_t off = 0, done;

	while (off < len) {
		done = 0;
		if (io_write_wake(fd, buf + off, len - off, deadline, wake,
		    &done) != -1)
			done = len - off;
		off += done;
		st->st_out += done;
		if (off == len)
			break;
		if (errno != ECANCELED)
			return END_RESET;
		if (session_woken(w))
			return END_SHUTDOWN;
	}
	return 0;
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
	if (!w->w_finish)
		sb_set_state(w->w_slot, SB_WRITING);
	if ((end = session_send(w, fd, out, n, st)) != 0) {
		st->st_end = end;
		return -1;
	}
	st->st_messages++;
	w->w_slot->ss_messages++;
	if (!w->w_finish)
		sb_set_state(w->w_slot, SB_READING);
	return 0;
}

/* Send an error line, best effort, before the session ends. */
static void
session_error(int fd, const char *line, size_t len, struct session_stats *st)
{
	size_t done = 0;

	(void)io_write_all(fd, line, len, io_deadline(ERR_WAIT_MS), &done);
	st->st_out += done;
}

/*
 * Close politely after an error line: a close() with unread input makes
 * the kernel send a reset, which can destroy the error line before the
 * client reads it.  So shut down our side, then read and drop what the
 * client still sends, for a bounded time, as Apache's lingering close.
 */
static void
session_linger(int fd)
{
	int64_t until = io_deadline(ERR_WAIT_MS);
	char sink[4096];
	ssize_t n;

	if (shutdown(fd, SHUT_WR) == -1)
		return;
	while (io_wait(fd, POLLIN, until) == 1) {
		n = read(fd, sink, sizeof(sink));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
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
		session_error(fd, ERR_TOOLONG, sizeof(ERR_TOOLONG) - 1, st);
		session_linger(fd);
		return 0;
	case LR_TIMEOUT:
		st->st_end = END_TIMEOUT;
		session_error(fd, ERR_TIMEOUT, sizeof(ERR_TIMEOUT) - 1, st);
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
 * Serve the hello protocol on the connection c until exit, EOF, an
 * error, the idle Timeout or a stop.  The line reader is the session's:
 * whatever the connection sends first is read through it.  Fills st for
 * the access log.
 */
void
session_run(struct worker *w, const struct conn *c, struct session_stats *st)
{
	const struct config *cf = w->w_cf;
	int64_t idle = (int64_t)cf->cf_timeout * 1000, deadline;
	int raw = cf->cf_framing == FRAMING_RAW, status;
	struct linereader lr;
	const char *msg;
	size_t len;

	lr_init(&lr, c->cn_fd, w->w_in, w->w_incap, (size_t)cf->cf_max_line);
	lr.lr_wake[0] = w->w_wakefd;
	lr.lr_wake[1] = w->w_deathfd;
	st->st_end = END_EOF;
	if ((status = session_send(w, c->cn_fd, GREETING "\n",
	    sizeof(GREETING) - raw, st)) != 0) {
		st->st_end = status;
		return;
	}
	deadline = io_deadline(idle);
	for (;;) {
		msg = NULL;
		len = 0;
		if (raw)
			status = lr_chunk(&lr, deadline, &msg, &len);
		else
			status = lr_read(&lr, deadline, &msg, &len);
		st->st_in = lr.lr_bytes;
		if (!session_step(w, c->cn_fd, status, msg, len, st))
			break;
		/* Timeout is the idle time between lines, answers aside. */
		if (status == LR_LINE)
			deadline = io_deadline(idle);
	}
}
