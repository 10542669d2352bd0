/*
 * bench_loop: loop dispatch costs, built against the distro headers and run
 * on both libraries by `make bench`. Each figure is a rate measured over a
 * fixed slice of time (so a slow library finishes on time too).
 * Output lines: METRIC <TAB> VALUE <TAB> UNIT <TAB> higher
 */
#define _GNU_SOURCE /* sched_setaffinity, in bench_pin.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <qb/qbloop.h>

#include "bench_pin.h"

#define SLICE_NS 250000000ULL	/* per metric */

static qb_loop_t *L;
static uint64_t t_start, t_end, count;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int slice_over(void)
{
	t_end = now_ns();
	return t_end - t_start >= SLICE_NS;
}

static double rate(void)
{
	return (double)count * 1e9 / (double)(t_end - t_start);
}

/* --- jobs: each job queues the next ones, keeping every level busy ------------- */

static void job_fn(void *d)
{
	count++;
	if ((count & 63) == 0 && slice_over()) {
		qb_loop_stop(L);
		return;
	}
	qb_loop_job_add(L, (enum qb_loop_priority)(long)d, d, job_fn);
}

static void bench_jobs(void)
{
	long p;
	int i;

	for (p = QB_LOOP_LOW; p <= QB_LOOP_HIGH; p++)
		for (i = 0; i < 64; i++)
			qb_loop_job_add(L, (enum qb_loop_priority)p, (void *)p, job_fn);
	count = 0;
	t_start = now_ns();
	qb_loop_run(L);
	printf("loop_jobs_per_s\t%.0f\tjobs/s\thigher\n", rate());
}

/* --- timers: add + fire with 10,000 far timers pending ------------------------- */

#define PENDING 10000
#define BATCH 256
static int batch_left;

static void timer_fn(void *d)
{
	count++;
	if (--batch_left == 0)
		qb_loop_stop(L);
}

static void far_fn(void *d)
{
}

static void bench_timers(void)
{
	static qb_loop_timer_handle far[PENDING];
	int i;

	for (i = 0; i < PENDING; i++)
		qb_loop_timer_add(L, QB_LOOP_LOW, 3600ULL * 1000000000ULL + (uint64_t)i * 1000ULL,
				  NULL, far_fn, &far[i]);
	count = 0;
	t_start = now_ns();
	do {
		batch_left = BATCH;
		for (i = 0; i < BATCH; i++)
			qb_loop_timer_add(L, QB_LOOP_HIGH, 0, NULL, timer_fn, NULL);
		qb_loop_run(L);
	} while (!slice_over());
	printf("loop_timer_add_fire_per_s_10k_pending\t%.0f\ttimers/s\thigher\n", rate());
	for (i = 0; i < PENDING; i++)
		qb_loop_timer_del(L, far[i]);
}

/* --- fds: one always-readable pipe among 1,000 idle ones ------------------------ */

#define IDLE 1000

static int32_t busy_fn(int32_t fd, int32_t revents, void *d)
{
	count++;
	if ((count & 63) == 0 && slice_over())
		qb_loop_stop(L);
	return 0;	/* not read: stays readable */
}

static int32_t idle_fn(int32_t fd, int32_t revents, void *d)
{
	return 0;
}

static void bench_fds(void)
{
	static int idle[IDLE][2];
	struct rlimit rl;
	int busy[2], i, n = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < IDLE; i++) {
		if (pipe(idle[i]) != 0)
			break;
		qb_loop_poll_add(L, QB_LOOP_MED, idle[i][0], POLLIN, NULL, idle_fn);
		n++;
	}
	if (pipe(busy) != 0 || write(busy[1], "x", 1) != 1)
		return;
	qb_loop_poll_add(L, QB_LOOP_HIGH, busy[0], POLLIN, NULL, busy_fn);
	count = 0;
	t_start = now_ns();
	qb_loop_run(L);
	printf("loop_fd_dispatch_per_s_1k_idle\t%.0f\tevents/s\thigher\n", rate());
	qb_loop_poll_del(L, busy[0]);
	for (i = 0; i < n; i++) {
		qb_loop_poll_del(L, idle[i][0]);
		close(idle[i][0]);
		close(idle[i][1]);
	}
	close(busy[0]);
	close(busy[1]);
}

int main(void)
{
	bench_pin();
	L = qb_loop_create();
	if (L == NULL)
		return 1;
	bench_jobs();
	bench_timers();
	bench_fds();
	qb_loop_destroy(L);
	return 0;
}
