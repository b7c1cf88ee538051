/* SPDX-License-Identifier: ISC */
/*
 * session6.c - SOCKS 6 (draft-olteanu-intarea-socks-6-12, experimental)
 * on the SOCKS 5 listeners, when socks6.enable is set (session_int.h).
 *
 * A SOCKS 6 client says everything in its first message: the request,
 * the methods it can use, its credentials (an Authentication Data
 * option) and up to 16 KiB of initial data right after it. So the session
 * never waits for the client between its request and the relay:
 *
 *   GREETING (first octet 6, or 0xD4 with legacy_version)
 *     -> REQUEST: the whole request is parsed; Authentication Reply
 *          (method none), or
 *     -> AUTH: the RFC 1929 request from the option goes through the
 *          same password method, hold, verifier and failure table as
 *          SOCKS 5's (session_auth.c), which answers with an
 *          Authentication Reply instead of RFC 1929's two octets
 *     -> the command, as SOCKS 5's (session_cmd.c): the user's session
 *          limit, `commands`, the access rules, the connector; its reply
 *          is an Operation Reply (session_reply()).
 *
 * The initial data stays in the input buffer behind the request and is
 * the relay's first bytes to the destination, as a SOCKS 5 client's
 * optimistic data is.
 *
 * What is not supported is answered the way the draft says: BIND, UDP
 * ASSOCIATE and unknown commands get Operation Reply 7 after a successful
 * authentication; every Session option (the draft: all of them or none),
 * every Idempotence option (valid only within a session) and every Stack
 * option but Happy Eyeballs are ignored (and not echoed), as unsupported
 * options must be. Only methods none and username/password (0-RTT, in the
 * request) are offered; a client that advertises password without its
 * data is told that method is selected, but no in-band exchange follows:
 * the draft defines none for it.
 */
#include "config_auto.h"

#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "auth.h"
#include "config.h"
#include "log.h"
#include "session.h"		/* struct session_env */
#include "session_int.h"
#include "socks5.h"
#include "socks6.h"
#include "status.h"

/*
 * The handshake buffers of a SOCKS 6 session: the longest request and
 * the most initial data behind it (and room for what a client may send
 * meanwhile), and both replies.
 */
#define SESSION6_INBUF (SOCKS6_REQUEST_MAX + SOCKS6_INITIAL_DATA_MAX + \
	SESSION_INBUF)
#define SESSION6_OUTBUF 1024

/*
 * First octets of versions that only drafts of SOCKS 6 used ("200 +
 * draft revision"): a client speaking one of them is told, with the
 * Version Mismatch Reply, which version this proxy speaks. Any other
 * octet (4, garbage) is closed on as before SOCKS 6 existed.
 */
#define SOCKS6_DRAFT_VERSION_MIN 200

void
session6_drop_auth(struct session *s)
{
	if (s->s6_auth == NULL)
		return;
	explicit_bzero(s->s6_auth, s->s6_authlen);
	free(s->s6_auth);
	s->s6_auth = NULL;
	s->s6_authlen = 0;
}

int
session6_sniff(struct session *s)
{
	uint8_t v = s->in[0], buf[1];

	if (v == SOCKS6_VERSION ||
	    (v == SOCKS6_VERSION_LEGACY && s->cfg->socks6.legacy_version)) {
		if (session_grow(s, SESSION6_INBUF, SESSION6_OUTBUF) == -1) {
			error("out of memory reading a SOCKS 6 request");
			s->end = "no-memory";
			session_free(s);
			return -1;
		}
		s->s6 = v;
		session_set_state(s, SESSION_REQUEST);
		return 1;
	}
	if (v >= SOCKS6_DRAFT_VERSION_MIN) {
		(void)socks6_encode_version_mismatch(buf, sizeof(buf),
		    SOCKS6_VERSION);
		session_close(s, "bad-version", buf, sizeof(buf));
		return -1;
	}
	return 0;
}

size_t
session6_auth_reply(const struct session *s, uint8_t type, uint16_t kind,
    uint8_t value, uint8_t *buf, size_t cap)
{
	uint8_t opt[8];
	size_t n = 0;

	switch (kind) {
	case 0:
		break;
	case SOCKS6_OPT_AUTH_SELECT:
		n = socks6_encode_opt_auth_select(opt, sizeof(opt), value);
		break;
	case SOCKS6_OPT_AUTH_DATA:
		/* Method 2's answer: the RFC 1929 STATUS. */
		n = socks6_encode_opt_password_reply(opt, sizeof(opt), value);
		break;
	default:
		BUG_ON(1);
	}
	return socks6_encode_auth_reply(buf, cap, s->s6, type, opt, n);
}

size_t
session6_op_reply(const struct session *s, uint8_t rep,
    const struct socks5_addr *bnd, uint8_t *buf, size_t cap)
{
	uint8_t opt[8];
	size_t n = 0;

	/*
	 * The draft has a proxy echo each Stack option it supports; Happy
	 * Eyeballs is the one, and only for a name (it is ignored for an
	 * address): 2 when it was performed, 1 when not.
	 */
	if (s->s6_he != 0)
		n = socks6_encode_opt_stack(opt, sizeof(opt),
		    SOCKS6_STACK_HAPPY_EYEBALLS, SOCKS6_LEG_PROXY_REMOTE,
		    s->s6_he);
	return socks6_encode_op_reply(buf, cap, s->s6, rep, bnd, opt, n);
}

/* A failed Authentication Reply that ends the session with `end`. */
static void
session6_refuse(struct session *s, const char *end, uint16_t kind,
    uint8_t value)
{
	uint8_t buf[16];
	size_t n;

	n = session6_auth_reply(s, SOCKS6_AUTH_FAILURE, kind, value, buf,
	    sizeof(buf));
	sess_debug(s, "SOCKS 6 authentication reply: failure (%s)", end);
	session_close(s, end, buf, n);
}

/*
 * The methods this server would use for SOCKS 6, in auth.methods' order:
 * none and password (the others need exchanges the draft leaves out).
 */
static size_t
session6_prefs(const struct config *cfg, uint8_t *prefs)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == SOCKS5_METHOD_NONE ||
		    cfg->auth.methods[i] == SOCKS5_METHOD_PASSWORD)
			prefs[n++] = cfg->auth.methods[i];
	return n;
}

/*
 * The request's RFC 1929 request (its Authentication Data option for
 * method 2), copied for the password method to read in AUTH. Returns -1
 * when out of memory.
 */
static int
session6_take_password(struct session *s, const struct socks6_request *r)
{
	const uint8_t *opts = s->in + r->options_off;
	uint16_t i;

	for (i = 0; i < r->opts.nauth; i++) {
		const struct socks6_auth_data *a = &r->opts.auth[i];

		if (a->method != SOCKS5_METHOD_PASSWORD)
			continue;
		if ((s->s6_auth = malloc(a->len)) == NULL)
			return -1;
		memcpy(s->s6_auth, opts + a->off, a->len);
		s->s6_authlen = a->len;
		return 0;
	}
	return -1;
}

/* Whether the request asks for Happy Eyeballs: 0 not said, 1 off, 2 on. */
static uint8_t
session6_happy(const struct socks6_request *r)
{
	const struct socks6_stack_opt *he =
	    &r->opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS];

	/* Meaningful for a name only; for an address, silently ignored. */
	if (r->dst.atyp != SOCKS5_ATYP_DOMAIN ||
	    !(he->legs & SOCKS6_LEG_PROXY_REMOTE))
		return 0;
	return he->value[1] == SOCKS6_AVAIL_NO ? SOCKS6_AVAIL_NO :
	    SOCKS6_AVAIL_YES;
}

/*
 * The request has been parsed (and authenticated): run it. NOOP is
 * answered at once; everything else is a SOCKS 5 command as far as the
 * rest of the session is concerned (session_cmd.c refuses what SOCKS 6
 * does not support here).
 */
static void
session6_run(struct session *s)
{
	if (s->req.cmd != SOCKS6_CMD_NOOP) {
		session_cmd_start(s);
		return;
	}
	/*
	 * Success, BND 0.0.0.0:0; the client closes after it, which ends
	 * the session as any last reply does.
	 */
	session_fail(s, SOCKS5_REP_SUCCEEDED, "noop");
}

int
session6_request(struct session *s)
{
	struct socks6_request r;
	enum socks6_status st;
	uint8_t prefs[4], method, buf[16];
	size_t used = 0, n;
	int ret = 0;

	if (s->have_req) {
		/* AUTH is done: the user is known. */
		session6_run(s);
		return 0;
	}
	st = socks6_parse_request(s->in, s->inlen,
	    s->cfg->socks6.legacy_version ? SOCKS6_ALLOW_LEGACY : 0, &r,
	    &used);
	if (st == SOCKS6_NEED_MORE)
		return 0;
	if (st != SOCKS6_OK) {
		/*
		 * The draft answers valid requests only; a client that
		 * sends a broken one learns it from the close.
		 */
		sess_debug(s, "SOCKS 6 request: %s", socks6_status_str(st));
		session_close(s, st == SOCKS6_ERR_ATYP ? "bad-address-type" :
		    "bad-request", NULL, 0);
		goto out;
	}
	memset(&s->req, 0, sizeof(s->req));
	s->req.version = r.version;
	s->req.cmd = r.cmd;
	s->req.dst = r.dst;
	s->have_req = 1;
	s->s6_he = session6_happy(&r);
	sess_debug(s, "SOCKS 6 request: cmd %u, %u octets of options, %u "
	    "of initial data announced", r.cmd, r.options_len,
	    r.opts.initial_data_len);

	/*
	 * Sessions are not supported: the draft has a proxy support all of
	 * their options or none, and ignore what it does not support, so
	 * a Session ID is ignored (the request authenticates on its own).
	 * Idempotence options are valid only within a session: ignored too.
	 */

	method = socks6_select_method(&r.opts, prefs,
	    session6_prefs(s->cfg, prefs));
	if (method == SOCKS5_METHOD_NO_ACCEPTABLE) {
		session6_refuse(s, "no-acceptable-method",
		    SOCKS6_OPT_AUTH_SELECT, SOCKS5_METHOD_NO_ACCEPTABLE);
		goto out;
	}
	if (method == SOCKS5_METHOD_PASSWORD && !r.opts.has_password) {
		/* Told which method it takes; the client may try again. */
		session6_refuse(s, "auth-required", SOCKS6_OPT_AUTH_SELECT,
		    SOCKS5_METHOD_PASSWORD);
		goto out;
	}
	if (method == SOCKS5_METHOD_PASSWORD) {
		if (session6_take_password(s, &r) == -1 ||
		    (s->auth = auth_new(method, s->env->auth)) == NULL) {
			error("out of memory starting authentication");
			s->end = "no-memory";
			session_free(s);
			goto out;
		}
		/* The request (and the credentials in it) leave `in`. */
		session_consume(s, used);
		explicit_bzero(s->in + s->inlen, used);
		session_set_state(s, SESSION_AUTH);
		ret = 1;
		goto out;
	}
	session_consume(s, used);
	explicit_bzero(s->in + s->inlen, used);
	status_count_auth(SOCKS5_METHOD_NONE, STATUS_AUTH_SUCCESS);
	n = session6_auth_reply(s, SOCKS6_AUTH_SUCCESS, 0, 0, buf,
	    sizeof(buf));
	if (session_queue(s, buf, n) == -1)
		goto out;
	session6_run(s);
out:
	/* The parsed request holds the password too. */
	explicit_bzero(&r, sizeof(r));
	return ret;
}
