/*
 * compat_rb: ring buffer behaviour that must be identical on the distro
 * libqb and on ours (run-compat.sh compares the output of both runs).
 * Prints return values, space accounting, shared pointers and a hash of
 * the data file bytes after fixed operation sequences, so any difference in
 * layout, chunk format or pointer arithmetic shows up.
 * Cases where libqb has a known bug we fix (overwrite over-count, stdout
 * prints of the dump functions) are avoided or silenced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <qb/qbrb.h>

#include "../unit/format_sizes.h"

static char name[64];
static char hdr_path[128];
static char data_path[128];

static uint32_t fnv_file(const char *path, off_t *size)
{
	uint8_t buf[4096];
	uint32_t h = 2166136261u;
	ssize_t n;
	ssize_t i;
	int fd = open(path, O_RDONLY);

	*size = 0;
	if (fd < 0) {
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			h = (h ^ buf[i]) * 16777619u;
		}
		*size += n;
	}
	close(fd);
	return h;
}

static uint32_t hdr_word(off_t off)
{
	uint32_t v = 0xffffffff;
	int fd = open(hdr_path, O_RDONLY);

	if (fd >= 0) {
		if (pread(fd, &v, 4, off) != 4) {
			v = 0xfffffffe;
		}
		close(fd);
	}
	return v;
}

static void show_files(const char *what)
{
	struct stat st;
	off_t dsize;
	uint32_t dh = fnv_file(data_path, &dsize);

	printf("%s: header %lld bytes, data %lld bytes hash %08x, w=%u r=%u words=%u ref=%d\n",
	       what, stat(hdr_path, &st) == 0 ? (long long)st.st_size : -1LL, (long long)dsize, dh,
	       hdr_word(0), hdr_word(4), hdr_word(RB_HDR_WORD_SIZE_OFF),
	       (int32_t)hdr_word(RB_HDR_REF_COUNT_OFF));
}

static qb_ringbuffer_t *open_ring(size_t size, uint32_t flags, size_t user)
{
	static int seq;
	qb_ringbuffer_t *rb;

	snprintf(name, sizeof(name), "compat-rb-%d-%d", (int)getpid(), seq++);
	snprintf(hdr_path, sizeof(hdr_path), "/dev/shm/qb-%s-header", name);
	snprintf(data_path, sizeof(data_path), "/dev/shm/qb-%s-data", name);
	rb = qb_rb_open(name, size, flags | QB_RB_FLAG_CREATE, user);
	if (rb == NULL) {
		printf("open failed: %d\n", errno);
		exit(1);
	}
	printf("open size %zu flags %#x user %zu: name ok %d\n", size, flags, user,
	       strcmp(qb_rb_name_get(rb), hdr_path) == 0);
	return rb;
}

static void basics(void)
{
	qb_ringbuffer_t *rb = open_ring(100, QB_RB_FLAG_SHARED_PROCESS, 4);
	qb_ringbuffer_t *peer;
	char buf[256];
	void *p;
	int i;

	show_files("fresh");
	printf("sem private word %#x\n", hdr_word(RB_HDR_SEM_OFF + GLIBC_SEM_PRIVATE_OFF));
	printf("write %zd\n", qb_rb_chunk_write(rb, "hello", 5));
	printf("write %zd\n", qb_rb_chunk_write(rb, "12345678", 8));
	printf("write %zd\n", qb_rb_chunk_write(rb, "", 0));
	printf("free %zd used %zd chunks %zd\n", qb_rb_space_free(rb), qb_rb_space_used(rb),
	       qb_rb_chunks_used(rb));
	printf("sem value word %u\n", hdr_word(RB_HDR_SEM_OFF));
	show_files("three chunks");
	peer = qb_rb_open(name, 100, QB_RB_FLAG_SHARED_PROCESS, 4);
	printf("peer %d ref %d\n", peer != NULL, qb_rb_refcount_get(rb));
	printf("read small %zd\n", qb_rb_chunk_read(peer, buf, 4, 0));
	printf("read %zd", qb_rb_chunk_read(peer, buf, sizeof(buf), 0));
	printf(" '%.5s'\n", buf);
	printf("peek %zd\n", qb_rb_chunk_peek(peer, &p, 0));
	qb_rb_chunk_reclaim(peer);
	printf("read empty chunk %zd\n", qb_rb_chunk_read(peer, buf, sizeof(buf), 0));
	printf("read none %zd\n", qb_rb_chunk_read(peer, buf, sizeof(buf), 0));
	printf("peek none %zd\n", qb_rb_chunk_peek(peer, &p, 0));
	show_files("drained");
	qb_rb_close(peer);
	printf("ref after peer close %d\n", qb_rb_refcount_get(rb));
	memset(buf, 'x', sizeof(buf));
	for (i = 0; qb_rb_chunk_write(rb, buf, 100) == 100; i++) {
	}
	printf("fit %d x 100 bytes, then %zd\n", i, qb_rb_chunk_write(rb, buf, 100));
	errno = 0;
	p = qb_rb_chunk_alloc(rb, 10);
	printf("alloc when full %d errno %d\n", p != NULL, errno);
	show_files("full");
	qb_rb_close(rb);
	printf("files after close %d %d\n", access(hdr_path, F_OK), access(data_path, F_OK));
}

static void wrap(void)
{
	qb_ringbuffer_t *rb = open_ring(300, 0, 0);
	uint8_t in[400];
	uint8_t out[400];
	uint32_t sum = 0;
	ssize_t n;
	int i;
	int k;

	for (i = 0; i < 3000; i++) {
		size_t len = (size_t)(i * 13) % 301;

		for (k = 0; k < (int)len; k++) {
			in[k] = (uint8_t)(i ^ k);
		}
		if (qb_rb_chunk_write(rb, in, len) != (ssize_t)len) {
			printf("write %d failed\n", i);
			break;
		}
		while (qb_rb_space_used(rb) > 2500) {
			n = qb_rb_chunk_read(rb, out, sizeof(out), 0);
			for (k = 0; k < n; k++) {
				sum = sum * 31 + out[k];
			}
		}
	}
	printf("wrap checksum %08x used %zd free %zd\n", sum, qb_rb_space_used(rb),
	       qb_rb_space_free(rb));
	show_files("wrapped");
	qb_rb_close(rb);
}

static void overwrite(void)
{
	qb_ringbuffer_t *rb = open_ring(100, QB_RB_FLAG_OVERWRITE, 0);
	char buf[128];
	uint32_t v;
	int i;

	for (i = 0; i < 100; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		v = (uint32_t)i;
		memcpy(buf, &v, 4);
		qb_rb_chunk_write(rb, buf, 100);
	}
	printf("overwrite free %zd used %zd\n", qb_rb_space_free(rb), qb_rb_space_used(rb));
	show_files("overwritten");
	for (i = 0; i < 37; i++) {
		if (qb_rb_chunk_read(rb, buf, sizeof(buf), 0) != 100) {
			printf("read %d failed\n", i);
			break;
		}
		memcpy(&v, buf, 4);
		if (i == 0 || i == 36) {
			printf("chunk %d is write %u\n", i, v);
		}
	}
	qb_rb_close(rb);
}

static void dump(void)
{
	qb_ringbuffer_t *rb = open_ring(100, 0, 0);
	qb_ringbuffer_t *copy;
	char path[] = "/tmp/compat-rb-dump-XXXXXX";
	char buf[64];
	int saved = dup(1);
	int devnull = open("/dev/null", O_WRONLY);
	off_t size;
	ssize_t written;
	uint32_t h;
	int fd;
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(buf, sizeof(buf), "message number %d", i);
		qb_rb_chunk_write(rb, buf, strlen(buf));
	}
	qb_rb_chunk_read(rb, buf, sizeof(buf), 0);
	fd = mkstemp(path);
	/* libqb prints a state block to stdout here: keep it out */
	fflush(stdout);
	dup2(devnull, 1);
	written = qb_rb_write_to_file(rb, fd);
	fflush(stdout);
	dup2(saved, 1);
	h = fnv_file(path, &size);
	printf("dump %zd bytes, file %lld hash %08x\n", written, (long long)size, h);
	lseek(fd, 0, SEEK_SET);
	fflush(stdout);
	dup2(devnull, 1);
	copy = qb_rb_create_from_file(fd, 0);
	fflush(stdout);
	dup2(saved, 1);
	printf("loaded %d used %zd chunks_used %zd\n", copy != NULL, qb_rb_space_used(copy),
	       qb_rb_chunks_used(copy));
	for (i = 0; copy != NULL && qb_rb_chunk_read(copy, buf, sizeof(buf), 0) > 0; i++) {
	}
	printf("loaded chunks %d, last '%.17s'\n", i, buf);
	qb_rb_close(copy);
	close(fd);
	unlink(path);
	qb_rb_close(rb);
	close(devnull);
	close(saved);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	basics();
	wrap();
	overwrite();
	dump();
	return 0;
}
