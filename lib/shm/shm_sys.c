/*
 * shm_sys.c - the unix helpers libqb 2.0 exports as internal symbols.
 * Nothing in this library depends on them; they behave sensibly and safely
 * for any outside caller (no symlink following, close-on-exec fds).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shm/shm_internal.h"

int32_t qb_sys_mmap_file_open(char *path, const char *file, size_t bytes, uint32_t file_flags)
{
	struct shm_file_id id;
	char buf[PATH_MAX];
	int n;

	if (path == NULL || file == NULL || file[0] == '\0') {
		return -EINVAL;
	}
	if (strchr(file, '/') != NULL) {
		n = snprintf(buf, sizeof(buf), "%s", file);
	} else {
		n = snprintf(buf, sizeof(buf), SHM_DIR "/qb-%s", file);
	}
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		return -ENAMETOOLONG;
	}
	memcpy(path, buf, (size_t)n + 1);
	if (file_flags & O_CREAT) {
		return shm_file_create(path, bytes, &id);
	}
	return shm_file_open(path, bytes, 0, &id);
}

int32_t qb_sys_circular_mmap(int32_t fd, void **buf, size_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);

	if (buf == NULL || page <= 0 || bytes % (size_t)page != 0) {
		return -EINVAL;
	}
	return shm_map_circular(fd, bytes, buf);
}

int32_t qb_sys_fd_nonblock_cloexec_set(int32_t fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		return -errno;
	}
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
		return -errno;
	}
	return 0;
}

static void truncate_at(int32_t dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0) {
		if (ftruncate(fd, 0) < 0) {
			/* best effort: nothing is left to try */
		}
		close(fd);
	}
}

void qb_sys_unlink_or_truncate_at(int32_t dirfd, const char *path, int32_t truncate_fallback)
{
	if (path == NULL) {
		return;
	}
	if (unlinkat(dirfd, path, 0) < 0 && errno != ENOENT && truncate_fallback) {
		truncate_at(dirfd, path);
	}
}

void qb_sys_unlink_or_truncate(const char *path, int32_t truncate_fallback)
{
	qb_sys_unlink_or_truncate_at(AT_FDCWD, path, truncate_fallback);
}
