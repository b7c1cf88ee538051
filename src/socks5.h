/* SPDX-License-Identifier: ISC */
/*
 * socks5.h - the pure SOCKS5 codec (RFC 1928).
 *
 * Every function here is a pure function over byte buffers: no I/O, no
 * malloc, no logging, no globals, no configuration. Parsers take
 * (buf, len, out, used) and return SOCKS5_NEED_MORE when `buf` holds a
 * valid prefix of a message, SOCKS5_OK with *used set to the message's
 * length when a whole message was parsed, or a SOCKS5_ERR_* value when the
 * bytes can never become a valid message. On anything but SOCKS5_OK the
 * contents of *out and *used are unspecified. Messages may arrive in pieces:
 * a caller appends to its buffer and parses again until it is not NEED_MORE.
 *
 * Encoders fill a caller's buffer and return the number of bytes written,
 * or 0 when `cap` is too small or the input is invalid.
 *
 * Policy (which methods, which commands, ACLs) stays with the caller.
 */
#ifndef SOCKEYE_SOCKS5_H
#define SOCKEYE_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define SOCKS5_VERSION 0x05

enum socks5_method {
	SOCKS5_METHOD_NONE = 0x00,
	SOCKS5_METHOD_GSSAPI = 0x01,
	SOCKS5_METHOD_PASSWORD = 0x02,
	SOCKS5_METHOD_CHAP = 0x03,
	SOCKS5_METHOD_NO_ACCEPTABLE = 0xff,
};

enum socks5_cmd {
	SOCKS5_CMD_CONNECT = 0x01,
	SOCKS5_CMD_BIND = 0x02,
	SOCKS5_CMD_UDP_ASSOCIATE = 0x03,
};

enum socks5_atyp {
	SOCKS5_ATYP_IPV4 = 0x01,
	SOCKS5_ATYP_DOMAIN = 0x03,
	SOCKS5_ATYP_IPV6 = 0x04,
};

enum socks5_rep {
	SOCKS5_REP_SUCCEEDED = 0x00,
	SOCKS5_REP_GENERAL_FAILURE = 0x01,
	SOCKS5_REP_NOT_ALLOWED = 0x02,
	SOCKS5_REP_NET_UNREACHABLE = 0x03,
	SOCKS5_REP_HOST_UNREACHABLE = 0x04,
	SOCKS5_REP_CONN_REFUSED = 0x05,
	SOCKS5_REP_TTL_EXPIRED = 0x06,
	SOCKS5_REP_CMD_NOT_SUPPORTED = 0x07,
	SOCKS5_REP_ATYP_NOT_SUPPORTED = 0x08,
};

enum socks5_status {
	SOCKS5_OK = 0,
	SOCKS5_NEED_MORE,
	SOCKS5_ERR_VERSION,	/* VER is not 5 */
	SOCKS5_ERR_NMETHODS,	/* greeting with NMETHODS == 0 */
	SOCKS5_ERR_ATYP,	/* unknown address type: length unknowable */
	SOCKS5_ERR_NAME,	/* DOMAINNAME of length 0 or containing a NUL */
};

/* Longest possible messages, for sizing buffers. */
#define SOCKS5_GREETING_MAX (2 + 255)
#define SOCKS5_REQUEST_MAX (4 + 1 + 255 + 2)
#define SOCKS5_REPLY_MAX SOCKS5_REQUEST_MAX
#define SOCKS5_UDP_HEADER_MAX (3 + 1 + 1 + 255 + 2)

/* A SOCKS address: IPv4, IPv6 or a domain name, plus a port. */
struct socks5_addr {
	uint8_t atyp;			/* enum socks5_atyp */
	uint8_t name_len;		/* for DOMAIN: length of name, 1..255 */
	uint16_t port;			/* host byte order */
	union {
		uint8_t ipv4[4];	/* network order */
		uint8_t ipv6[16];	/* network order */
		char name[256];		/* NUL-terminated, never contains NUL */
	} u;
};

struct socks5_greeting {
	uint8_t nmethods;		/* 1..255 */
	uint8_t methods[255];
};

struct socks5_request {
	uint8_t version;		/* always 5 on SOCKS5_OK */
	uint8_t cmd;			/* any value: the caller answers 7 to unknown ones */
	uint8_t rsv;			/* as sent (lenient: not required to be 0) */
	struct socks5_addr dst;
};

/* Server's reply (also parsed by clients: sockeye-connect, tests). */
struct socks5_reply {
	uint8_t rep;
	struct socks5_addr bnd;
};

struct socks5_udp_header {
	uint8_t frag;
	struct socks5_addr dst;
};

/* Client -> server greeting: VER NMETHODS METHODS... */
enum socks5_status socks5_parse_greeting(const uint8_t *buf, size_t len,
    struct socks5_greeting *out, size_t *used);

/* Server -> client method selection: VER METHOD. *method gets METHOD. */
enum socks5_status socks5_parse_method_reply(const uint8_t *buf, size_t len,
    uint8_t *method, size_t *used);

/* Client -> server request: VER CMD RSV ATYP DST.ADDR DST.PORT. */
enum socks5_status socks5_parse_request(const uint8_t *buf, size_t len,
    struct socks5_request *out, size_t *used);

/* Server -> client reply: VER REP RSV ATYP BND.ADDR BND.PORT. */
enum socks5_status socks5_parse_reply(const uint8_t *buf, size_t len,
    struct socks5_reply *out, size_t *used);

/*
 * UDP request header: RSV(2) FRAG ATYP DST.ADDR DST.PORT, then payload.
 * A datagram is whole: NEED_MORE means it is truncated and must be dropped.
 * *used is the header length; the payload is buf + *used.
 */
enum socks5_status socks5_parse_udp_header(const uint8_t *buf, size_t len,
    struct socks5_udp_header *out, size_t *used);

/*
 * Choose a method: the first entry of `prefs` (the server's preference order)
 * that the client offered, or SOCKS5_METHOD_NO_ACCEPTABLE.
 */
uint8_t socks5_select_method(const struct socks5_greeting *g,
    const uint8_t *prefs, size_t nprefs);

/* Encoders; each returns bytes written or 0. */
size_t socks5_encode_greeting(uint8_t *buf, size_t cap,
    const uint8_t *methods, size_t nmethods);
size_t socks5_encode_method_reply(uint8_t *buf, size_t cap, uint8_t method);
size_t socks5_encode_request(uint8_t *buf, size_t cap, uint8_t cmd,
    const struct socks5_addr *dst);
size_t socks5_encode_reply(uint8_t *buf, size_t cap, uint8_t rep,
    const struct socks5_addr *bnd);
size_t socks5_encode_udp_header(uint8_t *buf, size_t cap, uint8_t frag,
    const struct socks5_addr *addr);

/*
 * Conversions between socks5_addr and sockaddr (AF_INET / AF_INET6; an
 * IPv4-mapped IPv6 address becomes ATYP IPV4). Return 0 or -1.
 */
int socks5_addr_from_sockaddr(struct socks5_addr *out, const struct sockaddr *sa);
/* IPV4/IPV6 only; `out` must have room for a struct sockaddr_storage. */
int socks5_addr_to_sockaddr(const struct socks5_addr *a, struct sockaddr *out,
    socklen_t *outlen);

/*
 * Format for logs: "1.2.3.4:80", "[2001:db8::1]:443", "example.com:80".
 * Bytes of a name outside printable ASCII, and '\\', '"', '=' and space,
 * are written as \xHH so a client cannot inject log fields or lines.
 * Always NUL-terminates (truncating if needed); returns `buf`.
 * SOCKS5_ADDR_STRLEN is enough for any address.
 */
#define SOCKS5_ADDR_STRLEN (255 * 4 + 8)
char *socks5_addr_format(const struct socks5_addr *a, char *buf, size_t cap);

/* Human text for a REP code ("connection refused"); never NULL. */
const char *socks5_rep_str(uint8_t rep);

/* Human text for a status ("bad version"); never NULL. */
const char *socks5_status_str(enum socks5_status st);

#endif
