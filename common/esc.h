/*
 * esc.h: bytes a peer sent, made safe to show: in a log line, in an error
 * message, on a terminal.  Control characters and bytes that are not
 * text become \xHH, as Apache writes client data in its logs, so a
 * hostile peer can neither forge a line nor drive a terminal.
 */
#ifndef COMMON_ESC_H
#define COMMON_ESC_H

#include <stddef.h>

#define ESC_QUOTED	0x01	/* " and \ as \" and \\: a field in quotes */
#define ESC_TEXT	0x02	/* keep tab and newline: text for a terminal */
#define ESC_UTF8	0x04	/* keep well-formed UTF-8, but C1 controls */

size_t	 esc_bytes(char *dst, size_t dstlen, const void *src, size_t n,
	    int flags);
int	 esc_locale(void);

#endif
