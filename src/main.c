/* SPDX-License-Identifier: ISC */
/*
 * main.c - sockeyed: options, configuration check, then the master.
 */
#include "config_auto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "userdb.h"
#include "gssapi.h"

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

int
main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONFIG;
	struct master_options mopt = { 0 };
	struct report_ctx rctx = { 0 };
	struct config *cfg;
	struct userdb *db = NULL;
	struct auth_gss_keytab *kt = NULL;
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

	/*
	 * The same checks as every start and every reload (master_load()):
	 * -t can never pass a file the daemon would refuse, or the reverse.
	 */
	if (master_load(conf_path, NULL, report_stderr, &rctx, &cfg,
	    &db, &kt) == -1) {
		if (rctx.errors == 0)
			fprintf(stderr, "%s: invalid configuration\n", conf_path);
		return 1;
	}
	if (test_only) {
		printf("configuration OK\n");
		userdb_free(db);
		auth_gss_keytab_free(kt);
		config_free(cfg);
		return 0;
	}
	mopt.config_path = conf_path;
	return master_run(cfg, db, kt, &mopt);
}
