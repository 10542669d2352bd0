/*
 * Ring buffer (qbrb.h) and shared-memory file rules (lib/shm).
 * Linked against the internal library to reach rb_open_unique.
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include "format_sizes.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <qb/qbrb.h>
#include "rb/rb_internal.h"
#include "shm/shm_internal.h"
#include "util/util_internal.h"

/* ---- fault injection for the tmpfs-full case ----------------------- */
/* Same trick: posix_fallocate fails with ENOSPC after `fallocate_ok` more
 * successful calls when armed, and reports EINTR `fallocate_eintr` times. */
static int fallocate_armed;
static int fallocate_ok;
static int fallocate_eintr;

int posix_fallocate(int fd, off_t off, off_t len)
{
	if (fallocate_eintr > 0) {
		fallocate_eintr--;
		return EINTR;
	}
	if (fallocate_armed) {
		if (fallocate_ok == 0) {
			return ENOSPC;
		}
		fallocate_ok--;
	}
	return fallocate(fd, 0, off, len) < 0 ? errno : 0;
}

/* ---- scripted randomness: lets a test force nonce collisions ---------- */
/* The test executable's getrandom() takes precedence over libc's for the
 * statically linked library code. */
static int scripted_left;
static uint8_t scripted_byte;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	static unsigned long ctr;
	uint8_t *p = buf;
	size_t i;

	if (scripted_left > 0) {
		scripted_left--;
		memset(buf, scripted_byte, len);
		return (ssize_t)len;
	}
	/* good enough for unique names within the test */
	for (i = 0; i < len; i++) {
		ctr = ctr * 6364136223846793005UL + 1442695040888963407UL +
			(unsigned long)getpid() + (unsigned long)time(NULL);
		p[i] = (uint8_t)(ctr >> 56);
	}
	return (ssize_t)len;
}

static char name[64];

static void make_name(void)
{
	static int seq;

	snprintf(name, sizeof(name), "ckrb-%d-%d", (int)getpid(), seq++);
}

static int exists(const char *fmt, const char *n)
{
	char p[2 * PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), fmt, n);
	return lstat(p, &st) == 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		return -1;
	}
	return st.st_size;
}

static int glob_count(const char *pattern)
{
	glob_t g;
	int n;

	if (glob(pattern, 0, NULL, &g) != 0) {
		return 0;
	}
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

/* ------------------------------------------------------------------ */

START_TEST(test_open_layout)
{
	char path[PATH_MAX];
	uint8_t buf[RB_HDR_FIXED_SIZE + 12];
	qb_ringbuffer_t *rb;
	qb_ringbuffer_t *peer;
	uint32_t w;
	int fd;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_PROCESS, 4);
	ck_assert_ptr_nonnull(rb);
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-header", name);
	ck_assert_str_eq(qb_rb_name_get(rb), path);
	ck_assert_int_eq(file_size(path), RB_HDR_FIXED_SIZE + 4);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), RB_HDR_FIXED_SIZE + 4);
	close(fd);
	memcpy(&w, buf + RB_HDR_WORD_SIZE_OFF, 4);
	ck_assert_uint_eq(w, RB_DATA_SIZE(100) / 4);
	ck_assert_str_eq((char *)buf + RB_HDR_PATH_OFF, path);
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-data", name);
	ck_assert_str_eq((char *)buf + RB_HDR_DATA_PATH_OFF, path);
	memcpy(&w, buf + RB_HDR_REF_COUNT_OFF, 4);
	ck_assert_uint_eq(w, 1);
	memcpy(&w, buf + RB_HDR_SEM_OFF + GLIBC_SEM_PRIVATE_OFF, 4);
	ck_assert_uint_eq(w, 0x80); /* process-shared glibc semaphore */
	ck_assert_int_eq(file_size(path), RB_DATA_SIZE(100));
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, 4), 4);
	close(fd);
	memcpy(&w, buf, 4);
	ck_assert_uint_eq(w, RB_DATA_FRESH_WORD);

	/* opener: ref counting, shared user data, no unlink on its close */
	peer = qb_rb_open(name, 100, QB_RB_FLAG_SHARED_PROCESS, 4);
	ck_assert_ptr_nonnull(peer);
	ck_assert_int_eq(qb_rb_refcount_get(rb), 2);
	*(uint32_t *)qb_rb_shared_user_data_get(rb) = 0xfeedbeef;
	ck_assert_uint_eq(*(uint32_t *)qb_rb_shared_user_data_get(peer), 0xfeedbeef);
	qb_rb_close(peer);
	ck_assert_int_eq(qb_rb_refcount_get(rb), 1);
	fd = open(qb_rb_name_get(rb), O_RDONLY);
	ck_assert_int_eq(pread(fd, &w, 4, RB_HDR_USER_OFF), 4);
	close(fd);
	ck_assert_uint_eq(w, 0xfeedbeef);
	ck_assert(exists("/dev/shm/qb-%s-header", name));
	qb_rb_close(rb);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	ck_assert(!exists("/dev/shm/qb-%s-data", name));

	/* sizes round up to pages with room for the chunk margin */
	rb = qb_rb_open(name, 4096, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(qb_rb_space_free(rb), 8192);
	qb_rb_close(rb);
	rb = qb_rb_open(name, 0, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(qb_rb_space_free(rb), 4096);
	qb_rb_close(rb);
}
END_TEST

START_TEST(test_open_errors)
{
	qb_ringbuffer_t *rb;

	make_name();
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 0));
	ck_assert_int_eq(errno, ENOENT);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open("bad-XXXXXX", 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(NULL, 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, (size_t)-1, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));

	/* the opener asks for more user data than the creator made */
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 64));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(qb_rb_refcount_get(rb), 1);
	qb_rb_close(rb);

	/* NULL handles */
	qb_rb_close(NULL);
	ck_assert_ptr_null(qb_rb_name_get(NULL));
	ck_assert_ptr_null(qb_rb_shared_user_data_get(NULL));
	ck_assert_int_eq(qb_rb_chunk_write(NULL, "x", 1), -EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_rb_chunk_alloc(NULL, 1));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(qb_rb_chunk_commit(NULL, 1), -EINVAL);
	ck_assert_int_eq(qb_rb_chunk_peek(NULL, NULL, 0), -EINVAL);
	qb_rb_chunk_reclaim(NULL);
	ck_assert_int_eq(qb_rb_chunk_read(NULL, NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(qb_rb_refcount_get(NULL), -EINVAL);
	ck_assert_int_eq(qb_rb_space_free(NULL), -EINVAL);
	ck_assert_int_eq(qb_rb_space_used(NULL), -EINVAL);
	ck_assert_int_eq(qb_rb_chunks_used(NULL), -EINVAL);
	ck_assert_int_eq(qb_rb_write_to_file(NULL, 1), -EINVAL);
	ck_assert_int_eq(qb_rb_chown(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(qb_rb_chmod(NULL, 0600), -EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_rb_create_from_file(-1, 0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_chunks_basic)
{
	char buf[200];
	char big[5000];
	void *p;
	qb_ringbuffer_t *rb;
	int i;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_THREAD, 0);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(qb_rb_space_free(rb), 4096);
	ck_assert_int_eq(qb_rb_space_used(rb), 0);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 0);
	ck_assert_int_eq(qb_rb_chunk_write(rb, "hello", 5), 5);
	ck_assert_int_eq(qb_rb_chunk_write(rb, "12345678", 8), 8);
	ck_assert_int_eq(qb_rb_chunk_write(rb, "", 0), 0);
	ck_assert_int_eq(qb_rb_space_used(rb), 40);
	ck_assert_int_eq(qb_rb_space_free(rb), 4052);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 3);

	/* too small a buffer: -ENOBUFS and the chunk stays */
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, 4, 0), -ENOBUFS);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 3);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), 8);
	ck_assert(memcmp(p, "12345678", 8) == 0);
	qb_rb_chunk_reclaim(rb);
	/* a zero-length chunk reads as 0, like a timeout of peek */
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(qb_rb_space_used(rb), 0);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), -ETIMEDOUT);
	ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), 0);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 20), -ETIMEDOUT);

	/* fill: 37 chunks of 100 bytes fit into 1024 words */
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 37; i++) {
		ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 100), 100);
	}
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 100), -EAGAIN);
	errno = 0;
	ck_assert_ptr_null(qb_rb_chunk_alloc(rb, 100));
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 37);
	for (i = 0; i < 37; i++) {
		ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 100);
	}
	/* larger than the ring */
	ck_assert_int_eq(qb_rb_chunk_write(rb, big, sizeof(big)), -EAGAIN);
	ck_assert_int_eq(qb_rb_chunk_write(rb, NULL, 3), -EINVAL);
	/* alloc + commit with a shorter final length */
	p = qb_rb_chunk_alloc(rb, 100);
	ck_assert_ptr_nonnull(p);
	/* allocated but not committed: nothing was posted */
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), -ETIMEDOUT);
	memcpy(p, "abc", 3);
	ck_assert_int_eq(qb_rb_chunk_commit(rb, 3), 0);
	ck_assert_int_eq(qb_rb_chunk_read(rb, NULL, 100, 0), -EINVAL);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 3);
	ck_assert(memcmp(buf, "abc", 3) == 0);
	ck_assert_int_eq(qb_rb_chunk_peek(rb, NULL, 0), -EINVAL);
	qb_rb_close(rb);
}
END_TEST

START_TEST(test_wrap_around)
{
	uint8_t in[300];
	uint8_t out[300];
	qb_ringbuffer_t *rb;
	int i;
	int j;

	make_name();
	rb = qb_rb_open(name, 256, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	/* lengths not multiple of 4 walk the chunk start around the ring */
	for (i = 0; i < 2000; i++) {
		size_t len = (size_t)(i * 7) % 257;

		for (j = 0; j < (int)len; j++) {
			in[j] = (uint8_t)(i + j);
		}
		ck_assert_int_eq(qb_rb_chunk_write(rb, in, len), (ssize_t)len);
		if (i % 3 == 2 && qb_rb_space_used(rb) < 2000) {
			continue; /* keep a few in flight */
		}
		do {
			ck_assert_int_ge(qb_rb_chunk_read(rb, out, sizeof(out), 0), 0);
		} while (qb_rb_space_used(rb) > 2000);
	}
	while (qb_rb_chunk_read(rb, out, sizeof(out), 0) >= 0) {
	}
	ck_assert_int_eq(qb_rb_space_used(rb), 0);
	qb_rb_close(rb);
}
END_TEST

START_TEST(test_overwrite)
{
	char buf[4096];
	uint32_t v;
	qb_ringbuffer_t *rb;
	ssize_t n;
	int i;
	int expect;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE, 0);
	ck_assert_ptr_nonnull(rb);
	for (i = 0; i < 100; i++) {
		memset(buf, 0, sizeof(buf));
		v = (uint32_t)i;
		memcpy(buf, &v, 4);
		ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 100), 100);
	}
	/* chunks_used counts what is in the ring (libqb over-counts here) */
	ck_assert_int_eq(qb_rb_chunks_used(rb), 37);
	expect = 63;
	while ((n = qb_rb_chunk_read(rb, buf, sizeof(buf), 0)) > 0) {
		memcpy(&v, buf, 4);
		ck_assert_uint_eq(v, (uint32_t)expect);
		expect++;
	}
	ck_assert_int_eq(expect, 100);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 0);
	/* and it keeps working once drained (libqb: -EINVAL here) */
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 4000), 4000);
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 100), 100);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 100);
	/* bigger than the ring: fails without dropping anything */
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 10), 10);
	ck_assert_int_eq(qb_rb_chunk_write(rb, NULL, 5000), -EINVAL);
	errno = 0;
	ck_assert_ptr_null(qb_rb_chunk_alloc(rb, 5000));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 1);
	qb_rb_close(rb);

	/* a reader holding every notification still hears of a new chunk
	 * that replaced a dropped one */
	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 1300), 1300);
	}
	for (i = 0; i < 3; i++) {
		void *p;

		ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), 1300);
	}
	ck_assert_int_eq(qb_rb_chunks_used(rb), 0);
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 1300), 1300);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 1);
	qb_rb_close(rb);
}
END_TEST

/*
 * The shape of the phantom-chunk report: a 10-byte overwrite ring after
 * 2000 writes holds the newest 204 chunks (as libqb 2.0); once they are
 * read the ring is empty, and a peek says so (0, data pointer untouched,
 * as on any drained ring) rather than handing out a chunk. libqb 2.0's
 * peek fails with -EBADMSG here only because its semaphore still counts
 * the 1796 overwritten chunks.
 */
START_TEST(test_overwrite_drained_peek)
{
	qb_ringbuffer_t *rb;
	uint32_t v, i;
	char buf[10];
	void *p;

	make_name();
	rb = qb_rb_open(name, 10, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE, 0);
	ck_assert_ptr_nonnull(rb);
	for (i = 0; i < 2000; i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &i, 4);
		ck_assert_int_eq(qb_rb_chunk_write(rb, buf, 10), 10);
	}
	ck_assert_int_eq(qb_rb_chunks_used(rb), 204);
	for (i = 2000 - 204; i < 2000; i++) {
		p = NULL;
		ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), 10);
		ck_assert_ptr_nonnull(p);
		memcpy(&v, p, 4);
		ck_assert_uint_eq(v, i);
		qb_rb_chunk_reclaim(rb);
	}
	for (i = 0; i < 3; i++) {
		p = NULL;
		ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), 0);
		ck_assert_ptr_null(p);
		qb_rb_chunk_reclaim(rb); /* nothing to reclaim */
		ck_assert_int_eq(qb_rb_chunks_used(rb), 0);
		ck_assert_int_eq(qb_rb_space_used(rb), 0);
		ck_assert_int_eq(qb_rb_space_free(rb), 4096);
	}
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), -ETIMEDOUT);
	qb_rb_close(rb);
}
END_TEST

/* A ring that holds one chunk keeps the newest (libqb 2.0: the second
 * write fails with -EINVAL and the ring then reads as empty). */
START_TEST(test_overwrite_one_chunk_ring)
{
	static char buf[3000];
	qb_ringbuffer_t *rb;
	void *p = NULL;

	make_name();
	rb = qb_rb_open(name, sizeof(buf), QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE, 0);
	ck_assert_ptr_nonnull(rb);
	memset(buf, 'a', sizeof(buf));
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, sizeof(buf)), sizeof(buf));
	memset(buf, 'b', sizeof(buf));
	ck_assert_int_eq(qb_rb_chunk_write(rb, buf, sizeof(buf)), sizeof(buf));
	ck_assert_int_eq(qb_rb_chunks_used(rb), 1);
	ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), sizeof(buf));
	ck_assert_int_eq(memcmp(p, buf, sizeof(buf)), 0);
	qb_rb_chunk_reclaim(rb);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 0);
	qb_rb_close(rb);
}
END_TEST

START_TEST(test_no_semaphore)
{
	char buf[16];
	void *p;
	qb_ringbuffer_t *rb;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_NO_SEMAPHORE, 0);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(qb_rb_chunks_used(rb), -ENOTSUP);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), -ETIMEDOUT);
	ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), -EBADMSG);
	ck_assert_int_eq(qb_rb_chunk_write(rb, "abcd", 4), 4);
	ck_assert_int_eq(qb_rb_chunk_peek(rb, &p, 0), 4);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 4);
	ck_assert_int_eq(qb_rb_space_free(rb), 4096);
	qb_rb_close(rb);
}
END_TEST

static void *thread_writer(void *arg)
{
	qb_ringbuffer_t *rb = arg;
	uint32_t i;

	for (i = 0; i < 2000; i++) {
		while (qb_rb_chunk_write(rb, &i, sizeof(i)) == -EAGAIN) {
			usleep(100);
		}
	}
	return NULL;
}

START_TEST(test_threads)
{
	pthread_t th;
	uint32_t i;
	uint32_t v;
	qb_ringbuffer_t *rb;
	struct timespec t0;
	struct timespec t1;

	make_name();
	rb = qb_rb_open(name, 64, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_THREAD, 0);
	ck_assert_ptr_nonnull(rb);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(qb_rb_chunk_read(rb, &v, sizeof(v), 100), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 90);
	pthread_create(&th, NULL, thread_writer, rb);
	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(qb_rb_chunk_read(rb, &v, sizeof(v), -1), 4);
		ck_assert_uint_eq(v, i);
	}
	pthread_join(th, NULL);
	qb_rb_close(rb);
}
END_TEST

START_TEST(test_processes)
{
	static qb_ringbuffer_t *rb; /* still reachable in forked children (valgrind) */
	qb_ringbuffer_t *peer;
	uint32_t i;
	uint32_t v;
	pid_t pid;
	int st;

	make_name();
	rb = qb_rb_open(name, 256, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_PROCESS, 0);
	ck_assert_ptr_nonnull(rb);
	pid = fork();
	if (pid == 0) {
		peer = qb_rb_open(name, 256, QB_RB_FLAG_SHARED_PROCESS, 0);
		if (peer == NULL) {
			_exit(2);
		}
		for (i = 0; i < 5000; i++) {
			while (qb_rb_chunk_write(peer, &i, sizeof(i)) == -EAGAIN) {
				usleep(50);
			}
		}
		qb_rb_close(peer);
		_exit(0);
	}
	for (i = 0; i < 5000; i++) {
		ck_assert_int_eq(qb_rb_chunk_read(rb, &v, sizeof(v), 5000), 4);
		ck_assert_uint_eq(v, i);
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(qb_rb_refcount_get(rb), 1);

	/* a forked child closing an inherited creator handle keeps the files */
	pid = fork();
	if (pid == 0) {
		qb_rb_close(rb);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ck_assert(exists("/dev/shm/qb-%s-header", name));
	ck_assert(exists("/dev/shm/qb-%s-data", name));
	qb_rb_close(rb);
	ck_assert(!exists("/dev/shm/qb-%s-data", name));
}
END_TEST

static qb_ringbuffer_t *reload(qb_ringbuffer_t *rb, const void *extra, size_t extra_len)
{
	qb_ringbuffer_t *copy;
	FILE *f = tmpfile();
	int fd = fileno(f);
	ssize_t n = qb_rb_write_to_file(rb, fd);

	ck_assert_int_gt(n, 0);
	if (extra != NULL) {
		ck_assert_int_eq(write(fd, extra, extra_len), (ssize_t)extra_len);
	}
	lseek(fd, 0, SEEK_SET);
	copy = qb_rb_create_from_file(fd, 0);
	fclose(f);
	return copy;
}

static qb_ringbuffer_t *load_bytes(const void *b, size_t len)
{
	qb_ringbuffer_t *copy;
	FILE *f = tmpfile();
	int fd = fileno(f);

	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	copy = qb_rb_create_from_file(fd, 0);
	fclose(f);
	return copy;
}

START_TEST(test_dump)
{
	uint32_t dump[RB_DUMP_SIZE(100) / 4];
	char buf[256];
	qb_ringbuffer_t *rb;
	qb_ringbuffer_t *copy;
	FILE *f;
	int pfd[2];
	int i;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE, 0);
	ck_assert_ptr_nonnull(rb);
	for (i = 0; i < 50; i++) {
		snprintf(buf, sizeof(buf), "message %d", i);
		qb_rb_chunk_write(rb, buf, strlen(buf) + 1);
	}
	f = tmpfile();
	ck_assert_int_eq(qb_rb_write_to_file(rb, fileno(f)), RB_DUMP_SIZE(100));
	rewind(f);
	ck_assert_int_eq(fread(dump, 1, sizeof(dump), f), sizeof(dump));
	fclose(f);
	ck_assert_uint_eq(dump[0], RB_DATA_SIZE(100) / 4);
	ck_assert_uint_eq(dump[3], 1);
	ck_assert_uint_eq(dump[4], dump[0] + dump[1] + dump[2] + 1);

	copy = reload(rb, NULL, 0);
	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(qb_rb_space_used(copy), qb_rb_space_used(rb));
	ck_assert_int_eq(qb_rb_chunks_used(copy), -ENOTSUP);
	i = 0;
	while (qb_rb_chunk_read(copy, buf, sizeof(buf), 0) > 0) {
		i++;
	}
	ck_assert_int_gt(i, 10);
	/* the copy's files are private and already gone */
	ck_assert_int_eq(access(qb_rb_name_get(copy), F_OK), -1);
	ck_assert(strstr(qb_rb_name_get(copy), "/dev/shm/qb-create_from_file-") != NULL);
	qb_rb_close(copy);

	/* corrupt inputs are rejected */
	ck_assert_ptr_null(load_bytes(dump, 6));
	ck_assert_ptr_null(load_bytes(dump, RB_DUMP_HEADER_SIZE));
	ck_assert_ptr_null(load_bytes(dump, RB_DUMP_SIZE(100) - 1));
	dump[4]++;
	ck_assert_ptr_null(load_bytes(dump, sizeof(dump)));
	dump[4]--;
	dump[3] = 2;
	dump[4]++;
	ck_assert_ptr_null(load_bytes(dump, sizeof(dump)));
	dump[3] = 1;
	dump[4]--;
	{
		uint32_t save = dump[1];

		dump[1] = 1024; /* write_pt out of range */
		dump[4] = dump[0] + dump[1] + dump[2] + 1;
		ck_assert_ptr_null(load_bytes(dump, sizeof(dump)));
		dump[1] = save;
		dump[0] = 1000; /* not a page multiple */
		dump[4] = dump[0] + dump[1] + dump[2] + 1;
		ck_assert_ptr_null(load_bytes(dump, sizeof(dump)));
		dump[0] = 1024;
		dump[4] = dump[0] + dump[1] + dump[2] + 1;
	}
	/* a broken chunk chain is cut at the first bad chunk */
	dump[5 + dump[2]] = 0xffffff;
	copy = load_bytes(dump, sizeof(dump));
	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(qb_rb_space_used(copy), 0);
	ck_assert_int_eq(qb_rb_chunk_read(copy, buf, sizeof(buf), 0), -ETIMEDOUT);
	qb_rb_close(copy);
	/* not a regular file */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(write(pfd[1], dump, 64), 64);
	errno = 0;
	ck_assert_ptr_null(qb_rb_create_from_file(pfd[0], 0));
	ck_assert_int_eq(errno, EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	/* write errors are reported */
	ck_assert_int_eq(qb_rb_write_to_file(rb, -1), -EBADF);
	qb_rb_close(rb);
}
END_TEST

/* dumps written by libqb 2.0.6 (tests/fuzz/corpus-rb) load and read back */
START_TEST(test_distro_dump)
{
	const char *srcdir = getenv("top_srcdir");
	char path[PATH_MAX];
	char buf[256];
	char want[256];
	qb_ringbuffer_t *rb;
	ssize_t n;
	int first = -1;
	int last = -1;
	int idx;
	int fd;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus-rb/dump-wrapped", srcdir ? srcdir : ".");
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	rb = qb_rb_create_from_file(fd, 0);
	close(fd);
	ck_assert_ptr_nonnull(rb);
	while ((n = qb_rb_chunk_read(rb, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		ck_assert_int_eq(sscanf(buf, "chunk %d ", &idx), 1);
		snprintf(want, sizeof(want), "chunk %d %.*s", idx, idx % 90,
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		ck_assert_str_eq(buf, want);
		if (first < 0) {
			first = idx;
		} else {
			ck_assert_int_eq(idx, last + 1);
		}
		last = idx;
	}
	ck_assert_int_eq(n, -ETIMEDOUT);
	ck_assert_int_eq(last, 199);
	ck_assert_int_gt(last - first, 20);
	qb_rb_close(rb);
}
END_TEST

START_TEST(test_chmod_chown)
{
	char path[PATH_MAX];
	struct stat st;
	static qb_ringbuffer_t *rb; /* still reachable in forked children (valgrind) */

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-data", name);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(qb_rb_chmod(rb, 0640), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(stat(qb_rb_name_get(rb), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(qb_rb_chown(rb, getuid(), getgid()), 0);
	if (getuid() == 0) {
		/* unprivileged: a refused chown is not an error, chmod of a
		 * file we do not own is */
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			qb_ringbuffer_t *mine;

			if (setgid(65534) < 0 || setuid(65534) < 0) {
				_exit(2);
			}
			make_name();
			mine = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
			if (mine == NULL) {
				_exit(3);
			}
			if (qb_rb_chown(mine, 0, 0) != 0) {
				_exit(4);
			}
			if (qb_rb_chmod(rb, 0600) != -EPERM) {
				_exit(5);
			}
			qb_rb_close(mine);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
	{
		/* a symlink in place of a ring file: its target is untouched */
		char target[] = "/tmp/ckrb-chmod-XXXXXX";
		int fd = mkstemp(target);

		ck_assert_int_ge(fd, 0);
		fchmod(fd, 0644);
		close(fd);
		unlink(path);
		ck_assert_int_eq(symlink(target, path), 0);
		ck_assert_int_lt(qb_rb_chmod(rb, 0666), 0);
		ck_assert_int_eq(stat(target, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0644);
		ck_assert_int_eq(qb_rb_chown(rb, 65534, 65534), 0);
		ck_assert_int_eq(stat(target, &st), 0);
		ck_assert_int_eq(st.st_uid, getuid());
		unlink(target);
	}
	unlink(path);
	ck_assert_int_eq(qb_rb_chmod(rb, 0600), -ENOENT);
	ck_assert_int_eq(qb_rb_chown(rb, getuid(), getgid()), -ENOENT);
	qb_rb_close(rb);
}
END_TEST

/* ---- shm rules -------------------------------------------------------- */

START_TEST(test_create_over_existing)
{
	char path[PATH_MAX];
	char data[PATH_MAX];
	char content[8] = "keepme!";
	char back[8];
	int fd;

	make_name();
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-header", name);
	snprintf(data, sizeof(data), "/dev/shm/qb-%s-data", name);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, sizeof(content)), sizeof(content));
	close(fd);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(file_size(path), sizeof(content));
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, back, sizeof(back)), sizeof(back));
	close(fd);
	ck_assert(memcmp(back, content, sizeof(back)) == 0);
	ck_assert(!exists("/tmp/%s-header", name)); /* no fallback */
	unlink(path);

	/* existing data file: header we made is removed, data untouched */
	fd = open(data, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, content, sizeof(content)), sizeof(content));
	close(fd);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	ck_assert_int_eq(file_size(data), sizeof(content));
	unlink(data);
}
END_TEST

START_TEST(test_symlinks)
{
	char path[PATH_MAX];
	char target[] = "/tmp/ckrb-target-XXXXXX";
	qb_ringbuffer_t *rb;
	int fd;

	make_name();
	fd = mkstemp(target);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "secret", 6), 6);
	close(fd);
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-header", name);
	ck_assert_int_eq(symlink(target, path), 0);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, EEXIST);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 0));
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(file_size(target), 6);
	unlink(path);

	/* a symlink put in place of the data file named by the header */
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-data", name);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 0));
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(file_size(target), 6);
	/* close removes our header but not the symlink it did not create */
	qb_rb_close(rb);
	ck_assert(exists("/dev/shm/qb-%s-data", name));
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	ck_assert_int_eq(file_size(target), 6);
	unlink(path);
	unlink(target);
}
END_TEST

START_TEST(test_opener_checks)
{
	char path[PATH_MAX];
	qb_ringbuffer_t *rb;
	int fd;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-data", name);
	/* wrong data size: rejected, never truncated back */
	ck_assert_int_eq(truncate(path, 8192), 0);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(file_size(path), 8192);
	ck_assert_int_eq(truncate(path, 4096), 0);
	/* a directory instead of the data file */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 0));
	rmdir(path);
	/* a replacement file is not removed by the creator's close */
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	qb_rb_close(rb);
	ck_assert(exists("/dev/shm/qb-%s-data", name));
	unlink(path);
	/* short header file */
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-header", name);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, 0, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(file_size(path), 3);
	unlink(path);
}
END_TEST

START_TEST(test_low_fds)
{
	pid_t pid;
	int st;

	make_name();
	pid = fork();
	if (pid == 0) {
		char path[PATH_MAX];
		qb_ringbuffer_t *rb;
		int fd;

		close(0);
		close(1);
		close(2);
		rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
		if (rb == NULL) {
			_exit(2);
		}
		/* the library keeps no fd: 0-2 are still free */
		if (fcntl(0, F_GETFD) != -1 || fcntl(1, F_GETFD) != -1 || fcntl(2, F_GETFD) != -1) {
			_exit(3);
		}
		fd = qb_sys_mmap_file_open(path, name, 4096, O_CREAT);
		if (fd < 3 || !(fcntl(fd, F_GETFD) & FD_CLOEXEC)) {
			_exit(4);
		}
		close(fd);
		unlink(path);
		fd = util_fd_hygiene(open("/dev/null", O_RDONLY));
		if (fd < 3 || !(fcntl(fd, F_GETFD) & FD_CLOEXEC) || fcntl(0, F_GETFD) != -1) {
			_exit(5);
		}
		qb_rb_close(rb);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(test_enospc)
{
	qb_ringbuffer_t *rb;

	make_name();
	/* data file does not fit (header does): header removed again */
	fallocate_armed = 1;
	fallocate_ok = 1;
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	ck_assert(!exists("/dev/shm/qb-%s-data", name));
	fallocate_ok = 0;
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	fallocate_armed = 0;
	/* EINTR is retried */
	fallocate_eintr = 3;
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE, 0);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(fallocate_eintr, 0);
	qb_rb_close(rb);
	/* a real ENOSPC: a header bigger than the whole tmpfs */
	errno = 0;
	ck_assert_ptr_null(qb_rb_open(name, 100, QB_RB_FLAG_CREATE, (size_t)1 << 45));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	ck_assert(!exists("/dev/shm/qb-%s-data", name));
}
END_TEST

START_TEST(test_unique)
{
	char pattern[PATH_MAX];
	char path[PATH_MAX];
	char prefix[64];
	qb_ringbuffer_t *rb;
	qb_ringbuffer_t *rb2;
	qb_ringbuffer_t *rb3;
	struct stat st;
	int fd;

	snprintf(prefix, sizeof(prefix), "ckrbu-%d", (int)getpid());
	ck_assert_int_eq(rb_open_unique(prefix, "blackbox", 100, QB_RB_FLAG_OVERWRITE, 8, &rb), 0);
	snprintf(pattern, sizeof(pattern),
		 "/dev/shm/qb-%s-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
		 "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
		 "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-blackbox-header",
		 prefix);
	ck_assert_int_eq(glob_count(pattern), 1);
	ck_assert_int_eq(stat(qb_rb_name_get(rb), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(qb_rb_chunk_write(rb, "abc", 3), 3);

	/* force the next nonce to collide with an existing file */
	snprintf(path, sizeof(path), "/dev/shm/qb-%s-%s-blackbox-header", prefix,
		 "abababababababab");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	scripted_byte = 0xab;
	scripted_left = 1;
	ck_assert_int_eq(rb_open_unique(prefix, "blackbox", 100, 0, 0, &rb2), 0);
	ck_assert_int_eq(scripted_left, 0);
	ck_assert_str_ne(qb_rb_name_get(rb2), path);
	ck_assert_int_eq(file_size(path), 0); /* untouched */
	/* every nonce collides: bounded retries, then -EEXIST */
	scripted_left = 1000;
	ck_assert_int_eq(rb_open_unique(prefix, "blackbox", 100, 0, 0, &rb3), -EEXIST);
	ck_assert_int_eq(scripted_left, 1000 - 32);
	scripted_left = 0;
	unlink(path);
	qb_rb_close(rb2);
	ck_assert_int_eq(rb_open_unique("a/b", "x", 100, 0, 0, &rb3), -EINVAL);

	/* tmpfs full: error and nothing left behind */
	fallocate_armed = 1;
	fallocate_ok = 1;
	ck_assert_int_eq(rb_open_unique(prefix, "big", 100, 0, 0, &rb2), -ENOSPC);
	fallocate_armed = 0;
	snprintf(pattern, sizeof(pattern), "/dev/shm/qb-%s-*-big-*", prefix);
	ck_assert_int_eq(glob_count(pattern), 0);

	/* the first ring still holds its chunk; closing it removes its files */
	{
		char buf[8];

		ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 3);
	}
	qb_rb_close(rb);
	snprintf(pattern, sizeof(pattern), "/dev/shm/qb-%s-*", prefix);
	ck_assert_int_eq(glob_count(pattern), 0);
}
END_TEST

START_TEST(test_force_close_and_internals)
{
	qb_ringbuffer_t *rb;
	qb_ringbuffer_t *peer;
	void *buf = NULL;
	char path[PATH_MAX];
	int fd;

	make_name();
	rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_PROCESS, 0);
	peer = qb_rb_open(name, 100, QB_RB_FLAG_SHARED_PROCESS, 0);
	ck_assert_ptr_nonnull(peer);
	rb_refcount_set(peer, 1);
	ck_assert_int_eq(qb_rb_refcount_get(rb), 1);
	ck_assert_uint_eq(rb_flags_get(peer), QB_RB_FLAG_SHARED_PROCESS);
	qb_rb_force_close(peer);
	ck_assert_int_eq(qb_rb_refcount_get(rb), -1);
	ck_assert(!exists("/dev/shm/qb-%s-header", name));
	ck_assert(!exists("/dev/shm/qb-%s-data", name));
	qb_rb_close(rb);
	qb_rb_force_close(NULL);

	/* unix helpers */
	fd = qb_sys_mmap_file_open(path, name, 8192, O_CREAT);
	ck_assert_int_ge(fd, 3);
	ck_assert_int_eq(qb_sys_circular_mmap(fd, &buf, 8192), 0);
	((char *)buf)[8192 + 5] = 'z';
	ck_assert_int_eq(((char *)buf)[5], 'z');
	ck_assert_int_eq(qb_sys_circular_mmap(fd, &buf, 100), -EINVAL);
	ck_assert_int_eq(qb_sys_fd_nonblock_cloexec_set(fd), 0);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	ck_assert_int_eq(qb_sys_mmap_file_open(path, name, 8192, O_CREAT), -EEXIST);
	fd = qb_sys_mmap_file_open(path, name, 8192, 0);
	ck_assert_int_ge(fd, 3);
	close(fd);
	qb_sys_unlink_or_truncate(path, 1);
	ck_assert_int_eq(file_size(path), -1);
	qb_sys_unlink_or_truncate_at(AT_FDCWD, path, 0);
	ck_assert_int_eq(qb_sys_fd_nonblock_cloexec_set(-1), -EBADF);
}
END_TEST

/*
 * An opener that cannot remove a dead creator's files (here /dev/shm is
 * read-only in its mount namespace) empties them through the descriptors
 * it holds, so their memory is given back anyway.
 */
START_TEST(test_force_close_cannot_unlink)
{
	char hdr[PATH_MAX], data[PATH_MAX], b;
	qb_ringbuffer_t *rb;
	int ready[2], status;
	pid_t server, client;

	make_name();
	snprintf(hdr, sizeof(hdr), "/dev/shm/qb-%s-header", name);
	snprintf(data, sizeof(data), "/dev/shm/qb-%s-data", name);
	ck_assert_int_eq(pipe(ready), 0);
	server = fork();
	if (server == 0) {
		rb = qb_rb_open(name, 100, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_PROCESS, 0);
		if (rb == NULL || qb_rb_chunk_write(rb, "x", 1) != 1 ||
		    write(ready[1], "", 1) != 1) {
			_exit(1);
		}
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &b, 1), 1);
	client = fork();
	if (client == 0) {
		rb = qb_rb_open(name, 100, QB_RB_FLAG_SHARED_PROCESS, 0);
		if (rb == NULL) {
			_exit(1);
		}
		/* the type is ignored with these flags ("none" for valgrind) */
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("/dev/shm", "/dev/shm", "none", MS_BIND, NULL) != 0 ||
		    mount("none", "/dev/shm", "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) !=
			    0) {
			_exit(77);
		}
		if (unlink(hdr) == 0 || errno != EROFS) {
			_exit(2);
		}
		qb_rb_force_close(rb);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(client, &status, 0), client);
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) != 77) {
		ck_assert_int_eq(WEXITSTATUS(status), 0);
		/* still there, but empty */
		ck_assert_int_eq(file_size(hdr), 0);
		ck_assert_int_eq(file_size(data), 0);
	} else {
		fprintf(stderr,
			"force close without unlink: no mount "
			"namespace here, not tested\n");
	}
	ck_assert_int_eq(unlink(hdr), 0);
	ck_assert_int_eq(unlink(data), 0);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

/* custom notifier of qb_rb_open_2 */
static int posts;
static int waits;
static int destroyed;
static int32_t n_post(void *i, size_t l)
{
	posts++;
	return 0;
}
static ssize_t n_qlen(void *i)
{
	return posts - waits;
}
static int32_t n_wait(void *i, int32_t ms)
{
	if (posts == waits)
		return -ETIMEDOUT;
	waits++;
	return 0;
}
static int32_t n_destroy(void *i)
{
	destroyed++;
	return 0;
}

START_TEST(test_open_2)
{
	struct qb_rb_notifier n = {n_post, n_qlen, NULL, n_wait, NULL, n_destroy, NULL};
	qb_ringbuffer_t *rb;
	char buf[8];

	make_name();
	rb = qb_rb_open_2(name, 100, QB_RB_FLAG_CREATE, 0, &n);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(qb_rb_chunk_write(rb, "ab", 2), 2);
	ck_assert_int_eq(posts, 1);
	ck_assert_int_eq(qb_rb_chunks_used(rb), 1);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 2);
	ck_assert_int_eq(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), -ETIMEDOUT);
	qb_rb_close(rb);
	ck_assert_int_eq(destroyed, 1);
}
END_TEST

/* Walks a view from read_pt to write_pt; returns the chunk count and
 * checks each payload is "view <i>". */
static int view_walk(const struct rb_view *v)
{
	char want[32], got[32];
	uint32_t p = v->read_pt, len;
	int n = 0;

	while (p != v->write_pt) {
		ck_assert_int_eq(rb_view_chunk(v, p, &len), 0);
		ck_assert_uint_lt(len, sizeof(got));
		ck_assert_int_eq(rb_view_read(v, p, 0, got, len), 0);
		snprintf(want, sizeof(want), "view %d", n);
		ck_assert_str_eq(got, want);
		p = rb_view_next(v, p, len);
		n++;
		ck_assert_int_le(n, (int)v->words);
	}
	return n;
}

/*
 * The read-only view other modules read rings through: the same chunks
 * over a live ring, its dump and a copy; corrupt bytes are refused with an
 * error, never read past.
 */
START_TEST(test_view)
{
	uint32_t dump[RB_DUMP_HDR_WORDS + 1024], ring[8], len;
	qb_ringbuffer_t *rb, *to, *small;
	struct rb_view v, d, c, w;
	char buf[40];
	FILE *f;
	int i, n;

	make_name();
	rb = qb_rb_open(name, 4000,
			QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE | QB_RB_FLAG_NO_SEMAPHORE, 0);
	ck_assert_ptr_nonnull(rb);
	/* move the pointers near the end so the chunks below wrap */
	for (i = 0; i < 90; i++) {
		ck_assert_int_gt(qb_rb_chunk_write(rb, "fill fill fill fill fill fill fill", 35),
				 0);
		ck_assert_int_gt(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 0);
	}
	for (i = 0; i < 20; i++) {
		snprintf(buf, sizeof(buf), "view %d", i);
		ck_assert_int_gt(qb_rb_chunk_write(rb, buf, strlen(buf) + 1), 0);
	}
	rb_view_of(rb, &v);
	ck_assert_uint_lt(v.write_pt, v.read_pt); /* the chunks wrap */
	ck_assert_int_eq(view_walk(&v), 20);

	/* a dump of it reads the same */
	f = tmpfile();
	ck_assert_int_eq(qb_rb_write_to_file(rb, fileno(f)), sizeof(dump));
	rewind(f);
	ck_assert_int_eq(fread(dump, 1, sizeof(dump), f), sizeof(dump));
	fclose(f);
	ck_assert_int_eq(rb_view_from_dump(&d, dump, sizeof(dump)), 0);
	ck_assert_int_eq(view_walk(&d), 20);
	ck_assert_int_eq(rb_view_from_dump(&d, dump, sizeof(dump) - 1), -EINVAL);
	ck_assert_int_eq(rb_view_from_dump(&d, dump, 19), -EINVAL);
	dump[4]++;
	ck_assert_int_eq(rb_view_from_dump(&d, dump, sizeof(dump)), -EINVAL);
	dump[4]--;

	/* a copy in a new ring of the same size, read by the ring itself */
	to = qb_rb_open("view-copy", 4000, QB_RB_FLAG_CREATE | QB_RB_FLAG_NO_SEMAPHORE, 0);
	ck_assert_ptr_nonnull(to);
	small = qb_rb_open("view-big", 5000, QB_RB_FLAG_CREATE | QB_RB_FLAG_NO_SEMAPHORE, 0);
	ck_assert_ptr_nonnull(small);
	ck_assert_int_eq(rb_view_copy(&v, small, &c), -EINVAL);
	ck_assert_int_eq(rb_view_copy(&v, to, &c), 0);
	rb_view_install(to, &c);
	for (n = 0; qb_rb_chunk_read(to, buf, sizeof(buf), 0) > 0; n++) {
		char want[32];

		snprintf(want, sizeof(want), "view %d", n);
		ck_assert_str_eq(buf, want);
	}
	ck_assert_int_eq(n, 20);
	qb_rb_close(small);
	qb_rb_close(to);
	qb_rb_close(rb);

	/* hand-made 8-word ring: a chunk whose payload wraps, then bad ones */
	memset(ring, 0, sizeof(ring));
	w.data = (const unsigned char *)ring;
	w.words = 8;
	w.read_pt = 5;
	w.write_pt = 1;
	ring[5] = 8;
	ring[6] = 0xA1A1A1A1u;
	memcpy(&ring[7], "abcd", 4);
	memcpy(&ring[0], "efgh", 4);
	ck_assert_int_eq(rb_view_chunk(&w, 5, &len), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(rb_view_read(&w, 5, 2, buf, 6), 0);
	ck_assert_int_eq(memcmp(buf, "cdefgh", 6), 0);
	ck_assert_uint_eq(rb_view_next(&w, 5, len), 1);
	ck_assert_int_eq(rb_view_read(&w, 5, 0, buf, 25), -EMSGSIZE);
	ck_assert_int_eq(rb_view_read(&w, 5, 30, buf, 1), -EMSGSIZE);
	ring[5] = 25; /* more than the 6 payload words an 8-word ring holds */
	ck_assert_int_eq(rb_view_chunk(&w, 5, &len), -EMSGSIZE);
	ring[6] = 0xD0D0D0D0u;
	ck_assert_int_eq(rb_view_chunk(&w, 5, &len), -ENOMSG);
	/* indexes from the bytes are reduced modulo the ring */
	ring[6] = 0xA1A1A1A1u;
	ring[5] = 8;
	ck_assert_int_eq(rb_view_chunk(&w, 5 + 8 * 1000, &len), 0);
}
END_TEST

/*
 * The header readers tools use instead of offsets: words and user area of
 * a real ring's -header file, by image and by fd, agree with the ring;
 * short images and files are refused; a forged image reads back as made.
 */
START_TEST(test_header_readers)
{
	unsigned char img[RB_HDR_SIZE + 16], user[16], got_user[32];
	qb_ringbuffer_t *rb;
	struct rb_view v;
	uint32_t w, words[3];
	char buf[40];
	FILE *f;
	ssize_t n;
	int fd, i;

	make_name();
	rb = qb_rb_open(name, 4000, QB_RB_FLAG_CREATE | QB_RB_FLAG_NO_SEMAPHORE, sizeof(user));
	ck_assert_ptr_nonnull(rb);
	for (i = 0; i < 5; i++) {
		ck_assert_int_gt(qb_rb_chunk_write(rb, "readers", 8), 0);
	}
	ck_assert_int_gt(qb_rb_chunk_read(rb, buf, sizeof(buf), 0), 0);
	memcpy(qb_rb_shared_user_data_get(rb), "0123456789abcdef", 16);
	rb_view_of(rb, &v);
	ck_assert_uint_ne(v.read_pt, 0);
	fd = open(qb_rb_name_get(rb), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = pread(fd, img, sizeof(img), 0);
	ck_assert_int_eq(n, sizeof(img));
	ck_assert(rb_header_is_ring(img, sizeof(img)));
	ck_assert_int_eq(rb_header_word(img, sizeof(img), RB_HDR_WRITE_PT, &w), 0);
	ck_assert_uint_eq(w, v.write_pt);
	ck_assert_int_eq(rb_header_word(img, sizeof(img), RB_HDR_READ_PT, &w), 0);
	ck_assert_uint_eq(w, v.read_pt);
	ck_assert_int_eq(rb_header_word(img, 12, RB_HDR_WORDS, &w), 0);
	ck_assert_uint_eq(w, v.words);
	ck_assert_int_eq(rb_header_word(img, 11, RB_HDR_WORDS, &w), -EINVAL);
	ck_assert_int_eq(rb_header_word(img, sizeof(img), (enum rb_hdr_word)3, &w), -EINVAL);
	ck_assert_int_eq(rb_header_fd_word(fd, RB_HDR_WRITE_PT, &w), 0);
	ck_assert_uint_eq(w, v.write_pt);
	ck_assert_int_eq(rb_header_fd_word(fd, RB_HDR_READ_PT, &w), 0);
	ck_assert_uint_eq(w, v.read_pt);
	ck_assert_int_eq(rb_header_fd_word(fd, RB_HDR_WORDS, &w), 0);
	ck_assert_uint_eq(w, v.words);
	ck_assert_int_eq(rb_header_fd_user_word(fd, 4, &w), 0);
	ck_assert_int_eq(memcmp(&w, "4567", 4), 0);
	ck_assert_int_eq(rb_header_fd_user_read(fd, got_user, 16), 0);
	ck_assert_int_eq(memcmp(got_user, "0123456789abcdef", 16), 0);
	ck_assert_ptr_eq(rb_header_user(img, sizeof(img), 16), img + RB_HDR_USER_OFF);
	/* past the end of the file (the user area overlaps the header's last
	 * 8 bytes, so the file holds 24 from its start): an error, not a value */
	ck_assert_int_eq(rb_header_fd_user_read(fd, got_user, 24), 0);
	ck_assert_int_eq(rb_header_fd_user_read(fd, got_user, 25), -EIO);
	ck_assert_int_eq(rb_header_fd_user_word(fd, 21, &w), -EIO);
	close(fd);
	qb_rb_close(rb);

	/* a forged image: words as given, paths, user area; short ones refused */
	memset(user, 0x5a, sizeof(user));
	ck_assert_int_eq(rb_header_image_make(img, sizeof(img), 7, 99, 3, "/h", "/d", user, 16), 0);
	ck_assert(rb_header_is_ring(img, sizeof(img)));
	ck_assert_str_eq(rb_header_data_path(img, sizeof(img)), "/d");
	ck_assert_int_eq(rb_header_word(img, sizeof(img), RB_HDR_WORDS, &words[0]), 0);
	ck_assert_int_eq(rb_header_word(img, sizeof(img), RB_HDR_WRITE_PT, &words[1]), 0);
	ck_assert_int_eq(rb_header_word(img, sizeof(img), RB_HDR_READ_PT, &words[2]), 0);
	ck_assert_uint_eq(words[0], 7);
	ck_assert_uint_eq(words[1], 99);
	ck_assert_uint_eq(words[2], 3);
	ck_assert_int_eq(memcmp(img + RB_HDR_USER_OFF, user, 16), 0);
	ck_assert_int_eq(rb_view_from_header(&v, img, sizeof(img), NULL, buf, sizeof(buf)),
			 -EINVAL);
	ck_assert_int_eq(rb_header_image_make(img, sizeof(img) - 1, 7, 0, 0, "/h", "/d", user, 16),
			 -EINVAL);
	ck_assert_int_eq(rb_header_image_make(img, sizeof(img), 8, 1, 2, NULL, "/d", NULL, 0), 0);
	ck_assert(!rb_header_is_ring(img, sizeof(img)));
	ck_assert_int_eq(rb_view_from_header(&v, img, sizeof(img), NULL, buf, 32), 0);
	ck_assert_uint_eq(v.words, 8);
	ck_assert_uint_eq(v.write_pt, 1);
	ck_assert_uint_eq(v.read_pt, 2);

	/* a file that ends inside the words */
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(img, 1, 6, f), 6);
	fflush(f);
	ck_assert_int_eq(rb_header_fd_word(fileno(f), RB_HDR_WRITE_PT, &w), 0);
	ck_assert_uint_eq(w, 1);
	ck_assert_int_eq(rb_header_fd_word(fileno(f), RB_HDR_READ_PT, &w), -EIO);
	ck_assert_int_eq(rb_header_fd_word(-1, RB_HDR_READ_PT, &w), -EBADF);
	fclose(f);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_open_layout),
		CK_TEST(test_open_errors),
		CK_TEST(test_chunks_basic),
		CK_TEST(test_wrap_around),
		CK_TEST(test_overwrite),
		CK_TEST(test_overwrite_drained_peek),
		CK_TEST(test_overwrite_one_chunk_ring),
		CK_TEST(test_no_semaphore),
		CK_TEST(test_threads),
		CK_TEST(test_processes),
		CK_TEST(test_dump),
		CK_TEST(test_distro_dump),
		CK_TEST(test_chmod_chown),
		CK_TEST(test_create_over_existing),
		CK_TEST(test_symlinks),
		CK_TEST(test_opener_checks),
		CK_TEST(test_low_fds),
		CK_TEST(test_enospc),
		CK_TEST(test_unique),
		CK_TEST(test_force_close_and_internals),
		CK_TEST(test_force_close_cannot_unlink),
		CK_TEST(test_open_2),
		CK_TEST(test_view),
		CK_TEST(test_header_readers),
	};
	const struct ck_opts opts = {
		.timeout = 20,
	};

	return CK_MAIN("rb", &opts, tests);
}
