/*
 * rb_chunk.c - writing and reading chunks, and the space accounting.
 *
 * Writer protocol (shared with libqb peers): at p = write_pt the writer
 * marks the chunk allocated, fills the data, then stores the length,
 * advances write_pt and finally publishes the magic with release order
 * before posting the notifier. The reader checks the magic with acquire
 * order. Every index read from shared memory is reduced modulo the ring
 * size and every chunk length is checked against the unread span, so a
 * corrupt or hostile peer cannot make us touch memory outside the mapping.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "rb/rb_private.h"

static inline uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* v modulo the ring size; v is nearly always below 2 * words, so avoid
 * the division on the hot path. */
static inline uint64_t ring_mod(uint32_t words, uint64_t v)
{
	if (v < words) {
		return v;
	}
	if (v < 2 * (uint64_t)words) {
		return v - words;
	}
	return v % words;
}

static inline uint32_t write_pt(const qb_ringbuffer_t *rb)
{
	return (uint32_t)ring_mod(rb->words, load_acquire((const uint32_t *)&rb->hdr->write_pt));
}

static inline uint32_t read_pt(const qb_ringbuffer_t *rb)
{
	return (uint32_t)ring_mod(rb->words, load_acquire((const uint32_t *)&rb->hdr->read_pt));
}

static inline uint32_t *word_at(const qb_ringbuffer_t *rb, uint32_t idx)
{
	return &rb->data[ring_mod(rb->words, idx)];
}

/*
 * word_at() on copies of rb->data and rb->words: every store into the ring
 * is a uint32_t store that, as far as the compiler knows, may alias
 * rb->words, so hot paths keep both in locals to avoid reloading them.
 */
static inline uint32_t *word_in(uint32_t *data, uint32_t words, uint64_t idx)
{
	return &data[ring_mod(words, idx)];
}

/* Words a chunk of len bytes takes, header included. */
static inline uint64_t chunk_words(uint32_t len)
{
	return 2 + (((uint64_t)len + 3) >> 2);
}

/* Inlinable copy for this file: with -fPIC gcc will not inline the
 * global rb_chunk_step() into its callers (it could be interposed). */
static inline uint32_t chunk_step(uint32_t words, uint32_t p, uint32_t len)
{
	return (uint32_t)ring_mod(words, (uint64_t)p + chunk_words(len));
}

uint32_t rb_chunk_step(uint32_t words, uint32_t p, uint32_t len)
{
	return chunk_step(words, p, len);
}

/* Free words between positions w and r of a ring of n words, as libqb
 * counts them (peers agree on fullness this way). */
static inline uint32_t free_between(qb_ringbuffer_t *rb, uint32_t n, uint32_t w, uint32_t r)
{
	if (w > r) {
		return r - w + n - 1;
	}
	if (w < r) {
		return r - w - 1;
	}
	/* notifications of chunks this writer just dropped do not count */
	return rb_notify_q_len(rb) > (ssize_t)rb->dropped ? 0 : n;
}

static inline uint32_t free_words(qb_ringbuffer_t *rb)
{
	return free_between(rb, rb->words, write_pt(rb), read_pt(rb));
}

static uint32_t used_words(const qb_ringbuffer_t *rb)
{
	uint32_t w = write_pt(rb);
	uint32_t r = read_pt(rb);

	if (w > r) {
		return w - r;
	}
	if (w < r) {
		return w - r + rb->words - 1;
	}
	return 0;
}

/*
 * Check the chunk at r against a writer position w: committed, and its
 * length fits in the unread span. 0 and *len_out, -EAGAIN when there is no
 * committed chunk, -EBADMSG when the chunk cannot be right.
 */
/* Does a committed chunk of len bytes at r fit before w? */
static inline int chunk_fits(const qb_ringbuffer_t *rb, uint32_t r, uint32_t w, uint32_t len)
{
	uint64_t span = ring_mod(rb->words, (uint64_t)w + rb->words - r);

	return r != w && chunk_words(len) <= span;
}

int rb_chunk_check(const qb_ringbuffer_t *rb, uint32_t r, uint32_t w, uint32_t *len_out)
{
	uint32_t len;

	if (r == w) {
		return -EAGAIN;
	}
	if (load_acquire(word_at(rb, r + 1)) != RB_MAGIC_COMMITTED) {
		return -EAGAIN;
	}
	len = *word_at(rb, r);
	if (!chunk_fits(rb, r, w, len)) {
		return -EBADMSG;
	}
	*len_out = len;
	return 0;
}

/* Mark the committed chunk (r, len) dead, then move read_pt past it. */
static inline void reclaim_at(qb_ringbuffer_t *rb, uint32_t r, uint32_t len, int overwriting)
{
	uint32_t n = rb->words;
	uint32_t *data = rb->data;

	*word_in(data, n, r) = 0;
	store_release(word_in(data, n, (uint64_t)r + 1), RB_MAGIC_RECLAIMED);
	store_release((uint32_t *)&rb->hdr->read_pt, chunk_step(n, r, len));
	if (rb->notify == RB_NOTIFY_CUSTOM) {
		rb_notify_reclaimed(rb, len);
	}
	/* A chunk dropped unread gives back its notification at the next
	 * commit (see settle_dropped), so chunks_used stays the number of
	 * chunks in the ring and the semaphore cannot overflow. */
	if (overwriting) {
		rb->dropped++;
	}
}

static inline int reclaim_oldest(qb_ringbuffer_t *rb, int overwriting)
{
	uint32_t n = rb->words;
	uint32_t *data = rb->data;
	uint32_t r = read_pt(rb);

	if (load_acquire(word_in(data, n, (uint64_t)r + 1)) != RB_MAGIC_COMMITTED) {
		return -EINVAL;
	}
	reclaim_at(rb, r, *word_in(data, n, r), overwriting);
	return 0;
}

int rb_reclaim_oldest(qb_ringbuffer_t *rb, int overwriting)
{
	return reclaim_oldest(rb, overwriting);
}

/*
 * Overwrite mode: drop the oldest chunks until len bytes fit. write_pt
 * (only we move it) is read once; read_pt is re-read on every round, as a
 * reader may move it.
 * Returns write_pt, or UINT32_MAX when the oldest chunk is not committed.
 *
 * plain: the ring's notifier is not a custom one, and the loop calls
 * nothing; an empty ring (w == r, whose room depends on the notifier's
 * count) goes to make_room_any().  A call inside the loop would cost the
 * blackbox six register saves and restores on every record.
 */
static uint32_t make_room_any(qb_ringbuffer_t *rb, uint64_t need);

static inline __attribute__((always_inline)) uint32_t make_room_overwrite(qb_ringbuffer_t *rb,
									  uint64_t need, int plain)
{
	uint32_t n = rb->words;
	uint32_t *data = rb->data;
	uint32_t *rp = (uint32_t *)&rb->hdr->read_pt;
	int custom = !plain && rb->notify == RB_NOTIFY_CUSTOM;
	uint32_t w = write_pt(rb);
	uint32_t r, r1, len;

	/* one pass per dropped chunk, everything in locals: the stores into
	 * the ring may alias rb's fields as far as the compiler knows */
	for (;;) {
		r = (uint32_t)ring_mod(n, load_acquire(rp)); /* read_pt() */
		if (w != r && (uint64_t)(w > r ? r - w + n - 1 : r - w - 1) * 4 >= need) {
			break;
		}
		if (w == r && plain) {
			return make_room_any(rb, need);
		}
		if (w == r && (uint64_t)free_between(rb, n, w, r) * 4 >= need) {
			break;
		}
		r1 = r + 1 < n ? r + 1 : 0;
		if (load_acquire(&data[r1]) != RB_MAGIC_COMMITTED) {
			w = UINT32_MAX;
			break;
		}
		len = data[r];
		data[r] = 0;
		store_release(&data[r1], RB_MAGIC_RECLAIMED);
		store_release(rp, chunk_step(n, r, len));
		rb->dropped++; /* see reclaim_at() */
		if (custom) {
			rb_notify_reclaimed(rb, len);
		}
	}
	return w;
}

static __attribute__((noinline)) uint32_t make_room_any(qb_ringbuffer_t *rb, uint64_t need)
{
	return make_room_overwrite(rb, need, 0);
}

/* alloc/commit bodies, shared with the blackbox (rb_internal.h) so hot
 * callers inside libqb avoid PLT calls */
/* Mark the chunk at w (< n) allocated; w + 1 and w + 2 wrap with one
 * subtraction. */
static inline void *chunk_claim(qb_ringbuffer_t *rb, uint32_t w)
{
	uint32_t n = rb->words;
	uint32_t *data = rb->data;

	data[w] = 0;
	store_release(&data[w + 1 < n ? w + 1 : w + 1 - n], RB_MAGIC_ALLOCATED);
	return &data[w + 2 < n ? w + 2 : w + 2 - n];
}

/* larger than the whole ring: fail before dropping anything */
static inline int chunk_too_big(const qb_ringbuffer_t *rb, size_t len)
{
	return len > UINT32_MAX || (uint64_t)len + RB_CHUNK_MARGIN > (uint64_t)rb->words * 4;
}

/* kept out of line so the plain writer stays small */
static __attribute__((noinline)) void *alloc_overwrite(qb_ringbuffer_t *rb, size_t len)
{
	uint32_t w;

	if (chunk_too_big(rb, len)) {
		errno = EINVAL;
		return NULL;
	}
	w = rb->notify == RB_NOTIFY_CUSTOM
		? make_room_any(rb, (uint64_t)len + RB_CHUNK_MARGIN)
		: make_room_overwrite(rb, (uint64_t)len + RB_CHUNK_MARGIN, 1);
	if (w == UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	return chunk_claim(rb, w);
}

static inline __attribute__((always_inline)) void *chunk_alloc(qb_ringbuffer_t *rb, size_t len)
{
	if (rb->flags & QB_RB_FLAG_OVERWRITE) {
		return alloc_overwrite(rb, len);
	}
	if (chunk_too_big(rb, len) ||
	    (uint64_t)free_words(rb) * 4 < (uint64_t)len + RB_CHUNK_MARGIN) {
		errno = EAGAIN;
		return NULL;
	}
	return chunk_claim(rb, write_pt(rb));
}

/*
 * Commit-time notification in overwrite mode after `dropped` unread chunks
 * were reclaimed: the new chunk takes over one dropped chunk's unit instead
 * of posting (no atomic read-modify-write in the steady state of a full
 * ring), the others are taken back. If a reader already consumed the unit
 * (value 0), post as usual so the new chunk is announced.
 */
static inline __attribute__((always_inline)) int32_t settle_dropped(qb_ringbuffer_t *rb, size_t len)
{
	uint32_t n = rb->dropped;
	int v;

	rb->dropped = 0;
	if (rb->notify != RB_NOTIFY_SEM) {
		return rb_notify_post(rb, len);
	}
	while (--n > 0) {
		(void)sem_trywait(&rb->hdr->posix_sem);
	}
	if (sem_getvalue(&rb->hdr->posix_sem, &v) == 0 && v > 0) {
		return 0;
	}
	return rb_notify_post(rb, len);
}

static inline __attribute__((always_inline)) int32_t chunk_commit(qb_ringbuffer_t *rb, size_t len)
{
	uint32_t w = write_pt(rb); /* below rb->words */
	uint32_t n = rb->words;
	uint32_t *data = rb->data;

	data[w] = (uint32_t)len;
	store_release((uint32_t *)&rb->hdr->write_pt, chunk_step(n, w, (uint32_t)len));
	store_release(&data[w + 1 < n ? w + 1 : 0], RB_MAGIC_COMMITTED);
	if (rb->dropped > 0) {
		return settle_dropped(rb, len);
	}
	return rb_notify_post(rb, len);
}

/* out-of-line copies for the blackbox; qb_rb_chunk_write() inlines the
 * bodies (with -fPIC gcc does not inline a global function) */
void *rb_chunk_alloc(qb_ringbuffer_t *rb, size_t len)
{
	/* the blackbox's case first, without a frame for the other */
	if (rb->flags & QB_RB_FLAG_OVERWRITE) {
		return alloc_overwrite(rb, len);
	}
	return qb_rb_chunk_alloc(rb, len);
}

int32_t rb_chunk_commit(qb_ringbuffer_t *rb, size_t len)
{
	return chunk_commit(rb, len);
}

void *qb_rb_chunk_alloc(qb_ringbuffer_t *rb, size_t len)
{
	if (rb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return chunk_alloc(rb, len);
}

int32_t qb_rb_chunk_commit(qb_ringbuffer_t *rb, size_t len)
{
	if (rb == NULL) {
		return -EINVAL;
	}
	return rb_chunk_commit(rb, len);
}

ssize_t qb_rb_chunk_write(qb_ringbuffer_t *rb, const void *data, size_t len)
{
	void *dest;
	int32_t rc;

	if (rb == NULL || (data == NULL && len > 0)) {
		return -EINVAL;
	}
	dest = chunk_alloc(rb, len);
	if (dest == NULL) {
		return -errno;
	}
	if (len > 0) {
		memcpy(dest, data, len);
	}
	rc = chunk_commit(rb, len);
	return rc < 0 ? rc : (ssize_t)len;
}

/*
 * Wait for a chunk and locate it. Returns 0 with *r and *len set;
 * -ETIMEDOUT when the wait timed out or (without a notifier) nothing is
 * committed; -ENODATA when a spurious notification was consumed and there
 * is nothing to read; -EBADMSG (notification given back) when the oldest
 * chunk is not committed or cannot be right; or a wait error.
 */
static inline __attribute__((always_inline)) int next_chunk(qb_ringbuffer_t *rb, int32_t ms_timeout,
							    uint32_t *r, uint32_t *len)
{
	uint32_t w;

	if (rb->notify != RB_NOTIFY_NONE) {
		int rc = rb_notify_wait(rb, ms_timeout);

		if (rc < 0 && rc != -EIDRM) {
			return rc;
		}
	}
	*r = read_pt(rb);
	/* the magic is checked first so write_pt is at least as new */
	if (load_acquire(word_at(rb, *r + 1)) != RB_MAGIC_COMMITTED) {
		if (rb->notify == RB_NOTIFY_NONE) {
			return -ETIMEDOUT;
		}
		(void)rb_notify_post(rb, 0);
		return -EBADMSG;
	}
	w = write_pt(rb);
	if (*r == w) {
		/* stale magic in free space: nothing to read */
		return rb->notify == RB_NOTIFY_NONE ? -ETIMEDOUT : -ENODATA;
	}
	*len = rb->data[*r];
	if (!chunk_fits(rb, *r, w, *len)) {
		if (rb->notify != RB_NOTIFY_NONE) {
			(void)rb_notify_post(rb, 0);
		}
		return -EBADMSG;
	}
	return 0;
}

ssize_t qb_rb_chunk_peek(qb_ringbuffer_t *rb, void **data_out, int32_t ms_timeout)
{
	uint32_t r;
	uint32_t len;
	int rc;

	if (rb == NULL || data_out == NULL) {
		return -EINVAL;
	}
	rc = next_chunk(rb, ms_timeout, &r, &len);
	if (rc == -ETIMEDOUT) {
		/* as libqb: no notifier means "nothing committed" is an error */
		return rb->notify == RB_NOTIFY_NONE ? -EBADMSG : 0;
	}
	if (rc == -ENODATA) {
		return 0;
	}
	if (rc < 0) {
		return rc;
	}
	*data_out = word_at(rb, r + 2);
	return len;
}

void qb_rb_chunk_reclaim(qb_ringbuffer_t *rb)
{
	if (rb != NULL) {
		(void)rb_reclaim_oldest(rb, 0);
	}
}

ssize_t qb_rb_chunk_read(qb_ringbuffer_t *rb, void *data_out, size_t len, int32_t ms_timeout)
{
	uint32_t r;
	uint32_t clen;
	int rc;

	if (rb == NULL) {
		return -EINVAL;
	}
	rc = next_chunk(rb, ms_timeout, &r, &clen);
	if (rc == -ENODATA) {
		return -ETIMEDOUT;
	}
	if (rc < 0) {
		return rc;
	}
	if (len < clen || (data_out == NULL && clen > 0)) {
		if (rb->notify != RB_NOTIFY_NONE) {
			(void)rb_notify_post(rb, 0);
		}
		return len < clen ? -ENOBUFS : -EINVAL;
	}
	if (clen > 0) {
		memcpy(data_out, word_at(rb, r + 2), clen);
	}
	reclaim_at(rb, r, clen, 0);
	return clen;
}

ssize_t qb_rb_space_free(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return -EINVAL;
	}
	return (ssize_t)free_words(rb) * 4;
}

ssize_t qb_rb_space_used(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return -EINVAL;
	}
	return (ssize_t)used_words(rb) * 4;
}

ssize_t qb_rb_chunks_used(qb_ringbuffer_t *rb)
{
	if (rb == NULL) {
		return -EINVAL;
	}
	return rb_notify_q_len(rb);
}
