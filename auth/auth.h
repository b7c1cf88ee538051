/* SPDX-License-Identifier: ISC */
/*
 * auth.h - the SOCKS5 authentication methods behind one small interface.
 *
 * After method selection the session creates one `struct auth` for the
 * chosen method and feeds it the client's bytes. A method is a state
 * machine over byte buffers: it consumes client messages, queues server
 * messages, and ends with a user name (AUTH_OK) or a failure (AUTH_FAIL).
 * Methods do no network I/O and never wait on a peer (GSS-API's
 * acceptor writes one replay-cache record per login: gssapi.h); the one
 * slow thing, checking a password against a crypt(3) hash, is handed
 * back to the caller as
 * AUTH_VERIFY so the caller can do it off its event loop (or serve it from
 * its verified-credential cache) and report the verdict later.
 *
 * Life of a session's auth:
 *
 *	a = auth_new(method, &params)
 *	loop: st = auth_step(a, in, len, &used); consume `used` bytes;
 *	      send auth_output(); then by st:
 *	        AUTH_NEED_MORE  read more and step again
 *	        AUTH_VERIFY     verify auth_user()/auth_password() elsewhere,
 *	                        then st = auth_verdict(a, ok) (same handling)
 *	        AUTH_OK         send output; auth_user() is the name; go on
 *	        AUTH_FAIL       send output, close (auth_fail_reason() to log)
 *	auth_free(a)	        (zeroes every secret it held)
 *
 * The methods are entries of a static table (none 0x00, gssapi 0x01 RFC
 * 1961 when built with GSS-API, password 0x02 RFC 1929, chap 0x03 with
 * mutual authentication); their message parsers are pure and fuzzable
 * (auth/gss_msg.h, auth/password_msg.h, auth/chap_msg.h). The GSS-API
 * method's extra calls are in auth/gssapi.h.
 *
 * This header is stable: it is only ever extended, never renamed.
 */
#ifndef SOCKEYE_AUTH_H
#define SOCKEYE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chap_msg.h"

struct userdb;
struct auth;
struct auth_gss;

enum auth_status {
	AUTH_NEED_MORE = 0,	/* wants more client bytes */
	AUTH_VERIFY,		/* wants a password verdict: auth_verdict() */
	AUTH_OK,		/* authenticated; auth_user() is the name */
	AUTH_FAIL,		/* failed: send the output, then close */
};

/* auth.chap_mutual */
enum auth_chap_mutual {
	AUTH_CHAP_MUTUAL_ALLOW = 0,	/* answer a client's challenge */
	AUTH_CHAP_MUTUAL_REQUIRE,	/* fail a client that sends none */
	AUTH_CHAP_MUTUAL_DENY,		/* ignore the client's challenge */
};

/* What a method may use; owned by the caller, must outlive the auth. */
struct auth_params {
	const struct userdb *db;		/* NULL: nobody can log in */
	enum auth_chap_mutual chap_mutual;
	const struct chap_key *chap_server_key;	/* NULL: the user's own key */
	const struct auth_gss *gss;		/* gssapi.h; NULL: not offered */
};

/* One method: a row of the static table. */
struct auth_method {
	const char *name;		/* "none", "gssapi", "password", "chap" */
	uint8_t id;				/* SOCKS5 method number */
	/* Set up method state in a->priv; 0 or -1 (out of memory). */
	int (*start)(struct auth *a);
	/* Consume client bytes (see auth_step). */
	enum auth_status (*step)(struct auth *a, const uint8_t *in,
	    size_t len, size_t *used);
	/* Take a password verdict after AUTH_VERIFY (NULL: never asks). */
	enum auth_status (*verdict)(struct auth *a, bool ok);
	/* Free a->priv, zeroing secrets. */
	void (*free)(struct auth *a);
};

/* The method with SOCKS5 number `id` or configuration name `name`, or NULL. */
const struct auth_method *auth_method_by_id(uint8_t id);
const struct auth_method *auth_method_by_name(const char *name);

/*
 * Start authenticating with method `id`. Returns NULL for an unknown
 * method or when out of memory. `p` must outlive the auth.
 */
struct auth *auth_new(uint8_t id, const struct auth_params *p);

/*
 * Feed client bytes. *used is set to the bytes consumed (the caller drops
 * them); bytes after the method's last message are left unconsumed (they
 * are the SOCKS5 request). May queue output (auth_output). Stepping after
 * AUTH_OK or AUTH_FAIL, or while a verdict is pending, returns the same
 * status and consumes nothing.
 */
enum auth_status auth_step(struct auth *a, const uint8_t *in, size_t len,
    size_t *used);

/*
 * Move queued server bytes to `buf` (at most `cap`, AUTH_OUT_MAX is
 * always enough) and return their count; 0 when none are queued.
 */
#define AUTH_OUT_MAX 1024
size_t auth_output(struct auth *a, uint8_t *buf, size_t cap);

/*
 * After AUTH_VERIFY: the password to check for auth_user(). Valid until
 * auth_verdict() or auth_free(), which zero it. Never log it.
 */
const uint8_t *auth_password(const struct auth *a, size_t *len);

/* Report the verdict on auth_password(); returns the next status. */
enum auth_status auth_verdict(struct auth *a, bool ok);

/*
 * The user name the client claimed (after AUTH_OK: the authenticated
 * one), NUL-terminated, may contain any byte but NUL; "" when none yet.
 * Escape it before logging it.
 */
const char *auth_user(const struct auth *a);

/* Why it failed, for the log ("bad-password", "unknown-user", ...). */
const char *auth_fail_reason(const struct auth *a);

/*
 * What the library behind the method said about the failure (GSS-API's
 * major and minor status text), or "": printable, no secret; quote it.
 */
const char *auth_fail_detail(const struct auth *a);

/* The method's name ("chap"); never NULL. */
const char *auth_method_name(const struct auth *a);

/* The method's SOCKS5 number (SOCKS5_METHOD_CHAP). */
uint8_t auth_method_id(const struct auth *a);

/* True when CHAP mutual authentication took place (for the log). */
bool auth_mutual(const struct auth *a);

/*
 * Whether the credentials have been checked yet, and how it went: the
 * caller counts failures per client address (and slows repeat offenders)
 * at the step where this first leaves AUTH_CHECK_NONE. A protocol error
 * fails without a check.
 */
enum auth_check {
	AUTH_CHECK_NONE = 0,	/* not checked (yet) */
	AUTH_CHECK_OK,		/* right password / response */
	AUTH_CHECK_BAD,		/* wrong password / response, unknown user */
};
enum auth_check auth_check_result(const struct auth *a);

/*
 * Whether auth_step() over these bytes would check the credentials: they
 * hold a whole RFC 1929 request, or a CHAP message with a RESPONSE, and
 * nothing was checked yet. Consumes and changes nothing; pure. The caller
 * makes a client that keeps failing wait before that step, not after it,
 * so that guessing costs the guesser time and the server nothing.
 */
bool auth_input_checks(const struct auth *a, const uint8_t *in, size_t len);

/* Free, zeroing every secret. auth_free(NULL) is a no-op. */
void auth_free(struct auth *a);

/* Room for any user name escaped for a log line (text.h's text_escape). */
#define AUTH_USER_STRLEN (255 * 4 + 1)

#endif
