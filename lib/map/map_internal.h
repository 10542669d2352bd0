/*
 * map module internals: the one header the map sources share.
 *
 * A qb_map_t is a small base struct with an operations table; each map type
 * (skiplist.c, hashtable.c, trie.c) embeds it first in its own struct.
 * Notifier lists (map_notify.c) are shared by all three.
 */
#ifndef QB_MAP_INTERNAL_H_DEFINED
#define QB_MAP_INTERNAL_H_DEFINED

#include <stdint.h>
#include <stddef.h>
#include <qb/qbmap.h>

struct qb_map;
struct qb_map_iter;

struct map_ops {
	void (*put)(struct qb_map *m, const char *key, const void *value);
	void *(*get)(struct qb_map *m, const char *key);
	int32_t (*rm)(struct qb_map *m, const char *key);
	/* prefix is NULL for a full iteration; only the trie uses it */
	struct qb_map_iter *(*iter_create)(struct qb_map *m, const char *prefix);
	const char *(*iter_next)(struct qb_map_iter *i, void **value);
	void (*iter_free)(struct qb_map_iter *i);
	void (*destroy)(struct qb_map *m);
	int32_t (*notify_add)(struct qb_map *m, const char *key, qb_map_notify_fn fn,
			      int32_t events, void *user_data);
	/* match_user_data: 0 for qb_map_notify_del, 1 for _del_2 */
	int32_t (*notify_del)(struct qb_map *m, const char *key, qb_map_notify_fn fn,
			      int32_t events, int match_user_data, void *user_data);
};

struct qb_map {
	const struct map_ops *ops;
	size_t count;
};

struct qb_map_iter {
	struct qb_map *m;
};

/* --- iterators ---------------------------------------------------------- */

/*
 * Every map type iterates with the same pin protocol: an iterator stands on
 * a node it has pinned, so the caller or a notifier callback may remove any
 * key (the current one too) while iterating; a removed node lives on,
 * skipped by lookups, until its last pin goes. A step pins the next live
 * node before it unpins the one it leaves (which may free that one).
 *
 * Each type embeds map_cursor first in its iterator and calls the inline
 * functions below with its own node functions, which the compiler then
 * calls directly.
 */
struct map_cursor {
	struct qb_map_iter base;
	void *cur; /* pinned node returned last; NULL before the first */
	int done;
};

/* A zeroed iterator of size bytes (map_cursor first) on m, or NULL with
 * errno ENOMEM. */
struct map_cursor *map_cursor_new(struct qb_map *m, size_t size);

typedef void *(*map_node_next_fn)(struct map_cursor *c, void *prev);
typedef void (*map_node_pin_fn)(void *node);
typedef void (*map_node_unpin_fn)(struct qb_map *m, void *node);

/*
 * next(c, NULL) gives the first live node, next(c, prev) the live node
 * after prev (prev is still pinned, possibly removed), NULL at the end.
 * Returns the node the iterator now stands on, NULL at the end.
 */
static inline void *map_cursor_step(struct map_cursor *c, map_node_next_fn next,
				    map_node_pin_fn pin, map_node_unpin_fn unpin)
{
	void *prev = c->cur;
	void *n;

	if (c->done)
		return NULL;
	n = next(c, prev);
	if (n)
		pin(n);
	c->cur = n;
	if (prev)
		unpin(c->base.m, prev);
	if (n == NULL)
		c->done = 1;
	return n;
}

/* Unpin the node the iterator stands on; the caller frees the iterator. */
static inline void map_cursor_release(struct map_cursor *c, map_node_unpin_fn unpin)
{
	if (c->cur)
		unpin(c->base.m, c->cur);
	c->cur = NULL;
}

/* --- notifier lists (map_notify.c) ------------------------------------- */

struct map_notifier {
	struct map_notifier *next;
	qb_map_notify_fn fn;
	int32_t events;
	void *user_data;
	int dead; /* unregistered while the list was being walked */
};

struct map_notifier_list {
	struct map_notifier *head;
	uint32_t busy; /* nesting depth of walks in progress */
	uint32_t dead; /* entries waiting to be swept */
};

#define MAP_EVENTS_WITH_FREE (QB_MAP_NOTIFY_DELETED | QB_MAP_NOTIFY_REPLACED)

/* Add a notifier; append puts it last (FREE, trie keyed RECURSIVE),
 * otherwise it goes first. 0, -EEXIST or -ENOMEM. */
int32_t map_notifier_add(struct map_notifier_list *l, qb_map_notify_fn fn, int32_t events,
			 void *user_data, int append);

/* Remove all entries with these fn and events (and user_data if
 * match_user_data). 0 if any was removed, else -ENOENT. */
int32_t map_notifier_del(struct map_notifier_list *l, qb_map_notify_fn fn, int32_t events,
			 int match_user_data, const void *user_data);

/* Deliver one event to a list. is_target is 0 when the list belongs to an
 * ancestor of the changed trie node: then only RECURSIVE entries see the
 * event itself (FREE is delivered regardless). */
void map_notifier_fire(struct map_notifier_list *l, uint32_t event, const char *key,
		       const void *old_value, const void *value, int is_target);

/* 1 if the list holds no live notifier and is not being walked. */
int map_notifier_list_idle_empty(const struct map_notifier_list *l);

void map_notifier_list_free(struct map_notifier_list *l);

/* --- constructors of the three map types ------------------------------ */
struct qb_map *map_skiplist_new(void);
struct qb_map *map_hashtable_new(size_t max_size);
struct qb_map *map_trie_new(void);
void map_trie_dump(struct qb_map *m);
int map_is_trie(const struct qb_map *m);

#endif /* QB_MAP_INTERNAL_H_DEFINED */
