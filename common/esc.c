/*
 * esc.c: the one escaping of peer bytes that hellod's logs, hello's
 * terminal output and httpget's messages share (see esc.h).
 */
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"

static size_t	esc_utf8(const unsigned char *, size_t);

/*
 * The length of the well-formed UTF-8 sequence at s (n bytes left), or 0
 * when there is none or it encodes a C1 control (U+0080 to U+009F),
 * which some terminals obey as they do ESC [.  Overlong forms,
 * surrogates and values past U+10FFFF are not well-formed (RFC 3629).
 */
static size_t
esc_utf8(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xc2)
		lo = 0xa0;		/* not U+0080 to U+009F */
	else if (s[0] == 0xe0)
		lo = 0xa0;		/* not overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;		/* not a surrogate */
	else if (s[0] == 0xf0)
		lo = 0x90;		/* not overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;		/* not past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Write the n bytes at src into dst (dstlen bytes, NUL-terminated) with
 * every byte outside printable ASCII as \xHH, but for what flags keep
 * (tab and newline with ESC_TEXT, well-formed UTF-8 with ESC_UTF8), and
 * with ESC_QUOTED " and \ as \" and \\.  An escape or a character is
 * never cut: what does not fit whole is left out.  Return how many bytes
 * of src were written, so that a caller can show a long input in
 * pieces.  Nothing is allocated; errno is untouched.
 */
size_t
esc_bytes(char *dst, size_t dstlen, const void *src, size_t n, int flags)
{
	const unsigned char *s = src;
	size_t i = 0, o = 0, k;

	if (dstlen == 0)
		return 0;
	while (i < n) {
		k = 1;
		if ((flags & ESC_QUOTED) && (s[i] == '"' || s[i] == '\\')) {
			if (o + 2 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = (char)s[i];
		} else if ((s[i] >= 0x20 && s[i] < 0x7f) || ((flags &
		    ESC_TEXT) && (s[i] == '\t' || s[i] == '\n')) ||
		    ((flags & ESC_UTF8) && (k = esc_utf8(s + i, n - i)) > 0)) {
			if (o + k >= dstlen)
				break;
			memcpy(dst + o, s + i, k);
			o += k;
		} else {
			k = 1;
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, 5, "\\x%02x", s[i]);
			o += 4;
		}
		i += k;
	}
	dst[o] = '\0';
	return i;
}

/*
 * ESC_UTF8 when the user's locale (LC_ALL, LC_CTYPE, LANG) uses UTF-8,
 * else 0: then a terminal is shown ASCII only.  The program's own
 * locale stays "C", so that no character class of the user's changes
 * how a protocol is parsed.
 */
int
esc_locale(void)
{
	int utf8 = 0;

	if (setlocale(LC_CTYPE, "") != NULL) {
		utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
		(void)setlocale(LC_CTYPE, "C");
	}
	return utf8 ? ESC_UTF8 : 0;
}
