/* SPDX-License-Identifier: ISC */
/*
 * daemon.h - what the master owes whoever started it: the pid file,
 * detaching from the terminal (daemon mode), and saying when it is ready
 * (to the starting process, and to systemd through sd_notify(3)).
 *
 * The master and start-up only; everything here may block briefly (file
 * I/O), and daemon_detach() blocks the starting process until the daemon
 * is ready.
 */
#ifndef SOCKEYE_DAEMON_H
#define SOCKEYE_DAEMON_H

#include <stdbool.h>
#include "util.h"

/*
 * The master's pid file and the pipe to the process that started it.
 * Set it up with daemon_init(); the fields are daemon.c's own.
 */
struct daemon {
	int pid_fd;		/* the locked pid file, or -1 */
	bool pid_file_created;	/* it did not exist: ours to remove */
	bool pid_file_written;
	int ready_fd;		/* detached: pipe to the starter, or -1 */
};

/* No pid file, not detached. */
void daemon_init(struct daemon *d);

/*
 * Open and lock the pid file `path`, refusing when another sockeyed
 * holds it or it names a live sockeyed (both logged). The lock is held
 * until daemon_pid_file_remove(). Returns 0 or -1.
 */
int daemon_pid_file_open(struct daemon *d, const char *path) MUST_CHECK;

/* Write our pid into the open pid file `path`. 0, or -1 (logged). */
int daemon_pid_file_write(struct daemon *d, const char *path) MUST_CHECK;

/*
 * Remove the pid file `path` (when we wrote or created it) and drop the
 * lock. A no-op when none is open.
 */
void daemon_pid_file_remove(struct daemon *d, const char *path);

/*
 * Detach: fork, and in the parent wait until the daemon calls
 * daemon_release_starter() (exit 0 when it says ready, 1 when it fails
 * or says nothing for a minute; the parent never returns). The child
 * returns 0 in a new session, in /, with stdin and stdout on /dev/null,
 * and stderr too unless `keep_stderr` (the log goes there). -1 with
 * errno when it cannot.
 */
int daemon_detach(struct daemon *d, bool keep_stderr) MUST_CHECK;

/* Whether a starting process waits for daemon_release_starter(). */
bool daemon_starter_waits(const struct daemon *d);

/*
 * Let the starting process exit: 0 when `ok` (the daemon serves), else
 * 1. Only the first call counts; a no-op when not detached.
 */
void daemon_release_starter(struct daemon *d, bool ok);

/*
 * In a worker just forked: close the master's pid file and pipe (the
 * lock stays the master's), without removing anything.
 */
void daemon_child_close(struct daemon *d);

/*
 * sd_notify(3) the formatted state ("READY=1", "RELOADING=1", ...) when
 * built with libsystemd and run with NOTIFY_SOCKET; else nothing.
 * Failures are logged at debug only.
 */
void daemon_notify(const char *fmt, ...) PRINTF_FMT(1, 2);

#endif
