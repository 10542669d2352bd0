/*
 * word_lock.c - the contended half of the library's one-word lock (the
 * uncontended half is inline in util_internal.h).
 *
 * The word holds the owner's id (even, nonzero) and, in bit 0, "a thread
 * may be asleep on the word"; 0 is free.  Keeping the owner in the word
 * itself lets a signal handler tell, exactly, whether the thread it
 * interrupted holds the lock: there is no instant where the lock is taken
 * but the owner not yet recorded.
 *
 * A contender spins on plain loads, waiting twice as long between two
 * looks at each round, then sets the waiters bit and sleeps; a release
 * that finds the bit wakes one sleeper, which takes the lock with the bit
 * set again since others may still sleep, so no wake-up is lost.  The
 * growing wait is what keeps the throughput: a contender that looks often
 * grabs the lock in the few nanoseconds between a writer's release and its
 * next record, and every such hand-off moves the ring's cache lines to
 * the other CPU; one that sleeps early pays a futex wake on every release
 * instead (measured with 4 threads logging into the blackbox on 2 CPUs:
 * 10 short spins then sleep gave 0.45-0.63x the distro's calls/s and
 * 2054 futex calls; this gives 1.03-1.30x and 88).  A process that may
 * run on one CPU only does not spin at all (util_spin_useful, here as the
 * lock is its first user; IPC's busy wait asks it too).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/util_internal.h"

/* Rounds of the spin before sleeping, and the longest pause between two
 * looks at the word: 1, 2, 4 ... 64 pauses, then 64 (about 1000 pauses in
 * all, 30 us where one pause is 30 ns). */
#define WORD_LOCK_SPINS 20
#define WORD_LOCK_BACKOFF_MAX 6

static inline int spin_pauses(int round)
{
	return 1 << (round < WORD_LOCK_BACKOFF_MAX ? round : WORD_LOCK_BACKOFF_MAX);
}

__thread uint32_t word_lock_id;

static uint32_t word_lock_next_id;

static int32_t usable_cpus; /* 0: not asked yet */

int util_spin_useful(void)
{
	int32_t n = __atomic_load_n(&usable_cpus, __ATOMIC_RELAXED);

	if (n == 0) {
		cpu_set_t set;

		/* the CPUs we may run on (taskset, a unit's CPUAffinity=); a
		 * plain system call, as a dump in a signal handler may get here.
		 * Not knowing, spin as on any machine with more than one CPU. */
		n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 2;
		n = n > 0 ? n : 1;
		__atomic_store_n(&usable_cpus, n, __ATOMIC_RELAXED);
	}
	return n > 1;
}

uint32_t util_word_lock_id_assign(void)
{
	uint32_t id;

	/* even and nonzero; unique until 2^31 threads have been created */
	do {
		id = __atomic_add_fetch(&word_lock_next_id, 2, __ATOMIC_RELAXED);
	} while (id == 0);
	word_lock_id = id;
	return id;
}

static inline int word_cas(uint32_t *word, uint32_t from, uint32_t to)
{
	return __atomic_compare_exchange_n(word, &from, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

void util_word_lock_wait(qb_util_word_lock_t *l, uint32_t me)
{
	uint32_t seen;
	int spins;

	/* on one CPU the holder cannot run while we spin */
	for (spins = util_spin_useful() ? 0 : WORD_LOCK_SPINS; spins < WORD_LOCK_SPINS; spins++) {
		seen = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
		if (seen == 0 && word_cas(&l->word, 0, me)) {
			return;
		}
		if (seen & QB_UTIL_WORD_LOCK_WAITERS) {
			break; /* others already sleep: queue behind them */
		}
		for (int k = spin_pauses(spins); k > 0; k--) {
			util_cpu_relax();
		}
	}
	for (;;) {
		seen = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
		if (seen == 0) {
			if (word_cas(&l->word, 0, me | QB_UTIL_WORD_LOCK_WAITERS)) {
				return;
			}
			continue;
		}
		if (!(seen & QB_UTIL_WORD_LOCK_WAITERS) &&
		    !word_cas(&l->word, seen, seen | QB_UTIL_WORD_LOCK_WAITERS)) {
			continue;
		}
		(void)syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE,
			      seen | QB_UTIL_WORD_LOCK_WAITERS, NULL, NULL, 0);
	}
}

void util_word_lock_wake(qb_util_word_lock_t *l)
{
	(void)syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
