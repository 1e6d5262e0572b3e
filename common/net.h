/*
 * net.h: TCP sockets: resolve and connect with a deadline, listen,
 * accept.  Every descriptor returned is close-on-exec.
 */
#ifndef COMMON_NET_H
#define COMMON_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

int	 net_socket(int family, int type, int protocol);
int	 net_connect(const char *host, const char *port, int family,
	    int64_t deadline, char *err, size_t errlen);
int	 net_listen(const char *host, const char *port, int backlog,
	    char *err, size_t errlen);
int	 net_accept(int lfd, struct sockaddr *, socklen_t *, int nonblock);

#endif
