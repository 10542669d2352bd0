/*
 * Trie internals shared by trie.c (the map operations, iteration,
 * notifications) and trie_node.c (nodes, their child arrays, lookup and
 * pruning, the debug dump). The layout is described in trie.c.
 */
#ifndef QB_TRIE_INTERNAL_H_DEFINED
#define QB_TRIE_INTERNAL_H_DEFINED

#include "map_internal.h"

struct trie_pending {
	struct trie_pending *next;
	const char *key;
	void *value;
};

/* The fields a lookup reads (value, kids, kid_bytes, nkids, seg_len, seg)
 * come last, beside the segment, so a hop touches one or two cache lines
 * of a node rather than three. */
struct trie_node {
	struct trie_node *parent;
	const char *key;
	struct map_notifier_list notifiers;
	struct trie_pending *pending;
	/* times the key was counted in by put() and not yet removed
	 * (several only after puts of NULL values, like upstream) */
	uint32_t puts;
	uint32_t pins;	  /* iterator cursors and callbacks in progress */
	uint32_t anchors; /* prefix iterators rooted here */
	uint32_t kids_cap;
	void *value; /* read by get, so beside the lookup's fields */
	/* one allocation: kid_bytes, then kids_cap kid pointers */
	struct trie_node **kids;
	char *kid_bytes; /* first byte of each kid, same order: searched
				 * without touching the kids themselves;
				 * TRIE_KID_BYTES_PAD more bytes after kids_cap,
				 * and all initialised (values after nkids unused) */
	uint32_t nkids;
	uint32_t seg_len;
	uint32_t seg_cap; /* bytes of seg allocated: a split shortens seg_len */
	char seg[];	  /* this node's key bytes (none for the root) */
};

/* lets the kid search read the byte array a word at a time */
#define TRIE_KID_BYTES_PAD 7

struct trie {
	struct qb_map base;
	size_t nodes;
	struct map_arena arena; /* the nodes and kid arrays */
	struct trie_node root;	/* last: its seg[] is empty */
};

enum trie_lookup {
	TRIE_EXACT,  /* the key must end on a node boundary */
	TRIE_PREFIX, /* ending inside a segment gives that node */
	TRIE_CREATE, /* make the node (splitting segments) if needed */
};

static inline struct trie *to_trie(struct qb_map *m)
{
	return (struct trie *)m;
}

/* Index of the kid of n starting with byte c, or where it would go;
 * *found says which (inserting and removing; lookups use the faster
 * equality search in trie_node.c). */
uint32_t trie_kid_slot(const struct trie_node *n, char c, int *found);

/* The node for key, or NULL (TRIE_CREATE: NULL when out of memory). */
struct trie_node *trie_lookup(struct trie *t, const char *key, enum trie_lookup mode);

/* 1 if n holds nothing any more: no kids, key, pins, anchors, pending
 * events or live notifiers. */
static inline int trie_node_is_empty(const struct trie_node *n)
{
	return n->nkids == 0 && n->puts == 0 && n->value == NULL && n->pins == 0 &&
		n->anchors == 0 && n->pending == NULL &&
		map_notifier_list_idle_empty(&n->notifiers);
}

/* Remove n and then its ancestors while they hold nothing any more
 * (inline check first: most calls find n in use). */
void trie_prune(struct trie *t, struct trie_node *n);

/* Give back n's kid arrays (none after). */
void trie_kids_free(struct trie *t, struct trie_node *n);

/* Free every node below n (and n unless it is the root). */
void trie_free_subtree(struct trie *t, struct trie_node *n);

#endif /* QB_TRIE_INTERNAL_H_DEFINED */
