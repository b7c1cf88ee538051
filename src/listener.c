/*
 * listener.c - see listener.h.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

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
listener_write_ports(const struct listener *ls, size_t n, const char *path)
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
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}
