/*
 * log_dispatch.c - the log call: qb_log_real_() and friends decide which
 * slots want a callsite, render the text once and hand it to each slot.
 * The state it reads (slots, per-thread flags) is in log.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log/log_core.h"
#include "log/blackbox_internal.h"

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
	if (tls_in_logger || !log_is_initialised())
		return;
	tls_in_logger = 1;
	log_dispatch(cs, bits, util_fn, ap);
	tls_in_logger = 0;
}

/* A vlogger other than the blackbox's own, with the time of the call. */
static void __attribute__((noinline))
vlogger_call(qb_log_vlogger_fn fn, struct qb_log_callsite *cs, va_list ap)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	fn(QB_LOG_BLACKBOX, cs, &ts, ap);
}

/*
 * Only the blackbox wants @p cs (every debug line of a daemon that keeps
 * a blackbox): what log_slow() + log_dispatch() do for that one slot,
 * without the generic walk over the slots. The blackbox's vlogger orders
 * itself against close (vlogger_self_locked), so no slot lock is taken.
 */
static inline __attribute__((always_inline)) void blackbox_only(struct qb_log_callsite *cs,
								va_list ap)
{
	struct qb_log_target *t = &log_state.targets[QB_LOG_BLACKBOX];
	qb_log_vlogger_fn fn;

	/* log_is_initialised() is exported: calling it costs a PLT jump */
	if (tls_in_logger || !__atomic_load_n(&log_hot.initialised, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != QB_LOG_STATE_ENABLED ||
	    (tls_wrlocked & (1U << QB_LOG_BLACKBOX)))
		return;
	fn = __atomic_load_n(&t->vlogger, __ATOMIC_ACQUIRE);
	if (fn == NULL || !__atomic_load_n(&t->vlogger_self_locked, __ATOMIC_RELAXED)) {
		log_slow(cs, 1U << QB_LOG_BLACKBOX, NULL, ap);
		return;
	}
	tls_in_logger = 1;
	if (__builtin_expect(fn == bb_vlogger, 1))
		bb_record(cs, ap); /* no call through the pointer; it reads the clock */
	else
		vlogger_call(fn, cs, ap);
	tls_in_logger = 0;
}

static void __attribute__((noinline)) log_blackbox_only(struct qb_log_callsite *cs, va_list ap)
{
	blackbox_only(cs, ap);
}

/* Nobody wants @p cs: the common case, decided without va_start. */
static inline int log_unwanted(const struct qb_log_callsite *cs, uint32_t *bits,
			       qb_log_util_fn *util_fn)
{
	*bits = __atomic_load_n(&cs->targets, __ATOMIC_RELAXED);
	*util_fn = NULL;
	if (__builtin_expect(__atomic_load_n(&cs->tags, __ATOMIC_RELAXED) & QB_LOG_TAG_LIBQB_MSG,
			     0))
		*util_fn = __atomic_load_n(&log_hot.util_fn, __ATOMIC_ACQUIRE);
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

#if defined(__x86_64__) && defined(__ELF__)
/*
 * qb_log_real_() runs for every qb_log() line, and most lines are wanted by
 * no target. A variadic C function stores its five other argument registers
 * before its first test; this entry tests first (what log_unwanted() tests:
 * no target bits, no libqb-message tag) and, when a target may want the
 * line, jumps to the C function with every argument register untouched.
 */
_Static_assert(offsetof(struct qb_log_callsite, targets) == 32, "targets offset");
_Static_assert(offsetof(struct qb_log_callsite, tags) == 36, "tags offset");
_Static_assert(QB_LOG_TAG_LIBQB_MSG == 0x80000000u, "libqb tag is the sign bit");
_Static_assert((1U << QB_LOG_BLACKBOX) == 4, "blackbox bit");
#ifdef __CET__
#define LOG_ENTRY_LANDING "\tendbr64\n"
#else
#define LOG_ENTRY_LANDING ""
#endif
__asm__(".pushsection .text\n"
	".globl qb_log_real_\n"
	".type qb_log_real_, @function\n"
	".p2align 4\n"
	"qb_log_real_:\n" LOG_ENTRY_LANDING "\ttest %rdi, %rdi\n"
	"\tje 1f\n"
	"\tmovl 32(%rdi), %r11d\n"
	"\ttestl %r11d, %r11d\n"
	"\tjne 2f\n"
	"\tcmpl $0, 36(%rdi)\n"
	"\tjs log_real_wanted\n"
	"1:\tret\n"
	"2:\tcmpl $4, %r11d\n"
	"\tjne log_real_wanted\n"
	"\tcmpl $0, 36(%rdi)\n"
	"\tjs log_real_wanted\n"
	"\tjmp log_blackbox_direct\n"
	".size qb_log_real_, .-qb_log_real_\n"
	".popsection\n");
#define LOG_REAL_C log_real_wanted
__attribute__((used, visibility("hidden"))) void log_real_wanted(struct qb_log_callsite *cs, ...);
__attribute__((used, visibility("hidden"))) void log_blackbox_direct(struct qb_log_callsite *cs,
								     ...);

/*
 * Entered from qb_log_real_ when the blackbox is the only target and no
 * libqb-message tag is set: one frame from the caller to the record
 * (log_real_wanted() and log_blackbox_only() would add two, and a call
 * through the slot's vlogger pointer).
 */
void log_blackbox_direct(struct qb_log_callsite *cs, ...)
{
	va_list ap;

	va_start(ap, cs);
	blackbox_only(cs, ap);
	va_end(ap);
}
#else
#define LOG_REAL_C qb_log_real_
#endif

void LOG_REAL_C(struct qb_log_callsite *cs, ...)
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
