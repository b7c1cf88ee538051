/* SPDX-License-Identifier: ISC */
/*
 * connect.h - what the two parts of sockeye-connect share.
 *
 *	connect.c		main, the command line, reading and
 *				protecting the secrets, the relay
 *	connect_handshake.c	the SOCKS5 client side: connecting to the
 *				proxy, the greeting, password or CHAP
 *				authentication, the CONNECT request
 *
 * The program is one blocking client for one connection, so its state is
 * static and lasts the whole run: the secrets (one buffer to lock into
 * memory and to wipe) and the bytes read from the proxy (what follows the
 * SOCKS reply is the destination's first data, handed to the relay). Both
 * are defined in connect.c; connect_handshake.c uses and consumes them.
 */
#ifndef SOCKEYE_TOOLS_CONNECT_H
#define SOCKEYE_TOOLS_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chap_msg.h"
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

enum method_choice {
	M_NONE = 0,
	M_PASSWORD,
	M_CHAP,
};

struct options {
	enum method_choice method;
	bool mutual;
	const char *user;		/* NULL: the login name */
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
 * Connect to o's proxy and go through the SOCKS5 handshake within one
 * deadline (a minute): offer o->method and nothing else, authenticate as
 * `user` (NULL with M_NONE) with the secrets, wiped as soon as they are
 * used, then ask for a CONNECT to `dst`. Blocks. Returns the connected
 * socket (blocking) for the relay; whatever followed the proxy's reply is
 * in `inbuf`. Any failure dies with its EXIT_* status and a message.
 */
int connect_handshake(const struct options *o, const char *user,
    const struct socks5_addr *dst);

#endif /* SOCKEYE_TOOLS_CONNECT_H */
