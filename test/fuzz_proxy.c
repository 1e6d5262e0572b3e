/*
 * fuzz_proxy: libFuzzer entry for the PROXY protocol parser.  Besides
 * memory safety it checks the parser's promise to its caller: the
 * verdict on a prefix is "more" until some length, and from there on
 * every longer prefix gets that same verdict, so a header split across
 * reads is judged as it would be whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

#define CHECK_MAX	(PROXY_HDR_MAX + 64)	/* no verdict needs more */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr first, ph;
	enum proxy_status fst = PROXY_MORE, st;
	size_t k;

	for (k = 0; k <= size && k <= CHECK_MAX; k++) {
		st = proxy_parse(data, k, &ph);
		if (st == PROXY_DONE && (ph.ph_len > k ||
		    ph.ph_len > PROXY_HDR_MAX))
			abort();
		if (st == PROXY_INVALID && ph.ph_err == NULL)
			abort();
		if (fst == PROXY_MORE) {
			fst = st;
			first = ph;
			continue;
		}
		if (st != fst)
			abort();
		if (st == PROXY_DONE && (ph.ph_len != first.ph_len ||
		    ph.ph_local != first.ph_local ||
		    memcmp(&ph.ph_src, &first.ph_src, sizeof(ph.ph_src)) != 0))
			abort();
		if (st == PROXY_INVALID && strcmp(ph.ph_err, first.ph_err) != 0)
			abort();
	}
	/* Every header we accept is decided by its 1024th byte. */
	if (size > CHECK_MAX && fst == PROXY_MORE)
		abort();
	return 0;
}
