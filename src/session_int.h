/* SPDX-License-Identifier: ISC */
/*
 * session_int.h - what the parts of the session share: the lifecycle and
 * the handshake's state machine (session.c), authentication
 * (session_auth.c), the commands (session_cmd.c) and the log lines
 * (accesslog.c). Not for callers: they use session.h.
 *
 * Everything here runs on the worker's loop thread and never blocks. A
 * function that may end the session frees it (session_free()); each says
 * how its caller can tell, and the caller must not touch the session
 * after that.
 */
#ifndef SOCKEYE_SESSION_INT_H
#define SOCKEYE_SESSION_INT_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "log.h"
#include "relay.h"
#include "sockaddr.h"
#include "socks5.h"
#include "udp.h"

struct session_env;

/*
 * The states (session.c's top comment draws how they follow each other).
 * Every change goes through session_set_state().
 */
enum session_state {
	SESSION_PROXY = 0,	/* proxy_protocol listener: the PROXY header */
	SESSION_GREETING,	/* reading the method-selection greeting */
	SESSION_AUTH,		/* the chosen method's subnegotiation */
	SESSION_REQUEST,	/* reading the request */
	SESSION_CONNECTING,	/* resolving and connecting (connector) */
	SESSION_REPLYING,	/* writing the success reply */
	SESSION_RELAYING,	/* relay running */
	SESSION_CLOSING,	/* writing a final reply, then lingering to close */
	SESSION_BINDING,	/* BIND: listening, waiting for the peer (bind.h) */
	SESSION_UDP,		/* UDP ASSOCIATE: the association runs (udp.h) */
};

/* Greeting (<= 257) plus request (<= 262) from an impatient client fit. */
#define SESSION_INBUF 1024
/* refused_line for a destination that is this host's unspecified address. */
#define SESSION_REFUSED_UNSPECIFIED	(-1)

struct session {
	struct session *next, *prev;
	const struct session_env *env;	/* the worker's, outlives us */
	struct ev_loop *loop;
	const struct config *cfg;
	uint64_t id;
	enum session_state state;
	int fd;				/* client, or the tunnel's inner end */
	int sock;			/* the client's TCP socket (getsockname) */
	int rfd;			/* remote, once connected */
	union sockaddr_any peer;
	ev_io rio, wio;
	ev_timer timer;			/* handshake timeout, later linger */
	/*
	 * The handshake's buffers: `in` (SESSION_INBUF bytes) and `out`
	 * (SOCKS5_REPLY_MAX) in one allocation, freed once the relay has
	 * started (session_drop_buffers()): a relayed session holds neither.
	 */
	uint8_t *in;
	size_t inlen, incap;		/* incap: SESSION_INBUF, more for GSS */
	uint8_t *out;
	size_t outlen, outoff, outcap;	/* outcap: SOCKS5_REPLY_MAX, ... */
	int have_req;
	struct socks5_request req;
	int rep;			/* reply sent, or -1 */
	struct connector *conn;
	struct relay *relay;
	struct relay_stats stats;
	union sockaddr_any addr;	/* destination address used */
	int has_addr;
	int attempts;
	size_t lingered;
	uint64_t start_ms;
	const char *end;		/* why it ended, for the access log */
	const char *reset_by;		/* end=reset: "client" or "remote" */
	/* BIND and UDP ASSOCIATE (bind.h, udp.h) */
	struct bind *bind;		/* until the peer is accepted */
	struct udp_assoc *udp;		/* while the association lives */
	union sockaddr_any bnd;		/* listening / relay address, for the log */
	int has_bnd;
	unsigned bind_strays;		/* peers closed: not the expected address */
	struct udp_stats ustats;	/* the association's counts at its end */
	/* Authentication (SESSION_AUTH) */
	struct auth *auth;		/* the method's state, during AUTH */
	struct verifier_job *vjob;	/* a password check parked or under way */
	const char *vreason;		/* the verifier's verdict, for the log */
	ev_timer auth_timer;		/* holds a penalised client's attempt */
	int auth_held;			/* the attempt waits for auth_timer */
	int auth_waited;		/* its penalty was looked up (once) */
	int auth_counted;		/* the failure table has seen it */
	char *user;			/* authenticated name, or NULL */
	/*
	 * GSS-API above protection none (gssapi.h): after AUTH, the session
	 * talks plain bytes to `fd`, the inner end of a tunnel (gsstun.h)
	 * that owns the client socket `sock`. `tun_ctx` is the context
	 * waiting for the protection answer to be flushed first.
	 */
	struct gsstun *tun;
	void *tun_ctx;
	int gss_level;			/* GSS_PROT_* granted; -1: not GSS */
	/* Access rules: why the last candidate was refused, for the log. */
	int refused_line;		/* the deny rule's line; 0: no rule matched */
	int refused;			/* some destination was refused */
	/*
	 * PROXY protocol (proxyproto.h), on a proxy_protocol listener: in
	 * SESSION_PROXY until the header is read. A header that names the
	 * client makes `peer` that client and `via` the balancer.
	 */
	size_t proxy_skip;		/* the header's bytes still to discard */
	int has_via;
	union sockaddr_any via;		/* the balancer, when has_via */
	int proxy_local;		/* the header said LOCAL (or UNKNOWN) */
	int quiet;			/* a balancer's health check: no access
					   line, not counted as a session */
	/*
	 * SOCKS 6 (session6.c): `s6` is the version octet the client
	 * speaks (6, or 0xD4), 0 for SOCKS 5; every reply is SOCKS 6's
	 * then. `s6_he` is the Happy Eyeballs option to honour and echo
	 * (0 none, SOCKS6_AVAIL_NO, SOCKS6_AVAIL_YES). During AUTH,
	 * `s6_auth` holds the RFC 1929 request from the Authentication
	 * Data option (a secret: wiped and freed after its step).
	 */
	uint8_t s6;
	uint8_t s6_he;
	uint8_t *s6_auth;
	size_t s6_authlen;
	/* Limits (quota.h, ratelimit.h) */
	int client_counted;		/* holds a count for `peer` */
	int user_counted;		/* holds a count for `user` */
	struct ratelimit *rl;		/* the user's bandwidth bucket, or NULL */
};


/* Session-scoped debug line: session id and client address first. */
#define sess_debug(s, fmt, ...) \
	debug("session %" PRIu64 " %s: " fmt, (s)->id, session_peer_str(s), \
	    ##__VA_ARGS__)

/*
 * The client's address as text, in a static buffer that the next call
 * overwrites (for sess_debug()).
 */
const char *session_peer_str(const struct session *s);

/* Change state, logging old -> new at debug level. */
void session_set_state(struct session *s, enum session_state st);

/*
 * Queue `len` bytes (> 0; they must fit in s->out) for the client and
 * write what can be written now. Once all is written the state acts:
 * REPLYING starts the relay, CLOSING half-closes and lingers. Returns -1
 * when the session was freed (a send error), 0 otherwise (it may still
 * have been freed by the relay's start failing, in REPLYING).
 */
int session_queue(struct session *s, const uint8_t *buf, size_t len);

/*
 * Queue a reply `rep` with BND.ADDR/BND.PORT `bnd` (s->rep remembers it
 * for the access line). Returns as session_queue().
 */
int session_reply(struct session *s, uint8_t rep, const struct socks5_addr *bnd);

/*
 * End the session with `end` (a static string, for the access line):
 * enter CLOSING, which stops reading the request and bounds the rest of
 * the session's life by the linger timer, send the last word `buf` (none
 * when `len` is 0), then half-close and linger. May free the session.
 */
void session_close(struct session *s, const char *end, const uint8_t *buf,
    size_t len);

/*
 * End the session with a reply code `rep` (BND 0.0.0.0:0), as
 * session_close() does with its last word. May free the session.
 */
void session_fail(struct session *s, uint8_t rep, const char *end);

/*
 * Give the handshake buffers room for `incap` and `outcap` bytes (never
 * less than they have), keeping what they hold; -1 out of memory
 * (nothing changed).
 */
int session_grow(struct session *s, size_t incap, size_t outcap);

/* Drop `n` parsed bytes from the input buffer, reading again if it was full. */
void session_consume(struct session *s, size_t n);

/* Parse what has arrived and act on it; may free the session. */
void session_process(struct session *s);

/*
 * session_auth.c: the AUTH state. session_auth_step() takes the method's
 * next step over the input (unless the attempt waits for its check or
 * its turn); returns 1 when the session moved on to REQUEST (the caller
 * parses on), 0 when it waits for more bytes, is closing or was freed
 * (the caller must stop). session_auth_init() readies the hold timer
 * (session_new()); session_auth_cancel() drops a check under way and the
 * hold (session_free(), before anything else is freed).
 */
int session_auth_step(struct session *s);
void session_auth_init(struct session *s);
void session_auth_cancel(struct session *s);

/*
 * session_auth.c, GSS-API (gssapi.h): session_gss_grow() gives the
 * handshake buffers room for its tokens (64 KiB each way), when the
 * method is chosen; -1 out of memory (nothing changed).
 * session_gss_tunnel() starts the encapsulating tunnel once the
 * protection answer is flushed; returns -1 when it freed the session.
 * session_gss_free() lets the tunnel finish on its own (session_free(),
 * after closing `fd`).
 */
int session_gss_grow(struct session *s);
int session_gss_tunnel(struct session *s);
void session_gss_free(struct session *s);

/*
 * session_cmd.c: the REQUEST state and the commands. session_cmd_request()
 * parses the request that has arrived (nothing yet: it waits) and acts on
 * it: a refusal (session_fail()) or the command's start; may free the
 * session. session_cmd_read() reads the client while CONNECTING, BINDING
 * or in a UDP ASSOCIATE (for its EOF; CONNECT and BIND keep what arrives
 * for the destination); may free the session.
 */
void session_cmd_request(struct session *s);
void session_cmd_read(struct session *s);

/*
 * session_cmd.c: run the request in s->req (SOCKS 5's, or SOCKS 6's
 * once authenticated): the user's limit, `commands`, the access rules,
 * then the command. May free the session.
 */
void session_cmd_start(struct session *s);

/*
 * session6.c: SOCKS 6 (socks6.enable). session6_sniff() looks at the
 * first octet in GREETING: 0 when it is not SOCKS 6's (SOCKS 5 goes
 * on), 1 when the session moved on to REQUEST as a SOCKS 6 one (the
 * caller parses on), -1 when it answered a Version Mismatch and is
 * closing, or was freed (the caller must stop). session6_request() is
 * REQUEST for a SOCKS 6 session: it parses the request, answers what it
 * refuses, and runs the command once authenticated; it returns 1 when
 * the session moved on to AUTH (the caller parses on), 0 otherwise (it
 * waits, is closing, runs the command or was freed: stop).
 * session6_auth_reply() and session6_op_reply() encode the session's
 * Authentication Reply (`kind`: 0 for no option, else the one option:
 * SOCKS6_OPT_AUTH_SELECT with method `value`, or SOCKS6_OPT_AUTH_DATA
 * with RFC 1929 STATUS `value`) and Operation Reply; bytes written.
 */
int session6_sniff(struct session *s);
/* Wipe and free s6_auth (the password in it), if any. */
void session6_drop_auth(struct session *s);
int session6_request(struct session *s);
size_t session6_auth_reply(const struct session *s, uint8_t type,
    uint16_t kind, uint8_t value, uint8_t *buf, size_t cap);
size_t session6_op_reply(const struct session *s, uint8_t rep,
    const struct socks5_addr *bnd, uint8_t *buf, size_t cap);

#endif
