/*
 * log_fork.c - what a fork does to the logging core: the atfork handlers
 * (take every lock before fork, release in the parent, make them fresh in
 * the child) and qb_log_reflect_pid (the child becomes a new process of
 * its own: new pid in formats and in the blackbox).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "log/log_core.h"

/* Slots whose lock atfork_prepare() took (the others are read-locked by
 * the forking thread itself, e.g. a logger that runs a program). */
static uint32_t fork_taken;

/*
 * A fork from inside a logger (this thread read-locks a slot) must not
 * wait for the configuration lock: its holder may be waiting for that
 * very slot. Then every lock is only tried; the child makes all of them
 * fresh anyway, the parent releases what was taken.
 */
static int fork_cfg_taken;

static int fork_slot_take(struct qb_log_target *t, int try_only)
{
	if (!try_only) {
		log_slot_wrlock(t);
		return 1;
	}
	return log_slot_trywrlock(t);
}

static void atfork_prepare(void)
{
	int32_t i;
	uint32_t mine = log_locks_mine();

	if (mine == 0) {
		log_cfg_lock();
		fork_cfg_taken = 1;
	} else {
		fork_cfg_taken = log_cfg_trylock();
	}
	fork_taken = 0;
	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		if (mine & (1U << i))
			continue; /* write-locking it would self-deadlock */
		if (fork_slot_take(qb_log_target_get(i), mine != 0))
			fork_taken |= 1U << i;
	}
	log_cs_lock();
	log_thread_atfork_prepare();
	bb_atfork_prepare();
}

static void atfork_parent(void)
{
	int32_t i;

	bb_atfork_parent();
	log_thread_atfork_parent();
	log_cs_unlock();
	for (i = QB_LOG_TARGET_MAX - 1; i >= 0; i--)
		if (fork_taken & (1U << i))
			log_slot_unlock(qb_log_target_get(i));
	if (fork_cfg_taken)
		log_cfg_unlock();
}

static void atfork_child(void)
{
	bb_atfork_child();
	log_thread_atfork_child();
	log_locks_reset();
	qb_log_reflect_pid();
}

void log_atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int32_t qb_log_reflect_pid(void)
{
	pid_t pid = getpid();
	int32_t i;
	struct qb_log_target *bb = qb_log_target_get(QB_LOG_BLACKBOX);

	if (!log_is_initialised())
		return -EINVAL;
	if (!log_pid_update(pid))
		return 0;
	/* A new process: whatever other threads held is gone with them. */
	if (log_locks_ready()) {
		log_thread_atfork_child();
		log_locks_reset();
	}
	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = qb_log_target_get(i);

		if (t->state != QB_LOG_STATE_UNUSED)
			log_slot_format_expand(t);
	}
	if (bb->instance != NULL)
		bb_reflect_pid(bb, pid);
	return 1;
}
