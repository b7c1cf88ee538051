/* SPDX-License-Identifier: ISC */
/*
 * config_load.c - config_load(): defaults, then the file section by
 * section into a fresh struct config; config_free().
 *
 * Each section loader reads its keys with config_parse.c's typed getters
 * and turns the values into the struct's types (addresses, enums, bit
 * sets); the access rules, user limits and clients are config_rules.c's.
 */
#include "config_auto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_int.h"
#include "socks5.h"
#include "util.h"

static const char *const config_default_listen[] = {
	"127.0.0.1:1080", "[::1]:1080",
};

static void
config_load_listen(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *s;
	char q[CONFIG_QUOTE_MAX];
	size_t i, j;
	int n, k, line;

	s = config_list(ctx, root, "", "listen", "\"IP:PORT\" strings");
	if (s == NULL) {
		if (config_member(root, "listen") != NULL)
			return;	/* reported: wrong type */
		cfg->listen = xcalloc(ARRAY_SIZE(config_default_listen),
		    sizeof(*cfg->listen));
		for (i = 0; i < ARRAY_SIZE(config_default_listen); i++) {
			BUG_ON(sockaddr_parse_hostport(config_default_listen[i],
			    &cfg->listen[i].addr) == -1);
			cfg->listen[i].line = 0;
		}
		cfg->n_listen = ARRAY_SIZE(config_default_listen);
		return;
	}
	n = config_node_length(s);
	if (n == 0) {
		config_error(ctx, s, "'listen' must list at least one address");
		return;
	}
	cfg->listen = xcalloc((size_t)n, sizeof(*cfg->listen));
	for (k = 0; k < n; k++) {
		struct config_listen *l = &cfg->listen[cfg->n_listen];
		const char *v = config_elem(ctx, s, k, "", "listen", &line);

		if (v == NULL)
			continue;
		if (sockaddr_parse_hostport(v, &l->addr) == -1) {
			config_report(ctx, s, line, "'listen': \"%s\" is not "
			    "\"IP:PORT\" or \"[IPv6]:PORT\"",
			    config_quote(v, q, sizeof(q)));
			continue;
		}
		for (j = 0; j < cfg->n_listen; j++)
			if (sockaddr_equal(&cfg->listen[j].addr.sa, &l->addr.sa))
				break;
		/* Two binds of one address: the second would fail later. */
		if (j < cfg->n_listen && sockaddr_port(&l->addr.sa) != 0) {
			config_report(ctx, s, line, "'listen': \"%s\" is "
			    "listed twice", config_quote(v, q, sizeof(q)));
			continue;
		}
		l->line = line;
		cfg->n_listen++;
	}
}

static void
config_load_log(struct config_ctx *ctx, const struct config_node *root)
{
	static const char *const levels[] = {
		"error", "warning", "info", "verbose", "debug", NULL,
	};
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	const char *v;
	char q[CONFIG_QUOTE_MAX];
	int level;

	g = config_group(ctx, root, "log", config_keys_log);
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
			    "\"/\", not \"%s\"", config_quote(v, q, sizeof(q)));
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
			config_choice(ctx, g, "log.", "level", levels, &level);
		}
	}
	config_bool(ctx, g, "log.", "access", &cfg->log.access);
}

static const char *
config_method_name(uint8_t m)
{
	switch (m) {
	case SOCKS5_METHOD_NONE:
		return "none";
	case SOCKS5_METHOD_PASSWORD:
		return "password";
	case SOCKS5_METHOD_CHAP:
		return "chap";
	default:
		return "?";
	}
}

/*
 * Which methods this build can serve: all three. (A method that parsed
 * here but could not be served would leave a daemon that lets nobody in,
 * so an unsupported one is an error, not a warning.)
 */
static bool
config_method_supported(uint8_t m)
{
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

static void
config_load_auth(struct config_ctx *ctx, const struct config_node *root)
{
	static const char *const mutual[] = {
		"allow", "require", "deny", NULL,
	};
	static const struct {
		const char *name;
		uint8_t method;
	} methods[] = {
		{ "none", SOCKS5_METHOD_NONE },
		{ "password", SOCKS5_METHOD_PASSWORD },
		{ "chap", SOCKS5_METHOD_CHAP },
	};
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line, choice;
	size_t i, j;

	g = config_group(ctx, root, "auth", config_keys_auth);
	s = config_list(ctx, g, "auth.", "methods", "method names");
	ctx->methods = s;
	if (s == NULL && config_member(g, "methods") == NULL &&
	    (g != NULL || config_member(root, "auth") == NULL)) {
		/* The default, ["password"], must pass the same check. */
		if (!config_method_supported(cfg->auth.methods[0]))
			config_report(ctx, g, 0, "auth method \"%s\" is not "
			    "supported by this build yet (it is the default "
			    "of auth.methods; set auth.methods = [ \"none\" ])",
			    config_method_name(cfg->auth.methods[0]));
	} else if (s != NULL) {
		n = config_node_length(s);
		if (n == 0)
			config_error(ctx, s, "'auth.methods' must list at "
			    "least one method");
		cfg->auth.n_methods = 0;
		for (k = 0; k < n; k++) {
			const char *v = config_elem(ctx, s, k, "auth.",
			    "methods", &line);

			if (v == NULL)
				continue;
			for (i = 0; i < ARRAY_SIZE(methods); i++)
				if (strcmp(v, methods[i].name) == 0)
					break;
			if (i == ARRAY_SIZE(methods)) {
				config_report(ctx, s, line, "'auth.methods': "
				    "unknown method \"%s\" (\"none\", "
				    "\"password\" or \"chap\")",
				    config_quote(v, q, sizeof(q)));
				continue;
			}
			for (j = 0; j < cfg->auth.n_methods; j++)
				if (cfg->auth.methods[j] == methods[i].method)
					break;
			if (j < cfg->auth.n_methods) {
				config_report(ctx, s, line, "'auth.methods': "
				    "\"%s\" is listed twice", v);
				continue;
			}
			if (!config_method_supported(methods[i].method))
				config_report(ctx, s, line, "auth method "
				    "\"%s\" is not supported by this build "
				    "yet", v);
			BUG_ON(cfg->auth.n_methods >=
			    ARRAY_SIZE(cfg->auth.methods));
			cfg->auth.methods[cfg->auth.n_methods++] =
			    methods[i].method;
		}
	}
	config_string_dup(ctx, g, "auth.", "users_file", false,
	    &cfg->auth.users_file);
	choice = (int)cfg->auth.chap_mutual;
	config_choice(ctx, g, "auth.", "chap_mutual", mutual, &choice);
	cfg->auth.chap_mutual = (enum chap_mutual)choice;
	config_string_dup(ctx, g, "auth.", "chap_server_secret", false,
	    &cfg->auth.chap_server_secret);
	config_check_secret_mode(ctx, g);
	config_int(ctx, g, "auth.", "cache_ttl_s", 0, 86400,
	    &cfg->auth.cache_ttl_s);
	config_int(ctx, g, "auth.", "verify_threads", 1, 64,
	    &cfg->auth.verify_threads);
}

static void
config_load_resolver(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;

	g = config_group(ctx, root, "resolver", config_keys_resolver);
	s = config_list(ctx, g, "resolver.", "servers", "addresses");
	if (s != NULL && (n = config_node_length(s)) > 0) {
		cfg->resolver.servers = xcalloc((size_t)n,
		    sizeof(*cfg->resolver.servers));
		for (k = 0; k < n; k++) {
			union sockaddr_any *a =
			    &cfg->resolver.servers[cfg->resolver.n_servers];
			const char *v = config_elem(ctx, s, k, "resolver.",
			    "servers", &line);

			if (v == NULL)
				continue;
			/* "::1" is an address, never "::" port 1. */
			if (sockaddr_parse_ip(v, 53, a) == -1 &&
			    sockaddr_parse_hostport(v, a) == -1) {
				config_report(ctx, s, line, "'resolver.servers':"
				    " \"%s\" is not \"IP\", \"IP:PORT\" or "
				    "\"[IPv6]:PORT\"",
				    config_quote(v, q, sizeof(q)));
				continue;
			}
			if (sockaddr_port(&a->sa) == 0) {
				config_report(ctx, s, line, "'resolver.servers':"
				    " \"%s\": port 0 is not a DNS server",
				    config_quote(v, q, sizeof(q)));
				continue;
			}
			cfg->resolver.n_servers++;
		}
	}
	config_int(ctx, g, "resolver.", "timeout_ms", 10, 60000,
	    &cfg->resolver.timeout_ms);
	config_int(ctx, g, "resolver.", "tries", 1, 10, &cfg->resolver.tries);
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
		    config_quote(v, q, sizeof(q)));
		return;
	}
	*has = true;
}

static void
config_load_connect(struct config_ctx *ctx, const struct config_node *root)
{
	static const char *const families[] = { "ipv6", "ipv4", NULL };
	struct config *cfg = ctx->cfg;
	const struct config_node *g;
	int fam = cfg->connect.prefer_family == AF_INET ? 1 : 0;

	g = config_group(ctx, root, "connect", config_keys_connect);
	config_int(ctx, g, "connect.", "attempt_delay_ms", 10, 2000,
	    &cfg->connect.attempt_delay_ms);
	/* RFC 8305 section 5: 100 ms is the minimum, 10 ms a hard floor. */
	if (cfg->connect.attempt_delay_ms < 100)
		config_warn(ctx, config_member(g, "attempt_delay_ms"),
		    "'connect.attempt_delay_ms' = %d is below the 100 ms "
		    "minimum of RFC 8305; meant for tests only",
		    cfg->connect.attempt_delay_ms);
	config_int(ctx, g, "connect.", "resolution_delay_ms", 0, 2000,
	    &cfg->connect.resolution_delay_ms);
	config_int(ctx, g, "connect.", "first_family_count", 1, 16,
	    &cfg->connect.first_family_count);
	config_choice(ctx, g, "connect.", "prefer_family", families, &fam);
	cfg->connect.prefer_family = fam == 1 ? AF_INET : AF_INET6;
	config_int(ctx, g, "connect.", "timeout_s", 1, 3600,
	    &cfg->connect.timeout_s);
	config_bind_addr(ctx, g, "bind_ipv4", AF_INET,
	    &cfg->connect.has_bind_ipv4, &cfg->connect.bind_ipv4);
	config_bind_addr(ctx, g, "bind_ipv6", AF_INET6,
	    &cfg->connect.has_bind_ipv6, &cfg->connect.bind_ipv6);
}

static void
config_load_commands(struct config_ctx *ctx, const struct config_node *root)
{
	static const struct {
		const char *name;
		unsigned cmd;
	} cmds[] = {
		{ "connect", SOCKS5_CMD_CONNECT },
		{ "bind", SOCKS5_CMD_BIND },
		{ "udp_associate", SOCKS5_CMD_UDP_ASSOCIATE },
	};
	struct config *cfg = ctx->cfg;
	const struct config_node *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;
	size_t i;

	s = config_list(ctx, root, "", "commands", "command names");
	if (s == NULL)
		return;
	n = config_node_length(s);
	if (n == 0) {
		config_error(ctx, s, "'commands' must list at least one "
		    "command");
		return;
	}
	cfg->commands = 0;
	for (k = 0; k < n; k++) {
		const char *v = config_elem(ctx, s, k, "", "commands", &line);

		if (v == NULL)
			continue;
		for (i = 0; i < ARRAY_SIZE(cmds); i++)
			if (strcmp(v, cmds[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(cmds)) {
			config_report(ctx, s, line, "'commands': unknown "
			    "command \"%s\" (\"connect\", \"bind\" or "
			    "\"udp_associate\")", config_quote(v, q, sizeof(q)));
			continue;
		}
		if (cfg->commands & CONFIG_CMD_BIT(cmds[i].cmd)) {
			config_report(ctx, s, line, "'commands': \"%s\" is "
			    "listed twice", v);
			continue;
		}
		cfg->commands |= CONFIG_CMD_BIT(cmds[i].cmd);
	}
}

/* `bind`: the BIND command (bind.h). */
static void
config_load_bind(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;

	g = config_group(ctx, root, "bind", config_keys_bind);
	s = config_list(ctx, g, "bind.", "external_addresses", "addresses");
	if (s != NULL && (n = config_node_length(s)) > 0) {
		cfg->bind.external = xcalloc((size_t)n,
		    sizeof(*cfg->bind.external));
		for (k = 0; k < n; k++) {
			union sockaddr_any *a =
			    &cfg->bind.external[cfg->bind.n_external];
			const char *v = config_elem(ctx, s, k, "bind.",
			    "external_addresses", &line);

			if (v == NULL)
				continue;
			if (sockaddr_parse_ip(v, 0, a) == -1) {
				config_report(ctx, s, line, "'bind.external_"
				    "addresses': \"%s\" is not an IPv4 or IPv6 "
				    "address", config_quote(v, q, sizeof(q)));
				continue;
			}
			cfg->bind.n_external++;
		}
	}
	config_int(ctx, g, "bind.", "accept_timeout_s", 1, 86400,
	    &cfg->bind.accept_timeout_s);
	config_bool(ctx, g, "bind.", "require_peer_match",
	    &cfg->bind.require_peer_match);
}

/* `udp`: the UDP ASSOCIATE command (udp.h). */
static void
config_load_udp(struct config_ctx *ctx, const struct config_node *root)
{
	static const char *const filtering[] = {
		"address-dependent", "endpoint-independent", NULL,
	};
	struct config *cfg = ctx->cfg;
	const struct config_node *g, *s;
	char q[CONFIG_QUOTE_MAX];
	struct port_range pr;
	const char *v;
	int choice;

	g = config_group(ctx, root, "udp", config_keys_udp);
	config_int(ctx, g, "udp.", "idle_timeout_s", 0, 86400,
	    &cfg->udp.idle_timeout_s);
	choice = (int)cfg->udp.filtering;
	config_choice(ctx, g, "udp.", "filtering", filtering, &choice);
	cfg->udp.filtering = (enum config_udp_filtering)choice;
	config_bool(ctx, g, "udp.", "strict_source", &cfg->udp.strict_source);
	v = config_string(ctx, g, "udp.", "external_address", &s);
	if (v != NULL && v[0] != '\0') {
		if (sockaddr_parse_ip(v, 0, &cfg->udp.external) == -1)
			config_error(ctx, s, "'udp.external_address' must be "
			    "\"\" or an IPv4 or IPv6 address, not \"%s\"",
			    config_quote(v, q, sizeof(q)));
		else
			cfg->udp.has_external = true;
	}
	v = config_string(ctx, g, "udp.", "port_range", &s);
	if (v != NULL && v[0] != '\0') {
		if (acl_parse_ports(v, &pr) == -1) {
			config_error(ctx, s, "'udp.port_range' must be \"\", "
			    "a port or a range such as \"40000-40999\", not "
			    "\"%s\"", config_quote(v, q, sizeof(q)));
		} else {
			cfg->udp.port_lo = pr.lo;
			cfg->udp.port_hi = pr.hi;
		}
	}
}

static void
config_load_limits(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;

	g = config_group(ctx, root, "limits", config_keys_limits);
	config_int(ctx, g, "limits.", "max_sessions", 1, 10000000,
	    &cfg->limits.max_sessions);
	config_int(ctx, g, "limits.", "max_sessions_per_client", 1, 10000000,
	    &cfg->limits.max_sessions_per_client);
	config_int(ctx, g, "limits.", "handshake_timeout_s", 1, 3600,
	    &cfg->limits.handshake_timeout_s);
	config_int(ctx, g, "limits.", "idle_timeout_s", 0, 2592000,
	    &cfg->limits.idle_timeout_s);
	config_int(ctx, g, "limits.", "max_sessions_per_user", 0, 10000000,
	    &cfg->limits.max_sessions_per_user);
	config_int(ctx, g, "limits.", "user_bandwidth_bps", 0, 2000000000,
	    &cfg->limits.user_bandwidth_bps);
	config_int(ctx, g, "limits.", "client_prefix_ipv4", 1, 32,
	    &cfg->limits.client_prefix_ipv4);
	config_int(ctx, g, "limits.", "client_prefix_ipv6", 1, 128,
	    &cfg->limits.client_prefix_ipv6);
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
		    "not \"%s\"", config_quote(v, q, sizeof(q)));
		return;
	}
	ctx->cfg->status_socket = xstrdup(v);
}

static struct config *
config_new_defaults(const char *path)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->file = xstrdup(path);
	cfg->workers = 0;
	cfg->user = xstrdup("sockeye");
	cfg->group = xstrdup("sockeye");
	cfg->pid_file = xstrdup("/run/sockeye/sockeyed.pid");
	cfg->shutdown_timeout_s = 30;
	cfg->reload_drain_timeout_s = 3600;
	cfg->log.target = LOG_TARGET_SYSLOG;
	cfg->log.path = NULL;
	cfg->log.level = LOG_LEVEL_INFO;
	cfg->log.access = true;
	cfg->auth.methods[0] = SOCKS5_METHOD_PASSWORD;
	cfg->auth.n_methods = 1;
	cfg->auth.users_file = xstrdup("/etc/sockeye/users");
	cfg->auth.chap_mutual = CHAP_MUTUAL_ALLOW;
	cfg->auth.chap_server_secret = xstrdup("");
	cfg->auth.cache_ttl_s = 300;
	cfg->auth.verify_threads = 2;
	cfg->resolver.timeout_ms = 2000;
	cfg->resolver.tries = 2;
	cfg->connect.attempt_delay_ms = 250;
	cfg->connect.resolution_delay_ms = 50;
	cfg->connect.first_family_count = 1;
	cfg->connect.prefer_family = AF_INET6;
	cfg->connect.timeout_s = 30;
	cfg->commands = CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_BIND) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE);
	cfg->bind.accept_timeout_s = 120;
	cfg->bind.require_peer_match = true;	/* RFC 1928: the peer is checked */
	cfg->udp.idle_timeout_s = 300;
	cfg->udp.filtering = CONFIG_UDP_ADDRESS_DEPENDENT;
	cfg->udp.strict_source = false;
	cfg->limits.max_sessions = 20000;
	cfg->limits.max_sessions_per_client = 1024;
	cfg->limits.client_prefix_ipv4 = 32;
	cfg->limits.client_prefix_ipv6 = 64;
	cfg->limits.handshake_timeout_s = 15;
	cfg->limits.idle_timeout_s = 7200;
	cfg->has_clients = false;
	cfg->allow_open_proxy = false;
	return cfg;
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
	cfg = ctx.cfg = config_new_defaults(path);
	config_check_keys(&ctx, root, "", config_keys_top, true);

	config_load_listen(&ctx, root);
	config_int(&ctx, root, "", "workers", 0, 256, &cfg->workers);
	config_string_dup(&ctx, root, "", "user", true, &cfg->user);
	config_string_dup(&ctx, root, "", "group", true, &cfg->group);
	config_string_dup(&ctx, root, "", "pid_file", false, &cfg->pid_file);
	config_load_status_socket(&ctx, root);
	config_int(&ctx, root, "", "shutdown_timeout_s", 0, 86400,
	    &cfg->shutdown_timeout_s);
	config_int(&ctx, root, "", "reload_drain_timeout_s", 0,
	    RELOAD_DRAIN_TIMEOUT_MAX, &cfg->reload_drain_timeout_s);
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
	if (cfg->auth.chap_server_secret != NULL) {
		/* A secret: do not leave it in freed memory. */
		explicit_bzero(cfg->auth.chap_server_secret,
		    strlen(cfg->auth.chap_server_secret));
		free(cfg->auth.chap_server_secret);
	}
	free(cfg->resolver.servers);
	free(cfg->clients);
	free(cfg->bind.external);
	acl_free(&cfg->acl);
	for (size_t i = 0; i < cfg->n_user_limits; i++) {
		for (size_t j = 0; j < cfg->user_limits[i].n_users; j++)
			free(cfg->user_limits[i].users[j]);
		free(cfg->user_limits[i].users);
	}
	free(cfg->user_limits);
	free(cfg);
}
