/*
 * ipcc.c - IPC client: handshake and the transport-neutral API.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

#define IPCC_SENDV_RECV_SLICE_MS 2000
#define IPCC_MIN_MSG_SIZE ((uint32_t)sizeof(struct ipc_conn_response))

static void ipcc_free(struct qb_ipcc_connection *c)
{
	if (c->setup_fd >= 0) {
		qb_ipcc_us_sock_close(c->setup_fd);
	}
	free(c->hs);
	free(c);
}

/* Connect the setup socket and send the request (steps before the wait). */
int32_t qb_ipcc_us_setup_connect(struct qb_ipcc_connection *c, struct ipc_conn_response *unused)
{
	struct sockaddr_un addr;
	socklen_t alen;
	struct ipc_conn_request req;
	int fd;
	int32_t rc;

	rc = ipc_sock_addr(&addr, &alen, c->name, 1);
	if (rc < 0) {
		return rc;
	}
	fd = ipc_sock_open(SOCK_STREAM);
	if (fd < 0) {
		return fd;
	}
	if (connect(fd, (struct sockaddr *)&addr, alen) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	c->setup_fd = fd;
	/* makes the server's response carry its credentials */
	(void)ipc_sock_set_passcred(fd, 1);

	memset(&req, 0, sizeof(req));
	req.hdr.id = QB_IPC_MSG_AUTHENTICATE;
	req.hdr.size = sizeof(req);
	req.max_msg_size = c->max_msg_size;
	rc = (int32_t)ipc_sock_send_all(fd, &req, sizeof(req), -1);
	return rc < 0 ? rc : 0;
}

/* Read (more of) the handshake response. 0 = complete, -EAGAIN = wait. */
static int32_t ipcc_handshake_read(struct qb_ipcc_connection *c)
{
	size_t want = sizeof(*c->hs);

	while (c->hs_got < want) {
		ssize_t n = ipc_sock_recv_creds(c->setup_fd, (char *)c->hs + c->hs_got,
						want - c->hs_got, &c->server, &c->hs_have_creds);
		if (n == 0) {
			return -ENOTCONN;
		}
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			return -EAGAIN;
		}
		if (n < 0) {
			return ipc_errno_is_disconnect((int32_t)n) ? -ENOTCONN : (int32_t)n;
		}
		c->hs_got += (size_t)n;
	}
	return 0;
}

/* Milliseconds left until @p deadline (CLOCK_MONOTONIC ms); -1: none. */
static int32_t ms_left(int64_t deadline)
{
	struct timespec ts;
	int64_t now;

	if (deadline < 0) {
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return now >= deadline ? 0 : (int32_t)QB_MIN(deadline - now, INT32_MAX);
}

/* Wait for the server's answer until @p deadline (-1: for ever). */
static int32_t ipcc_setup_connect_wait(struct qb_ipcc_connection *c, struct ipc_conn_response *r,
				       int64_t deadline)
{
	int32_t rc;

	for (;;) {
		short rev;
		int32_t left;

		rc = ipcc_handshake_read(c);
		if (rc != -EAGAIN) {
			break;
		}
		left = ms_left(deadline);
		if (left == 0) {
			return -ETIMEDOUT;
		}
		rc = ipc_sock_poll(c->setup_fd, POLLIN, left, &rev);
		if (rc < 0) {
			return rc;
		}
	}
	if (rc < 0) {
		return rc;
	}
	(void)ipc_sock_set_passcred(c->setup_fd, 0);
	rc = ipc_proto_response_parse(r, sizeof(*r));
	if (rc < 0) {
		return rc;
	}
	c->type = (enum qb_ipc_type)r->connection_type;
	c->max_msg_size = r->max_msg_size;
	c->ops = (c->type == QB_IPC_SHM) ? &ipcc_shm_ops : &ipcc_us_ops;
	rc = c->ops->connect(c, r);
	if (rc < 0) {
		return rc;
	}
	c->is_connected = QB_TRUE;
	return 0;
}

int32_t qb_ipcc_setup_connect_continue(struct qb_ipcc_connection *c, struct ipc_conn_response *r)
{
	return ipcc_setup_connect_wait(c, r, -1);
}

static struct qb_ipcc_connection *ipcc_alloc(const char *name, size_t max_msg_size)
{
	struct qb_ipcc_connection *c;

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	c->hs = calloc(1, sizeof(*c->hs));
	if (c->hs == NULL) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	ipc_str_cut(c->name, sizeof(c->name), "%s", name);
	if (max_msg_size > INT32_MAX) {
		max_msg_size = INT32_MAX;
	}
	c->max_msg_size = QB_MAX((uint32_t)max_msg_size, IPCC_MIN_MSG_SIZE);
	c->setup_fd = -1;
	c->us_req_fd = -1;
	c->us_ev_fd = -1;
	c->fc_enable_max = 1;
	ipc_spin_init(&c->spin_resp, IPC_SPIN_NS);
	ipc_spin_init(&c->spin_ev, IPC_SPIN_NS);
	return c;
}

qb_ipcc_connection_t *qb_ipcc_connect_async(const char *name, size_t max_msg_size, int *connect_fd)
{
	struct qb_ipcc_connection *c = ipcc_alloc(name, max_msg_size);
	int32_t rc;

	if (c == NULL) {
		return NULL;
	}
	if (connect_fd == NULL) {
		ipcc_free(c);
		errno = EINVAL;
		return NULL;
	}
	rc = qb_ipcc_us_setup_connect(c, NULL);
	if (rc < 0) {
		ipcc_free(c);
		errno = -rc;
		return NULL;
	}
	*connect_fd = c->setup_fd;
	return c;
}

int qb_ipcc_connect_continue(struct qb_ipcc_connection *c)
{
	int32_t rc;

	if (c == NULL) {
		return -EINVAL;
	}
	rc = qb_ipcc_setup_connect_continue(c, c->hs);
	if (rc < 0) {
		if (c->ops) {
			c->ops->disconnect(c);
		}
		ipcc_free(c);
		return rc;
	}
	free(c->hs);
	c->hs = NULL;
	return 0;
}

qb_ipcc_connection_t *qb_ipcc_connect_timeout(const char *name, size_t max_msg_size,
					      int32_t timeout_ms)
{
	struct qb_ipcc_connection *c;
	struct timespec ts;
	int64_t deadline;
	int fd;
	int32_t rc;

	if (timeout_ms < 0) {
		return qb_ipcc_connect(name, max_msg_size);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	c = qb_ipcc_connect_async(name, max_msg_size, &fd);
	if (c == NULL) {
		return NULL;
	}
	rc = ipcc_setup_connect_wait(c, c->hs, deadline);
	if (rc < 0) {
		if (c->ops) {
			c->ops->disconnect(c);
		}
		ipcc_free(c);
		errno = -rc;
		return NULL;
	}
	free(c->hs);
	c->hs = NULL;
	return c;
}

qb_ipcc_connection_t *qb_ipcc_connect(const char *name, size_t max_msg_size)
{
	int fd;
	struct qb_ipcc_connection *c = qb_ipcc_connect_async(name, max_msg_size, &fd);
	int32_t rc;

	if (c == NULL) {
		return NULL;
	}
	rc = qb_ipcc_connect_continue(c);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return c;
}

/* Update is_connected from the setup socket (and another fd). */
int32_t ipcc_liveness_check(struct qb_ipcc_connection *c, int extra_fd, int32_t ms_timeout)
{
	struct pollfd p[2];
	nfds_t n = 0;
	int r;

	if (!c->is_connected) {
		return QB_FALSE;
	}
	if (c->setup_fd >= 0) {
		p[n].fd = c->setup_fd;
		p[n].events = 0;
		p[n++].revents = 0;
	}
	if (extra_fd >= 0 && extra_fd != c->setup_fd) {
		p[n].fd = extra_fd;
		p[n].events = 0;
		p[n++].revents = 0;
	}
	do {
		r = poll(p, n, ms_timeout);
	} while (r < 0 && errno == EINTR);
	for (nfds_t i = 0; r > 0 && i < n; i++) {
		if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			c->is_connected = QB_FALSE;
		}
	}
	return c->is_connected;
}

/* A dead connection: -ENOTCONN, and errno ENOTCONN as libqb leaves it. */
static int32_t ipcc_not_connected(void)
{
	errno = ENOTCONN;
	return -ENOTCONN;
}

/* Map a transport error to what the caller sees, noting disconnects. */
static ssize_t ipcc_result(struct qb_ipcc_connection *c, ssize_t res, int32_t ms_timeout)
{
	if (res >= 0) {
		return res;
	}
	if (res == -ETIMEDOUT || res == -EAGAIN) {
		int32_t t = (res == -EAGAIN && ms_timeout > 0) ? ms_timeout : 0;

		if (!ipcc_liveness_check(c, c->ops->event_fd(c), t)) {
			return ipcc_not_connected();
		}
		return res;
	}
	if (res == -ENOTCONN) {
		c->is_connected = QB_FALSE;
		return ipcc_not_connected();
	}
	if (ipc_errno_is_disconnect((int32_t)res)) {
		c->is_connected = QB_FALSE;
	}
	return res;
}

static int32_t ipcc_usable(struct qb_ipcc_connection *c)
{
	if (c == NULL || c->ops == NULL) {
		return -EINVAL;
	}
	if (!c->is_connected) {
		return ipcc_not_connected();
	}
	return 0;
}

ssize_t qb_ipcc_sendv(qb_ipcc_connection_t *c, const struct iovec *iov, size_t iov_len)
{
	size_t total = 0;
	int32_t fc;
	int32_t rc = ipcc_usable(c);

	if (rc < 0) {
		return rc;
	}
	if (iov == NULL || iov_len == 0) {
		return -EINVAL;
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
	/* a peer server cannot tell an empty message from "nothing yet" */
	if (total < sizeof(struct qb_ipc_request_header)) {
		return -EINVAL;
	}
	fc = c->ops->fc_get(c);
	if (fc < 0) {
		return ipcc_result(c, fc, 0);
	}
	if (fc > 0 && (uint32_t)fc <= c->fc_enable_max) {
		return -EAGAIN;
	}
	return ipcc_result(c, c->ops->sendv(c, iov, iov_len, total), 0);
}

ssize_t qb_ipcc_send(qb_ipcc_connection_t *c, const void *msg_ptr, size_t msg_len)
{
	struct iovec iov = {.iov_base = (void *)msg_ptr, .iov_len = msg_len};

	if (msg_ptr == NULL) {
		return -EINVAL;
	}
	return qb_ipcc_sendv(c, &iov, 1);
}

ssize_t qb_ipcc_recv(qb_ipcc_connection_t *c, void *msg_ptr, size_t msg_len, int32_t ms_timeout)
{
	int32_t rc = ipcc_usable(c);

	if (rc < 0) {
		return rc;
	}
	if (msg_ptr == NULL) {
		return -EINVAL;
	}
	return ipcc_result(c, c->ops->recv(c, msg_ptr, msg_len, ms_timeout), ms_timeout);
}

ssize_t qb_ipcc_sendv_recv(qb_ipcc_connection_t *c, const struct iovec *iov, uint32_t iov_len,
			   void *msg_ptr, size_t msg_len, int32_t ms_timeout)
{
	ssize_t res = qb_ipcc_sendv(c, iov, iov_len);
	int32_t left = ms_timeout;

	if (res < 0) {
		return res;
	}
	if (msg_ptr == NULL) {
		return -EINVAL;
	}
	do {
		int32_t slice = IPCC_SENDV_RECV_SLICE_MS;

		if (left >= 0 && left < slice) {
			slice = left;
		}
		res = qb_ipcc_recv(c, msg_ptr, msg_len, slice);
		if (res != -ETIMEDOUT && res != -EAGAIN) {
			return res;
		}
		if (left >= 0) {
			left -= slice;
		}
	} while ((left > 0 || ms_timeout < 0) && qb_ipcc_is_connected(c));
	if (!c->is_connected) {
		return ipcc_not_connected();
	}
	return -ETIMEDOUT;
}

ssize_t qb_ipcc_event_recv(qb_ipcc_connection_t *c, void *msg_ptr, size_t msg_len,
			   int32_t ms_timeout)
{
	int32_t rc = ipcc_usable(c);
	ssize_t res;

	if (rc < 0) {
		return rc;
	}
	if (msg_ptr == NULL) {
		return -EINVAL;
	}
	res = c->ops->event_recv(c, msg_ptr, msg_len, ms_timeout);
	if (res == -ENOTCONN) {
		c->is_connected = QB_FALSE;
	}
	return ipcc_result(c, res, 0);
}

void qb_ipcc_disconnect(qb_ipcc_connection_t *c)
{
	if (c == NULL) {
		return;
	}
	util_log(LOG_DEBUG, "IPC client: disconnecting from %s", c->name);
	if (c->ops) {
		(void)ipcc_liveness_check(c, -1, 0);
		c->ops->disconnect(c);
	}
	ipcc_free(c);
}

int32_t qb_ipcc_fd_get(qb_ipcc_connection_t *c, int32_t *fd)
{
	if (c == NULL || fd == NULL || c->ops == NULL) {
		return -EINVAL;
	}
	*fd = c->ops->event_fd(c);
	return 0;
}

int32_t qb_ipcc_auth_get(qb_ipcc_connection_t *c, pid_t *pid, uid_t *uid, gid_t *gid)
{
	if (c == NULL) {
		return -EINVAL;
	}
	if (pid) {
		*pid = c->server.pid;
	}
	if (uid) {
		*uid = c->server.uid;
	}
	if (gid) {
		*gid = c->server.gid;
	}
	return 0;
}

int32_t qb_ipcc_fc_enable_max_set(qb_ipcc_connection_t *c, uint32_t max)
{
	if (c == NULL || max > 2) {
		return -EINVAL;
	}
	c->fc_enable_max = max;
	return 0;
}

void qb_ipcc_context_set(qb_ipcc_connection_t *c, void *context)
{
	if (c) {
		c->context = context;
	}
}

void *qb_ipcc_context_get(qb_ipcc_connection_t *c)
{
	return c ? c->context : NULL;
}

int32_t qb_ipcc_is_connected(qb_ipcc_connection_t *c)
{
	if (c == NULL || c->ops == NULL) {
		return QB_FALSE;
	}
	if (!ipcc_liveness_check(c, c->ops->event_fd(c), 0)) {
		(void)ipcc_not_connected();
		return QB_FALSE;
	}
	return QB_TRUE;
}

int32_t qb_ipcc_get_buffer_size(qb_ipcc_connection_t *c)
{
	if (c == NULL) {
		return -EINVAL;
	}
	return (int32_t)c->max_msg_size;
}

int32_t qb_ipcc_verify_dgram_max_msg_size(size_t max_msg_size)
{
	int sv[2];
	char *buf;
	int32_t found = -1;
	size_t sz;

	if (max_msg_size < 1024) {
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		return -1;
	}
	buf = calloc(1, max_msg_size);
	if (buf == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	(void)ipc_sock_set_buffers(sv[0], max_msg_size);
	(void)ipc_sock_set_buffers(sv[1], max_msg_size);
	for (sz = max_msg_size - (max_msg_size % 1024); sz >= 1024; sz -= 1024) {
		if (send(sv[0], buf, sz, MSG_NOSIGNAL) == (ssize_t)sz &&
		    recv(sv[1], buf, sz, 0) == (ssize_t)sz) {
			found = (int32_t)sz;
			break;
		}
	}
	free(buf);
	close(sv[0]);
	close(sv[1]);
	return found;
}
