/*
 * bb_render.c - the blackbox reader's half of serialisation: a stored
 * record (format copy, NUL, values; serialize.c) back to text.
 *
 * It mirrors what older readers do with the same bytes, so that a dump
 * written by any implementation prints the same with ours; unlike them it
 * never reads past the record and always NUL-terminates its output.  The
 * conversion rules are those of bb_format.h, restricted to the length
 * letters a stored format may carry.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "log/blackbox_internal.h"
#include "log/bb_format.h"

/* Widths and precisions are capped so a corrupt record cannot make snprintf
 * pad for gigabytes; the output buffer cuts such text long before the cap. */
#define RENDER_NUM_CAP 8192

struct render {
	char *out;
	size_t cap;	  /* out has cap bytes, cap >= 1 */
	size_t pos;	  /* out[pos] is always NUL */
	const char *data; /* record bytes */
	size_t data_len;
	size_t at; /* next value offset */
};

static void render_put(struct render *r, char c)
{
	if (r->pos + 1 < r->cap) {
		r->out[r->pos++] = c;
		r->out[r->pos] = '\0';
	}
}

static int render_take(struct render *r, void *dst, size_t n)
{
	if (r->at > r->data_len || r->data_len - r->at < n) {
		return -1;
	}
	memcpy(dst, r->data + r->at, n);
	r->at += n;
	return 0;
}

static void render_printed(struct render *r, int n)
{
	size_t room = r->cap - r->pos - 1;

	if (n < 0) {
		r->out[r->pos] = '\0';
		return;
	}
	r->pos += ((size_t)n < room) ? (size_t)n : room;
	r->out[r->pos] = '\0';
}

/* Appends a non-negative number, capped, to the spec being rebuilt.  A
 * width or precision beyond the output size prints the same (cut) text as
 * one equal to it. */
static int spec_add_num(char *spec, size_t cap, size_t *len, long long num, size_t out_cap)
{
	int n;

	if (num > RENDER_NUM_CAP) {
		num = RENDER_NUM_CAP;
	}
	if ((unsigned long long)num > out_cap) {
		num = (long long)out_cap;
	}
	if (*len >= cap) {
		return -1;
	}
	n = snprintf(spec + *len, cap - *len, "%lld", num);
	if (n < 0 || (size_t)n >= cap - *len) {
		return -1;
	}
	*len += (size_t)n;
	return 0;
}

/*
 * Caps every digit run of a rebuilt spec at out_cap.  Needed on the final
 * string because adjacent parts (a width, then a '*' value) merge into one
 * number for printf.  Returns -1 if the result does not fit.
 */
static int spec_clamp(char *spec, size_t cap, size_t out_cap)
{
	char tmp[64];
	size_t i = 0, o = 0, start;
	unsigned long long v;
	int n;

	while (spec[i] != '\0') {
		if (spec[i] < '0' || spec[i] > '9') {
			if (o + 1 >= sizeof(tmp)) {
				return -1;
			}
			tmp[o++] = spec[i++];
			continue;
		}
		start = i;
		v = 0;
		while (spec[i] >= '0' && spec[i] <= '9') {
			if (v <= out_cap) {
				v = v * 10 + (unsigned long long)(spec[i] - '0');
			}
			i++;
		}
		if (v <= out_cap) {
			if (o + (i - start) >= sizeof(tmp)) {
				return -1;
			}
			memcpy(tmp + o, spec + start, i - start);
			o += i - start;
		} else {
			n = snprintf(tmp + o, sizeof(tmp) - o, "%zu", out_cap);
			if (n < 0 || (size_t)n >= sizeof(tmp) - o) {
				return -1;
			}
			o += (size_t)n;
		}
	}
	if (o >= cap) {
		return -1;
	}
	memcpy(spec, tmp, o);
	spec[o] = '\0';
	return 0;
}

/*
 * Appends the printf length letters for an argument of kind k (the 8-byte
 * integers other than long travel as long long) and the conversion, to
 * the spec of sl characters.
 */
static void spec_finish(char *spec, size_t sl, enum ser_kind k, char conv)
{
	if (k == SER_K_LONG) {
		spec[sl++] = 'l';
	} else if (k == SER_K_LLONG || k == SER_K_SSIZE) {
		spec[sl++] = 'l';
		spec[sl++] = 'l';
	}
	spec[sl] = conv;
	spec[sl + 1] = '\0';
}

/*
 * Prints the value of kind k the conversion at q (spec so far in spec)
 * takes from the record.  Returns where literal scanning continues, or
 * NULL when the record ran out of data.
 */
static const char *render_value(struct render *r, char *spec, enum ser_kind k, const char *q)
{
	int32_t i32;
	int64_t i64;
	double d;
	unsigned char c;
	size_t avail;
	size_t n;

	/* A double, a byte, a narrow string and a pointer are all that can be
	 * stored: other conversions ignore the length letters. */
	spec_finish(spec, strlen(spec), k, *q);
	switch (k) {
	case SER_K_INT:
		if (render_take(r, &i32, sizeof(i32)) != 0) {
			return NULL;
		}
		render_printed(r, snprintf(r->out + r->pos, r->cap - r->pos, spec, i32));
		return q + 1;
	case SER_K_LONG:
	case SER_K_LLONG:
	case SER_K_SSIZE:
		if (render_take(r, &i64, sizeof(i64)) != 0) {
			return NULL;
		}
		if (k == SER_K_LONG) {
			render_printed(r,
				       snprintf(r->out + r->pos, r->cap - r->pos, spec, (long)i64));
		} else {
			render_printed(
				r,
				snprintf(r->out + r->pos, r->cap - r->pos, spec, (long long)i64));
		}
		return q + 1;
	case SER_K_DOUBLE:
		if (render_take(r, &d, sizeof(d)) != 0) {
			return NULL;
		}
		render_printed(r, snprintf(r->out + r->pos, r->cap - r->pos, spec, d));
		return q + 1;
	case SER_K_CHAR:
		if (render_take(r, &c, 1) != 0) {
			return NULL;
		}
		render_printed(r, snprintf(r->out + r->pos, r->cap - r->pos, spec, c));
		return q + 1;
	case SER_K_STR:
	case SER_K_WSTR: /* stored narrowed */
		if (r->at >= r->data_len) {
			return NULL;
		}
		avail = r->data_len - r->at;
		n = strnlen(r->data + r->at, avail);
		if (n == avail) {
			return NULL; /* unterminated string: corrupt record */
		}
		render_printed(r,
			       snprintf(r->out + r->pos, r->cap - r->pos, spec, r->data + r->at));
		r->at += n + 1;
		return q + 1;
	case SER_K_PTR:
		if (render_take(r, &i64, sizeof(i64)) != 0) {
			return NULL;
		}
		render_printed(
			r, snprintf(r->out + r->pos, r->cap - r->pos, spec, (void *)(intptr_t)i64));
		return q + 1;
	default:
		/* Unknown: the spec so far is dropped, the rest reads as text. */
		return q;
	}
}

/*
 * Rebuilds the printf spec that starts at pct and prints its value.
 * Returns where literal scanning continues, or NULL when the record ran out
 * of data (rendering stops there).
 */
static const char *render_spec(struct render *r, const char *pct)
{
	char spec[64];
	size_t sl = 0;
	const char *q = pct + 1;
	enum ser_len len;
	char letter;
	int32_t i32;

	spec[sl++] = '%';
	while (ser_is_flag(*q)) {
		if (*q == '*') {
			if (render_take(r, &i32, sizeof(i32)) != 0) {
				return NULL;
			}
			if (sl >= sizeof(spec) - 8) {
				return q + 1; /* absurd spec: drop it */
			}
			if (i32 < 0) {
				spec[sl++] = '-';
			}
			if (spec_add_num(spec, sizeof(spec) - 8, &sl,
					 i32 < 0 ? -(long long)i32 : i32, r->cap) != 0) {
				return q + 1; /* absurd spec: drop it */
			}
			q++;
		} else if (*q >= '1' && *q <= '9') {
			long long num = 0;

			while (*q >= '0' && *q <= '9') {
				if (num <= RENDER_NUM_CAP) {
					num = num * 10 + (*q - '0');
				}
				q++;
			}
			if (spec_add_num(spec, sizeof(spec) - 8, &sl, num, r->cap) != 0) {
				return q;
			}
		} else {
			if (sl >= sizeof(spec) - 8) {
				return q;
			}
			spec[sl++] = *q++;
		}
	}
	q = ser_len_parse(q, 1, &len, &letter);
	spec[sl] = '\0';
	if (spec_clamp(spec, sizeof(spec) - 8, r->cap) != 0) {
		return q;
	}
	if (*q == '%') {
		render_put(r, '%');
		return q + 1;
	}
	return render_value(r, spec, ser_kind_of(len, *q), q);
}

size_t bb_msg_render(char *out, size_t out_len, const char *buf, size_t buf_len)
{
	struct render r;
	const char *p;
	size_t flen;

	if (out == NULL || out_len == 0) {
		return 0;
	}
	out[0] = '\0';
	if (buf == NULL || buf_len == 0) {
		return 1;
	}
	flen = strnlen(buf, buf_len);
	if (flen == buf_len) {
		return 1; /* no format terminator: nothing trustworthy to print */
	}
	r.out = out;
	r.cap = out_len;
	r.pos = 0;
	r.data = buf;
	r.data_len = buf_len;
	r.at = flen + 1;

	for (p = buf; *p != '\0';) {
		if (*p != '%') {
			render_put(&r, *p++);
			continue;
		}
		p = render_spec(&r, p);
		if (p == NULL) {
			break;
		}
	}
	return r.pos + 1;
}

size_t qb_vsnprintf_deserialize(char *string, size_t str_len, const char *buf)
{
	/* The caller vouches for buf holding a complete record. */
	return bb_msg_render(string, str_len, buf, SIZE_MAX / 2);
}
