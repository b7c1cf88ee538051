/* SPDX-License-Identifier: ISC */
/*
 * socks6.c - the pure SOCKS 6 codec (draft-olteanu-intarea-socks-6-12);
 * see socks6.h.
 *
 * Like socks5.c, everything works on caller-supplied buffers only, and an
 * error is reported as soon as the bytes already in the buffer prove that
 * the message can never be valid. A request carries up to 20 KB of options,
 * so this matters more here than in SOCKS5: a client that announces 20 KB
 * and then sends a broken option header is closed at that header, not after
 * 20 KB have been buffered. The parsers therefore re-walk a growing buffer
 * from the start each time and check every field as soon as its octets are
 * there, in the order they arrive; a check never looks at a later octet
 * than the one that triggers it, which is what makes the verdict for a
 * prefix final (the fuzz harness checks it).
 *
 * Decisions the draft leaves open, and why:
 *
 *  - Domain names: 1 + L must be a multiple of 4 and the padding minimal
 *    (at most 3 NULs); a NUL may only be followed by NULs. The draft says
 *    the name is "padded by NUL characters, if needed", and every field is
 *    aligned. Accepting a misaligned L would read the next field from the
 *    wrong place: a sender that does not count its padding in L (as
 *    libsocks6msg's older layout did) is refused at the length octet
 *    instead of having its padding parsed as options.
 *  - The header's Padding octet and the "Padding = 0" octets inside fixed
 *    options are not checked (as RSV in socks5.c): the draft gives the
 *    receiver nothing to do about them. Padding after variable content
 *    (a name, an RFC 1929 request) must be NUL and minimal: there, extra or
 *    non-zero octets mean the sender's lengths disagree with ours.
 *  - Duplicates: Stack options may not repeat an (option, leg) pair (the
 *    draft: they "MUST NOT contradict one another or contain duplicate
 *    information"); Authentication Data may not repeat a method ("only one
 *    Authentication Data option per authentication method"). Every other
 *    kind read here carries one value per message (one initial data length,
 *    one selected method, one session, one token spent, one window), and a
 *    second copy can only contradict or repeat the first, so it is refused
 *    too. Unknown kinds may repeat: they are ignored.
 *  - A known option of the wrong size is an error (SOCKS6_ERR_OPTION_DATA),
 *    not "unsupported": its kind says what it is, so it is malformed. So is
 *    an option longer than its content plus minimal padding ("overlong").
 *  - Stack options of an unknown level or code, with leg 0, or on a leg
 *    their option does not allow (Happy Eyeballs, TFO, MPTCP, Backlog, UDP
 *    Error and Port Parity are drawn with leg 2 only) are unsupported and
 *    ignored, as the draft requires of unsupported Stack options.
 *  - Availability octets other than 1 and 2, a port parity above 2 or a
 *    reserve flag above 1 are errors: the draft defines those fields in
 *    full.
 *  - Idempotence Expenditure is 8 octets: its figure says Length = 4, its
 *    text says 8, and its 4-octet token needs 8.
 *  - Kinds 16-18 (resolution) are in the draft's IANA list but defined
 *    nowhere in -12 (removed in -08): unknown, ignored.
 *  - NOOP's "address and port MUST be 0" is left to the caller: the fields
 *    "have no meaning" for it, so a server need not look at them.
 */
#include "config_auto.h"

#include <string.h>

#include "socks6.h"

#define HDR_LEN		8	/* request and operation reply, up to ATYP */
#define AUTH_HDR_LEN	4	/* authentication reply */
#define OPT_HDR_LEN	4
#define IPV4_LEN	4
#define IPV6_LEN	16

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* How a Stack option's value is laid out in its two data octets. */
enum stack_value {
	V_OCTET,		/* one octet, then padding */
	V_AVAIL,		/* 1 or 2, then padding */
	V_U16,			/* 16 bits */
	V_PARITY,		/* parity 0..2, reserve 0..1 */
};

static const struct stack_def {
	uint8_t level;
	uint8_t code;
	uint8_t leg;		/* the only leg allowed, or 0 for any */
	uint8_t value;		/* enum stack_value */
} stack_defs[SOCKS6_STACK_NIDS] = {
	[SOCKS6_STACK_TOS] = { SOCKS6_LEVEL_IP, 1, 0, V_OCTET },
	[SOCKS6_STACK_HAPPY_EYEBALLS] =
	    { SOCKS6_LEVEL_IP, 2, SOCKS6_LEG_PROXY_REMOTE, V_AVAIL },
	[SOCKS6_STACK_TTL] = { SOCKS6_LEVEL_IP, 3, 0, V_OCTET },
	[SOCKS6_STACK_NOFRAG] = { SOCKS6_LEVEL_IP, 4, 0, V_AVAIL },
	[SOCKS6_STACK_TFO] =
	    { SOCKS6_LEVEL_TCP, 1, SOCKS6_LEG_PROXY_REMOTE, V_U16 },
	[SOCKS6_STACK_MULTIPATH] =
	    { SOCKS6_LEVEL_TCP, 2, SOCKS6_LEG_PROXY_REMOTE, V_AVAIL },
	[SOCKS6_STACK_BACKLOG] =
	    { SOCKS6_LEVEL_TCP, 3, SOCKS6_LEG_PROXY_REMOTE, V_U16 },
	[SOCKS6_STACK_UDP_ERROR] =
	    { SOCKS6_LEVEL_UDP, 1, SOCKS6_LEG_PROXY_REMOTE, V_AVAIL },
	[SOCKS6_STACK_PORT_PARITY] =
	    { SOCKS6_LEVEL_UDP, 2, SOCKS6_LEG_PROXY_REMOTE, V_PARITY },
};

#define STACK_LEN	8	/* every Stack option defined so far */

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A memset the compiler may not drop: for copies of a password. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static int
version_ok(uint8_t v, int flags)
{
	return v == SOCKS6_VERSION ||
	    (v == SOCKS6_VERSION_LEGACY && (flags & SOCKS6_ALLOW_LEGACY));
}

/* The Stack option id of (leg, level, code), or -1: unknown/unsupported. */
static int
stack_lookup(uint8_t leg, uint8_t level, uint8_t code)
{
	int i;

	if (leg == 0)
		return -1;
	for (i = 0; i < SOCKS6_STACK_NIDS; i++) {
		const struct stack_def *d = &stack_defs[i];

		if (d->level == level && d->code == code)
			return d->leg == 0 || d->leg == leg ? i : -1;
	}
	return -1;
}

/* Whether a value octet (the first data octet after level and code) can
 * begin a valid value of this kind. */
static int
stack_value_first_ok(const struct stack_def *d, uint8_t v)
{
	switch (d->value) {
	case V_AVAIL:
		return v == SOCKS6_AVAIL_NO || v == SOCKS6_AVAIL_YES;
	case V_PARITY:
		return v <= 2;
	default:
		return 1;
	}
}

static int
stack_value_ok(const struct stack_def *d, uint16_t value)
{
	switch (d->value) {
	case V_OCTET:
		return value <= 0xff;
	case V_AVAIL:
		return value == SOCKS6_AVAIL_NO || value == SOCKS6_AVAIL_YES;
	case V_PARITY:
		return (value >> 8) <= 2 && (value & 0xff) <= 1;
	default:
		return 1;
	}
}

/* Kinds this codec reads (the rest are ignored). */
static int
kind_known(uint16_t kind)
{
	return kind >= SOCKS6_OPT_STACK && kind <= SOCKS6_OPT_KIND_MAX &&
	    kind != 7;	/* 7 was Session Untrusted, removed in -10 */
}

/* Known kinds that may appear once per message (see the top comment). */
static int
kind_single(uint16_t kind)
{
	return kind_known(kind) && kind != SOCKS6_OPT_STACK &&
	    kind != SOCKS6_OPT_AUTH_DATA;
}

/* The least and greatest Length of an option of `kind`. */
static void
kind_limits(uint16_t kind, size_t *min, size_t *max)
{
	*min = OPT_HDR_LEN;
	*max = SOCKS6_OPTIONS_MAX;
	switch (kind) {
	case SOCKS6_OPT_STACK:		/* leg/level, code: 6, padded */
	case SOCKS6_OPT_AUTH_ADVERT:	/* initial data length: 6, padded */
	case SOCKS6_OPT_AUTH_DATA:	/* method: 5, padded */
	case SOCKS6_OPT_SESSION_ID:	/* not empty */
		*min = 8;
		break;
	case SOCKS6_OPT_AUTH_SELECT:
	case SOCKS6_OPT_IDEM_REQUEST:
	case SOCKS6_OPT_IDEM_SPEND:
		*min = *max = 8;
		break;
	case SOCKS6_OPT_IDEM_WINDOW:
		*min = *max = 12;
		break;
	case SOCKS6_OPT_SESSION_REQUEST:
	case SOCKS6_OPT_SESSION_OK:
	case SOCKS6_OPT_SESSION_INVALID:
	case SOCKS6_OPT_SESSION_TEARDOWN:
	case SOCKS6_OPT_IDEM_ACCEPTED:
	case SOCKS6_OPT_IDEM_REJECTED:
		*max = OPT_HDR_LEN;
		break;
	default:
		break;
	}
}

/*
 * An option's Length, `n` (1 or 2) of its octets at `lp`, for an option
 * of `kind` with `room` octets left in the block. The high octet alone
 * is judged first, and the same way when the low one is there, so the
 * verdict on a prefix never changes: OK means "nothing wrong so far".
 */
static enum socks6_status
check_opt_len(uint16_t kind, const uint8_t *lp, size_t n, size_t room)
{
	size_t least = (size_t)lp[0] << 8, olen, min, max;

	kind_limits(kind, &min, &max);
	if (least > room)
		return SOCKS6_ERR_OPTION;
	if (least > max)
		return SOCKS6_ERR_OPTION_DATA;
	if (n < 2)
		return SOCKS6_OK;
	olen = get_be16(lp);
	if (olen < OPT_HDR_LEN || olen % 4 != 0 || olen > room)
		return SOCKS6_ERR_OPTION;
	if (olen < min || olen > max)
		return SOCKS6_ERR_OPTION_DATA;
	return SOCKS6_OK;
}

/*
 * A Stack option's data: `d` has `n` of its `dlen` octets. Stores it in
 * `o` when whole.
 */
static enum socks6_status
body_stack(const uint8_t *d, size_t n, size_t dlen, struct socks6_options *o)
{
	const struct stack_def *def;
	struct socks6_stack_opt *s;
	uint8_t leg, legs;
	uint16_t value;
	int id;

	if (n < 2)
		return SOCKS6_NEED_MORE;
	leg = d[0] >> 6;
	id = stack_lookup(leg, d[0] & 0x3f, d[1]);
	if (id < 0) {
		if (n < dlen)
			return SOCKS6_NEED_MORE;
		o->nignored++;
		return SOCKS6_OK;
	}
	def = &stack_defs[id];
	s = &o->stack[id];
	if (OPT_HDR_LEN + dlen != STACK_LEN)
		return SOCKS6_ERR_OPTION_DATA;
	if (s->legs & leg)
		return SOCKS6_ERR_DUPLICATE;
	if (n < 3)
		return SOCKS6_NEED_MORE;
	if (!stack_value_first_ok(def, d[2]))
		return SOCKS6_ERR_OPTION_DATA;
	if (n < 4)
		return SOCKS6_NEED_MORE;
	if (def->value == V_U16 || def->value == V_PARITY)
		value = get_be16(d + 2);
	else
		value = d[2];	/* d[3] is padding */
	if (!stack_value_ok(def, value))
		return SOCKS6_ERR_OPTION_DATA;
	legs = s->legs | leg;
	if (leg & SOCKS6_LEG_CLIENT_PROXY)
		s->value[0] = value;
	if (leg & SOCKS6_LEG_PROXY_REMOTE)
		s->value[1] = value;
	s->legs = legs;
	o->kinds |= 1u << SOCKS6_OPT_STACK;
	return SOCKS6_OK;
}

/* An Authentication Method Advertisement's data. */
static enum socks6_status
body_auth_advert(const uint8_t *d, size_t n, size_t dlen,
    struct socks6_options *o)
{
	uint8_t seen[32];
	size_t i;

	if (n < 1)
		return SOCKS6_NEED_MORE;
	if (((size_t)d[0] << 8) > SOCKS6_INITIAL_DATA_MAX)
		return SOCKS6_ERR_OPTION_DATA;
	if (n < 2)
		return SOCKS6_NEED_MORE;
	if (get_be16(d) > SOCKS6_INITIAL_DATA_MAX)
		return SOCKS6_ERR_OPTION_DATA;
	if (n < dlen)
		return SOCKS6_NEED_MORE;
	o->initial_data_len = get_be16(d);
	memset(seen, 0, sizeof(seen));
	for (i = 2; i < dlen; i++) {
		uint8_t m = d[i];

		if (m == SOCKS5_METHOD_NONE || (seen[m >> 3] >> (m & 7)) & 1)
			continue;
		seen[m >> 3] |= (uint8_t)(1u << (m & 7));
		o->methods[o->nmethods++] = m;
	}
	return SOCKS6_OK;
}

/*
 * An RFC 1929 request inside an Authentication Data option: `d` has `n`
 * of the `cap` octets after the method (request and padding). `olen` is
 * the option's Length, which must be the request's, minimally padded.
 */
static enum socks6_status
body_password_request(const uint8_t *d, size_t n, size_t cap, size_t olen,
    struct socks6_options *o)
{
	size_t ulen, plen, need, i, used;

	/*
	 * VER ULEN UNAME PLEN PASSWD, both lengths 1..255, fill the option
	 * but its last 0-3 octets. Each octet narrows the Lengths that can
	 * still fit: the method octet already bounds it (12 .. 520), ULEN
	 * bounds it again, PLEN fixes it.
	 */
#define PW_OPT_LEN(ul, pl) pad4(OPT_HDR_LEN + 1 + 3 + (ul) + (pl))
	if (olen < PW_OPT_LEN(1, 1) || olen > PW_OPT_LEN(255, 255))
		return SOCKS6_ERR_OPTION_DATA;
	if (n < 1)
		return SOCKS6_NEED_MORE;
	if (d[0] != PASSWORD_VERSION)
		return SOCKS6_ERR_OPTION_DATA;
	if (n < 2)
		return SOCKS6_NEED_MORE;
	ulen = d[1];
	if (ulen == 0 || olen < PW_OPT_LEN(ulen, 1) ||
	    olen > PW_OPT_LEN(ulen, 255))
		return SOCKS6_ERR_OPTION_DATA;
	if (n < 3 + ulen)
		return SOCKS6_NEED_MORE;
	plen = d[2 + ulen];
	if (plen == 0 || olen != PW_OPT_LEN(ulen, plen))
		return SOCKS6_ERR_OPTION_DATA;
#undef PW_OPT_LEN
	need = 3 + ulen + plen;
	for (i = need; i < n; i++)
		if (d[i] != 0)
			return SOCKS6_ERR_OPTION_DATA;
	if (n < cap)
		return SOCKS6_NEED_MORE;
	if (password_parse_request(d, need, &o->password, &used) !=
	    PASSWORD_OK || used != need)
		return SOCKS6_ERR_OPTION_DATA;	/* not reached */
	o->has_password = 1;
	return SOCKS6_OK;
}

/*
 * An Authentication Data option's data; `base` is the offset of `d` from
 * the block's start. `seen` holds the methods already read.
 */
static enum socks6_status
body_auth_data(const uint8_t *d, size_t n, size_t dlen, size_t base,
    enum socks6_ctx ctx, uint8_t *seen, struct socks6_options *o)
{
	struct socks6_auth_data *ad;
	enum socks6_status st;
	uint8_t m;

	if (n < 1)
		return SOCKS6_NEED_MORE;
	m = d[0];
	if ((seen[m >> 3] >> (m & 7)) & 1)
		return SOCKS6_ERR_DUPLICATE;
	if (m == SOCKS5_METHOD_PASSWORD && ctx == SOCKS6_CTX_REQUEST) {
		st = body_password_request(d + 1, n - 1, dlen - 1,
		    OPT_HDR_LEN + dlen, o);
		if (st != SOCKS6_OK)
			return st;
	} else if (m == SOCKS5_METHOD_PASSWORD &&
	    ctx == SOCKS6_CTX_AUTH_REPLY) {
		/* METHOD, then the RFC 1929 reply VER STATUS, one pad. */
		if (OPT_HDR_LEN + dlen != 8)
			return SOCKS6_ERR_OPTION_DATA;
		if (n < 2)
			return SOCKS6_NEED_MORE;
		if (d[1] != PASSWORD_VERSION)
			return SOCKS6_ERR_OPTION_DATA;
		if (n < dlen)
			return SOCKS6_NEED_MORE;
		o->has_password = 1;
		o->password_status = d[2];
	} else if (n < dlen)
		return SOCKS6_NEED_MORE;

	seen[m >> 3] |= (uint8_t)(1u << (m & 7));
	ad = &o->auth[o->nauth++];
	ad->method = m;
	ad->off = (uint16_t)(base + 1);
	ad->len = (uint16_t)(dlen - 1);
	o->kinds |= 1u << SOCKS6_OPT_AUTH_DATA;
	return SOCKS6_OK;
}

/*
 * The data of the option of `kind` that starts `base` octets into the
 * block: `d` has `n` of its `dlen` octets (the Length has been checked).
 */
static enum socks6_status
body(uint16_t kind, const uint8_t *d, size_t n, size_t dlen, size_t base,
    enum socks6_ctx ctx, uint8_t *seen, struct socks6_options *o)
{
	enum socks6_status st = SOCKS6_OK;

	switch (kind) {
	case SOCKS6_OPT_STACK:
		return body_stack(d, n, dlen, o);
	case SOCKS6_OPT_AUTH_DATA:
		return body_auth_data(d, n, dlen, base + OPT_HDR_LEN, ctx,
		    seen, o);
	case SOCKS6_OPT_AUTH_ADVERT:
		st = body_auth_advert(d, n, dlen, o);
		break;
	case SOCKS6_OPT_IDEM_WINDOW:
		/* Size: 1 .. 2^31 - 1; its top octet may already say no. */
		if (n >= 5 && d[4] >= 0x80)
			return SOCKS6_ERR_OPTION_DATA;
		if (n == dlen && get_be32(d + 4) == 0)
			return SOCKS6_ERR_OPTION_DATA;
		break;
	default:
		break;
	}
	if (st != SOCKS6_OK)
		return st;
	if (n < dlen)
		return SOCKS6_NEED_MORE;

	switch (kind) {
	case SOCKS6_OPT_AUTH_SELECT:
		o->selected_method = d[0];	/* then 3 octets of padding */
		break;
	case SOCKS6_OPT_SESSION_ID:
		o->session_id_off = (uint16_t)(base + OPT_HDR_LEN);
		o->session_id_len = (uint16_t)dlen;
		break;
	case SOCKS6_OPT_IDEM_REQUEST:
		o->idem_request = get_be32(d);
		break;
	case SOCKS6_OPT_IDEM_WINDOW:
		o->idem_base = get_be32(d);
		o->idem_size = get_be32(d + 4);
		break;
	case SOCKS6_OPT_IDEM_SPEND:
		o->idem_token = get_be32(d);
		break;
	default:
		break;
	}
	if (kind_known(kind))
		o->kinds |= 1u << kind;
	else
		o->nignored++;
	return SOCKS6_OK;
}

/*
 * An options block of `total` octets (a multiple of 4, checked by the
 * caller) of which `avail` <= total are in `p`. NEED_MORE while what is
 * there is a valid prefix.
 */
static enum socks6_status
parse_opts(const uint8_t *p, size_t avail, size_t total, enum socks6_ctx ctx,
    struct socks6_options *o)
{
	uint8_t seen[32];	/* Authentication Data methods read */
	enum socks6_status st;
	size_t off = 0, have, room, olen, min, max, n;
	uint16_t kind;

	memset(o, 0, sizeof(*o));
	memset(seen, 0, sizeof(seen));
	/* Invariant: every option before `off` was whole and fine. */
	while (off < total) {
		have = avail - off;
		room = total - off;
		if (have < 2)
			return SOCKS6_NEED_MORE;
		kind = get_be16(p + off);
		/* A second single option, or Authentication Data when every
		 * method already has its own: no Length can save it. */
		if ((kind_single(kind) && SOCKS6_HAS(o, kind)) ||
		    (kind == SOCKS6_OPT_AUTH_DATA &&
		    o->nauth == NELEM(o->auth)))
			return SOCKS6_ERR_DUPLICATE;
		kind_limits(kind, &min, &max);
		if (min > room)
			return SOCKS6_ERR_OPTION;
		if (have < 3)
			return SOCKS6_NEED_MORE;
		st = check_opt_len(kind, p + off + 2, have < 4 ? 1 : 2, room);
		if (st != SOCKS6_OK)
			return st;
		if (have < 4)
			return SOCKS6_NEED_MORE;
		olen = get_be16(p + off + 2);
		n = min_size(have, olen) - OPT_HDR_LEN;
		st = body(kind, p + off + OPT_HDR_LEN, n, olen - OPT_HDR_LEN,
		    off, ctx, seen, o);
		if (st != SOCKS6_OK)
			return st;
		off += olen;
	}
	return SOCKS6_OK;
}

/*
 * Options Length: `n` (1 or 2) of its octets at `p`. Like check_opt_len,
 * the high octet is judged alone first.
 */
static enum socks6_status
check_optlen(const uint8_t *p, size_t n)
{
	uint16_t v;

	if (((size_t)p[0] << 8) > SOCKS6_OPTIONS_MAX)
		return SOCKS6_ERR_OPTLEN;
	if (n < 2)
		return SOCKS6_OK;
	v = get_be16(p);
	if (v > SOCKS6_OPTIONS_MAX || v % 4 != 0)
		return SOCKS6_ERR_OPTLEN;
	return SOCKS6_OK;
}

/*
 * ADDR of type `atyp`: `p` has `avail` octets of it and what follows.
 * On OK *alen is its length; the port is the caller's.
 */
static enum socks6_status
parse_addr(uint8_t atyp, const uint8_t *p, size_t avail,
    struct socks5_addr *a, size_t *alen)
{
	size_t l, i, n, name_len;
	int nul = 0;

	a->atyp = atyp;
	switch (atyp) {
	case SOCKS5_ATYP_IPV4:
		if (avail < IPV4_LEN)
			return SOCKS6_NEED_MORE;
		memcpy(a->u.ipv4, p, IPV4_LEN);
		*alen = IPV4_LEN;
		return SOCKS6_OK;
	case SOCKS5_ATYP_IPV6:
		if (avail < IPV6_LEN)
			return SOCKS6_NEED_MORE;
		memcpy(a->u.ipv6, p, IPV6_LEN);
		*alen = IPV6_LEN;
		return SOCKS6_OK;
	case SOCKS5_ATYP_DOMAIN:
		break;
	default:
		return SOCKS6_ERR_ATYP;
	}

	if (avail < 1)
		return SOCKS6_NEED_MORE;
	l = p[0];
	if (l == 0 || (1 + l) % 4 != 0)
		return SOCKS6_ERR_NAME;
	/*
	 * The name runs to the first NUL (there must be one octet before
	 * it); from there on, only NULs, and fewer than 4 of them. As in
	 * socks5.c, a NUL inside would cut the name short for every C
	 * string function downstream.
	 */
	n = min_size(avail - 1, l);
	name_len = l;
	for (i = 0; i < n; i++) {
		if (!nul) {
			if (p[1 + i] != 0)
				continue;
			if (i == 0 || l - i >= 4)
				return SOCKS6_ERR_NAME;
			nul = 1;
			name_len = i;
		} else if (p[1 + i] != 0)
			return SOCKS6_ERR_NAME;
	}
	if (avail < 1 + l)
		return SOCKS6_NEED_MORE;
	a->name_len = (uint8_t)name_len;
	memcpy(a->u.name, p + 1, name_len);
	a->u.name[name_len] = '\0';
	*alen = 1 + l;
	return SOCKS6_OK;
}

/* What the request and the operation reply have in common. */
struct addr_msg {
	uint8_t version;
	uint8_t code;
	uint8_t padding;
	uint16_t options_len;
	size_t options_off;
	struct socks5_addr *addr;
	struct socks6_options *opts;
};

/* VER CODE OPTLEN PORT PAD ATYP ADDR OPTIONS, checked in that order. */
static enum socks6_status
parse_addr_msg(const uint8_t *buf, size_t len, int flags, enum socks6_ctx ctx,
    struct addr_msg *m, size_t *used)
{
	enum socks6_status st;
	size_t alen = 0, off, optlen;

	if (len < 1)
		return SOCKS6_NEED_MORE;
	if (!version_ok(buf[0], flags))
		return SOCKS6_ERR_VERSION;
	if (len < 3)
		return SOCKS6_NEED_MORE;
	st = check_optlen(buf + 2, len < 4 ? 1 : 2);
	if (st != SOCKS6_OK)
		return st;
	if (len < HDR_LEN)
		return SOCKS6_NEED_MORE;
	memset(m->addr, 0, sizeof(*m->addr));
	st = parse_addr(buf[7], buf + HDR_LEN, len - HDR_LEN, m->addr, &alen);
	if (st != SOCKS6_OK)
		return st;
	m->addr->port = get_be16(buf + 4);
	off = HDR_LEN + alen;
	optlen = get_be16(buf + 2);
	st = parse_opts(buf + off, min_size(len - off, optlen), optlen, ctx,
	    m->opts);
	if (st != SOCKS6_OK)
		return st;
	m->version = buf[0];
	m->code = buf[1];
	m->padding = buf[6];
	m->options_len = (uint16_t)optlen;
	m->options_off = off;
	*used = off + optlen;
	return SOCKS6_OK;
}

enum socks6_status
socks6_parse_request(const uint8_t *buf, size_t len, int flags,
    struct socks6_request *out, size_t *used)
{
	struct addr_msg m;
	enum socks6_status st;

	memset(out, 0, sizeof(*out));
	m.addr = &out->dst;
	m.opts = &out->opts;
	st = parse_addr_msg(buf, len, flags, SOCKS6_CTX_REQUEST, &m, used);
	if (st == SOCKS6_OK) {
		out->version = m.version;
		out->cmd = m.code;
		out->padding = m.padding;
		out->options_len = m.options_len;
		out->options_off = m.options_off;
	}
	return st;
}

enum socks6_status
socks6_parse_op_reply(const uint8_t *buf, size_t len, int flags,
    struct socks6_op_reply *out, size_t *used)
{
	struct addr_msg m;
	enum socks6_status st;

	memset(out, 0, sizeof(*out));
	m.addr = &out->bnd;
	m.opts = &out->opts;
	st = parse_addr_msg(buf, len, flags, SOCKS6_CTX_OP_REPLY, &m, used);
	if (st == SOCKS6_OK) {
		out->version = m.version;
		out->rep = m.code;
		out->padding = m.padding;
		out->options_len = m.options_len;
		out->options_off = m.options_off;
	}
	return st;
}

enum socks6_status
socks6_parse_auth_reply(const uint8_t *buf, size_t len, int flags,
    struct socks6_auth_reply *out, size_t *used)
{
	enum socks6_status st;
	size_t optlen;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return SOCKS6_NEED_MORE;
	if (!version_ok(buf[0], flags))
		return SOCKS6_ERR_VERSION;
	if (len < 3)
		return SOCKS6_NEED_MORE;
	st = check_optlen(buf + 2, len < 4 ? 1 : 2);
	if (st != SOCKS6_OK)
		return st;
	if (len < AUTH_HDR_LEN)
		return SOCKS6_NEED_MORE;
	optlen = get_be16(buf + 2);
	st = parse_opts(buf + AUTH_HDR_LEN,
	    min_size(len - AUTH_HDR_LEN, optlen), optlen,
	    SOCKS6_CTX_AUTH_REPLY, &out->opts);
	if (st != SOCKS6_OK)
		return st;
	out->version = buf[0];
	out->type = buf[1];
	out->options_len = (uint16_t)optlen;
	out->options_off = AUTH_HDR_LEN;
	*used = AUTH_HDR_LEN + optlen;
	return SOCKS6_OK;
}

enum socks6_status
socks6_parse_options(const uint8_t *opts, size_t len, enum socks6_ctx ctx,
    struct socks6_options *out)
{
	enum socks6_status st;

	if (len > SOCKS6_OPTIONS_MAX || len % 4 != 0)
		return SOCKS6_ERR_OPTLEN;
	st = parse_opts(opts, len, len, ctx, out);
	/* With the whole block here nothing can be missing. */
	return st == SOCKS6_NEED_MORE ? SOCKS6_ERR_OPTION : st;
}

int
socks6_opt_next(const uint8_t *opts, size_t len, size_t *off,
    struct socks6_opt *out)
{
	size_t olen;

	if (*off >= len)
		return 0;
	if (len - *off < OPT_HDR_LEN)
		return -1;
	olen = get_be16(opts + *off + 2);
	if (olen < OPT_HDR_LEN || olen % 4 != 0 || olen > len - *off)
		return -1;
	out->kind = get_be16(opts + *off);
	out->len = (uint16_t)olen;
	out->data = opts + *off + OPT_HDR_LEN;
	*off += olen;
	return 1;
}

uint8_t
socks6_select_method(const struct socks6_options *o, const uint8_t *prefs,
    size_t nprefs)
{
	size_t i, j;

	/* The server's order wins, as in socks5_select_method(). */
	for (i = 0; i < nprefs; i++) {
		if (prefs[i] == SOCKS5_METHOD_NO_ACCEPTABLE)
			continue;
		if (prefs[i] == SOCKS5_METHOD_NONE)
			return SOCKS5_METHOD_NONE;
		for (j = 0; j < o->nmethods; j++)
			if (o->methods[j] == prefs[i])
				return prefs[i];
	}
	return SOCKS5_METHOD_NO_ACCEPTABLE;
}

/* ------------------------------------------------------------------ */
/* Encoders */

/*
 * One option: KIND LENGTH, then `a` and `b` (either may be empty), then
 * NULs to a multiple of 4. Bytes written or 0.
 */
static size_t
put_option(uint8_t *buf, size_t cap, uint16_t kind, const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen)
{
	size_t total;

	if (alen > SOCKS6_OPTIONS_MAX || blen > SOCKS6_OPTIONS_MAX)
		return 0;
	total = pad4(OPT_HDR_LEN + alen + blen);
	if (total > SOCKS6_OPTIONS_MAX || total > cap)
		return 0;
	put_be16(buf, kind);
	put_be16(buf + 2, (uint16_t)total);
	if (alen > 0)
		memcpy(buf + OPT_HDR_LEN, a, alen);
	if (blen > 0)
		memcpy(buf + OPT_HDR_LEN + alen, b, blen);
	memset(buf + OPT_HDR_LEN + alen + blen, 0,
	    total - OPT_HDR_LEN - alen - blen);
	return total;
}

size_t
socks6_encode_opt_stack(uint8_t *buf, size_t cap, enum socks6_stack_id id,
    uint8_t leg, uint16_t value)
{
	const struct stack_def *d;
	uint8_t data[4];

	if ((unsigned)id >= SOCKS6_STACK_NIDS || leg < 1 || leg > 3)
		return 0;
	d = &stack_defs[id];
	if ((d->leg != 0 && d->leg != leg) || !stack_value_ok(d, value))
		return 0;
	data[0] = (uint8_t)(leg << 6 | d->level);
	data[1] = d->code;
	if (d->value == V_U16 || d->value == V_PARITY)
		put_be16(data + 2, value);
	else {
		data[2] = (uint8_t)value;
		data[3] = 0;
	}
	return put_option(buf, cap, SOCKS6_OPT_STACK, data, sizeof(data),
	    NULL, 0);
}

size_t
socks6_encode_opt_auth_advert(uint8_t *buf, size_t cap, uint16_t initial,
    const uint8_t *methods, size_t nmethods)
{
	uint8_t idl[2];

	if (initial > SOCKS6_INITIAL_DATA_MAX)
		return 0;
	put_be16(idl, initial);
	return put_option(buf, cap, SOCKS6_OPT_AUTH_ADVERT, idl, sizeof(idl),
	    methods, nmethods);
}

size_t
socks6_encode_opt_auth_select(uint8_t *buf, size_t cap, uint8_t method)
{
	return put_option(buf, cap, SOCKS6_OPT_AUTH_SELECT, &method, 1,
	    NULL, 0);
}

size_t
socks6_encode_opt_auth_data(uint8_t *buf, size_t cap, uint8_t method,
    const uint8_t *data, size_t len)
{
	return put_option(buf, cap, SOCKS6_OPT_AUTH_DATA, &method, 1, data,
	    len);
}

size_t
socks6_encode_opt_password_request(uint8_t *buf, size_t cap,
    const uint8_t *uname, size_t ulen, const uint8_t *passwd, size_t plen)
{
	uint8_t req[PASSWORD_REQUEST_MAX];
	size_t n, w;

	n = password_encode_request(req, sizeof(req), uname, ulen, passwd,
	    plen);
	if (n == 0)
		return 0;
	w = socks6_encode_opt_auth_data(buf, cap, SOCKS5_METHOD_PASSWORD,
	    req, n);
	wipe(req, sizeof(req));
	return w;
}

size_t
socks6_encode_opt_password_reply(uint8_t *buf, size_t cap, uint8_t status)
{
	uint8_t rep[PASSWORD_REPLY_LEN];

	if (password_encode_reply(rep, sizeof(rep), status) != sizeof(rep))
		return 0;
	return socks6_encode_opt_auth_data(buf, cap, SOCKS5_METHOD_PASSWORD,
	    rep, sizeof(rep));
}

size_t
socks6_encode_opt_flag(uint8_t *buf, size_t cap, uint16_t kind)
{
	size_t min, max;

	if (!kind_known(kind))
		return 0;
	kind_limits(kind, &min, &max);
	if (max != OPT_HDR_LEN)
		return 0;
	return put_option(buf, cap, kind, NULL, 0, NULL, 0);
}

size_t
socks6_encode_opt_session_id(uint8_t *buf, size_t cap, const uint8_t *id,
    size_t len)
{
	if (len == 0 || len % 4 != 0)
		return 0;
	return put_option(buf, cap, SOCKS6_OPT_SESSION_ID, id, len, NULL, 0);
}

size_t
socks6_encode_opt_idem_request(uint8_t *buf, size_t cap, uint32_t size)
{
	uint8_t d[4];

	put_be32(d, size);
	return put_option(buf, cap, SOCKS6_OPT_IDEM_REQUEST, d, sizeof(d),
	    NULL, 0);
}

size_t
socks6_encode_opt_idem_window(uint8_t *buf, size_t cap, uint32_t base,
    uint32_t size)
{
	uint8_t d[8];

	if (size == 0 || size >= 0x80000000u)
		return 0;
	put_be32(d, base);
	put_be32(d + 4, size);
	return put_option(buf, cap, SOCKS6_OPT_IDEM_WINDOW, d, sizeof(d),
	    NULL, 0);
}

size_t
socks6_encode_opt_idem_spend(uint8_t *buf, size_t cap, uint32_t token)
{
	uint8_t d[4];

	put_be32(d, token);
	return put_option(buf, cap, SOCKS6_OPT_IDEM_SPEND, d, sizeof(d),
	    NULL, 0);
}

/*
 * Whether `opts` is a block the parser takes in context `ctx`: the
 * message encoders write nothing the parsers would refuse.
 */
static int
opts_valid(const uint8_t *opts, size_t optlen, enum socks6_ctx ctx)
{
	struct socks6_options o;
	enum socks6_status st;

	if (optlen > SOCKS6_OPTIONS_MAX || optlen % 4 != 0)
		return 0;
	if (optlen == 0)
		return 1;
	if (opts == NULL)
		return 0;
	st = socks6_parse_options(opts, optlen, ctx, &o);
	wipe(&o.password, sizeof(o.password));
	return st == SOCKS6_OK;
}

/* Wire length of ADDR for `a` (ATYP not included), or 0. */
static size_t
addr_wire_len(const struct socks5_addr *a)
{
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		return IPV4_LEN;
	case SOCKS5_ATYP_IPV6:
		return IPV6_LEN;
	case SOCKS5_ATYP_DOMAIN:
		if (a->name_len == 0 ||
		    memchr(a->u.name, '\0', a->name_len) != NULL)
			return 0;
		return pad4(1 + (size_t)a->name_len);
	default:
		return 0;
	}
}

/* Write ADDR; the caller has checked that addr_wire_len() octets fit. */
static void
put_addr(uint8_t *p, const struct socks5_addr *a, size_t alen)
{
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		memcpy(p, a->u.ipv4, IPV4_LEN);
		break;
	case SOCKS5_ATYP_IPV6:
		memcpy(p, a->u.ipv6, IPV6_LEN);
		break;
	default:
		/* L counts the padding: 1 + L is a multiple of 4. */
		p[0] = (uint8_t)(alen - 1);
		memcpy(p + 1, a->u.name, a->name_len);
		memset(p + 1 + a->name_len, 0, alen - 1 - a->name_len);
		break;
	}
}

static int
version_valid(uint8_t version)
{
	return version == SOCKS6_VERSION || version == SOCKS6_VERSION_LEGACY;
}

/* VER CODE OPTLEN PORT PAD=0 ATYP ADDR OPTIONS. */
static size_t
encode_addr_msg(uint8_t *buf, size_t cap, uint8_t version, uint8_t code,
    const struct socks5_addr *a, const uint8_t *opts, size_t optlen,
    enum socks6_ctx ctx)
{
	size_t alen;

	if (!version_valid(version) || !opts_valid(opts, optlen, ctx))
		return 0;
	alen = addr_wire_len(a);
	if (alen == 0 || cap < HDR_LEN + alen + optlen)
		return 0;
	buf[0] = version;
	buf[1] = code;
	put_be16(buf + 2, (uint16_t)optlen);
	put_be16(buf + 4, a->port);
	buf[6] = 0;
	buf[7] = a->atyp;
	put_addr(buf + HDR_LEN, a, alen);
	if (optlen > 0)
		memcpy(buf + HDR_LEN + alen, opts, optlen);
	return HDR_LEN + alen + optlen;
}

size_t
socks6_encode_version_mismatch(uint8_t *buf, size_t cap, uint8_t version)
{
	if (!version_valid(version) || cap < 1)
		return 0;
	buf[0] = version;
	return 1;
}

size_t
socks6_encode_request(uint8_t *buf, size_t cap, uint8_t version, uint8_t cmd,
    const struct socks5_addr *dst, const uint8_t *opts, size_t optlen)
{
	return encode_addr_msg(buf, cap, version, cmd, dst, opts, optlen,
	    SOCKS6_CTX_REQUEST);
}

size_t
socks6_encode_op_reply(uint8_t *buf, size_t cap, uint8_t version, uint8_t rep,
    const struct socks5_addr *bnd, const uint8_t *opts, size_t optlen)
{
	return encode_addr_msg(buf, cap, version, rep, bnd, opts, optlen,
	    SOCKS6_CTX_OP_REPLY);
}

size_t
socks6_encode_auth_reply(uint8_t *buf, size_t cap, uint8_t version,
    uint8_t type, const uint8_t *opts, size_t optlen)
{
	if (!version_valid(version) ||
	    !opts_valid(opts, optlen, SOCKS6_CTX_AUTH_REPLY) ||
	    cap < AUTH_HDR_LEN + optlen)
		return 0;
	buf[0] = version;
	buf[1] = type;
	put_be16(buf + 2, (uint16_t)optlen);
	if (optlen > 0)
		memcpy(buf + AUTH_HDR_LEN, opts, optlen);
	return AUTH_HDR_LEN + optlen;
}

const char *
socks6_rep_str(uint8_t rep)
{
	if (rep == SOCKS6_REP_TIMEOUT)
		return "connection attempt timed out";
	return socks5_rep_str(rep);
}

const char *
socks6_status_str(enum socks6_status st)
{
	switch (st) {
	case SOCKS6_OK:
		return "ok";
	case SOCKS6_NEED_MORE:
		return "incomplete message";
	case SOCKS6_ERR_VERSION:
		return "bad version";
	case SOCKS6_ERR_OPTLEN:
		return "bad options length";
	case SOCKS6_ERR_ATYP:
		return "unknown address type";
	case SOCKS6_ERR_NAME:
		return "bad domain name";
	case SOCKS6_ERR_OPTION:
		return "bad option length";
	case SOCKS6_ERR_OPTION_DATA:
		return "malformed option";
	case SOCKS6_ERR_DUPLICATE:
		return "duplicate option";
	}
	return "unknown status";
}
