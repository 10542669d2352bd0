/*
 * qbloop.h - a single-threaded event loop: fd readiness, one-shot timers,
 * deferred jobs and POSIX signals, dispatched at three priority levels.
 *
 * This file is part of a clean-room reimplementation of libqb's interface.
 * It is licensed under the LGPL-2.1-or-later, like the library it replaces.
 */
#ifndef QB_LOOP_H_DEFINED
#define QB_LOOP_H_DEFINED

/* *INDENT-OFF* */
#ifdef __cplusplus
extern "C" {
#endif
/* *INDENT-ON* */

#include <signal.h>
#include <stdint.h>
#include <poll.h>	/* users expect POLLIN, POLLOUT, ... to be visible */

/**
 * @file qbloop.h
 * The main loop.
 *
 * How a loop schedules work:
 * - Everything the loop runs (a job, an expired timer, an fd that became
 *   ready, a signal that arrived) is queued on the run list of its priority
 *   level and dispatched later in FIFO order.
 * - Each turn of the loop collects new work, waits in epoll_wait(2) for at
 *   most the time until the next timer, then dispatches up to four items
 *   per level, from HIGH down to a rotating lowest level: over three turns
 *   HIGH is served three times, MED twice and LOW once. No level starves.
 * - Jobs queued while dispatching run at the earliest in the next turn.
 *   When a turn finds nothing but such fresh jobs, it first waits up to
 *   50 ms for fd events (as libqb does), so a chain of jobs each queuing
 *   the next advances one link per 50 ms on an otherwise idle loop.
 * - Timers, fd events and signal deliveries are queued behind the jobs of
 *   their level that were moved in the same turn.
 *
 * Threads: qb_loop_job_add(), qb_loop_timer_add() and qb_loop_stop() may
 * be called from any thread while another thread runs the loop: the item
 * is queued under the loop's lock and the loop is woken from its wait (an
 * eventfd the loop makes on the first such call), so a job added from
 * another thread runs in the next turn and a new earlier timer is not
 * delayed behind a later one (since 2.1.0; upstream libqb left the loop
 * asleep). Every other call concerning a loop (qb_loop_job_del(),
 * qb_loop_timer_del() and the timer queries, polls, signals, create,
 * destroy, run) must be made from the thread running qb_loop_run() for it
 * (or while it does not run). Different loops may run in different
 * threads. No function here is async-signal-safe: never call them from a
 * signal handler (register the signal with qb_loop_signal_add() instead).
 *
 * Signals: handlers registered with qb_loop_signal_add() run as ordinary
 * callbacks in the loop, never in signal context.
 *
 * Fork: a loop made before fork(2) keeps working in the child. The child's
 * first loop operation gives the loop a fresh epoll instance of its own and
 * re-registers the loop's fds there, and the child gets its own signal pipe,
 * so nothing the child does (adding, deleting, waiting) ever changes the
 * parent's epoll set. The parent's loop is unaffected. Signals: in the
 * child, the inherited loop and any loop the child creates receive the
 * child's signals through pipes of the child's own; neither ever reads
 * or writes the parent's pipe, and the parent never sees the child's
 * signals. (Detection relies on
 * pthread_atfork(3); a raw clone(2) child must not use the parent's loop.)
 *
 * File descriptors the loop creates are close-on-exec and never 0, 1 or 2.
 */

/** Priority of a job, timer, fd or signal handler. */
enum qb_loop_priority {
	QB_LOOP_LOW = 0,	/**< served once every three turns */
	QB_LOOP_MED = 1,	/**< served twice every three turns */
	QB_LOOP_HIGH = 2,	/**< served on every turn */
};

/** An opaque loop. */
typedef struct qb_loop qb_loop_t;

/** Names one pending timer; 0 never names a timer. */
typedef uint64_t qb_loop_timer_handle;

/** Names one signal handler registration. */
typedef void *qb_loop_signal_handle;

/**
 * Called when a registered fd is ready.
 * @param fd the fd
 * @param revents the POLL* bits that happened
 * @param data the pointer given at registration
 * @return 0 (or any value >= 0) to stay registered; a negative value
 *         removes the fd from the loop.
 */
typedef int32_t (*qb_loop_poll_dispatch_fn) (int32_t fd, int32_t revents,
					     void *data);

/** Called once for a job. @param data the pointer given to qb_loop_job_add(). */
typedef void (*qb_loop_job_dispatch_fn) (void *data);

/** Called once when a timer expires. @param data the pointer given at qb_loop_timer_add(). */
typedef void (*qb_loop_timer_dispatch_fn) (void *data);

/**
 * Called in the loop for each delivery of a signal.
 * @param rsignal the signal number
 * @param data the pointer given at registration
 * @return 0 to keep the handler; non-zero removes it.
 */
typedef int32_t (*qb_loop_signal_dispatch_fn) (int32_t rsignal, void *data);

/**
 * Told when the process is running short of file descriptors.
 * @param not_enough 1 when entering the short state, 0 when leaving it
 * @param fds_available how many more fds the loop thinks it may register
 */
typedef void (*qb_loop_poll_low_fds_event_fn) (int32_t not_enough,
					       int32_t fds_available);

/**
 * Make a new loop.
 *
 * The first loop made while no default loop exists becomes the default
 * loop: every function here accepts NULL for it.
 * @return the loop, or NULL (errno set) when memory or fds ran out.
 */
qb_loop_t *qb_loop_create(void);

/**
 * Free a loop and everything still registered with it.
 *
 * Pending jobs and timers are dropped without being called; registered
 * fds are not closed; signal handlers of the loop are removed and their
 * signals reset to SIG_DFL. Destroying the default loop clears the
 * default. Must not be called from inside one of the loop's callbacks.
 * @param l the loop (NULL: the default loop)
 */
void qb_loop_destroy(struct qb_loop *l);

/**
 * Ask qb_loop_run() to return.
 *
 * Only sets a flag: the callback running now completes, then
 * qb_loop_run() returns without dispatching anything else. Queued work
 * stays queued for the next qb_loop_run(). Safe to call from a callback.
 * @param l the loop (NULL: the default loop)
 */
void qb_loop_stop(qb_loop_t *l);

/**
 * Run the loop until qb_loop_stop() is called.
 * @param l the loop (NULL: the default loop; nothing happens if there is none)
 */
void qb_loop_run(qb_loop_t *l);

/**
 * Queue a one-shot job.
 * @param l the loop (NULL: the default loop)
 * @param p the priority level
 * @param data passed to dispatch_fn
 * @param dispatch_fn called once with data
 * @return 0; -EINVAL for no loop, a NULL dispatch_fn or a priority outside
 *         LOW..HIGH; -ENOMEM.
 */
int32_t qb_loop_job_add(qb_loop_t *l,
			enum qb_loop_priority p,
			void *data,
			qb_loop_job_dispatch_fn dispatch_fn);

/**
 * Remove the oldest queued job with exactly this function and data.
 * @param l the loop (NULL: the default loop)
 * @param p the priority level the job was queued at
 * @param data the job's data
 * @param dispatch_fn the job's function
 * @return 0; -ENOENT when no such job is queued; -EINVAL for no loop, a
 *         NULL dispatch_fn or a bad priority.
 */
int32_t qb_loop_job_del(struct qb_loop *l,
			enum qb_loop_priority p,
			void *data,
			qb_loop_job_dispatch_fn dispatch_fn);

/**
 * Start a one-shot timer on CLOCK_MONOTONIC.
 *
 * The timer is due once strictly more than nsec_duration nanoseconds have
 * passed; it is then queued at priority p like a job. Timers fire in
 * expiry order. A handle becomes invalid as soon as its callback starts.
 * @param l the loop (NULL: the default loop)
 * @param p the priority level
 * @param nsec_duration delay in nanoseconds
 * @param data passed to dispatch_fn
 * @param dispatch_fn called once with data
 * @param timer_handle_out receives the handle (may be NULL)
 * @return 0; -EINVAL for no loop, a NULL dispatch_fn or a bad priority;
 *         -ENOMEM.
 */
int32_t qb_loop_timer_add(qb_loop_t *l,
			  enum qb_loop_priority p,
			  uint64_t nsec_duration,
			  void *data,
			  qb_loop_timer_dispatch_fn dispatch_fn,
			  qb_loop_timer_handle *timer_handle_out);

/**
 * Cancel a timer that has not been dispatched yet.
 * @param l the loop (NULL: the default loop)
 * @param th the handle from qb_loop_timer_add()
 * @return 0 when a pending (or expired but not yet dispatched) timer was
 *         cancelled; -EINVAL for no loop, 0, or a handle that names no such
 *         timer (already run, already deleted, never issued); -ERANGE for a
 *         handle whose slot part is out of range.
 */
int32_t qb_loop_timer_del(qb_loop_t *l, qb_loop_timer_handle th);

/**
 * Tell whether a timer is still waiting for its expiry.
 * @param l the loop (NULL: the default loop)
 * @param th the timer's handle
 * @return QB_TRUE (1) if pending, QB_FALSE (0) otherwise (expired, run,
 *         deleted or unknown).
 */
int32_t qb_loop_timer_is_running(qb_loop_t *l, qb_loop_timer_handle th);

/**
 * The absolute expiry time of a pending timer.
 * @param l the loop (NULL: the default loop)
 * @param th the timer's handle
 * @return CLOCK_MONOTONIC nanoseconds, or 0 when the handle names no
 *         pending timer.
 */
uint64_t qb_loop_timer_expire_time_get(struct qb_loop *l,
				       qb_loop_timer_handle th);

/**
 * Time left until a pending timer expires.
 * @param l the loop (NULL: the default loop)
 * @param th the timer's handle (any value is safe, also a stale one)
 * @return nanoseconds; 0 when the timer is overdue, already expired,
 *         deleted or unknown.
 */
uint64_t qb_loop_timer_expire_time_remaining(struct qb_loop *l,
					     qb_loop_timer_handle th);

/**
 * Set the function told when fds run short.
 *
 * Before each wait the loop compares the fds it has registered with the
 * soft RLIMIT_NOFILE minus a reserve of 50. It calls fn(1, available) when
 * at most one more fd is available, and fn(0, available) once more than
 * two are available again.
 * @param l the loop (NULL: the default loop)
 * @param fn the function, or NULL to stop being told
 * @return 0
 */
int32_t qb_loop_poll_low_fds_event_set(qb_loop_t *l,
				       qb_loop_poll_low_fds_event_fn fn);

/**
 * Watch an fd (level triggered).
 *
 * While the fd is ready for any of events, dispatch_fn is queued at
 * priority p each turn. POLLIN, POLLOUT, POLLPRI, POLLERR and POLLHUP are
 * understood; POLLERR and POLLHUP are always reported.
 * @param l the loop (NULL: the default loop)
 * @param p the priority level
 * @param fd the fd; it is not closed by the loop
 * @param events POLL* bits to wait for
 * @param data passed to dispatch_fn
 * @param dispatch_fn called as dispatch_fn(fd, revents, data)
 * @return 0; -EINVAL for no loop, a NULL dispatch_fn or a bad priority;
 *         -EEXIST when fd is already watched; otherwise the negative errno of
 *         epoll_ctl(2) (-EBADF, -EPERM for regular files, -ENOMEM).
 */
int32_t qb_loop_poll_add(qb_loop_t *l,
			 enum qb_loop_priority p,
			 int32_t fd,
			 int32_t events,
			 void *data,
			 qb_loop_poll_dispatch_fn dispatch_fn);

/**
 * Change the priority, events, data and function of a watched fd.
 * epoll is only told when the events change. An event already queued is
 * dispatched at its old level, to the new function.
 * @param l the loop (NULL: the default loop)
 * @param p the new priority level
 * @param fd the watched fd
 * @param events the new POLL* bits
 * @param data the new data
 * @param dispatch_fn the new function
 * @return 0; -EBADF when fd is not watched; -EINVAL for no loop, a NULL
 *         dispatch_fn or a bad priority; the negative errno of epoll_ctl(2).
 */
int32_t qb_loop_poll_mod(qb_loop_t *l,
			 enum qb_loop_priority p,
			 int32_t fd,
			 int32_t events,
			 void *data,
			 qb_loop_poll_dispatch_fn dispatch_fn);

/**
 * Stop watching an fd. May be called from the fd's own callback (the
 * callback's return value is then ignored).
 * @param l the loop (NULL: the default loop)
 * @param fd the fd
 * @return 0; -EBADF when fd is not watched, or when it was closed before
 *         this call (it is forgotten all the same); -EINVAL for no loop.
 */
int32_t qb_loop_poll_del(qb_loop_t *l, int32_t fd);

/**
 * Handle a signal in the loop.
 *
 * The library installs its own sigaction(2) handler (no SA_RESTART) for
 * sig; each delivery queues one call of dispatch_fn at priority p per
 * handler registered for sig, in registration order. The previous
 * disposition is not kept: removing the last handler resets sig to SIG_DFL.
 * @param l the loop (NULL: the default loop)
 * @param p the priority level
 * Signal numbers 1 to 64 can be handled (SIGKILL and SIGSTOP cannot be
 * caught, as ever); other numbers are accepted, as by libqb, but never
 * delivered. Each loop polls its own self-pipe, so handlers work on any
 * loop, from any thread running that loop.
 * @param sig the signal number
 * @param data passed to dispatch_fn
 * @param dispatch_fn called as dispatch_fn(sig, data)
 * @param handle receives the registration (may be NULL)
 * @return 0; -EINVAL for no loop, a NULL dispatch_fn or a bad priority;
 *         -ENOMEM; -EMFILE when no pipe can be made.
 */
int32_t qb_loop_signal_add(qb_loop_t *l,
			   enum qb_loop_priority p,
			   int32_t sig,
			   void *data,
			   qb_loop_signal_dispatch_fn dispatch_fn,
			   qb_loop_signal_handle *handle);

/**
 * Change a signal handler registration (priority, signal, data, function).
 * A delivery already queued keeps the values it was queued with.
 * @param l the loop (NULL: the default loop)
 * @param p the new priority level
 * @param sig the new signal number
 * @param data the new data
 * @param dispatch_fn the new function
 * @param handle the registration from qb_loop_signal_add()
 * @return 0; -EINVAL for no loop, a handle this loop did not issue, a NULL
 *         dispatch_fn or a bad priority.
 */
int32_t qb_loop_signal_mod(qb_loop_t *l,
			   enum qb_loop_priority p,
			   int32_t sig,
			   void *data,
			   qb_loop_signal_dispatch_fn dispatch_fn,
			   qb_loop_signal_handle handle);

/**
 * Remove a signal handler registration; a delivery of it still queued is
 * dropped and its signal is reset to SIG_DFL (then re-installed if another
 * handler still wants it).
 * May be called from the handler's own callback.
 * @param l the loop (NULL: the default loop)
 * @param handle the registration from qb_loop_signal_add()
 * @return 0; -EINVAL for no loop or a handle this loop did not issue.
 */
int32_t qb_loop_signal_del(qb_loop_t *l,
			   qb_loop_signal_handle handle);

/* *INDENT-OFF* */
#ifdef __cplusplus
}
#endif /* __cplusplus */
/* *INDENT-ON* */
#endif /* QB_LOOP_H_DEFINED */
