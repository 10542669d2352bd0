/*
 * shm_map.c - mapping ring files, including the circular double mapping
 * that makes a chunk wrapping past the end of the data area contiguous.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "shm/shm_internal.h"

int shm_map(int fd, size_t len, void **out)
{
	void *p;

	if (len == 0) {
		return -EINVAL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		return -errno;
	}
	*out = p;
	return 0;
}

int shm_map_circular(int fd, size_t len, void **out)
{
	uint8_t *base;
	void *p;
	int rc;

	if (len == 0 || len > SIZE_MAX / 2) {
		return -EINVAL;
	}
	/* Reserve the whole range first so nothing else can land in it. */
	base = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		return -errno;
	}
	p = mmap(base, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		goto fail;
	}
	p = mmap(base + len, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		goto fail;
	}
	*out = base;
	return 0;
fail:
	rc = -errno;
	munmap(base, 2 * len);
	return rc;
}
