/*
 * tcpinfo.c: the bytes a connection has carried either way, from the
 * kernel's own counts, for Handler exec: the program reads and writes
 * the socket itself, so hellod never sees a byte.  Linux's TCP_INFO
 * has them (tcpi_bytes_received since 4.1, tcpi_bytes_acked since
 * 4.2); elsewhere, and on an older kernel, there is no count and
 * tcpinfo_bytes() says so.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#if defined(__linux__) && !defined(HELLOD_PORTABLE)
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#define HAVE_TCP_BYTES	1
/* tcpi_state's values, as the kernel numbers them (net/tcp_states.h). */
#define TS_FIN_WAIT2	5
#define TS_TIME_WAIT	6
#define TS_CLOSE_WAIT	8
#define TS_LAST_ACK	9
#define TS_CLOSING	11
#endif

#include <stddef.h>
#include <stdint.h>

#include "hellod.h"

/*
 * The bytes received on fd and those sent: acknowledged by the peer,
 * plus (with final) those still in the send queue, sent or not, when
 * the session is over and they are all it will ever get.  Return 0, or
 * -1 when the system does not count them.
 */
int
tcpinfo_bytes(int fd, int final, uint64_t *in, uint64_t *out)
{
#ifdef HAVE_TCP_BYTES
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int queued;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti.tcpi_bytes_received))
		return -1;
	/*
	 * The counts run in sequence numbers, and a FIN takes one: the
	 * client's once it came (TIME_WAIT, CLOSE_WAIT, LAST_ACK,
	 * CLOSING), ours once acknowledged (FIN_WAIT2, TIME_WAIT).
	 */
	*in = ti.tcpi_bytes_received;
	*out = ti.tcpi_bytes_acked;
	if (*in > 0 && (ti.tcpi_state == TS_TIME_WAIT ||
	    ti.tcpi_state == TS_CLOSE_WAIT || ti.tcpi_state == TS_LAST_ACK ||
	    ti.tcpi_state == TS_CLOSING))
		(*in)--;
	if (*out > 0 && (ti.tcpi_state == TS_FIN_WAIT2 ||
	    ti.tcpi_state == TS_TIME_WAIT))
		(*out)--;
	if (final && ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0)
		*out += (uint64_t)queued;
	return 0;
#else
	(void)fd;
	(void)final;
	(void)in;
	(void)out;
	return -1;
#endif
}
