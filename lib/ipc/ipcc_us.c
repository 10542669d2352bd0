/*
 * ipcc_us.c - client side of the SOCKET transport: two datagram sockets
 * and a 24-byte shared control file.
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
#include <sys/mman.h>
#include <sys/stat.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"

#define US_WAIT_SLICE_MS 1000

static int32_t control_map(struct qb_ipcc_connection *c, const char *path)
{
	void *p;
	int32_t rc = shm_control_map(path, sizeof(struct ipc_us_control), &p);

	if (rc < 0) {
		return rc;
	}
	c->us_ctl = p;
	ipc_str_cut(c->us_ctl_path, sizeof(c->us_ctl_path), "%s", path);
	return 0;
}

/* A datagram socket bound to base-local and connected to base-remote. */
static int32_t dgram_open(const char *base, const char *local, const char *remote, size_t bufsize)
{
	struct sockaddr_un a;
	socklen_t alen;
	int32_t rc;
	int fd = ipc_sock_open(SOCK_DGRAM);

	if (fd < 0) {
		return fd;
	}
	ipc_sock_dgram_addr(&a, &alen, base, local);
	if (bind(fd, (struct sockaddr *)&a, alen) < 0) {
		close(fd);
		return -1; /* libqb reports a bind failure as EPERM */
	}
	ipc_sock_dgram_addr(&a, &alen, base, remote);
	if (connect(fd, (struct sockaddr *)&a, alen) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	(void)ipc_sock_set_buffers(fd, bufsize);
	return fd;
}

int32_t qb_ipcc_us_connect(struct qb_ipcc_connection *c, struct ipc_conn_response *r)
{
	int32_t rc = control_map(c, r->request);

	if (rc < 0) {
		return rc;
	}
	rc = dgram_open(r->response, "response", "request", c->max_msg_size);
	if (rc < 0) {
		return rc;
	}
	c->us_req_fd = rc;
	rc = dgram_open(r->response, "event", "event-tx", c->max_msg_size);
	if (rc < 0) {
		return rc;
	}
	c->us_ev_fd = rc;
	return 0;
}

static int32_t us_connect(struct qb_ipcc_connection *c, const struct ipc_conn_response *r)
{
	return qb_ipcc_us_connect(c, (struct ipc_conn_response *)r);
}

static int32_t us_fc_get(struct qb_ipcc_connection *c)
{
	return __atomic_load_n(&c->us_ctl->req_fc, __ATOMIC_ACQUIRE);
}

static ssize_t us_sendv(struct qb_ipcc_connection *c, const struct iovec *iov, size_t iov_len,
			size_t total)
{
	struct msghdr m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.msg_iov = (struct iovec *)iov;
	m.msg_iovlen = iov_len;
	do {
		n = sendmsg(c->us_req_fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno == EPIPE ? -ENOTCONN : -errno;
	}
	__atomic_add_fetch(&c->us_ctl->req_sent, 1, __ATOMIC_SEQ_CST);
	return (ssize_t)total;
}

/* A datagram taken off the socket: n bytes (MSG_TRUNC: its full length). */
static ssize_t us_took(int32_t *counter, size_t len, ssize_t n)
{
	if (n < (ssize_t)sizeof(struct qb_ipc_request_header)) {
		return -ENOTCONN;
	}
	if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) > 0) {
		__atomic_sub_fetch(counter, 1, __ATOMIC_SEQ_CST);
	}
	if ((size_t)n > len) {
		return -EMSGSIZE; /* datagram longer than its header said */
	}
	return n;
}

/* A datagram taken without waiting, for ipc_spin_wait(). */
struct us_try {
	int fd;
	int32_t *counter;
	void *buf;
	size_t len;
	ssize_t n; /* >= 0, -EAGAIN (none), or -errno */
};

static int32_t us_try_take(void *arg)
{
	struct us_try *t = arg;
	ssize_t n = recv(t->fd, t->buf, t->len, MSG_DONTWAIT | MSG_TRUNC);

	if (n >= 0) {
		t->n = us_took(t->counter, t->len, n);
	} else {
		t->n = (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
	}
	return t->n != -EAGAIN;
}

/*
 * The kernel copies a datagram out with rep movsb, which runs several
 * times slower when the destination sits just past the source modulo the
 * page size (4 KiB aliasing): a large datagram's pages start a page, and a
 * malloc'd buffer of a megabyte starts 16 bytes into one.  When the last
 * response was large (sizes repeat; peeking at each one would cost a
 * system call), the next one for such a buffer is taken into a buffer half
 * a page in and copied in user space, where memcpy does not suffer from it
 * (measured: a 1 MiB response into a buffer 16 bytes into a page, 0.45 ms
 * for the recv; bounced, about 0.1 ms in all).
 */
#define US_BOUNCE_MIN (64u * 1024u)
#define US_BOUNCE_OFFSET 2048u
#define US_ALIASED_BELOW 256u

/*
 * Whether the bounce pays: on Intel CPUs, where it was measured (the 4x
 * above).  On an AMD EPYC (Zen 4) the kernel's copy does not suffer, and
 * the bounce's extra memcpy made 1 MiB round trips 5-20% slower; other
 * CPUs were not measured.  -1 until first asked; 0 or 1 after.
 */
static int us_bounce_mode = -1;

static int us_bounce_pays_here(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_is("intel") ? 1 : 0;
#else
	return 0;
#endif
}

static int us_bounce_on(void)
{
	int on = __atomic_load_n(&us_bounce_mode, __ATOMIC_RELAXED);

	if (on < 0) {
		on = us_bounce_pays_here();
		__atomic_store_n(&us_bounce_mode, on, __ATOMIC_RELAXED);
	}
	return on;
}

void ipcc_us_bounce_set(int mode)
{
	__atomic_store_n(&us_bounce_mode, mode < 0 ? -1 : !!mode, __ATOMIC_RELAXED);
}

static int us_bounce_wanted(const struct qb_ipcc_connection *c, const void *buf, size_t len)
{
	uintptr_t in_page = (uintptr_t)buf & 4095u;

	return c->last_resp >= US_BOUNCE_MIN && len >= US_BOUNCE_MIN && in_page != 0 &&
		in_page < US_ALIASED_BELOW && us_bounce_on();
}

/* recv(fd, buf, len, flags) through the bounce buffer, which holds len
 * bytes, as recv() would return it. */
static ssize_t us_recv_bounced(struct qb_ipcc_connection *c, int fd, void *buf, size_t len,
			       int flags)
{
	char *b;
	ssize_t n;

	if (len > c->us_bounce_len) {
		free(c->us_bounce);
		c->us_bounce_len = 0;
		if (posix_memalign(&c->us_bounce, 4096, len + US_BOUNCE_OFFSET) != 0) {
			c->us_bounce = NULL;
			return recv(fd, buf, len, flags);
		}
		c->us_bounce_len = len;
	}
	b = (char *)c->us_bounce + US_BOUNCE_OFFSET;
	n = recv(fd, b, len, flags);
	if (n > 0) {
		memcpy(buf, b, (size_t)n < len ? (size_t)n : len);
	}
	return n;
}

/*
 * Receive one datagram that starts with a response header.
 *
 * A buffer of at least the connection's maximum message size holds any
 * message the server may send, so the message is simply taken: first
 * without waiting when one is likely queued (events come in bursts), then,
 * given a spin state, in a short busy wait while the server may still be
 * sending (the shared counters cannot tell whether a datagram is queued:
 * the server counts it after sending), and only then after a poll.
 * Responses do not busy-wait: a client that keeps its CPU makes the
 * scheduler wake the server on the other CPU instead of ours, which costs
 * more than the wait saves on this transport. A smaller buffer must not
 * lose a message that does not fit (-ENOBUFS leaves it queued), so its
 * size is peeked at first.
 */
static ssize_t us_recv_one(struct qb_ipcc_connection *c, int fd, int32_t *counter,
			   struct ipc_spin *spin, void *buf, size_t len, int32_t ms_timeout,
			   int32_t timeout_err, int queued_likely)
{
	struct qb_ipc_response_header hdr;
	struct us_try t = {fd, counter, buf, len, -EAGAIN};
	int32_t left = ms_timeout;
	ssize_t n;

	int direct = len >= c->max_msg_size && len >= sizeof(hdr);

	if (direct && queued_likely && us_try_take(&t)) {
		return t.n;
	}
	if (direct && spin && ms_timeout != 0 && ipc_spin_wait(spin, 1, us_try_take, &t)) {
		return t.n;
	}
	for (;;) {
		int32_t slice = US_WAIT_SLICE_MS;
		short rev = 0;
		int32_t r;

		if (left >= 0 && left < slice) {
			slice = left;
		}
		r = ipc_sock_poll(fd, POLLIN, slice, &rev);
		if (r < 0) {
			return r;
		}
		if (r > 0 && (rev & POLLIN)) {
			break;
		}
		if (r > 0) {
			return -ENOTCONN;
		}
		if (left >= 0) {
			left -= slice;
			if (left <= 0) {
				return timeout_err;
			}
		}
		if (!ipcc_liveness_check(c, fd, 0)) {
			return -ENOTCONN;
		}
	}
	if (direct) {
		n = us_bounce_wanted(c, buf, len)
			? us_recv_bounced(c, fd, buf, len, MSG_DONTWAIT | MSG_TRUNC)
			: recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			return (errno == EAGAIN) ? timeout_err : -errno;
		}
		return us_took(counter, len, n);
	}
	n = recv(fd, &hdr, sizeof(hdr), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0) {
		return (errno == EAGAIN) ? timeout_err : -errno;
	}
	if (n < (ssize_t)sizeof(struct qb_ipc_request_header)) {
		(void)recv(fd, &hdr, sizeof(hdr), MSG_DONTWAIT);
		return -ENOTCONN;
	}
	if (hdr.size > 0 && (size_t)hdr.size > len) {
		return -ENOBUFS; /* the message stays queued */
	}
	n = recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		return -errno;
	}
	return us_took(counter, len, n);
}

static ssize_t us_recv(struct qb_ipcc_connection *c, void *buf, size_t len, int32_t ms_timeout)
{
	struct ipc_spin *spin = c->last_resp <= IPC_SPIN_MAX_BYTES ? &c->spin_resp : NULL;
	ssize_t r = us_recv_one(c, c->us_req_fd, &c->us_ctl->resp_sent, spin, buf, len, ms_timeout,
				-ETIMEDOUT, 0);

	if (r > 0) {
		c->last_resp = (size_t)r;
	}

	if (r == -ETIMEDOUT) {
		errno = EAGAIN; /* what libqb leaves after a response timeout */
	}
	return r;
}

static ssize_t us_event_recv(struct qb_ipcc_connection *c, void *buf, size_t len,
			     int32_t ms_timeout)
{
	return us_recv_one(c, c->us_ev_fd, &c->us_ctl->ev_sent, &c->spin_ev, buf, len, ms_timeout,
			   -EAGAIN, 1);
}

static int us_event_fd(struct qb_ipcc_connection *c)
{
	return c->us_ev_fd;
}

static void us_disconnect(struct qb_ipcc_connection *c)
{
	if (c->us_ctl) {
		munmap(c->us_ctl, sizeof(*c->us_ctl));
		c->us_ctl = NULL;
		/* the SOCKET client removes the control file and directory */
		shm_control_remove(c->us_ctl_path);
	}
	qb_ipcc_us_sock_close(c->us_ev_fd);
	qb_ipcc_us_sock_close(c->us_req_fd);
	c->us_ev_fd = c->us_req_fd = -1;
	free(c->us_bounce);
	c->us_bounce = NULL;
	c->us_bounce_len = 0;
	if (c->setup_fd >= 0) {
		qb_ipcc_us_sock_close(c->setup_fd);
		c->setup_fd = -1;
	}
}

const struct ipcc_ops ipcc_us_ops = {
	.connect = us_connect,
	.fc_get = us_fc_get,
	.sendv = us_sendv,
	.recv = us_recv,
	.event_recv = us_event_recv,
	.event_fd = us_event_fd,
	.disconnect = us_disconnect,
};
