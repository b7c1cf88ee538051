/* SPDX-License-Identifier: ISC */
/*
 * worker.h - one worker process: an ev loop that accepts on the shared
 * listeners and runs sessions until told to stop.
 */
#ifndef SOCKEYE_WORKER_H
#define SOCKEYE_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct config;
struct listener;
struct userdb;
struct auth_gss_keytab;
struct failtab;
struct quota;
struct status;

/*
 * The control socket between the master and a worker: a SOCK_SEQPACKET
 * socketpair, one struct worker_ctl_msg per packet.
 *   worker -> master  WORKER_CTL_READY   set up, waiting to accept (once)
 *   master -> worker  WORKER_CTL_ACCEPT  start accepting; the master sends
 *                                        it when the worker's generation
 *                                        takes over (a reload switches
 *                                        only once every new worker is
 *                                        ready), so a generation that
 *                                        fails to start never served
 *   master -> worker  WORKER_CTL_DRAIN   reload: stop accepting, close the
 *                                        listeners, exit when the last
 *                                        session has ended, and end the
 *                                        sessions left after timeout_s
 *                                        (reload_drain_timeout_s; 0: at
 *                                        once) with end=reload-deadline
 *   master -> worker  WORKER_CTL_STOP    shutdown: the same, but the
 *                                        sessions left after timeout_s
 *                                        end with end=shutdown
 * A later DRAIN or STOP may shorten the deadline, never lengthen it.
 * A worker that sees the master's end close stops as on SIGTERM.
 */
enum worker_ctl_cmd {
	WORKER_CTL_READY = 'R',
	WORKER_CTL_ACCEPT = 'A',
	WORKER_CTL_DRAIN = 'D',
	WORKER_CTL_STOP = 'S',
};

struct worker_ctl_msg {
	uint8_t cmd;		/* enum worker_ctl_cmd */
	uint8_t pad[3];
	uint32_t timeout_s;	/* WORKER_CTL_DRAIN, WORKER_CTL_STOP */
};

/* What the master gives a worker it forks. */
struct worker_setup {
	const struct config *cfg;
	const struct userdb *db;	/* users file, or NULL: only read */
	/* auth.gssapi_keytab in memory (gssapi.h), or NULL: only read */
	const struct auth_gss_keytab *kt;
	const struct listener *ls;	/* this generation's listeners */
	size_t nls;
	/*
	 * This worker's slot in the shared regions: the only slot it may
	 * write in the quota region (quota_acquire_client(),
	 * quota_release_client(), quota_acquire_user(), ... take it) and in
	 * the status counters. A slot belongs to one live worker at a time;
	 * the master clears it (quota_clear_slot()) when its worker is gone,
	 * before it gives the slot to another one. During a reload the
	 * draining workers of the old generation keep their slots, the new
	 * ones get free slots. It is also the "worker N" of the log lines.
	 */
	int slot;
	unsigned generation;		/* 1 at start, +1 per reload */
	int ctl_fd;			/* control socket to the master, or -1 */
	struct quota *quota;		/* shared regions, made by the master;
					   NULL only in unit tests */
	struct failtab *failtab;	/* failed logins, all workers (failtab.h) */
	struct status *status;
};

/*
 * Run the worker in the current (already forked, privilege-dropped)
 * process. With a control socket it accepts only once the master says
 * WORKER_CTL_ACCEPT; without one (ctl_fd -1), at once. Returns the
 * process exit status when the loop has ended: after a drain (reload)
 * or a stop (SIGTERM, or a stop message on the control socket), once
 * every session has finished or the deadline has passed; 1 when it
 * could not start (the master then sees it die before READY).
 */
int worker_run(const struct worker_setup *ws);

#endif
