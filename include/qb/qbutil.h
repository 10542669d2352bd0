/*
 * qbutil.h - thread locks, time helpers, a stopwatch, strerror and the
 * library version.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_UTIL_H_DEFINED
#define QB_UTIL_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include <qb/qbdefs.h>

/** Kinds of lock qb_thread_lock_create() can make. */
typedef enum {
	QB_THREAD_LOCK_SHORT,	/**< spinlock, for very short critical sections */
	QB_THREAD_LOCK_LONG,	/**< mutex, may sleep while waiting */
} qb_thread_lock_type_t;

struct qb_thread_lock_s;
/** Opaque lock handle. */
typedef struct qb_thread_lock_s qb_thread_lock_t;

/**
 * Create a lock. Both kinds are initialised process-shared and are not
 * recursive: locking twice from one thread deadlocks.
 * @param type QB_THREAD_LOCK_SHORT (spinlock) or QB_THREAD_LOCK_LONG
 *        (mutex); any other value gets a mutex.
 * @return the lock, or NULL with errno set (ENOMEM, or the error of the
 *         underlying initialisation).
 */
qb_thread_lock_t *qb_thread_lock_create(qb_thread_lock_type_t type);

/**
 * Acquire a lock, waiting as long as needed.
 * @param tl the lock.
 * @return 0 on success, or a negative errno (e.g. -EDEADLK).
 */
int32_t qb_thread_lock(qb_thread_lock_t *tl);

/**
 * Try to acquire a lock without waiting.
 * @param tl the lock.
 * @return 0 when acquired, -EBUSY when another holder has it, or another
 *         negative errno.
 */
int32_t qb_thread_trylock(qb_thread_lock_t *tl);

/**
 * Release a lock held by the caller.
 * @param tl the lock.
 * @return 0 on success, or a negative errno (e.g. -EPERM).
 */
int32_t qb_thread_unlock(qb_thread_lock_t *tl);

/**
 * Destroy a lock that nobody holds, and free it.
 * @param tl the lock.
 * @return 0 on success; -EBUSY when a LONG lock is still held (the lock is
 *         then left intact); -EINVAL for NULL.
 */
int32_t qb_thread_lock_destroy(qb_thread_lock_t *tl);

/**
 * Old-style receiver for the library's internal messages.
 * @param file_name source file of the message.
 * @param file_line source line of the message.
 * @param severity syslog priority (LOG_ERR, LOG_DEBUG, ...).
 * @param msg the formatted message.
 */
typedef void (*qb_util_log_fn_t)(const char *file_name,
				 int32_t file_line,
				 int32_t severity, const char *msg);

/**
 * Deprecated: use the qblog.h API with the QB_LOG_TAG_LIBQB_MSG tag.
 * Registers fn to receive the library's own diagnostic messages (in
 * addition to the logging API); NULL unregisters it.
 * @param fn the receiver, or NULL.
 */
void qb_util_set_log_function(qb_util_log_fn_t fn) QB_GNUC_DEPRECATED;

/**
 * Add a number of milliseconds to a timespec. tv_nsec stays within
 * [0, 10^9) also when ms is negative.
 * @param ts the time to change.
 * @param ms milliseconds to add (negative values subtract).
 */
void qb_timespec_add_ms(struct timespec *ts, int32_t ms);

/**
 * Monotonic time (CLOCK_MONOTONIC) in nanoseconds. Async-signal safe.
 * @return nanoseconds since an arbitrary fixed point.
 */
uint64_t qb_util_nano_current_get(void);

/**
 * Resolution of the monotonic clock as a frequency.
 * @return ticks per second (10^9 divided by the clock's resolution in ns).
 */
uint64_t qb_util_nano_monotonic_hz(void);

/**
 * Wall-clock time (CLOCK_REALTIME_COARSE) in nanoseconds since the epoch.
 * Cheap but only as precise as the kernel tick. Async-signal safe.
 * @return nanoseconds since 1970-01-01 UTC.
 */
uint64_t qb_util_nano_from_epoch_get(void);

/**
 * Wall-clock time (CLOCK_REALTIME_COARSE) as a timespec.
 * @param ts receives the time.
 */
void qb_util_timespec_from_epoch_get(struct timespec *ts);

/**
 * Describe an errno value (GNU strerror_r semantics).
 * @param errnum the error number.
 * @param buf buffer that may receive the text.
 * @param buflen size of buf.
 * @return the description: either buf or a static string. Thread safe.
 */
char *qb_strerror_r(int errnum, char *buf, size_t buflen);

/** Opaque stopwatch handle. */
typedef struct qb_util_stopwatch qb_util_stopwatch_t;

/** Split option: when all split slots are used, reuse the oldest one. */
#define QB_UTIL_SW_OVERWRITE 0x01

/**
 * Create a stopped stopwatch with no split slots.
 * @return the stopwatch, or NULL when memory runs out.
 */
qb_util_stopwatch_t *qb_util_stopwatch_create(void);

/**
 * Free a stopwatch.
 * @param sw the stopwatch.
 */
void qb_util_stopwatch_free(qb_util_stopwatch_t *sw);

/**
 * Start (or restart) timing: records the start time, clears the stop
 * time and forgets all splits.
 * @param sw the stopwatch.
 */
void qb_util_stopwatch_start(qb_util_stopwatch_t *sw);

/**
 * Record the stop time.
 * @param sw the stopwatch.
 */
void qb_util_stopwatch_stop(qb_util_stopwatch_t *sw);

/**
 * Time between the last start and the stop that followed it.
 * @param sw the stopwatch.
 * @return elapsed microseconds; 0 unless the stopwatch was started and
 *         then stopped.
 */
uint64_t qb_util_stopwatch_us_elapsed_get(qb_util_stopwatch_t *sw);

/**
 * Same as qb_util_stopwatch_us_elapsed_get() in seconds.
 * @param sw the stopwatch.
 * @return elapsed seconds.
 */
float qb_util_stopwatch_sec_elapsed_get(qb_util_stopwatch_t *sw);

/**
 * Set the number of split times the stopwatch keeps. Calling it again
 * resizes the slots and forgets the splits recorded so far; 0 removes them.
 * @param sw the stopwatch.
 * @param max_splits number of split times to keep.
 * @param options 0 (further splits are refused once the slots are full) or
 *        QB_UTIL_SW_OVERWRITE (the oldest split is reused).
 * @return 0 on success, -ENOMEM when memory runs out.
 */
int32_t qb_util_stopwatch_split_ctl(qb_util_stopwatch_t *sw,
				    uint32_t max_splits, uint32_t options);

/**
 * Record a split time. Splits are numbered 0, 1, 2, ... from the last
 * qb_util_stopwatch_start(); with QB_UTIL_SW_OVERWRITE numbering keeps
 * going and only the newest max_splits remain queryable.
 * @param sw the stopwatch.
 * @return microseconds since the previous split (or since start for the
 *         first one); 0 when the stopwatch was never started, has no split
 *         slots, or is full and overwriting is off (nothing is recorded).
 */
uint64_t qb_util_stopwatch_split(qb_util_stopwatch_t *sw);

/**
 * Number of the latest split (zero based).
 * @param sw the stopwatch.
 * @return the last split's number, or 0 when there is none.
 */
uint32_t qb_util_stopwatch_split_last(qb_util_stopwatch_t *sw);

/**
 * Time between two recorded splits.
 * @param sw the stopwatch.
 * @param receint number of the later split.
 * @param older number of the earlier split; equal to receint to get the
 *        time from the start to that split.
 * @return microseconds from older to receint, or 0 when a split is not
 *         (or no longer) recorded or older is after receint.
 */
uint64_t qb_util_stopwatch_time_split_get(qb_util_stopwatch_t *sw,
					  uint32_t receint, uint32_t older);

/** The library version as numbers plus a free-form suffix. */
extern const struct qb_version {
	uint8_t major;		/**< major number */
	uint8_t minor;		/**< minor number */
	uint8_t micro;		/**< micro number */
	const char *rest;	/**< suffix after the numbers, often "" */
} qb_ver;

/** The library version as a string such as "2.1.0". */
extern const char *const qb_ver_str;

#ifdef __cplusplus
}
#endif

#endif /* QB_UTIL_H_DEFINED */
