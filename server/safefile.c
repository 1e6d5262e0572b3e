/*
 * safefile.c: the files hellod creates and writes by path (PidFile, its
 * scoreboard, ErrorLog, CustomLog), usually as root, are opened so that
 * no other local user can aim them at another file.  A symbolic link is
 * never followed.  The file's directory must be writable by no user but
 * root and the one hellod runs as, unless it is sticky (as /tmp is) and
 * the file is hellod's own, as sshd's StrictModes and logrotate's "su"
 * check.  Otherwise a link planted in a shared directory would have
 * root truncate or append to a file of the attacker's choosing.
 */
#define _XOPEN_SOURCE	700	/* S_ISVTX, the sticky bit */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

static int	sf_dir(const char *, struct stat *, char *, size_t);
static int	sf_loose(const struct stat *);
static int	sf_file(const struct stat *, const struct stat *, char *,
		    size_t);

/*
 * True when users other than root and us can add, remove or rename
 * entries of a directory: its owner is someone else, or it is writable
 * by a group that is not root's (nor ours, when we are not root), or by
 * everyone.
 */
static int
sf_loose(const struct stat *dst)
{
	if (dst->st_uid != 0 && dst->st_uid != geteuid())
		return 1;
	if ((dst->st_mode & S_IWGRP) && dst->st_gid != 0 &&
	    (geteuid() == 0 || dst->st_gid != getegid()))
		return 1;
	return (dst->st_mode & S_IWOTH) != 0;
}

/*
 * Check the directory of path (absolute) and stat it into dst: refuse
 * one that another user owns, or that others may write and is not
 * sticky.  Return 0, or -1 with why (and errno, for ENOENT).
 */
static int
sf_dir(const char *path, struct stat *dst, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	char dir[MAX_PATH];
	size_t n;

	n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		snprintf(why, len, "%s", strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(dir, n == 0 ? "." : path, n == 0 ? 2 : n);
	dir[n == 0 ? 1 : n] = '\0';
	if (stat(dir, dst) == -1) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(dst->st_mode)) {
		snprintf(why, len, "%s", strerror(ENOTDIR));
		errno = ENOTDIR;
		return -1;
	}
	if (dst->st_uid != 0 && dst->st_uid != geteuid()) {
		snprintf(why, len, "directory %s belongs to another user "
		    "(uid %ld), who could replace the file", dir,
		    (long)dst->st_uid);
		errno = EPERM;
		return -1;
	}
	if (sf_loose(dst) && !(dst->st_mode & S_ISVTX)) {
		snprintf(why, len, "directory %s can be written by other "
		    "users (mode %04o) and is not sticky", dir,
		    (unsigned)(dst->st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * The file itself, st, in its directory dst: in a sticky directory that
 * others write, it must be ours and have no other name (a hard link to
 * someone's file).  Return 0, or -1 with why.
 */
static int
sf_file(const struct stat *dst, const struct stat *st, char *why,
    size_t len)
{
	if (S_ISDIR(st->st_mode)) {
		snprintf(why, len, "%s", strerror(EISDIR));
		errno = EISDIR;
		return -1;
	}
	if (!sf_loose(dst))
		return 0;
	if (st->st_uid != geteuid()) {
		snprintf(why, len, "belongs to another user (uid %ld) in a "
		    "directory others can write", (long)st->st_uid);
		errno = EPERM;
		return -1;
	}
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		snprintf(why, len, "has %ld names in a directory others can "
		    "write", (long)st->st_nlink);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode) where the checks
 * above allow it.  Return the descriptor, or -1 with why (the reason,
 * for a message "PidFile PATH: why") and errno.
 */
int
sf_open(const char *path, int flags, mode_t mode, char *why, size_t len)
{
	struct stat dst, st;
	int fd, saved;

	if (sf_dir(path, &dst, why, len) == -1)
		return -1;
	if ((fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode)) == -1) {
		saved = errno;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			snprintf(why, len, "is a symbolic link; not followed");
		else
			snprintf(why, len, "%s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		snprintf(why, len, "%s", strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if (sf_file(&dst, &st, why, len) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * For hellod -t, creating nothing: would sf_open() open path (absolute)
 * for writing?  The file is checked if it exists, else its directory must
 * let us create it.  Return 0, or -1 with why and errno.
 */
int
sf_check(const char *path, char *why, size_t len)
{
	struct stat dst, st;
	const char *slash;
	char dir[MAX_PATH];

	if (sf_dir(path, &dst, why, len) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(why, len, "is a symbolic link; not followed");
			errno = ELOOP;
			return -1;
		}
		if (sf_file(&dst, &st, why, len) == -1)
			return -1;
		if (access(path, W_OK) == 0)
			return 0;
	} else {
		slash = strrchr(path, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
		if (access(dir, W_OK | X_OK) == 0)
			return 0;
	}
	snprintf(why, len, "%s", strerror(errno));
	return -1;
}
