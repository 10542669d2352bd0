/*
 * compat_log_slots.c - what a per-slot setting made on a slot that is not
 * open (never opened, or closed since) does once a file is opened into
 * that slot: the format, filters, qb_log_ctl options, user data. Each
 * case runs in its own process so that every case starts from a fresh
 * qb_log_init().
 */
#include <qb/qblog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static char path[64];

static void show_file(const char *label)
{
	char line[512];
	FILE *f = fopen(path, "r");

	printf("  %s:\n", label);
	if (f == NULL) {
		printf("    (no file)\n");
		return;
	}
	while (fgets(line, sizeof(line), f))
		printf("    | %s", line);
	fclose(f);
}

/* Open a file target, enable it with a trace filter unless asked not to. */
static int open_file(int filter)
{
	int t;

	unlink(path);
	t = qb_log_file_open(path);
	printf("  file_open -> %d\n", t);
	if (filter)
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	printf("  enable -> %d\n", qb_log_ctl(t, QB_LOG_CONF_ENABLED, 1));
	return t;
}

static void emit(void)
{
	qb_log(LOG_ERR, "error line with some words in it");
	qb_log(LOG_DEBUG, "debug line");
	qb_log(LOG_TRACE, "trace line");
}

static void case_format(int never_opened)
{
	int t;

	if (!never_opened) {
		t = open_file(1);
		qb_log_file_close(t);
	}
	for (int i = 0; i < 32; i++)
		qb_log_format_set(i, "F<%p> %b");
	t = open_file(1);
	emit();
	show_file("format set on every slot before open");
	qb_log_file_close(t);
}

static void case_filter(void)
{
	int t;

	printf("  filter on slot 4 -> %d\n",
	       qb_log_filter_ctl(4, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG));
	t = open_file(0);
	emit();
	show_file("filter added before open");
	qb_log_file_close(t);
	t = open_file(0);
	emit();
	show_file("reopened after close without a filter");
	qb_log_file_close(t);
}

static void case_ctl(void)
{
	static const struct {
		int conf, arg;
		const char *name;
	} opts[] = {
		{QB_LOG_CONF_MAX_LINE_LEN, 12, "max_line_len"},
		{QB_LOG_CONF_ELLIPSIS, 1, "ellipsis"},
		{QB_LOG_CONF_PRIORITY_BUMP, -2, "priority_bump"},
		{QB_LOG_CONF_EXTENDED, 0, "extended"},
		{QB_LOG_CONF_THREADED, 1, "threaded"},
		{QB_LOG_CONF_FILE_SYNC, 1, "file_sync"},
		{QB_LOG_CONF_FACILITY, LOG_LOCAL3, "facility"},
		{QB_LOG_CONF_SIZE, 8192, "size"},
	};
	int t;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		printf("  ctl %s on slot 4 -> %d\n", opts[i].name,
		       qb_log_ctl(4, opts[i].conf, opts[i].arg));
	printf("  ident on slot 4 -> %d\n",
	       qb_log_ctl2(4, QB_LOG_CONF_IDENT, QB_LOG_CTL2_S("other")));
	printf("  user_data_set on slot 4 -> %d\n", qb_log_target_user_data_set(4, (void *)1));
	t = open_file(1);
	qb_log_format_set(t, "%N %p %b");
	emit();
	show_file("after the options on the unopened slot");
	qb_log_file_close(t);
}

/*
 * The format of an open slot is forgotten when the slot is closed. (The
 * distro library also carries qb_log_ctl options, the ident and the filters
 * of a closed slot over to the next target opened in it; this library
 * deliberately starts a reused slot afresh, so those are not compared.)
 */
static void case_reuse(void)
{
	int t = open_file(1);

	qb_log_format_set(t, "R<%p> %b");
	qb_log_file_close(t);
	printf("  after close: ctl -> %d\n", qb_log_ctl(t, QB_LOG_CONF_ELLIPSIS, 0));
	t = open_file(1);
	emit();
	show_file("reused slot");
	qb_log_file_close(t);
}

static void run_case(const char *name, void (*fn)(void))
{
	pid_t pid;
	int st = 0;

	printf("case %s\n", name);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setvbuf(stdout, NULL, _IONBF, 0);
		qb_log_init("slots", LOG_USER, LOG_INFO);
		qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
		fn();
		qb_log_fini();
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("  child status 0x%x\n", st);
}

static void format_never(void)
{
	case_format(1);
}
static void format_closed(void)
{
	case_format(0);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/compat_log_slots.%d", (int)getpid());
	run_case("format on a never opened slot", format_never);
	run_case("format on a closed slot", format_closed);
	run_case("filter", case_filter);
	run_case("ctl", case_ctl);
	run_case("reuse", case_reuse);
	unlink(path);
	return 0;
}
