/*
 * Blackbox dumps: writing the live ring to a file (safe in a signal
 * handler) and printing a dump or a live blackbox file.
 *
 * Dump file (version 2, shared with other libqb implementations):
 *
 *   u32 0, u32 0xCCBBCCBB, u32 0xBBCCBBCC, u32 2, u32 0    20-byte marker
 *   u32 word_size, write_pt, read_pt, 1, hash              ring dump header
 *   word_size * 4 bytes of ring data, as laid out in memory
 *
 * hash = word_size + write_pt + read_pt + 1 (mod 2^32).  A file without the
 * marker is an old plain ring dump whose records carry an 8-byte time_t
 * instead of a struct timespec.
 *
 * Records: bb_record.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "log/blackbox_internal.h"
#include "log/bb_record.h"
#include "util/util_internal.h"

static const uint32_t dump_marker[BB_DUMP_MARKER_WORDS] = BB_DUMP_MARKER;

/* ------------------------------------------------------------- writing */

/* How long a dump waits for a record writer on another thread. */
#define DUMP_WAIT_NS (50 * 1000000LL)

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe */
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Waits a bounded time for the holder of writer_lock to leave the ring.
 * When that holder is the thread we run on (a signal, a crash in the
 * middle of a record), waiting cannot help: copy at once.  The bound is
 * time, not a count of yields: a yield can take long where threads are
 * serialised (valgrind).
 */
static void dump_wait_for_writer(void)
{
	int64_t start;

	if (word_lock_mine(&bb_global.writer_lock)) {
		return;
	}
	start = monotonic_ns();
	while (word_lock_held(&bb_global.writer_lock) && monotonic_ns() - start < DUMP_WAIT_NS) {
		sched_yield();
	}
}

static int dump_open(const char *filename)
{
	int fd;

	do {
		fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		return -errno;
	}
	/* never leave our file on someone's stdin/stdout/stderr */
	return util_fd_hygiene(fd);
}

/*
 * Where a dump taken while a writer is still inside the ring should start.
 * That writer may be reclaiming the oldest record: its header already
 * cleared (size 0, then magic dead) but read_pt not yet moved past it.  The
 * record's own fields still give its length, so the dump starts at the next
 * one.  Anything implausible leaves read_pt as it is (the reader then stops
 * cleanly at the first bad chunk).
 */
static uint32_t dump_oldest(const struct rb_view *v)
{
	uint32_t rp = v->read_pt, n = v->words;
	uint32_t len, fn_size, msg_len;

	if (n < 64 || rp >= n || rp == v->write_pt) {
		return rp;
	}
	if (rb_view_chunk(v, rp, &len) != -ENOMSG && len != 0) {
		return rp;
	}
	if (rb_view_read(v, rp, BB_REC_FN_SIZE, &fn_size, 4) != 0 ||
	    fn_size > (n - 2) * 4 - BB_REC_FIXED) {
		return rp;
	}
	if (rb_view_read(v, rp, bb_rec_msg_len_off(fn_size, BB_REC_TS_SIZE), &msg_len, 4) != 0 ||
	    msg_len > (n - 2) * 4 - BB_REC_FIXED - fn_size) {
		return rp;
	}
	return rb_view_next(v, rp, BB_REC_FIXED + fn_size + msg_len);
}

/*
 * Async-signal-safe: no allocation, no locks, only open/write/close/fcntl,
 * clock_gettime and sched_yield.  Writers see `dumping` and wait (they never
 * modify the ring while a dump copies it).  If writer_lock is held by the
 * thread this signal interrupted, or stays held by another thread past the
 * bound, we copy anyway: an unfinished chunk is not yet committed, so
 * readers stop before it, and a record it was dropping is skipped
 * (dump_oldest).
 */
ssize_t qb_log_blackbox_write_to_file(const char *filename)
{
	qb_ringbuffer_t *rb;
	struct rb_view v;
	ssize_t total;
	int fd;

	if (filename == NULL) {
		return -EINVAL;
	}
	/* a count, so nested or concurrent dumps all hold writers off */
	atomic_fetch_add(&bb_global.dumping, 1);
	dump_wait_for_writer();
	rb = bb_global.rb; /* stays mapped while `dumping` is up */
	if (rb == NULL) {
		atomic_fetch_sub(&bb_global.dumping, 1);
		return -ENOENT;
	}
	fd = dump_open(filename);
	if (fd < 0) {
		atomic_fetch_sub(&bb_global.dumping, 1);
		return fd;
	}
	rb_view_of(rb, &v);
	if (word_lock_held(&bb_global.writer_lock)) {
		v.read_pt = dump_oldest(&v);
	}
	total = rb_view_dump(fd, &v, dump_marker, sizeof(dump_marker));
	close(fd);
	atomic_fetch_sub(&bb_global.dumping, 1);
	return total;
}

/* ------------------------------------------------------------- reading */

#define READ_MSG_MAX 4096 /* largest msg_len we print */
#define READ_CHUNK_MAX (READ_MSG_MAX + BB_REC_FIXED + 4096)
#define UPSTREAM_MSG_MAX 512

static const char *const read_prio_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "trace",
};

/* A ring image and how to read its records. */
struct read_ring {
	struct rb_view v;
	int hires; /* records carry a struct timespec */
	int torn;  /* live snapshot taken while written: the
					 * listing ends quietly at the first bad record */
};

static void read_print_state(const struct read_ring *r)
{
	uint32_t w = r->v.write_pt, rp = r->v.read_pt, ws = r->v.words;
	ssize_t free_w, used_w;

	if (w > rp) {
		free_w = (ssize_t)rp - w + ws - 1;
		used_w = (ssize_t)w - rp;
	} else if (w < rp) {
		free_w = (ssize_t)rp - w - 1;
		used_w = (ssize_t)w - rp + ws - 1;
	} else {
		free_w = ws;
		used_w = 0;
	}
	printf("Ringbuffer: \n ->NORMAL\n ->write_pt [%u]\n ->read_pt [%u]\n"
	       " ->size [%u words]\n =>free [%zd bytes]\n =>used [%zd bytes]\n",
	       w, rp, ws, free_w * 4, used_w * 4);
}

static void read_format_time(const unsigned char *ts, int hires, char *out, size_t len)
{
	int64_t sec;
	int64_t nsec = 0;
	time_t t;
	struct tm tm;
	char suffix[32];
	size_t n;

	memcpy(&sec, ts, sizeof(sec));
	if (hires) {
		memcpy(&nsec, ts + 8, sizeof(nsec));
	}
	t = (time_t)sec;
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "%lld", (long long)sec);
		return;
	}
	n = strftime(out, len, "%b %d %T", &tm);
	snprintf(suffix, sizeof(suffix), ".%03llu", (unsigned long long)nsec / 1000000ULL);
	/* at most 7 characters, dot included (only a corrupt nsec is longer) */
	snprintf(out + n, len - n, "%.7s", suffix);
}

/* Prints one record; 0, or the negative code that ends the listing. */
static int read_print_record(const unsigned char *rec, uint32_t len, int hires, char *msg,
			     size_t msg_cap, int quiet)
{
	struct bb_rec_fields f;
	char when[64];
	size_t out_cap;
	size_t n;

	switch (bb_rec_parse(rec, len, hires ? BB_REC_TS_SIZE : BB_REC_TS_SIZE_OLD, READ_MSG_MAX,
			     &f)) {
	case BB_REC_OK:
		break;
	case BB_REC_SHORT:
		if (!quiet) {
			printf("ERROR Corrupt file: blackbox header too small.\n");
		}
		return -1;
	case BB_REC_FN_TOO_BIG:
		if (!quiet) {
			printf("ERROR Corrupt file: fn_size way too big %d\n", (int32_t)f.fn_size);
		}
		return -EIO;
	case BB_REC_FN_NEGATIVE:
		if (!quiet) {
			printf("ERROR Corrupt file: fn_size negative %d\n", (int32_t)f.fn_size);
		}
		return -EIO;
	default:
		if (!quiet) {
			printf("ERROR Corrupt file: msg_len out of bounds %d\n",
			       (int32_t)f.msg_len);
		}
		return -EIO;
	}
	/* records that older readers accept print in the same 512 bytes */
	out_cap = (f.msg_len <= UPSTREAM_MSG_MAX) ? UPSTREAM_MSG_MAX : msg_cap;
	bb_msg_render(msg, out_cap, f.msg, f.msg_len);
	n = strlen(msg);
	while (n > 1 && msg[n - 1] == '\n') {
		msg[--n] = '\0';
	}
	read_format_time(f.time, hires, when, sizeof(when));
	printf("%-7s %s %.*s(%u):%u: %s\n", read_prio_names[f.priority > 8 ? 8 : f.priority], when,
	       (int)strnlen(f.function, f.fn_size), f.function, f.lineno, f.tags, msg);
	return 0;
}

static int read_print_ring(const struct read_ring *r)
{
	unsigned char *chunk;
	char *msg;
	uint32_t p = r->v.read_pt;
	uint32_t len;
	uint32_t count = 0;
	int rc = 0;

	read_print_state(r);
	chunk = malloc(READ_CHUNK_MAX);
	msg = malloc(READ_MSG_MAX + 1);
	if (chunk == NULL || msg == NULL) {
		free(chunk);
		free(msg);
		return -ENOMEM;
	}
	/* Walk committed chunks from the oldest; the ring can hold at most
	 * word_size / 2 of them, which bounds a cyclic (corrupt) chain. */
	while (p != r->v.write_pt && count++ <= r->v.words / 2) {
		int crc = rb_view_chunk(&r->v, p, &len);

		if (crc == -ENOMSG) {
			break;
		}
		if (crc != 0 || len > READ_CHUNK_MAX) {
			if (!r->torn) {
				fprintf(stderr, "ERROR: blackbox record of %u bytes is too big\n",
					len);
			}
			rc = -ENOBUFS;
			break;
		}
		(void)rb_view_read(&r->v, p, 0, chunk, len);
		rc = read_print_record(chunk, len, r->hires, msg, READ_MSG_MAX + 1, r->torn);
		if (rc != 0) {
			break;
		}
		p = rb_view_next(&r->v, p, len);
	}
	free(chunk);
	free(msg);
	return r->torn ? 0 : rc;
}

/* Validates a plain ring dump of len bytes (ringbuffer.md §7). */
static int read_ring_dump(const unsigned char *buf, size_t len, int hires, struct read_ring *r)
{
	if (rb_view_from_dump(&r->v, buf, len) != 0) {
		return -EIO;
	}
	r->hires = hires;
	r->torn = 0;
	return 0;
}

static int read_whole_fd(int fd, unsigned char **out, size_t *out_len, size_t max)
{
	struct stat st;
	unsigned char *buf;
	size_t len, got = 0;
	ssize_t n;

	if (fstat(fd, &st) != 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		return -EFBIG;
	}
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	*out = buf;
	*out_len = got;
	return 0;
}

#define READ_FILE_MAX ((size_t)1 << 31)

/* The data file of a live blackbox: next to the header we were given
 * ("...-header" -> "...-data"), never the path recorded inside the header
 * (the file may be anyone's), and only a regular file: O_NONBLOCK so that
 * a FIFO planted there cannot block us, O_NOFOLLOW for symbolic links. */
static int read_open_live_data(const char *hdr_file)
{
	char path[PATH_MAX + 16];
	size_t n = strlen(hdr_file);
	int fd;

	if (n <= 7 || n >= sizeof(path) - 8 || strcmp(hdr_file + n - 7, "-header") != 0) {
		return -ENOENT;
	}
	memcpy(path, hdr_file, n - 7);
	strcpy(path + n - 7, "-data");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* The owner record's seq of a header image, or -1 without an owner record
 * (blackboxes of other libqb versions: no way to tell a torn snapshot). */
static int64_t read_owner_seq(const unsigned char *hdr, size_t len)
{
	const void *user = rb_header_user(hdr, len, sizeof(struct bb_owner));
	struct bb_owner o;

	if (user == NULL) {
		return -1;
	}
	memcpy(&o, user, sizeof(o));
	if (memcmp(o.magic, QB_BB_OWNER_MAGIC, sizeof(o.magic)) != 0) {
		return -1;
	}
	return o.seq;
}

#define LIVE_HDR_LEN (RB_HDR_SIZE + sizeof(struct bb_owner))

/*
 * Snapshot of a live blackbox: header words, then the whole data file.  Its
 * owner may write meanwhile; its seq (odd during a record, bumped by each)
 * must read the same, and even, before and after, else we try again.
 */
static int read_print_live(const char *filename, const unsigned char *first, size_t first_len)
{
	unsigned char hdr[LIVE_HDR_LEN], again[LIVE_HDR_LEN];
	struct read_ring r;
	unsigned char *data = NULL;
	size_t data_len = 0, hlen;
	int64_t s1, s2;
	int tries, fd, hfd;
	int have_again = 0;
	int rc = 0;

	hlen = first_len < sizeof(hdr) ? first_len : sizeof(hdr);
	memcpy(hdr, first, hlen);
	hfd = open(filename, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	for (tries = 0; tries < 20; tries++) {
		if (tries > 0 && hfd >= 0) {
			ssize_t n = pread(hfd, hdr, sizeof(hdr), 0);

			hlen = n > 0 ? (size_t)n : 0;
		}
		s1 = read_owner_seq(hdr, hlen);
		if (s1 >= 0 && (s1 & 1) && tries < 10) {
			sched_yield();
			continue;
		}
		free(data);
		data = NULL;
		fd = read_open_live_data(filename);
		if (fd < 0) {
			rc = fd;
			break;
		}
		rc = read_whole_fd(fd, &data, &data_len, READ_FILE_MAX);
		close(fd);
		if (rc != 0 || s1 < 0 || hfd < 0) {
			break;
		}
		have_again = pread(hfd, again, sizeof(again), 0) == (ssize_t)sizeof(again);
		s2 = have_again ? read_owner_seq(again, sizeof(again)) : -1;
		if (s1 == s2 && !(s1 & 1)) {
			have_again = 0;
			break;
		}
	}
	if (hfd >= 0) {
		close(hfd);
	}
	if (rc != 0 || data == NULL) {
		free(data);
		return rc != 0 ? rc : -EIO;
	}
	r.hires = 1;
	r.torn = have_again;
	/* still busy after every try (have_again): the records committed
	 * before our copy began and not yet reclaimed when it ended are
	 * intact, so read from the later read_pt */
	if (rb_view_from_header(&r.v, hdr, hlen, have_again ? again : NULL, data, data_len) != 0) {
		rc = -EIO;
	} else {
		rc = read_print_ring(&r);
	}
	free(data);
	return rc;
}

int qb_log_blackbox_print_from_file(const char *filename)
{
	struct read_ring r;
	unsigned char *buf = NULL;
	size_t len = 0;
	int fd;
	int rc;

	if (filename == NULL) {
		return -EINVAL;
	}
	/* O_NONBLOCK: a FIFO must not block us (read_whole_fd refuses it) */
	fd = open(filename, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return -errno;
	}
	rc = read_whole_fd(fd, &buf, &len, READ_FILE_MAX);
	close(fd);
	if (rc != 0) {
		return rc;
	}
	if (rb_header_is_ring(buf, len)) {
		rc = read_print_live(filename, buf, len);
	} else if (len >= sizeof(dump_marker) &&
		   memcmp(buf, dump_marker, sizeof(dump_marker)) == 0) {
		rc = read_ring_dump(buf + 20, len - 20, 1, &r);
		if (rc == 0) {
			rc = read_print_ring(&r);
		}
	} else {
		rc = read_ring_dump(buf, len, 0, &r);
		if (rc == 0) {
			rc = read_print_ring(&r);
		}
	}
	free(buf);
	fflush(stdout);
	return rc;
}
