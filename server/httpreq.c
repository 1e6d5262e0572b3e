/*
 * httpreq.c: a pure HTTP/1.1 request-head parser (RFC 9112) for the
 * status listener: bytes in, a verdict out.  No reads, writes, logging
 * or allocation, so the status process, a test driver and a fuzzer can
 * all feed it.
 *
 * It is stateless: the caller keeps what the client sent in one buffer
 * and calls rq_parse() on all of it after each read.  A head is at most
 * RQ_HEAD_MAX bytes, so parsing it again costs little, and a parser with
 * no state cannot disagree with itself about where a read was cut.
 * Every complete line is checked as soon as it is there, so garbage is
 * answered at once instead of waiting for the deadline.
 */
#include <string.h>
#include <strings.h>

#include "status.h"

static int	rq_line(const char *, size_t, size_t *, size_t *);
static int	rq_next(const char *, size_t, size_t *, size_t *, size_t *, int);
static int	rq_request_line(const char *, size_t, struct rq_request *);
static int	rq_target(const char *, size_t, struct rq_request *);
/* Fields that may appear once at most, or not together: counted. */
struct rq_seen {
	int	rs_host;
	int	rs_length;		/* Content-Length */
	int	rs_coding;		/* Transfer-Encoding */
};

static int	rq_field(const char *, size_t, struct rq_seen *);
static int	rq_tchar(int);

/* token characters of RFC 9110 section 5.6.2. */
static int
rq_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * Find the line starting at buf[off].  Return 1 with its length (CR LF
 * or LF not counted) in *linelen and the offset after it in *next; 0
 * when its end has not arrived; -1 when it holds a CR that does not end
 * it, which RFC 9112 section 2.2 says to reject.
 */
static int
rq_line(const char *buf, size_t len, size_t *off, size_t *linelen)
{
	const char *nl;
	size_t n;

	nl = memchr(buf + *off, '\n', len - *off);
	if (nl == NULL)
		return 0;
	n = (size_t)(nl - (buf + *off));
	if (n > 0 && buf[*off + n - 1] == '\r')
		n--;
	if (memchr(buf + *off, '\r', n) != NULL)
		return -1;
	*linelen = n;
	*off = (size_t)(nl - buf) + 1;
	return 1;
}

/*
 * The request target: origin form ("/path?query"), or absolute form
 * ("http://host/path?query"), whose path is what counts.  Anything else
 * (authority form, "*") gets an empty path, which no route matches.
 */
static int
rq_target(const char *t, size_t n, struct rq_request *rq)
{
	const char *q, *p;

	rq->rq_path = t;
	rq->rq_pathlen = 0;
	if (n >= 7 && strncasecmp(t, "http://", 7) == 0) {
		/* Skip the authority: up to the first '/' or '?'. */
		for (p = t + 7; p < t + n && *p != '/' && *p != '?'; p++)
			;
		n -= (size_t)(p - t);
		t = p;
		if (n == 0 || *t == '?') {
			/* "http://host" and "http://host?q" mean "/". */
			rq->rq_path = "/";
			rq->rq_pathlen = 1;
			if (n > 0) {
				rq->rq_query = t + 1;
				rq->rq_querylen = n - 1;
			}
			return RQ_OK;
		}
	} else if (t[0] != '/')
		return RQ_OK;
	q = memchr(t, '?', n);
	rq->rq_path = t;
	rq->rq_pathlen = q != NULL ? (size_t)(q - t) : n;
	if (q != NULL) {
		rq->rq_query = q + 1;
		rq->rq_querylen = (size_t)(t + n - q - 1);
	}
	return RQ_OK;
}

/*
 * method SP request-target SP HTTP-version, with exactly one space
 * each.  Return RQ_OK or the status to answer.
 */
static int
rq_request_line(const char *l, size_t n, struct rq_request *rq)
{
	size_t m, t, i;

	for (m = 0; m < n && rq_tchar((unsigned char)l[m]); m++)
		;
	if (m == 0 || m == n || l[m] != ' ')
		return 400;
	for (t = m + 1; t < n && l[t] > ' ' && l[t] < 0x7f; t++)
		;
	if (t == m + 1 || t == n || l[t] != ' ')
		return 400;
	i = t + 1;
	if (n - i != 8 || memcmp(l + i, "HTTP/", 5) != 0 ||
	    l[i + 5] < '0' || l[i + 5] > '9' || l[i + 6] != '.' ||
	    l[i + 7] < '0' || l[i + 7] > '9')
		return 400;
	if (l[i + 5] != '1')
		return 505;
	rq->rq_minor = l[i + 7] - '0';
	if (m == 3 && memcmp(l, "GET", 3) == 0)
		rq->rq_method = RQ_GET;
	else if (m == 4 && memcmp(l, "HEAD", 4) == 0)
		rq->rq_method = RQ_HEAD;
	else
		rq->rq_method = RQ_OTHER;
	return rq_target(l + m + 1, t - m - 1, rq);
}

/*
 * One header field: a token, a colon with no space before it, and a
 * value of visible characters, spaces and tabs (obs-text allowed).  A
 * line that starts with white space is an obsolete fold: rejected, as
 * RFC 9112 section 5.2 allows.  Counts Host, Content-Length and
 * Transfer-Encoding fields.  Return RQ_OK or 400.
 */
static int
rq_field(const char *l, size_t n, struct rq_seen *seen)
{
	size_t c, i;

	for (c = 0; c < n && rq_tchar((unsigned char)l[c]); c++)
		;
	if (c == 0 || c == n || l[c] != ':')
		return 400;
	for (i = c + 1; i < n; i++)
		if (((unsigned char)l[i] < ' ' && l[i] != '\t') || l[i] == 0x7f)
			return 400;
	if (c == 4 && strncasecmp(l, "host", 4) == 0)
		seen->rs_host++;
	if (c == 14 && strncasecmp(l, "content-length", 14) == 0)
		seen->rs_length++;
	if (c == 17 && strncasecmp(l, "transfer-encoding", 17) == 0)
		seen->rs_coding++;
	return RQ_OK;
}

/*
 * The next line of the head, or why there is none: RQ_OK with the line
 * at *start, *n bytes long; RQ_MORE when it has not ended yet; else
 * toolong (414 or 431) or 400.  The limits apply to an unfinished line
 * as soon as it passes them, so that a client cannot hold the buffer
 * without sending a line end.
 */
static int
rq_next(const char *buf, size_t len, size_t *off, size_t *start, size_t *n,
    int toolong)
{
	int r;

	*start = *off;
	if ((r = rq_line(buf, len, off, n)) == -1)
		return 400;
	if (r == 0)
		return len - *start > RQ_LINE_MAX + 1 || len >= RQ_HEAD_MAX ?
		    toolong : RQ_MORE;
	return *n > RQ_LINE_MAX || *off > RQ_HEAD_MAX ? toolong : RQ_OK;
}

/*
 * Parse the request head at the start of buf (len bytes: all the client
 * sent so far).  Return RQ_OK with rq filled in, RQ_MORE when the head
 * is well-formed so far but incomplete, or the status to answer: 400
 * malformed (including HTTP/1.1 without exactly one Host, and both
 * Content-Length and Transfer-Encoding: RFC 9112 section 6.1 calls that
 * smuggling, and a server that answers may close), 414 request
 * line too long, 431 header fields too long or too many, 505 an HTTP
 * major version other than 1.  An error found in the first bytes stays
 * an error however many more arrive.  Bytes after the head (a body) are
 * not looked at.
 */
int
rq_parse(const char *buf, size_t len, struct rq_request *rq)
{
	size_t off = 0, start, n;
	struct rq_seen seen = { 0, 0, 0 };
	int r, fields = 0;

	memset(rq, 0, sizeof(*rq));
	/* RFC 9112 section 2.2: ignore empty lines before the request. */
	do {
		if ((r = rq_next(buf, len, &off, &start, &n, 414)) != RQ_OK)
			return r;
	} while (n == 0);
	if ((r = rq_request_line(buf + start, n, rq)) != RQ_OK)
		return r;
	for (;;) {
		if ((r = rq_next(buf, len, &off, &start, &n, 431)) != RQ_OK)
			return r;
		if (n == 0)
			break;
		if (++fields > RQ_FIELDS_MAX)
			return 431;
		if (rq_field(buf + start, n, &seen) != RQ_OK)
			return 400;
	}
	if (seen.rs_host > 1 || (seen.rs_host == 0 && rq->rq_minor >= 1) ||
	    seen.rs_length > 1 || (seen.rs_length > 0 && seen.rs_coding > 0))
		return 400;
	rq->rq_headlen = off;
	return RQ_OK;
}
