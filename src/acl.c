/* SPDX-License-Identifier: ISC */
/*
 * acl.c - see acl.h.
 */
#include "config_auto.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"

#define ACL_CMD_BIT(cmd) (1u << (cmd))

static bool
match_user(const struct acl_rule *r, const char *user)
{
	size_t i;

	if (r->users == NULL)
		return true;
	for (i = 0; i < r->n_users; i++) {
		if (strcmp(r->users[i], "*") == 0)
			return true;
		/* A rule naming users never matches an anonymous session. */
		if (user != NULL && strcmp(r->users[i], user) == 0)
			return true;
	}
	return false;
}

static bool
match_nets(const struct cidr *nets, size_t n, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cidr_match(&nets[i], sa))
			return true;
	return false;
}

static bool
match_port(const struct acl_rule *r, uint16_t port)
{
	size_t i;

	if (r->ports == NULL)
		return true;
	for (i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool
match_hosts(const struct acl_rule *r, const char *host)
{
	size_t i;

	if (r->to_hosts == NULL)
		return true;
	if (host == NULL)
		return false;
	for (i = 0; i < r->n_to_hosts; i++)
		if (acl_host_match(r->to_hosts[i], host))
			return true;
	return false;
}

/* Do the rule's commands, users and client networks take in this request? */
static bool
match_who(const struct acl_rule *r, const char *user,
    const struct sockaddr *client, uint8_t cmd)
{
	if (r->commands != 0 && !(r->commands & ACL_CMD_BIT(cmd)))
		return false;
	if (!match_user(r, user))
		return false;
	if (r->from != NULL &&
	    (client == NULL || !match_nets(r->from, r->n_from, client)))
		return false;
	return true;
}

/*
 * `to`, by what the destination reaches; a deny rule also by its spelling
 * (matching more can only refuse more).
 */
static bool
match_to(const struct acl_rule *r, const struct sockaddr *dst,
    const union sockaddr_any *eff)
{
	if (r->to == NULL)
		return true;
	if (dst == NULL)
		return false;
	if (match_nets(r->to, r->n_to, &eff->sa))
		return true;
	return r->action == ACL_DENY && match_nets(r->to, r->n_to, dst);
}

const struct acl_rule *
acl_match(const struct acl *acl, const struct acl_request *req)
{
	uint16_t port = req->dst != NULL ? sockaddr_port(req->dst) : req->port;
	union sockaddr_any eff;
	size_t i;

	memset(&eff, 0, sizeof(eff));
	if (req->dst != NULL)
		(void)sockaddr_reach(req->dst, req->pref64, req->pref64_len,
		    &eff);
	for (i = 0; i < acl->n_rules; i++) {
		const struct acl_rule *r = &acl->rules[i];

		if (!match_who(r, req->user, req->client, req->cmd))
			continue;
		if (!match_to(r, req->dst, &eff))
			continue;
		if (!match_hosts(r, req->host))
			continue;
		if (!match_port(r, port))
			continue;
		return r;
	}
	return NULL;
}

bool
acl_command_possible(const struct acl *acl, const char *user,
    const struct sockaddr *client, uint8_t cmd, const struct acl_rule **deny)
{
	size_t i;

	*deny = NULL;
	for (i = 0; i < acl->n_rules; i++) {
		const struct acl_rule *r = &acl->rules[i];

		if (!match_who(r, user, client, cmd))
			continue;
		if (r->action == ACL_ALLOW)
			return true;
		if (r->to == NULL && r->to_hosts == NULL && r->ports == NULL) {
			*deny = r;
			return false;
		}
	}
	return false;
}

/* Length without one trailing dot. */
static size_t
name_len(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	return n;
}

bool
acl_host_match(const char *pattern, const char *name)
{
	size_t pl = name_len(pattern), nl = name_len(name);

	if (pl == 1 && pattern[0] == '*')
		return true;
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": name must end in ".example.com", with more before. */
		const char *suffix = pattern + 1;	/* ".example.com" */
		size_t sl = pl - 1;

		return nl > sl &&
		    strncasecmp(name + nl - sl, suffix, sl) == 0;
	}
	return pl == nl && strncasecmp(pattern, name, pl) == 0;
}

static int
parse_port(const char *s, const char **end, uint16_t *out)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -1;
		p++;
	}
	if (v == 0)
		return -1;
	*out = (uint16_t)v;
	*end = p;
	return 0;
}

int
acl_parse_ports(const char *s, struct port_range *out)
{
	const char *p;

	if (parse_port(s, &p, &out->lo) == -1)
		return -1;
	if (*p == '\0') {
		out->hi = out->lo;
		return 0;
	}
	if (*p != '-' || parse_port(p + 1, &p, &out->hi) == -1 || *p != '\0')
		return -1;
	return out->lo <= out->hi ? 0 : -1;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
acl_free(struct acl *acl)
{
	size_t i;

	if (acl == NULL)
		return;
	for (i = 0; i < acl->n_rules; i++) {
		struct acl_rule *r = &acl->rules[i];

		free_strings(r->users, r->n_users);
		free(r->from);
		free(r->to);
		free_strings(r->to_hosts, r->n_to_hosts);
		free(r->ports);
	}
	free(acl->rules);
	acl->rules = NULL;
	acl->n_rules = 0;
}
