/*
 * libFuzzer harness for qb-blackbox's own parsing (tools/bbt_*.c): the
 * first input byte picks what the rest is:
 *   0  a whole file (dump or anything), printed plain, as JSON, filtered;
 *   1  a live blackbox: header words and owner record from the input,
 *      the rest its data file (snapshot, walk, print);
 *   2  text for the time, priority and file-name parsers.
 * Any input must give an error or output, never a crash or an
 * out-of-bounds read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bbt.h"

static char dir[64], file[96], hdr[128], data[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/fuzz_bbtool.%d", (int)getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		abort();
	}
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(hdr, sizeof(hdr), "%s/qb-fz-1-blackbox-header", dir);
	snprintf(data, sizeof(data), "%s/qb-fz-1-blackbox-data", dir);
	if (freopen("/dev/null", "w", stdout) == NULL) {
		abort();
	}
	return 0;
}

static void put(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0) {
		return;
	}
	if (len > 0 && write(fd, buf, len) != (ssize_t)len) {
		/* a short file is fine too */
	}
	close(fd);
}

static void print_all_ways(const char *path)
{
	struct bbt_opts o;

	memset(&o, 0, sizeof(o));
	o.max_prio = 8;
	o.lines = -1;
	o.pid = -1;
	(void)bbt_print_file(&o, path);
	o.format = BBT_JSON;
	o.lines = 2;
	o.max_prio = 5;
	o.have_since = 1;
	o.since = 1000000000LL;
	(void)bbt_print_file(&o, path);
}

static void fuzz_live(const uint8_t *in, size_t len)
{
	unsigned char h[RB_HDR_SIZE + sizeof(struct bb_owner)];
	struct bb_owner o;
	uint32_t words[3] = {0, 0, 0}; /* write_pt, read_pt, word_size */
	struct bbt_live l;
	struct bbt_ring r;
	struct bbt_walk w;
	size_t take;
	int owner = 0;

	take = len < sizeof(words) ? len : sizeof(words);
	memcpy(words, in, take);
	in += take;
	len -= take;
	if (len > 0 && (in[0] & 1)) {
		memset(&o, 0, sizeof(o));
		memcpy(o.magic, QB_BB_OWNER_MAGIC, sizeof(o.magic));
		take = len < 8 ? len : 8; /* seq, pid */
		memcpy(&o.seq, in, len < 4 ? len : 4);
		if (len >= 8) {
			memcpy(&o.pid, in + 4, 4);
		}
		memcpy(o.ident, "fz", 3);
		owner = 1;
		in += take;
		len -= take;
	}
	if (rb_header_image_make(h, sizeof(h), words[2], words[0], words[1], "/x-header", "/x-data",
				 owner ? &o : NULL, sizeof(o)) != 0) {
		abort();
	}
	put(hdr, h, sizeof(h));
	put(data, in, len);
	if (bbt_live_open(hdr, &l) == 0) {
		if (bbt_live_snapshot(&l, &r) == 0) {
			bbt_walk(&r, r.start, 0, &w);
			bbt_walk_free(&w);
			bbt_ring_free(&r);
		}
		bbt_live_close(&l);
	}
	print_all_ways(hdr);
}

static void fuzz_text(const uint8_t *in, size_t len)
{
	struct bbt_entry e;
	char s[300];
	int64_t t;

	if (len >= sizeof(s)) {
		len = sizeof(s) - 1;
	}
	memcpy(s, in, len);
	s[len] = '\0';
	(void)bbt_parse_time(s, 1700000000000000000LL, &t);
	(void)bbt_parse_prio(s);
	memset(&e, 0, sizeof(e));
	(void)bbt_parse_bb_name(s, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	if (len == 0) {
		return 0;
	}
	switch (in[0] % 3) {
	case 0:
		put(file, in + 1, len - 1);
		print_all_ways(file);
		break;
	case 1:
		fuzz_live(in + 1, len - 1);
		break;
	default:
		fuzz_text(in + 1, len - 1);
		break;
	}
	return 0;
}
