/*
 * bench_log.c - cost of qb_log() (built against the distro headers, run on
 * both libraries by bench/run-bench.sh).
 *
 *   log_filtered_ns     qb_log() that no target wants (callsite exists)
 *   log_blackbox_ns     qb_log() with 3 arguments into the blackbox only
 *   log_threaded_file   messages/s through a threaded file target
 *   log_mt_custom       messages/s, 4 threads into one custom target
 *   log_mt_blackbox     qb_log() calls/s, 4 threads into the blackbox only
 *                       (calls, not records: the distro drops some)
 *   log_file_format_ns  qb_log() into a file target with a corosync-like
 *                       format ("%t [%p] %f:%l %b"), no log thread
 *   log_thread_4prod    messages/s written by the log thread for 4
 *                       producer threads into one threaded file target
 *
 * log_filtered_ns and log_blackbox_ns are the steady cost of one call: the
 * blackbox ring is filled once before the clock starts (its pages faulted
 * in, every record then overwriting an old one, as in a daemon that has run
 * a while), and the row is the fastest of ROUNDS rounds, since on a shared
 * machine noise only ever adds time.  log_mt_blackbox starts from a full
 * ring too.
 */
#define _GNU_SOURCE /* sched_setaffinity, in bench_pin.h */
#include <sys/wait.h>
#include <qb/qblog.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "bench_pin.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define ROUNDS 5

/* The fastest of ROUNDS runs of calls(n), in ns a call. */
static double fastest_ns(void (*calls)(long n), long n)
{
	double t0, t, best = 0;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		t0 = now();
		calls(n);
		t = (now() - t0) * 1e9 / n;
		best = (r == 0 || t < best) ? t : best;
	}
	return best;
}

static void filtered_calls(long n)
{
	long i;

	for (i = 0; i < n; i++)
		qb_log(LOG_DEBUG, "filtered %ld %s %d", i, "x", 3);
}

static void blackbox_calls(long n)
{
	long i;

	for (i = 0; i < n; i++)
		qb_log(LOG_TRACE, "blackbox %ld %s %d", i, "abc", 7);
}

static void bench_filtered(void)
{
	printf("log_filtered_ns\t%.2f\tns/call\tlower\n", fastest_ns(filtered_calls, 1000000));
}

/* A 1 MiB blackbox that takes every message. */
static int blackbox_on(void)
{
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 1024 * 1024);
	if (qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE) != 0)
		return -1;
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD,
			  QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	return 0;
}

static void bench_blackbox(void)
{
	if (blackbox_on() != 0)
		return;
	/* 1 MiB of records of about 60 bytes: 17000 fill it */
	blackbox_calls(40000);
	printf("log_blackbox_ns\t%.2f\tns/call\tlower\n", fastest_ns(blackbox_calls, 100000));
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
}

/* The log thread writes to stdout when it drops messages: keep that away
 * from the metric lines. Returns the saved stdout. */
static int stdout_off(void)
{
	int saved, devnull;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, STDOUT_FILENO);
	close(devnull);
	return saved;
}

static void stdout_on(int saved)
{
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

static void bench_file_format(void)
{
	const long n = 200000;
	char path[64];
	double t0;
	long i;
	int t;

	snprintf(path, sizeof(path), "/tmp/bench_log_fmt.%d", (int)getpid());
	t = qb_log_file_open(path);
	if (t < 0)
		return;
	qb_log_format_set(t, "%t [%p] %f:%l %b");
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "fmtfile",
			  LOG_TRACE);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	t0 = now();
	for (i = 0; i < n; i++)
		qb_log(LOG_INFO, "fmtfile %ld %s %d", i, "abc", 7);
	printf("log_file_format_ns\t%.2f\tns/call\tlower\n", (now() - t0) * 1e9 / n);
	qb_log_file_close(t);
	unlink(path);
}

#define PROD_THREADS 4
#define PROD_PER_THREAD 50000

static void *producer(void *arg)
{
	long i;

	for (i = 0; i < PROD_PER_THREAD; i++)
		qb_log(LOG_INFO, "producer %ld %s %d", i, "abc", 7);
	return NULL;
}

/* Runs in a child of its own: qb_log_fini() (which drains the queue) ends
 * logging for the process. */
static void bench_thread_producers(void)
{
	pthread_t th[PROD_THREADS];
	char path[64];
	double t0, elapsed;
	int i, t, saved;

	snprintf(path, sizeof(path), "/tmp/bench_log_prod.%d", (int)getpid());
	t = qb_log_file_open(path);
	if (t < 0)
		return;
	saved = stdout_off();
	qb_log_ctl(t, QB_LOG_CONF_THREADED, QB_TRUE);
	qb_log_thread_start();
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "producer",
			  LOG_TRACE);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	t0 = now();
	for (i = 0; i < PROD_THREADS; i++)
		pthread_create(&th[i], NULL, producer, NULL);
	for (i = 0; i < PROD_THREADS; i++)
		pthread_join(th[i], NULL);
	qb_log_fini();
	elapsed = now() - t0;
	stdout_on(saved);
	printf("log_thread_4prod\t%.0f\tmsg/s\thigher\n",
	       PROD_THREADS * PROD_PER_THREAD / elapsed);
	unlink(path);
}

static void in_child(void (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

static void bench_threaded_file(void)
{
	const long n = 100000;
	char path[64];
	double t0, elapsed;
	long i;
	int t, saved;

	snprintf(path, sizeof(path), "/tmp/bench_log.%d", (int)getpid());
	t = qb_log_file_open(path);
	if (t < 0)
		return;
	saved = stdout_off();
	qb_log_ctl(t, QB_LOG_CONF_THREADED, QB_TRUE);
	qb_log_thread_start();
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "tofile",
			  LOG_TRACE);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	t0 = now();
	for (i = 0; i < n; i++)
		qb_log(LOG_INFO, "tofile %ld %s %d", i, "abc", 7);
	qb_log_fini();	/* drains the queue */
	elapsed = now() - t0;
	stdout_on(saved);
	printf("log_threaded_file\t%.0f\tmsg/s\thigher\n", n / elapsed);
	unlink(path);
}

static volatile long delivered;

static void count(int32_t t, struct qb_log_callsite *cs, struct timespec *ts,
		  const char *msg)
{
	__sync_fetch_and_add(&delivered, 1);
}

#define MT_THREADS 4
#define MT_PER_THREAD 50000

static void *mt_worker(void *arg)
{
	long i;

	for (i = 0; i < MT_PER_THREAD; i++)
		qb_log(LOG_INFO, "mt %ld %s", i, "abc");
	return NULL;
}

static void bench_mt_custom(void)
{
	pthread_t th[MT_THREADS];
	double t0;
	int i, t;

	t = qb_log_custom_open(count, NULL, NULL, NULL);
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FORMAT, "mt ",
			  LOG_TRACE);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	t0 = now();
	for (i = 0; i < MT_THREADS; i++)
		pthread_create(&th[i], NULL, mt_worker, NULL);
	for (i = 0; i < MT_THREADS; i++)
		pthread_join(th[i], NULL);
	printf("log_mt_custom\t%.0f\tmsg/s\thigher\n", delivered / (now() - t0));
	printf("log_mt_delivered_pct\t%.1f\t%%\thigher\n",
	       100.0 * delivered / (MT_THREADS * MT_PER_THREAD));
	qb_log_custom_close(t);
}

static void *mt_blackbox_worker(void *arg)
{
	long i;

	for (i = 0; i < MT_PER_THREAD * 4; i++)
		qb_log(LOG_TRACE, "mtbb %ld %s %d", i, "abc", 7);
	return NULL;
}

static void bench_mt_blackbox(void)
{
	pthread_t th[MT_THREADS];
	double t0;
	int i;

	if (blackbox_on() != 0)
		return;
	blackbox_calls(40000); /* a full ring, as in bench_blackbox() */
	t0 = now();
	for (i = 0; i < MT_THREADS; i++)
		pthread_create(&th[i], NULL, mt_blackbox_worker, NULL);
	for (i = 0; i < MT_THREADS; i++)
		pthread_join(th[i], NULL);
	printf("log_mt_blackbox\t%.0f\tcalls/s\thigher\n",
	       MT_THREADS * MT_PER_THREAD * 4 / (now() - t0));
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
}

int main(void)
{
	qb_log_init("bench_log", LOG_USER, LOG_INFO);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log(LOG_DEBUG, "warm up");
	bench_pin();
	bench_filtered();
	bench_blackbox();
	bench_unpin();
	bench_mt_custom();
	bench_mt_blackbox();
	bench_pin();
	bench_file_format();
	bench_unpin();
	in_child(bench_thread_producers);
	bench_threaded_file();
	return 0;
}
