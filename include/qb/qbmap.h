/*
 * qbmap.h - string-keyed associative containers with change notification.
 *
 * This file is part of a clean-room implementation of the libqb 2.0 API.
 * It is licensed under the LGPL-2.1-or-later.
 */
#ifndef QB_MAP_H_DEFINED
#define QB_MAP_H_DEFINED

#include <stdint.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @file qbmap.h
 * A map associates NUL-terminated string keys with opaque pointer values.
 *
 * Three implementations share one API:
 * - skiplist (qb_skiplist_create()): keys kept in strcmp() order;
 * - hashtable (qb_hashtable_create()): fastest lookups, order is the order of
 *   the hash buckets;
 * - trie (qb_trie_create()): keys kept in byte order of a prefix tree; the
 *   only one that supports prefix iteration and prefix (recursive)
 *   notifications.
 *
 * The map never copies keys or values: it stores the pointers it is given.
 * The caller owns that memory and may register a #QB_MAP_NOTIFY_FREE
 * notifier to be told when the map no longer refers to a key or a value.
 *
 * Thread safety: a map object is not locked. Callers sharing a map between
 * threads must serialise every call themselves. None of the functions are
 * async-signal-safe (they may allocate). Different maps are independent.
 *
 * Re-entrancy: notifier callbacks may call back into the map (get, put, rm,
 * notifier changes); nodes that a callback removes are destroyed once no
 * caller or iterator uses them any more.
 */

/** An opaque map (skiplist, hashtable or trie). */
typedef struct qb_map qb_map_t;

/** An opaque cursor over the entries of a map. */
typedef struct qb_map_iter qb_map_iter_t;

/** A key was removed (rm, destroy, or an iterator left a removed key). */
#define QB_MAP_NOTIFY_DELETED   1
/** put() on a key that was already present changed its value. */
#define QB_MAP_NOTIFY_REPLACED  2
/** put() added a key that was not present. */
#define QB_MAP_NOTIFY_INSERTED  4
/** Trie only: also report events on every key that starts with the
 *  notifier's key (for the global notifier: on every key). */
#define QB_MAP_NOTIFY_RECURSIVE 8
/** Called (with event QB_MAP_NOTIFY_FREE) whenever the map lets go of a key
 *  and/or value after a deletion or a replacement; only allowed for the
 *  global notifier (key NULL). */
#define QB_MAP_NOTIFY_FREE      16

/**
 * Signature of a change callback.
 *
 * @param event one QB_MAP_NOTIFY_* event bit (DELETED, REPLACED, INSERTED or
 *        FREE).
 * @param key for INSERTED and DELETED the key concerned; for REPLACED the
 *        key pointer that was stored before the replacement.
 * @param old_value the previous value (NULL for INSERTED).
 * @param value the new value (NULL for DELETED).
 * @param user_data the pointer given to qb_map_notify_add().
 */
typedef void (*qb_map_notify_fn)(uint32_t event,
				 char *key,
				 void *old_value,
				 void *value,
				 void *user_data);

/**
 * Signature of a qb_map_foreach() visitor.
 *
 * @return 0 to continue with the next entry, non-zero to stop.
 */
typedef int32_t (*qb_map_transverse_fn)(const char *key,
					void *value,
					void *user_data);

/**
 * Make an empty hashtable.
 *
 * @param max_size expected number of entries; only sizes the bucket array
 *        (at least 8 buckets, the next power of two above max_size), it is
 *        not a limit.
 * @return the new map, or NULL (errno ENOMEM) when memory is short.
 */
qb_map_t *qb_hashtable_create(size_t max_size);

/**
 * Make an empty skiplist (ordered by strcmp() of the keys).
 *
 * Like upstream, this seeds the C library's random number generator with
 * srand(time(NULL)), which changes what rand()/random() return afterwards.
 *
 * @return the new map, or NULL (errno ENOMEM) when memory is short.
 */
qb_map_t *qb_skiplist_create(void);

/**
 * Make an empty trie (prefix tree).
 *
 * @return the new map, or NULL (errno ENOMEM) when memory is short.
 */
qb_map_t *qb_trie_create(void);

/**
 * Print a human readable description of a trie's nodes to stdout.
 * Meant for debugging only; the output format is not stable.
 *
 * @param m a map made by qb_trie_create() (other maps are ignored).
 */
void qb_trie_dump(qb_map_t *m);

/**
 * Register a change callback.
 *
 * With key NULL the notifier is global (concerns every key; on a trie it
 * sees INSERTED/REPLACED/DELETED only together with #QB_MAP_NOTIFY_RECURSIVE).
 * With a key it concerns that key only (on a trie, with
 * #QB_MAP_NOTIFY_RECURSIVE, that key and every key below it; a trie accepts
 * keys that are not stored yet, a skiplist or hashtable does not).
 *
 * Callbacks registered later run earlier, except FREE and (trie) keyed
 * RECURSIVE notifiers, which run after the others of the same key.
 *
 * @param m the map.
 * @param key the key to watch, or NULL for all keys.
 * @param fn the callback.
 * @param events a mask of QB_MAP_NOTIFY_* bits.
 * @param user_data passed back to fn.
 * @return 0 on success;
 *         -EINVAL FREE requested on a key, fn or m is NULL, or (skiplist)
 *                 the key is absent;
 *         -ENOENT (hashtable) the key is absent;
 *         -EEXIST the same (fn, events, user_data) is already registered
 *                 there, or a FREE notifier with the same events exists;
 *         -ENOMEM out of memory.
 */
int32_t qb_map_notify_add(qb_map_t *m, const char *key,
			  qb_map_notify_fn fn, int32_t events,
			  void *user_data);

/**
 * Unregister every callback of key (NULL: the global list) whose function
 * is fn and whose event mask equals events, whatever its user_data.
 *
 * @return 0 if at least one was removed, -ENOENT otherwise.
 */
int32_t qb_map_notify_del(qb_map_t *m, const char *key,
			  qb_map_notify_fn fn, int32_t events);

/**
 * Like qb_map_notify_del() but only removes callbacks registered with this
 * user_data as well.
 *
 * @return 0 if at least one was removed, -ENOENT otherwise.
 */
int32_t qb_map_notify_del_2(qb_map_t *m, const char *key,
			    qb_map_notify_fn fn, int32_t events,
			    void *user_data);

/**
 * Store value under key. If the key is present its value and its key
 * pointer are both replaced (REPLACED then FREE notifications report the
 * old ones); otherwise the entry is added (INSERTED).
 *
 * Neither key nor value is copied. On a trie a NULL value means "absent"
 * (the key is not listed by iterators).
 */
void qb_map_put(qb_map_t *map, const char *key, const void *value);

/**
 * Look a key up.
 *
 * @return the stored value, or NULL if the key is not present.
 */
void *qb_map_get(qb_map_t *map, const char *key);

/**
 * Remove a key (DELETED and FREE notifications are sent, immediately or,
 * if an iterator currently stands on it, when that iterator moves on).
 *
 * @return 1 if the key was removed, 0 if it was not present.
 */
int32_t qb_map_rm(qb_map_t *map, const char *key);

/**
 * @return the number of keys stored.
 */
size_t qb_map_count_get(qb_map_t *map);

/**
 * Call func for every entry in iteration order, stopping early as soon as
 * func returns non-zero. func may remove the key it is given.
 */
void qb_map_foreach(qb_map_t *map, qb_map_transverse_fn func, void *user_data);

/**
 * Start an iteration over all entries.
 *
 * @return a new iterator (release with qb_map_iter_free()), or NULL (errno
 *         ENOMEM).
 */
qb_map_iter_t *qb_map_iter_create(qb_map_t *map);

/**
 * Start an iteration over the keys that begin with prefix (the prefix
 * itself included). Only a trie honours the prefix; skiplist and hashtable
 * ignore it and iterate over everything. On a trie, a NULL prefix means
 * every key and an empty prefix "" yields nothing.
 *
 * @return a new iterator, or NULL (errno ENOMEM).
 */
qb_map_iter_t *qb_map_pref_iter_create(qb_map_t *map, const char *prefix);

/**
 * Advance an iterator.
 *
 * The entry returned stays valid while the iterator stands on it, even if
 * it is removed from the map meanwhile; its removal notifications are then
 * sent when the iterator moves on (or is freed).
 *
 * @param i the iterator.
 * @param value receives the entry's value. Pass a valid pointer for
 *        portability: libqb 2.0.6 crashes on NULL (accepted here).
 * @return the entry's key, or NULL when there are no more entries.
 */
const char *qb_map_iter_next(qb_map_iter_t *i, void **value);

/**
 * Release an iterator (and the entry it stands on: if that entry was
 * removed meanwhile, its DELETED/FREE notifications are sent now).
 */
void qb_map_iter_free(qb_map_iter_t *i);

/**
 * Remove every entry (DELETED and FREE notifications are sent for each, in
 * iteration order), then free the map and its notifiers.
 */
void qb_map_destroy(qb_map_t *map);

#ifdef __cplusplus
}
#endif

#endif /* QB_MAP_H_DEFINED */
