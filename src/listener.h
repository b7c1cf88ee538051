/* SPDX-License-Identifier: ISC */
/*
 * listener.h - listening sockets: opened by the master, shared by workers,
 * and carried from one generation to the next on reload.
 */
#ifndef SOCKEYE_LISTENER_H
#define SOCKEYE_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include "sockaddr.h"
#include "util.h"

struct config;

struct listener {
	int fd;
	union sockaddr_any addr;	/* as bound (the real port when 0 was asked) */
};

/*
 * Open, bind and listen on `addr` (IPV6_V6ONLY on IPv6, SO_REUSEADDR,
 * TCP_NODELAY, which accepted connections inherit, non-blocking,
 * close-on-exec). Returns 0, or -1 with a message in err.
 */
int listener_open(struct listener *l, const union sockaddr_any *addr,
    char *err, size_t errlen) MUST_CHECK;

void listener_close(struct listener *l);

/*
 * Write "IP:PORT" lines for each listener to `path` atomically (temp file
 * + rename), then `extra` (NULL: nothing) as it is. Tests use this to
 * learn the ports the kernel chose. 0 or -1.
 */
int listener_write_ports(const struct listener *ls, size_t n,
    const char *extra, const char *path) MUST_CHECK;

/*
 * One generation's listeners: ls[i] listens on conf[i], the address as
 * configured (ls[i].addr is the bound one, which differs for port 0).
 * The master owns the arrays; each socket may be shared with the set of
 * the generation before or after (the same fd in both).
 */
struct listener_set {
	struct listener *ls;
	union sockaddr_any *conf;
	size_t n;
};

/*
 * The listeners of `cfg` into `set`: the socket of `running` (NULL at
 * start) for every configured address that stays, so that its accept
 * queue is never closed; a new one for each new address. Returns 0, or
 * -1 after logging the failure (with the key's FILE:LINE), having
 * closed what it opened; `running` is untouched either way. Blocks
 * briefly (bind): the master only.
 */
int listener_set_open(struct listener_set *set,
    const struct listener_set *running, const struct config *cfg) MUST_CHECK;

/* Whether the listening socket `fd` is one of `set`. */
bool listener_set_has(const struct listener_set *set, int fd);

/*
 * Close the listeners of `old` that `keep` does not share (their fd
 * becomes -1), logging "no longer listening on ADDR" for each when `say`.
 */
void listener_set_close_dropped(struct listener_set *old,
    const struct listener_set *keep, bool say);

/* Close every listener of `set`; the arrays stay. */
void listener_set_close(struct listener_set *set);

/* Free the arrays of `set` (the sockets are not closed) and empty it. */
void listener_set_free(struct listener_set *set);

/* Log "listening on ADDR" for each listener, as bound. */
void listener_set_log(const struct listener_set *set);

#endif
