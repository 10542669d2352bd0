/*
 * Reading rings: dump files and live blackboxes, and decoding their
 * records.  Every input is untrusted (a file in /dev/shm may be anyone's,
 * and may change while we read it), so files are read with pread, never
 * mapped (a truncation cannot fault us), and only regular files are opened.
 *
 * Dump file (version 2): a 20-byte marker (u32 0, 0xCCBBCCBB, 0xBBCCBBCC,
 * 2, 0), then u32 word_size, write_pt, read_pt, 1, hash and the ring data.
 * Without the marker: an old plain ring dump, records with an 8-byte time.
 * Record layout: see lib/log/blackbox_dump.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bbt.h"

static const uint32_t dump_marker[5] = {0, 0xCCBBCCBBu, 0xBBCCBBCCu, 2, 0};

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Opens path for reading only if it is a regular file: a FIFO or device
 * planted under a blackbox's name must not block us or be read, and a
 * symbolic link is not followed.
 */
int bbt_open_regular(const char *path, int flags)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | flags);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* pread that retries short reads; the count actually read, or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int read_all(int fd, unsigned char **out, size_t *out_len)
{
	struct stat st;
	unsigned char *buf;
	ssize_t n;

	if (fstat(fd, &st) != 0) {
		return -errno;
	}
	if ((uint64_t)st.st_size > BBT_FILE_MAX) {
		return -EFBIG;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	n = pread_full(fd, buf, (size_t)st.st_size, 0);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	*out = buf;
	*out_len = (size_t)n; /* shorter if truncated meanwhile */
	return 0;
}

void bbt_ring_free(struct bbt_ring *r)
{
	free(r->data);
	r->data = NULL;
}

/* Validates a plain ring dump of len bytes and takes a copy of its data. */
static int ring_from_dump(const unsigned char *buf, size_t len, int hires, struct bbt_ring *r)
{
	uint32_t version, hash;

	if (len < 20) {
		return -EIO;
	}
	r->word_size = get_u32(buf);
	r->write_pt = get_u32(buf + 4);
	r->read_pt = get_u32(buf + 8);
	version = get_u32(buf + 12);
	hash = get_u32(buf + 16);
	if (hash != r->word_size + r->write_pt + r->read_pt + version || version != 1 ||
	    r->word_size < 4 || (uint64_t)r->word_size * 4 > len - 20 ||
	    r->write_pt >= r->word_size || r->read_pt >= r->word_size) {
		return -EIO;
	}
	r->data = malloc((size_t)r->word_size * 4);
	if (r->data == NULL) {
		return -ENOMEM;
	}
	memcpy(r->data, buf + 20, (size_t)r->word_size * 4);
	r->start = r->read_pt;
	r->hires = hires;
	return 0;
}

static int is_live_header(const unsigned char *buf, size_t len)
{
	if (len < QB_BB_RB_HDR_SIZE) {
		return 0;
	}
	return buf[QB_BB_RB_OFF_HDR_PATH] == '/' && buf[QB_BB_RB_OFF_DATA_PATH] == '/' &&
		memchr(buf + QB_BB_RB_OFF_HDR_PATH, '\0', QB_BB_RB_PATH_MAX) != NULL &&
		memchr(buf + QB_BB_RB_OFF_DATA_PATH, '\0', QB_BB_RB_PATH_MAX) != NULL;
}

/* "...-header" -> "...-data": the data file is named after the header we
 * were given, never after the path recorded inside it. */
int bbt_data_name(const char *header, char *out, size_t len)
{
	size_t n = strlen(header);

	if (n <= 7 || strcmp(header + n - 7, "-header") != 0 || n - 7 + 6 > len) {
		return -EINVAL;
	}
	memcpy(out, header, n - 7);
	memcpy(out + n - 7, "-data", 6);
	return 0;
}

/* Who wrote a dump: from a name made by --save (IDENT-PID-TIME.qbbb). */
static void who_from_dump_name(const char *path, struct bbt_who *who)
{
	const char *base = strrchr(path, '/');
	const char *p, *q;
	char *end;
	long pid;

	base = base ? base + 1 : path;
	q = strrchr(base, '-');
	if (q == NULL || strlen(q) < 6 || strcmp(q + strlen(q) - 5, ".qbbb") != 0) {
		return;
	}
	for (p = q - 1; p > base && *p != '-'; p--) {
	}
	if (p <= base) {
		return;
	}
	pid = strtol(p + 1, &end, 10);
	if (end != q || pid <= 0) {
		return;
	}
	who->pid = pid;
	snprintf(who->ident, sizeof(who->ident), "%.*s", (int)(p - base), base);
}

int bbt_read_file(const char *path, struct bbt_ring *r)
{
	struct bbt_live l;
	unsigned char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	r->who.pid = -1;
	fd = bbt_open_regular(path, 0);
	if (fd < 0) {
		return fd;
	}
	rc = read_all(fd, &buf, &len);
	close(fd);
	if (rc != 0) {
		return rc;
	}
	if (is_live_header(buf, len)) {
		free(buf);
		rc = bbt_live_open(path, &l);
		if (rc == 0) {
			rc = bbt_live_snapshot(&l, r);
			bbt_live_close(&l);
		}
		return rc;
	}
	if (len >= sizeof(dump_marker) && memcmp(buf, dump_marker, sizeof(dump_marker)) == 0) {
		rc = ring_from_dump(buf + 20, len - 20, 1, r);
	} else {
		rc = ring_from_dump(buf, len, 0, r);
	}
	free(buf);
	if (rc == 0) {
		who_from_dump_name(path, &r->who);
	}
	return rc;
}

/* ------------------------------------------------------------ live */

int bbt_live_open(const char *header, struct bbt_live *l)
{
	char dpath[PATH_MAX];
	struct qb_log_blackbox_owner o;
	unsigned char hdr[QB_BB_RB_HDR_SIZE];
	struct bbt_entry e;
	struct stat st;
	const char *base;

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
	if (pread_full(l->hfd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    fstat(l->dfd, &st) != 0) {
		bbt_live_close(l);
		return -EIO;
	}
	l->dev = st.st_dev;
	l->dino = st.st_ino;
	l->word_size = get_u32(hdr + QB_BB_RB_OFF_WORD_SIZE);
	if (l->word_size < 4 || (uint64_t)l->word_size * 4 > (uint64_t)st.st_size ||
	    (uint64_t)l->word_size * 4 > BBT_FILE_MAX) {
		bbt_live_close(l);
		return -EIO;
	}
	if (fstat(l->hfd, &st) == 0) {
		l->hino = st.st_ino;
	}
	if (pread_full(l->hfd, &o, sizeof(o), QB_BB_RB_USER_OFFSET) == (ssize_t)sizeof(o) &&
	    memcmp(o.magic, QB_BB_OWNER_MAGIC, sizeof(o.magic)) == 0) {
		l->has_seq = 1;
		l->who.pid = o.pid;
		o.ident[sizeof(o.ident) - 1] = '\0';
		snprintf(l->who.ident, sizeof(l->who.ident), "%s", o.ident);
	} else {
		base = strrchr(header, '/');
		base = base ? base + 1 : header;
		memset(&e, 0, sizeof(e));
		if (bbt_parse_bb_name(base, &e) == 0) {
			l->who.pid = e.pid;
			snprintf(l->who.ident, sizeof(l->who.ident), "%s", e.ident);
		}
	}
	return 0;
}

void bbt_live_close(struct bbt_live *l)
{
	if (l->hfd >= 0) {
		close(l->hfd);
	}
	if (l->dfd >= 0) {
		close(l->dfd);
	}
	l->hfd = l->dfd = -1;
}

uint32_t bbt_live_word(const struct bbt_live *l, size_t off)
{
	uint32_t a = 0, b = 1;
	int i;

	/* a word copied by pread may be torn by a concurrent store: take a
	 * value only when two reads agree */
	for (i = 0; i < 8 && a != b; i++) {
		if (pread_full(l->hfd, &a, 4, (off_t)off) != 4 ||
		    pread_full(l->hfd, &b, 4, (off_t)off) != 4) {
			return 0;
		}
	}
	return a;
}

uint32_t bbt_live_seq(const struct bbt_live *l)
{
	return bbt_live_word(l, QB_BB_RB_USER_OFFSET + offsetof(struct qb_log_blackbox_owner, seq));
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
		h->wp = bbt_live_word(l, QB_BB_RB_OFF_WRITE_PT);
		h->rp = bbt_live_word(l, QB_BB_RB_OFF_READ_PT);
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
	n = pread_full(l->dfd, dst + (size_t)from * 4, (size_t)first * 4, (off_t)from * 4);
	if (n != (ssize_t)first * 4) {
		return -EIO;
	}
	if (count > first) {
		n = pread_full(l->dfd, dst, (size_t)(count - first) * 4, 0);
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
 * A writer stores at most this many bytes per ns (200 MB/s is several
 * times what a libqb blackbox writer reaches).  A piece of our copy that
 * took longer than the writer needs for a quarter ring (we were
 * preempted) makes the position arithmetic unsafe: that attempt only
 * counts if the seq counter proves nothing moved.
 */
#define WRITER_NS_PER_BYTE 5

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
		uint32_t wnow = bbt_live_word(l, QB_BB_RB_OFF_WRITE_PT);

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
	r->word_size = S;
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
	r->write_pt = h1.wp;
	r->read_pt = h1.rp;
	r->start = start;
	r->seq = h1.seq;
	r->skipped = (uint64_t)skip;
	return 0;
}

/* ------------------------------------------------------------ records */

void bbt_chunk_copy(const unsigned char *data, uint32_t words, uint32_t word, unsigned char *dst,
		    size_t len)
{
	size_t ring_bytes = (size_t)words * 4;
	size_t off = (size_t)(word % words) * 4;
	size_t first = ring_bytes - off;

	if (first > len) {
		first = len;
	}
	memcpy(dst, data + off, first);
	memcpy(dst + first, data, len - first);
}

uint32_t bbt_next_chunk(const struct bbt_ring *r, uint32_t p, uint32_t len)
{
	return (uint32_t)(((uint64_t)p + 2 + len / 4 + (len % 4 ? 1 : 0)) % r->word_size);
}

int bbt_decode(const unsigned char *rec, uint32_t len, int hires, struct bbt_rec *out, char *errmsg,
	       size_t errlen)
{
	size_t ts_size = hires ? 16 : 8;
	uint32_t fn_size, msg_len;
	int32_t fn_signed;

	if (len < 27) {
		snprintf(errmsg, errlen, "ERROR Corrupt file: blackbox header too small.");
		return -1;
	}
	out->line = get_u32(rec);
	out->tags = get_u32(rec + 4);
	out->prio = rec[8];
	fn_size = get_u32(rec + 9);
	fn_signed = (int32_t)fn_size;
	if ((uint64_t)fn_size + 13 + ts_size + 4 > len) {
		snprintf(errmsg, errlen, "ERROR Corrupt file: fn_size way too big %d", fn_signed);
		return -EIO;
	}
	if (fn_signed <= 0) {
		snprintf(errmsg, errlen, "ERROR Corrupt file: fn_size negative %d", fn_signed);
		return -EIO;
	}
	msg_len = get_u32(rec + 13 + fn_size + ts_size);
	if (msg_len == 0 || msg_len > BBT_MSG_MAX ||
	    (uint64_t)13 + fn_size + ts_size + 4 + msg_len > len) {
		snprintf(errmsg, errlen, "ERROR Corrupt file: msg_len out of bounds %d",
			 (int32_t)msg_len);
		return -EIO;
	}
	out->fn = (const char *)rec + 13;
	out->fn_len = strnlen(out->fn, fn_size);
	memcpy(&out->sec, rec + 13 + fn_size, 8);
	out->nsec = 0;
	if (hires) {
		memcpy(&out->nsec, rec + 13 + fn_size + 8, 8);
	}
	out->msg = rec + 13 + fn_size + ts_size + 4;
	out->msg_len = msg_len;
	return 0;
}

static int walk_add(struct bbt_walk *w, const struct bbt_rec *rec)
{
	struct bbt_rec *n;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		n = realloc(w->recs, w->cap * sizeof(*n));
		if (n == NULL) {
			return -ENOMEM;
		}
		w->recs = n;
	}
	w->recs[w->n++] = *rec;
	return 0;
}

void bbt_walk_free(struct bbt_walk *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		free(w->recs[i].chunk);
	}
	free(w->recs);
	memset(w, 0, sizeof(*w));
}

/*
 * Decodes the committed records from `from` to write_pt.  A ring holds at
 * most word_size / 2 chunks, which bounds a cyclic (corrupt) chain.  Each
 * record is copied out (a chunk may wrap round the end of the ring).  With
 * quiet, damage ends the walk without a message (a live ring read while
 * written).
 */
int bbt_walk(const struct bbt_ring *r, uint32_t from, int quiet, struct bbt_walk *w)
{
	uint32_t p = from, count = 0;
	unsigned char *chunk;
	struct bbt_rec rec;

	memset(w, 0, sizeof(*w));
	while (p != r->write_pt && count++ <= r->word_size / 2) {
		if (get_u32(r->data + (size_t)((p + 1) % r->word_size) * 4) != QB_BB_CHUNK_MAGIC) {
			break;
		}
		uint32_t len = get_u32(r->data + (size_t)p * 4);
		int rc;

		if (len > BBT_CHUNK_MAX || len > (uint64_t)r->word_size * 4 - 8) {
			if (!quiet) {
				snprintf(w->errmsg, sizeof(w->errmsg),
					 "ERROR: blackbox record of %u bytes is too big", len);
				w->err_stderr = 1;
				w->err = -ENOBUFS;
			}
			break;
		}
		chunk = malloc(len ? len : 1);
		if (chunk == NULL) {
			w->err = -ENOMEM;
			break;
		}
		bbt_chunk_copy(r->data, r->word_size, p + 2, chunk, len);
		rc = bbt_decode(chunk, len, r->hires, &rec, w->errmsg, sizeof(w->errmsg));
		if (rc != 0 || walk_add(w, &rec) != 0) {
			free(chunk);
			if (quiet) {
				w->errmsg[0] = '\0';
			} else {
				w->err = rc != 0 ? rc : -ENOMEM;
			}
			break;
		}
		w->recs[w->n - 1].chunk = chunk;
		p = bbt_next_chunk(r, p, len);
	}
	w->end = p;
	return w->err;
}
