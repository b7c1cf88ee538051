/* SPDX-License-Identifier: ISC */
/*
 * fuzz_proxyproto.c - libFuzzer harness for the PROXY protocol header
 * parser (src/proxyproto.c).
 *
 * The input is the start of a connection. The harness feeds it to
 * proxy_parse() one byte at a time, as the session does (each prefix from
 * the end of an exact-size heap block, so ASan catches a read of byte k),
 * and checks:
 *
 *  - prefix monotonicity: NEED_MORE, then one verdict that never changes
 *    again, with the same header and *used; the verdict on the whole
 *    input is that one; *h and *used are untouched unless DONE;
 *  - NEED_MORE is honest: the longest NEED_MORE prefix has a completion
 *    that is DONE (found by trying the shortest ways to finish each field,
 *    with inet_pton() and the line's limit deciding), so a bad header is
 *    refused at the first byte that proves it;
 *  - DONE, v1: *used is where the first CRLF ends, <= len and <=
 *    PROXY_V1_MAX, and DONE came at exactly that byte; the line has no
 *    NUL; the addresses and ports are what inet_pton() and strtoul() make
 *    of its fields, UNKNOWN local;
 *  - DONE, v2: *used is 16 + the length field (>= 16, may exceed len),
 *    DONE came at 16 when local or once the 12 / 36 address bytes were in,
 *    and the addresses are those bytes;
 *  - families are AF_INET or AF_INET6 (the same both sides) when !local,
 *    and src and dst are zeroed when local.
 *
 * An input that holds no space, CR, LF or NUL (and is short) is also
 * tried as each address and port field of an otherwise valid v1 line: the
 * line must be DONE exactly when inet_pton(), or the canonical decimal
 * form, accepts it; this checks the parser's own scanners against
 * inet_pton() directly.
 *
 * Failures abort(), which libFuzzer reports as a crash. Built without
 * -fsanitize=fuzzer, tests/unit/check_fuzz_replay.c runs the seed corpus
 * through this same entry point under plain `make check`.
 */
#include "config_auto.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Prefixes fed one at a time: past this every header has its verdict
 * (v1 by 107 bytes, v2 by 16 + 36).
 */
#define PREFIX_MAX	(PROXY_V1_MAX + 21)

#define CANARY		0xa5
#define USED_CANARY	((size_t)0x5eed)

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* proxy_parse() on an exact-size heap copy; canaries checked. */
static enum proxy_parse
parse(const uint8_t *b, size_t n, struct proxy_header *h, size_t *used)
{
	struct proxy_header canary;
	enum proxy_parse st;
	uint8_t *p = malloc(n ? n : 1);

	FUZZ_CHECK(p != NULL);
	if (n > 0)
		memcpy(p, b, n);
	memset(h, CANARY, sizeof(*h));
	memset(&canary, CANARY, sizeof(canary));
	*used = USED_CANARY;
	st = proxy_parse(p, n, h, used);
	free(p);
	FUZZ_CHECK(st == PROXY_NEED_MORE || st == PROXY_DONE ||
	    st == PROXY_MALFORMED);
	if (st != PROXY_DONE) {
		FUZZ_CHECK(memcmp(h, &canary, sizeof(*h)) == 0);
		FUZZ_CHECK(*used == USED_CANARY);
	}
	return st;
}

static bool
same_header(const struct proxy_header *a, const struct proxy_header *b)
{
	return a->version == b->version && a->local == b->local &&
	    memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	    memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

static bool
is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Honesty: a NEED_MORE prefix has a completion                       */
/* ------------------------------------------------------------------ */

static bool
done(const uint8_t *b, size_t n)
{
	struct proxy_header h;
	size_t used;

	return parse(b, n, &h, &used) == PROXY_DONE;
}

/*
 * v2: finish the signature, then version 2 PROXY, TCP over IPv4, length
 * 0x01ff (long enough for any family), then zeros up to the longest
 * address block. Whatever of that the prefix already fixed, a valid
 * prefix still completes.
 */
static bool
v2_completes(const uint8_t *p, size_t k)
{
	uint8_t b[16 + 36];
	size_t i;

	if (k > sizeof(b))
		return false;
	memcpy(b, p, k);
	for (i = k; i < sizeof(b); i++) {
		if (i < sizeof(v2_sig))
			b[i] = v2_sig[i];
		else if (i == 12)
			b[i] = 0x21;
		else if (i == 13)
			b[i] = 0x11;
		else if (i == 14)
			b[i] = 0x01;
		else if (i == 15)
			b[i] = 0xff;
		else
			b[i] = 0;
	}
	return done(b, sizeof(b));
}

/*
 * v1: whole template lines for a prefix of one; otherwise the shortest
 * ending of the field in progress (an address, a port, the line) followed
 * by the shortest rest of the line from each field on. Between them they
 * hold the shortest completion of every valid prefix, so the line's limit
 * cannot hide one.
 */
static bool
v1_completes(const uint8_t *p, size_t k)
{
	static const char *const lines[] = {
		"PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
		"PROXY TCP6 :: :: 0 0\r\n",
		"PROXY UNKNOWN\r\n",
	};
	static const char *const field_ends[] = {
		"", "0", ":", "::", ".0", ".0.0", ".0.0.0", "0.0", "0.0.0",
		"0.0.0.0",
	};
	static const char *const line_ends[] = {
		"", "\n", "\r\n", " 0\r\n", " 0 0\r\n", " 0.0.0.0 0 0\r\n",
		" :: 0 0\r\n",
	};
	uint8_t b[PROXY_V1_MAX + 32];
	size_t i, j, n, t, r;

	for (i = 0; i < NELEM(lines); i++) {
		n = strlen(lines[i]);
		if (k < n && memcmp(p, lines[i], k) == 0 &&
		    done((const uint8_t *)lines[i], n))
			return true;
	}
	if (k > PROXY_V1_MAX)
		return false;
	memcpy(b, p, k);
	for (i = 0; i < NELEM(field_ends); i++) {
		t = strlen(field_ends[i]);
		for (j = 0; j < NELEM(line_ends); j++) {
			r = strlen(line_ends[j]);
			if (k + t + r > sizeof(b))
				continue;
			memcpy(b + k, field_ends[i], t);
			memcpy(b + k + t, line_ends[j], r);
			if (done(b, k + t + r))
				return true;
		}
	}
	return false;
}

static bool
completes(const uint8_t *p, size_t k)
{
	if (k == 0)
		return true;
	return p[0] == 'P' ? v1_completes(p, k) : v2_completes(p, k);
}

/* ------------------------------------------------------------------ */
/* What a DONE header must be                                         */
/* ------------------------------------------------------------------ */

/* Field f (0-based, split at single spaces) of line[0..n), NUL-terminated. */
static bool
v1_field(const uint8_t *line, size_t n, unsigned f, char *out, size_t cap)
{
	size_t i, start = 0, len;
	unsigned cur = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && line[i] != ' ')
			continue;
		if (cur == f) {
			len = i - start;
			if (len >= cap)
				return false;
			memcpy(out, line + start, len);
			out[len] = '\0';
			return true;
		}
		cur++;
		start = i + 1;
	}
	return false;
}

/* "0".."65535", no leading zero, no sign: its value, or -1. */
static long
canonical_port(const char *s)
{
	char back[8];
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9' || strlen(s) > 5)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return -1;
	snprintf(back, sizeof(back), "%lu", v);
	return strcmp(back, s) == 0 ? (long)v : -1;
}

static void
check_v1(const uint8_t *data, size_t size, const struct proxy_header *h,
    size_t used, size_t first)
{
	char f[5][64];
	uint8_t want[16];
	int fam;
	unsigned i;

	FUZZ_CHECK(h->version == 1);
	FUZZ_CHECK(used <= size && used <= PROXY_V1_MAX);
	FUZZ_CHECK(first == used);
	FUZZ_CHECK(used >= 2 && data[used - 2] == '\r' && data[used - 1] == '\n');
	/* The first CRLF ends it; no NUL, no other CR or LF. */
	for (i = 0; i + 2 < used; i++)
		FUZZ_CHECK(data[i] != '\0' && data[i] != '\r' &&
		    data[i] != '\n');
	if (h->local) {
		FUZZ_CHECK(memcmp(data, "PROXY UNKNOWN", 13) == 0);
		return;
	}
	for (i = 0; i < 5; i++)
		FUZZ_CHECK(v1_field(data, used - 2, i + 1, f[i], sizeof(f[i])));
	FUZZ_CHECK(!v1_field(data, used - 2, 6, f[0], sizeof(f[0])));
	FUZZ_CHECK(memcmp(data, "PROXY ", 6) == 0);
	FUZZ_CHECK(strcmp(f[0], "TCP4") == 0 || strcmp(f[0], "TCP6") == 0);
	fam = f[0][3] == '4' ? AF_INET : AF_INET6;
	FUZZ_CHECK(h->src.sa.sa_family == fam && h->dst.sa.sa_family == fam);
	FUZZ_CHECK(inet_pton(fam, f[1], want) == 1);
	FUZZ_CHECK(memcmp(fam == AF_INET ? (void *)&h->src.sin.sin_addr :
	    (void *)&h->src.sin6.sin6_addr, want, fam == AF_INET ? 4 : 16) == 0);
	FUZZ_CHECK(inet_pton(fam, f[2], want) == 1);
	FUZZ_CHECK(memcmp(fam == AF_INET ? (void *)&h->dst.sin.sin_addr :
	    (void *)&h->dst.sin6.sin6_addr, want, fam == AF_INET ? 4 : 16) == 0);
	FUZZ_CHECK(canonical_port(f[3]) == ntohs(fam == AF_INET ?
	    h->src.sin.sin_port : h->src.sin6.sin6_port));
	FUZZ_CHECK(canonical_port(f[4]) == ntohs(fam == AF_INET ?
	    h->dst.sin.sin_port : h->dst.sin6.sin6_port));
}

static void
check_v2(const uint8_t *data, size_t size, const struct proxy_header *h,
    size_t used, size_t first)
{
	size_t alen;
	const uint8_t *a;

	FUZZ_CHECK(h->version == 2);
	FUZZ_CHECK(size >= PROXY_V2_FIXED);
	FUZZ_CHECK(memcmp(data, v2_sig, sizeof(v2_sig)) == 0);
	FUZZ_CHECK(data[12] == 0x20 || data[12] == 0x21);
	FUZZ_CHECK(used >= PROXY_V2_FIXED);
	FUZZ_CHECK(used == PROXY_V2_FIXED + ((size_t)data[14] << 8 | data[15]));
	if (h->local) {
		FUZZ_CHECK(first == PROXY_V2_FIXED);
		FUZZ_CHECK(data[12] == 0x20 || data[13] >> 4 == 0 ||
		    data[13] >> 4 == 3 || (data[13] & 0x0f) != 1);
		return;
	}
	FUZZ_CHECK(data[12] == 0x21);
	FUZZ_CHECK(data[13] == 0x11 || data[13] == 0x21);
	alen = data[13] == 0x11 ? 12 : 36;
	FUZZ_CHECK(used >= PROXY_V2_FIXED + alen);
	FUZZ_CHECK(first == PROXY_V2_FIXED + alen);
	a = data + PROXY_V2_FIXED;
	if (alen == 12) {
		FUZZ_CHECK(h->src.sa.sa_family == AF_INET);
		FUZZ_CHECK(h->dst.sa.sa_family == AF_INET);
		FUZZ_CHECK(memcmp(&h->src.sin.sin_addr, a, 4) == 0);
		FUZZ_CHECK(memcmp(&h->dst.sin.sin_addr, a + 4, 4) == 0);
		FUZZ_CHECK(memcmp(&h->src.sin.sin_port, a + 8, 2) == 0);
		FUZZ_CHECK(memcmp(&h->dst.sin.sin_port, a + 10, 2) == 0);
	} else {
		FUZZ_CHECK(h->src.sa.sa_family == AF_INET6);
		FUZZ_CHECK(h->dst.sa.sa_family == AF_INET6);
		FUZZ_CHECK(memcmp(&h->src.sin6.sin6_addr, a, 16) == 0);
		FUZZ_CHECK(memcmp(&h->dst.sin6.sin6_addr, a + 16, 16) == 0);
		FUZZ_CHECK(memcmp(&h->src.sin6.sin6_port, a + 32, 2) == 0);
		FUZZ_CHECK(memcmp(&h->dst.sin6.sin6_port, a + 34, 2) == 0);
	}
}

static void
check_header(const uint8_t *data, size_t size, const struct proxy_header *h,
    size_t used, size_t first)
{
	if (h->local) {
		FUZZ_CHECK(is_zero(&h->src, sizeof(h->src)));
		FUZZ_CHECK(is_zero(&h->dst, sizeof(h->dst)));
	} else {
		FUZZ_CHECK(h->src.sa.sa_family == AF_INET ||
		    h->src.sa.sa_family == AF_INET6);
		FUZZ_CHECK(h->dst.sa.sa_family == h->src.sa.sa_family);
		if (h->src.sa.sa_family == AF_INET) {
			FUZZ_CHECK(is_zero(h->src.sin.sin_zero, 8));
			FUZZ_CHECK(is_zero(h->dst.sin.sin_zero, 8));
		} else {
			FUZZ_CHECK(h->src.sin6.sin6_flowinfo == 0);
			FUZZ_CHECK(h->src.sin6.sin6_scope_id == 0);
			FUZZ_CHECK(h->dst.sin6.sin6_flowinfo == 0);
			FUZZ_CHECK(h->dst.sin6.sin6_scope_id == 0);
		}
	}
	if (data[0] == 'P')
		check_v1(data, size, h, used, first);
	else
		check_v2(data, size, h, used, first);
}

/* ------------------------------------------------------------------ */
/* The stream                                                         */
/* ------------------------------------------------------------------ */

static void
check_stream(const uint8_t *data, size_t size)
{
	struct proxy_header h, first_h;
	enum proxy_parse st, verdict = PROXY_NEED_MORE;
	size_t k, used, first_used = 0, first = 0, lim;

	memset(&first_h, 0, sizeof(first_h));
	lim = size < PREFIX_MAX ? size : PREFIX_MAX;
	for (k = 0; k <= lim; k++) {
		st = parse(data, k, &h, &used);
		if (verdict == PROXY_NEED_MORE) {
			if (st == PROXY_NEED_MORE)
				continue;
			verdict = st;
			first = k;
			first_h = h;
			first_used = used;
			/* The longest NEED_MORE prefix is a valid one. */
			FUZZ_CHECK(completes(data, k - 1));
			continue;
		}
		FUZZ_CHECK(st == verdict);
		if (st == PROXY_DONE) {
			FUZZ_CHECK(used == first_used);
			FUZZ_CHECK(same_header(&h, &first_h));
		}
	}
	/* Every header has its verdict within PREFIX_MAX bytes. */
	if (verdict == PROXY_NEED_MORE) {
		FUZZ_CHECK(size < PREFIX_MAX);
		FUZZ_CHECK(completes(data, size));
		return;
	}
	/* All at once: the same. */
	st = parse(data, size, &h, &used);
	FUZZ_CHECK(st == verdict);
	if (st != PROXY_DONE)
		return;
	FUZZ_CHECK(used == first_used);
	FUZZ_CHECK(same_header(&h, &first_h));
	check_header(data, size, &h, used, first);
}

/* ------------------------------------------------------------------ */
/* The input as one field of a valid line                             */
/* ------------------------------------------------------------------ */

/* The line pre + tok + post, where tok is field `field` (0 src, 1 dst, 2 sport). */
static void
try_line(const char *pre, const char *tok, const char *post, int fam,
    int field)
{
	char line[PROXY_V1_MAX + 64];
	uint8_t want[16];
	struct proxy_header h;
	const union sockaddr_any *sa;
	enum proxy_parse st;
	size_t n, used;
	long port;
	bool ok;

	n = (size_t)snprintf(line, sizeof(line), "%s%s%s", pre, tok, post);
	FUZZ_CHECK(n < sizeof(line) && n <= PROXY_V1_MAX);
	st = parse((const uint8_t *)line, n, &h, &used);
	if (field < 2) {
		ok = inet_pton(fam, tok, want) == 1;
		FUZZ_CHECK(st == (ok ? PROXY_DONE : PROXY_MALFORMED));
		if (!ok)
			goto stream;
		sa = field == 0 ? &h.src : &h.dst;
		FUZZ_CHECK(sa->sa.sa_family == fam);
		FUZZ_CHECK(memcmp(fam == AF_INET ? (const void *)&sa->sin.sin_addr :
		    (const void *)&sa->sin6.sin6_addr, want,
		    fam == AF_INET ? 4 : 16) == 0);
	} else {
		port = canonical_port(tok);
		FUZZ_CHECK(st == (port >= 0 ? PROXY_DONE : PROXY_MALFORMED));
		if (port >= 0)
			FUZZ_CHECK(ntohs(h.src.sin.sin_port) == port);
	}
stream:
	check_stream((const uint8_t *)line, n);
}

static void
check_tokens(const uint8_t *data, size_t size)
{
	char tok[64];
	size_t i;

	if (size == 0 || size > 50)
		return;
	for (i = 0; i < size; i++)
		if (data[i] == ' ' || data[i] == '\r' || data[i] == '\n' ||
		    data[i] == '\0')
			return;
	memcpy(tok, data, size);
	tok[size] = '\0';
	try_line("PROXY TCP4 ", tok, " 192.0.2.1 1 2\r\n", AF_INET, 0);
	try_line("PROXY TCP4 192.0.2.1 ", tok, " 1 2\r\n", AF_INET, 1);
	try_line("PROXY TCP6 ", tok, " ::1 1 2\r\n", AF_INET6, 0);
	try_line("PROXY TCP6 ::1 ", tok, " 1 2\r\n", AF_INET6, 1);
	try_line("PROXY TCP4 192.0.2.1 192.0.2.2 ", tok, " 2\r\n", AF_INET, 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_stream(data, size);
	check_tokens(data, size);
	return 0;
}
