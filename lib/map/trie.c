/*
 * Trie map: a path-compressed prefix tree.
 *
 * Every node but the root holds a segment of one or more key bytes; a
 * node's children are sorted by the first byte of their segment compared
 * as (signed) char, which is the order upstream iterates in (bytes
 * 0x80-0xFF before 0x00-0x7F). Segments are split where keys diverge and
 * are never merged back; empty nodes are pruned bottom-up. The empty key
 * "" is stored as the single byte "\0" so it is a child of the root like
 * any other key (upstream does the same: it sorts between the negative
 * bytes and 0x01).
 *
 * Notifiers live on nodes; the global list is the root's. An event about a
 * node goes to the node's list and then to every ancestor's list up to the
 * root, where only RECURSIVE notifiers see it (FREE notifiers always do).
 * Keyed notifiers on a missing key create a placeholder node.
 *
 * A node with a value is pinned by an iterator standing on it and by the
 * map while it runs callbacks about it. rm() of a pinned key clears it at
 * once but queues its DELETED/FREE notifications until the last pin goes.
 *
 * Nodes and kid arrays come from the trie's own arena (map_arena.c), so
 * a trie built after another was emptied does not get them scattered.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trie_internal.h"

struct trie_iter {
	struct map_cursor cursor; /* first */
	struct trie_node *top;	  /* subtree iterated (anchored), NULL: empty */
};

static const struct map_ops trie_ops;

static void trie_fire(struct trie_node *n, uint32_t event, const char *key, const void *old_value,
		      const void *value)
{
	struct trie_node *x;

	for (x = n; x; x = x->parent)
		map_notifier_fire(&x->notifiers, event, key, old_value, value, x == n);
}

/* Drop one pin; the last pin sends the deletions queued on the node. */
static void trie_unpin(struct trie *t, struct trie_node *n)
{
	while (n->pins == 1 && n->pending) {
		struct trie_pending *p = n->pending;

		n->pending = p->next;
		trie_fire(n, QB_MAP_NOTIFY_DELETED, p->key, p->value, NULL);
		free(p);
	}
	if (--n->pins == 0 && trie_node_is_empty(n))
		trie_prune(t, n);
}

static void trie_put(struct qb_map *m, const char *key, const void *value)
{
	struct trie *t = to_trie(m);
	struct trie_node *n = trie_lookup(t, key, TRIE_CREATE);

	if (n == NULL)
		return;
	n->pins++;
	if (n->value != NULL) {
		const char *old_key = n->key;
		void *old_value = n->value;

		n->key = key;
		n->value = (void *)value;
		trie_fire(n, QB_MAP_NOTIFY_REPLACED, old_key, old_value, value);
	} else {
		/* a NULL value counts as absent, so storing one "inserts"
		 * again every time (upstream behaviour) */
		n->key = key;
		n->value = (void *)value;
		n->puts++;
		m->count++;
		trie_fire(n, QB_MAP_NOTIFY_INSERTED, key, NULL, value);
	}
	trie_unpin(t, n);
}

static void *trie_get(struct qb_map *m, const char *key)
{
	struct trie_node *n = trie_lookup(to_trie(m), key, TRIE_EXACT);

	return n ? n->value : NULL;
}

static int32_t trie_rm(struct qb_map *m, const char *key)
{
	struct trie *t = to_trie(m);
	struct trie_node *n = trie_lookup(t, key, TRIE_EXACT);
	const char *old_key;
	void *old_value;

	/* upstream also "removes" value-less inner nodes (returning 1 and
	 * decrementing the count); only stored keys are removed here */
	if (n == NULL || n->puts == 0)
		return 0;
	if (--n->puts > 0) {
		/* still counted in by earlier NULL puts: upstream keeps it */
		m->count--;
		return 1;
	}
	old_key = n->key;
	old_value = n->value;
	n->key = NULL;
	n->value = NULL;
	if (old_value == NULL) {
		/* NULL values were never visible: no DELETED */
		m->count--;
		trie_prune(t, n);
		return 1;
	}
	if (n->pins) {
		struct trie_pending *p = calloc(1, sizeof(*p));
		struct trie_pending **tail = &n->pending;

		m->count--;
		if (p == NULL) {
			trie_fire(n, QB_MAP_NOTIFY_DELETED, old_key, old_value, NULL);
			return 1;
		}
		p->key = old_key;
		p->value = old_value;
		while (*tail)
			tail = &(*tail)->next;
		*tail = p;
		return 1;
	}
	n->pins++;
	trie_fire(n, QB_MAP_NOTIFY_DELETED, old_key, old_value, NULL);
	m->count--;
	trie_unpin(t, n);
	return 1;
}

/* Pre-order successor of n within the subtree of top. */
static struct trie_node *trie_next_node(struct trie_node *n, const struct trie_node *top)
{
	if (n->nkids) {
		if (n->nkids > 1)
			__builtin_prefetch(n->kids[1]); /* see below */
		return n->kids[0];
	}
	while (n != top) {
		struct trie_node *parent = n->parent;
		int found;
		uint32_t slot = trie_kid_slot(parent, n->seg[0], &found);

		if (slot + 1 < parent->nkids) {
			/* an iteration visits the siblings in order, and on a
			 * heap that has seen churn each is a cache miss: start
			 * the next one's while this one is visited */
			if (slot + 2 < parent->nkids)
				__builtin_prefetch(parent->kids[slot + 2]);
			return parent->kids[slot + 1];
		}
		n = parent;
	}
	return NULL;
}

static struct qb_map_iter *trie_iter_create(struct qb_map *m, const char *prefix)
{
	struct trie *t = to_trie(m);
	struct trie_iter *i = (struct trie_iter *)map_cursor_new(m, sizeof(*i));

	if (i == NULL)
		return NULL;
	i->top = prefix ? trie_lookup(t, prefix, TRIE_PREFIX) : &t->root;
	if (i->top)
		i->top->anchors++;
	else
		i->cursor.done = 1;
	return &i->cursor.base;
}

/* The next node with a value in the iterated subtree, in key order.
 * inline: so that it is folded into trie_iter_next(). */
static inline void *trie_cursor_next(struct map_cursor *c, void *prev)
{
	struct trie_iter *i = (struct trie_iter *)c;
	struct trie_node *n = prev ? trie_next_node(prev, i->top) : i->top;

	while (n && n->value == NULL)
		n = trie_next_node(n, i->top);
	return n;
}

static void trie_cursor_unpin(struct qb_map *m, void *n)
{
	trie_unpin(to_trie(m), n);
}

static const char *trie_iter_next(struct qb_map_iter *it, void **value)
{
	return map_cursor_next(it, value, &trie_ops);
}

static void trie_iter_free(struct qb_map_iter *it)
{
	struct trie_iter *i = (struct trie_iter *)it;
	struct trie *t = to_trie(it->m);

	map_cursor_release(&i->cursor);
	if (i->top && --i->top->anchors == 0)
		trie_prune(t, i->top);
	free(i);
}

static void trie_destroy(struct qb_map *m)
{
	struct trie *t = to_trie(m);
	struct trie_node *n = &t->root;

	/* report every stored key in iteration order; the count is left as
	 * it is, like upstream */
	n->pins++;
	while (n) {
		struct trie_node *next;

		if (n->value != NULL) {
			const char *key = n->key;
			void *value = n->value;

			n->key = NULL;
			n->value = NULL;
			n->puts = 0;
			trie_fire(n, QB_MAP_NOTIFY_DELETED, key, value, NULL);
		}
		while (n->pending) {
			struct trie_pending *p = n->pending;

			n->pending = p->next;
			trie_fire(n, QB_MAP_NOTIFY_DELETED, p->key, p->value, NULL);
			free(p);
		}
		next = trie_next_node(n, &t->root);
		if (next)
			next->pins++;
		trie_unpin(t, n);
		n = next;
	}
	trie_free_subtree(t, &t->root);
	map_notifier_list_free(&t->root.notifiers);
	trie_kids_free(t, &t->root);
	map_arena_release(&t->arena);
	free(t);
}

static int32_t trie_notify_add(struct qb_map *m, const char *key, qb_map_notify_fn fn,
			       int32_t events, void *user_data)
{
	struct trie *t = to_trie(m);
	struct trie_node *n;
	int32_t rc;

	if (key == NULL)
		return map_notifier_add(&t->root.notifiers, fn, events, user_data,
					events & QB_MAP_NOTIFY_FREE);
	n = trie_lookup(t, key, TRIE_CREATE);
	if (n == NULL)
		return -ENOMEM;
	rc = map_notifier_add(&n->notifiers, fn, events, user_data,
			      events & QB_MAP_NOTIFY_RECURSIVE);
	if (rc != 0)
		trie_prune(t, n);
	return rc;
}

static int32_t trie_notify_del(struct qb_map *m, const char *key, qb_map_notify_fn fn,
			       int32_t events, int match_user_data, void *user_data)
{
	struct trie *t = to_trie(m);
	struct trie_node *n;
	int32_t rc;

	if (key == NULL)
		return map_notifier_del(&t->root.notifiers, fn, events, match_user_data, user_data);
	/* like upstream, a key ending inside a segment names that node */
	n = trie_lookup(t, key, TRIE_PREFIX);
	if (n == NULL)
		return -ENOENT;
	rc = map_notifier_del(&n->notifiers, fn, events, match_user_data, user_data);
	if (rc == 0)
		trie_prune(t, n);
	return rc;
}

int map_is_trie(const struct qb_map *m)
{
	return m->ops == &trie_ops;
}

static const struct map_ops trie_ops = {
	.put = trie_put,
	.get = trie_get,
	.rm = trie_rm,
	.iter_create = trie_iter_create,
	.iter_next = trie_iter_next,
	.iter_free = trie_iter_free,
	.node_next = trie_cursor_next,
	.node_unpin = trie_cursor_unpin,
	.key_off = offsetof(struct trie_node, key),
	.value_off = offsetof(struct trie_node, value),
	.pins_off = offsetof(struct trie_node, pins),
	.destroy = trie_destroy,
	.notify_add = trie_notify_add,
	.notify_del = trie_notify_del,
};

struct qb_map *map_trie_new(void)
{
	struct trie *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->base.ops = &trie_ops;
	return &t->base;
}
