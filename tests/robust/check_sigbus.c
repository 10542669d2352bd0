/*
 * check_sigbus.c - a client that truncates the files of its connection
 * must not kill the server (issue: SIGBUS from client-owned mappings).
 *
 * A hostile client (forked) connects, the test stops the server, the client
 * posts a request and truncates one of its files, the server resumes and
 * touches the vanished pages while reading the request or writing the
 * response/event. The server must disconnect that client, stay up and
 * keep serving a new one. The guard itself is unit tested in-process too
 * (chaining to the previous handler, default action for foreign faults,
 * the opt-out).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include "../unit/check_common.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>

#include "ipc/ipc_internal.h"
#include "../unit/ipc_test_server.h"
#include "../unit/ipc_test_util.h"

#define BUF_SIZE (64 * 1024)
#define BIG_PAYLOAD (32 * 1024)

static char svc[64];
static pid_t server_pid = -1;

/* SIGBUS disposition before any guard (a sanitizer runtime has its own) */
static struct sigaction initial_bus;

static int initial_is_default(void)
{
	return !(initial_bus.sa_flags & SA_SIGINFO) && initial_bus.sa_handler == SIG_DFL;
}

static int same_action(const struct sigaction *a, const struct sigaction *b)
{
	return a->sa_handler == b->sa_handler; /* the union's one pointer */
}

/* in the server child: switch the SIGBUS guard off */
static void guard_off(void *unused)
{
	qb_ipcs_sigbus_handler_set(QB_FALSE);
}

static void server_start(enum qb_ipc_type type, int guard)
{
	static int n;

	snprintf(svc, sizeof(svc), "qbsigbus-%d-%d", (int)getpid(), n++);
	ipc_test_server_spawn(&server_pid, svc, type, guard ? NULL : guard_off, NULL);
}

static int server_stop(void)
{
	return ipc_test_server_stop(&server_pid);
}

/* Remove what a dead server left (only when the test already failed). */
static void conn_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	if (d) {
		closedir(d);
	}
	rmdir(dir);
}

static int send_msg(qb_ipcc_connection_t *c, int32_t id, size_t payload)
{
	size_t len = sizeof(struct qb_ipc_request_header) + payload;
	struct qb_ipc_request_header *h = calloc(1, len);
	ssize_t r;

	if (h == NULL) {
		return -ENOMEM;
	}
	h->id = id;
	h->size = (int32_t)len;
	memset(h + 1, 'x', payload);
	r = qb_ipcc_send(c, h, len);
	free(h);
	return r == (ssize_t)len ? 0 : -1;
}

/*
 * The hostile client: connect, wait for the server to be stopped, post the
 * request, truncate <dir>/<file> to `to` bytes, report, then wait to be
 * killed (an exit would hang up first and the server would never read).
 */
static void hostile_client(int to_parent, int from_parent, const char *file, off_t to, int32_t id,
			   size_t payload)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(svc, BUF_SIZE);
	char dir[512], path[1024];
	char b = 'C';

	if (c == NULL || write(to_parent, &b, 1) != 1 || read(from_parent, &b, 1) != 1) {
		_exit(10);
	}
	if (send_msg(c, id, payload) < 0) {
		_exit(11);
	}
	if (!ipc_test_conn_dir(server_pid, getpid(), dir, sizeof(dir))) {
		_exit(12);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (truncate(path, to) < 0) {
		_exit(13);
	}
	b = 'T';
	if (write(to_parent, &b, 1) != 1) {
		_exit(14);
	}
	for (;;) {
		pause();
	}
}

static int server_died;
static int server_status;

/* bounded wait for an event, not a speed assertion; stops if the server
 * died (server_died, server_status) */
static int wait_gone(const char *dir)
{
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		if (stat(dir, &st) < 0 && errno == ENOENT) {
			return 1;
		}
		if (waitpid(server_pid, &server_status, WNOHANG) == server_pid) {
			server_died = 1;
			return 0;
		}
		usleep(10000);
	}
	return 0;
}

static void round_trip(qb_ipcc_connection_t *c)
{
	char buf[BUF_SIZE];
	struct qb_ipc_response_header *res = (void *)buf;
	ssize_t r;

	ck_assert_int_eq(send_msg(c, IPC_T_ECHO, BIG_PAYLOAD), 0);
	r = qb_ipcc_recv(c, buf, sizeof(buf), 5000);
	ck_assert_int_eq(r, (ssize_t)(sizeof(*res) + BIG_PAYLOAD));
	ck_assert_int_eq(res->id, IPC_T_ECHO);
	ck_assert_int_eq(buf[sizeof(*res) + BIG_PAYLOAD - 1], 'x');
}

static void good_client_round_trip(void)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(svc, BUF_SIZE);

	ck_assert_msg(c != NULL, "a new client cannot connect: %s", strerror(errno));
	round_trip(c);
	qb_ipcc_disconnect(c);
}

struct scenario {
	enum qb_ipc_type type;
	const char *ring;   /* request, response, event, control */
	const char *suffix; /* -header, -data or "" */
	off_t to;
	int32_t id;
	size_t payload;
};

/* Returns the server's wait status if it died, 0 if it survived. */
static int run_scenario(const struct scenario *sc, int guard)
{
	int up[2], down[2];
	char file[256], dir[512];
	qb_ipcc_connection_t *bystander;
	pid_t cpid;
	char b = 0;
	int status = 0;
	int gone;

	server_start(sc->type, guard);
	snprintf(file, sizeof(file), "qb-%s-%s%s", sc->ring, svc, sc->suffix);
	cpid = ipc_test_peer_fork(up, down);
	if (cpid == 0) {
		hostile_client(up[1], down[0], file, sc->to, sc->id, sc->payload);
	}
	ck_assert_int_eq(read(up[0], &b, 1), 1);
	ck_assert_int_eq(b, 'C');
	ck_assert(ipc_test_conn_dir(server_pid, cpid, dir, sizeof(dir)));
	bystander = qb_ipcc_connect(svc, BUF_SIZE); /* an honest client */
	ck_assert(bystander != NULL);
	kill(server_pid, SIGSTOP);
	b = 'S';
	ck_assert_int_eq(write(down[1], &b, 1), 1);
	ck_assert_int_eq(read(up[0], &b, 1), 1);
	ck_assert_msg(b == 'T', "hostile client failed");
	kill(server_pid, SIGCONT);
	server_died = 0;
	gone = wait_gone(dir);
	if (server_died || waitpid(server_pid, &server_status, WNOHANG) == server_pid) {
		status = server_status;
		server_pid = -1;
		conn_dir_remove(dir);
	}
	kill(cpid, SIGKILL);
	waitpid(cpid, NULL, 0);
	close(up[0]);
	close(down[1]);
	if (status != 0) {
		qb_ipcc_disconnect(bystander); /* removes its dead rings */
		return status;
	}
	ck_assert_msg(gone, "%s: server kept the connection", file);
	round_trip(bystander); /* served on as before */
	qb_ipcc_disconnect(bystander);
	good_client_round_trip();
	status = server_stop();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server exit status %d",
		      status);
	return 0;
}

static const struct scenario scenarios[] = {
	/* SHM: mid-read (request ring), mid-write (response, event) */
	{QB_IPC_SHM, "request", "-header", 0, IPC_T_ECHO, 16},
	{QB_IPC_SHM, "request", "-data", 0, IPC_T_ECHO, 16},
	{QB_IPC_SHM, "request", "-data", 4096, IPC_T_ECHO, BIG_PAYLOAD},
	{QB_IPC_SHM, "response", "-header", 0, IPC_T_ECHO, 16},
	{QB_IPC_SHM, "response", "-data", 0, IPC_T_ECHO, 16},
	{QB_IPC_SHM, "response", "-data", 4096, IPC_T_ECHO, BIG_PAYLOAD},
	{QB_IPC_SHM, "event", "-header", 0, IPC_T_EVENT, 16},
	{QB_IPC_SHM, "event", "-data", 0, IPC_T_EVENT, 16},
	{QB_IPC_SHM, "event", "-data", 4096, IPC_T_EVENT, BIG_PAYLOAD},
	/* SOCKET: the shared control file, on reading and on sending */
	{QB_IPC_SOCKET, "control", "", 0, IPC_T_ECHO, 16},
	{QB_IPC_SOCKET, "control", "", 0, IPC_T_EVENT, BIG_PAYLOAD},
};
#define N_SCENARIOS ((int)(sizeof(scenarios) / sizeof(scenarios[0])))

START_TEST(test_truncated_files)
{
	const struct scenario *sc = &scenarios[_i];
	int status = run_scenario(sc, 1);

	ck_assert_msg(status == 0, "%s %s%s to %ld: server died (signal %d)",
		      sc->type == QB_IPC_SHM ? "shm" : "socket", sc->ring, sc->suffix, (long)sc->to,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
END_TEST

/* Without the guard the same client kills the server: the test is real. */
/*
 * Races without stopping the server: a client streams large requests
 * (responses, events) while the test truncates one of its files at a
 * random moment. Whoever touches the vanished pages first (the client may
 * die of it), the server must survive.
 */
static void streaming_client(int up, int32_t id)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(svc, BUF_SIZE);
	char *buf = malloc(BUF_SIZE);
	char b = 'C';

	if (c == NULL || buf == NULL || write(up, &b, 1) != 1) {
		_exit(10);
	}
	for (;;) {
		if (send_msg(c, id, BIG_PAYLOAD) < 0) {
			break;
		}
		if (id == IPC_T_EVENT && qb_ipcc_event_recv(c, buf, BUF_SIZE, 5000) < 0) {
			break;
		}
		if (qb_ipcc_recv(c, buf, BUF_SIZE, 5000) < 0) {
			break;
		}
	}
	for (;;) {
		pause();
	}
}

static const struct scenario races[] = {
	{QB_IPC_SHM, "request", "-data", 4096, IPC_T_ECHO, 0},
	{QB_IPC_SHM, "response", "-data", 4096, IPC_T_ECHO, 0},
	{QB_IPC_SHM, "event", "-data", 0, IPC_T_EVENT, 0},
	{QB_IPC_SHM, "response", "-header", 0, IPC_T_ECHO, 0},
	{QB_IPC_SOCKET, "control", "", 0, IPC_T_EVENT, 0},
};
#define RACE_TRIALS 8

START_TEST(test_truncate_races)
{
	const struct scenario *sc = &races[_i];
	unsigned int seed = (unsigned int)_i;

	server_start(sc->type, 1);
	for (int t = 0; t < RACE_TRIALS; t++) {
		char file[256], dir[512], path[1024];
		int up[2];
		pid_t cpid;
		char b;

		cpid = ipc_test_peer_fork(up, NULL);
		if (cpid == 0) {
			streaming_client(up[1], sc->id);
		}
		ck_assert_int_eq(read(up[0], &b, 1), 1);
		close(up[0]);
		ck_assert(ipc_test_conn_dir(server_pid, cpid, dir, sizeof(dir)));
		snprintf(file, sizeof(file), "qb-%s-%s%s", sc->ring, svc, sc->suffix);
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		usleep((useconds_t)(rand_r(&seed) % 50000));
		(void)!truncate(path, sc->to);
		server_died = 0;
		ck_assert_msg(wait_gone(dir) && !server_died,
			      "trial %d: connection kept (server %s)", t,
			      server_died ? "died" : "alive");
		kill(cpid, SIGKILL);
		waitpid(cpid, NULL, 0);
		ck_assert_msg(waitpid(server_pid, NULL, WNOHANG) == 0,
			      "%s%s trial %d killed the server", sc->ring, sc->suffix, t);
	}
	good_client_round_trip();
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

START_TEST(test_opt_out)
{
	const struct scenario sc = {QB_IPC_SHM, "request", "-header", 0, IPC_T_ECHO, 16};
	int status = run_scenario(&sc, 0);

	ck_assert_msg(status != 0, "the server survived without the guard");
	if (initial_is_default()) {
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, "status %d",
			      status);
	}
}
END_TEST

/* ---- the guard in-process --------------------------------------------- */

static volatile sig_atomic_t app_handler_ran;

static void app_handler(int sig, siginfo_t *si, void *uc)
{
	app_handler_ran = 1;
	_exit(42);
}

/* A mapping of a fresh file of `pages` pages, which is then truncated. */
static char *doomed_map(size_t pages, char *path, size_t plen)
{
	size_t len = pages * 4096;
	int fd;
	char *p;

	snprintf(path, plen, "/dev/shm/qbsigbus-test-%d-XXXXXX", (int)getpid());
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)len), 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(p != MAP_FAILED);
	memset(p, 'a', len);
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	close(fd);
	unlink(path);
	return p;
}

static struct sigaction bus_action(void)
{
	struct sigaction cur;

	ck_assert_int_eq(sigaction(SIGBUS, NULL, &cur), 0);
	return cur;
}

/* In a child: 0 = repaired as ours, 42 = chained to the app's handler. */
static void guard_child(int app_first, int foreign)
{
	struct qb_ipcs_connection *c = calloc(1, sizeof(*c));
	char path[128];
	char *ours = doomed_map(2, path, sizeof(path));
	char *other = doomed_map(1, path, sizeof(path));
	struct sigaction sa;
	volatile char *vp;
	volatile char v;

	if (app_first) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = app_handler;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGBUS, &sa, NULL);
	}
	ipcs_guard_mem(c, ours, 2 * 4096);
	if (c->nguards != 1) {
		_exit(20);
	}
	v = ours[4097]; /* faults, repaired to zeros */
	if (v != 0 || !c->guard_hit) {
		_exit(21);
	}
	vp = ours;
	vp[5] = 'b'; /* the whole range is writable now */
	if (vp[5] != 'b' || vp[0] != 0) {
		_exit(22);
	}
	if (foreign) {
		v = other[10]; /* not ours: chained */
		_exit(23);
	}
	ipcs_guard_release(c);
	sa = bus_action();
	if (app_first ? sa.sa_sigaction != app_handler : !same_action(&sa, &initial_bus)) {
		_exit(24); /* previous handler not restored */
	}
	_exit(0);
}

static int run_guard_child(int app_first, int foreign)
{
	int status;
	pid_t p = fork();

	ck_assert_int_ge(p, 0);
	if (p == 0) {
		guard_child(app_first, foreign);
	}
	ck_assert_int_eq(waitpid(p, &status, 0), p);
	return status;
}

START_TEST(test_guard_repairs_ours)
{
	int st = run_guard_child(0, 0);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	st = run_guard_child(1, 0);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}
END_TEST

START_TEST(test_guard_chains_foreign)
{
	int st = run_guard_child(1, 1);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %d", st);
	st = run_guard_child(0, 1);
	if (initial_is_default()) {
		ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS, "status %d", st);
	} else {
		/* a sanitizer's handler reports and exits */
		ck_assert_msg(st != 0 && !(WIFEXITED(st) && WEXITSTATUS(st) >= 20), "status %d",
			      st);
	}
}
END_TEST

/* Not installed before a mapping exists, nor after the last one goes. */
START_TEST(test_guard_only_while_mapped)
{
	struct qb_ipcs_connection c;
	char page[4096] __attribute__((aligned(4096)));

	struct sigaction a;

	memset(&c, 0, sizeof(c));
	a = bus_action();
	ck_assert(same_action(&a, &initial_bus));
	ipcs_guard_mem(&c, page, sizeof(page));
	a = bus_action();
	ck_assert((a.sa_flags & SA_SIGINFO) && !same_action(&a, &initial_bus));
	qb_ipcs_sigbus_handler_set(QB_FALSE);
	a = bus_action();
	ck_assert(same_action(&a, &initial_bus));
	qb_ipcs_sigbus_handler_set(QB_TRUE);
	a = bus_action();
	ck_assert(!same_action(&a, &initial_bus));
	ipcs_guard_release(&c);
	a = bus_action();
	ck_assert(same_action(&a, &initial_bus));
}
END_TEST

int main(void)
{
	const struct ck_test guard[] = {
		CK_TEST(test_guard_repairs_ours),
		CK_TEST(test_guard_chains_foreign),
		CK_TEST(test_guard_only_while_mapped),
	};
	const struct ck_test truncation[] = {
		CK_LOOP(test_truncated_files, 0, N_SCENARIOS),
		CK_LOOP(test_truncate_races, 0, (int)(sizeof(races) / sizeof(races[0]))),
		CK_TEST(test_opt_out),
	};
	const struct ck_opts truncate_opts = {
		.timeout = 60,
	};
	Suite *s;

	sigaction(SIGBUS, NULL, &initial_bus);
	s = suite_create("sigbus");
	ck_add_tests(s, NULL, guard, CK_NTESTS(guard));
	ck_add_tests(s, &truncate_opts, truncation, CK_NTESTS(truncation));
	return ck_run_suite(s);
}
