/*
 * The maps' block allocator (lib/map/map_arena.c): address order, reuse by
 * size class, large blocks from malloc, and release of every slab. Under
 * AddressSanitizer the arena hands every block to malloc, so only what
 * holds in both modes is checked there.
 */
#include <check.h>
#include "check_common.h"
#include <stdint.h>
#include <string.h>
#include "map/map_internal.h"


START_TEST(test_blocks_in_address_order)
{
	struct map_arena a = {0};
	char *p[20];
	int i;

	for (i = 0; i < 20; i++) {
		p[i] = map_arena_alloc(&a, 40);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % MAP_ARENA_ALIGN, 0);
		memset(p[i], i, 40);
	}
	if (!MAP_ARENA_PASS_THROUGH) {
		/* 20 blocks of 48 bytes fit the first slab, one after the other */
		for (i = 1; i < 20; i++)
			ck_assert_ptr_eq(p[i], p[i - 1] + 48);
	}
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(p[i][39], i);
	for (i = 0; i < 20; i++)
		map_arena_free(&a, p[i], 40);
	map_arena_release(&a);
}
END_TEST

START_TEST(test_freed_block_reused_by_its_class)
{
	struct map_arena a = {0};
	char *x = map_arena_alloc(&a, 40);
	char *y = map_arena_alloc(&a, 100);

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	map_arena_free(&a, x, 40);
	map_arena_free(&a, y, 100);
	if (!MAP_ARENA_PASS_THROUGH) {
		/* 33..48 bytes share x's class, 50 is the next one up */
		char *z = map_arena_alloc(&a, 50);

		ck_assert_ptr_ne(z, x);
		ck_assert_ptr_ne(z, y);
		ck_assert_ptr_eq(map_arena_alloc(&a, 33), x);
		ck_assert_ptr_eq(map_arena_alloc(&a, 112), y);
		ck_assert_ptr_ne(map_arena_alloc(&a, 48), x); /* used up */
	}
	map_arena_release(&a);
}
END_TEST

START_TEST(test_large_blocks_and_many_slabs)
{
	struct map_arena a = {0};
	char *big = map_arena_alloc(&a, MAP_ARENA_BLOCK_MAX + 1);
	char *p[5000];
	int i;

	ck_assert_ptr_nonnull(big);
	memset(big, 7, MAP_ARENA_BLOCK_MAX + 1);
	/* 5000 blocks of 96 bytes: several slabs of growing size */
	for (i = 0; i < 5000; i++) {
		p[i] = map_arena_alloc(&a, 90 + i % 7);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], i & 0xff, 90);
	}
	for (i = 0; i < 5000; i++)
		ck_assert_int_eq((unsigned char)p[i][89], i & 0xff);
	/* half back, then half again from the free lists */
	for (i = 0; i < 5000; i += 2)
		map_arena_free(&a, p[i], 90 + i % 7);
	for (i = 0; i < 5000; i += 2) {
		p[i] = map_arena_alloc(&a, 90 + i % 7);
		ck_assert_ptr_nonnull(p[i]);
	}
	for (i = 0; i < 5000; i++)
		map_arena_free(&a, p[i], 90 + i % 7);
	map_arena_free(&a, big, MAP_ARENA_BLOCK_MAX + 1);
	map_arena_free(&a, NULL, 40);
	/* under valgrind or ASan a slab or large block left behind is a leak */
	map_arena_release(&a);
	ck_assert_ptr_null(a.slabs);
	/* a released arena is empty and usable again */
	ck_assert_ptr_nonnull(p[0] = map_arena_alloc(&a, 16));
	map_arena_free(&a, p[0], 16);
	map_arena_release(&a);
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_blocks_in_address_order),
		CK_TEST(test_freed_block_reused_by_its_class),
		CK_TEST(test_large_blocks_and_many_slabs),
	};

	return CK_MAIN("map_arena", NULL, tests);
}
