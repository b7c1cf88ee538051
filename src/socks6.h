/* SPDX-License-Identifier: ISC */
/*
 * socks6.h - the pure SOCKS 6 codec (draft-olteanu-intarea-socks-6-12,
 * Experimental; the text of the draft's source repository at -12).
 *
 * The same contract as socks5.h: every function is pure over byte buffers
 * (no I/O, malloc, logging, globals or configuration). Parsers take
 * (buf, len, ..., out, used) and return SOCKS6_NEED_MORE while `buf` holds
 * a valid prefix of a message, SOCKS6_OK with *used set to the message's
 * length when a whole message was parsed, or a SOCKS6_ERR_* value as soon
 * as the bytes already there prove that the message can never be valid.
 * On anything but SOCKS6_OK, *out and *used are unspecified. Encoders fill
 * a caller's buffer and return the bytes written, or 0 when `cap` is too
 * small or the input is one the parsers would refuse.
 *
 * Messages (all fields 4-octet aligned; numbers in network order):
 *
 *   Request          VER CMD OPTLEN(2) | PORT(2) PAD ATYP | ADDR | OPTIONS
 *   Version mismatch VER
 *   Auth reply       VER TYPE OPTLEN(2) | OPTIONS
 *   Operation reply  VER REP OPTLEN(2) | PORT(2) PAD ATYP | ADDR | OPTIONS
 *   Option           KIND(2) LENGTH(2) DATA, LENGTH covers the header and
 *                    is a multiple of 4; OPTLEN <= 20 KB
 *
 * ADDR is 4 octets (ATYP 1), 16 (ATYP 4), or for a name (ATYP 3) a length
 * octet L and L octets: the name, then NULs up to the next multiple of 4
 * (1 + L is a multiple of 4; the padding is counted in L).
 *
 * Policy (which commands, methods, options a server honours; what to do
 * with initial data, sessions, idempotence) stays with the caller. The
 * UDP association messages are not covered yet.
 */
#ifndef SOCKEYE_SOCKS6_H
#define SOCKEYE_SOCKS6_H

#include <stddef.h>
#include <stdint.h>

#include "password_msg.h"
#include "socks5.h"

#define SOCKS6_VERSION 0x06
/*
 * The version octet of implementations that speak the draft -12 layout
 * before standardisation ("200 + draft revision", as the Go socks6 library
 * and libsocks6msg number theirs): 212. Accepted only when asked for.
 */
#define SOCKS6_VERSION_LEGACY 0xd4

/* draft -12: "Options Length ... MUST NOT exceed 20KB" (KB = 1024). */
#define SOCKS6_OPTIONS_MAX (20 * 1024)
/* Initial data announced in an Authentication Method Advertisement. */
#define SOCKS6_INITIAL_DATA_MAX (1 << 14)

/* Longest possible messages, for sizing buffers. */
#define SOCKS6_REQUEST_MAX (8 + 256 + SOCKS6_OPTIONS_MAX)
#define SOCKS6_OP_REPLY_MAX SOCKS6_REQUEST_MAX
#define SOCKS6_AUTH_REPLY_MAX (4 + SOCKS6_OPTIONS_MAX)

/* Parser flags. */
#define SOCKS6_ALLOW_LEGACY 0x01	/* VER 0xD4 is accepted as well as 6 */

enum socks6_cmd {
	SOCKS6_CMD_NOOP = 0x00,
	SOCKS6_CMD_CONNECT = 0x01,
	SOCKS6_CMD_BIND = 0x02,
	SOCKS6_CMD_UDP_ASSOCIATE = 0x03,
};

/* Authentication Reply TYPE. */
enum socks6_auth_type {
	SOCKS6_AUTH_SUCCESS = 0x00,
	SOCKS6_AUTH_FAILURE = 0x01,
};

/* Operation Reply codes: SOCKS5's 0..8 (enum socks5_rep), and 9. */
#define SOCKS6_REP_TIMEOUT 0x09		/* connection attempt timed out */

enum socks6_opt_kind {
	SOCKS6_OPT_STACK = 1,
	SOCKS6_OPT_AUTH_ADVERT = 2,	/* Authentication Method Advertisement */
	SOCKS6_OPT_AUTH_SELECT = 3,	/* Authentication Method Selection */
	SOCKS6_OPT_AUTH_DATA = 4,
	SOCKS6_OPT_SESSION_REQUEST = 5,
	SOCKS6_OPT_SESSION_ID = 6,
	SOCKS6_OPT_SESSION_OK = 8,
	SOCKS6_OPT_SESSION_INVALID = 9,
	SOCKS6_OPT_SESSION_TEARDOWN = 10,
	SOCKS6_OPT_IDEM_REQUEST = 11,	/* token window request */
	SOCKS6_OPT_IDEM_WINDOW = 12,
	SOCKS6_OPT_IDEM_SPEND = 13,	/* Idempotence Expenditure */
	SOCKS6_OPT_IDEM_ACCEPTED = 14,
	SOCKS6_OPT_IDEM_REJECTED = 15,
};
#define SOCKS6_OPT_KIND_MAX 15		/* highest kind this codec reads */

/* Stack option legs (a bit each; 3 = both). */
#define SOCKS6_LEG_CLIENT_PROXY 0x01
#define SOCKS6_LEG_PROXY_REMOTE 0x02
#define SOCKS6_LEG_BOTH 0x03

enum socks6_stack_level {
	SOCKS6_LEVEL_IP = 1,
	SOCKS6_LEVEL_IPV4 = 2,
	SOCKS6_LEVEL_IPV6 = 3,
	SOCKS6_LEVEL_TCP = 4,
	SOCKS6_LEVEL_UDP = 5,
};

/* Availability values (Happy Eyeballs, No Fragmentation, MPTCP, UDP Error). */
#define SOCKS6_AVAIL_NO 0x01		/* not desired / not performed */
#define SOCKS6_AVAIL_YES 0x02		/* desired / performed */

/*
 * The Stack options the draft defines, by (level, code). Each has an
 * 8-octet option and one 8- or 16-bit value:
 *   TOS (IP 1), TTL (IP 3): the octet; any leg.
 *   NOFRAG (IP 4): availability; any leg.
 *   HAPPY_EYEBALLS (IP 2), MULTIPATH (TCP 2), UDP_ERROR (UDP 1):
 *	availability; proxy-remote leg only.
 *   TFO (TCP 1): SYN payload size; BACKLOG (TCP 3): backlog; both 16-bit,
 *	proxy-remote leg only.
 *   PORT_PARITY (UDP 2): parity (0 none, 1 even, 2 odd) << 8 | reserve
 *	(0 or 1); proxy-remote leg only.
 * What they mean is the caller's: e.g. Happy Eyeballs must be ignored
 * unless the request names a domain, and a proxy must echo each Stack
 * option it supports in its Operation Reply.
 */
enum socks6_stack_id {
	SOCKS6_STACK_TOS = 0,
	SOCKS6_STACK_HAPPY_EYEBALLS,
	SOCKS6_STACK_TTL,
	SOCKS6_STACK_NOFRAG,
	SOCKS6_STACK_TFO,
	SOCKS6_STACK_MULTIPATH,
	SOCKS6_STACK_BACKLOG,
	SOCKS6_STACK_UDP_ERROR,
	SOCKS6_STACK_PORT_PARITY,
	SOCKS6_STACK_NIDS
};

/* Where an options block comes from: the same kind can mean two things. */
enum socks6_ctx {
	SOCKS6_CTX_REQUEST = 0,		/* client -> proxy */
	SOCKS6_CTX_AUTH_REPLY,		/* proxy -> client, Authentication Reply */
	SOCKS6_CTX_OP_REPLY,		/* proxy -> client, Operation Reply */
};

enum socks6_status {
	SOCKS6_OK = 0,
	SOCKS6_NEED_MORE,
	SOCKS6_ERR_VERSION,	/* VER not 6 (nor 0xD4 when allowed): answer
				 * socks6_encode_version_mismatch() */
	SOCKS6_ERR_OPTLEN,	/* Options Length over 20 KB or not a multiple
				 * of 4 */
	SOCKS6_ERR_ATYP,	/* unknown address type */
	SOCKS6_ERR_NAME,	/* domain: L of 0 or 1 + L not a multiple of 4,
				 * empty name, NUL inside, padding not NUL or
				 * longer than needed */
	SOCKS6_ERR_OPTION,	/* option framing: Length < 4, not a multiple
				 * of 4, or past the end of the options */
	SOCKS6_ERR_OPTION_DATA,	/* a known option of the wrong size (too short
				 * or longer than its content) or with a value
				 * the draft rules out */
	SOCKS6_ERR_DUPLICATE,	/* an option that may appear once, twice */
};

/*
 * One Stack option id as sent: `legs` is 0 when absent, otherwise the
 * SOCKS6_LEG_* bits seen; value[0] is the client-proxy leg's value,
 * value[1] the proxy-remote leg's (see enum socks6_stack_id).
 */
struct socks6_stack_opt {
	uint8_t legs;
	uint16_t value[2];
};

/*
 * An Authentication Data option: its method and where its data (the
 * octets after the method, padding included) lie, as an offset from the
 * start of the options block.
 */
struct socks6_auth_data {
	uint8_t method;
	uint16_t off;
	uint16_t len;
};

/*
 * What an options block says. Kinds that carry one value may appear once;
 * Stack options once per (id, leg); Authentication Data once per method;
 * other kinds (unknown ones, and Stack options of unknown level/code or on
 * a leg their option does not allow) are counted and otherwise ignored, as
 * the draft requires of unsupported options.
 */
struct socks6_options {
	uint32_t kinds;			/* bit k: a kind-k option was read
					 * (ignored Stack options aside) */
	uint16_t nignored;		/* options ignored (unknown/unsupported) */

	struct socks6_stack_opt stack[SOCKS6_STACK_NIDS];

	/* Kind 2: initial data length and the methods, each once, in order
	 * of first appearance, without 0 (it is also the padding octet, and
	 * a client always supports it). */
	uint16_t initial_data_len;
	uint16_t nmethods;
	uint8_t methods[255];

	/* Kind 3. */
	uint8_t selected_method;

	/* Kind 4, in order; at most one per method. */
	uint16_t nauth;
	struct socks6_auth_data auth[256];

	/*
	 * Kind 4, method 2 (RFC 1929 carried in the option, draft -12
	 * "Username/Password Authentication"): in a request the parsed
	 * username/password (a secret: wipe it after use); in an
	 * Authentication Reply the RFC 1929 STATUS.
	 */
	int has_password;
	struct password_request password;
	uint8_t password_status;

	/* Kind 6: where the Session ID lies (offset from the options). */
	uint16_t session_id_off;
	uint16_t session_id_len;

	uint32_t idem_request;		/* kind 11: window size asked for */
	uint32_t idem_base;		/* kind 12: window base ... */
	uint32_t idem_size;		/* ... and size (1 .. 2^31 - 1) */
	uint32_t idem_token;		/* kind 13: the token spent */
};

/* Whether an options struct holds an option of `kind`. */
#define SOCKS6_HAS(o, kind) \
	((unsigned)(kind) <= SOCKS6_OPT_KIND_MAX && (((o)->kinds >> (kind)) & 1u))

struct socks6_request {
	uint8_t version;		/* 6, or 0xD4 if allowed */
	uint8_t cmd;			/* any value: unknown ones get REP 7 */
	uint8_t padding;		/* as sent (not required to be 0) */
	uint16_t options_len;
	size_t options_off;		/* offset of the options in `buf` */
	struct socks5_addr dst;		/* atyp uses the SOCKS5 values */
	struct socks6_options opts;
};

struct socks6_auth_reply {
	uint8_t version;
	uint8_t type;			/* enum socks6_auth_type; passed through */
	uint16_t options_len;
	size_t options_off;
	struct socks6_options opts;
};

struct socks6_op_reply {
	uint8_t version;
	uint8_t rep;			/* passed through */
	uint8_t padding;
	uint16_t options_len;
	size_t options_off;
	struct socks5_addr bnd;
	struct socks6_options opts;
};

/* One option as the iterator sees it: `data` has len - 4 octets. */
struct socks6_opt {
	uint16_t kind;
	uint16_t len;
	const uint8_t *data;
};

/*
 * Client -> proxy Request. `flags`: SOCKS6_ALLOW_LEGACY or 0. *used is
 * the request's length; for a CONNECT with an Authentication Method
 * Advertisement, opts.initial_data_len octets of initial data follow it
 * (they are not part of the request).
 */
enum socks6_status socks6_parse_request(const uint8_t *buf, size_t len,
    int flags, struct socks6_request *out, size_t *used);

/* Proxy -> client Authentication Reply and Operation Reply. */
enum socks6_status socks6_parse_auth_reply(const uint8_t *buf, size_t len,
    int flags, struct socks6_auth_reply *out, size_t *used);
enum socks6_status socks6_parse_op_reply(const uint8_t *buf, size_t len,
    int flags, struct socks6_op_reply *out, size_t *used);

/*
 * A whole options block of `len` octets (a multiple of 4, at most
 * SOCKS6_OPTIONS_MAX) from a message of context `ctx`. Never NEED_MORE:
 * an option running past `len` is SOCKS6_ERR_OPTION.
 */
enum socks6_status socks6_parse_options(const uint8_t *opts, size_t len,
    enum socks6_ctx ctx, struct socks6_options *out);

/*
 * Walk the options of a block one by one (every kind, unknown ones too),
 * e.g. to echo Stack options. Start with *off = 0. Returns 1 with *out
 * set and *off moved past it, 0 at the end, -1 when the framing is broken
 * (then *off is left at the bad option). Reads only opts[0 .. len).
 */
int socks6_opt_next(const uint8_t *opts, size_t len, size_t *off,
    struct socks6_opt *out);

/*
 * Choose a method: the first entry of `prefs` (the server's preference
 * order) in the advertisement, SOCKS5_METHOD_NONE when it is in `prefs`
 * (every client supports it), or SOCKS5_METHOD_NO_ACCEPTABLE.
 */
uint8_t socks6_select_method(const struct socks6_options *o,
    const uint8_t *prefs, size_t nprefs);

/*
 * Message encoders. `version` is SOCKS6_VERSION or SOCKS6_VERSION_LEGACY;
 * `opts` is an options block of `optlen` octets built with the option
 * encoders below, and must parse (socks6_parse_options) in the message's
 * context, so whatever is written parses back. Each returns bytes written
 * or 0.
 */
size_t socks6_encode_version_mismatch(uint8_t *buf, size_t cap,
    uint8_t version);
size_t socks6_encode_request(uint8_t *buf, size_t cap, uint8_t version,
    uint8_t cmd, const struct socks5_addr *dst, const uint8_t *opts,
    size_t optlen);
size_t socks6_encode_auth_reply(uint8_t *buf, size_t cap, uint8_t version,
    uint8_t type, const uint8_t *opts, size_t optlen);
size_t socks6_encode_op_reply(uint8_t *buf, size_t cap, uint8_t version,
    uint8_t rep, const struct socks5_addr *bnd, const uint8_t *opts,
    size_t optlen);

/*
 * Option encoders: one option each, padded with zeros to a multiple of 4;
 * bytes written, or 0 when it does not fit or a value is out of range.
 * Append them one after another to build an options block.
 */
/* `leg`: 1, 2 or 3, as the id allows; `value` as enum socks6_stack_id. */
size_t socks6_encode_opt_stack(uint8_t *buf, size_t cap,
    enum socks6_stack_id id, uint8_t leg, uint16_t value);
/* `initial` <= SOCKS6_INITIAL_DATA_MAX. */
size_t socks6_encode_opt_auth_advert(uint8_t *buf, size_t cap,
    uint16_t initial, const uint8_t *methods, size_t nmethods);
size_t socks6_encode_opt_auth_select(uint8_t *buf, size_t cap,
    uint8_t method);
/* Any method's data as is (method 2: see the two below). */
size_t socks6_encode_opt_auth_data(uint8_t *buf, size_t cap, uint8_t method,
    const uint8_t *data, size_t len);
/* Method 2: the RFC 1929 request (client) and reply (proxy). */
size_t socks6_encode_opt_password_request(uint8_t *buf, size_t cap,
    const uint8_t *uname, size_t ulen, const uint8_t *passwd, size_t plen);
size_t socks6_encode_opt_password_reply(uint8_t *buf, size_t cap,
    uint8_t status);
/* The kinds without data: 5, 8, 9, 10, 14, 15. */
size_t socks6_encode_opt_flag(uint8_t *buf, size_t cap, uint16_t kind);
/* `len`: a non-zero multiple of 4. */
size_t socks6_encode_opt_session_id(uint8_t *buf, size_t cap,
    const uint8_t *id, size_t len);
size_t socks6_encode_opt_idem_request(uint8_t *buf, size_t cap,
    uint32_t size);
/* `size`: 1 .. 2^31 - 1. */
size_t socks6_encode_opt_idem_window(uint8_t *buf, size_t cap,
    uint32_t base, uint32_t size);
size_t socks6_encode_opt_idem_spend(uint8_t *buf, size_t cap,
    uint32_t token);

/* Human text for a reply code (SOCKS5's, and 9); never NULL. */
const char *socks6_rep_str(uint8_t rep);

/* Human text for a status ("bad version"); never NULL. */
const char *socks6_status_str(enum socks6_status st);

#endif
