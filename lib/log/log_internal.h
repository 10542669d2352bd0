/*
 * log_internal.h - the log module's only door for the rest of the library
 * (and for the blackbox files of this module).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_LOG_INTERNAL_H_DEFINED
#define QB_LOG_INTERNAL_H_DEFINED

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <qb/qblog.h>

/* Size of the buffer that holds a slot's format after %P/%N/%H expansion. */
#define QB_LOG_FORMAT_STATIC_MAX 256

/*
 * One output slot. Fields are protected by `lock` (a reader-writer lock:
 * writers are configuration calls, readers are log calls writing to the
 * slot); `state` is also read without the lock as a hint.
 */
struct qb_log_target {
	uint32_t pos; /* slot index */
	enum qb_log_target_state state;
	char name[PATH_MAX];	 /* ident (%N, syslog ident) */
	char filename[PATH_MAX]; /* file path or "custom-<n>" */

	char *format;				      /* format as given (NULL: default) */
	char format_static[QB_LOG_FORMAT_STATIC_MAX]; /* %P %N %H expanded */
	int32_t facility;
	int32_t priority_bump;
	int32_t threaded;
	int32_t file_sync;
	int32_t ellipsis;
	int32_t use_journal;
	int32_t debug;
	size_t size;		/* QB_LOG_CONF_SIZE */
	size_t max_line_length; /* QB_LOG_CONF_MAX_LINE_LEN */
	int32_t extended;
	int32_t blackbox_opened; /* ring was created at least once */
	FILE *fp;		 /* file / stderr / stdout */
	int32_t file_mode;	 /* creation mode, -1: 0666 & ~umask */
	/* Reopen on rotation (log_file_reopen.c): check interval in ms (0:
	 * off), next check (coarse monotonic ms), last reopen request seen,
	 * a flag owned by the thread doing a check, and the open file's id. */
	int32_t reopen_ms;
	int64_t reopen_next_ms;
	uint32_t reopen_seen;
	int32_t reopen_busy;
	dev_t file_dev;
	ino_t file_ino;
	void *instance; /* target private: blackbox ring */
	void *user_data;

	qb_log_logger_fn logger;
	qb_log_vlogger_fn vlogger;
	/* The vlogger serialises itself against close (the blackbox: its
	 * writer lock), so the core calls it without the slot read lock. */
	int32_t vlogger_self_locked;
	qb_log_close_fn close;
	qb_log_reload_fn reload;

	pthread_rwlock_t lock;
};

/* ---- provided by the core ------------------------------------------- */

/* Slot @p pos (0..31) or NULL. Exported (upstream internal symbol). */
struct qb_log_target *qb_log_target_get(int32_t pos);

/* Name of a priority ("emerg".."trace"; > 8 prints "trace"). */
const char *qb_log_priority2str(uint8_t priority);

/* The deprecated qb_util_set_log_function() callback: receives the text of
 * every message tagged QB_LOG_TAG_LIBQB_MSG. util stores it here. */
typedef void (*qb_log_util_fn)(const char *file_name, int32_t file_line, int32_t severity,
			       const char *msg);
void log_util_fn_set(qb_log_util_fn fn);

/* True once qb_log_init() ran and qb_log_fini() did not. */
int log_is_initialised(void);

/* ---- provided by the blackbox files (lib/log/blackbox*.c) ----------- */

int32_t qb_log_blackbox_open(struct qb_log_target *t);
void bb_reflect_pid(struct qb_log_target *t, pid_t new_pid);
void bb_atfork_prepare(void);
void bb_atfork_parent(void);
void bb_atfork_child(void);
ssize_t qb_vsnprintf_serialize(char *serialize, size_t max_len, const char *fmt, va_list ap);
size_t qb_vsnprintf_deserialize(char *string, size_t strlen, const char *buf);

#endif /* QB_LOG_INTERNAL_H_DEFINED */
