/*
 * --follow: print a live blackbox's records, then new ones as they are
 * written, like tail -f.  The writer is not disturbed: the files are only
 * read (pread, no mapping, no lock), and the ring's write position is
 * polled with a backoff (2 ms after activity, doubling to 50 ms when idle).
 *
 * Records the writer overwrote before we read them are counted: our writer
 * bumps the owner record's seq by 2 per record, so the records written
 * since the last read are known exactly; the distro's writer keeps no
 * count, so there we can only say that some were lost.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bbt.h"

#define POLL_MIN_NS 2000000L
#define POLL_MAX_NS 50000000L
#define ALIVE_EVERY_NS 1000000000LL

struct follow {
	const struct bbt_opts *o;
	struct bbt_live l;
	struct bbt_ring r; /* our copy of the ring's data */
	uint32_t pos;	   /* end of what we printed */
	uint32_t seq;	   /* owner seq at that point */
	long mappers[16];  /* processes mapping the ring */
	size_t nmappers;
	char *msg;
	unsigned long long lost;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void print_recs(struct follow *f, const struct bbt_walk *w, size_t first)
{
	size_t i;

	for (i = first; i < w->n; i++) {
		if (bbt_rec_wanted(f->o, &w->recs[i], f->msg, BBT_MSG_MAX + 1)) {
			bbt_print_rec(f->o, &w->recs[i], f->msg, &f->r.who);
		}
	}
	fflush(stdout);
}

static void say_lost(struct follow *f, unsigned long long n, int exact)
{
	if (exact) {
		bbt_note(f->o, "... %llu records lost ...\n", n);
		f->lost += n;
	} else {
		bbt_note(f->o, "... records lost (this writer keeps no count) ...\n");
	}
}

/* Is pos on the way from rp to wp (circularly)? */
static int between(uint32_t rp, uint32_t pos, uint32_t wp, uint32_t S)
{
	return (pos + S - rp) % S <= (wp + S - rp) % S;
}

/*
 * The cheap way: our position is still in the ring (between rp and wp):
 * copy [pos, wp) and keep it if nothing moved under us and the records
 * from pos reach wp (and, with a count, are exactly as many as were
 * written).  1 when done, 0 when a snapshot is needed.
 */
static int follow_in_place(struct follow *f, uint32_t wp, uint32_t rp, uint32_t seq,
			   uint32_t written)
{
	struct bbt_ring *r = &f->r;
	struct bbt_walk w;
	uint32_t S = r->v.words, n, first_part, rp2, seq2;
	int done = 0;

	if (wp >= S || rp >= S || !between(rp, f->pos, wp, S)) {
		return 0;
	}
	n = (wp + S - f->pos) % S;
	first_part = S - f->pos < n ? S - f->pos : n;
	if (pread(f->l.dfd, r->data + (size_t)f->pos * 4, (size_t)first_part * 4,
		  (off_t)f->pos * 4) != (ssize_t)first_part * 4 ||
	    (n != first_part &&
	     pread(f->l.dfd, r->data, (size_t)(n - first_part) * 4, 0) !=
		     (ssize_t)(n - first_part) * 4)) {
		return 0;
	}
	rp2 = bbt_live_word(&f->l, RB_HDR_READ_PT);
	seq2 = f->l.has_seq ? bbt_live_seq(&f->l) : 0;
	r->v.write_pt = wp;
	if (!between(rp, rp2, wp, S) || !between(rp2, f->pos, wp, S) ||
	    (f->l.has_seq && seq2 != seq)) {
		return 0;
	}
	bbt_walk(r, f->pos, 1, &w);
	if (w.end == wp && (!f->l.has_seq || w.n == written)) {
		print_recs(f, &w, 0);
		f->pos = wp;
		f->seq = seq;
		done = 1;
	}
	bbt_walk_free(&w);
	return done;
}

/*
 * Lapped (or moved while we copied): a fresh consistent snapshot, of
 * which only the newest records are new.  1, or a negative errno.
 */
static int follow_snapshot(struct follow *f)
{
	struct bbt_ring snap;
	struct bbt_walk w, from_pos;
	size_t first = 0;
	int rc;

	rc = bbt_live_snapshot(&f->l, &snap);
	if (rc != 0) {
		return rc;
	}
	bbt_walk(&snap, snap.start, 1, &w);
	if (f->l.has_seq) {
		uint32_t written = (snap.seq - f->seq) / 2;

		if (written < w.n) {
			first = w.n - written; /* older ones we printed already */
		} else if (written > w.n) {
			say_lost(f, written - w.n, 1);
		}
		f->seq = snap.seq & ~1u;
	} else {
		/* still in the ring if the records from our position reach
		 * the write position; else lapped */
		bbt_walk(&snap, f->pos, 1, &from_pos);
		if (between(snap.start, f->pos, snap.v.write_pt, snap.v.words) &&
		    from_pos.end == snap.v.write_pt) {
			bbt_walk_free(&w);
			w = from_pos;
		} else {
			bbt_walk_free(&from_pos);
			say_lost(f, 0, 0);
		}
	}
	print_recs(f, &w, first);
	f->pos = snap.v.write_pt;
	bbt_walk_free(&w);
	bbt_ring_free(&f->r);
	f->r = snap;
	return 1;
}

#define STEP_MID_RECORD 2

/*
 * One read of what is new: 1 when something was, STEP_MID_RECORD when the
 * writer is inside a record (soon, unless it died there, so a drain must
 * not wait for it), 0 when nothing, or a negative errno.
 */
static int follow_step(struct follow *f)
{
	uint32_t wp, rp, seq = 0, written = 0;

	if (f->l.has_seq) {
		seq = bbt_live_seq(&f->l);
		if (seq & 1) {
			return STEP_MID_RECORD;
		}
		written = (seq - f->seq) / 2;
		if (written == 0) {
			return 0;
		}
	}
	wp = bbt_live_word(&f->l, RB_HDR_WRITE_PT);
	rp = bbt_live_word(&f->l, RB_HDR_READ_PT);
	if (!f->l.has_seq && wp == f->pos) {
		return 0;
	}
	if (follow_in_place(f, wp, rp, seq, written)) {
		return 1;
	}
	return follow_snapshot(f);
}

/* Which processes map the ring now (other than us). */
static void find_mappers(struct follow *f, const char *header)
{
	struct bbt_procs *p = bbt_procs_load(bbt_shm_dir());
	char dpath[PATH_MAX];

	f->nmappers = 0;
	if (p != NULL && bbt_data_name(header, dpath, sizeof(dpath)) == 0) {
		f->nmappers = bbt_proc_mappers(p, dpath, f->mappers, 16);
	}
	bbt_procs_free(p);
}

/* Does pid still map the inode of our data file? */
static int still_maps(const struct follow *f, long pid)
{
	char path[64], line[PATH_MAX + 128];
	unsigned long long ino;
	unsigned int maj, min;
	int found = 0;
	FILE *m;

	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	m = fopen(path, "re");
	if (m == NULL) {
		return 0;
	}
	while (!found && fgets(line, sizeof(line), m) != NULL) {
		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min, &ino) == 3 &&
		    ino == (unsigned long long)f->l.dino) {
			found = 1;
		}
	}
	fclose(m);
	return found;
}

static int writer_alive(struct follow *f)
{
	struct stat st;
	size_t i;

	if (fstat(f->l.dfd, &st) == 0 && st.st_nlink == 0) {
		return 0; /* removed by its writer (closed) */
	}
	for (i = 0; i < f->nmappers; i++) {
		if (still_maps(f, f->mappers[i])) {
			return 1;
		}
	}
	return 0;
}

int bbt_follow(const struct bbt_opts *o, const char *header)
{
	struct follow f;
	struct bbt_walk w;
	struct timespec pause;
	int64_t wait = POLL_MIN_NS, last_alive;
	size_t first = 0;
	int rc, active;

	memset(&f, 0, sizeof(f));
	f.o = o;
	f.msg = malloc(BBT_MSG_MAX + 1);
	if (f.msg == NULL) {
		return -ENOMEM;
	}
	rc = bbt_live_open(header, &f.l);
	if (rc != 0) {
		free(f.msg);
		return rc;
	}
	find_mappers(&f, header);
	rc = bbt_live_snapshot(&f.l, &f.r);
	if (rc != 0) {
		goto out;
	}
	bbt_walk(&f.r, f.r.start, 1, &w);
	if (o->lines >= 0 && w.n > (size_t)o->lines) {
		first = w.n - (size_t)o->lines;
	}
	print_recs(&f, &w, first);
	f.pos = w.end;
	f.seq = f.r.seq & ~1u;
	bbt_walk_free(&w);
	last_alive = now_ns();
	for (;;) {
		active = follow_step(&f);
		if (active < 0) {
			rc = active;
			break;
		}
		if (active) {
			wait = POLL_MIN_NS;
		}
		if (now_ns() - last_alive >= ALIVE_EVERY_NS || f.nmappers == 0) {
			if (!writer_alive(&f)) {
				while (follow_step(&f) == 1) {
				}
				bbt_note(o, "... writer (pid %ld) has exited ...\n", f.r.who.pid);
				rc = 0;
				break;
			}
			last_alive = now_ns();
		}
		if (active == 1) {
			continue;
		}
		pause.tv_sec = 0;
		pause.tv_nsec = wait;
		nanosleep(&pause, NULL);
		wait = wait * 2 > POLL_MAX_NS ? POLL_MAX_NS : wait * 2;
	}
out:
	bbt_ring_free(&f.r);
	bbt_live_close(&f.l);
	free(f.msg);
	return rc;
}
