/* SPDX-License-Identifier: ISC */
/*
 * log.c - see log.h.
 *
 * One line is formatted into a stack buffer and written with a single
 * write(2), so lines from several workers sharing stderr or a file do not
 * interleave (O_APPEND writes of < PIPE_BUF are atomic in practice).
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static struct {
	char ident[32];
	char tag[32];
	enum log_target target;
	enum log_level level;
	char *path;
	int fd;			/* stderr or the file */
} L = {
	.ident = "sockeye",
	.target = LOG_TARGET_STDERR,
	.level = LOG_LEVEL_INFO,
	.fd = 2,
};

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_VERBOSE] = "verbose",
	[LOG_LEVEL_DEBUG] = "debug",
};

static const int level_prio[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_VERBOSE] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static int
open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	return fd;
}

/* util's fatal errors (BUG_ON, out of memory) are logged like ours. */
static void
log_util_fatal(const char *file, int line, const char *func, const char *msg)
{
	log_msg(LOG_LEVEL_ERROR, file, line, func, "%s", msg);
}

int
log_init(const char *ident, enum log_target target, const char *path,
    enum log_level level)
{
	int fd = -1;

	util_set_fatal_hook(log_util_fatal);
	if (ident != NULL)
		util_strlcpy(L.ident, ident, sizeof(L.ident));
	L.level = level;
	if (target == LOG_TARGET_FILE) {
		if (path == NULL || (fd = open_file(path)) == -1) {
			int e = errno;

			target = LOG_TARGET_STDERR;
			if (path == NULL)
				e = EINVAL;
			if (L.fd > 2)
				close(L.fd);
			L.fd = 2;
			L.target = target;
			errno = e;
			return -1;
		}
	}
	if (L.target == LOG_TARGET_SYSLOG && target != LOG_TARGET_SYSLOG)
		closelog();
	if (L.fd > 2)
		close(L.fd);
	free(L.path);
	L.path = path != NULL && target == LOG_TARGET_FILE ? strdup(path) : NULL;
	L.target = target;
	L.fd = target == LOG_TARGET_FILE ? fd : 2;
	if (target == LOG_TARGET_SYSLOG)
		openlog(L.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (L.target != LOG_TARGET_FILE || L.path == NULL)
		return 0;
	if ((fd = open_file(L.path)) == -1)
		return -1;
	/* dup2 keeps the fd number, so a concurrent writer never sees a gap. */
	if (dup2(fd, L.fd) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
log_fchown(uid_t uid, gid_t gid)
{
	struct stat fst, pst;

	if (L.target != LOG_TARGET_FILE || L.path == NULL || L.fd <= 2)
		return 0;
	if (fstat(L.fd, &fst) == -1)
		return -1;
	if (fst.st_uid == uid && fst.st_gid == gid)
		return 0;
	/*
	 * Only the file the path names directly: not through a symbolic
	 * link (whoever can write the directory could point it at any file
	 * for us to give away), not a file with other names (a hard link to
	 * it elsewhere), not a device.
	 */
	if (!S_ISREG(fst.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (lstat(L.path, &pst) == -1)
		return -1;
	if (S_ISLNK(pst.st_mode)) {
		errno = ELOOP;
		return -1;
	}
	if (pst.st_dev != fst.st_dev || pst.st_ino != fst.st_ino) {
		errno = ESTALE;
		return -1;
	}
	if (fst.st_nlink != 1) {
		errno = EMLINK;
		return -1;
	}
	return fchown(L.fd, uid, gid);
}

bool
log_enabled(enum log_level level)
{
	return level <= L.level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_tag(const char *tag)
{
	if (tag == NULL)
		L.tag[0] = '\0';
	else
		util_strlcpy(L.tag, tag, sizeof(L.tag));
}

void
log_vmsg(enum log_level level, const char *file, int line, const char *func,
    const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t n = 0;
	int r, saved_errno = errno;

	if (!log_enabled(level))
		return;
	if (L.target != LOG_TARGET_SYSLOG) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(buf + n, sizeof(buf) - n, ".%03ldZ %s[%ld]: ",
		    (long)tv.tv_usec / 1000, L.ident, (long)getpid());
		if (r > 0)
			n += (size_t)r;
	}
	if (L.tag[0] != '\0' && n < sizeof(buf)) {
		r = snprintf(buf + n, sizeof(buf) - n, "%s: ", L.tag);
		if (r > 0)
			n += (size_t)r;
	}
	if (n < sizeof(buf)) {
		r = snprintf(buf + n, sizeof(buf) - n, "%s: ", level_names[level]);
		if (r > 0)
			n += (size_t)r;
	}
	/* Source location only where it helps: debug, or errors. */
	if ((level == LOG_LEVEL_DEBUG || level == LOG_LEVEL_ERROR) &&
	    n < sizeof(buf) && file != NULL) {
		const char *base = strrchr(file, '/');

		r = snprintf(buf + n, sizeof(buf) - n, "%s:%d: %s: ",
		    base != NULL ? base + 1 : file, line, func);
		if (r > 0)
			n += (size_t)r;
	}
	if (n < sizeof(buf)) {
		errno = saved_errno;	/* so %m works */
		r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (L.target == LOG_TARGET_SYSLOG) {
		buf[n] = '\0';
		syslog(level_prio[level], "%s", buf);
	} else {
		ssize_t w;

		buf[n++] = '\n';
		do
			w = write(L.fd, buf, n);
		while (w == -1 && errno == EINTR);
	}
	errno = saved_errno;
}

void
log_msg(enum log_level level, const char *file, int line, const char *func,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, file, line, func, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, file, line, func, fmt, ap);
	va_end(ap);
	exit(1);
}
