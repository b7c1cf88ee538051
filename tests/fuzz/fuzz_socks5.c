/* SPDX-License-Identifier: ISC */
/*
 * fuzz_socks5.c - libFuzzer harness for the SOCKS5 codec (src/socks5.c).
 *
 * Every input goes through every parser (greeting, method reply, request,
 * reply, UDP header), so one corpus serves them all and a greeting-shaped
 * input also probes the request parser. For each parser the harness checks:
 *
 *  - prefix consistency: parsing the first k bytes for growing k gives
 *    NEED_MORE, then one final verdict that never changes again; an OK
 *    first appears exactly at k == used. This is what the session relies
 *    on when it re-parses a growing buffer, and each prefix is parsed from
 *    the end of a heap block so ASan catches a read of byte k;
 *  - NEED_MORE is honest: every such prefix has a valid completion, so
 *    errors are reported at the first byte that proves them;
 *  - round trip: an OK result re-encodes to the same bytes (RSV fields
 *    excepted: parsers tolerate any RSV, encoders write 0) and re-parses
 *    to the same values; one byte less of room makes the encoder fail;
 *  - addresses: socks5_addr_format() into a small buffer stays terminated,
 *    is a prefix of the full text and leaks no raw unsafe byte; sockaddr
 *    conversion round-trips.
 *
 * The input is also read as a raw struct socks5_addr to drive the encoders
 * with addresses no parser would produce (NULs in names, bad ATYPs).
 *
 * Failures abort(), which libFuzzer reports as a crash. Built without
 * -fsanitize=fuzzer, tests/unit/check_fuzz_replay.c runs the seed corpus
 * through this same entry point under plain `make check`.
 */
#include "config_auto.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* Longer than any message, so every verdict is reached. */
#define PREFIX_MAX	(SOCKS5_REQUEST_MAX + 8)

enum kind {
	K_GREETING,
	K_METHOD_REPLY,
	K_REQUEST,
	K_REPLY,
	K_UDP,
	K_NKINDS
};

union parsed {
	struct socks5_greeting g;
	uint8_t method;
	struct socks5_request req;
	struct socks5_reply rep;
	struct socks5_udp_header udp;
};

static enum socks5_status
parse_kind(enum kind k, const uint8_t *b, size_t n, union parsed *p,
    size_t *used)
{
	memset(p, 0, sizeof(*p));
	switch (k) {
	case K_GREETING:
		return socks5_parse_greeting(b, n, &p->g, used);
	case K_METHOD_REPLY:
		return socks5_parse_method_reply(b, n, &p->method, used);
	case K_REQUEST:
		return socks5_parse_request(b, n, &p->req, used);
	case K_REPLY:
		return socks5_parse_reply(b, n, &p->rep, used);
	default:
		return socks5_parse_udp_header(b, n, &p->udp, used);
	}
}

static int
addr_valid(const struct socks5_addr *a)
{
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
	case SOCKS5_ATYP_IPV6:
		return 1;
	case SOCKS5_ATYP_DOMAIN:
		return a->name_len > 0 &&
		    memchr(a->u.name, '\0', a->name_len) == NULL;
	default:
		return 0;
	}
}

/* `parsed` came from a parser: it must equal `orig` and be terminated. */
static void
check_addr_eq(const struct socks5_addr *orig, const struct socks5_addr *parsed)
{
	FUZZ_CHECK(orig->atyp == parsed->atyp);
	FUZZ_CHECK(orig->port == parsed->port);
	switch (orig->atyp) {
	case SOCKS5_ATYP_IPV4:
		FUZZ_CHECK(memcmp(orig->u.ipv4, parsed->u.ipv4, 4) == 0);
		break;
	case SOCKS5_ATYP_IPV6:
		FUZZ_CHECK(memcmp(orig->u.ipv6, parsed->u.ipv6, 16) == 0);
		break;
	default:
		FUZZ_CHECK(orig->name_len == parsed->name_len);
		FUZZ_CHECK(memcmp(orig->u.name, parsed->u.name,
		    orig->name_len) == 0);
		FUZZ_CHECK(parsed->u.name[parsed->name_len] == '\0');
		FUZZ_CHECK(strlen(parsed->u.name) == parsed->name_len);
		break;
	}
}

static void
check_format(const struct socks5_addr *a, size_t small_cap)
{
	char full[SOCKS5_ADDR_STRLEN], small[32];
	size_t flen, slen, i;

	FUZZ_CHECK(small_cap >= 1 && small_cap < sizeof(small));
	memset(full, 0x5a, sizeof(full));
	FUZZ_CHECK(socks5_addr_format(a, full, sizeof(full)) == full);
	flen = strnlen(full, sizeof(full));
	FUZZ_CHECK(flen < sizeof(full));
	FUZZ_CHECK(flen > 0);
	for (i = 0; i < flen; i++) {
		unsigned char c = (unsigned char)full[i];

		/* Nothing a log parser could take for a separator. */
		FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '"' && c != '=');
	}

	memset(small, 0x5a, sizeof(small));
	FUZZ_CHECK(socks5_addr_format(a, small, small_cap) == small);
	slen = strnlen(small, small_cap);
	FUZZ_CHECK(slen < small_cap);
	FUZZ_CHECK(memcmp(small, full, slen) == 0);
	if (flen < small_cap)
		FUZZ_CHECK(slen == flen);
	for (i = small_cap; i < sizeof(small); i++)
		FUZZ_CHECK(small[i] == 0x5a);

	/* cap 0 must not write at all. */
	small[0] = 0x5a;
	FUZZ_CHECK(socks5_addr_format(a, small, 0) == small);
	FUZZ_CHECK(small[0] == 0x5a);
}

static void
check_sockaddr(const struct socks5_addr *a)
{
	struct sockaddr_storage ss;
	struct socks5_addr back;
	unsigned sl = 0;
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (a->atyp != SOCKS5_ATYP_IPV4 && a->atyp != SOCKS5_ATYP_IPV6) {
		FUZZ_CHECK(socks5_addr_to_sockaddr(a, (struct sockaddr *)&ss,
		    &sl) == -1);
		return;
	}
	FUZZ_CHECK(socks5_addr_to_sockaddr(a, (struct sockaddr *)&ss,
	    &sl) == 0);
	FUZZ_CHECK(sl == (a->atyp == SOCKS5_ATYP_IPV4 ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));
	FUZZ_CHECK(socks5_addr_from_sockaddr(&back,
	    (struct sockaddr *)&ss) == 0);
	FUZZ_CHECK(back.port == a->port);
	if (a->atyp == SOCKS5_ATYP_IPV6 &&
	    memcmp(a->u.ipv6, mapped, sizeof(mapped)) == 0) {
		/* v4-mapped comes back as plain IPv4, by contract. */
		FUZZ_CHECK(back.atyp == SOCKS5_ATYP_IPV4);
		FUZZ_CHECK(memcmp(back.u.ipv4, a->u.ipv6 + 12, 4) == 0);
	} else
		check_addr_eq(a, &back);
}

static void
check_addr(const struct socks5_addr *a, size_t small_cap)
{
	check_format(a, small_cap);
	check_sockaddr(a);
}

/*
 * Re-encode an OK result from `in` (used bytes) and compare. `skip_lo` ..
 * `skip_hi` (exclusive) are RSV bytes that the encoder writes as zero.
 */
static void
check_bytes(const uint8_t *in, const uint8_t *enc, size_t n,
    size_t skip_lo, size_t skip_hi)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i >= skip_lo && i < skip_hi)
			FUZZ_CHECK(enc[i] == 0);
		else
			FUZZ_CHECK(enc[i] == in[i]);
	}
}

static void
roundtrip(enum kind k, const uint8_t *in, const union parsed *p, size_t used,
    size_t small_cap)
{
	uint8_t enc[SOCKS5_REQUEST_MAX];
	union parsed q;
	size_t n, used2 = 0;

	switch (k) {
	case K_GREETING:
		FUZZ_CHECK(p->g.nmethods >= 1);
		n = socks5_encode_greeting(enc, sizeof(enc), p->g.methods,
		    p->g.nmethods);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, 0, 0);
		FUZZ_CHECK(socks5_encode_greeting(enc, n - 1, p->g.methods,
		    p->g.nmethods) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, &q, &used2) == SOCKS5_OK);
		FUZZ_CHECK(used2 == n);
		FUZZ_CHECK(q.g.nmethods == p->g.nmethods);
		FUZZ_CHECK(memcmp(q.g.methods, p->g.methods,
		    p->g.nmethods) == 0);
		break;
	case K_METHOD_REPLY:
		n = socks5_encode_method_reply(enc, sizeof(enc), p->method);
		FUZZ_CHECK(n == used && n == 2);
		check_bytes(in, enc, n, 0, 0);
		FUZZ_CHECK(socks5_encode_method_reply(enc, 1, p->method) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, &q, &used2) == SOCKS5_OK);
		FUZZ_CHECK(used2 == n && q.method == p->method);
		break;
	case K_REQUEST:
		FUZZ_CHECK(p->req.version == SOCKS5_VERSION);
		FUZZ_CHECK(p->req.rsv == in[2]);
		n = socks5_encode_request(enc, sizeof(enc), p->req.cmd,
		    &p->req.dst);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, 2, 3);
		FUZZ_CHECK(socks5_encode_request(enc, n - 1, p->req.cmd,
		    &p->req.dst) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, &q, &used2) == SOCKS5_OK);
		FUZZ_CHECK(used2 == n);
		FUZZ_CHECK(q.req.cmd == p->req.cmd && q.req.rsv == 0);
		check_addr_eq(&p->req.dst, &q.req.dst);
		check_addr(&p->req.dst, small_cap);
		break;
	case K_REPLY:
		n = socks5_encode_reply(enc, sizeof(enc), p->rep.rep,
		    &p->rep.bnd);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, 2, 3);
		FUZZ_CHECK(socks5_encode_reply(enc, n - 1, p->rep.rep,
		    &p->rep.bnd) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, &q, &used2) == SOCKS5_OK);
		FUZZ_CHECK(used2 == n && q.rep.rep == p->rep.rep);
		check_addr_eq(&p->rep.bnd, &q.rep.bnd);
		check_addr(&p->rep.bnd, small_cap);
		break;
	default:
		n = socks5_encode_udp_header(enc, sizeof(enc), p->udp.frag,
		    &p->udp.dst);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, 0, 2);
		FUZZ_CHECK(socks5_encode_udp_header(enc, n - 1, p->udp.frag,
		    &p->udp.dst) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, &q, &used2) == SOCKS5_OK);
		FUZZ_CHECK(used2 == n && q.udp.frag == p->udp.frag);
		check_addr_eq(&p->udp.dst, &q.udp.dst);
		check_addr(&p->udp.dst, small_cap);
		break;
	}
}

/*
 * NEED_MORE promises that the first `n` bytes are a valid prefix, so some
 * completion must parse. Filling with 0x01 completes any valid non-empty
 * prefix: it is a valid NMETHODS, CMD, RSV, FRAG, ATYP (IPv4), name length
 * and name byte. A parser that says NEED_MORE to bytes it could already
 * reject (a NUL early in a name) fails here.
 */
static void
check_completable(enum kind k, const uint8_t *data, size_t n)
{
	uint8_t buf[PREFIX_MAX];
	union parsed p;
	size_t used = 0;

	memcpy(buf, data, n);
	memset(buf + n, 0x01, sizeof(buf) - n);
	FUZZ_CHECK(parse_kind(k, buf, sizeof(buf), &p, &used) == SOCKS5_OK);
	FUZZ_CHECK(used > n);
}

/*
 * Parse every prefix of `data` with parser `k`. `scratch` has room for
 * PREFIX_MAX bytes; each prefix is copied to its end so the byte after the
 * prefix lies outside the heap block.
 */
static void
check_kind(enum kind k, const uint8_t *data, size_t size, uint8_t *scratch,
    size_t small_cap)
{
	enum socks5_status st, verdict = SOCKS5_NEED_MORE;
	union parsed p;
	size_t n, len, used, first_used = 0;

	len = size < PREFIX_MAX ? size : PREFIX_MAX;
	for (n = 0; n <= len; n++) {
		uint8_t *b = scratch + PREFIX_MAX - n;

		memcpy(b, data, n);
		used = (size_t)-1;
		st = parse_kind(k, b, n, &p, &used);
		if (st == SOCKS5_NEED_MORE && n > 0)
			check_completable(k, data, n);
		if (verdict == SOCKS5_NEED_MORE) {
			verdict = st;
			if (st == SOCKS5_OK) {
				/* OK appears exactly with the last byte. */
				FUZZ_CHECK(used == n);
				first_used = used;
				roundtrip(k, b, &p, used, small_cap);
			}
			continue;
		}
		/* Once decided, more bytes never change the verdict. */
		FUZZ_CHECK(st == verdict);
		if (st == SOCKS5_OK) {
			FUZZ_CHECK(used == first_used);
			/*
			 * Trailing bytes must not leak into the result: the
			 * longest prefix re-encodes to the same message.
			 */
			if (n == len)
				roundtrip(k, b, &p, used, small_cap);
		}
	}
	/* A verdict needs at most the longest message. */
	if (size >= PREFIX_MAX)
		FUZZ_CHECK(verdict != SOCKS5_NEED_MORE);
	FUZZ_CHECK(socks5_status_str(verdict) != NULL);
}

/* Greeting, then a request right behind it, like an optimistic client. */
static void
check_stream(const uint8_t *data, size_t size, size_t small_cap)
{
	static const uint8_t prefs[] = {
		SOCKS5_METHOD_CHAP, SOCKS5_METHOD_PASSWORD, SOCKS5_METHOD_NONE
	};
	struct socks5_greeting g;
	struct socks5_request r;
	size_t used, used2, i, j;
	uint8_t m;

	if (socks5_parse_greeting(data, size, &g, &used) != SOCKS5_OK)
		return;
	m = socks5_select_method(&g, prefs, sizeof(prefs));
	/* The result is the first preference the client offered. */
	for (i = 0; i < sizeof(prefs); i++) {
		for (j = 0; j < g.nmethods; j++)
			if (g.methods[j] == prefs[i])
				break;
		if (j < g.nmethods)
			break;
	}
	FUZZ_CHECK(m == (i < sizeof(prefs) ? prefs[i] :
	    SOCKS5_METHOD_NO_ACCEPTABLE));

	if (socks5_parse_request(data + used, size - used, &r,
	    &used2) == SOCKS5_OK) {
		FUZZ_CHECK(used + used2 <= size);
		check_addr(&r.dst, small_cap);
	}
}

/*
 * Read the input as a raw address (ATYP, name_len, port, then the union)
 * and push it through the encoders: they must refuse exactly the invalid
 * ones and produce something that parses back for the rest.
 */
static void
check_raw_addr(const uint8_t *data, size_t size, size_t small_cap)
{
	uint8_t enc[SOCKS5_REQUEST_MAX];
	struct socks5_addr a;
	struct socks5_request r;
	struct socks5_reply rp;
	struct socks5_udp_header h;
	size_t n, used;
	int valid;

	if (size < 4)
		return;
	memset(&a, 0, sizeof(a));
	a.atyp = data[0];
	a.name_len = data[1];
	a.port = (uint16_t)(data[2] << 8 | data[3]);
	memcpy(&a.u, data + 4, size - 4 < sizeof(a.u) ? size - 4 :
	    sizeof(a.u));
	valid = addr_valid(&a);

	n = socks5_encode_request(enc, sizeof(enc), data[1], &a);
	FUZZ_CHECK((n != 0) == valid);
	if (valid) {
		FUZZ_CHECK(socks5_parse_request(enc, n, &r, &used) ==
		    SOCKS5_OK);
		FUZZ_CHECK(used == n && r.cmd == data[1]);
		check_addr_eq(&a, &r.dst);
	}
	n = socks5_encode_reply(enc, sizeof(enc), data[2], &a);
	FUZZ_CHECK((n != 0) == valid);
	if (valid) {
		FUZZ_CHECK(socks5_parse_reply(enc, n, &rp, &used) ==
		    SOCKS5_OK);
		FUZZ_CHECK(used == n && rp.rep == data[2]);
		check_addr_eq(&a, &rp.bnd);
	}
	n = socks5_encode_udp_header(enc, sizeof(enc), data[3], &a);
	FUZZ_CHECK((n != 0) == valid);
	if (valid) {
		FUZZ_CHECK(socks5_parse_udp_header(enc, n, &h, &used) ==
		    SOCKS5_OK);
		FUZZ_CHECK(used == n && h.frag == data[3]);
		check_addr_eq(&a, &h.dst);
	}
	/* Format copes with anything, NULs and bad ATYPs included. */
	check_addr(&a, small_cap);
	FUZZ_CHECK(socks5_rep_str(data[0]) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *scratch;
	size_t small_cap;
	int k;

	/* Vary the truncation point with the input: 1..24. */
	small_cap = 1 + size % 24;
	scratch = malloc(PREFIX_MAX);
	if (scratch == NULL)
		return 0;
	for (k = 0; k < K_NKINDS; k++)
		check_kind((enum kind)k, data, size, scratch, small_cap);
	free(scratch);
	check_stream(data, size, small_cap);
	check_raw_addr(data, size, small_cap);
	return 0;
}
