/*
 * session.h - one client connection, from accept to close.
 *
 * A session owns the client fd, the outbound fd, its buffers and any
 * pending connector or relay; session_free() is the only teardown and
 * cancels async work first. Each change of state goes through
 * session_set_state(), which logs old -> new at debug level.
 */
#ifndef SOCKEYE_SESSION_H
#define SOCKEYE_SESSION_H

#include "sockaddr.h"

struct worker;
struct session;

enum session_state {
	SESSION_GREETING = 0,	/* reading the method-selection greeting */
	SESSION_AUTH,		/* the chosen method's subnegotiation */
	SESSION_REQUEST,	/* reading the request */
	SESSION_CONNECTING,	/* resolving and connecting (connector) */
	SESSION_REPLYING,	/* writing the success reply */
	SESSION_RELAYING,	/* relay running */
	SESSION_CLOSING,	/* writing a final reply, then lingering to close */
	SESSION_BINDING,	/* BIND: listening, waiting for the peer (bind.h) */
	SESSION_UDP,		/* UDP ASSOCIATE: the association runs (udp.h) */
};

/*
 * Start a session on an accepted, non-blocking client fd (the session owns
 * it from now on, also on failure). Returns NULL when out of memory.
 */
struct session *session_new(struct worker *w, int fd,
    const union sockaddr_any *peer);

/* Free: cancel async work, close fds, write the access log line. */
void session_free(struct session *s);

/*
 * Why the worker ends `s` (its access line's end=, a static string such
 * as "reload-deadline"), unless the session already knows why it ends.
 * For the worker, just before session_free().
 */
void session_set_end(struct session *s, const char *end);

/* Doubly-linked list membership, for the worker's drain and exit. */
struct session *session_next(struct session *s);
void session_link(struct session **head, struct session *s);
void session_unlink(struct session **head, struct session *s);

#endif
