/*
 * Private declarations shared by the blackbox files of the log module
 * (blackbox.c, blackbox_dump.c, serialize.c).  Nothing outside lib/log
 * includes this; the log core reaches the blackbox through log_internal.h.
 */
#ifndef QB_LOG_BLACKBOX_INTERNAL_H_DEFINED
#define QB_LOG_BLACKBOX_INTERNAL_H_DEFINED

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* Exported for compatibility; not in any public header. */
ssize_t qb_vsnprintf_serialize(char *serialize, size_t max_len,
			       const char *fmt, va_list ap);
size_t qb_vsnprintf_deserialize(char *string, size_t str_len, const char *buf);

/*
 * Bounded reader: turns the serialised message buf (buf_len bytes, from a
 * possibly corrupt file) into text in out (out_len bytes, always
 * NUL-terminated when out_len > 0).  Never reads outside buf.  Returns the
 * text length + 1 (0 when out_len is 0).
 */
size_t qb_log_blackbox_render(char *out, size_t out_len,
			      const char *buf, size_t buf_len);

#endif
