/*
 * rb_private.h - layout of the shared ring buffer header and the private
 * handle; shared by the files of lib/rb only (others use rb_internal.h).
 *
 * The shared header is a wire format: libqb 2.0.x processes map the same
 * bytes. Offsets are checked at compile time below.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_RB_PRIVATE_H_DEFINED
#define QB_RB_PRIVATE_H_DEFINED

#include <limits.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rb/rb_internal.h"
#include "shm/shm_internal.h"

#define RB_PATH_MAX 4096

struct rb_shared_hdr {
	volatile uint32_t write_pt; /* word index of the next chunk to write */
	volatile uint32_t read_pt;  /* word index of the oldest chunk */
	uint32_t word_size;	    /* data area size in 32-bit words */
	char hdr_path[RB_PATH_MAX];
	char data_path[RB_PATH_MAX];
	int32_t ref_count; /* attached handles */
	sem_t posix_sem;   /* glibc unnamed semaphore, in place */
	char user_data[1]; /* caller's area starts here */
};

_Static_assert(offsetof(struct rb_shared_hdr, write_pt) == 0, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, read_pt) == 4, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, word_size) == 8, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, hdr_path) == 12, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, data_path) == 4108, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, ref_count) == 8204, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, posix_sem) == 8208, "layout");
_Static_assert(offsetof(struct rb_shared_hdr, user_data) == 8240, "layout");
_Static_assert(sizeof(struct rb_shared_hdr) == 8248, "layout");
_Static_assert(sizeof(struct rb_shared_hdr) == RB_HDR_SIZE, "layout");

/* Where the user area starts in a -header file (it overlaps the padding
 * at the end of the fixed header, as in libqb). */
#define RB_HDR_USER_OFFSET offsetof(struct rb_shared_hdr, user_data)

/* Chunk header: word p = length in bytes, word p+1 = magic. */
#define RB_MAGIC_COMMITTED 0xA1A1A1A1u
#define RB_MAGIC_ALLOCATED 0xA110CED0u
#define RB_MAGIC_RECLAIMED 0xD0D0D0D0u
/* two header words plus one word of rounding */
#define RB_CHUNK_MARGIN 12u
/* chunk margin plus one byte: the data area holds `size` in any position */
#define RB_SIZE_EXTRA 13u

enum rb_notify_kind {
	RB_NOTIFY_NONE,	  /* QB_RB_FLAG_NO_SEMAPHORE */
	RB_NOTIFY_SEM,	  /* glibc semaphore in the shared header */
	RB_NOTIFY_CUSTOM, /* qb_rb_open_2 table */
};

struct qb_ringbuffer_s {
	uint32_t flags;
	enum rb_notify_kind notify;
	struct qb_rb_notifier custom;
	struct rb_shared_hdr *hdr;
	size_t hdr_len;	    /* bytes mapped at hdr */
	uint32_t *data;	    /* word 0 of the circular mapping */
	size_t data_len;    /* one copy (the file size) */
	uint32_t words;	    /* our copy of word_size */
	pid_t owner;	    /* creator process (unlinks on close) */
	int unlinked;	    /* files already removed */
	uint32_t dropped;   /* unread chunks overwritten since the last commit */
	int32_t looks;	    /* rb_notify.c: looks before a blocking wait sleeps */
	int32_t looks_rest; /* waits left that sleep at once (looks == 0) */
	struct shm_file_id hdr_id;
	struct shm_file_id data_id;
	int hdr_fd;		    /* held by openers (-1 otherwise): a */
	int data_fd;		    /* dead creator's files can be emptied */
	char hdr_path[RB_PATH_MAX]; /* our copies: never trust the shared ones */
	char data_path[RB_PATH_MAX];
};

/* lib/rb/rb_notify.c */
int32_t rb_notify_post(qb_ringbuffer_t *rb, size_t len);
int32_t rb_notify_wait(qb_ringbuffer_t *rb, int32_t ms_timeout);
ssize_t rb_notify_q_len(qb_ringbuffer_t *rb);
void rb_notify_reclaimed(qb_ringbuffer_t *rb, size_t len);
void rb_notify_destroy(qb_ringbuffer_t *rb);

/* lib/rb/rb_chunk.c */
int rb_reclaim_oldest(qb_ringbuffer_t *rb, int overwriting);
uint32_t rb_chunk_step(uint32_t words, uint32_t p, uint32_t len);
int rb_chunk_check(const qb_ringbuffer_t *rb, uint32_t r, uint32_t w, uint32_t *len_out);

/* lib/rb/rb_view.c */
uint32_t rb_view_word(const struct rb_view *v, uint64_t idx);
/* A ring dump's 5-word header for these pointers. */
void rb_dump_header_make(uint32_t h[RB_DUMP_HDR_WORDS], uint32_t words, uint32_t write_pt,
			 uint32_t read_pt);

/* lib/rb/rb_open.c */
int32_t rb_create(const char *name, size_t size, uint32_t flags, size_t user_size,
		  struct qb_rb_notifier *notifier, qb_ringbuffer_t **out);
void rb_unlink_files(qb_ringbuffer_t *rb);

#endif /* QB_RB_PRIVATE_H_DEFINED */
