/* SPDX-License-Identifier: ISC */
/*
 * master.h - the master process: listeners, prefork, generations of
 * workers, reload, signals, daemon mode, readiness, the status socket.
 * The master never reads client bytes. It decides; its parts act:
 * generation.h (the workers), listener.h (listeners across reloads),
 * privsep.h (privilege drop), daemon.h (pid file, readiness).
 */
#ifndef SOCKEYE_MASTER_H
#define SOCKEYE_MASTER_H

#include "config.h"

struct userdb;

struct master_options {
	const char *config_path;	/* -f, as given: re-read on SIGHUP */
	const char *port_file;	/* -P: write bound addresses here, or NULL */
	int foreground;		/* -F */
};

/*
 * Read and check everything start-up needs before it touches the system:
 * the config file, the users file (when an auth method needs it; with
 * the mode check against the workers' group) and, when running as root,
 * that `user` and `group` exist. Every problem goes to `report` as
 * (file, line, message), line 0 when none applies. This is the one path
 * behind `sockeyed -t`, the start and every SIGHUP reload, so the three
 * can never disagree.
 *
 * `running` is the configuration in use during a reload, NULL otherwise:
 * keys that cannot change while running (user, group, pid_file) keep
 * their running values, with a warning through `report` when the file
 * changed them.
 *
 * The keytab of method "gssapi" (auth.gssapi_keytab) is read here too,
 * into memory (gssapi.h), so that the file may be root's alone.
 *
 * Returns 0 with *cfgp, *dbp and *ktp set (*dbp NULL when no method
 * needs the users file, *ktp NULL without "gssapi"; the caller owns
 * all three), or -1 after reporting. Blocks (file I/O): start-up and
 * the master only.
 */
struct auth_gss_keytab;
int master_load(const char *path, const struct config *running,
    config_report_fn report, void *arg, struct config **cfgp,
    struct userdb **dbp, struct auth_gss_keytab **ktp) MUST_CHECK;

/*
 * Run the daemon with `cfg`, the users file `db` (NULL when no auth
 * method needs one) and the keytab `kt` (NULL without "gssapi"), all
 * from master_load(); ownership of all three passes
 * to the master, which hands them to every worker it forks. Returns the
 * exit status: 0 after a clean stop, non-zero when it could not start.
 * Without opt->foreground, the calling process exits inside (0 once the
 * daemon is ready, 1 when it failed to start) and only the detached
 * daemon returns.
 */
int master_run(struct config *cfg, struct userdb *db,
    struct auth_gss_keytab *kt, const struct master_options *opt);

#endif
