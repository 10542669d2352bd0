/*
 * A long event stream sent from inside one request handler.
 *
 * The server (a forked child on qb_loop) answers one request by sending
 * COUNT events of nearly the maximum message size with qb_ipcs_event_send,
 * retrying with usleep(1000) on -EAGAIN, and only then responds. Its main
 * loop does not run meanwhile, so the client must be woken for every event
 * by what the send itself does. The client reads the events either from a
 * qb_loop poll callback on qb_ipcc_fd_get (one qb_ipcc_event_recv per
 * POLLIN) or with blocking qb_ipcc_event_recv calls, checking the sequence
 * numbers.
 *
 * Usage: ipc_event_stream all | shm|socket loop|block [COUNT [MAX_MSG [SIZE]]]
 * (all: every transport and client mode, two event sizes, 30,000 each)
 * Exit 0 when every event and the response arrived; 1 on a wrong event or
 * error; 2 when the stream made no progress for STALL_S seconds (a stall:
 * the client sleeps with events pending, the server only gets -EAGAIN).
 * Built against the distro headers; both libraries must print the same.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#define STALL_S 10

struct ev { /* followed by filler up to ev_size */
	struct qb_ipc_response_header hdr;
	uint32_t seq;
};

static size_t max_msg = 8192;
static size_t ev_size = 8192 - 64; /* header included */

static qb_loop_t *loop;
static uint32_t count = 30000;
static uint32_t next_seq;
static int failed;
static volatile sig_atomic_t progress;
static pid_t server_pid;

/* ---- server ---- */

static int32_t s_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	(void)c;
	(void)uid;
	(void)gid;
	return 0;
}

static int32_t s_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_request_header *req = data;
	struct qb_ipc_response_header resp;
	struct ev *e = malloc(ev_size);
	ssize_t rc;
	uint32_t i;

	(void)size;
	if (e == NULL) {
		exit(1);
	}
	memset(e, 0x5a, ev_size);
	e->hdr.id = 1;
	e->hdr.size = (int32_t)ev_size;
	e->hdr.error = 0;
	for (i = 0; i < count; i++) {
		e->seq = i;
		do {
			rc = qb_ipcs_event_send(c, e, ev_size);
			if (rc == -EAGAIN) {
				usleep(1000);
			}
		} while (rc == -EAGAIN);
		if (rc != (ssize_t)ev_size) {
			fprintf(stderr, "server: event %u: %zd\n", i, rc);
			break;
		}
	}
	free(e);
	resp.id = req->id;
	resp.size = sizeof(resp);
	resp.error = (int32_t)i;
	(void)qb_ipcs_response_send(c, &resp, sizeof(resp));
	return 0;
}

static void s_destroyed(qb_ipcs_connection_t *c)
{
	(void)c;
	qb_loop_stop(loop);
}

static int32_t p_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
		     qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(loop, p, fd, events, data, fn);
}

static int32_t p_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
		     qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(loop, p, fd, events, data, fn);
}

static int32_t p_del(int32_t fd)
{
	return qb_loop_poll_del(loop, fd);
}

static int32_t j_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(loop, p, data, fn);
}

static void server(const char *name, enum qb_ipc_type type, int ready_fd)
{
	struct qb_ipcs_service_handlers h = {
		.connection_accept = s_accept,
		.msg_process = s_msg,
		.connection_destroyed = s_destroyed,
	};
	struct qb_ipcs_poll_handlers ph = {
		.job_add = j_add,
		.dispatch_add = p_add,
		.dispatch_mod = p_mod,
		.dispatch_del = p_del,
	};
	qb_ipcs_service_t *s;

	loop = qb_loop_create();
	s = qb_ipcs_create(name, 1, type, &h);
	if (loop == NULL || s == NULL) {
		exit(1);
	}
	qb_ipcs_poll_handlers_set(s, &ph);
	if (qb_ipcs_run(s) != 0) {
		exit(1);
	}
	(void)!write(ready_fd, "", 1);
	close(ready_fd);
	qb_loop_run(loop);
	qb_ipcs_destroy(s);
	qb_loop_destroy(loop);
	exit(0);
}

/* ---- client ---- */

static int check_event(const struct ev *e, ssize_t n)
{
	if (n != (ssize_t)ev_size || e->seq != next_seq) {
		fprintf(stderr, "client: event %u: got %zd bytes, seq %u\n", next_seq, n,
			n >= (ssize_t)sizeof(*e) ? e->seq : 0);
		failed = 1;
		return -1;
	}
	next_seq++;
	progress = 1;
	return 0;
}

static int32_t c_dispatch(int32_t fd, int32_t revents, void *data)
{
	static struct ev *e;
	ssize_t n;

	(void)fd;
	if (e == NULL && (e = malloc(ev_size)) == NULL) {
		exit(1);
	}
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		fprintf(stderr, "client: server gone after %u events\n", next_seq);
		failed = 1;
		qb_loop_stop(loop);
		return -1;
	}
	n = qb_ipcc_event_recv(data, e, ev_size, 0);
	if (n == -EAGAIN || n == -ETIMEDOUT) {
		return 0;
	}
	if (check_event(e, n) < 0 || next_seq == count) {
		qb_loop_stop(loop);
		return -1;
	}
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (!progress) {
		static const char msg[] = "client: no progress: stalled\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		kill(server_pid, SIGKILL);
		_exit(2);
	}
	progress = 0;
	alarm(STALL_S);
}

/* One stream; returns the exit status described at the top. */
static int run(const char *tname, const char *mode)
{
	enum qb_ipc_type type;
	struct qb_ipc_request_header req;
	struct qb_ipc_response_header resp;
	struct ev *e;
	qb_ipcc_connection_t *c;
	int blocking, fds[2], status;
	char name[64], b;
	int32_t fd;
	pid_t pid;
	ssize_t n;

	type = strcmp(tname, "shm") == 0 ? QB_IPC_SHM : QB_IPC_SOCKET;
	blocking = strcmp(mode, "block") == 0;
	if (ev_size < sizeof(*e) || ev_size > max_msg) {
		return 1;
	}
	snprintf(name, sizeof(name), "evstream-%d", (int)getpid());
	if (pipe(fds) < 0) {
		return 1;
	}
	pid = fork();
	server_pid = pid;
	if (pid == 0) {
		close(fds[0]);
		server(name, type, fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &b, 1) != 1) {
		fprintf(stderr, "client: server did not start\n");
		return 1;
	}
	close(fds[0]);
	signal(SIGALRM, on_alarm);
	alarm(STALL_S);
	e = malloc(ev_size);
	if (e == NULL) {
		kill(pid, SIGKILL);
		return 1;
	}

	c = qb_ipcc_connect(name, max_msg);
	if (c == NULL) {
		perror("qb_ipcc_connect");
		kill(pid, SIGKILL);
		free(e);
		return 1;
	}
	req.id = 1;
	req.size = sizeof(req);
	if (qb_ipcc_send(c, &req, sizeof(req)) != sizeof(req)) {
		fprintf(stderr, "client: request not sent\n");
		failed = 1;
	} else if (blocking) {
		while (next_seq < count) {
			n = qb_ipcc_event_recv(c, e, ev_size, -1);
			if (n == -EAGAIN || n == -ETIMEDOUT || n == -EINTR) {
				continue;
			}
			if (check_event(e, n) < 0) {
				break;
			}
		}
	} else {
		loop = qb_loop_create();
		if (qb_ipcc_fd_get(c, &fd) != 0 ||
		    qb_loop_poll_add(loop, QB_LOOP_MED, fd, POLLIN, c, c_dispatch) != 0) {
			fprintf(stderr, "client: cannot poll the connection\n");
			kill(pid, SIGKILL);
			free(e);
			return 1;
		}
		qb_loop_run(loop);
		qb_loop_destroy(loop);
	}
	if (!failed) {
		n = qb_ipcc_recv(c, &resp, sizeof(resp), -1);
		if (n != sizeof(resp) || resp.error != (int32_t)count) {
			fprintf(stderr, "client: response %zd, %d events sent\n", n,
				n == sizeof(resp) ? resp.error : -1);
			failed = 1;
		}
	}
	alarm(0);
	qb_ipcc_disconnect(c);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "client: server did not exit cleanly\n");
		failed = 1;
	}
	if (!failed) {
		printf("%s %s, %zu-byte events, max %zu: %u events\n", tname, mode, ev_size,
		       max_msg, next_seq);
	}
	free(e);
	return failed;
}

/* Every transport and client mode, for the event size of the issue (near
 * the maximum; a few fit in the ring) and for small events in a big ring
 * (hundreds of notifications pile up in the socket). */
static int run_all(void)
{
	static const char *const tn[] = {"shm", "socket"};
	static const char *const mn[] = {"loop", "block"};
	static const size_t shape[][2] = {{1024, 960}, {1048576, 100}};
	int worst = 0, st;
	size_t i, t, m;
	pid_t pid;

	for (i = 0; i < 2; i++) {
		for (t = 0; t < 2; t++) {
			for (m = 0; m < 2; m++) {
				fflush(stdout);
				pid = fork();
				if (pid == 0) {
					max_msg = shape[i][0];
					ev_size = shape[i][1];
					st = run(tn[t], mn[m]);
					fflush(stdout);
					_exit(st);
				}
				if (pid < 0 || waitpid(pid, &st, 0) != pid) {
					return 1;
				}
				st = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
				if (st != 0) {
					printf("%s %s, %zu-byte events: exit %d\n", tn[t], mn[m],
					       shape[i][1], st);
				}
				worst = st > worst ? st : worst;
			}
		}
	}
	return worst;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "all") == 0) {
		return run_all();
	}
	if (argc < 3) {
		fprintf(stderr,
			"usage: %s all | shm|socket loop|block "
			"[COUNT [MAX_MSG [SIZE]]]\n",
			argv[0]);
		return 1;
	}
	if (argc > 3) {
		count = (uint32_t)strtoul(argv[3], NULL, 10);
	}
	if (argc > 4) {
		max_msg = strtoul(argv[4], NULL, 10);
	}
	ev_size = max_msg - 64;
	if (argc > 5) {
		ev_size = strtoul(argv[5], NULL, 10);
	}
	return run(argv[1], argv[2]);
}
