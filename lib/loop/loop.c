/* loop.c - placeholder bodies so users of qbloop.h link; replaced next. */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include <qb/qbloop.h>

qb_loop_t *qb_loop_create(void) { errno = ENOSYS; return NULL; }
void qb_loop_destroy(struct qb_loop *l) { }
void qb_loop_stop(qb_loop_t *l) { }
void qb_loop_run(qb_loop_t *l) { }
int32_t qb_loop_job_add(qb_loop_t *l, enum qb_loop_priority p, void *data,
			qb_loop_job_dispatch_fn fn) { return -ENOSYS; }
int32_t qb_loop_job_del(struct qb_loop *l, enum qb_loop_priority p, void *data,
			qb_loop_job_dispatch_fn fn) { return -ENOSYS; }
int32_t qb_loop_timer_add(qb_loop_t *l, enum qb_loop_priority p, uint64_t ns,
			  void *data, qb_loop_timer_dispatch_fn fn,
			  qb_loop_timer_handle *h) { return -ENOSYS; }
int32_t qb_loop_timer_del(qb_loop_t *l, qb_loop_timer_handle th) { return -ENOSYS; }
int32_t qb_loop_timer_is_running(qb_loop_t *l, qb_loop_timer_handle th) { return 0; }
uint64_t qb_loop_timer_expire_time_get(struct qb_loop *l, qb_loop_timer_handle th) { return 0; }
uint64_t qb_loop_timer_expire_time_remaining(struct qb_loop *l, qb_loop_timer_handle th) { return 0; }
int32_t qb_loop_poll_low_fds_event_set(qb_loop_t *l, qb_loop_poll_low_fds_event_fn fn) { return 0; }
int32_t qb_loop_poll_add(qb_loop_t *l, enum qb_loop_priority p, int32_t fd,
			 int32_t events, void *data, qb_loop_poll_dispatch_fn fn) { return -ENOSYS; }
int32_t qb_loop_poll_mod(qb_loop_t *l, enum qb_loop_priority p, int32_t fd,
			 int32_t events, void *data, qb_loop_poll_dispatch_fn fn) { return -ENOSYS; }
int32_t qb_loop_poll_del(qb_loop_t *l, int32_t fd) { return -ENOSYS; }
int32_t qb_loop_signal_add(qb_loop_t *l, enum qb_loop_priority p, int32_t sig,
			   void *data, qb_loop_signal_dispatch_fn fn,
			   qb_loop_signal_handle *h) { return -ENOSYS; }
int32_t qb_loop_signal_mod(qb_loop_t *l, enum qb_loop_priority p, int32_t sig,
			   void *data, qb_loop_signal_dispatch_fn fn,
			   qb_loop_signal_handle h) { return -ENOSYS; }
int32_t qb_loop_signal_del(qb_loop_t *l, qb_loop_signal_handle h) { return -ENOSYS; }
