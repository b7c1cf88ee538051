/* SPDX-License-Identifier: ISC */
/*
 * status.h - counters the master shares with its workers, and the status
 * socket that reports them.
 *
 * The counters live in one anonymous shared mapping that the master makes
 * before it forks, so that they outlive any worker: a worker that dies or
 * is replaced, or a whole generation drained away by a reload, takes
 * nothing with it but the sessions it had open. The mapping holds:
 *
 *   - totals since the master started, which every worker adds to with
 *     atomic increments: sessions, sessions per command and reply code,
 *     connections that ended unanswered by reason, bytes, refusals by
 *     reason, authentication results, Happy Eyeballs outcomes, connect
 *     times and attempts, name lookups, UDP datagrams and drops;
 *   - one slot per worker (the same slot number as in the quota region,
 *     see struct worker_setup's slot), written by its worker only and
 *     cleared by the master when the worker is gone: open sessions, sessions since the
 *     worker started, and how many sessions each user has open there;
 *   - a table of user names with their sessions and bytes since start.
 *     Names are added by whichever worker meets them first (claimed with
 *     a compare-and-swap); when the table is full, further names are
 *     counted together under STATUS_OTHER_USERS.
 *
 * Nothing is locked, so a worker killed at any instant cannot leave a
 * lock held; a reader may see counters that are off by the sessions that
 * are changing at that very moment.
 *
 * A worker process attaches once (status_attach()) and then counts with
 * the status_count_*() and status_session_*() calls, which take no handle
 * so that a call site is one line; they do nothing in a process that has
 * not attached (unit tests of other modules, tools).
 *
 * The master reads the region to answer the status socket (one JSON line
 * per request line, see sockeyed(8)), on SIGUSR2 (a summary in the log)
 * and for the metrics endpoint (metrics.h renders status_snapshot()).
 *
 * This header is the whole module's API. Its parts: status_counters.c
 * (the mapping, its writes and its bounded reads), status_json.c (the
 * JSON line, the log summary, the names), status_server.c (the socket);
 * status_int.h is the mapping's layout, shared by the first two only.
 */
#ifndef SOCKEYE_STATUS_H
#define SOCKEYE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util.h"

struct status;
struct status_server;

/*
 * Why a client or a request was turned away. The JSON names (in
 * status_refusal_name()) are part of the status format: append new
 * reasons before STATUS_REFUSAL_COUNT, never renumber.
 */
enum status_refusal {
	STATUS_REFUSED_CLIENTS = 0,		/* address not in `clients` */
	STATUS_REFUSED_MAX_SESSIONS,		/* limits.max_sessions */
	STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT,	/* limits.max_sessions_per_client */
	STATUS_REFUSED_USER_MAX_SESSIONS,	/* a user's own session limit */
	STATUS_REFUSED_ACCESS_RULE,		/* an `access` rule (REP 2) */
	STATUS_REFUSED_AUTH_FAILED,		/* authentication failed */
	STATUS_REFUSED_COMMAND,			/* command not in `commands` */
	STATUS_REFUSED_PROXY_UNTRUSTED,		/* PROXY listener, source not in
						   proxy_protocol.trusted */
	STATUS_REFUSED_PROXY_HEADER,		/* PROXY listener, no valid header */
	STATUS_REFUSAL_COUNT
};

/* Session counts per command, counted when the session ends. */
enum status_cmd {
	STATUS_CMD_CONNECT = 0,
	STATUS_CMD_BIND,
	STATUS_CMD_UDP_ASSOCIATE,
	STATUS_CMD_NONE,	/* ended before a valid request */
	STATUS_CMD_COUNT
};

/* Worker states as the status shows them. */
enum status_worker_state {
	STATUS_WORKER_FREE = 0,		/* slot unused */
	STATUS_WORKER_STARTING,		/* forked, not ready yet */
	STATUS_WORKER_RUNNING,		/* accepting */
	STATUS_WORKER_DRAINING,		/* old generation: no longer accepting */
	STATUS_WORKER_STOPPING,		/* shutdown: draining with a deadline */
	STATUS_WORKER_STATES
};

/*
 * Why a session ended without a reply to a request (status_session_end()
 * with rep -1), from its access log `end`. Connections refused before a
 * session exists are not here: they are the refusals clients,
 * max_sessions, max_sessions_per_client, proxy_untrusted and
 * proxy_header. Append before STATUS_UNANSWERED_COUNT, never renumber
 * (the names are part of the metrics).
 */
enum status_unanswered {
	STATUS_UNANSWERED_HANDSHAKE_TIMEOUT = 0,	/* handshake-timeout */
	STATUS_UNANSWERED_CLIENT_CLOSED,	/* client-eof, client-error */
	STATUS_UNANSWERED_PROTOCOL_ERROR,	/* bad-version, bad-greeting,
						   bad-auth-message */
	STATUS_UNANSWERED_NO_ACCEPTABLE_METHOD,	/* no-acceptable-method */
	STATUS_UNANSWERED_AUTH_FAILED,		/* auth-failed */
	STATUS_UNANSWERED_AUTH_THROTTLED,	/* auth-throttled */
	STATUS_UNANSWERED_SHUTDOWN,		/* shutdown, reload-deadline */
	STATUS_UNANSWERED_OTHER,		/* no-memory, anything else */
	STATUS_UNANSWERED_COUNT
};

/* Reply codes counted per command: every REP a byte can hold. */
#define STATUS_REPLY_CODES 256

/* Authentication methods and results (status_count_auth()). */
enum status_auth_method {
	STATUS_AUTH_NONE = 0,
	STATUS_AUTH_PASSWORD,
	STATUS_AUTH_CHAP,
	STATUS_AUTH_GSSAPI,
	STATUS_AUTH_METHODS
};
enum status_auth_result {
	STATUS_AUTH_SUCCESS = 0,
	STATUS_AUTH_FAILURE,
	STATUS_AUTH_THROTTLED,		/* not checked: too many waiting */
	STATUS_AUTH_RESULTS
};

/* Name lookups (status_count_dns()): where the answer came from ... */
enum status_dns_source {
	STATUS_DNS_LOCAL = 0,		/* the hosts file, or "localhost" */
	STATUS_DNS_CACHE,		/* the worker's cache of DNS answers */
	STATUS_DNS_SERVER,		/* a DNS server */
	STATUS_DNS_SOURCES
};
/* ... and what it was. */
enum status_dns_result {
	STATUS_DNS_OK = 0,		/* at least one address */
	STATUS_DNS_NOT_FOUND,		/* no such name, or no address */
	STATUS_DNS_TIMEOUT,
	STATUS_DNS_ERROR,
	STATUS_DNS_RESULTS
};

/*
 * The connect time histogram's upper bounds in milliseconds (the last
 * bucket, +Inf, has none), and the attempts histogram's.
 */
#define STATUS_CONNECT_BUCKETS 13
extern const uint32_t status_connect_le_ms[STATUS_CONNECT_BUCKETS - 1];
#define STATUS_ATTEMPT_BUCKETS 9
extern const uint32_t status_attempts_le[STATUS_ATTEMPT_BUCKETS - 1];

/* UDP drop reasons, in the order of udp.h's enum udp_drop. */
#define STATUS_UDP_DROPS 12

/* Users the table can name; more are counted under STATUS_OTHER_USERS. */
#define STATUS_MAX_USERS 4096
#define STATUS_OTHER_USERS "(other)"
/* Longest user name kept (longer ones are counted as STATUS_OTHER_USERS). */
#define STATUS_USER_MAX 255

/*
 * Map the shared region with `nslots` worker slots. Master only, before
 * forking. NULL with errno on failure.
 */
struct status *status_new(int nslots) MUST_CHECK;

/* Unmap (every process that inherited it may). NULL: no-op. */
void status_free(struct status *st);

/* --- Master ------------------------------------------------------------ */

/* The generation now accepting (1 at start, +1 per successful reload). */
void status_set_generation(struct status *st, unsigned gen);
void status_count_reload(struct status *st);
/* A worker died without being asked to (it will be replaced). */
void status_count_worker_death(struct status *st);

/*
 * Slot `slot` is about to get a new worker of generation `gen` (call
 * before the fork: the worker may count at once): its counts start at
 * zero. The worker fills in its pid (status_attach()).
 */
void status_slot_start(struct status *st, int slot, unsigned gen);
void status_slot_set_state(struct status *st, int slot,
    enum status_worker_state state);
/* The slot's worker is gone: forget its open sessions. */
void status_slot_clear(struct status *st, int slot);

/*
 * The status as one line of JSON, ending in "\n" (format in sockeyed(8)).
 * Returns a malloc'd string (length in *len), or NULL when out of memory.
 * Never blocks.
 */
char *status_json(const struct status *st, size_t *len);

/*
 * Everything the master reads from the mapping (status_json(),
 * status_log_summary()) is treated as untrusted: a worker may have
 * written anything there. Lengths are clamped, names copied out before
 * use, sums saturate; the output stays valid and bounded.
 */

/* Tests: the whole mapping (what a hostile worker can write), its length. */
void *status_region(struct status *st, size_t *len);

/* SIGUSR2: write a summary to the log at info level (bounded length). */
void status_log_summary(const struct status *st);

/*
 * Every counter the metrics report, read once each from the mapping
 * (status_snapshot()): plain numbers whatever a worker wrote, sums
 * saturated, workers counted only in the states the reader knows.
 * Histogram buckets are per bucket (not cumulative).
 */
struct status_snapshot {
	int64_t start_wall;		/* the master's start, epoch seconds */
	uint32_t generation;
	uint64_t reloads;
	uint64_t worker_deaths;
	uint64_t workers[STATUS_WORKER_STATES];	/* [FREE] stays 0 */
	uint64_t active;		/* sessions open, all workers */
	uint64_t accepted;		/* sessions started since start */
	uint64_t replies[STATUS_CMD_COUNT][STATUS_REPLY_CODES];
	uint64_t unanswered[STATUS_UNANSWERED_COUNT];
	uint64_t refused[STATUS_REFUSAL_COUNT];
	uint64_t bytes_up;
	uint64_t bytes_down;
	uint64_t auth[STATUS_AUTH_METHODS][STATUS_AUTH_RESULTS];
	uint64_t connect_ipv6;		/* connected, by the winner's family */
	uint64_t connect_ipv4;
	uint64_t connect_fallback;	/* connected after more than one attempt */
	uint64_t connect_nat64;
	uint64_t connect_failed;
	/* [0]: connected, [1]: failed */
	uint64_t connect_ms[2][STATUS_CONNECT_BUCKETS];
	uint64_t connect_ms_sum[2];
	uint64_t attempts[STATUS_ATTEMPT_BUCKETS];
	uint64_t attempts_sum;
	uint64_t dns[STATUS_DNS_SOURCES][STATUS_DNS_RESULTS];
	uint64_t udp_dgrams_up;
	uint64_t udp_dgrams_down;
	uint64_t udp_drops[STATUS_UDP_DROPS];
};

/* Fill *out from the mapping. Never blocks, allocates nothing. */
void status_snapshot(const struct status *st, struct status_snapshot *out);

/* --- Worker (after status_attach(); no-ops before) ---------------------- */

/*
 * Count into `st`, slot `slot`, from now on (in the worker, after fork);
 * records the calling process as the slot's worker.
 */
void status_attach(struct status *st, int slot);

/* A connection was accepted / its session has been freed. */
void status_session_opened(void);
void status_session_closed(void);

/* A session authenticated as `user` (NUL-terminated). */
void status_user_login(const char *user);

/*
 * A session ended (call once, at its end): its SOCKS command code
 * (SOCKS5_CMD_*, or -1 when no valid request was read; other codes count
 * as STATUS_CMD_NONE), the reply code sent to its request (REP, as the
 * access log's rep=; -1 when none was sent: then `end`, the access log's
 * end= or NULL, says why, see status_unanswered_of()), its user (NULL
 * when none; the same name status_user_login() was given) and the bytes
 * it relayed.
 */
void status_session_end(int socks_cmd, int rep, const char *end,
    const char *user, uint64_t bytes_up, uint64_t bytes_down);

/* The reason counted for a session that ended `end` unanswered. Pure. */
enum status_unanswered status_unanswered_of(const char *end);

/* A client or request turned away, for `reason`. */
void status_count_refusal(enum status_refusal reason);

/*
 * A CONNECT's outcome, as the connector reported it: `connected` (else
 * it failed, and the rest is not counted), the winner's address family
 * (AF_INET6 counts as IPv6, any other as IPv4), the connection attempts
 * started (more than one: a fallback) and whether the winner's address
 * was synthesised by NAT64.
 */
void status_count_connect(bool connected, int family, int attempts,
    bool nat64, uint32_t ms);

/*
 * An authentication: the method (SOCKS5_METHOD_NONE, _PASSWORD, _CHAP or
 * _GSSAPI; others are not counted) and its result. "none" counts a
 * success when it is chosen.
 */
void status_count_auth(int socks_method, enum status_auth_result result);

/* A name lookup answered (cancelled ones are not counted). */
void status_count_dns(enum status_dns_source source,
    enum status_dns_result result);

/*
 * A UDP association ended, having relayed `dgrams_up` datagrams to
 * destinations and `dgrams_down` to the client and dropped drops[i] for
 * reason i (udp.h's enum udp_drop; at most STATUS_UDP_DROPS are read).
 */
void status_count_udp(uint64_t dgrams_up, uint64_t dgrams_down,
    const uint64_t *drops, size_t ndrops);

/* --- Names and the socket ----------------------------------------------- */

/* The JSON name of a refusal reason ("clients", "auth_failed", ...). */
const char *status_refusal_name(enum status_refusal reason);
/* The names of a command ("connect", ..., "none") and a worker state
   ("free", "starting", ...); "unknown" out of range. */
const char *status_cmd_name(enum status_cmd cmd);
const char *status_worker_state_name(enum status_worker_state state);

/*
 * Append `s` (len bytes) to `out` as the inside of a JSON string: '"',
 * '\\' and control bytes escaped, valid UTF-8 kept, any other byte
 * written as U+FFFD. `out` must hold 6 * len + 1 bytes; returns the
 * length written (NUL-terminated).
 */
size_t status_json_escape(char *out, const char *s, size_t len);

/*
 * The status socket's requests: any text up to a '\n' is one request,
 * answered with the JSON line. Pure (no I/O, no allocation); the server
 * parses its input buffer with it, and tests/fuzz/fuzz_status.c drives it.
 *
 * Of the `len` bytes a client sent that are not answered yet:
 *  - STATUS_REQUEST_OK: the first request takes *used bytes, its '\n'
 *    included; at the end of the stream (`eof`), a last line without its
 *    '\n' is a request too (then *used = len);
 *  - STATUS_REQUEST_NEED_MORE: no whole request yet (nothing at all, at
 *    the end of the stream); *used is 0;
 *  - STATUS_REQUEST_TOO_LONG: STATUS_REQUEST_MAX bytes without a '\n',
 *    longer than any request: the server closes the connection.
 * A request line of STATUS_REQUEST_MAX bytes, '\n' included, is OK.
 */
#define STATUS_REQUEST_MAX 256
enum status_request {
	STATUS_REQUEST_NEED_MORE = 0,
	STATUS_REQUEST_OK,
	STATUS_REQUEST_TOO_LONG,
};
enum status_request status_request_parse(const char *buf, size_t len,
    bool eof, size_t *used);

/*
 * The status socket: a Unix stream socket at `path`, mode 0600, that
 * answers every line it receives with the JSON status line. A stale
 * socket file is replaced; a socket that a live process answers on is
 * not (error). Master only. NULL with a message in err.
 */
struct status_server *status_server_open(const char *path,
    const struct status *st, char *err, size_t errlen) MUST_CHECK;

/* Close every connection and the socket and remove the socket file. */
void status_server_close(struct status_server *srv);

/* In a forked worker: close the fds and free, leaving the file. NULL: no-op. */
void status_server_forget(struct status_server *srv);

/* The socket's path (NULL-safe: returns NULL for NULL). */
const char *status_server_path(const struct status_server *srv);

/*
 * Poll integration: status_server_pollfds() fills at most `max` entries
 * of `pfd` and returns how many; after poll, status_server_handle() acts
 * on those same entries (accept, read, answer, time out). Never blocks.
 * status_server_timeout_ms() is how long the caller may sleep at most
 * (-1: no limit).
 */
struct pollfd;
size_t status_server_pollfds(struct status_server *srv, struct pollfd *pfd,
    size_t max);
void status_server_handle(struct status_server *srv, const struct pollfd *pfd,
    size_t n);
int status_server_timeout_ms(const struct status_server *srv);

#endif
