/*
 * num.h: the one reader of decimal integers that every program uses, for
 * options, directives, ports and ids alike, so that "08", " 8", "8x",
 * "+8" and overflow mean the same thing everywhere; and the digit scanner
 * under it, for the protocol parsers' fields, which set limits of their
 * own (digits, leading zeros, what may follow).
 */
#ifndef COMMON_NUM_H
#define COMMON_NUM_H

#include <stddef.h>

#define NUM_OK		0
#define NUM_BAD		(-1)	/* not a decimal number; num_scan: no digit */
#define NUM_RANGE	(-2)	/* a number outside [min, max] */

int	 num_scan(const char *s, size_t n, int base, unsigned long long max,
	    unsigned long long *out, size_t *used);
int	 num_parse(const char *s, long long min, long long max,
	    long long *out);
int	 num_parse_n(const char *s, size_t n, long long min, long long max,
	    long long *out);
void	 num_error(char *err, size_t errlen, int rc, const char *what,
	    const char *s, long long min, long long max);

#endif
