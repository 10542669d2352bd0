/*
 * The blackbox log target: an in-memory flight recorder kept in a shared
 * memory ring, so the last messages survive a crash of the process and can
 * be read from /dev/shm or dumped with qb_log_blackbox_write_to_file().
 *
 * One ring chunk per log call holds the call site, the time and the
 * serialised arguments (record layout in bb_record.h); no text is
 * formatted while the program runs.
 *
 * Naming (PID-safe): /dev/shm/qb-<ident>-<pid>-<boot>-<nonce>-blackbox-
 * {header,data}, <boot> being the first 8 hex digits of the boot id and
 * <nonce> 16 random hex digits; files are created exclusively, so a process
 * never opens, truncates or removes a blackbox it did not create, whatever
 * pid it got.  The ring's shared user area holds an owner record
 * (struct qb_log_blackbox_owner) so tools can tell who wrote it.
 *
 * Threads: any number of threads may log at once.  Writers are serialised
 * by writer_lock, held only while one record is copied into the ring; that
 * lock's single atomic operation is also what keeps writers out of the ring
 * while qb_log_blackbox_write_to_file() copies it (blackbox_internal.h).
 *
 * fork: the ring is a shared mapping, so a child must not write into its
 * parent's ring, nor remove its files.  The fork handler (or
 * qb_log_reflect_pid() for raw clone() users) only marks the inherited ring
 * as borrowed.  The child's first log call then moves it to a new ring named
 * after the child's pid, starting with a copy of the parent's records up to
 * the fork.  A child that execs or exits without logging thus creates no
 * file at all; until it logs, a dump shows the parent's records.
 *
 * Lifetime: closing the target (qb_log_fini, disabling) removes the
 * process's own ring, as libqb does.  A child's ring also goes when the
 * child ends normally (bb_at_exit); after _exit() or a crash it stays, and
 * every new ring removes the oldest dead ones of its ident beyond a limit
 * (blackbox_prune.c, liveness in blackbox_owner.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbrb.h>

#include "log/log_internal.h"
#include "log/blackbox_internal.h"
#include "log/bb_record.h"
#include "util/util_internal.h"
#include "rb/rb_internal.h"

struct qb_log_blackbox_state qb_log_bb = {
	.writer_lock = QB_UTIL_WORD_LOCK_INIT,
};

/* Smallest ring the target accepts (as libqb). */
#define BB_MIN_SIZE 1024
/* Longest ident that goes into a file name. */
#define BB_IDENT_MAX 100
#define BB_TOO_LONG_LIMIT 512

/* ------------------------------------------------------- identity bits */

static const char *bb_boot_id(void)
{
	char buf[64];
	ssize_t n;
	int fd;

	if (qb_log_bb.boot_id[0] != '\0') {
		return qb_log_bb.boot_id;
	}
	fd = qb_util_fd_hygiene(open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
	if (fd < 0) {
		return "";
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return "";
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	n = (ssize_t)strnlen(buf, sizeof(qb_log_bb.boot_id) - 1);
	memcpy(qb_log_bb.boot_id, buf, (size_t)n);
	qb_log_bb.boot_id[n] = '\0';
	return qb_log_bb.boot_id;
}

void qb_log_blackbox_boot_short(char *buf, size_t len)
{
	const char *id = bb_boot_id();
	size_t i;

	if (len < 9) {
		if (len > 0) {
			buf[0] = '\0';
		}
		return;
	}
	for (i = 0; i < 8; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			break;
		}
		buf[i] = c;
	}
	if (i < 8) {
		memcpy(buf, "00000000", 8);
	}
	buf[8] = '\0';
}

void blackbox_ident_for_name(const char *ident, char *out, size_t len)
{
	size_t i;

	if (ident == NULL || ident[0] == '\0') {
		ident = "qb";
	}
	for (i = 0; i < len - 1 && i < BB_IDENT_MAX && ident[i] != '\0'; i++) {
		out[i] = (ident[i] == '/') ? '_' : ident[i];
	}
	out[i] = '\0';
}

static struct qb_log_blackbox_owner *bb_owner(qb_ringbuffer_t *rb)
{
	return qb_rb_shared_user_data_get(rb);
}

static void bb_owner_fill(struct qb_log_blackbox_owner *o, const char *ident, pid_t pid)
{
	struct timespec now;
	struct stat st;

	memset(o, 0, sizeof(*o));
	memcpy(o->magic, QB_BB_OWNER_MAGIC, sizeof(o->magic));
	o->size = sizeof(*o);
	o->pid = pid;
	if (clock_gettime(CLOCK_BOOTTIME, &now) == 0 && now.tv_sec >= 0 &&
	    now.tv_sec < UINT32_MAX) {
		o->boot_sec = (uint32_t)now.tv_sec + 1;
	}
	if (stat("/proc/self/ns/pid", &st) == 0) {
		o->pidns = (uint64_t)st.st_ino;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	o->since_sec = now.tv_sec;
	o->since_nsec = now.tv_nsec;
	snprintf(o->boot_id, sizeof(o->boot_id), "%s", bb_boot_id());
	snprintf(o->ident, sizeof(o->ident), "%s", ident ? ident : "");
}

/* ---------------------------------------------------------- the rings */

struct bb_ring {
	qb_ringbuffer_t *rb;
	struct qb_log_blackbox_owner *owner; /* in the ring's user area */
};

static int32_t bb_ring_create(const char *ident, pid_t pid, size_t size, struct bb_ring *out)
{
	char name_ident[BB_IDENT_MAX + 1];
	char prefix[BB_IDENT_MAX + 48];
	char boot[9];
	qb_ringbuffer_t *rb = NULL;
	int32_t rc;

	blackbox_ident_for_name(ident, name_ident, sizeof(name_ident));
	qb_log_blackbox_boot_short(boot, sizeof(boot));
	snprintf(prefix, sizeof(prefix), "%s-%d-%s", name_ident, (int)pid, boot);
	rc = rb_open_unique(prefix, "blackbox", size, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE,
			    sizeof(struct qb_log_blackbox_owner), &rb);
	if (rc < 0) {
		return rc;
	}
	if (rb == NULL || qb_rb_shared_user_data_get(rb) == NULL) {
		qb_rb_close(rb);
		return -ENOMEM;
	}
	out->rb = rb;
	out->owner = bb_owner(rb);
	bb_owner_fill(out->owner, ident, pid);
	return 0;
}

/* Installs ring r as the process blackbox (writer_lock held). */
static void bb_ring_install(const struct bb_ring *r, size_t size)
{
	qb_log_bb.owner = r->owner;
	qb_log_bb.rb = r->rb;
	qb_log_bb.size = size;
}

/* Forgets the current ring; unlinks its files only when asked. */
static void bb_ring_drop(int unlink_files)
{
	qb_ringbuffer_t *rb = qb_log_bb.rb;

	/* hide it from write_to_file first */
	qb_log_bb.rb = NULL;
	qb_log_bb.owner = NULL;
	while (atomic_load(&qb_log_bb.dumping)) {
		sched_yield(); /* a dump may still read the old mapping */
	}
	if (rb == NULL) {
		return;
	}
	if (unlink_files) {
		qb_rb_close(rb);
	} else {
		qb_rb_close_helper(rb, 0, 0);
	}
}

/* ------------------------------------------------------------- writing */

static uint32_t *bb_seq(void)
{
	return &qb_log_bb.owner->seq;
}

/* Takes writer_lock, waiting while a dump copies the ring. */
/* Entered holding the lock while a dump is running. */
static __attribute__((noinline)) void bb_lock_slow(void)
{
	for (;;) {
		/* let the dump, which waits for the lock word, go first */
		qb_util_word_unlock(&qb_log_bb.writer_lock);
		while (atomic_load(&qb_log_bb.dumping)) {
			sched_yield();
		}
		qb_util_word_lock(&qb_log_bb.writer_lock);
		if (!atomic_load(&qb_log_bb.dumping)) {
			return;
		}
	}
}

static inline void bb_lock(void)
{
	qb_util_word_lock(&qb_log_bb.writer_lock);
	if (__builtin_expect(atomic_load(&qb_log_bb.dumping), 0)) {
		bb_lock_slow();
	}
}

static void bb_unlock(void)
{
	qb_util_word_unlock(&qb_log_bb.writer_lock);
}

/*
 * seq is odd while a record is written, for readers in other processes (a
 * forked child taking a copy, qb-blackbox on a live file).  Only writers,
 * serialised by writer_lock, change it; the release fence keeps the record's
 * stores from becoming visible before the odd value.
 */
static void bb_seq_begin(void)
{
	uint32_t *seq = bb_seq();

	__atomic_store_n(seq, (__atomic_load_n(seq, __ATOMIC_RELAXED) | 1u), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void bb_seq_end(void)
{
	uint32_t *seq = bb_seq();

	__atomic_store_n(seq, __atomic_load_n(seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

static ssize_t bb_serialize(char *out, size_t max_len, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(out, max_len, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Per-callsite cache of what every record of a callsite repeats: the
 * function name length and the compiled format.  Callsites live until
 * qb_log_fini(), which closes the blackbox first; the cache is emptied on
 * every open and close, and an entry is refilled if its callsite's strings
 * moved.  Only writer_lock holders touch it.
 */
#define BB_CACHE_BITS 10
#define BB_CACHE_SIZE (1U << BB_CACHE_BITS)
#define BB_CACHE_PROBES 8

struct qb_log_bb_cache_entry {
	const struct qb_log_callsite *cs;
	const char *format;
	const char *function;
	uint32_t fn_size;
	struct qb_log_bb_prog *prog; /* NULL: use the generic writer */
	/*
	 * With a prog: the record's first bytes as they are for every call of
	 * this callsite (lineno, priority, function, the stored format; tags,
	 * time and length zero, stored per call), so a record starts with one
	 * copy.  stored_size is the stored format's size, NUL included.
	 */
	char *tmpl;
	uint32_t tmpl_len;
	uint32_t stored_size;
};

static void bb_cache_flush(void)
{
	uint32_t i;

	if (qb_log_bb.cache == NULL) {
		return;
	}
	for (i = 0; i < BB_CACHE_SIZE; i++) {
		qb_log_blackbox_prog_free(qb_log_bb.cache[i].prog);
		free(qb_log_bb.cache[i].tmpl);
	}
	free(qb_log_bb.cache);
	qb_log_bb.cache = NULL;
}

static void bb_template_build(struct qb_log_bb_cache_entry *e, const struct qb_log_callsite *cs)
{
	const char *fn = cs->function != NULL ? cs->function : "";
	const char *stored;
	size_t stored_size;
	char *t;

	free(e->tmpl);
	e->tmpl = NULL;
	if (e->prog == NULL) {
		return;
	}
	stored_size = qb_log_blackbox_prog_stored(e->prog, &stored);
	t = calloc(1, BB_REC_FIXED + e->fn_size + stored_size);
	if (t == NULL) {
		return; /* the two-step writer still works */
	}
	bb_rec_put_site(t, cs->lineno, cs->priority, fn, e->fn_size);
	memcpy(t + bb_rec_msg_off(e->fn_size, BB_REC_TS_SIZE), stored, stored_size);
	e->tmpl = t;
	e->tmpl_len = BB_REC_FIXED + e->fn_size + (uint32_t)stored_size;
	e->stored_size = (uint32_t)stored_size;
}

static void bb_cache_fill(struct qb_log_bb_cache_entry *e, const struct qb_log_callsite *cs)
{
	qb_log_blackbox_prog_free(e->prog);
	e->cs = cs;
	e->format = cs->format;
	e->function = cs->function;
	e->fn_size = (uint32_t)strlen(cs->function != NULL ? cs->function : "") + 1;
	e->prog = qb_log_blackbox_prog_compile(cs->format != NULL ? cs->format : "");
	bb_template_build(e, cs);
}

static const struct qb_log_bb_cache_entry *bb_cache_get(const struct qb_log_callsite *cs)
{
	uint64_t h = ((uint64_t)(uintptr_t)cs * 0x9E3779B97F4A7C15ULL) >> (64 - BB_CACHE_BITS);
	struct qb_log_bb_cache_entry *e;
	uint32_t i;

	if (qb_log_bb.cache == NULL) {
		qb_log_bb.cache = calloc(BB_CACHE_SIZE, sizeof(*qb_log_bb.cache));
		if (qb_log_bb.cache == NULL) {
			return NULL;
		}
	}
	for (i = 0; i < BB_CACHE_PROBES; i++) {
		e = &qb_log_bb.cache[(h + i) & (BB_CACHE_SIZE - 1)];
		if (e->cs == cs) {
			if (e->format != cs->format || e->function != cs->function) {
				bb_cache_fill(e, cs);
			}
			return e;
		}
		if (e->cs == NULL) {
			bb_cache_fill(e, cs);
			return e;
		}
	}
	return NULL; /* crowded: the uncached path still works */
}

/* Where a record's message goes (computed at each use: a pointer kept
 * across the branches below costs a spill on the hot path). */
#define BB_REC_MSG(chunk, fn_size) ((chunk) + bb_rec_msg_off((fn_size), BB_REC_TS_SIZE))

static void bb_write_record(struct qb_log_callsite *cs, const struct timespec *ts, size_t max_line,
			    va_list ap)
{
	const struct qb_log_bb_cache_entry *e = bb_cache_get(cs);
	const char *fn = (cs->function != NULL) ? cs->function : "";
	uint32_t fn_size = e ? e->fn_size : (uint32_t)strlen(fn) + 1;
	size_t room = max_line < 78 ? 78 : max_line;
	int64_t sec = ts->tv_sec, nsec = ts->tv_nsec;
	uint32_t msg_len;
	ssize_t n;
	char *chunk;

	chunk = rb_chunk_alloc(qb_log_bb.rb, BB_REC_FIXED + fn_size + room);
	if (chunk == NULL) {
		return; /* larger than the whole ring: dropped */
	}
	if (e != NULL && e->tmpl != NULL && e->stored_size < max_line) {
		/* the template ends with the stored format, which fits */
		memcpy(chunk, e->tmpl, e->tmpl_len);
		bb_rec_put_u32(chunk, BB_REC_TAGS, cs->tags);
		bb_rec_put_time(chunk, fn_size, sec, nsec);
		n = qb_log_blackbox_prog_run_values(e->prog, BB_REC_MSG(chunk, fn_size), max_line,
						    ap);
		goto stored;
	}
	bb_rec_put_site(chunk, cs->lineno, cs->priority, fn, fn_size);
	bb_rec_put_u32(chunk, BB_REC_TAGS, cs->tags);
	bb_rec_put_time(chunk, fn_size, sec, nsec);
	if (e != NULL && e->prog != NULL) {
		n = qb_log_blackbox_prog_run(e->prog, BB_REC_MSG(chunk, fn_size), max_line, ap);
	} else {
		n = qb_vsnprintf_serialize(BB_REC_MSG(chunk, fn_size), max_line,
					   cs->format != NULL ? cs->format : "", ap);
	}
stored:
	if (n < 0 || (size_t)n >= max_line) {
		n = bb_serialize(BB_REC_MSG(chunk, fn_size), BB_TOO_LONG_LIMIT,
				 "Log message too long to be stored in the blackbox.  "
				 "Maximum is QB_LOG_MAX_LEN");
	}
	msg_len = (uint32_t)n;
	bb_rec_put_u32(chunk, bb_rec_msg_len_off(fn_size, BB_REC_TS_SIZE), msg_len);
	(void)rb_chunk_commit(qb_log_bb.rb, BB_REC_FIXED + fn_size + msg_len);
}

/* once per forked child: kept out of line, off the record path */
static __attribute__((noinline, cold)) int bb_take_over(struct qb_log_target *t);

/* After a take-over, outside writer_lock: the scan of /dev/shm may take a while. */
static __attribute__((noinline)) void bb_prune_for(const struct qb_log_target *t)
{
	char ident[sizeof(((struct qb_log_blackbox_owner *)0)->ident)];
	size_t n = strnlen(t->name, sizeof(ident) - 1);

	memcpy(ident, t->name, n);
	ident[n] = '\0';
	(void)blackbox_prune_dead(ident);
}

static void bb_vlogger(int32_t pos, struct qb_log_callsite *cs, struct timespec *ts, va_list ap)
{
	struct qb_log_target *t = qb_log_bb.target;
	struct timespec now;
	size_t max_line;
	int took = 0;

	(void)pos;
	if (cs == NULL || t == NULL) {
		return;
	}
	if (ts == NULL) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		ts = &now;
	}
	/* read without the slot lock (see vlogger_self_locked) */
	max_line = __atomic_load_n(&t->max_line_length, __ATOMIC_RELAXED);
	if (max_line == 0) {
		max_line = QB_LOG_MAX_LEN;
	}
	bb_lock();
	if (qb_log_bb.borrowed) {
		took = bb_take_over(t);
	}
	if (qb_log_bb.rb != NULL) {
		bb_seq_begin();
		bb_write_record(cs, ts, max_line, ap);
		bb_seq_end();
	}
	bb_unlock();
	if (__builtin_expect(took, 0)) {
		bb_prune_for(t);
	}
}

/* ------------------------------------------------------ target hooks */

static void bb_close(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	bb_lock();
	bb_ring_drop(!qb_log_bb.borrowed);
	qb_log_bb.borrowed = 0;
	qb_log_bb.remove_at_exit = 0;
	bb_cache_flush(); /* callsites may be freed after this */
	bb_unlock();
	if (t != NULL) {
		t->instance = NULL;
	}
}

static void bb_reload(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	if (t != NULL) {
		(void)qb_log_blackbox_open(t);
	}
}

int32_t qb_log_blackbox_open(struct qb_log_target *t)
{
	struct bb_ring r;
	int child;
	int32_t rc;

	if (t == NULL) {
		return -EINVAL;
	}
	if (t->size < BB_MIN_SIZE) {
		return -EINVAL;
	}
	bb_lock();
	/* a forked child resizing its blackbox keeps a child's one; after a
	 * close (qb_log_fini, disabling) it creates like any process */
	child = qb_log_bb.borrowed || qb_log_bb.remove_at_exit;
	bb_ring_drop(!qb_log_bb.borrowed);
	qb_log_bb.borrowed = 0;
	bb_cache_flush();
	rc = bb_ring_create(t->name, getpid(), t->size, &r);
	qb_log_bb.remove_at_exit = rc == 0 && child;
	if (rc == 0) {
		bb_ring_install(&r, t->size);
		qb_log_bb.target = t;
	}
	bb_unlock();
	if (rc < 0) {
		return rc;
	}
	(void)blackbox_prune_dead(t->name);
	/* bb_vlogger checks the ring under writer_lock */
	__atomic_store_n(&t->vlogger_self_locked, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->vlogger, bb_vlogger, __ATOMIC_RELEASE);
	t->logger = NULL;
	t->close = bb_close;
	t->reload = bb_reload;
	t->instance = &qb_log_bb;
	return 0;
}

/* ---------------------------------------------------------------- fork */

/*
 * Where our copy of the parent's ring should end: at the parent's write_pt
 * of fork time if the chain of committed chunks from read_pt still reaches
 * it (records the parent wrote after the fork are not ours), else at
 * write_pt.  Returns read_pt (an empty ring) if the chain is broken.
 */
static uint32_t bb_cut_at_fork(const struct rb_view *v)
{
	uint32_t p = v->read_pt, len, n;

	for (n = 0; n <= v->words / 2; n++) {
		if (p == qb_log_bb.fork_write_pt || p == v->write_pt) {
			return p;
		}
		if (rb_view_chunk(v, p, &len) != 0) {
			return v->read_pt;
		}
		p = rb_view_next(v, p, len);
	}
	return v->read_pt;
}

/*
 * Copies the records of the ring we share with our parent into our own new
 * ring.  The parent may keep writing meanwhile; its seq counter (odd while a
 * record is written) tells us whether a copy is consistent.  After a few
 * torn attempts the new ring simply starts empty.
 */
static void bb_copy_ring(const struct bb_ring *from, const struct bb_ring *to)
{
	uint32_t *seq = &from->owner->seq;
	struct rb_view v, copy;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

		if (s1 & 1) {
			sched_yield();
			continue;
		}
		rb_view_of(from->rb, &v);
		if (rb_view_copy(&v, to->rb, &copy) != 0) {
			return; /* not the same size */
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seq, __ATOMIC_ACQUIRE) == s1) {
			copy.write_pt = bb_cut_at_fork(&copy);
			rb_view_install(to->rb, &copy);
			break;
		}
	}
	if (tries == 64) {
		size_t len;
		char *data = rb_data_get(to->rb, &len);

		memset(data, 0, len);
	}
}

/*
 * In a forked child, with writer_lock held: our own ring at last.  Returns
 * 1 when it made one.
 */
static int bb_take_over(struct qb_log_target *t)
{
	struct bb_ring from, to;
	int32_t rc;

	from.rb = qb_log_bb.rb;
	from.owner = qb_log_bb.owner;
	rc = bb_ring_create(t->name, getpid(), qb_log_bb.size, &to);
	if (rc == 0) {
		bb_copy_ring(&from, &to);
	}
	/* never write into (or remove) the parent's ring */
	bb_ring_drop(0);
	qb_log_bb.borrowed = 0;
	if (rc == 0) {
		bb_ring_install(&to, qb_log_bb.size ? qb_log_bb.size : t->size);
		qb_log_bb.remove_at_exit = 1;
	}
	return rc == 0;
}

/* Where a child's copy of our ring will end (writer_lock held). */
static void bb_fork_write_pt_take(void)
{
	struct rb_view v;

	rb_view_of(qb_log_bb.rb, &v);
	qb_log_bb.fork_write_pt = v.write_pt;
}

void qb_log_blackbox_reflect_pid(struct qb_log_target *t, pid_t new_pid)
{
	if (t == NULL) {
		return;
	}
	bb_lock();
	if (qb_log_bb.rb != NULL && !qb_log_bb.borrowed && bb_owner(qb_log_bb.rb)->pid != new_pid) {
		if (!qb_log_bb.fork_write_pt_set) { /* raw clone(): best effort */
			bb_fork_write_pt_take();
		}
		qb_log_bb.borrowed = 1;
		qb_log_bb.remove_at_exit = 0;
	}
	qb_log_bb.fork_write_pt_set = 0;
	bb_unlock();
}

void qb_log_blackbox_atfork_prepare(void)
{
	bb_lock();
	/* no writer can move it now: the child's copy will end exactly here */
	if (qb_log_bb.rb != NULL) {
		bb_fork_write_pt_take();
		qb_log_bb.fork_write_pt_set = 1;
	}
}

void qb_log_blackbox_atfork_parent(void)
{
	qb_log_bb.fork_write_pt_set = 0;
	bb_unlock();
}

void qb_log_blackbox_atfork_child(void)
{
	/* only the forking thread exists now: nobody else holds the lock */
	qb_log_bb.writer_lock = (qb_util_word_lock_t)QB_UTIL_WORD_LOCK_INIT;
	atomic_store(&qb_log_bb.dumping, 0);
}

/*
 * A forked child's blackbox exists only because the child logged.  When the
 * child ends normally (exit(), return from main) nothing in it is evidence
 * of anything, so it goes, as the parent's goes at qb_log_fini().  _exit()
 * and fatal signals run no destructors: that blackbox stays (dead ones are
 * bounded, blackbox_prune.c).  The ring of a process that enabled the
 * blackbox itself (not as a forked child) is left as libqb leaves it: only
 * closing it removes it.
 * A destructor rather than atexit(), so it also runs when the library is
 * unloaded and never points into unmapped code.
 */
__attribute__((destructor)) static void bb_at_exit(void)
{
	if (!qb_log_bb.remove_at_exit || qb_util_word_lock_mine(&qb_log_bb.writer_lock)) {
		return; /* exit() from inside a record write: leave it */
	}
	bb_lock();
	if (qb_log_bb.remove_at_exit && !qb_log_bb.borrowed) {
		bb_ring_drop(1);
	}
	qb_log_bb.remove_at_exit = 0;
	bb_unlock();
}
