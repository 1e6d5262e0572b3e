/*
 * pidfile.c: the pid file: its default name, the lock the master holds
 * on it for its whole life, and how a -k command (ctl.c) or a new
 * master (upgrade.c) finds the master holding it.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

#define PID_DIR_ROOT	RUN_DIR		/* the default PidFile's, as root */

static int	pid_default_in(const struct config *, const char *, char *,
		    size_t);
static int	pid_lock_once(const char *, char *, size_t);
static int	pid_open(const char *, int, char *, size_t);
static int	pid_own_dir(char *, size_t);
static pid_t	pid_holder(int);

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
 * the user's own /tmp/hellod-UID (see hellod.8, FILES).  Return 0, or
 * -1 with err.
 */
int
pid_default(struct config *cf, char *err, size_t errlen)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char own[MAX_PATH];

	if (cf->cf_pidfile[0] != '\0' || cf->cf_nlisten == 0)
		return 0;
	if (geteuid() == 0)
		dir = PID_DIR_ROOT;
	else if ((dir == NULL || dir[0] != '/') &&
	    pid_own_dir(own, sizeof(own)) == 0)
		dir = own;
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
	char why[MAX_PATH + 128];
	struct flock fl;
	int fd;

	if ((fd = pid_open(path, O_RDWR | O_CREAT, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "PidFile %s: %s", path, why);
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
 * Open a pid file for writing, mode 0644, as safefile.c allows (no
 * link followed, a directory only root or we can write).  /run/hellod,
 * where the packaged service and root's default pid files live, is gone
 * after each boot; systemd makes it for the service (RuntimeDirectory=),
 * we make it for everyone else, as we make a user's own directory for
 * the default pid file.  Return the descriptor, or -1 with why.
 */
static int
pid_open(const char *path, int flags, char *why, size_t len)
{
	char dir[MAX_PATH];
	const char *slash;
	int fd;

	if ((fd = sf_open(path, flags, 0644, why, len)) != -1 ||
	    errno != ENOENT || (slash = strrchr(path, '/')) == NULL ||
	    (size_t)(slash - path) >= sizeof(dir))
		return fd;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!pid_made_dir(dir))
		return -1;
	if (mkdir(dir, strcmp(dir, RUN_DIR) == 0 ? 0755 : 0700) == -1 &&
	    errno != EEXIST) {
		snprintf(why, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return sf_open(path, flags, 0644, why, len);
}

/* Is dir one that pid_open() makes when it is missing? */
int
pid_made_dir(const char *dir)
{
	char own[MAX_PATH];

	return strcmp(dir, RUN_DIR) == 0 || (geteuid() != 0 &&
	    pid_own_dir(own, sizeof(own)) == 0 && strcmp(dir, own) == 0);
}

/*
 * A user's own directory for default pid files when there is no
 * $XDG_RUNTIME_DIR: /tmp/hellod-UID, made 0700 by pid_open().  Not
 * /tmp itself, where a file of the predictable name, made by anyone,
 * would stop the server from starting; one who makes this directory
 * first only gets a clear refusal (safefile.c), never our file.
 */
static int
pid_own_dir(char *buf, size_t len)
{
	int n = snprintf(buf, len, "/tmp/hellod-%ld", (long)geteuid());

	return n < 0 || (size_t)n >= len ? -1 : 0;
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
 * fdp, the open file is left in *fdp (or -1) for pid_wait_free().
 */
pid_t
pid_running(const char *path, int *fdp)
{
	pid_t pid;
	int fd;

	if (fdp != NULL)
		*fdp = -1;
	/* Not through a link: its target's lock holder is not our master. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if ((pid = pid_holder(fd)) == 0 || fdp == NULL)
		close(fd);
	else
		*fdp = fd;
	return pid;
}

/*
 * The pid of the master of cf's PidFile (0: none, -1: not permitted to
 * read the file), its file left open in *fdp.  A user's default PidFile
 * is not root's: when the user has no server of that name, look for
 * root's, so that "-k" of an administrator's server says "not
 * permitted" rather than "not running".  While an upgrade waits for
 * its new master to serve, the PidFile is PidFile.oldbin: the old master
 * still serves, and is the one found (cf_pidfile then names it).
 */
pid_t
pid_find(struct config *cf, int *fdp)
{
	char alt[MAX_PATH + 8];
	pid_t pid;

	pid = pid_running(cf->cf_pidfile, fdp);
	if (pid == 0 && cf->cf_pidfile_default && geteuid() != 0 &&
	    pid_default_in(cf, PID_DIR_ROOT, alt, sizeof(alt)) == 0 &&
	    (pid = pid_running(alt, fdp)) != 0)
		memcpy(cf->cf_pidfile, alt, strlen(alt) + 1);
	if (pid == 0 && (size_t)snprintf(alt, sizeof(alt), "%s.oldbin",
	    cf->cf_pidfile) < sizeof(cf->cf_pidfile) &&
	    (pid = pid_running(alt, fdp)) > 0) {
		fprintf(stderr, "hellod: an upgrade is under way: the server "
		    "(pid %ld) holds %s\n", (long)pid, alt);
		memcpy(cf->cf_pidfile, alt, strlen(alt) + 1);
	}
	return pid;
}

/*
 * Wait until the master has let go of the pid file's lock (fd, opened
 * while it held it, as pid_find() leaves it).  Return 0, or -1 when
 * the deadline passes first.  Not kill(pid, 0): that succeeds on a zombie, a
 * master that has exited but whose parent has not reaped it yet, while
 * its lock goes the moment it exits.
 */
int
pid_wait_free(int fd, int64_t deadline)
{
	while (pid_holder(fd) != 0) {
		if (io_now() >= deadline)
			return -1;
		(void)poll(NULL, 0, 50);
	}
	return 0;
}
