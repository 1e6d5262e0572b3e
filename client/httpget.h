/*
 * httpget.h: the HTTP/1.1 fetcher's private declarations, grouped by the
 * file that defines them.
 */
#ifndef CLIENT_HTTPGET_H
#define CLIENT_HTTPGET_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses, as GNU wget's table. */
#define EX_OK		0
#define EX_GENERIC	1
#define EX_USAGE	2
#define EX_FILEIO	3
#define EX_NETWORK	4
#define EX_PROTOCOL	7
#define EX_SERVER	8

/* http.c */

#define HTTP_LINEMAX	8192	/* longest header line, CRLF excluded */
#define HTTP_HEADMAX	65536	/* longest header (or trailer) block */
#define HTTP_QUOTE	40	/* bytes of a bad line quoted in hp_err */

enum http_evtype {
	HTTP_EV_NONE,		/* all input used; feed more */
	HTTP_EV_STATUS,		/* the status line is in he_data, he_len */
	HTTP_EV_HEADER,		/* a header line; name and value split out */
	HTTP_EV_HEAD_END,	/* end of a header block; see hp_code */
	HTTP_EV_BODY,		/* body bytes in he_data, he_len */
	HTTP_EV_END,		/* the response is complete */
	HTTP_EV_ERROR		/* hp_err says why; hp_errkind says what */
};

enum http_errkind {
	HTTP_ERR_PROTO = 1,	/* the response breaks HTTP/1.1 or a limit */
	HTTP_ERR_CLOSED		/* the connection ended before the response */
};

enum http_framing {
	HTTP_FR_NONE,		/* no body: HEAD, 1xx, 204, 304 */
	HTTP_FR_LENGTH,		/* Content-Length bytes */
	HTTP_FR_CHUNKED,	/* chunked transfer coding */
	HTTP_FR_CLOSE		/* until the server closes */
};

struct http_event {
	int		 he_type;
	const char	*he_data;
	size_t		 he_len;
	const char	*he_name;
	size_t		 he_namelen;
	const char	*he_value;
	size_t		 he_valuelen;
};

struct http_parser {
	int		 hp_state;
	int		 hp_head;	/* the request was HEAD */
	int		 hp_code;	/* status code of the current block */
	int		 hp_minor;	/* HTTP/1.x */
	int		 hp_framing;	/* decided at the end of the head */
	int		 hp_haslen;
	int		 hp_te;		/* a Transfer-Encoding was seen */
	int		 hp_techunked;	/* ... and chunked was its last coding */
	int		 hp_errkind;
	uint64_t	 hp_length;	/* Content-Length, when hp_haslen */
	uint64_t	 hp_left;	/* bytes left of the body or chunk */
	uint64_t	 hp_body;	/* body bytes handed out so far */
	size_t		 hp_blockbytes;	/* bytes of this header block */
	size_t		 hp_linelen;
	int		 hp_responses;	/* header blocks seen, 1xx included */
	char		 hp_err[4 * HTTP_QUOTE + 64];
	char		 hp_line[HTTP_LINEMAX + 2];
};

void	 http_init(struct http_parser *, int head);
size_t	 http_feed(struct http_parser *, const char *, size_t,
	    struct http_event *);
void	 http_eof(struct http_parser *, struct http_event *);

/* url.c */

#define URL_HOSTMAX	256
#define URL_MAX		8192	/* longest request target */

struct url {
	char	u_host[URL_HOSTMAX];	/* without brackets */
	char	u_port[6];
	char	u_hosthdr[URL_HOSTMAX + 8];	/* Host: value */
	char	u_target[URL_MAX];	/* encoded path and query */
};

int	 url_parse(const char *, struct url *, char *err, size_t errlen);
int	 url_resolve(const struct url *, const char *ref, char *out,
	    size_t outlen);
void	 url_fmt(const struct url *, char *buf, size_t len);
void	 url_filename(const struct url *, char *buf, size_t len);

/* output.c */

struct output {
	int	 o_fd;
	int	 o_stdout;	/* writing to standard output */
	int	 o_force;	/* may replace an existing file */
	int	 o_direct;	/* o_final is written in place, no o_tmp */
	volatile sig_atomic_t *o_intr;	/* set by a signal handler: stop */
	char	 o_final[4096];
	char	 o_tmp[4096 + 32];
};

int	 out_exists(const char *path);
int	 out_open(struct output *, const char *path, int force, char *err,
	    size_t errlen);
int	 out_write(struct output *, const void *, size_t, char *err,
	    size_t errlen);
int	 out_commit(struct output *, char *err, size_t errlen);
void	 out_abort(struct output *);

struct progress {
	int	 pr_on;
	int	 pr_drawn;
	int64_t	 pr_start;	/* io_now() at the first byte */
	int64_t	 pr_last;	/* io_now() at the last redraw */
	int64_t	 pr_total;	/* -1 when unknown */
	uint64_t pr_bytes;
	int	 pr_len;	/* columns the last redraw took */
};

void	 prog_start(struct progress *, int on, int64_t total);
void	 prog_update(struct progress *, size_t);
void	 prog_end(struct progress *);
void	 prog_summary(const struct progress *, const char *);

#endif
