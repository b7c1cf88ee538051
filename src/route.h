/* SPDX-License-Identifier: ISC */
/*
 * route.h - what this host's routing table says about a destination,
 * asked without sending anything: connect(2) on a UDP socket picks the
 * route and the source address and sends no packet. The connector uses
 * it for RFC 6724's source-address rules, BIND for the address it listens
 * on, and BIND and UDP ASSOCIATE to choose between a name's AAAA and A
 * answers.
 */
#ifndef SOCKEYE_ROUTE_H
#define SOCKEYE_ROUTE_H

#include <stddef.h>

#include "sockaddr.h"
#include "util.h"

/*
 * The source address (port 0, IPv4-mapped forms unmapped) the kernel
 * would use towards `to`. Returns 0, or an errno: ENETUNREACH or
 * EHOSTUNREACH when there is no route; on error *src is zeroed.
 */
int route_source(const union sockaddr_any *to, union sockaddr_any *src)
    MUST_CHECK;

/*
 * Of n candidates in order of preference (NULL: that lookup found none),
 * the first this host has a route to, else the first there is: the
 * index, or -1 when every one is NULL.
 */
int route_choose(const union sockaddr_any *const cand[], size_t n);

/*
 * A name's AAAA and A answers (either NULL when that lookup found none):
 * which family to use, preferring `prefer_family` (AF_INET or AF_INET6)
 * unless only the other has a route (route_choose). AF_UNSPEC when both
 * are NULL.
 */
int route_prefer(int prefer_family, const union sockaddr_any *a6,
    const union sockaddr_any *a4);

#endif
