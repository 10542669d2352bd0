/*
 * Skiplist map: keys in ascending strcmp() order.
 *
 * Up to SKIPLIST_LEVELS forward pointers per node; a node is promoted to
 * the next level with probability 1/4 (random(), like upstream, which also
 * seeds the PRNG at creation).
 *
 * Node lifetime: a node is "pinned" by every iterator standing on it and
 * by the map itself while it runs callbacks about it. rm() of a pinned node
 * unlinks it at once (it is no longer found or iterated) but its DELETED and
 * FREE notifications are sent when the last pin goes away.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "map_internal.h"

#define SKIPLIST_LEVELS 8

struct sl_node {
	const char *key;
	void *value;
	struct map_notifier_list notifiers;
	uint32_t pins;
	uint8_t removed; /* unlinked from the list */
	uint8_t pending; /* removed while pinned: DELETED still owed */
	uint8_t level;	 /* highest index used in forward[] */
	struct sl_node *forward[];
};

struct skiplist {
	struct qb_map base;
	struct map_notifier_list global;
	uint8_t level;	      /* highest level in use */
	struct sl_node *head; /* sentinel with SKIPLIST_LEVELS pointers */
};

static const struct map_ops skiplist_ops;

static struct skiplist *to_sl(struct qb_map *m)
{
	return (struct skiplist *)m;
}

static uint8_t sl_random_level(void)
{
	uint8_t level = 0;

	while (level < SKIPLIST_LEVELS - 1 && random() < RAND_MAX / 4)
		level++;
	return level;
}

static struct sl_node *sl_node_new(uint8_t level)
{
	struct sl_node *n;

	n = calloc(1, sizeof(*n) + (level + 1) * sizeof(n->forward[0]));
	if (n)
		n->level = level;
	return n;
}

static void sl_node_free(struct sl_node *n)
{
	map_notifier_list_free(&n->notifiers);
	free(n);
}

/*
 * Find key; fill update[] with the last node before it at every level.
 * Going down a level often meets the node that stopped the level above:
 * its comparison is remembered, not made again, which saves about a third
 * of the strcmp() calls of a search.
 */
static struct sl_node *sl_find(struct skiplist *sl, const char *key, struct sl_node **update)
{
	struct sl_node *x = sl->head, *stop = NULL, *next;
	int stop_cmp = 1; /* strcmp() of stop's key with key */
	int i;

	for (i = sl->level; i >= 0; i--) {
		while ((next = x->forward[i]) != NULL && next != stop) {
			int cmp = strcmp(next->key, key);

			if (cmp >= 0) {
				stop_cmp = cmp;
				break;
			}
			x = next;
		}
		stop = next;
		if (update)
			update[i] = x;
	}
	return stop && stop_cmp == 0 ? stop : NULL;
}

/* First node whose key sorts strictly after key. */
static struct sl_node *sl_find_after(struct skiplist *sl, const char *key)
{
	struct sl_node *x = sl->head;
	int i;

	for (i = sl->level; i >= 0; i--) {
		while (x->forward[i] && strcmp(x->forward[i]->key, key) <= 0)
			x = x->forward[i];
	}
	return x->forward[0];
}

/* Unlink n, given the last node before it at every level. */
static void sl_unlink_at(struct skiplist *sl, struct sl_node *n, struct sl_node **update)
{
	int i;

	for (i = 0; i <= n->level; i++) {
		if (update[i]->forward[i] == n)
			update[i]->forward[i] = n->forward[i];
	}
	while (sl->level > 0 && sl->head->forward[sl->level] == NULL)
		sl->level--;
	n->removed = 1;
}

static void sl_fire(struct skiplist *sl, struct sl_node *n, uint32_t event, const char *key,
		    const void *old_value, const void *value)
{
	map_notifier_fire(&n->notifiers, event, key, old_value, value, 1);
	map_notifier_fire(&sl->global, event, key, old_value, value, 1);
}

/* Drop one pin; the last pin of a removed node sends what it owes and
 * frees it. */
static void sl_unpin(struct skiplist *sl, struct sl_node *n)
{
	if (n->pins == 1 && n->pending) {
		n->pending = 0;
		sl_fire(sl, n, QB_MAP_NOTIFY_DELETED, n->key, n->value, NULL);
	}
	if (--n->pins == 0 && n->removed)
		sl_node_free(n);
}

static void skiplist_put(struct qb_map *m, const char *key, const void *value)
{
	struct skiplist *sl = to_sl(m);
	struct sl_node *update[SKIPLIST_LEVELS];
	struct sl_node *n;
	uint8_t level;
	int told, i;

	n = sl_find(sl, key, update);
	if (n) {
		const char *old_key = n->key;
		void *old_value = n->value;

		n->key = key;
		n->value = (void *)value;
		n->pins++;
		sl_fire(sl, n, QB_MAP_NOTIFY_REPLACED, old_key, old_value, value);
		sl_unpin(sl, n);
		return;
	}
	level = sl_random_level();
	n = sl_node_new(level);
	if (n == NULL)
		return;
	n->key = key;
	n->value = (void *)value;
	/* upstream announces the key before it is linked in; a callback may
	 * change the list, so then the search is made again */
	told = sl->global.head != NULL;
	if (told)
		map_notifier_fire(&sl->global, QB_MAP_NOTIFY_INSERTED, key, NULL, value, 1);
	if (told && sl_find(sl, key, update) != NULL) {
		/* a callback stored the key meanwhile: this becomes a replace */
		sl_node_free(n);
		skiplist_put(m, key, value);
		return;
	}
	if (level > sl->level) {
		for (i = sl->level + 1; i <= level; i++)
			update[i] = sl->head;
		sl->level = level;
	}
	for (i = 0; i <= level; i++) {
		n->forward[i] = update[i]->forward[i];
		update[i]->forward[i] = n;
	}
	m->count++;
}

static void *skiplist_get(struct qb_map *m, const char *key)
{
	struct sl_node *n = sl_find(to_sl(m), key, NULL);

	return n ? n->value : NULL;
}

static int32_t skiplist_rm(struct qb_map *m, const char *key)
{
	struct skiplist *sl = to_sl(m);
	struct sl_node *update[SKIPLIST_LEVELS];
	struct sl_node *n = sl_find(sl, key, update);

	if (n == NULL)
		return 0;
	sl_unlink_at(sl, n, update);
	if (n->pins) {
		n->pending = 1;
		m->count--;
		return 1;
	}
	n->pins++;
	sl_fire(sl, n, QB_MAP_NOTIFY_DELETED, n->key, n->value, NULL);
	m->count--;
	sl_unpin(sl, n);
	return 1;
}

/* inline: so that it is folded into skiplist_iter_next() */
static inline void *sl_cursor_next(struct map_cursor *c, void *prev_node)
{
	struct skiplist *sl = to_sl(c->base.m);
	struct sl_node *prev = prev_node;

	if (prev == NULL)
		return sl->head->forward[0];
	if (prev->removed)
		return sl_find_after(sl, prev->key);
	return prev->forward[0];
}

static void sl_cursor_unpin(struct qb_map *m, void *n)
{
	sl_unpin(to_sl(m), n);
}

static const char *skiplist_iter_next(struct qb_map_iter *it, void **value)
{
	return map_cursor_next(it, value, &skiplist_ops);
}

static void skiplist_destroy(struct qb_map *m)
{
	struct skiplist *sl = to_sl(m);
	struct sl_node *first[SKIPLIST_LEVELS];
	struct sl_node *n;
	int i;

	/* the first node follows the sentinel at each of its levels */
	for (i = 0; i < SKIPLIST_LEVELS; i++)
		first[i] = sl->head;
	while ((n = sl->head->forward[0]) != NULL) {
		sl_unlink_at(sl, n, first);
		n->pins++;
		sl_fire(sl, n, QB_MAP_NOTIFY_DELETED, n->key, n->value, NULL);
		sl_unpin(sl, n);
	}
	/* upstream then reports its sentinel as a NULL key to the global
	 * notifiers (twice for DELETED); that is a bug and is not repeated */
	map_notifier_list_free(&sl->global);
	free(sl->head);
	free(sl);
}

static int32_t skiplist_notify_add(struct qb_map *m, const char *key, qb_map_notify_fn fn,
				   int32_t events, void *user_data)
{
	struct skiplist *sl = to_sl(m);
	struct sl_node *n;

	if (key == NULL)
		return map_notifier_add(&sl->global, fn, events, user_data,
					events & QB_MAP_NOTIFY_FREE);
	n = sl_find(sl, key, NULL);
	if (n == NULL)
		return -EINVAL;
	return map_notifier_add(&n->notifiers, fn, events, user_data, 0);
}

static int32_t skiplist_notify_del(struct qb_map *m, const char *key, qb_map_notify_fn fn,
				   int32_t events, int match_user_data, void *user_data)
{
	struct skiplist *sl = to_sl(m);
	struct sl_node *n;

	if (key == NULL)
		return map_notifier_del(&sl->global, fn, events, match_user_data, user_data);
	n = sl_find(sl, key, NULL);
	if (n == NULL)
		return -ENOENT;
	return map_notifier_del(&n->notifiers, fn, events, match_user_data, user_data);
}

static const struct map_ops skiplist_ops = {
	.put = skiplist_put,
	.get = skiplist_get,
	.rm = skiplist_rm,
	.iter_create = map_cursor_iter_create,
	.iter_next = skiplist_iter_next,
	.iter_free = map_cursor_iter_free,
	.node_next = sl_cursor_next,
	.node_unpin = sl_cursor_unpin,
	.key_off = offsetof(struct sl_node, key),
	.value_off = offsetof(struct sl_node, value),
	.pins_off = offsetof(struct sl_node, pins),
	.destroy = skiplist_destroy,
	.notify_add = skiplist_notify_add,
	.notify_del = skiplist_notify_del,
};

struct qb_map *map_skiplist_new(void)
{
	struct skiplist *sl = calloc(1, sizeof(*sl));

	if (sl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	sl->head = sl_node_new(SKIPLIST_LEVELS - 1);
	if (sl->head == NULL) {
		free(sl);
		errno = ENOMEM;
		return NULL;
	}
	sl->base.ops = &skiplist_ops;
	/* observable side effect kept from upstream: reseeds rand()/random() */
	srand(time(NULL));
	return &sl->base;
}
