/* SPDX-License-Identifier: ISC */
/*
 * connector.c - see connector.h.
 *
 * The connector is the I/O half of Happy Eyeballs; struct happy (happy.h)
 * is the other, pure half that decides. Every event is fed to it and then
 * connector_run() asks it what to do until it says "wait":
 *
 *   event                         fed as
 *   -----                         -------
 *   AAAA / A answer               happy_add() (sorted, checked) + _lookup_done()
 *   attempt connected             -> the race is won: finish
 *   attempt failed (SO_ERROR,     happy_attempt_failed()
 *     or connect() at once)
 *   the scheduler's timer         (nothing: happy_next() looks at the clock)
 *   NAT64 prefix found            happy_add() of the synthesised address
 *
 * Attempts run side by side, each with its own socket and write watcher
 * (att[i] belongs to candidate h.c[i]). The first to connect wins; finish()
 * closes every other one and cancels the lookups. Results are always
 * delivered from the loop (a zero timer), never re-entrantly, and nothing
 * is tried before connector_start() has returned, so connector_set_check()
 * and connector_set_happy() are in place for the first candidate.
 *
 * Time is milliseconds since the start, from the loop's clock.
 */
#include "config_auto.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "config.h"
#include "connector.h"
#include "happy.h"
#include "log.h"
#include "resolver.h"
#include "route.h"
#include "socks5.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

struct connector;

/* One connection attempt: the socket for candidate h.c[idx]. */
struct attempt {
	ev_io io;
	struct connector *c;
	size_t idx;
	int fd;			/* -1: not running */
};

struct connector {
	struct ev_loop *loop;
	struct resolver *resolver;
	const struct config *cfg;
	connector_cb cb;
	void *arg;
	connector_check_fn check;
	void *check_arg;
	uint16_t port;
	ev_tstamp t0;		/* loop time at the start */

	struct resolver_query *q6, *q4, *q64;
	bool started;		/* the first timer ran: candidates may come */
	bool have_literal;
	union sockaddr_any literal;	/* with port */
	uint8_t early_rep;	/* nonzero: fail with this at the first run */
	bool nat64_asked;
	char name[256];		/* the name looked up; "" for a literal */
	bool fallback_due;	/* HE off: the other family's lookup waits */

	struct happy h;
	struct attempt att[HAPPY_MAX_CANDS];
	ev_timer timer;		/* first run, then the scheduler's wake-up */
	ev_timer deliver;	/* zero-delay: hand the result over */
	bool done;
	struct connector_result res;
};

uint8_t
connector_errno_to_rep(int err)
{
	return happy_errno_to_rep(err);
}

static int64_t
now_ms(const struct connector *c)
{
	return (int64_t)((ev_now(c->loop) - c->t0) * 1000. + 0.5);
}

static const char *
addr_str(const union sockaddr_any *a, char *buf, size_t cap)
{
	return sockaddr_format(&a->sa, buf, cap);
}

static void
attempt_close(struct connector *c, size_t i)
{
	struct attempt *a = &c->att[i];

	if (a->fd != -1) {
		ev_io_stop(c->loop, &a->io);
		close(a->fd);
		a->fd = -1;
	}
}

static void
cancel_lookups(struct connector *c)
{
	if (c->q6 != NULL) {
		resolver_cancel(c->q6);
		c->q6 = NULL;
	}
	if (c->q4 != NULL) {
		resolver_cancel(c->q4);
		c->q4 = NULL;
	}
	if (c->q64 != NULL) {
		resolver_cancel(c->q64);
		c->q64 = NULL;
	}
}

static void
connector_free(struct connector *c)
{
	size_t i;

	cancel_lookups(c);
	for (i = 0; i < HAPPY_MAX_CANDS; i++)
		attempt_close(c, i);
	ev_timer_stop(c->loop, &c->timer);
	ev_timer_stop(c->loop, &c->deliver);
	/* A winner cancelled before its delivery is nobody's: close it. */
	if (c->res.fd != -1)
		close(c->res.fd);
	free(c);
}

static void
connector_deliver_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct connector *c = t->data;
	struct connector_result res = c->res;

	(void)loop;
	(void)revents;
	c->res.fd = -1;		/* the callee's now */
	c->cb(c->arg, &res);
	connector_free(c);
}

/*
 * End the race: `win` is the index of the connected attempt, or -1 for a
 * failure. Everything else is closed and cancelled now; the result goes
 * out from the loop.
 */
static void
finish(struct connector *c, long win)
{
	size_t i;
	char buf[SOCKADDR_STRLEN];

	c->done = true;
	cancel_lookups(c);
	ev_timer_stop(c->loop, &c->timer);
	c->res.attempts = happy_attempts(&c->h);
	c->res.denied = c->h.denied;
	c->res.ms = (uint32_t)now_ms(c);
	if (win >= 0) {
		struct attempt *a = &c->att[win];

		/* The fd now belongs to the callee: keep it out of the sweep. */
		ev_io_stop(c->loop, &a->io);
		c->res.fd = a->fd;
		a->fd = -1;
		c->res.rep = SOCKS5_REP_SUCCEEDED;
		c->res.err = 0;
		c->res.addr = c->h.c[win].addr;
		c->res.has_addr = true;
		c->res.nat64 = (c->h.c[win].flags & HAPPY_F_NAT64) != 0;
		debug("connected to %s after %d attempt(s), %u ms",
		    addr_str(&c->res.addr, buf, sizeof(buf)), c->res.attempts,
		    c->res.ms);
	} else {
		c->res.fd = -1;
		if (c->early_rep != 0) {
			c->res.rep = c->early_rep;
			c->res.err = 0;
		} else {
			c->res.rep = happy_result(&c->h, &c->res.err);
		}
		if (c->h.n_started > 0) {
			size_t last = c->h.order[c->h.n_started - 1];

			c->res.addr = c->h.c[last].addr;
			c->res.has_addr = true;
			c->res.nat64 = (c->h.c[last].flags & HAPPY_F_NAT64) != 0;
		}
		debug("giving up after %d attempt(s), %u ms: REP %d (%s)",
		    c->res.attempts, c->res.ms, c->res.rep,
		    socks5_rep_str(c->res.rep));
	}
	for (i = 0; i < HAPPY_MAX_CANDS; i++)
		attempt_close(c, i);
	ev_timer_set(&c->deliver, 0., 0.);
	ev_timer_start(c->loop, &c->deliver);
}

static int
bind_source(struct connector *c, int fd, int family)
{
	const union sockaddr_any *src = NULL;
	int one = 1;

	if (family == AF_INET && c->cfg->connect.has_bind_ipv4)
		src = &c->cfg->connect.bind_ipv4;
	else if (family == AF_INET6 && c->cfg->connect.has_bind_ipv6)
		src = &c->cfg->connect.bind_ipv6;
	if (src == NULL)
		return 0;
	/*
	 * Without this, bind() reserves an ephemeral port before the
	 * destination is known and a busy proxy runs out of ports.
	 */
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	return bind(fd, &src->sa, sockaddr_len(&src->sa));
}

static void connector_run(struct connector *c);
static void connector_pref64_cb(void *arg, const struct happy_pref64 *p);

/*
 * RFC 8305 section 7.1: an IPv4 literal this host has no route to may be
 * reachable through NAT64. Ask for the prefix (usually kept by the
 * resolver already); the race waits for it as for a lookup.
 */
static void
start_nat64(struct connector *c)
{
	c->nat64_asked = true;
	c->q64 = resolver_pref64(c->resolver, connector_pref64_cb, c);
	if (c->q64 != NULL)
		happy_lookup_start(&c->h, HAPPY_LOOKUP_V6);
}

static void
connector_attempt_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct attempt *a = (struct attempt *)io;
	struct connector *c = a->c;
	socklen_t len = sizeof(int);
	int soerr = 0;
	char buf[SOCKADDR_STRLEN];

	(void)loop;
	(void)revents;
	if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0) {
		finish(c, (long)a->idx);
		return;
	}
	debug("attempt to %s failed: %s",
	    addr_str(&c->h.c[a->idx].addr, buf, sizeof(buf)), strerror(soerr));
	attempt_close(c, a->idx);
	happy_attempt_failed(&c->h, a->idx, soerr, now_ms(c));
	connector_run(c);
}

/* Start the attempt to candidate i; may finish the race at once. */
static void
start_attempt(struct connector *c, size_t i)
{
	const struct happy_cand *cand = &c->h.c[i];
	struct attempt *a = &c->att[i];
	char buf[SOCKADDR_STRLEN];
	int fd, err;

	debug("attempt %d: %s", happy_attempts(&c->h),
	    addr_str(&cand->addr, buf, sizeof(buf)));
	fd = socket(cand->addr.sa.sa_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto failed;
	if (bind_source(c, fd, cand->addr.sa.sa_family) == -1 ||
	    (connect(fd, &cand->addr.sa, sockaddr_len(&cand->addr.sa)) == -1 &&
	    errno != EINPROGRESS)) {
		err = errno;
		close(fd);
		errno = err;
		goto failed;
	}
	a->c = c;
	a->idx = i;
	a->fd = fd;
	ev_io_init(&a->io, connector_attempt_cb, fd, EV_WRITE);
	ev_io_start(c->loop, &a->io);
	return;

failed:
	err = errno;
	debug("attempt to %s failed at once: %s",
	    addr_str(&cand->addr, buf, sizeof(buf)), strerror(err));
	if (err == ENETUNREACH && cand->addr.sa.sa_family == AF_INET &&
	    (cand->flags & HAPPY_F_LITERAL) && !c->nat64_asked)
		start_nat64(c);
	happy_attempt_failed(&c->h, i, err, now_ms(c));
}

/* Ask the scheduler what to do until it says wait (or the race ends). */
static void
connector_run(struct connector *c)
{
	char buf[SOCKADDR_STRLEN];

	for (;;) {
		int64_t now = now_ms(c), wake = 0;
		size_t idx = 0;

		switch (happy_next(&c->h, now, &idx, &wake)) {
		case HAPPY_START:
			start_attempt(c, idx);
			continue;
		case HAPPY_WAIT:
			ev_timer_stop(c->loop, &c->timer);
			ev_timer_set(&c->timer,
			    (double)(wake > now ? wake - now : 0) / 1000., 0.);
			ev_timer_start(c->loop, &c->timer);
			return;
		case HAPPY_FAIL:
			finish(c, -1);
			return;
		case HAPPY_ABANDON:
			debug("attempt to %s abandoned after %d ms to make room",
			    addr_str(&c->h.c[idx].addr, buf, sizeof(buf)),
			    HAPPY_STALE_MS);
			attempt_close(c, idx);
			continue;
		}
	}
}

/* Ask the hook; a refused address is counted, never tried. */
static bool
allowed(struct connector *c, const union sockaddr_any *a)
{
	char buf[SOCKADDR_STRLEN];

	if (c->check == NULL ||
	    c->check(c->check_arg, &a->sa) == CONNECTOR_ALLOW)
		return true;
	debug("%s refused by the access check",
	    addr_str(a, buf, sizeof(buf)));
	happy_denied(&c->h);
	return false;
}

/*
 * The source address a connection to d->addr would get (RFC 6724 needs it
 * for rules 2, 5 and 9): the configured bind address, else what the
 * kernel picks for a connected UDP socket, which sends nothing. No route
 * makes the destination unusable (rule 1).
 */
static void
find_source(struct connector *c, struct happy_dst *d)
{
	int family = d->addr.sa.sa_family, err;

	if (family == AF_INET && c->cfg->connect.has_bind_ipv4) {
		d->src = c->cfg->connect.bind_ipv4;
		return;
	}
	if (family == AF_INET6 && c->cfg->connect.has_bind_ipv6) {
		d->src = c->cfg->connect.bind_ipv6;
		return;
	}
	err = route_source(&d->addr, &d->src);
	if (err == ENETUNREACH || err == EHOSTUNREACH)
		d->unusable = true;
}

/* One lookup's addresses (port 0): sort, check, hand to the scheduler. */
static void
add_answer(struct connector *c, const struct resolver_result *r)
{
	struct happy_dst d[RESOLVER_MAX_ADDRS];
	union sockaddr_any ok[RESOLVER_MAX_ADDRS];
	size_t i, n = r->n < RESOLVER_MAX_ADDRS ? r->n : RESOLVER_MAX_ADDRS;
	size_t nok = 0;

	memset(d, 0, sizeof(d));
	/*
	 * cppcheck takes r->n for 0 here (an answer it saw elsewhere) and
	 * calls the loops dead: they are not, an answer has addresses.
	 */
	/* cppcheck-suppress knownConditionTrueFalse */
	for (i = 0; i < n; i++) {
		d[i].addr = r->addrs[i];
		sockaddr_set_port(&d[i].addr.sa, c->port);
		/* One address needs no sorting, and no source for it. */
		/* cppcheck-suppress knownConditionTrueFalse */
		if (n > 1)
			find_source(c, &d[i]);
	}
	happy_sort(d, n);
	/* cppcheck-suppress knownConditionTrueFalse */
	for (i = 0; i < n; i++)
		if (allowed(c, &d[i].addr))
			ok[nok++] = d[i].addr;
	(void)happy_add(&c->h, ok, nok, 0, now_ms(c));
}

static void connector_lookup6_cb(void *, enum resolver_status,
    const struct resolver_result *);
static void connector_lookup4_cb(void *, enum resolver_status,
    const struct resolver_result *);

/*
 * Happy Eyeballs off: the preferred family's lookup ended without a
 * candidate, so look the other family up now (a fallback, not a race).
 */
static void
start_fallback(struct connector *c)
{
	c->fallback_due = false;
	if (c->h.p.prefer_family == AF_INET6) {
		debug("no IPv6 address to try: looking up IPv4");
		c->q4 = resolver_lookup(c->resolver, c->name, AF_INET,
		    connector_lookup4_cb, c);
		if (c->q4 != NULL)
			happy_lookup_start(&c->h, HAPPY_LOOKUP_V4);
	} else {
		debug("no IPv4 address to try: looking up IPv6");
		c->q6 = resolver_lookup(c->resolver, c->name, AF_INET6,
		    connector_lookup6_cb, c);
		if (c->q6 != NULL)
			happy_lookup_start(&c->h, HAPPY_LOOKUP_V6);
	}
}

static void
lookup_done(struct connector *c, unsigned which, enum resolver_status st,
    const struct resolver_result *r)
{
	if (which == HAPPY_LOOKUP_V6)
		c->q6 = NULL;
	else
		c->q4 = NULL;
	debug("%s lookup: %s", which == HAPPY_LOOKUP_V6 ? "AAAA" : "A",
	    resolver_status_str(st));
	if (st == RESOLVER_OK)
		add_answer(c, r);
	happy_lookup_done(&c->h, which, now_ms(c));
	if (c->fallback_due && happy_need_fallback(&c->h))
		start_fallback(c);
	connector_run(c);
}

static void
connector_lookup6_cb(void *arg, enum resolver_status st,
    const struct resolver_result *r)
{
	lookup_done(arg, HAPPY_LOOKUP_V6, st, r);
}

static void
connector_lookup4_cb(void *arg, enum resolver_status st,
    const struct resolver_result *r)
{
	lookup_done(arg, HAPPY_LOOKUP_V4, st, r);
}

static void
connector_pref64_cb(void *arg, const struct happy_pref64 *p)
{
	struct connector *c = arg;
	union sockaddr_any a6;

	c->q64 = NULL;
	memset(&a6, 0, sizeof(a6));
	if (p != NULL && c->have_literal &&
	    happy_pref64_synth(p, &c->literal.sin.sin_addr,
	    &a6.sin6.sin6_addr) == 0) {
		a6.sin6.sin6_family = AF_INET6;
		a6.sin6.sin6_port = c->literal.sin.sin_port;
		/* The literal passed the check when it was added. */
		if (allowed(c, &a6))
			(void)happy_add(&c->h, &a6, 1,
			    HAPPY_F_LITERAL | HAPPY_F_NAT64, now_ms(c));
	} else {
		debug("no NAT64 prefix for an unreachable IPv4 literal");
	}
	happy_lookup_done(&c->h, HAPPY_LOOKUP_V6, now_ms(c));
	connector_run(c);
}

/* The first run (a zero timer from connector_start), then every wake-up. */
static void
connector_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct connector *c = t->data;

	(void)loop;
	(void)revents;
	if (!c->started) {
		c->started = true;
		if (c->early_rep != 0) {
			finish(c, -1);
			return;
		}
		if (c->have_literal && allowed(c, &c->literal))
			(void)happy_add(&c->h, &c->literal, 1, HAPPY_F_LITERAL,
			    now_ms(c));
	}
	connector_run(c);
}

struct connector *
connector_start(struct ev_loop *loop, struct resolver *resolver,
    const struct config *cfg, const struct socks5_addr *dst,
    connector_cb cb, void *arg)
{
	struct happy_params hp;
	struct connector *c;
	unsigned pending = 0;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->resolver = resolver;
	c->cfg = cfg;
	c->cb = cb;
	c->arg = arg;
	c->port = dst->port;
	c->t0 = ev_now(loop);
	c->res.fd = -1;
	for (i = 0; i < HAPPY_MAX_CANDS; i++)
		c->att[i].fd = -1;
	ev_timer_init(&c->timer, connector_timer_cb, 0., 0.);
	c->timer.data = c;
	ev_timer_init(&c->deliver, connector_deliver_cb, 0., 0.);
	c->deliver.data = c;

	if (dst->atyp == SOCKS5_ATYP_IPV4 || dst->atyp == SOCKS5_ATYP_IPV6) {
		socklen_t len = sizeof(c->literal);

		if (socks5_addr_to_sockaddr(dst, &c->literal.sa, &len) == -1)
			c->early_rep = SOCKS5_REP_ATYP_NOT_SUPPORTED;
		else
			c->have_literal = true;
	} else if (sockaddr_parse_ip(dst->u.name, dst->port, &c->literal) == 0) {
		/* Clients such as PuTTY send literals as names: no DNS. */
		c->have_literal = true;
	} else {
		util_strlcpy(c->name, dst->u.name, sizeof(c->name));
		/* AAAA first: RFC 8305 section 3 sends it before the A query. */
		c->q6 = resolver_lookup(resolver, dst->u.name, AF_INET6,
		    connector_lookup6_cb, c);
		if (c->q6 != NULL)
			pending |= HAPPY_LOOKUP_V6;
		c->q4 = resolver_lookup(resolver, dst->u.name, AF_INET,
		    connector_lookup4_cb, c);
		if (c->q4 != NULL)
			pending |= HAPPY_LOOKUP_V4;
		if (pending == 0)
			c->early_rep = SOCKS5_REP_GENERAL_FAILURE;
	}
	memset(&hp, 0, sizeof(hp));
	hp.attempt_delay_ms = cfg->connect.attempt_delay_ms;
	hp.resolution_delay_ms = cfg->connect.resolution_delay_ms;
	hp.first_family_count = cfg->connect.first_family_count;
	hp.prefer_family = cfg->connect.prefer_family;
	hp.timeout_ms = (int64_t)cfg->connect.timeout_s * 1000;
	happy_init(&c->h, &hp, 0, pending);
	/* Nothing is tried from in here: the first run is on the loop. */
	ev_timer_start(loop, &c->timer);
	return c;
}

void
connector_set_check(struct connector *c, connector_check_fn fn, void *arg)
{
	/* Too late once a candidate has been looked at. */
	BUG_ON(c->started || c->h.n > 0 || c->h.denied > 0);
	c->check = fn;
	c->check_arg = arg;
}

void
connector_set_happy(struct connector *c, bool on)
{
	struct resolver_query **other;
	bool pref_asked;
	unsigned bit;

	/* Too late once a candidate has been looked at. */
	BUG_ON(c->started || c->h.n > 0 || c->h.denied > 0);
	happy_set_on(&c->h, on);
	if (on || c->name[0] == '\0')
		return;		/* a literal: nothing to change */
	if (c->h.p.prefer_family == AF_INET6) {
		pref_asked = c->q6 != NULL;
		other = &c->q4;
		bit = HAPPY_LOOKUP_V4;
	} else {
		pref_asked = c->q4 != NULL;
		other = &c->q6;
		bit = HAPPY_LOOKUP_V6;
	}
	/*
	 * connector_start() asked for both families, but off the other one
	 * is only a fallback: drop it now and ask again if the preferred
	 * one has no address. Unless the preferred lookup could not even
	 * start: then the other is the fallback already under way.
	 */
	if (!pref_asked || *other == NULL)
		return;
	resolver_cancel(*other);
	*other = NULL;
	happy_lookup_done(&c->h, bit, 0);
	c->fallback_due = true;
}

int
connector_attempts(const struct connector *c)
{
	return happy_attempts(&c->h);
}

void
connector_cancel(struct connector *c)
{
	if (c != NULL)
		connector_free(c);
}
