/*
 * log_ctl.c - slot configuration: qb_log_ctl2/qb_log_ctl, the format and
 * the user data of a slot.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "log/log_core.h"

static int32_t ctl_size(struct qb_log_target *t, int32_t size)
{
	int32_t rc = 0;

	if (t->pos != QB_LOG_BLACKBOX)
		return -ENOSYS;
	if (size <= 0)
		return -EINVAL;
	log_slot_wrlock(t);
	t->size = (size_t)size;
	if (t->state == QB_LOG_STATE_ENABLED) {
		if (t->reload != NULL)
			t->reload((int32_t)t->pos);
		else
			rc = qb_log_blackbox_open(t);
	}
	log_slot_unlock(t);
	return rc;
}

static int32_t ctl_ident(struct qb_log_target *t, const char *ident)
{
	if (ident == NULL)
		return -EINVAL;
	log_slot_wrlock(t);
	snprintf(t->name, sizeof(t->name), "%s", ident);
	if (t->pos == QB_LOG_SYSLOG)
		log_targets_syslog_reload(t);
	log_slot_unlock(t);
	return 0;
}

static int32_t ctl_set_int(struct qb_log_target *t, int32_t *field, int32_t value)
{
	log_slot_wrlock(t);
	__atomic_store_n(field, value, __ATOMIC_RELAXED); /* some are hints */
	log_slot_unlock(t);
	return 0;
}

static int32_t ctl_apply(struct qb_log_target *t, enum qb_log_conf conf, qb_log_ctl2_arg_t arg,
			 int is_string)
{
	switch (conf) {
	case QB_LOG_CONF_ENABLED:
		if (arg.i32) {
			return log_slot_enable(t);
		}
		log_slot_disable(t, QB_FALSE);
		return 0;
	case QB_LOG_CONF_FACILITY:
		log_slot_wrlock(t);
		t->facility = arg.i32;
		if (t->pos == QB_LOG_SYSLOG)
			log_targets_syslog_reload(t);
		log_slot_unlock(t);
		return 0;
	case QB_LOG_CONF_SIZE:
		return ctl_size(t, arg.i32);
	case QB_LOG_CONF_THREADED:
		return ctl_set_int(t, &t->threaded, arg.i32);
	case QB_LOG_CONF_PRIORITY_BUMP:
		return ctl_set_int(t, &t->priority_bump, arg.i32);
	case QB_LOG_CONF_STATE_GET:
		return (int32_t)t->state;
	case QB_LOG_CONF_FILE_SYNC:
		return ctl_set_int(t, &t->file_sync, arg.i32);
	case QB_LOG_CONF_EXTENDED:
		return ctl_set_int(t, &t->extended, arg.i32);
	case QB_LOG_CONF_IDENT:
		/* An integer cannot carry a string (upstream crashed). */
		return is_string ? ctl_ident(t, arg.s) : -EINVAL;
	case QB_LOG_CONF_MAX_LINE_LEN:
		if (arg.i32 > QB_LOG_ABSOLUTE_MAX_LEN || arg.i32 < 1)
			return -EINVAL;
		log_slot_wrlock(t);
		__atomic_store_n(&t->max_line_length, (size_t)arg.i32, __ATOMIC_RELAXED);
		log_slot_unlock(t);
		return 0;
	case QB_LOG_CONF_ELLIPSIS:
		return ctl_set_int(t, &t->ellipsis, arg.i32);
	case QB_LOG_CONF_USE_JOURNAL:
#ifdef USE_JOURNAL
		if (t->pos != QB_LOG_SYSLOG)
			return -EINVAL;
		log_slot_wrlock(t);
		t->use_journal = arg.i32;
		log_targets_syslog_reload(t);
		log_slot_unlock(t);
		return 0;
#else
		return -EOPNOTSUPP;
#endif
	case QB_LOG_CONF_FILE_REOPEN_ON_ROTATE: {
		int32_t rc;

		log_slot_wrlock(t);
		rc = log_file_reopen_ctl(t, arg.i32);
		log_slot_unlock(t);
		return rc;
	}
	case QB_LOG_CONF_DEBUG:
	default:
		return -EINVAL;
	}
}

static int32_t ctl_common(int32_t target, enum qb_log_conf conf, qb_log_ctl2_arg_t arg,
			  int is_string)
{
	struct qb_log_target *t;
	int32_t rc;

	if (!log_is_initialised())
		return -EINVAL;
	t = qb_log_target_get(target);
	if (t == NULL)
		return -EBADF;
	log_cfg_lock();
	if (t->state == QB_LOG_STATE_UNUSED)
		rc = -EBADF;
	else
		rc = ctl_apply(t, conf, arg, is_string);
	log_cfg_unlock();
	return rc;
}

int32_t qb_log_ctl2(int32_t target, enum qb_log_conf conf_type, qb_log_ctl2_arg_t arg)
{
	return ctl_common(target, conf_type, arg, QB_TRUE);
}

int32_t qb_log_ctl(int32_t target, enum qb_log_conf conf_type, int32_t arg)
{
	return ctl_common(target, conf_type, QB_LOG_CTL2_I32(arg), QB_FALSE);
}

void qb_log_format_set(int32_t t, const char *format)
{
	struct qb_log_target *tgt = qb_log_target_get(t);

	if (tgt == NULL)
		return;
	log_cfg_lock();
	log_slot_wrlock(tgt);
	log_slot_format_store(tgt, format);
	log_slot_unlock(tgt);
	log_cfg_unlock();
}

void *qb_log_target_user_data_get(int32_t t)
{
	struct qb_log_target *tgt = qb_log_target_get(t);

	if (tgt == NULL || tgt->state == QB_LOG_STATE_UNUSED) {
		errno = EBADF;
		return NULL;
	}
	return tgt->user_data;
}

int32_t qb_log_target_user_data_set(int32_t t, void *user_data)
{
	struct qb_log_target *tgt = qb_log_target_get(t);

	if (!log_is_initialised())
		return -EINVAL;
	if (tgt == NULL || tgt->state == QB_LOG_STATE_UNUSED)
		return -EBADF;
	tgt->user_data = user_data;
	return 0;
}
