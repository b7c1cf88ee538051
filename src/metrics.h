/* SPDX-License-Identifier: ISC */
/*
 * metrics.h - the Prometheus endpoint: the status counters (status.h) as
 * the Prometheus text exposition format (version 0.0.4), served over
 * HTTP/1.1 at GET /metrics on `metrics_listen` by the master.
 *
 * The text is rendered from status_snapshot(), so it is the sum over
 * every worker, of every generation, since the master started: never
 * one worker's view. It has no per-user or per-address label, so its
 * size is bounded by the code (METRICS_TEXT_MAX), not by the traffic.
 * The metrics and their meaning are listed in sockeyed(8), METRICS.
 *
 * The responder is a small part of the master's poll loop, like the
 * status socket: a bounded number of connections, a bounded request
 * head, a deadline per connection from its accept, non-blocking writes
 * of one response rendered per request, then the connection is closed.
 * It never runs in a worker.
 *
 * The module's parts: metrics.c (the text), metrics_server.c (the
 * request parser and the responder).
 */
#ifndef SOCKEYE_METRICS_H
#define SOCKEYE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include "sockaddr.h"
#include "util.h"

struct status;
struct status_snapshot;
struct metrics_server;

/* --- The text (metrics.c) ---------------------------------------------- */

/* The media type of the text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Room for the whole text whatever the counters hold (every series is
 * fixed by the code; each number has at most 20 digits).
 */
#define METRICS_TEXT_MAX (128 * 1024)

/*
 * Write the exposition text of `snap` (from status_snapshot()) into
 * `buf` of `cap` bytes, NUL-terminated; returns its length. With `cap`
 * of METRICS_TEXT_MAX or more it always fits; with less, the text is cut
 * short at a line's end and the return value is 0. Pure: no I/O, no
 * allocation.
 */
size_t metrics_format(const struct status_snapshot *snap, char *buf,
    size_t cap);

/*
 * status_snapshot() of `st` (the mapping read as untrusted: see
 * status.h), then metrics_format(). Never blocks; allocates nothing.
 */
size_t metrics_render(const struct status *st, char *buf, size_t cap);

/* --- HTTP requests (metrics_server.c) ----------------------------------- */

/*
 * The request head (request line and header fields, up to and including
 * the empty line) must fit in this many bytes.
 */
#define METRICS_HEAD_MAX 4096

enum metrics_http {
	METRICS_HTTP_NEED_MORE = 0,
	METRICS_HTTP_DONE,		/* a whole, well-formed head */
	METRICS_HTTP_MALFORMED,		/* a line that breaks RFC 9112's syntax */
	METRICS_HTTP_TOO_LARGE,		/* METRICS_HEAD_MAX bytes, no end of head */
};

enum metrics_method {
	METRICS_METHOD_OTHER = 0,
	METRICS_METHOD_GET,
	METRICS_METHOD_HEAD,
};

struct metrics_request {
	enum metrics_method method;
	bool metrics_path;		/* the target is /metrics (a query allowed) */
	unsigned major, minor;		/* HTTP/major.minor */
	unsigned hosts;			/* Host fields (at most 2 counted) */
};

/*
 * Parse the head of a request from the `len` bytes a client has sent so
 * far (an HTTP/1.x request line, then header fields; lines end in CRLF
 * or LF, empty lines before the request line are skipped; obsolete line
 * folding, a space before a field's colon, a control byte or a bare CR
 * are malformed). Pure: no I/O, no allocation; reads at most
 * METRICS_HEAD_MAX bytes.
 *  - METRICS_HTTP_DONE: *out describes the request, whose head takes
 *    *used bytes (at most METRICS_HEAD_MAX, its empty line included);
 *  - METRICS_HTTP_NEED_MORE: no end of head yet, no bad line yet;
 *  - METRICS_HTTP_MALFORMED: a complete line is malformed;
 *  - METRICS_HTTP_TOO_LARGE: METRICS_HEAD_MAX bytes hold neither.
 * *used is 0 unless DONE. A verdict other than NEED_MORE stays the same
 * however many bytes follow.
 */
enum metrics_http metrics_http_parse(const char *buf, size_t len,
    struct metrics_request *out, size_t *used);

/*
 * The status code a parse earns: 200 (GET or HEAD /metrics), 400
 * (malformed; HTTP/1.1 without exactly one Host), 404 (another path),
 * 405 (another method on /metrics), 431 (head too large), 505 (not
 * HTTP/1.x). `rq` is read only for DONE. Pure.
 */
int metrics_http_status(enum metrics_http st, const struct metrics_request *rq);

/* --- The responder (metrics_server.c) ------------------------------------ */

/*
 * Listen on `addr` (IPv4 or IPv6; port 0 lets the kernel choose) and
 * answer from `st`. Master only. NULL with a message in err.
 */
struct metrics_server *metrics_server_open(const union sockaddr_any *addr,
    const struct status *st, char *err, size_t errlen) MUST_CHECK;

/*
 * Close every connection and the listening socket, and free. Also in a
 * forked worker, which must not keep the master's sockets. NULL: no-op.
 */
void metrics_server_close(struct metrics_server *srv);

/* The address as configured (port 0 stays 0); NULL for NULL. */
const union sockaddr_any *metrics_server_conf(const struct metrics_server *srv);

/* The address as bound (the kernel's port for 0); NULL for NULL. */
const union sockaddr_any *metrics_server_addr(const struct metrics_server *srv);

/*
 * Poll integration, as the status socket's: metrics_server_pollfds()
 * fills at most `max` entries of `pfd` and returns how many; after
 * poll, metrics_server_handle() acts on those same entries (accept,
 * read, answer, time out). Never blocks. metrics_server_timeout_ms() is
 * how long the caller may sleep at most (-1: no limit). All NULL-safe.
 */
struct pollfd;
size_t metrics_server_pollfds(struct metrics_server *srv, struct pollfd *pfd,
    size_t max);
void metrics_server_handle(struct metrics_server *srv,
    const struct pollfd *pfd, size_t n);
int metrics_server_timeout_ms(const struct metrics_server *srv);

/* The most descriptors metrics_server_pollfds() asks for. */
#define METRICS_POLLFDS_MAX 17

#endif
