/* SPDX-License-Identifier: ISC */
/*
 * loadgen - the load generator of tests/bench (throughput.sh): servers to
 * relay to, and clients that go through a SOCKS5 proxy or straight to the
 * server, every byte checked. One result line "key=value ..." on stdout;
 * exit 1 with a message on stderr at the first error (a wrong byte, a
 * refused request, a timeout), so a run with an error prints no figure.
 *
 *   loadgen serve ECHO_PORT_FILE SOURCE_PORT_FILE
 *       echo: sends back what it reads; source: reads an 8-byte length N
 *       and sends N bytes of the pattern, then closes. Runs until killed.
 *   loadgen bulk    [--proxy PORT] --port P --streams N --bytes B
 *       N downloads of B bytes each from the source at once.
 *   loadgen sessions [--proxy PORT] --port P --clients N --seconds S
 *                    [--user U --pass W]
 *       N clients, each opening sessions one after another: (handshake,)
 *       16 bytes to the echo server and back, close.
 *   loadgen hold    --proxy PORT --port P --count N
 *       N sessions to the echo server, each with one 16-byte round trip,
 *       then held open: "ready" on stdout, and all closed at EOF on stdin.
 *
 * Servers and targets are on 127.0.0.1; --proxy is a SOCKS5 proxy on
 * 127.0.0.1 (no authentication, or RFC 1929 with --user/--pass). Clients
 * use blocking sockets, a thread each (sessions, bulk): simple, and the
 * same for every proxy measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_LEN 65536
#define IO_TIMEOUT_S 30

static uint8_t pattern[PATTERN_LEN];
static int proxy_port;		/* 0: straight to the server */
static int target_port;
static const char *user, *pass;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
make_pattern(void)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < PATTERN_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)x;
	}
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send: %s", n < 0 ? strerror(errno) : "nothing sent");
		p += n;
		len -= (size_t)n;
	}
}

static void
read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv: %s", strerror(errno));
		if (n == 0)
			die("recv: the connection ended %zu bytes early", len);
		p += n;
		len -= (size_t)n;
	}
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sin;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		die("socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("connect to port %d: %s", port, strerror(errno));
	return fd;
}

/* A connection to the target, through the proxy when there is one. */
static int
open_target(void)
{
	uint8_t buf[600], rep[10];
	size_t n = 0, ul, pl;
	int fd;

	if (proxy_port == 0)
		return tcp_connect(target_port);
	fd = tcp_connect(proxy_port);
	/*
	 * One message at a time, each after the answer to the last, as curl
	 * does: not every server reads a request sent along with the
	 * greeting (microsocks drops it).
	 */
	buf[0] = 5;
	buf[1] = 1;
	buf[2] = user != NULL ? 2 : 0;
	write_all(fd, buf, 3);
	read_all(fd, rep, 2);
	if (rep[0] != 5 || rep[1] != buf[2])
		die("proxy chose method %u", rep[1]);
	if (user != NULL) {
		ul = strlen(user);
		pl = strlen(pass);
		buf[n++] = 1;
		buf[n++] = (uint8_t)ul;
		memcpy(buf + n, user, ul);
		n += ul;
		buf[n++] = (uint8_t)pl;
		memcpy(buf + n, pass, pl);
		n += pl;
		write_all(fd, buf, n);
		read_all(fd, rep, 2);
		if (rep[1] != 0)
			die("proxy refused the password (status %u)", rep[1]);
	}
	memcpy(buf, "\x05\x01\x00\x01\x7f\x00\x00\x01", 8);
	buf[8] = (uint8_t)(target_port >> 8);
	buf[9] = (uint8_t)target_port;
	write_all(fd, buf, 10);
	read_all(fd, rep, 10);
	if (rep[0] != 5 || rep[1] != 0 || rep[3] != 1)
		die("proxy replied REP %u (ATYP %u)", rep[1], rep[3]);
	return fd;
}

/* --- servers -------------------------------------------------------------- */

static int
listen_any(const char *port_file)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	FILE *f;
	char tmp[4096];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("listen: %s", strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	if ((f = fopen(tmp, "w")) == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", ntohs(sin.sin_port));
	fclose(f);
	if (rename(tmp, port_file) == -1)
		die("%s: %s", port_file, strerror(errno));
	return fd;
}

static void *
source_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t hdr[8];
	uint64_t left = 0, off = 0;
	ssize_t n;
	size_t got = 0;
	int i;

	while (got < sizeof(hdr)) {
		n = recv(fd, hdr + got, sizeof(hdr) - got, 0);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	for (i = 0; i < 8; i++)
		left = left << 8 | hdr[i];
	while (left > 0) {
		size_t chunk = PATTERN_LEN - off % PATTERN_LEN;

		if (chunk > left)
			chunk = (size_t)left;
		n = send(fd, pattern + off % PATTERN_LEN, chunk, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
out:
	close(fd);
	return NULL;
}

/*
 * Echo connections on one epoll loop (the session rates must not measure
 * thread creation), source connections a thread each (a few streams).
 * Echo writes are small: one send, blocking if it must.
 */
static void
serve(const char *echo_file, const char *source_file)
{
	struct epoll_event ev, evs[256];
	pthread_attr_t attr;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int efd = listen_any(echo_file), sfd = listen_any(source_file);

	if (ep == -1)
		die("epoll: %s", strerror(errno));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ev.events = EPOLLIN;
	ev.data.fd = efd;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	ev.data.fd = sfd;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1), i;

		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c;
			uint8_t buf[16384];
			ssize_t r;

			if (fd == efd || fd == sfd) {
				pthread_t t;

				c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
				if (c == -1)
					continue;
				if (fd == sfd) {
					if (pthread_create(&t, &attr,
					    source_conn, (void *)(intptr_t)c))
						close(c);
					continue;
				}
				ev.events = EPOLLIN;
				ev.data.fd = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) == -1)
					close(c);
				continue;
			}
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0 || send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r)
				close(fd);	/* leaves the epoll set too */
		}
	}
}

/* --- clients -------------------------------------------------------------- */

static uint64_t bulk_bytes;

static void *
bulk_stream(void *arg)
{
	uint8_t *buf = malloc(PATTERN_LEN), hdr[8], c;
	uint64_t off = 0;
	int fd = (int)(intptr_t)arg, i;

	if (buf == NULL)
		die("out of memory");
	for (i = 0; i < 8; i++)
		hdr[i] = (uint8_t)(bulk_bytes >> (56 - 8 * i));
	write_all(fd, hdr, sizeof(hdr));
	while (off < bulk_bytes) {
		size_t at = (size_t)(off % PATTERN_LEN);
		ssize_t n = recv(fd, buf, PATTERN_LEN - at, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("bulk: %s after %llu of %llu bytes",
			    n < 0 ? strerror(errno) : "end",
			    (unsigned long long)off,
			    (unsigned long long)bulk_bytes);
		if (memcmp(buf, pattern + at, (size_t)n) != 0)
			die("bulk: wrong bytes at offset %llu",
			    (unsigned long long)off);
		off += (uint64_t)n;
	}
	if (recv(fd, &c, 1, 0) != 0)
		die("bulk: more than %llu bytes, or no end",
		    (unsigned long long)bulk_bytes);
	close(fd);
	free(buf);
	return NULL;
}

static void
bulk(int streams)
{
	pthread_t t[256];
	int fds[256], i;
	double t0, t1;

	if (streams < 1 || streams > 256)
		die("--streams 1 to 256");
	/* Connected (and through the handshake) before the clock starts. */
	for (i = 0; i < streams; i++)
		fds[i] = open_target();
	t0 = now_s();
	for (i = 0; i < streams; i++)
		if (pthread_create(&t[i], NULL, bulk_stream,
		    (void *)(intptr_t)fds[i]) != 0)
			die("pthread_create");
	for (i = 0; i < streams; i++)
		pthread_join(t[i], NULL);
	t1 = now_s();
	printf("streams=%d bytes=%llu seconds=%.3f gbps=%.3f\n", streams,
	    (unsigned long long)bulk_bytes * (unsigned)streams, t1 - t0,
	    (double)bulk_bytes * streams * 8 / (t1 - t0) / 1e9);
}

static double sessions_until;

static void *
session_client(void *arg)
{
	uint64_t *count = arg;
	uint8_t buf[16];

	while (now_s() < sessions_until) {
		int fd = open_target();

		write_all(fd, pattern, sizeof(buf));
		read_all(fd, buf, sizeof(buf));
		if (memcmp(buf, pattern, sizeof(buf)) != 0)
			die("sessions: the echo came back wrong");
		close(fd);
		(*count)++;
	}
	return NULL;
}

static void
sessions(int clients, double seconds)
{
	pthread_t t[1024];
	uint64_t count[1024], total = 0;
	double t0;
	int i;

	if (clients < 1 || clients > 1024)
		die("--clients 1 to 1024");
	memset(count, 0, sizeof(count));
	t0 = now_s();
	sessions_until = t0 + seconds;
	for (i = 0; i < clients; i++)
		if (pthread_create(&t[i], NULL, session_client, &count[i]) != 0)
			die("pthread_create");
	for (i = 0; i < clients; i++) {
		pthread_join(t[i], NULL);
		total += count[i];
	}
	printf("clients=%d sessions=%llu seconds=%.3f per_s=%.1f\n", clients,
	    (unsigned long long)total, now_s() - t0, total / (now_s() - t0));
}

static void
hold(int count)
{
	int *fds = calloc((size_t)count, sizeof(int)), i;
	uint8_t buf[16], c;

	if (fds == NULL)
		die("out of memory");
	for (i = 0; i < count; i++) {
		fds[i] = open_target();
		write_all(fds[i], pattern, sizeof(buf));
		read_all(fds[i], buf, sizeof(buf));
		if (memcmp(buf, pattern, sizeof(buf)) != 0)
			die("hold: the echo came back wrong");
	}
	printf("ready count=%d\n", count);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < count; i++)
		close(fds[i]);
	free(fds);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int streams = 1, clients = 32, count = 1000, i;
	double seconds = 5;

	make_pattern();
	raise_nofile();
	if (strcmp(cmd, "serve") == 0) {
		if (argc != 4)
			die("usage: loadgen serve ECHO_PORT_FILE SOURCE_PORT_FILE");
		serve(argv[2], argv[3]);
		return 0;
	}
	for (i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--proxy") == 0)
			proxy_port = atoi(v);
		else if (strcmp(k, "--port") == 0)
			target_port = atoi(v);
		else if (strcmp(k, "--streams") == 0)
			streams = atoi(v);
		else if (strcmp(k, "--bytes") == 0)
			bulk_bytes = strtoull(v, NULL, 10);
		else if (strcmp(k, "--clients") == 0)
			clients = atoi(v);
		else if (strcmp(k, "--seconds") == 0)
			seconds = atof(v);
		else if (strcmp(k, "--count") == 0)
			count = atoi(v);
		else if (strcmp(k, "--user") == 0)
			user = v;
		else if (strcmp(k, "--pass") == 0)
			pass = v;
		else
			die("unknown option %s", k);
	}
	if (i != argc)
		die("an option without a value");
	if (target_port <= 0 || (user != NULL) != (pass != NULL) ||
	    (user != NULL && (strlen(user) > 255 || strlen(pass) > 255)))
		die("bad options (see the comment at the top of loadgen.c)");
	if (strcmp(cmd, "bulk") == 0 && bulk_bytes > 0)
		bulk(streams);
	else if (strcmp(cmd, "sessions") == 0)
		sessions(clients, seconds);
	else if (strcmp(cmd, "hold") == 0 && proxy_port > 0)
		hold(count);
	else
		die("usage: loadgen serve|bulk|sessions|hold ...");
	return 0;
}
