/*
 * Temporary link-able stand-ins for the ring buffer API; replaced by the
 * real implementation in the following commits.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stddef.h>
#include "rb/rb_internal.h"

qb_ringbuffer_t *qb_rb_open_2(const char *name, size_t size, uint32_t flags,
			      size_t shared_user_data_size,
			      struct qb_rb_notifier *notifier)
{ errno = ENOSYS; return NULL; }
qb_ringbuffer_t *qb_rb_open(const char *name, size_t size, uint32_t flags,
			    size_t shared_user_data_size)
{ errno = ENOSYS; return NULL; }
void qb_rb_close(qb_ringbuffer_t *rb) { }
char *qb_rb_name_get(qb_ringbuffer_t *rb) { return NULL; }
void *qb_rb_shared_user_data_get(qb_ringbuffer_t *rb) { return NULL; }
ssize_t qb_rb_chunk_write(qb_ringbuffer_t *rb, const void *d, size_t len) { return -ENOSYS; }
void *qb_rb_chunk_alloc(qb_ringbuffer_t *rb, size_t len) { errno = ENOSYS; return NULL; }
int32_t qb_rb_chunk_commit(qb_ringbuffer_t *rb, size_t len) { return -ENOSYS; }
ssize_t qb_rb_chunk_peek(qb_ringbuffer_t *rb, void **d, int32_t t) { return -ENOSYS; }
void qb_rb_chunk_reclaim(qb_ringbuffer_t *rb) { }
ssize_t qb_rb_chunk_read(qb_ringbuffer_t *rb, void *d, size_t len, int32_t t) { return -ENOSYS; }
int32_t qb_rb_refcount_get(qb_ringbuffer_t *rb) { return -ENOSYS; }
ssize_t qb_rb_space_free(qb_ringbuffer_t *rb) { return -ENOSYS; }
ssize_t qb_rb_space_used(qb_ringbuffer_t *rb) { return -ENOSYS; }
ssize_t qb_rb_chunks_used(qb_ringbuffer_t *rb) { return -ENOSYS; }
ssize_t qb_rb_write_to_file(qb_ringbuffer_t *rb, int32_t fd) { return -ENOSYS; }
qb_ringbuffer_t *qb_rb_create_from_file(int32_t fd, uint32_t flags) { errno = ENOSYS; return NULL; }
int32_t qb_rb_chown(qb_ringbuffer_t *rb, uid_t o, gid_t g) { return -ENOSYS; }
int32_t qb_rb_chmod(qb_ringbuffer_t *rb, mode_t m) { return -ENOSYS; }
int32_t qb_rb_close_helper(qb_ringbuffer_t *rb, int32_t u, int32_t t) { return 0; }
void qb_rb_force_close(qb_ringbuffer_t *rb) { }
int32_t qb_rb_sem_create(qb_ringbuffer_t *rb, uint32_t flags) { return -ENOSYS; }
int32_t rb_open_unique(const char *prefix, const char *suffix, size_t size,
		       uint32_t flags, size_t shared_user_data_size,
		       qb_ringbuffer_t **out) { return -ENOSYS; }
int32_t rb_rename(qb_ringbuffer_t *rb, const char *new_name) { return -ENOSYS; }
void rb_refcount_set(qb_ringbuffer_t *rb, int32_t v) { }
uint32_t rb_flags_get(const qb_ringbuffer_t *rb) { return 0; }

/* unix internals (lib/shm in the real implementation) */
int32_t qb_sys_mmap_file_open(char *path, const char *file, size_t bytes, uint32_t file_flags) { return -ENOSYS; }
int32_t qb_sys_circular_mmap(int32_t fd, void **buf, size_t bytes) { return -ENOSYS; }
int32_t qb_sys_fd_nonblock_cloexec_set(int32_t fd) { return -ENOSYS; }
void qb_sys_unlink_or_truncate(const char *path, int32_t truncate_fallback) { }
void qb_sys_unlink_or_truncate_at(int32_t dirfd, const char *path, int32_t truncate_fallback) { }
