/*
 * ipcs_us.c - the listening socket of every service, and the server side
 * of the SOCKET transport (datagram sockets + 24-byte control file).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

#define US_CONNECT_TRIES 10
#define US_CONNECT_PAUSE_NS (100 * 1000 * 1000)
#define US_RBUF_OFFSET 2048

/* ---- listening socket ------------------------------------------------- */

int32_t qb_ipcs_us_publish(struct qb_ipcs_service *s)
{
	struct sockaddr_un addr;
	socklen_t alen;
	int on = 1;
	int32_t rc;
	int fd;

	rc = ipc_sock_addr(&addr, &alen, s->name, 1);
	if (rc < 0) {
		return rc;
	}
	fd = ipc_sock_open(SOCK_STREAM);
	if (fd < 0) {
		return fd;
	}
	if (addr.sun_path[0] != '\0') {
		(void)unlink(addr.sun_path);
	}
	if (bind(fd, (struct sockaddr *)&addr, alen) < 0) {
		goto fail;
	}
	if (addr.sun_path[0] != '\0') {
		(void)chmod(addr.sun_path, 0777);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0 ||
	    listen(fd, IPC_LISTEN_BACKLOG) < 0) {
		goto fail;
	}
	s->listen_fd = fd;
	ipcs_spare_fd_reserve();
	rc = s->poll.dispatch_add(s->prio, fd, POLLIN | POLLPRI | POLLNVAL, s,
				  qb_ipcs_dispatch_connection_request);
	if (rc < 0) {
		s->listen_fd = -1;
		ipcs_spare_fd_release();
		close(fd);
		return rc;
	}
	return 0;
fail:
	rc = -errno;
	util_perror(LOG_ERR,
		    "IPC service %s: cannot bind or listen on "
		    "its socket",
		    s->name);
	close(fd);
	return rc;
}

int32_t qb_ipcs_us_withdraw(struct qb_ipcs_service *s)
{
	struct sockaddr_un addr;
	socklen_t alen = sizeof(addr);

	if (s->listen_fd < 0) {
		return 0;
	}
	util_log(LOG_INFO, "IPC service %s: closing the server socket", s->name);
	if (s->poll.dispatch_del) {
		(void)s->poll.dispatch_del(s->listen_fd);
	}
	memset(&addr, 0, sizeof(addr));
	if (getsockname(s->listen_fd, (struct sockaddr *)&addr, &alen) == 0 &&
	    alen > offsetof(struct sockaddr_un, sun_path) && addr.sun_path[0] != '\0') {
		(void)unlink(addr.sun_path);
	}
	shutdown(s->listen_fd, SHUT_RDWR);
	close(s->listen_fd);
	s->listen_fd = -1;
	ipcs_spare_fd_release();
	return 0;
}

/* ---- SOCKET transport ------------------------------------------------- */

static int32_t control_create(struct qb_ipcs_connection *c, const char *path)
{
	void *p;
	int32_t rc = shm_control_create(path, sizeof(struct ipc_us_control), c->auth_uid,
					c->auth_gid, c->auth_mode, &c->us_ctl_id, &p);

	if (rc < 0) {
		return rc;
	}
	ipc_str_cut(c->us_ctl_path, sizeof(c->us_ctl_path), "%s", path);
	c->us_ctl = p;
	ipcs_guard_mem(c, p, sizeof(struct ipc_us_control));
	memset(c->us_ctl, 0, sizeof(*c->us_ctl));
	return 0;
}

static int32_t dgram_bind(const char *base, const char *suffix, size_t bufsize)
{
	struct sockaddr_un a;
	socklen_t alen;
	int fd = ipc_sock_open(SOCK_DGRAM);

	if (fd < 0) {
		return fd;
	}
	ipc_sock_dgram_addr(&a, &alen, base, suffix);
	if (bind(fd, (struct sockaddr *)&a, alen) < 0) {
		close(fd);
		return -1; /* reported as EPERM, like libqb */
	}
	(void)ipc_sock_set_buffers(fd, bufsize);
	return fd;
}

static int32_t us_connect(struct qb_ipcs_connection *c, struct ipc_conn_response *r)
{
	char name[IPC_NAME_MAX];
	int32_t rc;

	ipc_str_cut(name, sizeof(name), "%s-control-%s", c->description, c->service->name);
	ipc_str_cut(r->request, sizeof(r->request), "%s", name);
	ipc_str_cut(name, sizeof(name), "%s-%s", c->description, c->service->name);
	ipc_str_cut(r->response, sizeof(r->response), "%s", name);
	ipc_str_cut(c->us_base, sizeof(c->us_base), "%s", name);
	rc = control_create(c, r->request);
	if (rc < 0) {
		return rc;
	}
	/*
	 * Half a page in: the kernel copies datagrams with rep movsb, which
	 * runs at a third of its speed when the destination sits just past the
	 * source modulo the page size (4 KiB aliasing), as a malloc'd block
	 * (16 bytes into a page) does against a socket buffer that starts a
	 * page. An echoed payload, 16 bytes further in, stays clear of it too.
	 */
	if (posix_memalign(&c->us_rblock, 4096, c->max_msg_size + US_RBUF_OFFSET) != 0) {
		c->us_rblock = NULL;
		return -ENOMEM;
	}
	c->us_rbuf = (char *)c->us_rblock + US_RBUF_OFFSET;
	rc = dgram_bind(c->us_base, "request", c->max_msg_size);
	if (rc < 0) {
		return rc;
	}
	c->us_req_fd = rc;
	rc = dgram_bind(c->us_base, "event-tx", c->max_msg_size);
	if (rc < 0) {
		return rc;
	}
	c->us_ev_fd = rc;
	return 0;
}

static void us_fc_set(struct qb_ipcs_connection *c, int32_t fc)
{
	__atomic_store_n(&c->us_ctl->req_fc, fc, __ATOMIC_RELEASE);
}

static int32_t us_req_dispatch(int32_t fd, int32_t revents, void *data);
static int32_t us_setup_dispatch(int32_t fd, int32_t revents, void *data);

static int32_t us_poll_add(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;
	int32_t rc;

	rc = s->poll.dispatch_add(c->prio, c->setup_fd, POLLIN | POLLPRI | POLLNVAL, c,
				  us_setup_dispatch);
	if (rc < 0) {
		return rc;
	}
	c->setup_polled = 1;
	rc = s->poll.dispatch_add(c->prio, c->us_req_fd, ipcs_conn_poll_events(c), c,
				  us_req_dispatch);
	if (rc < 0) {
		return rc;
	}
	c->us_req_polled = 1;
	return 0;
}

static void us_poll_del(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;

	if (c->setup_polled) {
		(void)s->poll.dispatch_del(c->setup_fd);
		c->setup_polled = 0;
	}
	if (c->us_req_polled) {
		(void)s->poll.dispatch_del(c->us_req_fd);
		c->us_req_polled = 0;
	}
}

static void us_poll_update(struct qb_ipcs_connection *c)
{
	if (c->us_req_polled) {
		(void)c->service->poll.dispatch_mod(c->prio, c->us_req_fd, ipcs_conn_poll_events(c),
						    c, us_req_dispatch);
	}
}

/* Liveness only: the setup socket carries nothing after the handshake. */
static int32_t us_setup_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct qb_ipcs_connection *c = data;
	char buf[64];
	ssize_t n;

	if (c->state != IPCS_CONN_ACTIVE) {
		return 0;
	}
	if (!(revents & (POLLNVAL | POLLHUP | POLLERR))) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
			return 0;
		}
	}
	util_log(LOG_DEBUG, "IPC service %s: pid %d hung up", c->service->name, (int)c->creds.pid);
	qb_ipcs_connection_ref(c);
	qb_ipcs_disconnect(c);
	qb_ipcs_connection_unref(c);
	return 0;
}

/* One datagram -> one request; 1 = delivered, 0 = none, -ENOTCONN. */
static int32_t us_recv_request(struct qb_ipcs_connection *c)
{
	size_t size;
	ssize_t n;
	int32_t rc;

	do {
		n = recv(c->us_req_fd, c->us_rbuf, c->max_msg_size, MSG_DONTWAIT | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -ENOTCONN;
	}
	if (__atomic_load_n(&c->us_ctl->req_sent, __ATOMIC_SEQ_CST) > 0) {
		__atomic_sub_fetch(&c->us_ctl->req_sent, 1, __ATOMIC_SEQ_CST);
	}
	if ((size_t)n > c->max_msg_size) {
		return -ENOTCONN; /* truncated: larger than negotiated */
	}
	rc = ipc_proto_msg_check(c->us_rbuf, (size_t)n, c->max_msg_size, &size);
	if (rc < 0) {
		util_log(LOG_WARNING,
			 "%s: invalid request from pid %d "
			 "(%zd bytes): %d",
			 c->service->name, (int)c->creds.pid, n, rc);
		return -ENOTCONN;
	}
	c->last_req = size;
	rc = ipcs_deliver(c, c->us_rbuf, size);
	return rc < 0 ? 2 : 1;
}

/* The client counts a request after sending it: > 0 means one is queued. */
static int32_t us_request_queued(void *arg)
{
	struct qb_ipcs_connection *c = arg;

	return __atomic_load_n(&c->us_ctl->req_sent, __ATOMIC_ACQUIRE) > 0;
}

/* The requests that come while we linger (ipcs_linger): the number
 * taken in all, or -ENOTCONN. */
static int32_t us_linger(struct qb_ipcs_connection *c, int32_t taken)
{
	while (ipcs_linger(c, taken, us_request_queued, c)) {
		int32_t rc = us_recv_request(c);

		if (rc < 0) {
			return rc;
		}
		if (rc != 1) {
			break;
		}
		taken++;
	}
	return taken;
}

static int32_t us_req_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct qb_ipcs_connection *c = data;
	int32_t taken = 0;
	int32_t avail;

	if (c->state != IPCS_CONN_ACTIVE) {
		return 0;
	}
	qb_ipcs_connection_ref(c);
	if (revents & (POLLNVAL | POLLERR)) {
		qb_ipcs_disconnect(c);
		goto out;
	}
	avail = __atomic_load_n(&c->us_ctl->req_sent, __ATOMIC_SEQ_CST);
	avail = QB_MAX(1, QB_MIN(avail, ipcs_rate_cap(c->service->rate)));
	for (int32_t i = 0; i < avail; i++) {
		int32_t rc;

		if (c->state != IPCS_CONN_ACTIVE || c->fc_state) {
			break;
		}
		rc = us_recv_request(c);
		if (rc < 0) {
			qb_ipcs_disconnect(c);
			goto out;
		}
		if (rc != 1) {
			break;
		}
		taken++;
	}
	if (us_linger(c, taken) < 0) {
		qb_ipcs_disconnect(c);
	}
out:
	if (ipcs_guard_tripped(c)) {
		qb_ipcs_disconnect(c);
	}
	qb_ipcs_connection_unref(c);
	return 0;
}

/* Connect lazily: the client binds its sockets after the handshake. */
static int32_t dgram_connect(int fd, const char *base, const char *suffix)
{
	struct sockaddr_un a;
	socklen_t alen;

	ipc_sock_dgram_addr(&a, &alen, base, suffix);
	for (int i = 0; i < US_CONNECT_TRIES; i++) {
		struct timespec ts = {0, US_CONNECT_PAUSE_NS};

		if (connect(fd, (struct sockaddr *)&a, alen) == 0) {
			return 0;
		}
		if (errno != ECONNREFUSED && errno != ENOENT && errno != EINTR) {
			return -errno;
		}
		nanosleep(&ts, NULL);
	}
	return -ENOTCONN;
}

static ssize_t us_sendv(struct qb_ipcs_connection *c, const struct iovec *iov, size_t iov_len,
			size_t total, int32_t event)
{
	int fd = event ? c->us_ev_fd : c->us_req_fd;
	int32_t *flag = event ? &c->us_ev_connected : &c->us_req_connected;
	int32_t *counter = event ? &c->us_ctl->ev_sent : &c->us_ctl->resp_sent;
	struct msghdr m;
	ssize_t n;

	if (!*flag) {
		int32_t rc = dgram_connect(fd, c->us_base, event ? "event" : "response");
		if (rc < 0) {
			return rc;
		}
		*flag = 1;
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = (struct iovec *)iov;
	m.msg_iovlen = iov_len;
	do {
		n = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return (errno == EPIPE || errno == ECONNREFUSED) ? -ENOTCONN : -errno;
	}
	__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
	return (ssize_t)total;
}

static uint32_t us_event_q_len(struct qb_ipcs_connection *c)
{
	int32_t n = __atomic_load_n(&c->us_ctl->ev_sent, __ATOMIC_SEQ_CST);

	return n > 0 ? (uint32_t)n : 0;
}

static void us_destroy(struct qb_ipcs_connection *c)
{
	ipcs_guard_release(c);
	if (c->us_req_fd >= 0) {
		close(c->us_req_fd);
		c->us_req_fd = -1;
	}
	if (c->us_ev_fd >= 0) {
		close(c->us_ev_fd);
		c->us_ev_fd = -1;
	}
	if (c->us_ctl) {
		munmap(c->us_ctl, sizeof(*c->us_ctl));
		c->us_ctl = NULL;
	}
	if (c->us_ctl_path[0]) {
		(void)shm_unlink_owned(c->us_ctl_path, &c->us_ctl_id);
	}
	free(c->us_rblock);
	c->us_rblock = NULL;
	c->us_rbuf = NULL;
}

const struct ipcs_ops ipcs_us_ops = {
	.connect = us_connect,
	.poll_add = us_poll_add,
	.poll_del = us_poll_del,
	.poll_update = us_poll_update,
	.fc_set = us_fc_set,
	.sendv = us_sendv,
	.event_q_len = us_event_q_len,
	.destroy = us_destroy,
};
