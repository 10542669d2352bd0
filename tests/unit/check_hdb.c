/* qbhdb.h: handle life cycle, reference counts, stale handles, iteration. */
#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbhdb.h>

static int destructed;
static int last_destructed;

static void destructor(void *instance)
{
	destructed++;
	last_destructed = *(int *)instance;
}

QB_HDB_DECLARE(static_db, destructor);

/* qb_hdb_destroy() leaves live objects alone (as libqb): free them first. */
static void destroy_all(struct qb_hdb *db)
{
	qb_handle_t h;
	void *inst;

	qb_hdb_iterator_reset(db);
	while (qb_hdb_iterator_next(db, &inst, &h) == 0) {
		qb_hdb_handle_put(db, h);
		ck_assert_int_eq(qb_hdb_handle_destroy(db, h), 0);
	}
	qb_hdb_destroy(db);
}

START_TEST(test_static_lazy)
{
	qb_handle_t h;
	void *inst;

	ck_assert_int_eq(static_db.first_run, QB_TRUE);
	ck_assert_int_eq(qb_hdb_handle_create(&static_db, sizeof(int), &h), 0);
	ck_assert_int_eq(static_db.first_run, QB_FALSE);
	ck_assert_ptr_nonnull(static_db.handles);
	ck_assert_uint_eq(static_db.handle_count, 1);
	ck_assert_uint_eq(qb_hdb_base_convert(h), 0);
	ck_assert_uint_ne(h >> 32, 0);
	ck_assert_int_eq(qb_hdb_handle_get(&static_db, h, &inst), 0);
	*(int *)inst = 99;
	ck_assert_int_eq(qb_hdb_handle_put(&static_db, h), 0);
	destructed = 0;
	ck_assert_int_eq(qb_hdb_handle_destroy(&static_db, h), 0);
	ck_assert_int_eq(destructed, 1);
	ck_assert_int_eq(last_destructed, 99);
	qb_hdb_destroy(&static_db);
}
END_TEST

START_TEST(test_lifecycle)
{
	struct qb_hdb db;
	qb_handle_t h;
	void *inst, *inst2;

	qb_hdb_create(&db);
	db.destructor = destructor;
	ck_assert_int_eq(qb_hdb_handle_create(&db, sizeof(int) * 4, &h), 0);
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, h), 1);
	ck_assert_int_eq(qb_hdb_handle_get(&db, h, &inst), 0);
	ck_assert_int_eq(((int *)inst)[3], 0); /* zero-filled */
	*(int *)inst = 5;
	ck_assert_int_eq(qb_hdb_handle_get_always(&db, h, &inst2), 0);
	ck_assert_ptr_eq(inst, inst2);
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, h), 3);
	ck_assert_int_eq(qb_hdb_handle_put(&db, h), 0);
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, h), 2);

	/* destroy while referenced: pending, gets refused, freed on last put */
	destructed = 0;
	ck_assert_int_eq(qb_hdb_handle_destroy(&db, h), 0);
	ck_assert_int_eq(destructed, 0);
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, h), 1);
	ck_assert_int_eq(qb_hdb_handle_get(&db, h, &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_get_always(&db, h, &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_put(&db, h), 0);
	ck_assert_int_eq(destructed, 1);
	ck_assert_int_eq(last_destructed, 5);

	/* the handle is now stale everywhere */
	ck_assert_int_eq(qb_hdb_handle_get(&db, h, &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_put(&db, h), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_destroy(&db, h), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, h), -EBADF);
	qb_hdb_destroy(&db);
	ck_assert_ptr_null(db.handles);
	ck_assert_ptr_null(db.destructor);
}
END_TEST

START_TEST(test_bad_handles)
{
	struct qb_hdb db;
	qb_handle_t h, h2;
	void *inst;

	qb_hdb_create(&db);
	ck_assert_int_eq(qb_hdb_handle_create(&db, 8, &h), 0);
	ck_assert_int_eq(qb_hdb_handle_get(&db, h ^ (1ULL << 40), &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_get(&db, h + 1, &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_get(&db, 1000, &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_get(&db, qb_hdb_nocheck_convert(1), &inst), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_put(&db, 1000), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_destroy(&db, 1000), -EBADF);
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, 1000), -EBADF);
	/* the "no check" marker bypasses the check value */
	ck_assert_uint_eq(qb_hdb_nocheck_convert(5), 0xFFFFFFFF00000005ULL);
	ck_assert_int_eq(qb_hdb_handle_get(&db, qb_hdb_nocheck_convert(0), &inst), 0);
	ck_assert_int_eq(qb_hdb_handle_put(&db, qb_hdb_nocheck_convert(0)), 0);
	/* a recycled slot gets a new handle; the old one stays invalid */
	ck_assert_int_eq(qb_hdb_handle_destroy(&db, h), 0);
	ck_assert_int_eq(qb_hdb_handle_create(&db, 8, &h2), 0);
	ck_assert_uint_eq(qb_hdb_base_convert(h2), 0);
	if (h2 != h) {
		ck_assert_int_eq(qb_hdb_handle_get(&db, h, &inst), -EBADF);
	}
	/* negative sizes cannot be allocated */
	ck_assert_int_eq(qb_hdb_handle_create(&db, -1, &h2), -ENOMEM);
	ck_assert_int_eq(qb_hdb_handle_create(&db, 0, &h2), 0);
	destroy_all(&db);
	/* a destroyed database refuses everything until re-created */
	ck_assert_int_eq(qb_hdb_handle_create(&db, 8, &h2), -EINVAL);
	ck_assert_int_eq(qb_hdb_handle_get(&db, h2, &inst), -EBADF);
	qb_hdb_iterator_reset(&db);
	ck_assert_int_eq(qb_hdb_iterator_next(&db, &inst, &h2), -1);
}
END_TEST

START_TEST(test_many_and_iterate)
{
	struct qb_hdb db;
	qb_handle_t h[100], it;
	void *inst;
	int i, seen = 0, sum = 0;

	qb_hdb_create(&db);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(qb_hdb_handle_create(&db, sizeof(int), &h[i]), 0);
		ck_assert_int_eq(qb_hdb_handle_get(&db, h[i], &inst), 0);
		*(int *)inst = i;
		qb_hdb_handle_put(&db, h[i]);
	}
	ck_assert_uint_eq(db.handle_count, 100);
	for (i = 0; i < 100; i += 2) {
		ck_assert_int_eq(qb_hdb_handle_destroy(&db, h[i]), 0);
	}
	qb_hdb_iterator_reset(&db);
	while (qb_hdb_iterator_next(&db, &inst, &it) == 0) {
		ck_assert_int_eq(*(int *)inst % 2, 1);
		ck_assert_uint_eq(it, h[*(int *)inst]);
		ck_assert_int_eq(qb_hdb_handle_refcount_get(&db, it), 2);
		qb_hdb_handle_put(&db, it);
		seen++;
		sum += *(int *)inst;
	}
	ck_assert_int_eq(seen, 50);
	ck_assert_int_eq(sum, 2500);
	ck_assert_int_eq(qb_hdb_iterator_next(&db, &inst, &it), -1);
	/* freed slots are reused before the table grows */
	ck_assert_int_eq(qb_hdb_handle_create(&db, 4, &it), 0);
	ck_assert_uint_eq(qb_hdb_base_convert(it), 0);
	ck_assert_uint_eq(db.handle_count, 100);
	destroy_all(&db);
}
END_TEST

#define THREADS 4
#define ROUNDS 20000
static struct qb_hdb shared_db;
static qb_handle_t shared_handle;

static void *get_put(void *arg)
{
	void *inst;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (qb_hdb_handle_get(&shared_db, shared_handle, &inst) != 0 ||
		    qb_hdb_handle_put(&shared_db, shared_handle) != 0) {
			return (void *)1;
		}
	}
	return arg;
}

START_TEST(test_threaded_refcount)
{
	pthread_t t[THREADS];
	void *rc;
	int i;

	qb_hdb_create(&shared_db);
	ck_assert_int_eq(qb_hdb_handle_create(&shared_db, 16, &shared_handle), 0);
	for (i = 0; i < THREADS; i++) {
		pthread_create(&t[i], NULL, get_put, NULL);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &rc);
		ck_assert_ptr_null(rc);
	}
	ck_assert_int_eq(qb_hdb_handle_refcount_get(&shared_db, shared_handle), 1);
	ck_assert_int_eq(qb_hdb_handle_destroy(&shared_db, shared_handle), 0);
	qb_hdb_destroy(&shared_db);
}
END_TEST

#define CREATORS 4
#define PER_CREATOR 2000
static qb_handle_t created[CREATORS][PER_CREATOR];

/* Create handles, destroying every other one so slots get recycled. */
static void *create_many(void *arg)
{
	intptr_t id = (intptr_t)arg;
	void *inst;
	int i;

	for (i = 0; i < PER_CREATOR; i++) {
		if (qb_hdb_handle_create(&shared_db, sizeof(intptr_t), &created[id][i]) != 0 ||
		    qb_hdb_handle_get(&shared_db, created[id][i], &inst) != 0) {
			return (void *)1;
		}
		*(intptr_t *)inst = id * PER_CREATOR + i;
		qb_hdb_handle_put(&shared_db, created[id][i]);
		if (i % 2 == 1 && qb_hdb_handle_destroy(&shared_db, created[id][i - 1]) != 0) {
			return (void *)1;
		}
	}
	return NULL;
}

START_TEST(test_threaded_create)
{
	pthread_t t[CREATORS];
	void *rc, *inst;
	intptr_t id;
	int i, live = 0;

	qb_hdb_create(&shared_db);
	for (id = 0; id < CREATORS; id++) {
		pthread_create(&t[id], NULL, create_many, (void *)id);
	}
	for (id = 0; id < CREATORS; id++) {
		pthread_join(t[id], &rc);
		ck_assert_ptr_null(rc);
	}
	/* every surviving handle still names its own object */
	for (id = 0; id < CREATORS; id++) {
		for (i = 1; i < PER_CREATOR; i += 2) {
			ck_assert_int_eq(qb_hdb_handle_get(&shared_db, created[id][i], &inst), 0);
			ck_assert_int_eq(*(intptr_t *)inst, id * PER_CREATOR + i);
			qb_hdb_handle_put(&shared_db, created[id][i]);
			live++;
		}
	}
	ck_assert_int_eq(live, CREATORS * PER_CREATOR / 2);
	/* recycling kept the table well below one slot per handle ever made */
	ck_assert_uint_lt(shared_db.handle_count, CREATORS * PER_CREATOR);
	destroy_all(&shared_db);
}
END_TEST

QB_HDB_DECLARE(race_db, NULL);
static pthread_barrier_t race_start;

/* Many threads make the first call on a static database at once. */
static void *first_use(void *arg)
{
	qb_handle_t *h = arg;

	pthread_barrier_wait(&race_start);
	return (void *)(intptr_t)qb_hdb_handle_create(&race_db, 8, h);
}

START_TEST(test_static_first_use_race)
{
	pthread_t t[CREATORS];
	qb_handle_t h[CREATORS];
	void *rc, *inst;
	int i, j;

	pthread_barrier_init(&race_start, NULL, CREATORS);
	for (i = 0; i < CREATORS; i++) {
		pthread_create(&t[i], NULL, first_use, &h[i]);
	}
	for (i = 0; i < CREATORS; i++) {
		pthread_join(t[i], &rc);
		ck_assert_ptr_null(rc);
	}
	pthread_barrier_destroy(&race_start);
	/* one table for everybody: all handles distinct and valid */
	ck_assert_uint_eq(race_db.handle_count, CREATORS);
	for (i = 0; i < CREATORS; i++) {
		ck_assert_int_eq(qb_hdb_handle_get(&race_db, h[i], &inst), 0);
		qb_hdb_handle_put(&race_db, h[i]);
		for (j = 0; j < i; j++) {
			ck_assert_uint_ne(h[i], h[j]);
		}
	}
	destroy_all(&race_db);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_static_lazy),	     CK_TEST(test_lifecycle),
		CK_TEST(test_bad_handles),	     CK_TEST(test_many_and_iterate),
		CK_TEST(test_threaded_refcount),     CK_TEST(test_threaded_create),
		CK_TEST(test_static_first_use_race),
	};
	const struct ck_opts opts = {
		.timeout = 20,
	};

	return CK_MAIN("hdb", &opts, tests);
}
