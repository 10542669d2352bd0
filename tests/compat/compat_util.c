/*
 * Util behaviour that must be identical on the distro libqb and ours:
 * arrays, handle database (including handle values: both draw the check
 * from random() with the default seed), lists, atomics, strlcpy/strlcat,
 * stopwatch properties, clocks, strerror and thread locks.
 * Built against the distro headers; prints only deterministic facts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <qb/qbarray.h>
#include <qb/qbatomic.h>
#include <qb/qbhdb.h>
#include <qb/qblist.h>
#include <qb/qbutil.h>

/* Exported by libqb, declared in no header. */
size_t strlcpy(char *dst, const char *src, size_t size);
size_t strlcat(char *dst, const char *src, size_t size);

#define SHOW(expr) printf("%-58s %lld\n", #expr, (long long)(expr))

static void new_bin(qb_array_t *a, uint32_t bin)
{
	printf("  new bin %u\n", bin);
}

static void arrays(void)
{
	qb_array_t *a;
	void *e;
	size_t sizes[] = {0, 1, 15, 16, 17, 47, 48, 100, 65535, 65536};
	size_t i;

	printf("== arrays\n");
	errno = 0;
	SHOW(qb_array_create(1, 0) == NULL && errno == EINVAL);
	errno = 0;
	SHOW(qb_array_create(QB_ARRAY_MAX_ELEMENTS + 1, 4) == NULL && errno == EINVAL);
	errno = 0;
	SHOW(qb_array_create_2(4, 4, 17) == NULL && errno == EINVAL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		a = qb_array_create(sizes[i], 4);
		printf("create %zu: bins %zu per bin %zu\n", sizes[i], qb_array_num_bins_get(a),
		       qb_array_elems_per_bin_get(a));
		qb_array_free(a);
		a = qb_array_create(1, 4);
		printf("grow 1->%zu: %d bins %zu\n", sizes[i], qb_array_grow(a, sizes[i]),
		       qb_array_num_bins_get(a));
		qb_array_free(a);
	}
	SHOW((long)qb_array_num_bins_get(NULL));
	SHOW((long)qb_array_elems_per_bin_get(NULL));
	SHOW(qb_array_new_bin_cb_set(NULL, new_bin));
	SHOW(qb_array_grow(NULL, 1));

	a = qb_array_create(10, sizeof(int));
	SHOW(qb_array_new_bin_cb_set(a, new_bin));
	SHOW(qb_array_index(a, 0, &e));
	SHOW(*(int *)e);
	*(int *)e = 77;
	SHOW(qb_array_index(a, 9, &e));
	SHOW(qb_array_index(a, 10, &e));
	SHOW(qb_array_index(a, -1, &e));
	SHOW(qb_array_index(a, 0, NULL));
	SHOW(qb_array_index(NULL, 0, &e));
	SHOW(qb_array_grow(a, 5));
	SHOW(qb_array_grow(a, 40));
	SHOW(qb_array_num_bins_get(a));
	SHOW(qb_array_index(a, 39, &e));
	SHOW(qb_array_index(a, 40, &e));
	SHOW(qb_array_index(a, 0, &e));
	SHOW(*(int *)e);
	SHOW(qb_array_grow(a, QB_ARRAY_MAX_ELEMENTS + 1));
	qb_array_free(a);

	a = qb_array_create_2(4, sizeof(int), 8);
	qb_array_new_bin_cb_set(a, new_bin);
	SHOW(qb_array_index(a, 4, &e));
	SHOW(qb_array_index(a, 16, &e));
	SHOW(qb_array_num_bins_get(a));
	SHOW(qb_array_index(a, 300, &e));
	SHOW(qb_array_num_bins_get(a));
	SHOW(qb_array_index(a, QB_ARRAY_MAX_ELEMENTS, &e));
	SHOW(qb_array_index(a, -5, &e));
	qb_array_free(a);
}

static int destructed;

static void destructor(void *instance)
{
	destructed++;
	printf("  destructor sees %d\n", *(int *)instance);
}

QB_HDB_DECLARE(db, destructor);

static void hdb(void)
{
	qb_handle_t h[4], it;
	void *inst;
	int i, r;

	printf("== hdb\n");
	SHOW(db.first_run);
	for (i = 0; i < 3; i++) {
		SHOW(qb_hdb_handle_create(&db, sizeof(int), &h[i]));
		printf("handle %d: " QB_HDB_X_FORMAT " index %u\n", i, h[i],
		       qb_hdb_base_convert(h[i]));
		qb_hdb_handle_get(&db, h[i], &inst);
		printf("  zeroed %d\n", *(int *)inst == 0);
		*(int *)inst = 10 + i;
		qb_hdb_handle_put(&db, h[i]);
	}
	SHOW(db.first_run);
	SHOW(db.handle_count);
	SHOW(qb_hdb_nocheck_convert(7) == 0xFFFFFFFF00000007ULL);
	SHOW(qb_hdb_handle_refcount_get(&db, h[0]));
	SHOW(qb_hdb_handle_get(&db, h[0], &inst));
	SHOW(qb_hdb_handle_get_always(&db, h[0], &inst));
	SHOW(qb_hdb_handle_refcount_get(&db, h[0]));
	SHOW(qb_hdb_handle_get(&db, h[0] ^ (1ULL << 40), &inst));
	SHOW(qb_hdb_handle_get(&db, 1000, &inst));
	SHOW(qb_hdb_handle_get(&db, qb_hdb_nocheck_convert(3), &inst));
	SHOW(qb_hdb_handle_get(&db, qb_hdb_nocheck_convert(1), &inst));
	SHOW(*(int *)inst);
	SHOW(qb_hdb_handle_put(&db, qb_hdb_nocheck_convert(1)));
	SHOW(qb_hdb_handle_put(&db, 1000));
	SHOW(qb_hdb_handle_destroy(&db, 1000));
	SHOW(qb_hdb_handle_refcount_get(&db, 1000));
	SHOW(qb_hdb_handle_destroy(&db, h[0]));
	SHOW(destructed);
	SHOW(qb_hdb_handle_refcount_get(&db, h[0]));
	SHOW(qb_hdb_handle_get(&db, h[0], &inst));
	SHOW(qb_hdb_handle_get_always(&db, h[0], &inst));
	SHOW(qb_hdb_handle_put(&db, h[0]));
	SHOW(qb_hdb_handle_refcount_get(&db, h[0]));
	SHOW(qb_hdb_handle_put(&db, h[0]));
	SHOW(destructed);
	SHOW(qb_hdb_handle_put(&db, h[0]));
	SHOW(qb_hdb_handle_refcount_get(&db, h[0]));
	SHOW(qb_hdb_handle_destroy(&db, h[0]));

	qb_hdb_iterator_reset(&db);
	while ((r = qb_hdb_iterator_next(&db, &inst, &it)) == 0) {
		printf("iterate: value %d handle " QB_HDB_X_FORMAT " refs %d\n", *(int *)inst, it,
		       qb_hdb_handle_refcount_get(&db, it));
		qb_hdb_handle_put(&db, it);
	}
	SHOW(r);
	SHOW(qb_hdb_iterator_next(&db, &inst, &it));

	SHOW(qb_hdb_handle_create(&db, sizeof(int), &h[3]));
	printf("reused: " QB_HDB_X_FORMAT " index %u count %u\n", h[3], qb_hdb_base_convert(h[3]),
	       db.handle_count);
	SHOW(qb_hdb_handle_create(&db, 0, &it));
	SHOW(qb_hdb_handle_create(&db, -1, &it));
	SHOW(db.handle_count);
	qb_hdb_destroy(&db);
	SHOW(db.handles == NULL);
	SHOW(db.destructor == NULL);
	SHOW(qb_hdb_handle_create(&db, 4, &it));
	SHOW(qb_hdb_handle_get(&db, h[1], &inst));
	qb_hdb_create(&db);
	SHOW(db.handles != NULL);
	SHOW(db.first_run);
	SHOW(qb_hdb_handle_create(&db, 4, &it));
	SHOW(qb_hdb_base_convert(it));
	qb_hdb_destroy(&db);
}

struct item {
	int v;
	struct qb_list_head node;
};

static void print_list(const char *what, struct qb_list_head *head)
{
	struct item *it;

	printf("%s:", what);
	qb_list_for_each_entry(it, head, node)
	{
		printf(" %d", it->v);
	}
	printf(" (length %d)\n", qb_list_length(head));
}

static void lists(void)
{
	QB_LIST_DECLARE(a);
	struct qb_list_head b, *p, *q;
	struct item it[6], *pos, *n;
	int i;

	printf("== lists\n");
	QB_INIT_LIST_HEAD(&b);
	SHOW(qb_list_empty(&a));
	for (i = 0; i < 6; i++) {
		it[i].v = i;
	}
	qb_list_add(&it[0].node, &a);
	qb_list_add(&it[1].node, &a);
	qb_list_add_tail(&it[2].node, &a);
	print_list("add", &a);
	SHOW(qb_list_is_last(&it[2].node, &a));
	SHOW(qb_list_first_entry(&a, struct item, node)->v);
	qb_list_replace(&it[0].node, &it[3].node);
	print_list("replace", &a);
	qb_list_init(&b);
	qb_list_add_tail(&it[4].node, &b);
	qb_list_add_tail(&it[5].node, &b);
	qb_list_splice(&b, &a);
	print_list("splice", &a);
	qb_list_del(&it[4].node);
	qb_list_del(&it[5].node);
	qb_list_init(&b);
	qb_list_add(&it[4].node, &b);
	qb_list_splice_tail(&b, &a);
	print_list("splice_tail", &a);
	printf("reverse:");
	qb_list_for_each_entry_reverse(pos, &a, node)
	{
		printf(" %d", pos->v);
	}
	printf("\nnodes:");
	qb_list_for_each(p, &a)
	{
		printf(" %d", qb_list_entry(p, struct item, node)->v);
	}
	printf("\nnodes reverse:");
	qb_list_for_each_reverse(p, &a)
	{
		printf(" %d", qb_list_entry(p, struct item, node)->v);
	}
	printf("\n");
	qb_list_for_each_safe(p, q, &a)
	{
		if (qb_list_entry(p, struct item, node)->v == 3) {
			qb_list_del(p);
		}
	}
	print_list("safe del 3", &a);
	pos = &it[2];
	printf("from 2:");
	qb_list_for_each_entry_from(pos, &a, node)
	{
		printf(" %d", pos->v);
	}
	printf("\n");
	qb_list_for_each_entry_safe_reverse(pos, n, &a, node)
	{
		if (pos->v == 1) {
			qb_list_del(&pos->node);
		}
	}
	print_list("safe reverse del 1", &a);
	qb_list_for_each_entry_safe(pos, n, &a, node)
	{
		qb_list_del(&pos->node);
	}
	print_list("all deleted", &a);
	SHOW(qb_list_empty(&a));
}

#define THREADS 4
#define ROUNDS 50000
static volatile int32_t counter;

static void *bump(void *arg)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		qb_atomic_int_inc(&counter);
	}
	return arg;
}

static void atomics(void)
{
	volatile int32_t v = 0;
	int x, y;
	void *volatile ptr = NULL;
	pthread_t t[THREADS];
	int i;

	printf("== atomics\n");
	qb_atomic_init();
	qb_atomic_int_set(&v, 41);
	SHOW(qb_atomic_int_get(&v));
	SHOW(qb_atomic_int_exchange_and_add(&v, 9));
	qb_atomic_int_add(&v, -50);
	SHOW(v);
	SHOW(qb_atomic_int_compare_and_exchange(&v, 1, 2));
	SHOW(qb_atomic_int_compare_and_exchange(&v, 0, 2));
	SHOW(qb_atomic_int_dec_and_test(&v));
	SHOW(qb_atomic_int_dec_and_test(&v));
	qb_atomic_pointer_set(&ptr, &x);
	SHOW(qb_atomic_pointer_get(&ptr) == &x);
	SHOW(qb_atomic_pointer_compare_and_exchange((volatile void **)&ptr, &y, NULL));
	SHOW(qb_atomic_pointer_compare_and_exchange((volatile void **)&ptr, &x, &y));
	SHOW(ptr == &y);
	counter = 0;
	for (i = 0; i < THREADS; i++) {
		pthread_create(&t[i], NULL, bump, NULL);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
	}
	SHOW(counter);
}

static void strings(void)
{
	char b[16];

	printf("== strlcpy/strlcat\n");
	memset(b, 'Z', sizeof(b));
	SHOW(strlcpy(b, "hello", 0));
	SHOW(b[0]);
	SHOW(strlcpy(b, "hello", 1));
	printf("'%s'\n", b);
	SHOW(strlcpy(b, "hello", 3));
	printf("'%s'\n", b);
	SHOW(strlcpy(b, "hello", sizeof(b)));
	printf("'%s'\n", b);
	strcpy(b, "abc");
	SHOW(strlcat(b, "hello", 3));
	printf("'%s'\n", b);
	SHOW(strlcat(b, "hello", 4));
	printf("'%s'\n", b);
	SHOW(strlcat(b, "hello", 6));
	printf("'%s'\n", b);
	strcpy(b, "abc");
	SHOW(strlcat(b, "hello", sizeof(b)));
	printf("'%s'\n", b);

	printf("== strerror\n");
	printf("%s\n", qb_strerror_r(EINVAL, b, sizeof(b)));
	printf("%s\n", qb_strerror_r(ENOENT, b, sizeof(b)));
	printf("%s\n", qb_strerror_r(EAGAIN, b, sizeof(b)));
	printf("%s\n", qb_strerror_r(4242, b, sizeof(b)));
	printf("%s\n", qb_strerror_r(4242, b, 5));
}

static void stopwatch(void)
{
	qb_util_stopwatch_t *sw = qb_util_stopwatch_create();
	uint64_t s[5];
	int i;

	printf("== stopwatch\n");
	SHOW(qb_util_stopwatch_us_elapsed_get(sw));
	SHOW(qb_util_stopwatch_split(sw));
	SHOW(qb_util_stopwatch_split_ctl(sw, 3, 0));
	SHOW(qb_util_stopwatch_split(sw));
	qb_util_stopwatch_start(sw);
	usleep(2000);
	SHOW(qb_util_stopwatch_us_elapsed_get(sw));
	for (i = 0; i < 3; i++) {
		usleep(1000);
		s[i] = qb_util_stopwatch_split(sw);
		printf("split %d >= 1000us: %d last %u\n", i, s[i] >= 1000,
		       qb_util_stopwatch_split_last(sw));
	}
	SHOW(qb_util_stopwatch_split(sw));
	SHOW(qb_util_stopwatch_split_last(sw));
	SHOW(qb_util_stopwatch_time_split_get(sw, 1, 0) - s[1] + 1 <= 2);
	SHOW(qb_util_stopwatch_time_split_get(sw, 2, 1) - s[2] + 1 <= 2);
	SHOW(qb_util_stopwatch_time_split_get(sw, 2, 0) - (s[1] + s[2]) <= 1);
	SHOW(qb_util_stopwatch_time_split_get(sw, 2, 2) - (s[0] + s[1] + s[2]) <= 2);
	SHOW(qb_util_stopwatch_time_split_get(sw, 0, 1));
	SHOW(qb_util_stopwatch_time_split_get(sw, 3, 0));
	qb_util_stopwatch_stop(sw);
	s[0] = qb_util_stopwatch_us_elapsed_get(sw);
	SHOW(s[0] >= 5000 && s[0] < 5000000);
	usleep(1000);
	SHOW(qb_util_stopwatch_us_elapsed_get(sw) == s[0]);
	SHOW(qb_util_stopwatch_sec_elapsed_get(sw) > 0.004f);
	qb_util_stopwatch_start(sw);
	SHOW(qb_util_stopwatch_split_last(sw));
	SHOW(qb_util_stopwatch_us_elapsed_get(sw));
	qb_util_stopwatch_free(sw);

	/* overwrite: compared once the window of slots is full */
	sw = qb_util_stopwatch_create();
	SHOW(qb_util_stopwatch_split_ctl(sw, 2, QB_UTIL_SW_OVERWRITE));
	qb_util_stopwatch_start(sw);
	for (i = 0; i < 5; i++) {
		usleep(500);
		s[i] = qb_util_stopwatch_split(sw);
		printf("overwrite split %d >= 500us: %d last %u\n", i, s[i] >= 500,
		       qb_util_stopwatch_split_last(sw));
	}
	SHOW(qb_util_stopwatch_time_split_get(sw, 4, 3) - s[4] + 1 <= 2);
	SHOW(qb_util_stopwatch_time_split_get(sw, 2, 1));
	SHOW(qb_util_stopwatch_time_split_get(sw, 4, 2));
	qb_util_stopwatch_free(sw);

	/* splits on a stopwatch that was never started */
	sw = qb_util_stopwatch_create();
	SHOW(qb_util_stopwatch_split(sw));
	usleep(1000);
	SHOW(qb_util_stopwatch_split_ctl(sw, 3, 0));
	usleep(1000);
	for (i = 0; i < 4; i++) {
		s[i] = qb_util_stopwatch_split(sw);
		printf("unstarted split %d >= 1000us: %d zero: %d last %u\n", i, s[i] >= 1000,
		       s[i] == 0, qb_util_stopwatch_split_last(sw));
		usleep(1000);
	}
	SHOW(qb_util_stopwatch_time_split_get(sw, 0, 0));
	/* within 1 us: a split and a split-to-split time round differently */
	SHOW(qb_util_stopwatch_time_split_get(sw, 1, 1) - s[1] + 1 <= 2);
	SHOW(qb_util_stopwatch_time_split_get(sw, 2, 1) - s[2] + 1 <= 2);
	qb_util_stopwatch_stop(sw);
	SHOW(qb_util_stopwatch_us_elapsed_get(sw) >= s[1] + s[2]);
	qb_util_stopwatch_free(sw);

	sw = qb_util_stopwatch_create();
	SHOW(qb_util_stopwatch_split_ctl(sw, 2, QB_UTIL_SW_OVERWRITE));
	for (i = 0; i < 4; i++) {
		s[i] = qb_util_stopwatch_split(sw);
		printf("unstarted overwrite split %d >= 500us: %d last %u\n", i, s[i] >= 500,
		       qb_util_stopwatch_split_last(sw));
		usleep(500);
	}
	SHOW(qb_util_stopwatch_time_split_get(sw, 3, 2) - s[3] + 1 <= 2);
	SHOW(qb_util_stopwatch_time_split_get(sw, 1, 0));
	qb_util_stopwatch_free(sw);
}

static void clocks(void)
{
	struct timespec ts = {5, 999000000}, real;
	uint64_t a, b;

	printf("== clocks\n");
	qb_timespec_add_ms(&ts, 2);
	printf("add 2ms: %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	qb_timespec_add_ms(&ts, 3500);
	printf("add 3500ms: %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	SHOW(qb_util_nano_monotonic_hz());
	a = qb_util_nano_current_get();
	usleep(1000);
	b = qb_util_nano_current_get();
	SHOW(b - a >= 1000000 && b - a < 1000000000);
	clock_gettime(CLOCK_REALTIME, &real);
	/* the coarse clock may still show the previous second */
	SHOW(qb_util_nano_from_epoch_get() / 1000000000ULL + 1 - (uint64_t)real.tv_sec <= 2);
	qb_util_timespec_from_epoch_get(&ts);
	SHOW((uint64_t)ts.tv_sec - (uint64_t)real.tv_sec + 1 <= 2);
}

static void *try_other(void *l)
{
	return (void *)(long)qb_thread_trylock(l);
}

static void locks(void)
{
	int type;

	printf("== locks\n");
	for (type = QB_THREAD_LOCK_SHORT; type <= QB_THREAD_LOCK_LONG; type++) {
		qb_thread_lock_t *l = qb_thread_lock_create(type);
		pthread_t t;
		void *rc;

		printf("type %d\n", type);
		SHOW(l != NULL);
		SHOW(qb_thread_trylock(l));
		SHOW(qb_thread_trylock(l));
		pthread_create(&t, NULL, try_other, l);
		pthread_join(t, &rc);
		SHOW((long)rc);
		SHOW(qb_thread_unlock(l));
		SHOW(qb_thread_lock(l));
		SHOW(qb_thread_unlock(l));
		SHOW(qb_thread_lock_destroy(l));
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	arrays();
	hdb();
	lists();
	atomics();
	strings();
	stopwatch();
	clocks();
	locks();
	return 0;
}
