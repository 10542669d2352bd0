/*
 * check_ipc.c - IPC client and server through the public API, both
 * transports: the server runs in a forked child (ipc_test_server.h) or in
 * the test process itself with the client forked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* struct ucred */
#endif
#include <check.h>
#include "check_common.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>

#include "ipc/ipc_internal.h" /* ipcc_us_bounce_set() */
#include <qb/qbloop.h>
#include <qb/qbrb.h>

#include "format_sizes.h"
#include "ipc_test_server.h"
#include "ipc_test_util.h"

static const enum qb_ipc_type transports[] = {QB_IPC_SOCKET, QB_IPC_SHM};
static const char *const transport_names[] = {"socket", "shm"};

static char svc[64];
static pid_t server_pid = -1;

struct tmsg {
	struct qb_ipc_request_header hdr;
	char data[256];
};

static void svc_name(const char *what, int tr)
{
	static int n;

	snprintf(svc, sizeof(svc), "qbtest-%d-%d-%s-%s", (int)getpid(), n++, what,
		 transport_names[tr]);
}

static void server_start(const char *what, int tr)
{
	svc_name(what, tr);
	ipc_test_server_spawn(&server_pid, svc, transports[tr], NULL, NULL);
}

static int server_stop(void)
{
	return ipc_test_server_stop(&server_pid);
}

/* Bytes held by the files the server with this pid left in /dev/shm (in
 * its per-connection directories too); with remove set, removes them. */
static long long shm_leftover_bytes(pid_t spid, int remove)
{
	char prefix[32], path[512];
	DIR *d = opendir("/dev/shm"), *sub;
	struct dirent *e, *f;
	struct stat st;
	long long n = 0;

	snprintf(prefix, sizeof(prefix), "qb-%d-", (int)spid);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		sub = opendir(path);
		while (sub && (f = readdir(sub)) != NULL) {
			if (fstatat(dirfd(sub), f->d_name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
				n += st.st_size;
				if (remove) {
					(void)unlinkat(dirfd(sub), f->d_name, 0);
				}
			}
		}
		if (sub) {
			closedir(sub);
			if (remove) {
				(void)rmdir(path);
			}
		} else if (stat(path, &st) == 0) {
			n += st.st_size;
			if (remove) {
				(void)unlink(path);
			}
		}
	}
	if (d) {
		closedir(d);
	}
	return n;
}

static void msg_init(struct tmsg *m, int32_t id, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->hdr.id = id;
	snprintf(m->data, sizeof(m->data), "%s", text);
	m->hdr.size = (int32_t)(sizeof(m->hdr) + strlen(m->data) + 1);
}

static ssize_t request(qb_ipcc_connection_t *c, int32_t id, const char *text, void *out,
		       size_t outlen)
{
	struct tmsg m;
	ssize_t r;

	msg_init(&m, id, text);
	r = qb_ipcc_send(c, &m, m.hdr.size);
	if (r < 0) {
		return r;
	}
	ck_assert_int_eq(r, m.hdr.size);
	return qb_ipcc_recv(c, out, outlen, 2000);
}

/* A full queue (-EAGAIN) is normal: the server reclaims a request only
 * after msg_process, i.e. after the client may already have the reply. */
static ssize_t send_retry(qb_ipcc_connection_t *c, const void *m, size_t len)
{
	ssize_t r = -EAGAIN;

	for (int i = 0; i < 500 && r == -EAGAIN; i++) {
		r = qb_ipcc_send(c, m, len);
		if (r == -EAGAIN) {
			usleep(2000);
		}
	}
	return r;
}

static qb_ipcc_connection_t *client_connect(size_t max)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(svc, max);

	ck_assert_msg(c != NULL, "connect %s: %s", svc, strerror(errno));
	return c;
}

/* ---- requests, responses, sendv, auth, stats ---------------------------- */

START_TEST(test_ipc_txrx)
{
	char buf[1024];
	struct qb_ipc_response_header *res = (void *)buf;
	qb_ipcc_connection_t *c;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int32_t fd = -1;

	server_start("txrx", _i);
	c = client_connect(8192);
	ck_assert_int_ge(qb_ipcc_get_buffer_size(c), 8192);
	ck_assert_int_eq(qb_ipcc_auth_get(c, &pid, &uid, &gid), 0);
	ck_assert_int_eq(pid, server_pid);
	ck_assert_int_eq(uid, getuid());
	ck_assert_int_eq(gid, getgid());
	ck_assert_int_eq(qb_ipcc_fd_get(c, &fd), 0);
	ck_assert_int_ge(fd, 3);
	ck_assert_int_eq(qb_ipcc_is_connected(c), QB_TRUE);

	for (int i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "ping %d", i);
		ck_assert_int_eq(request(c, IPC_T_ECHO, text, buf, sizeof(buf)),
				 sizeof(*res) + strlen(text) + 1);
		ck_assert_int_eq(res->id, IPC_T_ECHO);
		ck_assert_int_eq(res->error, 0);
		ck_assert_str_eq(buf + sizeof(*res), text);
	}

	{ /* gathered request, then sendv_recv */
		struct qb_ipc_request_header h = {.id = IPC_T_ECHO};
		char part1[] = "gath", part2[] = "ered";
		struct iovec iov[3] = {
			{&h, sizeof(h)},
			{part1, 4},
			{part2, 5},
		};

		h.size = sizeof(h) + 9;
		ck_assert_int_eq(qb_ipcc_sendv(c, iov, 3), h.size);
		ck_assert_int_eq(qb_ipcc_recv(c, buf, sizeof(buf), 2000), sizeof(*res) + 9);
		ck_assert_str_eq(buf + sizeof(*res), "gathered");
		ck_assert_int_eq(qb_ipcc_sendv_recv(c, iov, 3, buf, sizeof(buf), 2000),
				 sizeof(*res) + 9);
		ck_assert_str_eq(buf + sizeof(*res), "gathered");
	}

	{ /* server-side statistics of this connection */
		struct qb_ipcs_connection_stats_2 st;

		ck_assert_int_gt(request(c, IPC_T_STATS, "", buf, sizeof(buf)), 0);
		memcpy(&st, buf + sizeof(*res), sizeof(st));
		ck_assert_int_eq(st.client_pid, getpid());
		ck_assert_int_eq(st.requests, 103);
		ck_assert_int_eq(st.responses, 102);
		ck_assert_int_eq(st.flow_control_state, 0);
	}

	qb_ipcc_context_set(c, buf);
	ck_assert_ptr_eq(qb_ipcc_context_get(c), buf);
	qb_ipcc_disconnect(c);
	{
		pid_t spid = server_pid;

		ck_assert_int_eq(server_stop(), 0);
		ck_assert_int_eq(ipc_test_shm_count(spid), 0);
	}
}
END_TEST

/* ---- events ---------------------------------------------------------------- */

START_TEST(test_ipc_events)
{
	char buf[1024];
	struct qb_ipc_response_header *res = (void *)buf;
	qb_ipcc_connection_t *c;
	struct pollfd p;
	int32_t fd;

	server_start("events", _i);
	c = client_connect(8192);
	ck_assert_int_eq(qb_ipcc_event_recv(c, buf, sizeof(buf), 0), -EAGAIN);
	ck_assert_int_eq(qb_ipcc_fd_get(c, &fd), 0);
	for (int i = 0; i < 20; i++) {
		char text[32];

		snprintf(text, sizeof(text), "event %d", i);
		ck_assert_int_gt(request(c, IPC_T_EVENT, text, buf, sizeof(buf)), 0);
		ck_assert_int_eq(res->error, 0);
		p.fd = fd;
		p.events = POLLIN;
		ck_assert_int_eq(poll(&p, 1, 2000), 1);
		ck_assert_int_eq(qb_ipcc_event_recv(c, buf, sizeof(buf), 1000),
				 sizeof(*res) + strlen(text) + 1);
		ck_assert_int_eq(res->id, IPC_T_EVENT);
		ck_assert_str_eq(buf + sizeof(*res), text);
	}
	ck_assert_int_eq(qb_ipcc_event_recv(c, buf, sizeof(buf), 50), -EAGAIN);
	qb_ipcc_disconnect(c);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* Many events the client does not read at once: on SHM the notification
 * bytes outgrow the socket buffer and the server must send them later. */
START_TEST(test_ipc_event_burst)
{
	char buf[256];
	qb_ipcc_connection_t *c;
	int sent, got = 0;

	server_start("burst", _i);
	c = client_connect(256 * 1024);
	ck_assert_int_gt(request(c, IPC_T_BURST, "3000", buf, sizeof(buf)), 0);
	sent = atoi(buf + sizeof(struct qb_ipc_response_header));
	ck_assert_int_gt(sent, 100);
	while (got < sent) {
		ssize_t r = qb_ipcc_event_recv(c, buf, sizeof(buf), 2000);

		ck_assert_msg(r == sizeof(struct qb_ipc_response_header), "event %d of %d: %zd",
			      got, sent, r);
		got++;
	}
	ck_assert_int_eq(qb_ipcc_event_recv(c, buf, sizeof(buf), 100), -EAGAIN);
	/* the connection still works both ways */
	ck_assert_int_gt(request(c, IPC_T_ECHO, "after", buf, sizeof(buf)), 0);
	qb_ipcc_disconnect(c);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* ---- 1 MiB messages --------------------------------------------------------- */

/* Responses, large and small, into buffers of the whole buffer size that
 * start at various offsets into a page (SOCKET takes large ones into a
 * buffer of its own first when the offset is small: ipcc_us.c). */
static void big_into_page_offsets(qb_ipcc_connection_t *c, char *out, size_t big)
{
	static const size_t offsets[] = {16, 0, 200, 2048};
	static const size_t sizes[] = {1024 * 1024, 64 * 1024, 1000};
	size_t len = (size_t)qb_ipcc_get_buffer_size(c);
	struct qb_ipc_request_header *h = (void *)out;
	char *block = NULL;

	ck_assert_int_eq(posix_memalign((void **)&block, 4096, len + 4096), 0);
	h->id = IPC_T_ECHO;
	for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			char *in = block + offsets[o];
			size_t n = sizes[z] < big ? sizes[z] : big;

			memset(in, 0, len);
			h->size = (int32_t)n;
			ck_assert_int_eq(send_retry(c, out, n), n);
			ck_assert_int_eq(qb_ipcc_recv(c, in, len, 5000), n + 8);
			ck_assert_int_eq(memcmp(in + sizeof(struct qb_ipc_response_header),
						out + sizeof(*h), n - sizeof(*h)),
					 0);
			ck_assert_int_eq(in[n + 8], 0); /* nothing past the message */
		}
	}
	free(block);
}

START_TEST(test_ipc_big)
{
	const size_t big = 1024 * 1024;
	const size_t max = big + 4096;
	char *out = malloc(max);
	char *in = malloc(max);
	struct qb_ipc_request_header *h = (void *)out;
	struct qb_ipc_response_header *res = (void *)in;
	qb_ipcc_connection_t *c;

	ck_assert_ptr_ne(out, NULL);
	ck_assert_ptr_ne(in, NULL);
	server_start("big", _i);
	c = client_connect(max);
	ck_assert_int_ge(qb_ipcc_get_buffer_size(c), max);
	for (size_t i = 0; i < big; i++) {
		out[i] = (char)(i * 7);
	}
	h->id = IPC_T_EVENT;
	h->size = (int32_t)big;
	ck_assert_int_eq(send_retry(c, out, big), big);
	ck_assert_int_eq(qb_ipcc_recv(c, in, max, 5000), big + 8);
	ck_assert_int_eq(res->error, 0);
	ck_assert_int_eq(memcmp(in + sizeof(*res), out + sizeof(*h), big - sizeof(*h)), 0);
	memset(in, 0, max);
	ck_assert_int_eq(qb_ipcc_event_recv(c, in, max, 5000), big + 8);
	ck_assert_int_eq(memcmp(in + sizeof(*res), out + sizeof(*h), big - sizeof(*h)), 0);
	/* a receive buffer that is too small keeps the message (SHM) or
	 * reports the overflow without writing past the buffer */
	h->id = IPC_T_ECHO;
	ck_assert_int_eq(send_retry(c, out, big), big);
	ck_assert_int_eq(qb_ipcc_recv(c, in, 1024, 5000), -ENOBUFS);
	ck_assert_int_eq(qb_ipcc_recv(c, in, max, 5000), big + 8);
	/* larger than negotiated: refused locally */
	ck_assert_int_eq(qb_ipcc_send(c, out, qb_ipcc_get_buffer_size(c) + 1), -EMSGSIZE);
	/* both ways a large response may take on SOCKET, on any CPU */
	ipcc_us_bounce_set(1);
	big_into_page_offsets(c, out, big);
	ipcc_us_bounce_set(0);
	big_into_page_offsets(c, out, big);
	ipcc_us_bounce_set(-1);
	qb_ipcc_disconnect(c);
	ck_assert_int_eq(server_stop(), 0);
	free(out);
	free(in);
}
END_TEST

/* ---- timeouts ------------------------------------------------------------------ */

START_TEST(test_ipc_timeouts)
{
	char buf[1024];
	qb_ipcc_connection_t *c;
	struct timespec t0, t1;
	long ms;

	server_start("timeouts", _i);
	c = client_connect(8192);
	ck_assert_int_eq(qb_ipcc_recv(c, buf, sizeof(buf), 0), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(qb_ipcc_recv(c, buf, sizeof(buf), 200), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 150);
	ck_assert_int_lt(ms, 1500);
	{
		struct tmsg m;
		struct iovec iov = {&m, 0};

		msg_init(&m, IPC_T_NOREPLY, "x");
		iov.iov_len = m.hdr.size;
		ck_assert_int_eq(qb_ipcc_sendv_recv(c, &iov, 1, buf, sizeof(buf), 300), -ETIMEDOUT);
	}
	ck_assert_int_eq(qb_ipcc_event_recv(c, buf, sizeof(buf), 100), -EAGAIN);
	ck_assert_int_eq(qb_ipcc_is_connected(c), QB_TRUE);
	qb_ipcc_disconnect(c);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* ---- flow control --------------------------------------------------------------- */

static void wait_fc(qb_ipcc_connection_t *c, int expect_eagain)
{
	struct tmsg m;
	ssize_t r = 0;

	msg_init(&m, IPC_T_NOREPLY, "fc");
	for (int i = 0; i < 100; i++) {
		r = qb_ipcc_send(c, &m, m.hdr.size);
		if ((r == -EAGAIN) == expect_eagain) {
			return;
		}
		usleep(20000);
	}
	ck_abort_msg("flow control did not reach %d (last %zd)", expect_eagain, r);
}

START_TEST(test_ipc_flow_control)
{
	char buf[1024];
	unsigned char rate;
	qb_ipcc_connection_t *c;

	server_start("fc", _i);
	c = client_connect(8192);
	ck_assert_int_eq(qb_ipcc_fc_enable_max_set(c, 3), -EINVAL);
	ck_assert_int_eq(qb_ipcc_fc_enable_max_set(NULL, 1), -EINVAL);

	rate = QB_IPCS_RATE_OFF;
	ck_assert_int_gt(request(c, IPC_T_RATE, (char[]){(char)rate, 0}, buf, sizeof(buf)), 0);
	wait_fc(c, 1);
	kill(server_pid, SIGUSR1);
	wait_fc(c, 0);

	rate = QB_IPCS_RATE_OFF_2;
	ck_assert_int_gt(request(c, IPC_T_RATE, (char[]){(char)rate, 0}, buf, sizeof(buf)), 0);
	/* default max 1: RATE_OFF_2 lets this client queue requests, but the
	 * server does not read them until the rate is lowered again */
	ck_assert_int_eq(qb_ipcc_fc_enable_max_set(c, 2), 0);
	wait_fc(c, 1);
	ck_assert_int_eq(qb_ipcc_fc_enable_max_set(c, 1), 0);
	{
		struct tmsg m;

		msg_init(&m, IPC_T_ECHO, "queued");
		ck_assert_int_eq(qb_ipcc_send(c, &m, m.hdr.size), m.hdr.size);
		ck_assert_int_eq(qb_ipcc_recv(c, buf, sizeof(buf), 200), -ETIMEDOUT);
		kill(server_pid, SIGUSR1);
		ck_assert_int_gt(qb_ipcc_recv(c, buf, sizeof(buf), 2000), 0);
		ck_assert_str_eq(buf + sizeof(struct qb_ipc_response_header), "queued");
	}
	wait_fc(c, 0);

	rate = QB_IPCS_RATE_FAST;
	ck_assert_int_gt(request(c, IPC_T_RATE, (char[]){(char)rate, 0}, buf, sizeof(buf)), 0);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_gt(request(c, IPC_T_ECHO, "fast", buf, sizeof(buf)), 0);
	}
	rate = QB_IPCS_RATE_SLOW;
	ck_assert_int_gt(request(c, IPC_T_RATE, (char[]){(char)rate, 0}, buf, sizeof(buf)), 0);
	ck_assert_int_gt(request(c, IPC_T_ECHO, "slow", buf, sizeof(buf)), 0);
	{
		struct qb_ipcs_connection_stats_2 st;

		ck_assert_int_gt(request(c, IPC_T_STATS, "", buf, sizeof(buf)), 0);
		memcpy(&st, buf + sizeof(struct qb_ipc_response_header), sizeof(st));
		ck_assert_int_eq(st.flow_control_count, 4);
		ck_assert_int_eq(st.flow_control_state, 0);
	}
	qb_ipcc_disconnect(c);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* ---- disconnect paths -------------------------------------------------------------- */

START_TEST(test_ipc_server_disconnects)
{
	char buf[1024];
	struct tmsg m;
	qb_ipcc_connection_t *c;
	ssize_t r;

	server_start("sdisc", _i);
	c = client_connect(8192);
	msg_init(&m, IPC_T_DISCONNECT, "bye");
	ck_assert_int_eq(qb_ipcc_send(c, &m, m.hdr.size), m.hdr.size);
	r = qb_ipcc_recv(c, buf, sizeof(buf), 2000);
	ck_assert_int_eq(r, -ENOTCONN);
	ck_assert_int_eq(qb_ipcc_is_connected(c), QB_FALSE);
	ck_assert_int_lt(qb_ipcc_send(c, &m, m.hdr.size), 0);
	qb_ipcc_disconnect(c);

	/* the server keeps serving others */
	c = client_connect(8192);
	ck_assert_int_gt(request(c, IPC_T_ECHO, "again", buf, sizeof(buf)), 0);
	qb_ipcc_disconnect(c);
	usleep(100000);
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

START_TEST(test_ipc_server_killed)
{
	char buf[1024];
	struct tmsg m;
	qb_ipcc_connection_t *c;
	int status;
	pid_t spid;

	server_start("skill", _i);
	c = client_connect(8192);
	ck_assert_int_gt(request(c, IPC_T_ECHO, "x", buf, sizeof(buf)), 0);
	spid = server_pid;
	kill(server_pid, SIGKILL);
	waitpid(server_pid, &status, 0);
	server_pid = -1;
	alarm(10); /* a hang is a failure */
	errno = 0;
	ck_assert_int_eq(qb_ipcc_recv(c, buf, sizeof(buf), -1), -ENOTCONN);
	ck_assert_int_eq(errno, ENOTCONN); /* as libqb leaves it */
	msg_init(&m, IPC_T_ECHO, "x");
	ck_assert_int_lt(qb_ipcc_send(c, &m, m.hdr.size), 0);
	errno = 0;
	ck_assert_int_eq(qb_ipcc_is_connected(c), QB_FALSE);
	ck_assert_int_eq(errno, ENOTCONN);
	qb_ipcc_disconnect(c);
	alarm(0);
	/* a client of a dead server removes the dead server's files */
	ck_assert_int_eq(ipc_test_shm_count(spid), 0);
	/* nobody is listening any more */
	ck_assert_ptr_eq(qb_ipcc_connect(svc, 8192), NULL);
	ck_assert_int_eq(errno, ECONNREFUSED);
}
END_TEST

/*
 * A client that finds its server dead but cannot remove the connection's
 * files (/dev/shm is read-only in its mount namespace) still frees their
 * memory: they are emptied through the descriptors it holds.
 */
START_TEST(test_ipc_dead_server_files_emptied)
{
	int ready[2], go[2], status;
	pid_t spid, child;
	char b;

	if (transports[_i] != QB_IPC_SHM || getuid() != 0) {
		return; /* shm only; needs root for the namespace */
	}
	server_start("rofiles", _i);
	spid = server_pid;
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	child = fork();
	if (child == 0) {
		char buf[256];
		qb_ipcc_connection_t *c = qb_ipcc_connect(svc, 8192);

		if (c == NULL || request(c, IPC_T_ECHO, "x", buf, sizeof(buf)) <= 0) {
			_exit(3);
		}
		b = 0;
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("/dev/shm", "/dev/shm", "none", MS_BIND, NULL) != 0 ||
		    mount("none", "/dev/shm", "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) !=
			    0) {
			b = 77;
		}
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1) {
			_exit(4);
		}
		if (qb_ipcc_recv(c, buf, sizeof(buf), 5000) != -ENOTCONN) {
			_exit(5);
		}
		qb_ipcc_disconnect(c);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	kill(spid, SIGKILL);
	waitpid(spid, NULL, 0);
	server_pid = -1;
	ck_assert_int_eq(write(go[1], "", 1), 1);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client status %d", status);
	if (b == 0) {
		/* kept (the client could not remove them), but empty */
		ck_assert_int_gt(ipc_test_shm_count(spid), 0);
		ck_assert_int_eq(shm_leftover_bytes(spid, 0), 0);
	}
	(void)shm_leftover_bytes(spid, 1);
	ck_assert_int_eq(ipc_test_shm_count(spid), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}
END_TEST

START_TEST(test_ipc_client_killed)
{
	char buf[1024];
	qb_ipcc_connection_t *c;
	int fds_before, status;

	server_start("ckill", _i);
	usleep(50000);
	fds_before = ipc_test_fd_count(server_pid);
	for (int round = 0; round < 4; round++) {
		pid_t k = fork();

		ck_assert_int_ge(k, 0);
		if (k == 0) {
			struct tmsg m;
			qb_ipcc_connection_t *kc = qb_ipcc_connect(svc, 8192);

			if (kc == NULL) {
				_exit(1);
			}
			msg_init(&m, IPC_T_NOREPLY, "pending");
			if (round & 1) {
				(void)qb_ipcc_send(kc, &m, m.hdr.size);
			}
			raise(SIGKILL);
		}
		waitpid(k, &status, 0);
		ck_assert(WIFSIGNALED(status));
	}
	/* the server is alive, and cleaned up after every dead client */
	c = client_connect(8192);
	ck_assert_int_gt(request(c, IPC_T_ECHO, "alive", buf, sizeof(buf)), 0);
	qb_ipcc_disconnect(c);
	for (int i = 0; i < 50 &&
	     (ipc_test_shm_count(server_pid) || ipc_test_fd_count(server_pid) != fds_before);
	     i++) {
		usleep(20000);
	}
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(ipc_test_fd_count(server_pid), fds_before);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* ---- connection setup ------------------------------------------------------------------ */

START_TEST(test_ipc_refused)
{
	svc_name("refused", _i);
	tl_refuse_all = 1;
	server_pid = fork();
	if (server_pid == 0) {
		_exit(ipc_test_server_run(svc, transports[_i], -1));
	}
	tl_refuse_all = 0;
	for (int i = 0; i < 100; i++) {
		qb_ipcc_connection_t *c = qb_ipcc_connect(svc, 8192);

		ck_assert_ptr_eq(c, NULL);
		if (errno != ECONNREFUSED) {
			break;
		}
		usleep(10000);
	}
	ck_assert_int_eq(errno, EACCES);
	usleep(50000);
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

START_TEST(test_ipc_enforce_and_async)
{
	qb_ipcc_connection_t *c;
	char buf[128];
	struct pollfd p;
	int fd = -1;

	tl_enforce = 20000;
	server_start("enforce", _i);
	tl_enforce = 0;
	c = client_connect(100);
	ck_assert_int_eq(qb_ipcc_get_buffer_size(c), 20000);
	qb_ipcc_disconnect(c);

	c = qb_ipcc_connect_async(svc, 30000, &fd);
	ck_assert_ptr_ne(c, NULL);
	ck_assert_int_ge(fd, 3);
	p.fd = fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(qb_ipcc_connect_continue(c), 0);
	ck_assert_int_eq(qb_ipcc_get_buffer_size(c), 30000);
	ck_assert_int_gt(request(c, IPC_T_ECHO, "async", buf, sizeof(buf)), 0);
	qb_ipcc_disconnect(c);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* A raw peer that breaks the handshake rules is closed without reply. */
START_TEST(test_ipc_raw_handshake)
{
	struct sockaddr_un a;
	struct qb_ipc_request_header bad[3];
	char rbuf[64];
	int fd;

	server_start("raw", _i);
	ipc_test_abstract_addr(&a, svc);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(bad, 0, sizeof(bad));
	bad[0].id = 12345; /* not QB_IPC_MSG_AUTHENTICATE */
	bad[0].size = 24;
	ck_assert_int_eq(send(fd, bad, 24, 0), 24);
	ck_assert_int_eq(recv(fd, rbuf, sizeof(rbuf), 0), 0);
	close(fd);

	/* a half request, then hang up */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(send(fd, bad, 10, 0), 10);
	close(fd);

	/* the server is fine */
	{
		qb_ipcc_connection_t *c = client_connect(8192);

		ck_assert_int_gt(request(c, IPC_T_ECHO, "ok", rbuf, sizeof(rbuf)), 0);
		qb_ipcc_disconnect(c);
	}
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

START_TEST(test_ipc_bad_args)
{
	char buf[64];
	struct iovec iov = {buf, 8};
	qb_ipcc_connection_t *c;
	struct qb_ipcs_service_handlers h = {0};
	qb_ipcs_service_t *s;
	int32_t fd;

	svc_name("nobody", 0);
	errno = 0;
	ck_assert_ptr_eq(qb_ipcc_connect(svc, 8192), NULL);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_ptr_eq(qb_ipcc_connect(NULL, 8192), NULL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(qb_ipcc_send(NULL, buf, 16), -EINVAL);
	ck_assert_int_eq(qb_ipcc_sendv(NULL, &iov, 1), -EINVAL);
	ck_assert_int_eq(qb_ipcc_recv(NULL, buf, 16, 0), -EINVAL);
	ck_assert_int_eq(qb_ipcc_event_recv(NULL, buf, 16, 0), -EINVAL);
	ck_assert_int_eq(qb_ipcc_fd_get(NULL, &fd), -EINVAL);
	ck_assert_int_eq(qb_ipcc_auth_get(NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(qb_ipcc_get_buffer_size(NULL), -EINVAL);
	ck_assert_int_eq(qb_ipcc_is_connected(NULL), QB_FALSE);
	ck_assert_ptr_eq(qb_ipcc_context_get(NULL), NULL);
	qb_ipcc_disconnect(NULL);
	ck_assert_int_eq(qb_ipcc_verify_dgram_max_msg_size(100), -1);
	ck_assert_int_ge(qb_ipcc_verify_dgram_max_msg_size(64 * 1024), 1024);

	ck_assert_ptr_eq(qb_ipcs_create(NULL, 0, QB_IPC_SHM, &h), NULL);
	ck_assert_ptr_eq(qb_ipcs_create("x", 0, QB_IPC_SHM, NULL), NULL);
	/* a failed run destroys the service (check_ipc_glue.c checks it) */
	s = qb_ipcs_create(svc, 7, QB_IPC_SHM, &h);
	ck_assert_ptr_ne(s, NULL);
	ck_assert_int_eq(qb_ipcs_run(s), -EINVAL); /* no poll handlers */
	s = qb_ipcs_create(svc, 7, QB_IPC_POSIX_MQ, &h);
	qb_ipcs_poll_handlers_set(s, &tl_poll_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), -ENOTSUP);
	ck_assert_int_eq(qb_ipcs_service_id_get(NULL), -EINVAL);
	ck_assert_int_eq(qb_ipcs_connection_get_buffer_size(NULL), -EINVAL);
	ck_assert_int_eq(qb_ipcs_stats_get(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(qb_ipcs_connection_stats_get(NULL, NULL, 0), -EINVAL);
	ck_assert_ptr_eq(qb_ipcs_connection_stats_get_2(NULL, 0), NULL);
	ck_assert_int_eq(qb_ipcs_response_send(NULL, buf, 24), -EINVAL);
	ck_assert_int_eq(qb_ipcs_event_send(NULL, buf, 24), -EINVAL);
	ck_assert_ptr_eq(qb_ipcs_connection_first_get(NULL), NULL);

	/* two services cannot share a name */
	s = qb_ipcs_create(svc, 7, QB_IPC_SOCKET, &h);
	qb_ipcs_poll_handlers_set(s, &tl_poll_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), 0);
	{
		qb_ipcs_service_t *s2 = qb_ipcs_create(svc, 8, QB_IPC_SOCKET, &h);

		qb_ipcs_poll_handlers_set(s2, &tl_poll_handlers);
		ck_assert_int_eq(qb_ipcs_run(s2), -EADDRINUSE);
	}
	qb_ipcs_destroy(s);
	c = NULL;
	(void)c;
}
END_TEST

/* ---- server API in this process, client forked ------------------------------ */

static int srv_created, srv_destroyed, srv_closed;
static qb_ipcs_connection_t *srv_last;

static void inproc_created(qb_ipcs_connection_t *c)
{
	srv_created++;
	srv_last = c;
}

static int32_t inproc_closed(qb_ipcs_connection_t *c)
{
	/* refuse once: the library must ask again later */
	return srv_closed++ == 0 ? -1 : 0;
}

static void inproc_destroyed(qb_ipcs_connection_t *c)
{
	srv_destroyed++;
}

static int32_t inproc_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_response_header r = {.id = 1, .size = sizeof(r)};

	return qb_ipcs_response_send(c, &r, sizeof(r)) < 0 ? -1 : 0;
}

START_TEST(test_ipc_server_api)
{
	struct qb_ipcs_service_handlers h = {
		.connection_accept = ts_accept,
		.connection_created = inproc_created,
		.msg_process = inproc_msg,
		.connection_closed = inproc_closed,
		.connection_destroyed = inproc_destroyed,
	};
	struct qb_ipc_response_header ev = {.id = 9, .size = sizeof(ev)};
	struct qb_ipcs_connection_stats cs;
	struct qb_ipcs_connection_stats_2 *cs2;
	struct qb_ipcs_stats ss;
	qb_ipcs_service_t *s;
	qb_ipcs_connection_t *c;
	int fds_before, status, ctx;
	pid_t child;
	int p[2];

	srv_created = srv_destroyed = srv_closed = 0;
	svc_name("inproc", _i);
	s = qb_ipcs_create(svc, 42, transports[_i], &h);
	ck_assert_ptr_ne(s, NULL);
	qb_ipcs_poll_handlers_set(s, &tl_poll_handlers);
	qb_ipcs_service_context_set(s, &ctx);
	ck_assert_ptr_eq(qb_ipcs_service_context_get(s), &ctx);
	ck_assert_int_eq(qb_ipcs_run(s), 0);
	fds_before = ipc_test_fd_count(getpid());

	ck_assert_int_eq(pipe(p), 0);
	child = fork();
	if (child == 0) {
		char b;
		char buf[256];
		struct qb_ipc_request_header rq;
		qb_ipcc_connection_t *cc = qb_ipcc_connect(svc, 8192);

		memset(&rq, 0, sizeof(rq));
		rq.id = 1;
		rq.size = sizeof(rq);

		close(p[1]);
		if (cc == NULL || qb_ipcc_send(cc, &rq, sizeof(rq)) < 0 ||
		    qb_ipcc_recv(cc, buf, sizeof(buf), 5000) != sizeof(ev) ||
		    qb_ipcc_event_recv(cc, buf, sizeof(buf), 5000) != sizeof(ev)) {
			_exit(1);
		}
		if (read(p[0], &b, 1) < 0) { /* wait until told to go */
			_exit(1);
		}
		qb_ipcc_disconnect(cc);
		_exit(0);
	}
	close(p[0]);
	for (int i = 0; i < 200 && srv_created == 0; i++) {
		tl_run_once(10);
	}
	ck_assert_int_eq(srv_created, 1);
	c = qb_ipcs_connection_first_get(s);
	ck_assert_ptr_eq(c, srv_last);
	ck_assert_ptr_eq(qb_ipcs_connection_next_get(s, c), NULL);
	ck_assert_int_eq(qb_ipcs_service_id_get(c), 42);
	ck_assert_ptr_eq(qb_ipcs_connection_service_context_get(c), &ctx);
	qb_ipcs_context_set(c, &fds_before);
	ck_assert_ptr_eq(qb_ipcs_context_get(c), &fds_before);
	ck_assert_int_ge(qb_ipcs_connection_get_buffer_size(c), 8192);
	ck_assert_int_eq(qb_ipcs_event_send(c, &ev, sizeof(ev)), sizeof(ev));
	ck_assert_int_eq(qb_ipcs_event_send(NULL, &ev, 4), -EINVAL);
	ck_assert_int_eq(qb_ipcs_response_send(c, &ev, qb_ipcs_connection_get_buffer_size(c) + 1),
			 -EMSGSIZE);
	for (int i = 0; i < 50; i++) {
		tl_run_once(10);
	}
	ck_assert_int_eq(qb_ipcs_connection_stats_get(c, &cs, 0), 0);
	ck_assert_int_eq(cs.client_pid, child);
	ck_assert_int_eq(cs.requests, 1);
	ck_assert_int_eq(cs.responses, 1);
	ck_assert_int_eq(cs.events, 1);
	cs2 = qb_ipcs_connection_stats_get_2(c, 1);
	ck_assert_ptr_ne(cs2, NULL);
	ck_assert_int_eq(cs2->events, 1);
	free(cs2);
	ck_assert_int_eq(qb_ipcs_connection_stats_get(c, &cs, 0), 0);
	ck_assert_int_eq(cs.requests, 0);
	ck_assert_int_eq(qb_ipcs_stats_get(s, &ss, 0), 0);
	ck_assert_int_eq(ss.active_connections, 1);
	qb_ipcs_connection_unref(c);

	ck_assert_int_eq(write(p[1], "g", 1), 1);
	close(p[1]);
	waitpid(child, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 100 && srv_destroyed == 0; i++) {
		tl_run_once(10);
	}
	ck_assert_int_eq(srv_closed, 2);
	ck_assert_int_eq(srv_destroyed, 1);
	ck_assert_int_eq(qb_ipcs_stats_get(s, &ss, 1), 0);
	ck_assert_int_eq(ss.active_connections, 0);
	ck_assert_int_eq(ss.closed_connections, 1);
	ck_assert_int_eq(qb_ipcs_stats_get(s, &ss, 0), 0);
	ck_assert_int_eq(ss.closed_connections, 0);
	ck_assert_int_eq(ipc_test_fd_count(getpid()), fds_before);
	ck_assert_int_eq(ipc_test_shm_count(getpid()), 0);
	qb_ipcs_destroy(s);
	/* the listening socket, the spare kept for EMFILE (ipcs_accept.c)
	 * and the wake-up timer (ipcs_wake.c) */
	ck_assert_int_eq(ipc_test_fd_count(getpid()), fds_before - 3);
}
END_TEST


/* ---- ownership of the connection files, long names --------------------------- */

static int32_t auth_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	qb_ipcs_connection_auth_set(c, 4321, 4321, 0640);
	return 0;
}

static int auth_checked;
static int auth_shm;

/* Called when the connection exists: inspect its directory. */
static void auth_created(qb_ipcs_connection_t *c)
{
	char prefix[32];
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int root = getuid() == 0;

	snprintf(prefix, sizeof(prefix), "qb-%d-", (int)getpid());
	while (d && (e = readdir(d)) != NULL) {
		char path[512];
		struct stat st;
		DIR *sub;
		struct dirent *f;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0770);
		if (root) {
			/* SHM: auth_set's owner; SOCKET: the client's */
			ck_assert_int_eq(st.st_uid, auth_shm ? 4321 : getuid());
		}
		sub = opendir(path);
		while (sub && (f = readdir(sub)) != NULL) {
			char fpath[1024];

			if (f->d_name[0] == '.') {
				continue;
			}
			snprintf(fpath, sizeof(fpath), "%s/%s", path, f->d_name);
			ck_assert_int_eq(stat(fpath, &st), 0);
			ck_assert_int_eq(st.st_mode & 0777, 0640);
			if (root) {
				ck_assert_int_eq(st.st_uid, 4321);
				ck_assert_int_eq(st.st_gid, 4321);
			}
			auth_checked++;
		}
		if (sub) {
			closedir(sub);
		}
	}
	if (d) {
		closedir(d);
	}
}

START_TEST(test_ipc_auth_files)
{
	struct qb_ipcs_service_handlers h = {
		.connection_accept = auth_accept,
		.connection_created = auth_created,
	};
	qb_ipcs_service_t *s;
	pid_t child;
	int status;

	auth_checked = 0;
	auth_shm = transports[_i] == QB_IPC_SHM;
	svc_name("auth", _i);
	s = qb_ipcs_create(svc, 1, transports[_i], &h);
	qb_ipcs_poll_handlers_set(s, &tl_poll_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), 0);
	child = fork();
	if (child == 0) {
		qb_ipcc_connection_t *cc = qb_ipcc_connect(svc, 8192);

		usleep(200000);
		qb_ipcc_disconnect(cc);
		_exit(cc ? 0 : 1);
	}
	for (int i = 0; i < 100; i++) {
		tl_run_once(10);
		if (waitpid(child, &status, WNOHANG) == child) {
			break;
		}
	}
	for (int i = 0; i < 20; i++) {
		tl_run_once(10);
	}
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* SHM: six ring files; SOCKET: the control file */
	ck_assert_int_eq(auth_checked, transports[_i] == QB_IPC_SHM ? 6 : 1);
	ck_assert_int_eq(ipc_test_shm_count(getpid()), 0);
	qb_ipcs_destroy(s);
}
END_TEST

START_TEST(test_ipc_long_names)
{
	char name[256];

	if (transports[_i] == QB_IPC_SHM) {
		/* an SHM client refuses service names over 235 characters */
		memset(name, 'n', 240);
		name[240] = '\0';
	} else {
		/* datagram socket names are cut to 106 characters: with a
		 * long service name two of them collide -> EPERM like libqb */
		memset(name, 's', 90);
		name[90] = '\0';
	}
	snprintf(svc, sizeof(svc), "%s", "unused");
	ipc_test_server_spawn(&server_pid, name, transports[_i], NULL, NULL);
	errno = 0;
	ck_assert_ptr_eq(qb_ipcc_connect(name, 8192), NULL);
	ck_assert_int_eq(errno, transports[_i] == QB_IPC_SHM ? EINVAL : EPERM);
	usleep(100000);
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* The request/event tests again, with the server on a real qb_loop. */
START_TEST(test_ipc_on_qb_loop)
{
	qb_loop_t *probe = qb_loop_create();

	if (probe == NULL) {
		/* the loop module is not on this tree yet */
		ck_assert_int_eq(errno, ENOSYS);
		return;
	}
	qb_loop_destroy(probe);
	tl_use_qb_loop = 1;
	test_ipc_txrx_fn(_i);
	test_ipc_events_fn(_i);
	test_ipc_flow_control_fn(_i);
	test_ipc_client_killed_fn(_i);
	tl_use_qb_loop = 0;
}
END_TEST

/* A root server and a client of another user: ownership must let the
 * client in (files are handed to the client's uid/gid). */
START_TEST(test_ipc_unprivileged_client)
{
	pid_t child;
	int status;

	if (getuid() != 0) {
		return; /* needs root to switch users */
	}
	server_start("unpriv", _i);
	child = fork();
	if (child == 0) {
		char buf[256];
		qb_ipcc_connection_t *c;

		if (setgid(65534) != 0 || setuid(65534) != 0) {
			_exit(2);
		}
		c = qb_ipcc_connect(svc, 8192);
		if (c == NULL) {
			_exit(3);
		}
		if (request(c, IPC_T_ECHO, "nobody", buf, sizeof(buf)) <= 0) {
			_exit(4);
		}
		qb_ipcc_disconnect(c);
		_exit(0);
	}
	waitpid(child, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "unprivileged client status %d", status);
	usleep(100000);
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* Descriptors the library keeps never land on 0/1/2 and are CLOEXEC. */
START_TEST(test_ipc_fd_hygiene)
{
	pid_t child;
	int status;

	server_start("fdhyg", _i);
	child = fork();
	if (child == 0) {
		char buf[256];
		qb_ipcc_connection_t *c;
		int32_t fd;

		close(0);
		close(1);
		close(2);
		c = qb_ipcc_connect(svc, 8192);
		if (c == NULL) {
			_exit(3);
		}
		if (qb_ipcc_fd_get(c, &fd) != 0 || fd < 3 || !(fcntl(fd, F_GETFD) & FD_CLOEXEC)) {
			_exit(4);
		}
		/* nothing of ours may have taken the standard slots */
		if (fcntl(0, F_GETFD) != -1 || fcntl(1, F_GETFD) != -1 || fcntl(2, F_GETFD) != -1) {
			_exit(5);
		}
		if (request(c, IPC_T_ECHO, "fds", buf, sizeof(buf)) <= 0) {
			_exit(6);
		}
		qb_ipcc_disconnect(c);
		_exit(0);
	}
	waitpid(child, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

/* ---- hostile clients: raw handshake, then malformed requests ------------ */

static int raw_connect(struct test_conn_response *r)
{
	struct sockaddr_un a;
	struct {
		struct qb_ipc_request_header hdr;
		uint32_t max;
	} __attribute__((aligned(8))) req;
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ipc_test_abstract_addr(&a, svc);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(&req, 0, sizeof(req));
	req.hdr.id = QB_IPC_MSG_AUTHENTICATE;
	req.hdr.size = sizeof(req);
	req.max = IPC_CONN_RESPONSE_SIZE;
	ck_assert_int_eq(send(fd, &req, sizeof(req), 0), sizeof(req));
	while (got < sizeof(*r)) {
		ssize_t n = recv(fd, (char *)r + got, sizeof(*r) - got, 0);

		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(r->hdr.error, 0);
	return fd;
}

/* The server must hang up on the client within a second. */
static void expect_hangup(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char b[16];

	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	/* EOF, or a reset when our notification byte was left unread */
	ck_assert_int_le(recv(fd, b, sizeof(b), MSG_DONTWAIT), 0);
	ck_assert(errno == ECONNRESET || recv(fd, b, 1, MSG_DONTWAIT) <= 0);
}

static void raw_bad_request(int variant, int tr)
{
	struct test_conn_response *r = calloc(1, sizeof(*r));
	struct qb_ipc_request_header h = {.id = IPC_T_ECHO};
	int fd = raw_connect(r);

	/* variant 0: empty message; 1: shorter than a header;
	 * 2: header claims more than was sent */
	h.size = variant == 2 ? 4000 : (int32_t)sizeof(h);
	if (transports[tr] == QB_IPC_SHM) {
		qb_ringbuffer_t *rb = qb_rb_open(r->request, r->max, QB_RB_FLAG_SHARED_PROCESS, 4);
		size_t len = variant == 0 ? 0 : variant == 1 ? 8 : sizeof(h);

		ck_assert_ptr_ne(rb, NULL);
		ck_assert_int_eq(qb_rb_chunk_write(rb, &h, len), len);
		ck_assert_int_eq(send(fd, "x", 1, 0), 1);
		expect_hangup(fd);
		qb_rb_close(rb);
	} else {
		struct sockaddr_un a;
		int d = socket(AF_UNIX, SOCK_DGRAM, 0);
		size_t len = variant == 0 ? 0 : variant == 1 ? 8 : sizeof(h);
		char name[sizeof(a.sun_path)];

		ck_assert_int_le(snprintf(name, sizeof(name), "%s-response", r->response),
				 IPC_TEST_ABSTRACT_NAME_MAX);
		ipc_test_abstract_addr(&a, name);
		ck_assert_int_eq(bind(d, (struct sockaddr *)&a, sizeof(a)), 0);
		ck_assert_int_le(snprintf(name, sizeof(name), "%s-request", r->response),
				 IPC_TEST_ABSTRACT_NAME_MAX);
		ipc_test_abstract_addr(&a, name);
		ck_assert_int_eq(connect(d, (struct sockaddr *)&a, sizeof(a)), 0);
		ck_assert_int_eq(send(d, &h, len, 0), len);
		expect_hangup(fd);
		close(d);
	}
	close(fd);
	free(r);
}

/* A connection request as a client sends it, and the most ancillary data
 * the raw handshakes below attach to it. */
struct raw_auth_req {
	struct qb_ipc_request_header hdr;
	uint32_t max;
} __attribute__((aligned(8)));
#define RAW_CMSG_MAX (3 * sizeof(int))

/*
 * Connect to the server's socket by hand and send an AUTHENTICATE request
 * with one SOL_SOCKET control message of this type and data. Returns what
 * sendmsg() returned; *fd is the connected socket.
 */
static ssize_t raw_auth_send(int *fd, int type, const void *data, size_t len)
{
	struct sockaddr_un a;
	struct raw_auth_req req;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(RAW_CMSG_MAX)];
	} ctl;
	struct iovec iov = {&req, sizeof(req)};
	struct msghdr m;
	struct cmsghdr *cm;

	ck_assert_uint_le(len, RAW_CMSG_MAX);
	*fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ipc_test_abstract_addr(&a, svc);
	ck_assert_int_eq(connect(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	memset(&req, 0, sizeof(req));
	req.hdr.id = QB_IPC_MSG_AUTHENTICATE;
	req.hdr.size = sizeof(req);
	req.max = IPC_CONN_RESPONSE_SIZE;
	memset(&m, 0, sizeof(m));
	memset(&ctl, 0, sizeof(ctl));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = CMSG_SPACE(len);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	return sendmsg(*fd, &m, 0);
}

/* A handshake that smuggles descriptors must not leave them open. */
static void raw_send_fds(void)
{
	int fds[3] = {0, 0, 0};
	char rbuf[256];
	int fd;

	ck_assert_int_eq(raw_auth_send(&fd, SCM_RIGHTS, fds, sizeof(fds)),
			 sizeof(struct raw_auth_req));
	/* the answer (whatever it is) or a hang-up */
	(void)recv(fd, rbuf, sizeof(rbuf), 0);
	close(fd);
}

/* Root may put any credentials in SCM_CREDENTIALS; the server must not
 * believe ones that differ from the connecting process. */
static void raw_forged_creds(void)
{
	struct ucred uc = {.pid = getpid(), .uid = 4321, .gid = 4321};
	char rbuf[256];
	int fd;

	if (raw_auth_send(&fd, SCM_CREDENTIALS, &uc, sizeof(uc)) < 0) {
		ck_assert_int_eq(errno, EPERM); /* not privileged: fine */
	} else {
		/* closed without an answer */
		ck_assert_int_eq(recv(fd, rbuf, sizeof(rbuf), 0), 0);
	}
	close(fd);
}

START_TEST(test_ipc_hostile_requests)
{
	char buf[64];
	qb_ipcc_connection_t *c;
	int fds_before;

	server_start("hostile", _i);
	usleep(50000);
	fds_before = ipc_test_fd_count(server_pid);
	raw_send_fds();
	for (int i = 0; i < 50 && ipc_test_fd_count(server_pid) != fds_before; i++) {
		usleep(20000);
	}
	ck_assert_int_eq(ipc_test_fd_count(server_pid), fds_before);
	raw_forged_creds();
	for (int v = 0; v < 3; v++) {
		raw_bad_request(v, _i);
	}
	/* after all that the server still works and cleaned up */
	c = client_connect(8192);
	ck_assert_int_gt(request(c, IPC_T_ECHO, "ok", buf, sizeof(buf)), 0);
	qb_ipcc_disconnect(c);
	usleep(100000);
	ck_assert_int_eq(ipc_test_shm_count(server_pid), 0);
	ck_assert_int_eq(server_stop(), 0);
}
END_TEST

static void teardown(void)
{
	ipc_test_server_kill(&server_pid);
}

int main(int argc, char **argv)
{
	int first = 0, last = 2;

	/* QB_TEST_IPC_TRANSPORT=socket|shm restricts to one transport */
	if (getenv("QB_TEST_IPC_TRANSPORT")) {
		first = strcmp(getenv("QB_TEST_IPC_TRANSPORT"), "shm") == 0;
		last = first + 1;
	}
	const struct ck_test tests[] = {
		CK_TEST(test_ipc_bad_args),
		CK_LOOP(test_ipc_txrx, first, last),
		CK_LOOP(test_ipc_events, first, last),
		CK_LOOP(test_ipc_event_burst, first, last),
		CK_LOOP(test_ipc_big, first, last),
		CK_LOOP(test_ipc_timeouts, first, last),
		CK_LOOP(test_ipc_flow_control, first, last),
		CK_LOOP(test_ipc_server_disconnects, first, last),
		CK_LOOP(test_ipc_server_killed, first, last),
		CK_LOOP(test_ipc_client_killed, first, last),
		CK_LOOP(test_ipc_dead_server_files_emptied, first, last),
		CK_LOOP(test_ipc_refused, first, last),
		CK_LOOP(test_ipc_enforce_and_async, first, last),
		CK_LOOP(test_ipc_raw_handshake, first, last),
		CK_LOOP(test_ipc_server_api, first, last),
		CK_LOOP(test_ipc_auth_files, first, last),
		CK_LOOP(test_ipc_long_names, first, last),
		CK_LOOP(test_ipc_on_qb_loop, first, last),
		CK_LOOP(test_ipc_unprivileged_client, first, last),
		CK_LOOP(test_ipc_fd_hygiene, first, last),
		CK_LOOP(test_ipc_hostile_requests, first, last),
	};
	const struct ck_opts opts = {
		.timeout = 30,
		.teardown = teardown,
	};

	signal(SIGPIPE, SIG_IGN);
	return CK_MAIN("ipc", &opts, tests);
}
