/* Descriptors the library keeps: never 0-2, always close-on-exec. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "util/util_internal.h"

/* The lowest descriptor number the library is willing to keep. */
#define QB_UTIL_FIRST_SAFE_FD 3

/* Close fd after a failure, keeping the failure's errno. */
static int fd_fail(int fd)
{
	int err = errno;

	if (err != EBADF) {
		close(fd);
	}
	return -err;
}

int util_fd_hygiene(int fd)
{
	int flags;

	if (fd < 0) {
		return -EBADF;
	}
	if (fd < QB_UTIL_FIRST_SAFE_FD) {
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, QB_UTIL_FIRST_SAFE_FD);

		if (moved < 0) {
			return fd_fail(fd);
		}
		close(fd);
		return moved;
	}
	flags = fcntl(fd, F_GETFD);
	if (flags < 0) {
		return fd_fail(fd);
	}
	if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
		return fd_fail(fd);
	}
	return fd;
}
