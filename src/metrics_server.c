/* SPDX-License-Identifier: ISC */
/*
 * metrics_server.c - the metrics endpoint (see metrics.h): a tiny
 * HTTP/1.1 responder that the master polls with its other descriptors,
 * and the pure parser of the request heads it reads.
 *
 * One request per connection: the head is read into the connection's
 * own METRICS_HEAD_MAX bytes and parsed (metrics_http_parse()); the
 * answer (the text rendered once, into the server's one scratch buffer,
 * then copied to a block of its exact size) is written without blocking,
 * with "Connection: close"; then the write side is shut and what the
 * client still sends is read and dropped until it closes (so that a
 * reset does not overtake the answer), all within MSRV_DEADLINE_MS of
 * the accept.
 *
 * No client can hold more than that: MSRV_CLIENTS connections at once,
 * each closed at its deadline whatever it does, at most METRICS_HEAD_MAX
 * bytes of request and one answer (at most METRICS_TEXT_MAX bytes and a
 * head) each. A connection beyond MSRV_CLIENTS is still accepted: the
 * oldest one that is not being answered makes room (a scraper that says
 * nothing, or one that was answered and lingers), so that a crowd of
 * silent connections cannot keep a scrape waiting for their deadlines.
 */
#include "config_auto.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "sockaddr.h"
#include "util.h"

/* Connections served at once (METRICS_POLLFDS_MAX is one more). */
#define MSRV_CLIENTS 16
/* Every connection is closed this long after its accept. */
#define MSRV_DEADLINE_MS 5000
/* Connections accepted per turn of the master's loop. */
#define MSRV_ACCEPT_BATCH 16
/* Reads of what a client sends after its answer, per turn. */
#define MSRV_DRAIN_READS 4
/* Accepting waits this long after running out of descriptors. */
#define MSRV_ACCEPT_PAUSE_MS 100

_Static_assert(METRICS_POLLFDS_MAX == MSRV_CLIENTS + 1,
    "a pollfd per connection and one for the listener");

struct mclient {
	int fd;				/* -1: unused */
	uint64_t accepted_ms;
	size_t inlen;
	char *out;			/* the answer, once there is one */
	size_t outlen, outoff;
	bool answered;			/* out holds the answer (or held it) */
	bool lingering;			/* answered, write side shut */
	char in[METRICS_HEAD_MAX];
};

struct metrics_server {
	int fd;
	union sockaddr_any conf;	/* as configured */
	union sockaddr_any addr;	/* as bound */
	const struct status *st;
	uint64_t accept_paused_until;
	char *text;			/* METRICS_TEXT_MAX: the rendering */
	struct mclient c[MSRV_CLIENTS];
};

/* --- The request head (pure) ------------------------------------------- */

/* RFC 9110's tchar: the bytes of a token (a method, a field name). */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A visible character: of a request target (no space, no control). */
static bool
is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/*
 * Is the target's path /metrics? `p` (len bytes, all visible) is an
 * origin-form target ("/metrics?x") or an absolute-form one
 * ("http://host:9464/metrics"); any other form names something else.
 */
static bool
target_is_metrics(const char *p, size_t len)
{
	static const char path[] = "/metrics";
	size_t plen = sizeof(path) - 1, skip = 0;

	if (len >= 7 && strncasecmp(p, "http://", 7) == 0)
		skip = 7;
	else if (len >= 8 && strncasecmp(p, "https://", 8) == 0)
		skip = 8;
	if (skip > 0) {
		/* The authority runs to the path, the query or the end. */
		while (skip < len && p[skip] != '/' && p[skip] != '?')
			skip++;
		p += skip;
		len -= skip;
	}
	if (len < plen || memcmp(p, path, plen) != 0)
		return false;
	return len == plen || p[plen] == '?';
}

/* "METHOD SP TARGET SP HTTP/D.D", exactly. */
static bool
parse_request_line(const char *p, size_t len, struct metrics_request *out)
{
	size_t i = 0, m, t0, t1;

	while (i < len && is_tchar((unsigned char)p[i]))
		i++;
	m = i;
	if (m == 0 || i >= len || p[i] != ' ')
		return false;
	t0 = ++i;
	while (i < len && is_vchar((unsigned char)p[i]))
		i++;
	t1 = i;
	if (t1 == t0 || i >= len || p[i] != ' ')
		return false;
	i++;
	if (len - i != 8 || memcmp(p + i, "HTTP/", 5) != 0 ||
	    p[i + 5] < '0' || p[i + 5] > '9' || p[i + 6] != '.' ||
	    p[i + 7] < '0' || p[i + 7] > '9')
		return false;
	out->major = (unsigned)(p[i + 5] - '0');
	out->minor = (unsigned)(p[i + 7] - '0');
	if (m == 3 && memcmp(p, "GET", 3) == 0)
		out->method = METRICS_METHOD_GET;
	else if (m == 4 && memcmp(p, "HEAD", 4) == 0)
		out->method = METRICS_METHOD_HEAD;
	else
		out->method = METRICS_METHOD_OTHER;
	out->metrics_path = target_is_metrics(p + t0, t1 - t0);
	return true;
}

/*
 * "NAME: VALUE": a token, a colon right after it (no space: RFC 9112
 * section 5.1), then visible bytes, spaces and tabs (obs-text too). A
 * line that starts with a space or tab is obsolete folding: refused.
 */
static bool
parse_field(const char *p, size_t len, struct metrics_request *out)
{
	size_t i = 0;

	while (i < len && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= len || p[i] != ':')
		return false;
	if (i == 4 && strncasecmp(p, "host", 4) == 0 && out->hosts < 2)
		out->hosts++;
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c != ' ' && c != '\t' && (c < 0x21 || c == 0x7f))
			return false;
	}
	return true;
}

enum metrics_http
metrics_http_parse(const char *buf, size_t len, struct metrics_request *out,
    size_t *used)
{
	/* Only the first METRICS_HEAD_MAX bytes count: the verdict on a
	 * longer input is the same as on them. */
	size_t n = len < METRICS_HEAD_MAX ? len : METRICS_HEAD_MAX, off = 0;
	bool have_request_line = false;

	memset(out, 0, sizeof(*out));
	*used = 0;
	for (;;) {
		const char *nl = memchr(buf + off, '\n', n - off);
		const char *line = buf + off;
		size_t llen;

		if (nl == NULL)
			return n >= METRICS_HEAD_MAX ? METRICS_HTTP_TOO_LARGE :
			    METRICS_HTTP_NEED_MORE;
		llen = (size_t)(nl - line);
		off += llen + 1;
		/* CRLF, or a bare LF (RFC 9112 section 2.2 allows it). */
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (!have_request_line) {
			/* Empty lines before the request line are skipped. */
			if (llen == 0)
				continue;
			if (!parse_request_line(line, llen, out))
				return METRICS_HTTP_MALFORMED;
			have_request_line = true;
			continue;
		}
		if (llen == 0) {
			*used = off;
			return METRICS_HTTP_DONE;
		}
		if (!parse_field(line, llen, out))
			return METRICS_HTTP_MALFORMED;
	}
}

int
metrics_http_status(enum metrics_http st, const struct metrics_request *rq)
{
	switch (st) {
	case METRICS_HTTP_NEED_MORE:
		return 0;
	case METRICS_HTTP_MALFORMED:
		return 400;
	case METRICS_HTTP_TOO_LARGE:
		return 431;
	case METRICS_HTTP_DONE:
		break;
	}
	if (rq->major != 1)
		return 505;
	/* RFC 9112 section 3.2: HTTP/1.1 has exactly one Host. */
	if (rq->minor >= 1 && rq->hosts != 1)
		return 400;
	if (!rq->metrics_path)
		return 404;
	if (rq->method == METRICS_METHOD_OTHER)
		return 405;
	return 200;
}

/* --- The responder ----------------------------------------------------- */

static void
client_close(struct mclient *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
	c->answered = c->lingering = false;
}

struct metrics_server *
metrics_server_open(const union sockaddr_any *addr, const struct status *st,
    char *err, size_t errlen)
{
	struct metrics_server *srv;
	char as[SOCKADDR_STRLEN];
	socklen_t len = sizeof(union sockaddr_any);
	union sockaddr_any bound;
	int fd, one = 1, i;

	sockaddr_format(&addr->sa, as, sizeof(as));
	fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "%s: socket: %s", as, strerror(errno));
		return NULL;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (addr->sa.sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, &addr->sa, sockaddr_len(&addr->sa)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, &bound.sa, &len) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", as,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->fd = fd;
	srv->conf = *addr;
	srv->addr = bound;
	srv->st = st;
	srv->text = xmalloc(METRICS_TEXT_MAX);
	for (i = 0; i < MSRV_CLIENTS; i++)
		srv->c[i].fd = -1;
	return srv;
}

void
metrics_server_close(struct metrics_server *srv)
{
	int i;

	if (srv == NULL)
		return;
	for (i = 0; i < MSRV_CLIENTS; i++)
		client_close(&srv->c[i]);
	close(srv->fd);
	free(srv->text);
	free(srv);
}

const union sockaddr_any *
metrics_server_conf(const struct metrics_server *srv)
{
	return srv != NULL ? &srv->conf : NULL;
}

const union sockaddr_any *
metrics_server_addr(const struct metrics_server *srv)
{
	return srv != NULL ? &srv->addr : NULL;
}

size_t
metrics_server_pollfds(struct metrics_server *srv, struct pollfd *pfd,
    size_t max)
{
	size_t n = 0;
	int i;

	if (srv == NULL)
		return 0;
	for (i = 0; i < MSRV_CLIENTS && n < max; i++) {
		struct mclient *c = &srv->c[i];

		if (c->fd == -1)
			continue;
		pfd[n].fd = c->fd;
		/* Writing the answer, else reading (the head, or to EOF). */
		pfd[n].events = c->outoff < c->outlen ? POLLOUT : POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (n < max && util_now_ms() >= srv->accept_paused_until) {
		pfd[n].fd = srv->fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

static const char *
reason_phrase(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/* Send what is queued; once all is sent, shut the write side. false: close. */
static bool
client_write(struct mclient *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL);

		if (w == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR;
		c->outoff += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	/*
	 * The answer is out: say so with a FIN, then read until the client
	 * closes (closing with its bytes unread would send a reset, which
	 * may destroy the answer before the client has read it).
	 */
	if (!c->lingering) {
		c->lingering = true;
		(void)shutdown(c->fd, SHUT_WR);
	}
	return true;
}

/* Queue the answer to a parsed head and send what can be sent. */
static bool
client_answer(struct metrics_server *srv, struct mclient *c,
    enum metrics_http st, const struct metrics_request *rq)
{
	char head[512], date[64], body_err[64];
	const char *body = body_err, *type = "text/plain; charset=utf-8";
	int code = metrics_http_status(st, rq);
	size_t blen = 0, hlen;
	bool send_body;
	struct tm tm;
	time_t now = time(NULL);
	int n;

	if (code == 200) {
		blen = metrics_render(srv->st, srv->text, METRICS_TEXT_MAX);
		body = srv->text;
		type = METRICS_CONTENT_TYPE;
		if (blen == 0)
			code = 500;	/* cannot happen: the text is bounded */
	}
	if (code != 200) {
		snprintf(body_err, sizeof(body_err), "%d %s\n", code,
		    reason_phrase(code));
		blen = strlen(body_err);
	}
	send_body = !(st == METRICS_HTTP_DONE &&
	    rq->method == METRICS_METHOD_HEAD);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s%s%s"
	    "Connection: close\r\n\r\n", code, reason_phrase(code), type, blen,
	    code == 405 ? "Allow: GET, HEAD\r\n" : "",
	    date[0] != '\0' ? "Date: " : "", date,
	    date[0] != '\0' ? "\r\n" : "");
	BUG_ON(n < 0 || (size_t)n >= sizeof(head));
	hlen = (size_t)n;
	c->out = malloc(hlen + (send_body ? blen : 0));
	if (c->out == NULL)
		return false;
	memcpy(c->out, head, hlen);
	if (send_body)
		memcpy(c->out + hlen, body, blen);
	c->outlen = hlen + (send_body ? blen : 0);
	c->outoff = 0;
	c->answered = true;
	return client_write(c);
}

/* Read the head, answer it once whole. false: close. */
static bool
client_read(struct metrics_server *srv, struct mclient *c)
{
	struct metrics_request rq;
	enum metrics_http st;
	size_t used;
	int i;

	if (c->lingering) {
		/* After the answer: drop what comes, until the client's EOF. */
		for (i = 0; i < MSRV_DRAIN_READS; i++) {
			ssize_t r = read(c->fd, srv->text, METRICS_TEXT_MAX);

			if (r == 0)
				return false;
			if (r == -1)
				return errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == EINTR;
		}
		return true;
	}
	if (c->answered)
		return true;	/* the answer is still going out */
	for (;;) {
		ssize_t r = read(c->fd, c->in + c->inlen,
		    sizeof(c->in) - c->inlen);

		if (r == 0)
			return false;	/* closed before a whole head */
		if (r == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR;
		c->inlen += (size_t)r;
		st = metrics_http_parse(c->in, c->inlen, &rq, &used);
		if (st != METRICS_HTTP_NEED_MORE)
			return client_answer(srv, c, st, &rq);
		/* A full buffer parses as DONE, MALFORMED or TOO_LARGE. */
		BUG_ON(c->inlen == sizeof(c->in));
	}
}

/*
 * A slot for a new connection: a free one, else the oldest connection
 * not being answered (it says nothing, or lingers after its answer),
 * else the oldest of all, which is closed.
 */
static struct mclient *
server_slot(struct metrics_server *srv)
{
	struct mclient *oldest = NULL, *idle = NULL;
	int i;

	for (i = 0; i < MSRV_CLIENTS; i++) {
		struct mclient *c = &srv->c[i];

		if (c->fd == -1)
			return c;
		if (oldest == NULL || c->accepted_ms < oldest->accepted_ms)
			oldest = c;
		if (c->outoff == c->outlen && (idle == NULL ||
		    c->accepted_ms < idle->accepted_ms))
			idle = c;
	}
	if (idle != NULL)
		oldest = idle;
	client_close(oldest);
	return oldest;
}

static void
server_accept(struct metrics_server *srv, uint64_t now)
{
	int i, fd;

	for (i = 0; i < MSRV_ACCEPT_BATCH; i++) {
		struct mclient *c;

		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* The connection waits; the loop must not spin. */
				srv->accept_paused_until = now +
				    MSRV_ACCEPT_PAUSE_MS;
			}
			return;
		}
		c = server_slot(srv);
		c->fd = fd;
		c->accepted_ms = now;
	}
}

void
metrics_server_handle(struct metrics_server *srv, const struct pollfd *pfd,
    size_t n)
{
	uint64_t now = util_now_ms();
	bool accept_ready = false;
	size_t k;
	int i;

	if (srv == NULL)
		return;
	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (pfd[k].fd == srv->fd) {
			accept_ready = true;
			continue;
		}
		for (i = 0; i < MSRV_CLIENTS; i++) {
			struct mclient *c = &srv->c[i];
			bool ok = true;

			if (c->fd != pfd[k].fd)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				ok = client_read(srv, c);
			if (ok && c->outoff < c->outlen &&
			    (pfd[k].revents & (POLLOUT | POLLHUP | POLLERR)))
				ok = client_write(c);
			if (!ok)
				client_close(c);
			break;
		}
	}
	for (i = 0; i < MSRV_CLIENTS; i++) {
		struct mclient *c = &srv->c[i];

		if (c->fd != -1 && now >= c->accepted_ms + MSRV_DEADLINE_MS)
			client_close(c);
	}
	if (accept_ready)
		server_accept(srv, now);
}

int
metrics_server_timeout_ms(const struct metrics_server *srv)
{
	uint64_t now = util_now_ms(), first = UINT64_MAX;
	int i;

	if (srv == NULL)
		return -1;
	for (i = 0; i < MSRV_CLIENTS; i++)
		if (srv->c[i].fd != -1 &&
		    srv->c[i].accepted_ms + MSRV_DEADLINE_MS < first)
			first = srv->c[i].accepted_ms + MSRV_DEADLINE_MS;
	if (srv->accept_paused_until > now && srv->accept_paused_until < first)
		first = srv->accept_paused_until;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}
