/*
 * compat_log_ctl.c - qb_log_ctl/qb_log_ctl2 return codes and states for
 * every option on every kind of slot, slot allocation, user data.
 */
#include <qb/qblog.h>
#include <stdio.h>
#include <unistd.h>

static void nop(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
}

static int closes;

static void cls(int32_t t)
{
	closes++;
}

static void table(const char *when)
{
	int t, c;

	printf("%s\n", when);
	for (t = -1; t <= 32; t++) {
		printf("%3d:", t);
		for (c = 0; c <= 13; c++) {
			int arg;

			/* Options with effects are probed with harmless values. */
			switch (c) {
			case QB_LOG_CONF_ENABLED:
			case QB_LOG_CONF_USE_JOURNAL:
			case QB_LOG_CONF_IDENT:
				c = c; /* skipped below */
				printf(" -");
				continue;
			case QB_LOG_CONF_SIZE:
				arg = 0;
				break;
			case QB_LOG_CONF_MAX_LINE_LEN:
				arg = 5000;
				break;
			case QB_LOG_CONF_FACILITY:
				arg = LOG_USER;
				break;
			default:
				arg = 0;
			}
			printf(" %d", qb_log_ctl(t, c, arg));
		}
		printf("\n");
	}
}

int main(void)
{
	int a, b, i, n, slots[40];
	char path[64];

	printf("before init: %d %d %d\n", qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, 1),
	       qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_STATE_GET, 0),
	       qb_log_custom_open(nop, NULL, NULL, NULL));
	qb_log_init("ctl", LOG_DAEMON, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, 0);
	table("after init");
	a = qb_log_custom_open(nop, cls, NULL, (void *)0x1234);
	snprintf(path, sizeof(path), "/tmp/compat_log_ctl.%d", (int)getpid());
	b = qb_log_file_open(path);
	printf("custom %d file %d user data %p\n", a, b, qb_log_target_user_data_get(a));
	table("with dynamic slots");
	printf("enable custom %d state %d\n", qb_log_ctl(a, QB_LOG_CONF_ENABLED, 1),
	       qb_log_ctl(a, QB_LOG_CONF_STATE_GET, 0));
	printf("enable again %d disable %d closes %d\n", qb_log_ctl(a, QB_LOG_CONF_ENABLED, 1),
	       qb_log_ctl(a, QB_LOG_CONF_ENABLED, 0), closes);
	printf("disable again %d closes %d\n", qb_log_ctl(a, QB_LOG_CONF_ENABLED, 0), closes);
	printf("ident %d %d\n", qb_log_ctl2(a, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S("x")),
	       qb_log_ctl2(QB_LOG_SYSLOG, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S("ctl2")));
	printf("journal %d %d\n", qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_USE_JOURNAL, 0),
	       qb_log_ctl(a, QB_LOG_CONF_USE_JOURNAL, 1));
	printf("size %d %d %d %d\n", qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, -5),
	       qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 4096),
	       qb_log_ctl(a, QB_LOG_CONF_SIZE, 4096),
	       qb_log_ctl(QB_LOG_STDOUT, QB_LOG_CONF_SIZE, 4096));
	printf("line len %d %d %d\n", qb_log_ctl(a, QB_LOG_CONF_MAX_LINE_LEN, 4096),
	       qb_log_ctl(a, QB_LOG_CONF_MAX_LINE_LEN, 4097),
	       qb_log_ctl(a, QB_LOG_CONF_MAX_LINE_LEN, 100));
	printf("user data set %d %d %d get %p\n", qb_log_target_user_data_set(a, (void *)0x99),
	       qb_log_target_user_data_set(31, NULL), qb_log_target_user_data_set(-1, NULL),
	       qb_log_target_user_data_get(a));
	printf("user data bad %p\n", qb_log_target_user_data_get(40));
	printf("stdout ud before enable %p\n", qb_log_target_user_data_get(QB_LOG_STDOUT));
	qb_log_ctl(QB_LOG_STDOUT, QB_LOG_CONF_ENABLED, 1);
	printf("stdout ud is stdout %d\n",
	       qb_log_target_user_data_get(QB_LOG_STDOUT) == (void *)stdout);
	qb_log_ctl(QB_LOG_STDOUT, QB_LOG_CONF_ENABLED, 0);
	qb_log_custom_close(a);
	printf("closed: closes %d state %d\n", closes, qb_log_ctl(a, QB_LOG_CONF_STATE_GET, 0));
	qb_log_file_close(b);
	printf("file closed state %d\n", qb_log_ctl(b, QB_LOG_CONF_STATE_GET, 0));
	unlink(path);

	n = 0;
	for (i = 0; i < 40; i++) {
		slots[i] = qb_log_custom_open(nop, NULL, NULL, NULL);
		if (slots[i] < 0) {
			printf("open %d -> %d\n", i, slots[i]);
			break;
		}
		n++;
	}
	printf("opened %d, first %d last %d\n", n, slots[0], slots[n - 1]);
	qb_log_custom_close(slots[3]);
	printf("reuse %d\n", qb_log_custom_open(nop, NULL, NULL, NULL));
	printf("file when full %d\n", qb_log_file_open("/tmp/compat_log_ctl_full"));
	unlink("/tmp/compat_log_ctl_full"); /* the distro creates it before failing */
	for (i = 0; i < n; i++)
		qb_log_custom_close(slots[i]);
	printf("facility %d %d %d %s %s\n", qb_log_facility2int("daemon"),
	       qb_log_facility2int("local7"), qb_log_facility2int("nope"),
	       qb_log_facility2str(LOG_AUTH), qb_log_facility2str(3) ? "x" : "NULL");
	printf("file open bad %d\n", qb_log_file_open("/nonexistent/dir/x"));
	/* a second init without fini starts over */
	a = qb_log_custom_open(nop, cls, NULL, NULL);
	qb_log_ctl(a, QB_LOG_CONF_ENABLED, 1);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, 1);
	qb_log_init("again", LOG_USER, LOG_ERR);
	printf("re-init: custom %d stderr %d syslog %d closes %d\n",
	       qb_log_ctl(a, QB_LOG_CONF_STATE_GET, 0),
	       qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_STATE_GET, 0),
	       qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_STATE_GET, 0), closes);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, 0);
	qb_log_fini();
	printf("after fini %d\n", qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_STATE_GET, 0));
	return 0;
}
