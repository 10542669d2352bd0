/*
 * qbmap throughput: put/get/rm of N string keys per map type, and a prefix
 * iteration over a trie. Built against the distro headers; run on both
 * libraries by bench/run-bench.sh. Prints METRIC\tVALUE\tUNIT\thigher.
 */
#define _GNU_SOURCE /* sched_setaffinity, in bench_pin.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <qb/qbmap.h>

#include "bench_pin.h"

#define NKEYS 100000

static char **keys;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* upstream's skiplist rm costs milliseconds per key at this size, so
 * only a sample of it is timed to keep a run within a few seconds */
#define SKIPLIST_RM_SAMPLE 30

static void report(const char *map, const char *op, long n, double secs)
{
	printf("map_%s_%s\t%.0f\tops/s\thigher\n", map, op, n / secs);
}

struct op_times {
	double put, get, rm;
};

static double fastest(double best, double t)
{
	return best == 0 || t < best ? t : best;
}

/* One round on a fresh map: the time of each operation over the keys. */
static void round_one(const char *name, qb_map_t *m, int nrm, struct op_times *t)
{
	double t0, t1, t2, t3;
	long found = 0;
	int i;

	t0 = now();
	for (i = 0; i < NKEYS; i++)
		qb_map_put(m, keys[i], keys[i]);
	t1 = now();
	for (i = 0; i < NKEYS; i++)
		found += qb_map_get(m, keys[(i * 7919) % NKEYS]) != NULL;
	t2 = now();
	for (i = 0; i < nrm; i++)
		qb_map_rm(m, keys[(i * 7919) % NKEYS]);
	t3 = now();
	if (found != NKEYS || qb_map_count_get(m) != (size_t)(NKEYS - nrm))
		fprintf(stderr, "%s: unexpected result\n", name);
	qb_map_destroy(m);
	t->put = fastest(t->put, t1 - t0);
	t->get = fastest(t->get, t2 - t1);
	t->rm = fastest(t->rm, t3 - t2);
}

/*
 * Each figure is the fastest of `rounds` rounds, each on a new map: one
 * round of the hashtable takes about 15 ms, and over single rounds both
 * libraries' put rates spread 2x from run to run (page faults of the
 * fresh heap, a neighbour on the host), which hid any real difference.
 */
static void bench_one(const char *name, qb_map_t *(*create)(void), int rounds)
{
	struct op_times best = { 0, 0, 0 };
	int r, nrm = strcmp(name, "skiplist") ? NKEYS : SKIPLIST_RM_SAMPLE;

	for (r = 0; r < rounds; r++)
		round_one(name, create(), nrm, &best);
	report(name, "put", NKEYS, best.put);
	report(name, "get", NKEYS, best.get);
	report(name, "rm", nrm, best.rm);
}

static qb_map_t *hashtable_new(void)
{
	return qb_hashtable_create(NKEYS);
}

static void bench_prefix(void)
{
	qb_map_t *m = qb_trie_create();
	qb_map_iter_t *it;
	const char *k;
	void *v;
	double t0, t1;
	long n = 0;
	int i, rounds = 5;

	for (i = 0; i < NKEYS; i++)
		qb_map_put(m, keys[i], keys[i]);
	t0 = now();
	for (i = 0; i < rounds; i++) {
		it = qb_map_pref_iter_create(m, "runtime.");
		while ((k = qb_map_iter_next(it, &v)) != NULL)
			n++;
		qb_map_iter_free(it);
	}
	t1 = now();
	if (n != (long)rounds * NKEYS)
		fprintf(stderr, "prefix: %ld keys\n", n);
	printf("map_trie_prefix_iter\t%.0f\tkeys/s\thigher\n", n / (t1 - t0));
	qb_map_destroy(m);
}

int main(void)
{
	int i;

	keys = malloc(NKEYS * sizeof(*keys));
	for (i = 0; i < NKEYS; i++) {
		char buf[64];

		/* corosync-like dotted names with a shared prefix */
		snprintf(buf, sizeof(buf), "runtime.nodes.%d.member.%x",
			 i % 977, (unsigned)(i * 2654435761u));
		keys[i] = strdup(buf);
	}
	bench_pin();
	/* the rounds keep a run near one second on the distro library */
	bench_one("skiplist", qb_skiplist_create, 1);
	bench_one("hashtable", hashtable_new, 7);
	bench_one("trie", qb_trie_create, 5);
	bench_prefix();
	for (i = 0; i < NKEYS; i++)
		free(keys[i]);
	free(keys);
	return 0;
}
