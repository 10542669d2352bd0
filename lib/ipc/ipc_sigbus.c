/*
 * ipc_sigbus.c - keep an IPC server alive when a client truncates a file
 * the server has mapped (the three rings of the SHM transport, the control
 * file of the SOCKET transport).
 *
 * Those files belong to the client once the handshake is done, so a client
 * can ftruncate() them; the server's next access to a page past the new end
 * raises SIGBUS. While a server has such mappings, a SIGBUS handler is
 * installed. For a fault inside a registered range it maps anonymous zero
 * pages over the whole range (the access then completes on zeros), marks the
 * connection, and returns; the server disconnects the connection at its next
 * step. Other faults go to the handler that was installed before ours, or
 * kill the process as the default action would.
 *
 * The registry is read by the signal handler without locks: fixed segments
 * of slots that are never freed, published with atomic stores; a slot is
 * live while its start is non-zero. Writers serialise on a mutex.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <qb/qbdefs.h>

#include "ipc/ipc_internal.h"
#include "rb/rb_internal.h"
#include "util/util_internal.h"

#define GUARD_SEG_SLOTS 256
#define GUARD_SEGS 256 /* 65536 ranges: 10922 SHM connections */

struct guard_slot {
	uintptr_t start;	    /* 0 when free; atomic */
	size_t len;		    /* atomic */
	volatile sig_atomic_t *hit; /* atomic */
};

static struct guard_slot *guard_segs[GUARD_SEGS]; /* atomic */
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t guard_live;      /* registered ranges */
static int guard_enabled = -1; /* -1: not decided yet */
static int guard_installed;
static int guard_full_logged;
static struct sigaction guard_prev;

/* ---- signal context ------------------------------------------------- */

/* Replace the range holding addr with zero pages; 1 if it was ours. */
static int guard_repair(uintptr_t addr)
{
	for (int s = 0; s < GUARD_SEGS; s++) {
		struct guard_slot *seg = __atomic_load_n(&guard_segs[s], __ATOMIC_ACQUIRE);

		if (seg == NULL) {
			return 0;
		}
		for (int i = 0; i < GUARD_SEG_SLOTS; i++) {
			uintptr_t start = __atomic_load_n(&seg[i].start, __ATOMIC_ACQUIRE);
			size_t len = __atomic_load_n(&seg[i].len, __ATOMIC_ACQUIRE);
			volatile sig_atomic_t *hit;

			if (start == 0 || addr < start || addr - start >= len) {
				continue;
			}
			if (mmap((void *)start, len, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
				return 0;
			}
			hit = __atomic_load_n(&seg[i].hit, __ATOMIC_ACQUIRE);
			if (hit) {
				*hit = 1;
			}
			return 1;
		}
	}
	return 0;
}

/* Not our fault: do what would have happened without us. */
static void guard_chain(int sig, siginfo_t *si, void *uctx)
{
	struct sigaction prev = guard_prev;
	struct sigaction dfl;

	if (prev.sa_flags & SA_SIGINFO) {
		if (prev.sa_sigaction) {
			prev.sa_sigaction(sig, si, uctx);
		}
		return;
	}
	if (prev.sa_handler == SIG_IGN && (si == NULL || si->si_code <= 0)) {
		return; /* an ignored kill(SIGBUS) stays ignored */
	}
	if (prev.sa_handler == SIG_DFL || prev.sa_handler == SIG_IGN) {
		/* blocked while we run: delivered with the default action
		 * (core dump) as soon as we return */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		(void)sigaction(sig, &dfl, NULL);
		(void)raise(sig);
		return;
	}
	prev.sa_handler(sig);
}

static void guard_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved = errno;

	/* si_addr means something only for faults the kernel raised */
	if (si != NULL && si->si_code > 0 && guard_repair((uintptr_t)si->si_addr)) {
		errno = saved;
		return;
	}
	errno = saved;
	guard_chain(sig, si, uctx);
}

/* ---- installation (under guard_lock) --------------------------------- */

static int guard_want(void)
{
	if (guard_enabled < 0) {
		const char *e = getenv("QB_IPCS_SIGBUS_HANDLER");

		guard_enabled = !(e && strcmp(e, "0") == 0);
	}
	return guard_enabled;
}

static void guard_install(void)
{
	struct sigaction sa;

	if (guard_installed || !guard_want()) {
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &guard_prev) == 0) {
		guard_installed = 1;
	}
}

/* Put the previous handler back, unless someone replaced ours since. */
static void guard_uninstall(void)
{
	struct sigaction cur;

	if (!guard_installed) {
		return;
	}
	guard_installed = 0;
	if (sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == guard_handler) {
		(void)sigaction(SIGBUS, &guard_prev, NULL);
	}
}

/* ---- the registry ----------------------------------------------------- */

static struct guard_slot *guard_slot_find_free(int32_t *idx)
{
	for (int s = 0; s < GUARD_SEGS; s++) {
		struct guard_slot *seg = guard_segs[s];

		if (seg == NULL) {
			seg = calloc(GUARD_SEG_SLOTS, sizeof(*seg));
			if (seg == NULL) {
				return NULL;
			}
			__atomic_store_n(&guard_segs[s], seg, __ATOMIC_RELEASE);
		}
		for (int i = 0; i < GUARD_SEG_SLOTS; i++) {
			if (seg[i].start == 0) {
				*idx = s * GUARD_SEG_SLOTS + i;
				return &seg[i];
			}
		}
	}
	return NULL;
}

/* Register [addr, addr+len); returns a slot index or -ENOMEM. */
static int32_t guard_add(void *addr, size_t len, volatile sig_atomic_t *hit)
{
	struct guard_slot *slot;
	int32_t idx = -1;

	if (addr == NULL || len == 0) {
		return -EINVAL;
	}
	pthread_mutex_lock(&guard_lock);
	slot = guard_slot_find_free(&idx);
	if (slot == NULL) {
		if (!guard_full_logged) {
			guard_full_logged = 1;
			util_log(LOG_WARNING,
				 "ipcs: too many mapped client "
				 "files; new ones are not SIGBUS-guarded");
		}
		pthread_mutex_unlock(&guard_lock);
		return -ENOMEM;
	}
	__atomic_store_n(&slot->len, len, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->hit, hit, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->start, (uintptr_t)addr, __ATOMIC_RELEASE);
	if (guard_live++ == 0) {
		guard_install();
	}
	pthread_mutex_unlock(&guard_lock);
	return idx;
}

static void guard_del(int32_t idx)
{
	struct guard_slot *slot;

	if (idx < 0 || idx >= GUARD_SEGS * GUARD_SEG_SLOTS) {
		return;
	}
	pthread_mutex_lock(&guard_lock);
	slot = &guard_segs[idx / GUARD_SEG_SLOTS][idx % GUARD_SEG_SLOTS];
	if (slot->start != 0) {
		__atomic_store_n(&slot->start, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&slot->hit, NULL, __ATOMIC_RELEASE);
		if (--guard_live == 0) {
			guard_uninstall();
		}
	}
	pthread_mutex_unlock(&guard_lock);
}

/* ---- public switch ------------------------------------------------------ */

void qb_ipcs_sigbus_handler_set(int32_t enabled)
{
	pthread_mutex_lock(&guard_lock);
	guard_enabled = enabled ? 1 : 0;
	if (!guard_enabled) {
		guard_uninstall();
	} else if (guard_live) {
		guard_install();
	}
	pthread_mutex_unlock(&guard_lock);
}

/* ---- per connection ------------------------------------------------------ */

void ipcs_guard_mem(struct qb_ipcs_connection *c, void *addr, size_t len)
{
	int32_t idx;

	if (c->nguards >= IPCS_GUARDS_MAX) {
		return;
	}
	idx = guard_add(addr, len, &c->guard_hit);
	if (idx >= 0) {
		c->guards[c->nguards++] = idx;
	}
}

void ipcs_guard_rb(struct qb_ipcs_connection *c, qb_ringbuffer_t *rb)
{
	void *hdr, *data;
	size_t hdr_len, data_len;

	rb_mappings_get(rb, &hdr, &hdr_len, &data, &data_len);
	if (hdr) {
		ipcs_guard_mem(c, hdr, hdr_len);
	}
	if (data) {
		ipcs_guard_mem(c, data, data_len);
	}
}

void ipcs_guard_release(struct qb_ipcs_connection *c)
{
	while (c->nguards > 0) {
		guard_del(c->guards[--c->nguards]);
	}
}

int32_t ipcs_guard_tripped(struct qb_ipcs_connection *c)
{
	if (!c->guard_hit) {
		return 0;
	}
	if (!c->guard_logged) {
		c->guard_logged = 1;
		util_log(LOG_WARNING,
			 "%s: pid %d truncated a file of its "
			 "connection; disconnecting it",
			 c->service->name, (int)c->creds.pid);
	}
	return 1;
}
