/*
 * proxy_test.c: drive the PROXY protocol parser from bats.
 *
 * usage: proxy_test [-s N] < bytes
 *
 * Reads standard input whole, then hands the parser the first N bytes,
 * then the first 2N, and so on (default: all at once), as a server
 * would after each read, until it decides.  Prints one line:
 *
 *	more				every byte read, still undecided
 *	v1 SRC DST len L rest R		a header of L bytes, R bytes after it
 *	v1 local len L rest R		a header that carries no address
 *	invalid: REASON
 *
 * with SRC and DST printed as addr_fmt() prints them, and v2 for
 * version 2.  Exit status 0, or 2 on a usage or read error.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "proxy.h"

#define INMAX	(64 * 1024)

static unsigned char in[INMAX];

int
main(int argc, char *argv[])
{
	struct proxy_hdr ph;
	enum proxy_status st = PROXY_MORE;
	char src[ADDR_STRMAX], dst[ADDR_STRMAX];
	size_t len = 0, step = 0, have;
	ssize_t n;

	if (argc == 3 && strcmp(argv[1], "-s") == 0)
		step = (size_t)strtoul(argv[2], NULL, 10);
	else if (argc != 1) {
		fprintf(stderr, "usage: proxy_test [-s N] < bytes\n");
		return 2;
	}
	while ((n = read(0, in + len, sizeof(in) - len)) > 0)
		len += (size_t)n;
	if (n == -1) {
		perror("proxy_test: read");
		return 2;
	}
	if (step == 0)
		step = len > 0 ? len : 1;
	for (have = 0; st == PROXY_MORE && have < len; ) {
		have = have + step < len ? have + step : len;
		st = proxy_parse(in, have, &ph);
	}
	if (st == PROXY_MORE)
		printf("more\n");
	else if (st == PROXY_INVALID)
		printf("invalid: %s\n", ph.ph_err);
	else if (ph.ph_local)
		printf("v%d local len %zu rest %zu\n", ph.ph_version, ph.ph_len,
		    len - ph.ph_len);
	else {
		addr_fmt((struct sockaddr *)&ph.ph_src, ph.ph_addrlen, src,
		    sizeof(src));
		addr_fmt((struct sockaddr *)&ph.ph_dst, ph.ph_addrlen, dst,
		    sizeof(dst));
		printf("v%d %s %s len %zu rest %zu\n", ph.ph_version, src, dst,
		    ph.ph_len, len - ph.ph_len);
	}
	return 0;
}
