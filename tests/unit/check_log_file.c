/*
 * check_log_file.c - file targets: the bytes of each line, creation mode
 * (qb_log_file_open_mode), following the path across log rotation
 * (QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, qb_log_file_reopen_request) with and
 * without the log thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

static char dir[64];
static char path[128];
static char rotated[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_log_file.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(rotated, sizeof(rotated), "%s/log.1", dir);
	qb_log_init("check_log_file", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
}

static void teardown(void)
{
	char p[160];
	int i;

	qb_log_fini();
	unlink(path);
	unlink(rotated);
	for (i = 2; i < 10; i++) {
		snprintf(p, sizeof(p), "%s.%d", path, i);
		unlink(p);
	}
	rmdir(dir);
}

/* Lines of @p file containing @p needle; "<n> messages lost" lines add n. */
static long count_in(const char *file, const char *needle)
{
	FILE *fp = fopen(file, "r");
	char buf[512];
	long n = 0, lost;

	if (fp == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), fp)) {
		char *l = strstr(buf, "] ");

		if (l != NULL && sscanf(l + 2, "%ld messages lost", &lost) == 1)
			n += lost;
		else if (strstr(buf, needle) && buf[strlen(buf) - 1] == '\n')
			n++;
	}
	fclose(fp);
	return n;
}

static int target_open(int threaded, int32_t interval)
{
	int t = qb_log_file_open(path);

	ck_assert_int_ge(t, 0);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	if (threaded)
		ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_THREADED, 1), 0);
	if (interval >= 0)
		ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, interval), 0);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_ENABLED, 1), 0);
	if (threaded)
		ck_assert_int_eq(qb_log_thread_start(), 0);
	return t;
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static ino_t ino_of(const char *p)
{
	struct stat st;

	if (stat(p, &st) != 0)
		return 0;
	return st.st_ino;
}

/* ---- item: the bytes of each line ---------------------------------- */

/* One line per call, newline-ended, as the distro library writes them:
 * a trailing newline of the message is not doubled, long lines are cut at
 * QB_LOG_CONF_MAX_LINE_LEN - 1 characters (with "..." when asked). */
START_TEST(test_line_bytes)
{
	static char big[6000], expect[8192], got[8192];
	int t = target_open(0, -1);
	size_t n;
	FILE *fp;

	qb_log_format_set(t, "%p %b");
	qb_log(LOG_INFO, "one");
	qb_log(LOG_INFO, "two\n");
	qb_log(LOG_INFO, "three\n\n");
	qb_log(LOG_INFO, "%s", "");
	memset(big, 'x', sizeof(big) - 1);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, QB_LOG_ABSOLUTE_MAX_LEN), 0);
	qb_log(LOG_INFO, "%s", big);
	qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 10);
	qb_log(LOG_INFO, "abcdefghijklmnop");
	qb_log_ctl(t, QB_LOG_CONF_ELLIPSIS, QB_TRUE);
	qb_log(LOG_INFO, "abcdefghijklmnop");
	qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 9);
	qb_log(LOG_INFO, "ab\n");
	/* (the distro library crashed on a limit of 1) */
	qb_log_ctl(t, QB_LOG_CONF_MAX_LINE_LEN, 1);
	qb_log(LOG_INFO, "abc");

	n = (size_t)snprintf(expect, sizeof(expect),
			     "info one\ninfo two\ninfo three\ninfo \ninfo ");
	memset(expect + n, 'x', QB_LOG_ABSOLUTE_MAX_LEN - 1 - 5);
	n += QB_LOG_ABSOLUTE_MAX_LEN - 1 - 5;
	n += (size_t)snprintf(expect + n, sizeof(expect) - n,
			      "\ninfo abcd\ninfo a...\ninfo ab\n\n");
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fread(got, 1, sizeof(got), fp), n);
	fclose(fp);
	ck_assert_int_eq(memcmp(got, expect, n), 0);
}
END_TEST

/* What the application wrote into the target's stream (user_data) and did
 * not flush still comes before the next line. */
START_TEST(test_user_stream_order)
{
	int t = target_open(0, -1);
	FILE *fp = qb_log_target_user_data_get(t);
	char got[256];
	size_t n;

	ck_assert_ptr_nonnull(fp);
	qb_log_format_set(t, "%b");
	qb_log(LOG_INFO, "first");
	fprintf(fp, "from the application\n");
	qb_log(LOG_INFO, "second");
	qb_log(LOG_INFO, "third");
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(got, 1, sizeof(got) - 1, fp);
	fclose(fp);
	got[n] = '\0';
	ck_assert_str_eq(got, "first\nfrom the application\nsecond\nthird\n");
}
END_TEST

/* ---- item: creation mode ------------------------------------------- */

START_TEST(test_open_mode)
{
	mode_t old = umask(022);
	int t;

	t = qb_log_file_open_mode(path, 0640);
	ck_assert_int_ge(t, 0);
	ck_assert_uint_eq(mode_of(path), 0640);
	qb_log_file_close(t);

	/* the umask does not narrow an explicit mode */
	unlink(path);
	umask(077);
	t = qb_log_file_open_mode(path, 0664);
	ck_assert_int_ge(t, 0);
	ck_assert_uint_eq(mode_of(path), 0664);
	qb_log_file_close(t);

	/* an existing file keeps its mode */
	t = qb_log_file_open_mode(path, 0600);
	ck_assert_int_ge(t, 0);
	ck_assert_uint_eq(mode_of(path), 0664);

	/* a reopen that creates the file again uses the target's mode */
	unlink(path);
	ck_assert_int_eq(qb_log_file_reopen(t, NULL), 0);
	ck_assert_uint_eq(mode_of(path), 0600);
	qb_log_file_close(t);

	/* the default is unchanged: 0666 less the umask */
	unlink(path);
	umask(027);
	t = qb_log_file_open(path);
	ck_assert_int_ge(t, 0);
	ck_assert_uint_eq(mode_of(path), 0640);
	qb_log_file_close(t);

	ck_assert_int_eq(qb_log_file_open_mode(path, 010000), -EINVAL);
	ck_assert_int_eq(qb_log_file_open_mode(NULL, 0600), -EINVAL);
	umask(old);
}
END_TEST

START_TEST(test_reopen_ctl_args)
{
	int t = qb_log_file_open(path);

	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, -1), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, 10), -EINVAL);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, 10),
			 -EINVAL);
	ck_assert_int_eq(qb_log_ctl(t, QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, 0), 0);
	qb_log_file_close(t);
}
END_TEST

/* ---- item: rotation ------------------------------------------------- */

/* Log until @p file has a line with @p needle (the reopen happened);
 * returns the number of messages logged. */
static long log_until(const char *file, const char *needle, int threaded)
{
	long n = 0;

	while (count_in(file, needle) == 0) {
		qb_log(LOG_INFO, "%s %ld", needle, n);
		n++;
		if (threaded || n % 16 == 0)
			usleep(1000);
		ck_assert_int_lt(n, 200000); /* hang guard, not a timing */
	}
	return n;
}

static void rename_rotation(int threaded)
{
	long before = 1000, during, after = 1000, i;

	target_open(threaded, 1);
	for (i = 0; i < before; i++)
		qb_log(LOG_INFO, "rot %ld", i);
	if (threaded)
		usleep(1000); /* not needed for the count, only variety */
	ck_assert_int_eq(rename(path, rotated), 0);
	/* logrotate's "create": a new empty file at the path */
	close(open(path, O_WRONLY | O_CREAT | O_EXCL, 0600));
	during = log_until(path, "rot", threaded);
	for (i = 0; i < after; i++)
		qb_log(LOG_INFO, "rot after %ld", i);
	qb_log_fini(); /* drains the log thread */
	ck_assert_int_eq(count_in(rotated, "rot") + count_in(path, "rot"), before + during + after);
	ck_assert_int_gt(count_in(path, "rot after"), 0);
	qb_log_init("check_log_file", LOG_USER, LOG_INFO);
}

START_TEST(test_rotate_rename)
{
	rename_rotation(0);
}
END_TEST

START_TEST(test_rotate_rename_threaded)
{
	rename_rotation(1);
}
END_TEST

START_TEST(test_rotate_removed)
{
	long before = 500, during, i;
	int old_fd;
	char oldp[64];

	target_open(0, 1);
	for (i = 0; i < before; i++)
		qb_log(LOG_INFO, "rm %ld", i);
	/* keep the old inode readable to count what went there */
	old_fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(old_fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	during = log_until(path, "rm", 0);
	qb_log_fini();
	snprintf(oldp, sizeof(oldp), "/proc/self/fd/%d", old_fd);
	ck_assert_int_eq(count_in(oldp, "rm") + count_in(path, "rm"), before + during);
	close(old_fd);
	qb_log_init("check_log_file", LOG_USER, LOG_INFO);
}
END_TEST

START_TEST(test_copytruncate)
{
	char cmd[400];
	ino_t ino;
	long i;
	int fd;
	char c;

	target_open(0, 1);
	for (i = 0; i < 300; i++)
		qb_log(LOG_INFO, "ct %ld", i);
	ino = ino_of(path);
	snprintf(cmd, sizeof(cmd), "cp %s %s", path, rotated);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(truncate(path, 0), 0);
	for (i = 0; i < 200; i++)
		qb_log(LOG_INFO, "ct %ld", i);
	ck_assert_int_eq(count_in(rotated, "ct"), 300);
	ck_assert_int_eq(count_in(path, "ct"), 200);
	/* appended at the new end: no hole of zeros at the start */
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	ck_assert_int_eq(c, '[');
	close(fd);
	ck_assert_uint_eq(ino_of(path), ino);
}
END_TEST

/* A long interval: after the first check the target writes on to the
 * renamed file, nothing is looked at per message. */
START_TEST(test_interval_bounds_checks)
{
	long i;

	target_open(0, 3600 * 1000);
	qb_log(LOG_INFO, "iv first"); /* the first message checks */
	ck_assert_int_eq(rename(path, rotated), 0);
	for (i = 0; i < 100; i++)
		qb_log(LOG_INFO, "iv %ld", i);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(count_in(rotated, "iv"), 101);
	/* a request overrides the interval */
	qb_log_file_reopen_request();
	qb_log(LOG_INFO, "iv requested");
	ck_assert_int_eq(count_in(path, "iv requested"), 1);
}
END_TEST

/* ---- item: reopen request from a signal handler ---------------------- */

static void on_hup(int sig)
{
	qb_log_file_reopen_request();
}

static void request_rotation(int threaded)
{
	struct sigaction sa = {.sa_handler = on_hup};
	struct sigaction old;
	long i;

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGHUP, &sa, &old), 0);
	target_open(threaded, -1); /* no periodic check */
	for (i = 0; i < 100; i++)
		qb_log(LOG_INFO, "hup %ld", i);
	ck_assert_int_eq(rename(path, rotated), 0);
	ck_assert_int_eq(raise(SIGHUP), 0);
	for (i = 0; i < 50; i++)
		qb_log(LOG_INFO, "hup after %ld", i);
	qb_log_fini();
	ck_assert_int_eq(count_in(rotated, "hup") + count_in(path, "hup"), 150);
	if (!threaded) {
		/* the next message after the request went to the new file */
		ck_assert_int_eq(count_in(rotated, "hup"), 100);
		ck_assert_int_eq(count_in(path, "hup after"), 50);
	} else {
		ck_assert_int_gt(count_in(path, "hup after"), 0);
	}
	sigaction(SIGHUP, &old, NULL);
	qb_log_init("check_log_file", LOG_USER, LOG_INFO);
}

START_TEST(test_request_from_sighup)
{
	request_rotation(0);
}
END_TEST

START_TEST(test_request_from_sighup_threaded)
{
	request_rotation(1);
}
END_TEST

/* Without the option or a request nothing changes (upstream behaviour):
 * the target writes on to the renamed file. */
START_TEST(test_default_does_not_follow)
{
	long i;

	target_open(0, -1);
	qb_log(LOG_INFO, "df first");
	ck_assert_int_eq(rename(path, rotated), 0);
	for (i = 0; i < 20; i++)
		qb_log(LOG_INFO, "df %ld", i);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(count_in(rotated, "df"), 21);
}
END_TEST

/* ---- the real logrotate ---------------------------------------------- */

/* Rotate @p path with logrotate(8) using @p directive ("create" or
 * "copytruncate"); 0 when logrotate is not installed. */
static int logrotate_run(const char *directive)
{
	char conf[160], cmd[512];
	FILE *fp;

	if (access("/usr/sbin/logrotate", X_OK) != 0)
		return 0;
	snprintf(conf, sizeof(conf), "%s/lr.conf", dir);
	fp = fopen(conf, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "%s {\n\trotate 2\n\t%s\n\tnocompress\n\tmissingok\n}\n", path, directive);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "/usr/sbin/logrotate -f -s %s/lr.state %s", dir, conf);
	ck_assert_int_eq(system(cmd), 0);
	unlink(conf);
	snprintf(cmd, sizeof(cmd), "%s/lr.state", dir);
	unlink(cmd);
	return 1;
}

static void logrotate_case(const char *directive, int threaded)
{
	long before = 500, during, after = 500, i;

	target_open(threaded, 1);
	for (i = 0; i < before; i++)
		qb_log(LOG_INFO, "lr %ld", i);
	if (!logrotate_run(directive))
		return; /* no logrotate here */
	during = log_until(path, "lr", threaded);
	for (i = 0; i < after; i++)
		qb_log(LOG_INFO, "lr after %ld", i);
	qb_log_fini();
	ck_assert_int_eq(count_in(rotated, "lr") + count_in(path, "lr"), before + during + after);
	ck_assert_int_eq(count_in(rotated, "lr after"), 0);
	qb_log_init("check_log_file", LOG_USER, LOG_INFO);
}

START_TEST(test_logrotate_create)
{
	logrotate_case("create 0600", 0);
}
END_TEST

START_TEST(test_logrotate_create_threaded)
{
	logrotate_case("create 0600", 1);
}
END_TEST

START_TEST(test_logrotate_copytruncate)
{
	logrotate_case("copytruncate", 0);
}
END_TEST

/* ---- many writers, repeated rotation -------------------------------- */

#define WRITERS 4
#define PER_WRITER 20000

static void *writer(void *arg)
{
	long i, id = (long)arg;

	for (i = 0; i < PER_WRITER; i++) {
		qb_log(LOG_INFO, "mw %ld %ld", id, i);
		if (i % 64 == 0)
			sched_yield();
	}
	return NULL;
}

static void many_writers(int threaded)
{
	pthread_t th[WRITERS];
	char p[160];
	long i, total = 0;
	int k;

	target_open(threaded, 1);
	for (i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	for (k = 2; k < 8; k++) {
		usleep(5000);
		snprintf(p, sizeof(p), "%s.%d", path, k);
		rename(path, p);
		if (k % 2 == 0)
			qb_log_file_reopen_request();
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	qb_log_fini();
	total = count_in(path, "mw");
	for (k = 2; k < 8; k++) {
		snprintf(p, sizeof(p), "%s.%d", path, k);
		total += count_in(p, "mw");
	}
	ck_assert_int_eq(total, WRITERS * PER_WRITER);
	qb_log_init("check_log_file", LOG_USER, LOG_INFO);
}

START_TEST(test_many_writers_rotating)
{
	many_writers(0);
}
END_TEST

START_TEST(test_many_writers_rotating_threaded)
{
	many_writers(1);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_line_bytes),
		CK_TEST(test_user_stream_order),
		CK_TEST(test_open_mode),
		CK_TEST(test_reopen_ctl_args),
		CK_TEST(test_rotate_rename),
		CK_TEST(test_rotate_rename_threaded),
		CK_TEST(test_rotate_removed),
		CK_TEST(test_copytruncate),
		CK_TEST(test_interval_bounds_checks),
		CK_TEST(test_request_from_sighup),
		CK_TEST(test_request_from_sighup_threaded),
		CK_TEST(test_default_does_not_follow),
		CK_TEST(test_logrotate_create),
		CK_TEST(test_logrotate_create_threaded),
		CK_TEST(test_logrotate_copytruncate),
		CK_TEST(test_many_writers_rotating),
		CK_TEST(test_many_writers_rotating_threaded),
	};
	const struct ck_opts opts = {
		.timeout = 120,
		.setup = setup,
		.teardown = teardown,
	};

	return CK_MAIN("log_file", &opts, tests);
}
