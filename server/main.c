/*
 * main.c: hellod's command line, configuration check, -k dispatch, and
 * startup: pid file, logs, listeners, detaching, then the master.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"
#include "io.h"

static void	usage(FILE *, int) __attribute__((__noreturn__));
static void	die(int, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3), __noreturn__));
static int	parse_workers(const char *);
static int	detach(void);
static int	start(struct config *, const struct cmdline *, int);

static const char *kwords[] = {
	"start", "stop", "restart", "graceful", "graceful-stop", "status"
};

static void
usage(FILE *fp, int status)
{
	fprintf(fp,
"usage: hellod [-dhtV] [-C 'directive value'] [-f file]\n"
"              [-k start|stop|restart|graceful|graceful-stop|status]\n"
"              [-l addr:port] [-w workers]\n"
"  -C 'Name value'  set a directive; wins over the file (repeatable)\n"
"  -d               detach and run as a daemon\n"
"  -f file          read directives from file\n"
"  -h               print this help and exit\n"
"  -k word          signal the server named by PidFile, or print its status\n"
"  -l addr:port     listen on addr:port, [v6addr]:port or *:port (repeatable;\n"
"                   default 127.0.0.1:9999)\n"
"  -t               check the configuration and exit\n"
"  -V               print the version and exit\n"
"  -w workers       run exactly this many workers (default: 5 to start,\n"
"                   growing as needed)\n"
"Signals: TERM/INT stop, HUP restart, USR1 graceful restart,\n"
"WINCH graceful stop.  Exit status: 0 ok, 1 usage or configuration error,\n"
"2 cannot start, 3 not running (-k), 4 a worker could not start,\n"
"5 the server did not do as -k told it in time.\n");
	exit(status);
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
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		die(EXIT_CONFIG, "-w: bad value \"%s\": not a number", s);
	if (errno == ERANGE || v < 1 || v > 20000)
		die(EXIT_CONFIG, "-w: bad value \"%s\": out of range (1 to 20000)",
		    s);
	return (int)v;
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
	int p[2], status;
	pid_t pid;
	char c;
	ssize_t n;

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
	while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
	    WEXITSTATUS(status) : EXIT_STARTUP);
}

/*
 * Bring the server up: lock the pid file, open the logs, bind every
 * address, then detach if asked, write the pid and hand over to the
 * master.  Until the master runs, every error is one line on stderr.
 */
static int
start(struct config *cf, const struct cmdline *cl, int daemonize)
{
	int lfd[MAX_LISTEN], pidfd = -1, readyfd = -1, rc, devnull;
	char err[512];

	if (daemonize)
		readyfd = detach();
	if (cf->cf_pidfile[0] != '\0' &&
	    (pidfd = pid_lock(cf->cf_pidfile, err, sizeof(err))) == -1)
		die(EXIT_STARTUP, "%s", err);
	/* A server that does not start leaves no pid file behind. */
	if (master_bind(cf, lfd, err, sizeof(err)) == -1 ||
	    log_open(cf, daemonize, err, sizeof(err)) == -1) {
		pid_remove(pidfd, cf->cf_pidfile);
		die(EXIT_STARTUP, "%s", err);
	}
	if (pidfd != -1 && pid_write(pidfd, getpid()) == -1) {
		rc = errno;
		pid_remove(pidfd, cf->cf_pidfile);
		die(EXIT_STARTUP, "PidFile %s: %s", cf->cf_pidfile,
		    strerror(rc));
	}
	if (daemonize) {
		if (chdir("/") == -1 ||
		    (devnull = open("/dev/null", O_RDWR)) == -1)
			die(EXIT_STARTUP, "detach: %s", strerror(errno));
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	rc = master_main(cf, cl, lfd, daemonize, readyfd, pidfd);
	if (pidfd != -1)
		pid_remove(pidfd, cf->cf_pidfile);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct config cf;
	struct cmdline cl;
	static char listen_args[MAX_CMDLINE][ADDR_STRMAX + 8];
	static char typed[MAX_CMDLINE][MAX_PATH + 80];
	const char *kword = NULL;
	char err[1024], cwd[MAX_PATH], *file = NULL;
	int ch, daemonize = 0, test = 0, nlisten = 0;
	size_t i;

	memset(&cl, 0, sizeof(cl));
	signal(SIGPIPE, SIG_IGN);
	for (i = 1; i < (size_t)argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			usage(stdout, 0);
		else if (strcmp(argv[i], "--version") == 0) {
			printf("%s\n", SERVER_NAME);
			return 0;
		}
	while ((ch = getopt(argc, argv, "C:df:hk:l:tVw:")) != -1) {
		switch (ch) {
		case 'C':
		case 'l':
			if (cl.cl_nset == MAX_CMDLINE)
				die(EXIT_CONFIG, "too many -C and -l options");
			snprintf(typed[cl.cl_nset], sizeof(typed[0]), "-%c '%s'",
			    ch, optarg);
			cl.cl_arg[cl.cl_nset] = typed[cl.cl_nset];
			if (ch == 'l') {
				snprintf(listen_args[nlisten], sizeof(listen_args[0]),
				    "Listen %s", optarg);
				cl.cl_set[cl.cl_nset++] = listen_args[nlisten++];
			} else
				cl.cl_set[cl.cl_nset++] = optarg;
			break;
		case 'd':
			daemonize = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'k':
			for (i = 0; i < sizeof(kwords) / sizeof(kwords[0]); i++)
				if (strcmp(optarg, kwords[i]) == 0)
					kword = optarg;
			if (kword == NULL)
				die(EXIT_CONFIG, "-k: unknown command \"%s\"", optarg);
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("%s\n", SERVER_NAME);
			return 0;
		case 'w':
			cl.cl_workers = parse_workers(optarg);
			break;
		default:
			usage(stderr, EXIT_CONFIG);
		}
	}
	if (optind < argc)
		die(EXIT_CONFIG, "unexpected argument \"%s\" (see hellod -h)",
		    argv[optind]);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		die(EXIT_STARTUP, "getcwd: %s", strerror(errno));
	if (file != NULL && file[0] != '/') {
		static char absfile[MAX_PATH * 2];

		snprintf(absfile, sizeof(absfile), "%s/%s", cwd, file);
		file = absfile;
	}
	cl.cl_file = file;
	cl.cl_cwd = cwd;
	if (cf_load(&cf, &cl, err, sizeof(err)) == -1 ||
	    priv_resolve(&cf, err, sizeof(err)) == -1) {
		if (test)
			fprintf(stderr, "hellod: %s\nSyntax error\n", err);
		else
			fprintf(stderr, "hellod: %s\n", err);
		return EXIT_CONFIG;
	}
	if (test) {
		printf("Syntax OK\n");
		return 0;
	}
	if (kword != NULL && strcmp(kword, "start") != 0)
		return ctl_command(&cf, kword);
	return start(&cf, &cl, daemonize);
}
