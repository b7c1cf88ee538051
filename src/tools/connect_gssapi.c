/* SPDX-License-Identifier: ISC */
/*
 * connect_gssapi.c - sockeye-connect -a gssapi: the client side of the
 * GSS-API method (RFC 1961, method 0x01) with MIT Kerberos, and the
 * tunnel it sets up at integrity or confidentiality.
 *
 *	C: 01 01 LEN token		gss_init_sec_context(), our AP-REQ
 *	S: 01 01 LEN token		gss_accept_sec_context(), its AP-REP
 *	   ...				until both sides are complete
 *	C: 01 02 LEN wrap(level)	the least level we accept
 *	S: 01 02 LEN wrap(level)	the level the proxy grants
 *	C/S: 01 03 LEN wrap(chunk)	every later byte, both ways, at
 *					levels 1 and 2; plain bytes at 0
 *	S: 01 FF			the proxy refuses (at any step)
 *
 * The messages come from the server's own codec (auth/gss_msg.h). The
 * credentials are the user's Kerberos tickets (KRB5CCNAME); nothing is
 * read from the terminal and nothing secret passes through our buffers
 * but the session keys inside the GSS-API context.
 *
 * Flags asked of gss_init_sec_context(): MUTUAL, because the point of
 * authenticating to a proxy that will see (or, in the tunnel, carry) our
 * traffic is to know it is the right one, so a context without it is
 * refused; INTEG and CONF for the protection levels; REPLAY and SEQUENCE,
 * because the tunnel is one TCP stream where a missing, repeated or
 * reordered message can only be an attack: any such supplementary status
 * from gss_unwrap() is fatal. Never DELEG: the proxy gets no ticket of
 * ours to use elsewhere.
 *
 * Without HAVE_GSSAPI this file only holds stubs: -a gssapi is refused on
 * the command line, so none of them runs.
 */
#include "config_auto.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "connect.h"
#include "gss_msg.h"

#ifdef HAVE_GSSAPI

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#define REQ_FLAGS (GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG | \
	GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG)

/* Context establishment: krb5 takes two messages; allow a few more. */
#define MAX_ROUNDS 8

/*
 * inbuf (recv_msg()) and wire (tunnel_open()) must hold the longest
 * message whole, and the relay's upward buffer one sealed chunk.
 */
_Static_assert(INBUF_SIZE >= GSS_MSG_MAX, "inbuf is too small");
_Static_assert(RELAY_BUF >= TUNNEL_MSG_MAX, "RELAY_BUF is too small");

static gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
static OM_uint32 ret_flags;
static uint8_t level = GSS_PROT_NONE;	/* granted by the proxy */
static bool active;			/* MTYP 3 from now on */

/* One message to send: a context token may be up to 65535 bytes. */
static uint8_t msgbuf[GSS_MSG_MAX];

/* ------------------------------------------------------------------ */
/* Messages for the user                                              */
/* ------------------------------------------------------------------ */

/*
 * Append the texts of one status code to buf, separated by ": ". The
 * texts may quote a KDC's error text: anything but printable ASCII is
 * shown as '?', so that it cannot play games with the terminal.
 */
static size_t
append_status(char *buf, size_t cap, size_t len, OM_uint32 code, int type)
{
	OM_uint32 mctx = 0, maj, min;
	gss_buffer_desc t;
	size_t i;

	do {
		maj = gss_display_status(&min, code, type, GSS_C_NO_OID, &mctx,
		    &t);
		if (GSS_ERROR(maj))
			break;
		if (len > 0 && len + 2 < cap) {
			memcpy(buf + len, ": ", 2);
			len += 2;
		}
		for (i = 0; i < t.length && len + 1 < cap; i++) {
			char c = ((const char *)t.value)[i];

			buf[len++] = c >= 0x20 && c < 0x7f ? c : '?';
		}
		buf[len] = '\0';
		gss_release_buffer(&min, &t);
	} while (mctx != 0);
	return len;
}

/*
 * "MAJOR: MINOR" for a failed call. MIT's text for GSS_S_FAILURE says
 * only that the minor code says more, so then the minor code alone.
 */
static const char *
status_text(char *buf, size_t cap, OM_uint32 maj, OM_uint32 min)
{
	size_t len = 0;

	buf[0] = '\0';
	if (GSS_ROUTINE_ERROR(maj) != GSS_S_FAILURE || min == 0)
		len = append_status(buf, cap, len, maj, GSS_C_GSS_CODE);
	/* A supplementary status alone (a duplicate token) has no minor
	 * code worth showing: MIT's text for it is "Success". */
	if (min != 0 && GSS_ERROR(maj))
		len = append_status(buf, cap, len, min, GSS_C_MECH_CODE);
	if (len == 0)
		snprintf(buf, cap, "major status 0x%08x, minor status 0x%08x",
		    (unsigned)maj, (unsigned)min);
	return buf;
}

/*
 * A local GSS-API failure during authentication: tell the proxy with an
 * abort (so it does not wait for a token that will not come), then die.
 */
static void __attribute__((noreturn))
gss_fail(int fd, const char *what, OM_uint32 maj, OM_uint32 min)
{
	char text[1024];
	uint8_t abort_msg[GSS_MSG_ABORT_LEN];
	size_t n = gss_msg_encode_abort(abort_msg, sizeof(abort_msg));

	if (send(fd, abort_msg, n, MSG_NOSIGNAL) < 0) {
		/* best effort: we are leaving anyway */
	}
	status_text(text, sizeof(text), maj, min);
	die(EXIT_AUTH, "GSS-API: %s: %s%s", what, text,
	    GSS_ROUTINE_ERROR(maj) == GSS_S_NO_CRED ?
	    " (get a Kerberos ticket with kinit)" : "");
}

static const char *
mtyp_name(uint8_t mtyp)
{
	switch (mtyp) {
	case GSS_MTYP_CONTEXT:
		return "a context token (MTYP 1)";
	case GSS_MTYP_PROTECTION:
		return "a protection level (MTYP 2)";
	case GSS_MTYP_DATA:
		return "encapsulated data (MTYP 3)";
	case GSS_MTYP_ABORT:
		return "an abort (MTYP 0xff)";
	}
	return "an unknown message";
}

static const char *
parse_error(enum gss_msg_status st)
{
	switch (st) {
	case GSS_MSG_ERR_VERSION:
		return "its version is not 1";
	case GSS_MSG_ERR_MTYP:
		return "unknown message type";
	case GSS_MSG_OK:
	case GSS_MSG_NEED_MORE:
		break;
	}
	return "malformed";
}

/* ------------------------------------------------------------------ */
/* Authentication                                                     */
/* ------------------------------------------------------------------ */

static void
send_msg(int fd, uint8_t mtyp, const gss_buffer_desc *tok, const char *what)
{
	size_t n;

	if (tok->length > GSS_MSG_TOKEN_MAX)
		die(EXIT_AUTH, "GSS-API: %s is %zu bytes long, more than an"
		    " RFC 1961 message holds (%d)", what, tok->length,
		    GSS_MSG_TOKEN_MAX);
	n = gss_msg_encode(msgbuf, sizeof(msgbuf), mtyp, tok->value,
	    tok->length);
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode %s", what);
	send_all(fd, msgbuf, n, what);
}

/*
 * Wait for one whole message from the proxy; it stays at the front of
 * inbuf (m->token points there) until the caller consumes *used bytes.
 */
static void
recv_msg(int fd, const char *waiting_for, struct gss_msg *m, size_t *used)
{
	enum gss_msg_status st;

	for (;;) {
		st = gss_msg_parse(inbuf.b, inbuf.len, m, used);
		if (st == GSS_MSG_OK)
			return;
		if (st != GSS_MSG_NEED_MORE)
			die(EXIT_AUTH, "GSS-API: malformed message from the proxy"
			    " while waiting for %s (%s)", waiting_for,
			    parse_error(st));
		recv_more(fd, &inbuf, "GSS-API: ", waiting_for);
	}
}

/*
 * RFC 1961 section 3: tokens back and forth until our side is complete.
 * When gss_init_sec_context() says CONTINUE_NEEDED it has sent a token
 * and waits for the proxy's answer; once it says COMPLETE it has taken
 * the proxy's last token (with mutual authentication, krb5's AP-REP), or
 * sent the last token itself, which the proxy takes before it answers
 * the protection level (recv_level()).
 */
static void
establish(int fd, const struct options *o)
{
	char target[512];
	gss_buffer_desc namebuf, in = GSS_C_EMPTY_BUFFER, out;
	gss_name_t name = GSS_C_NO_NAME;
	struct gss_msg m;
	OM_uint32 maj, min, min2;
	size_t used = 0;
	bool have_in = false;
	int round;

	snprintf(target, sizeof(target), "%s@%s", o->gssapi_service,
	    o->proxy_host);
	namebuf.value = target;
	namebuf.length = strlen(target);
	maj = gss_import_name(&min, &namebuf, GSS_C_NT_HOSTBASED_SERVICE, &name);
	if (GSS_ERROR(maj))
		gss_fail(fd, "cannot use the name of the proxy's service", maj,
		    min);

	for (round = 0;; round++) {
		out.length = 0;
		out.value = NULL;
		maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx, name,
		    gss_mech_krb5, REQ_FLAGS, GSS_C_INDEFINITE,
		    GSS_C_NO_CHANNEL_BINDINGS, have_in ? &in : GSS_C_NO_BUFFER,
		    NULL, &out, &ret_flags, NULL);
		/* in.value pointed into inbuf: only now is it done with. */
		if (have_in)
			inbuf_consume(&inbuf, used);
		if (GSS_ERROR(maj)) {
			gss_release_buffer(&min2, &out);
			gss_release_name(&min2, &name);
			if (round == 0) {
				char what[600];

				snprintf(what, sizeof(what), "cannot start a"
				    " security context with %s", target);
				gss_fail(fd, what, maj, min);
			}
			gss_fail(fd, "the proxy's context token is not accepted",
			    maj, min);
		}
		if (out.length > 0) {
			send_msg(fd, GSS_MTYP_CONTEXT, &out,
			    "a GSS-API context token");
			gss_release_buffer(&min2, &out);
		} else if (maj & GSS_S_CONTINUE_NEEDED) {
			/* Nothing to send and yet waiting: a deadlock. */
			die(EXIT_AUTH, "GSS-API: the mechanism wants another"
			    " round but gave no token to send");
		}
		if (!(maj & GSS_S_CONTINUE_NEEDED))
			break;
		if (round + 1 >= MAX_ROUNDS)
			die(EXIT_AUTH, "GSS-API: no security context after %d"
			    " rounds", MAX_ROUNDS);

		recv_msg(fd, "the proxy's context token", &m, &used);
		if (m.mtyp == GSS_MTYP_ABORT)
			die(EXIT_AUTH, "the proxy refused the GSS-API login");
		if (m.mtyp != GSS_MTYP_CONTEXT)
			die(EXIT_AUTH, "GSS-API: the proxy sent %s while we"
			    " waited for its context token", mtyp_name(m.mtyp));
		if (m.len == 0)
			die(EXIT_AUTH, "GSS-API: the proxy sent an empty context"
			    " token");
		in.value = (void *)(uintptr_t)m.token;
		in.length = m.len;
		have_in = true;
	}
	gss_release_name(&min2, &name);

	if (!(ret_flags & GSS_C_MUTUAL_FLAG))
		die(EXIT_AUTH, "GSS-API: the proxy did not prove its identity"
		    " (no mutual authentication)");
}

/* Can the context give `lvl`? (RFC 1961 section 4.1: the ret_flags.) */
static bool
context_offers(uint8_t lvl)
{
	switch (lvl) {
	case GSS_PROT_NONE:
		return true;
	case GSS_PROT_INTEGRITY:
		return (ret_flags & GSS_C_INTEG_FLAG) != 0;
	case GSS_PROT_CONFIDENTIALITY:
		return (ret_flags & (GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG)) ==
		    (GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG);
	}
	return false;
}

/*
 * The proxy's answer to our level: an MTYP 2 message whose token unwraps
 * to one octet. A bare octet (the NEC reference code's way) is refused:
 * anyone on the path could have written it.
 */
static uint8_t
recv_level(int fd, uint8_t want)
{
	gss_buffer_desc tok, plain = GSS_C_EMPTY_BUFFER;
	struct gss_msg m;
	OM_uint32 maj, min, min2;
	size_t used = 0;
	uint8_t got;
	int conf = 0, empty_seen = 0;

	for (;;) {
		recv_msg(fd, "the granted protection level", &m, &used);
		/*
		 * A server whose side completed on our last token has nothing
		 * to answer it with; one that says so with an empty MTYP 1
		 * message is not wrong, so let one pass.
		 */
		if (m.mtyp == GSS_MTYP_CONTEXT && m.len == 0 &&
		    empty_seen++ == 0) {
			inbuf_consume(&inbuf, used);
			continue;
		}
		break;
	}
	if (m.mtyp == GSS_MTYP_ABORT)
		die(EXIT_AUTH, "the proxy refused the GSS-API login (at the"
		    " protection level; we asked for %s)", gss_prot_name(want));
	if (m.mtyp != GSS_MTYP_PROTECTION)
		die(EXIT_AUTH, "GSS-API: the proxy sent %s while we waited for"
		    " the granted protection level", mtyp_name(m.mtyp));
	tok.value = (void *)(uintptr_t)m.token;
	tok.length = m.len;
	maj = gss_unwrap(&min, ctx, &tok, &plain, &conf, NULL);
	if (maj != GSS_S_COMPLETE) {
		char text[1024];

		gss_release_buffer(&min2, &plain);
		if (m.len == 1)
			die(EXIT_AUTH, "GSS-API: the proxy sent its protection"
			    " level without gss_wrap() (NEC style), which"
			    " anyone on the path could have written");
		die(EXIT_AUTH, "GSS-API: the proxy's protection level does not"
		    " unwrap: %s", status_text(text, sizeof(text), maj, min));
	}
	if (plain.length != 1) {
		gss_release_buffer(&min2, &plain);
		die(EXIT_AUTH, "GSS-API: the proxy's protection level is %zu"
		    " bytes long, not 1", (size_t)plain.length);
	}
	got = *(const uint8_t *)plain.value;
	gss_release_buffer(&min2, &plain);
	inbuf_consume(&inbuf, used);
	return got;
}

/* RFC 1961 section 4: ask for `want`, accept a grant at least as strong. */
static void
negotiate(int fd, uint8_t want)
{
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min, min2;
	const char *name;
	uint8_t got;

	if (!context_offers(want))
		die(EXIT_AUTH, "GSS-API: the security context offers no %s"
		    " protection", gss_prot_name(want));
	/* Section 4.4: the octet is wrapped with conf_req FALSE. */
	in.value = &want;
	in.length = 1;
	maj = gss_wrap(&min, ctx, 0, GSS_C_QOP_DEFAULT, &in, NULL, &out);
	if (GSS_ERROR(maj)) {
		gss_release_buffer(&min2, &out);
		gss_fail(fd, "cannot wrap the protection level", maj, min);
	}
	send_msg(fd, GSS_MTYP_PROTECTION, &out, "the protection level");
	gss_release_buffer(&min2, &out);

	got = recv_level(fd, want);
	name = gss_prot_name(got);
	if (name == NULL)
		die(EXIT_AUTH, "the proxy granted protection level 0x%02x, which"
		    " RFC 1961 does not define", got);
	if (got == GSS_PROT_SELECTIVE)
		die(EXIT_AUTH, "the proxy granted protection %s, which " PROG
		    " does not support", name);
	if (got < want)
		die(EXIT_AUTH, "the proxy granted protection %s; asked for %s",
		    name, gss_prot_name(want));
	if (!context_offers(got))
		die(EXIT_AUTH, "the proxy granted protection %s, which the"
		    " security context does not offer", name);
	level = got;
}

/* From now on every byte is wrapped (RFC 1961 section 5). */
static void
activate(void)
{
	OM_uint32 maj, min, max_in = 0;
	char text[1024];

	if (level == GSS_PROT_NONE)
		return;
	/*
	 * A stream cut or replayed inside the tunnel must be noticed: see
	 * the flags above. krb5 always grants them when asked.
	 */
	if ((ret_flags & (GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG)) !=
	    (GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG))
		die(EXIT_AUTH, "GSS-API: the security context does not detect"
		    " replayed or reordered messages");
	maj = gss_wrap_size_limit(&min, ctx, level == GSS_PROT_CONFIDENTIALITY,
	    GSS_C_QOP_DEFAULT, TUNNEL_TOKEN_MAX, &max_in);
	if (GSS_ERROR(maj))
		die(EXIT_AUTH, "GSS-API: gss_wrap_size_limit: %s",
		    status_text(text, sizeof(text), maj, min));
	if (max_in < TUNNEL_CHUNK)
		die(EXIT_AUTH, "GSS-API: the mechanism cannot wrap %d bytes"
		    " into %d", TUNNEL_CHUNK, TUNNEL_TOKEN_MAX);
	/* What the proxy sent past its answer is already tunnel bytes. */
	memcpy(wire.b + wire.len, inbuf.b, inbuf.len);
	wire.len += inbuf.len;
	inbuf.len = 0;
	active = true;
}

void
gssapi_auth(int fd, const struct options *o)
{
	establish(fd, o);
	negotiate(fd, o->gssapi_prot);
	activate();
}

/* ------------------------------------------------------------------ */
/* The tunnel                                                         */
/* ------------------------------------------------------------------ */

bool
tunnel_active(void)
{
	return active;
}

size_t
tunnel_seal(const uint8_t *plain, size_t n, uint8_t *out, size_t cap)
{
	gss_buffer_desc in, tok = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min, min2;
	const bool conf = level == GSS_PROT_CONFIDENTIALITY;
	char text[1024];
	int conf_state = 0;
	size_t len;

	if (!active || n == 0 || n > TUNNEL_CHUNK || cap < TUNNEL_MSG_MAX)
		die(EXIT_ERR, "internal error: tunnel_seal(%zu, %zu)", n, cap);
	in.value = (void *)(uintptr_t)plain;
	in.length = n;
	/* Section 5: conf_req TRUE at level 2, FALSE at level 1. */
	maj = gss_wrap(&min, ctx, conf, GSS_C_QOP_DEFAULT, &in, &conf_state,
	    &tok);
	if (GSS_ERROR(maj)) {
		gss_release_buffer(&min2, &tok);
		die(EXIT_ERR, "GSS-API: cannot wrap data for the proxy: %s",
		    status_text(text, sizeof(text), maj, min));
	}
	if (conf && !conf_state) {
		gss_release_buffer(&min2, &tok);
		die(EXIT_ERR, "GSS-API: the mechanism did not encrypt data"
		    " at protection confidentiality");
	}
	len = 0;
	if (tok.length <= TUNNEL_TOKEN_MAX)
		len = gss_msg_encode(out, cap, GSS_MTYP_DATA, tok.value,
		    tok.length);
	gss_release_buffer(&min2, &tok);
	if (len == 0)
		die(EXIT_ERR, "internal error: %zu bytes wrap into more than %d",
		    n, TUNNEL_TOKEN_MAX);
	return len;
}

size_t
tunnel_open(uint8_t *out, size_t cap)
{
	gss_buffer_desc tok, plain;
	struct gss_msg m;
	enum gss_msg_status st;
	OM_uint32 maj, min, min2;
	char text[1024];
	size_t off = 0, total = 0, used = 0;
	int conf_state;

	if (!active)
		die(EXIT_ERR, "internal error: tunnel_open without a tunnel");
	for (;;) {
		st = gss_msg_parse(wire.b + off, wire.len - off, &m, &used);
		if (st == GSS_MSG_NEED_MORE)
			break;
		if (st != GSS_MSG_OK)
			die(EXIT_ERR, "GSS-API: the proxy sent something else"
			    " than an encapsulated message (%s)",
			    parse_error(st));
		if (m.mtyp == GSS_MTYP_ABORT)
			die(EXIT_ERR, "the proxy aborted the GSS-API tunnel");
		if (m.mtyp != GSS_MTYP_DATA)
			die(EXIT_ERR, "GSS-API: the proxy sent %s inside the"
			    " tunnel", mtyp_name(m.mtyp));
		if (m.len == 0)
			die(EXIT_ERR, "GSS-API: the proxy sent an empty"
			    " encapsulated message");
		if (m.len > cap - total)
			break;	/* its plain text might not fit: later */
		tok.value = (void *)(uintptr_t)m.token;
		tok.length = m.len;
		plain.value = NULL;
		plain.length = 0;
		conf_state = 0;
		maj = gss_unwrap(&min, ctx, &tok, &plain, &conf_state, NULL);
		/*
		 * Anything but a clean COMPLETE, a supplementary GAP,
		 * DUPLICATE or OLD token included, means the stream was
		 * tampered with.
		 */
		if (maj != GSS_S_COMPLETE) {
			gss_release_buffer(&min2, &plain);
			die(EXIT_ERR, "GSS-API: data from the proxy does not"
			    " unwrap: %s", status_text(text, sizeof(text), maj,
			    min));
		}
		if (level == GSS_PROT_CONFIDENTIALITY && !conf_state) {
			gss_release_buffer(&min2, &plain);
			die(EXIT_ERR, "GSS-API: the proxy sent data without"
			    " encryption at protection confidentiality");
		}
		if (plain.length > cap - total) {
			gss_release_buffer(&min2, &plain);
			die(EXIT_ERR, "internal error: %zu plain bytes from a"
			    " %u-byte token", (size_t)plain.length, m.len);
		}
		if (plain.length > 0)
			memcpy(out + total, plain.value, plain.length);
		total += plain.length;
		gss_release_buffer(&min2, &plain);
		off += used;
	}
	if (off > 0)
		inbuf_consume(&wire, off);
	return total;
}

void
tunnel_end(void)
{
	OM_uint32 min;

	active = false;
	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
}

#else /* !HAVE_GSSAPI */

/* parse_method() refuses -a gssapi in this build: these never run. */

void
gssapi_auth(int fd, const struct options *o)
{
	die(EXIT_USAGE, "-a gssapi: " PROG " was built without GSS-API");
}

bool
tunnel_active(void)
{
	return false;
}

size_t
tunnel_seal(const uint8_t *plain, size_t n, uint8_t *out, size_t cap)
{
	die(EXIT_ERR, "internal error: built without GSS-API");
}

size_t
tunnel_open(uint8_t *out, size_t cap)
{
	die(EXIT_ERR, "internal error: built without GSS-API");
}

void
tunnel_end(void)
{
}

#endif /* HAVE_GSSAPI */
