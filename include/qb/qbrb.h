/*
 * qbrb.h - a ring buffer of variable-sized chunks living in shared memory.
 *
 * A ring buffer is a pair of files (a small header and a data area) mapped by
 * every process or thread that uses it. One side writes chunks, the other
 * side reads them in order. The on-disk/in-memory layout is compatible with
 * libqb 2.0.x, so a process on another libqb 2.0 build can share a ring with
 * a process on this one.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_RB_H_DEFINED
#define QB_RB_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <sys/types.h>
#include <stdint.h>

/**
 * @file qbrb.h
 * Shared-memory ring buffer.
 *
 * Typical use: one party calls qb_rb_open() with QB_RB_FLAG_CREATE and
 * becomes the owner of the files; the peer calls qb_rb_open() with the same
 * name and without QB_RB_FLAG_CREATE. Either side may write, either may
 * read, but a ring has at most one writer and one reader at a time (the
 * library does not serialise concurrent writers or concurrent readers).
 *
 * Names: a name containing '/' is used as a path prefix as given; any other
 * name becomes /dev/shm/qb-NAME. "-header" and "-data" are appended to form
 * the two file names.
 *
 * Errors are reported as negative errno values (functions returning a
 * number) or as NULL with errno set (functions returning a pointer).
 *
 * Threads: one writer and one reader may work on a ring at the same time
 * (in different threads or processes); several writers, or several
 * readers, must serialise among themselves. Open, close and the other
 * calls on one handle must not race with each other.
 *
 * Fork: a child inherits the mapping and may keep using the handle; a
 * child closing an inherited owner handle does not remove the files (only
 * the process that created them does).
 *
 * Files: created with O_EXCL|O_NOFOLLOW, mode 0600; an existing file is
 * never truncated, replaced or removed; openers refuse symlinks, non-regular
 * files and files of the wrong size. No file descriptor stays open.
 */

/** Create the ring (become its owner); without it an existing ring is opened. */
#define QB_RB_FLAG_CREATE		0x01
/** When full, drop the oldest chunks to make room instead of failing. */
#define QB_RB_FLAG_OVERWRITE		0x02
/** The ring is shared between threads of one process. */
#define QB_RB_FLAG_SHARED_THREAD	0x04
/** The ring is shared between processes (process-shared notification). */
#define QB_RB_FLAG_SHARED_PROCESS	0x08
/** No reader notification at all: readers never block, chunks_used is unsupported. */
#define QB_RB_FLAG_NO_SEMAPHORE		0x10

struct qb_ringbuffer_s;
/** Opaque handle of an open ring buffer. */
typedef struct qb_ringbuffer_s qb_ringbuffer_t;

/**
 * Create or attach to a ring buffer.
 *
 * @param name  ring name (see the file comment for how it maps to files).
 * @param size  the largest chunk the caller intends to write, in bytes; the
 *              data area is rounded up to whole pages with room for it.
 * @param flags QB_RB_FLAG_* values or-ed together.
 * @param shared_user_data_size bytes of caller-defined data kept in the
 *              shared header (see qb_rb_shared_user_data_get()).
 * @return a new handle, or NULL with errno set: EEXIST when creating over
 *         an existing file (the file is left alone), ENOENT when attaching
 *         to a missing ring, ELOOP when a ring file is a symlink, EINVAL for
 *         a NULL name, a size too large, a name containing "XXXXXX" or ring
 *         files of the wrong type or size, ENOSPC/ENOMEM when shared memory
 *         is exhausted (nothing is left behind), ENAMETOOLONG.
 * Not async-signal-safe.
 * Thread safety: safe to call concurrently on different names.
 */
qb_ringbuffer_t *qb_rb_open(const char *name, size_t size, uint32_t flags,
			    size_t shared_user_data_size);

/**
 * Detach from a ring buffer and free the handle.
 *
 * The owner (the handle opened with QB_RB_FLAG_CREATE) also removes both
 * files, whether or not other handles are still attached; their mappings
 * stay valid. NULL is accepted and ignored.
 */
void qb_rb_close(qb_ringbuffer_t * rb);

/**
 * Path of the header file of the ring.
 * @return a string owned by the ring (valid until close), or NULL for NULL.
 */
char *qb_rb_name_get(qb_ringbuffer_t * rb);

/**
 * Address of the caller-defined area inside the shared header.
 * @return pointer to shared_user_data_size bytes, or NULL for NULL.
 */
void *qb_rb_shared_user_data_get(qb_ringbuffer_t * rb);

/**
 * Copy one chunk into the ring (alloc + copy + commit).
 *
 * @return len on success; -EAGAIN when there is no room (and the ring is
 *         not in overwrite mode), -EINVAL for bad arguments or a damaged
 *         ring, or the error of the notification post.
 */
ssize_t qb_rb_chunk_write(qb_ringbuffer_t * rb, const void *data, size_t len);

/**
 * Reserve room for a chunk of len bytes and return where to put its data.
 *
 * The chunk is invisible to readers until qb_rb_chunk_commit(). Only one
 * chunk may be allocated at a time.
 * @return pointer into the data area, or NULL with errno EAGAIN (no room)
 *         or EINVAL (bad argument, or overwrite could not drop a chunk).
 */
void *qb_rb_chunk_alloc(qb_ringbuffer_t * rb, size_t len);

/**
 * Publish the chunk reserved by qb_rb_chunk_alloc(), with its final length.
 *
 * @param len the number of bytes actually written (at most the allocated length).
 * @return 0, -EINVAL for a NULL ring, or the error of the notification post.
 */
int32_t qb_rb_chunk_commit(qb_ringbuffer_t * rb, size_t len);

/**
 * Look at the oldest chunk without removing it.
 *
 * @param data_out  receives a pointer to the chunk data inside the ring.
 * @param ms_timeout  wait at most this many milliseconds for a chunk
 *        (0: do not wait, negative: wait forever).
 * @return the chunk length, 0 on timeout (or for an empty chunk), -EINVAL,
 *         -EBADMSG when the oldest chunk is not committed, or a wait error.
 * Call qb_rb_chunk_reclaim() once done with the data.
 */
ssize_t qb_rb_chunk_peek(qb_ringbuffer_t * rb, void **data_out,
			 int32_t ms_timeout);

/**
 * Drop the oldest chunk (normally after qb_rb_chunk_peek()).
 * Does nothing when the oldest chunk is not a committed chunk.
 */
void qb_rb_chunk_reclaim(qb_ringbuffer_t * rb);

/**
 * Copy the oldest chunk out of the ring and remove it.
 *
 * @param data_out  destination buffer of len bytes.
 * @param ms_timeout as for qb_rb_chunk_peek().
 * @return the chunk length; -ETIMEDOUT when nothing arrived in time;
 *         -ENOBUFS when len is smaller than the chunk (the chunk stays);
 *         -EBADMSG for an uncommitted chunk; -EINVAL for bad arguments.
 */
ssize_t qb_rb_chunk_read(qb_ringbuffer_t * rb, void *data_out, size_t len,
			 int32_t ms_timeout);

/**
 * Number of handles attached to the ring (shared counter).
 * @return the count, or -EINVAL for NULL.
 */
int32_t qb_rb_refcount_get(qb_ringbuffer_t * rb);

/**
 * Free space in the data area, in bytes (chunk headers included).
 * @return bytes, or -EINVAL for NULL.
 */
ssize_t qb_rb_space_free(qb_ringbuffer_t * rb);

/**
 * Space taken by unread chunks, in bytes (chunk headers included).
 * @return bytes, or -EINVAL for NULL.
 */
ssize_t qb_rb_space_used(qb_ringbuffer_t * rb);

/**
 * Number of committed chunks not yet waited for by a reader. In overwrite
 * mode chunks dropped unread are not counted (libqb 2.0 counted them).
 * Async-signal-safe.
 * @return the count, -EINVAL for NULL, -ENOTSUP without notification
 *         (QB_RB_FLAG_NO_SEMAPHORE).
 */
ssize_t qb_rb_chunks_used(qb_ringbuffer_t * rb);

/**
 * Write a snapshot of the ring (pointers and the whole data area) to fd, at
 * its current offset. The format is the libqb 2.0 dump format read by
 * qb_rb_create_from_file(). Nothing is printed (libqb 2.0 also printed a
 * summary to stdout).
 * @return bytes written (20 + data area size), -EINVAL for a NULL ring, or
 *         -errno of a failed write (e.g. -EBADF).
 * Async-signal-safe (only write(2)): usable from a crash handler.
 */
ssize_t qb_rb_write_to_file(qb_ringbuffer_t * rb, int32_t fd);

/**
 * Load a dump made by qb_rb_write_to_file() (by this library or libqb
 * 2.0) into a new private ring, reading from fd's current offset.
 *
 * The dump is validated: wrong version or checksum, pointers or sizes out
 * of range, a truncated file or a non-regular fd are rejected; a damaged
 * chunk chain is cut at the first bad chunk. The ring has no notification
 * (read it with a 0 timeout until -ETIMEDOUT) and no files on disk.
 * @param flags ignored.
 * @return a new ring (release it with qb_rb_close()), or NULL with errno
 *         set (EINVAL for bad input, ENOSPC/ENOMEM, or a read error).
 */
qb_ringbuffer_t *qb_rb_create_from_file(int32_t fd, uint32_t flags);

/**
 * Change the owner of both ring files. A refusal by the system (EPERM) is
 * not treated as an error.
 * @return 0 or -errno.
 */
int32_t qb_rb_chown(qb_ringbuffer_t * rb, uid_t owner, gid_t group);

/**
 * Change the permission bits of both ring files.
 * @return 0 or -errno.
 */
int32_t qb_rb_chmod(qb_ringbuffer_t * rb, mode_t mode);

#ifdef __cplusplus
}
#endif

#endif /* QB_RB_H_DEFINED */
