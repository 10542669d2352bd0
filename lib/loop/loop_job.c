/* loop_job.c - one-shot jobs: queued on a level's wait list, run once. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <qb/qbloop.h>
#include "loop/loop_internal.h"

struct loop_job {
	struct loop_item item; /* first: an item is a job */
	void *data;
	qb_loop_job_dispatch_fn fn;
};

/*
 * A loop keeps up to SPARE_JOBS_MAX freed jobs for reuse: a busy loop queues
 * and runs jobs at a steady rate, and malloc+free was a third of each job's
 * cost. The loop thread frees jobs onto its own list without the lock; the
 * turn's locked step moves them to the spare list that adds take from.
 */
#define SPARE_JOBS_MAX 256

/*
 * The spare and freed jobs are stacks linked through list.next (a job
 * there is on no list): push and pop.
 */
static inline void stack_push(struct loop_item **top, struct loop_item *it)
{
	it->list.next = *top ? &(*top)->list : NULL;
	*top = it;
}

static inline struct loop_item *stack_pop(struct loop_item **top)
{
	struct loop_item *it = *top;

	if (it != NULL)
		*top = it->list.next ? loop_item_of(it->list.next) : NULL;
	return it;
}

/* With the loop lock held. */
static struct loop_job *job_get(struct qb_loop *l)
{
	struct loop_item *it = stack_pop(&l->spare_jobs);

	if (it == NULL)
		return malloc(sizeof(struct loop_job));
	l->spare_jobs_len--;
	return (struct loop_job *)it;
}

/* On the loop thread. */
static void job_put(struct qb_loop *l, struct loop_job *job)
{
	stack_push(&l->freed_jobs, &job->item);
}

/* With the loop lock held, on the loop thread. */
static void freed_jobs_recycle(struct qb_loop *l)
{
	struct loop_item *it;

	while ((it = stack_pop(&l->freed_jobs)) != NULL) {
		if (l->spare_jobs_len >= SPARE_JOBS_MAX) {
			free(it);
			continue;
		}
		stack_push(&l->spare_jobs, it);
		l->spare_jobs_len++;
	}
}

static void item_list_free(struct loop_item **head)
{
	struct loop_item *it;

	while ((it = stack_pop(head)) != NULL)
		free(it);
}

static void spare_jobs_free(struct qb_loop *l)
{
	item_list_free(&l->spare_jobs);
	item_list_free(&l->freed_jobs);
	l->spare_jobs_len = 0;
}

static int loop_prio_ok(int p)
{
	return p >= QB_LOOP_LOW && p <= QB_LOOP_HIGH;
}

int32_t qb_loop_jobs_create(struct qb_loop *l)
{
	return l ? 0 : -EINVAL;
}

static void loop_jobs_free_list(struct qb_list_head *list)
{
	struct loop_item *it = loop_item_of(list->next);

	while (&it->list != list) {
		struct loop_item *next = loop_item_of(it->list.next);

		if (it->kind == LOOP_ITEM_JOB) {
			loop_list_unlink(it);
			free(it);
		}
		it = next;
	}
}

/* Drops every queued job without running it. */
void qb_loop_jobs_destroy(struct qb_loop *l)
{
	int p;

	if (l == NULL)
		return;
	for (p = 0; p < LOOP_LEVELS; p++) {
		loop_jobs_free_list(&l->level[p].wait);
		loop_jobs_free_list(&l->level[p].run);
	}
	spare_jobs_free(l);
}

/* The loop a job call works on, locked, or NULL if an argument is invalid
 * (the same rules for add and del). */
static struct qb_loop *job_loop_lock(struct qb_loop *l, enum qb_loop_priority p,
				     qb_loop_job_dispatch_fn fn)
{
	l = loop_resolve(l);
	if (l == NULL || fn == NULL || !loop_prio_ok((int)p))
		return NULL;
	loop_lock(l);
	return l;
}

int32_t qb_loop_job_add(qb_loop_t *l, enum qb_loop_priority p, void *data,
			qb_loop_job_dispatch_fn dispatch_fn)
{
	struct loop_job *job;

	l = job_loop_lock(l, p, dispatch_fn);
	if (l == NULL)
		return -EINVAL;
	job = job_get(l);
	if (job == NULL) {
		loop_unlock(l);
		return -ENOMEM;
	}
	job->item.kind = LOOP_ITEM_JOB;
	job->data = data;
	job->fn = dispatch_fn;
	loop_list_append(&l->level[p].wait, &job->item);
	loop_unlock(l);
	loop_wake(l);
	return 0;
}

static struct loop_job *loop_job_find(struct qb_list_head *list, const void *data,
				      qb_loop_job_dispatch_fn fn)
{
	struct loop_item *it;

	loop_list_for_each(it, list)
	{
		struct loop_job *job = (struct loop_job *)it;

		if (it->kind == LOOP_ITEM_JOB && job->fn == fn && job->data == data)
			return job;
	}
	return NULL;
}

int32_t qb_loop_job_del(struct qb_loop *l, enum qb_loop_priority p, void *data,
			qb_loop_job_dispatch_fn dispatch_fn)
{
	struct loop_job *job;

	l = job_loop_lock(l, p, dispatch_fn);
	if (l == NULL)
		return -EINVAL;
	job = loop_job_find(&l->level[p].wait, data, dispatch_fn);
	if (job == NULL)
		job = loop_job_find(&l->level[p].run, data, dispatch_fn);
	if (job != NULL)
		loop_list_unlink(&job->item);
	loop_unlock(l);
	if (job == NULL)
		return -ENOENT;
	job_put(l, job);
	return 0;
}

/* Moves the jobs added since the last turn to the run lists; non-zero if any. */
uint32_t loop_jobs_move_waiting(struct qb_loop *l)
{
	uint32_t moved = 0;
	int p;

	loop_lock(l);
	for (p = 0; p < LOOP_LEVELS; p++) {
		struct qb_list_head *wait = &l->level[p].wait;

		if (loop_list_empty(wait))
			continue;
		loop_list_splice_tail(&l->level[p].run, wait);
		moved = 1;
	}
	freed_jobs_recycle(l);
	loop_unlock(l);
	return moved;
}

void loop_job_dispatch(struct qb_loop *l, struct loop_item *item)
{
	struct loop_job *job = (struct loop_job *)item;
	qb_loop_job_dispatch_fn fn = job->fn;
	void *data = job->data;

	job_put(l, job);
	fn(data);
}
