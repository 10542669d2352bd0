/*
 * check_hostile.c - permanent regression tests for a server among hostile
 * or dying clients and short resources:
 *  - corrupted rings: a client scribbles over its request ring (positions,
 *    chunk lengths, magic words, payload) while a request is pending;
 *  - SIGKILL storms: clients killed at random points of their traffic;
 *  - a tiny /dev/shm (a 1 MiB tmpfs in a private mount namespace; skipped
 *    without the privilege to make one).
 * Each time the server must stay up, keep serving, and clean up.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include "../unit/check_common.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qblog.h>

#include "../unit/ipc_test_server.h"
#include "../unit/ipc_test_util.h"

static const enum qb_ipc_type transports[] = {QB_IPC_SOCKET, QB_IPC_SHM};
static char svc[64];
static pid_t server_pid = -1;

static void server_start(enum qb_ipc_type type)
{
	static int n;

	snprintf(svc, sizeof(svc), "qbhostile-%d-%d", (int)getpid(), n++);
	ipc_test_server_spawn(&server_pid, svc, type, NULL, NULL);
}

static void server_stop(void)
{
	int status;

	ck_assert_int_eq(waitpid(server_pid, &status, WNOHANG), 0);
	kill(server_pid, SIGTERM);
	ck_assert_int_eq(waitpid(server_pid, &status, 0), server_pid);
	server_pid = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server status %d", status);
}

/* bounded wait: the server cleans up right after answering */
static int shm_empty(void)
{
	for (int i = 0; i < 500 && ipc_test_dir_count("/dev/shm", "") != 0; i++) {
		usleep(10000);
	}
	return ipc_test_dir_count("/dev/shm", "") == 0;
}

static int echo(qb_ipcc_connection_t *c, size_t payload)
{
	size_t len = sizeof(struct qb_ipc_request_header) + payload;
	size_t rlen = sizeof(struct qb_ipc_response_header) + payload;
	struct qb_ipc_request_header *h = calloc(1, len);
	char *buf = malloc(rlen);
	ssize_t r = -ENOMEM;

	if (h && buf) {
		h->id = IPC_T_ECHO;
		h->size = (int32_t)len;
		r = qb_ipcc_send(c, h, len);
		if (r == (ssize_t)len) {
			r = qb_ipcc_recv(c, buf, rlen, 5000);
		}
	}
	free(h);
	free(buf);
	return r == (ssize_t)rlen ? 0 : -1;
}

static void good_client(size_t size)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(svc, size);

	ck_assert_msg(c != NULL, "connect: %s", strerror(errno));
	ck_assert_int_eq(echo(c, size / 2), 0);
	qb_ipcc_disconnect(c);
}

/* bounded wait for the server to drop what it no longer needs */
static void wait_clean(int fds)
{
	for (int i = 0;
	     i < 500 && (ipc_test_shm_count(server_pid) || ipc_test_fd_count(server_pid) != fds);
	     i++) {
		usleep(10000);
	}
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(ipc_test_fd_count(server_pid), fds);
}

/* ---- corrupted rings ----------------------------------------------------- */

static void *map_file(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/qb-request-%s-%s", dir, svc, name);
	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0) {
		_exit(30);
	}
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		_exit(31);
	}
	return p;
}

/* Write garbage chosen by seed into the request ring of this client. */
static void corrupt(unsigned int seed)
{
	char dir[512];
	size_t hlen, dlen;
	uint32_t *hdr, *data;
	unsigned int r = seed;
	uint32_t words;

	if (!ipc_test_conn_dir(server_pid, getpid(), dir, sizeof(dir))) {
		_exit(32);
	}
	hdr = map_file(dir, "header", &hlen);
	data = map_file(dir, "data", &dlen);
	words = (uint32_t)(dlen / 4);
	switch (seed % 6) {
	case 0: /* write position anywhere */
		hdr[0] = (uint32_t)rand_r(&r);
		break;
	case 1: /* read position anywhere */
		hdr[1] = (uint32_t)rand_r(&r) % (2 * words);
		break;
	case 2: /* the shared size word lies */
		hdr[2] = (uint32_t)rand_r(&r);
		break;
	case 3: /* chunk length lies (huge, odd, zero) */
		data[hdr[1] % words] =
			(uint32_t[]){0xffffffffu, dlen, 0, (uint32_t)rand_r(&r)}[rand_r(&r) % 4];
		break;
	case 4: /* magic word destroyed */
		data[(hdr[1] + 1) % words] = (uint32_t)rand_r(&r);
		break;
	default: /* random bytes anywhere in the data */
		for (int i = 0; i < 64; i++) {
			volatile unsigned char *bytes = (void *)data;

			bytes[rand_r(&r) % dlen] = (unsigned char)rand_r(&r);
		}
		break;
	}
}

static void corrupting_client(int up, int down, unsigned int seed)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(svc, 16384);
	struct {
		struct qb_ipc_request_header h;
		char d[100];
	} m;
	char b = 'C';

	memset(&m, 0, sizeof(m));
	memset(m.d, 'y', sizeof(m.d));
	m.h.id = IPC_T_ECHO;
	m.h.size = sizeof(m);
	if (c == NULL || write(up, &b, 1) != 1 || read(down, &b, 1) != 1) {
		_exit(10);
	}
	if (qb_ipcc_send(c, &m, sizeof(m)) != sizeof(m)) {
		_exit(11);
	}
	corrupt(seed);
	if (write(up, &b, 1) != 1) {
		_exit(12);
	}
	for (;;) {
		pause();
	}
}

#define CORRUPT_TRIALS 60

START_TEST(test_corrupt_rings)
{
	int fds;

	server_start(QB_IPC_SHM);
	usleep(50000);
	fds = ipc_test_fd_count(server_pid);
	for (unsigned int t = 0; t < CORRUPT_TRIALS; t++) {
		int up[2], down[2];
		pid_t cpid;
		char b;

		cpid = ipc_test_peer_fork(up, down);
		if (cpid == 0) {
			corrupting_client(up[1], down[0], t * 2654435761u);
		}
		ck_assert_int_eq(read(up[0], &b, 1), 1);
		kill(server_pid, SIGSTOP);
		ck_assert_int_eq(write(down[1], &b, 1), 1);
		ck_assert_msg(read(up[0], &b, 1) == 1,
			      "trial %u: client "
			      "failed",
			      t);
		kill(server_pid, SIGCONT);
		usleep(20000); /* let it chew (no assertion on timing) */
		kill(cpid, SIGKILL);
		waitpid(cpid, NULL, 0);
		close(up[0]);
		close(down[1]);
		ck_assert_msg(waitpid(server_pid, NULL, WNOHANG) == 0, "trial %u killed the server",
			      t);
	}
	good_client(16384);
	wait_clean(fds);
	server_stop();
}
END_TEST

/* ---- SIGKILL storms ------------------------------------------------------ */

static void busy_client(unsigned int seed)
{
	unsigned int r = seed;

	for (;;) {
		qb_ipcc_connection_t *c = qb_ipcc_connect(svc, 65536);

		if (c == NULL) {
			usleep(1000);
			continue;
		}
		for (int i = 0; i < 50; i++) {
			if (echo(c, (size_t)(rand_r(&r) % 60000)) < 0) {
				break;
			}
		}
		qb_ipcc_disconnect(c);
	}
}

#define STORM_CLIENTS 24
#define STORM_WAVES 3

START_TEST(test_kill_storm)
{
	unsigned int r = 12345;
	pid_t kids[STORM_CLIENTS];
	int fds;

	server_start(transports[_i]);
	usleep(50000);
	fds = ipc_test_fd_count(server_pid);
	for (int w = 0; w < STORM_WAVES; w++) {
		for (int k = 0; k < STORM_CLIENTS; k++) {
			kids[k] = fork();
			ck_assert_int_ge(kids[k], 0);
			if (kids[k] == 0) {
				busy_client(r + (unsigned int)k);
			}
		}
		for (int k = 0; k < STORM_CLIENTS; k++) {
			usleep((useconds_t)(rand_r(&r) % 20000));
			kill(kids[k], SIGKILL);
		}
		for (int k = 0; k < STORM_CLIENTS; k++) {
			waitpid(kids[k], NULL, 0);
		}
		ck_assert_int_eq(waitpid(server_pid, NULL, WNOHANG), 0);
	}
	good_client(65536);
	wait_clean(fds);
	server_stop();
}
END_TEST

/* ---- a tiny /dev/shm ------------------------------------------------------- */

static int private_tiny_shm(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		return -errno;
	}
	if (mount("none", "/", "", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("qbtiny", "/dev/shm", "tmpfs", 0, "size=1m,mode=1777") < 0) {
		return -errno;
	}
	return 0;
}

START_TEST(test_tiny_shm)
{
	qb_ipcc_connection_t *c;
	int rc = private_tiny_shm();

	if (rc < 0) {
		printf("test_tiny_shm skipped: no private tmpfs: %s\n", strerror(-rc));
		return;
	}
	server_start(QB_IPC_SHM);
	/* three 512 KiB rings cannot fit in 1 MiB */
	c = qb_ipcc_connect(svc, 512 * 1024);
	ck_assert(c == NULL);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(shm_empty());
	good_client(64 * 1024); /* small ones still work */
	ck_assert(shm_empty());
	server_stop();

	/* a blackbox larger than the tmpfs: refused, nothing left */
	qb_log_init("tiny", LOG_USER, LOG_INFO);
	ck_assert_int_eq(qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 4 * 1024 * 1024), 0);
	ck_assert_int_lt(qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE), 0);
	ck_assert_int_eq(ipc_test_dir_count("/dev/shm", ""), 0);
	qb_log_fini();
}
END_TEST

static void teardown(void)
{
	ipc_test_server_kill(&server_pid);
}

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_corrupt_rings),
		CK_LOOP(test_kill_storm, 0, 2),
		CK_TEST(test_tiny_shm),
	};
	const struct ck_opts opts = {
		.timeout = 120,
		.teardown = teardown,
	};

	signal(SIGPIPE, SIG_IGN);
	return CK_MAIN("hostile", &opts, tests);
}
