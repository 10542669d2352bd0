/*
 * loop_poll.c - fd readiness through epoll (level triggered), the low-fd
 * warning, and the epoll instance's life across fork.
 *
 * Entries are found by fd in a table. A ready entry collects its events in
 * revents and is queued once on its level's run list until dispatched.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <qb/qbloop.h>
#include "loop/loop_internal.h"
#include "util/util_internal.h"

/* Events taken from epoll per turn (libqb's figure). */
#define POLL_MAX_EVENTS 12
/* fds kept in reserve below RLIMIT_NOFILE before warning. */
#define POLL_FD_RESERVE 50

struct loop_poll {
	struct loop_item item; /* first: on a run list when ready */
	int fd;
	int32_t events;	 /* POLL* bits asked for */
	int32_t revents; /* POLL* bits seen, not yet dispatched */
	int prio;
	void *data;
	qb_loop_poll_dispatch_fn fn;
	int internal; /* the signal pipe: read in the loop itself */
	struct loop_guard guard;
};

static uint32_t poll_to_epoll(int32_t ev)
{
	uint32_t e = 0;

	if (ev & POLLIN)
		e |= EPOLLIN;
	if (ev & POLLOUT)
		e |= EPOLLOUT;
	if (ev & POLLPRI)
		e |= EPOLLPRI;
	if (ev & (POLLERR | POLLNVAL))
		e |= EPOLLERR;
	if (ev & POLLHUP)
		e |= EPOLLHUP;
	return e;
}

static int32_t epoll_to_poll(uint32_t e)
{
	int32_t ev = 0;

	if (e & EPOLLIN)
		ev |= POLLIN;
	if (e & EPOLLOUT)
		ev |= POLLOUT;
	if (e & EPOLLPRI)
		ev |= POLLPRI;
	if (e & EPOLLERR)
		ev |= POLLERR;
	if (e & EPOLLHUP)
		ev |= POLLHUP;
	return ev;
}

static int poll_ctl(int epfd, int op, struct loop_poll *pe)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = poll_to_epoll(pe->events);
	ev.data.fd = pe->fd;
	if (epoll_ctl(epfd, op, pe->fd, &ev) < 0)
		return -errno;
	return 0;
}

int32_t qb_epoll_init(struct qb_loop *l)
{
	int fd;

	if (l == NULL)
		return -EINVAL;
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return -errno;
	fd = util_fd_hygiene(fd);
	if (fd < 0)
		return fd;
	l->polls.epfd = fd;
	l->polls.fork_gen = loop_fork_generation;
	return 0;
}

int32_t qb_loop_poll_create(struct qb_loop *l)
{
	return qb_epoll_init(l);
}

/*
 * The epoll instance is shared with the parent after fork: any change the
 * child made to it would change the parent's set. So the child's first use
 * replaces it by a new instance holding the same registrations.
 */
static int poll_epfd(struct qb_loop *l)
{
	struct loop_polls *ps = &l->polls;
	int old = ps->epfd;
	size_t fd;

	if (ps->fork_gen == loop_fork_generation)
		return old;
	if (qb_epoll_init(l) != 0) {
		util_perror(LOG_ERR, "loop: cannot make the child's epoll instance");
		ps->epfd = old;
		return -1;
	}
	if (old >= 0)
		close(old); /* drops only our reference; parent's set unchanged */
	for (fd = 0; fd < ps->by_fd_len; fd++)
		if (ps->by_fd[fd])
			(void)poll_ctl(ps->epfd, EPOLL_CTL_ADD, ps->by_fd[fd]);
	return ps->epfd;
}

static struct loop_poll *poll_find(struct qb_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->polls.by_fd_len)
		return NULL;
	return l->polls.by_fd[fd];
}

static int poll_table_fit(struct loop_polls *ps, int fd)
{
	size_t len = ps->by_fd_len ? ps->by_fd_len : 64;
	struct loop_poll **t;

	if ((size_t)fd < ps->by_fd_len)
		return 0;
	while (len <= (size_t)fd)
		len *= 2;
	t = realloc(ps->by_fd, len * sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	memset(t + ps->by_fd_len, 0, (len - ps->by_fd_len) * sizeof(*t));
	ps->by_fd = t;
	ps->by_fd_len = len;
	return 0;
}

static int32_t poll_add(struct qb_loop *l, int prio, int fd, int32_t events, void *data,
			qb_loop_poll_dispatch_fn fn, int internal)
{
	struct loop_poll *pe;
	int epfd = poll_epfd(l);
	int32_t rc;

	if (poll_find(l, fd)) {
		errno = EEXIST; /* libqb callers test errno too */
		return -EEXIST;
	}
	if (epfd < 0)
		return -EBADF;
	pe = calloc(1, sizeof(*pe));
	if (pe == NULL)
		return -ENOMEM;
	pe->item.kind = LOOP_ITEM_POLL;
	pe->fd = fd;
	pe->events = events;
	pe->prio = prio;
	pe->data = data;
	pe->fn = fn;
	pe->internal = internal;
	rc = poll_ctl(epfd, EPOLL_CTL_ADD, pe);
	if (rc != 0) {
		free(pe);
		return rc;
	}
	rc = poll_table_fit(&l->polls, fd);
	if (rc != 0) {
		(void)poll_ctl(epfd, EPOLL_CTL_DEL, pe);
		free(pe);
		return rc;
	}
	l->polls.by_fd[fd] = pe;
	l->polls.count++;
	return 0;
}

int32_t loop_poll_register_internal(struct qb_loop *l, int fd)
{
	return poll_add(l, QB_LOOP_HIGH, fd, POLLIN, NULL, NULL, 1);
}

int32_t qb_loop_poll_add(qb_loop_t *l, enum qb_loop_priority p, int32_t fd, int32_t events,
			 void *data, qb_loop_poll_dispatch_fn dispatch_fn)
{
	l = loop_resolve(l);
	if (l == NULL || dispatch_fn == NULL || (int)p < QB_LOOP_LOW || (int)p > QB_LOOP_HIGH)
		return -EINVAL;
	return poll_add(l, (int)p, fd, events, data, dispatch_fn, 0);
}

int32_t qb_loop_poll_mod(qb_loop_t *l, enum qb_loop_priority p, int32_t fd, int32_t events,
			 void *data, qb_loop_poll_dispatch_fn dispatch_fn)
{
	struct loop_poll *pe;
	int epfd;

	l = loop_resolve(l);
	if (l == NULL || dispatch_fn == NULL || (int)p < QB_LOOP_LOW || (int)p > QB_LOOP_HIGH)
		return -EINVAL;
	pe = poll_find(l, fd);
	if (pe == NULL || pe->internal)
		return -EBADF;
	pe->prio = (int)p;
	pe->data = data;
	pe->fn = dispatch_fn;
	if (pe->events == events)
		return 0;
	pe->events = events;
	epfd = poll_epfd(l);
	if (epfd < 0)
		return -EBADF;
	return poll_ctl(epfd, EPOLL_CTL_MOD, pe);
}

/* Forgets an entry; frees it unless its callback is running. */
static int32_t poll_forget(struct qb_loop *l, struct loop_poll *pe)
{
	int epfd = poll_epfd(l);
	int32_t rc = epfd < 0 ? -EBADF : poll_ctl(epfd, EPOLL_CTL_DEL, pe);

	l->polls.by_fd[pe->fd] = NULL;
	l->polls.count--;
	loop_list_unlink(&pe->item);
	loop_guard_free(&pe->guard, pe);
	return rc;
}

int32_t qb_loop_poll_del(qb_loop_t *l, int32_t fd)
{
	struct loop_poll *pe;

	l = loop_resolve(l);
	if (l == NULL)
		return -EINVAL;
	pe = poll_find(l, fd);
	if (pe == NULL || pe->internal)
		return -EBADF;
	return poll_forget(l, pe);
}

/* Used by the signal code to drop its pipe. */
void loop_poll_forget_fd(struct qb_loop *l, int fd)
{
	struct loop_poll *pe = poll_find(l, fd);

	if (pe)
		(void)poll_forget(l, pe);
}

int32_t qb_loop_poll_low_fds_event_set(qb_loop_t *l, qb_loop_poll_low_fds_event_fn fn)
{
	l = loop_resolve(l);
	if (l)
		l->polls.low_fn = fn;
	return 0;
}

/* Soft RLIMIT_NOFILE less the reserve, read once per process. */
static int32_t poll_fd_limit(void)
{
	static int32_t limit = -1;
	struct rlimit rl;

	if (limit >= 0)
		return limit;
	limit = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <= INT32_MAX &&
	    rl.rlim_cur > POLL_FD_RESERVE)
		limit = (int32_t)(rl.rlim_cur - POLL_FD_RESERVE);
	return limit;
}

void qb_poll_fds_usage_check_(struct qb_loop *l)
{
	struct loop_polls *ps;
	int32_t available;

	if (l == NULL)
		return;
	ps = &l->polls;
	available = poll_fd_limit() - (int32_t)ps->count;
	if (available < 0)
		available = 0;
	if (!ps->low_state && available <= 1) {
		ps->low_state = 1;
		if (ps->low_fn)
			ps->low_fn(1, available);
	} else if (ps->low_state && available > 2) {
		ps->low_state = 0;
		if (ps->low_fn)
			ps->low_fn(0, available);
	}
}

/* Waits for fd events and queues the ready entries. */
int loop_poll_wait(struct qb_loop *l, int32_t timeout_ms)
{
	struct epoll_event ev[POLL_MAX_EVENTS];
	int epfd, n, i;

	qb_poll_fds_usage_check_(l);
	epfd = poll_epfd(l);
	if (epfd < 0)
		return -EBADF;
	do {
		n = epoll_wait(epfd, ev, POLL_MAX_EVENTS, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;

		util_perror(LOG_ERR, "loop: epoll_wait");
		return -err;
	}
	for (i = 0; i < n; i++) {
		struct loop_poll *pe = poll_find(l, ev[i].data.fd);

		if (pe == NULL)
			continue;
		if (pe->internal) {
			loop_signals_pipe_readable(l);
			continue;
		}
		pe->revents |= epoll_to_poll(ev[i].events);
		if (!pe->item.on_list)
			loop_run_append(l, pe->prio, &pe->item);
	}
	return n;
}

void loop_poll_dispatch(struct qb_loop *l, struct loop_item *item)
{
	struct loop_poll *pe = (struct loop_poll *)item;
	int32_t revents = pe->revents;
	int32_t rc;

	pe->revents = 0;
	pe->guard.dispatching = 1;
	rc = pe->fn(pe->fd, revents, pe->data);
	if (loop_guard_end(&pe->guard, pe))
		return;
	/* libqb leaves such an fd in epoll; we really remove it. */
	if (rc < 0)
		(void)poll_forget(l, pe);
}

/* Forgets every fd (they are not closed) and closes the epoll instance. */
void qb_loop_poll_destroy(struct qb_loop *l)
{
	struct loop_polls *ps;
	size_t fd;

	if (l == NULL)
		return;
	ps = &l->polls;
	for (fd = 0; fd < ps->by_fd_len; fd++) {
		struct loop_poll *pe = ps->by_fd[fd];

		if (pe) {
			loop_list_unlink(&pe->item);
			free(pe);
		}
	}
	free(ps->by_fd);
	ps->by_fd = NULL;
	ps->by_fd_len = 0;
	ps->count = 0;
	/* After fork this only drops the child's reference to the instance. */
	if (ps->epfd >= 0)
		close(ps->epfd);
	ps->epfd = -1;
}
