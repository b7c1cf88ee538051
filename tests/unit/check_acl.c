/* SPDX-License-Identifier: ISC */
/*
 * check_acl.c - access rules: CIDR edges through acl_match, port ranges,
 * rule order, users, commands, host patterns, names vs addresses.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "socks5.h"
#include "unit_util.h"

#define CMD(c) (1u << (c))

static struct cidr
net(const char *s)
{
	struct cidr c;

	ck_assert_msg(cidr_parse(s, &c) == 0, "bad cidr %s", s);
	return c;
}

/* One rule allowing `to` networks, for the CIDR edge tests. */
static bool
to_allows(const char *cidr, const char *ip)
{
	struct cidr c = net(cidr);
	struct acl_rule r = { .action = ACL_ALLOW, .to = &c, .n_to = 1 };
	struct acl acl = { &r, 1 };
	union sockaddr_any client = unit_addr("127.0.0.1", 5000);
	union sockaddr_any dst = unit_addr(ip, 80);
	struct acl_request req = {
		.client = &client.sa, .cmd = SOCKS5_CMD_CONNECT, .dst = &dst.sa,
	};

	return acl_match(&acl, &req) == &r;
}

START_TEST(cidr_edges_v4)
{
	ck_assert(to_allows("10.0.0.0/8", "10.255.255.255"));
	ck_assert(to_allows("10.0.0.0/8", "10.0.0.0"));
	ck_assert(!to_allows("10.0.0.0/8", "11.0.0.0"));
	ck_assert(!to_allows("10.0.0.0/8", "9.255.255.255"));
	ck_assert(to_allows("0.0.0.0/0", "1.2.3.4"));
	ck_assert(to_allows("0.0.0.0/0", "255.255.255.255"));
	ck_assert(to_allows("192.0.2.7/32", "192.0.2.7"));
	ck_assert(!to_allows("192.0.2.7/32", "192.0.2.8"));
	ck_assert(to_allows("192.0.2.7", "192.0.2.7"));	/* bare: /32 */
	ck_assert(to_allows("192.0.2.128/25", "192.0.2.200"));
	ck_assert(!to_allows("192.0.2.128/25", "192.0.2.127"));
	/* v4 networks never match IPv6 destinations. */
	ck_assert(!to_allows("0.0.0.0/0", "::1"));
}
END_TEST

START_TEST(cidr_edges_v6)
{
	ck_assert(to_allows("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!to_allows("2001:db8::/32", "2001:db9::1"));
	ck_assert(to_allows("::/0", "::1"));
	ck_assert(to_allows("::/0", "2001:db8::1"));
	ck_assert(!to_allows("::/0", "127.0.0.1"));
	ck_assert(to_allows("::1/128", "::1"));
	ck_assert(!to_allows("::1/128", "::2"));
	ck_assert(to_allows("::1", "::1"));		/* bare: /128 */
	ck_assert(to_allows("2001:db8::/127", "2001:db8::1"));
	ck_assert(!to_allows("2001:db8::/127", "2001:db8::2"));
}
END_TEST

/* An IPv4-mapped IPv6 address is the IPv4 address it carries. */
START_TEST(cidr_v4_mapped)
{
	ck_assert(to_allows("127.0.0.0/8", "::ffff:127.0.0.1"));
	ck_assert(to_allows("10.0.0.0/8", "::ffff:10.1.2.3"));
	ck_assert(!to_allows("10.0.0.0/8", "::ffff:11.1.2.3"));
}
END_TEST

START_TEST(ports_parse)
{
	struct port_range p;

	ck_assert_int_eq(acl_parse_ports("443", &p), 0);
	ck_assert_uint_eq(p.lo, 443);
	ck_assert_uint_eq(p.hi, 443);
	ck_assert_int_eq(acl_parse_ports("1024-65535", &p), 0);
	ck_assert_uint_eq(p.lo, 1024);
	ck_assert_uint_eq(p.hi, 65535);
	ck_assert_int_eq(acl_parse_ports("1-1", &p), 0);
	ck_assert_int_eq(acl_parse_ports("0", &p), -1);
	ck_assert_int_eq(acl_parse_ports("65536", &p), -1);
	ck_assert_int_eq(acl_parse_ports("100-99", &p), -1);
	ck_assert_int_eq(acl_parse_ports("", &p), -1);
	ck_assert_int_eq(acl_parse_ports("-5", &p), -1);
	ck_assert_int_eq(acl_parse_ports("5-", &p), -1);
	ck_assert_int_eq(acl_parse_ports("80x", &p), -1);
	ck_assert_int_eq(acl_parse_ports("1-2-3", &p), -1);
	ck_assert_int_eq(acl_parse_ports(" 80", &p), -1);
	ck_assert_int_eq(acl_parse_ports("99999999999999999999", &p), -1);
}
END_TEST

START_TEST(ports_match)
{
	struct port_range pr[2] = { { 80, 80 }, { 1024, 2048 } };
	struct acl_rule r = { .action = ACL_ALLOW, .ports = pr, .n_ports = 2 };
	struct acl acl = { &r, 1 };
	union sockaddr_any client = unit_addr("127.0.0.1", 1);
	struct acl_request req = { .client = &client.sa, .cmd = 1 };
	static const struct { uint16_t port; bool ok; } t[] = {
		{ 80, true }, { 79, false }, { 81, false }, { 1023, false },
		{ 1024, true }, { 2048, true }, { 2049, false }, { 65535, false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		union sockaddr_any dst = unit_addr("192.0.2.1", t[i].port);

		req.dst = NULL;
		req.port = t[i].port;
		ck_assert_msg((acl_match(&acl, &req) != NULL) == t[i].ok,
		    "port %u (no address)", t[i].port);
		/* With an address, its port counts. */
		req.dst = &dst.sa;
		req.port = 0;
		ck_assert_msg((acl_match(&acl, &req) != NULL) == t[i].ok,
		    "port %u (address)", t[i].port);
	}
}
END_TEST

/* First match wins: a deny before an allow, and the other way round. */
START_TEST(rule_order)
{
	struct cidr lan = net("192.168.0.0/16"), all = net("0.0.0.0/0");
	struct acl_rule rules[2] = {
		{ .action = ACL_DENY, .line = 10, .to = &lan, .n_to = 1 },
		{ .action = ACL_ALLOW, .line = 11, .to = &all, .n_to = 1 },
	};
	struct acl acl = { rules, 2 };
	union sockaddr_any client = unit_addr("127.0.0.1", 1);
	union sockaddr_any d1 = unit_addr("192.168.1.1", 80);
	union sockaddr_any d2 = unit_addr("8.8.8.8", 53);
	union sockaddr_any d3 = unit_addr("2001:db8::1", 80);
	struct acl_request req = { .client = &client.sa, .cmd = 1 };
	const struct acl_rule *m;

	req.dst = &d1.sa;
	m = acl_match(&acl, &req);
	ck_assert_ptr_eq(m, &rules[0]);
	ck_assert_int_eq(m->action, ACL_DENY);
	ck_assert_int_eq(m->line, 10);
	req.dst = &d2.sa;
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[1]);
	/* Nothing matches an IPv6 destination: the caller refuses. */
	req.dst = &d3.sa;
	ck_assert_ptr_null(acl_match(&acl, &req));
	/* Reversed order: the allow-all shadows the deny. */
	rules[0].action = ACL_ALLOW;
	rules[0].to = &all;
	req.dst = &d1.sa;
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[0]);
	/* No rules: nothing matches. */
	acl.n_rules = 0;
	ck_assert_ptr_null(acl_match(&acl, &req));
}
END_TEST

START_TEST(users_and_commands)
{
	char n1[] = "alice", n2[] = "bob", n3[] = "*";
	char *alice[] = { n1, n2 };
	char *star[] = { n3 };
	struct acl_rule r = { .action = ACL_ALLOW, .users = alice, .n_users = 2,
	    .commands = CMD(SOCKS5_CMD_CONNECT) | CMD(SOCKS5_CMD_UDP_ASSOCIATE) };
	struct acl acl = { &r, 1 };
	union sockaddr_any client = unit_addr("127.0.0.1", 1);
	union sockaddr_any dst = unit_addr("192.0.2.1", 80);
	struct acl_request req = { .client = &client.sa, .dst = &dst.sa,
	    .cmd = SOCKS5_CMD_CONNECT, .user = "alice" };

	ck_assert_ptr_eq(acl_match(&acl, &req), &r);
	req.user = "bob";
	ck_assert_ptr_eq(acl_match(&acl, &req), &r);
	req.user = "Alice";		/* user names are case-sensitive */
	ck_assert_ptr_null(acl_match(&acl, &req));
	req.user = NULL;		/* anonymous never matches named users */
	ck_assert_ptr_null(acl_match(&acl, &req));
	req.user = "alice";
	req.cmd = SOCKS5_CMD_BIND;
	ck_assert_ptr_null(acl_match(&acl, &req));
	req.cmd = SOCKS5_CMD_UDP_ASSOCIATE;
	ck_assert_ptr_eq(acl_match(&acl, &req), &r);
	/* "*" is any user, anonymous included. */
	r.users = star;
	r.n_users = 1;
	req.user = NULL;
	ck_assert_ptr_eq(acl_match(&acl, &req), &r);
}
END_TEST

START_TEST(from_networks)
{
	struct cidr lo = net("127.0.0.0/8");
	struct acl_rule r = { .action = ACL_ALLOW, .from = &lo, .n_from = 1 };
	struct acl acl = { &r, 1 };
	union sockaddr_any c1 = unit_addr("127.0.0.2", 1);
	union sockaddr_any c2 = unit_addr("::1", 1);
	union sockaddr_any dst = unit_addr("192.0.2.1", 80);
	struct acl_request req = { .dst = &dst.sa, .cmd = 1 };

	req.client = &c1.sa;
	ck_assert_ptr_eq(acl_match(&acl, &req), &r);
	req.client = &c2.sa;
	ck_assert_ptr_null(acl_match(&acl, &req));
}
END_TEST

START_TEST(host_patterns)
{
	static const struct { const char *pat, *name; bool ok; } t[] = {
		{ "example.com", "example.com", true },
		{ "example.com", "EXAMPLE.com", true },
		{ "Example.COM", "example.com", true },
		{ "example.com", "example.com.", true },
		{ "example.com.", "example.com", true },
		{ "example.com", "www.example.com", false },
		{ "example.com", "example.co", false },
		{ "example.com", "xexample.com", false },
		{ "*.example.com", "www.example.com", true },
		{ "*.example.com", "a.b.example.com", true },
		{ "*.example.com", "WWW.Example.Com", true },
		{ "*.example.com", "example.com", false },
		{ "*.example.com", "badexample.com", false },
		{ "*.example.com", ".example.com", false },
		{ "*.example.com", "www.example.com.", true },
		{ "*", "anything.at.all", true },
		{ "*", "x", true },
		{ "", "", true },
		{ "example.com", "", false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(acl_host_match(t[i].pat, t[i].name) == t[i].ok,
		    "%s vs %s", t[i].pat, t[i].name);
}
END_TEST

/*
 * A name is checked as a name (to_hosts) and again for each address it
 * resolves to (to): a rule with `to` cannot match before the address is
 * known, and a to_hosts rule needs the client's name.
 */
START_TEST(names_and_addresses)
{
	char pat[] = "*.example.com";
	char *hosts[] = { pat };
	struct cidr lan = net("10.0.0.0/8");
	struct acl_rule rules[2] = {
		{ .action = ACL_DENY, .to = &lan, .n_to = 1 },
		{ .action = ACL_ALLOW, .to_hosts = hosts, .n_to_hosts = 1 },
	};
	struct acl acl = { rules, 2 };
	union sockaddr_any client = unit_addr("127.0.0.1", 1);
	union sockaddr_any inside = unit_addr("10.1.1.1", 443);
	union sockaddr_any outside = unit_addr("192.0.2.1", 443);
	struct acl_request req = { .client = &client.sa, .cmd = 1, .port = 443,
	    .host = "www.example.com" };

	/* Before resolution: the deny can't apply yet, the name is allowed. */
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[1]);
	/* The name resolved to a denied address: denied. */
	req.dst = &inside.sa;
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[0]);
	req.dst = &outside.sa;
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[1]);
	/* An IP request never matches a to_hosts rule. */
	req.host = NULL;
	ck_assert_ptr_null(acl_match(&acl, &req));
	req.host = "www.example.org";
	ck_assert_ptr_null(acl_match(&acl, &req));
}
END_TEST

/*
 * `to` matches what a destination reaches: the mapped, compatible and
 * NAT64 forms of 127.0.0.1 all meet a deny of 127.0.0.0/8, and an allow of
 * ::/0 lets none of them through; a deny also matches the spelling.
 */
START_TEST(embedded_forms)
{
	struct cidr lo4 = net("127.0.0.0/8"), lo6 = net("::1/128");
	struct cidr all4 = net("0.0.0.0/0"), all6 = net("::/0");
	struct cidr deny_to[2] = { lo4, lo6 };
	struct acl_rule rules[3] = {
		{ .action = ACL_DENY, .line = 1, .to = deny_to, .n_to = 2 },
		{ .action = ACL_ALLOW, .line = 2, .to = &all6, .n_to = 1 },
		{ .action = ACL_ALLOW, .line = 3, .to = &all4, .n_to = 1 },
	};
	struct acl acl = { rules, 3 };
	static const char *const denied[] = {
		"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1",
		"::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::127.9.9.9",
	};
	union sockaddr_any client = unit_addr("192.0.2.7", 1), d;
	struct acl_request req = { .client = &client.sa, .cmd = 1 };
	struct in6_addr p64;
	size_t i;

	req.dst = &d.sa;
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		d = unit_addr(denied[i], 80);
		ck_assert_msg(acl_match(&acl, &req) == &rules[0],
		    "%s is not denied", denied[i]);
	}
	/* Mapped public IPv4: an IPv4 address, allowed by 0.0.0.0/0 (line 3). */
	d = unit_addr("::ffff:192.0.2.1", 80);
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[2]);
	d = unit_addr("64:ff9b::192.0.2.1", 80);
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[2]);
	d = unit_addr("2001:db8::1", 80);
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[1]);
	/* Without an IPv4 allow, ::/0 does not let mapped IPv4 through. */
	acl.n_rules = 2;
	d = unit_addr("::ffff:192.0.2.1", 80);
	ck_assert_ptr_null(acl_match(&acl, &req));
	acl.n_rules = 3;

	/* A discovered NAT64 prefix: only known through req.pref64. */
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:64::", &p64), 1);
	d = unit_addr("2001:db8:64::7f00:1", 80);
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[1]);
	req.pref64 = &p64;
	req.pref64_len = 96;
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[0]);
	req.pref64 = NULL;
	req.pref64_len = 0;

	/* A deny of the NAT64 prefix as such matches it as written. */
	rules[0].to = &lo6;
	lo6 = net("64:ff9b::/96");
	rules[0].n_to = 1;
	d = unit_addr("64:ff9b::192.0.2.1", 80);
	ck_assert_ptr_eq(acl_match(&acl, &req), &rules[0]);
	/* ... but an allow of it does not (it reaches IPv4). */
	rules[0].action = ACL_ALLOW;
	acl.n_rules = 1;
	ck_assert_ptr_null(acl_match(&acl, &req));
}
END_TEST

/*
 * acl_command_possible(): could any destination be allowed to this user,
 * client and command, before anything is opened?
 */
START_TEST(command_possible)
{
	char n1[] = "mallory", n2[] = "*";
	char *mallory[] = { n1 };
	char *star[] = { n2 };
	struct cidr lo = net("127.0.0.0/8"), lan = net("10.0.0.0/8");
	struct port_range web = { 80, 443 };
	struct acl_rule rules[4];
	struct acl acl = { rules, 0 };
	union sockaddr_any client = unit_addr("10.1.1.1", 1);
	union sockaddr_any other = unit_addr("192.0.2.9", 1);
	const struct acl_rule *deny = &rules[0];
	const uint8_t B = SOCKS5_CMD_BIND, U = SOCKS5_CMD_UDP_ASSOCIATE,
	    C = SOCKS5_CMD_CONNECT;

	memset(rules, 0, sizeof(rules));
	/* No rules: nothing can be allowed. */
	ck_assert(!acl_command_possible(&acl, "alice", &client.sa, C, &deny));
	ck_assert_ptr_null(deny);

	/* Deny bind and udp to mallory, then allow everything. */
	rules[0] = (struct acl_rule){ .action = ACL_DENY, .line = 5,
	    .users = mallory, .n_users = 1,
	    .commands = CMD(B) | CMD(U) };
	rules[1] = (struct acl_rule){ .action = ACL_ALLOW, .line = 6,
	    .users = star, .n_users = 1 };
	acl.n_rules = 2;
	ck_assert(!acl_command_possible(&acl, "mallory", &client.sa, B, &deny));
	ck_assert_ptr_eq(deny, &rules[0]);
	ck_assert(!acl_command_possible(&acl, "mallory", &client.sa, U, &deny));
	ck_assert_ptr_eq(deny, &rules[0]);
	ck_assert(acl_command_possible(&acl, "mallory", &client.sa, C, &deny));
	ck_assert(acl_command_possible(&acl, "alice", &client.sa, B, &deny));
	ck_assert(acl_command_possible(&acl, NULL, &client.sa, B, &deny));

	/* A deny with a destination condition leaves room: skipped. */
	rules[0].to = &lo;
	rules[0].n_to = 1;
	ck_assert(acl_command_possible(&acl, "mallory", &client.sa, B, &deny));
	rules[0].to = NULL;
	rules[0].n_to = 0;
	rules[0].ports = &web;
	rules[0].n_ports = 1;
	ck_assert(acl_command_possible(&acl, "mallory", &client.sa, B, &deny));
	rules[0].ports = NULL;
	rules[0].n_ports = 0;
	rules[0].to_hosts = star;
	rules[0].n_to_hosts = 1;
	ck_assert(acl_command_possible(&acl, "mallory", &client.sa, B, &deny));
	rules[0].to_hosts = NULL;
	rules[0].n_to_hosts = 0;

	/* A deny for some clients only: others go on to the allow. */
	rules[0].from = &lan;
	rules[0].n_from = 1;
	ck_assert(!acl_command_possible(&acl, "mallory", &client.sa, B, &deny));
	ck_assert_ptr_eq(deny, &rules[0]);
	ck_assert(acl_command_possible(&acl, "mallory", &other.sa, B, &deny));
	rules[0].from = NULL;
	rules[0].n_from = 0;

	/* Only conditional allows for bind, which mallory cannot use. */
	rules[1].commands = CMD(C);
	rules[2] = (struct acl_rule){ .action = ACL_ALLOW, .line = 7,
	    .to = &lan, .n_to = 1, .commands = CMD(B) };
	acl.n_rules = 3;
	/* alice: the allow at line 7 may let a bind peer in: maybe. */
	ck_assert(acl_command_possible(&acl, "alice", &client.sa, B, &deny));
	/* udp: nothing allows it to anyone: no, and no rule to blame. */
	ck_assert(!acl_command_possible(&acl, "alice", &client.sa, U, &deny));
	ck_assert_ptr_null(deny);
	/* An allow before the deny wins, as in acl_match(). */
	rules[0].action = ACL_ALLOW;
	ck_assert(acl_command_possible(&acl, "mallory", &client.sa, U, &deny));

	/* A `from` rule never matches without a client address. */
	rules[0] = (struct acl_rule){ .action = ACL_ALLOW, .from = &lan,
	    .n_from = 1 };
	acl.n_rules = 1;
	ck_assert(!acl_command_possible(&acl, "alice", NULL, C, &deny));
}
END_TEST

START_TEST(free_null_and_empty)
{
	struct acl acl = { NULL, 0 };

	acl_free(NULL);
	acl_free(&acl);
	ck_assert_ptr_null(acl.rules);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, cidr_edges_v4);
	tcase_add_test(tc, cidr_edges_v6);
	tcase_add_test(tc, cidr_v4_mapped);
	tcase_add_test(tc, ports_parse);
	tcase_add_test(tc, ports_match);
	tcase_add_test(tc, rule_order);
	tcase_add_test(tc, users_and_commands);
	tcase_add_test(tc, from_networks);
	tcase_add_test(tc, host_patterns);
	tcase_add_test(tc, names_and_addresses);
	tcase_add_test(tc, embedded_forms);
	tcase_add_test(tc, command_possible);
	tcase_add_test(tc, free_null_and_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(acl_suite(), NULL);
}
