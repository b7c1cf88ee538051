/* SPDX-License-Identifier: ISC */
/*
 * check_socks6.c - unit tests for the SOCKS 6 codec (src/socks6.c,
 * draft-olteanu-intarea-socks-6-12).
 *
 * As in check_socks5.c, parser inputs and expected encoder output are
 * written out by hand (with the byte builder below, which knows nothing of
 * the codec), so a mistake shared by a parser and its encoder cannot hide
 * behind a round trip. Round trips are tested too, on top.
 *
 * Errors are checked at the exact prefix length that proves them: every
 * shorter prefix must be NEED_MORE, every longer one the same error.
 */
#include "config_auto.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks6.h"
#include "unit_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A byte the code under test never writes on its own, to spot overruns. */
#define CANARY 0xa5

/* ------------------------------------------------------------------ */
/* A byte builder for test inputs (not the codec's encoders). */

struct bb {
	uint8_t b[SOCKS6_REQUEST_MAX + 64];
	size_t n;
};

static void
bb_u8(struct bb *b, unsigned v)
{
	ck_assert_uint_lt(b->n, sizeof(b->b));
	b->b[b->n++] = (uint8_t)v;
}

static void
bb_u16(struct bb *b, unsigned v)
{
	bb_u8(b, v >> 8);
	bb_u8(b, v & 0xff);
}

static void
bb_u32(struct bb *b, uint32_t v)
{
	bb_u16(b, v >> 16);
	bb_u16(b, v & 0xffff);
}

static void
bb_mem(struct bb *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
bb_zeros(struct bb *b, size_t n)
{
	while (n-- > 0)
		bb_u8(b, 0);
}

/* Request / operation reply header with ATYP; the address follows. */
static void
bb_hdr(struct bb *b, unsigned ver, unsigned code, unsigned optlen,
    unsigned port, unsigned atyp)
{
	b->n = 0;
	bb_u8(b, ver);
	bb_u8(b, code);
	bb_u16(b, optlen);
	bb_u16(b, port);
	bb_u8(b, 0);
	bb_u8(b, atyp);
}

/* A domain ADDR: L counts the NUL padding up to a multiple of 4. */
static void
bb_name(struct bb *b, const char *name)
{
	size_t n = strlen(name), l = ((1 + n + 3) & ~(size_t)3) - 1;

	bb_u8(b, (unsigned)l);
	bb_mem(b, name, n);
	bb_zeros(b, l - n);
}

static const uint8_t v6_addr[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
};

/* ------------------------------------------------------------------ */
/* Uniform parser wrappers, so one loop drives them all. */

enum which { W_REQUEST, W_AUTH_REPLY, W_OP_REPLY };

static enum socks6_status
parse_which(enum which w, const uint8_t *b, size_t n, int flags, size_t *used)
{
	static struct socks6_request r;
	static struct socks6_auth_reply a;
	static struct socks6_op_reply o;

	switch (w) {
	case W_REQUEST:
		return socks6_parse_request(b, n, flags, &r, used);
	case W_AUTH_REPLY:
		return socks6_parse_auth_reply(b, n, flags, &a, used);
	default:
		return socks6_parse_op_reply(b, n, flags, &o, used);
	}
}

/* Parse the first `k` bytes of `msg` from an exact-size heap copy. */
static enum socks6_status
parse_prefix(enum which w, const uint8_t *msg, size_t k, int flags,
    size_t *used)
{
	uint8_t *p = malloc(k ? k : 1);
	enum socks6_status st;

	ck_assert_ptr_nonnull(p);
	memcpy(p, msg, k);
	st = parse_which(w, p, k, flags, used);
	free(p);
	return st;
}

/*
 * `msg` is a whole valid message: every proper prefix is NEED_MORE, the
 * whole is OK with used == len, and so is the message with junk behind it.
 */
static void
check_prefixes(enum which w, const uint8_t *msg, size_t len, int flags)
{
	static uint8_t buf[SOCKS6_REQUEST_MAX + 16];
	enum socks6_status st;
	size_t k, used;

	for (k = 0; k < len; k++) {
		st = parse_prefix(w, msg, k, flags, &used);
		ck_assert_msg(st == SOCKS6_NEED_MORE,
		    "prefix %zu of %zu: %s, want NEED_MORE", k, len,
		    socks6_status_str(st));
	}
	used = 12345;
	ck_assert_int_eq(parse_prefix(w, msg, len, flags, &used), SOCKS6_OK);
	ck_assert_uint_eq(used, len);

	ck_assert_uint_le(len + 9, sizeof(buf));
	memcpy(buf, msg, len);
	memcpy(buf + len, "\x06\x01\x00\x06\x00\x00\x00\x05\xff", 9);
	used = 12345;
	ck_assert_int_eq(parse_which(w, buf, len + 9, flags, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, len);
}

/*
 * `msg` (`len` bytes) is invalid, and its byte at index at - 1 is the
 * first to prove it: prefixes shorter than `at` are NEED_MORE, every
 * longer one is `err`.
 */
static void
check_err_at(enum which w, const uint8_t *msg, size_t len, int flags,
    size_t at, enum socks6_status err)
{
	enum socks6_status st;
	size_t k, used;

	ck_assert_uint_le(at, len);
	for (k = 0; k <= len; k++) {
		st = parse_prefix(w, msg, k, flags, &used);
		if (k < at)
			ck_assert_msg(st == SOCKS6_NEED_MORE,
			    "prefix %zu (error at %zu): %s, want NEED_MORE",
			    k, at, socks6_status_str(st));
		else
			ck_assert_msg(st == err,
			    "prefix %zu (error at %zu): %s, want %s", k, at,
			    socks6_status_str(st), socks6_status_str(err));
	}
}

/*
 * A request to 192.0.2.7:443 whose options are `opts` (`optlen` bytes):
 * into `b`; returns the offset of the options.
 */
static size_t
bb_request_with(struct bb *b, const uint8_t *opts, size_t optlen)
{
	static const uint8_t ip[4] = { 192, 0, 2, 7 };

	bb_hdr(b, 6, SOCKS6_CMD_CONNECT, (unsigned)optlen, 443,
	    SOCKS5_ATYP_IPV4);
	bb_mem(b, ip, 4);
	bb_mem(b, opts, optlen);
	return 12;
}

/* Parse `opts` as a whole request's options. */
static enum socks6_status
parse_req_opts(const struct bb *opts, struct socks6_request *r)
{
	static struct bb b;
	size_t used;

	bb_request_with(&b, opts->b, opts->n);
	return socks6_parse_request(b.b, b.n, 0, r, &used);
}

/* The error of a request with these options, checked at byte 12 + at. */
static void
check_opts_err_at(const struct bb *opts, size_t at, enum socks6_status err)
{
	static struct bb b;

	bb_request_with(&b, opts->b, opts->n);
	check_err_at(W_REQUEST, b.b, b.n, 0, 12 + at, err);
}

/* ------------------------------------------------------------------ */
/* Requests */

START_TEST(request_ipv4)
{
	struct socks6_request r;
	struct bb b;
	size_t used;
	static const uint8_t ip[4] = { 192, 0, 2, 7 };

	bb_hdr(&b, 6, SOCKS6_CMD_CONNECT, 0, 0x1234, SOCKS5_ATYP_IPV4);
	bb_mem(&b, ip, 4);
	ck_assert_uint_eq(b.n, 12);
	ck_assert_int_eq(socks6_parse_request(b.b, b.n, 0, &r, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, 12);
	ck_assert_uint_eq(r.version, 6);
	ck_assert_uint_eq(r.cmd, SOCKS6_CMD_CONNECT);
	ck_assert_uint_eq(r.options_len, 0);
	ck_assert_uint_eq(r.options_off, 12);
	ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_uint_eq(r.dst.port, 0x1234);
	ck_assert_mem_eq(r.dst.u.ipv4, ip, 4);
	ck_assert_uint_eq(r.opts.kinds, 0);
	check_prefixes(W_REQUEST, b.b, b.n, 0);
}
END_TEST

START_TEST(request_ipv6)
{
	struct socks6_request r;
	struct bb b;
	size_t used;

	bb_hdr(&b, 6, SOCKS6_CMD_BIND, 0, 0, SOCKS5_ATYP_IPV6);
	bb_mem(&b, v6_addr, 16);
	ck_assert_int_eq(socks6_parse_request(b.b, b.n, 0, &r, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, 24);
	ck_assert_uint_eq(r.cmd, SOCKS6_CMD_BIND);
	ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_IPV6);
	ck_assert_mem_eq(r.dst.u.ipv6, v6_addr, 16);
	check_prefixes(W_REQUEST, b.b, b.n, 0);
}
END_TEST

/* Every name length: L = the next multiple of 4 of 1 + n, minus 1. */
START_TEST(request_domain_every_length)
{
	static struct socks6_request r;
	struct bb b;
	char name[256];
	size_t n, used, l;

	for (n = 1; n <= 255; n++) {
		memset(name, 'a' + (int)(n % 26), n);
		name[n] = '\0';
		bb_hdr(&b, 6, SOCKS6_CMD_CONNECT, 0, 80, SOCKS5_ATYP_DOMAIN);
		bb_name(&b, name);
		l = b.b[8];
		ck_assert_uint_eq((1 + l) % 4, 0);
		ck_assert_uint_ge(l, n);
		ck_assert_uint_lt(l - n, 4);
		ck_assert_int_eq(socks6_parse_request(b.b, b.n, 0, &r,
		    &used), SOCKS6_OK);
		ck_assert_uint_eq(used, 8 + 1 + l);
		ck_assert_uint_eq(used % 4, 0);
		ck_assert_uint_eq(r.dst.atyp, SOCKS5_ATYP_DOMAIN);
		ck_assert_uint_eq(r.dst.name_len, n);
		ck_assert_str_eq(r.dst.u.name, name);
		ck_assert_uint_eq(r.dst.port, 80);
		if (n <= 9 || n >= 250)
			check_prefixes(W_REQUEST, b.b, b.n, 0);
	}
}
END_TEST

START_TEST(request_domain_errors)
{
	struct bb b;

	/* L = 0. */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 0);
	check_err_at(W_REQUEST, b.b, b.n, 0, 9, SOCKS6_ERR_NAME);

	/* L = 4: 1 + L is not a multiple of 4 (padding not counted). */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 4);
	bb_mem(&b, "abcd", 4);
	check_err_at(W_REQUEST, b.b, b.n, 0, 9, SOCKS6_ERR_NAME);

	/* Unpadded name with L = its length (libsocks6msg's old layout). */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 2);
	bb_mem(&b, "ab", 2);
	bb_u8(&b, 0);
	check_err_at(W_REQUEST, b.b, b.n, 0, 9, SOCKS6_ERR_NAME);

	/* Empty name: the first octet is already padding. */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 3);
	bb_zeros(&b, 3);
	check_err_at(W_REQUEST, b.b, b.n, 0, 10, SOCKS6_ERR_NAME);

	/* A NUL inside: "abcd\0f" in L = 7, caught at the 'f'. */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 7);
	bb_mem(&b, "abcd\0f\0", 7);
	check_err_at(W_REQUEST, b.b, b.n, 0, 15, SOCKS6_ERR_NAME);

	/* "ab" then 5 NULs: the first NUL already proves too much padding. */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 7);
	bb_mem(&b, "ab\0\0\0\0\0", 7);
	check_err_at(W_REQUEST, b.b, b.n, 0, 12, SOCKS6_ERR_NAME);

	/* Padding longer than needed: "abc" + 4 NULs in L = 7. */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 7);
	bb_mem(&b, "abc\0\0\0\0", 7);
	check_err_at(W_REQUEST, b.b, b.n, 0, 13, SOCKS6_ERR_NAME);

	/* Padding not NUL after the first NUL. */
	bb_hdr(&b, 6, 1, 0, 80, SOCKS5_ATYP_DOMAIN);
	bb_u8(&b, 7);
	bb_mem(&b, "abcde\0x", 7);
	check_err_at(W_REQUEST, b.b, b.n, 0, 16, SOCKS6_ERR_NAME);
}
END_TEST

START_TEST(request_version)
{
	static struct socks6_request r;
	struct bb b;
	size_t used;
	static const uint8_t ip[4] = { 10, 0, 0, 1 };
	static const unsigned bad[] = { 0, 4, 5, 7, 0xd3, 0xd4, 0xd5, 0xff };
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		bb_hdr(&b, bad[i], 1, 0, 80, SOCKS5_ATYP_IPV4);
		bb_mem(&b, ip, 4);
		check_err_at(W_REQUEST, b.b, b.n, 0, 1, SOCKS6_ERR_VERSION);
		if (bad[i] != SOCKS6_VERSION_LEGACY)
			check_err_at(W_REQUEST, b.b, b.n, SOCKS6_ALLOW_LEGACY,
			    1, SOCKS6_ERR_VERSION);
	}

	/* 0xD4 (212) is taken when allowed, and reported. */
	bb_hdr(&b, 0xd4, 1, 0, 80, SOCKS5_ATYP_IPV4);
	bb_mem(&b, ip, 4);
	ck_assert_int_eq(socks6_parse_request(b.b, b.n, SOCKS6_ALLOW_LEGACY,
	    &r, &used), SOCKS6_OK);
	ck_assert_uint_eq(r.version, 0xd4);
	check_prefixes(W_REQUEST, b.b, b.n, SOCKS6_ALLOW_LEGACY);

	/* A SOCKS5 greeting is refused at its first octet. */
	ck_assert_int_eq(socks6_parse_request((const uint8_t *)"\x05\x01\x00",
	    3, SOCKS6_ALLOW_LEGACY, &r, &used), SOCKS6_ERR_VERSION);
}
END_TEST

START_TEST(request_optlen_errors)
{
	struct bb b;
	static const uint8_t ip[4] = { 10, 0, 0, 1 };

	/* Not a multiple of 4: known at the low octet. */
	bb_hdr(&b, 6, 1, 6, 80, SOCKS5_ATYP_IPV4);
	bb_mem(&b, ip, 4);
	bb_zeros(&b, 6);
	check_err_at(W_REQUEST, b.b, b.n, 0, 4, SOCKS6_ERR_OPTLEN);

	/* 20480 + 4: the high octet (0x50) could still be 20480. */
	bb_hdr(&b, 6, 1, SOCKS6_OPTIONS_MAX + 4, 80, SOCKS5_ATYP_IPV4);
	bb_mem(&b, ip, 4);
	check_err_at(W_REQUEST, b.b, b.n, 0, 4, SOCKS6_ERR_OPTLEN);

	/* 0x5100: the high octet alone is over 20 KB. */
	bb_hdr(&b, 6, 1, 0x5100, 80, SOCKS5_ATYP_IPV4);
	bb_mem(&b, ip, 4);
	check_err_at(W_REQUEST, b.b, b.n, 0, 3, SOCKS6_ERR_OPTLEN);

	bb_hdr(&b, 6, 1, 0xfffc, 80, SOCKS5_ATYP_IPV4);
	bb_mem(&b, ip, 4);
	check_err_at(W_REQUEST, b.b, b.n, 0, 3, SOCKS6_ERR_OPTLEN);
}
END_TEST

START_TEST(request_bad_atyp)
{
	static const unsigned bad[] = { 0, 2, 5, 0xff };
	struct bb b;
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		bb_hdr(&b, 6, 1, 0, 80, bad[i]);
		bb_zeros(&b, 16);
		check_err_at(W_REQUEST, b.b, b.n, 0, 8, SOCKS6_ERR_ATYP);
	}
}
END_TEST

/* CMD and the header's padding octet are passed through as sent. */
START_TEST(request_passthrough)
{
	static struct socks6_request r;
	struct bb b;
	size_t used;
	unsigned cmd;

	for (cmd = 0; cmd < 256; cmd += 17) {
		bb_hdr(&b, 6, cmd, 0, 0, SOCKS5_ATYP_IPV4);
		b.b[6] = (uint8_t)(0xff - cmd);
		bb_zeros(&b, 4);
		ck_assert_int_eq(socks6_parse_request(b.b, b.n, 0, &r,
		    &used), SOCKS6_OK);
		ck_assert_uint_eq(r.cmd, cmd);
		ck_assert_uint_eq(r.padding, 0xff - cmd);
	}
}
END_TEST

/* The 20 KB cap: a block of exactly 20480 octets is fine. */
START_TEST(request_options_20k)
{
	static struct socks6_request r;
	static struct bb opts, b;
	size_t used, i, off;

	/* One unknown option filling all of it. */
	opts.n = 0;
	bb_u16(&opts, 64512);
	bb_u16(&opts, SOCKS6_OPTIONS_MAX);
	bb_zeros(&opts, SOCKS6_OPTIONS_MAX - 4);
	off = bb_request_with(&b, opts.b, opts.n);
	ck_assert_int_eq(socks6_parse_request(b.b, b.n, 0, &r, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, off + SOCKS6_OPTIONS_MAX);
	ck_assert_uint_eq(r.options_len, SOCKS6_OPTIONS_MAX);
	ck_assert_uint_eq(r.opts.nignored, 1);
	/* A few prefixes near the end. */
	for (i = b.n - 5; i < b.n; i++)
		ck_assert_int_eq(parse_prefix(W_REQUEST, b.b, i, 0, &used),
		    SOCKS6_NEED_MORE);

	/* 5120 four-octet options. */
	opts.n = 0;
	for (i = 0; i < SOCKS6_OPTIONS_MAX / 4; i++) {
		bb_u16(&opts, 100 + (unsigned)(i % 7));
		bb_u16(&opts, 4);
	}
	bb_request_with(&b, opts.b, opts.n);
	ck_assert_int_eq(socks6_parse_request(b.b, b.n, 0, &r, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(r.opts.nignored, SOCKS6_OPTIONS_MAX / 4);

	/* An option Length past 20 KB cannot fit in any block. */
	opts.n = 0;
	bb_u16(&opts, 64512);
	bb_u16(&opts, SOCKS6_OPTIONS_MAX + 4);
	ck_assert_int_eq(socks6_parse_options(opts.b, 4, SOCKS6_CTX_REQUEST,
	    &r.opts), SOCKS6_ERR_OPTION);
	ck_assert_int_eq(socks6_parse_options(opts.b, SOCKS6_OPTIONS_MAX + 4,
	    SOCKS6_CTX_REQUEST, &r.opts), SOCKS6_ERR_OPTLEN);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Options */

static void
bb_opt_hdr(struct bb *b, unsigned kind, unsigned len)
{
	bb_u16(b, kind);
	bb_u16(b, len);
}

static void
bb_stack(struct bb *b, unsigned leg, unsigned level, unsigned code,
    unsigned v0, unsigned v1)
{
	bb_opt_hdr(b, SOCKS6_OPT_STACK, 8);
	bb_u8(b, leg << 6 | level);
	bb_u8(b, code);
	bb_u8(b, v0);
	bb_u8(b, v1);
}

START_TEST(opt_stack_all)
{
	static struct socks6_request r;
	struct bb o;

	o.n = 0;
	bb_stack(&o, 1, 1, 1, 0x10, 0);		/* TOS, client-proxy */
	bb_stack(&o, 2, 1, 2, 2, 0);		/* Happy Eyeballs: desired */
	bb_stack(&o, 3, 1, 3, 64, 0);		/* TTL, both legs */
	bb_stack(&o, 2, 1, 4, 1, 0);		/* No Fragmentation: allowed */
	bb_stack(&o, 2, 4, 1, 0x05, 0xb4);	/* TFO: 1460 */
	bb_stack(&o, 2, 4, 2, 2, 0);		/* MPTCP: desired */
	bb_stack(&o, 2, 4, 3, 0x01, 0x00);	/* Backlog: 256 */
	bb_stack(&o, 2, 5, 1, 2, 0);		/* UDP Error: desired */
	bb_stack(&o, 2, 5, 2, 1, 1);		/* Port Parity: even, reserve */
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_STACK));
	ck_assert_uint_eq(r.opts.nignored, 0);

	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TOS].legs, 1);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TOS].value[0], 0x10);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS].legs, 2);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS].value[1],
	    SOCKS6_AVAIL_YES);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TTL].legs, 3);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TTL].value[0], 64);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TTL].value[1], 64);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_NOFRAG].value[1], 1);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TFO].value[1], 1460);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_MULTIPATH].value[1], 2);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_BACKLOG].value[1], 256);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_UDP_ERROR].value[1], 2);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_PORT_PARITY].value[1],
	    0x0101);
	{
		static struct bb b;

		bb_request_with(&b, o.b, o.n);
		check_prefixes(W_REQUEST, b.b, b.n, 0);
	}
}
END_TEST

/* Happy Eyeballs alone, as a client asking the proxy to do it. */
START_TEST(opt_happy_eyeballs)
{
	static struct socks6_request r;
	struct bb o;

	o.n = 0;
	bb_stack(&o, 2, 1, 2, 1, 0);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS].legs,
	    SOCKS6_LEG_PROXY_REMOTE);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS].value[1],
	    SOCKS6_AVAIL_NO);

	/* Availability 0 and 3 are not defined: refused at that octet. */
	o.n = 0;
	bb_stack(&o, 2, 1, 2, 3, 0);
	check_opts_err_at(&o, 7, SOCKS6_ERR_OPTION_DATA);
	o.n = 0;
	bb_stack(&o, 2, 1, 2, 0, 0);
	check_opts_err_at(&o, 7, SOCKS6_ERR_OPTION_DATA);

	/* On the client-proxy leg it means nothing: ignored. */
	o.n = 0;
	bb_stack(&o, 1, 1, 2, 2, 0);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS].legs, 0);
	ck_assert_uint_eq(r.opts.nignored, 1);
}
END_TEST

START_TEST(opt_stack_legs)
{
	static struct socks6_request r;
	struct bb o;

	/* TOS on each leg separately: two values. */
	o.n = 0;
	bb_stack(&o, 1, 1, 1, 5, 0);
	bb_stack(&o, 2, 1, 1, 7, 0);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TOS].legs, 3);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TOS].value[0], 5);
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TOS].value[1], 7);

	/* Both legs, then one of them again: duplicate, at its code. */
	o.n = 0;
	bb_stack(&o, 3, 1, 1, 5, 0);
	bb_stack(&o, 1, 1, 1, 5, 0);
	check_opts_err_at(&o, 14, SOCKS6_ERR_DUPLICATE);

	/* The same option twice. */
	o.n = 0;
	bb_stack(&o, 2, 4, 1, 0, 0);
	bb_stack(&o, 2, 4, 1, 0, 0);
	check_opts_err_at(&o, 14, SOCKS6_ERR_DUPLICATE);

	/* Unknown level/code, leg 0: ignored, and may repeat. */
	o.n = 0;
	bb_stack(&o, 2, 9, 9, 1, 2);
	bb_stack(&o, 2, 9, 9, 1, 2);
	bb_stack(&o, 0, 1, 1, 5, 0);
	bb_stack(&o, 2, 4, 9, 0, 0);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.nignored, 4);
	ck_assert(!SOCKS6_HAS(&r.opts, SOCKS6_OPT_STACK));
}
END_TEST

START_TEST(opt_stack_malformed)
{
	struct bb o;

	/* A known Stack option of 12 octets: refused at its code. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_STACK, 12);
	bb_u8(&o, 1 << 6 | 1);
	bb_u8(&o, 1);
	bb_zeros(&o, 6);
	check_opts_err_at(&o, 6, SOCKS6_ERR_OPTION_DATA);

	/* Length 4: no room for level and code. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_STACK, 4);
	bb_opt_hdr(&o, 200, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION_DATA);

	/* Port parity 3, then reserve 2. */
	o.n = 0;
	bb_stack(&o, 2, 5, 2, 3, 0);
	check_opts_err_at(&o, 7, SOCKS6_ERR_OPTION_DATA);
	o.n = 0;
	bb_stack(&o, 2, 5, 2, 2, 2);
	check_opts_err_at(&o, 8, SOCKS6_ERR_OPTION_DATA);

	/* MPTCP availability 9. */
	o.n = 0;
	bb_stack(&o, 2, 4, 2, 9, 0);
	check_opts_err_at(&o, 7, SOCKS6_ERR_OPTION_DATA);
}
END_TEST

START_TEST(opt_auth_advert)
{
	static struct socks6_request r;
	static const uint8_t order[] = { 2, 1, 0x80 };
	struct bb o;

	/* 100 octets of initial data; 2, 1, 2 again, 0, 0x80; padding. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_ADVERT, 12);
	bb_u16(&o, 100);
	bb_u8(&o, 2);
	bb_u8(&o, 1);
	bb_u8(&o, 2);
	bb_u8(&o, 0);
	bb_u8(&o, 0x80);
	bb_u8(&o, 0);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_AUTH_ADVERT));
	ck_assert_uint_eq(r.opts.initial_data_len, 100);
	ck_assert_uint_eq(r.opts.nmethods, 3);
	ck_assert_mem_eq(r.opts.methods, order, 3);

	/* No methods at all (only "no authentication", implied). */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_ADVERT, 8);
	bb_u16(&o, 0);
	bb_zeros(&o, 2);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.nmethods, 0);

	/* 2^14 is the most initial data; 2^14 + 1 is refused. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_ADVERT, 8);
	bb_u16(&o, SOCKS6_INITIAL_DATA_MAX);
	bb_u8(&o, 2);
	bb_u8(&o, 0);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.initial_data_len, SOCKS6_INITIAL_DATA_MAX);
	o.b[5] = 1;
	check_opts_err_at(&o, 6, SOCKS6_ERR_OPTION_DATA);
	o.b[4] = 0x41;
	o.b[5] = 0;
	check_opts_err_at(&o, 5, SOCKS6_ERR_OPTION_DATA);

	/* Twice: refused at the second one's kind. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_ADVERT, 8);
	bb_u16(&o, 0);
	bb_u8(&o, 2);
	bb_u8(&o, 0);
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_ADVERT, 8);
	bb_u16(&o, 0);
	bb_u8(&o, 2);
	bb_u8(&o, 0);
	check_opts_err_at(&o, 10, SOCKS6_ERR_DUPLICATE);
}
END_TEST

/* Kind 4, method 2: VER ULEN UNAME PLEN PASSWD, then 0-3 NULs. */
static void
bb_password(struct bb *o, const char *u, const char *p, size_t extra_pad,
    unsigned padbyte)
{
	size_t ul = strlen(u), pl = strlen(p);
	size_t need = 4 + 1 + 3 + ul + pl;
	size_t len = ((need + 3) & ~(size_t)3) + extra_pad;

	bb_opt_hdr(o, SOCKS6_OPT_AUTH_DATA, (unsigned)len);
	bb_u8(o, SOCKS5_METHOD_PASSWORD);
	bb_u8(o, 1);
	bb_u8(o, (unsigned)ul);
	bb_mem(o, u, ul);
	bb_u8(o, (unsigned)pl);
	bb_mem(o, p, pl);
	while (need++ < len)
		bb_u8(o, padbyte);
}

START_TEST(opt_auth_password)
{
	static struct socks6_request r;
	static struct bb b;
	struct bb o;

	o.n = 0;
	bb_password(&o, "alice", "secret", 0, 0);
	ck_assert_uint_eq(o.n, 20);	/* 4 + 1 + 3 + 5 + 6 = 19, padded */
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_AUTH_DATA));
	ck_assert_int_eq(r.opts.has_password, 1);
	ck_assert_uint_eq(r.opts.password.ulen, 5);
	ck_assert_mem_eq(r.opts.password.uname, "alice", 6);
	ck_assert_uint_eq(r.opts.password.plen, 6);
	ck_assert_mem_eq(r.opts.password.passwd, "secret", 7);
	ck_assert_uint_eq(r.opts.nauth, 1);
	ck_assert_uint_eq(r.opts.auth[0].method, 2);
	ck_assert_uint_eq(r.opts.auth[0].off, 5);
	ck_assert_uint_eq(r.opts.auth[0].len, 15);
	bb_request_with(&b, o.b, o.n);
	check_prefixes(W_REQUEST, b.b, b.n, 0);

	/* Exactly aligned: no padding. 4 + 1 + 3 + 4 + 4 = 16. */
	o.n = 0;
	bb_password(&o, "user", "pass", 0, 0);
	ck_assert_uint_eq(o.n, 16);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);

	/* Longest: 255 + 255. */
	{
		char u[256], p[256];

		memset(u, 'u', 255);
		u[255] = '\0';
		memset(p, 'p', 255);
		p[255] = '\0';
		o.n = 0;
		bb_password(&o, u, p, 0, 0);
		ck_assert_uint_eq(o.n, 520);
		ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
		ck_assert_uint_eq(r.opts.password.ulen, 255);
	}

	/* Padding not NUL: refused at that octet. */
	o.n = 0;
	bb_password(&o, "alice", "secret", 0, 'x');
	check_opts_err_at(&o, 20, SOCKS6_ERR_OPTION_DATA);

	/* Overlong: 4 more octets than the request needs, known at PLEN. */
	o.n = 0;
	bb_password(&o, "alice", "secret", 4, 0);
	check_opts_err_at(&o, 13, SOCKS6_ERR_OPTION_DATA);

	/* RFC 1929 VER 5. */
	o.n = 0;
	bb_password(&o, "alice", "secret", 0, 0);
	o.b[5] = 5;
	check_opts_err_at(&o, 6, SOCKS6_ERR_OPTION_DATA);

	/* ULEN 0. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 12);
	bb_u8(&o, 2);
	bb_u8(&o, 1);
	bb_u8(&o, 0);
	bb_u8(&o, 3);
	bb_mem(&o, "abcd", 4);
	check_opts_err_at(&o, 7, SOCKS6_ERR_OPTION_DATA);

	/* ULEN too long for the option: known at ULEN. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 12);
	bb_u8(&o, 2);
	bb_u8(&o, 1);
	bb_u8(&o, 9);
	bb_zeros(&o, 5);
	check_opts_err_at(&o, 7, SOCKS6_ERR_OPTION_DATA);

	/* An option of 8 cannot hold any RFC 1929 request: at the method. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 8);
	bb_u8(&o, 2);
	bb_u8(&o, 1);
	bb_u8(&o, 1);
	bb_u8(&o, 'a');
	check_opts_err_at(&o, 5, SOCKS6_ERR_OPTION_DATA);

	/* PLEN 0. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 12);
	bb_u8(&o, 2);
	bb_u8(&o, 1);
	bb_u8(&o, 1);
	bb_u8(&o, 'a');
	bb_u8(&o, 0);
	bb_zeros(&o, 3);
	check_opts_err_at(&o, 9, SOCKS6_ERR_OPTION_DATA);

	/* Twice for method 2: refused at the second method octet. */
	o.n = 0;
	bb_password(&o, "user", "pass", 0, 0);
	bb_password(&o, "user", "pass", 0, 0);
	check_opts_err_at(&o, 21, SOCKS6_ERR_DUPLICATE);
}
END_TEST

START_TEST(opt_auth_data_other)
{
	static struct socks6_request r;
	struct bb o;

	/* GSS-API and a private method, each once; data kept by offset. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 12);
	bb_u8(&o, 1);
	bb_mem(&o, "\x01\x01\x00\x04tok", 7);
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 8);
	bb_u8(&o, 0x80);
	bb_mem(&o, "abc", 3);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_int_eq(r.opts.has_password, 0);
	ck_assert_uint_eq(r.opts.nauth, 2);
	ck_assert_uint_eq(r.opts.auth[0].method, 1);
	ck_assert_uint_eq(r.opts.auth[0].off, 5);
	ck_assert_uint_eq(r.opts.auth[0].len, 7);
	ck_assert_uint_eq(r.opts.auth[1].method, 0x80);
	ck_assert_uint_eq(r.opts.auth[1].off, 17);
	ck_assert_uint_eq(r.opts.auth[1].len, 3);

	/* Length 4: no method octet. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_AUTH_DATA, 4);
	bb_opt_hdr(&o, 300, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION_DATA);
}
END_TEST

START_TEST(opt_session_kinds)
{
	static struct socks6_request r;
	struct bb o;

	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_REQUEST, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_ID, 12);
	bb_mem(&o, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_OK, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_INVALID, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_TEARDOWN, 4);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_SESSION_REQUEST));
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_SESSION_ID));
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_SESSION_OK));
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_SESSION_INVALID));
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_SESSION_TEARDOWN));
	ck_assert(!SOCKS6_HAS(&r.opts, SOCKS6_OPT_IDEM_REQUEST));
	ck_assert(!SOCKS6_HAS(&r.opts, 7));
	ck_assert(!SOCKS6_HAS(&r.opts, 40000));
	ck_assert_uint_eq(r.opts.session_id_off, 8);
	ck_assert_uint_eq(r.opts.session_id_len, 8);
	ck_assert_uint_eq(r.opts.nignored, 0);

	/* Session Request of 8 octets: too long, at its Length. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_REQUEST, 8);
	bb_zeros(&o, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION_DATA);

	/* An empty Session ID. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_ID, 4);
	bb_opt_hdr(&o, 300, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION_DATA);

	/* Two Session IDs: at the second kind's low octet. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_ID, 8);
	bb_u32(&o, 1);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_ID, 8);
	bb_u32(&o, 2);
	check_opts_err_at(&o, 10, SOCKS6_ERR_DUPLICATE);

	/* Session Teardown twice. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_TEARDOWN, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_TEARDOWN, 4);
	check_opts_err_at(&o, 6, SOCKS6_ERR_DUPLICATE);
}
END_TEST

START_TEST(opt_idempotence)
{
	static struct socks6_request r;
	struct bb o;

	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_REQUEST, 8);
	bb_u32(&o, 64);
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_WINDOW, 12);
	bb_u32(&o, 0xfffffff0u);
	bb_u32(&o, 0x7fffffffu);
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_SPEND, 8);
	bb_u32(&o, 0xdeadbeefu);
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_ACCEPTED, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_REJECTED, 4);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.idem_request, 64);
	ck_assert_uint_eq(r.opts.idem_base, 0xfffffff0u);
	ck_assert_uint_eq(r.opts.idem_size, 0x7fffffffu);
	ck_assert_uint_eq(r.opts.idem_token, 0xdeadbeefu);
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_IDEM_ACCEPTED));
	ck_assert(SOCKS6_HAS(&r.opts, SOCKS6_OPT_IDEM_REJECTED));

	/* Window size 0, and 2^31: refused. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_WINDOW, 12);
	bb_u32(&o, 1);
	bb_u32(&o, 0);
	check_opts_err_at(&o, 12, SOCKS6_ERR_OPTION_DATA);
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_WINDOW, 12);
	bb_u32(&o, 1);
	bb_u32(&o, 0x80000000u);
	check_opts_err_at(&o, 9, SOCKS6_ERR_OPTION_DATA);

	/* Expenditure is 8 octets (the draft's figure says 4: text wins). */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_SPEND, 4);
	bb_opt_hdr(&o, 300, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION_DATA);

	/* Window of 16 octets: the high octet of Length cannot say yet. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_WINDOW, 16);
	bb_zeros(&o, 12);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION_DATA);
	/* ... but a Length of 0x0100 can. */
	o.n = 0;
	bb_opt_hdr(&o, SOCKS6_OPT_IDEM_WINDOW, 256);
	bb_zeros(&o, 252);
	check_opts_err_at(&o, 3, SOCKS6_ERR_OPTION_DATA);
}
END_TEST

START_TEST(opt_unknown_ignored)
{
	static struct socks6_request r;
	struct bb o;

	o.n = 0;
	bb_opt_hdr(&o, 0, 4);
	bb_opt_hdr(&o, 7, 8);
	bb_u32(&o, 0xffffffffu);
	bb_opt_hdr(&o, 16, 4);
	bb_opt_hdr(&o, 17, 8);
	bb_u32(&o, 0x01020304u);
	bb_opt_hdr(&o, 64512, 4);
	bb_opt_hdr(&o, 64512, 4);
	bb_opt_hdr(&o, 0xffff, 12);
	bb_zeros(&o, 8);
	ck_assert_int_eq(parse_req_opts(&o, &r), SOCKS6_OK);
	ck_assert_uint_eq(r.opts.nignored, 7);
	ck_assert_uint_eq(r.opts.kinds, 0);
}
END_TEST

START_TEST(opt_framing)
{
	struct bb o;

	/* Length 2: shorter than the header. */
	o.n = 0;
	bb_opt_hdr(&o, 300, 2);
	bb_zeros(&o, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION);

	/* Length 6: not a multiple of 4. */
	o.n = 0;
	bb_opt_hdr(&o, 300, 6);
	bb_zeros(&o, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION);

	/* Length 12 in a block of 8: runs past its end. */
	o.n = 0;
	bb_opt_hdr(&o, 300, 12);
	bb_zeros(&o, 4);
	check_opts_err_at(&o, 4, SOCKS6_ERR_OPTION);

	/* Length 0x0400 in a block of 8: the high octet says so. */
	o.n = 0;
	bb_opt_hdr(&o, 300, 0x400);
	bb_zeros(&o, 4);
	check_opts_err_at(&o, 3, SOCKS6_ERR_OPTION);

	/* A Stack option (8 octets at least) in the block's last 4. */
	o.n = 0;
	bb_opt_hdr(&o, 300, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_STACK, 8);
	check_opts_err_at(&o, 6, SOCKS6_ERR_OPTION);

	/* The second option is broken: the first is fine. */
	o.n = 0;
	bb_stack(&o, 1, 1, 1, 1, 0);
	bb_opt_hdr(&o, 300, 5);
	check_opts_err_at(&o, 12, SOCKS6_ERR_OPTION);
}
END_TEST

START_TEST(opt_iterator)
{
	struct socks6_opt opt;
	struct bb o;
	size_t off;
	unsigned kinds[8];
	int n = 0, rc;

	o.n = 0;
	bb_stack(&o, 2, 1, 2, 2, 0);
	bb_opt_hdr(&o, 64999, 4);
	bb_opt_hdr(&o, SOCKS6_OPT_SESSION_ID, 8);
	bb_u32(&o, 7);
	off = 0;
	while ((rc = socks6_opt_next(o.b, o.n, &off, &opt)) == 1) {
		ck_assert_int_lt(n, 8);
		kinds[n++] = opt.kind;
		ck_assert_ptr_eq(opt.data, o.b + off - opt.len + 4);
		ck_assert_uint_le(off, o.n);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(kinds[0], 1);
	ck_assert_uint_eq(kinds[1], 64999);
	ck_assert_uint_eq(kinds[2], 6);
	ck_assert_uint_eq(off, o.n);

	/* Cut short: the last option's header is not whole. */
	off = 0;
	ck_assert_int_eq(socks6_opt_next(o.b, 10, &off, &opt), 1);
	ck_assert_int_eq(socks6_opt_next(o.b, 10, &off, &opt), -1);
	ck_assert_uint_eq(off, 8);
	/* Length past the end, and Length 0 (no endless loop). */
	off = 0;
	ck_assert_int_eq(socks6_opt_next(o.b, 7, &off, &opt), -1);
	o.b[2] = 0;
	o.b[3] = 0;
	off = 0;
	ck_assert_int_eq(socks6_opt_next(o.b, o.n, &off, &opt), -1);
	ck_assert_uint_eq(off, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Replies */

START_TEST(auth_reply_parse)
{
	static struct socks6_auth_reply a;
	struct bb b;
	size_t used;

	b.n = 0;
	bb_u8(&b, 6);
	bb_u8(&b, SOCKS6_AUTH_SUCCESS);
	bb_u16(&b, 0);
	ck_assert_int_eq(socks6_parse_auth_reply(b.b, b.n, 0, &a, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, 4);
	ck_assert_uint_eq(a.type, 0);
	check_prefixes(W_AUTH_REPLY, b.b, b.n, 0);

	/* Failed, password method's reply (status 1), method selected. */
	b.n = 0;
	bb_u8(&b, 6);
	bb_u8(&b, SOCKS6_AUTH_FAILURE);
	bb_u16(&b, 16);
	bb_opt_hdr(&b, SOCKS6_OPT_AUTH_DATA, 8);
	bb_mem(&b, "\x02\x01\x01\x00", 4);
	bb_opt_hdr(&b, SOCKS6_OPT_AUTH_SELECT, 8);
	bb_mem(&b, "\x02\x00\x00\x00", 4);
	ck_assert_int_eq(socks6_parse_auth_reply(b.b, b.n, 0, &a, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, 20);
	ck_assert_uint_eq(a.type, 1);
	ck_assert_int_eq(a.opts.has_password, 1);
	ck_assert_uint_eq(a.opts.password_status, 1);
	ck_assert_uint_eq(a.opts.selected_method, 2);
	check_prefixes(W_AUTH_REPLY, b.b, b.n, 0);

	/* The password reply with RFC 1929 VER 2: at that octet. */
	b.b[9] = 2;
	check_err_at(W_AUTH_REPLY, b.b, b.n, 0, 10, SOCKS6_ERR_OPTION_DATA);

	/* A password reply of 12 octets: at the method. */
	b.n = 0;
	bb_u8(&b, 6);
	bb_u8(&b, 0);
	bb_u16(&b, 12);
	bb_opt_hdr(&b, SOCKS6_OPT_AUTH_DATA, 12);
	bb_mem(&b, "\x02\x01\x00\x00\x00\x00\x00\x00", 8);
	check_err_at(W_AUTH_REPLY, b.b, b.n, 0, 9, SOCKS6_ERR_OPTION_DATA);

	/* Version and options length, as in requests. */
	check_err_at(W_AUTH_REPLY, (const uint8_t *)"\x05\x00\x00\x00", 4, 0,
	    1, SOCKS6_ERR_VERSION);
	check_err_at(W_AUTH_REPLY, (const uint8_t *)"\x06\x00\x00\x02", 4, 0,
	    4, SOCKS6_ERR_OPTLEN);
}
END_TEST

START_TEST(op_reply_parse)
{
	static struct socks6_op_reply o;
	struct bb b;
	size_t used;

	/* Timed out (9), bound to 0.0.0.0:0. */
	bb_hdr(&b, 6, SOCKS6_REP_TIMEOUT, 0, 0, SOCKS5_ATYP_IPV4);
	bb_zeros(&b, 4);
	ck_assert_int_eq(socks6_parse_op_reply(b.b, b.n, 0, &o, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(o.rep, 9);
	check_prefixes(W_OP_REPLY, b.b, b.n, 0);

	/* Success, a name, Happy Eyeballs echoed. */
	bb_hdr(&b, 6, 0, 8, 1080, SOCKS5_ATYP_DOMAIN);
	bb_name(&b, "proxy.example");
	bb_stack(&b, 2, 1, 2, 2, 0);
	ck_assert_int_eq(socks6_parse_op_reply(b.b, b.n, 0, &o, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, b.n);
	ck_assert_str_eq(o.bnd.u.name, "proxy.example");
	ck_assert_uint_eq(o.bnd.port, 1080);
	ck_assert_uint_eq(o.options_off, 24);
	ck_assert_uint_eq(o.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS].value[1],
	    2);
	check_prefixes(W_OP_REPLY, b.b, b.n, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Encoders */

START_TEST(encode_version_mismatch)
{
	uint8_t buf[2] = { CANARY, CANARY };

	ck_assert_uint_eq(socks6_encode_version_mismatch(buf, 2, 6), 1);
	ck_assert_uint_eq(buf[0], 6);
	ck_assert_uint_eq(buf[1], CANARY);
	ck_assert_uint_eq(socks6_encode_version_mismatch(buf, 1, 0xd4), 1);
	ck_assert_uint_eq(buf[0], 0xd4);
	ck_assert_uint_eq(socks6_encode_version_mismatch(buf, 0, 6), 0);
	ck_assert_uint_eq(socks6_encode_version_mismatch(buf, 2, 5), 0);
}
END_TEST

/* Each option encoder's bytes, written out by hand. */
START_TEST(encode_options_bytes)
{
	uint8_t buf[64];
	static const uint8_t he[] = { 0, 1, 0, 8, 0x81, 2, 2, 0 };
	static const uint8_t tfo[] = { 0, 1, 0, 8, 0x84, 1, 0x05, 0xb4 };
	static const uint8_t tos[] = { 0, 1, 0, 8, 0xc1, 1, 0x2e, 0 };
	static const uint8_t parity[] = { 0, 1, 0, 8, 0x85, 2, 2, 1 };
	static const uint8_t adv[] = { 0, 2, 0, 12, 0, 100, 2, 1, 0x80, 0,
	    0, 0 };
	static const uint8_t sel[] = { 0, 3, 0, 8, 2, 0, 0, 0 };
	static const uint8_t pw[] = { 0, 4, 0, 16, 2, 1, 2, 'a', 'b', 3,
	    'x', 'y', 'z', 0, 0, 0 };
	static const uint8_t pwrep[] = { 0, 4, 0, 8, 2, 1, 0, 0 };
	static const uint8_t data[] = { 0, 4, 0, 8, 0x81, 'q', 0, 0 };
	static const uint8_t sreq[] = { 0, 5, 0, 4 };
	static const uint8_t sid[] = { 0, 6, 0, 8, 1, 2, 3, 4 };
	static const uint8_t ireq[] = { 0, 11, 0, 8, 0, 0, 1, 0 };
	static const uint8_t iwin[] = { 0, 12, 0, 12, 0, 0, 0, 9, 0, 0, 0,
	    32 };
	static const uint8_t ispend[] = { 0, 13, 0, 8, 1, 2, 3, 4 };

	memset(buf, CANARY, sizeof(buf));
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64,
	    SOCKS6_STACK_HAPPY_EYEBALLS, 2, 2), 8);
	ck_assert_mem_eq(buf, he, 8);
	ck_assert_uint_eq(buf[8], CANARY);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64, SOCKS6_STACK_TFO,
	    2, 1460), 8);
	ck_assert_mem_eq(buf, tfo, 8);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64, SOCKS6_STACK_TOS,
	    3, 0x2e), 8);
	ck_assert_mem_eq(buf, tos, 8);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64,
	    SOCKS6_STACK_PORT_PARITY, 2, 0x0201), 8);
	ck_assert_mem_eq(buf, parity, 8);
	ck_assert_uint_eq(socks6_encode_opt_auth_advert(buf, 64, 100,
	    (const uint8_t *)"\x02\x01\x80", 3), 12);
	ck_assert_mem_eq(buf, adv, 12);
	ck_assert_uint_eq(socks6_encode_opt_auth_select(buf, 64, 2), 8);
	ck_assert_mem_eq(buf, sel, 8);
	ck_assert_uint_eq(socks6_encode_opt_password_request(buf, 64,
	    (const uint8_t *)"ab", 2, (const uint8_t *)"xyz", 3), 16);
	ck_assert_mem_eq(buf, pw, 16);
	ck_assert_uint_eq(socks6_encode_opt_password_reply(buf, 64, 0), 8);
	ck_assert_mem_eq(buf, pwrep, 8);
	ck_assert_uint_eq(socks6_encode_opt_auth_data(buf, 64, 0x81,
	    (const uint8_t *)"q", 1), 8);
	ck_assert_mem_eq(buf, data, 8);
	ck_assert_uint_eq(socks6_encode_opt_flag(buf, 64,
	    SOCKS6_OPT_SESSION_REQUEST), 4);
	ck_assert_mem_eq(buf, sreq, 4);
	ck_assert_uint_eq(socks6_encode_opt_session_id(buf, 64,
	    (const uint8_t *)"\x01\x02\x03\x04", 4), 8);
	ck_assert_mem_eq(buf, sid, 8);
	ck_assert_uint_eq(socks6_encode_opt_idem_request(buf, 64, 256), 8);
	ck_assert_mem_eq(buf, ireq, 8);
	ck_assert_uint_eq(socks6_encode_opt_idem_window(buf, 64, 9, 32), 12);
	ck_assert_mem_eq(buf, iwin, 12);
	ck_assert_uint_eq(socks6_encode_opt_idem_spend(buf, 64, 0x01020304),
	    8);
	ck_assert_mem_eq(buf, ispend, 8);
}
END_TEST

START_TEST(encode_options_refused)
{
	uint8_t buf[600];

	/* One octet short. */
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 7, SOCKS6_STACK_TOS,
	    1, 1), 0);
	ck_assert_uint_eq(socks6_encode_opt_flag(buf, 3,
	    SOCKS6_OPT_SESSION_OK), 0);
	ck_assert_uint_eq(socks6_encode_opt_password_request(buf, 15,
	    (const uint8_t *)"ab", 2, (const uint8_t *)"xyz", 3), 0);
	ck_assert_uint_eq(socks6_encode_opt_idem_window(buf, 11, 1, 1), 0);
	/* Values out of range. */
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64,
	    SOCKS6_STACK_HAPPY_EYEBALLS, 1, 2), 0);	/* leg */
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64,
	    SOCKS6_STACK_HAPPY_EYEBALLS, 2, 3), 0);	/* availability */
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64, SOCKS6_STACK_TOS,
	    0, 1), 0);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64, SOCKS6_STACK_TOS,
	    4, 1), 0);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64, SOCKS6_STACK_TTL,
	    1, 256), 0);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64,
	    SOCKS6_STACK_PORT_PARITY, 2, 0x0300), 0);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64,
	    SOCKS6_STACK_PORT_PARITY, 2, 0x0002), 0);
	ck_assert_uint_eq(socks6_encode_opt_stack(buf, 64, SOCKS6_STACK_NIDS,
	    2, 0), 0);
	ck_assert_uint_eq(socks6_encode_opt_auth_advert(buf, 64,
	    SOCKS6_INITIAL_DATA_MAX + 1, NULL, 0), 0);
	ck_assert_uint_eq(socks6_encode_opt_password_request(buf, 600,
	    (const uint8_t *)"", 0, (const uint8_t *)"x", 1), 0);
	ck_assert_uint_eq(socks6_encode_opt_flag(buf, 64, SOCKS6_OPT_STACK),
	    0);
	ck_assert_uint_eq(socks6_encode_opt_flag(buf, 64, 7), 0);
	ck_assert_uint_eq(socks6_encode_opt_session_id(buf, 64,
	    (const uint8_t *)"abc", 3), 0);
	ck_assert_uint_eq(socks6_encode_opt_session_id(buf, 64, NULL, 0), 0);
	ck_assert_uint_eq(socks6_encode_opt_idem_window(buf, 64, 1, 0), 0);
	ck_assert_uint_eq(socks6_encode_opt_idem_window(buf, 64, 1,
	    0x80000000u), 0);
}
END_TEST

START_TEST(encode_request_bytes)
{
	uint8_t buf[128], opts[32];
	struct socks5_addr a;
	size_t n, on;
	static const uint8_t want[] = {
		6, 1, 0, 8, 0x01, 0xbb, 0, 3,
		11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
		0, 1, 0, 8, 0x81, 2, 2, 0,
	};

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_DOMAIN;
	a.name_len = 11;
	memcpy(a.u.name, "example.com", 12);
	a.port = 443;
	on = socks6_encode_opt_stack(opts, sizeof(opts),
	    SOCKS6_STACK_HAPPY_EYEBALLS, 2, 2);
	ck_assert_uint_eq(on, 8);
	memset(buf, CANARY, sizeof(buf));
	n = socks6_encode_request(buf, sizeof(buf), 6, SOCKS6_CMD_CONNECT,
	    &a, opts, on);
	ck_assert_uint_eq(n, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[n], CANARY);
	/* One octet less room: nothing. */
	ck_assert_uint_eq(socks6_encode_request(buf, n - 1, 6, 1, &a, opts,
	    on), 0);
	/* A 12-octet name gets 3 NULs: L = 15. */
	a.name_len = 12;
	memcpy(a.u.name, "example.comx", 13);
	n = socks6_encode_request(buf, sizeof(buf), 0xd4, 1, &a, NULL, 0);
	ck_assert_uint_eq(n, 8 + 16);
	ck_assert_uint_eq(buf[0], 0xd4);
	ck_assert_uint_eq(buf[8], 15);
	ck_assert_mem_eq(buf + 21, "\0\0\0", 3);
}
END_TEST

START_TEST(encode_replies_bytes)
{
	uint8_t buf[64], opts[16];
	struct socks5_addr a;
	size_t n, on;
	static const uint8_t want_auth[] = {
		6, 1, 0, 8, 0, 4, 0, 8, 2, 1, 1, 0
	};
	static const uint8_t want_op[] = {
		6, 9, 0, 0, 0x04, 0x38, 0, 1, 192, 0, 2, 1
	};
	static const uint8_t want_op6[] = {
		0xd4, 0, 0, 0, 0, 0, 0, 4,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
	};

	on = socks6_encode_opt_password_reply(opts, sizeof(opts), 1);
	ck_assert_uint_eq(on, 8);
	memset(buf, CANARY, sizeof(buf));
	n = socks6_encode_auth_reply(buf, sizeof(buf), 6, SOCKS6_AUTH_FAILURE,
	    opts, on);
	ck_assert_uint_eq(n, sizeof(want_auth));
	ck_assert_mem_eq(buf, want_auth, n);
	ck_assert_uint_eq(buf[n], CANARY);
	ck_assert_uint_eq(socks6_encode_auth_reply(buf, n - 1, 6, 1, opts,
	    on), 0);
	ck_assert_uint_eq(socks6_encode_auth_reply(buf, 4, 6, 0, NULL, 0), 4);
	ck_assert_mem_eq(buf, "\x06\x00\x00\x00", 4);

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV4;
	memcpy(a.u.ipv4, "\xc0\x00\x02\x01", 4);
	a.port = 1080;
	n = socks6_encode_op_reply(buf, sizeof(buf), 6, SOCKS6_REP_TIMEOUT,
	    &a, NULL, 0);
	ck_assert_uint_eq(n, sizeof(want_op));
	ck_assert_mem_eq(buf, want_op, n);
	ck_assert_uint_eq(socks6_encode_op_reply(buf, n - 1, 6, 9, &a, NULL,
	    0), 0);

	a.atyp = SOCKS5_ATYP_IPV6;
	memcpy(a.u.ipv6, v6_addr, 16);
	a.port = 0;
	n = socks6_encode_op_reply(buf, sizeof(buf), 0xd4, 0, &a, NULL, 0);
	ck_assert_uint_eq(n, sizeof(want_op6));
	ck_assert_mem_eq(buf, want_op6, n);
}
END_TEST

/* Encoders write nothing the parsers would refuse. */
START_TEST(encode_refuses_invalid)
{
	uint8_t buf[256], opts[32];
	struct socks5_addr a;
	size_t on;

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_IPV4;

	/* Bad versions. */
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 5, 1, &a, NULL, 0),
	    0);
	ck_assert_uint_eq(socks6_encode_auth_reply(buf, 256, 7, 0, NULL, 0),
	    0);
	ck_assert_uint_eq(socks6_encode_op_reply(buf, 256, 0, 0, &a, NULL, 0),
	    0);

	/* Bad addresses. */
	a.atyp = 2;
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 6, 1, &a, NULL, 0),
	    0);
	a.atyp = SOCKS5_ATYP_DOMAIN;
	a.name_len = 0;
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 6, 1, &a, NULL, 0),
	    0);
	a.name_len = 3;
	memcpy(a.u.name, "a\0b", 4);
	ck_assert_uint_eq(socks6_encode_op_reply(buf, 256, 6, 0, &a, NULL, 0),
	    0);
	a.atyp = SOCKS5_ATYP_IPV4;

	/* Options: not a multiple of 4, broken, duplicated. */
	memset(opts, 0, sizeof(opts));
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 6, 1, &a, opts, 6),
	    0);
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 6, 1, &a, opts, 8),
	    0);	/* kind 0, Length 0 */
	on = socks6_encode_opt_flag(opts, 32, SOCKS6_OPT_SESSION_OK);
	on += socks6_encode_opt_flag(opts + on, 32 - on,
	    SOCKS6_OPT_SESSION_OK);
	ck_assert_uint_eq(on, 8);
	ck_assert_uint_eq(socks6_encode_auth_reply(buf, 256, 6, 0, opts, on),
	    0);
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 6, 1, &a, NULL, 4),
	    0);
	/* Method-2 data that is no RFC 1929 request, in a request. */
	on = socks6_encode_opt_auth_data(opts, 32, 2,
	    (const uint8_t *)"\x01\x00", 2);
	ck_assert_uint_eq(on, 8);
	ck_assert_uint_eq(socks6_encode_request(buf, 256, 6, 1, &a, opts, on),
	    0);
	/* ... and an RFC 1929 reply is fine in an Authentication Reply. */
	on = socks6_encode_opt_password_reply(opts, 32, 0);
	ck_assert_uint_ne(socks6_encode_auth_reply(buf, 256, 6, 0, opts, on),
	    0);
}
END_TEST

/* Encoder -> parser, with options of every kind. */
START_TEST(roundtrip_request)
{
	static uint8_t opts[SOCKS6_OPTIONS_MAX], buf[SOCKS6_REQUEST_MAX];
	static struct socks6_request r;
	struct socks5_addr a;
	size_t on = 0, n, used;
	int id;
	static const uint16_t values[SOCKS6_STACK_NIDS] = {
		[SOCKS6_STACK_TOS] = 0x2e,
		[SOCKS6_STACK_HAPPY_EYEBALLS] = 2,
		[SOCKS6_STACK_TTL] = 3,
		[SOCKS6_STACK_NOFRAG] = 2,
		[SOCKS6_STACK_TFO] = 0,
		[SOCKS6_STACK_MULTIPATH] = 1,
		[SOCKS6_STACK_BACKLOG] = 100,
		[SOCKS6_STACK_UDP_ERROR] = 2,
		[SOCKS6_STACK_PORT_PARITY] = 0x0200,
	};

	for (id = 0; id < SOCKS6_STACK_NIDS; id++) {
		n = socks6_encode_opt_stack(opts + on, sizeof(opts) - on,
		    (enum socks6_stack_id)id, 2, values[id]);
		ck_assert_uint_eq(n, 8);
		on += n;
	}
	on += socks6_encode_opt_stack(opts + on, sizeof(opts) - on,
	    SOCKS6_STACK_TOS, 1, 0x10);
	on += socks6_encode_opt_auth_advert(opts + on, sizeof(opts) - on,
	    512, (const uint8_t *)"\x02\x03", 2);
	on += socks6_encode_opt_password_request(opts + on, sizeof(opts) - on,
	    (const uint8_t *)"bob", 3, (const uint8_t *)"hunter2", 7);
	on += socks6_encode_opt_auth_data(opts + on, sizeof(opts) - on, 3,
	    (const uint8_t *)"chap", 4);
	on += socks6_encode_opt_flag(opts + on, sizeof(opts) - on,
	    SOCKS6_OPT_SESSION_REQUEST);
	on += socks6_encode_opt_session_id(opts + on, sizeof(opts) - on,
	    (const uint8_t *)"ABCDEFGH", 8);
	on += socks6_encode_opt_flag(opts + on, sizeof(opts) - on,
	    SOCKS6_OPT_SESSION_TEARDOWN);
	on += socks6_encode_opt_idem_request(opts + on, sizeof(opts) - on, 8);
	on += socks6_encode_opt_idem_spend(opts + on, sizeof(opts) - on, 77);

	memset(&a, 0, sizeof(a));
	a.atyp = SOCKS5_ATYP_DOMAIN;
	a.name_len = 5;
	memcpy(a.u.name, "a.b.c", 6);
	a.port = 8080;
	n = socks6_encode_request(buf, sizeof(buf), 6, SOCKS6_CMD_CONNECT,
	    &a, opts, on);
	ck_assert_uint_ne(n, 0);
	ck_assert_uint_eq(n % 4, 0);
	ck_assert_int_eq(socks6_parse_request(buf, n, 0, &r, &used),
	    SOCKS6_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(r.options_len, on);
	ck_assert_mem_eq(buf + r.options_off, opts, on);
	ck_assert_str_eq(r.dst.u.name, "a.b.c");
	ck_assert_uint_eq(r.dst.port, 8080);
	for (id = 0; id < SOCKS6_STACK_NIDS; id++) {
		ck_assert_uint_eq(r.opts.stack[id].value[1], values[id]);
		ck_assert_uint_eq(r.opts.stack[id].legs,
		    id == SOCKS6_STACK_TOS ? 3 : 2);
	}
	ck_assert_uint_eq(r.opts.stack[SOCKS6_STACK_TOS].value[0], 0x10);
	ck_assert_uint_eq(r.opts.initial_data_len, 512);
	ck_assert_uint_eq(r.opts.nmethods, 2);
	ck_assert_int_eq(r.opts.has_password, 1);
	ck_assert_mem_eq(r.opts.password.uname, "bob", 4);
	ck_assert_mem_eq(r.opts.password.passwd, "hunter2", 8);
	ck_assert_uint_eq(r.opts.nauth, 2);
	ck_assert_uint_eq(r.opts.auth[1].method, 3);
	ck_assert_mem_eq(buf + r.options_off + r.opts.auth[1].off, "chap",
	    4);
	ck_assert_mem_eq(buf + r.options_off + r.opts.session_id_off,
	    "ABCDEFGH", 8);
	ck_assert_uint_eq(r.opts.idem_request, 8);
	ck_assert_uint_eq(r.opts.idem_token, 77);
	ck_assert_uint_eq(r.opts.nignored, 0);
	check_prefixes(W_REQUEST, buf, n, 0);
}
END_TEST

START_TEST(select_method)
{
	struct socks6_options o;
	static const uint8_t pw_none[] = { 2, 0 };
	static const uint8_t gss_pw[] = { 1, 2 };
	static const uint8_t gss[] = { 0xff, 1 };

	memset(&o, 0, sizeof(o));
	/* No advertisement: only "none" can be chosen. */
	ck_assert_uint_eq(socks6_select_method(&o, pw_none, 2), 0);
	ck_assert_uint_eq(socks6_select_method(&o, gss, 2), 0xff);
	o.nmethods = 2;
	o.methods[0] = 2;
	o.methods[1] = 1;
	ck_assert_uint_eq(socks6_select_method(&o, pw_none, 2), 2);
	ck_assert_uint_eq(socks6_select_method(&o, gss_pw, 2), 1);
	ck_assert_uint_eq(socks6_select_method(&o, gss, 2), 1);
	ck_assert_uint_eq(socks6_select_method(&o, NULL, 0), 0xff);
}
END_TEST

START_TEST(strings)
{
	int i;

	ck_assert_str_eq(socks6_rep_str(9), "connection attempt timed out");
	ck_assert_str_eq(socks6_rep_str(5), "connection refused");
	for (i = 0; i < 256; i++)
		ck_assert_ptr_nonnull(socks6_rep_str((uint8_t)i));
	for (i = SOCKS6_OK; i <= SOCKS6_ERR_DUPLICATE; i++) {
		ck_assert_ptr_nonnull(socks6_status_str((enum socks6_status)i));
		ck_assert_str_ne(socks6_status_str((enum socks6_status)i),
		    "unknown status");
	}
	ck_assert_str_eq(socks6_status_str((enum socks6_status)99),
	    "unknown status");
}
END_TEST

static Suite *
socks6_suite(void)
{
	Suite *s = suite_create("socks6");
	TCase *tc;

	tc = tcase_create("request");
	tcase_add_test(tc, request_ipv4);
	tcase_add_test(tc, request_ipv6);
	tcase_add_test(tc, request_domain_every_length);
	tcase_add_test(tc, request_domain_errors);
	tcase_add_test(tc, request_version);
	tcase_add_test(tc, request_optlen_errors);
	tcase_add_test(tc, request_bad_atyp);
	tcase_add_test(tc, request_passthrough);
	tcase_add_test(tc, request_options_20k);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_test(tc, opt_stack_all);
	tcase_add_test(tc, opt_happy_eyeballs);
	tcase_add_test(tc, opt_stack_legs);
	tcase_add_test(tc, opt_stack_malformed);
	tcase_add_test(tc, opt_auth_advert);
	tcase_add_test(tc, opt_auth_password);
	tcase_add_test(tc, opt_auth_data_other);
	tcase_add_test(tc, opt_session_kinds);
	tcase_add_test(tc, opt_idempotence);
	tcase_add_test(tc, opt_unknown_ignored);
	tcase_add_test(tc, opt_framing);
	tcase_add_test(tc, opt_iterator);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("replies");
	tcase_add_test(tc, auth_reply_parse);
	tcase_add_test(tc, op_reply_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode");
	tcase_add_test(tc, encode_version_mismatch);
	tcase_add_test(tc, encode_options_bytes);
	tcase_add_test(tc, encode_options_refused);
	tcase_add_test(tc, encode_request_bytes);
	tcase_add_test(tc, encode_replies_bytes);
	tcase_add_test(tc, encode_refuses_invalid);
	tcase_add_test(tc, roundtrip_request);
	tcase_add_test(tc, select_method);
	tcase_add_test(tc, strings);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return unit_run(socks6_suite(), NULL);
}
