/* SPDX-License-Identifier: ISC */
/*
 * failtab.h - failed logins per client source, shared by all workers.
 *
 * The table counts recent authentication failures per source: an IPv4
 * address (a /32; an IPv4-mapped IPv6 address counts as its IPv4
 * address), or the /64 of an IPv6 address (one host owns a whole /64).
 * Once a source has FAILTAB_FREE failures, each further attempt from it
 * waits, before its password is hashed or its CHAP response checked, for
 * its turn: turns are spaced by a delay that doubles with each failure,
 * from FAILTAB_BASE_MS up to FAILTAB_MAX_MS, so a source guessing on a
 * hundred connections at once (through any of the workers) is checked no
 * faster than one guessing on one. The caller holds the attempt
 * (failtab_turn_ms() books the turn and says how long). A success
 * clears the source. A source with no attempt and no turn for
 * FAILTAB_FORGET_MS is forgotten (to within 16 ms, the table's tick).
 *
 * The master creates the table before it forks its workers: it lives in
 * a shared anonymous mapping, so a guesser spreading its attempts over
 * the workers is counted once. Every entry is one 64-bit word updated
 * with compare-and-swap: no lock, so a worker killed at any instant
 * leaves nothing held, and at worst one count unchanged. An entry holds
 * a keyed fingerprint of the source (hash and fingerprint keyed with a
 * random seed drawn at creation, so nobody can aim addresses at one
 * slot), the failure count and the second of the last failure.
 *
 * Memory is fixed at creation: when the table is full the stalest entry
 * of a probe window makes room (an attacker with many addresses can only
 * push out other attackers' counts, and each of its own addresses still
 * has to fail FAILTAB_FREE times first). Never blocks; any thread.
 * Nothing a worker writes into the mapping can make another process read
 * outside it: sizes and seeds are kept in each process's private memory.
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
/* Turns are booked at most this far ahead (then: FAILTAB_THROTTLED). */
#define FAILTAB_AHEAD_MAX_MS (15 * 60 * 1000)
#define FAILTAB_THROTTLED (~0U)

/* A source, as failtab_source() writes it. */
#define FAILTAB_SOURCE_LEN 16

struct failtab;

/*
 * A table of about `capacity` sources in a new shared anonymous mapping:
 * create it before fork() and every child shares it. NULL (errno set)
 * when the mapping or the random seed cannot be had.
 */
struct failtab *failtab_new(size_t capacity);

/*
 * The source `sa` is counted as: the IPv4 address as ::ffff:a.b.c.d, or
 * the IPv6 /64 followed by zeros. 0, or -1 for a family that is not
 * counted (AF_UNIX). Pure; also used to cap checks in flight per source.
 */
int failtab_source(const struct sockaddr *sa,
    uint8_t src[FAILTAB_SOURCE_LEN]);

/* The delay (ms) `sa`'s failure count earns: 0 for most. Read-only. */
unsigned failtab_delay_ms(const struct failtab *t, const struct sockaddr *sa,
    uint64_t now_ms);

/*
 * An attempt from `sa` is ready to be checked: book its turn and return
 * the ms to wait before checking it, 0 while the source has not earned a
 * delay (nothing is booked then). A penalised source's turns follow one
 * another, each the delay its count earned after the previous one (or
 * after now), across all the processes sharing the table.
 * FAILTAB_THROTTLED when the turn would be more than FAILTAB_AHEAD_MAX_MS
 * away: nothing is booked, and the attempt should be dropped unchecked
 * (and unanswered).
 */
unsigned failtab_turn_ms(struct failtab *t, const struct sockaddr *sa,
    uint64_t now_ms);

/* Count a failure; returns the source's failure count (saturates at 63). */
unsigned failtab_fail(struct failtab *t, const struct sockaddr *sa,
    uint64_t now_ms);

/* A success: forget the source's failures. */
void failtab_success(struct failtab *t, const struct sockaddr *sa);

/* The delay for `failures` failures (exposed for tests and docs). */
unsigned failtab_delay_for(unsigned failures);

/*
 * Unmap this process's view (the others keep theirs). failtab_free(NULL)
 * is a no-op.
 */
void failtab_free(struct failtab *t);

#endif
