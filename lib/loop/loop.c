/*
 * loop.c - loop objects, the default loop, run lists and the main turn:
 * collect work, wait in epoll, dispatch by priority.
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <qb/qbloop.h>
#include "loop/loop_internal.h"
#include "util/util_internal.h"

/* Wait used when the turn only found freshly queued jobs (libqb's value). */
#define LOOP_JOBS_WAIT_MS 50

static struct qb_loop *default_loop;
unsigned loop_fork_generation;

struct qb_loop *loop_resolve(struct qb_loop *l)
{
	return l ? l : default_loop;
}

qb_loop_t *qb_loop_default_get(void)
{
	return default_loop;
}

uint64_t loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* --- run lists (list primitives are inline in loop_internal.h) ----------- */

void qb_loop_level_item_add(struct loop_level *level, struct loop_item *item)
{
	if (level && item)
		loop_list_append(&level->run, item);
}

void qb_loop_level_item_del(struct loop_level *level, struct loop_item *item)
{
	if (level && item)
		loop_list_unlink(item);
}

void loop_run_append(struct qb_loop *l, int prio, struct loop_item *item)
{
	qb_loop_level_item_add(&l->level[prio], item);
}

/* --- fork --------------------------------------------------------------- */

static void loop_atfork_child(void)
{
	/* Loops notice this and get their own epoll instance on next use. */
	loop_fork_generation++;
	loop_signals_atfork_child();
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void loop_atfork_install(void)
{
	pthread_atfork(loop_signals_atfork_prepare, loop_signals_atfork_parent, loop_atfork_child);
}

void loop_atfork_register(void)
{
	pthread_once(&atfork_once, loop_atfork_install);
}

/* --- life cycle --------------------------------------------------------- */

qb_loop_t *qb_loop_create(void)
{
	struct qb_loop *l = NULL;
	int32_t rc;
	int p;

	/* aligned as its lock asks (a cache line), which calloc() is not */
	if (posix_memalign((void **)&l, _Alignof(struct qb_loop), sizeof(*l)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(l, 0, sizeof(*l));
	loop_atfork_register();
	for (p = 0; p < LOOP_LEVELS; p++) {
		loop_list_init(&l->level[p].run);
		loop_list_init(&l->level[p].wait);
	}
	l->polls.epfd = -1;
	l->wake_fd = -1;
	l->wake_epfd = -1;
	l->signals.slot = -1;
	l->signals.read_fd = -1;
	rc = qb_loop_jobs_create(l);
	if (rc == 0)
		rc = qb_loop_timer_create(l);
	if (rc == 0)
		rc = qb_loop_poll_create(l);
	if (rc == 0)
		rc = qb_loop_signals_create(l);
	if (rc != 0) {
		qb_loop_signals_destroy(l);
		qb_loop_poll_destroy(l);
		qb_loop_timer_destroy(l);
		qb_loop_jobs_destroy(l);
		free(l);
		errno = -rc;
		return NULL;
	}
	if (default_loop == NULL)
		default_loop = l;
	return l;
}

void qb_loop_destroy(struct qb_loop *l)
{
	l = loop_resolve(l);
	if (l == NULL)
		return;
	/* Signals first: their pending deliveries sit on the run lists. */
	qb_loop_signals_destroy(l);
	qb_loop_timer_destroy(l);
	qb_loop_poll_destroy(l);
	qb_loop_jobs_destroy(l);
	loop_wake_close(l);
	if (default_loop == l)
		default_loop = NULL;
	free(l);
}

void qb_loop_stop(qb_loop_t *l)
{
	l = loop_resolve(l);
	if (l) {
		__atomic_store_n(&l->stop_requested, 1, __ATOMIC_SEQ_CST);
		loop_wake(l);
	}
}

/* --- one turn ------------------------------------------------------------ */

static int loop_anything_queued(struct qb_loop *l)
{
	int p;

	for (p = 0; p < LOOP_LEVELS; p++)
		if (!loop_list_empty(&l->level[p].run))
			return 1;
	return 0;
}

static void loop_item_dispatch(struct qb_loop *l, struct loop_item *item)
{
	switch (item->kind) {
	case LOOP_ITEM_JOB:
		loop_job_dispatch(l, item);
		break;
	case LOOP_ITEM_TIMER:
		loop_timer_dispatch(l, item);
		break;
	case LOOP_ITEM_POLL:
		loop_poll_dispatch(l, item);
		break;
	case LOOP_ITEM_SIGNAL:
		loop_signal_dispatch(l, item);
		break;
	}
}

/*
 * Serve HIGH down to lowest, LOOP_BATCH items each. Returns non-zero when
 * a callback asked the loop to stop.
 */
static int loop_dispatch_levels(struct qb_loop *l, int lowest)
{
	int p, n;

	for (p = QB_LOOP_HIGH; p >= lowest; p--) {
		struct qb_list_head *run = &l->level[p].run;

		for (n = 0; n < LOOP_BATCH && !loop_list_empty(run); n++) {
			struct loop_item *item = loop_item_of(run->next);

			loop_list_unlink(item);
			loop_item_dispatch(l, item);
			if (__atomic_load_n(&l->stop_requested, __ATOMIC_RELAXED))
				return 1;
		}
	}
	return 0;
}

static int32_t loop_wait_ms(struct qb_loop *l, int left_over, uint32_t expired, uint32_t new_jobs)
{
	if (left_over || expired)
		return 0;
	if (new_jobs)
		return LOOP_JOBS_WAIT_MS;
	return loop_timers_wait_ms(l);
}

void qb_loop_run(qb_loop_t *l)
{
	int lowest = QB_LOOP_HIGH;
	int left_over;

	l = loop_resolve(l);
	if (l == NULL)
		return;
	__atomic_store_n(&l->stop_requested, 0, __ATOMIC_RELAXED);
	/*
	 * libqb only counts what the previous turn of this run left behind;
	 * we also count what a stopped run left queued, so such items do not
	 * wait for an unrelated event.
	 */
	left_over = loop_anything_queued(l);
	while (!__atomic_load_n(&l->stop_requested, __ATOMIC_SEQ_CST)) {
		uint32_t new_jobs, expired;

		/* from here on another thread's add wakes the epoll wait */
		__atomic_store_n(&l->sleeping, 1, __ATOMIC_SEQ_CST);
		new_jobs = loop_jobs_move_waiting(l);
		expired = loop_timers_expire(l);
		if (__atomic_load_n(&l->stop_requested, __ATOMIC_SEQ_CST))
			expired = 1; /* stopped from another thread: no wait */
		loop_poll_wait(l, loop_wait_ms(l, left_over, expired, new_jobs));
		__atomic_store_n(&l->sleeping, 0, __ATOMIC_SEQ_CST);
		if (loop_dispatch_levels(l, lowest))
			break;
		left_over = loop_anything_queued(l);
		lowest = (lowest == QB_LOOP_LOW) ? QB_LOOP_HIGH : lowest - 1;
	}
}
