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

/* The integer-register values, as bb_prog_run_values() takes them from the
 * register save area when every value of a format is one of these. */
enum slot_kind {
	SLOT_INT,  /* %d: the slot's low 4 bytes */
	SLOT_WORD, /* %ld %lld %zd %p: all 8 bytes */
	SLOT_STR,  /* plain %s */
};

/* At most the five argument registers a call leaves after the callsite. */
#define SLOTS_MAX 5
/* x86-64 psABI: where the register save area's integer registers end (the
 * va_list's gp_offset reaches it when they are all taken) */
#define SLOTS_GP_END 48

struct bb_prog {
	size_t flen; /* stored format length, without its NUL */
	size_t nops;
	struct ser_op *ops;
	char *stored;	     /* stored format copy, NUL-terminated */
	uint32_t nslots;     /* 0: some value is of another kind */
	uint32_t slots_room; /* bytes the slot values can take at most */
	/* slots_fit()'s two bounds, worked out once: the largest va_list
	 * gp_offset with every slot still in the register save area (-1:
	 * no slots), and the bytes the message takes at most */
	int32_t slots_gp_max;
	size_t slots_len_max;
	uint8_t slot[SLOTS_MAX]; /* enum slot_kind of each value */
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

static int slot_kind_of(const struct ser_op *op)
{
	switch (op->kind) {
	case SER_K_INT:
		return SLOT_INT;
	case SER_K_LONG:
	case SER_K_LLONG:
	case SER_K_SSIZE:
	case SER_K_PTR:
		return SLOT_WORD;
	case SER_K_STR:
		return op->prec == -1 ? SLOT_STR : -1;
	default:
		return -1;
	}
}

/* Sets p's slot list when every value is a slot kind (see slot_kind). */
static void slots_compile(struct bb_prog *p)
{
	static const uint8_t room[] = {[SLOT_INT] = 4, [SLOT_WORD] = 8, [SLOT_STR] = 16};
	uint32_t need = 0;
	size_t i;

	p->nslots = 0;
	p->slots_gp_max = -1;
	p->slots_len_max = 0;
	if (p->nops == 0 || p->nops > SLOTS_MAX) {
		return;
	}
	for (i = 0; i < p->nops; i++) {
		int k = slot_kind_of(&p->ops[i]);

		if (k < 0) {
			return;
		}
		p->slot[i] = (uint8_t)k;
		need += room[k];
	}
	p->slots_room = need;
	p->nslots = (uint32_t)p->nops;
	p->slots_gp_max = SLOTS_GP_END - 8 * (int32_t)p->nops;
	p->slots_len_max = p->flen + 1 + need;
}

void bb_prog_free(struct bb_prog *p)
{
	if (p != NULL) {
		free(p->ops);
		free(p);
	}
}

struct bb_prog *bb_prog_compile(const char *fmt)
{
	struct ser_compile c = {NULL, 0, 0, 1};
	struct bb_prog *p;
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
	slots_compile(p);
	return p;
}

size_t bb_prog_stored(const struct bb_prog *p, const char **stored)
{
	*stored = p->stored;
	return p->flen + 1;
}

ssize_t bb_prog_run(const struct bb_prog *p, char *out, size_t max_len, va_list ap)
{
	/* a complete record leaves at least one byte of max_len unused */
	if (out == NULL || max_len == 0 || p->flen + 1 > max_len - 1) {
		return (ssize_t)max_len;
	}
	memcpy(out, p->stored, p->flen + 1);
	return bb_prog_run_values(p, out, max_len, ap);
}

/*
 * The value area being written: out[pos] is the next byte, out[limit] the
 * first that must stay unused.  Each helper returns the position after its
 * value, or RUN_FAIL when the value does not fit (the whole message is
 * then "too long").  Positions are passed by value so that the hot loop
 * keeps them in registers.
 */
#define RUN_FAIL SIZE_MAX

static inline size_t run_put(char *out, size_t pos, size_t limit, const void *v, size_t n)
{
	if (pos + n > limit) {
		return RUN_FAIL;
	}
	memcpy(out + pos, v, n);
	return pos + n;
}

/* The rest of a plain %s whose first 16 characters are at out[pos]: no
 * more characters are looked at than could be stored. */
static size_t run_plain_str_rest(char *out, size_t pos, size_t limit, const char *str)
{
	size_t room = limit - pos, n;

	if (room < 16) {
		return RUN_FAIL;
	}
	n = 16 + strnlen(str + 16, room - 16);
	if (n + 1 > room) {
		return RUN_FAIL;
	}
	memcpy(out + pos + 16, str + 16, n - 16);
	out[pos + n] = '\0';
	return pos + n + 1;
}

/*
 * A plain %s (nearly every string logged): short strings are copied with
 * their NUL, byte by byte.  Returns RUN_LONG when the first 16 characters
 * (or all that fit) are copied without a NUL: run_plain_str_rest() then
 * decides.
 */
#define RUN_LONG (SIZE_MAX - 1)

/* run_plain_str_short() with room for all 16 (nearly always): no bound per
 * character. */
static inline size_t str_short16(char *out, size_t pos, const char *str)
{
	char *d = out + pos;
	size_t n;

	/* unrolled: four instructions a character, no loop counter */
#pragma GCC unroll 16
	for (n = 0; n < 16; n++) {
		if ((d[n] = str[n]) == '\0') {
			return pos + n + 1;
		}
	}
	return RUN_LONG;
}

static inline size_t run_plain_str_short(char *out, size_t pos, size_t limit, const char *str)
{
	size_t room = limit - pos, n;
	char *d = out + pos;

	if (room >= 16) {
		return str_short16(out, pos, str);
	}
	for (n = 0; n < room; n++) {
		if ((d[n] = str[n]) == '\0') {
			return pos + n + 1;
		}
	}
	return RUN_LONG;
}

/* %s with a precision: at most prec characters, and a NUL. */
static size_t run_prec_str(char *out, size_t pos, size_t limit, const char *str, long prec)
{
	size_t room = limit - pos, scan, n;

	if (str == NULL) {
		str = "(null)";
	}
	if (room == 0) {
		return RUN_FAIL;
	}
	scan = (prec >= 0 && (size_t)prec < room) ? (size_t)prec : room;
	n = strnlen(str, scan);
	if (n + 1 > room) {
		return RUN_FAIL;
	}
	memcpy(out + pos, str, n);
	out[pos + n] = '\0';
	return pos + n + 1;
}

/* The int kinds, narrowed as the generic writer narrows them. */
static int32_t run_narrow(uint8_t kind, int v)
{
	switch (kind) {
	case SER_K_SHORT:
		return (int32_t)(short)v;
	case SER_K_USHORT:
		return (int32_t)(unsigned short)v;
	case SER_K_SCHAR:
		return (int32_t)(signed char)v;
	case SER_K_UCHAR:
		return (int32_t)(unsigned char)v;
	default:
		return (int32_t)v;
	}
}

/* Strings other than a plain %s. */
static size_t run_string(char *out, size_t pos, size_t limit, const struct ser_op *op,
			 int32_t last_star, va_list *ap)
{
	long prec = op->prec == SER_PREC_STAR ? last_star : op->prec;
	struct ser_vals v = {out, pos, limit};

	if (op->kind == SER_K_STR) {
		return run_prec_str(out, pos, limit, va_arg(*ap, const char *), prec);
	}
	if (ser_store_wide_string(&v, va_arg(*ap, const wchar_t *), prec) != 0) {
		return RUN_FAIL;
	}
	return v.pos;
}

/* Everything but %d, %ld and a plain %s. */
static size_t run_other(char *out, size_t pos, size_t limit, const struct ser_op *op,
			int32_t *last_star, va_list *ap)
{
	int32_t i32;
	int64_t i64;
	double d;
	unsigned char ch;

	switch (op->kind) {
	case SER_K_STAR:
		*last_star = va_arg(*ap, int);
		return run_put(out, pos, limit, last_star, 4);
	case SER_K_INT:
	case SER_K_SHORT:
	case SER_K_USHORT:
	case SER_K_SCHAR:
	case SER_K_UCHAR:
		i32 = run_narrow(op->kind, va_arg(*ap, int));
		return run_put(out, pos, limit, &i32, 4);
	case SER_K_LONG:
		i64 = (int64_t)va_arg(*ap, long);
		return run_put(out, pos, limit, &i64, 8);
	case SER_K_LLONG:
		i64 = (int64_t)va_arg(*ap, long long);
		return run_put(out, pos, limit, &i64, 8);
	case SER_K_SSIZE:
		i64 = (int64_t)va_arg(*ap, ssize_t);
		return run_put(out, pos, limit, &i64, 8);
	case SER_K_PTR:
		i64 = (int64_t)(intptr_t)va_arg(*ap, void *);
		return run_put(out, pos, limit, &i64, 8);
	case SER_K_DOUBLE:
		d = va_arg(*ap, double);
		return run_put(out, pos, limit, &d, 8);
	case SER_K_LDOUBLE:
		d = (double)va_arg(*ap, long double);
		return run_put(out, pos, limit, &d, 8);
	case SER_K_CHAR:
		ch = (unsigned char)va_arg(*ap, int);
		return run_put(out, pos, limit, &ch, 1);
	case SER_K_STR:
	case SER_K_WSTR:
		return run_string(out, pos, limit, op, *last_star, ap);
	default:
		return RUN_FAIL;
	}
}

/*
 * The values of ops from op on, every kind; the fast loop below hands over
 * to it (for good) at the first value it does not handle itself.  long_str
 * is the plain %s at op whose first characters it already copied, or NULL.
 */
static __attribute__((noinline)) ssize_t run_from(const struct bb_prog *p, const struct ser_op *op,
						  char *out, size_t pos, size_t max_len,
						  const char *long_str, va_list ap)
{
	const struct ser_op *end = p->ops + p->nops;
	size_t limit = max_len - 1;
	int32_t last_star = 0; /* no '*' before op: the fast loop takes none */
	va_list aq;

	if (long_str != NULL) {
		pos = run_plain_str_rest(out, pos, limit, long_str);
		op++;
	}
	va_copy(aq, ap);
	for (; op < end && pos != RUN_FAIL; op++) {
		if (op->kind == SER_K_STR && op->prec == -1) {
			const char *str = va_arg(aq, const char *);
			size_t next;

			str = str != NULL ? str : "(null)";
			next = run_plain_str_short(out, pos, limit, str);
			pos = next == RUN_LONG ? run_plain_str_rest(out, pos, limit, str) : next;
		} else {
			pos = run_other(out, pos, limit, op, &last_star, &aq);
		}
	}
	va_end(aq);
	return pos == RUN_FAIL ? (ssize_t)max_len : (ssize_t)pos;
}

#if defined(__x86_64__) && defined(__GNUC__) && defined(__LP64__)
/*
 * The x86-64 psABI va_list: the integer arguments va_arg has not taken yet
 * are 8-byte slots of the register save area from gp_offset up to 48, in
 * order.  Reading them there costs one load each; va_arg costs six.
 */
struct va_sysv {
	unsigned int gp_offset;
	unsigned int fp_offset;
	void *overflow_arg_area;
	char *reg_save_area;
} __attribute__((may_alias));
#define SLOTS_FROM_VA_LIST 1 /* run_slots() is here */

/* The slot values fit where they are read and where they go. */
static inline int slots_fit(const struct bb_prog *p, size_t max_len, va_list ap)
{
	const struct va_sysv *va = (const struct va_sysv *)(const void *)ap;

	return (int32_t)va->gp_offset <= p->slots_gp_max && p->slots_len_max <= max_len - 1;
}

/* Slot value i, a plain %s, is longer than 16: run_from() goes on from it. */
static __attribute__((noinline)) ssize_t slots_long_str(const struct bb_prog *p, uint32_t i,
							char *out, size_t pos, size_t max_len,
							va_list ap)
{
	struct va_sysv *va = (struct va_sysv *)(void *)ap;
	const char *str;

	memcpy(&str, va->reg_save_area + va->gp_offset + 8u * i, sizeof(str));
	va->gp_offset += 8u * (i + 1);
	return run_from(p, &p->ops[i], out, pos, max_len, str, ap);
}

/* Every value from the register save area (slots_fit()): no va_arg and no
 * bounds check per value. */
static inline ssize_t run_slots(const struct bb_prog *p, char *out, size_t max_len, va_list ap)
{
	const struct va_sysv *va = (const struct va_sysv *)(const void *)ap;
	const uint64_t *a = (const uint64_t *)(const void *)(va->reg_save_area + va->gp_offset);
	size_t pos = p->flen + 1;
	uint32_t i;

	for (i = 0; i < p->nslots; i++) {
		uint64_t x = a[i];
		uint32_t x32 = (uint32_t)x;
		const char *str;

		switch (p->slot[i]) {
		case SLOT_INT:
			memcpy(out + pos, &x32, 4);
			pos += 4;
			break;
		case SLOT_WORD:
			memcpy(out + pos, &x, 8);
			pos += 8;
			break;
		default:
			str = x != 0 ? (const char *)(uintptr_t)x : "(null)";
			x = str_short16(out, pos, str);
			if (x == RUN_LONG) {
				return slots_long_str(p, i, out, pos, max_len, ap);
			}
			pos = x;
			break;
		}
	}
	return (ssize_t)pos;
}
#endif

/*
 * %d, %ld and short plain %s values, nearly every one logged, in a loop
 * that calls nothing (so it saves no registers); anything else continues
 * in run_from().  Reads the values from ap itself (the caller does not use
 * it afterwards).
 */
static __attribute__((noinline)) ssize_t run_values(const struct bb_prog *p, char *out,
						    size_t max_len, va_list ap)
{
	const struct ser_op *op = p->ops, *end = p->ops + p->nops;
	size_t pos = p->flen + 1, limit = max_len - 1;

	for (; op < end; op++) {
		if (op->kind == SER_K_INT) {
			int32_t i32 = va_arg(ap, int);

			pos = run_put(out, pos, limit, &i32, 4);
		} else if (op->kind == SER_K_LONG) {
			int64_t i64 = (int64_t)va_arg(ap, long);

			pos = run_put(out, pos, limit, &i64, 8);
		} else if (op->kind == SER_K_STR && op->prec == -1) {
			const char *str = va_arg(ap, const char *);
			size_t next;

			str = str != NULL ? str : "(null)";
			next = run_plain_str_short(out, pos, limit, str);
			if (next == RUN_LONG) {
				return run_from(p, op, out, pos, max_len, str, ap);
			}
			pos = next;
		} else {
			return run_from(p, op, out, pos, max_len, NULL, ap);
		}
		if (pos == RUN_FAIL) {
			return (ssize_t)max_len;
		}
	}
	return (ssize_t)pos;
}

ssize_t bb_prog_run_values(const struct bb_prog *p, char *out, size_t max_len, va_list ap)
{
#ifdef SLOTS_FROM_VA_LIST
	if (slots_fit(p, max_len, ap)) {
		return run_slots(p, out, max_len, ap);
	}
#endif
	return run_values(p, out, max_len, ap);
}
