/* SPDX-License-Identifier: ISC */
/*
 * connect_socks6.c - sockeye-connect --socks6: the client side of SOCKS 6
 * (draft-olteanu-intarea-socks-6-12, experimental), from connecting to
 * the proxy to its Operation Reply.
 *
 * SOCKS 6 folds SOCKS5's greeting, authentication and request into one
 * message, so what the proxy sees first is everything it needs:
 *
 *	C: Request [Auth Method Advertisement: initial data length, method 2]
 *		   [Auth Data: method 2, the RFC 1929 request]
 *		   [Stack: Happy Eyeballs, proxy-remote leg]
 *	   Initial data				(one send() with the request)
 *	S: Authentication Reply			(type 0 success, 1 failure)
 *	S: Operation Reply			(REP, the bound address)
 *	S: the destination's first bytes ...
 *
 * Sending the request and the initial data in a single send() is the
 * point of the option: with TCP_NODELAY (connect_proxy() sets it) they
 * leave in as few segments as the MSS allows, and the proxy can pass the
 * data on as soon as the destination accepts, without waiting for a round
 * trip to us. The integration test counts our writes on the socket before
 * the proxy's first byte: exactly one.
 *
 * Only what fits one round trip is supported: no authentication, or the
 * password sent up front (a proxy that wants another method answers with
 * an Authentication Method Selection, and we stop). No sessions, no
 * idempotence tokens, no NOOP, BIND or UDP.
 *
 * The messages come from the daemon's own codec (src/socks6.h), so the
 * client and sockeyed agree on the wire format by construction.
 */
#include "config_auto.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "connect.h"
#include "socks5.h"
#include "socks6.h"

/* Options we send: advertisement (8), password (<= 520), one Stack (8). */
#define REQ_OPTS_MAX 1024

/*
 * The request and the initial data, contiguous for the one send(). Static:
 * 37 KiB is a lot of stack, and it holds the password until wiped.
 */
static uint8_t reqbuf[SOCKS6_REQUEST_MAX + SOCKS6_INITIAL_DATA_MAX];
static uint8_t initial[SOCKS6_INITIAL_DATA_MAX];

/* Parsed replies: each carries a struct socks6_options of a few KiB. */
static struct socks6_auth_reply arep;
static struct socks6_op_reply orep;

/*
 * Read up to `want` bytes of stdin, blocking until that many came or
 * stdin ended (then *eof is set, so the relay does not wait for a second
 * EOF that a terminal would never send).
 */
static size_t
read_initial(uint8_t *buf, size_t want, bool *eof)
{
	size_t got = 0;
	ssize_t r;

	while (got < want) {
		r = read(STDIN_FILENO, buf + got, want - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "reading the initial data from stdin: %s",
			    strerror(errno));
		}
		if (r == 0) {
			*eof = true;
			break;
		}
		got += (size_t)r;
	}
	return got;
}

/*
 * The proxy's first octet is not our version, or it sent one octet and
 * closed: a Version Mismatch Reply, which is the proxy's whole answer
 * ("A client MUST close the connection after receiving such a reply").
 */
static void __attribute__((noreturn))
version_mismatch(const struct options *o, uint8_t theirs)
{
	const char *hint = "";

	if (theirs == SOCKS6_VERSION && o->socks6_version != SOCKS6_VERSION)
		hint = "; without --socks6-legacy it may work";
	else if (theirs == SOCKS6_VERSION_LEGACY &&
	    o->socks6_version != SOCKS6_VERSION_LEGACY)
		hint = "; try --socks6-legacy";
	die(EXIT_ERR, "the proxy does not speak SOCKS 6 version %u (it"
	    " answered with version %u%s)", o->socks6_version, theirs, hint);
}

/* Build the request into reqbuf, followed by `ninit` initial bytes. */
static size_t
build_request(const struct options *o, const char *user,
    const struct socks5_addr *dst, size_t ninit)
{
	uint8_t opts[REQ_OPTS_MAX];
	const uint8_t method = SOCKS5_METHOD_PASSWORD;
	size_t olen = 0, n;

	/*
	 * The advertisement carries the initial data length, and the method
	 * list: "none" is never listed (every client supports it, and 0 is
	 * the padding octet), so -a none advertises no method at all, and
	 * needs no advertisement unless there is initial data.
	 */
	if (o->method == M_PASSWORD || o->initial_data > 0) {
		n = socks6_encode_opt_auth_advert(opts + olen,
		    sizeof(opts) - olen, (uint16_t)ninit, &method,
		    o->method == M_PASSWORD ? 1 : 0);
		if (n == 0)
			die(EXIT_ERR, "internal error: cannot encode the"
			    " authentication method advertisement");
		olen += n;
	}
	if (o->method == M_PASSWORD) {
		n = socks6_encode_opt_password_request(opts + olen,
		    sizeof(opts) - olen, (const uint8_t *)user, strlen(user),
		    secrets.password, secrets.password_len);
		/* Encoded (or not): the password has no other use. */
		wipe_secrets();
		if (n == 0)
			die(EXIT_ERR, "internal error: cannot encode the user"
			    " name and password");
		olen += n;
	}
	if (o->happy_eyeballs >= 0) {
		/*
		 * Sent whatever the destination: the proxy must ignore it for
		 * an address (draft -12), and saying what we asked for is
		 * simpler than second-guessing it here.
		 */
		n = socks6_encode_opt_stack(opts + olen, sizeof(opts) - olen,
		    SOCKS6_STACK_HAPPY_EYEBALLS, SOCKS6_LEG_PROXY_REMOTE,
		    o->happy_eyeballs ? SOCKS6_AVAIL_YES : SOCKS6_AVAIL_NO);
		if (n == 0)
			die(EXIT_ERR, "internal error: cannot encode the Happy"
			    " Eyeballs option");
		olen += n;
	}

	n = socks6_encode_request(reqbuf, sizeof(reqbuf), o->socks6_version,
	    SOCKS6_CMD_CONNECT, dst, opts, olen);
	OPENSSL_cleanse(opts, sizeof(opts));
	if (n == 0 || sizeof(reqbuf) - n < ninit)
		die(EXIT_ERR, "internal error: cannot encode the SOCKS 6"
		    " request");
	memcpy(reqbuf + n, initial, ninit);
	return n + ninit;
}

/*
 * Type 1: say why, from the options the proxy sent with it. The most
 * specific reason first: a verdict on our password beats a method list.
 */
static void __attribute__((noreturn))
auth_failed(const struct options *o, const char *user,
    const struct socks6_options *op)
{
	uint8_t sel;

	if (op->has_password && op->password_status != PASSWORD_STATUS_SUCCESS)
		die(EXIT_AUTH, "password authentication failed: the proxy"
		    " rejected user '%s' or its password (status 0x%02x)", user,
		    op->password_status);
	if (SOCKS6_HAS(op, SOCKS6_OPT_AUTH_SELECT)) {
		sel = op->selected_method;
		if (sel == SOCKS5_METHOD_NO_ACCEPTABLE)
			die(EXIT_AUTH, "no acceptable method: the proxy accepts"
			    " none of the offered authentication methods"
			    " (offered: %s)",
			    o->method == M_PASSWORD ? "password" : "none");
		die(EXIT_AUTH, "authentication failed: the proxy asks for"
		    " method %u (%s)%s", sel, method_name(sel),
		    sel == SOCKS5_METHOD_PASSWORD && o->method != M_PASSWORD ?
		    ": use -a password" : ", which --socks6 does not support");
	}
	die(EXIT_AUTH, "authentication failed (the proxy gave no reason)");
}

/* Read and check the Authentication Reply; returns only on success. */
static void
read_auth_reply(int fd, const struct options *o, const char *user, int flags)
{
	enum socks6_status st;
	size_t used = 0;

	for (;;) {
		/*
		 * Our version or nothing: a reply to be parsed starts with it,
		 * anything else is a Version Mismatch Reply (even when the
		 * codec would take it, as 6 with SOCKS6_ALLOW_LEGACY).
		 */
		if (inbuf.len > 0 && inbuf.b[0] != o->socks6_version)
			version_mismatch(o, inbuf.b[0]);
		st = socks6_parse_auth_reply(inbuf.b, inbuf.len, flags, &arep,
		    &used);
		if (st == SOCKS6_OK)
			break;
		if (st != SOCKS6_NEED_MORE)
			die(EXIT_ERR, "the proxy's Authentication Reply is"
			    " malformed (%s)", socks6_status_str(st));
		if (recv_some(fd, &inbuf, "", "the Authentication Reply") > 0)
			continue;
		/* One octet, then EOF: the mismatch reply in our own version. */
		if (inbuf.len == 1)
			version_mismatch(o, inbuf.b[0]);
		die(o->method == M_PASSWORD ? EXIT_AUTH : EXIT_ERR,
		    "the proxy closed the connection while we waited for the"
		    " Authentication Reply");
	}
	inbuf_consume(&inbuf, used);

	switch (arep.type) {
	case SOCKS6_AUTH_SUCCESS:
		break;
	case SOCKS6_AUTH_FAILURE:
		auth_failed(o, user, &arep.opts);
	default:
		die(EXIT_ERR, "the proxy's Authentication Reply has an unknown"
		    " type %u", arep.type);
	}
	/* Success with a failed RFC 1929 verdict: believe the worse one. */
	if (arep.opts.has_password &&
	    arep.opts.password_status != PASSWORD_STATUS_SUCCESS)
		die(EXIT_AUTH, "the proxy says authentication succeeded, but"
		    " rejected the password (status 0x%02x)",
		    arep.opts.password_status);
	if (o->verbose)
		fprintf(stderr, PROG ": SOCKS 6: authenticated (%s)\n",
		    o->method == M_PASSWORD ? "password" : "none");
}

/* Read and check the Operation Reply; returns only on REP 0. */
static void
read_op_reply(int fd, const struct options *o, int flags)
{
	const struct socks6_stack_opt *he;
	char bnd[SOCKS5_ADDR_STRLEN];
	enum socks6_status st;
	size_t used = 0;

	for (;;) {
		st = socks6_parse_op_reply(inbuf.b, inbuf.len, flags, &orep,
		    &used);
		if (st == SOCKS6_OK)
			break;
		if (st != SOCKS6_NEED_MORE)
			die(EXIT_ERR, "the proxy's Operation Reply is malformed"
			    " (%s)", socks6_status_str(st));
		recv_more(fd, &inbuf, "", "the Operation Reply");
	}
	/* The rest of inbuf is the destination's: it goes to stdout first. */
	inbuf_consume(&inbuf, used);
	if (orep.version != o->socks6_version)
		die(EXIT_ERR, "the proxy's Operation Reply has version %u, not"
		    " %u", orep.version, o->socks6_version);
	if (orep.rep != SOCKS5_REP_SUCCEEDED)
		die(EXIT_REFUSED, "proxy %s could not connect to %s port %u:"
		    " %s (REP %u)", o->proxy_arg, o->host, o->port,
		    socks6_rep_str(orep.rep), orep.rep);
	if (!o->verbose)
		return;
	fprintf(stderr, PROG ": SOCKS 6: connected to %s port %u, bound %s\n",
	    o->host, o->port, socks5_addr_format(&orep.bnd, bnd, sizeof(bnd)));
	/* A proxy echoes the Stack options it supports (draft -12). */
	he = &orep.opts.stack[SOCKS6_STACK_HAPPY_EYEBALLS];
	if (he->legs & SOCKS6_LEG_PROXY_REMOTE)
		fprintf(stderr, PROG ": SOCKS 6: happy eyeballs: %s"
		    " (availability %u)\n",
		    he->value[1] == SOCKS6_AVAIL_YES ? "attempted" :
		    "not performed", he->value[1]);
	else if (o->happy_eyeballs >= 0)
		fprintf(stderr, PROG ": SOCKS 6: happy eyeballs: not echoed"
		    " (the proxy ignored the option)\n");
}

int
socks6_handshake(const struct options *o, const char *user,
    const struct socks5_addr *dst, bool *stdin_eof)
{
	const int flags = o->socks6_version == SOCKS6_VERSION_LEGACY ?
	    SOCKS6_ALLOW_LEGACY : 0;
	size_t ninit = 0, n;
	int fd;

	/*
	 * stdin first: the data must be in hand before the request goes,
	 * and a slow writer must not eat into the proxy's handshake timeout.
	 */
	if (o->initial_data > 0)
		ninit = read_initial(initial, o->initial_data, stdin_eof);
	n = build_request(o, user, dst, ninit);

	fd = connect_proxy(o);
	handshake_begin();
	/* One send(): the request and the initial data together. */
	send_all(fd, reqbuf, n, "the SOCKS 6 request");
	OPENSSL_cleanse(reqbuf, n);
	OPENSSL_cleanse(initial, ninit);

	read_auth_reply(fd, o, user, flags);
	if (o->verbose && ninit > 0)
		fprintf(stderr, PROG ": SOCKS 6: sent %zu bytes of initial data"
		    " with the request\n", ninit);
	read_op_reply(fd, o, flags);
	return fd;
}
