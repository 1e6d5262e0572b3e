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

static char	*in_buf;
static char	*out_buf;
static size_t	 in_cap;

static int	session_pause(const struct worker_ctx *, int);
static int	session_send(const struct worker_ctx *, int, const char *,
		    size_t, struct session_stats *);
static int	session_answer(const struct worker_ctx *, int, struct sb_slot *,
		    const char *, size_t, struct session_stats *);
static int	session_woken(const struct worker_ctx *);
static void	session_linger(int);

/*
 * Allocate the worker's buffers for cf's MaxLineLength: the line with its
 * CRLF, and the answer around it.  Return 0, or -1 with errno ENOMEM.
 */
int
session_init(const struct config *cf)
{
	size_t max = (size_t)cf->cf_max_line;

	in_cap = max + 2;
	in_buf = malloc(in_cap);
	out_buf = malloc(sizeof(PREFIX) + max + sizeof(SUFFIX) + 1);
	return in_buf == NULL || out_buf == NULL ? -1 : 0;
}

/*
 * The worker's self-pipe or the master's death pipe woke us mid-session.
 * Return 1 when the session must end now: a stop, or a master gone.
 */
static int
session_woken(const struct worker_ctx *wc)
{
	struct pollfd pfd;
	char c;

	while (read(wc->wc_wakefd, &c, 1) == 1)
		;
	pfd.fd = wc->wc_deathfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 1)
		return 1;
	if (worker_finish) {
		worker_drop_listeners(wc);
		wc->wc_sb->sb_slot[wc->wc_slot].ss_state = SB_GRACEFUL;
	}
	return worker_stop != 0;
}

/*
 * Sleep ReplyDelay milliseconds, the way the teaching server slept, but
 * wake for a stop.  Return -1 when the session must end.
 */
static int
session_pause(const struct worker_ctx *wc, int ms)
{
	struct pollfd pfd[2];
	int64_t until = io_deadline(ms);
	int n;

	pfd[0].fd = wc->wc_wakefd;
	pfd[1].fd = wc->wc_deathfd;
	pfd[0].events = pfd[1].events = POLLIN;
	while ((n = poll(pfd, 2, io_timeout(until))) != 0) {
		if (n > 0 && session_woken(wc))
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
session_send(const struct worker_ctx *wc, int fd, const char *buf, size_t len,
    struct session_stats *st)
{
	int64_t deadline = io_deadline((int64_t)wc->wc_cf->cf_timeout * 1000);
	int wake[2] = { wc->wc_wakefd, wc->wc_deathfd };
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
		if (session_woken(wc))
			return END_SHUTDOWN;
	}
	return 0;
}

/* Answer one message X with "hello, X!" (and a newline in line framing). */
static int
session_answer(const struct worker_ctx *wc, int fd, struct sb_slot *ss,
    const char *msg, size_t len, struct session_stats *st)
{
	size_t n = sizeof(PREFIX) - 1;
	int end;

	if (wc->wc_cf->cf_reply_delay > 0 &&
	    session_pause(wc, wc->wc_cf->cf_reply_delay) == -1) {
		st->st_end = END_SHUTDOWN;
		return -1;
	}
	memcpy(out_buf, PREFIX, n);
	memcpy(out_buf + n, msg, len);
	n += len;
	out_buf[n++] = '!';
	if (wc->wc_cf->cf_framing == FRAMING_LINE)
		out_buf[n++] = '\n';
	ss->ss_state = SB_WRITING;
	if ((end = session_send(wc, fd, out_buf, n, st)) != 0) {
		st->st_end = end;
		return -1;
	}
	st->st_messages++;
	ss->ss_messages++;
	ss->ss_state = worker_finish ? SB_GRACEFUL : SB_READING;
	return 0;
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

/*
 * Serve the hello protocol on fd until exit, EOF, an error, the idle
 * Timeout or a stop.  Fills st for the access log.
 */
void
session_run(const struct worker_ctx *wc, int fd, struct sb_slot *ss,
    struct session_stats *st)
{
	const struct config *cf = wc->wc_cf;
	struct linereader lr;
	const char *msg;
	size_t len, done = 0;
	int64_t deadline;
	int raw = cf->cf_framing == FRAMING_RAW, status;

	lr_init(&lr, fd, in_buf, in_cap, (size_t)cf->cf_max_line);
	lr.lr_wake[0] = wc->wc_wakefd;
	lr.lr_wake[1] = wc->wc_deathfd;
	st->st_end = END_EOF;
	if ((status = session_send(wc, fd, GREETING "\n",
	    sizeof(GREETING) - raw, st)) != 0) {
		st->st_end = status;
		return;
	}
	deadline = io_deadline((int64_t)cf->cf_timeout * 1000);
	for (;;) {
		if (raw)
			status = lr_chunk(&lr, deadline, &msg, &len);
		else
			status = lr_read(&lr, deadline, &msg, &len);
		st->st_in = lr.lr_bytes;
		switch (status) {
		case LR_LINE:
			if (len == 4 && memcmp(msg, "exit", 4) == 0) {
				st->st_end = END_EXIT;
				return;
			}
			if (session_answer(wc, fd, ss, msg, len, st) == -1)
				return;
			deadline = io_deadline((int64_t)cf->cf_timeout * 1000);
			continue;
		case LR_PARTIAL:
			/* A last line without its newline is still a line. */
			if (!(len == 4 && memcmp(msg, "exit", 4) == 0))
				(void)session_answer(wc, fd, ss, msg, len, st);
			return;
		case LR_EOF:
			return;
		case LR_TOOLONG:
			st->st_end = END_TOOLONG;
			(void)io_write_all(fd, ERR_TOOLONG, sizeof(ERR_TOOLONG) - 1,
			    io_deadline(ERR_WAIT_MS), &done);
			st->st_out += done;
			session_linger(fd);
			return;
		case LR_TIMEOUT:
			st->st_end = END_TIMEOUT;
			(void)io_write_all(fd, ERR_TIMEOUT, sizeof(ERR_TIMEOUT) - 1,
			    io_deadline(ERR_WAIT_MS), &done);
			st->st_out += done;
			return;
		case LR_WAKE:
			if (!session_woken(wc))
				continue;
			st->st_end = END_SHUTDOWN;
			return;
		default:
			st->st_end = END_RESET;
			return;
		}
	}
}
