/*
 * ipc_proto.c - validation of the bytes a peer sends during and after the
 * handshake. Pure functions over buffers so that the fuzzer can call them.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ipc/ipc_internal.h"

int32_t ipc_proto_request_parse(const void *buf, size_t len, uint32_t *max_msg_size)
{
	struct ipc_conn_request req;

	if (buf == NULL || len < sizeof(req)) {
		return -EBADMSG;
	}
	memcpy(&req, buf, sizeof(req));
	/* The size field is not checked by libqb peers; only the id. */
	if (req.hdr.id != QB_IPC_MSG_AUTHENTICATE) {
		return -EBADMSG;
	}
	if (max_msg_size) {
		*max_msg_size = req.max_msg_size;
	}
	return 0;
}

static int32_t str_terminated(const char *s, size_t max)
{
	return memchr(s, '\0', max) != NULL;
}

int32_t ipc_proto_response_parse(const void *buf, size_t len)
{
	const struct ipc_conn_response *r = buf;

	if (buf == NULL || len < sizeof(*r)) {
		return -ENOTCONN;
	}
	if (r->hdr.error != 0) {
		return r->hdr.error > 0 ? -r->hdr.error : r->hdr.error;
	}
	if (!str_terminated(r->request, IPC_STR_MAX) || !str_terminated(r->response, IPC_STR_MAX) ||
	    !str_terminated(r->event, IPC_STR_MAX)) {
		return -EBADMSG;
	}
	if (r->max_msg_size == 0 || r->max_msg_size > INT32_MAX) {
		return -EBADMSG;
	}
	switch (r->connection_type) {
	case QB_IPC_SOCKET:
	case QB_IPC_SHM:
		return 0;
	case QB_IPC_POSIX_MQ:
	case QB_IPC_SYSV_MQ:
		return -ENOTSUP;
	default:
		return -EINVAL;
	}
}

int32_t ipc_proto_msg_check(const void *buf, size_t avail, uint32_t max, size_t *size)
{
	struct qb_ipc_request_header hdr;

	if (buf == NULL || avail < sizeof(hdr)) {
		return -EBADMSG;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.size < (int32_t)sizeof(hdr)) {
		return -EBADMSG;
	}
	if ((uint32_t)hdr.size > max) {
		return -EMSGSIZE;
	}
	if ((size_t)hdr.size > avail) {
		return -EBADMSG;
	}
	*size = (size_t)hdr.size;
	return 0;
}

uint32_t ipc_proto_negotiate(uint32_t asked, uint32_t enforced)
{
	return asked > enforced ? asked : enforced;
}
