/*
 * Notifier lists shared by every map type.
 *
 * Callbacks may unregister notifiers (their own or others) while a list is
 * being walked, so removal during a walk only marks the entry dead; the
 * outermost walk sweeps dead entries when it finishes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "map_internal.h"

static int notifier_is_duplicate(const struct map_notifier *n, qb_map_notify_fn fn, int32_t events,
				 const void *user_data)
{
	if (n->events != events)
		return 0;
	if (n->fn == fn && n->user_data == user_data)
		return 1;
	/* there is only ever one FREE notifier per event mask */
	return (events & QB_MAP_NOTIFY_FREE) != 0;
}

int32_t map_notifier_add(struct map_notifier_list *l, qb_map_notify_fn fn, int32_t events,
			 void *user_data, int append)
{
	struct map_notifier *n;
	struct map_notifier **pos;

	for (n = l->head; n; n = n->next) {
		if (!n->dead && notifier_is_duplicate(n, fn, events, user_data))
			return -EEXIST;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	n->fn = fn;
	n->events = events;
	n->user_data = user_data;
	pos = &l->head;
	if (append) {
		while (*pos)
			pos = &(*pos)->next;
	}
	n->next = *pos;
	*pos = n;
	return 0;
}

static void notifier_list_sweep(struct map_notifier_list *l)
{
	struct map_notifier **pos = &l->head;

	while (*pos) {
		struct map_notifier *n = *pos;

		if (n->dead) {
			*pos = n->next;
			free(n);
		} else {
			pos = &n->next;
		}
	}
	l->dead = 0;
}

int32_t map_notifier_del(struct map_notifier_list *l, qb_map_notify_fn fn, int32_t events,
			 int match_user_data, const void *user_data)
{
	struct map_notifier *n;
	int found = 0;

	for (n = l->head; n; n = n->next) {
		if (n->dead || n->fn != fn || n->events != events)
			continue;
		if (match_user_data && n->user_data != user_data)
			continue;
		n->dead = 1;
		l->dead++;
		found = 1;
	}
	if (l->busy == 0 && l->dead)
		notifier_list_sweep(l);
	return found ? 0 : -ENOENT;
}

void map_notifier_fire(struct map_notifier_list *l, uint32_t event, const char *key,
		       const void *old_value, const void *value, int is_target)
{
	struct map_notifier *n;
	int wants_free = (event & MAP_EVENTS_WITH_FREE) != 0;

	if (l->head == NULL)
		return;
	l->busy++;
	for (n = l->head; n; n = n->next) {
		if (n->dead)
			continue;
		if ((n->events & event) && (is_target || (n->events & QB_MAP_NOTIFY_RECURSIVE)))
			n->fn(event, (char *)key, (void *)old_value, (void *)value, n->user_data);
		if (wants_free && !n->dead && (n->events & QB_MAP_NOTIFY_FREE))
			n->fn(QB_MAP_NOTIFY_FREE, (char *)key, (void *)old_value, (void *)value,
			      n->user_data);
	}
	l->busy--;
	if (l->busy == 0 && l->dead)
		notifier_list_sweep(l);
}

int map_notifier_list_idle_empty(const struct map_notifier_list *l)
{
	const struct map_notifier *n;

	if (l->busy)
		return 0;
	for (n = l->head; n; n = n->next) {
		if (!n->dead)
			return 0;
	}
	return 1;
}

void map_notifier_list_free(struct map_notifier_list *l)
{
	struct map_notifier *n = l->head;

	while (n) {
		struct map_notifier *next = n->next;

		free(n);
		n = next;
	}
	l->head = NULL;
	l->dead = 0;
}
