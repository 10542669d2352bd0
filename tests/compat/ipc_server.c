/*
 * Server half of the IPC cross-library wire test (see ipc_cross.sh).
 * Built against the distro headers; runs on whichever libqb.so.100 the
 * loader finds. It drives the service with its own small poll loop (given
 * to the library through qb_ipcs_poll_handlers_set) so that the test
 * exercises the IPC code and not a particular qb_loop implementation.
 *
 * usage: ipc_server NAME shm|socket READYFILE
 * Writes "ready" to READYFILE once the service listens; exits 0 after an
 * IPCW_QUIT request (or SIGTERM) and an orderly qb_ipcs_destroy(); dies by
 * SIGKILL on an IPCW_CRASH request.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <qb/qbipcs.h>
#include "ipc_wire.h"
#include "ipc_loop.h"

/* ---- the service ---- */

static struct {
	qb_ipcs_service_t *s;
	uint32_t created;
	uint32_t destroyed;
	int32_t held_send_rc;
	int32_t bad;
	uint32_t held;
	void *big;
} S = {.held_send_rc = 1};

static int32_t on_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	/* the credentials came from the kernel: they must be ours */
	if (uid != getuid() || gid != getgid()) {
		fprintf(stderr, "server: client uid/gid %d/%d, expected %d/%d\n", (int)uid,
			(int)gid, (int)getuid(), (int)getgid());
		S.bad++;
		return -EACCES;
	}
	return 0;
}

static void on_created(qb_ipcs_connection_t *c)
{
	S.created++;
}

static int32_t on_closed(qb_ipcs_connection_t *c)
{
	return 0;
}

static void on_destroyed(qb_ipcs_connection_t *c)
{
	S.destroyed++;
}

static ssize_t respond(qb_ipcs_connection_t *c, int32_t id, int32_t error, const void *payload,
		       size_t len)
{
	struct qb_ipc_response_header h;
	ipcw_resp_init(&h, IPCW_RESP(id), (int32_t)(sizeof(h) + len), error);
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	ssize_t rc = qb_ipcs_response_sendv(c, iov, len ? 2 : 1);
	if (rc != h.size)
		fprintf(stderr, "server: response %d: sendv returned %zd\n", id, rc);
	return rc;
}

/* Events can meet a full ring/socket buffer: retry for a while. */
static ssize_t send_event(qb_ipcs_connection_t *c, uint32_t seq, const void *payload, size_t len,
			  int vectored)
{
	struct qb_ipc_response_header h;
	ipcw_resp_init(&h, IPCW_EVENT, (int32_t)(sizeof(h) + len), (int32_t)seq);
	ssize_t rc;
	long long give_up = now_ms() + 3000;

	do {
		if (vectored) {
			struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
			rc = qb_ipcs_event_sendv(c, iov, 2);
		} else {
			char *buf = malloc(sizeof(h) + len);
			if (!buf)
				return -ENOMEM;
			memcpy(buf, &h, sizeof(h));
			memcpy(buf + sizeof(h), payload, len);
			rc = qb_ipcs_event_send(c, buf, sizeof(h) + len);
			free(buf);
		}
		if (rc != -EAGAIN)
			break;
		usleep(1000);
	} while (now_ms() < give_up);
	if (rc != h.size)
		fprintf(stderr, "server: event %u: send returned %zd\n", seq, rc);
	return rc;
}

static void restore_rate(void *data)
{
	qb_ipcs_request_rate_limit(S.s, QB_IPCS_RATE_NORMAL);
}

static void answer_held(void *data)
{
	qb_ipcs_connection_t *c = data;
	struct qb_ipc_response_header h;
	ipcw_resp_init(&h, IPCW_RESP(IPCW_HOLD), sizeof(h), 0);
	/* the client was killed meanwhile: this must fail cleanly, not crash */
	S.held_send_rc = (int32_t)qb_ipcs_response_send(c, &h, sizeof(h));
	qb_ipcs_connection_unref(c);
}

static void do_stats(qb_ipcs_connection_t *c)
{
	struct ipcw_stats st;
	struct qb_ipcs_stats ss = {0};
	struct qb_ipcs_connection_stats cs = {0};

	qb_ipcs_stats_get(S.s, &ss, 0);
	qb_ipcs_connection_stats_get(c, &cs, 0);
	memset(&st, 0, sizeof(st));
	ipcw_resp_init(&st.hdr, IPCW_RESP(IPCW_STATS), sizeof(st), 0);
	st.created = S.created;
	st.destroyed = S.destroyed;
	st.active = ss.active_connections;
	st.server_pid = getpid();
	st.held_send_rc = S.held_send_rc;
	st.bad = S.bad;
	st.conn_requests = (uint32_t)cs.requests;
	st.held = S.held;
	if (qb_ipcs_response_send(c, &st, sizeof(st)) != (ssize_t)sizeof(st))
		fprintf(stderr, "server: stats response failed\n");
}

static int32_t on_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	const struct qb_ipc_request_header *req = data;
	const char *payload = (const char *)data + sizeof(*req);
	size_t plen;

	if (size < sizeof(*req) || (size_t)req->size != size) {
		fprintf(stderr, "server: malformed request (size %zu)\n", size);
		S.bad++;
		return 0;
	}
	plen = size - sizeof(*req);
	switch (req->id) {
	case IPCW_ECHO:
		respond(c, req->id, 0, payload, plen);
		break;
	case IPCW_EVENTS: {
		const struct ipcw_events_req *er = data;
		char *buf;
		if (size != sizeof(*er)) {
			S.bad++;
			respond(c, req->id, -EINVAL, NULL, 0);
			break;
		}
		buf = malloc(er->payload + 1);
		int32_t err = 0;
		for (uint32_t i = 0; buf && i < er->count; i++) {
			ipcw_fill(buf, er->payload, i);
			if (send_event(c, i, buf, er->payload, i & 1) < 0) {
				err = -EIO;
				break;
			}
		}
		free(buf);
		respond(c, req->id, buf ? err : -ENOMEM, NULL, 0);
		break;
	}
	case IPCW_BIG: {
		int32_t err = 0;
		if (ipcw_check(payload, plen, 77) >= 0) {
			fprintf(stderr, "server: big request corrupt at %ld\n",
				ipcw_check(payload, plen, 77));
			S.bad++;
			err = -EBADMSG;
		}
		if (!err && send_event(c, 1, S.big, plen, 0) < 0)
			err = -EIO;
		respond(c, req->id, err, S.big, err ? 0 : plen);
		break;
	}
	case IPCW_FC: {
		const struct ipcw_fc_req *fr = data;
		if (size != sizeof(*fr)) {
			S.bad++;
			respond(c, req->id, -EINVAL, NULL, 0);
			break;
		}
		qb_ipcs_request_rate_limit(S.s, (enum qb_ipcs_rate_limit)fr->rate);
		timer_add((int)fr->restore_ms, restore_rate, NULL);
		respond(c, req->id, 0, NULL, 0);
		break;
	}
	case IPCW_HOLD:
		S.held++;
		qb_ipcs_connection_ref(c);
		timer_add(IPCW_HOLD_MS, answer_held, c);
		break;
	case IPCW_STATS:
		do_stats(c);
		break;
	case IPCW_CRASH:
		raise(SIGKILL);
		break;
	case IPCW_QUIT:
		respond(c, req->id, 0, NULL, 0);
		L.quit = 1;
		break;
	default:
		S.bad++;
		respond(c, req->id, -ENOSYS, NULL, 0);
		break;
	}
	return 0;
}

static void on_term(int sig)
{
	L.quit = 1;
}

int main(int argc, char **argv)
{
	struct qb_ipcs_service_handlers sh = {
		.connection_accept = on_accept,
		.connection_created = on_created,
		.msg_process = on_msg,
		.connection_closed = on_closed,
		.connection_destroyed = on_destroyed,
	};
	enum qb_ipc_type type;
	FILE *f;
	int32_t rc;

	if (argc != 4) {
		fprintf(stderr, "usage: %s NAME shm|socket READYFILE\n", argv[0]);
		return 2;
	}
	type = strcmp(argv[2], "socket") == 0 ? QB_IPC_SOCKET : QB_IPC_SHM;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	S.big = malloc(IPCW_BIG_PAYLOAD);
	if (!S.big)
		return 3;
	ipcw_fill(S.big, IPCW_BIG_PAYLOAD, 78);

	S.s = qb_ipcs_create(argv[1], 0, type, &sh);
	if (!S.s) {
		perror("server: qb_ipcs_create");
		return 1;
	}
	qb_ipcs_enforce_buffer_size(S.s, IPCW_BIG_BUF);
	qb_ipcs_poll_handlers_set(S.s, &ipcl_handlers);
	rc = qb_ipcs_run(S.s);
	if (rc != 0) {
		fprintf(stderr, "server: qb_ipcs_run: %s\n", strerror(-rc));
		return 1;
	}
	f = fopen(argv[3], "w");
	if (!f || fputs("ready\n", f) < 0 || fclose(f) != 0) {
		perror("server: ready file");
		return 1;
	}
	while (!L.quit)
		loop_iterate(100);
	/* let the QUIT response reach the client before tearing down */
	for (int i = 0; i < 5; i++)
		loop_iterate(10);
	qb_ipcs_destroy(S.s);
	for (int i = 0; i < 5; i++)
		loop_iterate(0);
	free(S.big);
	if (S.bad) {
		fprintf(stderr, "server: %d malformed requests\n", S.bad);
		return 1;
	}
	return 0;
}
