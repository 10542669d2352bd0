/*
 * bb_record.h - the blackbox record: one ring chunk per log call, packed,
 * in the writer's byte order (little-endian on every platform we run on):
 *
 *   BB_REC_LINENO    u32 line number
 *   BB_REC_TAGS      u32 tags
 *   BB_REC_PRIO      u8  priority
 *   BB_REC_FN_SIZE   u32 fn_size = strlen(function) + 1
 *   BB_REC_FUNCTION  function name with its NUL (fn_size bytes)
 *   then             struct timespec (i64 sec, i64 nsec), or an i64 time_t
 *                    in old plain ring dumps (BB_REC_TS_SIZE_OLD)
 *   then             u32 msg_len
 *   then             the serialised message, msg_len bytes (serialize.c)
 *
 * The one statement of that layout (and of the dump file's marker), for
 * the writer (blackbox.c), the dump and its reader (blackbox_dump.c) and tools: self-contained, nothing of
 * the library is needed to include it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_LOG_BB_RECORD_H_DEFINED
#define QB_LOG_BB_RECORD_H_DEFINED

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BB_REC_LINENO 0
#define BB_REC_TAGS 4
#define BB_REC_PRIO 8
#define BB_REC_FN_SIZE 9
#define BB_REC_FUNCTION 13
#define BB_REC_TS_SIZE 16    /* struct timespec */
#define BB_REC_TS_SIZE_OLD 8 /* time_t */
/* Bytes of a record other than its function name and message (33). */
#define BB_REC_FIXED (BB_REC_FUNCTION + BB_REC_TS_SIZE + 4)
/* Shortest record a reader looks into: a one-byte function name and
 * message and the old, shorter time. */
#define BB_REC_MIN (BB_REC_FUNCTION + 1 + BB_REC_TS_SIZE_OLD + 4 + 1)

/* A blackbox dump file (qb_log_blackbox_write_to_file) starts with these
 * u32 words, then a ring dump (lib/rb) of records with a struct timespec;
 * a file without them is an old plain ring dump (BB_REC_TS_SIZE_OLD). */
#define BB_DUMP_MARKER_WORDS 5
#define BB_DUMP_MARKER                                                                             \
	{                                                                                          \
		0, 0xCCBBCCBBu, 0xBBCCBBCCu, 2, 0                                                  \
	}

/* Offsets of the fields that follow the function name. */
static inline size_t bb_rec_time_off(uint32_t fn_size)
{
	return BB_REC_FUNCTION + (size_t)fn_size;
}

static inline size_t bb_rec_msg_len_off(uint32_t fn_size, size_t ts_size)
{
	return bb_rec_time_off(fn_size) + ts_size;
}

static inline size_t bb_rec_msg_off(uint32_t fn_size, size_t ts_size)
{
	return bb_rec_msg_len_off(fn_size, ts_size) + 4;
}

static inline void bb_rec_put_u32(void *rec, size_t off, uint32_t v)
{
	memcpy((char *)rec + off, &v, sizeof(v));
}

static inline uint32_t bb_rec_get_u32(const void *rec, size_t off)
{
	uint32_t v;

	memcpy(&v, (const char *)rec + off, sizeof(v));
	return v;
}

/* The fields every record of one call site repeats. */
static inline void bb_rec_put_site(void *rec, uint32_t lineno, uint8_t prio, const char *function,
				   uint32_t fn_size)
{
	bb_rec_put_u32(rec, BB_REC_LINENO, lineno);
	((unsigned char *)rec)[BB_REC_PRIO] = prio;
	bb_rec_put_u32(rec, BB_REC_FN_SIZE, fn_size);
	memcpy((char *)rec + BB_REC_FUNCTION, function, fn_size);
}

static inline void bb_rec_put_time(void *rec, uint32_t fn_size, int64_t sec, int64_t nsec)
{
	char *t = (char *)rec + bb_rec_time_off(fn_size);

	memcpy(t, &sec, sizeof(sec));
	memcpy(t + sizeof(sec), &nsec, sizeof(nsec));
}

/* A record as a reader sees it (pointers into the record's bytes). */
struct bb_rec_fields {
	uint32_t lineno;
	uint32_t tags;
	uint8_t priority;
	uint32_t fn_size;
	const char *function;	   /* fn_size bytes, NUL not guaranteed */
	const unsigned char *time; /* ts_size bytes */
	uint32_t msg_len;
	const char *msg; /* msg_len bytes */
};

enum bb_rec_status {
	BB_REC_OK = 0,
	BB_REC_SHORT,	    /* fewer than BB_REC_MIN bytes */
	BB_REC_FN_TOO_BIG,  /* fn_size runs past the record */
	BB_REC_FN_NEGATIVE, /* fn_size is 0 or, as an int32, negative */
	BB_REC_MSG_BOUNDS,  /* msg_len 0, above msg_max or past the record */
};

/*
 * Splits the len bytes of rec (untrusted) into fields, checking in this
 * order; on an error the fields read so far (fn_size, msg_len) are set.
 */
static inline enum bb_rec_status bb_rec_parse(const void *rec, size_t len, size_t ts_size,
					      uint32_t msg_max, struct bb_rec_fields *f)
{
	const unsigned char *b = (const unsigned char *)rec;

	if (len < BB_REC_MIN) {
		return BB_REC_SHORT;
	}
	f->lineno = bb_rec_get_u32(b, BB_REC_LINENO);
	f->tags = bb_rec_get_u32(b, BB_REC_TAGS);
	f->priority = b[BB_REC_PRIO];
	f->fn_size = bb_rec_get_u32(b, BB_REC_FN_SIZE);
	if ((uint64_t)f->fn_size + BB_REC_FUNCTION + ts_size + 4 > len) {
		return BB_REC_FN_TOO_BIG;
	}
	if ((int32_t)f->fn_size <= 0) {
		return BB_REC_FN_NEGATIVE;
	}
	f->function = (const char *)b + BB_REC_FUNCTION;
	f->time = b + bb_rec_time_off(f->fn_size);
	f->msg_len = bb_rec_get_u32(b, bb_rec_msg_len_off(f->fn_size, ts_size));
	if (f->msg_len == 0 || f->msg_len > msg_max ||
	    (uint64_t)bb_rec_msg_off(f->fn_size, ts_size) + f->msg_len > len) {
		return BB_REC_MSG_BOUNDS;
	}
	f->msg = (const char *)b + bb_rec_msg_off(f->fn_size, ts_size);
	return BB_REC_OK;
}

#endif /* QB_LOG_BB_RECORD_H_DEFINED */
