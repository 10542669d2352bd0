/*
 * ipc_test_server.h - a small IPC echo server (ipc_test_server.c) on a self-contained poll()
 * loop, used by check_ipc.c (and by hand against the distro library: it
 * only uses the public API, so it builds against either set of headers).
 *
 * Request ids understood by the server:
 *   IPC_T_ECHO        respond with the same payload
 *   IPC_T_EVENT       send the payload back as an event, then respond
 *   IPC_T_DISCONNECT  the server disconnects the client
 *   IPC_T_RATE        payload[0] is a qb_ipcs_rate_limit to apply
 *   IPC_T_STATS       respond with the connection's stats_2
 *   IPC_T_EXIT        stop the server loop
 *   IPC_T_NOREPLY     consume without response
 *   IPC_T_BURST       send atoi(payload) events (stop at the first error),
 *                     respond with the number sent as the payload text
 */
#ifndef IPC_TEST_SERVER_H
#define IPC_TEST_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include <qb/qbipcs.h>

enum {
	IPC_T_ECHO = 1,
	IPC_T_EVENT,
	IPC_T_DISCONNECT,
	IPC_T_RATE,
	IPC_T_STATS,
	IPC_T_EXIT,
	IPC_T_NOREPLY,
	IPC_T_BURST,
	IPC_T_AUTH_REFUSE = 100,
};

/* Knobs a test sets in the forked child before ipc_test_server_run(). */
extern qb_ipcs_service_t *tl_service;
extern int tl_refuse_all;			    /* the accept callback refuses everyone */
extern volatile unsigned long *tl_wakeups;	    /* polls that returned events */
extern void (*tl_setup_hook)(qb_ipcs_service_t *s); /* before qb_ipcs_run */
extern int tl_enforce;				    /* qb_ipcs_enforce_buffer_size(service, n) */
extern int tl_mlock;				    /* qb_ipcs_mlock_set(service, 1) */
extern int tl_use_qb_loop;			    /* run on a qb_loop instead of poll() */

/* The server's handlers, for tests that build their own service. */
extern struct qb_ipcs_poll_handlers tl_poll_handlers;
extern struct qb_ipcs_service_handlers ts_handlers;
int32_t ts_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid);

/* One turn of the poll() loop: run queued jobs, then poll for timeout_ms. */
void tl_run_once(int timeout_ms);

/* The byte ipc_test_server_run() writes to ready_fd: serving, or failed. */
#define IPC_TEST_READY 'R'
#define IPC_TEST_FAILED 'F'

/* Run a server until IPC_T_EXIT or SIGTERM; returns an exit status. */
int ipc_test_server_run(const char *name, enum qb_ipc_type type, int ready_fd);

#endif /* IPC_TEST_SERVER_H */
