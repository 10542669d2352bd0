/*
 * rb_dump.c - saving a ring to a file and loading it back (libqb 2.0 dump
 * format: five u32 words word_size, write_pt, read_pt, version 1, hash =
 * their sum, then the data area as it is in memory).
 *
 * Writing is async-signal-safe (write(2) only) so a crash handler can dump
 * a blackbox. Loading trusts nothing in the file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "rb/rb_private.h"

static ssize_t write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			return -EIO;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		if (n == 0) {
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t rb_view_dump(int fd, const struct rb_view *v, const void *prefix, size_t prefix_len)
{
	uint32_t hdr[RB_DUMP_HDR_WORDS];
	size_t data_len = (size_t)v->words * 4;
	ssize_t rc = 0;

	rb_dump_header_make(hdr, v->words, v->write_pt, v->read_pt);
	if (prefix_len > 0) {
		rc = write_all(fd, prefix, prefix_len);
	}
	if (rc >= 0) {
		rc = write_all(fd, hdr, sizeof(hdr));
	}
	if (rc >= 0) {
		rc = write_all(fd, v->data, data_len);
	}
	return rc < 0 ? rc : (ssize_t)(prefix_len + sizeof(hdr) + data_len);
}

ssize_t qb_rb_write_to_file(qb_ringbuffer_t *rb, int32_t fd)
{
	struct rb_view v;

	if (rb == NULL) {
		return -EINVAL;
	}
	rb_view_of(rb, &v);
	return rb_view_dump(fd, &v, NULL, 0);
}

/* Is the dump header sane for `avail` bytes of file from here on? The ring
 * it makes must be one qb_rb_open could have made: whole pages. */
static int dump_hdr_check(const uint32_t *h, uint64_t avail)
{
	long page = sysconf(_SC_PAGESIZE);

	if (rb_dump_header_check(h, avail) < 0) {
		return -EINVAL;
	}
	if (page <= 0 || ((uint64_t)h[0] * 4) % (uint64_t)page != 0) {
		return -EINVAL;
	}
	return 0;
}

/*
 * Keep only the readable prefix of the chunk chain: from read_pt, every
 * chunk must be committed and fit before write_pt. A dump taken while a
 * writer was mid-chunk (or a damaged one) ends at the first bad chunk.
 */
static void trim_chain(qb_ringbuffer_t *rb)
{
	uint32_t r = rb->hdr->read_pt;
	uint32_t w = rb->hdr->write_pt;
	uint32_t len;

	while (r != w) {
		if (rb_chunk_check(rb, r, w, &len) < 0) {
			rb->hdr->write_pt = r;
			return;
		}
		r = rb_chunk_step(rb->words, r, len);
	}
}

static int load_dump(int fd, qb_ringbuffer_t **out)
{
	uint32_t h[RB_DUMP_HDR_WORDS];
	qb_ringbuffer_t *rb = NULL;
	struct stat st;
	off_t pos;
	ssize_t n;
	int rc;

	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0) {
		return -errno;
	}
	if (st.st_size < pos || (uint64_t)(st.st_size - pos) < sizeof(h)) {
		return -EINVAL;
	}
	n = read_all(fd, h, sizeof(h));
	if (n < 0) {
		return (int)n;
	}
	if ((size_t)n != sizeof(h)) {
		return -EINVAL;
	}
	rc = dump_hdr_check(h, (uint64_t)(st.st_size - pos));
	if (rc < 0) {
		return rc;
	}
	rc = rb_open_unique("create_from_file", "dump", (size_t)h[0] * 4 - RB_SIZE_EXTRA,
			    QB_RB_FLAG_CREATE | QB_RB_FLAG_NO_SEMAPHORE, 0, &rb);
	if (rc < 0) {
		return rc;
	}
	/* the copy is private: its files need not outlive the mapping */
	rb_unlink_files(rb);
	if (rb->words != h[0]) {
		rc = -EINVAL;
		goto fail;
	}
	n = read_all(fd, rb->data, rb->data_len);
	if (n < 0 || (size_t)n != rb->data_len) {
		rc = n < 0 ? (int)n : -EINVAL;
		goto fail;
	}
	rb->hdr->write_pt = h[1];
	rb->hdr->read_pt = h[2];
	trim_chain(rb);
	*out = rb;
	return 0;
fail:
	qb_rb_close(rb);
	return rc;
}

qb_ringbuffer_t *qb_rb_create_from_file(int32_t fd, uint32_t flags)
{
	qb_ringbuffer_t *rb = NULL;
	int rc;

	if (fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	rc = load_dump(fd, &rb);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return rb;
}
