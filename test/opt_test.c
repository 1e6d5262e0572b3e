/*
 * opt_test: drives common/opt.c and common/num.c for test/common.bats.
 *
 *	opt_test opt SHORTS [ARG...]	one line per option ("q", "o=VALUE",
 *					"long=VALUE", "? REASON"), then one
 *					"operand: X" line per operand
 *	opt_test num S MIN MAX		"ok N", "bad" or "range"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "opt.h"

static const struct opt_long longs[] = {
	{ "help",	OPT_NOARG,	'h' },
	{ "max",	OPT_ARG,	'm' },
	{ "flag",	OPT_NOARG,	256 },
	{ NULL,		0,		0 }
};

static int
test_opt(int argc, char **argv)
{
	struct opt o;
	int c, i;

	opt_init(&o, argc, argv);
	while ((c = opt_next(&o, argv[0], longs)) != -1) {
		if (c == '?')
			printf("? %s\n", o.o_err);
		else if (c == 256)
			printf("flag\n");
		else if (o.o_arg != NULL)
			printf("%c=%s\n", c, o.o_arg);
		else
			printf("%c\n", c);
	}
	for (i = 0; i < o.o_nargs; i++)
		printf("operand: %s\n", o.o_args[i]);
	return 0;
}

int
main(int argc, char **argv)
{
	long long v;
	int rc;

	if (argc >= 3 && strcmp(argv[1], "opt") == 0)
		return test_opt(argc - 2, argv + 2);
	if (argc == 5 && strcmp(argv[1], "num") == 0) {
		rc = num_parse(argv[2], atoll(argv[3]), atoll(argv[4]), &v);
		if (rc == NUM_OK)
			printf("ok %lld\n", v);
		else
			printf("%s\n", rc == NUM_BAD ? "bad" : "range");
		return 0;
	}
	fprintf(stderr, "usage: opt_test opt SHORTS [arg...] | "
	    "num S MIN MAX\n");
	return 2;
}
