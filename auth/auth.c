/* SPDX-License-Identifier: ISC */
/*
 * auth.c - see auth.h: the method table and the per-session wrapper that
 * keeps the methods small (sticky verdicts, output queue, secrets zeroed).
 */
#include "config_auto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth_int.h"
#include "password_msg.h"

static const struct auth_method *const auth_methods[] = {
	&auth_method_none,
	&auth_method_password,
	&auth_method_chap,
#ifdef HAVE_GSSAPI
	&auth_method_gssapi,
#endif
};

const struct auth_method *
auth_method_by_id(uint8_t id)
{
	size_t i;

	for (i = 0; i < sizeof(auth_methods) / sizeof(auth_methods[0]); i++)
		if (auth_methods[i]->id == id)
			return auth_methods[i];
	return NULL;
}

const struct auth_method *
auth_method_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(auth_methods) / sizeof(auth_methods[0]); i++)
		if (strcmp(auth_methods[i]->name, name) == 0)
			return auth_methods[i];
	return NULL;
}

struct auth *
auth_new(uint8_t id, const struct auth_params *p)
{
	const struct auth_method *m = auth_method_by_id(id);
	struct auth *a;

	if (m == NULL)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->m = m;
	a->p = p;
	a->status = AUTH_NEED_MORE;
	if (m->start != NULL && m->start(a) == -1) {
		free(a);
		return NULL;
	}
	return a;
}

enum auth_status
auth_step(struct auth *a, const uint8_t *in, size_t len, size_t *used)
{
	*used = 0;
	if (a->status != AUTH_NEED_MORE)
		return a->status;
	a->status = a->m->step(a, in, len, used);
	if (a->status == AUTH_OK || a->status == AUTH_FAIL)
		auth_clear_password(a);
	return a->status;
}

enum auth_status
auth_verdict(struct auth *a, bool ok)
{
	if (a->status != AUTH_VERIFY)
		return a->status;
	a->status = a->m->verdict != NULL ? a->m->verdict(a, ok) :
	    auth_fail(a, "internal-error");
	auth_clear_password(a);
	return a->status;
}

size_t
auth_output(struct auth *a, uint8_t *buf, size_t cap)
{
	size_t n = a->outlen;

	if (n > cap)
		n = cap;
	memcpy(buf, a->out, n);
	memmove(a->out, a->out + n, a->outlen - n);
	a->outlen -= n;
	return n;
}

const uint8_t *
auth_password(const struct auth *a, size_t *len)
{
	*len = a->password_len;
	return a->password;
}

const char *
auth_fail_detail(const struct auth *a)
{
	return a->fail_detail;
}

const char *
auth_user(const struct auth *a)
{
	return a->user;
}

const char *
auth_fail_reason(const struct auth *a)
{
	return a->fail_reason != NULL ? a->fail_reason : "-";
}

const char *
auth_method_name(const struct auth *a)
{
	return a->m->name;
}

uint8_t
auth_method_id(const struct auth *a)
{
	return a->m->id;
}

bool
auth_mutual(const struct auth *a)
{
	return a->mutual;
}

enum auth_check
auth_check_result(const struct auth *a)
{
	return a->check;
}

bool
auth_input_checks(const struct auth *a, const uint8_t *in, size_t len)
{
	if (a->status != AUTH_NEED_MORE || a->check != AUTH_CHECK_NONE)
		return false;
	if (a->m == &auth_method_password) {
		struct password_request req;
		enum password_status st;
		size_t used = 0;

		st = password_parse_request(in, len, &req, &used);
		OPENSSL_cleanse(&req, sizeof(req));
		return st == PASSWORD_OK;
	}
	if (a->m == &auth_method_chap) {
		struct chap_msg m;
		size_t off = 0, n = 0;

		/* chap_step() takes every whole message it finds. */
		while (off < len &&
		    chap_parse_msg(in + off, len - off, &m, &n) == CHAP_OK) {
			if (chap_msg_find(&m, CHAP_ATT_RESPONSE) != NULL)
				return true;
			off += n;
		}
	}
#ifdef HAVE_GSSAPI
	if (a->m == &auth_method_gssapi)
		return auth_gss_input_checks(a, in, len);
#endif
	return false;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	if (a->m->free != NULL)
		a->m->free(a);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

int
auth_out(struct auth *a, const uint8_t *buf, size_t len)
{
	if (len > sizeof(a->out) - a->outlen)
		return -1;
	memcpy(a->out + a->outlen, buf, len);
	a->outlen += len;
	return 0;
}

enum auth_status
auth_fail(struct auth *a, const char *reason)
{
	if (a->fail_reason == NULL)
		a->fail_reason = reason;
	return AUTH_FAIL;
}

void
auth_clear_password(struct auth *a)
{
	OPENSSL_cleanse(a->password, sizeof(a->password));
	a->password_len = 0;
}

