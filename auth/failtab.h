/*
 * failtab.h - failed logins per client address, to slow down guessing.
 *
 * Each worker counts recent authentication failures per client address
 * (an IPv4 address, or the /64 of an IPv6 address: one host owns a whole
 * /64). Once an address has FAILTAB_FREE failures, every further answer
 * to it (success or failure, so that an early answer does not give the
 * result away) waits a delay that doubles with each failure, from
 * FAILTAB_BASE_MS up to FAILTAB_MAX_MS. A success clears the address; an
 * address with no failure for FAILTAB_FORGET_MS is forgotten.
 *
 * Memory is fixed at creation: when the table is full the stalest entry
 * of a probe window makes room (an attacker with many addresses can only
 * push out other attackers' counts, and each of its own addresses still
 * has to fail FAILTAB_FREE times first). Loop thread only; never blocks.
 */
#ifndef SOCKEYE_FAILTAB_H
#define SOCKEYE_FAILTAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FAILTAB_FREE 3
#define FAILTAB_BASE_MS 250
#define FAILTAB_MAX_MS 8000
#define FAILTAB_FORGET_MS (15 * 60 * 1000)

struct failtab;

/* A table of about `capacity` addresses. NULL when out of memory. */
struct failtab *failtab_new(size_t capacity);

/* The delay (ms) before answering `sa` now: 0 for most clients. */
unsigned failtab_delay_ms(const struct failtab *t, const struct sockaddr *sa,
    uint64_t now_ms);

/* Count a failure; returns the address's failure count. */
unsigned failtab_fail(struct failtab *t, const struct sockaddr *sa,
    uint64_t now_ms);

/* A success: forget the address's failures. */
void failtab_success(struct failtab *t, const struct sockaddr *sa);

/* The delay for `failures` failures (exposed for tests and docs). */
unsigned failtab_delay_for(unsigned failures);

void failtab_free(struct failtab *t);

#endif
