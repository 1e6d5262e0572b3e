/*
 * config.c: directives from a file and the command line into a struct
 * config.  Parsing is pure: errors come back as text for the caller to
 * print or log, so a bad reload can be reported and ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hellod.h"
#include "num.h"

enum cf_type { T_INT, T_LONG, T_STR, T_LISTEN, T_FRAMING, T_LOGLEVEL,
	T_ACCEPT, T_ONOFF, T_ALLOWS, T_ADDR, T_HANDLER };

/*
 * One directive.  Each takes one value: one word, or one double-quoted
 * string that may hold blanks (see cf_value()); a list is one line per
 * item, as Listen is, except that the address range lists (T_ALLOWS:
 * LogExclude, ProxyAllow, StatusAllow) also take several ranges on one
 * line, as Apache's "Require ip" does.
 */
struct directive {
	const char	*d_name;
	enum cf_type	 d_type;
	size_t		 d_off;
	long		 d_min;
	long		 d_max;
	size_t		 d_size;	/* T_STR: the field's size */
};

#define OFF(f)	offsetof(struct config, f)
#define STR(f)	T_STR, OFF(f), 0, 0, sizeof(((struct config *)0)->f)

static const struct directive directives[] = {
	{ "AcceptMutex",		T_ACCEPT, OFF(cf_accept), 0, 0, 0 },
	{ "CustomLog",			STR(cf_customlog) },
	{ "ErrorLog",			STR(cf_errorlog) },
	{ "Framing",			T_FRAMING, OFF(cf_framing), 0, 0, 0 },
	{ "GracefulShutdownTimeout",	T_INT, OFF(cf_graceful_timeout), 0, 86400, 0 },
	{ "Group",			STR(cf_group) },
	{ "Handler",			T_HANDLER, 0, 0, 0, 0 },
	{ "IdleTimeoutUnderLoad",	T_INT, OFF(cf_idle_under_load), 0, 86400, 0 },
	{ "LineTimeout",		T_INT, OFF(cf_line_timeout), 0, 86400, 0 },
	{ "Listen",			T_LISTEN, 0, 0, 0, 0 },
	{ "ListenBacklog",		T_INT, OFF(cf_backlog), 1, 65535, 0 },
	{ "LogExclude",			T_ALLOWS, OFF(cf_log_exclude), 0, 0, 0 },
	{ "LogLevel",			T_LOGLEVEL, OFF(cf_loglevel), 0, 0, 0 },
	{ "MaxConnectionsPerChild",	T_LONG, OFF(cf_max_conn_child), 0, INT_MAX, 0 },
	{ "MaxConnectionsPerIP",	T_INT, OFF(cf_max_per_ip), 0, 20000, 0 },
	{ "MaxLineLength",		T_LONG, OFF(cf_max_line), 1, 1048576, 0 },
	{ "MaxRequestWorkers",		T_INT, OFF(cf_max_workers), 1, 20000, 0 },
	{ "MaxSessionAgeUnderLoad",	T_INT, OFF(cf_age_under_load), 0, 86400, 0 },
	{ "MaxSpareServers",		T_INT, OFF(cf_max_spare), 1, 20000, 0 },
	{ "MinSpareServers",		T_INT, OFF(cf_min_spare), 1, 20000, 0 },
	{ "PidFile",			STR(cf_pidfile) },
	{ "ProxyAllow",			T_ALLOWS, OFF(cf_proxy_allow), 0, 0, 0 },
	{ "ProxyProtocol",		T_ONOFF, OFF(cf_proxy), 0, 0, 0 },
	{ "ReplyDelay",			T_INT, OFF(cf_reply_delay), 0, 3600000, 0 },
	{ "ServerLimit",		T_INT, OFF(cf_server_limit), 1, 20000, 0 },
	{ "StatusAllow",		T_ALLOWS, OFF(cf_status_allow), 0, 0, 0 },
	{ "StatusListen",		T_ADDR, OFF(cf_status), 0, 0, 0 },
	{ "StartServers",		T_INT, OFF(cf_start_servers), 1, 20000, 0 },
	{ "Timeout",			T_INT, OFF(cf_timeout), 1, 86400, 0 },
	{ "UpgradeTimeout",		T_INT, OFF(cf_upgrade_timeout), 1, 86400, 0 },
	{ "User",			STR(cf_user) },
	{ "WorkerTimeout",		T_INT, OFF(cf_worker_timeout), 0, 86400, 0 },
};

/* Framing values, in enum framing order. */
static const char *const framing_words[] = { "line", "raw" };
/* ProxyProtocol values: on is the first. */
static const char *const onoff_words[] = { "on", "off" };
/* AcceptMutex values, in enum accept_mech order. */
static const char *const accept_words[] = { "default", "epoll", "pthread" };
_Static_assert(sizeof(accept_words) / sizeof(accept_words[0]) == ACCEPT_MAX,
    "one word per enum accept_mech");

/* The LogLevel words, also the level names log.c prints. */
const char *const cf_levels[LOG_L_MAX] = {
	"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"
};
_Static_assert(sizeof(cf_levels) / sizeof(cf_levels[0]) == LOG_L_MAX,
    "one LogLevel word for each level");

/* cf_word() on a table of words, within cf_apply(). */
#define CF_WORD(words)	cf_word(d, value, (words), \
			    sizeof(words) / sizeof((words)[0]), err, errlen)

static int	cf_number(const struct directive *, const char *, long *,
		    char *, size_t);
static int	cf_string(const struct directive *, char *, const char *,
		    char *, size_t);
static int	cf_listen(struct config *, const char *, char *, size_t);
static int	cf_status_listen(struct config *, struct hostport *,
		    const char *, char *, size_t);
static int	cf_word(const struct directive *, const char *,
		    const char *const *, size_t, char *, size_t);
static int	cf_apply(struct config *, const struct directive *,
		    const char *, char *, size_t);
static int	cf_allow(struct allow *, const char *, const char *, char *,
		    size_t);
static const struct directive *cf_find(const char *);
static int	cf_value(const struct directive *, const char *, char *,
		    size_t, char *, size_t);
static int	cf_getline(FILE *, char *, char *, size_t);
static int	cf_file(struct config *, const char *, char *, size_t);
static int	cf_absolute(struct config *, const char *, char *, size_t);
static int	cf_status_check(struct config *, char *, size_t);
static int	cf_limit_check(const struct config *, char *, size_t);

/* Fill in every default of hellod.conf(5); Listen stays empty until the end. */
void
cf_defaults(struct config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->cf_start_servers = 5;
	cf->cf_min_spare = 5;
	cf->cf_max_spare = 10;
	cf->cf_max_workers = 256;
	cf->cf_backlog = 511;
	cf->cf_timeout = 60;
	cf->cf_graceful_timeout = 30;
	cf->cf_upgrade_timeout = 30;
	cf->cf_max_line = 1024;
	cf->cf_framing = FRAMING_LINE;
	cf->cf_loglevel = LOG_L_NOTICE;
	snprintf(cf->cf_errorlog, sizeof(cf->cf_errorlog), "stderr");
	cf->cf_line_timeout = 10;
	cf->cf_idle_under_load = 5;
	cf->cf_age_under_load = 60;
}

static int
cf_number(const struct directive *d, const char *value, long *out,
    char *err, size_t errlen)
{
	long long v;
	int rc;

	if ((rc = num_parse(value, d->d_min, d->d_max, &v)) != NUM_OK) {
		num_error(err, errlen, rc, d->d_name, value, d->d_min,
		    d->d_max);
		return -1;
	}
	*out = (long)v;
	return 0;
}

/* T_STR: a file or user name, to be copied into field. */
static int
cf_string(const struct directive *d, char *field, const char *value,
    char *err, size_t errlen)
{
	/* A name of blanks only names no file and no user. */
	if (value[0] != '\0' && value[strspn(value, " \t")] == '\0') {
		snprintf(err, errlen, "%s: bad value \"%s\": only blanks",
		    d->d_name, value);
		return -1;
	}
	if (strlen(value) >= d->d_size) {
		snprintf(err, errlen, "%s: value too long", d->d_name);
		return -1;
	}
	memcpy(field, value, strlen(value) + 1);
	return 0;
}

/* T_LISTEN: one more address to listen on. */
static int
cf_listen(struct config *cf, const char *value, char *err, size_t errlen)
{
	if (cf->cf_nlisten == MAX_LISTEN) {
		snprintf(err, errlen, "Listen: more than %d addresses",
		    MAX_LISTEN);
		return -1;
	}
	if (addr_parse(value, &cf->cf_listen[cf->cf_nlisten], err,
	    errlen) == -1)
		return -1;
	cf->cf_nlisten++;
	return 0;
}

/* T_ADDR (StatusListen): one address, or none. */
static int
cf_status_listen(struct config *cf, struct hostport *field,
    const char *value, char *err, size_t errlen)
{
	if (strcasecmp(value, "none") == 0) {
		cf->cf_has_status = 0;
		return 0;
	}
	if (addr_parse(value, field, err, errlen) == -1)
		return -1;
	cf->cf_has_status = 1;
	return 0;
}

/*
 * A directive that takes one of n words: the index of value (any case)
 * among them, or -1 with an error that lists them ("expected a, b or c").
 */
static int
cf_word(const struct directive *d, const char *value,
    const char *const *words, size_t n, char *err, size_t errlen)
{
	size_t i, len;

	for (i = 0; i < n; i++)
		if (strcasecmp(value, words[i]) == 0)
			return (int)i;
	len = (size_t)snprintf(err, errlen, "%s: bad value \"%s\": expected",
	    d->d_name, value);
	for (i = 0; i < n && len < errlen; i++)
		len += (size_t)snprintf(err + len, errlen - len, "%s%s",
		    i == 0 ? " " : i == n - 1 ? " or " : ", ", words[i]);
	return -1;
}

static int
cf_apply(struct config *cf, const struct directive *d, const char *value,
    char *err, size_t errlen)
{
	char *field = (char *)cf + d->d_off;
	long v;
	int i;

	switch (d->d_type) {
	case T_INT:
	case T_LONG:
		if (cf_number(d, value, &v, err, errlen) == -1)
			return -1;
		if (d->d_type == T_INT)
			*(int *)(void *)field = (int)v;
		else
			*(long *)(void *)field = v;
		return 0;
	case T_STR:
		return cf_string(d, field, value, err, errlen);
	case T_LISTEN:
		return cf_listen(cf, value, err, errlen);
	case T_ADDR:
		return cf_status_listen(cf, (struct hostport *)(void *)field,
		    value, err, errlen);
	case T_FRAMING:
		if ((i = CF_WORD(framing_words)) == -1)
			return -1;
		cf->cf_framing = i == 0 ? FRAMING_LINE : FRAMING_RAW;
		return 0;
	case T_ACCEPT:
		if ((i = CF_WORD(accept_words)) == -1)
			return -1;
		cf->cf_accept = (enum accept_mech)i;
		return 0;
	case T_LOGLEVEL:
		if ((i = CF_WORD(cf_levels)) == -1)
			return -1;
		cf->cf_loglevel = i;
		return 0;
	case T_ONOFF:
		if ((i = CF_WORD(onoff_words)) == -1)
			return -1;
		*(int *)(void *)field = i == 0;
		return 0;
	case T_ALLOWS:
		return cf_allow((struct allow *)(void *)field, d->d_name, value,
		    err, errlen);
	case T_HANDLER:
		return handler_parse(cf, value, err, errlen);
	}
	return -1;
}

/* Return the directive called name (any case), or NULL. */
static const struct directive *
cf_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (strcasecmp(name, directives[i].d_name) == 0)
			return &directives[i];
	return NULL;
}

/*
 * Add the address ranges of value to al: one (ProxyAllow), or several
 * separated by blanks (StatusAllow, as Apache's "Require ip" takes
 * them).  Return 0, or -1 with a reason naming the directive in err.
 */
static int
cf_allow(struct allow *al, const char *name, const char *value, char *err,
    size_t errlen)
{
	char word[CIDR_STRMAX], msg[256];
	const char *p = value, *e;

	while (*p != '\0') {
		for (e = p; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		if ((size_t)(e - p) >= sizeof(word)) {
			snprintf(err, errlen, "%s: bad address range \"%.*s\"",
			    name, (int)(e - p), p);
			return -1;
		}
		memcpy(word, p, (size_t)(e - p));
		word[e - p] = '\0';
		if (al->al_n == MAX_ALLOW) {
			snprintf(err, errlen, "%s: more than %d address ranges",
			    name, MAX_ALLOW);
			return -1;
		}
		if (cidr_parse(word, &al->al_net[al->al_n], msg,
		    sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s: %s", name, msg);
			return -1;
		}
		al->al_n++;
		for (p = e; isspace((unsigned char)*p); p++)
			;
	}
	return 0;
}

/* An empty list means the default, loopback: 127.0.0.0/8 and ::1. */
void
cf_allow_default(struct allow *al)
{
	char err[64];

	if (al->al_n > 0)
		return;
	(void)cidr_parse("127.0.0.0/8", &al->al_net[0], err, sizeof(err));
	(void)cidr_parse("::1", &al->al_net[1], err, sizeof(err));
	al->al_n = 2;
}

/*
 * Set directive name (any case) to value, taken as it is.  Return 0,
 * or -1 with a reason that names the directive in err.
 */
int
cf_set(struct config *cf, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct directive *d;

	if ((d = cf_find(name)) == NULL) {
		snprintf(err, errlen, "unknown directive \"%s\"", name);
		return -1;
	}
	if (*value == '\0') {
		snprintf(err, errlen, "%s: missing value", d->d_name);
		return -1;
	}
	return cf_apply(cf, d, value, err, errlen);
}

/*
 * Copy the value of directive d from the text v (past the name) into
 * buf.  The value is one word, or a double-quoted string that may hold
 * blanks.  After it, a '#' that follows a blank starts a comment (so
 * "User #1000" and "ErrorLog /a#b" keep their '#', and
 * "ErrorLog /var/log/e.log  # main log" means /var/log/e.log).  Any
 * other word after the value is an error that shows the words: each
 * directive takes one value.  Return 0, or -1 with err.
 */
static int
cf_value(const struct directive *d, const char *v, char *buf, size_t len,
    char *err, size_t errlen)
{
	const char *e, *rest, *typed = v;
	size_t n;

	if (d->d_type == T_HANDLER) {
		/* Words, quotes and a comment: handler_parse() splits them. */
		e = v + strlen(v);
		rest = e;
	} else if (d->d_type == T_ALLOWS) {
		/* A list of address ranges: every word up to a comment. */
		for (e = v; *e != '\0' && !(*e == '#' && e > v &&
		    isspace((unsigned char)e[-1])); e++)
			;
		while (e > v && isspace((unsigned char)e[-1]))
			e--;
		rest = e + strlen(e);
	} else if (*v == '"') {
		if ((e = strchr(v + 1, '"')) == NULL) {
			snprintf(err, errlen, "%s: missing closing quote",
			    d->d_name);
			return -1;
		}
		v++;
		rest = e + 1;
	} else {
		for (e = v; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		rest = e;
	}
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest != '\0' &&
	    !(*rest == '#' && isspace((unsigned char)rest[-1]))) {
		/* Quote the words up to a comment, blanks trimmed. */
		for (e = rest; *e != '\0' && !(*e == '#' &&
		    isspace((unsigned char)e[-1])); e++)
			;
		while (isspace((unsigned char)e[-1]))
			e--;
		snprintf(err, errlen, "%s: more than one value: %.*s (quote "
		    "a value that holds blanks)", d->d_name, (int)(e - typed),
		    typed);
		return -1;
	}
	n = (size_t)(e - v);
	if (n >= len) {
		snprintf(err, errlen, "%s: value too long", d->d_name);
		return -1;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

/*
 * Apply one "Name value" line.  Blank lines and lines starting with
 * '#' are ignored; see cf_value() for the value and a comment after it.
 * The line is not modified.  Return 0, or -1 with a reason in err.
 */
int
cf_line(struct config *cf, const char *line, char *err, size_t errlen)
{
	char name[64], value[HANDLER_ARGS_MAX + 2];
	const struct directive *d;
	const char *p = line, *v;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	for (v = p; *v != '\0' && !isspace((unsigned char)*v); v++)
		;
	n = (size_t)(v - p);
	if (n >= sizeof(name)) {
		snprintf(err, errlen, "unknown directive \"%.*s...\"", 20, p);
		return -1;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	if ((d = cf_find(name)) == NULL) {
		snprintf(err, errlen, "unknown directive \"%s\"", name);
		return -1;
	}
	while (isspace((unsigned char)*v))
		v++;
	if (cf_value(d, v, value, sizeof(value), err, errlen) == -1)
		return -1;
	return cf_set(cf, d->d_name, value, err, errlen);
}

/*
 * Read the next line of fp into buf (CF_LINE_MAX + 1 bytes), without its
 * newline.  A line is bounded, so that a file with no newline (/dev/zero,
 * a binary) is refused at once instead of growing a buffer, and holds no
 * NUL byte, which would silently cut it short.  Return 1 for a line, 0 at
 * the end of the file, -1 with a reason in err (errno set for a read
 * error).
 */
static int
cf_getline(FILE *fp, char *buf, char *err, size_t errlen)
{
	size_t n = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0') {
			snprintf(err, errlen, "line holds a NUL byte");
			return -1;
		}
		if (n == CF_LINE_MAX) {
			snprintf(err, errlen, "line longer than %d bytes",
			    CF_LINE_MAX);
			return -1;
		}
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(fp)) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	return c != EOF || n > 0;
}

static int
cf_file(struct config *cf, const char *path, char *err, size_t errlen)
{
	char msg[512], line[CF_LINE_MAX + 1];
	long lineno = 0;
	FILE *fp;
	int r;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		lineno++;
		snprintf(cf->cf_where, sizeof(cf->cf_where), "%s:%ld", path,
		    lineno);
		if ((r = cf_getline(fp, line, msg, sizeof(msg))) == 1 &&
		    cf_line(cf, line, msg, sizeof(msg)) == -1)
			r = -1;
	} while (r == 1);
	if (r == -1 && ferror(fp))
		snprintf(err, errlen, "%s: %s", path, msg);
	else if (r == -1)
		snprintf(err, errlen, "%s:%ld: %s", path, lineno, msg);
	fclose(fp);
	return r;
}

/*
 * Build the whole configuration: defaults, then the file, then the
 * command line, which wins (its Listen addresses replace the file's).
 * Return 0, or -1 with a reason naming the file and line in err.
 */
int
cf_load(struct config *cf, const struct cmdline *cl, char *err, size_t errlen)
{
	char msg[512];
	int i, listen_seen = 0;

	cf_defaults(cf);
	if (cl->cl_file != NULL && cf_file(cf, cl->cl_file, err, errlen) == -1)
		return -1;
	for (i = 0; i < cl->cl_nset; i++) {
		if (!listen_seen && strncasecmp(cl->cl_set[i], "Listen", 6) == 0 &&
		    (cl->cl_set[i][6] == ' ' || cl->cl_set[i][6] == '\t')) {
			listen_seen = 1;
			cf->cf_nlisten = 0;
		}
		snprintf(cf->cf_where, sizeof(cf->cf_where), "%s",
		    cl->cl_arg[i]);
		if (cf_line(cf, cl->cl_set[i], msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%s: %s", cl->cl_arg[i], msg);
			return -1;
		}
	}
	/* TTIN grows a fixed pool up to MaxRequestWorkers, or -w if more. */
	cf->cf_worker_limit = cf->cf_max_workers;
	if (cl->cl_workers > 0) {
		cf->cf_fixed = 1;
		cf->cf_start_servers = cl->cl_workers;
		cf->cf_max_workers = cl->cl_workers;
		if (cl->cl_workers > cf->cf_worker_limit)
			cf->cf_worker_limit = cl->cl_workers;
	}
	if (cf_limit_check(cf, err, errlen) == -1)
		return -1;
	/* Inherited sockets replace this default: see inherit_apply(). */
	if (cf->cf_nlisten == 0) {
		addr_parse("127.0.0.1:9999", &cf->cf_listen[cf->cf_nlisten++],
		    msg, sizeof(msg));
		cf->cf_listen_default = 1;
	}
	cf_allow_default(&cf->cf_proxy_allow);
	cf_allow_default(&cf->cf_status_allow);
	if (cl->cl_cwd != NULL && cf_absolute(cf, cl->cl_cwd, err, errlen) == -1)
		return -1;
	return cf_check(cf, err, errlen);
}

/*
 * A daemon runs in "/", so relative paths are read against the directory
 * hellod started in, at startup and on every reload alike.
 */
static int
cf_absolute(struct config *cf, const char *cwd, char *err, size_t errlen)
{
	char *paths[] = { cf->cf_pidfile, cf->cf_errorlog, cf->cf_customlog };
	char tmp[MAX_PATH];
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (paths[i][0] == '\0' || paths[i][0] == '/' ||
		    strcmp(paths[i], "stderr") == 0 ||
		    strcmp(paths[i], "syslog") == 0)
			continue;
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", cwd, paths[i]) >=
		    sizeof(tmp)) {
			snprintf(err, errlen, "path too long: %s", paths[i]);
			return -1;
		}
		memcpy(paths[i], tmp, strlen(tmp) + 1);
	}
	return 0;
}

/*
 * The workers a generation may have for the server's life, which the
 * scoreboard is sized for (SB_GENERATIONS times as many slots): the
 * ServerLimit given, or else SERVER_LIMIT, or the pool's own bound
 * (MaxRequestWorkers, -w) when that is more, as the scoreboard was sized
 * before ServerLimit existed.
 */
int
cf_room(const struct config *cf)
{
	if (cf->cf_server_limit != 0)
		return cf->cf_server_limit;
	return cf->cf_worker_limit > SERVER_LIMIT ? cf->cf_worker_limit :
	    SERVER_LIMIT;
}

/* A pool (MaxRequestWorkers, or -w) larger than the ServerLimit given. */
static int
cf_limit_check(const struct config *cf, char *err, size_t errlen)
{
	if (cf->cf_max_workers <= cf_room(cf))
		return 0;
	snprintf(err, errlen, "%s %d is more than ServerLimit %d",
	    cf->cf_fixed ? "-w" : "MaxRequestWorkers", cf->cf_max_workers,
	    cf->cf_server_limit);
	return -1;
}

/* StatusListen must not take a Listen address. */
static int
cf_status_check(struct config *cf, char *err, size_t errlen)
{
	char where[ADDR_STRMAX];
	int i;

	for (i = 0; cf->cf_has_status && i < cf->cf_nlisten; i++)
		if (strcmp(cf->cf_status.hp_host, cf->cf_listen[i].hp_host) == 0 &&
		    strcmp(cf->cf_status.hp_port, cf->cf_listen[i].hp_port) == 0) {
			addr_fmt_hp(&cf->cf_status, where, sizeof(where));
			snprintf(err, errlen, "StatusListen %s is also a Listen "
			    "address", where);
			return -1;
		}
	return 0;
}

/*
 * Check what no single directive can: the pool bounds against each
 * other.  As in Apache, StartServers above MaxRequestWorkers is lowered
 * to it.  Return 0, or -1 with a reason in err.
 */
int
cf_check(struct config *cf, char *err, size_t errlen)
{
	char where[ADDR_STRMAX];
	int i, j;

	if (cf->cf_start_servers > cf->cf_max_workers)
		cf->cf_start_servers = cf->cf_max_workers;
	for (i = 0; i < cf->cf_nlisten; i++)
		for (j = 0; j < i; j++)
			if (strcmp(cf->cf_listen[i].hp_host,
			    cf->cf_listen[j].hp_host) == 0 &&
			    strcmp(cf->cf_listen[i].hp_port,
			    cf->cf_listen[j].hp_port) == 0) {
				addr_fmt_hp(&cf->cf_listen[i], where,
				    sizeof(where));
				snprintf(err, errlen, "Listen %s given twice",
				    where);
				return -1;
			}
	if (cf_status_check(cf, err, errlen) == -1)
		return -1;
	if (!cf->cf_fixed && cf->cf_min_spare > cf->cf_max_spare) {
		snprintf(err, errlen, "MinSpareServers %d is more than "
		    "MaxSpareServers %d", cf->cf_min_spare, cf->cf_max_spare);
		return -1;
	}
	return 0;
}
