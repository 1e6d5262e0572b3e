/*
 * ctl.c: the pid file (locked for the master's lifetime) and the -k
 * commands that find a running master through it.
 */
#define _XOPEN_SOURCE	700	/* getpgid() */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

/*
 * The -k words, in one table: main.c accepts exactly these, and
 * ctl_command() acts on them.  sig 0 means no signal ("start" is done
 * by main.c, "status" reads the scoreboard).
 */
static const struct {
	const char	*cw_word;
	int		 cw_sig;
} ctl_words[] = {
	{ "start",		0 },
	{ "stop",		SIGTERM },
	{ "restart",		SIGHUP },
	{ "graceful",		SIGUSR1 },
	{ "graceful-stop",	SIGWINCH },
	{ "upgrade",		SIGUSR2 },
	{ "reopen",		SIGURG },
	{ "status",		0 },
	{ "fullstatus",		0 },
};

#define PID_DIR_ROOT	RUN_DIR		/* the default PidFile's, as root */
#define CTL_WAIT_MS	10000		/* -k waits for a restart or reopen */

static int	pid_lock_once(const char *, char *, size_t);
static int	pid_open(const char *, int);
static pid_t	pid_holder(int);
static int	ctl_wait_gone(int, int64_t);
static int	ctl_new_serving(const struct scoreboard *, uint32_t);
static int	ctl_wait_count(volatile uint32_t *, uint32_t, int64_t);
static int	ctl_wait_serving(const struct scoreboard *, uint32_t, int64_t);
static int	pid_default_in(const struct config *, const char *, char *,
		    size_t);
static pid_t	ctl_find(struct config *, int *);
static int	ctl_denied(const char *, const char *);
static int	ctl_upgrade(const struct config *, pid_t, int);
static int	ctl_upgrade_fail(const struct scoreboard *);
static pid_t	ctl_upgrade_started(struct scoreboard *, pid_t, uint32_t,
		    uint32_t, int64_t);
static int	ctl_upgrade_served(const struct config *, struct scoreboard *,
		    pid_t, pid_t, uint32_t);
static int	ctl_upgrade_child(pid_t, pid_t);
static int	ctl_status(const struct scoreboard *, int);

/*
 * The default PidFile of cf in dir: named after the first Listen
 * address, so that two servers on different addresses never share one,
 * and "-k" given the same -f and -l finds the same file.  Return 0, or
 * -1 when the name does not fit.
 */
static int
pid_default_in(const struct config *cf, const char *dir, char *buf,
    size_t len)
{
	const struct hostport *hp = &cf->cf_listen[0];
	int n;

	n = snprintf(buf, len, "%s/hellod-%s-%s.pid", dir,
	    hp->hp_host[0] == '\0' ? "any" : hp->hp_host, hp->hp_port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Without a PidFile directive, use the default one, as Apache and nginx
 * have: under /run/hellod as root, else under $XDG_RUNTIME_DIR, else
 * /tmp (see hellod.8, FILES).  Return 0, or -1 with err.
 */
int
pid_default(struct config *cf, char *err, size_t errlen)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");

	if (cf->cf_pidfile[0] != '\0' || cf->cf_nlisten == 0)
		return 0;
	if (geteuid() == 0)
		dir = PID_DIR_ROOT;
	else if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
	if (pid_default_in(cf, dir, cf->cf_pidfile,
	    sizeof(cf->cf_pidfile)) == -1) {
		snprintf(err, errlen, "default PidFile: path too long in %s",
		    dir);
		return -1;
	}
	cf->cf_pidfile_default = 1;
	return 0;
}

/*
 * Open and write-lock the pid file.  A lock held by a live process means
 * a server already runs: that is refused.  A file left by a dead one
 * carries no lock and is taken over.  The lock lasts as long as the
 * returned descriptor's process.  Return it, or -1 with err.
 *
 * A server that stops unlinks its pid file while it still holds the
 * lock.  If we opened the file just before that, we lock a file that no
 * longer has the name, and a third server would find the path free: so
 * after locking, check that the path still names the file we locked,
 * and start again if not.
 */
int
pid_lock(const char *path, char *err, size_t errlen)
{
	struct stat fst, pst;
	int fd, tries;

	for (tries = 0; tries < PID_LOCK_TRIES; tries++) {
		if ((fd = pid_lock_once(path, err, errlen)) == -1)
			return -1;
		if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
		    fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			return fd;
		close(fd);
	}
	snprintf(err, errlen, "PidFile %s: replaced while it was being "
	    "locked, %d times", path, PID_LOCK_TRIES);
	return -1;
}

/* One attempt of pid_lock(): open (creating) and lock, no more. */
static int
pid_lock_once(const char *path, char *err, size_t errlen)
{
	struct flock fl;
	int fd;

	if ((fd = pid_open(path, O_RDWR | O_CREAT | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "PidFile %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return fd;
	if (errno == EACCES || errno == EAGAIN) {
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			snprintf(err, errlen, "PidFile %s is held by a running "
			    "hellod (pid %ld)", path, (long)fl.l_pid);
		else
			snprintf(err, errlen, "PidFile %s is held by a running "
			    "hellod", path);
	} else
		snprintf(err, errlen, "PidFile %s: lock: %s", path,
		    strerror(errno));
	close(fd);
	return -1;
}

/*
 * open() a pid file.  /run/hellod, where the packaged service and root's
 * default pid files live, is gone after each boot; systemd makes it for
 * the service (RuntimeDirectory=), we make it for everyone else.
 */
static int
pid_open(const char *path, int flags)
{
	char dir[MAX_PATH];
	const char *slash;
	int fd;

	if ((fd = open(path, flags, 0644)) != -1 || errno != ENOENT ||
	    !(flags & O_CREAT) || (slash = strrchr(path, '/')) == NULL ||
	    (size_t)(slash - path) >= sizeof(dir))
		return fd;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (strcmp(dir, RUN_DIR) != 0)
		return fd;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	return open(path, flags, 0644);
}

/* Write pid into the locked pid file.  Return 0, or -1 with errno. */
int
pid_write(int fd, pid_t pid)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	if (ftruncate(fd, 0) == -1)
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* At exit: remove the pid file while still holding its lock. */
void
pid_remove(int fd, const char *path)
{
	if (fd == -1)
		return;
	(void)unlink(path);
	close(fd);
}

/* The pid of the process holding fd's file locked, or 0 when none. */
static pid_t
pid_holder(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == -1 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

/*
 * Return the pid of the master holding the pid file's lock, or 0 when
 * none does (no file, or one left by a dead server), or -1 with errno
 * when the file cannot be read (EACCES: it is someone else's).  With
 * fdp, the open file is left in *fdp (or -1) for ctl_wait_gone().
 */
pid_t
pid_running(const char *path, int *fdp)
{
	pid_t pid;
	int fd;

	if (fdp != NULL)
		*fdp = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if ((pid = pid_holder(fd)) == 0 || fdp == NULL)
		close(fd);
	else
		*fdp = fd;
	return pid;
}

/*
 * Wait until the master has let go of the pid file's lock (fd, opened
 * while it held it).  Not kill(pid, 0): that succeeds on a zombie, a
 * master that has exited but whose parent has not reaped it yet, while
 * its lock goes the moment it exits.
 */
static int
ctl_wait_gone(int fd, int64_t deadline)
{
	while (pid_holder(fd) != 0) {
		if (io_now() >= deadline)
			return -1;
		(void)poll(NULL, 0, 50);
	}
	return 0;
}

/*
 * True once the scoreboard shows a generation other than gen with a
 * worker of its own that is ready: waiting, reading or writing.
 */
static int
ctl_new_serving(const struct scoreboard *sb, uint32_t gen)
{
	uint32_t now = sb->sb_hdr->sh_generation;
	unsigned i;
	char st;

	if (now == gen)
		return 0;
	for (i = 0; i < sb->sb_nslots; i++) {
		st = sb->sb_slot[i].ss_state;
		if (sb->sb_slot[i].ss_generation == now && (st == SB_WAITING ||
		    st == SB_READING || st == SB_WRITING))
			return 1;
	}
	return 0;
}

/*
 * Wait until a scoreboard counter moves past its value before, read
 * before the signal was sent.  Return 0 when it does, -1 when the
 * deadline passes first.
 */
static int
ctl_wait_count(volatile uint32_t *count, uint32_t before, int64_t deadline)
{
	while (*count == before) {
		if (io_now() >= deadline)
			return -1;
		(void)poll(NULL, 0, 20);
	}
	return 0;
}

/*
 * Wait until a new generation serves: a restart the master had to
 * postpone, or whose workers cannot start, has not happened yet.
 */
static int
ctl_wait_serving(const struct scoreboard *sb, uint32_t gen, int64_t deadline)
{
	while (!ctl_new_serving(sb, gen)) {
		if (io_now() >= deadline)
			return -1;
		(void)poll(NULL, 0, 20);
	}
	return 0;
}

/*
 * The pid of the master of cf's PidFile (0: none, -1: not permitted to
 * read the file), its file left open in *fdp.  A user's default PidFile
 * is not root's: when the user has no server of that name, look for
 * root's, so that "-k" of an administrator's server says "not
 * permitted" rather than "not running".
 */
static pid_t
ctl_find(struct config *cf, int *fdp)
{
	char alt[MAX_PATH];
	pid_t pid;

	pid = pid_running(cf->cf_pidfile, fdp);
	if (pid == 0 && cf->cf_pidfile_default && geteuid() != 0 &&
	    pid_default_in(cf, PID_DIR_ROOT, alt, sizeof(alt)) == 0 &&
	    (pid = pid_running(alt, fdp)) != 0)
		memcpy(cf->cf_pidfile, alt, strlen(alt) + 1);
	return pid;
}

/* The one message for every "not permitted": its own exit status. */
static int
ctl_denied(const char *what, const char *path)
{
	fprintf(stderr, "hellod: permission denied: cannot %s %s (run -k as "
	    "the server's user or as root)\n", what, path);
	return EXIT_NOPERM;
}

/* Return the index of -k word in ctl_words[], or -1 when unknown. */
int
ctl_lookup(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_words) / sizeof(ctl_words[0]); i++)
		if (strcmp(word, ctl_words[i].cw_word) == 0)
			return (int)i;
	return -1;
}

/*
 * Print the ?auto text (or, with full, the fullstatus page) of the
 * running server, the same text its StatusListen serves.  Return the
 * exit status.
 */
static int
ctl_status(const struct scoreboard *sb, int full)
{
	struct st_worker *w;
	struct st_snap sn;

	if ((w = calloc(sb->sb_nslots, sizeof(*w))) == NULL) {
		fprintf(stderr, "hellod: %s\n", strerror(errno));
		return EXIT_FATAL;
	}
	sb_snapshot(sb, &sn, w);
	if (full)
		st_full(&sn, stdout);
	else
		st_auto(&sn, stdout);
	free(w);
	return fflush(stdout) == 0 ? 0 : EXIT_FATAL;
}

/*
 * hellod -k WORD: signal the master named by the PidFile and wait until
 * the command has taken effect (the master gone, a new generation
 * serving, the logs reopened) or is known to have failed, or print the
 * scoreboard.  Return hellod's exit status.
 */
int
ctl_command(struct config *cf, const char *word)
{
	char sbfile[MAX_PATH + 16], err[256], what[64];
	struct scoreboard sb;
	volatile uint32_t *count = NULL, *failed = NULL;
	uint32_t gen = 0, before = 0;
	int64_t deadline = io_deadline(CTL_WAIT_MS);
	int i, sig, pfd, rc = 0;
	pid_t pid;

	if ((i = ctl_lookup(word)) == -1 || strcmp(word, "start") == 0) {
		fprintf(stderr, "hellod: -k %s: not a control command\n", word);
		return EXIT_CONFIG;
	}
	sig = ctl_words[i].cw_sig;
	if (cf->cf_pidfile[0] == '\0') {
		fprintf(stderr, "hellod: -k %s needs a PidFile\n", word);
		return EXIT_CONFIG;
	}
	/* pfd stays open for ctl_wait_gone(); exit closes it otherwise. */
	if ((pid = ctl_find(cf, &pfd)) == -1 && errno == EACCES)
		return ctl_denied("read PidFile", cf->cf_pidfile);
	if (pid == -1) {
		fprintf(stderr, "hellod: PidFile %s: %s\n", cf->cf_pidfile,
		    strerror(errno));
		return EXIT_NOTRUNNING;
	}
	if (pid == 0) {
		fprintf(stderr, "hellod: not running (no live server holds "
		    "PidFile %s)\n", cf->cf_pidfile);
		return EXIT_NOTRUNNING;
	}
	if (sig == SIGUSR2) {
		rc = ctl_upgrade(cf, pid, pfd);
		close(pfd);
		return rc;
	}
	sb_path(cf->cf_pidfile, sbfile, sizeof(sbfile));
	if (sig == 0 || sig == SIGHUP || sig == SIGUSR1 || sig == SIGURG) {
		if (sb_attach(&sb, sbfile, err, sizeof(err)) == -1) {
			if (errno == EACCES)
				return ctl_denied("read the scoreboard", sbfile);
			fprintf(stderr, "hellod: %s\n", err);
			return EXIT_NOTRUNNING;
		}
		if (sig == 0) {
			rc = ctl_status(&sb, strcmp(word, "fullstatus") == 0);
			sb_destroy(&sb, NULL);
			return rc;
		}
		gen = sb.sb_hdr->sh_generation;
		count = sig == SIGURG ? &sb.sb_hdr->sh_reopens :
		    &sb.sb_hdr->sh_reloads;
		failed = sig == SIGURG ? &sb.sb_hdr->sh_reopen_failed :
		    &sb.sb_hdr->sh_reload_failed;
		before = *count;
	}
	snprintf(what, sizeof(what), "signal the server (pid %ld) of PidFile",
	    (long)pid);
	if (kill(pid, sig) == -1) {
		rc = errno == EPERM ? ctl_denied(what, cf->cf_pidfile) :
		    EXIT_NOTRUNNING;
		if (rc == EXIT_NOTRUNNING)
			fprintf(stderr, "hellod: kill %ld: %s\n", (long)pid,
			    strerror(errno));
	} else if (count != NULL) {
		/*
		 * The master counts each restart or reopen it has handled,
		 * and says whether it failed, so a failure is reported as
		 * soon as it happens; a restart done then waits until a
		 * worker of the new generation serves.
		 */
		if (ctl_wait_count(count, before, deadline) == -1 ||
		    (!*failed && sig != SIGURG &&
		    ctl_wait_serving(&sb, gen, deadline) == -1)) {
			fprintf(stderr, "hellod: server (pid %ld) did not "
			    "%s; its error log says why\n", (long)pid,
			    sig == SIGURG ? "reopen its logs" : "restart");
			rc = EXIT_CTLFAIL;
		} else if (*failed) {
			fprintf(stderr, "hellod: server (pid %ld) %s; its "
			    "error log says why\n", (long)pid, sig == SIGURG ?
			    "could not reopen every log" : "did not restart: "
			    "it keeps the old configuration");
			rc = EXIT_CTLFAIL;
		}
	} else if (ctl_wait_gone(pfd, io_deadline(((int64_t)
	    cf->cf_graceful_timeout + 10) * 1000)) == -1) {
		fprintf(stderr, "hellod: server (pid %ld) is still running\n",
		    (long)pid);
		rc = EXIT_CTLFAIL;
	}
	if (count != NULL)
		sb_destroy(&sb, NULL);
	if (pfd != -1)
		close(pfd);
	return rc;
}

/*
 * hellod -k upgrade: USR2 to the master of the PidFile (old, its file
 * open as pfd), then wait until the new master serves (it holds the
 * PidFile), WINCH the old one and wait until it is gone.  The master
 * writes in its scoreboard whether it started the new master and, if
 * that came to nothing, why; a new master that does not serve in time
 * is stopped, which rolls back.  Return hellod's exit status.
 */
static int
ctl_upgrade(const struct config *cf, pid_t old, int pfd)
{
	char sbfile[MAX_PATH + 16], err[256], what[64];
	struct scoreboard sb;
	uint32_t failed, started;
	pid_t new;
	int rc;

	sb_path(cf->cf_pidfile, sbfile, sizeof(sbfile));
	if (sb_attach(&sb, sbfile, err, sizeof(err)) == -1) {
		if (errno == EACCES)
			return ctl_denied("read the scoreboard", sbfile);
		fprintf(stderr, "hellod: %s\n", err);
		return EXIT_NOTRUNNING;
	}
	/* Read before the signal: the master may answer at once. */
	failed = sb.sb_hdr->sh_upgrade_failed;
	started = sb.sb_hdr->sh_upgrades;
	snprintf(what, sizeof(what), "signal the server (pid %ld) of PidFile",
	    (long)old);
	if (kill(old, SIGUSR2) == -1) {
		rc = errno == EPERM ? ctl_denied(what, cf->cf_pidfile) :
		    EXIT_NOTRUNNING;
		if (rc == EXIT_NOTRUNNING)
			fprintf(stderr, "hellod: kill %ld: %s\n", (long)old,
			    strerror(errno));
	} else if ((new = ctl_upgrade_started(&sb, old, started, failed,
	    io_deadline(CTL_WAIT_MS))) == -1)
		rc = ctl_upgrade_fail(&sb);
	else if (new == 0) {
		fprintf(stderr, "hellod: upgrade failed: the server (pid %ld) "
		    "did not answer USR2\n", (long)old);
		rc = EXIT_CTLFAIL;
	} else if ((rc = ctl_upgrade_served(cf, &sb, old, new,
	    failed)) == 0) {
		/* The old master's workers finish their sessions, then it exits. */
		if (kill(old, SIGWINCH) == -1 || ctl_wait_gone(pfd,
		    io_deadline(((int64_t)cf->cf_graceful_timeout + 10) *
		    1000)) == -1) {
			fprintf(stderr, "hellod: the new master (pid %ld) "
			    "serves, but the old one (pid %ld) is still "
			    "running\n", (long)new, (long)old);
			rc = EXIT_CTLFAIL;
		}
	}
	sb_destroy(&sb, NULL);
	return rc;
}

/*
 * Wait until the master has answered USR2 (one of the counts read before
 * the signal, started and failed, moves): return the new master's pid,
 * or -1 when it did not start one, or 0 when the deadline passed or the
 * master is gone.
 */
static pid_t
ctl_upgrade_started(struct scoreboard *sb, pid_t old, uint32_t started,
    uint32_t failed, int64_t deadline)
{
	while (sb->sb_hdr->sh_upgrades == started) {
		if (sb->sb_hdr->sh_upgrade_failed != failed)
			return -1;
		if (io_now() >= deadline || kill(old, 0) == -1)
			return 0;
		(void)poll(NULL, 0, 20);
	}
	return sb->sb_hdr->sh_upgrade_pid;
}

/*
 * Wait until the new master holds the PidFile (0), or has ended and the
 * old one rolled back (say why; EXIT_CTLFAIL).  One that does not serve
 * within START_WAIT_MS is stopped, which rolls back too.
 */
static int
ctl_upgrade_served(const struct config *cf, struct scoreboard *sb,
    pid_t old, pid_t new, uint32_t failed)
{
	int64_t deadline = io_deadline(START_WAIT_MS), stop_by;

	while (pid_running(cf->cf_pidfile, NULL) != new) {
		if (sb->sb_hdr->sh_upgrade_failed != failed)
			return ctl_upgrade_fail(sb);
		if (io_now() >= deadline) {
			fprintf(stderr, "hellod: the new master (pid %ld) did "
			    "not serve within %d seconds; stopping it\n",
			    (long)new, START_WAIT_MS / 1000);
			if (ctl_upgrade_child(new, old))
				(void)kill(new, SIGTERM);
			stop_by = io_deadline(CTL_WAIT_MS);
			while (sb->sb_hdr->sh_upgrade_failed == failed &&
			    io_now() < stop_by)
				(void)poll(NULL, 0, 20);
			return ctl_upgrade_fail(sb);
		}
		(void)poll(NULL, 0, 20);
	}
	return 0;
}

/*
 * Is new the child of old, the new master of its upgrade?  new was read
 * from the scoreboard, which workers can write: before signalling it,
 * check with the system that old started it (its parent, in /proc), or,
 * without /proc, that it is at least in old's process group.  A forged
 * pid is then not signalled.
 */
static int
ctl_upgrade_child(pid_t new, pid_t old)
{
	char path[64], buf[512], *p;
	long ppid;
	ssize_t n;
	int fd;

	if (new <= 1 || new == old)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)new);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return access("/proc/self/stat", F_OK) == -1 &&
		    getpgid(new) != -1 && getpgid(new) == getpgid(old);
	while ((n = read(fd, buf, sizeof(buf) - 1)) == -1 && errno == EINTR)
		;
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything but ")". */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return 0;
	return ppid == (long)old;
}

/* Say why the upgrade failed, in the master's words.  EXIT_CTLFAIL. */
static int
ctl_upgrade_fail(const struct scoreboard *sb)
{
	char why[sizeof(sb->sb_hdr->sh_upgrade_why)];

	atomic_thread_fence(memory_order_acquire);
	memcpy(why, sb->sb_hdr->sh_upgrade_why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	fprintf(stderr, "hellod: upgrade failed: %s; its error log says "
	    "more\n", why);
	return EXIT_CTLFAIL;
}
