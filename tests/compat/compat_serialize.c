/*
 * qb_vsnprintf_serialize() cut by max_len, then qb_vsnprintf_deserialize():
 * the cases libqb 2.0 stores as well-formed records (the others read past
 * what was written there, see tests/unit/check_serialize.c). Prints the
 * return value, every byte of the record and the text read back.
 * Both functions are exported by libqb.so.100 but declared in no header.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

ssize_t qb_vsnprintf_serialize(char *serialize, size_t max_len, const char *fmt, va_list ap);
size_t qb_vsnprintf_deserialize(char *string, size_t str_len, const char *buf);

static void show(size_t max, const char *fmt, ...)
{
	char rec[64];
	char text[128];
	va_list ap;
	ssize_t n;
	size_t i, m;

	memset(rec, 'Z', sizeof(rec));
	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(rec, max, fmt, ap);
	va_end(ap);
	printf("max %zu '%s' -> %zd:", max, fmt, n);
	for (i = 0; i < max; i++) {
		printf(" %02x", (unsigned char)rec[i]);
	}
	m = qb_vsnprintf_deserialize(text, sizeof(text), rec);
	printf("\n  text %zu '%s'\n", m, text);
}

int main(void)
{
	/* the format cut */
	show(11, "123456789____");
	show(11, "1234567890");
	show(8, "abcdefghijklmnop");
	/* a string cut to the room left */
	show(11, "%s", "1234567890123456");
	show(11, "abcd %s", "xyz");
	show(11, "abcd %s", "xy");
	show(12, "%s %s", "abc", "defgh");
	show(11, "1234567%s", "a");
	show(20, "%d %s", 42, "a string longer than the room");
	/* records that fit */
	show(11, "%s", "123456");
	show(11, "123456789");
	show(16, "%d:%c:%s", 7, 'x', "ab");
	return 0;
}
