/*
 * log_callsite.c - callsite lookup and creation.
 *
 * qb_log() looks its callsite up on every execution, so the lookup must be
 * cheap. A callsite's identity is (line, priority, file name string, format
 * string). Two tables:
 *
 *  - the canonical table, keyed by the string contents, used (under
 *    cs_lock) when creating callsites and for every lookup whose strings
 *    may change;
 *  - the fast table, keyed by the *addresses* of the file and format
 *    strings plus line and priority, read without any lock. When both
 *    strings live in a read-only segment of a loaded object (string
 *    literals such as __FILE__ and the format), equal addresses imply
 *    equal contents; other addresses (heap buffers of language bindings)
 *    are accepted only after comparing the contents.
 *
 * Entries are never removed before qb_log_fini().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log/log_core.h"

#define FAST_BITS 14
#define FAST_SIZE (1U << FAST_BITS)
#define FAST_MUL 0x9E3779B1u /* fast_hash()'s multiplier, also in the asm entry */
#define CANON_BITS 12
#define CANON_SIZE (1U << CANON_BITS)

struct cs_entry {
	struct qb_log_callsite cs; /* first: a fast entry's cs is an entry */
	uint32_t hash;
	uint32_t gen; /* cs_state.gen when last in use */
	struct cs_entry *canon_next;
	struct cs_entry *all_next;
};

/* fast_entry.flags: any bit set sends a lookup off the fast path */
#define FAST_VERIFY 1u /* strings may change: compare contents */
#define FAST_STALE 2u  /* cs retired by qb_log_fini(), not yet brought back */

/*
 * A fast entry is never freed (a lookup may be reading it) and never
 * changes its key; flags change under cs_lock only.  An entry without
 * FAST_STALE has a current cs: qb_log_fini() marks every entry under the
 * lock, and the mark goes only once the lookup that relinks the cs holds
 * it too, so the fast path needs no generation check.
 */
struct fast_entry {
	const char *file;
	const char *format;
	uint32_t lineno;
	union fast_pf {
		struct {
			uint8_t priority;
			uint8_t flags; /* atomic */
		} b;
		uint16_t both; /* the fast path compares the two at once */
	} pf;
	struct qb_log_callsite *cs;
	struct fast_entry *next;
};

/* Legacy arrays given to qb_log_callsites_register(), newest first. The
 * library's own callsites appear in this list too, as "internal" blocks
 * of DUMP_BLOCK in creation order, because qb_log_callsites_dump() shows
 * them the way libqb 2.0 stored them (arrays of 16). */
#define DUMP_BLOCK 16
struct cs_entry;
struct registered_range {
	struct qb_log_callsite *start;
	struct qb_log_callsite *stop;
	struct cs_entry *first; /* internal block: its first entry */
	int internal;
	struct registered_range *next;
};

/* The fast lookup's heads (atomic), by fast_hash(): apart from cs_state
 * and hidden, so qb_log_callsite_get2()'s assembly entry can address them. */
__attribute__((visibility("hidden"))) struct fast_entry *log_cs_fast[FAST_SIZE];

static struct {
	pthread_mutex_t lock;
	struct cs_entry *canon[CANON_SIZE];
	struct cs_entry *all_head;
	struct cs_entry *all_tail;
	struct registered_range *ranges;
	uint32_t count;
	/* Bumped by qb_log_fini(): entries of older generations are retired
	 * (out of the list, no targets) but never freed, since a thread that
	 * looked one up may still use it; the next lookup of the same key
	 * brings the entry back. Memory is bounded by the distinct keys. */
	uint32_t gen; /* atomic */
} cs_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

void log_cs_lock(void)
{
	pthread_mutex_lock(&cs_state.lock);
}

void log_cs_unlock(void)
{
	pthread_mutex_unlock(&cs_state.lock);
}

void log_cs_lock_reset(void)
{
	pthread_mutex_init(&cs_state.lock, NULL);
}

/* Runs on every qb_log() line: three instructions.  The file names of two
 * objects sit at unrelated addresses, and lines of one file differ in the
 * low bits, which the multiply spreads to the top. */
static inline uint32_t fast_hash(const char *file, uint32_t lineno)
{
	return (((uint32_t)(uintptr_t)file ^ lineno) * FAST_MUL) >> (32 - FAST_BITS);
}

static uint32_t str_hash(uint32_t h, const char *s)
{
	/* FNV-1a */
	while (*s != '\0') {
		h ^= (uint8_t)*s++;
		h *= 16777619U;
	}
	return h;
}

static uint32_t canon_hash(const char *file, const char *format, uint32_t lineno, uint8_t priority)
{
	uint32_t h = 2166136261U ^ lineno ^ ((uint32_t)priority << 24);

	h = str_hash(h, file);
	return str_hash(h ^ 0xff, format);
}

struct ro_probe {
	uintptr_t addr;
	int readonly;
};

static int ro_probe_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct ro_probe *p = arg;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (p->addr >= lo && p->addr < lo + ph->p_memsz) {
			p->readonly = !(ph->p_flags & PF_W);
			return 1;
		}
	}
	return 0;
}

/* True if @p s is NULL or points into a read-only segment of a loaded
 * object (so its contents cannot change while the object is loaded). */
static int string_is_constant(const char *s)
{
	struct ro_probe p = {(uintptr_t)s, 0};

	if (s == NULL)
		return 1;
	dl_iterate_phdr(ro_probe_cb, &p);
	return p.readonly;
}

/* The chain from @p e on, checking the strings of entries that ask for
 * it; out of line, so the usual lookup calls nothing and saves no
 * registers. */
static __attribute__((noinline)) struct fast_entry *fast_find_verify(struct fast_entry *e,
								     const char *file,
								     const char *format,
								     uint32_t lineno,
								     uint8_t priority)
{
	for (; e != NULL; e = e->next) {
		if (e->file != file || e->lineno != lineno || e->format != format ||
		    e->pf.b.priority != priority)
			continue;
		if ((__atomic_load_n(&e->pf.b.flags, __ATOMIC_RELAXED) & FAST_VERIFY) &&
		    (strcmp(e->cs->filename, file ? file : "") != 0 ||
		     strcmp(e->cs->format, format ? format : "") != 0))
			continue;
		return e;
	}
	return NULL;
}

/* pf.both of an entry for priority without flags */
static inline uint16_t fast_pf_want(uint8_t priority)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return priority;
#else
	return (uint16_t)(priority << 8);
#endif
}

static inline struct fast_entry *fast_find(const char *file, const char *format, uint32_t lineno,
					   uint8_t priority)
{
	return fast_find_verify(
		__atomic_load_n(&log_cs_fast[fast_hash(file, lineno)], __ATOMIC_ACQUIRE), file,
		format, lineno, priority);
}

static void fast_add(const char *file, const char *format, uint32_t lineno, uint8_t priority,
		     int verify, struct qb_log_callsite *cs)
{
	uint32_t h = fast_hash(file, lineno);
	struct fast_entry *e = malloc(sizeof(*e));

	if (e == NULL)
		return; /* the slow path keeps working */
	e->file = file;
	e->format = format;
	e->lineno = lineno;
	e->pf.b.priority = priority;
	e->pf.b.flags = verify ? FAST_VERIFY : 0;
	e->cs = cs;
	e->next = log_cs_fast[h];
	__atomic_store_n(&log_cs_fast[h], e, __ATOMIC_RELEASE);
}

/* Under cs_lock, with fe->cs current. */
static void fast_unmark_stale(struct fast_entry *fe)
{
	uint8_t flags = __atomic_load_n(&fe->pf.b.flags, __ATOMIC_RELAXED);

	if (flags & FAST_STALE)
		__atomic_store_n(&fe->pf.b.flags, flags & ~FAST_STALE, __ATOMIC_RELEASE);
}

/* Under cs_lock, from qb_log_fini(): every entry off the fast path. */
static void fast_mark_all_stale(void)
{
	struct fast_entry *fe;
	uint32_t h;

	for (h = 0; h < FAST_SIZE; h++)
		for (fe = log_cs_fast[h]; fe != NULL; fe = fe->next)
			__atomic_store_n(&fe->pf.b.flags, fe->pf.b.flags | FAST_STALE,
					 __ATOMIC_RELAXED);
}

static struct cs_entry *canon_find(const char *file, const char *format, uint32_t lineno,
				   uint8_t priority, uint32_t hash)
{
	struct cs_entry *e;

	for (e = cs_state.canon[hash & (CANON_SIZE - 1)]; e; e = e->canon_next)
		if (e->hash == hash && e->cs.lineno == lineno && e->cs.priority == priority &&
		    strcmp(e->cs.filename, file) == 0 && strcmp(e->cs.format, format) == 0)
			return e;
	return NULL;
}

static void entry_link(struct cs_entry *e);

static struct cs_entry *entry_create(const char *message_id, const char *function, const char *file,
				     const char *format, uint8_t priority, uint32_t lineno,
				     uint32_t hash)
{
	size_t lf = strlen(function) + 1, lfi = strlen(file) + 1;
	size_t lfo = strlen(format) + 1;
	size_t lm = message_id ? strlen(message_id) + 1 : 0;
	struct cs_entry *e = calloc(1, sizeof(*e) + lf + lfi + lfo + lm);
	char *strings;

	if (e == NULL)
		return NULL;
	strings = (char *)(e + 1);
	e->cs.function = memcpy(strings, function, lf);
	e->cs.filename = memcpy(strings + lf, file, lfi);
	e->cs.format = memcpy(strings + lf + lfi, format, lfo);
	if (message_id)
		e->cs.message_id = memcpy(strings + lf + lfi + lfo, message_id, lm);
	e->cs.priority = priority;
	e->cs.lineno = lineno;
	e->hash = hash;
	e->canon_next = cs_state.canon[hash & (CANON_SIZE - 1)];
	cs_state.canon[hash & (CANON_SIZE - 1)] = e;
	entry_link(e);
	return e;
}

/* Put @p e on the list of live callsites (the dump's order). */
static void entry_link(struct cs_entry *e)
{
	__atomic_store_n(&e->gen, cs_state.gen, __ATOMIC_RELEASE);
	e->all_next = NULL;
	if (cs_state.all_tail)
		cs_state.all_tail->all_next = e;
	else
		cs_state.all_head = e;
	if (cs_state.count % DUMP_BLOCK == 0) {
		struct registered_range *r = calloc(1, sizeof(*r));

		if (r != NULL) {
			r->internal = 1;
			r->first = e;
			r->next = cs_state.ranges;
			cs_state.ranges = r;
		}
	}
	cs_state.all_tail = e;
	cs_state.count++;
}

/* Find or create under cs_lock. *created tells whether it is new. */
static struct qb_log_callsite *slow_get(const char *message_id, const char *function,
					const char *file_key, const char *format_key,
					uint8_t priority, uint32_t lineno, uint32_t tags,
					int *created)
{
	const char *file = file_key ? file_key : "";
	const char *format = format_key ? format_key : "";
	uint32_t hash = canon_hash(file, format, lineno, priority);
	struct fast_entry *fe;
	struct cs_entry *e;
	int constant;

	/* dl_iterate_phdr takes the loader lock: keep it out of cs_lock. */
	constant = string_is_constant(file_key) && string_is_constant(format_key);

	log_cs_lock();
	if (!log_is_initialised()) {
		log_cs_unlock();
		return NULL;
	}
	e = canon_find(file, format, lineno, priority, hash);
	if (e != NULL && e->gen != cs_state.gen) {
		/* retired by qb_log_fini(): new to this generation */
		__atomic_store_n(&e->cs.targets, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->cs.tags, 0, __ATOMIC_RELAXED);
		entry_link(e);
		log_filter_apply_new(&e->cs, tags);
		*created = 1;
		goto fast;
	}
	*created = (e == NULL);
	if (e == NULL) {
		e = entry_create(message_id, function ? function : "", file, format, priority,
				 lineno, hash);
		if (e == NULL) {
			log_cs_unlock();
			return NULL;
		}
		log_filter_apply_new(&e->cs, tags);
	}
fast:
	fe = fast_find(file_key, format_key, lineno, priority);
	if (fe == NULL)
		fast_add(file_key, format_key, lineno, priority, !constant, &e->cs);
	else if (fe->cs == &e->cs)
		fast_unmark_stale(fe);
	log_cs_unlock();
	return &e->cs;
}

/*
 * A later lookup with non-zero tags overwrites the stored tags. The custom
 * filter function runs when a callsite is created, when it is installed,
 * and when a lookup changes the tags; upstream also ran it on every log
 * call, which costs a function call per qb_log() and decides nothing new.
 */
static __attribute__((noinline)) void tags_update(struct qb_log_callsite *cs, uint32_t tags)
{
	qb_log_filter_fn fn;

	/* the plain load first: a line logs with the same tags every time,
	 * and the exchange is a locked instruction */
	if (tags == 0 || __atomic_load_n(&cs->tags, __ATOMIC_RELAXED) == tags ||
	    __atomic_exchange_n(&cs->tags, tags, __ATOMIC_RELAXED) == tags)
		return;
	fn = __atomic_load_n(&log_hot.filter_fn, __ATOMIC_ACQUIRE);
	if (fn != NULL)
		fn(cs);
}

/* First lookup of a key (or of strings that may change): under cs_lock. */
static struct qb_log_callsite *__attribute__((noinline))
get_slow(const char *message_id, const char *function, const char *filename, const char *format,
	 uint8_t priority, uint32_t lineno, uint32_t tags)
{
	struct qb_log_callsite *cs;
	qb_log_filter_fn fn;
	int created = 0;

	cs = slow_get(message_id, function, filename, format, priority, lineno, tags, &created);
	if (cs == NULL)
		return NULL;
	if (!created) {
		tags_update(cs, tags);
		return cs;
	}
	fn = __atomic_load_n(&log_hot.filter_fn, __ATOMIC_ACQUIRE);
	if (fn != NULL)
		fn(cs);
	return cs;
}

/* Lookup with the string checks some entries need; out of line so the
 * usual lookup below calls nothing but tail calls and saves no registers. */
__attribute__((noinline, used, visibility("hidden"))) struct qb_log_callsite *log_cs_get_checked(
	const char *message_id, const char *function, const char *filename, const char *format,
	uint8_t priority, uint32_t lineno, uint32_t tags)
{
	struct fast_entry *fe = fast_find(filename, format, lineno, priority);

	if (fe == NULL || (__atomic_load_n(&fe->pf.b.flags, __ATOMIC_ACQUIRE) & FAST_STALE))
		return get_slow(message_id, function, filename, format, priority, lineno, tags);
	if (tags != 0)
		tags_update(fe->cs, tags);
	return fe->cs;
}

/*
 * The lookup without locks or calls: the chain's first entry, when it has
 * this key and no flags, or NULL (log_cs_get_checked() looks at the others).  No
 * test of log_hot.initialised or of the generation: an entry without
 * flags has a current cs (see struct fast_entry), and entries are added
 * only while the library is initialised.
 */
static inline const struct fast_entry *fast_first(const char *filename, const char *format,
						  uint8_t priority, uint32_t lineno)
{
	const struct fast_entry *e =
		__atomic_load_n(&log_cs_fast[fast_hash(filename, lineno)], __ATOMIC_ACQUIRE);

	if (__builtin_expect(e == NULL || e->file != filename || e->lineno != lineno ||
				     e->format != format ||
				     __atomic_load_n(&e->pf.both, __ATOMIC_RELAXED) !=
					     fast_pf_want(priority),
			     0))
		return NULL;
	return e;
}

/* A lookup with tags: kept apart so the usual one holds no register for
 * them. */
__attribute__((noinline, used, visibility("hidden"))) struct qb_log_callsite *log_cs_get_tagged(
	const char *message_id, const char *function, const char *filename, const char *format,
	uint8_t priority, uint32_t lineno, uint32_t tags)
{
	const struct fast_entry *e = fast_first(filename, format, priority, lineno);

	if (e == NULL)
		return log_cs_get_checked(message_id, function, filename, format, priority, lineno,
					  tags);
	tags_update(e->cs, tags);
	return e->cs;
}

/* ThreadSanitizer does not see loads in assembly: the entry's acquire of
 * a fast head would be missing from its happens-before order, and every
 * later read of the callsite would look like a race with its creation. */
#if defined(__SANITIZE_THREAD__)
#define CS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CS_TSAN 1
#endif
#endif

#if defined(__x86_64__) && defined(__ELF__) && !defined(CS_TSAN)
/*
 * qb_log_callsite_get2() runs for every qb_log() line, wanted or not.  In
 * C, gcc moves argument registers around for the two tail calls before
 * its first test (4 of 27 instructions); this entry is fast_first() and
 * nothing else, and hands every other case to the C functions with the
 * argument registers as it found them (priority zero-extended).
 */
_Static_assert(offsetof(struct fast_entry, file) == 0, "fast_entry.file");
_Static_assert(offsetof(struct fast_entry, format) == 8, "fast_entry.format");
_Static_assert(offsetof(struct fast_entry, lineno) == 16, "fast_entry.lineno");
_Static_assert(offsetof(struct fast_entry, pf) == 20, "fast_entry.pf");
_Static_assert(offsetof(struct fast_entry, cs) == 24, "fast_entry.cs");
_Static_assert(FAST_BITS == 14, "the shift below");
_Static_assert(FAST_MUL == 0x9e3779b1u, "the multiplier below");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pf.both");
#ifdef __CET__
#define CS_ENTRY_LANDING "\tendbr64\n"
#else
#define CS_ENTRY_LANDING ""
#endif
__asm__(".pushsection .text\n"
	".globl qb_log_callsite_get2\n"
	".type qb_log_callsite_get2, @function\n"
	".p2align 4\n"
	"qb_log_callsite_get2:\n" CS_ENTRY_LANDING "\tmovzbl %r8b, %r8d\n"
	"\tcmpl $0, 8(%rsp)\n" /* tags */
	"\tjne log_cs_get_tagged\n"
	"\tmovl %r9d, %eax\n" /* fast_hash(filename, lineno) */
	"\txorl %edx, %eax\n"
	"\timull $0x9e3779b1, %eax, %eax\n"
	"\tshrl $18, %eax\n"
	"\tleaq log_cs_fast(%rip), %r11\n"
	"\tmovq (%r11,%rax,8), %rax\n"
	"\ttestq %rax, %rax\n"
	"\tje log_cs_get_checked\n"
	"\tcmpq %rdx, 0(%rax)\n"
	"\tjne log_cs_get_checked\n"
	"\tcmpl %r9d, 16(%rax)\n"
	"\tjne log_cs_get_checked\n"
	"\tcmpq %rcx, 8(%rax)\n"
	"\tjne log_cs_get_checked\n"
	"\tcmpw %r8w, 20(%rax)\n" /* priority, and no flags */
	"\tjne log_cs_get_checked\n"
	"\tmovq 24(%rax), %rax\n"
	"\tret\n"
	".size qb_log_callsite_get2, .-qb_log_callsite_get2\n"
	".popsection\n");
#else
struct qb_log_callsite *qb_log_callsite_get2(const char *message_id, const char *function,
					     const char *filename, const char *format,
					     uint8_t priority, uint32_t lineno, uint32_t tags)
{
	const struct fast_entry *e;

	if (__builtin_expect(tags != 0, 0))
		return log_cs_get_tagged(message_id, function, filename, format, priority, lineno,
					 tags);
	e = fast_first(filename, format, priority, lineno);
	if (__builtin_expect(e == NULL, 0))
		return log_cs_get_checked(message_id, function, filename, format, priority, lineno,
					  tags);
	return e->cs;
}
#endif

struct qb_log_callsite *qb_log_callsite_get(const char *function, const char *filename,
					    const char *format, uint8_t priority, uint32_t lineno,
					    uint32_t tags)
{
	return qb_log_callsite_get2(NULL, function, filename, format, priority, lineno, tags);
}

void log_cs_foreach(void (*fn)(struct qb_log_callsite *cs, void *arg), void *arg)
{
	struct cs_entry *e;
	struct registered_range *r;
	struct qb_log_callsite *c;

	for (e = cs_state.all_head; e; e = e->all_next)
		if (e->cs.lineno > 0)
			fn(&e->cs, arg);
	for (r = cs_state.ranges; r; r = r->next)
		for (c = r->start; !r->internal && c < r->stop; c++)
			if (c->lineno > 0)
				fn(c, arg);
}

/*
 * qb_log_fini(): other threads may be logging right now, holding a
 * callsite they looked up. Retire every entry instead of freeing it: no
 * targets, off the live list (dump, filters), kept in the lookup tables.
 */
void log_cs_free_all(void)
{
	struct registered_range *r, *rn;
	struct cs_entry *e;

	log_cs_lock();
	for (e = cs_state.all_head; e; e = e->all_next) {
		__atomic_store_n(&e->cs.targets, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&e->cs.tags, 0, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&cs_state.gen, 1, __ATOMIC_RELEASE);
	fast_mark_all_stale();
	for (r = cs_state.ranges; r; r = rn) {
		rn = r->next;
		free(r);
	}
	cs_state.all_head = cs_state.all_tail = NULL;
	cs_state.ranges = NULL;
	cs_state.count = 0;
	log_cs_unlock();
}

static void register_apply(struct qb_log_callsite *c)
{
	/* tags 0: the stored tag filters decide, as for a new callsite */
	log_filter_apply_new(c, 0);
}

int32_t qb_log_callsites_register(struct qb_log_callsite *start, struct qb_log_callsite *stop)
{
	struct registered_range *r;
	struct qb_log_callsite *c;
	qb_log_filter_fn fn;

	if (start == NULL || stop == NULL)
		return -EINVAL;
	log_cs_lock();
	for (r = cs_state.ranges; r; r = r->next) {
		if (!r->internal && (r->start == start || r->stop == stop)) {
			log_cs_unlock();
			return -EEXIST;
		}
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		log_cs_unlock();
		return -ENOMEM;
	}
	r->start = start;
	r->stop = stop;
	r->next = cs_state.ranges;
	cs_state.ranges = r;
	for (c = start; c < stop; c++)
		if (c->lineno > 0)
			register_apply(c);
	log_cs_unlock();
	fn = log_filter_fn_get();
	if (fn != NULL)
		for (c = start; c < stop; c++)
			if (c->lineno > 0)
				fn(c);
	return 0;
}

static void dump_one(const struct qb_log_callsite *cs)
{
	if (cs->lineno > 0)
		printf("%12s %6u %16u %16u\n", cs->filename, cs->lineno, cs->targets, cs->tags);
}

/* Same layout as libqb 2.0 (one block per callsite array). */
void qb_log_callsites_dump(void)
{
	struct registered_range *r;
	const struct cs_entry *e;
	const struct qb_log_callsite *c;
	int n = 0;

	log_cs_lock();
	for (r = cs_state.ranges; r; r = r->next)
		n++;
	printf("Callsite Database [%d]\n", n);
	printf("---------------------\n");
	for (r = cs_state.ranges; r; r = r->next) {
		int i;

		if (r->internal)
			printf(" start %p - stop %p\n", (void *)r->first,
			       (void *)(r->first + DUMP_BLOCK));
		else
			printf(" start %p - stop %p\n", (void *)r->start, (void *)r->stop);
		printf("filename    lineno targets         tags\n");
		if (r->internal)
			for (e = r->first, i = 0; e && i < DUMP_BLOCK; e = e->all_next, i++)
				dump_one(&e->cs);
		else
			for (c = r->start; c < r->stop; c++)
				dump_one(c);
	}
	log_cs_unlock();
}

/*
 * Upstream exported a "dynamic callsite" allocator under these names.
 * They have no callers outside the library; keep harmless bodies.
 */
void qb_log_dcs_init(void);
void qb_log_dcs_init(void)
{
}

void qb_log_dcs_fini(void);
void qb_log_dcs_fini(void)
{
}

struct qb_log_callsite *qb_log_dcs_get(int32_t *newly_created, const char *function,
				       const char *filename, const char *format, uint8_t priority,
				       uint32_t lineno, uint32_t tags);
struct qb_log_callsite *qb_log_dcs_get(int32_t *newly_created, const char *function,
				       const char *filename, const char *format, uint8_t priority,
				       uint32_t lineno, uint32_t tags)
{
	int created = 0;
	struct qb_log_callsite *cs;

	if (!log_is_initialised())
		return NULL;
	cs = slow_get(NULL, function, filename, format, priority, lineno, tags, &created);
	if (newly_created)
		*newly_created = created;
	return cs;
}
