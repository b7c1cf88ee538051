/* SPDX-License-Identifier: ISC */
/*
 * check_happy.c - the pure Happy Eyeballs code (src/happy.c): RFC 6724
 * sorting and family interleaving as tables of inputs and expected orders,
 * the attempt scheduler driven by a fake clock through scripted worlds
 * (when answers arrive, how each address behaves), reply-code ranking, and
 * NAT64 synthesis (RFC 6052) and prefix discovery (RFC 7050).
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "happy.h"
#include "socks5.h"
#include "unit_util.h"

static union sockaddr_any
ip(const char *s)
{
	union sockaddr_any a;

	ck_assert_msg(sockaddr_parse_ip(s, 443, &a) == 0, "bad address %s", s);
	return a;
}

static void
append(char *out, size_t cap, const char *s)
{
	size_t len = strlen(out);

	snprintf(out + len, cap - len, "%s%s", len > 0 ? " " : "", s);
}

static const char *
ipstr(const union sockaddr_any *a, char *buf, size_t cap)
{
	return sockaddr_format_ip(&a->sa, buf, cap);
}

/* --- RFC 6724 policy table and scopes -------------------------------------- */

START_TEST(test_policy)
{
	static const struct {
		const char *addr;
		int precedence, label, scope;
	} t[] = {
		{ "::1", 50, 0, 2 },
		{ "2001:db8::1", 40, 1, 14 },
		{ "192.0.2.1", 35, 4, 14 },
		{ "127.0.0.1", 35, 4, 2 },
		{ "169.254.1.1", 35, 4, 2 },
		{ "::ffff:192.0.2.1", 35, 4, 14 },
		{ "2002:c000:201::1", 30, 2, 14 },
		{ "2001:0:4136:e378::1", 5, 5, 14 },	/* Teredo */
		{ "fd00::1", 3, 13, 14 },
		{ "::192.0.2.1", 1, 3, 14 },		/* IPv4-compatible */
		{ "fec0::1", 1, 11, 5 },
		{ "3ffe::1", 1, 12, 14 },
		{ "fe80::1", 40, 1, 2 },
		{ "64:ff9b::c000:221", 40, 1, 14 },
		{ "ff02::1", 40, 1, 2 },
		{ "ff05::1", 40, 1, 5 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		union sockaddr_any a = ip(t[i].addr);

		ck_assert_msg(happy_precedence(&a.sa) == t[i].precedence,
		    "%s: precedence %d, want %d", t[i].addr,
		    happy_precedence(&a.sa), t[i].precedence);
		ck_assert_msg(happy_label(&a.sa) == t[i].label,
		    "%s: label %d, want %d", t[i].addr, happy_label(&a.sa),
		    t[i].label);
		ck_assert_msg(happy_scope(&a.sa) == t[i].scope,
		    "%s: scope %d, want %d", t[i].addr, happy_scope(&a.sa),
		    t[i].scope);
	}
}
END_TEST

/* --- RFC 6724 sorting ------------------------------------------------------ */

/*
 * Each input item is "DST", "DST>SRC" (with the source the kernel would
 * use) or "!DST" (no route: unusable); the output lists destinations.
 */
static void
sort_case(const char *in, char *out, size_t cap)
{
	struct happy_dst d[16];
	char buf[256], *tok, *save = NULL;
	size_t n = 0, i;

	memset(d, 0, sizeof(d));
	util_strlcpy(buf, in, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *gt = strchr(tok, '>');

		ck_assert_uint_lt(n, 16);
		if (*tok == '!') {
			d[n].unusable = true;
			tok++;
		}
		if (gt != NULL) {
			*gt = '\0';
			d[n].src = ip(gt + 1);
		}
		d[n].addr = ip(tok);
		n++;
	}
	happy_sort(d, n);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		char a[SOCKADDR_STRLEN];

		append(out, cap, ipstr(&d[i].addr, a, sizeof(a)));
	}
}

START_TEST(test_sort)
{
	static const struct {
		const char *why, *in, *want;
	} t[] = {
		{ "rule 6: IPv6 (40) over IPv4 (35)",
		    "192.0.2.1 2001:db8::1", "2001:db8::1 192.0.2.1" },
		{ "rule 6: IPv4 (35) over ULA (3)",
		    "fd00::1 192.0.2.1", "192.0.2.1 fd00::1" },
		{ "rule 6: ::1 (50) over 127.0.0.1 (35)",
		    "127.0.0.1 ::1", "::1 127.0.0.1" },
		{ "rule 6: IPv4 over 6to4 over Teredo",
		    "2001:0:4136:e378::1 2002:c000:201::1 192.0.2.1",
		    "192.0.2.1 2002:c000:201::1 2001:0:4136:e378::1" },
		{ "rule 1: unusable last",
		    "!2001:db8::1 2001:db8::2 !192.0.2.1 192.0.2.2",
		    "2001:db8::2 192.0.2.2 2001:db8::1 192.0.2.1" },
		{ "rule 10: equal ones keep their order",
		    "192.0.2.1 192.0.2.9 192.0.2.5", "192.0.2.1 192.0.2.9 192.0.2.5" },
		{ "rule 9 does not reorder IPv4",
		    "198.51.100.1>192.0.2.2 192.0.2.1>192.0.2.2",
		    "198.51.100.1 192.0.2.1" },
		/* RFC 6724 section 10.2, in order. */
		{ "10.2 #1: prefer matching scope",
		    "198.51.100.121>169.254.13.78 2001:db8:1::1>2001:db8:1::2",
		    "2001:db8:1::1 198.51.100.121" },
		{ "10.2 #2: prefer matching scope",
		    "2001:db8:1::1>fe80::1 198.51.100.121>198.51.100.117",
		    "198.51.100.121 2001:db8:1::1" },
		{ "10.2 #3: prefer higher precedence",
		    "10.1.2.3>10.1.2.4 2001:db8:1::1>2001:db8:1::2",
		    "2001:db8:1::1 10.1.2.3" },
		{ "10.2 #4: prefer smaller scope",
		    "2001:db8:1::1>2001:db8:1::2 fe80::1>fe80::2",
		    "fe80::1 2001:db8:1::1" },
		{ "10.2 #5: longest matching prefix",
		    "2001:db8:3ffe::1>2001:db8:3f44::2 2001:db8:1::1>2001:db8:1::2",
		    "2001:db8:1::1 2001:db8:3ffe::1" },
		{ "10.2 #6: prefer matching label",
		    "2001:db8:1::1>2002:c633:6401::2 2002:c633:6401::1>2002:c633:6401::2",
		    "2002:c633:6401::1 2001:db8:1::1" },
		{ "10.2 #7: prefer higher precedence",
		    "2002:c633:6401::1>2002:c633:6401::2 2001:db8:1::1>2001:db8:1::2",
		    "2001:db8:1::1 2002:c633:6401::1" },
		{ "ULA source: label first, then IPv4's higher precedence",
		    "2001:db8:1::1>fd11::2 fd11::1>fd11::2 10.1.2.3>10.1.2.4",
		    "10.1.2.3 fd11::1 2001:db8:1::1" },
		{ "rules 2 and 5 need both sources",
		    "fd00::1>fd00::2 192.0.2.1", "192.0.2.1 fd00::1" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[512];

		sort_case(t[i].in, out, sizeof(out));
		ck_assert_msg(strcmp(out, t[i].want) == 0,
		    "%s: sorted \"%s\" to \"%s\", want \"%s\"", t[i].why,
		    t[i].in, out, t[i].want);
	}
}
END_TEST

/* --- interleaving ------------------------------------------------------------ */

START_TEST(test_interleave)
{
	/* A* are IPv6 (2001:db8::N), B* IPv4 (192.0.2.N). */
	static const struct {
		int first, count;
		const char *in, *want;
	} t[] = {
		{ AF_INET6, 1, "A1 A2 A3 B1 B2", "A1 B1 A2 B2 A3" },
		{ AF_INET6, 2, "A1 A2 A3 B1 B2", "A1 A2 B1 A3 B2" },
		{ AF_INET6, 3, "A1 A2 A3 B1 B2", "A1 A2 A3 B1 B2" },
		{ AF_INET6, 16, "A1 A2 A3 B1 B2", "A1 A2 A3 B1 B2" },
		{ AF_INET, 1, "A1 A2 A3 B1 B2", "B1 A1 B2 A2 A3" },
		{ AF_INET, 2, "A1 A2 A3 B1 B2 B3", "B1 B2 A1 B3 A2 A3" },
		{ AF_INET6, 1, "B1 A1 B2 A2", "A1 B1 A2 B2" },
		{ AF_INET6, 1, "B1 B2 B3", "B1 B2 B3" },
		{ AF_INET6, 2, "B1 B2 B3", "B1 B2 B3" },
		{ AF_INET, 1, "A1 A2", "A1 A2" },
		{ AF_INET6, 1, "A1 B1 B2 B3", "A1 B1 B2 B3" },
		{ AF_INET6, 1, "A1", "A1" },
		{ AF_INET6, 1, "", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		union sockaddr_any in[16];
		char names[16][4], buf[128], *tok, *save = NULL, out[128];
		size_t n = 0, order[16], k;

		util_strlcpy(buf, t[i].in, sizeof(buf));
		for (tok = strtok_r(buf, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			char a[64];

			snprintf(a, sizeof(a), tok[0] == 'A' ? "2001:db8::%s" :
			    "192.0.2.%s", tok + 1);
			in[n] = ip(a);
			util_strlcpy(names[n], tok, sizeof(names[n]));
			n++;
		}
		happy_interleave(in, n, t[i].first, t[i].count, order);
		out[0] = '\0';
		for (k = 0; k < n; k++)
			append(out, sizeof(out), names[order[k]]);
		ck_assert_msg(strcmp(out, t[i].want) == 0,
		    "first %s count %d: \"%s\" -> \"%s\", want \"%s\"",
		    t[i].first == AF_INET6 ? "ipv6" : "ipv4", t[i].count,
		    t[i].in, out, t[i].want);
	}
}
END_TEST

/* --- the scheduler in a scripted world ------------------------------------- */

/* A lookup's answer: `addrs` ("" for none) arrives at `at` (< 0: never). */
struct sim_answer {
	int64_t at;
	unsigned which;
	const char *addrs;
};

/*
 * How an address answers a connection attempt: after `after` ms it
 * connects (err 0) or fails with `err`; after 0 with an error is a
 * connect() that fails at once. The address "*" stands for every address
 * not listed before it. Addresses not listed never answer (black-holed).
 */
struct sim_peer {
	const char *addr;
	int64_t after;
	int err;
};

struct sim_case {
	const char *name;
	struct happy_params p;
	unsigned pending;
	struct sim_answer ans[4];
	struct sim_peer peer[10];
	const char *deny;	/* addresses the access check refuses */
	const char *want;
	/*
	 * Do as the connector does for an IPv4 literal that fails at once
	 * with ENETUNREACH: start the NAT64 prefix lookup (the V6 answer).
	 */
	bool nat64;
	bool off;	/* Happy Eyeballs off (happy_set_on()) */
};

#define P_DEFAULT { 250, 50, 1, AF_INET6, 10000 }
#define BOTH (HAPPY_LOOKUP_V6 | HAPPY_LOOKUP_V4)
#define V6 HAPPY_LOOKUP_V6
#define V4 HAPPY_LOOKUP_V4
#define ADDRS16_V6 "2001:db8::1 2001:db8::2 2001:db8::3 2001:db8::4 " \
	"2001:db8::5 2001:db8::6 2001:db8::7 2001:db8::8 2001:db8::9 " \
	"2001:db8::a 2001:db8::b 2001:db8::c 2001:db8::d 2001:db8::e " \
	"2001:db8::f 2001:db8::10"
#define ADDRS16_V4 "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 " \
	"192.0.2.6 192.0.2.7 192.0.2.8 192.0.2.9 192.0.2.10 192.0.2.11 " \
	"192.0.2.12 192.0.2.13 192.0.2.14 192.0.2.15 192.0.2.16"

static const struct sim_peer *
sim_peer_of(const struct sim_case *k, const union sockaddr_any *a)
{
	size_t i;

	for (i = 0; i < 10 && k->peer[i].addr != NULL; i++) {
		union sockaddr_any p;

		if (strcmp(k->peer[i].addr, "*") == 0)
			return &k->peer[i];
		p = ip(k->peer[i].addr);
		if (sockaddr_equal_ip(&p.sa, &a->sa))
			return &k->peer[i];
	}
	return NULL;
}

static bool
sim_denied(const struct sim_case *k, const char *addr)
{
	char buf[256], *tok, *save = NULL;

	if (k->deny == NULL)
		return false;
	util_strlcpy(buf, k->deny, sizeof(buf));
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save))
		if (strcmp(tok, addr) == 0)
			return true;
	return false;
}

/*
 * Run a case to its end. The trace: "S<t>=<addr>" for each attempt
 * started, "X<t>=<addr>" for each abandoned, then "OK<t>=<addr>" or
 * "FAIL<t>=<rep>".
 */
static void
sim_run(const struct sim_case *k, char *out, size_t cap)
{
	struct happy h;
	bool ans_done[4] = { false, false, false, false };
	int64_t due[HAPPY_MAX_CANDS];
	int64_t t = 0;
	int iter;

	for (iter = 0; iter < HAPPY_MAX_CANDS; iter++)
		due[iter] = -1;
	out[0] = '\0';
	happy_init(&h, &k->p, 0, k->pending);
	happy_set_on(&h, !k->off);
	for (iter = 0; iter < 1000; iter++) {
		int64_t next = INT64_MAX, wake = 0;
		char item[128], a[SOCKADDR_STRLEN];
		size_t i, idx = 0;

		/* Answers due now, in the order listed. */
		for (i = 0; i < 4 && k->ans[i].which != 0; i++) {
			union sockaddr_any list[16];
			char buf[256], *tok, *save = NULL;
			size_t n = 0;

			if (ans_done[i] || k->ans[i].at < 0 || k->ans[i].at > t)
				continue;
			ans_done[i] = true;
			util_strlcpy(buf, k->ans[i].addrs, sizeof(buf));
			for (tok = strtok_r(buf, " ", &save); tok != NULL;
			    tok = strtok_r(NULL, " ", &save)) {
				if (sim_denied(k, tok))
					happy_denied(&h);
				else
					list[n++] = ip(tok);
			}
			/* Without lookups, a literal (and its NAT64 twin). */
			(void)happy_add(&h, list, n,
			    k->pending == 0 ? HAPPY_F_LITERAL : 0, t);
			happy_lookup_done(&h, k->ans[i].which, t);
		}
		/* Attempts that end now. */
		for (i = 0; i < h.n; i++) {
			const struct sim_peer *p;

			if (due[i] < 0 || due[i] > t)
				continue;
			due[i] = -1;
			p = sim_peer_of(k, &h.c[i].addr);
			if (p->err == 0) {
				snprintf(item, sizeof(item), "OK%lld=%s",
				    (long long)t, ipstr(&h.c[i].addr, a, sizeof(a)));
				append(out, cap, item);
				return;
			}
			happy_attempt_failed(&h, i, p->err, t);
		}
		/* What the scheduler wants. */
		for (;;) {
			enum happy_action act = happy_next(&h, t, &idx, &wake);
			const struct sim_peer *p;

			if (act == HAPPY_WAIT)
				break;
			if (act == HAPPY_ABANDON) {
				snprintf(item, sizeof(item), "X%lld=%s",
				    (long long)t,
				    ipstr(&h.c[idx].addr, a, sizeof(a)));
				append(out, cap, item);
				due[idx] = -1;
				continue;
			}
			if (act == HAPPY_FAIL) {
				int err;

				snprintf(item, sizeof(item), "FAIL%lld=%d",
				    (long long)t, happy_result(&h, &err));
				append(out, cap, item);
				return;
			}
			snprintf(item, sizeof(item), "S%lld=%s", (long long)t,
			    ipstr(&h.c[idx].addr, a, sizeof(a)));
			append(out, cap, item);
			/* Off: never a second attempt in flight. */
			ck_assert_msg(!k->off || h.running == 1,
			    "%s: %d in flight: %s", k->name, h.running, out);
			p = sim_peer_of(k, &h.c[idx].addr);
			if (p == NULL)
				continue;		/* black hole */
			if (p->after == 0 && p->err != 0) {
				if (k->nat64 && p->err == ENETUNREACH &&
				    h.c[idx].addr.sa.sa_family == AF_INET)
					happy_lookup_start(&h, V6);
				happy_attempt_failed(&h, idx, p->err, t);
				continue;
			}
			due[idx] = t + p->after;
		}
		/* Move the clock to the next thing that happens. */
		ck_assert_int_gt(wake, t - 1);
		next = wake;
		for (size_t j = 0; j < 4 && k->ans[j].which != 0; j++)
			if (!ans_done[j] && k->ans[j].at >= 0 &&
			    k->ans[j].at < next)
				next = k->ans[j].at;
		for (size_t j = 0; j < h.n; j++)
			if (due[j] >= 0 && due[j] < next)
				next = due[j];
		ck_assert_msg(next >= t, "%s: time went back", k->name);
		t = next;
	}
	ck_abort_msg("%s: no end after 1000 steps: %s", k->name, out);
}

static const struct sim_case sim_cases[] = {
	{ "AAAA first, IPv6 black-holed: IPv4 one attempt delay later",
	    P_DEFAULT, BOTH,
	    { { 10, V6, "2001:db8::1" }, { 20, V4, "192.0.2.1" } },
	    { { "192.0.2.1", 5, 0 } }, NULL,
	    "S10=2001:db8::1 S260=192.0.2.1 OK265=192.0.2.1", false, false },
	{ "both healthy: IPv6 wins",
	    P_DEFAULT, BOTH,
	    { { 10, V6, "2001:db8::1" }, { 12, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 5, 0 }, { "192.0.2.1", 5, 0 } }, NULL,
	    "S10=2001:db8::1 OK15=2001:db8::1", false, false },
	{ "A first, AAAA within the resolution delay: IPv6 first",
	    P_DEFAULT, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 40, V6, "2001:db8::1" } },
	    { { "2001:db8::1", 5, 0 } }, NULL,
	    "S40=2001:db8::1 OK45=2001:db8::1", false, false },
	{ "A first, AAAA 2 s late: IPv4 after the resolution delay",
	    P_DEFAULT, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 2000, V6, "2001:db8::1" } },
	    { { "192.0.2.1", 5, 0 }, { "2001:db8::1", 5, 0 } }, NULL,
	    "S60=192.0.2.1 OK65=192.0.2.1", false, false },
	{ "late AAAA joins while IPv4 hangs",
	    P_DEFAULT, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 1000, V6, "2001:db8::1" } },
	    { { "2001:db8::1", 5, 0 } }, NULL,
	    "S60=192.0.2.1 S1000=2001:db8::1 OK1005=2001:db8::1", false, false },
	{ "late answer inside the attempt delay waits for it",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 100, V4, "192.0.2.1" } },
	    { { "192.0.2.1", 1, 0 } }, NULL,
	    "S0=2001:db8::1 S250=192.0.2.1 OK251=192.0.2.1", false, false },
	{ "AAAA NODATA during the resolution delay: IPv4 at once",
	    P_DEFAULT, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 30, V6, "" } },
	    { { "192.0.2.1", 5, 0 } }, NULL,
	    "S30=192.0.2.1 OK35=192.0.2.1", false, false },
	{ "resolution delay 0",
	    { 250, 0, 1, AF_INET6, 10000 }, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 30, V6, "2001:db8::1" } },
	    { { "192.0.2.1", 5, 0 } }, NULL,
	    "S10=192.0.2.1 OK15=192.0.2.1", false, false },
	{ "a failure starts the next at once",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1 2001:db8::2" }, { 0, V4, "192.0.2.1 192.0.2.2" } },
	    { { "2001:db8::1", 1, ECONNREFUSED }, { "192.0.2.1", 1, ECONNREFUSED },
	      { "2001:db8::2", 1, ECONNREFUSED }, { "192.0.2.2", 1, 0 } }, NULL,
	    "S0=2001:db8::1 S1=192.0.2.1 S2=2001:db8::2 S3=192.0.2.2 OK4=192.0.2.2", false, false },
	{ "eight addresses, only the last works",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" },
	      { 0, V4, "192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 "
		"192.0.2.7 192.0.2.8" } },
	    { { "192.0.2.3", 1, ECONNREFUSED }, { "192.0.2.5", 1, ECONNREFUSED },
	      { "192.0.2.7", 1, ECONNREFUSED }, { "192.0.2.8", 1, 0 } }, NULL,
	    "S0=2001:db8::1 S250=192.0.2.2 S500=192.0.2.3 S501=192.0.2.4 "
	    "S751=192.0.2.5 S752=192.0.2.6 X2000=2001:db8::1 S2000=192.0.2.7 "
	    "S2001=192.0.2.8 OK2002=192.0.2.8", false, false },
	{ "first_family_count 2",
	    { 100, 50, 2, AF_INET6, 10000 }, BOTH,
	    { { 0, V6, "2001:db8::1 2001:db8::2 2001:db8::3" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::3", 1, 0 } }, NULL,
	    "S0=2001:db8::1 S100=2001:db8::2 S200=192.0.2.1 S300=2001:db8::3 "
	    "OK301=2001:db8::3", false, false },
	{ "prefer ipv4: A starts, AAAA waits its turn",
	    { 250, 50, 1, AF_INET, 10000 }, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 20, V6, "2001:db8::1" } },
	    { { "2001:db8::1", 5, 0 } }, NULL,
	    "S10=192.0.2.1 S260=2001:db8::1 OK265=2001:db8::1", false, false },
	{ "prefer ipv4: AAAA first waits for A",
	    { 250, 50, 1, AF_INET, 10000 }, BOTH,
	    { { 10, V6, "2001:db8::1" }, { 30, V4, "192.0.2.1" } },
	    { { "192.0.2.1", 5, 0 } }, NULL,
	    "S30=192.0.2.1 OK35=192.0.2.1", false, false },
	{ "literal",
	    P_DEFAULT, 0,
	    { { 0, V4, "192.0.2.1" } },
	    { { "192.0.2.1", 1, 0 } }, NULL,
	    "S0=192.0.2.1 OK1=192.0.2.1", false, false },
	{ "duplicates are tried once",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1 2001:db8::1" }, { 0, V4, "" } },
	    { { "2001:db8::1", 1, ECONNREFUSED } }, NULL,
	    "S0=2001:db8::1 FAIL1=5", false, false },
	{ "all refused: REP 5",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 1, ECONNREFUSED }, { "192.0.2.1", 1, ECONNREFUSED } },
	    NULL, "S0=2001:db8::1 S1=192.0.2.1 FAIL2=5", false, false },
	{ "refused beats a timeout",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { "192.0.2.1", 1, ECONNREFUSED } }, NULL,
	    "S0=2001:db8::1 S250=192.0.2.1 FAIL10000=5", false, false },
	{ "all black-holed: REP 6 at the deadline",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { NULL, 0, 0 } }, NULL,
	    "S0=2001:db8::1 S250=192.0.2.1 FAIL10000=6", false, false },
	{ "network unreachable at once, then a black hole: REP 3",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 0, ENETUNREACH } }, NULL,
	    "S0=2001:db8::1 S0=192.0.2.1 FAIL10000=3", false, false },
	{ "host unreachable beats network unreachable",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 0, ENETUNREACH }, { "192.0.2.1", 3, EHOSTUNREACH } },
	    NULL, "S0=2001:db8::1 S0=192.0.2.1 FAIL3=4", false, false },
	{ "NXDOMAIN: REP 4, no attempt",
	    P_DEFAULT, BOTH,
	    { { 5, V6, "" }, { 6, V4, "" } },
	    { { NULL, 0, 0 } }, NULL,
	    "FAIL6=4", false, false },
	{ "no answer at all: REP 6 at the deadline",
	    P_DEFAULT, BOTH,
	    { { -1, V6, "" }, { -1, V4, "" } },
	    { { NULL, 0, 0 } }, NULL,
	    "FAIL10000=6", false, false },
	{ "every address refused by the access check: REP 2",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 1, 0 }, { "192.0.2.1", 1, 0 } },
	    "2001:db8::1 192.0.2.1", "FAIL0=2", false, false },
	{ "a refused address is skipped",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 1, 0 }, { "192.0.2.1", 1, 0 } },
	    "2001:db8::1", "S0=192.0.2.1 OK1=192.0.2.1", false, false },
	{ "skipped, and the rest time out: REP 6",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 0, V4, "192.0.2.1" } },
	    { { NULL, 0, 0 } },
	    "2001:db8::1", "S0=192.0.2.1 FAIL10000=6", false, false },
	{ "attempt delay 100, three black holes, 1 s timeout",
	    { 100, 50, 1, AF_INET6, 1000 }, BOTH,
	    { { 0, V6, "2001:db8::1 2001:db8::2" }, { 0, V4, "192.0.2.1" } },
	    { { NULL, 0, 0 } }, NULL,
	    "S0=2001:db8::1 S100=192.0.2.1 S200=2001:db8::2 FAIL1000=6",
	    false, false },
	/*
	 * The caps: a name with 16 AAAA and 16 A records holds at most
	 * HAPPY_MAX_INFLIGHT sockets at once and makes HAPPY_MAX_ATTEMPTS
	 * attempts in all.
	 */
	{ "16 AAAA and 16 A black-holed: 4 at a time, 16 in all",
	    P_DEFAULT, BOTH,
	    { { 0, V6, ADDRS16_V6 }, { 0, V4, ADDRS16_V4 } },
	    { { NULL, 0, 0 } }, NULL,
	    "S0=2001:db8::1 S250=192.0.2.1 S500=2001:db8::2 S750=192.0.2.2 "
	    "X2000=2001:db8::1 S2000=2001:db8::3 X2250=192.0.2.1 S2250=192.0.2.3 "
	    "X2500=2001:db8::2 S2500=2001:db8::4 X2750=192.0.2.2 S2750=192.0.2.4 "
	    "X4000=2001:db8::3 S4000=2001:db8::5 X4250=192.0.2.3 S4250=192.0.2.5 "
	    "X4500=2001:db8::4 S4500=2001:db8::6 X4750=192.0.2.4 S4750=192.0.2.6 "
	    "X6000=2001:db8::5 S6000=2001:db8::7 X6250=192.0.2.5 S6250=192.0.2.7 "
	    "X6500=2001:db8::6 S6500=2001:db8::8 X6750=192.0.2.6 S6750=192.0.2.8 "
	    "FAIL10000=6", false, false },
	{ "a failure frees a place: the next starts at once",
	    P_DEFAULT, BOTH,
	    { { 0, V6, ADDRS16_V6 }, { 0, V4, ADDRS16_V4 } },
	    { { "2001:db8::1", 1500, ECONNREFUSED }, { "2001:db8::3", 1, 0 } },
	    NULL,
	    "S0=2001:db8::1 S250=192.0.2.1 S500=2001:db8::2 S750=192.0.2.2 "
	    "S1500=2001:db8::3 OK1501=2001:db8::3", false, false },
	{ "black holes give their places up: the sixth address is reached",
	    P_DEFAULT, BOTH,
	    { { 0, V6, ADDRS16_V6 }, { 0, V4, ADDRS16_V4 } },
	    { { "192.0.2.3", 1, 0 } }, NULL,
	    "S0=2001:db8::1 S250=192.0.2.1 S500=2001:db8::2 S750=192.0.2.2 "
	    "X2000=2001:db8::1 S2000=2001:db8::3 X2250=192.0.2.1 S2250=192.0.2.3 "
	    "OK2251=192.0.2.3", false, false },
	{ "16 AAAA and 16 A refused: 16 attempts, then REP 5",
	    P_DEFAULT, BOTH,
	    { { 0, V6, ADDRS16_V6 }, { 0, V4, ADDRS16_V4 } },
	    { { "*", 1, ECONNREFUSED } }, NULL,
	    "S0=2001:db8::1 S1=192.0.2.1 S2=2001:db8::2 S3=192.0.2.2 "
	    "S4=2001:db8::3 S5=192.0.2.3 S6=2001:db8::4 S7=192.0.2.4 "
	    "S8=2001:db8::5 S9=192.0.2.5 S10=2001:db8::6 S11=192.0.2.6 "
	    "S12=2001:db8::7 S13=192.0.2.7 S14=2001:db8::8 S15=192.0.2.8 "
	    "FAIL16=5", false, false },
	{ "16 attempts used, a late answer is not tried",
	    P_DEFAULT, BOTH,
	    { { 0, V4, ADDRS16_V4 }, { 5000, V6, "2001:db8::1" } },
	    { { "*", 1, ECONNREFUSED } }, NULL,
	    "S50=192.0.2.1 S51=192.0.2.2 S52=192.0.2.3 S53=192.0.2.4 "
	    "S54=192.0.2.5 S55=192.0.2.6 S56=192.0.2.7 S57=192.0.2.8 "
	    "S58=192.0.2.9 S59=192.0.2.10 S60=192.0.2.11 S61=192.0.2.12 "
	    "S62=192.0.2.13 S63=192.0.2.14 S64=192.0.2.15 S65=192.0.2.16 "
	    "FAIL66=5", false, false },
	{ "NAT64: the literal fails at once, the synthesised address joins",
	    P_DEFAULT, 0,
	    { { 0, V4, "192.0.2.1" }, { 30, V6, "64:ff9b::c000:201" } },
	    { { "192.0.2.1", 0, ENETUNREACH }, { "64:ff9b::c000:201", 2, 0 } },
	    NULL, "S0=192.0.2.1 S30=64:ff9b::c000:201 OK32=64:ff9b::c000:201",
	    true, false },
	{ "NAT64: no prefix, REP 3",
	    P_DEFAULT, 0,
	    { { 0, V4, "192.0.2.1" }, { 30, V6, "" } },
	    { { "192.0.2.1", 0, ENETUNREACH } },
	    NULL, "S0=192.0.2.1 FAIL30=3", true, false },
	/*
	 * Happy Eyeballs off: one family, in order, one at a time. Each
	 * attempt outlasts the attempt delay (250), so a racing scheduler
	 * would have started the next long before.
	 */
	{ "off: one family, in order, the next only after a failure",
	    P_DEFAULT, BOTH,
	    { { 10, V6, "2001:db8::1 2001:db8::2 2001:db8::3" },
	      { 12, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 300, ECONNREFUSED },
	      { "2001:db8::2", 400, EHOSTUNREACH },
	      { "2001:db8::3", 5, 0 }, { "192.0.2.1", 1, 0 } }, NULL,
	    "S10=2001:db8::1 S310=2001:db8::2 S710=2001:db8::3 "
	    "OK715=2001:db8::3", false, true },
	{ "off: the preferred family all fails: the other is never tried",
	    P_DEFAULT, BOTH,
	    { { 10, V6, "2001:db8::1 2001:db8::2" }, { 12, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 300, ECONNREFUSED },
	      { "2001:db8::2", 300, ECONNREFUSED }, { "192.0.2.1", 1, 0 } },
	    NULL, "S10=2001:db8::1 S310=2001:db8::2 FAIL610=5", false, true },
	{ "off: a black hole keeps its turn until the deadline",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1 2001:db8::2" }, { 0, V4, "192.0.2.1" } },
	    { { "2001:db8::2", 1, 0 }, { "192.0.2.1", 1, 0 } }, NULL,
	    "S0=2001:db8::1 FAIL10000=6", false, true },
	{ "off: AAAA late: the A answer waits for it, no resolution delay",
	    P_DEFAULT, BOTH,
	    { { 10, V4, "192.0.2.1" }, { 2000, V6, "2001:db8::1" } },
	    { { "192.0.2.1", 1, 0 }, { "2001:db8::1", 5, 0 } }, NULL,
	    "S2000=2001:db8::1 OK2005=2001:db8::1", false, true },
	{ "off: no AAAA: fallback to A, in order, one at a time",
	    P_DEFAULT, BOTH,
	    { { 10, V4, "192.0.2.1 192.0.2.2" }, { 500, V6, "" } },
	    { { "192.0.2.1", 300, ECONNREFUSED }, { "192.0.2.2", 1, 0 } },
	    NULL, "S500=192.0.2.1 S800=192.0.2.2 OK801=192.0.2.2", false,
	    true },
	{ "off: every AAAA refused by the access check: fallback to A",
	    P_DEFAULT, BOTH,
	    { { 0, V6, "2001:db8::1" }, { 5, V4, "192.0.2.1" } },
	    { { "2001:db8::1", 1, 0 }, { "192.0.2.1", 1, 0 } },
	    "2001:db8::1", "S5=192.0.2.1 OK6=192.0.2.1", false, true },
	{ "off: prefer ipv4: only A, in order",
	    { 250, 50, 1, AF_INET, 10000 }, BOTH,
	    { { 10, V6, "2001:db8::1" }, { 20, V4, "192.0.2.1 192.0.2.2" } },
	    { { "192.0.2.1", 0, ECONNREFUSED }, { "192.0.2.2", 0, ECONNREFUSED },
	      { "2001:db8::1", 1, 0 } }, NULL,
	    "S20=192.0.2.1 S20=192.0.2.2 FAIL20=5", false, true },
	{ "off: NXDOMAIN: REP 4, no attempt",
	    P_DEFAULT, BOTH,
	    { { 5, V6, "" }, { 6, V4, "" } },
	    { { NULL, 0, 0 } }, NULL,
	    "FAIL6=4", false, true },
	{ "off: a literal is unchanged",
	    P_DEFAULT, 0,
	    { { 0, V4, "192.0.2.1" } },
	    { { "192.0.2.1", 1, 0 } }, NULL,
	    "S0=192.0.2.1 OK1=192.0.2.1", false, true },
	{ "off, prefer ipv4: NAT64 still joins for an IPv4 literal",
	    { 250, 50, 1, AF_INET, 10000 }, 0,
	    { { 0, V4, "192.0.2.1" }, { 30, V6, "64:ff9b::c000:201" } },
	    { { "192.0.2.1", 0, ENETUNREACH }, { "64:ff9b::c000:201", 2, 0 } },
	    NULL, "S0=192.0.2.1 S30=64:ff9b::c000:201 OK32=64:ff9b::c000:201",
	    true, true },
};

START_TEST(test_schedule)
{
	const struct sim_case *k = &sim_cases[_i];
	char out[1024];

	sim_run(k, out, sizeof(out));
	ck_assert_msg(strcmp(out, k->want) == 0, "%s:\n got  %s\n want %s",
	    k->name, out, k->want);
}
END_TEST

/* Scheduler details the worlds above do not show. */
START_TEST(test_schedule_api)
{
	struct happy_params p = P_DEFAULT;
	struct happy h;
	union sockaddr_any a[2];
	size_t idx = 99;
	int64_t wake = -1;
	int err = -1;

	/* Waiting for lookups: wake at the deadline, nothing started. */
	happy_init(&h, &p, 1000, BOTH);
	ck_assert_int_eq(happy_next(&h, 1000, &idx, &wake), HAPPY_WAIT);
	ck_assert_int_eq(wake, 11000);
	/* An A answer: wake at the end of the resolution delay. */
	a[0] = ip("192.0.2.1");
	ck_assert_uint_eq(happy_add(&h, a, 1, HAPPY_F_LITERAL, 1010), 1);
	ck_assert_int_eq(happy_next(&h, 1010, &idx, &wake), HAPPY_WAIT);
	ck_assert_int_eq(wake, 1060);
	ck_assert_int_eq(happy_next(&h, 1060, &idx, &wake), HAPPY_START);
	ck_assert_uint_eq(idx, 0);
	ck_assert_uint_eq(h.c[0].flags, HAPPY_F_LITERAL);
	ck_assert_int_eq(h.c[0].state, HAPPY_RUNNING);
	ck_assert_int_eq(happy_attempts(&h), 1);
	/* Nothing more to try: wait for the deadline (or the AAAA). */
	ck_assert_int_eq(happy_next(&h, 1060, &idx, &wake), HAPPY_WAIT);
	ck_assert_int_eq(wake, 11000);
	/* The deadline caps the attempt-delay wake-up too. */
	a[0] = ip("2001:db8::1");
	a[1] = ip("2001:db8::2");
	ck_assert_uint_eq(happy_add(&h, a, 2, 0, 10900), 2);
	ck_assert_int_eq(happy_next(&h, 10900, &idx, &wake), HAPPY_START);
	ck_assert_int_eq(happy_next(&h, 10900, &idx, &wake), HAPPY_WAIT);
	ck_assert_int_eq(wake, 11000);
	ck_assert_int_eq(happy_next(&h, 11000, &idx, &wake), HAPPY_FAIL);
	ck_assert_int_eq(happy_result(&h, &err), SOCKS5_REP_TTL_EXPIRED);
	ck_assert_int_eq(err, ETIMEDOUT);
	/* Still FAIL, the same answer, when asked again. */
	ck_assert_int_eq(happy_next(&h, 11001, &idx, &wake), HAPPY_FAIL);
	ck_assert_int_eq(happy_result(&h, &err), SOCKS5_REP_TTL_EXPIRED);
}
END_TEST

/* Off: when the caller should look up the other family, and not before. */
START_TEST(test_off_fallback)
{
	struct happy_params p = P_DEFAULT;
	struct happy h;
	union sockaddr_any a[2];
	size_t idx = 99;
	int64_t wake = -1;

	/* On: never asks for a fallback. */
	happy_init(&h, &p, 0, V6);
	happy_lookup_done(&h, V6, 5);
	ck_assert(!happy_need_fallback(&h));

	/* Off, the AAAA lookup alone: no address, so look A up now. */
	happy_init(&h, &p, 0, V6);
	happy_set_on(&h, false);
	ck_assert(!happy_need_fallback(&h));	/* still pending */
	happy_lookup_start(&h, V4);
	happy_lookup_done(&h, V6, 5);
	ck_assert(happy_need_fallback(&h));
	ck_assert_int_eq(happy_next(&h, 5, &idx, &wake), HAPPY_WAIT);
	ck_assert_int_eq(wake, 10000);
	a[0] = ip("192.0.2.1");
	a[1] = ip("192.0.2.2");
	ck_assert_uint_eq(happy_add(&h, a, 2, 0, 20), 2);
	happy_lookup_done(&h, V4, 20);
	ck_assert_int_eq(happy_next(&h, 20, &idx, &wake), HAPPY_START);
	ck_assert_uint_eq(idx, 0);
	/* One in flight: the second waits, past any attempt delay. */
	ck_assert_int_eq(happy_next(&h, 5000, &idx, &wake), HAPPY_WAIT);
	ck_assert_int_eq(wake, 10000);
	happy_attempt_failed(&h, 0, ECONNREFUSED, 5000);
	ck_assert_int_eq(happy_next(&h, 5000, &idx, &wake), HAPPY_START);
	ck_assert_uint_eq(idx, 1);

	/* Off, an AAAA answer: no fallback, ever. */
	happy_init(&h, &p, 0, BOTH);
	happy_set_on(&h, false);
	a[0] = ip("2001:db8::1");
	ck_assert_uint_eq(happy_add(&h, a, 1, 0, 5), 1);
	happy_lookup_done(&h, V6, 5);
	ck_assert(!happy_need_fallback(&h));
}
END_TEST

/*
 * When the deadline ends the race with work outstanding, the errno is
 * ETIMEDOUT even though a better reply code (an earlier refusal) stands;
 * a failure merely reported after the deadline keeps its own errno.
 */
START_TEST(test_deadline_errno)
{
	struct happy_params p = P_DEFAULT;
	struct happy h;
	union sockaddr_any a[2];
	size_t idx = 99;
	int64_t wake = -1;
	int err = -1, off;

	a[0] = ip("192.0.2.1");
	a[1] = ip("192.0.2.2");
	for (off = 0; off < 2; off++) {
		/* Refused, then a black hole until the deadline. */
		happy_init(&h, &p, 0, 0);
		happy_set_on(&h, !off);
		ck_assert_uint_eq(happy_add(&h, a, 2, HAPPY_F_LITERAL, 0), 2);
		ck_assert_int_eq(happy_next(&h, 0, &idx, &wake), HAPPY_START);
		happy_attempt_failed(&h, idx, ECONNREFUSED, 1);
		ck_assert_int_eq(happy_next(&h, 1, &idx, &wake), HAPPY_START);
		ck_assert_int_eq(happy_next(&h, 1, &idx, &wake), HAPPY_WAIT);
		ck_assert_int_eq(wake, 10000);
		ck_assert_int_eq(happy_next(&h, 10000, &idx, &wake), HAPPY_FAIL);
		ck_assert_int_eq(happy_result(&h, &err),
		    SOCKS5_REP_CONN_REFUSED);
		ck_assert_int_eq(err, ETIMEDOUT);
		ck_assert_int_eq(happy_next(&h, 10001, &idx, &wake), HAPPY_FAIL);
		ck_assert_int_eq(happy_result(&h, &err),
		    SOCKS5_REP_CONN_REFUSED);
		ck_assert_int_eq(err, ETIMEDOUT);

		/* The last attempt fails, heard of only at the deadline. */
		happy_init(&h, &p, 0, 0);
		happy_set_on(&h, !off);
		ck_assert_uint_eq(happy_add(&h, a, 1, HAPPY_F_LITERAL, 0), 1);
		ck_assert_int_eq(happy_next(&h, 0, &idx, &wake), HAPPY_START);
		happy_attempt_failed(&h, idx, EHOSTUNREACH, 10005);
		ck_assert_int_eq(happy_next(&h, 10005, &idx, &wake), HAPPY_FAIL);
		ck_assert_int_eq(happy_result(&h, &err),
		    SOCKS5_REP_HOST_UNREACHABLE);
		ck_assert_int_eq(err, EHOSTUNREACH);
	}
}
END_TEST

START_TEST(test_capacity)
{
	struct happy_params p = P_DEFAULT;
	struct happy h;
	union sockaddr_any a[HAPPY_MAX_CANDS + 5];
	size_t i;

	for (i = 0; i < HAPPY_MAX_CANDS + 5; i++) {
		char s[64];

		snprintf(s, sizeof(s), "2001:db8::%zx", i + 1);
		a[i] = ip(s);
	}
	happy_init(&h, &p, 0, 0);
	ck_assert_uint_eq(happy_add(&h, a, HAPPY_MAX_CANDS + 5, 0, 0),
	    HAPPY_MAX_CANDS);
	ck_assert_uint_eq(happy_add(&h, a, 1, 0, 0), 0);
}
END_TEST

/* 16 AAAA + 16 A records, all black holes, then all refusing at once. */
static void
caps_setup(struct happy *h)
{
	struct happy_params p = P_DEFAULT;
	union sockaddr_any a6[16], a4[16];
	size_t i;

	for (i = 0; i < 16; i++) {
		char s[64];

		snprintf(s, sizeof(s), "2001:db8::%zx", i + 1);
		a6[i] = ip(s);
		snprintf(s, sizeof(s), "192.0.2.%zu", i + 1);
		a4[i] = ip(s);
	}
	happy_init(h, &p, 0, BOTH);
	ck_assert_uint_eq(happy_add(h, a6, 16, 0, 0), 16);
	happy_lookup_done(h, V6, 0);
	ck_assert_uint_eq(happy_add(h, a4, 16, 0, 0), 16);
	happy_lookup_done(h, V4, 0);
}

/*
 * Black holes: never more than four in flight; the oldest gives its place
 * after HAPPY_STALE_MS; 16 started in all, then the timeout.
 */
START_TEST(test_cap_inflight)
{
	struct happy h;
	int64_t t, wake = 0, first_abandon = -1;
	size_t idx = 0;
	int starts = 0, abandons = 0, err = 0;
	enum happy_action act = HAPPY_WAIT;

	caps_setup(&h);
	for (t = 0; t <= 10000; t = wake) {
		while ((act = happy_next(&h, t, &idx, &wake)) != HAPPY_WAIT &&
		    act != HAPPY_FAIL) {
			if (act == HAPPY_START) {
				starts++;
				if (starts <= HAPPY_MAX_INFLIGHT)
					ck_assert_int_lt(t, HAPPY_STALE_MS);
			} else {
				if (first_abandon < 0)
					first_abandon = t;
				abandons++;
			}
			ck_assert_int_le(h.running, HAPPY_MAX_INFLIGHT);
		}
		if (act == HAPPY_FAIL)
			break;
		ck_assert_int_gt(wake, t);
	}
	ck_assert_int_eq(act, HAPPY_FAIL);
	ck_assert_int_eq(t, 10000);	/* the timeout, nothing else */
	ck_assert_int_eq(first_abandon, HAPPY_STALE_MS);
	ck_assert_int_eq(starts, HAPPY_MAX_ATTEMPTS);
	ck_assert_int_eq(abandons, HAPPY_MAX_ATTEMPTS - HAPPY_MAX_INFLIGHT);
	ck_assert_int_eq(happy_attempts(&h), HAPPY_MAX_ATTEMPTS);
	ck_assert_int_eq(happy_result(&h, &err), SOCKS5_REP_TTL_EXPIRED);
}
END_TEST

/*
 * Each failure frees its place, so refusals go on: up to 16 attempts in
 * all, then the request fails with the refusal though 16 are untried.
 */
START_TEST(test_cap_total)
{
	struct happy h;
	int64_t wake = 0;
	size_t idx = 0;
	enum happy_action act;
	int starts = 0, err = 0, guard;

	caps_setup(&h);
	for (guard = 0; guard < 100; guard++) {
		act = happy_next(&h, 0, &idx, &wake);
		if (act != HAPPY_START)
			break;
		starts++;
		ck_assert_int_le(h.running, HAPPY_MAX_INFLIGHT);
		happy_attempt_failed(&h, idx, ECONNREFUSED, 0);
	}
	ck_assert_int_eq(act, HAPPY_FAIL);
	ck_assert_int_eq(starts, HAPPY_MAX_ATTEMPTS);
	ck_assert_int_eq(happy_attempts(&h), HAPPY_MAX_ATTEMPTS);
	ck_assert_int_eq(happy_result(&h, &err), SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(err, ECONNREFUSED);
}
END_TEST

/* --- reply codes -------------------------------------------------------------- */

START_TEST(test_errno_to_rep)
{
	ck_assert_int_eq(happy_errno_to_rep(0), SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(happy_errno_to_rep(ENETUNREACH), SOCKS5_REP_NET_UNREACHABLE);
	ck_assert_int_eq(happy_errno_to_rep(ENETDOWN), SOCKS5_REP_NET_UNREACHABLE);
	ck_assert_int_eq(happy_errno_to_rep(EHOSTUNREACH), SOCKS5_REP_HOST_UNREACHABLE);
	ck_assert_int_eq(happy_errno_to_rep(EADDRNOTAVAIL), SOCKS5_REP_HOST_UNREACHABLE);
	ck_assert_int_eq(happy_errno_to_rep(ECONNREFUSED), SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(happy_errno_to_rep(ECONNRESET), SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(happy_errno_to_rep(ETIMEDOUT), SOCKS5_REP_TTL_EXPIRED);
	ck_assert_int_eq(happy_errno_to_rep(EACCES), SOCKS5_REP_NOT_ALLOWED);
	ck_assert_int_eq(happy_errno_to_rep(EAFNOSUPPORT), SOCKS5_REP_ATYP_NOT_SUPPORTED);
	ck_assert_int_eq(happy_errno_to_rep(EMFILE), SOCKS5_REP_GENERAL_FAILURE);
}
END_TEST

/* Failures in every order: the most meaningful one wins. */
START_TEST(test_rep_ranking)
{
	static const int errs[] = {
		ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT, EACCES,
		EAFNOSUPPORT, EMFILE,
	};
	size_t n = sizeof(errs) / sizeof(errs[0]), first, k;

	for (first = 0; first < n; first++) {
		for (k = first; k < n; k++) {
			struct happy_params p = P_DEFAULT;
			struct happy h;
			union sockaddr_any a[2];
			size_t idx, i;
			int64_t wake;
			int err;

			/* errs[k] first, then errs[first] (the better one). */
			a[0] = ip("192.0.2.1");
			a[1] = ip("192.0.2.2");
			happy_init(&h, &p, 0, 0);
			ck_assert_uint_eq(happy_add(&h, a, 2, 0, 0), 2);
			for (i = 0; i < 2; i++) {
				ck_assert_int_eq(happy_next(&h, 0, &idx, &wake),
				    HAPPY_START);
				happy_attempt_failed(&h, idx,
				    i == 0 ? errs[k] : errs[first], 0);
			}
			ck_assert_int_eq(happy_next(&h, 0, &idx, &wake), HAPPY_FAIL);
			ck_assert_int_eq(happy_result(&h, &err),
			    happy_errno_to_rep(errs[first]));
			ck_assert_int_eq(err, errs[first]);
		}
	}
}
END_TEST

/* --- NAT64 ---------------------------------------------------------------------- */

static struct happy_pref64
pref(const char *p, int len)
{
	struct happy_pref64 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(inet_pton(AF_INET6, p, &r.prefix), 1);
	r.len = (uint8_t)len;
	return r;
}

/* RFC 6052 section 2.4: 192.0.2.33 under each prefix length. */
START_TEST(test_pref64_synth)
{
	static const struct {
		const char *prefix;
		int len;
		const char *want;
	} t[] = {
		{ "2001:db8::", 32, "2001:db8:c000:221::" },
		{ "2001:db8:100::", 40, "2001:db8:1c0:2:21::" },
		{ "2001:db8:122::", 48, "2001:db8:122:c000:2:2100::" },
		{ "2001:db8:122:300::", 56, "2001:db8:122:3c0:0:221::" },
		{ "2001:db8:122:344::", 64, "2001:db8:122:344:c0:2:2100:0" },
		{ "2001:db8:122:344::", 96, "2001:db8:122:344::c000:221" },
		{ "64:ff9b::", 96, "64:ff9b::c000:221" },
	};
	struct in_addr v4;
	size_t i;

	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.33", &v4), 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct happy_pref64 p = pref(t[i].prefix, t[i].len);
		struct in6_addr out, want;
		char buf[INET6_ADDRSTRLEN];

		ck_assert_int_eq(happy_pref64_synth(&p, &v4, &out), 0);
		ck_assert_int_eq(inet_pton(AF_INET6, t[i].want, &want), 1);
		ck_assert_msg(memcmp(&out, &want, 16) == 0, "/%d: got %s, want %s",
		    t[i].len, inet_ntop(AF_INET6, &out, buf, sizeof(buf)),
		    t[i].want);
	}
}
END_TEST

START_TEST(test_pref64_not_synthesised)
{
	static const char *const no[] = {
		"0.0.0.1", "127.0.0.1", "169.254.1.1", "224.0.0.1",
		"239.1.2.3", "240.0.0.1", "255.255.255.255",
	};
	struct happy_pref64 p = pref("64:ff9b::", 96), bad = pref("64:ff9b::", 80);
	struct in6_addr out;
	struct in_addr v4;
	size_t i;

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		ck_assert_int_eq(inet_pton(AF_INET, no[i], &v4), 1);
		ck_assert_msg(happy_pref64_synth(&p, &v4, &out) == -1,
		    "%s was synthesised", no[i]);
	}
	ck_assert_int_eq(inet_pton(AF_INET, "198.51.100.1", &v4), 1);
	ck_assert_int_eq(happy_pref64_synth(&p, &v4, &out), 0);
	ck_assert_int_eq(happy_pref64_synth(&bad, &v4, &out), -1);
}
END_TEST

/* RFC 7050: the prefix out of an ipv4only.arpa AAAA, for every length. */
START_TEST(test_pref64_discovery)
{
	static const struct {
		const char *aaaa;
		int ok, len;
		const char *prefix;
	} t[] = {
		{ "64:ff9b::c000:aa", 1, 96, "64:ff9b::" },
		{ "64:ff9b::192.0.0.171", 1, 96, "64:ff9b::" },
		{ "2001:db8:122:344::c000:ab", 1, 96, "2001:db8:122:344::" },
		{ "2001:db8:122:344:c0:0:aa00:0", 1, 64, "2001:db8:122:344::" },
		{ "2001:db8:122:3c0:0:aa::", 1, 56, "2001:db8:122:300::" },
		{ "2001:db8:122:c000:0:aa00::", 1, 48, "2001:db8:122::" },
		{ "2001:db8:1c0:0:aa::", 1, 40, "2001:db8:100::" },
		{ "2001:db8:c000:aa::", 1, 32, "2001:db8::" },
		{ "64:ff9b::c000:ac", 0, 0, NULL },	/* 192.0.0.172 */
		{ "2001:db8::1", 0, 0, NULL },
		{ "2001:db8:c000:aa:ff00::", 0, 0, NULL },	/* u octet set */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct in6_addr a;
		struct happy_pref64 p;
		int rc;

		ck_assert_int_eq(inet_pton(AF_INET6, t[i].aaaa, &a), 1);
		rc = happy_pref64_from_aaaa(&a, &p);
		ck_assert_msg((rc == 0) == t[i].ok, "%s: rc %d", t[i].aaaa, rc);
		if (t[i].ok) {
			struct happy_pref64 want = pref(t[i].prefix, t[i].len);
			struct in_addr v4;
			struct in6_addr back;

			ck_assert_msg(p.len == t[i].len, "%s: /%d, want /%d",
			    t[i].aaaa, p.len, t[i].len);
			ck_assert_msg(memcmp(&p.prefix, &want.prefix, 16) == 0,
			    "%s: wrong prefix", t[i].aaaa);
			/* Synthesising the well-known address gives it back. */
			ck_assert_int_eq(inet_pton(AF_INET, "192.0.0.170", &v4), 1);
			ck_assert_int_eq(happy_pref64_synth(&p, &v4, &back), 0);
			ck_assert_int_eq(happy_pref64_from_aaaa(&back, &want), 0);
			ck_assert_int_eq(want.len, p.len);
		}
	}
}
END_TEST

static Suite *
happy_suite(void)
{
	Suite *s = suite_create("happy");
	TCase *tc = tcase_create("sort");

	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_sort);
	tcase_add_test(tc, test_interleave);
	suite_add_tcase(s, tc);

	tc = tcase_create("schedule");
	tcase_add_loop_test(tc, test_schedule, 0,
	    (int)(sizeof(sim_cases) / sizeof(sim_cases[0])));
	tcase_add_test(tc, test_schedule_api);
	tcase_add_test(tc, test_off_fallback);
	tcase_add_test(tc, test_deadline_errno);
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_cap_inflight);
	tcase_add_test(tc, test_cap_total);
	tcase_add_test(tc, test_errno_to_rep);
	tcase_add_test(tc, test_rep_ranking);
	suite_add_tcase(s, tc);

	tc = tcase_create("nat64");
	tcase_add_test(tc, test_pref64_synth);
	tcase_add_test(tc, test_pref64_not_synthesised);
	tcase_add_test(tc, test_pref64_discovery);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(happy_suite(), NULL);
}
