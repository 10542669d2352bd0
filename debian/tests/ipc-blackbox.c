/*
 * autopkgtest: a program built against the installed libqb-dev.
 *   ipc-blackbox DUMPFILE SERVICE
 * A child serves SERVICE on a qb_loop and answers "ping N" with
 * "pong N+1"; the parent connects, does one round trip, logs the answer
 * into the blackbox and writes the blackbox to DUMPFILE.
 */
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
#include <qb/qblog.h>
#include <qb/qbloop.h>

struct msg {
	union {
		struct qb_ipc_request_header req;
		struct qb_ipc_response_header res;
	} h;
	char text[64];
};

static qb_loop_t *loop;

static int32_t on_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	return 0;
}

static int32_t on_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	const struct msg *in = data;
	struct msg out;
	int n = 0;

	memset(&out, 0, sizeof(out));
	if (size >= sizeof(*in) && sscanf(in->text, "ping %d", &n) == 1) {
		snprintf(out.text, sizeof(out.text), "pong %d", n + 1);
	}
	out.h.res.id = in->h.req.id;
	out.h.res.size = sizeof(out);
	out.h.res.error = 0;
	return qb_ipcs_response_send(c, &out, sizeof(out)) == sizeof(out) ? 0 : -1;
}

static int32_t d_add(enum qb_loop_priority p, int32_t fd, int32_t ev,
		     void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(loop, p, fd, ev, data, fn);
}

static int32_t d_mod(enum qb_loop_priority p, int32_t fd, int32_t ev,
		     void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(loop, p, fd, ev, data, fn);
}

static int32_t d_del(int32_t fd)
{
	return qb_loop_poll_del(loop, fd);
}

static int32_t j_add(enum qb_loop_priority p, void *data,
		     qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(loop, p, data, fn);
}

static void serve(const char *name)
{
	struct qb_ipcs_service_handlers sh = {
		.connection_accept = on_accept,
		.msg_process = on_msg,
	};
	struct qb_ipcs_poll_handlers ph = {
		.job_add = j_add,
		.dispatch_add = d_add,
		.dispatch_mod = d_mod,
		.dispatch_del = d_del,
	};
	qb_ipcs_service_t *s;

	loop = qb_loop_create();
	s = qb_ipcs_create(name, 0, QB_IPC_SHM, &sh);
	if (loop == NULL || s == NULL) {
		_exit(2);
	}
	qb_ipcs_poll_handlers_set(s, &ph);
	if (qb_ipcs_run(s) != 0) {
		_exit(3);
	}
	qb_loop_run(loop);
	_exit(0);
}

int main(int argc, char **argv)
{
	qb_ipcc_connection_t *c = NULL;
	struct msg req, res;
	pid_t pid;
	int i, status;
	ssize_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DUMPFILE SERVICE\n", argv[0]);
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		serve(argv[2]);
	}

	qb_log_init("ipc-blackbox", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD,
			  QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 64 * 1024);
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) != 0) {
		fprintf(stderr, "cannot enable the blackbox\n");
		kill(pid, SIGTERM);
		return 1;
	}

	for (i = 0; i < 100 && c == NULL; i++) {
		c = qb_ipcc_connect(argv[2], 8192);
		if (c == NULL) {
			usleep(50 * 1000);
		}
	}
	if (c == NULL) {
		fprintf(stderr, "cannot connect to %s: %s\n", argv[2], strerror(errno));
		kill(pid, SIGTERM);
		return 1;
	}
	memset(&req, 0, sizeof(req));
	req.h.req.id = QB_IPC_MSG_USER_START + 1;
	req.h.req.size = sizeof(req);
	snprintf(req.text, sizeof(req.text), "ping %d", 40);
	n = qb_ipcc_send(c, &req, sizeof(req));
	if (n == (ssize_t)sizeof(req)) {
		n = qb_ipcc_recv(c, &res, sizeof(res), 5000);
	}
	qb_ipcc_disconnect(c);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	if (n != (ssize_t)sizeof(res)) {
		fprintf(stderr, "round trip failed: %zd\n", n);
		return 1;
	}
	printf("server answered: %s\n", res.text);
	qb_log(LOG_INFO, "round trip answered: %s", res.text);
	qb_log(LOG_DEBUG, "blackbox test finished");
	if (qb_log_blackbox_write_to_file(argv[1]) <= 0) {
		fprintf(stderr, "cannot write the blackbox to %s\n", argv[1]);
		return 1;
	}
	qb_log_fini();
	return strcmp(res.text, "pong 41") == 0 ? 0 : 1;
}
