/*
 * ipc_test_util.h - helpers the IPC check programs (check_ipc, check_ipc_extra
 * and the tests/robust programs) share around ipc_test_server.c: start and
 * stop a forked server, find a connection's files in /dev/shm. They assert
 * with check, so they run inside a test.
 */
#ifndef IPC_TEST_UTIL_H
#define IPC_TEST_UTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#include <qb/qbipcs.h>

/*
 * Fork a child that runs setup(arg) (unless setup is NULL) and then
 * ipc_test_server_run(svc, type); *pid is set right after the fork, so a
 * teardown can reap the child even if a later assertion fails. Returns when
 * the server is ready.
 */
void ipc_test_server_spawn(pid_t *pid, const char *svc, enum qb_ipc_type type,
			   void (*setup)(void *arg), void *arg);

/* SIGTERM the server *pid (if > 0), reap it and set *pid to -1. Returns its
 * wait status, -1 if there was none to stop. */
int ipc_test_server_stop(pid_t *pid);

/* SIGKILL and reap the server *pid (if > 0), as a teardown does. */
void ipc_test_server_kill(pid_t *pid);

/* Set out to the /dev/shm directory of the connection of client cpid to
 * server spid (/dev/shm/qb-<spid>-<cpid>-...); 1 if found, else 0. */
int ipc_test_conn_dir(pid_t spid, pid_t cpid, char *out, size_t len);

/* Entries of dir whose name starts with prefix ("" for all), without the
 * dot entries. 0 if dir cannot be read. */
int ipc_test_dir_count(const char *dir, const char *prefix);

/* Entries the server with this pid has in /dev/shm (qb-<spid>-...). */
int ipc_test_shm_count(pid_t spid);

/* Open descriptors of process pid (/proc/<pid>/fd). */
int ipc_test_fd_count(pid_t pid);

/*
 * Fork a peer process with a pipe to the parent (up) and, unless down is
 * NULL, one from the parent (down). Like fork(): returns 0 in the child,
 * which keeps up[1] and down[0]; the parent gets the child's pid and keeps
 * up[0] and down[1].
 */
pid_t ipc_test_peer_fork(int up[2], int down[2]);

/* Longest name an abstract socket address holds: sun_path less its leading
 * NUL and a terminating one. */
#define IPC_TEST_ABSTRACT_NAME_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 2)

/* Fill a with the abstract address the library uses for name: a leading
 * NUL, the name, zero padding. */
void ipc_test_abstract_addr(struct sockaddr_un *a, const char *name);

#endif /* IPC_TEST_UTIL_H */
