/*
 * log_format.c - target line formats (%n %f %l %p %t %T %b %g %P %N %H),
 * priority and facility names.
 *
 * A slot's format is expanded in two stages: the "static" specifiers
 * (%P %N %H) when the format is set (and again after fork), the others for
 * every line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log_core.h"

static const char *const priority_names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "trace",
};

const char *qb_log_priority2str(uint8_t priority)
{
	if (priority > LOG_TRACE)
		return priority_names[LOG_TRACE];
	return priority_names[priority];
}

static const struct {
	const char *name;
	int32_t value;
} facilities[] = {
	{"auth", LOG_AUTH},	{"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
	{"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},	    {"kern", LOG_KERN},
	{"lpr", LOG_LPR},	{"mail", LOG_MAIL},	    {"news", LOG_NEWS},
	{"syslog", LOG_SYSLOG}, {"user", LOG_USER},	    {"uucp", LOG_UUCP},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},	    {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},	    {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};
#define N_FACILITIES (sizeof(facilities) / sizeof(facilities[0]))

int32_t qb_log_facility2int(const char *fname)
{
	size_t i;

	if (fname == NULL)
		return -EINVAL;
	for (i = 0; i < N_FACILITIES; i++)
		if (strcmp(fname, facilities[i].name) == 0)
			return facilities[i].value;
	return -EINVAL;
}

const char *qb_log_facility2str(int32_t fnum)
{
	size_t i;

	for (i = 0; i < N_FACILITIES; i++)
		if (facilities[i].value == fnum)
			return facilities[i].name;
	return NULL;
}

/* Kept for ABI: upstream set up format tables here. Nothing to do. */
void qb_log_format_init(void);
void qb_log_format_init(void)
{
}

void qb_log_format_fini(void);
void qb_log_format_fini(void)
{
}

/* A parsed "%[-][width]X" specifier. */
struct spec {
	int right_align; /* '-' given: pad on the left */
	size_t width;	 /* 0: no width */
	char letter;	 /* '\0' when the format ended early */
	size_t len;	 /* characters consumed, including '%' */
};

static struct spec spec_parse(const char *p)
{
	struct spec s = {0, 0, '\0', 1};
	const char *q = p + 1;

	if (*q == '-') {
		s.right_align = 1;
		q++;
	}
	while (*q >= '0' && *q <= '9') {
		s.width = s.width * 10 + (size_t)(*q - '0');
		if (s.width > QB_LOG_ABSOLUTE_MAX_LEN)
			s.width = QB_LOG_ABSOLUTE_MAX_LEN;
		q++;
	}
	s.letter = *q;
	if (*q != '\0')
		q++;
	s.len = (size_t)(q - p);
	return s;
}

/*
 * Append @p value to out[*len] as a field of the spec's width, without
 * letting *len reach @p limit (the buffer keeps room for the NUL).
 */
static void field_put(char *out, size_t *len, size_t limit, const struct spec *s, const char *value)
{
	size_t room, width, vlen, pad;
	char *dst = out + *len;

	if (*len >= limit)
		return;
	room = limit - *len;
	if (s->width == 0) {
		/* the common case: no padding, measure no further than the room */
		vlen = strnlen(value, room);
		memcpy(dst, value, vlen);
		*len += vlen;
		return;
	}
	/* a width larger than the room left shrinks to the room */
	width = s->width < room ? s->width : room;
	vlen = strnlen(value, width);
	pad = width - vlen;
	if (s->right_align) {
		memset(dst, ' ', pad);
		memcpy(dst + pad, value, vlen);
	} else {
		memcpy(dst, value, vlen);
		memset(dst + vlen, ' ', pad);
	}
	*len += width;
}

static void hostname_get(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0 || buf[0] == '\0')
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

/*
 * Expand %P, %N and %H of @p format for slot @p t into @p out (size
 * QB_LOG_FORMAT_STATIC_MAX, also limited by the slot's line length).
 * Every other specifier is copied verbatim, width included.
 */
void log_format_static(const struct qb_log_target *t, const char *format, char *out)
{
	size_t limit = QB_LOG_FORMAT_STATIC_MAX;
	size_t len = 0;
	const char *p = format;
	char value[256];

	if (t->max_line_length < limit)
		limit = t->max_line_length;
	limit = limit > 0 ? limit - 1 : 0;

	while (*p != '\0' && len < limit) {
		struct spec s;

		if (*p != '%') {
			out[len++] = *p++;
			continue;
		}
		s = spec_parse(p);
		switch (s.letter) {
		case 'P':
			snprintf(value, sizeof(value), "%d", (int)getpid());
			field_put(out, &len, limit, &s, value);
			break;
		case 'N':
			field_put(out, &len, limit, &s, t->name);
			break;
		case 'H':
			hostname_get(value, 255);
			field_put(out, &len, limit, &s, value);
			break;
		default: {
			size_t n = s.len < limit - len ? s.len : limit - len;

			memcpy(out + len, p, n);
			len += n;
			break;
		}
		}
		p += s.len;
	}
	out[len] = '\0';
}

/* Upstream exported this (slot, format, output) helper; keep its shape. */
void qb_log_target_format_static(int32_t target, const char *format, char *output_buffer);
void qb_log_target_format_static(int32_t target, const char *format, char *output_buffer)
{
	struct qb_log_target *t = qb_log_target_get(target);

	if (t == NULL || format == NULL || output_buffer == NULL)
		return;
	log_format_static(t, format, output_buffer);
}

static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Decimal digits of @p v, at least @p min_digits (zero-padded), into
 * @p buf (room for 20 digits); returns the count. */
static size_t digits_put(char *buf, unsigned long long v, size_t min_digits)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n < min_digits)
		tmp[n++] = '0';
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* "Mon dd hh:mm:ss" of @p sec in local time, or "" (returns the length). */
static size_t second_render(char *buf, time_t sec)
{
	struct tm tm;
	char *p = buf;

	if (localtime_r(&sec, &tm) == NULL)
		return 0;
	memcpy(p, month_names[tm.tm_mon % 12], 3);
	p[3] = ' ';
	p += 4;
	p += digits_put(p, (unsigned)tm.tm_mday, 2);
	*p++ = ' ';
	p += digits_put(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p += digits_put(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p += digits_put(p, (unsigned)tm.tm_sec, 2);
	return (size_t)(p - buf);
}

/*
 * The text of the last second this thread rendered: a busy target writes
 * many lines a second, and localtime_r with the formatting costs more than
 * the rest of the line. A change of TZ shows from the next second on.
 */
static __attribute__((tls_model("initial-exec"))) __thread struct {
	int valid;
	time_t sec;
	size_t len;
	char text[48];
} second_cache;

/* %t (and %T with @p with_ms) of @p ts (NULL: the epoch) into @p buf
 * (64 bytes). */
static void time_render(char *buf, const struct timespec *ts, int with_ms)
{
	time_t sec = ts ? ts->tv_sec : 0;
	size_t len;

	if (!second_cache.valid || second_cache.sec != sec) {
		second_cache.len = second_render(second_cache.text, sec);
		second_cache.sec = sec;
		second_cache.valid = 1;
	}
	len = second_cache.len;
	memcpy(buf, second_cache.text, len);
	if (with_ms && len > 0) {
		/* unsigned before dividing, as upstream (a negative tv_nsec
		 * shows as a large number) */
		unsigned long long ms = ts ? (unsigned long long)ts->tv_nsec / 1000000 : 0;

		buf[len++] = '.';
		len += digits_put(buf + len, ms, 3);
	}
	buf[len] = '\0';
}

/* Format one line for slot @p t; the caller holds the slot's lock.
 * Returns strlen(out). */
size_t log_format_line(const struct qb_log_target *t, struct qb_log_callsite *cs,
		       const struct timespec *ts, const char *msg, char *out)
{
	size_t max = t->max_line_length;
	size_t limit = max > 0 ? max - 1 : 0;
	size_t len = 0;
	const char *p = t->format_static;
	char value[64];

	if (max == 0)
		return 0;
	while (*p != '\0' && len < limit) {
		struct spec s;
		const char *v = "";

		if (*p != '%') {
			out[len++] = *p++;
			continue;
		}
		s = spec_parse(p);
		p += s.len;
		switch (s.letter) {
		case 'n':
			v = cs->function;
			break;
		case 'f':
			/* the whole string as given (observed on 2.0.6) */
			v = cs->filename;
			break;
		case 'l':
			value[digits_put(value, cs->lineno, 1)] = '\0';
			v = value;
			break;
		case 'p':
			v = qb_log_priority2str(cs->priority);
			break;
		case 't':
			time_render(value, ts, 0);
			v = value;
			break;
		case 'T':
			time_render(value, ts, 1);
			v = value;
			break;
		case 'b':
			v = msg;
			break;
		case 'g': {
			qb_log_tags_stringify_fn fn = log_tags_fn_get();

			if (fn != NULL) {
				v = fn(cs->tags);
				if (v == NULL)
					v = "";
			}
			break;
		}
		default:
			break;
		}
		field_put(out, &len, limit, &s, v);
	}
	out[len] = '\0';
	if (t->ellipsis && len >= limit && len >= 3)
		memcpy(out + len - 3, "...", 3);
	if (len > 0 && out[len - 1] == '\n')
		out[--len] = '\0';
	return len;
}

void qb_log_target_format(int32_t target, struct qb_log_callsite *cs, struct timespec *timestamp,
			  const char *formatted_message, char *output_buffer)
{
	struct qb_log_target *t = qb_log_target_get(target);
	int locked;

	if (t == NULL || cs == NULL || output_buffer == NULL)
		return;
	if (formatted_message == NULL)
		formatted_message = "";
	locked = log_slot_rdlock(t);
	log_format_line(t, cs, timestamp, formatted_message, output_buffer);
	if (locked)
		log_slot_unlock(t);
}
