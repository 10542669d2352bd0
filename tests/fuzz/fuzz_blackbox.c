/*
 * libFuzzer harness for the blackbox dump reader: the input is written to
 * a file and printed with qb_log_blackbox_print_from_file (dump detection,
 * ring validation, record parsing, argument rendering), and also fed
 * straight to the bounded argument reader.  Any input must give an error
 * or a printout, never a crash or a read out of bounds.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "log/blackbox_internal.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/fuzz_blackbox.%d", (int)getpid());
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd >= 0) {
		close(fd);
	}
	/* the printout is not interesting, only that it happens */
	if (freopen("/dev/null", "w", stdout) == NULL) {
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[600];
	FILE *f;

	bb_msg_render(text, sizeof(text), (const char *)data, size);
	if (strnlen(text, sizeof(text)) >= sizeof(text)) {
		abort();
	}
	f = fopen(path, "w");
	if (f == NULL) {
		return 0;
	}
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	(void)qb_log_blackbox_print_from_file(path);
	return 0;
}
