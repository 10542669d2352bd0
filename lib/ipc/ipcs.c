/*
 * ipcs.c - IPC server: services, connection life cycle, rate limiting,
 * sending. The connection setup handshake lives in ipcs_setup.c, the
 * connection accessors (context, statistics, iteration) in ipcs_conn.c,
 * transport specifics in ipcs_shm.c and ipcs_us.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"


/* ---- rate limiting ---------------------------------------------------- */

static enum qb_loop_priority rate_prio(enum qb_ipcs_rate_limit rate)
{
	switch (rate) {
	case QB_IPCS_RATE_FAST:
		return QB_LOOP_HIGH;
	case QB_IPCS_RATE_NORMAL:
		return QB_LOOP_MED;
	default:
		return QB_LOOP_LOW;
	}
}

int32_t ipcs_rate_cap(enum qb_ipcs_rate_limit rate)
{
	switch (rate) {
	case QB_IPCS_RATE_FAST:
		return 50;
	case QB_IPCS_RATE_NORMAL:
		return 5;
	default:
		return 1;
	}
}

/*
 * After a dispatch took `taken` requests, wait a little for the client's
 * next one (a client that sends again at once then finds us awake instead
 * of idle, which on a virtual machine costs tens of microseconds to wake),
 * within the service's rate cap per dispatch so that other fds still get
 * their turn. 1 when ready(arg) says a request is there.
 */
int32_t ipcs_linger(struct qb_ipcs_connection *c, int32_t taken, int32_t (*ready)(void *arg),
		    void *arg)
{
	return taken > 0 && taken < ipcs_rate_cap(c->service->rate) &&
		c->state == IPCS_CONN_ACTIVE && !c->fc_state && c->last_req <= IPC_SPIN_MAX_BYTES &&
		!ipcs_guard_tripped(c) && ipc_spin_wait(&c->linger, IPC_SPIN_CHECKS, ready, arg);
}

int32_t ipcs_rate_fc(enum qb_ipcs_rate_limit rate)
{
	return rate == QB_IPCS_RATE_OFF ? 1 : rate == QB_IPCS_RATE_OFF_2 ? 2 : 0;
}

/* Events the connection's polled fd should wait for right now. */
int32_t ipcs_conn_poll_events(struct qb_ipcs_connection *c)
{
	int32_t ev = POLLNVAL;

	/* while flow control is on, requests are not read: do not spin */
	if (!c->fc_state) {
		ev |= POLLIN | POLLPRI;
	}
	if (c->deferred_bytes) {
		ev |= POLLOUT;
	}
	return ev;
}

/* ---- service ----------------------------------------------------------- */

qb_ipcs_service_t *qb_ipcs_create(const char *name, int32_t service_id, enum qb_ipc_type type,
				  struct qb_ipcs_service_handlers *handlers)
{
	struct qb_ipcs_service *s;

	if (name == NULL || handlers == NULL) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ipc_str_cut(s->name, sizeof(s->name), "%s", name);
	s->service_id = service_id;
	s->type = (type == QB_IPC_NATIVE) ? QB_IPC_SHM : type;
	s->ref_count = 1;
	s->listen_fd = -1;
	s->wake_fd = -1;
	s->pid = getpid();
	s->rate = QB_IPCS_RATE_NORMAL;
	s->prio = QB_LOOP_MED;
	s->fns = *handlers;
	qb_list_init(&s->conns);
	qb_list_init(&s->pending);
	return s;
}

void qb_ipcs_ref(qb_ipcs_service_t *s)
{
	if (s) {
		s->ref_count++;
	}
}

void qb_ipcs_unref(qb_ipcs_service_t *s)
{
	if (s == NULL || --s->ref_count > 0) {
		return;
	}
	if (s->listen_fd >= 0) {
		qb_ipcs_us_withdraw(s);
	}
	ipcs_wake_close(s);
	util_log(LOG_DEBUG, "IPC service %s: last reference gone, freed", s->name);
	free(s);
}

void qb_ipcs_poll_handlers_set(qb_ipcs_service_t *s, struct qb_ipcs_poll_handlers *handlers)
{
	if (s && handlers) {
		s->poll = *handlers;
	}
}

void qb_ipcs_service_context_set(qb_ipcs_service_t *s, void *context)
{
	if (s) {
		s->context = context;
	}
}

void *qb_ipcs_service_context_get(qb_ipcs_service_t *s)
{
	return s ? s->context : NULL;
}

void qb_ipcs_shm_init(struct qb_ipcs_service *s)
{
	s->ops = &ipcs_shm_ops;
}

void qb_ipcs_us_init(struct qb_ipcs_service *s)
{
	s->ops = &ipcs_us_ops;
}

static int32_t service_start(struct qb_ipcs_service *s)
{
	int32_t rc;

	/* job_add may be NULL (GLib adaptors): see ipcs_close_finish */
	if (s->poll.dispatch_add == NULL || s->poll.dispatch_del == NULL ||
	    s->poll.dispatch_mod == NULL) {
		return -EINVAL;
	}
	switch (s->type) {
	case QB_IPC_SHM:
		qb_ipcs_shm_init(s);
		break;
	case QB_IPC_SOCKET:
		qb_ipcs_us_init(s);
		break;
	default:
		return -ENOTSUP;
	}
	util_log(LOG_INFO, "IPC service %s: starting the server (%s)", s->name,
		 s->type == QB_IPC_SHM ? "shared memory" : "socket");
	rc = qb_ipcs_us_publish(s);
	if (rc < 0) {
		return rc;
	}
	rc = ipcs_wake_open(s);
	if (rc < 0) {
		/* still usable: silent clients are then dropped only when
		 * the next client connects */
		util_log(LOG_WARNING,
			 "IPC service %s: no wake-up timer: "
			 "%d",
			 s->name, rc);
	}
	return 0;
}

int32_t qb_ipcs_run(qb_ipcs_service_t *s)
{
	int32_t rc;

	if (s == NULL) {
		return -EINVAL;
	}
	if (s->running) {
		return -EALREADY;
	}
	rc = service_start(s);
	if (rc < 0) {
		/* as libqb: the caller's reference is gone (pacemaker relies
		 * on it and never unrefs after a failed run) */
		qb_ipcs_destroy(s);
		return rc;
	}
	s->running = QB_TRUE;
	return 0;
}

void qb_ipcs_destroy(qb_ipcs_service_t *s)
{
	struct qb_ipcs_connection *c, *n;

	if (s == NULL) {
		return;
	}
	if (s->listen_fd >= 0) {
		qb_ipcs_us_withdraw(s);
	}
	s->running = QB_FALSE;
	for (c = ipcs_conn_first(&s->pending); c; c = n) {
		n = ipcs_conn_next(&s->pending, c);
		ipcs_conn_dead(c);
	}
	for (c = ipcs_conn_first(&s->conns); c; c = n) {
		qb_ipcs_connection_ref(c);
		qb_ipcs_disconnect(c);
		n = ipcs_conn_next(&s->conns, c);
		qb_ipcs_connection_unref(c);
	}
	qb_ipcs_unref(s);
}

void qb_ipcs_request_rate_limit(qb_ipcs_service_t *s, enum qb_ipcs_rate_limit rl)
{
	struct qb_ipcs_connection *c;

	if (s == NULL) {
		return;
	}
	s->rate = rl;
	s->prio = rate_prio(rl);
	for (c = ipcs_conn_first(&s->conns); c; c = ipcs_conn_next(&s->conns, c)) {
		int32_t fc = ipcs_rate_fc(rl);
		int32_t changed = 0;

		if (c->state != IPCS_CONN_ACTIVE) {
			continue;
		}
		if (fc != c->fc_state) {
			c->fc_state = fc;
			c->stats.flow_control_state = fc;
			c->stats.flow_control_count++;
			s->ops->fc_set(c, fc);
			changed = 1;
		}
		if (c->prio != s->prio) {
			c->prio = s->prio;
			changed = 1;
		}
		if (changed) {
			s->ops->poll_update(c);
		}
	}
}

void qb_ipcs_enforce_buffer_size(qb_ipcs_service_t *s, uint32_t max_buf_size)
{
	if (s) {
		s->enforced_size = max_buf_size;
	}
}

int32_t qb_ipcs_stats_get(qb_ipcs_service_t *s, struct qb_ipcs_stats *stats,
			  int32_t clear_after_read)
{
	if (s == NULL || stats == NULL) {
		return -EINVAL;
	}
	*stats = s->stats;
	if (clear_after_read) {
		s->stats.closed_connections = 0;
	}
	return 0;
}

/* ---- connections --------------------------------------------------------- */

struct qb_ipcs_connection *qb_ipcs_connection_alloc(struct qb_ipcs_service *s)
{
	struct qb_ipcs_connection *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	qb_list_init(&c->list);
	c->service = s;
	c->ref_count = 1;
	c->state = IPCS_CONN_SETUP;
	c->setup_fd = -1;
	c->us_req_fd = -1;
	c->us_ev_fd = -1;
	c->auth_mode = 0600;
	c->prio = s->prio;
	ipc_spin_init(&c->linger, IPCS_LINGER_NS);
	qb_ipcs_ref(s);
	return c;
}

static void conn_free(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;

	ipcs_conn_dir_chown(c, geteuid(), getegid());
	ipcs_limit_uncharge(c);
	if (s->ops) {
		s->ops->destroy(c);
	}
	if (c->setup_fd >= 0) {
		close(c->setup_fd);
	}
	if (c->dir[0]) {
		remove_tempdir(c->dir);
	}
	free(c);
	qb_ipcs_unref(s);
}

void qb_ipcs_connection_ref(qb_ipcs_connection_t *c)
{
	if (c) {
		c->ref_count++;
	}
}

void qb_ipcs_connection_unref(qb_ipcs_connection_t *c)
{
	struct qb_ipcs_service *s;

	if (c == NULL || --c->ref_count > 0) {
		return;
	}
	s = c->service;
	ipcs_conn_list_del(c);
	if (c->state != IPCS_CONN_SETUP) {
		if (s->fns.connection_destroyed) {
			s->fns.connection_destroyed(c);
		}
	}
	conn_free(c);
}

/* Handshake never completed: drop without callbacks. */
void ipcs_conn_dead(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;

	if (c->setup_polled) {
		(void)s->poll.dispatch_del(c->setup_fd);
		c->setup_polled = 0;
	}
	qb_ipcs_connection_unref(c);
}

static void ipcs_closed_retry(void *data);

/*
 * Ask again later: as a job when the handlers have job_add, otherwise on
 * the next dispatch of the wake-up timer. Holds a reference meanwhile.
 */
static int32_t close_retry_later(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;

	qb_ipcs_connection_ref(c);
	if (s->poll.job_add && s->poll.job_add(QB_LOOP_LOW, c, ipcs_closed_retry) == 0) {
		return 0;
	}
	if (ipcs_wake_at(s, ipcs_now_ns()) == 0) {
		c->close_retry = 1;
		return 0;
	}
	qb_ipcs_connection_unref(c);
	return -1;
}

/* Ask the application's connection_closed; retry later if it objects. */
static void ipcs_close_finish(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;

	if (s->fns.connection_closed && s->fns.connection_closed(c) != 0 &&
	    close_retry_later(c) == 0) {
		return;
	}
	c->state = IPCS_CONN_CLOSED;
	qb_ipcs_connection_unref(c); /* the reference of the live list */
}

static void ipcs_closed_retry(void *data)
{
	struct qb_ipcs_connection *c = data;

	ipcs_close_finish(c);
	qb_ipcs_connection_unref(c);
}

void qb_ipcs_disconnect(qb_ipcs_connection_t *c)
{
	struct qb_ipcs_service *s;

	if (c == NULL) {
		return;
	}
	s = c->service;
	if (c->state == IPCS_CONN_SETUP) {
		ipcs_conn_dead(c);
		return;
	}
	if (c->state != IPCS_CONN_ACTIVE) {
		return;
	}
	c->state = IPCS_CONN_CLOSING;
	util_log(LOG_DEBUG,
		 "IPC service %s: closing the connection of "
		 "pid %d (%s)",
		 s->name, (int)c->creds.pid, c->description);
	if (s->stats.active_connections) {
		s->stats.active_connections--;
	}
	s->stats.closed_connections++;
	s->ops->poll_del(c);
	ipcs_close_finish(c);
}

/* Hand one validated request to the application. */
int32_t ipcs_deliver(struct qb_ipcs_connection *c, void *data, size_t size)
{
	struct qb_ipcs_service *s = c->service;
	struct qb_ipc_request_header hdr;

	/* ring chunks are only 4-byte aligned: copy, do not dereference */
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.id == QB_IPC_MSG_DISCONNECT) {
		qb_ipcs_disconnect(c);
		return -ESHUTDOWN;
	}
	c->stats.requests++;
	if (s->fns.msg_process == NULL) {
		return 0;
	}
	return s->fns.msg_process(c, data, size);
}

/* ---- the handshake ------------------------------------------------------- */
/* Connections whose connection_closed asked to be called again. */
static void run_close_retries(struct qb_ipcs_service *s)
{
	struct qb_ipcs_connection *c;

	/* only those due now: a refusal in this pass waits for the next */
	for (c = ipcs_conn_first(&s->conns); c; c = ipcs_conn_next(&s->conns, c)) {
		if (c->close_retry) {
			c->close_retry = 2;
		}
	}
	for (c = ipcs_conn_first(&s->conns); c;) {
		if (c->close_retry != 2) {
			c = ipcs_conn_next(&s->conns, c);
			continue;
		}
		c->close_retry = 0;
		ipcs_close_finish(c);
		qb_ipcs_connection_unref(c);
		c = ipcs_conn_first(&s->conns); /* the list may have changed */
	}
}

/* The wake-up timer fired (ipcs_wake.c). */
void ipcs_wake(struct qb_ipcs_service *s)
{
	uint64_t next;

	run_close_retries(s);
	next = ipcs_expire_pending(s, ipcs_now_ns());
	if (next) {
		(void)ipcs_wake_at(s, next);
	}
}

/* ---- sending --------------------------------------------------------------- */

static ssize_t ipcs_sendv(struct qb_ipcs_connection *c, const struct iovec *iov, size_t iov_len,
			  int32_t event)
{
	size_t total = 0;
	ssize_t rc;

	if (c == NULL || iov == NULL || iov_len == 0) {
		return -EINVAL;
	}
	if (c->state != IPCS_CONN_ACTIVE) {
		return -ENOTCONN;
	}
	for (size_t i = 0; i < iov_len; i++) {
		if (iov[i].iov_base == NULL && iov[i].iov_len) {
			return -EINVAL;
		}
		total += iov[i].iov_len;
	}
	if (total > c->max_msg_size) {
		return -EMSGSIZE;
	}
	qb_ipcs_connection_ref(c);
	rc = c->service->ops->sendv(c, iov, iov_len, total, event);
	if (ipcs_guard_tripped(c)) {
		rc = -EIO; /* the message went to zero pages */
	}
	if (rc == -EIO) {
		qb_ipcs_disconnect(c);
	} else if (rc >= 0) {
		if (event) {
			c->stats.events++;
		} else {
			c->stats.responses++;
		}
	} else if (rc == -EAGAIN) {
		c->stats.send_retries++;
	} else if (ipc_errno_is_disconnect((int32_t)rc)) {
		qb_ipcs_disconnect(c);
	}
	qb_ipcs_connection_unref(c);
	return rc;
}

ssize_t qb_ipcs_response_sendv(qb_ipcs_connection_t *c, const struct iovec *iov, size_t iov_len)
{
	return ipcs_sendv(c, iov, iov_len, 0);
}

ssize_t qb_ipcs_response_send(qb_ipcs_connection_t *c, const void *data, size_t size)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = size};

	if (data == NULL) {
		return -EINVAL;
	}
	return ipcs_sendv(c, &iov, 1, 0);
}

ssize_t qb_ipcs_event_sendv(qb_ipcs_connection_t *c, const struct iovec *iov, size_t iov_len)
{
	return ipcs_sendv(c, iov, iov_len, 1);
}

ssize_t qb_ipcs_event_send(qb_ipcs_connection_t *c, const void *data, size_t size)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = size};

	if (data == NULL) {
		return -EINVAL;
	}
	return ipcs_sendv(c, &iov, 1, 1);
}
