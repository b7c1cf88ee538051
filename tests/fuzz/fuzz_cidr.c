/* SPDX-License-Identifier: ISC */
/*
 * fuzz_cidr.c - libFuzzer harness for the address-shaped strings of the
 * configuration and the access rules: networks (cidr_parse(),
 * cidr_match()), port ranges (acl_parse_ports()), addresses with and
 * without a port (sockaddr_parse_hostport(), sockaddr_parse_ip(), which
 * also sees a client's DOMAINNAME such as "[::1]") and host patterns
 * (acl_host_match()).
 *
 * The input, cut at its first NUL, is given to every parser. Checks:
 *
 *  - a network is IPv4 with a prefix of at most 32 or IPv6 with at most
 *    128, has no host bits set, and written back as ADDR/PREFIX parses to
 *    the same network; it matches its own address, an address differing
 *    in a host bit, and (IPv4) that address mapped into IPv6, but not one
 *    differing in its last network bit; without a '/', it is the
 *    address sockaddr_parse_ip() reads, as a /32 or /128;
 *  - a port range is 1 <= lo <= hi, written back ("443", "1-2") parses to
 *    the same, and is accepted only for DIGITS or DIGITS-DIGITS with the
 *    values strtoul reads;
 *  - an address formatted and parsed again is the same address, port and
 *    scope; "IP:PORT" is IPv6 only in brackets; formatting into any
 *    smaller buffer gives a terminated prefix of the full text;
 *  - host patterns: the input split at its first '\n' into a pattern and
 *    a name agrees with the rule in acl.h, checked on its own.
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/cidr) in `make check`.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "sockaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* Longer than anything any of these parsers accepts. */
#define INPUT_MAX	600

/* The address of network `c` as a socket address, port 0. */
static void
cidr_sockaddr(const struct cidr *c, union sockaddr_any *a)
{
	memset(a, 0, sizeof(*a));
	if (c->family == AF_INET) {
		a->sin.sin_family = AF_INET;
		memcpy(&a->sin.sin_addr, c->addr, 4);
	} else {
		a->sin6.sin6_family = AF_INET6;
		memcpy(&a->sin6.sin6_addr, c->addr, 16);
	}
}

/* Bit `bit` (0: the first) of the address in `a`. */
static void
flip_bit(union sockaddr_any *a, unsigned bit)
{
	uint8_t *b = a->sa.sa_family == AF_INET ?
	    (uint8_t *)&a->sin.sin_addr : a->sin6.sin6_addr.s6_addr;

	b[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
}

static void
check_cidr(const char *s)
{
	struct cidr c, again;
	union sockaddr_any a, ip;
	char text[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];
	unsigned max, i, bytes;

	memset(&c, 0x5a, sizeof(c));
	if (cidr_parse(s, &c) == -1)
		return;
	FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6);
	max = c.family == AF_INET ? 32 : 128;
	bytes = max / 8;
	FUZZ_CHECK(c.prefix <= max);
	/* No host bits; nothing past the family's bytes. */
	for (i = c.prefix; i < max; i++)
		FUZZ_CHECK((c.addr[i / 8] & (0x80u >> (i % 8))) == 0);
	for (i = bytes; i < sizeof(c.addr); i++)
		FUZZ_CHECK(c.addr[i] == 0);

	/* Written back, it reads the same. */
	FUZZ_CHECK(inet_ntop(c.family, c.addr, addr, sizeof(addr)) != NULL);
	snprintf(text, sizeof(text), "%s/%u", addr, (unsigned)c.prefix);
	memset(&again, 0xa5, sizeof(again));
	FUZZ_CHECK(cidr_parse(text, &again) == 0);
	FUZZ_CHECK(memcmp(&again, &c, sizeof(c)) == 0);

	/* Its own address and its host bits match; the network bits don't. */
	cidr_sockaddr(&c, &a);
	FUZZ_CHECK(cidr_match(&c, &a.sa));
	if (c.prefix < max) {
		flip_bit(&a, max - 1);
		FUZZ_CHECK(cidr_match(&c, &a.sa));
		flip_bit(&a, max - 1);
	}
	if (c.prefix > 0) {
		flip_bit(&a, c.prefix - 1u);
		FUZZ_CHECK(!cidr_match(&c, &a.sa));
		flip_bit(&a, c.prefix - 1u);
	}
	if (c.family == AF_INET) {
		union sockaddr_any m;

		/* A dual-stack listener's view of an IPv4 client. */
		memset(&m, 0, sizeof(m));
		m.sin6.sin6_family = AF_INET6;
		m.sin6.sin6_addr.s6_addr[10] = 0xff;
		m.sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(m.sin6.sin6_addr.s6_addr + 12, c.addr, 4);
		FUZZ_CHECK(cidr_match(&c, &m.sa));
		/* Not in an IPv4 network: an IPv6 address that is not mapped. */
		m.sin6.sin6_addr.s6_addr[10] = 0;
		FUZZ_CHECK(!cidr_match(&c, &m.sa));
	} else {
		union sockaddr_any v4;

		memset(&v4, 0, sizeof(v4));
		v4.sin.sin_family = AF_INET;
		memcpy(&v4.sin.sin_addr, c.addr + 12, 4);
		FUZZ_CHECK(!cidr_match(&c, &v4.sa));
	}

	/* A bare address is the host: the address the other parser reads. */
	if (strchr(s, '/') == NULL) {
		FUZZ_CHECK(c.prefix == max);
		FUZZ_CHECK(sockaddr_parse_ip(s, 0, &ip) == 0);
		FUZZ_CHECK(sockaddr_equal(&ip.sa, &a.sa));
	}
}

static void
check_ports(const char *s)
{
	struct port_range r, again;
	const char *dash = strchr(s, '-');
	unsigned long lo, hi;
	char text[16];
	size_t i;

	memset(&r, 0x5a, sizeof(r));
	if (acl_parse_ports(s, &r) == -1)
		return;
	FUZZ_CHECK(r.lo >= 1 && r.lo <= r.hi);
	/* Only DIGITS or DIGITS-DIGITS, with the values they spell. */
	for (i = 0; s[i] != '\0'; i++)
		FUZZ_CHECK((s[i] >= '0' && s[i] <= '9') ||
		    (s + i == dash && i > 0 && s[i + 1] != '\0'));
	lo = strtoul(s, NULL, 10);
	hi = dash != NULL ? strtoul(dash + 1, NULL, 10) : lo;
	FUZZ_CHECK(lo == r.lo && hi == r.hi);

	if (r.lo == r.hi)
		snprintf(text, sizeof(text), "%u", (unsigned)r.lo);
	else
		snprintf(text, sizeof(text), "%u-%u", (unsigned)r.lo,
		    (unsigned)r.hi);
	memset(&again, 0xa5, sizeof(again));
	FUZZ_CHECK(acl_parse_ports(text, &again) == 0);
	FUZZ_CHECK(again.lo == r.lo && again.hi == r.hi);
}

/* Formatting into every smaller buffer: terminated prefixes of `full`. */
static void
check_format_cut(const union sockaddr_any *a, const char *full, bool port)
{
	char small[SOCKADDR_STRLEN];
	size_t cap, len = strlen(full);

	for (cap = 1; cap <= len + 1 && cap <= sizeof(small); cap++) {
		memset(small, 'Z', sizeof(small));
		if (port)
			sockaddr_format(&a->sa, small, cap);
		else
			sockaddr_format_ip(&a->sa, small, cap);
		FUZZ_CHECK(memchr(small, '\0', cap) != NULL);
		FUZZ_CHECK(strncmp(small, full, strlen(small)) == 0);
	}
}

static void
check_addrs(const char *s, uint16_t port)
{
	union sockaddr_any a, again;
	char text[SOCKADDR_STRLEN];

	memset(&a, 0x5a, sizeof(a));
	if (sockaddr_parse_hostport(s, &a) == 0) {
		FUZZ_CHECK(a.sa.sa_family == AF_INET ||
		    a.sa.sa_family == AF_INET6);
		/* "::1:80" is never guessed at: IPv6 needs brackets. */
		FUZZ_CHECK((a.sa.sa_family == AF_INET6) == (s[0] == '['));
		sockaddr_format(&a.sa, text, sizeof(text));
		FUZZ_CHECK(strlen(text) < sizeof(text) - 1);
		memset(&again, 0xa5, sizeof(again));
		FUZZ_CHECK(sockaddr_parse_hostport(text, &again) == 0);
		FUZZ_CHECK(sockaddr_equal(&a.sa, &again.sa));
		FUZZ_CHECK(memcmp(&a, &again, sockaddr_len(&a.sa)) == 0);
		check_format_cut(&a, text, true);
	}

	memset(&a, 0x5a, sizeof(a));
	if (sockaddr_parse_ip(s, port, &a) == 0) {
		FUZZ_CHECK(a.sa.sa_family == AF_INET ||
		    a.sa.sa_family == AF_INET6);
		FUZZ_CHECK(sockaddr_port(&a.sa) == port);
		sockaddr_format_ip(&a.sa, text, sizeof(text));
		memset(&again, 0xa5, sizeof(again));
		FUZZ_CHECK(sockaddr_parse_ip(text, port, &again) == 0);
		FUZZ_CHECK(sockaddr_equal(&a.sa, &again.sa));
		FUZZ_CHECK(memcmp(&a, &again, sockaddr_len(&a.sa)) == 0);
		check_format_cut(&a, text, false);
	}
}

/* acl.h's rule for host patterns, written out on its own. */
static bool
model_host_match(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern), nl = strlen(name);

	if (pl > 0 && pattern[pl - 1] == '.')
		pl--;
	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	if (pl == 1 && pattern[0] == '*')
		return true;
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* Below the suffix: at least one byte before its dot. */
		size_t sl = pl - 2;

		if (nl < sl + 2)
			return false;
		return name[nl - sl - 1] == '.' &&
		    strncasecmp(name + nl - sl, pattern + 2, sl) == 0;
	}
	return pl == nl && strncasecmp(pattern, name, pl) == 0;
}

static void
check_hosts(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl == NULL)
		return;
	*nl = '\0';
	FUZZ_CHECK(acl_host_match(s, nl + 1) == model_host_match(s, nl + 1));
	*nl = '\n';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size < INPUT_MAX ? size : INPUT_MAX;
	uint16_t port = 0;
	char *s = malloc(len + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, len);
	s[len] = '\0';
	if (size >= 2)
		port = (uint16_t)(data[size - 2] << 8 | data[size - 1]);
	check_cidr(s);
	check_ports(s);
	check_addrs(s, port);
	check_hosts(s);
	free(s);
	return 0;
}
