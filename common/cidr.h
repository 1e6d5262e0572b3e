/*
 * cidr.h: IPv4 and IPv6 address ranges ("127.0.0.0/8", "::1/128", a
 * bare address for one host) and matching a peer's address against a
 * list of them.
 */
#ifndef COMMON_CIDR_H
#define COMMON_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Room for "ffff:...:ffff/128" and a NUL, rounded up. */
#define CIDR_STRMAX	64

struct cidr {
	int		ci_family;	/* AF_INET or AF_INET6 */
	unsigned char	ci_addr[16];	/* network, in network byte order */
	int		ci_bits;	/* prefix length: 0-32 or 0-128 */
};

int	 cidr_parse(const char *, struct cidr *, char *err, size_t errlen);
int	 cidr_match(const struct cidr *, const struct sockaddr *);
int	 cidr_match_list(const struct cidr *, size_t,
	    const struct sockaddr *);
void	 cidr_fmt(const struct cidr *, char *buf, size_t len);

#endif
