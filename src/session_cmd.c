/* SPDX-License-Identifier: ISC */
/*
 * session_cmd.c - the session from its request on (session_int.h): the
 * request is admitted (the user's session limit, `commands`, whether any
 * access rule could allow it) and runs as a CONNECT (connector.h), a BIND
 * (bind.h) or a UDP ASSOCIATE (udp.h). Every destination they are about
 * to use passes session_dst_allowed() first.
 *
 * CONNECTING and BINDING read the client for its EOF or error, which ends
 * them at once (the connector's sockets and lookups are cancelled with
 * the session), keeping what arrives for the destination (up to the
 * buffer); UDP discards it (nothing is expected on the control
 * connection).
 */
#include "config_auto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "accesslog.h"
#include "acl.h"
#include "bind.h"
#include "config.h"
#include "connector.h"
#include "happy.h"
#include "log.h"
#include "quota.h"
#include "resolver.h"
#include "session.h"		/* struct session_env */
#include "session_int.h"
#include "socks5.h"
#include "socks6.h"
#include "status.h"
#include "udp.h"

/*
 * A command ends with the failure `rep`. A refusal by the access rules
 * says which rule (the "refused:" line) and ends access-denied; any
 * other failure ends `end`.
 */
static void
session_cmd_fail(struct session *s, uint8_t rep, const char *end)
{
	if (rep == SOCKS5_REP_NOT_ALLOWED && s->refused) {
		accesslog_refusal(s);
		end = "access-denied";
	}
	session_fail(s, rep, end);
}

static void
session_connected_cb(void *arg, const struct connector_result *res)
{
	struct session *s = arg;
	union sockaddr_any local;
	socklen_t len = sizeof(local);
	struct socks5_addr bnd;

	s->conn = NULL;
	ev_io_stop(s->loop, &s->rio);
	s->attempts = res->attempts;
	status_count_connect(res->fd != -1, res->addr.sa.sa_family,
	    res->attempts, res->nat64, res->ms);
	if (res->has_addr) {
		s->addr = res->addr;
		s->has_addr = 1;
	}
	if (res->fd == -1) {
		/*
		 * SOCKS 6 has its own code for a timed-out attempt (9);
		 * the connector says "TTL expired" (6) for nothing else.
		 */
		session_cmd_fail(s, s->s6 != 0 &&
		    res->rep == SOCKS5_REP_TTL_EXPIRED ? SOCKS6_REP_TIMEOUT :
		    res->rep, "connect-failed");
		return;
	}
	s->rfd = res->fd;
	/* BND.ADDR/BND.PORT: the outbound socket's real local address. */
	memset(&bnd, 0, sizeof(bnd));
	if (getsockname(s->rfd, &local.sa, &len) == -1 ||
	    socks5_addr_from_sockaddr(&bnd, &local.sa) == -1) {
		memset(&bnd, 0, sizeof(bnd));
		bnd.atyp = SOCKS5_ATYP_IPV4;
	}
	session_set_state(s, SESSION_REPLYING);
	(void)session_reply(s, SOCKS5_REP_SUCCEEDED, &bnd);
}

/*
 * The access rules, asked about one destination address (with its port)
 * that the session is about to use: every candidate of a CONNECT, every
 * BIND peer, every UDP destination. The name the client sent goes along,
 * for `to_hosts` rules. Installed whether or not there are rules: an
 * unspecified destination (0.0.0.0/8, ::, in any mapped, compatible or
 * NAT64 form) reaches this host itself and is always refused. Returns 1
 * when allowed.
 */
static int
session_dst_allowed(void *arg, const struct sockaddr *dst)
{
	struct session *s = arg;
	const struct acl_rule *r;
	struct acl_request req;
	struct happy_pref64 p64;
	union sockaddr_any lit, eff;
	bool have64;

	have64 = resolver_pref64_current(s->env->resolver, &p64);
	if (sockaddr_reach(dst, have64 ? &p64.prefix : NULL,
	    have64 ? p64.len : 0, &eff) != SOCKADDR_REACH_ADDR) {
		s->refused = 1;
		s->refused_line = SESSION_REFUSED_UNSPECIFIED;
		return 0;
	}
	if (!s->cfg->has_access)
		return 1;
	memset(&req, 0, sizeof(req));
	req.user = s->user;
	req.client = &s->peer.sa;
	req.cmd = s->req.cmd;
	req.dst = dst;
	req.port = sockaddr_port(dst);
	if (have64) {
		req.pref64 = &p64.prefix;
		req.pref64_len = p64.len;
	}
	/*
	 * A name that is an IP literal is an address, not a host name.
	 * A UDP ASSOCIATE's DST names the client's own source (PySocks
	 * sends "0"), never the destination of a datagram: no host then.
	 */
	if (s->req.cmd != SOCKS5_CMD_UDP_ASSOCIATE &&
	    s->req.dst.atyp == SOCKS5_ATYP_DOMAIN &&
	    sockaddr_parse_ip(s->req.dst.u.name, 0, &lit) == -1)
		req.host = s->req.dst.u.name;
	r = acl_match(&s->cfg->acl, &req);
	if (r != NULL && r->action == ACL_ALLOW)
		return 1;
	s->refused = 1;
	s->refused_line = r != NULL ? r->line : 0;
	return 0;
}

static enum connector_verdict
session_connect_check(void *arg, const struct sockaddr *addr)
{
	return session_dst_allowed(arg, addr) ? CONNECTOR_ALLOW : CONNECTOR_DENY;
}

/*
 * limits.max_sessions_per_user (or the user's user_limits entry), across
 * all workers. Returns 1 when the session may go on (counted).
 */
static int
session_admit_user(struct session *s)
{
	enum quota_verdict v;
	int max, bps;

	if (s->user == NULL || s->env->quota == NULL)
		return 1;
	config_user_limits(s->cfg, s->user, &max, &bps);
	if (max <= 0)
		return 1;
	v = quota_acquire_user(s->env->quota, s->env->slot, s->user,
	    max);
	if (v == QUOTA_OK) {
		s->user_counted = 1;
		return 1;
	}
	status_count_refusal(STATUS_REFUSED_USER_MAX_SESSIONS);
	accesslog_user_limit(s, v == QUOTA_TABLE_FULL, max);
	return 0;
}

/*
 * BIND (bind.h). The session waits in BINDING while the bind resolves,
 * listens (first reply) and waits for the peer, reading the control
 * connection meanwhile: its EOF ends the session, and bytes the client
 * sends early are kept for the peer, as CONNECT keeps them. The peer's
 * connection makes the second reply, then the ordinary relay runs.
 */
static void
session_bind_cb(void *arg, const struct bind_result *r)
{
	struct session *s = arg;
	struct socks5_addr a;
	union sockaddr_any told = r->addr;

	s->bind_strays = r->refused;
	if (r->ev != BIND_LISTENING) {
		bind_free(s->bind);
		s->bind = NULL;
	}
	switch (r->ev) {
	case BIND_LISTENING:
		s->bnd = r->addr;
		s->has_bnd = 1;
		/*
		 * Behind NAT the client must be told an address it can
		 * have its peer reach: bind.advertise_addresses' first of
		 * the family, with the port listened on.
		 */
		if (bind_pick_external(s->cfg->bind.advertise,
		    s->cfg->bind.n_advertise, r->addr.sa.sa_family, &told))
			sockaddr_set_port(&told.sa, sockaddr_port(&r->addr.sa));
		break;
	case BIND_ACCEPTED:
		s->rfd = r->fd;
		s->addr = r->addr;
		s->has_addr = 1;
		/* The relay reads the client from now on. */
		ev_io_stop(s->loop, &s->rio);
		session_set_state(s, SESSION_REPLYING);
		break;
	case BIND_FAILED:
		session_cmd_fail(s, r->rep,
		    r->why != NULL ? r->why : "bind-failed");
		return;
	}
	if (socks5_addr_from_sockaddr(&a, &told.sa) == -1) {
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "bind-failed");
		return;
	}
	/* REPLYING: once written, the relay starts (session_queue()). */
	(void)session_reply(s, SOCKS5_REP_SUCCEEDED, &a);
}

static void
session_start_bind(struct session *s)
{
	union sockaddr_any local;
	socklen_t len = sizeof(local);
	struct bind_params p;

	memset(&local, 0, sizeof(local));
	if (getsockname(s->sock, &local.sa, &len) == -1)
		memset(&local, 0, sizeof(local));
	memset(&p, 0, sizeof(p));
	p.loop = s->loop;
	p.resolver = s->env->resolver;
	p.cfg = s->cfg;
	p.dst = &s->req.dst;
	p.local = &local.sa;
	p.check = session_dst_allowed;
	p.check_arg = s;
	p.cb = session_bind_cb;
	p.arg = s;
	s->bind = bind_start(&p);
	if (s->bind == NULL) {
		error("out of memory: cannot start a BIND");
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "no-memory");
		return;
	}
	session_set_state(s, SESSION_BINDING);
	ev_io_start(s->loop, &s->rio);
}

/*
 * UDP ASSOCIATE (udp.h): the association is made at once and lives as
 * long as the control connection, which the session keeps reading (and
 * discarding: the client has nothing to say on it) for its EOF.
 */
static void
session_udp_done_cb(void *arg, enum udp_end how)
{
	struct session *s = arg;

	s->end = how == UDP_END_IDLE ? "idle-timeout" : "udp-error";
	session_free(s);
}

static void
session_start_udp(struct session *s)
{
	union sockaddr_any local;
	socklen_t len = sizeof(local);
	struct udp_params p;
	struct socks5_addr bnd;
	uint8_t rep = SOCKS5_REP_GENERAL_FAILURE;

	/*
	 * RFC 1961 would encapsulate every datagram too; sockeye does not,
	 * so a protected session gets no association rather than a
	 * cleartext one.
	 */
	if (s->tun != NULL) {
		session_fail(s, SOCKS5_REP_CMD_NOT_SUPPORTED,
		    "udp-with-gssapi-protection");
		return;
	}
	memset(&local, 0, sizeof(local));
	if (getsockname(s->sock, &local.sa, &len) == -1) {
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "udp-failed");
		return;
	}
	memset(&p, 0, sizeof(p));
	p.loop = s->loop;
	p.resolver = s->env->resolver;
	p.cfg = s->cfg;
	p.client = &s->peer.sa;
	p.local = &local.sa;
	p.req = &s->req.dst;
	p.check = session_dst_allowed;
	p.check_arg = s;
	p.done = session_udp_done_cb;
	p.arg = s;
	s->udp = udp_start(&p, &bnd, &rep);
	if (s->udp == NULL) {
		session_fail(s, rep, "udp-failed");
		return;
	}
	len = sizeof(s->bnd);
	if (socks5_addr_to_sockaddr(&bnd, &s->bnd.sa, &len) == 0)
		s->has_bnd = 1;
	session_set_state(s, SESSION_UDP);
	ev_io_start(s->loop, &s->rio);
	(void)session_reply(s, SOCKS5_REP_SUCCEEDED, &bnd);
}

/* The client, readable while CONNECTING, BINDING or in a UDP ASSOCIATE. */
void
session_cmd_read(struct session *s)
{
	uint8_t scratch[4096];
	ssize_t n;

	if (s->state == SESSION_BINDING || s->state == SESSION_CONNECTING) {
		if (s->inlen == s->incap) {
			/* Enough kept for the destination: wait for it. */
			ev_io_stop(s->loop, &s->rio);
			return;
		}
		n = recv(s->fd, s->in + s->inlen, s->incap - s->inlen, 0);
		if (n > 0) {
			s->inlen += (size_t)n;
			return;
		}
	} else {
		n = recv(s->fd, scratch, sizeof(scratch), 0);
		if (n > 0)
			return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == 0) {
		s->end = s->state == SESSION_UDP ? "closed" : "client-eof";
	} else {
		sess_debug(s, "recv: %s", strerror(errno));
		s->end = "client-error";
	}
	session_free(s);
}

void
session_cmd_start(struct session *s)
{
	const struct config *cfg = s->cfg;

	ev_io_stop(s->loop, &s->rio);
	ev_timer_stop(s->loop, &s->timer);
	if (!session_admit_user(s)) {
		/* Over a limit, with the request already sent: REP 1. */
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "user-max-sessions");
		return;
	}
	if ((s->req.cmd != SOCKS5_CMD_CONNECT &&
	    s->req.cmd != SOCKS5_CMD_BIND &&
	    s->req.cmd != SOCKS5_CMD_UDP_ASSOCIATE) ||
	    (s->s6 != 0 && s->req.cmd != SOCKS5_CMD_CONNECT) ||
	    !(cfg->commands & CONFIG_CMD_BIT(s->req.cmd))) {
		/*
		 * Unknown, not in `commands`, or one that SOCKS 6 has
		 * here only as CONNECT (session6.c).
		 */
		status_count_refusal(STATUS_REFUSED_COMMAND);
		session_fail(s, SOCKS5_REP_CMD_NOT_SUPPORTED, "cmd-not-supported");
		return;
	}
	/*
	 * The command before the socket: when no rule could allow this
	 * user and client the command, refuse now, before a listener, a
	 * UDP relay or a lookup exists.
	 */
	if (cfg->has_access) {
		const struct acl_rule *deny;

		if (!acl_command_possible(&cfg->acl, s->user, &s->peer.sa,
		    s->req.cmd, &deny)) {
			s->refused = 1;
			s->refused_line = deny != NULL ? deny->line : 0;
			session_cmd_fail(s, SOCKS5_REP_NOT_ALLOWED,
			    "access-denied");
			return;
		}
	}
	if (s->req.cmd == SOCKS5_CMD_BIND) {
		session_start_bind(s);
		return;
	}
	if (s->req.cmd == SOCKS5_CMD_UDP_ASSOCIATE) {
		session_start_udp(s);
		return;
	}
	session_set_state(s, SESSION_CONNECTING);
	s->conn = connector_start(s->loop, s->env->resolver, cfg,
	    &s->req.dst, session_connected_cb, s);
	if (s->conn == NULL) {
		error("out of memory: cannot start connecting");
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "no-memory");
		return;
	}
	connector_set_check(s->conn, session_connect_check, s);
	/* SOCKS 6's Happy Eyeballs option, "not desired" (session6.c). */
	if (s->s6_he == SOCKS6_AVAIL_NO)
		connector_set_happy(s->conn, false);
	/* Watch the client: its EOF cancels every attempt and lookup. */
	ev_io_start(s->loop, &s->rio);
}

/*
 * A UDP ASSOCIATE whose DST.ADDR is an empty name, as some clients send
 * when they do not know their address (RFC 1928 has them send zeros,
 * but some send a zero-length name): taken as
 * 0.0.0.0 with its port. Returns 1 when it was one (the request is in
 * s->req), 0 when not, -1 when its port has not arrived yet.
 */
static int
session_udp_empty_name(struct session *s)
{
	if (s->inlen < 5 || s->in[0] != SOCKS5_VERSION ||
	    s->in[1] != SOCKS5_CMD_UDP_ASSOCIATE ||
	    s->in[3] != SOCKS5_ATYP_DOMAIN || s->in[4] != 0)
		return 0;
	if (s->inlen < 7)
		return -1;
	memset(&s->req, 0, sizeof(s->req));
	s->req.version = SOCKS5_VERSION;
	s->req.cmd = SOCKS5_CMD_UDP_ASSOCIATE;
	s->req.rsv = s->in[2];
	s->req.dst.atyp = SOCKS5_ATYP_IPV4;
	s->req.dst.port = (uint16_t)(s->in[5] << 8 | s->in[6]);
	session_consume(s, 7);
	return 1;
}

void
session_cmd_request(struct session *s)
{
	enum socks5_status st;
	size_t used = 0;

	st = socks5_parse_request(s->in, s->inlen, &s->req, &used);
	switch (st) {
	case SOCKS5_NEED_MORE:
		return;
	case SOCKS5_OK:
		s->have_req = 1;
		session_consume(s, used);
		session_cmd_start(s);
		return;
	case SOCKS5_ERR_ATYP:
		session_fail(s, SOCKS5_REP_ATYP_NOT_SUPPORTED,
		    "bad-address-type");
		return;
	case SOCKS5_ERR_NAME:
		switch (session_udp_empty_name(s)) {
		case 1:
			s->have_req = 1;
			session_cmd_start(s);
			return;
		case -1:
			return;
		}
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "bad-request");
		return;
	default:
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "bad-request");
		return;
	}
}
