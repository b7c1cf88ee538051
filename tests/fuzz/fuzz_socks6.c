/* SPDX-License-Identifier: ISC */
/*
 * fuzz_socks6.c - libFuzzer harness for the SOCKS 6 codec (src/socks6.c).
 *
 * Every input goes through every message parser (request, authentication
 * reply, operation reply) and, read as an options block, through the
 * options parser and the option iterator. The harness checks:
 *
 *  - prefix consistency: parsing the first k bytes for growing k gives
 *    NEED_MORE, then one final verdict that never changes; OK first
 *    appears exactly at k == used. Each prefix is parsed from the end of a
 *    heap block, so ASan catches a read of byte k. (Long inputs are
 *    sampled: every prefix up to 512 bytes, then about 64 more.)
 *  - NEED_MORE is honest: from the longest NEED_MORE prefix (the byte
 *    before an error, or the whole input) some next byte always keeps the
 *    message valid, until it completes; the next bytes are found by asking
 *    the parser itself, one byte at a time. So an error is reported at the
 *    first byte that proves it.
 *  - round trips: an OK message re-encodes to the same bytes (the header's
 *    padding octet excepted: the parser keeps any, the encoder writes 0),
 *    fails with one byte less of room, and re-parses to the same values;
 *    the parsed options re-encode, option by option, into a block that
 *    parses to the same struct.
 *  - the option iterator stays inside the block and agrees with the
 *    options parser.
 *  - the encoders, driven with raw values from the input, write only what
 *    parses back to those values.
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/socks6) through this same entry
 * point under plain `make check`.
 */
#include "config_auto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* Longer than any message, so every verdict is reached. */
#define PREFIX_MAX	(SOCKS6_REQUEST_MAX + 8)
/* Every prefix up to this length; a sample beyond it. */
#define PREFIX_ALL	512
/* The completion search: from prefixes this long at most, this many
 * bytes at most (a message announcing 20 KB of options is not finished:
 * inconclusive, not a failure). */
#define COMPLETE_FROM	2048
#define COMPLETE_STEPS	600

#define FLAGS		SOCKS6_ALLOW_LEGACY

enum kind {
	K_REQUEST,
	K_AUTH_REPLY,
	K_OP_REPLY,
	K_NKINDS
};

union parsed {
	struct socks6_request req;
	struct socks6_auth_reply auth;
	struct socks6_op_reply op;
};

/* Big structs: static, not on the stack (one harness call at a time). */
static union parsed P, Q;
static struct socks6_options O1, O2;
static uint8_t enc[PREFIX_MAX], optbuf[SOCKS6_OPTIONS_MAX];
static uint8_t complete_buf[COMPLETE_FROM + COMPLETE_STEPS + 1];

static enum socks6_status
parse_kind(enum kind k, const uint8_t *b, size_t n, int flags,
    union parsed *p, size_t *used)
{
	switch (k) {
	case K_REQUEST:
		return socks6_parse_request(b, n, flags, &p->req, used);
	case K_AUTH_REPLY:
		return socks6_parse_auth_reply(b, n, flags, &p->auth, used);
	default:
		return socks6_parse_op_reply(b, n, flags, &p->op, used);
	}
}

static void
check_addr_eq(const struct socks5_addr *a, const struct socks5_addr *b)
{
	FUZZ_CHECK(a->atyp == b->atyp);
	FUZZ_CHECK(a->port == b->port);
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4:
		FUZZ_CHECK(memcmp(a->u.ipv4, b->u.ipv4, 4) == 0);
		break;
	case SOCKS5_ATYP_IPV6:
		FUZZ_CHECK(memcmp(a->u.ipv6, b->u.ipv6, 16) == 0);
		break;
	default:
		FUZZ_CHECK(a->atyp == SOCKS5_ATYP_DOMAIN);
		FUZZ_CHECK(a->name_len == b->name_len);
		FUZZ_CHECK(a->name_len > 0);
		FUZZ_CHECK(memcmp(a->u.name, b->u.name, a->name_len) == 0);
		FUZZ_CHECK(b->u.name[b->name_len] == '\0');
		FUZZ_CHECK(strlen(b->u.name) == b->name_len);
		break;
	}
}

/*
 * Re-encode what `o` says (read from the block `src`) with the option
 * encoders into `out`. Every encoder must take what the parser gave.
 */
static size_t
reencode_options(const struct socks6_options *o, const uint8_t *src,
    enum socks6_ctx ctx, uint8_t *out, size_t cap)
{
	static const uint16_t flags[] = {
		SOCKS6_OPT_SESSION_REQUEST, SOCKS6_OPT_SESSION_OK,
		SOCKS6_OPT_SESSION_INVALID, SOCKS6_OPT_SESSION_TEARDOWN,
		SOCKS6_OPT_IDEM_ACCEPTED, SOCKS6_OPT_IDEM_REJECTED,
	};
	size_t n = 0, w, i;
	int id;
	uint8_t leg;

	for (id = 0; id < SOCKS6_STACK_NIDS; id++) {
		const struct socks6_stack_opt *st = &o->stack[id];

		/* One option for both legs when it can: never longer. */
		if (st->legs == SOCKS6_LEG_BOTH &&
		    st->value[0] == st->value[1]) {
			w = socks6_encode_opt_stack(out + n, cap - n,
			    (enum socks6_stack_id)id, SOCKS6_LEG_BOTH,
			    st->value[0]);
			FUZZ_CHECK(w == 8);
			n += w;
			continue;
		}
		for (leg = 1; leg <= 2; leg++) {
			if (!(st->legs & leg))
				continue;
			w = socks6_encode_opt_stack(out + n, cap - n,
			    (enum socks6_stack_id)id, leg,
			    st->value[leg - 1]);
			FUZZ_CHECK(w == 8);
			n += w;
		}
	}
	if (SOCKS6_HAS(o, SOCKS6_OPT_AUTH_ADVERT)) {
		w = socks6_encode_opt_auth_advert(out + n, cap - n,
		    o->initial_data_len, o->methods, o->nmethods);
		FUZZ_CHECK(w != 0);
		n += w;
	}
	if (SOCKS6_HAS(o, SOCKS6_OPT_AUTH_SELECT)) {
		w = socks6_encode_opt_auth_select(out + n, cap - n,
		    o->selected_method);
		FUZZ_CHECK(w == 8);
		n += w;
	}
	for (i = 0; i < o->nauth; i++) {
		const struct socks6_auth_data *ad = &o->auth[i];

		if (ad->method == SOCKS5_METHOD_PASSWORD &&
		    ctx == SOCKS6_CTX_REQUEST)
			w = socks6_encode_opt_password_request(out + n,
			    cap - n, o->password.uname, o->password.ulen,
			    o->password.passwd, o->password.plen);
		else if (ad->method == SOCKS5_METHOD_PASSWORD &&
		    ctx == SOCKS6_CTX_AUTH_REPLY)
			w = socks6_encode_opt_password_reply(out + n,
			    cap - n, o->password_status);
		else
			w = socks6_encode_opt_auth_data(out + n, cap - n,
			    ad->method, src + ad->off, ad->len);
		/* The original was minimally padded: same length. */
		FUZZ_CHECK(w == 5 + (size_t)ad->len);
		n += w;
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!SOCKS6_HAS(o, flags[i]))
			continue;
		w = socks6_encode_opt_flag(out + n, cap - n, flags[i]);
		FUZZ_CHECK(w == 4);
		n += w;
	}
	if (SOCKS6_HAS(o, SOCKS6_OPT_SESSION_ID)) {
		w = socks6_encode_opt_session_id(out + n, cap - n,
		    src + o->session_id_off, o->session_id_len);
		FUZZ_CHECK(w == 4 + (size_t)o->session_id_len);
		n += w;
	}
	if (SOCKS6_HAS(o, SOCKS6_OPT_IDEM_REQUEST)) {
		w = socks6_encode_opt_idem_request(out + n, cap - n,
		    o->idem_request);
		FUZZ_CHECK(w == 8);
		n += w;
	}
	if (SOCKS6_HAS(o, SOCKS6_OPT_IDEM_WINDOW)) {
		w = socks6_encode_opt_idem_window(out + n, cap - n,
		    o->idem_base, o->idem_size);
		FUZZ_CHECK(w == 12);
		n += w;
	}
	if (SOCKS6_HAS(o, SOCKS6_OPT_IDEM_SPEND)) {
		w = socks6_encode_opt_idem_spend(out + n, cap - n,
		    o->idem_token);
		FUZZ_CHECK(w == 8);
		n += w;
	}
	return n;
}

/* `b` (from block `bsrc`) must say what `a` (from `asrc`) says. */
static void
check_options_eq(const struct socks6_options *a, const uint8_t *asrc,
    const struct socks6_options *b, const uint8_t *bsrc, enum socks6_ctx ctx)
{
	size_t i;
	int id;

	FUZZ_CHECK(a->kinds == b->kinds);
	for (id = 0; id < SOCKS6_STACK_NIDS; id++) {
		FUZZ_CHECK(a->stack[id].legs == b->stack[id].legs);
		if (a->stack[id].legs & 1)
			FUZZ_CHECK(a->stack[id].value[0] ==
			    b->stack[id].value[0]);
		if (a->stack[id].legs & 2)
			FUZZ_CHECK(a->stack[id].value[1] ==
			    b->stack[id].value[1]);
	}
	FUZZ_CHECK(a->initial_data_len == b->initial_data_len);
	FUZZ_CHECK(a->nmethods == b->nmethods);
	FUZZ_CHECK(memcmp(a->methods, b->methods, a->nmethods) == 0);
	for (i = 0; i < a->nmethods; i++)
		FUZZ_CHECK(a->methods[i] != 0);
	FUZZ_CHECK(a->selected_method == b->selected_method);
	FUZZ_CHECK(a->nauth == b->nauth);
	for (i = 0; i < a->nauth; i++) {
		size_t len = a->auth[i].len;

		FUZZ_CHECK(a->auth[i].method == b->auth[i].method);
		FUZZ_CHECK(a->auth[i].len == b->auth[i].len);
		/* An RFC 1929 reply's padding octet is not kept. */
		if (ctx == SOCKS6_CTX_AUTH_REPLY &&
		    a->auth[i].method == SOCKS5_METHOD_PASSWORD)
			len = 2;
		FUZZ_CHECK(memcmp(asrc + a->auth[i].off, bsrc + b->auth[i].off,
		    len) == 0);
	}
	FUZZ_CHECK(a->has_password == b->has_password);
	if (a->has_password && ctx == SOCKS6_CTX_REQUEST) {
		FUZZ_CHECK(a->password.ulen == b->password.ulen);
		FUZZ_CHECK(a->password.plen == b->password.plen);
		FUZZ_CHECK(memcmp(a->password.uname, b->password.uname,
		    a->password.ulen) == 0);
		FUZZ_CHECK(memcmp(a->password.passwd, b->password.passwd,
		    a->password.plen) == 0);
	}
	if (a->has_password && ctx == SOCKS6_CTX_AUTH_REPLY)
		FUZZ_CHECK(a->password_status == b->password_status);
	FUZZ_CHECK(a->session_id_len == b->session_id_len);
	if (SOCKS6_HAS(a, SOCKS6_OPT_SESSION_ID))
		FUZZ_CHECK(memcmp(asrc + a->session_id_off,
		    bsrc + b->session_id_off, a->session_id_len) == 0);
	FUZZ_CHECK(a->idem_request == b->idem_request);
	FUZZ_CHECK(a->idem_base == b->idem_base);
	FUZZ_CHECK(a->idem_size == b->idem_size);
	FUZZ_CHECK(a->idem_token == b->idem_token);
}

/* Options parsed OK from `src` (`len` bytes): the struct round trip. */
static void
roundtrip_options(const struct socks6_options *o, const uint8_t *src,
    size_t len, enum socks6_ctx ctx)
{
	size_t n;

	n = reencode_options(o, src, ctx, optbuf, sizeof(optbuf));
	FUZZ_CHECK(n <= len);
	FUZZ_CHECK(socks6_parse_options(optbuf, n, ctx, &O2) == SOCKS6_OK);
	FUZZ_CHECK(O2.nignored == 0);
	check_options_eq(o, src, &O2, optbuf, ctx);
}

/* The header's padding octet (index 6) is the only byte that may differ. */
static void
check_bytes(const uint8_t *in, const uint8_t *out, size_t n, size_t skip)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i == skip)
			FUZZ_CHECK(out[i] == 0);
		else
			FUZZ_CHECK(out[i] == in[i]);
	}
}

static void
roundtrip(enum kind k, const uint8_t *in, const union parsed *p, size_t used)
{
	size_t n, used2 = 0;

	switch (k) {
	case K_REQUEST: {
		const struct socks6_request *r = &p->req;

		FUZZ_CHECK(r->options_off + r->options_len == used);
		FUZZ_CHECK(r->padding == in[6]);
		n = socks6_encode_request(enc, sizeof(enc), r->version,
		    r->cmd, &r->dst, in + r->options_off, r->options_len);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, 6);
		FUZZ_CHECK(socks6_encode_request(enc, n - 1, r->version,
		    r->cmd, &r->dst, in + r->options_off, r->options_len) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, FLAGS, &Q, &used2) ==
		    SOCKS6_OK);
		FUZZ_CHECK(used2 == n && Q.req.cmd == r->cmd &&
		    Q.req.version == r->version && Q.req.padding == 0);
		check_addr_eq(&r->dst, &Q.req.dst);
		check_options_eq(&r->opts, in + r->options_off, &Q.req.opts,
		    enc + Q.req.options_off, SOCKS6_CTX_REQUEST);
		roundtrip_options(&r->opts, in + r->options_off,
		    r->options_len, SOCKS6_CTX_REQUEST);
		break;
	}
	case K_AUTH_REPLY: {
		const struct socks6_auth_reply *a = &p->auth;

		FUZZ_CHECK(a->options_off == 4 &&
		    4 + (size_t)a->options_len == used);
		n = socks6_encode_auth_reply(enc, sizeof(enc), a->version,
		    a->type, in + 4, a->options_len);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, (size_t)-1);
		FUZZ_CHECK(socks6_encode_auth_reply(enc, n - 1, a->version,
		    a->type, in + 4, a->options_len) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, FLAGS, &Q, &used2) ==
		    SOCKS6_OK);
		FUZZ_CHECK(used2 == n && Q.auth.type == a->type);
		check_options_eq(&a->opts, in + 4, &Q.auth.opts, enc + 4,
		    SOCKS6_CTX_AUTH_REPLY);
		roundtrip_options(&a->opts, in + 4, a->options_len,
		    SOCKS6_CTX_AUTH_REPLY);
		break;
	}
	default: {
		const struct socks6_op_reply *o = &p->op;

		FUZZ_CHECK(o->options_off + o->options_len == used);
		n = socks6_encode_op_reply(enc, sizeof(enc), o->version,
		    o->rep, &o->bnd, in + o->options_off, o->options_len);
		FUZZ_CHECK(n == used);
		check_bytes(in, enc, n, 6);
		FUZZ_CHECK(socks6_encode_op_reply(enc, n - 1, o->version,
		    o->rep, &o->bnd, in + o->options_off,
		    o->options_len) == 0);
		FUZZ_CHECK(parse_kind(k, enc, n, FLAGS, &Q, &used2) ==
		    SOCKS6_OK);
		FUZZ_CHECK(used2 == n && Q.op.rep == o->rep);
		check_addr_eq(&o->bnd, &Q.op.bnd);
		check_options_eq(&o->opts, in + o->options_off, &Q.op.opts,
		    enc + Q.op.options_off, SOCKS6_CTX_OP_REPLY);
		roundtrip_options(&o->opts, in + o->options_off,
		    o->options_len, SOCKS6_CTX_OP_REPLY);
		break;
	}
	}
}

/*
 * `data[0 .. n)` is NEED_MORE: extend it one byte at a time, each time
 * with the first byte value the parser does not refuse. An honest parser
 * always has one, so the search never gets stuck; it ends with OK, or
 * gives up (inconclusively) after COMPLETE_STEPS bytes.
 */
static void
check_completable(enum kind k, const uint8_t *data, size_t n)
{
	enum socks6_status st;
	size_t len, used;
	unsigned v;

	if (n > COMPLETE_FROM)
		return;
	memcpy(complete_buf, data, n);
	for (len = n; len < n + COMPLETE_STEPS; len++) {
		for (v = 0; v < 256; v++) {
			complete_buf[len] = (uint8_t)v;
			used = 0;
			st = parse_kind(k, complete_buf, len + 1, FLAGS, &Q,
			    &used);
			if (st == SOCKS6_OK) {
				FUZZ_CHECK(used == len + 1);
				return;
			}
			if (st == SOCKS6_NEED_MORE)
				break;
		}
		/* Every next byte is an error: NEED_MORE was a lie. */
		FUZZ_CHECK(v < 256);
	}
}

/* The prefix lengths checked for an input of `size` bytes: all of them up
 * to PREFIX_ALL, then about 64 more spread out, then the last few. */
static int
prefix_checked(size_t n, size_t size)
{
	size_t step = (size / 64) | 1;

	return n <= PREFIX_ALL || n % step == 0 || n + 8 >= size;
}

static void
check_kind(enum kind k, const uint8_t *data, size_t size, uint8_t *scratch)
{
	enum socks6_status st, verdict = SOCKS6_NEED_MORE, st0;
	size_t n, len, used, first_used = 0, last_more = 0;

	len = size < PREFIX_MAX ? size : PREFIX_MAX;
	for (n = 0; n <= len; n++) {
		uint8_t *b = scratch + PREFIX_MAX - n;

		if (!prefix_checked(n, len))
			continue;
		memcpy(b, data, n);
		used = (size_t)-1;
		st = parse_kind(k, b, n, FLAGS, &P, &used);
		if (verdict == SOCKS6_NEED_MORE) {
			if (st == SOCKS6_NEED_MORE) {
				last_more = n;
				continue;
			}
			verdict = st;
			if (st == SOCKS6_OK) {
				FUZZ_CHECK(used <= n && used > last_more);
				if (n <= PREFIX_ALL)
					FUZZ_CHECK(used == n);
				first_used = used;
				roundtrip(k, data, &P, used);
			}
			continue;
		}
		/* Once decided, more bytes never change the verdict. */
		FUZZ_CHECK(st == verdict);
		if (st == SOCKS6_OK)
			FUZZ_CHECK(used == first_used);
	}
	if (verdict == SOCKS6_OK) {
		/* Exactly `used` bytes: OK; one less: NEED_MORE. */
		uint8_t *b = scratch + PREFIX_MAX - first_used;

		memcpy(b, data, first_used);
		FUZZ_CHECK(parse_kind(k, b, first_used, FLAGS, &P, &used) ==
		    SOCKS6_OK && used == first_used);
		b = scratch + PREFIX_MAX - (first_used - 1);
		memcpy(b, data, first_used - 1);
		FUZZ_CHECK(parse_kind(k, b, first_used - 1, FLAGS, &P,
		    &used) == SOCKS6_NEED_MORE);
	} else if (last_more > 0 && (verdict != SOCKS6_NEED_MORE ||
	    last_more == len) && last_more <= PREFIX_ALL) {
		check_completable(k, data, last_more);
	}
	if (size >= PREFIX_MAX)
		FUZZ_CHECK(verdict != SOCKS6_NEED_MORE);

	/* Without the legacy flag only a 0xD4 first octet changes. */
	st0 = parse_kind(k, data, len, 0, &P, &used);
	if (len > 0 && data[0] == SOCKS6_VERSION_LEGACY)
		FUZZ_CHECK(st0 == SOCKS6_ERR_VERSION);
	else
		FUZZ_CHECK(st0 == parse_kind(k, data, len, FLAGS, &Q, &used));
	FUZZ_CHECK(socks6_status_str(verdict) != NULL);
}

/* The input as an options block: iterator, parser, round trip. */
static void
check_options_block(const uint8_t *data, size_t size)
{
	static const enum socks6_ctx ctxs[] = {
		SOCKS6_CTX_REQUEST, SOCKS6_CTX_AUTH_REPLY, SOCKS6_CTX_OP_REPLY
	};
	struct socks6_opt opt;
	enum socks6_status st;
	size_t off = 0, prev = 0, i, count = 0;
	uint8_t *copy, sum = 0;
	int rc;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return;
	memcpy(copy, data, size);
	for (;;) {
		prev = off;
		rc = socks6_opt_next(copy, size, &off, &opt);
		if (rc != 1)
			break;
		FUZZ_CHECK(opt.len >= 4 && opt.len % 4 == 0);
		FUZZ_CHECK(opt.data == copy + prev + 4);
		FUZZ_CHECK(off == prev + opt.len && off <= size);
		for (i = 0; i < (size_t)opt.len - 4; i++)
			sum ^= opt.data[i];	/* ASan: inside the copy */
		count++;
	}
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(off == prev);
	if (rc == 0)
		FUZZ_CHECK(off == size);
	(void)sum;

	for (i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++) {
		st = socks6_parse_options(copy, size, ctxs[i], &O1);
		FUZZ_CHECK(st != SOCKS6_NEED_MORE);
		if (size > SOCKS6_OPTIONS_MAX || size % 4 != 0) {
			FUZZ_CHECK(st == SOCKS6_ERR_OPTLEN);
			continue;
		}
		if (rc == -1)
			FUZZ_CHECK(st != SOCKS6_OK);
		if (st != SOCKS6_OK)
			continue;
		FUZZ_CHECK(O1.nignored <= count);
		roundtrip_options(&O1, copy, size, ctxs[i]);
	}
	free(copy);
}

/*
 * Raw values from the input into the option encoders and the request
 * encoder: what they accept parses back to those values.
 */
static void
check_raw_encoders(const uint8_t *data, size_t size)
{
	uint8_t buf[SOCKS6_OPTIONS_MAX];
	struct socks5_addr a;
	enum socks6_stack_id id;
	uint8_t leg;
	uint16_t value;
	size_t n, used, rest, ul, pl;
	int valid;

	if (size < 8)
		return;
	id = (enum socks6_stack_id)(data[0] % (SOCKS6_STACK_NIDS + 1));
	leg = data[1] & 7;
	value = (uint16_t)(data[2] << 8 | data[3]);
	n = socks6_encode_opt_stack(buf, sizeof(buf), id, leg, value);
	if (n != 0) {
		FUZZ_CHECK(n == 8 && id < SOCKS6_STACK_NIDS);
		FUZZ_CHECK(socks6_parse_options(buf, n, SOCKS6_CTX_REQUEST,
		    &O1) == SOCKS6_OK);
		FUZZ_CHECK(O1.stack[id].legs == leg);
		if (leg & 1)
			FUZZ_CHECK(O1.stack[id].value[0] == value);
		if (leg & 2)
			FUZZ_CHECK(O1.stack[id].value[1] == value);
	}

	rest = size - 8 < 600 ? size - 8 : 600;
	n = socks6_encode_opt_auth_advert(buf, sizeof(buf), value,
	    data + 8, rest);
	FUZZ_CHECK((n != 0) == (value <= SOCKS6_INITIAL_DATA_MAX));
	if (n != 0) {
		FUZZ_CHECK(socks6_parse_options(buf, n, SOCKS6_CTX_REQUEST,
		    &O1) == SOCKS6_OK);
		FUZZ_CHECK(O1.initial_data_len == value);
	}

	/* No method is special in an operation reply: any data parses. */
	n = socks6_encode_opt_auth_data(buf, sizeof(buf), data[4], data + 8,
	    rest);
	FUZZ_CHECK(n != 0 && n % 4 == 0);
	FUZZ_CHECK(socks6_parse_options(buf, n, SOCKS6_CTX_OP_REPLY, &O1) ==
	    SOCKS6_OK);
	FUZZ_CHECK(O1.nauth == 1 && O1.auth[0].method == data[4]);
	FUZZ_CHECK(memcmp(buf + O1.auth[0].off, data + 8, rest) == 0);

	ul = data[5] < rest ? data[5] : rest;
	pl = data[6] < rest ? data[6] : rest;
	n = socks6_encode_opt_password_request(buf, sizeof(buf), data + 8,
	    ul, data + 8, pl);
	FUZZ_CHECK((n != 0) == (ul > 0 && pl > 0));
	if (n != 0) {
		FUZZ_CHECK(socks6_parse_options(buf, n, SOCKS6_CTX_REQUEST,
		    &O1) == SOCKS6_OK);
		FUZZ_CHECK(O1.has_password && O1.password.ulen == ul &&
		    O1.password.plen == pl);
		FUZZ_CHECK(memcmp(O1.password.uname, data + 8, ul) == 0);
		FUZZ_CHECK(memcmp(O1.password.passwd, data + 8, pl) == 0);
	}

	/* An address read raw, like fuzz_socks5's check_raw_addr. */
	memset(&a, 0, sizeof(a));
	a.atyp = data[0];
	a.name_len = data[1];
	a.port = value;
	memcpy(&a.u, data + 8, rest < sizeof(a.u) ? rest : sizeof(a.u));
	valid = a.atyp == SOCKS5_ATYP_IPV4 || a.atyp == SOCKS5_ATYP_IPV6 ||
	    (a.atyp == SOCKS5_ATYP_DOMAIN && a.name_len > 0 &&
	    memchr(a.u.name, '\0', a.name_len) == NULL);
	n = socks6_encode_request(enc, sizeof(enc), SOCKS6_VERSION, data[7],
	    &a, NULL, 0);
	FUZZ_CHECK((n != 0) == valid);
	if (valid) {
		FUZZ_CHECK(n % 4 == 0);
		FUZZ_CHECK(socks6_parse_request(enc, n, 0, &P.req, &used) ==
		    SOCKS6_OK && used == n && P.req.cmd == data[7]);
		check_addr_eq(&a, &P.req.dst);
	}
	FUZZ_CHECK(socks6_rep_str(data[2]) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *scratch;
	int k;

	scratch = malloc(PREFIX_MAX);
	if (scratch == NULL)
		return 0;
	for (k = 0; k < K_NKINDS; k++)
		check_kind((enum kind)k, data, size, scratch);
	free(scratch);
	check_options_block(data, size);
	check_raw_encoders(data, size);
	return 0;
}
