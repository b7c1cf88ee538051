/* SPDX-License-Identifier: ISC */
/*
 * check_hosts.c - the hosts file table: every kind of line, names without
 * regard to case and a trailing dot, order, families, limits, and a file
 * that is not there.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosts.h"
#include "unit_util.h"

static const char *
text_of(const union sockaddr_any *a, char *buf, size_t len)
{
	const void *p = a->sa.sa_family == AF_INET ?
	    (const void *)&a->sin.sin_addr : (const void *)&a->sin6.sin6_addr;

	ck_assert_ptr_nonnull(inet_ntop(a->sa.sa_family, p, buf,
	    (socklen_t)len));
	return buf;
}

static struct hosts *
parse(const char *text)
{
	struct hosts *h = hosts_parse(text, strlen(text));

	ck_assert_ptr_nonnull(h);
	return h;
}

/* The addresses name/family has, as "a,b,c" ("" for none). */
static const char *
look(const struct hosts *h, const char *name, int family)
{
	static char out[512];
	union sockaddr_any a[4];
	char buf[INET6_ADDRSTRLEN];
	size_t n = hosts_lookup(h, name, family, a, 4), i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(a[i].sin.sin_port, 0);
		if (i > 0)
			strcat(out, ",");
		strcat(out, text_of(&a[i], buf, sizeof(buf)));
	}
	return out;
}

START_TEST(test_lines)
{
	struct hosts *h = parse(
	    "# comment only\n"
	    "\n"
	    "   \t  \n"
	    "127.0.0.1\tlocalhost\n"
	    "192.0.2.1 one.test One-Alias.TEST\t alias2.test # trailing\n"
	    "192.0.2.2   one.test\r\n"
	    "2001:db8::1 one.test\n"
	    "::ffff:192.0.2.9 mapped.test\n"
	    "192.0.2.3\n"				/* an address alone */
	    "#192.0.2.4 commented.test\n"
	    "300.0.0.1 bad.test\n"			/* not an address */
	    "fe80::1%eth0 zone.test\n"			/* zones: passed over */
	    "name-first.test 192.0.2.5\n"
	    "192.0.2.6 last.test");			/* no final newline */

	ck_assert_str_eq(look(h, "one.test", AF_INET), "192.0.2.1,192.0.2.2");
	ck_assert_str_eq(look(h, "one.test", AF_INET6), "2001:db8::1");
	ck_assert_str_eq(look(h, "ONE.test.", AF_INET), "192.0.2.1,192.0.2.2");
	ck_assert_str_eq(look(h, "one-alias.test", AF_INET), "192.0.2.1");
	ck_assert_str_eq(look(h, "alias2.test", AF_INET), "192.0.2.1");
	ck_assert_str_eq(look(h, "localhost", AF_INET), "127.0.0.1");
	ck_assert_str_eq(look(h, "localhost", AF_INET6), "");
	ck_assert_str_eq(look(h, "mapped.test", AF_INET6), "::ffff:192.0.2.9");
	ck_assert_str_eq(look(h, "mapped.test", AF_INET), "");
	ck_assert_str_eq(look(h, "commented.test", AF_INET), "");
	ck_assert_str_eq(look(h, "bad.test", AF_INET), "");
	ck_assert_str_eq(look(h, "zone.test", AF_INET6), "");
	ck_assert_str_eq(look(h, "name-first.test", AF_INET), "");
	ck_assert_str_eq(look(h, "192.0.2.5", AF_INET), "");
	ck_assert_str_eq(look(h, "last.test", AF_INET), "192.0.2.6");
	ck_assert_str_eq(look(h, "trailing", AF_INET), "");
	ck_assert_str_eq(look(h, "one", AF_INET), "");
	ck_assert_str_eq(look(h, "one.test.x", AF_INET), "");
	ck_assert_str_eq(look(h, "", AF_INET), "");
	ck_assert_str_eq(look(h, ".", AF_INET), "");
	/* localhost, 192.0.2.1's three names, one.test twice, mapped, last */
	ck_assert_uint_eq(hosts_count(h), 8);
	hosts_free(h);
}
END_TEST

/* At most `max` addresses; the first ones in the file. */
START_TEST(test_max)
{
	struct hosts *h;
	union sockaddr_any a[3];
	char text[2048] = "", buf[64];
	int i;

	for (i = 1; i <= 20; i++) {
		snprintf(buf, sizeof(buf), "192.0.2.%d many.test\n", i);
		strcat(text, buf);
	}
	h = parse(text);
	ck_assert_uint_eq(hosts_lookup(h, "many.test", AF_INET, a, 3), 3);
	ck_assert_str_eq(text_of(&a[0], buf, sizeof(buf)), "192.0.2.1");
	ck_assert_str_eq(text_of(&a[2], buf, sizeof(buf)), "192.0.2.3");
	ck_assert_uint_eq(hosts_lookup(h, "many.test", AF_INET, a, 0), 0);
	hosts_free(h);
}
END_TEST

/* Names longer than a DNS name are passed over; 253 is kept. */
START_TEST(test_long_names)
{
	char text[700], name[300];
	struct hosts *h;

	memset(name, 'x', 254);
	name[254] = '\0';
	snprintf(text, sizeof(text), "192.0.2.1 %s\n192.0.2.2 %.253s\n",
	    name, name);
	h = parse(text);
	ck_assert_uint_eq(hosts_count(h), 1);
	ck_assert_str_eq(look(h, name, AF_INET), "");
	name[253] = '\0';
	ck_assert_str_eq(look(h, name, AF_INET), "192.0.2.2");
	hosts_free(h);
}
END_TEST

START_TEST(test_empty)
{
	struct hosts *h = parse("");

	ck_assert_uint_eq(hosts_count(h), 0);
	ck_assert_str_eq(look(h, "localhost", AF_INET), "");
	hosts_free(h);
	hosts_free(NULL);
	ck_assert_uint_eq(hosts_count(NULL), 0);
	ck_assert_str_eq(look(NULL, "x.test", AF_INET), "");
	/* a NUL spoils its line only */
	{
		static const char t[] = "192.0.2.1 a.test\n\0"
		    "192.0.2.2 b.test\n192.0.2.3 c.test\n";

		h = hosts_parse(t, sizeof(t) - 1);
	}
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(look(h, "a.test", AF_INET), "192.0.2.1");
	ck_assert_str_eq(look(h, "b.test", AF_INET), "");
	ck_assert_str_eq(look(h, "c.test", AF_INET), "192.0.2.3");
	hosts_free(h);
}
END_TEST

START_TEST(test_load)
{
	char path[] = "/tmp/check_hosts.XXXXXX", err[256] = "";
	const char text[] = "192.0.2.7 file.test\n";
	struct hosts *h;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	close(fd);
	h = hosts_load(path, err, sizeof(err));
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(look(h, "file.test", AF_INET), "192.0.2.7");
	hosts_free(h);
	ck_assert_int_eq(unlink(path), 0);
	/* no file: an empty table, not an error */
	h = hosts_load(path, err, sizeof(err));
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(hosts_count(h), 0);
	hosts_free(h);
	/* a directory cannot be read: an error that names it */
	h = hosts_load("/", err, sizeof(err));
	ck_assert_ptr_null(h);
	ck_assert_msg(strncmp(err, "/: ", 3) == 0, "err '%s'", err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hosts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_max);
	tcase_add_test(tc, test_long_names);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	return unit_run(s, NULL);
}
