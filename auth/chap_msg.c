/* SPDX-License-Identifier: ISC */
/*
 * chap_msg.c - see chap_msg.h.
 */
#include "config_auto.h"

#include <string.h>

/*
 * The precomputed HMAC key needs MD5's chaining state, which only the
 * low-level MD5 API exposes (deprecated in OpenSSL 3, not removed; the
 * MD5_CTX layout is public). EVP cannot resume from a saved state.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>

#include "chap_msg.h"

enum chap_status
chap_parse_msg(const uint8_t *buf, size_t len, struct chap_msg *out,
    size_t *used)
{
	size_t off;
	unsigned i;

	if (len < 1)
		return CHAP_NEED_MORE;
	if (buf[0] != CHAP_VERSION)
		return CHAP_ERR_VERSION;
	if (len < 2)
		return CHAP_NEED_MORE;
	out->version = buf[0];
	out->navas = buf[1];
	off = 2;
	for (i = 0; i < out->navas; i++) {
		if (len - off < 2)
			return CHAP_NEED_MORE;
		out->avas[i].att = buf[off];
		out->avas[i].len = buf[off + 1];
		off += 2;
		if (len - off < out->avas[i].len)
			return CHAP_NEED_MORE;
		out->avas[i].val = buf + off;
		off += out->avas[i].len;
	}
	*used = off;
	return CHAP_OK;
}

size_t
chap_encode_msg(uint8_t *buf, size_t cap, const struct chap_ava *avas,
    size_t n)
{
	size_t off = 2, i;

	if (n > CHAP_MAX_AVAS || cap < 2)
		return 0;
	for (i = 0; i < n; i++) {
		if (avas[i].val == NULL && avas[i].len != 0)
			return 0;
		if (cap - off < 2u + avas[i].len)
			return 0;
		buf[off] = avas[i].att;
		buf[off + 1] = avas[i].len;
		if (avas[i].len > 0)
			memcpy(buf + off + 2, avas[i].val, avas[i].len);
		off += 2u + avas[i].len;
	}
	buf[0] = CHAP_VERSION;
	buf[1] = (uint8_t)n;
	return off;
}

const struct chap_ava *
chap_msg_find(const struct chap_msg *m, uint8_t att)
{
	unsigned i;

	for (i = 0; i < m->navas; i++)
		if (m->avas[i].att == att)
			return &m->avas[i];
	return NULL;
}

unsigned
chap_msg_count(const struct chap_msg *m, uint8_t att)
{
	unsigned i, n = 0;

	for (i = 0; i < m->navas; i++)
		if (m->avas[i].att == att)
			n++;
	return n;
}

bool
chap_status_is_success(const struct chap_ava *status)
{
	unsigned i;

	if (status == NULL || status->len == 0)
		return false;
	for (i = 0; i < status->len; i++)
		if (status->val[i] != 0)
			return false;
	return true;
}

bool
chap_algorithms_has(const struct chap_ava *algorithms, uint8_t alg)
{
	unsigned i;

	if (algorithms == NULL)
		return false;
	for (i = 0; i < algorithms->len; i++)
		if (algorithms->val[i] == alg)
			return true;
	return false;
}

const char *
chap_status_str(enum chap_status st)
{
	switch (st) {
	case CHAP_OK:
		return "ok";
	case CHAP_NEED_MORE:
		return "need more bytes";
	case CHAP_ERR_VERSION:
		return "bad CHAP version";
	}
	return "unknown status";
}

int
chap_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t datalen, uint8_t out[CHAP_HMAC_MD5_LEN])
{
	unsigned int outlen = 0;
	/* cppcheck-suppress unassignedVariable ; zero-initialised: static */
	static const uint8_t empty[1];

	/* OpenSSL treats a NULL key as "reuse the last one": never pass it. */
	if (key == NULL || keylen == 0)
		key = empty, keylen = 0;
	if (data == NULL)
		data = empty, datalen = 0;
	if (keylen > (size_t)2147483647 ||
	    HMAC(EVP_md5(), key, (int)keylen, data, datalen, out, &outlen) ==
	    NULL || outlen != CHAP_HMAC_MD5_LEN) {
		memset(out, 0, CHAP_HMAC_MD5_LEN);
		return -1;
	}
	return 0;
}

/* The MD5 state after one block of key ^ pad. */
static void
pad_state(const uint8_t *key, size_t keylen, uint8_t pad, uint32_t st[4])
{
	uint8_t block[MD5_CBLOCK];
	MD5_CTX c;
	size_t i;

	memset(block, pad, sizeof(block));
	for (i = 0; i < keylen; i++)
		block[i] ^= key[i];
	MD5_Init(&c);
	MD5_Update(&c, block, sizeof(block));
	st[0] = c.A;
	st[1] = c.B;
	st[2] = c.C;
	st[3] = c.D;
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(&c, sizeof(c));
}

void
chap_key_from_secret(struct chap_key *k, const uint8_t *secret, size_t len)
{
	uint8_t hashed[MD5_DIGEST_LENGTH];

	if (len > MD5_CBLOCK) {
		MD5(secret, len, hashed);
		secret = hashed;
		len = sizeof(hashed);
	}
	pad_state(secret, len, 0x36, k->inner);
	pad_state(secret, len, 0x5c, k->outer);
	OPENSSL_cleanse(hashed, sizeof(hashed));
}

/* Resume MD5 after one 64-byte block whose result is `st`. */
static void
resume(MD5_CTX *c, const uint32_t st[4])
{
	memset(c, 0, sizeof(*c));
	c->A = st[0];
	c->B = st[1];
	c->C = st[2];
	c->D = st[3];
	c->Nl = MD5_CBLOCK * 8;		/* bits hashed so far */
	c->Nh = 0;
	c->num = 0;
}

void
chap_key_hmac(const struct chap_key *k, const uint8_t *data, size_t datalen,
    uint8_t out[CHAP_HMAC_MD5_LEN])
{
	uint8_t inner[MD5_DIGEST_LENGTH];
	MD5_CTX c;

	resume(&c, k->inner);
	if (datalen > 0)
		MD5_Update(&c, data, datalen);
	MD5_Final(inner, &c);
	resume(&c, k->outer);
	MD5_Update(&c, inner, sizeof(inner));
	MD5_Final(out, &c);
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&c, sizeof(c));
}

static const char hexdig[] = "0123456789abcdef";

static void
put_word(char *out, uint32_t w)
{
	int i;

	/* little-endian, as MD5 itself serialises its state */
	for (i = 0; i < 4; i++) {
		uint8_t b = (uint8_t)(w >> (8 * i));

		out[2 * i] = hexdig[b >> 4];
		out[2 * i + 1] = hexdig[b & 15];
	}
}

void
chap_key_format(const struct chap_key *k, char out[CHAP_KEY_STRLEN + 1])
{
	int i;

	for (i = 0; i < 4; i++)
		put_word(out + 8 * i, k->inner[i]);
	for (i = 0; i < 4; i++)
		put_word(out + 32 + 8 * i, k->outer[i]);
	out[CHAP_KEY_STRLEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
chap_key_parse(const char *s, size_t len, struct chap_key *k)
{
	uint32_t words[8];
	int i, j;

	if (len != CHAP_KEY_STRLEN)
		return -1;
	for (i = 0; i < 8; i++) {
		uint32_t w = 0;

		for (j = 0; j < 4; j++) {
			int hi = hexval(s[8 * i + 2 * j]);
			int lo = hexval(s[8 * i + 2 * j + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			w |= (uint32_t)(hi << 4 | lo) << (8 * j);
		}
		words[i] = w;
	}
	memcpy(k->inner, words, sizeof(k->inner));
	memcpy(k->outer, words + 4, sizeof(k->outer));
	OPENSSL_cleanse(words, sizeof(words));
	return 0;
}

bool
chap_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
