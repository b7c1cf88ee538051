/* SPDX-License-Identifier: ISC */
/*
 * hosts.h - a hosts file (hosts(5)), read once and looked up in memory.
 *
 * The resolver reads /etc/hosts when a worker starts (so: at start and at
 * every reload) instead of once per lookup, as c-ares would. A line is an
 * address and its names, "#" starts a comment; a line whose address does
 * not parse is passed over, as the C library does, and so is a name
 * longer than 253 bytes or holding a NUL byte. Names match without
 * regard to case and to a trailing dot; a name's addresses come in the
 * file's order.
 */
#ifndef SOCKEYE_HOSTS_H
#define SOCKEYE_HOSTS_H

#include <stddef.h>

#include "sockaddr.h"
#include "util.h"

struct hosts;

/* The table of `len` bytes of hosts(5) text; NULL only when out of memory. */
struct hosts *hosts_parse(const char *text, size_t len) MUST_CHECK;

/*
 * The table of the file at `path`. A file that does not exist is an empty
 * table (a container may have none). NULL when it cannot be read (or out
 * of memory), with the reason in err.
 */
struct hosts *hosts_load(const char *path, char *err, size_t errlen)
    MUST_CHECK;

/*
 * Up to `max` addresses of `family` (AF_INET or AF_INET6) that `name` has,
 * port 0, into out: how many.
 */
size_t hosts_lookup(const struct hosts *h, const char *name, int family,
    union sockaddr_any *out, size_t max);

/* Name-address pairs in the table. */
size_t hosts_count(const struct hosts *h);

void hosts_free(struct hosts *h);

#endif
