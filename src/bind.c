/* SPDX-License-Identifier: ISC */
/*
 * bind.c - see bind.h.
 *
 *   bind_start --(name)--> lookups (AAAA + A) --+
 *        \                                      |
 *         `--(literal, wildcard)--> start timer +--> choose family and
 *                                                    address, listen
 *                                                    -> BIND_LISTENING
 *   accept: expected peer? --no--> close, refused++, keep waiting
 *                |yes
 *           access check --no--> BIND_FAILED (REP 2)
 *                |yes
 *           BIND_ACCEPTED (the peer's fd to the caller)
 *   timer (bind.accept_timeout_s) -> BIND_FAILED (REP 6)
 *
 * Every callback is the last thing its caller does: the callee may free
 * the bind from inside it.
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

#include "bind.h"
#include "config.h"
#include "connector.h"
#include "log.h"
#include "resolver.h"
#include "route.h"
#include "socks5.h"

/*
 * Room for a few connections that are not the expected peer while we
 * close them; the RFC's "backlog 1" would let one stranger's connection
 * block the real peer's until we got round to it.
 */
#define BIND_BACKLOG 4
/* Connections taken per wake-up, so a flood cannot hog the loop. */
#define BIND_ACCEPT_BATCH 16

enum { BIND_Q6 = 0, BIND_Q4 = 1 };

struct bind_lookup {
	struct bind *b;
	int which;			/* BIND_Q6 or BIND_Q4 */
	struct resolver_query *q;	/* NULL once answered */
	bool done;
	enum resolver_status st;
	size_t n;
	union sockaddr_any addrs[RESOLVER_MAX_ADDRS];
};

struct bind {
	struct ev_loop *loop;
	struct resolver *resolver;
	const struct config *cfg;
	bind_check_fn check;
	void *check_arg;
	bind_cb cb;
	void *arg;

	struct socks5_addr dst;
	union sockaddr_any local;	/* the control connection's */
	bool any_peer;			/* a wildcard request */
	int family;			/* of the listener, once known */
	union sockaddr_any expect[RESOLVER_MAX_ADDRS];	/* port 0 */
	size_t n_expect;
	struct bind_lookup look[2];
	bool is_name;

	int lfd;			/* the listener, or -1 */
	ev_io lio;
	ev_timer timer;			/* the start, then the accept timeout */
	bool listening;
	unsigned refused;
};

bool
bind_peer_expected(const union sockaddr_any *expect, size_t n,
    const struct sockaddr *peer)
{
	union sockaddr_any p;
	size_t i;

	memset(&p, 0, sizeof(p));
	memcpy(&p, peer, sockaddr_len(peer));
	sockaddr_unmap(&p);
	for (i = 0; i < n; i++) {
		union sockaddr_any e = expect[i];

		sockaddr_unmap(&e);
		if (sockaddr_equal_ip(&e.sa, &p.sa))
			return true;
	}
	return false;
}

bool
bind_pick_external(const union sockaddr_any *ext, size_t n, int family,
    union sockaddr_any *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ext[i].sa.sa_family == family) {
			*out = ext[i];
			sockaddr_set_port(&out->sa, 0);
			return true;
		}
	}
	return false;
}

static void
bind_close(struct bind *b)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (b->look[i].q != NULL) {
			resolver_cancel(b->look[i].q);
			b->look[i].q = NULL;
		}
	}
	ev_timer_stop(b->loop, &b->timer);
	if (b->lfd != -1) {
		ev_io_stop(b->loop, &b->lio);
		close(b->lfd);
		b->lfd = -1;
	}
}

void
bind_free(struct bind *b)
{
	if (b == NULL)
		return;
	bind_close(b);
	free(b);
}

/* End with a failure; must be the caller's last use of b. */
static void
bind_fail(struct bind *b, uint8_t rep, const char *why)
{
	struct bind_result r;

	bind_close(b);
	memset(&r, 0, sizeof(r));
	r.ev = BIND_FAILED;
	r.rep = rep;
	r.fd = -1;
	r.why = why;
	r.refused = b->refused;
	debug("bind: failing with REP %d: %s", rep, why);
	b->cb(b->arg, &r);
}

static void
bind_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct bind *b = t->data;

	(void)loop;
	(void)revents;
	bind_fail(b, SOCKS5_REP_TTL_EXPIRED, "accept-timeout");
}

/*
 * One wake-up of the listener: take connections until the expected peer
 * (then the bind is done) or nothing is left.
 */
static void
bind_accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct bind *b = io->data;
	char buf[SOCKADDR_STRLEN];
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < BIND_ACCEPT_BATCH; i++) {
		union sockaddr_any peer;
		socklen_t len = sizeof(peer);
		struct bind_result r;
		int fd;

		memset(&peer, 0, sizeof(peer));
		fd = accept4(b->lfd, &peer.sa, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return;
			/* EMFILE and friends: this bind cannot succeed. */
			bind_fail(b, SOCKS5_REP_GENERAL_FAILURE, "accept-failed");
			return;
		}
		sockaddr_unmap(&peer);
		if (!b->any_peer &&
		    !bind_peer_expected(b->expect, b->n_expect, &peer.sa)) {
			/* A stranger: not for this client. Keep waiting. */
			b->refused++;
			debug("bind: refusing %s: not the expected peer",
			    sockaddr_format(&peer.sa, buf, sizeof(buf)));
			close(fd);
			continue;
		}
		if (b->check != NULL && !b->check(b->check_arg, &peer.sa)) {
			debug("bind: peer %s refused by the access check",
			    sockaddr_format(&peer.sa, buf, sizeof(buf)));
			close(fd);
			bind_fail(b, SOCKS5_REP_NOT_ALLOWED, "peer-denied");
			return;
		}
		bind_close(b);
		memset(&r, 0, sizeof(r));
		r.ev = BIND_ACCEPTED;
		r.rep = SOCKS5_REP_SUCCEEDED;
		r.fd = fd;
		r.addr = peer;
		r.refused = b->refused;
		debug("bind: accepted %s",
		    sockaddr_format(&peer.sa, buf, sizeof(buf)));
		b->cb(b->arg, &r);
		return;
	}
}

/* The family and the expected peers are known: listen and report. */
static void
bind_listen(struct bind *b)
{
	union sockaddr_any at;
	struct bind_result r;
	socklen_t len;
	int fd, one = 1;
	char buf[SOCKADDR_STRLEN];

	memset(&at, 0, sizeof(at));
	if (!bind_pick_external(b->cfg->bind.external,
	    b->cfg->bind.n_external, b->family, &at)) {
		if (!b->any_peer) {
			int err = route_source(&b->expect[0], &at);

			if (err != 0) {
				bind_fail(b, connector_errno_to_rep(err),
				    "bind-failed");
				return;
			}
		} else if (b->local.sa.sa_family == b->family) {
			at = b->local;
			sockaddr_set_port(&at.sa, 0);
		} else {
			/* No address of this family to offer the peer. */
			bind_fail(b, SOCKS5_REP_ATYP_NOT_SUPPORTED,
			    "bind-failed");
			return;
		}
	}
	fd = socket(b->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		bind_fail(b, connector_errno_to_rep(errno), "bind-failed");
		return;
	}
	if (b->family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	len = sizeof(at);
	if (bind(fd, &at.sa, sockaddr_len(&at.sa)) == -1 ||
	    listen(fd, BIND_BACKLOG) == -1 ||
	    getsockname(fd, &at.sa, &len) == -1) {
		int err = errno;

		debug("bind: cannot listen on %s: %s",
		    sockaddr_format(&at.sa, buf, sizeof(buf)), strerror(err));
		close(fd);
		bind_fail(b, connector_errno_to_rep(err), "bind-failed");
		return;
	}
	b->lfd = fd;
	b->listening = true;
	ev_io_init(&b->lio, bind_accept_cb, fd, EV_READ);
	b->lio.data = b;
	ev_io_start(b->loop, &b->lio);
	ev_timer_stop(b->loop, &b->timer);
	ev_timer_init(&b->timer, bind_timeout_cb,
	    (double)b->cfg->bind.accept_timeout_s, 0.);
	b->timer.data = b;
	ev_timer_start(b->loop, &b->timer);
	debug("bind: listening on %s", sockaddr_format(&at.sa, buf,
	    sizeof(buf)));
	memset(&r, 0, sizeof(r));
	r.ev = BIND_LISTENING;
	r.fd = -1;
	r.addr = at;
	b->cb(b->arg, &r);
}

/* Both lookups of a name are in: pick the family, then listen. */
static void
bind_resolved(struct bind *b)
{
	const struct bind_lookup *q6 = &b->look[BIND_Q6], *q4 = &b->look[BIND_Q4];
	const struct bind_lookup *l;
	size_t i;
	int af;

	/*
	 * The preferred family if it has an address this host can route
	 * to, else the other: the peer will connect over the family we
	 * listen on, and only its addresses are expected.
	 */
	af = route_prefer(b->cfg->connect.prefer_family,
	    q6->st == RESOLVER_OK && q6->n > 0 ? &q6->addrs[0] : NULL,
	    q4->st == RESOLVER_OK && q4->n > 0 ? &q4->addrs[0] : NULL);
	if (af == AF_UNSPEC) {
		bind_fail(b, SOCKS5_REP_HOST_UNREACHABLE, "resolve-failed");
		return;
	}
	l = af == AF_INET6 ? q6 : q4;
	b->n_expect = 0;
	for (i = 0; i < l->n && i < RESOLVER_MAX_ADDRS; i++) {
		b->expect[b->n_expect] = l->addrs[i];
		sockaddr_unmap(&b->expect[b->n_expect]);
		b->n_expect++;
	}
	b->family = b->expect[0].sa.sa_family;
	bind_listen(b);
}

static void
bind_lookup_cb(void *arg, enum resolver_status st,
    const struct resolver_result *res)
{
	struct bind_lookup *l = arg;
	struct bind *b = l->b;
	size_t i;

	l->q = NULL;
	l->done = true;
	l->st = st;
	l->n = 0;
	if (st == RESOLVER_OK && res != NULL)
		for (i = 0; i < res->n && i < RESOLVER_MAX_ADDRS; i++)
			l->addrs[l->n++] = res->addrs[i];
	if (b->look[BIND_Q6].done && b->look[BIND_Q4].done)
		bind_resolved(b);
}

/* The zero timer: a literal or wildcard goes straight to listening. */
static void
bind_start_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct bind *b = t->data;

	(void)loop;
	(void)revents;
	if (b->any_peer && b->cfg->bind.require_peer_match) {
		bind_fail(b, SOCKS5_REP_NOT_ALLOWED, "not-allowed");
		return;
	}
	if (b->is_name) {
		/* Lookups could not be started (no resolver, or no memory). */
		bind_fail(b, SOCKS5_REP_GENERAL_FAILURE, "resolve-failed");
		return;
	}
	bind_listen(b);
}

struct bind *
bind_start(const struct bind_params *p)
{
	struct bind *b;
	union sockaddr_any a;
	socklen_t alen = sizeof(a);
	int k;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->loop = p->loop;
	b->resolver = p->resolver;
	b->cfg = p->cfg;
	b->check = p->check;
	b->check_arg = p->check_arg;
	b->cb = p->cb;
	b->arg = p->arg;
	b->dst = *p->dst;
	b->lfd = -1;
	if (p->local != NULL && sockaddr_len(p->local) > 0) {
		memcpy(&b->local, p->local, sockaddr_len(p->local));
		sockaddr_unmap(&b->local);
	}
	ev_timer_init(&b->timer, bind_start_cb, 0., 0.);
	b->timer.data = b;

	memset(&a, 0, sizeof(a));
	if ((b->dst.atyp == SOCKS5_ATYP_IPV4 || b->dst.atyp == SOCKS5_ATYP_IPV6) &&
	    socks5_addr_to_sockaddr(&b->dst, &a.sa, &alen) == 0) {
		/* a literal */
	} else if (b->dst.atyp == SOCKS5_ATYP_DOMAIN &&
	    sockaddr_parse_ip(b->dst.u.name, 0, &a) == 0) {
		/* a literal sent as a name ("127.0.0.1", "[::1]") */
	} else {
		a.sa.sa_family = AF_UNSPEC;
	}
	if (a.sa.sa_family != AF_UNSPEC) {
		sockaddr_unmap(&a);
		sockaddr_set_port(&a.sa, 0);
		b->family = a.sa.sa_family;
		b->any_peer = sockaddr_is_unspecified(&a);
		if (!b->any_peer) {
			b->expect[0] = a;
			b->n_expect = 1;
		}
		ev_timer_start(b->loop, &b->timer);
		return b;
	}
	/* A name: both families at once; the start timer is the fallback. */
	b->is_name = true;
	for (k = 0; k < 2; k++) {
		b->look[k].b = b;
		b->look[k].which = k;
	}
	if (b->resolver != NULL && b->dst.atyp == SOCKS5_ATYP_DOMAIN) {
		b->look[BIND_Q6].q = resolver_lookup(b->resolver,
		    b->dst.u.name, AF_INET6, bind_lookup_cb, &b->look[BIND_Q6]);
		b->look[BIND_Q4].q = resolver_lookup(b->resolver,
		    b->dst.u.name, AF_INET, bind_lookup_cb, &b->look[BIND_Q4]);
	}
	if (b->look[BIND_Q6].q == NULL || b->look[BIND_Q4].q == NULL) {
		for (k = 0; k < 2; k++) {
			if (b->look[k].q != NULL) {
				resolver_cancel(b->look[k].q);
				b->look[k].q = NULL;
			}
		}
		ev_timer_start(b->loop, &b->timer);
	}
	return b;
}
