/*
 * status.h: the status listener's pieces: the HTTP/1.1 request parser
 * (httpreq.c), the text producers (statustext.c) and the status process
 * (statusd.c).  The first two are pure and need nothing but this header,
 * so a test driver or a fuzzer can link them alone.
 */
#ifndef STATUS_H
#define STATUS_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

/*
 * Limits on a status request.  Monitoring tools send a line and a few
 * short headers; anything near these is hostile or broken.
 */
#define RQ_HEAD_MAX	8192	/* bytes: request line, headers, blank line */
#define RQ_LINE_MAX	4096	/* bytes in one line, without its CRLF */
#define RQ_FIELDS_MAX	64	/* header fields */

/* rq_parse()'s answers that are not HTTP status codes. */
#define RQ_MORE		0	/* the head is not complete yet */
#define RQ_OK		200	/* a complete, well-formed request head */

enum rq_method { RQ_GET, RQ_HEAD, RQ_OTHER };

/*
 * One parsed request head.  The strings point into the caller's buffer
 * and are not NUL-terminated.
 */
struct rq_request {
	enum rq_method	 rq_method;
	const char	*rq_path;	/* target up to '?' (origin form) */
	size_t		 rq_pathlen;
	const char	*rq_query;	/* after '?', or NULL */
	size_t		 rq_querylen;
	int		 rq_minor;	/* HTTP/1.rq_minor */
	size_t		 rq_headlen;	/* bytes of the head, blank line included */
};

/* httpreq.c */
int	 rq_parse(const char *buf, size_t len, struct rq_request *);

/*
 * What the producers print, copied out of the scoreboard at one moment
 * (st_snapshot) so that the pure producers never touch shared memory.
 */
#define ST_BUCKETS	12	/* session-duration histogram, +Inf apart */

enum st_exit {
	ST_EXIT_NORMAL,		/* exit 0: MaxConnectionsPerChild, retired */
	ST_EXIT_ERROR,		/* another exit status, after a normal start */
	ST_EXIT_SIGNAL,		/* killed by a signal, after a normal start */
	ST_EXIT_CRASH_START,	/* died right after starting */
	ST_EXIT_WATCHDOG,	/* killed by the master: WorkerTimeout */
	ST_EXIT_MAX
};

/* Why a handler failed a session (hellod_handler_failures_total). */
enum st_hfail {
	HFAIL_EXEC,		/* Handler exec: the program could not run */
	HFAIL_MAX
};

struct st_worker {
	pid_t		 sw_pid;
	uint32_t	 sw_generation;
	char		 sw_state;
	int64_t		 sw_since;	/* time() the state began */
	uint64_t	 sw_sessions;
	uint64_t	 sw_messages;
	uint64_t	 sw_bytes;	/* in and out */
	char		 sw_client[ADDR_STRMAX];
	int32_t		 sw_open;	/* sessions open now */
	int32_t		 sw_waiting;	/* of them: idle in an event loop */
	int32_t		 sw_writing;	/* answers waiting for the client */
	int32_t		 sw_closing;	/* lingering close */
};

struct st_listen {
	char		 sl_addr[ADDR_STRMAX];
	long		 sl_queue;	/* connections waiting for accept() */
};

struct st_snap {
	char		 sn_host[256];
	char		 sn_version[64];	/* "hellod/0.1.0" */
	char		 sn_built[32];
	int64_t		 sn_now;		/* time() */
	int64_t		 sn_started;		/* the master's start */
	int64_t		 sn_restarted;		/* the last restart */
	pid_t		 sn_master;
	uint32_t	 sn_generation;
	unsigned	 sn_max_workers;
	int		 sn_fixed;		/* -w: a fixed pool */
	int		 sn_pool_size;		/* its size, as TTIN/TTOU left it */
	int		 sn_min_spare;		/* or the spare bounds */
	int		 sn_max_spare;
	uint64_t	 sn_sessions;		/* started */
	uint64_t	 sn_unlogged;		/* kept out of the access log */
	uint64_t	 sn_messages;
	uint64_t	 sn_bytes_in;
	uint64_t	 sn_bytes_out;
	uint64_t	 sn_duration_ms;	/* of finished sessions */
	uint64_t	 sn_hist[ST_BUCKETS + 1];	/* not cumulative */
	uint64_t	 sn_exits[ST_EXIT_MAX];
	uint64_t	 sn_hfail[HFAIL_MAX];	/* handler failures */
	double		 sn_cpu[4];	/* user, system, children's user, system */
	double		 sn_load[3];	/* -1 when unknown */
	int		 sn_nlisten;
	struct st_listen sn_listen[16];
	unsigned	 sn_nslots;
	struct st_worker *sn_slot;	/* sn_nslots of them, the caller's */
};

/* statustext.c */
extern const double	 st_bucket_le[ST_BUCKETS];	/* seconds */
extern const char	*st_exit_word[ST_EXIT_MAX];
extern const char	*st_hfail_word[HFAIL_MAX];
int	 st_bucket(int64_t ms);
void	 st_auto(const struct st_snap *, FILE *);
void	 st_full(const struct st_snap *, FILE *);
void	 st_metrics(const struct st_snap *, FILE *);

#endif
