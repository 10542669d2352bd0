/*
 * The deprecated qb_util_set_log_function(). The receiver is kept by the
 * log core (it calls it for every message tagged QB_LOG_TAG_LIBQB_MSG,
 * before the targets); this is only the public entry point.
 */
#include "config.h"
#include <qb/qbutil.h>
#include "log/log_internal.h"

void qb_util_set_log_function(qb_util_log_fn_t fn)
{
	log_util_fn_set(fn);
}
