/* SPDX-License-Identifier: ISC */
/*
 * connect.h - what the two parts of sockeye-connect share.
 *
 *	connect.c		main, the command line, reading and
 *				protecting the secrets, the relay
 *	connect_handshake.c	the SOCKS5 client side: connecting to the
 *				proxy, the greeting, password or CHAP
 *				authentication, the CONNECT request
 *	connect_gssapi.c	GSS-API authentication (RFC 1961) and the
 *				tunnel it may set up: every later byte
 *				wrapped in an MTYP 3 message
 *	connect_socks6.c	--socks6: the same job in SOCKS 6 (draft
 *				-12): one request carrying the password and
 *				the initial data, then the two replies
 *
 * The program is one blocking client for one connection, so its state is
 * static and lasts the whole run: the secrets (one buffer to lock into
 * memory and to wipe) and the bytes read from the proxy (what follows the
 * SOCKS reply is the destination's first data, handed to the relay). Both
 * are defined in connect.c; connect_handshake.c uses and consumes them.
 *
 * With GSS-API at integrity or confidentiality, the proxy's bytes after
 * the protection negotiation are MTYP 3 messages: they are read into
 * `wire` and unwrapped into `inbuf`, so the CONNECT reply and the relay
 * read plain bytes from `inbuf` as they do without a tunnel.
 */
#ifndef SOCKEYE_TOOLS_CONNECT_H
#define SOCKEYE_TOOLS_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chap_msg.h"
#include "gss_msg.h"
#include "socks5.h"

#define PROG "sockeye-connect"

/* Exit statuses (documented in sockeye-connect(1)). */
#define EXIT_OK		0
#define EXIT_ERR	1	/* proxy unreachable, protocol or I/O error */
#define EXIT_USAGE	2
#define EXIT_AUTH	3	/* authentication refused or failed */
#define EXIT_REFUSED	4	/* the proxy answered the request with REP != 0 */

/* RFC 1929 and the SOCKS5 CHAP draft both cap names and secrets at 255. */
#define SECRET_MAX 255

/* Relay buffer per direction. */
#define RELAY_BUF (64 * 1024)

/*
 * Bytes from the proxy during the handshake. A CHAP message can be up to
 * CHAP_MSG_MAX long (nobody sends that, but the codec allows it), and
 * whatever follows the SOCKS reply in the same read is the destination's
 * first data: it stays here and is the first thing written to stdout.
 */
#define INBUF_SIZE (CHAP_MSG_MAX + SOCKS5_REPLY_MAX + RELAY_BUF)

/*
 * The tunnel's messages: at most TUNNEL_CHUNK plain bytes each (RFC 1961
 * sets no size; 16 KiB is a TLS record's), whose wrapped token is at most
 * TUNNEL_TOKEN_MAX (the chunk is cut to what gss_wrap_size_limit() says
 * fits, so a room of TUNNEL_MSG_MAX always takes one whole message).
 */
#define TUNNEL_CHUNK		16384
#define TUNNEL_TOKEN_MAX	(TUNNEL_CHUNK + 1024)
#define TUNNEL_MSG_MAX		(GSS_MSG_HDR_LEN + TUNNEL_TOKEN_MAX)

enum method_choice {
	M_NONE = 0,
	M_PASSWORD,
	M_CHAP,
	M_GSSAPI,
};

struct options {
	enum method_choice method;
	bool mutual;
	bool verbose;			/* -v: say what the proxy answered */
	bool socks6;			/* --socks6 (or --socks6-legacy) */
	uint8_t socks6_version;		/* SOCKS6_VERSION or _LEGACY */
	size_t initial_data;		/* --initial-data: 0, or 1 .. 16384 */
	int happy_eyeballs;		/* --happy-eyeballs: -1 unset, 0, 1 */
	const char *user;		/* NULL: the login name */
	const char *gssapi_service;	/* "rcmd": the target is SERVICE@proxy_host */
	uint8_t gssapi_prot;		/* GSS_PROT_*: the least we accept */
	char proxy_host[256];		/* without brackets */
	char proxy_port[32];
	const char *proxy_arg;		/* as given, for messages */
	const char *host;		/* destination, as given */
	uint16_t port;
};

/* Bytes read from the proxy and not yet consumed. */
struct inbuf {
	uint8_t b[INBUF_SIZE];
	size_t len;
};

/*
 * The secrets live here, not on the stack: one place to lock into memory
 * and to wipe. `server_secret` is the optional separate secret a server
 * answers our CHAP challenge with (auth.chap_server_secret).
 */
struct secrets {
	uint8_t password[SECRET_MAX + 1];
	size_t password_len;
	uint8_t server_secret[SECRET_MAX + 1];
	size_t server_secret_len;
	bool have_server_secret;
};

/* Filled by connect.c before the handshake, wiped by whoever used them. */
extern struct secrets secrets;
/* The handshake appends and consumes; the relay sends on what is left. */
extern struct inbuf inbuf;
/* The proxy's MTYP 3 messages not yet unwrapped (tunnel only). */
extern struct inbuf wire;

/* --- connect.c -------------------------------------------------------- */

/*
 * Wipe the secrets, print "sockeye-connect: MESSAGE" on stderr and exit
 * with `status` (one of EXIT_*). Does not return.
 */
void die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Overwrite the secrets (OPENSSL_cleanse: not optimised away). */
void wipe_secrets(void);

/* --- connect_handshake.c ---------------------------------------------- */

/*
 * Connect (blocking) to o's proxy, trying each of its addresses in turn;
 * TCP_NODELAY is set. Returns the socket or dies with EXIT_ERR.
 */
int connect_proxy(const struct options *o);

/* Start the handshake's one deadline (a minute from now). */
void handshake_begin(void);

/*
 * Connect to o's proxy and go through the SOCKS5 handshake within one
 * deadline (a minute): offer o->method and nothing else, authenticate as
 * `user` (NULL with M_NONE) with the secrets, wiped as soon as they are
 * used, then ask for a CONNECT to `dst`. Blocks. Returns the connected
 * socket (blocking) for the relay; whatever followed the proxy's reply is
 * in `inbuf`. Any failure dies with its EXIT_* status and a message.
 */
int connect_handshake(const struct options *o, const char *user,
    const struct socks5_addr *dst);

/*
 * Blocking I/O for the handshake, on the bare connection (no tunnel).
 * send_all() sends all `n` bytes or dies ("sending WHAT to the proxy").
 * recv_more() appends at least one byte to `in`, or dies: at the
 * handshake deadline, when `in` is full, on an error or at EOF. `step`
 * prefixes the messages ("CHAP: ", or "" outside authentication, which
 * also makes EOF an EXIT_ERR instead of EXIT_AUTH); `waiting_for` says
 * what we wait for ("the method selection").
 */
void send_all(int fd, const uint8_t *p, size_t n, const char *what);
void recv_more(int fd, struct inbuf *in, const char *step,
    const char *waiting_for);
/* recv_more(), but EOF returns 0 instead of dying; else the bytes read. */
size_t recv_some(int fd, struct inbuf *in, const char *step,
    const char *waiting_for);
/* Drop the first `n` bytes of `in` (n <= in->len). */
void inbuf_consume(struct inbuf *in, size_t n);

/* A SOCKS method's name for messages ("password"; "unknown"). */
const char *method_name(uint8_t m);

/* --- connect_socks6.c ------------------------------------------------- */

/*
 * --socks6: read o->initial_data bytes from stdin (fewer at EOF; sets
 * *stdin_eof then), connect to the proxy and send one SOCKS 6 CONNECT
 * request for `dst` with them, in one send(): the password (M_PASSWORD)
 * in an Authentication Data option, the secrets wiped once encoded. Then
 * read the Authentication Reply and the Operation Reply under the
 * handshake deadline. Blocks. Returns the socket for the relay, with
 * what followed the Operation Reply in `inbuf`. Dies with EXIT_AUTH when
 * authentication fails, EXIT_REFUSED on a reply code other than success,
 * EXIT_ERR otherwise (a version mismatch reply included).
 */
int socks6_handshake(const struct options *o, const char *user,
    const struct socks5_addr *dst, bool *stdin_eof);

/* --- connect_gssapi.c ------------------------------------------------- */

/*
 * RFC 1961 after the proxy chose method 01: establish a security context
 * with o->gssapi_service@o->proxy_host from the user's ticket cache,
 * mutual authentication required, then negotiate the protection level;
 * a grant of at least o->gssapi_prot is accepted. At integrity or
 * confidentiality the tunnel is active on return, and whatever the proxy
 * sent past the negotiation has moved from `inbuf` to `wire`. Blocks
 * (with the handshake's deadline); any failure dies, EXIT_AUTH for the
 * GSS-API and the proxy's refusals. Without HAVE_GSSAPI it only dies.
 */
void gssapi_auth(int fd, const struct options *o);

/* Whether the bytes after the protection negotiation are wrapped. */
bool tunnel_active(void);

/*
 * Wrap `n` plain bytes (1 <= n <= TUNNEL_CHUNK) as one MTYP 3 message
 * into `out`, which has room for `cap` >= TUNNEL_MSG_MAX bytes. Returns
 * the message's length. Dies when the GSS-API fails. Tunnel only.
 */
size_t tunnel_seal(const uint8_t *plain, size_t n, uint8_t *out, size_t cap);

/*
 * Unwrap the whole MTYP 3 messages at the front of `wire` into `out`
 * (room for `cap` bytes), consuming them, for as long as the next one is
 * sure to fit (its plain text is never longer than its token). Returns
 * the number of plain bytes written; 0 when `wire` holds no whole
 * message or the next does not fit. Dies on anything else than MTYP 3
 * (an abort included), on a token that fails to unwrap, and at
 * confidentiality on a token that was not encrypted. Tunnel only.
 */
size_t tunnel_open(uint8_t *out, size_t cap);

/* Delete the security context (RFC 1961 section 6); a no-op without one. */
void tunnel_end(void);

#endif /* SOCKEYE_TOOLS_CONNECT_H */
