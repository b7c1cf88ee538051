/* SPDX-License-Identifier: ISC */
/*
 * password.c - method 0x02, RFC 1929 username/password.
 *
 * One request, one reply. The password goes back to the caller as
 * AUTH_VERIFY: checking it means crypt(3), milliseconds of CPU that must
 * not run on the event loop, and the caller may also answer from its
 * verified-credential cache.
 */
#include "config_auto.h"

#include <string.h>

#include <openssl/crypto.h>

#include "auth_int.h"
#include "password_msg.h"

static enum auth_status
password_reply(struct auth *a, uint8_t status)
{
	uint8_t buf[PASSWORD_REPLY_LEN];

	(void)auth_out(a, buf, password_encode_reply(buf, sizeof(buf), status));
	return status == PASSWORD_STATUS_SUCCESS ? AUTH_OK : AUTH_FAIL;
}

static enum auth_status
password_step(struct auth *a, const uint8_t *in, size_t len, size_t *used)
{
	struct password_request req;
	enum password_status st;

	st = password_parse_request(in, len, &req, used);
	if (st == PASSWORD_NEED_MORE) {
		*used = 0;
		return AUTH_NEED_MORE;
	}
	if (st != PASSWORD_OK) {
		*used = 0;
		(void)password_reply(a, PASSWORD_STATUS_FAILURE);
		return auth_fail(a, st == PASSWORD_ERR_VERSION ?
		    "bad-version" : "bad-message");
	}
	memcpy(a->user, req.uname, (size_t)req.ulen + 1);
	if (memchr(req.uname, 0, req.ulen) != NULL) {
		/* No users file name holds a NUL: the name is unknown. */
		OPENSSL_cleanse(&req, sizeof(req));
		a->user[0] = '\0';
		a->check = AUTH_CHECK_BAD;
		(void)password_reply(a, PASSWORD_STATUS_FAILURE);
		return auth_fail(a, "bad-user-name");
	}
	if (memchr(req.passwd, 0, req.plen) != NULL) {
		/* crypt(3) would stop at the NUL: never let a prefix match. */
		OPENSSL_cleanse(&req, sizeof(req));
		a->check = AUTH_CHECK_BAD;
		(void)password_reply(a, PASSWORD_STATUS_FAILURE);
		return auth_fail(a, "bad-password");
	}
	memcpy(a->password, req.passwd, req.plen);
	a->password_len = req.plen;
	OPENSSL_cleanse(&req, sizeof(req));
	return AUTH_VERIFY;
}

static enum auth_status
password_verdict(struct auth *a, bool ok)
{
	a->check = ok ? AUTH_CHECK_OK : AUTH_CHECK_BAD;
	if (!ok) {
		(void)password_reply(a, PASSWORD_STATUS_FAILURE);
		return auth_fail(a, "bad-password");
	}
	return password_reply(a, PASSWORD_STATUS_SUCCESS);
}

const struct auth_method auth_method_password = {
	.name = "password",
	.id = 0x02,
	.start = NULL,
	.step = password_step,
	.verdict = password_verdict,
	.free = NULL,
};
