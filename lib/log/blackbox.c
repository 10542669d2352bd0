/*
 * The blackbox log target: an in-memory flight recorder kept in a shared
 * memory ring, so the last messages survive a crash of the process and can
 * be read from /dev/shm or dumped with qb_log_blackbox_write_to_file().
 *
 * One ring chunk per log call holds the call site, the time and the
 * serialised arguments (record layout in bb_record.h); no text is
 * formatted while the program runs.
 *
 * Naming (PID-safe): /dev/shm/qb-<ident>-<pid>-<boot>-<nonce>-blackbox-
 * {header,data}, <boot> being the first 8 hex digits of the boot id and
 * <nonce> 16 random hex digits; files are created exclusively, so a process
 * never opens, truncates or removes a blackbox it did not create, whatever
 * pid it got.  The ring's shared user area holds an owner record
 * (struct bb_owner) so tools can tell who wrote it.
 *
 * Threads: any number of threads may log at once.  Writers are serialised
 * by writer_lock, held only while one record is copied into the ring; that
 * lock's single atomic operation is also what keeps writers out of the ring
 * while qb_log_blackbox_write_to_file() copies it (blackbox_internal.h).
 *
 * fork: the ring is a shared mapping, so a child must not write into its
 * parent's ring, nor remove its files.  The fork handler (or
 * qb_log_reflect_pid() for raw clone() users) only marks the inherited ring
 * as borrowed.  The child's first log call then moves it to a new ring named
 * after the child's pid, starting with a copy of the parent's records up to
 * the fork.  A child that execs or exits without logging thus creates no
 * file at all; until it logs, a dump shows the parent's records.
 *
 * Lifetime: closing the target (qb_log_fini, disabling) removes the
 * process's own ring, as libqb does.  A child's ring also goes when the
 * child ends normally (bb_at_exit); after _exit() or a crash it stays, and
 * every new ring removes the oldest dead ones of its ident beyond a limit
 * (blackbox_prune.c, liveness in blackbox_owner.c).
 *
 * This file: naming, the rings, open/close; the per-call writer is
 * blackbox_write.c, the fork handling blackbox_fork.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbrb.h>

#include "log/log_internal.h"
#include "log/blackbox_internal.h"
#include "log/bb_record.h"
#include "util/util_internal.h"
#include "rb/rb_internal.h"

struct bb_state bb_global = {
	.writer_lock = QB_UTIL_WORD_LOCK_INIT,
};

/* Smallest ring the target accepts (as libqb). */
#define BB_MIN_SIZE 1024
/* Longest ident that goes into a file name. */
#define BB_IDENT_MAX 100

/* ------------------------------------------------------- identity bits */

static const char *bb_boot_id(void)
{
	char buf[64];
	ssize_t n;
	int fd;

	if (bb_global.boot_id[0] != '\0') {
		return bb_global.boot_id;
	}
	fd = util_fd_hygiene(open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC));
	if (fd < 0) {
		return "";
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return "";
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	n = (ssize_t)strnlen(buf, sizeof(bb_global.boot_id) - 1);
	memcpy(bb_global.boot_id, buf, (size_t)n);
	bb_global.boot_id[n] = '\0';
	return bb_global.boot_id;
}

void bb_boot_short(char *buf, size_t len)
{
	const char *id = bb_boot_id();
	size_t i;

	if (len < 9) {
		if (len > 0) {
			buf[0] = '\0';
		}
		return;
	}
	for (i = 0; i < 8; i++) {
		char c = id[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			break;
		}
		buf[i] = c;
	}
	if (i < 8) {
		memcpy(buf, "00000000", 8);
	}
	buf[8] = '\0';
}

void blackbox_ident_for_name(const char *ident, char *out, size_t len)
{
	size_t i;

	if (ident == NULL || ident[0] == '\0') {
		ident = "qb";
	}
	for (i = 0; i < len - 1 && i < BB_IDENT_MAX && ident[i] != '\0'; i++) {
		out[i] = (ident[i] == '/') ? '_' : ident[i];
	}
	out[i] = '\0';
}

struct bb_owner *bb_owner_of(qb_ringbuffer_t *rb)
{
	return qb_rb_shared_user_data_get(rb);
}

static void bb_owner_fill(struct bb_owner *o, const char *ident, pid_t pid)
{
	struct timespec now;
	struct stat st;

	memset(o, 0, sizeof(*o));
	memcpy(o->magic, QB_BB_OWNER_MAGIC, sizeof(o->magic));
	o->size = sizeof(*o);
	o->pid = pid;
	if (clock_gettime(CLOCK_BOOTTIME, &now) == 0 && now.tv_sec >= 0 &&
	    now.tv_sec < UINT32_MAX) {
		o->boot_sec = (uint32_t)now.tv_sec + 1;
	}
	if (stat("/proc/self/ns/pid", &st) == 0) {
		o->pidns = (uint64_t)st.st_ino;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	o->since_sec = now.tv_sec;
	o->since_nsec = now.tv_nsec;
	snprintf(o->boot_id, sizeof(o->boot_id), "%s", bb_boot_id());
	snprintf(o->ident, sizeof(o->ident), "%s", ident ? ident : "");
}

/* ---------------------------------------------------------- the rings */

int32_t bb_ring_create(const char *ident, pid_t pid, size_t size, struct bb_ring *out)
{
	char name_ident[BB_IDENT_MAX + 1];
	char prefix[BB_IDENT_MAX + 48];
	char boot[9];
	qb_ringbuffer_t *rb = NULL;
	int32_t rc;

	blackbox_ident_for_name(ident, name_ident, sizeof(name_ident));
	bb_boot_short(boot, sizeof(boot));
	snprintf(prefix, sizeof(prefix), "%s-%d-%s", name_ident, (int)pid, boot);
	rc = rb_open_unique(prefix, "blackbox", size, QB_RB_FLAG_CREATE | QB_RB_FLAG_OVERWRITE,
			    sizeof(struct bb_owner), &rb);
	if (rc < 0) {
		return rc;
	}
	if (rb == NULL || qb_rb_shared_user_data_get(rb) == NULL) {
		qb_rb_close(rb);
		return -ENOMEM;
	}
	out->rb = rb;
	out->owner = bb_owner_of(rb);
	bb_owner_fill(out->owner, ident, pid);
	return 0;
}

/* Installs ring r as the process blackbox (writer_lock held). */
void bb_ring_install(const struct bb_ring *r, size_t size)
{
	bb_global.owner = r->owner;
	bb_global.rb = r->rb;
	bb_global.size = size;
}

/* Forgets the current ring; unlinks its files only when asked. */
void bb_ring_drop(int unlink_files)
{
	qb_ringbuffer_t *rb = bb_global.rb;

	/* hide it from write_to_file first */
	bb_global.rb = NULL;
	bb_global.owner = NULL;
	while (atomic_load(&bb_global.dumping)) {
		sched_yield(); /* a dump may still read the old mapping */
	}
	if (rb == NULL) {
		return;
	}
	if (unlink_files) {
		qb_rb_close(rb);
	} else {
		qb_rb_close_helper(rb, 0, 0);
	}
}

/* ------------------------------------------------------ target hooks */

static void bb_close(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	bb_lock();
	bb_ring_drop(!bb_global.borrowed);
	bb_global.borrowed = 0;
	bb_global.remove_at_exit = 0;
	bb_cache_flush(); /* callsites may be freed after this */
	bb_unlock();
	if (t != NULL) {
		t->instance = NULL;
	}
}

static void bb_reload(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	if (t != NULL) {
		(void)qb_log_blackbox_open(t);
	}
}

int32_t qb_log_blackbox_open(struct qb_log_target *t)
{
	struct bb_ring r;
	int child;
	int32_t rc;

	if (t == NULL) {
		return -EINVAL;
	}
	if (t->size < BB_MIN_SIZE) {
		return -EINVAL;
	}
	bb_lock();
	/* a forked child resizing its blackbox keeps a child's one; after a
	 * close (qb_log_fini, disabling) it creates like any process */
	child = bb_global.borrowed || bb_global.remove_at_exit;
	bb_ring_drop(!bb_global.borrowed);
	bb_global.borrowed = 0;
	bb_cache_flush();
	rc = bb_ring_create(t->name, getpid(), t->size, &r);
	bb_global.remove_at_exit = rc == 0 && child;
	if (rc == 0) {
		bb_ring_install(&r, t->size);
		bb_global.target = t;
	}
	bb_unlock();
	if (rc < 0) {
		return rc;
	}
	(void)blackbox_prune_dead(t->name);
	/* bb_vlogger checks the ring under writer_lock */
	__atomic_store_n(&t->vlogger_self_locked, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->vlogger, bb_vlogger, __ATOMIC_RELEASE);
	t->logger = NULL;
	t->close = bb_close;
	t->reload = bb_reload;
	t->instance = &bb_global;
	return 0;
}
