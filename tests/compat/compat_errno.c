/*
 * compat_errno.c - errno as a side channel: the return value and errno
 * after the failure paths of the public API (corosync-vqsim, for one,
 * prints errno after qb_loop_poll_add). errno is cleared before each call.
 * Every group runs in its own process, so one that crashes on a library
 * shows up as "crashed" instead of ending the comparison.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <qb/qbarray.h>
#include <qb/qbhdb.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <qb/qbmap.h>
#include <qb/qbrb.h>
#include <qb/qbutil.h>
#include "ipc_loop.h"

#define T(label, expr)                                                                             \
	do {                                                                                       \
		long long r_;                                                                      \
		int e_;                                                                            \
		errno = 0;                                                                         \
		r_ = (long long)(expr);                                                            \
		e_ = errno;                                                                        \
		printf("%-44s rc=%lld errno=%d\n", label, r_, e_);                                 \
	} while (0)

#define P(label, expr)                                                                             \
	do {                                                                                       \
		const void *p_;                                                                    \
		int e_;                                                                            \
		errno = 0;                                                                         \
		p_ = (expr);                                                                       \
		e_ = errno;                                                                        \
		printf("%-44s %s errno=%d\n", label, p_ ? "ptr" : "NULL", e_);                     \
	} while (0)

static int32_t poll_fn(int32_t fd, int32_t revents, void *data)
{
	return 0;
}

static void job_fn(void *data)
{
}

static int32_t sig_fn(int32_t sig, void *data)
{
	return 0;
}

static void g_loop(void)
{
	qb_loop_t *l = qb_loop_create();
	qb_loop_timer_handle th = 0;
	qb_loop_signal_handle sh = NULL;
	int p[2];

	if (pipe(p) != 0)
		return;
	T("loop_poll_add", qb_loop_poll_add(l, QB_LOOP_MED, p[0], POLLIN, NULL, poll_fn));
	T("loop_poll_add again (EEXIST)",
	  qb_loop_poll_add(l, QB_LOOP_MED, p[0], POLLIN, NULL, poll_fn));
	/* (the distro library accepts a NULL dispatch function and an
	 * out-of-range priority, which crash later; this one refuses) */
	T("loop_poll_mod unknown fd", qb_loop_poll_mod(l, QB_LOOP_MED, 999, POLLIN, NULL, poll_fn));
	T("loop_poll_del unknown fd", qb_loop_poll_del(l, 999));
	T("loop_poll_del", qb_loop_poll_del(l, p[0]));
	T("loop_poll_add closed fd", qb_loop_poll_add(l, QB_LOOP_MED, 999, POLLIN, NULL, poll_fn));
	T("loop_poll_add bad fd", qb_loop_poll_add(l, QB_LOOP_MED, -1, POLLIN, NULL, poll_fn));
	T("loop_job_add NULL fn", qb_loop_job_add(l, QB_LOOP_MED, NULL, NULL));
	T("loop_job_add bad prio", qb_loop_job_add(l, 9, NULL, job_fn));
	T("loop_job_del unknown", qb_loop_job_del(l, QB_LOOP_MED, NULL, job_fn));
	T("loop_timer_add NULL fn", qb_loop_timer_add(l, QB_LOOP_MED, 1000, NULL, NULL, &th));
	T("loop_timer_add NULL handle",
	  qb_loop_timer_add(l, QB_LOOP_MED, 1000, NULL, job_fn, NULL));
	T("loop_timer_del 0", qb_loop_timer_del(l, 0));
	T("loop_timer_del bogus", qb_loop_timer_del(l, 0x12345678));
	T("loop_timer_is_running bogus", qb_loop_timer_is_running(l, 0x12345678));
	T("loop_timer_expire_time_get bogus", qb_loop_timer_expire_time_get(l, 0x12345678));
	T("loop_timer_expire_time_remaining bogus",
	  qb_loop_timer_expire_time_remaining(l, 0x12345678));
	T("loop_signal_add NULL fn", qb_loop_signal_add(l, QB_LOOP_MED, SIGUSR1, NULL, NULL, &sh));
	T("loop_signal_add bad signal", qb_loop_signal_add(l, QB_LOOP_MED, 999, NULL, sig_fn, &sh));
	T("loop_signal_del NULL", qb_loop_signal_del(l, NULL));
	T("loop_signal_mod NULL", qb_loop_signal_mod(l, QB_LOOP_MED, SIGUSR1, NULL, sig_fn, NULL));
	T("loop_signal_add SIGKILL",
	  qb_loop_signal_add(l, QB_LOOP_MED, SIGKILL, NULL, sig_fn, &sh));
	qb_loop_destroy(l);
	close(p[0]);
	close(p[1]);
}

static void g_log(void)
{
	char path[64];

	T("log_ctl before init", qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, 1));
	T("log_custom_open before init", qb_log_custom_open(NULL, NULL, NULL, NULL));
	T("log_filter_ctl before init",
	  qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_INFO));
	qb_log_init("errno", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	T("log_ctl bad target", qb_log_ctl(77, QB_LOG_CONF_ENABLED, 1));
	T("log_ctl unused slot", qb_log_ctl(9, QB_LOG_CONF_ENABLED, 1));
	T("log_ctl bad conf", qb_log_ctl(QB_LOG_STDERR, 99, 1));
	T("log_ctl size on stderr", qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_SIZE, 10));
	T("log_filter_ctl NULL text",
	  qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, NULL, LOG_INFO));
	T("log_filter_ctl bad slot",
	  qb_log_filter_ctl(40, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_INFO));
	T("log_filter_ctl bad regex",
	  qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE_REGEX, "(",
			    LOG_INFO));
	T("log_filter_ctl twice (EEXIST) 1",
	  qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "x.c", LOG_INFO));
	T("log_filter_ctl twice (EEXIST) 2",
	  qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "x.c", LOG_INFO));
	T("log_file_open bad dir", qb_log_file_open("/nonexistent/dir/f"));
	/* (an unused slot: the distro library opens "" and returns -ENOENT;
	 * this one returns -EBADF) */
	snprintf(path, sizeof(path), "/tmp/compat_errno.%d", (int)getpid());
	T("log_file_open", qb_log_file_open(path));
	T("log_file_reopen bad dir", qb_log_file_reopen(4, "/nonexistent/x"));
	qb_log_file_close(4);
	unlink(path);
	{
		int n = 0, last = 0;

		while ((last = qb_log_custom_open(NULL, NULL, NULL, NULL)) >= 0)
			n++;
		printf("custom slots opened: %d\n", n);
		T("log_custom_open no slot left", qb_log_custom_open(NULL, NULL, NULL, NULL));
		T("log_file_open no slot left", qb_log_file_open(path));
		unlink(path);
		for (int i = QB_LOG_TARGET_DYNAMIC_START; i < QB_LOG_TARGET_MAX; i++)
			qb_log_custom_close(i);
	}
	P("log_target_user_data_get unused", qb_log_target_user_data_get(9));
	T("log_target_user_data_set unused", qb_log_target_user_data_set(9, NULL));
	T("log_thread_priority_set bad policy", qb_log_thread_priority_set(12345, 1));
	T("log_filter_fn_set NULL", qb_log_filter_fn_set(NULL));
	/* (without a blackbox the distro library creates the file, then
	 * fails; this one does not create it: not compared) */
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 8192);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
	T("log_blackbox_write_to_file bad dir",
	  qb_log_blackbox_write_to_file("/nonexistent/dir/bb"));
	T("log_blackbox_print_from_file missing",
	  qb_log_blackbox_print_from_file("/nonexistent/dir/bb"));
	qb_log_fini();
}

static int32_t acc(qb_ipcs_connection_t *c, uid_t u, gid_t g)
{
	return 0;
}

static void g_ipc(void)
{
	struct qb_ipcs_service_handlers h = {.connection_accept = acc};
	struct qb_ipcs_poll_handlers none = {0};
	qb_ipcs_service_t *s;
	char buf[32];
	int fd = -1;

	P("ipcc_connect no server", qb_ipcc_connect("qb-compat-errno-none", 8192));
	/* (NULL names crash the distro library) */
	P("ipcc_connect_async no server", qb_ipcc_connect_async("qb-compat-errno-none", 8192, &fd));
	T("ipcc_send NULL", qb_ipcc_send(NULL, buf, 16));
	T("ipcc_recv NULL", qb_ipcc_recv(NULL, buf, 16, 0));
	T("ipcc_event_recv NULL", qb_ipcc_event_recv(NULL, buf, 16, 0));
	T("ipcc_fd_get NULL", qb_ipcc_fd_get(NULL, &fd));
	s = qb_ipcs_create("qb-compat-errno", 0, QB_IPC_SHM, &h);
	qb_ipcs_poll_handlers_set(s, &none);
	T("ipcs_run without handlers", qb_ipcs_run(s));
}

/* ---- a live server: refused clients, timeouts, a dead server ---- */

static int32_t deny(qb_ipcs_connection_t *c, uid_t u, gid_t g)
{
	return -EACCES;
}

static int32_t swallow(qb_ipcs_connection_t *c, void *data, size_t size)
{
	return 0; /* never responds */
}

static enum qb_ipc_type live_type;

static void server_child(const char *name, int ready)
{
	struct qb_ipcs_service_handlers ok = {.connection_accept = acc, .msg_process = swallow};
	struct qb_ipcs_service_handlers no = {.connection_accept = deny};
	char dname[80];
	qb_ipcs_service_t *a, *b;

	snprintf(dname, sizeof(dname), "%s-deny", name);
	a = qb_ipcs_create(name, 0, live_type, &ok);
	b = qb_ipcs_create(dname, 0, QB_IPC_SOCKET, &no);
	qb_ipcs_poll_handlers_set(a, &ipcl_handlers);
	qb_ipcs_poll_handlers_set(b, &ipcl_handlers);
	if (qb_ipcs_run(a) != 0 || qb_ipcs_run(b) != 0)
		_exit(3);
	if (write(ready, "r", 1) != 1)
		_exit(4);
	for (;;)
		loop_iterate(100);
}

/*
 * The connection directory of a killed server: the distro library's client
 * leaves it (this one empties and removes it); a test leaves nothing.
 */
static void remove_dead_server_files(pid_t a, pid_t b)
{
	char p1[48], p2[48], path[512];
	struct dirent *de, *fe;
	DIR *d = opendir("/dev/shm"), *fd;

	if (d == NULL)
		return;
	snprintf(p1, sizeof(p1), "qb-%d-%d-", (int)a, (int)b);
	snprintf(p2, sizeof(p2), "qb-%d-%d-", (int)b, (int)a);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, p1, strlen(p1)) != 0 &&
		    strncmp(de->d_name, p2, strlen(p2)) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		fd = opendir(path);
		while (fd != NULL && (fe = readdir(fd)) != NULL) {
			char f[1024];

			if (fe->d_name[0] == '.')
				continue;
			snprintf(f, sizeof(f), "%s/%s", path, fe->d_name);
			unlink(f);
		}
		if (fd != NULL)
			closedir(fd);
		rmdir(path);
	}
	closedir(d);
}

static void g_ipc_live(void)
{
	struct qb_ipc_request_header rq;
	char name[64], dname[80], buf[256];
	qb_ipcc_connection_t *c;
	int p[2], st;
	pid_t srv;

	snprintf(name, sizeof(name), "qb-compat-errno-live-%d", (int)getpid());
	snprintf(dname, sizeof(dname), "%s-deny", name);
	if (pipe(p) != 0)
		return;
	srv = fork();
	if (srv == 0) {
		close(p[0]);
		server_child(name, p[1]);
	}
	close(p[1]);
	if (read(p[0], buf, 1) != 1) {
		printf("server did not start\n");
		return;
	}
	P("ipcc_connect refused by the server", qb_ipcc_connect(dname, 8192));
	c = qb_ipcc_connect(name, 8192);
	if (c == NULL) {
		printf("connect failed\n");
		return;
	}
	memset(&rq, 0, sizeof(rq));
	rq.id = 1;
	rq.size = sizeof(rq);
	T("ipcc_recv nothing sent", qb_ipcc_recv(c, buf, sizeof(buf), 10));
	T("ipcc_event_recv nothing sent", qb_ipcc_event_recv(c, buf, sizeof(buf), 10));
	T("ipcc_send", qb_ipcc_send(c, &rq, sizeof(rq)));
	T("ipcc_recv no response", qb_ipcc_recv(c, buf, sizeof(buf), 10));
	T("ipcc_send too big", qb_ipcc_send(c, buf, 1 << 20));
	kill(srv, SIGKILL);
	waitpid(srv, &st, 0);
	T("ipcc_event_recv server dead", qb_ipcc_event_recv(c, buf, sizeof(buf), 10));
	T("ipcc_is_connected server dead", qb_ipcc_is_connected(c));
	/* (SOCKET: the distro library still sends and gets -ECONNREFUSED;
	 * this one knows the connection is gone: -ENOTCONN) */
	if (live_type == QB_IPC_SHM)
		T("ipcc_send server dead", qb_ipcc_send(c, &rq, sizeof(rq)));
	T("ipcc_recv server dead", qb_ipcc_recv(c, buf, sizeof(buf), 10));
	qb_ipcc_disconnect(c);
	remove_dead_server_files(getpid(), srv);
}

static void *rb_late_writer(void *rb)
{
	usleep(50000);
	(void)qb_rb_chunk_write(rb, "late", 4);
	return NULL;
}

/* A read that has to wait for its chunk, then gets it: errno untouched. */
static void g_rb_wait(void)
{
	char name[64], buf[64];
	qb_ringbuffer_t *rb;
	pthread_t t;

	snprintf(name, sizeof(name), "qb-compat-errno-wait-%d", (int)getpid());
	rb = qb_rb_open(name, 4096, QB_RB_FLAG_CREATE | QB_RB_FLAG_SHARED_THREAD, 0);
	if (rb == NULL)
		return;
	if (pthread_create(&t, NULL, rb_late_writer, rb) == 0) {
		T("rb_chunk_read after waiting", qb_rb_chunk_read(rb, buf, sizeof(buf), 2000));
		pthread_join(t, NULL);
	}
	qb_rb_close(rb);
}

static void g_rb(void)
{
	char name[64], buf[64];
	qb_ringbuffer_t *rb;
	void *chunk;

	snprintf(name, sizeof(name), "qb-compat-errno-%d", (int)getpid());
	P("rb_open missing", qb_rb_open(name, 4096, 0, 0));
	/* (the distro library creates a ring for a NULL name) */
	rb = qb_rb_open(name, 4096, QB_RB_FLAG_CREATE, 0);
	if (rb == NULL)
		return;
	T("rb_chunk_read empty", qb_rb_chunk_read(rb, buf, sizeof(buf), 0));
	T("rb_chunk_peek empty", qb_rb_chunk_peek(rb, &chunk, 0));
	T("rb_chunk_write too big", qb_rb_chunk_write(rb, buf, 1 << 20));
	P("rb_chunk_alloc too big", qb_rb_chunk_alloc(rb, 1 << 20));
	T("rb_chunk_write", qb_rb_chunk_write(rb, "hello", 5));
	T("rb_chunk_read short buffer", qb_rb_chunk_read(rb, buf, 2, 0));
	for (int i = 0; i < 2000; i++)
		if (qb_rb_chunk_write(rb, buf, 60) < 0)
			break;
	T("rb_chunk_write full", qb_rb_chunk_write(rb, buf, 60));
	P("rb_chunk_alloc full", qb_rb_chunk_alloc(rb, 60));
	/* (the distro library prints the ring to stdout on a bad fd) */
	qb_rb_close(rb);
}

static void g_util(void)
{
	qb_array_t *a;
	void *e;
	QB_HDB_DECLARE(hdb, NULL);
	qb_handle_t hh;
	qb_map_t *m;

	P("array_create zero size", qb_array_create(4, 0));
	P("array_create_2 bad bins", qb_array_create_2(4, 4, 17));
	a = qb_array_create(4, 8);
	T("array_index out of range", qb_array_index(a, 4000000, &e));
	T("array_index negative", qb_array_index(a, -1, &e));
	T("array_index NULL out", qb_array_index(a, 0, NULL));
	T("array_grow too big", qb_array_grow(a, (size_t)1 << 40));
	qb_array_free(a);
	T("hdb_handle_get bogus", qb_hdb_handle_get(&hdb, 0x1234567812345678ULL, &e));
	T("hdb_handle_put bogus", qb_hdb_handle_put(&hdb, 0x1234567812345678ULL));
	T("hdb_handle_destroy bogus", qb_hdb_handle_destroy(&hdb, 0x1234567812345678ULL));
	T("hdb_handle_refcount_get bogus", qb_hdb_handle_refcount_get(&hdb, 0x1234567812345678ULL));
	T("hdb_handle_create", qb_hdb_handle_create(&hdb, 16, &hh));
	T("hdb_handle_destroy", qb_hdb_handle_destroy(&hdb, hh));
	T("hdb_handle_get destroyed", qb_hdb_handle_get(&hdb, hh, &e));
	qb_hdb_destroy(&hdb);
	m = qb_skiplist_create();
	P("map_get missing", qb_map_get(m, "nope"));
	T("map_notify_add bad flags",
	  qb_map_notify_add(m, "k", NULL, QB_MAP_NOTIFY_INSERTED, NULL));
	T("map_rm missing", qb_map_rm(m, "nope"));
	T("map_notify_del missing", qb_map_notify_del(m, "nope", NULL, QB_MAP_NOTIFY_DELETED));
	qb_map_destroy(m);
	m = qb_hashtable_create(16);
	P("hashtable get missing", qb_map_get(m, "nope"));
	T("hashtable rm missing", qb_map_rm(m, "nope"));
	qb_map_destroy(m);
	m = qb_trie_create();
	P("trie get missing", qb_map_get(m, "nope"));
	T("trie rm missing", qb_map_rm(m, "nope"));
	qb_map_destroy(m);
}

static void run_group(const char *name, void (*fn)(void))
{
	pid_t pid;
	int st = 0;

	printf("== %s\n", name);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setvbuf(stdout, NULL, _IONBF, 0);
		fn();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("   crashed (status 0x%x)\n", st);
}

int main(void)
{
	run_group("loop", g_loop);
	run_group("log", g_log);
	run_group("ipc", g_ipc);
	live_type = QB_IPC_SHM;
	run_group("ipc with a shm server", g_ipc_live);
	live_type = QB_IPC_SOCKET;
	run_group("ipc with a socket server", g_ipc_live);
	run_group("rb", g_rb);
	run_group("rb wait", g_rb_wait);
	run_group("util", g_util);
	return 0;
}
