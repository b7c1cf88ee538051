/* SPDX-License-Identifier: ISC */
/*
 * listener.c - see listener.h.
 *
 * Reload (listener_set_open()): listeners are matched by the address as
 * configured, not as bound, so that one on port 0 that stays keeps the
 * port the kernel chose. Why a listener that stays keeps its socket, and
 * when the removed ones close: master.c.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"

/* Generous: a burst of clients must not see SYNs dropped. */
#define LISTEN_BACKLOG 4096

int
listener_open(struct listener *l, const union sockaddr_any *addr,
    char *err, size_t errlen)
{
	char as[SOCKADDR_STRLEN];
	socklen_t len = sockaddr_len(&addr->sa);
	int fd, one = 1;

	sockaddr_format(&addr->sa, as, sizeof(as));
	l->fd = -1;
	fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "%s: socket: %s", as, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail_errno;
	/*
	 * Accepted connections inherit TCP_NODELAY: the relay forwards
	 * segments as they come (session.c), without a call per session.
	 */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		goto fail_errno;
	/* A v6 listener takes only v6: "[::]:1080" and "0.0.0.0:1080" can coexist. */
	if (addr->sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail_errno;
	if (bind(fd, &addr->sa, len) == -1) {
		snprintf(err, errlen, "cannot listen on %s: bind: %s", as,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1)
		goto fail_errno;
	len = sizeof(l->addr);
	if (getsockname(fd, &l->addr.sa, &len) == -1)
		goto fail_errno;
	l->fd = fd;
	return 0;

fail_errno:
	snprintf(err, errlen, "cannot listen on %s: %s", as, strerror(errno));
	close(fd);
	return -1;
}

void
listener_close(struct listener *l)
{
	if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
}

int
listener_write_ports(const struct listener *ls, size_t n, const char *extra,
    const char *path)
{
	char tmp[4096], as[SOCKADDR_STRLEN];
	FILE *f;
	size_t i;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", sockaddr_format(&ls[i].addr.sa, as, sizeof(as)));
	if (extra != NULL)
		fputs(extra, f);
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

bool
listener_set_has(const struct listener_set *set, int fd)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->ls[i].fd == fd)
			return true;
	return false;
}

void
listener_set_log(const struct listener_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		char as[SOCKADDR_STRLEN];

		logit("listening on %s", sockaddr_format(&set->ls[i].addr.sa,
		    as, sizeof(as)));
	}
}

int
listener_set_open(struct listener_set *set,
    const struct listener_set *running, const struct config *cfg)
{
	static const struct listener_set none;
	const struct listener_set *r = running != NULL ? running : &none;
	struct listener *ls = xcalloc(cfg->n_listen, sizeof(*ls));
	union sockaddr_any *conf = xcalloc(cfg->n_listen, sizeof(*conf));
	bool *taken = xcalloc(r->n + 1, sizeof(*taken));
	bool *opened = xcalloc(cfg->n_listen, sizeof(*opened));
	char err[512];
	size_t i, j;

	for (i = 0; i < cfg->n_listen; i++) {
		conf[i] = cfg->listen[i].addr;
		for (j = 0; j < r->n; j++)
			if (!taken[j] && r->ls[j].fd != -1 &&
			    sockaddr_equal(&r->conf[j].sa, &conf[i].sa))
				break;
		if (j < r->n) {
			ls[i] = r->ls[j];
			taken[j] = true;
			continue;
		}
		if (listener_open(&ls[i], &conf[i], err, sizeof(err)) == -1) {
			error("%s:%d: %s", cfg->file, cfg->listen[i].line, err);
			for (j = 0; j < i; j++)
				if (opened[j])
					listener_close(&ls[j]);
			free(ls);
			free(conf);
			free(taken);
			free(opened);
			return -1;
		}
		opened[i] = true;
	}
	free(taken);
	free(opened);
	set->ls = ls;
	set->conf = conf;
	set->n = cfg->n_listen;
	return 0;
}

void
listener_set_close_dropped(struct listener_set *old,
    const struct listener_set *keep, bool say)
{
	size_t j;

	for (j = 0; j < old->n; j++) {
		if (old->ls[j].fd == -1 ||
		    listener_set_has(keep, old->ls[j].fd))
			continue;
		if (say) {
			char as[SOCKADDR_STRLEN];

			logit("no longer listening on %s", sockaddr_format(
			    &old->ls[j].addr.sa, as, sizeof(as)));
		}
		listener_close(&old->ls[j]);
	}
}

void
listener_set_close(struct listener_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		listener_close(&set->ls[i]);
}

void
listener_set_free(struct listener_set *set)
{
	free(set->ls);
	free(set->conf);
	set->ls = NULL;
	set->conf = NULL;
	set->n = 0;
}
