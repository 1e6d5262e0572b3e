/*
 * fuzz_httpreq: libFuzzer entry for the status listener's request
 * parser.  The first input byte is the size of each read; the rest is
 * offered as a client would send it, growing by that much, and parsed
 * whole as well.  The parser must not read out of bounds, must point
 * only into its input, and must never turn an error it saw in the first
 * bytes into a success once more bytes arrive, nor disagree with itself
 * about a complete head.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const char *buf, size_t len, int r, const struct rq_request *rq)
{
	if (r != RQ_MORE && r != RQ_OK && r != 400 && r != 414 && r != 431 &&
	    r != 505)
		abort();
	if (r != RQ_OK)
		return;
	if (rq->rq_headlen == 0 || rq->rq_headlen > len ||
	    rq->rq_headlen > RQ_HEAD_MAX)
		abort();
	/* The path may be the constant "/" of an absolute form. */
	if (rq->rq_pathlen > 1 && (rq->rq_path < buf ||
	    rq->rq_path + rq->rq_pathlen > buf + len))
		abort();
	if (rq->rq_query != NULL && (rq->rq_query < buf ||
	    rq->rq_query + rq->rq_querylen > buf + len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rq_request rq, whole;
	const char *buf = (const char *)data + 1;
	size_t step, k, len;
	int r = RQ_MORE, rw;

	if (size == 0)
		return 0;
	step = data[0] == 0 ? size : data[0];
	len = size - 1;
	for (k = 0; k < len && r == RQ_MORE; ) {
		k = len - k < step ? len : k + step;
		r = rq_parse(buf, k, &rq);
		check(buf, k, r, &rq);
	}
	rw = rq_parse(buf, len, &whole);
	check(buf, len, rw, &whole);
	if (r != RQ_MORE && (r == RQ_OK) != (rw == RQ_OK))
		abort();
	if (r == RQ_OK && rq.rq_headlen != whole.rq_headlen)
		abort();
	return 0;
}
