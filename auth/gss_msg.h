/* SPDX-License-Identifier: ISC */
/*
 * gss_msg.h - the pure codec for the GSS-API subnegotiation of SOCKS5
 * (RFC 1961, method 0x01), shared by the server (auth/gssapi.c, the
 * encapsulating tunnel) and the client (sockeye-connect -a gssapi).
 *
 * Every message, in either direction, is
 *
 *	VER(1) = 0x01  MTYP(1)  LEN(2, network order)  TOKEN(LEN)
 *
 * except the abort message, which is the two bytes 01 FF and nothing
 * more. MTYP 1 carries context-establishment tokens, 2 the protection
 * level (a gss_wrap()ed octet, or the bare octet from clients in the NEC
 * style), 3 encapsulated user data (a gss_wrap()ed chunk).
 *
 * Pure like the socks5 codec: no I/O, malloc, logging, globals or
 * configuration; no GSS-API call either (callers wrap and unwrap).
 * gss_msg_parse() returns GSS_MSG_NEED_MORE while `buf` holds a valid
 * prefix, GSS_MSG_OK with *used = the message's length, or a
 * GSS_MSG_ERR_* value at the first byte that proves the bytes invalid.
 * On anything but GSS_MSG_OK, *out and *used are unspecified. A token
 * POINTS INTO `buf`. A message of length 0 is valid to this codec (the
 * callers decide that an empty token is an error).
 *
 * This header is stable: it is only ever extended, never renamed.
 */
#ifndef SOCKEYE_GSS_MSG_H
#define SOCKEYE_GSS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define GSS_MSG_VERSION 0x01

/* Message types (RFC 1961 sections 3, 4, 5). */
#define GSS_MTYP_CONTEXT	0x01	/* context establishment token */
#define GSS_MTYP_PROTECTION	0x02	/* protection-level negotiation */
#define GSS_MTYP_DATA		0x03	/* encapsulated user data */
#define GSS_MTYP_ABORT		0xff	/* abort: 01 FF, no length, no token */

/*
 * Protection levels as they travel (the octet inside an MTYP 2 message).
 * RFC 1961 defines 1..3; 0 ("none": the relay carries plain bytes) is
 * what curl asks for and Dante's "clear" grants.
 */
#define GSS_PROT_NONE		0x00
#define GSS_PROT_INTEGRITY	0x01
#define GSS_PROT_CONFIDENTIALITY 0x02
#define GSS_PROT_SELECTIVE	0x03	/* never granted by sockeye */

#define GSS_MSG_HDR_LEN		4
#define GSS_MSG_TOKEN_MAX	65535
#define GSS_MSG_MAX		(GSS_MSG_HDR_LEN + GSS_MSG_TOKEN_MAX)
#define GSS_MSG_ABORT_LEN	2

enum gss_msg_status {
	GSS_MSG_OK = 0,
	GSS_MSG_NEED_MORE,
	GSS_MSG_ERR_VERSION,	/* VER is not 0x01 */
	GSS_MSG_ERR_MTYP,	/* MTYP is not 1, 2, 3 or 0xFF */
};

struct gss_msg {
	uint8_t mtyp;		/* GSS_MTYP_* */
	uint16_t len;		/* token length (0 for ABORT) */
	const uint8_t *token;	/* `len` bytes into the parsed buffer;
				   never NULL on GSS_MSG_OK */
};

/*
 * Parse one message from `buf`. An ABORT is OK with used = 2, len = 0.
 */
enum gss_msg_status gss_msg_parse(const uint8_t *buf, size_t len,
    struct gss_msg *out, size_t *used);

/*
 * Write the 4-byte header of a message of type `mtyp` (1, 2 or 3) with a
 * token of `token_len` bytes; the token itself is the caller's to place
 * right after. Returns GSS_MSG_HDR_LEN, or 0 when `cap` is too small,
 * `mtyp` is not 1..3 or `token_len` > GSS_MSG_TOKEN_MAX.
 */
size_t gss_msg_encode_header(uint8_t *buf, size_t cap, uint8_t mtyp,
    size_t token_len);

/*
 * Write a whole message (header and a copy of the token). Returns its
 * length, or 0 as gss_msg_encode_header() does, or when it does not fit.
 */
size_t gss_msg_encode(uint8_t *buf, size_t cap, uint8_t mtyp,
    const uint8_t *token, size_t token_len);

/* Write the abort message 01 FF. Returns 2, or 0 when cap < 2. */
size_t gss_msg_encode_abort(uint8_t *buf, size_t cap);

/* The level's name ("none", "integrity", "confidentiality",
 * "selective"), or NULL for any other octet. */
const char *gss_prot_name(uint8_t level);

#endif
