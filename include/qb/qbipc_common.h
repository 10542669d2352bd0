/*
 * qbipc_common.h - definitions shared by IPC clients and servers.
 *
 * Part of a clean-room, ABI compatible implementation of libqb.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_IPC_COMMON_H_DEFINED
#define QB_IPC_COMMON_H_DEFINED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @file qbipc_common.h
 * Message headers and transport identifiers common to qbipcc.h and qbipcs.h.
 *
 * Every member of the two headers below sits on its own 8-byte boundary.
 * That layout is part of the wire protocol: a request header is 16 bytes,
 * a response header 24 bytes, whatever the compiler would otherwise choose.
 */

/**
 * Header at the start of every request a client sends.
 * @c id is the application's message type (user ids start at
 * QB_IPC_MSG_USER_START); @c size is the length of the whole message in
 * bytes, this header included.
 */
struct qb_ipc_request_header {
	int32_t id __attribute__ ((aligned(8)));
	int32_t size __attribute__ ((aligned(8)));
} __attribute__ ((aligned(8)));

/**
 * Header at the start of every response and event a server sends.
 * @c id and @c size as in a request; @c error is an application
 * defined status (0 or a negative errno by convention).
 */
struct qb_ipc_response_header {
	int32_t id __attribute__ ((aligned(8)));
	int32_t size __attribute__ ((aligned(8)));
	int32_t error __attribute__ ((aligned(8)));
} __attribute__ ((aligned(8)));

/**
 * Transport used by a service. The server picks one in qb_ipcs_create();
 * clients learn it during the connection handshake.
 */
enum qb_ipc_type {
	QB_IPC_SOCKET,		/**< unix datagram sockets */
	QB_IPC_SHM,		/**< shared-memory ring buffers */
	QB_IPC_POSIX_MQ,	/**< not supported */
	QB_IPC_SYSV_MQ,		/**< not supported */
	QB_IPC_NATIVE,		/**< the platform's best choice (SHM on Linux) */
};

/** First message id free for applications. */
#define QB_IPC_MSG_NEW_MESSAGE 0
/** Alias of QB_IPC_MSG_NEW_MESSAGE. */
#define QB_IPC_MSG_USER_START QB_IPC_MSG_NEW_MESSAGE
/** Reserved: connection handshake. */
#define QB_IPC_MSG_AUTHENTICATE -1
/** Reserved: historic, not used. */
#define QB_IPC_MSG_NEW_EVENT_SOCK -2
/** Reserved: a request with this id closes the connection. */
#define QB_IPC_MSG_DISCONNECT -3

#ifdef __cplusplus
}
#endif

#endif /* QB_IPC_COMMON_H_DEFINED */
