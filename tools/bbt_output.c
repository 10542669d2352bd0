/*
 * Output of records: the plain format (byte-identical to
 * qb_log_blackbox_print_from_file), JSON lines, and the filters.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bbt.h"

#define UPSTREAM_MSG_MAX 512

const char *const bbt_prio_names[9] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "trace",
};

/* Notes between records: inline in plain output, on stderr with JSON so
 * that stdout stays one object per line. */
void bbt_note(const struct bbt_opts *o, const char *fmt, ...)
{
	FILE *f = o->format == BBT_JSON ? stderr : stdout;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

/* ------------------------------------------------------------ parsing */

int bbt_parse_prio(const char *s)
{
	static const struct {
		const char *name;
		int prio;
	} alias[] = {{"err", 3}, {"warn", 4}, {"emergency", 0}, {"critical", 2}};
	char *end;
	long v;
	size_t i;

	for (i = 0; i < 9; i++) {
		if (strcasecmp(s, bbt_prio_names[i]) == 0) {
			return (int)i;
		}
	}
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (strcasecmp(s, alias[i].name) == 0) {
			return alias[i].prio;
		}
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 8) {
		return -1;
	}
	return (int)v;
}

/* "-10min", "+2h", "-30s", "-1d", "-500ms": an offset from now. */
static int parse_relative(const char *s, int64_t now_ns, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
		{"ms", 1000000LL},	   {"s", 1000000000LL},	       {"sec", 1000000000LL},
		{"m", 60000000000LL},	   {"min", 60000000000LL},     {"h", 3600000000000LL},
		{"hour", 3600000000000LL}, {"hours", 3600000000000LL}, {"d", 86400000000000LL},
		{"day", 86400000000000LL}, {"days", 86400000000000LL}, {"", 1000000000LL},
	};
	char *end;
	long long v;
	size_t i;

	errno = 0;
	v = strtoll(s + 1, &end, 10);
	if (errno != 0 || end == s + 1 || v < 0 || v > 100LL * 366 * 86400) {
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (v > INT64_MAX / units[i].ns) {
				return -1;
			}
			*out = now_ns + (s[0] == '-' ? -1 : 1) * v * units[i].ns;
			return 0;
		}
	}
	return -1;
}

/*
 * TIME: now, today, yesterday, @EPOCH, -N[unit]/+N[unit] (ms s min h d),
 * "YYYY-MM-DD[ HH:MM[:SS]]", "YYYY-MM-DDTHH:MM[:SS]" or "HH:MM[:SS]"
 * (today), in local time.  Result in ns since the epoch.
 */
int bbt_parse_time(const char *s, int64_t now_ns, int64_t *out)
{
	static const char *const formats[] = {
		"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
		"%Y-%m-%dT%H:%M",    "%Y-%m-%d",
	};
	struct tm tm;
	time_t now = (time_t)(now_ns / 1000000000LL), t;
	const char *end;
	char *e;
	size_t i;

	if (s[0] == '-' || s[0] == '+') {
		return parse_relative(s, now_ns, out);
	}
	if (strcmp(s, "now") == 0) {
		*out = now_ns;
		return 0;
	}
	if (s[0] == '@') {
		long long v;

		errno = 0;
		v = strtoll(s + 1, &e, 10);
		if (errno != 0 || e == s + 1 || *e != '\0' || v < 0 ||
		    v > INT64_MAX / 1000000000LL) {
			return -1;
		}
		*out = v * 1000000000LL;
		return 0;
	}
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		localtime_r(&now, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		if (s[0] == 'y') {
			tm.tm_mday--;
		}
		*out = (int64_t)mktime(&tm) * 1000000000LL;
		return 0;
	}
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end != NULL && *end == '\0') {
			tm.tm_isdst = -1;
			t = mktime(&tm);
			*out = (int64_t)t * 1000000000LL;
			return t == (time_t)-1 ? -1 : 0;
		}
	}
	localtime_r(&now, &tm);
	tm.tm_sec = 0;
	end = strptime(s, "%H:%M", &tm);
	if (end != NULL && *end == ':') {
		end = strptime(end + 1, "%S", &tm);
	}
	if (end != NULL && *end == '\0') {
		tm.tm_isdst = -1;
		*out = (int64_t)mktime(&tm) * 1000000000LL;
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------ records */

void bbt_render(const struct bbt_rec *rec, char *msg, size_t cap)
{
	/* records that older readers accept print in the same 512 bytes */
	size_t out_cap = rec->msg_len <= UPSTREAM_MSG_MAX ? UPSTREAM_MSG_MAX : cap;
	size_t n;

	if (out_cap > cap) {
		out_cap = cap;
	}
	bb_msg_render(msg, out_cap, (const char *)rec->msg, rec->msg_len);
	n = strlen(msg);
	while (n > 1 && msg[n - 1] == '\n') {
		msg[--n] = '\0';
	}
}

static int64_t rec_ns(const struct bbt_rec *rec)
{
	if (rec->sec > INT64_MAX / 1000000000LL || rec->sec < INT64_MIN / 1000000000LL) {
		return rec->sec < 0 ? INT64_MIN : INT64_MAX;
	}
	return rec->sec * 1000000000LL +
		((rec->nsec >= 0 && rec->nsec < 1000000000LL) ? rec->nsec : 0);
}

/* Renders the message into msg and says whether the record passes. */
int bbt_rec_wanted(const struct bbt_opts *o, const struct bbt_rec *rec, char *msg, size_t cap)
{
	int64_t t = rec_ns(rec);

	if ((o->have_since && t < o->since) || (o->have_until && t > o->until) ||
	    (rec->prio > 8 ? 8 : rec->prio) > o->max_prio) {
		return 0;
	}
	bbt_render(rec, msg, cap);
	return !o->have_grep || regexec(&o->grep, msg, 0, NULL, 0) == 0;
}

static void format_time(const struct bbt_rec *rec, char *out, size_t len)
{
	time_t t = (time_t)rec->sec;
	struct tm tm;
	char suffix[32];
	size_t n;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "%lld", (long long)rec->sec);
		return;
	}
	n = strftime(out, len, "%b %d %T", &tm);
	snprintf(suffix, sizeof(suffix), ".%03llu", (unsigned long long)rec->nsec / 1000000ULL);
	/* at most 7 characters, dot included (only a corrupt nsec is longer) */
	snprintf(out + n, len - n, "%.7s", suffix);
}

static void json_string(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	fputc('"', f);
	for (i = 0; i < len && p[i] != '\0'; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			fprintf(f, "\\%c", p[i]);
		} else if (p[i] == '\n') {
			fputs("\\n", f);
		} else if (p[i] == '\t') {
			fputs("\\t", f);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(f, "\\u%04x", p[i]);
		} else if (p[i] >= 0x80) {
			/* not known to be UTF-8: keep bytes of valid sequences,
			 * escape the rest as U+FFFD */
			size_t k, need = p[i] >= 0xf0 ? 3 : p[i] >= 0xe0 ? 2 : p[i] >= 0xc2 ? 1 : 0;
			int ok = need > 0 && p[i] < 0xf5 && i + need < len;

			for (k = 1; ok && k <= need; k++) {
				ok = (p[i + k] & 0xc0) == 0x80;
			}
			if (ok) {
				fwrite(p + i, 1, need + 1, f);
				i += need;
			} else {
				fputs("\\ufffd", f);
			}
		} else {
			fputc(p[i], f);
		}
	}
	fputc('"', f);
}

static void print_json(const struct bbt_rec *rec, const char *msg, const struct bbt_who *who)
{
	time_t t = (time_t)rec->sec;
	struct tm tm;
	char when[64] = "";
	int prio = rec->prio > 8 ? 8 : rec->prio;
	long long nsec = (rec->nsec >= 0 && rec->nsec < 1000000000LL) ? rec->nsec : 0;

	if (gmtime_r(&t, &tm) != NULL) {
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	printf("{\"ts\":\"%s.%09lldZ\",\"priority\":\"%s\",\"priority_num\":%d,"
	       "\"function\":",
	       when, nsec, bbt_prio_names[prio], rec->prio);
	json_string(stdout, rec->fn, rec->fn_len);
	printf(",\"line\":%u,\"tags\":%u,\"message\":", rec->line, rec->tags);
	json_string(stdout, msg, strlen(msg));
	if (who->pid > 0) {
		printf(",\"pid\":%ld", who->pid);
	} else {
		fputs(",\"pid\":null", stdout);
	}
	fputs(",\"ident\":", stdout);
	if (who->ident[0] != '\0') {
		json_string(stdout, who->ident, strlen(who->ident));
	} else {
		fputs("null", stdout);
	}
	fputs("}\n", stdout);
}

void bbt_print_rec(const struct bbt_opts *o, const struct bbt_rec *rec, const char *msg,
		   const struct bbt_who *who)
{
	char when[64];

	if (o->format == BBT_JSON) {
		print_json(rec, msg, who);
		return;
	}
	format_time(rec, when, sizeof(when));
	printf("%-7s %s %.*s(%u):%u: %s\n", bbt_prio_names[rec->prio > 8 ? 8 : rec->prio], when,
	       (int)rec->fn_len, rec->fn, rec->line, rec->tags, msg);
}

void bbt_print_state(const struct bbt_ring *r)
{
	uint32_t w = r->v.write_pt, rp = r->start, ws = r->v.words;
	ssize_t free_w, used_w;

	if (w > rp) {
		free_w = (ssize_t)rp - w + ws - 1;
		used_w = (ssize_t)w - rp;
	} else if (w < rp) {
		free_w = (ssize_t)rp - w - 1;
		used_w = (ssize_t)w - rp + ws - 1;
	} else {
		free_w = ws;
		used_w = 0;
	}
	printf("Ringbuffer: \n ->NORMAL\n ->write_pt [%u]\n ->read_pt [%u]\n"
	       " ->size [%u words]\n =>free [%zd bytes]\n =>used [%zd bytes]\n",
	       w, rp, ws, free_w * 4, used_w * 4);
}

/* Prints the walked records that pass the filters (the last o->lines). */
static void print_walk(const struct bbt_opts *o, const struct bbt_walk *w,
		       const struct bbt_who *who)
{
	char *msg = malloc(BBT_MSG_MAX + 1);
	char *keep = NULL;
	size_t i, first = 0;

	if (msg == NULL) {
		return;
	}
	if (o->lines >= 0) {
		size_t wanted = 0;

		keep = calloc(w->n ? w->n : 1, 1);
		for (i = 0; keep != NULL && i < w->n; i++) {
			keep[i] = (char)bbt_rec_wanted(o, &w->recs[i], msg, BBT_MSG_MAX + 1);
			wanted += (size_t)keep[i];
		}
		/* skip all but the last o->lines wanted records */
		for (i = 0; keep != NULL && i < w->n && wanted > (size_t)o->lines; i++) {
			if (keep[i]) {
				keep[i] = 0;
				wanted--;
			}
			first = i + 1;
		}
	}
	for (i = first; i < w->n; i++) {
		if (keep != NULL && !keep[i]) {
			continue;
		}
		if (bbt_rec_wanted(o, &w->recs[i], msg, BBT_MSG_MAX + 1)) {
			bbt_print_rec(o, &w->recs[i], msg, who);
		}
	}
	free(keep);
	free(msg);
}

int bbt_print_file(const struct bbt_opts *o, const char *path)
{
	struct bbt_ring r;
	struct bbt_walk w;
	int rc;

	if (o->format == BBT_PLAIN) {
		printf("Dumping the contents of %s\n", path);
		fflush(stdout);
	}
	rc = bbt_read_file(path, &r);
	if (rc != 0) {
		return rc;
	}
	if (o->format == BBT_PLAIN) {
		bbt_print_state(&r);
	}
	if (r.skipped > 0) {
		bbt_note(o,
			 "... %llu bytes of the oldest records were overwritten while "
			 "reading and are left out ...\n",
			 (unsigned long long)r.skipped);
	}
	rc = bbt_walk(&r, r.start, r.skipped > 0, &w);
	print_walk(o, &w, &r.who);
	fflush(stdout);
	if (w.errmsg[0] != '\0') {
		fprintf(w.err_stderr ? stderr : stdout, "%s\n", w.errmsg);
	}
	fflush(stdout);
	bbt_walk_free(&w);
	bbt_ring_free(&r);
	return rc;
}
