/*
 * exec_hello: the hello protocol on standard input and output, as a
 * program for Handler exec (and tcpserver): "welcome!", then "hello,
 * X!" for each line X, until "exit" or the end of input.  The suites
 * and scripts/bench-handler run it; one read() and one write() a line.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define MAXLINE	1024

static int
put(const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(1, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Answer line (len bytes, no newline); return 1 on "exit". */
static int
answer(char *line, size_t len)
{
	char out[MAXLINE + 16];

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 4 && memcmp(line, "exit", 4) == 0)
		return 1;
	memcpy(out, "hello, ", 7);
	memcpy(out + 7, line, len);
	memcpy(out + 7 + len, "!\n", 2);
	return put(out, len + 9) == -1;
}

int
main(void)
{
	char buf[MAXLINE + 2], *nl;
	size_t have = 0, used;
	ssize_t n;

	if (put("welcome!\n", 9) == -1)
		return 1;
	for (;;) {
		if ((n = read(0, buf + have, sizeof(buf) - have)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return 0;
		}
		have += (size_t)n;
		used = 0;
		while ((nl = memchr(buf + used, '\n', have - used)) != NULL) {
			if (answer(buf + used, (size_t)(nl - (buf + used))))
				return 0;
			used = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		if (have == sizeof(buf))
			return 1;	/* a line too long */
	}
}
