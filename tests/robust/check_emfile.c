/*
 * check_emfile.c - a server out of descriptors must not spin.
 *
 * The server runs with RLIMIT_NOFILE 32; silent clients (connected, never
 * sending the handshake) use up its descriptors and more wait in the
 * backlog. Over the next two seconds the server must stay (nearly) idle:
 * few poll wake-ups and little CPU time (resource assertions with generous
 * bounds: a spinning server wakes up tens of thousands of times), and a
 * client connected before keeps getting answers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include "../unit/check_common.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qblog.h>

#include "../unit/ipc_test_server.h"
#include "../unit/ipc_test_util.h"

#define SERVER_NOFILE 32
#define SILENT_CLIENTS 60
#define INTERVAL_US 2000000

static const enum qb_ipc_type transports[] = {QB_IPC_SOCKET, QB_IPC_SHM};
static char svc[64];
static pid_t server_pid = -1;
static volatile unsigned long *shared; /* [0] wake-ups, [1] EMFILE logs */

static void count_logs(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	if (strstr(msg, "cannot accept")) {
		shared[1]++;
	}
}

/* Count the server's "cannot accept" messages (libqb's own log). */
static void log_setup(void)
{
	int32_t t;

	qb_log_init("emfile", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	t = qb_log_custom_open(count_logs, NULL, NULL, NULL);
	if (t < 0) {
		_exit(7);
	}
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
}

/* in the server child: few descriptors, wakeups and log messages counted */
static void emfile_setup(void *wakeups)
{
	struct rlimit rl = {SERVER_NOFILE, SERVER_NOFILE};

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		_exit(9);
	}
	tl_wakeups = wakeups;
	log_setup();
}

static void server_start(enum qb_ipc_type type, volatile unsigned long *wakeups)
{
	snprintf(svc, sizeof(svc), "qbemfile-%d-%d", (int)getpid(), (int)type);
	ipc_test_server_spawn(&server_pid, svc, type, emfile_setup, (void *)wakeups);
}

/* user + system time of a process, in clock ticks */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	char *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert(f != NULL);
	ck_assert(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	p = strrchr(buf, ')');
	ck_assert(p != NULL);
	/* fields after the command: state(3) ... utime(14) stime(15) */
	ck_assert_int_eq(sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu",
				&ut, &st),
			 2);
	return (long)(ut + st);
}

static int silent_connect(void)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ipc_test_abstract_addr(&a, svc);
	/* the backlog takes them even when the server cannot accept */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void echo(qb_ipcc_connection_t *c)
{
	struct {
		struct qb_ipc_request_header h;
		char d[16];
	} m;
	char buf[256];
	ssize_t r;

	memset(&m, 0, sizeof(m));
	m.h.id = IPC_T_ECHO;
	m.h.size = sizeof(m);
	strcpy(m.d, "still here");
	ck_assert_int_eq(qb_ipcc_send(c, &m, sizeof(m)), sizeof(m));
	r = qb_ipcc_recv(c, buf, sizeof(buf), 5000);
	ck_assert_int_eq(r, sizeof(struct qb_ipc_response_header) + 16);
	ck_assert_str_eq(buf + sizeof(struct qb_ipc_response_header), "still here");
}

START_TEST(test_emfile_no_spin)
{
	volatile unsigned long *wakeups =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	shared = wakeups;
	long hz = sysconf(_SC_CLK_TCK);
	int silent[SILENT_CLIENTS];
	qb_ipcc_connection_t *c;
	unsigned long w0, w1;
	long t0, t1;
	int status;

	ck_assert(wakeups != MAP_FAILED);
	server_start(transports[_i], wakeups);
	c = qb_ipcc_connect(svc, 8192);
	ck_assert(c != NULL);
	echo(c);
	for (int i = 0; i < SILENT_CLIENTS; i++) {
		silent[i] = silent_connect();
	}
	usleep(300000); /* let the server run into the limit */
	w0 = *wakeups;
	t0 = cpu_ticks(server_pid);
	usleep(INTERVAL_US);
	w1 = *wakeups;
	t1 = cpu_ticks(server_pid);
	printf("%s: %lu wake-ups, %.2f s CPU in %.1f s out of descriptors\n",
	       transports[_i] == QB_IPC_SHM ? "shm" : "socket", w1 - w0,
	       (double)(t1 - t0) / (double)hz, INTERVAL_US / 1e6);
	fflush(stdout);
	ck_assert_msg(w1 - w0 < 200, "server woke up %lu times", w1 - w0);
	ck_assert_msg((t1 - t0) * 2 < hz * (INTERVAL_US / 1000000), "server used %ld ticks of CPU",
		      t1 - t0);
	echo(c);
	ck_assert_int_eq(shared[1], 1); /* logged once, not per attempt */
	qb_ipcc_disconnect(c);
	for (int i = 0; i < SILENT_CLIENTS; i++) {
		if (silent[i] >= 0) {
			close(silent[i]);
		}
	}
	kill(server_pid, SIGTERM);
	ck_assert_int_eq(waitpid(server_pid, &status, 0), server_pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server status %d", status);
	munmap((void *)wakeups, 4096);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_LOOP(test_emfile_no_spin, 0, 2),
	};
	const struct ck_opts opts = {
		.timeout = 60,
	};

	return CK_MAIN("emfile", &opts, tests);
}
