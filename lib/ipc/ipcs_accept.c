/*
 * ipcs_accept.c - accepting a client on a service's listening socket, also
 * when the process is out of descriptors.
 *
 * With RLIMIT_NOFILE used up, accept() fails with EMFILE and leaves the
 * connection in the backlog, so the listening socket stays readable and a
 * level-triggered loop calls us again at once: a busy spin. The process
 * therefore keeps one spare descriptor; out of descriptors, it frees the
 * spare, accepts the waiting client and closes it at once (the client sees
 * its connection closed), and takes the spare back. The backlog drains, the
 * loop sleeps, the clients already connected are served as before.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "ipc/ipc_internal.h"
#include "util/util_internal.h"

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static int spare_fd = -1;
static int spare_users; /* services listening */
static int exhausted;	/* logged, until an accept succeeds again */

/* Keep the spare descriptor open (called with spare_lock held). */
static void spare_take(void)
{
	int fd;

	if (spare_fd >= 0 || spare_users == 0) {
		return;
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		spare_fd = util_fd_hygiene(fd);
	}
}

void ipcs_spare_fd_reserve(void)
{
	pthread_mutex_lock(&spare_lock);
	spare_users++;
	spare_take();
	pthread_mutex_unlock(&spare_lock);
}

void ipcs_spare_fd_release(void)
{
	pthread_mutex_lock(&spare_lock);
	if (spare_users > 0 && --spare_users == 0 && spare_fd >= 0) {
		close(spare_fd);
		spare_fd = -1;
	}
	pthread_mutex_unlock(&spare_lock);
}

static int accept_once(int listen_fd)
{
	int nfd;

	do {
		nfd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	} while (nfd < 0 && errno == EINTR);
	return nfd < 0 ? -errno : nfd;
}

/* Out of descriptors: turn the waiting client away instead of spinning. */
static void refuse_one(struct qb_ipcs_service *s, int listen_fd, int err)
{
	int nfd;

	pthread_mutex_lock(&spare_lock);
	if (!exhausted) {
		exhausted = 1;
		util_log(LOG_ERR,
			 "%s: cannot accept a client: %s; refusing "
			 "new clients until descriptors are free",
			 s->name, err == -EMFILE ? "too many open files" : "file table full");
	}
	if (spare_fd >= 0) {
		close(spare_fd);
		spare_fd = -1;
	}
	nfd = accept_once(listen_fd);
	if (nfd >= 0) {
		close(nfd);
	}
	spare_take();
	pthread_mutex_unlock(&spare_lock);
}

int ipcs_accept(struct qb_ipcs_service *s, int listen_fd)
{
	int nfd = accept_once(listen_fd);

	if (nfd == -EMFILE || nfd == -ENFILE) {
		refuse_one(s, listen_fd, nfd);
		return nfd;
	}
	if (nfd < 0) {
		return nfd;
	}
	pthread_mutex_lock(&spare_lock);
	if (exhausted) {
		exhausted = 0;
		util_log(LOG_INFO, "%s: accepting clients again", s->name);
	}
	spare_take();
	pthread_mutex_unlock(&spare_lock);
	return nfd;
}
