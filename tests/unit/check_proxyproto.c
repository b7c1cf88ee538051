/* SPDX-License-Identifier: ISC */
/*
 * check_proxyproto.c - unit tests for the PROXY protocol header parser
 * (src/proxyproto.c).
 *
 * Headers are written out by hand. Every parse is of an exact-size heap
 * copy, so ASan reports a read past `len`; and every case is checked at
 * every length: a valid header is NEED_MORE up to the byte that completes
 * it, a bad one NEED_MORE up to the byte that spoils it and MALFORMED from
 * there on, whatever follows.
 */
#include "config_auto.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"
#include "unit_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A byte the parser never writes on its own, to see what it touched. */
#define CANARY 0xa5
#define USED_CANARY ((size_t)0xdeadbeef)

/* What a SOCKS5 client sends first: it must never be taken as header. */
static const uint8_t socks_greeting[] = { 0x05, 0x01, 0x00 };

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/*
 * Parse the first n bytes of msg from an exact-size heap copy. On
 * anything but DONE, *h and *used must be as they were (canaries).
 */
static enum proxy_parse
parse(const void *msg, size_t n, struct proxy_header *h, size_t *used)
{
	struct proxy_header canary;
	enum proxy_parse st;
	uint8_t *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, msg, n);
	memset(h, CANARY, sizeof(*h));
	memset(&canary, CANARY, sizeof(canary));
	*used = USED_CANARY;
	st = proxy_parse(p, n, h, used);
	free(p);
	ck_assert_msg(st == PROXY_NEED_MORE || st == PROXY_DONE ||
	    st == PROXY_MALFORMED, "bad verdict %d", st);
	if (st != PROXY_DONE) {
		ck_assert_msg(memcmp(h, &canary, sizeof(*h)) == 0,
		    "header written on verdict %d", st);
		ck_assert_msg(*used == USED_CANARY,
		    "used written on verdict %d", st);
	}
	return st;
}

/* Every prefix of msg[0..n) shorter than k is NEED_MORE. */
static void
need_more_below(const void *msg, size_t k)
{
	struct proxy_header h;
	size_t i, used;

	for (i = 0; i < k; i++)
		ck_assert_msg(parse(msg, i, &h, &used) == PROXY_NEED_MORE,
		    "prefix %zu of %zu: want NEED_MORE", i, k);
}

/*
 * msg[0..n) is bad, first at byte k - 1: shorter prefixes are NEED_MORE,
 * every longer one MALFORMED, and so is the whole followed by a valid
 * line or SOCKS bytes.
 */
static void
malformed_at(const void *msg, size_t n, size_t k)
{
	struct proxy_header h;
	uint8_t buf[1024];
	size_t i, used;

	ck_assert_uint_ge(k, 1);
	ck_assert_uint_le(k, n);
	need_more_below(msg, k);
	for (i = k; i <= n; i++)
		ck_assert_msg(parse(msg, i, &h, &used) == PROXY_MALFORMED,
		    "prefix %zu of %zu: want MALFORMED from %zu", i, n, k);
	ck_assert_uint_le(n + 48, sizeof(buf));
	memcpy(buf, msg, n);
	memcpy(buf + n, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n\x05\x01\x00", 35);
	ck_assert_int_eq(parse(buf, n + 35, &h, &used), PROXY_MALFORMED);
}

/* `line` is bad; `good` is its longest prefix that is not. */
static void
v1_bad(const char *line, const char *good)
{
	size_t n = strlen(line), k = strlen(good);

	ck_assert_msg(strncmp(line, good, k) == 0 && k < n,
	    "test's mistake: \"%s\" is no proper prefix", good);
	malformed_at(line, n, k + 1);
}

/*
 * msg[0..n) is a whole header, complete at byte k - 1 (k == n for v1;
 * v2 stops reading at the addresses): every shorter prefix is NEED_MORE,
 * every longer one and the header followed by SOCKS bytes DONE with the
 * same header and *used == want_used.
 */
static struct proxy_header
done_at(const void *msg, size_t n, size_t k, size_t want_used)
{
	struct proxy_header h, first;
	uint8_t buf[1024];
	size_t i, used;

	need_more_below(msg, k);
	for (i = k; i <= n; i++) {
		ck_assert_msg(parse(msg, i, &h, &used) == PROXY_DONE,
		    "prefix %zu of %zu: want DONE", i, n);
		ck_assert_uint_eq(used, want_used);
		if (i == k)
			first = h;
		else
			ck_assert(memcmp(&h, &first, sizeof(h)) == 0);
	}
	ck_assert_uint_le(n + sizeof(socks_greeting), sizeof(buf));
	memcpy(buf, msg, n);
	memcpy(buf + n, socks_greeting, sizeof(socks_greeting));
	ck_assert_int_eq(parse(buf, n + sizeof(socks_greeting), &h, &used),
	    PROXY_DONE);
	ck_assert_uint_eq(used, want_used);
	ck_assert(memcmp(&h, &first, sizeof(h)) == 0);
	return first;
}

static struct proxy_header
v1_good(const char *line)
{
	size_t n = strlen(line);

	return done_at(line, n, n, n);
}

static void
assert_addr(const union sockaddr_any *sa, const char *ip, uint16_t port)
{
	uint8_t want[16];

	if (strchr(ip, ':') != NULL) {
		ck_assert_int_eq(sa->sa.sa_family, AF_INET6);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, want), 1);
		ck_assert(memcmp(&sa->sin6.sin6_addr, want, 16) == 0);
		ck_assert_uint_eq(ntohs(sa->sin6.sin6_port), port);
		ck_assert_uint_eq(sa->sin6.sin6_flowinfo, 0);
		ck_assert_uint_eq(sa->sin6.sin6_scope_id, 0);
	} else {
		ck_assert_int_eq(sa->sa.sa_family, AF_INET);
		ck_assert_int_eq(inet_pton(AF_INET, ip, want), 1);
		ck_assert(memcmp(&sa->sin.sin_addr, want, 4) == 0);
		ck_assert_uint_eq(ntohs(sa->sin.sin_port), port);
	}
}

static void
assert_local(const struct proxy_header *h, int version)
{
	static const union sockaddr_any zero;

	ck_assert_int_eq(h->version, version);
	ck_assert(h->local);
	ck_assert(memcmp(&h->src, &zero, sizeof(zero)) == 0);
	ck_assert(memcmp(&h->dst, &zero, sizeof(zero)) == 0);
}

static void
assert_proxied(const struct proxy_header *h, int version, const char *src,
    uint16_t sport, const char *dst, uint16_t dport)
{
	ck_assert_int_eq(h->version, version);
	ck_assert(!h->local);
	assert_addr(&h->src, src, sport);
	assert_addr(&h->dst, dst, dport);
}

/* A string literal, NULs and all, bad first at byte k - 1. */
#define BAD_AT(lit, k) malformed_at(lit, sizeof(lit) - 1, k)

/* ------------------------------------------------------------------ */
/* Version 1                                                          */
/* ------------------------------------------------------------------ */

START_TEST(v1_tcp4)
{
	struct proxy_header h;

	/* The spec's example. */
	h = v1_good("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
	assert_proxied(&h, 1, "192.168.0.1", 56324, "192.168.0.11", 443);
	/* Its longest line (56), and the smallest values. */
	h = v1_good("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
	assert_proxied(&h, 1, "255.255.255.255", 65535, "255.255.255.255",
	    65535);
	h = v1_good("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n");
	assert_proxied(&h, 1, "0.0.0.0", 0, "0.0.0.0", 0);
	h = v1_good("PROXY TCP4 10.20.30.40 127.0.0.1 1 1080\r\n");
	assert_proxied(&h, 1, "10.20.30.40", 1, "127.0.0.1", 1080);
}
END_TEST

START_TEST(v1_tcp6)
{
	struct proxy_header h;

	h = v1_good("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n");
	assert_proxied(&h, 1, "2001:db8::1", 1, "2001:db8::2", 65535);
	h = v1_good("PROXY TCP6 :: ::1 0 1080\r\n");
	assert_proxied(&h, 1, "::", 0, "::1", 1080);
	h = v1_good("PROXY TCP6 FE80::ABCD 2001:DB8:0:0:0:0:0:1 80 8080\r\n");
	assert_proxied(&h, 1, "fe80::abcd", 80, "2001:db8::1", 8080);
	/* "::" for one group, at either end. */
	h = v1_good("PROXY TCP6 1:2:3:4:5:6:7:: ::2:3:4:5:6:7:8 9 10\r\n");
	assert_proxied(&h, 1, "1:2:3:4:5:6:7:0", 9, "0:2:3:4:5:6:7:8", 10);
	/* A dotted quad at the end; a mapped address stays IPv6. */
	h = v1_good("PROXY TCP6 ::ffff:192.0.2.1 1:2:3:4:5:6:10.0.0.1 5 6\r\n");
	assert_proxied(&h, 1, "::ffff:192.0.2.1", 5, "1:2:3:4:5:6:a00:1", 6);
	/* The spec's longest TCP6 line (104). */
	h = v1_good("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
	assert_proxied(&h, 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
}
END_TEST

/*
 * inet_pton takes IPv6 text longer than the spec's 39 (a dotted quad
 * after six 4-digit groups: 45), so a TCP6 line can outgrow 107: it is
 * refused at the byte that leaves no room for the rest.
 */
START_TEST(v1_tcp6_limit)
{
	static const char a45[] = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	static const char a44[] = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.25";
	char line[256], good[256];
	struct proxy_header h;

	ck_assert_uint_eq(strlen(a45), 45);
	snprintf(line, sizeof(line), "PROXY TCP6 %s %s 0 0\r\n", a45, a44);
	ck_assert_uint_eq(strlen(line), PROXY_V1_MAX);
	h = v1_good(line);
	assert_proxied(&h, 1, a45, 0, a44, 0);

	/* One digit more anywhere no longer fits. */
	snprintf(line, sizeof(line), "PROXY TCP6 %s %s 0 0\r\n", a45, a45);
	snprintf(good, sizeof(good), "PROXY TCP6 %s %s", a45, a44);
	v1_bad(line, good);
	snprintf(line, sizeof(line), "PROXY TCP6 %s %s 10 0\r\n", a45, a44);
	snprintf(good, sizeof(good), "PROXY TCP6 %s %s 1", a45, a44);
	v1_bad(line, good);
	snprintf(line, sizeof(line), "PROXY TCP6 %s %s 0 10\r\n", a45, a44);
	snprintf(good, sizeof(good), "PROXY TCP6 %s %s 0 1", a45, a44);
	v1_bad(line, good);
}
END_TEST

START_TEST(v1_unknown)
{
	struct proxy_header h;
	char line[256];
	size_t n;

	h = v1_good("PROXY UNKNOWN\r\n");
	assert_local(&h, 1);
	h = v1_good("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n");
	assert_local(&h, 1);
	/* Anything up to the CRLF is ignored, as the spec says. */
	h = v1_good("PROXY UNKNOWNx\tz \x7f\xff\r\n");
	assert_local(&h, 1);
	/* The spec's worst case: 107 bytes. */
	h = v1_good("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
	assert_local(&h, 1);

	/* 107 with CRLF at its end is the longest line; 108 is too long. */
	memset(line, 0, sizeof(line));
	memcpy(line, "PROXY UNKNOWN", 13);
	memset(line + 13, 'x', PROXY_V1_MAX - 2 - 13);
	memcpy(line + PROXY_V1_MAX - 2, "\r\n", 2);
	n = strlen(line);
	ck_assert_uint_eq(n, PROXY_V1_MAX);
	h = v1_good(line);
	assert_local(&h, 1);
	/* One 'x' more: byte 105 must be the CR, or CRLF cannot fit. */
	memset(line + 13, 'x', PROXY_V1_MAX - 1 - 13);
	memcpy(line + PROXY_V1_MAX - 1, "\r\n", 3);
	malformed_at(line, strlen(line), PROXY_V1_MAX - 1);
}
END_TEST

START_TEST(v1_bad_keyword)
{
	static const char *const lines[] = {
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP6 ::1 ::2 1 2\r\n",
		"PROXY UNKNOWN\r\n",
	};
	static const uint8_t bad[] = { 'x', 0x00, 0x05, ' ', '\r', '\n', 0xff };
	uint8_t line[64];
	size_t l, i, b, n, kw;

	/* Any other byte anywhere in "PROXY TCP4 " etc. is refused there. */
	for (l = 0; l < NELEM(lines); l++) {
		n = strlen(lines[l]);
		kw = l == 2 ? 13 : 11;
		for (i = 0; i < kw; i++) {
			for (b = 0; b < NELEM(bad) + 1; b++) {
				memcpy(line, lines[l], n);
				/* The last try is the character's other case. */
				if (b < NELEM(bad))
					line[i] = bad[b];
				else if (lines[l][i] >= 'A' && lines[l][i] <= 'Z')
					line[i] = (uint8_t)(lines[l][i] + 32);
				else
					continue;
				/* (A CR first may be a v2 signature.) */
				if (line[i] == (uint8_t)lines[l][i] ||
				    (i == 0 && line[i] == '\r'))
					continue;
				malformed_at(line, n, i + 1);
			}
		}
	}
	v1_bad("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP");
	v1_bad("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY U");
	v1_bad("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY ");
	v1_bad("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4 ");
	v1_bad("PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY");
	v1_bad("PROXY TCP4\r\n", "PROXY TCP4");
	v1_bad("PROXY UNKNOW\r\n", "PROXY UNKNOW");
	v1_bad("GET / HTTP/1.1\r\n", "");
	v1_bad("PROXX", "PROX");
}
END_TEST

START_TEST(v1_not_proxy)
{
	static const uint8_t socks4[] = { 0x04, 0x01, 0x00, 0x50 };

	/* A SOCKS client is refused at its first byte, not waited on. */
	malformed_at(socks_greeting, sizeof(socks_greeting), 1);
	malformed_at(socks4, sizeof(socks4), 1);
	BAD_AT("\x05", 1);
	BAD_AT("\n", 1);
	BAD_AT("\0", 1);
	BAD_AT(" PROXY", 1);
}
END_TEST

START_TEST(v1_bad_ports)
{
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 6553");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 6553");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 9999");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 10000");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 0");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 0");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 ");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 ");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 ");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 ");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 0");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2");
	v1_bad("PROXY TCP6 ::1 ::2 65536 1\r\n", "PROXY TCP6 ::1 ::2 6553");
}
END_TEST

START_TEST(v1_bad_addresses)
{
	v1_bad("PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n", "PROXY TCP4 25");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.300 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.30");
	v1_bad("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3");
	v1_bad("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.4");
	v1_bad("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4 0");
	v1_bad("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.0");
	v1_bad("PROXY TCP4 1..2.3 5.6.7.8 1 2\r\n", "PROXY TCP4 1.");
	v1_bad("PROXY TCP4 .1.2.3 5.6.7.8 1 2\r\n", "PROXY TCP4 ");
	v1_bad("PROXY TCP4 1.2.3. 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.");
	v1_bad("PROXY TCP4 a.b.c.d 5.6.7.8 1 2\r\n", "PROXY TCP4 ");
	v1_bad("PROXY TCP4 1.2.3.-4 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.");
	v1_bad("PROXY TCP4 127.1 5.6.7.8 1 2\r\n", "PROXY TCP4 127.1");
	v1_bad("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.4 ");
	v1_bad("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.4");

	v1_bad("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
	    "PROXY TCP6 1:2:3:4:5:6:7:8");
	v1_bad("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n",
	    "PROXY TCP6 1:2:3:4:5:6:7");
	v1_bad("PROXY TCP6 ::: ::1 1 2\r\n", "PROXY TCP6 ::");
	v1_bad("PROXY TCP6 1::2::3 ::1 1 2\r\n", "PROXY TCP6 1::2:");
	v1_bad("PROXY TCP6 12345:: ::1 1 2\r\n", "PROXY TCP6 1234");
	v1_bad("PROXY TCP6 g:: ::1 1 2\r\n", "PROXY TCP6 ");
	v1_bad("PROXY TCP6 :1 ::1 1 2\r\n", "PROXY TCP6 :");
	v1_bad("PROXY TCP6 1: ::1 1 2\r\n", "PROXY TCP6 1:");
	v1_bad("PROXY TCP6 ::1.2.3 ::1 1 2\r\n", "PROXY TCP6 ::1.2.3");
	v1_bad("PROXY TCP6 ::256.0.0.0 ::1 1 2\r\n", "PROXY TCP6 ::256");
	v1_bad("PROXY TCP6 ::a.0.0.0 ::1 1 2\r\n", "PROXY TCP6 ::a");
	v1_bad("PROXY TCP6 ::1.2.3.4:5 ::1 1 2\r\n", "PROXY TCP6 ::1.2.3.4");
	/* Without "::", a quad must come after exactly six groups. */
	v1_bad("PROXY TCP6 1:2:3:4:5:1.2.3.4 ::1 1 2\r\n",
	    "PROXY TCP6 1:2:3:4:5:1");
	/* With it, "::" must still stand for a group. */
	v1_bad("PROXY TCP6 1:2:3:4:5:6::1.2.3.4 ::1 1 2\r\n",
	    "PROXY TCP6 1:2:3:4:5:6::1");
	v1_bad("PROXY TCP6 1:2:3:4:5:6:7::8 ::1 1 2\r\n",
	    "PROXY TCP6 1:2:3:4:5:6:7::");
	v1_bad("PROXY TCP6 1::3:4:5:6:7:8:9 ::1 1 2\r\n",
	    "PROXY TCP6 1::3:4:5:6:7:8");
	v1_bad("PROXY TCP6 [::1] ::1 1 2\r\n", "PROXY TCP6 ");
	v1_bad("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "PROXY TCP6 fe80::1");
	v1_bad("PROXY TCP6 ::1 ::1: 1 2\r\n", "PROXY TCP6 ::1 ::1:");
}
END_TEST

START_TEST(v1_wrong_family)
{
	v1_bad("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "PROXY TCP4 ");
	v1_bad("PROXY TCP4 1.2.3.4 ::ffff:5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 ");
	v1_bad("PROXY TCP4 1.2.3.4 2001:db8::1 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 200");
	v1_bad("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "PROXY TCP6 1");
	v1_bad("PROXY TCP6 ::1 5.6.7.8 1 2\r\n", "PROXY TCP6 ::1 5");
}
END_TEST

START_TEST(v1_line_end)
{
	/* No CR, a CR alone, a CR followed by anything but LF. */
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r");
	v1_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2");
	v1_bad("PROXY UNKNOWN\n", "PROXY UNKNOWN");
	v1_bad("PROXY UNKNOWN abc\ndef\r\n", "PROXY UNKNOWN abc");
	v1_bad("PROXY UNKNOWN\rX\r\n", "PROXY UNKNOWN\r");
	v1_bad("PROXY UNKNOWN\r\r\n", "PROXY UNKNOWN\r");
	/* Without its CRLF a line is waited on, up to the limit. */
	need_more_below("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31 + 1);
	need_more_below("PROXY UNKNOWN and more", 22 + 1);
}
END_TEST

START_TEST(v1_nul)
{
	BAD_AT("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 19);
	BAD_AT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\0\r\n", 31);
	BAD_AT("PROXY TCP6 ::1\0 ::2 1 2\r\n", 15);
	BAD_AT("PROXY UNKNOWN\0\r\n", 14);
	BAD_AT("PROXY UNKNOWN abc\0def\r\n", 18);
	BAD_AT("PROXY UNKNOWN\r\0", 15);
	BAD_AT("PROXY\0", 6);
}
END_TEST

/* A line too long for any header is refused at byte 106 at the latest. */
START_TEST(v1_too_long)
{
	char line[300];

	memset(line, 0, sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	memset(line + 14, 'a', 200);
	malformed_at(line, strlen(line), PROXY_V1_MAX - 1);
	/* A CR at byte 105 still fits; at byte 106 it does not. */
	line[PROXY_V1_MAX - 2] = '\r';
	line[PROXY_V1_MAX - 1] = 'a';
	malformed_at(line, strlen(line), PROXY_V1_MAX);
	line[PROXY_V1_MAX - 2] = 'a';
	line[PROXY_V1_MAX - 1] = '\r';
	malformed_at(line, strlen(line), PROXY_V1_MAX - 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Version 2                                                          */
/* ------------------------------------------------------------------ */

/* Signature, version/command, family/protocol, length, then body. */
static size_t
v2(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, uint16_t len,
    const void *body, size_t body_len)
{
	memcpy(buf, sig, sizeof(sig));
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (uint8_t)(len >> 8);
	buf[15] = (uint8_t)len;
	if (body_len > 0)
		memcpy(buf + 16, body, body_len);
	return 16 + body_len;
}

/* 192.0.2.1:56324 -> 198.51.100.7:443 */
static const uint8_t inet_body[12] = {
	192, 0, 2, 1, 198, 51, 100, 7, 0xdc, 0x04, 0x01, 0xbb
};
/* [2001:db8::1]:1 -> [2001:db8::ff]:65535 */
static const uint8_t inet6_body[36] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
	0x00, 0x01, 0xff, 0xff
};

START_TEST(v2_tcp4)
{
	struct proxy_header h;
	uint8_t buf[64];
	size_t n;

	n = v2(buf, 0x21, 0x11, 12, inet_body, sizeof(inet_body));
	ck_assert_uint_eq(n, 28);
	h = done_at(buf, n, 28, 28);
	assert_proxied(&h, 2, "192.0.2.1", 56324, "198.51.100.7", 443);
}
END_TEST

START_TEST(v2_tcp6)
{
	struct proxy_header h;
	uint8_t buf[64];
	size_t n;

	n = v2(buf, 0x21, 0x21, 36, inet6_body, sizeof(inet6_body));
	ck_assert_uint_eq(n, 52);
	h = done_at(buf, n, 52, 52);
	assert_proxied(&h, 2, "2001:db8::1", 1, "2001:db8::ff", 65535);
}
END_TEST

/*
 * TLVs after the addresses are never read: DONE once the addresses are
 * in, with *used the whole header's length, beyond what is there.
 */
START_TEST(v2_tlvs)
{
	/* PP2_TYPE_ALPN "h2", PP2_TYPE_AUTHORITY "example.com", a NOOP. */
	static const uint8_t tlvs[] = {
		0x01, 0x00, 0x02, 'h', '2',
		0x02, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c',
		'o', 'm',
		0x04, 0x00, 0x03, 0, 0, 0,
	};
	struct proxy_header h;
	uint8_t buf[1024], body[64];
	size_t n, len;

	memcpy(body, inet_body, sizeof(inet_body));
	memcpy(body + 12, tlvs, sizeof(tlvs));
	len = 12 + sizeof(tlvs);
	n = v2(buf, 0x21, 0x11, (uint16_t)len, body, len);
	/* Every length from 28 up is DONE, used = 16 + len: > len, then <=. */
	h = done_at(buf, n, 28, 16 + len);
	assert_proxied(&h, 2, "192.0.2.1", 56324, "198.51.100.7", 443);

	memcpy(body, inet6_body, sizeof(inet6_body));
	memcpy(body + 36, tlvs, sizeof(tlvs));
	len = 36 + sizeof(tlvs);
	n = v2(buf, 0x21, 0x21, (uint16_t)len, body, len);
	h = done_at(buf, n, 52, 16 + len);
	assert_proxied(&h, 2, "2001:db8::1", 1, "2001:db8::ff", 65535);

	/* The largest length: used is 16 + 65535, 28 bytes are enough. */
	n = v2(buf, 0x21, 0x11, 0xffff, inet_body, sizeof(inet_body));
	h = done_at(buf, n, 28, 16 + 65535);
	assert_proxied(&h, 2, "192.0.2.1", 56324, "198.51.100.7", 443);
}
END_TEST

/* A header followed by the client's SOCKS bytes: used stops at it. */
START_TEST(v2_then_socks)
{
	struct proxy_header h;
	uint8_t buf[128];
	size_t n, used;

	n = v2(buf, 0x21, 0x11, 12, inet_body, sizeof(inet_body));
	memcpy(buf + n, socks_greeting, sizeof(socks_greeting));
	ck_assert_int_eq(parse(buf, n + 3, &h, &used), PROXY_DONE);
	ck_assert_uint_eq(used, 28);
	ck_assert_uint_eq(buf[used], 0x05);

	n = v2(buf, 0x20, 0x00, 0, NULL, 0);
	memcpy(buf + n, socks_greeting, sizeof(socks_greeting));
	ck_assert_int_eq(parse(buf, n + 3, &h, &used), PROXY_DONE);
	ck_assert_uint_eq(used, 16);
	assert_local(&h, 2);

	/* v1 likewise. */
	memcpy(buf, "PROXY UNKNOWN\r\n\x05\x01\x00", 18);
	ck_assert_int_eq(parse(buf, 18, &h, &used), PROXY_DONE);
	ck_assert_uint_eq(used, 15);
}
END_TEST

START_TEST(v2_local)
{
	struct proxy_header h;
	uint8_t buf[64];
	size_t n;

	/* A health check: no addresses. */
	n = v2(buf, 0x20, 0x00, 0, NULL, 0);
	h = done_at(buf, n, 16, 16);
	assert_local(&h, 2);
	/* Addresses sent anyway are skipped, not waited on. */
	n = v2(buf, 0x20, 0x11, 12, inet_body, sizeof(inet_body));
	h = done_at(buf, n, 16, 28);
	assert_local(&h, 2);
	/* The family byte is ignored altogether, and so is the length. */
	n = v2(buf, 0x20, 0xff, 3, "abc", 3);
	h = done_at(buf, n, 16, 19);
	assert_local(&h, 2);
	n = v2(buf, 0x20, 0x21, 1, "a", 1);
	h = done_at(buf, n, 16, 17);
	assert_local(&h, 2);
}
END_TEST

/*
 * What a header gives, and how soon, with a length just enough for its
 * family: every family/protocol byte under both commands, and every
 * version/command byte under a few family bytes.
 */
static void
v2_one(uint8_t vc, uint8_t fp)
{
	static const size_t min_len[4] = { 0, 12, 36, 216 };
	uint8_t buf[16 + 216], body[216];
	struct proxy_header h;
	unsigned cmd = vc & 0x0f, fam = fp >> 4, proto = fp & 0x0f;
	size_t i, n, len;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 1);
	len = fam < 4 ? min_len[fam] : 12;
	n = v2(buf, vc, fp, (uint16_t)len, body, len);
	if (vc >> 4 != 2 || cmd > 1) {
		malformed_at(buf, n, 13);
	} else if (cmd == 0) {
		h = done_at(buf, n, 16, n);
		assert_local(&h, 2);
	} else if (fam > 3 || proto > 2) {
		malformed_at(buf, n, 14);
	} else if ((fam == 1 || fam == 2) && proto == 1) {
		h = done_at(buf, n, n, n);
		ck_assert_int_eq(h.version, 2);
		ck_assert(!h.local);
		ck_assert_int_eq(h.src.sa.sa_family, fam == 1 ? AF_INET : AF_INET6);
		ck_assert_int_eq(h.dst.sa.sa_family, fam == 1 ? AF_INET : AF_INET6);
	} else {
		/* UNSPEC, UNIX, DGRAM, protocol UNSPEC: local. */
		h = done_at(buf, n, 16, n);
		assert_local(&h, 2);
	}
}

START_TEST(v2_combinations)
{
	static const uint8_t fams[] = { 0x00, 0x11, 0x21, 0x31, 0x12, 0xff };
	unsigned i, b;

	for (b = 0; b < 256; b++) {
		v2_one(0x20, (uint8_t)b);
		v2_one(0x21, (uint8_t)b);
		for (i = 0; i < NELEM(fams); i++)
			v2_one((uint8_t)b, fams[i]);
	}
}
END_TEST

/* The addresses come from the right bytes (INET6, distinct each). */
START_TEST(v2_address_bytes)
{
	uint8_t buf[64], body[36];
	struct proxy_header h;
	size_t i, n, used;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(0x10 + i);
	n = v2(buf, 0x21, 0x21, 36, body, 36);
	ck_assert_int_eq(parse(buf, n, &h, &used), PROXY_DONE);
	ck_assert(memcmp(&h.src.sin6.sin6_addr, body, 16) == 0);
	ck_assert(memcmp(&h.dst.sin6.sin6_addr, body + 16, 16) == 0);
	ck_assert_uint_eq(ntohs(h.src.sin6.sin6_port), 0x3031);
	ck_assert_uint_eq(ntohs(h.dst.sin6.sin6_port), 0x3233);
	n = v2(buf, 0x21, 0x11, 12, body, 12);
	ck_assert_int_eq(parse(buf, n, &h, &used), PROXY_DONE);
	ck_assert(memcmp(&h.src.sin.sin_addr, body, 4) == 0);
	ck_assert(memcmp(&h.dst.sin.sin_addr, body + 4, 4) == 0);
	ck_assert_uint_eq(ntohs(h.src.sin.sin_port), 0x1819);
	ck_assert_uint_eq(ntohs(h.dst.sin.sin_port), 0x1a1b);
}
END_TEST

/* A length too short for the family is refused once the length is in. */
START_TEST(v2_short_length)
{
	static const struct {
		uint8_t fam;
		uint16_t len;
		int ok;
	} cases[] = {
		{ 0x11, 11, 0 }, { 0x11, 0, 0 }, { 0x11, 12, 1 },
		{ 0x12, 11, 0 }, { 0x10, 11, 0 },
		{ 0x21, 35, 0 }, { 0x21, 12, 0 }, { 0x21, 36, 1 },
		{ 0x22, 35, 0 },
		{ 0x31, 215, 0 }, { 0x31, 0, 0 }, { 0x31, 216, 1 },
		{ 0x32, 215, 0 }, { 0x32, 216, 1 },
		{ 0x00, 0, 1 }, { 0x01, 0, 1 }, { 0x02, 0, 1 },
	};
	uint8_t buf[16 + 216], body[216];
	struct proxy_header h;
	size_t i, n;

	memset(body, 0, sizeof(body));
	for (i = 0; i < NELEM(cases); i++) {
		n = v2(buf, 0x21, cases[i].fam, cases[i].len, body,
		    cases[i].len);
		if (!cases[i].ok) {
			malformed_at(buf, n, 16);
			continue;
		}
		h = done_at(buf, n, cases[i].fam == 0x11 ||
		    cases[i].fam == 0x21 ? n : 16, n);
		ck_assert_int_eq(h.version, 2);
	}
	/* A high length byte makes any family long enough. */
	n = v2(buf, 0x21, 0x31, 0x100, body, 0);
	h = done_at(buf, n, 16, 16 + 0x100);
	assert_local(&h, 2);
}
END_TEST

START_TEST(v2_version)
{
	static const uint8_t vers[] = { 0x00, 0x01, 0x3, 0x4, 0xf };
	uint8_t buf[64];
	size_t i, n;

	for (i = 0; i < NELEM(vers); i++) {
		n = v2(buf, (uint8_t)(vers[i] << 4 | 1), 0x11, 12, inet_body,
		    12);
		malformed_at(buf, n, 13);
		n = v2(buf, (uint8_t)(vers[i] << 4), 0x00, 0, NULL, 0);
		malformed_at(buf, n, 13);
	}
	/* Commands other than LOCAL and PROXY. */
	n = v2(buf, 0x22, 0x11, 12, inet_body, 12);
	malformed_at(buf, n, 13);
	n = v2(buf, 0x2f, 0x11, 12, inet_body, 12);
	malformed_at(buf, n, 13);
}
END_TEST

/* A wrong byte anywhere in the signature is refused right there. */
START_TEST(v2_bad_signature)
{
	static const uint8_t bad[] = { 0x00, 0x05, 'P', 0xff };
	uint8_t buf[64];
	size_t i, b, n;

	for (i = 0; i < sizeof(sig); i++) {
		for (b = 0; b < NELEM(bad) + 1; b++) {
			n = v2(buf, 0x21, 0x11, 12, inet_body, 12);
			buf[i] = b < NELEM(bad) ? bad[b] : (uint8_t)(sig[i] ^ 0x20);
			if (buf[i] == sig[i] || (i == 0 && buf[i] == 'P'))
				continue;
			malformed_at(buf, n, i + 1);
		}
	}
	/* Every prefix of the signature is waited on. */
	need_more_below(sig, sizeof(sig) + 1);
}
END_TEST

static Suite *
proxyproto_suite(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc;

	tc = tcase_create("v1");
	tcase_add_test(tc, v1_tcp4);
	tcase_add_test(tc, v1_tcp6);
	tcase_add_test(tc, v1_tcp6_limit);
	tcase_add_test(tc, v1_unknown);
	tcase_add_test(tc, v1_bad_keyword);
	tcase_add_test(tc, v1_not_proxy);
	tcase_add_test(tc, v1_bad_ports);
	tcase_add_test(tc, v1_bad_addresses);
	tcase_add_test(tc, v1_wrong_family);
	tcase_add_test(tc, v1_line_end);
	tcase_add_test(tc, v1_nul);
	tcase_add_test(tc, v1_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("v2");
	/* 2000 byte combinations, each at every length. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, v2_tcp4);
	tcase_add_test(tc, v2_tcp6);
	tcase_add_test(tc, v2_tlvs);
	tcase_add_test(tc, v2_then_socks);
	tcase_add_test(tc, v2_local);
	tcase_add_test(tc, v2_combinations);
	tcase_add_test(tc, v2_address_bytes);
	tcase_add_test(tc, v2_short_length);
	tcase_add_test(tc, v2_version);
	tcase_add_test(tc, v2_bad_signature);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(proxyproto_suite(), NULL);
}
