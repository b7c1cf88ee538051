/* SPDX-License-Identifier: ISC */
/*
 * sockaddr.c - see sockaddr.h.
 *
 * Everything here is pure: inet_pton/inet_ntop and byte arithmetic, no
 * resolver, no syscalls. That matters because sockaddr_parse_ip() also sees
 * bytes chosen by clients (a DOMAINNAME such as "[::1]" in a request), so it
 * must stay cheap and must never touch the network or the kernel. For the
 * same reason an IPv6 zone is accepted only as a number ("fe80::1%2"): an
 * interface name would need if_nametoindex(), an ioctl.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sockaddr.h"

/* An IPv6 literal, a '%', a zone id of at most 10 digits, and a NUL. */
#define SOCKADDR_IP6_MAX (INET6_ADDRSTRLEN + 1 + 10 + 1)

socklen_t
sockaddr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

/*
 * Parse `len` bytes of decimal digits into *out, at most `max`. No sign, no
 * spaces, no empty string: strtoul would accept all three.
 */
static int
sockaddr_parse_uint(const char *s, size_t len, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static int
sockaddr_parse_port(const char *s, uint16_t *out)
{
	unsigned long v;

	if (sockaddr_parse_uint(s, strlen(s), 65535, &v) == -1)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* A dotted quad of exactly `len` bytes. */
static int
sockaddr_parse_ip4(const char *s, size_t len, uint16_t port,
    union sockaddr_any *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	memset(out, 0, sizeof(*out));
	out->sin.sin_family = AF_INET;
	out->sin.sin_addr = a;
	out->sin.sin_port = htons(port);
	return 0;
}

/* An IPv6 literal of exactly `len` bytes, no brackets, optional "%zone". */
static int
sockaddr_parse_ip6(const char *s, size_t len, uint16_t port,
    union sockaddr_any *out)
{
	char buf[SOCKADDR_IP6_MAX];
	struct in6_addr a;
	unsigned long scope = 0;
	char *pct;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	pct = strchr(buf, '%');
	if (pct != NULL) {
		*pct = '\0';
		if (sockaddr_parse_uint(pct + 1, strlen(pct + 1), UINT32_MAX,
		    &scope) == -1)
			return -1;
	}
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return -1;
	memset(out, 0, sizeof(*out));
	out->sin6.sin6_family = AF_INET6;
	out->sin6.sin6_addr = a;
	out->sin6.sin6_port = htons(port);
	out->sin6.sin6_scope_id = (uint32_t)scope;
	return 0;
}

int
sockaddr_parse_hostport(const char *s, union sockaddr_any *out)
{
	const char *colon, *close;
	uint16_t port;

	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		if (sockaddr_parse_port(close + 2, &port) == -1)
			return -1;
		return sockaddr_parse_ip6(s + 1, (size_t)(close - s - 1), port,
		    out);
	}
	colon = strrchr(s, ':');
	if (colon == NULL)
		return -1;
	/*
	 * "::1:80" could be the address ::1:80 or ::1 port 80; refuse to
	 * guess. sockaddr_parse_ip4() rejects any ':' left in the host part.
	 */
	if (sockaddr_parse_port(colon + 1, &port) == -1)
		return -1;
	return sockaddr_parse_ip4(s, (size_t)(colon - s), port, out);
}

int
sockaddr_parse_ip(const char *s, uint16_t port, union sockaddr_any *out)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		return sockaddr_parse_ip6(s + 1, len - 2, port, out);
	if (strchr(s, ':') != NULL)
		return sockaddr_parse_ip6(s, len, port, out);
	return sockaddr_parse_ip4(s, len, port, out);
}

char *
sockaddr_format_ip(const struct sockaddr *sa, char *buf, size_t cap)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	char ip[INET6_ADDRSTRLEN];

	if (cap == 0)
		return buf;
	switch (sa->sa_family) {
	case AF_INET:
		if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) == NULL)
			break;
		snprintf(buf, cap, "%s", ip);
		return buf;
	case AF_INET6:
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip)) == NULL)
			break;
		if (sin6->sin6_scope_id != 0)
			snprintf(buf, cap, "%s%%%u", ip,
			    (unsigned)sin6->sin6_scope_id);
		else
			snprintf(buf, cap, "%s", ip);
		return buf;
	default:
		break;
	}
	snprintf(buf, cap, "?");
	return buf;
}

char *
sockaddr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
	char ip[SOCKADDR_STRLEN];

	if (cap == 0)
		return buf;
	sockaddr_format_ip(sa, ip, sizeof(ip));
	switch (sa->sa_family) {
	case AF_INET:
		snprintf(buf, cap, "%s:%u", ip, (unsigned)sockaddr_port(sa));
		break;
	case AF_INET6:
		snprintf(buf, cap, "[%s]:%u", ip, (unsigned)sockaddr_port(sa));
		break;
	default:
		snprintf(buf, cap, "?");
		break;
	}
	return buf;
}

uint16_t
sockaddr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	default:
		return 0;
	}
}

void
sockaddr_set_port(struct sockaddr *sa, uint16_t port)
{
	switch (sa->sa_family) {
	case AF_INET:
		((struct sockaddr_in *)sa)->sin_port = htons(port);
		break;
	case AF_INET6:
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
		break;
	default:
		break;
	}
}

bool
sockaddr_equal_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6 *a6, *b6;

	if (a->sa_family != b->sa_family)
		return false;
	switch (a->sa_family) {
	case AF_INET:
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		/* fe80::1%2 and fe80::1%3 are different hosts. */
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id;
	default:
		return false;
	}
}

bool
sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return sockaddr_equal_ip(a, b) && sockaddr_port(a) == sockaddr_port(b);
}

bool
sockaddr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct in6_addr *a6;

	switch (sa->sa_family) {
	case AF_INET:
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127;
	default:
		return false;
	}
}

/* Clear the bits of `addr` past `prefix`. */
static void
cidr_mask(uint8_t *addr, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff00u >> prefix);
		prefix = 0;
	}
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix;
	unsigned max;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	if (slash == NULL)
		prefix = max;
	else if (sockaddr_parse_uint(slash + 1, strlen(slash + 1), max,
	    &prefix) == -1)
		return -1;
	out->prefix = (uint8_t)prefix;
	/*
	 * "192.168.1.10/24" means the network 192.168.1.0/24; masking here
	 * keeps cidr_match() a plain prefix comparison.
	 */
	cidr_mask(out->addr, max / 8, (unsigned)prefix);
	return 0;
}

/* Do the first `prefix` bits of `a` and `b` agree? */
static bool
cidr_prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	size_t full = prefix / 8;
	unsigned rest = prefix % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff00u >> rest);
	return (a[full] & mask) == (b[full] & mask);
}

bool
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct in6_addr *a6;

	switch (sa->sa_family) {
	case AF_INET:
		if (c->family != AF_INET)
			return false;
		return cidr_prefix_equal(c->addr,
		    (const uint8_t *)&sin->sin_addr, c->prefix);
	case AF_INET6:
		a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (c->family == AF_INET6)
			return cidr_prefix_equal(c->addr, a6->s6_addr,
			    c->prefix);
		/*
		 * A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d;
		 * they must meet the same IPv4 rules as on an IPv4 socket.
		 */
		if (c->family == AF_INET && IN6_IS_ADDR_V4MAPPED(a6))
			return cidr_prefix_equal(c->addr, a6->s6_addr + 12,
			    c->prefix);
		return false;
	default:
		return false;
	}
}

void
sockaddr_unmap(union sockaddr_any *a)
{
	struct sockaddr_in sin;

	if (a->sa.sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&a->sin6.sin6_addr))
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = a->sin6.sin6_port;
	memcpy(&sin.sin_addr, &a->sin6.sin6_addr.s6_addr[12], 4);
	memset(a, 0, sizeof(*a));
	a->sin = sin;
}

bool
sockaddr_is_unspecified(const union sockaddr_any *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
	return false;
}

/* The IPv4 address a NAT64 address embeds after `len` bits (RFC 6052 2.2). */
static void
sockaddr_nat64_extract(const uint8_t *a6, unsigned len, uint8_t *v4)
{
	unsigned pos = len / 8, k;

	for (k = 0; k < 4; k++) {
		if (pos == 8)
			pos++;		/* bits 64..71, the "u" octet */
		v4[k] = a6[pos++];
	}
}

static bool
sockaddr_pref64_valid(unsigned len)
{
	return len == 32 || len == 40 || len == 48 || len == 56 ||
	    len == 64 || len == 96;
}

enum sockaddr_reach
sockaddr_reach(const struct sockaddr *sa, const struct in6_addr *pref64,
    unsigned pref64_len, union sockaddr_any *out)
{
	/* 64:ff9b::/96, RFC 6052 section 2.1. */
	static const uint8_t wkp[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t zero[12];
	const struct sockaddr_in6 *sin6;
	const uint8_t *b;
	uint8_t v4[4];
	bool embeds = false;

	memset(out, 0, sizeof(*out));
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&out->sin, sa, sizeof(out->sin));
		b = (const uint8_t *)&out->sin.sin_addr;
		return b[0] == 0 ? SOCKADDR_REACH_UNSPECIFIED :
		    SOCKADDR_REACH_ADDR;
	case AF_INET6:
		break;
	default:
		return SOCKADDR_REACH_NONE;
	}
	sin6 = (const struct sockaddr_in6 *)sa;
	b = sin6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) ||
	    memcmp(b, wkp, sizeof(wkp)) == 0) {
		memcpy(v4, b + 12, 4);
		embeds = true;
	} else if (memcmp(b, zero, sizeof(zero)) == 0) {
		/* ::a.b.c.d, but :: itself and ::1 are IPv6 addresses. */
		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
			memcpy(&out->sin6, sin6, sizeof(out->sin6));
			return SOCKADDR_REACH_UNSPECIFIED;
		}
		if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
			memcpy(v4, b + 12, 4);
			embeds = true;
		}
	} else if (pref64 != NULL && sockaddr_pref64_valid(pref64_len) &&
	    cidr_prefix_equal(pref64->s6_addr, b, pref64_len)) {
		sockaddr_nat64_extract(b, pref64_len, v4);
		embeds = true;
	}
	if (!embeds) {
		memcpy(&out->sin6, sin6, sizeof(out->sin6));
		return SOCKADDR_REACH_ADDR;
	}
	out->sin.sin_family = AF_INET;
	out->sin.sin_port = sin6->sin6_port;
	memcpy(&out->sin.sin_addr, v4, 4);
	return v4[0] == 0 ? SOCKADDR_REACH_UNSPECIFIED : SOCKADDR_REACH_ADDR;
}
