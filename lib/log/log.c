/*
 * log.c - logging core: state and locks, init/fini, slot allocation and
 * the log call itself. Slot configuration (qb_log_ctl2 and friends) is in
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

#define TLS __attribute__((tls_model("initial-exec"))) __thread

struct qb_log_hot qb_log_hot __attribute__((aligned(64)));

static struct {
	pthread_mutex_t cfg_lock; /* recursive */
	struct qb_log_target targets[QB_LOG_TARGET_MAX];
	pid_t pid;
	char init_name[PATH_MAX];
	int32_t init_facility;
} log_state;

static pthread_once_t locks_once = PTHREAD_ONCE_INIT;
static int locks_ready;

/* Per thread: inside a log call (recursion is dropped), and the slots this
 * thread holds locked (so nested calls neither deadlock nor re-lock). */
static TLS int tls_in_logger;
static TLS uint32_t tls_wrlocked;
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

int qb_log_is_initialised(void)
{
	return __atomic_load_n(&qb_log_hot.initialised, __ATOMIC_ACQUIRE);
}

struct qb_log_target *qb_log_target_get(int32_t pos)
{
	if (pos < 0 || pos >= QB_LOG_TARGET_MAX)
		return NULL;
	return &log_state.targets[pos];
}

qb_log_tags_stringify_fn log_tags_fn_get(void)
{
	return __atomic_load_n(&qb_log_hot.tags_fn, __ATOMIC_ACQUIRE);
}

qb_log_filter_fn log_filter_fn_get(void)
{
	return __atomic_load_n(&qb_log_hot.filter_fn, __ATOMIC_ACQUIRE);
}

int32_t log_filter_fn_store(qb_log_filter_fn fn)
{
	__atomic_store_n(&qb_log_hot.filter_fn, fn, __ATOMIC_RELEASE);
	return 0;
}

void qb_log_tags_stringify_fn_set(qb_log_tags_stringify_fn fn)
{
	__atomic_store_n(&qb_log_hot.tags_fn, fn, __ATOMIC_RELEASE);
}

void log_util_fn_set(qb_log_util_fn fn)
{
	__atomic_store_n(&qb_log_hot.util_fn, fn, __ATOMIC_RELEASE);
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
	if (qb_log_is_initialised())
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
	__atomic_store_n(&qb_log_hot.initialised, 1, __ATOMIC_RELEASE);
	log_slot_enable(&log_state.targets[QB_LOG_SYSLOG]);
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", priority);
	log_cfg_unlock();
}

void qb_log_fini(void)
{
	int32_t i;

	if (!qb_log_is_initialised())
		return;
	log_thread_shutdown();
	log_cfg_lock();
	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = &log_state.targets[i];

		log_slot_disable(t, QB_FALSE);
		if (t->fp != NULL && i >= QB_LOG_TARGET_DYNAMIC_START)
			log_targets_file_close(i);
	}
	__atomic_store_n(&qb_log_hot.initialised, 0, __ATOMIC_RELEASE);
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
	if (!qb_log_is_initialised() || t->state == QB_LOG_STATE_UNUSED) {
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
	t = qb_log_is_initialised() ? log_slot_alloc() : NULL;
	log_cfg_unlock();
	return t;
}

void qb_log_target_free(struct qb_log_target *t);
void qb_log_target_free(struct qb_log_target *t)
{
	if (t != NULL)
		log_slot_free((int32_t)t->pos);
}

/* ---- the log call ----------------------------------------------------- */

/*
 * Apply the extended-information rule of slot @p t to @p text: returns the
 * text to write (possibly @p buf) or NULL when the slot gets nothing.
 */
static const char *extended_apply(const struct qb_log_target *t, const char *text, char *buf,
				  size_t size)
{
	const char *x = strchr(text, QB_XC);
	size_t cut;

	if (x == NULL)
		return text;
	cut = (size_t)(x - text);
	if (!t->extended && cut == 0)
		return NULL;
	if (t->extended && x[1] != '\0') {
		snprintf(buf, size, "%s", text);
		buf[cut] = '|';
		return buf;
	}
	if (cut >= size)
		cut = size - 1;
	memcpy(buf, text, cut);
	buf[cut] = '\0';
	return buf;
}

void log_slot_write(struct qb_log_target *t, struct qb_log_callsite *cs, struct timespec *ts,
		    const char *text)
{
	char buf[QB_LOG_ABSOLUTE_MAX_LEN];
	int locked;

	locked = log_slot_rdlock(t);
	if (t->state == QB_LOG_STATE_ENABLED && t->logger != NULL) {
		const char *msg = extended_apply(t, text, buf, sizeof(buf));

		if (msg != NULL)
			t->logger((int32_t)t->pos, cs, ts, msg);
	}
	if (locked)
		log_slot_unlock(t);
}

static void vlog_slot(struct qb_log_target *t, struct qb_log_callsite *cs, struct timespec *ts,
		      va_list ap)
{
	int locked;

	if (__atomic_load_n(&t->vlogger_self_locked, __ATOMIC_RELAXED)) {
		/* the blackbox: its writer lock orders this call against its
		 * close callback, which runs before callsites are freed */
		qb_log_vlogger_fn fn = __atomic_load_n(&t->vlogger, __ATOMIC_ACQUIRE);
		va_list aq;

		if (fn != NULL) {
			va_copy(aq, ap);
			fn((int32_t)t->pos, cs, ts, aq);
			va_end(aq);
		}
		return;
	}
	locked = log_slot_rdlock(t);

	if (t->state == QB_LOG_STATE_ENABLED && t->vlogger != NULL) {
		va_list aq;

		va_copy(aq, ap);
		t->vlogger((int32_t)t->pos, cs, ts, aq);
		va_end(aq);
	}
	if (locked)
		log_slot_unlock(t);
}

/* Render the message once for all text slots (upstream rules: cut to
 * max_len - 1, one trailing newline removed only if nothing was cut). */
static void text_render(char *text, size_t max_len, const char *format, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(text, max_len, format, aq);
	va_end(aq);
	if (n > 0 && (size_t)n < max_len && text[n - 1] == '\n')
		text[n - 1] = '\0';
}

static size_t line_length_for(uint32_t bits)
{
	size_t max = 0;
	int32_t i;

	for (i = 0; bits != 0; i++, bits >>= 1) {
		const struct qb_log_target *t = &log_state.targets[i];

		if ((bits & 1) &&
		    __atomic_load_n(&t->state, __ATOMIC_RELAXED) == QB_LOG_STATE_ENABLED &&
		    __atomic_load_n(&t->max_line_length, __ATOMIC_RELAXED) > max)
			max = __atomic_load_n(&t->max_line_length, __ATOMIC_RELAXED);
	}
	return max;
}

static void log_dispatch(struct qb_log_callsite *cs, uint32_t bits, qb_log_util_fn util_fn,
			 va_list ap)
{
	char text[QB_LOG_ABSOLUTE_MAX_LEN];
	struct timespec ts;
	size_t max_len = line_length_for(bits);
	int have_text = 0;
	int thread_tried = 0, thread_took = 0;
	int32_t i;

	if (max_len == 0)
		max_len = QB_LOG_MAX_LEN;
	if (max_len > sizeof(text))
		max_len = sizeof(text);
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);

	if (util_fn != NULL) {
		text_render(text, max_len, cs->format, ap);
		have_text = 1;
		util_fn(cs->filename, (int32_t)cs->lineno, (int32_t)cs->priority, text);
	}
	for (i = 0; bits != 0; i++, bits >>= 1) {
		struct qb_log_target *t = &log_state.targets[i];

		if (!(bits & 1) ||
		    __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != QB_LOG_STATE_ENABLED ||
		    (tls_wrlocked & (1U << i)))
			continue;
		if (__atomic_load_n(&t->vlogger, __ATOMIC_RELAXED) != NULL) {
			vlog_slot(t, cs, &ts, ap);
			continue;
		}
		if (!have_text) {
			text_render(text, max_len, cs->format, ap);
			have_text = 1;
		}
		if (__atomic_load_n(&t->threaded, __ATOMIC_RELAXED)) {
			if (!thread_tried) {
				thread_tried = 1;
				thread_took = log_thread_post(cs, &ts, text) == 0;
			}
			if (thread_took)
				continue;
		}
		log_slot_write(t, cs, &ts, text);
	}
}

/* The part of a log call that runs when some target may want it. */
static void __attribute__((noinline))
log_slow(struct qb_log_callsite *cs, uint32_t bits, qb_log_util_fn util_fn, va_list ap)
{
	if (tls_in_logger || !qb_log_is_initialised())
		return;
	tls_in_logger = 1;
	log_dispatch(cs, bits, util_fn, ap);
	tls_in_logger = 0;
}

/*
 * Only the blackbox wants @p cs (every debug line of a daemon that keeps
 * a blackbox): what log_slow() + log_dispatch() do for that one slot,
 * without the generic walk over the slots. The blackbox's vlogger orders
 * itself against close (vlogger_self_locked), so no slot lock is taken.
 */
static void __attribute__((noinline)) log_blackbox_only(struct qb_log_callsite *cs, va_list ap)
{
	struct qb_log_target *t = &log_state.targets[QB_LOG_BLACKBOX];
	qb_log_vlogger_fn fn;
	struct timespec ts;

	/* qb_log_is_initialised() is exported: calling it costs a PLT jump */
	if (tls_in_logger || !__atomic_load_n(&qb_log_hot.initialised, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != QB_LOG_STATE_ENABLED ||
	    (tls_wrlocked & (1U << QB_LOG_BLACKBOX)))
		return;
	fn = __atomic_load_n(&t->vlogger, __ATOMIC_ACQUIRE);
	if (fn == NULL || !__atomic_load_n(&t->vlogger_self_locked, __ATOMIC_RELAXED)) {
		log_slow(cs, 1U << QB_LOG_BLACKBOX, NULL, ap);
		return;
	}
	tls_in_logger = 1;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	fn(QB_LOG_BLACKBOX, cs, &ts, ap);
	tls_in_logger = 0;
}

/* Nobody wants @p cs: the common case, decided without va_start. */
static inline int log_unwanted(const struct qb_log_callsite *cs, uint32_t *bits,
			       qb_log_util_fn *util_fn)
{
	*bits = __atomic_load_n(&cs->targets, __ATOMIC_RELAXED);
	*util_fn = NULL;
	if (__builtin_expect(__atomic_load_n(&cs->tags, __ATOMIC_RELAXED) & QB_LOG_TAG_LIBQB_MSG,
			     0))
		*util_fn = __atomic_load_n(&qb_log_hot.util_fn, __ATOMIC_ACQUIRE);
	return *bits == 0 && *util_fn == NULL;
}

static inline void log_wanted(struct qb_log_callsite *cs, uint32_t bits, qb_log_util_fn util_fn,
			      va_list ap)
{
	if (bits == (1U << QB_LOG_BLACKBOX) && util_fn == NULL)
		log_blackbox_only(cs, ap);
	else
		log_slow(cs, bits, util_fn, ap);
}

void qb_log_real_va_(struct qb_log_callsite *cs, va_list ap)
{
	uint32_t bits;
	qb_log_util_fn util_fn;

	/* A NULL callsite (not initialised) is simply ignored; a call made
	 * from inside a logger of this thread would recurse: dropped. */
	if (cs == NULL || log_unwanted(cs, &bits, &util_fn))
		return;
	log_wanted(cs, bits, util_fn, ap);
}

void qb_log_real_(struct qb_log_callsite *cs, ...)
{
	va_list ap;
	uint32_t bits;
	qb_log_util_fn util_fn;

	if (cs == NULL || log_unwanted(cs, &bits, &util_fn))
		return;
	va_start(ap, cs);
	log_wanted(cs, bits, util_fn, ap);
	va_end(ap);
}

void qb_log_from_external_source_va2(const char *message_id, const char *function,
				     const char *filename, const char *format, uint8_t priority,
				     uint32_t lineno, uint32_t tags, va_list ap)
{
	struct qb_log_callsite *cs;

	cs = qb_log_callsite_get2(message_id, function, filename, format, priority, lineno, tags);
	qb_log_real_va_(cs, ap);
}

void qb_log_from_external_source_va(const char *function, const char *filename, const char *format,
				    uint8_t priority, uint32_t lineno, uint32_t tags, va_list ap)
{
	qb_log_from_external_source_va2(NULL, function, filename, format, priority, lineno, tags,
					ap);
}

void qb_log_from_external_source(const char *function, const char *filename, const char *format,
				 uint8_t priority, uint32_t lineno, uint32_t tags, ...)
{
	va_list ap;

	va_start(ap, tags);
	qb_log_from_external_source_va2(NULL, function, filename, format, priority, lineno, tags,
					ap);
	va_end(ap);
}
