/* SPDX-License-Identifier: ISC */
/*
 * check_pool.c - the relay's pipes and buffers: the cap, the spares, what
 * goes back and what is closed, and that a trim leaves nothing open.
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "pool.h"
#include "unit_util.h"

static int fds_before;

static void
setup(void)
{
	pool_trim();
	fds_before = unit_open_fds();
}

static void
teardown(void)
{
	struct pool_stats ps;

	pool_trim();
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_used, 0);
	ck_assert_uint_eq(ps.pipes_spare, 0);
	ck_assert_uint_eq(ps.bufs_used, 0);
	ck_assert_uint_eq(ps.bufs_spare, 0);
	ck_assert_int_eq(unit_open_fds(), fds_before);
}

START_TEST(test_pipe_cap)
{
	int a[2], b[2], c[2];
	struct pool_stats ps;

	pool_set_pipe_cap(2);
	ck_assert_int_eq(pool_pipe_get(a), 0);
	ck_assert_int_eq(pool_pipe_get(b), 0);
	errno = 0;
	ck_assert_int_eq(pool_pipe_get(c), -1);
	ck_assert_int_eq(errno, EMFILE);
	/* non-blocking, close-on-exec */
	ck_assert(fcntl(a[0], F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(a[1], F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(a[0], F_GETFD) & FD_CLOEXEC);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_used, 2);
	ck_assert_uint_eq(ps.pipes_peak, 2);
	ck_assert_int_eq(unit_open_fds(), fds_before + 4);
	pool_pipe_put(a, 1);
	ck_assert_int_eq(a[0], -1);
	ck_assert_int_eq(a[1], -1);
	/* room again under the cap: the spare comes back */
	ck_assert_int_eq(pool_pipe_get(c), 0);
	ck_assert_int_eq(unit_open_fds(), fds_before + 4);
	pool_pipe_put(b, 1);
	pool_pipe_put(c, 1);
	pool_pipe_put(c, 1);	/* already given back: nothing */
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_used, 0);
	ck_assert_uint_eq(ps.pipes_spare, 2);
	pool_set_pipe_cap(0);
	ck_assert_int_eq(pool_pipe_get(a), -1);
	pool_set_pipe_cap(64);
}
END_TEST

/* A pipe with bytes in it is closed, never handed to the next taker. */
START_TEST(test_pipe_not_empty)
{
	int p[2];
	struct pool_stats ps;

	ck_assert_int_eq(pool_pipe_get(p), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	pool_pipe_put(p, 0);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_spare, 0);
	ck_assert_int_eq(unit_open_fds(), fds_before);
	/* the next one is a new, empty pipe */
	ck_assert_int_eq(pool_pipe_get(p), 0);
	{
		char c;

		ck_assert_int_eq(read(p[0], &c, 1), -1);
		ck_assert_int_eq(errno, EAGAIN);
	}
	pool_pipe_put(p, 1);
}
END_TEST

/*
 * A pipe grows to POOL_BIG_PIPE_BYTES while the cap of big pipes allows;
 * a big one given back empty waits as a big spare and is handed out
 * first; pool_trim() closes it.
 */
START_TEST(test_pipe_grow)
{
	int a[2], b[2], c[2];
	struct pool_stats ps;

	pool_set_big_pipe_cap(1);
	ck_assert_int_eq(pool_pipe_get(a), 0);
	ck_assert_int_eq(pool_pipe_get(b), 0);
	ck_assert_int_eq(fcntl(a[0], F_GETPIPE_SZ), POOL_PIPE_BYTES);
	ck_assert(!pool_pipe_is_big(a));
	ck_assert_int_eq(pool_pipe_grow(a), 1);
	ck_assert(pool_pipe_is_big(a));
	ck_assert_int_ge(fcntl(a[0], F_GETPIPE_SZ), POOL_BIG_PIPE_BYTES);
	ck_assert_int_eq(pool_pipe_grow(a), 0);	/* already */
	ck_assert_int_eq(pool_pipe_grow(b), 0);	/* the cap */
	ck_assert_int_eq(fcntl(b[0], F_GETPIPE_SZ), POOL_PIPE_BYTES);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_big, 1);
	ck_assert_uint_eq(ps.pipes_used, 2);
	/* Given back empty: a big spare, the first handed out. */
	pool_pipe_put(a, 1);
	pool_pipe_put(b, 1);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_big, 1);
	ck_assert_uint_eq(ps.pipes_spare, 2);
	ck_assert_int_eq(pool_pipe_get(c), 0);
	ck_assert(pool_pipe_is_big(c));
	ck_assert_int_ge(fcntl(c[0], F_GETPIPE_SZ), POOL_BIG_PIPE_BYTES);
	/* Given back with bytes in it: closed, and no longer counted. */
	ck_assert_int_eq(write(c[1], "x", 1), 1);
	pool_pipe_put(c, 0);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_big, 0);
	ck_assert_int_eq(pool_pipe_get(a), 0);
	ck_assert_int_eq(pool_pipe_grow(a), 1);
	pool_pipe_put(a, 1);
	pool_trim();
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_big, 0);
	ck_assert_uint_eq(ps.pipes_spare, 0);
	ck_assert_int_eq(unit_open_fds(), fds_before);
	pool_set_big_pipe_cap(0);
	ck_assert_int_eq(pool_pipe_get(a), 0);
	ck_assert_int_eq(pool_pipe_grow(a), 0);
	pool_pipe_put(a, 1);
	pool_trim();
	/* A share of the user's pipe pages: some, and fewer for more workers. */
	ck_assert_uint_gt(pool_big_pipe_share(1), 0);
	ck_assert_uint_le(pool_big_pipe_share(4), pool_big_pipe_share(1));
}
END_TEST

START_TEST(test_buffers)
{
	uint8_t *b[40];
	struct pool_stats ps;
	size_t i;

	for (i = 0; i < 40; i++) {
		b[i] = pool_buf_get();
		ck_assert_ptr_nonnull(b[i]);
		b[i][0] = b[i][POOL_BUFSZ - 1] = (uint8_t)i;
	}
	pool_stats(&ps);
	ck_assert_uint_eq(ps.bufs_used, 40);
	ck_assert_uint_eq(ps.bufs_peak, 40);
	for (i = 0; i < 40; i++)
		pool_buf_put(b[i]);
	pool_buf_put(NULL);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.bufs_used, 0);
	/* some wait as spares (a bounded number), the rest were freed */
	ck_assert_uint_gt(ps.bufs_spare, 0);
	ck_assert_uint_lt(ps.bufs_spare, 40);
	/* a spare is handed out before anything new is allocated */
	i = ps.bufs_spare;
	b[0] = pool_buf_get();
	ck_assert_ptr_nonnull(b[0]);
	pool_stats(&ps);
	ck_assert_uint_eq(ps.bufs_spare, i - 1);
	pool_buf_put(b[0]);
	pool_trim();
	pool_stats(&ps);
	ck_assert_uint_eq(ps.bufs_spare, 0);
	ck_assert_uint_eq(ps.bufs_peak, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pipe_cap);
	tcase_add_test(tc, test_pipe_not_empty);
	tcase_add_test(tc, test_pipe_grow);
	tcase_add_test(tc, test_buffers);
	suite_add_tcase(s, tc);
	return unit_run(s, NULL);
}
