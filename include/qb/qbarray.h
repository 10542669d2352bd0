/*
 * qbarray.h - a growable array of fixed-size elements.
 *
 * Elements live in bins that are allocated on demand, so growing the
 * array never moves elements already handed out: a pointer returned by
 * qb_array_index() stays valid until qb_array_free(). Newly allocated
 * elements are zero-filled. Indexing and growing are thread safe (like
 * libqb, which takes a spinlock); qb_array_free() must not race.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_ARRAY_H_DEFINED
#define QB_ARRAY_H_DEFINED

#include <stdint.h>
#include <unistd.h>
#include <qb/qbdefs.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Number of bits an array index may use. */
#define QB_ARRAY_MAX_INDEX_BITS 16
/** Largest number of elements an array can hold. */
#define QB_ARRAY_MAX_ELEMENTS (1 << QB_ARRAY_MAX_INDEX_BITS)

struct qb_array;
/** Opaque array handle. */
typedef struct qb_array qb_array_t;

/**
 * Create an array.
 * @param max_elements initial capacity (at most QB_ARRAY_MAX_ELEMENTS).
 * @param element_size size in bytes of one element (greater than 0).
 * @return the new array, or NULL with errno set (EINVAL, ENOMEM).
 */
qb_array_t *qb_array_create(size_t max_elements, size_t element_size);

/**
 * Create an array that may grow by itself.
 * @param max_elements initial capacity (at most QB_ARRAY_MAX_ELEMENTS).
 * @param element_size size in bytes of one element (greater than 0).
 * @param autogrow_elements 0 for a fixed capacity; 1 to 16 (the elements
 *        of one bin) to let qb_array_index() beyond the capacity grow the
 *        array up to that index instead of failing.
 * @return the new array, or NULL with errno set: EINVAL for a zero
 *         element_size, a capacity above QB_ARRAY_MAX_ELEMENTS or
 *         autogrow_elements above 16; ENOMEM.
 */
qb_array_t *qb_array_create_2(size_t max_elements, size_t element_size,
			      size_t autogrow_elements);

/**
 * Get a pointer to element idx.
 * @param a the array.
 * @param idx index of the element, from 0.
 * @param element_out receives the element's address.
 * @return 0 on success; -EINVAL when a or element_out is NULL, or when
 *         a growing array would exceed QB_ARRAY_MAX_ELEMENTS; -ERANGE when
 *         idx is negative or beyond the capacity of a fixed array; -ENOMEM
 *         when a bin cannot be allocated.
 */
int32_t qb_array_index(qb_array_t *a, int32_t idx, void **element_out);

/**
 * Grow the capacity of an array. Existing elements do not move.
 * @param a the array.
 * @param max_elements new capacity; smaller than the current one is a no-op.
 * @return 0 on success; -EINVAL when a is NULL or max_elements is beyond
 *         QB_ARRAY_MAX_ELEMENTS; -ENOMEM when memory runs out.
 */
int32_t qb_array_grow(qb_array_t *a, size_t max_elements);

/**
 * Number of bins the array currently has room for.
 * @param a the array.
 * @return the number of bins, or (size_t)-EINVAL when a is NULL.
 */
size_t qb_array_num_bins_get(qb_array_t *a);

/**
 * Number of elements each bin holds.
 * @param a the array.
 * @return elements per bin, or (size_t)-EINVAL when a is NULL.
 */
size_t qb_array_elems_per_bin_get(qb_array_t *a);

/**
 * Callback told about every bin the array allocates.
 * @param a the array.
 * @param bin index of the bin just allocated.
 */
typedef void (*qb_array_new_bin_cb_fn)(qb_array_t *a, uint32_t bin);

/**
 * Register the callback called each time a new bin is allocated.
 * @param a the array.
 * @param fn the callback (NULL to stop being told).
 * @return 0, or -EINVAL when a is NULL.
 */
int32_t qb_array_new_bin_cb_set(qb_array_t *a, qb_array_new_bin_cb_fn fn);

/**
 * Free an array and all its elements.
 * @param a the array (NULL is ignored here; libqb 2.0 crashes on it).
 */
void qb_array_free(qb_array_t *a);

#ifdef __cplusplus
}
#endif

#endif /* QB_ARRAY_H_DEFINED */
