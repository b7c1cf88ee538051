/* SPDX-License-Identifier: ISC */
/*
 * route.c - see route.h.
 */
#include "config_auto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "route.h"
#include "sockaddr.h"

int
route_source(const union sockaddr_any *to, union sockaddr_any *src)
{
	union sockaddr_any dst = *to;
	socklen_t len = sizeof(*src);
	int fd, err = 0;

	memset(src, 0, sizeof(*src));
	fd = socket(dst.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (sockaddr_port(&dst.sa) == 0)
		sockaddr_set_port(&dst.sa, 9);	/* any port: nothing is sent */
	if (connect(fd, &dst.sa, sockaddr_len(&dst.sa)) == -1 ||
	    getsockname(fd, &src->sa, &len) == -1)
		err = errno;
	close(fd);
	if (err != 0) {
		memset(src, 0, sizeof(*src));
		return err;
	}
	sockaddr_unmap(src);
	sockaddr_set_port(&src->sa, 0);
	return 0;
}

int
route_choose(const union sockaddr_any *const cand[], size_t n)
{
	union sockaddr_any src;
	int first = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (cand[i] == NULL)
			continue;
		if (first == -1)
			first = (int)i;
		if (route_source(cand[i], &src) == 0)
			return (int)i;
	}
	return first;
}

int
route_prefer(int prefer_family, const union sockaddr_any *a6,
    const union sockaddr_any *a4)
{
	bool v4_first = prefer_family == AF_INET;
	const union sockaddr_any *cand[2] = {
		v4_first ? a4 : a6,
		v4_first ? a6 : a4,
	};

	switch (route_choose(cand, 2)) {
	case 0:
		return v4_first ? AF_INET : AF_INET6;
	case 1:
		return v4_first ? AF_INET6 : AF_INET;
	default:
		return AF_UNSPEC;
	}
}
