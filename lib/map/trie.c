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
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_internal.h"

struct trie_pending {
	struct trie_pending *next;
	const char *key;
	void *value;
};

struct trie_node {
	struct trie_node *parent;
	/* one allocation: kids_cap kid pointers, then kid_bytes */
	struct trie_node **kids;
	char *kid_bytes; /* first byte of each kid, same order: searched
				 * without touching the kids themselves */
	uint32_t nkids;
	uint32_t kids_cap;
	uint32_t seg_len;
	const char *key;
	void *value;
	/* times the key was counted in by put() and not yet removed
	 * (several only after puts of NULL values, like upstream) */
	uint32_t puts;
	uint32_t pins;	  /* iterator cursors and callbacks in progress */
	uint32_t anchors; /* prefix iterators rooted here */
	struct map_notifier_list notifiers;
	struct trie_pending *pending;
	char seg[]; /* this node's key bytes (none for the root) */
};

struct trie {
	struct qb_map base;
	size_t nodes;
	struct trie_node root; /* last: its seg[] is empty */
};

struct trie_iter {
	struct map_cursor cursor; /* first */
	struct trie_node *top;	  /* subtree iterated (anchored), NULL: empty */
};

enum trie_lookup {
	TRIE_EXACT,  /* the key must end on a node boundary */
	TRIE_PREFIX, /* ending inside a segment gives that node */
	TRIE_CREATE, /* make the node (splitting segments) if needed */
};

static const struct map_ops trie_ops;

static struct trie *to_trie(struct qb_map *m)
{
	return (struct trie *)m;
}

static int trie_byte_cmp(char a, char b)
{
	return (signed char)a - (signed char)b;
}

/* Index of the child starting with byte c, or where it would go. */
static uint32_t trie_kid_slot(const struct trie_node *n, char c, int *found)
{
	const char *b = n->kid_bytes;
	uint32_t lo = 0, hi = n->nkids;

	while (hi - lo > 8) {
		uint32_t mid = (lo + hi) / 2;
		int d = trie_byte_cmp(b[mid], c);

		if (d == 0) {
			*found = 1;
			return mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < hi; lo++) {
		int d = trie_byte_cmp(b[lo], c);

		if (d >= 0) {
			*found = d == 0;
			return lo;
		}
	}
	*found = 0;
	return lo;
}

static struct trie_node *trie_node_new(struct trie *t, const char *seg, uint32_t len)
{
	struct trie_node *n = calloc(1, sizeof(*n) + len);

	if (n == NULL)
		return NULL;
	memcpy(n->seg, seg, len);
	n->seg_len = len;
	t->nodes++;
	return n;
}

static void trie_node_free(struct trie *t, struct trie_node *n)
{
	struct trie_pending *p;

	while ((p = n->pending) != NULL) {
		n->pending = p->next;
		free(p);
	}
	map_notifier_list_free(&n->notifiers);
	free(n->kids);
	free(n);
	t->nodes--;
}

/* Resize the kid arrays to cap entries (cap >= nkids). */
static int trie_kids_grow(struct trie_node *n, uint32_t cap)
{
	struct trie_node **kids = malloc(cap * (sizeof(*kids) + 1));
	char *bytes;

	if (kids == NULL)
		return -ENOMEM;
	bytes = (char *)(kids + cap);
	if (n->nkids) {
		memcpy(kids, n->kids, n->nkids * sizeof(*kids));
		memcpy(bytes, n->kid_bytes, n->nkids);
	}
	free(n->kids);
	n->kids = kids;
	n->kid_bytes = bytes;
	n->kids_cap = cap;
	return 0;
}

static int trie_kid_insert(struct trie_node *parent, uint32_t slot, struct trie_node *kid)
{
	if (parent->nkids == parent->kids_cap &&
	    trie_kids_grow(parent, parent->kids_cap ? parent->kids_cap * 2 : 4))
		return -ENOMEM;
	memmove(&parent->kids[slot + 1], &parent->kids[slot],
		(parent->nkids - slot) * sizeof(*parent->kids));
	memmove(&parent->kid_bytes[slot + 1], &parent->kid_bytes[slot], parent->nkids - slot);
	parent->kids[slot] = kid;
	parent->kid_bytes[slot] = kid->seg[0];
	parent->nkids++;
	kid->parent = parent;
	return 0;
}

static void trie_kid_remove(struct trie_node *parent, struct trie_node *kid)
{
	int found;
	uint32_t slot = trie_kid_slot(parent, kid->seg[0], &found);

	if (!found || parent->kids[slot] != kid)
		return;
	memmove(&parent->kids[slot], &parent->kids[slot + 1],
		(parent->nkids - slot - 1) * sizeof(*parent->kids));
	memmove(&parent->kid_bytes[slot], &parent->kid_bytes[slot + 1], parent->nkids - slot - 1);
	parent->nkids--;
}

/* Split n after its first `at` bytes: a new node takes n's place with the
 * head of the segment, n keeps its data and becomes its only child. */
static struct trie_node *trie_split(struct trie *t, struct trie_node *n, uint32_t at)
{
	struct trie_node *upper = trie_node_new(t, n->seg, at);
	int found;
	uint32_t slot;

	if (upper == NULL)
		return NULL;
	if (trie_kids_grow(upper, 2) != 0) {
		trie_node_free(t, upper);
		return NULL;
	}
	slot = trie_kid_slot(n->parent, n->seg[0], &found);
	n->parent->kids[slot] = upper;
	upper->parent = n->parent;
	memmove(n->seg, n->seg + at, n->seg_len - at);
	n->seg_len -= at;
	upper->kids[0] = n;
	upper->kid_bytes[0] = n->seg[0];
	upper->nkids = 1;
	n->parent = upper;
	return upper;
}

static struct trie_node *trie_lookup(struct trie *t, const char *key, enum trie_lookup mode)
{
	struct trie_node *n = &t->root;
	const char *p = key;
	size_t left = strlen(key);

	if (left == 0)
		left = 1; /* "" is stored as the byte "\0" */
	while (left) {
		struct trie_node *kid;
		uint32_t slot, m;
		int found;

		slot = trie_kid_slot(n, *p, &found);
		if (!found) {
			if (mode != TRIE_CREATE)
				return NULL;
			kid = trie_node_new(t, p, (uint32_t)left);
			if (kid == NULL)
				return NULL;
			if (trie_kid_insert(n, slot, kid) != 0) {
				trie_node_free(t, kid);
				return NULL;
			}
			return kid;
		}
		kid = n->kids[slot];
		for (m = 1; m < kid->seg_len && m < left && kid->seg[m] == p[m];)
			m++;
		if (m == kid->seg_len) {
			n = kid;
			p += m;
			left -= m;
			continue;
		}
		/* the key leaves this segment after m bytes */
		if (mode == TRIE_PREFIX && m == left)
			return kid;
		if (mode != TRIE_CREATE)
			return NULL;
		kid = trie_split(t, kid, m);
		if (kid == NULL)
			return NULL;
		n = kid;
		p += m;
		left -= m;
	}
	return n;
}

static int trie_node_is_empty(const struct trie_node *n)
{
	return n->nkids == 0 && n->puts == 0 && n->value == NULL && n->pins == 0 &&
		n->anchors == 0 && n->pending == NULL &&
		map_notifier_list_idle_empty(&n->notifiers);
}

/* Remove n and then its ancestors while they hold nothing any more. */
static void trie_prune(struct trie *t, struct trie_node *n)
{
	while (n != &t->root && trie_node_is_empty(n)) {
		struct trie_node *parent = n->parent;

		trie_kid_remove(parent, n);
		trie_node_free(t, n);
		n = parent;
	}
}

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
	if (--n->pins == 0)
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
	if (n->nkids)
		return n->kids[0];
	while (n != top) {
		struct trie_node *parent = n->parent;
		int found;
		uint32_t slot = trie_kid_slot(parent, n->seg[0], &found);

		if (slot + 1 < parent->nkids)
			return parent->kids[slot + 1];
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

static void trie_free_subtree(struct trie *t, struct trie_node *n)
{
	uint32_t k;

	for (k = 0; k < n->nkids; k++)
		trie_free_subtree(t, n->kids[k]);
	n->nkids = 0;
	if (n != &t->root)
		trie_node_free(t, n);
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
	free(t->root.kids);
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

/* Debug listing in the shape upstream prints: a line per stored leaf with
 * the segments of its path, then its count of puts. */
static void trie_dump_node(const struct trie_node *n, char *path, size_t len, size_t cap)
{
	uint32_t k;

	if (n->nkids == 0 && n->puts > 0)
		printf("%.*s (%u)  \n", (int)len, path, n->puts);
	for (k = 0; k < n->nkids; k++) {
		const struct trie_node *kid = n->kids[k];
		uint32_t seg_len = kid->seg[0] ? kid->seg_len : 0;
		size_t add = seg_len + 2 + (len ? 1 : 0);
		char *p = path + len;

		if (len + add > cap)
			continue;
		if (len)
			*p++ = ' ';
		*p++ = '[';
		memcpy(p, kid->seg, seg_len);
		p[seg_len] = ']';
		trie_dump_node(kid, path, len + add, cap);
	}
}

static size_t trie_bytes(const struct trie_node *n)
{
	size_t bytes = sizeof(*n) + n->seg_len + n->kids_cap * (sizeof(*n->kids) + 1);
	uint32_t k;

	for (k = 0; k < n->nkids; k++)
		bytes += trie_bytes(n->kids[k]);
	return bytes;
}

void map_trie_dump(struct qb_map *m)
{
	struct trie *t = to_trie(m);
	char path[4096];

	printf("nodes: %zu, bytes: %zu\n", t->nodes + 1,
	       sizeof(*t) + trie_bytes(&t->root) - sizeof(t->root));
	trie_dump_node(&t->root, path, 0, sizeof(path));
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
