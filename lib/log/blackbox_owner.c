/*
 * Is the process that wrote a blackbox still there?  Decided from the
 * owner record alone (pid, PID namespace, boot id, creation time), so it
 * works for a blackbox nobody has mapped and costs one /proc read.
 *
 * A pid is only meaningful in its own PID namespace and only when /proc
 * shows that namespace: a record from another namespace, or a /proc that
 * belongs to another one (unshare -p without a new /proc), is UNKNOWN,
 * never DEAD; so is every record when /proc hides other users' processes.
 * A pid that exists is the owner unless its process started
 * after the record was made (the pid was reused).  Start times and the
 * record's boot_sec both count CLOCK_BOOTTIME, so wall-clock steps do not
 * matter; one second of slack covers their different resolutions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/blackbox_internal.h"

static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		return -errno;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0) {
		return -EIO;
	}
	buf[n] = '\0';
	return (int)n;
}

void blackbox_owner_view_init(struct blackbox_owner_view *v)
{
	char link[32];
	struct stat st;
	ssize_t n;

	memset(v, 0, sizeof(*v));
	if (stat("/proc/self/ns/pid", &st) == 0) {
		v->pidns = (uint64_t)st.st_ino;
	}
	if (read_small("/proc/sys/kernel/random/boot_id", v->boot_id, sizeof(v->boot_id)) > 0) {
		v->boot_id[strcspn(v->boot_id, "\n")] = '\0';
	}
	/* /proc/self names us by the pid of the namespace /proc belongs to */
	n = readlink("/proc/self", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		v->proc_ours = strtol(link, NULL, 10) == (long)getpid();
	}
	/* pid 1 always exists: if /proc hides it (hidepid), it may hide the owner */
	if (v->proc_ours && getpid() != 1 && stat("/proc/1/stat", &st) != 0) {
		v->proc_ours = 0;
	}
	v->clk_tck = sysconf(_SC_CLK_TCK);
}

/*
 * Start time of pid in clock ticks since boot (field 22 of /proc/PID/stat,
 * counted after the command name, which may hold spaces and parentheses).
 * -ENOENT when there is no such process.
 */
static int proc_start_ticks(int32_t pid, unsigned long long *ticks)
{
	char path[32], buf[1024];
	char *p;
	int field;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	rc = read_small(path, buf, sizeof(buf));
	if (rc < 0) {
		return rc == -ESRCH ? -ENOENT : rc;
	}
	p = strrchr(buf, ')');
	if (p == NULL) {
		return -EINVAL;
	}
	/* p + 2 is field 3 (state) */
	p += 2;
	for (field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	if (p == NULL || *p < '0' || *p > '9') {
		return -EINVAL;
	}
	*ticks = strtoull(p, NULL, 10);
	return 0;
}

static int record_valid(const struct bb_owner *o)
{
	return memcmp(o->magic, QB_BB_OWNER_MAGIC, sizeof(o->magic)) == 0 &&
		o->size == sizeof(*o) && o->pid > 0 &&
		memchr(o->boot_id, '\0', sizeof(o->boot_id)) != NULL;
}

enum blackbox_owner_state blackbox_owner_state(const struct bb_owner *o,
					       const struct blackbox_owner_view *v)
{
	unsigned long long start;
	int rc;

	if (!record_valid(o) || v->boot_id[0] == '\0' || o->boot_id[0] == '\0') {
		return BLACKBOX_OWNER_UNKNOWN;
	}
	if (strcmp(o->boot_id, v->boot_id) != 0) {
		return BLACKBOX_OWNER_OTHER_BOOT;
	}
	if (o->pidns == 0 || o->pidns != v->pidns || !v->proc_ours) {
		return BLACKBOX_OWNER_UNKNOWN;
	}
	rc = proc_start_ticks(o->pid, &start);
	if (rc == -ENOENT) {
		return BLACKBOX_OWNER_DEAD;
	}
	if (rc < 0 || o->boot_sec == 0 || v->clk_tck <= 0) {
		return BLACKBOX_OWNER_ALIVE; /* cannot prove a reuse */
	}
	/* boot_sec is creation + 1, so this allows one second of slack */
	if (start / (unsigned long long)v->clk_tck > (unsigned long long)o->boot_sec) {
		return BLACKBOX_OWNER_DEAD;
	}
	return BLACKBOX_OWNER_ALIVE;
}
