/*
 * scoreboard.c: the shared table where each worker posts its state and
 * the master (and "hellod -k status") reads it, in mod_status form.
 *
 * With a PidFile the table is a file next to it, mapped MAP_SHARED, so a
 * separate "hellod -k status" process can map it too; without one it is
 * anonymous shared memory (a MAP_SHARED mapping of /dev/zero, which
 * POSIX headers offer where MAP_ANONYMOUS is an extension).  Either way it is mapped before the first
 * fork() and every worker inherits the mapping.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>
#include <unistd.h>

#include "hellod.h"

static void	sb_copy_slot(const struct sb_slot *, struct st_snap *,
		    struct st_worker *);
static int32_t	sb_count(int32_t);
static void	sb_copy_header(const struct sb_header *, struct st_snap *);
static void	sb_load(double[3]);

/* The scoreboard file of a pid file: "PIDFILE.scoreboard". */
char *
sb_path(const char *pidfile, char *buf, size_t len)
{
	if (pidfile == NULL || *pidfile == '\0')
		return NULL;
	snprintf(buf, len, "%s.scoreboard", pidfile);
	return buf;
}

/*
 * Map a zeroed scoreboard of nslots slots, file-backed at path (or
 * anonymous when path is NULL).  Return 0, or -1 with a reason in err.
 */
int
sb_create(struct scoreboard *sb, unsigned nslots, const char *path,
    char *err, size_t errlen)
{
	size_t size = sizeof(struct sb_header) + nslots * sizeof(struct sb_slot);
	char why[MAX_PATH + 128];
	int fd;
	void *p;
	unsigned i;

	if (path != NULL) {
		/*
		 * Made anew, 0600: it names every client, and only the
		 * master and its workers (through the mapping) use it.
		 */
		(void)unlink(path);
		fd = sf_open(path, O_RDWR | O_CREAT | O_EXCL, 0600, why,
		    sizeof(why));
		if (fd == -1) {
			snprintf(err, errlen, "scoreboard %s: %s", path, why);
			return -1;
		}
		if (ftruncate(fd, (off_t)size) == -1) {
			snprintf(err, errlen, "scoreboard %s: %s", path,
			    strerror(errno));
			close(fd);
			(void)unlink(path);
			return -1;
		}
	} else if ((fd = open("/dev/zero", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "scoreboard: /dev/zero: %s",
		    strerror(errno));
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "scoreboard: mmap: %s", strerror(errno));
		if (path != NULL)
			(void)unlink(path);
		return -1;
	}
	memset(p, 0, size);
	sb->sb_hdr = p;
	sb->sb_slot = (struct sb_slot *)(sb->sb_hdr + 1);
	sb->sb_size = size;
	sb->sb_nslots = nslots;
	sb->sb_hdr->sh_nslots = nslots;
	sb->sb_hdr->sh_master = getpid();
	sb->sb_hdr->sh_started = time(NULL);
	sb->sb_hdr->sh_restarted = sb->sb_hdr->sh_started;
	for (i = 0; i < nslots; i++)
		sb->sb_slot[i].ss_state = SB_OPEN;
	sb->sb_hdr->sh_magic = SB_MAGIC;
	return 0;
}

/*
 * Map the scoreboard of a running server read-only.  Return 0, or -1
 * with a reason in err.
 */
int
sb_attach(struct scoreboard *sb, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "scoreboard %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sizeof(struct sb_header)) {
		snprintf(err, errlen, "scoreboard %s: truncated", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "scoreboard %s: %s", path, strerror(errno));
		return -1;
	}
	sb->sb_hdr = p;
	sb->sb_slot = (struct sb_slot *)(sb->sb_hdr + 1);
	sb->sb_size = (size_t)st.st_size;
	/* Read once: the count in the header may change under us. */
	sb->sb_nslots = sb->sb_hdr->sh_nslots;
	if (sb->sb_hdr->sh_magic != SB_MAGIC || sb->sb_nslots >
	    (sb->sb_size - sizeof(struct sb_header)) / sizeof(struct sb_slot)) {
		snprintf(err, errlen, "scoreboard %s: not a hellod scoreboard",
		    path);
		munmap(p, sb->sb_size);
		return -1;
	}
	return 0;
}

/* Unmap the scoreboard and, in the master, remove its file. */
void
sb_destroy(struct scoreboard *sb, const char *path)
{
	if (sb->sb_hdr == NULL)
		return;
	munmap(sb->sb_hdr, sb->sb_size);
	sb->sb_hdr = NULL;
	if (path != NULL)
		(void)unlink(path);
}

/*
 * Where the idle count lives and whom to wake when it reaches 0, in the
 * master and (inherited) in its workers; unset in "hellod -k status".
 */
static atomic_int	*sb_idle;
static int		 sb_wakefd = -1;

/*
 * In the master, before forking: from now on the worker that takes the
 * last idle place writes a byte to fd (nonblocking), so the master
 * learns of a burst when it happens.  -1: nobody is woken (a fixed pool
 * forks nothing on demand).
 */
void
sb_wake_on_demand(struct scoreboard *sb, int fd)
{
	sb_idle = &sb->sb_hdr->sh_idle;
	sb_wakefd = fd;
}

/*
 * The master's part of the header, written here only.  The pool as it
 * runs, TTIN and TTOU included, for "-k status".
 */
void
sb_pool(struct scoreboard *sb, const struct config *cf)
{
	struct sb_header *sh = sb->sb_hdr;

	sh->sh_fixed = cf->cf_fixed;
	sh->sh_pool_size = cf->cf_fixed ? cf->cf_max_workers : 0;
	sh->sh_min_spare = cf->cf_min_spare;
	sh->sh_max_spare = cf->cf_max_spare;
}

/* MaxRequestWorkers as the last start or restart set it. */
void
sb_max_workers(struct scoreboard *sb, int max)
{
	sb->sb_hdr->sh_max_workers = (uint32_t)max;
}

/* A restart has made gen the current generation. */
void
sb_generation(struct scoreboard *sb, uint32_t gen)
{
	sb->sb_hdr->sh_generation = gen;
	sb->sb_hdr->sh_restarted = (int64_t)time(NULL);
}

/*
 * A restart done (why NULL) or failed: what "-k graceful" waits on, the
 * reason first, then the count it watches.
 */
void
sb_reloaded(struct scoreboard *sb, const char *why)
{
	struct sb_header *sh = sb->sb_hdr;

	if (why != NULL) {
		snprintf(sh->sh_reload_why, sizeof(sh->sh_reload_why), "%s",
		    why);
		sh->sh_reload_failed = 1;
		atomic_thread_fence(memory_order_release);
	} else
		sh->sh_reload_failed = 0;
	sh->sh_reloads++;
}

/* A log reopen done or failed: what "-k reopen" waits on. */
void
sb_reopened(struct scoreboard *sb, int failed)
{
	sb->sb_hdr->sh_reopen_failed = failed != 0;
	sb->sb_hdr->sh_reopens++;
}

/* The workers one generation has room for (see master_setup()). */
int
sb_room(const struct scoreboard *sb)
{
	return (int)(sb->sb_nslots / SB_GENERATIONS);
}

/*
 * Post a worker's new state and when it began, and keep the idle count.
 * No system call, except the one byte that says the last idle worker
 * just got busy.
 */
void
sb_set_state(struct sb_slot *ss, char state)
{
	int was_idle = ss->ss_state == SB_WAITING;

	ss->ss_since = (int64_t)time(NULL);
	ss->ss_state = state;
	if (sb_idle == NULL || was_idle == (state == SB_WAITING))
		return;
	if (state == SB_WAITING)
		atomic_fetch_add(sb_idle, 1);
	else if (atomic_fetch_sub(sb_idle, 1) <= 1 && sb_wakefd != -1)
		(void)!write(sb_wakefd, "", 1);
}

/*
 * After the master reaped the slot's worker: fold its counts into the
 * totals, then free the slot.  A reader adds the totals and the live
 * slots up; one that looked between the fold and the clearing would
 * count this worker twice, and the next look would see the counters
 * fall.  So the fold is bracketed by sh_seq, odd meanwhile, and
 * sb_snapshot() reads again when it saw sh_seq odd or changed.
 */
void
sb_reap(struct scoreboard *sb, int slot)
{
	struct sb_header *sh = sb->sb_hdr;
	struct sb_slot *ss = &sb->sb_slot[slot];
	uint32_t seq = sh->sh_seq;
	int i;

	sh->sh_seq = seq + 1;
	atomic_thread_fence(memory_order_seq_cst);
	sh->sh_sessions += ss->ss_sessions;
	sh->sh_unlogged += ss->ss_unlogged;
	sh->sh_messages += ss->ss_messages;
	sh->sh_bytes_in += ss->ss_bytes_in;
	sh->sh_bytes_out += ss->ss_bytes_out;
	sh->sh_duration_ms += ss->ss_duration_ms;
	for (i = 0; i <= ST_BUCKETS; i++) {
		sh->sh_hist[i] += ss->ss_hist[i];
		ss->ss_hist[i] = 0;
	}
	for (i = 0; i < HFAIL_MAX; i++) {
		sh->sh_hfail[i] += ss->ss_hfail[i];
		ss->ss_hfail[i] = 0;
	}
	/* A worker killed while it waited no longer counts as idle. */
	if (ss->ss_state == SB_WAITING)
		atomic_fetch_sub(&sh->sh_idle, 1);
	ss->ss_state = SB_OPEN;
	ss->ss_pid = 0;
	ss->ss_sessions = ss->ss_messages = ss->ss_unlogged = 0;
	ss->ss_bytes_in = ss->ss_bytes_out = ss->ss_duration_ms = 0;
	ss->ss_client[0] = '\0';
	ss->ss_beat = ss->ss_idle = ss->ss_begun = 0;
	ss->ss_open = ss->ss_waiting = ss->ss_writing = ss->ss_closing = 0;
	/* However the worker died, its client counts no more. */
	atomic_store(&ss->ss_ipheld, 0);
	atomic_thread_fence(memory_order_seq_cst);
	sh->sh_seq = seq + 2;
}

/*
 * Count the workers by state and add up what every worker, live or
 * gone, has served.  A starting worker is neither busy nor idle.
 */
void
sb_counts(const struct scoreboard *sb, struct sb_counts *c)
{
	const struct sb_header *sh = sb->sb_hdr;
	unsigned i;
	char state;

	memset(c, 0, sizeof(*c));
	c->c_sessions = sh->sh_sessions;
	c->c_messages = sh->sh_messages;
	c->c_bytes = sh->sh_bytes_in + sh->sh_bytes_out;
	for (i = 0; i < sb->sb_nslots; i++) {
		const struct sb_slot *ss = &sb->sb_slot[i];

		state = ss->ss_state;
		if (state == SB_OPEN)
			continue;
		c->c_sessions += ss->ss_sessions;
		c->c_messages += ss->ss_messages;
		c->c_bytes += ss->ss_bytes_in + ss->ss_bytes_out;
		if (state == SB_WAITING)
			c->c_idle++;
		else if (state != SB_STARTING)
			c->c_busy++;
	}
}

/*
 * A session ended (its worker writes this, into its own slot): add its
 * bytes, and its duration to the total and to the histogram.
 */
void
sb_session_end(struct sb_slot *ss, const struct session_stats *st,
    int64_t now_ms)
{
	int64_t ms = now_ms - st->st_start_ms;

	if (ms < 0)
		ms = 0;
	ss->ss_bytes_in += st->st_in;
	ss->ss_bytes_out += st->st_out;
	ss->ss_duration_ms += (uint64_t)ms;
	ss->ss_hist[st_bucket(ms)]++;
}

/*
 * Count a reaped worker's end by its reason: killed by the master's
 * watchdog, exit 0 (retired, stopped, MaxConnectionsPerChild), dead
 * right after starting (young), killed by a signal, or another exit.
 */
void
sb_exit(struct scoreboard *sb, int status, int young, int watchdog)
{
	enum st_exit why;

	if (watchdog)
		why = ST_EXIT_WATCHDOG;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		why = ST_EXIT_NORMAL;
	else if (young)
		why = ST_EXIT_CRASH_START;
	else if (WIFSIGNALED(status))
		why = ST_EXIT_SIGNAL;
	else
		why = ST_EXIT_ERROR;
	sb->sb_hdr->sh_exits[why]++;
}

/*
 * A worker's session count as the status shows it: a worker that died
 * mid-update, or wrote nonsense, must not make the totals absurd.
 */
static int32_t
sb_count(int32_t n)
{
	return n < 0 || n > SESSIONS_MAX ? 0 : n;
}

/* Copy one slot out and add it to the totals. */
static void
sb_copy_slot(const struct sb_slot *ss, struct st_snap *sn,
    struct st_worker *w)
{
	int i;

	w->sw_pid = ss->ss_pid;
	w->sw_generation = ss->ss_generation;
	w->sw_state = ss->ss_state;
	w->sw_since = ss->ss_since;
	w->sw_sessions = ss->ss_sessions;
	w->sw_messages = ss->ss_messages;
	w->sw_bytes = ss->ss_bytes_in + ss->ss_bytes_out;
	memcpy(w->sw_client, ss->ss_client, sizeof(w->sw_client));
	w->sw_client[sizeof(w->sw_client) - 1] = '\0';
	w->sw_open = sb_count(ss->ss_open);
	w->sw_waiting = sb_count(ss->ss_waiting);
	w->sw_writing = sb_count(ss->ss_writing);
	w->sw_closing = sb_count(ss->ss_closing);
	sn->sn_sessions += w->sw_sessions;
	sn->sn_unlogged += ss->ss_unlogged;
	sn->sn_messages += w->sw_messages;
	sn->sn_bytes_in += ss->ss_bytes_in;
	sn->sn_bytes_out += ss->ss_bytes_out;
	sn->sn_duration_ms += ss->ss_duration_ms;
	for (i = 0; i <= ST_BUCKETS; i++)
		sn->sn_hist[i] += ss->ss_hist[i];
	for (i = 0; i < HFAIL_MAX; i++)
		sn->sn_hfail[i] += ss->ss_hfail[i];
}

/* The header's part of a snapshot: totals so far, the master's figures. */
static void
sb_copy_header(const struct sb_header *sh, struct st_snap *sn)
{
	int i, n;

	sn->sn_started = sh->sh_started;
	sn->sn_restarted = sh->sh_restarted;
	sn->sn_master = sh->sh_master;
	sn->sn_generation = sh->sh_generation;
	sn->sn_max_workers = sh->sh_max_workers;
	sn->sn_fixed = sh->sh_fixed;
	sn->sn_pool_size = sh->sh_pool_size;
	sn->sn_min_spare = sh->sh_min_spare;
	sn->sn_max_spare = sh->sh_max_spare;
	sn->sn_sessions = sh->sh_sessions;
	sn->sn_unlogged = sh->sh_unlogged;
	sn->sn_messages = sh->sh_messages;
	sn->sn_bytes_in = sh->sh_bytes_in;
	sn->sn_bytes_out = sh->sh_bytes_out;
	sn->sn_duration_ms = sh->sh_duration_ms;
	for (i = 0; i <= ST_BUCKETS; i++)
		sn->sn_hist[i] = sh->sh_hist[i];
	for (i = 0; i < ST_EXIT_MAX; i++)
		sn->sn_exits[i] = sh->sh_exits[i];
	for (i = 0; i < HFAIL_MAX; i++)
		sn->sn_hfail[i] = sh->sh_hfail[i];
	for (i = 0; i < 4; i++)
		sn->sn_cpu[i] = (double)sh->sh_cpu_ms[i] / 1000;
	n = sh->sh_nlisten;
	sn->sn_nlisten = n < 0 || n > MAX_LISTEN ? 0 : n;
	for (i = 0; i < sn->sn_nlisten; i++) {
		memcpy(sn->sn_listen[i].sl_addr, sh->sh_listen[i].sl_addr,
		    sizeof(sn->sn_listen[i].sl_addr));
		sn->sn_listen[i].sl_addr[ADDR_STRMAX - 1] = '\0';
		sn->sn_listen[i].sl_queue = sh->sh_listen[i].sl_queue;
	}
}

/* The load averages from /proc/loadavg, or -1 where there is none. */
static void
sb_load(double load[3])
{
	FILE *fp;

	load[0] = load[1] = load[2] = -1;
	if ((fp = fopen("/proc/loadavg", "re")) == NULL)
		return;
	if (fscanf(fp, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
		load[0] = load[1] = load[2] = -1;
	fclose(fp);
}

/*
 * Copy the scoreboard into sn, with the slots into w (room for
 * sb_nslots), for the status texts.  The copy is consistent with
 * respect to the master's folds (see sb_reap): counters read from
 * successive snapshots never go backwards.  Only a master killed in the
 * middle of a fold could keep sh_seq odd; after many tries the copy is
 * taken as it is rather than wait forever.
 */
void
sb_snapshot(const struct scoreboard *sb, struct st_snap *sn,
    struct st_worker *w)
{
	const struct sb_header *sh = sb->sb_hdr;
	uint32_t seq, i;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		seq = sh->sh_seq;
		atomic_thread_fence(memory_order_seq_cst);
		memset(sn, 0, sizeof(*sn));
		sb_copy_header(sh, sn);
		for (i = 0; i < sb->sb_nslots; i++)
			sb_copy_slot(&sb->sb_slot[i], sn, &w[i]);
		atomic_thread_fence(memory_order_seq_cst);
		if ((seq & 1) == 0 && sh->sh_seq == seq)
			break;
		(void)poll(NULL, 0, 1);
	}
	sn->sn_nslots = sb->sb_nslots;
	sn->sn_slot = w;
	sn->sn_now = time(NULL);
	if (gethostname(sn->sn_host, sizeof(sn->sn_host) - 1) == -1)
		snprintf(sn->sn_host, sizeof(sn->sn_host), "localhost");
	snprintf(sn->sn_version, sizeof(sn->sn_version), "%s", SERVER_NAME);
	snprintf(sn->sn_built, sizeof(sn->sn_built), "%s", BUILT);
	sb_load(sn->sn_load);
}
