/* SPDX-License-Identifier: ISC */
/*
 * check_metrics.c - the metrics module (src/metrics.h): the text a
 * snapshot renders to, exactly (tests/unit/metrics.golden); the counts a
 * worker makes showing up under their names; a mapping that a hostile
 * worker filled with anything rendering to a bounded text that
 * tests/fuzz/expo_check.h passes; the request-head parser on every
 * malformed case and the answer each request earns; and the responder
 * over real sockets (an answer, 404 and 405, a head too large, a crowd
 * of silent connections that does not keep a scrape out, nothing left
 * open).
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "expo_check.h"
#include "metrics.h"
#include "socks5.h"
#include "status.h"
#include "unit_util.h"

static char text[METRICS_TEXT_MAX];

/* --- The text ------------------------------------------------------------ */

/* A snapshot whose every counter differs from the others. */
static void
golden_snapshot(struct status_snapshot *s)
{
	uint64_t v = 100;
	int i, k;

	memset(s, 0, sizeof(*s));
	s->start_wall = 1700000000;
	s->generation = 3;
	s->reloads = 2;
	s->worker_deaths = 1;
	s->workers[STATUS_WORKER_RUNNING] = 4;
	s->workers[STATUS_WORKER_DRAINING] = 2;
	s->active = 17;
	s->accepted = 5000;
	for (k = 0; k < STATUS_CMD_COUNT; k++)
		for (i = 0; i < 9; i++)
			s->replies[k][i] = v++;
	s->replies[STATUS_CMD_NONE][200] = 1;	/* no server sends it */
	for (i = 0; i < STATUS_UNANSWERED_COUNT; i++)
		s->unanswered[i] = v++;
	for (i = 0; i < STATUS_REFUSAL_COUNT; i++)
		s->refused[i] = v++;
	s->bytes_up = 123456789;
	s->bytes_down = 987654321;
	for (k = 0; k < STATUS_AUTH_METHODS; k++)
		for (i = 0; i < STATUS_AUTH_RESULTS; i++)
			s->auth[k][i] = v++;
	s->connect_ipv6 = 40;
	s->connect_ipv4 = 30;
	s->connect_fallback = 7;
	s->connect_nat64 = 2;
	s->connect_failed = 9;
	for (k = 0; k < 2; k++)
		for (i = 0; i < STATUS_CONNECT_BUCKETS; i++)
			s->connect_ms[k][i] = (uint64_t)(i % 3 + k);
	s->connect_ms_sum[0] = 12345;
	s->connect_ms_sum[1] = 30000;
	for (i = 0; i < STATUS_ATTEMPT_BUCKETS; i++)
		s->attempts[i] = (uint64_t)(STATUS_ATTEMPT_BUCKETS - i);
	s->attempts_sum = 99;
	for (k = 0; k < STATUS_DNS_SOURCES; k++)
		for (i = 0; i < STATUS_DNS_RESULTS; i++)
			s->dns[k][i] = (uint64_t)(10 * k + i);
	s->udp_dgrams_up = 555;
	s->udp_dgrams_down = 444;
	for (i = 0; i < STATUS_UDP_DROPS; i++)
		s->udp_drops[i] = (uint64_t)i;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * The whole text of a known snapshot, byte for byte: the golden file,
 * with @VERSION@ for this build's version. METRICS_GOLDEN_OUT=FILE
 * writes what was rendered (to update the file after a deliberate
 * change).
 */
START_TEST(format_golden)
{
	struct status_snapshot *s = malloc(sizeof(*s));
	const char *srcdir = getenv("srcdir"), *out, *at, *why;
	char path[1024], *golden, *want;
	size_t glen, len, wl;

	ck_assert_ptr_nonnull(s);
	golden_snapshot(s);
	len = metrics_format(s, text, sizeof(text));
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_eq(strlen(text), len);
	out = getenv("METRICS_GOLDEN_OUT");
	if (out != NULL && out[0] != '\0') {
		FILE *f = fopen(out, "w");

		ck_assert_ptr_nonnull(f);
		fputs(text, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/tests/unit/metrics.golden",
	    srcdir != NULL && srcdir[0] != '\0' ? srcdir : ".");
	golden = read_file(path, &glen);
	want = malloc(glen + 64);
	ck_assert_ptr_nonnull(want);
	at = strstr(golden, "@VERSION@");
	ck_assert_ptr_nonnull(at);
	wl = (size_t)snprintf(want, glen + 64, "%.*s%s%s", (int)(at - golden),
	    golden, PACKAGE_VERSION, at + 9);
	if (wl != len || memcmp(want, text, len) != 0) {
		size_t i = 0;

		while (i < wl && i < len && want[i] == text[i])
			i++;
		ck_abort_msg("the text differs from %s at byte %zu: "
		    "got \"%.80s\", want \"%.80s\"", path, i, text + i,
		    want + i);
	}
	why = expo_check(text, len);
	ck_assert_msg(why == NULL, "%s", why);
	free(want);
	free(golden);
	free(s);
}
END_TEST

static void
assert_line(const char *t, const char *line)
{
	char want[512];
	size_t n = strlen(line);

	/* A whole line: at the start, or after a newline, and a newline. */
	snprintf(want, sizeof(want), "\n%s\n", line);
	ck_assert_msg(strncmp(t, line, n) == 0 ? t[n] == '\n' :
	    strstr(t, want) != NULL, "no line \"%s\"", line);
}

/* What a worker counts, under the metric names. */
START_TEST(counts_to_lines)
{
	static const uint64_t drops[STATUS_UDP_DROPS] = { [2] = 3, [8] = 1 };
	struct status *st = status_new(4);
	const char *why;
	size_t len;

	ck_assert_ptr_nonnull(st);
	status_slot_start(st, 0, 1);
	status_slot_set_state(st, 0, STATUS_WORKER_RUNNING);
	status_slot_start(st, 1, 1);
	status_slot_set_state(st, 1, STATUS_WORKER_RUNNING);
	status_attach(st, 1);
	status_session_opened();
	status_session_opened();
	status_session_opened();
	status_session_opened();
	status_session_end(SOCKS5_CMD_CONNECT, 0, "closed", NULL, 300, 4000);
	status_session_end(SOCKS5_CMD_CONNECT, 0, "closed", NULL, 1, 2);
	status_session_end(SOCKS5_CMD_CONNECT, 5, "connect-failed", NULL, 0, 0);
	status_session_end(SOCKS5_CMD_UDP_ASSOCIATE, 0, "closed", NULL, 10, 20);
	status_session_end(-1, -1, "auth-failed", NULL, 0, 0);
	status_session_end(-1, -1, "handshake-timeout", NULL, 0, 0);
	status_count_refusal(STATUS_REFUSED_CLIENTS);
	status_count_refusal(STATUS_REFUSED_AUTH_FAILED);
	status_count_auth(SOCKS5_METHOD_PASSWORD, STATUS_AUTH_SUCCESS);
	status_count_auth(SOCKS5_METHOD_PASSWORD, STATUS_AUTH_FAILURE);
	status_count_connect(true, AF_INET, 1, false, 3);
	status_count_connect(true, AF_INET6, 2, false, 260);
	status_count_connect(false, AF_INET, 1, false, 1);
	status_count_dns(STATUS_DNS_SERVER, STATUS_DNS_OK);
	status_count_dns(STATUS_DNS_SERVER, STATUS_DNS_TIMEOUT);
	status_count_udp(4, 5, drops, STATUS_UDP_DROPS);
	status_attach(NULL, -1);
	status_count_reload(st);
	status_count_worker_death(st);

	len = metrics_render(st, text, sizeof(text));
	ck_assert_uint_gt(len, 0);
	why = expo_check(text, len);
	ck_assert_msg(why == NULL, "%s", why);
	assert_line(text, "sockeye_build_info{version=\"" PACKAGE_VERSION
	    "\"} 1");
	assert_line(text, "sockeye_generation 1");
	assert_line(text, "sockeye_reloads_total 1");
	assert_line(text, "sockeye_worker_deaths_total 1");
	assert_line(text, "sockeye_workers{state=\"running\"} 2");
	assert_line(text, "sockeye_workers{state=\"starting\"} 0");
	assert_line(text, "sockeye_sessions_active 4");
	assert_line(text, "sockeye_sessions_started_total 4");
	assert_line(text, "sockeye_sessions_total{command=\"connect\","
	    "reply=\"0\"} 2");
	assert_line(text, "sockeye_sessions_total{command=\"connect\","
	    "reply=\"5\"} 1");
	assert_line(text, "sockeye_sessions_total{command=\"udp_associate\","
	    "reply=\"0\"} 1");
	assert_line(text, "sockeye_sessions_total{command=\"none\","
	    "reply=\"1\"} 0");
	assert_line(text, "sockeye_connections_unanswered_total{reason="
	    "\"clients\"} 1");
	assert_line(text, "sockeye_connections_unanswered_total{reason="
	    "\"auth_failed\"} 1");
	assert_line(text, "sockeye_connections_unanswered_total{reason="
	    "\"handshake_timeout\"} 1");
	assert_line(text, "sockeye_connections_unanswered_total{reason="
	    "\"proxy_header\"} 0");
	assert_line(text, "sockeye_refusals_total{reason=\"auth_failed\"} 1");
	assert_line(text, "sockeye_relayed_bytes_total{direction=\"up\"} 311");
	assert_line(text, "sockeye_relayed_bytes_total{direction=\"down\"} "
	    "4022");
	assert_line(text, "sockeye_authentications_total{method=\"password\","
	    "result=\"success\"} 1");
	assert_line(text, "sockeye_authentications_total{method=\"password\","
	    "result=\"failure\"} 1");
	assert_line(text, "sockeye_connect_successes_total{family=\"ipv4\"} 1");
	assert_line(text, "sockeye_connect_successes_total{family=\"ipv6\"} 1");
	assert_line(text, "sockeye_connect_failures_total 1");
	assert_line(text, "sockeye_connect_fallbacks_total 1");
	assert_line(text, "sockeye_connect_duration_seconds_bucket{result="
	    "\"success\",le=\"0.005\"} 1");
	assert_line(text, "sockeye_connect_duration_seconds_bucket{result="
	    "\"success\",le=\"0.25\"} 1");
	assert_line(text, "sockeye_connect_duration_seconds_bucket{result="
	    "\"success\",le=\"0.5\"} 2");
	assert_line(text, "sockeye_connect_duration_seconds_bucket{result="
	    "\"success\",le=\"+Inf\"} 2");
	assert_line(text, "sockeye_connect_duration_seconds_sum{result="
	    "\"success\"} 0.263");
	assert_line(text, "sockeye_connect_duration_seconds_count{result="
	    "\"failure\"} 1");
	assert_line(text, "sockeye_connect_duration_seconds_sum{result="
	    "\"failure\"} 0.001");
	assert_line(text, "sockeye_connect_attempts_bucket{le=\"0\"} 0");
	assert_line(text, "sockeye_connect_attempts_bucket{le=\"1\"} 2");
	assert_line(text, "sockeye_connect_attempts_bucket{le=\"2\"} 3");
	assert_line(text, "sockeye_connect_attempts_sum 4");
	assert_line(text, "sockeye_connect_attempts_count 3");
	assert_line(text, "sockeye_dns_lookups_total{source=\"server\"} 2");
	assert_line(text, "sockeye_dns_failures_total{reason=\"timeout\"} 1");
	assert_line(text, "sockeye_udp_datagrams_total{direction=\"up\"} 4");
	assert_line(text, "sockeye_udp_datagrams_total{direction=\"down\"} 5");
	assert_line(text, "sockeye_udp_datagrams_dropped_total{reason="
	    "\"frag\"} 3");
	assert_line(text, "sockeye_udp_datagrams_dropped_total{reason="
	    "\"filtered\"} 1");
	status_free(st);
}
END_TEST

/*
 * Whatever a worker wrote into the mapping: every counter UINT64_MAX
 * (every word 0xff: the buckets' sums saturate, every reply code 9 to
 * 255 is written), patterns, random bytes. The text always fits, and
 * always passes the checker.
 */
START_TEST(hostile_mapping)
{
	struct status *st = status_new(3);
	size_t len, i, k, n;
	uint32_t *w;
	const char *why;

	ck_assert_ptr_nonnull(st);
	w = status_region(st, &len);
	for (k = 0; k < 5; k++) {
		for (i = 0; i < len / 4; i++) {
			switch (k) {
			case 0:
				w[i] = 0xffffffffu;
				break;
			case 1:
				w[i] = i % 2 == 0 ? 2 : 0xffffffffu;
				break;
			case 2:
				w[i] = (uint32_t)i;
				break;
			default:
				w[i] = (uint32_t)random();
				break;
			}
		}
		n = metrics_render(st, text, sizeof(text));
		ck_assert_msg(n > 0, "pattern %zu did not fit", k);
		ck_assert_uint_eq(strlen(text), n);
		why = expo_check(text, n);
		ck_assert_msg(why == NULL, "pattern %zu: %s", k, why);
		if (k == 0) {
			/* The largest text there can be: well within bounds. */
			ck_assert_uint_lt(n, METRICS_TEXT_MAX * 3 / 4);
			ck_assert_ptr_nonnull(strstr(text,
			    "sockeye_sessions_total{command=\"udp_associate\","
			    "reply=\"255\"} 18446744073709551615\n"));
			ck_assert_ptr_nonnull(strstr(text,
			    "sockeye_connect_attempts_count "
			    "18446744073709551615\n"));
		}
	}
	status_free(st);
}
END_TEST

/* Too little room: nothing claimed, what is there ends at a line. */
START_TEST(cut_short)
{
	struct status_snapshot *s = malloc(sizeof(*s));
	static char small[1000];
	size_t full;

	ck_assert_ptr_nonnull(s);
	golden_snapshot(s);
	full = metrics_format(s, text, sizeof(text));
	ck_assert_uint_gt(full, sizeof(small));
	ck_assert_uint_eq(metrics_format(s, small, sizeof(small)), 0);
	ck_assert_uint_gt(strlen(small), 0);
	ck_assert_int_eq(small[strlen(small) - 1], '\n');
	ck_assert_int_eq(strncmp(small, text, strlen(small)), 0);
	ck_assert_uint_eq(metrics_format(s, small, 0), 0);
	ck_assert_uint_eq(metrics_format(s, small, 1), 0);
	ck_assert_int_eq(small[0], '\0');
	ck_assert_uint_eq(metrics_format(s, text, full), 0);
	ck_assert_uint_eq(metrics_format(s, text, full + 1), full);
	free(s);
}
END_TEST

/* The checker itself: it refuses what it should (else it proves nothing). */
START_TEST(checker_refuses)
{
	static const char *const bad[] = {
		"",
		"# HELP a_total x\n# TYPE a_total counter\na_total 1",
		"# HELP a x\n# TYPE a counter\na 1\n",
		"# HELP a_total x\n# TYPE a_total counter\na_total 1.5\n",
		"# TYPE a_total counter\na_total 1\n",
		"# HELP a_total x\n# TYPE a_total counter\na_total 1\n"
		    "a_total 2\n",
		"# HELP a_total x\n# TYPE a_total counter\na_total 1\n"
		    "# HELP b x\n# TYPE b gauge\nb 1\n"
		    "# HELP a_total x\n# TYPE a_total counter\n",
		"# HELP a x\n# TYPE a gauge\na 1\n# HELP a y\n",
		"# HELP a x\n# TYPE a gauge\nb 1\n",
		"# HELP a x\n# TYPE a gauge\na{l=\"x\\q\"} 1\n",
		"# HELP a x\n# TYPE a gauge\na{l=x} 1\n",
		"# HELP a x\n# TYPE a gauge\na{__l=\"x\"} 1\n",
		"# HELP a x\n# TYPE a gauge\na{l=\"x\"\n",
		"# HELP a x\n# TYPE a gauge\na one\n",
		"# HELP a x\n# TYPE a gauge\n\na 1\n",
		"# HELP a x\n# TYPE a meter\na 1\n",
		"# HELP h x\n# TYPE h histogram\nh 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		    "h_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
		    "h_sum 1\nh_count 2\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\n"
		    "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
		    "h_sum 1\nh_count 2\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		    "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		    "h_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
		    "h_bucket{le=\"+Inf\"} 1\n",
	};
	static const char good[] =
		"# HELP a_total x\n# TYPE a_total counter\na_total{l=\"\\\"\"} 1\n"
		"# HELP h x\n# TYPE h histogram\nh_bucket{k=\"a\",le=\"0.5\"} 1\n"
		"h_bucket{k=\"a\",le=\"+Inf\"} 2\nh_sum{k=\"a\"} 0.75\n"
		"h_count{k=\"a\"} 2\nh_bucket{k=\"b\",le=\"0.5\"} 0\n"
		"h_bucket{k=\"b\",le=\"+Inf\"} 0\nh_sum{k=\"b\"} 0\n"
		"h_count{k=\"b\"} 0\n";
	size_t i;

	ck_assert_msg(expo_check(good, strlen(good)) == NULL, "%s",
	    expo_check(good, strlen(good)));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(expo_check(bad[i], strlen(bad[i])) != NULL,
		    "bad text %zu passed", i);
}
END_TEST

/* --- The request head ------------------------------------------------------ */

struct head_case {
	const char *in;
	size_t len;			/* 0: strlen(in) */
	enum metrics_http want;
	size_t used;			/* DONE: 0 means len */
	enum metrics_method method;
	int code;			/* metrics_http_status() */
};

#define H(s) s, sizeof(s) - 1
static const struct head_case head_cases[] = {
	/* Answered. */
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 200 },
	{ H("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_HEAD, 200 },
	{ H("GET /metrics HTTP/1.0\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 200 },
	{ H("GET /metrics?name[]=x&y HTTP/1.1\r\nhOsT:x\r\n\r\n"),
	  METRICS_HTTP_DONE, 0, METRICS_METHOD_GET, 200 },
	{ H("GET /metrics? HTTP/1.1\nHost: x\n\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 200 },
	{ H("\r\n\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
	  METRICS_HTTP_DONE, 0, METRICS_METHOD_GET, 200 },
	{ H("GET http://x:9464/metrics HTTP/1.1\r\nHost: x:9464\r\n\r\n"),
	  METRICS_HTTP_DONE, 0, METRICS_METHOD_GET, 200 },
	{ H("GET HTTPS://x/metrics?a HTTP/1.1\r\nHost: x\r\n\r\n"),
	  METRICS_HTTP_DONE, 0, METRICS_METHOD_GET, 200 },
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: Prometheus/2.42.0"
	    "\r\nAccept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n"
	    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\nX-Odd:\t caf\xc3\xa9 "
	    "\t\r\nEmpty:\r\n\r\n"), METRICS_HTTP_DONE, 0, METRICS_METHOD_GET,
	  200 },
	/* A body or a pipelined request after the head is not the head's. */
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n"),
	  METRICS_HTTP_DONE, 34, METRICS_METHOD_GET, 200 },
	/* Other paths, methods, versions. */
	{ H("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 404 },
	{ H("GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 404 },
	{ H("GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 404 },
	{ H("GET /Metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 404 },
	{ H("GET /metrics#x HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 404 },
	{ H("GET http://x HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 404 },
	{ H("GET http://x?/metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
	  METRICS_HTTP_DONE, 0, METRICS_METHOD_GET, 404 },
	{ H("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_OTHER, 404 },
	{ H("POST /other HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_OTHER, 404 },
	{ H("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_OTHER, 405 },
	{ H("get /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_OTHER, 405 },
	{ H("GETS /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_OTHER, 405 },
	{ H("GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 505 },
	{ H("GET /metrics HTTP/0.9\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 505 },
	{ H("PRI * HTTP/2.0\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_OTHER, 505 },
	/* HTTP/1.1: exactly one Host. */
	{ H("GET /metrics HTTP/1.1\r\n\r\n"), METRICS_HTTP_DONE, 0,
	  METRICS_METHOD_GET, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
	  METRICS_HTTP_DONE, 0, METRICS_METHOD_GET, 400 },
	{ H("GET /metrics HTTP/1.9\r\nX-Host: a\r\n\r\n"), METRICS_HTTP_DONE,
	  0, METRICS_METHOD_GET, 400 },
	/* Not yet. */
	{ H(""), METRICS_HTTP_NEED_MORE, 0, 0, 0 },
	{ H("GET /metrics HTTP/1.1"), METRICS_HTTP_NEED_MORE, 0, 0, 0 },
	{ H("GET /metrics HTTP/1.1\r"), METRICS_HTTP_NEED_MORE, 0, 0, 0 },
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n"), METRICS_HTTP_NEED_MORE, 0,
	  0, 0 },
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n\r"), METRICS_HTTP_NEED_MORE,
	  0, 0, 0 },
	{ H("\r\n\r\n\n"), METRICS_HTTP_NEED_MORE, 0, 0, 0 },
	{ H("x\r\ny"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	/* Malformed request lines. */
	{ H("GET /metrics\r\n\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET\r\n\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET  /metrics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics  HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H(" GET /metrics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1 \r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET\t/metrics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /met rics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.10\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/11\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics http/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.x\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/a.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("G(T /metrics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /m\x80trics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0,
	  400 },
	{ H("GET /m\x7ftrics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0,
	  400 },
	{ H("GET /metrics HTTP/1.1\r\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /me\rtrics HTTP/1.1\r\n"), METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ "GET /metrics\0 HTTP/1.1\r\n", 24, METRICS_HTTP_MALFORMED, 0, 0,
	  400 },
	{ H("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	/* Malformed fields. */
	{ H("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost\t: x\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\n: x\r\n\r\n"), METRICS_HTTP_MALFORMED, 0,
	  0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost x\r\n\r\n"), METRICS_HTTP_MALFORMED,
	  0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n\tfolded\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: a\x01\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: a\x7f\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\0\r\n\r\n", 35,
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHo(st: a\r\n\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	{ H("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\r\n"),
	  METRICS_HTTP_MALFORMED, 0, 0, 400 },
	/* A bad line is bad before the head is whole. */
	{ H("GET /metrics HTTP/1.1\r\nHost x\r\nmore"), METRICS_HTTP_MALFORMED,
	  0, 0, 400 },
};
#undef H

/* A copy in a heap block of exactly `len` bytes (ASan sees overreads). */
static enum metrics_http
parse_exact(const char *in, size_t len, struct metrics_request *rq,
    size_t *used)
{
	char *copy = malloc(len == 0 ? 1 : len);
	enum metrics_http st;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, in, len);
	st = metrics_http_parse(copy, len, rq, used);
	free(copy);
	return st;
}

START_TEST(head_cases_parse)
{
	const struct head_case *c = &head_cases[_i];
	size_t len = c->len, used = 99, k, u, first = 0;
	struct metrics_request rq;
	enum metrics_http st, sk, verdict = METRICS_HTTP_NEED_MORE;

	st = parse_exact(c->in, len, &rq, &used);
	ck_assert_msg(st == c->want, "case %d: verdict %d, want %d", _i, st,
	    c->want);
	if (st == METRICS_HTTP_DONE) {
		ck_assert_uint_eq(used, c->used != 0 ? c->used : len);
		ck_assert_int_eq(rq.method, c->method);
	} else {
		ck_assert_uint_eq(used, 0);
	}
	if (st != METRICS_HTTP_NEED_MORE)
		ck_assert_int_eq(metrics_http_status(st, &rq), c->code);
	/* Byte by byte: NEED_MORE, then the verdict, for good. */
	for (k = 0; k <= len; k++) {
		sk = parse_exact(c->in, k, &rq, &u);
		if (verdict == METRICS_HTTP_NEED_MORE) {
			if (sk != METRICS_HTTP_NEED_MORE) {
				verdict = sk;
				first = k;
				/* A verdict comes with the '\n' of a line. */
				ck_assert_int_eq(c->in[k - 1], '\n');
			}
		} else {
			ck_assert_msg(sk == verdict, "case %d: prefix %zu gives "
			    "%d after %d", _i, k, sk, verdict);
		}
		if (sk == METRICS_HTTP_DONE)
			ck_assert_uint_eq(u, first);
	}
	ck_assert_int_eq(verdict, st);
}
END_TEST

/* METRICS_HEAD_MAX bytes: a head that ends there is whole; one more is not. */
START_TEST(head_limits)
{
	static char big[METRICS_HEAD_MAX + 64];
	static const char start[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX: ";
	struct metrics_request rq;
	size_t used, n;

	/* A head of exactly METRICS_HEAD_MAX bytes. */
	memset(big, 'a', sizeof(big));
	memcpy(big, start, sizeof(start) - 1);
	memcpy(big + METRICS_HEAD_MAX - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(parse_exact(big, METRICS_HEAD_MAX, &rq, &used),
	    METRICS_HTTP_DONE);
	ck_assert_uint_eq(used, METRICS_HEAD_MAX);
	ck_assert_int_eq(parse_exact(big, sizeof(big), &rq, &used),
	    METRICS_HTTP_DONE);
	ck_assert_int_eq(metrics_http_status(METRICS_HTTP_DONE, &rq), 200);
	/* One byte longer: too large, whatever follows. */
	memset(big, 'a', sizeof(big));
	memcpy(big, start, sizeof(start) - 1);
	memcpy(big + METRICS_HEAD_MAX - 3, "\r\n\r\n", 4);
	ck_assert_int_eq(parse_exact(big, METRICS_HEAD_MAX - 1, &rq, &used),
	    METRICS_HTTP_NEED_MORE);
	for (n = METRICS_HEAD_MAX; n <= sizeof(big); n++)
		ck_assert_int_eq(parse_exact(big, n, &rq, &used),
		    METRICS_HTTP_TOO_LARGE);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(metrics_http_status(METRICS_HTTP_TOO_LARGE, &rq), 431);
	/* Empty lines count against the limit too. */
	memset(big, '\n', sizeof(big));
	ck_assert_int_eq(parse_exact(big, METRICS_HEAD_MAX - 1, &rq, &used),
	    METRICS_HTTP_NEED_MORE);
	ck_assert_int_eq(parse_exact(big, METRICS_HEAD_MAX, &rq, &used),
	    METRICS_HTTP_TOO_LARGE);
	/* A malformed line is malformed however long the input. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET x\n", 6);
	ck_assert_int_eq(parse_exact(big, sizeof(big), &rq, &used),
	    METRICS_HTTP_MALFORMED);
	ck_assert_int_eq(metrics_http_status(METRICS_HTTP_NEED_MORE, &rq), 0);
}
END_TEST

/* --- The responder --------------------------------------------------------- */

/* Turn the server's crank (poll, handle) for up to `ms`, or once. */
static void
crank(struct metrics_server *srv, int ms)
{
	struct pollfd pfd[METRICS_POLLFDS_MAX];
	uint64_t until = util_now_ms() + (uint64_t)ms;
	size_t n;

	do {
		n = metrics_server_pollfds(srv, pfd, METRICS_POLLFDS_MAX);
		ck_assert_uint_le(n, METRICS_POLLFDS_MAX);
		(void)poll(pfd, n, 10);
		metrics_server_handle(srv, pfd, n);
	} while (util_now_ms() < until);
}

static int
client(const struct metrics_server *srv)
{
	const union sockaddr_any *a = metrics_server_addr(srv);
	int fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, &a->sa, sockaddr_len(&a->sa)), 0);
	return fd;
}

/*
 * Send `req`, crank the server until the answer has come and the server
 * closed (EOF), return the answer (static).
 */
static const char *
exchange(struct metrics_server *srv, int fd, const char *req, size_t len)
{
	static char ans[METRICS_TEXT_MAX + 1024];
	size_t got = 0;
	uint64_t until = util_now_ms() + 3000;

	if (len > 0)
		ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	for (;;) {
		ssize_t r;

		crank(srv, 0);
		r = recv(fd, ans + got, sizeof(ans) - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
		else
			ck_assert_int_eq(errno, EAGAIN);
		ck_assert_msg(util_now_ms() < until, "no whole answer in 3 s");
	}
	close(fd);
	ans[got] = '\0';
	return ans;
}

static struct metrics_server *
server(struct status *st)
{
	union sockaddr_any a = unit_addr("127.0.0.1", 0);
	char err[256];
	struct metrics_server *srv = metrics_server_open(&a, st, err,
	    sizeof(err));

	ck_assert_msg(srv != NULL, "%s", err);
	ck_assert_uint_eq(sockaddr_port(&metrics_server_conf(srv)->sa), 0);
	ck_assert_uint_ne(sockaddr_port(&metrics_server_addr(srv)->sa), 0);
	return srv;
}

START_TEST(server_answers)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct status *st = status_new(2);
	struct metrics_server *srv;
	const char *a, *body, *why;
	char want[128];
	int fds = unit_open_fds(), fd;
	size_t n;

	ck_assert_ptr_nonnull(st);
	srv = server(st);
	a = exchange(srv, client(srv), get, sizeof(get) - 1);
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", a);
	ck_assert_ptr_nonnull(strstr(a, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(a, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(strstr(a, "\r\nDate: "));
	body = strstr(a, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	n = metrics_render(st, text, sizeof(text));
	ck_assert_str_eq(body, text);
	snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n", n);
	ck_assert_ptr_nonnull(strstr(a, want));
	why = expo_check(body, strlen(body));
	ck_assert_msg(why == NULL, "%s", why);

	/* HEAD: the same head, no body. */
	a = exchange(srv, client(srv), "HEAD /metrics HTTP/1.0\r\n\r\n", 26);
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", a);
	ck_assert_ptr_nonnull(strstr(a, want));
	ck_assert_str_eq(strstr(a, "\r\n\r\n"), "\r\n\r\n");

	a = exchange(srv, client(srv), "GET /x HTTP/1.1\r\nHost: x\r\n\r\n",
	    28);
	ck_assert_msg(strncmp(a, "HTTP/1.1 404 Not Found\r\n", 24) == 0,
	    "%.200s", a);
	ck_assert_ptr_nonnull(strstr(a, "\r\n\r\n404 Not Found\n"));
	a = exchange(srv, client(srv), "PUT /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nabc", 56);
	ck_assert_msg(strncmp(a, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0,
	    "%.200s", a);
	ck_assert_ptr_nonnull(strstr(a, "\r\nAllow: GET, HEAD\r\n"));
	a = exchange(srv, client(srv), "GET /metrics HTTP/1.1\r\n\r\n", 25);
	ck_assert_msg(strncmp(a, "HTTP/1.1 400 Bad Request\r\n", 26) == 0,
	    "%.200s", a);
	a = exchange(srv, client(srv), "\x16\x03\x01\x00\xa5\n", 6);
	ck_assert_msg(strncmp(a, "HTTP/1.1 400 Bad Request\r\n", 26) == 0,
	    "%.200s", a);
	/* A head too large, then more: 431, and the rest is read away. */
	{
		static char big[3 * METRICS_HEAD_MAX];

		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
		a = exchange(srv, client(srv), big, sizeof(big));
		ck_assert_msg(strncmp(a, "HTTP/1.1 431 ", 13) == 0, "%.200s", a);
	}
	/* Closed before a whole head: no answer. */
	a = exchange(srv, client(srv), "GET /metrics HTTP/1.1\r\n", 23);
	ck_assert_str_eq(a, "");
	a = exchange(srv, client(srv), "", 0);
	ck_assert_str_eq(a, "");

	/* A connection that says nothing has a deadline (5 s). */
	fd = client(srv);
	crank(srv, 50);
	ck_assert_int_gt(metrics_server_timeout_ms(srv), 4000);
	ck_assert_int_le(metrics_server_timeout_ms(srv), 5000);
	close(fd);
	crank(srv, 50);
	ck_assert_int_eq(metrics_server_timeout_ms(srv), -1);

	metrics_server_close(srv);
	ck_assert_int_eq(unit_open_fds(), fds);
	status_free(st);
}
END_TEST

/*
 * More silent connections than the server holds: each new one takes the
 * place of the oldest silent one, and a scrape among them is answered at
 * once, not after their deadlines.
 */
START_TEST(server_crowd)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct status *st = status_new(2);
	struct metrics_server *srv;
	int quiet[40], i, fds = unit_open_fds(), closed = 0;
	const char *a;
	uint64_t t0;

	ck_assert_ptr_nonnull(st);
	srv = server(st);
	for (i = 0; i < 40; i++) {
		quiet[i] = client(srv);
		crank(srv, 0);
	}
	crank(srv, 50);
	t0 = util_now_ms();
	a = exchange(srv, client(srv), get, sizeof(get) - 1);
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.200s", a);
	ck_assert_uint_lt(util_now_ms() - t0, 1000);
	/* The server holds at most METRICS_POLLFDS_MAX - 1 of them. */
	for (i = 0; i < 40; i++) {
		char c;

		if (recv(quiet[i], &c, 1, MSG_DONTWAIT) == 0)
			closed++;
		close(quiet[i]);
	}
	ck_assert_int_ge(closed, 40 - (METRICS_POLLFDS_MAX - 1));
	metrics_server_close(srv);
	ck_assert_int_eq(unit_open_fds(), fds);
	status_free(st);
}
END_TEST

START_TEST(server_open_fails)
{
	struct status *st = status_new(1);
	union sockaddr_any a = unit_addr("127.0.0.1", 0);
	struct metrics_server *srv, *two;
	char err[256];
	int fds = unit_open_fds();

	ck_assert_ptr_nonnull(st);
	srv = server(st);
	two = metrics_server_open(metrics_server_addr(srv), st, err,
	    sizeof(err));
	ck_assert_ptr_null(two);
	ck_assert_msg(strstr(err, "cannot listen on 127.0.0.1:") != NULL &&
	    strstr(err, "in use") != NULL, "%s", err);
	a = unit_addr("192.0.2.1", 9464);	/* not an address of ours */
	ck_assert_ptr_null(metrics_server_open(&a, st, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "192.0.2.1:9464"));
	metrics_server_close(srv);
	/* NULL-safe. */
	metrics_server_close(NULL);
	ck_assert_ptr_null(metrics_server_conf(NULL));
	ck_assert_ptr_null(metrics_server_addr(NULL));
	ck_assert_uint_eq(metrics_server_pollfds(NULL, NULL, 0), 0);
	metrics_server_handle(NULL, NULL, 0);
	ck_assert_int_eq(metrics_server_timeout_ms(NULL), -1);
	ck_assert_int_eq(unit_open_fds(), fds);
	status_free(st);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tt = tcase_create("text");
	TCase *th = tcase_create("http");
	TCase *ts = tcase_create("server");

	tcase_add_test(tt, format_golden);
	tcase_add_test(tt, counts_to_lines);
	tcase_add_test(tt, hostile_mapping);
	tcase_add_test(tt, cut_short);
	tcase_add_test(tt, checker_refuses);
	suite_add_tcase(s, tt);
	tcase_add_loop_test(th, head_cases_parse, 0,
	    (int)(sizeof(head_cases) / sizeof(head_cases[0])));
	tcase_add_test(th, head_limits);
	suite_add_tcase(s, th);
	tcase_add_test(ts, server_answers);
	tcase_add_test(ts, server_crowd);
	tcase_add_test(ts, server_open_fails);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	return unit_run(metrics_suite(), NULL);
}
