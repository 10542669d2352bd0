/*
 * The bound on dead blackboxes.  Every blackbox costs its full size in RAM
 * (/dev/shm is tmpfs) until someone removes it, and a daemon that forks
 * logging children that _exit() or crash leaves one per child.  So each
 * time a process creates a blackbox it removes the oldest dead ones of its
 * ident beyond a limit (BLACKBOX_KEEP_DEAD_DEFAULT, or QB_BLACKBOX_KEEP_DEAD
 * from the environment), keeping the newest as evidence.
 *
 * Only files that are certainly garbage go: our own naming scheme and
 * ident, this boot, a valid owner record naming the same ident and pid as
 * the file name, owned by our effective uid, and an owner proven dead
 * (blackbox_owner.c).  Upstream-style names, other idents, other users'
 * files and anything undecidable are never touched.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/blackbox_internal.h"
#include "shm/shm_internal.h"
#include "util/util_internal.h"

#define HDR_SUFFIX "-blackbox-header"
#define DATA_SUFFIX "-blackbox-data"
#define NONCE_LEN 16
#define BOOT_LEN 8

struct dead_box {
	int64_t sec;
	int64_t nsec;
	struct shm_file_id hdr;
	struct shm_file_id data;
	int has_data;
	char name[NAME_MAX + 1]; /* the -header file */
};

struct dead_list {
	struct dead_box *v;
	size_t n;
	size_t cap;
};

static int keep_limit(void)
{
	/* secure_getenv: a setuid program must not be told to drop evidence */
	const char *s = secure_getenv("QB_BLACKBOX_KEEP_DEAD");
	char *end;
	long v;

	if (s == NULL || *s == '\0') {
		return BLACKBOX_KEEP_DEAD_DEFAULT;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX) {
		return BLACKBOX_KEEP_DEAD_DEFAULT;
	}
	return (int)v;
}

static int all_of(const char *s, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || strchr(set, s[i]) == NULL) {
			return 0;
		}
	}
	return 1;
}

/*
 * name is qb-<prefix part>-<pid>-<boot>-<nonce>-blackbox-header with our
 * ident and boot: returns the pid, or -1.  The fixed-width fields after
 * the pid make the split unambiguous even for idents that hold '-'.
 */
static long parse_name(const char *name, const char *prefix, const char *boot)
{
	size_t plen = strlen(prefix), len = strlen(name), tail = strlen(HDR_SUFFIX);
	const char *p = name + plen;
	size_t mid, digits;
	long pid = 0;

	if (len <= plen + tail || strncmp(name, prefix, plen) != 0 ||
	    strcmp(name + len - tail, HDR_SUFFIX) != 0) {
		return -1;
	}
	mid = len - plen - tail; /* <pid>-<boot>-<nonce> */
	if (mid < 1 + 1 + BOOT_LEN + 1 + NONCE_LEN) {
		return -1;
	}
	digits = mid - (1 + BOOT_LEN + 1 + NONCE_LEN);
	if (digits > 10 || !all_of(p, digits, "0123456789") || p[digits] != '-' ||
	    strncmp(p + digits + 1, boot, BOOT_LEN) != 0 || p[digits + 1 + BOOT_LEN] != '-' ||
	    !all_of(p + digits + 2 + BOOT_LEN, NONCE_LEN, "0123456789abcdef")) {
		return -1;
	}
	for (; digits > 0; digits--, p++) {
		pid = pid * 10 + (*p - '0');
	}
	return pid > 0 && pid <= INT32_MAX ? pid : -1;
}

/* Our regular file (no symlink): its identity, else a negative errno. */
static int own_file(int dfd, const char *name, struct shm_file_id *id, struct stat *st)
{
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	}
	if (!S_ISREG(st->st_mode) || st->st_uid != geteuid()) {
		return -EPERM;
	}
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	return 0;
}

static int read_owner(int dfd, const char *name, struct bb_owner *o, struct shm_file_id *id)
{
	struct stat st;
	int fd, rc;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	/* a header too short to hold a record fails here */
	rc = rb_header_fd_user_read(fd, o, sizeof(*o));
	close(fd);
	return rc;
}

/* The -data file of a dead box: ours, missing (a half-removed box), or a
 * reason to leave the box alone. */
static int find_data(int dfd, struct dead_box *b)
{
	char name[NAME_MAX + 1];
	size_t base = strlen(b->name) - strlen(HDR_SUFFIX);
	struct stat st;
	int rc;

	if (base + strlen(DATA_SUFFIX) >= sizeof(name)) {
		return -ENAMETOOLONG;
	}
	memcpy(name, b->name, base);
	strcpy(name + base, DATA_SUFFIX);
	rc = own_file(dfd, name, &b->data, &st);
	b->has_data = rc == 0;
	return rc == -ENOENT ? 0 : rc;
}

static void list_add(struct dead_list *l, const struct dead_box *b)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct dead_box *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			return; /* keep what we have: fewer removals */
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *b;
}

static void consider(int dfd, const char *name, const char *prefix, const char *boot,
		     const char *ident, const struct blackbox_owner_view *view, struct dead_list *l)
{
	struct bb_owner o;
	struct dead_box b;
	long pid = parse_name(name, prefix, boot);

	if (pid < 0 || strlen(name) >= sizeof(b.name) || read_owner(dfd, name, &o, &b.hdr) != 0) {
		return;
	}
	o.ident[sizeof(o.ident) - 1] = '\0';
	if (o.pid != pid || strcmp(o.ident, ident) != 0 ||
	    blackbox_owner_state(&o, view) != BLACKBOX_OWNER_DEAD) {
		return;
	}
	strcpy(b.name, name);
	b.sec = o.since_sec;
	b.nsec = o.since_nsec;
	if (find_data(dfd, &b) == 0) {
		list_add(l, &b);
	}
}

static int oldest_first(const void *a, const void *b)
{
	const struct dead_box *x = a, *y = b;

	if (x->sec != y->sec) {
		return x->sec < y->sec ? -1 : 1;
	}
	return x->nsec < y->nsec ? -1 : (x->nsec > y->nsec);
}

static int remove_box(int dfd, const struct dead_box *b)
{
	/* data first: a header left alone is still found (and removed) next time */
	if (b->has_data) {
		size_t base = strlen(b->name) - strlen(HDR_SUFFIX);
		char name[NAME_MAX + 1];

		memcpy(name, b->name, base);
		strcpy(name + base, DATA_SUFFIX);
		if (shm_unlinkat_owned(dfd, name, &b->data) < 0) {
			return -1;
		}
	}
	return shm_unlinkat_owned(dfd, b->name, &b->hdr) < 0 ? -1 : 1;
}

int blackbox_prune_dead(const char *ident)
{
	struct blackbox_owner_view view;
	struct dead_list l = {NULL, 0, 0};
	char name_ident[128], full_ident[sizeof(((struct bb_owner *)0)->ident)];
	char prefix[sizeof(name_ident) + 8], boot[BOOT_LEN + 1];
	int limit = keep_limit();
	struct dirent *de;
	size_t matches = 0;
	int removed = 0;
	DIR *d;
	int fd;

	blackbox_ident_for_name(ident, name_ident, sizeof(name_ident));
	snprintf(full_ident, sizeof(full_ident), "%s", ident ? ident : "");
	snprintf(prefix, sizeof(prefix), "qb-%s-", name_ident);
	bb_boot_short(boot, sizeof(boot));
	fd = util_fd_hygiene(open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0) {
		return fd;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	/* names alone: when there are no more than limit, none can go */
	while ((de = readdir(d)) != NULL) {
		matches += parse_name(de->d_name, prefix, boot) > 0;
	}
	if (matches > (size_t)limit) {
		blackbox_owner_view_init(&view);
		rewinddir(d);
		while ((de = readdir(d)) != NULL) {
			consider(fd, de->d_name, prefix, boot, full_ident, &view, &l);
		}
	}
	if (l.n > (size_t)limit) {
		size_t i;

		qsort(l.v, l.n, sizeof(*l.v), oldest_first);
		for (i = 0; i < l.n - (size_t)limit; i++) {
			removed += remove_box(fd, &l.v[i]) > 0;
		}
	}
	closedir(d);
	free(l.v);
	return removed;
}
