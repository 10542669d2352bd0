/*
 * log_stub.c - temporary link-able placeholders for the logging API, so the
 * other modules can build their internal logging while the real core lands.
 * Every call is a harmless no-op.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"
#include <errno.h>
#include "log/log_internal.h"

void qb_log_real_va_(struct qb_log_callsite *cs, va_list ap) { }
void qb_log_real_(struct qb_log_callsite *cs, ...) { }
struct qb_log_callsite *qb_log_callsite_get(const char *function, const char *filename,
	const char *format, uint8_t priority, uint32_t lineno, uint32_t tags) { return NULL; }
struct qb_log_callsite *qb_log_callsite_get2(const char *message_id, const char *function,
	const char *filename, const char *format, uint8_t priority, uint32_t lineno,
	uint32_t tags) { return NULL; }
void qb_log_from_external_source(const char *function, const char *filename,
	const char *format, uint8_t priority, uint32_t lineno, uint32_t tags, ...) { }
void qb_log_from_external_source_va2(const char *message_id, const char *function,
	const char *filename, const char *format, uint8_t priority, uint32_t lineno,
	uint32_t tags, va_list ap) { }
void qb_log_from_external_source_va(const char *function, const char *filename,
	const char *format, uint8_t priority, uint32_t lineno, uint32_t tags,
	va_list ap) { }
void qb_log_init(const char *name, int32_t facility, uint8_t priority) { }
void qb_log_fini(void) { }
int32_t qb_log_callsites_register(struct qb_log_callsite *start,
	struct qb_log_callsite *stop) { return -EINVAL; }
void qb_log_callsites_dump(void) { }
int32_t qb_log_ctl(int32_t target, enum qb_log_conf conf_type, int32_t arg) { return -EINVAL; }
int32_t qb_log_ctl2(int32_t target, enum qb_log_conf conf_type,
	qb_log_ctl2_arg_t arg) { return -EINVAL; }
int32_t qb_log_filter_ctl(int32_t value, enum qb_log_filter_conf c,
	enum qb_log_filter_type type, const char *text, uint8_t low_priority) { return -EINVAL; }
int32_t qb_log_filter_ctl2(int32_t value, enum qb_log_filter_conf c,
	enum qb_log_filter_type type, const char *text, uint8_t high_priority,
	uint8_t low_priority) { return -EINVAL; }
int32_t qb_log_filter_fn_set(qb_log_filter_fn fn) { return -EINVAL; }
void qb_log_tags_stringify_fn_set(qb_log_tags_stringify_fn fn) { }
void qb_log_format_set(int32_t t, const char *format) { }
int32_t qb_log_file_open(const char *filename) { return -EINVAL; }
void qb_log_file_close(int32_t t) { }
int32_t qb_log_file_reopen(int32_t t, const char *filename) { return -EINVAL; }
int32_t qb_log_thread_priority_set(int32_t policy, int32_t priority) { return -EINVAL; }
int32_t qb_log_thread_start(void) { return -EINVAL; }
int32_t qb_log_custom_open(qb_log_logger_fn log_fn, qb_log_close_fn close_fn,
	qb_log_reload_fn reload_fn, void *user_data) { return -EINVAL; }
void qb_log_custom_close(int32_t t) { }
void *qb_log_target_user_data_get(int32_t t) { errno = EBADF; return NULL; }
int32_t qb_log_target_user_data_set(int32_t t, void *user_data) { return -EINVAL; }
void qb_log_target_format(int32_t target, struct qb_log_callsite *cs,
	struct timespec *timestamp, const char *formatted_message, char *output_buffer)
{ if (output_buffer) output_buffer[0] = '\0'; }
int32_t qb_log_facility2int(const char *fname) { return -EINVAL; }
const char *qb_log_facility2str(int32_t fnum) { return NULL; }
int32_t qb_log_reflect_pid(void) { return -EINVAL; }
struct qb_log_target *qb_log_target_get(int32_t pos) { return NULL; }
const char *qb_log_priority2str(uint8_t priority) { return "trace"; }
int qb_log_is_initialised(void) { return 0; }
void qb_log_dcs_init(void);
void qb_log_dcs_init(void) { }
void qb_log_dcs_fini(void);
void qb_log_dcs_fini(void) { }
void *qb_log_dcs_get(void);
void *qb_log_dcs_get(void) { return NULL; }
void qb_log_format_init(void);
void qb_log_format_init(void) { }
void qb_log_format_fini(void);
void qb_log_format_fini(void) { }
int32_t qb_log_stderr_open(struct qb_log_target *t);
int32_t qb_log_stderr_open(struct qb_log_target *t) { return -EINVAL; }
int32_t qb_log_syslog_open(struct qb_log_target *t);
int32_t qb_log_syslog_open(struct qb_log_target *t) { return -EINVAL; }
struct qb_log_target *qb_log_target_alloc(void);
struct qb_log_target *qb_log_target_alloc(void) { return NULL; }
void qb_log_target_format_static(int32_t target, const char *format, char *output_buffer);
void qb_log_target_format_static(int32_t target, const char *format, char *output_buffer) { }
void qb_log_target_free(struct qb_log_target *t);
void qb_log_target_free(struct qb_log_target *t) { }
void qb_log_thread_log_post(struct qb_log_callsite *cs, struct timespec *ts, const char *buf);
void qb_log_thread_log_post(struct qb_log_callsite *cs, struct timespec *ts, const char *buf) { }
void qb_log_thread_log_write(struct qb_log_callsite *cs, struct timespec *ts, const char *buf);
void qb_log_thread_log_write(struct qb_log_callsite *cs, struct timespec *ts, const char *buf) { }
void qb_log_thread_pause(struct qb_log_target *t);
void qb_log_thread_pause(struct qb_log_target *t) { }
void qb_log_thread_resume(struct qb_log_target *t);
void qb_log_thread_resume(struct qb_log_target *t) { }
void qb_log_thread_stop(void);
void qb_log_thread_stop(void) { }
