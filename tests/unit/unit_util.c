/* SPDX-License-Identifier: ISC */
/* unit_util.c - see unit_util.h. */
#include "config_auto.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "config.h"
#include "unit_util.h"

union sockaddr_any
unit_addr(const char *ip, uint16_t port)
{
	union sockaddr_any a;

	ck_assert_msg(sockaddr_parse_ip(ip, port, &a) == 0,
	    "not an IP address: \"%s\"", ip);
	return a;
}

struct socks5_addr
unit_saddr(const char *ip, uint16_t port)
{
	union sockaddr_any a = unit_addr(ip, port);
	struct socks5_addr s;

	ck_assert_int_eq(socks5_addr_from_sockaddr(&s, &a.sa), 0);
	return s;
}

struct socks5_addr
unit_sname_len(const char *name, size_t len, uint16_t port)
{
	struct socks5_addr s;

	ck_assert_uint_le(len, sizeof(s.u.name) - 1);
	memset(&s, 0, sizeof(s));
	s.atyp = SOCKS5_ATYP_DOMAIN;
	s.name_len = (uint8_t)len;
	memcpy(s.u.name, name, len);
	s.port = port;
	return s;
}

struct socks5_addr
unit_sname(const char *name, uint16_t port)
{
	return unit_sname_len(name, strlen(name), port);
}

pid_t
unit_fork(void)
{
	pid_t pid = fork();

	if (pid == -1)
		ck_abort_msg("fork: %s", strerror(errno));
	return pid;
}

int
unit_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* the directory's own */
}

bool
unit_have_ipv6_loopback(void)
{
	struct sockaddr_in6 a;
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	if (fd == -1)
		return false;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/*
 * The bound of a loop run: says it expired (w->data), breaks the run. It
 * is set from the clock read now, not from the loop's, which stands still
 * while the test blocks between runs (polls, sleeps): from that one, the
 * bound can be over before the run begins, and the run end at once.
 */
static void
expired_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	*(bool *)w->data = true;
	ev_break(loop, EVBREAK_ONE);
}

static void
bound_start(struct ev_loop *loop, ev_timer *t, bool *expired, double secs)
{
	*expired = false;
	ev_now_update(loop);
	ev_timer_init(t, expired_cb, secs, 0.);
	t->data = expired;
	ev_timer_start(loop, t);
}

void
unit_loop_run(struct ev_loop *loop, double secs)
{
	bool expired;
	ev_timer t;

	bound_start(loop, &t, &expired, secs);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

bool
unit_loop_until(struct ev_loop *loop, const int *count, int want,
    double secs)
{
	bool expired;
	ev_timer t;

	bound_start(loop, &t, &expired, secs);
	while (*count < want && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return *count >= want;
}

void
unit_loop_for(struct ev_loop *loop, double secs)
{
	int never = 0;

	(void)unit_loop_until(loop, &never, 1, secs);
}

static char cfg_msgs[4096];

static void
cfg_collect(void *arg, const char *file, int line, const char *msg)
{
	size_t len = strlen(cfg_msgs);

	(void)arg;
	(void)file;
	snprintf(cfg_msgs + len, sizeof(cfg_msgs) - len, "%d: %s\n", line, msg);
}

struct config *
unit_cfg_load(const char *text)
{
	char path[] = "/tmp/sockeye-check-conf.XXXXXX";
	const char *head = "listen = [ \"127.0.0.1:1080\" ];\n"
	    "auth = { methods = [ \"none\" ]; };\n";
	struct config *c;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cfg_msgs[0] = '\0';
	c = config_load(path, cfg_collect, NULL);
	unlink(path);
	return c;
}

const char *
unit_cfg_msgs(void)
{
	return cfg_msgs;
}

void
unit_cfg_refused(const char *text, const char *msg)
{
	struct config *c = unit_cfg_load(text);

	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(cfg_msgs, msg) != NULL, "want \"%s\", got: %s",
	    msg, cfg_msgs);
}

int
unit_run(Suite *s, const char *skipped)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (skipped != NULL)
		fprintf(stderr, "SKIP: %s\n", skipped);
	if (failed != 0)
		return 1;
	return skipped != NULL ? 77 : 0;
}
