/*
 * Blackbox dumps across libraries. Built against the distro headers.
 *
 *   compat_blackbox                 write a dump and print it (compat run)
 *   compat_blackbox write FILE      log the message set, dump it to FILE
 *   compat_blackbox print FILE      print FILE with qb_log_blackbox_print_from_file
 *
 * The message set avoids the writer quirks that the distro library gets
 * wrong on purpose (%% mis-parsing, sticky precision, h modifiers, the
 * "too long" length), so both writers store the same records.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <qb/qblog.h>

#include "../unit/format_sizes.h"

static void log_set(int rounds)
{
	int i;

	qb_log(LOG_INFO, "hello %d %s %c %p %f %ld %lld %zu %x|", 42, "str", 'Z',
	       (void *)0x1234, 1.5, 7L, 8LL, (size_t)9, 255);
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
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  LOG_TRACE);
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
	printf("dump size %s\n", n == (ssize_t)BB_DUMP_SIZE(size)
	       ? "ok" : "WRONG");
	return 0;
}

static int do_print(const char *file)
{
	int rc = qb_log_blackbox_print_from_file(file);

	/* libqb reports the normal end as -EIO; both mean "printed" */
	printf("print rc %s\n", rc <= 0 ? "<= 0" : "> 0");
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
