/* SPDX-License-Identifier: ISC */
/*
 * fuzz_metrics_http.c - libFuzzer harness for the metrics endpoint
 * (src/metrics.h): the HTTP request heads it parses (metrics_http_parse()
 * and the answer each earns, metrics_http_status()) and the text it
 * renders from counters a worker may have filled with anything
 * (metrics_format()).
 *
 * Byte 0 chooses: bit 7 clear, a request head arriving in pieces of
 * (byte 0) + 1 bytes; bit 7 set, the rest of the input (repeated) is the
 * counters.
 *
 * Heads, against what the parser promises:
 *  - prefix consistency: for growing k the first k bytes give NEED_MORE,
 *    then one verdict that never changes (and DONE's length with it);
 *    a verdict first comes with the '\n' that ends a line, or at
 *    METRICS_HEAD_MAX bytes (TOO_LARGE, and only then); NEED_MORE never
 *    at METRICS_HEAD_MAX bytes or more. Every k up to PREFIX_ALL is
 *    tried, beyond it each '\n' with and without it, and the k around
 *    the limit (enough to see a verdict that came elsewhere: it shows
 *    before the next '\n'). Each prefix is parsed from a heap
 *    block of its exact size, so ASan catches a read of byte k;
 *  - the server's loop: the pieces go into a METRICS_HEAD_MAX buffer as
 *    metrics_server.c's client_read() fills it (at most the room left),
 *    parsed after each; the first verdict is the whole input's, and a
 *    full buffer always has one (the server relies on it: BUG_ON);
 *  - DONE: the head ends with an empty line, within the limit; it holds
 *    no control byte but CR before LF, LF and tab, no DEL; the request
 *    line (the first non-empty one) says GET or HEAD exactly when the
 *    parse does, ends with the version parsed, and a /metrics target
 *    is "/metrics" alone or with a query, after an authority or not;
 *  - the status code is one of 200, 400, 404, 405, 431, 505, and 200
 *    only for GET or HEAD of /metrics in HTTP/1.x.
 *
 * Counters: any values render to a text within METRICS_TEXT_MAX that
 * tests/fuzz/expo_check.h passes (names, escapes, one HELP and TYPE per
 * family, counters' _total, histograms' rising buckets and _count).
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/metrics_http) in `make check`.
 */
#include "config_auto.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expo_check.h"
#include "metrics.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* Prefixes up to this length are all tried. */
#define PREFIX_ALL	300
/* Input looked at: the limit and a little more. */
#define INPUT_MAX	(METRICS_HEAD_MAX + 64)

static enum metrics_http
parse_exact(const uint8_t *p, size_t k, struct metrics_request *rq,
    size_t *used)
{
	char *copy = malloc(k == 0 ? 1 : k);
	enum metrics_http st;

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, p, k);
	st = metrics_http_parse(copy, k, rq, used);
	free(copy);
	FUZZ_CHECK(st == METRICS_HTTP_NEED_MORE || st == METRICS_HTTP_DONE ||
	    st == METRICS_HTTP_MALFORMED || st == METRICS_HTTP_TOO_LARGE);
	if (st != METRICS_HTTP_DONE)
		FUZZ_CHECK(*used == 0);
	return st;
}

/* Is prefix length k worth trying beyond PREFIX_ALL? */
static bool
interesting(const uint8_t *p, size_t n, size_t k)
{
	if (k <= PREFIX_ALL || k == n)
		return true;
	if (k + 2 >= METRICS_HEAD_MAX && k <= METRICS_HEAD_MAX + 2)
		return true;
	/*
	 * With a '\n', and just before it: a verdict that came anywhere
	 * else shows at the next such pair as a verdict before its '\n'.
	 */
	return p[k - 1] == '\n' || (k < n && p[k] == '\n');
}

static void
check_prefixes(const uint8_t *p, size_t n, enum metrics_http whole,
    size_t whole_used)
{
	enum metrics_http verdict = METRICS_HTTP_NEED_MORE, st;
	struct metrics_request rq;
	size_t k, used, first = 0;

	for (k = 0; k <= n; k++) {
		if (!interesting(p, n, k))
			continue;
		st = parse_exact(p, k, &rq, &used);
		if (k >= METRICS_HEAD_MAX)
			FUZZ_CHECK(st != METRICS_HTTP_NEED_MORE);
		if (verdict != METRICS_HTTP_NEED_MORE) {
			FUZZ_CHECK(st == verdict);
			if (st == METRICS_HTTP_DONE)
				FUZZ_CHECK(used == first);
			continue;
		}
		if (st == METRICS_HTTP_NEED_MORE)
			continue;
		verdict = st;
		first = k;
		if (st == METRICS_HTTP_TOO_LARGE) {
			FUZZ_CHECK(k == METRICS_HEAD_MAX);
		} else {
			FUZZ_CHECK(k > 0 && p[k - 1] == '\n');
			if (st == METRICS_HTTP_DONE)
				FUZZ_CHECK(used == k);
		}
	}
	FUZZ_CHECK(verdict == whole);
	if (whole == METRICS_HTTP_DONE)
		FUZZ_CHECK(first == whole_used);
}

/* The server's reading: pieces of `chunk` into a METRICS_HEAD_MAX buffer. */
static void
check_server_loop(const uint8_t *p, size_t n, size_t chunk,
    enum metrics_http whole, size_t whole_used)
{
	static char in[METRICS_HEAD_MAX];
	struct metrics_request rq;
	enum metrics_http st = METRICS_HTTP_NEED_MORE;
	size_t inlen = 0, off = 0, used = 0;

	while (off < n && st == METRICS_HTTP_NEED_MORE) {
		size_t r = n - off;

		if (r > chunk)
			r = chunk;
		if (r > sizeof(in) - inlen)
			r = sizeof(in) - inlen;
		FUZZ_CHECK(r > 0);
		memcpy(in + inlen, p + off, r);
		inlen += r;
		off += r;
		st = metrics_http_parse(in, inlen, &rq, &used);
		/* client_read() BUG_ONs a full buffer without a verdict. */
		if (inlen == sizeof(in))
			FUZZ_CHECK(st != METRICS_HTTP_NEED_MORE);
	}
	FUZZ_CHECK(st == whole);
	if (st == METRICS_HTTP_DONE)
		FUZZ_CHECK(used == whole_used);
}

/* What a whole head must be, when the parser says DONE. */
static void
check_done(const uint8_t *p, size_t used, const struct metrics_request *rq)
{
	const uint8_t *line = p, *end, *t0, *t1, *path, *sep, *q;
	size_t i, llen;
	unsigned hosts;

	FUZZ_CHECK(used >= 2 && used <= METRICS_HEAD_MAX && p[used - 1] == '\n');
	FUZZ_CHECK(p[used - 2] == '\n' ||
	    (used >= 3 && p[used - 2] == '\r' && p[used - 3] == '\n'));
	for (i = 0; i < used; i++) {
		FUZZ_CHECK(p[i] != 0x7f);
		if (p[i] == '\r')
			FUZZ_CHECK(i + 1 < used && p[i + 1] == '\n');
		else if (p[i] < 0x20)
			FUZZ_CHECK(p[i] == '\n' || p[i] == '\t');
	}
	/* The request line: the first that is not empty. */
	while (*line == '\r' || *line == '\n')
		line++;
	end = memchr(line, '\n', used - (size_t)(line - p));
	FUZZ_CHECK(end != NULL);
	llen = (size_t)(end - line);
	if (llen > 0 && line[llen - 1] == '\r')
		llen--;
	FUZZ_CHECK(llen >= 12);		/* "M / HTTP/1.1" at least */
	FUZZ_CHECK(memcmp(line + llen - 8, "HTTP/", 5) == 0);
	FUZZ_CHECK(rq->major == (unsigned)(line[llen - 3] - '0'));
	FUZZ_CHECK(rq->minor == (unsigned)(line[llen - 1] - '0'));
	FUZZ_CHECK((rq->method == METRICS_METHOD_GET) ==
	    (memcmp(line, "GET ", 4) == 0));
	FUZZ_CHECK((rq->method == METRICS_METHOD_HEAD) ==
	    (llen > 5 && memcmp(line, "HEAD ", 5) == 0));
	/* The target: between the two spaces. */
	t0 = memchr(line, ' ', llen);
	FUZZ_CHECK(t0 != NULL);
	t0++;
	t1 = line + llen - 9;
	FUZZ_CHECK(t1 > t0 && *t1 == ' ');
	for (i = 0; t0 + i < t1; i++)
		FUZZ_CHECK(t0[i] > 0x20 && t0[i] < 0x7f);
	/* Its path: all of an origin-form target ("/..."), or what follows
	 * the authority of an absolute-form one ("http://host/..."). */
	path = t0;
	sep = memmem(t0, (size_t)(t1 - t0), "://", 3);
	if (*t0 != '/' && sep != NULL && ((sep - t0 == 4 &&
	    strncasecmp((const char *)t0, "http", 4) == 0) ||
	    (sep - t0 == 5 && strncasecmp((const char *)t0, "https", 5) == 0))) {
		path = sep + 3;
		while (path < t1 && *path != '/' && *path != '?')
			path++;
	}
	FUZZ_CHECK(rq->metrics_path == (t1 - path >= 8 &&
	    memcmp(path, "/metrics", 8) == 0 && (path + 8 == t1 ||
	    path[8] == '?')));
	/* Host fields, counted up to 2. */
	for (hosts = 0, q = end + 1; q < p + used; q = end + 1) {
		end = memchr(q, '\n', used - (size_t)(q - p));
		FUZZ_CHECK(end != NULL);
		if (end - q >= 5 && strncasecmp((const char *)q, "host:", 5) == 0)
			hosts++;
	}
	FUZZ_CHECK(rq->hosts == (hosts < 2 ? hosts : 2));
}

static void
check_head(const uint8_t *data, size_t size)
{
	size_t chunk = (size_t)(data[0] & 0x7f) + 1, n = size - 1, used = 0;
	const uint8_t *p = data + 1;
	enum metrics_http whole;
	struct metrics_request rq;
	int code;

	if (n > INPUT_MAX)
		n = INPUT_MAX;
	whole = parse_exact(p, n, &rq, &used);
	code = metrics_http_status(whole, &rq);
	if (whole == METRICS_HTTP_NEED_MORE) {
		FUZZ_CHECK(code == 0 && n < METRICS_HEAD_MAX);
	} else {
		FUZZ_CHECK(code == 200 || code == 400 || code == 404 ||
		    code == 405 || code == 431 || code == 505);
		FUZZ_CHECK((code == 431) == (whole == METRICS_HTTP_TOO_LARGE));
		if (whole == METRICS_HTTP_MALFORMED)
			FUZZ_CHECK(code == 400);
	}
	if (whole == METRICS_HTTP_DONE) {
		check_done(p, used, &rq);
		if (code == 200)
			FUZZ_CHECK(rq.major == 1 && rq.metrics_path &&
			    (rq.method == METRICS_METHOD_GET ||
			    rq.method == METRICS_METHOD_HEAD));
		if (rq.major != 1)
			FUZZ_CHECK(code == 505);
	}
	check_prefixes(p, n, whole, used);
	check_server_loop(p, n, chunk, whole, used);
}

static void
check_render(const uint8_t *data, size_t size)
{
	static char text[METRICS_TEXT_MAX];
	struct status_snapshot *s = malloc(sizeof(*s));
	uint8_t *b = (uint8_t *)s;
	size_t i, len;
	const char *why;

	FUZZ_CHECK(s != NULL);
	for (i = 0; i < sizeof(*s); i++)
		b[i] = size > 1 ? data[1 + i % (size - 1)] : 0;
	len = metrics_format(s, text, sizeof(text));
	FUZZ_CHECK(len > 0 && len < sizeof(text) && strlen(text) == len);
	why = expo_check(text, len);
	if (why != NULL) {
		fprintf(stderr, "fuzz_metrics_http: %s\n", why);
		abort();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 0x80)
		check_render(data, size);
	else
		check_head(data, size);
	return 0;
}
