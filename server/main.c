/*
 * main.c: hellod's command line, configuration check, -k dispatch, and
 * startup: pid file, logs, listeners, detaching, then the master.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"
#include "num.h"
#include "opt.h"

#define SYNOPSIS \
"usage: hellod [-dhtV] [-C 'directive value'] [-f file] [-k word]\n" \
"              [-l addr:port] [-w workers]\n"

/*
 * The builds of make install and make deb read the installed file when
 * given no -f, as httpd reads its compiled-in one, so that "hellod -t"
 * and "hellod -k" act on the installed server; the in-tree build reads
 * no file unless told.
 */
#ifdef HELLOD_CONF
#define CONF_HELP "\n                   (default " HELLOD_CONF ")"
#else
#define CONF_HELP ""
#endif

/* What the command line asks for, besides its directives. */
struct options {
	struct cmdline	 op_cl;
	const char	*op_file;	/* -f, or NULL */
	const char	*op_kword;	/* -k, or NULL */
	int		 op_daemonize;	/* -d */
	int		 op_test;	/* -t */
};

static void	usage(void) __attribute__((__noreturn__));
static void	usage_error(const char *) __attribute__((__noreturn__));
static void	die(int, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3), __noreturn__));
static void	parse_options(int, char **, struct options *);
static void	add_directive(struct options *, int, const char *);
static int	parse_workers(const char *);
static int	check_paths(const struct config *, char *, size_t);
static int	check_config(const struct config *);
static int	detach(void);
static void	syslog_check(const struct config *);
static void	die_bind(const struct config *, const char *)
		    __attribute__((__noreturn__));
static void	detach_wait(int, pid_t) __attribute__((__noreturn__));
static int	start(struct config *, const struct cmdline *, int);

/* -h, --help: the whole help on standard output. */
static void
usage(void)
{
	printf(SYNOPSIS
"  -C 'Name value'  set a directive; wins over the file (repeatable)\n"
"  -d               detach and run as a daemon\n"
"  -f file          read directives from file" CONF_HELP "\n"
"  -h, --help       print this help and exit\n"
"  -k word          signal the server named by PidFile, or print its status:\n"
"                   start, stop, restart, graceful, graceful-stop, upgrade,\n"
"                   reopen, status or fullstatus\n"
"  -l addr:port     listen on addr:port, [v6addr]:port or *:port (repeatable;\n"
"                   default 127.0.0.1:9999)\n"
"  -t               check the configuration and exit\n"
"  -V, --version    print the version and exit\n"
"  -w workers       run exactly this many workers (default: 5 to start,\n"
"                   growing as needed)\n"
"Options may come in any order; -- ends them.\n"
"Signals: TERM/INT stop, HUP restart, USR1 graceful restart,\n"
"WINCH graceful stop, USR2 upgrade the binary, URG reopen the logs,\n"
"TTIN/TTOU one worker more/fewer (or spare bounds +/-1).  Exit status:\n"
"0 ok, 1 configuration error, 2 cannot start, 3 not running (-k),\n"
"4 a worker could not start, 5 the server did not do as -k told it,\n"
"6 a system error, 7 not permitted (-k), 8 usage error.\n");
	exit(0);
}

/* A usage error: why, the synopsis, and where the help is. */
static void
usage_error(const char *why)
{
	fprintf(stderr, "hellod: %s\n" SYNOPSIS
	    "Try 'hellod -h' for more information.\n", why);
	exit(EXIT_USAGE);
}

/*
 * A detached server whose error log is syslog (ErrorLog syslog, or
 * stderr, which a daemon has not) writes every message to the local
 * syslog socket; on a host without one they are all lost, silently.
 * Say so while there is still a terminal to say it on.
 */
static void
syslog_check(const struct config *cf)
{
	struct stat st;

	if (strcmp(cf->cf_errorlog, "syslog") != 0 &&
	    strcmp(cf->cf_errorlog, "stderr") != 0)
		return;
	if (stat(SYSLOG_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
		return;
	log_warnx("warning: a daemon's ErrorLog %s goes to syslog, and there "
	    "is no syslog socket at %s: its messages will be lost (name a "
	    "file instead)", cf->cf_errorlog, SYSLOG_SOCKET);
}

/*
 * The listeners cannot be bound: when that is because this server runs
 * already (a live master holds its PidFile), say that first.
 */
static void
die_bind(const struct config *cf, const char *err)
{
	pid_t pid;

	if (cf->cf_pidfile[0] != '\0' &&
	    (pid = pid_running(cf->cf_pidfile, NULL)) > 0)
		die(EXIT_STARTUP, "already running (pid %ld): %s", (long)pid,
		    err);
	die(EXIT_STARTUP, "%s", err);
}

/* A startup error: one line on stderr, as errx(3) prints it, and exit. */
static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hellod: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static int
parse_workers(const char *s)
{
	char err[300];
	long long v;
	int rc;

	if ((rc = num_parse(s, 1, 20000, &v)) != NUM_OK) {
		num_error(err, sizeof(err), rc, "-w", s, 1, 20000);
		usage_error(err);
	}
	return (int)v;
}

/*
 * Keep -C 'Name value' or -l addr as a directive of the command line,
 * with the words as typed for error messages.
 */
static void
add_directive(struct options *op, int ch, const char *arg)
{
	static char listen_args[MAX_CMDLINE][ADDR_STRMAX + 8];
	static char typed[MAX_CMDLINE][MAX_PATH + 80];
	struct cmdline *cl = &op->op_cl;
	int n = cl->cl_nset;

	if (n == MAX_CMDLINE)
		usage_error("too many -C and -l options");
	snprintf(typed[n], sizeof(typed[0]), "-%c '%s'", ch, arg);
	cl->cl_arg[n] = typed[n];
	if (ch == 'l') {
		snprintf(listen_args[n], sizeof(listen_args[0]), "Listen %s",
		    arg);
		cl->cl_set[n] = listen_args[n];
	} else
		cl->cl_set[n] = arg;
	cl->cl_nset++;
}

/* Read the options, in any order, into op. */
static void
parse_options(int argc, char **argv, struct options *op)
{
	char err[300];
	struct opt o;
	int ch;

	memset(op, 0, sizeof(*op));
	opt_init(&o, argc, argv);
	while ((ch = opt_next(&o, "C:df:hk:l:tVw:", opt_std_longs)) != -1) {
		switch (ch) {
		case 'C':
		case 'l':
			add_directive(op, ch, o.o_arg);
			break;
		case 'd':
			op->op_daemonize = 1;
			break;
		case 'f':
			op->op_file = o.o_arg;
			break;
		case 'h':
			usage();
		case 'k':
			if (ctl_lookup(o.o_arg) == -1) {
				snprintf(err, sizeof(err), "-k: unknown command "
				    "\"%.200s\"", o.o_arg);
				usage_error(err);
			}
			op->op_kword = o.o_arg;
			break;
		case 't':
			op->op_test = 1;
			break;
		case 'V':
			printf("hellod %s\n", VERSION);
			exit(0);
		case 'w':
			op->op_cl.cl_workers = parse_workers(o.o_arg);
			break;
		default:
			usage_error(o.o_err);
		}
	}
	if (o.o_nargs > 0) {
		snprintf(err, sizeof(err), "unexpected argument \"%.200s\"",
		    o.o_args[0]);
		usage_error(err);
	}
}

/*
 * What a start would find out too late: a log or the pid file that
 * cannot be created, or that safefile.c would refuse (a link, a
 * directory another user can write).  Creating nothing, check each file
 * if it exists, else that its directory lets us create it.  The
 * scoreboard (PidFile.scoreboard) lives next to the pid file.  A pid
 * file's directory that pid_open() makes (/run/hellod, a user's own)
 * is checked by its parent.  Return 0, or -1 with err naming the
 * directive and the path.
 */
static int
check_paths(const struct config *cf, char *err, size_t errlen)
{
	const struct {
		const char	*what;
		const char	*path;
	} files[] = {
		{ "PidFile", cf->cf_pidfile },
		{ "ErrorLog", cf->cf_errorlog },
		{ "CustomLog", cf->cf_customlog },
	};
	char why[MAX_PATH + 128], dir[MAX_PATH];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		/*
		 * "", "stderr" and "syslog" name no file; cf_absolute()
		 * made every path absolute.
		 */
		if (files[i].path[0] != '/' ||
		    sf_check(files[i].path, why, sizeof(why)) == 0)
			continue;
		snprintf(dir, sizeof(dir), "%s", files[i].path);
		*strrchr(dir, '/') = '\0';
		if (i == 0 && errno == ENOENT && pid_made_dir(dir) &&
		    sf_check(dir, why, sizeof(why)) == 0)
			continue;
		snprintf(err, errlen, "%s %s: %s", files[i].what,
		    files[i].path, why);
		return -1;
	}
	return 0;
}

/*
 * hellod -t: what a start checks, short of binding, forking and
 * creating files.  Errors and warnings go to stderr, as httpd -t and
 * nginx -t print them.  Return the exit status.
 */
static int
check_config(const struct config *cf)
{
	char err[MAX_PATH + 256];
	const char *ignored;

	if (check_paths(cf, err, sizeof(err)) == -1 ||
	    accept_check(cf, err, sizeof(err)) == -1) {
		fprintf(stderr, "hellod: %s\nSyntax error\n", err);
		return EXIT_CONFIG;
	}
	if ((ignored = priv_ignored(cf)) != NULL)
		fprintf(stderr, "hellod: warning: %s ignored: not running as "
		    "root\n", ignored);
	fprintf(stderr, "Syntax OK\n");
	return 0;
}

/*
 * Become a daemon: fork, and let the parent wait until the child says the
 * server is up (exit 0) or dies trying (exit with its status), so that
 * "hellod -d" returns only once it is known to work.  The child starts a
 * new session and keeps stderr for startup errors until it is ready.
 * Return, in the child, the write end of the readiness pipe.
 */
static int
detach(void)
{
	int p[2];
	pid_t pid;

	if (pipe(p) == -1 || io_cloexec(p[0]) == -1 || io_cloexec(p[1]) == -1)
		die(EXIT_STARTUP, "pipe: %s", strerror(errno));
	switch (pid = fork()) {
	case -1:
		die(EXIT_STARTUP, "fork: %s", strerror(errno));
	case 0:
		close(p[0]);
		if (setsid() == -1)
			die(EXIT_STARTUP, "setsid: %s", strerror(errno));
		return p[1];
	}
	close(p[1]);
	detach_wait(p[0], pid);
	/* NOTREACHED */
}

/*
 * The "-d" parent: wait, bounded, for the child's word on readiness
 * fd: "R" (exit 0), or "F" and why no worker became ready (print it;
 * the child stops itself).  EOF means the child died first.  A child
 * that says nothing in time is stopped.  Exit with the child's status.
 */
static void
detach_wait(int fd, pid_t pid)
{
	int64_t deadline = io_deadline(START_WAIT_MS + 5000);
	char msg[256];
	size_t len = 0;
	ssize_t n = -1;
	int status;

	while (len < sizeof(msg) - 1 && io_wait(fd, POLLIN, deadline) > 0) {
		if ((n = read(fd, msg + len, sizeof(msg) - 1 - len)) <= 0 &&
		    (n == 0 || errno != EINTR))
			break;
		if (n > 0)
			len += (size_t)n;
	}
	msg[len] = '\0';
	if (len > 0 && msg[0] == 'R')
		_exit(0);
	if (len > 1 && msg[0] == 'F')
		fprintf(stderr, "hellod: %s\n", msg + 1);
	else if (n != 0 && len == 0) {
		fprintf(stderr, "hellod: the server was not ready within %d "
		    "seconds; stopping it\n", (START_WAIT_MS + 5000) / 1000);
		kill(pid, SIGTERM);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
	    WEXITSTATUS(status) : EXIT_STARTUP);
}

/*
 * Bring the server up: take the sockets a service manager hands over,
 * bind every other address, lock the pid file, open the logs, then
 * detach if asked, write the pid and hand over to the master.  Binding
 * comes before the lock so that a second server on a busy address says
 * so, not that the (default) pid file is taken.  Until the master runs,
 * every error is one line on stderr.
 */
static int
start(struct config *cf, const struct cmdline *cl, int daemonize)
{
	int lfd[MAX_LISTEN], pidfd = -1, readyfd = -1, rc, devnull;
	char err[512];
	const char *ignored;

	/* $LISTEN_PID names this process: before detach() forks. */
	if (inherit_init(err, sizeof(err)) == -1)
		die(EXIT_STARTUP, "%s", err);
	/*
	 * The new master of an upgrade stays its old master's child, which
	 * watches it, and takes the PidFile only once it serves.
	 */
	if (daemonize && !upgrade_pending()) {
		syslog_check(cf);
		readyfd = detach();
	}
	if (listen_bind(cf, lfd, err, sizeof(err)) == -1)
		die_bind(cf, err);
	/*
	 * With no Listen, the sockets a service manager handed over replace
	 * 127.0.0.1:9999: the default pid file is named after the first of
	 * them, where "-k ... -l" that address looks for it.
	 */
	if (cf->cf_pidfile_default && !upgrade_pending()) {
		cf->cf_pidfile[0] = '\0';
		if (pid_default(cf, err, sizeof(err)) == -1)
			die(EXIT_CONFIG, "%s", err);
	}
	if (cf->cf_pidfile[0] != '\0' && !upgrade_pending() &&
	    (pidfd = pid_lock(cf->cf_pidfile, err, sizeof(err))) == -1)
		die(EXIT_STARTUP, "%s", err);
	/* A server that does not start leaves no pid file behind. */
	if (log_open(cf, daemonize, err, sizeof(err)) == -1) {
		pid_remove(pidfd, cf->cf_pidfile);
		die(EXIT_STARTUP, "%s", err);
	}
	if (pidfd != -1 && pid_write(pidfd, getpid()) == -1) {
		rc = errno;
		pid_remove(pidfd, cf->cf_pidfile);
		die(EXIT_STARTUP, "PidFile %s: %s", cf->cf_pidfile,
		    strerror(rc));
	}
	/* As nginx does, say so rather than run as someone else silently. */
	if ((ignored = priv_ignored(cf)) != NULL)
		log_warnx("%s ignored: not running as root", ignored);
	if (daemonize) {
		if (chdir("/") == -1 ||
		    (devnull = open("/dev/null", O_RDWR)) == -1) {
			rc = errno;
			pid_remove(pidfd, cf->cf_pidfile);
			die(EXIT_STARTUP, "detach: %s", strerror(rc));
		}
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	rc = master_main(cf, cl, lfd, daemonize, readyfd, pidfd);
	if (pidfd == -1)
		pidfd = upgrade_pidfd();
	if (pidfd != -1)
		pid_remove(pidfd, cf->cf_pidfile);
	return rc;
}

int
main(int argc, char *argv[])
{
	static struct options op;
	struct config cf;
	struct cmdline *clp = &op.op_cl;
	char err[1024], cwd[MAX_PATH];
	const char *file;

	signal(SIGPIPE, SIG_IGN);
	/* A log past RLIMIT_FSIZE loses lines (EFBIG); it kills nobody. */
	signal(SIGXFSZ, SIG_IGN);
	/* USR2 executes this binary again, with these arguments. */
	(void)upgrade_init(argc, argv);
	parse_options(argc, argv, &op);
	file = op.op_file;
#ifdef HELLOD_CONF
	if (file == NULL)
		file = HELLOD_CONF;
#endif
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		die(EXIT_STARTUP, "getcwd: %s", strerror(errno));
	if (file != NULL && file[0] != '/') {
		static char absfile[MAX_PATH * 2];

		snprintf(absfile, sizeof(absfile), "%s/%s", cwd, file);
		file = absfile;
	}
	clp->cl_file = file;
	clp->cl_cwd = cwd;
	if (cf_load(&cf, clp, err, sizeof(err)) == -1 ||
	    priv_resolve(&cf, err, sizeof(err)) == -1 ||
	    handler_check(&cf, err, sizeof(err)) == -1) {
		if (op.op_test)
			fprintf(stderr, "hellod: %s\nSyntax error\n", err);
		else
			fprintf(stderr, "hellod: %s\n", err);
		return EXIT_CONFIG;
	}
	if (pid_default(&cf, err, sizeof(err)) == -1) {
		fprintf(stderr, "hellod: %s\n", err);
		return EXIT_CONFIG;
	}
	if (op.op_test)
		return check_config(&cf);
	if (op.op_kword != NULL && strcmp(op.op_kword, "start") != 0)
		return ctl_command(&cf, op.op_kword);
	upgrade_pidfile(&cf);
	return start(&cf, clp, op.op_daemonize);
}
