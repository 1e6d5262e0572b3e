/*
 * admit.c: what a connection must pass before its greeting.  With
 * ProxyProtocol, a peer listed in ProxyAllow and a PROXY header in time;
 * the client it names then stands for the peer everywhere.  With
 * MaxConnectionsPerIP, room for one more session of that client.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "linereader.h"
#include "proxy.h"

#define ERR_TOOMANY	"error: too many connections\n"
#define ADMIT_PEEK_MS	10	/* a header peeked at, and incomplete */

static int	admit_read(struct worker *, int, struct linereader *, size_t *,
		    char *, size_t);
static ssize_t	admit_take(struct worker *, int, struct linereader *,
		    size_t);
static int	admit_drop(struct linereader *, int, size_t);
static int	admit_unlogged(const struct config *, int,
		    const struct sockaddr *);
static int	admit_proxy(struct worker *, const struct conn *,
		    struct linereader *, struct sockaddr_storage *,
		    socklen_t *, int *, char *, size_t);
static int	admit_limit(struct worker *, int, const struct sockaddr *,
		    struct session_stats *);

/*
 * Wait for more of the header, until the deadline, and read it into the
 * free end of the line reader's buffer, *have bytes long.  Return 1 when
 * bytes came, 0 to wait again, -1 with a reason in why.
 */
static int
admit_read(struct worker *w, int fd, struct linereader *lr, size_t *have,
    char *why, size_t whylen)
{
	int wake[2] = { w->w_wakefd, w->w_deathfd };
	int64_t wait = (int64_t)w->w_cf->cf_timeout * 1000, deadline;
	ssize_t n;
	int r;

	if (wait > PROXY_WAIT_MS)
		wait = PROXY_WAIT_MS;
	deadline = lr->lr_first + wait;
	beat_post(w);
	r = io_wait_wake(fd, POLLIN, beat_bound(w, deadline), wake);
	if (r == 2 && wake_check(w)) {
		snprintf(why, whylen, "the server is stopping");
		return -1;
	}
	if (r == 2)
		return 0;
	if (r == 0 && io_now() < deadline)
		return 0;
	if (r == 0) {
		snprintf(why, whylen, "no complete PROXY header within %lld s",
		    (long long)(wait / 1000));
		return -1;
	}
	if (r == -1 || (n = admit_take(w, fd, lr, *have)) < 0) {
		if (r != -1 && (errno == EINTR || errno == EAGAIN))
			return 0;
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(why, whylen, "closed before its PROXY header");
		return -1;
	}
	if (w->w_cf->cf_handler == HANDLER_EXEC) {
		/* Peeked: all of it again, more than before or not. */
		if ((size_t)n == *have) {
			(void)io_wait(-1, 0, io_deadline(ADMIT_PEEK_MS));
			return 0;
		}
		*have = (size_t)n;
		return 1;
	}
	*have += (size_t)n;
	lr->lr_bytes += (uint64_t)n;
	return 1;
}

/*
 * Read more of a PROXY header.  A program (Handler exec) reads the
 * connection itself, so no byte past the header may be taken from it:
 * the header is peeked at, whole, and only its length read away once
 * it is complete (admit_drop()).
 */
static ssize_t
admit_take(struct worker *w, int fd, struct linereader *lr, size_t have)
{
	if (w->w_cf->cf_handler == HANDLER_EXEC)
		return recv(fd, lr->lr_buf, lr->lr_cap, MSG_PEEK);
	return read(fd, lr->lr_buf + have, lr->lr_cap - have);
}

/* Handler exec: read away the peeked header, len bytes.  0 or -1. */
static int
admit_drop(struct linereader *lr, int fd, size_t len)
{
	ssize_t n;
	size_t off = 0;

	while (off < len) {
		if ((n = read(fd, lr->lr_buf, len - off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	lr->lr_bytes += len;
	return 0;
}

/*
 * Read the PROXY header into lr's buffer.  The bytes that follow it,
 * read in the same gulps, stay there as the client's first.  A header
 * that carries an address puts it in *client; a v2 LOCAL one (the
 * balancer's own connection: HAProxy's health checks) sets *local.  Return 0, or -1 with a reason in why.
 */
static int
admit_proxy(struct worker *w, const struct conn *c, struct linereader *lr,
    struct sockaddr_storage *client, socklen_t *clientlen, int *local,
    char *why, size_t whylen)
{
	const struct allow *al = &w->w_cf->cf_proxy_allow;
	enum proxy_status st = PROXY_MORE;
	struct proxy_hdr ph;
	size_t have = 0;
	int r;

	/* The header is believed, so only from the balancers listed. */
	if (!cidr_match_list(al->al_net, (size_t)al->al_n,
	    (const struct sockaddr *)&c->cn_peer)) {
		snprintf(why, whylen, "peer not in ProxyAllow");
		return -1;
	}
	/* The line reader's clock for a line times the header meanwhile. */
	lr->lr_first = io_now();
	while (st == PROXY_MORE) {
		if (have == lr->lr_cap) {
			snprintf(why, whylen, "PROXY header too long");
			return -1;
		}
		if ((r = admit_read(w, c->cn_fd, lr, &have, why, whylen)) == -1)
			return -1;
		if (r == 1)
			st = proxy_parse(lr->lr_buf, have, &ph);
	}
	lr->lr_first = 0;
	if (st == PROXY_INVALID) {
		snprintf(why, whylen, "%s", ph.ph_err);
		return -1;
	}
	if (w->w_cf->cf_handler == HANDLER_EXEC) {
		if (admit_drop(lr, c->cn_fd, ph.ph_len) == -1) {
			snprintf(why, whylen, "%s", strerror(errno));
			return -1;
		}
	} else {
		memmove(lr->lr_buf, lr->lr_buf + ph.ph_len, have - ph.ph_len);
		lr->lr_end = have - ph.ph_len;
	}
	*local = ph.ph_check;
	if (!ph.ph_local) {
		memcpy(client, &ph.ph_src, ph.ph_addrlen);
		*clientlen = ph.ph_addrlen;
	}
	return 0;
}

/*
 * Whether a session stays out of the access log (it is counted in the
 * status pages instead): a balancer's health check, which comes with a
 * v2 LOCAL PROXY header (local), or a client that LogExclude names.
 */
static int
admit_unlogged(const struct config *cf, int local,
    const struct sockaddr *client)
{
	const struct allow *al = &cf->cf_log_exclude;

	return local || (al->al_n > 0 && cidr_match_list(al->al_net,
	    (size_t)al->al_n, client));
}

/*
 * MaxConnectionsPerIP: take a place for client, or refuse it with an
 * error line and close at once, the worker free for the next.  Return
 * 1 when admitted; admit_leave() gives the place back.
 */
static int
admit_limit(struct worker *w, int fd, const struct sockaddr *client,
    struct session_stats *st)
{
	char host[ADDR_STRMAX], *colon;

	if (limit_enter(w->w_sb, w->w_slotno, client, w->w_cf->cf_max_per_ip))
		return 1;
	snprintf(host, sizeof(host), "%s", st->st_client);
	if ((colon = strrchr(host, ':')) != NULL)
		*colon = '\0';
	log_warnx("too many connections from %s (MaxConnectionsPerIP %d)",
	    host, w->w_cf->cf_max_per_ip);
	bye_error(w, fd, ERR_TOOMANY, sizeof(ERR_TOOMANY) - 1, st);
	/* The worker is wanted for others: no waiting. */
	bye_linger(w, fd, 0);
	st->st_end = END_TOOMANY;
	return 0;
}

/*
 * Everything a connection must pass before the greeting.  lr is the
 * session's line reader, still empty.  On success the session's client
 * (st_client, the slot's) is the one a PROXY header named.  Return 1 to
 * greet, 0 when the connection is to be closed (st_end says why).
 */
int
admit_conn(struct worker *w, const struct conn *c, struct linereader *lr,
    struct session_stats *st)
{
	const struct config *cf = w->w_cf;
	struct sockaddr_storage client = c->cn_peer;
	socklen_t clientlen = c->cn_peerlen;
	char why[128], peer[ADDR_STRMAX];
	int local = 0;

	if (cf->cf_proxy) {
		if (admit_proxy(w, c, lr, &client, &clientlen, &local, why,
		    sizeof(why)) == -1) {
			st->st_in = lr->lr_bytes;
			st->st_end = w->w_stop ? END_SHUTDOWN : END_BADPROXY;
			log_msg(LOG_L_INFO, "closed %s without a greeting: %s",
			    st->st_client, why);
			bye_linger(w, c->cn_fd, 1);
			return 0;
		}
		memcpy(peer, st->st_client, sizeof(peer));
		addr_fmt((const struct sockaddr *)&client, clientlen,
		    st->st_client, sizeof(st->st_client));
		memcpy(w->w_slot->ss_client, st->st_client,
		    sizeof(w->w_slot->ss_client));
		if (log_enabled(LOG_L_INFO))
			log_msg(LOG_L_INFO, "%s speaks for %s", peer,
			    st->st_client);
	}
	memcpy(&w->w_client, &client, sizeof(client));
	w->w_clientlen = clientlen;
	st->st_unlogged = admit_unlogged(cf, local,
	    (const struct sockaddr *)&client);
	if (cf->cf_max_per_ip > 0 &&
	    !admit_limit(w, c->cn_fd, (const struct sockaddr *)&client, st))
		return 0;
	return 1;
}

/* The session admit_conn() let in has ended: its place is free again. */
void
admit_leave(struct worker *w)
{
	if (w->w_cf->cf_max_per_ip > 0)
		limit_leave(w->w_sb, w->w_slotno);
}
