/*
 * Helpers shared by the IPC check programs: see ipc_test_util.h.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc_test_server.h"
#include "ipc_test_util.h"

void ipc_test_server_spawn(pid_t *pid, const char *svc, enum qb_ipc_type type,
			   void (*setup)(void *arg), void *arg)
{
	int p[2];
	char b = 0;

	ck_assert_int_eq(pipe(p), 0);
	*pid = fork();
	ck_assert_int_ge(*pid, 0);
	if (*pid == 0) {
		close(p[0]);
		if (setup) {
			setup(arg);
		}
		_exit(ipc_test_server_run(svc, type, p[1]));
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &b, 1), 1);
	close(p[0]);
	ck_assert_int_eq(b, IPC_TEST_READY);
}

int ipc_test_server_stop(pid_t *pid)
{
	int status = -1;

	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, &status, 0);
		*pid = -1;
	}
	return status;
}

void ipc_test_server_kill(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = -1;
	}
}

int ipc_test_conn_dir(pid_t spid, pid_t cpid, char *out, size_t len)
{
	char prefix[64];
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int found = 0;

	snprintf(prefix, sizeof(prefix), "qb-%d-%d-", (int)spid, (int)cpid);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(out, len, "/dev/shm/%s", e->d_name);
			found = 1;
		}
	}
	if (d) {
		closedir(d);
	}
	return found;
}

int ipc_test_dir_count(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.' && strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	}
	if (d) {
		closedir(d);
	}
	return n;
}

int ipc_test_shm_count(pid_t spid)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "qb-%d-", (int)spid);
	return ipc_test_dir_count("/dev/shm", prefix);
}

int ipc_test_fd_count(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return ipc_test_dir_count(path, "");
}

pid_t ipc_test_peer_fork(int up[2], int down[2])
{
	pid_t pid;

	ck_assert_int_eq(pipe(up), 0);
	if (down) {
		ck_assert_int_eq(pipe(down), 0);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(up[0]);
		if (down) {
			close(down[1]);
		}
		return 0;
	}
	close(up[1]);
	if (down) {
		close(down[0]);
	}
	return pid;
}

void ipc_test_abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path + 1, name, IPC_TEST_ABSTRACT_NAME_MAX);
}
