/*
 * ipcs_mlock.c - opt-in locking of a shm connection's rings in RAM, so a
 * daemon whose pages were swapped out does not stall on its IPC (e.g. a
 * fencing daemon under memory pressure). A ring that cannot be locked
 * (RLIMIT_MEMLOCK, no CAP_IPC_LOCK) is logged; the connection works on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <qb/qbipcs.h>

#include "ipc/ipc_internal.h"
#include "rb/rb_internal.h"
#include "util/util_internal.h"

int32_t ipcs_conn_mlock(struct qb_ipcs_connection *c)
{
	qb_ringbuffer_t *rings[3] = {c->shm_req, c->shm_resp, c->shm_ev};
	int32_t rc = 0, i;

	if (!c->service->mlock_rings) {
		return 0;
	}
	for (i = 0; i < 3 && rc == 0; i++) {
		if (rings[i] != NULL) {
			rc = rb_mlock(rings[i]);
		}
	}
	if (rc < 0) {
		util_log(LOG_WARNING,
			 "%s: cannot lock the rings of pid %d "
			 "in memory: %s",
			 c->service->name, (int)c->creds.pid, strerror(-rc));
	}
	return rc;
}

int32_t qb_ipcs_mlock_set(qb_ipcs_service_t *s, int32_t on)
{
	struct qb_ipcs_connection *c;
	int32_t rc = 0;

	if (s == NULL) {
		return -EINVAL;
	}
	s->mlock_rings = on ? 1 : 0;
	if (!on) {
		return 0;
	}
	for (c = ipcs_conn_first(&s->conns); c != NULL; c = ipcs_conn_next(&s->conns, c)) {
		int32_t r = ipcs_conn_mlock(c);

		if (rc == 0) {
			rc = r;
		}
	}
	return rc;
}
