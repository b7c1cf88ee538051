/* SPDX-License-Identifier: ISC */
/*
 * fuzz_password.c - libFuzzer harness for the RFC 1929 codec
 * (auth/password_msg.c) and the password method (auth/password.c).
 *
 * For the request and reply parsers it checks, as fuzz_socks5.c does:
 *
 *  - prefix consistency: for growing k the first k bytes give NEED_MORE,
 *    then one verdict that never changes; an OK first appears exactly at
 *    k == used. Each prefix is parsed from the end of a heap block of
 *    its exact size, so ASan catches a read of byte k;
 *  - round trip: an OK request re-encodes to the same bytes, and one byte
 *    less of room makes the encoder fail.
 *
 * Then the input is fed, in pieces whose sizes the input chooses, to the
 * password method through auth.h: it must consume at most what it was
 * given, ask for a verdict at most once, answer with exactly one two-byte
 * reply, never consume after its verdict, and zero the password.
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/password) in `make check`.
 */
#include "config_auto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "password_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define PREFIX_MAX (PASSWORD_REQUEST_MAX + 8)

static void
check_request_prefixes(const uint8_t *data, size_t size)
{
	enum password_status final = PASSWORD_NEED_MORE;
	struct password_request r;
	size_t k, used = 0, max = size < PREFIX_MAX ? size : PREFIX_MAX;

	for (k = 0; k <= max; k++) {
		uint8_t *copy = malloc(k == 0 ? 1 : k);
		enum password_status st;
		size_t u = 0;

		FUZZ_CHECK(copy != NULL);
		memcpy(copy, data, k);
		st = password_parse_request(copy, k, &r, &u);
		if (final != PASSWORD_NEED_MORE) {
			/* A verdict never changes with more bytes. */
			FUZZ_CHECK(st == final);
			if (st == PASSWORD_OK)
				FUZZ_CHECK(u == used);
		} else if (st != PASSWORD_NEED_MORE) {
			final = st;
			used = u;
			if (st == PASSWORD_OK) {
				uint8_t enc[PASSWORD_REQUEST_MAX];
				size_t n;

				FUZZ_CHECK(u == k);
				FUZZ_CHECK(r.ulen >= 1 && r.plen >= 1);
				FUZZ_CHECK(r.uname[r.ulen] == 0);
				FUZZ_CHECK(r.passwd[r.plen] == 0);
				n = password_encode_request(enc, sizeof(enc),
				    r.uname, r.ulen, r.passwd, r.plen);
				FUZZ_CHECK(n == u);
				FUZZ_CHECK(memcmp(enc, data, n) == 0);
				FUZZ_CHECK(password_encode_request(enc, n - 1,
				    r.uname, r.ulen, r.passwd, r.plen) == 0);
			}
		}
		free(copy);
	}
}

static void
check_reply_prefixes(const uint8_t *data, size_t size)
{
	uint8_t st8 = 0, enc[2];
	size_t k, used;

	for (k = 0; k <= size && k <= 3; k++) {
		uint8_t *copy = malloc(k == 0 ? 1 : k);
		enum password_status st;

		FUZZ_CHECK(copy != NULL);
		memcpy(copy, data, k);
		st = password_parse_reply(copy, k, &st8, &used);
		if (k >= 1 && data[0] != PASSWORD_VERSION)
			FUZZ_CHECK(st == PASSWORD_ERR_VERSION);
		else if (k < 2)
			FUZZ_CHECK(st == PASSWORD_NEED_MORE);
		else {
			FUZZ_CHECK(st == PASSWORD_OK && used == 2);
			FUZZ_CHECK(password_encode_reply(enc, 2, st8) == 2);
			FUZZ_CHECK(memcmp(enc, data, 2) == 0);
		}
		free(copy);
	}
}

static void
drive_method(const uint8_t *data, size_t size)
{
	static const struct auth_params params;	/* no users: all fail */
	uint8_t buf[PREFIX_MAX * 2], out[AUTH_OUT_MAX];
	size_t have = 0, off = 0, outn = 0, chunk;
	enum auth_status st = AUTH_NEED_MORE;
	struct auth *a;
	int verifies = 0;

	if (size == 0)
		return;
	a = auth_new(0x02, &params);
	FUZZ_CHECK(a != NULL);
	/* First byte: chunk size for the pieces, and the verdict to give. */
	chunk = (size_t)(data[0] & 0x3f) + 1;
	off = 1;
	while (off < size || st == AUTH_VERIFY) {
		size_t n = size - off < chunk ? size - off : chunk, used = 0;

		if (have + n > sizeof(buf))
			break;
		memcpy(buf + have, data + off, n);
		have += n;
		off += n;
		if (st == AUTH_VERIFY) {
			const uint8_t *pw;
			size_t pl;

			pw = auth_password(a, &pl);
			FUZZ_CHECK(pl >= 1 && pl <= 255);
			FUZZ_CHECK(memchr(pw, 0, pl) == NULL);
			st = auth_verdict(a, (data[0] & 0x40) != 0);
			FUZZ_CHECK(st == AUTH_OK || st == AUTH_FAIL);
			pw = auth_password(a, &pl);
			FUZZ_CHECK(pl == 0);
			continue;
		}
		st = auth_step(a, buf, have, &used);
		FUZZ_CHECK(used <= have);
		if (st == AUTH_OK || st == AUTH_FAIL)
			FUZZ_CHECK(used == 0 || used <= PASSWORD_REQUEST_MAX);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (st == AUTH_VERIFY)
			verifies++;
		outn += auth_output(a, out + outn, sizeof(out) - outn);
		if (st == AUTH_OK || st == AUTH_FAIL) {
			size_t u2 = 0;

			/* Sticky: nothing more is consumed. */
			FUZZ_CHECK(auth_step(a, buf, have, &u2) == st);
			FUZZ_CHECK(u2 == 0);
			break;
		}
	}
	outn += auth_output(a, out + outn, sizeof(out) - outn);
	FUZZ_CHECK(verifies <= 1);
	if (st == AUTH_OK || st == AUTH_FAIL) {
		FUZZ_CHECK(outn == 2);
		FUZZ_CHECK(out[0] == PASSWORD_VERSION);
		FUZZ_CHECK((out[1] == 0) == (st == AUTH_OK));
	} else {
		FUZZ_CHECK(outn == 0);
	}
	auth_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request_prefixes(data, size);
	check_reply_prefixes(data, size);
	drive_method(data, size);
	return 0;
}
