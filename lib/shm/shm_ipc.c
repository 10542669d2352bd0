/*
 * shm_ipc.c - the shared-memory files of IPC connections: the private
 * directory of a connection in /dev/shm and the small control file of the
 * SOCKET transport (server creates, client maps), and their removal.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "shm/shm_internal.h"

#define SHM_QB_PREFIX SHM_DIR "/qb-"

int shm_dir_create(char *out, size_t len, const char *name, mode_t mode, struct shm_file_id *id)
{
	struct stat st;
	int n = snprintf(out, len, SHM_QB_PREFIX "%s-XXXXXX", name);
	int rc;

	if (n < 0 || (size_t)n >= len) {
		return -ENAMETOOLONG;
	}
	if (mkdtemp(out) == NULL) {
		return -errno;
	}
	/* From here on the directory is ours: remove it on any failure. */
	if (chmod(out, mode) < 0 || lstat(out, &st) < 0) {
		rc = -errno;
		(void)rmdir(out);
		return rc;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

/*
 * Only if path is still the directory identified by id: a client that
 * owns the directory could have put a symlink in its place.
 */
int shm_dir_chown_owned(const char *path, const struct shm_file_id *id, uid_t uid, gid_t gid)
{
	struct stat st;
	int rc = -EBUSY;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino) {
		rc = fchown(fd, uid, gid) < 0 ? -errno : 0;
	}
	close(fd);
	return rc;
}

int shm_path_is_qb(const char *path)
{
	return strncmp(path, SHM_QB_PREFIX, strlen(SHM_QB_PREFIX)) == 0;
}

int shm_dir_remove(const char *path)
{
	return rmdir(path) < 0 ? -errno : 0;
}

int shm_control_create(const char *path, size_t size, uid_t uid, gid_t gid, mode_t mode,
		       struct shm_file_id *id, void **out)
{
	int rc;
	int fd = shm_file_create(path, size, id);

	if (fd < 0) {
		return fd;
	}
	if (fchown(fd, uid, gid) < 0) {
		/* best effort: the mode below still applies */
	}
	rc = fchmod(fd, mode) < 0 ? -errno : shm_map(fd, size, out);
	close(fd);
	if (rc < 0) {
		(void)shm_unlink_owned(path, id);
	}
	return rc;
}

/*
 * A file shorter than size is grown (never cut) before mapping, so that
 * touching the mapping cannot fault.
 */
int shm_control_map(const char *path, size_t size, void **out)
{
	struct stat st;
	int rc;
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size < (off_t)size && ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = shm_map(fd, size, out);
	close(fd);
	return rc;
}

/*
 * The SOCKET client removes the control file the server made, and the
 * then empty connection directory around it.
 */
void shm_control_remove(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	(void)unlink(path);
	(void)snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		(void)rmdir(".");
		return;
	}
	*slash = '\0';
	(void)rmdir(slash == dir ? "/" : dir);
}

/* Remove a per-connection directory and whatever is left inside it. */
void remove_tempdir(const char *name)
{
	char path[NAME_MAX + 8];
	const char *slash;
	DIR *d;
	struct dirent *e;
	int dfd;

	if (name == NULL || name[0] == '\0') {
		return;
	}
	/* Accept either the directory or its "<dir>/qb" description. */
	(void)snprintf(path, sizeof(path), "%s", name);
	slash = strrchr(path, '/');
	if (slash && strcmp(slash, "/qb") == 0) {
		path[slash - path] = '\0';
	}
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		return;
	}
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			(void)unlinkat(dfd, e->d_name, 0);
		}
	}
	closedir(d);
	(void)rmdir(path);
}
