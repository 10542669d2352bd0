/*
 * Sizes and offsets of the formats the tests check byte for byte, named after
 * what they are (the spec's ringbuffer.md §1-2 and §7, blackbox.md dump
 * header, ipc.md §3.3).  They are the tests' own statement of the format,
 * built from the system's types, not the library's private headers: a layout
 * change in the library must make a test fail, not move both sides at once.
 */
#ifndef TESTS_FORMAT_SIZES_H
#define TESTS_FORMAT_SIZES_H

#include <limits.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <qb/qbipc_common.h>

/* ---- ring buffer ---------------------------------------------------------- */

/* The shared header file of a ring (x86_64 layout). */
struct test_rb_header {
	uint32_t write_pt;
	uint32_t read_pt;
	uint32_t word_size;
	char hdr_path[PATH_MAX];
	char data_path[PATH_MAX];
	int32_t ref_count;
	sem_t posix_sem;
	char user_data[1];
};

#define RB_HDR_WORD_SIZE_OFF offsetof(struct test_rb_header, word_size)
#define RB_HDR_PATH_OFF offsetof(struct test_rb_header, hdr_path)
#define RB_HDR_DATA_PATH_OFF offsetof(struct test_rb_header, data_path)
#define RB_HDR_REF_COUNT_OFF offsetof(struct test_rb_header, ref_count)
#define RB_HDR_SEM_OFF offsetof(struct test_rb_header, posix_sem)
/* glibc's sem_t keeps its pshared flag (0x80 when shared) after the 64-bit value */
#define GLIBC_SEM_PRIVATE_OFF sizeof(uint64_t)
#define RB_HDR_USER_OFF offsetof(struct test_rb_header, user_data)
/* the header file is this plus the shared user area */
#define RB_HDR_FIXED_SIZE sizeof(struct test_rb_header)

/* a data file holds the largest chunk asked for, its 12-byte margin and 1 */
#define RB_CHUNK_MARGIN 13
#define TEST_PAGE_SIZE ((size_t)sysconf(_SC_PAGESIZE))
#define RB_DATA_SIZE(n)                                                                            \
	((((size_t)(n) + RB_CHUNK_MARGIN + TEST_PAGE_SIZE - 1) / TEST_PAGE_SIZE) * TEST_PAGE_SIZE)

/* a fresh data file starts with this word (a mapping self-test's leftover) */
#define RB_DATA_FRESH_WORD 5

/* a chunk in the data area: size word, magic word, payload padded to words */
#define RB_CHUNK_SIZE_WORD 0
#define RB_CHUNK_MAGIC_WORD 1
#define RB_CHUNK_HEADER_WORDS 2
#define RB_CHUNK_MAGIC_COMMITTED 0xA1A1A1A1u
#define RB_CHUNK_WORDS(len) (RB_CHUNK_HEADER_WORDS + ((len) + 3) / 4)

/* qb_rb_write_to_file: word_size, write_pt, read_pt, version, hash, data */
#define RB_DUMP_HEADER_SIZE (5 * sizeof(uint32_t))
#define RB_DUMP_SIZE(n) (RB_DUMP_HEADER_SIZE + RB_DATA_SIZE(n))

/* ---- blackbox ------------------------------------------------------------- */

/* a blackbox dump: 0, two magic words, version, hash; then the ring dump */
#define BB_DUMP_MARKER_SIZE (5 * sizeof(uint32_t))
#define BB_DUMP_SIZE(n) (BB_DUMP_MARKER_SIZE + RB_DUMP_SIZE(n))

/* a record (packed): line, tags, priority, fn_size, fn, timestamp, msg_len, msg */
#define BB_REC_LINE_OFF 0
#define BB_REC_TAGS_OFF 4
#define BB_REC_PRIO_OFF 8
#define BB_REC_FN_SIZE_OFF 9
#define BB_REC_FN_OFF 13

/* the marker header of a dump: its version says records carry a timespec */
#define BB_DUMP_MAGIC1 0xCCBBCCBBu
#define BB_DUMP_MAGIC2 0xBBCCBBCCu
#define BB_DUMP_VERSION 2

/* ---- IPC handshake -------------------------------------------------------- */

/* The server's reply to a connection request. */
struct test_conn_response {
	struct qb_ipc_response_header hdr;
	int32_t type;
	uint32_t max;
	intptr_t conn;
	char request[PATH_MAX];
	char response[PATH_MAX];
	char event[PATH_MAX];
};

/* a libqb client never asks for a max_msg_size below the reply's size */
#define IPC_CONN_RESPONSE_SIZE ((uint32_t)sizeof(struct test_conn_response))

#endif /* TESTS_FORMAT_SIZES_H */
