/*
 * proxy.c: parse the PROXY protocol header, version 1 (one text line)
 * or 2 (binary), that a load balancer sends before its client's bytes.
 * Pure: bytes in, a verdict out; no reads, no logging, no state kept
 * between calls.
 *
 * The caller keeps what it has read in one buffer and calls
 * proxy_parse() on the whole of it each time more arrives.  The verdict
 * on a buffer never depends on bytes past the point where it was
 * reached, so a header cut into any number of reads gets the answer it
 * gets whole, and anything that cannot begin a header is refused at
 * its first byte: a client that speaks first without a header is not
 * kept waiting for the deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "num.h"
#include "proxy.h"

#define V1_PREFIX	"PROXY "
#define V2_SIGLEN	12
#define V2_FIXED	16	/* signature, version/command, family, length */

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_AF_UNSPEC	0x0
#define V2_AF_INET	0x1
#define V2_AF_INET6	0x2
#define V2_AF_UNIX	0x3
#define V2_TR_MAX	0x2	/* UNSPEC, STREAM, DGRAM */

static const unsigned char v2_sig[V2_SIGLEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static enum proxy_status invalid(struct proxy_hdr *, const char *);
static int	v1_port(const char *);
static int	v1_addr(int, const char *, const char *, struct sockaddr_storage *,
		    socklen_t *);
static enum proxy_status v1_line(char *, struct proxy_hdr *);
static enum proxy_status v1_parse(const unsigned char *, size_t,
		    struct proxy_hdr *);
static enum proxy_status v2_addrs(const unsigned char *, int,
		    struct proxy_hdr *);
static enum proxy_status v2_parse(const unsigned char *, size_t,
		    struct proxy_hdr *);

static enum proxy_status
invalid(struct proxy_hdr *ph, const char *why)
{
	ph->ph_err = why;
	return PROXY_INVALID;
}

/* A v1 port: 0 to 65535 in decimal, no sign, no leading zero. */
static int
v1_port(const char *s)
{
	unsigned long long v;
	size_t n = strlen(s), used;

	if (num_scan(s, n, 10, 65535, &v, &used) != NUM_OK || used != n ||
	    (s[0] == '0' && n > 1))
		return -1;
	return (int)v;
}

/*
 * Fill ss with address text a and port text p of family af.  inet_pton()
 * already refuses leading zeros in IPv4, as the spec asks.
 */
static int
v1_addr(int af, const char *a, const char *p, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	int port;

	memset(ss, 0, sizeof(*ss));
	if ((port = v1_port(p)) == -1)
		return -1;
	if (af == AF_INET) {
		if (inet_pton(AF_INET, a, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		if (inet_pton(AF_INET6, a, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
}

/*
 * Decode a whole v1 line, CRLF cut off, NUL-terminated: "PROXY" and five
 * fields, each after exactly one space, or "PROXY UNKNOWN" and anything.
 */
static enum proxy_status
v1_line(char *line, struct proxy_hdr *ph)
{
	char *f[6], *p;
	int n, af;

	for (n = 0, p = line; n < 6; n++) {
		f[n] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	if (strcmp(f[1], "UNKNOWN") == 0) {
		ph->ph_local = 1;
		return PROXY_DONE;
	}
	if (strcmp(f[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return invalid(ph, "v1: protocol not TCP4, TCP6 or UNKNOWN");
	if (n != 5)
		return invalid(ph, "v1: not five fields after PROXY");
	if (v1_addr(af, f[2], f[4], &ph->ph_src, &ph->ph_addrlen) == -1)
		return invalid(ph, "v1: bad source address or port");
	if (v1_addr(af, f[3], f[5], &ph->ph_dst, &ph->ph_addrlen) == -1)
		return invalid(ph, "v1: bad destination address or port");
	return PROXY_DONE;
}

/*
 * Version 1: wait for CRLF within the first 107 bytes, refusing at once
 * what strays from "PROXY " or ends a line with a lone CR or LF.
 */
static enum proxy_status
v1_parse(const unsigned char *b, size_t len, struct proxy_hdr *ph)
{
	char line[PROXY_V1_MAX + 1];
	size_t i;

	/* The CR of a 107-byte line is its 106th byte, at index 105. */
	for (i = 0; i < len && i < PROXY_V1_MAX - 1; i++) {
		if (i < sizeof(V1_PREFIX) - 1) {
			if (b[i] != (unsigned char)V1_PREFIX[i])
				return invalid(ph, "not a PROXY protocol header");
			continue;
		}
		if (b[i] == '\0')
			return invalid(ph, "v1: NUL byte in the header");
		if (b[i] == '\n')
			return invalid(ph, "v1: line ends in LF without CR");
		if (b[i] != '\r')
			continue;
		if (i + 1 == len)
			return PROXY_MORE;
		if (b[i + 1] != '\n')
			return invalid(ph, "v1: CR without LF");
		memcpy(line, b, i);
		line[i] = '\0';
		ph->ph_version = 1;
		ph->ph_len = i + 2;
		return v1_line(line, ph);
	}
	if (i == PROXY_V1_MAX - 1)
		return invalid(ph, "v1: no CRLF in the first 107 bytes");
	return PROXY_MORE;
}

/* Copy the source and destination of family fam from the address block a. */
static enum proxy_status
v2_addrs(const unsigned char *a, int fam, struct proxy_hdr *ph)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ph->ph_src;
	struct sockaddr_in *d4 = (struct sockaddr_in *)&ph->ph_dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ph->ph_src;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&ph->ph_dst;

	memset(&ph->ph_src, 0, sizeof(ph->ph_src));
	memset(&ph->ph_dst, 0, sizeof(ph->ph_dst));
	if (fam == V2_AF_INET) {
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);
		memcpy(&d4->sin_port, a + 10, 2);
		ph->ph_addrlen = sizeof(*s4);
	} else {
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
		ph->ph_addrlen = sizeof(*s6);
	}
	return PROXY_DONE;
}

/*
 * Version 2: the signature, version 2, a known command, then (for PROXY)
 * a known family whose addresses fit the announced length.  Bytes past
 * the addresses are TLVs and are skipped whole.
 */
static enum proxy_status
v2_parse(const unsigned char *b, size_t len, struct proxy_hdr *ph)
{
	size_t n, alen, need;
	int cmd, fam;

	n = len < V2_SIGLEN ? len : V2_SIGLEN;
	if (memcmp(b, v2_sig, n) != 0)
		return invalid(ph, "not a PROXY protocol header");
	if (len <= V2_SIGLEN)
		return PROXY_MORE;
	if (b[12] >> 4 != 2)
		return invalid(ph, "v2: version is not 2");
	cmd = b[12] & 0x0f;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return invalid(ph, "v2: command is not LOCAL or PROXY");
	if (len < 14)
		return PROXY_MORE;
	fam = b[13] >> 4;
	if (cmd == V2_CMD_PROXY && (fam > V2_AF_UNIX || (b[13] & 0x0f) > V2_TR_MAX))
		return invalid(ph, "v2: unknown address family or transport");
	if (len < V2_FIXED)
		return PROXY_MORE;
	alen = (size_t)b[14] << 8 | b[15];
	if (V2_FIXED + alen > PROXY_V2_MAX)
		return invalid(ph, "v2: header longer than 1024 bytes");
	need = fam == V2_AF_INET ? 12 : fam == V2_AF_INET6 ? 36 :
	    fam == V2_AF_UNIX ? 216 : 0;
	if (cmd == V2_CMD_PROXY && alen < need)
		return invalid(ph, "v2: length too short for the address family");
	if (len < V2_FIXED + alen)
		return PROXY_MORE;
	ph->ph_version = 2;
	ph->ph_len = V2_FIXED + alen;
	/*
	 * LOCAL is the balancer's own health check; UNSPEC and AF_UNIX carry
	 * no client IP.  The spec lets the receiver use the real peer.
	 */
	if (cmd == V2_CMD_LOCAL || fam == V2_AF_UNSPEC || fam == V2_AF_UNIX ||
	    (b[13] & 0x0f) == 0) {
		ph->ph_local = 1;
		ph->ph_check = cmd == V2_CMD_LOCAL;
		return PROXY_DONE;
	}
	return v2_addrs(b + V2_FIXED, fam, ph);
}

/*
 * Look for a PROXY protocol header at the start of the len bytes at buf.
 * Return PROXY_MORE while they are a valid beginning of one,
 * PROXY_DONE with ph filled in (ph_len bytes are the header; what
 * follows is the client's), or PROXY_INVALID with ph_err saying why.
 * No byte past ph_len, or past the point of refusal, is looked at.
 */
enum proxy_status
proxy_parse(const void *buf, size_t len, struct proxy_hdr *ph)
{
	const unsigned char *b = buf;

	memset(ph, 0, sizeof(*ph));
	if (len == 0)
		return PROXY_MORE;
	if (b[0] == v2_sig[0])
		return v2_parse(b, len, ph);
	return v1_parse(b, len, ph);
}
