/*
 * Helper program for the blackbox shell tests (linked to our library).
 *
 *   bb_helper hold IDENT TAG DUMP   enable a blackbox, log "message from TAG",
 *                                   print "ready <pid>", wait for EOF on stdin,
 *                                   log again, dump our own blackbox to DUMP,
 *                                   exit (keeping the files unless DUMP is "-")
 *   bb_helper dump FILE             log three messages and dump them to FILE
 *   bb_helper fds LOGFILE RESULT    fd hygiene checks with fds 0-2 closed
 *   bb_helper listfds               (exec'd by "fds") report inherited fds
 *   bb_helper stress FORKS [END [SIZE]]
 *                                   fork stress of a multithreaded logger
 *                                   (blackbox of SIZE bytes, default 65536)
 *                                   whose children log and END: fini (call
 *                                   qb_log_fini, then _exit; the default),
 *                                   exit, _exit, crash (SIGSEGV), exec
 *                                   (exec /bin/true without logging) or
 *                                   resize (QB_LOG_CONF_SIZE 16384, then
 *                                   log and exit); prints
 *                                   the peak count and bytes of the run's
 *                                   blackbox files in /dev/shm (ident
 *                                   bbstressPID, or $BB_STRESS_IDENT;
 *                                   BB_STRESS_THREADS=0: no logger threads)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

static int setup_log(const char *ident, size_t size)
{
	qb_log_init(ident, LOG_USER, LOG_TRACE);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, (int32_t)size);
	return qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
}

static int do_hold(const char *ident, const char *tag, const char *dump)
{
	char buf[64];
	int rc;

	rc = setup_log(ident, 65536);
	if (rc != 0) {
		fprintf(stderr, "bb_helper: enable failed: %d\n", rc);
		return 2;
	}
	qb_log(LOG_INFO, "message from %s (pid %d)", tag, (int)getpid());
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
	}
	qb_log(LOG_NOTICE, "goodbye from %s", tag);
	if (strcmp(dump, "-") != 0) {
		if (qb_log_blackbox_write_to_file(dump) <= 0) {
			return 3;
		}
		return 0; /* no fini: the blackbox stays behind, owner dead */
	}
	qb_log_fini();
	return 0;
}

static int do_dump(const char *file)
{
	if (setup_log("bb_helper", 16384) != 0) {
		return 2;
	}
	qb_log(LOG_INFO, "first %d", 1);
	qb_log(LOG_WARNING, "second %s", "two");
	qb_log(LOG_ERR, "third %.1f", 3.0);
	if (qb_log_blackbox_write_to_file(file) <= 0) {
		return 3;
	}
	qb_log_fini();
	return 0;
}

/* ------------------------------------------------------------ fd hygiene */

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Remembers the fds we were started with (the harness's, not ours). */
static void note_preexisting_fds(void)
{
	char list[1024] = ",";
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	size_t len;

	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || atoi(de->d_name) <= 2 || atoi(de->d_name) == dirfd(d)) {
			continue;
		}
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s,", de->d_name);
	}
	closedir(d);
	setenv("BB_PREEXISTING_FDS", list, 1);
}

static int do_fds(const char *logfile, const char *result, const char *self)
{
	int res;
	int rc = 0;
	int fd;
	int32_t t;

	note_preexisting_fds();
	close(STDIN_FILENO);
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	if (setup_log("bb_fds", 16384) != 0) {
		rc |= 1;
	}
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	t = qb_log_file_open(logfile);
	if (t < 0) {
		rc |= 2;
	} else {
		qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
		qb_log_format_set(t, "FILE %b");
		qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	qb_log_format_set(QB_LOG_STDERR, "STDERR %b");
	qb_log(LOG_INFO, "hygiene message %d", 1);
	qb_log(LOG_INFO, "hygiene message %d", 2);
	/* nothing of ours may sit on 0, 1 or 2 */
	for (fd = 0; fd <= 2; fd++) {
		if (fd_open(fd)) {
			rc |= 4;
		}
	}
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_FALSE);
	/* give the exec'd child a stdin and stdout: /dev/null and result */
	fd = open("/dev/null", O_RDONLY);			/* becomes 0 */
	res = open(result, O_WRONLY | O_CREAT | O_TRUNC, 0600); /* becomes 1 */
	if (fd != 0 || res != 1) {
		rc |= 8;
	}
	dprintf(res, "status %d\n", rc);
	execl(self, self, "listfds", (char *)NULL);
	dprintf(res, "exec failed: %s\n", strerror(errno));
	return 1;
}

/* Reports every fd beyond 0 and 1 that survived exec. */
static int do_listfds(void)
{
	char path[64], target[512];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int dfd = d ? dirfd(d) : -1;
	const char *pre = getenv("BB_PREEXISTING_FDS");
	char key[32];
	int leaks = 0;
	ssize_t n;
	int fd;

	if (d == NULL) {
		printf("cannot list fds\n");
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.') {
			continue;
		}
		fd = atoi(de->d_name);
		snprintf(key, sizeof(key), ",%d,", fd);
		if (fd <= 1 || fd == dfd || (pre != NULL && strstr(pre, key) != NULL)) {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		printf("LEAK fd %d -> %s\n", fd, target);
		leaks++;
	}
	closedir(d);
	printf("pid %d\nleaks %d\n", (int)getpid(), leaks);
	return leaks ? 1 : 0;
}

/* ---------------------------------------------------------- fork stress */

static atomic_int stop_threads;

static void *stress_logger(void *arg)
{
	long id = (long)arg;
	unsigned long i = 0;
	struct timespec pause = {0, 20000};

	while (!atomic_load(&stop_threads)) {
		qb_log(LOG_INFO, "thread %ld message %lu", id, i++);
		if ((i & 7) == 0) {
			nanosleep(&pause, NULL);
		}
	}
	return NULL;
}

/* Ident of this stress run: unique, so concurrent runs never mix. */
static char stress_ident[32];

enum stress_end { END_FINI, END_EXIT, END__EXIT, END_CRASH, END_EXEC, END_RESIZE };

static int stress_end_parse(const char *s, enum stress_end *out)
{
	static const char *const names[] = {"fini", "exit", "_exit", "crash", "exec", "resize"};
	int i;

	for (i = 0; i < 6; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum stress_end)i;
			return 0;
		}
	}
	return -1;
}

#define STRESS_CHILD_SIZE 16384

/* 0 when our own blackbox has the size the child asked for. */
static int stress_own_data_size(void)
{
	char pat[128];
	struct stat st;
	glob_t g;
	int rc = -1;

	snprintf(pat, sizeof(pat), "/dev/shm/qb-%s-%d-*-blackbox-data", stress_ident,
		 (int)getpid());
	if (glob(pat, 0, NULL, &g) != 0) {
		return -1;
	}
	if (g.gl_pathc == 1 && stat(g.gl_pathv[0], &st) == 0 && st.st_size >= STRESS_CHILD_SIZE &&
	    st.st_size < 2 * STRESS_CHILD_SIZE) {
		rc = 0;
	}
	globfree(&g);
	return rc;
}

/* In the child: log, check our blackbox carries our pid, finish. */
static void stress_child(long fork_no, enum stress_end end)
{
	struct rlimit no_core = {0, 0};
	char pat[128];
	glob_t g;
	int i;
	int ok = 1;

	if (end == END_EXEC) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(6);
	}
	if (end == END_RESIZE &&
	    qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, STRESS_CHILD_SIZE) != 0) {
		_exit(8);
	}
	for (i = 0; i < 5; i++) {
		qb_log(LOG_INFO, "child %d fork %ld message %d", (int)getpid(), fork_no, i);
	}
	if (end == END_RESIZE && fork_no % 50 == 0 && stress_own_data_size() != 0) {
		_exit(9);
	}
	if (fork_no % 50 == 0) {
		snprintf(pat, sizeof(pat), "/dev/shm/qb-%s-%d-*-blackbox-header", stress_ident,
			 (int)getpid());
		ok = glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1;
		if (ok || g.gl_pathc) {
			globfree(&g);
		}
	}
	switch (end) {
	case END_FINI:
		qb_log_fini();
		_exit(ok ? 0 : 5);
	case END_EXIT:
	case END_RESIZE:
		exit(ok ? 0 : 5);
	case END_CRASH:
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		_exit(7);
	default:
		_exit(ok ? 0 : 5);
	}
}

/* Files of this run in /dev/shm: count and allocated bytes. */
static void stress_shm_usage(long *files, long long *bytes)
{
	char prefix[64];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/dev/shm");

	*files = 0;
	*bytes = 0;
	if (d == NULL) {
		return;
	}
	snprintf(prefix, sizeof(prefix), "qb-%s-", stress_ident);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			continue;
		}
		(*files)++;
		*bytes += (long long)st.st_blocks * 512;
	}
	closedir(d);
}

/* No child may remove the parent's blackbox, however it ends. */
static int stress_parent_box_present(void)
{
	char pat[128];
	glob_t g;
	int n;

	snprintf(pat, sizeof(pat), "/dev/shm/qb-%s-%d-*-blackbox-header", stress_ident,
		 (int)getpid());
	if (glob(pat, 0, NULL, &g) != 0) {
		return 0;
	}
	n = (int)g.gl_pathc;
	globfree(&g);
	return n == 1;
}

static int do_stress(long forks, enum stress_end end, long size)
{
	long files, peak_files = 0;
	long long bytes, peak_bytes = 0;
	pthread_t th[3];
	long i, hangs = 0, crashes = 0, failures = 0;
	struct timespec t0, t1, nap = {0, 1000000};
	int status;
	pid_t pid, w;
	int32_t f1, f2;
	int waited;
	/* BB_STRESS_THREADS=0: a single-threaded parent (sanitizer builds) */
	int threads = getenv("BB_STRESS_THREADS") ? atoi(getenv("BB_STRESS_THREADS")) : 3;

	threads = threads < 0 ? 0 : threads > 3 ? 3 : threads;
	if (getenv("BB_STRESS_IDENT") != NULL) {
		snprintf(stress_ident, sizeof(stress_ident), "%s", getenv("BB_STRESS_IDENT"));
	} else {
		snprintf(stress_ident, sizeof(stress_ident), "bbstress%d", (int)getpid());
	}
	printf("ident %s\n", stress_ident);
	fflush(stdout);
	if (setup_log(stress_ident, (size_t)size) != 0) {
		return 2;
	}
	f1 = qb_log_file_open("/dev/null");
	f2 = qb_log_file_open("/dev/null");
	if (f1 < 0 || f2 < 0) {
		return 2;
	}
	qb_log_filter_ctl(f1, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_filter_ctl(f2, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(f1, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log_ctl(f2, QB_LOG_CONF_THREADED, threads > 0);
	qb_log_ctl(f2, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (threads > 0 && qb_log_thread_start() != 0) {
		return 2;
	}
	for (i = 0; i < threads; i++) {
		pthread_create(&th[i], NULL, stress_logger, (void *)i);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < forks; i++) {
		pid = fork();
		if (pid < 0) {
			failures++;
			continue;
		}
		if (pid == 0) {
			stress_child(i, end);
		}
		/* per-child timeout: 10 s */
		for (waited = 0; (w = waitpid(pid, &status, WNOHANG)) == 0 && waited < 10000;
		     waited++) {
			nanosleep(&nap, NULL);
		}
		if (w == 0) {
			if (getenv("BB_STRESS_GDB") != NULL) {
				char cmd[128];

				snprintf(cmd, sizeof(cmd),
					 "gdb -q -batch -p %d -ex 'thread apply all bt' >&2",
					 (int)pid);
				if (system(cmd) != 0) {
					fprintf(stderr, "gdb failed\n");
				}
			}
			hangs++;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "fork %ld: child %d hung\n", i, (int)pid);
			continue;
		}
		if (i % 100 == 99 || i == forks - 1) {
			if (!stress_parent_box_present()) {
				failures++;
				fprintf(stderr, "fork %ld: the parent's blackbox is gone\n", i);
			}
			stress_shm_usage(&files, &bytes);
			peak_files = files > peak_files ? files : peak_files;
			peak_bytes = bytes > peak_bytes ? bytes : peak_bytes;
		}
		if (end == END_CRASH && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
			continue;
		}
		if (WIFSIGNALED(status)) {
			crashes++;
			fprintf(stderr, "fork %ld: child %d died of signal %d\n", i, (int)pid,
				WTERMSIG(status));
		} else if (WEXITSTATUS(status) != 0) {
			failures++;
			fprintf(stderr, "fork %ld: child %d exit %d\n", i, (int)pid,
				WEXITSTATUS(status));
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_store(&stop_threads, 1);
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
	}
	qb_log_fini();
	printf("peak_files %ld peak_bytes %lld\n", peak_files, peak_bytes);
	printf("forks %ld hangs %ld crashes %ld failures %ld seconds %.1f\n", forks, hangs, crashes,
	       failures, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return (hangs || crashes || failures) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "hold") == 0) {
		return do_hold(argv[2], argv[3], argv[4]);
	}
	if (argc == 3 && strcmp(argv[1], "dump") == 0) {
		return do_dump(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "fds") == 0) {
		return do_fds(argv[2], argv[3], "/proc/self/exe");
	}
	if (argc == 2 && strcmp(argv[1], "listfds") == 0) {
		return do_listfds();
	}
	if (argc >= 3 && argc <= 5 && strcmp(argv[1], "stress") == 0) {
		enum stress_end end = END_FINI;

		if (argc >= 4 && stress_end_parse(argv[3], &end) != 0) {
			fprintf(stderr, "bb_helper: unknown END %s\n", argv[3]);
			return 2;
		}
		return do_stress(atol(argv[2]), end, argc == 5 ? atol(argv[4]) : 65536);
	}
	fprintf(stderr, "usage: see the comment at the top of bb_helper.c\n");
	return 2;
}
