/*
 * check_ipc_glue.c - an IPC server on the application's main-loop glue the
 * way GLib programs (pacemaker) drive it: qb_ipcs_poll_handlers without
 * job_add, priorities from qb_ipcs_request_rate_limit, a failed
 * qb_ipcs_run, a client that never sends its handshake, and the server's
 * own log messages.
 *
 * The loop here records the priority of every registration.
 */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qblog.h>

static const enum qb_ipc_type transports[] = {QB_IPC_SOCKET, QB_IPC_SHM};

/* ---- a poll loop that records priorities ---------------------------------- */

#define GL_MAX 64

struct gl_fd {
	int used;
	int fd;
	int events;
	enum qb_loop_priority prio;
	void *data;
	qb_ipcs_dispatch_fn_t fn;
};

static struct gl_fd gl[GL_MAX];
static int gl_adds, gl_mods;
static int gl_bad_prio; /* registrations at another priority */
static enum qb_loop_priority gl_want;
static int gl_fail_add;

static struct gl_fd *gl_find(int fd)
{
	for (int i = 0; i < GL_MAX; i++) {
		if (gl[i].used && gl[i].fd == fd) {
			return &gl[i];
		}
	}
	return NULL;
}

static int32_t gl_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
		      qb_ipcs_dispatch_fn_t fn)
{
	if (gl_fail_add) {
		return -ENOMEM;
	}
	if (gl_find(fd)) {
		return -EEXIST;
	}
	gl_adds++;
	gl_bad_prio += p != gl_want;
	for (int i = 0; i < GL_MAX; i++) {
		if (!gl[i].used) {
			gl[i] = (struct gl_fd){1, fd, events, p, data, fn};
			return 0;
		}
	}
	return -ENOMEM;
}

static int32_t gl_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
		      qb_ipcs_dispatch_fn_t fn)
{
	struct gl_fd *g = gl_find(fd);

	if (g == NULL) {
		return -ENOENT;
	}
	gl_mods++;
	gl_bad_prio += p != gl_want;
	*g = (struct gl_fd){1, fd, events, p, data, fn};
	return 0;
}

static int32_t gl_del(int32_t fd)
{
	struct gl_fd *g = gl_find(fd);

	if (g == NULL) {
		return -ENOENT;
	}
	g->used = 0;
	return 0;
}

/* job_add is NULL, as in pacemaker's and other GLib adaptors */
static struct qb_ipcs_poll_handlers gl_handlers = {
	.job_add = NULL,
	.dispatch_add = gl_add,
	.dispatch_mod = gl_mod,
	.dispatch_del = gl_del,
};

static void gl_reset(enum qb_loop_priority want)
{
	memset(gl, 0, sizeof(gl));
	gl_adds = gl_mods = gl_bad_prio = gl_fail_add = 0;
	gl_want = want;
}

static void gl_run_once(int timeout_ms)
{
	struct pollfd pfd[GL_MAX];
	struct gl_fd snap[GL_MAX];
	int n = 0;

	for (int i = 0; i < GL_MAX; i++) {
		if (gl[i].used) {
			snap[n] = gl[i];
			pfd[n] = (struct pollfd){gl[i].fd, (short)gl[i].events, 0};
			n++;
		}
	}
	if (poll(pfd, n, timeout_ms) <= 0) {
		return;
	}
	for (int k = 0; k < n; k++) {
		struct gl_fd *g = gl_find(snap[k].fd);

		/* an earlier callback may have removed or replaced it */
		if (pfd[k].revents == 0 || g == NULL || g->fn != snap[k].fn ||
		    g->data != snap[k].data) {
			continue;
		}
		if (g->fn(g->fd, pfd[k].revents, g->data) < 0) {
			g->used = 0;
		}
	}
}

/* ---- the service ------------------------------------------------------------ */

static char svc[64];
static int n_created, n_closed, n_destroyed, closed_refusals;
static qb_ipcs_connection_t *last_conn;

static void svc_name(const char *what)
{
	static int n;

	snprintf(svc, sizeof(svc), "qbglue-%d-%d-%s", (int)getpid(), n++, what);
}

static int refuse_clients;

static int32_t h_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	return refuse_clients ? -EACCES : 0;
}

static void h_created(qb_ipcs_connection_t *c)
{
	n_created++;
	last_conn = c;
}

static int32_t h_closed(qb_ipcs_connection_t *c)
{
	n_closed++;
	if (closed_refusals > 0) {
		closed_refusals--;
		return -1; /* ask me again later */
	}
	return 0;
}

static void h_destroyed(qb_ipcs_connection_t *c)
{
	n_destroyed++;
}

static int32_t h_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_response_header r;

	memset(&r, 0, sizeof(r)); /* padding goes on the wire */
	r.id = 1;
	r.size = sizeof(r);
	if (qb_ipcs_event_send(c, &r, sizeof(r)) != sizeof(r)) {
		return -1;
	}
	return qb_ipcs_response_send(c, &r, sizeof(r)) < 0 ? -1 : 0;
}

static struct qb_ipcs_service_handlers handlers = {
	.connection_accept = h_accept,
	.connection_created = h_created,
	.msg_process = h_msg,
	.connection_closed = h_closed,
	.connection_destroyed = h_destroyed,
};

/* A client that does one request (response + event), then waits for a byte
 * on @p go before disconnecting. */
static pid_t client_start(int go[2])
{
	pid_t pid;

	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct qb_ipc_request_header rq;
		char buf[256], b;
		qb_ipcc_connection_t *c;

		memset(&rq, 0, sizeof(rq)); /* padding goes on the wire */
		rq.id = 1;
		rq.size = sizeof(rq);
		close(go[1]);
		c = qb_ipcc_connect(svc, 8192);
		if (c == NULL || qb_ipcc_send(c, &rq, sizeof(rq)) < 0 ||
		    qb_ipcc_recv(c, buf, sizeof(buf), 5000) <= 0 ||
		    qb_ipcc_event_recv(c, buf, sizeof(buf), 5000) <= 0) {
			_exit(1);
		}
		(void)!read(go[0], &b, 1);
		qb_ipcc_disconnect(c);
		_exit(0);
	}
	close(go[0]);
	return pid;
}

static void client_finish(pid_t pid, int go[2])
{
	int status = -1;

	ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client status 0x%x", status);
}

static void counters_reset(void)
{
	n_created = n_closed = n_destroyed = closed_refusals = 0;
	last_conn = NULL;
}

/* ---- tests --------------------------------------------------------------------- */

/* job_add NULL is valid; a refused close is asked again on the next
 * dispatch instead of being queued as a job. */
START_TEST(test_glue_no_job_add)
{
	qb_ipcs_service_t *s;
	int go[2];
	pid_t pid;

	counters_reset();
	gl_reset(QB_LOOP_MED);
	svc_name("nojob");
	s = qb_ipcs_create(svc, 0, transports[_i], &handlers);
	ck_assert_ptr_nonnull(s);
	qb_ipcs_poll_handlers_set(s, &gl_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), 0);
	closed_refusals = 2;
	pid = client_start(go);
	for (int i = 0; i < 500 && n_created == 0; i++) {
		gl_run_once(10);
	}
	ck_assert_int_eq(n_created, 1);
	for (int i = 0; i < 20; i++) {
		gl_run_once(10); /* request, response, event */
	}
	client_finish(pid, go);
	for (int i = 0; i < 500 && n_destroyed == 0; i++) {
		gl_run_once(10);
	}
	ck_assert_int_eq(n_closed, 3);
	ck_assert_int_eq(n_destroyed, 1);
	qb_ipcs_destroy(s);
	ck_assert_int_eq(gl_bad_prio, 0);
}
END_TEST

/* The rate set before qb_ipcs_run is the priority of every registration;
 * a later change moves every connection with dispatch_mod. */
START_TEST(test_glue_priorities)
{
	static const struct {
		enum qb_ipcs_rate_limit rate;
		enum qb_loop_priority prio;
	} rates[] = {
		{QB_IPCS_RATE_SLOW, QB_LOOP_LOW},
		{QB_IPCS_RATE_NORMAL, QB_LOOP_MED},
		{QB_IPCS_RATE_FAST, QB_LOOP_HIGH},
	};
	for (size_t r = 0; r < 3; r++) {
		size_t next = (r + 1) % 3;
		qb_ipcs_service_t *s;
		int go[2], mods;
		pid_t pid;

		counters_reset();
		gl_reset(rates[r].prio);
		svc_name("prio");
		s = qb_ipcs_create(svc, 0, transports[_i], &handlers);
		qb_ipcs_request_rate_limit(s, rates[r].rate);
		qb_ipcs_poll_handlers_set(s, &gl_handlers);
		ck_assert_int_eq(qb_ipcs_run(s), 0);
		pid = client_start(go);
		for (int i = 0; i < 500 && n_created == 0; i++) {
			gl_run_once(10);
		}
		ck_assert_int_eq(n_created, 1);
		for (int i = 0; i < 20; i++) {
			gl_run_once(10);
		}
		/* listening socket, setup socket, connection */
		ck_assert_int_ge(gl_adds, 3);
		ck_assert_msg(gl_bad_prio == 0,
			      "rate %d: %d registrations "
			      "not at priority %d",
			      rates[r].rate, gl_bad_prio, rates[r].prio);
		mods = gl_mods;
		gl_want = rates[next].prio;
		qb_ipcs_request_rate_limit(s, rates[next].rate);
		ck_assert_int_gt(gl_mods, mods);
		for (int i = 0; i < 20; i++) {
			gl_run_once(10);
		}
		client_finish(pid, go);
		for (int i = 0; i < 500 && n_destroyed == 0; i++) {
			gl_run_once(10);
		}
		ck_assert_int_eq(n_destroyed, 1);
		ck_assert_int_eq(gl_bad_prio, 0);
		qb_ipcs_destroy(s);
	}
}
END_TEST

/*
 * Whether the failed run freed @p s: glibc hands the chunk freed last back
 * to the next allocation of its size. Sanitizers and valgrind delay reuse;
 * there the leak checkers decide (-1: cannot tell).
 */
static int was_freed(const void *s, size_t size)
{
#if defined(__SANITIZE_ADDRESS__)
	(void)s;
	(void)size;
	return -1;
#else
	const char *preload = getenv("LD_PRELOAD");
	void *p;
	int same;

	/* memcheck preloads its vgpreload_*.so */
	if (preload && strstr(preload, "vgpreload")) {
		return -1;
	}
	p = malloc(size);
	same = p == s;
	free(p);
	return same;
#endif
}

static qb_ipcs_service_t *fail_service(const char *name, enum qb_ipc_type type,
				       struct qb_ipcs_poll_handlers *ph, size_t *size)
{
	qb_ipcs_service_t *s = qb_ipcs_create(name, 0, type, &handlers);

	ck_assert_ptr_nonnull(s);
	*size = malloc_usable_size(s);
	qb_ipcs_poll_handlers_set(s, ph);
	return s;
}

/*
 * A failed qb_ipcs_run releases the service: the caller must not unref it
 * (what libqb does, and pacemaker relies on).
 */
START_TEST(test_glue_failed_run_releases)
{
	struct qb_ipcs_poll_handlers none = {0};
	qb_ipcs_service_t *s, *running;
	size_t size;
	int32_t rc;

	svc_name("fail");
	running = qb_ipcs_create(svc, 0, QB_IPC_SOCKET, &handlers);
	gl_reset(QB_LOOP_MED);
	qb_ipcs_poll_handlers_set(running, &gl_handlers);
	ck_assert_int_eq(qb_ipcs_run(running), 0);

	s = fail_service(svc, QB_IPC_SHM, &none, &size);
	rc = qb_ipcs_run(s);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_int_ne(was_freed(s, size), 0);
	s = fail_service(svc, QB_IPC_POSIX_MQ, &gl_handlers, &size);
	rc = qb_ipcs_run(s);
	ck_assert_int_eq(rc, -ENOTSUP);
	ck_assert_int_ne(was_freed(s, size), 0);
	s = fail_service(svc, QB_IPC_SHM, &gl_handlers, &size);
	rc = qb_ipcs_run(s);
	ck_assert_int_eq(rc, -EADDRINUSE);
	ck_assert_int_ne(was_freed(s, size), 0);
	gl_fail_add = 1;
	s = fail_service("qbglue-unused-name", QB_IPC_SHM, &gl_handlers, &size);
	rc = qb_ipcs_run(s);
	gl_fail_add = 0;
	ck_assert_int_eq(rc, -ENOMEM);
	ck_assert_int_ne(was_freed(s, size), 0);

	/* a reference of our own keeps the failed service readable */
	s = qb_ipcs_create(svc, 0, QB_IPC_SHM, &handlers);
	qb_ipcs_service_context_set(s, &size);
	qb_ipcs_ref(s);
	qb_ipcs_poll_handlers_set(s, &gl_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), -EADDRINUSE);
	ck_assert_ptr_eq(qb_ipcs_service_context_get(s), &size);
	qb_ipcs_unref(s);
	/* running twice is refused and leaves the service running */
	ck_assert_int_eq(qb_ipcs_run(running), -EALREADY);
	qb_ipcs_destroy(running);
	for (int i = 0; i < GL_MAX; i++) {
		ck_assert_int_eq(gl[i].used, 0);
	}
}
END_TEST

/*
 * A client that connects and never sends its handshake is dropped after
 * the setup deadline (10 s) although no other client connects.
 */
START_TEST(test_glue_setup_deadline)
{
	struct sockaddr_un a;
	qb_ipcs_service_t *s;
	struct timespec t0, t1;
	int fd, closed = 0;
	char b;

	counters_reset();
	gl_reset(QB_LOOP_MED);
	svc_name("silent");
	s = qb_ipcs_create(svc, 0, QB_IPC_SHM, &handlers);
	qb_ipcs_poll_handlers_set(s, &gl_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), 0);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	strncpy(a.sun_path + 1, svc, sizeof(a.sun_path) - 2);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* bounded: far beyond the deadline */
	for (int i = 0; i < 300 && !closed; i++) {
		gl_run_once(100);
		closed = recv(fd, &b, 1, MSG_DONTWAIT) == 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(closed,
		      "the silent client is still connected after "
		      "%ld s",
		      (long)(t1.tv_sec - t0.tv_sec));
	ck_assert_int_eq(n_created, 0);
	close(fd);
	qb_ipcs_destroy(s);
}
END_TEST

/* ---- the library's own log messages ------------------------------------------ */

#define LOG_MAX 64
struct logged_msg {
	int prio;
	char text[256];
};
static struct logged_msg logged[LOG_MAX];
static int n_logged;

static void log_rec(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	if ((cs->tags & QB_LOG_TAG_LIBQB_MSG) && n_logged < LOG_MAX) {
		logged[n_logged].prio = cs->priority;
		snprintf(logged[n_logged].text, sizeof(logged[0].text), "%s", msg);
		n_logged++;
	}
}

/* Messages at @p prio naming the service, from index @p from on. */
static int logged_count(int prio, int from)
{
	int n = 0;

	for (int i = from; i < n_logged; i++) {
		n += logged[i].prio == prio && strstr(logged[i].text, svc);
	}
	return n;
}

/*
 * The server reports its life cycle through qb_log at libqb's priorities:
 * the service starting and closing its socket (info), a client connected
 * and disconnected (debug), a refused client (error).
 */
START_TEST(test_glue_log_messages)
{
	qb_ipcs_service_t *s;
	int go[2], t, mark, status;
	pid_t pid;

	qb_log_init("check_ipc_glue", LOG_USER, LOG_EMERG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	t = qb_log_custom_open(log_rec, NULL, NULL, NULL);
	ck_assert_int_ge(t, 0);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	n_logged = 0;

	counters_reset();
	gl_reset(QB_LOOP_MED);
	svc_name("log");
	s = qb_ipcs_create(svc, 0, transports[_i], &handlers);
	qb_ipcs_poll_handlers_set(s, &gl_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), 0);
	ck_assert_int_eq(logged_count(LOG_INFO, 0), 1);

	mark = n_logged;
	pid = client_start(go);
	for (int i = 0; i < 500 && n_created == 0; i++) {
		gl_run_once(10);
	}
	for (int i = 0; i < 20; i++) {
		gl_run_once(10);
	}
	client_finish(pid, go);
	for (int i = 0; i < 500 && n_destroyed == 0; i++) {
		gl_run_once(10);
	}
	ck_assert_int_eq(n_destroyed, 1);
	/* connected; hung up; closing */
	ck_assert_int_ge(logged_count(LOG_DEBUG, mark), 2);
	ck_assert_int_eq(logged_count(LOG_ERR, mark), 0);

	mark = n_logged;
	refuse_clients = 1;
	pid = fork();
	if (pid == 0) {
		_exit(qb_ipcc_connect(svc, 8192) == NULL && errno == EACCES ? 0 : 1);
	}
	for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		gl_run_once(10);
	}
	refuse_clients = 0;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(logged_count(LOG_ERR, mark), 1);

	mark = n_logged;
	qb_ipcs_destroy(s);
	ck_assert_int_eq(logged_count(LOG_INFO, mark), 1);
	qb_log_fini();
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_LOOP(test_glue_no_job_add, 0, 2),	CK_LOOP(test_glue_priorities, 0, 2),
		CK_TEST(test_glue_failed_run_releases), CK_TEST(test_glue_setup_deadline),
		CK_LOOP(test_glue_log_messages, 0, 2),
	};
	const struct ck_opts opts = {
		.timeout = 60,
	};

	signal(SIGPIPE, SIG_IGN);
	return CK_MAIN("ipc_glue", &opts, tests);
}
