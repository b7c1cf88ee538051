/* SPDX-License-Identifier: ISC */
/*
 * gss_msg.c - see gss_msg.h.
 */
#include "config_auto.h"

#include <string.h>

#include "gss_msg.h"

/* The message types that carry a LEN and a TOKEN. */
static int
mtyp_has_token(uint8_t mtyp)
{
	return mtyp == GSS_MTYP_CONTEXT || mtyp == GSS_MTYP_PROTECTION ||
	    mtyp == GSS_MTYP_DATA;
}

enum gss_msg_status
gss_msg_parse(const uint8_t *buf, size_t len, struct gss_msg *out,
    size_t *used)
{
	size_t tlen;

	/*
	 * Each byte is judged as soon as it is there, so that a peer that
	 * speaks something else (a SOCKS5 request sent too early, a stray
	 * 05) is refused on its first bad byte, not after it has sent four.
	 */
	if (len < 1)
		return GSS_MSG_NEED_MORE;
	if (buf[0] != GSS_MSG_VERSION)
		return GSS_MSG_ERR_VERSION;
	if (len < 2)
		return GSS_MSG_NEED_MORE;
	if (buf[1] == GSS_MTYP_ABORT) {
		/*
		 * The abort is 01 FF and nothing more: whatever follows is
		 * not its length. The token points just past it (never
		 * NULL, never read: its length is 0).
		 */
		out->mtyp = GSS_MTYP_ABORT;
		out->len = 0;
		out->token = buf + GSS_MSG_ABORT_LEN;
		*used = GSS_MSG_ABORT_LEN;
		return GSS_MSG_OK;
	}
	if (!mtyp_has_token(buf[1]))
		return GSS_MSG_ERR_MTYP;
	if (len < GSS_MSG_HDR_LEN)
		return GSS_MSG_NEED_MORE;
	/* Every 16-bit length is valid: nothing more to refuse. */
	tlen = (size_t)buf[2] << 8 | buf[3];
	if (len - GSS_MSG_HDR_LEN < tlen)
		return GSS_MSG_NEED_MORE;
	out->mtyp = buf[1];
	out->len = (uint16_t)tlen;
	out->token = buf + GSS_MSG_HDR_LEN;
	*used = GSS_MSG_HDR_LEN + tlen;
	return GSS_MSG_OK;
}

size_t
gss_msg_encode_header(uint8_t *buf, size_t cap, uint8_t mtyp,
    size_t token_len)
{
	/* The abort has no header of this shape: gss_msg_encode_abort(). */
	if (cap < GSS_MSG_HDR_LEN || !mtyp_has_token(mtyp) ||
	    token_len > GSS_MSG_TOKEN_MAX)
		return 0;
	buf[0] = GSS_MSG_VERSION;
	buf[1] = mtyp;
	buf[2] = (uint8_t)(token_len >> 8);
	buf[3] = (uint8_t)token_len;
	return GSS_MSG_HDR_LEN;
}

size_t
gss_msg_encode(uint8_t *buf, size_t cap, uint8_t mtyp, const uint8_t *token,
    size_t token_len)
{
	/* token_len is checked before the sum, which then cannot wrap. */
	if (token_len > GSS_MSG_TOKEN_MAX ||
	    cap < GSS_MSG_HDR_LEN + token_len)
		return 0;
	/* A NULL token is a caller's bug unless it is empty: no crash. */
	if (token == NULL && token_len != 0)
		return 0;
	if (gss_msg_encode_header(buf, cap, mtyp, token_len) == 0)
		return 0;
	/*
	 * memmove: a caller may have wrapped the token in place, right
	 * after the header's room (token == buf + 4).
	 */
	if (token_len > 0)
		memmove(buf + GSS_MSG_HDR_LEN, token, token_len);
	return GSS_MSG_HDR_LEN + token_len;
}

size_t
gss_msg_encode_abort(uint8_t *buf, size_t cap)
{
	if (cap < GSS_MSG_ABORT_LEN)
		return 0;
	buf[0] = GSS_MSG_VERSION;
	buf[1] = GSS_MTYP_ABORT;
	return GSS_MSG_ABORT_LEN;
}

const char *
gss_prot_name(uint8_t level)
{
	switch (level) {
	case GSS_PROT_NONE:
		return "none";
	case GSS_PROT_INTEGRITY:
		return "integrity";
	case GSS_PROT_CONFIDENTIALITY:
		return "confidentiality";
	case GSS_PROT_SELECTIVE:
		return "selective";
	}
	return NULL;
}
