/*
 * qblog.h - the logging API: callsites, filters, formats and targets.
 *
 * Part of a drop-in replacement for libqb; see README.markdown.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Overview
 * --------
 * Every qb_log() statement owns a "callsite": a record created on first use
 * that remembers the function, file, line, priority and format string of the
 * statement, plus two bitmaps: `targets` (bit n set = output slot n wants
 * this statement) and `tags` (free for the application, bit 31 marks the
 * library's own messages). Filters (qb_log_filter_ctl2()) set and clear
 * bits in those bitmaps, so a statement nobody wants costs one lookup.
 *
 * Output goes to up to 32 slots ("targets"): 0 syslog (or the systemd
 * journal), 1 stderr, 2 the blackbox (an in-memory ring kept in /dev/shm),
 * 3 stdout, and 4..31 for files and application-defined loggers.
 *
 * Threads: any number of threads may log at the same time; each message
 * reaches every enabled target that wants it (unlike libqb 2.0.x, which
 * silently dropped messages logged concurrently). Formatting happens in the
 * calling thread without a global lock. Configuration calls (init, ctl,
 * filters, open/close of targets) are serialised internally but should not
 * race with qb_log_fini(). A message logged from inside a logger callback
 * (same thread) is dropped, as upstream did; a logger may disable or close
 * its own slot, and may fork.
 *
 * Fork: qb_log_init() registers pthread_atfork() handlers, so a child made
 * with fork() (or any libc wrapper that runs atfork handlers, such as
 * posix_spawn's fork path or daemon()) can log right away: locks held by
 * other threads of the parent are reset, the log thread (if any) is
 * restarted on demand, cached %P/%N/%H expansions are refreshed and the
 * child is detached from the parent's blackbox (its first log call gives
 * it a blackbox of its own, see qb_log_reflect_pid()). A child created with a raw
 * clone() system call or vfork() does not run those handlers; such a child
 * must call qb_log_reflect_pid() before logging (vfork children should not
 * log at all). A logger callback may fork, but must not do so while another
 * thread reconfigures that logger's own slot (the fork handlers would wait
 * for each other).
 */
#ifndef QB_LOG_H_DEFINED
#define QB_LOG_H_DEFINED

#ifdef __cplusplus
extern "C" {
#endif

#include <stdint.h>
#include <sys/types.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdarg.h>
#include <errno.h>
#include <syslog.h>
#include <string.h>
#include <qb/qbutil.h>
#include <qb/qbconfig.h>

/* syslog.h has no level below LOG_DEBUG; libqb adds one for tracing. */
#undef LOG_TRACE
#define LOG_TRACE	(LOG_DEBUG + 1)

/** Default maximum length of one log line (including the terminating NUL). */
#define QB_LOG_MAX_LEN 512
/** Largest value accepted by QB_LOG_CONF_MAX_LINE_LEN. */
#define QB_LOG_ABSOLUTE_MAX_LEN 4096
/** Buffer size used by qb_perror() for the strerror text. */
#define QB_LOG_STRERROR_MAX_LEN 128

/**
 * Map a callsite's tags to the text printed by the %g format specifier.
 * The returned string must stay valid until the line is written.
 */
typedef const char *(*qb_log_tags_stringify_fn)(uint32_t tags);

/**
 * One logging statement, as seen by the library and by filter callbacks.
 * Created by the library on first use of a statement and kept until
 * qb_log_fini(). A filter callback may change `targets` and `tags`;
 * the other fields are read-only. The layout is part of the ABI.
 */
struct qb_log_callsite {
	const char *function;	/**< function name of the statement */
	const char *filename;	/**< source file (__FILE__) */
	const char *format;	/**< printf-style format string */
	uint8_t priority;	/**< LOG_EMERG .. LOG_TRACE */
	uint32_t lineno;	/**< source line */
	uint32_t targets;	/**< bit n set: slot n wants this statement */
	uint32_t tags;		/**< application-defined bits (31 = libqb) */
	const char *message_id;	/**< journal MESSAGE_ID or NULL */
} __attribute__((aligned(8)));

/** Custom filter, called for callsites to adjust `targets` and `tags`. */
typedef void (*qb_log_filter_fn)(struct qb_log_callsite *cs);

/* Kept for source compatibility with 0.x/1.x: callsites no longer live in
 * a linker section, so this expands to nothing. */
#define QB_LOG_INIT_DATA(name)

/**
 * Log one message for a callsite obtained from qb_log_callsite_get2().
 * The variable arguments match the callsite's format. A NULL callsite
 * (logging not initialised) is ignored. Thread-safe; not async-signal-safe.
 */
void qb_log_real_(struct qb_log_callsite *cs, ...);

/** As qb_log_real_() with a va_list. */
void qb_log_real_va_(struct qb_log_callsite *cs, va_list ap);

/** Tag bit carried by messages the library logs about itself. */
#define QB_LOG_TAG_LIBQB_MSG_BIT 31
/** Mask of QB_LOG_TAG_LIBQB_MSG_BIT. */
#define QB_LOG_TAG_LIBQB_MSG (1U << QB_LOG_TAG_LIBQB_MSG_BIT)

/**
 * Log a message on behalf of another source (for example a language
 * binding) that supplies its own function, file and line. The callsite is
 * looked up or created from these strings. No-op before qb_log_init().
 * A line number of 0 creates a callsite that later filter changes skip.
 */
void qb_log_from_external_source(const char *function,
				 const char *filename,
				 const char *format,
				 uint8_t priority,
				 uint32_t lineno,
				 uint32_t tags,
				 ...)
	__attribute__ ((format (printf, 3, 7)));

/**
 * Find or create the callsite for (filename, line, priority, format).
 * Returns NULL when logging is not initialised. If @p tags is non-zero it
 * replaces the callsite's tags. Strings are copied (NULL becomes "").
 * Thread-safe and lock-free on the lookup path.
 */
struct qb_log_callsite *qb_log_callsite_get(const char *function,
					    const char *filename,
					    const char *format,
					    uint8_t priority,
					    uint32_t lineno,
					    uint32_t tags);

/**
 * As qb_log_callsite_get() with a journal MESSAGE_ID. The message id of
 * the first lookup is kept; it is not part of the callsite's identity.
 */
struct qb_log_callsite *qb_log_callsite_get2(const char *message_id,
					     const char *function,
					     const char *filename,
					     const char *format,
					     uint8_t priority,
					     uint32_t lineno,
					     uint32_t tags);

/** As qb_log_from_external_source() with a message id and a va_list. */
void qb_log_from_external_source_va2(const char *message_id,
				     const char *function,
				     const char *filename,
				     const char *format,
				     uint8_t priority,
				     uint32_t lineno,
				     uint32_t tags,
				     va_list ap)
	__attribute__ ((format (printf, 4, 0)));

/** As qb_log_from_external_source() with a va_list. */
void qb_log_from_external_source_va(const char *function,
				    const char *filename,
				    const char *format,
				    uint8_t priority,
				    uint32_t lineno,
				    uint32_t tags,
				    va_list ap)
	__attribute__ ((format (printf, 3, 0)));

/**
 * Log with a message id and tags. The callsite is looked up on each
 * execution (a fast, lock-free hash lookup), then the message is passed on.
 */
#define qb_logt2(message_id, priority, tags, fmt, args...) do {		\
	struct qb_log_callsite *qb_log_cs_ =				\
		qb_log_callsite_get2(message_id, __func__, __FILE__, fmt,	\
				     priority, __LINE__, tags);		\
	qb_log_real_(qb_log_cs_, ##args);				\
} while (0)

/** Log with tags (see qb_logt2()). */
#define qb_logt(priority, tags, fmt, args...) \
	qb_logt2(NULL, priority, tags, fmt, ##args)

/** Log with a journal MESSAGE_ID (see qb_logt2()). */
#define qb_log2(message_id, priority, fmt, args...) \
	qb_logt2(message_id, priority, 0, fmt, ##args)

/** Log a printf-style message at a syslog priority. */
#define qb_log(priority, fmt, args...) qb_logt(priority, 0, fmt, ##args)

/**
 * Extended-information marker. Text after the first QB_XC of a message is
 * "extended": targets with QB_LOG_CONF_EXTENDED on print it after a '|',
 * targets with it off cut the message at the marker.
 */
#define QB_XC '\a'
/** QB_XC as a string literal, for concatenation into formats. */
#define QB_XS "\a"

/**
 * Log a message followed by ": <strerror(errno)> (<errno>)".
 * errno is read before the message is logged.
 */
#ifndef S_SPLINT_S
#define qb_perror(priority, fmt, args...) do {				\
	char qb_perror_buf_[QB_LOG_STRERROR_MAX_LEN];			\
	const char *qb_perror_str_ = qb_strerror_r(errno, qb_perror_buf_,	\
						   sizeof(qb_perror_buf_));	\
	qb_logt(priority, 0, fmt ": %s (%d)", ##args, qb_perror_str_, errno); \
} while (0)
#else
#define qb_perror
#endif

/** Trace entry into the current function (LOG_TRACE). */
#define qb_enter() qb_log(LOG_TRACE, "ENTERING %s()", __func__)
/** Trace exit from the current function (LOG_TRACE). */
#define qb_leave() qb_log(LOG_TRACE, "LEAVING %s()", __func__)

/** Output slots. Values are ABI. */
enum qb_log_target_slot {
	QB_LOG_TARGET_START,
	QB_LOG_TARGET_STATIC_START = QB_LOG_TARGET_START,
	QB_LOG_SYSLOG = QB_LOG_TARGET_STATIC_START,
	QB_LOG_STDERR,
	QB_LOG_BLACKBOX,
	QB_LOG_STDOUT,
	QB_LOG_TARGET_STATIC_MAX,
	QB_LOG_TARGET_STATIC_END = QB_LOG_TARGET_STATIC_MAX - 1,
	QB_LOG_TARGET_DYNAMIC_START = QB_LOG_TARGET_STATIC_MAX,
	QB_LOG_TARGET_MAX = 32,
	QB_LOG_TARGET_DYNAMIC_END = QB_LOG_TARGET_MAX - 1,
	QB_LOG_TARGET_END = QB_LOG_TARGET_DYNAMIC_END,
};

/** State of a slot, as returned by QB_LOG_CONF_STATE_GET. */
enum qb_log_target_state {
	QB_LOG_STATE_UNUSED = 1,
	QB_LOG_STATE_DISABLED = 2,
	QB_LOG_STATE_ENABLED = 3,
};

/** Options of qb_log_ctl()/qb_log_ctl2(). Values are ABI. */
enum qb_log_conf {
	QB_LOG_CONF_ENABLED,		/**< non-zero enables the slot */
	QB_LOG_CONF_FACILITY,		/**< syslog facility */
	QB_LOG_CONF_DEBUG,		/**< unsupported: -EINVAL */
	QB_LOG_CONF_SIZE,		/**< blackbox ring size in bytes */
	QB_LOG_CONF_THREADED,		/**< write through the log thread */
	QB_LOG_CONF_PRIORITY_BUMP,	/**< syslog: added to priorities > LOG_INFO */
	QB_LOG_CONF_STATE_GET,		/**< returns enum qb_log_target_state */
	QB_LOG_CONF_FILE_SYNC,		/**< fdatasync after each line */
	QB_LOG_CONF_EXTENDED,		/**< print extended information */
	QB_LOG_CONF_IDENT,		/**< identity string (qb_log_ctl2 .s) */
	QB_LOG_CONF_MAX_LINE_LEN,	/**< line buffer size, <= 4096 */
	QB_LOG_CONF_ELLIPSIS,		/**< end cut lines with "..." */
	QB_LOG_CONF_USE_JOURNAL,	/**< syslog slot: use sd_journal_send */
	/**
	 * File targets: follow the path across log rotation. The value is the
	 * check interval in milliseconds (0, the default: off). At most once
	 * per interval, on a message, the target compares the file its path
	 * names with the file it writes (device and inode); when the file was
	 * renamed or removed it opens the path again (creating it with the
	 * target's mode, see qb_log_file_open_mode()) and writes on there.
	 * Lines written before the switch are in the old file, none is lost.
	 * Between checks a message costs no system call. copytruncate needs
	 * no reopen: the file is opened with O_APPEND. Not a file target:
	 * -EINVAL. Added in 2.1.0 (not in upstream libqb).
	 */
	QB_LOG_CONF_FILE_REOPEN_ON_ROTATE = 64,
};

/** What a filter's text is matched against. Values are ABI. */
enum qb_log_filter_type {
	QB_LOG_FILTER_FILE,		/**< comma list of exact file names */
	QB_LOG_FILTER_FUNCTION,		/**< comma list of exact function names */
	QB_LOG_FILTER_FORMAT,		/**< substring of the format */
	QB_LOG_FILTER_FILE_REGEX,	/**< POSIX basic regex on the file */
	QB_LOG_FILTER_FUNCTION_REGEX,	/**< ... on the function */
	QB_LOG_FILTER_FORMAT_REGEX,	/**< ... on the format */
};

/** Filter operations. Values are ABI. */
enum qb_log_filter_conf {
	QB_LOG_FILTER_ADD,
	QB_LOG_FILTER_REMOVE,
	QB_LOG_FILTER_CLEAR_ALL,
	QB_LOG_TAG_SET,
	QB_LOG_TAG_CLEAR,
	QB_LOG_TAG_CLEAR_ALL,
};

/** Logger of a custom target: receives the message text (not formatted). */
typedef void (*qb_log_logger_fn)(int32_t t,
				 struct qb_log_callsite *cs,
				 struct timespec *timestamp,
				 const char *msg);

/** Logger receiving the raw arguments (used by the blackbox). */
typedef void (*qb_log_vlogger_fn)(int32_t t,
				  struct qb_log_callsite *cs,
				  struct timespec *timestamp,
				  va_list ap);

/** Called when a target is disabled or closed. */
typedef void (*qb_log_close_fn)(int32_t t);
/** Called when a target must reopen its resources. */
typedef void (*qb_log_reload_fn)(int32_t t);

/**
 * Initialise logging. @p name becomes every slot's ident (and the syslog
 * ident), @p facility the syslog facility; syslog is enabled with a filter
 * for every file up to @p priority. Other slots start disabled (0-3) or
 * unused (4-31), with format "[%p] %b", a 512-byte line limit and extended
 * information on. Also registers the fork handlers (once per process).
 * Not thread-safe against other logging calls of the same process.
 */
void qb_log_init(const char *name, int32_t facility, uint8_t priority);

/**
 * Shut logging down: drain and stop the log thread, disable and close every
 * target, free filters and callsites. Callsite pointers become invalid and
 * every later logging call is a no-op until qb_log_init(). No other thread
 * may log concurrently.
 */
void qb_log_fini(void);

/**
 * Register a legacy array of callsites [@p start, @p stop). Stored filters
 * of enabled slots, tag filters and the custom filter are applied to them.
 * @return 0, -EINVAL for NULL bounds, -EEXIST if already registered.
 */
int32_t qb_log_callsites_register(struct qb_log_callsite *start,
				  struct qb_log_callsite *stop);

/** Print every known callsite to stdout (debugging aid). */
void qb_log_callsites_dump(void);

/**
 * Configure slot @p target (integer argument; see qb_log_ctl2()).
 * QB_LOG_CONF_IDENT needs a string: use qb_log_ctl2() (here -EINVAL).
 */
int32_t qb_log_ctl(int32_t target, enum qb_log_conf conf_type, int32_t arg);

/** Argument of qb_log_ctl2(): an integer or a string, by option. */
typedef union {
	int32_t i32;
	const char *s;
} qb_log_ctl2_arg_t;

/**
 * Configure slot @p target.
 * @return 0 on success; the state for QB_LOG_CONF_STATE_GET; -EINVAL when
 * not initialised, for an unknown option, QB_LOG_CONF_DEBUG, a line length
 * above 4096 or below 1, a SIZE <= 0, or USE_JOURNAL on a slot other than
 * syslog; -EBADF for a slot outside 0..31 or unused; -ENOSYS for SIZE on a
 * slot other than the blackbox; -EOPNOTSUPP for USE_JOURNAL without journal
 * support; or the error of opening the target when enabling it.
 * Enabling a file target that was disabled reopens its file.
 */
int32_t qb_log_ctl2(int32_t target, enum qb_log_conf conf_type,
		    qb_log_ctl2_arg_t arg);

#ifndef S_SPLINT_S
/** Build a qb_log_ctl2_arg_t holding an integer. */
#define QB_LOG_CTL2_I32(a)	((qb_log_ctl2_arg_t) { .i32 = (a) })
/** Build a qb_log_ctl2_arg_t holding a string. */
#define QB_LOG_CTL2_S(a)	((qb_log_ctl2_arg_t) { .s = (a) })
#else
#define QB_LOG_CTL2_I32(a)	((qb_log_ctl2_arg_t)(a))
#define QB_LOG_CTL2_S(a)	((qb_log_ctl2_arg_t)(a))
#endif

/**
 * Filter with priorities LOG_EMERG..@p low_priority
 * (qb_log_filter_ctl2() with high_priority LOG_EMERG).
 */
int32_t qb_log_filter_ctl(int32_t value, enum qb_log_filter_conf c,
			  enum qb_log_filter_type type, const char *text,
			  uint8_t low_priority);

/**
 * Add, remove or clear a target filter (c = FILTER_*, @p value = slot) or
 * a tag filter (c = TAG_*, @p value = tag value). A callsite matches when
 * high_priority <= its priority <= low_priority and @p text matches per
 * @p type ("*" matches everything). Existing callsites are updated at once;
 * ADD and TAG_SET filters are also applied to callsites created later.
 * @return 0; -EINVAL not initialised, NULL text, bad type/operation,
 * low < high or a regex that does not compile; -EBADF bad or unused slot
 * (FILTER_* only); -EEXIST identical filter already stored; -ENOMEM.
 */
int32_t qb_log_filter_ctl2(int32_t value, enum qb_log_filter_conf c,
			   enum qb_log_filter_type type, const char *text,
			   uint8_t high_priority, uint8_t low_priority);

/**
 * Install a custom filter function. It is called at once for every
 * existing callsite, then for each new callsite and whenever a log call
 * changes a callsite's tags (libqb 2.0.x also called it on every log call;
 * call qb_log_filter_fn_set() again to re-evaluate all callsites after
 * changing what the function decides). It may change `targets` and `tags`.
 * NULL removes it. @return 0, or -EINVAL before init.
 */
int32_t qb_log_filter_fn_set(qb_log_filter_fn fn);

/** Set the function that renders tags for %g (NULL: %g is empty). */
void qb_log_tags_stringify_fn_set(qb_log_tags_stringify_fn fn);

/** Timestamps handed to loggers and the blackbox carry nanoseconds. */
#define QB_FEATURE_LOG_HIRES_TIMESTAMPS 1

/**
 * Set the line format of slot @p t (NULL: "[%p] %b").
 * Specifiers: %n function, %f file basename, %l line, %p priority name,
 * %t time "Mmm DD HH:MM:SS", %T the same plus ".mmm", %b message,
 * %g tags (see qb_log_tags_stringify_fn_set()), %P pid, %N ident,
 * %H host name. %P, %N and %H are expanded when the format is set (and
 * again in a forked child, see qb_log_reflect_pid()). A width "%10n" pads
 * on the right and cuts to 10; "%-10n" pads on the left and cuts to 10.
 * Other specifiers print as empty text (padded to their width).
 * Ignored for slots outside 0..31.
 */
void qb_log_format_set(int32_t t, const char *format);

/**
 * Open @p filename for appending as a new (disabled) target.
 * @return the slot number, or -errno (-EMFILE when no slot is free).
 */
int32_t qb_log_file_open(const char *filename);

/**
 * As qb_log_file_open(), but a file this call creates gets exactly
 * @p mode (e.g. 0640; the umask does not apply); an existing file keeps
 * its mode. Reopens of the target (qb_log_file_reopen(),
 * QB_LOG_CONF_FILE_REOPEN_ON_ROTATE, qb_log_file_reopen_request()) create
 * with the same mode. qb_log_file_open() creates with 0666 less the umask.
 * Added in 2.1.0 (not in upstream libqb).
 * @return the slot number, or -errno (-EINVAL for bits outside 07777,
 * -EMFILE when no slot is free).
 */
int32_t qb_log_file_open_mode(const char *filename, mode_t mode);

/**
 * Ask every file target to reopen its path, e.g. from a SIGHUP handler
 * after logrotate renamed the files. Async-signal-safe: it only
 * increments an atomic counter; each file target reopens on its next
 * message (in the thread that writes it, the log thread for threaded
 * targets). If the path cannot be opened the target keeps its file.
 * Added in 2.1.0 (not in upstream libqb).
 */
void qb_log_file_reopen_request(void);

/** Close a file target and free its slot (its filters are dropped). */
void qb_log_file_close(int32_t t);

/**
 * Switch file target @p t to @p filename (NULL: reopen the same path, e.g.
 * after rotation). The new file is opened first; on failure the old one is
 * kept. @return 0 or -errno.
 */
int32_t qb_log_file_reopen(int32_t t, const char *filename);

/**
 * Scheduling for the log thread. SCHED_OTHER, SCHED_IDLE and SCHED_BATCH
 * use priority 0. Applied at once if the thread runs, else at start.
 * @return 0 or -errno.
 */
int32_t qb_log_thread_priority_set(int32_t policy, int32_t priority);

/**
 * Start the log thread that writes targets marked QB_LOG_CONF_THREADED.
 * Idempotent. @return 0 or -errno.
 *
 * Queue policy: messages for threaded targets are copied into a bounded
 * queue (about 512000 bytes). When it is full the message is dropped and
 * counted - the caller never blocks. The count is kept exactly (an atomic
 * counter); before writing its next message the thread logs
 * "<n> messages lost" to every threaded target that wants that message
 * (upstream printed it on stdout). Logging to a threaded slot before the
 * thread is started writes directly (upstream crashed); qb_log_fini()
 * drains the queue.
 */
int32_t qb_log_thread_start(void);

/**
 * Write the blackbox ring to @p filename (format readable by qb-blackbox
 * and by other libqb 2.x readers); the file is created (mode 0600) or
 * truncated. Async-signal-safe: no allocation, no locks, only
 * open/write/close, so it may be called from a SIGSEGV/SIGABRT handler
 * (threads logging meanwhile wait; a record being written by the
 * interrupted thread is left out). Writes nothing to stdout.
 * @return bytes written or -errno (-ENOENT when there is no blackbox).
 */
ssize_t qb_log_blackbox_write_to_file(const char *filename);

/**
 * Print a blackbox dump (or a live blackbox file) to stdout.
 * Accepts dumps of qb_log_blackbox_write_to_file() from any libqb 2.x, old
 * plain ring dumps, and the -header file of a live blackbox in /dev/shm
 * (read without disturbing its writer). Never trusts the file: a corrupt
 * one gives an error line, never a crash.
 * @return 0 when every record was printed; -errno when the file cannot be
 * read; -EIO (or -1 for a too-short record) when it is not a blackbox or is
 * corrupt (records before the damage are printed). Not signal-safe.
 */
int qb_log_blackbox_print_from_file(const char *filename);

/**
 * Open an application-defined target. @p log_fn receives the message text
 * (use qb_log_target_format() to apply the slot's format); @p close_fn and
 * @p reload_fn may be NULL. The slot starts disabled.
 * @return the slot number or -EMFILE when all dynamic slots are used.
 */
int32_t qb_log_custom_open(qb_log_logger_fn log_fn,
			   qb_log_close_fn close_fn,
			   qb_log_reload_fn reload_fn,
			   void *user_data);

/** Close a custom target (calls close_fn) and free its slot and filters. */
void qb_log_custom_close(int32_t t);

/** @return the user data of slot @p t, or NULL with errno EBADF. */
void *qb_log_target_user_data_get(int32_t t);

/**
 * Replace the user data of slot @p t.
 * @return 0, -EINVAL before init, -EBADF for a bad or unused slot.
 */
int32_t qb_log_target_user_data_set(int32_t t, void *user_data);

/**
 * Render a message with slot @p target's format into @p output_buffer,
 * which must hold the slot's max line length (QB_LOG_CONF_MAX_LINE_LEN,
 * 512 by default) bytes. Intended for custom loggers. Thread-safe.
 */
void qb_log_target_format(int32_t target,
			  struct qb_log_callsite *cs,
			  struct timespec *timestamp,
			  const char *formatted_message,
			  char *output_buffer);

/** @return the value of a syslog facility name ("daemon"), or -EINVAL. */
int32_t qb_log_facility2int(const char *fname);

/** @return the name of a syslog facility value, or NULL if unknown. */
const char *qb_log_facility2str(int32_t fnum);

/**
 * Bring logging up to date with the current process id (new in this
 * implementation). When getpid() differs from the pid logging last saw,
 * this re-expands every slot's cached format (%P, %N, %H), resets the
 * library's logging locks and log-thread state (the thread does not exist
 * in a child; it is started again if threaded targets are used) and detaches
 * the child from the parent's blackbox: the child's first log call moves it
 * to a blackbox of its own, named after the child's pid and starting with a
 * copy of the parent's records up to the fork. The parent's blackbox is
 * never renamed or written by the child (the parent may still be using it).
 * Returns at once when the pid did not change, so it is cheap and
 * idempotent.
 *
 * The child's own blackbox is the size of the parent's (so the copy is
 * whole; a child that sets QB_LOG_CONF_SIZE gets an empty one of that size
 * instead) and is removed when the child ends normally (exit(), return from
 * main, qb_log_fini()); after _exit() or a crash it stays in /dev/shm for
 * qb-blackbox. Whenever a process creates a blackbox it removes the
 * oldest dead blackboxes of its ident (owner process gone) beyond 8, or
 * beyond the number in the environment variable QB_BLACKBOX_KEEP_DEAD; see
 * qb-blackbox(8).
 *
 * It runs automatically in fork() children via pthread_atfork() handlers
 * registered by qb_log_init(). Call it yourself only after creating a
 * process with raw clone() (no atfork handlers), before the child logs.
 * Call it from the child only, while no other thread of the child logs.
 * Not async-signal-safe.
 *
 * @return 0 when nothing had to change, 1 when the pid changed and the
 * state was refreshed, -EINVAL if logging is not initialised.
 */
int32_t qb_log_reflect_pid(void);

#ifdef __cplusplus
}
#endif

#endif /* QB_LOG_H_DEFINED */
