/*
 * ctl.c: hellod -k: the commands that find a running master through its
 * pid file (pidfile.c), signal it and wait until it has done as told,
 * or print its scoreboard.
 */
#define _XOPEN_SOURCE	700	/* getpgid() */

#include <sys/types.h>

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

#define CTL_WAIT_MS	10000		/* -k waits for a restart or reopen */
#define CTL_NEXT	(-1)		/* a step's "go on" */

/* One -k command as its steps (ctl_steps[]) take it on. */
struct ctl {
	struct config		*ct_cf;
	const char		*ct_word;
	int			 ct_sig;
	pid_t			 ct_pid;	/* the master */
	int			 ct_pfd;	/* its PidFile, open, or -1 */
	struct scoreboard	 ct_sb;
	int			 ct_attached;	/* ct_sb is mapped */
	volatile uint32_t	*ct_count;	/* restarts or reopens done */
	volatile uint32_t	*ct_failed;	/* and if the last failed */
	uint32_t		 ct_before;	/* *ct_count, before the kill */
	uint32_t		 ct_gen;	/* the generation before it */
	int64_t			 ct_deadline;
};

static int	ctl_new_serving(const struct scoreboard *, uint32_t);
static int	ctl_wait_count(volatile uint32_t *, uint32_t, int64_t);
static int	ctl_wait_serving(const struct scoreboard *, uint32_t, int64_t);
static int	ctl_denied(const char *, const char *);
static int	ctl_kill(const struct config *, pid_t, int);
static int	ctl_word(struct ctl *);
static int	ctl_pidfile(struct ctl *);
static int	ctl_running(struct ctl *);
static int	ctl_attach(struct ctl *);
static int	ctl_show(struct ctl *);
static int	ctl_upgrade(struct ctl *);
static int	ctl_before(struct ctl *);
static int	ctl_signal(struct ctl *);
static int	ctl_done(struct ctl *);
static int	ctl_gone(struct ctl *);
static int	ctl_reload_fail(const struct scoreboard *, pid_t);
static int	ctl_upgrade_fail(const struct scoreboard *);
static pid_t	ctl_upgrade_started(struct scoreboard *, pid_t, uint32_t,
		    uint32_t, int64_t);
static int	ctl_upgrade_served(const struct config *, struct scoreboard *,
		    pid_t, pid_t, uint32_t);
static int	ctl_upgrade_child(pid_t, pid_t);
static int	ctl_status(const struct scoreboard *, int);
static int64_t	ctl_gone_by(const struct config *);

/*
 * ctl_command()'s steps, in order.  Each returns CTL_NEXT to go on, or
 * the command's exit status to end it there.
 */
static int (*const ctl_steps[])(struct ctl *) = {
	ctl_word,	/* a control command, not "start" */
	ctl_pidfile,	/* a PidFile to find the master by */
	ctl_running,	/* a live master holds it */
	ctl_attach,	/* its scoreboard, for those that read it */
	ctl_show,	/* status, fullstatus: print it */
	ctl_upgrade,	/* upgrade: a dance of its own */
	ctl_before,	/* what to wait on, read before the signal */
	ctl_signal,	/* the signal */
	ctl_done,	/* restart, graceful, reopen: done, or failed */
	ctl_gone,	/* stop, graceful-stop: the master gone */
};

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
 * Signal the master; on failure say why.  Return CTL_NEXT, or the exit
 * status.
 */
static int
ctl_kill(const struct config *cf, pid_t pid, int sig)
{
	char what[64];

	if (kill(pid, sig) == 0)
		return CTL_NEXT;
	if (errno == EPERM) {
		snprintf(what, sizeof(what), "signal the server (pid %ld) of "
		    "PidFile", (long)pid);
		return ctl_denied(what, cf->cf_pidfile);
	}
	fprintf(stderr, "hellod: kill %ld: %s\n", (long)pid, strerror(errno));
	return EXIT_NOTRUNNING;
}

/* How long a stopping master may take: its GracefulShutdownTimeout. */
static int64_t
ctl_gone_by(const struct config *cf)
{
	return io_deadline(((int64_t)cf->cf_graceful_timeout + 10) * 1000);
}

static int
ctl_word(struct ctl *ct)
{
	int i;

	if ((i = ctl_lookup(ct->ct_word)) == -1 ||
	    strcmp(ct->ct_word, "start") == 0) {
		fprintf(stderr, "hellod: -k %s: not a control command\n",
		    ct->ct_word);
		return EXIT_CONFIG;
	}
	ct->ct_sig = ctl_words[i].cw_sig;
	return CTL_NEXT;
}

static int
ctl_pidfile(struct ctl *ct)
{
	if (ct->ct_cf->cf_pidfile[0] != '\0')
		return CTL_NEXT;
	fprintf(stderr, "hellod: -k %s needs a PidFile\n", ct->ct_word);
	return EXIT_CONFIG;
}

/* ct_pfd stays open for pid_wait_free(). */
static int
ctl_running(struct ctl *ct)
{
	const char *path = ct->ct_cf->cf_pidfile;

	if ((ct->ct_pid = pid_find(ct->ct_cf, &ct->ct_pfd)) > 0)
		return CTL_NEXT;
	if (ct->ct_pid == -1 && errno == EACCES)
		return ctl_denied("read PidFile", ct->ct_cf->cf_pidfile);
	if (ct->ct_pid == -1)
		fprintf(stderr, "hellod: PidFile %s: %s\n", path,
		    errno == ELOOP ? "is a symbolic link; not followed" :
		    strerror(errno));
	else
		fprintf(stderr, "hellod: not running (no live server holds "
		    "PidFile %s)\n", path);
	return EXIT_NOTRUNNING;
}

/* Every command but stop and graceful-stop reads the scoreboard. */
static int
ctl_attach(struct ctl *ct)
{
	char sbfile[MAX_PATH + 16], err[256];

	if (ct->ct_sig == SIGTERM || ct->ct_sig == SIGWINCH)
		return CTL_NEXT;
	sb_path(ct->ct_cf->cf_pidfile, sbfile, sizeof(sbfile));
	if (sb_attach(&ct->ct_sb, sbfile, err, sizeof(err)) == -1) {
		if (errno == EACCES)
			return ctl_denied("read the scoreboard", sbfile);
		fprintf(stderr, "hellod: %s\n", err);
		return EXIT_NOTRUNNING;
	}
	ct->ct_attached = 1;
	return CTL_NEXT;
}

static int
ctl_show(struct ctl *ct)
{
	if (ct->ct_sig != 0)
		return CTL_NEXT;
	return ctl_status(&ct->ct_sb, strcmp(ct->ct_word, "fullstatus") == 0);
}

/*
 * hellod -k upgrade: USR2 to the master of the PidFile, then wait until
 * the new master serves (it holds the PidFile), WINCH the old one and
 * wait until it is gone.  The master writes in its scoreboard whether
 * it started the new master and, if that came to nothing, why; a new
 * master that does not serve in time is stopped, which rolls back.
 */
static int
ctl_upgrade(struct ctl *ct)
{
	struct scoreboard *sb = &ct->ct_sb;
	uint32_t failed, started;
	pid_t old = ct->ct_pid, new;
	int rc;

	if (ct->ct_sig != SIGUSR2)
		return CTL_NEXT;
	/* Read before the signal: the master may answer at once. */
	failed = sb->sb_hdr->sh_upgrade_failed;
	started = sb->sb_hdr->sh_upgrades;
	if ((rc = ctl_kill(ct->ct_cf, old, SIGUSR2)) != CTL_NEXT)
		return rc;
	if ((new = ctl_upgrade_started(sb, old, started, failed,
	    io_deadline(CTL_WAIT_MS))) == -1)
		return ctl_upgrade_fail(sb);
	if (new == 0) {
		fprintf(stderr, "hellod: upgrade failed: the server (pid %ld) "
		    "did not answer USR2\n", (long)old);
		return EXIT_CTLFAIL;
	}
	if ((rc = ctl_upgrade_served(ct->ct_cf, sb, old, new, failed)) != 0)
		return rc;
	/* The old master's workers finish their sessions, then it exits. */
	if (kill(old, SIGWINCH) == -1 ||
	    pid_wait_free(ct->ct_pfd, ctl_gone_by(ct->ct_cf)) == -1) {
		fprintf(stderr, "hellod: the new master (pid %ld) serves, but "
		    "the old one (pid %ld) is still running\n", (long)new,
		    (long)old);
		return EXIT_CTLFAIL;
	}
	return 0;
}

/*
 * The master counts each restart or reopen it has handled, and says
 * whether it failed, so that a failure is reported as soon as it
 * happens: read the count before the signal.
 */
static int
ctl_before(struct ctl *ct)
{
	struct sb_header *sh;

	if (ct->ct_sig != SIGHUP && ct->ct_sig != SIGUSR1 &&
	    ct->ct_sig != SIGURG)
		return CTL_NEXT;
	sh = ct->ct_sb.sb_hdr;
	ct->ct_gen = sh->sh_generation;
	ct->ct_count = ct->ct_sig == SIGURG ? &sh->sh_reopens :
	    &sh->sh_reloads;
	ct->ct_failed = ct->ct_sig == SIGURG ? &sh->sh_reopen_failed :
	    &sh->sh_reload_failed;
	ct->ct_before = *ct->ct_count;
	return CTL_NEXT;
}

static int
ctl_signal(struct ctl *ct)
{
	return ctl_kill(ct->ct_cf, ct->ct_pid, ct->ct_sig);
}

/*
 * Restart, graceful, reopen: wait for the count to move; a restart done
 * then waits until a worker of the new generation serves.
 */
static int
ctl_done(struct ctl *ct)
{
	int reopen = ct->ct_sig == SIGURG;
	int64_t by = ct->ct_deadline;

	if (ct->ct_count == NULL)
		return CTL_NEXT;
	if (ctl_wait_count(ct->ct_count, ct->ct_before, by) == -1 ||
	    (!*ct->ct_failed && !reopen &&
	    ctl_wait_serving(&ct->ct_sb, ct->ct_gen, by) == -1)) {
		fprintf(stderr, "hellod: server (pid %ld) did not %s; its "
		    "error log says why\n", (long)ct->ct_pid, reopen ?
		    "reopen its logs" : "restart");
		return EXIT_CTLFAIL;
	}
	if (*ct->ct_failed && !reopen)
		return ctl_reload_fail(&ct->ct_sb, ct->ct_pid);
	if (*ct->ct_failed) {
		fprintf(stderr, "hellod: server (pid %ld) could not reopen "
		    "every log; its error log says why\n", (long)ct->ct_pid);
		return EXIT_CTLFAIL;
	}
	return 0;
}

/* Say why a restart failed, in the master's words.  EXIT_CTLFAIL. */
static int
ctl_reload_fail(const struct scoreboard *sb, pid_t pid)
{
	char why[sizeof(sb->sb_hdr->sh_reload_why)];

	atomic_thread_fence(memory_order_acquire);
	memcpy(why, sb->sb_hdr->sh_reload_why, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	fprintf(stderr, "hellod: server (pid %ld) did not restart, it keeps "
	    "the old configuration: %s\n", (long)pid, why);
	return EXIT_CTLFAIL;
}

/* Stop, graceful-stop: wait until the master lets go of its PidFile. */
static int
ctl_gone(struct ctl *ct)
{
	if (pid_wait_free(ct->ct_pfd, ctl_gone_by(ct->ct_cf)) == 0)
		return 0;
	fprintf(stderr, "hellod: server (pid %ld) is still running\n",
	    (long)ct->ct_pid);
	return EXIT_CTLFAIL;
}

/*
 * hellod -k WORD: signal the master named by the PidFile and wait until
 * the command has taken effect (the master gone, a new generation
 * serving, the logs reopened) or is known to have failed, or print the
 * scoreboard: ctl_steps[] in turn.  Return hellod's exit status.
 */
int
ctl_command(struct config *cf, const char *word)
{
	struct ctl ct;
	size_t i;
	int rc = CTL_NEXT;

	memset(&ct, 0, sizeof(ct));
	ct.ct_cf = cf;
	ct.ct_word = word;
	ct.ct_pfd = -1;
	ct.ct_deadline = io_deadline(CTL_WAIT_MS);
	for (i = 0; rc == CTL_NEXT &&
	    i < sizeof(ctl_steps) / sizeof(ctl_steps[0]); i++)
		rc = ctl_steps[i](&ct);
	if (ct.ct_attached)
		sb_destroy(&ct.ct_sb, NULL);
	if (ct.ct_pfd != -1)
		close(ct.ct_pfd);
	return rc == CTL_NEXT ? 0 : rc;
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
 * old one rolled back (say why; EXIT_CTLFAIL).  The old master ends one
 * that does not serve within UpgradeTimeout; should it not (a master of
 * an older hellod), this stops it a little later, which rolls back too.
 */
static int
ctl_upgrade_served(const struct config *cf, struct scoreboard *sb,
    pid_t old, pid_t new, uint32_t failed)
{
	int64_t wait = (int64_t)cf->cf_upgrade_timeout * 1000 +
	    UPGRADE_KILL_MS + 1000;
	int64_t deadline = io_deadline(wait), stop_by;

	while (pid_running(cf->cf_pidfile, NULL) != new) {
		if (sb->sb_hdr->sh_upgrade_failed != failed)
			return ctl_upgrade_fail(sb);
		if (io_now() >= deadline) {
			fprintf(stderr, "hellod: the new master (pid %ld) did "
			    "not serve within %ld seconds; stopping it\n",
			    (long)new, (long)(wait / 1000));
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
