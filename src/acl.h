/* SPDX-License-Identifier: ISC */
/*
 * acl.h - access rules: who may reach what, with which command.
 *
 * Rules are compiled once, when the configuration is loaded (config_rules.c
 * fills struct acl); acl_match() is pure: no I/O, no allocation, no
 * logging, so it can run for every candidate address a connector is about
 * to try. The first rule that matches decides. A field that a rule leaves
 * out matches anything.
 */
#ifndef SOCKEYE_ACL_H
#define SOCKEYE_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"

enum acl_action {
	ACL_ALLOW = 0,
	ACL_DENY,
};

struct port_range {
	uint16_t lo, hi;		/* inclusive, lo <= hi */
};

struct acl_rule {
	enum acl_action action;
	int line;			/* where the rule starts in the config */

	char **users;			/* NULL: any; "*" also means any user */
	size_t n_users;
	struct cidr *from;		/* client networks; NULL: any */
	size_t n_from;
	struct cidr *to;		/* destination networks; NULL: any */
	size_t n_to;
	char **to_hosts;		/* "example.com", "*.example.com"; NULL: any */
	size_t n_to_hosts;
	struct port_range *ports;	/* NULL: any */
	size_t n_ports;
	unsigned commands;		/* CONFIG_CMD_BIT()s; 0: any */
};

struct acl {
	struct acl_rule *rules;
	size_t n_rules;
};

/* What is being asked, as far as it is known. */
struct acl_request {
	const char *user;		/* authenticated name, NULL when none */
	const struct sockaddr *client;	/* the client's address */
	uint8_t cmd;			/* SOCKS5_CMD_* */
	const char *host;		/* the name the client sent, or NULL */
	const struct sockaddr *dst;	/* address about to be used (with port), or NULL */
	uint16_t port;			/* destination port (used when dst is NULL) */
	/* The NAT64 prefix a DNS64 resolver announced, or NULL (see below). */
	const struct in6_addr *pref64;
	unsigned pref64_len;
};

/*
 * The first rule matching `req`, or NULL when none does (the caller then
 * refuses: with `access` present, no match means REP 2).
 *
 * A rule with `to` networks never matches a request whose address is not
 * known yet (dst NULL): callers check names again for every address the
 * name resolves to, so a name can never lead past a rule.
 *
 * `to` networks are matched against what dst really reaches
 * (sockaddr_reach() with req->pref64): ::ffff:127.0.0.1, ::127.0.0.1 and
 * 64:ff9b::7f00:1 all match "127.0.0.0/8", and none of them matches an
 * allow rule's "::/0". A deny rule's `to` also matches dst as written, so
 * "64:ff9b::/96" can deny NAT64 as such. Unspecified destinations (0/8,
 * ::) are the caller's to refuse before asking: they match as written.
 */
const struct acl_rule *acl_match(const struct acl *acl,
    const struct acl_request *req);

/*
 * Could any destination be allowed to (user, client, cmd)? Asked before a
 * socket is opened for a request (a BIND listener, a UDP relay, a
 * connection), so that a command the rules refuse costs nothing.
 *
 * Walks the rules in order as acl_match() would for every destination at
 * once. Rules whose commands, users or `from` do not match are skipped. A
 * matching allow rule means some destination may pass: true. A matching
 * deny rule with no destination condition (no `to`, `to_hosts` or
 * `ports`) is the first match for every destination: false, with *deny
 * set to it. A matching deny rule with a destination condition is
 * skipped (destinations outside it go on to later rules). Past the last
 * rule nothing could be allowed: false with *deny NULL. `client` may be
 * NULL (then rules with `from` never match). Pure.
 */
bool acl_command_possible(const struct acl *acl, const char *user,
    const struct sockaddr *client, uint8_t cmd,
    const struct acl_rule **deny);

/*
 * Match a host pattern against a name, case-insensitively, ignoring one
 * trailing dot on either: "example.com" matches only itself;
 * "*.example.com" matches every name below example.com ("a.example.com",
 * "a.b.example.com") but not "example.com" itself; "*" matches any name.
 */
bool acl_host_match(const char *pattern, const char *name);

/* Parse "443" or "1024-65535" (1..65535, lo <= hi). 0 or -1. */
int acl_parse_ports(const char *s, struct port_range *out) MUST_CHECK;

/* Free the rules' arrays (config_free calls this). NULL is a no-op. */
void acl_free(struct acl *acl);

#endif
