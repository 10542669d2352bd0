/*
 * blackbox_write.c - the blackbox writer: one record per log call, under writer_lock
 * (threads, the record cache; see blackbox.c and blackbox_internal.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>
#include <qb/qbrb.h>

#include "log/log_internal.h"
#include "log/blackbox_internal.h"
#include "log/bb_record.h"
#include "util/util_internal.h"
#include "rb/rb_internal.h"

#define BB_TOO_LONG_LIMIT 512

/* ------------------------------------------------------------- writing */

/* Entered holding writer_lock while a dump copies the ring: gives the lock
 * to the dump and takes it back once the dump is over. */
__attribute__((noinline)) void bb_lock_slow(void)
{
	for (;;) {
		/* let the dump, which waits for the lock word, go first */
		word_unlock(&bb_global.writer_lock);
		while (atomic_load(&bb_global.dumping)) {
			sched_yield();
		}
		word_lock(&bb_global.writer_lock);
		if (!atomic_load(&bb_global.dumping)) {
			return;
		}
	}
}

static uint32_t *bb_seq(void)
{
	return &bb_global.owner->seq;
}

/*
 * writer_lock for one record.  While the process has a single thread
 * (util_single_threaded), no one else can take the lock or wait for it,
 * and a dump can only run in a signal handler on this very thread.  The
 * lock word is then set and cleared with plain stores instead of atomic
 * read-modify-writes (in a VM those two cost more than the rest of the
 * record); a dump sees it as it sees a lock taken the usual way
 * (word_lock_mine: copy at once).
 * Returns 1 when it took the lock that way.
 */
static inline int bb_record_lock(void)
{
#ifdef UTIL_HAVE_SINGLE_THREADED
	uint32_t me = word_lock_id;

	if (util_single_threaded() && me != 0 &&
	    __atomic_load_n(&bb_global.writer_lock.word, __ATOMIC_RELAXED) == 0 &&
	    atomic_load_explicit(&bb_global.dumping, memory_order_relaxed) == 0) {
		__atomic_store_n(&bb_global.writer_lock.word, me, __ATOMIC_RELAXED);
		/* a signal handler on this thread sees the word before the ring changes */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return 1;
	}
#endif
	bb_lock();
	return 0;
}

static inline void bb_record_unlock(int alone)
{
	if (alone) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&bb_global.writer_lock.word, 0, __ATOMIC_RELAXED);
		return;
	}
	bb_unlock();
}

/*
 * seq is odd while a record is written, for readers in other processes (a
 * forked child taking a copy, qb-blackbox on a live file).  Only writers,
 * serialised by writer_lock, change it; the release fence keeps the record's
 * stores from becoming visible before the odd value.
 */
static void bb_seq_begin(void)
{
	uint32_t *seq = bb_seq();

	__atomic_store_n(seq, (__atomic_load_n(seq, __ATOMIC_RELAXED) | 1u), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void bb_seq_end(void)
{
	uint32_t *seq = bb_seq();

	__atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static ssize_t bb_serialize(char *out, size_t max_len, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(out, max_len, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Per-callsite cache of what every record of a callsite repeats: the
 * function name length and the compiled format.  Callsites live until
 * qb_log_fini(), which closes the blackbox first; the cache is emptied on
 * every open and close, and an entry is refilled if its callsite's strings
 * moved.  Only writer_lock holders touch it.
 */
#define BB_CACHE_BITS 10
#define BB_CACHE_SIZE (1U << BB_CACHE_BITS)
#define BB_CACHE_PROBES 8

struct bb_cache_entry {
	const struct qb_log_callsite *cs;
	const char *format;
	const char *function;
	uint32_t fn_size;
	struct bb_prog *prog; /* NULL: use the generic writer */
	/*
	 * With a prog: the record's first bytes as they are for every call of
	 * this callsite (lineno, priority, function, the stored format; tags,
	 * time and length zero, stored per call), so a record starts with one
	 * copy.  stored_size is the stored format's size, NUL included.
	 */
	char *tmpl;
	uint32_t tmpl_len;
	uint32_t stored_size;
};

void bb_cache_flush(void)
{
	uint32_t i;

	if (bb_global.cache == NULL) {
		return;
	}
	for (i = 0; i < BB_CACHE_SIZE; i++) {
		bb_prog_free(bb_global.cache[i].prog);
		free(bb_global.cache[i].tmpl);
	}
	free(bb_global.cache);
	bb_global.cache = NULL;
}

static void bb_template_build(struct bb_cache_entry *e, const struct qb_log_callsite *cs)
{
	const char *fn = cs->function != NULL ? cs->function : "";
	const char *stored;
	size_t stored_size;
	char *t;

	free(e->tmpl);
	e->tmpl = NULL;
	if (e->prog == NULL) {
		return;
	}
	stored_size = bb_prog_stored(e->prog, &stored);
	t = calloc(1, BB_REC_FIXED + e->fn_size + stored_size);
	if (t == NULL) {
		return; /* the two-step writer still works */
	}
	bb_rec_put_site(t, cs->lineno, cs->priority, fn, e->fn_size);
	memcpy(t + bb_rec_msg_off(e->fn_size, BB_REC_TS_SIZE), stored, stored_size);
	e->tmpl = t;
	e->tmpl_len = BB_REC_FIXED + e->fn_size + (uint32_t)stored_size;
	e->stored_size = (uint32_t)stored_size;
}

static void bb_cache_fill(struct bb_cache_entry *e, const struct qb_log_callsite *cs)
{
	bb_prog_free(e->prog);
	e->cs = cs;
	e->format = cs->format;
	e->function = cs->function;
	e->fn_size = (uint32_t)strlen(cs->function != NULL ? cs->function : "") + 1;
	e->prog = bb_prog_compile(cs->format != NULL ? cs->format : "");
	bb_template_build(e, cs);
}

static inline uint32_t bb_cache_slot(const struct qb_log_callsite *cs)
{
	return (uint32_t)(((uint64_t)(uintptr_t)cs * 0x9E3779B97F4A7C15ULL) >>
			  (64 - BB_CACHE_BITS));
}

/* The probes after the first, filling entries: out of line. */
static __attribute__((noinline)) const struct bb_cache_entry *bb_cache_find(
	const struct qb_log_callsite *cs)
{
	uint32_t h = bb_cache_slot(cs), i;

	if (bb_global.cache == NULL) {
		bb_global.cache = calloc(BB_CACHE_SIZE, sizeof(*bb_global.cache));
		if (bb_global.cache == NULL) {
			return NULL;
		}
	}
	for (i = 0; i < BB_CACHE_PROBES; i++) {
		struct bb_cache_entry *e = &bb_global.cache[(h + i) & (BB_CACHE_SIZE - 1)];

		if (e->cs == cs) {
			if (e->format != cs->format || e->function != cs->function) {
				bb_cache_fill(e, cs);
			}
			return e;
		}
		if (e->cs == NULL) {
			bb_cache_fill(e, cs);
			return e;
		}
	}
	return NULL; /* crowded: the uncached path still works */
}

/* A callsite nearly always sits at its first probe, unchanged. */
static inline const struct bb_cache_entry *bb_cache_get(const struct qb_log_callsite *cs)
{
	const struct bb_cache_entry *e = bb_global.cache;

	if (__builtin_expect(e != NULL, 1)) {
		e += bb_cache_slot(cs);
		if (__builtin_expect(e->cs == cs && e->format == cs->format &&
					     e->function == cs->function,
				     1)) {
			return e;
		}
	}
	return bb_cache_find(cs);
}

/* Where a record's message goes (computed at each use: a pointer kept
 * across the branches below costs a spill on the hot path). */
#define BB_REC_MSG(chunk, fn_size) ((chunk) + bb_rec_msg_off((fn_size), BB_REC_TS_SIZE))

/* The message of a record could not be stored: say so instead. */
static ssize_t bb_too_long(char *msg)
{
	return bb_serialize(msg, BB_TOO_LONG_LIMIT,
			    "Log message too long to be stored in the blackbox.  "
			    "Maximum is QB_LOG_MAX_LEN");
}

/* Room asked of the ring: the message's size is known only once stored. */
static inline size_t bb_room(uint32_t fn_size, size_t max_line)
{
	return BB_REC_FIXED + fn_size + (max_line < 78 ? 78 : max_line);
}

/* A callsite with a template whose stored format fits (nearly every
 * record): one copy, then the values. */
static inline __attribute__((always_inline)) void bb_write_templated(
	const struct bb_cache_entry *e, const struct qb_log_callsite *cs, const struct timespec *ts,
	size_t max_line, va_list ap)
{
	uint32_t fn_size = e->fn_size;
	char *chunk = rb_chunk_alloc(bb_global.rb, bb_room(fn_size, max_line));
	ssize_t n;

	if (chunk == NULL) {
		return; /* larger than the whole ring: dropped */
	}
	memcpy(chunk, e->tmpl, e->tmpl_len);
	bb_rec_put_u32(chunk, BB_REC_TAGS, cs->tags);
	bb_rec_put_time(chunk, fn_size, ts->tv_sec, ts->tv_nsec);
	n = bb_prog_run_values(e->prog, BB_REC_MSG(chunk, fn_size), max_line, ap);
	if (__builtin_expect(n < 0 || (size_t)n >= max_line, 0)) {
		n = bb_too_long(BB_REC_MSG(chunk, fn_size));
	}
	bb_rec_put_u32(chunk, bb_rec_msg_len_off(fn_size, BB_REC_TS_SIZE), (uint32_t)n);
	(void)rb_chunk_commit(bb_global.rb, BB_REC_FIXED + fn_size + (uint32_t)n);
}

/* Every other record: site fields one by one, a compiled format or the
 * generic serialiser. */
static __attribute__((noinline)) void bb_write_generic(const struct bb_cache_entry *e,
						       struct qb_log_callsite *cs,
						       const struct timespec *ts, size_t max_line,
						       va_list ap)
{
	const char *fn = (cs->function != NULL) ? cs->function : "";
	uint32_t fn_size = e ? e->fn_size : (uint32_t)strlen(fn) + 1;
	char *chunk = rb_chunk_alloc(bb_global.rb, bb_room(fn_size, max_line));
	ssize_t n;

	if (chunk == NULL) {
		return; /* larger than the whole ring: dropped */
	}
	bb_rec_put_site(chunk, cs->lineno, cs->priority, fn, fn_size);
	bb_rec_put_u32(chunk, BB_REC_TAGS, cs->tags);
	bb_rec_put_time(chunk, fn_size, ts->tv_sec, ts->tv_nsec);
	if (e != NULL && e->prog != NULL) {
		n = bb_prog_run(e->prog, BB_REC_MSG(chunk, fn_size), max_line, ap);
	} else {
		n = qb_vsnprintf_serialize(BB_REC_MSG(chunk, fn_size), max_line,
					   cs->format != NULL ? cs->format : "", ap);
	}
	if (n < 0 || (size_t)n >= max_line) {
		n = bb_too_long(BB_REC_MSG(chunk, fn_size));
	}
	bb_rec_put_u32(chunk, bb_rec_msg_len_off(fn_size, BB_REC_TS_SIZE), (uint32_t)n);
	(void)rb_chunk_commit(bb_global.rb, BB_REC_FIXED + fn_size + (uint32_t)n);
}

static inline __attribute__((always_inline)) void bb_write_record(struct qb_log_callsite *cs,
								  const struct timespec *ts,
								  size_t max_line, va_list ap)
{
	const struct bb_cache_entry *e = bb_cache_get(cs);

	if (__builtin_expect(e != NULL && e->tmpl != NULL && e->stored_size < max_line, 1)) {
		/* the template ends with the stored format, which fits */
		bb_write_templated(e, cs, ts, max_line, ap);
	} else {
		bb_write_generic(e, cs, ts, max_line, ap);
	}
}

/* once per forked child: kept out of line, off the record path */
/* After a take-over, outside writer_lock: the scan of /dev/shm may take a while. */
static __attribute__((noinline)) void bb_prune_for(const struct qb_log_target *t)
{
	char ident[sizeof(((struct bb_owner *)0)->ident)];
	size_t n = strnlen(t->name, sizeof(ident) - 1);

	memcpy(ident, t->name, n);
	ident[n] = '\0';
	(void)blackbox_prune_dead(ident);
}

static inline __attribute__((always_inline)) void bb_record_at(struct qb_log_target *t,
							       struct qb_log_callsite *cs,
							       const struct timespec *ts,
							       va_list ap)
{
	size_t max_line;
	int took = 0, alone;

	/* read without the slot lock (see vlogger_self_locked) */
	max_line = __atomic_load_n(&t->max_line_length, __ATOMIC_RELAXED);
	if (max_line == 0) {
		max_line = QB_LOG_MAX_LEN;
	}
	alone = bb_record_lock();
	if (bb_global.borrowed) {
		took = bb_take_over(t);
	}
	if (bb_global.rb != NULL) {
		bb_seq_begin();
		bb_write_record(cs, ts, max_line, ap);
		bb_seq_end();
	}
	bb_record_unlock(alone);
	if (__builtin_expect(took, 0)) {
		bb_prune_for(t);
	}
}

void bb_vlogger(int32_t pos, struct qb_log_callsite *cs, struct timespec *ts, va_list ap)
{
	struct qb_log_target *t = bb_global.target;
	struct timespec now;

	(void)pos;
	if (cs == NULL || t == NULL) {
		return;
	}
	if (ts == NULL) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		ts = &now;
	}
	bb_record_at(t, cs, ts, ap);
}

void bb_record(struct qb_log_callsite *cs, va_list ap)
{
	struct qb_log_target *t = bb_global.target;
	struct timespec now;

	if (t == NULL) {
		return;
	}
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	bb_record_at(t, cs, &now, ap);
}
