/* SPDX-License-Identifier: ISC */
/*
 * check_gss_msg.c - unit tests for auth/gss_msg.c (suite "gss_msg"): the
 * RFC 1961 subnegotiation codec on every field, on every prefix of valid
 * messages and on every malformed header; the encoders at their limits;
 * the protection levels' names.
 */
#include "config_auto.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gss_msg.h"
#include "unit_util.h"

/*
 * Parse the first `len` bytes of `buf` from a heap copy of exactly that
 * size, so that ASan reports a read of byte `len`. The copy is the
 * caller's to free (tokens point into it).
 */
static enum gss_msg_status
parse(const uint8_t *buf, size_t len, struct gss_msg *m, size_t *used,
    uint8_t **copy)
{
	*copy = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(*copy);
	memcpy(*copy, buf, len);
	return gss_msg_parse(*copy, len, m, used);
}

/* A message built by hand (not by the encoder under test). */
static size_t
build(uint8_t *buf, uint8_t mtyp, size_t tlen, uint8_t fill)
{
	buf[0] = 0x01;
	buf[1] = mtyp;
	buf[2] = (uint8_t)(tlen >> 8);
	buf[3] = (uint8_t)(tlen & 0xff);
	memset(buf + 4, fill, tlen);
	return 4 + tlen;
}

START_TEST(test_parse_fields)
{
	/* A context token of 5 bytes, then the start of the next message. */
	static const uint8_t msg[] = { 0x01, 0x01, 0x00, 0x05,
	    0x60, 0x82, 0x02, 0x0a, 0x06, 0x01 /* next message */ };
	struct gss_msg m;
	uint8_t *copy;
	size_t used = 0;

	ck_assert_int_eq(parse(msg, sizeof(msg), &m, &used, &copy),
	    GSS_MSG_OK);
	ck_assert_uint_eq(used, 9);
	ck_assert_uint_eq(m.mtyp, GSS_MTYP_CONTEXT);
	ck_assert_uint_eq(m.len, 5);
	ck_assert_ptr_eq(m.token, copy + 4);
	ck_assert_int_eq(memcmp(m.token, msg + 4, 5), 0);
	free(copy);
}
END_TEST

/* MTYP 1, 2 and 3 with the same token: only the type differs. */
START_TEST(test_parse_each_mtyp)
{
	static const uint8_t types[] = { GSS_MTYP_CONTEXT,
	    GSS_MTYP_PROTECTION, GSS_MTYP_DATA };
	uint8_t msg[4 + 3];
	struct gss_msg m;
	uint8_t *copy;
	size_t i, used;

	for (i = 0; i < sizeof(types); i++) {
		ck_assert_uint_eq(build(msg, types[i], 3, 0xa5), sizeof(msg));
		used = 0;
		ck_assert_int_eq(parse(msg, sizeof(msg), &m, &used, &copy),
		    GSS_MSG_OK);
		ck_assert_uint_eq(used, sizeof(msg));
		ck_assert_uint_eq(m.mtyp, types[i]);
		ck_assert_uint_eq(m.len, 3);
		ck_assert_ptr_eq(m.token, copy + 4);
		free(copy);
	}
}
END_TEST

/* LEN is big-endian: 01 02 is 258, not 513. */
START_TEST(test_parse_len_order)
{
	uint8_t msg[4 + 513];
	struct gss_msg m;
	size_t used = 0;

	build(msg, GSS_MTYP_DATA, 258, 0x11);
	ck_assert_uint_eq(msg[2], 0x01);
	ck_assert_uint_eq(msg[3], 0x02);
	ck_assert_int_eq(gss_msg_parse(msg, sizeof(msg), &m, &used),
	    GSS_MSG_OK);
	ck_assert_uint_eq(m.len, 258);
	ck_assert_uint_eq(used, 262);
	/* 00 FF and FF 00: each byte counted once, in its place. */
	msg[2] = 0x00;
	msg[3] = 0xff;
	ck_assert_int_eq(gss_msg_parse(msg, sizeof(msg), &m, &used),
	    GSS_MSG_OK);
	ck_assert_uint_eq(m.len, 255);
	msg[2] = 0x02;
	msg[3] = 0x00;
	ck_assert_int_eq(gss_msg_parse(msg, 4 + 511, &m, &used),
	    GSS_MSG_NEED_MORE);
	ck_assert_int_eq(gss_msg_parse(msg, 4 + 512, &m, &used), GSS_MSG_OK);
	ck_assert_uint_eq(m.len, 512);
}
END_TEST

/*
 * A zero-length token is valid to the codec (the callers refuse it where
 * RFC 1961 needs one): OK at four bytes, with a token pointer that is not
 * NULL though the block ends there.
 */
START_TEST(test_parse_zero_token)
{
	static const uint8_t types[] = { GSS_MTYP_CONTEXT,
	    GSS_MTYP_PROTECTION, GSS_MTYP_DATA };
	uint8_t msg[4];
	struct gss_msg m;
	uint8_t *copy;
	size_t i, used;

	for (i = 0; i < sizeof(types); i++) {
		build(msg, types[i], 0, 0);
		used = 99;
		ck_assert_int_eq(parse(msg, 4, &m, &used, &copy), GSS_MSG_OK);
		ck_assert_uint_eq(used, 4);
		ck_assert_uint_eq(m.mtyp, types[i]);
		ck_assert_uint_eq(m.len, 0);
		ck_assert_ptr_nonnull(m.token);
		ck_assert_ptr_eq(m.token, copy + 4);
		free(copy);
	}
}
END_TEST

/* The largest message: a 65535-byte token, LEN FF FF. */
START_TEST(test_parse_max_token)
{
	uint8_t *msg = malloc(GSS_MSG_MAX);
	struct gss_msg m;
	size_t k, used = 0;

	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_eq(build(msg, GSS_MTYP_DATA, GSS_MSG_TOKEN_MAX, 0xee),
	    GSS_MSG_MAX);
	ck_assert_uint_eq(GSS_MSG_MAX, 65539);
	ck_assert_uint_eq(msg[2], 0xff);
	ck_assert_uint_eq(msg[3], 0xff);
	ck_assert_int_eq(gss_msg_parse(msg, GSS_MSG_MAX, &m, &used),
	    GSS_MSG_OK);
	ck_assert_uint_eq(used, GSS_MSG_MAX);
	ck_assert_uint_eq(m.len, GSS_MSG_TOKEN_MAX);
	ck_assert_ptr_eq(m.token, msg + 4);
	ck_assert_uint_eq(m.token[GSS_MSG_TOKEN_MAX - 1], 0xee);
	/*
	 * Every prefix, parsed in place: copying each one to a block of its
	 * size would cost gigabytes of copying under ASan, and the parser
	 * reads only the header (test_parse_prefixes holds it to its bounds
	 * on short messages).
	 */
	for (k = 0; k < GSS_MSG_MAX; k++)
		ck_assert_int_eq(gss_msg_parse(msg, k, &m, &used),
		    GSS_MSG_NEED_MORE);
	free(msg);
}
END_TEST

/*
 * Every proper prefix of a valid message is NEED_MORE; the whole message
 * is OK with used = its length, and so is the message with bytes after it.
 * Token lengths around the header's bytes: 0, 1, 255, 256, 300.
 */
START_TEST(test_parse_prefixes)
{
	static const uint8_t types[] = { GSS_MTYP_CONTEXT,
	    GSS_MTYP_PROTECTION, GSS_MTYP_DATA };
	static const size_t tlens[] = { 0, 1, 2, 255, 256, 300 };
	uint8_t msg[4 + 300 + 3];
	struct gss_msg m;
	uint8_t *copy;
	size_t i, j, k, n, used;

	for (i = 0; i < sizeof(types); i++) {
		for (j = 0; j < sizeof(tlens) / sizeof(tlens[0]); j++) {
			n = build(msg, types[i], tlens[j], (uint8_t)j);
			/* What follows: another message's first bytes. */
			msg[n] = 0x01;
			msg[n + 1] = 0x03;
			msg[n + 2] = 0xff;
			for (k = 0; k < n; k++) {
				ck_assert_msg(parse(msg, k, &m, &used, &copy) ==
				    GSS_MSG_NEED_MORE, "mtyp %u tlen %zu: "
				    "prefix %zu not NEED_MORE", types[i],
				    tlens[j], k);
				free(copy);
			}
			for (k = n; k <= n + 3; k++) {
				used = 0;
				ck_assert_int_eq(parse(msg, k, &m, &used,
				    &copy), GSS_MSG_OK);
				ck_assert_uint_eq(used, n);
				ck_assert_uint_eq(m.mtyp, types[i]);
				ck_assert_uint_eq(m.len, tlens[j]);
				ck_assert_ptr_eq(m.token, copy + 4);
				free(copy);
			}
		}
	}
}
END_TEST

/*
 * The abort: exactly 01 FF. NEED_MORE at 01; OK with used = 2 and len = 0
 * at 01 FF; what follows is not read as a length, whatever it is.
 */
START_TEST(test_parse_abort)
{
	static const uint8_t abort_msg[] = { 0x01, 0xff };
	static const uint8_t abort_then[] = { 0x01, 0xff, 0xff, 0xff, 0x05 };
	struct gss_msg m;
	uint8_t *copy;
	size_t k, used = 0;

	ck_assert_int_eq(parse(abort_msg, 0, &m, &used, &copy),
	    GSS_MSG_NEED_MORE);
	free(copy);
	ck_assert_int_eq(parse(abort_msg, 1, &m, &used, &copy),
	    GSS_MSG_NEED_MORE);
	free(copy);
	ck_assert_int_eq(parse(abort_msg, 2, &m, &used, &copy), GSS_MSG_OK);
	ck_assert_uint_eq(used, GSS_MSG_ABORT_LEN);
	ck_assert_uint_eq(m.mtyp, GSS_MTYP_ABORT);
	ck_assert_uint_eq(m.len, 0);
	ck_assert_ptr_nonnull(m.token);
	free(copy);
	for (k = 2; k <= sizeof(abort_then); k++) {
		used = 0;
		ck_assert_int_eq(parse(abort_then, k, &m, &used, &copy),
		    GSS_MSG_OK);
		ck_assert_uint_eq(used, 2);
		ck_assert_uint_eq(m.mtyp, GSS_MTYP_ABORT);
		ck_assert_uint_eq(m.len, 0);
		free(copy);
	}
}
END_TEST

/*
 * Any VER but 01 is refused at its first byte, and so at every length
 * after, whatever follows (a SOCKS5 greeting sent too early, say).
 */
START_TEST(test_parse_bad_version)
{
	static const uint8_t socks5[] = { 0x05, 0x01, 0x00 };
	/* A version error comes before the MTYP that would be one too. */
	static const uint8_t both[] = { 0x02, 0x07, 0x00, 0x00 };
	uint8_t msg[6] = { 0, 0x01, 0x00, 0x02, 0xaa, 0xbb };
	struct gss_msg m;
	uint8_t *copy;
	size_t k, used;
	unsigned v;

	for (v = 0; v <= 0xff; v++) {
		if (v == GSS_MSG_VERSION)
			continue;
		msg[0] = (uint8_t)v;
		for (k = 1; k <= sizeof(msg); k++) {
			ck_assert_msg(parse(msg, k, &m, &used, &copy) ==
			    GSS_MSG_ERR_VERSION, "VER %02x at %zu bytes", v,
			    k);
			free(copy);
		}
	}
	for (k = 1; k <= sizeof(socks5); k++) {
		ck_assert_int_eq(parse(socks5, k, &m, &used, &copy),
		    GSS_MSG_ERR_VERSION);
		free(copy);
	}
	for (k = 1; k <= sizeof(both); k++) {
		ck_assert_int_eq(parse(both, k, &m, &used, &copy),
		    GSS_MSG_ERR_VERSION);
		free(copy);
	}
	/* An abort with the wrong version is no abort. */
	msg[0] = 0x05;
	msg[1] = 0xff;
	ck_assert_int_eq(parse(msg, 2, &m, &used, &copy), GSS_MSG_ERR_VERSION);
	free(copy);
}
END_TEST

/*
 * Any MTYP but 1, 2, 3 and FF is refused at its byte (the second), and
 * at every length after, before LEN is there.
 */
START_TEST(test_parse_bad_mtyp)
{
	uint8_t msg[7] = { 0x01, 0, 0x00, 0x03, 'a', 'b', 'c' };
	struct gss_msg m;
	uint8_t *copy;
	size_t k, used;
	unsigned t;

	for (t = 0; t <= 0xff; t++) {
		enum gss_msg_status want;

		msg[1] = (uint8_t)t;
		want = (t >= 1 && t <= 3) || t == 0xff ? GSS_MSG_OK :
		    GSS_MSG_ERR_MTYP;
		/* One byte: VER only, not yet proved wrong. */
		ck_assert_int_eq(parse(msg, 1, &m, &used, &copy),
		    GSS_MSG_NEED_MORE);
		free(copy);
		for (k = 2; k <= sizeof(msg); k++) {
			enum gss_msg_status st = parse(msg, k, &m, &used,
			    &copy);

			free(copy);
			if (want == GSS_MSG_ERR_MTYP)
				ck_assert_msg(st == GSS_MSG_ERR_MTYP,
				    "MTYP %02x at %zu bytes: %d", t, k, st);
			else if (t == 0xff || k == sizeof(msg))
				ck_assert_int_eq(st, GSS_MSG_OK);
			else
				ck_assert_int_eq(st, GSS_MSG_NEED_MORE);
		}
	}
}
END_TEST

/* Messages back to back: each parsed from where the last one ended. */
START_TEST(test_parse_stream)
{
	uint8_t buf[64];
	static const uint8_t want_mtyp[] = { GSS_MTYP_CONTEXT,
	    GSS_MTYP_PROTECTION, GSS_MTYP_DATA, GSS_MTYP_DATA,
	    GSS_MTYP_ABORT };
	static const uint16_t want_len[] = { 3, 1, 0, 4, 0 };
	struct gss_msg m;
	size_t n = 0, off = 0, used, i;

	n += build(buf + n, GSS_MTYP_CONTEXT, 3, 0x60);
	n += build(buf + n, GSS_MTYP_PROTECTION, 1, GSS_PROT_INTEGRITY);
	n += build(buf + n, GSS_MTYP_DATA, 0, 0);
	n += build(buf + n, GSS_MTYP_DATA, 4, 'd');
	buf[n++] = 0x01;
	buf[n++] = 0xff;
	buf[n++] = 0x01;	/* a last message begun */
	for (i = 0; i < sizeof(want_mtyp); i++) {
		ck_assert_int_eq(gss_msg_parse(buf + off, n - off, &m, &used),
		    GSS_MSG_OK);
		ck_assert_uint_eq(m.mtyp, want_mtyp[i]);
		ck_assert_uint_eq(m.len, want_len[i]);
		ck_assert_ptr_eq(m.token, buf + off +
		    (m.mtyp == GSS_MTYP_ABORT ? 2 : 4));
		off += used;
	}
	ck_assert_uint_eq(off, n - 1);
	ck_assert_int_eq(gss_msg_parse(buf + off, n - off, &m, &used),
	    GSS_MSG_NEED_MORE);
}
END_TEST

START_TEST(test_encode_header)
{
	uint8_t buf[8];
	unsigned t;

	for (t = GSS_MTYP_CONTEXT; t <= GSS_MTYP_DATA; t++) {
		memset(buf, 0xcc, sizeof(buf));
		ck_assert_uint_eq(gss_msg_encode_header(buf, 4, (uint8_t)t,
		    0x0102), GSS_MSG_HDR_LEN);
		ck_assert_uint_eq(buf[0], 0x01);
		ck_assert_uint_eq(buf[1], t);
		ck_assert_uint_eq(buf[2], 0x01);
		ck_assert_uint_eq(buf[3], 0x02);
		ck_assert_uint_eq(buf[4], 0xcc);	/* the token's: untouched */
	}
	ck_assert_uint_eq(gss_msg_encode_header(buf, sizeof(buf),
	    GSS_MTYP_DATA, 0), 4);
	ck_assert_uint_eq(buf[2], 0x00);
	ck_assert_uint_eq(buf[3], 0x00);
	ck_assert_uint_eq(gss_msg_encode_header(buf, sizeof(buf),
	    GSS_MTYP_DATA, GSS_MSG_TOKEN_MAX), 4);
	ck_assert_uint_eq(buf[2], 0xff);
	ck_assert_uint_eq(buf[3], 0xff);
	/* One byte short of the header: nothing written past the room. */
	memset(buf, 0xcc, sizeof(buf));
	ck_assert_uint_eq(gss_msg_encode_header(buf, 3, GSS_MTYP_CONTEXT, 1),
	    0);
	ck_assert_uint_eq(buf[3], 0xcc);
	ck_assert_uint_eq(gss_msg_encode_header(buf, 0, GSS_MTYP_CONTEXT, 1),
	    0);
	ck_assert_uint_eq(gss_msg_encode_header(NULL, 0, GSS_MTYP_CONTEXT, 1),
	    0);
	/* A token one byte too long, and far too long. */
	ck_assert_uint_eq(gss_msg_encode_header(buf, sizeof(buf),
	    GSS_MTYP_CONTEXT, GSS_MSG_TOKEN_MAX + 1), 0);
	ck_assert_uint_eq(gss_msg_encode_header(buf, sizeof(buf),
	    GSS_MTYP_CONTEXT, SIZE_MAX), 0);
	/* Types without a LEN and TOKEN: 0, 4..FE, and the abort. */
	for (t = 0; t <= 0xff; t++) {
		if (t >= GSS_MTYP_CONTEXT && t <= GSS_MTYP_DATA)
			continue;
		ck_assert_msg(gss_msg_encode_header(buf, sizeof(buf),
		    (uint8_t)t, 1) == 0, "MTYP %02x encoded", t);
	}
}
END_TEST

START_TEST(test_encode)
{
	static const uint8_t token[] = { 0x05, 0x04, 0x01, 0xff, 0x00 };
	uint8_t buf[16];
	struct gss_msg m;
	size_t used;
	unsigned t;

	for (t = GSS_MTYP_CONTEXT; t <= GSS_MTYP_DATA; t++) {
		memset(buf, 0xcc, sizeof(buf));
		ck_assert_uint_eq(gss_msg_encode(buf, 9, (uint8_t)t, token,
		    sizeof(token)), 9);
		ck_assert_uint_eq(buf[0], 0x01);
		ck_assert_uint_eq(buf[1], t);
		ck_assert_uint_eq(buf[2], 0x00);
		ck_assert_uint_eq(buf[3], 0x05);
		ck_assert_int_eq(memcmp(buf + 4, token, sizeof(token)), 0);
		ck_assert_uint_eq(buf[9], 0xcc);
		/* ...and it parses back to the same. */
		ck_assert_int_eq(gss_msg_parse(buf, 9, &m, &used), GSS_MSG_OK);
		ck_assert_uint_eq(used, 9);
		ck_assert_uint_eq(m.mtyp, t);
		ck_assert_uint_eq(m.len, sizeof(token));
		/* One byte short: 0, and nothing past the room written. */
		memset(buf, 0xcc, sizeof(buf));
		ck_assert_uint_eq(gss_msg_encode(buf, 8, (uint8_t)t, token,
		    sizeof(token)), 0);
		ck_assert_uint_eq(buf[8], 0xcc);
	}
	/* Zero-length tokens, with or without a pointer. */
	ck_assert_uint_eq(gss_msg_encode(buf, 4, GSS_MTYP_PROTECTION, token,
	    0), 4);
	ck_assert_uint_eq(gss_msg_encode(buf, 4, GSS_MTYP_PROTECTION, NULL,
	    0), 4);
	ck_assert_int_eq(memcmp(buf, "\x01\x02\x00\x00", 4), 0);
	ck_assert_uint_eq(gss_msg_encode(buf, 3, GSS_MTYP_PROTECTION, NULL,
	    0), 0);
	/* A NULL token that claims bytes is refused, not dereferenced. */
	ck_assert_uint_eq(gss_msg_encode(buf, sizeof(buf), GSS_MTYP_DATA,
	    NULL, 1), 0);
	/* Types out of range, the abort among them. */
	for (t = 0; t <= 0xff; t++) {
		if (t >= GSS_MTYP_CONTEXT && t <= GSS_MTYP_DATA)
			continue;
		ck_assert_msg(gss_msg_encode(buf, sizeof(buf), (uint8_t)t,
		    token, sizeof(token)) == 0, "MTYP %02x encoded", t);
	}
	/* Lengths past 16 bits, whatever the room (no wrap in 4 + len). */
	ck_assert_uint_eq(gss_msg_encode(buf, SIZE_MAX, GSS_MTYP_DATA, token,
	    GSS_MSG_TOKEN_MAX + 1), 0);
	ck_assert_uint_eq(gss_msg_encode(buf, SIZE_MAX, GSS_MTYP_DATA, token,
	    SIZE_MAX), 0);
	ck_assert_uint_eq(gss_msg_encode(buf, SIZE_MAX, GSS_MTYP_DATA, token,
	    SIZE_MAX - 3), 0);
}
END_TEST

/* A token already in place after the header's room (wrapped there). */
START_TEST(test_encode_in_place)
{
	uint8_t buf[4 + 6] = { 0, 0, 0, 0, 'w', 'r', 'a', 'p', 'p', 'd' };
	struct gss_msg m;
	size_t used;

	ck_assert_uint_eq(gss_msg_encode(buf, sizeof(buf), GSS_MTYP_DATA,
	    buf + 4, 6), 10);
	ck_assert_int_eq(memcmp(buf, "\x01\x03\x00\x06wrappd", 10), 0);
	ck_assert_int_eq(gss_msg_parse(buf, sizeof(buf), &m, &used),
	    GSS_MSG_OK);
	ck_assert_uint_eq(used, 10);
}
END_TEST

START_TEST(test_encode_max)
{
	uint8_t *token = malloc(GSS_MSG_TOKEN_MAX);
	uint8_t *buf = malloc(GSS_MSG_MAX + 1);
	struct gss_msg m;
	size_t used;

	ck_assert_ptr_nonnull(token);
	ck_assert_ptr_nonnull(buf);
	memset(token, 0x5a, GSS_MSG_TOKEN_MAX);
	token[0] = 0x60;
	token[GSS_MSG_TOKEN_MAX - 1] = 0x99;
	buf[GSS_MSG_MAX] = 0xcc;
	ck_assert_uint_eq(gss_msg_encode(buf, GSS_MSG_MAX - 1,
	    GSS_MTYP_CONTEXT, token, GSS_MSG_TOKEN_MAX), 0);
	ck_assert_uint_eq(gss_msg_encode(buf, GSS_MSG_MAX, GSS_MTYP_CONTEXT,
	    token, GSS_MSG_TOKEN_MAX), GSS_MSG_MAX);
	ck_assert_uint_eq(buf[GSS_MSG_MAX], 0xcc);
	ck_assert_int_eq(memcmp(buf, "\x01\x01\xff\xff", 4), 0);
	ck_assert_int_eq(gss_msg_parse(buf, GSS_MSG_MAX, &m, &used),
	    GSS_MSG_OK);
	ck_assert_uint_eq(used, GSS_MSG_MAX);
	ck_assert_uint_eq(m.len, GSS_MSG_TOKEN_MAX);
	ck_assert_int_eq(memcmp(m.token, token, GSS_MSG_TOKEN_MAX), 0);
	/* 65536: one byte past what LEN can say, with room to spare. */
	ck_assert_uint_eq(gss_msg_encode(buf, GSS_MSG_MAX + 1,
	    GSS_MTYP_CONTEXT, token, 65536), 0);
	ck_assert_uint_eq(gss_msg_encode_header(buf, GSS_MSG_MAX + 1,
	    GSS_MTYP_CONTEXT, 65536), 0);
	free(token);
	free(buf);
}
END_TEST

START_TEST(test_encode_abort)
{
	uint8_t buf[4];
	struct gss_msg m;
	size_t used;

	memset(buf, 0xcc, sizeof(buf));
	ck_assert_uint_eq(gss_msg_encode_abort(buf, 2), GSS_MSG_ABORT_LEN);
	ck_assert_uint_eq(buf[0], 0x01);
	ck_assert_uint_eq(buf[1], 0xff);
	ck_assert_uint_eq(buf[2], 0xcc);
	ck_assert_int_eq(gss_msg_parse(buf, 2, &m, &used), GSS_MSG_OK);
	ck_assert_uint_eq(m.mtyp, GSS_MTYP_ABORT);
	ck_assert_uint_eq(used, 2);
	ck_assert_uint_eq(gss_msg_encode_abort(buf, sizeof(buf)), 2);
	memset(buf, 0xcc, sizeof(buf));
	ck_assert_uint_eq(gss_msg_encode_abort(buf, 1), 0);
	ck_assert_uint_eq(buf[1], 0xcc);
	ck_assert_uint_eq(gss_msg_encode_abort(NULL, 0), 0);
}
END_TEST

START_TEST(test_prot_name)
{
	unsigned v;

	ck_assert_str_eq(gss_prot_name(GSS_PROT_NONE), "none");
	ck_assert_str_eq(gss_prot_name(GSS_PROT_INTEGRITY), "integrity");
	ck_assert_str_eq(gss_prot_name(GSS_PROT_CONFIDENTIALITY),
	    "confidentiality");
	ck_assert_str_eq(gss_prot_name(GSS_PROT_SELECTIVE), "selective");
	/* The octets travel as RFC 1961 numbers them. */
	ck_assert_str_eq(gss_prot_name(0), "none");
	ck_assert_str_eq(gss_prot_name(1), "integrity");
	ck_assert_str_eq(gss_prot_name(2), "confidentiality");
	ck_assert_str_eq(gss_prot_name(3), "selective");
	ck_assert_ptr_null(gss_prot_name(4));
	ck_assert_ptr_null(gss_prot_name(0xff));
	for (v = 4; v <= 0xff; v++)
		ck_assert_ptr_null(gss_prot_name((uint8_t)v));
}
END_TEST

static Suite *
gss_msg_suite(void)
{
	Suite *s = suite_create("gss_msg");
	TCase *tp = tcase_create("parse");
	TCase *te = tcase_create("encode");

	tcase_add_test(tp, test_parse_fields);
	tcase_add_test(tp, test_parse_each_mtyp);
	tcase_add_test(tp, test_parse_len_order);
	tcase_add_test(tp, test_parse_zero_token);
	tcase_add_test(tp, test_parse_max_token);
	tcase_add_test(tp, test_parse_prefixes);
	tcase_add_test(tp, test_parse_abort);
	tcase_add_test(tp, test_parse_bad_version);
	tcase_add_test(tp, test_parse_bad_mtyp);
	tcase_add_test(tp, test_parse_stream);
	suite_add_tcase(s, tp);
	tcase_add_test(te, test_encode_header);
	tcase_add_test(te, test_encode);
	tcase_add_test(te, test_encode_in_place);
	tcase_add_test(te, test_encode_max);
	tcase_add_test(te, test_encode_abort);
	tcase_add_test(te, test_prot_name);
	suite_add_tcase(s, te);
	return s;
}

int
main(void)
{
	return unit_run(gss_msg_suite(), NULL);
}
