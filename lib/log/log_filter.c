/*
 * log_filter.c - target and tag filters.
 *
 * Filters edit the `targets` and `tags` bitmaps of callsites. ADD and
 * TAG_SET filters are stored (per slot, and one global tag list) and
 * replayed on callsites created later; every operation is also applied to
 * the existing callsites at once. All state here is under cs_lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblist.h>

#include "log/log_core.h"

struct filter {
	enum qb_log_filter_type type;
	char *text;
	int32_t value; /* slot or tag value */
	uint8_t high;
	uint8_t low;
	int has_regex;
	regex_t regex;
	struct qb_list_head list;
};

/* The stored filters in the order they were added (cs_lock held). */
static struct {
	int ready;
	struct qb_list_head slots[QB_LOG_TARGET_MAX];
	struct qb_list_head tags;
} flt_state;

static void flt_state_init(void)
{
	int32_t t;

	if (flt_state.ready)
		return;
	for (t = 0; t < QB_LOG_TARGET_MAX; t++)
		qb_list_init(&flt_state.slots[t]);
	qb_list_init(&flt_state.tags);
	flt_state.ready = 1;
}

static int is_regex_type(enum qb_log_filter_type type)
{
	return type == QB_LOG_FILTER_FILE_REGEX || type == QB_LOG_FILTER_FUNCTION_REGEX ||
		type == QB_LOG_FILTER_FORMAT_REGEX;
}

/* Does one of the comma-separated tokens of @p list equal @p s? */
static int list_match(const char *list, const char *s)
{
	size_t slen = strlen(s);
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == slen && strncmp(p, s, n) == 0)
			return 1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static const char *subject(const struct qb_log_callsite *cs, enum qb_log_filter_type type)
{
	switch (type) {
	case QB_LOG_FILTER_FILE:
	case QB_LOG_FILTER_FILE_REGEX:
		return cs->filename;
	case QB_LOG_FILTER_FUNCTION:
	case QB_LOG_FILTER_FUNCTION_REGEX:
		return cs->function;
	default:
		return cs->format;
	}
}

static int filter_match(const struct filter *f, const struct qb_log_callsite *cs)
{
	const char *s;

	if (cs->priority < f->high || cs->priority > f->low)
		return 0;
	if (strcmp(f->text, "*") == 0)
		return 1;
	s = subject(cs, f->type);
	switch (f->type) {
	case QB_LOG_FILTER_FILE:
	case QB_LOG_FILTER_FUNCTION:
		return list_match(f->text, s);
	case QB_LOG_FILTER_FORMAT:
		return strstr(s, f->text) != NULL;
	default:
		/* REMOVE/TAG_CLEAR of a regex type compile nothing and so
		 * match nothing (upstream behaviour). */
		return f->has_regex && regexec(&f->regex, s, 0, NULL, 0) == 0;
	}
}

static void filter_free(struct filter *f)
{
	if (f->has_regex)
		regfree(&f->regex);
	free(f->text);
	free(f);
}

static void list_append(struct qb_list_head *head, struct filter *f)
{
	qb_list_add_tail(&f->list, head);
}

static int filter_same(const struct filter *a, const struct filter *b)
{
	return a->type == b->type && a->high == b->high && a->low == b->low &&
		a->value == b->value && strcmp(a->text, b->text) == 0;
}

/* Delete the first stored filter that a REMOVE/TAG_CLEAR @p r covers. */
static void list_remove_first(struct qb_list_head *head, const struct filter *r)
{
	struct filter *f;

	qb_list_for_each_entry(f, head, list)
	{
		if (f->type == r->type && f->low <= r->low && f->high >= r->high &&
		    (strcmp(r->text, "*") == 0 || strcmp(f->text, r->text) == 0)) {
			qb_list_del(&f->list);
			filter_free(f);
			return;
		}
	}
}

static void list_free(struct qb_list_head *head)
{
	struct filter *f, *n;

	qb_list_for_each_entry_safe(f, n, head, list) filter_free(f);
	qb_list_init(head);
}

struct apply_arg {
	const struct filter *f;
	enum qb_log_filter_conf conf;
};

static void apply_one(struct qb_log_callsite *cs, void *arg)
{
	const struct apply_arg *a = arg;
	uint32_t bit = 1U << (a->f->value & 31);

	switch (a->conf) {
	case QB_LOG_FILTER_ADD:
		if (filter_match(a->f, cs))
			__atomic_or_fetch(&cs->targets, bit, __ATOMIC_RELAXED);
		break;
	case QB_LOG_FILTER_REMOVE:
		if (filter_match(a->f, cs))
			__atomic_and_fetch(&cs->targets, ~bit, __ATOMIC_RELAXED);
		break;
	case QB_LOG_FILTER_CLEAR_ALL:
		__atomic_and_fetch(&cs->targets, ~bit, __ATOMIC_RELAXED);
		break;
	case QB_LOG_TAG_SET:
		if (filter_match(a->f, cs))
			__atomic_store_n(&cs->tags, (uint32_t)a->f->value, __ATOMIC_RELAXED);
		break;
	case QB_LOG_TAG_CLEAR:
		if (filter_match(a->f, cs))
			__atomic_store_n(&cs->tags, 0, __ATOMIC_RELAXED);
		break;
	case QB_LOG_TAG_CLEAR_ALL:
		__atomic_store_n(&cs->tags, 0, __ATOMIC_RELAXED);
		break;
	}
}

static int32_t filter_store_check(struct qb_list_head *head, struct filter *f)
{
	struct filter *s;

	qb_list_for_each_entry(s, head, list) if (filter_same(s, f)) return -EEXIST;
	if (is_regex_type(f->type) && strcmp(f->text, "*") != 0) {
		if (regcomp(&f->regex, f->text, 0) != 0)
			return -EINVAL;
		f->has_regex = 1;
	}
	return 0;
}

static int32_t filter_op(int32_t value, enum qb_log_filter_conf c, struct filter *f)
{
	struct qb_list_head *head;
	struct apply_arg a = {f, c};
	int32_t rc;

	flt_state_init();
	head = (c <= QB_LOG_FILTER_CLEAR_ALL) ? &flt_state.slots[value] : &flt_state.tags;
	if (c == QB_LOG_FILTER_ADD || c == QB_LOG_TAG_SET) {
		rc = filter_store_check(head, f);
		if (rc != 0)
			return rc;
		log_cs_foreach(apply_one, &a);
		list_append(head, f);
		return 1; /* stored: caller must not free */
	}
	log_cs_foreach(apply_one, &a);
	if (c == QB_LOG_FILTER_CLEAR_ALL || c == QB_LOG_TAG_CLEAR_ALL)
		list_free(head);
	else
		list_remove_first(head, f);
	return 0;
}

int32_t qb_log_filter_ctl2(int32_t value, enum qb_log_filter_conf c, enum qb_log_filter_type type,
			   const char *text, uint8_t high_priority, uint8_t low_priority)
{
	struct filter *f;
	int32_t rc;

	if (!log_is_initialised())
		return -EINVAL;
	if (c == QB_LOG_FILTER_ADD || c == QB_LOG_FILTER_REMOVE || c == QB_LOG_FILTER_CLEAR_ALL) {
		struct qb_log_target *t = qb_log_target_get(value);

		if (t == NULL || t->state == QB_LOG_STATE_UNUSED)
			return -EBADF;
	}
	if (text == NULL || low_priority < high_priority ||
	    (uint32_t)type > QB_LOG_FILTER_FORMAT_REGEX || (uint32_t)c > QB_LOG_TAG_CLEAR_ALL)
		return -EINVAL;

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->text = strdup(text);
	if (f->text == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->type = type;
	f->value = value;
	f->high = high_priority;
	f->low = low_priority;

	log_cs_lock();
	rc = filter_op(value, c, f);
	log_cs_unlock();
	if (rc == 1)
		return 0;
	filter_free(f);
	return rc;
}

int32_t qb_log_filter_ctl(int32_t value, enum qb_log_filter_conf c, enum qb_log_filter_type type,
			  const char *text, uint8_t low_priority)
{
	return qb_log_filter_ctl2(value, c, type, text, LOG_EMERG, low_priority);
}

void log_filter_apply_new(struct qb_log_callsite *cs, uint32_t tags)
{
	int32_t t;
	struct filter *f;

	flt_state_init();
	for (t = 0; t < QB_LOG_TARGET_MAX; t++) {
		struct qb_log_target *tgt = qb_log_target_get(t);

		if (__atomic_load_n(&tgt->state, __ATOMIC_RELAXED) != QB_LOG_STATE_ENABLED)
			continue;
		qb_list_for_each_entry(f, &flt_state.slots[t], list) if (filter_match(f, cs))
			__atomic_or_fetch(&cs->targets, 1U << t, __ATOMIC_RELAXED);
	}
	/* atomic: a callsite brought back after qb_log_fini() is in use */
	if (tags != 0) {
		__atomic_store_n(&cs->tags, tags, __ATOMIC_RELAXED);
		return;
	}
	qb_list_for_each_entry(f, &flt_state.tags, list) if (filter_match(f, cs))
		__atomic_store_n(&cs->tags, (uint32_t)f->value, __ATOMIC_RELAXED);
}

void log_filter_slot_clear(int32_t t)
{
	struct filter f = {.type = QB_LOG_FILTER_FILE, .text = "*", .value = t};
	struct apply_arg a = {&f, QB_LOG_FILTER_CLEAR_ALL};

	if (t < 0 || t >= QB_LOG_TARGET_MAX)
		return;
	log_cs_lock();
	flt_state_init();
	log_cs_foreach(apply_one, &a);
	list_free(&flt_state.slots[t]);
	log_cs_unlock();
}

void log_filter_free_all(void)
{
	int32_t t;

	log_cs_lock();
	flt_state_init();
	for (t = 0; t < QB_LOG_TARGET_MAX; t++)
		list_free(&flt_state.slots[t]);
	list_free(&flt_state.tags);
	log_cs_unlock();
}

struct cs_snapshot {
	struct qb_log_callsite **v;
	size_t n;
	size_t cap;
};

static void snapshot_one(struct qb_log_callsite *cs, void *arg)
{
	struct cs_snapshot *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		void *v = realloc(s->v, cap * sizeof(*s->v));

		if (v == NULL)
			return;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = cs;
}

int32_t qb_log_filter_fn_set(qb_log_filter_fn fn)
{
	struct cs_snapshot snap = {NULL, 0, 0};
	size_t i;

	if (!log_is_initialised())
		return -EINVAL;
	log_filter_fn_store(fn);
	if (fn == NULL)
		return 0;
	/* Call the user's function without cs_lock: it may log. */
	log_cs_lock();
	log_cs_foreach(snapshot_one, &snap);
	log_cs_unlock();
	for (i = 0; i < snap.n; i++)
		fn(snap.v[i]);
	free(snap.v);
	return 0;
}
