/*
 * linereader.h: a buffered reader of LF or CRLF lines with a hard length
 * limit and a deadline.  All state lives in the caller's struct.
 */
#ifndef COMMON_LINEREADER_H
#define COMMON_LINEREADER_H

#include <stddef.h>
#include <stdint.h>

/* What lr_read() and lr_chunk() return. */
enum lr_status {
	LR_LINE,	/* a complete line (or chunk) is in *line, *len */
	LR_PARTIAL,	/* EOF after an unterminated line, handed back as is */
	LR_EOF,		/* EOF on a line boundary */
	LR_TOOLONG,	/* no '\n' within lr_max bytes (+ an optional CR) */
	LR_TIMEOUT,	/* the deadline passed first */
	LR_WAKE,	/* one of lr_wake[] became readable first */
	LR_ERROR	/* read or poll failed; errno says why */
};

struct linereader {
	int	 lr_fd;
	char	*lr_buf;	/* caller's buffer, lr_max + 2 bytes at least */
	size_t	 lr_cap;
	size_t	 lr_max;	/* longest line, terminator excluded */
	size_t	 lr_start;	/* first byte not yet handed out */
	size_t	 lr_end;	/* one past the last buffered byte */
	size_t	 lr_scan;	/* bytes from lr_start known to hold no '\n' */
	int	 lr_eof;
	int	 lr_wake[2];	/* descriptors that end a wait early, or -1 */
	int	 lr_block;	/* lr_fd: a blocking socket (see lr_fill()) */
	int	 lr_woke;	/* a signal ended the last recv() */
	uint64_t lr_bytes;	/* bytes read from lr_fd in all */
	int64_t	 lr_linems;	/* a line's time from its first byte, 0: any */
	int64_t	 lr_first;	/* io_now() when the pending line began, or 0 */
};

int	 lr_init(struct linereader *, int fd, char *buf, size_t cap,
	    size_t max);
int	 lr_read(struct linereader *, int64_t deadline, const char **line,
	    size_t *len);
int	 lr_chunk(struct linereader *, int64_t deadline, const char **data,
	    size_t *len);
size_t	 lr_buffered(const struct linereader *);

#endif
