/*
 * Public qb_map_* entry points: argument checks and dispatch to the map
 * type's operations.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "map_internal.h"

qb_map_t *qb_skiplist_create(void)
{
	return map_skiplist_new();
}

qb_map_t *qb_hashtable_create(size_t max_size)
{
	return map_hashtable_new(max_size);
}

qb_map_t *qb_trie_create(void)
{
	return map_trie_new();
}

void qb_trie_dump(qb_map_t *m)
{
	if (m && map_is_trie(m))
		map_trie_dump(m);
}

void qb_map_put(qb_map_t *map, const char *key, const void *value)
{
	if (map == NULL || key == NULL)
		return;
	map->ops->put(map, key, value);
}

void *qb_map_get(qb_map_t *map, const char *key)
{
	if (map == NULL || key == NULL)
		return NULL;
	return map->ops->get(map, key);
}

int32_t qb_map_rm(qb_map_t *map, const char *key)
{
	if (map == NULL || key == NULL)
		return 0;
	return map->ops->rm(map, key);
}

size_t qb_map_count_get(qb_map_t *map)
{
	if (map == NULL)
		return 0;
	return map->count;
}

int32_t qb_map_notify_add(qb_map_t *m, const char *key, qb_map_notify_fn fn, int32_t events,
			  void *user_data)
{
	if (m == NULL || fn == NULL)
		return -EINVAL;
	/* freeing is a property of the whole map, not of one key */
	if (key != NULL && (events & QB_MAP_NOTIFY_FREE))
		return -EINVAL;
	return m->ops->notify_add(m, key, fn, events, user_data);
}

int32_t qb_map_notify_del(qb_map_t *m, const char *key, qb_map_notify_fn fn, int32_t events)
{
	if (m == NULL)
		return -EINVAL;
	return m->ops->notify_del(m, key, fn, events, 0, NULL);
}

int32_t qb_map_notify_del_2(qb_map_t *m, const char *key, qb_map_notify_fn fn, int32_t events,
			    void *user_data)
{
	if (m == NULL)
		return -EINVAL;
	return m->ops->notify_del(m, key, fn, events, 1, user_data);
}

qb_map_iter_t *qb_map_iter_create(qb_map_t *map)
{
	if (map == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return map->ops->iter_create(map, NULL);
}

qb_map_iter_t *qb_map_pref_iter_create(qb_map_t *map, const char *prefix)
{
	if (map == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return map->ops->iter_create(map, prefix);
}

const char *qb_map_iter_next(qb_map_iter_t *i, void **value)
{
	void *unused;

	if (i == NULL)
		return NULL;
	return i->m->ops->iter_next(i, value ? value : &unused);
}

void qb_map_iter_free(qb_map_iter_t *i)
{
	if (i == NULL)
		return;
	i->m->ops->iter_free(i);
}

void qb_map_foreach(qb_map_t *map, qb_map_transverse_fn func, void *user_data)
{
	qb_map_iter_t *i;
	const char *key;
	void *value;

	if (map == NULL || func == NULL)
		return;
	i = qb_map_iter_create(map);
	if (i == NULL)
		return;
	while ((key = qb_map_iter_next(i, &value)) != NULL) {
		if (func(key, value, user_data))
			break;
	}
	/* also releases the entry we stopped on (upstream skiplist leaks it) */
	qb_map_iter_free(i);
}

void qb_map_destroy(qb_map_t *map)
{
	if (map == NULL)
		return;
	map->ops->destroy(map);
}

struct map_cursor *map_cursor_new(struct qb_map *m, size_t size)
{
	struct map_cursor *c = calloc(1, size);

	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	c->base.m = m;
	return c;
}

void map_cursor_release(struct map_cursor *c)
{
	if (c->cur)
		c->base.m->ops->node_unpin(c->base.m, c->cur);
	c->cur = NULL;
}

struct qb_map_iter *map_cursor_iter_create(struct qb_map *m, const char *prefix)
{
	struct map_cursor *c = map_cursor_new(m, sizeof(*c));

	(void)prefix;
	return c ? &c->base : NULL;
}

void map_cursor_iter_free(struct qb_map_iter *i)
{
	map_cursor_release((struct map_cursor *)i);
	free(i);
}
