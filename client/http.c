/*
 * http.c: a pure HTTP/1.1 response parser (RFC 9112): bytes in, events
 * out.  No reads, writes or logging, so httpget can feed it from a
 * socket and a test driver or fuzzer from anything at all.
 *
 * Header lines are gathered into the parser's own fixed buffer, since a
 * line may straddle two reads; body bytes are handed back as pointers
 * into the caller's input and never copied.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "esc.h"
#include "num.h"
#include "httpget.h"

enum {
	HS_STATUS,		/* reading the status line */
	HS_HEADER,		/* reading header lines */
	HS_LENGTH,		/* in a Content-Length body */
	HS_CLOSE,		/* in a close-delimited body */
	HS_CHUNK_SIZE,		/* reading a chunk-size line */
	HS_CHUNK_DATA,		/* in chunk data */
	HS_CHUNK_CRLF,		/* reading the CRLF after chunk data */
	HS_TRAILER,		/* reading trailer lines */
	HS_END,			/* complete; END not yet reported */
	HS_DONE,		/* complete and reported */
	HS_ERROR
};

/* The largest chunk size: 15 hex digits, well inside 64 bits. */
#define CHUNK_MAX	((UINT64_C(1) << 60) - 1)
/*
 * The largest Content-Length: about 2^62 bytes, beyond any disk and
 * exact in 64 bits (2^62 / 10 * 10 + 9, the bound it has always had).
 */
#define LENGTH_MAX	((UINT64_C(1) << 62) / 10 * 10 + 9)

static int	http_getline(struct http_parser *, const char *, size_t,
		    size_t *);
static void	http_fail(struct http_parser *, struct http_event *, int,
		    const char *);
static int	http_status(struct http_parser *, const char *, size_t);
static void	http_bad(struct http_parser *, const char *, const char *, size_t);
static int	http_header(struct http_parser *, const char *, size_t,
		    struct http_event *);
static int	http_length(struct http_parser *, const char *, size_t);
static int	http_te(struct http_parser *, const char *, size_t);
static void	http_head_end(struct http_parser *, struct http_event *);
static void	http_line(struct http_parser *, const char *, size_t,
		    struct http_event *);
static size_t	http_line_state(struct http_parser *, const char *, size_t,
		    struct http_event *);
static int	http_chunk_size(struct http_parser *, const char *, size_t);
static size_t	http_step(struct http_parser *, const char *, size_t,
		    struct http_event *);
static int	is_tchar(int);
static int	is_ows(int);

/*
 * Prepare p for one response (and any 1xx before it).  head says the
 * request was HEAD, so the final response has no body whatever its
 * headers say.
 */
void
http_init(struct http_parser *p, int head)
{
	memset(p, 0, sizeof(*p));
	p->hp_state = HS_STATUS;
	p->hp_head = head;
}

static void
http_fail(struct http_parser *p, struct http_event *ev, int kind,
    const char *why)
{
	p->hp_state = HS_ERROR;
	p->hp_errkind = kind;
	if (why != NULL)
		snprintf(p->hp_err, sizeof(p->hp_err), "%s", why);
	ev->he_type = HTTP_EV_ERROR;
}

/* token characters of RFC 9110 section 5.6.2. */
static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * Gather input into hp_line up to and including an LF.  Return 1 with the
 * line (CR LF or LF stripped) in hp_line and hp_linelen, 0 when the
 * input ran out first, -1 when the line is longer than HTTP_LINEMAX.
 * *used receives the bytes taken.  Only HTTP_LINEMAX + 1 bytes are ever
 * stored (the line and a CR), so the buffer cannot overflow.
 */
static int
http_getline(struct http_parser *p, const char *buf, size_t len,
    size_t *used)
{
	const char *nl;
	size_t n, room;

	nl = memchr(buf, '\n', len);
	n = nl != NULL ? (size_t)(nl - buf) : len;
	room = HTTP_LINEMAX + 1 - p->hp_linelen;
	if (n > room) {
		*used = len;
		return -1;
	}
	memcpy(p->hp_line + p->hp_linelen, buf, n);
	p->hp_linelen += n;
	if (nl == NULL) {
		*used = len;
		return 0;
	}
	*used = n + 1;
	if (p->hp_linelen > 0 && p->hp_line[p->hp_linelen - 1] == '\r')
		p->hp_linelen--;
	if (p->hp_linelen > HTTP_LINEMAX)
		return -1;
	p->hp_line[p->hp_linelen] = '\0';
	return 1;
}

/*
 * Say in hp_err what is wrong, quoting the first 40 bytes of the
 * server's text escaped as Apache logs a request (\xHH, \", \\): a
 * server must not reach the user's terminal through a message.
 */
static void
http_bad(struct http_parser *p, const char *what, const char *s, size_t len)
{
	char q[4 * HTTP_QUOTE + 1];

	(void)esc_bytes(q, sizeof(q), s, len > HTTP_QUOTE ? HTTP_QUOTE : len,
	    ESC_QUOTED);
	snprintf(p->hp_err, sizeof(p->hp_err), "%s \"%s\"", what, q);
}

/*
 * Parse "HTTP/1.x NNN reason".  Return 0, or -1 when the line is not an
 * HTTP/1.x status line with a three-digit code between 100 and 599.
 */
static int
http_status(struct http_parser *p, const char *s, size_t len)
{
	unsigned long long code;
	size_t i, used;

	if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return -1;
	if (num_scan(s + 9, 3, 10, 999, &code, &used) != NUM_OK || used != 3)
		return -1;
	if (len > 12 && s[12] != ' ')
		return -1;
	for (i = 12; i < len; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return -1;
	p->hp_minor = s[7] - '0';
	p->hp_code = (int)code;
	return p->hp_code >= 100 && p->hp_code <= 599 ? 0 : -1;
}

/*
 * Content-Length: a list of equal decimal values is allowed (RFC 9110
 * section 8.6), anything else that differs, here or in another
 * Content-Length line, is an error.  Return 0, or -1 with hp_err set.
 */
static int
http_length(struct http_parser *p, const char *s, size_t len)
{
	unsigned long long v;
	size_t i = 0, used;

	for (;;) {
		while (i < len && is_ows(s[i]))
			i++;
		if (num_scan(s + i, len - i, 10, LENGTH_MAX, &v, &used) !=
		    NUM_OK)
			goto bad;
		i += used;
		while (i < len && is_ows(s[i]))
			i++;
		if (i < len && s[i] != ',')
			goto bad;
		if (p->hp_haslen && p->hp_length != v) {
			snprintf(p->hp_err, sizeof(p->hp_err),
			    "conflicting Content-Length values");
			return -1;
		}
		p->hp_haslen = 1;
		p->hp_length = v;
		if (i == len)
			return 0;
		i++;
	}
bad:
	http_bad(p, "bad Content-Length", s, len);
	return -1;
}

/*
 * Transfer-Encoding: remember whether chunked is the last coding.  When
 * it is not, RFC 9112 section 6.3 says the body ends at close.  Chunked
 * twice is an error.  Return 0, or -1 with hp_err set.
 */
static int
http_te(struct http_parser *p, const char *s, size_t len)
{
	size_t i = 0, b, e;

	while (i < len) {
		while (i < len && (is_ows(s[i]) || s[i] == ','))
			i++;
		b = i;
		while (i < len && s[i] != ',')
			i++;
		e = i;
		while (e > b && is_ows(s[e - 1]))
			e--;
		if (e == b)
			continue;
		if (e - b == 7 && strncasecmp(s + b, "chunked", 7) == 0) {
			if (p->hp_techunked) {
				snprintf(p->hp_err, sizeof(p->hp_err),
				    "chunked transfer coding applied twice");
				return -1;
			}
			p->hp_techunked = 1;
		} else
			p->hp_techunked = 0;
		p->hp_te = 1;
	}
	return 0;
}

/*
 * Check and split the header line s, len bytes, and fill ev.  Return 0, or
 * -1 with hp_err set.
 */
static int
http_header(struct http_parser *p, const char *s, size_t len,
    struct http_event *ev)
{
	const char *v;
	size_t n, i, vlen;

	if (is_ows(s[0])) {
		snprintf(p->hp_err, sizeof(p->hp_err),
		    "obsolete header line folding");
		return -1;
	}
	for (n = 0; n < len && is_tchar((unsigned char)s[n]); n++)
		;
	if (n == 0 || n == len || s[n] != ':') {
		http_bad(p, "bad header line", s, len);
		return -1;
	}
	for (i = n + 1; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			snprintf(p->hp_err, sizeof(p->hp_err),
			    "control character in header \"%.*s\"", (int)n, s);
			return -1;
		}
	v = s + n + 1;
	vlen = len - n - 1;
	while (vlen > 0 && is_ows(*v))
		v++, vlen--;
	while (vlen > 0 && is_ows(v[vlen - 1]))
		vlen--;
	if (n == 14 && strncasecmp(s, "Content-Length", n) == 0 &&
	    http_length(p, v, vlen) == -1)
		return -1;
	if (n == 17 && strncasecmp(s, "Transfer-Encoding", n) == 0 &&
	    http_te(p, v, vlen) == -1)
		return -1;
	ev->he_type = HTTP_EV_HEADER;
	ev->he_data = s;
	ev->he_len = len;
	ev->he_name = s;
	ev->he_namelen = n;
	ev->he_value = v;
	ev->he_valuelen = vlen;
	return 0;
}

/*
 * The blank line after the headers: decide how the body is framed,
 * following RFC 9112 section 6.3 in its order.
 */
static void
http_head_end(struct http_parser *p, struct http_event *ev)
{
	ev->he_type = HTTP_EV_HEAD_END;
	p->hp_responses++;
	if (p->hp_code == 101) {
		http_fail(p, ev, HTTP_ERR_PROTO,
		    "unexpected 101 Switching Protocols");
		return;
	}
	if (p->hp_code < 200) {
		/*
		 * An interim response: the real one follows.  A server that
		 * sends nothing else must not keep us forever.
		 */
		if (p->hp_responses > 32) {
			http_fail(p, ev, HTTP_ERR_PROTO,
			    "too many 1xx responses");
			return;
		}
		p->hp_state = HS_STATUS;
		p->hp_framing = HTTP_FR_NONE;
		return;
	}
	if (p->hp_te && p->hp_minor == 0) {
		http_fail(p, ev, HTTP_ERR_PROTO,
		    "Transfer-Encoding in an HTTP/1.0 response");
		return;
	}
	if (p->hp_head || p->hp_code == 204 || p->hp_code == 304) {
		p->hp_framing = HTTP_FR_NONE;
		p->hp_state = HS_END;
	} else if (p->hp_te && p->hp_techunked) {
		p->hp_framing = HTTP_FR_CHUNKED;
		p->hp_state = HS_CHUNK_SIZE;
	} else if (p->hp_te) {
		p->hp_framing = HTTP_FR_CLOSE;
		p->hp_state = HS_CLOSE;
	} else if (p->hp_haslen) {
		p->hp_framing = HTTP_FR_LENGTH;
		p->hp_left = p->hp_length;
		p->hp_state = p->hp_length > 0 ? HS_LENGTH : HS_END;
	} else {
		p->hp_framing = HTTP_FR_CLOSE;
		p->hp_state = HS_CLOSE;
	}
}

/*
 * A chunk-size line: hex digits, optional whitespace, then nothing or
 * ";" and extensions, which are ignored.  Return 0, or -1 with hp_err
 * set.
 */
static int
http_chunk_size(struct http_parser *p, const char *s, size_t len)
{
	unsigned long long v;
	size_t i;
	int rc;

	rc = num_scan(s, len, 16, CHUNK_MAX, &v, &i);
	if (rc == NUM_RANGE) {
		snprintf(p->hp_err, sizeof(p->hp_err), "chunk size too large");
		return -1;
	}
	if (rc == NUM_BAD)
		goto bad;
	while (i < len && is_ows(s[i]))
		i++;
	if (i < len && s[i] != ';')
		goto bad;
	p->hp_left = v;
	return 0;
bad:
	http_bad(p, "bad chunk size", s, len);
	return -1;
}

/*
 * Act on the complete line s, len bytes, in the current state.
 */
static void
http_line(struct http_parser *p, const char *s, size_t len,
    struct http_event *ev)
{
	switch (p->hp_state) {
	case HS_STATUS:
		if (http_status(p, s, len) == -1) {
			http_bad(p, "bad status line", s, len);
			http_fail(p, ev, HTTP_ERR_PROTO, NULL);
			return;
		}
		p->hp_haslen = p->hp_te = p->hp_techunked = 0;
		ev->he_type = HTTP_EV_STATUS;
		ev->he_data = s;
		ev->he_len = len;
		p->hp_state = HS_HEADER;
		return;
	case HS_HEADER:
		if (len == 0) {
			p->hp_blockbytes = 0;
			http_head_end(p, ev);
		} else if (http_header(p, s, len, ev) == -1)
			http_fail(p, ev, HTTP_ERR_PROTO, NULL);
		return;
	case HS_CHUNK_SIZE:
		if (http_chunk_size(p, s, len) == -1)
			http_fail(p, ev, HTTP_ERR_PROTO, NULL);
		else
			p->hp_state = p->hp_left > 0 ? HS_CHUNK_DATA :
			    HS_TRAILER;
		return;
	case HS_CHUNK_CRLF:
		if (len != 0)
			http_fail(p, ev, HTTP_ERR_PROTO,
			    "chunk data longer than its size");
		else
			p->hp_state = HS_CHUNK_SIZE;
		return;
	case HS_TRAILER:
		/* Trailer fields are read, checked for length and dropped. */
		if (len == 0)
			p->hp_state = HS_END;
		return;
	default:
		return;
	}
}

/*
 * One step of a line-oriented state: gather a line, then act on it.
 * Return the bytes used; ev says what happened (HTTP_EV_NONE while a
 * line is still incomplete).
 */
static size_t
http_line_state(struct http_parser *p, const char *buf, size_t len,
    struct http_event *ev)
{
	size_t used, n;
	int r, inhead;

	r = http_getline(p, buf, len, &used);
	inhead = p->hp_state == HS_STATUS || p->hp_state == HS_HEADER ||
	    p->hp_state == HS_TRAILER;
	if (inhead) {
		p->hp_blockbytes += used;
		if (p->hp_blockbytes > HTTP_HEADMAX) {
			snprintf(p->hp_err, sizeof(p->hp_err),
			    "%s block longer than %d bytes",
			    p->hp_state == HS_TRAILER ? "trailer" : "header",
			    HTTP_HEADMAX);
			http_fail(p, ev, HTTP_ERR_PROTO, NULL);
			return used;
		}
	}
	if (r == -1) {
		snprintf(p->hp_err, sizeof(p->hp_err), "%s longer than %d bytes",
		    inhead ? "header line" : "chunk-size line", HTTP_LINEMAX);
		http_fail(p, ev, HTTP_ERR_PROTO, NULL);
		return used;
	}
	if (r == 0)
		return used;
	n = p->hp_linelen;
	p->hp_linelen = 0;
	http_line(p, p->hp_line, n, ev);
	return used;
}

/*
 * The connection has closed: report the end of a close-delimited body,
 * or say in ev and hp_err (kind HTTP_ERR_CLOSED) how much was missing.
 */
void
http_eof(struct http_parser *p, struct http_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (p->hp_state) {
	case HS_CLOSE:
	case HS_END:
	case HS_DONE:
		p->hp_state = HS_DONE;
		ev->he_type = HTTP_EV_END;
		return;
	case HS_ERROR:
		ev->he_type = HTTP_EV_ERROR;
		return;
	case HS_STATUS:
	case HS_HEADER:
		snprintf(p->hp_err, sizeof(p->hp_err), "%s",
		    p->hp_responses == 0 && p->hp_blockbytes == 0 ?
		    "connection closed before any response" :
		    "connection closed in the response header");
		break;
	case HS_LENGTH:
		snprintf(p->hp_err, sizeof(p->hp_err),
		    "transfer closed with %llu of %llu bytes",
		    (unsigned long long)p->hp_body,
		    (unsigned long long)p->hp_length);
		break;
	default:
		snprintf(p->hp_err, sizeof(p->hp_err),
		    "transfer closed before the last chunk (%llu bytes "
		    "received)", (unsigned long long)p->hp_body);
		break;
	}
	http_fail(p, ev, HTTP_ERR_CLOSED, NULL);
}

/* One step of http_feed(); it may use bytes and report nothing. */
static size_t
http_step(struct http_parser *p, const char *buf, size_t len,
    struct http_event *ev)
{
	size_t n;

	memset(ev, 0, sizeof(*ev));
	switch (p->hp_state) {
	case HS_END:
		p->hp_state = HS_DONE;
		ev->he_type = HTTP_EV_END;
		return 0;
	case HS_DONE:
		ev->he_type = HTTP_EV_END;
		return 0;
	case HS_ERROR:
		ev->he_type = HTTP_EV_ERROR;
		return 0;
	case HS_CLOSE:
	case HS_LENGTH:
	case HS_CHUNK_DATA:
		if (len == 0)
			return 0;
		n = len;
		if (p->hp_state != HS_CLOSE && n > p->hp_left)
			n = (size_t)p->hp_left;
		ev->he_type = HTTP_EV_BODY;
		ev->he_data = buf;
		ev->he_len = n;
		p->hp_body += n;
		if (p->hp_state != HS_CLOSE) {
			p->hp_left -= n;
			if (p->hp_left == 0)
				p->hp_state = p->hp_state == HS_LENGTH ?
				    HS_END : HS_CHUNK_CRLF;
		}
		return n;
	default:
		break;
	}
	if (len == 0)
		return 0;
	return http_line_state(p, buf, len, ev);
}

/*
 * Consume up to len bytes of a response and report the next event in ev.
 * Return how many bytes were used; call again with the rest.  ev is
 * HTTP_EV_NONE only when every byte was used and more input is needed.
 * Pointers in ev stay valid until the next call.  After HTTP_EV_END or
 * HTTP_EV_ERROR the parser uses nothing more.
 */
size_t
http_feed(struct http_parser *p, const char *buf, size_t len,
    struct http_event *ev)
{
	size_t used = 0;

	/*
	 * Lines that make no event (chunk sizes, trailers) are skipped; the
	 * end of the trailers must still report the end at once.
	 */
	do
		used += http_step(p, buf + used, len - used, ev);
	while (ev->he_type == HTTP_EV_NONE &&
	    (used < len || p->hp_state == HS_END));
	return used;
}
