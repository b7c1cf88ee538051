/* SPDX-License-Identifier: ISC */
/*
 * udp.c - see udp.h.
 *
 *   client --[hdr|payload]--> relay socket (rfd)
 *        source check (udp_source_*), header, FRAG, destination:
 *          IP -> access check (cached) -> outbound socket of its family
 *          name -> cache: OK -> as an IP; FAILED -> drop;
 *                  PENDING or missing -> queue (bounded), lookups
 *   remote --[payload]--> outbound socket (ofd[0] IPv4, ofd[1] IPv6)
 *        client's port known, filtering, access check (cached)
 *          -> [hdr naming the remote|payload] to the client from rfd
 *
 * Datagrams are received into buffers shared by every association of
 * the worker (the loop is single-threaded and nothing here waits with a
 * datagram in them, except the few copied into the pending queue), so an
 * association costs its struct, not 64 KiB of buffer. The outbound
 * direction receives the payload UDP_ROOM bytes into a buffer, leaving
 * room to write the header in front of it without a copy.
 *
 * A readable socket is read UDP_MMSG datagrams at a time (recvmmsg(2)),
 * and what they produce is sent UDP_MMSG at a time (sendmmsg(2)) before
 * the next read: two system calls for up to UDP_MMSG datagrams instead
 * of 2 * UDP_MMSG. Each socket is read at most UDP_BATCH datagrams per
 * wake-up, so one busy association cannot starve the rest of the loop.
 */
#include "config_auto.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "config.h"
#include "log.h"
#include "resolver.h"
#include "route.h"
#include "socks5.h"
#include "status.h"
#include "udp.h"
#include "udp_table.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
/* linux/sock_diag.h: the index of the drop counter in SO_MEMINFO. */
#define UDP_MEMINFO_DROPS 8
#define UDP_MEMINFO_VARS 9

/* Datagrams read per socket per wake-up, and per recvmmsg(2) call. */
#define UDP_BATCH 64
#define UDP_MMSG 16
/* Datagrams (and their bytes) an association may hold for names. */
#define UDP_PENDING_MAX 16
#define UDP_PENDING_BYTES (64 * 1024)
/* Room for the longest header in front of a payload. */
#define UDP_ROOM SOCKS5_UDP_HEADER_MAX
#define UDP_DGRAM_MAX 65535
/* Ports tried in udp.port_range before giving up. */
#define UDP_PORT_TRIES 1024
/* After an outbound socket could not be made, wait before trying again. */
#define UDP_RETRY_S 1.0

/*
 * One buffer per datagram of a recvmmsg(2) call. The kernel writes only
 * what arrives, so small datagrams keep a page of each resident.
 */
static uint8_t udp_buf[UDP_MMSG][UDP_ROOM + UDP_DGRAM_MAX];

/*
 * Datagrams to send once the batch they came in has been read: each
 * refers to one of udp_buf's buffers (or, for a name answered at once,
 * is sent straight away instead). All are of one association.
 */
struct udp_out {
	int fd;
	bool down;			/* to the client (else to a remote) */
	union sockaddr_any to;
	struct iovec iov;
	size_t payload;			/* bytes counted in the statistics */
};
static struct udp_out udp_outq[UDP_MMSG];
static size_t udp_nout;
static bool udp_batching;

_Static_assert(UDP_DROP_MAX == STATUS_UDP_DROPS,
    "the status counts every drop reason");


/* Lookup indices: the AAAA and the A query of a name. */
enum { UDP_Q6 = 0, UDP_Q4 = 1 };

struct udp_lookup {
	struct udp_assoc *a;
	int idx;			/* the name's entry */
	struct resolver_query *q;	/* NULL when not running */
	bool done;
	enum resolver_status st;
	union sockaddr_any addr;	/* the first answer, port 0 */
	uint32_t ttl;
};

/* A datagram waiting for its name. */
struct udp_pending {
	int idx;			/* the name's entry */
	uint16_t port;
	size_t len;
	uint8_t *data;
};

struct udp_assoc {
	struct ev_loop *loop;
	struct resolver *resolver;
	const struct config *cfg;
	udp_check_fn check;
	void *check_arg;
	udp_done_cb done;
	void *arg;

	int rfd;			/* relay socket, facing the client */
	ev_io rio;
	int ofd[2];			/* outbound: [0] IPv4, [1] IPv6; -1: none yet */
	ev_io oio[2];
	ev_tstamp ofail[2];		/* when making ofd[i] last failed */
	ev_timer idle;
	ev_tstamp last;			/* a datagram was last relayed */

	struct udp_source src;
	struct udp_map verdicts;	/* (address, port) -> 1 allowed, 2 refused */
	struct udp_map sent;		/* addresses the client has sent to */
	struct udp_names names;
	struct udp_lookup look[UDP_NAMES_MAX][2];
	struct udp_pending pend[UDP_PENDING_MAX];
	size_t npend, pend_bytes;
	struct udp_stats st;
};

const char *
udp_drop_name(enum udp_drop d)
{
	if ((unsigned)d >= UDP_DROP_MAX)
		return "?";
	return udp_drop_names[d];
}

/* ---------------------------------------------------------------- I/O */

static uint64_t
now_ms(const struct udp_assoc *a)
{
	return (uint64_t)(ev_now(a->loop) * 1000.);
}

static void
drop(struct udp_assoc *a, enum udp_drop why)
{
	a->st.drops[why]++;
}

/*
 * Bind fd to `at`, with a port from [lo, hi] (both 0: the kernel's
 * choice): from a random start, up to UDP_PORT_TRIES ports. 0 or -1.
 */
static int
bind_port(int fd, union sockaddr_any *at, uint16_t lo, uint16_t hi)
{
	static uint32_t seed;
	uint32_t span, start, i, tries;

	if (lo == 0) {
		sockaddr_set_port(&at->sa, 0);
		return bind(fd, &at->sa, sockaddr_len(&at->sa));
	}
	if (seed == 0)
		seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)util_now_ms();
	/* xorshift32: spreads associations over the range, nothing more. */
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	if (hi < lo) {
		errno = EINVAL;
		return -1;
	}
	span = (uint32_t)(hi - lo) + 1;
	start = seed % span;
	tries = span < UDP_PORT_TRIES ? span : UDP_PORT_TRIES;
	/* cppcheck-suppress knownConditionTrueFalse ; span >= 1: hi >= lo */
	for (i = 0; i < tries; i++) {
		sockaddr_set_port(&at->sa, (uint16_t)(lo + (start + i) % span));
		if (bind(fd, &at->sa, sockaddr_len(&at->sa)) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	errno = EADDRINUSE;
	return -1;
}

static int
udp_socket(int family)
{
	int fd, one = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1 && family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	return fd;
}

static void udp_down_cb(struct ev_loop *loop, ev_io *io, int revents);

/* The outbound socket for `family`, made when first needed; -1: none. */
static int
outbound(struct udp_assoc *a, int family)
{
	int i = family == AF_INET6 ? 1 : 0, fd;
	union sockaddr_any at;
	const struct config *cfg = a->cfg;

	if (a->ofd[i] != -1)
		return a->ofd[i];
	if (a->ofail[i] != 0. && ev_now(a->loop) - a->ofail[i] < UDP_RETRY_S)
		return -1;
	memset(&at, 0, sizeof(at));
	if (family == AF_INET && cfg->connect.has_bind_ipv4) {
		at = cfg->connect.bind_ipv4;
	} else if (family == AF_INET6 && cfg->connect.has_bind_ipv6) {
		at = cfg->connect.bind_ipv6;
	} else if (family == AF_INET) {
		at.sin.sin_family = AF_INET;
	} else {
		at.sin6.sin6_family = AF_INET6;
	}
	fd = udp_socket(family);
	if (fd == -1 ||
	    bind_port(fd, &at, cfg->udp.port_lo, cfg->udp.port_hi) == -1) {
		debug("udp: no outbound socket for family %d: %s", family,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		a->ofail[i] = ev_now(a->loop);
		return -1;
	}
	a->ofd[i] = fd;
	ev_io_init(&a->oio[i], udp_down_cb, fd, EV_READ);
	a->oio[i].data = a;
	ev_io_start(a->loop, &a->oio[i]);
	return fd;
}

/* The access check's verdict on `sa` (address and port), remembered. */
static bool
allowed(struct udp_assoc *a, const struct sockaddr *sa)
{
	uint8_t v;

	if (a->check == NULL)
		return true;
	if (udp_map_get(&a->verdicts, sa, true, &v))
		return v == 1;
	v = a->check(a->check_arg, sa) ? 1 : 2;
	udp_map_put(&a->verdicts, sa, true, v);
	return v == 1;
}

/* A datagram relayed: count it. */
static void
sent(struct udp_assoc *a, const struct udp_out *o)
{
	if (o->down) {
		a->st.dgrams_down++;
		a->st.bytes_down += o->payload;
	} else {
		a->st.dgrams_up++;
		a->st.bytes_up += o->payload;
		udp_map_put(&a->sent, &o->to.sa, false, 1);
	}
	a->last = ev_now(a->loop);
}

static void
send_failed(struct udp_assoc *a, const struct udp_out *o)
{
	drop(a, o->down ? UDP_DROP_SEND_DOWN : UDP_DROP_SEND_UP);
}

/*
 * Send the queued datagrams, a sendmmsg(2) call for each run of them on
 * one socket. A datagram that fails is dropped, as sendto's would be;
 * when the socket's buffer is full, so is the rest of its run.
 */
static void
flush(struct udp_assoc *a)
{
	struct mmsghdr m[UDP_MMSG];
	size_t i = 0, j, k, n = udp_nout;

	udp_nout = 0;
	while (i < n) {
		int fd = udp_outq[i].fd, r;

		for (j = i; j < n && udp_outq[j].fd == fd; j++) {
			memset(&m[j - i], 0, sizeof(m[0]));
			m[j - i].msg_hdr.msg_name = &udp_outq[j].to.sa;
			m[j - i].msg_hdr.msg_namelen =
			    sockaddr_len(&udp_outq[j].to.sa);
			m[j - i].msg_hdr.msg_iov = &udp_outq[j].iov;
			m[j - i].msg_hdr.msg_iovlen = 1;
		}
		for (k = 0; i + k < j;) {
			r = sendmmsg(fd, &m[k], (unsigned)(j - i - k), 0);
			if (r > 0) {
				for (; r > 0; r--, k++) {
					const struct udp_out *o = &udp_outq[i + k];

					if (m[k].msg_len == o->iov.iov_len)
						sent(a, o);
					else
						send_failed(a, o);
				}
				continue;
			}
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1 && (errno == EAGAIN || errno == ENOBUFS)) {
				for (; i + k < j; k++)
					send_failed(a, &udp_outq[i + k]);
				break;
			}
			/* This datagram's own error (EMSGSIZE, EPERM, ...). */
			send_failed(a, &udp_outq[i + k]);
			k++;
		}
		i = j;
	}
}

/* Send a datagram now, or queue it while a batch is being read. */
static void
out(struct udp_assoc *a, struct udp_out *o, bool now)
{
	ssize_t n;

	if (udp_batching && !now) {
		BUG_ON(udp_nout == UDP_MMSG);
		udp_outq[udp_nout++] = *o;
		return;
	}
	n = sendto(o->fd, o->iov.iov_base, o->iov.iov_len, 0, &o->to.sa,
	    sockaddr_len(&o->to.sa));
	if (n == (ssize_t)o->iov.iov_len)
		sent(a, o);
	else
		send_failed(a, o);
}

/*
 * A payload for an IP destination (with port): check and send. `now`:
 * send it at once (data does not stay valid until the batch is sent).
 */
static void
send_up(struct udp_assoc *a, union sockaddr_any *dst, const uint8_t *data,
    size_t len, bool now)
{
	struct udp_out o;
	int fd;

	sockaddr_unmap(dst);
	if (!allowed(a, &dst->sa)) {
		drop(a, UDP_DROP_DENIED);
		return;
	}
	fd = outbound(a, dst->sa.sa_family);
	if (fd == -1) {
		drop(a, UDP_DROP_SEND_UP);
		return;
	}
	o.fd = fd;
	o.down = false;
	o.to = *dst;
	o.iov.iov_base = (void *)(uintptr_t)data;
	o.iov.iov_len = len;
	o.payload = len;
	out(a, &o, now);
}

static void
pending_remove(struct udp_assoc *a, size_t i)
{
	a->pend_bytes -= a->pend[i].len;
	free(a->pend[i].data);
	memmove(&a->pend[i], &a->pend[i + 1],
	    (a->npend - i - 1) * sizeof(a->pend[0]));
	a->npend--;
}

/* Both lookups of name entry idx are in: choose, cache, send what waits. */
static void
name_resolved(struct udp_assoc *a, int idx)
{
	struct udp_name *e = &a->names.e[idx];
	const struct udp_lookup *q6 = &a->look[idx][UDP_Q6];
	const struct udp_lookup *q4 = &a->look[idx][UDP_Q4];
	const struct udp_lookup *l = NULL;
	size_t i;

	/* The preferred family, unless only the other can be reached. */
	switch (route_prefer(a->cfg->connect.prefer_family,
	    q6->st == RESOLVER_OK ? &q6->addr : NULL,
	    q4->st == RESOLVER_OK ? &q4->addr : NULL)) {
	case AF_INET6:
		l = q6;
		break;
	case AF_INET:
		l = q4;
		break;
	}
	udp_names_set(e, l != NULL ? &l->addr.sa : NULL, l != NULL ? l->ttl : 0,
	    now_ms(a));
	a->look[idx][0].done = a->look[idx][1].done = false;
	for (i = 0; i < a->npend;) {
		struct udp_pending *p = &a->pend[i];

		if (p->idx != idx) {
			i++;
			continue;
		}
		if (e->state == UDP_NAME_OK) {
			union sockaddr_any dst = e->addr;

			sockaddr_set_port(&dst.sa, p->port);
			send_up(a, &dst, p->data, p->len, true);
		} else {
			drop(a, UDP_DROP_RESOLVE);
		}
		pending_remove(a, i);
	}
}

static void
lookup_cb(void *arg, enum resolver_status st, const struct resolver_result *res)
{
	struct udp_lookup *l = arg;
	struct udp_assoc *a = l->a;
	int which = l == &a->look[l->idx][UDP_Q6] ? UDP_Q6 : UDP_Q4;

	l->q = NULL;
	l->done = true;
	l->st = st;
	if (st == RESOLVER_OK && res != NULL && res->n > 0) {
		l->addr = res->addrs[0];
		l->ttl = res->ttl;
	} else {
		l->st = st == RESOLVER_OK ? RESOLVER_NOTFOUND : st;
	}
	if (a->look[l->idx][1 - which].done)
		name_resolved(a, l->idx);
}

/* Start both lookups for entry e; false when neither could start. */
static bool
name_lookup(struct udp_assoc *a, struct udp_name *e)
{
	int idx = (int)(e - a->names.e), k;
	static const int fam[2] = { AF_INET6, AF_INET };

	for (k = 0; k < 2; k++) {
		struct udp_lookup *l = &a->look[idx][k];

		memset(l, 0, sizeof(*l));
		l->a = a;
		l->idx = idx;
		if (a->resolver != NULL)
			l->q = resolver_lookup(a->resolver, e->name, fam[k],
			    lookup_cb, l);
		if (l->q == NULL) {
			l->done = true;
			l->st = RESOLVER_FAIL;
		}
	}
	return !(a->look[idx][0].done && a->look[idx][1].done);
}

/* A datagram for a name (not an IP literal) and port. */
static void
send_up_name(struct udp_assoc *a, const char *name, uint16_t port,
    const uint8_t *data, size_t len)
{
	uint64_t now = now_ms(a);
	struct udp_name *e = udp_names_find(&a->names, name, now);
	struct udp_pending *p;

	if (e != NULL && e->state == UDP_NAME_OK) {
		union sockaddr_any dst = e->addr;

		sockaddr_set_port(&dst.sa, port);
		send_up(a, &dst, data, len, false);
		return;
	}
	if (e != NULL && e->state == UDP_NAME_FAILED) {
		drop(a, UDP_DROP_RESOLVE);
		return;
	}
	if (a->npend == UDP_PENDING_MAX ||
	    a->pend_bytes + len > UDP_PENDING_BYTES) {
		drop(a, UDP_DROP_PENDING);
		return;
	}
	if (e == NULL) {
		e = udp_names_add(&a->names, name, now);
		if (e == NULL) {
			drop(a, UDP_DROP_PENDING);	/* every entry resolving */
			return;
		}
		if (!name_lookup(a, e)) {
			udp_names_set(e, NULL, 0, now);
			drop(a, UDP_DROP_RESOLVE);
			return;
		}
	}
	p = &a->pend[a->npend];
	p->data = malloc(len > 0 ? len : 1);
	if (p->data == NULL) {
		drop(a, UDP_DROP_PENDING);
		return;
	}
	memcpy(p->data, data, len);
	p->len = len;
	p->port = port;
	p->idx = (int)(e - a->names.e);
	a->npend++;
	a->pend_bytes += len;
}

/* One datagram (n bytes at buf) that arrived at the relay socket. */
static void
from_client(struct udp_assoc *a, uint8_t *buf, size_t n,
    union sockaddr_any *peer)
{
	const struct sockaddr *from = &peer->sa;
	struct socks5_udp_header h;
	union sockaddr_any dst;
	socklen_t dlen = sizeof(dst);
	size_t used = 0;

	if (!udp_source_match(&a->src, from)) {
		drop(a, UDP_DROP_SOURCE);
		return;
	}
	if (socks5_parse_udp_header(buf, n, &h, &used) != SOCKS5_OK) {
		drop(a, UDP_DROP_MALFORMED);
		return;
	}
	if (h.frag != 0) {
		/* RFC 1928 section 7: no reassembly, so drop every fragment. */
		drop(a, UDP_DROP_FRAG);
		return;
	}
	if (udp_source_learn(&a->src, from) && log_enabled(LOG_LEVEL_DEBUG)) {
		char s[SOCKADDR_STRLEN];

		debug("udp: the client sends from %s",
		    sockaddr_format(from, s, sizeof(s)));
	}
	memset(&dst, 0, sizeof(dst));
	if (h.dst.atyp == SOCKS5_ATYP_DOMAIN) {
		if (sockaddr_parse_ip(h.dst.u.name, h.dst.port, &dst) == -1) {
			send_up_name(a, h.dst.u.name, h.dst.port, buf + used,
			    n - used);
			return;
		}
	} else if (socks5_addr_to_sockaddr(&h.dst, &dst.sa, &dlen) == -1) {
		drop(a, UDP_DROP_MALFORMED);
		return;
	}
	send_up(a, &dst, buf + used, n - used, false);
}

/* One datagram (n bytes at buf, room in front) from a remote: to the client. */
static void
to_client(struct udp_assoc *a, uint8_t *buf, size_t n,
    union sockaddr_any *from)
{
	struct socks5_addr src;
	struct udp_out o;
	uint8_t hdr[UDP_ROOM];
	size_t hlen;

	sockaddr_unmap(from);
	if (a->src.port == 0) {
		drop(a, UDP_DROP_NO_CLIENT);
		return;
	}
	if (!udp_filter_allows((int)a->cfg->udp.filtering, &a->sent,
	    &from->sa) || !allowed(a, &from->sa)) {
		drop(a, UDP_DROP_FILTERED);
		return;
	}
	if (socks5_addr_from_sockaddr(&src, &from->sa) == -1 ||
	    (hlen = socks5_encode_udp_header(hdr, sizeof(hdr), 0, &src)) == 0) {
		drop(a, UDP_DROP_FILTERED);
		return;
	}
	memcpy(buf - hlen, hdr, hlen);
	o.fd = a->rfd;
	o.down = true;
	o.to = a->src.ip;
	sockaddr_set_port(&o.to.sa, a->src.port);
	o.iov.iov_base = buf - hlen;
	o.iov.iov_len = hlen + n;
	o.payload = n;
	out(a, &o, false);
}

/*
 * Read datagrams from fd, UDP_MMSG at a time, each into its own buffer
 * `off` bytes in, handing each to `got` with its length and source, and
 * send what they produced before reading more: at most UDP_BATCH, fewer
 * when the socket runs dry (or fails) first.
 */
static void
read_batch(struct udp_assoc *a, int fd, size_t off,
    void (*got)(struct udp_assoc *, uint8_t *, size_t, union sockaddr_any *))
{
	struct mmsghdr m[UDP_MMSG];
	struct iovec iov[UDP_MMSG];
	union sockaddr_any from[UDP_MMSG];
	int total = 0, r, i;

	while (total < UDP_BATCH) {
		for (i = 0; i < UDP_MMSG; i++) {
			iov[i].iov_base = udp_buf[i] + off;
			iov[i].iov_len = sizeof(udp_buf[i]) - off;
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		r = recvmmsg(fd, m, UDP_MMSG, MSG_DONTWAIT, NULL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return;	/* EAGAIN, or an error that the read consumed */
		udp_batching = true;
		for (i = 0; i < r; i++) {
			union sockaddr_any *f = &from[i];

			/* Zero what the kernel did not write, as recvfrom's caller did. */
			if (m[i].msg_hdr.msg_namelen < sizeof(*f))
				memset((uint8_t *)f + m[i].msg_hdr.msg_namelen,
				    0, sizeof(*f) - m[i].msg_hdr.msg_namelen);
			got(a, udp_buf[i] + off, m[i].msg_len, f);
		}
		udp_batching = false;
		flush(a);
		total += r;
		if (r < UDP_MMSG)
			return;	/* the socket ran dry */
	}
}

static void
udp_up_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	read_batch(io->data, io->fd, 0, from_client);
}

/* The payload lands UDP_ROOM bytes in, leaving room for the header. */
static void
udp_down_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	read_batch(io->data, io->fd, UDP_ROOM, to_client);
}

static void
udp_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct udp_assoc *a = t->data;
	double limit = (double)a->cfg->udp.idle_timeout_s;
	double idle = ev_now(loop) - a->last;

	(void)revents;
	if (idle < limit) {
		ev_timer_set(t, limit - idle, 0.);
		ev_timer_start(loop, t);
		return;
	}
	debug("udp: idle for %.0f s", idle);
	a->done(a->arg, UDP_END_IDLE);
}

/* The relay socket, bound where the client will send. -1 with errno. */
static int
relay_socket(const struct config *cfg, const union sockaddr_any *local,
    union sockaddr_any *bound)
{
	union sockaddr_any at;
	socklen_t len = sizeof(*bound);
	int fd, family = local->sa.sa_family, err;

	fd = udp_socket(family);
	if (fd == -1)
		return -1;
	/*
	 * udp.external_address is what the reply advertises. When it is
	 * one of this host's addresses, listen there; behind NAT it is
	 * not, and the datagrams arrive at the control connection's local
	 * address.
	 */
	at = cfg->udp.external;
	if (!cfg->udp.has_external || at.sa.sa_family != family ||
	    bind_port(fd, &at, cfg->udp.port_lo, cfg->udp.port_hi) == -1) {
		if (cfg->udp.has_external && at.sa.sa_family == family &&
		    errno != EADDRNOTAVAIL)
			goto fail;
		at = *local;
		if (bind_port(fd, &at, cfg->udp.port_lo, cfg->udp.port_hi) == -1)
			goto fail;
	}
	if (getsockname(fd, &bound->sa, &len) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

struct udp_assoc *
udp_start(const struct udp_params *p, struct socks5_addr *bnd, uint8_t *rep)
{
	const struct config *cfg = p->cfg;
	union sockaddr_any local, bound;
	struct udp_assoc *a;
	char buf[SOCKADDR_STRLEN], buf2[SOCKADDR_STRLEN];
	int r;

	udp_addr_copy(&local, p->local);
	if (local.sa.sa_family != AF_INET && local.sa.sa_family != AF_INET6) {
		*rep = SOCKS5_REP_GENERAL_FAILURE;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		*rep = SOCKS5_REP_GENERAL_FAILURE;
		return NULL;
	}
	a->loop = p->loop;
	a->resolver = p->resolver;
	a->cfg = cfg;
	a->check = p->check;
	a->check_arg = p->check_arg;
	a->done = p->done;
	a->arg = p->arg;
	a->ofd[0] = a->ofd[1] = -1;
	r = udp_source_init(&a->src, p->client, p->req, cfg->udp.strict_source,
	    local.sa.sa_family);
	if (r != 0) {
		free(a);
		*rep = (uint8_t)r;
		return NULL;
	}
	memset(&bound, 0, sizeof(bound));
	a->rfd = relay_socket(cfg, &local, &bound);
	if (a->rfd == -1) {
		debug("udp: no relay socket on %s: %s",
		    sockaddr_format(&local.sa, buf, sizeof(buf)),
		    strerror(errno));
		free(a);
		*rep = SOCKS5_REP_GENERAL_FAILURE;
		return NULL;
	}
	/* BND: where to send; the advertised address when configured. */
	if (cfg->udp.has_external &&
	    cfg->udp.external.sa.sa_family == bound.sa.sa_family) {
		uint16_t port = sockaddr_port(&bound.sa);

		bound = cfg->udp.external;
		sockaddr_set_port(&bound.sa, port);
	}
	BUG_ON(socks5_addr_from_sockaddr(bnd, &bound.sa) == -1);
	udp_map_init(&a->verdicts);
	udp_map_init(&a->sent);
	ev_io_init(&a->rio, udp_up_cb, a->rfd, EV_READ);
	a->rio.data = a;
	ev_io_start(a->loop, &a->rio);
	a->last = ev_now(a->loop);
	ev_timer_init(&a->idle, udp_idle_cb, (double)cfg->udp.idle_timeout_s,
	    0.);
	a->idle.data = a;
	if (cfg->udp.idle_timeout_s > 0)
		ev_timer_start(a->loop, &a->idle);
	debug("udp: relaying at %s for %s", sockaddr_format(&bound.sa, buf,
	    sizeof(buf)), sockaddr_format(&a->src.ip.sa, buf2, sizeof(buf2)));
	return a;
}

/* The kernel's count of datagrams dropped at fd (0 when unknown). */
static uint64_t
kernel_drops(int fd)
{
	uint32_t mi[UDP_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (fd == -1)
		return 0;
	memset(mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == -1 ||
	    len <= UDP_MEMINFO_DROPS * sizeof(uint32_t))
		return 0;
	return mi[UDP_MEMINFO_DROPS];
}

void
udp_stats(const struct udp_assoc *a, struct udp_stats *out)
{
	*out = a->st;
	out->drops[UDP_DROP_KERNEL_UP] += kernel_drops(a->rfd);
	out->drops[UDP_DROP_KERNEL_DOWN] += kernel_drops(a->ofd[0]) +
	    kernel_drops(a->ofd[1]);
}

void
udp_free(struct udp_assoc *a)
{
	struct udp_stats st;
	size_t i;
	int k;

	if (a == NULL)
		return;
	/* The association's counts go to the status (with the kernel's). */
	udp_stats(a, &st);
	status_count_udp(st.dgrams_up, st.dgrams_down, st.drops, UDP_DROP_MAX);
	for (i = 0; i < UDP_NAMES_MAX; i++)
		for (k = 0; k < 2; k++)
			if (a->look[i][k].q != NULL)
				resolver_cancel(a->look[i][k].q);
	for (i = 0; i < a->npend; i++)
		free(a->pend[i].data);
	ev_timer_stop(a->loop, &a->idle);
	ev_io_stop(a->loop, &a->rio);
	close(a->rfd);
	for (k = 0; k < 2; k++) {
		if (a->ofd[k] != -1) {
			ev_io_stop(a->loop, &a->oio[k]);
			close(a->ofd[k]);
		}
	}
	free(a);
}
