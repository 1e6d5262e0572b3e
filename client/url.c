/*
 * url.c: http:// URLs: parsing, percent-encoding of the request target,
 * resolution of a relative Location, and a safe local file name.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpget.h"
#include "num.h"

/* Longest local file name taken from a URL (NAME_MAX on most systems). */
#define URL_NAMEMAX	255

static size_t	url_scheme(const char *);
static int	url_authority(const char *, size_t, struct url *, char *,
		    size_t);
static const char *url_host6(const char *, size_t, struct url *);
static const char *url_hostname(const char *, size_t, struct url *);
static int	url_target(const char *, struct url *);
static void	url_dots(char *);
static int	hexval(int);
static int	url_isport(const char *);

/*
 * Return the length of a URI scheme at the start of s (RFC 3986 section
 * 3.1) when a ':' follows it, or 0.
 */
static size_t
url_scheme(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; isalnum((unsigned char)s[i]) || s[i] == '+' ||
	    s[i] == '-' || s[i] == '.'; i++)
		;
	return s[i] == ':' ? i : 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse host, port and the Host header value from the authority s, n
 * bytes.  Return 0, or -1 with the reason in err.
 */
static int
url_authority(const char *s, size_t n, struct url *u, char *err,
    size_t errlen)
{
	const char *port, *end = s + n;
	size_t hl;
	long long pv = 80;

	if (memchr(s, '@', n) != NULL) {
		snprintf(err, errlen, "user names in URLs are not supported");
		return -1;
	}
	if (n > 0 && s[0] == '[')
		port = url_host6(s, n, u);
	else
		port = url_hostname(s, n, u);
	if (port == NULL) {
		snprintf(err, errlen, "bad host in URL");
		return -1;
	}
	/* Digits only: "-80" or "+80" is no port. */
	if (port < end && (*port == '-' ||
	    num_parse_n(port, (size_t)(end - port), 1, 65535, &pv) != NUM_OK)) {
		snprintf(err, errlen, "bad port in URL");
		return -1;
	}
	snprintf(u->u_port, sizeof(u->u_port), "%lld", pv);
	snprintf(u->u_hosthdr, sizeof(u->u_hosthdr),
	    strchr(u->u_host, ':') ? "[%s]" : "%s", u->u_host);
	if (pv != 80) {
		hl = strlen(u->u_hosthdr);
		snprintf(u->u_hosthdr + hl, sizeof(u->u_hosthdr) - hl, ":%lld",
		    pv);
	}
	return 0;
}

/*
 * The bracketed IPv6 address that starts the authority s, n bytes, into
 * u->u_host.  Return where its port starts (past the ':'; s + n for
 * none), or NULL when it is no address.
 */
static const char *
url_host6(const char *s, size_t n, struct url *u)
{
	const char *rb = memchr(s, ']', n), *end = s + n;
	struct in6_addr a6;
	size_t hl;

	if (rb == NULL || (rb + 1 < end && rb[1] != ':'))
		return NULL;
	hl = (size_t)(rb - s - 1);
	if (hl >= sizeof(u->u_host))
		return NULL;
	memcpy(u->u_host, s + 1, hl);
	u->u_host[hl] = '\0';
	if (inet_pton(AF_INET6, u->u_host, &a6) != 1)
		return NULL;
	return rb + 1 < end ? rb + 2 : end;
}

/*
 * The host name or IPv4 address that starts the authority s, n bytes,
 * into u->u_host.  Return as url_host6() does.
 */
static const char *
url_hostname(const char *s, size_t n, struct url *u)
{
	const char *colon = memchr(s, ':', n);
	size_t hl, i;

	hl = colon != NULL ? (size_t)(colon - s) : n;
	if (hl == 0 || hl >= sizeof(u->u_host))
		return NULL;
	for (i = 0; i < hl; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			return NULL;
	memcpy(u->u_host, s, hl);
	u->u_host[hl] = '\0';
	return colon != NULL ? colon + 1 : s + n;
}

/*
 * Remove "." and ".." segments from the path at the start of s (up to a
 * '?'), in place, as RFC 3986 section 5.2.4 does.  The path begins
 * with '/'.
 */
static void
url_dots(char *s)
{
	char *q = strchr(s, '?');
	char *in = s, *end = q != NULL ? q : s + strlen(s);
	char out[URL_MAX];
	size_t o = 0, sl;
	char *seg, *next, *slash;
	int last;

	while (in < end) {
		seg = in + 1;
		next = memchr(seg, '/', (size_t)(end - seg));
		if (next == NULL)
			next = end;
		sl = (size_t)(next - seg);
		last = next == end;
		if (sl == 1 && seg[0] == '.') {
			if (last)
				out[o++] = '/';
		} else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 0 && out[--o] != '/')
				;
			if (last)
				out[o++] = '/';
		} else {
			out[o++] = '/';
			memcpy(out + o, seg, sl);
			o += sl;
		}
		in = next;
	}
	if (o == 0)
		out[o++] = '/';
	/* The result is never longer than the input, so it fits back. */
	slash = s + o;
	memmove(slash, end, strlen(end) + 1);
	memcpy(s, out, o);
}

/*
 * Copy the path and query s into u_target, percent-encoding every byte
 * that may not appear in a request target and any '%' that does not
 * start an escape.  Return 0, or -1 when the result is too long.
 */
static int
url_target(const char *s, struct url *u)
{
	static const char ok[] = "-._~!$&'()*+,;=:@/?";
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	if (*s != '/')
		u->u_target[o++] = '/';
	for (; *s != '\0' && *s != '#'; s++) {
		if (o + 4 > sizeof(u->u_target))
			return -1;
		c = (unsigned char)*s;
		if ((c < 0x80 && isalnum(c)) || (c != 0 && strchr(ok, c)) ||
		    (c == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0))
			u->u_target[o++] = (char)c;
		else {
			u->u_target[o++] = '%';
			u->u_target[o++] = hex[c >> 4];
			u->u_target[o++] = hex[c & 15];
		}
	}
	u->u_target[o] = '\0';
	url_dots(u->u_target);
	return 0;
}

/* Return 1 when s starts with digits alone up to its end or a / ? #. */
static int
url_isport(const char *s)
{
	size_t d = strspn(s, "0123456789");

	return s[d] == '\0' || strchr("/?#", s[d]) != NULL;
}

/*
 * Parse an http:// URL (the scheme may be left out) into u.  The
 * fragment is dropped, an empty path becomes "/", and the target is
 * percent-encoded and free of dot segments.  Return 0; -1 for a
 * malformed URL or -2 for another scheme, with a one-line reason in err
 * ("https is not supported").
 */
int
url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	size_t sl, n;

	memset(u, 0, sizeof(*u));
	sl = url_scheme(s);
	if (sl > 0 && (strncmp(s + sl, "://", 3) == 0 ||
	    !isdigit((unsigned char)s[sl + 1]))) {
		if (sl != 4 || strncasecmp(s, "http", 4) != 0) {
			snprintf(err, errlen, "%.*s is not supported",
			    (int)(sl > 20 ? 20 : sl), s);
			return -2;
		}
		/* "http:/host/", "http:host/": http, but mistyped. */
		if (strncmp(s + sl, "://", 3) != 0) {
			snprintf(err, errlen, "bad URL: expected "
			    "http://host[:port]/path");
			return -1;
		}
		s += sl + 3;
	} else if (sl == 4 && strncasecmp(s, "http", 4) == 0 &&
	    !url_isport(s + 5)) {
		/* "http:127.0.0.1/" is a mistyped URL, not host "http". */
		snprintf(err, errlen, "bad URL: expected "
		    "http://host[:port]/path");
		return -1;
	}
	n = strcspn(s, "/?#");
	if (n == 0) {
		snprintf(err, errlen, "no host in URL");
		return -1;
	}
	if (url_authority(s, n, u, err, errlen) == -1)
		return -1;
	if (url_target(s + n, u) == -1) {
		snprintf(err, errlen, "URL too long");
		return -1;
	}
	return 0;
}

/* Write u as an absolute URL, truncated to len bytes. */
void
url_fmt(const struct url *u, char *buf, size_t len)
{
	snprintf(buf, len, "http://%s%s", u->u_hosthdr, u->u_target);
}

/*
 * Resolve ref (a Location value) against base, RFC 3986 section 5.2,
 * into an absolute URL in out for url_parse().  Return 0, or -1 when it
 * does not fit.
 */
int
url_resolve(const struct url *base, const char *ref, char *out,
    size_t outlen)
{
	const char *t = base->u_target;
	size_t dir, pathlen = strcspn(t, "?");
	int n;

	while (*ref == ' ' || *ref == '\t')
		ref++;
	for (dir = pathlen; dir > 0 && t[dir - 1] != '/'; dir--)
		;
	if (url_scheme(ref) > 0)
		n = snprintf(out, outlen, "%s", ref);
	else if (ref[0] == '/' && ref[1] == '/')
		n = snprintf(out, outlen, "http:%s", ref);
	else if (ref[0] == '/')
		n = snprintf(out, outlen, "http://%s%s", base->u_hosthdr, ref);
	else if (ref[0] == '?')
		n = snprintf(out, outlen, "http://%s%.*s%s", base->u_hosthdr,
		    (int)pathlen, t, ref);
	else if (ref[0] == '\0' || ref[0] == '#')
		n = snprintf(out, outlen, "http://%s%s", base->u_hosthdr, t);
	else
		n = snprintf(out, outlen, "http://%s%.*s%s", base->u_hosthdr,
		    (int)dir, t, ref);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/*
 * Write the local file name for u into buf: the last path segment,
 * percent-decoded, or "index.html" when it is empty.  A decoded '/' or
 * control byte becomes '_' and "." and ".." become "index.html", so the
 * name always stays in the current directory.  A leading '.' becomes
 * '_' too: a server must not get to write ".bashrc" or ".ssh" (wget's
 * CVE-2010-2252), even through a URL the user typed.
 */
void
url_filename(const struct url *u, char *buf, size_t len)
{
	const char *t = u->u_target, *seg, *end;
	size_t o = 0;
	int c;

	end = t + strcspn(t, "?");
	for (seg = end; seg > t && seg[-1] != '/'; seg--)
		;
	for (; seg < end && o + 1 < len && o < URL_NAMEMAX; seg++) {
		c = (unsigned char)*seg;
		if (c == '%' && end - seg > 2 && hexval(seg[1]) >= 0 &&
		    hexval(seg[2]) >= 0) {
			c = hexval(seg[1]) * 16 + hexval(seg[2]);
			seg += 2;
		}
		if (c == '/' || c < 0x20 || c == 0x7f)
			c = '_';
		buf[o++] = (char)c;
	}
	buf[o] = '\0';
	if (o == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		snprintf(buf, len, "index.html");
	else if (buf[0] == '.')
		buf[0] = '_';
}
