/*
 * num.c: integers, read one way for every program and protocol parser.
 * Pure: no printing, no errno.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "num.h"

static int	num_digit(int, int);

/* The value of digit c in base (10 or 16), or -1. */
static int
num_digit(int c, int base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Read the run of digits in base (10 or 16) that starts the n bytes at
 * s, to its end: the parsers of a protocol field call this and then say
 * what may follow, how many digits and which leading zeros they take.
 * No sign and no blank is read; leading zeros are fine.  *used is the
 * length of the run, also when its value passes max.  Return NUM_OK
 * with *out set, NUM_BAD (no digit at all) or NUM_RANGE (above max).
 */
int
num_scan(const char *s, size_t n, int base, unsigned long long max,
    unsigned long long *out, size_t *used)
{
	unsigned long long v = 0;
	size_t i;
	int d, big = 0;

	for (i = 0; i < n && (d = num_digit((unsigned char)s[i], base)) != -1;
	    i++) {
		if ((unsigned long long)d > max ||
		    v > (max - (unsigned long long)d) / (unsigned)base)
			big = 1;
		else
			v = v * (unsigned)base + (unsigned long long)d;
	}
	*used = i;
	if (i == 0)
		return NUM_BAD;
	if (big)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

/*
 * Read the n bytes at s as a decimal integer between min and max.  Only
 * an optional '-' and digits are accepted: no blanks, no '+', no
 * trailing bytes, nothing empty.  Leading zeros are fine ("0080" is
 * 80).  Return NUM_OK with *out set, NUM_BAD, or NUM_RANGE (also for a
 * value too large for long long).  *out is untouched on failure.
 */
int
num_parse_n(const char *s, size_t n, long long min, long long max,
    long long *out)
{
	unsigned long long v = 0, lim;
	size_t i = 0, used;
	int neg = 0, rc;

	if (n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	rc = num_scan(s + i, n - i, 10, lim, &v, &used);
	if (rc == NUM_BAD || i + used != n)
		return NUM_BAD;
	if (rc == NUM_RANGE)
		return NUM_RANGE;
	if (neg) {
		if (v == (unsigned long long)LLONG_MAX + 1) {
			if (min > LLONG_MIN)
				return NUM_RANGE;
			*out = LLONG_MIN;
			return NUM_OK;
		}
		if (-(long long)v < min || -(long long)v > max)
			return NUM_RANGE;
		*out = -(long long)v;
		return NUM_OK;
	}
	if ((long long)v < min || (long long)v > max)
		return NUM_RANGE;
	*out = (long long)v;
	return NUM_OK;
}

/* num_parse_n() on the NUL-terminated string s. */
int
num_parse(const char *s, long long min, long long max, long long *out)
{
	return num_parse_n(s, strlen(s), min, max, out);
}

/*
 * Write the one message every program gives for a bad number,
 * 'WHAT: bad value "S": not a number' or '...: out of range (MIN to
 * MAX)', into err.
 */
void
num_error(char *err, size_t errlen, int rc, const char *what, const char *s,
    long long min, long long max)
{
	if (rc == NUM_BAD)
		snprintf(err, errlen, "%s: bad value \"%.200s\": not a number",
		    what, s);
	else
		snprintf(err, errlen, "%s: bad value \"%.200s\": out of range "
		    "(%lld to %lld)", what, s, min, max);
}
