/*
 * ipcs_shm.c - server side of the SHM transport.
 *
 * Requests arrive in the request ring; the client then sends one byte on the
 * setup socket so that a poll()-driven server wakes up. Responses go to the
 * response ring (no byte); events to the event ring followed by one byte.
 * Every length read from a ring is checked against the chunk it came from.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

#define SHM_PEEK_TIMEOUT_MS 10
#define SHM_USER_DATA_SIZE sizeof(int32_t)

static qb_ringbuffer_t *ring_create(struct qb_ipcs_connection *c, const char *kind, char *out_name)
{
	char name[IPC_NAME_MAX];
	qb_ringbuffer_t *rb;

	ipc_str_cut(name, sizeof(name), "%s-%s-%s", c->description, kind, c->service->name);
	ipc_str_cut(out_name, IPC_STR_MAX, "%s", name);
	rb = qb_rb_open(name, c->max_msg_size, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_PROCESS,
			SHM_USER_DATA_SIZE);
	if (rb == NULL) {
		return NULL;
	}
	(void)qb_rb_chown(rb, c->auth_uid, c->auth_gid);
	if (qb_rb_chmod(rb, c->auth_mode) < 0) {
		int err = errno;

		ipc_rb_close_last(rb);
		errno = err;
		return NULL;
	}
	return rb;
}

static int32_t shm_connect(struct qb_ipcs_connection *c, struct ipc_conn_response *r)
{
	c->shm_req = ring_create(c, "request", r->request);
	if (c->shm_req == NULL) {
		return -errno;
	}
	c->shm_resp = ring_create(c, "response", r->response);
	if (c->shm_resp == NULL) {
		return -errno;
	}
	c->shm_ev = ring_create(c, "event", r->event);
	if (c->shm_ev == NULL) {
		return -errno;
	}
	(void)ipcs_conn_mlock(c);
	ipcs_guard_rb(c, c->shm_req);
	ipcs_guard_rb(c, c->shm_resp);
	ipcs_guard_rb(c, c->shm_ev);
	return 0;
}

static void shm_fc_set(struct qb_ipcs_connection *c, int32_t fc)
{
	int32_t *word = qb_rb_shared_user_data_get(c->shm_req);

	if (word) {
		__atomic_store_n(word, fc, __ATOMIC_RELEASE);
	}
}

static int32_t shm_dispatch(int32_t fd, int32_t revents, void *data);

static int32_t shm_poll_add(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;
	int32_t rc = s->poll.dispatch_add(c->prio, c->setup_fd, ipcs_conn_poll_events(c), c,
					  shm_dispatch);
	if (rc == 0) {
		c->setup_polled = 1;
	}
	return rc;
}

static void shm_poll_del(struct qb_ipcs_connection *c)
{
	if (c->setup_polled) {
		(void)c->service->poll.dispatch_del(c->setup_fd);
		c->setup_polled = 0;
	}
}

static void shm_poll_update(struct qb_ipcs_connection *c)
{
	if (c->setup_polled) {
		(void)c->service->poll.dispatch_mod(c->prio, c->setup_fd, ipcs_conn_poll_events(c),
						    c, shm_dispatch);
	}
}

/* Read up to want notification bytes without blocking. 0, or -ENOTCONN. */
static int32_t drain_bytes(struct qb_ipcs_connection *c, uint32_t want, uint32_t *got)
{
	char buf[64];

	*got = 0;
	while (*got < want) {
		size_t n = QB_MIN(sizeof(buf), (size_t)(want - *got));
		ssize_t r = recv(c->setup_fd, buf, n, MSG_DONTWAIT);

		if (r > 0) {
			*got += (uint32_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		}
		return -ENOTCONN;
	}
	return 0;
}

static void flush_deferred(struct qb_ipcs_connection *c)
{
	char zeros[64] = {0};

	while (c->deferred_bytes) {
		size_t n = QB_MIN(sizeof(zeros), (size_t)c->deferred_bytes);
		ssize_t r = send(c->setup_fd, zeros, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r <= 0) {
			break;
		}
		c->deferred_bytes -= (uint32_t)r;
	}
	if (c->deferred_bytes == 0) {
		shm_poll_update(c);
	}
}

/*
 * Process the requests waiting in the ring. Returns the number consumed,
 * or -ENOTCONN when the connection must be dropped.
 */
static int32_t shm_process_requests(struct qb_ipcs_connection *c, int32_t avail)
{
	int32_t consumed = 0;

	while (consumed < avail && c->state == IPCS_CONN_ACTIVE && !c->fc_state) {
		void *chunk = NULL;
		ssize_t len = qb_rb_chunk_peek(c->shm_req, &chunk, SHM_PEEK_TIMEOUT_MS);
		size_t size;
		int32_t rc;

		if (len == 0 && chunk == NULL) {
			break; /* nothing yet */
		}
		if (len == -EAGAIN || len == -ETIMEDOUT) {
			break;
		}
		if (len < 0) {
			return -ENOTCONN;
		}
		consumed++;
		c->last_req = (size_t)len;
		rc = ipc_proto_msg_check(chunk, (size_t)len, c->max_msg_size, &size);
		if (rc < 0) {
			util_log(LOG_WARNING,
				 "%s: invalid request from pid "
				 "%d (chunk %zd bytes): %d",
				 c->service->name, (int)c->creds.pid, len, rc);
			/* includes a zero-length chunk: reclaim, then drop */
			qb_rb_chunk_reclaim(c->shm_req);
			return -ENOTCONN;
		}
		rc = ipcs_deliver(c, chunk, size);
		qb_rb_chunk_reclaim(c->shm_req);
		if (rc < 0) {
			break;
		}
	}
	return consumed;
}

static int32_t ring_has_chunk(void *rb)
{
	return qb_rb_chunks_used(rb) > 0;
}

/* The requests that come while we linger (ipcs_linger): the number
 * consumed in all, or -ENOTCONN. */
static int32_t shm_linger(struct qb_ipcs_connection *c, int32_t consumed)
{
	while (ipcs_linger(c, consumed, ring_has_chunk, c->shm_req)) {
		int32_t more = shm_process_requests(c, 1);

		if (more <= 0) {
			return more < 0 ? more : consumed;
		}
		consumed += more;
	}
	return consumed;
}

static int32_t shm_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct qb_ipcs_connection *c = data;
	uint32_t got = 0;
	ssize_t avail;
	int32_t consumed;

	if (c->state != IPCS_CONN_ACTIVE) {
		return 0;
	}
	qb_ipcs_connection_ref(c);
	if (revents & (POLLNVAL | POLLHUP | POLLERR)) {
		util_log(LOG_DEBUG, "IPC service %s: pid %d hung up", c->service->name,
			 (int)c->creds.pid);
		goto drop;
	}
	if (revents & POLLOUT) {
		flush_deferred(c);
		if (!(revents & POLLIN)) {
			goto out;
		}
	}
	if (c->fc_state) {
		goto out;
	}
	avail = qb_rb_chunks_used(c->shm_req);
	if (avail < 0) {
		goto drop;
	}
	avail = QB_MIN(avail, (ssize_t)ipcs_rate_cap(c->service->rate));
	if (avail == 0) {
		/* a byte whose message was already handled (or a stray one) */
		if (drain_bytes(c, QB_MAX(c->owed_bytes, 1u), &got) < 0) {
			goto drop;
		}
		if (got > c->owed_bytes) {
			c->credit_bytes += got - c->owed_bytes;
		}
		c->owed_bytes -= QB_MIN(c->owed_bytes, got);
		/* a message posted just before that byte was read would
		 * otherwise wait for the next wake-up, maybe forever */
		avail = qb_rb_chunks_used(c->shm_req);
		avail = QB_MIN(avail, (ssize_t)ipcs_rate_cap(c->service->rate));
		if (avail <= 0) {
			goto out;
		}
	}
	consumed = shm_process_requests(c, (int32_t)avail);
	consumed = shm_linger(c, consumed);
	if (consumed < 0) {
		goto drop;
	}
	if (c->state != IPCS_CONN_ACTIVE) {
		goto out;
	}
	/* one byte per consumed message; never block on a slow client */
	got = QB_MIN(c->credit_bytes, (uint32_t)consumed);
	c->credit_bytes -= got;
	c->owed_bytes += (uint32_t)consumed - got;
	if (drain_bytes(c, c->owed_bytes, &got) < 0) {
		goto drop;
	}
	c->owed_bytes -= got;
	goto out;
drop:
	qb_ipcs_disconnect(c);
out:
	if (ipcs_guard_tripped(c)) {
		qb_ipcs_disconnect(c);
	}
	qb_ipcs_connection_unref(c);
	return 0;
}

static ssize_t shm_sendv(struct qb_ipcs_connection *c, const struct iovec *iov, size_t iov_len,
			 size_t total, int32_t event)
{
	qb_ringbuffer_t *rb = event ? c->shm_ev : c->shm_resp;
	char *dst;
	int32_t rc;

	/* Owed notifications go out on every event send, full ring or not:
	 * a server looping in one handler never runs the POLLOUT flush, and
	 * the client must not sleep while events are pending. */
	if (event && c->deferred_bytes) {
		flush_deferred(c);
	}
	dst = qb_rb_chunk_alloc(rb, total);
	if (dst == NULL) {
		return errno ? -errno : -EAGAIN;
	}
	for (size_t i = 0; i < iov_len; i++) {
		memcpy(dst, iov[i].iov_base, iov[i].iov_len);
		dst += iov[i].iov_len;
	}
	rc = qb_rb_chunk_commit(rb, total);
	if (rc < 0) {
		return rc;
	}
	if (event) {
		char zero = 0;
		ssize_t n = c->deferred_bytes
			? 0
			: send(c->setup_fd, &zero, 1, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n != 1) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				return -ENOTCONN;
			}
			if (c->deferred_bytes++ == 0) {
				shm_poll_update(c);
			}
		}
	}
	return (ssize_t)total;
}

static uint32_t shm_event_q_len(struct qb_ipcs_connection *c)
{
	ssize_t n = qb_rb_chunks_used(c->shm_ev);

	return n > 0 ? (uint32_t)n : 0;
}

static void shm_destroy(struct qb_ipcs_connection *c)
{
	/* closing writes to the headers: still guarded until unmapped */
	ipc_rb_close_last(c->shm_req);
	ipc_rb_close_last(c->shm_resp);
	ipc_rb_close_last(c->shm_ev);
	c->shm_req = c->shm_resp = c->shm_ev = NULL;
	ipcs_guard_release(c);
}

const struct ipcs_ops ipcs_shm_ops = {
	.connect = shm_connect,
	.poll_add = shm_poll_add,
	.poll_del = shm_poll_del,
	.poll_update = shm_poll_update,
	.fc_set = shm_fc_set,
	.sendv = shm_sendv,
	.event_q_len = shm_event_q_len,
	.destroy = shm_destroy,
};
