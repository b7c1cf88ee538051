/* SPDX-License-Identifier: ISC */
/*
 * check_generation.c - the master's table of workers, with real forked
 * workers that speak the control protocol: a start becomes ready and
 * every worker is told to accept; a reload's workers wait for the switch
 * and the old ones are then told to drain; a reload whose worker dies,
 * or that is not ready in time, fails and the old generation is current
 * again; a stop reaches every worker; a worker that keeps dying is
 * restarted later and later. Every wait is bounded.
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "generation.h"
#include "quota.h"
#include "status.h"
#include "util.h"
#include "worker.h"
#include "unit_util.h"

/* How a worker of a generation behaves. */
enum behaviour {
	SERVE = 0,	/* READY, then obey until DRAIN or STOP */
	SILENT,		/* never READY, obey until DRAIN or STOP */
	DIE,		/* exit 3 at once */
};

/* What a worker heard: written to a pipe the test reads. */
struct heard {
	uint8_t gen;
	uint8_t cmd;
};

static struct {
	struct generation_table *t;
	struct quota *quota;
	struct status *status;
	enum behaviour how[8];		/* by generation */
	int rec[2];			/* pipe: struct heard records */
} ctx;

/* Everything the workers have heard so far. */
static struct heard heard_log[64];
static int heard_n;

static int
child(void *arg, int slot, unsigned gen, int ctl_fd, pid_t master)
{
	struct worker_ctl_msg msg;
	enum behaviour how = ctx.how[gen < 8 ? gen : 7];
	int status = 0;

	(void)arg;
	(void)slot;
	(void)master;
	close(ctx.rec[0]);
	if (how == DIE) {
		status = 3;
	} else {
		memset(&msg, 0, sizeof(msg));
		msg.cmd = WORKER_CTL_READY;
		if (how == SERVE && send(ctl_fd, &msg, sizeof(msg), 0) == -1)
			status = 9;
		/* The master's end closing ends this too (bounded). */
		while (recv(ctl_fd, &msg, sizeof(msg), 0) == sizeof(msg)) {
			struct heard h = { (uint8_t)gen, msg.cmd };

			if (write(ctx.rec[1], &h, sizeof(h)) != sizeof(h))
				status = 9;
			if (msg.cmd == WORKER_CTL_DRAIN ||
			    msg.cmd == WORKER_CTL_STOP)
				break;
		}
	}
	close(ctl_fd);
	close(ctx.rec[1]);
	generation_table_free(ctx.t);
	quota_free(ctx.quota);
	status_free(ctx.status);
	return status;
}

static void
setup(void)
{
	int nslots = generation_slot_count(2);

	memset(&ctx, 0, sizeof(ctx));
	heard_n = 0;
	ck_assert_int_eq(pipe2(ctx.rec, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(ctx.rec[0], F_SETFL, O_NONBLOCK), 0);
	ctx.quota = quota_new(nslots, 64);
	ctx.status = status_new(nslots);
	ck_assert_ptr_nonnull(ctx.quota);
	ck_assert_ptr_nonnull(ctx.status);
	ctx.t = generation_table_new(nslots, ctx.quota, ctx.status, child,
	    NULL);
}

static void
teardown(void)
{
	generation_table_free(ctx.t);
	quota_free(ctx.quota);
	status_free(ctx.status);
	close(ctx.rec[0]);
	close(ctx.rec[1]);
}

/* One turn of a master's loop, without the timed work. */
static void
turn(void)
{
	struct pollfd pfd[64];
	size_t n;

	generation_reap(ctx.t);
	n = generation_pollfds(ctx.t, pfd, 64);
	if (poll(pfd, n, 10) > 0)
		generation_handle(ctx.t, pfd, n);
}

static void
until_ready(void)
{
	uint64_t until = util_now_ms() + 5000;

	while (!generation_ready(ctx.t, util_now_ms())) {
		ck_assert_msg(util_now_ms() < until, "not ready within 5 s");
		turn();
	}
}

static void
until_running(int n)
{
	uint64_t until = util_now_ms() + 5000;

	while (generation_running(ctx.t) != n) {
		ck_assert_msg(util_now_ms() < until, "%d workers running, "
		    "not %d", generation_running(ctx.t), n);
		turn();
	}
}

/* How many times the workers of `gen` have heard `cmd` so far. */
static int
heard(unsigned gen, uint8_t cmd)
{
	struct heard h;
	int i, n = 0;

	while (heard_n < 64 && read(ctx.rec[0], &h, sizeof(h)) == sizeof(h))
		heard_log[heard_n++] = h;
	for (i = 0; i < heard_n; i++)
		if (heard_log[i].gen == gen && heard_log[i].cmd == cmd)
			n++;
	return n;
}

/* Wait (bounded) until they have heard it `n` times; exactly that. */
static void
wait_heard(unsigned gen, uint8_t cmd, int n)
{
	uint64_t until = util_now_ms() + 5000;

	while (heard(gen, cmd) < n && util_now_ms() < until)
		usleep(5000);
	ck_assert_int_eq(heard(gen, cmd), n);
}

/* Give a message that should not come the time to come. */
static void
never_heard(unsigned gen, uint8_t cmd)
{
	usleep(100 * 1000);
	ck_assert_int_eq(heard(gen, cmd), 0);
}

static void
start(int n)
{
	generation_begin(ctx.t, n, 5000, false);
	(void)generation_tick(ctx.t, util_now_ms());
	ck_assert_int_eq(generation_running(ctx.t), n);
	until_ready();
}

static void
stop(void)
{
	generation_stop(ctx.t, 1);
	until_running(0);
}

START_TEST(slot_count)
{
	ck_assert_int_eq(generation_slot_count(1), 8);
	ck_assert_int_eq(generation_slot_count(2), 12);
	ck_assert_int_eq(generation_slot_count(100000), 2048);
}
END_TEST

START_TEST(start_accepts_then_stops)
{
	int fds = unit_open_fds();

	ck_assert_int_eq(generation_slots(ctx.t), 12);
	start(2);
	/* The master holds one control socket per worker. */
	ck_assert_int_eq(unit_open_fds(), fds + 2);
	ck_assert_uint_eq(generation_current(ctx.t), 1);
	ck_assert_int_eq(generation_size(ctx.t), 2);
	ck_assert_int_eq(generation_count_ready(ctx.t), 2);
	/* Not a reload: nothing can fail to start. */
	ck_assert_ptr_null(generation_start_failure(ctx.t, UINT64_MAX));
	wait_heard(1, WORKER_CTL_ACCEPT, 2);
	stop();
	wait_heard(1, WORKER_CTL_STOP, 2);
	ck_assert_int_eq(heard(1, WORKER_CTL_DRAIN), 0);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

START_TEST(reload_switches_once_ready)
{
	start(2);
	generation_begin(ctx.t, 2, 5000, true);
	ck_assert_uint_eq(generation_current(ctx.t), 2);
	(void)generation_tick(ctx.t, util_now_ms());
	ck_assert_int_eq(generation_running(ctx.t), 4);
	until_ready();
	ck_assert_ptr_null(generation_start_failure(ctx.t, util_now_ms()));
	/* Ready, but not accepting before the switch; the old ones serve. */
	never_heard(2, WORKER_CTL_ACCEPT);
	ck_assert_int_eq(heard(1, WORKER_CTL_DRAIN), 0);
	generation_switch(ctx.t, 0);
	until_running(2);
	wait_heard(2, WORKER_CTL_ACCEPT, 2);
	wait_heard(1, WORKER_CTL_DRAIN, 2);
	ck_assert_uint_eq(generation_current(ctx.t), 2);
	stop();
	wait_heard(2, WORKER_CTL_STOP, 2);
}
END_TEST

START_TEST(reload_fails_when_a_worker_dies)
{
	const char *why = NULL;
	uint64_t until;
	int fds = unit_open_fds();

	ctx.how[2] = DIE;
	start(2);
	generation_begin(ctx.t, 2, 5000, true);
	(void)generation_tick(ctx.t, util_now_ms());
	until = util_now_ms() + 5000;
	while ((why = generation_start_failure(ctx.t, util_now_ms())) == NULL) {
		ck_assert_msg(util_now_ms() < until, "no failure within 5 s");
		turn();
	}
	ck_assert_msg(strstr(why, "exited with status 3") != NULL, "%s", why);
	ck_assert_int_le(generation_abandon(ctx.t), 2);
	/* Generation 1 is current again, and was never disturbed. */
	ck_assert_uint_eq(generation_current(ctx.t), 1);
	ck_assert_int_eq(generation_size(ctx.t), 2);
	ck_assert_int_eq(generation_count_ready(ctx.t), 2);
	ck_assert(generation_ready(ctx.t, util_now_ms()));
	ck_assert_ptr_null(generation_start_failure(ctx.t, UINT64_MAX));
	until_running(2);
	/* Not restarted: the dead ones are not in any position. */
	ck_assert_uint_eq(generation_tick(ctx.t, util_now_ms()), UINT64_MAX);
	ck_assert_int_eq(generation_running(ctx.t), 2);
	ck_assert_int_eq(unit_open_fds(), fds + 2);
	stop();
	wait_heard(1, WORKER_CTL_STOP, 2);
	ck_assert_int_eq(heard(1, WORKER_CTL_DRAIN), 0);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

START_TEST(reload_fails_when_not_ready_in_time)
{
	const char *why = NULL;
	uint64_t until;
	int fds = unit_open_fds();

	ctx.how[2] = SILENT;
	start(1);
	generation_begin(ctx.t, 1, 200, true);
	(void)generation_tick(ctx.t, util_now_ms());
	ck_assert_int_eq(generation_running(ctx.t), 2);
	ck_assert(!generation_ready(ctx.t, UINT64_MAX));
	until = util_now_ms() + 5000;
	while ((why = generation_start_failure(ctx.t, util_now_ms())) == NULL) {
		ck_assert_msg(util_now_ms() < until, "no failure within 5 s");
		turn();
	}
	ck_assert_str_eq(why, "0 of 1 workers ready after 200 ms");
	/* Its worker is told to end now, and goes. */
	ck_assert_int_eq(generation_abandon(ctx.t), 1);
	until_running(1);
	ck_assert_int_eq(unit_open_fds(), fds + 1);
	wait_heard(2, WORKER_CTL_DRAIN, 1);
	ck_assert_int_eq(heard(2, WORKER_CTL_ACCEPT), 0);
	ck_assert_uint_eq(generation_current(ctx.t), 1);
	stop();
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

START_TEST(crash_loop_backs_off)
{
	uint64_t until = util_now_ms() + 5000, delay = 0;
	int fds = unit_open_fds();

	ctx.how[1] = DIE;
	generation_begin(ctx.t, 1, 5000, false);
	/* Restarted at once the first time, then later and later. */
	while (delay < 150) {
		uint64_t now = util_now_ms(), wake;

		ck_assert_msg(now < until, "no back-off within 5 s");
		generation_reap(ctx.t);
		wake = generation_tick(ctx.t, now);
		if (wake != UINT64_MAX && wake > now)
			delay = wake - now;
		usleep(5000);
	}
	ck_assert_uint_le(delay, 10000);
	generation_stop(ctx.t, 0);
	until_running(0);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

static Suite *
generation_suite(void)
{
	Suite *s = suite_create("generation");
	TCase *tc = tcase_create("table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, slot_count);
	tcase_add_test(tc, start_accepts_then_stops);
	tcase_add_test(tc, reload_switches_once_ready);
	tcase_add_test(tc, reload_fails_when_a_worker_dies);
	tcase_add_test(tc, reload_fails_when_not_ready_in_time);
	tcase_add_test(tc, crash_loop_backs_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(generation_suite(), NULL);
}
