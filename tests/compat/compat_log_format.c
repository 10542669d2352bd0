/*
 * compat_log_format.c - target formats, extended information, truncation
 * and ellipsis, printed through a custom target (built against the distro
 * headers, run on both libraries; output must match).
 */
#include <qb/qblog.h>
#include <string.h>
#include <stdio.h>

static int slot;

static void show(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	char out[QB_LOG_ABSOLUTE_MAX_LEN];

	qb_log_target_format(t, cs, ts, msg, out);
	printf("<%s> raw=<%s>\n", out, msg);
}

static const char *tagstr(uint32_t tags)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "T%u", tags);
	return buf;
}

static void with_format(const char *fmt)
{
	printf("format %s\n", fmt);
	qb_log_format_set(slot, fmt);
}

int main(void)
{
	char big[600];
	int i;

	qb_log_init("lgtest", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	slot = qb_log_custom_open(show, NULL, NULL, NULL);
	printf("slot %d\n", slot);
	qb_log_filter_ctl(slot, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(slot, QB_LOG_CONF_ENABLED, QB_TRUE);

	qb_log(LOG_INFO, "default format %d", 1);
	with_format("[%10n][%-10n][%3p][%-8p][%4N][%-8N][%2P]%b");
	qb_log(LOG_ERR, "widths");
	with_format("%f:%l %5l|%-5l|%n()|%p|%b");
	for (i = 0; i <= LOG_TRACE; i++)
		qb_log(i, "prio %d", i);
	qb_log(LOG_TRACE + 3, "prio above trace");
	with_format("%t|%T|%%|%x|%5%|%-3q|%b");
	qb_log(LOG_INFO, "times");
	with_format("%g|%5g|%b");
	qb_logt(LOG_INFO, 5, "no stringify");
	qb_log_tags_stringify_fn_set(tagstr);
	qb_logt(LOG_INFO, 7, "tags");
	qb_log_tags_stringify_fn_set(NULL);
	with_format("%N %b");
	qb_log_ctl2(slot, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S("newident"));
	qb_log(LOG_INFO, "ident cached");
	with_format("%N %b");
	qb_log(LOG_INFO, "ident refreshed");
	with_format(NULL);
	qb_log(LOG_INFO, "back to default");

	/* extended information */
	qb_log(LOG_INFO, "a" QB_XS " b");
	qb_log(LOG_INFO, QB_XS "b");
	qb_log(LOG_INFO, "tail" QB_XS);
	qb_log(LOG_INFO, "two" QB_XS "x" QB_XS "y");
	qb_log_ctl(slot, QB_LOG_CONF_EXTENDED, QB_FALSE);
	qb_log(LOG_INFO, "a" QB_XS " b");
	qb_log(LOG_INFO, QB_XS "b");
	qb_log(LOG_INFO, "tail" QB_XS);
	qb_log_ctl(slot, QB_LOG_CONF_EXTENDED, QB_TRUE);

	/* newlines */
	qb_log(LOG_INFO, "newline\n");
	qb_log(LOG_INFO, "two newlines\n\n");
	qb_log(LOG_INFO, "%s", "");
	with_format("%b\n");
	qb_log(LOG_INFO, "format newline");
	with_format("[%p] %b");

	/* truncation and ellipsis */
	qb_log_ctl(slot, QB_LOG_CONF_MAX_LINE_LEN, 20);
	qb_log(LOG_INFO, "0123456789abcdefghijklmnop");
	qb_log(LOG_INFO, "0123456789a\n");
	qb_log(LOG_INFO, "0123456789abcdefghi\n");
	qb_log_ctl(slot, QB_LOG_CONF_ELLIPSIS, QB_TRUE);
	qb_log(LOG_INFO, "0123456789abcdefghijklmnop");
	qb_log_ctl(slot, QB_LOG_CONF_MAX_LINE_LEN, 16);
	qb_log(LOG_INFO, "abcdefgh");
	qb_log(LOG_INFO, "abcdefg");
	with_format("%-30n|%b");
	qb_log(LOG_INFO, "field cut");
	with_format("[%p] %b");
	qb_log_ctl(slot, QB_LOG_CONF_ELLIPSIS, QB_FALSE);
	qb_log_ctl(slot, QB_LOG_CONF_MAX_LINE_LEN, QB_LOG_MAX_LEN);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	qb_log(LOG_INFO, "%s", big);
	qb_log_ctl(slot, QB_LOG_CONF_MAX_LINE_LEN, QB_LOG_ABSOLUTE_MAX_LEN);
	qb_log(LOG_INFO, "%s", big);
	printf("ctl 4097 -> %d\n", qb_log_ctl(slot, QB_LOG_CONF_MAX_LINE_LEN, 4097));

	errno = ENOENT;
	qb_perror(LOG_ERR, "perror %s", "x");
	qb_enter();
	qb_leave();
	qb_log_from_external_source("extfn", "dir/ext.c", "external %d", LOG_NOTICE, 42, 0, 42);
	with_format("%f|%n|%l|%b");
	qb_log_from_external_source(NULL, NULL, "nulls %d", LOG_NOTICE, 43, 0, 43);
	/* the same target through the log thread; fini drains it */
	with_format("[%p] %b");
	printf("threaded %d start %d\n", qb_log_ctl(slot, QB_LOG_CONF_THREADED, QB_TRUE),
	       qb_log_thread_start());
	fflush(stdout);
	for (i = 0; i < 5; i++)
		qb_log(LOG_NOTICE, "queued %d" QB_XS "ext", i);
	qb_log_fini();
	return 0;
}
