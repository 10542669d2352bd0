/* qblist.h: every inline function and iteration macro. */
#include <check.h>
#include "check_common.h"
#include <stdlib.h>
#include <qb/qblist.h>

struct item {
	int value;
	struct qb_list_head node;
};

static void fill(struct qb_list_head *head, struct item *items, int n, int base)
{
	int i;

	for (i = 0; i < n; i++) {
		items[i].value = base + i;
		qb_list_add_tail(&items[i].node, head);
	}
}

/* Values front to back as digits, e.g. 123; also checks back links. */
static int digits(struct qb_list_head *head)
{
	struct item *it;
	struct qb_list_head *pos;
	int fwd = 0, n = 0;

	qb_list_for_each_entry(it, head, node)
	{
		fwd = fwd * 10 + it->value;
		n++;
	}
	qb_list_for_each_reverse(pos, head)
	{
		n--;
	}
	ck_assert_int_eq(n, 0);
	return fwd;
}

START_TEST(test_init_add_del)
{
	QB_LIST_DECLARE(head);
	struct qb_list_head other;
	struct item it[3];

	ck_assert(qb_list_empty(&head));
	QB_INIT_LIST_HEAD(&other);
	ck_assert(qb_list_empty(&other));
	it[0].value = 1;
	it[1].value = 2;
	it[2].value = 3;
	qb_list_add(&it[0].node, &head);
	qb_list_add(&it[1].node, &head);
	qb_list_add_tail(&it[2].node, &head);
	ck_assert(!qb_list_empty(&head));
	ck_assert_int_eq(digits(&head), 213);
	ck_assert_int_eq(qb_list_length(&head), 3);
	ck_assert(qb_list_is_last(&it[2].node, &head));
	ck_assert(!qb_list_is_last(&it[0].node, &head));
	ck_assert_ptr_eq(qb_list_first_entry(&head, struct item, node), &it[1]);
	qb_list_del(&it[0].node);
	ck_assert_int_eq(digits(&head), 23);
	qb_list_del(&it[1].node);
	qb_list_del(&it[2].node);
	ck_assert(qb_list_empty(&head));
	ck_assert_int_eq(qb_list_length(&head), 0);
	qb_list_init(&it[0].node);
	ck_assert(qb_list_empty(&it[0].node));
}
END_TEST

START_TEST(test_replace)
{
	QB_LIST_DECLARE(head);
	struct item it[3], repl = {.value = 7};

	fill(&head, it, 3, 1);
	qb_list_replace(&it[1].node, &repl.node);
	ck_assert_int_eq(digits(&head), 173);
	qb_list_replace(&it[0].node, &it[1].node);
	ck_assert_int_eq(digits(&head), 273);
}
END_TEST

START_TEST(test_splice)
{
	QB_LIST_DECLARE(a);
	QB_LIST_DECLARE(b);
	QB_LIST_DECLARE(empty);
	struct item x[2], y[2];

	fill(&a, x, 2, 1);
	fill(&b, y, 2, 3);
	qb_list_splice(&b, &a);
	ck_assert_int_eq(digits(&a), 3412);
	qb_list_init(&b);
	qb_list_splice(&empty, &a);
	ck_assert_int_eq(digits(&a), 3412);
	qb_list_del(&y[0].node);
	qb_list_del(&y[1].node);
	fill(&b, y, 2, 5);
	qb_list_splice_tail(&b, &a);
	ck_assert_int_eq(digits(&a), 1256);
	qb_list_splice_tail(&empty, &a);
	ck_assert_int_eq(digits(&a), 1256);
	ck_assert_int_eq(qb_list_length(&a), 4);
}
END_TEST

START_TEST(test_iterators)
{
	QB_LIST_DECLARE(head);
	struct item it[4], *pos, *n;
	struct qb_list_head *p, *q;
	int acc = 0;

	fill(&head, it, 4, 1);
	qb_list_for_each(p, &head)
	{
		acc = acc * 10 + qb_list_entry(p, struct item, node)->value;
	}
	ck_assert_int_eq(acc, 1234);
	acc = 0;
	qb_list_for_each_entry_reverse(pos, &head, node)
	{
		acc = acc * 10 + pos->value;
	}
	ck_assert_int_eq(acc, 4321);
	/* the safe forms allow removing the current element */
	qb_list_for_each_safe(p, q, &head)
	{
		if (qb_list_entry(p, struct item, node)->value == 2) {
			qb_list_del(p);
		}
	}
	ck_assert_int_eq(digits(&head), 134);
	qb_list_for_each_entry_safe(pos, n, &head, node)
	{
		if (pos->value == 3) {
			qb_list_del(&pos->node);
		}
	}
	ck_assert_int_eq(digits(&head), 14);
	acc = 0;
	qb_list_for_each_entry_safe_reverse(pos, n, &head, node)
	{
		acc = acc * 10 + pos->value;
		qb_list_del(&pos->node);
	}
	ck_assert_int_eq(acc, 41);
	ck_assert(qb_list_empty(&head));
	fill(&head, it, 4, 1);
	pos = &it[2];
	acc = 0;
	qb_list_for_each_entry_from(pos, &head, node)
	{
		acc = acc * 10 + pos->value;
	}
	ck_assert_int_eq(acc, 34);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_init_add_del),
		CK_TEST(test_replace),
		CK_TEST(test_splice),
		CK_TEST(test_iterators),
	};

	return CK_MAIN("list", NULL, tests);
}
