/*
 * qbhdb.h - handle database: reference-counted objects named by 64-bit
 * handles.
 *
 * A handle packs a random check value (upper 32 bits) and a slot index
 * (lower 32 bits), so a handle whose object was destroyed, or one made up,
 * is rejected with -EBADF instead of reaching someone else's object.
 * Objects are allocated by the database, zero-filled, and freed (after the
 * optional destructor runs) when the last reference is dropped following
 * qb_hdb_handle_destroy(). Creating, getting, putting and destroying
 * handles may run concurrently from several threads; the iterator, and
 * qb_hdb_create()/qb_hdb_destroy(), need the caller's serialisation.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_HDB_H_DEFINED
#define QB_HDB_H_DEFINED

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#ifdef __cplusplus
extern "C" {
#endif

#include <stdlib.h>
#include <stdint.h>
#include <inttypes.h>
#include <qb/qbarray.h>

/** A handle naming an object in a handle database. */
typedef uint64_t qb_handle_t;

/** printf format for a handle in decimal. */
#define QB_HDB_D_FORMAT "%" PRIu64
/** printf format for a handle in hexadecimal. */
#define QB_HDB_X_FORMAT "%" PRIx64

/** One slot of the database (layout is part of the ABI). */
struct qb_hdb_handle {
	int32_t state;		/**< free, active or pending destruction */
	void *instance;		/**< the object's memory */
	int32_t check;		/**< random value repeated in the handle */
	int32_t ref_count;	/**< references held, including the creator's */
};

/** A handle database (layout is part of the ABI; may be static). */
struct qb_hdb {
	uint32_t handle_count;		/**< slots in use or used so far */
	qb_array_t *handles;		/**< the slots */
	uint32_t iterator;		/**< position of qb_hdb_iterator_next() */
	void (*destructor)(void *);	/**< called on an object before it is freed */
	uint32_t first_run;		/**< true until handles is created */
};

/**
 * Define a static handle database called database_name. The slot storage
 * is created on first use, so no qb_hdb_create() call is needed.
 * @param database_name name of the variable.
 * @param destructor_function called on each object before it is freed
 *        (may be NULL).
 */
#define QB_HDB_DECLARE(database_name, destructor_function)		\
static struct qb_hdb (database_name) = {				\
	.handle_count	= 0,						\
	.handles	= NULL,						\
	.iterator	= 0,						\
	.destructor	= destructor_function,				\
	.first_run	= QB_TRUE					\
};

/**
 * Initialise a database: every field is reset, including the destructor
 * (set it afterwards if one is wanted), and the slot table is allocated.
 * @param hdb the database.
 */
void qb_hdb_create(struct qb_hdb *hdb);

/**
 * Release the slot storage of a database and reset every field (so a
 * later call needs qb_hdb_create() first). Objects still alive are not
 * freed and their handles become invalid.
 * @param hdb the database.
 */
void qb_hdb_destroy(struct qb_hdb *hdb);

/**
 * Allocate a zero-filled object and a handle for it. The caller holds
 * one reference, released by qb_hdb_handle_destroy(). Free slots are
 * reused; the check part of the handle comes from random().
 * @param hdb the database.
 * @param instance_size size in bytes of the object.
 * @param handle_id_out receives the new handle.
 * @return 0 on success; -ENOMEM when memory runs out (or instance_size is
 *         negative); -EINVAL when the database was destroyed and not
 *         created again.
 */
int32_t qb_hdb_handle_create(struct qb_hdb *hdb, int32_t instance_size,
			     qb_handle_t *handle_id_out);

/**
 * Take a reference on the object a handle names.
 * @param hdb the database.
 * @param handle_in the handle.
 * @param instance receives the object's address.
 * @return 0 on success; -EBADF when the handle is unknown, stale or its
 *         object is being destroyed.
 */
int32_t qb_hdb_handle_get(struct qb_hdb *hdb, qb_handle_t handle_in,
			  void **instance);

/**
 * Same as qb_hdb_handle_get() (libqb 2.0 made it an alias; kept for
 * source compatibility).
 * @param hdb the database.
 * @param handle_in the handle.
 * @param instance receives the object's address.
 * @return 0 on success; -EBADF as qb_hdb_handle_get().
 */
int32_t qb_hdb_handle_get_always(struct qb_hdb *hdb, qb_handle_t handle_in,
				 void **instance);

/**
 * Drop a reference taken with qb_hdb_handle_get(). When it was the last
 * one the destructor runs and the object is freed.
 * @param hdb the database.
 * @param handle_in the handle.
 * @return 0 on success; -EBADF when the handle is unknown or stale.
 */
int32_t qb_hdb_handle_put(struct qb_hdb *hdb, qb_handle_t handle_in);

/**
 * Mark an object for destruction and drop one reference (the creator's);
 * the object is freed once every other reference is put. From then on
 * qb_hdb_handle_get() refuses the handle.
 * @param hdb the database.
 * @param handle_in the handle.
 * @return 0 on success; -EBADF when the handle is unknown or stale.
 */
int32_t qb_hdb_handle_destroy(struct qb_hdb *hdb, qb_handle_t handle_in);

/**
 * Number of references held on an object.
 * @param hdb the database.
 * @param handle_in the handle.
 * @return the reference count (> 0), or -EBADF when the handle is
 *         unknown or stale.
 */
int32_t qb_hdb_handle_refcount_get(struct qb_hdb *hdb, qb_handle_t handle_in);

/**
 * Restart iteration over a database from its first slot.
 * @param hdb the database.
 */
void qb_hdb_iterator_reset(struct qb_hdb *hdb);

/**
 * Get the next live object of the database and take a reference on it
 * (put it with qb_hdb_handle_put()).
 * @param hdb the database.
 * @param instance receives the object's address.
 * @param handle receives the object's handle.
 * @return 0 while objects remain, -1 at the end.
 */
int32_t qb_hdb_iterator_next(struct qb_hdb *hdb, void **instance,
			     qb_handle_t *handle);

/**
 * The slot index part of a handle (its low 32 bits).
 * @param handle the handle.
 * @return its index.
 */
uint32_t qb_hdb_base_convert(qb_handle_t handle);

/**
 * Build a handle from a slot index with the "no check" marker, accepted
 * by every call without verifying the random check value.
 * @param handle the slot index.
 * @return the handle.
 */
uint64_t qb_hdb_nocheck_convert(uint32_t handle);

#ifdef __cplusplus
}
#endif

#endif /* QB_HDB_H_DEFINED */
