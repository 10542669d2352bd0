/*
 * Reading rings: dump files (live blackboxes: bbt_live.c), and walking
 * their records.  Every input is untrusted (a file in /dev/shm may be
 * anyone's, and may change while we read it), so files are read with
 * pread, never mapped (a truncation cannot fault us), and only regular
 * files are opened.
 *
 * Dump file (version 2): BB_DUMP_MARKER, then a ring dump (lib/rb's
 * format, read through rb_view).  Without the marker: an old plain ring
 * dump, records with an 8-byte time.  Marker and record layout:
 * lib/log/bb_record.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bbt.h"

static const uint32_t dump_marker[BB_DUMP_MARKER_WORDS] = BB_DUMP_MARKER;

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
ssize_t bbt_pread_full(int fd, void *buf, size_t len, off_t off)
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
	n = bbt_pread_full(fd, buf, (size_t)st.st_size, 0);
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
	if (rb_view_from_dump(&r->v, buf, len) != 0) {
		return -EIO;
	}
	r->data = malloc((size_t)r->v.words * 4);
	if (r->data == NULL) {
		return -ENOMEM;
	}
	memcpy(r->data, r->v.data, (size_t)r->v.words * 4);
	r->v.data = r->data;
	r->start = r->v.read_pt;
	r->hires = hires;
	return 0;
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
	if (rb_header_is_ring(buf, len)) {
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

/* ------------------------------------------------------------ records */

/* The bbt_rec of a record, with the message qb_log_blackbox_print_from_file
 * prints for the damage (-1 for a record too short, -EIO otherwise). */
int bbt_decode(const unsigned char *rec, uint32_t len, int hires, struct bbt_rec *out, char *errmsg,
	       size_t errlen)
{
	size_t ts_size = hires ? BB_REC_TS_SIZE : BB_REC_TS_SIZE_OLD;
	struct bb_rec_fields f;

	switch (bb_rec_parse(rec, len, ts_size, BBT_MSG_MAX, &f)) {
	case BB_REC_OK:
		break;
	case BB_REC_SHORT:
		snprintf(errmsg, errlen, "ERROR Corrupt file: blackbox header too small.");
		return -1;
	case BB_REC_FN_TOO_BIG:
		snprintf(errmsg, errlen, "ERROR Corrupt file: fn_size way too big %d",
			 (int32_t)f.fn_size);
		return -EIO;
	case BB_REC_FN_NEGATIVE:
		snprintf(errmsg, errlen, "ERROR Corrupt file: fn_size negative %d",
			 (int32_t)f.fn_size);
		return -EIO;
	default:
		snprintf(errmsg, errlen, "ERROR Corrupt file: msg_len out of bounds %d",
			 (int32_t)f.msg_len);
		return -EIO;
	}
	out->line = f.lineno;
	out->tags = f.tags;
	out->prio = f.priority;
	out->fn = f.function;
	out->fn_len = strnlen(f.function, f.fn_size);
	memcpy(&out->sec, f.time, sizeof(out->sec));
	out->nsec = 0;
	if (hires) {
		memcpy(&out->nsec, f.time + sizeof(out->sec), sizeof(out->nsec));
	}
	out->msg = (const unsigned char *)f.msg;
	out->msg_len = f.msg_len;
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
	uint32_t p = from, count = 0, len;
	unsigned char *chunk;
	struct bbt_rec rec;

	memset(w, 0, sizeof(*w));
	while (p != r->v.write_pt && count++ <= r->v.words / 2) {
		int rc = rb_view_chunk(&r->v, p, &len);

		if (rc == -ENOMSG) {
			break;
		}
		if (rc != 0 || len > BBT_CHUNK_MAX) {
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
		(void)rb_view_read(&r->v, p, 0, chunk, len);
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
		p = rb_view_next(&r->v, p, len);
	}
	w->end = p;
	return w->err;
}
