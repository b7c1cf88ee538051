/* SPDX-License-Identifier: ISC */
/*
 * gssapi.h - the GSS-API method (RFC 1961, SOCKS5 method 0x01) with MIT
 * Kerberos: what the master, the worker and the session need beyond
 * auth.h. Without HAVE_GSSAPI the calls are inert (no keytab, no
 * credentials, level none) and auth_gss_tunnel_ops does not exist.
 *
 *   master (as started, before a generation's workers fork):
 *	kt = auth_gss_keytab_load(path, service, ...)
 *	    reads auth.gssapi_keytab into a MEMORY: keytab of this process,
 *	    so the file may stay readable by root alone; the workers
 *	    inherit the copy. One per configuration (generation).
 *   worker (after the privilege drop):
 *	g = auth_gss_new(kt, service, levels, realms, ...)
 *	    acceptor credentials for service@ANY-HOST from that keytab;
 *	    set as auth_params.gss.
 *   session, after AUTH_OK with method 0x01:
 *	auth_gss_level(a): the protection level granted (gss_msg.h's
 *	GSS_PROT_*); above none, every later byte is encapsulated:
 *	auth_gss_take_tunnel(a) hands over the context as the ctx of
 *	auth_gss_tunnel_ops (gsstun.h's wrap, unwrap and free).
 *
 * The method itself (auth_method_gssapi, in auth.c's table) is a state
 * machine like the others: context-establishment tokens (MTYP 1) go to
 * gss_accept_sec_context(), which asks no KDC (a keytab in memory) and
 * costs about 0.5 ms of CPU plus one small locked, unsynced write to
 * MIT's replay cache in /var/tmp, so it stays on the event loop; then
 * the protection-level message (MTYP 2) is answered with
 * the level granted: the one asked for when auth.gssapi_protection
 * allows it and the context can give it, else the strongest level that
 * is both allowed and possible; none at all is an abort. Any failure is
 * answered with the abort message 01 FF.
 */
#ifndef SOCKEYE_AUTH_GSSAPI_H
#define SOCKEYE_AUTH_GSSAPI_H

#include <stddef.h>
#include <stdint.h>

struct auth;
struct auth_gss;
struct auth_gss_keytab;

/* Bits of a protection-level set: 1 << GSS_PROT_* (gss_msg.h). */
#define AUTH_GSS_LEVEL_BIT(l)	(1u << (l))

/*
 * Read the keytab file `path` into a new in-memory keytab. Fails (NULL,
 * the reason in err) when it cannot be read, holds no key, or no key of
 * service `service` (the message lists the principals it does hold).
 */
struct auth_gss_keytab *auth_gss_keytab_load(const char *path,
    const char *service, char *err, size_t errcap);

/* Close it. NULL is a no-op. */
void auth_gss_keytab_free(struct auth_gss_keytab *kt);

/*
 * A worker's GSS-API state: acceptor credentials for `service` from
 * `kt`, the levels allowed (AUTH_GSS_LEVEL_BIT set), and the realms
 * whose principals lose their "@REALM" in the user name (copied).
 * NULL with the reason in err.
 */
struct auth_gss *auth_gss_new(const struct auth_gss_keytab *kt,
    const char *service, unsigned levels, char *const *strip_realms,
    size_t n_strip_realms, char *err, size_t errcap);
void auth_gss_free(struct auth_gss *g);

/* After AUTH_OK with method 0x01: the level granted (GSS_PROT_*). */
uint8_t auth_gss_level(const struct auth *a);

/*
 * After AUTH_OK at a level above none: the security context as a tunnel
 * ctx for auth_gss_tunnel_ops (the caller owns it from now on: the ops'
 * free deletes it). NULL when there is none, or out of memory.
 */
void *auth_gss_take_tunnel(struct auth *a);

#ifdef HAVE_GSSAPI
struct gsstun_ops;
extern const struct gsstun_ops auth_gss_tunnel_ops;
#endif

#endif
