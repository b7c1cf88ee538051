/* SPDX-License-Identifier: ISC */
/*
 * check_status.c - the shared status counters and the status socket:
 * counting from a worker's view, slots cleared for a new worker, totals
 * surviving the death of the process that counted them, the user table
 * (names, "(other)" once full), JSON that is valid (checked by a small
 * strict parser here) whatever bytes a user name holds, and the socket
 * (mode 0600, one answer per request line, stale file replaced, a live
 * one left alone).
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "socks5.h"
#include "status.h"
#include "unit_util.h"

/* --- A strict little JSON checker --------------------------------------- */

static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p != '"')
		return NULL;
	for (p++; *p != '"'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\0' || c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (strchr("0123456789abcdefABCDEF",
					    p[i]) == NULL || p[i] == '\0')
						return NULL;
				p += 4;
			} else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
				return NULL;
			}
		}
	}
	return p + 1;
}

static const char *
json_number(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	return p == s ? NULL : p;
}

static const char *
json_container(const char *p, int depth, char close, bool object)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if ((p = json_string(p)) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = json_value(json_ws(p), depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = json_ws(p);
	}
}

static const char *
json_value(const char *p, int depth)
{
	if (depth > 16)
		return NULL;
	switch (*p) {
	case '{':
		return json_container(p, depth, '}', true);
	case '[':
		return json_container(p, depth, ']', false);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return json_number(p);
	}
}

/* One JSON object, then exactly "\n". */
static bool
json_line_valid(const char *s, size_t len)
{
	const char *end;

	if (len == 0 || s[len - 1] != '\n' || memchr(s, '\0', len) != NULL ||
	    s[0] != '{')
		return false;
	end = json_value(s, 0);
	return end != NULL && end == s + len - 1;
}

/* The status as a string (valid JSON checked). Caller frees. */
static char *
json_of(const struct status *st)
{
	size_t len = 0;
	char *j = status_json(st, &len);

	ck_assert_ptr_nonnull(j);
	ck_assert_msg(json_line_valid(j, len), "invalid JSON: %s", j);
	return j;
}

static void
assert_has(const char *json, const char *needle)
{
	ck_assert_msg(strstr(json, needle) != NULL, "no %s in %s", needle, json);
}

/* --- Tests ------------------------------------------------------------ */

START_TEST(counts_from_a_worker)
{
	struct status *st = status_new(4);
	char *j;

	ck_assert_ptr_nonnull(st);
	/* Not attached: counting is a no-op, not a crash. */
	status_session_opened();
	status_count_refusal(STATUS_REFUSED_CLIENTS);
	status_slot_start(st, 2, 1);
	status_slot_set_state(st, 2, STATUS_WORKER_RUNNING);
	status_attach(st, 2);
	status_session_opened();
	status_session_opened();
	status_user_login("alice");
	status_session_end(SOCKS5_CMD_CONNECT, 0, "closed", "alice", 10, 20);
	status_session_closed();
	status_session_end(-1, -1, "client-eof", NULL, 0, 0);
	status_session_closed();
	status_session_opened();
	status_user_login("bob");
	status_count_refusal(STATUS_REFUSED_AUTH_FAILED);
	status_count_refusal(STATUS_REFUSED_CLIENTS);
	status_count_refusal(STATUS_REFUSED_CLIENTS);
	status_count_refusal((enum status_refusal)99);	/* ignored */

	status_count_connect(true, AF_INET6, 1, false, 12);
	status_count_connect(true, AF_INET, 2, false, 12);
	status_count_connect(true, AF_INET6, 2, true, 12);
	status_count_connect(false, AF_INET6, 2, true, 12);

	j = json_of(st);
	assert_has(j, "\"generation\":1,");
	assert_has(j, "{\"slot\":2,\"pid\":");
	assert_has(j, "\"state\":\"running\",\"sessions\":1,\"accepted\":3,");
	assert_has(j, "\"sessions\":{\"active\":1,\"total\":3,\"ended\":2,"
	    "\"connect\":1,\"bind\":0,\"udp_associate\":0,\"none\":1}");
	assert_has(j, "\"bytes\":{\"up\":10,\"down\":20}");
	assert_has(j, "\"alice\":{\"sessions\":1,\"active\":0,\"bytes_up\":10,"
	    "\"bytes_down\":20}");
	assert_has(j, "\"bob\":{\"sessions\":1,\"active\":1,");
	assert_has(j, "\"clients\":2,");
	assert_has(j, "\"auth_failed\":1,");
	assert_has(j, "\"happy_eyeballs\":{\"ipv6\":2,\"ipv4\":1,"
	    "\"fallback\":2,\"nat64\":1,\"failed\":1}");
	/* Only the slot in use is listed. */
	ck_assert_ptr_null(strstr(j, "\"slot\":0"));
	free(j);
	status_free(st);
}
END_TEST

START_TEST(slot_cleared_totals_stay)
{
	struct status *st = status_new(2);
	char *j;

	ck_assert_ptr_nonnull(st);
	status_slot_start(st, 0, 1);
	status_attach(st, 0);
	status_session_opened();
	status_user_login("carol");
	status_session_opened();
	/* The worker dies with two sessions open; the master clears. */
	status_attach(NULL, -1);
	status_slot_clear(st, 0);
	status_count_worker_death(st);
	j = json_of(st);
	assert_has(j, "\"workers\":[]");
	assert_has(j, "\"active\":0,\"total\":2,");
	assert_has(j, "\"carol\":{\"sessions\":1,\"active\":0,");
	assert_has(j, "\"worker_deaths\":1,");
	free(j);
	/* A new worker in the slot starts from zero, totals go on. */
	status_slot_start(st, 0, 2);
	status_set_generation(st, 2);
	status_count_reload(st);
	status_attach(st, 0);
	status_session_opened();
	j = json_of(st);
	assert_has(j, "\"generation\":2,\"reloads\":1,");
	assert_has(j, "\"generation\":2,\"state\":\"starting\",\"sessions\":1,"
	    "\"accepted\":1,");
	assert_has(j, "\"active\":1,\"total\":3,");
	free(j);
	status_free(st);
}
END_TEST

START_TEST(survives_the_counting_process)
{
	struct status *st = status_new(3);
	pid_t pid;
	int ws, i;
	char *j;

	ck_assert_ptr_nonnull(st);
	for (i = 0; i < 2; i++) {
		status_slot_start(st, i, 1);
		pid = unit_fork();
		if (pid == 0) {
			int k;

			status_attach(st, i);
			for (k = 0; k < 50; k++) {
				status_session_opened();
				status_user_login("dave");
				status_session_end(SOCKS5_CMD_CONNECT, 0,
				    "closed", "dave", 1, 2);
				status_session_closed();
			}
			_exit(0);
		}
		ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
		ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		status_slot_clear(st, i);
	}
	j = json_of(st);
	assert_has(j, "\"active\":0,\"total\":100,\"ended\":100,"
	    "\"connect\":100,");
	assert_has(j, "\"bytes\":{\"up\":100,\"down\":200}");
	assert_has(j, "\"dave\":{\"sessions\":100,\"active\":0,"
	    "\"bytes_up\":100,\"bytes_down\":200}");
	free(j);
	status_free(st);
}
END_TEST

START_TEST(user_table_full)
{
	struct status *st = status_new(1);
	char name[32], *j;
	int i;

	ck_assert_ptr_nonnull(st);
	status_slot_start(st, 0, 1);
	status_attach(st, 0);
	for (i = 0; i < STATUS_MAX_USERS + 10; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		status_user_login(name);
	}
	/* A name longer than a user name can be: "(other)" too. */
	{
		char lng[STATUS_USER_MAX + 2];

		memset(lng, 'x', sizeof(lng) - 1);
		lng[sizeof(lng) - 1] = '\0';
		status_user_login(lng);
		status_session_end(SOCKS5_CMD_CONNECT, 0, "closed", lng, 5, 5);
	}
	status_session_end(SOCKS5_CMD_BIND, 0, "closed", "u0", 1, 1);
	j = json_of(st);
	assert_has(j, "\"u0\":{\"sessions\":1,\"active\":0,\"bytes_up\":1,");
	snprintf(name, sizeof(name), "\"u%d\":", STATUS_MAX_USERS - 1);
	assert_has(j, name);
	snprintf(name, sizeof(name), "\"u%d\":", STATUS_MAX_USERS);
	ck_assert_ptr_null(strstr(j, name));
	assert_has(j, "\"(other)\":{\"sessions\":11,\"active\":10,"
	    "\"bytes_up\":5,");
	free(j);
	status_log_summary(st);	/* bounded: must not crash or flood */
	status_free(st);
}
END_TEST

START_TEST(json_escape)
{
	char out[6 * 32 + 1];
	size_t n;

	n = status_json_escape(out, "plain", 5);
	ck_assert_str_eq(out, "plain");
	ck_assert_uint_eq(n, 5);
	status_json_escape(out, "a\"b\\c", 5);
	ck_assert_str_eq(out, "a\\\"b\\\\c");
	status_json_escape(out, "x\ny\x01\x7f", 5);
	ck_assert_str_eq(out, "x\\u000ay\\u0001\\u007f");
	/* Valid UTF-8 stays, as does a 4-byte sequence. */
	status_json_escape(out, "jos\xc3\xa9 \xf0\x9f\x90\x9f", 10);
	ck_assert_str_eq(out, "jos\xc3\xa9 \xf0\x9f\x90\x9f");
	/* Invalid: lone continuation, overlong, truncated, surrogate. */
	status_json_escape(out, "\x80", 1);
	ck_assert_str_eq(out, "\xef\xbf\xbd");
	status_json_escape(out, "\xc0\xaf", 2);
	ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd");
	status_json_escape(out, "a\xe2\x82", 3);
	ck_assert_str_eq(out, "a\xef\xbf\xbd\xef\xbf\xbd");
	status_json_escape(out, "\xed\xa0\x80", 3);
	ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Embedded NUL */
	status_json_escape(out, "a\0b", 3);
	ck_assert_str_eq(out, "a\\u0000b");
}
END_TEST

START_TEST(odd_user_names_json)
{
	struct status *st = status_new(1);
	static const char *const names[] = {
		"quo\"te", "back\\slash", "\xff\xfe", "tab\there", "\xc3\xa9t\xc3\xa9",
	};
	size_t i;
	char *j;

	ck_assert_ptr_nonnull(st);
	status_slot_start(st, 0, 1);
	status_attach(st, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		status_user_login(names[i]);
	j = json_of(st);
	assert_has(j, "\"quo\\\"te\":");
	assert_has(j, "\"back\\\\slash\":");
	assert_has(j, "\"\xef\xbf\xbd\xef\xbf\xbd\":");
	assert_has(j, "\"tab\\u0009here\":");
	free(j);
	status_free(st);
}
END_TEST


/*
 * The master renders whatever workers wrote: fill the whole mapping with
 * garbage (each 8-byte word "2, then a length": every user entry READY
 * with a huge or too-long name length, every slot RUNNING with absurd
 * times and counts; then random bytes) and render. No crash, no overrun
 * (a huge length used to run off the mapping), names no longer than
 * STATUS_USER_MAX, output that ends like a JSON line.
 */
START_TEST(hostile_region)
{
	static const uint32_t lens[] = { 0xffffffffu, 0x7fffffffu, 300, 256 };
	struct status *st = status_new(3);
	size_t len, n, i, k, jl;
	uint32_t *w;
	char *json;

	ck_assert_ptr_nonnull(st);
	w = status_region(st, &len);
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]) + 1; k++) {
		for (i = 0; i < len / 4; i++) {
			if (k < sizeof(lens) / sizeof(lens[0]))
				w[i] = i % 2 == 0 ? 2 : lens[k];
			else
				w[i] = (uint32_t)random();
		}
		json = status_json(st, &jl);
		ck_assert_ptr_nonnull(json);
		ck_assert_uint_eq(strlen(json), jl);
		ck_assert(jl >= 2 && strcmp(json + jl - 2, "}\n") == 0);
		/* No raw control byte but the final newline. */
		for (n = 0; n + 1 < jl && (unsigned char)json[n] >= 0x20; n++)
			;
		ck_assert_msg(n + 1 == jl, "byte %zu is %#x", n,
		    (unsigned char)json[n]);
		/* At most 8193 names of at most 6 * 255 + 2 bytes each. */
		ck_assert_uint_lt(jl, 8200u * (6 * STATUS_USER_MAX + 200) + 4096);
		if (k == 2) {
			/* Length 300: every name rendered is 255 bytes. */
			const char *u = strstr(json, "\"users\":{\"");
			size_t bytes = 0;

			ck_assert_ptr_nonnull(u);
			for (u += 10; *u != '"'; u++, bytes++) {
				if (u[0] == '\\' && u[1] == 'u')
					u += 5;
				else if (u[0] == '\\')
					u++;
			}
			ck_assert_uint_eq(bytes, STATUS_USER_MAX);
		}
		free(json);
		status_log_summary(st);
	}
	status_free(st);
}
END_TEST

/*
 * What the metrics read: every counter of status_snapshot() from a
 * worker's calls, the histograms' buckets at their edges, the reasons
 * of unanswered sessions, and nothing counted before status_attach().
 */
START_TEST(snapshot_counts)
{
	static const uint64_t drops[STATUS_UDP_DROPS + 2] = {
		1, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 4, 99, 99,
	};
	struct status *st = status_new(3);
	struct status_snapshot *sn = malloc(sizeof(*sn));
	size_t i;

	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_nonnull(sn);
	/* Not attached: nothing is counted. */
	status_count_auth(SOCKS5_METHOD_NONE, STATUS_AUTH_SUCCESS);
	status_count_dns(STATUS_DNS_SERVER, STATUS_DNS_OK);
	status_count_udp(1, 1, drops, STATUS_UDP_DROPS);
	status_count_connect(true, AF_INET, 1, false, 1);
	status_session_end(SOCKS5_CMD_CONNECT, 0, "closed", NULL, 1, 1);
	status_snapshot(st, sn);
	ck_assert_uint_eq(sn->auth[STATUS_AUTH_NONE][STATUS_AUTH_SUCCESS], 0);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_CONNECT][0], 0);
	ck_assert_uint_eq(sn->udp_dgrams_up, 0);

	status_slot_start(st, 1, 1);
	status_slot_set_state(st, 1, STATUS_WORKER_RUNNING);
	status_slot_start(st, 2, 1);
	status_slot_set_state(st, 2, STATUS_WORKER_DRAINING);
	status_attach(st, 1);
	status_session_opened();
	status_session_opened();
	status_session_opened();
	status_session_end(SOCKS5_CMD_CONNECT, 0, "closed", NULL, 5, 7);
	status_session_end(SOCKS5_CMD_CONNECT, 5, "connect-failed", NULL, 0, 0);
	status_session_end(SOCKS5_CMD_CONNECT, 5, "connect-failed", NULL, 0, 0);
	status_session_end(SOCKS5_CMD_BIND, 6, "accept-timeout", NULL, 0, 0);
	status_session_end(0x09, 7, "cmd-not-supported", NULL, 0, 0);
	status_session_end(-1, 1, "bad-request", NULL, 0, 0);
	status_session_end(-1, 255, "x", NULL, 0, 0);
	status_session_end(SOCKS5_CMD_CONNECT, -1, "client-eof", NULL, 0, 0);
	status_session_end(-1, -1, "client-error", NULL, 0, 0);
	status_session_end(-1, -1, "handshake-timeout", NULL, 0, 0);
	status_session_end(-1, -1, "auth-failed", NULL, 0, 0);
	status_session_end(-1, -1, "bad-version", NULL, 0, 0);
	status_session_end(-1, -1, NULL, NULL, 0, 0);
	status_session_end(-1, -1, "no-memory", NULL, 0, 0);
	status_session_end(-1, 256, "odd", NULL, 0, 0);	/* no such REP */
	status_count_auth(SOCKS5_METHOD_NONE, STATUS_AUTH_SUCCESS);
	status_count_auth(SOCKS5_METHOD_PASSWORD, STATUS_AUTH_FAILURE);
	status_count_auth(SOCKS5_METHOD_CHAP, STATUS_AUTH_THROTTLED);
	status_count_auth(SOCKS5_METHOD_CHAP, STATUS_AUTH_SUCCESS);
	status_count_auth(0x80, STATUS_AUTH_SUCCESS);		/* ignored */
	status_count_auth(SOCKS5_METHOD_CHAP, STATUS_AUTH_RESULTS);
	/* Buckets: <= 5 ms, <= 250 ms, 250 ms + 1, beyond 30 s. */
	status_count_connect(true, AF_INET6, 1, false, 5);
	status_count_connect(true, AF_INET6, 2, false, 250);
	status_count_connect(true, AF_INET, 2, true, 251);
	status_count_connect(false, AF_INET, 0, false, 30001);
	status_count_connect(false, AF_INET, 17, false, 0);
	status_count_dns(STATUS_DNS_LOCAL, STATUS_DNS_OK);
	status_count_dns(STATUS_DNS_CACHE, STATUS_DNS_NOT_FOUND);
	status_count_dns(STATUS_DNS_SERVER, STATUS_DNS_TIMEOUT);
	status_count_dns(STATUS_DNS_SERVER, STATUS_DNS_ERROR);
	status_count_dns(STATUS_DNS_SOURCES, STATUS_DNS_OK);	/* ignored */
	status_count_udp(10, 20, drops, STATUS_UDP_DROPS + 2);
	status_count_udp(1, 2, drops, 1);

	status_snapshot(st, sn);
	ck_assert_uint_eq(sn->generation, 1);
	ck_assert_uint_eq(sn->workers[STATUS_WORKER_RUNNING], 1);
	ck_assert_uint_eq(sn->workers[STATUS_WORKER_DRAINING], 1);
	ck_assert_uint_eq(sn->workers[STATUS_WORKER_FREE], 0);
	ck_assert_uint_eq(sn->active, 3);
	ck_assert_uint_eq(sn->accepted, 3);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_CONNECT][0], 1);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_CONNECT][5], 2);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_BIND][6], 1);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_NONE][7], 1);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_NONE][1], 1);
	ck_assert_uint_eq(sn->replies[STATUS_CMD_NONE][255], 1);
	ck_assert_uint_eq(sn->unanswered[STATUS_UNANSWERED_CLIENT_CLOSED], 2);
	ck_assert_uint_eq(
	    sn->unanswered[STATUS_UNANSWERED_HANDSHAKE_TIMEOUT], 1);
	ck_assert_uint_eq(sn->unanswered[STATUS_UNANSWERED_AUTH_FAILED], 1);
	ck_assert_uint_eq(sn->unanswered[STATUS_UNANSWERED_PROTOCOL_ERROR], 1);
	ck_assert_uint_eq(sn->unanswered[STATUS_UNANSWERED_OTHER], 3);
	ck_assert_uint_eq(sn->bytes_up, 5);
	ck_assert_uint_eq(sn->bytes_down, 7);
	ck_assert_uint_eq(sn->auth[STATUS_AUTH_NONE][STATUS_AUTH_SUCCESS], 1);
	ck_assert_uint_eq(sn->auth[STATUS_AUTH_PASSWORD][STATUS_AUTH_FAILURE],
	    1);
	ck_assert_uint_eq(sn->auth[STATUS_AUTH_CHAP][STATUS_AUTH_THROTTLED], 1);
	ck_assert_uint_eq(sn->auth[STATUS_AUTH_CHAP][STATUS_AUTH_SUCCESS], 1);
	ck_assert_uint_eq(sn->connect_ipv6, 2);
	ck_assert_uint_eq(sn->connect_ipv4, 1);
	ck_assert_uint_eq(sn->connect_fallback, 2);
	ck_assert_uint_eq(sn->connect_nat64, 1);
	ck_assert_uint_eq(sn->connect_failed, 2);
	ck_assert_uint_eq(sn->connect_ms[0][0], 1);
	ck_assert_uint_eq(sn->connect_ms[0][5], 1);
	ck_assert_uint_eq(sn->connect_ms[0][6], 1);
	ck_assert_uint_eq(sn->connect_ms[1][STATUS_CONNECT_BUCKETS - 1], 1);
	ck_assert_uint_eq(sn->connect_ms[1][0], 1);
	ck_assert_uint_eq(sn->connect_ms_sum[0], 506);
	ck_assert_uint_eq(sn->connect_ms_sum[1], 30001);
	/* Attempts: 1, 2, 2, 0, 17 */
	ck_assert_uint_eq(sn->attempts[0], 1);
	ck_assert_uint_eq(sn->attempts[1], 1);
	ck_assert_uint_eq(sn->attempts[2], 2);
	ck_assert_uint_eq(sn->attempts[STATUS_ATTEMPT_BUCKETS - 1], 1);
	ck_assert_uint_eq(sn->attempts_sum, 22);
	ck_assert_uint_eq(sn->dns[STATUS_DNS_LOCAL][STATUS_DNS_OK], 1);
	ck_assert_uint_eq(sn->dns[STATUS_DNS_CACHE][STATUS_DNS_NOT_FOUND], 1);
	ck_assert_uint_eq(sn->dns[STATUS_DNS_SERVER][STATUS_DNS_TIMEOUT], 1);
	ck_assert_uint_eq(sn->dns[STATUS_DNS_SERVER][STATUS_DNS_ERROR], 1);
	ck_assert_uint_eq(sn->udp_dgrams_up, 11);
	ck_assert_uint_eq(sn->udp_dgrams_down, 22);
	for (i = 0; i < STATUS_UDP_DROPS; i++)
		ck_assert_uint_eq(sn->udp_drops[i], drops[i] + (i == 0));
	free(sn);
	status_free(st);
}
END_TEST

START_TEST(unanswered_reasons)
{
	ck_assert_int_eq(status_unanswered_of("handshake-timeout"),
	    STATUS_UNANSWERED_HANDSHAKE_TIMEOUT);
	ck_assert_int_eq(status_unanswered_of("client-eof"),
	    STATUS_UNANSWERED_CLIENT_CLOSED);
	ck_assert_int_eq(status_unanswered_of("client-error"),
	    STATUS_UNANSWERED_CLIENT_CLOSED);
	ck_assert_int_eq(status_unanswered_of("bad-greeting"),
	    STATUS_UNANSWERED_PROTOCOL_ERROR);
	ck_assert_int_eq(status_unanswered_of("bad-auth-message"),
	    STATUS_UNANSWERED_PROTOCOL_ERROR);
	ck_assert_int_eq(status_unanswered_of("no-acceptable-method"),
	    STATUS_UNANSWERED_NO_ACCEPTABLE_METHOD);
	ck_assert_int_eq(status_unanswered_of("auth-throttled"),
	    STATUS_UNANSWERED_AUTH_THROTTLED);
	ck_assert_int_eq(status_unanswered_of("reload-deadline"),
	    STATUS_UNANSWERED_SHUTDOWN);
	ck_assert_int_eq(status_unanswered_of("shutdown"),
	    STATUS_UNANSWERED_SHUTDOWN);
	ck_assert_int_eq(status_unanswered_of("client-eo"),
	    STATUS_UNANSWERED_OTHER);
	ck_assert_int_eq(status_unanswered_of(""), STATUS_UNANSWERED_OTHER);
	ck_assert_int_eq(status_unanswered_of(NULL), STATUS_UNANSWERED_OTHER);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(status_refusal_name(STATUS_REFUSED_CLIENTS), "clients");
	ck_assert_str_eq(status_refusal_name(STATUS_REFUSED_MAX_SESSIONS),
	    "max_sessions");
	ck_assert_str_eq(status_refusal_name(
	    STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT), "max_sessions_per_client");
	ck_assert_str_eq(status_refusal_name(STATUS_REFUSED_USER_MAX_SESSIONS),
	    "user_max_sessions");
	ck_assert_str_eq(status_refusal_name(STATUS_REFUSED_ACCESS_RULE),
	    "access_rule");
	ck_assert_str_eq(status_refusal_name(STATUS_REFUSED_AUTH_FAILED),
	    "auth_failed");
	ck_assert_str_eq(status_refusal_name(STATUS_REFUSAL_COUNT), "unknown");
	ck_assert_ptr_null(status_new(0));
}
END_TEST

/* --- The socket ----------------------------------------------------------- */

static char sock_dir[64];
static char sock_path[96];

static void
sock_setup(void)
{
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/check_status.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sock_dir));
	snprintf(sock_path, sizeof(sock_path), "%s/status.sock", sock_dir);
}

static void
sock_teardown(void)
{
	unlink(sock_path);
	rmdir(sock_dir);
}

static int
sock_connect(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Run the server's side until `pred` holds or 200 rounds have passed. */
static void
serve(struct status_server *srv, int rounds)
{
	struct pollfd pfd[16];
	int i;

	for (i = 0; i < rounds; i++) {
		size_t n = status_server_pollfds(srv, pfd, 16);

		if (poll(pfd, n, 10) > 0)
			status_server_handle(srv, pfd, n);
	}
}

/* Read lines from fd (non-blocking reads while serving). */
static size_t
read_lines(struct status_server *srv, int fd, char *buf, size_t cap,
    int want_lines)
{
	size_t len = 0;
	int i, lines = 0;

	for (i = 0; i < 200 && lines < want_lines; i++) {
		ssize_t r;

		serve(srv, 1);
		r = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (r > 0) {
			size_t k;

			for (k = len; k < len + (size_t)r; k++)
				if (buf[k] == '\n')
					lines++;
			len += (size_t)r;
		} else if (r == 0) {
			break;
		}
	}
	buf[len] = '\0';
	return len;
}

START_TEST(socket_answers_lines)
{
	struct status *st = status_new(1);
	struct status_server *srv;
	char err[256], buf[65536];
	struct stat sb;
	size_t len;
	char *nl;
	int fd, fds = unit_open_fds();

	ck_assert_ptr_nonnull(st);
	srv = status_server_open(sock_path, st, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	ck_assert_str_eq(status_server_path(srv), sock_path);
	ck_assert_int_eq(stat(sock_path, &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);

	/* Two requests in one write: two answers. */
	fd = sock_connect();
	serve(srv, 2);
	ck_assert_int_eq(send(fd, "status\nstatus\n", 14, 0), 14);
	len = read_lines(srv, fd, buf, sizeof(buf), 2);
	nl = strchr(buf, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert(json_line_valid(buf, (size_t)(nl - buf) + 1) ||
	    !"first answer");
	ck_assert(json_line_valid(nl + 1, len - (size_t)(nl + 1 - buf)) ||
	    !"second answer");
	/* A last request without a newline, then EOF: answered, closed. */
	ck_assert_int_eq(send(fd, "x", 1, 0), 1);
	shutdown(fd, SHUT_WR);
	len = read_lines(srv, fd, buf, sizeof(buf), 1);
	ck_assert(json_line_valid(buf, len));
	close(fd);

	/* A live socket is not taken over by a second server. */
	ck_assert_ptr_null(status_server_open(sock_path, st, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "in use"));
	ck_assert_int_eq(unit_open_fds(), fds + 1);	/* the first server's */

	/* A request line longer than any request: the connection closes. */
	fd = sock_connect();
	serve(srv, 2);
	{
		char big[1024];

		memset(big, 'a', sizeof(big));
		ck_assert_int_eq(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	}
	len = read_lines(srv, fd, buf, sizeof(buf), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(unit_open_fds(), fds + 2);	/* listener, ours */
	close(fd);

	status_server_close(srv);
	ck_assert_int_eq(stat(sock_path, &sb), -1);
	ck_assert_int_eq(unit_open_fds(), fds);
	status_free(st);
}
END_TEST

START_TEST(socket_stale_and_wrong_files)
{
	struct status *st = status_new(1);
	struct status_server *srv;
	struct sockaddr_un sun;
	char err[256];
	int fd, fds = unit_open_fds();

	ck_assert_ptr_nonnull(st);
	/* A stale socket (nobody listens): replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	srv = status_server_open(sock_path, st, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	/* The fds go, the file stays (a forked worker). */
	status_server_forget(srv);
	ck_assert_int_eq(unit_open_fds(), fds);
	ck_assert_int_eq(access(sock_path, F_OK), 0);
	unlink(sock_path);

	/* A regular file is never removed. */
	fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_ptr_null(status_server_open(sock_path, st, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	ck_assert_int_eq(access(sock_path, F_OK), 0);
	unlink(sock_path);

	/* Too long a path. */
	{
		char lng[200];

		memset(lng, 'a', sizeof(lng) - 1);
		lng[0] = '/';
		lng[sizeof(lng) - 1] = '\0';
		ck_assert_ptr_null(status_server_open(lng, st, err,
		    sizeof(err)));
		ck_assert_ptr_nonnull(strstr(err, "too long"));
	}
	/* None of the refusals left anything open. */
	ck_assert_int_eq(unit_open_fds(), fds);
	status_server_close(NULL);
	status_server_forget(NULL);
	ck_assert_int_eq(status_server_pollfds(NULL, NULL, 0), 0);
	ck_assert_int_eq(status_server_timeout_ms(NULL), -1);
	status_free(st);
}
END_TEST

static Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("counters");
	TCase *ts = tcase_create("socket");

	tcase_add_test(tc, counts_from_a_worker);
	tcase_add_test(tc, slot_cleared_totals_stay);
	tcase_add_test(tc, survives_the_counting_process);
	tcase_add_test(tc, user_table_full);
	tcase_add_test(tc, json_escape);
	tcase_add_test(tc, odd_user_names_json);
	tcase_add_test(tc, hostile_region);
	tcase_add_test(tc, names);
	tcase_add_test(tc, snapshot_counts);
	tcase_add_test(tc, unanswered_reasons);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, sock_setup, sock_teardown);
	tcase_add_test(ts, socket_answers_lines);
	tcase_add_test(ts, socket_stale_and_wrong_files);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	return unit_run(status_suite(), NULL);
}
