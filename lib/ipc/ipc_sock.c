/*
 * ipc_sock.c - unix socket plumbing shared by client and server: addresses
 * (abstract or filesystem), credentials, polling, buffer sizes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

int32_t ipc_sock_addr(struct sockaddr_un *addr, socklen_t *len, const char *name, int32_t allow_fs)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (allow_fs && use_filesystem_sockets()) {
		const char *dir = ipc_socket_dir();
		struct stat st;

		if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			return -EINVAL;
		}
		ipc_str_cut(addr->sun_path, sizeof(addr->sun_path), "%s/%s", dir, name);
		*len = (socklen_t)SUN_LEN(addr);
		return 0;
	}
	/* Abstract: NUL, then at most 106 chars, zero padded, full length. */
	strncpy(addr->sun_path + 1, name, IPC_ABSTRACT_NAME_MAX);
	*len = sizeof(*addr);
	return 0;
}

int32_t ipc_sock_dgram_addr(struct sockaddr_un *addr, socklen_t *len, const char *base,
			    const char *suffix)
{
	char full[IPC_STR_MAX + 16];

	ipc_str_cut(full, sizeof(full), "%s-%s", base, suffix);
	return ipc_sock_addr(addr, len, full, 0);
}

/*
 * Descriptors we keep: close-on-exec and never 0/1/2 (util's fd hygiene),
 * plus non-blocking. Closes @fd on failure.
 */
int32_t ipc_sock_fd_prepare(int fd)
{
	int kept = util_fd_hygiene(fd);
	int flags;

	if (kept < 0) {
		return kept;
	}
	flags = fcntl(kept, F_GETFL);
	if (flags < 0 || fcntl(kept, F_SETFL, flags | O_NONBLOCK) < 0) {
		int err = errno;

		close(kept);
		return -err;
	}
	return kept;
}

/* A new AF_UNIX socket of @type, prepared as above. */
int32_t ipc_sock_open(int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		return -errno;
	}
	return ipc_sock_fd_prepare(fd);
}

int32_t ipc_sock_set_passcred(int fd, int on)
{
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
		return -errno;
	}
	return 0;
}

/* One recvmsg; picks up SCM_CREDENTIALS when present. */
ssize_t ipc_sock_recv_creds(int fd, void *buf, size_t len, struct ipc_creds *creds,
			    int32_t *have_creds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	do {
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			/* nobody passes descriptors here: do not keep any */
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int pfd;

				memcpy(&pfd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(pfd);
			}
			continue;
		}
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			creds->pid = uc.pid;
			creds->uid = uc.uid;
			creds->gid = uc.gid;
			*have_creds = 1;
		}
	}
	return n;
}

/* poll() one fd; 0 = timeout, 1 = ready (revents set), -errno. */
int32_t ipc_sock_poll(int fd, short events, int32_t ms_timeout, short *revents)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do {
		r = poll(&p, 1, ms_timeout);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		return -errno;
	}
	*revents = p.revents;
	return r;
}

/* Send the whole buffer on a non-blocking stream socket. */
ssize_t ipc_sock_send_all(int fd, const void *buf, size_t len, int32_t ms_timeout)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			short rev;
			int32_t r = ipc_sock_poll(fd, POLLOUT, ms_timeout, &rev);

			if (r == 0) {
				return -ETIMEDOUT;
			}
			if (r < 0) {
				return r;
			}
			if (rev & (POLLERR | POLLHUP | POLLNVAL)) {
				return -ENOTCONN;
			}
			continue;
		}
		return n < 0 ? -errno : -ENOTCONN;
	}
	return (ssize_t)done;
}

static void raise_buffer(int fd, int opt, int force_opt, size_t size)
{
	int cur = 0;
	int want = size > INT32_MAX / 2 ? INT32_MAX / 2 : (int)size;
	socklen_t l = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &l) == 0 && cur > want) {
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want)) == 0) {
		l = sizeof(cur);
		if (getsockopt(fd, SOL_SOCKET, opt, &cur, &l) == 0 && cur >= want) {
			return;
		}
	}
	/* Above the sysctl limit only a privileged process gets more. */
	(void)setsockopt(fd, SOL_SOCKET, force_opt, &want, sizeof(want));
}

int32_t ipc_sock_set_buffers(int fd, size_t size)
{
	/* a datagram needs room for its own bookkeeping too */
	size_t want = size + 1024;

	raise_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, want);
	raise_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, want);
	return 0;
}

int32_t ipc_errno_is_disconnect(int32_t err)
{
	if (err >= 0) {
		return 0;
	}
	switch (-err) {
	case EAGAIN:
	case ETIMEDOUT:
	case EINTR:
	case EMSGSIZE:
	case ENOMSG:
	case EINVAL:
	case ENOBUFS:
		return 0;
	default:
		return 1;
	}
}

int32_t qb_ipc_us_sock_error_is_disconnected(int err)
{
	return ipc_errno_is_disconnect(err < 0 ? err : -err);
}

/* ---- exported helpers kept for ABI parity ---------------------------- */

void qb_sigpipe_ctl(enum qb_sigpipe_ctl ctl)
{
	/* We send with MSG_NOSIGNAL everywhere; there is no process-wide
	 * SIGPIPE state to change. Kept as a harmless entry point. */
	(void)ctl;
}

void qb_socket_nosigpipe(int32_t s)
{
	/* Linux has no SO_NOSIGPIPE; MSG_NOSIGNAL is used on every send. */
	(void)s;
}

int32_t qb_ipc_us_ready(int32_t fd_data, int32_t fd_conn, int32_t ms_timeout, int32_t events)
{
	struct pollfd p[2];
	nfds_t n = 0;
	int r;

	if (fd_data >= 0) {
		p[n].fd = fd_data;
		p[n].events = (short)events;
		p[n++].revents = 0;
	}
	if (fd_conn >= 0) {
		p[n].fd = fd_conn;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	if (n == 0) {
		return -EINVAL;
	}
	do {
		r = poll(p, n, ms_timeout);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		return -errno;
	}
	if (r == 0) {
		return -EAGAIN;
	}
	for (nfds_t i = 0; i < n; i++) {
		if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			return -ENOTCONN;
		}
	}
	if (fd_data >= 0 && (p[0].revents & events)) {
		return 0;
	}
	return -EAGAIN;
}

ssize_t qb_ipc_us_send(int32_t fd, const void *msg, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno == EPIPE ? -ENOTCONN : -errno;
	}
	return n;
}

ssize_t qb_ipc_us_recv(int32_t fd, void *msg, size_t len, int32_t ms_timeout)
{
	ssize_t n;
	short rev;
	int32_t r = ipc_sock_poll(fd, POLLIN, ms_timeout, &rev);

	if (r == 0) {
		return -EAGAIN;
	}
	if (r < 0) {
		return r;
	}
	do {
		n = recv(fd, msg, len, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n == 0) {
		return -ENOTCONN;
	}
	return n < 0 ? -errno : n;
}

void qb_ipcc_us_sock_close(int32_t sock)
{
	if (sock >= 0) {
		shutdown(sock, SHUT_RDWR);
		close(sock);
	}
}

/* snprintf that cuts silently: libqb peers cut names the same way. */
void ipc_str_cut(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
}
