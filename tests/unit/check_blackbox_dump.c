/* Reading blackbox dumps: exact text, old and new formats, corrupt files. */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include "format_sizes.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>

#define WORDS 1024

static uint32_t ring[WORDS];
static uint32_t wp;

static void ring_reset(void)
{
	memset(ring, 0, sizeof(ring));
	ring[0] = RB_DATA_FRESH_WORD;
	wp = 0;
}

/* Appends one committed chunk. */
static void ring_chunk(const void *data, uint32_t len)
{
	ring[wp + RB_CHUNK_SIZE_WORD] = len;
	ring[wp + RB_CHUNK_MAGIC_WORD] = RB_CHUNK_MAGIC_COMMITTED;
	memcpy(&ring[wp + RB_CHUNK_HEADER_WORDS], data, len);
	wp += RB_CHUNK_WORDS(len);
}

/* Builds a record; hires selects the 16-byte timestamp. */
static uint32_t record(char *out, uint32_t line, uint32_t tags, uint8_t prio, const char *fn,
		       int64_t sec, int64_t nsec, int hires, const void *msg, uint32_t msg_len)
{
	uint32_t fs = (uint32_t)strlen(fn) + 1;
	uint32_t off = BB_REC_FN_OFF + fs;

	memcpy(out + BB_REC_LINE_OFF, &line, 4);
	memcpy(out + BB_REC_TAGS_OFF, &tags, 4);
	out[BB_REC_PRIO_OFF] = (char)prio;
	memcpy(out + BB_REC_FN_SIZE_OFF, &fs, 4);
	memcpy(out + BB_REC_FN_OFF, fn, fs);
	memcpy(out + off, &sec, 8);
	off += 8;
	if (hires) {
		memcpy(out + off, &nsec, 8);
		off += 8;
	}
	memcpy(out + off, &msg_len, 4);
	memcpy(out + off + 4, msg, msg_len);
	return off + 4 + msg_len;
}

static void write_dump(const char *path, int v2)
{
	static const uint32_t marker[5] = {0, BB_DUMP_MAGIC1, BB_DUMP_MAGIC2, BB_DUMP_VERSION, 0};
	uint32_t hdr[5] = {WORDS, wp, 0, 1, 0};
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	hdr[4] = hdr[0] + hdr[1] + hdr[2] + hdr[3];
	if (v2) {
		fwrite(marker, sizeof(marker), 1, f);
	}
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(ring, sizeof(ring), 1, f);
	fclose(f);
}

/* Runs print_from_file with stdout captured into out. */
static int print_capture(const char *path, char *out, size_t len)
{
	char cap[] = "/tmp/check_bb_out.XXXXXX";
	int fd = mkstemp(cap);
	int saved = dup(STDOUT_FILENO);
	ssize_t n;
	int rc;

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	rc = qb_log_blackbox_print_from_file(path);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(cap);
	return rc;
}

static char tmpfile_name[64];

static void setup(void)
{
	int fd;

	strcpy(tmpfile_name, "/tmp/check_bb_dump.XXXXXX");
	fd = mkstemp(tmpfile_name);
	close(fd);
	setenv("TZ", "UTC", 1);
	ring_reset();
}

static void teardown(void)
{
	unlink(tmpfile_name);
}

START_TEST(test_print_v2)
{
	char rec[256], out[4096];
	uint32_t n;
	int32_t v = 42;
	char msg[32];
	int rc;

	memcpy(msg, "n=%d\0", 5);
	memcpy(msg + 5, &v, 4);
	n = record(rec, 12, 5, LOG_ERR, "main", 1700000000, 143000000, 1, msg, 9);
	ring_chunk(rec, n);
	n = record(rec, 7, 0, 11, "fn", 1700000001, 999999999, 1, "only\n\n\0", 7);
	ring_chunk(rec, n);
	n = record(rec, 8, 0, LOG_INFO, "fn", 1700000002, 0, 1, "\n\0", 2);
	ring_chunk(rec, n);
	write_dump(tmpfile_name, 1);
	rc = print_capture(tmpfile_name, out, sizeof(out));
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out,
			 "Ringbuffer: \n ->NORMAL\n ->write_pt [39]\n ->read_pt [0]\n"
			 " ->size [1024 words]\n =>free [3936 bytes]\n =>used [156 bytes]\n"
			 "error   Nov 14 22:13:20.143 main(12):5: n=42\n"
			 "trace   Nov 14 22:13:21.999 fn(7):0: only\n"
			 "info    Nov 14 22:13:22.000 fn(8):0: \n\n");
}
END_TEST

START_TEST(test_print_old_format)
{
	char rec[256], out[4096];
	uint32_t n;

	n = record(rec, 3, 1, LOG_WARNING, "old", 1700000000, 0, 0, "plain\0", 6);
	ring_chunk(rec, n);
	write_dump(tmpfile_name, 0);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "warning Nov 14 22:13:20.000 old(3):1: plain\n"));
}
END_TEST

START_TEST(test_corrupt_records)
{
	char rec[256], out[4096];
	uint32_t n, bad;

	/* too small */
	ring_chunk("0123456789", 10);
	write_dump(tmpfile_name, 1);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -1);
	ck_assert_ptr_nonnull(strstr(out, "ERROR Corrupt file: blackbox header too small.\n"));

	/* fn_size too big */
	ring_reset();
	n = record(rec, 1, 0, 6, "f", 1, 0, 1, "x\0", 2);
	bad = 200;
	memcpy(rec + BB_REC_FN_SIZE_OFF, &bad, 4);
	ring_chunk(rec, n);
	write_dump(tmpfile_name, 1);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	ck_assert_ptr_nonnull(strstr(out, "ERROR Corrupt file: fn_size way too big 200\n"));

	/* fn_size 0 */
	ring_reset();
	bad = 0;
	memcpy(rec + BB_REC_FN_SIZE_OFF, &bad, 4);
	ring_chunk(rec, n);
	write_dump(tmpfile_name, 1);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	ck_assert_ptr_nonnull(strstr(out, "ERROR Corrupt file: fn_size negative 0\n"));

	/* msg_len 0 after a good record: the good one is printed first */
	ring_reset();
	n = record(rec, 1, 0, 6, "f", 1, 0, 1, "good\0", 5);
	ring_chunk(rec, n);
	n = record(rec, 1, 0, 6, "f", 1, 0, 1, "", 0);
	ring_chunk(rec, n);
	write_dump(tmpfile_name, 1);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	ck_assert_ptr_nonnull(strstr(out, "f(1):0: good\n"));
	ck_assert_ptr_nonnull(strstr(out, "ERROR Corrupt file: msg_len out of bounds 0\n"));
}
END_TEST

START_TEST(test_bad_files)
{
	char out[4096];
	int fd;

	ck_assert_int_eq(print_capture("/nonexistent/dump", out, sizeof(out)), -ENOENT);
	/* empty file and a short one */
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	fd = open(tmpfile_name, O_WRONLY);
	ck_assert_int_eq(write(fd, "\0\0\0\0\xbb\xcc", 6), 6);
	close(fd);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	/* wrong hash */
	write_dump(tmpfile_name, 1);
	fd = open(tmpfile_name, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "\x07", 1, 36), 1);
	close(fd);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	/* truncated data area */
	write_dump(tmpfile_name, 1);
	ck_assert_int_eq(truncate(tmpfile_name, 2000), 0);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), -EIO);
	/* a directory */
	ck_assert_int_lt(print_capture("/tmp", out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_wrapped_ring)
{
	char rec[256], out[8192];
	uint32_t n, start, head;
	uint32_t hdr[5];
	FILE *f;
	static const uint32_t marker[5] = {0, BB_DUMP_MAGIC1, BB_DUMP_MAGIC2, BB_DUMP_VERSION, 0};

	/* a chunk that starts near the end and wraps to the start */
	start = WORDS - 6;
	n = record(rec, 9, 0, 6, "wrap", 1, 0, 1, "across the end of the ring\0", 27);
	ring[start + RB_CHUNK_SIZE_WORD] = n;
	ring[start + RB_CHUNK_MAGIC_WORD] = RB_CHUNK_MAGIC_COMMITTED;
	head = (WORDS - start - RB_CHUNK_HEADER_WORDS) * 4;
	memcpy(&ring[start + RB_CHUNK_HEADER_WORDS], rec, head);
	memcpy(&ring[0], rec + head, n - head);
	wp = (start + RB_CHUNK_WORDS(n)) % WORDS;
	hdr[0] = WORDS;
	hdr[1] = wp;
	hdr[2] = start;
	hdr[3] = 1;
	hdr[4] = hdr[0] + hdr[1] + hdr[2] + hdr[3];
	f = fopen(tmpfile_name, "w");
	fwrite(marker, sizeof(marker), 1, f);
	fwrite(hdr, sizeof(hdr), 1, f);
	fwrite(ring, sizeof(ring), 1, f);
	fclose(f);
	ck_assert_int_eq(print_capture(tmpfile_name, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "wrap(9):0: across the end of the ring\n"));
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_print_v2),	       CK_TEST(test_print_old_format),
		CK_TEST(test_corrupt_records), CK_TEST(test_bad_files),
		CK_TEST(test_wrapped_ring),
	};
	const struct ck_opts opts = {
		.setup = setup,
		.teardown = teardown,
	};

	return CK_MAIN("blackbox_dump", &opts, tests);
}
