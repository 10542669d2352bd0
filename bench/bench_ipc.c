/*
 * IPC benchmark: request/response round trips and event throughput over the
 * shm and socket transports. Built against the distro headers; the same
 * binary runs on either libqb.so.100 (bench/run-bench.sh). It forks its own
 * server (same library on both sides, driven by the small poll loop of
 * tests/compat/ipc_loop.h so the figures are about IPC, not qb_loop).
 *
 * memcpy_1MiB_ceiling: MB/s of memcpy(1 MiB) on this machine, the bound of
 * the memcpy-bound 1 MiB rows (not about libqb: both columns should match).
 * ipc_<tr>_16clients_64B_rt: total round trips/s of 16 client threads, each
 * with its own connection, against the one single-threaded server.
 *
 * Prints METRIC<TAB>VALUE<TAB>UNIT<TAB>higher lines; about 3 s per run.
 * MB/s counts payload bytes in both directions (request + response).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <pthread.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include "../tests/compat/ipc_loop.h"

#define BIG (1024 * 1024)
#define BUF (BIG + 4096)
#define SLICE_NS 200000000LL	/* time spent per measurement */

enum { REQ_ECHO = 1, REQ_EVENTS = 2 };

struct events_req {
	struct qb_ipc_request_header hdr;
	uint32_t count;
	uint32_t size;
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- server (child process) ---- */

static char *event_buf;
static volatile sig_atomic_t services_left;

static void srv_term(int sig)
{
	services_left = 0;
}

static int32_t srv_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_request_header *req = data;
	struct qb_ipc_response_header h;

	memset(&h, 0, sizeof(h));	/* padding too: it goes out on a socket */
	h.id = req->id;
	h.size = sizeof(h);

	if (req->id == REQ_ECHO) {
		struct iovec iov[2] = {
			{ &h, sizeof(h) },
			{ (char *)data + sizeof(*req), size - sizeof(*req) },
		};
		h.size = (int32_t)(sizeof(h) + iov[1].iov_len);
		qb_ipcs_response_sendv(c, iov, 2);
	} else if (req->id == REQ_EVENTS) {
		struct events_req *er = data;
		struct qb_ipc_response_header *eh = (void *)event_buf;
		eh->id = REQ_EVENTS;
		eh->size = (int32_t)(sizeof(*eh) + er->size);
		eh->error = 0;
		for (uint32_t i = 0; i < er->count; i++) {
			ssize_t rc;
			long long give_up = now_ns() + 2000000000LL;
			while ((rc = qb_ipcs_event_send(c, event_buf, eh->size)) == -EAGAIN &&
			       now_ns() < give_up)
				sched_yield();
			if (rc < 0)
				break;
		}
		qb_ipcs_response_send(c, &h, sizeof(h));
	}
	return 0;
}

static int32_t srv_accept(qb_ipcs_connection_t *c, uid_t u, gid_t g) { return 0; }
static void srv_created(qb_ipcs_connection_t *c) { }
static int32_t srv_closed(qb_ipcs_connection_t *c) { return 0; }
static void srv_destroyed(qb_ipcs_connection_t *c) { }

static int run_server(const char *base)
{
	struct qb_ipcs_service_handlers sh = {
		.connection_accept = srv_accept,
		.connection_created = srv_created,
		.msg_process = srv_msg,
		.connection_closed = srv_closed,
		.connection_destroyed = srv_destroyed,
	};
	qb_ipcs_service_t *s[2];
	char name[64];

	signal(SIGTERM, srv_term);
	event_buf = calloc(1, BUF);
	for (int t = 0; t < 2; t++) {
		snprintf(name, sizeof(name), "%s-%s", base, t ? "socket" : "shm");
		s[t] = qb_ipcs_create(name, 0, t ? QB_IPC_SOCKET : QB_IPC_SHM, &sh);
		if (!s[t])
			return 1;
		qb_ipcs_enforce_buffer_size(s[t], BUF);
		qb_ipcs_poll_handlers_set(s[t], &ipcl_handlers);
		if (qb_ipcs_run(s[t]) != 0)
			return 1;
	}
	services_left = 2;
	long long deadline = now_ns() + 30000000000LL;	/* never outlive the bench */
	while (services_left && now_ns() < deadline && getppid() != 1)
		loop_iterate(100);
	for (int i = 0; i < 5; i++)
		loop_iterate(10);
	qb_ipcs_destroy(s[0]);
	qb_ipcs_destroy(s[1]);
	for (int i = 0; i < 3; i++)
		loop_iterate(0);
	return 0;
}

/* ---- client (parent) ---- */

static qb_ipcc_connection_t *connect_retry(const char *name)
{
	long long give_up = now_ns() + 3000000000LL;
	qb_ipcc_connection_t *c;
	while (!(c = qb_ipcc_connect(name, BUF)) && now_ns() < give_up)
		usleep(5000);
	return c;
}

static void bench_echo(qb_ipcc_connection_t *c, const char *tr, size_t payload,
		       const char *label, char *req, char *resp)
{
	struct qb_ipc_request_header *h = (void *)req;
	long long t0 = now_ns(), t;
	long n = 0;

	h->id = REQ_ECHO;
	h->size = (int32_t)(sizeof(*h) + payload);
	do {
		for (int i = 0; i < (payload >= BIG ? 1 : 64); i++) {
			ssize_t rc;
			/* -EAGAIN: the ring has no room yet (the server reclaims a
			 * request only after answering it) */
			while ((rc = qb_ipcc_send(c, req, h->size)) == -EAGAIN)
				sched_yield();
			if (rc != h->size) {
				fprintf(stderr, "bench_ipc: %s %s: send returned %zd\n", tr, label, rc);
				return;
			}
			rc = qb_ipcc_recv(c, resp, BUF, 5000);
			if (rc != (ssize_t)(sizeof(struct qb_ipc_response_header) + payload)) {
				fprintf(stderr, "bench_ipc: %s %s: recv returned %zd\n", tr, label, rc);
				return;
			}
			n++;
		}
		t = now_ns() - t0;
	} while (t < SLICE_NS);
	double secs = t / 1e9;
	printf("ipc_%s_%s_roundtrips\t%.0f\trt/s\thigher\n", tr, label, n / secs);
	printf("ipc_%s_%s_throughput\t%.1f\tMB/s\thigher\n", tr, label,
	       2.0 * payload * n / secs / 1e6);
}

/* A few untimed round trips first (lazy socket connects, page faults). */
static void warm_up(qb_ipcc_connection_t *c, char *req, char *resp)
{
	struct qb_ipc_request_header *h = (void *)req;
	h->id = REQ_ECHO;
	h->size = (int32_t)(sizeof(*h) + 4096);
	for (int i = 0; i < 200; i++)
		if (qb_ipcc_send(c, req, h->size) != h->size || qb_ipcc_recv(c, resp, BUF, 5000) < 0)
			return;
}

static void bench_events(qb_ipcc_connection_t *c, const char *tr, char *buf)
{
	struct events_req er;
	long long t0, t;
	long n = 0;

	memset(&er, 0, sizeof(er));
	er.hdr.id = REQ_EVENTS;
	er.hdr.size = sizeof(er);
	er.count = 500;
	er.size = 64;
	t0 = now_ns();

	do {
		if (qb_ipcc_send(c, &er, sizeof(er)) != (ssize_t)sizeof(er))
			return;
		for (uint32_t i = 0; i < er.count; i++) {
			if (qb_ipcc_event_recv(c, buf, BUF, 5000) < 0)
				return;
			n++;
		}
		if (qb_ipcc_recv(c, buf, BUF, 5000) < 0)
			return;
		t = now_ns() - t0;
	} while (t < SLICE_NS);
	printf("ipc_%s_events_64B\t%.0f\tevents/s\thigher\n", tr, n / (t / 1e9));
}

/* The ceiling of the 1 MiB rows: a round trip copies the payload at least
 * four times (into and out of each ring), so MB/s of a plain memcpy of the
 * same size, divided by two, bounds ipc_*_1MiB_throughput. */
static void bench_memcpy_ceiling(char *a, char *b)
{
	long long t0 = now_ns(), t;
	long n = 0;

	do {
		for (int i = 0; i < 16; i++) {
			memcpy(a, b, BIG);
			__asm__ __volatile__("" : : "r"(a) : "memory");
		}
		n += 16;
		t = now_ns() - t0;
	} while (t < SLICE_NS);
	printf("memcpy_1MiB_ceiling\t%.1f\tMB/s\treference\n", (double)BIG * n / (t / 1e9) / 1e6);
}

#define MULTI_CLIENTS 16
#define MULTI_BUF 8192

struct multi_client {
	const char *name;
	long long end;
	long n;
	int ok;
};

static void *multi_worker(void *arg)
{
	struct multi_client *mc = arg;
	char req[MULTI_BUF], resp[MULTI_BUF];
	struct qb_ipc_request_header *h = (void *)req;
	qb_ipcc_connection_t *c = qb_ipcc_connect(mc->name, MULTI_BUF);

	if (c == NULL)
		return NULL;
	memset(req, 0, sizeof(req));
	h->id = REQ_ECHO;
	h->size = (int32_t)(sizeof(*h) + 64);
	mc->ok = 1;
	while (now_ns() < mc->end) {
		for (int i = 0; i < 16; i++) {
			ssize_t rc;

			while ((rc = qb_ipcc_send(c, req, h->size)) == -EAGAIN)
				sched_yield();
			if (rc != h->size || qb_ipcc_recv(c, resp, sizeof(resp), 5000) < 0) {
				mc->ok = 0;
				goto out;
			}
			mc->n++;
		}
	}
out:
	qb_ipcc_disconnect(c);
	return NULL;
}

static void bench_multi(const char *tr, const char *name)
{
	struct multi_client mc[MULTI_CLIENTS];
	pthread_t th[MULTI_CLIENTS];
	long long t0 = now_ns();
	long total = 0;
	int i, started = 0, ok = 1;

	for (i = 0; i < MULTI_CLIENTS; i++) {
		mc[i] = (struct multi_client){ name, t0 + SLICE_NS, 0, 0 };
		if (pthread_create(&th[i], NULL, multi_worker, &mc[i]) != 0)
			break;
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		total += mc[i].n;
		ok &= mc[i].ok;
	}
	if (started != MULTI_CLIENTS || !ok) {
		fprintf(stderr, "bench_ipc: %s 16 clients: a client failed\n", tr);
		return;
	}
	printf("ipc_%s_16clients_64B_rt\t%.0f\trt/s\thigher\n", tr,
	       total / ((now_ns() - t0) / 1e9));
}

int main(void)
{
	char base[48], name[64];
	pid_t pid;
	int status;

	snprintf(base, sizeof(base), "qbbench-%d", (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(run_server(base));

	char *req = calloc(1, BUF), *resp = calloc(1, BUF);
	if (req && resp)
		bench_memcpy_ceiling(req, resp);
	for (int t = 0; t < 2 && req && resp; t++) {
		const char *tr = t ? "socket" : "shm";
		snprintf(name, sizeof(name), "%s-%s", base, tr);
		qb_ipcc_connection_t *c = connect_retry(name);
		if (!c) {
			fprintf(stderr, "bench_ipc: cannot connect to %s: %s\n", name,
				strerror(errno));
			continue;
		}
		warm_up(c, req, resp);
		bench_echo(c, tr, 64, "64B", req, resp);
		bench_echo(c, tr, 4096, "4KiB", req, resp);
		bench_echo(c, tr, BIG, "1MiB", req, resp);
		bench_events(c, tr, resp);
		qb_ipcc_disconnect(c);
		bench_multi(tr, name);
	}
	free(req);
	free(resp);
	/* stop the server (SIGTERM ends its loop); make sure it is gone */
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	return 0;
}
