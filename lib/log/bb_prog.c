/*
 * bb_prog.c - formats compiled once per callsite for the blackbox writer
 * (the API is in blackbox_internal.h, the stored bytes in serialize.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "log/blackbox_internal.h"
#include "log/bb_format.h"

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
