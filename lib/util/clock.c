/* Clock helpers and strerror. All of them are async-signal safe. */
#include "config.h"
#include <string.h>
#include <time.h>
#include <qb/qbutil.h>

#define NS_PER_MS ((int64_t)QB_TIME_NS_IN_MSEC)
#define NS_PER_SEC ((int64_t)QB_TIME_NS_IN_SEC)

void qb_timespec_add_ms(struct timespec *ts, int32_t ms)
{
	int64_t nsec = (int64_t)ts->tv_nsec + (int64_t)ms * NS_PER_MS;
	int64_t carry = nsec / NS_PER_SEC;

	nsec -= carry * NS_PER_SEC;
	/* Keep tv_nsec in [0, 1e9) also when ms is negative. */
	if (nsec < 0) {
		nsec += NS_PER_SEC;
		carry--;
	}
	ts->tv_sec += carry;
	ts->tv_nsec = nsec;
}

static uint64_t timespec_to_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * QB_TIME_NS_IN_SEC + (uint64_t)ts->tv_nsec;
}

uint64_t qb_util_nano_current_get(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_to_ns(&ts);
}

uint64_t qb_util_nano_monotonic_hz(void)
{
	struct timespec res;
	uint64_t ns;

	if (clock_getres(CLOCK_MONOTONIC, &res) != 0) {
		return QB_TIME_NS_IN_SEC;
	}
	ns = timespec_to_ns(&res);
	return QB_TIME_NS_IN_SEC / (ns ? ns : 1);
}

void qb_util_timespec_from_epoch_get(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME_COARSE, ts);
}

uint64_t qb_util_nano_from_epoch_get(void)
{
	struct timespec ts;

	qb_util_timespec_from_epoch_get(&ts);
	return timespec_to_ns(&ts);
}

char *qb_strerror_r(int errnum, char *buf, size_t buflen)
{
	/* _GNU_SOURCE (config.h) selects the GNU variant returning a pointer. */
	return strerror_r(errnum, buf, buflen);
}
