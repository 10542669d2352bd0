/*
 * loop_signal.c - POSIX signals delivered as loop callbacks.
 *
 * The process-wide sigaction handler writes the signal number into the
 * self-pipe of every loop that has a handler for that signal; each loop
 * polls its own pipe and queues one dispatch per matching handler. So
 * handlers on any loop run, destroying one loop never silences another,
 * and a signal that arrives while its handler runs is simply queued again.
 * After fork the child gets fresh pipes (same fd numbers) so the parent
 * never reads the child's signals, nor the child the parent's.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <qb/qbloop.h>
#include "loop/loop_internal.h"
#include "util/util_internal.h"

#define SIG_PIPES_MAX 64 /* loops with signal handlers at once */
#define SIG_HIGHEST 64	 /* signal numbers 1..64 can be handled */

/* One loop's self-pipe as the signal handler sees it. */
struct sig_pipe {
	atomic_int wfd_plus1;	    /* 0: slot free */
	atomic_uint_least64_t mask; /* bit (sig - 1): the loop wants sig */
	int rfd;
};

static struct {
	atomic_int in_handler; /* sig_deliver calls running now */
	pthread_mutex_t lock;
	struct sig_pipe pipe[SIG_PIPES_MAX];
	int users[SIG_HIGHEST + 1]; /* handlers per signal, all loops */
} sigs = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct loop_sig_handler {
	struct loop_item link; /* on the loop's handler list */
	int sig;
	int prio;
	void *data;
	qb_loop_signal_dispatch_fn fn;
	struct loop_guard guard;
};

/*
 * One delivery waiting on a run list. It keeps the handler's function,
 * data and signal as they were when the signal arrived (libqb does too:
 * a later qb_loop_signal_mod() does not change a queued delivery).
 */
struct loop_sig_job {
	struct loop_item item;
	struct loop_sig_handler *h;
	int sig;
	void *data;
	qb_loop_signal_dispatch_fn fn;
};

static int sig_handleable(int sig)
{
	return sig >= 1 && sig <= SIG_HIGHEST;
}

static void sig_deliver(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;
	uint64_t bit = 1ULL << (sig - 1);
	int32_t num = sig;
	int i;

	atomic_fetch_add(&sigs.in_handler, 1);
	for (i = 0; i < SIG_PIPES_MAX; i++) {
		int wfd = atomic_load(&sigs.pipe[i].wfd_plus1) - 1;

		if (wfd >= 0 && (atomic_load(&sigs.pipe[i].mask) & bit))
			(void)!write(wfd, &num, sizeof(num));
	}
	atomic_fetch_sub(&sigs.in_handler, 1);
	errno = saved;
}

/* Caller holds sigs.lock. */
static void sig_install(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sig_deliver;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
}

/* Caller holds sigs.lock. */
static void sig_user_add(int sig)
{
	if (!sig_handleable(sig)) {
		errno = EINVAL; /* what sigaction says; libqb leaves it */
		return;
	}
	if (sigs.users[sig]++ == 0)
		sig_install(sig);
}

/* Caller holds sigs.lock. The previous disposition is not restored: SIG_DFL. */
static void sig_user_del(int sig)
{
	if (sig_handleable(sig) && --sigs.users[sig] == 0)
		(void)signal(sig, SIG_DFL);
}

/* Caller holds sigs.lock. */
static void sig_mask_update(struct qb_loop *l)
{
	struct qb_list_head *hl = &l->signals.handlers;
	struct loop_item *it;
	uint64_t mask = 0;

	if (l->signals.slot < 0)
		return;
	loop_list_for_each(it, hl)
	{
		struct loop_sig_handler *h = (struct loop_sig_handler *)it;

		if (sig_handleable(h->sig))
			mask |= 1ULL << (h->sig - 1);
	}
	atomic_store(&sigs.pipe[l->signals.slot].mask, mask);
}

int32_t qb_loop_signals_create(struct qb_loop *l)
{
	if (l == NULL)
		return -EINVAL;
	loop_list_init(&l->signals.handlers);
	l->signals.slot = -1;
	l->signals.read_fd = -1;
	return 0;
}

/* Gives the loop its self-pipe (made on its first signal handler). */
static int32_t sig_pipe_open(struct qb_loop *l)
{
	int fds[2], slot;
	int32_t rc;

	if (l->signals.slot >= 0)
		return 0;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = -errno;
		util_perror(LOG_ERR, "loop: signal pipe");
		return rc;
	}
	fds[0] = util_fd_hygiene(fds[0]);
	fds[1] = util_fd_hygiene(fds[1]);
	if (fds[0] < 0 || fds[1] < 0) {
		rc = fds[0] < 0 ? fds[0] : fds[1];
		goto fail;
	}
	pthread_mutex_lock(&sigs.lock);
	for (slot = 0; slot < SIG_PIPES_MAX; slot++)
		if (atomic_load(&sigs.pipe[slot].wfd_plus1) == 0)
			break;
	if (slot == SIG_PIPES_MAX) {
		pthread_mutex_unlock(&sigs.lock);
		util_log(LOG_ERR, "loop: more than %d loops with signal handlers", SIG_PIPES_MAX);
		rc = -EMFILE;
		goto fail;
	}
	sigs.pipe[slot].rfd = fds[0];
	atomic_store(&sigs.pipe[slot].mask, 0);
	atomic_store(&sigs.pipe[slot].wfd_plus1, fds[1] + 1);
	pthread_mutex_unlock(&sigs.lock);
	l->signals.slot = slot;
	l->signals.read_fd = fds[0];
	rc = loop_poll_register_internal(l, fds[0]);
	if (rc != 0)
		qb_loop_signals_destroy(l);
	return rc;
fail:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

static int sig_args_ok(const struct qb_loop *l, int p, qb_loop_signal_dispatch_fn fn)
{
	return l && fn && p >= QB_LOOP_LOW && p <= QB_LOOP_HIGH;
}

static struct loop_sig_handler *sig_find(struct qb_loop *l, const void *handle)
{
	struct qb_list_head *hl = &l->signals.handlers;
	struct loop_item *it;

	if (handle == NULL)
		return NULL;
	loop_list_for_each(it, hl) if (it == handle) return (struct loop_sig_handler *)it;
	return NULL;
}

int32_t qb_loop_signal_add(qb_loop_t *l, enum qb_loop_priority p, int32_t sig, void *data,
			   qb_loop_signal_dispatch_fn dispatch_fn, qb_loop_signal_handle *handle)
{
	struct loop_sig_handler *h;
	int32_t rc;

	l = loop_resolve(l);
	if (!sig_args_ok(l, (int)p, dispatch_fn))
		return -EINVAL;
	rc = sig_pipe_open(l);
	if (rc != 0)
		return rc;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->link.kind = LOOP_ITEM_SIGNAL;
	h->sig = sig;
	h->prio = (int)p;
	h->data = data;
	h->fn = dispatch_fn;
	pthread_mutex_lock(&sigs.lock);
	loop_list_append(&l->signals.handlers, &h->link);
	sig_mask_update(l);
	sig_user_add(sig);
	pthread_mutex_unlock(&sigs.lock);
	if (handle)
		*handle = h;
	return 0;
}

int32_t qb_loop_signal_mod(qb_loop_t *l, enum qb_loop_priority p, int32_t sig, void *data,
			   qb_loop_signal_dispatch_fn dispatch_fn, qb_loop_signal_handle handle)
{
	struct loop_sig_handler *h;

	l = loop_resolve(l);
	if (!sig_args_ok(l, (int)p, dispatch_fn))
		return -EINVAL;
	h = sig_find(l, handle);
	if (h == NULL)
		return -EINVAL;
	h->prio = (int)p;
	h->data = data;
	h->fn = dispatch_fn;
	if (h->sig != sig) {
		pthread_mutex_lock(&sigs.lock);
		sig_user_del(h->sig);
		h->sig = sig;
		sig_user_add(sig);
		sig_mask_update(l);
		pthread_mutex_unlock(&sigs.lock);
	}
	return 0;
}

/* Drops deliveries of h still waiting on the run lists. */
static void sig_jobs_drop(struct qb_loop *l, const struct loop_sig_handler *h)
{
	int p;

	for (p = 0; p < LOOP_LEVELS; p++) {
		struct qb_list_head *run = &l->level[p].run;
		struct loop_item *it = loop_item_of(run->next);

		while (&it->list != run) {
			struct loop_item *next = loop_item_of(it->list.next);

			if (it->kind == LOOP_ITEM_SIGNAL && ((struct loop_sig_job *)it)->h == h) {
				loop_list_unlink(it);
				free(it);
			}
			it = next;
		}
	}
}

static void sig_handler_remove(struct qb_loop *l, struct loop_sig_handler *h)
{
	sig_jobs_drop(l, h);
	pthread_mutex_lock(&sigs.lock);
	loop_list_unlink(&h->link);
	sig_mask_update(l);
	sig_user_del(h->sig);
	pthread_mutex_unlock(&sigs.lock);
	loop_guard_free(&h->guard, h);
}

int32_t qb_loop_signal_del(qb_loop_t *l, qb_loop_signal_handle handle)
{
	struct loop_sig_handler *h;

	l = loop_resolve(l);
	if (l == NULL)
		return -EINVAL;
	h = sig_find(l, handle);
	if (h == NULL)
		return -EINVAL;
	sig_handler_remove(l, h);
	return 0;
}

/* The loop's pipe is readable: take one signal, queue its handlers. */
void loop_signals_pipe_readable(struct qb_loop *l)
{
	struct qb_list_head *hl = &l->signals.handlers;
	struct loop_item *it;
	int32_t sig;

	if (read(l->signals.read_fd, &sig, sizeof(sig)) != (ssize_t)sizeof(sig))
		return;
	loop_list_for_each(it, hl)
	{
		struct loop_sig_handler *h = (struct loop_sig_handler *)it;
		struct loop_sig_job *job;

		if (h->sig != sig)
			continue;
		job = malloc(sizeof(*job));
		if (job == NULL)
			continue;
		job->item.kind = LOOP_ITEM_SIGNAL;
		job->h = h;
		job->sig = h->sig;
		job->data = h->data;
		job->fn = h->fn;
		loop_run_append(l, h->prio, &job->item);
	}
}

void loop_signal_dispatch(struct qb_loop *l, struct loop_item *item)
{
	struct loop_sig_job *job = (struct loop_sig_job *)item;
	struct loop_sig_handler *h = job->h;
	qb_loop_signal_dispatch_fn fn = job->fn;
	void *data = job->data;
	int sig = job->sig;
	int32_t rc;

	free(job);
	h->guard.dispatching = 1;
	rc = fn(sig, data);
	if (loop_guard_end(&h->guard, h))
		return;
	if (rc != 0)
		sig_handler_remove(l, h);
}

/* Removes the loop's handlers (signals back to SIG_DFL) and its pipe. */
void qb_loop_signals_destroy(struct qb_loop *l)
{
	struct qb_list_head *hl;
	int slot, wfd;

	if (l == NULL || l->signals.handlers.next == NULL)
		return;
	hl = &l->signals.handlers;
	while (!loop_list_empty(hl))
		sig_handler_remove(l, (struct loop_sig_handler *)loop_item_of(hl->next));
	slot = l->signals.slot;
	if (slot < 0)
		return;
	loop_poll_forget_fd(l, l->signals.read_fd);
	pthread_mutex_lock(&sigs.lock);
	wfd = atomic_load(&sigs.pipe[slot].wfd_plus1) - 1;
	atomic_store(&sigs.pipe[slot].mask, 0);
	atomic_store(&sigs.pipe[slot].wfd_plus1, 0);
	sigs.pipe[slot].rfd = -1;
	pthread_mutex_unlock(&sigs.lock);
	/* A handler running in another thread may still hold the old fd
	 * number: let it finish before the number can be reused. */
	while (atomic_load(&sigs.in_handler) > 0)
		sched_yield();
	close(wfd);
	close(l->signals.read_fd);
	l->signals.slot = -1;
	l->signals.read_fd = -1;
}

/* --- fork ------------------------------------------------------------------- */

static __thread sigset_t fork_saved_mask;

/* Holds signals across fork so none lands in a pipe shared with the parent. */
void loop_signals_atfork_prepare(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &fork_saved_mask);
	pthread_mutex_lock(&sigs.lock);
}

void loop_signals_atfork_parent(void)
{
	pthread_mutex_unlock(&sigs.lock);
	pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

/* Gives each pipe a new kernel pipe under the same fd numbers. */
void loop_signals_atfork_child(void)
{
	int i;

	/* Only the forking thread exists here, and it was not in a handler. */
	atomic_store(&sigs.in_handler, 0);
	for (i = 0; i < SIG_PIPES_MAX; i++) {
		int wfd = atomic_load(&sigs.pipe[i].wfd_plus1) - 1;
		int fds[2];

		if (wfd < 0 || pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
			continue;
		(void)dup3(fds[0], sigs.pipe[i].rfd, O_CLOEXEC);
		(void)dup3(fds[1], wfd, O_CLOEXEC);
		close(fds[0]);
		close(fds[1]);
	}
	pthread_mutex_unlock(&sigs.lock);
	pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}
