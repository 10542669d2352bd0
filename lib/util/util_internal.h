/*
 * util_internal.h - the util module's door for the rest of the library.
 *
 * Internal logging, fd hygiene, the one-word lock and the strlcpy/strlcat
 * declarations.
 * (The deprecated qb_util_set_log_function() receiver is stored and called
 * by the log core: see log_util_fn_set() in log/log_internal.h.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_UTIL_INTERNAL_H_DEFINED
#define QB_UTIL_INTERNAL_H_DEFINED

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <qb/qbdefs.h>
#include <qb/qbutil.h>
#include <qb/qbarray.h>
#include <qb/qblog.h>

/**
 * Log a message about the library itself (tagged QB_LOG_TAG_LIBQB_MSG so
 * applications can filter or route libqb's own diagnostics).
 */
#define util_log(priority, fmt, args...) qb_logt(priority, QB_LOG_TAG_LIBQB_MSG, fmt, ##args)

/**
 * Like util_log() and append ": <strerror(errno)> (<errno>)". errno is
 * read once, before anything else runs, and restored afterwards so the
 * caller can still return -errno.
 */
#define util_perror(priority, fmt, args...)                                                        \
	do {                                                                                       \
		int util_err_ = errno;                                                             \
		char util_errbuf_[QB_LOG_STRERROR_MAX_LEN];                                        \
		const char *util_errstr_ =                                                         \
			qb_strerror_r(util_err_, util_errbuf_, sizeof(util_errbuf_));              \
		qb_logt(priority, QB_LOG_TAG_LIBQB_MSG, fmt ": %s (%d)", ##args, util_errstr_,     \
			util_err_);                                                                \
		errno = util_err_;                                                                 \
	} while (0)

/**
 * Make an fd the library keeps safe to hold: never 0, 1 or 2 (which a
 * process that closed its standard streams would hand out next) and
 * close-on-exec.
 * @param fd an open descriptor owned by the caller.
 * @return fd itself (now FD_CLOEXEC), or a new descriptor >= 3 replacing
 *         it when fd was 0..2 (the low one is closed), or -errno on
 *         failure, in which case fd has been closed (every caller would
 *         otherwise have to). A negative or already closed fd gives -EBADF
 *         and closes nothing.
 */
int util_fd_hygiene(int fd);

/**
 * Bookkeeping an array carries for its owner: a lock (initialised by
 * qb_array_create*, destroyed by qb_array_free) and a counter (zero at
 * creation). The handle database serialises slot changes with the lock
 * and counts its free slots in the counter.
 */
struct util_array_aux {
	pthread_spinlock_t lock;
	size_t count;
};

/**
 * The owner bookkeeping of an array.
 * @param a an array (not NULL).
 * @return its bookkeeping, valid until qb_array_free(a).
 */
struct util_array_aux *util_array_aux(qb_array_t *a);

/**
 * qb_array_index() for the library's own modules: a direct call, where a
 * call to the exported name goes through the PLT.
 */
int32_t util_array_index(qb_array_t *a, int32_t idx, void **element_out);

/**
 * BSD string copy: copies at most size-1 bytes of src and NUL-terminates
 * when size > 0. Exported (libqb 2.0 exports it), declared here because
 * glibc < 2.38 lacks it.
 * @return strlen(src); truncation happened when the result >= size.
 */
size_t strlcpy(char *dst, const char *src, size_t size);

/**
 * BSD string append into a buffer of size bytes holding a string.
 * @return strlen(dst) + strlen(src) (dst is not bounded by size, as in
 *         libqb); truncation happened when the result >= size.
 */
size_t strlcat(char *dst, const char *src, size_t size);

/**
 * A futex lock for the library's hot paths (the blackbox writer). Unlike a
 * pthread mutex, a signal handler may inspect it: whether it is held, and
 * whether the thread it interrupted is the holder (the word records the
 * owner). Taking it uncontended is one sequentially consistent
 * compare-and-swap, which doubles as the full barrier of a Dekker-style
 * handshake: the holder's later loads cannot pass its acquisition. It sits
 * on a cache line of its own so that threads waiting for it do not steal
 * the holder's data. Process-private; after fork() the child
 * re-initialises it. Not recursive.
 */
typedef struct {
	uint32_t word; /* 0 free, else owner id | WAITERS */
} __attribute__((aligned(64))) qb_util_word_lock_t;

#define QB_UTIL_WORD_LOCK_INIT                                                                     \
	{                                                                                          \
		0                                                                                  \
	}
#define QB_UTIL_WORD_LOCK_WAITERS 1u /* a thread may sleep on the word */

/*
 * Nonzero while the process has a single thread: glibc clears
 * __libc_single_threaded at the first pthread_create() and does not set it
 * again, so until then no other thread can take or wait for a lock. Only
 * where the C library says (UTIL_HAVE_SINGLE_THREADED).
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#include <sys/single_threaded.h>
#define UTIL_HAVE_SINGLE_THREADED 1
static inline int util_single_threaded(void)
{
	return __libc_single_threaded;
}
#endif

/* This thread's owner id (even, nonzero), 0 until it first takes a lock. */
extern __thread uint32_t word_lock_id
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* One pause of a busy wait (the lock's spin, IPC's wait for a peer). */
static inline void util_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Nonzero when this process may run on more than one CPU, so that a peer
 * or a lock holder can run while we busy-wait for it (the affinity mask
 * at the first call, then cached). */
int util_spin_useful(void) __attribute__((visibility("hidden")));

/* Contended and first-use paths (lib/util/word_lock.c). */
uint32_t util_word_lock_id_assign(void) __attribute__((visibility("hidden")));
void util_word_lock_wait(qb_util_word_lock_t *l, uint32_t me) __attribute__((visibility("hidden")));
void util_word_lock_wake(qb_util_word_lock_t *l) __attribute__((visibility("hidden")));

static inline void word_lock(qb_util_word_lock_t *l)
{
	uint32_t me = word_lock_id;
	uint32_t free_word = 0;

	if (__builtin_expect(me == 0, 0)) {
		me = util_word_lock_id_assign();
	}
	if (!__atomic_compare_exchange_n(&l->word, &free_word, me, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED)) {
		util_word_lock_wait(l, me);
	}
}

static inline void word_unlock(qb_util_word_lock_t *l)
{
	if (__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) & QB_UTIL_WORD_LOCK_WAITERS) {
		util_word_lock_wake(l);
	}
}

/* Nonzero while some thread holds @p l (async-signal-safe). */
static inline int word_lock_held(const qb_util_word_lock_t *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_SEQ_CST) != 0;
}

/* Nonzero when the calling thread holds @p l (async-signal-safe). */
static inline int word_lock_mine(const qb_util_word_lock_t *l)
{
	uint32_t me = word_lock_id;

	return me != 0 &&
		(__atomic_load_n(&l->word, __ATOMIC_RELAXED) & ~QB_UTIL_WORD_LOCK_WAITERS) == me;
}

#endif /* QB_UTIL_INTERNAL_H_DEFINED */
