/* qbarray.h: creation limits, indexing, growth, bins and their callback. */
#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbarray.h>

static uint32_t bins_seen[8];
static int bins_seen_n;

static void new_bin(qb_array_t *a, uint32_t bin)
{
	if (bins_seen_n < 8) {
		bins_seen[bins_seen_n] = bin;
	}
	bins_seen_n++;
}

START_TEST(test_create_limits)
{
	qb_array_t *a;

	errno = 0;
	ck_assert_ptr_null(qb_array_create(1, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_array_create(QB_ARRAY_MAX_ELEMENTS + 1, 4));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_array_create_2(4, 4, 17));
	ck_assert_int_eq(errno, EINVAL);
	a = qb_array_create(QB_ARRAY_MAX_ELEMENTS, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(qb_array_num_bins_get(a), QB_ARRAY_MAX_ELEMENTS / 16);
	qb_array_free(a);
	a = qb_array_create_2(0, 4, 16);
	ck_assert_ptr_nonnull(a);
	qb_array_free(a);
	qb_array_free(NULL);
}
END_TEST

START_TEST(test_index)
{
	qb_array_t *a = qb_array_create(10, sizeof(uint64_t));
	void *e, *e2;
	int i;

	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(qb_array_elems_per_bin_get(a), 16);
	ck_assert_uint_eq(qb_array_num_bins_get(a), 1);
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(qb_array_index(a, i, &e), 0);
		ck_assert_uint_eq(*(uint64_t *)e, 0); /* zero-filled */
		*(uint64_t *)e = (uint64_t)i * 3;
	}
	ck_assert_int_eq(qb_array_index(a, 4, &e), 0);
	ck_assert_uint_eq(*(uint64_t *)e, 12);
	ck_assert_int_eq(qb_array_index(a, 5, &e2), 0);
	ck_assert_ptr_eq((char *)e2, (char *)e + sizeof(uint64_t));
	ck_assert_int_eq(qb_array_index(a, 10, &e), -ERANGE);
	ck_assert_int_eq(qb_array_index(a, 15, &e), -ERANGE);
	ck_assert_int_eq(qb_array_index(a, -1, &e), -ERANGE);
	ck_assert_int_eq(qb_array_index(a, 70000, &e), -ERANGE);
	ck_assert_int_eq(qb_array_index(a, 0, NULL), -EINVAL);
	ck_assert_int_eq(qb_array_index(NULL, 0, &e), -EINVAL);
	qb_array_free(a);

	a = qb_array_create(0, 4);
	ck_assert_int_eq(qb_array_index(a, 0, &e), -ERANGE);
	qb_array_free(a);
}
END_TEST

START_TEST(test_grow)
{
	qb_array_t *a = qb_array_create(10, sizeof(int));
	int *first, *again;
	void *e;

	ck_assert_int_eq(qb_array_index(a, 3, (void **)&first), 0);
	*first = 42;
	ck_assert_int_eq(qb_array_grow(a, 5), 0); /* never shrinks */
	ck_assert_int_eq(qb_array_index(a, 9, &e), 0);
	ck_assert_int_eq(qb_array_grow(a, 40), 0);
	ck_assert_uint_eq(qb_array_num_bins_get(a), 4);
	ck_assert_int_eq(qb_array_index(a, 39, &e), 0);
	ck_assert_int_eq(qb_array_index(a, 40, &e), -ERANGE);
	ck_assert_int_eq(qb_array_index(a, 3, (void **)&again), 0);
	ck_assert_ptr_eq(again, first); /* elements never move */
	ck_assert_int_eq(*again, 42);
	ck_assert_int_eq(qb_array_grow(a, QB_ARRAY_MAX_ELEMENTS), 0);
	ck_assert_int_eq(qb_array_index(a, QB_ARRAY_MAX_ELEMENTS - 1, &e), 0);
	ck_assert_int_eq(qb_array_index(a, QB_ARRAY_MAX_ELEMENTS, &e), -ERANGE);
	ck_assert_int_eq(qb_array_grow(a, QB_ARRAY_MAX_ELEMENTS + 1), -EINVAL);
	ck_assert_int_eq(qb_array_grow(NULL, 3), -EINVAL);
	qb_array_free(a);
}
END_TEST

START_TEST(test_autogrow)
{
	qb_array_t *a = qb_array_create_2(4, sizeof(int), 8);
	void *e;

	ck_assert_int_eq(qb_array_index(a, 4, &e), 0);
	ck_assert_int_eq(qb_array_index(a, 100, &e), 0);
	ck_assert_uint_eq(qb_array_num_bins_get(a), 8);
	ck_assert_int_eq(qb_array_index(a, QB_ARRAY_MAX_ELEMENTS - 1, &e), 0);
	ck_assert_int_eq(qb_array_index(a, QB_ARRAY_MAX_ELEMENTS, &e), -EINVAL);
	ck_assert_int_eq(qb_array_index(a, -1, &e), -ERANGE);
	qb_array_free(a);
}
END_TEST

START_TEST(test_bins_and_callback)
{
	qb_array_t *a = qb_array_create(100, 3);
	void *e;

	ck_assert_uint_eq(qb_array_num_bins_get(a), 7);
	ck_assert_int_eq((int)qb_array_num_bins_get(NULL), -EINVAL);
	ck_assert_int_eq((int)qb_array_elems_per_bin_get(NULL), -EINVAL);
	ck_assert_int_eq(qb_array_new_bin_cb_set(NULL, new_bin), -EINVAL);
	ck_assert_int_eq(qb_array_new_bin_cb_set(a, new_bin), 0);
	bins_seen_n = 0;
	qb_array_index(a, 0, &e);
	qb_array_index(a, 15, &e); /* same bin: no call */
	qb_array_index(a, 50, &e);
	qb_array_index(a, 16, &e);
	ck_assert_int_eq(bins_seen_n, 3);
	ck_assert_uint_eq(bins_seen[0], 0);
	ck_assert_uint_eq(bins_seen[1], 3);
	ck_assert_uint_eq(bins_seen[2], 1);
	ck_assert_int_eq(qb_array_new_bin_cb_set(a, NULL), 0);
	qb_array_index(a, 99, &e);
	ck_assert_int_eq(bins_seen_n, 3);
	qb_array_free(a);
}
END_TEST

#define THREADS 4
static qb_array_t *shared;

/* Each thread grows the array and fills its own stripe of elements. */
static void *fill_stripe(void *arg)
{
	intptr_t id = (intptr_t)arg;
	void *e;
	int i;

	for (i = (int)id; i < QB_ARRAY_MAX_ELEMENTS; i += THREADS) {
		if (i % 64 == 0 && qb_array_grow(shared, (size_t)i + 64) != 0) {
			return (void *)1;
		}
		if (qb_array_index(shared, i, &e) != 0) {
			return (void *)1;
		}
		*(int *)e = i;
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t t[THREADS];
	void *rc, *e;
	intptr_t i;

	shared = qb_array_create_2(1, sizeof(int), 1);
	for (i = 0; i < THREADS; i++) {
		pthread_create(&t[i], NULL, fill_stripe, (void *)i);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &rc);
		ck_assert_ptr_null(rc);
	}
	/* no element lost to a concurrent bin allocation or table resize */
	for (i = 0; i < QB_ARRAY_MAX_ELEMENTS; i++) {
		ck_assert_int_eq(qb_array_index(shared, (int32_t)i, &e), 0);
		ck_assert_int_eq(*(int *)e, i);
	}
	qb_array_free(shared);
}
END_TEST

/*
 * Readers index elements that exist while a writer keeps growing the
 * array, which replaces the bin table many times: a reader must always
 * get the element's one address (indexing an existing bin takes no lock).
 */
#define READ_SPAN 256
static void *addr_of[READ_SPAN];
static int growing;

static void *read_existing(void *arg)
{
	void *e;
	int i = 0;

	(void)arg;
	while (__atomic_load_n(&growing, __ATOMIC_ACQUIRE)) {
		if (qb_array_index(shared, i, &e) != 0 || e != addr_of[i]) {
			return (void *)1;
		}
		i = (i + 1) % READ_SPAN;
	}
	return NULL;
}

START_TEST(test_index_while_growing)
{
	pthread_t t[2];
	void *rc, *e;
	int i;

	shared = qb_array_create(READ_SPAN, sizeof(int));
	for (i = 0; i < READ_SPAN; i++) {
		ck_assert_int_eq(qb_array_index(shared, i, &addr_of[i]), 0);
	}
	growing = 1;
	for (i = 0; i < 2; i++) {
		pthread_create(&t[i], NULL, read_existing, NULL);
	}
	for (i = READ_SPAN; i < QB_ARRAY_MAX_ELEMENTS; i += 16) {
		ck_assert_int_eq(qb_array_grow(shared, (size_t)i + 16), 0);
		ck_assert_int_eq(qb_array_index(shared, i, &e), 0);
	}
	__atomic_store_n(&growing, 0, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], &rc);
		ck_assert_ptr_null(rc);
	}
	/* 4096 bins, as libqb reports them, whatever the table's capacity */
	ck_assert_int_eq(qb_array_num_bins_get(shared), QB_ARRAY_MAX_ELEMENTS / 16 + 1);
	qb_array_free(shared);
}
END_TEST

/* A failed index leaves the caller's pointer as it was. */
START_TEST(test_index_error_keeps_out)
{
	qb_array_t *a = qb_array_create(4, sizeof(int));
	void *e = &e;

	ck_assert_int_eq(qb_array_index(a, 4, &e), -ERANGE);
	ck_assert_ptr_eq(e, &e);
	ck_assert_int_eq(qb_array_index(a, -1, &e), -ERANGE);
	ck_assert_ptr_eq(e, &e);
	qb_array_free(a);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_create_limits),
		CK_TEST(test_index),
		CK_TEST(test_grow),
		CK_TEST(test_autogrow),
		CK_TEST(test_bins_and_callback),
		CK_TEST(test_threads),
		CK_TEST(test_index_while_growing),
		CK_TEST(test_index_error_keeps_out),
	};
	const struct ck_opts opts = {
		.timeout = 20,
	};

	return CK_MAIN("array", &opts, tests);
}
