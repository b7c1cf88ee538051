/* SPDX-License-Identifier: ISC */
/*
 * metrics.c - the status counters as Prometheus text (see metrics.h).
 *
 * Names follow Prometheus' conventions: the sockeye_ prefix, base units
 * (seconds, bytes), _total on counters, labels with a fixed, small set
 * of values each. Every series is written even at 0, so that a rate()
 * or an alert sees it from the first scrape on; the only ones written
 * only when not 0 are reply codes no server sends (9 to 255). The text
 * is a function of the snapshot alone, so the tests can hold it to an
 * exact expected text.
 */
#include "config_auto.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "status.h"
#include "udp.h"
#include "util.h"

/* Reply codes RFC 1928 defines (0 to 8): always written. */
#define REPLY_DEFINED 9

/* The text being written: `full` once something did not fit. */
struct mtext {
	char *buf;
	size_t cap, len;
	bool full;
};

static void mt_printf(struct mtext *t, const char *fmt, ...) PRINTF_FMT(2, 3);

static void
mt_printf(struct mtext *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len) {
		t->full = true;
		return;
	}
	t->len += (size_t)n;
}

/* "# HELP" and "# TYPE" of a family (help: no '\\' or newline). */
static void
mt_family(struct mtext *t, const char *name, const char *type,
    const char *help)
{
	mt_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A sample of a family without labels. */
static void
mt_plain(struct mtext *t, const char *name, uint64_t v)
{
	mt_printf(t, "%s %" PRIu64 "\n", name, v);
}

/* A sample with one label. */
static void
mt_one(struct mtext *t, const char *name, const char *label,
    const char *value, uint64_t v)
{
	mt_printf(t, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, value, v);
}

/* A whole family with one label over `n` values. */
static void
mt_labelled(struct mtext *t, const char *name, const char *type,
    const char *help, const char *label, const char *const *values,
    const uint64_t *v, size_t n)
{
	size_t i;

	mt_family(t, name, type, help);
	for (i = 0; i < n; i++)
		mt_one(t, name, label, values[i], v[i]);
}

/*
 * A label value as the text format wants it: '\\', '"' and newline
 * escaped. `out` holds 2 * len + 1 bytes.
 */
static void
label_escape(char *out, const char *s)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* Milliseconds as seconds: "0.005", "2.5", "30". */
static void
ms_seconds(char *out, size_t cap, uint64_t ms)
{
	char frac[8];
	size_t n;

	if (ms % 1000 == 0) {
		snprintf(out, cap, "%" PRIu64, ms / 1000);
		return;
	}
	snprintf(frac, sizeof(frac), "%03u", (unsigned)(ms % 1000));
	for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(out, cap, "%" PRIu64 ".%s", ms / 1000, frac);
}

/*
 * One histogram's series: the cumulative buckets (bounds `le`, as text,
 * n - 1 of them, then +Inf), the sum (as text) and the count. `label`
 * is "" or `name="value",` to go first.
 */
static void
mt_histogram(struct mtext *t, const char *name, const char *label,
    const char *const *le, const uint64_t *bucket, size_t n, const char *sum)
{
	uint64_t cum = 0;
	size_t i, ll = strlen(label);

	for (i = 0; i < n; i++) {
		cum = cum + bucket[i] < cum ? UINT64_MAX : cum + bucket[i];
		mt_printf(t, "%s_bucket{%sle=\"%s\"} %" PRIu64 "\n", name, label,
		    i + 1 < n ? le[i] : "+Inf", cum);
	}
	/* "result=\"x\"," becomes "{result=\"x\"}" for the sum and count. */
	if (ll > 0) {
		mt_printf(t, "%s_sum{%.*s} %s\n", name, (int)(ll - 1), label,
		    sum);
		mt_printf(t, "%s_count{%.*s} %" PRIu64 "\n", name,
		    (int)(ll - 1), label, cum);
	} else {
		mt_printf(t, "%s_sum %s\n%s_count %" PRIu64 "\n", name, sum,
		    name, cum);
	}
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static const char *const unanswered_names[STATUS_UNANSWERED_COUNT] = {
	[STATUS_UNANSWERED_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[STATUS_UNANSWERED_CLIENT_CLOSED] = "client_closed",
	[STATUS_UNANSWERED_PROTOCOL_ERROR] = "protocol_error",
	[STATUS_UNANSWERED_NO_ACCEPTABLE_METHOD] = "no_acceptable_method",
	[STATUS_UNANSWERED_AUTH_FAILED] = "auth_failed",
	[STATUS_UNANSWERED_AUTH_THROTTLED] = "auth_throttled",
	[STATUS_UNANSWERED_SHUTDOWN] = "shutdown",
	[STATUS_UNANSWERED_OTHER] = "other",
};

/* Refusals made before a session exists: closed without a word. */
static const enum status_refusal refused_at_accept[] = {
	STATUS_REFUSED_CLIENTS,
	STATUS_REFUSED_MAX_SESSIONS,
	STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT,
	STATUS_REFUSED_PROXY_UNTRUSTED,
	STATUS_REFUSED_PROXY_HEADER,
};

static const char *const auth_methods[STATUS_AUTH_METHODS] = {
	[STATUS_AUTH_NONE] = "none",
	[STATUS_AUTH_PASSWORD] = "password",
	[STATUS_AUTH_CHAP] = "chap",
	[STATUS_AUTH_GSSAPI] = "gssapi",
};

static const char *const auth_results[STATUS_AUTH_RESULTS] = {
	[STATUS_AUTH_SUCCESS] = "success",
	[STATUS_AUTH_FAILURE] = "failure",
	[STATUS_AUTH_THROTTLED] = "throttled",
};

static const char *const dns_sources[STATUS_DNS_SOURCES] = {
	[STATUS_DNS_LOCAL] = "local",
	[STATUS_DNS_CACHE] = "cache",
	[STATUS_DNS_SERVER] = "server",
};

static const char *const dns_failures[STATUS_DNS_RESULTS] = {
	[STATUS_DNS_OK] = NULL,
	[STATUS_DNS_NOT_FOUND] = "not_found",
	[STATUS_DNS_TIMEOUT] = "timeout",
	[STATUS_DNS_ERROR] = "error",
};

_Static_assert(UDP_DROP_MAX == STATUS_UDP_DROPS, "a name for every drop");

static void
format_process(struct mtext *t, const struct status_snapshot *s)
{
	char version[2 * sizeof(PACKAGE_VERSION) + 1];
	int k;

	label_escape(version, PACKAGE_VERSION);
	mt_family(t, "sockeye_build_info", "gauge",
	    "Always 1: the version of sockeyed is in the label.");
	mt_one(t, "sockeye_build_info", "version", version, 1);
	mt_family(t, "sockeye_start_time_seconds", "gauge",
	    "When the master process started, in seconds since the epoch.");
	mt_printf(t, "sockeye_start_time_seconds %" PRId64 "\n",
	    s->start_wall);
	mt_family(t, "sockeye_generation", "gauge",
	    "The generation of workers that accepts connections: 1 at start, "
	    "one more per successful reload.");
	mt_plain(t, "sockeye_generation", s->generation);
	mt_family(t, "sockeye_reloads_total", "counter",
	    "Successful reloads.");
	mt_plain(t, "sockeye_reloads_total", s->reloads);
	mt_family(t, "sockeye_worker_deaths_total", "counter",
	    "Workers that died without being asked to (each one replaced).");
	mt_plain(t, "sockeye_worker_deaths_total", s->worker_deaths);
	mt_family(t, "sockeye_workers", "gauge",
	    "Worker processes by state: starting, running (accepting), "
	    "draining (a generation a reload retired), stopping.");
	for (k = STATUS_WORKER_STARTING; k < STATUS_WORKER_STATES; k++)
		mt_one(t, "sockeye_workers", "state",
		    status_worker_state_name((enum status_worker_state)k),
		    s->workers[k]);
}

static void
format_sessions(struct mtext *t, const struct status_snapshot *s)
{
	size_t i;
	int c, r;

	mt_family(t, "sockeye_sessions_active", "gauge",
	    "Sessions open now, in all workers.");
	mt_plain(t, "sockeye_sessions_active", s->active);
	mt_family(t, "sockeye_sessions_started_total", "counter",
	    "Connections accepted as sessions (admitted by clients and the "
	    "session limits).");
	mt_plain(t, "sockeye_sessions_started_total", s->accepted);
	mt_family(t, "sockeye_sessions_total", "counter",
	    "Sessions that ended after a reply to their request, by command "
	    "(none: no valid request) and reply code (REP, the access log's "
	    "rep=).");
	for (c = 0; c < STATUS_CMD_COUNT; c++)
		for (r = 0; r < STATUS_REPLY_CODES; r++)
			if (r < REPLY_DEFINED || s->replies[c][r] != 0)
				mt_printf(t, "sockeye_sessions_total{command="
				    "\"%s\",reply=\"%d\"} %" PRIu64 "\n",
				    status_cmd_name((enum status_cmd)c), r,
				    s->replies[c][r]);
	mt_family(t, "sockeye_connections_unanswered_total", "counter",
	    "Connections closed without a reply to a request, by reason: "
	    "refused before a byte was read, or ended in the handshake or "
	    "before the command's reply.");
	for (i = 0; i < ARRAY_SIZE(refused_at_accept); i++)
		mt_one(t, "sockeye_connections_unanswered_total", "reason",
		    status_refusal_name(refused_at_accept[i]),
		    s->refused[refused_at_accept[i]]);
	for (i = 0; i < STATUS_UNANSWERED_COUNT; i++)
		mt_one(t, "sockeye_connections_unanswered_total", "reason",
		    unanswered_names[i], s->unanswered[i]);
	mt_family(t, "sockeye_refusals_total", "counter",
	    "Connections and requests turned away, by reason.");
	for (i = 0; i < STATUS_REFUSAL_COUNT; i++)
		mt_one(t, "sockeye_refusals_total", "reason",
		    status_refusal_name((enum status_refusal)i), s->refused[i]);
	mt_family(t, "sockeye_relayed_bytes_total", "counter",
	    "Payload bytes relayed by the sessions that have ended: up from "
	    "clients to destinations, down the other way.");
	mt_one(t, "sockeye_relayed_bytes_total", "direction", "up",
	    s->bytes_up);
	mt_one(t, "sockeye_relayed_bytes_total", "direction", "down",
	    s->bytes_down);
	mt_family(t, "sockeye_authentications_total", "counter",
	    "Authentications by method and result (throttled: closed "
	    "unchecked, too many attempts from the source).");
	for (c = 0; c < STATUS_AUTH_METHODS; c++)
		for (r = 0; r < STATUS_AUTH_RESULTS; r++)
			mt_printf(t, "sockeye_authentications_total{method="
			    "\"%s\",result=\"%s\"} %" PRIu64 "\n",
			    auth_methods[c], auth_results[r], s->auth[c][r]);
}

static void
format_connect(struct mtext *t, const struct status_snapshot *s)
{
	const char *le[STATUS_CONNECT_BUCKETS - 1];
	char le_text[STATUS_CONNECT_BUCKETS - 1][16], sum[32];
	char at_text[STATUS_ATTEMPT_BUCKETS - 1][16];
	const char *at[STATUS_ATTEMPT_BUCKETS - 1];
	size_t i;
	int k;

	mt_family(t, "sockeye_connect_successes_total", "counter",
	    "CONNECTs that reached their destination, by the address family "
	    "of the connection made.");
	mt_one(t, "sockeye_connect_successes_total", "family", "ipv4",
	    s->connect_ipv4);
	mt_one(t, "sockeye_connect_successes_total", "family", "ipv6",
	    s->connect_ipv6);
	mt_family(t, "sockeye_connect_failures_total", "counter",
	    "CONNECTs that reached no address.");
	mt_plain(t, "sockeye_connect_failures_total", s->connect_failed);
	mt_family(t, "sockeye_connect_fallbacks_total", "counter",
	    "CONNECTs that connected after more than one attempt (the first "
	    "address failed or was slower than connect.attempt_delay_ms).");
	mt_plain(t, "sockeye_connect_fallbacks_total", s->connect_fallback);
	mt_family(t, "sockeye_connect_nat64_total", "counter",
	    "CONNECTs to an IPv4 destination made through NAT64.");
	mt_plain(t, "sockeye_connect_nat64_total", s->connect_nat64);

	for (i = 0; i < STATUS_CONNECT_BUCKETS - 1; i++) {
		ms_seconds(le_text[i], sizeof(le_text[i]),
		    status_connect_le_ms[i]);
		le[i] = le_text[i];
	}
	mt_family(t, "sockeye_connect_duration_seconds", "histogram",
	    "Time from a CONNECT's request to its connection or failure "
	    "(lookups and every attempt included).");
	for (k = 0; k < 2; k++) {
		ms_seconds(sum, sizeof(sum), s->connect_ms_sum[k]);
		mt_histogram(t, "sockeye_connect_duration_seconds",
		    k == 0 ? "result=\"success\"," : "result=\"failure\",", le,
		    s->connect_ms[k], STATUS_CONNECT_BUCKETS, sum);
	}
	for (i = 0; i < STATUS_ATTEMPT_BUCKETS - 1; i++) {
		snprintf(at_text[i], sizeof(at_text[i]), "%u",
		    (unsigned)status_attempts_le[i]);
		at[i] = at_text[i];
	}
	mt_family(t, "sockeye_connect_attempts", "histogram",
	    "Connection attempts started per CONNECT.");
	snprintf(sum, sizeof(sum), "%" PRIu64, s->attempts_sum);
	mt_histogram(t, "sockeye_connect_attempts", "", at, s->attempts,
	    STATUS_ATTEMPT_BUCKETS, sum);
}

static void
format_dns_udp(struct mtext *t, const struct status_snapshot *s)
{
	uint64_t v;
	int i, k;

	mt_family(t, "sockeye_dns_lookups_total", "counter",
	    "Name lookups answered, by where: local (hosts file, localhost), "
	    "cache (the worker's cache of DNS answers), server (DNS).");
	for (i = 0; i < STATUS_DNS_SOURCES; i++) {
		for (v = 0, k = 0; k < STATUS_DNS_RESULTS; k++)
			v = sat_add(v, s->dns[i][k]);
		mt_one(t, "sockeye_dns_lookups_total", "source", dns_sources[i],
		    v);
	}
	mt_family(t, "sockeye_dns_failures_total", "counter",
	    "Name lookups that gave no address, by reason.");
	for (k = STATUS_DNS_NOT_FOUND; k < STATUS_DNS_RESULTS; k++) {
		for (v = 0, i = 0; i < STATUS_DNS_SOURCES; i++)
			v = sat_add(v, s->dns[i][k]);
		mt_one(t, "sockeye_dns_failures_total", "reason",
		    dns_failures[k], v);
	}
	mt_family(t, "sockeye_udp_datagrams_total", "counter",
	    "Datagrams relayed by the UDP associations that have ended: up "
	    "to destinations, down to clients.");
	mt_one(t, "sockeye_udp_datagrams_total", "direction", "up",
	    s->udp_dgrams_up);
	mt_one(t, "sockeye_udp_datagrams_total", "direction", "down",
	    s->udp_dgrams_down);
	mt_labelled(t, "sockeye_udp_datagrams_dropped_total", "counter",
	    "Datagrams the UDP associations that have ended did not relay, "
	    "by reason (the access log's drops=).", "reason", udp_drop_names,
	    s->udp_drops, STATUS_UDP_DROPS);
}

size_t
metrics_format(const struct status_snapshot *snap, char *buf, size_t cap)
{
	struct mtext t = { .buf = buf, .cap = cap };
	char *nl;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	format_process(&t, snap);
	format_sessions(&t, snap);
	format_connect(&t, snap);
	format_dns_udp(&t, snap);
	if (!t.full)
		return t.len;
	/* Cut short, at a line's end. */
	buf[t.len] = '\0';
	nl = strrchr(buf, '\n');
	buf[nl != NULL ? (size_t)(nl - buf) + 1 : 0] = '\0';
	return 0;
}

size_t
metrics_render(const struct status *st, char *buf, size_t cap)
{
	struct status_snapshot snap;

	status_snapshot(st, &snap);
	return metrics_format(&snap, buf, cap);
}
