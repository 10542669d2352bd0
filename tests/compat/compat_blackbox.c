/*
 * Blackbox dumps across libraries. Built against the distro headers.
 *
 *   compat_blackbox                 write a dump and print it (compat run)
 *   compat_blackbox write FILE      log the message set, dump it to FILE
 *   compat_blackbox print FILE      print FILE with qb_log_blackbox_print_from_file
 *
 * Live writers for the qb-blackbox tests (either library, by LD_LIBRARY_PATH);
 * each prints "ready <pid>" once its blackbox exists:
 *   compat_blackbox spin IDENT SIZE SECONDS   log "seq N x.." (N = 0, 1, ...) as fast
 *                                             as it can for SECONDS
 *   compat_blackbox tick IDENT N MS           log "tick I <CLOCK_MONOTONIC ns>"
 *                                             N times, MS ms apart, then exit
 *   compat_blackbox burst IDENT SIZE N        on each line read from stdin, log
 *                                             "burst N" records "b J"; exit on EOF
 *
 * The message set avoids the writer quirks that the distro library gets
 * wrong on purpose (%% mis-parsing, sticky precision, h modifiers, the
 * "too long" length), so both writers store the same records.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <qb/qblog.h>

#include "../unit/format_sizes.h"

static void log_set(int rounds)
{
	int i;

	qb_log(LOG_INFO, "hello %d %s %c %p %f %ld %lld %zu %x|", 42, "str", 'Z', (void *)0x1234,
	       1.5, 7L, 8LL, (size_t)9, 255);
	qb_log(LOG_ERR, "error %s and %s", "one", (char *)NULL);
	qb_log(LOG_WARNING, "width [%8d] [%-8d] [%08.3f] [%*d] [%.*s]", 5, 6, 3.25, 4, 7, 3,
	       "abcdef");
	qb_log(LOG_DEBUG, "extended" QB_XS " info %d", 3);
	qb_log(LOG_TRACE, "trace %lu %zd %jd", 1UL, (ssize_t)-2, (intmax_t)3);
	qb_log(LOG_NOTICE, "notice %d/%u %05.1f%s", -77, 77u, 2.25, "!");
	qb_log(LOG_CRIT, "%e %g %a %E", 1234.5, 0.0001, 1.0, 2.5);
	qb_logt(LOG_ALERT, 5, "tagged %s", "msg");
	qb_log(LOG_EMERG, "trailing newline\n");
	qb_log(LOG_INFO, "%c%c%c", 'x', 'y', 'z');
	for (i = 0; i < rounds; i++) {
		qb_log(LOG_INFO, "round %d of %d: %s", i, rounds,
		       (i % 3) ? "short" : "a somewhat longer string to vary the chunk sizes");
	}
}

static int do_write(const char *file, size_t size, int rounds)
{
	ssize_t n;
	int saved, null;
	int rc;

	qb_log_init("compat_bb", LOG_USER, LOG_TRACE);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, size);
	rc = qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (rc != 0) {
		fprintf(stderr, "enable: %d\n", rc);
		return 1;
	}
	log_set(rounds);
	/* libqb prints the ring state while dumping; ours does not */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	n = qb_log_blackbox_write_to_file(file);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
	qb_log_fini();
	/* marker and ring-dump headers, then the rounded-up ring */
	printf("dump size %s\n", n == (ssize_t)BB_DUMP_SIZE(size) ? "ok" : "WRONG");
	return 0;
}

static int do_print(const char *file)
{
	int rc = qb_log_blackbox_print_from_file(file);

	/* libqb reports the normal end as -EIO; both mean "printed" */
	printf("print rc %s\n", rc <= 0 ? "<= 0" : "> 0");
	return 0;
}

static int live_setup(const char *ident, size_t size)
{
	qb_log_init(ident, LOG_USER, LOG_TRACE);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, size);
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) != 0) {
		return -1;
	}
	qb_log(LOG_INFO, "started");
	printf("ready %d\n", (int)getpid());
	return 0;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int do_spin(const char *ident, size_t size, int seconds)
{
	int64_t end = mono_ns() + (int64_t)seconds * 1000000000LL;
	unsigned int n = 0;

	if (live_setup(ident, size) != 0) {
		return 1;
	}
	while (mono_ns() < end) {
		for (int i = 0; i < 100; i++) {
			/* varying sizes: chunk boundaries of one lap meet
			 * those of another, as with real messages */
			qb_log(LOG_INFO, "seq %u %.*s", n, (int)(n % 13), "abcdefghijklm");
			n++;
		}
	}
	printf("wrote %u\n", n);
	qb_log_fini();
	return 0;
}

static int do_tick(const char *ident, int count, int ms)
{
	struct timespec pause = {ms / 1000, (long)(ms % 1000) * 1000000L};

	if (live_setup(ident, 65536) != 0) {
		return 1;
	}
	for (int i = 0; i < count; i++) {
		nanosleep(&pause, NULL);
		qb_log(LOG_NOTICE, "tick %d %lld", i, (long long)mono_ns());
	}
	return 0; /* no fini: the writer just goes away */
}

static int do_burst(const char *ident, size_t size, int count)
{
	char line[64];

	if (live_setup(ident, size) != 0) {
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		for (int i = 0; i < count; i++) {
			qb_log(LOG_INFO, "b %d", i);
		}
		printf("burst done\n");
	}
	qb_log_fini();
	return 0;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/compat_bb.XXXXXX";
	int fd;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "write") == 0) {
		return do_write(argv[2], 65536, 50);
	}
	if (argc == 4 && strcmp(argv[1], "write-small") == 0) {
		return do_write(argv[2], (size_t)atoi(argv[3]), 400);
	}
	if (argc == 5 && strcmp(argv[1], "spin") == 0) {
		return do_spin(argv[2], (size_t)atoi(argv[3]), atoi(argv[4]));
	}
	if (argc == 5 && strcmp(argv[1], "tick") == 0) {
		return do_tick(argv[2], atoi(argv[3]), atoi(argv[4]));
	}
	if (argc == 5 && strcmp(argv[1], "burst") == 0) {
		return do_burst(argv[2], (size_t)atoi(argv[3]), atoi(argv[4]));
	}
	if (argc == 3 && strcmp(argv[1], "print") == 0) {
		return do_print(argv[2]);
	}
	fd = mkstemp(tmpl);
	if (fd < 0) {
		return 2;
	}
	close(fd);
	rc = do_write(tmpl, 65536, 20);
	if (rc == 0) {
		rc = do_print(tmpl);
	}
	unlink(tmpl);
	return rc;
}
