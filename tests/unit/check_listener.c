/* SPDX-License-Identifier: ISC */
/*
 * check_listener.c - listeners carried across a reload: an address that
 * stays keeps its very socket (and the port the kernel chose for port
 * 0), a new one gets a new socket, the dropped ones close and the kept
 * ones do not, and a reload that cannot bind leaves nothing open behind
 * and the running set untouched.
 */
#include "config_auto.h"

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "unit_util.h"

/* A configuration with only what listener_set_open() reads. */
struct fake_conf {
	struct config cfg;
	struct config_listen l[4];
};

static void
conf(struct fake_conf *fc, const char **ips, size_t n)
{
	size_t i;

	memset(fc, 0, sizeof(*fc));
	ck_assert_uint_le(n, 4);
	for (i = 0; i < n; i++) {
		ck_assert(sockaddr_parse_ip(ips[i], 0, &fc->l[i].addr) == 0);
		fc->l[i].line = (int)i + 1;
	}
	fc->cfg.file = (char *)"test.conf";
	fc->cfg.listen = fc->l;
	fc->cfg.n_listen = n;
}

static bool
fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}


START_TEST(start_opens_every_address)
{
	const char *ips[] = { "127.0.0.1", "127.0.0.2" };
	struct fake_conf fc;
	struct listener_set a;
	int fds = unit_open_fds();

	conf(&fc, ips, 2);
	ck_assert_int_eq(listener_set_open(&a, NULL, &fc.cfg), 0);
	ck_assert_uint_eq(a.n, 2);
	ck_assert_int_eq(unit_open_fds(), fds + 2);
	ck_assert(fd_open(a.ls[0].fd) && fd_open(a.ls[1].fd));
	ck_assert_int_ne(a.ls[0].fd, a.ls[1].fd);
	/* Port 0 as configured, the kernel's port as bound. */
	ck_assert_uint_eq(sockaddr_port(&a.conf[0].sa), 0);
	ck_assert_uint_ne(sockaddr_port(&a.ls[0].addr.sa), 0);
	ck_assert(listener_set_has(&a, a.ls[1].fd));
	ck_assert(!listener_set_has(&a, -1));
	listener_set_close(&a);
	ck_assert_int_eq(a.ls[0].fd, -1);
	ck_assert_int_eq(a.ls[1].fd, -1);
	ck_assert_int_eq(unit_open_fds(), fds);
	listener_set_free(&a);
	ck_assert_ptr_null(a.ls);
	ck_assert_uint_eq(a.n, 0);
}
END_TEST

/* A connection accepted from a listener has TCP_NODELAY (the relay's). */
START_TEST(accepted_have_nodelay)
{
	union sockaddr_any any = unit_addr("127.0.0.1", 0);
	struct listener l;
	char err[256];
	int c, a = -1, v = 0, i;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(listener_open(&l, &any, err, sizeof(err)), 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(connect(c, &l.addr.sa, sockaddr_len(&l.addr.sa)), 0);
	for (i = 0; i < 500 && a == -1; i++)	/* the listener does not block */
		if ((a = accept(l.fd, NULL, NULL)) == -1)
			usleep(10000);
	ck_assert_int_ge(a, 0);
	ck_assert_int_eq(getsockopt(a, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	ck_assert_int_eq(v, 1);
	close(a);
	close(c);
	listener_close(&l);
}
END_TEST

START_TEST(reload_keeps_sockets_that_stay)
{
	const char *before[] = { "127.0.0.1", "127.0.0.1", "127.0.0.2" };
	const char *after[] = { "127.0.0.2", "127.0.0.3", "127.0.0.1" };
	struct fake_conf f1, f2;
	struct listener_set a, b;
	int kept_v1, dropped, kept_v2, fds = unit_open_fds();

	conf(&f1, before, 3);
	conf(&f2, after, 3);
	ck_assert_int_eq(listener_set_open(&a, NULL, &f1.cfg), 0);
	kept_v1 = a.ls[0].fd;
	dropped = a.ls[1].fd;
	kept_v2 = a.ls[2].fd;
	ck_assert_int_eq(listener_set_open(&b, &a, &f2.cfg), 0);
	/*
	 * One new socket (127.0.0.3); the others are the same sockets,
	 * matched by address, each taken once.
	 */
	ck_assert_int_eq(unit_open_fds(), fds + 4);
	ck_assert_int_eq(b.ls[0].fd, kept_v2);
	ck_assert_int_eq(b.ls[2].fd, kept_v1);
	ck_assert_uint_eq(sockaddr_port(&b.ls[2].addr.sa),
	    sockaddr_port(&a.ls[0].addr.sa));
	ck_assert(b.ls[1].fd != kept_v1 && b.ls[1].fd != dropped &&
	    b.ls[1].fd != kept_v2);
	ck_assert(fd_open(b.ls[1].fd));
	/* The switch: only the one no longer configured closes. */
	listener_set_close_dropped(&a, &b, false);
	ck_assert_int_eq(a.ls[1].fd, -1);
	ck_assert(!fd_open(dropped));
	ck_assert(fd_open(kept_v1) && fd_open(kept_v2));
	ck_assert_int_eq(a.ls[0].fd, kept_v1);
	ck_assert_int_eq(unit_open_fds(), fds + 3);
	listener_set_free(&a);
	listener_set_close(&b);
	listener_set_free(&b);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

START_TEST(failed_reload_leaves_nothing_behind)
{
	const char *before[] = { "127.0.0.1" };
	/* TEST-NET-1 is no address of this host: bind fails. */
	const char *after[] = { "127.0.0.1", "127.0.0.4", "192.0.2.1" };
	struct fake_conf f1, f2;
	struct listener_set a, b;
	int fds, fd;

	conf(&f1, before, 1);
	conf(&f2, after, 3);
	ck_assert_int_eq(listener_set_open(&a, NULL, &f1.cfg), 0);
	fd = a.ls[0].fd;
	fds = unit_open_fds();
	ck_assert_int_eq(listener_set_open(&b, &a, &f2.cfg), -1);
	/* 127.0.0.4 was opened, then closed again; the running one stays. */
	ck_assert_int_eq(unit_open_fds(), fds);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_int_eq(a.ls[0].fd, fd);
	ck_assert(fd_open(fd));
	listener_set_close(&a);
	listener_set_free(&a);
}
END_TEST

START_TEST(abandoned_reload_closes_only_its_own)
{
	const char *before[] = { "127.0.0.1" };
	const char *after[] = { "127.0.0.1", "127.0.0.5" };
	struct fake_conf f1, f2;
	struct listener_set a, b;
	int fresh, fds;

	conf(&f1, before, 1);
	conf(&f2, after, 2);
	ck_assert_int_eq(listener_set_open(&a, NULL, &f1.cfg), 0);
	fds = unit_open_fds();
	ck_assert_int_eq(listener_set_open(&b, &a, &f2.cfg), 0);
	ck_assert_int_eq(unit_open_fds(), fds + 1);
	fresh = b.ls[1].fd;
	/* The new generation failed: what only it had closes. */
	listener_set_close_dropped(&b, &a, false);
	ck_assert(!fd_open(fresh));
	ck_assert(fd_open(a.ls[0].fd));
	ck_assert_int_eq(b.ls[0].fd, a.ls[0].fd);
	ck_assert_int_eq(unit_open_fds(), fds);
	listener_set_free(&b);
	listener_set_close(&a);
	listener_set_free(&a);
}
END_TEST

static Suite *
listener_suite(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("set");

	tcase_add_test(tc, start_opens_every_address);
	tcase_add_test(tc, accepted_have_nodelay);
	tcase_add_test(tc, reload_keeps_sockets_that_stay);
	tcase_add_test(tc, failed_reload_leaves_nothing_behind);
	tcase_add_test(tc, abandoned_reload_closes_only_its_own);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(listener_suite(), NULL);
}
