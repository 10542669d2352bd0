/*
 * bench_rb: ring buffer throughput, built against the distro headers and
 * run on both libraries by bench/run-bench.sh.
 *   - single process, write a batch then read it back: 64 B, 1 KiB, 64 KiB
 *   - two processes (fork), writer and blocking reader: 64 B, 1 KiB
 *   - overwrite mode write rate (64 B, ring always full)
 * The single-process rows are the best of several rounds (see single()).
 * Output lines: METRIC<TAB>VALUE<TAB>UNIT<TAB>higher
 */
#define _GNU_SOURCE /* sched_setaffinity, in bench_pin.h */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <qb/qbrb.h>

#include "bench_pin.h"

#define RING (1024 * 1024)
#define SLICE 0.12	/* seconds per measurement */

static uint8_t wbuf[65536];
static uint8_t rbuf[65536];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *what, size_t size, double chunks, double secs)
{
	printf("rb_%s_%zuB_chunks\t%.0f\tchunks/s\thigher\n", what, size, chunks / secs);
	printf("rb_%s_%zuB_MB\t%.1f\tMB/s\thigher\n", what, size,
	       chunks * (double)size / secs / 1e6);
}

static qb_ringbuffer_t *ring(const char *tag, uint32_t flags)
{
	char name[64];
	qb_ringbuffer_t *rb;

	snprintf(name, sizeof(name), "bench-rb-%s-%d", tag, (int)getpid());
	rb = qb_rb_open(name, RING, flags | QB_RB_FLAG_CREATE, 0);
	if (rb == NULL) {
		perror("qb_rb_open");
		exit(1);
	}
	return rb;
}

/*
 * The single-process rows are the best of ROUNDS rounds of ROUND seconds
 * each: they run pinned, and on a shared machine noise only adds time (in
 * one full run of a single SLICE, the 64 B row's pairs spread 0.62-1.37x).
 */
#define ROUNDS 5
#define ROUND 0.05

/* One round of single(): write a batch, read it back, until ROUND is over;
 * returns chunks a second. */
static double single_round(qb_ringbuffer_t *rb, size_t size)
{
	double t0 = now();
	double t;
	double n = 0;
	int batch;
	int i;

	do {
		for (batch = 0; qb_rb_chunk_write(rb, wbuf, size) == (ssize_t)size; batch++) {
		}
		for (i = 0; i < batch; i++) {
			if (qb_rb_chunk_read(rb, rbuf, sizeof(rbuf), 0) != (ssize_t)size) {
				fprintf(stderr, "read failed\n");
				exit(1);
			}
		}
		n += batch;
		t = now() - t0;
	} while (t < ROUND);
	return n / t;
}

/* The best of ROUNDS rounds on one ring, reported as one second of it. */
static void best_of_rounds(const char *what, uint32_t flags, size_t size,
			   double (*round)(qb_ringbuffer_t *rb, size_t size))
{
	qb_ringbuffer_t *rb = ring(what, flags);
	double best = 0, rate;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		rate = round(rb, size);
		best = rate > best ? rate : best;
	}
	report(what, size, best, 1.0);
	qb_rb_close(rb);
}

static void single(size_t size)
{
	best_of_rounds("single", QB_RB_FLAG_SHARED_THREAD, size, single_round);
}

static void two_process(size_t size)
{
	qb_ringbuffer_t *rb = ring("fork", QB_RB_FLAG_SHARED_PROCESS);
	const uint32_t stop = 0xffffffffu;
	double t0;
	double n = 0;
	uint32_t seq;
	ssize_t got;
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		double end = now() + SLICE;

		for (seq = 0; now() < end; seq++) {
			memcpy(wbuf, &seq, 4);
			while (qb_rb_chunk_write(rb, wbuf, size) == -EAGAIN) {
				sched_yield();
			}
		}
		memcpy(wbuf, &stop, 4);
		while (qb_rb_chunk_write(rb, wbuf, size) == -EAGAIN) {
			sched_yield();
		}
		_exit(0);
	}
	t0 = now();
	for (;;) {
		got = qb_rb_chunk_read(rb, rbuf, sizeof(rbuf), 2000);
		if (got != (ssize_t)size) {
			fprintf(stderr, "fork read: %zd\n", got);
			break;
		}
		memcpy(&seq, rbuf, 4);
		if (seq == stop) {
			break;
		}
		n++;
	}
	report("fork", size, n, now() - t0);
	waitpid(pid, &st, 0);
	qb_rb_close(rb);
}

static double overwrite_round(qb_ringbuffer_t *rb, size_t size)
{
	double t0 = now();
	double t;
	double n = 0;
	int i;

	do {
		for (i = 0; i < 10000; i++) {
			qb_rb_chunk_write(rb, wbuf, size);
		}
		n += i;
		t = now() - t0;
	} while (t < ROUND);
	return n / t;
}

static void overwrite(size_t size)
{
	best_of_rounds("overwrite", QB_RB_FLAG_OVERWRITE, size, overwrite_round);
}

int main(void)
{
	memset(wbuf, 0x5a, sizeof(wbuf));
	bench_pin();
	single(64);
	single(1024);
	single(65536);
	bench_unpin();
	two_process(64);
	two_process(1024);
	two_process(4096);
	bench_pin();
	overwrite(64);
	bench_unpin();
	return 0;
}
