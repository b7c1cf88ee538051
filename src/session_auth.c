/* SPDX-License-Identifier: ISC */
/*
 * session_auth.c - the session's AUTH state (session_int.h).
 *
 * AUTH runs the chosen method (auth/auth.h) over the input buffer. A
 * client source that has failed repeatedly (the failed-login table, shared
 * by the workers) waits a delay (auth_timer) before its attempt is checked
 * at all; then a password check goes to the worker's verifier (threads,
 * cache; parked there while the queue is full or the source has its share
 * of checks running) and the session waits for its callback. While
 * waiting the session keeps reading, so that a client that goes away
 * frees it (and cancels the check) at once.
 */
#include "config_auto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "failtab.h"
#include "gss_msg.h"
#include "gssapi.h"
#include "gsstun.h"
#include "log.h"
#include "session.h"		/* struct session_env */
#include "session_int.h"
#include "socks5.h"
#include "socks6.h"
#include "status.h"
#include "text.h"
#include "userdb.h"
#include "util.h"
#include "verifier.h"

static int session_auth_result(struct session *s, enum auth_status st);

/*
 * What the method reads: the client's bytes in `in`, or SOCKS 6's RFC
 * 1929 request, which came whole in the request's option (`in` then
 * holds initial data).
 */
static const uint8_t *
session_auth_input(const struct session *s, size_t *len)
{
	*len = s->s6 != 0 ? s->s6_authlen : s->inlen;
	return s->s6 != 0 ? s->s6_auth : s->in;
}

/*
 * Send what the method has queued and act on its status. Returns 1 when
 * the session moved on to REQUEST (the caller parses on), 0 when it waits
 * for more bytes, is closing or was freed (the caller must stop).
 */
static int
session_auth_emit(struct session *s, enum auth_status st)
{
	uint8_t buf[AUTH_OUT_MAX];
	char user[AUTH_USER_STRLEN], client[SOCKADDR_STRLEN], detail[600];
	size_t n = auth_output(s->auth, buf, sizeof(buf));
	const char *reason;

	/*
	 * SOCKS 6: the RFC 1929 reply (VER STATUS) travels in an
	 * Authentication Data option of an Authentication Reply.
	 */
	if (s->s6 != 0 && n > 0)
		n = session6_auth_reply(s, st == AUTH_OK ? SOCKS6_AUTH_SUCCESS :
		    SOCKS6_AUTH_FAILURE, SOCKS6_OPT_AUTH_DATA, buf[n - 1], buf,
		    sizeof(buf));

	switch (st) {
	case AUTH_NEED_MORE:
		if (n > 0)
			(void)session_queue(s, buf, n);
		return 0;
	case AUTH_OK:
		if (auth_method_id(s->auth) == SOCKS5_METHOD_GSSAPI) {
			s->gss_level = auth_gss_level(s->auth);
			if (s->gss_level != GSS_PROT_NONE &&
			    (s->tun_ctx = auth_gss_take_tunnel(s->auth)) ==
			    NULL) {
				error("out of memory after authentication");
				s->end = "no-memory";
				session_free(s);
				return 0;
			}
		}
		s->user = strdup(auth_user(s->auth));
		if (s->user == NULL) {
			error("out of memory after authentication");
			s->end = "no-memory";
			session_free(s);
			return 0;
		}
		status_user_login(s->user);
		status_count_auth(auth_method_id(s->auth), STATUS_AUTH_SUCCESS);
		verbose("auth ok: user=%s client=%s method=%s%s%s%s",
		    text_escape(user, sizeof(user), s->user, TEXT_CSTR),
		    sockaddr_format(&s->peer.sa, client, sizeof(client)),
		    auth_method_name(s->auth),
		    auth_mutual(s->auth) ? " mutual" : "",
		    s->gss_level >= 0 ? " protection=" : "",
		    s->gss_level >= 0 ? gss_prot_name((uint8_t)s->gss_level) :
		    "");
		auth_free(s->auth);
		s->auth = NULL;
		session_set_state(s, SESSION_REQUEST);
		if (s->tun_ctx != NULL) {
			/*
			 * The answer goes out as it is; once it has,
			 * session_flushed() starts the tunnel and parses on
			 * (perhaps at once, inside session_queue(): either
			 * way this call stack stops here).
			 */
			if (n > 0)
				(void)session_queue(s, buf, n);
			else if (session_gss_tunnel(s) == 0)
				session_process(s);
			return 0;
		}
		if (n > 0 && session_queue(s, buf, n) == -1)
			return 0;
		return 1;
	case AUTH_FAIL:
	case AUTH_VERIFY:
		break;
	}
	/*
	 * The name as claimed (escaped), the address, why; never the
	 * password. The verifier tells an unknown user from a wrong
	 * password, which the client is not told.
	 */
	reason = s->vreason != NULL && strcmp(s->vreason, "ok") != 0 ?
	    s->vreason : auth_fail_reason(s->auth);
	text_escape(user, sizeof(user), auth_user(s->auth), TEXT_CSTR);
	status_count_refusal(STATUS_REFUSED_AUTH_FAILED);
	status_count_auth(auth_method_id(s->auth), STATUS_AUTH_FAILURE);
	/* The library's words (GSS-API's), quoted: they have spaces. */
	detail[0] = '\0';
	if (auth_fail_detail(s->auth)[0] != '\0') {
		char q[512], *c;

		text_quote(q, sizeof(q), auth_fail_detail(s->auth), TEXT_CSTR);
		for (c = q; *c != '\0'; c++)
			if (*c == '"')
				*c = '\'';
		snprintf(detail, sizeof(detail), " detail=\"%s\"", q);
	}
	logit("auth failed: user=%s client=%s method=%s reason=%s%s",
	    user[0] != '\0' ? user : "-",
	    sockaddr_format(&s->peer.sa, client, sizeof(client)),
	    auth_method_name(s->auth), reason, detail);
	session_close(s, "auth-failed", buf, n);
	return 0;
}

/*
 * A wait of ours (a hold, a PAM check) of up to `ms`: leave the
 * handshake deadline at least that and a second more, so that the
 * client gets its answer rather than a silent close.
 */
static void
session_auth_extend(struct session *s, unsigned ms)
{
	if (ev_is_active(&s->timer) &&
	    ev_timer_remaining(s->loop, &s->timer) < ms / 1000. + 1.) {
		ev_timer_stop(s->loop, &s->timer);
		ev_timer_set(&s->timer, ms / 1000. + 1., 0.);
		ev_timer_start(s->loop, &s->timer);
	}
}

/* The verifier's answer, on the loop thread. */
static void
session_verified_cb(void *arg, enum userdb_result r)
{
	struct session *s = arg;

	s->vjob = NULL;
	s->vreason = userdb_result_str(r);
	if (session_auth_result(s, auth_verdict(s->auth, r == USERDB_OK)) == 1)
		session_process(s);
}

/* AUTH_VERIFY: ask the verifier (cache, else a thread). See emit. */
static int
session_auth_verify(struct session *s)
{
	struct verifier *v = s->env->verifier;
	enum userdb_result r = USERDB_ERROR;
	const uint8_t *pw;
	size_t len;

	pw = auth_password(s->auth, &len);
	switch (v == NULL ? VERIFIER_BUSY : verifier_check(v,
	    auth_user(s->auth), pw, len, &s->peer.sa, session_verified_cb, s,
	    &s->vjob, &r)) {
	case VERIFIER_DONE:
		s->vreason = userdb_result_str(r);
		return session_auth_result(s, auth_verdict(s->auth,
		    r == USERDB_OK));
	case VERIFIER_PENDING:
		/*
		 * Queued, or parked until a thread or its source is free.
		 * A PAM stack may take up to auth.pam_timeout_s before the
		 * verifier answers "timeout"; that answer, too, is the
		 * client's to hear.
		 */
		if (s->cfg->auth.password_backend == CONFIG_PASSWORD_PAM)
			session_auth_extend(s,
			    (unsigned)s->cfg->auth.pam_timeout_s * 1000);
		return 0;
	case VERIFIER_BUSY:
		break;
	}
	/*
	 * Out of memory: nothing was checked, so no verdict is given (a
	 * "wrong password" would be a lie to a user who may be right).
	 */
	error("out of memory checking a password");
	session_close(s, "no-memory", NULL, 0);
	return 0;
}

static void
session_auth_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;

	(void)loop;
	(void)revents;
	/* The penalty is served: the attempt is checked now. */
	s->auth_held = 0;
	session_process(s);
}

/*
 * Before the step that checks the credentials (an RFC 1929 request to
 * hash, a CHAP response to compare): a source that keeps failing waits
 * for its turn first (failtab.h: turns spaced by its delay, whatever the
 * connection or worker), for right and wrong attempts alike, so the
 * answer's timing tells nothing and the guesser pays in time while the
 * server spends nothing. Returns 1 when the session is now held
 * (session_auth_timer_cb goes on) or dropped.
 */
static int
session_auth_hold(struct session *s)
{
	const uint8_t *in;
	unsigned delay;
	size_t len;

	in = session_auth_input(s, &len);
	if (s->auth_waited || !auth_input_checks(s->auth, in, len))
		return 0;
	s->auth_waited = 1;
	delay = failtab_turn_ms(s->env->failtab, &s->peer.sa,
	    util_now_ms());
	if (delay == 0)
		return 0;
	if (delay == FAILTAB_THROTTLED) {
		/* Turns booked 15 minutes ahead: not checked, not answered. */
		sess_debug(s, "too many attempts waiting from this source");
		status_count_auth(auth_method_id(s->auth),
		    STATUS_AUTH_THROTTLED);
		session_close(s, "auth-throttled", NULL, 0);
		return 1;
	}
	sess_debug(s, "holding the attempt for %u ms", delay);
	/*
	 * The hold is ours, not the client's stalling: the handshake
	 * deadline must not cut it short (it would turn a right password
	 * into a silent close).
	 */
	session_auth_extend(s, delay);
	s->auth_held = 1;
	ev_timer_set(&s->auth_timer, delay / 1000., 0.);
	ev_timer_start(s->loop, &s->auth_timer);
	return 1;
}

/*
 * Act on a method status: verify, count the verdict per client source
 * (the wait it earns comes before its next attempt: session_auth_hold),
 * answer. Returns as emit does.
 */
static int
session_auth_result(struct session *s, enum auth_status st)
{
	enum auth_check check;

	if (st == AUTH_VERIFY)
		return session_auth_verify(s);
	check = auth_check_result(s->auth);
	if (!s->auth_counted && check != AUTH_CHECK_NONE) {
		struct failtab *ft = s->env->failtab;

		s->auth_counted = 1;
		if (check == AUTH_CHECK_BAD)
			(void)failtab_fail(ft, &s->peer.sa, util_now_ms());
		else
			failtab_success(ft, &s->peer.sa);
	}
	return session_auth_emit(s, st);
}

/*
 * The AUTH state's turn at the input: the method's next step over what
 * has arrived, unless the attempt waits.
 */
int
session_auth_step(struct session *s)
{
	enum auth_status ast;
	const uint8_t *in;
	size_t len, used = 0;

	/* Waiting for the verifier or the delay: keep bytes. */
	if (s->vjob != NULL || s->auth_held)
		return 0;
	if (session_auth_hold(s))
		return 0;
	in = session_auth_input(s, &len);
	ast = auth_step(s->auth, in, len, &used);
	if (s->s6 != 0) {
		/* Its one message is read: the password goes. */
		session6_drop_auth(s);
		if (ast == AUTH_NEED_MORE) {
			/* Cannot be: the codec checked it was whole. */
			session_close(s, "bad-auth-message", NULL, 0);
			return 0;
		}
		return session_auth_result(s, ast);
	}
	session_consume(s, used);
	/* The consumed bytes held a password: leave none behind. */
	explicit_bzero(s->in + s->inlen, used);
	return session_auth_result(s, ast);
}

void
session_auth_cancel(struct session *s)
{
	if (s->vjob != NULL) {
		/* Its result must not find this session: it is dropped. */
		verifier_cancel(s->env->verifier, s->vjob);
		s->vjob = NULL;
	}
	ev_timer_stop(s->loop, &s->auth_timer);
}

int
session_gss_grow(struct session *s)
{
	return session_grow(s, GSS_MSG_MAX + SESSION_INBUF, AUTH_OUT_MAX);
}

int
session_gss_tunnel(struct session *s)
{
#ifdef HAVE_GSSAPI
	int inner = -1;
	void *ctx = s->tun_ctx;

	BUG_ON(ctx == NULL || s->tun != NULL || s->outlen != 0);
	s->tun_ctx = NULL;
	s->tun = gsstun_new(s->loop, s->fd, &auth_gss_tunnel_ops, ctx,
	    s->in, s->inlen, &inner);
	if (s->tun == NULL) {
		auth_gss_tunnel_ops.free(ctx);
		error("cannot start the GSS-API tunnel: out of memory or "
		    "descriptors");
		s->end = "no-memory";
		session_free(s);
		return -1;
	}
	/* The tunnel has the client's socket and what it had sent. */
	explicit_bzero(s->in, s->inlen);
	s->inlen = 0;
	ev_io_stop(s->loop, &s->rio);
	ev_io_stop(s->loop, &s->wio);
	s->fd = inner;
	ev_io_set(&s->rio, inner, EV_READ);
	ev_io_set(&s->wio, inner, EV_WRITE);
	ev_io_start(s->loop, &s->rio);
	sess_debug(s, "encapsulating at protection %s",
	    gss_prot_name((uint8_t)s->gss_level));
	return 0;
#else
	BUG_ON(1);
	(void)s;
	return -1;
#endif
}

void
session_gss_free(struct session *s)
{
#ifdef HAVE_GSSAPI
	if (s->tun_ctx != NULL) {
		auth_gss_tunnel_ops.free(s->tun_ctx);
		s->tun_ctx = NULL;
	}
	if (s->tun != NULL) {
		if (s->reset_by != NULL && strcmp(s->reset_by, "remote") == 0)
			gsstun_reset_end(s->tun);
		gsstun_release(s->tun);
		s->tun = NULL;
	}
#else
	(void)s;
#endif
}

void
session_auth_init(struct session *s)
{
	ev_timer_init(&s->auth_timer, session_auth_timer_cb, 0., 0.);
	s->auth_timer.data = s;
}
