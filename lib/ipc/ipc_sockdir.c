/*
 * ipc_sockdir.c - where filesystem sockets live, decided once per process.
 *
 * Precedence (both peers must decide alike):
 *   1. QB_IPC_SOCKET_DIR in the environment (an absolute path): filesystem
 *      sockets in that directory, whether or not the marker file exists;
 *   2. the marker file SYSCONFDIR/libqb/force-filesystem-sockets:
 *      filesystem sockets in the build-time SOCKETDIR;
 *   3. otherwise abstract sockets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc/ipc_internal.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define FORCE_FS_SOCKETS_FILE SYSCONFDIR "/libqb/force-filesystem-sockets"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int32_t use_fs;
static char dir[PATH_MAX];
static int dir_bad; /* QB_IPC_SOCKET_DIR set but not absolute */

static void decide(void)
{
	const char *env = secure_getenv("QB_IPC_SOCKET_DIR");
	struct stat st;

	if (env != NULL && env[0] != '\0') {
		use_fs = 1;
		dir_bad = env[0] != '/' || strlen(env) >= sizeof(dir);
		if (!dir_bad)
			strcpy(dir, env);
		return;
	}
	use_fs = (stat(FORCE_FS_SOCKETS_FILE, &st) == 0);
	strcpy(dir, SOCKETDIR);
}

int32_t use_filesystem_sockets(void)
{
	pthread_once(&once, decide);
	return use_fs;
}

const char *ipc_socket_dir(void)
{
	pthread_once(&once, decide);
	return dir_bad ? NULL : dir;
}
