/*
 * word_lock.c - the contended half of the library's one-word lock (the
 * uncontended half is inline in util_internal.h).
 *
 * A three-state futex lock: 0 free, 1 held, 2 held and a thread may be
 * asleep on the word.  A contender spins a few rounds on plain loads (the
 * holder is usually mid-record on another CPU and done within tens of
 * nanoseconds), then marks the word 2 and sleeps; a release that finds 2
 * wakes one sleeper, which marks the word 2 again when it takes it, so no
 * wake-up is lost.  Sleeping early matters more than spinning long: the
 * running writer keeps the ring's cache lines instead of handing them over
 * on every record (measured: spinning hand-offs cut a 4-thread blackbox to
 * a fifth of its throughput).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/util_internal.h"

#define WORD_LOCK_SPINS 10

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

void qb_util_word_lock_wait(qb_util_word_lock_t *l)
{
	uint32_t seen;
	int spins;

	for (spins = 0; spins < WORD_LOCK_SPINS; spins++) {
		seen = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
		if (seen == 0 &&
		    __atomic_compare_exchange_n(&l->word, &seen, 1, 0,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			return;
		}
		if (seen == 2) {
			break;	/* others already sleep: queue behind them */
		}
		cpu_relax();
	}
	while (__atomic_exchange_n(&l->word, 2, __ATOMIC_SEQ_CST) != 0) {
		(void)syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE, 2,
			      NULL, NULL, 0);
	}
}

void qb_util_word_lock_wake(qb_util_word_lock_t *l)
{
	(void)syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
