/*
 * notify.c: the service manager's readiness protocol (sd_notify(3)),
 * written by hand: each message is one datagram of "NAME=value" lines
 * sent to the AF_UNIX socket named by $NOTIFY_SOCKET ("@name" is an
 * abstract address).  With no $NOTIFY_SOCKET every call does nothing.
 * Only the master calls these; workers never hold the socket.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

static int			 notify_sock = -1;
static struct sockaddr_un	 notify_sun;
static socklen_t		 notify_len;
static int			 notify_broken;	/* logged once; silent since */
static int64_t			 notify_wd_ms;	/* ping interval, 0: none */
static int64_t			 notify_wd_next;
static char			 notify_last[128];	/* last STATUS= sent */
static int			 notify_muted;	/* another master speaks */

static void	notify_watchdog_init(void);

/*
 * Read $NOTIFY_SOCKET and $WATCHDOG_USEC and open the datagram socket.
 * Call once, in the master, before the first notify_send().  A bad or
 * unreachable address is reported by the first send, once.
 */
void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	notify_watchdog_init();
	if (path == NULL || *path == '\0')
		return;
	len = strlen(path);
	memset(&notify_sun, 0, sizeof(notify_sun));
	notify_sun.sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') ||
	    len >= sizeof(notify_sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET \"%s\" is not a socket "
		    "address; not notifying the service manager", path);
		notify_broken = 1;
		return;
	}
	memcpy(notify_sun.sun_path, path, len);
	/* An abstract address starts with a NUL and is not terminated. */
	if (path[0] == '@')
		notify_sun.sun_path[0] = '\0';
	else
		len++;
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((notify_sock = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    io_cloexec(notify_sock) == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		notify_broken = 1;
	}
}

/*
 * $WATCHDOG_USEC asks for a ping at least that often; we ping at half of
 * it.  $WATCHDOG_PID, when set, names the process it is meant for.
 */
static void
notify_watchdog_init(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid;
	char *end;
	long long v;

	if (usec == NULL)
		return;
	pid = getenv("WATCHDOG_PID");
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return;
	errno = 0;
	v = strtoll(usec, &end, 10);
	if (errno != 0 || end == usec || *end != '\0' || v <= 0)
		return;
	notify_wd_ms = v / 2000 > 0 ? v / 2000 : 1;
	notify_wd_next = io_now();
}

/*
 * Send one message, "NAME=value" lines as printf formats them.  A
 * failure is logged once and every later message is dropped quietly:
 * the server works the same without a service manager listening.
 */
void
notify_send(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (notify_sock == -1 || notify_broken || notify_muted)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (sendto(notify_sock, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_sun, notify_len) == -1) {
		log_warnx("cannot notify the service manager at "
		    "NOTIFY_SOCKET %s: %s; no further notifications",
		    getenv("NOTIFY_SOCKET"), strerror(errno));
		notify_broken = 1;
	}
}

/*
 * An old master goes quiet once the new master of an upgrade serves (it
 * has told the manager MAINPID=), and speaks again after a rollback.
 */
void
notify_mute(int on)
{
	notify_muted = on;
}

/* True when a service manager listens (or did, until it failed). */
int
notify_enabled(void)
{
	return notify_sock != -1 && !notify_broken;
}

/*
 * "RELOADING=1" with the CLOCK_MONOTONIC time in microseconds, as
 * Type=notify-reload wants it, and a STATUS saying why.
 */
void
notify_reloading(const char *why)
{
	struct timespec ts;

	if (!notify_enabled())
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=%s",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, why);
	notify_last[0] = '\0';
}

/*
 * Keep STATUS= current: busy and idle workers and sessions served,
 * sent only when the text changes.
 */
void
notify_status(const struct scoreboard *sb)
{
	struct sb_counts c;
	char line[sizeof(notify_last)];

	if (!notify_enabled())
		return;
	sb_counts(sb, &c);
	snprintf(line, sizeof(line), "%u busy, %u idle, %llu session%s served",
	    c.c_busy, c.c_idle, (unsigned long long)c.c_sessions,
	    c.c_sessions == 1 ? "" : "s");
	if (strcmp(line, notify_last) == 0)
		return;
	memcpy(notify_last, line, sizeof(line));
	notify_send("STATUS=%s", line);
}

/*
 * The watchdog: ping when due and return when the next ping is due (a
 * value of io_now()), or 0 when there is no watchdog.  The master calls
 * it from its loop, so a master stuck elsewhere stops pinging.
 */
int64_t
notify_watchdog(int64_t now)
{
	if (notify_wd_ms == 0)
		return 0;
	if (now >= notify_wd_next) {
		notify_send("WATCHDOG=1");
		notify_wd_next = now + notify_wd_ms;
	}
	return notify_wd_next;
}

/* The socket, for the master to close in its workers; -1 if none. */
int
notify_fd(void)
{
	return notify_sock;
}
