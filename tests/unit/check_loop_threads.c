/*
 * check_loop_threads.c - qb_loop calls from other threads (jobs, timers,
 * stop wake the loop), and signals after fork (a new loop in the child,
 * and the inherited one, get the child's signals; the parent never does).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbloop.h>

static unsigned int hang_seconds(unsigned int n)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	long k = m != NULL ? strtol(m, NULL, 10) : 1;

	return n * (unsigned int)(k > 1 && k < 1000 ? k : 1);
}

static qb_loop_t *L;
static long done; /* atomic */
static long want;

static void setup(void)
{
	L = qb_loop_create();
	ck_assert_ptr_nonnull(L);
	done = 0;
}

static void teardown(void)
{
	qb_loop_destroy(L);
}

static void count_job(void *d)
{
	if (__atomic_add_fetch(&done, 1, __ATOMIC_RELAXED) == want)
		qb_loop_stop(L);
}

static void stop_timer(void *d)
{
	qb_loop_stop(d);
}

/* Run until stopped; the loop has nothing to wait for but the adds. */
static void run_guarded(void)
{
	alarm(hang_seconds(20)); /* a lost wake-up hangs for ever */
	qb_loop_run(L);
	alarm(0);
}

/* ---- item 5: cross-thread adds ----------------------------------------- */

static void *add_one_job(void *arg)
{
	usleep(20000); /* let the loop block (not needed for correctness) */
	ck_assert_int_eq(qb_loop_job_add(L, QB_LOOP_MED, NULL, count_job), 0);
	return NULL;
}

START_TEST(test_job_add_from_thread_wakes)
{
	pthread_t th;

	want = 1;
	pthread_create(&th, NULL, add_one_job, NULL);
	run_guarded();
	pthread_join(th, NULL);
	ck_assert_int_eq(done, 1);
}
END_TEST

static void timer_job(void *d)
{
	count_job(d);
}

static void *add_one_timer(void *arg)
{
	qb_loop_timer_handle h;

	usleep(20000);
	ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_LOW, 1000000, NULL, timer_job, &h), 0);
	return NULL;
}

START_TEST(test_timer_add_from_thread_wakes)
{
	pthread_t th;
	qb_loop_timer_handle far;

	/* a timer an hour away: the loop sleeps on it */
	ck_assert_int_eq(
		qb_loop_timer_add(L, QB_LOOP_LOW, 3600ULL * 1000000000, NULL, timer_job, &far), 0);
	want = 1;
	pthread_create(&th, NULL, add_one_timer, NULL);
	run_guarded();
	pthread_join(th, NULL);
	ck_assert_int_eq(done, 1);
	ck_assert_int_eq(qb_loop_timer_is_running(L, far), 1);
}
END_TEST

static void *stopper(void *arg)
{
	usleep(20000);
	qb_loop_stop(L);
	return NULL;
}

START_TEST(test_stop_from_thread)
{
	pthread_t th;

	pthread_create(&th, NULL, stopper, NULL);
	run_guarded();
	pthread_join(th, NULL);
}
END_TEST

#define ADDERS 4
#define JOBS_EACH 5000
#define TIMERS_EACH 500

static void *adder(void *arg)
{
	long i;

	for (i = 0; i < JOBS_EACH; i++) {
		ck_assert_int_eq(
			qb_loop_job_add(L, (enum qb_loop_priority)(i % 3), NULL, count_job), 0);
		if (i % (JOBS_EACH / TIMERS_EACH) == 0) {
			qb_loop_timer_handle h;

			ck_assert_int_eq(qb_loop_timer_add(L, QB_LOOP_HIGH,
							   (uint64_t)(i % 3) * 100000, NULL,
							   timer_job, &h),
					 0);
		}
		if (i % 256 == 0)
			usleep(100);
	}
	return NULL;
}

/* Many threads add jobs and timers while the loop runs them: every one
 * runs exactly once. */
START_TEST(test_concurrent_adds)
{
	pthread_t th[ADDERS];
	long i;

	want = ADDERS * (JOBS_EACH + TIMERS_EACH);
	for (i = 0; i < ADDERS; i++)
		pthread_create(&th[i], NULL, adder, NULL);
	run_guarded();
	for (i = 0; i < ADDERS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(done, want);
}
END_TEST

/* ---- item 4: signals after fork ---------------------------------------- */

static int sig_count;

static int32_t on_sig(int32_t sig, void *d)
{
	sig_count++;
	return 0;
}

static void run_ms(qb_loop_t *l, unsigned ms)
{
	qb_loop_timer_handle h;

	ck_assert_int_eq(qb_loop_timer_add(l, QB_LOOP_LOW, ms * 1000000ULL, l, stop_timer, &h), 0);
	qb_loop_run(l);
}

static void fork_case(int new_loop)
{
	qb_loop_signal_handle h;
	int status;
	pid_t pid;

	ck_assert_int_eq(qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR2, NULL, on_sig, &h), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		qb_loop_t *own = L;
		int ok;

		alarm(hang_seconds(10));
		if (new_loop) {
			own = qb_loop_create();
			if (own == NULL ||
			    qb_loop_signal_add(own, QB_LOOP_HIGH, SIGUSR2, NULL, on_sig, NULL) != 0)
				_exit(2);
		}
		raise(SIGUSR2);
		run_ms(own, 100);
		ok = sig_count == 1;
		if (new_loop) {
			/* the inherited loop has the child's signal too */
			sig_count = 0;
			run_ms(L, 100);
			ok &= sig_count == 1;
			qb_loop_destroy(own);
		}
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* the child's signal went to the child's pipes only */
	run_ms(L, 200);
	ck_assert_int_eq(sig_count, 0);
	raise(SIGUSR2);
	run_ms(L, 100);
	ck_assert_int_eq(sig_count, 1);
	qb_loop_signal_del(L, h);
}

START_TEST(test_fork_new_loop_signals)
{
	fork_case(1);
}
END_TEST

START_TEST(test_fork_inherited_loop_signals)
{
	fork_case(0);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_job_add_from_thread_wakes), CK_TEST(test_timer_add_from_thread_wakes),
		CK_TEST(test_stop_from_thread),		 CK_TEST(test_concurrent_adds),
		CK_TEST(test_fork_new_loop_signals),	 CK_TEST(test_fork_inherited_loop_signals),
	};
	const struct ck_opts opts = {
		.timeout = 60,
		.setup = setup,
		.teardown = teardown,
	};

	return CK_MAIN("loop_threads", &opts, tests);
}
