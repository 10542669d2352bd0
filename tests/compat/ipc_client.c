/*
 * Client half of the IPC cross-library wire test (see ipc_cross.sh).
 * Built against the distro headers; runs on whichever libqb.so.100 the
 * loader finds, talking to an ipc_server that may run on the other one.
 *
 * usage: ipc_client NAME SERVER_PID [crash]
 * (with "crash": only the dead-server session, see crash_session())
 * Prints one line per checked step; exits 0 when every step passed.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h> /* enum qb_ipcs_rate_limit values */
#include "ipc_wire.h"

#define TIMEOUT_MS 5000

static const char *service;
static pid_t server_pid;
static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	failures++;
}

static void ok(const char *what)
{
	printf("ok: %s\n", what);
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Receive one response and check its id and error; returns its size or -1. */
static ssize_t expect_response(qb_ipcc_connection_t *c, int32_t req_id, void *buf, size_t len,
			       const char *what)
{
	struct qb_ipc_response_header *h = buf;
	ssize_t rc = qb_ipcc_recv(c, buf, len, TIMEOUT_MS);

	if (rc < (ssize_t)sizeof(*h)) {
		fail("%s: qb_ipcc_recv returned %zd (%s)", what, rc,
		     rc < 0 ? strerror((int)-rc) : "short");
		return -1;
	}
	if (h->id != IPCW_RESP(req_id) || h->size != rc || h->error != 0) {
		fail("%s: response id %d size %d (received %zd) error %d", what, h->id, h->size, rc,
		     h->error);
		return -1;
	}
	return rc;
}

static int simple_request(qb_ipcc_connection_t *c, int32_t id, void *resp, size_t len,
			  const char *what)
{
	struct qb_ipc_request_header r;
	ipcw_req_init(&r, sizeof(r), id);
	ssize_t rc = qb_ipcc_send(c, &r, sizeof(r));
	if (rc != (ssize_t)sizeof(r)) {
		fail("%s: qb_ipcc_send returned %zd", what, rc);
		return -1;
	}
	return expect_response(c, id, resp, len, what) < 0 ? -1 : 0;
}

static int get_stats(qb_ipcc_connection_t *c, struct ipcw_stats *st)
{
	return simple_request(c, IPCW_STATS, st, sizeof(*st), "stats");
}

static void test_handshake(qb_ipcc_connection_t *c)
{
	pid_t pid = 0;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int32_t rc = qb_ipcc_auth_get(c, &pid, &uid, &gid);
	int32_t bufsz = qb_ipcc_get_buffer_size(c);
	int32_t fd = -1;

	if (rc != 0 || pid != server_pid || uid != getuid() || gid != getgid())
		fail("qb_ipcc_auth_get: rc %d pid %d uid %d gid %d (server %d)", rc, (int)pid,
		     (int)uid, (int)gid, (int)server_pid);
	else
		ok("handshake credentials (server pid/uid/gid)");
	if (bufsz != IPCW_BIG_BUF)
		fail("qb_ipcc_get_buffer_size: %d, expected %d", bufsz, IPCW_BIG_BUF);
	else
		ok("negotiated buffer size");
	if (qb_ipcc_fd_get(c, &fd) != 0 || fd < 0)
		fail("qb_ipcc_fd_get: fd %d", fd);
	if (!qb_ipcc_is_connected(c))
		fail("qb_ipcc_is_connected: 0 on a fresh connection");
}

static void test_echo(qb_ipcc_connection_t *c)
{
	static char req[8192], resp[8192];
	struct qb_ipc_request_header *h = (void *)req;
	int bad = 0;

	for (int i = 0; i < 200 && !bad; i++) {
		size_t plen = (size_t)(i * 37) % 4000;
		ssize_t rc;

		h->id = IPCW_ECHO;
		h->size = (int32_t)(sizeof(*h) + plen);
		ipcw_fill(req + sizeof(*h), plen, (uint32_t)i);
		if (i % 2) {
			/* header and payload in separate iovecs, one call */
			struct iovec iov[2] = {{req, sizeof(*h)}, {req + sizeof(*h), plen}};
			rc = qb_ipcc_sendv_recv(c, iov, 2, resp, sizeof(resp), TIMEOUT_MS);
			if (rc < 0) {
				fail("echo %d: qb_ipcc_sendv_recv returned %zd", i, rc);
				bad = 1;
				break;
			}
		} else {
			rc = qb_ipcc_send(c, req, sizeof(*h) + plen);
			if (rc != (ssize_t)(sizeof(*h) + plen)) {
				fail("echo %d: qb_ipcc_send returned %zd", i, rc);
				bad = 1;
				break;
			}
			rc = qb_ipcc_recv(c, resp, sizeof(resp), TIMEOUT_MS);
		}
		struct qb_ipc_response_header *rh = (void *)resp;
		if (rc != (ssize_t)(sizeof(*rh) + plen) || rh->id != IPCW_RESP(IPCW_ECHO) ||
		    rh->size != rc || rh->error != 0 ||
		    ipcw_check(resp + sizeof(*rh), plen, (uint32_t)i) >= 0) {
			fail("echo %d: got %zd bytes, id %d size %d error %d", i, rc, rh->id,
			     rh->size, rh->error);
			bad = 1;
		}
	}
	if (!bad)
		ok("200 request/response round trips (send+recv and sendv_recv, 16..4015 bytes)");
}

static void test_events(qb_ipcc_connection_t *c)
{
	struct ipcw_events_req er;
	ipcw_req_init(&er, sizeof(er), IPCW_EVENTS);
	er.count = 50;
	er.payload = 300;
	char buf[4096];
	int32_t fd = -1;
	int bad = 0;

	if (qb_ipcc_send(c, &er, sizeof(er)) != (ssize_t)sizeof(er)) {
		fail("events: send failed");
		return;
	}
	if (expect_response(c, IPCW_EVENTS, buf, sizeof(buf), "events") < 0)
		return;
	qb_ipcc_fd_get(c, &fd);
	for (uint32_t i = 0; i < er.count && !bad; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct qb_ipc_response_header *h = (void *)buf;
		if (poll(&p, 1, TIMEOUT_MS) != 1 || !(p.revents & POLLIN)) {
			fail("events: event fd not readable before event %u (revents %#x)", i,
			     p.revents);
			bad = 1;
			break;
		}
		ssize_t rc = qb_ipcc_event_recv(c, buf, sizeof(buf), TIMEOUT_MS);
		if (rc != (ssize_t)(sizeof(*h) + er.payload) || h->id != IPCW_EVENT ||
		    h->size != rc || h->error != (int32_t)i ||
		    ipcw_check(buf + sizeof(*h), er.payload, i) >= 0) {
			fail("events: event %u: rc %zd id %d size %d seq %d", i, rc, h->id, h->size,
			     h->error);
			bad = 1;
		}
	}
	if (!bad) {
		ssize_t rc = qb_ipcc_event_recv(c, buf, sizeof(buf), 50);
		if (rc != -EAGAIN && rc != -ETIMEDOUT) {
			fail("events: extra event or error after the last one: %zd", rc);
			bad = 1;
		}
	}
	if (!bad)
		ok("50 events (event_send and event_sendv), fd polling, then no more");
}

static void test_big(qb_ipcc_connection_t *c)
{
	size_t len = sizeof(struct qb_ipc_request_header) + IPCW_BIG_PAYLOAD;
	char *req = malloc(len), *resp = malloc(IPCW_BIG_BUF);
	struct qb_ipc_request_header *h = (void *)req;
	struct qb_ipc_response_header *rh = (void *)resp;
	size_t rlen = sizeof(*rh) + IPCW_BIG_PAYLOAD;
	ssize_t rc;

	if (!req || !resp) {
		fail("big: out of memory");
		goto out;
	}
	ipcw_req_init(h, sizeof(*h), IPCW_BIG);
	h->size = (int32_t)len;
	ipcw_fill(req + sizeof(*h), IPCW_BIG_PAYLOAD, 77);
	/* -EAGAIN is a legitimate answer while the server has not yet reclaimed
	 * the previous request from a ring that has room for only one such
	 * message: retry for a while, as real clients do */
	long long give_up = now_ms() + TIMEOUT_MS;
	while ((rc = qb_ipcc_send(c, req, len)) == -EAGAIN && now_ms() < give_up)
		usleep(1000);
	if (rc != (ssize_t)len) {
		fail("big: qb_ipcc_send of %zu bytes returned %zd", len, rc);
		goto out;
	}
	if (expect_response(c, IPCW_BIG, resp, IPCW_BIG_BUF, "big response") < 0)
		goto out;
	if (rh->size != (int32_t)rlen ||
	    ipcw_check(resp + sizeof(*rh), IPCW_BIG_PAYLOAD, 78) >= 0) {
		fail("big: response of %d bytes is not the expected 1 MiB pattern", rh->size);
		goto out;
	}
	rc = qb_ipcc_event_recv(c, resp, IPCW_BIG_BUF, TIMEOUT_MS);
	if (rc != (ssize_t)rlen || rh->id != IPCW_EVENT ||
	    ipcw_check(resp + sizeof(*rh), IPCW_BIG_PAYLOAD, 78) >= 0) {
		fail("big: event_recv returned %zd (id %d)", rc, rh->id);
		goto out;
	}
	ok("1 MiB request, 1 MiB response and 1 MiB event");
out:
	free(req);
	free(resp);
}

/* Sends an echo until it is accepted; returns how many -EAGAIN it met. */
static int send_until_accepted(qb_ipcc_connection_t *c, const char *what)
{
	struct qb_ipc_request_header r;
	long long give_up = now_ms() + TIMEOUT_MS;
	int eagain = 0;
	ssize_t rc;

	ipcw_req_init(&r, sizeof(r), IPCW_ECHO);
	while ((rc = qb_ipcc_send(c, &r, sizeof(r))) == -EAGAIN && now_ms() < give_up) {
		eagain++;
		usleep(10000);
	}
	if (rc != (ssize_t)sizeof(r)) {
		fail("%s: send returned %zd after %d x EAGAIN", what, rc, eagain);
		return -1;
	}
	char buf[256];
	if (expect_response(c, IPCW_ECHO, buf, sizeof(buf), what) < 0)
		return -1;
	return eagain;
}

static int set_rate(qb_ipcc_connection_t *c, uint32_t rate, uint32_t restore_ms)
{
	struct ipcw_fc_req fr;
	ipcw_req_init(&fr, sizeof(fr), IPCW_FC);
	fr.rate = rate;
	fr.restore_ms = restore_ms;
	char buf[256];
	if (qb_ipcc_send(c, &fr, sizeof(fr)) != (ssize_t)sizeof(fr)) {
		fail("flow control: request failed");
		return -1;
	}
	return expect_response(c, IPCW_FC, buf, sizeof(buf), "flow control") < 0 ? -1 : 0;
}

static void test_flow_control(qb_ipcc_connection_t *c)
{
	int32_t rc = qb_ipcc_fc_enable_max_set(c, 3);
	int n;

	if (rc != -EINVAL)
		fail("qb_ipcc_fc_enable_max_set(3) returned %d, expected -EINVAL", rc);

	/* RATE_OFF: the server raises flow control, every client must back off */
	if (set_rate(c, QB_IPCS_RATE_OFF, 200) < 0)
		return;
	n = send_until_accepted(c, "RATE_OFF");
	if (n == 0)
		fail("RATE_OFF: the first send was accepted, expected -EAGAIN");
	else if (n > 0)
		ok("flow control RATE_OFF: -EAGAIN, then accepted after the server lifted it");

	/* RATE_OFF_2 with the default fc_enable_max 1: sends are accepted but the
	 * server does not read them until it lifts the rate limit */
	if (set_rate(c, QB_IPCS_RATE_OFF_2, 200) < 0)
		return;
	long long t0 = now_ms();
	n = send_until_accepted(c, "RATE_OFF_2, max 1");
	if (n > 0)
		fail("RATE_OFF_2 with fc_enable_max 1: send got -EAGAIN");
	else if (n == 0 && now_ms() - t0 < 100)
		fail("RATE_OFF_2: answered after %lld ms, before the limit was lifted",
		     now_ms() - t0);
	else if (n == 0)
		ok("flow control RATE_OFF_2 (fc max 1): queued until lifted");

	/* RATE_OFF_2 with fc_enable_max 2: this client backs off too */
	rc = qb_ipcc_fc_enable_max_set(c, 2);
	if (rc != 0)
		fail("qb_ipcc_fc_enable_max_set(2) returned %d", rc);
	if (set_rate(c, QB_IPCS_RATE_OFF_2, 200) < 0)
		return;
	n = send_until_accepted(c, "RATE_OFF_2, max 2");
	if (n == 0)
		fail("RATE_OFF_2 with fc_enable_max 2: first send accepted, expected -EAGAIN");
	else if (n > 0)
		ok("flow control RATE_OFF_2 (fc max 2): -EAGAIN, then accepted");
	qb_ipcc_fc_enable_max_set(c, 1);
}

/* Lists /dev/shm entries named qb-<server pid>-<client pid>-*. */
static int shm_leftovers(pid_t client)
{
	char prefix[64];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/dev/shm");

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "qb-%d-%d-", (int)server_pid, (int)client);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			printf("  left in /dev/shm: %s\n", e->d_name);
			n++;
		}
	closedir(d);
	return n;
}

static void test_killed_client(qb_ipcc_connection_t *c)
{
	struct ipcw_stats before, st;
	int pfd[2];
	pid_t child;
	char b;

	if (get_stats(c, &before) < 0 || pipe(pfd) < 0)
		return;
	fflush(stdout);
	child = fork();
	if (child == 0) {
		close(pfd[0]);
		qb_ipcc_connection_t *k = qb_ipcc_connect(service, IPCW_BIG_BUF);
		struct qb_ipc_request_header r;
		ipcw_req_init(&r, sizeof(r), IPCW_HOLD);
		if (!k || qb_ipcc_send(k, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	if (child < 0 || read(pfd[0], &b, 1) != 1) {
		fail("killed client: the child could not connect and send");
		if (child > 0)
			kill(child, SIGKILL), waitpid(child, NULL, 0);
		close(pfd[0]);
		return;
	}
	close(pfd[0]);
	/* wait until the server has taken the request, then kill the client
	 * before the answer comes (IPCW_HOLD_MS later) */
	long long until = now_ms() + TIMEOUT_MS;
	while (get_stats(c, &st) == 0 && st.held == before.held && now_ms() < until)
		usleep(5000);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (st.held != before.held + 1) {
		fail("killed client: the server never received the held request");
		return;
	}

	long long give_up = now_ms() + TIMEOUT_MS;
	do {
		usleep(20000);
		if (get_stats(c, &st) < 0)
			return;
	} while (st.destroyed <= before.destroyed && now_ms() < give_up);
	if (st.destroyed != before.destroyed + 1 || st.created != before.created + 1) {
		fail("killed client: server created %u->%u, destroyed %u->%u connections",
		     before.created, st.created, before.destroyed, st.destroyed);
		return;
	}
	/* (the late response's result is not checked: with a reference held, a
	 * 2.0.6 SHM server still writes it into the orphaned ring; it only must
	 * not crash) */
	if (st.held_send_rc == 1)
		fail("killed client: connection destroyed before the held answer was tried");
	if (st.active != 1)
		fail("killed client: server reports %u active connections, expected 1", st.active);
	if (shm_leftovers(child))
		fail("killed client: its connection files are still in /dev/shm");
	else
		ok("client SIGKILLed mid-request: server survived, destroyed it, /dev/shm clean");
}

/* The server dies (SIGKILL) while this client waits for an answer: the
 * client must notice (an error, not an endless timeout), report itself
 * disconnected, refuse further sends and disconnect without trouble. */
static int crash_session(void)
{
	qb_ipcc_connection_t *c = qb_ipcc_connect(service, 0);
	struct qb_ipc_request_header r;
	char buf[256];
	ssize_t rc;

	if (!c) {
		fail("crash: qb_ipcc_connect: %s", strerror(errno));
		return 1;
	}
	if (simple_request(c, IPCW_STATS, buf, sizeof(buf), "crash: first request") < 0)
		return 1;
	ipcw_req_init(&r, sizeof(r), IPCW_CRASH);
	rc = qb_ipcc_send(c, &r, sizeof(r));
	if (rc != (ssize_t)sizeof(r)) {
		fail("crash: send returned %zd", rc);
		return 1;
	}
	long long give_up = now_ms() + TIMEOUT_MS;
	do {
		rc = qb_ipcc_recv(c, buf, sizeof(buf), 200);
	} while ((rc == -ETIMEDOUT || rc == -EAGAIN) && now_ms() < give_up);
	if (rc >= 0 || rc == -ETIMEDOUT || rc == -EAGAIN)
		fail("crash: recv after the server died returned %zd (%s), expected an error", rc,
		     rc < 0 ? strerror((int)-rc) : "data");
	else
		ok("server killed: recv reports it");
	if (qb_ipcc_is_connected(c))
		fail("crash: qb_ipcc_is_connected still 1 after the server died");
	ipcw_req_init(&r, sizeof(r), IPCW_ECHO);
	rc = qb_ipcc_send(c, &r, sizeof(r));
	if (rc >= 0 || rc == -EAGAIN)
		fail("crash: send to a dead server returned %zd", rc);
	qb_ipcc_disconnect(c);
	c = qb_ipcc_connect(service, 0);
	if (c) {
		fail("crash: connect to a dead service succeeded");
		qb_ipcc_disconnect(c);
	} else {
		ok("dead server: is_connected 0, send refused, disconnect, connect refused");
	}
	printf("%s\n", failures ? "client: FAILED" : "client: all steps passed");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	qb_ipcc_connection_t *c;
	struct ipcw_stats st;
	char buf[256];

	if (argc < 3 || (argc == 4 && strcmp(argv[3], "crash") != 0) || argc > 4) {
		fprintf(stderr, "usage: %s NAME SERVER_PID [crash]\n", argv[0]);
		return 2;
	}
	service = argv[1];
	server_pid = (pid_t)atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4)
		return crash_session();

	c = qb_ipcc_connect(service, IPCW_BIG_BUF);
	if (!c) {
		printf("FAIL: qb_ipcc_connect(%s): %s\n", service, strerror(errno));
		return 1;
	}
	test_handshake(c);
	test_echo(c);
	test_events(c);
	if (getenv("IPCW_SKIP_BIG"))
		printf("skipped: 1 MiB messages (%s)\n", getenv("IPCW_SKIP_BIG"));
	else
		test_big(c);
	test_flow_control(c);
	test_killed_client(c);

	if (get_stats(c, &st) == 0) {
		if (st.bad)
			fail("server saw %d malformed requests", st.bad);
		if (st.conn_requests == 0)
			fail("server's connection stats count no requests");
	}
	qb_ipcc_disconnect(c);

	/* a fresh connection with the smallest buffer a client may ask for */
	c = qb_ipcc_connect(service, 0);
	if (!c) {
		fail("second qb_ipcc_connect: %s", strerror(errno));
		return 1;
	}
	if (qb_ipcc_get_buffer_size(c) != IPCW_BIG_BUF)
		fail("second connection: buffer size %d, server enforces %d",
		     qb_ipcc_get_buffer_size(c), IPCW_BIG_BUF);
	if (simple_request(c, IPCW_QUIT, buf, sizeof(buf), "quit") == 0)
		ok("reconnect and quit");
	qb_ipcc_disconnect(c);
	printf("%s\n", failures ? "client: FAILED" : "client: all steps passed");
	return failures ? 1 : 0;
}
