/*
 * BSD strlcpy/strlcat, exported because libqb 2.0 exports them and binaries
 * linked with -lqb on glibc < 2.38 may have bound to these copies.
 */
#include "config.h"
#include <string.h>
#include "util/util_internal.h"

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = (len < size - 1) ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

size_t strlcat(char *dst, const char *src, size_t size)
{
	/* Like libqb, the length of dst is not bounded by size. */
	size_t dst_len = strlen(dst);

	if (dst_len < size) {
		strlcpy(dst + dst_len, src, size - dst_len);
	}
	return dst_len + strlen(src);
}
