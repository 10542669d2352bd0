/*
 * What is in /dev/shm: blackbox and IPC file names, sizes and owner
 * records (who is alive: bbt_procs.c).
 *
 * QB_BLACKBOX_DIR overrides /dev/shm (used by the tests).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bbt.h"

const char *bbt_shm_dir(void)
{
	const char *d = getenv("QB_BLACKBOX_DIR");

	return (d != NULL && d[0] != '\0') ? d : "/dev/shm";
}

int bbt_is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

int bbt_is_number(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 10) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return 0;
		}
	}
	return 1;
}

/*
 * Splits "qb-<ident>-<pid>-<boot>-<nonce>-blackbox-header" (ours) or
 * "qb-<ident>-<pid>-blackbox-header" (libqb) into its parts.
 */
int bbt_parse_bb_name(const char *name, struct bbt_entry *e)
{
	static const char suffix[] = "-blackbox-header";
	size_t len = strlen(name);
	size_t end;
	const char *p;
	char body[NAME_MAX + 1];

	if (len > NAME_MAX || len < 3 + sizeof(suffix) || strncmp(name, "qb-", 3) != 0 ||
	    strcmp(name + len - (sizeof(suffix) - 1), suffix) != 0) {
		return -1;
	}
	end = len - (sizeof(suffix) - 1);
	memcpy(body, name + 3, end - 3);
	body[end - 3] = '\0';
	len = strlen(body);
	strcpy(e->boot, "-");
	/* ours: ...-<pid>-<8 hex>-<16 hex> */
	if (len > 27 && body[len - 17] == '-' && bbt_is_hex(body + len - 16, 16) &&
	    body[len - 26] == '-' && bbt_is_hex(body + len - 25, 8)) {
		memcpy(e->boot, body + len - 25, 8);
		e->boot[8] = '\0';
		body[len - 26] = '\0';
	}
	p = strrchr(body, '-');
	if (p == NULL || p == body || !bbt_is_number(p + 1, strlen(p + 1))) {
		return -1;
	}
	e->pid = strtol(p + 1, NULL, 10);
	snprintf(e->ident, sizeof(e->ident), "%.*s", (int)(p - body), body);
	return 0;
}

/* "qb-<server pid>-<client pid>-<fd>-XXXXXX": a connection directory. */
static int parse_ipc_dir(const char *name, struct bbt_entry *e)
{
	char *end;
	long spid, cpid;

	if (strncmp(name, "qb-", 3) != 0) {
		return -1;
	}
	spid = strtol(name + 3, &end, 10);
	if (end == name + 3 || *end != '-') {
		return -1;
	}
	cpid = strtol(end + 1, &end, 10);
	if (*end != '-') {
		return -1;
	}
	(void)strtol(end + 1, &end, 10);
	if (*end != '-' || strlen(end + 1) != 6) {
		return -1;
	}
	e->pid = spid;
	e->pid2 = cpid;
	return 0;
}

/* A flat ring file of an IPC connection (older layouts, or a directory's
 * member): qb-...-{request,response,event}...-{header,data}. */
static int is_ipc_file(const char *name)
{
	size_t n = strlen(name);

	if (strncmp(name, "qb-", 3) != 0 || strstr(name, "-blackbox-") != NULL) {
		return 0;
	}
	if (!((n > 7 && strcmp(name + n - 7, "-header") == 0) ||
	      (n > 5 && strcmp(name + n - 5, "-data") == 0))) {
		return 0;
	}
	return strstr(name, "request-") != NULL || strstr(name, "response-") != NULL ||
		strstr(name, "event-") != NULL;
}

/* The ring's size and the owner record, from as much of the header file
 * as there is. */
static void read_owner(struct bbt_entry *e)
{
	unsigned char buf[RB_HDR_SIZE + sizeof(struct bb_owner)];
	struct bb_owner o;
	const void *user;
	uint32_t words;
	ssize_t n;
	size_t len;
	int fd;

	fd = bbt_open_regular(e->header, 0);
	if (fd < 0) {
		return;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	len = n > 0 ? (size_t)n : 0;
	if (rb_header_word(buf, len, RB_HDR_WORDS, &words) == 0) {
		e->size = (unsigned long long)words * 4;
	}
	user = rb_header_user(buf, len, sizeof(o));
	if (user == NULL) {
		return;
	}
	memcpy(&o, user, sizeof(o));
	if (memcmp(o.magic, QB_BB_OWNER_MAGIC, sizeof(o.magic)) != 0) {
		return;
	}
	e->has_owner = 1;
	e->pid = o.pid;
	e->pidns = o.pidns;
	e->since_sec = o.since_sec;
	o.ident[sizeof(o.ident) - 1] = '\0';
	snprintf(e->ident, sizeof(e->ident), "%s", o.ident);
	o.boot_id[sizeof(o.boot_id) - 1] = '\0';
	if (bbt_is_hex(o.boot_id, 8)) {
		memcpy(e->boot, o.boot_id, 8);
		e->boot[8] = '\0';
	}
}

static unsigned long long dir_size(const char *path, char *ident, size_t ilen)
{
	unsigned long long total = 0;
	struct dirent *de;
	struct stat st;
	char p[PATH_MAX];
	const char *s;
	size_t n;
	DIR *d = opendir(path);

	if (d == NULL) {
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= (int)sizeof(p)) {
			continue;
		}
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			total += (unsigned long long)st.st_size;
		}
		s = de->d_name;
		n = strlen(s);
		if (ident[0] == '-' && strncmp(s, "qb-request-", 11) == 0 && n > 18 &&
		    strcmp(s + n - 7, "-header") == 0) {
			snprintf(ident, ilen, "%.*s", (int)(n - 18), s + 11);
		}
	}
	closedir(d);
	return total;
}

static int add_entry(struct bbt_entry **v, size_t *n, size_t *cap, const struct bbt_entry *e)
{
	struct bbt_entry *nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		nv = realloc(*v, *cap * sizeof(**v));
		if (nv == NULL) {
			return -ENOMEM;
		}
		*v = nv;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct bbt_entry *x = a, *y = b;

	if (x->kind != y->kind) {
		return (int)x->kind - (int)y->kind;
	}
	return strcmp(x->header, y->header);
}

/* Every blackbox (and, with_ipc, every IPC leftover) in the directory. */
int bbt_scan(struct bbt_entry **out, size_t *count, int with_ipc)
{
	const char *dir = bbt_shm_dir();
	struct bbt_entry *v = NULL, e;
	struct dirent *de;
	struct stat st;
	size_t n = 0, cap = 0;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		memset(&e, 0, sizeof(e));
		e.pid = e.pid2 = -1;
		strcpy(e.boot, "-");
		strcpy(e.ident, "-");
		snprintf(e.header, sizeof(e.header), "%s/%s", dir, de->d_name);
		if (bbt_parse_bb_name(de->d_name, &e) == 0) {
			e.kind = BBT_BLACKBOX;
			bbt_data_name(e.header, e.data, sizeof(e.data));
			read_owner(&e);
		} else if (!with_ipc) {
			continue;
		} else if (parse_ipc_dir(de->d_name, &e) == 0 && lstat(e.header, &st) == 0 &&
			   S_ISDIR(st.st_mode)) {
			e.kind = BBT_IPC;
			e.is_dir = 1;
			e.size = dir_size(e.header, e.ident, sizeof(e.ident));
		} else if (is_ipc_file(de->d_name) && lstat(e.header, &st) == 0 &&
			   S_ISREG(st.st_mode)) {
			e.kind = BBT_IPC;
			e.size = (unsigned long long)st.st_size;
		} else {
			continue;
		}
		if (add_entry(&v, &n, &cap, &e) != 0) {
			break;
		}
	}
	closedir(d);
	if (n > 1) {
		qsort(v, n, sizeof(*v), entry_cmp);
	}
	*out = v;
	*count = n;
	return 0;
}
