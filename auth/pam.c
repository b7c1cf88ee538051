/* SPDX-License-Identifier: ISC */
/*
 * pam.c - see pam.h.
 *
 * Runs on a verifier thread, never on the event loop. Nothing here logs
 * (the verifier's threads do not): what the admin should read goes back
 * in `why`, and the worker logs it on its loop.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#ifdef HAVE_PAM
#include <security/pam_appl.h>
#endif

#include "pam.h"

#ifdef HAVE_PAM

bool
pam_backend_available(void)
{
	return true;
}

enum userdb_result
pam_backend_result(enum pam_backend_step step, int rc)
{
	if (step == PAM_BACKEND_START)
		return rc == PAM_SUCCESS ? USERDB_OK : USERDB_PAM_ERROR;
	switch (rc) {
	case PAM_SUCCESS:
		return USERDB_OK;
	case PAM_AUTH_ERR:
	case PAM_CRED_INSUFFICIENT:
	case PAM_MAXTRIES:
		/* From the account phase: a module there said no. */
		return step == PAM_BACKEND_AUTH ? USERDB_BAD_PASSWORD :
		    USERDB_ACCOUNT_REFUSED;
	case PAM_USER_UNKNOWN:
		return USERDB_NO_USER;
	case PAM_ACCT_EXPIRED:
		return USERDB_ACCOUNT_EXPIRED;
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_EXPIRED:
		/* A SOCKS client cannot change a password. */
		return USERDB_PASSWORD_EXPIRED;
	case PAM_PERM_DENIED:
		return USERDB_ACCOUNT_REFUSED;
	default:
		/*
		 * PAM_AUTHINFO_UNAVAIL (pam_unix cannot read /etc/shadow, a
		 * directory server is down), PAM_SERVICE_ERR, PAM_SYSTEM_ERR,
		 * PAM_BUF_ERR, PAM_CONV_ERR, PAM_ABORT, PAM_IGNORE...: the
		 * stack failed, not the user.
		 */
		return USERDB_PAM_ERROR;
	}
}

/* Free the first `n` responses of `r` (zeroing them: passwords) and r. */
static void
conv_free(struct pam_response *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (r[i].resp != NULL) {
			OPENSSL_cleanse(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

int
pam_backend_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data)
{
	struct pam_backend_conv *c = data;
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG || c == NULL)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		const char *answer = NULL;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answer = c->pw;
			break;
		case PAM_PROMPT_ECHO_ON:
			/* A stack that asks for the name again. */
			answer = c->user;
			break;
		case PAM_ERROR_MSG:
			if (c->msg[0] == '\0' && msg[i]->msg != NULL)
				snprintf(c->msg, sizeof(c->msg), "%s",
				    msg[i]->msg);
			continue;
		case PAM_TEXT_INFO:
			continue;
		default:
			/* PAM_BINARY_PROMPT and the like: not ours. */
			conv_free(r, i);
			return PAM_CONV_ERR;
		}
		if ((r[i].resp = strdup(answer)) == NULL) {
			conv_free(r, i);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/*
 * PAM_FAIL_DELAY: pam_unix and others sleep about 2 s after a failure
 * (pam_fail_delay(3)) unless the application takes the delay over. We
 * do, and wait nothing here: a sleeping verifier thread would let one
 * guesser hold threads for free, and the failed-login table already
 * spaces a failing source's attempts, before they are checked.
 */
static void
pam_backend_no_delay(int retval, unsigned usec, void *appdata)
{
	(void)retval;
	(void)usec;
	(void)appdata;
}

/* The client's address as text, for PAM_RHOST; false when none. */
static bool
pam_backend_host(const struct sockaddr *src, char *host, size_t cap)
{
	const void *a;

	if (src == NULL)
		return false;
	if (src->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)src)->sin_addr;
	else if (src->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)src)->sin6_addr;
	else
		return false;
	return inet_ntop(src->sa_family, a, host, (socklen_t)cap) != NULL;
}

/* `why` = "CALL: libpam's message[ (the stack's message)]". */
static void
pam_backend_why(pam_handle_t *h, const char *call, int rc,
    const struct pam_backend_conv *c, char *why, size_t whycap)
{
	if (c->msg[0] != '\0')
		snprintf(why, whycap, "%s: %s (%s)", call, pam_strerror(h, rc),
		    c->msg);
	else
		snprintf(why, whycap, "%s: %s", call, pam_strerror(h, rc));
}

enum userdb_result
pam_backend_check(const char *service, const char *user, const uint8_t *pw,
    size_t len, const struct sockaddr *src, char *why, size_t whycap)
{
	struct pam_backend_conv c;
	struct pam_conv conv;
	pam_handle_t *h = NULL;
	enum userdb_result r;
	char pwbuf[256], host[INET6_ADDRSTRLEN];
	const char *call = "pam_start";
	int rc;

	if (whycap > 0)
		why[0] = '\0';
	/* An empty name would make the stack prompt for one. */
	if (user[0] == '\0')
		return USERDB_NO_USER;
	if (len >= sizeof(pwbuf) || memchr(pw, 0, len) != NULL)
		return USERDB_BAD_PASSWORD;
	memcpy(pwbuf, pw, len);
	pwbuf[len] = '\0';
	memset(&c, 0, sizeof(c));
	c.user = user;
	c.pw = pwbuf;
	conv.conv = pam_backend_conv;
	conv.appdata_ptr = &c;

	rc = pam_start(service, user, &conv, &h);
	if (rc == PAM_SUCCESS) {
		call = "pam_set_item";
		rc = pam_set_item(h, PAM_FAIL_DELAY,
		    (const void *)pam_backend_no_delay);
	}
	/* Modules that log or decide by the client (pam_access) see it. */
	if (rc == PAM_SUCCESS && pam_backend_host(src, host, sizeof(host)))
		rc = pam_set_item(h, PAM_RHOST, host);
	r = pam_backend_result(PAM_BACKEND_START, rc);
	if (r == USERDB_OK) {
		call = "pam_authenticate";
		rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
		r = pam_backend_result(PAM_BACKEND_AUTH, rc);
	}
	if (r == USERDB_OK) {
		call = "pam_acct_mgmt";
		rc = pam_acct_mgmt(h, PAM_SILENT);
		r = pam_backend_result(PAM_BACKEND_ACCOUNT, rc);
	}
	/* A wrong password or name needs no more than the session's line. */
	if (r != USERDB_OK && r != USERDB_BAD_PASSWORD && r != USERDB_NO_USER &&
	    whycap > 0)
		pam_backend_why(h, call, rc, &c, why, whycap);
	if (h != NULL)
		(void)pam_end(h, rc);
	OPENSSL_cleanse(pwbuf, sizeof(pwbuf));
	return r;
}

#else /* !HAVE_PAM */

bool
pam_backend_available(void)
{
	return false;
}

enum userdb_result
pam_backend_check(const char *service, const char *user, const uint8_t *pw,
    size_t len, const struct sockaddr *src, char *why, size_t whycap)
{
	(void)service;
	(void)user;
	(void)pw;
	(void)len;
	(void)src;
	/* The configuration refuses "pam" in such a build: not reached. */
	if (whycap > 0)
		snprintf(why, whycap, "this sockeyed was built without PAM");
	return USERDB_PAM_ERROR;
}

#endif /* HAVE_PAM */
