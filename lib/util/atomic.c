/*
 * Atomic integer and pointer operations. Each one is a full memory
 * barrier, which is what applications built against qbatomic.h expect
 * (QB_ATOMIC_OP_MEMORY_BARRIER_NEEDED makes even get/set call in here).
 */
#include "config.h"
#include <qb/qbatomic.h>

void qb_atomic_init(void)
{
	/* The compiler builtins need no run-time setup. */
}

int32_t qb_atomic_int_exchange_and_add(volatile int32_t QB_GNUC_MAY_ALIAS *atomic,
				       int32_t val)
{
	return __sync_fetch_and_add(atomic, val);
}

void qb_atomic_int_add(volatile int32_t QB_GNUC_MAY_ALIAS *atomic, int32_t val)
{
	(void)__sync_fetch_and_add(atomic, val);
}

int32_t qb_atomic_int_compare_and_exchange(volatile int32_t QB_GNUC_MAY_ALIAS *atomic,
					   int32_t oldval, int32_t newval)
{
	return __sync_bool_compare_and_swap(atomic, oldval, newval) ? QB_TRUE : QB_FALSE;
}

int32_t qb_atomic_pointer_compare_and_exchange(volatile void *QB_GNUC_MAY_ALIAS *atomic,
					       void *oldval, void *newval)
{
	return __sync_bool_compare_and_swap(atomic, oldval, newval) ? QB_TRUE : QB_FALSE;
}

/* The header turns the names below into macros; parenthesise to define them. */
int32_t (qb_atomic_int_get)(volatile int32_t QB_GNUC_MAY_ALIAS *atomic)
{
	__sync_synchronize();
	return *atomic;
}

/* Barrier before the store (as libqb) and after it, so the store is also
 * ordered before whatever the caller does next. */
void (qb_atomic_int_set)(volatile int32_t QB_GNUC_MAY_ALIAS *atomic, int32_t newval)
{
	__sync_synchronize();
	*atomic = newval;
	__sync_synchronize();
}

void *(qb_atomic_pointer_get)(volatile void *QB_GNUC_MAY_ALIAS *atomic)
{
	__sync_synchronize();
	return (void *)*atomic;
}

void (qb_atomic_pointer_set)(volatile void *QB_GNUC_MAY_ALIAS *atomic, void *newval)
{
	__sync_synchronize();
	*atomic = newval;
	__sync_synchronize();
}
