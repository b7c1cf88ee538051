/* SPDX-License-Identifier: ISC */
/*
 * config_load.c - config_load(): the file, section by section, into a
 * fresh struct config; config_free().
 *
 * Each section loader reads its keys with config_parse.c's typed getters,
 * which take ranges, words and defaults from config_keys.c's table, and
 * turns the values into the struct's types (addresses, enums, bit sets).
 * The access rules, user limits and clients are config_rules.c's.
 */
#include "config_auto.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_int.h"
#include "socks5.h"
#include "text.h"
#include "util.h"

/*
 * Append the addresses of `prefix``name` to cfg->listen, marked `proxy`.
 * An address listed twice (in either list) is an error: the second bind
 * would fail later.
 */
static int
config_listen_list(struct config_ctx *ctx, const struct config_node *g,
    const char *prefix, const char *name, bool proxy)
{
	struct config *cfg = ctx->cfg;
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	size_t j;
	int n;

	n = config_strings_begin(ctx, g, prefix, name, "\"IP:PORT\" strings",
	    NULL, &it);
	if (n <= 0)
		return n;
	cfg->listen = xrealloc(cfg->listen, cfg->n_listen + (size_t)n,
	    sizeof(*cfg->listen));
	while (config_strings_next(ctx, &it)) {
		struct config_listen *l = &cfg->listen[cfg->n_listen];
		const char *v = it.v;

		memset(l, 0, sizeof(*l));
		if (sockaddr_parse_hostport(v, &l->addr) == -1) {
			config_report(ctx, it.list, it.line, "'%s%s': \"%s\" "
			    "is not \"IP:PORT\" or \"[IPv6]:PORT\"", prefix,
			    name, text_quote(q, sizeof(q), v, TEXT_CSTR));
			continue;
		}
		for (j = 0; j < cfg->n_listen; j++)
			if (sockaddr_equal(&cfg->listen[j].addr.sa, &l->addr.sa))
				break;
		if (j < cfg->n_listen && sockaddr_port(&l->addr.sa) != 0) {
			config_report(ctx, it.list, it.line, "'%s%s': \"%s\" "
			    "is listed twice%s", prefix, name,
			    text_quote(q, sizeof(q), v, TEXT_CSTR),
			    cfg->listen[j].proxy != proxy ? " (in 'listen' and "
			    "'proxy_protocol.listen')" : "");
			continue;
		}
		l->line = it.line;
		l->proxy = proxy;
		cfg->n_listen++;
	}
	return n;
}

/*
 * `listen`, and `proxy_protocol`: its listeners (after the plain ones)
 * and the networks that may send a PROXY header to them.
 */
static void
config_load_listen(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	size_t plain;
	int n, np;

	n = config_listen_list(ctx, root, "", "listen", false);
	plain = cfg->n_listen;
	g = config_group(ctx, root, "proxy_protocol");
	np = config_listen_list(ctx, g, "proxy_protocol.", "listen", true);
	/* `listen = [ ]` is fine when proxy_protocol.listen has some. */
	if (n == 0 && np <= 0)
		config_error(ctx, config_member(root, "listen"), "'listen' "
		    "must list at least one address");

	n = config_strings_begin(ctx, g, "proxy_protocol.", "trusted",
	    "networks", NULL, &it);
	if (n > 0) {
		cfg->proxy_trusted = xcalloc((size_t)n,
		    sizeof(*cfg->proxy_trusted));
		while (config_strings_next(ctx, &it)) {
			if (cidr_parse(it.v, &cfg->proxy_trusted[
			    cfg->n_proxy_trusted]) == -1) {
				config_report(ctx, it.list, it.line,
				    "'proxy_protocol.trusted': \"%s\" is not "
				    "a network such as \"10.0.0.0/8\", "
				    "\"2001:db8::/32\" or an address",
				    text_quote(q, sizeof(q), it.v, TEXT_CSTR));
				continue;
			}
			cfg->n_proxy_trusted++;
		}
	}
	/*
	 * A PROXY header says who the client is: taken from anyone, it
	 * would let anyone claim any address past `clients` and the rules.
	 */
	if (cfg->n_listen > plain && n == 0 && g != NULL)
		config_error(ctx, g, "'proxy_protocol.trusted' must list the "
		    "networks of the balancers that send PROXY headers "
		    "(\"0.0.0.0/0\" and \"::/0\" if really anyone)");
}

static void
config_load_log(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	const char *v;
	char q[CONFIG_QUOTE_MAX];
	int level;

	g = config_group(ctx, root, "log");
	v = config_string(ctx, g, "log.", "target", &s);
	if (v != NULL) {
		if (strcmp(v, "syslog") == 0) {
			cfg->log.target = LOG_TARGET_SYSLOG;
		} else if (strcmp(v, "stderr") == 0) {
			cfg->log.target = LOG_TARGET_STDERR;
		} else if (v[0] == '/') {
			cfg->log.target = LOG_TARGET_FILE;
			cfg->log.path = xstrdup(v);
		} else {
			config_error(ctx, s, "'log.target' must be \"syslog\", "
			    "\"stderr\" or an absolute path starting with "
			    "\"/\", not \"%s\"",
			    text_quote(q, sizeof(q), v, TEXT_CSTR));
		}
	}
	v = config_string(ctx, g, "log.", "level", &s);
	if (v != NULL) {
		enum log_level l;

		if (log_level_parse(v, &l) == 0) {
			cfg->log.level = l;
		} else {
			/* config_choice() words the message like every other. */
			level = -1;
			config_choice(ctx, g, "log.", "level", &level);
		}
	}
	config_bool(ctx, g, "log.", "access", &cfg->log.access);
}

/*
 * Which methods this build can serve: "gssapi" needs GSS-API. (A method
 * that parsed here but could not be served would leave a daemon that
 * lets nobody in, so an unsupported one is an error, not a warning.)
 */
static bool
config_method_supported(uint8_t m)
{
#ifdef HAVE_GSSAPI
	if (m == SOCKS5_METHOD_GSSAPI)
		return true;
#endif
	return m == SOCKS5_METHOD_NONE || m == SOCKS5_METHOD_PASSWORD ||
	    m == SOCKS5_METHOD_CHAP;
}

/*
 * A server-wide CHAP secret in the config makes the config as sensitive
 * as the users file: refuse it in a file that everybody can read.
 */
static void
config_check_secret_mode(struct config_ctx *ctx, const struct config_node *g)
{
	const struct config_node *s = config_member(g, "chap_server_secret");
	const char *file;
	struct stat st;

	if (s == NULL || ctx->cfg->auth.chap_server_secret == NULL ||
	    ctx->cfg->auth.chap_server_secret[0] == '\0')
		return;
	file = config_node_file(ctx, s);
	if (stat(file, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)))
		config_error(ctx, s, "'auth.chap_server_secret' is set, but "
		    "%s can be read by others (mode %04o); run chmod o-rw on "
		    "it", file, (unsigned)st.st_mode & 07777);
}

/*
 * auth.password_backend and the PAM keys. "pam" in a build without
 * libpam is an error, not a warning: the daemon would let nobody in.
 */
static void
config_load_pam(struct config_ctx *ctx, const struct config_node *g)
{
	struct config *cfg = ctx->cfg;
	char q[CONFIG_QUOTE_MAX];
	const char *v;
	int choice = 0;
	size_t i;

	config_choice(ctx, g, "auth.", "password_backend", &choice);
	cfg->auth.password_backend = (enum config_password_backend)choice;
#ifndef HAVE_PAM
	if (cfg->auth.password_backend == CONFIG_PASSWORD_PAM)
		config_error(ctx, config_member(g, "password_backend"),
		    "'auth.password_backend' is \"pam\", but this sockeyed "
		    "was built without PAM (configure found no libpam, or was "
		    "given --without-pam)");
#endif
	if (cfg->auth.password_backend == CONFIG_PASSWORD_PAM) {
		for (i = 0; i < cfg->auth.n_methods; i++)
			if (cfg->auth.methods[i] == SOCKS5_METHOD_PASSWORD)
				break;
		if (i == cfg->auth.n_methods)
			config_warn(ctx, config_member(g, "password_backend"),
			    "'auth.password_backend' is \"pam\", but "
			    "'auth.methods' does not list \"password\": PAM "
			    "is not used");
	}
	config_string_dup(ctx, g, "auth.", "pam_service",
	    &cfg->auth.pam_service);
	/* libpam would take "../x" or "a/b" as the name after the last '/'. */
	v = cfg->auth.pam_service;
	if (v != NULL && (strchr(v, '/') != NULL || strcmp(v, ".") == 0 ||
	    strcmp(v, "..") == 0))
		config_error(ctx, config_member(g, "pam_service"),
		    "'auth.pam_service' must be the name of a service (a file "
		    "in /etc/pam.d), not a path: \"%s\"",
		    text_quote(q, sizeof(q), v, TEXT_CSTR));
	config_int(ctx, g, "auth.", "pam_timeout_s", &cfg->auth.pam_timeout_s);
}

/*
 * The GSS-API keys. The keytab itself is read by master_load(), with
 * the privileges sockeyed started with.
 */
static void
config_load_gssapi(struct config_ctx *ctx, const struct config_node *g)
{
	static const char *const levels[] = {
		"none", "integrity", "confidentiality", NULL,
	};
	struct config *cfg = ctx->cfg;
	const struct config_node *kn;
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	int n, l;

	config_string_dup(ctx, g, "auth.", "gssapi_keytab",
	    &cfg->auth.gssapi_keytab);
	if ((kn = config_member(g, "gssapi_keytab")) != NULL)
		cfg->auth.gssapi_keytab_line = config_node_line(kn);
	config_string_dup(ctx, g, "auth.", "gssapi_service",
	    &cfg->auth.gssapi_service);
	cfg->auth.gssapi_levels = 0;
	(void)config_strings_begin(ctx, g, "auth.", "gssapi_protection",
	    "protection levels", "must list at least one level", &it);
	while (config_strings_next(ctx, &it)) {
		if ((l = config_word(levels, it.v)) == -1) {
			config_report(ctx, it.list, it.line,
			    "'auth.gssapi_protection': unknown level \"%s\" "
			    "(\"none\", \"integrity\" or \"confidentiality\")",
			    text_quote(q, sizeof(q), it.v, TEXT_CSTR));
			continue;
		}
		cfg->auth.gssapi_levels |= 1u << l;
	}
	n = config_strings_begin(ctx, g, "auth.", "gssapi_strip_realms",
	    "realm names", NULL, &it);
	if (n > 0)
		cfg->auth.gssapi_strip_realms = xcalloc((size_t)n,
		    sizeof(char *));
	while (config_strings_next(ctx, &it)) {
		if (it.v[0] == '\0' || strchr(it.v, '@') != NULL) {
			config_report(ctx, it.list, it.line,
			    "'auth.gssapi_strip_realms': \"%s\" is not a "
			    "realm name (\"EXAMPLE.TEST\")",
			    text_quote(q, sizeof(q), it.v, TEXT_CSTR));
			continue;
		}
		cfg->auth.gssapi_strip_realms[
		    cfg->auth.n_gssapi_strip_realms++] = xstrdup(it.v);
	}
}

bool
config_has_method(const struct config *cfg, uint8_t m)
{
	size_t i;

	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == m)
			return true;
	return false;
}

/* The auth methods by name, and the SOCKS5_METHOD_* of each. */
static const char *const config_method_names[] = {
	"none", "gssapi", "password", "chap", NULL,
};
static const uint8_t config_method_ids[] = {
	SOCKS5_METHOD_NONE, SOCKS5_METHOD_GSSAPI, SOCKS5_METHOD_PASSWORD,
	SOCKS5_METHOD_CHAP,
};

static void
config_load_auth(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	struct config_strings it;
	const struct config_node *g;
	char q[CONFIG_QUOTE_MAX];
	int choice = 0, m;
	size_t j;

	g = config_group(ctx, root, "auth");
	/* Absent, the default (["password"]) passes the same checks. */
	if (config_strings_begin(ctx, g, "auth.", "methods", "method names",
	    "must list at least one method", &it) >= 0)
		cfg->auth.n_methods = 0;
	ctx->methods = it.list;
	while (config_strings_next(ctx, &it)) {
		const char *v = it.v;

		if ((m = config_word(config_method_names, v)) == -1) {
			config_report(ctx, it.list, it.line, "'auth.methods': "
			    "unknown method \"%s\" (\"none\", "
			    "\"gssapi\", \"password\" or \"chap\")",
			    text_quote(q, sizeof(q), v, TEXT_CSTR));
			continue;
		}
		m = config_method_ids[m];
		for (j = 0; j < cfg->auth.n_methods; j++)
			if (cfg->auth.methods[j] == m)
				break;
		if (j < cfg->auth.n_methods) {
			config_report(ctx, it.list, it.line, "'auth.methods': "
			    "\"%s\" is listed twice", v);
			continue;
		}
		if (!config_method_supported((uint8_t)m))
			config_report(ctx, it.list, it.line, "auth method "
			    "\"%s\" needs GSS-API, but this sockeyed was "
			    "built without it (configure found no "
			    "krb5-gssapi, or was given --without-gssapi)", v);
		BUG_ON(cfg->auth.n_methods >= ARRAY_SIZE(cfg->auth.methods));
		cfg->auth.methods[cfg->auth.n_methods++] = (uint8_t)m;
	}
	config_string_dup(ctx, g, "auth.", "users_file",
	    &cfg->auth.users_file);
	config_choice(ctx, g, "auth.", "chap_mutual", &choice);
	cfg->auth.chap_mutual = (enum chap_mutual)choice;
	config_string_dup(ctx, g, "auth.", "chap_server_secret",
	    &cfg->auth.chap_server_secret);
	config_check_secret_mode(ctx, g);
	config_int(ctx, g, "auth.", "cache_ttl_s", &cfg->auth.cache_ttl_s);
	config_int(ctx, g, "auth.", "verify_threads",
	    &cfg->auth.verify_threads);
	config_load_pam(ctx, g);
	config_load_gssapi(ctx, g);
}

/*
 * A list of addresses (absent or empty: none) into a new array *out.
 * `parse` turns one string into an address, or refuses it with the end
 * of the message (" is not an IPv4 or IPv6 address"). Returns how many
 * addresses it stored.
 */
static size_t
config_addrs(struct config_ctx *ctx, const struct config_node *g,
    const char *prefix, const char *name,
    const char *(*parse)(const char *v, union sockaddr_any *a),
    union sockaddr_any **out)
{
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	const char *why;
	size_t got = 0;
	int n;

	n = config_strings_begin(ctx, g, prefix, name, "addresses", NULL, &it);
	if (n <= 0)
		return 0;
	*out = xcalloc((size_t)n, sizeof(**out));
	while (config_strings_next(ctx, &it)) {
		if ((why = parse(it.v, &(*out)[got])) != NULL) {
			config_report(ctx, it.list, it.line, "'%s%s': \"%s\"%s",
			    prefix, name,
			    text_quote(q, sizeof(q), it.v, TEXT_CSTR), why);
			continue;
		}
		got++;
	}
	return got;
}

/* resolver.servers: "IP" (port 53), "IP:PORT" or "[IPv6]:PORT". */
static const char *
config_dns_server(const char *v, union sockaddr_any *a)
{
	/* "::1" is an address, never "::" port 1. */
	if (sockaddr_parse_ip(v, 53, a) == -1 &&
	    sockaddr_parse_hostport(v, a) == -1)
		return " is not \"IP\", \"IP:PORT\" or \"[IPv6]:PORT\"";
	if (sockaddr_port(&a->sa) == 0)
		return ": port 0 is not a DNS server";
	return NULL;
}

/* bind.external_addresses: an address, port 0. */
static const char *
config_ip(const char *v, union sockaddr_any *a)
{
	if (sockaddr_parse_ip(v, 0, a) == -1)
		return " is not an IPv4 or IPv6 address";
	return NULL;
}

static void
config_load_resolver(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;

	g = config_group(ctx, root, "resolver");
	cfg->resolver.n_servers = config_addrs(ctx, g, "resolver.", "servers",
	    config_dns_server, &cfg->resolver.servers);
	config_int(ctx, g, "resolver.", "timeout_ms",
	    &cfg->resolver.timeout_ms);
	config_int(ctx, g, "resolver.", "tries", &cfg->resolver.tries);
}

/* connect.bind_ipv4 / bind_ipv6: "" (none) or a literal of `family`. */
static void
config_bind_addr(struct config_ctx *ctx, const struct config_node *g,
    const char *name, int family, bool *has, union sockaddr_any *out)
{
	const struct config_node *s;
	const char *v = config_string(ctx, g, "connect.", name, &s);
	char q[CONFIG_QUOTE_MAX];

	if (v == NULL || v[0] == '\0')
		return;
	if (sockaddr_parse_ip(v, 0, out) == -1 || out->sa.sa_family != family) {
		memset(out, 0, sizeof(*out));
		config_error(ctx, s, "'connect.%s' must be \"\" or an %s "
		    "address, not \"%s\"", name,
		    family == AF_INET ? "IPv4" : "IPv6",
		    text_quote(q, sizeof(q), v, TEXT_CSTR));
		return;
	}
	*has = true;
}

static void
config_load_connect(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;
	int fam = 0;

	g = config_group(ctx, root, "connect");
	config_int(ctx, g, "connect.", "attempt_delay_ms",
	    &cfg->connect.attempt_delay_ms);
	/* RFC 8305 section 5: 100 ms is the minimum, 10 ms a hard floor. */
	if (cfg->connect.attempt_delay_ms < 100)
		config_warn(ctx, config_member(g, "attempt_delay_ms"),
		    "'connect.attempt_delay_ms' = %d is below the 100 ms "
		    "minimum of RFC 8305; meant for tests only",
		    cfg->connect.attempt_delay_ms);
	config_int(ctx, g, "connect.", "resolution_delay_ms",
	    &cfg->connect.resolution_delay_ms);
	config_int(ctx, g, "connect.", "first_family_count",
	    &cfg->connect.first_family_count);
	config_choice(ctx, g, "connect.", "prefer_family", &fam);
	cfg->connect.prefer_family = fam == 1 ? AF_INET : AF_INET6;
	config_int(ctx, g, "connect.", "timeout_s", &cfg->connect.timeout_s);
	config_bind_addr(ctx, g, "bind_ipv4", AF_INET,
	    &cfg->connect.has_bind_ipv4, &cfg->connect.bind_ipv4);
	config_bind_addr(ctx, g, "bind_ipv6", AF_INET6,
	    &cfg->connect.has_bind_ipv6, &cfg->connect.bind_ipv6);
}

unsigned
config_cmd_bit(const char *name)
{
	static const char *const names[] = {
		"connect", "bind", "udp_associate", NULL,
	};
	static const unsigned cmds[] = {
		SOCKS5_CMD_CONNECT, SOCKS5_CMD_BIND, SOCKS5_CMD_UDP_ASSOCIATE,
	};
	int i = config_word(names, name);

	return i == -1 ? 0 : CONFIG_CMD_BIT(cmds[i]);
}

static void
config_load_commands(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	unsigned bit;

	if (config_strings_begin(ctx, root, "", "commands", "command names",
	    "must list at least one command", &it) <= 0)
		return;
	cfg->commands = 0;
	while (config_strings_next(ctx, &it)) {
		const char *v = it.v;

		if ((bit = config_cmd_bit(v)) == 0) {
			config_report(ctx, it.list, it.line, "'commands': "
			    "unknown command \"%s\" (" CONFIG_CMD_NAMES ")",
			    text_quote(q, sizeof(q), v, TEXT_CSTR));
			continue;
		}
		if (cfg->commands & bit) {
			config_report(ctx, it.list, it.line, "'commands': "
			    "\"%s\" is listed twice", v);
			continue;
		}
		cfg->commands |= bit;
	}
}

/* `bind`: the BIND command (bind.h). */
static void
config_load_bind(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;

	g = config_group(ctx, root, "bind");
	cfg->bind.n_external = config_addrs(ctx, g, "bind.",
	    "external_addresses", config_ip, &cfg->bind.external);
	cfg->bind.n_advertise = config_addrs(ctx, g, "bind.",
	    "advertise_addresses", config_ip, &cfg->bind.advertise);
	config_int(ctx, g, "bind.", "accept_timeout_s",
	    &cfg->bind.accept_timeout_s);
	config_bool(ctx, g, "bind.", "require_peer_match",
	    &cfg->bind.require_peer_match);
}

/* `udp`: the UDP ASSOCIATE command (udp.h). */
static void
config_load_udp(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	char q[CONFIG_QUOTE_MAX];
	struct port_range pr;
	const char *v;
	int choice = 0;

	g = config_group(ctx, root, "udp");
	config_int(ctx, g, "udp.", "idle_timeout_s", &cfg->udp.idle_timeout_s);
	config_choice(ctx, g, "udp.", "filtering", &choice);
	cfg->udp.filtering = (enum config_udp_filtering)choice;
	config_bool(ctx, g, "udp.", "strict_source", &cfg->udp.strict_source);
	v = config_string(ctx, g, "udp.", "external_address", &s);
	if (v != NULL && v[0] != '\0') {
		if (sockaddr_parse_ip(v, 0, &cfg->udp.external) == -1)
			config_error(ctx, s, "'udp.external_address' must be "
			    "\"\" or an IPv4 or IPv6 address, not \"%s\"",
			    text_quote(q, sizeof(q), v, TEXT_CSTR));
		else
			cfg->udp.has_external = true;
	}
	v = config_string(ctx, g, "udp.", "port_range", &s);
	if (v != NULL && v[0] != '\0') {
		if (acl_parse_ports(v, &pr) == -1) {
			config_error(ctx, s, "'udp.port_range' must be \"\", "
			    "a port or a range such as \"40000-40999\", not "
			    "\"%s\"", text_quote(q, sizeof(q), v, TEXT_CSTR));
		} else {
			cfg->udp.port_lo = pr.lo;
			cfg->udp.port_hi = pr.hi;
		}
	}
}

static void
config_load_limits(struct config_ctx *ctx, const struct config_node *root)
{
	/* Every key of the group is an int member of cfg->limits. */
	static const struct {
		const char *name;
		size_t off;
	} ints[] = {
#define LIMIT(f) { #f, offsetof(struct config, limits.f) }
		LIMIT(max_sessions),
		LIMIT(max_sessions_per_client),
		LIMIT(handshake_timeout_s),
		LIMIT(idle_timeout_s),
		LIMIT(max_sessions_per_user),
		LIMIT(user_bandwidth_bps),
		LIMIT(client_prefix_ipv4),
		LIMIT(client_prefix_ipv6),
#undef LIMIT
	};
	const struct config_node *g = config_group(ctx, root, "limits");
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		config_int(ctx, g, "limits.", ints[i].name,
		    (int *)((char *)ctx->cfg + ints[i].off));
}

/*
 * status_socket: absent or "" for none, else an absolute path (the
 * daemon changes to / when it detaches, and a reload must find it).
 */
static void
config_load_status_socket(struct config_ctx *ctx,
    const struct config_node *root)
{
	const struct config_node *s;
	char q[CONFIG_QUOTE_MAX];
	const char *v = config_string(ctx, root, "", "status_socket", &s);

	if (v == NULL || v[0] == '\0')
		return;
	if (v[0] != '/') {
		config_error(ctx, s, "'status_socket' must be an absolute path, "
		    "not \"%s\"", text_quote(q, sizeof(q), v, TEXT_CSTR));
		return;
	}
	ctx->cfg->status_socket = xstrdup(v);
}

/* metrics_listen: absent or "" for none, else "IP:PORT" or "[IPv6]:PORT". */
static void
config_load_metrics_listen(struct config_ctx *ctx,
    const struct config_node *root)
{
	const struct config_node *s;
	char q[CONFIG_QUOTE_MAX];
	const char *v = config_string(ctx, root, "", "metrics_listen", &s);

	if (v == NULL || v[0] == '\0')
		return;
	if (sockaddr_parse_hostport(v, &ctx->cfg->metrics_listen) == -1) {
		memset(&ctx->cfg->metrics_listen, 0,
		    sizeof(ctx->cfg->metrics_listen));
		config_error(ctx, s, "'metrics_listen' must be \"\" or "
		    "\"IP:PORT\" or \"[IPv6]:PORT\", not \"%s\"",
		    text_quote(q, sizeof(q), v, TEXT_CSTR));
		return;
	}
	ctx->cfg->has_metrics_listen = true;
}

/* socks6 = { enable; legacy_version; } (session6.c) */
static void
config_load_socks6(struct config_ctx *ctx, const struct config_node *root)
{
	const struct config_node *g = config_group(ctx, root, "socks6");

	config_bool(ctx, g, "socks6.", "enable", &ctx->cfg->socks6.enable);
	config_bool(ctx, g, "socks6.", "legacy_version",
	    &ctx->cfg->socks6.legacy_version);
}

struct config *
config_load(const char *path, config_report_fn report, void *arg)
{
	struct config_ctx ctx;
	const struct config_node *root;
	struct config *cfg;

	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.report = report;
	ctx.arg = arg;

	if ((root = config_parse_begin(&ctx)) == NULL)
		return NULL;
	/* Each key's default comes with it, from config_keys.c. */
	cfg = ctx.cfg = xcalloc(1, sizeof(*cfg));
	cfg->file = xstrdup(path);
	config_check_keys(&ctx, root, "");

	config_load_listen(&ctx, root);
	config_int(&ctx, root, "", "workers", &cfg->workers);
	config_string_dup(&ctx, root, "", "user", &cfg->user);
	config_string_dup(&ctx, root, "", "group", &cfg->group);
	config_string_dup(&ctx, root, "", "pid_file", &cfg->pid_file);
	config_load_status_socket(&ctx, root);
	config_load_metrics_listen(&ctx, root);
	config_int(&ctx, root, "", "shutdown_timeout_s",
	    &cfg->shutdown_timeout_s);
	config_int(&ctx, root, "", "reload_drain_timeout_s",
	    &cfg->reload_drain_timeout_s);
	config_load_log(&ctx, root);
	config_load_auth(&ctx, root);
	config_load_resolver(&ctx, root);
	config_load_connect(&ctx, root);
	config_load_commands(&ctx, root);
	config_load_bind(&ctx, root);
	config_load_udp(&ctx, root);
	config_load_limits(&ctx, root);
	config_load_clients(&ctx, root);
	config_load_access(&ctx, root);
	config_load_user_limits(&ctx, root);
	config_bool(&ctx, root, "", "allow_open_proxy", &cfg->allow_open_proxy);
	config_load_socks6(&ctx, root);
	config_check_open_proxy(&ctx);

	config_parse_end(&ctx);
	if (ctx.n_errors > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->listen);
	free(cfg->user);
	free(cfg->group);
	free(cfg->pid_file);
	free(cfg->status_socket);
	free(cfg->log.path);
	free(cfg->auth.users_file);
	free(cfg->auth.pam_service);
	free(cfg->auth.gssapi_keytab);
	free(cfg->auth.gssapi_service);
	for (size_t i = 0; i < cfg->auth.n_gssapi_strip_realms; i++)
		free(cfg->auth.gssapi_strip_realms[i]);
	free(cfg->auth.gssapi_strip_realms);
	if (cfg->auth.chap_server_secret != NULL) {
		/* A secret: do not leave it in freed memory. */
		explicit_bzero(cfg->auth.chap_server_secret,
		    strlen(cfg->auth.chap_server_secret));
		free(cfg->auth.chap_server_secret);
	}
	free(cfg->resolver.servers);
	free(cfg->clients);
	free(cfg->bind.external);
	free(cfg->bind.advertise);
	free(cfg->proxy_trusted);
	acl_free(&cfg->acl);
	for (size_t i = 0; i < cfg->n_user_limits; i++) {
		for (size_t j = 0; j < cfg->user_limits[i].n_users; j++)
			free(cfg->user_limits[i].users[j]);
		free(cfg->user_limits[i].users);
	}
	free(cfg->user_limits);
	free(cfg);
}
