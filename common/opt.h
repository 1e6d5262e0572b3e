/*
 * opt.h: command-line options in any order.  Options may come before,
 * between and after operands, as curl, wget and nc take them; "--" ends
 * the options.  Short options cluster ("-qf"), take their value attached
 * or in the next word ("-ofile", "-o file"); long options are exact
 * names ("--help", "--max-redirs=3", "--max-redirs 3").  Written here
 * once because glibc's permuting getopt() is not portable.
 *
 * Typical use:
 *	opt_init(&o, argc, argv);
 *	while ((c = opt_next(&o, "hqo:", longs)) != -1)
 *		switch (c) { ... case '?': usage_error(o.o_err); }
 *	argc = o.o_nargs; argv = o.o_args;	(the operands, in order)
 */
#ifndef COMMON_OPT_H
#define COMMON_OPT_H

#include <stddef.h>

#define OPT_NOARG	0
#define OPT_ARG		1

/* One long option; a table of them ends with an ol_name of NULL. */
struct opt_long {
	const char	*ol_name;	/* without the "--" */
	int		 ol_arg;	/* OPT_NOARG or OPT_ARG */
	int		 ol_val;	/* what opt_next() returns for it */
};

/* The parser's state, owned by the caller; nothing is static. */
struct opt {
	int		 o_argc;
	char		**o_argv;
	int		 o_read;	/* next element of o_argv to look at */
	int		 o_write;	/* where the next operand is moved */
	const char	*o_next;	/* rest of a short-option cluster */
	int		 o_done;	/* "--" seen */
	const char	*o_arg;		/* the value of the option returned */
	char		 o_err[160];	/* why opt_next() returned '?' */
	int		 o_nargs;	/* after -1: how many operands */
	char		**o_args;	/* after -1: the operands, in order */
};

/* --help as -h and --version as -V: the long options every program has. */
extern const struct opt_long opt_std_longs[];

void	 opt_init(struct opt *, int argc, char **argv);
int	 opt_next(struct opt *, const char *shorts,
	    const struct opt_long *longs);

#endif
