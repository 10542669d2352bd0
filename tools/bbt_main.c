/*
 * qb-blackbox: print blackbox dumps and live blackboxes, follow a live
 * one, list, clean and collect the libqb leftovers in /dev/shm.  See
 * qb-blackbox.8; the parts are described in bbt.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bbt.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qb-blackbox [FILTER...] [-o plain|json] FILE...\n"
		"       qb-blackbox [FILTER...] [-o plain|json] [-f] --pid PID | --ident NAME "
		"[--all]\n"
		"       qb-blackbox [FILTER...] [-o plain|json] -f FILE\n"
		"       qb-blackbox --list\n"
		"       qb-blackbox --clean [--dry-run]\n"
		"       qb-blackbox --save DIR [--dry-run]\n"
		"filters: --since TIME  --until TIME  -p|--priority LEVEL  -g|--grep REGEX\n"
		"         -n|--lines N\n"
		"TIME: 2026-12-02 10:00[:00], 10:00, today, yesterday, now, @EPOCH, -10min, -2h\n"
		"Use -- before file names that start with '-'.\n"
		"Exit status: 0 ok, 1 usage, 2 nothing found, 3 unreadable or corrupt input.\n");
}

enum {
	OPT_LIST = 256,
	OPT_CLEAN,
	OPT_DRY,
	OPT_SAVE,
	OPT_PID,
	OPT_IDENT,
	OPT_ALL,
	OPT_SINCE,
	OPT_UNTIL
};

static const struct option long_opts[] = {
	{"list", no_argument, NULL, OPT_LIST},
	{"clean", no_argument, NULL, OPT_CLEAN},
	{"dry-run", no_argument, NULL, OPT_DRY},
	{"save", required_argument, NULL, OPT_SAVE},
	{"pid", required_argument, NULL, OPT_PID},
	{"ident", required_argument, NULL, OPT_IDENT},
	{"all", no_argument, NULL, OPT_ALL},
	{"follow", no_argument, NULL, 'f'},
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"priority", required_argument, NULL, 'p'},
	{"grep", required_argument, NULL, 'g'},
	{"lines", required_argument, NULL, 'n'},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "qb-blackbox: bad %s: %s\n", what, arg);
	return -1;
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Parses one option; 0, 1 for --help, -1 for a usage error. */
static int take_opt(struct bbt_opts *o, int c, const char *arg, int *mode)
{
	char *end;
	int rc;

	switch (c) {
	case OPT_LIST:
	case OPT_CLEAN:
	case OPT_SAVE:
		if (*mode != 0 && *mode != c) {
			fprintf(stderr,
				"qb-blackbox: --list, --clean and --save exclude each other\n");
			return -1;
		}
		*mode = c;
		if (c == OPT_SAVE) {
			o->save_dir = arg;
		}
		return 0;
	case OPT_DRY:
		o->dry_run = 1;
		return 0;
	case OPT_ALL:
		o->all = 1;
		return 0;
	case 'f':
		o->follow = 1;
		return 0;
	case OPT_IDENT:
		o->ident = arg;
		return 0;
	case OPT_PID:
		errno = 0;
		o->pid = strtol(arg, &end, 10);
		return (errno || end == arg || *end || o->pid <= 0) ? bad("pid", arg) : 0;
	case 'n':
		errno = 0;
		o->lines = strtol(arg, &end, 10);
		return (errno || end == arg || *end || o->lines < 0) ? bad("line count", arg) : 0;
	case OPT_SINCE:
		o->have_since = 1;
		return bbt_parse_time(arg, wall_ns(), &o->since) ? bad("time", arg) : 0;
	case OPT_UNTIL:
		o->have_until = 1;
		return bbt_parse_time(arg, wall_ns(), &o->until) ? bad("time", arg) : 0;
	case 'p':
		o->max_prio = bbt_parse_prio(arg);
		return o->max_prio < 0 ? bad("priority", arg) : 0;
	case 'g':
		if (o->have_grep) {
			regfree(&o->grep);
		}
		rc = regcomp(&o->grep, arg, REG_EXTENDED | REG_NOSUB);
		o->have_grep = rc == 0;
		return rc != 0 ? bad("regular expression", arg) : 0;
	case 'o':
		if (strcmp(arg, "json") == 0) {
			o->format = BBT_JSON;
		} else if (strcmp(arg, "plain") == 0 || strcmp(arg, "text") == 0) {
			o->format = BBT_PLAIN;
		} else {
			return bad("output format", arg);
		}
		return 0;
	case 'h':
		return 1;
	default:
		return -1;
	}
}

static int exit_for(int rc)
{
	if (rc == 0) {
		return BBT_EXIT_OK;
	}
	return rc == -ENOENT ? BBT_EXIT_NOTFOUND : BBT_EXIT_BAD;
}

static void report(const char *path, int rc)
{
	if (rc == -EIO || rc == -1 || rc == -ENOBUFS) {
		fprintf(stderr, "qb-blackbox: %s: corrupt or not a blackbox file\n", path);
	} else if (rc == -EINVAL) {
		fprintf(stderr, "qb-blackbox: %s: not a regular file (or not a -header file)\n",
			path);
	} else if (rc == -ELOOP) {
		fprintf(stderr, "qb-blackbox: %s: a symbolic link (give the file itself)\n", path);
	} else {
		fprintf(stderr, "qb-blackbox: %s: %s\n", path, strerror(-rc));
	}
}

/* Prints (or follows) each file; the worst exit code. */
static int show(const struct bbt_opts *o, int n, char **files)
{
	int status = BBT_EXIT_OK;
	int i;

	if (o->follow && n != 1) {
		fprintf(stderr, "qb-blackbox: --follow takes exactly one blackbox\n");
		return BBT_EXIT_USAGE;
	}
	for (i = 0; i < n; i++) {
		int rc = o->follow ? bbt_follow(o, files[i]) : bbt_print_file(o, files[i]);
		int e;

		fflush(stdout);
		if (rc == 0) {
			continue;
		}
		report(files[i], rc);
		e = exit_for(rc);
		status = e > status ? e : status;
	}
	return status;
}

static int run(struct bbt_opts *o, int argc, char **argv);

int main(int argc, char **argv)
{
	struct bbt_opts o;
	int rc;

	rc = run(&o, argc, argv);
	if (o.have_grep) {
		regfree(&o.grep);
	}
	return rc;
}

static int run(struct bbt_opts *o, int argc, char **argv)
{
	char **sel = NULL;
	size_t nsel = 0;
	int mode = 0, c, rc;

	memset(o, 0, sizeof(*o));
	o->max_prio = 8;
	o->lines = -1;
	o->pid = -1;
	while ((c = getopt_long(argc, argv, "fp:g:n:o:h", long_opts, NULL)) != -1) {
		rc = take_opt(o, c, optarg, &mode);
		if (rc != 0) {
			usage(rc > 0 ? stdout : stderr);
			return rc > 0 ? BBT_EXIT_OK : BBT_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (mode != 0 && (argc > 0 || o->follow || o->pid >= 0 || o->ident != NULL)) {
		fprintf(stderr,
			"qb-blackbox: --list, --clean and --save take no files or selection\n");
		return BBT_EXIT_USAGE;
	}
	if (mode == OPT_LIST) {
		return bbt_list(o);
	}
	if (mode == OPT_CLEAN) {
		return bbt_clean(o);
	}
	if (mode == OPT_SAVE) {
		return bbt_save(o);
	}
	if (o->pid >= 0 || o->ident != NULL) {
		if (argc > 0) {
			fprintf(stderr, "qb-blackbox: give files or --pid/--ident, not both\n");
			return BBT_EXIT_USAGE;
		}
		rc = bbt_select(o, &sel, &nsel);
		if (rc != 0) {
			return rc;
		}
		if (o->follow && nsel > 1) {
			fprintf(stderr, "qb-blackbox: --follow takes exactly one blackbox\n");
			rc = BBT_EXIT_USAGE;
		} else {
			rc = show(o, (int)nsel, sel);
		}
		for (size_t i = 0; i < nsel; i++) {
			free(sel[i]);
		}
		free(sel);
		return rc;
	}
	if (argc < 1) {
		usage(stderr);
		return BBT_EXIT_USAGE;
	}
	return show(o, argc, argv);
}
