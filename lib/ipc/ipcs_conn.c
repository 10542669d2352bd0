/*
 * ipcs_conn.c - IPC server: what an application asks of a connection
 * (service id, contexts, statistics, auth, buffer size) and the walk over a
 * service's active connections.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"

int32_t qb_ipcs_service_id_get(qb_ipcs_connection_t *c)
{
	return c ? c->service->service_id : -EINVAL;
}

void qb_ipcs_context_set(qb_ipcs_connection_t *c, void *context)
{
	if (c) {
		c->context = context;
	}
}

void *qb_ipcs_context_get(qb_ipcs_connection_t *c)
{
	return c ? c->context : NULL;
}

void *qb_ipcs_connection_service_context_get(qb_ipcs_connection_t *c)
{
	return c ? c->service->context : NULL;
}

static void stats_clear(struct qb_ipcs_connection *c)
{
	c->stats.requests = 0;
	c->stats.responses = 0;
	c->stats.events = 0;
	c->stats.send_retries = 0;
	c->stats.recv_retries = 0;
	c->stats.flow_control_count = 0;
}

int32_t qb_ipcs_connection_stats_get(qb_ipcs_connection_t *c,
				     struct qb_ipcs_connection_stats *stats,
				     int32_t clear_after_read)
{
	if (c == NULL || stats == NULL) {
		return -EINVAL;
	}
	memcpy(stats, &c->stats, sizeof(*stats));
	if (clear_after_read) {
		stats_clear(c);
	}
	return 0;
}

struct qb_ipcs_connection_stats_2 *qb_ipcs_connection_stats_get_2(qb_ipcs_connection_t *c,
								  int32_t clear_after_read)
{
	struct qb_ipcs_connection_stats_2 *st;

	if (c == NULL) {
		errno = EINVAL;
		return NULL;
	}
	st = malloc(sizeof(*st));
	if (st == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	*st = c->stats;
	st->event_q_length = (c->state == IPCS_CONN_ACTIVE) ? c->service->ops->event_q_len(c) : 0;
	if (clear_after_read) {
		stats_clear(c);
	}
	return st;
}

static struct qb_ipcs_connection *first_active(struct qb_ipcs_service *s,
					       struct qb_ipcs_connection *c)
{
	while (c && c->state != IPCS_CONN_ACTIVE) {
		c = ipcs_conn_next(&s->conns, c);
	}
	if (c) {
		qb_ipcs_connection_ref(c);
	}
	return c;
}

qb_ipcs_connection_t *qb_ipcs_connection_first_get(qb_ipcs_service_t *s)
{
	return s ? first_active(s, ipcs_conn_first(&s->conns)) : NULL;
}

qb_ipcs_connection_t *qb_ipcs_connection_next_get(qb_ipcs_service_t *s,
						  qb_ipcs_connection_t *current)
{
	if (s == NULL || current == NULL) {
		return NULL;
	}
	/* a connection in handshake is on the pending list: none follow */
	if (current->state == IPCS_CONN_SETUP) {
		return NULL;
	}
	return first_active(s, ipcs_conn_next(&s->conns, current));
}

void qb_ipcs_connection_auth_set(qb_ipcs_connection_t *c, uid_t uid, gid_t gid, mode_t mode)
{
	if (c) {
		c->auth_uid = uid;
		c->auth_gid = gid;
		c->auth_mode = mode;
	}
}

int32_t qb_ipcs_connection_get_buffer_size(qb_ipcs_connection_t *c)
{
	return c ? (int32_t)c->max_msg_size : -EINVAL;
}
