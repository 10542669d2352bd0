/* qbutil.h: thread locks, clocks, stopwatch, strerror. */
#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <qb/qbutil.h>
#include <qb/qbhdb.h>
#include <qb/qblist.h>

#define THREADS 4
#define ROUNDS 20000

static qb_thread_lock_t *shared_lock;
static long shared_counter;

static void *lock_worker(void *arg)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (qb_thread_lock(shared_lock) != 0) {
			return (void *)1;
		}
		shared_counter++; /* not atomic: the lock must protect it */
		if (qb_thread_unlock(shared_lock) != 0) {
			return (void *)1;
		}
	}
	return arg;
}

static void lock_contention(qb_thread_lock_type_t type)
{
	pthread_t t[THREADS];
	void *rc;
	int i;

	shared_lock = qb_thread_lock_create(type);
	ck_assert_ptr_nonnull(shared_lock);
	shared_counter = 0;
	for (i = 0; i < THREADS; i++) {
		pthread_create(&t[i], NULL, lock_worker, NULL);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &rc);
		ck_assert_ptr_null(rc);
	}
	ck_assert_int_eq(shared_counter, THREADS * ROUNDS);
	ck_assert_int_eq(qb_thread_lock_destroy(shared_lock), 0);
}

static void *try_from_other_thread(void *arg)
{
	return (void *)(intptr_t)qb_thread_trylock(arg);
}

static void lock_basics(qb_thread_lock_type_t type)
{
	qb_thread_lock_t *l = qb_thread_lock_create(type);
	pthread_t t;
	void *rc;

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(qb_thread_trylock(l), 0);
	ck_assert_int_eq(qb_thread_trylock(l), -EBUSY);
	pthread_create(&t, NULL, try_from_other_thread, l);
	pthread_join(t, &rc);
	ck_assert_int_eq((intptr_t)rc, -EBUSY);
	ck_assert_int_eq(qb_thread_unlock(l), 0);
	ck_assert_int_eq(qb_thread_lock(l), 0);
	ck_assert_int_eq(qb_thread_unlock(l), 0);
	ck_assert_int_eq(qb_thread_lock_destroy(l), 0);
}

START_TEST(test_lock_short)
{
	lock_basics(QB_THREAD_LOCK_SHORT);
	lock_contention(QB_THREAD_LOCK_SHORT);
}
END_TEST

START_TEST(test_lock_long)
{
	qb_thread_lock_t *l;

	lock_basics(QB_THREAD_LOCK_LONG);
	lock_contention(QB_THREAD_LOCK_LONG);
	/* a held mutex is not destroyed from under its holder */
	l = qb_thread_lock_create(QB_THREAD_LOCK_LONG);
	ck_assert_int_eq(qb_thread_lock(l), 0);
	ck_assert_int_eq(qb_thread_lock_destroy(l), -EBUSY);
	ck_assert_int_eq(qb_thread_unlock(l), 0);
	ck_assert_int_eq(qb_thread_lock_destroy(l), 0);
}
END_TEST

START_TEST(test_lock_null)
{
	ck_assert_int_eq(qb_thread_lock(NULL), -EINVAL);
	ck_assert_int_eq(qb_thread_trylock(NULL), -EINVAL);
	ck_assert_int_eq(qb_thread_unlock(NULL), -EINVAL);
	ck_assert_int_eq(qb_thread_lock_destroy(NULL), -EINVAL);
}
END_TEST

START_TEST(test_timespec_add_ms)
{
	struct timespec ts = {5, 999000000};

	qb_timespec_add_ms(&ts, 2);
	ck_assert_int_eq(ts.tv_sec, 6);
	ck_assert_int_eq(ts.tv_nsec, 1000000);
	qb_timespec_add_ms(&ts, 3500);
	ck_assert_int_eq(ts.tv_sec, 9);
	ck_assert_int_eq(ts.tv_nsec, 501000000);
	/* negative amounts keep tv_nsec normalised (libqb 2.0 does not) */
	qb_timespec_add_ms(&ts, -502);
	ck_assert_int_eq(ts.tv_sec, 8);
	ck_assert_int_eq(ts.tv_nsec, 999000000);
	qb_timespec_add_ms(&ts, -3999);
	ck_assert_int_eq(ts.tv_sec, 5);
	ck_assert_int_eq(ts.tv_nsec, 0);
}
END_TEST

START_TEST(test_clocks)
{
	struct timespec mono, real, ts;
	uint64_t a, b, epoch;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	a = qb_util_nano_current_get();
	ck_assert_uint_ge(a, (uint64_t)mono.tv_sec * 1000000000ULL + mono.tv_nsec);
	usleep(2000);
	b = qb_util_nano_current_get();
	ck_assert_uint_ge(b - a, 2000000ULL);
	ck_assert_uint_lt(b - a, 2000000000ULL);

	clock_gettime(CLOCK_REALTIME, &real);
	epoch = qb_util_nano_from_epoch_get();
	/* coarse clock: within a few ticks of the precise one */
	ck_assert_uint_lt(llabs((long long)(epoch / 1000000000ULL) - (long long)real.tv_sec), 2);
	qb_util_timespec_from_epoch_get(&ts);
	ck_assert_uint_lt(llabs((long long)ts.tv_sec - (long long)real.tv_sec), 2);
	ck_assert_int_lt(ts.tv_nsec, 1000000000L);

	clock_getres(CLOCK_MONOTONIC, &mono);
	ck_assert_uint_eq(qb_util_nano_monotonic_hz(),
			  1000000000ULL / ((uint64_t)mono.tv_sec * 1000000000ULL + mono.tv_nsec));
}
END_TEST

START_TEST(test_strerror)
{
	char buf[64];
	char small[5];
	const char *s;

	s = qb_strerror_r(EINVAL, buf, sizeof(buf));
	ck_assert_str_eq(s, strerror(EINVAL));
	s = qb_strerror_r(12345, buf, sizeof(buf));
	ck_assert_str_eq(s, "Unknown error 12345");
	s = qb_strerror_r(12345, small, sizeof(small));
	ck_assert_uint_lt(strlen(s), sizeof(small));
}
END_TEST

START_TEST(test_stopwatch_elapsed)
{
	qb_util_stopwatch_t *sw = qb_util_stopwatch_create();
	uint64_t us;

	ck_assert_ptr_nonnull(sw);
	ck_assert_uint_eq(qb_util_stopwatch_us_elapsed_get(sw), 0);
	qb_util_stopwatch_stop(sw); /* never started */
	ck_assert_uint_eq(qb_util_stopwatch_us_elapsed_get(sw), 0);
	qb_util_stopwatch_start(sw);
	usleep(5000);
	ck_assert_uint_eq(qb_util_stopwatch_us_elapsed_get(sw), 0); /* running */
	qb_util_stopwatch_stop(sw);
	us = qb_util_stopwatch_us_elapsed_get(sw);
	ck_assert_uint_ge(us, 5000);
	ck_assert_uint_lt(us, 2000000);
	usleep(1000);
	ck_assert_uint_eq(qb_util_stopwatch_us_elapsed_get(sw), us); /* frozen */
	ck_assert_float_eq_tol(qb_util_stopwatch_sec_elapsed_get(sw), us / 1e6, 1e-6);
	qb_util_stopwatch_start(sw); /* restart clears the stop */
	ck_assert_uint_eq(qb_util_stopwatch_us_elapsed_get(sw), 0);
	qb_util_stopwatch_free(sw);
	qb_util_stopwatch_free(NULL);
}
END_TEST

START_TEST(test_stopwatch_splits)
{
	qb_util_stopwatch_t *sw = qb_util_stopwatch_create();
	uint64_t s0, s1, s2;

	ck_assert_uint_eq(qb_util_stopwatch_split(sw), 0); /* no slots */
	ck_assert_int_eq(qb_util_stopwatch_split_ctl(sw, 3, 0), 0);
	qb_util_stopwatch_start(sw);
	usleep(2000);
	s0 = qb_util_stopwatch_split(sw);
	ck_assert_uint_ge(s0, 2000);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 0);
	/* queryable before the slots are full */
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 0, 0), s0);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 1, 0), 0);
	usleep(1000);
	s1 = qb_util_stopwatch_split(sw);
	usleep(1000);
	s2 = qb_util_stopwatch_split(sw);
	ck_assert_uint_ge(s1, 1000);
	ck_assert_uint_ge(s2, 1000);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 2);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 1, 0), s1);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 2, 1), s2);
	ck_assert(qb_util_stopwatch_time_split_get(sw, 2, 0) - (s1 + s2) <= 1);
	ck_assert(qb_util_stopwatch_time_split_get(sw, 2, 2) - (s0 + s1 + s2) <= 2);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 0, 2), 0);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 3, 0), 0);
	/* full and no overwrite: refused */
	ck_assert_uint_eq(qb_util_stopwatch_split(sw), 0);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 2);
	/* start forgets the splits */
	qb_util_stopwatch_start(sw);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 0);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 0, 0), 0);
	usleep(500);
	s0 = qb_util_stopwatch_split(sw);
	ck_assert_uint_ge(s0, 500);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 0, 0), s0);
	qb_util_stopwatch_free(sw);
}
END_TEST

/* A split on a stopwatch never started starts it (libqb 2.0 does). */
START_TEST(test_stopwatch_split_unstarted)
{
	qb_util_stopwatch_t *sw = qb_util_stopwatch_create();
	uint64_t s1, s2, us;

	ck_assert_uint_eq(qb_util_stopwatch_split(sw), 0); /* no slots */
	usleep(2000);
	ck_assert_int_eq(qb_util_stopwatch_split_ctl(sw, 3, 0), 0);
	usleep(2000);
	/* the split without slots started nothing: split 0 is 0 */
	ck_assert_uint_eq(qb_util_stopwatch_split(sw), 0);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 0);
	usleep(1000);
	s1 = qb_util_stopwatch_split(sw);
	ck_assert_uint_ge(s1, 1000);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 1);
	usleep(1000);
	s2 = qb_util_stopwatch_split(sw);
	ck_assert_uint_ge(s2, 1000);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 2);
	/* split 0 is the start */
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 0, 0), 0);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 1, 1), s1);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 2, 1), s2);
	ck_assert_uint_eq(qb_util_stopwatch_split(sw), 0); /* full */
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 2);
	qb_util_stopwatch_stop(sw);
	us = qb_util_stopwatch_us_elapsed_get(sw);
	ck_assert(us >= s1 + s2 && us < 2000000);
	qb_util_stopwatch_free(sw);
}
END_TEST

START_TEST(test_stopwatch_overwrite)
{
	qb_util_stopwatch_t *sw = qb_util_stopwatch_create();
	uint64_t s[6];
	int i;

	ck_assert_int_eq(qb_util_stopwatch_split_ctl(sw, 3, QB_UTIL_SW_OVERWRITE), 0);
	qb_util_stopwatch_start(sw);
	for (i = 0; i < 6; i++) {
		usleep(500);
		s[i] = qb_util_stopwatch_split(sw);
		ck_assert_uint_ge(s[i], 500);
		ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), (uint32_t)i);
	}
	/* only the newest three (3, 4, 5) are kept */
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 2, 0), 0);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 5, 2), 0);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 4, 3), s[4]);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 5, 4), s[5]);
	ck_assert(qb_util_stopwatch_time_split_get(sw, 5, 3) - (s[4] + s[5]) <= 1);
	ck_assert_uint_eq(qb_util_stopwatch_time_split_get(sw, 6, 5), 0);
	/* resizing forgets the splits; 0 slots disables splitting */
	ck_assert_int_eq(qb_util_stopwatch_split_ctl(sw, 5, 0), 0);
	ck_assert_uint_eq(qb_util_stopwatch_split_last(sw), 0);
	ck_assert_int_eq(qb_util_stopwatch_split_ctl(sw, 0, 0), 0);
	ck_assert_uint_eq(qb_util_stopwatch_split(sw), 0);
	qb_util_stopwatch_free(sw);
}
END_TEST

/* Layouts and constants that applications compiled against libqb 2.0 use. */
START_TEST(test_abi_layout)
{
	ck_assert_uint_eq(sizeof(struct qb_hdb), 40);
	ck_assert_uint_eq(offsetof(struct qb_hdb, handles), 8);
	ck_assert_uint_eq(offsetof(struct qb_hdb, iterator), 16);
	ck_assert_uint_eq(offsetof(struct qb_hdb, destructor), 24);
	ck_assert_uint_eq(offsetof(struct qb_hdb, first_run), 32);
	ck_assert_uint_eq(sizeof(struct qb_hdb_handle), 24);
	ck_assert_uint_eq(offsetof(struct qb_hdb_handle, instance), 8);
	ck_assert_uint_eq(offsetof(struct qb_hdb_handle, check), 16);
	ck_assert_uint_eq(offsetof(struct qb_hdb_handle, ref_count), 20);
	ck_assert_uint_eq(sizeof(struct qb_list_head), 16);
	ck_assert_uint_eq(offsetof(struct qb_list_head, prev), 8);
	ck_assert_uint_eq(sizeof(struct qb_version), 16);
	ck_assert_uint_eq(offsetof(struct qb_version, micro), 2);
	ck_assert_uint_eq(offsetof(struct qb_version, rest), 8);
	ck_assert_uint_eq(sizeof(qb_handle_t), 8);
	ck_assert_uint_eq(sizeof(qb_thread_lock_type_t), 4);
	ck_assert_int_eq(QB_THREAD_LOCK_SHORT, 0);
	ck_assert_int_eq(QB_THREAD_LOCK_LONG, 1);
	ck_assert_int_eq(QB_UTIL_SW_OVERWRITE, 1);
	ck_assert_int_eq(QB_ARRAY_MAX_INDEX_BITS, 16);
	ck_assert_int_eq(QB_ARRAY_MAX_ELEMENTS, 65536);
	ck_assert_str_eq(QB_HDB_D_FORMAT, "%" PRIu64);
	ck_assert_str_eq(QB_HDB_X_FORMAT, "%" PRIx64);
	ck_assert_int_eq(QB_TRUE, 1);
	ck_assert_int_eq(QB_FALSE, 0);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_lock_short),
		CK_TEST(test_lock_long),
		CK_TEST(test_lock_null),
		CK_TEST(test_timespec_add_ms),
		CK_TEST(test_clocks),
		CK_TEST(test_strerror),
		CK_TEST(test_stopwatch_elapsed),
		CK_TEST(test_stopwatch_splits),
		CK_TEST(test_stopwatch_split_unstarted),
		CK_TEST(test_stopwatch_overwrite),
		CK_TEST(test_abi_layout),
	};
	const struct ck_opts opts = {
		.timeout = 20,
	};

	return CK_MAIN("util", &opts, tests);
}
