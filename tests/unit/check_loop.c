/*
 * check_loop.c - the main loop through its public API: every qbloop.h
 * function and error return, priorities and interleaving, timer order,
 * many timers, signals, stop and self-removal from callbacks, fork and fd
 * hygiene, and the upstream bugs we fix.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbloop.h>

/* Exported by libqb.so (libqb exports them too); not in the public header. */
extern qb_loop_t *qb_loop_default_get(void);
extern int32_t qb_loop_timer_msec_duration_to_expire(qb_loop_t *l);

static qb_loop_t *L;
static char trace[4096];

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	size_t len = strlen(trace);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(trace + len, sizeof(trace) - len, fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void setup(void)
{
	trace[0] = '\0';
	L = qb_loop_create();
	ck_assert_ptr_nonnull(L);
}

static void teardown(void)
{
	qb_loop_destroy(L);
	L = NULL;
}

static void job_stop(void *d)
{
	qb_loop_stop(L);
}

static void job_note(void *d)
{
	note("%s ", (const char *)d);
}

/* Safety net: a test that would hang stops after this many ms instead. */
static void run_bounded(unsigned ms)
{
	qb_loop_timer_handle h;

	ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_LOW, ms * 1000000ULL, NULL, job_stop, &h), 0);
	qb_loop_run(L);
	qb_loop_timer_del(L, h);
}

/* ---- objects and defaults ------------------------------------------------ */

START_TEST(test_default_loop)
{
	qb_loop_t *second;

	ck_assert_ptr_eq(qb_loop_default_get(), L);
	second = qb_loop_create();
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_eq(qb_loop_default_get(), L);
	/* NULL means the default loop */
	ck_assert_int_eq(qb_loop_job_add(NULL, QB_LOOP_LOW, "d", job_note), 0);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, "d", job_note), 0);
	qb_loop_destroy(NULL); /* the default */
	ck_assert_ptr_null(qb_loop_default_get());
	ck_assert_int_eq(qb_loop_job_add(NULL, QB_LOOP_LOW, "d", job_note), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_add(NULL, QB_LOOP_LOW, 1, NULL, job_note, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_del(NULL, 1), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_add(NULL, QB_LOOP_LOW, 0, POLLIN, NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_del(NULL, 0), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_add(NULL, QB_LOOP_LOW, SIGUSR1, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_del(NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_low_fds_event_set(NULL, NULL), 0);
	ck_assert_uint_eq(qb_loop_timer_expire_time_get(NULL, 1), 0);
	ck_assert_uint_eq(qb_loop_timer_expire_time_remaining(NULL, 1), 0);
	ck_assert_int_eq(qb_loop_timer_is_running(NULL, 1), 0);
	ck_assert_int_eq(qb_loop_timer_msec_duration_to_expire(NULL), -1);
	qb_loop_run(NULL); /* no loop: returns at once */
	qb_loop_stop(NULL);
	/* the next loop made while there is no default becomes it */
	L = qb_loop_create();
	ck_assert_ptr_eq(qb_loop_default_get(), L);
	qb_loop_destroy(second);
	ck_assert_ptr_eq(qb_loop_default_get(), L);
}
END_TEST

/* ---- jobs ------------------------------------------------------------------- */

START_TEST(test_job_errors)
{
	ck_assert_int_eq(qb_loop_job_add(L, QB_LOOP_LOW, NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_job_add(L, 3, NULL, job_note), -EINVAL);
	ck_assert_int_eq(qb_loop_job_add(L, -1, NULL, job_note), -EINVAL);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_job_del(L, 3, "x", job_note), -EINVAL);
	ck_assert_int_eq(qb_loop_job_del(L, -1, "x", job_note), -EINVAL);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, "x", job_note), -ENOENT);
	ck_assert_int_eq(qb_loop_job_add(L, QB_LOOP_LOW, "x", job_note), 0);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_MED, "x", job_note), -ENOENT);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, "y", job_note), -ENOENT);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, "x", job_stop), -ENOENT);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, "x", job_note), 0);
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_LOW, "x", job_note), -ENOENT);
	run_bounded(5);
	ck_assert_str_eq(trace, "");
}
END_TEST

static char names[3][12][4];

START_TEST(test_job_interleaving)
{
	int p, i;

	/* 12 jobs per level: HIGH every turn, MED 2 of 3, LOW 1 of 3, 4 each */
	for (i = 0; i < 12; i++)
		for (p = 0; p < 3; p++) {
			snprintf(names[p][i], sizeof(names[p][i]), "%c%d", "LMH"[p], i);
			ck_assert_int_eq(qb_loop_job_add(L, p, names[p][i], job_note), 0);
		}
	ck_assert_int_eq(qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop), 0);
	qb_loop_run(L);
	ck_assert_str_eq(trace,
			 "H0 H1 H2 H3 "
			 "H4 H5 H6 H7 M0 M1 M2 M3 "
			 "H8 H9 H10 H11 M4 M5 M6 M7 L0 L1 L2 L3 "
			 "M8 M9 M10 M11 "
			 "L4 L5 L6 L7 "
			 "L8 L9 L10 L11 ");
}
END_TEST

static void job_adds_more(void *d)
{
	note("adder ");
	qb_loop_job_add(L, QB_LOOP_HIGH, "new-H", job_note);
}

START_TEST(test_job_added_while_dispatching)
{
	/* a job added by a job waits for the next turn, even at HIGH */
	qb_loop_job_add(L, QB_LOOP_HIGH, NULL, job_adds_more);
	qb_loop_job_add(L, QB_LOOP_HIGH, "H1", job_note);
	qb_loop_job_add(L, QB_LOOP_HIGH, "H2", job_note);
	qb_loop_job_add(L, QB_LOOP_MED, "M1", job_note);
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
	ck_assert_str_eq(trace, "adder H1 H2 new-H M1 ");
}
END_TEST

static void job_stop_note(void *d)
{
	note("stop ");
	qb_loop_stop(L);
}

START_TEST(test_stop_from_callback)
{
	qb_loop_job_add(L, QB_LOOP_HIGH, "a", job_note);
	qb_loop_job_add(L, QB_LOOP_HIGH, NULL, job_stop_note);
	qb_loop_job_add(L, QB_LOOP_HIGH, "b", job_note);
	qb_loop_job_add(L, QB_LOOP_HIGH, "c", job_note);
	qb_loop_run(L);
	ck_assert_str_eq(trace, "a stop ");
	/* queued work stays; a job left on the run list can still be deleted */
	ck_assert_int_eq(qb_loop_job_del(L, QB_LOOP_HIGH, "b", job_note), 0);
	/* a stopped run's leftovers run when the loop runs again, without
	 * waiting for some other event */
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop_note);
	qb_loop_run(L);
	ck_assert_str_eq(trace, "a stop c stop ");
	/* stop before run is forgotten by run */
	qb_loop_stop(L);
	qb_loop_job_add(L, QB_LOOP_LOW, "x", job_note);
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop_note);
	qb_loop_run(L);
	ck_assert_str_eq(trace, "a stop c stop x stop ");
}
END_TEST

static uint64_t left_ran_at;

static void job_note_time(void *d)
{
	left_ran_at = now_ns();
	note("%s ", (const char *)d);
}

START_TEST(test_leftover_runs_promptly)
{
	uint64_t t0;

	qb_loop_job_add(L, QB_LOOP_HIGH, NULL, job_stop_note);
	qb_loop_job_add(L, QB_LOOP_HIGH, "left", job_note_time);
	qb_loop_run(L);
	/* only a far timer pending: the leftover alone must wake the loop
	 * (libqb waits for the timer first) */
	t0 = now_ns();
	run_bounded(1500);
	ck_assert_str_eq(trace, "stop left ");
	ck_assert_uint_lt(left_ran_at - t0, 1000ULL * 1000000ULL);
}
END_TEST

/* ---- timers --------------------------------------------------------------------- */

static qb_loop_timer_handle self_handle;
static int self_del_rc = 1, self_running = -1;

static void timer_checks_self(void *d)
{
	self_del_rc = qb_loop_timer_del(L, self_handle);
	self_running = qb_loop_timer_is_running(L, self_handle);
	note("self ");
}

START_TEST(test_timer_api)
{
	qb_loop_timer_handle h, h2;
	uint64_t before = now_ns(), exp;

	ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_LOW, 1, NULL, NULL, &h), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_add(L, 3, 1, NULL, job_note, &h), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_add(L, -1, 1, NULL, job_note, &h), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_MED, 1000000000ULL, "t", job_note, NULL), 0);
	ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_MED, 1000000000ULL, "t", job_note, &h), 0);
	ck_assert_uint_ne(h, 0);
	exp = qb_loop_timer_expire_time_get(L, h);
	ck_assert_uint_ge(exp, before + 1000000000ULL);
	ck_assert_uint_le(exp, now_ns() + 1000000000ULL);
	ck_assert_int_eq(qb_loop_timer_is_running(L, h), 1);
	ck_assert_uint_gt(qb_loop_timer_expire_time_remaining(L, h), 0);
	ck_assert_uint_le(qb_loop_timer_expire_time_remaining(L, h), 1000000000ULL);
	ck_assert_int_ge(qb_loop_timer_msec_duration_to_expire(L), 500);
	ck_assert_int_le(qb_loop_timer_msec_duration_to_expire(L), 1000);

	/* bad handles */
	ck_assert_int_eq(qb_loop_timer_del(L, 0), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_del(L, h ^ (1ULL << 40)), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_del(L, (h & 0xffffffff00000000ULL) | 12345), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_del(L, (h & 0xffffffff00000000ULL) | 0x80000000ULL),
			 -ERANGE);
	ck_assert_int_eq(qb_loop_timer_del(L, 0xffffffffffffffffULL), -ERANGE);
	ck_assert_uint_eq(qb_loop_timer_expire_time_get(L, 0), 0);
	ck_assert_int_eq(qb_loop_timer_is_running(L, 12345), 0);

	/* delete: the handle goes stale, also for the remaining-time query
	 * (libqb 2.0.6 dereferences NULL there) */
	ck_assert_int_eq(qb_loop_timer_del(L, h), 0);
	ck_assert_int_eq(qb_loop_timer_del(L, h), -EINVAL);
	ck_assert_uint_eq(qb_loop_timer_expire_time_get(L, h), 0);
	ck_assert_uint_eq(qb_loop_timer_expire_time_remaining(L, h), 0);
	ck_assert_int_eq(qb_loop_timer_is_running(L, h), 0);

	/* a reused slot gets a new handle; the old one stays stale */
	ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_MED, 1000000000ULL, "t", job_note, &h2), 0);
	ck_assert_uint_ne(h2, h);
	ck_assert_int_eq(qb_loop_timer_del(L, h), -EINVAL);
	ck_assert_int_eq(qb_loop_timer_is_running(L, h2), 1);

	/* inside its own callback a timer is already stale */
	ck_assert_int_eq(
		qb_loop_timer_add(L, QB_LOOP_HIGH, 0, NULL, timer_checks_self, &self_handle), 0);
	run_bounded(200);
	ck_assert_str_eq(trace, "self ");
	ck_assert_int_eq(self_del_rc, -EINVAL);
	ck_assert_int_eq(self_running, 0);
	ck_assert_int_eq(qb_loop_timer_del(L, self_handle), -EINVAL);
	ck_assert_uint_eq(qb_loop_timer_expire_time_remaining(L, self_handle), 0);
}
END_TEST

static qb_loop_timer_handle queued_handle;

static void job_inspects_queued_timer(void *d)
{
	/* the LOW timer expired in this turn but LOW is not served yet */
	ck_assert_uint_eq(qb_loop_timer_expire_time_get(L, queued_handle), 0);
	ck_assert_uint_eq(qb_loop_timer_expire_time_remaining(L, queued_handle), 0);
	ck_assert_int_eq(qb_loop_timer_is_running(L, queued_handle), 0);
	ck_assert_int_eq(qb_loop_timer_del(L, queued_handle), 0);
	ck_assert_int_eq(qb_loop_timer_del(L, queued_handle), -EINVAL);
	note("job ");
}

START_TEST(test_timer_expired_not_dispatched)
{
	qb_loop_job_add(L, QB_LOOP_HIGH, NULL, job_inspects_queued_timer);
	qb_loop_timer_add(L, QB_LOOP_LOW, 0, "timer", job_note, &queued_handle);
	usleep(1000);
	run_bounded(200);
	ck_assert_str_eq(trace, "job ");
}
END_TEST

#define ORDER_N 40
static int fired[ORDER_N], n_fired;
static uint64_t order_exp[ORDER_N];

static void timer_record(void *d)
{
	fired[n_fired++] = (int)(long)d;
	if (n_fired == ORDER_N)
		qb_loop_stop(L);
}

START_TEST(test_timer_order)
{
	qb_loop_timer_handle h;
	int i;

	/* expiry order, whatever the insertion order; same level so that a
	 * slow machine expiring several at once still dispatches in order */
	n_fired = 0;
	for (i = 0; i < ORDER_N; i++) {
		int slot = (i * 17) % ORDER_N; /* a permutation */

		ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_MED,
						   (uint64_t)(ORDER_N - i) * 500000ULL,
						   (void *)(long)slot, timer_record, &h),
				 0);
		order_exp[slot] = qb_loop_timer_expire_time_get(L, h);
	}
	run_bounded(5000);
	ck_assert_int_eq(n_fired, ORDER_N);
	for (i = 1; i < ORDER_N; i++)
		ck_assert_uint_le(order_exp[fired[i - 1]], order_exp[fired[i]]);
}
END_TEST

START_TEST(test_timer_priority_after_jobs)
{
	/* zero-delay timers: queued after the jobs moved in the same turn */
	qb_loop_timer_add(L, QB_LOOP_MED, 0, "tM", job_note, NULL);
	qb_loop_job_add(L, QB_LOOP_MED, "jM", job_note);
	qb_loop_timer_add(L, QB_LOOP_HIGH, 0, "tH", job_note, NULL);
	usleep(1000);
	run_bounded(200);
	ck_assert_str_eq(trace, "tH jM tM ");
}
END_TEST

#define MANY 10000
static uint64_t many_last;
static int many_fired, many_bad_order;
static qb_loop_timer_handle many_h[MANY];
static uint64_t many_exp[MANY];

static void many_cb(void *d)
{
	long i = (long)d;

	if (many_exp[i] < many_last)
		many_bad_order++;
	many_last = many_exp[i];
	many_fired++;
	if (many_fired == MANY / 2)
		qb_loop_stop(L);
}

START_TEST(test_many_timers)
{
	long i;
	int deleted = 0;

	srandom(42);
	for (i = 0; i < MANY; i++) {
		uint64_t ns = (uint64_t)(random() % 200) * 100000ULL;

		ck_assert_int_eq(
			qb_loop_timer_add(L, QB_LOOP_MED, ns, (void *)i, many_cb, &many_h[i]), 0);
		many_exp[i] = qb_loop_timer_expire_time_get(L, many_h[i]);
	}
	for (i = 0; i < MANY; i += 2) {
		ck_assert_int_eq(qb_loop_timer_del(L, many_h[i]), 0);
		deleted++;
	}
	ck_assert_int_eq(deleted, MANY / 2);
	run_bounded(10000);
	ck_assert_int_eq(many_fired, MANY / 2);
	ck_assert_int_eq(many_bad_order, 0);
	for (i = 0; i < MANY; i++)
		ck_assert_int_eq(qb_loop_timer_is_running(L, many_h[i]), 0);
	ck_assert_int_eq(qb_loop_timer_msec_duration_to_expire(L), -1);
}
END_TEST

static void timer_rearm(void *d)
{
	long n = (long)d;

	note("%ld ", n);
	if (n < 3)
		qb_loop_timer_add(L, QB_LOOP_LOW, 100000, (void *)(n + 1), timer_rearm, NULL);
	else
		qb_loop_stop(L);
}

START_TEST(test_timer_rearm_from_callback)
{
	qb_loop_timer_add(L, QB_LOOP_LOW, 0, (void *)1L, timer_rearm, NULL);
	run_bounded(2000);
	ck_assert_str_eq(trace, "1 2 3 ");
}
END_TEST

/* ---- fds ------------------------------------------------------------------------------- */

static int32_t fd_note(int32_t fd, int32_t revents, void *d)
{
	char buf[16];

	note("%s:%s%s%s ", (const char *)d, (revents & POLLIN) ? "in" : "",
	     (revents & POLLOUT) ? "out" : "", (revents & POLLHUP) ? "hup" : "");
	if (revents & POLLIN)
		(void)!read(fd, buf, sizeof(buf));
	return 0;
}

START_TEST(test_poll_api)
{
	int p[2], q[2];
	char path[] = "/tmp/check_loop_XXXXXX";
	int reg = mkstemp(path);

	ck_assert_int_ge(reg, 0);
	unlink(path);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	/* libqb accepts these and crashes later; we refuse them */
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, p[0], POLLIN, NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_add(L, 3, p[0], POLLIN, NULL, fd_note), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, -1, POLLIN, NULL, fd_note), -EBADF);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, 99999, POLLIN, NULL, fd_note), -EBADF);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, reg, POLLIN, NULL, fd_note), -EPERM);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, p[0], POLLIN, "p", fd_note), 0);
	errno = 0;
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_HIGH, p[0], POLLIN, "p", fd_note), -EEXIST);
	ck_assert_int_eq(errno, EEXIST); /* corosync-vqsim reads errno */
	ck_assert_int_eq(qb_loop_poll_mod(L, QB_LOOP_LOW, q[0], POLLIN, "q", fd_note), -EBADF);
	ck_assert_int_eq(qb_loop_poll_mod(L, QB_LOOP_LOW, p[0], POLLIN, "p", NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_mod(L, 7, p[0], POLLIN, "p", fd_note), -EINVAL);
	ck_assert_int_eq(qb_loop_poll_del(L, q[0]), -EBADF);
	ck_assert_int_eq(qb_loop_poll_del(L, -1), -EBADF);

	/* readiness, at the entry's level, after the jobs of that level */
	qb_loop_job_add(L, QB_LOOP_LOW, "jL", job_note);
	(void)!write(p[1], "x", 1);
	run_bounded(200);
	ck_assert_str_eq(trace, "jL p:in ");
	/* a writable fd is reported on every turn, HIGH is served every turn */
	trace[0] = '\0';
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_HIGH, q[1], POLLOUT, "qout", fd_note), 0);
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
	ck_assert_str_eq(trace, "qout:out qout:out qout:out ");

	/* mod: new data, level and events */
	ck_assert_int_eq(qb_loop_poll_mod(L, QB_LOOP_HIGH, q[1], 0, "qout", fd_note), 0);
	ck_assert_int_eq(qb_loop_poll_mod(L, QB_LOOP_MED, p[0], POLLIN, "P", fd_note), 0);
	trace[0] = '\0';
	(void)!write(p[1], "x", 1);
	run_bounded(200);
	ck_assert_str_eq(trace, "P:in ");

	/* del; a closed fd is forgotten even though epoll cannot be told */
	ck_assert_int_eq(qb_loop_poll_del(L, q[1]), 0);
	ck_assert_int_eq(qb_loop_poll_del(L, q[1]), -EBADF);
	close(p[0]);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), -EBADF);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), -EBADF);
	ck_assert_int_eq(pipe(p), 0); /* may reuse the number */
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, p[0], POLLIN, "p", fd_note), 0);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), 0);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(reg);
}
END_TEST

static int neg_calls;

static int32_t fd_negative(int32_t fd, int32_t revents, void *d)
{
	neg_calls++;
	return -1;
}

START_TEST(test_poll_negative_return_removes)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_MED, p[0], POLLIN, NULL, fd_negative), 0);
	(void)!write(p[1], "x", 1);
	run_bounded(200);
	/* called once: the still-readable fd left epoll (libqb keeps it there,
	 * logs and sleeps 100 ms on each of its events) */
	ck_assert_int_eq(neg_calls, 1);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), -EBADF);
	ck_assert_int_eq(qb_loop_poll_mod(L, QB_LOOP_MED, p[0], POLLIN, NULL, fd_note), -EBADF);
	/* and it can be added again */
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_MED, p[0], POLLIN, "again", fd_note), 0);
	run_bounded(200);
	ck_assert_str_eq(trace, "again:in ");
	close(p[0]);
	close(p[1]);
}
END_TEST

static int self_del_calls, self_del_rc2 = 1;

static int32_t fd_delete_self(int32_t fd, int32_t revents, void *d)
{
	self_del_calls++;
	self_del_rc2 = qb_loop_poll_del(L, fd);
	/* re-adding inside the callback is fine too */
	if (d)
		ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, fd, POLLIN, NULL, fd_note), 0);
	return -1; /* ignored: the entry is already gone */
}

START_TEST(test_poll_delete_self)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_MED, p[0], POLLIN, NULL, fd_delete_self), 0);
	close(p[1]); /* POLLHUP for ever */
	run_bounded(200);
	ck_assert_int_eq(self_del_calls, 1);
	ck_assert_int_eq(self_del_rc2, 0);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), -EBADF);
	/* delete and re-add from the callback */
	self_del_calls = 0;
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_MED, p[0], POLLIN, "readd", fd_delete_self),
			 0);
	run_bounded(200);
	ck_assert_int_eq(self_del_calls, 1);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), 0);
	close(p[0]);
}
END_TEST

static int low_calls, low_last_not_enough = -1, low_last_avail = -1;

static void low_fds(int32_t not_enough, int32_t avail)
{
	low_calls++;
	low_last_not_enough = not_enough;
	low_last_avail = avail;
}

START_TEST(test_low_fds)
{
	struct rlimit rl;
	int p[8][2], i;

	/* the limit is read once per process: this test runs in its own
	 * forked child (check's default) and no loop ran before in it */
	if (getenv("CK_FORK") && strcmp(getenv("CK_FORK"), "no") == 0)
		return; /* needs a fresh process; its low limit would outlive it */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 60; /* 10 usable by the loop */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(qb_loop_poll_low_fds_event_set(L, low_fds), 0);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pipe(p[i]), 0);
		ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, p[i][1], 0, NULL, fd_note), 0);
	}
	run_bounded(1);
	ck_assert_int_eq(low_calls, 0); /* 2 left */
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_LOW, p[0][0], 0, NULL, fd_note), 0);
	run_bounded(1);
	ck_assert_int_eq(low_calls, 1);
	ck_assert_int_eq(low_last_not_enough, 1);
	ck_assert_int_eq(low_last_avail, 1);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0][0]), 0);
	ck_assert_int_eq(qb_loop_poll_del(L, p[1][1]), 0);
	run_bounded(1);
	ck_assert_int_eq(low_calls, 2);
	ck_assert_int_eq(low_last_not_enough, 0);
	ck_assert_int_eq(low_last_avail, 3);
	for (i = 0; i < 8; i++) {
		qb_loop_poll_del(L, p[i][1]);
		close(p[i][0]);
		close(p[i][1]);
	}
}
END_TEST

/* ---- signals ------------------------------------------------------------------------- */

static volatile int in_raise;
static int sig_calls, sig_seen_in_raise, sig_again_left;

static int32_t sig_note(int32_t sig, void *d)
{
	sig_calls++;
	if (in_raise)
		sig_seen_in_raise++;
	note("%s:%d ", (const char *)d, sig);
	if (sig_again_left > 0) {
		sig_again_left--;
		raise(sig); /* arrives while its own handler runs */
	}
	return 0;
}

static void raise_job(void *d)
{
	in_raise = 1;
	raise((int)(long)d);
	in_raise = 0;
}

static int32_t sig_once(int32_t sig, void *d)
{
	note("once ");
	return 1;
}

START_TEST(test_signals)
{
	qb_loop_signal_handle a, b, c;
	struct sigaction sa;

	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR1, "a", NULL, &a), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_add(L, 3, SIGUSR1, "a", sig_note, &a), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR1, "a", sig_note, &a), 0);
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR1, "b", sig_note, &b), 0);
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR1, "c", sig_once, &c), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert(sa.sa_flags & SA_SIGINFO);
	ck_assert(!(sa.sa_flags & SA_RESTART));

	/* delivered in the loop, in registration order, not in signal context */
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)(long)SIGUSR1, raise_job);
	run_bounded(200);
	ck_assert_str_eq(trace, "a:10 b:10 once ");
	ck_assert_int_eq(sig_seen_in_raise, 0);
	/* a non-zero return removed the handler */
	ck_assert_int_eq(qb_loop_signal_del(L, c), -EINVAL);

	/* a signal arriving while its handler runs is not lost */
	trace[0] = '\0';
	ck_assert_int_eq(qb_loop_signal_del(L, b), 0);
	sig_again_left = 1;
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)(long)SIGUSR1, raise_job);
	run_bounded(200);
	ck_assert_str_eq(trace, "a:10 a:10 ");

	/* mod: another signal, another level */
	trace[0] = '\0';
	ck_assert_int_eq(qb_loop_signal_mod(L, QB_LOOP_LOW, SIGUSR2, "A", sig_note, a), 0);
	ck_assert_int_eq(qb_loop_signal_mod(L, QB_LOOP_LOW, SIGUSR2, "A", sig_note, NULL), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_mod(L, QB_LOOP_LOW, SIGUSR2, "A", NULL, a), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_mod(L, 5, SIGUSR2, "A", sig_note, a), -EINVAL);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert_ptr_eq(sa.sa_handler, SIG_DFL); /* nobody wants USR1 now */
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)(long)SIGUSR2, raise_job);
	run_bounded(200);
	ck_assert_str_eq(trace, "A:12 ");

	/* del: back to SIG_DFL, handle stale */
	ck_assert_int_eq(qb_loop_signal_del(L, a), 0);
	ck_assert_int_eq(qb_loop_signal_del(L, a), -EINVAL);
	ck_assert_int_eq(qb_loop_signal_del(L, NULL), -EINVAL);
	ck_assert_int_eq(sigaction(SIGUSR2, NULL, &sa), 0);
	ck_assert_ptr_eq(sa.sa_handler, SIG_DFL);
}
END_TEST

static int32_t sig_delete_self(int32_t sig, void *d)
{
	qb_loop_signal_handle *h = d;

	note("del-self:%d ", qb_loop_signal_del(L, *h));
	return 0;
}

START_TEST(test_signal_delete_self_and_pending)
{
	static qb_loop_signal_handle h, h2;

	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_MED, SIGUSR1, &h, sig_delete_self, &h), 0);
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)(long)SIGUSR1, raise_job);
	run_bounded(200);
	ck_assert_str_eq(trace, "del-self:0 ");
	ck_assert_int_eq(qb_loop_signal_del(L, h), -EINVAL);

	/* deleting a handler drops its delivery that is still queued */
	trace[0] = '\0';
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_LOW, SIGUSR1, "late", sig_note, &h2), 0);
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)(long)SIGUSR1, raise_job);
	qb_loop_job_add(L, QB_LOOP_HIGH, NULL, job_stop);
	qb_loop_run(L); /* stops before LOW is served */
	ck_assert_int_eq(qb_loop_signal_del(L, h2), 0);
	run_bounded(200);
	ck_assert_str_eq(trace, "");
}
END_TEST

START_TEST(test_signal_rtmax_and_second_loop)
{
	qb_loop_t *other = qb_loop_create();
	qb_loop_t *third = qb_loop_create();
	qb_loop_signal_handle h, h3;
	struct sigaction sa;

	/* SIGRTMAX (64) works (libqb never installs it); valgrind keeps the
	 * top real-time signals for itself */
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGRTMAX, "rt", sig_note, &h), 0);
	ck_assert_int_eq(sigaction(SIGRTMAX, NULL, &sa), 0);
	if (!strstr(getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "", "valgrind")) {
		ck_assert(sa.sa_flags & SA_SIGINFO);
		qb_loop_job_add(L, QB_LOOP_HIGH, (void *)(long)SIGRTMAX, raise_job);
		run_bounded(200);
		ck_assert_str_eq(trace, "rt:64 ");
	}

	/* handlers on a loop that is not the first one run too, and
	 * destroying a loop leaves the others' signals working */
	trace[0] = '\0';
	ck_assert_int_eq(qb_loop_signal_add(third, QB_LOOP_HIGH, SIGUSR2, "third", sig_note, &h3),
			 0);
	ck_assert_int_eq(qb_loop_signal_add(other, QB_LOOP_HIGH, SIGUSR2, "other", sig_note, NULL),
			 0);
	qb_loop_destroy(third);
	raise(SIGUSR2);
	ck_assert_int_eq(qb_loop_timer_add(other, QB_LOOP_LOW, 20000000ULL, other,
					   (qb_loop_timer_dispatch_fn)qb_loop_stop, NULL),
			 0);
	qb_loop_run(other);
	ck_assert_str_eq(trace, "other:12 ");
	qb_loop_destroy(other);
	qb_loop_signal_del(L, h);
}
END_TEST

START_TEST(test_signal_loops_limit)
{
	static qb_loop_t *many[70];
	int i, ok = 0, rc = 0;

	/* each loop with handlers has its own pipe; the table holds 64 */
	for (i = 0; i < 70; i++) {
		many[i] = qb_loop_create();
		ck_assert_ptr_nonnull(many[i]);
		rc = qb_loop_signal_add(many[i], QB_LOOP_LOW, SIGUSR1, NULL, sig_note, NULL);
		if (rc != 0)
			break;
		ok++;
	}
	ck_assert_int_eq(ok, 64);
	ck_assert_int_eq(rc, -EMFILE);
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_LOW, SIGUSR1, NULL, sig_note, NULL),
			 -EMFILE);
	qb_loop_destroy(many[3]); /* frees a slot */
	many[3] = NULL;
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_LOW, SIGUSR1, NULL, sig_note, NULL), 0);
	for (i = 0; i <= ok; i++)
		if (many[i])
			qb_loop_destroy(many[i]);
}
END_TEST

/* ---- fork and fd hygiene ------------------------------------------------------- */

static int32_t fd_stop(int32_t fd, int32_t revents, void *d)
{
	char c;

	(void)!read(fd, &c, 1);
	note("%s ", (const char *)d);
	qb_loop_stop(L);
	return 0;
}

START_TEST(test_fork_child_uses_own_epoll)
{
	int p[2], q[2], status;
	pid_t pid;
	qb_loop_signal_handle h;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	ck_assert_int_eq(qb_loop_poll_add(L, QB_LOOP_MED, p[0], POLLIN, "parent-p", fd_stop), 0);
	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR1, "sig", sig_note, &h), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* child: change the registrations, run, take a signal */
		int ok = 1;

		ok &= qb_loop_poll_del(L, p[0]) == 0;
		ok &= qb_loop_poll_add(L, QB_LOOP_MED, q[0], POLLIN, "child-q", fd_stop) == 0;
		(void)!write(q[1], "c", 1);
		qb_loop_run(L);
		ok &= strcmp(trace, "child-q ") == 0;
		trace[0] = '\0';
		raise(SIGUSR1);
		run_bounded(200);
		ok &= strcmp(trace, "sig:10 ") == 0;
		qb_loop_destroy(L);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* the parent's set is intact: p still registered, q never was,
	 * and the child's signal did not reach us */
	(void)!write(q[1], "x", 1);
	(void)!write(p[1], "x", 1);
	run_bounded(1000);
	ck_assert_str_eq(trace, "parent-p ");
	ck_assert_int_eq(qb_loop_poll_del(L, q[0]), -EBADF);
	ck_assert_int_eq(qb_loop_poll_del(L, p[0]), 0);
	qb_loop_signal_del(L, h);
}
END_TEST

static int fd_set_snapshot(char *set, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	memset(set, 0, max);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < max) {
			set[fd] = 1;
			n++;
		}
	}
	closedir(d);
	return n;
}

START_TEST(test_fd_hygiene)
{
	static char before[1024], after[1024];
	qb_loop_t *l2;
	qb_loop_signal_handle h;
	int fd, n = 0;

	/* a process without stdin/stdout: the loop must not take 0 or 1 */
	close(0);
	fd_set_snapshot(before, sizeof(before));
	l2 = qb_loop_create();
	ck_assert_ptr_nonnull(l2);
	ck_assert_int_eq(qb_loop_signal_add(l2, QB_LOOP_HIGH, SIGUSR1, "x", sig_note, &h), 0);
	fd_set_snapshot(after, sizeof(after));
	for (fd = 0; fd < (int)sizeof(after); fd++) {
		if (!after[fd] || before[fd])
			continue;
		n++;
		ck_assert_int_ge(fd, 3);
		ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	ck_assert_int_ge(n, 3); /* epoll + the signal pipe */
	ck_assert_int_eq(fcntl(0, F_GETFD), -1);
	qb_loop_destroy(l2);
	fd_set_snapshot(after, sizeof(after));
	ck_assert_int_eq(memcmp(before, after, sizeof(before)), 0);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_default_loop),
		CK_TEST(test_job_errors),
		CK_TEST(test_job_interleaving),
		CK_TEST(test_job_added_while_dispatching),
		CK_TEST(test_stop_from_callback),
		CK_TEST(test_leftover_runs_promptly),
		CK_TEST(test_timer_api),
		CK_TEST(test_timer_expired_not_dispatched),
		CK_TEST(test_timer_order),
		CK_TEST(test_timer_priority_after_jobs),
		CK_TEST(test_many_timers),
		CK_TEST(test_timer_rearm_from_callback),
		CK_TEST(test_poll_api),
		CK_TEST(test_poll_negative_return_removes),
		CK_TEST(test_poll_delete_self),
		CK_TEST(test_low_fds),
		CK_TEST(test_signals),
		CK_TEST(test_signal_delete_self_and_pending),
		CK_TEST(test_signal_rtmax_and_second_loop),
		CK_TEST(test_signal_loops_limit),
		CK_TEST(test_fork_child_uses_own_epoll),
		CK_TEST(test_fd_hygiene),
	};
	const struct ck_opts opts = {
		.timeout = 20,
		.setup = setup,
		.teardown = teardown,
	};

	return CK_MAIN("loop", &opts, tests);
}
