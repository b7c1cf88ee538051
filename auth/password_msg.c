/* SPDX-License-Identifier: ISC */
/*
 * password_msg.c - see password_msg.h.
 */
#include "config_auto.h"

#include <string.h>

#include "password_msg.h"

/* Both messages start VER, then one byte: the version checked first. */
static enum password_status
parse_head(const uint8_t *buf, size_t len)
{
	if (len < 1)
		return PASSWORD_NEED_MORE;
	if (buf[0] != PASSWORD_VERSION)
		return PASSWORD_ERR_VERSION;
	if (len < 2)
		return PASSWORD_NEED_MORE;
	return PASSWORD_OK;
}

enum password_status
password_parse_request(const uint8_t *buf, size_t len,
    struct password_request *out, size_t *used)
{
	enum password_status st = parse_head(buf, len);
	size_t ulen, plen;

	if (st != PASSWORD_OK)
		return st;
	ulen = buf[1];
	if (ulen == 0)
		return PASSWORD_ERR_ULEN;
	if (len < 2 + ulen + 1)
		return PASSWORD_NEED_MORE;
	plen = buf[2 + ulen];
	if (plen == 0)
		return PASSWORD_ERR_PLEN;
	if (len < 3 + ulen + plen)
		return PASSWORD_NEED_MORE;
	out->ulen = (uint8_t)ulen;
	out->plen = (uint8_t)plen;
	memcpy(out->uname, buf + 2, ulen);
	out->uname[ulen] = 0;
	memcpy(out->passwd, buf + 3 + ulen, plen);
	out->passwd[plen] = 0;
	*used = 3 + ulen + plen;
	return PASSWORD_OK;
}

enum password_status
password_parse_reply(const uint8_t *buf, size_t len, uint8_t *status,
    size_t *used)
{
	enum password_status st = parse_head(buf, len);

	if (st != PASSWORD_OK)
		return st;
	*status = buf[1];
	*used = 2;
	return PASSWORD_OK;
}

size_t
password_encode_request(uint8_t *buf, size_t cap, const uint8_t *uname,
    size_t ulen, const uint8_t *passwd, size_t plen)
{
	size_t n = 3 + ulen + plen;

	if (ulen < 1 || ulen > 255 || plen < 1 || plen > 255 || cap < n)
		return 0;
	buf[0] = PASSWORD_VERSION;
	buf[1] = (uint8_t)ulen;
	memcpy(buf + 2, uname, ulen);
	buf[2 + ulen] = (uint8_t)plen;
	memcpy(buf + 3 + ulen, passwd, plen);
	return n;
}

size_t
password_encode_reply(uint8_t *buf, size_t cap, uint8_t status)
{
	if (cap < PASSWORD_REPLY_LEN)
		return 0;
	buf[0] = PASSWORD_VERSION;
	buf[1] = status;
	return PASSWORD_REPLY_LEN;
}

const char *
password_status_str(enum password_status st)
{
	switch (st) {
	case PASSWORD_OK:
		return "ok";
	case PASSWORD_NEED_MORE:
		return "need more bytes";
	case PASSWORD_ERR_VERSION:
		return "bad subnegotiation version";
	case PASSWORD_ERR_ULEN:
		return "empty user name";
	case PASSWORD_ERR_PLEN:
		return "empty password";
	}
	return "unknown status";
}
