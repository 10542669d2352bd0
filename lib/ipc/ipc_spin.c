/*
 * ipc_spin.c - bounded, adaptive busy wait before a client blocks.
 *
 * A request/response round trip where both sides sleep costs two wake-ups
 * of an idle CPU, which dominate small messages (tens of microseconds each
 * on a virtual machine). When another CPU can run the peer, the client
 * first watches the shared memory for a short while: the answer often
 * comes before a sleeping client would even have been woken.
 *
 * The wait yields the CPU between checks, so a peer that shares our CPU
 * runs at once instead of waiting for us to block. Each wait that ends
 * without the answer halves the next one, and one that finds another task
 * ran on our CPU meanwhile quarters it; a connection whose answers keep
 * coming too late (a busy or slow server, many clients, CPUs busy with
 * other work) so stops spinning after a few waits and only tries again now
 * and then, and does not burn the CPU the server needs. One such wait
 * alone does not stop it: on a virtual machine an interrupt or a stolen
 * slice looks the same, and a pair of spinning peers that falls back to
 * sleeping pays two wake-ups on every round trip. A process that may
 * run on one CPU only never spins.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

static uint64_t spin_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Busy-wait up to budget_ns for ready(arg), reading the clock every
 * `checks` calls and yielding now and then: 1 when it became ready, 0 when
 * it did not. *busy is set when another task had our CPU meanwhile (a gap
 * between two clock reads): the CPUs are busy, and spinning there only
 * delays the peer or someone else.
 */
static int32_t spin_for(int32_t budget_ns, int32_t checks, int32_t (*ready)(void *arg), void *arg,
			int32_t *busy)
{
	uint64_t t = spin_now_ns();
	uint64_t end = t + (uint64_t)budget_ns;
	uint64_t yielded = 0; /* yield first: a peer just woken on our CPU */

	for (;;) {
		uint64_t before = t;
		int32_t hit = 0;

		for (int32_t i = 0; i < checks && !hit; i++) {
			hit = ready(arg);
			util_cpu_relax();
		}
		t = spin_now_ns();
		if (t - before > IPC_SPIN_SHARED_NS) {
			*busy = 1;
			return hit || ready(arg);
		}
		if (hit || t >= end) {
			return hit || ready(arg);
		}
		if (t - yielded >= IPC_SPIN_YIELD_NS) {
			/* a peer waiting for our CPU runs now */
			(void)sched_yield();
			yielded = t = spin_now_ns();
			if (t - before > IPC_SPIN_SHARED_NS) {
				*busy = 1;
				return ready(arg);
			}
		}
	}
}

int32_t ipc_spin_wait(struct ipc_spin *s, int32_t checks, int32_t (*ready)(void *arg), void *arg)
{
	int32_t budget = __atomic_load_n(&s->ns, __ATOMIC_RELAXED);
	int32_t hit;
	int32_t busy = 0;

	if (!util_spin_useful()) {
		return 0;
	}
	if (budget == 0) {
		/* resting: try the full wait again once in a while */
		int32_t idle = __atomic_sub_fetch(&s->idle, 1, __ATOMIC_RELAXED);

		if (idle > 0) {
			return 0;
		}
		budget = s->max;
	}
	hit = spin_for(budget, checks, ready, arg, &busy);
	if (hit && !busy) {
		budget = s->max;
	} else {
		budget = busy ? budget / 4 : budget / 2;
		if (budget < IPC_SPIN_MIN_NS) {
			budget = 0;
			__atomic_store_n(&s->idle, IPC_SPIN_REST, __ATOMIC_RELAXED);
		}
	}
	__atomic_store_n(&s->ns, budget, __ATOMIC_RELAXED);
	return hit;
}

void ipc_spin_init(struct ipc_spin *s, int32_t max_ns)
{
	s->max = max_ns;
	s->ns = max_ns;
	s->idle = 0;
}
