/* SPDX-License-Identifier: ISC */
/*
 * privsep.c - see privsep.h.
 */
#include "config_auto.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

int
privsep_lookup(struct privsep *ps, const char *user, const char *group,
    const char *file, config_report_fn report, void *arg)
{
	struct passwd *pw;
	struct group *gr;
	char msg[512];
	int ret = 0;

	ps->drop = false;
	ps->uid = geteuid();
	ps->gid = getegid();
	if (geteuid() != 0)
		return 0;
	ps->drop = true;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(msg, sizeof(msg), "user \"%s\" does not exist (key "
		    "'user')", user);
		report(arg, file, 0, msg);
		ret = -1;
	} else {
		ps->uid = pw->pw_uid;
	}
	if ((gr = getgrnam(group)) == NULL) {
		snprintf(msg, sizeof(msg), "group \"%s\" does not exist (key "
		    "'group')", group);
		report(arg, file, 0, msg);
		ps->gid = (gid_t)-1;
		ret = -1;
	} else {
		ps->gid = gr->gr_gid;
	}
	ps->groups[0] = ps->gid;
	ps->ngroups = 1;
	/*
	 * The groups /etc/group (or the directory) gives the user, as a
	 * login would: the workers' PAM stack may need one (pam_unix
	 * reads /etc/shadow only as a member of group shadow).
	 */
	if (ret == 0) {
		int n = PRIVSEP_GROUPS_MAX;

		if (getgrouplist(user, ps->gid, ps->groups, &n) == -1) {
			snprintf(msg, sizeof(msg), "user \"%s\" (key 'user') "
			    "is in more than %d groups", user,
			    PRIVSEP_GROUPS_MAX);
			report(arg, file, 0, msg);
			ps->ngroups = 1;
			ret = -1;
		} else {
			ps->ngroups = n;
		}
	}
	return ret;
}

/* In a new worker: give up root for good before touching client traffic. */
void
privsep_drop(const struct privsep *ps, const char *user, const char *group)
{
	if (ps->drop) {
		if (setgroups((size_t)ps->ngroups, ps->groups) == -1 ||
		    setgid(ps->gid) == -1 || setuid(ps->uid) == -1)
			fatal("cannot drop privileges to %s:%s: %s",
			    user, group, strerror(errno));
		/* Paranoia: regaining root must be impossible now. */
		if (ps->uid != 0 && setuid(0) != -1)
			fatal("privileges were not dropped");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
}

/*
 * The log file belongs to the workers' user, so that workers, which no
 * longer have privileges, can reopen it after a rotation. Through the
 * open descriptor (log_fchown()): a symbolic link planted at the path
 * must not make root give some other file away.
 */
void
privsep_chown_log(const struct privsep *ps, const struct config *cfg)
{
	if (ps->drop && cfg->log.target == LOG_TARGET_FILE &&
	    log_fchown(ps->uid, ps->gid) == -1)
		warning("not giving the log file %s to %s:%s: %s",
		    cfg->log.path, cfg->user, cfg->group,
		    errno == ELOOP ? "it is a symbolic link" :
		    errno == ESTALE ? "the path now names another file" :
		    errno == EMLINK ? "it has other hard links" :
		    strerror(errno));
}
