/*
 * main.c - sockeyed: options, configuration check, then the master.
 */
#include "config_auto.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "socks5.h"
#include "userdb.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/sockeye/sockeye.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sockeyed [-FhtV] [-f config] [-P portfile]\n"
	    "  -f FILE  configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -F       stay in the foreground\n"
	    "  -t       check the configuration and exit (0: OK, 1: errors)\n"
	    "  -P FILE  write the bound listening addresses to FILE\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n");
}

struct report_ctx {
	int errors;
};

/* Config errors go to stderr as FILE:LINE: message, ready for an editor. */
static void
report_stderr(void *arg, const char *file, int line, const char *msg)
{
	struct report_ctx *ctx = arg;

	ctx->errors++;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	else
		fprintf(stderr, "%s: %s\n", file, msg);
}

/* Only "password" and "chap" need the users file. */
static int
needs_users(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == SOCKS5_METHOD_PASSWORD ||
		    cfg->auth.methods[i] == SOCKS5_METHOD_CHAP)
			return 1;
	return 0;
}

/*
 * The group the workers will run as: the users file may be readable by
 * it. Started as root that is `group` (none if it does not exist: then
 * no group may read the file); otherwise our own.
 */
static gid_t
daemon_gid(const struct config *cfg)
{
	struct group *gr;

	if (geteuid() != 0)
		return getegid();
	if ((gr = getgrnam(cfg->group)) == NULL)
		return (gid_t)-1;
	return gr->gr_gid;
}

int
main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONFIG;
	struct master_options mopt = { 0 };
	struct report_ctx rctx = { 0 };
	struct config *cfg;
	struct userdb *db = NULL;
	int ch, test_only = 0;

	while ((ch = getopt(argc, argv, "f:FhtVP:")) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 'F':
			mopt.foreground = 1;
			break;
		case 't':
			test_only = 1;
			break;
		case 'P':
			mopt.port_file = optarg;
			break;
		case 'V':
			printf("sockeyed %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sockeyed: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	cfg = config_load(conf_path, report_stderr, &rctx);
	if (cfg == NULL) {
		if (rctx.errors == 0)
			fprintf(stderr, "%s: invalid configuration\n", conf_path);
		return 1;
	}
	/*
	 * The users file is read here, before the master drops anything:
	 * it need not be readable by the workers' user.
	 */
	if (needs_users(cfg)) {
		db = userdb_load(cfg->auth.users_file, true, daemon_gid(cfg),
		    report_stderr, &rctx);
		if (db == NULL) {
			if (rctx.errors == 0)
				fprintf(stderr, "%s: invalid users file\n",
				    cfg->auth.users_file);
			config_free(cfg);
			return 1;
		}
	}
	if (test_only) {
		printf("configuration OK\n");
		userdb_free(db);
		config_free(cfg);
		return 0;
	}
	return master_run(cfg, db, &mopt);
}
