/*
 * ipcs_wake.c - a service's wake-up timer: one timerfd, registered through
 * the application's poll handlers like any other descriptor, so that work
 * the service must do later (drop a client that never completed its
 * handshake; ask connection_closed again when the handlers have no
 * job_add) happens on any main loop, even when no client ever connects.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

uint64_t ipcs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int32_t wake_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct qb_ipcs_service *s = data;
	uint64_t ticks;

	/* nonblocking: a spurious wake-up reads nothing */
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
		return 0;
	}
	s->wake_at = 0;
	qb_ipcs_ref(s); /* the work may drop the last reference */
	ipcs_wake(s);
	qb_ipcs_unref(s);
	return 0;
}

int32_t ipcs_wake_open(struct qb_ipcs_service *s)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int32_t rc;

	if (fd < 0) {
		return -errno;
	}
	fd = util_fd_hygiene(fd);
	if (fd < 0) {
		return fd;
	}
	rc = s->poll.dispatch_add(s->prio, fd, POLLIN, s, wake_dispatch);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	s->wake_fd = fd;
	s->wake_at = 0;
	return 0;
}

void ipcs_wake_close(struct qb_ipcs_service *s)
{
	if (s->wake_fd < 0) {
		return;
	}
	(void)s->poll.dispatch_del(s->wake_fd);
	close(s->wake_fd);
	s->wake_fd = -1;
	s->wake_at = 0;
}

/* Make sure the timer fires no later than @p when (CLOCK_MONOTONIC ns). */
int32_t ipcs_wake_at(struct qb_ipcs_service *s, uint64_t when)
{
	struct itimerspec its = {{0, 0}, {0, 0}};

	if (s->wake_fd < 0) {
		return -EBADF;
	}
	if (s->wake_at != 0 && s->wake_at <= when) {
		return 0;
	}
	if (when == 0) {
		when = 1; /* an all-zero it_value would disarm */
	}
	its.it_value.tv_sec = (time_t)(when / 1000000000ull);
	its.it_value.tv_nsec = (long)(when % 1000000000ull);
	if (timerfd_settime(s->wake_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		return -errno;
	}
	s->wake_at = when;
	return 0;
}
