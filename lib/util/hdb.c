/*
 * Handle database. Slots live in a qb_array (its layout, struct
 * qb_hdb_handle, is public); a handle is (check << 32) | slot index with
 * check drawn from random(). Reference counts change atomically so gets
 * and puts may race with each other; creating handles, destroying the
 * database and iterating need the caller's serialisation.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbatomic.h>
#include <qb/qbhdb.h>

/* Values of struct qb_hdb_handle.state (as stored by libqb 2.0). */
enum hdb_slot_state {
	HDB_SLOT_EMPTY = 0,
	HDB_SLOT_PENDING_REMOVAL = 1,
	HDB_SLOT_ACTIVE = 2,
};

/* Upper half of a handle that skips the check comparison. */
#define HDB_NOCHECK 0xFFFFFFFFU
/* Slots the table starts with; it grows on demand. */
#define HDB_INITIAL_SLOTS 32

static uint32_t handle_index(qb_handle_t handle)
{
	return (uint32_t)(handle & 0xFFFFFFFFU);
}

static uint32_t handle_check(qb_handle_t handle)
{
	return (uint32_t)(handle >> 32);
}

/* Static databases (QB_HDB_DECLARE) get their slot table on first use. */
static void hdb_lazy_init(struct qb_hdb *hdb)
{
	if (hdb->first_run) {
		hdb->handles = qb_array_create(HDB_INITIAL_SLOTS,
					       sizeof(struct qb_hdb_handle));
		hdb->first_run = QB_FALSE;
	}
}

/* The live slot a handle names, or NULL when it is unknown or stale. */
static struct qb_hdb_handle *slot_lookup(struct qb_hdb *hdb, qb_handle_t handle)
{
	struct qb_hdb_handle *slot;
	void *element;
	uint32_t check = handle_check(handle);

	hdb_lazy_init(hdb);
	if (hdb->handles == NULL || handle_index(handle) >= hdb->handle_count) {
		return NULL;
	}
	if (qb_array_index(hdb->handles, (int32_t)handle_index(handle), &element) != 0) {
		return NULL;
	}
	slot = element;
	if (slot->state == HDB_SLOT_EMPTY) {
		return NULL;
	}
	if (check != HDB_NOCHECK && check != (uint32_t)slot->check) {
		return NULL;
	}
	return slot;
}

void qb_hdb_create(struct qb_hdb *hdb)
{
	memset(hdb, 0, sizeof(*hdb));
	hdb->handles = qb_array_create(HDB_INITIAL_SLOTS,
				       sizeof(struct qb_hdb_handle));
}

void qb_hdb_destroy(struct qb_hdb *hdb)
{
	qb_array_free(hdb->handles);
	memset(hdb, 0, sizeof(*hdb));
}

/* A free slot index: a recycled one, or a new one at the end. */
static int32_t slot_reserve(struct qb_hdb *hdb, uint32_t *index_out,
			    struct qb_hdb_handle **slot_out)
{
	void *element;
	uint32_t i;
	int32_t rc;

	for (i = 0; i < hdb->handle_count; i++) {
		if (qb_array_index(hdb->handles, (int32_t)i, &element) == 0 &&
		    ((struct qb_hdb_handle *)element)->state == HDB_SLOT_EMPTY) {
			*index_out = i;
			*slot_out = element;
			return 0;
		}
	}
	rc = qb_array_grow(hdb->handles, (size_t)hdb->handle_count + 1);
	if (rc != 0) {
		return rc;
	}
	rc = qb_array_index(hdb->handles, (int32_t)hdb->handle_count, &element);
	if (rc != 0) {
		return rc;
	}
	/* Counted at once, even if the caller then fails (as libqb 2.0). */
	*index_out = hdb->handle_count++;
	*slot_out = element;
	return 0;
}

int32_t qb_hdb_handle_create(struct qb_hdb *hdb, int32_t instance_size,
			     qb_handle_t *handle_id_out)
{
	struct qb_hdb_handle *slot;
	uint32_t index;
	void *instance;
	int32_t rc;

	hdb_lazy_init(hdb);
	if (hdb->handles == NULL) {
		return -EINVAL;
	}
	rc = slot_reserve(hdb, &index, &slot);
	if (rc != 0) {
		return rc;
	}
	/* A negative size becomes huge and fails like libqb: -ENOMEM. */
	instance = calloc(1, (size_t)instance_size);
	if (instance == NULL) {
		return -ENOMEM;
	}
	slot->instance = instance;
	slot->check = (int32_t)random();
	slot->ref_count = 1;
	slot->state = HDB_SLOT_ACTIVE;
	*handle_id_out = ((qb_handle_t)(uint32_t)slot->check << 32) | index;
	return 0;
}

int32_t qb_hdb_handle_get(struct qb_hdb *hdb, qb_handle_t handle_in,
			  void **instance)
{
	struct qb_hdb_handle *slot = slot_lookup(hdb, handle_in);

	if (slot == NULL || slot->state != HDB_SLOT_ACTIVE) {
		return -EBADF;
	}
	qb_atomic_int_inc(&slot->ref_count);
	*instance = slot->instance;
	return 0;
}

int32_t qb_hdb_handle_get_always(struct qb_hdb *hdb, qb_handle_t handle_in,
				 void **instance)
{
	/* libqb 2.0 documents this as an alias of qb_hdb_handle_get(). */
	return qb_hdb_handle_get(hdb, handle_in, instance);
}

static void slot_release(struct qb_hdb *hdb, struct qb_hdb_handle *slot)
{
	if (hdb->destructor) {
		hdb->destructor(slot->instance);
	}
	free(slot->instance);
	memset(slot, 0, sizeof(*slot));
}

int32_t qb_hdb_handle_put(struct qb_hdb *hdb, qb_handle_t handle_in)
{
	struct qb_hdb_handle *slot = slot_lookup(hdb, handle_in);

	if (slot == NULL) {
		return -EBADF;
	}
	if (qb_atomic_int_dec_and_test(&slot->ref_count)) {
		slot_release(hdb, slot);
	}
	return 0;
}

int32_t qb_hdb_handle_destroy(struct qb_hdb *hdb, qb_handle_t handle_in)
{
	struct qb_hdb_handle *slot = slot_lookup(hdb, handle_in);

	if (slot == NULL) {
		return -EBADF;
	}
	slot->state = HDB_SLOT_PENDING_REMOVAL;
	return qb_hdb_handle_put(hdb, handle_in);
}

int32_t qb_hdb_handle_refcount_get(struct qb_hdb *hdb, qb_handle_t handle_in)
{
	struct qb_hdb_handle *slot = slot_lookup(hdb, handle_in);

	if (slot == NULL) {
		return -EBADF;
	}
	return qb_atomic_int_get(&slot->ref_count);
}

void qb_hdb_iterator_reset(struct qb_hdb *hdb)
{
	hdb->iterator = 0;
}

int32_t qb_hdb_iterator_next(struct qb_hdb *hdb, void **instance,
			     qb_handle_t *handle)
{
	void *element;
	struct qb_hdb_handle *slot;
	qb_handle_t candidate;

	hdb_lazy_init(hdb);
	if (hdb->handles == NULL) {
		return -1;
	}
	while (hdb->iterator < hdb->handle_count) {
		uint32_t index = hdb->iterator++;

		if (qb_array_index(hdb->handles, (int32_t)index, &element) != 0) {
			continue;
		}
		slot = element;
		candidate = ((qb_handle_t)(uint32_t)slot->check << 32) | index;
		if (slot->state == HDB_SLOT_ACTIVE &&
		    qb_hdb_handle_get(hdb, candidate, instance) == 0) {
			*handle = candidate;
			return 0;
		}
	}
	return -1;
}

uint32_t qb_hdb_base_convert(qb_handle_t handle)
{
	return handle_index(handle);
}

uint64_t qb_hdb_nocheck_convert(uint32_t handle)
{
	return ((uint64_t)HDB_NOCHECK << 32) | handle;
}
