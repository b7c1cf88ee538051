/*
 * session.c - see session.h.
 *
 *   accept -> GREETING -> [AUTH] -> REQUEST -> CONNECTING -> REPLYING -> RELAYING
 *                 \           \          \           \
 *                  `-----------`----------`-----------`--> CLOSING (final reply, linger)
 *   REQUEST -> BINDING (bind.h: first reply, wait for the peer) -> REPLYING -> RELAYING
 *   REQUEST -> UDP (udp.h: the association, until the control connection ends)
 *
 * AUTH is session_auth.c's (the method, the hold, the verifier); the
 * commands from REQUEST on are session_cmd.c's; the log lines are
 * accesslog.c's. This file runs the states: it reads and parses the
 * client's messages, writes the replies, and closes (CLOSING: the last
 * reply, then a linger).
 *
 * Whatever arrives beyond the message being parsed (a client that does
 * not wait for the answers: optimistic data) stays in the input buffer
 * and is handed to the relay, which sends it first. When the buffer is
 * full while the session waits (a check, a held attempt, the connector)
 * it stops reading the client until there is room again: back-pressure,
 * never a close. CONNECTING and BINDING read the client for its EOF or
 * error, which ends them at once (the connector's sockets and lookups
 * are cancelled with the session), keeping what arrives for the
 * destination (up to the buffer); UDP discards it (nothing is expected
 * on the control connection).
 */
#include "config_auto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "accesslog.h"
#include "auth.h"
#include "bind.h"
#include "config.h"
#include "connector.h"
#include "log.h"
#include "relay.h"
#include "resolver.h"
#include "ratelimit.h"
#include "quota.h"
#include "session.h"
#include "session_int.h"
#include "socks5.h"
#include "status.h"
#include "udp.h"

/* After a final error reply: wait this long for the client to close. */
#define SESSION_LINGER_S 2.0
/* Bytes a lingering client may still send before we give up on it. */
#define SESSION_LINGER_MAX (64 * 1024)

static const char *const state_names[] = {
	[SESSION_GREETING] = "GREETING",
	[SESSION_AUTH] = "AUTH",
	[SESSION_REQUEST] = "REQUEST",
	[SESSION_CONNECTING] = "CONNECTING",
	[SESSION_REPLYING] = "REPLYING",
	[SESSION_RELAYING] = "RELAYING",
	[SESSION_CLOSING] = "CLOSING",
	[SESSION_BINDING] = "BINDING",
	[SESSION_UDP] = "UDP",
};

static uint64_t session_counter;

const char *
session_peer_str(const struct session *s)
{
	static char buf[SOCKADDR_STRLEN];

	return sockaddr_format(&s->peer.sa, buf, sizeof(buf));
}

void
session_set_state(struct session *s, enum session_state st)
{
	sess_debug(s, "%s -> %s", state_names[s->state], state_names[st]);
	s->state = st;
}

void
session_set_end(struct session *s, const char *end)
{
	if (s->end == NULL)
		s->end = end;
}

struct session *
session_next(struct session *s)
{
	return s->next;
}

void
session_link(struct session **head, struct session *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head != NULL)
		(*head)->prev = s;
	*head = s;
}

void
session_unlink(struct session **head, struct session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else if (*head == s)
		*head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	/* Async work first, so no callback can land on a freed session. */
	if (s->conn != NULL) {
		s->attempts = connector_attempts(s->conn);
		connector_cancel(s->conn);
		s->conn = NULL;
		if (s->end == NULL)
			s->end = "shutdown";
	}
	if (s->relay != NULL) {
		relay_stats(s->relay, &s->stats);
		relay_free(s->relay);
		s->relay = NULL;
		if (s->end == NULL)
			s->end = "shutdown";
	}
	if (s->bind != NULL) {
		bind_free(s->bind);
		s->bind = NULL;
		if (s->end == NULL)
			s->end = "shutdown";
	}
	if (s->udp != NULL) {
		/* The counts first: they include the kernel's drops. */
		udp_stats(s->udp, &s->ustats);
		s->stats.bytes_up = s->ustats.bytes_up;
		s->stats.bytes_down = s->ustats.bytes_down;
		udp_free(s->udp);
		s->udp = NULL;
		if (s->end == NULL)
			s->end = "shutdown";
	}
	session_auth_cancel(s);
	ev_io_stop(s->loop, &s->rio);
	ev_io_stop(s->loop, &s->wio);
	ev_timer_stop(s->loop, &s->timer);
	ratelimit_put(s->rl);		/* after relay_free: it used it */
	s->rl = NULL;
	if (s->client_counted)
		quota_release_client(s->env->quota, s->env->slot,
		    &s->peer.sa, s->cfg->limits.client_prefix_ipv4,
		    s->cfg->limits.client_prefix_ipv6);
	if (s->user_counted)
		quota_release_user(s->env->quota, s->env->slot,
		    s->user);
	auth_free(s->auth);
	s->auth = NULL;
	if (s->fd != -1)
		close(s->fd);
	if (s->rfd != -1)
		close(s->rfd);
	accesslog_session(s);
	status_session_end(s->have_req ? s->req.cmd : -1, s->user,
	    s->stats.bytes_up, s->stats.bytes_down);
	sess_debug(s, "closed");
	s->env->closed(s->env->arg, s);
	free(s->user);
	free(s);
}

/* Write what is queued; returns -1 when the session was freed. */
static int
session_flush(struct session *s)
{
	while (s->outoff < s->outlen) {
		ssize_t n = send(s->fd, s->out + s->outoff, s->outlen - s->outoff,
		    MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_start(s->loop, &s->wio);
				return 0;
			}
			sess_debug(s, "send: %s", strerror(errno));
			if (s->end == NULL)
				s->end = "client-error";
			session_free(s);
			return -1;
		}
		s->outoff += (size_t)n;
	}
	ev_io_stop(s->loop, &s->wio);
	s->outoff = s->outlen = 0;
	session_flushed(s);
	return 0;
}

int
session_queue(struct session *s, const uint8_t *buf, size_t len)
{
	BUG_ON(len == 0 || s->outlen + len > sizeof(s->out));
	memcpy(s->out + s->outlen, buf, len);
	s->outlen += len;
	return session_flush(s);
}

/*
 * Enter CLOSING: stop reading the request, and bound the rest of the
 * session's life (writing the last reply, then lingering) by the linger
 * timer, so a client that never reads cannot hold the session.
 */
void
session_closing(struct session *s, const char *end)
{
	s->end = end;
	session_set_state(s, SESSION_CLOSING);
	ev_io_stop(s->loop, &s->rio);
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_set(&s->timer, SESSION_LINGER_S, 0.);
	ev_timer_start(s->loop, &s->timer);
}

/*
 * End the session with a reply code: send the reply, then half-close and
 * wait briefly for the client to close, so the reply is not lost to a
 * reset caused by unread input (RFC 1928 asks for a close within 10 s).
 */
void
session_fail(struct session *s, uint8_t rep, const char *end)
{
	struct socks5_addr none;
	uint8_t buf[SOCKS5_REPLY_MAX];
	size_t n;

	memset(&none, 0, sizeof(none));
	none.atyp = SOCKS5_ATYP_IPV4;
	n = socks5_encode_reply(buf, sizeof(buf), rep, &none);
	s->rep = rep;
	sess_debug(s, "failing with %d (%s): %s", rep, socks5_rep_str(rep), end);
	session_closing(s, end);
	(void)session_queue(s, buf, n);
}

/* Answer the greeting with "no acceptable method" and close. */
static void
session_refuse_methods(struct session *s, const char *end)
{
	uint8_t buf[2];

	socks5_encode_method_reply(buf, sizeof(buf), SOCKS5_METHOD_NO_ACCEPTABLE);
	session_closing(s, end);
	(void)session_queue(s, buf, sizeof(buf));
}

static void
session_relay_done_cb(void *arg, enum relay_end how, int err,
    const struct relay_stats *st)
{
	struct session *s = arg;

	s->stats = *st;
	switch (how) {
	case RELAY_END_CLOSED:
		s->end = "closed";
		break;
	case RELAY_END_IDLE:
		s->end = "idle-timeout";
		break;
	case RELAY_END_ERROR:
		sess_debug(s, "relay: %s", strerror(err));
		s->end = "relay-error";
		break;
	}
	relay_free(s->relay);
	s->relay = NULL;
	session_free(s);
}

static void
session_start_relay(struct session *s)
{
	session_set_state(s, SESSION_RELAYING);
	ev_io_stop(s->loop, &s->rio);
	ev_io_stop(s->loop, &s->wio);
	s->relay = relay_new(s->loop, s->fd, s->rfd, s->in, s->inlen,
	    s->cfg->limits.idle_timeout_s, session_relay_done_cb, s);
	s->inlen = 0;
	if (s->relay == NULL) {
		error("out of memory starting a relay");
		s->end = "no-memory";
		session_free(s);
		return;
	}
	if (s->user != NULL) {
		int max, bps;

		config_user_limits(s->cfg, s->user, &max, &bps);
		if (bps > 0) {
			s->rl = ratelimit_get(s->user, (uint64_t)bps,
			    ev_now(s->loop));
			relay_set_ratelimit(s->relay, s->rl);
		}
	}
}

void
session_flushed(struct session *s)
{
	switch (s->state) {
	case SESSION_REPLYING:
		session_start_relay(s);
		break;
	case SESSION_CLOSING:
		/*
		 * Our last word is said: half-close and read until the
		 * client's EOF (or the linger timer), never a reset.
		 */
		shutdown(s->fd, SHUT_WR);
		ev_io_start(s->loop, &s->rio);
		break;
	default:
		break;
	}
}

static void
session_connected_cb(void *arg, const struct connector_result *res)
{
	struct session *s = arg;
	union sockaddr_any local;
	socklen_t len = sizeof(local);
	struct socks5_addr bnd;
	uint8_t buf[SOCKS5_REPLY_MAX];
	size_t n;

	s->conn = NULL;
	ev_io_stop(s->loop, &s->rio);
	s->attempts = res->attempts;
	status_count_connect(res);
	if (res->has_addr) {
		s->addr = res->addr;
		s->has_addr = 1;
	}
	if (res->fd == -1) {
		if (res->rep == SOCKS5_REP_NOT_ALLOWED && s->refused) {
			accesslog_refusal(s);
			session_fail(s, res->rep, "access-denied");
			return;
		}
		session_fail(s, res->rep, "connect-failed");
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
	n = socks5_encode_reply(buf, sizeof(buf), SOCKS5_REP_SUCCEEDED, &bnd);
	s->rep = SOCKS5_REP_SUCCEEDED;
	session_set_state(s, SESSION_REPLYING);
	(void)session_queue(s, buf, n);
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
	uint8_t buf[SOCKS5_REPLY_MAX];
	size_t n;

	s->bind_strays = r->refused;
	if (r->ev != BIND_LISTENING) {
		bind_free(s->bind);
		s->bind = NULL;
	}
	switch (r->ev) {
	case BIND_LISTENING:
		s->bnd = r->addr;
		s->has_bnd = 1;
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
		if (r->rep == SOCKS5_REP_NOT_ALLOWED && s->refused) {
			accesslog_refusal(s);
			session_fail(s, r->rep, "access-denied");
			return;
		}
		session_fail(s, r->rep, r->why != NULL ? r->why : "bind-failed");
		return;
	}
	if (socks5_addr_from_sockaddr(&a, &r->addr.sa) == -1) {
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "bind-failed");
		return;
	}
	n = socks5_encode_reply(buf, sizeof(buf), SOCKS5_REP_SUCCEEDED, &a);
	s->rep = SOCKS5_REP_SUCCEEDED;
	/* REPLYING: once written, session_flushed() starts the relay. */
	(void)session_queue(s, buf, n);
}

static void
session_start_bind(struct session *s)
{
	union sockaddr_any local;
	socklen_t len = sizeof(local);
	struct bind_params p;

	memset(&local, 0, sizeof(local));
	if (getsockname(s->fd, &local.sa, &len) == -1)
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
	uint8_t buf[SOCKS5_REPLY_MAX], rep = SOCKS5_REP_GENERAL_FAILURE;
	size_t n;

	memset(&local, 0, sizeof(local));
	if (getsockname(s->fd, &local.sa, &len) == -1) {
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
	n = socks5_encode_reply(buf, sizeof(buf), SOCKS5_REP_SUCCEEDED, &bnd);
	s->rep = SOCKS5_REP_SUCCEEDED;
	session_set_state(s, SESSION_UDP);
	ev_io_start(s->loop, &s->rio);
	(void)session_queue(s, buf, n);
}

/* The client, readable while CONNECTING, BINDING or in a UDP ASSOCIATE. */
static void
session_ctl_read(struct session *s)
{
	uint8_t scratch[4096];
	ssize_t n;

	if (s->state == SESSION_BINDING || s->state == SESSION_CONNECTING) {
		if (s->inlen == sizeof(s->in)) {
			/* Enough kept for the destination: wait for it. */
			ev_io_stop(s->loop, &s->rio);
			return;
		}
		n = recv(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen, 0);
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

static void
session_handle_request(struct session *s)
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
	    !(cfg->commands & CONFIG_CMD_BIT(s->req.cmd))) {
		/* Unknown, or not in `commands`. */
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
			accesslog_refusal(s);
			session_fail(s, SOCKS5_REP_NOT_ALLOWED, "access-denied");
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
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "no-memory");
		return;
	}
	connector_set_check(s->conn, session_connect_check, s);
	/* Watch the client: its EOF cancels every attempt and lookup. */
	ev_io_start(s->loop, &s->rio);
}

void
session_consume(struct session *s, size_t n)
{
	memmove(s->in, s->in + n, s->inlen - n);
	s->inlen -= n;
	/* Room again for a client that a full buffer had stopped. */
	if (n > 0 && s->state <= SESSION_REQUEST)
		ev_io_start(s->loop, &s->rio);
}

/*
 * A UDP ASSOCIATE whose DST.ADDR is an empty name, as some clients send
 * when they do not know their address (protocols.md 1.6): taken as
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

/* Parse what has arrived; may end (free) the session. */
void
session_process(struct session *s)
{
	for (;;) {
		enum socks5_status st;
		size_t used = 0;

		if (s->state == SESSION_GREETING) {
			struct socks5_greeting g;
			uint8_t method, buf[2];

			st = socks5_parse_greeting(s->in, s->inlen, &g, &used);
			if (st == SOCKS5_NEED_MORE)
				return;
			if (st == SOCKS5_ERR_VERSION) {
				/* Not SOCKS5: RFC 1928 has no way to say so. */
				session_closing(s, "bad-version");
				session_flushed(s);
				return;
			}
			if (st != SOCKS5_OK) {
				session_refuse_methods(s, "bad-greeting");
				return;
			}
			session_consume(s, used);
			method = socks5_select_method(&g, s->cfg->auth.methods,
			    s->cfg->auth.n_methods);
			if (method == SOCKS5_METHOD_NO_ACCEPTABLE) {
				session_refuse_methods(s, "no-acceptable-method");
				return;
			}
			socks5_encode_method_reply(buf, sizeof(buf), method);
			if (method != SOCKS5_METHOD_NONE) {
				s->auth = auth_new(method,
				    s->env->auth);
				if (s->auth == NULL) {
					error("out of memory starting "
					    "authentication");
					s->end = "no-memory";
					session_free(s);
					return;
				}
				session_set_state(s, SESSION_AUTH);
			} else {
				session_set_state(s, SESSION_REQUEST);
			}
			if (session_queue(s, buf, 2) == -1)
				return;
			continue;
		}
		if (s->state == SESSION_AUTH) {
			if (session_auth_step(s) != 1)
				return;
			continue;
		}
		if (s->state == SESSION_REQUEST) {
			st = socks5_parse_request(s->in, s->inlen, &s->req, &used);
			switch (st) {
			case SOCKS5_NEED_MORE:
				return;
			case SOCKS5_OK:
				s->have_req = 1;
				session_consume(s, used);
				session_handle_request(s);
				return;
			case SOCKS5_ERR_ATYP:
				session_fail(s, SOCKS5_REP_ATYP_NOT_SUPPORTED,
				    "bad-address-type");
				return;
			case SOCKS5_ERR_NAME:
				switch (session_udp_empty_name(s)) {
				case 1:
					s->have_req = 1;
					session_handle_request(s);
					return;
				case -1:
					return;
				}
				session_fail(s, SOCKS5_REP_GENERAL_FAILURE,
				    "bad-request");
				return;
			default:
				session_fail(s, SOCKS5_REP_GENERAL_FAILURE,
				    "bad-request");
				return;
			}
		}
		return;
	}
}

static void
session_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct session *s = io->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (s->state == SESSION_CLOSING) {
		uint8_t scratch[4096];

		n = recv(s->fd, scratch, sizeof(scratch), 0);
		if (n > 0) {
			s->lingered += (size_t)n;
			if (s->lingered <= SESSION_LINGER_MAX)
				return;
		} else if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		session_free(s);
		return;
	}
	if (s->state == SESSION_CONNECTING || s->state == SESSION_BINDING ||
	    s->state == SESSION_UDP) {
		session_ctl_read(s);
		return;
	}
	if (s->inlen == sizeof(s->in)) {
		if (s->state == SESSION_AUTH &&
		    (s->vjob != NULL || s->auth_held)) {
			/*
			 * The attempt is complete and waits for its
			 * check or its turn; what follows it (the request,
			 * data) waits in the buffer: stop reading until
			 * session_consume() makes room.
			 */
			ev_io_stop(s->loop, &s->rio);
			return;
		}
		if (s->state == SESSION_AUTH) {
			/*
			 * An auth message longer than our buffer (CHAP
			 * allows 64 KiB; no real client sends 1 KiB).
			 */
			session_closing(s, "bad-auth-message");
			session_flushed(s);
			return;
		}
		/* Cannot happen with valid messages: they are shorter. */
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "bad-request");
		return;
	}
	n = recv(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen, 0);
	if (n == 0) {
		s->end = "client-eof";
		session_free(s);
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		sess_debug(s, "recv: %s", strerror(errno));
		s->end = "client-error";
		session_free(s);
		return;
	}
	s->inlen += (size_t)n;
	session_process(s);
}

static void
session_write_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	(void)loop;
	(void)revents;
	(void)session_flush(io->data);
}

static void
session_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;

	(void)loop;
	(void)revents;
	if (s->state != SESSION_CLOSING)
		s->end = "handshake-timeout";
	sess_debug(s, "%s", s->state == SESSION_CLOSING ? "linger over" :
	    "handshake timeout");
	session_free(s);
}

struct session *
session_new(const struct session_env *env, int fd,
    const union sockaddr_any *peer)
{
	const struct config *cfg = env->cfg;
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error("out of memory: dropping a connection");
		close(fd);
		if (env->quota != NULL)
			quota_release_client(env->quota, env->slot,
			    &peer->sa, cfg->limits.client_prefix_ipv4,
			    cfg->limits.client_prefix_ipv6);
		return NULL;
	}
	s->env = env;
	/* The worker counted this client in the quota before calling us. */
	s->client_counted = env->quota != NULL;
	s->loop = env->loop;
	s->cfg = cfg;
	s->id = ++session_counter;
	s->fd = fd;
	s->rfd = -1;
	s->peer = *peer;
	s->rep = -1;
	s->start_ms = util_now_ms();
	s->state = SESSION_GREETING;
	ev_io_init(&s->rio, session_read_cb, fd, EV_READ);
	s->rio.data = s;
	ev_io_init(&s->wio, session_write_cb, fd, EV_WRITE);
	s->wio.data = s;
	ev_timer_init(&s->timer, session_timer_cb,
	    (double)cfg->limits.handshake_timeout_s, 0.);
	s->timer.data = s;
	session_auth_init(s);
	ev_io_start(s->loop, &s->rio);
	ev_timer_start(s->loop, &s->timer);
	sess_debug(s, "accepted");
	return s;
}
