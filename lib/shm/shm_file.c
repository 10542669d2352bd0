/*
 * shm_file.c - naming, creating, opening, renaming and removing the files
 * behind shared-memory ring buffers.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "shm/shm_internal.h"
#include "util/util_internal.h"

int shm_path_build(char *out, size_t len, const char *name, const char *suffix)
{
	int n;

	if (name == NULL || suffix == NULL) {
		return -EINVAL;
	}
	if (strchr(name, '/') != NULL) {
		n = snprintf(out, len, "%s-%s", name, suffix);
	} else {
		n = snprintf(out, len, SHM_DIR "/qb-%s-%s", name, suffix);
	}
	if (n < 0 || (size_t)n >= len) {
		return -ENAMETOOLONG;
	}
	return 0;
}

int shm_nonce(char out[17])
{
	uint8_t raw[8];
	size_t got = 0;
	int i;

	while (got < sizeof(raw)) {
		ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		got += (size_t)r;
	}
	for (i = 0; i < 8; i++) {
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	}
	return 0;
}

/* Split path into its directory (opened O_PATH) and base name. */
static int dir_open(const char *path, const char **base)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL) {
		*base = path;
		strcpy(dir, ".");
	} else {
		size_t dlen = (size_t)(slash - path);

		*base = slash + 1;
		if (dlen == 0) {
			dlen = 1; /* "/name" */
		}
		if (dlen >= sizeof(dir)) {
			return -ENAMETOOLONG;
		}
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
	}
	if (**base == '\0') {
		return -EINVAL;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	return util_fd_hygiene(fd);
}

static int id_matches(int dfd, const char *base, const struct shm_file_id *id)
{
	struct stat st;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (st.st_dev != id->dev || st.st_ino != id->ino) {
		return -EBUSY;
	}
	return 0;
}

int shm_unlinkat_owned(int dfd, const char *name, const struct shm_file_id *id)
{
	int rc;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL) {
		return -EINVAL;
	}
	rc = id_matches(dfd, name, id);
	if (rc == 0 && unlinkat(dfd, name, 0) < 0) {
		rc = -errno;
	}
	return rc == -ENOENT ? 0 : rc;
}

int shm_unlink_owned(const char *path, const struct shm_file_id *id)
{
	const char *base;
	int dfd = dir_open(path, &base);
	int rc;

	if (dfd < 0) {
		return dfd == -ENOENT ? 0 : dfd;
	}
	rc = shm_unlinkat_owned(dfd, base, id);
	close(dfd);
	return rc;
}

/* posix_fallocate returns the error instead of setting errno. */
static int allocate_space(int fd, size_t size)
{
	int attempt;
	int rc = 0;

	if (size == 0) {
		return 0;
	}
	for (attempt = 0; attempt < 16; attempt++) {
		rc = posix_fallocate(fd, 0, (off_t)size);
		if (rc != EINTR) {
			break;
		}
	}
	return -rc;
}

int shm_file_create(const char *path, size_t size, struct shm_file_id *id)
{
	struct stat st;
	int known = 0;
	int fd;
	int rc;

	if ((off_t)size < 0) {
		return -EFBIG;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	/* From here on the file is ours: remove it on any failure. */
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	known = 1;
	fd = util_fd_hygiene(fd);
	if (fd < 0) {
		rc = fd;
		fd = -1;
		goto fail;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = allocate_space(fd, size);
	if (rc < 0) {
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0) {
		close(fd);
	}
	if (known) {
		(void)shm_unlink_owned(path, id);
	} else {
		(void)unlink(path);
	}
	return rc;
}

int shm_file_open(const char *path, size_t min_size, int exact, struct shm_file_id *id)
{
	struct stat st;
	int fd;
	int rc;

	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* O_NOFOLLOW on a symlink reports ELOOP */
		return -errno;
	}
	fd = util_fd_hygiene(fd);
	if (fd < 0) {
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size < (uint64_t)min_size ||
	    (exact && (uint64_t)st.st_size != (uint64_t)min_size)) {
		rc = -EINVAL;
		goto fail;
	}
	if (id != NULL) {
		id->dev = st.st_dev;
		id->ino = st.st_ino;
	}
	return fd;
fail:
	close(fd);
	return rc;
}
