/*
 * loop_wake.c - jobs and timers added from another thread wake the loop.
 *
 * The loop marks itself `sleeping` before it collects the turn's work and
 * clears the mark after its epoll wait. An add takes the loop lock, queues,
 * and then, if the mark is set, writes to the loop's eventfd: either the
 * loop collects the new item in this turn, or it is (about to be) waiting
 * and the write ends the wait. Both sides use sequentially consistent
 * atomics for the mark, so one of the two always sees the other.
 *
 * The eventfd is made by the first add that needs it (a loop that is only
 * used from its own thread never has one) and sits in the epoll set
 * edge-triggered with no entry in the loop's fd table, so it is never read:
 * each write is one wake-up, nothing is dispatched for it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/loop_internal.h"
#include "util/util_internal.h"

/* The eventfd, in the loop's current epoll set (loop lock held). */
static int wake_fd_get(struct qb_loop *l)
{
	int epfd = __atomic_load_n(&l->polls.epfd, __ATOMIC_RELAXED);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};

	if (epfd < 0 || l->polls.fork_gen != loop_fork_generation)
		return -1; /* no epoll set of this process yet */
	if (l->wake_fd >= 0 && l->wake_gen != loop_fork_generation) {
		/* inherited over fork: shared with the parent, drop it */
		close(l->wake_fd);
		l->wake_fd = -1;
	}
	if (l->wake_fd < 0) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0)
			return -1;
		fd = util_fd_hygiene(fd);
		if (fd < 0)
			return -1;
		l->wake_fd = fd;
		l->wake_epfd = -1;
		l->wake_gen = loop_fork_generation;
	}
	if (l->wake_epfd != epfd) {
		ev.data.fd = -1; /* no fd table entry: nothing to dispatch */
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0 && errno != EEXIST)
			return -1;
		l->wake_epfd = epfd;
	}
	return l->wake_fd;
}

/* loop_wake() when the loop is marked sleeping. */
void loop_wake_write(struct qb_loop *l)
{
	uint64_t one = 1;
	int fd;

	loop_lock(l);
	fd = wake_fd_get(l);
	loop_unlock(l);
	if (fd >= 0)
		(void)!write(fd, &one, sizeof(one));
}

void loop_wake_close(struct qb_loop *l)
{
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->wake_fd = -1;
	l->wake_epfd = -1;
}
