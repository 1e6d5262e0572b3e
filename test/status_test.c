/*
 * status_test.c: drive the status listener's pure pieces from bats.
 *
 *   status_test req [-s N] < request
 *	parse standard input as a request head, offering the parser the
 *	first N bytes, then 2N, ... (default: all at once), as a client's
 *	reads would; print the verdict and the request's parts.  The
 *	verdict must not depend on N: the whole input is parsed at once
 *	too, and a difference is an error (exit 1).
 *   status_test text auto|full|metrics
 *	print one text of a fixed snapshot (run it with TZ=UTC).
 *   status_test race N
 *	a child plays the master N times: a worker in slot 0 serves a
 *	session, then is reaped (sb_reap folds its count into the totals).
 *	Meanwhile the parent takes snapshots and checks that the session
 *	count never goes backwards and never passes N.  Print "ok" and the
 *	number of snapshots, or where the count fell.
 */
#include <sys/wait.h>

#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "status.h"

#define INMAX	(64 * 1024)

static char in[INMAX];

static int	do_req(int, char **);
static int	do_text(const char *);
static void	print_req(int, const struct rq_request *);
static int	do_race(long);

static void
print_req(int r, const struct rq_request *rq)
{
	static const char *m[] = { "GET", "HEAD", "OTHER" };

	printf("%d", r);
	if (r == RQ_OK) {
		printf(" %s path=%.*s", m[rq->rq_method], (int)rq->rq_pathlen,
		    rq->rq_path);
		if (rq->rq_query != NULL)
			printf(" query=%.*s", (int)rq->rq_querylen,
			    rq->rq_query);
		printf(" minor=%d head=%zu", rq->rq_minor, rq->rq_headlen);
	}
	putchar('\n');
}

static int
do_req(int argc, char **argv)
{
	struct rq_request rq, whole;
	size_t len = 0, step = 0, k;
	ssize_t n;
	int r = RQ_MORE, rw;

	if (argc == 2 && strcmp(argv[0], "-s") == 0)
		step = strtoul(argv[1], NULL, 10);
	while ((n = read(0, in + len, sizeof(in) - len)) > 0)
		len += (size_t)n;
	if (step == 0)
		step = len > 0 ? len : 1;
	for (k = step < len ? step : len; ; k += step) {
		if (k > len)
			k = len;
		if ((r = rq_parse(in, k, &rq)) != RQ_MORE || k == len)
			break;
	}
	rw = rq_parse(in, len, &whole);
	print_req(r, &rq);
	if (rw != r) {
		printf("whole input says %d\n", rw);
		return 1;
	}
	return 0;
}

static int
do_text(const char *which)
{
	static struct st_worker w[6];
	struct st_snap sn;

	memset(&sn, 0, sizeof(sn));
	snprintf(sn.sn_host, sizeof(sn.sn_host), "example.org");
	snprintf(sn.sn_version, sizeof(sn.sn_version), "hellod/1.2.3");
	snprintf(sn.sn_built, sizeof(sn.sn_built), "Nov 27 2026 09:00:00");
	sn.sn_started = 1795770000;
	sn.sn_restarted = sn.sn_started + 3600;
	sn.sn_now = sn.sn_restarted + 90061;	/* 1 day 1 h 1 min 1 s */
	sn.sn_master = 4242;
	sn.sn_generation = 2;
	sn.sn_max_workers = 4;
	sn.sn_min_spare = 1;
	sn.sn_max_spare = 3;
	sn.sn_sessions = 1000;
	sn.sn_messages = 5000;
	sn.sn_bytes_in = 40000;
	sn.sn_bytes_out = 80960;
	sn.sn_duration_ms = 123456;
	sn.sn_hist[0] = 10;
	sn.sn_hist[6] = 900;
	sn.sn_hist[ST_BUCKETS] = 85;
	sn.sn_exits[ST_EXIT_NORMAL] = 3;
	sn.sn_exits[ST_EXIT_CRASH_START] = 1;
	sn.sn_cpu[0] = 1.5;
	sn.sn_cpu[1] = 0.25;
	sn.sn_cpu[2] = 10;
	sn.sn_cpu[3] = 2.25;
	sn.sn_load[0] = 0.5;
	sn.sn_load[1] = 0.25;
	sn.sn_load[2] = 0.125;
	sn.sn_nlisten = 1;
	snprintf(sn.sn_listen[0].sl_addr, sizeof(sn.sn_listen[0].sl_addr),
	    "127.0.0.1:9999");
	sn.sn_listen[0].sl_queue = 3;
	sn.sn_nslots = 6;
	sn.sn_slot = w;
	w[0] = (struct st_worker){ 101, 2, '_', sn.sn_now - 5, 10, 50, 900, "",
	    0, 0, 0, 0 };
	w[1] = (struct st_worker){ 102, 2, 'W', sn.sn_now - 1, 7, 3, 120,
	    "127.0.0.1:50000", 1, 0, 0, 0 };
	w[2] = (struct st_worker){ 0, 0, '.', 0, 0, 0, 0, "", 0, 0, 0, 0 };
	/* An event worker, full: 40 sessions, 37 of them idle. */
	w[3] = (struct st_worker){ 103, 2, 'R', sn.sn_now, 1, 0, 0,
	    "[::1]:40000", 40, 37, 2, 1 };
	w[4] = (struct st_worker){ 99, 1, 'G', sn.sn_now - 30, 4, 8, 64,
	    "10.0.0.1:1234", 1, 0, 0, 0 };
	w[5] = (struct st_worker){ 0, 0, '.', 0, 0, 0, 0, "", 0, 0, 0, 0 };
	if (strcmp(which, "auto") == 0)
		st_auto(&sn, stdout);
	else if (strcmp(which, "full") == 0)
		st_full(&sn, stdout);
	else if (strcmp(which, "metrics") == 0)
		st_metrics(&sn, stdout);
	else
		return 2;
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
do_race(long n)
{
	static struct st_worker w[4];
	struct scoreboard sb;
	struct st_snap sn;
	uint64_t last = 0;
	long snaps = 0, i;
	char err[256];
	int status;
	pid_t pid;

	if (sb_create(&sb, 4, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "status_test: %s\n", err);
		return 2;
	}
	if ((pid = fork()) == 0) {
		for (i = 0; i < n; i++) {
			sb.sb_slot[0].ss_state = SB_WAITING;
			sb.sb_slot[0].ss_sessions = 1;
			sb_reap(&sb, 0);
		}
		_exit(0);
	}
	do {
		sb_snapshot(&sb, &sn, w);
		snaps++;
		if (sn.sn_sessions < last || sn.sn_sessions > (uint64_t)n) {
			printf("count went from %llu to %llu\n",
			    (unsigned long long)last,
			    (unsigned long long)sn.sn_sessions);
			kill(pid, SIGKILL);
			return 1;
		}
		last = sn.sn_sessions;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	sb_snapshot(&sb, &sn, w);
	printf("ok %llu after %ld snapshots\n",
	    (unsigned long long)sn.sn_sessions, snaps);
	return sn.sn_sessions == (uint64_t)n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "req") == 0)
		return do_req(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[1], "text") == 0)
		return do_text(argv[2]);
	if (argc == 3 && strcmp(argv[1], "race") == 0)
		return do_race(atol(argv[2]));
	fprintf(stderr, "usage: status_test req [-s N] | text auto|full|metrics\n");
	return 2;
}
