/*
 * Argument serialisation for the blackbox log target.
 *
 * The blackbox never formats text while the program runs.  It stores the
 * printf format of the call followed by the raw argument values, and the
 * text is only produced later, when a dump is printed.  The byte layout is
 * shared with other libqb implementations (the record around it is in
 * bb_record.h), so dumps can be exchanged in both directions:
 *
 *   <format copy> NUL <value> <value> ...      (packed, no alignment)
 *
 * Values are stored in the order the format consumes them:
 *   '*' width or precision          4 bytes (int)
 *   d i o u x X                     4 bytes, or 8 with l, ll, z, t, j
 *   e E f F g G a A                 8 bytes (double)
 *   c                               1 byte
 *   s                               the characters and a NUL
 *   p                               8 bytes
 *   %% and anything else            nothing
 *
 * Our writer stores only what every reader understands.  Length modifiers
 * that older readers do not know (h, hh, L, q) are removed from the stored
 * format copy and the value is stored in a form that prints the same way
 * without them (a short is narrowed first, a long double becomes a double,
 * a 'q'/'L' integer becomes 'll').  A trailing extended-information marker is
 * dropped instead of being turned into a second NUL.  Precision is tracked
 * per conversion.
 *
 * Which argument each conversion takes is the table ser_kinds below
 * (bb_format.h); the reader that turns stored bytes back into text is
 * bb_render.c, the formats compiled once per callsite are bb_prog.c.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "log/blackbox_internal.h"
#include "log/bb_format.h"

#define CV(g) ((g) << SER_C_CONV_SHIFT)

const unsigned char ser_class[256] = {
	['\0'] = SER_C_STOP,
	['\a'] = SER_C_STOP,
	['#'] = SER_C_FLAG,
	['-'] = SER_C_FLAG,
	['+'] = SER_C_FLAG,
	[' '] = SER_C_FLAG,
	['\''] = SER_C_FLAG,
	['I'] = SER_C_FLAG,
	['.'] = SER_C_FLAG,
	['*'] = SER_C_FLAG,
	['0'] = SER_C_FLAG,
	['1'] = SER_C_FLAG,
	['2'] = SER_C_FLAG,
	['3'] = SER_C_FLAG,
	['4'] = SER_C_FLAG,
	['5'] = SER_C_FLAG,
	['6'] = SER_C_FLAG,
	['7'] = SER_C_FLAG,
	['8'] = SER_C_FLAG,
	['9'] = SER_C_FLAG,
	['d'] = SER_C_INT | CV(SER_CV_SIGNED),
	['i'] = SER_C_INT | CV(SER_CV_SIGNED),
	['o'] = SER_C_INT | CV(SER_CV_UNSIGNED),
	['u'] = SER_C_INT | CV(SER_CV_UNSIGNED),
	['x'] = SER_C_INT | CV(SER_CV_UNSIGNED),
	['X'] = SER_C_INT | CV(SER_CV_UNSIGNED),
	['e'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['E'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['f'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['F'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['g'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['G'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['a'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['A'] = SER_C_FLOAT | CV(SER_CV_FLOAT),
	['c'] = SER_C_OTHER | CV(SER_CV_CHAR),
	['s'] = SER_C_OTHER | CV(SER_CV_STR),
	['p'] = SER_C_OTHER | CV(SER_CV_PTR),
	['%'] = SER_C_OTHER | SER_C_STOP | CV(SER_CV_PCT),
};

/*
 * The conversion rules: length letters and conversion -> argument kind.
 * Floats ignore every length but L, c and p ignore all of them, and only l
 * makes a string wide.
 */
const unsigned char ser_kinds[SER_LEN_COUNT][SER_CV_COUNT] = {
#define ROW(sgn, uns, flt, str)                                                                    \
	{                                                                                          \
		SER_K_NONE, sgn, uns, flt, SER_K_CHAR, str, SER_K_PTR, SER_K_NONE                  \
	}
	[SER_LEN_NONE] = ROW(SER_K_INT, SER_K_INT, SER_K_DOUBLE, SER_K_STR),
	[SER_LEN_HH] = ROW(SER_K_SCHAR, SER_K_UCHAR, SER_K_DOUBLE, SER_K_STR),
	[SER_LEN_H] = ROW(SER_K_SHORT, SER_K_USHORT, SER_K_DOUBLE, SER_K_STR),
	[SER_LEN_L] = ROW(SER_K_LONG, SER_K_LONG, SER_K_DOUBLE, SER_K_WSTR),
	[SER_LEN_LL] = ROW(SER_K_LLONG, SER_K_LLONG, SER_K_DOUBLE, SER_K_STR),
	[SER_LEN_WIDE] = ROW(SER_K_SSIZE, SER_K_SSIZE, SER_K_DOUBLE, SER_K_STR),
	[SER_LEN_LDBL] = ROW(SER_K_LLONG, SER_K_LLONG, SER_K_LDOUBLE, SER_K_STR),
#undef ROW
};

void ser_spec_parse(const char *pct, struct ser_spec *s)
{
	const char *q = pct + 1;

	s->flags = q;
	while (ser_is_flag(*q)) {
		q++;
	}
	s->flags_end = q;
	q = ser_len_parse(q, 0, &s->len, &s->len_letter);
	s->conv = *q;
	s->kind = ser_kind_of(s->len, s->conv);
	s->known =
		(ser_class[(unsigned char)s->conv] & (SER_C_INT | SER_C_FLOAT | SER_C_OTHER)) != 0;
	/* Unknown conversions are kept verbatim up to, not including, the letter. */
	s->next = s->known ? q + 1 : q;
}

/* The length text the stored format carries for a known conversion: the
 * letters of its kind that every reader knows. */
static const char *ser_len_text(const struct ser_spec *s, char *wide)
{
	switch (s->kind) {
	case SER_K_LONG:
		return "l";
	case SER_K_LLONG:
		return "ll";
	case SER_K_SSIZE:
		wide[0] = s->len_letter;
		wide[1] = '\0';
		return wide;
	case SER_K_CHAR:
		return s->len == SER_LEN_L ? "l" : "";
	default:
		return "";
	}
}

/* Appends to the format copy; counts what does not fit. */
struct ser_out {
	char *buf;
	size_t cap;
	size_t len;
};

static void ser_put(struct ser_out *o, const char *p, size_t n)
{
	size_t room = (o->len < o->cap) ? o->cap - o->len : 0;

	if (room > 0) {
		memcpy(o->buf + o->len, p, n < room ? n : room);
	}
	o->len += n;
}

static int ser_store_value(struct ser_vals *v, const struct ser_spec *s, va_list *ap);

/*
 * Writes the stored format copy (without its NUL) into buf, at most cap
 * bytes, and returns its full length.  Stores the argument values into v
 * on the way (one parse per conversion); *rc becomes -1 if they overflow.
 * With rc NULL only the copy is made (nothing is read from ap).
 */
size_t ser_format_copy(const char *fmt, char *buf, size_t cap, struct ser_vals *v, va_list *ap,
		       int *rc)
{
	struct ser_out o = {buf, cap, 0};
	const char *p = fmt;
	int xc_seen = 0;
	struct ser_spec s;
	char wide[2];

	while (*p != '\0') {
		if (*p == SER_XC && !xc_seen) {
			xc_seen = 1;
			if (p[1] != '\0') {
				ser_put(&o, "|", 1);
			}
			p++;
			continue;
		}
		if (*p != '%') {
			const char *run = p;

			do {
				p++;
			} while (!(ser_class[(unsigned char)*p] & SER_C_STOP));
			ser_put(&o, run, (size_t)(p - run));
			continue;
		}
		ser_spec_parse(p, &s);
		if (!s.known) {
			ser_put(&o, p, (size_t)(s.next - p));
		} else if (s.conv == '%') {
			ser_put(&o, "%%", 2);
		} else {
			const char *lt = ser_len_text(&s, wide);

			ser_put(&o, p, (size_t)(s.flags_end - p));
			ser_put(&o, lt, strlen(lt));
			ser_put(&o, &s.conv, 1);
			if (v != NULL && *rc == 0) {
				*rc = ser_store_value(v, &s, ap);
			}
		}
		p = s.next;
	}
	return o.len;
}

static int ser_store(struct ser_vals *v, const void *data, size_t n)
{
	if (v->pos + n > v->limit) {
		return -1;
	}
	memcpy(v->buf + v->pos, data, n);
	v->pos += n;
	return 0;
}

int ser_store_wide_string(struct ser_vals *v, const wchar_t *ws, long prec)
{
	size_t n = 0;
	char c;

	if (ws == NULL) {
		ws = L"(null)";
	}
	for (; ws[n] != 0 && (prec < 0 || (long)n < prec); n++) {
		c = (ws[n] > 0 && ws[n] < 128) ? (char)ws[n] : '?';
		if (ser_store(v, &c, 1) != 0) {
			return -1;
		}
	}
	return ser_store(v, "", 1);
}

static int ser_store_string(struct ser_vals *v, long prec, va_list *ap)
{
	const char *str;
	size_t n;

	str = va_arg(*ap, const char *);
	if (str == NULL) {
		str = "(null)";
	}
	n = (prec >= 0) ? strnlen(str, (size_t)prec) : strlen(str);
	if (v->pos + n + 1 > v->limit) {
		return -1;
	}
	memcpy(v->buf + v->pos, str, n);
	v->buf[v->pos + n] = '\0';
	v->pos += n + 1;
	return 0;
}

/*
 * Stores the '*' arguments of the flag area and returns the precision the
 * conversion asks for (-1 when none).
 */
static int ser_store_stars(struct ser_vals *v, const struct ser_spec *s, va_list *ap, long *prec)
{
	const char *f;
	int in_prec = 0;
	int star;

	*prec = -1;
	for (f = s->flags; f < s->flags_end; f++) {
		if (*f == '.') {
			in_prec = 1;
			*prec = 0;
		} else if (*f == '*') {
			star = va_arg(*ap, int);
			if (ser_store(v, &star, sizeof(star)) != 0) {
				return -1;
			}
			if (in_prec) {
				*prec = star;
			}
		} else if (in_prec && *f >= '0' && *f <= '9') {
			if (*prec < INT_MAX / 10) {
				*prec = *prec * 10 + (*f - '0');
			}
		}
	}
	return 0;
}

static int ser_store_value(struct ser_vals *v, const struct ser_spec *s, va_list *ap)
{
	long prec;
	int32_t i32;
	int64_t i64;
	double d;
	unsigned char c;

	if (ser_store_stars(v, s, ap, &prec) != 0) {
		return -1;
	}
	switch (s->kind) {
	case SER_K_INT:
		i32 = va_arg(*ap, int);
		return ser_store(v, &i32, sizeof(i32));
	case SER_K_SHORT:
		i32 = (int32_t)(short)va_arg(*ap, int);
		return ser_store(v, &i32, sizeof(i32));
	case SER_K_USHORT:
		i32 = (int32_t)(unsigned short)va_arg(*ap, int);
		return ser_store(v, &i32, sizeof(i32));
	case SER_K_SCHAR:
		i32 = (int32_t)(signed char)va_arg(*ap, int);
		return ser_store(v, &i32, sizeof(i32));
	case SER_K_UCHAR:
		i32 = (int32_t)(unsigned char)va_arg(*ap, int);
		return ser_store(v, &i32, sizeof(i32));
	case SER_K_LONG:
		i64 = (int64_t)va_arg(*ap, long);
		return ser_store(v, &i64, sizeof(i64));
	case SER_K_LLONG:
		i64 = (int64_t)va_arg(*ap, long long);
		return ser_store(v, &i64, sizeof(i64));
	case SER_K_SSIZE:
		i64 = (int64_t)va_arg(*ap, ssize_t);
		return ser_store(v, &i64, sizeof(i64));
	case SER_K_DOUBLE:
		d = va_arg(*ap, double);
		return ser_store(v, &d, sizeof(d));
	case SER_K_LDOUBLE:
		d = (double)va_arg(*ap, long double);
		return ser_store(v, &d, sizeof(d));
	case SER_K_CHAR:
		c = (unsigned char)va_arg(*ap, int);
		return ser_store(v, &c, 1);
	case SER_K_STR:
		return ser_store_string(v, prec, ap);
	case SER_K_WSTR:
		return ser_store_wide_string(v, va_arg(*ap, const wchar_t *), prec);
	case SER_K_PTR:
		i64 = (int64_t)(intptr_t)va_arg(*ap, void *);
		return ser_store(v, &i64, sizeof(i64));
	default:
		return 0; /* %% */
	}
}

/*
 * The string at the cut: as much of it as fits, terminated. Returns 1 when
 * it was shortened (nothing may follow it), 0 when it fit, -1 when not even
 * its terminator fits.
 */
static int ser_store_cut_string(struct ser_vals *v, const struct ser_spec *s, long prec,
				va_list *ap)
{
	size_t room = v->limit - v->pos;
	const char *str;
	size_t n;
	int rc;

	if (room == 0) {
		return -1;
	}
	if (s->kind == SER_K_WSTR) {
		/* one byte kept back for the terminator of a shortened string */
		v->limit--;
		rc = ser_store_wide_string(v, va_arg(*ap, const wchar_t *), prec);
		v->limit++;
		if (rc == 0) {
			return 0;
		}
		v->buf[v->pos++] = '\0';
		return 1;
	}
	str = va_arg(*ap, const char *);
	if (str == NULL) {
		str = "(null)";
	}
	n = strnlen(str, (prec >= 0 && (size_t)prec < room) ? (size_t)prec : room);
	rc = (n + 1 > room) ? 1 : 0;
	if (rc) {
		n = room - 1;
	}
	memcpy(v->buf + v->pos, str, n);
	v->buf[v->pos + n] = '\0';
	v->pos += n + 1;
	return rc;
}

/* Stored-copy length of the conversion s starting at pct. */
static size_t ser_spec_copy_len(const char *pct, const struct ser_spec *s)
{
	char wide[2];

	if (!s->known) {
		return (size_t)(s->next - pct);
	}
	if (s->conv == '%') {
		return 2;
	}
	return (size_t)(s->flags_end - pct) + strlen(ser_len_text(s, wide)) + 1;
}

/*
 * A record that does not fit in max_len keeps the longest prefix of the
 * format, and of the values it consumes, that does: the buffer stays a
 * terminated record whose text is a prefix of the message. A string at the
 * cut is shortened to the room left; a value that does not fit is dropped
 * with its conversion and all that follows. Values are gathered at the
 * start of out and moved behind the format copy once its length is known.
 * Only the overflow path gets here; it returns max_len, as before.
 */
static ssize_t ser_truncated(char *out, size_t max_len, const char *fmt, va_list ap)
{
	struct ser_vals v = {out, 0, 0};
	struct ser_spec s;
	const char *p = fmt;
	size_t fl = 0; /* stored format copy kept so far */
	size_t unit;
	size_t before;
	long prec;
	int xc_seen = 0;
	int cut = 0;
	va_list aq;

	va_copy(aq, ap);
	while (*p != '\0' && !cut) {
		if (*p == SER_XC && !xc_seen) {
			xc_seen = 1;
			unit = (p[1] != '\0') ? 1 : 0;
		} else if (*p != '%') {
			unit = 1;
		} else {
			ser_spec_parse(p, &s);
			unit = ser_spec_copy_len(p, &s);
		}
		if (fl + unit + 1 + v.pos > max_len) {
			break;
		}
		if (*p != '%') {
			fl += unit;
			p++;
			continue;
		}
		if (s.known && s.conv != '%') {
			before = v.pos;
			v.limit = max_len - (fl + unit + 1);
			if (s.conv == 's') {
				cut = ser_store_stars(&v, &s, &aq, &prec);
				if (cut == 0) {
					cut = ser_store_cut_string(&v, &s, prec, &aq);
				}
			} else {
				cut = ser_store_value(&v, &s, &aq);
			}
			if (cut < 0) {
				v.pos = before;
				break;
			}
		}
		fl += unit;
		p = s.next;
	}
	va_end(aq);
	memmove(out + fl + 1, out, v.pos);
	(void)ser_format_copy(fmt, out, fl, NULL, NULL, NULL);
	out[fl] = '\0';
	return (ssize_t)max_len;
}

/* Up to this max_len, values are gathered in a small stack buffer while
 * the format copy is written (one pass; the copy's length, which decides
 * where values go, is only known at the end).  Larger limits take two
 * passes instead of a big stack frame. */
#define SER_FAST_MAX 1024

ssize_t qb_vsnprintf_serialize(char *serialize, size_t max_len, const char *fmt, va_list ap)
{
	char vals[SER_FAST_MAX];
	struct ser_vals v;
	struct ser_spec s;
	const char *p;
	size_t flen;
	va_list aq;
	int rc = 0;

	if (serialize == NULL || fmt == NULL || max_len == 0) {
		return (ssize_t)max_len;
	}
	va_copy(aq, ap);
	if (max_len <= sizeof(vals)) {
		v.buf = vals;
		v.pos = 0;
		v.limit = max_len;
		flen = ser_format_copy(fmt, serialize, max_len - 1, &v, &aq, &rc);
		if (rc == 0 && flen + 1 + v.pos <= max_len - 1) {
			memcpy(serialize + flen + 1, vals, v.pos);
		}
	} else {
		flen = ser_format_copy(fmt, serialize, max_len - 1, NULL, NULL, &rc);
		v.buf = serialize;
		v.pos = 0;
		v.limit = max_len - 1 - (flen + 1 < max_len - 1 ? flen + 1 : max_len - 1);
		v.buf = serialize + (flen + 1 < max_len - 1 ? flen + 1 : max_len - 1);
		for (p = strchr(fmt, '%'); p != NULL && rc == 0; p = strchr(p, '%')) {
			ser_spec_parse(p, &s);
			if (s.known) {
				rc = ser_store_value(&v, &s, &aq);
			}
			p = s.next;
		}
	}
	va_end(aq);
	/* A complete record must leave at least one byte of max_len unused. */
	if (rc != 0 || flen + 1 + v.pos > max_len - 1) {
		return ser_truncated(serialize, max_len, fmt, ap);
	}
	serialize[flen] = '\0';
	return (ssize_t)(flen + 1 + v.pos);
}
