/*
 * bb_format.h - the printf conversion rules of the blackbox, shared by the
 * writers (serialize.c: the generic serialiser; bb_prog.c: the compiled
 * callsite programs) and the renderer (bb_render.c).
 *
 * A conversion is its length letters and its conversion letter; the one
 * table ser_kinds (serialize.c) says which argument that is, and so what is
 * read from a va_list, what is stored, and what a reader takes back.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef QB_LOG_BB_FORMAT_H_DEFINED
#define QB_LOG_BB_FORMAT_H_DEFINED

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

/* The extended-information marker of qblog.h (QB_XC). */
#define SER_XC '\a'

/* Character classes, looked up instead of strchr() on the hot path. */
#define SER_C_FLAG 0x01 /* may sit between '%' and the length letters */
#define SER_C_INT 0x02
#define SER_C_FLOAT 0x04
#define SER_C_OTHER 0x08   /* c s p % */
#define SER_C_STOP 0x10	   /* '%', QB_XC and NUL end a literal run */
#define SER_C_CONV_SHIFT 5 /* bits 5-7: the conversion group below */

/* Conversion letters that take the same kind of argument. */
enum ser_conv {
	SER_CV_NONE,	 /* not a conversion */
	SER_CV_SIGNED,	 /* d i */
	SER_CV_UNSIGNED, /* o u x X */
	SER_CV_FLOAT,	 /* e E f F g G a A */
	SER_CV_CHAR,	 /* c */
	SER_CV_STR,	 /* s */
	SER_CV_PTR,	 /* p */
	SER_CV_PCT,	 /* %: no argument */
	SER_CV_COUNT
};

/* Length letters. */
enum ser_len {
	SER_LEN_NONE,
	SER_LEN_HH,   /* hh: char, promoted */
	SER_LEN_H,    /* h: short, promoted */
	SER_LEN_L,    /* l */
	SER_LEN_LL,   /* ll or q */
	SER_LEN_WIDE, /* z t j: 8 bytes on LP64 */
	SER_LEN_LDBL, /* L */
	SER_LEN_COUNT
};

/* The argument a conversion takes, and how it is stored. */
enum ser_kind {
	SER_K_NONE,    /* %%: nothing */
	SER_K_INT,     /* int, 4 bytes */
	SER_K_SHORT,   /* h: narrowed signed, 4 bytes */
	SER_K_USHORT,  /* h: narrowed unsigned */
	SER_K_SCHAR,   /* hh: narrowed signed */
	SER_K_UCHAR,   /* hh: narrowed unsigned */
	SER_K_LONG,    /* l, 8 bytes */
	SER_K_LLONG,   /* ll q L, 8 bytes */
	SER_K_SSIZE,   /* z t j, 8 bytes */
	SER_K_DOUBLE,  /* 8 bytes */
	SER_K_LDOUBLE, /* stored as a double */
	SER_K_CHAR,    /* 1 byte */
	SER_K_STR,     /* the characters and a NUL */
	SER_K_WSTR,    /* stored narrowed, as a STR */
	SER_K_PTR,     /* 8 bytes */
	SER_K_STAR,    /* a '*' width or precision: int, 4 bytes */
};

/* Both tables are defined in serialize.c. */
extern const unsigned char ser_class[256] __attribute__((visibility("hidden")));
extern const unsigned char ser_kinds[SER_LEN_COUNT][SER_CV_COUNT]
	__attribute__((visibility("hidden")));

static inline int ser_is_flag(char c)
{
	return (ser_class[(unsigned char)c] & SER_C_FLAG) != 0;
}

static inline int ser_is_int_conv(char c)
{
	return (ser_class[(unsigned char)c] & SER_C_INT) != 0;
}

static inline int ser_is_float_conv(char c)
{
	return (ser_class[(unsigned char)c] & SER_C_FLOAT) != 0;
}

static inline enum ser_kind ser_kind_of(enum ser_len len, char conv)
{
	return (enum ser_kind)ser_kinds[len][ser_class[(unsigned char)conv] >> SER_C_CONV_SHIFT];
}

/*
 * Reads the length letters at q into *len (and the letter of z t j into
 * *letter); returns the first character after them.  The writer knows all
 * of glibc's; `stored` restricts it to those of a stored format (l ll z t
 * j), the only ones every reader understands.
 */
static inline const char *ser_len_parse(const char *q, int stored, enum ser_len *len, char *letter)
{
	*len = SER_LEN_NONE;
	*letter = 0;
	if (q[0] == 'l') {
		*len = (q[1] == 'l') ? SER_LEN_LL : SER_LEN_L;
		return q + ((q[1] == 'l') ? 2 : 1);
	}
	if (q[0] == 'z' || q[0] == 't' || q[0] == 'j') {
		*len = SER_LEN_WIDE;
		*letter = q[0];
		return q + 1;
	}
	if (stored) {
		return q;
	}
	if (q[0] == 'h') {
		*len = (q[1] == 'h') ? SER_LEN_HH : SER_LEN_H;
		return q + ((q[1] == 'h') ? 2 : 1);
	}
	if (q[0] == 'q') {
		*len = SER_LEN_LL;
		return q + 1;
	}
	if (q[0] == 'L') {
		*len = SER_LEN_LDBL;
		return q + 1;
	}
	return q;
}

/* ---- serialize.c's parser and value writer, also used by bb_prog.c ---- */

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

/* Parses the conversion specification starting at the '%' pct. */
void ser_spec_parse(const char *pct, struct ser_spec *s) __attribute__((visibility("hidden")));

/* Value area writer: fails (returns -1) when the value would not fit. */
struct ser_vals {
	char *buf;
	size_t pos;
	size_t limit; /* last usable byte is limit - 1 */
};

struct ser_vals;
/*
 * Writes the stored format copy (without its NUL) into buf, at most cap
 * bytes, and returns its full length; with v and rc, stores the argument
 * values read from ap on the way (see serialize.c).
 */
size_t ser_format_copy(const char *fmt, char *buf, size_t cap, struct ser_vals *v, va_list *ap,
		       int *rc) __attribute__((visibility("hidden")));
/* Stores a wide string narrowed (non-ASCII as '?') with its NUL. */
int ser_store_wide_string(struct ser_vals *v, const wchar_t *ws, long prec)
	__attribute__((visibility("hidden")));

#endif /* QB_LOG_BB_FORMAT_H_DEFINED */
