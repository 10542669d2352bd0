/*
 * log_file_reopen.c - file targets that follow their path: creation mode
 * (qb_log_file_open_mode), reopen after logrotate moved or removed the
 * file (QB_LOG_CONF_FILE_REOPEN_ON_ROTATE) and the async-signal-safe
 * reopen request (qb_log_file_reopen_request).
 *
 * A reopen happens inside the file logger, which holds only the slot's
 * read lock, so several threads may be writing the same stream. The
 * stream is therefore kept and only its descriptor is replaced: under the
 * stream's own lock the buffered line is flushed to the old file, then
 * dup3() puts the new file on the same descriptor number. Every line goes
 * whole to one of the two files; none is lost.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/log_core.h"
#include "util/util_internal.h"

/* Bumped by qb_log_file_reopen_request(); each file slot compares it with
 * the value it last acted on. */
uint32_t log_file_reopen_gen;

#define OPEN_FLAGS (O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY)

/* An explicit mode is the file's mode, whatever the umask: create the
 * file exclusively and chmod it; an existing file keeps its mode. */
static int fd_open_mode(const char *path, mode_t mode)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		int fd = open(path, OPEN_FLAGS | O_CREAT | O_EXCL, mode & 07777);

		if (fd >= 0) {
			if (fchmod(fd, mode & 07777) != 0) {
				int e = -errno;

				close(fd);
				return e;
			}
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
		fd = open(path, OPEN_FLAGS);
		if (fd >= 0 || errno != ENOENT)
			return fd >= 0 ? fd : -errno;
		/* removed between the two opens: try again */
	}
	return -EAGAIN;
}

int log_file_fd_open(const char *path, int32_t mode)
{
	int fd;

	if (mode < 0)
		fd = open(path, OPEN_FLAGS | O_CREAT, 0666);
	else
		fd = fd_open_mode(path, (mode_t)mode);
	if (fd < 0)
		return mode < 0 ? -errno : fd;
	return util_fd_hygiene(fd);
}

void log_file_id_store(struct qb_log_target *t)
{
	struct stat st;

	t->file_dev = 0;
	t->file_ino = 0;
	if (t->fp != NULL && fstat(fileno(t->fp), &st) == 0) {
		t->file_dev = st.st_dev;
		t->file_ino = st.st_ino;
	}
	__atomic_store_n(&t->reopen_next_ms, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->reopen_seen, __atomic_load_n(&log_file_reopen_gen, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELAXED);
}

/* Milliseconds of the coarse monotonic clock: read from the vDSO, no
 * system call. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is it this thread's turn to look at the path? */
static int check_due(struct qb_log_target *t, int *forced)
{
	uint32_t gen = __atomic_load_n(&log_file_reopen_gen, __ATOMIC_ACQUIRE);
	uint32_t seen = __atomic_load_n(&t->reopen_seen, __ATOMIC_RELAXED);
	int64_t next, now;

	if (gen != seen) {
		*forced = 1;
		return __atomic_compare_exchange_n(&t->reopen_seen, &seen, gen, 0, __ATOMIC_ACQ_REL,
						   __ATOMIC_RELAXED);
	}
	*forced = 0;
	if (t->reopen_ms == 0)
		return 0;
	now = now_ms();
	next = __atomic_load_n(&t->reopen_next_ms, __ATOMIC_RELAXED);
	if (now < next)
		return 0;
	return __atomic_compare_exchange_n(&t->reopen_next_ms, &next, now + t->reopen_ms, 0,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Put a fresh open of the path under the stream's descriptor. On any
 * failure the stream keeps writing to the file it had. */
static void stream_switch(struct qb_log_target *t)
{
	int fd = log_file_fd_open(t->filename, t->file_mode);
	struct stat st;
	FILE *fp = t->fp;

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return;
	}
	flockfile(fp);
	fflush(fp);
	if (dup3(fd, fileno(fp), O_CLOEXEC) >= 0) {
		t->file_dev = st.st_dev;
		t->file_ino = st.st_ino;
	}
	funlockfile(fp);
	close(fd);
}

static int path_moved(const struct qb_log_target *t)
{
	struct stat st;

	if (stat(t->filename, &st) != 0)
		return errno == ENOENT;
	return st.st_dev != t->file_dev || st.st_ino != t->file_ino;
}

void log_file_reopen_slow(struct qb_log_target *t)
{
	int forced;

	if (!check_due(t, &forced))
		return;
	if (__atomic_exchange_n(&t->reopen_busy, 1, __ATOMIC_ACQUIRE))
		return; /* another thread is at it */
	if (forced || path_moved(t))
		stream_switch(t);
	__atomic_store_n(&t->reopen_busy, 0, __ATOMIC_RELEASE);
}

int32_t log_file_reopen_ctl(struct qb_log_target *t, int32_t interval_ms)
{
	if (t->pos < QB_LOG_TARGET_DYNAMIC_START || t->logger != log_targets_file_logger)
		return -EINVAL;
	if (interval_ms < 0)
		return -EINVAL;
	t->reopen_ms = interval_ms;
	__atomic_store_n(&t->reopen_next_ms, 0, __ATOMIC_RELAXED);
	return 0;
}

void qb_log_file_reopen_request(void)
{
	/* a lock-free atomic add: async-signal-safe */
	__atomic_add_fetch(&log_file_reopen_gen, 1, __ATOMIC_RELEASE);
}
