/*
 * Thread locks: QB_THREAD_LOCK_SHORT is a spinlock, QB_THREAD_LOCK_LONG a
 * mutex. Both are initialised process-shared so a lock placed in shared
 * memory by the caller's own means would still work; the handle itself is
 * heap memory. Every call returns 0 or -errno.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <qb/qbutil.h>

struct qb_thread_lock_s {
	qb_thread_lock_type_t type;
	union {
		pthread_spinlock_t spin;
		pthread_mutex_t mutex;
	} u;
};

static int lock_init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t attr;
	int rc;

	rc = pthread_mutexattr_init(&attr);
	if (rc != 0) {
		return rc;
	}
	rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (rc == 0) {
		rc = pthread_mutex_init(m, &attr);
	}
	pthread_mutexattr_destroy(&attr);
	return rc;
}

qb_thread_lock_t *qb_thread_lock_create(qb_thread_lock_type_t type)
{
	qb_thread_lock_t *tl = calloc(1, sizeof(*tl));
	int rc;

	if (tl == NULL) {
		return NULL;
	}
	/* Anything but SHORT gets the mutex: the safe choice for a bad type. */
	tl->type = (type == QB_THREAD_LOCK_SHORT) ? QB_THREAD_LOCK_SHORT : QB_THREAD_LOCK_LONG;
	if (tl->type == QB_THREAD_LOCK_SHORT) {
		rc = pthread_spin_init(&tl->u.spin, PTHREAD_PROCESS_SHARED);
	} else {
		rc = lock_init_mutex(&tl->u.mutex);
	}
	if (rc != 0) {
		free(tl);
		errno = rc;
		return NULL;
	}
	return tl;
}

/* One lock operation on either kind of lock; inline, so each entry point
 * below calls its two pthread functions directly. */
static inline int32_t lock_op(qb_thread_lock_t *tl, int (*spin_fn)(pthread_spinlock_t *),
			      int (*mutex_fn)(pthread_mutex_t *))
{
	if (tl == NULL) {
		return -EINVAL;
	}
	if (tl->type == QB_THREAD_LOCK_SHORT) {
		return -spin_fn(&tl->u.spin);
	}
	return -mutex_fn(&tl->u.mutex);
}

int32_t qb_thread_lock(qb_thread_lock_t *tl)
{
	return lock_op(tl, pthread_spin_lock, pthread_mutex_lock);
}

int32_t qb_thread_trylock(qb_thread_lock_t *tl)
{
	return lock_op(tl, pthread_spin_trylock, pthread_mutex_trylock);
}

int32_t qb_thread_unlock(qb_thread_lock_t *tl)
{
	return lock_op(tl, pthread_spin_unlock, pthread_mutex_unlock);
}

int32_t qb_thread_lock_destroy(qb_thread_lock_t *tl)
{
	int rc;

	if (tl == NULL) {
		return -EINVAL;
	}
	if (tl->type == QB_THREAD_LOCK_SHORT) {
		rc = pthread_spin_destroy(&tl->u.spin);
	} else {
		rc = pthread_mutex_destroy(&tl->u.mutex);
	}
	if (rc != 0) {
		/* Still held: keep the lock usable so the caller can retry. */
		return -rc;
	}
	free(tl);
	return 0;
}
