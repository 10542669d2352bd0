/*
 * Util pieces not declared in public headers: strlcpy/strlcat (exported),
 * fd hygiene, the deprecated log receiver hook, the internal log macros,
 * the word lock and the busy-wait CPU check.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* cpu_set_t */
#endif
#include <check.h>
#include "check_common.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "util/util_internal.h"

START_TEST(test_strlcpy)
{
	char b[16];

	memset(b, 'Z', sizeof(b));
	ck_assert_uint_eq(strlcpy(b, "hello", 0), 5);
	ck_assert_int_eq(b[0], 'Z'); /* size 0 writes nothing */
	ck_assert_uint_eq(strlcpy(b, "hello", 1), 5);
	ck_assert_str_eq(b, "");
	ck_assert_uint_eq(strlcpy(b, "hello", 3), 5);
	ck_assert_str_eq(b, "he");
	ck_assert_uint_eq(strlcpy(b, "hello", 6), 5);
	ck_assert_str_eq(b, "hello");
	ck_assert_uint_eq(strlcpy(b, "", sizeof(b)), 0);
	ck_assert_str_eq(b, "");
}
END_TEST

START_TEST(test_strlcat)
{
	char b[16];

	strcpy(b, "abc");
	ck_assert_uint_eq(strlcat(b, "hello", 3), 8);
	ck_assert_str_eq(b, "abc");
	ck_assert_uint_eq(strlcat(b, "hello", 6), 8);
	ck_assert_str_eq(b, "abche");
	strcpy(b, "abc");
	ck_assert_uint_eq(strlcat(b, "hello", sizeof(b)), 8);
	ck_assert_str_eq(b, "abchello");
	/* dst longer than size: nothing written (libqb 2.0 overflows here) */
	strcpy(b, "abcdefgh");
	ck_assert_uint_eq(strlcat(b, "xy", 2), 10);
	ck_assert_str_eq(b, "abcdefgh");
	ck_assert_uint_eq(strlcat(b, "xy", 0), 10);
	ck_assert_str_eq(b, "abcdefgh");
}
END_TEST

START_TEST(test_fd_hygiene_high)
{
	int fds[2];
	int fd;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ge(fds[0], 3);
	ck_assert_int_eq(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, 0);
	fd = util_fd_hygiene(fds[0]);
	ck_assert_int_eq(fd, fds[0]);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fds[0]);
	close(fds[1]);
	ck_assert_int_eq(util_fd_hygiene(fds[0]), -EBADF);
	ck_assert_int_eq(util_fd_hygiene(-1), -EBADF);
}
END_TEST

START_TEST(test_fd_hygiene_low)
{
	int fds[2];
	int fd;

	/* This test runs in its own forked process: closing stdin is safe. */
	close(0);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(fds[0], 0);
	fd = util_fd_hygiene(fds[0]);
	ck_assert_int_ge(fd, 3);
	ck_assert_int_eq(fcntl(0, F_GETFD), -1); /* the low fd is closed */
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(write(fds[1], "x", 1), 1); /* still the same pipe */
	{
		char c = 0;

		ck_assert_int_eq(read(fd, &c, 1), 1);
		ck_assert_int_eq(c, 'x');
	}
	close(fd);
	close(fds[1]);
}
END_TEST

static int receiver_calls;
static char receiver_text[128];
static int32_t receiver_severity;

static void receiver(const char *file_name, int32_t file_line, int32_t severity, const char *msg)
{
	receiver_calls++;
	receiver_severity = severity;
	snprintf(receiver_text, sizeof(receiver_text), "%s", msg);
}

/* The deprecated receiver gets libqb's own messages (tag bit 31) only. */
START_TEST(test_set_log_function)
{
	qb_log_init("check_util", LOG_USER, LOG_EMERG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	qb_util_set_log_function(receiver);
	util_log(LOG_WARNING, "library says %d", 42);
	ck_assert_int_eq(receiver_calls, 1);
	ck_assert_str_eq(receiver_text, "library says 42");
	ck_assert_int_eq(receiver_severity, LOG_WARNING);
	qb_log(LOG_WARNING, "application says %d", 1);
	ck_assert_int_eq(receiver_calls, 1);
	qb_util_set_log_function(NULL);
#pragma GCC diagnostic pop
	util_log(LOG_WARNING, "nobody listens");
	ck_assert_int_eq(receiver_calls, 1);
	qb_log_fini();
}
END_TEST

START_TEST(test_log_macros_keep_errno)
{
	errno = EAGAIN;
	util_perror(LOG_DEBUG, "probe %d", 1);
	ck_assert_int_eq(errno, EAGAIN);
	util_log(LOG_DEBUG, "probe %s", "two");
}
END_TEST

/* ---- word lock ---------------------------------------------------------- */

#define WL_THREADS 4
#define WL_ROUNDS 200000

static qb_util_word_lock_t wl = QB_UTIL_WORD_LOCK_INIT;
static unsigned long wl_counter; /* only touched under wl */

static void *wl_adder(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < WL_ROUNDS; i++) {
		word_lock(&wl);
		/* a non-atomic read-modify-write: lost updates show a broken lock */
		wl_counter = wl_counter + 1;
		word_unlock(&wl);
	}
	return NULL;
}

START_TEST(test_word_lock_excludes)
{
	pthread_t t[WL_THREADS];
	int i;

	wl_counter = 0;
	for (i = 0; i < WL_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, wl_adder, NULL), 0);
	for (i = 0; i < WL_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_uint_eq(wl_counter, (unsigned long)WL_THREADS * WL_ROUNDS);
	ck_assert(!word_lock_held(&wl));
}
END_TEST

static int wl_waiter_done;
static int wl_waiter_saw_mine = -1;

static void *wl_waiter(void *arg)
{
	(void)arg;
	/* held by the main thread, not by us */
	wl_waiter_saw_mine = word_lock_mine(&wl);
	word_lock(&wl);
	__atomic_store_n(&wl_waiter_done, 1, __ATOMIC_SEQ_CST);
	word_unlock(&wl);
	return NULL;
}

/* A waiter that had to go to sleep is woken by the release. */
START_TEST(test_word_lock_sleeper_woken)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	pthread_t t;

	wl_waiter_done = 0;
	word_lock(&wl);
	ck_assert(word_lock_held(&wl));
	ck_assert_int_eq(pthread_create(&t, NULL, wl_waiter, NULL), 0);
	ck_assert(word_lock_mine(&wl));
	nanosleep(&pause, NULL); /* long past its spinning: asleep */
	ck_assert_int_eq(__atomic_load_n(&wl_waiter_done, __ATOMIC_SEQ_CST), 0);
	/* the sleeper announced itself; we are still the owner */
	ck_assert_uint_ne(__atomic_load_n(&wl.word, __ATOMIC_SEQ_CST) & QB_UTIL_WORD_LOCK_WAITERS,
			  0);
	ck_assert(word_lock_mine(&wl));
	word_unlock(&wl);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(wl_waiter_done, 1);
	ck_assert_int_eq(wl_waiter_saw_mine, 0);
	ck_assert(!word_lock_held(&wl));
	ck_assert(!word_lock_mine(&wl));
}
END_TEST

/* util_spin_useful() in a fresh child with the given affinity: its answer. */
static int spin_useful_in_child(const cpu_set_t *set)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (set != NULL && sched_setaffinity(0, sizeof(*set), set) != 0)
			_exit(2);
		_exit(util_spin_useful() ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_ne(WEXITSTATUS(status), 2);
	return WEXITSTATUS(status);
}

/* Busy waits are for a process that can run on two CPUs at once: pinned
 * to one (taskset, CPUAffinity=), the peer or the lock holder it waits for
 * needs the very CPU it would spin on. */
START_TEST(test_spin_useful_follows_affinity)
{
	cpu_set_t all, one;
	int cpu;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	for (cpu = 0; !CPU_ISSET(cpu, &all); cpu++) {
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ck_assert_int_eq(spin_useful_in_child(&one), 0);
	ck_assert_int_eq(spin_useful_in_child(NULL), CPU_COUNT(&all) > 1);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_strlcpy),
		CK_TEST(test_strlcat),
		CK_TEST(test_fd_hygiene_high),
		CK_TEST(test_fd_hygiene_low),
		CK_TEST(test_set_log_function),
		CK_TEST(test_log_macros_keep_errno),
		CK_TEST(test_word_lock_excludes),
		CK_TEST(test_word_lock_sleeper_woken),
		CK_TEST(test_spin_useful_follows_affinity),
	};

	return CK_MAIN("util_internal", NULL, tests);
}
