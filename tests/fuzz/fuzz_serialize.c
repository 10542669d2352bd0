/*
 * libFuzzer harness: qb_vsnprintf_serialize() against
 * qb_vsnprintf_deserialize() with formats, arguments, record limits and
 * output sizes made from the input.
 *
 * Every buffer is allocated at its exact size, so ASan catches a writer
 * that goes past max_len, a reader that goes past the record or the output
 * buffer, and any read of argument strings beyond their end. Checked:
 * - the return value is at most max_len;
 * - a record shorter than max_len prints exactly the full message;
 * - a record cut at max_len prints a terminated prefix of it (formats that
 *   pad a string to a width excepted: padding a shortened string is not a
 *   prefix);
 * - a small output buffer gets a terminated prefix (when it is wider than
 *   any field width: the reader clamps widths to the output size);
 * - the blackbox's precompiled writer stores the same bytes for every
 *   record that fits.
 *
 * The argument list is built by calling a variadic function with a fixed
 * set of integer-class and double arguments; this relies on the x86_64
 * SysV convention (integers and doubles travel separately), so the format
 * never consumes more of either than are passed.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "log/blackbox_internal.h"

#if !defined(__x86_64__)
#error "fuzz_serialize builds its argument lists for x86_64 only"
#endif

#define N_INT 12 /* integer-class arguments passed */
#define N_DBL 8	 /* double arguments passed */
#define BIG 65536
#define MAX_WIDTH 24 /* no width or '*' value below asks for more */

enum arg { A_NONE, A_INT, A_STR, A_WSTR, A_DBL };

struct conv {
	const char *text;
	int stars; /* '*' arguments it consumes first */
	enum arg arg;
	int padded; /* a string padded to a width */
};

static const struct conv menu[] = {
	{"%d", 0, A_INT, 0},
	{"%5d", 0, A_INT, 0},
	{"%-3i", 0, A_INT, 0},
	{"%ld", 0, A_INT, 0},
	{"%lld", 0, A_INT, 0},
	{"%zu", 0, A_INT, 0},
	{"%x", 0, A_INT, 0},
	{"%#o", 0, A_INT, 0},
	{"%hd", 0, A_INT, 0},
	{"%hhu", 0, A_INT, 0},
	{"%jd", 0, A_INT, 0},
	{"%qd", 0, A_INT, 0},
	{"%c", 0, A_INT, 0},
	{"%p", 0, A_INT, 0},
	{"%*d", 1, A_INT, 0},
	{"%.*d", 1, A_INT, 0},
	{"%s", 0, A_STR, 0},
	{"%.3s", 0, A_STR, 0},
	{"%5s", 0, A_STR, 1},
	{"%-4.2s", 0, A_STR, 1},
	{"%.*s", 1, A_STR, 0},
	{"%*s", 1, A_STR, 1},
	{"%ls", 0, A_WSTR, 0},
	{"%f", 0, A_DBL, 0},
	{"%.2e", 0, A_DBL, 0},
	{"%g", 0, A_DBL, 0},
	/* unknown conversions end in a letter no later token can extend */
	{"%%", 0, A_NONE, 0},
	{"%m", 0, A_NONE, 0},
	{"%5h!", 0, A_NONE, 0},
	{"%-!", 0, A_NONE, 0},
	{"\a", 0, A_NONE, 0},
};
#define MENU_N (sizeof(menu) / sizeof(menu[0]))

struct input {
	const uint8_t *p;
	size_t left;
};

static unsigned take(struct input *in)
{
	if (in->left == 0) {
		return 0;
	}
	in->left--;
	return *in->p++;
}

struct call {
	char fmt[512];
	uint64_t ints[N_INT];
	double dbls[N_DBL];
	char *strs[N_INT];
	wchar_t *wstrs[N_INT];
	int padded;
};

static ssize_t ser(char *buf, size_t max, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	n = qb_vsnprintf_serialize(buf, max, fmt, ap);
	va_end(ap);
	return n;
}

static ssize_t ser_prog(const struct bb_prog *p, char *buf, size_t max, ...)
{
	va_list ap;
	ssize_t n;

	va_start(ap, max);
	n = bb_prog_run(p, buf, max, ap);
	va_end(ap);
	return n;
}

#define ARGS(c)                                                                                    \
	(c)->ints[0], (c)->ints[1], (c)->ints[2], (c)->ints[3], (c)->ints[4], (c)->ints[5],        \
		(c)->ints[6], (c)->ints[7], (c)->ints[8], (c)->ints[9], (c)->ints[10],             \
		(c)->ints[11], (c)->dbls[0], (c)->dbls[1], (c)->dbls[2], (c)->dbls[3],             \
		(c)->dbls[4], (c)->dbls[5], (c)->dbls[6], (c)->dbls[7]

static char *make_str(struct input *in)
{
	size_t n = take(in) % 40;
	char *s;
	size_t i;

	if (n == 39) {
		n = 300; /* now and then one longer than most limits */
	}
	s = malloc(n + 1);
	for (i = 0; i < n; i++) {
		s[i] = (char)('a' + (take(in) + i) % 26);
	}
	s[n] = '\0';
	return s;
}

static wchar_t *make_wstr(struct input *in)
{
	size_t n = take(in) % 20;
	wchar_t *s = malloc((n + 1) * sizeof(*s));
	size_t i;

	for (i = 0; i < n; i++) {
		s[i] = (wchar_t)(take(in) * 7); /* some outside ASCII */
	}
	s[n] = 0;
	return s;
}

/* Builds the format and its arguments from the input. */
static void build(struct input *in, struct call *c)
{
	size_t len = 0;
	int ni = 0, nd = 0;
	const struct conv *m;
	int k;

	memset(c, 0, sizeof(*c));
	while (in->left > 0 && len < sizeof(c->fmt) - 8) {
		unsigned b = take(in);

		if (b < 96) {
			c->fmt[len++] = (char)(' ' + b % 95);
			if (c->fmt[len - 1] == '%') {
				len--;
			}
			continue;
		}
		m = &menu[b % MENU_N];
		if (ni + m->stars + 1 > N_INT || nd + 1 > N_DBL) {
			break;
		}
		for (k = 0; k < m->stars; k++) {
			c->ints[ni++] = (uint64_t)(int)(take(in) % 24) - 4;
		}
		switch (m->arg) {
		case A_NONE:
			break;
		case A_INT:
			c->ints[ni++] = (uint64_t)take(in) << (take(in) % 57) | take(in);
			break;
		case A_STR:
			if (take(in) % 16 == 0) {
				c->strs[ni] = NULL; /* prints (null) */
			} else {
				c->strs[ni] = make_str(in);
			}
			c->ints[ni] = (uint64_t)(uintptr_t)c->strs[ni];
			ni++;
			break;
		case A_WSTR:
			c->wstrs[ni] = make_wstr(in);
			c->ints[ni] = (uint64_t)(uintptr_t)c->wstrs[ni];
			ni++;
			break;
		case A_DBL:
			memcpy(&c->dbls[nd],
			       (uint8_t[8]){take(in), take(in), 0x11, take(in), 0, 0x40, take(in),
					    (uint8_t)(take(in) & 0x4f)},
			       8);
			nd++;
			break;
		}
		c->padded |= m->padded;
		memcpy(c->fmt + len, m->text, strlen(m->text));
		len += strlen(m->text);
	}
	c->fmt[len] = '\0';
}

static void release(struct call *c)
{
	int i;

	for (i = 0; i < N_INT; i++) {
		free(c->strs[i]);
		free(c->wstrs[i]);
	}
}

/* Texts are compared by the lengths the reader returns: a %c of 0 puts a
 * NUL inside them. */
static int is_prefix(const char *pre, size_t pre_len, const char *full, size_t full_len)
{
	return pre_len <= full_len && memcmp(pre, full, pre_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char full_rec[BIG], full_txt[BIG], txt[BIG];
	struct input in = {data, size};
	struct call c;
	size_t max_len, out_len, m, mf, mt;
	ssize_t n, nf;
	char *rec, *out;

	if (size < 3) {
		return 0;
	}
	max_len = 1 + (take(&in) | (take(&in) & 1) << 8);
	out_len = 1 + take(&in) % 200;
	build(&in, &c);

	nf = ser(full_rec, sizeof(full_rec), c.fmt, ARGS(&c));
	if (nf <= 0 || (size_t)nf >= sizeof(full_rec)) {
		abort(); /* the format is short: it always fits */
	}
	mf = qb_vsnprintf_deserialize(full_txt, sizeof(full_txt), full_rec) - 1;

	rec = malloc(max_len);
	n = ser(rec, max_len, c.fmt, ARGS(&c));
	if (n <= 0 || (size_t)n > max_len) {
		abort();
	}
	mt = qb_vsnprintf_deserialize(txt, sizeof(txt), rec) - 1;
	if ((size_t)n < max_len) {
		struct bb_prog *prog;

		/* complete: the same record, the same text */
		if (n != nf || memcmp(rec, full_rec, (size_t)n) != 0 || mt != mf ||
		    memcmp(txt, full_txt, mt) != 0) {
			abort();
		}
		prog = bb_prog_compile(c.fmt);
		if (prog != NULL) {
			static char prog_rec[BIG];
			ssize_t np;

			np = ser_prog(prog, prog_rec, max_len, ARGS(&c));
			if (np != n || memcmp(prog_rec, rec, (size_t)n) != 0) {
				abort();
			}
			bb_prog_free(prog);
		}
	} else if (!c.padded && !is_prefix(txt, mt, full_txt, mf)) {
		fprintf(stderr, "fmt '%s' max %zu: '%s' is not a prefix of '%s'\n", c.fmt, max_len,
			txt, full_txt);
		abort();
	}

	/* a short output buffer, read from the exact-size record */
	out = malloc(out_len);
	m = qb_vsnprintf_deserialize(out, out_len, rec);
	if (m == 0 || m > out_len || out[m - 1] != '\0' ||
	    (out_len > MAX_WIDTH && !is_prefix(out, m - 1, txt, mt))) {
		fprintf(stderr, "fmt '%s' out_len %zu: %zu '%s' of '%s'\n", c.fmt, out_len, m, out,
			txt);
		abort();
	}
	free(out);
	free(rec);
	release(&c);
	return 0;
}
