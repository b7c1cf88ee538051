/* SPDX-License-Identifier: ISC */
/*
 * check_socks5.c - unit tests for the SOCKS5 codec (src/socks5.c).
 *
 * Expected bytes are written out by hand (or built by the small helpers
 * below, which do not use the encoders), so a bug shared by a parser and
 * its encoder cannot hide behind a round trip.
 */
#include "config_auto.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"
#include "unit_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A byte the code under test never writes on its own, to spot overruns. */
#define CANARY 0xa5

/* Uniform wrappers so one loop can drive every parser. */
typedef enum socks5_status (*parse_fn)(const uint8_t *, size_t, size_t *);

static enum socks5_status
p_greeting(const uint8_t *b, size_t n, size_t *used)
{
	struct socks5_greeting g;

	return socks5_parse_greeting(b, n, &g, used);
}

static enum socks5_status
p_method_reply(const uint8_t *b, size_t n, size_t *used)
{
	uint8_t m;

	return socks5_parse_method_reply(b, n, &m, used);
}

static enum socks5_status
p_request(const uint8_t *b, size_t n, size_t *used)
{
	struct socks5_request r;

	return socks5_parse_request(b, n, &r, used);
}

static enum socks5_status
p_reply(const uint8_t *b, size_t n, size_t *used)
{
	struct socks5_reply r;

	return socks5_parse_reply(b, n, &r, used);
}

static enum socks5_status
p_udp(const uint8_t *b, size_t n, size_t *used)
{
	struct socks5_udp_header h;

	return socks5_parse_udp_header(b, n, &h, used);
}

/*
 * `msg` is a whole valid message of `len` bytes: every proper prefix must
 * be NEED_MORE, the whole must be OK with used == len, and so must the
 * message followed by junk (the session parses a buffer that may already
 * hold the next message).
 */
static void
check_prefixes(parse_fn fn, const uint8_t *msg, size_t len)
{
	uint8_t buf[SOCKS5_REQUEST_MAX + 16];
	enum socks5_status st;
	size_t k, used;

	ck_assert_uint_le(len + 7, sizeof(buf));
	for (k = 0; k < len; k++) {
		/* Copy to an exact-size heap buffer: ASan sees overreads. */
		uint8_t *p = malloc(k ? k : 1);

		ck_assert_ptr_nonnull(p);
		memcpy(p, msg, k);
		st = fn(p, k, &used);
		free(p);
		ck_assert_msg(st == SOCKS5_NEED_MORE,
		    "prefix %zu of %zu: status %d, want NEED_MORE", k, len, st);
	}
	used = 12345;
	ck_assert_int_eq(fn(msg, len, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, len);

	memcpy(buf, msg, len);
	memcpy(buf + len, "\x05\x01\x00\x03\xff\x00\x00", 7);
	used = 12345;
	ck_assert_int_eq(fn(buf, len + 7, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, len);
}

/* VER CODE RSV ATYP=DOMAIN LEN NAME PORT, built without the encoder. */
static size_t
build_domain_msg(uint8_t *buf, uint8_t b0, uint8_t b1, uint8_t b2,
    const char *name, size_t nlen, uint16_t port)
{
	buf[0] = b0;
	buf[1] = b1;
	buf[2] = b2;
	buf[3] = SOCKS5_ATYP_DOMAIN;
	buf[4] = (uint8_t)nlen;
	memcpy(buf + 5, name, nlen);
	buf[5 + nlen] = (uint8_t)(port >> 8);
	buf[6 + nlen] = (uint8_t)port;
	return 7 + nlen;
}

static const uint8_t req_v4[] = {
	0x05, 0x01, 0x00, 0x01, 192, 0, 2, 7, 0x12, 0x34
};
static const uint8_t req_v6[] = {
	0x05, 0x02, 0x00, 0x04,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x01, 0xbb
};
static const uint8_t req_name[] = {
	0x05, 0x03, 0x00, 0x03, 11,
	'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
	0x00, 0x50
};
static const uint8_t v6_addr[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
};

/* ---------------------------------------------------------------- greeting */

START_TEST(greeting_ok)
{
	static const uint8_t m[] = { 0x05, 0x03, 0x00, 0x02, 0x80 };
	struct socks5_greeting g;
	size_t used = 0;

	ck_assert_int_eq(socks5_parse_greeting(m, sizeof(m), &g, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(used, 5);
	ck_assert_uint_eq(g.nmethods, 3);
	ck_assert_uint_eq(g.methods[0], 0x00);
	ck_assert_uint_eq(g.methods[1], 0x02);
	ck_assert_uint_eq(g.methods[2], 0x80);
}
END_TEST

START_TEST(greeting_255_methods)
{
	uint8_t m[SOCKS5_GREETING_MAX];
	struct socks5_greeting g;
	size_t i, used = 0;

	m[0] = 5;
	m[1] = 255;
	for (i = 0; i < 255; i++)
		m[2 + i] = (uint8_t)(254 - i);
	ck_assert_int_eq(socks5_parse_greeting(m, sizeof(m), &g, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(used, SOCKS5_GREETING_MAX);
	ck_assert_uint_eq(g.nmethods, 255);
	for (i = 0; i < 255; i++)
		ck_assert_uint_eq(g.methods[i], 254 - i);
}
END_TEST

START_TEST(greeting_nmethods_zero)
{
	static const uint8_t m[] = { 0x05, 0x00, 0x00, 0x01 };
	struct socks5_greeting g;
	size_t used;

	/* Reported as soon as NMETHODS is in, whatever follows. */
	ck_assert_int_eq(socks5_parse_greeting(m, 2, &g, &used),
	    SOCKS5_ERR_NMETHODS);
	ck_assert_int_eq(socks5_parse_greeting(m, sizeof(m), &g, &used),
	    SOCKS5_ERR_NMETHODS);
}
END_TEST

START_TEST(greeting_bad_version)
{
	uint8_t m[] = { 0x00, 0x01, 0x00 };
	struct socks5_greeting g;
	size_t used;
	unsigned v;

	for (v = 0; v < 256; v++) {
		if (v == SOCKS5_VERSION)
			continue;
		m[0] = (uint8_t)v;
		/* Known bad from the first byte: don't wait for more. */
		ck_assert_int_eq(socks5_parse_greeting(m, 1, &g, &used),
		    SOCKS5_ERR_VERSION);
		ck_assert_int_eq(socks5_parse_greeting(m, sizeof(m), &g,
		    &used), SOCKS5_ERR_VERSION);
	}
	/* Version is checked before NMETHODS. */
	m[0] = 4;
	m[1] = 0;
	ck_assert_int_eq(socks5_parse_greeting(m, 2, &g, &used),
	    SOCKS5_ERR_VERSION);
}
END_TEST

START_TEST(greeting_truncated_every_prefix)
{
	uint8_t m[SOCKS5_GREETING_MAX];
	size_t n, i;

	/* Every NMETHODS value, every prefix length. */
	for (n = 1; n <= 255; n++) {
		m[0] = 5;
		m[1] = (uint8_t)n;
		for (i = 0; i < n; i++)
			m[2 + i] = (uint8_t)i;
		check_prefixes(p_greeting, m, 2 + n);
	}
}
END_TEST

START_TEST(greeting_trailing_bytes)
{
	/* Optimistic client: greeting and request in one segment. */
	uint8_t m[3 + sizeof(req_v4)] = { 0x05, 0x01, 0x00 };
	struct socks5_greeting g;
	struct socks5_request r;
	size_t used = 0, used2 = 0;

	memcpy(m + 3, req_v4, sizeof(req_v4));
	ck_assert_int_eq(socks5_parse_greeting(m, sizeof(m), &g, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(used, 3);
	ck_assert_uint_eq(g.nmethods, 1);
	ck_assert_uint_eq(g.methods[0], 0);
	ck_assert_int_eq(socks5_parse_request(m + used, sizeof(m) - used,
	    &r, &used2), SOCKS5_OK);
	ck_assert_uint_eq(used2, sizeof(req_v4));
	ck_assert_uint_eq(r.dst.port, 0x1234);
}
END_TEST

/* ------------------------------------------------------------ method reply */

START_TEST(method_reply_ok)
{
	static const uint8_t m[] = { 0x05, 0x02, 0xee };
	uint8_t method = 0;
	size_t used = 0;
	unsigned v;
	uint8_t b[2] = { 0x05, 0 };

	ck_assert_int_eq(socks5_parse_method_reply(m, sizeof(m), &method,
	    &used), SOCKS5_OK);
	ck_assert_uint_eq(method, 0x02);
	ck_assert_uint_eq(used, 2);
	for (v = 0; v < 256; v++) {
		b[1] = (uint8_t)v;
		ck_assert_int_eq(socks5_parse_method_reply(b, 2, &method,
		    &used), SOCKS5_OK);
		ck_assert_uint_eq(method, v);
	}
	check_prefixes(p_method_reply, m, 2);
}
END_TEST

START_TEST(method_reply_bad_version)
{
	uint8_t m[] = { 0x04, 0x00 };
	uint8_t method;
	size_t used;

	ck_assert_int_eq(socks5_parse_method_reply(m, 1, &method, &used),
	    SOCKS5_ERR_VERSION);
	ck_assert_int_eq(socks5_parse_method_reply(m, 2, &method, &used),
	    SOCKS5_ERR_VERSION);
	m[0] = 0x01;	/* RFC 1929 sub-negotiation version, a common mixup */
	ck_assert_int_eq(socks5_parse_method_reply(m, 2, &method, &used),
	    SOCKS5_ERR_VERSION);
}
END_TEST

/* ----------------------------------------------------------------- request */

START_TEST(request_ipv4)
{
	struct socks5_request r;
	size_t used = 0;

	ck_assert_int_eq(socks5_parse_request(req_v4, sizeof(req_v4), &r,
	    &used), SOCKS5_OK);
	ck_assert_uint_eq(used, 10);
	ck_assert_uint_eq(r.version, 5);
	ck_assert_uint_eq(r.cmd, SOCKS5_CMD_CONNECT);
	ck_assert_uint_eq(r.rsv, 0);
	ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_mem_eq(r.dst.u.ipv4, "\xc0\x00\x02\x07", 4);
	/* 0x12 0x34 on the wire: catches a byte-swapped port. */
	ck_assert_uint_eq(r.dst.port, 0x1234);
	check_prefixes(p_request, req_v4, sizeof(req_v4));
}
END_TEST

START_TEST(request_ipv6)
{
	struct socks5_request r;
	size_t used = 0;

	ck_assert_int_eq(socks5_parse_request(req_v6, sizeof(req_v6), &r,
	    &used), SOCKS5_OK);
	ck_assert_uint_eq(used, 22);
	ck_assert_uint_eq(r.version, 5);
	ck_assert_uint_eq(r.cmd, SOCKS5_CMD_BIND);
	ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_mem_eq(r.dst.u.ipv6, v6_addr, 16);
	ck_assert_uint_eq(r.dst.port, 443);
	check_prefixes(p_request, req_v6, sizeof(req_v6));
}
END_TEST

START_TEST(request_domain)
{
	struct socks5_request r;
	size_t used = 0;

	ck_assert_int_eq(socks5_parse_request(req_name, sizeof(req_name), &r,
	    &used), SOCKS5_OK);
	ck_assert_uint_eq(used, 18);
	ck_assert_uint_eq(r.cmd, SOCKS5_CMD_UDP_ASSOCIATE);
	ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_uint_eq(r.dst.name_len, 11);
	ck_assert_str_eq(r.dst.u.name, "example.com");
	ck_assert_uint_eq(r.dst.port, 80);
	check_prefixes(p_request, req_name, sizeof(req_name));
}
END_TEST

START_TEST(request_domain_255)
{
	uint8_t m[SOCKS5_REQUEST_MAX];
	char name[255];
	struct socks5_request r;
	size_t used = 0, n;

	memset(name, 'a', sizeof(name));
	name[254] = 'z';
	n = build_domain_msg(m, 5, 1, 0, name, 255, 65535);
	ck_assert_uint_eq(n, SOCKS5_REQUEST_MAX);
	ck_assert_int_eq(socks5_parse_request(m, n, &r, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, SOCKS5_REQUEST_MAX);
	ck_assert_uint_eq(r.dst.name_len, 255);
	ck_assert_mem_eq(r.dst.u.name, name, 255);
	ck_assert_uint_eq((uint8_t)r.dst.u.name[255], 0);
	ck_assert_uint_eq(strlen(r.dst.u.name), 255);
	ck_assert_uint_eq(r.dst.port, 65535);
	check_prefixes(p_request, m, n);
}
END_TEST

START_TEST(request_domain_every_length)
{
	uint8_t m[SOCKS5_REQUEST_MAX];
	char name[255];
	struct socks5_request r;
	size_t len, n, used;

	for (len = 0; len < sizeof(name); len++)
		name[len] = (char)('a' + len % 26);
	for (len = 1; len <= 255; len++) {
		n = build_domain_msg(m, 5, 1, 0, name, len, (uint16_t)len);
		check_prefixes(p_request, m, n);
		ck_assert_int_eq(socks5_parse_request(m, n, &r, &used),
		    SOCKS5_OK);
		ck_assert_uint_eq(r.dst.name_len, len);
		ck_assert_uint_eq(strlen(r.dst.u.name), len);
		ck_assert_uint_eq(r.dst.port, len);
	}
}
END_TEST

START_TEST(request_ip_literal_stays_name)
{
	/* plink sends IP literals as DOMAINNAME; the codec must not guess. */
	uint8_t m[32];
	struct socks5_request r;
	size_t used, n;

	n = build_domain_msg(m, 5, 1, 0, "127.0.0.1", 9, 22);
	ck_assert_int_eq(socks5_parse_request(m, n, &r, &used), SOCKS5_OK);
	ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_str_eq(r.dst.u.name, "127.0.0.1");
}
END_TEST

START_TEST(request_bad_atyp)
{
	uint8_t m[sizeof(req_v4)];
	struct socks5_request r;
	size_t used;
	unsigned t;

	memcpy(m, req_v4, sizeof(m));
	for (t = 0; t < 256; t++) {
		if (t == SOCKS5_ATYP_IPV4 || t == SOCKS5_ATYP_DOMAIN ||
		    t == SOCKS5_ATYP_IPV6)
			continue;
		m[3] = (uint8_t)t;
		/* The length is unknowable from ATYP on: error at once. */
		ck_assert_int_eq(socks5_parse_request(m, 4, &r, &used),
		    SOCKS5_ERR_ATYP);
		ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r,
		    &used), SOCKS5_ERR_ATYP);
	}
}
END_TEST

START_TEST(request_name_len_zero)
{
	static const uint8_t m[] = { 5, 1, 0, 3, 0, 0x00, 0x50 };
	struct socks5_request r;
	size_t used;

	ck_assert_int_eq(socks5_parse_request(m, 5, &r, &used),
	    SOCKS5_ERR_NAME);
	ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r, &used),
	    SOCKS5_ERR_NAME);
}
END_TEST

START_TEST(request_name_with_nul)
{
	static const size_t pos[] = { 0, 3, 7 };
	uint8_t m[32];
	struct socks5_request r;
	size_t i, k, n, used;

	for (i = 0; i < NELEM(pos); i++) {
		n = build_domain_msg(m, 5, 1, 0, "evil.com", 8, 80);
		m[5 + pos[i]] = '\0';
		/* Before the NUL arrives the prefix is still valid... */
		for (k = 0; k < 5 + pos[i]; k++)
			ck_assert_int_eq(socks5_parse_request(m, k, &r, &used),
			    SOCKS5_NEED_MORE);
		/* ...and from the NUL on it never can be. */
		for (k = 5 + pos[i] + 1; k <= n; k++)
			ck_assert_int_eq(socks5_parse_request(m, k, &r, &used),
			    SOCKS5_ERR_NAME);
	}
}
END_TEST

START_TEST(request_cmd_passthrough)
{
	uint8_t m[sizeof(req_v4)];
	struct socks5_request r;
	size_t used;
	unsigned c;

	memcpy(m, req_v4, sizeof(m));
	for (c = 0; c < 256; c++) {
		m[1] = (uint8_t)c;
		ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r,
		    &used), SOCKS5_OK);
		ck_assert_uint_eq(r.cmd, c);
		ck_assert_uint_eq(used, sizeof(m));
	}
}
END_TEST

START_TEST(request_rsv_nonzero)
{
	uint8_t m[sizeof(req_name)];
	struct socks5_request r;
	size_t used;

	memcpy(m, req_name, sizeof(m));
	m[2] = 0xff;
	ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(r.rsv, 0xff);
	ck_assert_str_eq(r.dst.u.name, "example.com");
	m[2] = 0x01;
	ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(r.rsv, 0x01);
}
END_TEST

START_TEST(request_bad_version)
{
	uint8_t m[sizeof(req_v4)];
	struct socks5_request r;
	size_t used;

	memcpy(m, req_v4, sizeof(m));
	m[0] = 4;
	ck_assert_int_eq(socks5_parse_request(m, 1, &r, &used),
	    SOCKS5_ERR_VERSION);
	ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r, &used),
	    SOCKS5_ERR_VERSION);
	m[0] = 6;
	ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r, &used),
	    SOCKS5_ERR_VERSION);
	/* Version wins over a bad ATYP. */
	m[3] = 0x09;
	ck_assert_int_eq(socks5_parse_request(m, sizeof(m), &r, &used),
	    SOCKS5_ERR_VERSION);
}
END_TEST

/* ------------------------------------------------------------------- reply */

START_TEST(reply_all_atyps)
{
	uint8_t m[sizeof(req_v6)];
	struct socks5_reply r;
	size_t used = 0;

	memcpy(m, req_v4, sizeof(req_v4));
	m[1] = SOCKS5_REP_SUCCEEDED;
	ck_assert_int_eq(socks5_parse_reply(m, sizeof(req_v4), &r, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(used, 10);
	ck_assert_uint_eq(r.rep, 0);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_mem_eq(r.bnd.u.ipv4, "\xc0\x00\x02\x07", 4);
	ck_assert_uint_eq(r.bnd.port, 0x1234);
	check_prefixes(p_reply, m, sizeof(req_v4));

	memcpy(m, req_v6, sizeof(req_v6));
	m[1] = SOCKS5_REP_CONN_REFUSED;
	ck_assert_int_eq(socks5_parse_reply(m, sizeof(req_v6), &r, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(used, 22);
	ck_assert_uint_eq(r.rep, 5);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_mem_eq(r.bnd.u.ipv6, v6_addr, 16);
	ck_assert_uint_eq(r.bnd.port, 443);
	check_prefixes(p_reply, m, sizeof(req_v6));
}
END_TEST

START_TEST(reply_domain)
{
	uint8_t m[SOCKS5_REPLY_MAX];
	char name[255];
	struct socks5_reply r;
	size_t used = 0, n;

	n = build_domain_msg(m, 5, 0, 0, "proxy.example", 13, 1080);
	ck_assert_int_eq(socks5_parse_reply(m, n, &r, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(r.bnd.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_uint_eq(r.bnd.name_len, 13);
	ck_assert_str_eq(r.bnd.u.name, "proxy.example");
	ck_assert_uint_eq(r.bnd.port, 1080);
	check_prefixes(p_reply, m, n);

	memset(name, 'q', sizeof(name));
	n = build_domain_msg(m, 5, 0, 0, name, 255, 1);
	ck_assert_uint_eq(n, SOCKS5_REPLY_MAX);
	ck_assert_int_eq(socks5_parse_reply(m, n, &r, &used), SOCKS5_OK);
	ck_assert_uint_eq(r.bnd.name_len, 255);
	ck_assert_mem_eq(r.bnd.u.name, name, 255);
	check_prefixes(p_reply, m, n);
}
END_TEST

START_TEST(reply_rep_passthrough)
{
	uint8_t m[sizeof(req_v4)];
	struct socks5_reply r;
	size_t used;
	unsigned v;

	memcpy(m, req_v4, sizeof(m));
	m[2] = 0x7f;	/* RSV nonzero: tolerated like in requests */
	for (v = 0; v < 256; v++) {
		m[1] = (uint8_t)v;
		ck_assert_int_eq(socks5_parse_reply(m, sizeof(m), &r, &used),
		    SOCKS5_OK);
		ck_assert_uint_eq(r.rep, v);
	}
}
END_TEST

START_TEST(reply_errors)
{
	uint8_t m[32];
	struct socks5_reply r;
	size_t used, n;

	memcpy(m, req_v4, sizeof(req_v4));
	m[0] = 0;
	ck_assert_int_eq(socks5_parse_reply(m, 1, &r, &used),
	    SOCKS5_ERR_VERSION);
	ck_assert_int_eq(socks5_parse_reply(m, sizeof(req_v4), &r, &used),
	    SOCKS5_ERR_VERSION);
	m[0] = 5;
	m[3] = 0x02;
	ck_assert_int_eq(socks5_parse_reply(m, 4, &r, &used),
	    SOCKS5_ERR_ATYP);
	m[3] = 0xff;
	ck_assert_int_eq(socks5_parse_reply(m, sizeof(req_v4), &r, &used),
	    SOCKS5_ERR_ATYP);

	n = build_domain_msg(m, 5, 0, 0, "", 0, 80);
	ck_assert_int_eq(socks5_parse_reply(m, n, &r, &used),
	    SOCKS5_ERR_NAME);
	n = build_domain_msg(m, 5, 0, 0, "ab\0d", 4, 80);
	ck_assert_int_eq(socks5_parse_reply(m, 8, &r, &used),
	    SOCKS5_ERR_NAME);
	ck_assert_int_eq(socks5_parse_reply(m, n, &r, &used),
	    SOCKS5_ERR_NAME);
}
END_TEST

/* -------------------------------------------------------------- UDP header */

START_TEST(udp_ipv4_payload)
{
	static const uint8_t d[] = {
		0x00, 0x00, 0x00, 0x01, 10, 1, 2, 3, 0x00, 0x35,
		'h', 'e', 'l', 'l', 'o'
	};
	struct socks5_udp_header h;
	size_t used = 0;

	ck_assert_int_eq(socks5_parse_udp_header(d, sizeof(d), &h, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(used, 10);
	ck_assert_uint_eq(h.frag, 0);
	ck_assert_uint_eq(h.dst.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_mem_eq(h.dst.u.ipv4, "\x0a\x01\x02\x03", 4);
	ck_assert_uint_eq(h.dst.port, 53);
	ck_assert_mem_eq(d + used, "hello", 5);
	check_prefixes(p_udp, d, 10);
}
END_TEST

START_TEST(udp_ipv6_and_domain)
{
	uint8_t d[SOCKS5_UDP_HEADER_MAX + 4];
	char name[255];
	struct socks5_udp_header h;
	size_t used = 0, n;

	/* An IPv6 header is the request's tail behind RSV RSV FRAG. */
	d[0] = 0;
	d[1] = 0;
	d[2] = 0;
	memcpy(d + 3, req_v6 + 3, sizeof(req_v6) - 3);
	n = sizeof(req_v6);
	ck_assert_int_eq(socks5_parse_udp_header(d, n, &h, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, 22);
	ck_assert_uint_eq(h.dst.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_mem_eq(h.dst.u.ipv6, v6_addr, 16);
	ck_assert_uint_eq(h.dst.port, 443);
	check_prefixes(p_udp, d, n);

	memset(name, 'x', sizeof(name));
	n = build_domain_msg(d, 0, 0, 0, name, 255, 5353);
	ck_assert_uint_eq(n, SOCKS5_UDP_HEADER_MAX);
	ck_assert_int_eq(socks5_parse_udp_header(d, n, &h, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, SOCKS5_UDP_HEADER_MAX);
	ck_assert_uint_eq(h.dst.atyp, SOCKS5_ATYP_DOMAIN);
	ck_assert_uint_eq(h.dst.name_len, 255);
	ck_assert_mem_eq(h.dst.u.name, name, 255);
	ck_assert_uint_eq(h.dst.port, 5353);
	check_prefixes(p_udp, d, n);
}
END_TEST

START_TEST(udp_frag_values)
{
	uint8_t d[] = { 0, 0, 0, 1, 1, 1, 1, 1, 0, 7, 0xaa };
	struct socks5_udp_header h;
	size_t used;
	unsigned f;

	/* FRAG is reported as sent; dropping FRAG != 0 is the relay's job. */
	for (f = 0; f < 256; f++) {
		d[2] = (uint8_t)f;
		ck_assert_int_eq(socks5_parse_udp_header(d, sizeof(d), &h,
		    &used), SOCKS5_OK);
		ck_assert_uint_eq(h.frag, f);
		ck_assert_uint_eq(used, 10);
	}
}
END_TEST

START_TEST(udp_rsv_nonzero)
{
	uint8_t d[] = { 0x12, 0x34, 0x00, 1, 1, 1, 1, 1, 0, 7 };
	struct socks5_udp_header h;
	size_t used;

	ck_assert_int_eq(socks5_parse_udp_header(d, sizeof(d), &h, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(h.dst.port, 7);
}
END_TEST

START_TEST(udp_errors)
{
	uint8_t d[32] = { 0, 0, 0, 0x05 };
	struct socks5_udp_header h;
	size_t used, n;

	ck_assert_int_eq(socks5_parse_udp_header(d, 4, &h, &used),
	    SOCKS5_ERR_ATYP);
	d[3] = 0x00;
	ck_assert_int_eq(socks5_parse_udp_header(d, sizeof(d), &h, &used),
	    SOCKS5_ERR_ATYP);
	n = build_domain_msg(d, 0, 0, 0, "", 0, 53);
	ck_assert_int_eq(socks5_parse_udp_header(d, 5, &h, &used),
	    SOCKS5_ERR_NAME);
	ck_assert_int_eq(socks5_parse_udp_header(d, n, &h, &used),
	    SOCKS5_ERR_NAME);
	n = build_domain_msg(d, 0, 0, 0, "a\0", 2, 53);
	ck_assert_int_eq(socks5_parse_udp_header(d, n, &h, &used),
	    SOCKS5_ERR_NAME);
}
END_TEST

/* ----------------------------------------------------------- select method */

static void
make_greeting(struct socks5_greeting *g, const uint8_t *m, size_t n)
{
	memset(g, 0, sizeof(*g));
	g->nmethods = (uint8_t)n;
	memcpy(g->methods, m, n);
}

START_TEST(select_server_order_wins)
{
	static const uint8_t offer[] = { 0x00, 0x02 };
	static const uint8_t offer_rev[] = { 0x02, 0x00 };
	static const uint8_t pw_first[] = { 0x03, 0x02, 0x00 };
	static const uint8_t none_first[] = { 0x00, 0x02 };
	struct socks5_greeting g;

	make_greeting(&g, offer, sizeof(offer));
	ck_assert_uint_eq(socks5_select_method(&g, pw_first,
	    sizeof(pw_first)), 0x02);
	ck_assert_uint_eq(socks5_select_method(&g, none_first,
	    sizeof(none_first)), 0x00);
	make_greeting(&g, offer_rev, sizeof(offer_rev));
	ck_assert_uint_eq(socks5_select_method(&g, pw_first,
	    sizeof(pw_first)), 0x02);
	ck_assert_uint_eq(socks5_select_method(&g, none_first,
	    sizeof(none_first)), 0x00);
}
END_TEST

START_TEST(select_none_acceptable)
{
	static const uint8_t offer[] = { 0x01, 0x80 };
	static const uint8_t prefs[] = { 0x02, 0x00 };
	static const uint8_t ff_offer[] = { 0xff };
	static const uint8_t ff_prefs[] = { 0xff };
	struct socks5_greeting g;

	make_greeting(&g, offer, sizeof(offer));
	ck_assert_uint_eq(socks5_select_method(&g, prefs, sizeof(prefs)),
	    SOCKS5_METHOD_NO_ACCEPTABLE);
	ck_assert_uint_eq(socks5_select_method(&g, prefs, 0),
	    SOCKS5_METHOD_NO_ACCEPTABLE);
	/* Only the first nprefs entries count. */
	ck_assert_uint_eq(socks5_select_method(&g, (const uint8_t *)"\x02\x01",
	    1), SOCKS5_METHOD_NO_ACCEPTABLE);
	ck_assert_uint_eq(socks5_select_method(&g, (const uint8_t *)"\x02\x01",
	    2), 0x01);
	/* A client "offering" 0xFF never selects a method by that. */
	make_greeting(&g, ff_offer, sizeof(ff_offer));
	ck_assert_uint_eq(socks5_select_method(&g, ff_prefs,
	    sizeof(ff_prefs)), SOCKS5_METHOD_NO_ACCEPTABLE);
}
END_TEST

START_TEST(select_last_of_255)
{
	struct socks5_greeting g;
	uint8_t m[255];
	size_t i;

	for (i = 0; i < 255; i++)
		m[i] = (uint8_t)(0x10 + i % 0x60);
	m[254] = 0x02;
	make_greeting(&g, m, 255);
	ck_assert_uint_eq(socks5_select_method(&g, (const uint8_t *)"\x00\x02",
	    2), 0x02);
	/* nmethods bounds the scan: entries past it are not offers. */
	g.nmethods = 254;
	ck_assert_uint_eq(socks5_select_method(&g, (const uint8_t *)"\x00\x02",
	    2), SOCKS5_METHOD_NO_ACCEPTABLE);
}
END_TEST

/* ---------------------------------------------------------------- encoders */

/* The encoder must not write past `cap`: the canary tail stays intact. */
static void
check_canary(const uint8_t *buf, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		ck_assert_msg(buf[i] == CANARY, "byte %zu past cap written", i);
}

START_TEST(encode_greeting)
{
	static const uint8_t methods[] = { 0x00, 0x02, 0x03 };
	uint8_t buf[SOCKS5_GREETING_MAX + 8], all[256];
	struct socks5_greeting g;
	size_t n, cap, used, i;

	n = socks5_encode_greeting(buf, sizeof(buf), methods,
	    sizeof(methods));
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(buf, "\x05\x03\x00\x02\x03", 5);
	ck_assert_int_eq(socks5_parse_greeting(buf, n, &g, &used), SOCKS5_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(g.nmethods, 3);
	ck_assert_mem_eq(g.methods, methods, 3);

	for (cap = 0; cap < 5; cap++) {
		memset(buf, CANARY, sizeof(buf));
		ck_assert_uint_eq(socks5_encode_greeting(buf, cap, methods,
		    sizeof(methods)), 0);
		check_canary(buf, cap, sizeof(buf));
	}
	ck_assert_uint_eq(socks5_encode_greeting(buf, sizeof(buf), methods, 0),
	    0);

	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	ck_assert_uint_eq(socks5_encode_greeting(buf, sizeof(buf), all, 256),
	    0);
	n = socks5_encode_greeting(buf, SOCKS5_GREETING_MAX, all, 255);
	ck_assert_uint_eq(n, SOCKS5_GREETING_MAX);
	ck_assert_uint_eq(buf[1], 255);
	ck_assert_int_eq(socks5_parse_greeting(buf, n, &g, &used), SOCKS5_OK);
	ck_assert_uint_eq(g.nmethods, 255);
	ck_assert_mem_eq(g.methods, all, 255);
}
END_TEST

START_TEST(encode_method_reply)
{
	uint8_t buf[4];
	uint8_t m = 0;
	size_t used, cap;

	memset(buf, CANARY, sizeof(buf));
	ck_assert_uint_eq(socks5_encode_method_reply(buf, sizeof(buf), 0xff),
	    2);
	ck_assert_mem_eq(buf, "\x05\xff", 2);
	ck_assert_int_eq(socks5_parse_method_reply(buf, 2, &m, &used),
	    SOCKS5_OK);
	ck_assert_uint_eq(m, 0xff);
	for (cap = 0; cap < 2; cap++) {
		memset(buf, CANARY, sizeof(buf));
		ck_assert_uint_eq(socks5_encode_method_reply(buf, cap, 0x02),
		    0);
		check_canary(buf, cap, sizeof(buf));
	}
}
END_TEST

static void
addr_v4(struct socks5_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->atyp = SOCKS5_ATYP_IPV4;
	ck_assert_int_eq(inet_pton(AF_INET, ip, a->u.ipv4), 1);
	a->port = port;
}

static void
addr_v6(struct socks5_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->atyp = SOCKS5_ATYP_IPV6;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, a->u.ipv6), 1);
	a->port = port;
}

static void
assert_addr_eq(const struct socks5_addr *x, const struct socks5_addr *y)
{
	ck_assert_uint_eq(x->atyp, y->atyp);
	ck_assert_uint_eq(x->port, y->port);
	switch (x->atyp) {
	case SOCKS5_ATYP_IPV4:
		ck_assert_mem_eq(x->u.ipv4, y->u.ipv4, 4);
		break;
	case SOCKS5_ATYP_IPV6:
		ck_assert_mem_eq(x->u.ipv6, y->u.ipv6, 16);
		break;
	default:
		ck_assert_uint_eq(x->name_len, y->name_len);
		ck_assert_mem_eq(x->u.name, y->u.name, x->name_len);
		ck_assert_uint_eq((uint8_t)y->u.name[y->name_len], 0);
		break;
	}
}

/* A set of addresses for the encoder tests, with their wire forms. */
struct wire_case {
	struct socks5_addr a;
	uint8_t wire[2 + 255 + 2];	/* ATYP .. PORT */
	size_t wire_len;
};

static size_t
make_cases(struct wire_case *c)
{
	char name[255];

	memset(c, 0, 4 * sizeof(*c));
	addr_v4(&c[0].a, "192.0.2.7", 0x1234);
	memcpy(c[0].wire, "\x01\xc0\x00\x02\x07\x12\x34", 7);
	c[0].wire_len = 7;

	addr_v6(&c[1].a, "2001:db8::1", 443);
	c[1].wire[0] = 4;
	memcpy(c[1].wire + 1, v6_addr, 16);
	memcpy(c[1].wire + 17, "\x01\xbb", 2);
	c[1].wire_len = 19;

	c[2].a = unit_sname_len("example.com", 11, 80);
	memcpy(c[2].wire, "\x03\x0b" "example.com" "\x00\x50", 15);
	c[2].wire_len = 15;

	memset(name, 'n', sizeof(name));
	c[3].a = unit_sname_len(name, 255, 65535);
	c[3].wire[0] = 3;
	c[3].wire[1] = 255;
	memcpy(c[3].wire + 2, name, 255);
	c[3].wire[257] = 0xff;
	c[3].wire[258] = 0xff;
	c[3].wire_len = 259;
	return 4;
}

/* The encoders of a message with an address: request, reply, UDP header. */
typedef size_t (*addr_encoder)(uint8_t *, size_t, uint8_t,
    const struct socks5_addr *);

/*
 * Encode c's address with `enc` into buf (`size` bytes, more than the
 * message needs): 3 bytes `head`, then c's wire form; the same into a
 * buffer of exactly that length; nothing into any shorter one, and
 * nothing written past it. Returns the length, the message in buf.
 */
static size_t
check_encoded(addr_encoder enc, uint8_t arg, const char *head,
    const struct wire_case *c, uint8_t *buf, size_t size)
{
	uint8_t *t = malloc(size);
	size_t n = 3 + c->wire_len, cap;

	ck_assert_ptr_nonnull(t);
	for (cap = 0; cap < n; cap++) {
		memset(t, CANARY, size);
		ck_assert_uint_eq(enc(t, cap, arg, &c->a), 0);
		check_canary(t, cap, size);
	}
	free(t);
	ck_assert_uint_eq(enc(buf, n, arg, &c->a), n);
	ck_assert_uint_eq(enc(buf, size, arg, &c->a), n);
	ck_assert_mem_eq(buf, head, 3);
	ck_assert_mem_eq(buf + 3, c->wire, c->wire_len);
	return n;
}

START_TEST(encode_request_roundtrip)
{
	struct wire_case c[4];
	uint8_t buf[SOCKS5_REQUEST_MAX + 8];
	struct socks5_request r;
	size_t i, n, used, nc = make_cases(c);

	for (i = 0; i < nc; i++) {
		n = check_encoded(socks5_encode_request, 0x42, "\x05\x42\x00",
		    &c[i], buf, sizeof(buf));
		ck_assert_int_eq(socks5_parse_request(buf, n, &r, &used),
		    SOCKS5_OK);
		ck_assert_uint_eq(used, n);
		ck_assert_uint_eq(r.cmd, 0x42);
		ck_assert_uint_eq(r.rsv, 0);
		assert_addr_eq(&c[i].a, &r.dst);
	}
	ck_assert_uint_eq(socks5_encode_request(buf, sizeof(buf), 1, &c[3].a),
	    SOCKS5_REQUEST_MAX);
}
END_TEST

START_TEST(encode_reply_roundtrip)
{
	struct wire_case c[4];
	uint8_t buf[SOCKS5_REPLY_MAX + 8];
	struct socks5_reply r;
	size_t i, n, used, nc = make_cases(c);

	for (i = 0; i < nc; i++) {
		n = check_encoded(socks5_encode_reply,
		    SOCKS5_REP_HOST_UNREACHABLE, "\x05\x04\x00", &c[i], buf,
		    sizeof(buf));
		ck_assert_int_eq(socks5_parse_reply(buf, n, &r, &used),
		    SOCKS5_OK);
		ck_assert_uint_eq(used, n);
		ck_assert_uint_eq(r.rep, SOCKS5_REP_HOST_UNREACHABLE);
		assert_addr_eq(&c[i].a, &r.bnd);
	}
}
END_TEST

START_TEST(encode_udp_roundtrip)
{
	struct wire_case c[4];
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + 8];
	struct socks5_udp_header h;
	size_t i, n, used, nc = make_cases(c);

	for (i = 0; i < nc; i++) {
		n = check_encoded(socks5_encode_udp_header, 0x81,
		    "\x00\x00\x81", &c[i], buf, sizeof(buf));
		ck_assert_int_eq(socks5_parse_udp_header(buf, n, &h, &used),
		    SOCKS5_OK);
		ck_assert_uint_eq(used, n);
		ck_assert_uint_eq(h.frag, 0x81);
		assert_addr_eq(&c[i].a, &h.dst);
	}
	ck_assert_uint_eq(socks5_encode_udp_header(buf, sizeof(buf), 0,
	    &c[3].a), SOCKS5_UDP_HEADER_MAX);
}
END_TEST

START_TEST(encode_invalid_addr)
{
	uint8_t buf[SOCKS5_REQUEST_MAX];
	struct socks5_addr a;

	/* name_len 0: the parser would reject it, so never emit it. */
	a = unit_sname_len("", 0, 80);
	ck_assert_uint_eq(socks5_encode_request(buf, sizeof(buf), 1, &a), 0);
	ck_assert_uint_eq(socks5_encode_reply(buf, sizeof(buf), 0, &a), 0);
	ck_assert_uint_eq(socks5_encode_udp_header(buf, sizeof(buf), 0, &a),
	    0);

	/* A NUL inside the name: same reason. */
	a = unit_sname_len("ab\0cd", 5, 80);
	ck_assert_uint_eq(socks5_encode_request(buf, sizeof(buf), 1, &a), 0);
	ck_assert_uint_eq(socks5_encode_reply(buf, sizeof(buf), 0, &a), 0);
	ck_assert_uint_eq(socks5_encode_udp_header(buf, sizeof(buf), 0, &a),
	    0);

	/* Unknown ATYP. */
	addr_v4(&a, "1.2.3.4", 1);
	a.atyp = 0x02;
	ck_assert_uint_eq(socks5_encode_request(buf, sizeof(buf), 1, &a), 0);
	ck_assert_uint_eq(socks5_encode_reply(buf, sizeof(buf), 0, &a), 0);
	ck_assert_uint_eq(socks5_encode_udp_header(buf, sizeof(buf), 0, &a),
	    0);
}
END_TEST

/* ------------------------------------------------------- sockaddr converts */

/* What a socket reports, and what SOCKS says of it. */
START_TEST(from_sockaddr)
{
	static const struct {
		const char *ip;
		uint16_t port;
		uint8_t atyp;
		const char *addr;	/* 4 or 16 bytes, by atyp */
	} t[] = {
		{ "192.0.2.1", 8080, SOCKS5_ATYP_IPV4, "\xc0\x00\x02\x01" },
		{ "2001:db8::1", 443, SOCKS5_ATYP_IPV6,
		    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" },
		/* A dual-stack socket's IPv4 peer. */
		{ "::ffff:198.51.100.9", 1080, SOCKS5_ATYP_IPV4,
		    "\xc6\x33\x64\x09" },
		/* Deprecated v4-compatible: not mapped, stays IPv6. */
		{ "::198.51.100.9", 1080, SOCKS5_ATYP_IPV6,
		    "\0\0\0\0\0\0\0\0\0\0\0\0\xc6\x33\x64\x09" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		union sockaddr_any sa = unit_addr(t[i].ip, t[i].port);
		struct socks5_addr a;

		memset(&a, 0xee, sizeof(a));
		ck_assert_int_eq(socks5_addr_from_sockaddr(&a, &sa.sa), 0);
		ck_assert_uint_eq(a.atyp, t[i].atyp);
		if (t[i].atyp == SOCKS5_ATYP_IPV4)
			ck_assert_mem_eq(a.u.ipv4, t[i].addr, 4);
		else
			ck_assert_mem_eq(a.u.ipv6, t[i].addr, 16);
		ck_assert_uint_eq(a.port, t[i].port);
	}
}
END_TEST

START_TEST(from_sockaddr_other_family)
{
	struct sockaddr_un su;
	struct sockaddr_storage ss;
	struct socks5_addr a;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, "/tmp/x");
	ck_assert_int_eq(socks5_addr_from_sockaddr(&a,
	    (struct sockaddr *)&su), -1);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	ck_assert_int_eq(socks5_addr_from_sockaddr(&a,
	    (struct sockaddr *)&ss), -1);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&a, NULL), -1);
}
END_TEST

START_TEST(to_sockaddr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct socks5_addr a, back;
	socklen_t len;

	addr_v4(&a, "203.0.113.5", 65000);
	memset(&ss, 0xee, sizeof(ss));
	len = 0;
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, (struct sockaddr *)&ss,
	    &len), 0);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 65000);
	ck_assert_mem_eq(&sin->sin_addr, "\xcb\x00\x71\x05", 4);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&back,
	    (struct sockaddr *)&ss), 0);
	assert_addr_eq(&a, &back);

	addr_v6(&a, "2001:db8::1", 22);
	memset(&ss, 0xee, sizeof(ss));
	len = 0;
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, (struct sockaddr *)&ss,
	    &len), 0);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 22);
	ck_assert_mem_eq(&sin6->sin6_addr, v6_addr, 16);
	ck_assert_uint_eq(sin6->sin6_flowinfo, 0);
	ck_assert_uint_eq(sin6->sin6_scope_id, 0);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&back,
	    (struct sockaddr *)&ss), 0);
	assert_addr_eq(&a, &back);

	a = unit_sname_len("example.com", 11, 80);
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, (struct sockaddr *)&ss,
	    &len), -1);
	a.atyp = 0x09;
	ck_assert_int_eq(socks5_addr_to_sockaddr(&a, (struct sockaddr *)&ss,
	    &len), -1);
}
END_TEST

/* ------------------------------------------------------------------ format */

START_TEST(format_basic)
{
	char buf[SOCKS5_ADDR_STRLEN];
	struct socks5_addr a;

	addr_v4(&a, "1.2.3.4", 80);
	ck_assert_ptr_eq(socks5_addr_format(&a, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, "1.2.3.4:80");
	addr_v4(&a, "255.255.255.255", 65535);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "255.255.255.255:65535");
	addr_v6(&a, "2001:db8::1", 443);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "[2001:db8::1]:443");
	addr_v6(&a, "::", 0);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)), "[::]:0");
	a = unit_sname_len("example.com", 11, 80);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "example.com:80");
	/* Names that are IPv6 literals: bracketed once, never twice. */
	a = unit_sname_len("::1", 3, 8080);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "[::1]:8080");
	a = unit_sname_len("[::1]", 5, 8080);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "[::1]:8080");
	a = unit_sname_len("A-z_0.9~", 8, 1);
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "A-z_0.9~:1");
	a.atyp = 0x07;
	ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
	    "(atyp-0x07):1");
}
END_TEST

START_TEST(format_escaping)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} t[] = {
		{ "a b", 3, "a\\x20b:9" },
		{ "k=v", 3, "k\\x3dv:9" },
		{ "\"q\"", 3, "\\x22q\\x22:9" },
		{ "a\\b", 3, "a\\x5cb:9" },
		{ "x\ny\r", 4, "x\\x0ay\\x0d:9" },
		{ "\x01\x1f\x7f", 3, "\\x01\\x1f\\x7f:9" },
		{ "\x80\xc3\xa9\xff", 4, "\\x80\\xc3\\xa9\\xff:9" },
		{ "evil.com\nlevel=error", 20,
		    "evil.com\\x0alevel\\x3derror:9" },
	};
	char buf[SOCKS5_ADDR_STRLEN], want[8];
	struct socks5_addr a;
	size_t i;
	unsigned c;

	for (i = 0; i < NELEM(t); i++) {
		a = unit_sname_len(t[i].in, t[i].len, 9);
		ck_assert_str_eq(socks5_addr_format(&a, buf, sizeof(buf)),
		    t[i].out);
	}
	/* Every byte: printable ASCII other than '"', '=' and '\\' is kept. */
	for (c = 0; c < 256; c++) {
		char ch = (char)c;

		a = unit_sname_len(&ch, 1, 9);
		socks5_addr_format(&a, buf, sizeof(buf));
		if (c == ':')	/* a name with ':' reads as an IPv6 literal */
			snprintf(want, sizeof(want), "[:]:9");
		else if (c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\')
			snprintf(want, sizeof(want), "%c:9", (int)c);
		else
			snprintf(want, sizeof(want), "\\x%02x:9", c);
		ck_assert_str_eq(buf, want);
	}
}
END_TEST

START_TEST(format_worst_case_fits)
{
	char buf[SOCKS5_ADDR_STRLEN];
	char name[255];
	struct socks5_addr a;

	memset(name, 0xff, sizeof(name));
	a = unit_sname_len(name, 255, 65535);
	socks5_addr_format(&a, buf, sizeof(buf));
	ck_assert_uint_eq(strlen(buf), 255 * 4 + 6);
	ck_assert_str_eq(buf + 255 * 4, ":65535");
	ck_assert_mem_eq(buf, "\\xff\\xff", 8);
}
END_TEST

/*
 * Format `a` with every cap from 0 to past the full length: the result is
 * always terminated, never longer than cap - 1, a prefix of the full text,
 * and nothing past cap is written.
 */
static void
check_truncation(const struct socks5_addr *a, size_t piece)
{
	char full[SOCKS5_ADDR_STRLEN], buf[SOCKS5_ADDR_STRLEN + 16];
	size_t cap, flen, blen;

	socks5_addr_format(a, full, sizeof(full));
	flen = strlen(full);
	for (cap = 0; cap <= flen + 2; cap++) {
		memset(buf, CANARY, sizeof(buf));
		ck_assert_ptr_eq(socks5_addr_format(a, buf, cap), buf);
		check_canary((uint8_t *)buf, cap, sizeof(buf));
		if (cap == 0)
			continue;
		blen = strnlen(buf, cap);
		ck_assert_uint_lt(blen, cap);
		ck_assert_mem_eq(buf, full, blen);
		if (cap > flen)
			ck_assert_str_eq(buf, full);
		/* Whole pieces only: no half escapes. */
		if (piece > 1 && cap <= flen)
			ck_assert_uint_eq(blen % piece, 0);
	}
}

START_TEST(format_truncation)
{
	struct socks5_addr a;
	char buf[6], big[7];
	char esc[40];

	addr_v4(&a, "1.2.3.4", 80);
	check_truncation(&a, 1);
	addr_v6(&a, "2001:db8::1", 443);
	check_truncation(&a, 1);
	a = unit_sname_len("example.com", 11, 80);
	check_truncation(&a, 1);
	memset(esc, '\n', sizeof(esc));
	a = unit_sname_len(esc, sizeof(esc), 80);
	check_truncation(&a, 4);

	/* Small caps: "exam" fits in 5, and the port is not cut in half. */
	a = unit_sname_len("example.com", 11, 80);
	ck_assert_str_eq(socks5_addr_format(&a, buf, 5), "exam");
	addr_v4(&a, "1.2.3.4", 8080);
	ck_assert_str_eq(socks5_addr_format(&a, buf, 1), "");
	ck_assert_str_eq(socks5_addr_format(&a, buf, 6), "");
	a = unit_sname_len("a", 1, 8080);
	ck_assert_str_eq(socks5_addr_format(&a, buf, 6), "a");
	ck_assert_str_eq(socks5_addr_format(&a, big, 7), "a:8080");
}
END_TEST

/* ------------------------------------------------------------------ strings */

START_TEST(rep_str)
{
	const char *s;
	unsigned v;

	for (v = 0; v < 256; v++) {
		s = socks5_rep_str((uint8_t)v);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_gt(strlen(s), 0);
	}
	ck_assert_str_eq(socks5_rep_str(SOCKS5_REP_SUCCEEDED), "succeeded");
	ck_assert_str_eq(socks5_rep_str(SOCKS5_REP_CONN_REFUSED),
	    "connection refused");
	ck_assert_str_eq(socks5_rep_str(SOCKS5_REP_ATYP_NOT_SUPPORTED),
	    "address type not supported");
	/* Each assigned code has its own text; unassigned ones share one. */
	for (v = 0; v <= SOCKS5_REP_ATYP_NOT_SUPPORTED; v++)
		ck_assert_str_ne(socks5_rep_str((uint8_t)v),
		    socks5_rep_str(0x09));
	ck_assert_str_eq(socks5_rep_str(0x09), socks5_rep_str(0xff));
}
END_TEST

START_TEST(status_str)
{
	static const enum socks5_status all[] = {
		SOCKS5_OK, SOCKS5_NEED_MORE, SOCKS5_ERR_VERSION,
		SOCKS5_ERR_NMETHODS, SOCKS5_ERR_ATYP, SOCKS5_ERR_NAME,
	};
	size_t i, j;

	for (i = 0; i < NELEM(all); i++) {
		ck_assert_ptr_nonnull(socks5_status_str(all[i]));
		ck_assert_uint_gt(strlen(socks5_status_str(all[i])), 0);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(socks5_status_str(all[i]),
			    socks5_status_str(all[j]));
	}
	ck_assert_str_eq(socks5_status_str(SOCKS5_ERR_VERSION), "bad version");
	ck_assert_ptr_nonnull(socks5_status_str((enum socks5_status)99));
	ck_assert_ptr_nonnull(socks5_status_str((enum socks5_status)-1));
}
END_TEST

static Suite *
socks5_suite(void)
{
	Suite *s = suite_create("socks5");
	TCase *tc;

	tc = tcase_create("greeting");
	tcase_add_test(tc, greeting_ok);
	tcase_add_test(tc, greeting_255_methods);
	tcase_add_test(tc, greeting_nmethods_zero);
	tcase_add_test(tc, greeting_bad_version);
	tcase_add_test(tc, greeting_truncated_every_prefix);
	tcase_add_test(tc, greeting_trailing_bytes);
	tcase_add_test(tc, method_reply_ok);
	tcase_add_test(tc, method_reply_bad_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, request_ipv4);
	tcase_add_test(tc, request_ipv6);
	tcase_add_test(tc, request_domain);
	tcase_add_test(tc, request_domain_255);
	tcase_add_test(tc, request_domain_every_length);
	tcase_add_test(tc, request_ip_literal_stays_name);
	tcase_add_test(tc, request_bad_atyp);
	tcase_add_test(tc, request_name_len_zero);
	tcase_add_test(tc, request_name_with_nul);
	tcase_add_test(tc, request_cmd_passthrough);
	tcase_add_test(tc, request_rsv_nonzero);
	tcase_add_test(tc, request_bad_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("reply");
	tcase_add_test(tc, reply_all_atyps);
	tcase_add_test(tc, reply_domain);
	tcase_add_test(tc, reply_rep_passthrough);
	tcase_add_test(tc, reply_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("udp");
	tcase_add_test(tc, udp_ipv4_payload);
	tcase_add_test(tc, udp_ipv6_and_domain);
	tcase_add_test(tc, udp_frag_values);
	tcase_add_test(tc, udp_rsv_nonzero);
	tcase_add_test(tc, udp_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_test(tc, select_server_order_wins);
	tcase_add_test(tc, select_none_acceptable);
	tcase_add_test(tc, select_last_of_255);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_test(tc, encode_greeting);
	tcase_add_test(tc, encode_method_reply);
	tcase_add_test(tc, encode_request_roundtrip);
	tcase_add_test(tc, encode_reply_roundtrip);
	tcase_add_test(tc, encode_udp_roundtrip);
	tcase_add_test(tc, encode_invalid_addr);
	suite_add_tcase(s, tc);

	tc = tcase_create("sockaddr");
	tcase_add_test(tc, from_sockaddr);
	tcase_add_test(tc, from_sockaddr_other_family);
	tcase_add_test(tc, to_sockaddr);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, format_basic);
	tcase_add_test(tc, format_escaping);
	tcase_add_test(tc, format_worst_case_fits);
	tcase_add_test(tc, format_truncation);
	tcase_add_test(tc, rep_str);
	tcase_add_test(tc, status_str);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return unit_run(socks5_suite(), NULL);
}
