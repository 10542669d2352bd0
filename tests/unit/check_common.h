/*
 * Runner shared by the check programs in tests/unit and tests/robust.
 *
 * Every test gets a TCase of its own, named after the test function, so a
 * maintainer can run exactly one test with check's case selector:
 *
 *     CK_RUN_CASE=test_ipc_txrx ./tests/unit/check_ipc
 *
 * A program lists its tests in a table and hands it, with the options the
 * tests share (timeout, fixtures), to CK_MAIN().  The table is a local of
 * main(): the test pointers START_TEST defines are not constant expressions.
 *
 *     const struct ck_test tests[] = {
 *             CK_TEST(test_a),
 *             CK_LOOP(test_b, 0, 2),
 *     };
 *     const struct ck_opts opts = { .timeout = 20 };
 *
 *     return CK_MAIN("name", &opts, tests);
 */
#ifndef TESTS_CHECK_COMMON_H
#define TESTS_CHECK_COMMON_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct ck_test {
	const TTest *test; /* the name START_TEST defined */
	int loop_start;	   /* a loop test runs _i in [loop_start, loop_end); */
	int loop_end;	   /* both 0: a plain test */
};

#define CK_TEST(t)                                                                                 \
	{                                                                                          \
		(t), 0, 0                                                                          \
	}
#define CK_LOOP(t, start, end)                                                                     \
	{                                                                                          \
		(t), (start), (end)                                                                \
	}
#define CK_NTESTS(tests) (sizeof(tests) / sizeof((tests)[0]))

struct ck_opts {
	int timeout; /* seconds per test, 0 keeps check's default */
	/* checked fixture: runs in each test's own process */
	SFun setup;
	SFun teardown;
	/* unchecked fixture: runs in the runner, around each test's TCase */
	SFun unchecked_setup;
	SFun unchecked_teardown;
};

/* One TCase per test, each carrying the shared options. */
static inline void ck_add_tests(Suite *s, const struct ck_opts *o, const struct ck_test *t,
				size_t n)
{
	static const struct ck_opts none;
	size_t i;

	if (o == NULL) {
		o = &none;
	}
	for (i = 0; i < n; i++) {
		TCase *tc = tcase_create(t[i].test->name);

		if (o->timeout > 0) {
			tcase_set_timeout(tc, o->timeout);
		}
		if (o->setup || o->teardown) {
			tcase_add_checked_fixture(tc, o->setup, o->teardown);
		}
		if (o->unchecked_setup || o->unchecked_teardown) {
			tcase_add_unchecked_fixture(tc, o->unchecked_setup, o->unchecked_teardown);
		}
		if (t[i].loop_end > t[i].loop_start) {
			tcase_add_loop_test(tc, t[i].test, t[i].loop_start, t[i].loop_end);
		} else {
			tcase_add_test(tc, t[i].test);
		}
		suite_add_tcase(s, tc);
	}
}

/*
 * Run the suite and turn the result into the exit status automake expects.
 * A CK_RUN_CASE/CK_RUN_SUITE that selects nothing is a failure, so a typo
 * in a test name does not pass silently.
 */
static inline int ck_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;
	int ran;

	/* CK_ENV: CK_VERBOSITY=verbose lists each test, unset is CK_NORMAL */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	ran = srunner_ntests_run(sr);
	srunner_free(sr);
	if (ran == 0 && (getenv("CK_RUN_CASE") || getenv("CK_RUN_SUITE"))) {
		fprintf(stderr, "no test matches CK_RUN_CASE=%s CK_RUN_SUITE=%s\n",
			getenv("CK_RUN_CASE") ? getenv("CK_RUN_CASE") : "",
			getenv("CK_RUN_SUITE") ? getenv("CK_RUN_SUITE") : "");
		return EXIT_FAILURE;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline int ck_main(const char *name, const struct ck_opts *o, const struct ck_test *t,
			  size_t n)
{
	Suite *s = suite_create(name);

	ck_add_tests(s, o, t, n);
	return ck_run_suite(s);
}

#define CK_MAIN(name, opts, tests) ck_main((name), (opts), (tests), CK_NTESTS(tests))

#endif /* TESTS_CHECK_COMMON_H */
