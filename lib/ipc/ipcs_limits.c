/*
 * ipcs_limits.c - how much shared memory clients may make a service spend.
 *
 * The client proposes the buffer size of its connection, and every
 * connection costs the server three buffers of that size (three rings in
 * /dev/shm for SHM; a receive buffer and two socket buffers for SOCKET).
 * A service therefore caps the size of one connection (a client asking for
 * more gets the cap, which the handshake response tells it; libqb clients
 * of both libraries then use that size) and the sum over its connections
 * (a connection that would exceed it is refused with -ENOSPC).
 *
 * Measured requests of Debian 12's clients: corosync's 1 MiB, pacemaker's
 * 128 KiB (512 KiB to the CIB), more with PCMK_ipc_buffer. The defaults
 * leave room for far larger, and both limits grow with
 * qb_ipcs_enforce_buffer_size(), since a server that enforces a size wants
 * connections of at least that size.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

#define IPCS_BUFFERS_PER_CONN 3u
/* connections of the enforced size the default total always admits */
#define IPCS_TOTAL_MIN_CONNS 64u

static uint32_t conn_max(const struct qb_ipcs_service *s)
{
	uint32_t m = s->limit_conn ? s->limit_conn : IPCS_DEFAULT_CONN_MAX;

	/* an explicit limit is obeyed; the default gives way to enforce */
	if (s->limit_conn == 0) {
		m = QB_MAX(m, s->enforced_size);
	}
	return m;
}

static uint64_t total_max(const struct qb_ipcs_service *s)
{
	uint64_t auto_total =
		(uint64_t)IPCS_TOTAL_MIN_CONNS * IPCS_BUFFERS_PER_CONN * s->enforced_size;

	if (s->limit_total) {
		return s->limit_total;
	}
	return QB_MAX((uint64_t)IPCS_DEFAULT_TOTAL_MAX, auto_total);
}

uint32_t ipcs_limit_size(struct qb_ipcs_connection *c, uint32_t asked)
{
	uint32_t m = conn_max(c->service);

	if (asked <= m) {
		return asked;
	}
	util_log(LOG_INFO,
		 "%s: pid %d asked for %u-byte buffers, "
		 "giving it the maximum %u",
		 c->service->name, (int)c->creds.pid, asked, m);
	return m;
}

int32_t ipcs_limit_charge(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;
	uint64_t cost = (uint64_t)IPCS_BUFFERS_PER_CONN * c->max_msg_size;

	if (s->charged + cost > total_max(s)) {
		util_log(LOG_WARNING,
			 "%s: refusing pid %d: its buffers "
			 "(%llu bytes) would exceed the service's %llu",
			 s->name, (int)c->creds.pid, (unsigned long long)cost,
			 (unsigned long long)total_max(s));
		return -ENOSPC;
	}
	s->charged += cost;
	c->charged = cost;
	return 0;
}

void ipcs_limit_uncharge(struct qb_ipcs_connection *c)
{
	struct qb_ipcs_service *s = c->service;

	s->charged -= QB_MIN(s->charged, c->charged);
	c->charged = 0;
}

int32_t qb_ipcs_buffer_limits_set(qb_ipcs_service_t *s, uint32_t conn_limit, uint64_t service_limit)
{
	if (s == NULL) {
		return -EINVAL;
	}
	if (conn_limit > IPC_MAX_MSG_SIZE) {
		return -EINVAL;
	}
	s->limit_conn = conn_limit;
	s->limit_total = service_limit;
	return 0;
}
