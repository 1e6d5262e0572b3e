/*
 * bye.c: how a worker ends a connection it refuses or cuts short: one
 * error line, best effort, then a lingering close.  admit.c refuses
 * before the greeting, session.c cuts a session; both end this way.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

/* The error line, and the close after it, may wait this long. */
#define ERR_WAIT_MS	1000

/*
 * Send an error line, best effort, before the connection ends: for at
 * most ERR_WAIT_MS, the heartbeat moving meanwhile.
 */
void
bye_error(struct worker *w, int fd, const char *line, size_t len,
    struct session_stats *st)
{
	int64_t until = io_deadline(ERR_WAIT_MS);
	size_t done;

	do {
		beat_post(w);
		done = 0;
		if (io_send_all(fd, line, len, beat_bound(w, until),
		    &done) != -1)
			done = len;
		line += done;
		len -= done;
		st->st_out += done;
	} while (len > 0 && errno == ETIMEDOUT && io_now() < until);
}

/*
 * Close our side and drop what the client sent or still sends, until it
 * closes too or ERR_WAIT_MS passes (with wait 0: only what is there
 * now), as Apache's lingering close.  A close() with unread input would
 * be a reset, which can destroy the error line before the client reads
 * it and makes a refusal look like a crash.
 */
void
bye_linger(struct worker *w, int fd, int wait)
{
	int64_t deadline = wait ? io_deadline(ERR_WAIT_MS) : io_now();
	char sink[4096];
	ssize_t n;

	if (shutdown(fd, SHUT_WR) == -1)
		return;
	for (;;) {
		beat_post(w);
		/* The socket may be blocking (see accept.c); this read is not. */
#ifdef MSG_DONTWAIT
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
#else
		n = read(fd, sink, sizeof(sink));
#endif
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ||
		    io_now() >= deadline ||
		    io_wait(fd, POLLIN, beat_bound(w, deadline)) == -1)
			break;
	}
}
