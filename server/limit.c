/*
 * limit.c: MaxConnectionsPerIP.  Each worker marks, in its scoreboard
 * slot, the client address it is serving; admitting a session counts
 * the marks of that address across every slot.  Counting and marking
 * happen under one lock in the scoreboard's header, so two workers
 * accepting the same client at the same moment cannot both see room
 * for one: the cap is exact, never exceeded and never undercut.
 *
 * The lock is a C11 atomic holding the pid of its holder.  A holder
 * killed inside the few instructions it holds the lock for (WorkerTimeout
 * sends KILL) would otherwise block every worker, so a waiter that finds
 * the holder gone takes the lock over.  A slot's mark is cleared by its
 * worker when the session ends and by the master when it reaps the
 * worker, whatever way it died.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hellod.h"

#define SPINS	64	/* tries between looks at the holder */

static int	limit_key(const struct sockaddr *, unsigned char *);
static void	limit_lock(struct sb_header *);
static void	limit_unlock(struct sb_header *);

/*
 * The address part of sa as 16 bytes, an IPv4 client as its
 * IPv4-mapped IPv6 form, so that the same client counts once whichever
 * kind of socket it came in on.  Return -1 for any other family.
 */
static int
limit_key(const struct sockaddr *sa, unsigned char *key)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (sa->sa_family == AF_INET) {
		memcpy(key, mapped, sizeof(mapped));
		memcpy(key + 12, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static void
limit_lock(struct sb_header *sh)
{
	struct timespec pause = { 0, 100000 };	/* 0.1 ms */
	int me = (int)getpid(), holder, n;

	for (n = 1; ; n++) {
		holder = 0;
		if (atomic_compare_exchange_strong(&sh->sh_iplock, &holder, me))
			return;
		if (n % SPINS != 0)
			continue;
		if (kill((pid_t)holder, 0) == -1 && errno == ESRCH)
			(void)atomic_compare_exchange_strong(&sh->sh_iplock,
			    &holder, 0);
		else
			nanosleep(&pause, NULL);
	}
}

static void
limit_unlock(struct sb_header *sh)
{
	atomic_store(&sh->sh_iplock, 0);
}

/*
 * Admit the client at sa into slot's session if fewer than max sessions
 * of the same address run now, and mark the slot with it.  Return 1
 * when admitted (or when sa is not an IP address, which no limit can
 * count), 0 when over the limit.
 */
int
limit_enter(struct scoreboard *sb, int slot, const struct sockaddr *sa,
    int max)
{
	struct sb_slot *ss = &sb->sb_slot[slot];
	unsigned char key[16];
	unsigned i;
	int n = 0;

	if (limit_key(sa, key) == -1)
		return 1;
	limit_lock(sb->sb_hdr);
	for (i = 0; i < sb->sb_nslots; i++)
		if ((int)i != slot && atomic_load(&sb->sb_slot[i].ss_ipheld) &&
		    memcmp(sb->sb_slot[i].ss_ipkey, key, sizeof(key)) == 0)
			n++;
	if (n < max) {
		memcpy(ss->ss_ipkey, key, sizeof(key));
		atomic_store(&ss->ss_ipheld, 1);
	}
	limit_unlock(sb->sb_hdr);
	return n < max;
}

/* The session in slot has ended: its client counts no more. */
void
limit_leave(struct scoreboard *sb, int slot)
{
	atomic_store(&sb->sb_slot[slot].ss_ipheld, 0);
}
