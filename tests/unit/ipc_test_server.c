/*
 * ipc_test_server.c - the IPC echo server of ipc_test_server.h: a service
 * on a self-contained poll() loop, or on a real qb_loop.
 */
#include "ipc_test_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TL_MAX 256

struct tl_item {
	int fd;
	int events;
	void *data;
	qb_ipcs_dispatch_fn_t fn;
	int used;
};

struct tl_job {
	void *data;
	qb_loop_job_dispatch_fn fn;
};

static struct tl_item tl_items[TL_MAX];
static struct tl_job tl_jobs[TL_MAX];
static int tl_njobs;
static volatile sig_atomic_t tl_stop;
qb_ipcs_service_t *tl_service;
int tl_refuse_all;
volatile unsigned long *tl_wakeups;	     /* polls that returned events */
void (*tl_setup_hook)(qb_ipcs_service_t *s); /* before qb_ipcs_run */
int tl_enforce;
int tl_mlock; /* qb_ipcs_mlock_set(service, 1) */

static int32_t tl_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			       qb_ipcs_dispatch_fn_t fn)
{
	for (int i = 0; i < TL_MAX; i++) {
		if (tl_items[i].used && tl_items[i].fd == fd) {
			return -EEXIST;
		}
	}
	for (int i = 0; i < TL_MAX; i++) {
		if (!tl_items[i].used) {
			tl_items[i] = (struct tl_item){fd, events, data, fn, 1};
			return 0;
		}
	}
	return -ENOMEM;
}

static int32_t tl_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			       qb_ipcs_dispatch_fn_t fn)
{
	for (int i = 0; i < TL_MAX; i++) {
		if (tl_items[i].used && tl_items[i].fd == fd) {
			tl_items[i] = (struct tl_item){fd, events, data, fn, 1};
			return 0;
		}
	}
	return -ENOENT;
}

static int32_t tl_dispatch_del(int32_t fd)
{
	for (int i = 0; i < TL_MAX; i++) {
		if (tl_items[i].used && tl_items[i].fd == fd) {
			tl_items[i].used = 0;
			return 0;
		}
	}
	return -ENOENT;
}

static int32_t tl_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	if (tl_njobs >= TL_MAX) {
		return -ENOMEM;
	}
	tl_jobs[tl_njobs].data = data;
	tl_jobs[tl_njobs].fn = fn;
	tl_njobs++;
	return 0;
}

void tl_run_once(int timeout_ms)
{
	struct pollfd pfd[TL_MAX];
	int idx[TL_MAX] = {0}; /* only [0, n) is read; cppcheck cannot tell */
	int n = 0;
	int r;

	while (tl_njobs > 0) {
		struct tl_job j = tl_jobs[0];

		memmove(tl_jobs, tl_jobs + 1, sizeof(tl_jobs[0]) * --tl_njobs);
		j.fn(j.data);
	}
	for (int i = 0; i < TL_MAX; i++) {
		if (tl_items[i].used) {
			pfd[n].fd = tl_items[i].fd;
			pfd[n].events = (short)tl_items[i].events;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
	}
	r = poll(pfd, n, timeout_ms);
	if (r > 0 && tl_wakeups) {
		(*tl_wakeups)++;
	}
	for (int k = 0; r > 0 && k < n; k++) {
		struct tl_item *it = &tl_items[idx[k]];

		if (pfd[k].revents && it->used && it->fd == pfd[k].fd) {
			it->fn(it->fd, pfd[k].revents, it->data);
		}
	}
}

/* The same glue on a real qb_loop (what corosync and pacemaker do). */
static qb_loop_t *ql_loop;
int tl_use_qb_loop;

static int32_t ql_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ql_loop, p, data, fn);
}

static int32_t ql_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			       qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ql_loop, p, fd, events, data, fn);
}

static int32_t ql_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			       qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ql_loop, p, fd, events, data, fn);
}

static int32_t ql_dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ql_loop, fd);
}

static struct qb_ipcs_poll_handlers ql_poll_handlers = {
	.job_add = ql_job_add,
	.dispatch_add = ql_dispatch_add,
	.dispatch_mod = ql_dispatch_mod,
	.dispatch_del = ql_dispatch_del,
};

struct qb_ipcs_poll_handlers tl_poll_handlers = {
	.job_add = tl_job_add,
	.dispatch_add = tl_dispatch_add,
	.dispatch_mod = tl_dispatch_mod,
	.dispatch_del = tl_dispatch_del,
};

int32_t ts_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	if (tl_refuse_all) {
		return -EACCES;
	}
	qb_ipcs_connection_auth_set(c, uid, gid, 0600);
	return 0;
}

static void ts_created(qb_ipcs_connection_t *c)
{
}

static int32_t ts_closed(qb_ipcs_connection_t *c)
{
	return 0;
}

static void ts_destroyed(qb_ipcs_connection_t *c)
{
}

static int32_t ts_msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_request_header reqh;
	struct qb_ipc_request_header *req = &reqh;
	size_t payload = size - sizeof(*req);
	char *buf = calloc(1,
			   sizeof(struct qb_ipc_response_header) + payload +
				   sizeof(struct qb_ipcs_connection_stats_2));
	struct qb_ipc_response_header *res = (void *)buf;
	struct qb_ipcs_connection_stats_2 *st;
	ssize_t rc;

	/* chunks in a ring are 4-byte aligned only */
	memcpy(&reqh, data, sizeof(reqh));
	if (buf == NULL) {
		return -ENOMEM;
	}
	res->id = req->id;
	res->error = 0;
	res->size = (int32_t)(sizeof(*res) + payload);
	memcpy(buf + sizeof(*res), (char *)data + sizeof(*req), payload);
	switch (req->id) {
	case IPC_T_EVENT:
		rc = qb_ipcs_event_send(c, buf, res->size);
		res->error = rc < 0 ? (int32_t)rc : 0;
		break;
	case IPC_T_DISCONNECT:
		free(buf);
		qb_ipcs_disconnect(c);
		return 0;
	case IPC_T_RATE:
		qb_ipcs_request_rate_limit(
			tl_service, (enum qb_ipcs_rate_limit)((unsigned char *)data)[sizeof(*req)]);
		break;
	case IPC_T_STATS:
		st = qb_ipcs_connection_stats_get_2(c, 0);
		if (st) {
			memcpy(buf + sizeof(*res), st, sizeof(*st));
			res->size = (int32_t)(sizeof(*res) + sizeof(*st));
			free(st);
		}
		break;
	case IPC_T_EXIT:
		tl_stop = 1;
		break;
	case IPC_T_NOREPLY:
		free(buf);
		return 0;
	case IPC_T_BURST: {
		int want = atoi(buf + sizeof(*res));
		int sent = 0;
		struct qb_ipc_response_header ev;

		memset(&ev, 0, sizeof(ev));
		ev.id = IPC_T_BURST;
		ev.size = sizeof(ev);
		while (sent < want &&
		       qb_ipcs_event_send(c, &ev, sizeof(ev)) == (ssize_t)sizeof(ev)) {
			sent++;
		}
		res->size = (int32_t)(sizeof(*res) + 16);
		snprintf(buf + sizeof(*res), 16, "%d", sent);
		break;
	}
	default:
		break;
	}
	rc = qb_ipcs_response_send(c, buf, res->size);
	free(buf);
	return rc < 0 ? (int32_t)rc : 0;
}

struct qb_ipcs_service_handlers ts_handlers = {
	.connection_accept = ts_accept,
	.connection_created = ts_created,
	.msg_process = ts_msg_process,
	.connection_closed = ts_closed,
	.connection_destroyed = ts_destroyed,
};

static volatile sig_atomic_t tl_rate_reset;

static void tl_sigterm(int sig)
{
	tl_stop = 1;
}

static void tl_sigusr1(int sig)
{
	tl_rate_reset = 1;
}

/* qb_loop variant of the polling of the stop/rate flags. */
static void ql_tick(void *data)
{
	if (tl_stop) {
		qb_loop_stop(ql_loop);
		return;
	}
	if (tl_rate_reset) {
		tl_rate_reset = 0;
		qb_ipcs_request_rate_limit(tl_service, QB_IPCS_RATE_NORMAL);
	}
	qb_loop_timer_add(ql_loop, QB_LOOP_LOW, 20 * 1000000ull, NULL, ql_tick, NULL);
}

/* Run a server until IPC_T_EXIT or SIGTERM; returns an exit status. */
int ipc_test_server_run(const char *name, enum qb_ipc_type type, int ready_fd)
{
	int32_t rc;

	signal(SIGTERM, tl_sigterm);
	signal(SIGUSR1, tl_sigusr1); /* back to QB_IPCS_RATE_NORMAL */
	tl_service = qb_ipcs_create(name, 1, type, &ts_handlers);
	if (tl_service == NULL) {
		return 2;
	}
	if (tl_use_qb_loop) {
		ql_loop = qb_loop_create();
		if (ql_loop == NULL) {
			return 5;
		}
		qb_ipcs_poll_handlers_set(tl_service, &ql_poll_handlers);
	} else {
		qb_ipcs_poll_handlers_set(tl_service, &tl_poll_handlers);
	}
	if (tl_enforce) {
		qb_ipcs_enforce_buffer_size(tl_service, tl_enforce);
	}
	if (tl_mlock && qb_ipcs_mlock_set(tl_service, 1) != 0) {
		return 6;
	}
	if (tl_setup_hook) {
		tl_setup_hook(tl_service);
	}
	rc = qb_ipcs_run(tl_service);
	if (ready_fd >= 0) {
		char b = rc == 0 ? IPC_TEST_READY : IPC_TEST_FAILED;

		if (write(ready_fd, &b, 1) != 1) {
			return 4;
		}
		close(ready_fd);
	}
	if (rc != 0) {
		return 3;
	}
	if (ql_loop) {
		qb_loop_timer_add(ql_loop, QB_LOOP_LOW, 20 * 1000000ull, NULL, ql_tick, NULL);
		qb_loop_run(ql_loop);
		qb_ipcs_destroy(tl_service);
		qb_loop_destroy(ql_loop);
		return 0;
	}
	while (!tl_stop) {
		tl_run_once(20);
		if (tl_rate_reset) {
			tl_rate_reset = 0;
			qb_ipcs_request_rate_limit(tl_service, QB_IPCS_RATE_NORMAL);
		}
	}
	qb_ipcs_destroy(tl_service);
	/* give pending jobs a chance */
	tl_run_once(0);
	return 0;
}
