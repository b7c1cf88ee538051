/* SPDX-License-Identifier: ISC */
/*
 * socks5.c - the pure SOCKS5 codec (RFC 1928); see socks5.h.
 *
 * Everything in here works on caller-supplied buffers only: no malloc, no
 * I/O, no logging and no mutable state, so the parsers can be fuzzed in
 * isolation and called on partial input as often as the session likes.
 *
 * The parsers follow one rule throughout: an error is reported as soon as
 * the bytes already in the buffer prove that the message can never be valid,
 * even if the rest of it has not arrived yet. A session then closes a bad
 * client at the first offending byte instead of waiting (and holding a slot)
 * for bytes that cannot fix anything; and NEED_MORE keeps its exact meaning
 * of "this is a valid prefix".
 */
#include "config_auto.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "socks5.h"
#include "text.h"

/* Wire sizes of the fixed parts. */
#define IPV4_LEN	4
#define IPV6_LEN	16
#define PORT_LEN	2

static const char *const rep_strs[] = {
	[SOCKS5_REP_SUCCEEDED] = "succeeded",
	[SOCKS5_REP_GENERAL_FAILURE] = "general SOCKS server failure",
	[SOCKS5_REP_NOT_ALLOWED] = "connection not allowed by ruleset",
	[SOCKS5_REP_NET_UNREACHABLE] = "network unreachable",
	[SOCKS5_REP_HOST_UNREACHABLE] = "host unreachable",
	[SOCKS5_REP_CONN_REFUSED] = "connection refused",
	[SOCKS5_REP_TTL_EXPIRED] = "TTL expired",
	[SOCKS5_REP_CMD_NOT_SUPPORTED] = "command not supported",
	[SOCKS5_REP_ATYP_NOT_SUPPORTED] = "address type not supported",
};

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Parse ATYP DST.ADDR DST.PORT, the tail shared by requests, replies and
 * UDP headers. `p` points at ATYP; *used gets the bytes from ATYP through
 * the port.
 */
static enum socks5_status
parse_addr(const uint8_t *p, size_t len, struct socks5_addr *a, size_t *used)
{
	size_t alen, avail, i;

	if (len < 1)
		return SOCKS5_NEED_MORE;

	memset(a, 0, sizeof(*a));
	a->atyp = p[0];
	switch (p[0]) {
	case SOCKS5_ATYP_IPV4:
		if (len < 1 + IPV4_LEN + PORT_LEN)
			return SOCKS5_NEED_MORE;
		memcpy(a->u.ipv4, p + 1, IPV4_LEN);
		alen = IPV4_LEN;
		break;
	case SOCKS5_ATYP_IPV6:
		if (len < 1 + IPV6_LEN + PORT_LEN)
			return SOCKS5_NEED_MORE;
		memcpy(a->u.ipv6, p + 1, IPV6_LEN);
		alen = IPV6_LEN;
		break;
	case SOCKS5_ATYP_DOMAIN:
		if (len < 2)
			return SOCKS5_NEED_MORE;
		if (p[1] == 0)
			return SOCKS5_ERR_NAME;
		/*
		 * A NUL would silently cut the name short for every C string
		 * function downstream (resolver, ACL, logs), so the name the
		 * ACL checks could differ from what was sent. Reject it, and
		 * do so on whatever part of the name is already here.
		 */
		avail = len - 2 < p[1] ? len - 2 : p[1];
		for (i = 0; i < avail; i++)
			if (p[2 + i] == '\0')
				return SOCKS5_ERR_NAME;
		if (len < 2 + (size_t)p[1] + PORT_LEN)
			return SOCKS5_NEED_MORE;
		a->name_len = p[1];
		memcpy(a->u.name, p + 2, p[1]);
		a->u.name[p[1]] = '\0';
		alen = 1 + (size_t)p[1];
		break;
	default:
		/* Without a known ATYP the message length is unknowable. */
		return SOCKS5_ERR_ATYP;
	}
	a->port = get_be16(p + 1 + alen);
	*used = 1 + alen + PORT_LEN;
	return SOCKS5_OK;
}

/*
 * Bytes needed to encode `a` (ATYP through port), or 0 if it cannot be
 * encoded. Encoders refuse exactly what the parsers refuse, so whatever
 * they emit parses back to the same address.
 */
static size_t
addr_wire_len(const struct socks5_addr *a)
{
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		return 1 + IPV4_LEN + PORT_LEN;
	case SOCKS5_ATYP_IPV6:
		return 1 + IPV6_LEN + PORT_LEN;
	case SOCKS5_ATYP_DOMAIN:
		if (a->name_len == 0 ||
		    memchr(a->u.name, '\0', a->name_len) != NULL)
			return 0;
		return 2 + (size_t)a->name_len + PORT_LEN;
	default:
		return 0;
	}
}

/* Write `a`; the caller has checked that addr_wire_len() bytes fit. */
static size_t
put_addr(uint8_t *p, const struct socks5_addr *a)
{
	size_t n = 0;

	p[n++] = a->atyp;
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		memcpy(p + n, a->u.ipv4, IPV4_LEN);
		n += IPV4_LEN;
		break;
	case SOCKS5_ATYP_IPV6:
		memcpy(p + n, a->u.ipv6, IPV6_LEN);
		n += IPV6_LEN;
		break;
	default:
		p[n++] = a->name_len;
		memcpy(p + n, a->u.name, a->name_len);
		n += a->name_len;
		break;
	}
	put_be16(p + n, a->port);
	return n + PORT_LEN;
}

enum socks5_status
socks5_parse_greeting(const uint8_t *buf, size_t len,
    struct socks5_greeting *out, size_t *used)
{
	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (buf[0] != SOCKS5_VERSION)
		return SOCKS5_ERR_VERSION;
	if (len < 2)
		return SOCKS5_NEED_MORE;
	/* RFC 1928 allows 1..255; an empty list leaves nothing to select. */
	if (buf[1] == 0)
		return SOCKS5_ERR_NMETHODS;
	if (len < 2 + (size_t)buf[1])
		return SOCKS5_NEED_MORE;

	memset(out, 0, sizeof(*out));
	out->nmethods = buf[1];
	memcpy(out->methods, buf + 2, buf[1]);
	*used = 2 + (size_t)buf[1];
	return SOCKS5_OK;
}

enum socks5_status
socks5_parse_method_reply(const uint8_t *buf, size_t len,
    uint8_t *method, size_t *used)
{
	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (buf[0] != SOCKS5_VERSION)
		return SOCKS5_ERR_VERSION;
	if (len < 2)
		return SOCKS5_NEED_MORE;
	*method = buf[1];
	*used = 2;
	return SOCKS5_OK;
}

/*
 * Requests, replies and UDP headers all put an address at offset 3, after
 * three bytes each reads its own way. On SOCKS5_OK, *used is the length up
 * to the address's end.
 */
static enum socks5_status
parse_addr_at_3(const uint8_t *buf, size_t len, struct socks5_addr *a,
    size_t *used)
{
	enum socks5_status st;
	size_t alen;

	if (len < 3)
		return SOCKS5_NEED_MORE;
	st = parse_addr(buf + 3, len - 3, a, &alen);
	if (st == SOCKS5_OK)
		*used = 3 + alen;
	return st;
}

/*
 * Requests and replies share one layout: VER, a code, RSV, then an address;
 * a reply is parsed as a request. The code byte is passed through untouched
 * (unknown commands get REP 7 from the caller, which needs the rest of the
 * message parsed to answer politely). RSV is not checked: RFC 1928 says to
 * send 0 but gives receivers no way to report a bad one, and rejecting it
 * only breaks sloppy clients.
 */
enum socks5_status
socks5_parse_request(const uint8_t *buf, size_t len,
    struct socks5_request *out, size_t *used)
{
	struct socks5_request r;
	enum socks5_status st;

	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (buf[0] != SOCKS5_VERSION)
		return SOCKS5_ERR_VERSION;
	/* Parse into a zeroed local so padding never carries stale bytes. */
	memset(&r, 0, sizeof(r));
	st = parse_addr_at_3(buf, len, &r.dst, used);
	if (st == SOCKS5_OK) {
		r.version = SOCKS5_VERSION;
		r.cmd = buf[1];
		r.rsv = buf[2];
		*out = r;
	}
	return st;
}

enum socks5_status
socks5_parse_reply(const uint8_t *buf, size_t len,
    struct socks5_reply *out, size_t *used)
{
	struct socks5_request r;
	enum socks5_status st;

	st = socks5_parse_request(buf, len, &r, used);
	if (st == SOCKS5_OK) {
		memset(out, 0, sizeof(*out));
		out->rep = r.cmd;
		out->bnd = r.dst;
	}
	return st;
}

/*
 * RSV (2 bytes) is not checked, for the same reason as in requests. FRAG is
 * passed through: dropping FRAG != 0 is the relay's policy.
 */
enum socks5_status
socks5_parse_udp_header(const uint8_t *buf, size_t len,
    struct socks5_udp_header *out, size_t *used)
{
	struct socks5_udp_header h;
	enum socks5_status st;

	memset(&h, 0, sizeof(h));
	st = parse_addr_at_3(buf, len, &h.dst, used);
	if (st == SOCKS5_OK) {
		h.frag = buf[2];
		*out = h;
	}
	return st;
}

uint8_t
socks5_select_method(const struct socks5_greeting *g,
    const uint8_t *prefs, size_t nprefs)
{
	size_t i, j;

	/*
	 * Outer loop over the server's list: the server's preference wins,
	 * whatever order the client offered its methods in. The client's
	 * order carries no meaning in RFC 1928.
	 */
	for (i = 0; i < nprefs; i++) {
		if (prefs[i] == SOCKS5_METHOD_NO_ACCEPTABLE)
			continue;
		for (j = 0; j < g->nmethods; j++)
			if (g->methods[j] == prefs[i])
				return prefs[i];
	}
	return SOCKS5_METHOD_NO_ACCEPTABLE;
}

size_t
socks5_encode_greeting(uint8_t *buf, size_t cap,
    const uint8_t *methods, size_t nmethods)
{
	if (nmethods == 0 || nmethods > 255 || cap < 2 + nmethods)
		return 0;
	buf[0] = SOCKS5_VERSION;
	buf[1] = (uint8_t)nmethods;
	memcpy(buf + 2, methods, nmethods);
	return 2 + nmethods;
}

size_t
socks5_encode_method_reply(uint8_t *buf, size_t cap, uint8_t method)
{
	if (cap < 2)
		return 0;
	buf[0] = SOCKS5_VERSION;
	buf[1] = method;
	return 2;
}

/* VER code RSV=0 address: requests and replies. */
static size_t
encode_ver_code_addr(uint8_t *buf, size_t cap, uint8_t code,
    const struct socks5_addr *a)
{
	size_t alen = addr_wire_len(a);

	if (alen == 0 || cap < 3 + alen)
		return 0;
	buf[0] = SOCKS5_VERSION;
	buf[1] = code;
	buf[2] = 0;
	return 3 + put_addr(buf + 3, a);
}

size_t
socks5_encode_request(uint8_t *buf, size_t cap, uint8_t cmd,
    const struct socks5_addr *dst)
{
	return encode_ver_code_addr(buf, cap, cmd, dst);
}

size_t
socks5_encode_reply(uint8_t *buf, size_t cap, uint8_t rep,
    const struct socks5_addr *bnd)
{
	return encode_ver_code_addr(buf, cap, rep, bnd);
}

size_t
socks5_encode_udp_header(uint8_t *buf, size_t cap, uint8_t frag,
    const struct socks5_addr *addr)
{
	size_t alen = addr_wire_len(addr);

	if (alen == 0 || cap < 3 + alen)
		return 0;
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = frag;
	return 3 + put_addr(buf + 3, addr);
}

int
socks5_addr_from_sockaddr(struct socks5_addr *out, const struct sockaddr *sa)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (sa == NULL)
		return -1;
	/* Copy out: the caller's storage need not be aligned for the cast. */
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		memset(out, 0, sizeof(*out));
		out->atyp = SOCKS5_ATYP_IPV4;
		memcpy(out->u.ipv4, &sin.sin_addr, IPV4_LEN);
		out->port = ntohs(sin.sin_port);
		return 0;
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		memset(out, 0, sizeof(*out));
		/*
		 * A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
		 * Clients expect a BND.ADDR of the family they connected
		 * with, and many cannot parse ATYP 4 at all, so unwrap it.
		 * The scope id has no SOCKS encoding and is dropped.
		 */
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			out->atyp = SOCKS5_ATYP_IPV4;
			memcpy(out->u.ipv4, sin6.sin6_addr.s6_addr + 12,
			    IPV4_LEN);
		} else {
			out->atyp = SOCKS5_ATYP_IPV6;
			memcpy(out->u.ipv6, sin6.sin6_addr.s6_addr, IPV6_LEN);
		}
		out->port = ntohs(sin6.sin6_port);
		return 0;
	default:
		return -1;
	}
}

int
socks5_addr_to_sockaddr(const struct socks5_addr *a, struct sockaddr *out,
    socklen_t *outlen)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(a->port);
		memcpy(&sin.sin_addr, a->u.ipv4, IPV4_LEN);
		memcpy(out, &sin, sizeof(sin));
		if (outlen != NULL)
			*outlen = sizeof(sin);
		return 0;
	case SOCKS5_ATYP_IPV6:
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(a->port);
		memcpy(&sin6.sin6_addr, a->u.ipv6, IPV6_LEN);
		memcpy(out, &sin6, sizeof(sin6));
		if (outlen != NULL)
			*outlen = sizeof(sin6);
		return 0;
	default:
		/* Names need the resolver; that is not this module's job. */
		return -1;
	}
}

/*
 * Bounded string builder for socks5_addr_format(). Pieces are appended
 * whole or not at all, and after the first piece that does not fit nothing
 * more is written: a truncated result is then always a prefix of the full
 * one made of whole pieces, so it never ends in half an escape ("\x4") or
 * half a port (":6" for ":65535"), which would read as a different value.
 */
struct strbuf {
	char *buf;
	size_t cap;
	size_t len;
	int full;
};

static void
sb_put(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->full)
		return;
	if (n >= sb->cap - sb->len) {
		sb->full = 1;
		return;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

char *
socks5_addr_format(const struct socks5_addr *a, char *buf, size_t cap)
{
	struct strbuf sb = { buf, cap, 0, 0 };
	char tmp[INET6_ADDRSTRLEN + 2];
	char name[TEXT_ESCAPE_LEN(255)];
	int bracket;
	int n;

	if (cap == 0)
		return buf;
	buf[0] = '\0';

	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		if (inet_ntop(AF_INET, a->u.ipv4, tmp, sizeof(tmp)) == NULL)
			return buf;
		sb_put(&sb, tmp, strlen(tmp));
		break;
	case SOCKS5_ATYP_IPV6:
		tmp[0] = '[';
		if (inet_ntop(AF_INET6, a->u.ipv6, tmp + 1,
		    sizeof(tmp) - 2) == NULL)
			return buf;
		n = (int)strlen(tmp);
		tmp[n++] = ']';
		sb_put(&sb, tmp, (size_t)n);
		break;
	case SOCKS5_ATYP_DOMAIN:
		/*
		 * A name holding a bare IPv6 literal ("::1", as some clients
		 * send) gets brackets, so "NAME:PORT" stays unambiguous.
		 */
		bracket = memchr(a->u.name, ':', a->name_len) != NULL &&
		    a->u.name[0] != '[';
		if (bracket)
			sb_put(&sb, "[", 1);
		/*
		 * Escaped as a log field (text.h): it may forge nothing. What
		 * does not fit is cut at a whole escape, and nothing follows.
		 */
		text_escape(name, sizeof(name), a->u.name, a->name_len);
		if (!sb.full && strlen(name) >= sb.cap - sb.len) {
			text_escape(sb.buf + sb.len, sb.cap - sb.len,
			    a->u.name, a->name_len);
			sb.full = 1;
		}
		sb_put(&sb, name, strlen(name));
		if (bracket)
			sb_put(&sb, "]", 1);
		break;
	default:
		/* Not a valid address; say so without pretending it is one. */
		n = snprintf(tmp, sizeof(tmp), "(atyp-0x%02x)", a->atyp);
		sb_put(&sb, tmp, (size_t)n);
		break;
	}
	n = snprintf(tmp, sizeof(tmp), ":%u", (unsigned)a->port);
	sb_put(&sb, tmp, (size_t)n);
	return buf;
}

const char *
socks5_rep_str(uint8_t rep)
{
	if (rep < sizeof(rep_strs) / sizeof(rep_strs[0]) && rep_strs[rep])
		return rep_strs[rep];
	return "unassigned reply code";
}

const char *
socks5_status_str(enum socks5_status st)
{
	switch (st) {
	case SOCKS5_OK:
		return "ok";
	case SOCKS5_NEED_MORE:
		return "incomplete message";
	case SOCKS5_ERR_VERSION:
		return "bad version";
	case SOCKS5_ERR_NMETHODS:
		return "no methods offered";
	case SOCKS5_ERR_ATYP:
		return "unknown address type";
	case SOCKS5_ERR_NAME:
		return "bad domain name";
	}
	return "unknown status";
}
