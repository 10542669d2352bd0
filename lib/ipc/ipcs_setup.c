/*
 * ipcs_setup.c - IPC server: accepting a client and the setup handshake
 * (request with credentials, connection directory, transport connect,
 * response), and dropping clients that never complete it.
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

#define IPCS_POLL_EVENTS (POLLIN | POLLPRI | POLLNVAL)


static int32_t conn_make_dir(struct qb_ipcs_connection *c)
{
	char tmpl[IPC_NAME_MAX];
	char name[64];
	int32_t rc;

	(void)snprintf(name, sizeof(name), "%d-%d-%d", (int)c->service->pid, (int)c->creds.pid,
		       c->setup_fd);
	rc = shm_dir_create(tmpl, sizeof(tmpl), name, 0770, &c->dir_id);
	if (rc < 0) {
		return rc;
	}
	ipc_str_cut(c->dir, sizeof(c->dir), "%s", tmpl);
	if (strlen(tmpl) + 3 > IPC_DESC_MAX) {
		return -ENAMETOOLONG;
	}
	ipc_str_cut(c->description, sizeof(c->description), "%s/qb", tmpl);
	return 0;
}

/*
 * Change the owner of the connection directory, but only if it is still the
 * directory we created. The directory is handed to the client only after
 * every file in it exists with its final owner and mode: once the client
 * owns it, it could rename it inside /dev/shm and put a symlink in its
 * place, and path-based operations of the server would follow that link.
 * At teardown it is taken back for the same reason.
 */
void ipcs_conn_dir_chown(struct qb_ipcs_connection *c, uid_t uid, gid_t gid)
{
	if (c->dir[0] == '\0') {
		return;
	}
	/* best effort: the socket's own owner still applies */
	(void)shm_dir_chown_owned(c->dir, &c->dir_id, uid, gid);
}

static int32_t conn_setup(struct qb_ipcs_connection *c, struct ipc_conn_response *r)
{
	struct qb_ipcs_service *s = c->service;
	int32_t rc;

	c->auth_uid = c->creds.uid;
	c->auth_gid = c->creds.gid;
	c->auth_mode = 0600;
	c->max_msg_size =
		ipcs_limit_size(c, ipc_proto_negotiate(c->hs.req.max_msg_size, s->enforced_size));
	c->stats.client_pid = c->creds.pid;
	if (c->max_msg_size > IPC_MAX_MSG_SIZE) {
		return -EMSGSIZE;
	}
	rc = ipcs_limit_charge(c);
	if (rc < 0) {
		return rc;
	}
	rc = conn_make_dir(c);
	if (rc < 0) {
		return rc;
	}
	if (s->fns.connection_accept) {
		rc = s->fns.connection_accept(c, c->creds.uid, c->creds.gid);
		if (rc != 0) {
			return rc > 0 ? -rc : rc;
		}
	}
	rc = s->ops->connect(c, r);
	if (rc < 0) {
		return rc;
	}
	/* SHM: the owner chosen in connection_accept; SOCKET: the client */
	if (s->type == QB_IPC_SHM) {
		ipcs_conn_dir_chown(c, c->auth_uid, c->auth_gid);
	} else {
		ipcs_conn_dir_chown(c, c->creds.uid, c->creds.gid);
	}
	r->connection_type = s->type;
	r->max_msg_size = c->max_msg_size;
	r->connection = (intptr_t)c;
	return 0;
}

static void conn_handshake(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;
	struct ipc_conn_response *r = calloc(1, sizeof(*r));
	int32_t rc;

	(void)ipc_sock_set_passcred(c->setup_fd, 0);
	(void)s->poll.dispatch_del(c->setup_fd);
	c->setup_polled = 0;
	if (r == NULL) {
		ipcs_conn_dead(c);
		return;
	}
	rc = conn_setup(c, r);
	if (rc < 0) {
		util_log(LOG_ERR,
			 "IPC service %s: connection of pid %d "
			 "(uid %d) not set up: %d",
			 s->name, (int)c->creds.pid, (int)c->creds.uid, rc);
	} else {
		util_log(LOG_DEBUG,
			 "IPC service %s: pid %d (uid %d, gid "
			 "%d) connected (%s)",
			 s->name, (int)c->creds.pid, (int)c->creds.uid, (int)c->creds.gid,
			 c->description);
	}
	r->hdr.id = QB_IPC_MSG_AUTHENTICATE;
	r->hdr.size = sizeof(*r);
	r->hdr.error = rc;
	if (rc < 0) {
		r->connection_type = 0;
		r->max_msg_size = 0;
		r->connection = 0;
	}
	if (ipc_sock_send_all(c->setup_fd, r, sizeof(*r), 1000) < 0 && rc == 0) {
		rc = -ENOTCONN;
	}
	free(r);
	if (rc < 0) {
		ipcs_conn_dead(c);
		return;
	}
	ipcs_conn_list_del(c);
	ipcs_conn_list_add(&s->conns, c);
	c->state = IPCS_CONN_ACTIVE;
	s->stats.active_connections++;
	if (s->rate != QB_IPCS_RATE_NORMAL) {
		c->fc_state = ipcs_rate_fc(s->rate);
		c->stats.flow_control_state = c->fc_state;
		if (c->fc_state) {
			s->ops->fc_set(c, c->fc_state);
		}
	}
	rc = s->ops->poll_add(c);
	if (rc < 0) {
		qb_ipcs_disconnect(c);
		return;
	}
	if (s->fns.connection_created) {
		qb_ipcs_connection_ref(c);
		s->fns.connection_created(c);
		qb_ipcs_connection_unref(c);
	}
}

/*
 * The request's SCM_CREDENTIALS (what libqb peers use) must agree with what
 * the kernel recorded at connect() time (SO_PEERCRED): a privileged client
 * could otherwise claim to be someone else. libqb clients send the request
 * right after connecting, so the two always agree for them.
 */
static int32_t creds_match_peer(int fd, const struct ipc_creds *creds)
{
	struct ucred peer;
	socklen_t len = sizeof(peer);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0 || len != sizeof(peer)) {
		return QB_TRUE; /* nothing to compare with */
	}
	return peer.pid == creds->pid && peer.uid == creds->uid && peer.gid == creds->gid;
}

/* Setup socket of a connection in handshake: gather the 24-byte request. */
static int32_t conn_setup_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct qb_ipcs_connection *c = data;
	ssize_t n;

	n = ipc_sock_recv_creds(fd, c->hs.bytes + c->hs_got, sizeof(c->hs.bytes) - c->hs_got,
				&c->creds, &c->have_creds);
	if (n == -EAGAIN || n == -EWOULDBLOCK) {
		if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
			ipcs_conn_dead(c);
			return -1;
		}
		return 0;
	}
	if (n <= 0) {
		ipcs_conn_dead(c);
		return -1;
	}
	c->hs_got += (size_t)n;
	if (c->hs_got < sizeof(c->hs.bytes)) {
		return 0;
	}
	if (!c->have_creds || !creds_match_peer(fd, &c->creds) ||
	    ipc_proto_request_parse(c->hs.bytes, c->hs_got, NULL) < 0) {
		util_log(LOG_WARNING,
			 "%s: invalid handshake request "
			 "(credentials %s)",
			 c->service->name, c->have_creds ? "present" : "missing");
		/* no credentials or not a handshake: close without reply */
		ipcs_conn_dead(c);
		return -1;
	}
	conn_handshake(c);
	return 0;
}

/*
 * Silent clients must not pin server descriptors forever. Returns when the
 * next remaining one is due (0: none).
 */
uint64_t ipcs_expire_pending(struct qb_ipcs_service *s, uint64_t now)
{
	struct qb_ipcs_connection *c, *n;
	uint64_t next = 0;

	for (c = ipcs_conn_first(&s->pending); c; c = n) {
		uint64_t due = c->setup_started_ns + IPC_SETUP_TIMEOUT_NS;

		n = ipcs_conn_next(&s->pending, c);
		if (now >= due) {
			util_log(LOG_INFO,
				 "IPC service %s: dropping a "
				 "client that sent no handshake (fd %d)",
				 s->name, c->setup_fd);
			ipcs_conn_dead(c);
		} else if (next == 0 || due < next) {
			next = due;
		}
	}
	return next;
}


/* Listening socket: accept one client and wait for its request. */
int32_t qb_ipcs_dispatch_connection_request(int32_t fd, int32_t revents, void *data)
{
	struct qb_ipcs_service *s = data;
	struct qb_ipcs_connection *c;
	int nfd;

	if (revents & POLLNVAL) {
		return -EINVAL;
	}
	(void)ipcs_expire_pending(s, ipcs_now_ns());
	nfd = ipcs_accept(s, fd);
	if (nfd < 0) {
		return 0;
	}
	nfd = ipc_sock_fd_prepare(nfd);
	if (nfd < 0) {
		return 0;
	}
	if (ipc_sock_set_passcred(nfd, 1) < 0) {
		close(nfd);
		return 0;
	}
	c = qb_ipcs_connection_alloc(s);
	if (c == NULL) {
		close(nfd);
		return 0;
	}
	c->setup_fd = nfd;
	c->setup_started_ns = ipcs_now_ns();
	ipcs_conn_list_add(&s->pending, c);
	if (s->poll.dispatch_add(s->prio, nfd, IPCS_POLL_EVENTS, c, conn_setup_dispatch) < 0) {
		ipcs_conn_dead(c);
		return 0;
	}
	c->setup_polled = 1;
	(void)ipcs_wake_at(s, c->setup_started_ns + IPC_SETUP_TIMEOUT_NS);
	return 0;
}
