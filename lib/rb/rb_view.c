/*
 * rb_view.c - the read-only view of a ring (rb_internal.h): over a ring this
 * process maps, a dump in memory, or images of a ring's two files. Nothing
 * in the viewed bytes is trusted.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rb/rb_private.h"

#define RB_DUMP_VERSION 1u
#define RB_VIEW_MIN_WORDS 4u

uint32_t rb_view_word(const struct rb_view *v, uint64_t idx)
{
	uint32_t w;

	memcpy(&w, v->data + (size_t)(idx % v->words) * 4, sizeof(w));
	return w;
}

void rb_view_of(const qb_ringbuffer_t *rb, struct rb_view *v)
{
	v->data = (const unsigned char *)rb->data;
	v->words = rb->words;
	v->write_pt = __atomic_load_n((const uint32_t *)&rb->hdr->write_pt, __ATOMIC_ACQUIRE);
	v->read_pt = __atomic_load_n((const uint32_t *)&rb->hdr->read_pt, __ATOMIC_ACQUIRE);
}

void rb_dump_header_make(uint32_t h[RB_DUMP_HDR_WORDS], uint32_t words, uint32_t write_pt,
			 uint32_t read_pt)
{
	h[0] = words;
	h[1] = write_pt;
	h[2] = read_pt;
	h[3] = RB_DUMP_VERSION;
	h[4] = h[0] + h[1] + h[2] + h[3];
}

int rb_dump_header_check(const uint32_t h[RB_DUMP_HDR_WORDS], uint64_t avail)
{
	uint64_t hdr_bytes = sizeof(uint32_t) * RB_DUMP_HDR_WORDS;

	if (h[3] != RB_DUMP_VERSION || h[4] != h[0] + h[1] + h[2] + h[3]) {
		return -EINVAL;
	}
	if (h[0] < RB_VIEW_MIN_WORDS || avail < hdr_bytes ||
	    (uint64_t)h[0] * 4 > avail - hdr_bytes) {
		return -EINVAL;
	}
	if (h[1] >= h[0] || h[2] >= h[0]) {
		return -EINVAL;
	}
	return 0;
}

int rb_view_from_dump(struct rb_view *v, const void *buf, size_t len)
{
	uint32_t h[RB_DUMP_HDR_WORDS];

	if (len < sizeof(h)) {
		return -EINVAL;
	}
	memcpy(h, buf, sizeof(h));
	if (rb_dump_header_check(h, len) < 0) {
		return -EINVAL;
	}
	v->data = (const unsigned char *)buf + sizeof(h);
	v->words = h[0];
	v->write_pt = h[1];
	v->read_pt = h[2];
	return 0;
}

static uint32_t hdr_u32(const void *hdr, size_t off)
{
	uint32_t w;

	memcpy(&w, (const char *)hdr + off, sizeof(w));
	return w;
}

uint32_t rb_header_write_pt(const void *hdr)
{
	return hdr_u32(hdr, offsetof(struct rb_shared_hdr, write_pt));
}

int rb_view_from_header(struct rb_view *v, const void *hdr, size_t hdr_len, const void *rp_hdr,
			const void *data, size_t data_len)
{
	if (hdr_len < RB_HDR_SIZE) {
		return -EINVAL;
	}
	v->data = data;
	v->words = hdr_u32(hdr, offsetof(struct rb_shared_hdr, word_size));
	v->write_pt = rb_header_write_pt(hdr);
	v->read_pt =
		hdr_u32(rp_hdr != NULL ? rp_hdr : hdr, offsetof(struct rb_shared_hdr, read_pt));
	if (v->words < RB_VIEW_MIN_WORDS || (uint64_t)v->words * 4 > data_len ||
	    v->write_pt >= v->words || v->read_pt >= v->words) {
		return -EINVAL;
	}
	return 0;
}

static const char *hdr_path(const void *hdr, size_t len, size_t off)
{
	const char *p = (const char *)hdr + off;

	if (len < RB_HDR_SIZE || p[0] != '/' || memchr(p, '\0', RB_PATH_MAX) == NULL) {
		return NULL;
	}
	return p;
}

int rb_header_is_ring(const void *hdr, size_t len)
{
	return hdr_path(hdr, len, offsetof(struct rb_shared_hdr, hdr_path)) != NULL &&
		hdr_path(hdr, len, offsetof(struct rb_shared_hdr, data_path)) != NULL;
}

const char *rb_header_data_path(const void *hdr, size_t len)
{
	return hdr_path(hdr, len, offsetof(struct rb_shared_hdr, data_path));
}

const void *rb_header_user(const void *hdr, size_t len, size_t user_len)
{
	if (len < RB_HDR_USER_OFFSET || len - RB_HDR_USER_OFFSET < user_len) {
		return NULL;
	}
	return (const char *)hdr + RB_HDR_USER_OFFSET;
}

static const size_t hdr_word_off[] = {
	[RB_HDR_WRITE_PT] = offsetof(struct rb_shared_hdr, write_pt),
	[RB_HDR_READ_PT] = offsetof(struct rb_shared_hdr, read_pt),
	[RB_HDR_WORDS] = offsetof(struct rb_shared_hdr, word_size),
};

static int hdr_word_valid(enum rb_hdr_word w)
{
	return (unsigned)w < sizeof(hdr_word_off) / sizeof(hdr_word_off[0]);
}

int rb_header_word(const void *hdr, size_t len, enum rb_hdr_word w, uint32_t *out)
{
	if (!hdr_word_valid(w) || len < hdr_word_off[w] + sizeof(*out)) {
		return -EINVAL;
	}
	*out = hdr_u32(hdr, hdr_word_off[w]);
	return 0;
}

static int mapped_u32(const volatile void *hdr, size_t len, size_t off, uint32_t *out)
{
	if (off % 4 != 0 || len < off || len - off < sizeof(*out)) {
		return -EINVAL;
	}
	*out = __atomic_load_n((const volatile uint32_t *)((const volatile char *)hdr + off),
			       __ATOMIC_ACQUIRE);
	return 0;
}

int rb_header_mapped_word(const volatile void *hdr, size_t len, enum rb_hdr_word w, uint32_t *out)
{
	if (!hdr_word_valid(w)) {
		return -EINVAL;
	}
	return mapped_u32(hdr, len, hdr_word_off[w], out);
}

int rb_header_mapped_user_word(const volatile void *hdr, size_t len, size_t off, uint32_t *out)
{
	if (off > SIZE_MAX - RB_HDR_USER_OFFSET) {
		return -EINVAL;
	}
	return mapped_u32(hdr, len, RB_HDR_USER_OFFSET + off, out);
}

/* pread that retries interrupted and short reads: 0, -errno, or -EIO at
 * the end of the file. */
static int pread_exact(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return r < 0 ? -errno : -EIO;
		}
		got += (size_t)r;
	}
	return 0;
}

static int fd_stable_u32(int fd, off_t off, uint32_t *out)
{
	uint32_t a = 0, b = 1;
	int i;

	for (i = 0; i < 8 && a != b; i++) {
		int rc = pread_exact(fd, &a, sizeof(a), off);
		if (rc == 0) {
			rc = pread_exact(fd, &b, sizeof(b), off);
		}
		if (rc != 0) {
			return rc;
		}
	}
	*out = a;
	return 0;
}

int rb_header_fd_word(int fd, enum rb_hdr_word w, uint32_t *out)
{
	if (!hdr_word_valid(w)) {
		return -EINVAL;
	}
	return fd_stable_u32(fd, (off_t)hdr_word_off[w], out);
}

int rb_header_fd_user_word(int fd, size_t off, uint32_t *out)
{
	if (off > SIZE_MAX - RB_HDR_USER_OFFSET) {
		return -EINVAL;
	}
	return fd_stable_u32(fd, (off_t)(RB_HDR_USER_OFFSET + off), out);
}

int rb_header_fd_user_read(int fd, void *buf, size_t n)
{
	return pread_exact(fd, buf, n, (off_t)RB_HDR_USER_OFFSET);
}

static void put_path(char *dst, const char *path)
{
	size_t n = path != NULL ? strnlen(path, RB_PATH_MAX - 1) : 0;

	memcpy(dst, path != NULL ? path : "", n);
	dst[n] = '\0';
}

int rb_header_image_make(void *hdr, size_t len, uint32_t words, uint32_t write_pt, uint32_t read_pt,
			 const char *hdr_path, const char *data_path, const void *user,
			 size_t user_len)
{
	char *h = hdr;

	if (len < RB_HDR_SIZE || len - RB_HDR_SIZE < user_len) {
		return -EINVAL;
	}
	memset(h, 0, len);
	memcpy(h + offsetof(struct rb_shared_hdr, write_pt), &write_pt, sizeof(write_pt));
	memcpy(h + offsetof(struct rb_shared_hdr, read_pt), &read_pt, sizeof(read_pt));
	memcpy(h + offsetof(struct rb_shared_hdr, word_size), &words, sizeof(words));
	put_path(h + offsetof(struct rb_shared_hdr, hdr_path), hdr_path);
	put_path(h + offsetof(struct rb_shared_hdr, data_path), data_path);
	if (user != NULL && user_len > 0) {
		memcpy(h + RB_HDR_USER_OFFSET, user, user_len);
	}
	return 0;
}

int rb_view_chunk(const struct rb_view *v, uint32_t p, uint32_t *len)
{
	*len = rb_view_word(v, p);
	if (rb_view_word(v, (uint64_t)p + 1) != RB_MAGIC_COMMITTED) {
		return -ENOMSG;
	}
	if (*len > (v->words - 2) * 4) {
		return -EMSGSIZE;
	}
	return 0;
}

uint32_t rb_view_next(const struct rb_view *v, uint32_t p, uint32_t len)
{
	return rb_chunk_step(v->words, p % v->words, len);
}

int rb_view_read(const struct rb_view *v, uint32_t p, size_t off, void *dst, size_t n)
{
	size_t ring_bytes = (size_t)v->words * 4;
	size_t at, first;

	if (off > (size_t)(v->words - 2) * 4 || n > (size_t)(v->words - 2) * 4 - off) {
		return -EMSGSIZE;
	}
	at = ((size_t)((p + 2ull) % v->words) * 4 + off) % ring_bytes;
	first = ring_bytes - at;
	if (first > n) {
		first = n;
	}
	memcpy(dst, v->data + at, first);
	memcpy((char *)dst + first, v->data, n - first);
	return 0;
}

int rb_view_copy(const struct rb_view *v, qb_ringbuffer_t *to, struct rb_view *copy)
{
	if (to == NULL || v->words != to->words) {
		return -EINVAL;
	}
	memcpy(to->data, v->data, (size_t)v->words * 4);
	copy->data = (const unsigned char *)to->data;
	copy->words = to->words;
	copy->write_pt = v->write_pt;
	copy->read_pt = v->read_pt;
	return 0;
}

void rb_view_install(qb_ringbuffer_t *to, const struct rb_view *copy)
{
	__atomic_store_n((uint32_t *)&to->hdr->read_pt, copy->read_pt, __ATOMIC_RELEASE);
	__atomic_store_n((uint32_t *)&to->hdr->write_pt, copy->write_pt, __ATOMIC_RELEASE);
}
