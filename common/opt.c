/*
 * opt.c: command-line options in any order, with "--" and long options;
 * see opt.h.  Pure: it never prints and never exits.
 */
#include <stdio.h>
#include <string.h>

#include "opt.h"

static int	opt_long(struct opt *, const char *, const struct opt_long *);
static int	opt_short(struct opt *, const char *);
static void	opt_finish(struct opt *);

const struct opt_long opt_std_longs[] = {
	{ "help",	OPT_NOARG,	'h' },
	{ "version",	OPT_NOARG,	'V' },
	{ NULL,		0,		0 }
};

/*
 * Start parsing argv[1..argc-1].  opt_next() moves the operands, in
 * their order, to the front of argv (after argv[0]); argv must be
 * writable, as main()'s is.
 */
void
opt_init(struct opt *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->o_argc = argc;
	o->o_argv = argv;
	o->o_read = o->o_write = argc > 0 ? 1 : 0;
}

/*
 * All options are read: move what is left (after "--") down to the
 * operands and say where they are.
 */
static void
opt_finish(struct opt *o)
{
	while (o->o_read < o->o_argc)
		o->o_argv[o->o_write++] = o->o_argv[o->o_read++];
	o->o_args = o->o_argv + (o->o_argc > 0 ? 1 : 0);
	o->o_nargs = o->o_write - (o->o_argc > 0 ? 1 : 0);
	o->o_argv[o->o_write] = NULL;
}

/* "--name" or "--name=value", s pointing after the dashes. */
static int
opt_long(struct opt *o, const char *s, const struct opt_long *longs)
{
	const char *eq = strchr(s, '=');
	size_t n = eq != NULL ? (size_t)(eq - s) : strlen(s);

	for (; longs != NULL && longs->ol_name != NULL; longs++) {
		if (strlen(longs->ol_name) != n ||
		    strncmp(longs->ol_name, s, n) != 0)
			continue;
		if (longs->ol_arg == OPT_NOARG && eq != NULL) {
			snprintf(o->o_err, sizeof(o->o_err),
			    "option --%s takes no value", longs->ol_name);
			return '?';
		}
		if (longs->ol_arg == OPT_ARG) {
			if (eq != NULL)
				o->o_arg = eq + 1;
			else if (o->o_read < o->o_argc)
				o->o_arg = o->o_argv[o->o_read++];
			else {
				snprintf(o->o_err, sizeof(o->o_err),
				    "option --%s needs a value", longs->ol_name);
				return '?';
			}
		}
		return longs->ol_val;
	}
	snprintf(o->o_err, sizeof(o->o_err), "unknown option --%.*s",
	    (int)(n > 100 ? 100 : n), s);
	return '?';
}

/* The next letter of the cluster o_next. */
static int
opt_short(struct opt *o, const char *shorts)
{
	int c = (unsigned char)*o->o_next++;
	const char *p;

	if (c == ':' || (p = strchr(shorts, c)) == NULL) {
		if (c >= 0x21 && c < 0x7f)
			snprintf(o->o_err, sizeof(o->o_err),
			    "unknown option -%c", c);
		else
			snprintf(o->o_err, sizeof(o->o_err),
			    "unknown option byte 0x%02x", (unsigned)c);
		o->o_next = NULL;
		return '?';
	}
	if (p[1] == ':') {
		if (*o->o_next != '\0')
			o->o_arg = o->o_next;
		else if (o->o_read < o->o_argc)
			o->o_arg = o->o_argv[o->o_read++];
		else {
			snprintf(o->o_err, sizeof(o->o_err),
			    "option -%c needs a value", c);
			o->o_next = NULL;
			return '?';
		}
		o->o_next = NULL;
	} else if (*o->o_next == '\0')
		o->o_next = NULL;
	return c;
}

/*
 * Return the next option: its letter from shorts (getopt(3) syntax,
 * "o:" takes a value), or the ol_val of a long option, with its value
 * in o_arg.  Return '?' with a one-line reason in o_err for an unknown
 * option or a missing value, and -1 once every option is read; then
 * o_args and o_nargs hold the operands.  A lone "-" is an operand.
 */
int
opt_next(struct opt *o, const char *shorts, const struct opt_long *longs)
{
	char *s;

	o->o_arg = NULL;
	if (o->o_next != NULL)
		return opt_short(o, shorts);
	while (!o->o_done && o->o_read < o->o_argc) {
		s = o->o_argv[o->o_read++];
		if (s[0] != '-' || s[1] == '\0') {
			/* An operand: keep it, in order, before o_read. */
			o->o_argv[o->o_write++] = s;
			continue;
		}
		if (s[1] == '-' && s[2] == '\0') {
			o->o_done = 1;
			break;
		}
		if (s[1] == '-')
			return opt_long(o, s + 2, longs);
		o->o_next = s + 1;
		return opt_short(o, shorts);
	}
	opt_finish(o);
	return -1;
}
