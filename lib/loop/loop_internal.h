/*
 * loop_internal.h - the loop module's only door: the loop structure shared
 * by its files (core/jobs, timers, polls, signals).
 */
#ifndef QB_LOOP_INTERNAL_H_DEFINED
#define QB_LOOP_INTERNAL_H_DEFINED

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <qb/qblist.h>
#include <qb/qbloop.h>

#include "util/util_internal.h" /* qb_util_word_lock_t */

#define LOOP_LEVELS 3
/* Items dispatched from one level in one turn of the loop. */
#define LOOP_BATCH 4

enum loop_item_kind {
	LOOP_ITEM_JOB,
	LOOP_ITEM_TIMER,
	LOOP_ITEM_POLL,
	LOOP_ITEM_SIGNAL,
};

/* Anything that can sit on a level's run list (or a job on its wait list). */
struct loop_item {
	struct qb_list_head list; /* first: items and heads convert */
	enum loop_item_kind kind;
	int on_list;
};

#define loop_item_of(pos) qb_list_entry(pos, struct loop_item, list)

struct loop_level {
	struct qb_list_head run;
	struct qb_list_head wait; /* jobs added since the last turn */
};

struct loop_timer;
struct loop_poll;
struct loop_sig_handler;

struct loop_timers {
	struct loop_timer **heap; /* min-heap on (expire, seq) */
	uint32_t heap_len;
	uint32_t heap_cap;
	struct loop_timer_slot *slots; /* handle -> timer */
	uint32_t slot_len;
	uint32_t slot_cap;
	uint32_t *free_slots; /* stack of released slot numbers */
	uint32_t free_len;
	uint64_t seq;
};

struct loop_timer_slot {
	struct loop_timer *timer; /* NULL when free */
	uint32_t check;		  /* high half of the handle */
};

struct loop_polls {
	int epfd;
	unsigned fork_gen; /* loop_fork_generation at epfd creation */
	struct loop_poll **by_fd;
	size_t by_fd_len;
	uint32_t count; /* registered fds (low-fd accounting) */
	qb_loop_poll_low_fds_event_fn low_fn;
	int low_state;
};

struct loop_signals {
	struct qb_list_head handlers; /* registration order; items unused for dispatch */
	int slot;		      /* index in the process-wide pipe table, -1 none */
	int read_fd;
};

struct qb_loop {
	struct loop_level level[LOOP_LEVELS];
	/* Jobs kept for reuse (next-linked): `spare_jobs` under `lock` (any
	 * thread adds jobs), `freed_jobs` the loop thread's own, moved over
	 * once a turn by loop_jobs_move_waiting. */
	struct loop_item *spare_jobs;
	uint32_t spare_jobs_len;
	struct loop_item *freed_jobs;
	int stop_requested;
	struct loop_timers timers;
	struct loop_polls polls;
	struct loop_signals signals;
	/* Cross-thread calls (loop_wake.c): `lock` guards the job wait lists
	 * and the timers; `sleeping` is set from the start of a turn's
	 * collecting to the end of its epoll wait; `wake_fd` is an eventfd
	 * (edge-triggered in epoll) that a job or timer added from another
	 * thread writes to.  `lock` is the util word lock: an uncontended
	 * lock and unlock are one atomic instruction each and a few more,
	 * where pthread_mutex_lock() and unlock() took 68 instructions together,
	 * more than a quarter of a job's cost. */
	qb_util_word_lock_t lock;
	int sleeping; /* atomic */
	int wake_fd;
	int wake_epfd;	   /* the epoll set wake_fd is in */
	unsigned wake_gen; /* loop_fork_generation at its creation */
};

/*
 * List primitives (qblist.h, inline: they are on every dispatch's path),
 * plus the on_list flag that makes unlinking an item twice harmless.
 */
static inline void loop_list_init(struct qb_list_head *list)
{
	qb_list_init(list);
}

static inline int loop_list_empty(const struct qb_list_head *list)
{
	return qb_list_empty(list);
}

static inline void loop_list_append(struct qb_list_head *list, struct loop_item *item)
{
	qb_list_add_tail(&item->list, list);
	item->on_list = 1;
}

static inline void loop_list_unlink(struct loop_item *item)
{
	if (!item->on_list)
		return;
	qb_list_del(&item->list);
	item->list.next = item->list.prev = NULL;
	item->on_list = 0;
}

/* Moves every item of @p from to the tail of @p to, in order. */
static inline void loop_list_splice_tail(struct qb_list_head *to, struct qb_list_head *from)
{
	qb_list_splice_tail(from, to);
	qb_list_init(from);
}

/* Walk the items of head; it is a struct loop_item *. */
#define loop_list_for_each(it, head)                                                               \
	for ((it) = loop_item_of((head)->next); &(it)->list != (head);                             \
	     (it) = loop_item_of((it)->list.next))

/*
 * Poll entries and signal handlers may be deleted by their own callback:
 * the delete then only marks the entry, and the dispatcher frees it once
 * the callback has returned.
 */
struct loop_guard {
	int dispatching;
	int deleted; /* removed while its callback ran */
};

/* Free p (the entry holding g) now, or after its running callback. */
static inline void loop_guard_free(struct loop_guard *g, void *p)
{
	if (g->dispatching)
		g->deleted = 1;
	else
		free(p);
}

/* Call after the callback of the entry p (holding g) has returned:
 * 1 if the callback deleted it (p is freed now), else 0. */
static inline int loop_guard_end(struct loop_guard *g, void *p)
{
	g->dispatching = 0;
	if (!g->deleted)
		return 0;
	free(p);
	return 1;
}

/* core (loop.c) */
struct qb_loop *loop_resolve(struct qb_loop *l);
void loop_run_append(struct qb_loop *l, int prio, struct loop_item *item);
uint64_t loop_now_ns(void);
extern unsigned loop_fork_generation;
void loop_atfork_register(void);

/*
 * While the process has a single thread nothing can contend for the loop
 * lock, and it is not taken: even uncontended, its two atomic instructions
 * were a quarter of a job's time. No thread is created inside a locked
 * step, so the process cannot gain one between a lock and its unlock; the
 * unlock releases the word only if the lock set it.
 */
static inline void loop_lock(struct qb_loop *l)
{
#ifdef UTIL_HAVE_SINGLE_THREADED
	if (util_single_threaded())
		return;
#endif
	word_lock(&l->lock);
}

static inline void loop_unlock(struct qb_loop *l)
{
	if (__atomic_load_n(&l->lock.word, __ATOMIC_RELAXED) != 0)
		word_unlock(&l->lock);
}

/* cross-thread wake-up (loop_wake.c) */
void loop_wake_write(struct qb_loop *l);

/* After adding work: wake the loop if it may be waiting in epoll (it is
 * not, when the work is added from its own thread's callbacks). */
static inline void loop_wake(struct qb_loop *l)
{
	if (__atomic_load_n(&l->sleeping, __ATOMIC_SEQ_CST))
		loop_wake_write(l);
}

void loop_wake_close(struct qb_loop *l);

/* jobs (loop_job.c) */
uint32_t loop_jobs_move_waiting(struct qb_loop *l);
void loop_job_dispatch(struct qb_loop *l, struct loop_item *item);
void loop_jobs_free_all(struct qb_loop *l);

/* timers (loop_timer.c) */
uint32_t loop_timers_expire(struct qb_loop *l);
int32_t loop_timers_wait_ms(struct qb_loop *l);
void loop_timer_dispatch(struct qb_loop *l, struct loop_item *item);

/* polls (loop_poll.c) */
int loop_poll_wait(struct qb_loop *l, int32_t timeout_ms);
void loop_poll_dispatch(struct qb_loop *l, struct loop_item *item);
int32_t loop_poll_register_internal(struct qb_loop *l, int fd);
void loop_poll_forget_fd(struct qb_loop *l, int fd);

/* signals (loop_signal.c) */
void loop_signals_pipe_readable(struct qb_loop *l);
void loop_signal_dispatch(struct qb_loop *l, struct loop_item *item);
void loop_signals_atfork_prepare(void);
void loop_signals_atfork_parent(void);
void loop_signals_atfork_child(void);

/* Exported internals (libqb exports these names; C linkage, harmless). */
int32_t qb_loop_jobs_create(struct qb_loop *l);
void qb_loop_jobs_destroy(struct qb_loop *l);
int32_t qb_loop_timer_create(struct qb_loop *l);
void qb_loop_timer_destroy(struct qb_loop *l);
int32_t qb_loop_timer_msec_duration_to_expire(struct qb_loop *l);
int32_t qb_loop_poll_create(struct qb_loop *l);
void qb_loop_poll_destroy(struct qb_loop *l);
int32_t qb_epoll_init(struct qb_loop *l);
void qb_poll_fds_usage_check_(struct qb_loop *l);
int32_t qb_loop_signals_create(struct qb_loop *l);
void qb_loop_signals_destroy(struct qb_loop *l);
qb_loop_t *qb_loop_default_get(void);
void qb_loop_level_item_add(struct loop_level *level, struct loop_item *item);
void qb_loop_level_item_del(struct loop_level *level, struct loop_item *item);

#endif
