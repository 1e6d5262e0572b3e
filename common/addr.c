/*
 * addr.c: parsing "host:port", "[v6addr]:port" and "*:port", and
 * printing socket addresses the same way.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "num.h"

/*
 * Check that s is a decimal port from 1 to 65535.  Return the port, or
 * -1 with a reason in err.
 */
int
addr_port(const char *s, char *err, size_t errlen)
{
	long long v = 0;
	int rc;

	if (*s == '\0') {
		snprintf(err, errlen, "missing port");
		return -1;
	}
	/* A port is digits: "-1" is no number at all, as in a URL. */
	rc = *s == '-' ? NUM_BAD : num_parse(s, 1, 65535, &v);
	if (rc != NUM_OK) {
		snprintf(err, errlen, "bad port \"%s\": %s", s,
		    rc == NUM_BAD ? "not a number" : "out of range");
		return -1;
	}
	return (int)v;
}

/*
 * Split s into host and port.  "[v6]:port" carries an IPv6 literal,
 * "*:port" (or a bare port, as Apache's Listen takes it) means every
 * address.  A colon in an unbracketed host is refused: "::1:80" has no
 * one reading.  Return 0, or -1 with a one-line reason in err.
 */
int
addr_parse(const char *s, struct hostport *hp, char *err, size_t errlen)
{
	const char *host, *port, *end;
	size_t hlen;
	int pnum;

	if (s[0] == '[') {
		host = s + 1;
		if ((end = strchr(host, ']')) == NULL) {
			snprintf(err, errlen, "bad address \"%s\": missing ']'", s);
			return -1;
		}
		if (end[1] != ':') {
			snprintf(err, errlen,
			    "bad address \"%s\": expected \"]:port\"", s);
			return -1;
		}
		port = end + 2;
	} else if ((end = strrchr(s, ':')) != NULL) {
		host = s;
		port = end + 1;
		if (memchr(s, ':', (size_t)(end - s)) != NULL) {
			snprintf(err, errlen, "bad address \"%s\": "
			    "an IPv6 address needs brackets, as in [::1]:9999", s);
			return -1;
		}
	} else {
		host = "*";
		end = host + 1;
		port = s;
	}
	hlen = (size_t)(end - host);
	if (hlen == 0) {
		snprintf(err, errlen, "bad address \"%s\": missing host", s);
		return -1;
	}
	if (hlen >= sizeof(hp->hp_host)) {
		snprintf(err, errlen, "bad address \"%.40s...\": host too long", s);
		return -1;
	}
	if ((pnum = addr_port(port, err, errlen)) == -1)
		return -1;
	if (hlen == 1 && host[0] == '*')
		hlen = 0;
	memcpy(hp->hp_host, host, hlen);
	hp->hp_host[hlen] = '\0';
	/*
	 * Store the number, not the text: "000080" is a valid port 80 that
	 * would not fit hp_port and would be cut to "00008".
	 */
	snprintf(hp->hp_port, sizeof(hp->hp_port), "%d", pnum);
	return 0;
}

/* Write the decimal n at p; return the end. */
static char *
addr_putnum(char *p, unsigned long n)
{
	char tmp[20];
	size_t i = 0;

	do
		tmp[i++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	while (i > 0)
		*p++ = tmp[--i];
	return p;
}

/*
 * An IPv4 address and port, or an IPv6 one without a scope, printed
 * into out (ADDR_STRMAX bytes) without getnameinfo() and printf(): the
 * worker prints every client's address, and those two cost as much as
 * a system call.  Return 0, or -1 for what only getnameinfo() can do.
 */
static int
addr_fmt_fast(const struct sockaddr *sa, socklen_t salen, char *out)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const unsigned char *b;
	char *p = out;
	int i;

	if (sa->sa_family == AF_INET && salen >= sizeof(*sin)) {
		b = (const unsigned char *)&sin->sin_addr;
		for (i = 0; i < 4; i++) {
			p = addr_putnum(p, b[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		p = addr_putnum(p, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(*sin6) &&
	    sin6->sin6_scope_id == 0) {
		*p++ = '[';
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, p,
		    INET6_ADDRSTRLEN) == NULL)
			return -1;
		p += strlen(p);
		*p++ = ']';
		*p++ = ':';
		p = addr_putnum(p, ntohs(sin6->sin6_port));
	} else
		return -1;
	*p = '\0';
	return 0;
}

/*
 * Print a socket address as "1.2.3.4:80" or "[::1]:80" into buf.
 * Return 0, or -1 when the address cannot be printed (buf then says "?").
 */
int
addr_fmt(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
	char host[ADDR_HOSTMAX], port[ADDR_PORTMAX + 26];

	_Static_assert(ADDR_STRMAX >= INET6_ADDRSTRLEN + ADDR_PORTMAX + 3,
	    "room for \"[v6]:port\"");
	if (len >= ADDR_STRMAX && addr_fmt_fast(sa, salen, buf) == 0)
		return 0;
	if (getnameinfo(sa, salen, host, sizeof(host), port, sizeof(port),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "?");
		return -1;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", host, port);
	else
		snprintf(buf, len, "%s:%s", host, port);
	return 0;
}

/*
 * Return host without the brackets of "[::1]", the spelling nc and
 * URLs use for an IPv6 literal, copied into buf; any other host is
 * returned as it is.
 */
const char *
addr_unbracket(const char *host, char *buf, size_t len)
{
	size_t n = strlen(host);

	if (n < 2 || host[0] != '[' || host[n - 1] != ']')
		return host;
	snprintf(buf, len, "%.*s", (int)(n - 2), host + 1);
	return buf;
}

/* Print a parsed address back in the form addr_parse() reads. */
void
addr_fmt_hp(const struct hostport *hp, char *buf, size_t len)
{
	if (hp->hp_host[0] == '\0')
		snprintf(buf, len, "*:%s", hp->hp_port);
	else if (strchr(hp->hp_host, ':') != NULL)
		snprintf(buf, len, "[%s]:%s", hp->hp_host, hp->hp_port);
	else
		snprintf(buf, len, "%s:%s", hp->hp_host, hp->hp_port);
}
