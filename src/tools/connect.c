/*
 * connect.c - sockeye-connect: reach HOST PORT through a SOCKS5 proxy and
 * relay stdin/stdout, for ssh's ProxyCommand and for clients that cannot
 * speak CHAP (with mutual authentication) themselves.
 *
 *	sockeye-connect [-a none|password|chap] [--mutual] [-u USER]
 *	    PROXY:PORT HOST PORT
 *
 * A blocking client by design: one connection, one user. The handshake is
 * plain blocking I/O under one deadline; the relay is a poll() loop over
 * stdin, stdout and the socket with one buffer each way, so that neither
 * direction waits for the other and a half-close travels through (stdin
 * EOF becomes shutdown(SHUT_WR); we keep reading until the proxy closes).
 *
 * The SOCKS5 messages come from the daemon's own pure codec (socks5.h),
 * the RFC 1929 and CHAP messages and HMAC-MD5 from the server's
 * (auth/password_msg.h, auth/chap_msg.h), so the client and the server
 * cannot drift apart on the wire format.
 *
 * Secrets: the password is read before connecting (so typing it does not
 * eat the proxy's handshake timeout) from SOCKEYE_PASSWORD or the terminal
 * with echo off, kept in one locked static buffer, and wiped with
 * OPENSSL_cleanse as soon as authentication is over. Core dumps are off
 * for the whole run, and the environment copy is overwritten in place so
 * /proc/PID/environ does not keep it either. Nothing secret ever goes to
 * stderr.
 */
#include "config_auto.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "chap_msg.h"
#include "password_msg.h"
#include "sockaddr.h"
#include "socks5.h"

#define PROG "sockeye-connect"

/* Exit statuses (documented in sockeye-connect(1)). */
#define EXIT_OK		0
#define EXIT_ERR	1	/* proxy unreachable, protocol or I/O error */
#define EXIT_USAGE	2
#define EXIT_AUTH	3	/* authentication refused or failed */
#define EXIT_REFUSED	4	/* the proxy answered the request with REP != 0 */

/* The whole handshake (greeting to reply) must finish within this. */
#define HANDSHAKE_TIMEOUT_MS (60 * 1000)

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

static struct secrets secrets;
static struct inbuf inbuf;
static uint64_t deadline_ms;

static void die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
wipe_secrets(void)
{
	OPENSSL_cleanse(&secrets, sizeof(secrets));
}

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	wipe_secrets();
	fflush(stdout);
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-hV] [-a none|password|chap] [--mutual] [-u user]\n"
	    "                       proxy:port host port\n"
	    "  -a METHOD    authentication: none (default), password (RFC 1929)\n"
	    "               or chap (HMAC-MD5); only this method is offered\n"
	    "  -m, --mutual with chap: also make the proxy prove it knows the secret\n"
	    "  -u USER      user name (default: the login name)\n"
	    "  -V           print the version and exit\n"
	    "  -h           print this help and exit\n"
	    "The password comes from $SOCKEYE_PASSWORD or the terminal (no echo);\n"
	    "with --mutual, $SOCKEYE_SERVER_SECRET (if set) is the proxy's secret.\n"
	    "Example: ssh -o ProxyCommand='" PROG " -a chap --mutual -u alice"
	    " proxy:1080 %%h %%p' host\n");
}

/* ------------------------------------------------------------------ */
/* Time and blocking I/O with the handshake deadline                  */
/* ------------------------------------------------------------------ */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
send_all(int fd, const uint8_t *p, size_t n, const char *what)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "sending %s to the proxy: %s", what,
			    strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Read more bytes from the proxy into `in`, waiting at most until the
 * handshake deadline. `waiting_for` names what we wait for, for messages
 * ("the method selection"). Returns only when at least one byte arrived.
 */
static void
recv_more(int fd, struct inbuf *in, const char *step, const char *waiting_for)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		ssize_t r;
		int n;

		if (in->len == sizeof(in->b))
			die(EXIT_ERR, "%sthe proxy sent too much while we waited"
			    " for %s", step, waiting_for);
		if (now >= deadline_ms)
			die(EXIT_ERR, "%stimed out waiting for %s", step,
			    waiting_for);
		n = poll(&pfd, 1, (int)(deadline_ms - now));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "poll: %s", strerror(errno));
		}
		if (n == 0)
			continue;	/* the deadline check above ends it */
		r = recv(fd, in->b + in->len, sizeof(in->b) - in->len, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die(EXIT_ERR, "%sreading %s from the proxy: %s", step,
			    waiting_for, strerror(errno));
		}
		if (r == 0)
			die(step[0] != '\0' ? EXIT_AUTH : EXIT_ERR,
			    "%sthe proxy closed the connection while we waited"
			    " for %s", step, waiting_for);
		in->len += (size_t)r;
		return;
	}
}

static void
inbuf_consume(struct inbuf *in, size_t n)
{
	memmove(in->b, in->b + n, in->len - n);
	in->len -= n;
}

/* ------------------------------------------------------------------ */
/* Secrets                                                            */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t prompt_signal;

static void
prompt_sig_cb(int sig)
{
	prompt_signal = sig;
}

/*
 * Read one line from /dev/tty with echo off, like readpassphrase(3): the
 * prompt goes to the terminal (stdin and stdout belong to the relay), a
 * signal during the prompt restores the terminal before it takes effect.
 * Returns the length, or dies.
 */
static size_t
read_tty_secret(const char *prompt, uint8_t *buf, size_t cap)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP,
	    SIGTTIN, SIGTTOU };
	struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
	struct termios saved, noecho;
	size_t len = 0, i;
	bool too_long = false, restore = false;
	int fd, err = 0;
	char c;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_AUTH, "a password is needed, but there is no terminal"
		    " to ask on (%s) and SOCKEYE_PASSWORD is not set",
		    strerror(errno));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = prompt_sig_cb;	/* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	prompt_signal = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &old[i]);

	if (tcgetattr(fd, &saved) == 0) {
		noecho = saved;
		noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
		noecho.c_lflag |= ECHONL;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restore = true;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		err = errno;

	while (err == 0 && prompt_signal == 0) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0) {
			if (errno == EINTR)
				continue;	/* prompt_signal ends the loop */
			err = errno;
			break;
		}
		if (r == 0 || c == '\n' || c == '\r')
			break;
		if (len < cap)
			buf[len++] = (uint8_t)c;
		else
			too_long = true;
	}
	OPENSSL_cleanse(&c, sizeof(c));

	if (restore)
		tcsetattr(fd, TCSAFLUSH, &saved);
	if (!restore && write(fd, "\n", 1) < 0) {
		/* nothing to do: the newline is cosmetic */
	}
	close(fd);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old[i], NULL);
	if (prompt_signal != 0) {
		wipe_secrets();
		OPENSSL_cleanse(buf, cap);
		raise(prompt_signal);
		die(EXIT_AUTH, "interrupted while reading the password");
	}
	if (err != 0)
		die(EXIT_AUTH, "reading the password from the terminal: %s",
		    strerror(err));
	if (too_long)
		die(EXIT_USAGE, "the password is longer than %d bytes", SECRET_MAX);
	return len;
}

/*
 * Take a secret from the environment variable `name`: copy it, take it
 * out of the environment (no child inherits it), then overwrite the whole
 * "NAME=value" string in place: it lives in the initial environment block
 * on our stack, which /proc/PID/environ shows for as long as we run.
 * Returns -1 when the variable is not set.
 */
static int
env_secret(const char *name, uint8_t *buf, size_t *len)
{
	size_t nlen = strlen(name), n;
	char *v = getenv(name), *entry;

	if (v == NULL)
		return -1;
	n = strlen(v);
	entry = v - nlen - 1;
	if (n <= SECRET_MAX)
		memcpy(buf, v, n);
	unsetenv(name);
	/* getenv() points just past "NAME=" in the environ string. */
	if (strncmp(entry, name, nlen) == 0 && entry[nlen] == '=')
		OPENSSL_cleanse(entry, nlen + 1 + n);
	else
		OPENSSL_cleanse(v, n);
	if (n > SECRET_MAX)
		die(EXIT_USAGE, "%s is longer than %d bytes", name, SECRET_MAX);
	*len = n;
	return 0;
}

static void
get_secrets(const struct options *o, const char *user)
{
	char prompt[512];

	if (env_secret("SOCKEYE_PASSWORD", secrets.password,
	    &secrets.password_len) != 0) {
		snprintf(prompt, sizeof(prompt), "%s for %s@%s: ",
		    o->method == M_CHAP ? "CHAP secret" : "Password", user,
		    o->proxy_arg);
		secrets.password_len = read_tty_secret(prompt, secrets.password,
		    SECRET_MAX);
	}
	if (secrets.password_len == 0)
		die(EXIT_USAGE, "the %s is empty", o->method == M_CHAP ?
		    "CHAP secret" : "password");
	if (o->mutual && env_secret("SOCKEYE_SERVER_SECRET",
	    secrets.server_secret, &secrets.server_secret_len) == 0)
		secrets.have_server_secret = true;
}

/*
 * Keep secrets out of core files and swap, and away from ptrace by other
 * processes of the same user (PR_SET_DUMPABLE also makes /proc/PID/mem
 * root-only). Best effort: an unprivileged mlock may be refused.
 */
static void
protect_memory(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
#ifdef HAVE_SYS_PRCTL_H
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	if (mlock(&secrets, sizeof(secrets)) != 0) {
		/* not fatal: RLIMIT_MEMLOCK may be 0 for this user */
	}
}

/* ------------------------------------------------------------------ */
/* Command line                                                       */
/* ------------------------------------------------------------------ */

static void
parse_proxy(struct options *o, const char *arg)
{
	const char *host, *port, *end;
	size_t hlen;

	o->proxy_arg = arg;
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (end == NULL || end[1] != ':')
			die(EXIT_USAGE, "bad proxy '%s': want [IPv6]:PORT", arg);
		host = arg + 1;
		hlen = (size_t)(end - host);
		port = end + 2;
	} else {
		end = strrchr(arg, ':');
		if (end == NULL)
			die(EXIT_USAGE, "bad proxy '%s': want HOST:PORT", arg);
		host = arg;
		hlen = (size_t)(end - arg);
		port = end + 1;
		if (memchr(host, ':', hlen) != NULL)
			die(EXIT_USAGE, "bad proxy '%s': write an IPv6 address"
			    " in brackets, [IPv6]:PORT", arg);
	}
	if (hlen == 0 || hlen >= sizeof(o->proxy_host))
		die(EXIT_USAGE, "bad proxy '%s': no host", arg);
	if (port[0] == '\0' || strlen(port) >= sizeof(o->proxy_port))
		die(EXIT_USAGE, "bad proxy '%s': no port", arg);
	memcpy(o->proxy_host, host, hlen);
	o->proxy_host[hlen] = '\0';
	strcpy(o->proxy_port, port);
}

static uint16_t
parse_port(const char *s)
{
	unsigned long v = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 5)
		die(EXIT_USAGE, "bad port '%s': want a number 1-65535", s);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			die(EXIT_USAGE, "bad port '%s': want a number 1-65535", s);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		die(EXIT_USAGE, "bad port '%s': want a number 1-65535", s);
	return (uint16_t)v;
}

/*
 * The destination as the proxy should see it: an IP literal (also in
 * brackets, as ssh passes %h for an IPv6 host) goes as ATYP 1 or 4, any
 * other name as ATYP 3 for the proxy to resolve.
 */
static void
make_dst(struct socks5_addr *dst, const char *host, uint16_t port)
{
	union sockaddr_any sa;
	size_t n = strlen(host);

	memset(dst, 0, sizeof(*dst));
	if (sockaddr_parse_ip(host, port, &sa) == 0 &&
	    !(sa.sa.sa_family == AF_INET6 && sa.sin6.sin6_scope_id != 0) &&
	    socks5_addr_from_sockaddr(dst, &sa.sa) == 0)
		return;
	if (n == 0 || n > 255)
		die(EXIT_USAGE, "bad host '%s': a name is 1 to 255 bytes", host);
	dst->atyp = SOCKS5_ATYP_DOMAIN;
	dst->name_len = (uint8_t)n;
	memcpy(dst->u.name, host, n);
	dst->u.name[n] = '\0';
	dst->port = port;
}

static enum method_choice
parse_method(const char *s)
{
	if (strcmp(s, "none") == 0)
		return M_NONE;
	if (strcmp(s, "password") == 0)
		return M_PASSWORD;
	if (strcmp(s, "chap") == 0)
		return M_CHAP;
	die(EXIT_USAGE, "unknown method '%s': want none, password or chap", s);
}

static void
parse_args(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mutual", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "+a:hmu:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			o->method = parse_method(optarg);
			break;
		case 'm':
			o->mutual = true;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'V':
			printf(PROG " %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, PROG ": want 3 arguments (proxy:port host port),"
		    " got %d\n", argc - optind);
		usage(stderr);
		exit(EXIT_USAGE);
	}
	if (o->mutual && o->method != M_CHAP)
		die(EXIT_USAGE, "--mutual needs -a chap");
	if (o->user != NULL && o->method == M_NONE)
		die(EXIT_USAGE, "-u needs -a password or -a chap");
	if (o->user != NULL && (o->user[0] == '\0' || strlen(o->user) > 255))
		die(EXIT_USAGE, "the user name must be 1 to 255 bytes");
	parse_proxy(o, argv[optind]);
	o->host = argv[optind + 1];
	o->port = parse_port(argv[optind + 2]);
}

static const char *
login_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL || pw->pw_name == NULL || pw->pw_name[0] == '\0' ||
	    strlen(pw->pw_name) > 255)
		die(EXIT_USAGE, "no user name: give one with -u");
	return pw->pw_name;
}

/* ------------------------------------------------------------------ */
/* Connecting and the SOCKS5 handshake                                */
/* ------------------------------------------------------------------ */

static int
connect_proxy(const struct options *o)
{
	struct addrinfo hints, *res, *ai;
	char addr[SOCKADDR_STRLEN], tried[1024] = "";
	size_t used = 0;
	int fd = -1, err = 0, rc, naddr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	rc = getaddrinfo(o->proxy_host, o->proxy_port, &hints, &res);
	if (rc != 0)
		die(EXIT_ERR, "cannot resolve proxy %s: %s", o->proxy_arg,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	/*
	 * Every address in order, like ssh: the first that accepts wins.
	 * The failures are only worth showing when all of them fail (a
	 * "localhost" that is ::1 and 127.0.0.1 with the proxy on one).
	 */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		naddr++;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		sockaddr_format(ai->ai_addr, addr, sizeof(addr));
		rc = snprintf(tried + used, sizeof(tried) - used, "%s%s: %s",
		    used > 0 ? "; " : "", addr, strerror(err));
		if (rc > 0 && (size_t)rc < sizeof(tried) - used)
			used += (size_t)rc;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (naddr > 1)
			die(EXIT_ERR, "cannot connect to proxy %s (%s)",
			    o->proxy_arg, tried);
		die(EXIT_ERR, "cannot connect to proxy %s: %s", o->proxy_arg,
		    strerror(err));
	}
	rc = 1;
	/* The handshake is small messages in lock step: no Nagle delays. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &rc, sizeof(rc));
	return fd;
}

static const char *
method_name(uint8_t m)
{
	switch (m) {
	case SOCKS5_METHOD_NONE:
		return "none";
	case SOCKS5_METHOD_GSSAPI:
		return "gssapi";
	case SOCKS5_METHOD_PASSWORD:
		return "password";
	case SOCKS5_METHOD_CHAP:
		return "chap";
	default:
		return "unknown";
	}
}

static uint8_t
method_id(enum method_choice m)
{
	switch (m) {
	case M_PASSWORD:
		return SOCKS5_METHOD_PASSWORD;
	case M_CHAP:
		return SOCKS5_METHOD_CHAP;
	case M_NONE:
		break;
	}
	return SOCKS5_METHOD_NONE;
}

/*
 * Offer exactly the one method asked for: offering more would let anyone
 * on the path (or a misconfigured proxy) pick a weaker one.
 */
static void
socks5_greet(int fd, uint8_t want)
{
	uint8_t out[SOCKS5_GREETING_MAX], chosen = 0;
	enum socks5_status st;
	size_t n, used = 0;

	n = socks5_encode_greeting(out, sizeof(out), &want, 1);
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode the greeting");
	send_all(fd, out, n, "the greeting");
	for (;;) {
		st = socks5_parse_method_reply(inbuf.b, inbuf.len, &chosen, &used);
		if (st == SOCKS5_OK)
			break;
		if (st != SOCKS5_NEED_MORE)
			die(EXIT_ERR, "the proxy's method selection is not SOCKS5"
			    " (%s)", socks5_status_str(st));
		recv_more(fd, &inbuf, "", "the method selection");
	}
	inbuf_consume(&inbuf, used);
	if (chosen == SOCKS5_METHOD_NO_ACCEPTABLE)
		die(EXIT_AUTH, "the proxy accepts none of the offered"
		    " authentication methods (offered: %s)", method_name(want));
	if (chosen != want)
		die(EXIT_AUTH, "the proxy chose method 0x%02x (%s), which we did"
		    " not offer", chosen, method_name(chosen));
}

/* RFC 1929 (auth/password_msg.h): VER ULEN UNAME PLEN PASSWD -> VER STATUS. */
static void
auth_password(int fd, const char *user)
{
	uint8_t msg[PASSWORD_REQUEST_MAX], status = 0;
	enum password_status st;
	size_t n, used = 0;

	n = password_encode_request(msg, sizeof(msg), (const uint8_t *)user,
	    strlen(user), secrets.password, secrets.password_len);
	wipe_secrets();
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode the password request");
	send_all(fd, msg, n, "the user name and password");
	OPENSSL_cleanse(msg, sizeof(msg));

	for (;;) {
		st = password_parse_reply(inbuf.b, inbuf.len, &status, &used);
		if (st == PASSWORD_OK)
			break;
		if (st != PASSWORD_NEED_MORE)
			die(EXIT_AUTH, "password authentication: malformed answer"
			    " from the proxy (%s)", password_status_str(st));
		recv_more(fd, &inbuf, "password authentication: ",
		    "the verdict");
	}
	inbuf_consume(&inbuf, used);
	if (status != PASSWORD_STATUS_SUCCESS)
		die(EXIT_AUTH, "password authentication failed: the proxy"
		    " rejected user '%s' or its password (status 0x%02x)", user,
		    status);
}

/* ---- CHAP (draft-ietf-aft-socks-chap-01, see auth/chap_msg.h) ---- */

static struct chap_msg chap_rx;	/* 255 AVAs: too big for the stack */

/*
 * Print the proxy's TEXT-MESSAGE, escaping anything that is not printable
 * ASCII so it cannot play games with the terminal.
 */
static void
chap_print_text(const struct chap_msg *m)
{
	unsigned i;
	uint8_t k;

	for (i = 0; i < m->navas; i++) {
		const struct chap_ava *a = &m->avas[i];

		if (a->att != CHAP_ATT_TEXT_MESSAGE)
			continue;
		fprintf(stderr, PROG ": the proxy says: ");
		for (k = 0; k < a->len; k++) {
			uint8_t c = a->val[k];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				fputc(c, stderr);
			else
				fprintf(stderr, "\\x%02x", c);
		}
		fputc('\n', stderr);
	}
}

/*
 * Receive one whole CHAP message into chap_rx. Its AVAs point into inbuf;
 * the caller calls inbuf_consume(&inbuf, *used) once done with them.
 */
static void
chap_recv(int fd, const char *waiting_for, size_t *used)
{
	enum chap_status st;

	for (;;) {
		st = chap_parse_msg(inbuf.b, inbuf.len, &chap_rx, used);
		if (st == CHAP_OK)
			break;
		if (st != CHAP_NEED_MORE)
			die(EXIT_AUTH, "CHAP: malformed message from the proxy"
			    " while waiting for %s (%s)", waiting_for,
			    chap_status_str(st));
		recv_more(fd, &inbuf, "CHAP: ", waiting_for);
	}
	chap_print_text(&chap_rx);
}

static void
chap_send(int fd, const struct chap_ava *avas, size_t n, const char *what)
{
	uint8_t out[2 + 4 * 257];
	size_t len;

	len = chap_encode_msg(out, sizeof(out), avas, n);
	if (len == 0)
		die(EXIT_ERR, "internal error: cannot encode the CHAP %s", what);
	send_all(fd, out, len, what);
	OPENSSL_cleanse(out, sizeof(out));
}

/* A STATUS that is present and not success means the proxy said no. */
static bool
chap_refused(const struct chap_msg *m)
{
	const struct chap_ava *s = chap_msg_find(m, CHAP_ATT_STATUS);

	return s != NULL && !chap_status_is_success(s);
}

/*
 * The exchange (draft section "Challenge-Response Exchange", and "Mutual
 * Authentication" with --mutual):
 *
 *	C: ALGORITHMS(85)
 *	S: ALGORITHMS(85) CHALLENGE(c1)		(maybe in two messages)
 *	C: USER-IDENTITY RESPONSE(HMAC(k, c1)) [CHALLENGE(c2)]
 *	S: STATUS [RESPONSE(HMAC(k_s, c2))]
 *	C: STATUS				(mutual only: our verdict)
 *
 * USER-IDENTITY goes with the RESPONSE, where the draft puts it (PuTTY
 * sends it in the first message instead; the server takes either).
 */
static void
auth_chap(int fd, const char *user, bool mutual)
{
	static const uint8_t alg = CHAP_ALG_HMAC_MD5;
	static const uint8_t ok = CHAP_STATUS_SUCCESS, bad = CHAP_STATUS_FAILURE;
	uint8_t challenge[255], my_challenge[CHAP_CHALLENGE_LEN];
	uint8_t resp[CHAP_HMAC_MD5_LEN], expect[CHAP_HMAC_MD5_LEN];
	const struct chap_ava *a;
	struct chap_ava out[3];
	size_t used, challenge_len = 0, nout;
	bool have_alg = false;
	/* secrets are wiped before the verdict: remember which one we used. */
	const bool server_secret = secrets.have_server_secret;
	int i, rc;

	out[0] = (struct chap_ava){ CHAP_ATT_ALGORITHMS, 1, &alg };
	chap_send(fd, out, 1, "CHAP algorithm list");

	/*
	 * The proxy's choice and its challenge. A server may send both in
	 * one message (sockeyed, PicoSOCKS5) or one after the other; take
	 * at most a few messages so a babbling proxy cannot keep us here.
	 */
	for (i = 0; i < 4 && (!have_alg || challenge_len == 0); i++) {
		chap_recv(fd, have_alg ? "its challenge" :
		    "its choice of algorithm", &used);
		if (chap_refused(&chap_rx))
			die(EXIT_AUTH, "CHAP: the proxy refused algorithm"
			    " negotiation (it does not accept HMAC-MD5)");
		a = chap_msg_find(&chap_rx, CHAP_ATT_ALGORITHMS);
		if (a != NULL) {
			if (a->len != 1 || a->val[0] != CHAP_ALG_HMAC_MD5)
				die(EXIT_AUTH, "CHAP: the proxy chose an"
				    " algorithm we did not offer");
			have_alg = true;
		}
		a = chap_msg_find(&chap_rx, CHAP_ATT_CHALLENGE);
		if (a != NULL) {
			if (a->len == 0)
				die(EXIT_AUTH, "CHAP: the proxy sent an empty"
				    " challenge");
			memcpy(challenge, a->val, a->len);
			challenge_len = a->len;
		}
		inbuf_consume(&inbuf, used);
	}
	if (!have_alg || challenge_len == 0)
		die(EXIT_AUTH, "CHAP: the proxy sent no %s",
		    have_alg ? "challenge" : "algorithm choice");

	if (chap_hmac_md5(secrets.password, secrets.password_len, challenge,
	    challenge_len, resp) != 0)
		die(EXIT_ERR, "CHAP: HMAC-MD5 failed (OpenSSL)");
	nout = 0;
	out[nout++] = (struct chap_ava){ CHAP_ATT_USER_IDENTITY,
	    (uint8_t)strlen(user), (const uint8_t *)user };
	out[nout++] = (struct chap_ava){ CHAP_ATT_RESPONSE, sizeof(resp), resp };
	if (mutual) {
		/*
		 * Our challenge must not be the proxy's own: a peer could
		 * otherwise reflect it back to us and get our answer to use as
		 * its own (RAND_bytes never repeats 16 octets, but a short or
		 * crafted server challenge costs nothing to rule out).
		 */
		do {
			if (RAND_bytes(my_challenge, sizeof(my_challenge)) != 1)
				die(EXIT_ERR, "CHAP: RAND_bytes failed");
		} while (challenge_len == sizeof(my_challenge) &&
		    memcmp(challenge, my_challenge, sizeof(my_challenge)) == 0);
		out[nout++] = (struct chap_ava){ CHAP_ATT_CHALLENGE,
		    sizeof(my_challenge), my_challenge };
		/* The answer we expect, computed before the password goes. */
		if (server_secret)
			rc = chap_hmac_md5(secrets.server_secret,
			    secrets.server_secret_len, my_challenge,
			    sizeof(my_challenge), expect);
		else
			rc = chap_hmac_md5(secrets.password, secrets.password_len,
			    my_challenge, sizeof(my_challenge), expect);
		if (rc != 0)
			die(EXIT_ERR, "CHAP: HMAC-MD5 failed (OpenSSL)");
	}
	wipe_secrets();
	chap_send(fd, out, nout, "CHAP response");
	OPENSSL_cleanse(resp, sizeof(resp));

	chap_recv(fd, "the verdict on our response", &used);
	a = chap_msg_find(&chap_rx, CHAP_ATT_STATUS);
	if (a == NULL)
		die(EXIT_AUTH, "CHAP: the proxy sent no status after our"
		    " response");
	if (!chap_status_is_success(a))
		die(EXIT_AUTH, "CHAP: the proxy rejected our response (wrong"
		    " user name or secret%s)", mutual ? "" :
		    ", or the proxy requires mutual authentication: --mutual");
	if (mutual) {
		a = chap_msg_find(&chap_rx, CHAP_ATT_RESPONSE);
		if (a == NULL) {
			OPENSSL_cleanse(expect, sizeof(expect));
			die(EXIT_AUTH, "CHAP: the proxy did not answer our"
			    " challenge (it refuses or does not support mutual"
			    " authentication)");
		}
		if (a->len != sizeof(expect) ||
		    !chap_ct_equal(a->val, expect, sizeof(expect))) {
			/* Tell the proxy, then go: it must not get our data. */
			out[0] = (struct chap_ava){ CHAP_ATT_STATUS, 1, &bad };
			chap_send(fd, out, 1, "CHAP status");
			OPENSSL_cleanse(expect, sizeof(expect));
			die(EXIT_AUTH, "CHAP: server's response to our challenge"
			    " is wrong: the proxy does not know the %s",
			    server_secret ? "server secret" :
			    "secret");
		}
		OPENSSL_cleanse(expect, sizeof(expect));
		inbuf_consume(&inbuf, used);
		out[0] = (struct chap_ava){ CHAP_ATT_STATUS, 1, &ok };
		chap_send(fd, out, 1, "CHAP status");
	} else {
		inbuf_consume(&inbuf, used);
	}
}

static void
socks5_connect(int fd, const struct options *o, const struct socks5_addr *dst)
{
	uint8_t out[SOCKS5_REQUEST_MAX];
	struct socks5_reply rep;
	enum socks5_status st;
	size_t n, used = 0;

	n = socks5_encode_request(out, sizeof(out), SOCKS5_CMD_CONNECT, dst);
	if (n == 0)
		die(EXIT_ERR, "internal error: cannot encode the request");
	send_all(fd, out, n, "the CONNECT request");
	for (;;) {
		st = socks5_parse_reply(inbuf.b, inbuf.len, &rep, &used);
		if (st == SOCKS5_OK)
			break;
		if (st != SOCKS5_NEED_MORE)
			die(EXIT_ERR, "the proxy's reply is malformed (%s)",
			    socks5_status_str(st));
		recv_more(fd, &inbuf, "", "the reply to CONNECT");
	}
	inbuf_consume(&inbuf, used);
	if (rep.rep != SOCKS5_REP_SUCCEEDED)
		die(EXIT_REFUSED, "proxy %s could not connect to %s port %u:"
		    " %s (REP %u)", o->proxy_arg, o->host, o->port,
		    socks5_rep_str(rep.rep), rep.rep);
}

/* ------------------------------------------------------------------ */
/* The relay                                                          */
/* ------------------------------------------------------------------ */

struct pipe_buf {
	uint8_t *b;
	size_t start, end, cap;
};

/*
 * Move bytes both ways until the proxy side is closed and everything it
 * sent is on stdout. stdin and stdout are not made non-blocking (they may
 * be shared with other processes, e.g. a terminal); they are only read or
 * written after poll() says they are ready, as nc does. The socket is ours
 * and non-blocking.
 *
 *	stdin  --up-->   socket	(stdin EOF: shutdown(SHUT_WR) once drained)
 *	stdout <--down-- socket	(socket EOF: done once drained)
 *
 * A socket error does not throw away what already arrived: a failed send
 * stops the upward direction, a failed receive ends the downward one, and
 * the error is reported (exit 1) only after the rest is on stdout.
 */
static int
relay(int sock)
{
	static uint8_t upbuf[RELAY_BUF];
	struct pipe_buf up = { upbuf, 0, 0, sizeof(upbuf) };
	/* inbuf already holds whatever followed the reply: it goes first. */
	struct pipe_buf down = { inbuf.b, 0, inbuf.len, sizeof(inbuf.b) };
	bool in_eof = false, sock_eof = false, shut = false;
	int send_err = 0, recv_err = 0;
	int in_fd = STDIN_FILENO, out_fd = STDOUT_FILENO;

	if (fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) != 0)
		die(EXIT_ERR, "fcntl: %s", strerror(errno));

	for (;;) {
		struct pollfd p[3];
		int n, i_in = -1, i_sock, i_out = -1;
		ssize_t r;

		if (sock_eof && down.start == down.end) {
			if (recv_err != 0)
				die(EXIT_ERR, "reading from the proxy: %s",
				    strerror(recv_err));
			if (send_err != 0)
				die(EXIT_ERR, "sending to the proxy: %s",
				    strerror(send_err));
			return EXIT_OK;
		}
		if (in_eof && up.start == up.end && !shut) {
			/* Pass the half-close on, never a reset. */
			if (shutdown(sock, SHUT_WR) != 0 && errno != ENOTCONN)
				send_err = errno;
			shut = true;
		}

		n = 0;
		i_sock = n;
		p[n].fd = sock;
		p[n].events = 0;
		if (!sock_eof && down.end < down.cap)
			p[n].events |= POLLIN;
		if (up.start < up.end)
			p[n].events |= POLLOUT;
		/*
		 * Nothing to do with the socket right now (the proxy's data
		 * waits for stdout, ours for stdin): leave it out, or a
		 * pending POLLHUP/POLLERR would make poll() spin.
		 */
		if (p[n].events == 0)
			p[n].fd = -1;
		n++;
		if (!in_eof && up.end < up.cap) {
			i_in = n;
			p[n].fd = in_fd;
			p[n].events = POLLIN;
			n++;
		}
		if (down.start < down.end) {
			i_out = n;
			p[n].fd = out_fd;
			p[n].events = POLLOUT;
			n++;
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die(EXIT_ERR, "poll: %s", strerror(errno));
		}

		/* stdin -> up */
		if (i_in >= 0 && p[i_in].revents != 0) {
			r = read(in_fd, up.b + up.end, up.cap - up.end);
			if (r > 0)
				up.end += (size_t)r;
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				in_eof = true;	/* an unreadable stdin ends like EOF */
		}
		/* up -> socket */
		if ((p[i_sock].revents & (POLLOUT | POLLERR | POLLHUP)) &&
		    up.start < up.end) {
			r = send(sock, up.b + up.start, up.end - up.start,
			    MSG_NOSIGNAL);
			if (r >= 0) {
				up.start += (size_t)r;
			} else if (errno != EINTR && errno != EAGAIN) {
				/* The proxy stopped taking data: stop sending. */
				send_err = errno;
				up.start = up.end;
				in_eof = shut = true;
			}
			if (up.start == up.end)
				up.start = up.end = 0;
		}
		/* socket -> down */
		if ((p[i_sock].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    !sock_eof && down.end < down.cap) {
			r = recv(sock, down.b + down.end, down.cap - down.end, 0);
			if (r > 0) {
				down.end += (size_t)r;
			} else if (r == 0) {
				sock_eof = true;
			} else if (errno != EINTR && errno != EAGAIN) {
				recv_err = errno;
				sock_eof = true;
			}
		}
		/* down -> stdout */
		if (i_out >= 0 && p[i_out].revents != 0) {
			r = write(out_fd, down.b + down.start, down.end - down.start);
			if (r >= 0)
				down.start += (size_t)r;
			else if (errno != EINTR && errno != EAGAIN)
				die(EXIT_ERR, "writing to stdout: %s",
				    strerror(errno));
			if (down.start == down.end)
				down.start = down.end = 0;
		}
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	struct socks5_addr dst;
	const char *user = NULL;
	int fd;

	protect_memory();
	/* A reader that goes away must give EPIPE, not kill us silently. */
	signal(SIGPIPE, SIG_IGN);

	parse_args(&o, argc, argv);
	make_dst(&dst, o.host, o.port);
	if (o.method != M_NONE) {
		user = o.user != NULL ? o.user : login_name();
		get_secrets(&o, user);
	}

	fd = connect_proxy(&o);
	deadline_ms = now_ms() + HANDSHAKE_TIMEOUT_MS;
	socks5_greet(fd, method_id(o.method));
	switch (o.method) {
	case M_PASSWORD:
		auth_password(fd, user);
		break;
	case M_CHAP:
		auth_chap(fd, user, o.mutual);
		break;
	case M_NONE:
		break;
	}
	wipe_secrets();
	socks5_connect(fd, &o, &dst);
	return relay(fd);
}
