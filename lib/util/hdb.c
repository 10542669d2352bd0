/*
 * Handle database. Slots live in a qb_array (its layout, struct
 * qb_hdb_handle, is public); a handle is (check << 32) | slot index with
 * check drawn from random().
 *
 * Concurrency: gets and puts only touch the reference count atomically.
 * Claiming a slot (create) and giving it back (last put) are serialised by
 * the lock the slot array carries for its owner, which also guards the
 * count of free slots kept there so creation scans for a recyclable slot
 * only when one exists. Destroying the database and iterating need the
 * caller's serialisation, as in libqb.
 */
#include "config.h"
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <qb/qbatomic.h>
#include <qb/qbhdb.h>
#include "util/util_internal.h"

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

static qb_handle_t handle_make(const struct qb_hdb_handle *slot, uint32_t index)
{
	return ((qb_handle_t)(uint32_t)slot->check << 32) | index;
}

static int32_t slot_state(const struct qb_hdb_handle *slot)
{
	return __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
}

/* first_run while one thread creates the slot table of a static database. */
#define HDB_FIRST_RUN_BUSY 2U

/*
 * Static databases (QB_HDB_DECLARE) get their slot table on first use.
 * Threads may race to that first use: one wins and creates the table, the
 * others wait for it.
 */
static __attribute__((noinline)) void hdb_lazy_init_slow(struct qb_hdb *hdb)
{
	uint32_t expected = QB_TRUE;

	if (__atomic_compare_exchange_n(&hdb->first_run, &expected, HDB_FIRST_RUN_BUSY, QB_FALSE,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		hdb->handles = qb_array_create(HDB_INITIAL_SLOTS, sizeof(struct qb_hdb_handle));
		__atomic_store_n(&hdb->first_run, QB_FALSE, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&hdb->first_run, __ATOMIC_ACQUIRE) == HDB_FIRST_RUN_BUSY) {
		sched_yield();
	}
}

static void hdb_lazy_init(struct qb_hdb *hdb)
{
	if (__atomic_load_n(&hdb->first_run, __ATOMIC_ACQUIRE) != QB_FALSE) {
		hdb_lazy_init_slow(hdb);
	}
}

static struct qb_hdb_handle *slot_at(struct qb_hdb *hdb, uint32_t index)
{
	void *element;

	if (util_array_index(hdb->handles, (int32_t)index, &element) != 0) {
		return NULL;
	}
	return element;
}

/* The live slot a handle names, or NULL when it is unknown or stale. */
static struct qb_hdb_handle *slot_lookup(struct qb_hdb *hdb, qb_handle_t handle)
{
	struct qb_hdb_handle *slot;
	uint32_t check = handle_check(handle);
	uint32_t index = handle_index(handle);

	hdb_lazy_init(hdb);
	if (hdb->handles == NULL ||
	    index >= __atomic_load_n(&hdb->handle_count, __ATOMIC_ACQUIRE)) {
		return NULL;
	}
	slot = slot_at(hdb, index);
	if (slot == NULL || slot_state(slot) == HDB_SLOT_EMPTY) {
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
	hdb->handles = qb_array_create(HDB_INITIAL_SLOTS, sizeof(struct qb_hdb_handle));
}

void qb_hdb_destroy(struct qb_hdb *hdb)
{
	qb_array_free(hdb->handles);
	memset(hdb, 0, sizeof(*hdb));
}

/* With the owner lock held: the lowest free slot, or a new one at the end. */
static int32_t slot_reserve_locked(struct qb_hdb *hdb, size_t *free_slots, uint32_t *index_out)
{
	uint32_t i;
	int32_t rc;

	for (i = 0; *free_slots > 0 && i < hdb->handle_count; i++) {
		const struct qb_hdb_handle *slot = slot_at(hdb, i);

		if (slot != NULL && slot_state(slot) == HDB_SLOT_EMPTY) {
			(*free_slots)--;
			*index_out = i;
			return 0;
		}
	}
	rc = qb_array_grow(hdb->handles, (size_t)hdb->handle_count + 1);
	if (rc != 0) {
		return rc;
	}
	if (slot_at(hdb, hdb->handle_count) == NULL) {
		return -ENOMEM;
	}
	/* Counted at once, even if the caller then fails (as libqb 2.0). */
	*index_out = hdb->handle_count;
	__atomic_store_n(&hdb->handle_count, hdb->handle_count + 1, __ATOMIC_RELEASE);
	return 0;
}

int32_t qb_hdb_handle_create(struct qb_hdb *hdb, int32_t instance_size, qb_handle_t *handle_id_out)
{
	struct util_array_aux *aux;
	struct qb_hdb_handle *slot;
	uint32_t index;
	void *instance;
	int32_t rc;

	hdb_lazy_init(hdb);
	if (hdb->handles == NULL) {
		return -EINVAL;
	}
	aux = util_array_aux(hdb->handles);
	pthread_spin_lock(&aux->lock);
	rc = slot_reserve_locked(hdb, &aux->count, &index);
	if (rc != 0) {
		pthread_spin_unlock(&aux->lock);
		return rc;
	}
	/* libqb reserves the slot, then fails to allocate a negative size. */
	instance = (instance_size >= 0) ? calloc(1, (size_t)instance_size) : NULL;
	if (instance == NULL) {
		aux->count++; /* the slot stays free */
		pthread_spin_unlock(&aux->lock);
		return -ENOMEM;
	}
	slot = slot_at(hdb, index);
	slot->instance = instance;
	slot->check = (int32_t)random();
	slot->ref_count = 1;
	__atomic_store_n(&slot->state, HDB_SLOT_ACTIVE, __ATOMIC_RELEASE);
	pthread_spin_unlock(&aux->lock);
	*handle_id_out = handle_make(slot, index);
	return 0;
}

int32_t qb_hdb_handle_get(struct qb_hdb *hdb, qb_handle_t handle_in, void **instance)
{
	struct qb_hdb_handle *slot = slot_lookup(hdb, handle_in);

	if (slot == NULL || slot_state(slot) != HDB_SLOT_ACTIVE) {
		return -EBADF;
	}
	/* full barriers, as qb_atomic_int_inc() has, without its PLT call */
	__atomic_fetch_add(&slot->ref_count, 1, __ATOMIC_SEQ_CST);
	*instance = slot->instance;
	return 0;
}

int32_t qb_hdb_handle_get_always(struct qb_hdb *hdb, qb_handle_t handle_in, void **instance)
{
	/* libqb 2.0 documents this as an alias of qb_hdb_handle_get(). */
	return qb_hdb_handle_get(hdb, handle_in, instance);
}

/* The last reference is gone: destroy the object and free the slot. */
static void slot_release(struct qb_hdb *hdb, struct qb_hdb_handle *slot)
{
	struct util_array_aux *aux = util_array_aux(hdb->handles);
	void *instance = slot->instance;

	if (hdb->destructor) {
		hdb->destructor(instance);
	}
	pthread_spin_lock(&aux->lock);
	slot->instance = NULL;
	slot->check = 0;
	slot->ref_count = 0;
	__atomic_store_n(&slot->state, HDB_SLOT_EMPTY, __ATOMIC_RELEASE);
	aux->count++;
	pthread_spin_unlock(&aux->lock);
	free(instance);
}

int32_t qb_hdb_handle_put(struct qb_hdb *hdb, qb_handle_t handle_in)
{
	struct qb_hdb_handle *slot = slot_lookup(hdb, handle_in);

	if (slot == NULL) {
		return -EBADF;
	}
	if (__atomic_sub_fetch(&slot->ref_count, 1, __ATOMIC_SEQ_CST) == 0) {
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
	__atomic_store_n(&slot->state, HDB_SLOT_PENDING_REMOVAL, __ATOMIC_RELEASE);
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

int32_t qb_hdb_iterator_next(struct qb_hdb *hdb, void **instance, qb_handle_t *handle)
{
	qb_handle_t candidate;

	hdb_lazy_init(hdb);
	if (hdb->handles == NULL) {
		return -1;
	}
	while (hdb->iterator < hdb->handle_count) {
		uint32_t index = hdb->iterator++;
		const struct qb_hdb_handle *slot = slot_at(hdb, index);

		if (slot == NULL || slot_state(slot) != HDB_SLOT_ACTIVE) {
			continue;
		}
		candidate = handle_make(slot, index);
		if (qb_hdb_handle_get(hdb, candidate, instance) == 0) {
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
