/*
 * lib/shm's files of IPC connections (shm_ipc.c): connection directories
 * and SOCKET control files. A failed create must leave nothing behind and
 * must never touch a file that is not ours. Linked against the internal
 * library; the calls below are interposed to inject failures.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "shm/shm_internal.h"

/* ---- fault injection: the test's definitions win at static link time -- */
static int fail_fallocate; /* posix_fallocate: ENOSPC (tmpfs full) */
static int fail_fchmod;	   /* fchmod: EIO */
static int fail_chmod;	   /* chmod: EIO */

int posix_fallocate(int fd, off_t off, off_t len)
{
	if (fail_fallocate) {
		return ENOSPC;
	}
	return fallocate(fd, 0, off, len) < 0 ? errno : 0;
}

int fchmod(int fd, mode_t mode)
{
	if (fail_fchmod) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fchmod, fd, mode);
}

int chmod(const char *path, mode_t mode)
{
	if (fail_chmod) {
		errno = EIO;
		return -1;
	}
	return fchmodat(AT_FDCWD, path, mode, 0);
}

#define CTL_SIZE 24

static char path[128];
static char dirpath[128];

static void setup(void)
{
	snprintf(path, sizeof(path), "%s/qb-check-shm-ipc-%d-control", SHM_DIR, (int)getpid());
	(void)unlink(path);
	dirpath[0] = '\0';
	fail_fallocate = fail_fchmod = fail_chmod = 0;
}

static void teardown(void)
{
	(void)unlink(path);
	if (dirpath[0]) {
		(void)rmdir(dirpath);
	}
}

static int exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Count the qb-<name>-* entries of SHM_DIR for the directory tests. */
static int count_dirs(const char *name)
{
	char pattern[128];
	int n = 0;
	FILE *f;
	char cmd[256];
	char line[256];

	snprintf(pattern, sizeof(pattern), "qb-%s-", name);
	snprintf(cmd, sizeof(cmd), "ls -a %s", SHM_DIR);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, pattern, strlen(pattern)) == 0) {
			n++;
		}
	}
	pclose(f);
	return n;
}

START_TEST(test_control_create_map_remove)
{
	struct shm_file_id id;
	struct stat st;
	void *srv = NULL, *cli = NULL;

	ck_assert_int_eq(shm_control_create(path, CTL_SIZE, getuid(), getgid(), 0640, &id, &srv),
			 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(st.st_size, CTL_SIZE);
	ck_assert(st.st_ino == id.ino && st.st_dev == id.dev);
	ck_assert_int_eq(shm_control_map(path, CTL_SIZE, &cli), 0);
	memcpy(srv, "ping", 4);
	ck_assert_int_eq(memcmp(cli, "ping", 4), 0);
	munmap(srv, CTL_SIZE);
	munmap(cli, CTL_SIZE);
	/* the name is taken: -EEXIST, and the file stays as it is */
	ck_assert_int_eq(shm_control_create(path, CTL_SIZE, getuid(), getgid(), 0600, &id, &srv),
			 -EEXIST);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(shm_unlink_owned(path, &id), 0);
	ck_assert(!exists(path));
}
END_TEST

START_TEST(test_control_create_full_leaves_nothing)
{
	struct shm_file_id id;
	void *p = NULL;

	fail_fallocate = 1;
	ck_assert_int_eq(shm_control_create(path, CTL_SIZE, getuid(), getgid(), 0600, &id, &p),
			 -ENOSPC);
	ck_assert(!exists(path));
}
END_TEST

START_TEST(test_control_create_chmod_leaves_nothing)
{
	struct shm_file_id id;
	void *p = NULL;

	fail_fchmod = 1;
	ck_assert_int_eq(shm_control_create(path, CTL_SIZE, getuid(), getgid(), 0600, &id, &p),
			 -EIO);
	ck_assert(!exists(path));
}
END_TEST

START_TEST(test_control_create_map_fail_leaves_nothing)
{
	struct shm_file_id id;
	void *p = NULL;

	/* a zero-length mapping is refused after the file exists */
	ck_assert_int_eq(shm_control_create(path, 0, getuid(), getgid(), 0600, &id, &p), -EINVAL);
	ck_assert(!exists(path));
}
END_TEST

START_TEST(test_control_map_rules)
{
	char target[160];
	struct stat st;
	void *p = NULL;
	int fd;

	/* a short file is grown, never cut */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	ck_assert_int_eq(shm_control_map(path, CTL_SIZE, &p), 0);
	ck_assert_int_eq(memcmp(p, "abc", 3), 0);
	munmap(p, CTL_SIZE);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, CTL_SIZE);
	/* a symlink is not followed */
	snprintf(target, sizeof(target), "%s.target", path);
	ck_assert_int_eq(rename(path, target), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(shm_control_map(path, CTL_SIZE, &p), -ELOOP);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(target), 0);
	/* not a regular file */
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	fd = open(path, O_RDWR | O_NONBLOCK); /* keep open() from blocking */
	ck_assert_int_eq(shm_control_map(path, CTL_SIZE, &p), -EINVAL);
	close(fd);
}
END_TEST

START_TEST(test_dir_create_chown_remove)
{
	char name[32];
	char ctl[160];
	struct shm_file_id id, other;
	struct stat st;
	void *p = NULL;

	snprintf(name, sizeof(name), "chk%d", (int)getpid());
	ck_assert_int_eq(shm_dir_create(dirpath, sizeof(dirpath), name, 0770, &id), 0);
	ck_assert(shm_path_is_qb(dirpath));
	ck_assert_int_eq(lstat(dirpath, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0770);
	ck_assert_int_eq(shm_dir_chown_owned(dirpath, &id, getuid(), getgid()), 0);
	other = id;
	other.ino++;
	ck_assert_int_eq(shm_dir_chown_owned(dirpath, &other, getuid(), getgid()), -EBUSY);
	/* the client's removal: the control file, then the directory */
	snprintf(ctl, sizeof(ctl), "%s/qb-control", dirpath);
	ck_assert_int_eq(shm_control_create(ctl, CTL_SIZE, getuid(), getgid(), 0600, &other, &p),
			 0);
	munmap(p, CTL_SIZE);
	shm_control_remove(ctl);
	ck_assert(!exists(ctl));
	ck_assert(!exists(dirpath));
	dirpath[0] = '\0';
}
END_TEST

START_TEST(test_dir_create_fail_leaves_nothing)
{
	char name[32];
	struct shm_file_id id;
	char big[300];

	snprintf(name, sizeof(name), "chkf%d", (int)getpid());
	fail_chmod = 1;
	ck_assert_int_eq(shm_dir_create(dirpath, sizeof(dirpath), name, 0770, &id), -EIO);
	dirpath[0] = '\0';
	ck_assert_int_eq(count_dirs(name), 0);
	fail_chmod = 0;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(shm_dir_create(dirpath, sizeof(dirpath), big, 0770, &id), -ENAMETOOLONG);
	dirpath[0] = '\0';
	ck_assert(!shm_path_is_qb("/tmp/qb-x"));
}
END_TEST

static void add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("shm_ipc");
	SRunner *sr;
	int failed;

	add(s, "control_create_map_remove", test_control_create_map_remove);
	add(s, "control_create_full_leaves_nothing", test_control_create_full_leaves_nothing);
	add(s, "control_create_chmod_leaves_nothing", test_control_create_chmod_leaves_nothing);
	add(s, "control_create_map_fail_leaves_nothing",
	    test_control_create_map_fail_leaves_nothing);
	add(s, "control_map_rules", test_control_map_rules);
	add(s, "dir_create_chown_remove", test_dir_create_chown_remove);
	add(s, "dir_create_fail_leaves_nothing", test_dir_create_fail_leaves_nothing);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
