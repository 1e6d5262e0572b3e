/*
 * log.c: the error log (stderr, a file or syslog) and the access log,
 * shared by the master and its workers.  Every line is one write(2) on
 * an O_APPEND descriptor, so lines from many processes never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

#define LOG_LINE_MAX	2048

static int	 log_level = LOG_L_NOTICE;
static int	 log_fd = STDERR_FILENO;
static int	 log_syslog;
static int	 log_started;		/* past startup: full log lines */
static int	 access_fd = -1;
static char	 log_who[32] = "master";

/* The level names are config.c's cf_levels[], LogLevel's words. */
static const int syslog_prio[LOG_L_MAX] = {
	LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_NOTICE,
	LOG_INFO, LOG_DEBUG
};
_Static_assert(sizeof(syslog_prio) / sizeof(syslog_prio[0]) == LOG_L_MAX,
    "one syslog priority for each level");
static const char *end_words[] = {
	"exit", "eof", "timeout", "too-long", "reset", "shutdown", "too-many",
	"busy", "bad-proxy"
};
_Static_assert(sizeof(end_words) / sizeof(end_words[0]) == END_MAX,
    "one word per enum sess_end");

static void	log_vmsg(int, int, const char *, va_list)
		    __attribute__((__format__(__printf__, 3, 0)));
static int	log_reopen(const char *, int *, char *, size_t);

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

/* Name this process in every line it logs from now on: "worker 3". */
void
log_role(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_who, sizeof(log_who), fmt, ap);
	va_end(ap);
}

static int
log_reopen(const char *path, int *fdp, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open log %s: %s", path,
		    strerror(errno));
		return -1;
	}
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
	    log_reopen(cf->cf_customlog, &newacc, err, errlen) == -1)
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
		log_fd = STDERR_FILENO;
		log_syslog = 0;
	} else {
		if (log_reopen(cf->cf_errorlog, &newfd, err, errlen) == -1) {
			if (newacc != -1)
				close(newacc);
			return -1;
		}
		if (log_fd > STDERR_FILENO)
			close(log_fd);
		log_fd = newfd;
		log_syslog = 0;
	}
	if (access_fd != -1)
		close(access_fd);
	access_fd = newacc;
	log_level = cf->cf_loglevel;
	log_started = 1;
	return 0;
}

/*
 * Format and write one line.  The level is checked before any work, and
 * errno comes back as it was, so a caller can log and then test it.
 */
static void
log_vmsg(int level, int errnum, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = 0;
	int saved = errno, r;
	struct tm tm;
	time_t now;

	if (level > log_level) {
		errno = saved;
		return;
	}
	if (!log_started)
		n = (size_t)snprintf(line, sizeof(line), "hellod: ");
	else if (!log_syslog) {
		now = time(NULL);
		localtime_r(&now, &tm);
		n = strftime(line, sizeof(line), "[%Y-%m-%d %H:%M:%S] ", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "[%s] [pid %ld] %s: ", cf_levels[level], (long)getpid(),
		    log_who);
	} else
		n = (size_t)snprintf(line, sizeof(line), "%s: ", log_who);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = r < 0 ? n : n + (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (errnum != 0)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(errnum));
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (log_syslog && log_started) {
		line[n] = '\0';
		syslog(syslog_prio[level], "%s", line);
	} else {
		line[n++] = '\n';
		(void)io_write_all(log_fd, line, n, IO_NEVER, NULL);
	}
	errno = saved;
}

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

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_L_CRIT, 0, fmt, ap);
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
 * Write the session's access-log line:
 *   ADDR:PORT [dd/Mon/yyyy:HH:MM:SS +zzzz] SECONDS MESSAGES IN OUT END
 * One write(2) on O_APPEND, so no line is split even among many workers.
 */
void
log_access(const struct session_stats *st)
{
	char line[512], when[64];
	struct tm tm;
	int64_t ms;
	int n;

	if (access_fd == -1)
		return;
	localtime_r(&st->st_start, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	ms = io_now() - st->st_start_ms;
	n = snprintf(line, sizeof(line), "%s [%s] %lld.%03lld %llu %llu %llu %s\n",
	    st->st_client, when, (long long)(ms / 1000), (long long)(ms % 1000),
	    (unsigned long long)st->st_messages, (unsigned long long)st->st_in,
	    (unsigned long long)st->st_out, end_words[st->st_end]);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)io_write_all(access_fd, line, (size_t)n, IO_NEVER, NULL);
}
