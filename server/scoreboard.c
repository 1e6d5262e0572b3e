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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>
#include <unistd.h>

#include "hellod.h"

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
	int fd;
	void *p;
	unsigned i;

	if (path != NULL) {
		(void)unlink(path);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd == -1 || ftruncate(fd, (off_t)size) == -1) {
			snprintf(err, errlen, "scoreboard %s: %s", path,
			    strerror(errno));
			if (fd != -1)
				close(fd);
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
		return -1;
	}
	memset(p, 0, size);
	sb->sb_hdr = p;
	sb->sb_slot = (struct sb_slot *)(sb->sb_hdr + 1);
	sb->sb_size = size;
	sb->sb_hdr->sh_nslots = nslots;
	sb->sb_hdr->sh_master = getpid();
	sb->sb_hdr->sh_started = time(NULL);
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

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
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
	if (sb->sb_hdr->sh_magic != SB_MAGIC || sizeof(struct sb_header) +
	    sb->sb_hdr->sh_nslots * sizeof(struct sb_slot) > sb->sb_size) {
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
 * totals, then free the slot.
 */
void
sb_reap(struct scoreboard *sb, int slot)
{
	struct sb_slot *ss = &sb->sb_slot[slot];

	sb->sb_hdr->sh_sessions += ss->ss_sessions;
	sb->sb_hdr->sh_messages += ss->ss_messages;
	sb->sb_hdr->sh_bytes += ss->ss_bytes;
	/* A worker killed while it waited no longer counts as idle. */
	if (ss->ss_state == SB_WAITING)
		atomic_fetch_sub(&sb->sb_hdr->sh_idle, 1);
	ss->ss_state = SB_OPEN;
	ss->ss_pid = 0;
	ss->ss_sessions = ss->ss_messages = ss->ss_bytes = 0;
	ss->ss_client[0] = '\0';
	ss->ss_beat = ss->ss_idle = 0;
	/* However the worker died, its client counts no more. */
	atomic_store(&ss->ss_ipheld, 0);
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
	c->c_bytes = sh->sh_bytes;
	for (i = 0; i < sh->sh_nslots; i++) {
		const struct sb_slot *ss = &sb->sb_slot[i];

		state = ss->ss_state;
		if (state == SB_OPEN)
			continue;
		c->c_sessions += ss->ss_sessions;
		c->c_messages += ss->ss_messages;
		c->c_bytes += ss->ss_bytes;
		if (state == SB_WAITING)
			c->c_idle++;
		else if (state != SB_STARTING)
			c->c_busy++;
	}
}

/*
 * Print the table in the form of Apache mod_status "?auto", which
 * monitoring tools already parse.  Total Accesses counts sessions.
 */
void
sb_status(const struct scoreboard *sb, FILE *fp)
{
	const struct sb_header *sh = sb->sb_hdr;
	struct sb_counts c;
	unsigned i, last = 0;

	sb_counts(sb, &c);
	for (i = 0; i < sh->sh_nslots; i++)
		if (sb->sb_slot[i].ss_state != SB_OPEN)
			last = i + 1;
	fprintf(fp, "ServerVersion: %s\n", SERVER_NAME);
	fprintf(fp, "ServerMPM: prefork\n");
	fprintf(fp, "ServerPid: %ld\n", (long)sh->sh_master);
	fprintf(fp, "Generation: %lu\n", (unsigned long)sh->sh_generation);
	fprintf(fp, "Uptime: %lld\n", (long long)(time(NULL) - sh->sh_started));
	fprintf(fp, "Total Accesses: %llu\n", (unsigned long long)c.c_sessions);
	fprintf(fp, "Total Messages: %llu\n", (unsigned long long)c.c_messages);
	fprintf(fp, "Total kBytes: %llu\n",
	    (unsigned long long)(c.c_bytes / 1024));
	/*
	 * hellod's own: the pool as TTIN and TTOU left it.  Scoreboard
	 * stays last, where scripts written for Apache 2.2 look for it.
	 */
	if (sh->sh_fixed)
		fprintf(fp, "PoolWorkers: %d\n", sh->sh_pool_size);
	else
		fprintf(fp, "MinSpareServers: %d\nMaxSpareServers: %d\n",
		    sh->sh_min_spare, sh->sh_max_spare);
	fprintf(fp, "BusyWorkers: %u\n", c.c_busy);
	fprintf(fp, "IdleWorkers: %u\n", c.c_idle);
	fprintf(fp, "Scoreboard: ");
	/* Open slots past the last used one say nothing; leave them out. */
	for (i = 0; i < last; i++)
		fputc(sb->sb_slot[i].ss_state, fp);
	fputc('\n', fp);
}
