/* SPDX-License-Identifier: ISC */
/*
 * master_load.c - master_load() (see master.h): what a configuration
 * must pass before anything runs it.
 *
 * The one path behind `sockeyed -t`, the start and every SIGHUP reload,
 * so that the three can never disagree: the config file, the keys that
 * cannot change while running, the workers' user and group, and the
 * users file, read with the privileges sockeyed was started with.
 */
#include "config_auto.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "master.h"
#include "privsep.h"
#include "socks5.h"
#include "userdb.h"
#include "gssapi.h"

/*
 * Only "chap" and "password" need the users file, and "password" only
 * when the file checks passwords: with auth.password_backend = "pam" it
 * is read for CHAP's secrets alone, and not at all without "chap".
 */
static bool
needs_users(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == SOCKS5_METHOD_CHAP ||
		    (cfg->auth.methods[i] == SOCKS5_METHOD_PASSWORD &&
		    cfg->auth.password_backend == CONFIG_PASSWORD_FILE))
			return true;
	return false;
}

/* Keep a running value of a key that cannot change live. */
static void
keep_running(config_report_fn report, void *arg, const char *file,
    const char *key, char **newval, const char *oldval)
{
	char msg[512];

	if (strcmp(*newval, oldval) == 0)
		return;
	snprintf(msg, sizeof(msg), "warning: '%s' cannot change on reload: "
	    "still \"%s\" until sockeyed is restarted", key, oldval);
	report(arg, file, 0, msg);
	free(*newval);
	*newval = xstrdup(oldval);
}

int
master_load(const char *path, const struct config *running,
    config_report_fn report, void *arg, struct config **cfgp,
    struct userdb **dbp, struct auth_gss_keytab **ktp)
{
	struct config *cfg;
	struct userdb *db = NULL;
	struct auth_gss_keytab *kt = NULL;
	struct privsep ps;
	int bad = 0;

	*cfgp = NULL;
	*dbp = NULL;
	*ktp = NULL;
	cfg = config_load(path, report, arg);
	if (cfg == NULL)
		return -1;
	if (running != NULL) {
		keep_running(report, arg, cfg->file, "user", &cfg->user,
		    running->user);
		keep_running(report, arg, cfg->file, "group", &cfg->group,
		    running->group);
		keep_running(report, arg, cfg->file, "pid_file",
		    &cfg->pid_file, running->pid_file);
	}
	/*
	 * As root the workers become `user`:`group`, which must exist; the
	 * users file may be readable by that group (else by no group).
	 */
	if (privsep_lookup(&ps, cfg->user, cfg->group, cfg->file, report,
	    arg) == -1)
		bad = 1;
	/* The users file is read here, with the privileges we started with. */
	if (needs_users(cfg)) {
		db = userdb_load(cfg->auth.users_file, true, ps.gid,
		    report, arg);
		if (db == NULL)
			bad = 1;
	}
	/* So is the keytab, into memory: the workers inherit the copy. */
	if (config_has_method(cfg, SOCKS5_METHOD_GSSAPI)) {
		char err[1024];

		kt = auth_gss_keytab_load(cfg->auth.gssapi_keytab,
		    cfg->auth.gssapi_service, err, sizeof(err));
		if (kt == NULL) {
			report(arg, cfg->file, cfg->auth.gssapi_keytab_line,
			    err);
			bad = 1;
		}
	}
	if (bad) {
		userdb_free(db);
		auth_gss_keytab_free(kt);
		config_free(cfg);
		return -1;
	}
	*cfgp = cfg;
	*dbp = db;
	*ktp = kt;
	return 0;
}
