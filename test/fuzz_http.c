/*
 * fuzz_http: libFuzzer entry for the HTTP response parser.  The first
 * input byte picks how the rest is cut into feeds, so a response split
 * at every place gets tried; the parser must never read out of bounds,
 * loop, or hand out more body than it was given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "httpget.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_parser hp;
	struct http_event ev;
	size_t step, off = 0, n, used, body = 0;

	if (size == 0)
		return 0;
	step = data[0] == 0 ? size : data[0];
	http_init(&hp, data[0] & 1 ? 0 : 1);
	data++;
	size--;
	while (off < size) {
		n = size - off < step ? size - off : step;
		used = http_feed(&hp, (const char *)data + off, n, &ev);
		if (used > n)
			abort();
		off += used;
		if (ev.he_type == HTTP_EV_BODY)
			body += ev.he_len;
		if (ev.he_type == HTTP_EV_END || ev.he_type == HTTP_EV_ERROR)
			return 0;
		if (used == 0 && ev.he_type == HTTP_EV_NONE)
			abort();	/* no progress: would spin */
	}
	if (body > size)
		abort();
	http_eof(&hp, &ev);
	return 0;
}
