/* SPDX-License-Identifier: ISC */
/*
 * privsep.h - privilege separation: who the workers run as, and giving
 * up root in each new worker before it touches client traffic.
 *
 * The master keeps the privileges it was started with (it must bind
 * new listeners and read the users file on reload); every worker drops
 * to `user`:`group` right after fork when the master runs as root, and
 * in every case sets PR_SET_NO_NEW_PRIVS.
 */
#ifndef SOCKEYE_PRIVSEP_H
#define SOCKEYE_PRIVSEP_H

#include <stdbool.h>
#include <sys/types.h>
#include "config.h"

/* Supplementary groups a worker keeps at most. */
#define PRIVSEP_GROUPS_MAX 64

/* Who the workers become. */
struct privsep {
	bool drop;		/* started as root: workers become uid:gid */
	uid_t uid;		/* without drop: our own effective ids */
	gid_t gid;		/* (gid_t)-1 when `group` does not exist */
	/*
	 * gid, then the supplementary groups the group database gives
	 * `user` (getgrouplist(3), as initgroups(3) does): `adduser
	 * sockeye shadow` lets the workers' PAM stack read /etc/shadow.
	 */
	gid_t groups[PRIVSEP_GROUPS_MAX];
	int ngroups;
};

/*
 * Look up `user` and `group` when running as root, and the supplementary
 * groups of `user`; otherwise the workers keep our effective uid and gid.
 * Each one that does not exist is reported through `report` as
 * (file, 0, message), naming its key; the group's id is still filled in
 * when only the user is missing. A user in more than PRIVSEP_GROUPS_MAX
 * groups is reported too. Returns 0, or -1 after reporting. Blocks on NSS
 * (files, maybe a directory service): start-up and the master only.
 */
int privsep_lookup(struct privsep *ps, const char *user, const char *group,
    const char *file, config_report_fn report, void *arg) MUST_CHECK;

/*
 * In a new worker: become ps->uid:ps->gid, with ps->groups as the
 * supplementary groups, for good when ps->drop, and set
 * PR_SET_NO_NEW_PRIVS. `user` and
 * `group` only name them in messages. Any failure is fatal(): a worker
 * must never serve with privileges it should not have.
 */
void privsep_drop(const struct privsep *ps, const char *user,
    const char *group);

/*
 * Give the log file of `cfg` (when it logs to a file and workers drop
 * privileges) to the workers' user, so that they can reopen it after a
 * rotation. A refusal (log_fchown(): a symbolic link, another file now
 * at the path, other hard links) is logged as a warning, nothing more.
 */
void privsep_chown_log(const struct privsep *ps, const struct config *cfg);

#endif
