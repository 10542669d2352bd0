/*
 * A minimal event loop for IPC test servers: fd watches, a job queue and
 * one-shot timers, handed to the library with qb_ipcs_poll_handlers_set()
 * (see ipcl_handlers). Used instead of qb_loop so that the cross-library
 * tests and the IPC benchmark exercise the IPC code only. Single-threaded;
 * one loop per process (header-only, static).
 */
#ifndef IPC_LOOP_H
#define IPC_LOOP_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <qb/qbipcs.h>

#define MAX_WATCHES 256
#define MAX_JOBS 1024
#define MAX_TIMERS 64

struct watch {
	int fd;
	int events;
	unsigned gen; /* changes when the slot is reused */
	void *data;
	qb_ipcs_dispatch_fn_t fn;
};
struct job {
	void *data;
	qb_loop_job_dispatch_fn fn;
};
struct timer {
	long long due_ms;
	void (*fn)(void *data);
	void *data;
};

static struct {
	struct watch w[MAX_WATCHES];
	int nw;
	unsigned gen;
	struct job jobs[MAX_JOBS];
	int njobs;
	struct timer t[MAX_TIMERS];
	int nt;
	volatile sig_atomic_t quit;
} L;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int watch_find(int fd)
{
	for (int i = 0; i < L.nw; i++)
		if (L.w[i].fd == fd)
			return i;
	return -1;
}

static int32_t loop_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
				 qb_ipcs_dispatch_fn_t fn)
{
	if (watch_find(fd) >= 0)
		return -EEXIST;
	if (L.nw == MAX_WATCHES)
		return -ENOMEM;
	L.w[L.nw] = (struct watch){fd, events, ++L.gen, data, fn};
	L.nw++;
	return 0;
}

static int32_t loop_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
				 qb_ipcs_dispatch_fn_t fn)
{
	int i = watch_find(fd);
	if (i < 0)
		return -ENOENT;
	L.w[i].events = events;
	L.w[i].data = data;
	L.w[i].fn = fn;
	return 0;
}

static int32_t loop_dispatch_del(int32_t fd)
{
	int i = watch_find(fd);
	if (i < 0)
		return -ENOENT;
	L.w[i] = L.w[--L.nw];
	return 0;
}

static int32_t loop_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	if (L.njobs == MAX_JOBS)
		return -ENOMEM;
	L.jobs[L.njobs++] = (struct job){data, fn};
	return 0;
}

__attribute__((unused)) static void timer_add(int ms, void (*fn)(void *), void *data)
{
	if (L.nt == MAX_TIMERS) {
		fprintf(stderr, "server: too many timers\n");
		exit(3);
	}
	L.t[L.nt++] = (struct timer){now_ms() + ms, fn, data};
}

static void run_jobs(void)
{
	int n = L.njobs; /* jobs queued by these jobs run next round */
	struct job batch[MAX_JOBS];
	memcpy(batch, L.jobs, n * sizeof(batch[0]));
	memmove(L.jobs, L.jobs + n, (L.njobs - n) * sizeof(L.jobs[0]));
	L.njobs -= n;
	for (int i = 0; i < n; i++)
		batch[i].fn(batch[i].data);
}

static void run_timers(void)
{
	long long now = now_ms();
	for (int i = 0; i < L.nt;) {
		if (L.t[i].due_ms <= now) {
			struct timer t = L.t[i];
			L.t[i] = L.t[--L.nt];
			t.fn(t.data);
			i = 0;
			now = now_ms();
		} else {
			i++;
		}
	}
}

static void loop_iterate(int max_wait_ms)
{
	struct pollfd pfd[MAX_WATCHES];
	struct watch snap[MAX_WATCHES];
	int n = L.nw;
	int timeout = L.njobs ? 0 : max_wait_ms;

	for (int i = 0; i < L.nt; i++) {
		long long left = L.t[i].due_ms - now_ms();
		if (left < 0)
			left = 0;
		if (left < timeout)
			timeout = (int)left;
	}
	memcpy(snap, L.w, n * sizeof(snap[0]));
	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){.fd = snap[i].fd, .events = (short)snap[i].events};
	if (poll(pfd, n, timeout) > 0) {
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			/* the callback of an earlier fd may have removed this one */
			int k = watch_find(snap[i].fd);
			if (k < 0 || L.w[k].gen != snap[i].gen)
				continue;
			if (L.w[k].fn(L.w[k].fd, pfd[i].revents, L.w[k].data) < 0) {
				k = watch_find(snap[i].fd);
				if (k >= 0 && L.w[k].gen == snap[i].gen)
					L.w[k] = L.w[--L.nw];
			}
		}
	}
	run_jobs();
	run_timers();
}

static struct qb_ipcs_poll_handlers ipcl_handlers = {
	.job_add = loop_job_add,
	.dispatch_add = loop_dispatch_add,
	.dispatch_mod = loop_dispatch_mod,
	.dispatch_del = loop_dispatch_del,
};

#endif
