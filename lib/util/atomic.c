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

int32_t qb_atomic_int_exchange_and_add(volatile int32_t QB_GNUC_MAY_ALIAS *atomic, int32_t val)
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

/*
 * get and set are full barriers.  On x86-64 a locked instruction is one, and
 * is cheaper than mfence: a get is a locked no-op on the stack followed by the
 * load, a set is xchg (barrier on both sides of the store, where libqb's set
 * only orders what came before it).  Elsewhere the compiler's full barrier.
 */
#if defined(__x86_64__)
static inline void full_barrier(void)
{
	__asm__ __volatile__("lock orq $0, -8(%%rsp)" ::: "memory", "cc");
}
#else
static inline void full_barrier(void)
{
	__sync_synchronize();
}
#endif

/* The header turns the names below into macros; parenthesise to define them. */
int32_t(qb_atomic_int_get)(volatile int32_t QB_GNUC_MAY_ALIAS *atomic)
{
	full_barrier();
	return *atomic;
}

void(qb_atomic_int_set)(volatile int32_t QB_GNUC_MAY_ALIAS *atomic, int32_t newval)
{
	(void)__atomic_exchange_n(atomic, newval, __ATOMIC_SEQ_CST);
}

void *(qb_atomic_pointer_get)(volatile void *QB_GNUC_MAY_ALIAS *atomic)
{
	full_barrier();
	return (void *)*atomic;
}

void(qb_atomic_pointer_set)(volatile void *QB_GNUC_MAY_ALIAS *atomic, void *newval)
{
	(void)__atomic_exchange_n(atomic, newval, __ATOMIC_SEQ_CST);
}
