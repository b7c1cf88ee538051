/*
 * master.h - the master process: listeners, prefork, supervision, signals.
 * The master never reads client bytes.
 */
#ifndef SOCKEYE_MASTER_H
#define SOCKEYE_MASTER_H

struct config;
struct userdb;

struct master_options {
	const char *port_file;	/* -P: write bound addresses here, or NULL */
	int foreground;		/* -F */
};

/*
 * Run the daemon with `cfg` and the users file `db` (NULL when no auth
 * method needs one), both read while still privileged; ownership of both
 * passes to the master, which hands them to every worker it forks.
 * Returns the exit status: 0 after a clean stop, non-zero when it could
 * not start.
 */
int master_run(struct config *cfg, struct userdb *db,
    const struct master_options *opt);

#endif
