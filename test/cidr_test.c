/*
 * cidr_test.c: drive address range parsing and matching.
 *
 * usage: cidr_test parse range...
 *	  cidr_test match address range...
 *
 * "parse" prints each range as cidr_fmt() prints it back, one a line.
 * "match" builds a socket address from address (an IPv4 or IPv6
 * literal, as the kernel would hand it over from accept(), or the word
 * "unix" for a local socket), parses every range, and prints "match"
 * and the first range that holds it, or "no match".  Errors go to
 * standard error as one line, "cidr_test: reason", with exit status 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#define RANGES_MAX	16

static _Noreturn void usage(void);
static int	fail(const char *);
static int	do_parse(int, char **);
static int	do_match(const char *, int, char **);

static void
usage(void)
{
	fprintf(stderr, "usage: cidr_test parse range... | "
	    "match address range...\n");
	exit(2);
}

static int
fail(const char *msg)
{
	fprintf(stderr, "cidr_test: %s\n", msg);
	return 1;
}

static int
do_parse(int n, char **argv)
{
	struct cidr c;
	char err[256], buf[CIDR_STRMAX];
	int i;

	for (i = 0; i < n; i++) {
		if (cidr_parse(argv[i], &c, err, sizeof(err)) == -1)
			return fail(err);
		cidr_fmt(&c, buf, sizeof(buf));
		printf("%s\n", buf);
	}
	return 0;
}

static int
do_match(const char *addr, int n, char **argv)
{
	struct cidr list[RANGES_MAX];
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char err[256], buf[CIDR_STRMAX];
	int i;

	if (n > RANGES_MAX)
		return fail("too many ranges");
	memset(&ss, 0, sizeof(ss));
	if (strcmp(addr, "unix") == 0)
		ss.ss_family = AF_UNIX;
	else if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return fail("bad address");
	for (i = 0; i < n; i++)
		if (cidr_parse(argv[i], &list[i], err, sizeof(err)) == -1)
			return fail(err);
	for (i = 0; i < n; i++) {
		if (cidr_match(&list[i], (struct sockaddr *)&ss)) {
			cidr_fmt(&list[i], buf, sizeof(buf));
			printf("match %s\n", buf);
			break;
		}
	}
	/* The list form must agree with the one-by-one answer. */
	if (cidr_match_list(list, (size_t)n, (struct sockaddr *)&ss) != (i < n))
		return fail("cidr_match_list disagrees with cidr_match");
	if (i == n)
		printf("no match\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc >= 3 && strcmp(argv[1], "parse") == 0)
		return do_parse(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "match") == 0)
		return do_match(argv[2], argc - 3, argv + 3);
	usage();
	/* NOTREACHED */
	return 2;
}
