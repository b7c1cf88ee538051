/* SPDX-License-Identifier: ISC */
/*
 * password_msg.h - the pure codec for RFC 1929 username/password
 * subnegotiation (SOCKS5 method 0x02).
 *
 *	client -> server: VER(1)=0x01 ULEN(1) UNAME(ULEN) PLEN(1) PASSWD(PLEN)
 *	server -> client: VER(1)=0x01 STATUS(1)   (0x00 success, else failure)
 *
 * Pure like the socks5 codec: no I/O, malloc, logging, globals or
 * configuration. Parsers return PASSWORD_NEED_MORE while `buf` holds a
 * valid prefix, PASSWORD_OK with *used = message length, or a
 * PASSWORD_ERR_* value at the first byte that proves the message invalid.
 * On anything but PASSWORD_OK, *out and *used are unspecified.
 *
 * RFC 1929 gives both lengths the range 1..255; a zero length is an error.
 * Names and passwords are bytes: they may contain NUL (callers decide).
 */
#ifndef SOCKEYE_PASSWORD_MSG_H
#define SOCKEYE_PASSWORD_MSG_H

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_VERSION 0x01
#define PASSWORD_REQUEST_MAX (1 + 1 + 255 + 1 + 255)	/* 513 */
#define PASSWORD_REPLY_LEN 2

#define PASSWORD_STATUS_SUCCESS 0x00
#define PASSWORD_STATUS_FAILURE 0x01

enum password_status {
	PASSWORD_OK = 0,
	PASSWORD_NEED_MORE,
	PASSWORD_ERR_VERSION,	/* VER is not 0x01 */
	PASSWORD_ERR_ULEN,	/* ULEN == 0 */
	PASSWORD_ERR_PLEN,	/* PLEN == 0 */
};

struct password_request {
	uint8_t ulen;			/* 1..255 */
	uint8_t plen;			/* 1..255 */
	uint8_t uname[256];		/* ulen bytes, then a NUL */
	uint8_t passwd[256];		/* plen bytes, then a NUL */
};

/* Client -> server request. */
enum password_status password_parse_request(const uint8_t *buf, size_t len,
    struct password_request *out, size_t *used);

/* Server -> client reply; *status gets STATUS. */
enum password_status password_parse_reply(const uint8_t *buf, size_t len,
    uint8_t *status, size_t *used);

/*
 * Encoders: bytes written, or 0 when `cap` is too small or a length is
 * outside 1..255.
 */
size_t password_encode_request(uint8_t *buf, size_t cap, const uint8_t *uname,
    size_t ulen, const uint8_t *passwd, size_t plen);
size_t password_encode_reply(uint8_t *buf, size_t cap, uint8_t status);

/* Human text for a status; never NULL. */
const char *password_status_str(enum password_status st);

#endif
