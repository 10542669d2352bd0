/*
 * libFuzzer harness: the overwrite-mode writer against the reader, in one
 * thread, checked step by step against a model of the ring.
 *
 * The input picks a ring size, then a sequence of writes (of any length,
 * tagged with a sequence number), reads, peeks with reclaims
 * and reads into short buffers. The model is the shared layout every
 * libqb peer computes (ringbuffer.md): free space from write_pt/read_pt
 * with the 12-byte margin, the step rule, oldest chunks reclaimed until the
 * new one fits. Every call must agree with it exactly: which chunk a read
 * returns (contents included), that an empty ring gives nothing (no
 * phantom chunk), chunks_used, space_free and space_used.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qbrb.h>

#define MAX_CHUNKS 65536

struct mchunk {
	uint32_t seq, len, pos;
};

static struct {
	uint32_t words, w, r;
	struct mchunk q[MAX_CHUNKS];
	uint32_t head, n; /* oldest at q[head] */
} m;

static uint32_t step(uint32_t p, uint32_t len)
{
	return (p + 2 + len / 4 + (len % 4 ? 1 : 0)) % m.words;
}

static uint32_t m_free(void)
{
	if (m.n == 0) {
		return m.words;
	}
	return m.w > m.r ? m.r - m.w + m.words - 1 : m.r - m.w - 1;
}

static uint32_t m_used(void)
{
	if (m.n == 0) {
		return 0;
	}
	return m.w > m.r ? m.w - m.r : m.w - m.r + m.words - 1;
}

static void m_drop(void)
{
	m.r = step(m.r, m.q[m.head].len);
	m.head = (m.head + 1) % MAX_CHUNKS;
	m.n--;
	if (m.n == 0 && m.r != m.w) {
		abort(); /* the model itself is wrong */
	}
}

/* 0 when the write fits the ring at all */
static int m_write(uint32_t seq, uint32_t len)
{
	if ((uint64_t)len + 12 > (uint64_t)m.words * 4 || m.n == MAX_CHUNKS) {
		return -1;
	}
	while ((uint64_t)m_free() * 4 < (uint64_t)len + 12) {
		m_drop();
	}
	m.q[(m.head + m.n) % MAX_CHUNKS] = (struct mchunk){seq, len, m.w};
	m.n++;
	m.w = step(m.w, len);
	return 0;
}

static void fill(uint8_t *p, uint32_t seq, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(seq * 31 + i);
	}
}

static void expect_oldest(const uint8_t *data, ssize_t len)
{
	static uint8_t want[65536];
	const struct mchunk *c = &m.q[m.head];

	if (m.n == 0 || len != (ssize_t)c->len) {
		fprintf(stderr, "read %zd bytes, model has %u chunks (oldest %u bytes)\n", len, m.n,
			m.n ? c->len : 0);
		abort();
	}
	fill(want, c->seq, c->len);
	if (memcmp(data, want, c->len) != 0) {
		fprintf(stderr, "chunk %u: wrong contents\n", c->seq);
		abort();
	}
}

static void check_counts(qb_ringbuffer_t *rb)
{
	if (qb_rb_chunks_used(rb) != (ssize_t)m.n ||
	    qb_rb_space_free(rb) != (ssize_t)m_free() * 4 ||
	    qb_rb_space_used(rb) != (ssize_t)m_used() * 4) {
		fprintf(stderr, "chunks %zd/%u free %zd/%u used %zd/%u\n", qb_rb_chunks_used(rb),
			m.n, qb_rb_space_free(rb), m_free() * 4, qb_rb_space_used(rb),
			m_used() * 4);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	char name[64];
	qb_ringbuffer_t *rb;
	uint32_t seq = 0, len;
	size_t i = 3;
	ssize_t n;
	void *p;

	if (size < 3) {
		return 0;
	}
	snprintf(name, sizeof(name), "fuzz-rbow-%d", (int)getpid());
	/* 1 .. 3 pages of data */
	rb = qb_rb_open(name, (size_t)(data[0] | data[1] << 8) % 12000 + 1,
			QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE | QB_RB_FLAG_SHARED_PROCESS, 0);
	if (rb == NULL) {
		abort();
	}
	memset(&m, 0, sizeof(m));
	m.words = (uint32_t)((qb_rb_space_free(rb)) / 4);
	check_counts(rb);
	while (i < size) {
		uint8_t op = data[i++];
		uint8_t arg = i < size ? data[i++] : 0;

		switch (op % 8) {
		case 0: /* write: small, word-sized or large */
		case 1:
		case 2:
			len = op % 8 == 0     ? arg % 16
				: op % 8 == 1 ? (uint32_t)arg * 4
					      : (uint32_t)arg * 53 + data[2];
			if (len > sizeof(buf)) {
				len = sizeof(buf);
			}
			fill(buf, seq, len);
			n = qb_rb_chunk_write(rb, buf, len);
			if (m_write(seq, len) < 0) {
				if (n != -EINVAL) {
					abort(); /* larger than the ring */
				}
				break;
			}
			if (n != (ssize_t)len) {
				abort();
			}
			seq++;
			break;
		case 3: /* read */
			n = qb_rb_chunk_read(rb, buf, sizeof(buf), 0);
			if (m.n == 0) {
				if (n != -ETIMEDOUT) {
					fprintf(stderr, "read on empty: %zd\n", n);
					abort();
				}
				break;
			}
			expect_oldest(buf, n);
			m_drop();
			break;
		case 4: /* peek, then reclaim */
			p = NULL;
			n = qb_rb_chunk_peek(rb, &p, 0);
			if (m.n == 0) {
				if (n != 0 || p != NULL) {
					fprintf(stderr, "phantom chunk: %zd\n", n);
					abort();
				}
				qb_rb_chunk_reclaim(rb); /* a no-op */
				break;
			}
			if (p == NULL) {
				abort();
			}
			expect_oldest(p, n);
			qb_rb_chunk_reclaim(rb);
			m_drop();
			break;
		case 5: /* a read into a buffer too small */
			if (m.n > 0 && m.q[m.head].len > 0) {
				n = qb_rb_chunk_read(rb, buf, m.q[m.head].len - 1, 0);
				if (n != -ENOBUFS) {
					abort();
				}
			}
			break;
		default:
			break;
		}
		check_counts(rb);
	}
	/* drain: exactly the model's chunks, then nothing */
	while (m.n > 0) {
		n = qb_rb_chunk_read(rb, buf, sizeof(buf), 0);
		expect_oldest(buf, n);
		m_drop();
	}
	p = NULL;
	if (qb_rb_chunk_peek(rb, &p, 0) != 0 || p != NULL) {
		abort();
	}
	check_counts(rb);
	qb_rb_close(rb);
	return 0;
}
