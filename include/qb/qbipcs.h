/*
 * qbipcs.h - IPC server API.
 *
 * Part of a clean-room, ABI compatible implementation of libqb.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_IPCS_H_DEFINED
#define QB_IPCS_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <sys/types.h>
#include <sys/uio.h>
#include <qb/qbipc_common.h>
#include <qb/qbloop.h>

/**
 * @file qbipcs.h
 * Server side of libqb IPC.
 *
 * A service listens on a named socket, accepts clients (subject to the
 * connection_accept callback, which sees the client's kernel credentials),
 * hands each request to msg_process and lets the application answer with
 * qb_ipcs_response_send() or push events with qb_ipcs_event_send().
 * All calls are made from the thread that runs the main loop; none is
 * async-signal-safe. Functions return a negative errno on failure unless
 * stated otherwise.
 */

/** Request rate a service accepts from its clients. */
enum qb_ipcs_rate_limit {
	QB_IPCS_RATE_FAST,	/**< up to 50 requests per wake-up, high priority */
	QB_IPCS_RATE_NORMAL,	/**< up to 5 requests per wake-up (default) */
	QB_IPCS_RATE_SLOW,	/**< one request per wake-up, low priority */
	QB_IPCS_RATE_OFF,	/**< stop reading; clients get -EAGAIN */
	QB_IPCS_RATE_OFF_2,	/**< stop reading; only clients that set
				     qb_ipcc_fc_enable_max_set(c, 2) see it */
};

struct qb_ipcs_connection;
/** Opaque server-side connection. */
typedef struct qb_ipcs_connection qb_ipcs_connection_t;

struct qb_ipcs_service;
/** Opaque service. */
typedef struct qb_ipcs_service qb_ipcs_service_t;

/** Service-wide counters. */
struct qb_ipcs_stats {
	uint32_t active_connections;
	uint32_t closed_connections;
};

/** Per-connection counters (old layout, see qb_ipcs_connection_stats_2). */
struct qb_ipcs_connection_stats {
	int32_t client_pid;
	uint64_t requests;
	uint64_t responses;
	uint64_t events;
	uint64_t send_retries;
	uint64_t recv_retries;
	int32_t flow_control_state;
	uint64_t flow_control_count;
};

/** Per-connection counters, with the number of queued events. */
struct qb_ipcs_connection_stats_2 {
	int32_t client_pid;
	uint64_t requests;
	uint64_t responses;
	uint64_t events;
	uint64_t send_retries;
	uint64_t recv_retries;
	int32_t flow_control_state;
	uint64_t flow_control_count;
	uint32_t event_q_length;
};

/** Called by the main loop when @p fd has @p revents. */
typedef int32_t (*qb_ipcs_dispatch_fn_t) (int32_t fd, int32_t revents,
					  void *data);

/** Start polling @p fd for @p events at priority @p p. */
typedef int32_t (*qb_ipcs_dispatch_add_fn)(enum qb_loop_priority p,
					   int32_t fd,
					   int32_t events,
					   void *data,
					   qb_ipcs_dispatch_fn_t fn);

/** Change the events or priority of a polled @p fd. */
typedef int32_t (*qb_ipcs_dispatch_mod_fn)(enum qb_loop_priority p,
					   int32_t fd,
					   int32_t events,
					   void *data,
					   qb_ipcs_dispatch_fn_t fn);

/** Stop polling @p fd. */
typedef int32_t (*qb_ipcs_dispatch_del_fn)(int32_t fd);

/** Run @p dispatch_fn(data) once, soon, at priority @p p. */
typedef int32_t (*qb_ipcs_job_add_fn)(enum qb_loop_priority p,
				      void *data,
				      qb_loop_job_dispatch_fn dispatch_fn);

/**
 * The main-loop glue a service uses. Pass them with
 * qb_ipcs_poll_handlers_set() before qb_ipcs_run(); the functions of
 * qbloop.h on a qb_loop_t are the usual choice.
 *
 * dispatch_add, dispatch_mod and dispatch_del are required. job_add may be
 * NULL (GLib adaptors pass NULL): work that would be queued as a job (asking
 * a connection_closed callback that returned non-zero again) then runs at
 * the next dispatch of a timer descriptor the service registers with
 * dispatch_add. Every descriptor is registered at the service's priority
 * (see qb_ipcs_request_rate_limit()).
 */
struct qb_ipcs_poll_handlers {
	qb_ipcs_job_add_fn job_add;
	qb_ipcs_dispatch_add_fn dispatch_add;
	qb_ipcs_dispatch_mod_fn dispatch_mod;
	qb_ipcs_dispatch_del_fn dispatch_del;
};

/**
 * Decide whether a new client may connect. @p uid and @p gid come from the
 * kernel. Return 0 to accept, or a negative errno (typically -EACCES) that
 * the client receives as its connect error.
 */
typedef int32_t (*qb_ipcs_connection_accept_fn) (qb_ipcs_connection_t *c,
						 uid_t uid, gid_t gid);

/** The connection is set up and may be used. */
typedef void (*qb_ipcs_connection_created_fn) (qb_ipcs_connection_t *c);

/**
 * The client went away or the connection is being disconnected. Return 0
 * to let the library release it, non-zero to be asked again later.
 */
typedef int32_t (*qb_ipcs_connection_closed_fn) (qb_ipcs_connection_t *c);

/** The last reference is gone; free the application's per-connection data. */
typedef void (*qb_ipcs_connection_destroyed_fn) (qb_ipcs_connection_t *c);

/**
 * A request arrived. @p data points to the message (header first) and is
 * valid only during the call; @p size is the message length. Return 0, or
 * a negative value to stop processing further requests on this wake-up.
 */
typedef int32_t (*qb_ipcs_msg_process_fn) (qb_ipcs_connection_t *c,
		void *data, size_t size);

/** Application callbacks of a service (NULL members are skipped). */
struct qb_ipcs_service_handlers {
	qb_ipcs_connection_accept_fn connection_accept;
	qb_ipcs_connection_created_fn connection_created;
	qb_ipcs_msg_process_fn msg_process;
	qb_ipcs_connection_closed_fn connection_closed;
	qb_ipcs_connection_destroyed_fn connection_destroyed;
};

/**
 * Create (but do not start) a service.
 *
 * @param name service name clients connect to
 * @param service_id application value reported by qb_ipcs_service_id_get()
 * @param type transport (QB_IPC_NATIVE, QB_IPC_SHM or QB_IPC_SOCKET)
 * @param handlers callbacks; copied
 * @return the service (reference count 1), or NULL with errno set.
 */
qb_ipcs_service_t *qb_ipcs_create(const char *name,
				  int32_t service_id,
				  enum qb_ipc_type type,
				  struct qb_ipcs_service_handlers *handlers);

/** Take a reference on a service. */
void qb_ipcs_ref(qb_ipcs_service_t *s);

/** Drop a reference; the last one frees the service. */
void qb_ipcs_unref(qb_ipcs_service_t *s);

/** Set the main-loop glue (copied) used by qb_ipcs_run() and later. */
void qb_ipcs_poll_handlers_set(qb_ipcs_service_t *s,
			       struct qb_ipcs_poll_handlers *handlers);

/** Attach an application pointer to the service. */
void qb_ipcs_service_context_set(qb_ipcs_service_t *s, void *context);

/** Return the service's application pointer. */
void *qb_ipcs_service_context_get(qb_ipcs_service_t *s);

/**
 * Start listening: bind the service name and register the listening socket
 * (and the service's timer descriptor) with the poll handlers, at the
 * priority set by qb_ipcs_request_rate_limit() (QB_LOOP_MED by default).
 *
 * On failure the service is destroyed as by qb_ipcs_destroy(): the
 * reference returned by qb_ipcs_create() is dropped, so unless the caller
 * took more references with qb_ipcs_ref() the object is freed and @p s
 * must not be used again (no qb_ipcs_unref() or qb_ipcs_destroy() after a
 * failed run). With extra references the object stays readable until the
 * last qb_ipcs_unref(), but it does not listen and must not be run again.
 * The one exception is a service that already runs: that call returns
 * -EALREADY and changes nothing.
 *
 * @return 0, or -errno: -EINVAL without dispatch_add, dispatch_mod or
 *         dispatch_del, -ENOTSUP for an unsupported transport, -EADDRINUSE
 *         when the name is taken, the error of dispatch_add, ...
 */
int32_t qb_ipcs_run(qb_ipcs_service_t *s);

/**
 * Stop listening, disconnect every client and drop the creation reference.
 */
void qb_ipcs_destroy(qb_ipcs_service_t *s);

/**
 * Change how fast requests are read, and the priority of the service's
 * descriptors: QB_IPCS_RATE_FAST -> QB_LOOP_HIGH, QB_IPCS_RATE_NORMAL ->
 * QB_LOOP_MED, QB_IPCS_RATE_SLOW, QB_IPCS_RATE_OFF and QB_IPCS_RATE_OFF_2 ->
 * QB_LOOP_LOW. Called before qb_ipcs_run(), it sets the priority at which
 * the listening socket and every later connection are registered; called
 * later, it moves every current connection with dispatch_mod. Every later
 * dispatch_mod keeps the priority.
 */
void qb_ipcs_request_rate_limit(qb_ipcs_service_t *s,
				enum qb_ipcs_rate_limit rl);

/**
 * Send a response. @p data starts with a qb_ipc_response_header whose size
 * field equals @p size.
 * @return @p size, or -EMSGSIZE (larger than the connection's buffer),
 *         -EAGAIN (client's queue full), -ENOTCONN, -EINVAL.
 */
ssize_t qb_ipcs_response_send(qb_ipcs_connection_t *c, const void *data,
			      size_t size);

/** Send a response gathered from @p iov (iov[0] holds the header). */
ssize_t qb_ipcs_response_sendv(qb_ipcs_connection_t *c,
			       const struct iovec *iov, size_t iov_len);

/**
 * Send an event the client did not ask for (header as for responses).
 * @return @p size or -errno as qb_ipcs_response_send().
 */
ssize_t qb_ipcs_event_send(qb_ipcs_connection_t *c, const void *data,
			   size_t size);

/** Send an event gathered from @p iov. */
ssize_t qb_ipcs_event_sendv(qb_ipcs_connection_t *c, const struct iovec *iov,
			    size_t iov_len);

/** Take a reference on a connection. */
void qb_ipcs_connection_ref(qb_ipcs_connection_t *c);

/** Drop a reference; the last one destroys the connection. */
void qb_ipcs_connection_unref(qb_ipcs_connection_t *c);

/** Close the connection to this client (callbacks run as usual). */
void qb_ipcs_disconnect(qb_ipcs_connection_t *c);

/** The service_id given to qb_ipcs_create() (-EINVAL for NULL). */
int32_t qb_ipcs_service_id_get(qb_ipcs_connection_t *c);

/** Attach an application pointer to a connection. */
void qb_ipcs_context_set(qb_ipcs_connection_t *c, void *context);

/** Return the connection's application pointer. */
void *qb_ipcs_context_get(qb_ipcs_connection_t *c);

/** Return the application pointer of the connection's service. */
void *qb_ipcs_connection_service_context_get(qb_ipcs_connection_t *c);

/**
 * Copy a connection's counters into @p stats, optionally resetting them.
 * Deprecated: prefer qb_ipcs_connection_stats_get_2().
 * @return 0 or -EINVAL.
 */
int32_t qb_ipcs_connection_stats_get(qb_ipcs_connection_t *c,
				     struct qb_ipcs_connection_stats *stats,
				     int32_t clear_after_read);

/**
 * Return a malloc()ed copy of a connection's counters (the caller frees it),
 * optionally resetting them. NULL (errno set) on error.
 */
struct qb_ipcs_connection_stats_2 *
qb_ipcs_connection_stats_get_2(qb_ipcs_connection_t *c,
			       int32_t clear_after_read);

/**
 * Copy the service counters into @p stats, optionally resetting the count
 * of closed connections.
 * @return 0 or -EINVAL.
 */
int32_t qb_ipcs_stats_get(qb_ipcs_service_t *pt,
			  struct qb_ipcs_stats *stats,
			  int32_t clear_after_read);

/**
 * First connection of a service (a reference is taken: unref it), or NULL.
 */
qb_ipcs_connection_t *qb_ipcs_connection_first_get(qb_ipcs_service_t *pt);

/**
 * Connection after @p current (a reference is taken: unref it), or NULL.
 */
qb_ipcs_connection_t *qb_ipcs_connection_next_get(qb_ipcs_service_t *pt,
						  qb_ipcs_connection_t *current);

/**
 * Choose owner and mode of the connection's shared files so that a client
 * of another user can open them. Only effective when called from the
 * connection_accept callback.
 */
void qb_ipcs_connection_auth_set(qb_ipcs_connection_t *conn, uid_t uid,
				 gid_t gid, mode_t mode);

/** Buffer size agreed with the client, or -EINVAL. */
int32_t qb_ipcs_connection_get_buffer_size(qb_ipcs_connection_t *conn);

/**
 * Make every new connection use a buffer of at least @p max_buf_size bytes.
 */
void qb_ipcs_enforce_buffer_size(qb_ipcs_service_t *s, uint32_t max_buf_size);

#ifdef __cplusplus
}
#endif

#endif /* QB_IPCS_H_DEFINED */
