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
typedef int32_t (*qb_rb_notifier_timedwait_fn_t)(void *instance, int32_t ms_timeout);
typedef int32_t (*qb_rb_notifier_reclaim_fn_t)(void *instance, size_t msg_size);
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
			      size_t shared_user_data_size, struct qb_rb_notifier *notifier);
/* Unlink (when asked and owned), unmap and free a handle. Returns 0. */
int32_t qb_rb_close_helper(qb_ringbuffer_t *rb, int32_t unlink_it, int32_t truncate_fallback);
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
int32_t rb_open_unique(const char *prefix, const char *suffix, size_t size, uint32_t flags,
		       size_t shared_user_data_size, qb_ringbuffer_t **out);

/*
 * Bodies of qb_rb_chunk_alloc()/qb_rb_chunk_commit() without the NULL check
 * (rb must be valid). Hidden, so hot callers inside libqb (the blackbox)
 * call them directly instead of through the PLT.
 */
__attribute__((visibility("hidden"))) void *rb_chunk_alloc(qb_ringbuffer_t *rb, size_t len);
__attribute__((visibility("hidden"))) int32_t rb_chunk_commit(qb_ringbuffer_t *rb, size_t len);

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
void rb_mappings_get(const qb_ringbuffer_t *rb, void **hdr, size_t *hdr_len, void **data,
		     size_t *data_len);

/* Flags the handle was opened with (QB_RB_FLAG_*), 0 for NULL. */
uint32_t rb_flags_get(const qb_ringbuffer_t *rb);

/*
 * ---- a read-only view of a ring's chunks ----------------------------------
 * For code outside lib/rb that reads a ring it does not drive through the
 * qb_rb_chunk_* calls: the blackbox's fork copy, its dump, its reader of
 * dumps and live files, and the qb-blackbox tool. Every access is reduced modulo the ring and checked
 * against its size, so a view of corrupt bytes never reads outside them.
 * The layout itself is stated once, in rb_private.h.
 */

/* Bytes of the fixed shared header a ring's -header file starts with (the
 * user area, qb_rb_shared_user_data_get, follows it): the size of a header
 * image the functions below take. */
#define RB_HDR_SIZE 8248
/* u32 words of a ring dump's header (qb_rb_write_to_file) */
#define RB_DUMP_HDR_WORDS 5

struct rb_view {
	const unsigned char *data; /* words * 4 bytes, read as a circle */
	uint32_t words;		   /* >= 4 */
	uint32_t write_pt;	   /* < words */
	uint32_t read_pt;	   /* < words */
};

/* rb as this handle maps it (async-signal-safe: loads only). */
void rb_view_of(const qb_ringbuffer_t *rb, struct rb_view *v);
/*
 * Writes prefix (prefix_len bytes, may be 0), then a ring dump of v to fd,
 * with write(2) only (async-signal-safe). Bytes written, or -errno.
 */
ssize_t rb_view_dump(int fd, const struct rb_view *v, const void *prefix, size_t prefix_len);
/* Is dump header h sane with `avail` bytes of dump (header included)? 0 or
 * -EINVAL. */
int rb_dump_header_check(const uint32_t h[RB_DUMP_HDR_WORDS], uint64_t avail);
/* A ring dump of len bytes (header, then data). 0 or -EINVAL. */
int rb_view_from_dump(struct rb_view *v, const void *buf, size_t len);
/*
 * A ring from an image of its -header file (hdr_len bytes) and of its data
 * file. read_pt is taken from rp_hdr instead when it is not NULL (a later
 * image of the same header, RB_HDR_SIZE bytes at least). 0 or -EINVAL.
 */
int rb_view_from_header(struct rb_view *v, const void *hdr, size_t hdr_len, const void *rp_hdr,
			const void *data, size_t data_len);
/* Does hdr (len bytes) look like a ring's -header file (both paths set)? */
int rb_header_is_ring(const void *hdr, size_t len);
/* The data file path recorded in a header image, NULL if not terminated. */
const char *rb_header_data_path(const void *hdr, size_t len);
/* write_pt recorded in a header image of at least RB_HDR_SIZE bytes. */
uint32_t rb_header_write_pt(const void *hdr);
/* user_len bytes of user area in a header image, NULL if it is shorter. */
const void *rb_header_user(const void *hdr, size_t len, size_t user_len);

/* The ring's own words in its -header file. */
enum rb_hdr_word { RB_HDR_WRITE_PT, RB_HDR_READ_PT, RB_HDR_WORDS };
/* Word w of a header image of len bytes (which may be a short one). 0, or
 * -EINVAL when the image ends before it. */
int rb_header_word(const void *hdr, size_t len, enum rb_hdr_word w, uint32_t *out);
/*
 * Word w of a live -header file mapped shared at hdr (len bytes mapped):
 * one aligned 32-bit load, never torn however fast the writer stores it.
 * 0, or -EINVAL when the mapping ends before the word.
 */
int rb_header_mapped_word(const volatile void *hdr, size_t len, enum rb_hdr_word w, uint32_t *out);
/* The same for the u32 at byte off of the mapped file's user area. */
int rb_header_mapped_user_word(const volatile void *hdr, size_t len, size_t off, uint32_t *out);
/*
 * Word w of the -header file open at fd, read with pread(2) while its
 * writer may be storing it: a copy may be torn, so reads are repeated (at
 * most 8 pairs) until two agree; after that the last one is taken. 0, or
 * -errno (-EIO when the file ends before the word).
 */
int rb_header_fd_word(int fd, enum rb_hdr_word w, uint32_t *out);
/* The same for the u32 at byte off of the file's user area. */
int rb_header_fd_user_word(int fd, size_t off, uint32_t *out);
/* The first n bytes of the user area of the -header file at fd (pread).
 * 0, or -errno (-EIO when the file is shorter). */
int rb_header_fd_user_read(int fd, void *buf, size_t n);
/*
 * Forges an image of a -header file in hdr (len bytes, at least
 * RB_HDR_SIZE + user_len): the three words as given (unchecked, so a test
 * can make corrupt ones), both paths (truncated to fit), user_len bytes of
 * user area from user (zeros when NULL), zeros elsewhere. 0 or -EINVAL.
 */
int rb_header_image_make(void *hdr, size_t len, uint32_t words, uint32_t write_pt, uint32_t read_pt,
			 const char *hdr_path, const char *data_path, const void *user,
			 size_t user_len);

/*
 * The chunk at word p: *len is its length word (set whenever the magic can
 * be read). 0 when committed with a length the ring can hold, -ENOMSG when
 * not committed, -EMSGSIZE when its length is more than the ring holds.
 */
int rb_view_chunk(const struct rb_view *v, uint32_t p, uint32_t *len);
/* Word index of the chunk after the chunk of len bytes at p. */
uint32_t rb_view_next(const struct rb_view *v, uint32_t p, uint32_t len);
/* n bytes of the payload of the chunk at p from byte off, wrapping round
 * the ring. 0, or -EMSGSIZE when off + n is more than a chunk can hold. */
int rb_view_read(const struct rb_view *v, uint32_t p, size_t off, void *dst, size_t n);
/*
 * Copy v's data into ring `to` (same size; v may be another process's live
 * ring) without touching to's pointers; *copy is the view of the copy with
 * v's pointers. 0 or -EINVAL.
 */
int rb_view_copy(const struct rb_view *v, qb_ringbuffer_t *to, struct rb_view *copy);
/* Make `to` hold the chunks of `copy` (from rb_view_copy into `to`). */
void rb_view_install(qb_ringbuffer_t *to, const struct rb_view *copy);

#ifdef __cplusplus
}
#endif

#endif /* QB_RB_INTERNAL_H_DEFINED */
