/*
 * log_targets.c - the built-in targets: syslog (or the systemd journal),
 * stderr, stdout, files, and application-defined (custom) targets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio_ext.h>
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

static void syslog_logger(int32_t pos, struct qb_log_callsite *cs, struct timespec *ts,
			  const char *msg)
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
	log_format_line(t, cs, ts, msg, line);
#ifdef USE_JOURNAL
	if (t->use_journal) {
		if (cs->message_id != NULL)
			sd_journal_send("MESSAGE_ID=%s", cs->message_id, "PRIORITY=%d", prio,
					"CODE_LINE=%u", cs->lineno, "CODE_FILE=%s", cs->filename,
					"CODE_FUNC=%s", cs->function, "SYSLOG_IDENTIFIER=%s",
					t->name, "MESSAGE=%s", line, NULL);
		else
			sd_journal_send("PRIORITY=%d", prio, "CODE_LINE=%u", cs->lineno,
					"CODE_FILE=%s", cs->filename, "CODE_FUNC=%s", cs->function,
					"SYSLOG_IDENTIFIER=%s", t->name, "MESSAGE=%s", line, NULL);
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

void log_targets_syslog_reload(struct qb_log_target *t)
{
	closelog();
	syslog_open(t);
}

static void syslog_reload(int32_t pos)
{
	log_targets_syslog_reload(qb_log_target_get(pos));
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

/*
 * Write one line to @p fp. A file target's stream holds nothing between
 * lines (each is flushed), so its lines go straight to the descriptor: the
 * same single write(2) as through stdio, without stdio's copy and locking
 * (O_APPEND keeps concurrent lines whole). Anything someone else left in
 * the stream, and the stdio targets, go through stdio to keep the order.
 */
static void line_write(FILE *fp, int own_stream, const char *line, size_t len)
{
	int fd = fileno(fp);

	if (!own_stream || __fpending(fp) != 0) {
		(void)!fwrite(line, 1, len, fp);
		fflush(fp);
		return;
	}
	while (len > 0) {
		ssize_t n = write(fd, line, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

void log_targets_file_logger(int32_t pos, struct qb_log_callsite *cs, struct timespec *ts,
			     const char *msg)
{
	struct qb_log_target *t = qb_log_target_get(pos);
	char line[QB_LOG_ABSOLUTE_MAX_LEN + 1]; /* + the newline */
	FILE *fp = t->fp;
	int own_stream = t->pos >= QB_LOG_TARGET_DYNAMIC_START;
	size_t len;

	if (fp == NULL)
		return;
	if (own_stream)
		log_file_reopen_check(t);
	len = log_format_line(t, cs, ts, msg, line);
	line[len++] = '\n';
	line_write(fp, own_stream, line, len);
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
	t->user_data = t->fp; /* upstream exposes the stream here */
	t->logger = log_targets_file_logger;
	return 0;
}

/* fopen(path, "a+") whose descriptor is close-on-exec and never 0-2;
 * created with @p mode (-1: the upstream default). */
static FILE *file_open_append(const char *path, int32_t mode, int *err)
{
	int fd = log_file_fd_open(path, mode);
	FILE *fp;

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

void log_targets_file_close(int32_t pos)
{
	struct qb_log_target *t = qb_log_target_get(pos);

	if (t->fp != NULL) {
		fclose(t->fp);
		t->fp = NULL;
	}
}

static int is_file_target(const struct qb_log_target *t)
{
	return t != NULL && t->pos >= QB_LOG_TARGET_DYNAMIC_START &&
		t->state != QB_LOG_STATE_UNUSED && t->logger == log_targets_file_logger;
}

static int32_t file_open(const char *filename, int32_t mode)
{
	struct qb_log_target *t;
	FILE *fp;
	int err = 0;

	if (filename == NULL)
		return -EINVAL;
	if (!log_is_initialised())
		return -EINVAL;
	fp = file_open_append(filename, mode, &err);
	if (fp == NULL)
		return err;
	log_cfg_lock();
	t = log_slot_alloc();
	if (t == NULL) {
		log_cfg_unlock();
		fclose(fp);
		errno = EMFILE; /* as libqb */
		return -EMFILE;
	}
	log_slot_wrlock(t);
	snprintf(t->filename, sizeof(t->filename), "%s", filename);
	t->fp = fp;
	t->user_data = fp;
	t->file_mode = mode;
	log_file_id_store(t);
	t->logger = log_targets_file_logger;
	t->close = log_targets_file_close;
	log_slot_unlock(t);
	log_cfg_unlock();
	return (int32_t)t->pos;
}

int32_t qb_log_file_open(const char *filename)
{
	return file_open(filename, -1);
}

int32_t qb_log_file_open_mode(const char *filename, mode_t mode)
{
	if (mode & ~(mode_t)07777)
		return -EINVAL;
	return file_open(filename, (int32_t)mode);
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

	if (!log_is_initialised())
		return -EINVAL;
	log_cfg_lock();
	if (!is_file_target(t)) {
		log_cfg_unlock();
		return -EBADF;
	}
	snprintf(path, sizeof(path), "%s", filename ? filename : t->filename);
	fp = file_open_append(path, t->file_mode, &err);
	if (fp == NULL) {
		log_cfg_unlock();
		return err;
	}
	log_slot_wrlock(t);
	old = t->fp;
	t->fp = fp;
	t->user_data = fp;
	snprintf(t->filename, sizeof(t->filename), "%s", path);
	log_file_id_store(t);
	log_slot_unlock(t);
	log_cfg_unlock();
	if (old != NULL)
		fclose(old);
	return 0;
}

/* ---- custom targets --------------------------------------------------- */

int32_t qb_log_custom_open(qb_log_logger_fn log_fn, qb_log_close_fn close_fn,
			   qb_log_reload_fn reload_fn, void *user_data)
{
	struct qb_log_target *t;

	log_cfg_lock();
	t = log_is_initialised() ? log_slot_alloc() : NULL;
	if (t == NULL) {
		log_cfg_unlock();
		errno = EMFILE; /* as libqb */
		return -EMFILE;
	}
	log_slot_wrlock(t);
	snprintf(t->filename, sizeof(t->filename), "custom-%u", t->pos);
	t->logger = log_fn;
	t->close = close_fn;
	t->reload = reload_fn;
	t->user_data = user_data;
	log_slot_unlock(t);
	log_cfg_unlock();
	return (int32_t)t->pos;
}

void qb_log_custom_close(int32_t t)
{
	log_slot_free(t);
}

/* ---- per-slot setup --------------------------------------------------- */

void log_targets_static_setup(struct qb_log_target *syslog_t, struct qb_log_target *stderr_t,
			      struct qb_log_target *stdout_t)
{
	syslog_t->logger = syslog_logger;
	syslog_t->close = syslog_close;
	syslog_t->reload = syslog_reload;
	stderr_t->logger = log_targets_file_logger;
	stdout_t->logger = log_targets_file_logger;
}

int32_t log_targets_open(struct qb_log_target *t)
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
	if (t->logger == log_targets_file_logger && t->fp == NULL) {
		t->fp = file_open_append(t->filename, t->file_mode, &err);
		if (t->fp == NULL)
			return err;
		t->user_data = t->fp;
		log_file_id_store(t);
	}
	return 0;
}
