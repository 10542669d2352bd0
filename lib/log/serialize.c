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
 * bb_render.c.
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

/* One conversion specification of the original format. */
struct ser_spec {
	const char *flags;     /* first char after '%' */
	const char *flags_end; /* first length/conversion char */
	enum ser_len len;
	char len_letter;    /* z t or j for SER_LEN_WIDE */
	char conv;	    /* conversion letter, 0 at end of string */
	enum ser_kind kind; /* of a known conversion */
	const char *next;   /* where scanning continues */
	int known;	    /* conversion understood by every reader */
};

static void ser_spec_parse(const char *pct, struct ser_spec *s)
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

struct ser_vals;
static int ser_store_value(struct ser_vals *v, const struct ser_spec *s, va_list *ap);

/*
 * Writes the stored format copy (without its NUL) into buf, at most cap
 * bytes, and returns its full length.  Stores the argument values into v
 * on the way (one parse per conversion); *rc becomes -1 if they overflow.
 * With rc NULL only the copy is made (nothing is read from ap).
 */
static size_t ser_format_copy(const char *fmt, char *buf, size_t cap, struct ser_vals *v,
			      va_list *ap, int *rc)
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

/* Value area writer: fails (returns -1) when the value would not fit. */
struct ser_vals {
	char *buf;
	size_t pos;
	size_t limit; /* last usable byte is limit - 1 */
};

static int ser_store(struct ser_vals *v, const void *data, size_t n)
{
	if (v->pos + n > v->limit) {
		return -1;
	}
	memcpy(v->buf + v->pos, data, n);
	v->pos += n;
	return 0;
}

static int ser_store_wide_string(struct ser_vals *v, const wchar_t *ws, long prec)
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

/* ------------------------------------------------- precompiled formats */

/*
 * The blackbox serialises the same few formats millions of times.  A
 * format is compiled once into its stored copy and a list of value
 * operations; running the list stores exactly the bytes the generic writer
 * above stores for the same arguments (same stored format, same values,
 * same "too long" outcome), directly into the caller's buffer.
 */
#define SER_PREC_STAR (-2) /* precision is the value of the last '*' */

struct ser_op {
	uint8_t kind; /* enum ser_kind */
	int32_t prec; /* strings: -1 none, SER_PREC_STAR, else value */
};

struct qb_log_bb_prog {
	size_t flen; /* stored format length, without its NUL */
	size_t nops;
	struct ser_op *ops;
	char *stored; /* stored format copy, NUL-terminated */
};

struct ser_compile {
	struct ser_op *ops;
	size_t nops;
	size_t cap;
	int ok;
};

static void ser_op_add(struct ser_compile *c, uint8_t kind, int32_t prec)
{
	if (!c->ok) {
		return;
	}
	if (c->nops == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct ser_op *n = realloc(c->ops, cap * sizeof(*n));

		if (n == NULL) {
			c->ok = 0;
			return;
		}
		c->ops = n;
		c->cap = cap;
	}
	c->ops[c->nops].kind = kind;
	c->ops[c->nops].prec = prec;
	c->nops++;
}

/* Mirrors ser_store_stars(): emits the '*' operations and works out the
 * precision statically where possible. */
static int32_t ser_compile_stars(struct ser_compile *c, const struct ser_spec *s)
{
	const char *f;
	int in_prec = 0;
	long prec = -1;
	int from_star = 0;

	for (f = s->flags; f < s->flags_end; f++) {
		if (*f == '.') {
			in_prec = 1;
			prec = 0;
			from_star = 0;
		} else if (*f == '*') {
			ser_op_add(c, SER_K_STAR, 0);
			if (in_prec) {
				from_star = 1;
			}
		} else if (in_prec && *f >= '0' && *f <= '9') {
			if (from_star) {
				c->ok = 0; /* "%.*5s": leave it to the generic writer */
			} else if (prec < INT_MAX / 10) {
				prec = prec * 10 + (*f - '0');
			}
		}
	}
	return from_star ? SER_PREC_STAR : (int32_t)prec;
}

static void ser_compile_value(struct ser_compile *c, const struct ser_spec *s)
{
	int32_t prec = ser_compile_stars(c, s);

	if (s->kind == SER_K_NONE) {
		return; /* %% */
	}
	ser_op_add(c, s->kind, (s->kind == SER_K_STR || s->kind == SER_K_WSTR) ? prec : 0);
}

void qb_log_blackbox_prog_free(struct qb_log_bb_prog *p)
{
	if (p != NULL) {
		free(p->ops);
		free(p);
	}
}

struct qb_log_bb_prog *qb_log_blackbox_prog_compile(const char *fmt)
{
	struct ser_compile c = {NULL, 0, 0, 1};
	struct qb_log_bb_prog *p;
	const char *q = fmt;
	struct ser_spec s;
	size_t flen;

	if (fmt == NULL) {
		return NULL;
	}
	/* the same walk as ser_format_copy(), collecting operations */
	while (*q != '\0') {
		if (*q != '%') {
			q++;
			continue;
		}
		ser_spec_parse(q, &s);
		if (s.known && s.conv != '%') {
			ser_compile_value(&c, &s);
		}
		q = s.next;
	}
	if (!c.ok) {
		free(c.ops);
		return NULL;
	}
	flen = ser_format_copy(fmt, NULL, 0, NULL, NULL, NULL);
	p = malloc(sizeof(*p) + flen + 1);
	if (p == NULL) {
		free(c.ops);
		return NULL;
	}
	p->stored = (char *)(p + 1);
	(void)ser_format_copy(fmt, p->stored, flen, NULL, NULL, NULL);
	p->stored[flen] = '\0';
	p->flen = flen;
	p->nops = c.nops;
	p->ops = c.ops;
	return p;
}

#define SER_PUT(ptr, n)                                                                            \
	do {                                                                                       \
		if (pos + (n) > limit) {                                                           \
			goto too_long;                                                             \
		}                                                                                  \
		memcpy(out + pos, (ptr), (n));                                                     \
		pos += (n);                                                                        \
	} while (0)

size_t qb_log_blackbox_prog_stored(const struct qb_log_bb_prog *p, const char **stored)
{
	*stored = p->stored;
	return p->flen + 1;
}

ssize_t qb_log_blackbox_prog_run(const struct qb_log_bb_prog *p, char *out, size_t max_len,
				 va_list ap)
{
	/* a complete record leaves at least one byte of max_len unused */
	if (out == NULL || max_len == 0 || p->flen + 1 > max_len - 1) {
		return (ssize_t)max_len;
	}
	memcpy(out, p->stored, p->flen + 1);
	return qb_log_blackbox_prog_run_values(p, out, max_len, ap);
}

ssize_t qb_log_blackbox_prog_run_values(const struct qb_log_bb_prog *p, char *out, size_t max_len,
					va_list ap)
{
	size_t limit = max_len - 1, pos = p->flen + 1, i, n, room, scan;
	int32_t i32, last_star = 0;
	int64_t i64;
	double d;
	unsigned char ch;
	const char *str;
	long prec;
	va_list aq;

	va_copy(aq, ap);
	for (i = 0; i < p->nops; i++) {
		const struct ser_op *op = &p->ops[i];

		/* %d and a plain %s, nearly every value logged, before the
		 * table jump */
		if (op->kind == SER_K_INT) {
			i32 = va_arg(aq, int);
			SER_PUT(&i32, 4);
			continue;
		}
		if (op->kind == SER_K_STR && op->prec == -1) {
			char *d = out + pos;
			size_t m;

			str = va_arg(aq, const char *);
			if (str == NULL) {
				str = "(null)";
			}
			room = limit - pos;
			m = room < 16 ? room : 16;
			/* short strings, the usual case, are copied inline
			 * with their NUL */
			for (n = 0; n < m; n++) {
				if ((d[n] = str[n]) == '\0') {
					goto plain_str_done;
				}
			}
			if (m < 16) {
				goto too_long; /* no room left for the NUL */
			}
			/* look at no more characters than could be stored */
			n += strnlen(str + 16, room - 16);
			if (n + 1 > room) {
				goto too_long;
			}
			memcpy(d + 16, str + 16, n - 16);
			d[n] = '\0';
		plain_str_done:
			pos += n + 1;
			continue;
		}
		switch (op->kind) {
		case SER_K_STAR:
			last_star = va_arg(aq, int);
			SER_PUT(&last_star, 4);
			break;
		case SER_K_INT:
			i32 = va_arg(aq, int);
			SER_PUT(&i32, 4);
			break;
		case SER_K_SHORT:
			i32 = (int32_t)(short)va_arg(aq, int);
			SER_PUT(&i32, 4);
			break;
		case SER_K_USHORT:
			i32 = (int32_t)(unsigned short)va_arg(aq, int);
			SER_PUT(&i32, 4);
			break;
		case SER_K_SCHAR:
			i32 = (int32_t)(signed char)va_arg(aq, int);
			SER_PUT(&i32, 4);
			break;
		case SER_K_UCHAR:
			i32 = (int32_t)(unsigned char)va_arg(aq, int);
			SER_PUT(&i32, 4);
			break;
		case SER_K_LONG:
			i64 = (int64_t)va_arg(aq, long);
			SER_PUT(&i64, 8);
			break;
		case SER_K_LLONG:
			i64 = (int64_t)va_arg(aq, long long);
			SER_PUT(&i64, 8);
			break;
		case SER_K_SSIZE:
			i64 = (int64_t)va_arg(aq, ssize_t);
			SER_PUT(&i64, 8);
			break;
		case SER_K_DOUBLE:
			d = va_arg(aq, double);
			SER_PUT(&d, 8);
			break;
		case SER_K_LDOUBLE:
			d = (double)va_arg(aq, long double);
			SER_PUT(&d, 8);
			break;
		case SER_K_CHAR:
			ch = (unsigned char)va_arg(aq, int);
			SER_PUT(&ch, 1);
			break;
		case SER_K_PTR:
			i64 = (int64_t)(intptr_t)va_arg(aq, void *);
			SER_PUT(&i64, 8);
			break;
		case SER_K_STR:
			prec = (op->prec == SER_PREC_STAR) ? last_star : op->prec;
			str = va_arg(aq, const char *);
			if (str == NULL) {
				str = "(null)";
			}
			/* look at no more characters than could be stored */
			room = limit - pos;
			if (room == 0) {
				goto too_long;
			}
			scan = (prec >= 0 && (size_t)prec < room) ? (size_t)prec : room;
			/* short strings (the usual case) are copied inline */
			{
				size_t inline_max = scan < 16 ? scan : 16;
				char c;

				for (n = 0; n < inline_max && (c = str[n]) != '\0'; n++) {
					out[pos + n] = c;
				}
			}
			if (n == 16 && n < scan) {
				n += strnlen(str + 16, scan - 16);
			}
			if (n + 1 > room) {
				goto too_long;
			}
			if (n > 16) {
				memcpy(out + pos + 16, str + 16, n - 16);
			}
			out[pos + n] = '\0';
			pos += n + 1;
			break;
		case SER_K_WSTR: {
			struct ser_vals v = {out, pos, limit};

			prec = (op->prec == SER_PREC_STAR) ? last_star : op->prec;
			if (ser_store_wide_string(&v, va_arg(aq, const wchar_t *), prec) != 0) {
				goto too_long;
			}
			pos = v.pos;
			break;
		}
		default:
			goto too_long;
		}
	}
	va_end(aq);
	return (ssize_t)pos;
too_long:
	va_end(aq);
	return (ssize_t)max_len;
}
