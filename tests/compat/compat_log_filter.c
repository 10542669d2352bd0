/*
 * compat_log_filter.c - target and tag filters, the custom filter function,
 * legacy callsite registration; printed through a custom target.
 */
#include <qb/qblog.h>
#include <stdio.h>
#include <string.h>

static int slot;
static int fn_calls;

static void show(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	printf("  [%d] %s:%s:%u p%u tags=%u %s\n", t, cs->filename, cs->function, cs->lineno,
	       cs->priority, cs->tags, msg);
}

/* Log from a given file / function / priority / line. */
static void lg(const char *file, const char *func, int prio, int line)
{
	qb_log_from_external_source(func, file, "msg from %s", prio, line, 0, file);
}

static void round_(const char *what)
{
	printf("%s\n", what);
	lg("src/a.c", "alpha", LOG_INFO, 10);
	lg("src/b.c", "beta", LOG_DEBUG, 20);
	lg("lib/c.c", "gamma", LOG_ERR, 30);
	lg("src/a.c", "alpha", LOG_TRACE, 40);
}

#define F(c, type, text, hi, lo)                                                                   \
	printf(#c " " #type " %s %d..%d -> %d\n", (text) ? (text) : "NULL", hi, lo,                \
	       qb_log_filter_ctl2(slot, c, type, text, hi, lo))

static void filt(struct qb_log_callsite *cs)
{
	fn_calls++;
	if (strcmp(cs->function, "beta") == 0)
		cs->targets |= 1U << slot;
}

static struct qb_log_callsite legacy[2] = {
	{"leg1", "legacy.c", "legacy one", LOG_INFO, 1, 0, 0, NULL},
	{"leg2", "legacy.c", "legacy two", LOG_DEBUG, 2, 0, 0, NULL},
};

int main(void)
{
	int i;

	qb_log_init("flt", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	slot = qb_log_custom_open(show, NULL, NULL, NULL);
	qb_log_ctl(slot, QB_LOG_CONF_ENABLED, QB_TRUE);

	round_("no filter");
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "src/a.c", LOG_EMERG, LOG_TRACE);
	round_("file src/a.c");
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "src/a.c", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "a.c", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);
	round_("cleared");
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "x.c,lib/c.c,src/b.c", LOG_EMERG, LOG_INFO);
	round_("file list up to info");
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FUNCTION, "alpha,gamma", LOG_ERR, LOG_TRACE);
	round_("function alpha,gamma err..trace");
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "from", LOG_EMERG, LOG_DEBUG);
	round_("format substring");
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE_REGEX, "^src/[ab]", LOG_EMERG, LOG_TRACE);
	round_("file regex");
	F(QB_LOG_FILTER_REMOVE, QB_LOG_FILTER_FILE_REGEX, "^src/[ab]", LOG_EMERG, LOG_TRACE);
	round_("regex remove leaves existing callsites");
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FUNCTION_REGEX, "a$", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT_REGEX, "m.g", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT_REGEX, "a[", LOG_EMERG, LOG_TRACE);
	round_("regexes");
	F(QB_LOG_FILTER_REMOVE, QB_LOG_FILTER_FILE, "src/a.c", LOG_EMERG, LOG_TRACE);
	round_("remove a.c from existing");
	F(QB_LOG_FILTER_REMOVE, QB_LOG_FILTER_FILE, "*", LOG_EMERG, LOG_TRACE);
	round_("remove *");
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);

	/* errors */
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, NULL, LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_INFO, LOG_ERR);
	F(QB_LOG_FILTER_ADD, 6, "*", LOG_EMERG, LOG_TRACE);
	F(6, QB_LOG_FILTER_FILE, "*", LOG_EMERG, LOG_TRACE);
	F(-1, QB_LOG_FILTER_FILE, "*", LOG_EMERG, LOG_TRACE);
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, NULL, LOG_EMERG, LOG_TRACE);
	printf("bad slot add %d remove %d clear %d tag %d\n",
	       qb_log_filter_ctl(32, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, NULL, 7),
	       qb_log_filter_ctl(-1, QB_LOG_FILTER_REMOVE, QB_LOG_FILTER_FILE, "*", 7),
	       qb_log_filter_ctl(20, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", 7),
	       qb_log_filter_ctl(99, QB_LOG_TAG_SET, QB_LOG_FILTER_FILE, "zz.c", 7));

	/* tags */
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_EMERG, LOG_TRACE);
	printf("tag set %d %d %d\n",
	       qb_log_filter_ctl(5, QB_LOG_TAG_SET, QB_LOG_FILTER_FILE, "src/a.c", LOG_TRACE),
	       qb_log_filter_ctl(6, QB_LOG_TAG_SET, QB_LOG_FILTER_FUNCTION, "alpha", LOG_TRACE),
	       qb_log_filter_ctl(5, QB_LOG_TAG_SET, QB_LOG_FILTER_FILE, "src/a.c", LOG_TRACE));
	round_("tags");
	lg("src/a.c", "alpha", LOG_INFO, 11);
	qb_logt(LOG_INFO, 77, "explicit tags");
	printf("tag clear %d\n",
	       qb_log_filter_ctl(1, QB_LOG_TAG_CLEAR, QB_LOG_FILTER_FILE, "src/a.c", LOG_TRACE));
	round_("after tag clear");
	lg("src/a.c", "alpha", LOG_INFO, 12);
	printf("tag clear all %d\n",
	       qb_log_filter_ctl(0, QB_LOG_TAG_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", LOG_TRACE));
	round_("after tag clear all");

	/* a callsite first used while the slot was disabled */
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);
	qb_log_ctl(slot, QB_LOG_CONF_ENABLED, QB_FALSE);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_EMERG, LOG_TRACE);
	lg("new/d.c", "delta", LOG_INFO, 50);
	qb_log_ctl(slot, QB_LOG_CONF_ENABLED, QB_TRUE);
	printf("enabled again\n");
	lg("new/d.c", "delta", LOG_INFO, 50);
	lg("new/e.c", "eps", LOG_INFO, 51);
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "new/d.c", LOG_EMERG, LOG_TRACE);
	lg("new/d.c", "delta", LOG_INFO, 50);

	/* the custom filter function */
	F(QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "", LOG_EMERG, LOG_TRACE);
	printf("fn set %d\n", qb_log_filter_fn_set(filt));
	printf("fn calls after set: %s\n", fn_calls > 0 ? "some" : "none");
	round_("filter fn");
	/* (how often the function runs afterwards differs on purpose:
	 * upstream calls it on every log call) */
	qb_log_filter_fn_set(NULL);

	/* legacy registration */
	F(QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "legacy.c", LOG_EMERG, LOG_INFO);
	printf("register %d\n", qb_log_callsites_register(legacy, legacy + 2));
	printf("register again %d\n", qb_log_callsites_register(legacy, legacy + 2));
	printf("register null %d\n", qb_log_callsites_register(NULL, legacy));
	printf("legacy targets %u %u\n", legacy[0].targets & (1U << slot) ? 1 : 0,
	       legacy[1].targets & (1U << slot) ? 1 : 0);
	qb_log_real_(&legacy[0]);
	for (i = 100; i < 130; i++) /* several blocks of 16 in the dump */
		lg("many.c", "many", LOG_DEBUG, i);
	qb_log_callsites_dump();

	qb_log_custom_close(slot);
	qb_log_fini();
	qb_log_callsites_dump();
	printf("after fini %d %d\n",
	       qb_log_filter_ctl(1, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", 7),
	       qb_log_filter_fn_set(NULL));
	return 0;
}
