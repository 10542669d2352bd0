/* The deprecated qb_util_set_log_function() receiver. */
#include "config.h"
#include <qb/qbatomic.h>
#include "util/util_internal.h"

/*
 * The receiver of qb_util_set_log_function(). A pointer store is atomic on
 * our platforms; the barrier functions make the new value visible to the
 * logging threads promptly.
 */
static void *util_log_fn;

void qb_util_set_log_function(qb_util_log_fn_t fn)
{
	qb_atomic_pointer_set(&util_log_fn, (void *)fn);
}

qb_util_log_fn_t qb_util_log_fn_get(void)
{
	return (qb_util_log_fn_t)qb_atomic_pointer_get(&util_log_fn);
}
