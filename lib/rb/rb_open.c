/*
 * rb_open.c - creating, attaching to, renaming and closing ring buffers,
 * plus the accessors that only read the handle.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "rb/rb_private.h"

#define RB_UNIQUE_TRIES 32

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

/* Data file size for a requested chunk size, as libqb computes it. */
static int data_len_for(size_t size, size_t *out)
{
	size_t page = page_size();
	size_t len;

	if (size > SIZE_MAX - RB_SIZE_EXTRA - page) {
		return -EINVAL;
	}
	len = ((size + RB_SIZE_EXTRA + page - 1) / page) * page;
	/* word_size is a u32 and the mapping is doubled */
	if (len / 4 > UINT32_MAX || len > SIZE_MAX / 2) {
		return -EINVAL;
	}
	*out = len;
	return 0;
}

static int set_paths(qb_ringbuffer_t *rb, const char *name)
{
	int rc;

	if (name == NULL) {
		return -EINVAL;
	}
	/* libqb hands such names to mkstemp, which rejects them: do the same */
	if (strstr(name, "XXXXXX") != NULL) {
		return -EINVAL;
	}
	rc = shm_path_build(rb->hdr_path, sizeof(rb->hdr_path), name, "header");
	if (rc == 0) {
		rc = shm_path_build(rb->data_path, sizeof(rb->data_path), name, "data");
	}
	return rc;
}

static void close_held_fds(qb_ringbuffer_t *rb)
{
	if (rb->hdr_fd >= 0) {
		close(rb->hdr_fd);
		rb->hdr_fd = -1;
	}
	if (rb->data_fd >= 0) {
		close(rb->data_fd);
		rb->data_fd = -1;
	}
}

static void unmap_all(qb_ringbuffer_t *rb)
{
	close_held_fds(rb);
	if (rb->data != NULL) {
		munmap(rb->data, 2 * rb->data_len);
		rb->data = NULL;
	}
	if (rb->hdr != NULL) {
		munmap(rb->hdr, rb->hdr_len);
		rb->hdr = NULL;
	}
}

void rb_unlink_files(qb_ringbuffer_t *rb)
{
	if (rb->unlinked) {
		return;
	}
	(void)shm_unlink_owned(rb->data_path, &rb->data_id);
	(void)shm_unlink_owned(rb->hdr_path, &rb->hdr_id);
	rb->unlinked = 1;
}

static int map_data(qb_ringbuffer_t *rb, int fd)
{
	void *p;
	int rc = shm_map_circular(fd, rb->data_len, &p);

	close(fd);
	if (rc == 0) {
		rb->data = p;
	}
	return rc;
}

static int map_hdr(qb_ringbuffer_t *rb, int fd)
{
	void *p;
	int rc = shm_map(fd, rb->hdr_len, &p);

	close(fd);
	if (rc == 0) {
		rb->hdr = p;
	}
	return rc;
}

static int create_files(qb_ringbuffer_t *rb, size_t size)
{
	int have_hdr = 0;
	int fd;
	int rc;

	rc = data_len_for(size, &rb->data_len);
	if (rc < 0) {
		return rc;
	}
	rb->words = (uint32_t)(rb->data_len / 4);
	fd = shm_file_create(rb->hdr_path, rb->hdr_len, &rb->hdr_id);
	if (fd < 0) {
		return fd;
	}
	have_hdr = 1;
	rc = map_hdr(rb, fd);
	if (rc < 0) {
		goto fail;
	}
	rb->hdr->word_size = rb->words;
	rb->hdr->write_pt = 0;
	rb->hdr->read_pt = 0;
	memcpy(rb->hdr->hdr_path, rb->hdr_path, strlen(rb->hdr_path) + 1);
	rc = qb_rb_sem_create(rb, rb->flags);
	if (rc < 0) {
		goto fail;
	}
	fd = shm_file_create(rb->data_path, rb->data_len, &rb->data_id);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	rc = map_data(rb, fd);
	if (rc < 0) {
		(void)shm_unlink_owned(rb->data_path, &rb->data_id);
		goto fail;
	}
	memcpy(rb->hdr->data_path, rb->data_path, strlen(rb->data_path) + 1);
	/* libqb leaves 5 in the first data word; peers never rely on it, but
	 * keeping it makes fresh files byte-identical. */
	rb->data[rb->words] = 5;
	__atomic_store_n(&rb->hdr->ref_count, 1, __ATOMIC_RELEASE);
	return 0;
fail:
	unmap_all(rb);
	if (have_hdr) {
		(void)shm_unlink_owned(rb->hdr_path, &rb->hdr_id);
	}
	return rc;
}

static int attach_files(qb_ringbuffer_t *rb)
{
	uint32_t words;
	size_t dlen;
	int fd;
	int rc;

	fd = shm_file_open(rb->hdr_path, rb->hdr_len, 0, &rb->hdr_id);
	if (fd < 0) {
		return fd;
	}
	rb->hdr_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	rc = map_hdr(rb, fd);
	if (rc < 0) {
		close_held_fds(rb);
		return rc;
	}
	words = rb->hdr->word_size;
	dlen = (size_t)words * 4;
	if (words == 0 || dlen % page_size() != 0 || dlen > SIZE_MAX / 2) {
		rc = -EINVAL;
		goto fail;
	}
	/* the creator's data path is authoritative, as in libqb */
	if (strnlen(rb->hdr->data_path, RB_PATH_MAX) >= RB_PATH_MAX ||
	    rb->hdr->data_path[0] == '\0') {
		rc = -EINVAL;
		goto fail;
	}
	memcpy(rb->data_path, rb->hdr->data_path, strlen(rb->hdr->data_path) + 1);
	rb->words = words;
	rb->data_len = dlen;
	fd = shm_file_open(rb->data_path, dlen, 1, &rb->data_id);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	rb->data_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	rc = map_data(rb, fd);
	if (rc < 0) {
		goto fail;
	}
	rc = qb_rb_sem_create(rb, rb->flags);
	if (rc < 0) {
		goto fail;
	}
	__atomic_add_fetch(&rb->hdr->ref_count, 1, __ATOMIC_ACQ_REL);
	return 0;
fail:
	unmap_all(rb);
	return rc;
}

int32_t rb_create(const char *name, size_t size, uint32_t flags, size_t user_size,
		  struct qb_rb_notifier *notifier, qb_ringbuffer_t **out)
{
	qb_ringbuffer_t *rb;
	int rc;

	if (user_size > SIZE_MAX - sizeof(struct rb_shared_hdr)) {
		return -EINVAL;
	}
	rb = calloc(1, sizeof(*rb));
	if (rb == NULL) {
		return -ENOMEM;
	}
	rb->flags = flags;
	rb->owner = getpid();
	rb->hdr_fd = -1;
	rb->data_fd = -1;
	rb->hdr_len = sizeof(struct rb_shared_hdr) + user_size;
	if (notifier != NULL && notifier->post_fn != NULL) {
		rb->custom = *notifier;
		rb->notify = RB_NOTIFY_CUSTOM;
	}
	rc = set_paths(rb, name);
	if (rc == 0) {
		rc = (flags & QB_RB_FLAG_CREATE) ? create_files(rb, size) : attach_files(rb);
	}
	if (rc < 0) {
		free(rb);
		return rc;
	}
	*out = rb;
	return 0;
}

qb_ringbuffer_t *qb_rb_open_2(const char *name, size_t size, uint32_t flags,
			      size_t shared_user_data_size, struct qb_rb_notifier *notifier)
{
	qb_ringbuffer_t *rb = NULL;
	int rc = rb_create(name, size, flags, shared_user_data_size, notifier, &rb);

	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return rb;
}

qb_ringbuffer_t *qb_rb_open(const char *name, size_t size, uint32_t flags,
			    size_t shared_user_data_size)
{
	return qb_rb_open_2(name, size, flags, shared_user_data_size, NULL);
}

int32_t rb_open_unique(const char *prefix, const char *suffix, size_t size, uint32_t flags,
		       size_t shared_user_data_size, qb_ringbuffer_t **out)
{
	char name[RB_PATH_MAX];
	char nonce[17];
	int tries;
	int rc = -EEXIST;

	if (prefix == NULL || suffix == NULL || out == NULL || strchr(prefix, '/') != NULL ||
	    strchr(suffix, '/') != NULL) {
		return -EINVAL;
	}
	for (tries = 0; tries < RB_UNIQUE_TRIES && rc == -EEXIST; tries++) {
		int n;

		rc = shm_nonce(nonce);
		if (rc < 0) {
			return rc;
		}
		n = snprintf(name, sizeof(name), "%s-%s-%s", prefix, nonce, suffix);
		if (n < 0 || (size_t)n >= sizeof(name)) {
			return -ENAMETOOLONG;
		}
		rc = rb_create(name, size, flags | QB_RB_FLAG_CREATE, shared_user_data_size, NULL,
			       out);
	}
	return rc;
}

int32_t qb_rb_close_helper(qb_ringbuffer_t *rb, int32_t unlink_it, int32_t truncate_fallback)
{
	if (rb == NULL) {
		return -EINVAL;
	}
	/* Only the creating process removes the files: a forked child closing
	 * an inherited handle must not pull them from under its parent. */
	if (unlink_it && rb->owner == getpid()) {
		rb_notify_destroy(rb);
		rb_unlink_files(rb);
	}
	unmap_all(rb);
	free(rb);
	return 0;
}

void qb_rb_close(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return;
	}
	__atomic_sub_fetch(&rb->hdr->ref_count, 1, __ATOMIC_ACQ_REL);
	(void)qb_rb_close_helper(rb, rb->flags & QB_RB_FLAG_CREATE, 0);
}

/*
 * A dead creator's file that cannot be removed (permissions, a read-only
 * mount) still gives its memory back: emptied through the descriptor we
 * opened it with, never through its path, which may name another file by
 * now.
 */
static void remove_or_empty(const char *path, const struct shm_file_id *id, int fd)
{
	if (shm_unlink_owned(path, id) < 0 && fd >= 0) {
		(void)!ftruncate(fd, 0); /* best effort: the unlink failed too */
	}
}

void qb_rb_force_close(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return;
	}
	__atomic_store_n(&rb->hdr->ref_count, -1, __ATOMIC_RELEASE);
	rb_notify_destroy(rb);
	/* removes the files only while they are the ones we mapped */
	if (!rb->unlinked) {
		remove_or_empty(rb->data_path, &rb->data_id, rb->data_fd);
		remove_or_empty(rb->hdr_path, &rb->hdr_id, rb->hdr_fd);
		rb->unlinked = 1;
	}
	unmap_all(rb);
	free(rb);
}

char *qb_rb_name_get(qb_ringbuffer_t *rb)
{
	return rb == NULL ? NULL : rb->hdr_path;
}

void *qb_rb_shared_user_data_get(qb_ringbuffer_t *rb)
{
	return rb == NULL ? NULL : rb->hdr->user_data;
}

int32_t qb_rb_refcount_get(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return -EINVAL;
	}
	return __atomic_load_n(&rb->hdr->ref_count, __ATOMIC_ACQUIRE);
}

void rb_refcount_set(qb_ringbuffer_t *rb, int32_t v)
{
	if (rb != NULL) {
		__atomic_store_n(&rb->hdr->ref_count, v, __ATOMIC_RELEASE);
	}
}

void *rb_data_get(const qb_ringbuffer_t *rb, size_t *len_out)
{
	*len_out = rb == NULL ? 0 : (size_t)rb->words * 4;
	return rb == NULL ? NULL : rb->data;
}

void rb_mappings_get(const qb_ringbuffer_t *rb, void **hdr, size_t *hdr_len, void **data,
		     size_t *data_len)
{
	*hdr = rb ? rb->hdr : NULL;
	*hdr_len = rb && rb->hdr ? rb->hdr_len : 0;
	*data = rb ? rb->data : NULL;
	*data_len = rb && rb->data ? 2 * rb->data_len : 0;
}

uint32_t rb_flags_get(const qb_ringbuffer_t *rb)
{
	return rb == NULL ? 0 : rb->flags;
}

/* Both act on the ring file itself, never on a symlink put in its place
 * (fchmodat refuses symlinks, fchownat changes the link). */
static int chown_file(const char *path, uid_t uid, gid_t gid)
{
	if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM) {
		return -errno;
	}
	return 0;
}

static int chmod_file(const char *path, mode_t mode)
{
	if (fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	return 0;
}

int32_t qb_rb_chown(qb_ringbuffer_t *rb, uid_t owner, gid_t group)
{
	int rc;

	if (rb == NULL) {
		return -EINVAL;
	}
	rc = chown_file(rb->data_path, owner, group);
	if (rc == 0) {
		rc = chown_file(rb->hdr_path, owner, group);
	}
	return rc;
}

int32_t qb_rb_chmod(qb_ringbuffer_t *rb, mode_t mode)
{
	int rc;

	if (rb == NULL) {
		return -EINVAL;
	}
	rc = chmod_file(rb->data_path, mode);
	if (rc == 0) {
		rc = chmod_file(rb->hdr_path, mode);
	}
	return rc;
}
