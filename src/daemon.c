/* SPDX-License-Identifier: ISC */
/*
 * daemon.c - see daemon.h.
 *
 * The pid file is locked (flock) for the daemon's whole life, so a
 * second sockeyed started on the same file is refused even before the
 * first has written its pid. A detached daemon keeps the starting
 * process waiting on a pipe until it is ready: scripts and `systemctl`
 * that see the starting process exit 0 find a pid file that is there
 * and workers that accept.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "daemon.h"
#include "log.h"

/* The process started from the shell waits this long for the daemon. */
#define DAEMON_READY_TIMEOUT_MS 60000

void
daemon_init(struct daemon *d)
{
	d->pid_fd = -1;
	d->pid_file_created = false;
	d->pid_file_written = false;
	d->ready_fd = -1;
}

/* --- systemd readiness ---------------------------------------------------- */

/* sd_notify(3) when built with libsystemd and run with NOTIFY_SOCKET. */
void
daemon_notify(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sd_notify(0, buf) < 0)
		debug("sd_notify failed");
#else
	(void)fmt;
#endif
}

/* --- Pid file and daemon mode ----------------------------------------------- */

/* Whether `pid` runs the same program as we do (by its comm name). */
static bool
is_sockeyed(pid_t pid)
{
	char path[64], theirs[64], ours[64];
	ssize_t n1, n2;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno != ENOENT;	/* cannot tell: assume it is */
	n1 = read(fd, theirs, sizeof(theirs) - 1);
	close(fd);
	if ((fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC)) == -1)
		return true;
	n2 = read(fd, ours, sizeof(ours) - 1);
	close(fd);
	if (n1 <= 0 || n2 <= 0)
		return true;
	theirs[n1] = '\0';
	ours[n2] = '\0';
	return strcmp(theirs, ours) == 0;
}

/*
 * Open and lock pid_file, refusing when another sockeyed holds it or it
 * names a live sockeyed. The lock is held for the daemon's life.
 */
int
daemon_pid_file_open(struct daemon *d, const char *path)
{
	char buf[32];
	struct stat st;
	ssize_t n;
	long pid;
	int fd;

	d->pid_file_created = stat(path, &st) == -1 && errno == ENOENT;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		error("cannot open pid file %s: %s", path, strerror(errno));
		return -1;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, NULL, 10);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		error("%s is locked by a running sockeyed (pid %ld): is "
		    "sockeyed already running?", path, pid);
		close(fd);
		return -1;
	}
	if (pid > 0 && pid != (long)getpid() &&
	    (kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
	    is_sockeyed((pid_t)pid)) {
		error("%s names a running sockeyed (pid %ld): is sockeyed "
		    "already running?", path, pid);
		close(fd);
		return -1;
	}
	if (pid > 0)
		verbose("%s names pid %ld, which is not a running sockeyed: "
		    "replacing it", path, pid);
	d->pid_fd = fd;
	return 0;
}

int
daemon_pid_file_write(struct daemon *d, const char *path)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(d->pid_fd, 0) == -1 ||
	    pwrite(d->pid_fd, buf, (size_t)n, 0) != n) {
		error("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	d->pid_file_written = true;
	return 0;
}

void
daemon_pid_file_remove(struct daemon *d, const char *path)
{
	if (d->pid_fd == -1)
		return;
	if (d->pid_file_written || d->pid_file_created)
		unlink(path);
	close(d->pid_fd);
	d->pid_fd = -1;
}

/*
 * Detach. The starting process waits until the daemon says it is ready
 * (pid file written, workers up) and exits 0, or 1 when the daemon
 * failed first: scripts and `systemctl` see a pid file that is there.
 */
int
daemon_detach(struct daemon *d, bool keep_stderr)
{
	struct pollfd pfd;
	uint64_t until;
	char c = 0;
	pid_t pid;
	int p[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid != 0) {
		close(p[1]);
		until = util_now_ms() + DAEMON_READY_TIMEOUT_MS;
		pfd.fd = p[0];
		pfd.events = POLLIN;
		for (;;) {
			uint64_t now = util_now_ms();
			int r;

			if (now >= until) {
				fprintf(stderr, "sockeyed: the daemon (pid %ld) "
				    "did not report ready within %d s; see the "
				    "log\n", (long)pid,
				    DAEMON_READY_TIMEOUT_MS / 1000);
				_exit(1);
			}
			r = poll(&pfd, 1, (int)(until - now));
			if (r == -1 && errno == EINTR)
				continue;
			if (r == 1 && read(p[0], &c, 1) == 1 && c == 'R')
				_exit(0);
			if (r != 0)
				break;
		}
		fprintf(stderr, "sockeyed: the daemon failed to start; see "
		    "the log\n");
		_exit(1);
	}
	close(p[0]);
	d->ready_fd = p[1];
	if (setsid() == -1)
		return -1;
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		/* stderr stays only if it is where the log goes. */
		if (!keep_stderr)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

bool
daemon_starter_waits(const struct daemon *d)
{
	return d->ready_fd != -1;
}

/* The starting process may exit now (0), or must fail (1). */
void
daemon_release_starter(struct daemon *d, bool ok)
{
	if (d->ready_fd == -1)
		return;
	if (ok && write(d->ready_fd, "R", 1) != 1)
		error("cannot tell the starting process: %s", strerror(errno));
	close(d->ready_fd);
	d->ready_fd = -1;
}

void
daemon_child_close(struct daemon *d)
{
	if (d->pid_fd != -1)
		close(d->pid_fd);
	d->pid_fd = -1;
	if (d->ready_fd != -1)
		close(d->ready_fd);
	d->ready_fd = -1;
}
