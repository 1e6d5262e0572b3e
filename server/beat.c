/*
 * beat.c: a worker's heartbeat, which WorkerTimeout watches (pool.c):
 * every wait of a worker, in any file, posts it and is cut short enough
 * to post it again in time.
 */
#include "hellod.h"
#include "io.h"

/*
 * Post the heartbeat WorkerTimeout watches: the worker is not stuck.
 * One store to the slot, no system call beyond the clock.
 */
void
beat_post(const struct worker *w)
{
	if (w->w_beatms > 0)
		w->w_slot->ss_beat = io_now();
}

/*
 * The deadline a wait may use: deadline itself, or, with WorkerTimeout,
 * no later than the next heartbeat is due.  A wait cut short this way
 * beats and waits again.
 */
int64_t
beat_bound(const struct worker *w, int64_t deadline)
{
	int64_t beat;

	if (w->w_beatms == 0)
		return deadline;
	beat = io_now() + w->w_beatms;
	return deadline == IO_NEVER || beat < deadline ? beat : deadline;
}
