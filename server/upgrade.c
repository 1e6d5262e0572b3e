/*
 * upgrade.c: replacing the running binary without closing a listening
 * socket (USR2), as nginx does.  The old master renames its PidFile to
 * PidFile.oldbin, keeping its lock, and forks a child that executes the
 * binary hellod was started as, with the same arguments, its listening
 * sockets passed as socket activation passes them ($LISTEN_FDS, see
 * inherit.c) and $HELLOD_UPGRADE naming the old master.  The new master
 * does not detach and does not lock the PidFile at startup: it takes the
 * PidFile once a worker of its own waits for connections.  Both serve
 * until the old one is told WINCH or TERM.  Because the new master is
 * the old one's child, the old master sees it end: if that happens while
 * the old master still serves, it renames PidFile.oldbin back and goes
 * on as before (the rollback).  A new master that does not serve within
 * UpgradeTimeout, or that has not served when the old one is told to
 * stop, is ended by the old master (TERM, then KILL), which rolls back
 * the same way.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

#define UPGRADE_ENV	"HELLOD_UPGRADE"	/* "PID:PIDFILE" of the old master */
#define UPGRADE_EXEC_FAILED	127	/* the child could not exec, as sh(1) */

static char	 up_path[MAX_PATH];	/* the binary, absolute */
static char	**up_argv;		/* a copy: option parsing moves argv */
static char	 up_cwd[MAX_PATH];	/* where hellod started */
static pid_t	 up_old;		/* new master: the old one, or 0 */
static int	 up_pidfd = -1;		/* new master: PidFile, once taken */
static int	 up_taken;		/* new master: it has taken PidFile */
static pid_t	 up_child;		/* old master: the new one, or 0 */
static int	 up_served;		/* ... which holds PidFile */
static int	 up_ended;		/* ... has ended, status up_status */
static int	 up_status;
static int64_t	 up_started;	/* ... at io_now() */
static int64_t	 up_kill_at;	/* ... TERMed: KILL at this time, or 0 */
static char	 up_pidfile[MAX_PATH];	/* old master: PidFile, to go back */
static char	 up_keep[MAX_PATH];	/* new master: the old one's PidFile */
static int	 up_old_gone;		/* ... the old one is gone, seen */

static int	upgrade_resolve(const char *, const char *);
static int	upgrade_is_new(void);
static const char *upgrade_refused(const struct config *, char *, size_t);
static int	upgrade_rename(const char *, const char *);
static void	upgrade_exec(const int *, int, int) __attribute__((__noreturn__));
static int	upgrade_fds(const int *, int);
static void	upgrade_failed(struct scoreboard *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
static void	upgrade_rollback(struct config *, struct scoreboard *, int);
static void	upgrade_bound(const struct config *, int);

/*
 * First thing in main(), before options are parsed (which reorders
 * argv) and before anything changes directory: remember the binary
 * hellod runs as (argv[0], made absolute, or found in $PATH as the
 * shell found it), its arguments and the directory, for a later USR2.
 * Note whether an old master started us, and forget the variable that
 * says so.  Return 0, or -1 when the binary or directory cannot be
 * known (USR2 then says so; the server runs the same).
 */
int
upgrade_init(int argc, char *const *argv)
{
	const char *old = getenv(UPGRADE_ENV);
	char *end;
	long pid;

	if ((up_argv = calloc((size_t)argc + 1, sizeof(*up_argv))) == NULL ||
	    getcwd(up_cwd, sizeof(up_cwd)) == NULL)
		return -1;
	memcpy(up_argv, argv, (size_t)argc * sizeof(*up_argv));
	if (old != NULL) {
		errno = 0;
		pid = strtol(old, &end, 10);
		if (errno == 0 && end != old && *end == ':' && pid > 1 &&
		    (pid_t)pid == getppid()) {
			up_old = (pid_t)pid;
			snprintf(up_keep, sizeof(up_keep), "%s", end + 1);
			inherit_from_upgrade();
		}
		unsetenv(UPGRADE_ENV);
	}
	return upgrade_resolve(argv[0], up_cwd);
}

/*
 * In a new master: the PidFile is the old master's, whatever the
 * configuration says now, as a restart keeps it (and as "-k upgrade"
 * looks for it).
 */
void
upgrade_pidfile(struct config *cf)
{
	if (up_old != 0 && up_keep[0] != '\0')
		memcpy(cf->cf_pidfile, up_keep, sizeof(cf->cf_pidfile));
}

/* Find argv0 as execvp(3) would, and keep it as an absolute path. */
static int
upgrade_resolve(const char *argv0, const char *cwd)
{
	const char *path = getenv("PATH"), *p, *colon;
	char try[MAX_PATH];
	size_t len;
	int n;

	if (argv0 == NULL || *argv0 == '\0')
		return -1;
	if (strchr(argv0, '/') != NULL) {
		n = snprintf(up_path, sizeof(up_path), "%s%s%s",
		    argv0[0] == '/' ? "" : cwd, argv0[0] == '/' ? "" : "/",
		    argv0);
		return n > 0 && (size_t)n < sizeof(up_path) ? 0 : -1;
	}
	for (p = path != NULL ? path : "/usr/bin:/bin"; ; p = colon + 1) {
		colon = strchr(p, ':');
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		/* An empty entry is the current directory. */
		n = snprintf(try, sizeof(try), "%s%s%.*s/%s",
		    len > 0 && p[0] == '/' ? "" : cwd,
		    len > 0 && p[0] == '/' ? "" : "/", (int)len, p, argv0);
		if (n > 0 && (size_t)n < sizeof(try) && access(try, X_OK) == 0) {
			memcpy(up_path, try, (size_t)n + 1);
			return 0;
		}
		if (colon == NULL)
			return -1;
	}
}

/* True in a new master whose old master still runs (our parent). */
static int
upgrade_is_new(void)
{
	return up_old != 0 && getppid() == up_old;
}

/*
 * True in a new master started by USR2 that has not yet taken the
 * PidFile: it neither locks it at startup nor detaches (its old master
 * must see it end).
 */
int
upgrade_pending(void)
{
	return up_old != 0 && !up_taken;
}

/*
 * True while another master serves the same listening sockets: an old
 * master whose new one runs, or a new one whose old one does.  A socket
 * filter on a shared socket would stop both (see master_drain_begin()).
 */
int
upgrade_shared(void)
{
	return (up_child != 0 && !up_ended) || upgrade_is_new();
}

/*
 * Why a USR2 cannot start an upgrade now, or NULL when it can: one is
 * under way, this master is the new one of an upgrade not yet
 * finished, or PidFile.oldbin belongs to a live master.  A
 * PidFile.oldbin nobody holds is left by a crash and is taken over.
 */
static const char *
upgrade_refused(const struct config *cf, char *buf, size_t len)
{
	char oldbin[MAX_PATH + 8];
	pid_t pid;

	if (up_child != 0) {
		snprintf(buf, len, "an upgrade is under way (new master pid "
		    "%ld)", (long)up_child);
		return buf;
	}
	if (upgrade_is_new()) {
		snprintf(buf, len, "this master is the new one of an upgrade "
		    "not finished: its old master (pid %ld) still runs",
		    (long)up_old);
		return buf;
	}
	if (up_path[0] == '\0' || up_argv == NULL)
		return "the binary hellod was started as was not found";
	if (cf->cf_pidfile[0] == '\0')
		return NULL;
	snprintf(oldbin, sizeof(oldbin), "%s.oldbin", cf->cf_pidfile);
	if ((pid = pid_running(oldbin, NULL)) > 0 && pid != getpid()) {
		snprintf(buf, len, "%s is held by a running hellod (pid %ld)",
		    oldbin, (long)pid);
		return buf;
	}
	return NULL;
}

/*
 * Rename from to to, and their scoreboards (from.scoreboard) the same
 * way; the pid file's lock stays with its file.  Return 0, or -1 with
 * errno (logged).
 */
static int
upgrade_rename(const char *from, const char *to)
{
	char sfrom[MAX_PATH + 32], sto[MAX_PATH + 32];

	if (rename(from, to) == -1) {
		log_warn("upgrade: rename %s to %s", from, to);
		return -1;
	}
	sb_path(from, sfrom, sizeof(sfrom));
	sb_path(to, sto, sizeof(sto));
	if (rename(sfrom, sto) == -1 && errno != ENOENT)
		log_warn("upgrade: rename %s to %s", sfrom, sto);
	return 0;
}

/*
 * Say where "-k upgrade" reads it that this USR2 came to nothing, and
 * why.  The reason is written before the count that announces it.
 */
static void
upgrade_failed(struct scoreboard *sb, const char *fmt, ...)
{
	struct sb_header *sh = sb->sb_hdr;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->sh_upgrade_why, sizeof(sh->sh_upgrade_why), fmt, ap);
	va_end(ap);
	atomic_thread_fence(memory_order_release);
	sh->sh_upgrade_failed++;
}

/*
 * USR2 in the master whose configuration is cf, listening on lfd[0 ..
 * nlfd - 1], with scoreboard sb, detached or not, stopping or not:
 * rename the PidFile and start the new master, or log why not.
 */
void
upgrade_start(struct config *cf, const int *lfd, int nlfd,
    struct scoreboard *sb, int detached, int stopping)
{
	char buf[MAX_PATH + 128], oldbin[MAX_PATH];
	const char *why;
	sigset_t all, mask;
	pid_t pid;

	if ((why = stopping ? "this master is stopping" :
	    upgrade_refused(cf, buf, sizeof(buf))) != NULL) {
		log_warnx("USR2 ignored: %s", why);
		upgrade_failed(sb, "USR2 ignored: %s", why);
		return;
	}
	up_pidfile[0] = '\0';
	if (cf->cf_pidfile[0] != '\0') {
		if ((size_t)snprintf(oldbin, sizeof(oldbin), "%s.oldbin",
		    cf->cf_pidfile) >= sizeof(oldbin)) {
			log_warnx("USR2 ignored: PidFile %s: name too "
			    "long for .oldbin", cf->cf_pidfile);
			upgrade_failed(sb, "USR2 ignored: PidFile %s: name too "
			    "long for .oldbin", cf->cf_pidfile);
			return;
		}
		if (upgrade_rename(cf->cf_pidfile, oldbin) == -1) {
			upgrade_failed(sb, "upgrade failed: cannot rename "
			    "PidFile %s: %s", cf->cf_pidfile, strerror(errno));
			return;
		}
		memcpy(up_pidfile, cf->cf_pidfile, sizeof(up_pidfile));
		memcpy(cf->cf_pidfile, oldbin, sizeof(cf->cf_pidfile));
	}
	/* As pool_spawn() does: no handler of ours runs in the child. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &mask);
	if ((pid = fork()) == 0) {
		sigprocmask(SIG_SETMASK, &mask, NULL);
		upgrade_exec(lfd, nlfd, detached);
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (pid == -1) {
		log_warn("upgrade: fork");
		up_child = 0;
		upgrade_failed(sb, "upgrade failed: fork: %s", strerror(errno));
		if (up_pidfile[0] != '\0' &&
		    upgrade_rename(cf->cf_pidfile, up_pidfile) == 0)
			memcpy(cf->cf_pidfile, up_pidfile, sizeof(up_pidfile));
		return;
	}
	up_child = pid;
	up_served = up_ended = 0;
	up_started = io_now();
	up_kill_at = 0;
	sb->sb_hdr->sh_upgrade_pid = pid;
	atomic_thread_fence(memory_order_release);
	sb->sb_hdr->sh_upgrades++;
	log_msg(LOG_L_NOTICE, "upgrade: started the new master (pid %ld), %s; "
	    "this master serves on%s%s", (long)pid, up_path,
	    up_pidfile[0] != '\0' ? " as " : "", up_pidfile[0] != '\0' ?
	    cf->cf_pidfile : "");
}

/*
 * In the child of an old master: the directory hellod started in (so
 * that relative arguments mean what they meant), the listening sockets
 * as descriptors 3 and up, the variables that say so, then the binary.
 * Every other descriptor is close-on-exec.  A detached master's stderr
 * is /dev/null: the new master's startup errors, which it writes there
 * before it opens its logs, go to the ErrorLog file instead.  Exits 127
 * when it cannot execute, as sh(1) does; the old master says why.
 */
static void
upgrade_exec(const int *lfd, int nlfd, int detached)
{
	const char *epath, *apath;
	char num[32], old[MAX_PATH + 32];
	int efd, afd;

	log_files(&efd, &afd, &epath, &apath);
	if (detached && efd != -1)
		(void)dup2(efd, STDERR_FILENO);
	if (chdir(up_cwd) == -1 || upgrade_fds(lfd, nlfd) == -1)
		_exit(UPGRADE_EXEC_FAILED);
	snprintf(num, sizeof(num), "%d", nlfd);
	setenv("LISTEN_FDS", num, 1);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	setenv("LISTEN_PID", num, 1);
	/* The service manager's watchdog follows the new master. */
	if (getenv("WATCHDOG_USEC") != NULL)
		setenv("WATCHDOG_PID", num, 1);
	unsetenv("LISTEN_FDNAMES");
	snprintf(old, sizeof(old), "%ld:%s", (long)getppid(), up_pidfile);
	setenv(UPGRADE_ENV, old, 1);
	execv(up_path, up_argv);
	_exit(UPGRADE_EXEC_FAILED);
}

/*
 * Put lfd[0 .. n - 1] at descriptors 3 .. 3 + n - 1, without close-on-
 * exec.  They go above that range first, so that moving one never
 * overwrites another still to move.  Return 0, or -1 with errno.
 */
static int
upgrade_fds(const int *lfd, int n)
{
	int high[MAX_LISTEN + 1], i;

	for (i = 0; i < n; i++)
		if ((high[i] = fcntl(lfd[i], F_DUPFD, 3 + n)) == -1)
			return -1;
	/* dup2() leaves the new descriptor without FD_CLOEXEC. */
	for (i = 0; i < n; i++) {
		if (dup2(high[i], 3 + i) == -1)
			return -1;
		close(high[i]);
	}
	return 0;
}

/*
 * In the old master's reaping: is pid the new master?  Then note how it
 * ended, for upgrade_check(), and return 1; otherwise 0.
 */
int
upgrade_reaped(pid_t pid, int status)
{
	if (up_child == 0 || pid != up_child)
		return 0;
	up_ended = 1;
	up_status = status;
	return 1;
}

/*
 * The old master's look at its upgrade, from its loop: note when the new
 * master serves (it holds the PidFile), and roll back when it has ended.
 * Return 1 after a rollback (the caller tells the service manager that
 * this master is the main one again), else 0.  A master that is stopping
 * takes its PidFile back but does not serve on: it goes away as told.
 */
int
upgrade_check(struct config *cf, struct scoreboard *sb, int stopping)
{
	if (up_child == 0)
		return 0;
	if (!up_ended) {
		if (!up_served && up_pidfile[0] != '\0' &&
		    pid_running(up_pidfile, NULL) == up_child) {
			up_served = 1;
			/* It has told a service manager MAINPID=; be quiet. */
			notify_mute(1);
			log_msg(LOG_L_NOTICE, "upgrade: the new master (pid %ld) "
			    "serves and holds %s; this master serves until told "
			    "WINCH or TERM", (long)up_child, up_pidfile);
		}
		if (!up_served)
			upgrade_bound(cf, stopping);
		return 0;
	}
	upgrade_rollback(cf, sb, stopping);
	return !stopping;
}

/*
 * A new master that has not served is ended when UpgradeTimeout has
 * passed, or at once when this master stops: nothing else would end it,
 * and it holds the listening sockets.  TERM first, KILL if it is still
 * there UPGRADE_KILL_MS later; its reaping rolls back.  Its workers go
 * when it does, as any master's.
 */
static void
upgrade_bound(const struct config *cf, int stopping)
{
	int64_t now = io_now();

	if (up_kill_at != 0) {
		if (now >= up_kill_at) {
			log_msg(LOG_L_ERR, "upgrade: the new master (pid %ld) "
			    "is still there %d seconds after TERM; killing it",
			    (long)up_child, UPGRADE_KILL_MS / 1000);
			(void)kill(up_child, SIGKILL);
			up_kill_at = INT64_MAX;	/* once */
		}
		return;
	}
	if (stopping)
		log_msg(LOG_L_NOTICE, "upgrade: this master stops before the "
		    "new master (pid %ld) served; stopping it", (long)up_child);
	else if (now - up_started >= (int64_t)cf->cf_upgrade_timeout * 1000)
		log_msg(LOG_L_ERR, "upgrade: the new master (pid %ld) did not "
		    "serve within %d seconds (UpgradeTimeout); stopping it",
		    (long)up_child, cf->cf_upgrade_timeout);
	else
		return;
	(void)kill(up_child, SIGTERM);
	up_kill_at = now + UPGRADE_KILL_MS;
}

/* True while the new master runs and does not hold the PidFile yet. */
int
upgrade_waiting(void)
{
	return up_child != 0 && !up_ended && !up_served;
}

/* The new master has ended: take the PidFile back, and say why. */
static void
upgrade_rollback(struct config *cf, struct scoreboard *sb, int stopping)
{
	char how[MAX_PATH + 64];
	pid_t child = up_child;

	if (WIFEXITED(up_status) && WEXITSTATUS(up_status) ==
	    UPGRADE_EXEC_FAILED)
		snprintf(how, sizeof(how), "could not execute %s", up_path);
	else
		log_wait_words(up_status, how, sizeof(how));
	up_child = 0;
	up_ended = 0;
	notify_mute(0);
	/* Stopping or not, this master is the one the PidFile names. */
	if (up_pidfile[0] != '\0' && upgrade_rename(cf->cf_pidfile,
	    up_pidfile) == 0)
		memcpy(cf->cf_pidfile, up_pidfile, sizeof(up_pidfile));
	if (stopping) {
		log_msg(LOG_L_NOTICE, "upgrade: the new master (pid %ld) %s; "
		    "this master is stopping as told", (long)child, how);
		upgrade_failed(sb, "the new master (pid %ld) %s; the old "
		    "master (pid %ld) is stopping", (long)child, how,
		    (long)getpid());
		return;
	}
	log_msg(LOG_L_ERR, "upgrade failed: the new master (pid %ld) %s %s; "
	    "rolled back: this master serves on%s%s", (long)child, how,
	    up_served ? "after it served" : "before it served",
	    cf->cf_pidfile[0] != '\0' ? " with PidFile " : "",
	    cf->cf_pidfile);
	upgrade_failed(sb, "the new master (pid %ld) %s %s; the old master "
	    "(pid %ld) serves on", (long)child, how, up_served ?
	    "after it served" : "before it served", (long)getpid());
	up_served = 0;
}

/*
 * In the new master, once a worker of its own waits for connections:
 * take the PidFile (write-lock it and write our pid), which tells the
 * old master and "-k upgrade" that the new binary serves.  Return the
 * locked descriptor (or -1 without a PidFile: nothing to take), or -2
 * with err when it cannot be taken: the new master then stops, and the
 * old one rolls back.
 */
int
upgrade_take(const struct config *cf, char *err, size_t errlen)
{
	int fd;

	up_taken = 1;
	if (cf->cf_pidfile[0] == '\0')
		return -1;
	if ((fd = pid_lock(cf->cf_pidfile, err, errlen)) == -1)
		return -2;
	if (pid_write(fd, getpid()) == -1) {
		snprintf(err, errlen, "PidFile %s: %s", cf->cf_pidfile,
		    strerror(errno));
		pid_remove(fd, cf->cf_pidfile);
		return -2;
	}
	up_pidfd = fd;
	log_msg(LOG_L_NOTICE, "upgrade: serving; PidFile %s names this master; "
	    "the old master (pid %ld) serves until told WINCH or TERM",
	    cf->cf_pidfile, (long)up_old);
	return fd;
}

/* The PidFile a new master took, for main() to remove at exit; or -1. */
int
upgrade_pidfd(void)
{
	return up_pidfd;
}

/*
 * In a new master, from its loop: has the old master gone (it is no
 * longer our parent)?  Once it has, look once at what it leaves.  One
 * that exits as told removes its PidFile.oldbin and scoreboard itself;
 * one killed or crashed mid-upgrade leaves them, the file naming a dead
 * pid.  Say so, and remove them, unless a live master holds the lock.
 */
void
upgrade_old_gone(void)
{
	char oldbin[MAX_PATH + 8], sb[MAX_PATH + 40];
	int file, board;

	if (up_old == 0 || up_old_gone || getppid() == up_old)
		return;
	up_old_gone = 1;
	if (up_keep[0] == '\0' || (size_t)snprintf(oldbin, sizeof(oldbin),
	    "%s.oldbin", up_keep) >= sizeof(oldbin) ||
	    pid_running(oldbin, NULL) != 0)
		return;
	file = unlink(oldbin) == 0;
	board = unlink(sb_path(oldbin, sb, sizeof(sb))) == 0;
	if (file || board)
		log_warnx("upgrade: the old master (pid %ld) died "
		    "before the upgrade was over; removed what it left: %s%s%s",
		    (long)up_old, file ? oldbin : "", file && board ? ", " : "",
		    board ? sb : "");
}
