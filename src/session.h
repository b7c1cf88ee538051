/* SPDX-License-Identifier: ISC */
/*
 * session.h - one client connection, from accept to close.
 *
 * A session owns the client fd, the outbound fd, its buffers and any
 * pending connector or relay; session_free() is the only teardown and
 * cancels async work first. Its states, and the parts that run them, are
 * the session's own business (session_int.h).
 */
#ifndef SOCKEYE_SESSION_H
#define SOCKEYE_SESSION_H

#include <stdbool.h>

#include "sockaddr.h"

struct session;
struct ev_loop;
struct resolver;
struct config;
struct quota;
struct auth_params;
struct verifier;
struct failtab;

/*
 * What a session needs from its worker. The worker fills it and keeps it
 * (unchanged) for as long as any of its sessions lives; sessions only
 * read it. This is all a session knows of the worker.
 */
struct session_env {
	struct ev_loop *loop;
	struct resolver *resolver;
	const struct config *cfg;
	/*
	 * Session accounting shared with the master and the other workers
	 * (quota.h): the region, NULL only in unit tests that build no
	 * master, and the worker's slot in it, the only slot the session
	 * may write (quota_release_client(), quota_acquire_user(), ...).
	 */
	struct quota *quota;
	int slot;
	/*
	 * Authentication: what the methods may use (users, CHAP policy),
	 * the password verifier (threads + verified-credential cache; NULL
	 * when "password" is not configured) and the failed-login table.
	 */
	const struct auth_params *auth;
	struct verifier *verifier;
	struct failtab *failtab;
	/*
	 * Called by session_free() as its last use of the session, which
	 * is freed right after (the worker's drain accounting and list).
	 */
	void (*closed)(void *arg, struct session *s);
	void *arg;
	/*
	 * A proxy_protocol session's client, as its header named it: the
	 * worker's admission (`clients`, limits.max_sessions and
	 * max_sessions_per_client), which it does at accept for the other
	 * listeners. Returns 1 when admitted, the count taken for `peer`
	 * (session_free() gives it back); 0 when refused, after logging
	 * and counting why. NULL: everyone is admitted, nothing counted.
	 */
	int (*admit)(void *arg, const union sockaddr_any *peer);
};

/*
 * Start a session on an accepted, non-blocking client fd (the session owns
 * it from now on, also on failure, and the count the worker took for it in
 * env->quota). `env` must outlive the session. Does not block. Returns
 * NULL when out of memory.
 *
 * With `proxy` (a proxy_protocol listener, whose `peer` the worker found
 * in proxy_protocol.trusted), the client's first bytes must be a PROXY
 * header (proxyproto.h), and the worker has taken no count yet: the
 * session asks env->admit() for the client the header names. A header
 * that names one (PROXY v1 TCP4/TCP6, v2 PROXY over INET/INET6) makes it
 * the session's client for everything after (rules, limits, the failed
 * logins, the log: `client=`, and `via=` the balancer); LOCAL, UNKNOWN
 * and other families keep the connection's own address. No valid header
 * closes the connection (counted as STATUS_REFUSED_PROXY_HEADER, one log
 * line). A connection that closes having sent nothing, or nothing after
 * a LOCAL header, is a balancer's health check: closed without a log
 * line or a count.
 */
struct session *session_new(const struct session_env *env, int fd,
    const union sockaddr_any *peer, bool proxy);

/* Free: cancel async work, close fds, write the access log line. */
void session_free(struct session *s);

/*
 * Why the worker ends `s` (its access line's end=, a static string such
 * as "reload-deadline"), unless the session already knows why it ends.
 * For the worker, just before session_free().
 */
void session_set_end(struct session *s, const char *end);

/* Doubly-linked list membership, for the worker's drain and exit. */
void session_link(struct session **head, struct session *s);
void session_unlink(struct session **head, struct session *s);

#endif
