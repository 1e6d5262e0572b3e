/*
 * log.c: the error log (stderr, a file or syslog) and the access log,
 * shared by the master and its workers.  Every line is one write(2) on
 * an O_APPEND descriptor, so lines from many processes never interleave.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "esc.h"
#include "hellod.h"
#include "io.h"

#define LOG_LINE_MAX	2048

static int	 log_level = LOG_L_NOTICE;
static int	 log_fd = STDERR_FILENO;
static int	 log_syslog;
static int	 log_started;		/* past startup: full log lines */
static int	 access_fd = -1;
static char	 log_who[32] = "master";
/* The error log file open now, for reopen.c: "" when it is not a file. */
static char	 log_path[MAX_PATH];

/*
 * Logging never blocks: a reader that stalls or a full disk costs log
 * lines, never a session or the master's loop.  Lines that could not be
 * written are counted, per process, and the count is reported once a
 * write succeeds again (and at exit).  How the error log's descriptor
 * avoids blocking: see log_private().
 */
static int	 log_how;		/* LOG_WRITE, LOG_POLL or LOG_SEND */
static unsigned long long log_dropped;	/* error log lines lost */
static unsigned long long access_dropped;
static int	 access_errno;		/* why the first of them was lost */
static char	 access_path[MAX_PATH];

enum { LOG_WRITE, LOG_POLL, LOG_SEND };

/* The level names are config.c's cf_levels[], LogLevel's words. */
static const int syslog_prio[LOG_L_MAX] = {
	LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE,
	LOG_INFO, LOG_DEBUG
};
_Static_assert(sizeof(syslog_prio) / sizeof(syslog_prio[0]) == LOG_L_MAX,
    "one syslog priority for each level");
static const char *end_words[] = {
	"exit", "eof", "timeout", "too-long", "reset", "shutdown", "too-many",
	"busy", "bad-proxy", "program"
};
_Static_assert(sizeof(end_words) / sizeof(end_words[0]) == END_MAX,
    "one word per enum sess_end");

static void	log_vmsg(int, int, const char *, va_list)
		    __attribute__((__format__(__printf__, 3, 0)));
static int	log_reopen(const char *, const char *, int *, char *, size_t);
static int	log_private(int);
static int	log_put(int, int, const char *, size_t);
static int	log_tty_refuses(int);
static size_t	log_prefix(char *, size_t, int);
static void	log_emit(char *, size_t);

/*
 * Until log_open(), messages are the startup kind: "hellod: text" on
 * stderr, as err(3) prints them.
 */
void
log_init(int level)
{
	log_level = level;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_enabled(int level)
{
	return level <= log_level;
}

/*
 * Name this process in every line it logs from now on: "worker 3" (name
 * and num), "status" (num < 0).  Without printf: a worker names itself
 * right after fork(), and each page of printf's code it ran would be a
 * page fault more in every new worker.
 */
void
log_role(const char *name, int num)
{
	char digits[12];
	size_t n = 0, d = 0;
	unsigned u = num < 0 ? 0 : (unsigned)num;

	while (*name != '\0' && n < sizeof(log_who) - 1)
		log_who[n++] = *name++;
	if (num >= 0) {
		do
			digits[d++] = (char)('0' + u % 10);
		while ((u /= 10) > 0);
		if (n + 1 + d < sizeof(log_who)) {
			log_who[n++] = ' ';
			while (d > 0)
				log_who[n++] = digits[--d];
		}
	}
	log_who[n] = '\0';
}

/*
 * Open the log at path (what: its directive) into *fdp.  Mode 0640: the
 * logs name every client.  No link is followed, and the directory must
 * be safe (see safefile.c).  Return 0, or -1 with err.
 */
static int
log_reopen(const char *what, const char *path, int *fdp, char *err,
    size_t errlen)
{
	char why[MAX_PATH + 128];
	int fd;

	fd = sf_open(path, O_WRONLY | O_APPEND | O_CREAT, 0640, why,
	    sizeof(why));
	if (fd == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, why);
		return -1;
	}
	/* Ours alone, so nonblocking harms nobody: a FIFO never blocks. */
	(void)io_nonblock(fd, 1);
	if (*fdp > STDERR_FILENO)
		close(*fdp);
	*fdp = fd;
	return 0;
}

/*
 * Open (or reopen, after a rotation) the ErrorLog and CustomLog of cf.
 * A detached server has no stderr, so "stderr" then means syslog.  On
 * failure nothing changes and err says which file.  Return 0 or -1.
 */
int
log_open(const struct config *cf, int detached, char *err, size_t errlen)
{
	int newfd = -1, newacc = -1;

	if (cf->cf_customlog[0] != '\0' &&
	    log_reopen("CustomLog", cf->cf_customlog, &newacc, err,
	    errlen) == -1)
		return -1;
	if (strcmp(cf->cf_errorlog, "syslog") == 0 ||
	    (detached && strcmp(cf->cf_errorlog, "stderr") == 0)) {
		if (log_fd > STDERR_FILENO)
			close(log_fd);
		log_fd = -1;
		if (!log_syslog)
			openlog("hellod", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
	} else if (strcmp(cf->cf_errorlog, "stderr") == 0) {
		if (log_fd > STDERR_FILENO)
			close(log_fd);
		log_fd = log_private(STDERR_FILENO);
		log_syslog = 0;
	} else {
		if (log_reopen("ErrorLog", cf->cf_errorlog, &newfd, err,
		    errlen) == -1) {
			if (newacc != -1)
				close(newacc);
			return -1;
		}
		if (log_fd > STDERR_FILENO)
			close(log_fd);
		log_fd = newfd;
		log_how = LOG_WRITE;
		log_syslog = 0;
	}
	if (access_fd != -1)
		close(access_fd);
	access_fd = newacc;
	snprintf(access_path, sizeof(access_path), "%s", cf->cf_customlog);
	if (!log_started)
		atexit(log_losses);
	snprintf(log_path, sizeof(log_path), "%s", newfd != -1 ?
	    cf->cf_errorlog : "");
	log_level = cf->cf_loglevel;
	log_started = 1;
	return 0;
}

/*
 * A descriptor for fd (stderr) that never blocks, without making the
 * descriptor we share with our parent nonblocking for it too.  A
 * regular file never blocks that way.  A pipe, FIFO or terminal is
 * opened again through /dev/fd, which on Linux gives a file description
 * of our own, made nonblocking.  A socket (journald's stdout) is
 * written with send(MSG_DONTWAIT).  Elsewhere each write waits for
 * poll() to say it fits, which can still block in a race between
 * processes but not behind a reader that has stopped.
 */
static int
log_private(int fd)
{
	char path[32];
	struct stat st;
	int nfd;

	log_how = LOG_WRITE;
	if (fstat(fd, &st) == -1 || S_ISREG(st.st_mode))
		return fd;
	if (S_ISSOCK(st.st_mode)) {
		log_how = LOG_SEND;
		return fd;
	}
#if defined(__linux__) && !defined(HELLOD_PORTABLE)
	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	if ((nfd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK |
	    O_CLOEXEC)) != -1)
		return nfd;
#else
	(void)path;
	(void)nfd;
#endif
	log_how = LOG_POLL;
	return fd;
}

/*
 * Write one whole line to fd without blocking.  Return 0, or -1 with
 * errno (EAGAIN when it would have blocked) when it was not written.
 */
static int
log_put(int fd, int how, const char *line, size_t n)
{
	struct pollfd pfd;
	ssize_t r;

	if (how == LOG_POLL) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 0) != 1) {
			errno = EAGAIN;
			return -1;
		}
	}
	for (;;) {
		r = how == LOG_SEND ? send(fd, line, n, MSG_DONTWAIT |
		    MSG_NOSIGNAL) : write(fd, line, n);
		if (r != -1 || errno != EINTR)
			break;
		if (log_tty_refuses(fd)) {
			errno = EIO;
			break;
		}
	}
	if (r >= 0 && (size_t)r != n)
		errno = EAGAIN;		/* the rest of the line is lost */
	return r >= 0 && (size_t)r == n ? 0 : -1;
}

/*
 * Whether fd is a terminal that refuses our writes: "stty tostop" and
 * we are not in its foreground process group.  The kernel then sends
 * us TTOU and interrupts the write (the master's TTOU handler has no
 * SA_RESTART); trying again would only spin, so the line is dropped
 * and counted, as a stalled pipe's is.
 */
static int
log_tty_refuses(int fd)
{
	struct termios t;
	pid_t fg;

	if (tcgetattr(fd, &t) == -1 || (t.c_lflag & TOSTOP) == 0)
		return 0;
	fg = tcgetpgrp(fd);
	return fg != -1 && fg != getpgrp();
}

/* The front of an error log line for level; return its length. */
static size_t
log_prefix(char *line, size_t len, int level)
{
	struct tm tm;
	time_t now;
	size_t n;

	if (!log_started)
		return (size_t)snprintf(line, len, "hellod: ");
	if (log_syslog)
		return (size_t)snprintf(line, len, "%s: ", log_who);
	now = time(NULL);
	localtime_r(&now, &tm);
	n = strftime(line, len, "[%Y-%m-%d %H:%M:%S] ", &tm);
	n += (size_t)snprintf(line + n, len - n, "[%s] [pid %ld] %s: ",
	    cf_levels[level], (long)getpid(), log_who);
	return n;
}

/*
 * Write a line (with its newline; none when n is 0) to the error log,
 * first saying how many were lost before it, if any; count it when it
 * cannot be written.
 */
static void
log_emit(char *line, size_t n)
{
	char note[LOG_LINE_MAX];
	size_t k;

	if (log_dropped > 0) {
		k = log_prefix(note, sizeof(note), LOG_L_WARN);
		k += (size_t)snprintf(note + k, sizeof(note) - k,
		    "%llu log line%s dropped\n", log_dropped,
		    log_dropped == 1 ? "" : "s");
		if (k >= sizeof(note) || log_put(log_fd, log_how, note, k) == -1) {
			log_dropped++;
			return;
		}
		log_dropped = 0;
	}
	if (n > 0 && log_put(log_fd, log_how, line, n) == -1)
		log_dropped++;
}

/*
 * At exit: report the losses not reported yet, as far as possible.  A
 * process that ends with _exit() calls it first.
 */
void
log_losses(void)
{
	if (access_dropped > 0)
		log_warnx("CustomLog %s: %llu line%s dropped (%s)",
		    access_path, access_dropped, access_dropped == 1 ? "" :
		    "s", strerror(access_errno));
	access_dropped = 0;
	if (log_dropped > 0 && log_started && !log_syslog)
		log_emit(NULL, 0);
}

/*
 * Format and write one line.  The level is checked before any work, and
 * errno comes back as it was, so a caller can log and then test it.
 */
static void
log_vmsg(int level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	size_t n, m;
	int saved = errno, r;

	if (level > log_level) {
		errno = saved;
		return;
	}
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	m = r < 0 ? 0 : (size_t)r;
	if (m > sizeof(msg) - 1)
		m = sizeof(msg) - 1;
	if (errnum != 0)
		m += (size_t)snprintf(msg + m, sizeof(msg) - m, ": %s",
		    strerror(errnum));
	if (m > sizeof(msg) - 1)
		m = sizeof(msg) - 1;
	/*
	 * Whatever a peer sent and a caller passed on, a log line is one
	 * line of printable ASCII: a newline or an escape sequence in it
	 * comes out as \xHH, as Apache logs client data, so that nobody
	 * can forge a line or drive the terminal of whoever reads it.
	 */
	n = log_prefix(line, sizeof(line), level);
	(void)esc_bytes(line + n, sizeof(line) - n - 1, msg, m, 0);
	n += strlen(line + n);
	if (log_syslog && log_started) {
		syslog(syslog_prio[level], "%s", line);
	} else if (!log_started) {
		line[n++] = '\n';
		(void)io_write_all(log_fd, line, n, IO_NEVER, NULL);
	} else {
		line[n++] = '\n';
		log_emit(line, n);
	}
	errno = saved;
}

/*
 * The reporters, one convention: a warning is log_warn() (with
 * strerror(errno)) or log_warnx() (without), a system error this
 * process cannot go on after is fatal(), every other level is
 * log_msg(level, ...).
 */
void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, 0, fmt, ap);
	va_end(ap);
}

/* A warning with strerror(errno) appended. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_L_WARN, errno, fmt, ap);
	va_end(ap);
}

/* A warning without. */
void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_L_WARN, 0, fmt, ap);
	va_end(ap);
}

/*
 * Log at crit with strerror(errno) and exit EXIT_FATAL: a system error
 * this process cannot go on after, never a configuration error.
 */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_L_CRIT, errno, fmt, ap);
	va_end(ap);
	exit(EXIT_FATAL);
}

const char *
log_end_word(enum sess_end end)
{
	return end_words[end];
}

int
log_access_fd(void)
{
	return access_fd;
}

/*
 * The descriptors of the ErrorLog and CustomLog files this process
 * writes, and their paths; -1 and "" for a log that is not a file.  For
 * reopen.c, which puts a new file under the same descriptor.
 */
void
log_files(int *errfd, int *accfd, const char **errpath,
    const char **accpath)
{
	*errfd = log_path[0] != '\0' ? log_fd : -1;
	*accfd = access_fd;
	*errpath = log_path;
	*accpath = access_path;
}

/*
 * Write the session's access-log line:
 *   ADDR:PORT [dd/Mon/yyyy:HH:MM:SS +zzzz] SECONDS MESSAGES IN OUT END
 * One write(2) on O_APPEND, so no line is split even among many workers.
 */
void
log_access(const struct session_stats *st)
{
	char line[512], when[64], how[32] = "";
	struct tm tm;
	int64_t ms;
	int n;

	if (access_fd == -1)
		return;
	localtime_r(&st->st_start, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	ms = io_now() - st->st_start_ms;
	if (st->st_noexec)
		snprintf(how, sizeof(how), " noexec");
	else if (st->st_program && WIFSIGNALED(st->st_status))
		snprintf(how, sizeof(how), " signal=%d", WTERMSIG(st->st_status));
	else if (st->st_program)
		snprintf(how, sizeof(how), " exit=%d", WEXITSTATUS(st->st_status));
	n = snprintf(line, sizeof(line), "%s [%s] %lld.%03lld %llu %llu %llu %s%s\n",
	    st->st_client, when, (long long)(ms / 1000), (long long)(ms % 1000),
	    (unsigned long long)st->st_messages, (unsigned long long)st->st_in,
	    (unsigned long long)st->st_out, end_words[st->st_end], how);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	if (log_put(access_fd, LOG_WRITE, line, (size_t)n) == -1) {
		/* Say so at the first loss; count the rest. */
		if (access_dropped++ == 0) {
			access_errno = errno;
			log_msg(LOG_L_ERR, "CustomLog %s: %s; counting the "
			    "lines lost", access_path, strerror(errno));
		}
	} else if (access_dropped > 0) {
		log_warnx("CustomLog %s: %llu line%s dropped (%s)",
		    access_path, access_dropped, access_dropped == 1 ? "" :
		    "s", strerror(access_errno));
		access_dropped = 0;
	}
}

/* Say what a wait status means, once, in words. */
void
log_wait_words(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
#ifdef WCOREDUMP
		    WCOREDUMP(status) ? " (core dumped)" :
#endif
		    "");
	else
		snprintf(buf, len, "ended with status %#x", status);
}
