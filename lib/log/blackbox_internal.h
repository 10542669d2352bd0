/*
 * Private declarations shared by the blackbox files of the log module
 * (blackbox.c, blackbox_dump.c, serialize.c, bb_render.c) and the qb-blackbox tool.
 * The log core reaches the blackbox through log_internal.h only.
 */
#ifndef QB_LOG_BLACKBOX_INTERNAL_H_DEFINED
#define QB_LOG_BLACKBOX_INTERNAL_H_DEFINED

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rb/rb_internal.h"
#include "util/util_internal.h"

/* Exported for compatibility; not in any public header. */
ssize_t qb_vsnprintf_serialize(char *serialize, size_t max_len, const char *fmt, va_list ap);
size_t qb_vsnprintf_deserialize(char *string, size_t str_len, const char *buf);

/*
 * A format compiled once for the blackbox writer (serialize.c).  compile
 * returns NULL when out of memory or for formats it leaves to the generic
 * writer; run stores exactly what qb_vsnprintf_serialize() stores for the
 * same format and arguments, and returns the same value.
 */
struct bb_prog;
struct bb_prog *bb_prog_compile(const char *fmt);
ssize_t bb_prog_run(const struct bb_prog *p, char *out, size_t max_len, va_list ap);
/* The stored format (NUL included) run writes first; returns its size. */
size_t bb_prog_stored(const struct bb_prog *p, const char **stored);
/* run, for a caller that already put the stored format at out and checked
 * that it fits (its size <= max_len - 1). */
ssize_t bb_prog_run_values(const struct bb_prog *p, char *out, size_t max_len, va_list ap);
void bb_prog_free(struct bb_prog *p);

/*
 * Bounded reader: turns the serialised message buf (buf_len bytes, from a
 * possibly corrupt file) into text in out (out_len bytes, always
 * NUL-terminated when out_len > 0).  Never reads outside buf.  Returns the
 * text length + 1 (0 when out_len is 0).
 */
size_t bb_msg_render(char *out, size_t out_len, const char *buf, size_t buf_len);

/*
 * Owner record, kept in the ring's shared user area of the -header file
 * (lib/rb places it: rb_header_user and friends read it from an image or a
 * file; the fixed header is unchanged, the user area overlaps its trailing
 * padding exactly as for any libqb ring).
 * It lets a reader tell who wrote a blackbox and whether that process is
 * still alive without trusting the file name:
 *
 *   magic       "QBBBOWN1" (8 bytes, no NUL)
 *   size        sizeof(struct bb_owner), for later growth
 *   seq         record sequence: odd while a record is being written, so
 *               another process (a forked child taking a copy) can tell a
 *               consistent snapshot from a torn one
 *   pid         getpid() of the owner
 *   boot_sec    CLOCK_BOOTTIME seconds at creation, plus 1 (0: not
 *               recorded); the clock /proc/PID/stat start times count in,
 *               so liveness checks do not depend on wall-clock steps
 *   pidns       inode of the owner's /proc/self/ns/pid (0 if unknown)
 *   since_sec   wall-clock time (CLOCK_REALTIME) the owner created the ring
 *   since_nsec
 *   boot_id     /proc/sys/kernel/random/boot_id text, NUL-terminated
 *   ident       the logging ident, NUL-terminated (truncated to fit)
 *
 * Fields other than seq are written by the owner once, at creation.
 * Readers treat the record as untrusted.
 */
#define QB_BB_OWNER_MAGIC "QBBBOWN1"
struct bb_owner {
	char magic[8];
	uint32_t size;
	uint32_t seq;
	int32_t pid;
	uint32_t boot_sec;
	uint64_t pidns;
	int64_t since_sec;
	int64_t since_nsec;
	char boot_id[40];
	char ident[128];
};

/* ---- the one blackbox state of the process ---------------------------- */

struct qb_ringbuffer_s;

struct qb_log_target;

/*
 * writer_lock serialises everything that touches the ring: record writers
 * and the open/close/fork paths.  A dump (signal-safe, so it takes no lock)
 * announces itself in `dumping` and then waits, bounded, for the lock word
 * to be free, unless its own thread is the holder; a writer that took the
 * lock looks at `dumping` and backs off.
 * Both sides' first step is a sequentially consistent read-modify-write, so
 * they cannot both miss each other.
 */
struct bb_state {
	qb_util_word_lock_t writer_lock;
	atomic_int dumping;	      /* number of write_to_file calls copying the ring */
	struct qb_log_target *target; /* our slot, set at open */
	struct qb_ringbuffer_s *rb;   /* NULL: no ring */
	struct bb_owner *owner;	      /* in rb's shared user area */
	size_t size;		      /* ring size the ring was made with */
	int borrowed;		      /* rb is our parent's (we were forked) */
	int remove_at_exit;	      /* rb is a forked child's own: goes at exit() */
	uint32_t fork_write_pt;	      /* parent's write_pt when we were forked */
	int fork_write_pt_set;	      /* ... taken exactly by the fork handler */
	char boot_id[40];	      /* cached boot id text ("" until read) */
	struct bb_cache_entry *cache; /* compiled callsites (writer_lock) */
};

extern struct bb_state bb_global;

/* First 8 hex digits of the boot id (buf >= 9 bytes); "00000000" if unknown. */
void bb_boot_short(char *buf, size_t len);

/* ---- owner liveness (blackbox_owner.c) -------------------------------- */

enum blackbox_owner_state {
	BLACKBOX_OWNER_ALIVE,	   /* the owner (or its pid) may still run */
	BLACKBOX_OWNER_DEAD,	   /* proven gone */
	BLACKBOX_OWNER_OTHER_BOOT, /* written before the last reboot */
	BLACKBOX_OWNER_UNKNOWN,	   /* cannot tell: bad record, other PID namespace,
					   /proc not our namespace's or hiding pids */
};

/*
 * What a liveness check compares a record with: the checking process's
 * PID namespace, boot id, and whether /proc shows that namespace.  Fill it
 * once (blackbox_owner_view_init) and check any number of records.
 */
struct blackbox_owner_view {
	uint64_t pidns;	  /* inode of /proc/self/ns/pid, 0 unknown */
	char boot_id[40]; /* "" unknown */
	int proc_ours;	  /* /proc is our PID namespace's and hides nothing */
	long clk_tck;	  /* sysconf(_SC_CLK_TCK) */
};

void blackbox_owner_view_init(struct blackbox_owner_view *v);

/*
 * State of the owner of record o (untrusted bytes: a copy read from a
 * header file).  DEAD only when the owner is in our PID namespace, /proc is
 * that namespace's, and its pid is gone or now belongs to a process that
 * started after the record was made.  Never DEAD for a record it cannot
 * fully check.
 */
enum blackbox_owner_state blackbox_owner_state(const struct bb_owner *o,
					       const struct blackbox_owner_view *v);

/* ---- the bound on dead blackboxes (blackbox_prune.c) ------------------ */

/* Default number of dead blackboxes of one ident kept; QB_BLACKBOX_KEEP_DEAD
 * in the environment overrides it. */
#define BLACKBOX_KEEP_DEAD_DEFAULT 8

/*
 * Removes the oldest dead blackboxes of ident (this boot, our user, new
 * format only) from /dev/shm beyond the limit.  Returns the number removed
 * or a negative errno when the directory cannot be read.
 */
int blackbox_prune_dead(const char *ident);

/* The ident as it appears in a file name: no '/', bounded length. */
void blackbox_ident_for_name(const char *ident, char *out, size_t len);

/* ---- shared by blackbox.c, blackbox_write.c, blackbox_fork.c --------- */

struct qb_log_callsite;

/* A ring and its owner record. */
struct bb_ring {
	qb_ringbuffer_t *rb;
	struct bb_owner *owner; /* in the ring's user area */
};

struct bb_owner *bb_owner_of(qb_ringbuffer_t *rb) __attribute__((visibility("hidden")));
int32_t bb_ring_create(const char *ident, pid_t pid, size_t size, struct bb_ring *out)
	__attribute__((visibility("hidden")));
/* Installs ring r as the process blackbox (writer_lock held). */
void bb_ring_install(const struct bb_ring *r, size_t size) __attribute__((visibility("hidden")));
/* Forgets the current ring; unlinks its files only when asked. */
void bb_ring_drop(int unlink_files) __attribute__((visibility("hidden")));

/* blackbox_write.c: the target's vlogger, and the record cache */
void bb_vlogger(int32_t pos, struct qb_log_callsite *cs, struct timespec *ts, va_list ap)
	__attribute__((visibility("hidden")));
/* The record of a log call only the blackbox wants, timed here (what
 * bb_vlogger() does, entered from log_blackbox_direct()). */
void bb_record(struct qb_log_callsite *cs, va_list ap) __attribute__((visibility("hidden")));
void bb_cache_flush(void) __attribute__((visibility("hidden")));

/* blackbox_fork.c: once per forked child, kept out of line, off the record path */
__attribute__((noinline, cold)) int bb_take_over(struct qb_log_target *t)
	__attribute__((visibility("hidden")));

/* Takes writer_lock, waiting while a dump copies the ring. */
/* Entered holding the lock while a dump is running. */
__attribute__((noinline)) void bb_lock_slow(void) __attribute__((visibility("hidden")));

static inline void bb_lock(void)
{
	word_lock(&bb_global.writer_lock);
	if (__builtin_expect(atomic_load(&bb_global.dumping), 0)) {
		bb_lock_slow();
	}
}

static inline void bb_unlock(void)
{
	word_unlock(&bb_global.writer_lock);
}

#endif
