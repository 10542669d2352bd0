/*
 * check_ipc_extra.c - client connect timeout (qb_ipcc_connect_timeout),
 * the run-time socket directory (QB_IPC_SOCKET_DIR) and locked rings
 * (qb_ipcs_mlock_set).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbipcc.h>
#include <qb/qblog.h>

#include "ipc_test_server.h"
#include "ipc_test_util.h"

static char svc[64];
static pid_t server_pid = -1;
static int n_svc;

static void name_new(const char *what)
{
	snprintf(svc, sizeof(svc), "qbx-%d-%d-%s", (int)getpid(), n_svc++, what);
}

/* Fork a test server; @p pre runs in the child before it starts. */
static void server_start(enum qb_ipc_type type, void (*pre)(void *unused))
{
	ipc_test_server_spawn(&server_pid, svc, type, pre, NULL);
}

static void server_stop(void)
{
	(void)ipc_test_server_stop(&server_pid);
}

static void echo_ok(qb_ipcc_connection_t *c)
{
	struct {
		struct qb_ipc_request_header hdr;
		char data[32];
	} req = {.hdr = {.id = IPC_T_ECHO, .size = sizeof(req)}};
	char resp[256];

	snprintf(req.data, sizeof(req.data), "hello");
	ck_assert_int_gt(qb_ipcc_send(c, &req, sizeof(req)), 0);
	ck_assert_int_gt(qb_ipcc_recv(c, resp, sizeof(resp), 5000), 0);
}

/* ---- item 6: connect timeout ---------------------------------------- */

static int silent_fd = -1;

static void *silent_accept(void *arg)
{
	int fd = accept(silent_fd, NULL, NULL);

	pause(); /* accepted, never answers */
	close(fd);
	return NULL;
}

START_TEST(test_connect_timeout_silent_server)
{
	struct sockaddr_un a;
	pthread_t th;
	qb_ipcc_connection_t *c;

	name_new("silent");
	ipc_test_abstract_addr(&a, svc);
	silent_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(silent_fd, 0);
	ck_assert_int_eq(bind(silent_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(silent_fd, 8), 0);
	pthread_create(&th, NULL, silent_accept, NULL);
	alarm(30); /* hang guard: qb_ipcc_connect would block */
	errno = 0;
	c = qb_ipcc_connect_timeout(svc, 8192, 200);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(errno, ETIMEDOUT);
	alarm(0);
}
END_TEST

START_TEST(test_connect_timeout_real_server)
{
	qb_ipcc_connection_t *c;

	name_new("real");
	errno = 0;
	ck_assert_ptr_null(qb_ipcc_connect_timeout(svc, 8192, 1000));
	ck_assert_int_eq(errno, ECONNREFUSED);
	server_start(QB_IPC_SHM, NULL);
	c = qb_ipcc_connect_timeout(svc, 8192, 10000);
	ck_assert_ptr_nonnull(c);
	echo_ok(c);
	qb_ipcc_disconnect(c);
	c = qb_ipcc_connect_timeout(svc, 8192, -1); /* for ever */
	ck_assert_ptr_nonnull(c);
	qb_ipcc_disconnect(c);
	server_stop();
}
END_TEST

/* ---- item 7: socket directory at run time --------------------------- */

START_TEST(test_socket_dir_env)
{
	char dir[] = "/tmp/check_ipc_sockdir.XXXXXX";
	char path[160];
	struct stat st;
	qb_ipcc_connection_t *c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(setenv("QB_IPC_SOCKET_DIR", dir, 1), 0);
	name_new("dir");
	server_start(QB_IPC_SOCKET, NULL);
	snprintf(path, sizeof(path), "%s/%s", dir, svc);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	c = qb_ipcc_connect(svc, 8192);
	ck_assert_ptr_nonnull(c);
	echo_ok(c);
	qb_ipcc_disconnect(c);
	server_stop();
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_socket_dir_env_relative)
{
	ck_assert_int_eq(setenv("QB_IPC_SOCKET_DIR", "relative/dir", 1), 0);
	name_new("rel");
	errno = 0;
	ck_assert_ptr_null(qb_ipcc_connect(svc, 8192));
	ck_assert_int_eq(errno, EINVAL);
	tl_service = qb_ipcs_create(svc, 1, QB_IPC_SOCKET, &ts_handlers);
	ck_assert_ptr_nonnull(tl_service);
	qb_ipcs_poll_handlers_set(tl_service, &tl_poll_handlers);
	/* a failed run destroys the service (as libqb): no destroy here */
	ck_assert_int_eq(qb_ipcs_run(tl_service), -EINVAL);
	tl_service = NULL;
}
END_TEST

/* Without the variable: abstract sockets, no file anywhere. */
START_TEST(test_socket_dir_default_abstract)
{
	char path[160];
	qb_ipcc_connection_t *c;

	unsetenv("QB_IPC_SOCKET_DIR");
	if (access("/etc/libqb/force-filesystem-sockets", F_OK) == 0) {
		return; /* this host forces filesystem sockets */
	}
	name_new("abs");
	server_start(QB_IPC_SOCKET, NULL);
	snprintf(path, sizeof(path), "%s/%s", SOCKETDIR, svc);
	ck_assert_int_eq(access(path, F_OK), -1);
	c = qb_ipcc_connect(svc, 8192);
	ck_assert_ptr_nonnull(c);
	qb_ipcc_disconnect(c);
	server_stop();
}
END_TEST

/*
 * With the marker file present: sockets go to the build-time SOCKETDIR,
 * unless QB_IPC_SOCKET_DIR names another directory. The marker is made in
 * a private mount namespace (a tmpfs over /etc), so the host's /etc is
 * never touched; skipped where that is not allowed.
 */
static int marker_case(const char *env_dir)
{
	char path[160];
	struct stat st;
	qb_ipcc_connection_t *c;
	int fd, ok;

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", "/etc", "tmpfs", 0, "size=64k") != 0) {
		return 77;
	}
	if (mkdir("/etc/libqb", 0755) != 0) {
		return 3;
	}
	fd = open("/etc/libqb/force-filesystem-sockets", O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		return 4;
	}
	close(fd);
	if (env_dir) {
		setenv("QB_IPC_SOCKET_DIR", env_dir, 1);
	} else {
		unsetenv("QB_IPC_SOCKET_DIR");
	}
	name_new("marker");
	server_start(QB_IPC_SOCKET, NULL);
	snprintf(path, sizeof(path), "%s/%s", env_dir ? env_dir : SOCKETDIR, svc);
	ok = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
	c = qb_ipcc_connect(svc, 8192);
	ok = ok && c != NULL;
	if (c) {
		qb_ipcc_disconnect(c);
	}
	server_stop();
	unlink(path);
	return ok ? 0 : 1;
}

START_TEST(test_socket_dir_over_marker_file)
{
	char dir[] = "/tmp/check_ipc_marker.XXXXXX";
	int k;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (k = 0; k < 2; k++) {
		int status;
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			_exit(marker_case(k ? dir : NULL));
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		if (WEXITSTATUS(status) == 77) {
			break; /* no mount namespace here */
		}
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	rmdir(dir);
}
END_TEST

/* ---- item 8: locked rings ------------------------------------------- */

static long vmlck_kb(pid_t pid)
{
	char path[64], line[128];
	FILE *fp;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	if (fp == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "VmLck: %ld", &kb) == 1) {
			break;
		}
	}
	fclose(fp);
	return kb;
}

static char logpath[64];

/* ASan and TSan replace mlock() with a no-op that reports success. */
static int mlock_is_real(void)
{
	const char *san = getenv("QB_SANITIZERS");

	return san == NULL || *san == '\0';
}

static void pre_mlock(void *unused)
{
	tl_mlock = 1;
}

/* Server side: no CAP_IPC_LOCK, RLIMIT_MEMLOCK 0, warnings to a file. */
static void pre_mlock_denied(void *unused)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	struct rlimit rl = {0, 0};
	int t;

	tl_mlock = 1;
	if (syscall(SYS_capget, &h, d) == 0) {
		d[0].effective &= ~(1U << CAP_IPC_LOCK);
		d[0].permitted &= ~(1U << CAP_IPC_LOCK);
		(void)syscall(SYS_capset, &h, d);
	}
	(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	qb_log_init("mlk", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	t = qb_log_file_open(logpath);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_WARNING);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
}

START_TEST(test_mlock_rings)
{
	qb_ipcc_connection_t *c;
	long before, after;
	if (!mlock_is_real()) {
		return;
	}

	name_new("mlock");
	server_start(QB_IPC_SHM, pre_mlock);
	before = vmlck_kb(server_pid);
	ck_assert_int_ge(before, 0);
	c = qb_ipcc_connect(svc, 64 * 1024);
	ck_assert_ptr_nonnull(c);
	echo_ok(c);
	after = vmlck_kb(server_pid);
	/* three rings of at least 64 KiB each are locked */
	ck_assert_int_ge(after - before, 3 * 64);
	qb_ipcc_disconnect(c);
	server_stop();
}
END_TEST

START_TEST(test_mlock_default_off)
{
	qb_ipcc_connection_t *c;

	name_new("nolock");
	server_start(QB_IPC_SHM, NULL);
	c = qb_ipcc_connect(svc, 64 * 1024);
	ck_assert_ptr_nonnull(c);
	echo_ok(c);
	ck_assert_int_eq(vmlck_kb(server_pid), 0);
	qb_ipcc_disconnect(c);
	server_stop();
}
END_TEST

START_TEST(test_mlock_denied_reported)
{
	qb_ipcc_connection_t *c;
	char buf[512];
	FILE *fp;
	int seen = 0;
	if (!mlock_is_real()) {
		return;
	}

	snprintf(logpath, sizeof(logpath), "/tmp/check_ipc_mlock.%d", (int)getpid());
	unlink(logpath);
	name_new("denied");
	server_start(QB_IPC_SHM, pre_mlock_denied);
	c = qb_ipcc_connect(svc, 64 * 1024);
	ck_assert_ptr_nonnull(c); /* not fatal */
	echo_ok(c);
	ck_assert_int_eq(vmlck_kb(server_pid), 0);
	qb_ipcc_disconnect(c);
	server_stop();
	fp = fopen(logpath, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(buf, sizeof(buf), fp)) {
		if (strstr(buf, "cannot lock the rings")) {
			seen = 1;
		}
	}
	fclose(fp);
	unlink(logpath);
	ck_assert_int_eq(seen, 1);
	ck_assert_int_eq(qb_ipcs_mlock_set(NULL, 1), -EINVAL);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_connect_timeout_silent_server),
		CK_TEST(test_connect_timeout_real_server),
		CK_TEST(test_socket_dir_env),
		CK_TEST(test_socket_dir_env_relative),
		CK_TEST(test_socket_dir_default_abstract),
		CK_TEST(test_socket_dir_over_marker_file),
		CK_TEST(test_mlock_rings),
		CK_TEST(test_mlock_default_off),
		CK_TEST(test_mlock_denied_reported),
	};
	const struct ck_opts opts = {
		.timeout = 60,
	};

	return CK_MAIN("ipc_extra", &opts, tests);
}
