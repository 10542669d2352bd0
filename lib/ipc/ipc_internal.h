/*
 * ipc_internal.h - the IPC module's only internal header.
 *
 * Wire structures of the libqb IPC protocol (see the spec ipc.md), the
 * client and server objects, and the functions the IPC files share.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_IPC_INTERNAL_H_DEFINED
#define QB_IPC_INTERNAL_H_DEFINED

#include <stdint.h>
#include <stddef.h>
#include <limits.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>

#include <qb/qbipc_common.h>
#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qblist.h>
#include <qb/qbrb.h>

#include "shm/shm_internal.h"

/* ---- wire format --------------------------------------------------- */

#define IPC_STR_MAX 4096	    /* PATH_MAX strings of the response */
#define IPC_NAME_MAX 255	    /* NAME_MAX buffers: 254 chars + NUL */
#define IPC_ABSTRACT_NAME_MAX 106   /* chars of a name in sun_path */
#define IPC_DESC_MAX 251	    /* limit of the connection description */
#define IPC_SHM_CLIENT_NAME_MAX 235 /* SHM client rejects longer names */
#define IPC_LISTEN_BACKLOG 128
/* A client that connected but has not sent its request by then is dropped
 * (by the service's wake-up timer, ipcs_wake.c). */
#define IPC_SETUP_TIMEOUT_NS (10ull * 1000000000ull)
/* Largest buffer a client may ask for: every connection costs the server
 * three rings of this size in /dev/shm. */
#define IPC_MAX_MSG_SIZE (1024u * 1024u * 1024u)
/* Default caps of a service (ipcs_limits.c): one connection's buffer
 * size, and the buffers (3 per connection) of all its connections. */
#define IPCS_DEFAULT_CONN_MAX (64u * 1024u * 1024u)
#define IPCS_DEFAULT_TOTAL_MAX (4ull * 1024u * 1024u * 1024u)

/** Client -> server handshake request (24 bytes). */
struct ipc_conn_request {
	struct qb_ipc_request_header hdr;
	uint32_t max_msg_size;
} __attribute__((aligned(8)));

/** Server -> client handshake response (12328 bytes). */
struct ipc_conn_response {
	struct qb_ipc_response_header hdr;
	int32_t connection_type;
	uint32_t max_msg_size;
	intptr_t connection;
	char request[IPC_STR_MAX];
	char response[IPC_STR_MAX];
	char event[IPC_STR_MAX];
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct ipc_conn_request) == 24, "request size");
_Static_assert(sizeof(struct ipc_conn_response) == 12328, "response size");
_Static_assert(offsetof(struct ipc_conn_response, max_msg_size) == 28, "max");
_Static_assert(offsetof(struct ipc_conn_response, request) == 40, "strings");

/** SOCKET transport: the 24-byte shared control file. */
struct ipc_us_control {
	int32_t req_sent;
	int32_t req_fc;
	int32_t resp_sent;
	int32_t resp_fc;
	int32_t ev_sent;
	int32_t ev_fc;
};
_Static_assert(sizeof(struct ipc_us_control) == 24, "control size");

/** Credentials of a peer as the kernel reported them. */
struct ipc_creds {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* ---- protocol parsing (pure functions, fuzzed) --------------------- */

/* Validate a handshake request; on success store the asked max size. */
int32_t ipc_proto_request_parse(const void *buf, size_t len, uint32_t *max_msg_size);
/* Validate a handshake response received by a client (0 or -errno;
 * returns the server's error as is). */
int32_t ipc_proto_response_parse(const void *buf, size_t len);
/* Validate one request message held in a buffer of avail bytes that came
 * from a peer; on success store the size the message claims (>= header,
 * <= avail, <= max). Returns 0, -EBADMSG or -EMSGSIZE. */
int32_t ipc_proto_msg_check(const void *buf, size_t avail, uint32_t max, size_t *size);
/* Negotiated size: max(asked, enforced). */
uint32_t ipc_proto_negotiate(uint32_t asked, uint32_t enforced);

/* ---- setup socket helpers (ipc_sock.c) ----------------------------- */

int32_t ipc_sock_addr(struct sockaddr_un *addr, socklen_t *len, const char *name, int32_t allow_fs);
int32_t ipc_sock_dgram_addr(struct sockaddr_un *addr, socklen_t *len, const char *base,
			    const char *suffix);
int32_t ipc_sock_fd_prepare(int fd);
int32_t ipc_sock_open(int type);
int32_t ipc_sock_set_passcred(int fd, int on);
ssize_t ipc_sock_recv_creds(int fd, void *buf, size_t len, struct ipc_creds *creds,
			    int32_t *have_creds);
int32_t ipc_sock_poll(int fd, short events, int32_t ms_timeout, short *revents);
ssize_t ipc_sock_send_all(int fd, const void *buf, size_t len, int32_t ms_timeout);
int32_t ipc_sock_set_buffers(int fd, size_t size);
int32_t ipc_errno_is_disconnect(int32_t err);
void ipc_str_cut(char *dst, size_t dstlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- client ---------------------------------------------------------- */

/* adaptive busy-wait state of one kind of wait (ipc_spin.c) */
struct ipc_spin {
	int32_t ns;   /* current budget; 0: resting */
	int32_t idle; /* waits left to skip while resting */
	int32_t max;  /* longest budget */
};

struct ipcc_ops;

struct qb_ipcc_connection {
	char name[IPC_NAME_MAX];
	enum qb_ipc_type type;
	int setup_fd;
	uint32_t max_msg_size;
	int32_t is_connected;
	uint32_t fc_enable_max;
	struct ipc_creds server;
	void *context;
	const struct ipcc_ops *ops;
	/* handshake state of an asynchronous connect */
	struct ipc_conn_response *hs;
	size_t hs_got;
	int32_t hs_have_creds;
	/* transports */
	qb_ringbuffer_t *shm_req;
	qb_ringbuffer_t *shm_resp;
	qb_ringbuffer_t *shm_ev;
	char shm_dir[IPC_STR_MAX];
	int us_req_fd;
	int us_ev_fd;
	struct ipc_us_control *us_ctl;
	char us_ctl_path[IPC_STR_MAX];
	struct ipc_spin spin_resp;
	struct ipc_spin spin_ev;
	uint32_t ev_owed;     /* SHM: notification bytes of events already read */
	size_t last_resp;     /* size of the last response */
	void *us_bounce;      /* SOCKET: large responses land here first (ipcc_us.c) */
	size_t us_bounce_len; /* bytes it holds past its offset */
};

struct ipcc_ops {
	int32_t (*connect)(struct qb_ipcc_connection *c, const struct ipc_conn_response *r);
	int32_t (*fc_get)(struct qb_ipcc_connection *c);
	ssize_t (*sendv)(struct qb_ipcc_connection *c, const struct iovec *iov, size_t iov_len,
			 size_t total);
	ssize_t (*recv)(struct qb_ipcc_connection *c, void *buf, size_t len, int32_t ms_timeout);
	ssize_t (*event_recv)(struct qb_ipcc_connection *c, void *buf, size_t len,
			      int32_t ms_timeout);
	int (*event_fd)(struct qb_ipcc_connection *c);
	void (*disconnect)(struct qb_ipcc_connection *c);
};

extern const struct ipcc_ops ipcc_shm_ops;
extern const struct ipcc_ops ipcc_us_ops;

/* Large SOCKET responses into a buffer near a page start: 1 bounce them
 * (ipcc_us.c), 0 receive them directly, -1 decide by the CPU (the
 * default).  For tests, which cover both paths on any machine. */
void ipcc_us_bounce_set(int mode);

/* Mark the connection dead if its sockets say so; returns is_connected. */
int32_t ipcc_liveness_check(struct qb_ipcc_connection *c, int extra_fd, int32_t ms_timeout);

/* ---- server ---------------------------------------------------------- */

enum ipcs_conn_state {
	IPCS_CONN_SETUP, /* handshake in progress */
	IPCS_CONN_ACTIVE,
	IPCS_CONN_CLOSING, /* closed callback pending */
	IPCS_CONN_CLOSED,
};

struct ipcs_ops;

struct qb_ipcs_service {
	char name[IPC_NAME_MAX];
	int32_t service_id;
	enum qb_ipc_type type;
	int32_t ref_count;
	int listen_fd;
	int32_t running;
	pid_t pid;
	uint32_t enforced_size;
	uint32_t limit_conn;  /* 0: default (ipcs_limits.c) */
	uint64_t limit_total; /* 0: default */
	uint64_t charged;     /* buffer bytes of its connections */
	enum qb_ipcs_rate_limit rate;
	enum qb_loop_priority prio;
	struct qb_ipcs_service_handlers fns;
	struct qb_ipcs_poll_handlers poll;
	struct qb_ipcs_stats stats;
	void *context;
	const struct ipcs_ops *ops;
	struct qb_list_head conns;   /* active + closing */
	struct qb_list_head pending; /* in handshake */
	int32_t mlock_rings;	     /* qb_ipcs_mlock_set() */
	int wake_fd;		     /* timerfd of ipcs_wake.c, or -1 */
	uint64_t wake_at;	     /* when it is armed for, 0: not armed */
};

/* headers and data of three rings */
#define IPCS_GUARDS_MAX 6

struct qb_ipcs_connection {
	struct qb_list_head list; /* on the service's pending or conns */
	struct qb_ipcs_service *service;
	enum ipcs_conn_state state;
	int32_t ref_count;
	int setup_fd;
	int32_t setup_polled;
	uint64_t setup_started_ns; /* accept time, for the setup timeout */
	struct ipc_creds creds;
	int32_t have_creds;
	uid_t auth_uid;
	gid_t auth_gid;
	mode_t auth_mode;
	uint32_t max_msg_size;
	uint64_t charged; /* counted in service->charged */
	char dir[IPC_NAME_MAX];
	struct shm_file_id dir_id; /* identity of the directory we made */
	char description[IPC_NAME_MAX];
	void *context;
	struct qb_ipcs_connection_stats_2 stats;
	int32_t fc_state;
	enum qb_loop_priority prio;
	int32_t close_retry; /* ask connection_closed again */
	/* handshake accumulation */
	union {
		struct ipc_conn_request req;
		char bytes[sizeof(struct ipc_conn_request)];
	} hs;
	size_t hs_got;
	/* SHM */
	qb_ringbuffer_t *shm_req;
	qb_ringbuffer_t *shm_resp;
	qb_ringbuffer_t *shm_ev;
	uint32_t owed_bytes;	 /* notification bytes not yet read */
	uint32_t credit_bytes;	 /* bytes read before their message */
	uint32_t deferred_bytes; /* event bytes not yet sent */
	/* SOCKET */
	int us_req_fd;
	int us_ev_fd;
	int32_t us_req_connected; /* lazily connected to the client */
	int32_t us_ev_connected;
	int32_t us_req_polled;
	struct ipc_us_control *us_ctl;
	char us_ctl_path[IPC_STR_MAX];
	struct shm_file_id us_ctl_id; /* the control file we created */
	char us_base[IPC_STR_MAX];
	void *us_rblock; /* allocated; us_rbuf is US_RBUF_OFFSET into it */
	void *us_rbuf;
	/* mappings guarded against SIGBUS (ipc_sigbus.c) */
	int32_t guards[IPCS_GUARDS_MAX];
	int32_t nguards;
	volatile sig_atomic_t guard_hit; /* set by the SIGBUS handler */
	int32_t guard_logged;
	struct ipc_spin linger; /* waiting for the next request */
	size_t last_req;	/* size of the last request */
};

struct ipcs_ops {
	/* create the transport; fill the response strings */
	int32_t (*connect)(struct qb_ipcs_connection *c, struct ipc_conn_response *r);
	/* start polling the connection's fds */
	int32_t (*poll_add)(struct qb_ipcs_connection *c);
	void (*poll_del)(struct qb_ipcs_connection *c);
	void (*poll_update)(struct qb_ipcs_connection *c);
	void (*fc_set)(struct qb_ipcs_connection *c, int32_t fc);
	ssize_t (*sendv)(struct qb_ipcs_connection *c, const struct iovec *iov, size_t iov_len,
			 size_t total, int32_t event);
	uint32_t (*event_q_len)(struct qb_ipcs_connection *c);
	void (*destroy)(struct qb_ipcs_connection *c);
};

extern const struct ipcs_ops ipcs_shm_ops;
extern const struct ipcs_ops ipcs_us_ops;

/* server core helpers used by the transports */
int32_t ipcs_rate_cap(enum qb_ipcs_rate_limit rate);
int32_t ipcs_deliver(struct qb_ipcs_connection *c, void *data, size_t size);
void ipcs_conn_dead(struct qb_ipcs_connection *c);
int32_t ipcs_conn_poll_events(struct qb_ipcs_connection *c);
int32_t ipcs_rate_fc(enum qb_ipcs_rate_limit rate);
int32_t ipcs_linger(struct qb_ipcs_connection *c, int32_t taken, int32_t (*ready)(void *arg),
		    void *arg);

/* the setup handshake (ipcs_setup.c) */
void ipcs_conn_dir_chown(struct qb_ipcs_connection *c, uid_t uid, gid_t gid);
uint64_t ipcs_expire_pending(struct qb_ipcs_service *s, uint64_t now);

/* a service's connection lists (qb_list, newest first) */
#define ipcs_conn_of(pos) qb_list_entry(pos, struct qb_ipcs_connection, list)

static inline void ipcs_conn_list_add(struct qb_list_head *head, struct qb_ipcs_connection *c)
{
	qb_list_add(&c->list, head);
}

/* Unlink c; a connection on no list is linked to itself. */
static inline void ipcs_conn_list_del(struct qb_ipcs_connection *c)
{
	qb_list_del(&c->list);
	qb_list_init(&c->list);
}

static inline struct qb_ipcs_connection *ipcs_conn_first(struct qb_list_head *head)
{
	return qb_list_empty(head) ? NULL : ipcs_conn_of(head->next);
}

/* The connection after c on head's list, NULL at the end or off-list. */
static inline struct qb_ipcs_connection *ipcs_conn_next(struct qb_list_head *head,
							struct qb_ipcs_connection *c)
{
	struct qb_list_head *n = c->list.next;

	return (n == head || n == &c->list) ? NULL : ipcs_conn_of(n);
}

/*
 * SIGBUS guard of the client files the server maps (ipc_sigbus.c): register
 * the mappings right after mapping them, release before unmapping. A
 * tripped connection reads zeros from then on and must be disconnected.
 */
void ipcs_guard_mem(struct qb_ipcs_connection *c, void *addr, size_t len);
void ipcs_guard_rb(struct qb_ipcs_connection *c, qb_ringbuffer_t *rb);
void ipcs_guard_release(struct qb_ipcs_connection *c);
int32_t ipcs_guard_tripped(struct qb_ipcs_connection *c);

/*
 * Accept one client on listen_fd (ipcs_accept.c): the fd, or -errno. Out of
 * descriptors (-EMFILE/-ENFILE) the waiting client is closed at once, so a
 * level-triggered loop does not spin.
 */
int ipcs_accept(struct qb_ipcs_service *s, int listen_fd);
void ipcs_spare_fd_reserve(void); /* a service starts listening */
void ipcs_spare_fd_release(void); /* ... and stops */

/* Buffer limits of a service (ipcs_limits.c): the size a connection gets
 * for what it asked; charge/uncharge it against the service's total
 * (-ENOSPC when over). */
uint32_t ipcs_limit_size(struct qb_ipcs_connection *c, uint32_t asked);
int32_t ipcs_limit_charge(struct qb_ipcs_connection *c);
void ipcs_limit_uncharge(struct qb_ipcs_connection *c);
/* the service's wake-up timer (ipcs_wake.c); ipcs_wake() does the work */
uint64_t ipcs_now_ns(void);
int32_t ipcs_wake_open(struct qb_ipcs_service *s);
void ipcs_wake_close(struct qb_ipcs_service *s);
int32_t ipcs_wake_at(struct qb_ipcs_service *s, uint64_t when);
void ipcs_wake(struct qb_ipcs_service *s);

/* exported internals with C linkage (kept for ABI parity) */
enum qb_sigpipe_ctl { QB_SIGPIPE_IGNORE, QB_SIGPIPE_DEFAULT };
void qb_sigpipe_ctl(enum qb_sigpipe_ctl ctl);
void qb_socket_nosigpipe(int32_t s);
int32_t use_filesystem_sockets(void);
/* Lock a new connection's rings when its service asks (ipcs_mlock.c);
 * a failure is logged, not fatal. 0 or -errno. */
int32_t ipcs_conn_mlock(struct qb_ipcs_connection *c);
/* Directory of filesystem sockets (ipc_sockdir.c); NULL if the
 * QB_IPC_SOCKET_DIR given is not an absolute path. */
const char *ipc_socket_dir(void);
int32_t qb_ipc_us_sock_error_is_disconnected(int err);
int32_t qb_ipc_us_ready(int32_t fd_data, int32_t fd_conn, int32_t ms_timeout, int32_t events);
ssize_t qb_ipc_us_send(int32_t fd, const void *msg, size_t len);
ssize_t qb_ipc_us_recv(int32_t fd, void *msg, size_t len, int32_t ms_timeout);
void qb_ipcc_us_sock_close(int32_t sock);
int32_t qb_ipcc_us_setup_connect(struct qb_ipcc_connection *c, struct ipc_conn_response *r);
int32_t qb_ipcc_setup_connect_continue(struct qb_ipcc_connection *c, struct ipc_conn_response *r);
int32_t qb_ipcc_us_connect(struct qb_ipcc_connection *c, struct ipc_conn_response *r);
int32_t qb_ipcc_shm_connect(struct qb_ipcc_connection *c, struct ipc_conn_response *r);
void qb_ipcs_us_init(struct qb_ipcs_service *s);
void qb_ipcs_shm_init(struct qb_ipcs_service *s);
int32_t qb_ipcs_us_publish(struct qb_ipcs_service *s);
int32_t qb_ipcs_us_withdraw(struct qb_ipcs_service *s);
struct qb_ipcs_connection *qb_ipcs_connection_alloc(struct qb_ipcs_service *s);
int32_t qb_ipcs_dispatch_connection_request(int32_t fd, int32_t revents, void *data);

/*
 * Bounded busy wait of a client or an SHM server (ipc_spin.c): call
 * ready(arg), which must not block, for up to the budget of s (set by
 * ipc_spin_init) when another CPU can run the peer,
 * reading the clock every `checks` calls (IPC_SPIN_CHECKS for a memory
 * test, 1 for a system call); s adapts the wait to how fast the peer
 * answers. Returns 1 once ready, else 0 (ready() may not have been called
 * at all). Callers then block as usual, so results, errors and timeouts
 * do not depend on it.
 */
#define IPC_SPIN_NS 50000
#define IPC_SPIN_MIN_NS 5000	/* a shorter wait rests instead */
#define IPC_SPIN_REST 64	/* waits skipped while resting */
#define IPC_SPIN_CHECKS 16	/* memory tests between two clock reads */
#define IPC_SPIN_YIELD_NS 1000	/* yield the CPU this often */
#define IPC_SPIN_SHARED_NS 5000 /* a gap this long: another task ran */
void ipc_spin_init(struct ipc_spin *s, int32_t max_ns);
/* An SHM server that answered waits this long for the client's next
 * request before it returns to its loop (and may go idle): a client that
 * sends again at once then finds it awake. */
#define IPCS_LINGER_NS 20000
/* Messages larger than this take long enough to copy that a wake-up does
 * not matter, and the copy is faster when both sides share a CPU (which a
 * busy wait makes the scheduler avoid): no busy wait after them. */
#define IPC_SPIN_MAX_BYTES (64u * 1024u)
int32_t ipc_spin_wait(struct ipc_spin *s, int32_t checks, int32_t (*ready)(void *arg), void *arg);

/* ring helpers (ipc_rb.c): wire-layout facts of the ring header */
void ipc_rb_close_last(qb_ringbuffer_t *rb);
void ipc_rb_force_close(qb_ringbuffer_t *rb);


#endif /* QB_IPC_INTERNAL_H_DEFINED */
