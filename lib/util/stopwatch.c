/*
 * Stopwatch on the monotonic clock, with an optional ring of split times.
 *
 * Splits are numbered from 0 since the last start; with
 * QB_UTIL_SW_OVERWRITE the numbering keeps counting and only the newest
 * max_splits of them can be queried. Elapsed time is reported only
 * between a start and a later stop, as libqb documents.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <qb/qbutil.h>

struct qb_util_stopwatch {
	uint64_t started; /* ns, 0 = never started */
	uint64_t stopped; /* ns, 0 = not stopped since the last start */
	uint32_t split_options;
	uint32_t split_size;	 /* slots in split_entries */
	uint32_t split_count;	 /* splits recorded since the last start */
	uint64_t *split_entries; /* ns; split n lives in slot n % split_size */
};

qb_util_stopwatch_t *qb_util_stopwatch_create(void)
{
	return calloc(1, sizeof(struct qb_util_stopwatch));
}

void qb_util_stopwatch_free(qb_util_stopwatch_t *sw)
{
	if (sw == NULL) {
		return;
	}
	free(sw->split_entries);
	free(sw);
}

void qb_util_stopwatch_start(qb_util_stopwatch_t *sw)
{
	sw->started = qb_util_nano_current_get();
	sw->stopped = 0;
	sw->split_count = 0;
}

void qb_util_stopwatch_stop(qb_util_stopwatch_t *sw)
{
	sw->stopped = qb_util_nano_current_get();
}

uint64_t qb_util_stopwatch_us_elapsed_get(qb_util_stopwatch_t *sw)
{
	if (sw->started == 0 || sw->stopped < sw->started) {
		return 0;
	}
	return (sw->stopped - sw->started) / QB_TIME_NS_IN_USEC;
}

float qb_util_stopwatch_sec_elapsed_get(qb_util_stopwatch_t *sw)
{
	return (float)qb_util_stopwatch_us_elapsed_get(sw) / (float)QB_TIME_US_IN_SEC;
}

int32_t qb_util_stopwatch_split_ctl(qb_util_stopwatch_t *sw, uint32_t max_splits, uint32_t options)
{
	uint64_t *entries;

	if (max_splits == 0) {
		free(sw->split_entries);
		sw->split_entries = NULL;
		sw->split_size = 0;
		sw->split_count = 0;
		sw->split_options = options;
		return 0;
	}
	entries = calloc(max_splits, sizeof(*entries));
	if (entries == NULL) {
		return -ENOMEM;
	}
	/* Resizing drops the recorded splits: their slot positions change. */
	free(sw->split_entries);
	sw->split_entries = entries;
	sw->split_size = max_splits;
	sw->split_count = 0;
	sw->split_options = options;
	return 0;
}

static uint64_t split_time_ns(const qb_util_stopwatch_t *sw, uint32_t n)
{
	return sw->split_entries[n % sw->split_size];
}

uint64_t qb_util_stopwatch_split(qb_util_stopwatch_t *sw)
{
	uint64_t now, previous;
	uint32_t n = sw->split_count;

	if (sw->split_size == 0) {
		return 0;
	}
	if (n >= sw->split_size && !(sw->split_options & QB_UTIL_SW_OVERWRITE)) {
		return 0;
	}
	now = qb_util_nano_current_get();
	/* as libqb: a split on a never-started stopwatch starts it, so the
	 * first split is 0 and later ones count from it */
	if (sw->started == 0) {
		sw->started = now;
	}
	previous = (n == 0) ? sw->started : split_time_ns(sw, n - 1);
	sw->split_entries[n % sw->split_size] = now;
	sw->split_count = n + 1;
	return (now - previous) / QB_TIME_NS_IN_USEC;
}

uint32_t qb_util_stopwatch_split_last(qb_util_stopwatch_t *sw)
{
	return sw->split_count ? sw->split_count - 1 : 0;
}

/* True when split n has been recorded and its slot not yet reused. */
static int split_is_kept(const qb_util_stopwatch_t *sw, uint32_t n)
{
	uint32_t oldest_kept = 0;

	if (sw->split_count > sw->split_size) {
		oldest_kept = sw->split_count - sw->split_size;
	}
	return n < sw->split_count && n >= oldest_kept;
}

uint64_t qb_util_stopwatch_time_split_get(qb_util_stopwatch_t *sw, uint32_t receint, uint32_t older)
{
	uint64_t from;

	if (sw->split_size == 0 || older > receint || !split_is_kept(sw, receint) ||
	    !split_is_kept(sw, older)) {
		return 0;
	}
	/* Asking for a split against itself means "since the start". */
	from = (receint == older) ? sw->started : split_time_ns(sw, older);
	return (split_time_ns(sw, receint) - from) / QB_TIME_NS_IN_USEC;
}
