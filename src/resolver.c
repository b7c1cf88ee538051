/* SPDX-License-Identifier: ISC */
/*
 * resolver.c - see resolver.h.
 *
 * c-ares does the DNS work; this file only plugs it into libev:
 *
 *   - c-ares tells us which sockets it wants watched through its socket
 *     state callback; each such socket gets one ev_io (resolver_sock).
 *   - c-ares' retransmission and timeout logic needs a clock tick: one
 *     ev_timer, re-armed from ares_timeout() after every call into c-ares.
 *
 * User callbacks never run with c-ares on the stack. c-ares answers some
 * lookups synchronously from inside ares_getaddrinfo() (hosts file,
 * "localhost", bad names), and calling back into the session from there
 * would re-enter code that is still inside resolver_lookup(). Even answers
 * arriving from the network are handed over later: the c-ares callback only
 * parks the result in the query and starts that query's zero-delay timer,
 * and the timer delivers it. That costs one loop iteration per answer and
 * buys two guarantees callers rely on: no callback runs inside
 * resolver_lookup(), and a callback may call resolver_free() (which calls
 * ares_destroy(), illegal from inside c-ares' own callbacks).
 *
 * "localhost" never reaches c-ares (see resolver_is_localhost()), nor does
 * a name the hosts file has (hosts.h: read once, when the resolver is
 * made, instead of by c-ares at every lookup) or one whose answer is still
 * in the cache (dnscache.h). Those are "answered" here and delivered
 * through the same timer, so that every answer reaches its caller the
 * same way.
 *
 * A query's life:
 *
 *   resolver_lookup()  -> RUNNING (c-ares owns a reference via its arg)
 *   c-ares calls back  -> DONE: result parked, delivery timer started
 *   delivery timer     -> user callback, query freed
 *
 * resolver_cancel() on a RUNNING query only marks it: c-ares 1.18 cannot
 * cancel a single lookup, so the struct stays until c-ares calls back and
 * is then freed silently. On a DONE query the timer is stopped and the
 * query freed at once, since c-ares no longer knows about it.
 *
 * A NAT64 prefix query (resolver_pref64()) is an AAAA lookup of
 * ipv4only.arpa whose delivery turns the answer into a prefix and keeps
 * it in the resolver; while that is fresh, the next one is "done" at once
 * with the kept prefix and only goes through the delivery timer.
 */
#include "config_auto.h"

#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <sys/random.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>
#include <ev.h>

#include "dnscache.h"
#include "hosts.h"
#include "log.h"
#include "resolver.h"
#include "status.h"

_Static_assert(RESOLVER_MAX_ADDRS == DNSCACHE_MAX_ADDRS,
    "a cached answer holds what a lookup returns");

/* Longest host name in presentation form, without the trailing dot. */
#define RESOLVER_NAME_MAX 253

/* One socket c-ares asked us to watch. */
struct resolver_sock {
	ev_io io;			/* first: the watcher's address is ours */
	struct resolver *r;
	struct resolver_sock *next;
};

struct resolver_query {
	ev_timer deliver;		/* zero delay: hands the result to the loop */
	struct resolver *r;
	struct resolver_query *prev, *next;	/* r->queries */
	resolver_cb cb;
	void *arg;
	int family;
	bool done;			/* c-ares has called back */
	bool cancelled;			/* never call cb; free when c-ares is done */
	bool answered;			/* here (localhost, hosts, cache): `ans` */
	bool pref64;			/* a NAT64 prefix query: pcb, not cb */
	bool cached;			/* pref64 answered from the cache */
	enum status_dns_source source;	/* answered: from where (counters) */
	resolver_pref64_cb pcb;
	int status;			/* ARES_* once done */
	struct ares_addrinfo *ai;	/* owned once done; NULL unless success */
	enum resolver_status ans_st;	/* answered: the status and result */
	struct resolver_result ans;
	char name[RESOLVER_NAME_MAX + 2];	/* for the cache */
};

struct resolver {
	struct ev_loop *loop;
	ares_channel channel;
	bool have_channel;
	ev_timer timer;			/* c-ares' next timeout */
	struct resolver_sock *socks;
	struct resolver_query *queries;	/* every query not yet freed */
	struct hosts *hosts;		/* the hosts file, or NULL */
	struct dnscache *cache;		/* or NULL: no cache */
	/* The NAT64 prefix (RFC 7050), kept until pref64_expires (ev time). */
	bool pref64_known;
	bool pref64_found;
	struct happy_pref64 pref64;
	double pref64_expires;
};

/* How long a NAT64 discovery result is kept (seconds). */
#define RESOLVER_PREF64_MIN_TTL	10
#define RESOLVER_PREF64_MAX_TTL	3600
#define RESOLVER_PREF64_NONE_TTL	300
#define RESOLVER_PREF64_FAIL_TTL	30

static void resolver_rearm(struct resolver *r);

/* Unlink and free a query; c-ares must be done with it. */
static void
resolver_query_free(struct resolver_query *q)
{
	struct resolver *r = q->r;

	ev_timer_stop(r->loop, &q->deliver);
	/* The list's head, and only it, has no predecessor. */
	BUG_ON((q->prev == NULL) != (r->queries == q));
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	if (q->ai != NULL)
		ares_freeaddrinfo(q->ai);
	free(q);
}

static enum resolver_status
resolver_map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return RESOLVER_OK;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		return RESOLVER_NOTFOUND;
	case ARES_ETIMEOUT:
		return RESOLVER_TIMEOUT;
	default:
		return RESOLVER_FAIL;
	}
}

/*
 * Copy up to RESOLVER_MAX_ADDRS addresses of the query's family, in the
 * order c-ares returned them (ARES_AI_NOSORT keeps the answer order).
 */
static void
resolver_fill_result(const struct resolver_query *q,
    struct resolver_result *res)
{
	const struct ares_addrinfo_node *n;
	const struct ares_addrinfo_cname *c;
	bool have_ttl = false;
	uint32_t ttl = 0;

	memset(res, 0, offsetof(struct resolver_result, addrs));
	for (n = q->ai->nodes; n != NULL && res->n < RESOLVER_MAX_ADDRS;
	    n = n->ai_next) {
		union sockaddr_any *a = &res->addrs[res->n];

		if (n->ai_family != q->family || n->ai_addr == NULL)
			continue;
		memset(a, 0, sizeof(*a));
		if (n->ai_family == AF_INET &&
		    n->ai_addrlen >= sizeof(struct sockaddr_in)) {
			memcpy(&a->sin, n->ai_addr, sizeof(a->sin));
			a->sin.sin_port = 0;
		} else if (n->ai_family == AF_INET6 &&
		    n->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			memcpy(&a->sin6, n->ai_addr, sizeof(a->sin6));
			a->sin6.sin6_port = 0;
		} else {
			continue;
		}
		res->n++;
		if (n->ai_ttl >= 0 && (!have_ttl || (uint32_t)n->ai_ttl < ttl)) {
			ttl = (uint32_t)n->ai_ttl;
			have_ttl = true;
		}
	}
	/*
	 * The addresses are only as fresh as the CNAME chain that led to
	 * them. c-ares uses INT_MAX for "no TTL" (hosts file, literals),
	 * which is INT32_MAX on every platform we build for.
	 */
	for (c = q->ai->cnames; c != NULL && have_ttl; c = c->next)
		if (c->ttl >= 0 && c->ttl != INT32_MAX && (uint32_t)c->ttl < ttl)
			ttl = (uint32_t)c->ttl;
	res->ttl = ttl;
}

/*
 * RFC 6761 6.3: "localhost" is the loopback address, without asking DNS.
 * c-ares 1.18 does the same, but only after /etc/hosts, and on that path
 * it leaks the name when the file lists localhost for the other family
 * only (the common "127.0.0.1 localhost" without "::1 localhost").
 */
static bool
resolver_is_localhost(const char *name)
{
	return strcasecmp(name, "localhost") == 0 ||
	    strcasecmp(name, "localhost.") == 0;
}

static void
resolver_fill_loopback(int family, struct resolver_result *res)
{
	memset(res, 0, offsetof(struct resolver_result, addrs));
	memset(&res->addrs[0], 0, sizeof(res->addrs[0]));
	if (family == AF_INET) {
		res->addrs[0].sin.sin_family = AF_INET;
		res->addrs[0].sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		res->addrs[0].sin6.sin6_family = AF_INET6;
		res->addrs[0].sin6.sin6_addr = in6addr_loopback;
	}
	res->n = 1;
}

/*
 * Turn a finished ipv4only.arpa lookup into the resolver's kept prefix
 * (RFC 7050 section 3: the first AAAA with a well-known address in it).
 */
static void
resolver_pref64_learn(struct resolver *r, enum resolver_status st,
    const struct resolver_result *res)
{
	size_t i;
	unsigned ttl = RESOLVER_PREF64_FAIL_TTL;

	r->pref64_found = false;
	if (st == RESOLVER_OK) {
		for (i = 0; i < res->n; i++)
			if (happy_pref64_from_aaaa(&res->addrs[i].sin6.sin6_addr,
			    &r->pref64) == 0) {
				r->pref64_found = true;
				break;
			}
	}
	if (r->pref64_found) {
		ttl = res->ttl;
		if (ttl < RESOLVER_PREF64_MIN_TTL)
			ttl = RESOLVER_PREF64_MIN_TTL;
		if (ttl > RESOLVER_PREF64_MAX_TTL)
			ttl = RESOLVER_PREF64_MAX_TTL;
	} else if (st == RESOLVER_OK || st == RESOLVER_NOTFOUND) {
		ttl = RESOLVER_PREF64_NONE_TTL;
	}
	r->pref64_known = true;
	r->pref64_expires = ev_now(r->loop) + (double)ttl;
	debug("NAT64 prefix: %s, kept %u s",
	    r->pref64_found ? "found" : "none", ttl);
}

/* Keep what DNS said, yes or no, for the next lookup of the name. */
static void
resolver_cache_put(const struct resolver_query *q, enum resolver_status st,
    const struct resolver_result *res)
{
	struct dnscache_answer a;

	if (q->r->cache == NULL ||
	    (st != RESOLVER_OK && st != RESOLVER_NOTFOUND))
		return;
	a.n = st == RESOLVER_OK ? res->n : 0;
	memcpy(a.addrs, res->addrs, a.n * sizeof(a.addrs[0]));
	a.ttl = 0;
	dnscache_put(q->r->cache, q->name, q->family, &a,
	    st == RESOLVER_OK ? res->ttl : 0, ev_now(q->r->loop));
}

/*
 * A name answered without c-ares: "localhost", the hosts file, the cache.
 * True when it was (q->ans holds the answer).
 */
static bool
resolver_answer_here(struct resolver_query *q, const char *name)
{
	struct resolver *r = q->r;
	struct dnscache_answer a;

	memset(&q->ans, 0, offsetof(struct resolver_result, addrs));
	if (resolver_is_localhost(name)) {
		resolver_fill_loopback(q->family, &q->ans);
		q->source = STATUS_DNS_LOCAL;
	} else if ((q->ans.n = hosts_lookup(r->hosts, name, q->family,
	    q->ans.addrs, RESOLVER_MAX_ADDRS)) > 0) {
		debug("lookup answered from the hosts file");
		q->source = STATUS_DNS_LOCAL;
	} else if (dnscache_get(r->cache, name, q->family, ev_now(r->loop),
	    &a)) {
		q->ans.n = a.n;
		memcpy(q->ans.addrs, a.addrs, a.n * sizeof(a.addrs[0]));
		q->ans.ttl = a.ttl;
		debug("lookup answered from the cache");
		q->source = STATUS_DNS_CACHE;
	} else {
		return false;
	}
	q->answered = true;
	q->ans_st = q->ans.n > 0 ? RESOLVER_OK : RESOLVER_NOTFOUND;
	return true;
}

/* A status as the counters have it. */
static enum status_dns_result
resolver_status_counted(enum resolver_status st)
{
	switch (st) {
	case RESOLVER_OK:
		return STATUS_DNS_OK;
	case RESOLVER_NOTFOUND:
		return STATUS_DNS_NOT_FOUND;
	case RESOLVER_TIMEOUT:
		return STATUS_DNS_TIMEOUT;
	case RESOLVER_FAIL:
		break;
	}
	return STATUS_DNS_ERROR;
}

/* The delivery timer: the only place a user callback is called from. */
static void
resolver_deliver_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolver_query *q = (struct resolver_query *)w;
	struct resolver_result res;
	enum resolver_status st;
	resolver_cb cb = q->cb;
	void *arg = q->arg;

	(void)loop;
	(void)revents;
	BUG_ON(!q->done || q->cancelled);
	if (q->pref64) {
		struct resolver *r = q->r;
		resolver_pref64_cb pcb = q->pcb;
		struct happy_pref64 p;
		bool found;

		if (!q->cached) {
			res.n = 0;
			res.ttl = 0;
			st = resolver_map_status(q->status);
			if (st == RESOLVER_OK) {
				resolver_fill_result(q, &res);
				if (res.n == 0)
					st = RESOLVER_NOTFOUND;
			}
			resolver_pref64_learn(r, st, &res);
		}
		/* A copy: the callback may free the resolver. */
		p = r->pref64;
		found = r->pref64_found;
		resolver_query_free(q);
		pcb(arg, found ? &p : NULL);
		return;
	}
	if (q->answered) {
		st = q->ans_st;
		res = q->ans;
	} else {
		st = resolver_map_status(q->status);
		if (st == RESOLVER_OK) {
			resolver_fill_result(q, &res);
			/* Success with nothing of our family: "no such address". */
			if (res.n == 0)
				st = RESOLVER_NOTFOUND;
		}
		resolver_cache_put(q, st, &res);
	}
	debug("lookup done: %s", resolver_status_str(st));
	status_count_dns(q->answered ? q->source : STATUS_DNS_SERVER,
	    resolver_status_counted(st));
	/*
	 * Free first: the handle is dead once the callback starts, and the
	 * callback may free the whole resolver.
	 */
	resolver_query_free(q);
	cb(arg, st, st == RESOLVER_OK ? &res : NULL);
}

/* Mark a query done and schedule its delivery on the loop. */
static void
resolver_query_finish(struct resolver_query *q, int status,
    struct ares_addrinfo *ai)
{
	q->done = true;
	q->status = status;
	q->ai = ai;
	ev_timer_set(&q->deliver, 0., 0.);
	ev_timer_start(q->r->loop, &q->deliver);
}

/* c-ares' completion callback; may run inside ares_getaddrinfo(). */
static void
resolver_ares_cb(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct resolver_query *q = arg;

	(void)timeouts;
	/*
	 * ARES_EDESTRUCTION only comes from ares_destroy() in resolver_free(),
	 * which has cancelled every query already; check both anyway, a
	 * destroyed channel must never reach a user.
	 */
	if (q->cancelled || status == ARES_EDESTRUCTION) {
		if (ai != NULL)
			ares_freeaddrinfo(ai);
		resolver_query_free(q);
		return;
	}
	/* c-ares hands over `ai` only on success; be safe if it ever doesn't. */
	if (status != ARES_SUCCESS && ai != NULL) {
		ares_freeaddrinfo(ai);
		ai = NULL;
	}
	if (status == ARES_SUCCESS && ai == NULL)
		status = ARES_ENODATA;
	resolver_query_finish(q, status, ai);
}

static void
resolver_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct resolver_sock *s = (struct resolver_sock *)w;
	struct resolver *r = s->r;
	int fd = w->fd;

	(void)loop;
	/* `s` may be freed by the state callback inside ares_process_fd(). */
	ares_process_fd(r->channel,
	    (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	resolver_rearm(r);
}

static void
resolver_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolver *r = w->data;

	(void)loop;
	(void)revents;
	/* No fds: c-ares only checks for expired queries and retransmits. */
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_rearm(r);
}

/*
 * Point the timer at c-ares' next deadline. Called after every call into
 * c-ares, since any of them may add, answer or retransmit a query.
 */
static void
resolver_rearm(struct resolver *r)
{
	struct timeval tv, *tvp;

	ev_timer_stop(r->loop, &r->timer);
	tvp = ares_timeout(r->channel, NULL, &tv);
	if (tvp == NULL)
		return;		/* nothing in flight */
	/*
	 * Round up to whole milliseconds: firing a hair before c-ares' own
	 * clock says the deadline passed would only re-arm for the remainder,
	 * a few wasted wake-ups each time.
	 */
	ev_timer_set(&r->timer, (double)tvp->tv_sec +
	    (double)((tvp->tv_usec + 999) / 1000) / 1000., 0.);
	ev_timer_start(r->loop, &r->timer);
}

/* c-ares' socket state callback: start, change or stop one fd's watcher. */
static void
resolver_sock_state_cb(void *data, ares_socket_t fd, int readable,
    int writable)
{
	struct resolver *r = data;
	struct resolver_sock *s, **sp;
	int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	for (sp = &r->socks; *sp != NULL; sp = &(*sp)->next)
		/* cppcheck-suppress nullPointerRedundantCheck ; *sp != NULL here */
		if ((*sp)->io.fd == fd)
			break;
	s = *sp;

	if (events == 0) {
		/* c-ares is closing the socket. */
		if (s != NULL) {
			ev_io_stop(r->loop, &s->io);
			*sp = s->next;
			free(s);
		}
		return;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->r = r;
		ev_io_init(&s->io, resolver_io_cb, fd, events);
		s->next = r->socks;
		r->socks = s;
	} else {
		if (s->io.events == events)
			return;
		ev_io_stop(r->loop, &s->io);
		ev_io_set(&s->io, fd, events);
	}
	ev_io_start(r->loop, &s->io);
}

/* Hand the configured servers (with their ports) to c-ares. */
static int
resolver_set_servers(struct resolver *r, const struct resolver_options *opt,
    char *err, size_t errlen)
{
	struct ares_addr_port_node *nodes;
	size_t i;
	int rc;

	nodes = calloc(opt->n_servers, sizeof(*nodes));
	if (nodes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < opt->n_servers; i++) {
		const union sockaddr_any *sa = &opt->servers[i];
		struct ares_addr_port_node *n = &nodes[i];
		int port;

		n->next = i + 1 < opt->n_servers ? &nodes[i + 1] : NULL;
		n->family = sa->sa.sa_family;
		if (sa->sa.sa_family == AF_INET) {
			n->addr.addr4 = sa->sin.sin_addr;
			port = ntohs(sa->sin.sin_port);
		} else if (sa->sa.sa_family == AF_INET6) {
			memcpy(&n->addr.addr6, &sa->sin6.sin6_addr,
			    sizeof(n->addr.addr6));
			port = ntohs(sa->sin6.sin6_port);
		} else {
			snprintf(err, errlen,
			    "resolver server %zu: unsupported address family %d",
			    i + 1, sa->sa.sa_family);
			free(nodes);
			return -1;
		}
		/* Port 0 makes c-ares use its default, 53. */
		n->udp_port = port;
		n->tcp_port = port;
	}
	rc = ares_set_servers_ports(r->channel, nodes);
	free(nodes);		/* c-ares copied the list */
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "resolver servers: %s", ares_strerror(rc));
		return -1;
	}
	return 0;
}

/* The hosts file and the cache. */
static int
resolver_init_tables(struct resolver *r, const struct resolver_options *opt,
    char *err, size_t errlen)
{
	const char *path = opt != NULL && opt->hosts_file != NULL ?
	    opt->hosts_file : RESOLVER_HOSTS_FILE;
	uint64_t key[2] = { 0, 0 };

	if (path[0] != '\0') {
		char why[256];

		r->hosts = hosts_load(path, why, sizeof(why));
		if (r->hosts == NULL)
			/* Names still resolve through DNS: not fatal. */
			warning("hosts file not used: %s", why);
		else
			debug("hosts file %s: %zu names", path,
			    hosts_count(r->hosts));
	}
	if (opt == NULL || opt->cache_entries == 0)
		return 0;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		warning("resolver cache: no random key, names are hashed "
		    "predictably");
	r->cache = dnscache_new(opt->cache_entries, key);
	if (r->cache == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct resolver *
resolver_new(struct ev_loop *loop, const struct resolver_options *opt,
    char *err, size_t errlen)
{
	struct ares_options ao;
	struct resolver *r;
	int optmask, rc;
	char lookups[] = "b";	/* DNS: the hosts file is ours (hosts.h) */

	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares init: %s", ares_strerror(rc));
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		ares_library_cleanup();
		return NULL;
	}
	r->loop = loop;
	ev_timer_init(&r->timer, resolver_timer_cb, 0., 0.);
	r->timer.data = r;

	memset(&ao, 0, sizeof(ao));
	optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
	ao.sock_state_cb = resolver_sock_state_cb;
	ao.sock_state_cb_data = r;
	ao.lookups = lookups;	/* copied by c-ares */
	if (opt != NULL && opt->timeout_ms > 0) {
		optmask |= ARES_OPT_TIMEOUTMS;
		ao.timeout = opt->timeout_ms;
	}
	if (opt != NULL && opt->tries > 0) {
		optmask |= ARES_OPT_TRIES;
		ao.tries = opt->tries;
	}
	rc = ares_init_options(&r->channel, &ao, optmask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares init: %s", ares_strerror(rc));
		free(r);
		ares_library_cleanup();
		return NULL;
	}
	r->have_channel = true;
	if (opt != NULL && opt->servers != NULL && opt->n_servers > 0 &&
	    resolver_set_servers(r, opt, err, errlen) == -1) {
		resolver_free(r);
		return NULL;
	}
	if (resolver_init_tables(r, opt, err, errlen) == -1) {
		resolver_free(r);
		return NULL;
	}
	return r;
}

void
resolver_free(struct resolver *r)
{
	struct resolver_query *q;

	if (r == NULL)
		return;
	/*
	 * Every query is marked, so that ares_destroy(), which calls back
	 * each pending one with ARES_EDESTRUCTION, frees it without telling
	 * anyone. Left after it: those already answered (ours alone), and
	 * any a c-ares version failed to call back (the channel is gone and
	 * cannot call back later: freed here rather than leaked).
	 */
	for (q = r->queries; q != NULL; q = q->next)
		q->cancelled = true;
	if (r->have_channel)
		ares_destroy(r->channel);	/* closes sockets via the state cb */
	while ((q = r->queries) != NULL) {
		BUG_ON(q->r != r);	/* freeing it unlinks it from r */
		if (!q->done)
			error("c-ares dropped a query without calling back");
		resolver_query_free(q);
	}
	/* ares_destroy() reported every socket closed; be sure anyway. */
	while (r->socks != NULL) {
		struct resolver_sock *s = r->socks;

		r->socks = s->next;
		ev_io_stop(r->loop, &s->io);
		free(s);
	}
	ev_timer_stop(r->loop, &r->timer);
	hosts_free(r->hosts);
	dnscache_free(r->cache);
	free(r);
	ares_library_cleanup();
}

struct resolver_query *
resolver_lookup(struct resolver *r, const char *name, int family,
    resolver_cb cb, void *arg)
{
	struct ares_addrinfo_hints hints;
	struct resolver_query *q;
	size_t len = strlen(name);

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->r = r;
	q->cb = cb;
	q->arg = arg;
	q->family = family;
	ev_timer_init(&q->deliver, resolver_deliver_cb, 0., 0.);
	q->next = r->queries;
	if (r->queries != NULL)
		r->queries->prev = q;
	r->queries = q;

	/* An FQDN may carry its root dot on top of the 253 characters. */
	if (len == 0 || len > RESOLVER_NAME_MAX +
	    (size_t)(name[len - 1] == '.') ||
	    (family != AF_INET && family != AF_INET6)) {
		debug("refusing lookup of a %zu byte name, family %d",
		    len, family);
		resolver_query_finish(q, ARES_EBADNAME, NULL);
		return q;
	}
	if (resolver_answer_here(q, name)) {
		resolver_query_finish(q, ARES_SUCCESS, NULL);
		return q;
	}
	memcpy(q->name, name, len + 1);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	/*
	 * NOSORT: keep the answer order (the connector sorts), and skip the
	 * RFC 6724 sort, which opens a UDP socket per address.
	 */
	hints.ai_flags = ARES_AI_NOSORT;
	/* May call resolver_ares_cb() before returning; it only parks. */
	ares_getaddrinfo(r->channel, name, NULL, &hints, resolver_ares_cb, q);
	resolver_rearm(r);
	return q;
}

struct resolver_query *
resolver_pref64(struct resolver *r, resolver_pref64_cb cb, void *arg)
{
	struct ares_addrinfo_hints hints;
	struct resolver_query *q;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->r = r;
	q->pcb = cb;
	q->arg = arg;
	q->pref64 = true;
	q->family = AF_INET6;
	ev_timer_init(&q->deliver, resolver_deliver_cb, 0., 0.);
	q->next = r->queries;
	if (r->queries != NULL)
		r->queries->prev = q;
	r->queries = q;

	if (r->pref64_known && ev_now(r->loop) < r->pref64_expires) {
		q->cached = true;
		resolver_query_finish(q, ARES_SUCCESS, NULL);
		return q;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET6;
	hints.ai_flags = ARES_AI_NOSORT;
	/* RFC 7050 section 3: AAAA of the well-known name, with DNS. */
	ares_getaddrinfo(r->channel, "ipv4only.arpa", NULL, &hints,
	    resolver_ares_cb, q);
	resolver_rearm(r);
	return q;
}

void
resolver_cancel(struct resolver_query *q)
{
	struct resolver_query *p;
	struct resolver *r;

	if (q == NULL)
		return;
	BUG_ON(q->cancelled);
	if (q->done) {
		resolver_query_free(q);	/* c-ares let go of it already */
		return;
	}
	q->cancelled = true;		/* freed when c-ares calls back */
	r = q->r;
	for (p = r->queries; p != NULL; p = p->next)
		if (!p->done && !p->cancelled)
			return;
	/*
	 * Nobody waits for an answer any more: end c-ares' queries now
	 * (each calls back with ARES_ECANCELLED and is freed) rather than
	 * at their timeout, so that a client that hung up leaves no socket
	 * or retransmission behind; c-ares closes its sockets once no query
	 * is left.
	 */
	if (r->have_channel) {
		ares_cancel(r->channel);
		resolver_rearm(r);
	}
}

bool
resolver_pref64_current(const struct resolver *r, struct happy_pref64 *out)
{
	if (r == NULL || !r->pref64_found)
		return false;
	*out = r->pref64;
	return true;
}

const char *
resolver_status_str(enum resolver_status st)
{
	switch (st) {
	case RESOLVER_OK:
		return "ok";
	case RESOLVER_NOTFOUND:
		return "not found";
	case RESOLVER_TIMEOUT:
		return "timed out";
	case RESOLVER_FAIL:
		return "failed";
	}
	return "unknown";
}
