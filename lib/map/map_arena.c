/*
 * map_arena.c - a map's own allocator for its small blocks (trie nodes and
 * their kid arrays).
 *
 * Why: malloc keeps freed blocks of up to 128 bytes on last-in first-out
 * lists that it never merges back. After a map was emptied in random key
 * order, the next one got its nodes in that random order from all over the
 * heap, and a walk from a node to its kids missed the cache at every hop:
 * trie puts and gets ran at half the speed they have on fresh memory.
 *
 * An arena hands blocks out of its slabs in address order, keeps the
 * blocks freed back to it on a list per size class for the map's own later
 * use, and returns its slabs to malloc when the map is destroyed. So a
 * map's memory is held at its peak until then. Blocks above
 * MAP_ARENA_BLOCK_MAX come from malloc itself; under AddressSanitizer every
 * block does, so that it still sees a use after free.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>

#include "map_internal.h"

struct arena_slab {
	struct arena_slab *next;
};

#if MAP_ARENA_PASS_THROUGH
void *map_arena_alloc(struct map_arena *a, size_t size)
{
	(void)a;
	return malloc(size);
}

void map_arena_free(struct map_arena *a, void *p, size_t size)
{
	(void)a;
	(void)size;
	free(p);
}
#else
#define ARENA_SLAB_MIN 1024
#define ARENA_SLAB_MAX 65536

/* where a slab's blocks start: aligned as blocks are */
#define ARENA_SLAB_HEAD                                                                            \
	((sizeof(struct arena_slab) + MAP_ARENA_ALIGN - 1) & ~(size_t)(MAP_ARENA_ALIGN - 1))

_Static_assert(MAP_ARENA_BLOCK_MAX % MAP_ARENA_ALIGN == 0, "classes cover the blocks");
_Static_assert(ARENA_SLAB_MIN >= ARENA_SLAB_HEAD + MAP_ARENA_BLOCK_MAX, "a slab holds a block");

static size_t arena_class(size_t size)
{
	return (size - 1) / MAP_ARENA_ALIGN;
}

/* A new slab, each twice the size of the one before up to ARENA_SLAB_MAX:
 * a map of a few keys stays small. The rest of the old slab is left. */
static int arena_grow(struct map_arena *a)
{
	size_t size = a->slab_size ? a->slab_size : ARENA_SLAB_MIN;
	struct arena_slab *s = malloc(size);

	if (s == NULL)
		return -1;
	s->next = a->slabs;
	a->slabs = s;
	a->bump = (char *)s + ARENA_SLAB_HEAD;
	a->end = (char *)s + size;
	a->slab_size = size < ARENA_SLAB_MAX ? size * 2 : size;
	return 0;
}

void *map_arena_alloc(struct map_arena *a, size_t size)
{
	size_t c, block;
	void *p;

	if (size == 0 || size > MAP_ARENA_BLOCK_MAX)
		return malloc(size);
	c = arena_class(size);
	p = a->free[c];
	if (p != NULL) {
		a->free[c] = *(void **)p;
		return p;
	}
	block = (c + 1) * MAP_ARENA_ALIGN;
	if ((size_t)(a->end - a->bump) < block && arena_grow(a) != 0)
		return NULL;
	p = a->bump;
	a->bump += block;
	return p;
}

void map_arena_free(struct map_arena *a, void *p, size_t size)
{
	size_t c;

	if (p == NULL)
		return;
	if (size == 0 || size > MAP_ARENA_BLOCK_MAX) {
		free(p);
		return;
	}
	c = arena_class(size);
	*(void **)p = a->free[c];
	a->free[c] = p;
}
#endif

void map_arena_release(struct map_arena *a)
{
	struct arena_slab *s;

	while ((s = a->slabs) != NULL) {
		a->slabs = s->next;
		free(s);
	}
	*a = (struct map_arena){0};
}
