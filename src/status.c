/*
 * status.c - see status.h.
 *
 * Layout of the shared mapping:
 *
 *   struct status_hdr (totals, the user table) | slot 0 | ... | slot n-1
 *
 * Totals and the user table's counters have many writers and use atomic
 * read-modify-write operations. A slot has one writer (its worker, or the
 * master while no worker owns it) and uses relaxed loads and stores, so a
 * reader sees values that were true at some moment.
 *
 * The user table is open addressing over USER_CAP entries, twice the
 * names it accepts, so probes stay short. An entry goes EMPTY -> CLAIMED
 * (compare-and-swap by the worker that adds the name) -> READY (after the
 * name is written, with release order) and never back: the table counts
 * since start. A reader that meets a CLAIMED entry waits a bounded while
 * for it to become READY; an entry left CLAIMED by a worker killed in
 * those few instructions is skipped for good.
 */
#include "config_auto.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "socks5.h"
#include "status.h"

#define USER_CAP (2 * STATUS_MAX_USERS)	/* entries; power of two */
#define USER_OTHER USER_CAP			/* index of the "(other)" entry */
/* How long a reader waits for a CLAIMED entry (yields). */
#define CLAIM_SPINS 1000

enum user_state {
	USER_EMPTY = 0,
	USER_CLAIMED,
	USER_READY,
};

enum he_outcome {
	HE_IPV6 = 0,
	HE_IPV4,
	HE_FALLBACK,
	HE_NAT64,
	HE_FAILED,
	HE_COUNT
};

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

struct status_user {
	uint32_t state;			/* enum user_state */
	uint32_t len;
	uint64_t sessions;		/* logins since start */
	uint64_t bytes_up;		/* of the sessions that ended */
	uint64_t bytes_down;
	char name[STATUS_USER_MAX + 1];
};

struct status_hdr {
	uint64_t start_ms;		/* util_now_ms() at status_new() */
	int64_t start_wall;		/* time(NULL) then */
	uint32_t generation;
	uint32_t nusers;		/* READY or CLAIMED entries */
	uint64_t reloads;
	uint64_t worker_deaths;
	uint64_t accepted;
	uint64_t ended;
	uint64_t cmd[STATUS_CMD_COUNT];
	uint64_t bytes_up;
	uint64_t bytes_down;
	uint64_t refused[STATUS_REFUSAL_COUNT];
	uint64_t he[HE_COUNT];
	struct status_user users[USER_CAP + 1];	/* + "(other)" */
};

struct status_slot {
	int32_t pid;
	uint32_t gen;
	uint32_t state;			/* enum status_worker_state */
	uint32_t pad;
	uint64_t started_ms;
	uint64_t active;		/* sessions open now */
	uint64_t accepted;		/* since this worker started */
	uint32_t uactive[USER_CAP + 1];	/* open sessions per user entry */
};

struct status {
	uint64_t start_ms;		/* the master's own copies: workers */
	int64_t start_wall;		/* can write the mapping's */
	size_t map_len;
	int nslots;
	size_t slot_len;
	struct status_hdr *hdr;
	uint8_t *slots;
};

/* The worker's own view (status_attach()). */
static struct status *self;
static int self_slot = -1;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))

static struct status_slot *
slot_at(const struct status *st, int slot)
{
	return (struct status_slot *)(void *)(st->slots +
	    (size_t)slot * st->slot_len);
}

struct status *
status_new(int nslots)
{
	struct status *st;
	size_t hdr_len, len;
	void *map;

	if (nslots <= 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	hdr_len = (sizeof(struct status_hdr) + 63) & ~(size_t)63;
	st->slot_len = (sizeof(struct status_slot) + 63) & ~(size_t)63;
	st->nslots = nslots;
	len = hdr_len + st->slot_len * (size_t)nslots;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		free(st);
		return NULL;
	}
	st->map_len = len;
	st->hdr = map;
	st->slots = (uint8_t *)map + hdr_len;
	st->start_ms = st->hdr->start_ms = util_now_ms();
	st->start_wall = st->hdr->start_wall = (int64_t)time(NULL);
	st->hdr->generation = 1;
	memcpy(st->hdr->users[USER_OTHER].name, STATUS_OTHER_USERS,
	    sizeof(STATUS_OTHER_USERS));
	st->hdr->users[USER_OTHER].len = sizeof(STATUS_OTHER_USERS) - 1;
	st->hdr->users[USER_OTHER].state = USER_READY;
	return st;
}

void
status_free(struct status *st)
{
	if (st == NULL)
		return;
	if (self == st) {
		self = NULL;
		self_slot = -1;
	}
	munmap(st->hdr, st->map_len);
	free(st);
}

/* --- Master ------------------------------------------------------------ */

void
status_set_generation(struct status *st, unsigned gen)
{
	STORE(&st->hdr->generation, (uint32_t)gen);
}

void
status_count_reload(struct status *st)
{
	ADD(&st->hdr->reloads, 1);
}

void
status_count_worker_death(struct status *st)
{
	ADD(&st->hdr->worker_deaths, 1);
}

void
status_slot_clear(struct status *st, int slot)
{
	if (slot < 0 || slot >= st->nslots)
		return;
	memset(slot_at(st, slot), 0, st->slot_len);
}

void
status_slot_start(struct status *st, int slot, unsigned gen)
{
	struct status_slot *s;

	if (slot < 0 || slot >= st->nslots)
		return;
	status_slot_clear(st, slot);
	s = slot_at(st, slot);
	STORE(&s->gen, (uint32_t)gen);
	STORE(&s->started_ms, util_now_ms());
	STORE(&s->state, (uint32_t)STATUS_WORKER_STARTING);
}

void
status_slot_set_state(struct status *st, int slot,
    enum status_worker_state state)
{
	if (slot < 0 || slot >= st->nslots)
		return;
	STORE(&slot_at(st, slot)->state, (uint32_t)state);
}

/* --- The user table ---------------------------------------------------- */

static uint32_t
name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

/* Wait (bounded) for a CLAIMED entry; its state afterwards. */
static uint32_t
user_settle(struct status_user *u)
{
	uint32_t state = __atomic_load_n(&u->state, __ATOMIC_ACQUIRE);
	int i;

	for (i = 0; state == USER_CLAIMED && i < CLAIM_SPINS; i++) {
		sched_yield();
		state = __atomic_load_n(&u->state, __ATOMIC_ACQUIRE);
	}
	return state;
}

/*
 * The index of `name`'s entry, adding it when `add` and there is room;
 * USER_OTHER when it is not (and cannot be) in the table.
 */
static size_t
user_index(struct status_hdr *h, const char *name, bool add)
{
	size_t len = strlen(name), i, n;

	if (len == 0 || len > STATUS_USER_MAX)
		return USER_OTHER;
	i = name_hash(name, len) & (USER_CAP - 1);
	for (n = 0; n < USER_CAP; n++, i = (i + 1) & (USER_CAP - 1)) {
		struct status_user *u = &h->users[i];
		uint32_t state = user_settle(u);

		if (state == USER_EMPTY) {
			uint32_t expect = USER_EMPTY;

			if (!add)
				return USER_OTHER;
			/* Room for STATUS_MAX_USERS names: probes stay short. */
			if (__atomic_fetch_add(&h->nusers, 1, __ATOMIC_RELAXED) >=
			    STATUS_MAX_USERS) {
				__atomic_fetch_sub(&h->nusers, 1, __ATOMIC_RELAXED);
				return USER_OTHER;
			}
			if (__atomic_compare_exchange_n(&u->state, &expect,
			    USER_CLAIMED, false, __ATOMIC_ACQ_REL,
			    __ATOMIC_ACQUIRE)) {
				memcpy(u->name, name, len);
				u->name[len] = '\0';
				u->len = (uint32_t)len;
				__atomic_store_n(&u->state, USER_READY,
				    __ATOMIC_RELEASE);
				return i;
			}
			/* Another worker took it first: look at it again. */
			__atomic_fetch_sub(&h->nusers, 1, __ATOMIC_RELAXED);
			state = user_settle(u);
		}
		if (state == USER_READY && u->len == len &&
		    memcmp(u->name, name, len) == 0)
			return i;
	}
	return USER_OTHER;
}

/* --- Worker ------------------------------------------------------------ */

void
status_attach(struct status *st, int slot)
{
	self = st;
	self_slot = st != NULL && slot >= 0 && slot < st->nslots ? slot : -1;
	if (self_slot == -1) {
		self = NULL;
		return;
	}
	STORE(&slot_at(st, slot)->pid, (int32_t)getpid());
}

void
status_session_opened(void)
{
	struct status_slot *s;

	if (self == NULL)
		return;
	s = slot_at(self, self_slot);
	STORE(&s->active, LOAD(&s->active) + 1);
	STORE(&s->accepted, LOAD(&s->accepted) + 1);
	ADD(&self->hdr->accepted, 1);
}

void
status_session_closed(void)
{
	struct status_slot *s;
	uint64_t a;

	if (self == NULL)
		return;
	s = slot_at(self, self_slot);
	a = LOAD(&s->active);
	if (a > 0)
		STORE(&s->active, a - 1);
}

void
status_user_login(const char *user)
{
	struct status_slot *s;
	size_t i;

	if (self == NULL || user == NULL)
		return;
	i = user_index(self->hdr, user, true);
	ADD(&self->hdr->users[i].sessions, 1);
	s = slot_at(self, self_slot);
	STORE(&s->uactive[i], LOAD(&s->uactive[i]) + 1);
}

void
status_session_end(int socks_cmd, const char *user, uint64_t bytes_up,
    uint64_t bytes_down)
{
	enum status_cmd cmd;
	struct status_hdr *h;

	if (self == NULL)
		return;
	h = self->hdr;
	switch (socks_cmd) {
	case SOCKS5_CMD_CONNECT:
		cmd = STATUS_CMD_CONNECT;
		break;
	case SOCKS5_CMD_BIND:
		cmd = STATUS_CMD_BIND;
		break;
	case SOCKS5_CMD_UDP_ASSOCIATE:
		cmd = STATUS_CMD_UDP_ASSOCIATE;
		break;
	default:
		cmd = STATUS_CMD_NONE;
		break;
	}
	ADD(&h->ended, 1);
	ADD(&h->cmd[cmd], 1);
	ADD(&h->bytes_up, bytes_up);
	ADD(&h->bytes_down, bytes_down);
	if (user != NULL) {
		struct status_slot *s = slot_at(self, self_slot);
		size_t i = user_index(h, user, false);
		uint32_t a = LOAD(&s->uactive[i]);

		ADD(&h->users[i].bytes_up, bytes_up);
		ADD(&h->users[i].bytes_down, bytes_down);
		if (a > 0)
			STORE(&s->uactive[i], a - 1);
	}
}

void
status_count_refusal(enum status_refusal reason)
{
	if (self == NULL || (unsigned)reason >= STATUS_REFUSAL_COUNT)
		return;
	ADD(&self->hdr->refused[reason], 1);
}

void
status_count_connect(bool connected, int family, int attempts, bool nat64)
{
	struct status_hdr *h;

	if (self == NULL)
		return;
	h = self->hdr;
	if (!connected) {
		ADD(&h->he[HE_FAILED], 1);
		return;
	}
	if (family == AF_INET6)
		ADD(&h->he[HE_IPV6], 1);
	else
		ADD(&h->he[HE_IPV4], 1);
	if (attempts > 1)
		ADD(&h->he[HE_FALLBACK], 1);
	if (nat64)
		ADD(&h->he[HE_NAT64], 1);
}

const char *
status_refusal_name(enum status_refusal reason)
{
	if ((unsigned)reason >= STATUS_REFUSAL_COUNT)
		return "unknown";
	return refusal_names[reason];
}

/* --- Reading ----------------------------------------------------------- */

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* Open sessions of user entry `i`, over every slot. */
static uint64_t
user_active(const struct status *st, size_t i)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k < st->nslots; k++)
		sum = add_sat(sum, LOAD(&slot_at(st, k)->uactive[i]));
	return sum;
}

static bool
user_listed(const struct status *st, size_t i)
{
	const struct status_user *u = &st->hdr->users[i];

	if (__atomic_load_n(&u->state, __ATOMIC_ACQUIRE) != USER_READY)
		return false;
	/* "(other)" only once something was counted there. */
	return i != USER_OTHER || LOAD(&u->sessions) > 0;
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

static uint64_t
uptime_s(const struct status *st)
{
	return (util_now_ms() - st->start_ms) / 1000;
}

/*
 * What the master reads from the mapping, any worker may have written,
 * garbage included: lengths are clamped, names copied out once (so they
 * cannot change between checking and using), times and sums bounded.
 */
static size_t
user_name_copy(const struct status_user *u, char *buf)
{
	uint32_t len = LOAD(&u->len);

	if (len > STATUS_USER_MAX)
		len = STATUS_USER_MAX;
	memcpy(buf, u->name, len);
	buf[len] = '\0';
	return len;
}

static uint64_t
slot_uptime_s(const struct status *st, const struct status_slot *s)
{
	uint64_t now = util_now_ms(), t = LOAD(&s->started_ms);

	if (t > now || t < st->start_ms)
		return 0;
	return (now - t) / 1000;
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
	    (long)getpid(), uptime_s(st), st->start_wall, LOAD(&h->generation),
	    LOAD(&h->reloads), LOAD(&h->worker_deaths));
	sep = "";
	for (k = 0; k < st->nslots; k++) {
		const struct status_slot *s = slot_at(st, k);
		uint32_t state = LOAD(&s->state);
		uint64_t a = LOAD(&s->active);

		if (state == STATUS_WORKER_FREE || state >= ARRAY_SIZE(state_names))
			continue;
		active = add_sat(active, a);
		sbuf_printf(&b, "%s{\"slot\":%d,\"pid\":%ld,\"generation\":%u,"
		    "\"state\":\"%s\",\"sessions\":%" PRIu64 ",\"accepted\":%"
		    PRIu64 ",\"uptime_s\":%" PRIu64 "}", sep, k,
		    (long)LOAD(&s->pid), LOAD(&s->gen), state_names[state], a,
		    LOAD(&s->accepted), slot_uptime_s(st, s));
		sep = ",";
	}
	sbuf_printf(&b, "],\"sessions\":{\"active\":%" PRIu64 ",\"total\":%"
	    PRIu64 ",\"ended\":%" PRIu64, active, LOAD(&h->accepted),
	    LOAD(&h->ended));
	for (i = 0; i < STATUS_CMD_COUNT; i++)
		sbuf_printf(&b, ",\"%s\":%" PRIu64, cmd_names[i],
		    LOAD(&h->cmd[i]));
	sbuf_printf(&b, "},\"bytes\":{\"up\":%" PRIu64 ",\"down\":%" PRIu64
	    "},\"users\":{", LOAD(&h->bytes_up), LOAD(&h->bytes_down));
	sep = "";
	for (i = 0; i <= USER_CAP; i++) {
		const struct status_user *u = &h->users[i];

		if (!user_listed(st, i))
			continue;
		sbuf_printf(&b, "%s", sep);
		sbuf_json_string(&b, name, user_name_copy(u, name));
		sbuf_printf(&b, ":{\"sessions\":%" PRIu64 ",\"active\":%"
		    PRIu64 ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
		    "}", LOAD(&u->sessions), user_active(st, i),
		    LOAD(&u->bytes_up), LOAD(&u->bytes_down));
		sep = ",";
	}
	sbuf_printf(&b, "},\"refused\":{");
	for (i = 0; i < STATUS_REFUSAL_COUNT; i++)
		sbuf_printf(&b, "%s\"%s\":%" PRIu64, i == 0 ? "" : ",",
		    refusal_names[i], LOAD(&h->refused[i]));
	sbuf_printf(&b, "},\"happy_eyeballs\":{");
	for (i = 0; i < HE_COUNT; i++)
		sbuf_printf(&b, "%s\"%s\":%" PRIu64, i == 0 ? "" : ",",
		    he_names[i], LOAD(&h->he[i]));
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

void
status_log_summary(const struct status *st)
{
	const struct status_hdr *h = st->hdr;
	char line[512], name[6 * 64 + 1], raw[STATUS_USER_MAX + 1];
	uint64_t active = 0;
	size_t i, len, shown = 0, more = 0;
	int k;

	for (k = 0; k < st->nslots; k++)
		if (LOAD(&slot_at(st, k)->state) != STATUS_WORKER_FREE)
			active = add_sat(active, LOAD(&slot_at(st, k)->active));
	logit("status: up %" PRIu64 " s, generation %u, %" PRIu64 " reloads, %"
	    PRIu64 " worker deaths; sessions: %" PRIu64 " open, %" PRIu64
	    " since start, %" PRIu64 " ended; bytes up %" PRIu64 " down %"
	    PRIu64, uptime_s(st), LOAD(&h->generation), LOAD(&h->reloads),
	    LOAD(&h->worker_deaths), active, LOAD(&h->accepted),
	    LOAD(&h->ended), LOAD(&h->bytes_up), LOAD(&h->bytes_down));
	for (k = 0; k < st->nslots; k++) {
		const struct status_slot *s = slot_at(st, k);
		uint32_t state = LOAD(&s->state);

		if (state == STATUS_WORKER_FREE || state >= ARRAY_SIZE(state_names))
			continue;
		logit("status: worker %d pid %ld generation %u %s: %" PRIu64
		    " sessions open, %" PRIu64 " since its start", k,
		    (long)LOAD(&s->pid), LOAD(&s->gen), state_names[state],
		    LOAD(&s->active), LOAD(&s->accepted));
	}
	len = 0;
	for (i = 0; i < STATUS_CMD_COUNT && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %"
		    PRIu64, i == 0 ? "" : ", ", cmd_names[i], LOAD(&h->cmd[i]));
	logit("status: ended sessions per command: %s", line);
	for (i = 0; i <= USER_CAP; i++) {
		const struct status_user *u = &h->users[i];

		if (!user_listed(st, i))
			continue;
		if (shown == SUMMARY_USERS) {
			more++;
			continue;
		}
		shown++;
		/* Log-safe: the JSON escaping of at most 64 bytes of it. */
		len = user_name_copy(u, raw);
		status_json_escape(name, raw, len < 64 ? len : 64);
		logit("status: user \"%s\": %" PRIu64 " open, %" PRIu64
		    " since start, bytes up %" PRIu64 " down %" PRIu64, name,
		    user_active(st, i), LOAD(&u->sessions), LOAD(&u->bytes_up),
		    LOAD(&u->bytes_down));
	}
	if (more > 0)
		logit("status: and %zu more users (see the status socket)", more);
	len = 0;
	for (i = 0; i < STATUS_REFUSAL_COUNT && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %"
		    PRIu64, i == 0 ? "" : ", ", refusal_names[i],
		    LOAD(&h->refused[i]));
	logit("status: refused: %s", line);
	len = 0;
	for (i = 0; i < HE_COUNT && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %"
		    PRIu64, i == 0 ? "" : ", ", he_names[i], LOAD(&h->he[i]));
	logit("status: happy eyeballs: %s", line);
}

void *
status_region(struct status *st, size_t *len)
{
	*len = st->map_len;
	return st->hdr;
}
