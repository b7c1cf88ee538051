/* SPDX-License-Identifier: ISC */
/*
 * chap_msg.h - the pure codec for SOCKS5 CHAP (draft-ietf-aft-socks-chap-01,
 * method 0x03), shared by the server (auth/chap.c) and the client
 * (sockeye-connect), plus HMAC-MD5 through OpenSSL.
 *
 * A CHAP message in either direction is
 *
 *	VER(1) = 0x01  NAVAS(1)  then NAVAS times: ATT(1) VALLEN(1) VAL(VALLEN)
 *
 * The parser is pure like the socks5 codec: no I/O, no malloc, no logging,
 * no globals, no configuration. It returns CHAP_NEED_MORE while `buf` holds
 * a valid prefix, CHAP_OK with *used = message length when a whole message
 * was parsed, or a CHAP_ERR_* value when the bytes can never become a valid
 * message. On anything but CHAP_OK, *out and *used are unspecified.
 * Messages may arrive in pieces: append and parse again.
 *
 * The parsed attribute values POINT INTO `buf`: they are valid only as long
 * as the caller keeps those bytes unchanged.
 *
 * Semantics (which attribute is allowed in which message, what a STATUS
 * means to the state machine) stay with the caller: attributes come in any
 * order, any attribute may appear in any message, unknown ones are kept in
 * the array and callers ignore them (the draft says so).
 *
 * This header is stable: it is only ever extended, never renamed.
 */
#ifndef SOCKEYE_CHAP_MSG_H
#define SOCKEYE_CHAP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAP_VERSION 0x01

/* Attribute codes (draft section "Attribute Definitions"). */
enum chap_att {
	CHAP_ATT_STATUS = 0x00,		/* 00 = success, anything else failure */
	CHAP_ATT_TEXT_MESSAGE = 0x01,	/* informational text */
	CHAP_ATT_USER_IDENTITY = 0x02,	/* the user name */
	CHAP_ATT_CHALLENGE = 0x03,	/* challenge octets */
	CHAP_ATT_RESPONSE = 0x04,	/* response octets */
	CHAP_ATT_CHARSET = 0x05,	/* advisory MIME charset name */
	CHAP_ATT_IDENTIFIER = 0x10,	/* CHAP identifier (unused by HMAC-MD5) */
	CHAP_ATT_ALGORITHMS = 0x11,	/* list of algorithm ids, one octet each */
};

/* Algorithm ids. HMAC-MD5 is the draft's mandatory one. */
#define CHAP_ALG_HMAC_MD5 0x85

/* The status octet values we send. */
#define CHAP_STATUS_SUCCESS 0x00
#define CHAP_STATUS_FAILURE 0xff

/* Sizes. */
#define CHAP_MAX_AVAS 255
#define CHAP_MSG_MAX (2 + CHAP_MAX_AVAS * (2 + 255))	/* 65537 */
#define CHAP_HMAC_MD5_LEN 16
#define CHAP_CHALLENGE_LEN 16		/* what sockeye sends (CSPRNG octets) */

enum chap_status {
	CHAP_OK = 0,
	CHAP_NEED_MORE,
	CHAP_ERR_VERSION,		/* VER is not 0x01 */
};

/* One attribute-value assertion; `val` points into the parsed buffer. */
struct chap_ava {
	uint8_t att;			/* enum chap_att or unknown */
	uint8_t len;			/* 0..255 */
	const uint8_t *val;		/* `len` octets (never NULL on CHAP_OK) */
};

struct chap_msg {
	uint8_t version;		/* always CHAP_VERSION on CHAP_OK */
	uint8_t navas;			/* 0..255; a message with no AVA is valid */
	struct chap_ava avas[CHAP_MAX_AVAS];
};

/* Parse one message (either direction). See the contract above. */
enum chap_status chap_parse_msg(const uint8_t *buf, size_t len,
    struct chap_msg *out, size_t *used);

/*
 * Encode VER NAVAS and the `n` AVAs (n <= 255, each len <= 255; a NULL
 * val is allowed only with len 0). Returns bytes written, or 0 when `cap`
 * is too small or the input is invalid.
 */
size_t chap_encode_msg(uint8_t *buf, size_t cap, const struct chap_ava *avas,
    size_t n);

/* First AVA with attribute `att`, or NULL. */
const struct chap_ava *chap_msg_find(const struct chap_msg *m, uint8_t att);

/* How many AVAs carry attribute `att`. */
unsigned chap_msg_count(const struct chap_msg *m, uint8_t att);

/*
 * A STATUS value means success when it has at least one octet and every
 * octet is 0x00 (PuTTY sends 00; PicoSOCKS5 reads all-zero as success).
 * NULL (no STATUS) is not success.
 */
bool chap_status_is_success(const struct chap_ava *status);

/* True when an ALGORITHMS value lists `alg`. NULL: false. */
bool chap_algorithms_has(const struct chap_ava *algorithms, uint8_t alg);

/* Human text for a status ("bad version"); never NULL. */
const char *chap_status_str(enum chap_status st);

/*
 * HMAC-MD5 (RFC 2104) through OpenSSL: out = HMAC-MD5(key, data).
 * CHAP's RESPONSE is chap_hmac_md5(secret, challenge). Keys longer than 64
 * octets are hashed first, as RFC 2104 says. Returns 0, or -1 when OpenSSL
 * fails (then `out` is zeroed). Does not block.
 */
int chap_hmac_md5(const uint8_t *key, size_t keylen, const uint8_t *data,
    size_t datalen, uint8_t out[CHAP_HMAC_MD5_LEN]);

/*
 * A precomputed HMAC-MD5 key: the MD5 chaining states after the inner
 * (key ^ ipad) and outer (key ^ opad) blocks (what Dovecot stores for
 * CRAM-MD5). It computes the same HMAC as the plaintext key without
 * holding it, so the users file need not store CHAP secrets in clear;
 * it is still password-equivalent for CHAP. Words are MD5's A B C D.
 */
struct chap_key {
	uint32_t inner[4];
	uint32_t outer[4];
};

/* Precompute the states from a plaintext secret. Does not block. */
void chap_key_from_secret(struct chap_key *k, const uint8_t *secret,
    size_t len);

/* out = HMAC-MD5(secret that made `k`, data). */
void chap_key_hmac(const struct chap_key *k, const uint8_t *data,
    size_t datalen, uint8_t out[CHAP_HMAC_MD5_LEN]);

/*
 * Text form of a chap_key for the users file: 64 lowercase hex digits
 * (inner A B C D, outer A B C D, each word little-endian as MD5 keeps it).
 * chap_key_format writes CHAP_KEY_STRLEN + 1 bytes (NUL-terminated).
 * chap_key_parse reads exactly `len` bytes; returns 0 or -1 (bad form).
 */
#define CHAP_KEY_STRLEN 64
void chap_key_format(const struct chap_key *k, char out[CHAP_KEY_STRLEN + 1]);
int chap_key_parse(const char *s, size_t len, struct chap_key *k);

/* Constant-time comparison of two n-byte strings: true when equal. */
bool chap_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
