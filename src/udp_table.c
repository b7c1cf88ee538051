/* SPDX-License-Identifier: ISC */
/*
 * udp_table.c - see udp_table.h.
 */
#include "config_auto.h"

#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "socks5.h"
#include "udp.h"
#include "udp_table.h"
#include "util.h"

/* udp.h: here, in the pure part of the module, for the metrics too. */
const char *const udp_drop_names[UDP_DROP_MAX] = {
	[UDP_DROP_SOURCE] = "source",
	[UDP_DROP_MALFORMED] = "malformed",
	[UDP_DROP_FRAG] = "frag",
	[UDP_DROP_DENIED] = "denied",
	[UDP_DROP_RESOLVE] = "resolve",
	[UDP_DROP_PENDING] = "pending",
	[UDP_DROP_SEND_UP] = "send_up",
	[UDP_DROP_KERNEL_UP] = "kernel_up",
	[UDP_DROP_FILTERED] = "filtered",
	[UDP_DROP_NO_CLIENT] = "no_client",
	[UDP_DROP_SEND_DOWN] = "send_down",
	[UDP_DROP_KERNEL_DOWN] = "kernel_down",
};

void
udp_addr_copy(union sockaddr_any *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	if (sa != NULL && sockaddr_len(sa) > 0)
		memcpy(out, sa, sockaddr_len(sa));
	sockaddr_unmap(out);
}

int
udp_source_init(struct udp_source *src, const struct sockaddr *tcp_client,
    const struct socks5_addr *req, bool strict, int family)
{
	union sockaddr_any peer, want;
	socklen_t len = sizeof(want);
	bool literal = false, zero = false;

	memset(src, 0, sizeof(*src));
	udp_addr_copy(&peer, tcp_client);
	sockaddr_set_port(&peer.sa, 0);
	memset(&want, 0, sizeof(want));
	if ((req->atyp == SOCKS5_ATYP_IPV4 || req->atyp == SOCKS5_ATYP_IPV6) &&
	    socks5_addr_to_sockaddr(req, &want.sa, &len) == 0)
		literal = true;
	else if (req->atyp == SOCKS5_ATYP_DOMAIN &&
	    sockaddr_parse_ip(req->u.name, 0, &want) == 0)
		literal = true;
	if (literal) {
		sockaddr_unmap(&want);
		sockaddr_set_port(&want.sa, 0);
		zero = sockaddr_is_unspecified(&want);
	}
	if (strict) {
		/* RFC 1928: the address and port the client will send from. */
		if (!literal)
			return SOCKS5_REP_ATYP_NOT_SUPPORTED;
		if (!zero) {
			if (want.sa.sa_family != family)
				return SOCKS5_REP_ATYP_NOT_SUPPORTED;
			src->ip = want;
		} else {
			src->ip = peer;
		}
		src->port = req->port;
		return 0;
	}
	/*
	 * Tolerant: many clients put the destination, or their address
	 * before NAT, in DST.ADDR. The IP is always the TCP client's; the
	 * port is believed only when the address agrees (or is zero).
	 */
	src->ip = peer;
	if (req->port != 0 && literal &&
	    (zero || sockaddr_equal_ip(&want.sa, &peer.sa)))
		src->port = req->port;
	return 0;
}

bool
udp_source_match(const struct udp_source *src, const struct sockaddr *from)
{
	union sockaddr_any f;

	udp_addr_copy(&f, from);
	if (!sockaddr_equal_ip(&src->ip.sa, &f.sa))
		return false;
	return src->port == 0 || sockaddr_port(&f.sa) == src->port;
}

bool
udp_source_learn(struct udp_source *src, const struct sockaddr *from)
{
	union sockaddr_any f;

	if (src->port != 0)
		return false;
	udp_addr_copy(&f, from);
	if (!sockaddr_equal_ip(&src->ip.sa, &f.sa) || sockaddr_port(&f.sa) == 0)
		return false;
	src->port = sockaddr_port(&f.sa);
	return true;
}

void
udp_map_init(struct udp_map *m)
{
	memset(m, 0, sizeof(*m));
}

/* The key of an address: family (4/6), bytes, port. false: not IP. */
static bool
map_key(const struct sockaddr *sa, bool with_port, struct udp_map_entry *k)
{
	union sockaddr_any a;

	udp_addr_copy(&a, sa);
	memset(k, 0, sizeof(*k));
	if (a.sa.sa_family == AF_INET) {
		k->family = 4;
		memcpy(k->addr, &a.sin.sin_addr, 4);
	} else if (a.sa.sa_family == AF_INET6) {
		k->family = 6;
		memcpy(k->addr, &a.sin6.sin6_addr, 16);
	} else {
		return false;
	}
	k->port = with_port ? sockaddr_port(&a.sa) : 0;
	return true;
}

static struct udp_map_entry *
map_set(struct udp_map *m, const struct udp_map_entry *k)
{
	uint8_t port[2] = { (uint8_t)(k->port & 0xff), (uint8_t)(k->port >> 8) };
	uint32_t h;

	h = util_fnv1a32(UTIL_FNV1A32_INIT, &k->family, 1);
	h = util_fnv1a32(h, k->addr, 16);
	h = util_fnv1a32(h, port, 2);
	return &m->e[(h % UDP_MAP_SETS) * UDP_MAP_WAYS];
}

static uint32_t
map_tick(struct udp_map *m)
{
	if (++m->tick == 0)
		m->tick = 1;
	return m->tick;
}

static bool
map_same(const struct udp_map_entry *e, const struct udp_map_entry *k)
{
	return e->used != 0 && e->family == k->family && e->port == k->port &&
	    memcmp(e->addr, k->addr, 16) == 0;
}

bool
udp_map_get(struct udp_map *m, const struct sockaddr *sa, bool with_port,
    uint8_t *val)
{
	struct udp_map_entry k, *set;
	size_t i;

	if (!map_key(sa, with_port, &k))
		return false;
	set = map_set(m, &k);
	for (i = 0; i < UDP_MAP_WAYS; i++) {
		if (map_same(&set[i], &k)) {
			set[i].used = map_tick(m);
			*val = set[i].val;
			return true;
		}
	}
	return false;
}

void
udp_map_put(struct udp_map *m, const struct sockaddr *sa, bool with_port,
    uint8_t val)
{
	struct udp_map_entry k, *set, *victim = NULL, *free_e = NULL;
	struct udp_map_entry *lru = NULL;
	size_t i;

	if (!map_key(sa, with_port, &k))
		return;
	set = map_set(m, &k);
	for (i = 0; i < UDP_MAP_WAYS; i++) {
		if (map_same(&set[i], &k)) {
			victim = &set[i];
			break;
		}
		if (set[i].used == 0) {
			if (free_e == NULL)
				free_e = &set[i];
		} else if (lru == NULL || set[i].used < lru->used) {
			lru = &set[i];
		}
	}
	/* The entry itself, else a free one, else the least recently used. */
	if (victim == NULL)
		victim = free_e != NULL ? free_e : lru;
	*victim = k;
	victim->val = val;
	victim->used = map_tick(m);
}

bool
udp_filter_allows(int filtering, struct udp_map *sent,
    const struct sockaddr *from)
{
	uint8_t v;

	if (filtering == CONFIG_UDP_ENDPOINT_INDEPENDENT)
		return true;
	return udp_map_get(sent, from, false, &v);
}

struct udp_name *
udp_names_find(struct udp_names *t, const char *name, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < UDP_NAMES_MAX; i++) {
		struct udp_name *e = &t->e[i];

		if (e->state == UDP_NAME_FREE || strcasecmp(e->name, name) != 0)
			continue;
		if (e->state != UDP_NAME_PENDING && now_ms >= e->expires_ms) {
			e->state = UDP_NAME_FREE;
			return NULL;
		}
		e->used_ms = now_ms;
		return e;
	}
	return NULL;
}

struct udp_name *
udp_names_add(struct udp_names *t, const char *name, uint64_t now_ms)
{
	struct udp_name *e = NULL;
	size_t i;

	for (i = 0; i < UDP_NAMES_MAX; i++) {
		struct udp_name *c = &t->e[i];

		if (c->state == UDP_NAME_FREE) {
			e = c;
			break;
		}
		if (c->state != UDP_NAME_PENDING &&
		    (e == NULL || c->used_ms < e->used_ms))
			e = c;
	}
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->state = UDP_NAME_PENDING;
	util_strlcpy(e->name, name, sizeof(e->name));
	e->used_ms = now_ms;
	return e;
}

void
udp_names_set(struct udp_name *e, const struct sockaddr *addr, uint32_t ttl_s,
    uint64_t now_ms)
{
	if (addr == NULL) {
		e->state = UDP_NAME_FAILED;
		e->expires_ms = now_ms + UDP_NAME_TTL_FAILED_S * 1000ull;
		return;
	}
	if (ttl_s == 0)
		ttl_s = UDP_NAME_TTL_UNKNOWN_S;
	if (ttl_s > UDP_NAME_TTL_MAX_S)
		ttl_s = UDP_NAME_TTL_MAX_S;
	e->state = UDP_NAME_OK;
	udp_addr_copy(&e->addr, addr);
	sockaddr_set_port(&e->addr.sa, 0);
	e->expires_ms = now_ms + (uint64_t)ttl_s * 1000ull;
}
