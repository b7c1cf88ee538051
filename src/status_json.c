/* SPDX-License-Identifier: ISC */
/*
 * status_json.c - the status as text (see status.h): the JSON line that
 * the status socket answers with (status_json(), format in sockeyed(8)),
 * the summary that SIGUSR2 writes to the log (status_log_summary()), and
 * the names both use. Everything here only reads the mapping, through
 * status_int.h's bounded reads where a worker could make a value harmful.
 */
#include "config_auto.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "status.h"
#include "status_int.h"
#include "util.h"

static const char *const he_names[HE_COUNT] = {
	[HE_IPV6] = "ipv6",
	[HE_IPV4] = "ipv4",
	[HE_FALLBACK] = "fallback",
	[HE_NAT64] = "nat64",
	[HE_FAILED] = "failed",
};

static const char *const refusal_names[STATUS_REFUSAL_COUNT] = {
	[STATUS_REFUSED_CLIENTS] = "clients",
	[STATUS_REFUSED_MAX_SESSIONS] = "max_sessions",
	[STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT] = "max_sessions_per_client",
	[STATUS_REFUSED_USER_MAX_SESSIONS] = "user_max_sessions",
	[STATUS_REFUSED_ACCESS_RULE] = "access_rule",
	[STATUS_REFUSED_AUTH_FAILED] = "auth_failed",
	[STATUS_REFUSED_COMMAND] = "command",
	[STATUS_REFUSED_PROXY_UNTRUSTED] = "proxy_untrusted",
	[STATUS_REFUSED_PROXY_HEADER] = "proxy_header",
};

static const char *const cmd_names[STATUS_CMD_COUNT] = {
	[STATUS_CMD_CONNECT] = "connect",
	[STATUS_CMD_BIND] = "bind",
	[STATUS_CMD_UDP_ASSOCIATE] = "udp_associate",
	[STATUS_CMD_NONE] = "none",
};

static const char *const state_names[] = {
	[STATUS_WORKER_FREE] = "free",
	[STATUS_WORKER_STARTING] = "starting",
	[STATUS_WORKER_RUNNING] = "running",
	[STATUS_WORKER_DRAINING] = "draining",
	[STATUS_WORKER_STOPPING] = "stopping",
};

const char *
status_refusal_name(enum status_refusal reason)
{
	if ((unsigned)reason >= STATUS_REFUSAL_COUNT)
		return "unknown";
	return refusal_names[reason];
}

const char *
status_cmd_name(enum status_cmd cmd)
{
	if ((unsigned)cmd >= STATUS_CMD_COUNT)
		return "unknown";
	return cmd_names[cmd];
}

const char *
status_worker_state_name(enum status_worker_state state)
{
	if ((unsigned)state >= ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[state];
}

size_t
status_json_escape(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n = 0, k;
		uint32_t cp;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
			i++;
			continue;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		/* A whole, shortest-form UTF-8 sequence, or U+FFFD. */
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			cp = 0;
		}
		if (n == 0 || i + n > len)
			goto bad;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
		continue;
bad:
		memcpy(out + o, "\xef\xbf\xbd", 3);	/* U+FFFD */
		o += 3;
		i++;
	}
	out[o] = '\0';
	return o;
}

/* A growing string; `failed` once an allocation failed. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) PRINTF_FMT(2, 3);

static bool
sbuf_reserve(struct sbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap != 0 ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
sbuf_json_string(struct sbuf *b, const char *s, size_t len)
{
	if (!sbuf_reserve(b, 6 * len + 2))
		return;
	b->p[b->len++] = '"';
	b->len += status_json_escape(b->p + b->len, s, len);
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

/* `"name":value` for each of `n` counters, separated by commas. */
static void
sbuf_counters(struct sbuf *b, const char *const *names, const uint64_t *v,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sbuf_printf(b, "%s\"%s\":%" PRIu64, i == 0 ? "" : ",", names[i],
		    LOAD(&v[i]));
}

char *
status_json(const struct status *st, size_t *len)
{
	const struct status_hdr *h = st->hdr;
	char name[STATUS_USER_MAX + 1];
	struct sbuf b = { 0 };
	uint64_t active = 0;
	const char *sep;
	size_t i;
	int k;

	sbuf_printf(&b, "{\"version\":\"%s\",\"pid\":%ld,\"uptime_s\":%" PRIu64
	    ",\"started\":%" PRId64 ",\"generation\":%u,\"reloads\":%" PRIu64
	    ",\"worker_deaths\":%" PRIu64 ",\"workers\":[", PACKAGE_VERSION,
	    (long)getpid(), status_uptime_s(st), st->start_wall,
	    LOAD(&h->generation), LOAD(&h->reloads), LOAD(&h->worker_deaths));
	sep = "";
	for (k = 0; k < st->nslots; k++) {
		const struct status_slot *s = status_slot_at(st, k);
		uint32_t state = LOAD(&s->state);
		uint64_t a = LOAD(&s->active);

		if (state == STATUS_WORKER_FREE || state >= ARRAY_SIZE(state_names))
			continue;
		active = status_add_sat(active, a);
		sbuf_printf(&b, "%s{\"slot\":%d,\"pid\":%ld,\"generation\":%u,"
		    "\"state\":\"%s\",\"sessions\":%" PRIu64 ",\"accepted\":%"
		    PRIu64 ",\"uptime_s\":%" PRIu64 "}", sep, k,
		    (long)LOAD(&s->pid), LOAD(&s->gen), state_names[state], a,
		    LOAD(&s->accepted), status_slot_uptime_s(st, s));
		sep = ",";
	}
	sbuf_printf(&b, "],\"sessions\":{\"active\":%" PRIu64 ",\"total\":%"
	    PRIu64 ",\"ended\":%" PRIu64 ",", active, LOAD(&h->accepted),
	    LOAD(&h->ended));
	sbuf_counters(&b, cmd_names, h->cmd, STATUS_CMD_COUNT);
	sbuf_printf(&b, "},\"bytes\":{\"up\":%" PRIu64 ",\"down\":%" PRIu64
	    "},\"users\":{", LOAD(&h->bytes_up), LOAD(&h->bytes_down));
	sep = "";
	for (i = 0; i <= USER_CAP; i++) {
		const struct status_user *u = &h->users[i];

		if (!status_user_listed(st, i))
			continue;
		sbuf_printf(&b, "%s", sep);
		sbuf_json_string(&b, name, status_user_name(u, name));
		sbuf_printf(&b, ":{\"sessions\":%" PRIu64 ",\"active\":%"
		    PRIu64 ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
		    "}", LOAD(&u->sessions), status_user_active(st, i),
		    LOAD(&u->bytes_up), LOAD(&u->bytes_down));
		sep = ",";
	}
	sbuf_printf(&b, "},\"refused\":{");
	sbuf_counters(&b, refusal_names, h->refused, STATUS_REFUSAL_COUNT);
	sbuf_printf(&b, "},\"happy_eyeballs\":{");
	sbuf_counters(&b, he_names, h->he, HE_COUNT);
	sbuf_printf(&b, "}}\n");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* Users named in the SIGUSR2 summary; the rest are only counted. */
#define SUMMARY_USERS 100

/* "name value" for each of `n` counters, separated by ", ", in `line`. */
static void
summary_counters(char *line, size_t size, const char *const *names,
    const uint64_t *v, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(line + len, size - len, "%s%s %" PRIu64,
		    i == 0 ? "" : ", ", names[i], LOAD(&v[i]));
}

void
status_log_summary(const struct status *st)
{
	const struct status_hdr *h = st->hdr;
	char line[512], name[6 * 64 + 1], raw[STATUS_USER_MAX + 1];
	uint64_t active = 0;
	size_t i, len, shown = 0, more = 0;
	int k;

	for (k = 0; k < st->nslots; k++)
		if (LOAD(&status_slot_at(st, k)->state) != STATUS_WORKER_FREE)
			active = status_add_sat(active,
			    LOAD(&status_slot_at(st, k)->active));
	logit("status: up %" PRIu64 " s, generation %u, %" PRIu64 " reloads, %"
	    PRIu64 " worker deaths; sessions: %" PRIu64 " open, %" PRIu64
	    " since start, %" PRIu64 " ended; bytes up %" PRIu64 " down %"
	    PRIu64, status_uptime_s(st), LOAD(&h->generation),
	    LOAD(&h->reloads), LOAD(&h->worker_deaths), active,
	    LOAD(&h->accepted), LOAD(&h->ended), LOAD(&h->bytes_up),
	    LOAD(&h->bytes_down));
	for (k = 0; k < st->nslots; k++) {
		const struct status_slot *s = status_slot_at(st, k);
		uint32_t state = LOAD(&s->state);

		if (state == STATUS_WORKER_FREE || state >= ARRAY_SIZE(state_names))
			continue;
		logit("status: worker %d pid %ld generation %u %s: %" PRIu64
		    " sessions open, %" PRIu64 " since its start", k,
		    (long)LOAD(&s->pid), LOAD(&s->gen), state_names[state],
		    LOAD(&s->active), LOAD(&s->accepted));
	}
	summary_counters(line, sizeof(line), cmd_names, h->cmd,
	    STATUS_CMD_COUNT);
	logit("status: ended sessions per command: %s", line);
	for (i = 0; i <= USER_CAP; i++) {
		const struct status_user *u = &h->users[i];

		if (!status_user_listed(st, i))
			continue;
		if (shown == SUMMARY_USERS) {
			more++;
			continue;
		}
		shown++;
		/* Log-safe: the JSON escaping of at most 64 bytes of it. */
		len = status_user_name(u, raw);
		status_json_escape(name, raw, len < 64 ? len : 64);
		logit("status: user \"%s\": %" PRIu64 " open, %" PRIu64
		    " since start, bytes up %" PRIu64 " down %" PRIu64, name,
		    status_user_active(st, i), LOAD(&u->sessions),
		    LOAD(&u->bytes_up), LOAD(&u->bytes_down));
	}
	if (more > 0)
		logit("status: and %zu more users (see the status socket)", more);
	summary_counters(line, sizeof(line), refusal_names, h->refused,
	    STATUS_REFUSAL_COUNT);
	logit("status: refused: %s", line);
	summary_counters(line, sizeof(line), he_names, h->he, HE_COUNT);
	logit("status: happy eyeballs: %s", line);
}

