/*
 * rb_peer: one side of a two-process ring buffer exchange, built against
 * the distro headers so tests/unit/rb_cross.sh can run each side on either
 * library.
 *
 *   rb_peer create|open  write|read  NAME COUNT [overwrite]
 *
 * The creator makes the ring (SHARED_PROCESS, 4 bytes of user data) and
 * touches the file $RB_PEER_READY; then the shell starts the opener. The writer sends COUNT
 * chunks whose length and bytes derive from their index; the reader checks
 * every one. Lengths vary so chunks wrap around the small ring many times.
 *
 * overwrite: the writer uses OVERWRITE mode and writes everything before the
 * reader starts (user word := 1 when done); the reader must then see a
 * consecutive run of the newest chunks ending with index COUNT-1.
 * Exit 0 on success; messages on stderr.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <qb/qbrb.h>

#define RING_SIZE 2000
#define MAX_CHUNK 1500

static size_t chunk_len(uint32_t i)
{
	return 4 + (i * 37u) % (MAX_CHUNK - 4);
}

static void chunk_fill(uint8_t *buf, uint32_t i, size_t len)
{
	size_t k;

	memcpy(buf, &i, 4);
	for (k = 4; k < len; k++) {
		buf[k] = (uint8_t)(i * 7 + k);
	}
}

static int chunk_ok(const uint8_t *buf, size_t len, uint32_t *idx)
{
	uint8_t want[MAX_CHUNK];
	uint32_t i;

	if (len < 4) {
		return 0;
	}
	memcpy(&i, buf, 4);
	if (len != chunk_len(i)) {
		return 0;
	}
	chunk_fill(want, i, len);
	*idx = i;
	return memcmp(want, buf, len) == 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint32_t *user_word(qb_ringbuffer_t *rb)
{
	return qb_rb_shared_user_data_get(rb);
}

static int do_write(qb_ringbuffer_t *rb, uint32_t count, int overwrite)
{
	uint8_t buf[MAX_CHUNK];
	double deadline = now() + 20;
	uint32_t i;
	ssize_t rc;

	for (i = 0; i < count; i++) {
		size_t len = chunk_len(i);

		chunk_fill(buf, i, len);
		while ((rc = qb_rb_chunk_write(rb, buf, len)) == -EAGAIN && !overwrite &&
		       now() < deadline) {
			usleep(100);
		}
		if (rc != (ssize_t)len) {
			fprintf(stderr, "write %u: %zd\n", i, rc);
			return 1;
		}
	}
	*user_word(rb) = 1;
	return 0;
}

static int do_read(qb_ringbuffer_t *rb, uint32_t count, int overwrite)
{
	uint8_t buf[MAX_CHUNK];
	double deadline = now() + 20;
	uint32_t expect = 0;
	uint32_t idx;
	uint32_t got = 0;
	ssize_t n;

	if (overwrite) {
		while (*user_word(rb) != 1 && now() < deadline) {
			usleep(1000);
		}
	}
	while (now() < deadline) {
		n = qb_rb_chunk_read(rb, buf, sizeof(buf), 1000);
		if (n == -ETIMEDOUT) {
			continue;
		}
		if (n < 0) {
			fprintf(stderr, "read after %u chunks: %zd\n", got, n);
			return 1;
		}
		if (!chunk_ok(buf, (size_t)n, &idx)) {
			fprintf(stderr, "bad chunk (len %zd) after %u\n", n, got);
			return 1;
		}
		if (overwrite && got == 0) {
			expect = idx; /* the oldest survivor */
		}
		if (idx != expect) {
			fprintf(stderr, "got chunk %u, expected %u\n", idx, expect);
			return 1;
		}
		got++;
		expect++;
		if (idx == count - 1) {
			if (overwrite && got < 2) {
				fprintf(stderr, "overwrite kept only %u\n", got);
				return 1;
			}
			return 0;
		}
	}
	fprintf(stderr, "timeout after %u chunks\n", got);
	return 1;
}

/* The shell starts the opener once the creator has touched $RB_PEER_READY. */
static void signal_ready(void)
{
	const char *path = getenv("RB_PEER_READY");
	FILE *f;

	if (path != NULL && (f = fopen(path, "w")) != NULL) {
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	uint32_t flags = QB_RB_FLAG_SHARED_PROCESS;
	qb_ringbuffer_t *rb;
	double deadline;
	int creator;
	int writer;
	int overwrite;
	uint32_t count;
	int rc;

	if (argc < 5) {
		fprintf(stderr, "usage: rb_peer create|open write|read NAME COUNT [overwrite]\n");
		return 2;
	}
	creator = strcmp(argv[1], "create") == 0;
	writer = strcmp(argv[2], "write") == 0;
	count = (uint32_t)strtoul(argv[4], NULL, 10);
	overwrite = argc > 5 && strcmp(argv[5], "overwrite") == 0;
	if (overwrite && writer) {
		flags |= QB_RB_FLAG_OVERWRITE;
	}
	if (creator) {
		rb = qb_rb_open(argv[3], RING_SIZE, flags | QB_RB_FLAG_CREATE, 4);
		if (rb == NULL) {
			perror("create");
			return 1;
		}
		*user_word(rb) = 0;
		signal_ready();
		/* a writer waits for the reader to attach */
		deadline = now() + 10;
		while (writer && qb_rb_refcount_get(rb) < 2 && now() < deadline) {
			usleep(1000);
		}
		if (writer && qb_rb_refcount_get(rb) < 2) {
			fprintf(stderr, "peer never attached\n");
			qb_rb_close(rb);
			return 1;
		}
	} else {
		rb = qb_rb_open(argv[3], RING_SIZE, flags, 4);
		if (rb == NULL) {
			perror("open");
			return 1;
		}
	}
	rc = writer ? do_write(rb, count, overwrite) : do_read(rb, count, overwrite);
	if (creator && writer) {
		/* keep the files until the reader is done */
		deadline = now() + 20;
		while (qb_rb_refcount_get(rb) > 1 && now() < deadline) {
			usleep(1000);
		}
	}
	qb_rb_close(rb);
	return rc;
}
