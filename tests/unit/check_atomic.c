/* qbatomic.h: every operation, and real atomicity under contention. */
#include <check.h>
#include "check_common.h"
#include <pthread.h>
#include <stdlib.h>
#include <qb/qbatomic.h>

#define THREADS 4
#define ROUNDS 100000

START_TEST(test_int_ops)
{
	volatile int32_t v = 0;

	qb_atomic_init();
	qb_atomic_int_set(&v, 5);
	ck_assert_int_eq(qb_atomic_int_get(&v), 5);
	qb_atomic_int_add(&v, 3);
	ck_assert_int_eq(v, 8);
	ck_assert_int_eq(qb_atomic_int_exchange_and_add(&v, -10), 8);
	ck_assert_int_eq(v, -2);
	qb_atomic_int_inc(&v);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(qb_atomic_int_compare_and_exchange(&v, 7, 9), QB_FALSE);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(qb_atomic_int_compare_and_exchange(&v, -1, 2), QB_TRUE);
	ck_assert_int_eq(v, 2);
	ck_assert(!qb_atomic_int_dec_and_test(&v));
	ck_assert(qb_atomic_int_dec_and_test(&v));
	ck_assert_int_eq(v, 0);
}
END_TEST

START_TEST(test_pointer_ops)
{
	int a, b;
	volatile void *p = NULL;

	qb_atomic_pointer_set(&p, &a);
	ck_assert_ptr_eq(qb_atomic_pointer_get(&p), &a);
	ck_assert_int_eq(qb_atomic_pointer_compare_and_exchange(&p, &b, NULL), QB_FALSE);
	ck_assert_ptr_eq((void *)p, &a);
	ck_assert_int_eq(qb_atomic_pointer_compare_and_exchange(&p, &a, &b), QB_TRUE);
	ck_assert_ptr_eq((void *)p, &b);
}
END_TEST

/* The get/set functions must exist as real symbols (applications call them). */
START_TEST(test_functions_not_only_macros)
{
	volatile int32_t v = 0;
	volatile void *p = NULL;
	int32_t (*iget)(volatile int32_t *) = (qb_atomic_int_get);
	void (*pset)(volatile void **, void *) = (qb_atomic_pointer_set);

	(qb_atomic_int_set)(&v, 11);
	ck_assert_int_eq(iget(&v), 11);
	pset(&p, (void *)&v);
	ck_assert_ptr_eq((qb_atomic_pointer_get)(&p), (void *)&v);
}
END_TEST

static volatile int32_t counter;
static volatile int32_t cas_counter;

static void *hammer(void *arg)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		int32_t old;

		qb_atomic_int_inc(&counter);
		do {
			old = qb_atomic_int_get(&cas_counter);
		} while (!qb_atomic_int_compare_and_exchange(&cas_counter, old, old + 1));
	}
	return arg;
}

START_TEST(test_contention)
{
	pthread_t t[THREADS];
	int i;

	counter = 0;
	cas_counter = 0;
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
	}
	ck_assert_int_eq(counter, THREADS * ROUNDS);
	ck_assert_int_eq(cas_counter, THREADS * ROUNDS);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_int_ops),
		CK_TEST(test_pointer_ops),
		CK_TEST(test_functions_not_only_macros),
		CK_TEST(test_contention),
	};
	const struct ck_opts opts = {
		.timeout = 20,
	};

	return CK_MAIN("atomic", &opts, tests);
}
