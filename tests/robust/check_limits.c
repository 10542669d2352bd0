/*
 * check_limits.c - the server, not the client, bounds the buffers of a
 * connection and of a service (qb_ipcs_buffer_limits_set, defaults).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include "../unit/check_common.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>

#include "../unit/ipc_test_server.h"
#include "../unit/ipc_test_util.h"

#define MIB (1024u * 1024u)

static char svc[64];
static pid_t server_pid = -1;
static uint32_t lim_conn;
static uint64_t lim_total;

static void limits_hook(qb_ipcs_service_t *s)
{
	if (qb_ipcs_buffer_limits_set(s, lim_conn, lim_total) != 0) {
		_exit(8);
	}
}

/* in the server child: enforce the buffer size asked, set the limits */
static void limits_setup(void *enforce)
{
	tl_enforce = (int)*(const uint32_t *)enforce;
	tl_setup_hook = limits_hook;
}

static void server_start(enum qb_ipc_type type, uint32_t enforce)
{
	static int n;

	snprintf(svc, sizeof(svc), "qblimits-%d-%d", (int)getpid(), n++);
	ipc_test_server_spawn(&server_pid, svc, type, limits_setup, &enforce);
}

static void server_stop(void)
{
	int status;

	kill(server_pid, SIGTERM);
	ck_assert_int_eq(waitpid(server_pid, &status, 0), server_pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	server_pid = -1;
}

static void echo(qb_ipcc_connection_t *c, size_t payload)
{
	size_t len = sizeof(struct qb_ipc_request_header) + payload;
	struct qb_ipc_request_header *h = calloc(1, len);
	size_t rlen = sizeof(struct qb_ipc_response_header) + payload;
	char *buf = malloc(rlen);

	ck_assert(h && buf);
	h->id = IPC_T_ECHO;
	h->size = (int32_t)len;
	ck_assert_int_eq(qb_ipcc_send(c, h, len), (ssize_t)len);
	ck_assert_int_eq(qb_ipcc_recv(c, buf, rlen, 5000), (ssize_t)rlen);
	free(h);
	free(buf);
}

/* Default: a client asking for 1 GiB gets 64 MiB (SOCKET: no tmpfs use). */
START_TEST(test_default_conn_cap)
{
	qb_ipcc_connection_t *c;

	lim_conn = 0;
	lim_total = 0;
	server_start(QB_IPC_SOCKET, 0);
	c = qb_ipcc_connect(svc, 1024 * MIB);
	ck_assert_msg(c != NULL, "connect: %s", strerror(errno));
	ck_assert_int_eq(qb_ipcc_get_buffer_size(c), 64 * MIB);
	echo(c, 100);
	qb_ipcc_disconnect(c);
	/* corosync's and pacemaker's sizes are granted as asked */
	c = qb_ipcc_connect(svc, MIB);
	ck_assert(c != NULL);
	ck_assert_int_eq(qb_ipcc_get_buffer_size(c), MIB);
	qb_ipcc_disconnect(c);
	server_stop();
}
END_TEST

/* qb_ipcs_enforce_buffer_size raises the default cap. */
START_TEST(test_enforce_raises_cap)
{
	qb_ipcc_connection_t *c;

	lim_conn = 0;
	lim_total = 0;
	server_start(QB_IPC_SOCKET, 80 * MIB);
	c = qb_ipcc_connect(svc, 96 * MIB);
	ck_assert(c != NULL);
	ck_assert_int_eq(qb_ipcc_get_buffer_size(c), 80 * MIB);
	qb_ipcc_disconnect(c);
	server_stop();
}
END_TEST

/* Explicit limits: per connection (capped) and per service (refused). */
START_TEST(test_explicit_limits)
{
	static const enum qb_ipc_type tr[] = {QB_IPC_SHM, QB_IPC_SOCKET};
	qb_ipcc_connection_t *a, *b;

	lim_conn = 256 * 1024;
	lim_total = MIB;
	server_start(tr[_i], 0);
	a = qb_ipcc_connect(svc, MIB);
	ck_assert(a != NULL);
	ck_assert_int_eq(qb_ipcc_get_buffer_size(a), 256 * 1024);
	echo(a, 200 * 1024);
	/* 3 x 256 KiB charged: 3 x 128 KiB more would pass 1 MiB */
	b = qb_ipcc_connect(svc, 128 * 1024);
	ck_assert(b == NULL);
	ck_assert_int_eq(errno, ENOSPC);
	b = qb_ipcc_connect(svc, 64 * 1024);
	ck_assert(b != NULL); /* 768 + 192 KiB fit */
	qb_ipcc_disconnect(b);
	qb_ipcc_disconnect(a);
	b = NULL;
	/* released on disconnect (the server frees it on its next turn) */
	for (int i = 0; i < 200 && b == NULL; i++) {
		b = qb_ipcc_connect(svc, 256 * 1024);
		if (b == NULL) {
			usleep(10000);
		}
	}
	ck_assert(b != NULL);
	echo(b, 200 * 1024);
	qb_ipcc_disconnect(b);
	server_stop();
}
END_TEST

START_TEST(test_bad_args)
{
	ck_assert_int_eq(qb_ipcs_buffer_limits_set(NULL, 0, 0), -EINVAL);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_bad_args),
		CK_TEST(test_default_conn_cap),
		CK_TEST(test_enforce_raises_cap),
		CK_LOOP(test_explicit_limits, 0, 2),
	};
	const struct ck_opts opts = {
		.timeout = 60,
	};

	return CK_MAIN("limits", &opts, tests);
}
