/*
 * qb-blackbox internals, shared by the tool's files:
 *
 *   bbt_main.c    options, dispatch, exit codes
 *   bbt_ring.c    opening files safely, dump files, walking a ring's
 *                 records
 *   bbt_live.c    live blackboxes: their files, snapshots (lap detection)
 *   bbt_output.c  filters, plain and JSON output, time parsing
 *   bbt_follow.c  --follow
 *   bbt_scan.c    the /dev/shm scan: names, sizes, owner records
 *   bbt_procs.c   the processes we can see, and the state of each entry
 *   bbt_clean.c   --list, --clean, --save, --pid/--ident selection
 *
 * Names are bbt_ (blackbox tool); nothing here is part of libqb.  The
 * ring's layout is lib/rb's (rb_internal.h: the read-only view and the
 * header readers), the record's is lib/log/bb_record.h's.
 */
#ifndef QB_TOOLS_BBT_H_DEFINED
#define QB_TOOLS_BBT_H_DEFINED

#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "log/bb_record.h"
#include "log/blackbox_internal.h"

/* exit codes (documented in qb-blackbox.8) */
#define BBT_EXIT_OK 0
#define BBT_EXIT_USAGE 1
#define BBT_EXIT_NOTFOUND 2
#define BBT_EXIT_BAD 3

#define BBT_MSG_MAX 4096 /* largest msg_len printed */
#define BBT_CHUNK_MAX (BBT_MSG_MAX + BB_REC_FIXED + 4096)
#define BBT_FILE_MAX ((size_t)1 << 31)

/* ------------------------------------------------------------ records */

/* One decoded record; pointers into the ring copy it came from. */
struct bbt_rec {
	uint32_t line;
	uint32_t tags;
	uint8_t prio;
	const char *fn;
	size_t fn_len;
	int64_t sec;
	int64_t nsec;
	const unsigned char *msg;
	uint32_t msg_len;
	unsigned char *chunk; /* the copy the pointers point into */
};

/* Who wrote a ring, as far as known (pid -1 / ident "" when not). */
struct bbt_who {
	long pid;
	char ident[256];
};

/*
 * A consistent copy of a ring: a view (words, write_pt, read_pt) of data,
 * the data area (v.words * 4 bytes, owned).  start is where the records to
 * show begin (normally read_pt), skipped the bytes of older records that
 * were overwritten while we read and are left out.
 */
struct bbt_ring {
	struct rb_view v; /* v.data == data */
	uint32_t start;
	unsigned char *data;
	int hires;	  /* records carry a struct timespec */
	int live;	  /* read from a live header + data pair */
	int has_seq;	  /* owner record with a seq counter */
	uint32_t seq;	  /* its value (even) for the copy */
	uint64_t skipped; /* bytes left out (lapped while copying) */
	struct bbt_who who;
};

/* Result of walking a ring's records. */
struct bbt_walk {
	struct bbt_rec *recs;
	size_t n, cap;
	uint32_t end;	  /* word index where the walk stopped */
	int err;	  /* 0, or the negative code of the damage */
	char errmsg[128]; /* stdout line for the damage ("" if none) */
	int err_stderr;	  /* errmsg goes to stderr */
};

int bbt_open_regular(const char *path, int flags);
int bbt_read_file(const char *path, struct bbt_ring *r);
void bbt_ring_free(struct bbt_ring *r);
int bbt_walk(const struct bbt_ring *r, uint32_t from, int quiet, struct bbt_walk *w);
void bbt_walk_free(struct bbt_walk *w);
int bbt_decode(const unsigned char *rec, uint32_t len, int hires, struct bbt_rec *out, char *errmsg,
	       size_t errlen);
ssize_t bbt_pread_full(int fd, void *buf, size_t len, off_t off);

/* Live snapshot helpers, shared with --follow. */
struct bbt_live {
	int hfd, dfd;
	const volatile unsigned char *hdr; /* read-only shared mappings */
	const volatile unsigned char *data;
	size_t hdr_len, data_len;
	uint32_t word_size;
	int has_seq;
	struct bbt_who who;
	dev_t dev;
	ino_t hino, dino;
};
int bbt_live_open(const char *header, struct bbt_live *l);
void bbt_live_close(struct bbt_live *l);
int bbt_live_snapshot(struct bbt_live *l, struct bbt_ring *r);
uint32_t bbt_live_seq(const struct bbt_live *l);
uint32_t bbt_live_word(const struct bbt_live *l, enum rb_hdr_word w);
int bbt_data_name(const char *header, char *out, size_t len);

/* ------------------------------------------------------------ output */

enum bbt_format { BBT_PLAIN, BBT_JSON };

struct bbt_opts {
	enum bbt_format format;
	int have_since, have_until;
	int64_t since, until; /* ns since the epoch */
	int max_prio;	      /* show prio <= max_prio */
	int have_grep;
	regex_t grep;
	long lines; /* -1: all */
	int follow, all, dry_run;
	long pid;	   /* --pid, -1 none */
	const char *ident; /* --ident */
	const char *save_dir;
};

extern const char *const bbt_prio_names[9];

int bbt_parse_time(const char *s, int64_t now_ns, int64_t *out);
int bbt_parse_prio(const char *s);
int bbt_rec_wanted(const struct bbt_opts *o, const struct bbt_rec *rec, char *msg, size_t cap);
void bbt_print_rec(const struct bbt_opts *o, const struct bbt_rec *rec, const char *msg,
		   const struct bbt_who *who);
void bbt_print_state(const struct bbt_ring *r);
void bbt_render(const struct bbt_rec *rec, char *msg, size_t cap);
int bbt_print_file(const struct bbt_opts *o, const char *path);
void bbt_note(const struct bbt_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ follow */

int bbt_follow(const struct bbt_opts *o, const char *header);

/* ------------------------------------------------------------ scan */

enum bbt_kind { BBT_BLACKBOX, BBT_IPC };
enum bbt_state { BBT_LIVE, BBT_DEAD, BBT_OTHER_BOOT, BBT_UNKNOWN };
extern const char *const bbt_state_names[4];

struct bbt_entry {
	enum bbt_kind kind;
	char header[PATH_MAX]; /* blackbox header, or the IPC path */
	char data[PATH_MAX];
	char ident[256];
	long pid;
	char boot[16]; /* 8 hex digits, or "-" */
	unsigned long long size;
	int has_owner;
	uint64_t pidns;
	int64_t since_sec;
	int is_dir; /* IPC connection directory */
	long pid2;  /* IPC: client pid (-1) */
	enum bbt_state state;
};

struct bbt_procs; /* what we can see of the processes */

const char *bbt_shm_dir(void);
int bbt_scan(struct bbt_entry **out, size_t *n, int with_ipc);
struct bbt_procs *bbt_procs_load(const char *dir);
void bbt_procs_free(struct bbt_procs *p);
void bbt_classify(struct bbt_entry *e, const struct bbt_procs *p);
int bbt_proc_ident(const struct bbt_procs *p, long host_pid, uint64_t *ns, long *nspid);
int bbt_proc_maps(const struct bbt_procs *p, long host_pid, const char *path);
size_t bbt_proc_mappers(const struct bbt_procs *p, const char *path, long *pids, size_t max);
int bbt_parse_bb_name(const char *name, struct bbt_entry *e);
int bbt_is_hex(const char *s, size_t n);
int bbt_is_number(const char *s, size_t n);

/* ------------------------------------------------------------ commands */

int bbt_list(const struct bbt_opts *o);
int bbt_clean(const struct bbt_opts *o);
int bbt_save(const struct bbt_opts *o);
int bbt_select(const struct bbt_opts *o, char ***headers, size_t *n);

#endif
