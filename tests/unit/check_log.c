/*
 * check_log.c - the logging API through its public functions: callsites,
 * filters, formats, targets, ctl codes, and the upstream bugs we fix.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

/* ---- a custom target that records what it receives ---------------------- */

#define MAX_LINES 64
static char lines[MAX_LINES][QB_LOG_ABSOLUTE_MAX_LEN];
static char raws[MAX_LINES][QB_LOG_ABSOLUTE_MAX_LEN];
static int n_lines;
static int n_closes;
static int n_reloads;
static int reenter;

static void rec_logger(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	if (n_lines < MAX_LINES) {
		qb_log_target_format(t, cs, ts, msg, lines[n_lines]);
		snprintf(raws[n_lines], sizeof(raws[0]), "%s", msg);
	}
	n_lines++;
	if (reenter)
		qb_log(LOG_ERR, "from inside the logger"); /* dropped */
}

static void rec_close(int32_t t)
{
	n_closes++;
}

static void rec_reload(int32_t t)
{
	n_reloads++;
}

static int rec_open(void)
{
	int t = qb_log_custom_open(rec_logger, rec_close, rec_reload, NULL);

	ck_assert_int_ge(t, QB_LOG_TARGET_DYNAMIC_START);
	ck_assert_int_eq(
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE), 0);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE), 0);
	return t;
}

static void setup(void)
{
	n_lines = n_closes = n_reloads = reenter = 0;
	qb_log_init("check_log", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
}

static void teardown(void)
{
	qb_log_fini();
}

/* ---- callsites ------------------------------------------------------------ */

START_TEST(test_callsite_identity)
{
	struct qb_log_callsite *a, *b, *c;
	char file[] = "dyn/file.c";

	a = qb_log_callsite_get("f", "x.c", "fmt %d", LOG_INFO, 10, 0);
	ck_assert_ptr_nonnull(a);
	b = qb_log_callsite_get("other", "x.c", "fmt %d", LOG_INFO, 10, 0);
	ck_assert_ptr_eq(a, b);		    /* function not in the key */
	ck_assert_str_eq(b->function, "f"); /* first caller's name kept */
	c = qb_log_callsite_get("f", "x.c", "fmt %d", LOG_ERR, 10, 0);
	ck_assert_ptr_ne(a, c); /* priority is */
	c = qb_log_callsite_get("f", "x.c", "fmt %d", LOG_INFO, 11, 0);
	ck_assert_ptr_ne(a, c);
	c = qb_log_callsite_get("f", "y.c", "fmt %d", LOG_INFO, 10, 0);
	ck_assert_ptr_ne(a, c);
	c = qb_log_callsite_get("f", "x.c", "fmt %s", LOG_INFO, 10, 0);
	ck_assert_ptr_ne(a, c);
	/* same contents at another address: same callsite; strings copied */
	a = qb_log_callsite_get("f", file, "fmt", LOG_INFO, 5, 0);
	file[0] = 'D';
	b = qb_log_callsite_get("f", "Dyn/file.c", "fmt", LOG_INFO, 5, 0);
	ck_assert_ptr_ne(a, b);
	ck_assert_str_eq(a->filename, "dyn/file.c");
	file[0] = 'd';
	ck_assert_ptr_eq(qb_log_callsite_get("f", file, "fmt", LOG_INFO, 5, 0), a);
	/* NULL strings are stored as "" */
	a = qb_log_callsite_get(NULL, NULL, NULL, LOG_INFO, 7, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a->function, "");
	ck_assert_str_eq(a->filename, "");
	ck_assert_str_eq(a->format, "");
}
END_TEST

START_TEST(test_callsite_message_id)
{
	struct qb_log_callsite *a, *b;

	/* upstream 2.0.6 crashed in strcmp here (NULL id, then non-NULL) */
	a = qb_log_callsite_get2(NULL, "f", "m.c", "msg", LOG_INFO, 3, 0);
	b = qb_log_callsite_get2("abcd", "f", "m.c", "msg", LOG_INFO, 3, 0);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_null(a->message_id);
	a = qb_log_callsite_get2("id1", "f", "m.c", "msg", LOG_INFO, 4, 0);
	b = qb_log_callsite_get2(NULL, "f", "m.c", "msg", LOG_INFO, 4, 0);
	ck_assert_ptr_eq(a, b);
	ck_assert_str_eq(a->message_id, "id1");
}
END_TEST

START_TEST(test_callsite_tags)
{
	struct qb_log_callsite *a;

	a = qb_log_callsite_get("f", "t.c", "x", LOG_INFO, 3, 5);
	ck_assert_uint_eq(a->tags, 5);
	qb_log_callsite_get("f", "t.c", "x", LOG_INFO, 3, 0);
	ck_assert_uint_eq(a->tags, 5); /* 0 keeps */
	qb_log_callsite_get("f", "t.c", "x", LOG_INFO, 3, 9);
	ck_assert_uint_eq(a->tags, 9); /* non-zero overwrites */
}
END_TEST

START_TEST(test_not_initialised)
{
	/* a callsite looked up before qb_log_fini() is not found after it */
	ck_assert_ptr_nonnull(qb_log_callsite_get("f", "seen.c", "x", LOG_INFO, 1, 0));
	ck_assert_ptr_nonnull(qb_log_callsite_get("f", "seen.c", "x", LOG_INFO, 1, 0));
	qb_log_fini();
	ck_assert_ptr_null(qb_log_callsite_get("f", "seen.c", "x", LOG_INFO, 1, 0));
	ck_assert_ptr_null(qb_log_callsite_get("f", "a.c", "x", LOG_INFO, 1, 0));
	qb_log(LOG_ERR, "before init"); /* must not mute later logging */
	qb_log_real_(NULL);
	ck_assert_int_eq(qb_log_ctl(1, QB_LOG_CONF_STATE_GET, 0), -EINVAL);
	ck_assert_int_eq(qb_log_filter_ctl(1, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", 7),
			 -EINVAL);
	ck_assert_int_eq(qb_log_filter_fn_set(NULL), -EINVAL);
	ck_assert_int_eq(qb_log_target_user_data_set(1, NULL), -EINVAL);
	ck_assert_int_eq(qb_log_reflect_pid(), -EINVAL);
	ck_assert_int_eq(qb_log_custom_open(rec_logger, NULL, NULL, NULL), -EMFILE);
	qb_log_from_external_source("f", "a.c", "x", LOG_ERR, 1, 0);

	setup();
	rec_open();
	qb_log(LOG_ERR, "after init");
	ck_assert_int_eq(n_lines, 1);
	ck_assert_str_eq(raws[0], "after init");
}
END_TEST

START_TEST(test_recursion_dropped)
{
	rec_open();
	reenter = 1;
	qb_log(LOG_ERR, "outer");
	ck_assert_int_eq(n_lines, 1);
	reenter = 0;
	qb_log(LOG_ERR, "again");
	ck_assert_int_eq(n_lines, 2);
}
END_TEST

/* Every argument register and stack slot reaches the formatter: the
 * library's entry passes them on untouched (integers, pointers, doubles). */
START_TEST(test_all_argument_registers)
{
	rec_open();
	qb_log(LOG_ERR, "%d %ld %s %u %c %d %d %.2f %.3f %d", 1, 2L, "three", 4U, '5', 6, 7, 7.5,
	       8.125, 9);
	qb_logt(LOG_ERR, 3, "%.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %s", 1.0, 2.0, 3.0, 4.0,
		5.0, 6.0, 7.0, 8.0, 9.0, "end");
	ck_assert_int_eq(n_lines, 2);
	ck_assert_str_eq(raws[0], "1 2 three 4 5 6 7 7.50 8.125 9");
	ck_assert_str_eq(raws[1], "1.0 2.0 3.0 4.0 5.0 6.0 7.0 8.0 9.0 end");
}
END_TEST

START_TEST(test_external_source)
{
	int t = rec_open();

	qb_log_from_external_source("ext", "e.c", "v=%d", LOG_INFO, 9, 0, 42);
	ck_assert_int_eq(n_lines, 1);
	ck_assert_str_eq(raws[0], "v=42");
	qb_log_from_external_source("ext", "e.c", "line0 %s", LOG_INFO, 0, 0, "z");
	ck_assert_int_eq(n_lines, 2);
	/* line 0 callsites are skipped by later filter operations */
	qb_log_filter_ctl(t, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_from_external_source("ext", "e.c", "line0 %s", LOG_INFO, 0, 0, "z");
	ck_assert_int_eq(n_lines, 3);
	qb_log_from_external_source("ext", "e.c", "v=%d", LOG_INFO, 9, 0, 42);
	ck_assert_int_eq(n_lines, 3);
}
END_TEST

/* ---- filters ------------------------------------------------------------- */

static int fn_calls;

static void my_filter(struct qb_log_callsite *cs)
{
	fn_calls++;
	if (strstr(cs->format, "wanted"))
		cs->targets = ~0U;
}

START_TEST(test_filter_fn)
{
	int t = qb_log_custom_open(rec_logger, NULL, NULL, NULL), i;

	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log(LOG_INFO, "not logged");
	ck_assert_int_eq(qb_log_filter_fn_set(my_filter), 0);
	ck_assert_int_gt(fn_calls, 0);
	fn_calls = 0;
	for (i = 0; i < 3; i++) {
		qb_log(LOG_INFO, "wanted %d", 1);
		qb_log(LOG_INFO, "not logged");
	}
	/* once per new callsite, not on every call (upstream: 6) */
	ck_assert_int_eq(fn_calls, 2);
	ck_assert_int_eq(n_lines, 3);
	/* a call that changes the tags runs it again */
	for (i = 0; i < 3; i++)
		qb_logt(LOG_INFO, 4, "tagged");
	ck_assert_int_eq(fn_calls, 3);
	ck_assert_int_eq(qb_log_filter_fn_set(NULL), 0);
	qb_log(LOG_INFO, "not logged");
	ck_assert_int_eq(fn_calls, 3);
}
END_TEST

START_TEST(test_filter_codes)
{
	int t = rec_open();

	ck_assert_int_eq(
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE),
		-EEXIST);
	ck_assert_int_eq(
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE_REGEX, "a\\(", 7),
		-EINVAL);
	ck_assert_int_eq(
		qb_log_filter_ctl(t, QB_LOG_FILTER_REMOVE, QB_LOG_FILTER_FILE_REGEX, "a\\(", 7), 0);
	ck_assert_int_eq(qb_log_filter_ctl(40, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, NULL, 7),
			 -EBADF);
	ck_assert_int_eq(
		qb_log_filter_ctl(t + 1, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", 7),
		-EBADF);
	ck_assert_int_eq(qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, NULL, 7),
			 -EINVAL);
	ck_assert_int_eq(qb_log_filter_ctl2(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", 5, 4),
			 -EINVAL);
	ck_assert_int_eq(
		qb_log_filter_ctl(t, (enum qb_log_filter_conf) - 1, QB_LOG_FILTER_FILE, "*", 7),
		-EINVAL);
	ck_assert_int_eq(
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, (enum qb_log_filter_type)9, "*", 7),
		-EINVAL);
	ck_assert_int_eq(qb_log_filter_ctl(77, QB_LOG_TAG_SET, QB_LOG_FILTER_FORMAT, "x", 7), 0);
	ck_assert_int_eq(qb_log_filter_ctl(77, QB_LOG_TAG_SET, QB_LOG_FILTER_FORMAT, "x", 7),
			 -EEXIST);
	ck_assert_int_eq(
		qb_log_filter_ctl(77, QB_LOG_TAG_CLEAR, QB_LOG_FILTER_FORMAT, "nothing", 7), 0);
}
END_TEST

START_TEST(test_filter_priority_range)
{
	int t = qb_log_custom_open(rec_logger, NULL, NULL, NULL);

	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	ck_assert_int_eq(qb_log_filter_ctl2(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_ERR,
					    LOG_NOTICE),
			 0);
	qb_log(LOG_CRIT, "crit");
	qb_log(LOG_ERR, "err");
	qb_log(LOG_NOTICE, "notice");
	qb_log(LOG_INFO, "info");
	ck_assert_int_eq(n_lines, 2);
	ck_assert_str_eq(raws[0], "err");
	ck_assert_str_eq(raws[1], "notice");
}
END_TEST

START_TEST(test_slot_free_forgets)
{
	int t = rec_open(), u;

	qb_log_ctl(t, QB_LOG_CONF_THREADED, QB_TRUE);
	qb_log_ctl(t, QB_LOG_CONF_ELLIPSIS, QB_TRUE);
	qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 40);
	qb_log_ctl(t, QB_LOG_CONF_EXTENDED, QB_FALSE);
	qb_log_format_set(t, "%n %b");
	qb_log(LOG_INFO, "one");
	ck_assert_int_eq(n_lines, 1);
	qb_log_custom_close(t);
	ck_assert_int_eq(n_closes, 1);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_STATE_GET, 0), -EBADF);

	/* upstream: the next target in the slot inherited filters & flags */
	u = qb_log_custom_open(rec_logger, NULL, NULL, NULL);
	ck_assert_int_eq(u, t);
	qb_log_ctl(u, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log(LOG_INFO, "one");
	ck_assert_int_eq(n_lines, 1); /* no inherited filter */
	qb_log_filter_ctl(u, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", 7);
	qb_log(LOG_INFO, "two" QB_XS "ext");
	ck_assert_int_eq(n_lines, 2); /* not threaded */
	ck_assert_str_eq(lines[1], "[info] two|ext");
}
END_TEST

/* ---- formats ------------------------------------------------------------- */

/* pacemaker sets the format of every slot first, then opens its log file */
START_TEST(test_format_before_open)
{
	int t, u;

	for (int i = 0; i < QB_LOG_TARGET_MAX; i++)
		qb_log_format_set(i, "early %p: %b");
	t = rec_open();
	qb_log(LOG_INFO, "one");
	ck_assert_int_eq(n_lines, 1);
	ck_assert_str_eq(lines[0], "early info: one");
	/* closing the slot forgets its format */
	qb_log_custom_close(t);
	u = rec_open();
	ck_assert_int_eq(u, t);
	qb_log(LOG_INFO, "two");
	ck_assert_int_eq(n_lines, 2);
	ck_assert_str_eq(lines[1], "[info] two");
}
END_TEST

static const char *tag_name(uint32_t tags)
{
	return tags == 3 ? "three" : "other";
}

START_TEST(test_format_specifiers)
{
	int t = rec_open();
	char expect[128];

	qb_log_format_set(t, "%P|%N|%5l|%-4p|%f|%n|%g|%b");
	qb_log_tags_stringify_fn_set(tag_name);
	qb_logt(LOG_INFO, 3, "hello %s", "you");
	qb_log_tags_stringify_fn_set(NULL);
	snprintf(expect, sizeof(expect), "%d|check_log|%-5d|info|%s|%s|three|hello you",
		 (int)getpid(), __LINE__ - 3, __FILE__, __func__);
	ck_assert_str_eq(lines[0], expect);

	/* a format ending in '%' (upstream read past the string) */
	qb_log_format_set(t, "x%");
	qb_log(LOG_INFO, "y");
	ck_assert_str_eq(lines[1], "x");
	/* a slot outside 0..31 is ignored */
	qb_log_format_set(-1, "bad");
	qb_log_format_set(32, "bad");
	/* long formats with a long line limit: no overflow, cut at 255 */
	{
		char big[1000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 4096);
		qb_log_format_set(t, big);
		qb_log(LOG_INFO, "z");
		ck_assert_uint_eq(strlen(lines[2]), 255);
	}
	qb_log_format_set(t, NULL);
	qb_log(LOG_INFO, "%s", "");
	ck_assert_str_eq(lines[3], "[info] ");
}
END_TEST

START_TEST(test_extended)
{
	int t = rec_open();

	qb_log(LOG_INFO, "a" QB_XS "b");
	ck_assert_str_eq(raws[0], "a|b");
	qb_log_ctl(t, QB_LOG_CONF_EXTENDED, QB_FALSE);
	qb_log(LOG_INFO, "a" QB_XS "b");
	ck_assert_str_eq(raws[1], "a");
	qb_log(LOG_INFO, QB_XS "b");
	ck_assert_int_eq(n_lines, 2);
}
END_TEST

START_TEST(test_target_format_direct)
{
	int t = rec_open();
	struct qb_log_callsite *cs;
	struct timespec ts = {0, 123000000};
	char out[QB_LOG_MAX_LEN];

	qb_log_format_set(t, "%T|%b");
	cs = qb_log_callsite_get("f", "d.c", "x", LOG_INFO, 1, 0);
	qb_log_target_format(t, cs, &ts, "msg", out);
	ck_assert_ptr_nonnull(strstr(out, ".123|msg"));
	/* harmless on bad input */
	qb_log_target_format(99, cs, &ts, "msg", out);
	qb_log_target_format(t, NULL, &ts, "msg", out);
}
END_TEST

/* %t and %T byte for byte (as the distro library renders them), seconds
 * changing back and forth, odd tv_nsec values, no timestamp at all. */
START_TEST(test_format_time)
{
	int t = rec_open();
	struct qb_log_callsite *cs;
	struct timespec a = {1700000000, 123456789};
	struct timespec b = {1700000061, 7000000};
	struct timespec big = {1700000000, 5123456789L};
	struct timespec neg = {-5, -3};
	char out[QB_LOG_MAX_LEN];

	setenv("TZ", "UTC", 1);
	tzset();
	qb_log_format_set(t, "%t|%T|%20t|");
	cs = qb_log_callsite_get("f", "d.c", "x", LOG_INFO, 1, 0);
	qb_log_target_format(t, cs, &a, "m", out);
	ck_assert_str_eq(out, "Nov 14 22:13:20|Nov 14 22:13:20.123|Nov 14 22:13:20     |");
	qb_log_target_format(t, cs, &b, "m", out);
	ck_assert_str_eq(out, "Nov 14 22:14:21|Nov 14 22:14:21.007|Nov 14 22:14:21     |");
	qb_log_target_format(t, cs, &a, "m", out);
	ck_assert_str_eq(out, "Nov 14 22:13:20|Nov 14 22:13:20.123|Nov 14 22:13:20     |");
	qb_log_target_format(t, cs, &big, "m", out);
	ck_assert_str_eq(out, "Nov 14 22:13:20|Nov 14 22:13:20.5123|Nov 14 22:13:20     |");
	qb_log_target_format(t, cs, &neg, "m", out);
	ck_assert_str_eq(out,
			 "Dec 31 23:59:55|Dec 31 23:59:55.18446744073709|Dec 31 23:59:55     |");
	/* another zone, another second: rendered anew */
	setenv("TZ", "UTC-5:30", 1);
	tzset();
	qb_log_target_format(t, cs, &b, "m", out);
	ck_assert_str_eq(out, "Nov 15 03:44:21|Nov 15 03:44:21.007|Nov 15 03:44:21     |");
	/* no timestamp: the epoch (the distro library crashed here) */
	setenv("TZ", "UTC", 1);
	tzset();
	qb_log_target_format(t, cs, NULL, "m", out);
	ck_assert_str_eq(out, "Jan 01 00:00:00|Jan 01 00:00:00.000|Jan 01 00:00:00     |");
	unsetenv("TZ");
	tzset();
}
END_TEST

/* %l at its extremes, with widths. */
START_TEST(test_format_lineno)
{
	int t = rec_open();
	struct qb_log_callsite cs;
	struct timespec ts = {0, 0};
	char out[QB_LOG_MAX_LEN];

	memset(&cs, 0, sizeof(cs));
	cs.function = "f";
	cs.filename = "d.c";
	cs.format = "x";
	cs.priority = LOG_INFO;
	qb_log_format_set(t, "%l|%3l|%-3l|%5l");
	cs.lineno = 0;
	qb_log_target_format(t, &cs, &ts, "m", out);
	ck_assert_str_eq(out, "0|0  |  0|0    ");
	cs.lineno = 4294967295u;
	qb_log_target_format(t, &cs, &ts, "m", out);
	ck_assert_str_eq(out, "4294967295|429|429|42949");
}
END_TEST

/* ---- ctl ------------------------------------------------------------------ */

START_TEST(test_ctl_codes)
{
	int t = rec_open();

	ck_assert_int_eq(qb_log_ctl(-1, QB_LOG_CONF_STATE_GET, 0), -EBADF);
	ck_assert_int_eq(qb_log_ctl(32, QB_LOG_CONF_STATE_GET, 0), -EBADF);
	ck_assert_int_eq(qb_log_ctl(t + 1, QB_LOG_CONF_STATE_GET, 0), -EBADF);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_STATE_GET, 0), QB_LOG_STATE_ENABLED);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_STATE_GET, 0),
			 QB_LOG_STATE_DISABLED);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_DEBUG, 1), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_SIZE, 100), -ENOSYS);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 0), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 4097), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, -1), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 0), -EINVAL);
	/* IDENT needs a string: upstream dereferenced the integer */
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_IDENT, 12345), -EINVAL);
	ck_assert_int_eq(qb_log_ctl2(t, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S(NULL)), -EINVAL);
	ck_assert_int_eq(qb_log_ctl2(t, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S("me")), 0);
	ck_assert_int_eq(qb_log_ctl(t, (enum qb_log_conf)99, 0), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_USE_JOURNAL, 1), -EINVAL);
#ifdef USE_JOURNAL
	ck_assert_int_eq(qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_USE_JOURNAL, 1), 0);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log2("0123456789abcdef0123456789abcdef", LOG_ERR, "to the journal");
	qb_log(LOG_ERR, "to the journal without id");
	ck_assert_int_eq(qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_USE_JOURNAL, 0), 0);
#else
	ck_assert_int_eq(qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_USE_JOURNAL, 1), -EOPNOTSUPP);
#endif
	ck_assert_int_eq(qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_FACILITY, LOG_DAEMON), 0);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_PRIORITY_BUMP, 1), 0);
	qb_log(LOG_DEBUG, "bumped past debug: dropped by syslog");
	qb_log(LOG_TRACE, "trace");
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_FALSE), 0);
	ck_assert_int_eq(n_closes, 1);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_FALSE), 0);
	ck_assert_int_eq(n_closes, 1);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_STATE_GET, 0), QB_LOG_STATE_DISABLED);
	errno = 0;
	ck_assert_ptr_null(qb_log_target_user_data_get(33));
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(qb_log_target_user_data_set(t, &n_lines), 0);
	ck_assert_ptr_eq(qb_log_target_user_data_get(t), &n_lines);
	ck_assert_int_eq(qb_log_target_user_data_set(t + 1, NULL), -EBADF);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_int_eq(qb_log_facility2int("local3"), LOG_LOCAL3);
	ck_assert_int_eq(qb_log_facility2int(NULL), -EINVAL);
	ck_assert_int_eq(qb_log_facility2int("bogus"), -EINVAL);
	ck_assert_str_eq(qb_log_facility2str(LOG_KERN), "kern");
	ck_assert_ptr_null(qb_log_facility2str(-5));
}
END_TEST

/* ---- files ----------------------------------------------------------------- */

static int file_lines(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "r");
	char buf[1024];
	int n = 0;

	if (fp == NULL)
		return -1;
	while (fgets(buf, sizeof(buf), fp))
		if (needle == NULL || strstr(buf, needle))
			n++;
	fclose(fp);
	return n;
}

START_TEST(test_file_target)
{
	char p1[64], p2[64];
	int t;
	struct stat st;

	snprintf(p1, sizeof(p1), "/tmp/check_log.%d.a", (int)getpid());
	snprintf(p2, sizeof(p2), "/tmp/check_log.%d.b", (int)getpid());
	ck_assert_int_eq(qb_log_file_open("/nonexistent/dir/file"), -ENOENT);
	t = qb_log_file_open(p1);
	ck_assert_int_ge(t, QB_LOG_TARGET_DYNAMIC_START);
	ck_assert_ptr_nonnull(qb_log_target_user_data_get(t));
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log(LOG_INFO, "disabled");
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE), 0);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_FILE_SYNC, QB_TRUE), 0);
	qb_log(LOG_INFO, "first");
	ck_assert_int_eq(file_lines(p1, "[info] first"), 1);
	/* disabling closes the file; enabling again reopens it (upstream
	 * stayed silent) */
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log(LOG_INFO, "while disabled");
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log(LOG_INFO, "second");
	ck_assert_int_eq(file_lines(p1, NULL), 2);
	/* reopen: new file first, old kept on failure */
	ck_assert_int_eq(qb_log_file_reopen(t, "/nonexistent/dir/x"), -ENOENT);
	qb_log(LOG_INFO, "third");
	ck_assert_int_eq(file_lines(p1, NULL), 3);
	ck_assert_int_eq(qb_log_file_reopen(t, p2), 0);
	qb_log(LOG_INFO, "fourth");
	ck_assert_int_eq(file_lines(p2, "fourth"), 1);
	/* rotation: reopen the same name */
	ck_assert_int_eq(rename(p2, p1), 0);
	ck_assert_int_eq(qb_log_file_reopen(t, NULL), 0);
	qb_log(LOG_INFO, "fifth");
	ck_assert_int_eq(file_lines(p2, NULL), 1);
	ck_assert_int_eq(qb_log_file_reopen(t + 1, NULL), -EBADF);
	ck_assert_int_eq(qb_log_file_reopen(QB_LOG_STDERR, NULL), -EBADF);
	qb_log_file_close(t);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_STATE_GET, 0), -EBADF);
	ck_assert_int_eq(stat(p2, &st), 0);
	unlink(p1);
	unlink(p2);
}
END_TEST

START_TEST(test_file_low_fd)
{
	char p[64];
	int t, saved = dup(0);
	FILE *fp;

	snprintf(p, sizeof(p), "/tmp/check_log.%d.fd", (int)getpid());
	close(0);
	t = qb_log_file_open(p);
	ck_assert_int_ge(t, 0);
	fp = qb_log_target_user_data_get(t);
	ck_assert_int_gt(fileno(fp), 2);
	ck_assert_int_eq(fcntl(fileno(fp), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	dup2(saved, 0);
	close(saved);
	qb_log_file_close(t);
	unlink(p);
}
END_TEST

START_TEST(test_stdout_target)
{
	int pfd[2], saved;
	char buf[256] = "";
	ssize_t n;

	ck_assert_int_eq(pipe(pfd), 0);
	fflush(stdout);
	saved = dup(1);
	dup2(pfd[1], 1);
	close(pfd[1]);
	qb_log_filter_ctl(QB_LOG_STDOUT, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", 7);
	qb_log_format_set(QB_LOG_STDOUT, "%p:%b");
	ck_assert_int_eq(qb_log_ctl(QB_LOG_STDOUT, QB_LOG_CONF_ENABLED, 1), 0);
	ck_assert_ptr_eq(qb_log_target_user_data_get(QB_LOG_STDOUT), stdout);
	qb_log(LOG_WARNING, "to stdout");
	qb_log_ctl(QB_LOG_STDOUT, QB_LOG_CONF_ENABLED, 0);
	dup2(saved, 1);
	close(saved);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(buf, "warning:to stdout\n");
}
END_TEST

START_TEST(test_custom_slots)
{
	int i, t[40], n = 0;

	for (i = 0; i < 40; i++) {
		t[i] = qb_log_custom_open(rec_logger, NULL, NULL, NULL);
		if (t[i] < 0)
			break;
		n++;
	}
	ck_assert_int_eq(n, QB_LOG_TARGET_MAX - QB_LOG_TARGET_DYNAMIC_START);
	ck_assert_int_eq(t[n], -EMFILE);
	qb_log_custom_close(t[5]);
	ck_assert_int_eq(qb_log_custom_open(rec_logger, NULL, NULL, NULL), t[5]);
	for (i = 0; i < n; i++)
		qb_log_custom_close(t[i]);
	qb_log_custom_close(-1);
	qb_log_custom_close(2); /* static slots are never freed */
	ck_assert_int_eq(qb_log_ctl(2, QB_LOG_CONF_STATE_GET, 0), QB_LOG_STATE_DISABLED);
}
END_TEST

/* one qb_log() line: the same callsite at every call */
static void log_one_line(void)
{
	qb_log(LOG_INFO, "the same line");
}

START_TEST(test_callsite_across_reinit)
{
	char file[] = "stack/file.c"; /* writable: a lookup that checks contents */
	struct qb_log_callsite *a, *v;

	rec_open();
	log_one_line();
	log_one_line();
	ck_assert_int_eq(n_lines, 2);
	a = qb_log_callsite_get("f", "keep.c", "x", LOG_INFO, 1, 0);
	v = qb_log_callsite_get("f", file, "x", LOG_INFO, 1, 0);
	ck_assert_ptr_eq(qb_log_callsite_get("f", "keep.c", "x", LOG_INFO, 1, 0), a);
	qb_log_fini();
	log_one_line(); /* retired: no target, nothing recorded */
	ck_assert_int_eq(n_lines, 2);
	ck_assert_ptr_null(qb_log_callsite_get("f", "keep.c", "x", LOG_INFO, 1, 0));
	ck_assert_ptr_null(qb_log_callsite_get("f", file, "x", LOG_INFO, 1, 0));
	setup();
	rec_open();
	/* back, the same entries, and the new target's filter applied */
	ck_assert_ptr_eq(qb_log_callsite_get("f", "keep.c", "x", LOG_INFO, 1, 0), a);
	ck_assert_ptr_eq(qb_log_callsite_get("f", "keep.c", "x", LOG_INFO, 1, 0), a);
	ck_assert_ptr_eq(qb_log_callsite_get("f", file, "x", LOG_INFO, 1, 0), v);
	ck_assert_uint_ne(a->targets, 0);
	log_one_line();
	log_one_line();
	ck_assert_int_eq(n_lines, 2);
	ck_assert_str_eq(raws[1], "the same line");
	/* and retired again by a second fini */
	qb_log_fini();
	ck_assert_ptr_null(qb_log_callsite_get("f", "keep.c", "x", LOG_INFO, 1, 0));
	setup();
}
END_TEST

START_TEST(test_reinit_cycle)
{
	rec_open();

	qb_log(LOG_INFO, "a");
	qb_log_fini();
	ck_assert_int_eq(n_closes, 1);
	qb_log(LOG_INFO, "a"); /* no-op after fini */
	setup();
	rec_open();
	qb_log(LOG_INFO, "a");
	ck_assert_int_eq(n_lines, 1);
	ck_assert_int_eq(qb_log_reflect_pid(), 0); /* same process */
	qb_log_callsites_dump();
}
END_TEST

static int self_slot;

static void self_disabling_logger(int32_t t, struct qb_log_callsite *cs, struct timespec *ts,
				  const char *msg)
{
	n_lines++;
	if (strcmp(msg, "disable me") == 0)
		qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_FALSE);
	if (strcmp(msg, "close me") == 0)
		qb_log_custom_close(t);
}

START_TEST(test_config_from_own_logger)
{
	self_slot = qb_log_custom_open(self_disabling_logger, rec_close, NULL, NULL);
	qb_log_filter_ctl(self_slot, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", 7);
	qb_log_ctl(self_slot, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log(LOG_INFO, "disable me"); /* no deadlock */
	ck_assert_int_eq(n_closes, 1);
	ck_assert_int_eq(qb_log_ctl(self_slot, QB_LOG_CONF_STATE_GET, 0), QB_LOG_STATE_DISABLED);
	qb_log(LOG_INFO, "not delivered");
	ck_assert_int_eq(n_lines, 1);
	qb_log_ctl(self_slot, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log(LOG_INFO, "close me");
	ck_assert_int_eq(n_closes, 2);
	ck_assert_int_eq(qb_log_ctl(self_slot, QB_LOG_CONF_STATE_GET, 0), -EBADF);
	/* and the slot still works for the next user */
	ck_assert_int_eq(qb_log_custom_open(rec_logger, NULL, NULL, NULL), self_slot);
	ck_assert_int_eq(qb_log_ctl(self_slot, QB_LOG_CONF_ENABLED, QB_TRUE), 0);
}
END_TEST

static char util_text[256];
static int util_calls, util_line;

static void util_receiver(const char *file, int32_t line, int32_t severity, const char *msg)
{
	util_calls++;
	util_line = line;
	snprintf(util_text, sizeof(util_text), "%s|%d|%s", file, severity, msg);
}

START_TEST(test_util_log_function)
{
	char expect[256];
	int line;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	qb_util_set_log_function(util_receiver);
	qb_log(LOG_ERR, "application message"); /* not tagged */
	ck_assert_int_eq(util_calls, 0);
	line = __LINE__ + 1; /* the line of the next call */
	qb_logt(LOG_WARNING, QB_LOG_TAG_LIBQB_MSG, "lib %d" QB_XS "x", 5);
	ck_assert_int_eq(util_calls, 1);
	snprintf(expect, sizeof(expect), "%s|%d|lib 5" QB_XS "x", __FILE__, LOG_WARNING);
	ck_assert_str_eq(util_text, expect);
	ck_assert_int_eq(util_line, line);
	qb_util_set_log_function(NULL);
#pragma GCC diagnostic pop
	qb_logt(LOG_WARNING, QB_LOG_TAG_LIBQB_MSG, "lib %d", 6);
	ck_assert_int_eq(util_calls, 1);
}
END_TEST

START_TEST(test_reinit_without_fini)
{
	int t = rec_open();

	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log_init("again", LOG_USER, LOG_INFO);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_STATE_GET, 0), -EBADF);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_STATE_GET, 0),
			 QB_LOG_STATE_DISABLED);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_STATE_GET, 0), QB_LOG_STATE_ENABLED);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	ck_assert_int_eq(n_closes, 0);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_callsite_identity),
		CK_TEST(test_callsite_message_id),
		CK_TEST(test_callsite_tags),
		CK_TEST(test_not_initialised),
		CK_TEST(test_recursion_dropped),
		CK_TEST(test_all_argument_registers),
		CK_TEST(test_external_source),
		CK_TEST(test_filter_fn),
		CK_TEST(test_filter_codes),
		CK_TEST(test_filter_priority_range),
		CK_TEST(test_slot_free_forgets),
		CK_TEST(test_format_before_open),
		CK_TEST(test_format_specifiers),
		CK_TEST(test_extended),
		CK_TEST(test_target_format_direct),
		CK_TEST(test_format_time),
		CK_TEST(test_format_lineno),
		CK_TEST(test_ctl_codes),
		CK_TEST(test_names),
		CK_TEST(test_file_target),
		CK_TEST(test_file_low_fd),
		CK_TEST(test_stdout_target),
		CK_TEST(test_custom_slots),
		CK_TEST(test_reinit_cycle),
		CK_TEST(test_util_log_function),
		CK_TEST(test_reinit_without_fini),
		CK_TEST(test_callsite_across_reinit),
		CK_TEST(test_config_from_own_logger),
	};
	const struct ck_opts opts = {
		.setup = setup,
		.teardown = teardown,
	};

	return CK_MAIN("log", &opts, tests);
}
