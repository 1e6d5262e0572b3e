/*
 * hellod.h: the pre-forking hello server's private header.  Defaults
 * first, then the shared structures, then prototypes grouped by the file
 * that defines them.
 */
#ifndef HELLOD_H
#define HELLOD_H

#include <sys/types.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "addr.h"
#include "cidr.h"
#include "status.h"

#ifndef VERSION
#define VERSION		"0.0.0"
#endif
#define SERVER_NAME	"hellod/" VERSION
#ifndef BUILT
#define BUILT		"unknown"
#endif

#define RUN_DIR		"/run/hellod"	/* made if missing: see pid_lock() */
#define MAX_LISTEN	16
#define MAX_PATH	1024
#define CF_LINE_MAX	4096	/* bytes in a config file line, newline excluded */
#define MAX_CMDLINE	64	/* -C, -l and -w directives on one command line */
#define SPAWN_RATE_MAX	32	/* workers forked a second at the most */
#define SPAWN_BATCH_MAX	64	/* workers starting at once, on demand */
#define BACKOFF_MIN_MS	1000	/* first wait before respawning a crasher */
#define BACKOFF_MAX_MS	32000	/* longest wait before respawning a crasher */
#define BLOCK_TICK_MS	1000	/* a serving worker's SIGALRM tick (wake.c) */
#define STOP_KILL_MS	1000	/* TERM to workers, then KILL after this */
#define MAX_ALLOW	32	/* ProxyAllow, StatusAllow ranges */
#define SESSIONS_MAX	1048576	/* open in one worker, at the most */
#define PROXY_WAIT_MS	5000	/* for the PROXY header (or Timeout, if less) */
#define SB_GENERATIONS	4	/* full pools the scoreboard has room for */
#define SYSLOG_SOCKET	"/dev/log"	/* where syslog(3) writes, for -d */
#define SERVER_LIMIT	256	/* ServerLimit unless a pool asks for more */
#define PID_LOCK_TRIES	10	/* pid file replaced under us: try again */
#define START_TRIES	3	/* -d: failed worker starts before giving up */
#define START_WAIT_MS	30000	/* -d: longest wait for a ready worker */
#define DROP_DRAIN_MS	5000	/* restart: serve a dropped queue this long */
#define MAXED_CLEAR_MS	5000	/* below MaxRequestWorkers this long: said */
#define UPGRADE_KILL_MS	5000	/* new master TERMed, then KILL after this */

/*
 * Exit statuses of hellod itself (documented in hellod.8).
 */
#define EXIT_CONFIG	1	/* configuration error */
#define EXIT_STARTUP	2	/* cannot listen, detach, lock the pid file */
#define EXIT_NOTRUNNING	3	/* -k: no server runs under this PidFile */
#define EXIT_CHILDFATAL	4	/* a worker could not start; master gave up */
#define EXIT_CTLFAIL	5	/* -k: the server did not do as told in time */
#define EXIT_FATAL	6	/* a system error after startup: fatal() */
#define EXIT_NOPERM	7	/* -k: not allowed to signal or read the server */
#define EXIT_USAGE	8	/* usage error: the command line itself */

/*
 * Exit statuses of a worker, read by the master.  A worker that cannot
 * set itself up (privileges) exits WEXIT_FATAL and the master stops: no
 * respawn can fix a configuration.  Anything else unexpected is a crash,
 * respawned with back-off.
 */
#define WEXIT_OK	0
#define WEXIT_FATAL	100

enum framing { FRAMING_LINE, FRAMING_RAW };

/* What answers a session (Handler; handler.c). */
enum handler { HANDLER_HELLO, HANDLER_EXEC, HANDLER_MAX };
#define HANDLER_ARGS_MAX	1024	/* bytes of PROGRAM and ARGs, NULs in */
#define HANDLER_ARGC_MAX	64	/* PROGRAM and its ARGs */

/* How idle workers share the listeners (AcceptMutex; see accept.c). */
enum accept_mech { ACCEPT_DEFAULT, ACCEPT_EPOLL, ACCEPT_PTHREAD, ACCEPT_MAX };
struct accept_mutex;
struct accept_state;

enum log_level {
	LOG_L_EMERG, LOG_L_ALERT, LOG_L_CRIT, LOG_L_ERR, LOG_L_WARN,
	LOG_L_NOTICE, LOG_L_INFO, LOG_L_DEBUG,
	LOG_L_MAX
};

/* Address ranges, as ProxyAllow lists them. */
struct allow {
	struct cidr	 al_net[MAX_ALLOW];
	int		 al_n;		/* 0 until cf_load() sets the default */
};

struct config {
	struct hostport	 cf_listen[MAX_LISTEN];
	int		 cf_nlisten;
	int		 cf_start_servers;
	int		 cf_min_spare;
	int		 cf_max_spare;
	int		 cf_max_workers;
	long		 cf_max_conn_child;	/* 0: never retire */
	int		 cf_fixed;		/* -w: exactly StartServers */
	int		 cf_worker_limit;	/* TTIN's bound for a fixed pool */
	int		 cf_server_limit;	/* 0: not given (cf_room()) */
	int		 cf_backlog;
	int		 cf_timeout;		/* seconds */
	int		 cf_graceful_timeout;	/* seconds, 0: none */
	int		 cf_upgrade_timeout;	/* seconds, for a new master */
	long		 cf_max_line;
	enum framing	 cf_framing;
	enum accept_mech cf_accept;
	int		 cf_reply_delay;	/* milliseconds */
	int		 cf_loglevel;
	char		 cf_pidfile[MAX_PATH];
	char		 cf_errorlog[MAX_PATH];	/* path, "stderr", "syslog" */
	char		 cf_customlog[MAX_PATH];
	char		 cf_user[64];
	char		 cf_group[64];
	uid_t		 cf_uid;		/* resolved by cf_check() */
	gid_t		 cf_gid;
	int		 cf_has_user;
	int		 cf_has_group;
	char		 cf_groups_of[64];	/* whose supplementary groups
						   workers take, "": none */
	int		 cf_proxy;		/* ProxyProtocol on */
	struct allow	 cf_proxy_allow;	/* ProxyAllow */
	int		 cf_max_per_ip;		/* 0: no limit */
	int		 cf_line_timeout;	/* seconds, 0: none */
	int		 cf_idle_under_load;	/* seconds, 0: off */
	int		 cf_age_under_load;	/* seconds, 0: off */
	int		 cf_worker_timeout;	/* seconds, 0: off */
	int		 cf_listen_default;	/* no Listen given: 127.0.0.1:9999 */
	int		 cf_pidfile_default;	/* no PidFile given: pid_default() */
	struct hostport	 cf_status;		/* StatusListen */
	int		 cf_has_status;
	struct allow	 cf_status_allow;	/* StatusAllow */
	struct allow	 cf_log_exclude;	/* LogExclude: none by default */
	enum handler	 cf_handler;
	char		 cf_handler_args[HANDLER_ARGS_MAX]; /* PROGRAM\0ARG\0 */
	int		 cf_handler_argc;	/* words in cf_handler_args */
	char		 cf_handler_at[MAX_PATH + 64];	/* where it was set */
	char		 cf_where[MAX_PATH + 64];	/* the line being read */
};

/* The command line's directives, applied after the file's, on every load. */
struct cmdline {
	const char	*cl_file;		/* -f, or NULL */
	const char	*cl_set[MAX_CMDLINE];	/* "Name value" */
	const char	*cl_arg[MAX_CMDLINE];	/* as typed: "-l foo", for errors */
	int		 cl_nset;
	int		 cl_workers;		/* -w N, or 0 */
	const char	*cl_cwd;		/* relative paths start here */
};

/*
 * Scoreboard states, as Apache's mod_status prints them.
 */
#define SB_OPEN		'.'
#define SB_STARTING	'S'
#define SB_WAITING	'_'
#define SB_READING	'R'
#define SB_WRITING	'W'
#define SB_GRACEFUL	'G'

#define SB_MAGIC	0x68656c31u	/* "hel1" */

/*
 * One worker's slot.  Plain data, no pointers: it lives in shared memory
 * that other processes (the master, "hellod -k status") map at other
 * addresses.  Only the worker writes it while it runs; the master clears
 * it after reaping.
 */
struct sb_slot {
	volatile pid_t		ss_pid;
	volatile uint32_t	ss_generation;
	volatile char		ss_state;
	volatile int64_t	ss_since;	/* time() the state began */
	volatile uint64_t	ss_sessions;
	volatile uint64_t	ss_unlogged;	/* kept out of the access log */
	volatile uint64_t	ss_messages;
	volatile uint64_t	ss_bytes_in;
	volatile uint64_t	ss_bytes_out;
	volatile uint64_t	ss_duration_ms;	/* of finished sessions */
	volatile uint64_t	ss_hist[ST_BUCKETS + 1];
	char			ss_client[ADDR_STRMAX];
	volatile int64_t	ss_beat;	/* io_now() of the last heartbeat */
	volatile int64_t	ss_idle;	/* io_now() a line has been awaited
						   since, or 0 */
	volatile int64_t	ss_begun;	/* io_now() the session began,
						   or 0 */
	volatile int32_t	ss_open;	/* sessions open in this worker
						   now (SessionsPerWorker) */
	/* Of those, what an event loop holds without working on them, as
	 * Apache's event MPM counts its async connections; a prefork
	 * worker leaves them 0. */
	volatile int32_t	ss_waiting;	/* idle till the client's line */
	volatile int32_t	ss_writing;	/* answers wait for the client */
	volatile int32_t	ss_closing;	/* in the lingering close */
	atomic_int		ss_ipheld;	/* ss_ipkey counts (limit.c) */
	unsigned char		ss_ipkey[16];
	volatile uint64_t	ss_hfail[HFAIL_MAX];	/* handler failures */
};

/* A listener's accept queue, as the master last saw it. */
struct sb_listen {
	char			sl_addr[ADDR_STRMAX];
	volatile int32_t	sl_queue;
};

struct sb_header {
	uint32_t		sh_magic;
	uint32_t		sh_nslots;
	volatile pid_t		sh_master;
	volatile int64_t	sh_started;	/* time() the master started */
	volatile uint32_t	sh_generation;
	/* The pool as it runs, TTIN and TTOU included, for "-k status". */
	volatile int		sh_fixed;
	volatile int		sh_pool_size;	/* fixed pool: its workers */
	volatile int		sh_min_spare;
	volatile int		sh_max_spare;
	/*
	 * Workers waiting for a connection, kept by sb_set_state(): the
	 * worker that takes the last one wakes the master (see pool_burst()).
	 */
	atomic_int		sh_idle;
	volatile int64_t	sh_restarted;	/* time() of the last restart */
	volatile uint32_t	sh_max_workers;
	/*
	 * Odd while the master folds a reaped slot into the totals below:
	 * a reader that saw it odd, or changed, reads again (sb_snapshot).
	 */
	volatile uint32_t	sh_seq;
	/* Counts of workers that have exited, folded in by the master. */
	volatile uint64_t	sh_sessions;
	volatile uint64_t	sh_unlogged;
	volatile uint64_t	sh_messages;
	volatile uint64_t	sh_bytes_in;
	volatile uint64_t	sh_bytes_out;
	volatile uint64_t	sh_duration_ms;
	volatile uint64_t	sh_hist[ST_BUCKETS + 1];
	volatile uint64_t	sh_exits[ST_EXIT_MAX];
	volatile uint64_t	sh_hfail[HFAIL_MAX];
	/* Sampled by the master once a second (status_tick()). */
	volatile int64_t	sh_cpu_ms[4];	/* user, sys, children's */
	volatile int32_t	sh_nlisten;	/* those the system tells of */
	struct sb_listen	sh_listen[MAX_LISTEN];
	atomic_int		sh_iplock;	/* pid holding limit.c's lock, or 0 */
	/*
	 * Restarts and log reopens the master has handled, and whether the
	 * last one failed: "-k graceful" and "-k reopen" wait on these to
	 * report the outcome as soon as it is known.
	 */
	volatile uint32_t	sh_reloads;
	volatile uint32_t	sh_reload_failed;
	volatile uint32_t	sh_reopens;
	volatile uint32_t	sh_reopen_failed;
	/*
	 * USR2, for "-k upgrade": upgrades started and the new master's
	 * pid, and USR2s that came to nothing (refused, or rolled back)
	 * with the reason, written before the count.
	 */
	volatile uint32_t	sh_upgrades;
	volatile pid_t		sh_upgrade_pid;
	volatile uint32_t	sh_upgrade_failed;
	char			sh_upgrade_why[256];
	/* Why the last restart failed, written before sh_reloads. */
	char			sh_reload_why[512];
};

/* What sb_counts() finds: workers by state, and sessions served. */
struct sb_counts {
	unsigned		c_busy;
	unsigned		c_idle;
	uint64_t		c_sessions;
	uint64_t		c_messages;
	uint64_t		c_bytes;
};

/*
 * A process's view of the scoreboard.  sb_nslots is this process's own
 * copy of the slot count: workers can write the shared header, so no
 * loop or allocation may trust sh_nslots after the mapping is made.
 */
struct scoreboard {
	struct sb_header	*sb_hdr;
	struct sb_slot		*sb_slot;
	size_t			 sb_size;
	unsigned		 sb_nslots;
};

/* Why a session ended, for the access log. */
enum sess_end {
	END_EXIT, END_EOF, END_TIMEOUT, END_TOOLONG, END_RESET, END_SHUTDOWN,
	END_TOOMANY,		/* MaxConnectionsPerIP */
	END_BUSY,		/* IdleTimeoutUnderLoad made room */
	END_BADPROXY,		/* no PROXY header we believe */
	END_PROGRAM,		/* Handler exec: the program ended it */
	END_MAX
};

struct session_stats {
	char		 st_client[ADDR_STRMAX];
	time_t		 st_start;
	int64_t		 st_start_ms;
	uint64_t	 st_messages;
	uint64_t	 st_in;
	uint64_t	 st_out;
	enum sess_end	 st_end;
	int		 st_unlogged;	/* a health check, or LogExclude */
	int		 st_program;	/* Handler exec: a program ran, */
	int		 st_status;	/* ... and its wait status, */
	int		 st_noexec;	/* ... or it could not be run */
};

/*
 * What a worker knows of its place: filled by the master before fork().
 */
struct worker_ctx {
	const struct config	*wc_cf;
	struct scoreboard	*wc_sb;
	int			 wc_slot;
	uint32_t		 wc_generation;
	const int		*wc_lfd;	/* listening sockets */
	int			 wc_nlfd;
	int			 wc_deathfd;	/* EOF: the master is gone */
	pid_t			 wc_master;	/* the master's pid */
	struct accept_mutex	*wc_mutex;	/* this generation's accept mutex */
	int			 wc_close[10];	/* the master's, closed in a child */
	int			 wc_nclose;
};

/*
 * A worker's own state, in the worker: what it holds, what it has been
 * told, its slot and its buffers.  The session borrows it.
 */
struct worker {
	const struct config	*w_cf;
	struct scoreboard	*w_sb;
	struct sb_slot		*w_slot;	/* written by this worker only */
	int			 w_slotno;
	uint32_t		 w_generation;
	const int		*w_lfd;		/* listening sockets */
	int			 w_nlfd;
	struct accept_state	*w_accept;	/* accept.c's own */
	int			 w_block;	/* sessions read blocking sockets */
	struct accept_mutex	*w_mutex;	/* the generation's accept mutex */
	int			 w_deathfd;	/* EOF: the master is gone */
	int			 w_wakefd;	/* read end of the self-pipe */
	int			 w_stop;	/* TERM, or the master gone */
	int			 w_finish;	/* USR1: finish, then exit */
	int			 w_orphan;	/* the master is gone */
	int			 w_reclaim;	/* USR2: close an idle session */
	int64_t			 w_beatms;	/* heartbeat interval, 0: off */
	int64_t			 w_tickms;	/* SIGALRM interval while serving */
	char			*w_in;		/* the line being read */
	size_t			 w_incap;
	char			*w_out;		/* the answer being sent */
	struct sockaddr_storage	 w_client;	/* the session's client, as */
	socklen_t		 w_clientlen;	/* admit_conn() names it */
};

/*
 * The master's listening sockets (listen.c): main.c's array of
 * cf_nlisten descriptors, and what a graceful stop, or a restart that
 * closes some of them, is doing with their accept queues.
 */
struct listeners {
	int			*ls_fd;
	int			 ls_draining;	/* graceful stop: queues first */
	int			 ls_drop_looked; /* restart: dropped ones seen */
	int			 ls_drop[MAX_LISTEN]; /* ... those with a queue */
	int			 ls_ndrop;
	int64_t			 ls_drop_by;	/* ... served until then */
};

/* One accepted connection, as the session receives it. */
struct conn {
	int			 cn_fd;
	int			 cn_listener;	/* index in cf_listen */
	struct sockaddr_storage	 cn_peer;
	socklen_t		 cn_peerlen;
};

/* config.c */
extern const char *const cf_levels[LOG_L_MAX];	/* "emerg" ... "debug" */
void	 cf_defaults(struct config *);
int	 cf_set(struct config *, const char *name, const char *value,
	    char *err, size_t errlen);
int	 cf_line(struct config *, const char *line, char *err, size_t errlen);
int	 cf_load(struct config *, const struct cmdline *, char *err,
	    size_t errlen);
int	 cf_check(struct config *, char *err, size_t errlen);
int	 cf_room(const struct config *);
void	 cf_allow_default(struct allow *);

/* handler.c */
int	 handler_parse(struct config *, const char *value, char *err,
	    size_t errlen);
int	 handler_check(const struct config *, char *err, size_t errlen);

/* log.c */
void	 log_init(int level);
int	 log_open(const struct config *, int detached, char *err, size_t);
void	 log_role(const char *name, int num);
void	 log_losses(void);
void	 log_setlevel(int);
int	 log_enabled(int level);
void	 log_msg(int level, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 log_warn(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 log_warnx(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	 fatal(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2), __noreturn__));
void	 log_access(const struct session_stats *);
int	 log_access_fd(void);
void	 log_files(int *errfd, int *accfd, const char **errpath,
	    const char **accpath);
const char *log_end_word(enum sess_end);
void	 log_wait_words(int status, char *buf, size_t len);

/* scoreboard.c */
int	 sb_create(struct scoreboard *, unsigned nslots, const char *path,
	    char *err, size_t errlen);
int	 sb_attach(struct scoreboard *, const char *path, char *err,
	    size_t errlen);
void	 sb_destroy(struct scoreboard *, const char *path);
void	 sb_set_state(struct sb_slot *, char state);
void	 sb_wake_on_demand(struct scoreboard *, int fd);
void	 sb_pool(struct scoreboard *, const struct config *);
void	 sb_max_workers(struct scoreboard *, int);
void	 sb_generation(struct scoreboard *, uint32_t gen);
void	 sb_reloaded(struct scoreboard *, const char *why);
void	 sb_reopened(struct scoreboard *, int failed);
int	 sb_room(const struct scoreboard *);
void	 sb_reap(struct scoreboard *, int slot);
void	 sb_counts(const struct scoreboard *, struct sb_counts *);
void	 sb_exit(struct scoreboard *, int status, int young, int watchdog);
void	 sb_session_end(struct sb_slot *, const struct session_stats *,
	    int64_t now_ms);
void	 sb_snapshot(const struct scoreboard *, struct st_snap *,
	    struct st_worker *);
char	*sb_path(const char *pidfile, char *buf, size_t len);

/* master.c */
int	 master_main(struct config *, const struct cmdline *, int *lfd,
	    int detached, int readyfd, int pidfd);

/* listen.c */
int	 listen_open(const struct config *, const struct config *old,
	    const int *oldfd, int *lfd, char *err, size_t errlen);
int	 listen_bind(struct config *, int *lfd, char *err, size_t errlen);
void	 listen_adopt(struct listeners *, int n, const int *nfd, int nn);
void	 listen_close(struct listeners *, int n);
void	 listen_drain(struct listeners *, int n);
int	 listen_drained(const struct listeners *, int n);
int	 listen_dropping(struct listeners *, const struct config *,
	    const struct cmdline *);
void	 listen_drop_end(struct listeners *, int n);
void	 listen_say_reset(const int *fd, int n, const char *why);

/* notify.c */
void	 notify_init(void);
void	 notify_mute(int);
void	 notify_send(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
int	 notify_enabled(void);
int	 notify_fd(void);
void	 notify_reloading(const char *why);
void	 notify_status(const struct scoreboard *);
int64_t	 notify_watchdog(int64_t now);

/* inherit.c */
int	 inherit_init(char *err, size_t errlen);
int	 inherit_apply(struct config *, int *lfd, char *err, size_t errlen);
int	 inherit_take(const struct hostport *);
const char *inherit_name(int fd);
void	 inherit_from_upgrade(void);

/* reopen.c */
int	 reopen_init(char *err, size_t errlen);
int	 reopen_master_fd(void);
short	 reopen_master_events(void);
int	 reopen_worker_fd(void);
int	 reopen_master(void);
void	 reopen_serve(void);
void	 reopen_worker(void);

/* upgrade.c */
int	 upgrade_init(int argc, char *const *argv);
int	 upgrade_pending(void);
void	 upgrade_pidfile(struct config *);
int	 upgrade_shared(void);
int	 upgrade_waiting(void);
void	 upgrade_start(struct config *, const int *lfd, int nlfd,
	    struct scoreboard *, int detached, int stopping);
int	 upgrade_reaped(pid_t, int status);
int	 upgrade_check(struct config *, struct scoreboard *, int stopping);
int	 upgrade_take(const struct config *, char *err, size_t errlen);
int	 upgrade_pidfd(void);
void	 upgrade_old_gone(void);

/* pool.c */
struct pool;
struct pool *pool_new(unsigned nslots);
void	 pool_free(struct pool *);
int	 pool_spawn(struct pool *, struct worker_ctx *);
void	 pool_reap(struct pool *, struct worker_ctx *);
void	 pool_fill(struct pool *, struct worker_ctx *, int64_t now);
void	 pool_maintain(struct pool *, struct worker_ctx *, int64_t now);
int	 pool_burst(struct pool *, struct worker_ctx *, int64_t now);
void	 pool_retire_old(struct pool *, uint32_t gen, int64_t deadline);
void	 pool_stop(struct pool *, int graceful, int64_t deadline);
void	 pool_deadlines(struct pool *, int64_t now);
void	 pool_watchdog(struct pool *, struct worker_ctx *, int64_t now);
int64_t	 pool_next_event(const struct pool *);
int	 pool_room(const struct pool *, const struct worker_ctx *);
void	 pool_shrink(struct pool *, struct worker_ctx *);
void	 pool_owe(struct pool *, int);
int	 pool_live(const struct pool *);
int	 pool_fatal(const struct pool *);
const char *pool_start_failed(const struct pool *, int tries);
void	 pool_signal(struct pool *, int sig);
pid_t	 pool_pid(const struct pool *, unsigned slot, uint32_t gen);
int	 pool_serving(const struct pool *, const struct worker_ctx *);

/* worker.c */
void	 worker_main(const struct worker_ctx *) __attribute__((__noreturn__));

/* beat.c */
void	 beat_post(const struct worker *);
int64_t	 beat_bound(const struct worker *, int64_t deadline);

/* wake.c */
int	 wake_init(struct worker *);
int	 wake_check(struct worker *);
int	 wake_pending(const struct worker *);
int	 wake_news(void);
void	 wake_orphan(struct worker *, pid_t master);
void	 wake_tick_start(struct worker *);
void	 wake_tick_wait(void);
void	 wake_tick_idle(void);
void	 wake_reopen(void);

/* accept.c */
int	 accept_check(const struct config *, char *err, size_t errlen);
struct accept_mutex *accept_mutex_new(char *err, size_t errlen);
void	 accept_mutex_free(struct accept_mutex *);
int	 accept_init(struct worker *);
int	 accept_next(struct worker *, struct conn *);
void	 accept_close(struct worker *);
int	 accept_queued(int fd);

/* exec.c */
int	 exec_init(const struct worker *);
void	 exec_run(struct worker *, const struct conn *,
	    struct session_stats *);

/* tcpinfo.c */
int	 tcpinfo_bytes(int fd, int final, uint64_t *in, uint64_t *out);

/* session.c */
int	 session_init(struct worker *);
void	 session_run(struct worker *, const struct conn *,
	    struct session_stats *);

/* admit.c */
struct linereader;
int	 admit_conn(struct worker *, const struct conn *, struct linereader *,
	    struct session_stats *);
void	 admit_leave(struct worker *);

/* bye.c */
void	 bye_error(struct worker *, int fd, const char *line, size_t len,
	    struct session_stats *);
void	 bye_linger(struct worker *, int fd, int wait);

/* limit.c: admit.c's, enter and leave */
int	 limit_enter(struct scoreboard *, int slot, const struct sockaddr *,
	    int max);
void	 limit_leave(struct scoreboard *, int slot);

/* reclaim.c */
int64_t	 reclaim_idle(const struct pool *, const struct worker_ctx *,
	    int64_t now);

/* priv.c */
int	 priv_resolve(struct config *, char *err, size_t errlen);
int	 priv_drop(const struct config *, char *err, size_t errlen);
const char *priv_ignored(const struct config *);

/* safefile.c */
int	 sf_open(const char *path, int flags, mode_t mode, char *why,
	    size_t len);
int	 sf_check(const char *path, char *why, size_t len);

/* statusd.c */
int	 status_open(const struct config *, char *err, size_t errlen);
void	 status_spawn(const struct worker_ctx *, int64_t now);
int	 status_reaped(pid_t, int status, int64_t now);
void	 status_stop(int restart);
pid_t	 status_pid(void);
void	 status_forget(void);
int	 status_listener(void);
void	 status_tick(struct scoreboard *, const struct config *,
	    const int *lfd);
int64_t	 status_next_event(void);

/* pidfile.c */
int	 pid_default(struct config *, char *err, size_t errlen);
int	 pid_made_dir(const char *dir);
int	 pid_lock(const char *path, char *err, size_t errlen);
int	 pid_write(int fd, pid_t);
void	 pid_remove(int fd, const char *path);
pid_t	 pid_running(const char *path, int *fdp);
pid_t	 pid_find(struct config *, int *fdp);
int	 pid_wait_free(int fd, int64_t deadline);

/* ctl.c */
int	 ctl_lookup(const char *word);
int	 ctl_command(struct config *, const char *word);

#endif
