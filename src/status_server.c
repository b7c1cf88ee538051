/* SPDX-License-Identifier: ISC */
/*
 * status_server.c - the status socket (see status.h, "Names and the
 * socket"): a Unix stream socket, mode 0600, that the master polls along
 * with its other descriptors and that answers every line with
 * status_json().
 *
 * A client costs bounded memory and never blocks the master: SRV_CLIENTS
 * are served at once (more wait in the listen backlog), one idle for
 * SRV_IDLE_MS is closed, so is one whose line does not fit
 * STATUS_REQUEST_MAX bytes (status_request_parse()), and reading stops
 * while SRV_OUT_MAX bytes of answers are unsent.
 */
#include "config_auto.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "status.h"
#include "util.h"

/* Connections served at once; more wait in the listen backlog. */
#define SRV_CLIENTS 8
/* A connection idle this long is closed. */
#define SRV_IDLE_MS 5000
/* Stop reading while this much output is unsent. */
#define SRV_OUT_MAX (4u << 20)

struct srv_client {
	int fd;				/* -1: unused */
	char in[STATUS_REQUEST_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool eof;			/* the client has shut down writing */
	uint64_t deadline_ms;
};

struct status_server {
	int fd;
	char *path;
	const struct status *st;
	struct srv_client c[SRV_CLIENTS];
};

static void
client_close(struct srv_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

struct status_server *
status_server_open(const char *path, const struct status *st, char *err,
    size_t errlen)
{
	struct status_server *srv;
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old_umask;
	int fd, i;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a Unix socket "
		    "(at most %zu bytes)", path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    path);
			return NULL;
		}
		/* A socket someone answers on is in use: leave it alone. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd != -1 && connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(fd);
			snprintf(err, errlen, "%s is in use by a running "
			    "process (another sockeyed?)", path);
			return NULL;
		}
		if (fd != -1)
			close(fd);
		if (unlink(path) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the stale socket "
			    "%s: %s", path, strerror(errno));
			return NULL;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return NULL;
	}
	/* Never reachable by others, not even for an instant. */
	old_umask = umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old_umask);
		snprintf(err, errlen, "cannot bind %s: %s", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	umask(old_umask);
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->fd = fd;
	srv->path = xstrdup(path);
	srv->st = st;
	for (i = 0; i < SRV_CLIENTS; i++)
		srv->c[i].fd = -1;
	return srv;
}

static void
server_close_fds(struct status_server *srv)
{
	int i;

	for (i = 0; i < SRV_CLIENTS; i++)
		client_close(&srv->c[i]);
	if (srv->fd != -1)
		close(srv->fd);
	srv->fd = -1;
}

void
status_server_forget(struct status_server *srv)
{
	if (srv == NULL)
		return;
	server_close_fds(srv);
	free(srv->path);
	free(srv);
}

void
status_server_close(struct status_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->fd != -1)
		unlink(srv->path);
	status_server_forget(srv);
}

const char *
status_server_path(const struct status_server *srv)
{
	return srv != NULL ? srv->path : NULL;
}

size_t
status_server_pollfds(struct status_server *srv, struct pollfd *pfd,
    size_t max)
{
	size_t n = 0;
	bool room = false;
	int i;

	if (srv == NULL || srv->fd == -1)
		return 0;
	for (i = 0; i < SRV_CLIENTS && n < max; i++) {
		struct srv_client *c = &srv->c[i];

		if (c->fd == -1) {
			room = true;
			continue;
		}
		pfd[n].fd = c->fd;
		pfd[n].events = 0;
		if (c->outoff < c->outlen)
			pfd[n].events |= POLLOUT;
		if (!c->eof && c->outlen - c->outoff < SRV_OUT_MAX)
			pfd[n].events |= POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (room && n < max) {
		pfd[n].fd = srv->fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

/* Queue one answer. false when out of memory (the caller closes). */
static bool
client_answer(struct status_server *srv, struct srv_client *c)
{
	size_t len;
	char *json = status_json(srv->st, &len);
	char *p;

	if (json == NULL)
		return false;
	if (c->outoff == c->outlen) {
		free(c->out);
		c->out = json;
		c->outlen = len;
		c->outoff = 0;
		return true;
	}
	p = realloc(c->out, c->outlen + len);
	if (p == NULL) {
		free(json);
		return false;
	}
	memcpy(p + c->outlen, json, len);
	free(json);
	c->out = p;
	c->outlen += len;
	return true;
}

enum status_request
status_request_parse(const char *buf, size_t len, bool eof, size_t *used)
{
	size_t n = len < STATUS_REQUEST_MAX ? len : STATUS_REQUEST_MAX;
	const char *nl = memchr(buf, '\n', n);

	*used = 0;
	if (nl != NULL) {
		*used = (size_t)(nl - buf) + 1;
		return STATUS_REQUEST_OK;
	}
	if (len >= STATUS_REQUEST_MAX)
		return STATUS_REQUEST_TOO_LONG;
	if (eof && len > 0) {
		*used = len;
		return STATUS_REQUEST_OK;
	}
	return STATUS_REQUEST_NEED_MORE;
}

/* Read what is there and answer each complete line. false: close it. */
static bool
client_read(struct status_server *srv, struct srv_client *c)
{
	enum status_request rq;
	size_t used;
	int rounds;

	for (rounds = 0; rounds < 16; rounds++) {
		ssize_t r = read(c->fd, c->in + c->inlen,
		    sizeof(c->in) - c->inlen);

		if (r == 0) {
			c->eof = true;
			/* A last request without its newline counts too. */
			if (status_request_parse(c->in, c->inlen, true,
			    &used) == STATUS_REQUEST_OK) {
				c->inlen = 0;
				return client_answer(srv, c);
			}
			return true;
		}
		if (r == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR;
		c->inlen += (size_t)r;
		while ((rq = status_request_parse(c->in, c->inlen, false,
		    &used)) == STATUS_REQUEST_OK) {
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
			if (!client_answer(srv, c))
				return false;
		}
		if (rq == STATUS_REQUEST_TOO_LONG)
			return false;	/* a "line" longer than any request */
		if (c->outlen - c->outoff >= SRV_OUT_MAX)
			return true;
	}
	return true;
}

/* Send what is queued. false: close it. */
static bool
client_write(struct srv_client *c)
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
	return true;
}

static void
server_accept(struct status_server *srv)
{
	int i, fd;

	for (i = 0; i < SRV_CLIENTS; i++) {
		struct srv_client *c = &srv->c[i];

		if (c->fd != -1)
			continue;
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->deadline_ms = util_now_ms() + SRV_IDLE_MS;
	}
}

void
status_server_handle(struct status_server *srv, const struct pollfd *pfd,
    size_t n)
{
	uint64_t now = util_now_ms();
	bool accept_ready = false;
	size_t k;
	int i;

	if (srv == NULL || srv->fd == -1)
		return;
	for (k = 0; k < n; k++) {
		if (pfd[k].revents == 0)
			continue;
		if (pfd[k].fd == srv->fd) {
			accept_ready = true;
			continue;
		}
		for (i = 0; i < SRV_CLIENTS; i++) {
			struct srv_client *c = &srv->c[i];
			bool ok = true;

			if (c->fd != pfd[k].fd)
				continue;
			c->deadline_ms = now + SRV_IDLE_MS;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				ok = client_read(srv, c);
			if (ok && (pfd[k].revents & (POLLOUT | POLLHUP | POLLERR)))
				ok = client_write(c);
			if (pfd[k].revents & POLLERR)
				ok = false;
			/* Done: the client finished and has its answers. */
			if (ok && c->eof && c->outoff == c->outlen)
				ok = false;
			if (!ok)
				client_close(c);
			break;
		}
	}
	for (i = 0; i < SRV_CLIENTS; i++) {
		struct srv_client *c = &srv->c[i];

		if (c->fd == -1)
			continue;
		/* Answers queued by client_read() go out at once if they can. */
		if (c->outoff < c->outlen && !client_write(c)) {
			client_close(c);
			continue;
		}
		if (c->eof && c->outoff == c->outlen)
			client_close(c);
		else if (now >= c->deadline_ms)
			client_close(c);
	}
	if (accept_ready)
		server_accept(srv);
}

int
status_server_timeout_ms(const struct status_server *srv)
{
	uint64_t now = util_now_ms(), first = UINT64_MAX;
	int i;

	if (srv == NULL)
		return -1;
	for (i = 0; i < SRV_CLIENTS; i++)
		if (srv->c[i].fd != -1 && srv->c[i].deadline_ms < first)
			first = srv->c[i].deadline_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}
