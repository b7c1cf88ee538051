/* SPDX-License-Identifier: ISC */
/*
 * auth_int.h - what the methods (none.c, password.c, chap.c) share with
 * auth.c. Not for callers: they use auth.h.
 */
#ifndef SOCKEYE_AUTH_INT_H
#define SOCKEYE_AUTH_INT_H

#include "auth.h"

struct auth {
	const struct auth_method *m;
	const struct auth_params *p;
	enum auth_status status;	/* sticky once OK or FAIL */
	enum auth_check check;		/* outcome of the credential check */
	const char *fail_reason;
	char fail_detail[256];		/* the library's words, or "" */
	bool mutual;
	char user[256];			/* claimed name, NUL-terminated */
	uint8_t password[256];		/* for AUTH_VERIFY; zeroed after */
	size_t password_len;
	uint8_t out[AUTH_OUT_MAX];	/* queued server bytes */
	size_t outlen;
	void *priv;			/* the method's own state */
};

/* Queue server bytes; -1 when they do not fit (a bug: BUG_ON at caller). */
int auth_out(struct auth *a, const uint8_t *buf, size_t len);

/* Fail with `reason` (a static string); returns AUTH_FAIL. */
enum auth_status auth_fail(struct auth *a, const char *reason);

/* Zero and forget the password. */
void auth_clear_password(struct auth *a);

extern const struct auth_method auth_method_none;
extern const struct auth_method auth_method_password;
extern const struct auth_method auth_method_chap;
#ifdef HAVE_GSSAPI
extern const struct auth_method auth_method_gssapi;

/* gssapi.c: auth_input_checks() for the GSS-API method. */
bool auth_gss_input_checks(const struct auth *a, const uint8_t *in,
    size_t len);
#endif

#endif
