/* loop_job.c - one-shot jobs: queued on a level's wait list, run once. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <qb/qbloop.h>
#include "loop/loop_internal.h"

struct loop_job {
	struct loop_item item;	/* first: an item is a job */
	void *data;
	qb_loop_job_dispatch_fn fn;
};

static int loop_prio_ok(int p)
{
	return p >= QB_LOOP_LOW && p <= QB_LOOP_HIGH;
}

int32_t qb_loop_jobs_create(struct qb_loop *l)
{
	return l ? 0 : -EINVAL;
}

static void loop_jobs_free_list(struct loop_list *list)
{
	struct loop_item *it = list->head.next;

	while (it != &list->head) {
		struct loop_item *next = it->next;

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
}

int32_t qb_loop_job_add(qb_loop_t *l, enum qb_loop_priority p, void *data,
			qb_loop_job_dispatch_fn dispatch_fn)
{
	struct loop_job *job;

	l = loop_resolve(l);
	if (l == NULL || dispatch_fn == NULL || !loop_prio_ok((int)p))
		return -EINVAL;
	job = malloc(sizeof(*job));
	if (job == NULL)
		return -ENOMEM;
	job->item.kind = LOOP_ITEM_JOB;
	job->data = data;
	job->fn = dispatch_fn;
	loop_lock(l);
	loop_list_append(&l->level[p].wait, &job->item);
	loop_unlock(l);
	loop_wake(l);
	return 0;
}

static struct loop_job *loop_job_find(struct loop_list *list, const void *data,
				      qb_loop_job_dispatch_fn fn)
{
	struct loop_item *it;

	for (it = list->head.next; it != &list->head; it = it->next) {
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

	l = loop_resolve(l);
	if (l == NULL || dispatch_fn == NULL || !loop_prio_ok((int)p))
		return -EINVAL;
	loop_lock(l);
	job = loop_job_find(&l->level[p].wait, data, dispatch_fn);
	if (job == NULL)
		job = loop_job_find(&l->level[p].run, data, dispatch_fn);
	if (job != NULL)
		loop_list_unlink(&job->item);
	loop_unlock(l);
	if (job == NULL)
		return -ENOENT;
	free(job);
	return 0;
}

/* Moves the jobs added since the last turn to the run lists; returns how many. */
uint32_t loop_jobs_move_waiting(struct qb_loop *l)
{
	uint32_t moved = 0;
	int p;

	loop_lock(l);
	for (p = 0; p < LOOP_LEVELS; p++) {
		struct loop_list *wait = &l->level[p].wait;

		while (!loop_list_empty(wait)) {
			struct loop_item *it = wait->head.next;

			loop_list_unlink(it);
			loop_run_append(l, p, it);
			moved++;
		}
	}
	loop_unlock(l);
	return moved;
}

void loop_job_dispatch(struct qb_loop *l, struct loop_item *item)
{
	struct loop_job *job = (struct loop_job *)item;
	qb_loop_job_dispatch_fn fn = job->fn;
	void *data = job->data;

	free(job);
	fn(data);
}
