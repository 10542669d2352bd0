/*
 * qb-blackbox: print blackbox dumps and live blackboxes, list and clean the
 * blackboxes in /dev/shm.
 *
 *   qb-blackbox FILE...     print each dump file or live ...-blackbox-header
 *   qb-blackbox --list      one line per blackbox in /dev/shm
 *   qb-blackbox --clean     remove blackboxes of dead processes / other boots
 *
 * QB_BLACKBOX_DIR overrides /dev/shm (used by the tests).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "log/blackbox_internal.h"

/* Inode of the initial PID namespace (fixed by the kernel). */
#define INIT_PIDNS_INO 0xEFFFFFFCULL

enum bb_state { BB_LIVE, BB_DEAD, BB_OTHER_BOOT, BB_UNKNOWN };
static const char *const state_names[] = { "live", "dead", "other-boot", "unknown" };

struct bb_entry {
	char header[PATH_MAX];
	char data[PATH_MAX];
	char ident[256];
	long pid;
	char boot[16];			/* 8 hex digits, or "-" */
	unsigned long long size;	/* ring bytes */
	int has_owner;
	uint64_t pidns;
	enum bb_state state;
};

/* Mapped /dev/shm inodes of all processes we can see. */
struct inode_set {
	unsigned long long *ino;
	size_t n, cap;
	int incomplete;			/* some /proc/<pid>/maps unreadable */
};

/* What we can see of the running processes. */
struct proc_view {
	struct inode_set maps;		/* inodes under the dir that are mapped */
	struct inode_set pidns;		/* PID namespaces with a visible process */
	struct inode_set hidden;	/* pids whose maps we could not read */
	struct inode_set hidden_ns;	/* and their PID namespaces (0: unknown) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qb-blackbox FILE...   print blackbox dumps or live blackbox files\n"
		"       qb-blackbox --list    list the blackboxes in /dev/shm\n"
		"       qb-blackbox --clean   remove blackboxes of dead processes\n"
		"       qb-blackbox --help\n"
		"Use -- before file names that start with '-'.\n");
}

static const char *shm_dir(void)
{
	const char *d = getenv("QB_BLACKBOX_DIR");

	return (d != NULL && d[0] != '\0') ? d : "/dev/shm";
}

/* ------------------------------------------------------------ printing */

static int print_files(int argc, char **argv)
{
	int status = 0;
	int rc;
	int i;

	for (i = 0; i < argc; i++) {
		printf("Dumping the contents of %s\n", argv[i]);
		fflush(stdout);
		rc = qb_log_blackbox_print_from_file(argv[i]);
		fflush(stdout);
		if (rc == 0) {
			continue;
		}
		status = 1;
		if (rc == -EIO || rc == -1) {
			fprintf(stderr, "qb-blackbox: %s: corrupt or not a blackbox file\n",
				argv[i]);
		} else {
			fprintf(stderr, "qb-blackbox: %s: %s\n", argv[i], strerror(-rc));
		}
	}
	return status;
}

/* ------------------------------------------------------------- listing */

static int is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

static int is_number(const char *s, size_t n)
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
static int parse_name(const char *name, struct bb_entry *e)
{
	static const char suffix[] = "-blackbox-header";
	size_t len = strlen(name);
	size_t end;
	const char *p;
	char body[NAME_MAX + 1];

	if (len < 3 + sizeof(suffix) || strncmp(name, "qb-", 3) != 0 ||
	    strcmp(name + len - (sizeof(suffix) - 1), suffix) != 0) {
		return -1;
	}
	end = len - (sizeof(suffix) - 1);
	memcpy(body, name + 3, end - 3);
	body[end - 3] = '\0';
	len = strlen(body);
	strcpy(e->boot, "-");
	/* ours: ...-<pid>-<8 hex>-<16 hex> */
	if (len > 27 && body[len - 17] == '-' && is_hex(body + len - 16, 16) &&
	    body[len - 26] == '-' && is_hex(body + len - 25, 8)) {
		memcpy(e->boot, body + len - 25, 8);
		e->boot[8] = '\0';
		body[len - 26] = '\0';
	}
	p = strrchr(body, '-');
	if (p == NULL || p == body || !is_number(p + 1, strlen(p + 1))) {
		return -1;
	}
	e->pid = strtol(p + 1, NULL, 10);
	snprintf(e->ident, sizeof(e->ident), "%.*s", (int)(p - body), body);
	return 0;
}

static void inode_add(struct inode_set *s, unsigned long long ino)
{
	unsigned long long *n;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		n = realloc(s->ino, s->cap * sizeof(*n));
		if (n == NULL) {
			s->incomplete = 1;
			return;
		}
		s->ino = n;
	}
	s->ino[s->n++] = ino;
}

static int inode_has(const struct inode_set *s, unsigned long long ino)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->ino[i] == ino) {
			return 1;
		}
	}
	return 0;
}

/* Every inode under dir that any visible process maps. */
static void scan_mappings(const char *dir, struct proc_view *v)
{
	struct inode_set *s = &v->maps;
	struct stat st;
	char path[64];
	char line[PATH_MAX + 128];
	struct dirent *de;
	size_t dlen = strlen(dir);
	unsigned long long ino;
	char *file;
	DIR *proc;
	FILE *f;

	proc = opendir("/proc");
	if (proc == NULL) {
		s->incomplete = 1;
		return;
	}
	while ((de = readdir(proc)) != NULL) {
		if (!is_number(de->d_name, strlen(de->d_name))) {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/ns/pid", de->d_name);
		if (stat(path, &st) != 0) {
			if (errno == ENOENT) {
				continue;	/* gone, or a zombie: maps nothing */
			}
			st.st_ino = 0;
		} else if (!inode_has(&v->pidns, st.st_ino)) {
			inode_add(&v->pidns, st.st_ino);
		}
		snprintf(path, sizeof(path), "/proc/%s/maps", de->d_name);
		f = fopen(path, "re");
		if (f == NULL) {
			if (errno != ENOENT) {
				s->incomplete = 1;
				inode_add(&v->hidden, strtoull(de->d_name, NULL, 10));
				inode_add(&v->hidden_ns, st.st_ino);
			}
			continue;
		}
		while (fgets(line, sizeof(line), f) != NULL) {
			file = strchr(line, '/');
			if (file == NULL || strncmp(file, dir, dlen) != 0 ||
			    sscanf(line, "%*s %*s %*s %*s %llu", &ino) != 1) {
				continue;
			}
			inode_add(s, ino);
		}
		if (ferror(f)) {
			s->incomplete = 1;
			inode_add(&v->hidden, strtoull(de->d_name, NULL, 10));
			inode_add(&v->hidden_ns, st.st_ino);
		}
		fclose(f);
	}
	closedir(proc);
}

static uint64_t own_pidns(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* First 8 hex digits of this boot's id. */
static void read_boot_short(char *out)
{
	char buf[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL) {
			buf[0] = '\0';
		}
		fclose(f);
	}
	if (is_hex(buf, 8)) {
		memcpy(out, buf, 8);
	} else {
		memcpy(out, "00000000", 8);
	}
	out[8] = '\0';
}

static int read_entry(const char *dir, const char *name, struct bb_entry *e)
{
	unsigned char buf[QB_BB_RB_HDR_SIZE + sizeof(struct qb_log_blackbox_owner)];
	struct qb_log_blackbox_owner o;
	uint32_t words;
	ssize_t n;
	int fd;

	memset(e, 0, sizeof(*e));
	if (parse_name(name, e) != 0) {
		return -1;
	}
	snprintf(e->header, sizeof(e->header), "%s/%s", dir, name);
	snprintf(e->data, sizeof(e->data), "%.*s-data", (int)(strlen(e->header) - 7),
		 e->header);
	fd = open(e->header, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n >= QB_BB_RB_OFF_WORD_SIZE + 4) {
		memcpy(&words, buf + QB_BB_RB_OFF_WORD_SIZE, 4);
		e->size = (unsigned long long)words * 4;
	}
	if (n >= (ssize_t)(QB_BB_RB_USER_OFFSET + sizeof(o))) {
		memcpy(&o, buf + QB_BB_RB_USER_OFFSET, sizeof(o));
		if (memcmp(o.magic, QB_BB_OWNER_MAGIC, sizeof(o.magic)) == 0) {
			e->has_owner = 1;
			e->pid = o.pid;
			e->pidns = o.pidns;
			o.ident[sizeof(o.ident) - 1] = '\0';
			snprintf(e->ident, sizeof(e->ident), "%s", o.ident);
			o.boot_id[sizeof(o.boot_id) - 1] = '\0';
			if (is_hex(o.boot_id, 8)) {
				memcpy(e->boot, o.boot_id, 8);
				e->boot[8] = '\0';
			}
		}
	}
	return 0;
}

/* Could a process we could not inspect live in PID namespace ns? */
static int hidden_in_ns(const struct proc_view *v, uint64_t ns)
{
	size_t i;

	for (i = 0; i < v->hidden_ns.n; i++) {
		if (v->hidden_ns.ino[i] == 0 || v->hidden_ns.ino[i] == ns) {
			return 1;
		}
	}
	return 0;
}

static void classify(struct bb_entry *e, const struct proc_view *v,
		     const char *boot, uint64_t pidns)
{
	struct stat st;
	int sees_owner_ns;
	int own_ns;

	if (strcmp(e->boot, "-") != 0 && strcmp(e->boot, boot) != 0) {
		e->state = BB_OTHER_BOOT;
		return;
	}
	if ((stat(e->header, &st) == 0 && inode_has(&v->maps, (unsigned long long)st.st_ino)) ||
	    (stat(e->data, &st) == 0 && inode_has(&v->maps, (unsigned long long)st.st_ino))) {
		e->state = BB_LIVE;
		return;
	}
	/*
	 * Not mapped by any process we looked at.  That proves the owner is
	 * gone if we see every process of the owner's PID namespace (ours, a
	 * descendant of ours in which some process is visible, or any when we
	 * are in the initial namespace) and none of them was hidden from us.
	 * Processes whose mappings we could not read only matter when one of
	 * them could be the owner: in our namespace the one with the owner's
	 * pid, in another namespace any process of that namespace.  Old-style blackboxes carry no namespace:
	 * their pid is taken to be one of ours.
	 */
	own_ns = !e->has_owner || e->pidns == pidns;
	sees_owner_ns = own_ns || pidns == INIT_PIDNS_INO || inode_has(&v->pidns, e->pidns);
	if (!sees_owner_ns) {
		e->state = BB_UNKNOWN;
	} else if (!v->maps.incomplete) {
		e->state = BB_DEAD;
	} else if (own_ns && !inode_has(&v->hidden, (unsigned long long)e->pid)) {
		e->state = BB_DEAD;
	} else if (!own_ns && !hidden_in_ns(v, e->pidns)) {
		e->state = BB_DEAD;
	} else {
		e->state = BB_UNKNOWN;
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_or_clean(int clean)
{
	const char *dir = shm_dir();
	struct proc_view view;
	struct bb_entry e;
	struct dirent *de;
	char boot[9];
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t pidns = own_pidns();
	int status = 0;
	DIR *d;

	memset(&view, 0, sizeof(view));
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "qb-blackbox: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, "-blackbox-header") == NULL) {
			continue;
		}
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				break;
			}
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] != NULL) {
			n++;
		}
	}
	closedir(d);
	if (n > 0) {
		qsort(names, n, sizeof(*names), name_cmp);
	}
	scan_mappings(dir, &view);
	read_boot_short(boot);
	if (!clean) {
		printf("%-10s %7s %-8s %10s  %-16s %s\n", "STATE", "PID", "BOOT", "SIZE",
		       "IDENT", "HEADER");
	}
	for (i = 0; i < n; i++) {
		if (read_entry(dir, names[i], &e) != 0) {
			continue;
		}
		classify(&e, &view, boot, pidns);
		if (!clean) {
			printf("%-10s %7ld %-8s %10llu  %-16s %s\n", state_names[e.state],
			       e.pid, e.boot, e.size, e.ident, e.header);
			continue;
		}
		if (e.state != BB_DEAD && e.state != BB_OTHER_BOOT) {
			continue;
		}
		if (unlink(e.header) != 0 && errno != ENOENT) {
			fprintf(stderr, "qb-blackbox: %s: %s\n", e.header, strerror(errno));
			status = 1;
			continue;
		}
		if (unlink(e.data) != 0 && errno != ENOENT) {
			fprintf(stderr, "qb-blackbox: %s: %s\n", e.data, strerror(errno));
			status = 1;
		}
		printf("removed %s (%s, pid %ld)\n", e.header, state_names[e.state], e.pid);
	}
	for (i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	free(view.maps.ino);
	free(view.pidns.ino);
	free(view.hidden.ino);
	free(view.hidden_ns.ino);
	return status;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		return list_or_clean(0);
	}
	if (argc == 2 && strcmp(argv[1], "--clean") == 0) {
		return list_or_clean(1);
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--") == 0) {
		return print_files(argc - 2, argv + 2);
	}
	if (argc > 1 && argv[1][0] == '-' && argv[1][1] != '\0') {
		fprintf(stderr, "qb-blackbox: unknown option %s\n", argv[1]);
		usage(stderr);
		return 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	return print_files(argc - 1, argv + 1);
}
