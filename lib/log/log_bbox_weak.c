/*
 * log_bbox_weak.c - weak no-op stand-ins for the blackbox entry points the
 * core calls (lib/log/blackbox*.c provides the real, strong definitions).
 * They keep the library linkable when the blackbox is not built.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"
#include <errno.h>
#include "log/log_internal.h"

#define QB_WEAK __attribute__((weak))

QB_WEAK int32_t qb_log_blackbox_open(struct qb_log_target *t) { return -ENOSYS; }
QB_WEAK void qb_log_blackbox_reflect_pid(struct qb_log_target *t, pid_t new_pid) { }
QB_WEAK void qb_log_blackbox_atfork_prepare(void) { }
QB_WEAK void qb_log_blackbox_atfork_parent(void) { }
QB_WEAK void qb_log_blackbox_atfork_child(void) { }
QB_WEAK ssize_t qb_log_blackbox_write_to_file(const char *filename) { return -ENOENT; }
QB_WEAK int qb_log_blackbox_print_from_file(const char *filename) { return -ENOENT; }
QB_WEAK ssize_t qb_vsnprintf_serialize(char *serialize, size_t max_len,
				       const char *fmt, va_list ap) { return 0; }
QB_WEAK size_t qb_vsnprintf_deserialize(char *string, size_t strlen,
					const char *buf)
{
	if (string && strlen)
		string[0] = '\0';
	return 0;
}
