/*
 * Trie nodes: allocation, the sorted child arrays, lookup (splitting
 * segments where keys diverge), pruning of empty nodes, and the debug dump.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trie_internal.h"

static int trie_byte_cmp(char a, char b)
{
	return (signed char)a - (signed char)b;
}

/* Index of the child starting with byte c, or where it would go. */
uint32_t trie_kid_slot(const struct trie_node *n, char c, int *found)
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

/* Bytes of the kid byte array for cap kids; the pointers follow it. */
static size_t trie_kid_bytes_len(uint32_t cap)
{
	return (cap + TRIE_KID_BYTES_PAD + 7) & ~(size_t)7;
}

/* Bytes of the one block holding both kid arrays. */
static size_t trie_kids_size(uint32_t cap)
{
	return trie_kid_bytes_len(cap) + (size_t)cap * sizeof(struct trie_node *);
}

void trie_kids_free(struct trie *t, struct trie_node *n)
{
	map_arena_free(&t->arena, n->kid_bytes, trie_kids_size(n->kids_cap));
	n->kid_bytes = NULL;
	n->kids = NULL;
	n->kids_cap = 0;
}

static struct trie_node *trie_node_new(struct trie *t, const char *seg, uint32_t len)
{
	struct trie_node *n = map_arena_alloc(&t->arena, sizeof(*n) + len);

	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	memcpy(n->seg, seg, len);
	n->seg_len = len;
	n->seg_cap = len;
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
	trie_kids_free(t, n);
	map_arena_free(&t->arena, n, sizeof(*n) + n->seg_cap);
	t->nodes--;
}

/* Resize the kid arrays to cap entries (cap >= nkids). The bytes come
 * first, so a search and the pointer it leads to often share a line. */
static int trie_kids_grow(struct trie *t, struct trie_node *n, uint32_t cap)
{
	size_t bytes_len = trie_kid_bytes_len(cap);
	char *bytes = map_arena_alloc(&t->arena, trie_kids_size(cap));
	struct trie_node **kids;

	if (bytes == NULL)
		return -ENOMEM;
	kids = (struct trie_node **)(void *)(bytes + bytes_len);
	if (n->nkids) {
		memcpy(kids, n->kids, n->nkids * sizeof(*kids));
		memcpy(bytes, n->kid_bytes, n->nkids);
	}
	memset(bytes + n->nkids, 0, bytes_len - n->nkids);
	trie_kids_free(t, n);
	n->kids = kids;
	n->kid_bytes = bytes;
	n->kids_cap = cap;
	return 0;
}

static int trie_kid_insert(struct trie *t, struct trie_node *parent, uint32_t slot,
			   struct trie_node *kid)
{
	if (parent->nkids == parent->kids_cap &&
	    trie_kids_grow(t, parent, parent->kids_cap ? parent->kids_cap * 2 : 4))
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
	if (trie_kids_grow(t, upper, 2) != 0) {
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

/* Number of leading bytes a and b have in common, at most len. Keys share
 * long segments (dotted names), so whole words are compared while at least
 * eight bytes are left; the byte loop finds the mismatch inside a word. */
static uint32_t trie_common_len(const char *a, const char *b, uint32_t len)
{
	uint32_t i = 0;

	for (; len - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
		uint64_t wa, wb;

		memcpy(&wa, a + i, sizeof(wa));
		memcpy(&wb, b + i, sizeof(wb));
		if (wa != wb)
			break;
	}
	while (i < len && a[i] == b[i])
		i++;
	return i;
}

#define TRIE_ONES 0x0101010101010101ULL
#define TRIE_HIGHS 0x8080808080808080ULL

/* Index of the kid of n starting with byte c, or n->nkids. The first
 * bytes are distinct, so equality is enough to find a kid (only inserting
 * needs the sorted position, trie_kid_slot). Eight bytes are tested at a
 * time: the byte array is padded and initialised to its end
 * (trie_kids_grow), so whole words can be read; a hit past nkids is none. */
static uint32_t trie_kid_find(const struct trie_node *n, char c)
{
	const uint64_t pattern = TRIE_ONES * (unsigned char)c;
	uint32_t i;

	for (i = 0; i < n->nkids; i += sizeof(uint64_t)) {
		uint64_t w, hit;

		memcpy(&w, n->kid_bytes + i, sizeof(w));
		w ^= pattern;
		/* high bit set in the lowest byte that is zero (bytes above
		 * it may be flagged wrongly, never below it) */
		hit = (w - TRIE_ONES) & ~w & TRIE_HIGHS;
		if (hit) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			i += (uint32_t)__builtin_ctzll(hit) / 8;
#else
			while (n->kid_bytes[i] != c)
				i++;
#endif
			return i < n->nkids ? i : n->nkids;
		}
	}
	return n->nkids;
}

struct trie_node *trie_lookup(struct trie *t, const char *key, enum trie_lookup mode)
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

		slot = trie_kid_find(n, *p);
		if (slot == n->nkids) {
			if (mode != TRIE_CREATE)
				return NULL;
			slot = trie_kid_slot(n, *p, &found);
			kid = trie_node_new(t, p, (uint32_t)left);
			if (kid == NULL)
				return NULL;
			if (trie_kid_insert(t, n, slot, kid) != 0) {
				trie_node_free(t, kid);
				return NULL;
			}
			return kid;
		}
		kid = n->kids[slot];
		/* byte 0 matched through kid_bytes */
		m = kid->seg_len < left ? kid->seg_len : (uint32_t)left;
		m = 1 + trie_common_len(kid->seg + 1, p + 1, m - 1);
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

/* Remove n and then its ancestors while they hold nothing any more. */
void trie_prune(struct trie *t, struct trie_node *n)
{
	while (n != &t->root && trie_node_is_empty(n)) {
		struct trie_node *parent = n->parent;

		trie_kid_remove(parent, n);
		trie_node_free(t, n);
		n = parent;
	}
}

void trie_free_subtree(struct trie *t, struct trie_node *n)
{
	uint32_t k;

	for (k = 0; k < n->nkids; k++)
		trie_free_subtree(t, n->kids[k]);
	n->nkids = 0;
	if (n != &t->root)
		trie_node_free(t, n);
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
