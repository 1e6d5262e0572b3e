/*
 * io.h: descriptor I/O that survives EINTR and short counts, with
 * deadlines on a monotonic millisecond clock.
 */
#ifndef COMMON_IO_H
#define COMMON_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A deadline is a value of io_now(); IO_NEVER means "wait forever". */
#define IO_NEVER	((int64_t)-1)

int64_t	 io_now(void);
int64_t	 io_deadline(int64_t ms);
int	 io_timeout(int64_t deadline);
int	 io_wait(int fd, short events, int64_t deadline);
ssize_t	 io_write_all(int fd, const void *buf, size_t len, int64_t deadline,
	    size_t *done);
ssize_t	 io_write_wake(int fd, const void *buf, size_t len, int64_t deadline,
	    const int wake[2], size_t *done);
ssize_t	 io_send_all(int fd, const void *buf, size_t len, int64_t deadline,
	    size_t *done);
ssize_t	 io_send_now(int fd, const void *buf, size_t len);
ssize_t	 io_send_wake(int fd, const void *buf, size_t len, int64_t deadline,
	    const int wake[2], size_t *done);
int	 io_wait_wake(int fd, short events, int64_t deadline,
	    const int wake[2]);
int	 io_cloexec(int fd);
int	 io_nonblock(int fd, int on);

#endif
