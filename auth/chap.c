/* SPDX-License-Identifier: ISC */
/*
 * chap.c - method 0x03, CHAP (draft-ietf-aft-socks-chap-01) with mutual
 * authentication, server side.
 *
 *   ALGS -----> RESPONSE -----> [CLIENT_STATUS] -----> done
 *        sends          checks,         (mutual only: the client's
 *        ALGORITHMS(85) sends STATUS    verdict on our RESPONSE)
 *        + CHALLENGE    [+ RESPONSE]
 *
 * Real clients merge and reorder: every attribute is accepted in every
 * message and in any order (PuTTY sends USER-IDENTITY with ALGORITHMS),
 * unknown attributes are ignored (the draft says so), and a name given
 * twice must be the same name. Every user gets a challenge, and an
 * unknown user, a user without a CHAP secret and a wrong response all
 * fail at the same step after the same HMAC work: no user-name probing.
 *
 * The response check is an HMAC-MD5 from precomputed key states: a few
 * microseconds, so it runs right here, on the loop.
 */
#include "config_auto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth_int.h"
#include "userdb.h"

/* Client messages before we give up on one that never gets to the point. */
#define CHAP_MAX_MESSAGES 8

enum chap_state {
	CHAP_S_ALGS = 0,		/* waiting for ALGORITHMS */
	CHAP_S_RESPONSE,		/* challenge sent, waiting for RESPONSE */
	CHAP_S_CLIENT_STATUS,		/* mutual: waiting for the client's STATUS */
};

struct chap {
	enum chap_state state;
	unsigned messages;
	bool have_user;
	bool have_client_challenge;
	uint8_t challenge[CHAP_CHALLENGE_LEN];
	uint8_t client_challenge[255];
	uint8_t client_challenge_len;
};

/* Stands in for unknown users so that they cost the same HMAC. */
static struct chap_key chap_dummy_key;
static bool chap_dummy_ready;

static int
chap_start(struct auth *a)
{
	struct chap *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	if (!chap_dummy_ready) {
		uint8_t secret[32];

		if (RAND_bytes(secret, sizeof(secret)) != 1) {
			free(c);
			return -1;
		}
		chap_key_from_secret(&chap_dummy_key, secret, sizeof(secret));
		OPENSSL_cleanse(secret, sizeof(secret));
		chap_dummy_ready = true;
	}
	a->priv = c;
	return 0;
}

static void
chap_free(struct auth *a)
{
	if (a->priv != NULL) {
		OPENSSL_cleanse(a->priv, sizeof(struct chap));
		free(a->priv);
		a->priv = NULL;
	}
}

static void
chap_send(struct auth *a, const struct chap_ava *avas, size_t n)
{
	uint8_t buf[64 + 2 * 255];
	size_t len = chap_encode_msg(buf, sizeof(buf), avas, n);

	if (len > 0)
		(void)auth_out(a, buf, len);
}

/* Answer STATUS(failure) and fail. */
static enum auth_status
chap_refuse(struct auth *a, const char *reason)
{
	static const uint8_t failure = CHAP_STATUS_FAILURE;
	struct chap_ava ava = { CHAP_ATT_STATUS, 1, &failure };

	chap_send(a, &ava, 1);
	return auth_fail(a, reason);
}

/*
 * Take USER-IDENTITY, CHALLENGE and the count of RESPONSEs from any
 * message. Returns NULL, or the reason to refuse.
 */
static const char *
chap_take_common(struct auth *a, struct chap *c, const struct chap_msg *m)
{
	unsigned i;

	for (i = 0; i < m->navas; i++) {
		const struct chap_ava *v = &m->avas[i];

		switch (v->att) {
		case CHAP_ATT_USER_IDENTITY:
			if (v->len == 0 || memchr(v->val, 0, v->len) != NULL)
				return "bad-user-identity";
			if (c->have_user) {
				/* A second name must be the same name. */
				if (strlen(a->user) != v->len ||
				    memcmp(a->user, v->val, v->len) != 0)
					return "user-identity-changed";
				break;
			}
			memcpy(a->user, v->val, v->len);
			a->user[v->len] = '\0';
			c->have_user = true;
			break;
		case CHAP_ATT_CHALLENGE:
			if (v->len == 0)
				return "bad-client-challenge";
			if (c->have_client_challenge &&
			    (c->client_challenge_len != v->len ||
			    memcmp(c->client_challenge, v->val, v->len) != 0))
				return "client-challenge-changed";
			memcpy(c->client_challenge, v->val, v->len);
			c->client_challenge_len = v->len;
			c->have_client_challenge = true;
			break;
		default:
			/*
			 * STATUS, TEXT-MESSAGE, CHARSET, IDENTIFIER (unused
			 * by HMAC-MD5) and unknown attributes: ignored.
			 * ALGORITHMS and RESPONSE are the callers'.
			 */
			break;
		}
	}
	return NULL;
}

static enum auth_status
chap_on_algorithms(struct auth *a, struct chap *c, const struct chap_msg *m)
{
	static const uint8_t alg = CHAP_ALG_HMAC_MD5;
	struct chap_ava out[2];
	const char *why;
	bool any = false, md5 = false;
	unsigned i;

	for (i = 0; i < m->navas; i++) {
		if (m->avas[i].att != CHAP_ATT_ALGORITHMS)
			continue;
		any = true;
		if (chap_algorithms_has(&m->avas[i], CHAP_ALG_HMAC_MD5))
			md5 = true;
	}
	if (chap_msg_find(m, CHAP_ATT_RESPONSE) != NULL)
		return chap_refuse(a, "response-before-challenge");
	if (!any)
		return chap_refuse(a, "no-algorithms");
	if (!md5)
		return chap_refuse(a, "no-common-algorithm");
	if ((why = chap_take_common(a, c, m)) != NULL)
		return chap_refuse(a, why);
	if (RAND_bytes(c->challenge, sizeof(c->challenge)) != 1)
		return chap_refuse(a, "no-randomness");
	/* Merged, as PicoSOCKS5 does: every known client copes. */
	out[0] = (struct chap_ava){ CHAP_ATT_ALGORITHMS, 1, &alg };
	out[1] = (struct chap_ava){ CHAP_ATT_CHALLENGE, sizeof(c->challenge),
	    c->challenge };
	chap_send(a, out, 2);
	c->state = CHAP_S_RESPONSE;
	return AUTH_NEED_MORE;
}

static enum auth_status
chap_on_response(struct auth *a, struct chap *c, const struct chap_msg *m)
{
	static const uint8_t success = CHAP_STATUS_SUCCESS;
	const struct chap_key *key, *skey;
	const struct chap_ava *resp;
	uint8_t want[CHAP_HMAC_MD5_LEN], mine[CHAP_HMAC_MD5_LEN];
	struct chap_ava out[2];
	const char *why;
	bool ok;

	if (chap_msg_count(m, CHAP_ATT_RESPONSE) > 1)
		return chap_refuse(a, "several-responses");
	if ((why = chap_take_common(a, c, m)) != NULL)
		return chap_refuse(a, why);
	if ((resp = chap_msg_find(m, CHAP_ATT_RESPONSE)) == NULL)
		return AUTH_NEED_MORE;	/* e.g. USER-IDENTITY on its own */
	if (!c->have_user)
		return chap_refuse(a, "no-user-identity");

	/*
	 * The same work whoever the user is: a missing key is replaced by
	 * the dummy one, and the comparison is constant-time.
	 */
	key = a->p->db != NULL ? userdb_chap_key(a->p->db, a->user) : NULL;
	chap_key_hmac(key != NULL ? key : &chap_dummy_key, c->challenge,
	    sizeof(c->challenge), want);
	ok = chap_ct_equal(want, resp->len == CHAP_HMAC_MD5_LEN ? resp->val :
	    want, CHAP_HMAC_MD5_LEN) && resp->len == CHAP_HMAC_MD5_LEN &&
	    key != NULL;
	OPENSSL_cleanse(want, sizeof(want));
	a->check = ok ? AUTH_CHECK_OK : AUTH_CHECK_BAD;
	if (!ok)
		return chap_refuse(a, key == NULL ? "unknown-user" :
		    "bad-response");

	if (!c->have_client_challenge || a->p->chap_mutual ==
	    AUTH_CHAP_MUTUAL_DENY) {
		if (a->p->chap_mutual == AUTH_CHAP_MUTUAL_REQUIRE)
			return chap_refuse(a, "mutual-required");
		/* deny: the client's challenge is ignored, STATUS only. */
		out[0] = (struct chap_ava){ CHAP_ATT_STATUS, 1, &success };
		chap_send(a, out, 1);
		return AUTH_OK;
	}
	/* Reflection: never answer our own challenge for the client. */
	if (c->client_challenge_len == sizeof(c->challenge) &&
	    memcmp(c->client_challenge, c->challenge, sizeof(c->challenge)) == 0)
		return chap_refuse(a, "reflected-challenge");
	skey = a->p->chap_server_key != NULL ? a->p->chap_server_key : key;
	chap_key_hmac(skey, c->client_challenge, c->client_challenge_len, mine);
	out[0] = (struct chap_ava){ CHAP_ATT_STATUS, 1, &success };
	out[1] = (struct chap_ava){ CHAP_ATT_RESPONSE, sizeof(mine), mine };
	chap_send(a, out, 2);
	OPENSSL_cleanse(mine, sizeof(mine));
	a->mutual = true;
	c->state = CHAP_S_CLIENT_STATUS;
	return AUTH_NEED_MORE;
}

static enum auth_status
chap_on_client_status(struct auth *a, const struct chap_msg *m)
{
	const struct chap_ava *st = chap_msg_find(m, CHAP_ATT_STATUS);

	if (st == NULL)
		return AUTH_NEED_MORE;
	if (!chap_status_is_success(st))
		return auth_fail(a, "client-rejected-server");
	return AUTH_OK;
}

static enum auth_status
chap_step(struct auth *a, const uint8_t *in, size_t len, size_t *used)
{
	struct chap *c = a->priv;
	enum auth_status st = AUTH_NEED_MORE;

	*used = 0;
	/* One message at a time; whatever follows the last one stays. */
	while (st == AUTH_NEED_MORE) {
		struct chap_msg m;
		enum chap_status cs;
		size_t n = 0;

		cs = chap_parse_msg(in + *used, len - *used, &m, &n);
		if (cs == CHAP_NEED_MORE)
			break;
		if (cs != CHAP_OK)
			return chap_refuse(a, "bad-version");
		*used += n;
		if (++c->messages > CHAP_MAX_MESSAGES)
			return chap_refuse(a, "too-many-messages");
		switch (c->state) {
		case CHAP_S_ALGS:
			st = chap_on_algorithms(a, c, &m);
			break;
		case CHAP_S_RESPONSE:
			st = chap_on_response(a, c, &m);
			break;
		case CHAP_S_CLIENT_STATUS:
			st = chap_on_client_status(a, &m);
			break;
		}
	}
	return st;
}

const struct auth_method auth_method_chap = {
	.name = "chap",
	.id = 0x03,
	.start = chap_start,
	.step = chap_step,
	.verdict = NULL,
	.free = chap_free,
};
