/*
 * Commands over the whole directory: --list, --clean (--dry-run), --save
 * DIR, and picking blackboxes by --pid / --ident.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bbt.h"

static int load(struct bbt_entry **v, size_t *n, int with_ipc, struct bbt_procs **procs)
{
	size_t i;
	int rc;

	rc = bbt_scan(v, n, with_ipc);
	if (rc != 0) {
		fprintf(stderr, "qb-blackbox: %s: %s\n", bbt_shm_dir(), strerror(-rc));
		return rc;
	}
	*procs = bbt_procs_load(bbt_shm_dir());
	if (*procs == NULL) {
		free(*v);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++) {
		bbt_classify(&(*v)[i], *procs);
	}
	return 0;
}

static void print_header(FILE *f)
{
	fprintf(f, "%-10s %7s %-8s %10s  %-16s %s\n", "STATE", "PID", "BOOT", "SIZE", "IDENT",
		"HEADER");
}

static void print_entry(FILE *f, const struct bbt_entry *e)
{
	char ident[300];

	if (e->kind == BBT_IPC) {
		snprintf(ident, sizeof(ident), "ipc:%s", e->ident);
	} else {
		snprintf(ident, sizeof(ident), "%.100s", e->ident);
	}
	fprintf(f, "%-10s %7ld %-8s %10llu  %-16s %s\n", bbt_state_names[e->state], e->pid, e->boot,
		e->size, ident, e->header);
}

int bbt_list(const struct bbt_opts *o)
{
	struct bbt_procs *procs;
	struct bbt_entry *v = NULL;
	size_t n, i;

	(void)o;
	if (load(&v, &n, 1, &procs) != 0) {
		return BBT_EXIT_BAD;
	}
	print_header(stdout);
	for (i = 0; i < n; i++) {
		print_entry(stdout, &v[i]);
	}
	free(v);
	bbt_procs_free(procs);
	return BBT_EXIT_OK;
}

/* Removes a connection directory's regular files, then the directory. */
static int remove_dir(const char *path)
{
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int rc = 0;
	DIR *d = opendir(path);

	if (d == NULL) {
		return errno == ENOENT ? 0 : -errno;
	}
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && unlink(p) != 0 &&
		    errno != ENOENT) {
			rc = -errno;
		}
	}
	closedir(d);
	if (rmdir(path) != 0 && errno != ENOENT) {
		rc = -errno;
	}
	return rc;
}

static int remove_entry(const struct bbt_entry *e)
{
	int rc = 0;

	if (e->kind == BBT_IPC && e->is_dir) {
		return remove_dir(e->header);
	}
	if (unlink(e->header) != 0 && errno != ENOENT) {
		rc = -errno;
	}
	if (e->kind == BBT_BLACKBOX && unlink(e->data) != 0 && errno != ENOENT && rc == 0) {
		rc = -errno;
	}
	return rc;
}

static int removable(const struct bbt_entry *e)
{
	return e->state == BBT_DEAD || e->state == BBT_OTHER_BOOT;
}

int bbt_clean(const struct bbt_opts *o)
{
	struct bbt_procs *procs;
	struct bbt_entry *v = NULL;
	size_t n, i;
	int status = BBT_EXIT_OK;
	int rc;

	if (load(&v, &n, 1, &procs) != 0) {
		return BBT_EXIT_BAD;
	}
	for (i = 0; i < n; i++) {
		if (!removable(&v[i])) {
			continue;
		}
		if (o->dry_run) {
			printf("would remove %s (%s%s, pid %ld)\n", v[i].header,
			       v[i].kind == BBT_IPC ? "ipc, " : "", bbt_state_names[v[i].state],
			       v[i].pid);
			continue;
		}
		rc = remove_entry(&v[i]);
		if (rc != 0) {
			fprintf(stderr, "qb-blackbox: %s: %s\n", v[i].header, strerror(-rc));
			status = BBT_EXIT_BAD;
			continue;
		}
		printf("removed %s (%s%s, pid %ld)\n", v[i].header,
		       v[i].kind == BBT_IPC ? "ipc, " : "", bbt_state_names[v[i].state], v[i].pid);
	}
	free(v);
	bbt_procs_free(procs);
	return status;
}

/* ------------------------------------------------------------ --save */

/* A version 2 dump of the ring (the records from r->start on): the
 * marker, then lib/rb's ring dump. */
static int write_dump(int fd, const struct bbt_ring *r)
{
	static const uint32_t marker[BB_DUMP_MARKER_WORDS] = BB_DUMP_MARKER;
	struct rb_view v = r->v;
	ssize_t n;

	v.read_pt = r->start;
	n = rb_view_dump(fd, &v, marker, sizeof(marker));
	return n < 0 ? (int)n : 0;
}

/* Only characters that are safe in a file name, from an untrusted ident. */
static void safe_name(char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-')) {
			*s = '_';
		}
	}
}

/* DIR/IDENT-PID-TIME.qbbb, TIME the blackbox's last change in UTC. */
static int save_one(const char *dir, const struct bbt_entry *e, char *out, size_t outlen)
{
	char ident[128], when[32], tmp[PATH_MAX];
	struct bbt_ring r;
	struct stat st;
	struct tm tm;
	time_t t;
	int fd, rc, i;

	rc = bbt_read_file(e->header, &r);
	if (rc != 0) {
		return rc;
	}
	t = stat(e->data, &st) == 0 ? st.st_mtime : time(NULL);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(ident, sizeof(ident), "%.100s", e->ident);
	safe_name(ident);
	snprintf(tmp, sizeof(tmp), "%s/.%s-%ld-%s.tmp", dir, ident, e->pid, when);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		bbt_ring_free(&r);
		return rc;
	}
	rc = write_dump(fd, &r);
	bbt_ring_free(&r);
	if (rc == 0 && fsync(fd) != 0) {
		rc = -errno;
	}
	close(fd);
	/* never replace an earlier dump: -1, -2 ... for the same second */
	for (i = 0; rc == 0 && i < 100; i++) {
		if (i == 0) {
			snprintf(out, outlen, "%s/%s-%ld-%s.qbbb", dir, ident, e->pid, when);
		} else {
			snprintf(out, outlen, "%s/%s-%ld-%s-%d.qbbb", dir, ident, e->pid, when, i);
		}
		if (link(tmp, out) == 0) {
			break;
		}
		if (errno != EEXIST) {
			rc = -errno;
		}
	}
	if (rc == 0 && i == 100) {
		rc = -EEXIST;
	}
	unlink(tmp);
	return rc;
}

int bbt_save(const struct bbt_opts *o)
{
	struct bbt_procs *procs;
	struct bbt_entry *v = NULL;
	char out[PATH_MAX];
	struct stat st;
	size_t n, i, saved = 0;
	int status = BBT_EXIT_OK;
	int rc;

	if (stat(o->save_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "qb-blackbox: %s: not a directory\n", o->save_dir);
		return BBT_EXIT_USAGE;
	}
	if (load(&v, &n, 0, &procs) != 0) {
		return BBT_EXIT_BAD;
	}
	for (i = 0; i < n; i++) {
		if (!removable(&v[i])) {
			continue;
		}
		if (o->dry_run) {
			printf("would save %s\n", v[i].header);
			continue;
		}
		rc = save_one(o->save_dir, &v[i], out, sizeof(out));
		if (rc != 0) {
			fprintf(stderr, "qb-blackbox: %s: %s (kept)\n", v[i].header,
				rc == -EIO ? "corrupt" : strerror(-rc));
			status = BBT_EXIT_BAD;
			continue;
		}
		rc = remove_entry(&v[i]);
		if (rc != 0) {
			fprintf(stderr, "qb-blackbox: %s: %s\n", v[i].header, strerror(-rc));
			status = BBT_EXIT_BAD;
		}
		printf("saved %s as %s\n", v[i].header, out);
		saved++;
	}
	free(v);
	bbt_procs_free(procs);
	return status;
}

/* ------------------------------------------------------------ selection */

static int matches(const struct bbt_opts *o, const struct bbt_entry *e,
		   const struct bbt_procs *procs)
{
	uint64_t ns, own = 0;
	long nspid;
	struct stat st;

	if (o->ident != NULL && strcmp(o->ident, e->ident) != 0) {
		return 0;
	}
	if (o->pid < 0) {
		return 1;
	}
	if (stat("/proc/self/ns/pid", &st) == 0) {
		own = (uint64_t)st.st_ino;
	}
	if (bbt_proc_ident(procs, o->pid, &ns, &nspid) == 0) {
		/* a running process: its pid in its own namespace */
		if (e->has_owner && e->pidns != 0) {
			return e->pidns == ns && e->pid == nspid;
		}
		return e->pid == nspid && (ns == own || bbt_proc_maps(procs, o->pid, e->data));
	}
	/* gone: a blackbox it left behind in our namespace */
	return e->pid == o->pid && (!e->has_owner || e->pidns == 0 || e->pidns == own);
}

int bbt_select(const struct bbt_opts *o, char ***headers, size_t *count)
{
	struct bbt_procs *procs;
	struct bbt_entry *v = NULL;
	size_t n, i, k = 0, live = 0;
	char **h;
	int rc = BBT_EXIT_OK;

	*headers = NULL;
	*count = 0;
	if (load(&v, &n, 0, &procs) != 0) {
		return BBT_EXIT_BAD;
	}
	for (i = 0; i < n; i++) {
		if (matches(o, &v[i], procs)) {
			v[k++] = v[i];
			live += v[k - 1].state == BBT_LIVE;
		}
	}
	/* the running process's blackbox rather than ones of crashed ones */
	if (live > 0 && live < k) {
		n = k;
		for (i = 0, k = 0; i < n; i++) {
			if (v[i].state == BBT_LIVE) {
				v[k++] = v[i];
			}
		}
	}
	if (k == 0) {
		fprintf(stderr, "qb-blackbox: no blackbox found for the given %s\n",
			o->pid >= 0 ? (o->ident ? "pid and ident" : "pid") : "ident");
		rc = BBT_EXIT_NOTFOUND;
	} else if (k > 1 && !o->all) {
		fprintf(stderr, "qb-blackbox: %zu blackboxes match (use --all for every one):\n",
			k);
		print_header(stderr);
		for (i = 0; i < k; i++) {
			print_entry(stderr, &v[i]);
		}
		rc = BBT_EXIT_USAGE;
	} else {
		h = calloc(k, sizeof(*h));
		for (i = 0; h != NULL && i < k; i++) {
			h[i] = strdup(v[i].header);
		}
		*headers = h;
		*count = h != NULL ? k : 0;
	}
	free(v);
	bbt_procs_free(procs);
	return rc;
}
