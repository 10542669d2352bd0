/*
 * compat_loop: drives the loop through a fixed script and prints the order
 * in which callbacks run. Built against the distro headers; the output must
 * be identical on the distro library and on ours. Only deterministic facts
 * are printed (orders, return codes, booleans), never times or handles.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <qb/qbloop.h>

static qb_loop_t *L;
static const char *lvl = "LMH";

/* --- jobs ------------------------------------------------------------------ */

struct tag {
	int prio;
	int n;
};

static void job_print(void *d)
{
	struct tag *t = d;

	printf(" %c%d", lvl[t->prio], t->n);
}

static void job_stop(void *d)
{
	printf(" stop\n");
	qb_loop_stop(L);
}

static void jobs_interleave(void)
{
	static struct tag tags[3][12];
	int p, i;

	printf("jobs 12 per level:");
	for (i = 0; i < 12; i++)
		for (p = 0; p < 3; p++) {
			tags[p][i].prio = p;
			tags[p][i].n = i;
			qb_loop_job_add(L, p, &tags[p][i], job_print);
		}
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
}

static int chain_left;

static void job_chain(void *d)
{
	struct tag *t = d;

	printf(" c%c%d", lvl[t->prio], chain_left);
	if (--chain_left > 0)
		qb_loop_job_add(L, t->prio, d, job_chain);
	else
		qb_loop_stop(L);
}

static void job_adder(void *d)
{
	static struct tag t = {QB_LOOP_HIGH, 0};

	printf(" adder");
	qb_loop_job_add(L, QB_LOOP_HIGH, &t, job_print);
}

static void jobs_from_jobs(void)
{
	static struct tag t = {QB_LOOP_MED, 0};
	static struct tag lo = {QB_LOOP_LOW, 7};

	printf("jobs from jobs:");
	chain_left = 3;
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_adder);
	qb_loop_job_add(L, QB_LOOP_LOW, &lo, job_print);
	qb_loop_job_add(L, QB_LOOP_MED, &t, job_chain);
	qb_loop_run(L);
	printf("\n");
}

static void jobs_del(void)
{
	static struct tag a = {QB_LOOP_MED, 1}, b = {QB_LOOP_MED, 2};

	printf("job_add bad prio %d, NULL fn %d\n", qb_loop_job_add(L, 3, &a, job_print),
	       qb_loop_job_add(L, QB_LOOP_MED, &a, NULL));
	qb_loop_job_add(L, QB_LOOP_MED, &a, job_print);
	qb_loop_job_add(L, QB_LOOP_MED, &b, job_print);
	qb_loop_job_add(L, QB_LOOP_MED, &a, job_print);
	{
		int r1 = qb_loop_job_del(L, QB_LOOP_MED, &a, job_print);
		int r2 = qb_loop_job_del(L, QB_LOOP_MED, &a, job_print);
		int r3 = qb_loop_job_del(L, QB_LOOP_MED, &a, job_print);
		int r4 = qb_loop_job_del(L, QB_LOOP_LOW, &b, job_print);
		int r5 = qb_loop_job_del(L, 3, &b, job_print);
		int r6 = qb_loop_job_del(L, QB_LOOP_MED, &b, NULL);

		printf("job_del %d %d %d (wrong level %d, bad prio %d, NULL fn %d)\n", r1, r2, r3,
		       r4, r5, r6);
	}
	printf("after del:");
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
}

static void stop_midway(void)
{
	static struct tag t[4] = {{2, 0}, {2, 1}, {2, 2}, {2, 3}};
	int i;

	printf("stop inside a batch:");
	qb_loop_job_add(L, QB_LOOP_HIGH, &t[0], job_print);
	qb_loop_job_add(L, QB_LOOP_HIGH, NULL, job_stop);
	for (i = 1; i < 4; i++)
		qb_loop_job_add(L, QB_LOOP_HIGH, &t[i], job_print);
	qb_loop_run(L);
	printf("resumed:");
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
}

/* --- timers -------------------------------------------------------------------- */

static qb_loop_timer_handle th[8];

static void timer_print(void *d)
{
	long i = (long)d;

	printf(" t%ld(del %d run %d)", i, qb_loop_timer_del(L, th[i]),
	       qb_loop_timer_is_running(L, th[i]));
}

static void timer_stop(void *d)
{
	printf(" stop\n");
	qb_loop_stop(L);
}

static void timers_order(void)
{
	static const int ms[6] = {30, 10, 50, 20, 1, 40};
	qb_loop_timer_handle hs;
	long i;

	/* one level: a loaded machine may expire several in one turn, and
	 * then levels (not expiry) decide the order */
	printf("timers:");
	for (i = 0; i < 6; i++)
		qb_loop_timer_add(L, QB_LOOP_MED, ms[i] * 1000000ULL, (void *)i, timer_print,
				  &th[i]);
	printf(" running %d %d, get>0 %d, remaining>0 %d;", qb_loop_timer_is_running(L, th[0]),
	       qb_loop_timer_is_running(L, th[5]), qb_loop_timer_expire_time_get(L, th[2]) > 0,
	       qb_loop_timer_expire_time_remaining(L, th[2]) > 0);
	{
		int r1 = qb_loop_timer_del(L, th[5]);
		int r2 = qb_loop_timer_del(L, th[5]);

		printf(" del t5 %d again %d;", r1, r2);
	}
	printf(" get deleted %d, running deleted %d;", (int)qb_loop_timer_expire_time_get(L, th[5]),
	       qb_loop_timer_is_running(L, th[5]));
	qb_loop_timer_add(L, QB_LOOP_LOW, 70 * 1000000ULL, NULL, timer_stop, &hs);
	qb_loop_run(L);
	{
		int r1 = qb_loop_timer_del(L, th[0]);
		int r2 = qb_loop_timer_del(L, 0);
		int r3 = qb_loop_timer_add(L, QB_LOOP_LOW, 1, NULL, NULL, &hs);

		printf("after run: del t0 %d, del 0 %d, add NULL fn %d\n", r1, r2, r3);
	}
}

static void timers_zero_vs_jobs(void)
{
	static struct tag j = {QB_LOOP_MED, 0};

	printf("zero timers and jobs:");
	qb_loop_timer_add(L, QB_LOOP_MED, 0, (void *)6, timer_print, &th[6]);
	qb_loop_job_add(L, QB_LOOP_MED, &j, job_print);
	qb_loop_timer_add(L, QB_LOOP_HIGH, 0, (void *)7, timer_print, &th[7]);
	qb_loop_timer_add(L, QB_LOOP_LOW, 5 * 1000000ULL, NULL, timer_stop, NULL);
	qb_loop_run(L);
}

/* --- fds ------------------------------------------------------------------------- */

static int pfd[2], qfd[2];

static int32_t fd_read(int32_t fd, int32_t revents, void *d)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	printf(" %s(%s%s%s)", (char *)d, (revents & POLLIN) ? "in" : "",
	       (revents & POLLHUP) ? "hup" : "", n == 1 ? "+" : "");
	if (n == 1 && c == 's')
		qb_loop_stop(L);
	if (n == 0) {
		printf(" del-self %d", qb_loop_poll_del(L, fd));
		qb_loop_stop(L);
	}
	return 0;
}

static int32_t fd_out(int32_t fd, int32_t revents, void *d)
{
	printf(" out(%s)", (revents & POLLOUT) ? "out" : "?");
	qb_loop_poll_mod(L, QB_LOOP_LOW, fd, 0, d, fd_out);
	return 0;
}

static void polls(void)
{
	static struct tag jm = {QB_LOOP_MED, 0}, jl = {QB_LOOP_LOW, 0};

	if (pipe2(pfd, O_CLOEXEC) || pipe2(qfd, O_CLOEXEC))
		return;
	{
		int r1 = qb_loop_poll_add(L, QB_LOOP_MED, pfd[0], POLLIN, "p", fd_read);
		int r2 = qb_loop_poll_add(L, QB_LOOP_MED, pfd[0], POLLIN, "p", fd_read);
		int r3 = qb_loop_poll_mod(L, QB_LOOP_MED, qfd[0], POLLIN, "q", fd_read);
		int r4 = qb_loop_poll_del(L, qfd[0]);

		printf("poll add %d dup %d, mod unknown %d, del unknown %d\n", r1, r2, r3, r4);
	}
	qb_loop_poll_add(L, QB_LOOP_HIGH, qfd[0], POLLIN, "q", fd_read);
	qb_loop_poll_add(L, QB_LOOP_LOW, qfd[1], POLLOUT, NULL, fd_out);
	qb_loop_job_add(L, QB_LOOP_MED, &jm, job_print);
	qb_loop_job_add(L, QB_LOOP_LOW, &jl, job_print);
	(void)!write(pfd[1], "a", 1);
	(void)!write(qfd[1], "b", 1);
	printf("fds and jobs:");
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
	printf("mod to HIGH:");
	qb_loop_poll_mod(L, QB_LOOP_HIGH, pfd[0], POLLIN, "P", fd_read);
	(void)!write(pfd[1], "s", 1);
	qb_loop_run(L);
	printf("\nhangup:");
	close(pfd[1]);
	qb_loop_run(L);
	{
		int r1 = qb_loop_poll_del(L, pfd[0]);
		int r2 = qb_loop_poll_add(L, QB_LOOP_LOW, pfd[0], POLLIN, "p", fd_read);
		int r3 = qb_loop_poll_del(L, pfd[0]);
		int r4 = qb_loop_poll_del(L, qfd[0]);
		int r5 = qb_loop_poll_del(L, qfd[1]);

		printf("\nafter self-delete: del %d add %d del %d\n", r1, r2, r3);
		printf("del q %d, del qout %d\n", r4, r5);
	}
	close(pfd[0]);
	close(qfd[0]);
	close(qfd[1]);
}

/* --- signals ----------------------------------------------------------------- */

static int32_t sig_print(int32_t sig, void *d)
{
	printf(" %s(%s)", (char *)d, sig == SIGUSR1 ? "USR1" : sig == SIGUSR2 ? "USR2" : "?");
	return 0;
}

static int32_t sig_print2(int32_t sig, void *d)
{
	printf(" 2:");
	return sig_print(sig, d);
}

static int32_t sig_once(int32_t sig, void *d)
{
	printf(" once(%s)", sig == SIGUSR1 ? "USR1" : "?");
	return 1;
}

static void raise_then_stop(void *d)
{
	raise((int)(long)d);
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
}

static void signals(void)
{
	qb_loop_signal_handle a, b, c;
	struct sigaction sa;

	{
		int r1 = qb_loop_signal_add(L, QB_LOOP_HIGH, SIGUSR1, "a", sig_print, &a);
		int r2 = qb_loop_signal_add(L, QB_LOOP_LOW, SIGUSR1, "b", sig_print, &b);
		int r3 = qb_loop_signal_add(L, QB_LOOP_MED, SIGUSR1, "c", sig_once, &c);
		int r4 = qb_loop_signal_add(L, 3, SIGUSR1, "x", sig_print, &c);
		int r5 = qb_loop_signal_add(L, QB_LOOP_MED, SIGUSR1, "x", NULL, &c);

		printf("signal add %d %d %d, bad prio %d, NULL fn %d\n", r1, r2, r3, r4, r5);
	}
	printf("USR1:");
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)SIGUSR1, raise_then_stop);
	qb_loop_run(L);
	printf("USR1 again:");
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)SIGUSR1, raise_then_stop);
	qb_loop_run(L);
	{
		int r1 = qb_loop_signal_mod(L, QB_LOOP_HIGH, SIGUSR2, "b2", sig_print2, b);
		int r2 = qb_loop_signal_mod(L, QB_LOOP_HIGH, SIGUSR2, "b2", sig_print, NULL);

		printf("mod b to USR2 %d, mod NULL %d\n", r1, r2);
	}
	printf("USR2:");
	qb_loop_job_add(L, QB_LOOP_HIGH, (void *)SIGUSR2, raise_then_stop);
	qb_loop_run(L);
	{
		int r1 = qb_loop_signal_del(L, a);
		int r2 = qb_loop_signal_del(L, NULL);

		printf("del a %d, del NULL %d\n", r1, r2);
	}
	sigaction(SIGUSR1, NULL, &sa);
	printf("USR1 disposition after last del: %s\n",
	       sa.sa_handler == SIG_DFL ? "default" : "handled");
	qb_loop_signal_del(L, b);
	sigaction(SIGUSR2, NULL, &sa);
	printf("USR2 disposition after last del: %s\n",
	       sa.sa_handler == SIG_DFL ? "default" : "handled");
}

/* --- low fd warning ------------------------------------------------------------- */

static void low_fds(int32_t not_enough, int32_t avail)
{
	printf(" low(%d, %d)", not_enough, avail);
}

static void low_fd_warning(void)
{
	static int p[7][2];
	qb_loop_signal_handle h;
	int i, r = 0;

	/* the loop reads the limit once: 64 - 50 = 14 fds for the loop; the
	 * signal pipe counts as one once the loop has a signal handler */
	qb_loop_signal_add(L, QB_LOOP_LOW, SIGUSR2, "low", sig_print, &h);
	qb_loop_poll_low_fds_event_set(L, low_fds);
	printf("low fds:");
	for (i = 0; i < 6; i++) {
		if (pipe(p[i]))
			return;
		r |= qb_loop_poll_add(L, QB_LOOP_LOW, p[i][0], POLLIN, "low", fd_read);
		r |= qb_loop_poll_add(L, QB_LOOP_LOW, p[i][1], 0, "low", fd_read);
	}
	printf(" 13 registered %d;", r);
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
	printf("low fds: del two:");
	qb_loop_poll_del(L, p[0][0]);
	qb_loop_poll_del(L, p[0][1]);
	qb_loop_job_add(L, QB_LOOP_LOW, NULL, job_stop);
	qb_loop_run(L);
	for (i = 0; i < 6; i++) {
		qb_loop_poll_del(L, p[i][0]);
		qb_loop_poll_del(L, p[i][1]);
		close(p[i][0]);
		close(p[i][1]);
	}
	qb_loop_poll_low_fds_event_set(L, NULL);
	qb_loop_signal_del(L, h);
}

int main(void)
{
	struct rlimit rl;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	L = qb_loop_create();
	printf("create %s, default same %d\n", L ? "ok" : "failed",
	       qb_loop_job_add(NULL, QB_LOOP_LOW, NULL, timer_stop) == 0 &&
		       qb_loop_job_del(L, QB_LOOP_LOW, NULL, timer_stop) == 0);
	jobs_interleave();
	jobs_from_jobs();
	jobs_del();
	stop_midway();
	timers_order();
	timers_zero_vs_jobs();
	polls();
	signals();
	low_fd_warning();
	qb_loop_destroy(L);
	printf("destroyed; job_add on no default %d\n",
	       qb_loop_job_add(NULL, QB_LOOP_LOW, NULL, timer_stop));
	return 0;
}
