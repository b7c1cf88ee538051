/* SPDX-License-Identifier: ISC */
/*
 * proxyproto.c - the PROXY protocol header parser, v1 and v2; see
 * proxyproto.h.
 *
 * Like socks5.c, it works on the caller's buffer only and reports an
 * error at the first byte that proves the header can never be valid.
 * For v2 that is a matter of checking each fixed byte as it arrives. For
 * v1 it means reading the line one character at a time with small
 * scanners (IPv4 and IPv6 text, ports) that know, after each character,
 * whether some completion of what they have read is still valid, and how
 * many characters the shortest one needs, so that a line that can no
 * longer end with its CRLF within PROXY_V1_MAX is refused at once too.
 * The addresses are then converted by inet_pton(), which has the last
 * word: the scanners follow its grammar (glibc's), and should they ever
 * accept what it refuses, the line is MALFORMED all the same.
 *
 * The parser keeps no state between calls: each call reads the buffer
 * from its start (at most PROXY_V1_MAX bytes for v1, 16 plus 36 for v2).
 */
#include "config_auto.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "proxyproto.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Version 2                                                          */
/* ------------------------------------------------------------------ */

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define V2_VERSION	2
#define V2_CMD_LOCAL	0
#define V2_CMD_PROXY	1
#define V2_FAM_UNSPEC	0
#define V2_FAM_INET	1
#define V2_FAM_INET6	2
#define V2_FAM_UNIX	3
#define V2_PROTO_STREAM	1
#define V2_PROTO_MAX	2	/* DGRAM */

/* The address block's length for each family: two addresses, two ports. */
static const size_t v2_addr_len[] = {
	[V2_FAM_UNSPEC] = 0,
	[V2_FAM_INET] = 2 * 4 + 2 * 2,
	[V2_FAM_INET6] = 2 * 16 + 2 * 2,
	[V2_FAM_UNIX] = 2 * 108,
};

static enum proxy_parse
parse_v2(const uint8_t *buf, size_t len, struct proxy_header *h, size_t *used)
{
	struct proxy_header r;
	const uint8_t *a;
	size_t n, total;
	unsigned cmd, fam, proto;

	n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
	if (memcmp(buf, v2_sig, n) != 0)
		return PROXY_MALFORMED;
	if (len <= sizeof(v2_sig))
		return PROXY_NEED_MORE;
	if (buf[12] >> 4 != V2_VERSION)
		return PROXY_MALFORMED;
	cmd = buf[12] & 0x0f;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return PROXY_MALFORMED;
	/* LOCAL ignores the family byte altogether: nothing to check there. */
	if (cmd == V2_CMD_PROXY && len > 13) {
		fam = buf[13] >> 4;
		proto = buf[13] & 0x0f;
		if (fam > V2_FAM_UNIX || proto > V2_PROTO_MAX)
			return PROXY_MALFORMED;
	}
	if (len < PROXY_V2_FIXED)
		return PROXY_NEED_MORE;

	n = (size_t)buf[14] << 8 | buf[15];
	total = PROXY_V2_FIXED + n;
	memset(&r, 0, sizeof(r));
	r.version = 2;
	r.local = true;
	if (cmd == V2_CMD_PROXY) {
		fam = buf[13] >> 4;
		proto = buf[13] & 0x0f;
		if (n < v2_addr_len[fam])
			return PROXY_MALFORMED;
		/*
		 * Only TCP is relayed as the client's own: a datagram or an
		 * unspecified protocol over INET is taken as the spec allows
		 * for what a receiver does not support, as local.
		 */
		if ((fam == V2_FAM_INET || fam == V2_FAM_INET6) &&
		    proto == V2_PROTO_STREAM) {
			if (len < PROXY_V2_FIXED + v2_addr_len[fam])
				return PROXY_NEED_MORE;
			a = buf + PROXY_V2_FIXED;
			r.local = false;
			if (fam == V2_FAM_INET) {
				r.src.sin.sin_family = AF_INET;
				r.dst.sin.sin_family = AF_INET;
				memcpy(&r.src.sin.sin_addr, a, 4);
				memcpy(&r.dst.sin.sin_addr, a + 4, 4);
				memcpy(&r.src.sin.sin_port, a + 8, 2);
				memcpy(&r.dst.sin.sin_port, a + 10, 2);
			} else {
				r.src.sin6.sin6_family = AF_INET6;
				r.dst.sin6.sin6_family = AF_INET6;
				memcpy(&r.src.sin6.sin6_addr, a, 16);
				memcpy(&r.dst.sin6.sin6_addr, a + 16, 16);
				memcpy(&r.src.sin6.sin6_port, a + 32, 2);
				memcpy(&r.dst.sin6.sin6_port, a + 34, 2);
			}
		}
	}
	*h = r;
	*used = total;
	return PROXY_DONE;
}

/* ------------------------------------------------------------------ */
/* Version 1: the scanners                                            */
/* ------------------------------------------------------------------ */

/*
 * Each scanner's step returns false when the character makes the text
 * something no completion can make valid; _done says whether the text so
 * far is valid as it stands (before its terminator); _rest is how many
 * characters the shortest valid completion adds.
 */

/* A dotted quad: four parts of 1-3 digits, 0..255, no leading zero. */
struct v4_scan {
	uint8_t parts;		/* parts finished by a '.' (0..3) */
	uint8_t digits;		/* digits of the current part */
	uint16_t val;		/* the current part's value */
};

static bool
v4_step(struct v4_scan *s, uint8_t c)
{
	if (c >= '0' && c <= '9') {
		/* "0" is a whole part: a digit after it is a leading zero. */
		if (s->digits > 0 && s->val == 0)
			return false;
		s->val = (uint16_t)(s->val * 10 + (c - '0'));
		if (s->val > 255)
			return false;
		s->digits++;
		return true;
	}
	if (c == '.' && s->digits > 0 && s->parts < 3) {
		s->parts++;
		s->digits = 0;
		s->val = 0;
		return true;
	}
	return false;
}

static bool
v4_done(const struct v4_scan *s)
{
	return s->parts == 3 && s->digits > 0;
}

static size_t
v4_rest(const struct v4_scan *s)
{
	/* A digit for an empty part, then ".0" for each missing one. */
	return (s->digits == 0 ? 1u : 0u) + 2u * (3u - s->parts);
}

/*
 * IPv6 text as inet_pton() reads it: up to eight groups of 1-4 hex
 * digits separated by ':', one "::" standing for one or more zero groups,
 * and optionally a dotted quad in place of the last two groups. The state
 * is what the last character was, the groups finished so far and whether
 * "::" was seen; each rule below refuses a character as soon as the count
 * of groups can no longer come out right (8 exactly without "::", at most
 * 7 with it, for it must stand for at least one).
 */
enum v6_last {
	V6_START = 0,		/* nothing read */
	V6_LEAD,		/* a leading ':', which must be "::" */
	V6_DIGIT,		/* a hex digit of the current group */
	V6_COLON,		/* a ':' that ended a group */
	V6_DCOLON,		/* the second ':' of "::" */
	V6_TAIL,		/* inside the dotted quad */
};

struct v6_scan {
	uint8_t last;		/* enum v6_last */
	uint8_t groups;		/* groups finished, the current one not counted */
	uint8_t xdigits;	/* hex digits of the current group */
	bool dcolon;		/* "::" seen */
	bool dec;		/* the current group may still be a quad's first part */
	struct v4_scan tail;	/* the current group read as decimal, then the quad */
};

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
v6_step(struct v6_scan *s, uint8_t c)
{
	switch (s->last) {
	case V6_LEAD:
		if (c != ':')
			return false;
		s->dcolon = true;
		s->last = V6_DCOLON;
		return true;
	case V6_TAIL:
		return v4_step(&s->tail, c);
	case V6_START:
		if (c == ':') {
			s->last = V6_LEAD;
			return true;
		}
		break;
	default:
		break;
	}

	if (hexval(c) >= 0) {
		if (s->last != V6_DIGIT) {
			/* A new group: it must fit in the count. */
			if (s->groups + 1 > (s->dcolon ? 7 : 8))
				return false;
			s->xdigits = 0;
			s->dec = true;
			memset(&s->tail, 0, sizeof(s->tail));
		}
		if (s->xdigits == 4)
			return false;
		s->xdigits++;
		if (s->dec)
			s->dec = c <= '9' && v4_step(&s->tail, c);
		s->last = V6_DIGIT;
		return true;
	}
	if (c == ':') {
		if (s->last == V6_DIGIT) {
			/*
			 * The group ends and, a lone ':' being no ending,
			 * something follows: another group, which with "::"
			 * must leave it its one, or without it "::" itself.
			 */
			if (s->groups + 1 >= (s->dcolon ? 7 : 8))
				return false;
			s->groups++;
			s->last = V6_COLON;
			return true;
		}
		if (s->last == V6_COLON && !s->dcolon) {
			s->dcolon = true;
			s->last = V6_DCOLON;
			return true;
		}
		return false;
	}
	if (c == '.') {
		/*
		 * The current group was a quad's first part; the quad takes
		 * the place of the last two groups.
		 */
		if (s->last != V6_DIGIT || !s->dec)
			return false;
		if (s->dcolon ? s->groups + 2 > 7 : s->groups + 2 != 8)
			return false;
		if (!v4_step(&s->tail, c))
			return false;
		s->last = V6_TAIL;
		return true;
	}
	return false;
}

static bool
v6_done(const struct v6_scan *s)
{
	switch (s->last) {
	case V6_DIGIT:
		return s->dcolon ? s->groups + 1 <= 7 : s->groups + 1 == 8;
	case V6_DCOLON:
		return true;
	case V6_TAIL:
		return v4_done(&s->tail);
	default:
		/* Nothing, ":" or a group's ':' with nothing after it. */
		return false;
	}
}

static size_t
v6_rest(const struct v6_scan *s)
{
	switch (s->last) {
	case V6_START:
		return 2;		/* "::" */
	case V6_LEAD:
	case V6_COLON:
		return 1;		/* ':' or a digit */
	case V6_DIGIT:
		return v6_done(s) ? 0 : 2;	/* "::" */
	case V6_TAIL:
		return v4_rest(&s->tail);
	default:
		return 0;
	}
}

/* A port: decimal 0..65535, no leading zero, no sign. */
struct port_scan {
	uint8_t digits;
	uint32_t val;
};

static bool
port_step(struct port_scan *p, uint8_t c)
{
	if (c < '0' || c > '9')
		return false;
	if (p->digits > 0 && p->val == 0)
		return false;
	p->val = p->val * 10 + (uint32_t)(c - '0');
	if (p->val > 65535)
		return false;
	p->digits++;
	return true;
}

/* ------------------------------------------------------------------ */
/* Version 1: the line                                                */
/* ------------------------------------------------------------------ */

enum v1_field {
	V1_KEYWORD = 0,		/* "PROXY TCP4 ", "PROXY TCP6 ", "PROXY UNKNOWN" */
	V1_SRC,
	V1_DST,
	V1_SPORT,
	V1_DPORT,
	V1_LF,			/* the CR is in; the LF must follow */
	V1_UNKNOWN,		/* UNKNOWN's tail, up to the CRLF */
};

struct v1_state {
	enum v1_field field;
	unsigned keywords;	/* the keywords still matched, one bit each */
	int family;		/* AF_INET or AF_INET6 once the keyword is in */
	struct v4_scan a4;
	struct v6_scan a6;
	struct port_scan port;
	size_t tok;		/* where the current address began */
	size_t src_off, src_len, dst_off, dst_len;
	uint16_t sport, dport;
	bool cr;		/* UNKNOWN's tail: the last byte was a CR */
};

static bool
addr_step(struct v1_state *v, uint8_t c)
{
	return v->family == AF_INET ? v4_step(&v->a4, c) : v6_step(&v->a6, c);
}

static bool
addr_done(const struct v1_state *v)
{
	return v->family == AF_INET ? v4_done(&v->a4) : v6_done(&v->a6);
}

static size_t
addr_rest(const struct v1_state *v)
{
	return v->family == AF_INET ? v4_rest(&v->a4) : v6_rest(&v->a6);
}

/* The shortest valid address of the line's family: "0.0.0.0" or "::". */
static size_t
addr_min(const struct v1_state *v)
{
	return v->family == AF_INET ? 7 : 2;
}

/*
 * The fewest bytes that can still end the line, after what has been
 * read: the rest of the current field, then the shortest of each field
 * after it (" 0 0\r\n" after the destination).
 */
static size_t
v1_rest(const struct v1_state *v)
{
	switch (v->field) {
	case V1_SRC:
		return addr_rest(v) + 1 + addr_min(v) + 6;
	case V1_DST:
		return addr_rest(v) + 6;
	case V1_SPORT:
		return (v->port.digits == 0 ? 1u : 0u) + 4;
	case V1_DPORT:
		return (v->port.digits == 0 ? 1u : 0u) + 2;
	case V1_LF:
		return 1;
	case V1_UNKNOWN:
		return v->cr ? 1 : 2;
	default:
		/* The keywords end well within the limit. */
		return 0;
	}
}

/*
 * The keywords a line may start with; the state keeps one bit for each
 * that the bytes read so far still match.
 */
static const struct {
	const char *text;
	enum v1_field next;
	int family;
} v1_keywords[] = {
	{ "PROXY TCP4 ", V1_SRC, AF_INET },
	{ "PROXY TCP6 ", V1_SRC, AF_INET6 },
	{ "PROXY UNKNOWN", V1_UNKNOWN, AF_UNSPEC },
};
#define V1_KEYWORDS_ALL ((1u << ARRAY_SIZE(v1_keywords)) - 1)

/* Byte i of the line, c, read while in the keywords. */
static bool
v1_keyword(struct v1_state *v, size_t i, uint8_t c)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(v1_keywords); k++) {
		if (!(v->keywords & 1u << k))
			continue;
		if (c != (uint8_t)v1_keywords[k].text[i]) {
			v->keywords &= ~(1u << k);
			continue;
		}
		/* At most one keyword ends here: they differ before. */
		if (v1_keywords[k].text[i + 1] == '\0') {
			v->field = v1_keywords[k].next;
			v->family = v1_keywords[k].family;
			v->tok = i + 1;
		}
	}
	return v->keywords != 0;
}

static bool
port_end(struct v1_state *v, uint16_t *out)
{
	if (v->port.digits == 0)
		return false;
	*out = (uint16_t)v->port.val;
	memset(&v->port, 0, sizeof(v->port));
	return true;
}

/* inet_pton() of buf[off..off+n) into *sa, with the port (host order). */
static bool
v1_addr(const uint8_t *buf, size_t off, size_t n, int family, uint16_t port,
    union sockaddr_any *sa)
{
	char text[INET6_ADDRSTRLEN];

	if (n >= sizeof(text))
		return false;
	memcpy(text, buf + off, n);
	text[n] = '\0';
	if (family == AF_INET) {
		sa->sin.sin_family = AF_INET;
		sa->sin.sin_port = htons(port);
		return inet_pton(AF_INET, text, &sa->sin.sin_addr) == 1;
	}
	sa->sin6.sin6_family = AF_INET6;
	sa->sin6.sin6_port = htons(port);
	return inet_pton(AF_INET6, text, &sa->sin6.sin6_addr) == 1;
}

static enum proxy_parse
parse_v1(const uint8_t *buf, size_t len, struct proxy_header *h, size_t *used)
{
	struct v1_state v;
	struct proxy_header r;
	size_t i;
	uint8_t c;

	memset(&v, 0, sizeof(v));
	v.keywords = V1_KEYWORDS_ALL;
	for (i = 0; i < len; i++) {
		c = buf[i];
		switch (v.field) {
		case V1_KEYWORD:
			if (!v1_keyword(&v, i, c))
				return PROXY_MALFORMED;
			break;
		case V1_SRC:
		case V1_DST:
			if (c != ' ') {
				if (!addr_step(&v, c))
					return PROXY_MALFORMED;
				break;
			}
			if (!addr_done(&v))
				return PROXY_MALFORMED;
			if (v.field == V1_SRC) {
				v.src_off = v.tok;
				v.src_len = i - v.tok;
				v.field = V1_DST;
			} else {
				v.dst_off = v.tok;
				v.dst_len = i - v.tok;
				v.field = V1_SPORT;
			}
			memset(&v.a4, 0, sizeof(v.a4));
			memset(&v.a6, 0, sizeof(v.a6));
			v.tok = i + 1;
			break;
		case V1_SPORT:
			if (c == ' ') {
				if (!port_end(&v, &v.sport))
					return PROXY_MALFORMED;
				v.field = V1_DPORT;
			} else if (!port_step(&v.port, c))
				return PROXY_MALFORMED;
			break;
		case V1_DPORT:
			if (c == '\r') {
				if (!port_end(&v, &v.dport))
					return PROXY_MALFORMED;
				v.field = V1_LF;
			} else if (!port_step(&v.port, c))
				return PROXY_MALFORMED;
			break;
		case V1_LF:
			if (c != '\n')
				return PROXY_MALFORMED;
			memset(&r, 0, sizeof(r));
			r.version = 1;
			if (!v1_addr(buf, v.src_off, v.src_len, v.family,
			    v.sport, &r.src) ||
			    !v1_addr(buf, v.dst_off, v.dst_len, v.family,
			    v.dport, &r.dst))
				return PROXY_MALFORMED;
			*h = r;
			*used = i + 1;
			return PROXY_DONE;
		case V1_UNKNOWN:
			if (v.cr) {
				if (c != '\n')
					return PROXY_MALFORMED;
				memset(&r, 0, sizeof(r));
				r.version = 1;
				r.local = true;
				*h = r;
				*used = i + 1;
				return PROXY_DONE;
			}
			/* The sender's text is ignored, but stays a line. */
			if (c == '\0' || c == '\n')
				return PROXY_MALFORMED;
			v.cr = c == '\r';
			break;
		}
		/*
		 * Bytes 0..i are in; the line must still be able to end
		 * within PROXY_V1_MAX. This also bounds the loop: past the
		 * keywords (13 bytes at most) every field's rest is at
		 * least 1, so no line reaches byte PROXY_V1_MAX unfinished.
		 */
		if (i + 1 + v1_rest(&v) > PROXY_V1_MAX)
			return PROXY_MALFORMED;
	}
	return PROXY_NEED_MORE;
}

enum proxy_parse
proxy_parse(const uint8_t *buf, size_t len, struct proxy_header *h,
    size_t *used)
{
	if (len == 0)
		return PROXY_NEED_MORE;
	/* The two versions part at the first byte: 'P' or the CR. */
	if (buf[0] == 'P')
		return parse_v1(buf, len, h, used);
	if (buf[0] == v2_sig[0])
		return parse_v2(buf, len, h, used);
	return PROXY_MALFORMED;
}
