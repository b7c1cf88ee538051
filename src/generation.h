/* SPDX-License-Identifier: ISC */
/*
 * generation.h - the master's table of worker processes: the slots they
 * hold in the shared regions, the generations they belong to, spawning
 * and reaping them, restarting with back-off, telling them to accept,
 * drain or stop over their control sockets, and knowing when a
 * generation is ready.
 *
 * The master only: nothing here reads client bytes, and nothing blocks
 * but fork(2). The table decides nothing about configurations, reloads
 * or readiness notifications; master.c does, through these calls.
 */
#ifndef SOCKEYE_GENERATION_H
#define SOCKEYE_GENERATION_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util.h"

struct generation_table;
struct quota;
struct status;

/*
 * Run in a worker just forked for `slot` of generation `gen`, after the
 * control sockets of every other worker have been closed: everything
 * else is the caller's (signals, the master's other descriptors,
 * privileges, running the worker). `ctl_fd` is the worker's end of its
 * control socket, `master` the master's pid. Returns the worker's exit
 * status; the process exits with it, and may have freed the table.
 */
typedef int generation_child_fn(void *arg, int slot, unsigned gen,
    int ctl_fd, pid_t master);

/*
 * Slots for the shared regions, fixed at start for `workers` workers: room
 * for them several times over, since old generations keep theirs while
 * they drain.
 */
int generation_slot_count(int workers);

/*
 * An empty table of `nslots` slots; `quota` and `status` are the shared
 * regions of that many slots (not owned: the table clears a slot there
 * when its worker has been reaped). `child` runs in every worker forked.
 * Never NULL (xcalloc).
 */
struct generation_table *generation_table_new(int nslots,
    struct quota *quota, struct status *status, generation_child_fn *child,
    void *arg);

/*
 * Free the table and close the control sockets left open; the workers
 * are not signalled. NULL is a no-op. A forked worker frees its copy.
 */
void generation_table_free(struct generation_table *t);

/* The current generation's number (1 at start), and its size in workers. */
unsigned generation_current(const struct generation_table *t);
int generation_size(const struct generation_table *t);

/* The number of slots, as given to generation_table_new(). */
int generation_slots(const struct generation_table *t);

/*
 * Make a new current generation of `n` workers, to be ready within
 * `ready_within_ms`; generation_tick() starts them. At start, `replace`
 * is false. For a reload it is true: the generation that served goes on
 * serving until generation_switch() (the new one has taken over) or
 * generation_abandon() (it could not start), and the oldest draining
 * generations are told to end their sessions now when the free slots
 * are too few for `n` workers (logged). One reload at a time.
 */
void generation_begin(struct generation_table *t, int n,
    uint64_t ready_within_ms, bool replace);

/*
 * The timed work, when not stopping: kill the draining workers still
 * there well after their deadline, start the workers of the current
 * generation that are due (a fork failure is logged and retried).
 * Returns when it wants to run again (UINT64_MAX: no need).
 */
uint64_t generation_tick(struct generation_table *t, uint64_t now);

/*
 * Reap every worker that has exited (waitpid, WNOHANG), clear its slots,
 * and schedule a restart of a current worker: at once, or with back-off
 * when it keeps dying right after its start. A worker of a reload's
 * generation that dies before the switch is not restarted: it fails the
 * reload (generation_start_failure()).
 */
void generation_reap(struct generation_table *t);

/* Live workers, of every generation. */
int generation_running(const struct generation_table *t);

/* Send `sig` to every live worker. */
void generation_signal(const struct generation_table *t, int sig);

/*
 * Poll integration, like status_server_pollfds(): fill at most `max`
 * entries of `pfd` with the control sockets and return how many; after
 * poll, generation_handle() reads them (READY, or a worker going away).
 */
size_t generation_pollfds(struct generation_table *t, struct pollfd *pfd,
    size_t max);
void generation_handle(struct generation_table *t, const struct pollfd *pfd,
    size_t n);

/* How many workers of the current generation have said READY. */
int generation_count_ready(const struct generation_table *t);

/*
 * Whether the current generation counts as up: at start, once every
 * worker is ready, or once one is and its ready_within_ms have passed;
 * on a reload, only once every worker is ready.
 */
bool generation_ready(const struct generation_table *t, uint64_t now);

/* When the current generation should be ready (see generation_begin()). */
uint64_t generation_ready_by(const struct generation_table *t);

/*
 * During a reload: why the new generation cannot start (a worker could
 * not be started or died before the switch, or not all are ready by its
 * ready_within_ms), or NULL while it may still. NULL outside a reload.
 * The string is the table's, valid until the next generation_begin().
 */
const char *generation_start_failure(struct generation_table *t,
    uint64_t now);

/*
 * The switch: the reload's generation accepts, and every older one that
 * still serves stops accepting and drains its sessions for up to
 * `drain_timeout_s` (logged).
 */
void generation_switch(struct generation_table *t, int drain_timeout_s);

/*
 * The reload's generation cannot start: tell its workers (who never
 * accepted) to exit at once, and make the generation it would have
 * replaced current again, restarting any of its workers that died
 * meanwhile. Returns how many workers were told.
 */
int generation_abandon(struct generation_table *t);

/*
 * Shutdown: tell every live worker to stop accepting and end its
 * sessions within `timeout_s`; no worker is started or restarted after
 * this. A reload still starting is abandoned with the rest.
 */
void generation_stop(struct generation_table *t, int timeout_s);

#endif
