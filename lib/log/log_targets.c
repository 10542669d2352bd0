/*
 * log_targets.c - the built-in targets: syslog (or the systemd journal),
 * stderr, stdout, files, and application-defined (custom) targets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#ifdef USE_JOURNAL
/* our own CODE_* fields only, not the location of this file */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#endif

#include "log/log_core.h"
#include "util/util_internal.h"

/* ---- syslog / journal ------------------------------------------------- */

static void syslog_logger(int32_t pos, struct qb_log_callsite *cs,
			  struct timespec *ts, const char *msg)
{
	struct qb_log_target *t = qb_log_target_get(pos);
	char line[QB_LOG_ABSOLUTE_MAX_LEN];
	int32_t prio = cs->priority;

	if (prio > LOG_INFO) {
		prio += t->priority_bump;
		if (prio > LOG_DEBUG)
			return;
		if (prio < LOG_EMERG)
			prio = LOG_EMERG;
	}
	qb_log_core_format_line(t, cs, ts, msg, line);
#ifdef USE_JOURNAL
	if (t->use_journal) {
		if (cs->message_id != NULL)
			sd_journal_send("MESSAGE_ID=%s", cs->message_id,
					"PRIORITY=%d", prio,
					"CODE_LINE=%u", cs->lineno,
					"CODE_FILE=%s", cs->filename,
					"CODE_FUNC=%s", cs->function,
					"SYSLOG_IDENTIFIER=%s", t->name,
					"MESSAGE=%s", line, NULL);
		else
			sd_journal_send("PRIORITY=%d", prio,
					"CODE_LINE=%u", cs->lineno,
					"CODE_FILE=%s", cs->filename,
					"CODE_FUNC=%s", cs->function,
					"SYSLOG_IDENTIFIER=%s", t->name,
					"MESSAGE=%s", line, NULL);
		return;
	}
#endif
	syslog(prio, "%s", line);
}

static void syslog_close(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	if (!t->use_journal)
		closelog();
}

static void syslog_open(struct qb_log_target *t)
{
	if (!t->use_journal)
		openlog(t->name, LOG_PID, t->facility);
}

void qb_log_targets_syslog_reload(struct qb_log_target *t)
{
	closelog();
	syslog_open(t);
}

static void syslog_reload(int32_t pos)
{
	qb_log_targets_syslog_reload(qb_log_target_get(pos));
}

/* Upstream internal symbol: open the syslog target. */
int32_t qb_log_syslog_open(struct qb_log_target *t);
int32_t qb_log_syslog_open(struct qb_log_target *t)
{
	if (t == NULL)
		return -EINVAL;
	t->logger = syslog_logger;
	t->close = syslog_close;
	t->reload = syslog_reload;
	syslog_open(t);
	return 0;
}

/* ---- stdio streams and files ------------------------------------------ */

void qb_log_targets_file_logger(int32_t pos, struct qb_log_callsite *cs,
				struct timespec *ts, const char *msg)
{
	struct qb_log_target *t = qb_log_target_get(pos);
	char line[QB_LOG_ABSOLUTE_MAX_LEN];
	FILE *fp = t->fp;

	if (fp == NULL)
		return;
	qb_log_core_format_line(t, cs, ts, msg, line);
	/* One stdio call per line: stdio's own lock keeps lines whole when
	 * several threads write the same stream. */
	fprintf(fp, "%s\n", line);
	fflush(fp);
	if (t->file_sync)
		fdatasync(fileno(fp));
}

/* Upstream internal symbol: open the stderr (or stdout) target. */
int32_t qb_log_stderr_open(struct qb_log_target *t);
int32_t qb_log_stderr_open(struct qb_log_target *t)
{
	if (t == NULL)
		return -EINVAL;
	t->fp = (t->pos == QB_LOG_STDOUT) ? stdout : stderr;
	t->user_data = t->fp;	/* upstream exposes the stream here */
	t->logger = qb_log_targets_file_logger;
	return 0;
}

/* fopen(path, "a+") whose descriptor is close-on-exec and never 0-2. */
static FILE *file_open_append(const char *path, int *err)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	FILE *fp;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	fd = qb_util_fd_hygiene(fd);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	fp = fdopen(fd, "a+");
	if (fp == NULL) {
		*err = -errno;
		close(fd);
	}
	return fp;
}

void qb_log_targets_file_close(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	if (t->fp != NULL) {
		fclose(t->fp);
		t->fp = NULL;
	}
}

static int is_file_target(const struct qb_log_target *t)
{
	return t != NULL && t->pos >= QB_LOG_TARGET_DYNAMIC_START
	       && t->state != QB_LOG_STATE_UNUSED
	       && t->logger == qb_log_targets_file_logger;
}

int32_t qb_log_file_open(const char *filename)
{
	struct qb_log_target *t;
	FILE *fp;
	int err = 0;

	if (filename == NULL)
		return -EINVAL;
	if (!qb_log_is_initialised())
		return -EINVAL;
	fp = file_open_append(filename, &err);
	if (fp == NULL)
		return err;
	qb_log_core_cfg_lock();
	t = qb_log_core_slot_alloc();
	if (t == NULL) {
		qb_log_core_cfg_unlock();
		fclose(fp);
		errno = EMFILE;		/* as libqb */
		return -EMFILE;
	}
	qb_log_core_slot_wrlock(t);
	snprintf(t->filename, sizeof(t->filename), "%s", filename);
	t->fp = fp;
	t->user_data = fp;
	t->logger = qb_log_targets_file_logger;
	t->close = qb_log_targets_file_close;
	qb_log_core_slot_unlock(t);
	qb_log_core_cfg_unlock();
	return (int32_t)t->pos;
}

void qb_log_file_close(int32_t t)
{
	qb_log_custom_close(t);
}

int32_t qb_log_file_reopen(int32_t pos, const char *filename)
{
	struct qb_log_target *t = qb_log_target_get(pos);
	char path[PATH_MAX];
	FILE *fp, *old;
	int err = 0;

	if (!qb_log_is_initialised())
		return -EINVAL;
	qb_log_core_cfg_lock();
	if (!is_file_target(t)) {
		qb_log_core_cfg_unlock();
		return -EBADF;
	}
	snprintf(path, sizeof(path), "%s", filename ? filename : t->filename);
	fp = file_open_append(path, &err);
	if (fp == NULL) {
		qb_log_core_cfg_unlock();
		return err;
	}
	qb_log_core_slot_wrlock(t);
	old = t->fp;
	t->fp = fp;
	t->user_data = fp;
	snprintf(t->filename, sizeof(t->filename), "%s", path);
	qb_log_core_slot_unlock(t);
	qb_log_core_cfg_unlock();
	if (old != NULL)
		fclose(old);
	return 0;
}

/* ---- custom targets --------------------------------------------------- */

int32_t qb_log_custom_open(qb_log_logger_fn log_fn, qb_log_close_fn close_fn,
			   qb_log_reload_fn reload_fn, void *user_data)
{
	struct qb_log_target *t;

	qb_log_core_cfg_lock();
	t = qb_log_is_initialised() ? qb_log_core_slot_alloc() : NULL;
	if (t == NULL) {
		qb_log_core_cfg_unlock();
		errno = EMFILE;		/* as libqb */
		return -EMFILE;
	}
	qb_log_core_slot_wrlock(t);
	snprintf(t->filename, sizeof(t->filename), "custom-%u", t->pos);
	t->logger = log_fn;
	t->close = close_fn;
	t->reload = reload_fn;
	t->user_data = user_data;
	qb_log_core_slot_unlock(t);
	qb_log_core_cfg_unlock();
	return (int32_t)t->pos;
}

void qb_log_custom_close(int32_t t)
{
	qb_log_core_slot_free(t);
}

/* ---- per-slot setup --------------------------------------------------- */

void qb_log_targets_static_setup(struct qb_log_target *syslog_t,
				 struct qb_log_target *stderr_t,
				 struct qb_log_target *stdout_t)
{
	syslog_t->logger = syslog_logger;
	syslog_t->close = syslog_close;
	syslog_t->reload = syslog_reload;
	stderr_t->logger = qb_log_targets_file_logger;
	stdout_t->logger = qb_log_targets_file_logger;
}

int32_t qb_log_targets_open(struct qb_log_target *t)
{
	int err = 0;

	switch (t->pos) {
	case QB_LOG_SYSLOG:
		syslog_open(t);
		return 0;
	case QB_LOG_STDERR:
	case QB_LOG_STDOUT:
		return qb_log_stderr_open(t);
	case QB_LOG_BLACKBOX:
		return qb_log_blackbox_open(t);
	default:
		break;
	}
	/* A file target disabled earlier lost its stream: reopen it
	 * (upstream stayed silent until qb_log_file_reopen). */
	if (t->logger == qb_log_targets_file_logger && t->fp == NULL) {
		t->fp = file_open_append(t->filename, &err);
		if (t->fp == NULL)
			return err;
		t->user_data = t->fp;
	}
	return 0;
}
