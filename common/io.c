/*
 * io.c: descriptor I/O that survives EINTR and short counts, with
 * deadlines on a monotonic millisecond clock.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

/*
 * Return the monotonic clock in milliseconds.  Wall-clock steps (NTP,
 * date -s) must never stretch or cut a timeout, hence CLOCK_MONOTONIC.
 */
int64_t
io_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Return the deadline "ms milliseconds from now"; a negative ms is IO_NEVER. */
int64_t
io_deadline(int64_t ms)
{
	return ms < 0 ? IO_NEVER : io_now() + ms;
}

/*
 * Return the poll() timeout that ends at the deadline: -1 for IO_NEVER,
 * 0 once it has passed.  Large waits are clamped to what int can hold.
 */
int
io_timeout(int64_t deadline)
{
	int64_t left;

	if (deadline == IO_NEVER)
		return -1;
	left = deadline - io_now();
	if (left < 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/*
 * Wait until fd is ready for events or the deadline passes.  Return 1
 * when ready (errors and hang-ups count as ready, so the caller's next
 * read or write reports them), 0 on timeout with errno ETIMEDOUT, -1 on
 * error.  EINTR restarts the wait with the time that is left.
 */
int
io_wait(int fd, short events, int64_t deadline)
{
	static const int none[2] = { -1, -1 };

	return io_wait_wake(fd, events, deadline, none);
}

static ssize_t	io_put(int, const char *, size_t, int64_t, const int[2],
		    size_t *, int);

/*
 * Write all len bytes of buf to fd, blocking or not, before the deadline.
 * Return len, or -1 with errno set (ETIMEDOUT when the deadline passed).
 * When done is not NULL it receives the count that got through either
 * way, so a caller can account for a partial answer.
 */
ssize_t
io_write_all(int fd, const void *buf, size_t len, int64_t deadline,
    size_t *done)
{
	static const int none[2] = { -1, -1 };

	return io_write_wake(fd, buf, len, deadline, none, done);
}

/*
 * io_write_all() that also gives up, with errno ECANCELED, as soon as one
 * of the descriptors in wake (-1: unused) becomes readable while it
 * waits for fd, so a peer that never reads cannot keep a process from
 * hearing that it must stop.  The caller decides whether to go on.
 */
ssize_t
io_write_wake(int fd, const void *buf, size_t len, int64_t deadline,
    const int wake[2], size_t *done)
{
	return io_put(fd, buf, len, deadline, wake, done, 0);
}

/*
 * io_write_all() for a socket that may be in blocking mode: a blocking
 * write() would wait on, past the deadline, each time a signal cut it.
 */
ssize_t
io_send_all(int fd, const void *buf, size_t len, int64_t deadline,
    size_t *done)
{
	static const int none[2] = { -1, -1 };

	return io_put(fd, buf, len, deadline, none, done, 1);
}

/*
 * io_write_wake() for a socket that may be in blocking mode: each send()
 * is nonblocking on its own (MSG_DONTWAIT), so the wait for a slow peer
 * is still ours, with its wake descriptors.  A signal, too, makes it look
 * at them.  Where MSG_DONTWAIT is unknown, fd must be nonblocking.
 */
ssize_t
io_send_wake(int fd, const void *buf, size_t len, int64_t deadline,
    const int wake[2], size_t *done)
{
	return io_put(fd, buf, len, deadline, wake, done, 1);
}

static ssize_t
io_put(int fd, const char *p, size_t len, int64_t deadline,
    const int wake[2], size_t *done, int sock)
{
	size_t off = 0;
	ssize_t n;
	int st;

	while (off < len) {
		n = sock ? io_send_now(fd, p + off, len - off) :
		    write(fd, p + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR && !sock)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			if ((st = io_wait_wake(fd, POLLOUT, deadline, wake)) == 1)
				continue;
			if (st == 2)
				errno = ECANCELED;
		}
		if (n == 0)
			errno = EIO;
		if (done != NULL)
			*done = off;
		return -1;
	}
	if (done != NULL)
		*done = off;
	return (ssize_t)len;
}

/*
 * One send() that never blocks and never raises SIGPIPE: what a socket
 * takes at once.  Return the count, or -1 with errno set (EAGAIN: none).
 */
ssize_t
io_send_now(int fd, const void *p, size_t len)
{
#ifdef MSG_DONTWAIT
	return send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
#else
	return send(fd, p, len, MSG_NOSIGNAL);
#endif
}

/*
 * io_wait() on fd, and on the wake descriptors as well.  Return 1 when
 * fd is ready, 2 when a wake descriptor is, 0 on timeout, -1 on error.
 */
int
io_wait_wake(int fd, short events, int64_t deadline, const int wake[2])
{
	struct pollfd pfd[3];
	nfds_t n = 1;
	int i, r;

	pfd[0].fd = fd;
	pfd[0].events = events;
	for (i = 0; i < 2; i++)
		if (wake[i] >= 0) {
			pfd[n].fd = wake[i];
			pfd[n++].events = POLLIN;
		}
	for (;;) {
		r = poll(pfd, n, io_timeout(deadline));
		if (r > 0)
			return (n > 1 && pfd[1].revents) ||
			    (n > 2 && pfd[2].revents) ? 2 : 1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return 0;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* Set close-on-exec on fd.  Return 0, or -1 with errno set. */
int
io_cloexec(int fd)
{
	int fl;

	while ((fl = fcntl(fd, F_GETFD)) == -1 && errno == EINTR)
		;
	if (fl == -1)
		return -1;
	while (fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Turn O_NONBLOCK on or off.  Return 0, or -1 with errno set. */
int
io_nonblock(int fd, int on)
{
	int fl;

	while ((fl = fcntl(fd, F_GETFL)) == -1 && errno == EINTR)
		;
	if (fl == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	while (fcntl(fd, F_SETFL, fl) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}
