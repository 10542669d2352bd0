/*
 * ipcc_shm.c - client side of the SHM transport: three ring buffers plus
 * one notification byte per request on the setup socket.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"

#define SHM_WAIT_SLICE_MS 250

int32_t qb_ipcc_shm_connect(struct qb_ipcc_connection *c, struct ipc_conn_response *r)
{
	uint32_t fl = QB_RB_FLAG_SHARED_PROCESS;

	char *slash;

	if (strlen(c->name) > IPC_SHM_CLIENT_NAME_MAX) {
		return -EINVAL;
	}
	/* remembered to clean up after a server that died */
	ipc_str_cut(c->shm_dir, sizeof(c->shm_dir), "%s", r->request);
	slash = strrchr(c->shm_dir, '/');
	if (slash) {
		*slash = '\0';
	} else {
		c->shm_dir[0] = '\0';
	}
	c->shm_req = qb_rb_open(r->request, c->max_msg_size, fl, sizeof(int32_t));
	if (c->shm_req == NULL) {
		return -errno;
	}
	c->shm_resp = qb_rb_open(r->response, c->max_msg_size, fl, 0);
	if (c->shm_resp == NULL) {
		goto fail;
	}
	c->shm_ev = qb_rb_open(r->event, c->max_msg_size, fl, 0);
	if (c->shm_ev == NULL) {
		goto fail;
	}
	return 0;
fail : {
	int32_t err = -errno;

	ipc_rb_close_last(c->shm_resp);
	ipc_rb_close_last(c->shm_req);
	c->shm_req = c->shm_resp = NULL;
	return err;
}
}

static int32_t shm_connect(struct qb_ipcc_connection *c, const struct ipc_conn_response *r)
{
	return qb_ipcc_shm_connect(c, (struct ipc_conn_response *)r);
}

static int32_t shm_alive(struct qb_ipcc_connection *c)
{
	if (qb_rb_refcount_get(c->shm_req) != 2) {
		c->is_connected = QB_FALSE;
		return QB_FALSE;
	}
	return ipcc_liveness_check(c, -1, 0);
}

static int32_t shm_fc_get(struct qb_ipcc_connection *c)
{
	int32_t *word;

	/* the ring count is enough here (no syscall per send); a server that
	 * died without closing shows up as EPIPE on the notification byte */
	if (qb_rb_refcount_get(c->shm_req) != 2) {
		c->is_connected = QB_FALSE;
		return -ENOTCONN;
	}
	word = qb_rb_shared_user_data_get(c->shm_req);
	return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

static ssize_t shm_notify(struct qb_ipcc_connection *c, char byte)
{
	for (;;) {
		ssize_t n = send(c->setup_fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		short rev;

		if (n == 1) {
			return 0;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ipc_sock_poll(c->setup_fd, POLLOUT, SHM_WAIT_SLICE_MS, &rev) > 0 &&
			    (rev & (POLLHUP | POLLERR | POLLNVAL))) {
				return -ENOTCONN;
			}
			continue;
		}
		return (n < 0 && errno != EPIPE) ? -errno : -ENOTCONN;
	}
}

static ssize_t shm_sendv(struct qb_ipcc_connection *c, const struct iovec *iov, size_t iov_len,
			 size_t total)
{
	char *dst = qb_rb_chunk_alloc(c->shm_req, total);
	char *p;
	ssize_t rc;

	if (dst == NULL) {
		return -errno;
	}
	p = dst;
	for (size_t i = 0; i < iov_len; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	rc = qb_rb_chunk_commit(c->shm_req, total);
	if (rc < 0) {
		return rc;
	}
	/* only after commit + post: a server woken early drops the byte */
	rc = shm_notify(c, dst[0]);
	return rc < 0 ? rc : (ssize_t)total;
}

/* Read a ring in bounded slices so that a dead server is noticed. */
static ssize_t shm_read(struct qb_ipcc_connection *c, qb_ringbuffer_t *rb, void *buf, size_t len,
			int32_t ms_timeout)
{
	int32_t left = ms_timeout;

	for (;;) {
		int32_t slice = SHM_WAIT_SLICE_MS;
		ssize_t r;

		if (left >= 0 && left < slice) {
			slice = left;
		}
		r = qb_rb_chunk_read(rb, buf, len, slice);
		if (r != -ETIMEDOUT) {
			return r;
		}
		if (left >= 0) {
			left -= slice;
			if (left <= 0) {
				return -ETIMEDOUT;
			}
		}
		if (!shm_alive(c)) {
			return -ENOTCONN;
		}
	}
}

static int32_t ring_has_chunk(void *rb)
{
	return qb_rb_chunks_used(rb) > 0;
}

static ssize_t shm_recv(struct qb_ipcc_connection *c, void *buf, size_t len, int32_t ms_timeout)
{
	ssize_t n;

	if (ms_timeout != 0 && c->last_resp <= IPC_SPIN_MAX_BYTES) {
		(void)ipc_spin_wait(&c->spin_resp, IPC_SPIN_CHECKS, ring_has_chunk, c->shm_resp);
	}
	n = shm_read(c, c->shm_resp, buf, len, ms_timeout);
	if (n >= 0) {
		c->last_resp = (size_t)n;
	}
	return n;
}

/* Take one notification byte without waiting: 1, 0 (none yet), -1 (EOF). */
static int32_t ev_take_byte(struct qb_ipcc_connection *c)
{
	char byte;
	ssize_t r;

	do {
		r = recv(c->setup_fd, &byte, 1, MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		c->is_connected = QB_FALSE;
		return -1;
	}
	return r == 1;
}

/*
 * Take the event at the head of the ring without polling first (events
 * come in bursts), then its notification byte. The server sends the byte
 * after committing the event, so it may not be there yet: it is owed, and
 * taken on a later call. Returns the size, -ETIMEDOUT (no event) or -errno.
 */
static ssize_t ev_take_queued(struct qb_ipcc_connection *c, void *buf, size_t len)
{
	ssize_t n;

	if (qb_rb_chunks_used(c->shm_ev) <= 0) {
		return -ETIMEDOUT;
	}
	n = qb_rb_chunk_read(c->shm_ev, buf, len, 0);
	if (n >= 0 && ev_take_byte(c) == 0) {
		c->ev_owed++;
	}
	return n;
}

static ssize_t shm_event_recv(struct qb_ipcc_connection *c, void *buf, size_t len,
			      int32_t ms_timeout)
{
	short rev = 0;
	int32_t r;
	ssize_t n;

	while (c->ev_owed > 0 && ev_take_byte(c) == 1) {
		c->ev_owed--;
	}
	if (ms_timeout != 0) {
		(void)ipc_spin_wait(&c->spin_ev, IPC_SPIN_CHECKS, ring_has_chunk, c->shm_ev);
	}
	n = ev_take_queued(c, buf, len);
	if (n != -ETIMEDOUT) {
		return n;
	}
	r = ipc_sock_poll(c->setup_fd, POLLIN, ms_timeout, &rev);
	if (r == 0) {
		return -EAGAIN;
	}
	if (r < 0) {
		return r;
	}
	if (!(rev & POLLIN)) {
		return -ENOTCONN;
	}
	n = shm_read(c, c->shm_ev, buf, len,
		     ms_timeout < 0 ? -1 : QB_MAX(ms_timeout, SHM_WAIT_SLICE_MS));
	if (n == -ETIMEDOUT) {
		return -EAGAIN;
	}
	if (n < 0) {
		return n;
	}
	(void)ev_take_byte(c);
	return n;
}

static int shm_event_fd(struct qb_ipcc_connection *c)
{
	return c->setup_fd;
}

/* Is the server process gone for good? (decides force-unlinking) */
static int32_t server_is_dead(struct qb_ipcc_connection *c)
{
	if (c->server.pid == 0) {
		return QB_TRUE;
	}
	for (int i = 0; i < 4; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (kill(c->server.pid, 0) < 0 && errno == ESRCH) {
			return QB_TRUE;
		}
		nanosleep(&ts, NULL);
	}
	return QB_FALSE;
}

static void shm_disconnect(struct qb_ipcc_connection *c)
{
	int32_t force = !c->is_connected && c->shm_req && server_is_dead(c);

	if (c->setup_fd >= 0) {
		qb_ipcc_us_sock_close(c->setup_fd);
		c->setup_fd = -1;
	}
	if (force) {
		ipc_rb_force_close(c->shm_req);
		ipc_rb_force_close(c->shm_resp);
		ipc_rb_force_close(c->shm_ev);
		/* the server cannot remove its (now empty) directory any more */
		if (shm_path_is_qb(c->shm_dir)) {
			(void)shm_dir_remove(c->shm_dir);
		}
	} else {
		ipc_rb_close_last(c->shm_req);
		ipc_rb_close_last(c->shm_resp);
		ipc_rb_close_last(c->shm_ev);
	}
	c->shm_req = c->shm_resp = c->shm_ev = NULL;
}

const struct ipcc_ops ipcc_shm_ops = {
	.connect = shm_connect,
	.fc_get = shm_fc_get,
	.sendv = shm_sendv,
	.recv = shm_recv,
	.event_recv = shm_event_recv,
	.event_fd = shm_event_fd,
	.disconnect = shm_disconnect,
};
