/*
 * handler.c: the Handler directive, what answers a session.  "hello" is
 * the built-in protocol; "exec PROGRAM [ARG...]" runs PROGRAM for each
 * session (exec.c).  The words are split as a config line splits a value
 * (blanks between words, a double-quoted word may hold blanks, a '#'
 * after a blank starts a comment) and kept in the config, which is
 * plain data, as one NUL-separated string.
 */
#define _DEFAULT_SOURCE		/* getgrouplist(): not POSIX */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hellod.h"

#define MAX_GROUPS	256	/* User's groups looked at for the x bit */

static const char *const handler_words[HANDLER_MAX] = { "hello", "exec" };

static int	handler_word(const char **, char *, size_t, char *, size_t);
static int	handler_may_exec(const struct config *, const struct stat *);

/*
 * Copy the next word of *p into buf and move *p past it.  Return 1 for
 * a word, 0 at the end of the value (or a comment), -1 with err.
 */
static int
handler_word(const char **p, char *buf, size_t len, char *err,
    size_t errlen)
{
	const char *s = *p, *e;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '"') {
		if ((e = strchr(s + 1, '"')) == NULL) {
			snprintf(err, errlen, "Handler: missing closing quote");
			return -1;
		}
		s++;
		*p = e + 1;
		if (**p != '\0' && !isspace((unsigned char)**p)) {
			snprintf(err, errlen, "Handler: a blank must follow "
			    "the closing quote");
			return -1;
		}
	} else {
		for (e = s; *e != '\0' && !isspace((unsigned char)*e); e++)
			;
		*p = e;
	}
	if ((size_t)(e - s) >= len) {
		snprintf(err, errlen, "Handler: value too long");
		return -1;
	}
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	return 1;
}

/*
 * Set the Handler from value, the text after the directive's name.
 * Return 0, or -1 with err naming the problem.
 */
int
handler_parse(struct config *cf, const char *value, char *err, size_t errlen)
{
	char word[HANDLER_ARGS_MAX];
	size_t used = 0, n;
	int i, r, argc = 0;

	if ((r = handler_word(&value, word, sizeof(word), err, errlen)) != 1) {
		if (r == 0)
			snprintf(err, errlen, "Handler: missing value");
		return -1;
	}
	for (i = 0; i < HANDLER_MAX; i++)
		if (strcasecmp(word, handler_words[i]) == 0)
			break;
	if (i == HANDLER_MAX) {
		snprintf(err, errlen, "Handler: bad value \"%s\": expected "
		    "hello or exec PROGRAM [ARG...]", word);
		return -1;
	}
	while ((r = handler_word(&value, cf->cf_handler_args + used,
	    sizeof(cf->cf_handler_args) - used, err, errlen)) == 1) {
		n = strlen(cf->cf_handler_args + used);
		if (i == HANDLER_HELLO) {
			snprintf(err, errlen, "Handler hello takes nothing "
			    "more, not \"%s\"", cf->cf_handler_args + used);
			return -1;
		}
		if (++argc > HANDLER_ARGC_MAX) {
			snprintf(err, errlen, "Handler exec: more than %d "
			    "words", HANDLER_ARGC_MAX);
			return -1;
		}
		if (argc == 1 && cf->cf_handler_args[0] != '/') {
			snprintf(err, errlen, "Handler exec: PROGRAM \"%s\" is "
			    "not an absolute path", cf->cf_handler_args);
			return -1;
		}
		used += n + 1;
	}
	if (r == -1)
		return -1;
	if (i == HANDLER_EXEC && argc == 0) {
		snprintf(err, errlen, "Handler exec: missing PROGRAM");
		return -1;
	}
	cf->cf_handler = (enum handler)i;
	cf->cf_handler_argc = argc;
	snprintf(cf->cf_handler_at, sizeof(cf->cf_handler_at), "%s",
	    cf->cf_where);
	return 0;
}

/*
 * Whether the user the workers run as may execute the file st: its
 * mode bits for User's uid, Group and User's other groups.  A server
 * that does not change user asks the system (access()).
 */
static int
handler_may_exec(const struct config *cf, const struct stat *st)
{
	gid_t groups[MAX_GROUPS];
	int i, n = MAX_GROUPS;

	if (!cf->cf_has_user || geteuid() != 0)
		return access(cf->cf_handler_args, X_OK) == 0;
	if (st->st_uid == cf->cf_uid)
		return (st->st_mode & S_IXUSR) != 0;
	groups[0] = cf->cf_gid;
	if (cf->cf_groups_of[0] == '\0' || getgrouplist(cf->cf_groups_of,
	    cf->cf_gid, groups, &n) == -1)
		n = 1;
	for (i = 0; i < n; i++)
		if (groups[i] == st->st_gid)
			return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

/*
 * After User and Group are known (priv_resolve()): the PROGRAM of
 * Handler exec must be a regular file the workers' user may execute.
 * Return 0, or -1 with err naming where Handler was set.
 */
int
handler_check(const struct config *cf, char *err, size_t errlen)
{
	const char *prog = cf->cf_handler_args;
	struct stat st;

	if (cf->cf_handler == HANDLER_HELLO)
		return 0;
	if (stat(prog, &st) == -1) {
		snprintf(err, errlen, "%s: Handler exec: %s: %s",
		    cf->cf_handler_at, prog, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: Handler exec: %s: not a regular "
		    "file", cf->cf_handler_at, prog);
		return -1;
	}
	if (!handler_may_exec(cf, &st)) {
		snprintf(err, errlen, "%s: Handler exec: %s: not executable "
		    "by %s", cf->cf_handler_at, prog, cf->cf_has_user &&
		    geteuid() == 0 ? cf->cf_user : "this user");
		return -1;
	}
	return 0;
}
