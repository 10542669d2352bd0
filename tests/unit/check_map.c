/*
 * qbmap unit tests: every public function and error return on the three
 * map types, plus the upstream bugs this implementation fixes.
 */
#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <qb/qbmap.h>

enum { SKIPLIST, HASHTABLE, TRIE, NTYPES };

static qb_map_t *make(int type)
{
	switch (type) {
	case SKIPLIST:
		return qb_skiplist_create();
	case HASHTABLE:
		return qb_hashtable_create(8);
	default:
		return qb_trie_create();
	}
}

/* event log: "EVENT:key:old:new:ud" lines */
static char evlog[8192];

#define S(p) ((p) ? (const char *)(p) : "-")

static void log_cb(uint32_t event, char *key, void *old_value, void *value, void *user_data)
{
	const char *name = event == QB_MAP_NOTIFY_DELETED ? "D"
		: event == QB_MAP_NOTIFY_REPLACED	  ? "R"
		: event == QB_MAP_NOTIFY_INSERTED	  ? "I"
		: event == QB_MAP_NOTIFY_FREE		  ? "F"
							  : "?";
	size_t len = strlen(evlog);

	snprintf(evlog + len, sizeof(evlog) - len, "%s:%s:%s:%s:%s ", name, S(key), S(old_value),
		 S(value), S(user_data));
}

static void iter_keys(qb_map_t *m, const char *prefix, int use_prefix, char *out, size_t len)
{
	qb_map_iter_t *it = use_prefix ? qb_map_pref_iter_create(m, prefix) : qb_map_iter_create(m);
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

static const char *order_keys[] = {"b", "a", "ab", "abc", "c", "B", "\xc3\xa9", "aa", "abd"};

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


#define EV_ALL (QB_MAP_NOTIFY_DELETED | QB_MAP_NOTIFY_REPLACED | QB_MAP_NOTIFY_INSERTED)

static void other_cb(uint32_t event, char *key, void *old_value, void *value, void *user_data)
{
}

START_TEST(test_notify_errors)
{
	qb_map_t *m = make(_i);
	static const int32_t missing_rc[NTYPES] = {-EINVAL, -ENOENT, 0};

	qb_map_put(m, "a", "1");
	/* FREE is only for the global list */
	ck_assert_int_eq(qb_map_notify_add(m, "a", log_cb, QB_MAP_NOTIFY_FREE, NULL), -EINVAL);
	ck_assert_int_eq(qb_map_notify_add(m, "zz", log_cb, QB_MAP_NOTIFY_DELETED, NULL),
			 missing_rc[_i]);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, NULL, EV_ALL, NULL), -EINVAL);
	/* duplicates */
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL, "u"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL, "u"), -EEXIST);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL, "v"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, "a", log_cb, EV_ALL, "u"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, "a", log_cb, EV_ALL, "u"), -EEXIST);
	/* one FREE notifier per event mask, whoever registers it */
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, QB_MAP_NOTIFY_FREE, "f"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, other_cb, QB_MAP_NOTIFY_FREE, "g"), -EEXIST);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, other_cb,
					   QB_MAP_NOTIFY_FREE | QB_MAP_NOTIFY_DELETED, "g"),
			 0);
	/* removal */
	ck_assert_int_eq(qb_map_notify_del(m, NULL, log_cb, QB_MAP_NOTIFY_DELETED), -ENOENT);
	ck_assert_int_eq(qb_map_notify_del_2(m, NULL, log_cb, EV_ALL, "w"), -ENOENT);
	ck_assert_int_eq(qb_map_notify_del_2(m, NULL, log_cb, EV_ALL, "u"), 0);
	ck_assert_int_eq(qb_map_notify_del_2(m, NULL, log_cb, EV_ALL, "u"), -ENOENT);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL, "u"), 0);
	/* _del ignores user_data: removes "u" and "v" */
	ck_assert_int_eq(qb_map_notify_del(m, NULL, log_cb, EV_ALL), 0);
	ck_assert_int_eq(qb_map_notify_del(m, NULL, log_cb, EV_ALL), -ENOENT);
	ck_assert_int_eq(qb_map_notify_del(m, "zz", log_cb, EV_ALL), -ENOENT);
	ck_assert_int_eq(qb_map_notify_del(m, "a", log_cb, EV_ALL), 0);
	ck_assert_int_eq(qb_map_notify_del(m, "a", log_cb, EV_ALL), -ENOENT);
	ck_assert_int_eq(qb_map_notify_del(m, NULL, log_cb, QB_MAP_NOTIFY_FREE), 0);
	qb_map_destroy(m);
}
END_TEST

/* the spec's reference sequence: key notifier K, then recursive R on "a",
 * global G (recursive on the trie) and FREE F */
START_TEST(test_notify_order_and_args)
{
	static const char *expect[NTYPES] = {
		"R:a:1:2:R R:a:1:2:K R:a:1:2:G F:a:1:2:F ",
		"R:a:1:2:R R:a:1:2:K R:a:1:2:G F:a:1:2:F ",
		"R:a:1:2:K R:a:1:2:R R:a:1:2:G F:a:1:2:F ",
	};
	qb_map_t *m = make(_i);
	char k1[] = "a", k2[] = "a";
	int32_t rec = _i == TRIE ? QB_MAP_NOTIFY_RECURSIVE : 0;
	const char *p;

	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL | rec, "G"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, QB_MAP_NOTIFY_FREE, "F"), 0);
	evlog[0] = '\0';
	qb_map_put(m, k1, "1");
	ck_assert_str_eq(evlog, "I:a:-:1:G ");
	ck_assert_int_eq(qb_map_notify_add(m, "a", log_cb, EV_ALL, "K"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, "a", log_cb, EV_ALL | QB_MAP_NOTIFY_RECURSIVE, "R"),
			 0);
	evlog[0] = '\0';
	qb_map_put(m, k2, "2");
	/* REPLACED to each notifier in turn (on the trie the keyed RECURSIVE
	 * one was appended; G lives on the root), then FREE */
	ck_assert_str_eq(evlog, expect[_i]);
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, "a"), 1);
	p = _i == TRIE ? "D:a:2:-:K D:a:2:-:R D:a:2:-:G F:a:2:-:F "
		       : "D:a:2:-:R D:a:2:-:K D:a:2:-:G F:a:2:-:F ";
	ck_assert_str_eq(evlog, p);
	qb_map_destroy(m);
}
END_TEST

static char *last_old_key;

static void keep_key_cb(uint32_t event, char *key, void *old_value, void *value, void *user_data)
{
	if (event == QB_MAP_NOTIFY_REPLACED)
		last_old_key = key;
}

START_TEST(test_replaced_passes_old_key)
{
	qb_map_t *m = make(_i);
	char k1[] = "x", k2[] = "x";
	int32_t rec = _i == TRIE ? QB_MAP_NOTIFY_RECURSIVE : 0;

	ck_assert_int_eq(
		qb_map_notify_add(m, NULL, keep_key_cb, QB_MAP_NOTIFY_REPLACED | rec, NULL), 0);
	qb_map_put(m, k1, "1");
	qb_map_put(m, k2, "2");
	ck_assert_ptr_eq(last_old_key, k1);
	/* same pointers again: still a REPLACED */
	last_old_key = NULL;
	qb_map_put(m, k2, "2");
	ck_assert_ptr_eq(last_old_key, k2);
	qb_map_destroy(m);
}
END_TEST

START_TEST(test_free_notifier)
{
	qb_map_t *m = make(_i);

	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, QB_MAP_NOTIFY_FREE, "F"), 0);
	evlog[0] = '\0';
	qb_map_put(m, "k", "1"); /* no FREE after INSERTED */
	ck_assert_str_eq(evlog, "");
	qb_map_put(m, "k", "2");
	ck_assert_str_eq(evlog, "F:k:1:2:F ");
	evlog[0] = '\0';
	qb_map_rm(m, "k");
	ck_assert_str_eq(evlog, "F:k:2:-:F ");
	evlog[0] = '\0';
	qb_map_put(m, "d1", "1");
	qb_map_put(m, "d2", "2");
	qb_map_destroy(m);
	/* fixed: no NULL-key callbacks for the skiplist's sentinel */
	ck_assert(strstr(evlog, "F:-:") == NULL);
	ck_assert(strstr(evlog, "F:d1:1:-:F ") != NULL);
	ck_assert(strstr(evlog, "F:d2:2:-:F ") != NULL);
}
END_TEST

START_TEST(test_destroy_events)
{
	qb_map_t *m = make(_i);
	int32_t rec = _i == TRIE ? QB_MAP_NOTIFY_RECURSIVE : 0;

	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb,
					   QB_MAP_NOTIFY_DELETED | QB_MAP_NOTIFY_FREE | rec, "G"),
			 0);
	qb_map_put(m, "b", "2");
	qb_map_put(m, "a", "1");
	evlog[0] = '\0';
	qb_map_destroy(m);
	if (_i == HASHTABLE) /* bucket order: b before a with 8 buckets */
		ck_assert_str_eq(evlog, "D:b:2:-:G F:b:2:-:G D:a:1:-:G F:a:1:-:G ");
	else
		ck_assert_str_eq(evlog, "D:a:1:-:G F:a:1:-:G D:b:2:-:G F:b:2:-:G ");
}
END_TEST

START_TEST(test_trie_recursive_and_placeholders)
{
	qb_map_t *m = qb_trie_create();
	char out[256];

	/* a global notifier needs RECURSIVE on a trie */
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL, "G"), 0);
	/* watch a prefix that is not stored: placeholder node */
	ck_assert_int_eq(
		qb_map_notify_add(m, "cfg.", log_cb, EV_ALL | QB_MAP_NOTIFY_RECURSIVE, "P"), 0);
	ck_assert_int_eq(qb_map_notify_add(m, "cfg.a", log_cb, EV_ALL, "E"), 0);
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	iter_keys(m, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
	ck_assert_ptr_null(qb_map_get(m, "cfg."));
	ck_assert_int_eq(qb_map_rm(m, "cfg."), 0); /* fixed: was 1 */
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	evlog[0] = '\0';
	qb_map_put(m, "cfg.a", "1");
	qb_map_put(m, "cfg.b", "2");
	qb_map_put(m, "other", "3");
	ck_assert_str_eq(evlog, "I:cfg.a:-:1:E I:cfg.a:-:1:P I:cfg.b:-:2:P ");
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, "cfg.a"), 1);
	ck_assert_str_eq(evlog, "D:cfg.a:1:-:E D:cfg.a:1:-:P ");
	/* keyed notifiers stay after the key is gone and fire again */
	evlog[0] = '\0';
	qb_map_put(m, "cfg.a", "4");
	ck_assert_str_eq(evlog, "I:cfg.a:-:4:E I:cfg.a:-:4:P ");
	/* a key ending inside a segment names the longer node */
	qb_map_put(m, "long-key", "L");
	ck_assert_int_eq(qb_map_notify_add(m, "long-key", log_cb, QB_MAP_NOTIFY_DELETED, "L"), 0);
	ck_assert_int_eq(qb_map_notify_del(m, "long", log_cb, QB_MAP_NOTIFY_DELETED), 0);
	ck_assert_int_eq(qb_map_notify_del(m, "long-key", log_cb, QB_MAP_NOTIFY_DELETED), -ENOENT);
	ck_assert_int_eq(qb_map_notify_del(m, "long-key-x", log_cb, QB_MAP_NOTIFY_DELETED),
			 -ENOENT);
	ck_assert_int_eq(qb_map_notify_del(m, "cfg.", log_cb, EV_ALL | QB_MAP_NOTIFY_RECURSIVE), 0);
	ck_assert_int_eq(qb_map_notify_del(m, "cfg.a", log_cb, EV_ALL), 0);
	iter_keys(m, "cfg.", 1, out, sizeof(out));
	ck_assert_str_eq(out, "cfg.a cfg.b");
	qb_trie_dump(m);
	qb_map_destroy(m);
}
END_TEST

START_TEST(test_trie_rm_inner_nodes)
{
	qb_map_t *m = qb_trie_create();

	qb_map_put(m, "ab", "1");
	qb_map_put(m, "ac", "2");
	/* "a" is only a branch point: not a key (upstream: 1, count 1) */
	ck_assert_int_eq(qb_map_rm(m, "a"), 0);
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	qb_map_put(m, "abc", "3");
	ck_assert_int_eq(qb_map_rm(m, "ab"), 1);
	ck_assert_int_eq(qb_map_rm(m, "ab"), 0);
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	ck_assert_str_eq(qb_map_get(m, "abc"), "3");
	ck_assert_str_eq(qb_map_get(m, "ac"), "2");
	ck_assert_int_eq(qb_map_rm(m, "abcd"), 0);
	ck_assert_int_eq(qb_map_rm(m, "x"), 0);
	qb_map_destroy(m);
}
END_TEST

START_TEST(test_trie_null_values)
{
	qb_map_t *m = qb_trie_create();
	char out[64];

	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, EV_ALL | QB_MAP_NOTIFY_RECURSIVE, "G"),
			 0);
	evlog[0] = '\0';
	qb_map_put(m, "n", NULL);
	qb_map_put(m, "n", NULL);
	/* NULL counts as absent: inserted (and counted) every time */
	ck_assert_str_eq(evlog, "I:n:-:-:G I:n:-:-:G ");
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	ck_assert_ptr_null(qb_map_get(m, "n"));
	iter_keys(m, NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, "n"), 1);
	ck_assert_int_eq(qb_map_rm(m, "n"), 1);
	ck_assert_int_eq(qb_map_rm(m, "n"), 0);
	ck_assert_str_eq(evlog, ""); /* never a DELETED */
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	qb_map_destroy(m);
}
END_TEST

START_TEST(test_rm_under_iterator)
{
	qb_map_t *m = make(_i);
	qb_map_iter_t *it;
	const char *k, *first;
	void *v;
	int32_t rec = _i == TRIE ? QB_MAP_NOTIFY_RECURSIVE : 0;
	int seen = 1;

	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, QB_MAP_NOTIFY_DELETED | rec, "G"), 0);
	qb_map_put(m, "a", "1");
	qb_map_put(m, "b", "2");
	qb_map_put(m, "c", "3");
	it = qb_map_iter_create(m);
	first = qb_map_iter_next(it, &v);
	ck_assert_ptr_nonnull(first);
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, first), 1);
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	/* fixed: the key is gone at once, a second rm finds nothing */
	ck_assert_ptr_null(qb_map_get(m, first));
	ck_assert_int_eq(qb_map_rm(m, first), 0);
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	ck_assert_str_eq(evlog, ""); /* DELETED is deferred */
	k = qb_map_iter_next(it, &v);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_ne(k, first);
	ck_assert(strstr(evlog, "D:") == evlog);
	/* re-storing the key meanwhile is a fresh insert */
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, k), 1);
	qb_map_put(m, k, "new");
	ck_assert_str_eq(qb_map_get(m, k), "new");
	while (qb_map_iter_next(it, &v))
		seen++;
	ck_assert_int_ge(seen, 2);
	ck_assert_str_eq(qb_map_get(m, k), "new");
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	/* after the end: stays at the end (upstream hashtable deleted the
	 * last entry here) */
	ck_assert_ptr_null(qb_map_iter_next(it, &v));
	ck_assert_ptr_null(qb_map_iter_next(it, &v));
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	qb_map_iter_free(it);
	qb_map_destroy(m);
}
END_TEST

static int stop_at_first(const char *key, void *value, void *ud)
{
	return 1;
}

START_TEST(test_abandoned_iterator)
{
	qb_map_t *m = make(_i);
	qb_map_iter_t *it;
	const char *k;
	void *v;
	int32_t rec = _i == TRIE ? QB_MAP_NOTIFY_RECURSIVE : 0;

	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, QB_MAP_NOTIFY_DELETED | rec, "G"), 0);
	qb_map_put(m, "a", "1");
	qb_map_put(m, "b", "2");
	it = qb_map_iter_create(m);
	k = qb_map_iter_next(it, &v);
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, k), 1);
	ck_assert_str_eq(evlog, "");
	/* fixed: freeing the iterator settles the removal */
	qb_map_iter_free(it);
	ck_assert(strncmp(evlog, "D:", 2) == 0);
	ck_assert_uint_eq(qb_map_count_get(m), 1);
	/* fixed: an early foreach stop releases its entry too (skiplist
	 * leaked it and never sent DELETED) */
	qb_map_put(m, "a", "1");
	qb_map_put(m, "b", "2");
	qb_map_foreach(m, stop_at_first, NULL);
	evlog[0] = '\0';
	ck_assert_int_eq(qb_map_rm(m, "a"), 1);
	ck_assert_int_eq(qb_map_rm(m, "b"), 1);
	ck_assert_str_eq(evlog, "D:a:1:-:G D:b:2:-:G ");
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	qb_map_destroy(m);
}
END_TEST

/* --- callbacks that change the map ------------------------------------ */

static qb_map_t *cb_map;
static int restores_left;

static void mutating_cb(uint32_t event, char *key, void *old_value, void *value, void *user_data)
{
	if (key == NULL)
		return;
	if (event == QB_MAP_NOTIFY_INSERTED && strcmp(key, "t1") == 0)
		qb_map_put(cb_map, "t2", "from-insert");
	if (event == QB_MAP_NOTIFY_REPLACED && strcmp(key, "t1") == 0)
		qb_map_rm(cb_map, "t1"); /* remove the key being replaced */
	if (event == QB_MAP_NOTIFY_DELETED && strcmp(key, "t2") == 0) {
		qb_map_rm(cb_map, "t3");
		qb_map_put(cb_map, "t4", "from-delete");
		if (restores_left-- > 0) /* re-store itself */
			qb_map_put(cb_map, "t2", "back");
	}
	if (event == QB_MAP_NOTIFY_DELETED && strcmp(key, "t5") == 0)
		/* unregister ourselves while the list is being walked */
		qb_map_notify_del(cb_map, NULL, mutating_cb, (int32_t)(intptr_t)user_data);
}

START_TEST(test_mutation_from_callbacks)
{
	qb_map_t *m = make(_i);
	int32_t ev = EV_ALL | (_i == TRIE ? QB_MAP_NOTIFY_RECURSIVE : 0);

	cb_map = m;
	restores_left = 1;
	ck_assert_int_eq(qb_map_notify_add(m, NULL, mutating_cb, ev, (void *)(intptr_t)ev), 0);
	ck_assert_int_eq(qb_map_notify_add(m, NULL, log_cb, QB_MAP_NOTIFY_FREE, "F"), 0);
	qb_map_put(m, "t1", "1");
	ck_assert_str_eq(qb_map_get(m, "t1"), "1");
	ck_assert_str_eq(qb_map_get(m, "t2"), "from-insert");
	qb_map_put(m, "t3", "3");
	qb_map_put(m, "t1", "again"); /* callback removes t1 */
	ck_assert_ptr_null(qb_map_get(m, "t1"));
	ck_assert_int_eq(qb_map_rm(m, "t2"), 1);
	ck_assert_ptr_null(qb_map_get(m, "t3"));
	ck_assert_str_eq(qb_map_get(m, "t4"), "from-delete");
	ck_assert_str_eq(qb_map_get(m, "t2"), "back");
	ck_assert_uint_eq(qb_map_count_get(m), 2);
	qb_map_put(m, "t5", "5");
	ck_assert_int_eq(qb_map_rm(m, "t5"), 1);
	ck_assert_int_eq(qb_map_notify_del(m, NULL, mutating_cb, ev), -ENOENT);
	/* destroy with a callback that stores keys meanwhile */
	restores_left = 3;
	ck_assert_int_eq(qb_map_notify_add(m, NULL, mutating_cb, ev, (void *)(intptr_t)ev), 0);
	qb_map_destroy(m);
}
END_TEST

static int rm_next_too(const char *key, void *value, void *ud)
{
	char **keys = ud;
	int i;

	/* remove this key and a later one while the iteration runs */
	qb_map_rm(cb_map, key);
	for (i = 0; keys[i]; i++) {
		if (strcmp(keys[i], key) == 0 && keys[i + 1]) {
			qb_map_rm(cb_map, keys[i + 1]);
			break;
		}
	}
	return 0;
}

START_TEST(test_remove_during_foreach)
{
	qb_map_t *m = make(_i);
	char *keys[65];
	int i;

	cb_map = m;
	for (i = 0; i < 64; i++) {
		keys[i] = malloc(8);
		snprintf(keys[i], 8, "k%02d", i);
		qb_map_put(m, keys[i], keys[i]);
	}
	keys[64] = NULL;
	qb_map_foreach(m, rm_next_too, keys);
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	for (i = 0; i < 64; i++) {
		ck_assert_ptr_null(qb_map_get(m, keys[i]));
		qb_map_put(m, keys[i], keys[i]);
	}
	ck_assert_uint_eq(qb_map_count_get(m), 64);
	qb_map_destroy(m);
	for (i = 0; i < 64; i++)
		free(keys[i]);
}
END_TEST

/* Long keys split into short segments: a node's memory goes back the way
 * it came whatever its segment shrank to (a leak under valgrind if not). */
START_TEST(test_trie_long_keys_split)
{
	qb_map_t *m = qb_trie_create();
	char k[4][460];
	int i;

	for (i = 0; i < 4; i++) {
		memset(k[i], 'k', 450);
		k[i][450] = '\0';
		k[i][400 - 100 * i] = (char)('A' + i); /* diverge at 400, 300, 200, 100 */
		qb_map_put(m, k[i], k[i]);
	}
	for (i = 0; i < 4; i++)
		ck_assert_ptr_eq(qb_map_get(m, k[i]), k[i]);
	ck_assert_uint_eq(qb_map_count_get(m), 4);
	ck_assert_int_eq(qb_map_rm(m, k[1]), 1);
	ck_assert_ptr_null(qb_map_get(m, k[1]));
	ck_assert_ptr_eq(qb_map_get(m, k[2]), k[2]);
	qb_map_destroy(m);
}
END_TEST

/* Random operations checked against a plain array of slots. */
START_TEST(test_random_against_reference)
{
	enum { NK = 600, OPS = 20000 };
	static char names[NK][16];
	static const char *ref[NK];
	qb_map_t *m = make(_i);
	size_t count = 0;
	unsigned seed = 12345;
	int i, op;

	for (i = 0; i < NK; i++)
		snprintf(names[i], sizeof(names[i]), "%c%x.%d", 'a' + i % 5, i * 37, i % 7);
	memset(ref, 0, sizeof(ref));
	for (op = 0; op < OPS; op++) {
		int k = rand_r(&seed) % NK;

		if (rand_r(&seed) % 3) {
			if (ref[k] == NULL)
				count++;
			ref[k] = names[(k + op) % NK];
			qb_map_put(m, names[k], ref[k]);
		} else {
			ck_assert_int_eq(qb_map_rm(m, names[k]), ref[k] != NULL);
			if (ref[k])
				count--;
			ref[k] = NULL;
		}
		ck_assert_uint_eq(qb_map_count_get(m), count);
	}
	for (i = 0; i < NK; i++)
		ck_assert_ptr_eq(qb_map_get(m, names[i]), ref[i]);
	{
		qb_map_iter_t *it = qb_map_iter_create(m);
		const char *k, *prev = NULL;
		void *v;
		size_t n = 0;

		while ((k = qb_map_iter_next(it, &v)) != NULL) {
			if (_i == SKIPLIST && prev)
				ck_assert_int_lt(strcmp(prev, k), 0);
			prev = k;
			n++;
		}
		qb_map_iter_free(it);
		ck_assert_uint_eq(n, count);
	}
	if (_i == TRIE) {
		qb_map_iter_t *it = qb_map_pref_iter_create(m, "c");
		const char *k;
		void *v;
		size_t n = 0, want = 0;

		while ((k = qb_map_iter_next(it, &v)) != NULL) {
			ck_assert_int_eq(k[0], 'c');
			n++;
		}
		qb_map_iter_free(it);
		for (i = 0; i < NK; i++)
			want += ref[i] && names[i][0] == 'c';
		ck_assert_uint_eq(n, want);
	}
	qb_map_destroy(m);
}
END_TEST

/* ASan aborts on an allocation it cannot serve; the library must see NULL
 * (ENOMEM) as it does without sanitizers. Environment options still apply. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

START_TEST(test_hashtable_sizes)
{
	size_t sizes[] = {0, 1, 8, 100, 1 << 20, (size_t)1 << 40, SIZE_MAX};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		qb_map_t *m;

		/* the largest hints make a 16 GiB table: memcheck would touch
		 * all of it (minutes, and that much memory) */
		if (sizes[i] > (1u << 20) && getenv("QB_TEST_UNDER_VALGRIND") != NULL)
			continue;
		m = qb_hashtable_create(sizes[i]);
		if (sizes[i] > (1u << 20) && m == NULL)
			continue; /* too big for this machine: ENOMEM */
		ck_assert_ptr_nonnull(m);
		qb_map_put(m, "k", "v");
		ck_assert_str_eq(qb_map_get(m, "k"), "v");
		qb_map_destroy(m);
	}
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * A huge size hint with one key: iterating and destroying walk the span of
 * buckets in use, not the whole (mostly never touched) table. Walking a
 * 16 GiB table reads millions of untouched pages; count them.
 */
START_TEST(test_hashtable_sparse_walk)
{
	qb_map_t *m;
	qb_map_iter_t *it;
	long before;
	void *v;
	int n = 0;

	if (getenv("QB_TEST_UNDER_VALGRIND") != NULL)
		return; /* memcheck would touch the whole table */
	m = qb_hashtable_create((size_t)1 << 40);
	if (m == NULL)
		return; /* no room for the table's address space here */
	qb_map_put(m, "k", "v");
	before = minor_faults();
	it = qb_map_iter_create(m);
	while (qb_map_iter_next(it, &v) != NULL)
		n++;
	qb_map_iter_free(it);
	ck_assert_int_eq(n, 1);
	ck_assert_int_lt(minor_faults() - before, 1000);
#if !UNDER_ASAN
	/* (ASan's free poisons the shadow of the whole table: 1/8 of it) */
	before = minor_faults();
#endif
	qb_map_destroy(m);
#if !UNDER_ASAN
	ck_assert_int_lt(minor_faults() - before, 1000);
#endif
}
END_TEST

START_TEST(test_null_arguments)
{
	qb_map_t *m = make(_i);
	qb_map_iter_t *it;

	qb_map_put(NULL, "k", "v");
	qb_map_put(m, NULL, "v");
	ck_assert_uint_eq(qb_map_count_get(m), 0);
	ck_assert_ptr_null(qb_map_get(NULL, "k"));
	ck_assert_ptr_null(qb_map_get(m, NULL));
	ck_assert_int_eq(qb_map_rm(NULL, "k"), 0);
	ck_assert_int_eq(qb_map_rm(m, NULL), 0);
	ck_assert_uint_eq(qb_map_count_get(NULL), 0);
	ck_assert_ptr_null(qb_map_iter_create(NULL));
	ck_assert_ptr_null(qb_map_pref_iter_create(NULL, "a"));
	ck_assert_ptr_null(qb_map_iter_next(NULL, NULL));
	qb_map_iter_free(NULL);
	qb_map_foreach(NULL, stop_at_first, NULL);
	qb_map_foreach(m, NULL, NULL);
	ck_assert_int_eq(qb_map_notify_add(NULL, NULL, log_cb, 1, NULL), -EINVAL);
	ck_assert_int_eq(qb_map_notify_del(NULL, NULL, log_cb, 1), -EINVAL);
	ck_assert_int_eq(qb_map_notify_del_2(NULL, NULL, log_cb, 1, NULL), -EINVAL);
	qb_map_destroy(NULL);
	qb_trie_dump(NULL);
	qb_trie_dump(m); /* ignored unless a trie */
	/* a NULL value pointer is accepted by iter_next (upstream crashed) */
	qb_map_put(m, "k", "v");
	it = qb_map_iter_create(m);
	ck_assert_str_eq(qb_map_iter_next(it, NULL), "k");
	qb_map_iter_free(it);
	qb_map_destroy(m);
}
END_TEST

START_TEST(test_skiplist_reseeds_prng)
{
	time_t t;
	qb_map_t *m;
	long r;

	do {
		t = time(NULL);
		m = qb_skiplist_create();
		r = random();
	} while (time(NULL) != t && (qb_map_destroy(m), 1));
	srand(t);
	ck_assert_int_eq(random(), r);
	qb_map_destroy(m);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_LOOP(test_basic_ops, 0, NTYPES),
		CK_LOOP(test_iteration_order, 0, NTYPES),
		CK_LOOP(test_foreach, 0, NTYPES),
		CK_LOOP(test_notify_errors, 0, NTYPES),
		CK_LOOP(test_notify_order_and_args, 0, NTYPES),
		CK_LOOP(test_replaced_passes_old_key, 0, NTYPES),
		CK_LOOP(test_free_notifier, 0, NTYPES),
		CK_LOOP(test_destroy_events, 0, NTYPES),
		CK_TEST(test_trie_recursive_and_placeholders),
		CK_TEST(test_trie_rm_inner_nodes),
		CK_TEST(test_trie_null_values),
		CK_LOOP(test_rm_under_iterator, 0, NTYPES),
		CK_LOOP(test_abandoned_iterator, 0, NTYPES),
		CK_LOOP(test_mutation_from_callbacks, 0, NTYPES),
		CK_LOOP(test_remove_during_foreach, 0, NTYPES),
		CK_LOOP(test_random_against_reference, 0, NTYPES),
		CK_TEST(test_hashtable_sizes),
		CK_TEST(test_hashtable_sparse_walk),
		CK_LOOP(test_null_arguments, 0, NTYPES),
		CK_TEST(test_skiplist_reseeds_prng),
		CK_TEST(test_trie_long_keys_split),
	};

	return CK_MAIN("map", NULL, tests);
}
