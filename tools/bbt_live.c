/*
 * Reading a live blackbox: its -header and -data files while the writer
 * may go on (never locked), and consistent snapshots of its ring.  Both
 * files are mapped read-only, so a header word is one untorn load and a
 * copy runs at memory speed, faster than any writer fills the ring (read
 * through pread, a word needs pairs of reads until two agree, and a busy
 * writer laps a small ring before a snapshot ends).  A file truncated
 * under us raises SIGBUS, which fails that access with -EIO; where a file
 * cannot be mapped, pread does the same work more slowly.  The header's
 * words are read through lib/rb (rb_header_*), the owner record is the
 * log module's.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bbt.h"

/* Who wrote the ring: its owner record, else the file name. */
static void live_who(const char *header, const unsigned char *hdr, size_t len, struct bbt_live *l)
{
	struct bb_owner o;
	const void *user = rb_header_user(hdr, len, sizeof(o));
	struct bbt_entry e;
	const char *base;

	if (user != NULL) {
		memcpy(&o, user, sizeof(o));
		if (memcmp(o.magic, QB_BB_OWNER_MAGIC, sizeof(o.magic)) == 0) {
			l->has_seq = 1;
			l->who.pid = o.pid;
			o.ident[sizeof(o.ident) - 1] = '\0';
			snprintf(l->who.ident, sizeof(l->who.ident), "%s", o.ident);
			return;
		}
	}
	base = strrchr(header, '/');
	base = base ? base + 1 : header;
	memset(&e, 0, sizeof(e));
	if (bbt_parse_bb_name(base, &e) == 0) {
		l->who.pid = e.pid;
		snprintf(l->who.ident, sizeof(l->who.ident), "%s", e.ident);
	}
}

/* The SIGBUS guard around accesses to the mappings (the tool has one
 * thread). */
static sigjmp_buf bus_env;
static volatile sig_atomic_t bus_armed;

static void on_sigbus(int sig)
{
	if (bus_armed) {
		bus_armed = 0;
		siglongjmp(bus_env, 1);
	}
	signal(sig, SIG_DFL); /* not ours: the fault happens again, fatally */
}

static int bus_guard_install(void)
{
	static int installed;
	struct sigaction sa;

	if (installed) {
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sa.sa_flags = SA_NODEFER; /* left by siglongjmp: not blocked after */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) != 0) {
		return -errno;
	}
	installed = 1;
	return 0;
}

/* Maps both files (the header as far as the owner record, the data ring
 * whole); either stays NULL when it cannot be mapped. */
static void live_map(struct bbt_live *l, size_t hdr_file_size)
{
	size_t hlen = RB_HDR_SIZE + sizeof(struct bb_owner);
	void *h, *d;

	if (bus_guard_install() != 0) {
		return;
	}
	hlen = hlen < hdr_file_size ? hlen : hdr_file_size;
	h = mmap(NULL, hlen, PROT_READ, MAP_SHARED | MAP_POPULATE, l->hfd, 0);
	if (h == MAP_FAILED) {
		return;
	}
	d = mmap(NULL, (size_t)l->word_size * 4, PROT_READ, MAP_SHARED | MAP_POPULATE, l->dfd, 0);
	if (d == MAP_FAILED) {
		munmap(h, hlen);
		return;
	}
	l->hdr = h;
	l->hdr_len = hlen;
	l->data = d;
	l->data_len = (size_t)l->word_size * 4;
}

int bbt_live_open(const char *header, struct bbt_live *l)
{
	unsigned char hdr[RB_HDR_SIZE + sizeof(struct bb_owner)];
	char dpath[PATH_MAX];
	struct stat st;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	l->hfd = l->dfd = -1;
	l->who.pid = -1;
	if (bbt_data_name(header, dpath, sizeof(dpath)) != 0) {
		return -EINVAL;
	}
	l->hfd = bbt_open_regular(header, 0);
	if (l->hfd < 0) {
		return l->hfd;
	}
	l->dfd = bbt_open_regular(dpath, 0);
	if (l->dfd < 0) {
		int rc = l->dfd;

		close(l->hfd);
		return rc;
	}
	n = bbt_pread_full(l->hfd, hdr, sizeof(hdr), 0);
	if (n < RB_HDR_SIZE || fstat(l->dfd, &st) != 0) {
		bbt_live_close(l);
		return -EIO;
	}
	l->dev = st.st_dev;
	l->dino = st.st_ino;
	(void)rb_header_word(hdr, (size_t)n, RB_HDR_WORDS, &l->word_size);
	if (l->word_size < 4 || (uint64_t)l->word_size * 4 > (uint64_t)st.st_size ||
	    (uint64_t)l->word_size * 4 > BBT_FILE_MAX) {
		bbt_live_close(l);
		return -EIO;
	}
	if (fstat(l->hfd, &st) == 0) {
		l->hino = st.st_ino;
		live_map(l, (size_t)st.st_size);
	}
	live_who(header, hdr, (size_t)n, l);
	return 0;
}

void bbt_live_close(struct bbt_live *l)
{
	if (l->hdr != NULL) {
		munmap((void *)l->hdr, l->hdr_len);
		munmap((void *)l->data, l->data_len);
		l->hdr = l->data = NULL;
	}
	if (l->hfd >= 0) {
		close(l->hfd);
	}
	if (l->dfd >= 0) {
		close(l->dfd);
	}
	l->hfd = l->dfd = -1;
}

/* A header word now: ring word idx (enum rb_hdr_word), or with user the
 * u32 at byte idx of the user area; 0 when it cannot be read. */
static uint32_t live_header_u32(const struct bbt_live *l, int user, size_t idx)
{
	uint32_t v = 0;
	int rc;

	if (l->hdr == NULL) {
		rc = user ? rb_header_fd_user_word(l->hfd, idx, &v)
			  : rb_header_fd_word(l->hfd, (enum rb_hdr_word)idx, &v);
		return rc == 0 ? v : 0;
	}
	if (sigsetjmp(bus_env, 0) != 0) {
		return 0;
	}
	bus_armed = 1;
	rc = user ? rb_header_mapped_user_word(l->hdr, l->hdr_len, idx, &v)
		  : rb_header_mapped_word(l->hdr, l->hdr_len, (enum rb_hdr_word)idx, &v);
	bus_armed = 0;
	return rc == 0 ? v : 0;
}

/* write_pt, read_pt or word_size as the header file holds it now; 0 when
 * it cannot be read. */
uint32_t bbt_live_word(const struct bbt_live *l, enum rb_hdr_word w)
{
	return live_header_u32(l, 0, w);
}

/* The owner record's seq now (0 when it cannot be read). */
uint32_t bbt_live_seq(const struct bbt_live *l)
{
	return live_header_u32(l, 1, offsetof(struct bb_owner, seq));
}

struct hdr_words {
	uint32_t wp, rp, seq;
};

/*
 * The write and read positions, with our writer's seq: taken only when seq
 * reads the same even value before and after (no record was in progress
 * in between), so the positions and the count of records belong together;
 * after a bounded number of tries the last reading is used.
 */
static int read_words(const struct bbt_live *l, struct hdr_words *h)
{
	int tries;

	for (tries = 0; tries < 200; tries++) {
		uint32_t again;

		h->seq = l->has_seq ? bbt_live_seq(l) : 0;
		h->wp = bbt_live_word(l, RB_HDR_WRITE_PT);
		h->rp = bbt_live_word(l, RB_HDR_READ_PT);
		if (!l->has_seq) {
			break;
		}
		again = bbt_live_seq(l);
		if (again == h->seq && !(again & 1)) {
			break;
		}
		if (tries > 20) {
			sched_yield();
		}
	}
	return h->wp < l->word_size && h->rp < l->word_size ? 0 : -EIO;
}

/* Copies words [from, from + count) of the data file (circular) into dst. */
static int copy_words(const struct bbt_live *l, unsigned char *dst, uint32_t from, uint32_t count)
{
	uint32_t first = l->word_size - from;
	ssize_t n;

	if (first > count) {
		first = count;
	}
	if (l->data != NULL) {
		if (sigsetjmp(bus_env, 0) != 0) {
			return -EIO;
		}
		bus_armed = 1;
		memcpy(dst + (size_t)from * 4, (const char *)l->data + (size_t)from * 4,
		       (size_t)first * 4);
		memcpy(dst, (const char *)l->data, (size_t)(count - first) * 4);
		bus_armed = 0;
		return 0;
	}
	n = bbt_pread_full(l->dfd, dst + (size_t)from * 4, (size_t)first * 4, (off_t)from * 4);
	if (n != (ssize_t)first * 4) {
		return -EIO;
	}
	if (count > first) {
		n = bbt_pread_full(l->dfd, dst, (size_t)(count - first) * 4, 0);
		if (n != (ssize_t)(count - first) * 4) {
			return -EIO;
		}
	}
	return 0;
}

#define SNAP_TRIES 20

/*
 * One attempt at copying the used part of the ring while its writer may go
 * on.  The copy is made in pieces of at most a quarter ring, the write
 * position read after each, so `adv` (how far the writer moved) stays
 * exact as long as the writer writes less than a quarter ring while we
 * copy a quarter ring, which it cannot do: it copies at least as many
 * bytes itself.
 *
 * The writer only writes into free space and frees the oldest records
 * first, moving read_pt past them: the records from its read_pt after our
 * copy (h2.rp) up to the write_pt before it (h1->wp) were never touched,
 * provided it did not go round the whole ring.  Our own writer also keeps
 * the owner record's seq (odd during a record): unchanged and even means
 * nothing moved at all.
 *
 * Sets *start to where the intact records begin (h1->wp: none) and
 * returns the bytes of older records left out, or a negative errno.
 */
static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A writer takes at least this many ns per byte it stores: 1 GB/s, twice
 * what the distro's writer reaches logging in a loop on a 2-core VM (about
 * 450 MB/s; ours is faster, but its seq counter bounds it).  A piece of our copy that
 * took longer than the writer needs for a quarter ring (we were
 * preempted) makes the position arithmetic unsafe: that attempt only
 * counts if the seq counter proves nothing moved.
 */
#define WRITER_NS_PER_BYTE 1

/* Tests only: a pause before the first attempt's copy, so that a busy
 * writer laps it (QB_BLACKBOX_TEST_LAP_US). */
static void test_lap_pause(void)
{
	static int done;
	const char *e;
	struct timespec ts;
	long us;

	if (done++) {
		return;
	}
	e = getenv("QB_BLACKBOX_TEST_LAP_US");
	us = e != NULL ? strtol(e, NULL, 10) : 0;
	if (us > 0 && us < 10000000) {
		ts.tv_sec = us / 1000000;
		ts.tv_nsec = (us % 1000000) * 1000;
		nanosleep(&ts, NULL);
	}
}

static int64_t snap_once(struct bbt_live *l, unsigned char *data, struct hdr_words *h1,
			 uint32_t *start)
{
	struct hdr_words h2;
	uint32_t S = l->word_size, used, done, piece, wprev, rel;
	uint64_t adv = 0;
	int64_t tprev, limit;
	int rc, slow = 0;

	tprev = mono_ns();
	rc = read_words(l, h1);
	if (rc != 0) {
		return rc;
	}
	test_lap_pause();
	used = (h1->wp + S - h1->rp) % S;
	piece = S / 4 > 16384 ? 16384 : S / 4 > 0 ? S / 4 : 1;
	limit = (int64_t)piece * 4 * WRITER_NS_PER_BYTE;
	wprev = h1->wp;
	for (done = 0; done < used; done += piece) {
		rc = copy_words(l, data, (h1->rp + done) % S,
				used - done < piece ? used - done : piece);
		if (rc != 0) {
			return rc;
		}
		uint32_t wnow = bbt_live_word(l, RB_HDR_WRITE_PT);

		adv += (wnow + S - wprev) % S;
		wprev = wnow;
		int64_t t = mono_ns();

		slow |= t - tprev > limit;
		tprev = t;
	}
	rc = read_words(l, &h2);
	if (rc != 0) {
		return rc;
	}
	adv += (h2.wp + S - wprev) % S;
	slow |= mono_ns() - tprev > limit;
	if (l->has_seq && h1->seq == h2.seq && !(h1->seq & 1)) {
		*start = h1->rp;
		return 0;
	}
	/* the same odd seq: one record at most was in progress all along (or
	 * its writer died inside it), which cannot lap us however long the
	 * copy took */
	if (l->has_seq && h1->seq == h2.seq) {
		slow = 0;
	}
	/* our writer's count bounds how far it went: >= 44 bytes a record */
	if (l->has_seq && (uint64_t)((h2.seq - h1->seq) / 2) * 44 >= S) {
		slow = 1;
	}
	rel = (h2.rp + S - h1->rp) % S;
	if (slow || adv >= S || rel > used) {
		*start = h1->wp;
		return (int64_t)used * 4;
	}
	*start = h2.rp;
	return (int64_t)rel * 4;
}

/*
 * A copy of a live ring with nothing reordered: retried a bounded number
 * of times while the writer keeps overwriting the oldest records under
 * us; after that, the intact part of the last attempt, with the size of
 * what was left out in r->skipped.
 */
int bbt_live_snapshot(struct bbt_live *l, struct bbt_ring *r)
{
	struct hdr_words h1 = {0, 0, 0};
	struct timespec pause = {0, 200000};
	uint32_t start = 0, S = l->word_size;
	int64_t skip = -EIO;
	int tries;

	r->data = calloc(S, 4);
	if (r->data == NULL) {
		return -ENOMEM;
	}
	r->v.data = r->data;
	r->v.words = S;
	r->hires = 1;
	r->live = 1;
	r->has_seq = l->has_seq;
	r->who = l->who;
	for (tries = 0; tries < SNAP_TRIES; tries++) {
		if (l->has_seq && (bbt_live_seq(l) & 1)) {
			sched_yield(); /* a record is being written right now */
		}
		skip = snap_once(l, r->data, &h1, &start);
		if (skip <= 0) {
			break;
		}
		if (tries >= SNAP_TRIES / 2) {
			nanosleep(&pause, NULL); /* let a burst pass */
		}
	}
	if (skip < 0) {
		bbt_ring_free(r);
		return (int)skip;
	}
	r->v.write_pt = h1.wp;
	r->v.read_pt = h1.rp;
	r->start = start;
	r->seq = h1.seq;
	r->skipped = (uint64_t)skip;
	return 0;
}
