/*
 * Message protocol shared by tests/compat/ipc_server.c and ipc_client.c,
 * the two halves of the IPC cross-library wire test. Both are built against
 * the distro headers and may each run on either library.
 */
#ifndef IPC_WIRE_H
#define IPC_WIRE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <qb/qbipc_common.h>

/* Request ids (client -> server); responses use id + 100, events 200. */
enum ipcw_req {
	IPCW_ECHO = 1,	 /* respond with the same payload */
	IPCW_EVENTS = 2, /* struct ipcw_events_req: send events, then respond */
	IPCW_BIG = 3,	 /* patterned payload: send it back as event and response */
	IPCW_FC = 4,	 /* struct ipcw_fc_req: set a rate limit, undo it later */
	IPCW_HOLD = 5,	 /* respond only after IPCW_HOLD_MS (to a killed client) */
	IPCW_STATS = 6,	 /* respond with struct ipcw_stats */
	IPCW_QUIT = 7,	 /* respond, then the server shuts down */
	IPCW_CRASH = 8,	 /* the server SIGKILLs itself (no response) */
};
#define IPCW_RESP(id) ((id) + 100)
#define IPCW_EVENT 200
#define IPCW_HOLD_MS 200

/* Buffer size both sides ask for: room for a 1 MiB payload plus headers. */
#define IPCW_BIG_PAYLOAD (1024 * 1024)
#define IPCW_BIG_BUF (IPCW_BIG_PAYLOAD + 4096)

struct ipcw_events_req {
	struct qb_ipc_request_header hdr;
	uint32_t count;
	uint32_t payload; /* bytes after each event's header */
};

struct ipcw_fc_req {
	struct qb_ipc_request_header hdr;
	uint32_t rate;	     /* enum qb_ipcs_rate_limit */
	uint32_t restore_ms; /* back to QB_IPCS_RATE_NORMAL after this */
};

struct ipcw_stats {
	struct qb_ipc_response_header hdr;
	uint32_t created;   /* connection_created calls so far */
	uint32_t destroyed; /* connection_destroyed calls so far */
	uint32_t active;    /* qb_ipcs_stats_get().active_connections */
	int32_t server_pid;
	int32_t held_send_rc;	/* result of the late response to a held request */
	int32_t bad;		/* requests the server found malformed */
	uint32_t conn_requests; /* this connection's stats: requests */
	uint32_t held;		/* IPCW_HOLD requests received so far */
};

/* Headers are filled through these so that their padding bytes are zero
 * (valgrind rightly complains about uninitialised bytes sent to a socket). */
static inline void ipcw_req_init(void *msg, size_t len, int32_t id)
{
	struct qb_ipc_request_header *h = msg;
	memset(msg, 0, len);
	h->id = id;
	h->size = (int32_t)len;
}

static inline void ipcw_resp_init(struct qb_ipc_response_header *h, int32_t id, int32_t size,
				  int32_t error)
{
	memset(h, 0, sizeof(*h));
	h->id = id;
	h->size = size;
	h->error = error;
}

/* Deterministic payload bytes, so each side can check what it got. */
static inline uint8_t ipcw_byte(size_t i, uint32_t seed)
{
	return (uint8_t)((i * 131u + seed * 7u + (i >> 11)) & 0xff);
}

static inline void ipcw_fill(void *p, size_t len, uint32_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		b[i] = ipcw_byte(i, seed);
}

/* Returns the offset of the first wrong byte, or -1 when all match. */
static inline long ipcw_check(const void *p, size_t len, uint32_t seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i] != ipcw_byte(i, seed))
			return (long)i;
	return -1;
}

#endif
