/*
 * output.c: where the body goes: a temporary file beside the final name,
 * renamed into place only when the transfer is complete; and the
 * progress bar.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700	/* realpath() */

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "httpget.h"

static int	out_direct(struct output *, char *, size_t);
static int	out_mode(struct output *, const struct stat *);
static int	out_tmp(struct output *, const struct stat *, char *, size_t);
static int	out_place(struct output *, char *, size_t);
static void	prog_draw(struct progress *, int64_t);
static int	prog_width(void);
static void	prog_size(char *, size_t, double);

/* Return 1 when something (a dangling link included) has that name. */
int
out_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * An existing target that is not a regular file (a device, a FIFO,
 * /dev/stdout) is written in place, as curl and wget do: renaming a
 * temporary file over it would replace the device node instead of
 * feeding it.  No O_TRUNC: it means nothing for these.
 */
static int
out_direct(struct output *o, char *err, size_t errlen)
{
	if ((o->o_fd = open(o->o_final, O_WRONLY | O_NOCTTY | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", o->o_final, strerror(errno));
		return -1;
	}
	o->o_direct = 1;
	return 0;
}

/*
 * Give the temporary file the mode of the file it will replace (and,
 * as root, its owner: best effort), or 0666 less the umask for a new
 * one.  fchown() comes first since it may clear set-id bits.
 */
static int
out_mode(struct output *o, const struct stat *old)
{
	mode_t mask;

	if (old == NULL) {
		mask = umask(0);
		umask(mask);
		return fchmod(o->o_fd, 0666 & ~mask);
	}
	if (geteuid() == 0)
		/* Best effort, as cp -p: the mode below still applies. */
		if (fchown(o->o_fd, old->st_uid, old->st_gid) == -1) {
			/* keep our own owner */
		}
	return fchmod(o->o_fd, old->st_mode & 07777);
}

/*
 * Create the temporary file in the directory of o_final, so the final
 * rename is atomic and never crosses a file system.
 */
static int
out_tmp(struct output *o, const struct stat *old, char *err, size_t errlen)
{
	const char *path = o->o_final, *slash;
	int dl;

	slash = strrchr(path, '/');
	dl = slash == NULL ? 1 : (int)(slash - path);
	snprintf(o->o_tmp, sizeof(o->o_tmp), "%.*s/.httpget-XXXXXX",
	    dl == 0 ? 1 : dl, slash == NULL ? "." : path);
	if ((o->o_fd = mkstemp(o->o_tmp)) == -1) {
		snprintf(err, errlen, "cannot create a file in %.*s: %s",
		    dl == 0 ? 1 : dl, slash == NULL ? "." : path,
		    strerror(errno));
		o->o_tmp[0] = '\0';
		return -1;
	}
	if (io_cloexec(o->o_fd) == -1 || out_mode(o, old) == -1) {
		snprintf(err, errlen, "%s: %s", o->o_tmp, strerror(errno));
		out_abort(o);
		return -1;
	}
	return 0;
}

/*
 * Prepare to write the body to path ("-" is standard output).  Unless
 * force is set, an existing path is an error.  Replacing a symbolic
 * link replaces the file it points to, not the link.  Return 0, or -1
 * with a reason in err.
 */
int
out_open(struct output *o, const char *path, int force, char *err,
    size_t errlen)
{
	struct stat st, lst;
	char *real;

	memset(o, 0, sizeof(*o));
	o->o_fd = -1;
	o->o_force = force;
	if (strcmp(path, "-") == 0) {
		o->o_stdout = 1;
		o->o_fd = STDOUT_FILENO;
		return 0;
	}
	if (strlen(path) >= sizeof(o->o_final)) {
		snprintf(err, errlen, "%.40s...: file name too long", path);
		return -1;
	}
	snprintf(o->o_final, sizeof(o->o_final), "%s", path);
	if (!force && out_exists(path)) {
		snprintf(err, errlen, "%s already exists (use -f to overwrite)",
		    path);
		return -1;
	}
	if (!force || stat(path, &st) == -1)
		return out_tmp(o, NULL, err, errlen);
	if (!S_ISREG(st.st_mode))
		return out_direct(o, err, errlen);
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		if ((real = realpath(path, NULL)) == NULL ||
		    strlen(real) >= sizeof(o->o_final)) {
			snprintf(err, errlen, "%s: %s", path, real == NULL ?
			    strerror(errno) : "file name too long");
			free(real);
			return -1;
		}
		snprintf(o->o_final, sizeof(o->o_final), "%s", real);
		free(real);
	}
	return out_tmp(o, &st, err, errlen);
}

/*
 * Write len bytes of body.  Return 0, or -1 with a reason in err.  A
 * write (or wait) interrupted by a signal, or any write once *o_intr
 * is set, fails with errno EINTR rather than being restarted, so a
 * caught TERM ends a transfer stuck on a full pipe; the caller sees the
 * signal and dies of it.
 */
int
out_write(struct output *o, const void *buf, size_t len, char *err,
    size_t errlen)
{
	const char *p = buf;
	struct pollfd pfd;
	ssize_t n;

	pfd.fd = o->o_fd;
	pfd.events = POLLOUT;
	while (len > 0) {
		/* A signal during a write may only shorten it. */
		if (o->o_intr != NULL && *o->o_intr != 0) {
			errno = EINTR;
			n = -1;
		} else if ((n = write(o->o_fd, p, len)) > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    poll(&pfd, 1, -1) != -1)
			continue;
		if (n == 0)
			errno = EIO;
		snprintf(err, errlen, "write to %s: %s",
		    o->o_stdout ? "standard output" : o->o_final,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Move the finished temporary file to its final name.  Without force,
 * link() does it atomically and fails if the name appeared meanwhile;
 * where a file system cannot link, check and rename instead.
 */
static int
out_place(struct output *o, char *err, size_t errlen)
{
	if (!o->o_force) {
		if (link(o->o_tmp, o->o_final) == 0) {
			(void)unlink(o->o_tmp);
			return 0;
		}
		if (errno == EEXIST || out_exists(o->o_final)) {
			snprintf(err, errlen,
			    "%s already exists (use -f to overwrite)",
			    o->o_final);
			return -1;
		}
	}
	if (rename(o->o_tmp, o->o_final) == -1) {
		snprintf(err, errlen, "rename to %s: %s", o->o_final,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The body is complete: close the temporary file and give it its final
 * name.  Return 0, or -1 with a reason in err (the temporary file is
 * then removed).
 */
int
out_commit(struct output *o, char *err, size_t errlen)
{
	int fd = o->o_fd;

	if (o->o_stdout)
		return 0;
	o->o_fd = -1;
	/* close() is where NFS and quota report a failed write. */
	if (close(fd) == -1) {
		snprintf(err, errlen, "write to %s: %s", o->o_final,
		    strerror(errno));
		out_abort(o);
		return -1;
	}
	if (o->o_direct)
		return 0;
	if (out_place(o, err, errlen) == -1) {
		out_abort(o);
		return -1;
	}
	o->o_tmp[0] = '\0';
	return 0;
}

/*
 * Give up: close and remove the temporary file, leaving any file under
 * the final name as it was (a device or FIFO written in place keeps
 * what it was sent).  Safe to call twice.  Uses only
 * async-signal-safe calls.
 */
void
out_abort(struct output *o)
{
	if (o->o_stdout)
		return;
	if (o->o_fd >= 0)
		(void)close(o->o_fd);
	o->o_fd = -1;
	if (o->o_tmp[0] != '\0')
		(void)unlink(o->o_tmp);
	o->o_tmp[0] = '\0';
}

/*
 * Start a progress bar on standard error when on is set; total is the
 * body length, or -1 when unknown.
 */
void
prog_start(struct progress *pr, int on, int64_t total)
{
	memset(pr, 0, sizeof(*pr));
	pr->pr_on = on;
	pr->pr_total = total;
	pr->pr_start = io_now();
}

static void
prog_size(char *buf, size_t len, double v)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i == 0 ? "%.0f %s" : "%.1f %s", v, unit[i]);
}

static void
prog_draw(struct progress *pr, int64_t now)
{
	char got[32], rate[32], eta[32] = "", line[128];
	double secs = (double)(now - pr->pr_start) / 1000, bps;
	int pct = -1, n, width;

	bps = secs > 0 ? (double)pr->pr_bytes / secs : 0;
	prog_size(got, sizeof(got), (double)pr->pr_bytes);
	prog_size(rate, sizeof(rate), bps);
	if (pr->pr_total > 0) {
		pct = (int)((double)pr->pr_bytes * 100 / (double)pr->pr_total);
		if (bps > 0) {
			long left = (long)((double)(pr->pr_total -
			    (int64_t)pr->pr_bytes) / bps);

			snprintf(eta, sizeof(eta), "  ETA %ld:%02ld",
			    left / 60, left % 60);
		}
	}
	/*
	 * One line that fits the terminal, or each redraw after the first
	 * would start a new line: the wide form, else a compact one, cut
	 * one column short of the edge.
	 */
	width = prog_width() - 1;
	if (pct >= 0)
		n = snprintf(line, sizeof(line), "%3d%%  %12s  %12s/s%s", pct,
		    got, rate, eta);
	else
		n = snprintf(line, sizeof(line), "%12s  %12s/s", got, rate);
	if (n > width)
		n = pct >= 0 ? snprintf(line, sizeof(line), "%d%% %s %s/s", pct,
		    got, rate) : snprintf(line, sizeof(line), "%s %s/s", got, rate);
	if (n > width)
		n = width > 0 ? width : 0;
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	/* Blanks over what a longer line before left behind. */
	fprintf(stderr, "\r%.*s%*s", n, line, pr->pr_len > n ?
	    pr->pr_len - n : 0, "");
	pr->pr_len = n > pr->pr_len ? n : pr->pr_len;
	pr->pr_drawn = 1;
	pr->pr_last = now;
}

/* Standard error's terminal width in columns; 80 when it says none. */
static int
prog_width(void)
{
#ifdef TIOCGWINSZ
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
#endif
	return 80;
}

/* Count n more bytes; redraw at most ten times a second. */
void
prog_update(struct progress *pr, size_t n)
{
	int64_t now;

	pr->pr_bytes += n;
	if (!pr->pr_on)
		return;
	now = io_now();
	if (pr->pr_drawn && now - pr->pr_last < 100)
		return;
	prog_draw(pr, now);
}

/* Erase the bar, so the terminal is left as it was. */
void
prog_end(struct progress *pr)
{
	if (pr->pr_on && pr->pr_drawn)
		fprintf(stderr, "\r%*s\r", pr->pr_len, "");
	pr->pr_drawn = 0;
}

/*
 * After a download to a file, say what was saved, how much and how
 * fast, on standard error, as wget does.
 */
void
prog_summary(const struct progress *pr, const char *name)
{
	char got[32], rate[32];
	double secs = (double)(io_now() - pr->pr_start) / 1000;

	prog_size(got, sizeof(got), (double)pr->pr_bytes);
	if (secs <= 0) {
		fprintf(stderr, "'%s' saved [%s in under 1 ms]\n", name, got);
		return;
	}
	prog_size(rate, sizeof(rate), (double)pr->pr_bytes / secs);
	fprintf(stderr, "'%s' saved [%s in %.3f s, %s/s]\n", name, got, secs,
	    rate);
}
