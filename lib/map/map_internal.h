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
struct map_cursor;

struct map_ops {
	void (*put)(struct qb_map *m, const char *key, const void *value);
	void *(*get)(struct qb_map *m, const char *key);
	int32_t (*rm)(struct qb_map *m, const char *key);
	/* prefix is NULL for a full iteration; only the trie uses it */
	struct qb_map_iter *(*iter_create)(struct qb_map *m, const char *prefix);
	const char *(*iter_next)(struct qb_map_iter *i, void **value);
	void (*iter_free)(struct qb_map_iter *i);
	/* what map_cursor_next() steps with: see "iterators" below */
	void *(*node_next)(struct map_cursor *c, void *prev);
	void (*node_unpin)(struct qb_map *m, void *node);
	/* where a node keeps its key, value and uint32_t pin count */
	size_t key_off;
	size_t value_off;
	size_t pins_off;
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

/* --- iterators (map.c) ------------------------------------------------ */

/*
 * Every map type iterates with the same pin protocol: an iterator stands on
 * a node it has pinned, so the caller or a notifier callback may remove any
 * key (the current one too) while iterating; a removed node lives on,
 * skipped by lookups, until its last pin goes. A step pins the next live
 * node before it unpins the one it leaves (which may free that one).
 *
 * map_cursor_next() below is that step for every type, driven by the
 * type's node_next and node_unpin: node_next(c, NULL) gives the first live
 * node, node_next(c, prev) the live node after prev (prev is still pinned,
 * possibly removed), NULL at the end. A type's iter_next calls it with the
 * type's own (static const) map_ops, so the compiler calls those functions
 * directly. A type that needs more state embeds map_cursor first in its
 * iterator.
 */
struct map_cursor {
	struct qb_map_iter base;
	void *cur; /* pinned node returned last; NULL before the first */
	int done;
};

/* a field of a node, at the offset its map_ops give */
static inline void *map_node_field(void *node, size_t off)
{
	return (char *)node + off;
}

/* Step the iterator: pin the next live node, then unpin the one left
 * (which may free it). Returns the new node's key and sets *value, or
 * returns NULL at the end. */
static inline const char *map_cursor_next(struct qb_map_iter *it, void **value,
					  const struct map_ops *ops)
{
	struct map_cursor *c = (struct map_cursor *)it;
	void *prev = c->cur;
	void *n;

	if (c->done)
		return NULL;
	n = ops->node_next(c, prev);
	if (n)
		(*(uint32_t *)map_node_field(n, ops->pins_off))++;
	c->cur = n;
	if (prev)
		ops->node_unpin(it->m, prev);
	if (n == NULL) {
		c->done = 1;
		return NULL;
	}
	*value = *(void **)map_node_field(n, ops->value_off);
	return *(const char **)map_node_field(n, ops->key_off);
}

/* A zeroed iterator of size bytes (map_cursor first) on m, or NULL with
 * errno ENOMEM. */
struct map_cursor *map_cursor_new(struct qb_map *m, size_t size);

/* Unpin the node the iterator stands on; the caller frees the iterator. */
void map_cursor_release(struct map_cursor *c);

/* iter_create and iter_free for a type whose iterator is a bare cursor */
struct qb_map_iter *map_cursor_iter_create(struct qb_map *m, const char *prefix);
void map_cursor_iter_free(struct qb_map_iter *i);

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

/* --- block allocator (map_arena.c; the trie's nodes) ------------------ */
/*
 * A map's allocator for its small blocks: blocks are handed
 * out in address order and freed back to the map for its own reuse; the
 * slabs go back to malloc at map_arena_release(). Every block is to be
 * freed before that (under AddressSanitizer each one is malloc's own), with
 * the size it was asked with. A zeroed struct is an empty arena. Not
 * thread-safe, like the maps.
 */
#define MAP_ARENA_ALIGN 16
#define MAP_ARENA_BLOCK_MAX 512 /* larger blocks come from malloc */

/* 1 under AddressSanitizer: every block is then malloc's own */
#if defined(__SANITIZE_ADDRESS__)
#define MAP_ARENA_PASS_THROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAP_ARENA_PASS_THROUGH 1
#endif
#endif
#ifndef MAP_ARENA_PASS_THROUGH
#define MAP_ARENA_PASS_THROUGH 0
#endif

struct arena_slab;

struct map_arena {
	struct arena_slab *slabs; /* newest first */
	char *bump;		  /* free space of the newest slab */
	char *end;
	size_t slab_size; /* of the next slab */
	void *free[MAP_ARENA_BLOCK_MAX / MAP_ARENA_ALIGN];
};

void *map_arena_alloc(struct map_arena *a, size_t size);
void map_arena_free(struct map_arena *a, void *p, size_t size);
void map_arena_release(struct map_arena *a);

/* --- constructors of the three map types ------------------------------ */
struct qb_map *map_skiplist_new(void);
struct qb_map *map_hashtable_new(size_t max_size);
struct qb_map *map_trie_new(void);
void map_trie_dump(struct qb_map *m);
int map_is_trie(const struct qb_map *m);

#endif /* QB_MAP_INTERNAL_H_DEFINED */
