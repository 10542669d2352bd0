/*
 * log_core.h - private to the logging core files (log*.c). Other modules
 * and the blackbox files use log_internal.h.
 *
 * Locking (outermost first; never taken in the other direction):
 *   cfg_lock (recursive)  - configuration calls: init/fini, ctl, open/close
 *   slot locks (rwlock)   - writer: a config call changing a slot;
 *                           reader: a log call writing to that slot
 *   cs_lock (mutex)       - callsite creation, callsite list, filter lists
 *   thread queue lock     - the log thread's queue
 * The log path takes only slot read locks (one at a time) and, for threaded
 * slots, the queue lock; formatting happens outside any shared lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_LOG_CORE_H_DEFINED
#define QB_LOG_CORE_H_DEFINED

#include "log/log_internal.h"

#define QB_LOG_DEFAULT_FORMAT "[%p] %b"

/* ---- log.c: state, slots; log_dispatch.c: the log call ------------ */
/* Values read on every log call, kept together (one cache line). */
struct log_hot {
	int initialised;
	qb_log_filter_fn filter_fn;
	qb_log_util_fn util_fn;
	qb_log_tags_stringify_fn tags_fn;
};
extern struct log_hot log_hot;

#define TLS __attribute__((tls_model("initial-exec"))) __thread

/* log.c's state; log_dispatch.c walks the slots on every call. */
struct log_state {
	pthread_mutex_t cfg_lock; /* recursive */
	struct qb_log_target targets[QB_LOG_TARGET_MAX];
	pid_t pid;
	char init_name[PATH_MAX];
	int32_t init_facility;
};
extern struct log_state log_state __attribute__((visibility("hidden")));
/* Per thread: inside a log call (recursion is dropped); the slots this
 * thread holds write-locked (a nested log call skips them). */
extern TLS int tls_in_logger __attribute__((visibility("hidden")));
extern TLS uint32_t tls_wrlocked __attribute__((visibility("hidden")));

void log_cfg_lock(void);
void log_cfg_unlock(void);
/* Read-lock slot @p t unless this thread already holds it; returns 1 if
 * it took the lock. */
int log_slot_rdlock(struct qb_log_target *t);
void log_slot_wrlock(struct qb_log_target *t);
void log_slot_unlock(struct qb_log_target *t);
qb_log_tags_stringify_fn log_tags_fn_get(void);
qb_log_filter_fn log_filter_fn_get(void);
int32_t log_filter_fn_store(qb_log_filter_fn fn);
/* Hand @p text (QB_XC still inside) to slot @p t with extended handling;
 * the caller holds nothing. */
void log_slot_write(struct qb_log_target *t, struct qb_log_callsite *cs, struct timespec *ts,
		    const char *text);
void log_in_logger_set(int on);

struct qb_log_target *log_slot_alloc(void); /* cfg_lock held */
void log_slot_free(int32_t pos);
/* slot state changes (slot lock taken inside), used by log_ctl.c */
int32_t log_slot_enable(struct qb_log_target *t);
void log_slot_disable(struct qb_log_target *t, int always_close);
void log_slot_format_store(struct qb_log_target *t, const char *format);
void log_slot_format_expand(struct qb_log_target *t);
/* for log_fork.c: locks and pid */
int log_locks_ready(void);
uint32_t log_locks_mine(void);
int log_cfg_trylock(void);
int log_slot_trywrlock(struct qb_log_target *t);
void log_locks_reset(void);
int log_pid_update(pid_t pid);

/* ---- log_fork.c ------------------------------------------------------ */
void log_atfork_register(void);

/* ---- log_format.c ---------------------------------------------------- */
void log_format_static(const struct qb_log_target *t, const char *format, char *out);
/* @p out holds max_line_length bytes; returns strlen(out). */
size_t log_format_line(const struct qb_log_target *t, struct qb_log_callsite *cs,
		       const struct timespec *ts, const char *msg, char *out);

/* ---- log_callsite.c -------------------------------------------------- */
void log_cs_lock(void);
void log_cs_unlock(void);
void log_cs_lock_reset(void);
/* Call @p fn for every callsite with line > 0 (cs_lock held by caller). */
void log_cs_foreach(void (*fn)(struct qb_log_callsite *cs, void *arg), void *arg);
void log_cs_free_all(void);

/* ---- log_filter.c ---------------------------------------------------- */
/* Apply stored filters to a new callsite (cs_lock held). */
void log_filter_apply_new(struct qb_log_callsite *cs, uint32_t tags);
/* Drop slot @p t's filters and clear its bit everywhere (cs_lock free). */
void log_filter_slot_clear(int32_t t);
void log_filter_free_all(void);

/* ---- log_targets.c --------------------------------------------------- */
void log_targets_static_setup(struct qb_log_target *syslog_t, struct qb_log_target *stderr_t,
			      struct qb_log_target *stdout_t);
/* Open the resources of @p t before it is enabled (slot write-locked). */
int32_t log_targets_open(struct qb_log_target *t);
void log_targets_syslog_reload(struct qb_log_target *t);
void log_targets_file_logger(int32_t t, struct qb_log_callsite *cs, struct timespec *ts,
			     const char *msg);
void log_targets_file_close(int32_t t);

/* ---- log_file_reopen.c ----------------------------------------------- */
/* Open @p path for appending, creating it with @p mode (-1: 0666 less the
 * umask, as upstream); close-on-exec, never 0-2. fd or -errno. */
int log_file_fd_open(const char *path, int32_t mode);
/* Remember which file slot @p t's stream is (after it was (re)opened). */
void log_file_id_store(struct qb_log_target *t);
/* Hot path of the file logger (slot read-locked, t->fp set): reopen the
 * path when a reopen was requested or, with QB_LOG_CONF_FILE_REOPEN_ON_ROTATE,
 * the path names another file than the stream's. */
void log_file_reopen_slow(struct qb_log_target *t);
extern uint32_t log_file_reopen_gen;
static inline void log_file_reopen_check(struct qb_log_target *t)
{
	if (t->reopen_ms == 0 &&
	    __atomic_load_n(&log_file_reopen_gen, __ATOMIC_RELAXED) ==
		    __atomic_load_n(&t->reopen_seen, __ATOMIC_RELAXED))
		return;
	log_file_reopen_slow(t);
}
/* QB_LOG_CONF_FILE_REOPEN_ON_ROTATE (slot write-locked by the caller). */
int32_t log_file_reopen_ctl(struct qb_log_target *t, int32_t interval_ms);

/* ---- log_thread.c ---------------------------------------------------- */
/* Queue a message for the threaded slots; 0, or -1 if the thread is not
 * available (the caller then writes directly). */
int log_thread_post(struct qb_log_callsite *cs, struct timespec *ts, const char *text);
void log_thread_shutdown(void);
void log_thread_atfork_prepare(void);
void log_thread_atfork_parent(void);
void log_thread_atfork_child(void);

#endif /* QB_LOG_CORE_H_DEFINED */
