/*
 * statustext.c: the three status texts, made from a snapshot of the
 * scoreboard: Apache mod_status "?auto" (for the tools that read it),
 * the full page for people ("apachectl fullstatus"), and Prometheus
 * text exposition format 0.0.4.  Pure: a snapshot in, text out on a
 * stream; the same text whether a status client or "hellod -k" asks.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define KBYTE		1024
#define SB_COLUMNS	64	/* scoreboard letters per line on the page */

/*
 * Upper bounds of the session-duration buckets, in seconds.  Sessions
 * range from a probe that connects and leaves (under a millisecond) to
 * a person typing (minutes); Timeout defaults to 60 seconds.
 */
const double st_bucket_le[ST_BUCKETS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300
};

const char *st_exit_word[ST_EXIT_MAX] = {
	"normal", "error", "signal", "crash_at_start", "watchdog"
};

/* The reason labels of hellod_handler_failures_total. */
const char *st_hfail_word[HFAIL_MAX] = { "exec" };

struct st_counts {
	unsigned	 busy, graceful, idle, starting, open;
	unsigned	 procs;		/* worker processes */
	/* Sessions: open now, and of them what event loops hold. */
	unsigned long	 conns, waiting, writing, closing;
};

static void	st_count(const struct st_snap *, struct st_counts *);
static void	st_time(FILE *, int64_t);
static void	st_uptime(FILE *, int64_t);
static unsigned	st_width(const struct st_snap *);
static void	st_scoreboard(const struct st_snap *, FILE *, int);
static void	st_rates(const struct st_snap *, FILE *);
static void	st_auto_workers(const struct st_counts *, FILE *);
static void	st_worker_line(const struct st_snap *, unsigned, FILE *);
static void	st_counter(FILE *, const char *, const char *,
		    unsigned long long);
static void	st_histogram(const struct st_snap *, FILE *);
static void	st_listen_queue(const struct st_snap *, FILE *);
static void	st_open_sessions(const struct st_snap *, FILE *);

/* Which bucket a session of ms milliseconds falls in (ST_BUCKETS: +Inf). */
int
st_bucket(int64_t ms)
{
	int i;

	for (i = 0; i < ST_BUCKETS; i++)
		if ((double)ms <= st_bucket_le[i] * 1000)
			return i;
	return ST_BUCKETS;
}

/*
 * Count workers the way mod_status does: idle are those of the current
 * generation waiting for a connection, busy those reading or writing,
 * graceful those finishing before they exit.
 */
static void
st_count(const struct st_snap *sn, struct st_counts *c)
{
	const struct st_worker *w;
	unsigned i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sn->sn_nslots; i++) {
		w = &sn->sn_slot[i];
		c->procs += w->sw_state != '.';
		c->conns += (unsigned long)w->sw_open;
		c->waiting += (unsigned long)w->sw_waiting;
		c->writing += (unsigned long)w->sw_writing;
		c->closing += (unsigned long)w->sw_closing;
		switch (w->sw_state) {
		case '_':
			if (w->sw_generation == sn->sn_generation)
				c->idle++;
			break;
		case 'S':
			c->starting++;
			break;
		case 'G':
			c->graceful++;
			break;
		case '.':
			c->open++;
			break;
		default:
			c->busy++;
			break;
		}
	}
}

/* Apache's DEFAULT_TIME_FORMAT, in local time. */
static void
st_time(FILE *fp, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[128];

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%A, %d-%b-%Y %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, sizeof(buf), "%lld", (long long)t);
	fputs(buf, fp);
}

/* " 1 day 2 hours 3 minutes 4 seconds", leaving out what is zero. */
static void
st_uptime(FILE *fp, int64_t secs)
{
	static const char *unit[] = { "day", "hour", "minute", "second" };
	long long v[4];
	int i;

	v[3] = secs % 60;
	v[2] = secs / 60 % 60;
	v[1] = secs / 3600 % 24;
	v[0] = secs / 86400;
	for (i = 0; i < 4; i++)
		if (v[i] != 0)
			fprintf(fp, " %lld %s%s", v[i], unit[i],
			    v[i] == 1 ? "" : "s");
}

/*
 * The scoreboard is as wide as the pool can grow: every slot below
 * MaxRequestWorkers, open or not.  Slots above it hold workers only
 * while a restart overlaps generations; then the line grows to the last
 * one in use, '.' for the open ones between, so that a letter's place
 * is always its slot (Apache leaves such open slots out instead, and
 * the places shift).
 */
static unsigned
st_width(const struct st_snap *sn)
{
	unsigned i, w = sn->sn_max_workers;

	for (i = w; i < sn->sn_nslots; i++)
		if (sn->sn_slot[i].sw_state != '.')
			w = i + 1;
	return w < sn->sn_nslots ? w : sn->sn_nslots;
}

static void
st_scoreboard(const struct st_snap *sn, FILE *fp, int wrap)
{
	unsigned i, n = 0, width = st_width(sn);

	for (i = 0; i < width; i++) {
		fputc(sn->sn_slot[i].sw_state, fp);
		if (wrap && ++n % SB_COLUMNS == 0)
			fputc('\n', fp);
	}
	if (!wrap || n % SB_COLUMNS != 0)
		fputc('\n', fp);
}

/*
 * Apache mod_status "?auto", field for field in Apache 2.4's order and
 * spelling.  An access is a session; kBytes count what sessions
 * received and sent; durations are of finished sessions, in ms.
 * hellod's own lines come just before the worker counts, so that
 * Scoreboard stays last, where scripts written for Apache 2.2 look.
 */
void
st_auto(const struct st_snap *sn, FILE *fp)
{
	int64_t up = sn->sn_now - sn->sn_restarted;
	double cpu = sn->sn_cpu[0] + sn->sn_cpu[1] + sn->sn_cpu[2] +
	    sn->sn_cpu[3];
	struct st_counts c;

	if (up < 0)
		up = 0;
	st_count(sn, &c);
	fprintf(fp, "%s\nServerVersion: %s\nServerMPM: prefork\n"
	    "Server Built: %s\nCurrentTime: ", sn->sn_host, sn->sn_version,
	    sn->sn_built);
	st_time(fp, sn->sn_now);
	fputs("\nRestartTime: ", fp);
	st_time(fp, sn->sn_restarted);
	fprintf(fp, "\nParentServerConfigGeneration: %lu\n"
	    "ParentServerMPMGeneration: %lu\nServerUptimeSeconds: %lld\n"
	    "ServerUptime:", (unsigned long)sn->sn_generation + 1,
	    (unsigned long)sn->sn_generation, (long long)up);
	st_uptime(fp, up);
	fprintf(fp, "\nLoad1: %.2f\nLoad5: %.2f\nLoad15: %.2f\n",
	    sn->sn_load[0], sn->sn_load[1], sn->sn_load[2]);
	fprintf(fp, "Total Accesses: %llu\nTotal kBytes: %llu\n"
	    "Total Duration: %llu\n", (unsigned long long)sn->sn_sessions,
	    (unsigned long long)((sn->sn_bytes_in + sn->sn_bytes_out) / KBYTE),
	    (unsigned long long)sn->sn_duration_ms);
	fprintf(fp, "CPUUser: %g\nCPUSystem: %g\nCPUChildrenUser: %g\n"
	    "CPUChildrenSystem: %g\n", sn->sn_cpu[0], sn->sn_cpu[1],
	    sn->sn_cpu[2], sn->sn_cpu[3]);
	if (cpu > 0 && up > 0)
		fprintf(fp, "CPULoad: %g\n", cpu / (double)up * 100.);
	fprintf(fp, "Uptime: %lld\n", (long long)up);
	st_rates(sn, fp);
	fprintf(fp, "ServerPid: %ld\nTotal Messages: %llu\n",
	    (long)sn->sn_master, (unsigned long long)sn->sn_messages);
	fprintf(fp, "Unlogged Accesses: %llu\n",
	    (unsigned long long)sn->sn_unlogged);
	/* The pool as TTIN and TTOU left it. */
	if (sn->sn_fixed)
		fprintf(fp, "PoolWorkers: %d\n", sn->sn_pool_size);
	else
		fprintf(fp, "MinSpareServers: %d\nMaxSpareServers: %d\n",
		    sn->sn_min_spare, sn->sn_max_spare);
	st_auto_workers(&c, fp);
	st_scoreboard(sn, fp, 0);
}

/*
 * The worker counts, then as Apache's event MPM prints them: processes,
 * those stopping, and the connections (sessions) open now, with those
 * an event loop holds idle ("keep-alive": waiting for the client's next
 * line), writing to a slow client and in the lingering close.
 */
static void
st_auto_workers(const struct st_counts *c, FILE *fp)
{
	fprintf(fp, "BusyWorkers: %u\nGracefulWorkers: %u\nIdleWorkers: %u\n",
	    c->busy, c->graceful, c->idle);
	fprintf(fp, "Processes: %u\nStopping: %u\nConnsTotal: %lu\n"
	    "ConnsAsyncWriting: %lu\nConnsAsyncKeepAlive: %lu\n"
	    "ConnsAsyncClosing: %lu\nScoreboard: ", c->procs, c->graceful,
	    c->conns, c->writing, c->waiting, c->closing);
}

/* ReqPerSec, BytesPerSec, BytesPerReq, DurationPerReq, when defined. */
static void
st_rates(const struct st_snap *sn, FILE *fp)
{
	int64_t up = sn->sn_now - sn->sn_restarted;
	double kb = (double)((sn->sn_bytes_in + sn->sn_bytes_out) / KBYTE);
	double n = (double)sn->sn_sessions;

	if (up > 0)
		fprintf(fp, "ReqPerSec: %g\nBytesPerSec: %g\n", n / (double)up,
		    KBYTE * kb / (double)up);
	if (n > 0)
		fprintf(fp, "BytesPerReq: %g\nDurationPerReq: %g\n",
		    KBYTE * kb / n, (double)sn->sn_duration_ms / n);
}

static void
st_worker_line(const struct st_snap *sn, unsigned i, FILE *fp)
{
	const struct st_worker *w = &sn->sn_slot[i];
	int64_t ss = sn->sn_now - w->sw_since;

	fprintf(fp, "%5u %7ld %5lu %c %7ld %7lld %9llu %9llu %12llu  %s\n", i,
	    (long)w->sw_pid, (unsigned long)w->sw_generation, w->sw_state,
	    (long)w->sw_open, (long long)(ss < 0 ? 0 : ss),
	    (unsigned long long)w->sw_sessions,
	    (unsigned long long)w->sw_messages,
	    (unsigned long long)w->sw_bytes,
	    w->sw_client[0] != '\0' ? w->sw_client : "-");
}

/*
 * The page for people, as "apachectl fullstatus" shows mod_status: the
 * server's figures, the scoreboard, then one line per worker.
 */
void
st_full(const struct st_snap *sn, FILE *fp)
{
	int64_t up = sn->sn_now - sn->sn_restarted;
	struct st_counts c;
	unsigned i;

	st_count(sn, &c);
	fprintf(fp, "hellod status for %s (pid %ld)\n\n"
	    "Server Version: %s\nServer MPM: prefork\nServer Built: %s\n"
	    "Current Time: ", sn->sn_host, (long)sn->sn_master,
	    sn->sn_version, sn->sn_built);
	st_time(fp, sn->sn_now);
	fputs("\nRestart Time: ", fp);
	st_time(fp, sn->sn_restarted);
	fprintf(fp, "\nParent Server Config. Generation: %lu\n"
	    "Parent Server MPM Generation: %lu\nServer uptime:",
	    (unsigned long)sn->sn_generation + 1,
	    (unsigned long)sn->sn_generation);
	st_uptime(fp, up < 0 ? 0 : up);
	fprintf(fp, "\nServer load: %.2f %.2f %.2f\n", sn->sn_load[0],
	    sn->sn_load[1], sn->sn_load[2]);
	fprintf(fp, "Total sessions: %llu - Total messages: %llu - "
	    "Total traffic: %llu kB in, %llu kB out\n",
	    (unsigned long long)sn->sn_sessions,
	    (unsigned long long)sn->sn_messages,
	    (unsigned long long)(sn->sn_bytes_in / KBYTE),
	    (unsigned long long)(sn->sn_bytes_out / KBYTE));
	fprintf(fp, "%u session%s being served, %u worker%s finishing, "
	    "%u idle worker%s, %u starting\n", c.busy, c.busy == 1 ? "" :
	    "s", c.graceful, c.graceful == 1 ? "" : "s", c.idle, c.idle == 1 ?
	    "" : "s", c.starting);
	fprintf(fp, "%lu session%s open: %lu waiting for a line in an event "
	    "loop, %lu writing, %lu closing\n\n", c.conns, c.conns == 1 ? "" :
	    "s", c.waiting, c.writing, c.closing);
	st_scoreboard(sn, fp, 1);
	fputs("\nScoreboard key: \"_\" waiting for a connection, \"S\" "
	    "starting, \"R\" reading a message,\n\"W\" writing an answer, "
	    "\"G\" finishing before it exits, \".\" open slot.\n\n", fp);
	fputs(" Slot     PID   Gen M    Open      SS  Sessions  Messages        "
	    "Bytes  Client\n", fp);
	for (i = 0; i < sn->sn_nslots; i++)
		if (sn->sn_slot[i].sw_state != '.')
			st_worker_line(sn, i, fp);
	fputs("\nSlot: scoreboard slot; PID: the worker's process; Gen: its "
	    "generation;\nM: its state; Open: sessions open in it now; SS: "
	    "seconds in that state;\nSessions, Messages, Bytes: served by this "
	    "worker (bytes in and out);\nClient: the current or last client.\n",
	    fp);
}

static void
st_counter(FILE *fp, const char *name, const char *help,
    unsigned long long v)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
	    name, name, v);
}

static void
st_histogram(const struct st_snap *sn, FILE *fp)
{
	unsigned long long cum = 0;
	int i;

	fputs("# HELP hellod_session_duration_seconds How long finished "
	    "sessions lasted.\n"
	    "# TYPE hellod_session_duration_seconds histogram\n", fp);
	for (i = 0; i < ST_BUCKETS; i++) {
		cum += sn->sn_hist[i];
		fprintf(fp, "hellod_session_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", st_bucket_le[i], cum);
	}
	cum += sn->sn_hist[ST_BUCKETS];
	fprintf(fp, "hellod_session_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "hellod_session_duration_seconds_sum %llu.%03llu\n"
	    "hellod_session_duration_seconds_count %llu\n", cum,
	    (unsigned long long)(sn->sn_duration_ms / 1000),
	    (unsigned long long)(sn->sn_duration_ms % 1000), cum);
}

/*
 * The sessions open now, in all and in each worker (by slot, as the
 * scoreboard places it: a pid label would start a new series with
 * every worker the pool replaces).
 */
static void
st_open_sessions(const struct st_snap *sn, FILE *fp)
{
	struct st_counts c;
	unsigned i;

	st_count(sn, &c);
	fprintf(fp, "# HELP hellod_sessions_open Sessions open now, by what "
	    "they wait for: all, idle in an event loop till the client's "
	    "line, writing to the client, closing.\n"
	    "# TYPE hellod_sessions_open gauge\n"
	    "hellod_sessions_open{state=\"all\"} %lu\n"
	    "hellod_sessions_open{state=\"waiting\"} %lu\n"
	    "hellod_sessions_open{state=\"writing\"} %lu\n"
	    "hellod_sessions_open{state=\"closing\"} %lu\n", c.conns,
	    c.waiting, c.writing, c.closing);
	fputs("# HELP hellod_worker_sessions_open Sessions open now in each "
	    "worker, by scoreboard slot.\n"
	    "# TYPE hellod_worker_sessions_open gauge\n", fp);
	for (i = 0; i < sn->sn_nslots; i++)
		if (sn->sn_slot[i].sw_state != '.')
			fprintf(fp, "hellod_worker_sessions_open{slot=\"%u\"} "
			    "%ld\n", i, (long)sn->sn_slot[i].sw_open);
}

/* Only where the system tells the queue's length (Linux). */
static void
st_listen_queue(const struct st_snap *sn, FILE *fp)
{
	int i;

	if (sn->sn_nlisten == 0)
		return;
	fputs("# HELP hellod_listen_queue Connections waiting in a listening "
	    "socket's accept queue.\n# TYPE hellod_listen_queue gauge\n", fp);
	for (i = 0; i < sn->sn_nlisten; i++)
		fprintf(fp, "hellod_listen_queue{listen=\"%s\"} %ld\n",
		    sn->sn_listen[i].sl_addr, sn->sn_listen[i].sl_queue);
}

/* Prometheus text exposition format 0.0.4. */
void
st_metrics(const struct st_snap *sn, FILE *fp)
{
	static const struct { const char *name; char state; } states[] = {
		{ "starting", 'S' }, { "idle", '_' }, { "reading", 'R' },
		{ "writing", 'W' }, { "finishing", 'G' }
	};
	unsigned n, i;
	size_t k;

	st_counter(fp, "hellod_sessions_total", "Sessions accepted.",
	    sn->sn_sessions);
	st_counter(fp, "hellod_unlogged_sessions_total", "Sessions kept out "
	    "of the access log: health checks and LogExclude clients.",
	    sn->sn_unlogged);
	st_counter(fp, "hellod_messages_total", "Messages answered.",
	    sn->sn_messages);
	st_counter(fp, "hellod_bytes_received_total", "Bytes received from "
	    "clients.", sn->sn_bytes_in);
	st_counter(fp, "hellod_bytes_sent_total", "Bytes sent to clients.",
	    sn->sn_bytes_out);
	fputs("# HELP hellod_workers Worker processes by state.\n"
	    "# TYPE hellod_workers gauge\n", fp);
	for (k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		for (n = 0, i = 0; i < sn->sn_nslots; i++)
			n += sn->sn_slot[i].sw_state == states[k].state;
		fprintf(fp, "hellod_workers{state=\"%s\"} %u\n", states[k].name,
		    n);
	}
	fputs("# HELP hellod_worker_exits_total Workers that ended, by why.\n"
	    "# TYPE hellod_worker_exits_total counter\n", fp);
	for (i = 0; i < ST_EXIT_MAX; i++)
		fprintf(fp, "hellod_worker_exits_total{reason=\"%s\"} %llu\n",
		    st_exit_word[i], (unsigned long long)sn->sn_exits[i]);
	fputs("# HELP hellod_handler_failures_total Sessions a handler "
	    "failed, by why.\n# TYPE hellod_handler_failures_total counter\n",
	    fp);
	for (i = 0; i < HFAIL_MAX; i++)
		fprintf(fp, "hellod_handler_failures_total{reason=\"%s\"} "
		    "%llu\n", st_hfail_word[i],
		    (unsigned long long)sn->sn_hfail[i]);
	fprintf(fp, "# HELP hellod_generation Restarts since the server "
	    "started.\n# TYPE hellod_generation gauge\nhellod_generation %lu\n",
	    (unsigned long)sn->sn_generation);
	fprintf(fp, "# HELP hellod_start_time_seconds When the server started, "
	    "in seconds since the epoch.\n# TYPE hellod_start_time_seconds "
	    "gauge\nhellod_start_time_seconds %lld\n",
	    (long long)sn->sn_started);
	st_open_sessions(sn, fp);
	fprintf(fp, "# HELP hellod_max_request_workers The MaxRequestWorkers "
	    "setting.\n# TYPE hellod_max_request_workers gauge\n"
	    "hellod_max_request_workers %u\n", sn->sn_max_workers);
	st_histogram(sn, fp);
	st_listen_queue(sn, fp);
}
