/* SPDX-License-Identifier: ISC */
/*
 * status_counters.c - the shared counters (see status.h): the mapping
 * (its layout is in status_int.h), the master's and the workers' writes
 * to it, and the reads that survive whatever a worker wrote there.
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
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "socks5.h"
#include "status.h"
#include "status_int.h"
#include "util.h"

/* How long a reader waits for a CLAIMED entry (yields). */
#define CLAIM_SPINS 1000

/*
 * The connect time buckets, 5 ms to 30 s: a connection made at once
 * lands in the first few, one that waited for Happy Eyeballs' next
 * attempt (connect.attempt_delay_ms, 250 ms by default) just above that
 * delay, one that timed out at connect.timeout_s (30 s) in the last.
 */
const uint32_t status_connect_le_ms[STATUS_CONNECT_BUCKETS - 1] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
};
/* Attempts per CONNECT: 0 (nothing to try), 1 (the first worked), ... */
const uint32_t status_attempts_le[STATUS_ATTEMPT_BUCKETS - 1] = {
	0, 1, 2, 3, 4, 6, 8, 16,
};

/* The worker's own view (status_attach()). */
static struct status *self;
static int self_slot = -1;

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
	memset(status_slot_at(st, slot), 0, st->slot_len);
}

void
status_slot_start(struct status *st, int slot, unsigned gen)
{
	struct status_slot *s;

	if (slot < 0 || slot >= st->nslots)
		return;
	status_slot_clear(st, slot);
	s = status_slot_at(st, slot);
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
	STORE(&status_slot_at(st, slot)->state, (uint32_t)state);
}

/* --- The user table ---------------------------------------------------- */

static uint32_t
name_hash(const char *name, size_t len)
{
	uint32_t h = util_fnv1a32(UTIL_FNV1A32_INIT, name, len);

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
	STORE(&status_slot_at(st, slot)->pid, (int32_t)getpid());
}

void
status_session_opened(void)
{
	struct status_slot *s;

	if (self == NULL)
		return;
	s = status_slot_at(self, self_slot);
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
	s = status_slot_at(self, self_slot);
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
	s = status_slot_at(self, self_slot);
	STORE(&s->uactive[i], LOAD(&s->uactive[i]) + 1);
}

/*
 * The access log's end= values of a session that got no reply to a
 * request, and the reason each counts as (sockeyed(8), ACCESS LOG).
 */
static const struct {
	const char *end;
	enum status_unanswered why;
} unanswered_ends[] = {
	{ "handshake-timeout", STATUS_UNANSWERED_HANDSHAKE_TIMEOUT },
	{ "client-eof", STATUS_UNANSWERED_CLIENT_CLOSED },
	{ "client-error", STATUS_UNANSWERED_CLIENT_CLOSED },
	{ "bad-version", STATUS_UNANSWERED_PROTOCOL_ERROR },
	{ "bad-greeting", STATUS_UNANSWERED_PROTOCOL_ERROR },
	{ "bad-auth-message", STATUS_UNANSWERED_PROTOCOL_ERROR },
	{ "no-acceptable-method", STATUS_UNANSWERED_NO_ACCEPTABLE_METHOD },
	{ "auth-failed", STATUS_UNANSWERED_AUTH_FAILED },
	{ "auth-throttled", STATUS_UNANSWERED_AUTH_THROTTLED },
	{ "shutdown", STATUS_UNANSWERED_SHUTDOWN },
	{ "reload-deadline", STATUS_UNANSWERED_SHUTDOWN },
};

enum status_unanswered
status_unanswered_of(const char *end)
{
	size_t i;

	if (end == NULL)
		return STATUS_UNANSWERED_OTHER;
	for (i = 0; i < ARRAY_SIZE(unanswered_ends); i++)
		if (strcmp(end, unanswered_ends[i].end) == 0)
			return unanswered_ends[i].why;
	return STATUS_UNANSWERED_OTHER;
}

void
status_session_end(int socks_cmd, int rep, const char *end, const char *user,
    uint64_t bytes_up, uint64_t bytes_down)
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
	if (rep >= 0 && rep < STATUS_REPLY_CODES)
		ADD(&h->replies[cmd][rep], 1);
	else
		ADD(&h->unanswered[status_unanswered_of(end)], 1);
	ADD(&h->bytes_up, bytes_up);
	ADD(&h->bytes_down, bytes_down);
	if (user != NULL) {
		struct status_slot *s = status_slot_at(self, self_slot);
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

/* The bucket of `v` among `n` upper bounds `le` (n: +Inf). */
static size_t
bucket_of(const uint32_t *le, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n && v > le[i]; i++)
		;
	return i;
}

void
status_count_connect(bool connected, int family, int attempts, bool nat64,
    uint32_t ms)
{
	struct status_hdr *h;
	uint64_t a = attempts > 0 ? (uint64_t)attempts : 0;
	int k = connected ? 0 : 1;

	if (self == NULL)
		return;
	h = self->hdr;
	ADD(&h->connect_ms[k][bucket_of(status_connect_le_ms,
	    STATUS_CONNECT_BUCKETS - 1, ms)], 1);
	ADD(&h->connect_ms_sum[k], ms);
	ADD(&h->attempts[bucket_of(status_attempts_le,
	    STATUS_ATTEMPT_BUCKETS - 1, a)], 1);
	ADD(&h->attempts_sum, a);
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

void
status_count_auth(int socks_method, enum status_auth_result result)
{
	enum status_auth_method m;

	if (self == NULL || (unsigned)result >= STATUS_AUTH_RESULTS)
		return;
	switch (socks_method) {
	case SOCKS5_METHOD_NONE:
		m = STATUS_AUTH_NONE;
		break;
	case SOCKS5_METHOD_PASSWORD:
		m = STATUS_AUTH_PASSWORD;
		break;
	case SOCKS5_METHOD_CHAP:
		m = STATUS_AUTH_CHAP;
		break;
	case SOCKS5_METHOD_GSSAPI:
		m = STATUS_AUTH_GSSAPI;
		break;
	default:
		return;
	}
	ADD(&self->hdr->auth[m][result], 1);
}

void
status_count_dns(enum status_dns_source source, enum status_dns_result result)
{
	if (self == NULL || (unsigned)source >= STATUS_DNS_SOURCES ||
	    (unsigned)result >= STATUS_DNS_RESULTS)
		return;
	ADD(&self->hdr->dns[source][result], 1);
}

void
status_count_udp(uint64_t dgrams_up, uint64_t dgrams_down,
    const uint64_t *drops, size_t ndrops)
{
	struct status_hdr *h;
	size_t i;

	if (self == NULL)
		return;
	h = self->hdr;
	ADD(&h->udp_dgrams_up, dgrams_up);
	ADD(&h->udp_dgrams_down, dgrams_down);
	for (i = 0; i < ndrops && i < STATUS_UDP_DROPS; i++)
		if (drops[i] != 0)
			ADD(&h->udp_drops[i], drops[i]);
}

/* --- Reading (master) ------------------------------------------------- */

/*
 * What the master reads from the mapping, any worker may have written,
 * garbage included: lengths are clamped, names copied out once (so they
 * cannot change between checking and using), times and sums bounded.
 */

size_t
status_user_name(const struct status_user *u, char *buf)
{
	uint32_t len = LOAD(&u->len);

	if (len > STATUS_USER_MAX)
		len = STATUS_USER_MAX;
	memcpy(buf, u->name, len);
	buf[len] = '\0';
	return len;
}

uint64_t
status_slot_uptime_s(const struct status *st, const struct status_slot *s)
{
	uint64_t now = util_now_ms(), t = LOAD(&s->started_ms);

	if (t > now || t < st->start_ms)
		return 0;
	return (now - t) / 1000;
}

uint64_t
status_uptime_s(const struct status *st)
{
	return (util_now_ms() - st->start_ms) / 1000;
}

uint64_t
status_user_active(const struct status *st, size_t i)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k < st->nslots; k++)
		sum = status_add_sat(sum,
		    LOAD(&status_slot_at(st, k)->uactive[i]));
	return sum;
}

bool
status_user_listed(const struct status *st, size_t i)
{
	const struct status_user *u = &st->hdr->users[i];

	if (__atomic_load_n(&u->state, __ATOMIC_ACQUIRE) != USER_READY)
		return false;
	/* "(other)" only once something was counted there. */
	return i != USER_OTHER || LOAD(&u->sessions) > 0;
}

void *
status_region(struct status *st, size_t *len)
{
	*len = st->map_len;
	return st->hdr;
}

/* Copy `n` counters, each read once. */
static void
load_all(uint64_t *out, const uint64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = LOAD(&v[i]);
}

void
status_snapshot(const struct status *st, struct status_snapshot *out)
{
	const struct status_hdr *h = st->hdr;
	int k;

	memset(out, 0, sizeof(*out));
	out->start_wall = st->start_wall;
	out->generation = LOAD(&h->generation);
	out->reloads = LOAD(&h->reloads);
	out->worker_deaths = LOAD(&h->worker_deaths);
	for (k = 0; k < st->nslots; k++) {
		const struct status_slot *s = status_slot_at(st, k);
		uint32_t state = LOAD(&s->state);

		if (state == STATUS_WORKER_FREE || state >= STATUS_WORKER_STATES)
			continue;
		out->workers[state]++;
		out->active = status_add_sat(out->active, LOAD(&s->active));
	}
	out->accepted = LOAD(&h->accepted);
	for (k = 0; k < STATUS_CMD_COUNT; k++)
		load_all(out->replies[k], h->replies[k], STATUS_REPLY_CODES);
	load_all(out->unanswered, h->unanswered, STATUS_UNANSWERED_COUNT);
	load_all(out->refused, h->refused, STATUS_REFUSAL_COUNT);
	out->bytes_up = LOAD(&h->bytes_up);
	out->bytes_down = LOAD(&h->bytes_down);
	for (k = 0; k < STATUS_AUTH_METHODS; k++)
		load_all(out->auth[k], h->auth[k], STATUS_AUTH_RESULTS);
	out->connect_ipv6 = LOAD(&h->he[HE_IPV6]);
	out->connect_ipv4 = LOAD(&h->he[HE_IPV4]);
	out->connect_fallback = LOAD(&h->he[HE_FALLBACK]);
	out->connect_nat64 = LOAD(&h->he[HE_NAT64]);
	out->connect_failed = LOAD(&h->he[HE_FAILED]);
	for (k = 0; k < 2; k++)
		load_all(out->connect_ms[k], h->connect_ms[k],
		    STATUS_CONNECT_BUCKETS);
	load_all(out->connect_ms_sum, h->connect_ms_sum, 2);
	load_all(out->attempts, h->attempts, STATUS_ATTEMPT_BUCKETS);
	out->attempts_sum = LOAD(&h->attempts_sum);
	for (k = 0; k < STATUS_DNS_SOURCES; k++)
		load_all(out->dns[k], h->dns[k], STATUS_DNS_RESULTS);
	out->udp_dgrams_up = LOAD(&h->udp_dgrams_up);
	out->udp_dgrams_down = LOAD(&h->udp_dgrams_down);
	load_all(out->udp_drops, h->udp_drops, STATUS_UDP_DROPS);
}
