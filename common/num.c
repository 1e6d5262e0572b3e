/*
 * num.c: decimal integers, read one way for every program.  Pure: no
 * printing, no errno.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "num.h"

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
	int neg = 0, big = 0;
	size_t i = 0;

	if (n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n)
		return NUM_BAD;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return NUM_BAD;
		if (v > (lim - (unsigned long long)(s[i] - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (big)
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
