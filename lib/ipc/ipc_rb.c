/*
 * ipc_rb.c - ring buffer details the IPC protocol depends on.
 *
 * IPC peers use the ring header's reference count as a liveness signal
 * (a client treats "count != 2" as a dead server). That count lives at a
 * fixed offset of the shared header (ringbuffer.md section 2), which is
 * part of the cross-process ABI; the rb module lets us set it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "ipc/ipc_internal.h"
#include "rb/rb_internal.h"


/* Close as the last user: peers then see a count of 0, never 2. */
void ipc_rb_close_last(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return;
	}
	rb_refcount_set(rb, 1);
	qb_rb_close(rb);
}

/* The peer that created the ring is dead: remove its files. */
void ipc_rb_force_close(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return;
	}
	qb_rb_force_close(rb);
}
