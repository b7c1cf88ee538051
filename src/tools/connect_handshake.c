/* SPDX-License-Identifier: ISC */
/*
 * connect_handshake.c - sockeye-connect's SOCKS5 client side, from
 * connecting to the proxy to its reply to CONNECT: plain blocking I/O
 * under one deadline.
 *
 * The SOCKS5 messages come from the daemon's own pure codec (socks5.h),
 * the RFC 1929 and CHAP messages and HMAC-MD5 from the server's
 * (auth/password_msg.h, auth/chap_msg.h), so the client and the server
 * cannot drift apart on the wire format. GSS-API authentication is in
 * connect_gssapi.c; when it sets up a tunnel, the CONNECT request and the
 * reply go through it (chan_send(), chan_recv_more()).
 */
#include "config_auto.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "chap_msg.h"
#include "connect.h"
#include "password_msg.h"
#include "sockaddr.h"
#include "socks5.h"
#include "util.h"

/* The whole handshake (greeting to reply) must finish within this. */
#define HANDSHAKE_TIMEOUT_MS (60 * 1000)

static uint64_t deadline_ms;

/* ------------------------------------------------------------------ */
/* Time and blocking I/O with the handshake deadline                  */
/* ------------------------------------------------------------------ */

void
send_all(int fd, const uint8_t *p, size_t n, const char *what)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "sending %s to the proxy: %s", what,
			    strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

void
handshake_begin(void)
{
	deadline_ms = util_now_ms() + HANDSHAKE_TIMEOUT_MS;
}

/*
 * Read more bytes from the proxy into `in`, waiting at most until the
 * handshake deadline. `waiting_for` names what we wait for, for messages
 * ("the method selection"). Returns the number of bytes appended, or 0
 * at EOF (recv_more() makes that an error; SOCKS 6 looks at what came
 * before it: a lone version octet is a version mismatch reply).
 */
size_t
recv_some(int fd, struct inbuf *in, const char *step, const char *waiting_for)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = util_now_ms();
		ssize_t r;
		int n;

		if (in->len == sizeof(in->b))
			die(EXIT_ERR, "%sthe proxy sent too much while we waited"
			    " for %s", step, waiting_for);
		if (now >= deadline_ms)
			die(EXIT_ERR, "%stimed out waiting for %s", step,
			    waiting_for);
		n = poll(&pfd, 1, (int)(deadline_ms - now));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "poll: %s", strerror(errno));
		}
		if (n == 0)
			continue;	/* the deadline check above ends it */
		r = recv(fd, in->b + in->len, sizeof(in->b) - in->len, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die(EXIT_ERR, "%sreading %s from the proxy: %s", step,
			    waiting_for, strerror(errno));
		}
		in->len += (size_t)r;
		return (size_t)r;
	}
}

void
recv_more(int fd, struct inbuf *in, const char *step, const char *waiting_for)
{
	if (recv_some(fd, in, step, waiting_for) == 0)
		die(step[0] != '\0' ? EXIT_AUTH : EXIT_ERR,
		    "%sthe proxy closed the connection while we waited"
		    " for %s", step, waiting_for);
}

void
inbuf_consume(struct inbuf *in, size_t n)
{
	memmove(in->b, in->b + n, in->len - n);
	in->len -= n;
}

/*
 * The request and its reply travel as they are, or, after GSS-API with
 * integrity or confidentiality, as MTYP 3 messages: sealed here on the
 * way out, and on the way in read into `wire` and unwrapped into `inbuf`,
 * where socks5_parse_reply() finds plain bytes either way.
 */
static void
chan_send(int fd, const uint8_t *p, size_t n, const char *what)
{
	uint8_t msg[TUNNEL_MSG_MAX];
	size_t k, len;

	if (!tunnel_active()) {
		send_all(fd, p, n, what);
		return;
	}
	while (n > 0) {
		k = n < TUNNEL_CHUNK ? n : TUNNEL_CHUNK;
		len = tunnel_seal(p, k, msg, sizeof(msg));
		send_all(fd, msg, len, what);
		p += k;
		n -= k;
	}
}

static void
chan_recv_more(int fd, const char *step, const char *waiting_for)
{
	size_t n;

	if (!tunnel_active()) {
		recv_more(fd, &inbuf, step, waiting_for);
		return;
	}
	for (;;) {
		n = tunnel_open(inbuf.b + inbuf.len, sizeof(inbuf.b) - inbuf.len);
		if (n > 0) {
			inbuf.len += n;
			return;
		}
		/* No whole message yet (an empty one gives no bytes either). */
		if (inbuf.len == sizeof(inbuf.b))
			die(EXIT_ERR, "%sthe proxy sent too much while we waited"
			    " for %s", step, waiting_for);
		recv_more(fd, &wire, step, waiting_for);
	}
}

/* ------------------------------------------------------------------ */
/* Connecting and the SOCKS5 handshake                                */
/* ------------------------------------------------------------------ */

int
connect_proxy(const struct options *o)
{
	struct addrinfo hints, *res, *ai;
	char addr[SOCKADDR_STRLEN], tried[1024] = "";
	size_t used = 0;
	int fd = -1, err = 0, rc, naddr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rc = getaddrinfo(o->proxy_host, o->proxy_port, &hints, &res);
	if (rc != 0)
		die(EXIT_ERR, "cannot resolve proxy %s: %s", o->proxy_arg,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	/*
	 * Every address in order, like ssh: the first that accepts wins.
	 * The failures are only worth showing when all of them fail (a
	 * "localhost" that is ::1 and 127.0.0.1 with the proxy on one).
	 */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		naddr++;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		sockaddr_format(ai->ai_addr, addr, sizeof(addr));
		rc = snprintf(tried + used, sizeof(tried) - used, "%s%s: %s",
		    used > 0 ? "; " : "", addr, strerror(err));
		if (rc > 0 && (size_t)rc < sizeof(tried) - used)
			used += (size_t)rc;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (naddr > 1)
			die(EXIT_ERR, "cannot connect to proxy %s (%s)",
			    o->proxy_arg, tried);
		die(EXIT_ERR, "cannot connect to proxy %s: %s", o->proxy_arg,
		    strerror(err));
	}
	rc = 1;
	/* The handshake is small messages in lock step: no Nagle delays. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &rc, sizeof(rc));
	return fd;
}

const char *
method_name(uint8_t m)
{
	switch (m) {
	case SOCKS5_METHOD_NONE:
		return "none";
	case SOCKS5_METHOD_GSSAPI:
		return "gssapi";
	case SOCKS5_METHOD_PASSWORD:
		return "password";
	case SOCKS5_METHOD_CHAP:
		return "chap";
	default:
		return "unknown";
	}
}

static uint8_t
method_id(enum method_choice m)
{
	switch (m) {
	case M_PASSWORD:
		return SOCKS5_METHOD_PASSWORD;
	case M_CHAP:
		return SOCKS5_METHOD_CHAP;
	case M_GSSAPI:
		return SOCKS5_METHOD_GSSAPI;
	case M_NONE:
		break;
	}
	return SOCKS5_METHOD_NONE;
}

/*
 * Offer exactly the one method asked for: offering more would let anyone
 * on the path (or a misconfigured proxy) pick a weaker one.
 */
static void
socks5_greet(int fd, uint8_t want)
{
	uint8_t out[SOCKS5_GREETING_MAX], chosen = 0;
	enum socks5_status st;
	size_t n, used = 0;

	n = socks5_encode_greeting(out, sizeof(out), &want, 1);
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode the greeting");
	send_all(fd, out, n, "the greeting");
	for (;;) {
		st = socks5_parse_method_reply(inbuf.b, inbuf.len, &chosen, &used);
		if (st == SOCKS5_OK)
			break;
		if (st != SOCKS5_NEED_MORE)
			die(EXIT_ERR, "the proxy's method selection is not SOCKS5"
			    " (%s)", socks5_status_str(st));
		recv_more(fd, &inbuf, "", "the method selection");
	}
	inbuf_consume(&inbuf, used);
	if (chosen == SOCKS5_METHOD_NO_ACCEPTABLE)
		die(EXIT_AUTH, "the proxy accepts none of the offered"
		    " authentication methods (offered: %s)", method_name(want));
	if (chosen != want)
		die(EXIT_AUTH, "the proxy chose method 0x%02x (%s), which we did"
		    " not offer", chosen, method_name(chosen));
}

/* RFC 1929 (auth/password_msg.h): VER ULEN UNAME PLEN PASSWD -> VER STATUS. */
static void
auth_password(int fd, const char *user)
{
	uint8_t msg[PASSWORD_REQUEST_MAX], status = 0;
	enum password_status st;
	size_t n, used = 0;

	n = password_encode_request(msg, sizeof(msg), (const uint8_t *)user,
	    strlen(user), secrets.password, secrets.password_len);
	wipe_secrets();
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode the password request");
	send_all(fd, msg, n, "the user name and password");
	OPENSSL_cleanse(msg, sizeof(msg));

	for (;;) {
		st = password_parse_reply(inbuf.b, inbuf.len, &status, &used);
		if (st == PASSWORD_OK)
			break;
		if (st != PASSWORD_NEED_MORE)
			die(EXIT_AUTH, "password authentication: malformed answer"
			    " from the proxy (%s)", password_status_str(st));
		recv_more(fd, &inbuf, "password authentication: ",
		    "the verdict");
	}
	inbuf_consume(&inbuf, used);
	if (status != PASSWORD_STATUS_SUCCESS)
		die(EXIT_AUTH, "password authentication failed: the proxy"
		    " rejected user '%s' or its password (status 0x%02x)", user,
		    status);
}

/* ---- CHAP (draft-ietf-aft-socks-chap-01, see auth/chap_msg.h) ---- */

static struct chap_msg chap_rx;	/* 255 AVAs: too big for the stack */

/*
 * Print the proxy's TEXT-MESSAGE, escaping anything that is not printable
 * ASCII so it cannot play games with the terminal.
 */
static void
chap_print_text(const struct chap_msg *m)
{
	unsigned i;
	uint8_t k;

	for (i = 0; i < m->navas; i++) {
		const struct chap_ava *a = &m->avas[i];

		if (a->att != CHAP_ATT_TEXT_MESSAGE)
			continue;
		fprintf(stderr, PROG ": the proxy says: ");
		for (k = 0; k < a->len; k++) {
			uint8_t c = a->val[k];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				fputc(c, stderr);
			else
				fprintf(stderr, "\\x%02x", c);
		}
		fputc('\n', stderr);
	}
}

/*
 * Receive one whole CHAP message into chap_rx. Its AVAs point into inbuf;
 * the caller calls inbuf_consume(&inbuf, *used) once done with them.
 */
static void
chap_recv(int fd, const char *waiting_for, size_t *used)
{
	enum chap_status st;

	for (;;) {
		st = chap_parse_msg(inbuf.b, inbuf.len, &chap_rx, used);
		if (st == CHAP_OK)
			break;
		if (st != CHAP_NEED_MORE)
			die(EXIT_AUTH, "CHAP: malformed message from the proxy"
			    " while waiting for %s (%s)", waiting_for,
			    chap_status_str(st));
		recv_more(fd, &inbuf, "CHAP: ", waiting_for);
	}
	chap_print_text(&chap_rx);
}

static void
chap_send(int fd, const struct chap_ava *avas, size_t n, const char *what)
{
	uint8_t out[2 + 4 * 257];
	size_t len;

	len = chap_encode_msg(out, sizeof(out), avas, n);
	if (len == 0)
		die(EXIT_ERR, "internal error: cannot encode the CHAP %s", what);
	send_all(fd, out, len, what);
	OPENSSL_cleanse(out, sizeof(out));
}

/* A STATUS that is present and not success means the proxy said no. */
static bool
chap_refused(const struct chap_msg *m)
{
	const struct chap_ava *s = chap_msg_find(m, CHAP_ATT_STATUS);

	return s != NULL && !chap_status_is_success(s);
}

/*
 * The exchange (draft section "Challenge-Response Exchange", and "Mutual
 * Authentication" with --mutual):
 *
 *	C: ALGORITHMS(85)
 *	S: ALGORITHMS(85) CHALLENGE(c1)		(maybe in two messages)
 *	C: USER-IDENTITY RESPONSE(HMAC(k, c1)) [CHALLENGE(c2)]
 *	S: STATUS [RESPONSE(HMAC(k_s, c2))]
 *	C: STATUS				(mutual only: our verdict)
 *
 * USER-IDENTITY goes with the RESPONSE, where the draft puts it (PuTTY
 * sends it in the first message instead; the server takes either).
 */
static void
auth_chap(int fd, const char *user, bool mutual)
{
	static const uint8_t alg = CHAP_ALG_HMAC_MD5;
	static const uint8_t ok = CHAP_STATUS_SUCCESS, bad = CHAP_STATUS_FAILURE;
	uint8_t challenge[255], my_challenge[CHAP_CHALLENGE_LEN];
	uint8_t resp[CHAP_HMAC_MD5_LEN], expect[CHAP_HMAC_MD5_LEN];
	const struct chap_ava *a;
	struct chap_ava out[3];
	size_t used, challenge_len = 0, nout;
	bool have_alg = false;
	/* secrets are wiped before the verdict: remember which one we used. */
	const bool server_secret = secrets.have_server_secret;
	int i, rc;

	out[0] = (struct chap_ava){ CHAP_ATT_ALGORITHMS, 1, &alg };
	chap_send(fd, out, 1, "CHAP algorithm list");

	/*
	 * The proxy's choice and its challenge. A server may send both in
	 * one message (sockeyed, PicoSOCKS5) or one after the other; take
	 * at most a few messages so a babbling proxy cannot keep us here.
	 */
	for (i = 0; i < 4 && (!have_alg || challenge_len == 0); i++) {
		chap_recv(fd, have_alg ? "its challenge" :
		    "its choice of algorithm", &used);
		if (chap_refused(&chap_rx))
			die(EXIT_AUTH, "CHAP: the proxy refused algorithm"
			    " negotiation (it does not accept HMAC-MD5)");
		a = chap_msg_find(&chap_rx, CHAP_ATT_ALGORITHMS);
		if (a != NULL) {
			if (a->len != 1 || a->val[0] != CHAP_ALG_HMAC_MD5)
				die(EXIT_AUTH, "CHAP: the proxy chose an"
				    " algorithm we did not offer");
			have_alg = true;
		}
		a = chap_msg_find(&chap_rx, CHAP_ATT_CHALLENGE);
		if (a != NULL) {
			if (a->len == 0)
				die(EXIT_AUTH, "CHAP: the proxy sent an empty"
				    " challenge");
			memcpy(challenge, a->val, a->len);
			challenge_len = a->len;
		}
		inbuf_consume(&inbuf, used);
	}
	if (!have_alg || challenge_len == 0)
		die(EXIT_AUTH, "CHAP: the proxy sent no %s",
		    have_alg ? "challenge" : "algorithm choice");

	if (chap_hmac_md5(secrets.password, secrets.password_len, challenge,
	    challenge_len, resp) != 0)
		die(EXIT_ERR, "CHAP: HMAC-MD5 failed (OpenSSL)");
	nout = 0;
	out[nout++] = (struct chap_ava){ CHAP_ATT_USER_IDENTITY,
	    (uint8_t)strlen(user), (const uint8_t *)user };
	out[nout++] = (struct chap_ava){ CHAP_ATT_RESPONSE, sizeof(resp), resp };
	if (mutual) {
		/*
		 * Our challenge must not be the proxy's own: a peer could
		 * otherwise reflect it back to us and get our answer to use as
		 * its own (RAND_bytes never repeats 16 octets, but a short or
		 * crafted server challenge costs nothing to rule out).
		 */
		do {
			if (RAND_bytes(my_challenge, sizeof(my_challenge)) != 1)
				die(EXIT_ERR, "CHAP: RAND_bytes failed");
		} while (challenge_len == sizeof(my_challenge) &&
		    memcmp(challenge, my_challenge, sizeof(my_challenge)) == 0);
		out[nout++] = (struct chap_ava){ CHAP_ATT_CHALLENGE,
		    sizeof(my_challenge), my_challenge };
		/* The answer we expect, computed before the password goes. */
		if (server_secret)
			rc = chap_hmac_md5(secrets.server_secret,
			    secrets.server_secret_len, my_challenge,
			    sizeof(my_challenge), expect);
		else
			rc = chap_hmac_md5(secrets.password, secrets.password_len,
			    my_challenge, sizeof(my_challenge), expect);
		if (rc != 0)
			die(EXIT_ERR, "CHAP: HMAC-MD5 failed (OpenSSL)");
	}
	wipe_secrets();
	chap_send(fd, out, nout, "CHAP response");
	OPENSSL_cleanse(resp, sizeof(resp));

	chap_recv(fd, "the verdict on our response", &used);
	a = chap_msg_find(&chap_rx, CHAP_ATT_STATUS);
	if (a == NULL)
		die(EXIT_AUTH, "CHAP: the proxy sent no status after our"
		    " response");
	if (!chap_status_is_success(a))
		die(EXIT_AUTH, "CHAP: the proxy rejected our response (wrong"
		    " user name or secret%s)", mutual ? "" :
		    ", or the proxy requires mutual authentication: --mutual");
	if (mutual) {
		a = chap_msg_find(&chap_rx, CHAP_ATT_RESPONSE);
		if (a == NULL) {
			OPENSSL_cleanse(expect, sizeof(expect));
			die(EXIT_AUTH, "CHAP: the proxy did not answer our"
			    " challenge (it refuses or does not support mutual"
			    " authentication)");
		}
		if (a->len != sizeof(expect) ||
		    !chap_ct_equal(a->val, expect, sizeof(expect))) {
			/* Tell the proxy, then go: it must not get our data. */
			out[0] = (struct chap_ava){ CHAP_ATT_STATUS, 1, &bad };
			chap_send(fd, out, 1, "CHAP status");
			OPENSSL_cleanse(expect, sizeof(expect));
			die(EXIT_AUTH, "CHAP: server's response to our challenge"
			    " is wrong: the proxy does not know the %s",
			    server_secret ? "server secret" :
			    "secret");
		}
		OPENSSL_cleanse(expect, sizeof(expect));
		inbuf_consume(&inbuf, used);
		out[0] = (struct chap_ava){ CHAP_ATT_STATUS, 1, &ok };
		chap_send(fd, out, 1, "CHAP status");
	} else {
		inbuf_consume(&inbuf, used);
	}
}

static void
socks5_connect(int fd, const struct options *o, const struct socks5_addr *dst)
{
	uint8_t out[SOCKS5_REQUEST_MAX];
	struct socks5_reply rep;
	enum socks5_status st;
	size_t n, used = 0;

	n = socks5_encode_request(out, sizeof(out), SOCKS5_CMD_CONNECT, dst);
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode the request");
	chan_send(fd, out, n, "the CONNECT request");
	for (;;) {
		st = socks5_parse_reply(inbuf.b, inbuf.len, &rep, &used);
		if (st == SOCKS5_OK)
			break;
		if (st != SOCKS5_NEED_MORE)
			die(EXIT_ERR, "the proxy's reply is malformed (%s)",
			    socks5_status_str(st));
		chan_recv_more(fd, "", "the reply to CONNECT");
	}
	inbuf_consume(&inbuf, used);
	if (rep.rep != SOCKS5_REP_SUCCEEDED)
		die(EXIT_REFUSED, "proxy %s could not connect to %s port %u:"
		    " %s (REP %u)", o->proxy_arg, o->host, o->port,
		    socks5_rep_str(rep.rep), rep.rep);
	if (o->verbose) {
		char bnd[SOCKS5_ADDR_STRLEN];

		fprintf(stderr, PROG ": connected to %s port %u, bound %s\n",
		    o->host, o->port, socks5_addr_format(&rep.bnd, bnd,
		    sizeof(bnd)));
	}
}

int
connect_handshake(const struct options *o, const char *user,
    const struct socks5_addr *dst)
{
	int fd;

	fd = connect_proxy(o);
	handshake_begin();
	socks5_greet(fd, method_id(o->method));
	switch (o->method) {
	case M_PASSWORD:
		auth_password(fd, user);
		break;
	case M_CHAP:
		auth_chap(fd, user, o->mutual);
		break;
	case M_GSSAPI:
		gssapi_auth(fd, o);
		break;
	case M_NONE:
		break;
	}
	wipe_secrets();
	socks5_connect(fd, o, dst);
	return fd;
}
