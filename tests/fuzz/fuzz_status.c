/* SPDX-License-Identifier: ISC */
/*
 * fuzz_status.c - libFuzzer harness for what the status module reads and
 * writes byte by byte (src/status.h): the status socket's request lines
 * (status_request_parse(), which the server parses its input with) and
 * the JSON escaping of the user names it reports (status_json_escape(),
 * fed names that any worker may have written into the shared mapping).
 *
 * Requests, against a model (a request is any text up to a '\n'):
 *
 *  - prefix consistency: for growing k the first k bytes give NEED_MORE,
 *    then one verdict that never changes; OK first appears with
 *    used == k (the '\n' just arrived), TOO_LONG exactly at k ==
 *    STATUS_REQUEST_MAX. At the end of the stream a non-empty prefix
 *    without a '\n' is one request of k bytes. Each prefix is parsed from
 *    the end of a heap block of its exact size, so ASan catches a read of
 *    byte k;
 *  - the server's loop: byte 0 chooses the size of the pieces the rest
 *    arrives in, which go through a buffer of STATUS_REQUEST_MAX bytes as
 *    status_server.c's client_read() keeps it. The requests answered
 *    must be exactly the model's lines, in order, up to the first line
 *    longer than the buffer, where the connection is closed; at the end a
 *    last line without its '\n' is answered too.
 *
 * Names: the escape of any bytes stays within 6 * len bytes, holds no
 * raw control byte, '"' or unescaped '\\', is valid UTF-8, and reads back
 * (JSON unescaped) as the input with every byte of an invalid or
 * non-shortest UTF-8 sequence as U+FFFD.
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/status) in `make check`.
 */
#include "config_auto.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define PREFIX_MAX	(STATUS_REQUEST_MAX + 8)
/* Bytes of input the server loop and the escaper look at. */
#define INPUT_MAX	8192

static void
check_prefixes(const uint8_t *data, size_t size)
{
	enum status_request final = STATUS_REQUEST_NEED_MORE;
	size_t k, used = 0, max = size < PREFIX_MAX ? size : PREFIX_MAX;

	for (k = 0; k <= max; k++) {
		char *copy = malloc(k == 0 ? 1 : k);
		enum status_request st, ste;
		size_t u = 99, ue = 99;

		FUZZ_CHECK(copy != NULL);
		memcpy(copy, data, k);
		st = status_request_parse(copy, k, false, &u);
		ste = status_request_parse(copy, k, true, &ue);
		FUZZ_CHECK(st == STATUS_REQUEST_NEED_MORE ||
		    st == STATUS_REQUEST_OK || st == STATUS_REQUEST_TOO_LONG);
		if (st != STATUS_REQUEST_OK)
			FUZZ_CHECK(u == 0);
		if (final != STATUS_REQUEST_NEED_MORE) {
			/* A verdict never changes with more bytes. */
			FUZZ_CHECK(st == final);
			if (st == STATUS_REQUEST_OK)
				FUZZ_CHECK(u == used);
		} else if (st != STATUS_REQUEST_NEED_MORE) {
			final = st;
			used = u;
			if (st == STATUS_REQUEST_OK) {
				/* The line ends at the '\n' that just came. */
				FUZZ_CHECK(u == k && copy[k - 1] == '\n');
				FUZZ_CHECK(memchr(copy, '\n', k - 1) == NULL);
				FUZZ_CHECK(k <= STATUS_REQUEST_MAX);
			} else {
				FUZZ_CHECK(k == STATUS_REQUEST_MAX);
				FUZZ_CHECK(memchr(copy, '\n', k) == NULL);
			}
		} else {
			FUZZ_CHECK(memchr(copy, '\n', k) == NULL);
			FUZZ_CHECK(k < STATUS_REQUEST_MAX);
		}
		/* The end of the stream makes a last line a request. */
		if (st == STATUS_REQUEST_NEED_MORE && k > 0)
			FUZZ_CHECK(ste == STATUS_REQUEST_OK && ue == k);
		else
			FUZZ_CHECK(ste == st && ue == u);
		free(copy);
	}
}

/*
 * The model: the requests a stream holds. Returns how many whole lines
 * come before the first one longer than the server's buffer, with their
 * lengths; *closed when there is such a line. A last line without its
 * '\n' is a request when it is not empty and fits.
 */
static size_t
model_requests(const uint8_t *p, size_t n, size_t *lens, size_t cap,
    bool *closed)
{
	size_t off = 0, count = 0;

	*closed = false;
	while (off < n) {
		const uint8_t *nl = memchr(p + off, '\n', n - off);
		size_t len = nl != NULL ? (size_t)(nl - (p + off)) + 1 :
		    n - off;

		/* No '\n' among the first STATUS_REQUEST_MAX bytes. */
		if ((nl != NULL && len > STATUS_REQUEST_MAX) ||
		    (nl == NULL && len >= STATUS_REQUEST_MAX)) {
			*closed = true;
			break;
		}
		FUZZ_CHECK(count < cap);
		lens[count++] = len;
		off += len;
	}
	return count;
}

/* The server's reading, as client_read() does it, in pieces of `chunk`. */
static void
check_server_loop(const uint8_t *data, size_t size)
{
	static size_t want[INPUT_MAX];
	char in[STATUS_REQUEST_MAX] = { 0 };	/* gcc -O2 cannot see it is written first */
	size_t inlen = 0, off, chunk, nwant, got = 0, pos = 0, used;
	const uint8_t *p;
	enum status_request rq;
	bool closed = false, want_closed;

	if (size == 0)
		return;
	chunk = (size_t)data[0] + 1;
	p = data + 1;
	size = size - 1 < INPUT_MAX ? size - 1 : INPUT_MAX;
	nwant = model_requests(p, size, want, INPUT_MAX, &want_closed);

	for (off = 0; off < size && !closed; ) {
		size_t n = size - off;

		/* read() gets at most the room the buffer has left. */
		if (n > chunk)
			n = chunk;
		if (n > sizeof(in) - inlen)
			n = sizeof(in) - inlen;
		FUZZ_CHECK(n > 0);
		memcpy(in + inlen, p + off, n);
		inlen += n;
		off += n;
		while ((rq = status_request_parse(in, inlen, false, &used)) ==
		    STATUS_REQUEST_OK) {
			FUZZ_CHECK(used >= 1 && used <= inlen);
			FUZZ_CHECK(got < nwant && used == want[got]);
			FUZZ_CHECK(memcmp(in, p + pos, used) == 0);
			pos += used;
			got++;
			memmove(in, in + used, inlen - used);
			inlen -= used;
		}
		if (rq == STATUS_REQUEST_TOO_LONG)
			closed = true;
	}
	if (!closed && status_request_parse(in, inlen, true, &used) ==
	    STATUS_REQUEST_OK) {
		FUZZ_CHECK(used == inlen);
		FUZZ_CHECK(got < nwant && used == want[got]);
		FUZZ_CHECK(memcmp(in, p + pos, used) == 0);
		got++;
		pos += used;
	}
	FUZZ_CHECK(closed == want_closed);
	FUZZ_CHECK(got == nwant);
	if (!closed)
		FUZZ_CHECK(pos == size);
}

/* The code point of a whole, shortest-form UTF-8 sequence at p, or -1. */
static long
utf8_at(const uint8_t *p, size_t n, size_t *len)
{
	uint32_t cp;
	size_t k, want;

	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		want = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		want = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		want = 4, cp = p[0] & 0x07;
	else
		return -1;
	if (want > n)
		return -1;
	for (k = 1; k < want; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((want == 3 && cp < 0x800) || (want == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = want;
	return (long)cp;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
check_escape(const uint8_t *data, size_t size)
{
	static const uint8_t fffd[3] = { 0xef, 0xbf, 0xbd };
	size_t len = size < 1024 ? size : 1024, n, i = 0, o = 0, sl;
	char *out = malloc(6 * len + 1);
	const uint8_t *e;

	FUZZ_CHECK(out != NULL);
	n = status_json_escape(out, (const char *)data, len);
	FUZZ_CHECK(n <= 6 * len);
	FUZZ_CHECK(out[n] == '\0');
	e = (const uint8_t *)out;
	/* Read it back as a JSON string's inside, against the input. */
	while (o < n) {
		long cp;

		if (e[o] == '\\') {
			FUZZ_CHECK(o + 1 < n);
			FUZZ_CHECK(i < len);
			if (e[o + 1] == '"' || e[o + 1] == '\\') {
				FUZZ_CHECK(data[i] == e[o + 1]);
				o += 2;
			} else {
				int h, l;

				FUZZ_CHECK(e[o + 1] == 'u' && o + 6 <= n);
				FUZZ_CHECK(e[o + 2] == '0' && e[o + 3] == '0');
				h = hexval(e[o + 4]);
				l = hexval(e[o + 5]);
				FUZZ_CHECK(h >= 0 && l >= 0);
				FUZZ_CHECK(data[i] == (uint8_t)(h << 4 | l));
				FUZZ_CHECK(data[i] < 0x20 || data[i] == 0x7f);
				o += 6;
			}
			i++;
			continue;
		}
		/* Raw: no control byte, no quote; valid UTF-8. */
		FUZZ_CHECK(e[o] >= 0x20 && e[o] != 0x7f && e[o] != '"');
		cp = utf8_at(e + o, n - o, &sl);
		FUZZ_CHECK(cp >= 0);
		FUZZ_CHECK(i < len);
		if (sl == 3 && memcmp(e + o, fffd, 3) == 0 &&
		    (len - i < 3 || memcmp(data + i, fffd, 3) != 0)) {
			size_t il;

			/* One input byte that starts no valid sequence. */
			FUZZ_CHECK(utf8_at(data + i, len - i, &il) < 0);
			i++;
		} else {
			FUZZ_CHECK(i + sl <= len);
			FUZZ_CHECK(memcmp(e + o, data + i, sl) == 0);
			i += sl;
		}
		o += sl;
	}
	FUZZ_CHECK(i == len);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_prefixes(data, size);
	check_server_loop(data, size);
	check_escape(data, size);
	return 0;
}
