/* SPDX-License-Identifier: ISC */
/*
 * happy.c - see happy.h.
 *
 * The scheduler in one picture (attempt delay D, resolution delay R):
 *
 *   lookups:  AAAA ------------------> answer      A --> answer
 *   race:     preferred answer: start at once; other family first: wait
 *             up to R for the preferred one, then start anyway
 *   attempts: #1 at t, #2 at t+D (or at once when #1 failed), #3 ...
 *             every attempt keeps running until the race ends
 *   end:      the first attempt to connect wins (the connector's
 *             business); no attempt left, none running, no lookup
 *             pending, or the deadline: fail with the best reply code
 *
 * Which candidate goes next is decided when it starts, not when the list
 * is built, so that answers arriving late (the other family, NAT64
 * synthesis) slot into the interleaving where they belong.
 *
 * With Happy Eyeballs off (happy_set_on()) there is no race: one family,
 * its candidates in order, one attempt at a time until the deadline.
 */
#include "config_auto.h"

#include <errno.h>
#include <string.h>

#include "happy.h"
#include "socks5.h"
#include "util.h"

/* --- RFC 6724 -------------------------------------------------------------- */

/* An address as IPv6 (IPv4 as ::ffff:a.b.c.d), as RFC 6724 compares them. */
static void
as_v6(const struct sockaddr *sa, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	} else if (sa->sa_family == AF_INET) {
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12],
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	}
}

/* Length of the common prefix of a and b, in bits, at most `max`. */
static int
common_prefix(const struct in6_addr *a, const struct in6_addr *b, int max)
{
	int bits = 0, i;

	for (i = 0; i < 16 && bits < max; i++) {
		uint8_t x = a->s6_addr[i] ^ b->s6_addr[i];

		if (x == 0) {
			bits += 8;
			continue;
		}
		while (!(x & 0x80)) {
			bits++;
			x <<= 1;
		}
		break;
	}
	return bits < max ? bits : max;
}

/* RFC 6724 section 2.1, longest prefixes first. */
static const struct {
	uint8_t prefix[16];
	int len, precedence, label;
} policy[] = {
	{ { 0,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,1 }, 128, 50, 0 },	/* ::1 */
	{ { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, 0,0,0,0 }, 96, 35, 4 },	/* ::ffff:0:0/96 */
	{ { 0 }, 96, 1, 3 },						/* ::/96 */
	{ { 0x20,0x01,0,0 }, 32, 5, 5 },				/* 2001::/32 */
	{ { 0x20,0x02 }, 16, 30, 2 },					/* 2002::/16 */
	{ { 0x3f,0xfe }, 16, 1, 12 },					/* 3ffe::/16 */
	{ { 0xfe,0xc0 }, 10, 1, 11 },					/* fec0::/10 */
	{ { 0xfc }, 7, 3, 13 },						/* fc00::/7 */
	{ { 0 }, 0, 40, 1 },						/* ::/0 */
};

static size_t
policy_of(const struct sockaddr *sa)
{
	struct in6_addr a;
	size_t i;

	as_v6(sa, &a);
	for (i = 0; i < sizeof(policy) / sizeof(policy[0]) - 1; i++) {
		struct in6_addr p;

		memcpy(&p, policy[i].prefix, 16);
		if (common_prefix(&a, &p, policy[i].len) == policy[i].len)
			break;
	}
	return i;
}

int
happy_precedence(const struct sockaddr *sa)
{
	return policy[policy_of(sa)].precedence;
}

int
happy_label(const struct sockaddr *sa)
{
	return policy[policy_of(sa)].label;
}

/* RFC 6724 section 3.1 (and RFC 4291 for multicast). */
int
happy_scope(const struct sockaddr *sa)
{
	struct in6_addr a;

	if (sa->sa_family == AF_INET) {
		const uint8_t *b = (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;

		/* Loopback and 169.254/16 are link-local; the rest global. */
		if (b[0] == 127 || (b[0] == 169 && b[1] == 254))
			return 2;
		return 14;
	}
	as_v6(sa, &a);
	if (a.s6_addr[0] == 0xff)
		return a.s6_addr[1] & 0x0f;
	if (IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_LINKLOCAL(&a))
		return 2;
	if (IN6_IS_ADDR_SITELOCAL(&a))
		return 5;
	return 14;
}

static bool
has_src(const struct happy_dst *d)
{
	return d->src.sa.sa_family == AF_INET || d->src.sa.sa_family == AF_INET6;
}

/* < 0: a goes first; > 0: b goes first; 0: keep their order (rule 10). */
static int
dst_cmp(const struct happy_dst *a, const struct happy_dst *b)
{
	const struct sockaddr *da = &a->addr.sa, *db = &b->addr.sa;
	bool srcs = has_src(a) && has_src(b);
	int x, y;

	/* Rule 1: avoid unusable destinations. */
	if (a->unusable != b->unusable)
		return a->unusable ? 1 : -1;
	if (srcs) {
		/* Rule 2: prefer matching scope. */
		x = happy_scope(da) == happy_scope(&a->src.sa);
		y = happy_scope(db) == happy_scope(&b->src.sa);
		if (x != y)
			return x ? -1 : 1;
		/* Rule 5: prefer matching label. */
		x = happy_label(da) == happy_label(&a->src.sa);
		y = happy_label(db) == happy_label(&b->src.sa);
		if (x != y)
			return x ? -1 : 1;
	}
	/* Rule 6: prefer higher precedence. */
	x = happy_precedence(da);
	y = happy_precedence(db);
	if (x != y)
		return x > y ? -1 : 1;
	/* Rule 8: prefer smaller scope. */
	x = happy_scope(da);
	y = happy_scope(db);
	if (x != y)
		return x < y ? -1 : 1;
	/*
	 * Rule 9: longest matching prefix, for IPv6 only (applied to IPv4
	 * it defeats DNS round robin, RFC 6724 section 6 says as much), and
	 * only up to the 64-bit prefix of the source.
	 */
	if (srcs && da->sa_family == AF_INET6 && db->sa_family == AF_INET6 &&
	    a->src.sa.sa_family == AF_INET6 && b->src.sa.sa_family == AF_INET6) {
		struct in6_addr pa, pb, sa6, sb6;

		as_v6(da, &pa);
		as_v6(db, &pb);
		as_v6(&a->src.sa, &sa6);
		as_v6(&b->src.sa, &sb6);
		x = common_prefix(&sa6, &pa, 64);
		y = common_prefix(&sb6, &pb, 64);
		if (x != y)
			return x > y ? -1 : 1;
	}
	return 0;
}

void
happy_sort(struct happy_dst *v, size_t n)
{
	size_t i, j;

	/* Insertion sort: stable, and n is at most a few dozen. */
	for (i = 1; i < n; i++) {
		struct happy_dst t = v[i];

		for (j = i; j > 0 && dst_cmp(&t, &v[j - 1]) < 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/* --- interleaving ---------------------------------------------------------- */

static int
other_family(int f)
{
	return f == AF_INET6 ? AF_INET : AF_INET6;
}

static int
family_of(const union sockaddr_any *a)
{
	return a->sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
}

/*
 * The family of the next attempt, given the families of those started so
 * far (hist), and which families still have an untried address.
 */
static int
pick_family(const int *hist, size_t nh, int first_family, int ffc,
    bool have6, bool have4)
{
	int f;

	if (nh == 0) {
		f = first_family;
	} else {
		int last = hist[nh - 1];
		bool switched = false;
		size_t i, run = 0;

		for (i = 1; i < nh; i++)
			if (hist[i] != hist[0])
				switched = true;
		for (i = nh; i > 0 && hist[i - 1] == last; i--)
			run++;
		/*
		 * first_family_count only shapes the start of the list;
		 * after the first switch the families alternate.
		 */
		f = (!switched && run < (size_t)ffc) ? last : other_family(last);
	}
	if (!(f == AF_INET6 ? have6 : have4))
		f = other_family(f);
	return f;
}

void
happy_interleave(const union sockaddr_any *in, size_t n, int first_family,
    int first_family_count, size_t *out)
{
	bool used[HAPPY_MAX_CANDS];
	int hist[HAPPY_MAX_CANDS];
	size_t k, i;

	BUG_ON(n > HAPPY_MAX_CANDS);
	memset(used, 0, sizeof(used));
	for (k = 0; k < n; k++) {
		bool have6 = false, have4 = false;
		int f;

		for (i = 0; i < n; i++) {
			if (used[i])
				continue;
			if (family_of(&in[i]) == AF_INET6)
				have6 = true;
			else
				have4 = true;
		}
		f = pick_family(hist, k, first_family, first_family_count,
		    have6, have4);
		for (i = 0; i < n; i++)
			if (!used[i] && family_of(&in[i]) == f)
				break;
		BUG_ON(i == n);
		used[i] = true;
		out[k] = i;
		hist[k] = f;
	}
}

/* --- reply codes ------------------------------------------------------------ */

uint8_t
happy_errno_to_rep(int err)
{
	switch (err) {
	case 0:
		return SOCKS5_REP_SUCCEEDED;
	case ENETUNREACH:
	case ENETDOWN:
		return SOCKS5_REP_NET_UNREACHABLE;
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case EADDRNOTAVAIL:
		return SOCKS5_REP_HOST_UNREACHABLE;
	case ECONNREFUSED:
	case ECONNRESET:
		return SOCKS5_REP_CONN_REFUSED;
	case ETIMEDOUT:
		return SOCKS5_REP_TTL_EXPIRED;
	case EACCES:
	case EPERM:
		return SOCKS5_REP_NOT_ALLOWED;
	case EAFNOSUPPORT:
		return SOCKS5_REP_ATYP_NOT_SUPPORTED;
	default:
		return SOCKS5_REP_GENERAL_FAILURE;
	}
}

/*
 * How much a failure says about the destination: a refusal proves the
 * host is there, "unreachable" names a routing problem, a timeout says
 * least. The most meaningful failure of a race is what the client hears.
 */
static int
rep_rank(uint8_t rep)
{
	switch (rep) {
	case SOCKS5_REP_CONN_REFUSED:
		return 7;
	case SOCKS5_REP_HOST_UNREACHABLE:
		return 6;
	case SOCKS5_REP_NET_UNREACHABLE:
		return 5;
	case SOCKS5_REP_TTL_EXPIRED:
		return 4;
	case SOCKS5_REP_NOT_ALLOWED:
		return 3;
	case SOCKS5_REP_ATYP_NOT_SUPPORTED:
		return 2;
	default:
		return 1;
	}
}

static void
record_failure(struct happy *h, uint8_t rep, int err)
{
	int rank = rep_rank(rep);

	if (rank > h->best_rank) {
		h->best_rank = rank;
		h->best_rep = rep;
		h->best_err = err;
	}
}

/* --- the scheduler ---------------------------------------------------------- */

static unsigned
lookup_bit(int family)
{
	return family == AF_INET6 ? HAPPY_LOOKUP_V6 : HAPPY_LOOKUP_V4;
}

void
happy_init(struct happy *h, const struct happy_params *p, int64_t now,
    unsigned pending)
{
	memset(h, 0, sizeof(*h));
	h->p = *p;
	if (h->p.first_family_count < 1)
		h->p.first_family_count = 1;
	if (h->p.prefer_family != AF_INET)
		h->p.prefer_family = AF_INET6;
	h->deadline = now + p->timeout_ms;
	h->resolution_until = -1;
	h->next_start = now;
	h->pending = pending;
}

size_t
happy_add(struct happy *h, const union sockaddr_any *addrs, size_t n,
    unsigned flags, int64_t now)
{
	bool preferred = false;
	size_t i, j, added = 0;

	for (i = 0; i < n; i++) {
		const union sockaddr_any *a = &addrs[i];

		if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
			continue;
		if (h->n == HAPPY_MAX_CANDS)
			break;
		for (j = 0; j < h->n; j++)
			if (sockaddr_equal(&h->c[j].addr.sa, &a->sa))
				break;
		if (j < h->n)
			continue;
		memset(&h->c[h->n], 0, sizeof(h->c[h->n]));
		h->c[h->n].addr = *a;
		h->c[h->n].state = HAPPY_UNTRIED;
		h->c[h->n].flags = flags;
		h->n++;
		added++;
		if (a->sa.sa_family == h->p.prefer_family)
			preferred = true;
	}
	if (added == 0 || h->racing)
		return added;
	/*
	 * RFC 8305 section 3: the preferred family (AAAA by default) starts
	 * the race at once; the other family waits for it a little.
	 */
	if (preferred || !(h->pending & lookup_bit(h->p.prefer_family))) {
		h->racing = true;
	} else if (h->off) {
		/* A fallback, not a race: wait for the preferred lookup. */
	} else if (h->resolution_until < 0) {
		h->resolution_until = now + h->p.resolution_delay_ms;
		if (h->p.resolution_delay_ms <= 0)
			h->racing = true;
	}
	return added;
}

void
happy_set_on(struct happy *h, bool on)
{
	/* Too late once a candidate is known. */
	BUG_ON(h->n > 0 || h->n_started > 0);
	h->off = !on;
}

/* Has a candidate of `family` been added (tried or not)? */
static bool
have_family(const struct happy *h, int family)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (family_of(&h->c[i].addr) == family)
			return true;
	return false;
}

bool
happy_need_fallback(const struct happy *h)
{
	return h->off && !(h->pending & lookup_bit(h->p.prefer_family)) &&
	    !have_family(h, h->p.prefer_family);
}

void
happy_lookup_start(struct happy *h, unsigned which)
{
	h->pending |= which;
}

void
happy_lookup_done(struct happy *h, unsigned which, int64_t now)
{
	(void)now;
	h->pending &= ~which;
	/*
	 * The preferred family's lookup ended without an address while the
	 * other family's waited for it: no reason to wait longer.
	 */
	if (!h->racing && h->n > 0 &&
	    !(h->pending & lookup_bit(h->p.prefer_family)))
		h->racing = true;
}

void
happy_denied(struct happy *h)
{
	h->denied++;
	record_failure(h, SOCKS5_REP_NOT_ALLOWED, 0);
}

void
happy_attempt_failed(struct happy *h, size_t i, int err, int64_t now)
{
	(void)now;
	BUG_ON(i >= h->n || h->c[i].state != HAPPY_RUNNING);
	h->c[i].state = HAPPY_FAILED;
	h->c[i].err = err;
	h->running--;
	/*
	 * Not in RFC 8305, but what every implementation does: a failure
	 * frees the slot, so the next attempt need not wait out the delay.
	 */
	h->kick = true;
	record_failure(h, happy_errno_to_rep(err), err);
}

/* The attempt in flight that started first (there is one). */
static size_t
oldest_running(const struct happy *h)
{
	size_t k;

	for (k = 0; k < h->n_started; k++)
		if (h->c[h->order[k]].state == HAPPY_RUNNING)
			return h->order[k];
	BUG_ON(1);
	return 0;
}

/* Index of the next untried candidate in interleaved order, or h->n. */
static size_t
pick_next(const struct happy *h)
{
	int hist[HAPPY_MAX_CANDS];
	bool have6 = false, have4 = false;
	size_t i;
	int f;

	for (i = 0; i < h->n; i++) {
		if (h->c[i].state != HAPPY_UNTRIED)
			continue;
		if (family_of(&h->c[i].addr) == AF_INET6)
			have6 = true;
		else
			have4 = true;
	}
	if (!have6 && !have4)
		return h->n;
	for (i = 0; i < h->n_started; i++)
		hist[i] = family_of(&h->c[h->order[i]].addr);
	f = pick_family(hist, h->n_started, h->p.prefer_family,
	    h->p.first_family_count, have6, have4);
	for (i = 0; i < h->n; i++)
		if (h->c[i].state == HAPPY_UNTRIED &&
		    family_of(&h->c[i].addr) == f)
			return i;
	return h->n;	/* not reached: f has an untried candidate */
}

/*
 * Happy Eyeballs off: the first untried candidate, in the order added, of
 * the one family (the preferred one, unless its lookup ended without a
 * candidate), or a literal; h->n when there is none (yet).
 */
static size_t
pick_next_off(const struct happy *h)
{
	int f = h->p.prefer_family;
	size_t i;

	if (happy_need_fallback(h))
		f = other_family(f);
	for (i = 0; i < h->n; i++)
		if (h->c[i].state == HAPPY_UNTRIED &&
		    (family_of(&h->c[i].addr) == f ||
		    (h->c[i].flags & HAPPY_F_LITERAL)))
			return i;
	return h->n;
}

/*
 * Is there anything the deadline cuts short: an attempt in flight, a
 * lookup pending, or a candidate that would still be tried? Without,
 * the race has ended of itself (a failure reported late), not timed out.
 */
static bool
outstanding(const struct happy *h)
{
	size_t i;

	if (h->running > 0 || h->pending != 0)
		return true;
	if (h->n_started >= HAPPY_MAX_ATTEMPTS)
		return false;
	i = h->off ? pick_next_off(h) : pick_next(h);
	return i < h->n;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

enum happy_action
happy_next(struct happy *h, int64_t now, size_t *idx, int64_t *wake)
{
	size_t i;

	if (h->timed_out)
		return HAPPY_FAIL;
	if (now >= h->deadline && outstanding(h)) {
		h->timed_out = true;
		record_failure(h, SOCKS5_REP_TTL_EXPIRED, ETIMEDOUT);
		return HAPPY_FAIL;
	}
	if (!h->racing && h->resolution_until >= 0 &&
	    now >= h->resolution_until)
		h->racing = true;
	if (!h->racing) {
		if (h->pending == 0)
			return HAPPY_FAIL;	/* nothing resolved */
		*wake = h->resolution_until >= 0 ?
		    min64(h->resolution_until, h->deadline) : h->deadline;
		return HAPPY_WAIT;
	}
	if (h->off) {
		/* One at a time, in order: the next after a failure. */
		i = h->n_started < HAPPY_MAX_ATTEMPTS ? pick_next_off(h) : h->n;
		if (i < h->n && h->running == 0) {
			h->c[i].state = HAPPY_RUNNING;
			h->c[i].started = now;
			h->running++;
			h->order[h->n_started++] = i;
			h->kick = false;
			*idx = i;
			return HAPPY_START;
		}
		if (i < h->n || h->running > 0 || (h->pending != 0 &&
		    h->n_started < HAPPY_MAX_ATTEMPTS)) {
			*wake = h->deadline;
			return HAPPY_WAIT;
		}
		return HAPPY_FAIL;
	}
	/* Past the total, the candidates left are never tried. */
	i = h->n_started < HAPPY_MAX_ATTEMPTS ? pick_next(h) : h->n;
	if (i < h->n) {
		if (h->running >= HAPPY_MAX_INFLIGHT) {
			size_t old = oldest_running(h);
			int64_t stale = h->c[old].started + HAPPY_STALE_MS;

			if (now >= stale && now >= h->next_start) {
				/* The oldest gives its place, as timed out. */
				h->c[old].state = HAPPY_FAILED;
				h->c[old].err = ETIMEDOUT;
				h->running--;
				record_failure(h, SOCKS5_REP_TTL_EXPIRED,
				    ETIMEDOUT);
				*idx = old;
				return HAPPY_ABANDON;
			}
			/* Held back until a failure (it kicks) or then. */
			*wake = min64(stale > h->next_start ? stale :
			    h->next_start, h->deadline);
			return HAPPY_WAIT;
		}
		if (h->running == 0 || h->kick || now >= h->next_start) {
			h->c[i].state = HAPPY_RUNNING;
			h->c[i].started = now;
			h->running++;
			h->order[h->n_started++] = i;
			h->kick = false;
			h->next_start = now + h->p.attempt_delay_ms;
			*idx = i;
			return HAPPY_START;
		}
		*wake = min64(h->next_start, h->deadline);
		return HAPPY_WAIT;
	}
	if (h->running == 0 &&
	    (h->pending == 0 || h->n_started >= HAPPY_MAX_ATTEMPTS))
		return HAPPY_FAIL;
	/* Attempts in flight, or a lookup may still add candidates. */
	*wake = h->deadline;
	return HAPPY_WAIT;
}

int
happy_attempts(const struct happy *h)
{
	return (int)h->n_started;
}

uint8_t
happy_result(const struct happy *h, int *err)
{
	if (h->best_rank > 0) {
		/*
		 * The deadline cut the race short: whatever the reply code,
		 * the errno says so (SOCKS 6 has a reply of its own for it).
		 */
		*err = h->timed_out ? ETIMEDOUT : h->best_err;
		return h->best_rep;
	}
	/* No attempt, no refusal, no timeout: the name had no address. */
	*err = 0;
	return SOCKS5_REP_HOST_UNREACHABLE;
}

/* --- NAT64 ------------------------------------------------------------------ */

static const uint8_t pref64_lens[] = { 96, 64, 56, 48, 40, 32 };

/*
 * RFC 6052 section 2.2: the IPv4 address follows the prefix, skipping
 * bits 64..71 (the "u" octet, always zero), and the rest is suffix.
 */
static void
pref64_embed(uint8_t *a6, int len, const uint8_t *v4)
{
	int pos = len / 8, k;

	for (k = 0; k < 4; k++) {
		if (pos == 8)
			pos++;
		a6[pos++] = v4[k];
	}
}

static void
pref64_extract(const uint8_t *a6, int len, uint8_t *v4)
{
	int pos = len / 8, k;

	for (k = 0; k < 4; k++) {
		if (pos == 8)
			pos++;
		v4[k] = a6[pos++];
	}
}

int
happy_pref64_from_aaaa(const struct in6_addr *aaaa, struct happy_pref64 *out)
{
	size_t i;

	for (i = 0; i < sizeof(pref64_lens); i++) {
		int len = pref64_lens[i];
		uint8_t v4[4];

		pref64_extract(aaaa->s6_addr, len, v4);
		/* 192.0.0.170 and 192.0.0.171, the ipv4only.arpa addresses. */
		if (v4[0] != 192 || v4[1] != 0 || v4[2] != 0 ||
		    (v4[3] != 170 && v4[3] != 171))
			continue;
		if (len < 96 && aaaa->s6_addr[8] != 0)
			continue;	/* the u octet must be zero */
		memset(out, 0, sizeof(*out));
		memcpy(out->prefix.s6_addr, aaaa->s6_addr, (size_t)len / 8);
		out->len = (uint8_t)len;
		return 0;
	}
	return -1;
}

int
happy_pref64_synth(const struct happy_pref64 *p, const struct in_addr *v4,
    struct in6_addr *out)
{
	const uint8_t *b = (const uint8_t *)v4;

	if (b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
	    b[0] >= 224)
		return -1;
	if (p->len != 32 && p->len != 40 && p->len != 48 && p->len != 56 &&
	    p->len != 64 && p->len != 96)
		return -1;
	memset(out, 0, sizeof(*out));
	memcpy(out->s6_addr, p->prefix.s6_addr, (size_t)p->len / 8);
	pref64_embed(out->s6_addr, p->len, b);
	return 0;
}
