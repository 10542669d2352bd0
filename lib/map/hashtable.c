/*
 * Hashtable map: 2^order buckets (order = max(3, bit length of the size
 * hint)), FNV-1a hash folded to the bucket index, chaining in insertion
 * order. Iteration goes bucket by bucket, which is the order upstream
 * exposes, so it is reproduced exactly.
 *
 * A removed node that an iterator stands on stays chained (so the
 * iterator can move on from it) but is flagged removed: lookups and other
 * iterators skip it, and its DELETED/FREE notifications are sent when the
 * last pin goes away.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"

/* Upstream never terminates for hints >= 2^31; we cap the order instead. */
#define HT_MIN_ORDER 3
#define HT_MAX_ORDER 31

/* Lookup fields first. 56 bytes, so that malloc() serves a node from a
 * 64-byte chunk: chains are singly linked for that, since a lookup finds
 * the link to a node on its way and the other unlinks are rare. */
struct ht_node {
	uint32_t hash; /* full hash: most mismatches skip strcmp() */
	uint8_t removed;
	uint8_t pending;
	struct ht_node *next;
	const char *key;
	void *value;
	uint32_t pins;
	uint32_t bucket;
	struct map_notifier_list notifiers;
};
_Static_assert(sizeof(struct ht_node) <= 56, "a node fits a 64-byte malloc chunk");

/* a bucket is just its first node: half the memory of head+tail, and
 * chains are short, so appending walks to the end */
struct ht_bucket {
	struct ht_node *head;
};

struct hashtable {
	struct qb_map base;
	struct map_notifier_list global;
	uint32_t order;
	size_t nbuckets;
	struct ht_bucket *buckets;
	size_t chained; /* nodes in the buckets, removed ones included */
	/* the buckets ever used lie in [used_lo, used_hi]: a big hint with
	 * few keys is walked (destroy, iteration) over that span only, not
	 * page by page over gigabytes of empty table */
	size_t used_lo;
	size_t used_hi;
};

static const struct map_ops hashtable_ops;

static struct hashtable *to_ht(struct qb_map *m)
{
	return (struct hashtable *)m;
}

static uint32_t ht_hash(const char *key)
{
	const unsigned char *p = (const unsigned char *)key;
	uint32_t h = 0x811c9dc5u;

	while (*p) {
		h ^= *p++;
		h *= 0x01000193u;
	}
	return h;
}

static uint32_t ht_bucket_of(const struct hashtable *ht, uint32_t h)
{
	return ((h >> ht->order) ^ h) & (uint32_t)(ht->nbuckets - 1);
}

/* Live node with this key, or NULL. *link gets the pointer to the node
 * found, or else the chain's final NULL pointer, where an insert appends. */
static struct ht_node *ht_lookup(struct hashtable *ht, const char *key, uint32_t h,
				 struct ht_node ***link)
{
	struct ht_node **pp = &ht->buckets[ht_bucket_of(ht, h)].head;
	struct ht_node *n;

	for (; (n = *pp) != NULL; pp = &n->next) {
		if (n->hash == h && !n->removed && strcmp(n->key, key) == 0)
			break;
	}
	*link = pp;
	return n;
}

static struct ht_node *ht_find(struct hashtable *ht, const char *key)
{
	struct ht_node **link;

	return ht_lookup(ht, key, ht_hash(key), &link);
}

/* Unlink the node *link points to. */
static void ht_unlink_at(struct hashtable *ht, struct ht_node **link)
{
	*link = (*link)->next;
	ht->chained--;
}

static void ht_unlink(struct hashtable *ht, struct ht_node *n)
{
	struct ht_node **pp = &ht->buckets[n->bucket].head;

	while (*pp != n)
		pp = &(*pp)->next;
	ht_unlink_at(ht, pp);
}

static void ht_fire(struct hashtable *ht, struct ht_node *n, uint32_t event, const char *key,
		    const void *old_value, const void *value)
{
	map_notifier_fire(&n->notifiers, event, key, old_value, value, 1);
	map_notifier_fire(&ht->global, event, key, old_value, value, 1);
}

static void ht_unpin(struct hashtable *ht, struct ht_node *n)
{
	if (n->pins == 1 && n->pending) {
		n->pending = 0;
		ht_fire(ht, n, QB_MAP_NOTIFY_DELETED, n->key, n->value, NULL);
	}
	if (--n->pins == 0 && n->removed) {
		ht_unlink(ht, n);
		map_notifier_list_free(&n->notifiers);
		free(n);
	}
}

static void hashtable_put(struct qb_map *m, const char *key, const void *value)
{
	struct hashtable *ht = to_ht(m);
	uint32_t h = ht_hash(key);
	struct ht_node **link;
	struct ht_node *n = ht_lookup(ht, key, h, &link);

	if (n) {
		const char *old_key = n->key;
		void *old_value = n->value;

		n->key = key;
		n->value = (void *)value;
		n->pins++;
		ht_fire(ht, n, QB_MAP_NOTIFY_REPLACED, old_key, old_value, value);
		ht_unpin(ht, n);
		return;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return;
	n->key = key;
	n->value = (void *)value;
	n->hash = h;
	n->bucket = ht_bucket_of(ht, h);
	*link = n;
	if (n->bucket < ht->used_lo)
		ht->used_lo = n->bucket;
	if (n->bucket > ht->used_hi)
		ht->used_hi = n->bucket;
	ht->chained++;
	m->count++;
	if (n->notifiers.head == NULL && ht->global.head == NULL)
		return; /* nobody to tell */
	n->pins++;
	ht_fire(ht, n, QB_MAP_NOTIFY_INSERTED, key, NULL, value);
	ht_unpin(ht, n);
}

static void *hashtable_get(struct qb_map *m, const char *key)
{
	struct ht_node *n = ht_find(to_ht(m), key);

	return n ? n->value : NULL;
}

static int32_t hashtable_rm(struct qb_map *m, const char *key)
{
	struct hashtable *ht = to_ht(m);
	struct ht_node **link;
	struct ht_node *n = ht_lookup(ht, key, ht_hash(key), &link);

	if (n == NULL)
		return 0;
	n->removed = 1;
	if (n->pins) {
		n->pending = 1;
		m->count--;
		return 1;
	}
	if (n->notifiers.head == NULL && ht->global.head == NULL) {
		/* nobody to tell */
		m->count--;
		ht_unlink_at(ht, link);
		free(n);
		return 1;
	}
	n->pins++;
	ht_fire(ht, n, QB_MAP_NOTIFY_DELETED, n->key, n->value, NULL);
	m->count--;
	ht_unpin(ht, n);
	return 1;
}

/* The first live node at or after n, continuing into later buckets. */
static struct ht_node *ht_next_live(struct hashtable *ht, struct ht_node *n, size_t bucket)
{
	for (;;) {
		for (; n; n = n->next) {
			if (!n->removed)
				return n;
		}
		if (++bucket > ht->used_hi)
			return NULL;
		n = ht->buckets[bucket].head;
	}
}

/* inline: so that it is folded into hashtable_iter_next() */
static inline void *ht_cursor_next(struct map_cursor *c, void *prev_node)
{
	struct hashtable *ht = to_ht(c->base.m);
	struct ht_node *prev = prev_node;

	if (prev)
		return ht_next_live(ht, prev->next, prev->bucket);
	if (ht->chained == 0)
		return NULL;
	return ht_next_live(ht, ht->buckets[ht->used_lo].head, ht->used_lo);
}

static void ht_cursor_unpin(struct qb_map *m, void *n)
{
	ht_unpin(to_ht(m), n);
}

static const char *hashtable_iter_next(struct qb_map_iter *it, void **value)
{
	return map_cursor_next(it, value, &hashtable_ops);
}

static void hashtable_destroy(struct qb_map *m)
{
	struct hashtable *ht = to_ht(m);
	struct ht_node *n;
	size_t b;
	int again;

	/* callbacks may store new keys in buckets already emptied: rescan;
	 * a pass ends when no node is left (a big table with few keys) */
	do {
		again = 0;
		for (b = ht->used_lo; b <= ht->used_hi && ht->chained > 0; b++) {
			while ((n = ht->buckets[b].head) != NULL) {
				int counted = !n->removed;
				int owed = counted || n->pending;

				again = 1;
				ht_unlink_at(ht, &ht->buckets[b].head);
				n->removed = 1;
				n->pending = 0;
				if (owed)
					ht_fire(ht, n, QB_MAP_NOTIFY_DELETED, n->key, n->value,
						NULL);
				/* upstream counts each key out as it goes */
				if (counted)
					m->count--;
				map_notifier_list_free(&n->notifiers);
				free(n);
			}
		}
	} while (again);
	map_notifier_list_free(&ht->global);
	free(ht->buckets);
	free(ht);
}

static int32_t hashtable_notify_add(struct qb_map *m, const char *key, qb_map_notify_fn fn,
				    int32_t events, void *user_data)
{
	struct hashtable *ht = to_ht(m);
	struct ht_node *n;

	if (key == NULL)
		return map_notifier_add(&ht->global, fn, events, user_data,
					events & QB_MAP_NOTIFY_FREE);
	n = ht_find(ht, key);
	if (n == NULL)
		return -ENOENT;
	return map_notifier_add(&n->notifiers, fn, events, user_data, 0);
}

static int32_t hashtable_notify_del(struct qb_map *m, const char *key, qb_map_notify_fn fn,
				    int32_t events, int match_user_data, void *user_data)
{
	struct hashtable *ht = to_ht(m);
	struct ht_node *n;

	if (key == NULL)
		return map_notifier_del(&ht->global, fn, events, match_user_data, user_data);
	n = ht_find(ht, key);
	if (n == NULL)
		return -ENOENT;
	return map_notifier_del(&n->notifiers, fn, events, match_user_data, user_data);
}

static const struct map_ops hashtable_ops = {
	.put = hashtable_put,
	.get = hashtable_get,
	.rm = hashtable_rm,
	.iter_create = map_cursor_iter_create,
	.iter_next = hashtable_iter_next,
	.iter_free = map_cursor_iter_free,
	.node_next = ht_cursor_next,
	.node_unpin = ht_cursor_unpin,
	.key_off = offsetof(struct ht_node, key),
	.value_off = offsetof(struct ht_node, value),
	.pins_off = offsetof(struct ht_node, pins),
	.destroy = hashtable_destroy,
	.notify_add = hashtable_notify_add,
	.notify_del = hashtable_notify_del,
};

static uint32_t ht_order_for(size_t max_size)
{
	uint32_t order = 0;

	while (order < HT_MAX_ORDER && (max_size >> order) != 0)
		order++;
	return order < HT_MIN_ORDER ? HT_MIN_ORDER : order;
}

struct qb_map *map_hashtable_new(size_t max_size)
{
	struct hashtable *ht = calloc(1, sizeof(*ht));

	if (ht == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ht->order = ht_order_for(max_size);
	ht->nbuckets = (size_t)1 << ht->order;
	ht->buckets = calloc(ht->nbuckets, sizeof(*ht->buckets));
	if (ht->buckets == NULL) {
		free(ht);
		errno = ENOMEM;
		return NULL;
	}
	ht->used_lo = ht->nbuckets - 1;
	ht->base.ops = &hashtable_ops;
	return &ht->base;
}
