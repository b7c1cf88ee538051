/* SPDX-License-Identifier: ISC */
/*
 * fuzz_gss_msg.c - libFuzzer harness for the RFC 1961 GSS-API
 * subnegotiation codec (auth/gss_msg.c).
 *
 * The input is what a peer sends. The harness checks:
 *
 *  - prefix consistency, as fuzz_password.c does: for growing k the
 *    first k bytes give NEED_MORE, then one verdict that never changes,
 *    with the same message and *used. An OK first appears exactly at
 *    k == used; ERR_VERSION at k == 1 and ERR_MTYP at k == 2 (the first
 *    byte that proves the input wrong). Each short prefix, and those
 *    next to the verdict and the whole input, is parsed from the end of
 *    a heap block of its exact size, so ASan catches a read of byte k;
 *    the parser reads only the header, so the other long prefixes are
 *    parsed in place (copying each would make a big input quadratic);
 *  - the message: MTYP 1, 2, 3 or FF; the token points into the block,
 *    just after the header (2 bytes for the abort, else 4), and ends
 *    where the message does;
 *  - NEED_MORE is honest: when the whole input is NEED_MORE, the
 *    shortest completion (LEN read as zeros where it is missing, then the
 *    token's bytes) is OK, and OK at exactly its end;
 *  - round trip: an OK message re-encodes (gss_msg_encode(), or
 *    gss_msg_encode_abort()) into a heap block of exactly its size to the
 *    same bytes, and gss_msg_encode_header() gives its first four; one
 *    byte less of room makes each encoder fail;
 *  - the stream: the input parsed as messages back to back from the
 *    input itself (an exact-size block), and again arriving in pieces
 *    (1 byte, then a size the input's length picks) through a buffer that
 *    is parsed until NEED_MORE and shifted, as a session reads: both
 *    readers see the same messages and the same end (an error, or
 *    NEED_MORE on the same leftover bytes).
 *
 * Failures abort(), which libFuzzer reports as a crash. Built without
 * -fsanitize=fuzzer, check_fuzz_replay_gss_msg runs the seed corpus
 * (tests/fuzz/corpus/gss_msg) in `make check`.
 */
#include "config_auto.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gss_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* Prefixes up to this long are each parsed from a block of their size. */
#define COPY_MAX	300

/*
 * Parse the first k bytes of data, from a heap block of exactly k bytes
 * when `exact` (freed before returning), else in place. On OK the message
 * is checked against its block.
 */
static enum gss_msg_status
parse_prefix(const uint8_t *data, size_t k, bool exact, struct gss_msg *m,
    size_t *used)
{
	uint8_t *copy = NULL;
	const uint8_t *p = data;
	enum gss_msg_status st;

	if (exact) {
		copy = malloc(k == 0 ? 1 : k);
		FUZZ_CHECK(copy != NULL);
		if (k > 0)
			memcpy(copy, data, k);
		p = copy;
	}
	st = gss_msg_parse(p, k, m, used);
	FUZZ_CHECK(st == GSS_MSG_OK || st == GSS_MSG_NEED_MORE ||
	    st == GSS_MSG_ERR_VERSION || st == GSS_MSG_ERR_MTYP);
	if (st == GSS_MSG_OK) {
		size_t hdr = m->mtyp == GSS_MTYP_ABORT ? GSS_MSG_ABORT_LEN :
		    GSS_MSG_HDR_LEN;

		FUZZ_CHECK(m->mtyp == GSS_MTYP_CONTEXT ||
		    m->mtyp == GSS_MTYP_PROTECTION ||
		    m->mtyp == GSS_MTYP_DATA || m->mtyp == GSS_MTYP_ABORT);
		FUZZ_CHECK(*used <= k && *used >= hdr);
		FUZZ_CHECK(m->token != NULL);
		FUZZ_CHECK(m->token == p + hdr);
		FUZZ_CHECK(m->len == *used - hdr);
		if (m->mtyp == GSS_MTYP_ABORT)
			FUZZ_CHECK(m->len == 0);
	}
	free(copy);
	return st;
}

/* An OK message: re-encoded, to the byte; one byte less of room fails. */
static void
check_round_trip(const uint8_t *msg, const struct gss_msg *m, size_t used)
{
	uint8_t *enc = malloc(used), *small = malloc(used - 1);
	uint8_t hdr[GSS_MSG_HDR_LEN];

	FUZZ_CHECK(enc != NULL && small != NULL);
	if (m->mtyp == GSS_MTYP_ABORT) {
		FUZZ_CHECK(used == GSS_MSG_ABORT_LEN);
		FUZZ_CHECK(gss_msg_encode_abort(enc, used) == used);
		FUZZ_CHECK(memcmp(enc, msg, used) == 0);
		FUZZ_CHECK(gss_msg_encode_abort(small, used - 1) == 0);
		/* No header of the 4-byte shape for an abort. */
		FUZZ_CHECK(gss_msg_encode_header(hdr, sizeof(hdr),
		    GSS_MTYP_ABORT, 0) == 0);
	} else {
		FUZZ_CHECK(gss_msg_encode(enc, used, m->mtyp, msg + 4,
		    m->len) == used);
		FUZZ_CHECK(memcmp(enc, msg, used) == 0);
		FUZZ_CHECK(gss_msg_encode(small, used - 1, m->mtyp, msg + 4,
		    m->len) == 0);
		FUZZ_CHECK(gss_msg_encode_header(hdr, sizeof(hdr), m->mtyp,
		    m->len) == GSS_MSG_HDR_LEN);
		FUZZ_CHECK(memcmp(hdr, msg, GSS_MSG_HDR_LEN) == 0);
		FUZZ_CHECK(gss_msg_encode_header(hdr, GSS_MSG_HDR_LEN - 1,
		    m->mtyp, m->len) == 0);
	}
	free(enc);
	free(small);
}

/*
 * The whole input is NEED_MORE: its shortest completion must be OK at
 * exactly its end. A missing MTYP becomes FF (the abort); missing LEN
 * bytes become zeros; then the token's bytes (zeros too).
 */
static void
check_completion(const uint8_t *data, size_t size)
{
	size_t n, used = 0;
	struct gss_msg m;
	uint8_t *c;

	if (size <= 1) {
		n = GSS_MSG_ABORT_LEN;
	} else {
		/* MTYP is 1..3 here (an abort is never NEED_MORE at 2). */
		FUZZ_CHECK(data[1] >= GSS_MTYP_CONTEXT &&
		    data[1] <= GSS_MTYP_DATA);
		n = GSS_MSG_HDR_LEN + ((size > 2 ? (size_t)data[2] << 8 : 0) |
		    (size > 3 ? data[3] : 0));
	}
	FUZZ_CHECK(n > size && n <= GSS_MSG_MAX);
	/* A block of exactly the completion's size: OK reads none past it. */
	c = calloc(1, n);
	FUZZ_CHECK(c != NULL);
	if (size > 0)
		memcpy(c, data, size);
	if (size == 0)
		c[0] = GSS_MSG_VERSION;
	if (size <= 1)
		c[1] = GSS_MTYP_ABORT;
	FUZZ_CHECK(parse_prefix(c, n - 1, false, &m, &used) ==
	    GSS_MSG_NEED_MORE);
	FUZZ_CHECK(parse_prefix(c, n, false, &m, &used) == GSS_MSG_OK);
	FUZZ_CHECK(used == n);
	free(c);
}

/* The verdict on the whole input, and how many bytes the message holds. */
static enum gss_msg_status
check_prefixes(const uint8_t *data, size_t size, size_t *msg_len)
{
	enum gss_msg_status final = GSS_MSG_NEED_MORE;
	struct gss_msg m, first_m;
	size_t k, used = 0;

	memset(&first_m, 0, sizeof(first_m));
	for (k = 0; k <= size; k++) {
		bool exact = k <= COPY_MAX || k == size;
		enum gss_msg_status st;
		size_t u = 0;

		st = parse_prefix(data, k, exact, &m, &u);
		if (final != GSS_MSG_NEED_MORE) {
			/* A verdict never changes with more bytes. */
			FUZZ_CHECK(st == final);
			if (st == GSS_MSG_OK) {
				FUZZ_CHECK(u == used);
				FUZZ_CHECK(m.mtyp == first_m.mtyp);
				FUZZ_CHECK(m.len == first_m.len);
			}
			continue;
		}
		if (st == GSS_MSG_NEED_MORE)
			continue;
		final = st;
		if (!exact) {
			/* The verdict's byte, and the one before, exactly. */
			FUZZ_CHECK(parse_prefix(data, k - 1, true, &m, &u) ==
			    GSS_MSG_NEED_MORE);
			FUZZ_CHECK(parse_prefix(data, k, true, &m, &u) == st);
		}
		switch (st) {
		case GSS_MSG_ERR_VERSION:
			FUZZ_CHECK(k == 1 && data[0] != GSS_MSG_VERSION);
			break;
		case GSS_MSG_ERR_MTYP:
			FUZZ_CHECK(k == 2 && data[0] == GSS_MSG_VERSION);
			FUZZ_CHECK(data[1] != GSS_MTYP_ABORT &&
			    (data[1] < GSS_MTYP_CONTEXT ||
			    data[1] > GSS_MTYP_DATA));
			break;
		case GSS_MSG_OK:
			/* OK first exactly where the message ends. */
			FUZZ_CHECK(u == k);
			used = u;
			first_m = m;
			check_round_trip(data, &m, u);
			break;
		case GSS_MSG_NEED_MORE:
			break;
		}
	}
	if (final == GSS_MSG_NEED_MORE)
		check_completion(data, size);
	*msg_len = used;
	return final;
}

/*
 * The input as messages back to back, read twice: straight from the
 * input (an exact-size block: ASan sees a read past its end), and as it
 * would arrive, `chunk` bytes at a time, into a buffer parsed until
 * NEED_MORE and shifted after each message. Both must agree.
 */
static void
check_stream(const uint8_t *data, size_t size, size_t chunk)
{
	/* Room for one whole message, or for the whole input if less. */
	size_t cap = size < GSS_MSG_MAX ? size : GSS_MSG_MAX;
	uint8_t *buf = malloc(cap == 0 ? 1 : cap);
	size_t have = 0, fed = 0, off = 0, nmsg = 0;
	enum gss_msg_status st, st2;
	struct gss_msg m, m2;
	size_t u, u2;

	FUZZ_CHECK(buf != NULL);
	for (;;) {
		st = gss_msg_parse(buf, have, &m, &u);
		st2 = gss_msg_parse(data + off, size - off, &m2, &u2);
		if (st == GSS_MSG_OK) {
			FUZZ_CHECK(st2 == GSS_MSG_OK);
			FUZZ_CHECK(u == u2 && u >= GSS_MSG_ABORT_LEN);
			FUZZ_CHECK(u <= have && u2 <= size - off);
			FUZZ_CHECK(m.mtyp == m2.mtyp && m.len == m2.len);
			FUZZ_CHECK(memcmp(buf, data + off, u) == 0);
			FUZZ_CHECK(m2.token >= data + off &&
			    m2.token + m2.len == data + off + u2);
			FUZZ_CHECK(m.len == 0 ||
			    memcmp(m.token, m2.token, m.len) == 0);
			off += u;
			nmsg++;
			memmove(buf, buf + u, have - u);
			have -= u;
			continue;
		}
		if (st != GSS_MSG_NEED_MORE) {
			/* The same error on the same bytes. */
			FUZZ_CHECK(st2 == st);
			break;
		}
		/*
		 * A buffer of GSS_MSG_MAX bytes holds a whole message: when
		 * it is full, never NEED_MORE (so it never runs out of room).
		 */
		FUZZ_CHECK(have < GSS_MSG_MAX);
		if (fed == size) {
			/* Both readers stop at the same leftover bytes. */
			FUZZ_CHECK(st2 == GSS_MSG_NEED_MORE);
			FUZZ_CHECK(size - off == have);
			break;
		}
		u = size - fed < chunk ? size - fed : chunk;
		if (u > cap - have)
			u = cap - have;
		FUZZ_CHECK(u > 0);
		memcpy(buf + have, data + fed, u);
		have += u;
		fed += u;
	}
	/* Each message is at least two bytes: the loop above ends. */
	FUZZ_CHECK(nmsg <= size / GSS_MSG_ABORT_LEN);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum gss_msg_status st;
	size_t msg_len = 0;

	st = check_prefixes(data, size, &msg_len);
	if (st == GSS_MSG_OK)
		FUZZ_CHECK(msg_len >= GSS_MSG_ABORT_LEN && msg_len <= size);
	check_stream(data, size, 1);
	check_stream(data, size, 1 + size % 61);
	return 0;
}
