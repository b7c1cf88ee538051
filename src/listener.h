/*
 * listener.h - listening sockets: opened by the master, shared by workers.
 */
#ifndef SOCKEYE_LISTENER_H
#define SOCKEYE_LISTENER_H

#include <stddef.h>
#include "sockaddr.h"
#include "util.h"

struct listener {
	int fd;
	union sockaddr_any addr;	/* as bound (the real port when 0 was asked) */
};

/*
 * Open, bind and listen on `addr` (IPV6_V6ONLY on IPv6, SO_REUSEADDR,
 * non-blocking, close-on-exec). Returns 0, or -1 with a message in err.
 */
int listener_open(struct listener *l, const union sockaddr_any *addr,
    char *err, size_t errlen) MUST_CHECK;

void listener_close(struct listener *l);

/*
 * Write "IP:PORT" lines for each listener to `path` atomically (temp file
 * + rename). Tests use this to learn the ports the kernel chose. 0 or -1.
 */
int listener_write_ports(const struct listener *ls, size_t n,
    const char *path) MUST_CHECK;

#endif
