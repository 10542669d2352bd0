/*
 * rb_mlock.c - keep a ring's pages in RAM (the IPC server's opt-in
 * qb_ipcs_mlock_set()). The lock goes away with the mapping.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>

#include "rb/rb_private.h"

int32_t rb_mlock(qb_ringbuffer_t *rb)
{
	if (rb == NULL || rb->hdr == NULL || rb->data == NULL) {
		return -EINVAL;
	}
	if (mlock(rb->hdr, rb->hdr_len) != 0) {
		return -errno;
	}
	/* the second copy of the circular mapping shares these pages */
	if (mlock(rb->data, rb->data_len) != 0) {
		int32_t e = -errno;

		(void)munlock(rb->hdr, rb->hdr_len);
		return e;
	}
	return 0;
}
