/*
 * Util micro-benchmarks (run on the distro libqb and on ours by
 * bench/run-bench.sh): handle database create/get+put/destroy and
 * qb_array_index, in ns per operation. About 0.1-0.2 s per run (handle
 * creation is linear in the number of handles on libqb 2.0).
 */
#define _GNU_SOURCE /* sched_setaffinity, in bench_pin.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <qb/qbarray.h>
#include <qb/qbatomic.h>
#include <qb/qbhdb.h>

#include "bench_pin.h"

#define HANDLES 2000
#define GET_PUT_ROUNDS 1000000
#define ARRAY_ELEMENTS QB_ARRAY_MAX_ELEMENTS
#define ARRAY_PASSES 20
#define ATOMIC_ROUNDS 5000000

static qb_handle_t handles[HANDLES];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void report(const char *metric, uint64_t ns, uint64_t ops)
{
	printf("%s\t%.2f\tns/op\tlower\n", metric, (double)ns / (double)ops);
}

static int bench_hdb(void)
{
	struct qb_hdb db;
	uint64_t t0;
	void *inst;
	unsigned int seed = 1;
	long sink = 0;
	int i;

	qb_hdb_create(&db);
	t0 = now_ns();
	for (i = 0; i < HANDLES; i++) {
		if (qb_hdb_handle_create(&db, 64, &handles[i]) != 0) {
			return -1;
		}
	}
	report("hdb_handle_create", now_ns() - t0, HANDLES);

	t0 = now_ns();
	for (i = 0; i < GET_PUT_ROUNDS; i++) {
		qb_handle_t h = handles[rand_r(&seed) % HANDLES];

		if (qb_hdb_handle_get(&db, h, &inst) != 0) {
			return -1;
		}
		sink += *(char *)inst;
		qb_hdb_handle_put(&db, h);
	}
	report("hdb_handle_get+put", now_ns() - t0, GET_PUT_ROUNDS);

	t0 = now_ns();
	for (i = 0; i < HANDLES; i++) {
		if (qb_hdb_handle_destroy(&db, handles[i]) != 0) {
			return -1;
		}
	}
	report("hdb_handle_destroy", now_ns() - t0, HANDLES);
	qb_hdb_destroy(&db);
	return (int)(sink & 0);
}

static int bench_array(void)
{
	qb_array_t *a = qb_array_create(ARRAY_ELEMENTS, sizeof(uint32_t));
	uint64_t t0;
	void *e;
	int pass, i;

	if (a == NULL) {
		return -1;
	}
	for (i = 0; i < ARRAY_ELEMENTS; i++) {	/* allocate every bin first */
		qb_array_index(a, i, &e);
	}
	t0 = now_ns();
	for (pass = 0; pass < ARRAY_PASSES; pass++) {
		for (i = 0; i < ARRAY_ELEMENTS; i++) {
			if (qb_array_index(a, i, &e) != 0) {
				return -1;
			}
			(*(uint32_t *)e)++;
		}
	}
	report("array_index", now_ns() - t0, (uint64_t)ARRAY_PASSES * ARRAY_ELEMENTS);
	qb_array_free(a);
	return 0;
}

static int bench_atomic(void)
{
	volatile int32_t v = 0;
	uint64_t t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < ATOMIC_ROUNDS; i++) {
		qb_atomic_int_set(&v, qb_atomic_int_get(&v) + 1);
	}
	report("atomic_int_get+set", now_ns() - t0, ATOMIC_ROUNDS);
	return v == ATOMIC_ROUNDS ? 0 : -1;
}

int main(void)
{
	bench_pin();
	if (bench_hdb() != 0 || bench_array() != 0 || bench_atomic() != 0) {
		fprintf(stderr, "bench_util: unexpected failure\n");
		return 1;
	}
	return 0;
}
