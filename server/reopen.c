/*
 * reopen.c: "hellod -k reopen", log reopening that cannot fail.
 *
 * The master, on SIGURG, opens the ErrorLog and CustomLog paths of the
 * configuration it runs (never the file on disk, which may be broken or
 * changed) and puts each new file under the descriptor number of the
 * old one with dup2().  It then sends SIGURG to every worker.  Workers
 * have dropped their privileges and may not open a log (logrotate makes
 * them 0640 root:adm), so they do not open anything: each asks the
 * master over a datagram socketpair and receives the master's open files
 * with SCM_RIGHTS, which it dup2()s over its own.  No restart, no new
 * worker, no session cut.
 *
 * One socketpair serves every worker: requests go to the master's end;
 * replies come back on the end all workers share, so a worker may read a
 * reply meant for another.  That is harmless, because every reply holds
 * the same files: each worker that asks reads exactly one reply of the
 * current epoch, and there is one reply per request.  A reply left by a
 * worker that died before reading it carries an older epoch and is
 * thrown away by the next reader.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

#define REOPEN_MAGIC	0x726f7031u	/* "rop1" */
#define REOPEN_WAIT_MS	5000		/* a worker waits this long at most */
#define REOPEN_ERR	0x1		/* the reply carries the ErrorLog */
#define REOPEN_ACC	0x2		/* ... and the CustomLog */
#define REOPEN_BATCH	256		/* requests read in one call */
#define REOPEN_OWED	(1 << 20)	/* replies owed: more than can ask */

/* Both directions carry this; a reply adds the descriptors. */
struct reopen_msg {
	uint32_t	rm_magic;
	uint32_t	rm_epoch;	/* the master's, in a reply */
	uint32_t	rm_which;	/* REOPEN_ERR | REOPEN_ACC */
};

static int	 chan[2] = { -1, -1 };	/* [0] the master's, [1] workers' */
static uint32_t	 epoch;		/* of the files this process holds */
static int	 owed;		/* requests read, replies not yet sent */

static int	reopen_file(int, const char *, char *, size_t);
static int	reopen_reply(void);
static int	reopen_ask(void);
static int	reopen_take(struct reopen_msg *, int *, int *);

/*
 * Make the channel; the master calls it once, before the first worker.
 * Return 0, or -1 with err.
 */
int
reopen_init(char *err, size_t errlen)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, chan) == -1 ||
	    io_cloexec(chan[0]) == -1 || io_cloexec(chan[1]) == -1 ||
	    io_nonblock(chan[0], 1) == -1 || io_nonblock(chan[1], 1) == -1) {
		snprintf(err, errlen, "log reopen channel: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The master's end, which its workers close after fork(). */
int
reopen_master_fd(void)
{
	return chan[0];
}

/* What the master polls its end for: requests, and room for replies. */
short
reopen_master_events(void)
{
	return owed > 0 ? POLLIN | POLLOUT : POLLIN;
}

int
reopen_worker_fd(void)
{
	return chan[1];
}

/*
 * Open path as log.c does (no link followed, a safe directory, mode
 * 0640) and put it under fd.  Return 0, or -1 with why.
 */
static int
reopen_file(int fd, const char *path, char *why, size_t len)
{
	int nfd;

	if ((nfd = sf_open(path, O_WRONLY | O_APPEND | O_CREAT, 0640, why,
	    len)) == -1)
		return -1;
	/* Nonblocking, as log.c opens its files: a log never blocks us. */
	(void)io_nonblock(nfd, 1);
	/* dup2() clears close-on-exec on fd; set it again. */
	if (dup2(nfd, fd) == -1 || io_cloexec(fd) == -1) {
		snprintf(why, len, "%s", strerror(errno));
		close(nfd);
		return -1;
	}
	close(nfd);
	return 0;
}

/*
 * The master's part: reopen its own logs by path.  A log that cannot
 * be reopened is logged and kept as it was; the other is still
 * reopened.  Workers asking from now on get the new files.  Return 0,
 * or -1 when a log could not be reopened.
 */
int
reopen_master(void)
{
	const char *errpath, *accpath;
	char why[MAX_PATH + 128];
	int errfd, accfd, rc = 0;

	log_files(&errfd, &accfd, &errpath, &accpath);
	if (errfd != -1 && reopen_file(errfd, errpath, why, sizeof(why)) == -1) {
		log_warnx("cannot reopen ErrorLog %s; still writing "
		    "to the old file: %s", errpath, why);
		rc = -1;
	}
	if (accfd != -1 && reopen_file(accfd, accpath, why, sizeof(why)) == -1) {
		log_warnx("cannot reopen CustomLog %s; still writing "
		    "to the old file: %s", accpath, why);
		rc = -1;
	}
	epoch++;
	log_msg(LOG_L_NOTICE, "logs reopened%s", rc == -1 ? " (in part)" : "");
	return rc;
}

/* Send one reply with the master's log descriptors.  Return 0 or -1. */
static int
reopen_reply(void)
{
	struct reopen_msg rm;
	struct iovec iov;
	struct msghdr mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	const char *errpath, *accpath;
	int fds[2], nfd = 0, errfd, accfd;
	ssize_t n;

	log_files(&errfd, &accfd, &errpath, &accpath);
	memset(&rm, 0, sizeof(rm));
	rm.rm_magic = REOPEN_MAGIC;
	rm.rm_epoch = epoch;
	if (errfd != -1) {
		fds[nfd++] = errfd;
		rm.rm_which |= REOPEN_ERR;
	}
	if (accfd != -1) {
		fds[nfd++] = accfd;
		rm.rm_which |= REOPEN_ACC;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &rm;
	iov.iov_len = sizeof(rm);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfd > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int));
		cm.hdr.cmsg_level = SOL_SOCKET;
		cm.hdr.cmsg_type = SCM_RIGHTS;
		cm.hdr.cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
		memcpy(CMSG_DATA(&cm.hdr), fds, (size_t)nfd * sizeof(int));
	}
	do
		n = sendmsg(chan[0], &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(rm) ? 0 : -1;
}

/*
 * The master's loop calls this when its end is readable or, with
 * replies owed, writable: answer the requests it can without blocking.
 * Workers write to this channel, and a compromised one may flood it:
 * one call reads at most REOPEN_BATCH requests, the count of replies
 * owed stops at more than every worker could ask for, and a request that is not ours is logged once a second at most.
 */
void
reopen_serve(void)
{
	static int64_t complained;
	struct reopen_msg rm;
	ssize_t n;
	int reads;

	for (reads = 0; reads < REOPEN_BATCH; reads++) {
		while (owed > 0) {
			if (reopen_reply() == -1) {
				if (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != ENOBUFS) {
					log_warn("log reopen: reply");
					owed--;
					continue;
				}
				return;
			}
			owed--;
		}
		n = recv(chan[0], &rm, sizeof(rm), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return;
		if (n != (ssize_t)sizeof(rm) || rm.rm_magic != REOPEN_MAGIC) {
			if (io_now() - complained >= 1000) {
				complained = io_now();
				log_msg(LOG_L_ERR, "log reopen: bad request of "
				    "%zd bytes from a worker; ignored", n);
			}
			continue;
		}
		if (owed < REOPEN_OWED)
			owed++;
	}
}

/* A worker's request.  Return 0, or -1 when it could not be sent. */
static int
reopen_ask(void)
{
	struct reopen_msg rm;
	int64_t deadline = io_deadline(REOPEN_WAIT_MS);

	memset(&rm, 0, sizeof(rm));
	rm.rm_magic = REOPEN_MAGIC;
	rm.rm_epoch = epoch;
	for (;;) {
		if (send(chan[1], &rm, sizeof(rm), MSG_NOSIGNAL) ==
		    (ssize_t)sizeof(rm))
			return 0;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOBUFS)
			return -1;
		if (errno != EINTR && io_wait(chan[1], POLLOUT, deadline) != 1)
			return -1;
	}
}

/*
 * Read one reply into rm and its descriptors into errfd and accfd (-1
 * when absent).  Return 1, 0 when none is there yet, -1 on error.
 */
static int
reopen_take(struct reopen_msg *rm, int *errfd, int *accfd)
{
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	int fds[2] = { -1, -1 }, i = 0;
	size_t len;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = rm;
	iov.iov_len = sizeof(*rm);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
#ifdef MSG_CMSG_CLOEXEC
	n = recvmsg(chan[1], &mh, MSG_CMSG_CLOEXEC);
#else
	n = recvmsg(chan[1], &mh, 0);
#endif
	if (n == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		len = c->cmsg_len - CMSG_LEN(0);
		memcpy(fds, CMSG_DATA(c), len < sizeof(fds) ? len : sizeof(fds));
	}
	*errfd = *accfd = -1;
	if (n == (ssize_t)sizeof(*rm) && rm->rm_magic == REOPEN_MAGIC &&
	    (mh.msg_flags & MSG_CTRUNC) == 0) {
		if (rm->rm_which & REOPEN_ERR)
			*errfd = fds[i++];
		if (rm->rm_which & REOPEN_ACC)
			*accfd = fds[i++];
		return 1;
	}
	/* Garbage on our own channel is a bug: say so, keep the old logs. */
	for (i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
	errno = EPROTO;
	return -1;
}

/*
 * A worker's part, after SIGURG (wake_reopen()): ask the master for its
 * log files and put them under our own log descriptors.  On any trouble
 * the old files stay and the reason is logged.
 */
void
reopen_worker(void)
{
	struct reopen_msg rm;
	const char *errpath, *accpath;
	int64_t deadline = io_deadline(REOPEN_WAIT_MS);
	int errfd, accfd, myerr, myacc, r;

	if (reopen_ask() == -1) {
		log_warn("log reopen: cannot ask the master");
		return;
	}
	for (;;) {
		if ((r = reopen_take(&rm, &errfd, &accfd)) == 0) {
			if (io_wait(chan[1], POLLIN, deadline) == 1)
				continue;
			log_warnx("log reopen: no answer from the "
			    "master; keeping the old files");
			return;
		}
		if (r == -1) {
			log_warn("log reopen");
			return;
		}
		if (rm.rm_epoch >= epoch)
			break;
		/* Left by a worker that died before reading it: stale. */
		if (errfd != -1)
			close(errfd);
		if (accfd != -1)
			close(accfd);
	}
	epoch = rm.rm_epoch;
	log_files(&myerr, &myacc, &errpath, &accpath);
	if (errfd != -1 && myerr != -1 &&
	    (dup2(errfd, myerr) == -1 || io_cloexec(myerr) == -1))
		log_warn("log reopen: ErrorLog");
	if (accfd != -1 && myacc != -1 &&
	    (dup2(accfd, myacc) == -1 || io_cloexec(myacc) == -1))
		log_warn("log reopen: CustomLog");
	if (errfd != -1)
		close(errfd);
	if (accfd != -1)
		close(accfd);
}
