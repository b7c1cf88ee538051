/*
 * master.h - the master process: listeners, prefork, supervision, signals.
 * The master never reads client bytes.
 */
#ifndef SOCKEYE_MASTER_H
#define SOCKEYE_MASTER_H

struct config;

struct master_options {
	const char *port_file;	/* -P: write bound addresses here, or NULL */
	int foreground;		/* -F */
};

/*
 * Run the daemon with `cfg` (ownership passes to the master). Returns the
 * exit status: 0 after a clean stop, non-zero when it could not start.
 */
int master_run(struct config *cfg, const struct master_options *opt);

#endif
