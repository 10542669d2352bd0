/*
 * qb_array: elements stored in bins of QB_ARRAY_BIN_ELEMENTS, each bin
 * allocated (zero-filled) the first time one of its elements is indexed,
 * so element addresses never change. The capacity (max_elements) bounds
 * valid indexes; the bin table may be a little larger than needed, sized
 * the way libqb 2.0 sizes it so qb_array_num_bins_get() agrees.
 *
 * Like libqb's, arrays are safe to index and grow from several threads: a
 * private spinlock serialises growing and bin allocation. Indexing an
 * element whose bin exists takes no lock (the handle database does two
 * per get and put): the bin table is replaced, never reallocated in place,
 * and a replaced table stays readable until qb_array_free(), so a reader
 * holding an old one still finds the same bins. Tables double, so the old
 * ones add up to less than the live one. Element contents are the
 * caller's business.
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbarray.h>
#include "util/util_internal.h"

#define QB_ARRAY_BIN_ELEMENTS 16
#define QB_ARRAY_MAX_BINS (QB_ARRAY_MAX_ELEMENTS / QB_ARRAY_BIN_ELEMENTS)

/* Bin pointers; once a bin is set it never changes. */
struct bin_table {
	struct bin_table *older; /* the table this one replaced */
	size_t cap;
	void *bin[];
};

struct qb_array {
	size_t max_elements; /* indexes below this are valid */
	size_t element_size;
	size_t autogrow_elements; /* non-zero: indexing past the end grows */
	size_t num_bins;	  /* the bin count libqb reports (<= table->cap) */
	struct bin_table *table;
	qb_array_new_bin_cb_fn new_bin_cb;
	struct util_array_aux aux; /* the owner's lock and counter */
	pthread_spinlock_t lock;   /* serialises growing and bin allocation */
};

/* Bins needed to hold elements [0, max_elements] (one spare element). */
static size_t bins_for(size_t max_elements)
{
	return max_elements / QB_ARRAY_BIN_ELEMENTS + 1;
}

/* With the lock held (or before the array is shared): num_bins bins. */
static int32_t bin_table_resize(struct qb_array *a, size_t num_bins)
{
	struct bin_table *old = a->table;
	struct bin_table *t;
	size_t cap;

	if (old && num_bins <= old->cap) {
		a->num_bins = num_bins;
		return 0;
	}
	cap = old ? QB_MAX(num_bins, 2 * old->cap) : num_bins;
	t = calloc(1, sizeof(*t) + cap * sizeof(t->bin[0]));
	if (t == NULL) {
		return -ENOMEM;
	}
	t->cap = cap;
	t->older = old;
	if (old) {
		memcpy(t->bin, old->bin, a->num_bins * sizeof(t->bin[0]));
	}
	__atomic_store_n(&a->table, t, __ATOMIC_RELEASE);
	a->num_bins = num_bins;
	return 0;
}

qb_array_t *qb_array_create_2(size_t max_elements, size_t element_size, size_t autogrow_elements)
{
	struct qb_array *a;
	size_t num_bins;

	if (element_size == 0 || max_elements > QB_ARRAY_MAX_ELEMENTS ||
	    autogrow_elements > QB_ARRAY_BIN_ELEMENTS) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_spin_init(&a->lock, PTHREAD_PROCESS_PRIVATE);
	pthread_spin_init(&a->aux.lock, PTHREAD_PROCESS_PRIVATE);
	a->max_elements = max_elements;
	a->element_size = element_size;
	a->autogrow_elements = autogrow_elements;
	num_bins = QB_MIN(bins_for(max_elements), (size_t)QB_ARRAY_MAX_BINS);
	if (bin_table_resize(a, num_bins) != 0) {
		pthread_spin_destroy(&a->aux.lock);
		pthread_spin_destroy(&a->lock);
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

qb_array_t *qb_array_create(size_t max_elements, size_t element_size)
{
	return qb_array_create_2(max_elements, element_size, 0);
}

/* Grow with the lock held. */
static int32_t grow_locked(struct qb_array *a, size_t max_elements)
{
	size_t needed;

	if (max_elements > QB_ARRAY_MAX_ELEMENTS) {
		return -EINVAL;
	}
	needed = bins_for(max_elements);
	if (needed > a->num_bins) {
		/* One bin of headroom, as libqb 2.0 does. */
		int32_t rc = bin_table_resize(a, QB_MIN(needed + 1, (size_t)QB_ARRAY_MAX_BINS + 1));
		if (rc != 0) {
			return rc;
		}
	}
	if (max_elements > a->max_elements) {
		/* after the table: a lock-free reader seeing the new bound
		 * sees a table that covers it */
		__atomic_store_n(&a->max_elements, max_elements, __ATOMIC_RELEASE);
	}
	return 0;
}

int32_t qb_array_grow(qb_array_t *a, size_t max_elements)
{
	int32_t rc;

	if (a == NULL) {
		return -EINVAL;
	}
	pthread_spin_lock(&a->lock);
	rc = grow_locked(a, max_elements);
	pthread_spin_unlock(&a->lock);
	return rc;
}

/* Find (allocating its bin if needed) element idx, with the lock held. */
static int32_t index_locked(struct qb_array *a, size_t idx, void **element_out, int *new_bin)
{
	size_t bin = idx / QB_ARRAY_BIN_ELEMENTS;

	if (idx >= a->max_elements) {
		int32_t rc;

		if (a->autogrow_elements == 0) {
			return -ERANGE;
		}
		rc = grow_locked(a, idx + 1);
		if (rc != 0) {
			return rc;
		}
	}
	if (a->table->bin[bin] == NULL) {
		void *b = calloc(QB_ARRAY_BIN_ELEMENTS, a->element_size);

		if (b == NULL) {
			return -ENOMEM;
		}
		__atomic_store_n(&a->table->bin[bin], b, __ATOMIC_RELEASE);
		*new_bin = QB_TRUE;
	}
	*element_out = (char *)a->table->bin[bin] + (idx % QB_ARRAY_BIN_ELEMENTS) * a->element_size;
	return 0;
}

/* Element idx without the lock when its bin exists, else NULL. */
static void *index_existing(struct qb_array *a, size_t idx)
{
	const struct bin_table *t;
	size_t bin = idx / QB_ARRAY_BIN_ELEMENTS;
	char *b;

	if (idx >= __atomic_load_n(&a->max_elements, __ATOMIC_ACQUIRE)) {
		return NULL;
	}
	t = __atomic_load_n(&a->table, __ATOMIC_ACQUIRE);
	if (bin >= t->cap) {
		return NULL;
	}
	b = __atomic_load_n(&t->bin[bin], __ATOMIC_ACQUIRE);
	return b ? b + (idx % QB_ARRAY_BIN_ELEMENTS) * a->element_size : NULL;
}

/* The locked path: allocating a bin or growing (autogrow). */
static __attribute__((noinline)) int32_t index_slow(struct qb_array *a, size_t idx,
						    void **element_out)
{
	int new_bin = QB_FALSE;
	qb_array_new_bin_cb_fn cb;
	int32_t rc;

	pthread_spin_lock(&a->lock);
	rc = index_locked(a, idx, element_out, &new_bin);
	cb = a->new_bin_cb;
	pthread_spin_unlock(&a->lock);
	/* Outside the lock, so the callback may use the array. */
	if (new_bin && cb) {
		cb(a, (uint32_t)(idx / QB_ARRAY_BIN_ELEMENTS));
	}
	return rc;
}

int32_t util_array_index(qb_array_t *a, int32_t idx, void **element_out)
{
	void *element;

	if (a == NULL || element_out == NULL) {
		return -EINVAL;
	}
	if (idx < 0) {
		return -ERANGE;
	}
	element = index_existing(a, (size_t)idx);
	if (element == NULL) {
		return index_slow(a, (size_t)idx, element_out);
	}
	*element_out = element;
	return 0;
}

int32_t qb_array_index(qb_array_t *a, int32_t idx, void **element_out)
{
	return util_array_index(a, idx, element_out);
}

struct util_array_aux *util_array_aux(qb_array_t *a)
{
	return &a->aux;
}

size_t qb_array_num_bins_get(qb_array_t *a)
{
	size_t n;

	if (a == NULL) {
		return (size_t)-EINVAL;
	}
	pthread_spin_lock(&a->lock);
	n = a->num_bins;
	pthread_spin_unlock(&a->lock);
	return n;
}

/* cppcheck-suppress constParameter ; the signature is ABI */
size_t qb_array_elems_per_bin_get(qb_array_t *a)
{
	if (a == NULL) {
		return (size_t)-EINVAL;
	}
	return QB_ARRAY_BIN_ELEMENTS;
}

int32_t qb_array_new_bin_cb_set(qb_array_t *a, qb_array_new_bin_cb_fn fn)
{
	if (a == NULL) {
		return -EINVAL;
	}
	a->new_bin_cb = fn;
	return 0;
}

void qb_array_free(qb_array_t *a)
{
	size_t i;

	if (a == NULL) {
		return;
	}
	for (i = 0; i < a->num_bins; i++) {
		free(a->table->bin[i]);
	}
	while (a->table) {
		struct bin_table *older = a->table->older;

		free(a->table);
		a->table = older;
	}
	pthread_spin_destroy(&a->aux.lock);
	pthread_spin_destroy(&a->lock);
	free(a);
}
