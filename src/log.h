/* SPDX-License-Identifier: ISC */
/*
 * log.h - the daemon's logging: stderr, syslog or a file, with levels.
 *
 * Every macro records file and line. Lines written to stderr or a file look
 * like "2026-11-21T22:40:00.123Z sockeyed[1234]: info: message"; syslog gets
 * the message with the matching priority. Nothing here blocks for long: a
 * file target is written with one write(2) per line (O_APPEND).
 *
 * Passwords and secrets must never be passed to these functions.
 */
#ifndef SOCKEYE_LOG_H
#define SOCKEYE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include "util.h"

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_VERBOSE,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG,
	LOG_TARGET_FILE,
};

/*
 * Set up logging. `ident` names the program in each line ("sockeyed").
 * For LOG_TARGET_FILE `path` is opened O_APPEND|O_CREAT (0640). Returns 0, or
 * -1 with errno when the file cannot be opened (logging then stays on
 * stderr). May be called again to switch targets (reload, SIGUSR1 reopen).
 */
int log_init(const char *ident, enum log_target target, const char *path,
    enum log_level level) MUST_CHECK;

/* Reopen the file target (SIGUSR1, logrotate). 0 or -1 with errno. */
int log_reopen(void) MUST_CHECK;

/*
 * Give the open log file to uid:gid (the workers' user, so that they can
 * reopen it after a rotation), through its descriptor: fchown(2), never
 * by path. Done only when the configured path names that very file
 * directly: -1 with ELOOP when the path is a symbolic link, ESTALE when it
 * now names another file, EMLINK when the file has other hard links,
 * EINVAL when it is not a regular file; else fchown's result. 0 when the
 * target is not a file or already has that owner.
 */
int log_fchown(uid_t uid, gid_t gid) MUST_CHECK;

/* Current level; callers may skip building expensive messages. */
bool log_enabled(enum log_level level);

/* Parse "error", "warning", "info", "verbose", "debug". 0 or -1. */
int log_level_parse(const char *s, enum log_level *out) MUST_CHECK;

/* A short tag added after the program name, e.g. "worker 2". NULL clears. */
void log_set_tag(const char *tag);

void log_msg(enum log_level level, const char *file, int line,
    const char *func, const char *fmt, ...) PRINTF_FMT(5, 6);
void log_vmsg(enum log_level level, const char *file, int line,
    const char *func, const char *fmt, va_list ap) PRINTF_FMT(5, 0);

/* fatal(): log at error level and exit(1). Master and startup only. */
void log_fatal(const char *file, int line, const char *func,
    const char *fmt, ...) PRINTF_FMT(4, 5) NORETURN;

#define fatal(...)   log_fatal(__FILE__, __LINE__, __func__, __VA_ARGS__)
#define error(...)   log_msg(LOG_LEVEL_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define warning(...) log_msg(LOG_LEVEL_WARNING, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define logit(...)   log_msg(LOG_LEVEL_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define verbose(...) log_msg(LOG_LEVEL_VERBOSE, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define debug(...)   do { if (log_enabled(LOG_LEVEL_DEBUG)) \
		log_msg(LOG_LEVEL_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__); } while (0)

#endif
