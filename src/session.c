/* SPDX-License-Identifier: ISC */
/*
 * session.c - see session.h.
 *
 *   accept -> [PROXY] -> GREETING -> [AUTH] -> REQUEST -> CONNECTING -> REPLYING -> RELAYING
 *                 \           \          \           \
 *                  `-----------`----------`-----------`--> CLOSING (final reply, linger)
 *   REQUEST -> BINDING (bind.h: first reply, wait for the peer) -> REPLYING -> RELAYING
 *   REQUEST -> UDP (udp.h: the association, until the control connection ends)
 *   GREETING -> REQUEST -> [AUTH] -> CONNECTING ...: SOCKS 6 (session6.c), whose
 *      first byte GREETING recognises; its whole request comes before AUTH
 *
 * PROXY (a proxy_protocol listener's header) comes first on those
 * listeners only; a bad header closes at once, without a reply: the
 * balancer that sent it is not a SOCKS client.
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
 * never a close. From CONNECTING on, session_cmd.c reads the client.
 */
#include "config_auto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "proxyproto.h"
#include "relay.h"
#include "ratelimit.h"
#include "quota.h"
#include "session.h"
#include "session_int.h"
#include "socks5.h"
#include "socks6.h"
#include "status.h"
#include "udp.h"

/* After a final error reply: wait this long for the client to close. */
#define SESSION_LINGER_S 2.0
/* Bytes a lingering client may still send before we give up on it. */
#define SESSION_LINGER_MAX (64 * 1024)

static const char *const state_names[] = {
	[SESSION_PROXY] = "PROXY",
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

/*
 * The handshake is over: its buffers go (wiped: a password passed
 * through `in`).
 */
static void
session_drop_buffers(struct session *s)
{
	if (s->in == NULL)
		return;
	explicit_bzero(s->in, s->incap);
	free(s->in);
	s->in = s->out = NULL;
	s->inlen = s->outlen = s->outoff = 0;
}

int
session_grow(struct session *s, size_t incap, size_t outcap)
{
	uint8_t *b;

	if (incap < s->incap)
		incap = s->incap;
	if (outcap < s->outcap)
		outcap = s->outcap;
	if (incap == s->incap && outcap == s->outcap)
		return 0;
	if ((b = malloc(incap + outcap)) == NULL)
		return -1;
	memcpy(b, s->in, s->inlen);
	memcpy(b + incap, s->out, s->outlen);
	explicit_bzero(s->in, s->incap);
	free(s->in);
	s->in = b;
	s->out = b + incap;
	s->incap = incap;
	s->outcap = outcap;
	return 0;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	/*
	 * Async work first, so no callback can land on a freed session.
	 * Work still running is cut short: end=shutdown, unless the session
	 * (or the worker: session_set_end()) already knows why it ends.
	 */
	if (s->conn != NULL || s->relay != NULL || s->bind != NULL ||
	    s->udp != NULL)
		session_set_end(s, "shutdown");
	if (s->conn != NULL) {
		s->attempts = connector_attempts(s->conn);
		connector_cancel(s->conn);
		s->conn = NULL;
	}
	if (s->relay != NULL) {
		relay_stats(s->relay, &s->stats);
		relay_free(s->relay);
		s->relay = NULL;
	}
	if (s->bind != NULL) {
		bind_free(s->bind);
		s->bind = NULL;
	}
	if (s->udp != NULL) {
		/* The counts first: they include the kernel's drops. */
		udp_stats(s->udp, &s->ustats);
		s->stats.bytes_up = s->ustats.bytes_up;
		s->stats.bytes_down = s->ustats.bytes_down;
		udp_free(s->udp);
		s->udp = NULL;
	}
	session_auth_cancel(s);
	session6_drop_auth(s);
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
	session_gss_free(s);
	if (s->rfd != -1)
		close(s->rfd);
	session_drop_buffers(s);
	if (!s->quiet) {
		accesslog_session(s);
		status_session_end(s->have_req ? s->req.cmd : -1, s->rep,
		    s->end, s->user, s->stats.bytes_up, s->stats.bytes_down);
	}
	sess_debug(s, "closed");
	s->env->closed(s->env->arg, s);
	free(s->user);
	free(s);
}

static void session_flushed(struct session *s);

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
	BUG_ON(len == 0 || s->outlen + len > s->outcap);
	/* cppcheck-suppress ctunullpointer ; NULL only with len 0, never queued */
	memcpy(s->out + s->outlen, buf, len);
	s->outlen += len;
	return session_flush(s);
}

/*
 * Enter CLOSING: stop reading the request, and bound the rest of the
 * session's life (writing the last reply, then lingering) by the linger
 * timer, so a client that never reads cannot hold the session.
 */
static void
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
session_close(struct session *s, const char *end, const uint8_t *buf,
    size_t len)
{
	session_closing(s, end);
	if (len > 0)
		(void)session_queue(s, buf, len);
	else
		session_flushed(s);
}

int
session_reply(struct session *s, uint8_t rep, const struct socks5_addr *bnd)
{
	uint8_t buf[SOCKS5_REPLY_MAX];
	size_t n;

	/*
	 * SOCKS 6: an Operation Reply (its Authentication Reply is out);
	 * with an address for BND and at most the Happy Eyeballs option,
	 * it is shorter than SOCKS 5's longest.
	 */
	if (s->s6 != 0)
		n = session6_op_reply(s, rep, bnd, buf, sizeof(buf));
	else
		n = socks5_encode_reply(buf, sizeof(buf), rep, bnd);
	s->rep = rep;
	return session_queue(s, buf, n);
}

void
session_fail(struct session *s, uint8_t rep, const char *end)
{
	struct socks5_addr none;

	memset(&none, 0, sizeof(none));
	none.atyp = SOCKS5_ATYP_IPV4;
	sess_debug(s, "failing with %d (%s): %s", rep, socks5_rep_str(rep), end);
	session_closing(s, end);
	(void)session_reply(s, rep, &none);
}

/* Answer the greeting with "no acceptable method" and close. */
static void
session_refuse_methods(struct session *s, const char *end)
{
	uint8_t buf[2];

	socks5_encode_method_reply(buf, sizeof(buf), SOCKS5_METHOD_NO_ACCEPTABLE);
	session_close(s, end, buf, sizeof(buf));
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
	case RELAY_END_RESET_CLIENT:
	case RELAY_END_RESET_REMOTE:
		/* The relay set the other side to be reset on close. */
		s->end = "reset";
		s->reset_by = how == RELAY_END_RESET_CLIENT ? "client" :
		    "remote";
		break;
	}
	relay_free(s->relay);
	s->relay = NULL;
	session_free(s);
}

static void
session_start_relay(struct session *s)
{
	int one = 1;

	session_set_state(s, SESSION_RELAYING);
	/*
	 * The relay forwards segments as they come: holding back a small
	 * one until the last is acknowledged (Nagle) only adds delay, and
	 * each end applies its own policy anyway. Not fatal if refused.
	 * The client's side has it from the listener (listener_open()).
	 */
	(void)setsockopt(s->rfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev_io_stop(s->loop, &s->rio);
	ev_io_stop(s->loop, &s->wio);
	s->relay = relay_new(s->loop, s->fd, s->rfd, s->in, s->inlen,
	    s->cfg->limits.idle_timeout_s, session_relay_done_cb, s);
	session_drop_buffers(s);	/* the relay copied what was pending */
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

static void
session_flushed(struct session *s)
{
	switch (s->state) {
	case SESSION_REQUEST:
		/* The protection answer is out: the rest is encapsulated. */
		if (s->tun_ctx != NULL && session_gss_tunnel(s) == 0)
			session_process(s);
		break;
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
 * No valid PROXY header (`why`): not a session but a refused connection,
 * counted and logged as one (no access line). The caller frees.
 */
static void
session_proxy_refused(struct session *s, const char *why)
{
	char as[SOCKADDR_STRLEN];

	status_count_refusal(STATUS_REFUSED_PROXY_HEADER);
	logit("refused %s: %s on a proxy_protocol listener",
	    sockaddr_format(&s->peer.sa, as, sizeof(as)), why);
	s->quiet = 1;
}

/*
 * The PROXY header (SESSION_PROXY): parse it, take the client it names,
 * have the worker admit that client, then discard what is left of the
 * header (v2's TLVs, which may still be on their way). Returns 1 when
 * the session moved on to GREETING (the caller parses on), 0 when it
 * waits for more bytes or was freed.
 */
static int
session_proxy(struct session *s)
{
	struct proxy_header h;
	size_t used = 0, n;

	if (s->proxy_skip == 0) {
		switch (proxy_parse(s->in, s->inlen, &h, &used)) {
		case PROXY_NEED_MORE:
			return 0;
		case PROXY_MALFORMED:
			session_proxy_refused(s, "not a valid PROXY header");
			session_free(s);
			return 0;
		case PROXY_DONE:
			break;
		}
		BUG_ON(used == 0);
		if (h.local) {
			s->proxy_local = 1;
		} else {
			s->via = s->peer;
			s->has_via = 1;
			s->peer = h.src;
			sockaddr_unmap(&s->peer);
		}
		sess_debug(s, "PROXY v%d header%s", h.version,
		    h.local ? ": LOCAL, the connection's own address" : "");
		if (s->env->admit != NULL) {
			if (!s->env->admit(s->env->arg, &s->peer)) {
				s->quiet = 1;
				session_free(s);
				return 0;
			}
			s->client_counted = s->env->quota != NULL;
		}
		s->proxy_skip = used;
	}
	n = s->proxy_skip < s->inlen ? s->proxy_skip : s->inlen;
	s->proxy_skip -= n;
	session_consume(s, n);
	if (s->proxy_skip > 0)
		return 0;
	session_set_state(s, SESSION_GREETING);
	return 1;
}

/* Parse what has arrived; may end (free) the session. */
void
session_process(struct session *s)
{
	/* What arrives waits for the tunnel, which is about to start. */
	if (s->tun_ctx != NULL)
		return;
	for (;;) {
		enum socks5_status st;
		size_t used = 0;

		if (s->state == SESSION_PROXY) {
			if (session_proxy(s) != 1)
				return;
			continue;
		}
		if (s->state == SESSION_GREETING) {
			struct socks5_greeting g;
			uint8_t method, buf[2];
			int r;

			if (s->cfg->socks6.enable && s->inlen > 0 &&
			    (r = session6_sniff(s)) != 0) {
				if (r == -1)
					return;
				continue;
			}
			st = socks5_parse_greeting(s->in, s->inlen, &g, &used);
			if (st == SOCKS5_NEED_MORE)
				return;
			if (st == SOCKS5_ERR_VERSION) {
				/* Not SOCKS5: RFC 1928 has no way to say so. */
				session_close(s, "bad-version", NULL, 0);
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
			if (method == SOCKS5_METHOD_GSSAPI &&
			    session_gss_grow(s) == -1) {
				error("out of memory starting authentication");
				s->end = "no-memory";
				session_free(s);
				return;
			}
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
				status_count_auth(method, STATUS_AUTH_SUCCESS);
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
		if (s->state == SESSION_REQUEST && s->s6 != 0) {
			if (session6_request(s) != 1)
				return;
			continue;
		}
		if (s->state == SESSION_REQUEST)
			session_cmd_request(s);
		return;
	}
}

/*
 * The client is gone (the caller frees). On a proxy_protocol listener, a
 * connection that sent nothing at all, or nothing after a LOCAL header,
 * is a balancer's health check: it ends quietly. One that left a header
 * unfinished had no valid header.
 */
static void
session_health_check(struct session *s)
{
	if (s->state == SESSION_PROXY && s->proxy_skip == 0 && s->inlen > 0)
		session_proxy_refused(s, "an unfinished PROXY header");
	else if (s->inlen == 0 &&
	    ((s->state == SESSION_PROXY && s->proxy_skip == 0) ||
	    (s->state == SESSION_GREETING && s->proxy_local)))
		s->quiet = 1;
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
		session_cmd_read(s);
		return;
	}
	if (s->inlen == s->incap) {
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
			session_close(s, "bad-auth-message", NULL, 0);
			return;
		}
		/* Cannot happen with valid messages: they are shorter. */
		session_fail(s, SOCKS5_REP_GENERAL_FAILURE, "bad-request");
		return;
	}
	n = recv(s->fd, s->in + s->inlen, s->incap - s->inlen, 0);
	if (n == 0) {
		s->end = "client-eof";
		session_health_check(s);
		session_free(s);
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		sess_debug(s, "recv: %s", strerror(errno));
		s->end = "client-error";
		session_health_check(s);
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
	if (s->state == SESSION_PROXY && s->proxy_skip == 0)
		session_proxy_refused(s, "no PROXY header within "
		    "limits.handshake_timeout_s");
	if (s->state != SESSION_CLOSING)
		s->end = "handshake-timeout";
	sess_debug(s, "%s", s->state == SESSION_CLOSING ? "linger over" :
	    "handshake timeout");
	session_free(s);
}

struct session *
session_new(const struct session_env *env, int fd,
    const union sockaddr_any *peer, bool proxy)
{
	const struct config *cfg = env->cfg;
	struct session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->in = malloc(SESSION_INBUF + SOCKS5_REPLY_MAX)) == NULL) {
		free(s);
		error("out of memory: dropping a connection");
		close(fd);
		if (env->quota != NULL && !proxy)
			quota_release_client(env->quota, env->slot,
			    &peer->sa, cfg->limits.client_prefix_ipv4,
			    cfg->limits.client_prefix_ipv6);
		return NULL;
	}
	s->out = s->in + SESSION_INBUF;
	s->incap = SESSION_INBUF;
	s->outcap = SOCKS5_REPLY_MAX;
	s->env = env;
	/*
	 * The worker counted this client in the quota before calling us;
	 * a proxy_protocol client is counted once its header is read.
	 */
	s->client_counted = env->quota != NULL && !proxy;
	s->loop = env->loop;
	s->cfg = cfg;
	s->id = ++session_counter;
	s->fd = fd;
	s->sock = fd;
	s->gss_level = -1;
	s->rfd = -1;
	s->peer = *peer;
	s->rep = -1;
	s->start_ms = util_now_ms();
	s->state = proxy ? SESSION_PROXY : SESSION_GREETING;
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
