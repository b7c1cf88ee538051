/* SPDX-License-Identifier: ISC */
/*
 * config_keys.c - see config_keys.h. The table is in the order
 * config_load() reads the keys.
 */
#include "config_auto.h"

#include <stddef.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"

#define WORDS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define EMPTY		((const char *const[]){ NULL })

#define INT(n, lo, hi, d) \
	{ .name = (n), .type = CONFIG_KEY_INT, .min = (lo), .max = (hi), \
	  .def = (d) }
#define BOOL(n, d) \
	{ .name = (n), .type = CONFIG_KEY_BOOL, .def = (d) }
#define STRING(n, d, f) \
	{ .name = (n), .type = CONFIG_KEY_STRING, .def = (d), .flags = (f) }
#define ONE_OF(n, words, d) \
	{ .name = (n), .type = CONFIG_KEY_STRING, .choices = (words), \
	  .def = (d) }
#define LIST(n, d) \
	{ .name = (n), .type = CONFIG_KEY_LIST, .def_list = (d) }
#define GROUP(n) \
	{ .name = (n), .type = CONFIG_KEY_GROUP }
#define GROUPS(n) \
	{ .name = (n), .type = CONFIG_KEY_GROUPS }

const struct config_key config_keys[] = {
	LIST("listen", WORDS("127.0.0.1:1080", "[::1]:1080")),
	GROUP("proxy_protocol"),
	LIST("proxy_protocol.listen", EMPTY),
	LIST("proxy_protocol.trusted", EMPTY),
	INT("workers", 0, 256, "0"),
	STRING("user", "sockeye", CONFIG_KEY_NOT_EMPTY | CONFIG_KEY_NO_RELOAD),
	STRING("group", "sockeye", CONFIG_KEY_NOT_EMPTY | CONFIG_KEY_NO_RELOAD),
	STRING("pid_file", "/run/sockeye/sockeyed.pid", CONFIG_KEY_NO_RELOAD),
	STRING("status_socket", NULL, 0),
	STRING("metrics_listen", NULL, 0),	/* absent or "": off */
	INT("shutdown_timeout_s", 0, 86400, "30"),
	INT("reload_drain_timeout_s", 0, RELOAD_DRAIN_TIMEOUT_MAX, "3600"),

	GROUP("log"),
	STRING("log.target", "syslog", 0),
	/* Read with log_level_parse(); the words are for messages. */
	ONE_OF("log.level",
	    WORDS("error", "warning", "info", "verbose", "debug"), "info"),
	BOOL("log.access", "true"),

	GROUP("auth"),
	LIST("auth.methods", WORDS("password")),
	STRING("auth.users_file", "/etc/sockeye/users", 0),
	/* enum chap_mutual */
	ONE_OF("auth.chap_mutual", WORDS("allow", "require", "deny"), "allow"),
	STRING("auth.chap_server_secret", "", 0),
	INT("auth.cache_ttl_s", 0, 86400, "300"),
	INT("auth.verify_threads", 1, 64, "2"),
	/* enum config_password_backend */
	ONE_OF("auth.password_backend", WORDS("file", "pam"), "file"),
	STRING("auth.pam_service", "sockeye", CONFIG_KEY_NOT_EMPTY),
	INT("auth.pam_timeout_s", 1, 300, "10"),
	STRING("auth.gssapi_keytab", "/etc/sockeye/krb5.keytab",
	    CONFIG_KEY_NOT_EMPTY),
	STRING("auth.gssapi_service", "rcmd", CONFIG_KEY_NOT_EMPTY),
	/* gss_msg.h's GSS_PROT_NONE .. _CONFIDENTIALITY */
	LIST("auth.gssapi_protection",
	    WORDS("none", "integrity", "confidentiality")),
	LIST("auth.gssapi_strip_realms", EMPTY),

	GROUP("resolver"),
	LIST("resolver.servers", EMPTY),
	INT("resolver.timeout_ms", 10, 60000, "2000"),
	INT("resolver.tries", 1, 10, "2"),

	GROUP("connect"),
	INT("connect.attempt_delay_ms", 10, 2000, "250"),
	INT("connect.resolution_delay_ms", 0, 2000, "50"),
	INT("connect.first_family_count", 1, 16, "1"),
	/* AF_INET6, AF_INET */
	ONE_OF("connect.prefer_family", WORDS("ipv6", "ipv4"), "ipv6"),
	INT("connect.timeout_s", 1, 3600, "30"),
	STRING("connect.bind_ipv4", "", 0),
	STRING("connect.bind_ipv6", "", 0),

	LIST("commands", WORDS("connect", "bind", "udp_associate")),

	GROUP("bind"),
	LIST("bind.external_addresses", EMPTY),
	LIST("bind.advertise_addresses", EMPTY),
	INT("bind.accept_timeout_s", 1, 86400, "120"),
	BOOL("bind.require_peer_match", "true"),	/* RFC 1928 checks it */

	GROUP("udp"),
	INT("udp.idle_timeout_s", 0, 86400, "300"),
	/* enum config_udp_filtering */
	ONE_OF("udp.filtering",
	    WORDS("address-dependent", "endpoint-independent"),
	    "address-dependent"),
	BOOL("udp.strict_source", "false"),
	STRING("udp.external_address", "", 0),
	STRING("udp.port_range", "", 0),

	GROUP("limits"),
	INT("limits.max_sessions", 1, 10000000, "20000"),
	INT("limits.max_sessions_per_client", 1, 10000000, "1024"),
	INT("limits.handshake_timeout_s", 1, 3600, "15"),
	INT("limits.idle_timeout_s", 0, 2592000, "7200"),
	INT("limits.max_sessions_per_user", 0, 10000000, "0"),
	INT("limits.user_bandwidth_bps", 0, 2000000000, "0"),
	INT("limits.client_prefix_ipv4", 1, 32, "32"),
	INT("limits.client_prefix_ipv6", 1, 128, "64"),

	/* Absent: anyone may connect. */
	LIST("clients", NULL),

	/* Absent: every destination allowed. Keys of an entry: */
	GROUPS("access"),
	ONE_OF("access.action", WORDS("allow", "deny"), NULL),	/* ACL_* */
	LIST("access.users", NULL),
	LIST("access.from", NULL),
	LIST("access.to", NULL),
	LIST("access.to_hosts", NULL),
	LIST("access.ports", NULL),
	LIST("access.commands", NULL),

	/* Per-user limits, first match wins; keys of an entry: */
	GROUPS("user_limits"),
	LIST("user_limits.users", NULL),
	INT("user_limits.max_sessions", 0, 10000000, NULL),
	INT("user_limits.bandwidth_bps", 0, 2000000000, NULL),

	BOOL("allow_open_proxy", "false"),

	GROUP("socks6"),
	BOOL("socks6.enable", "false"),
	BOOL("socks6.legacy_version", "false"),

	{ .name = NULL },
};

const struct config_key *
config_key_find(const char *group, const char *name)
{
	size_t glen = strlen(group);
	const struct config_key *k;

	for (k = config_keys; k->name != NULL; k++) {
		const char *dot = strchr(k->name, '.');

		if (glen == 0) {
			if (dot == NULL && strcmp(k->name, name) == 0)
				return k;
		} else if (dot != NULL && (size_t)(dot - k->name) == glen &&
		    strncmp(k->name, group, glen) == 0 &&
		    strcmp(dot + 1, name) == 0) {
			return k;
		}
	}
	return NULL;
}
