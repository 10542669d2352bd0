/*
 * demo_daemon: a tiny "daemon" for `make demo`.
 *
 * A supervisor process enables the blackbox, logs, and forks a worker (as
 * daemons do). The worker never calls qb_log_reflect_pid(): the library's
 * fork handlers give it its own blackbox named after its own pid, holding a
 * copy of what the supervisor logged before the fork. The worker then logs
 * requests until it is told (through files in DIR) to crash or to stop.
 * A crash is caught by a handler that dumps the blackbox to DIR and lets the
 * process die of the signal.
 *
 * usage: demo_daemon NAME DIR
 *   DIR/NAME.ready     written by the worker once it runs ("<pid> <header>")
 *   DIR/NAME.crash     make the worker crash (SIGSEGV)
 *   DIR/stop           make everybody finish cleanly
 *   DIR/NAME-worker-crash.dump   written by the crash handler
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

static char dump_path[PATH_MAX];

static void on_crash(int sig)
{
	(void)qb_log_blackbox_write_to_file(dump_path);
	raise(sig);	/* default action again (SA_RESETHAND): die as usual */
}

static void catch_crashes(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
}

static int exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static void nap(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Our own blackbox is the -blackbox-header file we have mapped. */
static void own_blackbox(char *out, size_t len)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "r");
	char *p;

	out[0] = '\0';
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		p = strchr(line, '/');
		if (p != NULL && strstr(p, "-blackbox-header") != NULL) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(out, len, "%s", p);
			break;
		}
	}
	fclose(f);
}

static int worker(const char *name, const char *dir)
{
	char crash_flag[NAME_MAX], path[PATH_MAX], mine[PATH_MAX];
	volatile int *nowhere = NULL;
	FILE *f;
	int i;

	snprintf(dump_path, sizeof(dump_path), "%s/%s-worker-crash.dump", dir, name);
	snprintf(crash_flag, sizeof(crash_flag), "%s.crash", name);
	qb_log(LOG_INFO, "[%s] worker started; getpid() says %d", name, (int)getpid());
	snprintf(path, sizeof(path), "%s/%s.ready", dir, name);
	f = fopen(path, "w");
	if (f != NULL) {
		own_blackbox(mine, sizeof(mine));
		fprintf(f, "%d %s\n", (int)getpid(), mine);
		fclose(f);
	}
	for (i = 1; i <= 150; i++) {	/* at most ~15 s */
		if (i <= 3) {
			qb_log(LOG_INFO, "[%s] worker handling request %d", name, i);
		}
		if (exists(dir, crash_flag)) {
			qb_log(LOG_ERR, "[%s] worker about to dereference NULL", name);
			*nowhere = 1;
		}
		if (exists(dir, "stop")) {
			break;
		}
		nap();
	}
	qb_log(LOG_INFO, "[%s] worker stopping", name);
	qb_log_fini();
	return 0;
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NAME DIR\n", argv[0]);
		return 2;
	}
	qb_log_init("demo", LOG_DAEMON, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 16384);
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) != 0) {
		fprintf(stderr, "demo_daemon: no blackbox\n");
		return 1;
	}
	catch_crashes();
	qb_log(LOG_NOTICE, "[%s] supervisor %d starting, forking a worker", argv[1],
	       (int)getpid());
	pid = fork();
	if (pid == 0) {
		return worker(argv[1], argv[2]);
	}
	qb_log(LOG_INFO, "[%s] supervisor: worker is pid %d", argv[1], (int)pid);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		qb_log(LOG_CRIT, "[%s] supervisor: worker %d died of signal %d", argv[1],
		       (int)pid, WTERMSIG(status));
	}
	for (i = 0; i < 150 && !exists(argv[2], "stop"); i++) {
		nap();
	}
	qb_log_fini();
	return 0;
}
