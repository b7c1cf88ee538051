/* SPDX-License-Identifier: ISC */
/*
 * gsstun.h - the RFC 1961 encapsulation as a tunnel in front of a session.
 *
 * Under the GSS-API method at protection level integrity or
 * confidentiality, every byte between the client and the proxy after
 * authentication (the SOCKS request, the replies, the relayed data)
 * travels as MTYP 3 messages, 01 03 LEN(2) TOKEN, TOKEN = gss_wrap(chunk).
 * Rather than teach every part of the session about that, the session
 * puts a tunnel in front of itself: the tunnel owns the client's socket
 * (`outer`) and one end of a socketpair (`inner`); the session keeps
 * working with plain bytes on the other end, as it would on a client
 * socket.
 *
 *   client <-> outer [ unwrap -> inner ] <-> session's end
 *                    [ wrap   <- inner ]
 *
 * Non-blocking, on the worker's libev loop, like relay.c. Back-pressure:
 * a side is read only while the tunnel has room for what it reads (on the
 * way to the client one message; on the way to the session one buffer of
 * the client's bytes, and parsing stops while the unwrapped bytes of one
 * message wait), so a slow side stops the other instead of making the
 * tunnel buffer without bound. Half-close is passed on: the client's EOF,
 * at a message boundary and once what came before it was written, becomes
 * shutdown(inner, SHUT_WR); the session's EOF, once everything before it
 * was wrapped and sent, becomes shutdown(outer, SHUT_WR).
 *
 * How a tunnel ends, as the session sees it (always as EOF on its end):
 *  - both directions half-closed: the tunnel closes both sockets;
 *  - the client aborts (01 FF): both sockets are closed at once;
 *  - the client breaks the protocol (a message that is not MTYP 3, one
 *    that does not parse, an empty token, a token that does not unwrap)
 *    or a wrap fails: the tunnel closes its inner end at once, finishes
 *    the message it was sending the client, if any, sends 01 FF, shuts
 *    the client socket for writing and closes it when the client has
 *    closed too (at most GSSTUN_LINGER_S later);
 *  - an error or reset on the client socket, EOF in the middle of a
 *    message, an error reading the inner end, out of memory: both
 *    sockets are closed at once;
 *  - after gsstun_reset_end() (the remote reset): the session's EOF,
 *    once everything before it was sent, resets the client socket
 *    instead of half-closing it.
 * After the session has closed its end or released the tunnel, what the
 * client still sends is read and dropped (so that closing the client
 * socket never resets what was sent to it).
 *
 * What a tunnel costs: the struct (424 bytes on x86-64) and two
 * descriptors beyond the client's (the tunnel's end of the socketpair and
 * the session's), and, only while
 * bytes are in flight: the client's bytes not yet parsed (a buffer of
 * GSSTUN_IN_MIN bytes, grown up to GSS_MSG_MAX only for a client that
 * sends a message that big; at first as big as the pending bytes, if
 * they are bigger); unwrapped bytes the session has not taken
 * yet (only what it did not take, at most GSS_MSG_TOKEN_MAX); a framed
 * message the client has not taken yet (only what it did not take, at
 * most GSS_MSG_MAX, in practice GSSTUN_CHUNK plus the wrap's overhead).
 * A tunnel with nothing in flight holds none of them; the worst case is
 * about 192 KiB (a client sending 64 KiB tokens to a session that does
 * not read while it is itself not reading); a download costs at most
 * one message, about 17 KiB. Wrapping and unwrapping go through
 * two scratch buffers shared by every tunnel of the process (80 KiB,
 * static). The socketpair's kernel buffers hold what the session wrote
 * and the tunnel has not read yet, as a socket's would.
 *
 * The session must ignore SIGPIPE or use MSG_NOSIGNAL on its end, as on
 * any socket; the tunnel itself never raises it.
 */
#ifndef SOCKEYE_GSSTUN_H
#define SOCKEYE_GSSTUN_H

#include <stddef.h>
#include <stdint.h>

#include "gss_msg.h"
#include "util.h"

struct ev_loop;
struct gsstun;

/* Plain bytes per MTYP 3 message the tunnel sends. */
#define GSSTUN_CHUNK 16384

/* What a client's bytes are first read into (grown per message). */
#define GSSTUN_IN_MIN (GSSTUN_CHUNK + 1024)

/* How long a released or aborting tunnel may take to finish. */
#define GSSTUN_LINGER_S 10

/*
 * Wrapping and unwrapping, supplied by the caller (GSS-API in sockeyed,
 * anything in tests). Called synchronously from the loop's callbacks and
 * from gsstun_new(); must not block.
 */
struct gsstun_ops {
	/*
	 * Protect `len` plain bytes (0 < len <= GSSTUN_CHUNK) into `out`
	 * (cap GSS_MSG_TOKEN_MAX); the token's length in *outlen (> 0).
	 * 0 or -1.
	 */
	int (*wrap)(void *ctx, const uint8_t *in, size_t len, uint8_t *out,
	    size_t cap, size_t *outlen);
	/*
	 * Check and unprotect one token (len > 0) into `out` (cap
	 * GSS_MSG_TOKEN_MAX); the plain length in *outlen (0 allowed).
	 * 0, or -1 (forged, replayed, ...): the tunnel aborts.
	 */
	int (*unwrap)(void *ctx, const uint8_t *in, size_t len, uint8_t *out,
	    size_t cap, size_t *outlen);
	/* Called once, when the tunnel has closed its sockets or is freed;
	 * may be NULL. */
	void (*free)(void *ctx);
};

/* Bytes moved so far: on the wire (framed, as the client sees them) and
 * plain (as the session sees them). */
struct gsstun_stats {
	uint64_t up_wire;	/* read from the client, in whole messages */
	uint64_t up_plain;	/* unwrapped, written to the session */
	uint64_t down_plain;	/* read from the session */
	uint64_t down_wire;	/* framed, written to the client (01 FF too) */
};

/*
 * Start a tunnel in front of the client socket `outer_fd` (connected,
 * non-blocking). Creates a socketpair (AF_UNIX, SOCK_STREAM, both ends
 * non-blocking and close-on-exec) and returns the session's end in
 * *inner_fd: the caller owns and closes it. `pending`/`pending_len`: bytes
 * already read from the client (the start of its encapsulated stream),
 * copied; the whole messages among them are unwrapped and written to the
 * session's end before this returns, as far as its buffer takes them (the
 * rest follows from the loop).
 * On success the tunnel owns outer_fd and `ctx` (ops->free). NULL on
 * failure (errno set): nothing is owned then, the caller keeps outer_fd
 * and ctx. `ops` must outlive the tunnel. Does not block.
 */
struct gsstun *gsstun_new(struct ev_loop *loop, int outer_fd,
    const struct gsstun_ops *ops, void *ctx, const uint8_t *pending,
    size_t pending_len, int *inner_fd) MUST_CHECK;

/*
 * The session is done with the tunnel (it will close or has closed its
 * end). The tunnel finishes on its own: what the session wrote to its end
 * is still wrapped and delivered to the client, then the client socket is
 * shut for writing and closed once the client has closed too (what it
 * still sends is dropped), all within GSSTUN_LINGER_S seconds; then the
 * tunnel frees itself. `t` must not be used afterwards.
 * gsstun_release(NULL) is a no-op.
 */
void gsstun_release(struct gsstun *t);

/*
 * The session's end was a reset from the remote (relay.h's
 * RELAY_END_RESET_REMOTE): once everything the session wrote has been
 * delivered, the tunnel resets the client socket (SO_LINGER 0) instead
 * of half-closing it, as relay.c does for a plain client. Call before
 * gsstun_release().
 */
void gsstun_reset_end(struct gsstun *t);

/* Counts so far. */
void gsstun_stats(const struct gsstun *t, struct gsstun_stats *out);

/*
 * Free every tunnel of this process now (worker exit), released or not,
 * closing their sockets and calling ops->free. Every handle is invalid
 * afterwards: call it once the sessions are gone, or never release
 * after it.
 */
void gsstun_free_all(void);

/* How many tunnels this process holds (released ones included). */
unsigned gsstun_count(void);

/*
 * Tests: the bound for tunnels released or aborting from now on, in
 * seconds (<= 0: GSSTUN_LINGER_S again).
 */
void gsstun_set_linger(double secs);

#endif
