/*
 * connector.h - reach a SOCKS destination: resolve it and connect to one
 * of its addresses, on the worker's loop, without blocking.
 *
 * This is the one place every outbound TCP connection is made. This version
 * resolves AAAA and A in parallel and tries the addresses one after another
 * (the preferred family first); the Happy Eyeballs connector replaces the
 * ordering and staggering behind the same interface.
 */
#ifndef SOCKEYE_CONNECTOR_H
#define SOCKEYE_CONNECTOR_H

#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

struct ev_loop;
struct resolver;
struct config;
struct socks5_addr;
struct connector;

struct connector_result {
	int fd;			/* connected non-blocking socket, or -1 */
	uint8_t rep;		/* SOCKS5_REP_*: 0 on success */
	int err;		/* errno of the failure that chose `rep` (0 if none) */
	union sockaddr_any addr; /* the address connected to (or last tried) */
	bool has_addr;
	int attempts;		/* connection attempts started */
};

/*
 * Called exactly once, from the loop, never from inside connector_start().
 * On success the callee owns res->fd. The connector is freed right after
 * the callback returns: do not cancel it from inside.
 */
typedef void (*connector_cb)(void *arg, const struct connector_result *res);

/*
 * Start reaching `dst` (IPv4, IPv6, or a name; a name that is an IP literal,
 * bracketed or not, is used without DNS). Uses cfg->connect (timeout,
 * bind addresses, preferred family). Returns NULL only when out of memory.
 */
struct connector *connector_start(struct ev_loop *loop, struct resolver *res,
    const struct config *cfg, const struct socks5_addr *dst,
    connector_cb cb, void *arg) MUST_CHECK;

/* Stop: close every socket, cancel lookups; cb is never called. */
void connector_cancel(struct connector *c);

/* Map a connect(2)/SO_ERROR errno to a SOCKS5 reply code. */
uint8_t connector_errno_to_rep(int err);

#endif
