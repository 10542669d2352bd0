/*
 * blackbox_fork.c - the blackbox across fork: a child moves to a ring of its own,
 * starting with a copy of its parent's records up to the fork (blackbox.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbrb.h>

#include "log/log_internal.h"
#include "log/blackbox_internal.h"
#include "util/util_internal.h"
#include "rb/rb_internal.h"

/* ---------------------------------------------------------------- fork */

/*
 * Where our copy of the parent's ring should end: at the parent's write_pt
 * of fork time if the chain of committed chunks from read_pt still reaches
 * it (records the parent wrote after the fork are not ours), else at
 * write_pt.  Returns read_pt (an empty ring) if the chain is broken.
 */
static uint32_t bb_cut_at_fork(const struct rb_view *v)
{
	uint32_t p = v->read_pt, len, n;

	for (n = 0; n <= v->words / 2; n++) {
		if (p == bb_global.fork_write_pt || p == v->write_pt) {
			return p;
		}
		if (rb_view_chunk(v, p, &len) != 0) {
			return v->read_pt;
		}
		p = rb_view_next(v, p, len);
	}
	return v->read_pt;
}

/*
 * Copies the records of the ring we share with our parent into our own new
 * ring.  The parent may keep writing meanwhile; its seq counter (odd while a
 * record is written) tells us whether a copy is consistent.  After a few
 * torn attempts the new ring simply starts empty.
 */
static void bb_copy_ring(const struct bb_ring *from, const struct bb_ring *to)
{
	uint32_t *seq = &from->owner->seq;
	struct rb_view v, copy;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

		if (s1 & 1) {
			sched_yield();
			continue;
		}
		rb_view_of(from->rb, &v);
		if (rb_view_copy(&v, to->rb, &copy) != 0) {
			return; /* not the same size */
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seq, __ATOMIC_ACQUIRE) == s1) {
			copy.write_pt = bb_cut_at_fork(&copy);
			rb_view_install(to->rb, &copy);
			break;
		}
	}
	if (tries == 64) {
		size_t len;
		char *data = rb_data_get(to->rb, &len);

		memset(data, 0, len);
	}
}

/*
 * In a forked child, with writer_lock held: our own ring at last.  Returns
 * 1 when it made one.
 */
int bb_take_over(struct qb_log_target *t)
{
	struct bb_ring from, to;
	int32_t rc;

	from.rb = bb_global.rb;
	from.owner = bb_global.owner;
	rc = bb_ring_create(t->name, getpid(), bb_global.size, &to);
	if (rc == 0) {
		bb_copy_ring(&from, &to);
	}
	/* never write into (or remove) the parent's ring */
	bb_ring_drop(0);
	bb_global.borrowed = 0;
	if (rc == 0) {
		bb_ring_install(&to, bb_global.size ? bb_global.size : t->size);
		bb_global.remove_at_exit = 1;
	}
	return rc == 0;
}

/* Where a child's copy of our ring will end (writer_lock held). */
static void bb_fork_write_pt_take(void)
{
	struct rb_view v;

	rb_view_of(bb_global.rb, &v);
	bb_global.fork_write_pt = v.write_pt;
}

void bb_reflect_pid(struct qb_log_target *t, pid_t new_pid)
{
	if (t == NULL) {
		return;
	}
	bb_lock();
	if (bb_global.rb != NULL && !bb_global.borrowed &&
	    bb_owner_of(bb_global.rb)->pid != new_pid) {
		if (!bb_global.fork_write_pt_set) { /* raw clone(): best effort */
			bb_fork_write_pt_take();
		}
		bb_global.borrowed = 1;
		bb_global.remove_at_exit = 0;
	}
	bb_global.fork_write_pt_set = 0;
	bb_unlock();
}

void bb_atfork_prepare(void)
{
	bb_lock();
	/* no writer can move it now: the child's copy will end exactly here */
	if (bb_global.rb != NULL) {
		bb_fork_write_pt_take();
		bb_global.fork_write_pt_set = 1;
	}
}

void bb_atfork_parent(void)
{
	bb_global.fork_write_pt_set = 0;
	bb_unlock();
}

void bb_atfork_child(void)
{
	/* only the forking thread exists now: nobody else holds the lock */
	bb_global.writer_lock = (qb_util_word_lock_t)QB_UTIL_WORD_LOCK_INIT;
	atomic_store(&bb_global.dumping, 0);
}

/*
 * A forked child's blackbox exists only because the child logged.  When the
 * child ends normally (exit(), return from main) nothing in it is evidence
 * of anything, so it goes, as the parent's goes at qb_log_fini().  _exit()
 * and fatal signals run no destructors: that blackbox stays (dead ones are
 * bounded, blackbox_prune.c).  The ring of a process that enabled the
 * blackbox itself (not as a forked child) is left as libqb leaves it: only
 * closing it removes it.
 * A destructor rather than atexit(), so it also runs when the library is
 * unloaded and never points into unmapped code.
 */
__attribute__((destructor)) static void bb_at_exit(void)
{
	if (!bb_global.remove_at_exit || word_lock_mine(&bb_global.writer_lock)) {
		return; /* exit() from inside a record write: leave it */
	}
	bb_lock();
	if (bb_global.remove_at_exit && !bb_global.borrowed) {
		bb_ring_drop(1);
	}
	bb_global.remove_at_exit = 0;
	bb_unlock();
}
