/*
 * check_ipc_glib.c - an IPC server driven by a GLib main loop, the way
 * GLib programs (pacemaker) integrate libqb: qb_ipcs_poll_handlers whose
 * job_add is NULL and whose descriptors become GSources at the GLib
 * priority matching the qb_loop priority. GLib dispatches only the ready
 * sources of the best priority, so an always-ready source at
 * G_PRIORITY_HIGH starves everything below it: a service asked for
 * QB_IPCS_RATE_FAST (QB_LOOP_HIGH) must keep serving its clients anyway.
 * Many clients, requests, events, refused closes, disconnects from both
 * sides; both transports. Skipped (77) when GLib was not found.
 */
#include "config.h"

#ifndef HAVE_GLIB
#include <stdio.h>

int main(void)
{
	printf("check_ipc_glib: GLib not found at configure time, skipped\n");
	return 77;
}
#else

#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>

/* ---- the adaptor: one GSource per descriptor ---------------------------------- */

struct fd_source {
	GSource src;
	gpointer tag;
	int fd;
	void *data;
	qb_ipcs_dispatch_fn_t fn;
};

#define MAX_FDS 1024
static struct fd_source *by_fd[MAX_FDS];

static gint glib_prio(enum qb_loop_priority p)
{
	switch (p) {
	case QB_LOOP_HIGH:
		return G_PRIORITY_HIGH;
	case QB_LOOP_LOW:
		return G_PRIORITY_LOW;
	default:
		return G_PRIORITY_DEFAULT;
	}
}

static gboolean fd_check(GSource *src)
{
	struct fd_source *s = (struct fd_source *)src;

	return g_source_query_unix_fd(src, s->tag) != 0;
}

static gboolean fd_dispatch(GSource *src, GSourceFunc unused, gpointer unused2)
{
	struct fd_source *s = (struct fd_source *)src;
	GIOCondition rev = g_source_query_unix_fd(src, s->tag);

	/* GIOCondition bits are the poll(2) bits */
	if (s->fn(s->fd, (int32_t)rev, s->data) < 0) {
		if (s->fd >= 0 && s->fd < MAX_FDS && by_fd[s->fd] == s) {
			by_fd[s->fd] = NULL;
			g_source_destroy(src);
			g_source_unref(src);
		}
	}
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_funcs = {
	.check = fd_check,
	.dispatch = fd_dispatch,
};

static int32_t g_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
		     qb_ipcs_dispatch_fn_t fn)
{
	struct fd_source *s;

	if (fd < 0 || fd >= MAX_FDS) {
		return -EINVAL;
	}
	if (by_fd[fd]) {
		return -EEXIST;
	}
	s = (struct fd_source *)g_source_new(&fd_funcs, sizeof(*s));
	s->fd = fd;
	s->data = data;
	s->fn = fn;
	s->tag = g_source_add_unix_fd(&s->src, fd, (GIOCondition)events);
	g_source_set_priority(&s->src, glib_prio(p));
	g_source_attach(&s->src, NULL);
	by_fd[fd] = s;
	return 0;
}

static int32_t g_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
		     qb_ipcs_dispatch_fn_t fn)
{
	struct fd_source *s = (fd >= 0 && fd < MAX_FDS) ? by_fd[fd] : NULL;

	if (s == NULL) {
		return -ENOENT;
	}
	s->data = data;
	s->fn = fn;
	g_source_modify_unix_fd(&s->src, s->tag, (GIOCondition)events);
	g_source_set_priority(&s->src, glib_prio(p));
	return 0;
}

static int32_t g_del(int32_t fd)
{
	struct fd_source *s = (fd >= 0 && fd < MAX_FDS) ? by_fd[fd] : NULL;

	if (s == NULL) {
		return -ENOENT;
	}
	by_fd[fd] = NULL;
	g_source_destroy(&s->src);
	g_source_unref(&s->src);
	return 0;
}

static struct qb_ipcs_poll_handlers glib_handlers = {
	.job_add = NULL,
	.dispatch_add = g_add,
	.dispatch_mod = g_mod,
	.dispatch_del = g_del,
};

static int sources_left(void)
{
	int n = 0;

	for (int i = 0; i < MAX_FDS; i++) {
		n += by_fd[i] != NULL;
	}
	return n;
}

/* ---- the service ------------------------------------------------------------------ */

#define N_CLIENTS 20
#define N_REQUESTS 10
enum { REQ_ECHO = 1, REQ_KICK_ME = 2 };

static int n_created, n_closed, n_destroyed, n_requests;

static int32_t h_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	return 0;
}

static void h_created(qb_ipcs_connection_t *c)
{
	n_created++;
	qb_ipcs_context_set(c, GINT_TO_POINTER(1)); /* refuse once */
}

static int32_t h_closed(qb_ipcs_connection_t *c)
{
	n_closed++;
	if (qb_ipcs_context_get(c)) {
		qb_ipcs_context_set(c, NULL);
		return -1;
	}
	return 0;
}

static void h_destroyed(qb_ipcs_connection_t *c)
{
	n_destroyed++;
}

static int32_t h_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_request_header rq;
	struct qb_ipc_response_header r;

	memset(&r, 0, sizeof(r)); /* padding goes on the wire */
	r.size = sizeof(r);
	memcpy(&rq, data, sizeof(rq));
	n_requests++;
	if (rq.id == REQ_KICK_ME) {
		qb_ipcs_disconnect(c);
		return 0;
	}
	r.id = rq.id;
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

/* Exit status: 0 success, 1 connect, 2 request, 3 event, 4 kick. */
static int client_main(const char *name, int k)
{
	struct qb_ipc_request_header rq;
	char buf[256];
	qb_ipcc_connection_t *c = qb_ipcc_connect(name, 8192);

	memset(&rq, 0, sizeof(rq)); /* padding goes on the wire */
	rq.id = REQ_ECHO;
	rq.size = sizeof(rq);
	if (c == NULL) {
		return 1;
	}
	for (int i = 0; i < N_REQUESTS; i++) {
		if (qb_ipcc_send(c, &rq, sizeof(rq)) != sizeof(rq) ||
		    qb_ipcc_recv(c, buf, sizeof(buf), 10000) <= 0) {
			return 2;
		}
		if (qb_ipcc_event_recv(c, buf, sizeof(buf), 10000) <= 0) {
			return 3;
		}
	}
	if (k % 2) {
		qb_ipcc_disconnect(c);
		return 0;
	}
	/* the server disconnects us: the next receive sees it */
	rq.id = REQ_KICK_ME;
	if (qb_ipcc_send(c, &rq, sizeof(rq)) != sizeof(rq)) {
		return 4;
	}
	for (int i = 0; i < 100 && qb_ipcc_is_connected(c); i++) {
		(void)qb_ipcc_recv(c, buf, sizeof(buf), 100);
	}
	if (qb_ipcc_is_connected(c)) {
		return 4;
	}
	qb_ipcc_disconnect(c);
	return 0;
}

/* ---- the main loop ------------------------------------------------------------------ */

static GMainLoop *loop;
static pid_t kids[N_CLIENTS];
static int kids_left, kids_failed, busy_calls;
static gint64 give_up_at;

/* Always ready, at G_PRIORITY_HIGH: starves every source below HIGH. It
 * also reaps the clients and ends the loop (a timeout source at a lower
 * priority would never run). */
static gboolean busy(gpointer unused)
{
	busy_calls++;
	for (int i = 0; i < N_CLIENTS; i++) {
		int status;

		if (kids[i] > 0 && waitpid(kids[i], &status, WNOHANG) == kids[i]) {
			kids[i] = 0;
			kids_left--;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "client %d: status 0x%x\n", i, status);
				kids_failed++;
			}
		}
	}
	if ((kids_left == 0 && n_destroyed == N_CLIENTS) || g_get_monotonic_time() > give_up_at) {
		g_main_loop_quit(loop);
		return G_SOURCE_REMOVE;
	}
	g_usleep(200); /* spin, but leave the clients some CPU */
	return G_SOURCE_CONTINUE;
}

static const enum qb_ipc_type transports[] = {QB_IPC_SOCKET, QB_IPC_SHM};

START_TEST(test_glib_fast_service_under_load)
{
	char name[64];
	qb_ipcs_service_t *s;
	GSource *idle;

	n_created = n_closed = n_destroyed = n_requests = 0;
	kids_failed = busy_calls = 0;
	snprintf(name, sizeof(name), "qbglib-%d-%d", (int)getpid(), _i);
	loop = g_main_loop_new(NULL, FALSE);
	s = qb_ipcs_create(name, 0, transports[_i], &handlers);
	ck_assert_ptr_nonnull(s);
	qb_ipcs_request_rate_limit(s, QB_IPCS_RATE_FAST);
	qb_ipcs_poll_handlers_set(s, &glib_handlers);
	ck_assert_int_eq(qb_ipcs_run(s), 0);

	for (int i = 0; i < N_CLIENTS; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			_exit(client_main(name, i));
		}
	}
	kids_left = N_CLIENTS;
	give_up_at = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
	idle = g_idle_source_new();
	g_source_set_priority(idle, G_PRIORITY_HIGH);
	g_source_set_callback(idle, busy, NULL, NULL);
	g_source_attach(idle, NULL);
	g_source_unref(idle);
	g_main_loop_run(loop);

	ck_assert_msg(kids_left == 0, "%d clients still running", kids_left);
	ck_assert_int_eq(kids_failed, 0);
	ck_assert_int_eq(n_created, N_CLIENTS);
	ck_assert_int_eq(n_requests, N_CLIENTS * N_REQUESTS + N_CLIENTS / 2);
	/* every close was refused once and asked again */
	ck_assert_int_eq(n_closed, 2 * N_CLIENTS);
	ck_assert_int_eq(n_destroyed, N_CLIENTS);
	ck_assert_int_gt(busy_calls, 0);
	qb_ipcs_destroy(s);
	ck_assert_int_eq(sources_left(), 0);
	g_main_loop_unref(loop);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_LOOP(test_glib_fast_service_under_load, 0, 2),
	};
	const struct ck_opts opts = {
		.timeout = 120,
	};

	signal(SIGPIPE, SIG_IGN);
	return CK_MAIN("ipc_glib", &opts, tests);
}
#endif /* HAVE_GLIB */
