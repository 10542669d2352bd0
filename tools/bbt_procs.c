/*
 * Who is alive: the processes we can see (PID namespace, innermost pid,
 * start time, mapped files) and, from them, the state of each leftover
 * bbt_scan() found.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bbt.h"

/* Inode of the initial PID namespace (fixed by the kernel). */
#define INIT_PIDNS_INO 0xEFFFFFFCULL

const char *const bbt_state_names[4] = {"live", "dead", "other-boot", "unknown"};

struct bbt_proc {
	long pid;	   /* as we see it */
	long nspid;	   /* in its own PID namespace */
	uint64_t ns;	   /* its PID namespace inode (0: unknown) */
	int64_t start_sec; /* wall clock, -1 unknown */
	int hidden;	   /* its mappings could not be read */
	int ns_depth;	   /* fields of its NSpid line */
};

struct bbt_map {
	unsigned long long ino;
	long pid;
};

struct bbt_procs {
	struct bbt_proc *p;
	size_t n, cap;
	struct bbt_map *maps;
	size_t nmaps, mcap;
	int incomplete; /* some process could not be inspected */
	uint64_t own_ns;
	char boot[9];
	int64_t btime; /* boot time, wall clock */
	int self;      /* our own pid, not counted as a mapper */
};

static void read_boot(struct bbt_procs *v)
{
	char buf[256] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL) {
			buf[0] = '\0';
		}
		fclose(f);
	}
	memcpy(v->boot, bbt_is_hex(buf, 8) ? buf : "00000000", 8);
	v->boot[8] = '\0';
	v->btime = -1;
	f = fopen("/proc/stat", "re");
	if (f == NULL) {
		return;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		if (strncmp(buf, "btime ", 6) == 0) {
			v->btime = strtoll(buf + 6, NULL, 10);
		}
	}
	fclose(f);
}

/* NSpid's last field (the pid in the process's own namespace) and the
 * start time from /proc/PID/stat (field 22, clock ticks after boot). */
static void read_status(const char *pid, struct bbt_proc *p, int64_t btime)
{
	char path[64], buf[1024], *s;
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long ticks;
	FILE *f;

	p->nspid = p->pid;
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	if (f != NULL) {
		while (fgets(buf, sizeof(buf), f) != NULL) {
			if (strncmp(buf, "NSpid:", 6) == 0) {
				/* one field: a process of our own namespace */
				p->ns_depth = 0;
				for (s = buf + 6; *s != '\0'; s++) {
					p->ns_depth += (s[0] == '\t' || s[0] == ' ') &&
						s[1] >= '0' && s[1] <= '9';
				}
				s = strrchr(buf, '\t');
				if (s == NULL) {
					s = strrchr(buf, ' ');
				}
				if (s != NULL) {
					p->nspid = strtol(s + 1, NULL, 10);
				}
			}
		}
		fclose(f);
	}
	p->start_sec = -1;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (f == NULL) {
		return;
	}
	if (fgets(buf, sizeof(buf), f) != NULL && (s = strrchr(buf, ')')) != NULL) {
		for (int field = 2; field < 22 && s != NULL; field++) {
			s = strchr(s + 1, ' ');
		}
		if (s != NULL && sscanf(s + 1, "%llu", &ticks) == 1 && btime >= 0 && hz > 0) {
			p->start_sec = btime + (int64_t)(ticks / (unsigned long long)hz);
		}
	}
	fclose(f);
}

static void add_map(struct bbt_procs *v, unsigned long long ino, long pid)
{
	struct bbt_map *n;

	if (v->nmaps == v->mcap) {
		v->mcap = v->mcap ? v->mcap * 2 : 256;
		n = realloc(v->maps, v->mcap * sizeof(*n));
		if (n == NULL) {
			v->incomplete = 1;
			return;
		}
		v->maps = n;
	}
	v->maps[v->nmaps].ino = ino;
	v->maps[v->nmaps++].pid = pid;
}

/* The inodes under dir that process `pid` maps; 0, or -1 if unreadable. */
static int read_maps(struct bbt_procs *v, const char *pid, const char *dir)
{
	char path[64], line[PATH_MAX + 128];
	size_t dlen = strlen(dir);
	unsigned long long ino;
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	if (f == NULL) {
		return errno == ENOENT ? 0 : -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *file = strchr(line, '/');

		if (file == NULL || strncmp(file, dir, dlen) != 0 ||
		    sscanf(line, "%*s %*s %*s %*s %llu", &ino) != 1) {
			continue;
		}
		add_map(v, ino, strtol(pid, NULL, 10));
	}
	if (ferror(f)) {
		rc = -1;
	}
	fclose(f);
	return rc;
}

struct bbt_procs *bbt_procs_load(const char *dir)
{
	struct bbt_procs *v = calloc(1, sizeof(*v));
	struct bbt_proc p, *np;
	struct dirent *de;
	struct stat st;
	char path[64];
	DIR *proc;

	if (v == NULL) {
		return NULL;
	}
	v->self = (int)getpid();
	v->own_ns = stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
	read_boot(v);
	proc = opendir("/proc");
	if (proc == NULL) {
		v->incomplete = 1;
		return v;
	}
	while ((de = readdir(proc)) != NULL) {
		if (!bbt_is_number(de->d_name, strlen(de->d_name))) {
			continue;
		}
		memset(&p, 0, sizeof(p));
		p.pid = strtol(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%s/ns/pid", de->d_name);
		if (stat(path, &st) == 0) {
			p.ns = (uint64_t)st.st_ino;
		} else if (errno == ENOENT) {
			continue; /* gone, or a zombie: maps nothing */
		}
		read_status(de->d_name, &p, v->btime);
		if (p.ns == 0 && p.ns_depth == 1) {
			p.ns = v->own_ns; /* ns/pid unreadable, NSpid tells */
		}
		if (p.pid != v->self && read_maps(v, de->d_name, dir) != 0) {
			p.hidden = 1;
			v->incomplete = 1;
		}
		if (v->n == v->cap) {
			v->cap = v->cap ? v->cap * 2 : 256;
			np = realloc(v->p, v->cap * sizeof(*np));
			if (np == NULL) {
				v->incomplete = 1;
				break;
			}
			v->p = np;
		}
		v->p[v->n++] = p;
	}
	closedir(proc);
	return v;
}

void bbt_procs_free(struct bbt_procs *v)
{
	if (v == NULL) {
		return;
	}
	free(v->p);
	free(v->maps);
	free(v);
}

static const struct bbt_proc *find_pid(const struct bbt_procs *v, long pid)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->p[i].pid == pid) {
			return &v->p[i];
		}
	}
	return NULL;
}

/* PID namespace and innermost pid of the process we know as host_pid. */
int bbt_proc_ident(const struct bbt_procs *v, long host_pid, uint64_t *ns, long *nspid)
{
	const struct bbt_proc *p = find_pid(v, host_pid);

	if (p == NULL) {
		return -ESRCH;
	}
	*ns = p->ns;
	*nspid = p->nspid;
	return 0;
}

static int ino_mapped(const struct bbt_procs *v, unsigned long long ino, long pid)
{
	size_t i;

	for (i = 0; i < v->nmaps; i++) {
		if (v->maps[i].ino == ino && (pid < 0 || v->maps[i].pid == pid)) {
			return 1;
		}
	}
	return 0;
}

/* Does process pid (-1: any process but us) map the file at path? */
int bbt_proc_maps(const struct bbt_procs *v, long pid, const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && ino_mapped(v, (unsigned long long)st.st_ino, pid);
}

/* Up to max processes (not us) that map the file at path. */
size_t bbt_proc_mappers(const struct bbt_procs *v, const char *path, long *pids, size_t max)
{
	struct stat st;
	size_t i, j, n = 0;

	if (lstat(path, &st) != 0) {
		return 0;
	}
	for (i = 0; i < v->nmaps && n < max; i++) {
		if (v->maps[i].ino != (unsigned long long)st.st_ino) {
			continue;
		}
		for (j = 0; j < n && pids[j] != v->maps[i].pid; j++) {
		}
		if (j == n) {
			pids[n++] = v->maps[i].pid;
		}
	}
	return n;
}

static int ns_visible(const struct bbt_procs *v, uint64_t ns)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->p[i].ns == ns) {
			return 1;
		}
	}
	return 0;
}

/* Could a process we could not inspect be the one we look for? */
static int hidden_could_be(const struct bbt_procs *v, uint64_t ns, long nspid)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->p[i].hidden && (v->p[i].ns == 0 || v->p[i].ns == ns) &&
		    (nspid < 0 || v->p[i].nspid == nspid)) {
			return 1;
		}
	}
	return 0;
}

static int any_mapped_in_dir(const struct bbt_procs *v, const char *path)
{
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int found = 0;
	DIR *d = opendir(path);

	if (d == NULL) {
		return 0;
	}
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		found = lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
			ino_mapped(v, (unsigned long long)st.st_ino, -1);
	}
	closedir(d);
	return found;
}

/*
 * IPC leftovers carry no owner record: live while any process maps one
 * of the rings, or while the server pid (as we see it) runs a process
 * that started before the files were made (the rings are not mapped yet
 * during the handshake); older than this boot: other-boot.
 */
static void classify_ipc(struct bbt_entry *e, const struct bbt_procs *v)
{
	const struct bbt_proc *p;
	struct stat st;

	if (lstat(e->header, &st) != 0) {
		e->state = BBT_DEAD;
		return;
	}
	if (v->btime > 0 && st.st_ctime < v->btime) {
		e->state = BBT_OTHER_BOOT;
		return;
	}
	if (e->is_dir ? any_mapped_in_dir(v, e->header)
		      : ino_mapped(v, (unsigned long long)st.st_ino, -1)) {
		e->state = BBT_LIVE;
		return;
	}
	p = e->pid > 0 ? find_pid(v, e->pid) : NULL;
	if (p != NULL && p->start_sec <= (int64_t)st.st_ctime + 1) {
		e->state = BBT_LIVE;
		return;
	}
	/* a process whose mappings we cannot read matters only if it is the
	 * recorded server or client (flat files of old layouts record none) */
	p = e->pid2 > 0 ? find_pid(v, e->pid2) : NULL;
	e->state = (p != NULL && p->hidden) ? BBT_UNKNOWN : BBT_DEAD;
}

/*
 * Blackboxes: live if any process maps the ring, or if the recorded owner
 * (pid in the recorded PID namespace) still runs and started before the
 * ring was made.  Otherwise dead, when we can see every process that could
 * be the owner: its namespace is ours or one where we see processes, or we
 * are in the initial namespace (which sees all; a namespace we see no
 * process of is gone, and so is its owner), and no process we could not
 * inspect could be it.  Old-style blackboxes carry no namespace: their pid
 * is taken to be one of ours.
 */
void bbt_classify(struct bbt_entry *e, const struct bbt_procs *v)
{
	const struct bbt_proc *p = NULL;
	uint64_t ns;
	size_t i;

	if (e->kind == BBT_IPC) {
		classify_ipc(e, v);
		return;
	}
	if (strcmp(e->boot, "-") != 0 && strcmp(e->boot, v->boot) != 0) {
		e->state = BBT_OTHER_BOOT;
		return;
	}
	if (bbt_proc_maps(v, -1, e->header) || bbt_proc_maps(v, -1, e->data)) {
		e->state = BBT_LIVE;
		return;
	}
	ns = e->has_owner && e->pidns != 0 ? e->pidns : v->own_ns;
	for (i = 0; i < v->n && p == NULL; i++) {
		if ((v->p[i].ns == ns || v->p[i].ns == 0) && v->p[i].nspid == e->pid &&
		    v->p[i].pid != v->self) {
			p = &v->p[i];
		}
	}
	if (p != NULL && e->has_owner && p->ns == ns &&
	    (p->start_sec < 0 || p->start_sec <= e->since_sec + 1)) {
		e->state = BBT_LIVE; /* the owner itself, not mapping it now */
		return;
	}
	if (!(ns == v->own_ns || v->own_ns == INIT_PIDNS_INO || ns_visible(v, ns))) {
		e->state = BBT_UNKNOWN; /* a namespace we cannot look into */
		return;
	}
	if (!e->has_owner && p != NULL && !v->incomplete) {
		e->state = BBT_DEAD; /* that pid maps nothing of it */
		return;
	}
	e->state = hidden_could_be(v, ns, ns == v->own_ns ? e->pid : -1) ? BBT_UNKNOWN : BBT_DEAD;
}
