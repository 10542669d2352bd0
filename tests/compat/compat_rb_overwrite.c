/*
 * Overwrite-mode wrap-around at every chunk size from 1 byte to a page.
 *
 * For each size c a ring is filled with three times the chunks it holds
 * (each with its own contents), then read with peek and reclaim until the
 * peek gives nothing. Printed per size: the ring's words, how many chunks
 * were read, the sequence numbers of the first and the last, and whether
 * every chunk had c bytes and its own contents. Both libraries must print
 * the same.
 *
 * Not printed, because they differ by design: how the drained ring reports
 * "nothing" (libqb 2.0's semaphore still counts the overwritten chunks, so
 * its peek consumes a stale unit and fails with -EBADMSG, and space_free
 * says 0; here the count is exact, the peek times out and returns 0 with
 * the data pointer untouched, space_free is the whole ring). The ring size
 * is c where two chunks of c fit into it, else 2c + 24: libqb 2.0 loses the
 * only chunk of a ring that holds one (the second write fails with -EINVAL
 * and the ring reads as empty; see test_overwrite_one_chunk_ring).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qbrb.h>

static void fill(uint8_t *p, uint32_t seq, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(seq * 7 + i);
	}
}

static size_t chunk_words(size_t c)
{
	return 2 + c / 4 + (c % 4 ? 1 : 0);
}

int main(void)
{
	static uint8_t buf[8192], want[8192];
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char name[64];
	size_t c;

	snprintf(name, sizeof(name), "compat-rbow-%d", (int)getpid());
	for (c = 1; c <= page; c++) {
		size_t words = (c + 13 + page - 1) / page * page / 4;
		size_t size = 2 * chunk_words(c) < words ? c : 2 * c + 24;
		qb_ringbuffer_t *rb;
		uint32_t seq, n, first = 0, last = 0, bad = 0, total;
		void *p;

		rb = qb_rb_open(name, size, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE, 0);
		if (rb == NULL) {
			perror("qb_rb_open");
			return 1;
		}
		words = (size_t)qb_rb_space_free(rb) / 4;
		total = (uint32_t)(3 * words / chunk_words(c) + 7);
		for (seq = 0; seq < total; seq++) {
			fill(buf, seq, c);
			if (qb_rb_chunk_write(rb, buf, c) != (ssize_t)c) {
				printf("size %zu: write %u failed\n", c, seq);
				break;
			}
		}
		for (n = 0; n <= total; n++) {
			ssize_t len;

			p = NULL;
			len = qb_rb_chunk_peek(rb, &p, 0);
			if (len <= 0 && (len < 0 || p == NULL)) {
				break;
			}
			if (len != (ssize_t)c) {
				bad++;
			} else {
				/* which chunk is it? the contents tell */
				for (seq = n == 0 ? 0 : last; seq < total; seq++) {
					fill(want, seq, c);
					if (memcmp(p, want, c) == 0) {
						break;
					}
				}
				if (seq == total || (n > 0 && seq != last + 1)) {
					bad++;
				}
				if (n == 0) {
					first = seq;
				}
				last = seq;
			}
			qb_rb_chunk_reclaim(rb);
		}
		printf("size %zu ring %zu words: %u chunks, %u..%u, bad %u\n", c, words, n, first,
		       last, bad);
		qb_rb_close(rb);
	}
	return 0;
}
