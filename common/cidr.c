/*
 * cidr.c: IPv4 and IPv6 address ranges, parsed from text and matched
 * against socket addresses.  Pure: no output, no allocation, no
 * name lookups.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "num.h"

static int	cidr_prefix(const char *, int);
static int	cidr_host_bits(const unsigned char *, int, int);
static int	cidr_peer(const struct sockaddr *, unsigned char *);

/* The first 12 bytes of an IPv4-mapped IPv6 address, ::ffff:0:0/96. */
static const unsigned char cidr_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * Read a prefix length of one to three decimal digits no greater than
 * max.  Return it, or -1.
 */
static int
cidr_prefix(const char *s, int max)
{
	unsigned long long v;
	size_t n = strlen(s), used;

	if (num_scan(s, n, 10, (unsigned long long)max, &v, &used) != NUM_OK ||
	    used != n || n > 3)
		return -1;
	return (int)v;
}

/* Return 1 when any of the nbytes-byte address's bits past bits is set. */
static int
cidr_host_bits(const unsigned char *a, int nbytes, int bits)
{
	int i;

	for (i = bits / 8; i < nbytes; i++) {
		unsigned char keep = 0;

		if (i == bits / 8 && bits % 8 != 0)
			keep = (unsigned char)(0xff << (8 - bits % 8));
		if ((a[i] & (unsigned char)~keep) != 0)
			return 1;
	}
	return 0;
}

/*
 * Parse "address/bits" or a bare address (a range of one host) into c.
 * An IPv4-mapped IPv6 range of 96 bits or more ("::ffff:10.0.0.0/104")
 * is stored as the IPv4 range it names, so that it matches the same
 * peers.  Bits set past the prefix ("10.0.0.1/8") are refused rather
 * than cleared: in an access list they are most likely a typing
 * mistake.  Return 0, or -1 with a one-line reason in err.
 */
int
cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash;
	size_t hlen;
	int max;

	slash = strchr(s, '/');
	hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		goto badaddr;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, host, c->ci_addr) == 1) {
		c->ci_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->ci_addr) == 1) {
		c->ci_family = AF_INET6;
		max = 128;
	} else
		goto badaddr;
	c->ci_bits = max;
	if (slash != NULL && (c->ci_bits = cidr_prefix(slash + 1, max)) == -1) {
		snprintf(err, errlen, "bad address range \"%s\": "
		    "prefix length is not a number from 0 to %d", s, max);
		return -1;
	}
	if (cidr_host_bits(c->ci_addr, max / 8, c->ci_bits)) {
		snprintf(err, errlen, "bad address range \"%s\": "
		    "bits set past the /%d prefix", s, c->ci_bits);
		return -1;
	}
	if (c->ci_family == AF_INET6 && c->ci_bits >= 96 &&
	    memcmp(c->ci_addr, cidr_v4mapped, sizeof(cidr_v4mapped)) == 0) {
		memmove(c->ci_addr, c->ci_addr + 12, 4);
		memset(c->ci_addr + 4, 0, 12);
		c->ci_family = AF_INET;
		c->ci_bits -= 96;
	}
	return 0;

badaddr:
	snprintf(err, errlen, "bad address range \"%s\": "
	    "expected an IPv4 or IPv6 address, optionally with /bits", s);
	return -1;
}

/*
 * Put the peer's address in a, as 4 bytes for IPv4 (an IPv4-mapped
 * IPv6 address counts as IPv4) or 16 for IPv6.  Return its family, or
 * AF_UNSPEC for any other kind of socket.
 */
static int
cidr_peer(const struct sockaddr *sa, unsigned char *a)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(a, &sin->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return AF_UNSPEC;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (memcmp(&sin6->sin6_addr, cidr_v4mapped,
	    sizeof(cidr_v4mapped)) == 0) {
		memcpy(a, (const unsigned char *)&sin6->sin6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(a, &sin6->sin6_addr, 16);
	return AF_INET6;
}

/*
 * Return 1 when the address in sa (AF_INET or AF_INET6) lies in the
 * range c, 0 when it does not or is of any other family.
 */
int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	unsigned char a[16], mask;
	int full, rest;

	if (cidr_peer(sa, a) != c->ci_family)
		return 0;
	full = c->ci_bits / 8;
	rest = c->ci_bits % 8;
	if (memcmp(a, c->ci_addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == c->ci_addr[full];
}

/* Return 1 when sa lies in any of the n ranges in list, else 0. */
int
cidr_match_list(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_match(&list[i], sa))
			return 1;
	return 0;
}

/* Print c as "address/bits" into buf, in the shortest standard form. */
void
cidr_fmt(const struct cidr *c, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (inet_ntop(c->ci_family, c->ci_addr, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s/%d", host, c->ci_bits);
}
