/*
 * log_thread.c - the log thread that writes slots marked
 * QB_LOG_CONF_THREADED, so slow targets (files with FILE_SYNC, syslog)
 * do not delay the caller.
 *
 * Policy: a message is copied into a bounded FIFO, a preallocated byte
 * ring (no malloc per message; QUEUE_MAX bytes counting text + 1 +
 * RECORD_OVERHEAD per message, the upstream limit). When
 * it is full the message is dropped and counted; the caller never waits
 * for the writer. The count is exact: before its next message the thread
 * writes "<n> messages lost" to every enabled threaded slot.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "log/log_core.h"

#define QUEUE_MAX 512000
#define RECORD_OVERHEAD 48

/* A queued message: this header, then the text and its NUL. */
struct record {
	struct qb_log_callsite *cs;
	struct timespec ts;
	uint32_t text_size;
};
_Static_assert(sizeof(struct record) <= RECORD_OVERHEAD,
	       "the ring must never hold more than the accounted bytes");

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t head; /* read offset in ring */
	size_t tail; /* write offset in ring */
	size_t records;
	size_t bytes;  /* accounted as upstream */
	uint64_t lost; /* atomic */
	int running;   /* atomic: worker alive */
	int wanted;    /* qb_log_thread_start() was called */
	int stopping;
	pthread_t thread;
	int sched_set;
	int policy;
	int priority;
} lt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static char ring[QUEUE_MAX];

static size_t ring_put(size_t off, const void *src, size_t n)
{
	size_t first = n < QUEUE_MAX - off ? n : QUEUE_MAX - off;

	memcpy(ring + off, src, first);
	memcpy(ring, (const char *)src + first, n - first);
	return (off + n) % QUEUE_MAX;
}

static size_t ring_get(size_t off, void *dst, size_t n)
{
	size_t first = n < QUEUE_MAX - off ? n : QUEUE_MAX - off;

	memcpy(dst, ring + off, first);
	memcpy((char *)dst + first, ring, n - first);
	return (off + n) % QUEUE_MAX;
}

/* Internal callsite for the "messages lost" notice. */
static struct qb_log_callsite lost_cs = {
	.function = "qb_log_thread",
	.filename = __FILE__,
	.format = "%" PRIu64 " messages lost",
	.priority = LOG_ERR,
	.lineno = 0,
	.tags = QB_LOG_TAG_LIBQB_MSG,
};

static void write_threaded(struct qb_log_callsite *cs, struct timespec *ts, const char *text,
			   int all)
{
	uint32_t bits = all ? ~0U : __atomic_load_n(&cs->targets, __ATOMIC_RELAXED);
	int32_t i;

	for (i = 0; i < QB_LOG_TARGET_MAX; i++) {
		struct qb_log_target *t = qb_log_target_get(i);

		if (!(bits & (1U << i)) || !__atomic_load_n(&t->threaded, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&t->vlogger, __ATOMIC_RELAXED) != NULL ||
		    __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != QB_LOG_STATE_ENABLED)
			continue;
		log_slot_write(t, cs, ts, text);
	}
}

static void report_lost(const struct timespec *ts)
{
	uint64_t n = __atomic_exchange_n(&lt.lost, 0, __ATOMIC_ACQ_REL);
	char text[64];
	struct timespec now = *ts;

	if (n == 0)
		return;
	snprintf(text, sizeof(text), "%" PRIu64 " messages lost", n);
	write_threaded(&lost_cs, &now, text, 1);
}

static void *worker(void *arg)
{
	char text[QB_LOG_ABSOLUTE_MAX_LEN];
	struct record r;

	log_in_logger_set(1); /* loggers that log are dropped */
	pthread_mutex_lock(&lt.lock);
	for (;;) {
		if (lt.records == 0) {
			if (lt.stopping)
				break;
			pthread_cond_wait(&lt.cond, &lt.lock);
			continue;
		}
		lt.head = ring_get(lt.head, &r, sizeof(r));
		lt.head = ring_get(lt.head, text, r.text_size);
		lt.records--;
		lt.bytes -= r.text_size + RECORD_OVERHEAD;
		pthread_mutex_unlock(&lt.lock);

		report_lost(&r.ts);
		write_threaded(r.cs, &r.ts, text, 0);

		pthread_mutex_lock(&lt.lock);
	}
	pthread_mutex_unlock(&lt.lock);
	return NULL;
}

static int32_t sched_apply(pthread_t th, int policy, int priority)
{
	struct sched_param sp = {.sched_priority = priority};

	return -pthread_setschedparam(th, policy, &sp);
}

static int32_t thread_start_locked(void)
{
	int rc;

	if (lt.running)
		return 0;
	lt.stopping = 0;
	rc = pthread_create(&lt.thread, NULL, worker, NULL);
	if (rc != 0)
		return -rc;
	if (lt.sched_set) {
		int32_t e = sched_apply(lt.thread, lt.policy, lt.priority);

		if (e != 0) {
			lt.stopping = 1;
			pthread_cond_signal(&lt.cond);
			pthread_mutex_unlock(&lt.lock);
			pthread_join(lt.thread, NULL);
			pthread_mutex_lock(&lt.lock);
			return e;
		}
	}
	__atomic_store_n(&lt.running, 1, __ATOMIC_RELEASE);
	return 0;
}

int32_t qb_log_thread_start(void)
{
	int32_t rc;

	pthread_mutex_lock(&lt.lock);
	rc = thread_start_locked();
	if (rc == 0)
		__atomic_store_n(&lt.wanted, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lt.lock);
	return rc;
}

int32_t qb_log_thread_priority_set(int32_t policy, int32_t priority)
{
	int32_t rc = 0;

	if (policy == SCHED_OTHER || policy == SCHED_IDLE || policy == SCHED_BATCH)
		priority = 0;
	pthread_mutex_lock(&lt.lock);
	lt.policy = policy;
	lt.priority = priority;
	lt.sched_set = 1;
	if (lt.running)
		rc = sched_apply(lt.thread, policy, priority);
	pthread_mutex_unlock(&lt.lock);
	return rc;
}

int log_thread_post(struct qb_log_callsite *cs, struct timespec *ts, const char *text)
{
	size_t len = strnlen(text, QB_LOG_ABSOLUTE_MAX_LEN - 1);
	struct record r = {cs, *ts, (uint32_t)len + 1};

	if (!__atomic_load_n(&lt.running, __ATOMIC_ACQUIRE)) {
		/* In a forked child the worker is gone: start a new one. */
		if (!__atomic_load_n(&lt.wanted, __ATOMIC_RELAXED) || qb_log_thread_start() != 0)
			return -1;
	}
	pthread_mutex_lock(&lt.lock);
	if (lt.bytes + r.text_size + RECORD_OVERHEAD > QUEUE_MAX || lt.stopping) {
		pthread_mutex_unlock(&lt.lock);
		__atomic_add_fetch(&lt.lost, 1, __ATOMIC_RELAXED);
		return 0;
	}
	lt.tail = ring_put(lt.tail, &r, sizeof(r));
	lt.tail = ring_put(lt.tail, text, len);
	lt.tail = ring_put(lt.tail, "", 1);
	lt.records++;
	lt.bytes += r.text_size + RECORD_OVERHEAD;
	pthread_cond_signal(&lt.cond);
	pthread_mutex_unlock(&lt.lock);
	return 0;
}

/* Drain the queue, stop and join the worker; a later start works again. */
void log_thread_shutdown(void)
{
	pthread_mutex_lock(&lt.lock);
	__atomic_store_n(&lt.wanted, 0, __ATOMIC_RELAXED);
	if (!lt.running) {
		pthread_mutex_unlock(&lt.lock);
		return;
	}
	lt.stopping = 1;
	pthread_cond_signal(&lt.cond);
	pthread_mutex_unlock(&lt.lock);
	pthread_join(lt.thread, NULL);
	pthread_mutex_lock(&lt.lock);
	__atomic_store_n(&lt.running, 0, __ATOMIC_RELEASE);
	lt.stopping = 0;
	pthread_mutex_unlock(&lt.lock);
	report_lost(&(struct timespec){0, 0});
}

void log_thread_atfork_prepare(void)
{
	pthread_mutex_lock(&lt.lock);
}

void log_thread_atfork_parent(void)
{
	pthread_mutex_unlock(&lt.lock);
}

/* In the child the worker does not exist: drop the parent's queue (the
 * parent writes it) and let the next threaded message start a worker. */
void log_thread_atfork_child(void)
{
	pthread_mutex_init(&lt.lock, NULL);
	pthread_cond_init(&lt.cond, NULL);
	lt.head = lt.tail = 0;
	lt.records = 0;
	lt.bytes = 0;
	lt.lost = 0;
	lt.running = 0;
	lt.stopping = 0;
}

/* ---- upstream internal symbols ---------------------------------------- */

void qb_log_thread_log_post(struct qb_log_callsite *cs, struct timespec *ts, const char *buf);
void qb_log_thread_log_post(struct qb_log_callsite *cs, struct timespec *ts, const char *buf)
{
	if (cs != NULL && ts != NULL && buf != NULL && log_thread_post(cs, ts, buf) != 0)
		write_threaded(cs, ts, buf, 0);
}

void qb_log_thread_log_write(struct qb_log_callsite *cs, struct timespec *ts, const char *buf);
void qb_log_thread_log_write(struct qb_log_callsite *cs, struct timespec *ts, const char *buf)
{
	if (cs != NULL && ts != NULL && buf != NULL)
		write_threaded(cs, ts, buf, 0);
}

/* Upstream paused the worker around configuration; slot locks make that
 * unnecessary here. Kept as no-ops for the ABI. */
void qb_log_thread_pause(struct qb_log_target *t);
void qb_log_thread_pause(struct qb_log_target *t)
{
}

void qb_log_thread_resume(struct qb_log_target *t);
void qb_log_thread_resume(struct qb_log_target *t)
{
}

void qb_log_thread_stop(void);
void qb_log_thread_stop(void)
{
	log_thread_shutdown();
}
