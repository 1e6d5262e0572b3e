/*
 * linereader.c: a buffered reader of LF or CRLF lines with a hard length
 * limit and a deadline.
 *
 * Lines are handed back as a pointer into the caller's buffer, valid
 * until the next call, so the common case (one short line per read)
 * costs one poll() and one read() and copies nothing.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "linereader.h"

static int	lr_fill(struct linereader *, int64_t, size_t);
static int	lr_got(struct linereader *, ssize_t);
#ifdef MSG_DONTWAIT
static int	lr_fill_blocking(struct linereader *, int64_t, size_t);
#endif
static int64_t	lr_line_deadline(const struct linereader *, int64_t, size_t);

/*
 * Prepare lr to read lines of at most max bytes from fd into buf.  The
 * buffer must hold max + 2 bytes (the line and a CRLF).  Return 0, or -1
 * with errno EINVAL when it is too small.
 */
int
lr_init(struct linereader *lr, int fd, char *buf, size_t cap, size_t max)
{
	if (max == 0 || cap < max + 2) {
		errno = EINVAL;
		return -1;
	}
	memset(lr, 0, sizeof(*lr));
	lr->lr_fd = fd;
	lr->lr_buf = buf;
	lr->lr_cap = cap;
	lr->lr_max = max;
	lr->lr_wake[0] = lr->lr_wake[1] = -1;
	return 0;
}

/* Return how many bytes are buffered but not yet handed out. */
size_t
lr_buffered(const struct linereader *lr)
{
	return lr->lr_end - lr->lr_start;
}

/*
 * Wait for input (or a wake descriptor) until the deadline, then do one
 * read() of at most want bytes into the free end of the buffer.  Return
 * LR_LINE when bytes arrived, or the status that ends the wait.
 */
static int
lr_fill(struct linereader *lr, int64_t deadline, size_t want)
{
	struct pollfd pfd[3];
	nfds_t n, i;
	ssize_t got;

	if (lr->lr_start > 0 && lr->lr_end == lr->lr_cap) {
		memmove(lr->lr_buf, lr->lr_buf + lr->lr_start,
		    lr->lr_end - lr->lr_start);
		lr->lr_end -= lr->lr_start;
		lr->lr_start = 0;
	}
	if (want > lr->lr_cap - lr->lr_end)
		want = lr->lr_cap - lr->lr_end;
#ifdef MSG_DONTWAIT
	if (lr->lr_block)
		return lr_fill_blocking(lr, deadline, want);
#endif
	pfd[0].fd = lr->lr_fd;
	pfd[0].events = POLLIN;
	n = 1;
	for (i = 0; i < 2; i++) {
		if (lr->lr_wake[i] < 0)
			continue;
		pfd[n].fd = lr->lr_wake[i];
		pfd[n].events = POLLIN;
		n++;
	}
	for (;;) {
		int r = poll(pfd, n, io_timeout(deadline));

		if (r == 0)
			return LR_TIMEOUT;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return LR_ERROR;
		for (i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				return LR_WAKE;
		break;
	}
	do
		got = read(lr->lr_fd, lr->lr_buf + lr->lr_end, want);
	while (got < 0 && errno == EINTR);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return LR_LINE;		/* spurious wake-up: try again */
	return lr_got(lr, got);
}

/* Account for what one read() returned. */
static int
lr_got(struct linereader *lr, ssize_t got)
{
	if (got < 0)
		return LR_ERROR;
	if (got == 0)
		lr->lr_eof = 1;
	lr->lr_end += (size_t)got;
	lr->lr_bytes += (uint64_t)got;
	return LR_LINE;
}

#ifdef MSG_DONTWAIT
/*
 * lr_fill() on a blocking socket: one recv() and no poll() per line,
 * which is what a conversation of short lines costs least with.  The
 * caller's process has a signal end a recv() now and then (EINTR),
 * which is LR_WAKE, for it to look at what the signal says.  Only after
 * such a wake can the deadline have passed while we waited: then, and
 * until it is found not to have, the reads take only what has arrived,
 * and none is LR_TIMEOUT.  So a line that comes in time costs no clock.
 */
static int
lr_fill_blocking(struct linereader *lr, int64_t deadline, size_t want)
{
	ssize_t got;
	int flags = 0;

	if (lr->lr_woke) {
		if (deadline != IO_NEVER && io_timeout(deadline) == 0)
			flags = MSG_DONTWAIT;
		else
			lr->lr_woke = 0;
	}
	got = recv(lr->lr_fd, lr->lr_buf + lr->lr_end, want, flags);
	if (got < 0 && errno == EINTR) {
		lr->lr_woke = 1;
		return LR_WAKE;
	}
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return LR_TIMEOUT;
	return lr_got(lr, got);
}
#endif

/*
 * The deadline for the wait with n bytes of a line pending: the
 * caller's, or sooner when the line has used up lr_linems.
 */
static int64_t
lr_line_deadline(const struct linereader *lr, int64_t deadline, size_t n)
{
	int64_t line;

	if (n == 0 || lr->lr_linems <= 0)
		return deadline;
	line = lr->lr_first + lr->lr_linems;
	return deadline == IO_NEVER || line < deadline ? line : deadline;
}

/*
 * Hand back the next line, without its LF or CRLF, in *line and *len.
 * The bytes stay in the caller's buffer until the next call.  Complete
 * lines already buffered are returned even after the deadline.  On
 * LR_PARTIAL the unterminated tail is in *line and *len; on LR_TOOLONG
 * the reader is spent and the connection should be closed.  With
 * lr_linems set, LR_TIMEOUT also comes when a line begun is not
 * complete lr_linems after its first byte (lr_buffered() is then
 * non-zero).
 */
int
lr_read(struct linereader *lr, int64_t deadline, const char **line,
    size_t *len)
{
	char *p, *nl;
	size_t n;
	int st;

	for (;;) {
		p = lr->lr_buf + lr->lr_start;
		n = lr->lr_end - lr->lr_start;
		nl = memchr(p + lr->lr_scan, '\n', n - lr->lr_scan);
		if (nl != NULL) {
			*line = p;
			*len = (size_t)(nl - p);
			if (*len > 0 && p[*len - 1] == '\r')
				(*len)--;
			lr->lr_start += (size_t)(nl - p) + 1;
			lr->lr_scan = 0;
			lr->lr_first = 0;
			if (lr->lr_start == lr->lr_end)
				lr->lr_start = lr->lr_end = 0;
			return *len > lr->lr_max ? LR_TOOLONG : LR_LINE;
		}
		/*
		 * A line whose bytes trickle in must not hold the reader
		 * forever: from its first byte it has lr_linems, whatever
		 * the caller's (idle) deadline says.  Bytes already
		 * buffered behind a line count as arriving now.  A line
		 * that came whole needs no clock.
		 */
		if (n == 0)
			lr->lr_first = 0;
		else if (lr->lr_first == 0)
			lr->lr_first = io_now();
		lr->lr_scan = n;
		/* The longest legal line plus CR is lr_max + 1 bytes. */
		if (n > lr->lr_max + 1 ||
		    (n == lr->lr_max + 1 && p[n - 1] != '\r'))
			return LR_TOOLONG;
		if (lr->lr_eof) {
			lr->lr_start = lr->lr_end = lr->lr_scan = 0;
			if (n == 0)
				return LR_EOF;
			/* "exit\r" then EOF is still the line "exit". */
			*line = p;
			*len = p[n - 1] == '\r' ? n - 1 : n;
			return LR_PARTIAL;
		}
		if ((st = lr_fill(lr, lr_line_deadline(lr, deadline, n),
		    lr->lr_cap)) != LR_LINE)
			return st;
	}
}

/*
 * Hand back whatever the next read() brings, at most lr_max bytes, as
 * one message: the framing of a peer that sends with bare write()s.
 * Buffered bytes, if any, come first.  Return LR_LINE, LR_EOF or the
 * status that ended the wait.
 */
int
lr_chunk(struct linereader *lr, int64_t deadline, const char **data,
    size_t *len)
{
	size_t n;
	int st;

	while (lr->lr_end == lr->lr_start) {
		if (lr->lr_eof)
			return LR_EOF;
		lr->lr_start = lr->lr_end = lr->lr_scan = 0;
		if ((st = lr_fill(lr, deadline, lr->lr_max)) != LR_LINE)
			return st;
	}
	n = lr->lr_end - lr->lr_start;
	if (n > lr->lr_max)
		n = lr->lr_max;
	*data = lr->lr_buf + lr->lr_start;
	*len = n;
	lr->lr_start += n;
	lr->lr_scan = 0;
	return LR_LINE;
}
