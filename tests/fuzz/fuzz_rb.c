/*
 * libFuzzer harness: qb_rb_create_from_file() on arbitrary bytes, then read
 * every chunk it offers and dump it again. Any crash, out-of-bounds access
 * or leak is a bug: a dump file is untrusted input.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <qb/qbrb.h>

static int input_fd = -1;
static int null_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[1 << 16];
	qb_ringbuffer_t *rb;
	void *p;
	int i;

	if (input_fd < 0) {
		input_fd = memfd_create("fuzz_rb", MFD_CLOEXEC);
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (input_fd < 0 || null_fd < 0) {
			abort();
		}
	}
	if (ftruncate(input_fd, 0) < 0 || pwrite(input_fd, data, size, 0) != (ssize_t)size) {
		abort();
	}
	/* Half of the inputs get a valid version and checksum, so the fuzzer
	 * spends its time on pointers, sizes and the chunk chain. */
	if (size >= 20 && (data[size - 1] & 1)) {
		uint32_t h[5];

		memcpy(h, data, sizeof(h));
		h[3] = 1;
		h[4] = h[0] + h[1] + h[2] + h[3];
		if (pwrite(input_fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
			abort();
		}
	}
	if (lseek(input_fd, 0, SEEK_SET) != 0) {
		abort();
	}
	rb = qb_rb_create_from_file(input_fd, 0);
	if (rb == NULL) {
		return 0;
	}
	(void)qb_rb_space_used(rb);
	(void)qb_rb_space_free(rb);
	if (qb_rb_chunk_peek(rb, &p, 0) > 0) {
		/* touch the first and last byte the peek promised */
		volatile uint8_t c = *(uint8_t *)p;
		(void)c;
	}
	for (i = 0; i < 100000; i++) {
		if (qb_rb_chunk_read(rb, buf, sizeof(buf), 0) < 0) {
			break;
		}
	}
	(void)qb_rb_write_to_file(rb, null_fd);
	/* the loaded copy must also accept writes */
	(void)qb_rb_chunk_write(rb, "tail", 4);
	qb_rb_close(rb);
	return 0;
}
