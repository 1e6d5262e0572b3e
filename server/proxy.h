/*
 * proxy.h: the PROXY protocol header a load balancer puts before a
 * client's bytes (HAProxy's proxy-protocol.txt, versions 1 and 2).
 * Kept apart from hellod.h because the parser is pure and is also
 * built into test/proxy_test and the fuzzer, which need nothing else
 * of the server.
 */
#ifndef HELLOD_PROXY_H
#define HELLOD_PROXY_H

#include <sys/socket.h>
#include <stddef.h>

#define PROXY_V1_MAX	107	/* bytes, CRLF included: the spec's worst case */
#define PROXY_V2_MAX	1024	/* bytes, 16-byte fixed part and TLVs included */
#define PROXY_HDR_MAX	PROXY_V2_MAX	/* a buffer this big holds any header */

enum proxy_status {
	PROXY_MORE,		/* a valid beginning: read more and call again */
	PROXY_DONE,		/* a whole, valid header */
	PROXY_INVALID		/* not a header we accept: close */
};

struct proxy_hdr {
	int		 ph_version;	/* 1 or 2 */
	/*
	 * 1 when the header carries no client address (v1 UNKNOWN, v2
	 * LOCAL, v2 AF_UNSPEC or AF_UNIX): the peer's own address stands.
	 */
	int		 ph_local;
	/*
	 * 1 for v2 LOCAL: a connection the balancer made on its own, not
	 * one it relays; HAProxy's health checks are these.
	 */
	int		 ph_check;
	struct sockaddr_storage ph_src;	/* the client, unless ph_local */
	struct sockaddr_storage ph_dst;	/* where the client connected to */
	socklen_t	 ph_addrlen;	/* of ph_src and of ph_dst */
	size_t		 ph_len;	/* bytes the header took */
	const char	*ph_err;	/* why, when PROXY_INVALID */
};

enum proxy_status proxy_parse(const void *, size_t, struct proxy_hdr *);

#endif
