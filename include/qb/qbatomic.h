/*
 * qbatomic.h - atomic operations on 32-bit integers and pointers.
 *
 * Every operation here is a full memory barrier. The plain get/set
 * operations are real library functions (qbconfig.h defines
 * QB_ATOMIC_OP_MEMORY_BARRIER_NEEDED), wrapped by macros that also check
 * at compile time that the argument has the right size.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_ATOMIC_H_DEFINED
#define QB_ATOMIC_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <stdint.h>
#include <qb/qbdefs.h>
#include <qb/qbconfig.h>

/**
 * Prepare the atomic operations for use.
 * Nothing needs preparing on the platforms we support; calling it is
 * harmless and kept for applications that do. Thread safe.
 */
void qb_atomic_init(void);

/**
 * Atomically add val to *atomic and return the value it had before.
 * @param atomic the integer to change.
 * @param val amount to add (may be negative).
 * @return the previous value of *atomic.
 * Thread and signal safe (lock free); full barrier.
 */
int32_t qb_atomic_int_exchange_and_add(volatile int32_t QB_GNUC_MAY_ALIAS *
				       atomic, int32_t val);

/**
 * Atomically add val to *atomic.
 * @param atomic the integer to change.
 * @param val amount to add (may be negative).
 * Thread and signal safe (lock free); full barrier.
 */
void qb_atomic_int_add(volatile int32_t QB_GNUC_MAY_ALIAS * atomic,
		       int32_t val);

/**
 * Atomically store newval in *atomic if it currently holds oldval.
 * @param atomic the integer to change.
 * @param oldval value expected in *atomic.
 * @param newval value to store when the expectation holds.
 * @return QB_TRUE when the store happened, QB_FALSE otherwise.
 * Thread and signal safe (lock free); full barrier.
 */
int32_t qb_atomic_int_compare_and_exchange(volatile int32_t QB_GNUC_MAY_ALIAS *
					   atomic, int32_t oldval,
					   int32_t newval);

/**
 * Atomically store newval in *atomic if it currently holds oldval.
 * @param atomic the pointer to change.
 * @param oldval pointer expected in *atomic.
 * @param newval pointer to store when the expectation holds.
 * @return QB_TRUE when the store happened, QB_FALSE otherwise.
 * Thread and signal safe (lock free); full barrier.
 */
int32_t qb_atomic_pointer_compare_and_exchange(volatile void *QB_GNUC_MAY_ALIAS
					       * atomic, void *oldval,
					       void *newval);

/**
 * Read *atomic after a full memory barrier.
 * @param atomic the integer to read.
 * @return its value.
 */
int32_t qb_atomic_int_get(volatile int32_t QB_GNUC_MAY_ALIAS * atomic);

/**
 * Write newval to *atomic, then issue a full memory barrier.
 * @param atomic the integer to write.
 * @param newval value to store.
 */
void qb_atomic_int_set(volatile int32_t QB_GNUC_MAY_ALIAS * atomic,
		       int32_t newval);

/**
 * Read the pointer *atomic after a full memory barrier.
 * @param atomic the pointer to read.
 * @return its value.
 */
void *qb_atomic_pointer_get(volatile void *QB_GNUC_MAY_ALIAS * atomic);

/**
 * Write newval to the pointer *atomic, then issue a full memory barrier.
 * @param atomic the pointer to write.
 * @param newval value to store.
 */
void qb_atomic_pointer_set(volatile void *QB_GNUC_MAY_ALIAS * atomic,
			   void *newval);

#ifndef QB_ATOMIC_OP_MEMORY_BARRIER_NEEDED
#define qb_atomic_int_get(atomic)		((int32_t)*(atomic))
#define qb_atomic_int_set(atomic, newval)	((void)(*(atomic) = (newval)))
#define qb_atomic_pointer_get(atomic)		((void *)*(atomic))
#define qb_atomic_pointer_set(atomic, newval)	((void *)(*(atomic) = (newval)))
#else
/* Reject, at compile time, arguments of the wrong width. */
#define QB_ATOMIC_SIZE_CHECK_(atomic, size) \
	((void)sizeof(char *[sizeof(*(atomic)) == (size) ? 1 : -1]))

#define qb_atomic_int_get(atomic)					\
	(QB_ATOMIC_SIZE_CHECK_(atomic, sizeof(int32_t)),		\
	 (qb_atomic_int_get)((volatile int32_t QB_GNUC_MAY_ALIAS *)	\
			     (volatile void *)(atomic)))
#define qb_atomic_int_set(atomic, newval)				\
	(QB_ATOMIC_SIZE_CHECK_(atomic, sizeof(int32_t)),		\
	 (qb_atomic_int_set)((volatile int32_t QB_GNUC_MAY_ALIAS *)	\
			     (volatile void *)(atomic), (newval)))
#define qb_atomic_pointer_get(atomic)					\
	(QB_ATOMIC_SIZE_CHECK_(atomic, sizeof(void *)),			\
	 (qb_atomic_pointer_get)((volatile void *QB_GNUC_MAY_ALIAS *)	\
				 (volatile void *)(atomic)))
#define qb_atomic_pointer_set(atomic, newval)				\
	(QB_ATOMIC_SIZE_CHECK_(atomic, sizeof(void *)),			\
	 (qb_atomic_pointer_set)((volatile void *QB_GNUC_MAY_ALIAS *)	\
				 (volatile void *)(atomic), (newval)))
#endif /* QB_ATOMIC_OP_MEMORY_BARRIER_NEEDED */

/** Atomically add one to *atomic. */
#define qb_atomic_int_inc(atomic) (qb_atomic_int_add((atomic), 1))

/** Atomically subtract one from *atomic; true when it became zero. */
#define qb_atomic_int_dec_and_test(atomic) \
	(qb_atomic_int_exchange_and_add((atomic), -1) == 1)

#ifdef __cplusplus
}
#endif

#endif /* QB_ATOMIC_H_DEFINED */
