/*
 * addr.h: parsing "host:port", "[v6addr]:port" and "*:port", and
 * printing socket addresses the same way.
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_HOSTMAX	256
#define ADDR_PORTMAX	6
/* "[" + INET6_ADDRSTRLEN + "]:" + port, rounded up. */
#define ADDR_STRMAX	(ADDR_HOSTMAX + ADDR_PORTMAX + 4)

struct hostport {
	char	hp_host[ADDR_HOSTMAX];	/* "" means every address ("*") */
	char	hp_port[ADDR_PORTMAX];	/* decimal, 1 to 65535 */
};

int	 addr_parse(const char *, struct hostport *, char *err, size_t errlen);
int	 addr_port(const char *, char *err, size_t errlen);
int	 addr_fmt(const struct sockaddr *, socklen_t, char *buf, size_t len);
const char *addr_unbracket(const char *, char *buf, size_t len);
void	 addr_fmt_hp(const struct hostport *, char *buf, size_t len);

#endif
