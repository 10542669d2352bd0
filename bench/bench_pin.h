/*
 * bench_pin.h - single-threaded rows run on one CPU, the same one for both
 * libraries of a run pair.
 *
 * On a virtual machine the CPUs need not run at one speed: on the 2-CPU
 * machine this was written on, the same blackbox loop at times took 1.8
 * times longer on CPU 0 than on CPU 1, for either library, so a pair whose
 * two sides landed on different CPUs gave a ratio off by that much.
 * bench/run-bench.sh sets QB_BENCH_CPU for run i to i modulo the CPUs it
 * may use, for both sides; without it nothing is pinned.  Rows with
 * several threads or processes are measured unpinned.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_BENCH_PIN_H
#define QB_BENCH_PIN_H

#include <sched.h>
#include <stdlib.h>

static cpu_set_t bench_pin_saved;
static int bench_pin_on;

/* Runs the calling thread on CPU QB_BENCH_CPU (modulo the ones it may use)
 * until bench_unpin(). */
static inline void bench_pin(void)
{
	const char *s = getenv("QB_BENCH_CPU");
	cpu_set_t set;
	int want, cpu, seen = 0;

	if (s == NULL || bench_pin_on ||
	    sched_getaffinity(0, sizeof(bench_pin_saved), &bench_pin_saved) != 0)
		return;
	want = atoi(s) % CPU_COUNT(&bench_pin_saved);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &bench_pin_saved) || seen++ != want)
			continue;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		bench_pin_on = sched_setaffinity(0, sizeof(set), &set) == 0;
		return;
	}
}

static inline void bench_unpin(void)
{
	if (bench_pin_on && sched_setaffinity(0, sizeof(bench_pin_saved), &bench_pin_saved) == 0)
		bench_pin_on = 0;
}

#endif
