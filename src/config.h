/* SPDX-License-Identifier: ISC */
/*
 * config.h - the configuration: one struct, loaded from a libconfig file.
 *
 * The module: config_parse.c reads the file (the only user of
 * <libconfig.h>), config_load.c the sections, config_rules.c the access
 * rules; config_keys.c lists the keys.
 *
 * config_load() reads the file, validates every key's type and range,
 * rejects unknown keys (a typo must never be silently ignored), and
 * reports each problem found through the caller's `report` callback as
 * (file, line, message); the caller prints it as "FILE:LINE: message". It
 * reports every error it can find, not only the first, and returns NULL if
 * there was any. A value that is valid but
 * unwise (connect.attempt_delay_ms below 100) goes through the same
 * callback with a message starting "warning: " and does not fail the load.
 * The returned config is immutable by convention and owned by the caller
 * (config_free()).
 *
 * Can block (file I/O): master and startup only, never in a worker loop.
 */
#ifndef SOCKEYE_CONFIG_H
#define SOCKEYE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "log.h"
#include "sockaddr.h"
#include "acl.h"

enum chap_mutual {
	CHAP_MUTUAL_ALLOW = 0,
	CHAP_MUTUAL_REQUIRE,
	CHAP_MUTUAL_DENY,
};

/* auth.password_backend: who checks RFC 1929 passwords. */
enum config_password_backend {
	CONFIG_PASSWORD_FILE = 0,	/* the users file */
	CONFIG_PASSWORD_PAM,		/* the PAM service auth.pam_service */
};

/* udp.filtering (RFC 4787): which remote hosts may send to a UDP client. */
enum config_udp_filtering {
	CONFIG_UDP_ADDRESS_DEPENDENT = 0,	/* only hosts it has sent to */
	CONFIG_UDP_ENDPOINT_INDEPENDENT,	/* anyone */
};

/* Bits of config.commands: 1 << SOCKS5_CMD_* */
#define CONFIG_CMD_BIT(cmd) (1u << (cmd))

/* reload_drain_timeout_s: at most 30 days. */
#define RELOAD_DRAIN_TIMEOUT_MAX (30 * 86400)

struct config_listen {
	union sockaddr_any addr;	/* port may be 0: the kernel picks one */
	int line;			/* where it was written, for messages */
	bool proxy;			/* from proxy_protocol.listen: every
					   connection starts with a PROXY header */
};

struct config {
	char *file;			/* path as given to config_load() */

	/*
	 * `listen`, then `proxy_protocol.listen` (proxy set): at least one
	 * in all.
	 */
	struct config_listen *listen;
	size_t n_listen;
	/* proxy_protocol.trusted: who may send a PROXY header (not empty
	   when a proxy listener exists). */
	struct cidr *proxy_trusted;
	size_t n_proxy_trusted;
	int workers;			/* 0: one per CPU */
	char *user;			/* used only when started as root */
	char *group;
	char *pid_file;
	char *status_socket;		/* Unix socket for status, or NULL */
	bool has_metrics_listen;	/* metrics_listen set: GET /metrics */
	union sockaddr_any metrics_listen;	/* port may be 0 */
	int shutdown_timeout_s;
	/*
	 * A reload's old generation closes the sessions it still has this
	 * long after it stopped accepting (0: at once). The value of the
	 * configuration that retires a generation applies to it.
	 */
	int reload_drain_timeout_s;

	struct {
		enum log_target target;
		char *path;		/* for LOG_TARGET_FILE */
		enum log_level level;
		bool access;		/* one line per session */
	} log;

	struct {
		uint8_t methods[4];	/* SOCKS5_METHOD_*, preference order */
		size_t n_methods;	/* at least one */
		char *users_file;
		enum chap_mutual chap_mutual;
		char *chap_server_secret;	/* "" when unset */
		int cache_ttl_s;	/* verified-credential cache; 0: off */
		int verify_threads;	/* crypt threads per worker */
		/* RFC 1929 only; CHAP always uses the users file. */
		enum config_password_backend password_backend;
		char *pam_service;	/* /etc/pam.d/NAME */
		int pam_timeout_s;	/* a PAM check is "failed" after it */
		/* GSS-API (method "gssapi") */
		char *gssapi_keytab;	/* read by the master (gssapi.h) */
		int gssapi_keytab_line;	/* where it was set; 0: default */
		char *gssapi_service;	/* acceptor: SERVICE@any host */
		unsigned gssapi_levels;	/* 1 << GSS_PROT_* allowed */
		char **gssapi_strip_realms;	/* principals lose "@REALM" */
		size_t n_gssapi_strip_realms;
	} auth;

	struct {
		union sockaddr_any *servers;	/* port 53 unless given */
		size_t n_servers;	/* 0: /etc/resolv.conf */
		int timeout_ms;
		int tries;
	} resolver;

	struct {
		int attempt_delay_ms;
		int resolution_delay_ms;
		int first_family_count;
		int prefer_family;	/* AF_INET6 or AF_INET */
		int timeout_s;
		bool has_bind_ipv4;
		union sockaddr_any bind_ipv4;	/* port 0 */
		bool has_bind_ipv6;
		union sockaddr_any bind_ipv6;
	} connect;

	unsigned commands;		/* CONFIG_CMD_BIT(SOCKS5_CMD_*) */

	/* BIND (bind.h) */
	struct {
		union sockaddr_any *external;	/* external_addresses, port 0 */
		size_t n_external;
		/*
		 * advertise_addresses, port 0: what the replies tell the
		 * client instead of the address listened on (the first of
		 * the listening address's family); need not be local.
		 */
		union sockaddr_any *advertise;
		size_t n_advertise;
		int accept_timeout_s;
		bool require_peer_match;	/* refuse 0.0.0.0 / :: requests */
	} bind;

	/* UDP ASSOCIATE (udp.h) */
	struct {
		int idle_timeout_s;		/* 0: none */
		enum config_udp_filtering filtering;
		bool strict_source;
		bool has_external;
		union sockaddr_any external;	/* external_address, port 0 */
		uint16_t port_lo, port_hi;	/* port_range; both 0: any port */
	} udp;

	struct {
		int max_sessions;
		int max_sessions_per_client;
		int handshake_timeout_s;
		int idle_timeout_s;	/* 0: no idle timeout */
		int max_sessions_per_user;	/* 0: none (user_limits may set it) */
		int user_bandwidth_bps;	/* bytes/s per user; 0: no cap */
		int client_prefix_ipv4;	/* a client is its /N network ... */
		int client_prefix_ipv6;	/* ... for max_sessions_per_client */
	} limits;

	bool has_clients;		/* false: `clients` absent, anyone may connect */
	struct cidr *clients;
	size_t n_clients;

	bool allow_open_proxy;

	/*
	 * SOCKS 6 (draft-olteanu-intarea-socks-6-12, experimental) on the
	 * same listeners: a first byte of 6 (or 0xD4 when legacy_version)
	 * is a SOCKS 6 request (session6.c).
	 */
	struct {
		bool enable;
		bool legacy_version;	/* 212 (0xD4) accepted too */
	} socks6;

	/* `access`: rules compiled at load; absent means everything allowed. */
	bool has_access;
	struct acl acl;

	/* `user_limits`: per-user overrides of limits.*_per_user; first match wins. */
	struct config_user_limit *user_limits;
	size_t n_user_limits;
};

struct config_user_limit {
	char **users;			/* names; "*" matches every user */
	size_t n_users;
	int max_sessions;		/* -1: not set here */
	int bandwidth_bps;		/* -1: not set here */
	int line;
};

/*
 * The session limit and bandwidth cap for `user` (NULL: no user): the
 * first `user_limits` entry naming it, key by key, else `limits`.
 * 0 means no limit.
 */
void config_user_limits(const struct config *cfg, const char *user,
    int *max_sessions, int *bandwidth_bps);

typedef void (*config_report_fn)(void *arg, const char *file, int line,
    const char *msg);

/*
 * Load and validate `path`. Returns a new config, or NULL after reporting
 * every error found (line 0 when no line applies, e.g. file not found).
 */
struct config *config_load(const char *path, config_report_fn report,
    void *arg) MUST_CHECK;

void config_free(struct config *cfg);

/* Whether auth.methods lists method `m` (SOCKS5_METHOD_*). */
bool config_has_method(const struct config *cfg, uint8_t m);

#endif
