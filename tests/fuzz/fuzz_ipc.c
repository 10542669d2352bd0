/*
 * fuzz_ipc.c - libFuzzer harness for the IPC server's input handling.
 *
 * The first input byte picks a mode:
 *   0: the pure parsers (handshake request/response, message header check);
 *   1: a SOCKET-transport session against a real in-process server;
 *   2: an SHM-transport session against a real in-process server.
 * A session connects to the service's listening socket, sends a handshake
 * (raw fuzz bytes, or a valid request when the next byte is odd), then
 * feeds the remaining bytes as request messages (framed by a 2-byte length)
 * through the transport exactly as a client would, and hangs up. After each
 * session the server must have released every descriptor and removed its
 * per-connection directory; leaks are caught by LeakSanitizer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/ipc_internal.h"

#define FZ_MAX_ITEMS 32
#define FZ_MAX_MSG 65536

struct fz_item {
	int fd;
	void *data;
	qb_ipcs_dispatch_fn_t fn;
	int used;
};

static struct fz_item items[FZ_MAX_ITEMS];
static struct {
	void *data;
	qb_loop_job_dispatch_fn fn;
} jobs[FZ_MAX_ITEMS];
static int njobs;
static qb_ipcs_service_t *svc[2];
static char svc_name[2][64];
static int fd_baseline = -1;

static int32_t fz_add(enum qb_loop_priority p, int32_t fd, int32_t ev, void *data,
		      qb_ipcs_dispatch_fn_t fn)
{
	for (int i = 0; i < FZ_MAX_ITEMS; i++) {
		if (!items[i].used) {
			items[i] = (struct fz_item){fd, data, fn, 1};
			return 0;
		}
	}
	return -ENOMEM;
}

static int32_t fz_mod(enum qb_loop_priority p, int32_t fd, int32_t ev, void *data,
		      qb_ipcs_dispatch_fn_t fn)
{
	for (int i = 0; i < FZ_MAX_ITEMS; i++) {
		if (items[i].used && items[i].fd == fd) {
			items[i].fn = fn;
			items[i].data = data;
			return 0;
		}
	}
	return -ENOENT;
}

static int32_t fz_del(int32_t fd)
{
	for (int i = 0; i < FZ_MAX_ITEMS; i++) {
		if (items[i].used && items[i].fd == fd) {
			items[i].used = 0;
			return 0;
		}
	}
	return -ENOENT;
}

static int32_t fz_job(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	if (njobs == FZ_MAX_ITEMS) {
		return -ENOMEM;
	}
	jobs[njobs].data = data;
	jobs[njobs++].fn = fn;
	return 0;
}

static void run_jobs(void)
{
	while (njobs > 0) {
		njobs--;
		jobs[njobs].fn(jobs[njobs].data);
	}
}

/* Dispatch every registered fd except the listener that is readable. */
static void dispatch_all(qb_ipcs_service_t *s, int extra_revents)
{
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < FZ_MAX_ITEMS; i++) {
			struct pollfd p;

			if (!items[i].used || items[i].data == s) {
				continue;
			}
			p.fd = items[i].fd;
			p.events = POLLIN;
			p.revents = 0;
			if (poll(&p, 1, 0) <= 0 && !extra_revents) {
				continue;
			}
			items[i].fn(items[i].fd, p.revents | extra_revents, items[i].data);
		}
		run_jobs();
	}
}

static struct qb_ipcs_poll_handlers fz_handlers = {
	.job_add = fz_job,
	.dispatch_add = fz_add,
	.dispatch_mod = fz_mod,
	.dispatch_del = fz_del,
};

static int32_t fz_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_response_header r;

	/* touch every byte the server claims is valid */
	volatile unsigned char sum = 0;

	for (size_t i = 0; i < size; i++) {
		sum += ((unsigned char *)data)[i];
	}
	r.id = ((struct qb_ipc_request_header *)data)->id;
	r.size = sizeof(r);
	r.error = sum;
	(void)qb_ipcs_response_send(c, &r, sizeof(r));
	return 0;
}

static struct qb_ipcs_service_handlers fz_service = {
	.msg_process = fz_msg,
};

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	/* only what the IPC code opens: sockets and /dev/shm files (the
	 * sanitizer runtime opens pipes of its own now and then) */
	while (d && (e = readdir(d)) != NULL) {
		char path[300], link[300];
		ssize_t l;

		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0) {
			continue;
		}
		link[l] = '\0';
		n += strncmp(link, "socket:", 7) == 0 || strncmp(link, "/dev/shm/", 9) == 0;
	}
	if (d) {
		closedir(d);
	}
	return n;
}

static void init_once(void)
{
	if (svc[0]) {
		return;
	}
	for (int t = 0; t < 2; t++) {
		snprintf(svc_name[t], sizeof(svc_name[t]), "qbfuzz-%d-%d", (int)getpid(), t);
		svc[t] =
			qb_ipcs_create(svc_name[t], 0, t ? QB_IPC_SHM : QB_IPC_SOCKET, &fz_service);
		qb_ipcs_poll_handlers_set(svc[t], &fz_handlers);
		if (qb_ipcs_run(svc[t]) != 0) {
			abort();
		}
	}
	fd_baseline = fd_count();
}

static int client_socket(const char *name)
{
	struct sockaddr_un a;
	socklen_t alen;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ipc_sock_addr(&a, &alen, name, 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, alen) < 0) {
		abort();
	}
	return fd;
}

static void socket_messages(const struct ipc_conn_response *r, const uint8_t *d, size_t n,
			    qb_ipcs_service_t *s)
{
	struct sockaddr_un a;
	socklen_t alen;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ipc_sock_dgram_addr(&a, &alen, r->response, "response");
	if (bind(fd, (struct sockaddr *)&a, alen) < 0) {
		close(fd);
		return;
	}
	ipc_sock_dgram_addr(&a, &alen, r->response, "request");
	if (connect(fd, (struct sockaddr *)&a, alen) < 0) {
		close(fd);
		return;
	}
	while (n >= 2) {
		size_t len = (size_t)(d[0] | (d[1] << 8));

		d += 2;
		n -= 2;
		len = len > n ? n : len;
		(void)send(fd, d, len, MSG_DONTWAIT);
		d += len;
		n -= len;
		dispatch_all(s, 0);
	}
	close(fd);
}

static void shm_messages(const struct ipc_conn_response *r, int cfd, const uint8_t *d, size_t n,
			 qb_ipcs_service_t *s)
{
	qb_ringbuffer_t *rb = qb_rb_open(r->request, r->max_msg_size, QB_RB_FLAG_SHARED_PROCESS, 4);

	if (rb == NULL) {
		return;
	}
	while (n >= 2) {
		size_t len = (size_t)(d[0] | (d[1] << 8));

		d += 2;
		n -= 2;
		len = len > n ? n : len;
		if (qb_rb_chunk_write(rb, d, len) >= 0) {
			(void)send(cfd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		d += len;
		n -= len;
		dispatch_all(s, 0);
	}
	ipc_rb_close_last(rb);
}

static void session(int t, const uint8_t *d, size_t n)
{
	qb_ipcs_service_t *s = svc[t];
	struct ipc_conn_response *r = calloc(1, sizeof(*r));
	struct ipc_conn_request req;
	const uint8_t *hs;
	size_t hs_len;
	size_t got = 0;
	int cfd;
	char dir[IPC_STR_MAX] = "";

	if (n == 0 || r == NULL) {
		free(r);
		return;
	}
	if (d[0] & 1) {
		memset(&req, 0, sizeof(req));
		req.hdr.id = QB_IPC_MSG_AUTHENTICATE;
		req.hdr.size = sizeof(req);
		req.max_msg_size = 12328 + (n > 1 ? d[1] * 200u : 0);
		hs = (const uint8_t *)&req;
		hs_len = sizeof(req);
		d += n > 1 ? 2 : 1;
		n -= n > 1 ? 2 : 1;
	} else {
		hs_len = n - 1 < sizeof(req) ? n - 1 : sizeof(req);
		memcpy(&req, d + 1, hs_len);
		/* keep the rings small: huge sizes only make the run slow */
		if (hs_len == sizeof(req) && req.max_msg_size > FZ_MAX_MSG &&
		    req.max_msg_size <= IPC_MAX_MSG_SIZE) {
			req.max_msg_size = FZ_MAX_MSG;
		}
		hs = (const uint8_t *)&req;
		d += 1 + hs_len;
		n -= 1 + hs_len;
	}
	cfd = client_socket(svc_name[t]);
	dispatch_all(NULL, 0); /* accept on the listener */
	(void)send(cfd, hs, hs_len, MSG_NOSIGNAL);
	dispatch_all(s, 0); /* handshake */
	while (got < sizeof(*r)) {
		struct pollfd p = {.fd = cfd, .events = POLLIN};
		ssize_t k;

		if (poll(&p, 1, 0) <= 0) {
			break;
		}
		k = recv(cfd, (char *)r + got, sizeof(*r) - got, MSG_DONTWAIT);
		if (k <= 0) {
			break;
		}
		got += (size_t)k;
	}
	if (got == sizeof(*r) && r->hdr.error == 0) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s", r->request);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
		}
		if (t == 0) {
			socket_messages(r, d, n, s);
		} else {
			shm_messages(r, cfd, d, n, s);
		}
	}
	close(cfd);
	dispatch_all(s, POLLHUP); /* the client is gone */
	free(r);
	if (dir[0]) {
		struct stat st;

		if (stat(dir, &st) == 0) {
			fprintf(stderr, "connection directory left: %s\n", dir);
			abort();
		}
	}
	if (fd_count() != fd_baseline) {
		fprintf(stderr, "fd leak: %d != %d\n", fd_count(), fd_baseline);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t max;
	size_t msz;

	if (size < 1) {
		return 0;
	}
	init_once();
	switch (data[0] % 3) {
	case 0:
		(void)ipc_proto_request_parse(data + 1, size - 1, &max);
		(void)ipc_proto_response_parse(data + 1, size - 1);
		(void)ipc_proto_msg_check(data + 1, size - 1, FZ_MAX_MSG, &msz);
		break;
	case 1:
		session(0, data + 1, size - 1);
		break;
	default:
		session(1, data + 1, size - 1);
		break;
	}
	return 0;
}
