/*
 * loop_timer.c - one-shot timers on CLOCK_MONOTONIC.
 *
 * Pending timers live in a binary min-heap ordered by (expiry, insertion
 * sequence); each timer knows its heap index, so add, delete and expiry are
 * O(log n). A handle is (check << 32) | slot: the slot table maps it to the
 * timer and the check value, changed on every reuse of the slot, rejects
 * stale handles.
 */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <qb/qbloop.h>
#include "loop/loop_internal.h"

#define TIMER_NOT_IN_HEAP UINT32_MAX
/* Slot numbers are kept below 2^31; larger ones are a range error. */
#define TIMER_SLOT_LIMIT 0x80000000U

struct loop_timer {
	struct loop_item item; /* first: on a run list once expired */
	uint64_t expire;
	uint64_t seq;
	void *data;
	qb_loop_timer_dispatch_fn fn;
	uint32_t heap_idx; /* TIMER_NOT_IN_HEAP once expired */
	uint32_t slot;
	int prio;
};

int32_t qb_loop_timer_create(struct qb_loop *l)
{
	return l ? 0 : -EINVAL;
}

/* --- heap --------------------------------------------------------------- */

static int timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->expire != b->expire)
		return a->expire < b->expire;
	return a->seq < b->seq;
}

static void heap_place(struct loop_timers *t, uint32_t i, struct loop_timer *tm)
{
	t->heap[i] = tm;
	tm->heap_idx = i;
}

static void heap_up(struct loop_timers *t, uint32_t i)
{
	struct loop_timer *tm = t->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!timer_before(tm, t->heap[parent]))
			break;
		heap_place(t, i, t->heap[parent]);
		i = parent;
	}
	heap_place(t, i, tm);
}

static void heap_down(struct loop_timers *t, uint32_t i)
{
	struct loop_timer *tm = t->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= t->heap_len)
			break;
		if (c + 1 < t->heap_len && timer_before(t->heap[c + 1], t->heap[c]))
			c++;
		if (!timer_before(t->heap[c], tm))
			break;
		heap_place(t, i, t->heap[c]);
		i = c;
	}
	heap_place(t, i, tm);
}

static int heap_push(struct loop_timers *t, struct loop_timer *tm)
{
	if (t->heap_len == t->heap_cap) {
		uint32_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
		struct loop_timer **h = realloc(t->heap, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		t->heap = h;
		t->heap_cap = cap;
	}
	t->heap[t->heap_len] = tm;
	tm->heap_idx = t->heap_len++;
	heap_up(t, tm->heap_idx);
	return 0;
}

static void heap_remove(struct loop_timers *t, struct loop_timer *tm)
{
	uint32_t i = tm->heap_idx;
	struct loop_timer *last;

	tm->heap_idx = TIMER_NOT_IN_HEAP;
	last = t->heap[--t->heap_len];
	if (i == t->heap_len)
		return;
	heap_place(t, i, last);
	if (i > 0 && timer_before(last, t->heap[(i - 1) / 2]))
		heap_up(t, i);
	else
		heap_down(t, i);
}

/* --- slots and handles ---------------------------------------------------- */

static uint32_t check_counter;

/* A positive 31-bit value, different from the slot's previous one. */
static uint32_t timer_next_check(uint32_t old)
{
	uint32_t c;

	do {
		check_counter = check_counter * 1103515245U + 12345U;
		c = (check_counter >> 1) & 0x7fffffffU;
	} while (c == 0 || c == old);
	return c;
}

static int slot_take(struct loop_timers *t, struct loop_timer *tm)
{
	uint32_t s;

	if (t->free_len > 0) {
		s = t->free_slots[--t->free_len];
	} else {
		if (t->slot_len == t->slot_cap) {
			uint32_t cap = t->slot_cap ? t->slot_cap * 2 : 64;
			struct loop_timer_slot *ns;
			uint32_t *nf;

			if (cap > TIMER_SLOT_LIMIT)
				return -ENOMEM;
			ns = realloc(t->slots, cap * sizeof(*ns));
			if (ns == NULL)
				return -ENOMEM;
			t->slots = ns;
			nf = realloc(t->free_slots, cap * sizeof(*nf));
			if (nf == NULL)
				return -ENOMEM;
			t->free_slots = nf;
			t->slot_cap = cap;
		}
		s = t->slot_len++;
		t->slots[s].check = 0;
	}
	t->slots[s].timer = tm;
	t->slots[s].check = timer_next_check(t->slots[s].check);
	tm->slot = s;
	return 0;
}

static void slot_release(struct loop_timers *t, struct loop_timer *tm)
{
	t->slots[tm->slot].timer = NULL;
	t->free_slots[t->free_len++] = tm->slot;
}

static qb_loop_timer_handle timer_handle(struct loop_timers *t, const struct loop_timer *tm)
{
	return ((uint64_t)t->slots[tm->slot].check << 32) | tm->slot;
}

/* The timer a handle names, or NULL with *err set (-EINVAL / -ERANGE). */
static struct loop_timer *timer_lookup(struct qb_loop *l, qb_loop_timer_handle th, int32_t *err)
{
	uint32_t slot = (uint32_t)(th & 0xffffffffU);
	uint32_t check = (uint32_t)(th >> 32);
	struct loop_timers *t;

	*err = -EINVAL;
	if (l == NULL || th == 0)
		return NULL;
	if (slot >= TIMER_SLOT_LIMIT) {
		*err = -ERANGE;
		return NULL;
	}
	t = &l->timers;
	if (slot >= t->slot_len || t->slots[slot].timer == NULL || t->slots[slot].check != check)
		return NULL;
	*err = 0;
	return t->slots[slot].timer;
}

/* --- API ------------------------------------------------------------------ */

int32_t qb_loop_timer_add(qb_loop_t *l, enum qb_loop_priority p, uint64_t nsec_duration, void *data,
			  qb_loop_timer_dispatch_fn dispatch_fn,
			  qb_loop_timer_handle *timer_handle_out)
{
	struct loop_timer *tm;
	int32_t rc;

	l = loop_resolve(l);
	if (l == NULL || dispatch_fn == NULL || (int)p < QB_LOOP_LOW || (int)p > QB_LOOP_HIGH)
		return -EINVAL;
	tm = calloc(1, sizeof(*tm));
	if (tm == NULL)
		return -ENOMEM;
	tm->item.kind = LOOP_ITEM_TIMER;
	tm->expire = loop_now_ns() + nsec_duration;
	if (tm->expire < nsec_duration)
		tm->expire = UINT64_MAX; /* saturate instead of wrapping */
	tm->data = data;
	tm->fn = dispatch_fn;
	tm->prio = (int)p;
	loop_lock(l);
	tm->seq = l->timers.seq++;
	rc = slot_take(&l->timers, tm);
	if (rc == 0) {
		rc = heap_push(&l->timers, tm);
		if (rc != 0)
			slot_release(&l->timers, tm);
	}
	if (rc != 0) {
		loop_unlock(l);
		free(tm);
		return rc;
	}
	if (timer_handle_out)
		*timer_handle_out = timer_handle(&l->timers, tm);
	loop_unlock(l);
	loop_wake(l);
	return 0;
}

static void timer_free(struct qb_loop *l, struct loop_timer *tm)
{
	if (tm->heap_idx != TIMER_NOT_IN_HEAP)
		heap_remove(&l->timers, tm);
	loop_list_unlink(&tm->item);
	slot_release(&l->timers, tm);
	free(tm);
}

int32_t qb_loop_timer_del(qb_loop_t *l, qb_loop_timer_handle th)
{
	int32_t err;
	struct loop_timer *tm;

	l = loop_resolve(l);
	if (l == NULL)
		return -EINVAL;
	loop_lock(l);
	tm = timer_lookup(l, th, &err);
	if (tm != NULL)
		timer_free(l, tm);
	loop_unlock(l);
	return tm == NULL ? err : 0;
}

uint64_t qb_loop_timer_expire_time_get(struct qb_loop *l, qb_loop_timer_handle th)
{
	int32_t err;
	struct loop_timer *tm;
	uint64_t expire = 0;

	l = loop_resolve(l);
	if (l == NULL)
		return 0;
	loop_lock(l);
	tm = timer_lookup(l, th, &err);
	if (tm != NULL && tm->heap_idx != TIMER_NOT_IN_HEAP)
		expire = tm->expire;
	loop_unlock(l);
	return expire;
}

uint64_t qb_loop_timer_expire_time_remaining(struct qb_loop *l, qb_loop_timer_handle th)
{
	uint64_t expire = qb_loop_timer_expire_time_get(l, th);
	uint64_t now;

	if (expire == 0)
		return 0;
	now = loop_now_ns();
	return expire > now ? expire - now : 0;
}

int32_t qb_loop_timer_is_running(qb_loop_t *l, qb_loop_timer_handle th)
{
	return qb_loop_timer_expire_time_get(l, th) > 0;
}

/* --- the loop's side -------------------------------------------------------- */

/* Queues every timer already past its expiry; returns how many. */
uint32_t loop_timers_expire(struct qb_loop *l)
{
	struct loop_timers *t = &l->timers;
	uint32_t n = 0;
	uint64_t now;

	loop_lock(l);
	now = t->heap_len > 0 ? loop_now_ns() : 0;
	while (t->heap_len > 0 && t->heap[0]->expire < now) {
		struct loop_timer *tm = t->heap[0];

		heap_remove(t, tm);
		loop_run_append(l, tm->prio, &tm->item);
		n++;
	}
	loop_unlock(l);
	return n;
}

/*
 * Whole milliseconds until the next timer (rounded down, 0 if due), or -1
 * when no timer is pending. Capped at INT32_MAX so a far timer never turns
 * into an infinite wait.
 */
int32_t qb_loop_timer_msec_duration_to_expire(struct qb_loop *l)
{
	uint64_t now, ms, expire;

	if (l == NULL)
		return -1;
	loop_lock(l);
	expire = l->timers.heap_len ? l->timers.heap[0]->expire : 0;
	loop_unlock(l);
	if (expire == 0)
		return -1;
	now = loop_now_ns();
	if (expire <= now)
		return 0;
	ms = (expire - now) / 1000000ULL;
	return ms > INT32_MAX ? INT32_MAX : (int32_t)ms;
}

int32_t loop_timers_wait_ms(struct qb_loop *l)
{
	return qb_loop_timer_msec_duration_to_expire(l);
}

void loop_timer_dispatch(struct qb_loop *l, struct loop_item *item)
{
	struct loop_timer *tm = (struct loop_timer *)item;
	qb_loop_timer_dispatch_fn fn = tm->fn;
	void *data = tm->data;

	/* The handle dies as the callback starts. */
	loop_lock(l);
	timer_free(l, tm);
	loop_unlock(l);
	fn(data);
}

/* Drops every timer without running it. */
void qb_loop_timer_destroy(struct qb_loop *l)
{
	struct loop_timers *t;
	uint32_t s;

	if (l == NULL)
		return;
	t = &l->timers;
	for (s = 0; s < t->slot_len; s++) {
		struct loop_timer *tm = t->slots[s].timer;

		if (tm) {
			loop_list_unlink(&tm->item);
			free(tm);
		}
	}
	free(t->heap);
	free(t->slots);
	free(t->free_slots);
	t->heap = NULL;
	t->slots = NULL;
	t->free_slots = NULL;
	t->heap_len = t->heap_cap = t->slot_len = t->slot_cap = t->free_len = 0;
}
