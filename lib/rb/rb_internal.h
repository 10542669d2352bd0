/*
 * rb_internal.h - the ring buffer module's door for the rest of the library
 * (the blackbox log target and the IPC shm transport).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_RB_INTERNAL_H_DEFINED
#define QB_RB_INTERNAL_H_DEFINED

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <qb/qbrb.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Pluggable reader notification (libqb's qb_rb_open_2 table). Every
 * function receives `instance`. A NULL table (or NULL entries) means "use the
 * built-in behaviour for this slot": the shared semaphore, or nothing with
 * QB_RB_FLAG_NO_SEMAPHORE.
 */
typedef int32_t (*qb_rb_notifier_post_fn_t)(void *instance, size_t msg_size);
typedef ssize_t (*qb_rb_notifier_q_len_fn_t)(void *instance);
typedef ssize_t (*qb_rb_notifier_used_fn_t)(void *instance);
typedef int32_t (*qb_rb_notifier_timedwait_fn_t)(void *instance,
						  int32_t ms_timeout);
typedef int32_t (*qb_rb_notifier_reclaim_fn_t)(void *instance,
						size_t msg_size);
typedef int32_t (*qb_rb_notifier_destroy_fn_t)(void *instance);

struct qb_rb_notifier {
	qb_rb_notifier_post_fn_t post_fn;
	qb_rb_notifier_q_len_fn_t q_len_fn;
	qb_rb_notifier_used_fn_t space_used_fn;
	qb_rb_notifier_timedwait_fn_t timedwait_fn;
	qb_rb_notifier_reclaim_fn_t reclaim_fn;
	qb_rb_notifier_destroy_fn_t destroy_fn;
	void *instance;
};

/* Exported (libqb.sym) but not in a public header, as in libqb 2.0. */
qb_ringbuffer_t *qb_rb_open_2(const char *name, size_t size, uint32_t flags,
			      size_t shared_user_data_size,
			      struct qb_rb_notifier *notifier);
/* Unlink (when asked and owned), unmap and free a handle. Returns 0. */
int32_t qb_rb_close_helper(qb_ringbuffer_t *rb, int32_t unlink_it,
			   int32_t truncate_fallback);
/*
 * Detach from a ring whose peer is known to be dead: marks the shared count
 * -1, destroys the semaphore and removes both files if they are still the
 * very files this handle mapped; then frees the handle. NULL-safe.
 */
void qb_rb_force_close(qb_ringbuffer_t *rb);
/* mlock() the header and data of @p rb (rb_mlock.c). 0 or -errno. */
int32_t rb_mlock(qb_ringbuffer_t *rb);
/* (Re)initialise the notification of rb according to flags. 0 or -errno. */
int32_t qb_rb_sem_create(qb_ringbuffer_t *rb, uint32_t flags);

/*
 * Create a ring named <prefix>-<nonce>-<suffix> (nonce: 16 lowercase hex
 * digits from getrandom), i.e. /dev/shm/qb-<prefix>-<nonce>-<suffix>-{header,
 * data}. QB_RB_FLAG_CREATE is implied. A name collision draws a new nonce
 * (bounded retries). Returns 0 and *out, or -errno with no file left behind.
 */
int32_t rb_open_unique(const char *prefix, const char *suffix, size_t size,
		       uint32_t flags, size_t shared_user_data_size,
		       qb_ringbuffer_t **out);

/*
 * Bodies of qb_rb_chunk_alloc()/qb_rb_chunk_commit() without the NULL check
 * (rb must be valid). Hidden, so hot callers inside libqb (the blackbox)
 * call them directly instead of through the PLT.
 */
__attribute__((visibility("hidden")))
void *rb_chunk_alloc(qb_ringbuffer_t *rb, size_t len);
__attribute__((visibility("hidden")))
int32_t rb_chunk_commit(qb_ringbuffer_t *rb, size_t len);

/* Store v in the shared reference count (IPC "last reference" idiom). */
void rb_refcount_set(qb_ringbuffer_t *rb, int32_t v);

/*
 * The ring's data area as this handle maps it: *len_out bytes (the data
 * file's size) from the returned address, which runs on for another
 * *len_out bytes into the same data again (the mapping is circular). Lets
 * the blackbox copy or dump the whole ring without mapping it a second
 * time. NULL (and 0) for NULL.
 */
void *rb_data_get(const qb_ringbuffer_t *rb, size_t *len_out);

/*
 * The two mappings of the handle, as mapped (header; data with its
 * circular second copy): what the IPC server guards against a peer that
 * truncates the files. Zeros for NULL.
 */
void rb_mappings_get(const qb_ringbuffer_t *rb, void **hdr, size_t *hdr_len,
		     void **data, size_t *data_len);

/* Flags the handle was opened with (QB_RB_FLAG_*), 0 for NULL. */
uint32_t rb_flags_get(const qb_ringbuffer_t *rb);

#ifdef __cplusplus
}
#endif

#endif /* QB_RB_INTERNAL_H_DEFINED */
