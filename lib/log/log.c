/*
 * log.c - logging core: state and locks, init/fini, slot allocation. The
 * log call itself is in log_dispatch.c. Slot configuration (qb_log_ctl2 and friends) is in
 * log_ctl.c, fork handling (atfork, qb_log_reflect_pid) in log_fork.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log_core.h"

struct log_hot log_hot __attribute__((aligned(64)));

struct log_state log_state;

static pthread_once_t locks_once = PTHREAD_ONCE_INIT;
static int locks_ready;

/* Per thread: inside a log call (recursion is dropped), and the slots this
 * thread holds locked (so nested calls neither deadlock nor re-lock). */
TLS int tls_in_logger;
TLS uint32_t tls_wrlocked;
static TLS uint32_t tls_rdlocked;
static TLS uint32_t tls_nested;

/* ---- locks ------------------------------------------------------------ */

static void slot_lock_init(struct qb_log_target *t)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	/* Writers (configuration, fork) must not starve behind a steady
	 * stream of log calls. Readers never nest on one slot. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&t->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

static void cfg_lock_init(void)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&log_state.cfg_lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

static void locks_init_once(void)
{
	int32_t i;

	cfg_lock_init();
	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		log_state.targets[i].pos = (uint32_t)i;
		slot_lock_init(&log_state.targets[i]);
	}
	log_atfork_register();
	__atomic_store_n(&locks_ready, 1, __ATOMIC_RELEASE);
}

void log_cfg_lock(void)
{
	pthread_mutex_lock(&log_state.cfg_lock);
}

void log_cfg_unlock(void)
{
	pthread_mutex_unlock(&log_state.cfg_lock);
}

int log_slot_rdlock(struct qb_log_target *t)
{
	uint32_t bit = 1U << t->pos;

	if ((tls_wrlocked | tls_rdlocked) & bit)
		return 0;
	pthread_rwlock_rdlock(&t->lock);
	tls_rdlocked |= bit;
	return 1;
}

/*
 * A configuration call made from inside the slot's own logger (this thread
 * holds the read lock) cannot upgrade it: it proceeds under the read lock
 * instead of deadlocking. Nesting is one level deep at most.
 */
void log_slot_wrlock(struct qb_log_target *t)
{
	uint32_t bit = 1U << t->pos;

	if ((tls_rdlocked | tls_wrlocked) & bit) {
		tls_nested |= bit;
		return;
	}
	pthread_rwlock_wrlock(&t->lock);
	tls_wrlocked |= bit;
}

void log_slot_unlock(struct qb_log_target *t)
{
	uint32_t bit = 1U << t->pos;

	if (tls_nested & bit) {
		tls_nested &= ~bit;
		return;
	}
	if (!((tls_rdlocked | tls_wrlocked) & bit))
		return; /* locks were reset by fork */
	tls_wrlocked &= ~bit;
	tls_rdlocked &= ~bit;
	pthread_rwlock_unlock(&t->lock);
}

/* ---- what log_fork.c needs of the state and locks --------------------- */

int log_locks_ready(void)
{
	return __atomic_load_n(&locks_ready, __ATOMIC_ACQUIRE);
}

/* Slots this thread holds locked (read or write). */
uint32_t log_locks_mine(void)
{
	return tls_rdlocked | tls_wrlocked;
}

int log_cfg_trylock(void)
{
	return pthread_mutex_trylock(&log_state.cfg_lock) == 0;
}

int log_slot_trywrlock(struct qb_log_target *t)
{
	if (pthread_rwlock_trywrlock(&t->lock) != 0)
		return 0;
	tls_wrlocked |= 1U << t->pos;
	return 1;
}

/*
 * Only the forking thread exists in the child: every lock is made fresh
 * and this thread holds none. If it forked from inside a logger or a
 * configuration callback, the unlock on its way out finds no lock of its
 * own recorded and does nothing (see log_slot_unlock()).
 */
void log_locks_reset(void)
{
	int32_t i;

	cfg_lock_init();
	for (i = 0; i < QB_LOG_TARGET_MAX; i++)
		slot_lock_init(&log_state.targets[i]);
	log_cs_lock_reset();
	tls_wrlocked = 0;
	tls_rdlocked = 0;
	tls_nested = 0;
}

/* Record @p pid as ours; returns 0 if it already was. */
int log_pid_update(pid_t pid)
{
	if (pid == log_state.pid)
		return 0;
	log_state.pid = pid;
	return 1;
}

/* ---- small accessors ---------------------------------------------------- */

int log_is_initialised(void)
{
	return __atomic_load_n(&log_hot.initialised, __ATOMIC_ACQUIRE);
}

struct qb_log_target *qb_log_target_get(int32_t pos)
{
	if (pos < 0 || pos >= QB_LOG_TARGET_MAX)
		return NULL;
	return &log_state.targets[pos];
}

qb_log_tags_stringify_fn log_tags_fn_get(void)
{
	return __atomic_load_n(&log_hot.tags_fn, __ATOMIC_ACQUIRE);
}

qb_log_filter_fn log_filter_fn_get(void)
{
	return __atomic_load_n(&log_hot.filter_fn, __ATOMIC_ACQUIRE);
}

int32_t log_filter_fn_store(qb_log_filter_fn fn)
{
	__atomic_store_n(&log_hot.filter_fn, fn, __ATOMIC_RELEASE);
	return 0;
}

void qb_log_tags_stringify_fn_set(qb_log_tags_stringify_fn fn)
{
	__atomic_store_n(&log_hot.tags_fn, fn, __ATOMIC_RELEASE);
}

void log_util_fn_set(qb_log_util_fn fn)
{
	__atomic_store_n(&log_hot.util_fn, fn, __ATOMIC_RELEASE);
}

void log_in_logger_set(int on)
{
	tls_in_logger = on;
}

/* ---- slot defaults ---------------------------------------------------- */

void log_slot_format_expand(struct qb_log_target *t)
{
	log_format_static(t, t->format ? t->format : QB_LOG_DEFAULT_FORMAT, t->format_static);
}

void log_slot_format_store(struct qb_log_target *t, const char *format)
{
	char *copy = format ? strdup(format) : NULL;

	free(t->format);
	t->format = copy;
	log_slot_format_expand(t);
}

/* What qb_log_init() sets on every slot, except the format. */
static void slot_init_options(struct qb_log_target *t)
{
	snprintf(t->name, sizeof(t->name), "%s", log_state.init_name);
	t->facility = log_state.init_facility;
	__atomic_store_n(&t->max_line_length, QB_LOG_MAX_LEN, __ATOMIC_RELAXED);
	t->extended = QB_TRUE;
	t->file_sync = QB_FALSE;
}

static void slot_init_fields(struct qb_log_target *t)
{
	slot_init_options(t);
	log_slot_format_store(t, NULL);
}

/*
 * A dynamic slot forgets everything of its previous user, but a format set
 * on the slot while it was unused stays: applications set the format of
 * every slot first and open their files afterwards. Freeing a slot resets
 * its format (see log_slot_free).
 */
static void slot_reset(struct qb_log_target *t)
{
	__atomic_store_n(&t->threaded, QB_FALSE, __ATOMIC_RELAXED);
	t->ellipsis = QB_FALSE;
	t->priority_bump = 0;
	t->debug = 0;
	t->use_journal = 0;
	t->filename[0] = '\0';
	t->fp = NULL;
	t->file_mode = -1;
	t->reopen_ms = 0;
	t->user_data = NULL;
	t->instance = NULL;
	t->logger = NULL;
	__atomic_store_n(&t->vlogger, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&t->vlogger_self_locked, 0, __ATOMIC_RELAXED);
	t->close = NULL;
	t->reload = NULL;
	slot_init_options(t);
}

/* ---- enable / disable ------------------------------------------------- */

int32_t log_slot_enable(struct qb_log_target *t)
{
	int32_t rc = 0;

	log_slot_wrlock(t);
	if (t->state != QB_LOG_STATE_ENABLED) {
		rc = log_targets_open(t);
		if (rc == 0)
			__atomic_store_n(&t->state, QB_LOG_STATE_ENABLED, __ATOMIC_RELEASE);
	}
	log_slot_unlock(t);
	return rc;
}

/* Disable @p t; with @p always_close also call the close callback of a
 * slot that was not enabled (used when freeing a slot). */
void log_slot_disable(struct qb_log_target *t, int always_close)
{
	int was_enabled;
	qb_log_close_fn close_fn;

	log_slot_wrlock(t);
	was_enabled = (t->state == QB_LOG_STATE_ENABLED);
	if (was_enabled)
		__atomic_store_n(&t->state, QB_LOG_STATE_DISABLED, __ATOMIC_RELEASE);
	close_fn = t->close;
	log_slot_unlock(t);
	/* No log call uses the slot any more: release its resources
	 * without holding its lock (the callback may log elsewhere). */
	if ((was_enabled || always_close) && close_fn != NULL)
		close_fn((int32_t)t->pos);
}

/* ---- init / fini ------------------------------------------------------ */

/*
 * A second qb_log_init() without qb_log_fini() starts over like upstream:
 * every slot goes back to its initial state (dynamic slots become unused,
 * without calling their close callbacks). Streams we opened are closed.
 */
static void reinit_release(void)
{
	int32_t i;

	for (i = QB_LOG_TARGET_DYNAMIC_START; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = &log_state.targets[i];

		log_slot_wrlock(t);
		__atomic_store_n(&t->state, QB_LOG_STATE_UNUSED, __ATOMIC_RELEASE);
		log_slot_unlock(t);
		if (t->fp != NULL)
			log_targets_file_close(i);
	}
}

void qb_log_init(const char *name, int32_t facility, uint8_t priority)
{
	int32_t i;

	pthread_once(&locks_once, locks_init_once);
	log_cfg_lock();
	if (log_is_initialised())
		reinit_release();
	snprintf(log_state.init_name, sizeof(log_state.init_name), "%s", name ? name : "");
	log_state.init_facility = facility;
	log_state.pid = getpid();
	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = &log_state.targets[i];

		log_slot_wrlock(t);
		slot_init_fields(t);
		__atomic_store_n(&t->state,
				 (i < QB_LOG_TARGET_STATIC_MAX) ? QB_LOG_STATE_DISABLED
								: QB_LOG_STATE_UNUSED,
				 __ATOMIC_RELEASE);
		log_slot_unlock(t);
	}
	log_targets_static_setup(&log_state.targets[QB_LOG_SYSLOG],
				 &log_state.targets[QB_LOG_STDERR],
				 &log_state.targets[QB_LOG_STDOUT]);
	__atomic_store_n(&log_hot.initialised, 1, __ATOMIC_RELEASE);
	log_slot_enable(&log_state.targets[QB_LOG_SYSLOG]);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", priority);
	log_cfg_unlock();
}

void qb_log_fini(void)
{
	int32_t i;

	if (!log_is_initialised())
		return;
	log_thread_shutdown();
	log_cfg_lock();
	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = &log_state.targets[i];

		log_slot_disable(t, QB_FALSE);
		if (t->fp != NULL && i >= QB_LOG_TARGET_DYNAMIC_START)
			log_targets_file_close(i);
	}
	__atomic_store_n(&log_hot.initialised, 0, __ATOMIC_RELEASE);
	log_filter_free_all();
	log_cs_free_all();
	log_cfg_unlock();
}

/* ---- slot allocation (file / custom targets) -------------------------- */

struct qb_log_target *log_slot_alloc(void)
{
	int32_t i;

	for (i = QB_LOG_TARGET_DYNAMIC_START; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = &log_state.targets[i];

		if (t->state == QB_LOG_STATE_UNUSED) {
			log_slot_wrlock(t);
			slot_reset(t);
			__atomic_store_n(&t->state, QB_LOG_STATE_DISABLED, __ATOMIC_RELEASE);
			log_slot_unlock(t);
			return t;
		}
	}
	return NULL;
}

void log_slot_free(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	if (t == NULL || pos < QB_LOG_TARGET_DYNAMIC_START)
		return;
	log_cfg_lock();
	if (!log_is_initialised() || t->state == QB_LOG_STATE_UNUSED) {
		log_cfg_unlock();
		return;
	}
	log_slot_disable(t, QB_TRUE);
	log_filter_slot_clear(pos);
	log_slot_wrlock(t);
	slot_reset(t);
	log_slot_format_store(t, NULL);
	__atomic_store_n(&t->state, QB_LOG_STATE_UNUSED, __ATOMIC_RELEASE);
	log_slot_unlock(t);
	log_cfg_unlock();
}

/* Upstream exported allocator names; same behaviour as above. */
struct qb_log_target *qb_log_target_alloc(void);
struct qb_log_target *qb_log_target_alloc(void)
{
	struct qb_log_target *t;

	log_cfg_lock();
	t = log_is_initialised() ? log_slot_alloc() : NULL;
	log_cfg_unlock();
	return t;
}

void qb_log_target_free(struct qb_log_target *t);
void qb_log_target_free(struct qb_log_target *t)
{
	if (t != NULL)
		log_slot_free((int32_t)t->pos);
}
