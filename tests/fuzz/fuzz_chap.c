/* SPDX-License-Identifier: ISC */
/*
 * fuzz_chap.c - libFuzzer harness for the CHAP codec (auth/chap_msg.c) and
 * the server side of CHAP (auth/chap.c), through auth.h.
 *
 * The codec: prefix consistency (NEED_MORE until the one verdict, OK first
 * at k == used, each prefix at the end of an exact-size heap block) and
 * round trip (an OK message re-encodes to the same bytes).
 *
 * The method: the input is a small script for a client, so the fuzzer can
 * reach every state although the server's challenge is random:
 *
 *	byte 0      policy: bits 0-1 chap_mutual (0 allow, 1 require,
 *	            2 deny, 3 allow), bit 2 use a server-wide secret
 *	then ops    op & 3 == 0: raw bytes: LEN, LEN bytes (fed in pieces)
 *	            op & 3 == 1: a response: FLAGS (bit 0 name "alice",
 *	              bit 1 wrong secret, bit 2 add a client challenge of
 *	              LEN bytes read next, bit 3 reflect the server's
 *	              challenge, bit 4 name "mallory")
 *	            op & 3 == 2: the client's STATUS: one value byte
 *	            op & 3 == 3: ALGORITHMS: LEN, LEN algorithm bytes
 *
 * Invariants: the server's output is always whole CHAP messages; a
 * challenge has 16 octets; nobody gets AUTH_OK without having sent the
 * right HMAC of the current challenge under alice's secret; "require"
 * never succeeds without a client challenge; "deny" never sends a
 * RESPONSE; a server RESPONSE is the right HMAC of the client's challenge
 * under the right key; a verdict is sticky.
 */
#include "config_auto.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "chap_msg.h"
#include "userdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define SECRET "alice-secret"
#define SERVER_SECRET "server-secret"
#define PREFIX_MAX 1200

static void
no_report(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s:%d: %s\n", file, line, msg);
	abort();
}

static const struct userdb *
users(void)
{
	static struct userdb *db;

	if (db == NULL) {
		char text[256];
		struct chap_key k;
		size_t n;

		chap_key_from_secret(&k, (const uint8_t *)SECRET,
		    strlen(SECRET));
		n = userdb_format_line(text, sizeof(text), "alice",
		    "$5$salt$hash", &k);
		FUZZ_CHECK(n > 0);
		db = userdb_parse("fuzz", text, n, no_report, NULL);
		FUZZ_CHECK(db != NULL);
	}
	return db;
}

static void
check_codec(const uint8_t *data, size_t size)
{
	enum chap_status final = CHAP_NEED_MORE;
	struct chap_msg *m = malloc(sizeof(*m));
	size_t k, used = 0, max = size < PREFIX_MAX ? size : PREFIX_MAX;

	FUZZ_CHECK(m != NULL);
	for (k = 0; k <= max; k++) {
		uint8_t *copy = malloc(k == 0 ? 1 : k);
		enum chap_status st;
		size_t u = 0;

		FUZZ_CHECK(copy != NULL);
		memcpy(copy, data, k);
		st = chap_parse_msg(copy, k, m, &u);
		if (final != CHAP_NEED_MORE) {
			FUZZ_CHECK(st == final);
			if (st == CHAP_OK)
				FUZZ_CHECK(u == used);
		} else if (st != CHAP_NEED_MORE) {
			final = st;
			used = u;
			if (st == CHAP_OK) {
				uint8_t *enc = malloc(u);
				unsigned i;

				FUZZ_CHECK(u == k && enc != NULL);
				FUZZ_CHECK(m->version == CHAP_VERSION);
				for (i = 0; i < m->navas; i++)
					FUZZ_CHECK(m->avas[i].val >= copy &&
					    m->avas[i].val + m->avas[i].len <=
					    copy + k);
				FUZZ_CHECK(chap_encode_msg(enc, u, m->avas,
				    m->navas) == u);
				FUZZ_CHECK(memcmp(enc, data, u) == 0);
				FUZZ_CHECK(chap_encode_msg(enc, u - 1, m->avas,
				    m->navas) == 0);
				free(enc);
			}
		}
		free(copy);
	}
	free(m);
}

struct client {
	struct auth *a;
	struct auth_params params;
	struct chap_key server_key;
	enum auth_status st;
	uint8_t in[4096];		/* bytes the server has not consumed */
	size_t inlen;
	uint8_t challenge[CHAP_CHALLENGE_LEN];
	bool have_challenge;
	bool sent_right;		/* right response to this challenge */
	bool sent_cc;
	uint8_t cc[255];
	size_t cclen;
	/* Every challenge the script sent: the server may answer any. */
	uint8_t ccs[8][255];
	size_t cclens[8];
	size_t ncc;
	bool raw_fed;			/* raw bytes may have held others */
	bool got_response;
};

/* The script sent a challenge of its own (kept, up to 8). */
static void
note_cc(struct client *c)
{
	if (c->ncc < 8) {
		memcpy(c->ccs[c->ncc], c->cc, c->cclen);
		c->cclens[c->ncc] = c->cclen;
		c->ncc++;
	}
}

/* Check the server's output: whole messages; note its challenge. */
static void
take_output(struct client *c)
{
	uint8_t out[AUTH_OUT_MAX];
	size_t n = auth_output(c->a, out, sizeof(out)), off = 0;
	struct chap_msg *m = malloc(sizeof(*m));

	FUZZ_CHECK(m != NULL);
	while (off < n) {
		const struct chap_ava *ch, *resp, *st;
		size_t used = 0;

		FUZZ_CHECK(chap_parse_msg(out + off, n - off, m, &used) ==
		    CHAP_OK);
		off += used;
		ch = chap_msg_find(m, CHAP_ATT_CHALLENGE);
		if (ch != NULL) {
			FUZZ_CHECK(ch->len == CHAP_CHALLENGE_LEN);
			FUZZ_CHECK(!c->have_challenge);
			memcpy(c->challenge, ch->val, CHAP_CHALLENGE_LEN);
			c->have_challenge = true;
			FUZZ_CHECK(chap_algorithms_has(chap_msg_find(m,
			    CHAP_ATT_ALGORITHMS), CHAP_ALG_HMAC_MD5));
		}
		resp = chap_msg_find(m, CHAP_ATT_RESPONSE);
		if (resp != NULL) {
			uint8_t want[16];
			const char *key = c->params.chap_server_key != NULL ?
			    SERVER_SECRET : SECRET;

			st = chap_msg_find(m, CHAP_ATT_STATUS);
			FUZZ_CHECK(chap_status_is_success(st));
			FUZZ_CHECK(c->params.chap_mutual !=
			    AUTH_CHAP_MUTUAL_DENY);
			FUZZ_CHECK(c->sent_right);
			FUZZ_CHECK(resp->len == 16);
			/*
			 * The server must answer a challenge the client sent:
			 * one of the script's (whichever it kept), unless raw
			 * bytes, which may carry challenges too, came first.
			 */
			if (c->ncc > 0 && !c->raw_fed) {
				size_t k;
				bool match = false;

				for (k = 0; k < c->ncc && !match; k++) {
					FUZZ_CHECK(chap_hmac_md5((const uint8_t *)key,
					    strlen(key), c->ccs[k], c->cclens[k],
					    want) == 0);
					match = memcmp(resp->val, want, 16) == 0;
				}
				FUZZ_CHECK(match);
			}
			c->got_response = true;
		}
	}
	free(m);
}

/* Feed `len` bytes in pieces of `chunk`. */
static void
feed(struct client *c, const uint8_t *b, size_t len, size_t chunk)
{
	size_t off = 0;

	while (off < len && c->st == AUTH_NEED_MORE) {
		size_t n = len - off < chunk ? len - off : chunk, used = 0;

		if (c->inlen + n > sizeof(c->in))
			return;
		memcpy(c->in + c->inlen, b + off, n);
		c->inlen += n;
		off += n;
		c->st = auth_step(c->a, c->in, c->inlen, &used);
		FUZZ_CHECK(used <= c->inlen);
		FUZZ_CHECK(c->st != AUTH_VERIFY);
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		take_output(c);
	}
}

static void
send_msg(struct client *c, const struct chap_ava *avas, size_t n, size_t chunk)
{
	uint8_t buf[2 + 8 * 257];
	size_t len = chap_encode_msg(buf, sizeof(buf), avas, n);

	FUZZ_CHECK(len > 0);
	feed(c, buf, len, chunk);
}

static void
drive_method(const uint8_t *data, size_t size)
{
	struct client *c;
	size_t off = 1, chunk;

	if (size < 2)
		return;
	c = calloc(1, sizeof(*c));
	FUZZ_CHECK(c != NULL);
	c->params.db = users();
	c->params.chap_mutual = (data[0] & 3) == 1 ? AUTH_CHAP_MUTUAL_REQUIRE :
	    (data[0] & 3) == 2 ? AUTH_CHAP_MUTUAL_DENY : AUTH_CHAP_MUTUAL_ALLOW;
	if (data[0] & 4) {
		chap_key_from_secret(&c->server_key,
		    (const uint8_t *)SERVER_SECRET, strlen(SERVER_SECRET));
		c->params.chap_server_key = &c->server_key;
	}
	chunk = (size_t)(data[0] >> 3) + 1;
	c->a = auth_new(0x03, &c->params);
	FUZZ_CHECK(c->a != NULL);
	c->st = AUTH_NEED_MORE;

	while (off < size && c->st == AUTH_NEED_MORE) {
		uint8_t op = data[off++];
		size_t len;

		switch (op & 3) {
		case 0:
			if (off >= size)
				break;
			len = data[off++];
			if (len > size - off)
				len = size - off;
			c->raw_fed = true;
			feed(c, data + off, len, chunk);
			off += len;
			break;
		case 1: {
			struct chap_ava avas[3];
			uint8_t resp[16], flags;
			size_t n = 0;

			if (off >= size)
				break;
			flags = data[off++];
			if (flags & 1)
				avas[n++] = (struct chap_ava){
				    CHAP_ATT_USER_IDENTITY, 5,
				    (const uint8_t *)"alice" };
			else if (flags & 16)
				avas[n++] = (struct chap_ava){
				    CHAP_ATT_USER_IDENTITY, 7,
				    (const uint8_t *)"mallory" };
			FUZZ_CHECK(chap_hmac_md5((const uint8_t *)(flags & 2 ?
			    "wrong" : SECRET), flags & 2 ? 5 : strlen(SECRET),
			    c->challenge, sizeof(c->challenge), resp) == 0);
			avas[n++] = (struct chap_ava){ CHAP_ATT_RESPONSE, 16,
			    resp };
			if (flags & 8) {
				memcpy(c->cc, c->challenge, 16);
				c->cclen = 16;
				c->sent_cc = true;
				note_cc(c);
				avas[n++] = (struct chap_ava){
				    CHAP_ATT_CHALLENGE, 16, c->cc };
			} else if ((flags & 4) && off < size) {
				len = data[off++];
				if (len > size - off)
					len = size - off;
				memcpy(c->cc, data + off, len);
				c->cclen = len;
				c->sent_cc = true;
				note_cc(c);
				off += len;
				avas[n++] = (struct chap_ava){
				    CHAP_ATT_CHALLENGE, (uint8_t)len, c->cc };
			}
			/* Right only when this message carries it whole. */
			if (c->have_challenge && !(flags & 2) &&
			    ((flags & 1) || !(flags & 16)))
				c->sent_right = true;
			send_msg(c, avas, n, chunk);
			break;
		}
		case 2: {
			struct chap_ava st = { CHAP_ATT_STATUS, 1, NULL };

			if (off >= size)
				break;
			st.val = &data[off++];
			send_msg(c, &st, 1, chunk);
			break;
		}
		default: {
			struct chap_ava alg = { CHAP_ATT_ALGORITHMS, 0, NULL };

			if (off >= size)
				break;
			len = data[off++];
			if (len > size - off)
				len = size - off;
			alg.len = (uint8_t)len;
			alg.val = data + off;
			off += len;
			send_msg(c, &alg, 1, chunk);
			break;
		}
		}
	}
	if (c->st == AUTH_OK) {
		/*
		 * The heart of it: success needs the right response, from
		 * this script (raw bytes cannot guess a fresh challenge).
		 */
		FUZZ_CHECK(c->sent_right);
		FUZZ_CHECK(strcmp(auth_user(c->a), "alice") == 0);
		FUZZ_CHECK(auth_check_result(c->a) == AUTH_CHECK_OK);
		if (c->params.chap_mutual == AUTH_CHAP_MUTUAL_REQUIRE)
			FUZZ_CHECK(c->got_response && auth_mutual(c->a));
	}
	if (c->st == AUTH_OK || c->st == AUTH_FAIL) {
		size_t used = 1;

		FUZZ_CHECK(auth_step(c->a, c->in, c->inlen, &used) == c->st);
		FUZZ_CHECK(used == 0);
		FUZZ_CHECK(auth_output(c->a, c->in, sizeof(c->in)) == 0);
	}
	auth_free(c->a);
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_codec(data, size);
	drive_method(data, size);
	return 0;
}
