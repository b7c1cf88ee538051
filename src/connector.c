/*
 * connector.c - see connector.h.
 *
 * States: resolving (AAAA and A lookups in flight), then one connection
 * attempt at a time over the candidate list, preferred family first.
 * A whole-operation timer (connect.timeout_s) bounds everything. Results
 * are always delivered from the loop (a zero timer), never re-entrantly.
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
#include "log.h"
#include "resolver.h"
#include "socks5.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_CANDIDATES (2 * RESOLVER_MAX_ADDRS)

struct connector {
	struct ev_loop *loop;
	const struct config *cfg;
	connector_cb cb;
	void *arg;
	uint16_t port;

	struct resolver_query *q6, *q4;
	int pending_lookups;
	struct resolver_result r6, r4;	/* answers kept until both are in */

	union sockaddr_any cand[MAX_CANDIDATES];
	size_t ncand, next;

	int fd;			/* attempt in progress, or -1 */
	ev_io wio;
	ev_timer deadline;
	ev_timer deliver;	/* zero-delay: hand the result over */
	struct connector_result res;
	int have_failure;	/* res.rep/err hold a real failure */
};

uint8_t
connector_errno_to_rep(int err)
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

static void try_next(struct connector *c);

static void
close_attempt(struct connector *c)
{
	if (c->fd != -1) {
		ev_io_stop(c->loop, &c->wio);
		close(c->fd);
		c->fd = -1;
	}
}

static void
connector_free(struct connector *c)
{
	if (c->q6 != NULL)
		resolver_cancel(c->q6);
	if (c->q4 != NULL)
		resolver_cancel(c->q4);
	close_attempt(c);
	ev_timer_stop(c->loop, &c->deadline);
	ev_timer_stop(c->loop, &c->deliver);
	free(c);
}

static void
connector_deliver_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct connector *c = t->data;
	struct connector_result res = c->res;

	(void)loop;
	(void)revents;
	/* The fd now belongs to the callee: make sure free won't close it. */
	if (c->fd != -1) {
		ev_io_stop(c->loop, &c->wio);
		c->fd = -1;
	}
	c->cb(c->arg, &res);
	connector_free(c);
}

/* Finish: fd -1 for failure (res.rep set), else the connected socket. */
static void
finish(struct connector *c, int fd)
{
	if (c->q6 != NULL) {
		resolver_cancel(c->q6);
		c->q6 = NULL;
	}
	if (c->q4 != NULL) {
		resolver_cancel(c->q4);
		c->q4 = NULL;
	}
	ev_timer_stop(c->loop, &c->deadline);
	if (fd != -1) {
		ev_io_stop(c->loop, &c->wio);
		c->res.fd = fd;
		c->res.rep = SOCKS5_REP_SUCCEEDED;
		c->res.err = 0;
	} else {
		close_attempt(c);
		c->res.fd = -1;
		if (!c->have_failure)
			c->res.rep = SOCKS5_REP_HOST_UNREACHABLE;
	}
	ev_timer_set(&c->deliver, 0., 0.);
	ev_timer_start(c->loop, &c->deliver);
}

static void
record_failure(struct connector *c, int err)
{
	c->res.err = err;
	c->res.rep = connector_errno_to_rep(err);
	c->have_failure = 1;
}

static void
connector_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct connector *c = t->data;

	(void)loop;
	(void)revents;
	record_failure(c, ETIMEDOUT);
	finish(c, -1);
}

static void
connector_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct connector *c = io->data;
	socklen_t len = sizeof(int);
	int soerr = 0, fd = c->fd;

	(void)loop;
	(void)revents;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0) {
		finish(c, fd);
		return;
	}
	record_failure(c, soerr);
	close_attempt(c);
	try_next(c);
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

static void
try_next(struct connector *c)
{
	while (c->next < c->ncand) {
		union sockaddr_any *a = &c->cand[c->next++];
		int fd;

		c->res.addr = *a;
		c->res.has_addr = true;
		c->res.attempts++;
		fd = socket(a->sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			record_failure(c, errno);
			continue;
		}
		if (bind_source(c, fd, a->sa.sa_family) == -1) {
			record_failure(c, errno);
			close(fd);
			continue;
		}
		if (connect(fd, &a->sa, sockaddr_len(&a->sa)) == 0) {
			finish(c, fd);
			return;
		}
		if (errno != EINPROGRESS) {
			record_failure(c, errno);
			close(fd);
			continue;
		}
		c->fd = fd;
		ev_io_init(&c->wio, connector_write_cb, fd, EV_WRITE);
		c->wio.data = c;
		ev_io_start(c->loop, &c->wio);
		return;
	}
	/* Nothing left to try, but lookups may still add candidates. */
	if (c->pending_lookups == 0)
		finish(c, -1);
}

static void
add_candidates(struct connector *c, const struct resolver_result *r)
{
	size_t i;

	for (i = 0; r != NULL && i < r->n && c->ncand < MAX_CANDIDATES; i++) {
		c->cand[c->ncand] = r->addrs[i];
		sockaddr_set_port(&c->cand[c->ncand].sa, c->port);
		c->ncand++;
	}
}

static void
lookup_done(struct connector *c, int family, enum resolver_status st,
    const struct resolver_result *r)
{
	struct resolver_result *keep = family == AF_INET6 ? &c->r6 : &c->r4;

	c->pending_lookups--;
	if (family == AF_INET6)
		c->q6 = NULL;
	else
		c->q4 = NULL;
	keep->n = 0;
	if (st == RESOLVER_OK)
		*keep = *r;
	if (c->pending_lookups > 0)
		return;
	/*
	 * Sequential order for now: every address of the preferred family,
	 * then the other family's, each in answer order.
	 */
	if (c->cfg->connect.prefer_family == AF_INET) {
		add_candidates(c, &c->r4);
		add_candidates(c, &c->r6);
	} else {
		add_candidates(c, &c->r6);
		add_candidates(c, &c->r4);
	}
	if (c->ncand == 0) {
		/* A name that does not resolve is "host unreachable". */
		c->res.rep = SOCKS5_REP_HOST_UNREACHABLE;
		c->res.err = 0;
		c->have_failure = 1;
		finish(c, -1);
		return;
	}
	try_next(c);
}

static void
connector_lookup6_cb(void *arg, enum resolver_status st,
    const struct resolver_result *r)
{
	lookup_done(arg, AF_INET6, st, r);
}

static void
connector_lookup4_cb(void *arg, enum resolver_status st,
    const struct resolver_result *r)
{
	lookup_done(arg, AF_INET, st, r);
}

struct connector *
connector_start(struct ev_loop *loop, struct resolver *resolver,
    const struct config *cfg, const struct socks5_addr *dst,
    connector_cb cb, void *arg)
{
	struct connector *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->cfg = cfg;
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	c->port = dst->port;
	c->res.fd = -1;
	ev_timer_init(&c->deadline, connector_deadline_cb,
	    (double)cfg->connect.timeout_s, 0.);
	c->deadline.data = c;
	ev_timer_init(&c->deliver, connector_deliver_cb, 0., 0.);
	c->deliver.data = c;
	ev_timer_start(loop, &c->deadline);

	if (dst->atyp == SOCKS5_ATYP_IPV4 || dst->atyp == SOCKS5_ATYP_IPV6) {
		socklen_t len = sizeof(c->cand[0]);

		if (socks5_addr_to_sockaddr(dst, &c->cand[0].sa, &len) == -1) {
			c->res.rep = SOCKS5_REP_ATYP_NOT_SUPPORTED;
			c->have_failure = 1;
			finish(c, -1);
			return c;
		}
		c->ncand = 1;
	} else if (sockaddr_parse_ip(dst->u.name, dst->port, &c->cand[0]) == 0) {
		/* Clients such as PuTTY send literals as names: no DNS. */
		c->ncand = 1;
	} else {
		c->pending_lookups = 2;
		c->q6 = resolver_lookup(resolver, dst->u.name, AF_INET6,
		    connector_lookup6_cb, c);
		if (c->q6 == NULL)
			c->pending_lookups--;
		c->q4 = resolver_lookup(resolver, dst->u.name, AF_INET,
		    connector_lookup4_cb, c);
		if (c->q4 == NULL)
			c->pending_lookups--;
		if (c->pending_lookups == 0) {
			c->res.rep = SOCKS5_REP_GENERAL_FAILURE;
			c->have_failure = 1;
			finish(c, -1);
		}
		return c;
	}
	/* Defer even the first attempt: never call back from in here. */
	try_next(c);
	return c;
}

void
connector_cancel(struct connector *c)
{
	if (c != NULL)
		connector_free(c);
}
