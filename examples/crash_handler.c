/*
 * crash_handler: keep the blackbox when the program crashes.
 *
 * On SIGSEGV, SIGBUS or SIGABRT the handler writes the blackbox to a file
 * with qb_log_blackbox_write_to_file() (async-signal-safe in this library:
 * no malloc, no locks, only open/write/close) and then raises the signal
 * again with the default action restored, so the process still dies the
 * usual way and a core dump is still produced where enabled.
 *
 * usage: crash_handler DIR segv|bus|abort|none [IDENT]
 *   writes DIR/crash_handler-<pid>.dump when it crashes; IDENT (default
 *   "crash_handler") names the blackbox.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include <qb/qblog.h>

/* Prepared before any crash: a handler must not build strings. */
static char dump_path[PATH_MAX];

static void on_crash(int sig)
{
	(void)qb_log_blackbox_write_to_file(dump_path);
	/* SA_RESETHAND restored the default action; the signal is blocked
	 * while we run, so it is delivered (and kills us) when we return. */
	raise(sig);
}

static int install_crash_handler(const char *dir)
{
	static char altstack[64 * 1024];	/* survives a stack overflow */
	const int sigs[] = { SIGSEGV, SIGBUS, SIGABRT };
	struct sigaction sa;
	stack_t ss;
	size_t i;

	snprintf(dump_path, sizeof(dump_path), "%s/crash_handler-%d.dump", dir, (int)getpid());
	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) != 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* a page nothing may touch: a real SIGSEGV even in sanitizer builds,
	 * where UBSan would stop a NULL store before it faults */
	volatile int *nowhere = mmap(NULL, 4096, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s DIR segv|bus|abort|none [IDENT]\n", argv[0]);
		return 2;
	}
	qb_log_init(argc == 4 ? argv[3] : "crash_handler", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 65536);
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) != 0 ||
	    install_crash_handler(argv[1]) != 0) {
		perror("crash_handler: setup");
		return 1;
	}
	qb_log(LOG_INFO, "crash_handler %d starting", (int)getpid());
	for (i = 1; i <= 3; i++) {
		qb_log(LOG_DEBUG, "working on step %d of 3", i);
	}
	qb_log(LOG_WARNING, "about to %s", argv[2]);
	if (strcmp(argv[2], "segv") == 0) {
		*nowhere = 42;
	} else if (strcmp(argv[2], "bus") == 0) {
		raise(SIGBUS);
	} else if (strcmp(argv[2], "abort") == 0) {
		abort();
	}
	qb_log(LOG_INFO, "finished without crashing");
	qb_log_fini();
	return 0;
}
