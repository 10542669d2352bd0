/* Blackbox argument serialisation: stored bytes and printed text. */
#include "config.h"

#include <check.h>
#include "check_common.h"
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <wchar.h>

#include "log/blackbox_internal.h"

static ssize_t ser(char *buf, size_t max, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(buf, max, fmt, ap);
	va_end(ap);
	return n;
}

/* Serialises, prints back with the bounded reader and compares with printf. */
static void roundtrip(const char *expect_fmt, const char *fmt, ...)
{
	char stored[512];
	char text[512];
	char want[512];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(stored, sizeof(stored), fmt, ap);
	va_end(ap);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (ssize_t)sizeof(stored));
	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), expect_fmt ? expect_fmt : fmt, ap);
	va_end(ap);
	bb_msg_render(text, sizeof(text), stored, (size_t)n);
	ck_assert_str_eq(text, want);
	/* the unbounded exported reader agrees */
	ck_assert_uint_eq(qb_vsnprintf_deserialize(text, sizeof(text), stored), strlen(want) + 1);
	ck_assert_str_eq(text, want);
}

START_TEST(test_bytes_of_spec_example)
{
	static const unsigned char args[] = {
		0x2a, 0, 0, 0, 's', 't',  'r',	0, 0x5a, 0x34, 0x12, 0, 0, 0,	 0, 0, 0, 0,
		0,    0, 0, 0, 0,   0xf8, 0x3f, 7, 0,	 0,    0,    0, 0, 0,	 0, 8, 0, 0,
		0,    0, 0, 0, 0,   9,	  0,	0, 0,	 0,    0,    0, 0, 0xff, 0, 0, 0,
	};
	const char *fmt = "hello %d %s %c %p %f %ld %lld %zu %x|";
	char buf[512];
	ssize_t n;

	n = ser(buf, sizeof(buf), fmt, 42, "str", 'Z', (void *)0x1234, 1.5, 7L, 8LL, (size_t)9,
		255);
	ck_assert_int_eq(n, 91);
	ck_assert_str_eq(buf, fmt);
	ck_assert_int_eq(memcmp(buf + 38, args, sizeof(args)), 0);
}
END_TEST

START_TEST(test_roundtrip_common)
{
	roundtrip(NULL, "plain text");
	roundtrip(NULL, "%d %i %u %o %x %X", -5, 7, 4000000000u, 8, 255, 255);
	roundtrip(NULL, "%ld %lu %lld %llx %zu %zd %jd %td", -1L, 2UL, -3LL, 0xabcdefLL, (size_t)5,
		  (ssize_t)-6, (intmax_t)7, (ptrdiff_t)8);
	roundtrip(NULL, "%f %e %g %a %.3f %10.2E", 1.5, 2.5, 3.25, 0.5, 3.14159, 1e10);
	roundtrip(NULL, "%c%c%c", 'a', 'b', 'c');
	roundtrip(NULL, "[%s] [%10s] [%-6s] [%.2s]", "x", "right", "left", "abcdef");
	roundtrip(NULL, "%*d|%-*d|%.*s|%*.*f", 5, 1, 4, 2, 3, "abcdef", 8, 2, 2.5);
	roundtrip(NULL, "%p %p", (void *)0x1234, (void *)0);
	roundtrip(NULL, "%#x %+d % d %05d %'d", 255, 3, 4, 42, 1234567);
}
END_TEST

START_TEST(test_fixed_writer_bugs)
{
	char buf[512];
	char text[512];
	ssize_t n;

	/* %% stores nothing and does not eat an argument */
	roundtrip(NULL, "100%% done %d", 77);
	n = ser(buf, sizeof(buf), "%d%%", 1);
	ck_assert_int_eq(n, (ssize_t)strlen("%d%%") + 1 + 4);
	/* precision belongs to one conversion only */
	roundtrip(NULL, "%5.2f %s", 3.14159, "abcdefgh");
	roundtrip(NULL, "%.1f %2s|%.1f %s %3s", 1.0, "abcdefghijklmnop", 2.0, "qrstuvwxyz",
		  "0123456789abcdefgh");
	/* h, hh and L print as printf would, with modifiers every reader knows */
	roundtrip(NULL, "%hd %hu %hhd %hhx %Lf", 70000, 70000, 300, 0x1ff, (long double)2.5);
	n = ser(buf, sizeof(buf), "%hd", -1);
	ck_assert_str_eq(buf, "%d");
	ck_assert_int_eq(n, 3 + 4);
	n = ser(buf, sizeof(buf), "%qd|%Ld", 1LL, 2LL);
	ck_assert_str_eq(buf, "%lld|%lld");
	bb_msg_render(text, sizeof(text), buf, (size_t)n);
	ck_assert_str_eq(text, "1|2");
	/* a trailing extended-information marker is dropped, not made a NUL */
	n = ser(buf, sizeof(buf), "abc %d\a", 5);
	ck_assert_str_eq(buf, "abc %d");
	ck_assert_int_eq(n, 7 + 4);
	bb_msg_render(text, sizeof(text), buf, (size_t)n);
	ck_assert_str_eq(text, "abc 5");
	/* an inner marker becomes '|', only the first one */
	n = ser(buf, sizeof(buf), "a\a b\a c");
	ck_assert_str_eq(buf, "a| b\a c");
	/* NULL strings */
	roundtrip("(null)", "%s", (char *)NULL);
	/* wide strings are narrowed, never read as bytes */
	n = ser(buf, sizeof(buf), "%ls", L"wide");
	bb_msg_render(text, sizeof(text), buf, (size_t)n);
	ck_assert_str_eq(text, "wide");
}
END_TEST

START_TEST(test_limits)
{
	char buf[64];
	char big[100];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* everything must fit in max_len - 1 bytes */
	ck_assert_int_eq(ser(buf, 10, "12345678"), 9);
	ck_assert_int_eq(ser(buf, 10, "1234567"), 8);
	ck_assert_int_eq(ser(buf, 10, "1234%d", 1), 10);
	ck_assert_int_eq(ser(buf, 11, "1234%d", 1), 11);
	ck_assert_int_eq(ser(buf, 12, "1234%d", 1), 11);
	ck_assert_int_eq(ser(buf, 64, "%s", big), 64);
	ck_assert_int_eq(ser(buf, 64, "%.10s", big), 6 + 11);
	ck_assert_int_eq(ser(buf, 0, "x"), 0);
	ck_assert_int_eq(ser(buf, 1, ""), 1);
}
END_TEST

START_TEST(test_reader_upstream_semantics)
{
	char text[512];
	/* upstream writer output of "100%% done %d" with 77: a stray '%' byte */
	static const char rec1[] = "100%% done %d\0%\x4d\0\0";
	/* sticky precision: the string was stored cut to 2 characters */
	char rec2[64];
	double pi = 3.14159;
	size_t n;

	n = bb_msg_render(text, sizeof(text), rec1, sizeof(rec1) - 1);
	ck_assert_str_eq(text, "100% done 19749");
	ck_assert_uint_eq(n, strlen(text) + 1);

	memcpy(rec2, "%5.2f %s", 9);
	memcpy(rec2 + 9, &pi, 8);
	memcpy(rec2 + 17, "ab", 3);
	bb_msg_render(text, sizeof(text), rec2, 20);
	ck_assert_str_eq(text, " 3.14 ab");

	/* unknown conversions print as literal text from the letter on */
	bb_msg_render(text, sizeof(text), "x %5hd y", 9);
	ck_assert_str_eq(text, "x hd y");
	bb_msg_render(text, sizeof(text), "%m!", 4);
	ck_assert_str_eq(text, "m!");
	bb_msg_render(text, sizeof(text), "end %", 6);
	ck_assert_str_eq(text, "end ");
}
END_TEST

START_TEST(test_reader_robust)
{
	char text[64];
	char rec[256];
	unsigned int seed = 12345;
	int round;
	size_t i, len;

	/* missing values stop the text, nothing is read past the record */
	bb_msg_render(text, sizeof(text), "a %d b", 7);
	ck_assert_str_eq(text, "a ");
	bb_msg_render(text, sizeof(text), "%s\0abc", 6);
	ck_assert_str_eq(text, "");
	bb_msg_render(text, sizeof(text), "no terminator", 5);
	ck_assert_str_eq(text, "");
	/* absurd widths are harmless and the output stays bounded */
	bb_msg_render(text, sizeof(text), "%999999999999d\0\1\0\0\0", 20);
	ck_assert_uint_eq(strlen(text), sizeof(text) - 1);
	ck_assert_uint_eq(bb_msg_render(text, 0, "x", 2), 0);
	/* negative '*' values right at the end of the rebuilt spec buffer must
	 * not write past it (found by fuzz_blackbox): 27 stars of -1 fill it,
	 * a flag, then more stars */
	{
		char rec2[256];
		int32_t minus = -1;
		int k;

		rec2[0] = '%';
		memset(rec2 + 1, '*', 27);
		memcpy(rec2 + 28, "+******d", 9);
		for (k = 0; k < 33; k++) {
			memcpy(rec2 + 37 + 4 * k, &minus, 4);
		}
		bb_msg_render(text, sizeof(text), rec2, 37 + 4 * 33);
		ck_assert_uint_lt(strlen(text), sizeof(text));
	}
	/* random records: never crash, always terminated */
	for (round = 0; round < 4000; round++) {
		len = (size_t)(rand_r(&seed) % sizeof(rec));
		for (i = 0; i < len; i++) {
			static const char alpha[] = "%%%dsfcpxlzhL*.-0123456789 \0ab";

			rec[i] = (rand_r(&seed) & 1) ? alpha[rand_r(&seed) % (sizeof(alpha) - 1)]
						     : (char)rand_r(&seed);
		}
		bb_msg_render(text, sizeof(text), rec, len);
		ck_assert_uint_lt(strlen(text), sizeof(text));
	}
}
END_TEST

/* The compiled writer of the blackbox stores what the generic one stores,
 * at every size limit (including the ones that make the message too long). */
static void same_as_generic_va(const char *fmt, va_list args)
{
	struct bb_prog *p = bb_prog_compile(fmt);
	char a[1100], b[1100];
	size_t max;
	ssize_t na, nb;
	va_list ap;

	ck_assert_ptr_nonnull(p);
	for (max = 0; max <= 1025; max++) {
		if (max > 140 && max != 512 && max != 520 && max != 1025) {
			continue;
		}
		memset(a, 0x5a, sizeof(a));
		memset(b, 0x5a, sizeof(b));
		va_copy(ap, args);
		na = qb_vsnprintf_serialize(a, max, fmt, ap);
		va_end(ap);
		va_copy(ap, args);
		nb = bb_prog_run(p, b, max, ap);
		va_end(ap);
		ck_assert_int_eq(na, nb);
		if (na < (ssize_t)max) {
			ck_assert_int_eq(memcmp(a, b, (size_t)na), 0);
		}
		/* nothing written at or past max_len - 1 */
		if (max > 0) {
			ck_assert_int_eq(b[max - 1] == 0x5a || (size_t)nb < max, 1);
		}
		ck_assert_int_eq((unsigned char)b[max], 0x5a);
	}
	bb_prog_free(p);
}

static void same_as_generic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	same_as_generic_va(fmt, ap);
	va_end(ap);
}

/* The same with four integer registers taken by named arguments: only one
 * value is still in a register, the others come from the stack. */
static void same_after_four(int r1, int r2, int r3, int r4, const char *fmt, ...)
{
	va_list ap;

	ck_assert_int_eq(r1 + r2 + r3 + r4, 10);
	va_start(ap, fmt);
	same_as_generic_va(fmt, ap);
	va_end(ap);
}

START_TEST(test_compiled_matches_generic)
{
	short sh = -3;
	wchar_t ws[] = L"wide";

	same_as_generic("blackbox %ld %s %d", 42L, "abc", 7);
	same_as_generic("hello %d %s %c %p %f %ld %lld %zu %x|", 42, "str", 'Z', (void *)0x1234,
			1.5, 7L, 8LL, (size_t)9, 255);
	same_as_generic("%hd %hhu %hx %Lf %qd %Ld", sh, 300, 70000, (long double)2.5, 5LL, 6LL);
	same_as_generic("%*d|%-*.*s|%.3s|%.0s|%5.2f %s", 4, 1, 6, 2, "abcdef", "xyzw", "gone",
			3.14159, "abcdefgh");
	same_as_generic("%.*s and %.*s", -1, "negative", 3, "three");
	same_as_generic("100%% done %d %m %n %5hd", 77, 8);
	same_as_generic("ext\ainfo %s", "v");
	same_as_generic("trailing marker\a");
	same_as_generic("%s %s", (char *)NULL,
			"a long string that will not always fit "
			"into the smaller limits of this test at all");
	same_as_generic("%ls %.2ls %c%c", ws, ws, 'a', 'b');
	same_as_generic("%.20s|%.40s|%.16s|%.17s|%s", "0123456789abcdefghijklmnopqrstuvwxyz",
			"0123456789abcdefghij", "0123456789abcdefghij", "0123456789abcdef",
			"0123456789abcdef");
	same_as_generic("%jd %td %zd %lu %#o %+i % d %'d %Id", (intmax_t)1, (ptrdiff_t)2,
			(ssize_t)-3, 4UL, 5, 6, 7, 8, 9);
	same_as_generic("%e %E %g %G %a %A %F", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
	same_as_generic("");
	/* values read straight from the argument registers: every kind, the
	 * last register, strings around the 16 characters copied first */
	same_as_generic("%d %ld %s %p %zd", -5, -6L, "0123456789abcde", (void *)0, (ssize_t)-7);
	same_as_generic("%s %d %s %lld %s", "0123456789abcdef", INT_MIN, "0123456789abcdefg",
			LLONG_MIN, "");
	same_as_generic("%s|%s", (char *)NULL, "0123456789abcdef0123456789abcdef");
	same_as_generic("%d %d %d %d %d %d", 1, 2, 3, 4, 5, 6);
	same_after_four(1, 2, 3, 4, "%s", "in the last register");
	same_after_four(1, 2, 3, 4, "%d %s %ld", -1, "on the stack", 3L);
	/* one value in the last register, the next just past the save area */
	same_after_four(1, 2, 3, 4, "%s %d", "r9", 5);
	/* left to the generic writer */
	ck_assert_ptr_null(bb_prog_compile("%.*5s"));
	ck_assert_ptr_null(bb_prog_compile(NULL));
}
END_TEST

/* Serialises into a buffer of exactly max bytes and prints it back. */
static void cut(size_t max, const char *want, const char *fmt, ...)
{
	char *rec = malloc(max);
	char text[512];
	va_list ap;
	ssize_t n;

	ck_assert_ptr_nonnull(rec);
	memset(rec, 'Z', max);
	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(rec, max, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(n, (ssize_t)max); /* "too long" */
	ck_assert_ptr_nonnull(memchr(rec, '\0', max));
	ck_assert_uint_eq(qb_vsnprintf_deserialize(text, sizeof(text), rec), strlen(want) + 1);
	ck_assert_str_eq(text, want);
	free(rec);
}

/* A record cut at max_len is still a record: its text is a terminated
 * prefix of the message, never bytes past what was written. */
START_TEST(test_truncated_is_prefix)
{
	char rec[11];

	/* the cases libqb 2.0 gets right, byte for byte */
	cut(11, "123456789_", "123456789____");
	cut(11, "1234567", "%s", "1234567890123456");
	cut(11, "abcd xy", "abcd %s", "xyz");
	cut(12, "abc d", "%s %s", "abc", "defgh");
	cut(11, "1234567", "1234567%s", "a");
	cut(11, "1234567890", "1234567890");
	ck_assert_int_eq(ser(rec, sizeof(rec), "%s", "1234567890123456"), 11);
	ck_assert_mem_eq(rec,
			 "%s\0"
			 "1234567",
			 11);
	/* where it reads past the record */
	cut(11, "abcdefg", "abcdefg%d", 5);
	cut(11, "abc", "%s%d", "abc", 7);
	cut(11, "12345678", "12345678%s", "a");
	cut(11, "abc", "%c%c%c%c", 'a', 'b', 'c', 'd');
	cut(11, "12345678%", "12345678%%");
	cut(12, "12345678", "12345678%5d", 1);
	cut(14, "123456", "%d%s", 12, "34567890");
	cut(12, "7 (", "%d %s", 7, (char *)NULL);
	cut(10, "abcdef", "%ls", L"abcdefghijkl");
	cut(3, "", "%s", "abcdef");
	cut(1, "", "%s", "abcdef");
}
END_TEST

int main(void)
{
	const struct ck_test tests[] = {
		CK_TEST(test_bytes_of_spec_example),	 CK_TEST(test_roundtrip_common),
		CK_TEST(test_fixed_writer_bugs),	 CK_TEST(test_limits),
		CK_TEST(test_reader_upstream_semantics), CK_TEST(test_reader_robust),
		CK_TEST(test_compiled_matches_generic),	 CK_TEST(test_truncated_is_prefix),
	};

	return CK_MAIN("serialize", NULL, tests);
}
