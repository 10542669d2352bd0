/*
 * shm_internal.h - the only code in the library that creates, opens, maps
 * and removes shared-memory files. Used by lib/rb (ring files) and lib/ipc
 * (connection directories and control files).
 *
 * Rules enforced here:
 *  - files we create: O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600;
 *  - files we open: O_NOFOLLOW|O_CLOEXEC, must be regular files of the
 *    expected size; never truncated;
 *  - every fd kept is close-on-exec and >= 3;
 *  - a file is only removed when it is still the inode we created.
 *
 * All functions return 0 (or an fd) on success and a negative errno on failure.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_SHM_INTERNAL_H_DEFINED
#define QB_SHM_INTERNAL_H_DEFINED

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Directory for names without '/'. */
#define SHM_DIR "/dev/shm"

/* Identity of a file, to recognise "the file we created" later. */
struct shm_file_id {
	dev_t dev;
	ino_t ino;
};

/*
 * Build the path of one ring file: NAME-SUFFIX when name contains '/',
 * else /dev/shm/qb-NAME-SUFFIX. -ENAMETOOLONG if it does not fit in len.
 */
int shm_path_build(char *out, size_t len, const char *name, const char *suffix);

/* 16 lowercase hex digits from getrandom(2) plus NUL. */
int shm_nonce(char out[17]);

/*
 * Create a new file of exactly `size` bytes (space allocated, so a full
 * tmpfs fails here with -ENOSPC rather than SIGBUS later). -EEXIST when the
 * name is taken. On failure no file is left. Returns the fd.
 */
int shm_file_create(const char *path, size_t size, struct shm_file_id *id);

/*
 * Open an existing regular file for read/write without following a
 * symlink. Its size must be at least min_size, and exactly min_size when
 * exact is set (-EINVAL otherwise). Returns the fd.
 */
int shm_file_open(const char *path, size_t min_size, int exact, struct shm_file_id *id);

/* Map len bytes of fd shared read/write. */
int shm_map(int fd, size_t len, void **out);

/*
 * Map fd (len bytes, a page multiple) twice back to back so that data
 * running past the end continues at the start. Unmap with 2*len.
 */
int shm_map_circular(int fd, size_t len, void **out);

/*
 * Remove path if it is still the file identified by id (a missing file is
 * fine: returns 0). -EBUSY if another file took its place.
 */
int shm_unlink_owned(const char *path, const struct shm_file_id *id);

/*
 * The same for name (no '/') in the directory open as dfd, for callers
 * that found the file by listing the directory and noted its identity.
 * Between the check and the unlink only the file's owner can swap it in a
 * sticky directory such as /dev/shm.
 */
int shm_unlinkat_owned(int dfd, const char *name, const struct shm_file_id *id);

/* ---- IPC connection files (shm_ipc.c) ---- */

/*
 * Create a fresh directory SHM_DIR/qb-NAME-XXXXXX with mode into out (its
 * path) and note its identity. On failure nothing is left.
 */
int shm_dir_create(char *out, size_t len, const char *name, mode_t mode, struct shm_file_id *id);
/* fchown the directory path, if it still is the one identified by id. */
int shm_dir_chown_owned(const char *path, const struct shm_file_id *id, uid_t uid, gid_t gid);
/* Is path one of our names in SHM_DIR (SHM_DIR/qb-...)? */
int shm_path_is_qb(const char *path);
/* Remove an (empty) directory. */
int shm_dir_remove(const char *path);
/*
 * Create the control file path of size bytes, owner uid:gid (best effort)
 * and mode, and map it shared into out. On failure no file is left.
 */
int shm_control_create(const char *path, size_t size, uid_t uid, gid_t gid, mode_t mode,
		       struct shm_file_id *id, void **out);
/* Map an existing control file (a regular file, grown to size if short). */
int shm_control_map(const char *path, size_t size, void **out);
/* Unlink a control file and remove the (empty) directory it is in. */
void shm_control_remove(const char *path);

/*
 * libqb 2.0 exports these helpers without declaring them publicly; they are
 * kept for binaries that bound to them, with conservative behaviour.
 */
int32_t qb_sys_mmap_file_open(char *path, const char *file, size_t bytes, uint32_t file_flags);
int32_t qb_sys_circular_mmap(int32_t fd, void **buf, size_t bytes);
int32_t qb_sys_fd_nonblock_cloexec_set(int32_t fd);
void qb_sys_unlink_or_truncate(const char *path, int32_t truncate_fallback);
void qb_sys_unlink_or_truncate_at(int32_t dirfd, const char *path, int32_t truncate_fallback);
/* Remove a connection directory (or its "<dir>/qb") and its files. */
void remove_tempdir(const char *name);

#endif /* QB_SHM_INTERNAL_H_DEFINED */
