/*
 * qbipcc.h - IPC client API.
 *
 * Part of a clean-room, ABI compatible implementation of libqb.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_IPCC_H_DEFINED
#define QB_IPCC_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <sys/types.h>
#include <sys/uio.h>
#include <qb/qbipc_common.h>

/**
 * @file qbipcc.h
 * Client side of libqb IPC.
 *
 * A client connects to a named service, sends requests (each starting with a
 * struct qb_ipc_request_header), receives the matching responses (each
 * starting with a struct qb_ipc_response_header) and may receive events the
 * server sends on its own. The transport (shared memory or sockets) is chosen
 * by the server. A connection object must be used by one thread at a time.
 * Functions return a negative errno on failure unless stated otherwise.
 * After fork() a child must not use its parent's connections.
 */

/** Opaque client connection. */
typedef struct qb_ipcc_connection qb_ipcc_connection_t;

/**
 * Connect to the service @p name and wait for the handshake to finish.
 *
 * @param name service name (as given to qb_ipcs_create() by the server)
 * @param max_msg_size largest message the client intends to exchange; the
 *        server may raise it (see qb_ipcc_get_buffer_size()); values below
 *        the protocol minimum are raised to it.
 * @return a connection, or NULL with errno set: ECONNREFUSED (no server),
 *         EACCES (refused by the server), ENOTCONN (server closed the
 *         handshake), EPERM, EINVAL, ENOMEM, ...
 * @note For SOCKET services, qb_ipcc_verify_dgram_max_msg_size() tells
 *       which message size the kernel really accepts.
 * @note Socket location: with QB_IPC_SOCKET_DIR set in the environment
 *       (an absolute directory), client and server use filesystem sockets
 *       in that directory; otherwise, if the file
 *       SYSCONFDIR/libqb/force-filesystem-sockets exists, in the
 *       build-time socket directory (configure --with-socket-dir);
 *       otherwise abstract sockets. Both peers must see the same setting.
 *       The variable is read once per process (ignored in setuid
 *       programs); a relative path makes connecting fail with EINVAL.
 *       QB_IPC_SOCKET_DIR is new in 2.1.0 (not in upstream libqb).
 */
qb_ipcc_connection_t *
qb_ipcc_connect(const char *name, size_t max_msg_size);

/**
 * As qb_ipcc_connect(), but give up when the server has not completed
 * the handshake within @p timeout_ms milliseconds (e.g. a server that
 * accepted the connection and then hangs); qb_ipcc_connect() waits for
 * ever. A negative @p timeout_ms waits for ever too.
 * Added in 2.1.0 (not in upstream libqb).
 *
 * @return a connection, or NULL with errno set: ETIMEDOUT when the time
 *         ran out, otherwise as qb_ipcc_connect().
 */
qb_ipcc_connection_t *
qb_ipcc_connect_timeout(const char *name, size_t max_msg_size,
			int32_t timeout_ms);

/**
 * Start a connection without waiting for the server's answer.
 *
 * @param name service name
 * @param max_msg_size as for qb_ipcc_connect()
 * @param connect_fd (out) descriptor that becomes readable when the server
 *        answered; add it to your main loop, then call
 *        qb_ipcc_connect_continue(). It is not the descriptor of
 *        qb_ipcc_fd_get().
 * @return a half-open connection, or NULL with errno set.
 */
qb_ipcc_connection_t *
qb_ipcc_connect_async(const char *name, size_t max_msg_size, int *connect_fd);

/**
 * Finish a connection started by qb_ipcc_connect_async().
 *
 * @param c the half-open connection
 * @return 0, or -errno; on failure the connection object is freed and
 *         must not be used again.
 */
int
qb_ipcc_connect_continue(struct qb_ipcc_connection *c);

/**
 * Find the largest datagram (up to @p max_msg_size, rounded down to a
 * multiple of 1024) that a unix datagram socket pair really carries.
 *
 * @return that size, or -1 when it cannot be determined.
 */
int32_t
qb_ipcc_verify_dgram_max_msg_size(size_t max_msg_size);

/**
 * Close a connection and free it. NULL is ignored.
 * Releases every descriptor and mapping of the connection.
 */
void qb_ipcc_disconnect(qb_ipcc_connection_t *c);

/**
 * Descriptor to poll for POLLIN to learn that an event is waiting.
 *
 * @param c connection
 * @param fd (out) the descriptor
 * @return 0, or -EINVAL for a NULL connection.
 */
int32_t qb_ipcc_fd_get(qb_ipcc_connection_t *c, int32_t *fd);

/**
 * Credentials of the server, as the kernel reported them at connect time.
 *
 * @param c connection
 * @param pid,uid,gid (out, each may be NULL) server pid, uid and gid
 * @return 0, or -EINVAL for a NULL connection.
 */
int32_t qb_ipcc_auth_get(qb_ipcc_connection_t *c, pid_t *pid, uid_t *uid,
			 gid_t *gid);

/**
 * Choose which server flow-control levels make sends fail with -EAGAIN.
 *
 * @param c connection
 * @param max 1 (default: QB_IPCS_RATE_OFF blocks sends) or 2 (also
 *        QB_IPCS_RATE_OFF_2 blocks them)
 * @return 0, or -EINVAL for a NULL connection or @p max > 2.
 */
int32_t qb_ipcc_fc_enable_max_set(qb_ipcc_connection_t *c, uint32_t max);

/**
 * Send one request.
 *
 * @param c connection
 * @param msg_ptr the message; it starts with a qb_ipc_request_header
 *        whose size field must equal @p msg_len
 * @param msg_len message length
 * @return @p msg_len, or -EMSGSIZE (larger than the buffer size), -EAGAIN
 *         (server flow control or full queue; retry later), -ENOTCONN
 *         (server gone), -EINVAL.
 */
ssize_t qb_ipcc_send(qb_ipcc_connection_t *c, const void *msg_ptr,
		     size_t msg_len);

/**
 * Send one request gathered from several buffers.
 *
 * @param c connection
 * @param iov buffers; iov[0] starts with a qb_ipc_request_header
 * @param iov_len number of buffers
 * @return total bytes sent, or -errno as qb_ipcc_send().
 */
ssize_t qb_ipcc_sendv(qb_ipcc_connection_t *c, const struct iovec *iov,
		      size_t iov_len);

/**
 * Receive the next response.
 *
 * @param c connection
 * @param msg_ptr buffer for the message (it starts with a
 *        qb_ipc_response_header)
 * @param msg_len buffer size
 * @param ms_timeout milliseconds to wait: 0 = do not wait, < 0 = forever
 * @return the message length, or -ETIMEDOUT, -ENOBUFS (buffer too small,
 *         message kept), -ENOTCONN, -EINVAL.
 */
ssize_t qb_ipcc_recv(qb_ipcc_connection_t *c, void *msg_ptr,
		     size_t msg_len, int32_t ms_timeout);

/**
 * Send a request and wait for its response (qb_ipcc_sendv() followed by
 * qb_ipcc_recv()).
 *
 * @param c connection
 * @param iov,iov_len the request
 * @param msg_ptr,msg_len buffer for the response
 * @param ms_timeout total milliseconds to wait for the response, < 0 =
 *        as long as the server is connected
 * @return the response length, or -errno.
 */
ssize_t qb_ipcc_sendv_recv(qb_ipcc_connection_t *c,
			   const struct iovec *iov, uint32_t iov_len,
			   void *msg_ptr, size_t msg_len,
			   int32_t ms_timeout);

/**
 * Receive the next event sent by the server.
 *
 * @param c connection
 * @param msg_ptr,msg_len buffer (the event starts with a
 *        qb_ipc_response_header)
 * @param ms_timeout 0 = do not wait, < 0 = forever, > 0 = milliseconds
 * @return the event length, or -EAGAIN (nothing within the timeout),
 *         -ENOTCONN, -ENOBUFS, -EINVAL.
 */
ssize_t qb_ipcc_event_recv(qb_ipcc_connection_t *c, void *msg_ptr,
			   size_t msg_len, int32_t ms_timeout);

/** Attach an application pointer to the connection. */
void qb_ipcc_context_set(qb_ipcc_connection_t *c, void *context);

/** Return the pointer stored with qb_ipcc_context_set() (NULL if none). */
void *qb_ipcc_context_get(qb_ipcc_connection_t *c);

/**
 * Check, without blocking, whether the server is still there.
 * @return QB_TRUE (1) or QB_FALSE (0).
 */
int32_t qb_ipcc_is_connected(qb_ipcc_connection_t *c);

/**
 * Buffer size agreed with the server: the largest request, response or
 * event of this connection. At least the size asked for in
 * qb_ipcc_connect(); the server may enforce a larger one.
 * @return size in bytes, or -EINVAL.
 */
int32_t qb_ipcc_get_buffer_size(qb_ipcc_connection_t *c);

#ifdef __cplusplus
}
#endif

#endif /* QB_IPCC_H_DEFINED */
