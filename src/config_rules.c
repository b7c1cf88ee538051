/* SPDX-License-Identifier: ISC */
/*
 * config_rules.c - who may use the proxy, for what: the access rules
 * (compiled into an acl.h rule set), per-user limits, the client networks,
 * and the open-proxy guard that refuses a configuration letting anybody
 * in from anywhere.
 */
#include "config_auto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "socks5.h"
#include "text.h"
#include "util.h"

/*
 * A list of strings from a rule (`what` says what each must be); `check`
 * validates one entry (NULL: any non-empty string). Returns the count
 * stored in *out (NULL when the key is absent).
 */
static size_t
config_rule_strings(struct config_ctx *ctx, const struct config_node *g,
    const char *prefix, const char *name, const char *what,
    bool (*check)(const char *), char ***out)
{
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	size_t got = 0;
	int n;

	*out = NULL;
	n = config_strings_begin(ctx, g, prefix, name, what,
	    "must not be empty (leave the key out to match anything)", &it);
	if (n <= 0)
		return 0;
	*out = xcalloc((size_t)n, sizeof(char *));
	while (config_strings_next(ctx, &it)) {
		const char *v = it.v;

		if (v[0] == '\0' || (check != NULL && !check(v))) {
			config_report(ctx, it.list, it.line, "'%s%s': \"%s\" is "
			    "not %s", prefix, name,
			    text_quote(q, sizeof(q), v, TEXT_CSTR),
			    what);
			continue;
		}
		(*out)[got++] = xstrdup(v);
	}
	return got;
}

/* "example.com", "*.example.com" or "*": letters, digits, '-', '_', '.'. */
static bool
config_host_pattern_ok(const char *v)
{
	const char *p = v;

	if (strcmp(v, "*") == 0)
		return true;
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	if (*p == '\0' || strlen(p) > 253)
		return false;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return false;
	return true;
}

static size_t
config_rule_nets(struct config_ctx *ctx, const struct config_node *g,
    const char *prefix, const char *name, struct cidr **out)
{
	char **v;
	size_t n = config_rule_strings(ctx, g, prefix, name,
	    "a network such as \"10.0.0.0/8\" or \"2001:db8::/32\"", NULL, &v);
	size_t i, got = 0;
	char q[CONFIG_QUOTE_MAX];

	*out = NULL;
	if (v == NULL)
		return 0;
	*out = xcalloc(n > 0 ? n : 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		if (cidr_parse(v[i], &(*out)[got]) == -1)
			config_error(ctx, config_member(g, name), "'%s%s': \"%s\" "
			    "is not a network such as \"10.0.0.0/8\", "
			    "\"2001:db8::/32\" or an address", prefix, name,
			    text_quote(q, sizeof(q), v[i], TEXT_CSTR));
		else
			got++;
		free(v[i]);
	}
	free(v);
	return got;
}

static void
config_load_rule(struct config_ctx *ctx, const struct config_node *g,
    const char *prefix, struct acl_rule *r)
{
	const struct config_node *s;
	char **v;
	size_t i, n;
	int action = -1;
	char q[CONFIG_QUOTE_MAX];

	r->line = config_node_line(g);
	config_choice(ctx, g, prefix, "action", &action);
	if (config_member(g, "action") == NULL)
		config_error(ctx, g, "'%saction' is missing: \"allow\" or "
		    "\"deny\"", prefix);
	r->action = action == 1 ? ACL_DENY : ACL_ALLOW;
	if (config_member(g, "users") != NULL) {
		r->n_users = config_rule_strings(ctx, g, prefix, "users",
		    "a user name", NULL, &r->users);
		if (r->users == NULL)
			r->users = xcalloc(1, sizeof(char *));
	}
	if (config_member(g, "from") != NULL) {
		r->n_from = config_rule_nets(ctx, g, prefix, "from", &r->from);
		if (r->from == NULL)
			r->from = xcalloc(1, sizeof(*r->from));
	}
	if (config_member(g, "to") != NULL) {
		r->n_to = config_rule_nets(ctx, g, prefix, "to", &r->to);
		if (r->to == NULL)
			r->to = xcalloc(1, sizeof(*r->to));
	}
	if (config_member(g, "to_hosts") != NULL) {
		r->n_to_hosts = config_rule_strings(ctx, g, prefix, "to_hosts",
		    "a host name or pattern such as \"*.example.com\"",
		    config_host_pattern_ok, &r->to_hosts);
		if (r->to_hosts == NULL)
			r->to_hosts = xcalloc(1, sizeof(char *));
	}
	if (config_member(g, "ports") != NULL) {
		n = config_rule_strings(ctx, g, prefix, "ports",
		    "a port or range such as \"443\" or \"1024-65535\"", NULL, &v);
		r->ports = xcalloc(n > 0 ? n : 1, sizeof(*r->ports));
		for (i = 0; v != NULL && i < n; i++) {
			if (acl_parse_ports(v[i], &r->ports[r->n_ports]) == -1)
				config_error(ctx, config_member(g, "ports"),
				    "'%sports': \"%s\" is not a port (1-65535) "
				    "or a range such as \"1024-65535\"", prefix,
				    text_quote(q, sizeof(q), v[i], TEXT_CSTR));
			else
				r->n_ports++;
			free(v[i]);
		}
		free(v);
	}
	if ((s = config_member(g, "commands")) != NULL) {
		n = config_rule_strings(ctx, g, prefix, "commands",
		    "a command: " CONFIG_CMD_NAMES, NULL, &v);
		for (i = 0; v != NULL && i < n; i++) {
			unsigned bit = config_cmd_bit(v[i]);

			if (bit != 0)
				r->commands |= bit;
			else
				config_error(ctx, s, "'%scommands': unknown "
				    "command \"%s\" (" CONFIG_CMD_NAMES ")", prefix,
				    text_quote(q, sizeof(q), v[i], TEXT_CSTR));
			free(v[i]);
		}
		free(v);
	}
}

void
config_load_access(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;
	struct config_groups it;
	int n;

	/* Present but wrong still counts: refuse rather than allow all. */
	cfg->has_access = config_member(root, "access") != NULL;
	n = config_groups_begin(ctx, root, "access",
	    "{ action = \"allow\"; ... }", &it);
	if (n < 0)
		return;
	cfg->acl.rules = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*cfg->acl.rules));
	while ((g = config_groups_next(ctx, &it)) != NULL) {
		config_load_rule(ctx, g, it.prefix,
		    &cfg->acl.rules[cfg->acl.n_rules]);
		cfg->acl.n_rules++;
	}
}

void
config_load_user_limits(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	const struct config_node *g;
	struct config_groups it;
	int n;

	n = config_groups_begin(ctx, root, "user_limits",
	    "{ users = [ \"alice\" ]; max_sessions = 10; }", &it);
	if (n < 0)
		return;
	cfg->user_limits = xcalloc(n > 0 ? (size_t)n : 1,
	    sizeof(*cfg->user_limits));
	while ((g = config_groups_next(ctx, &it)) != NULL) {
		struct config_user_limit *u =
		    &cfg->user_limits[cfg->n_user_limits];
		const char *prefix = it.prefix;

		u->line = config_node_line(g);
		u->max_sessions = u->bandwidth_bps = -1;
		u->n_users = config_rule_strings(ctx, g, prefix, "users",
		    "a user name", NULL, &u->users);
		if (u->users == NULL)
			config_error(ctx, g, "'%susers' is missing: the users "
			    "these limits apply to", prefix);
		config_int(ctx, g, prefix, "max_sessions", &u->max_sessions);
		config_int(ctx, g, prefix, "bandwidth_bps", &u->bandwidth_bps);
		cfg->n_user_limits++;
	}
}

void
config_user_limits(const struct config *cfg, const char *user,
    int *max_sessions, int *bandwidth_bps)
{
	size_t i, j;
	int ms = -1, bw = -1;

	for (i = 0; user != NULL && i < cfg->n_user_limits; i++) {
		const struct config_user_limit *u = &cfg->user_limits[i];

		for (j = 0; j < u->n_users; j++)
			if (strcmp(u->users[j], "*") == 0 ||
			    strcmp(u->users[j], user) == 0)
				break;
		if (j == u->n_users)
			continue;
		if (ms < 0)
			ms = u->max_sessions;
		if (bw < 0)
			bw = u->bandwidth_bps;
	}
	*max_sessions = ms >= 0 ? ms : cfg->limits.max_sessions_per_user;
	*bandwidth_bps = bw >= 0 ? bw : cfg->limits.user_bandwidth_bps;
}

void
config_load_clients(struct config_ctx *ctx, const struct config_node *root)
{
	struct config *cfg = ctx->cfg;
	struct config_strings it;
	char q[CONFIG_QUOTE_MAX];
	int n;

	/*
	 * Even a wrong `clients` counts as present: the open-proxy guard must
	 * not fire on top of the error that explains the real problem.
	 */
	cfg->has_clients = config_member(root, "clients") != NULL;
	n = config_strings_begin(ctx, root, "", "clients", "networks",
	    "must list at least one network (without the key, anyone may "
	    "connect)", &it);
	if (n <= 0)
		return;
	cfg->clients = xcalloc((size_t)n, sizeof(*cfg->clients));
	while (config_strings_next(ctx, &it)) {
		if (cidr_parse(it.v, &cfg->clients[cfg->n_clients]) == -1) {
			config_report(ctx, it.list, it.line, "'clients': \"%s\" "
			    "is not a network such as \"10.0.0.0/8\", "
			    "\"2001:db8::/32\" or an address",
			    text_quote(q, sizeof(q), it.v, TEXT_CSTR));
			continue;
		}
		cfg->n_clients++;
	}
}

/*
 * Safe by default: no authentication, reachable from other hosts, and no
 * client list is an open proxy that the internet will find within hours.
 * Refuse unless the admin says so in so many words.
 */
void
config_check_open_proxy(struct config_ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	char addr[SOCKADDR_STRLEN];
	bool none = false;
	size_t i;

	if (cfg->has_clients || cfg->allow_open_proxy)
		return;
	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == SOCKS5_METHOD_NONE)
			none = true;
	if (!none)
		return;
	for (i = 0; i < cfg->n_listen; i++)
		if (!sockaddr_is_loopback(&cfg->listen[i].addr.sa))
			break;
	if (i == cfg->n_listen)
		return;
	sockaddr_format(&cfg->listen[i].addr.sa, addr, sizeof(addr));
	config_report(ctx, ctx->methods, 0, "refusing to run an open proxy: "
	    "auth method \"none\" on non-loopback listener %s with no "
	    "`clients`; require \"gssapi\", \"password\" or \"chap\" in "
	    "auth.methods, "
	    "listen only on loopback addresses, or list the allowed networks "
	    "in `clients` (or set allow_open_proxy = true if you really mean "
	    "it)", addr);
}
