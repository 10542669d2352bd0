/*
 * qblist.h - intrusive, circular, doubly linked lists.
 *
 * A list is a struct qb_list_head used as the anchor; each element embeds
 * its own struct qb_list_head and is found again from it with
 * qb_list_entry(). Everything here is inline: there is no library code
 * behind this header. None of these helpers lock; callers serialise access.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_LIST_H_DEFINED
#define QB_LIST_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <stdint.h>
#include <stddef.h>
#include <qb/qbdefs.h>

/**
 * Link node of a list. The same type serves as the anchor of a list and
 * as the member embedded in every element.
 */
struct qb_list_head {
	struct qb_list_head *next;	/**< following node (anchor at the end) */
	struct qb_list_head *prev;	/**< preceding node (anchor at the start) */
};

/** Define and statically initialise an empty list anchor called name. */
#define QB_LIST_DECLARE(name) \
	struct qb_list_head name = { &(name), &(name) }

/** Make the anchor at ptr an empty list (statement form of qb_list_init()). */
#define QB_INIT_LIST_HEAD(ptr) do {		\
	(ptr)->next = (ptr);			\
	(ptr)->prev = (ptr);			\
} while (0)

/**
 * Make head an empty list.
 * @param head anchor to initialise; any previous content is forgotten.
 */
static inline void qb_list_init(struct qb_list_head *head)
{
	head->prev = head;
	head->next = head;
}

/* Link element between two adjacent nodes before and after. */
static inline void qb_list_link_between_(struct qb_list_head *element,
					 struct qb_list_head *before,
					 struct qb_list_head *after)
{
	element->prev = before;
	element->next = after;
	after->prev = element;
	before->next = element;
}

/**
 * Insert element at the front of the list (stack order).
 * @param element node to insert; must not be on a list.
 * @param head anchor of the list.
 */
static inline void qb_list_add(struct qb_list_head *element,
			       struct qb_list_head *head)
{
	qb_list_link_between_(element, head, head->next);
}

/**
 * Append element at the end of the list (queue order).
 * @param element node to insert; must not be on a list.
 * @param head anchor of the list.
 */
static inline void qb_list_add_tail(struct qb_list_head *element,
				    struct qb_list_head *head)
{
	qb_list_link_between_(element, head->prev, head);
}

/**
 * Unlink a node from the list it is on.
 * The node's own pointers are left as they were, so the node must be
 * re-initialised or re-added before it is used as a list again.
 * @param _remove node to unlink.
 */
static inline void qb_list_del(struct qb_list_head *_remove)
{
	struct qb_list_head *before = _remove->prev;
	struct qb_list_head *after = _remove->next;

	before->next = after;
	after->prev = before;
}

/**
 * Put new_one in the place old_one has on its list.
 * old_one's own pointers are left untouched.
 * @param old_one node currently on a list.
 * @param new_one node that takes its place.
 */
static inline void qb_list_replace(struct qb_list_head *old_one,
				   struct qb_list_head *new_one)
{
	qb_list_link_between_(new_one, old_one->prev, old_one->next);
}

/**
 * Tell whether a node is the last one of the list.
 * @param list node to test.
 * @param head anchor of the list.
 * @return non-zero when list is followed by the anchor.
 */
static inline int qb_list_is_last(const struct qb_list_head *list,
				  const struct qb_list_head *head)
{
	return list->next == head;
}

/**
 * Tell whether a list has no elements.
 * @param head anchor of the list.
 * @return non-zero when empty.
 */
static inline int32_t qb_list_empty(const struct qb_list_head *head)
{
	return head->next == head;
}

/**
 * Move every element of list to the front of head, keeping their order.
 * The anchor list itself is not re-initialised: call qb_list_init() on it
 * before using it again.
 * @param list anchor whose elements are moved.
 * @param head anchor receiving them.
 */
static inline void qb_list_splice(struct qb_list_head *list,
				  struct qb_list_head *head)
{
	struct qb_list_head *first, *last, *old_first;

	if (qb_list_empty(list)) {
		return;
	}
	first = list->next;
	last = list->prev;
	old_first = head->next;
	head->next = first;
	first->prev = head;
	last->next = old_first;
	old_first->prev = last;
}

/**
 * Move every element of list to the end of head, keeping their order.
 * As with qb_list_splice(), list must be re-initialised before reuse.
 * @param list anchor whose elements are moved.
 * @param head anchor receiving them.
 */
static inline void qb_list_splice_tail(struct qb_list_head *list,
				       struct qb_list_head *head)
{
	struct qb_list_head *first, *last, *old_last;

	if (qb_list_empty(list)) {
		return;
	}
	first = list->next;
	last = list->prev;
	old_last = head->prev;
	old_last->next = first;
	first->prev = old_last;
	last->next = head;
	head->prev = last;
}

/**
 * From a pointer to the embedded node, get the enclosing element.
 * @param ptr pointer to the struct qb_list_head member.
 * @param type type of the enclosing struct.
 * @param member name of the node member inside type.
 */
#define qb_list_entry(ptr, type, member) ({				\
	((type *)((char *)(ptr) - offsetof(type, member))); })

/** The first element of a non-empty list (see qb_list_entry()). */
#define qb_list_first_entry(ptr, type, member) \
	qb_list_entry((ptr)->next, type, member)

/** Walk the nodes of head front to back; pos is a struct qb_list_head *. */
#define qb_list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/** Walk the nodes of head back to front. */
#define qb_list_for_each_reverse(pos, head) \
	for ((pos) = (head)->prev; (pos) != (head); (pos) = (pos)->prev)

/** Walk the nodes front to back; pos may be unlinked inside the loop. */
#define qb_list_for_each_safe(pos, n, head)				\
	for ((pos) = (head)->next, (n) = (pos)->next; (pos) != (head);	\
	     (pos) = (n), (n) = (pos)->next)

/** Walk the elements (typed pointers) of head front to back. */
#define qb_list_for_each_entry(pos, head, member)			\
	for ((pos) = qb_list_entry((head)->next, typeof(*(pos)), member); \
	     &(pos)->member != (head);					\
	     (pos) = qb_list_entry((pos)->member.next, typeof(*(pos)), member))

/** Walk the elements of head back to front. */
#define qb_list_for_each_entry_reverse(pos, head, member)		\
	for ((pos) = qb_list_entry((head)->prev, typeof(*(pos)), member); \
	     &(pos)->member != (head);					\
	     (pos) = qb_list_entry((pos)->member.prev, typeof(*(pos)), member))

/** Walk the elements front to back; pos may be removed inside the loop. */
#define qb_list_for_each_entry_safe(pos, n, head, member)		\
	for ((pos) = qb_list_entry((head)->next, typeof(*(pos)), member), \
	     (n) = qb_list_entry((pos)->member.next, typeof(*(pos)), member); \
	     &(pos)->member != (head);					\
	     (pos) = (n),						\
	     (n) = qb_list_entry((n)->member.next, typeof(*(n)), member))

/** Walk the elements back to front; pos may be removed inside the loop. */
#define qb_list_for_each_entry_safe_reverse(pos, n, head, member)	\
	for ((pos) = qb_list_entry((head)->prev, typeof(*(pos)), member), \
	     (n) = qb_list_entry((pos)->member.prev, typeof(*(pos)), member); \
	     &(pos)->member != (head);					\
	     (pos) = (n),						\
	     (n) = qb_list_entry((n)->member.prev, typeof(*(n)), member))

/** Continue a walk from the element pos (inclusive) to the end. */
#define qb_list_for_each_entry_from(pos, head, member)			\
	for (; &(pos)->member != (head);				\
	     (pos) = qb_list_entry((pos)->member.next, typeof(*(pos)), member))

/**
 * Count the elements of a list (walks the whole list).
 * @param head anchor of the list.
 * @return number of elements.
 */
static inline int32_t qb_list_length(struct qb_list_head *head)
{
	const struct qb_list_head *node;
	int32_t count = 0;

	for (node = head->next; node != head; node = node->next) {
		count++;
	}
	return count;
}

#ifdef __cplusplus
}
#endif

#endif /* QB_LIST_H_DEFINED */
