/* SPDX-License-Identifier: ISC */
/*
 * connect.c - sockeye-connect: reach HOST PORT through a SOCKS5 proxy and
 * relay stdin/stdout, for ssh's ProxyCommand and for clients that cannot
 * speak CHAP (with mutual authentication) themselves.
 *
 *	sockeye-connect [-v] [-a none|password|chap|gssapi] [--mutual]
 *	    [-u USER] [--gssapi-service NAME] [--gssapi-protection LEVEL]
 *	    [--socks6 | --socks6-legacy] [--initial-data=N]
 *	    [--happy-eyeballs=on|off] PROXY:PORT HOST PORT
 *
 * A blocking client by design: one connection, one user. The handshake is
 * plain blocking I/O under one deadline; the relay is a poll() loop over
 * stdin, stdout and the socket with one buffer each way, so that neither
 * direction waits for the other and a half-close travels through (stdin
 * EOF becomes shutdown(SHUT_WR); we keep reading until the proxy closes).
 * This file has main, the command line, the secrets and the relay; the
 * SOCKS5 handshake is in connect_handshake.c, GSS-API in connect_gssapi.c
 * (connect.h: what they share), SOCKS 6 (--socks6) in connect_socks6.c.
 * With a GSS-API tunnel the relay is the
 * same loop: stdin is read in chunks that are sealed into the upward
 * buffer, and the proxy's bytes land in `wire` to be unwrapped into the
 * downward one.
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
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "connect.h"
#include "sockaddr.h"
#include "socks5.h"
#include "socks6.h"

struct secrets secrets;
struct inbuf inbuf;
struct inbuf wire;

void
wipe_secrets(void)
{
	OPENSSL_cleanse(&secrets, sizeof(secrets));
}

void
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
	    "usage: " PROG " [-hVv] [-a none|password|chap|gssapi] [--mutual]\n"
	    "                       [-u user] [--gssapi-service name]\n"
	    "                       [--gssapi-protection level]\n"
	    "                       [--socks6 | --socks6-legacy] [--initial-data=n]\n"
	    "                       [--happy-eyeballs=on|off]\n"
	    "                       proxy:port host port\n"
	    "  -a METHOD    authentication: none (default), password (RFC 1929),\n"
	    "               chap (HMAC-MD5) or gssapi (Kerberos, RFC 1961%s);\n"
	    "               only this method is offered\n"
	    "  -m, --mutual with chap: also make the proxy prove it knows the secret\n"
	    "  -u USER      user name (default: the login name)\n"
	    "  --gssapi-service NAME\n"
	    "               with gssapi: the proxy's service, NAME@proxy (rcmd)\n"
	    "  --gssapi-protection none|integrity|confidentiality\n"
	    "               with gssapi: the least protection of the traffic\n"
	    "               to accept (confidentiality)\n"
	    "  --socks6     speak SOCKS 6 (draft -12, experimental); -a none or\n"
	    "               password, the password sent with the request\n"
	    "  --socks6-legacy\n"
	    "               --socks6 with version octet 212 (0xD4)\n"
	    "  --initial-data=N\n"
	    "               with --socks6: send up to N (1-%d) bytes of stdin\n"
	    "               with the request\n"
	    "  --happy-eyeballs=on|off\n"
	    "               with --socks6: ask the proxy to use (or not) Happy\n"
	    "               Eyeballs towards a destination name\n"
	    "  -v           say what the proxy answered (bound address)\n"
	    "  -V           print the version and exit\n"
	    "  -h           print this help and exit\n"
	    "The password comes from $SOCKEYE_PASSWORD or the terminal (no echo);\n"
	    "with --mutual, $SOCKEYE_SERVER_SECRET (if set) is the proxy's secret.\n"
	    "gssapi uses the Kerberos ticket cache ($KRB5CCNAME; see kinit(1)).\n"
	    "Example: ssh -o ProxyCommand='" PROG " -a chap --mutual -u alice"
	    " proxy:1080 %%h %%p' host\n",
#ifdef HAVE_GSSAPI
	    ""
#else
	    "; not in this build"
#endif
	    , SOCKS6_INITIAL_DATA_MAX);
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
		/* cppcheck-suppress unreachableCode ; a signal ignored or caught returns */
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
	if (strcmp(s, "gssapi") == 0) {
#ifdef HAVE_GSSAPI
		return M_GSSAPI;
#else
		die(EXIT_USAGE, "-a gssapi: this " PROG " was built without"
		    " GSS-API");
#endif
	}
	die(EXIT_USAGE, "unknown method '%s': want none, password, chap or"
	    " gssapi", s);
}

static uint8_t
parse_protection(const char *s)
{
	if (strcmp(s, "none") == 0)
		return GSS_PROT_NONE;
	if (strcmp(s, "integrity") == 0)
		return GSS_PROT_INTEGRITY;
	if (strcmp(s, "confidentiality") == 0)
		return GSS_PROT_CONFIDENTIALITY;
	die(EXIT_USAGE, "unknown protection '%s': want none, integrity or"
	    " confidentiality", s);
}

/* --initial-data=N: 1 .. SOCKS6_INITIAL_DATA_MAX, what the draft allows. */
static size_t
parse_initial_data(const char *s)
{
	unsigned long v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && v <= SOCKS6_INITIAL_DATA_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == s || *p != '\0' || v == 0 || v > SOCKS6_INITIAL_DATA_MAX)
		die(EXIT_USAGE, "bad --initial-data '%s': want a number 1-%d", s,
		    SOCKS6_INITIAL_DATA_MAX);
	return (size_t)v;
}

static int
parse_on_off(const char *opt, const char *s)
{
	if (strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "off") == 0)
		return 0;
	die(EXIT_USAGE, "bad %s '%s': want on or off", opt, s);
}

static void
parse_args(struct options *o, int argc, char **argv)
{
	enum { OPT_GSS_SERVICE = 256, OPT_GSS_PROTECTION, OPT_SOCKS6,
	    OPT_SOCKS6_LEGACY, OPT_INITIAL_DATA, OPT_HAPPY_EYEBALLS };
	static const struct option longopts[] = {
		{ "mutual", no_argument, NULL, 'm' },
		{ "socks6", no_argument, NULL, OPT_SOCKS6 },
		{ "socks6-legacy", no_argument, NULL, OPT_SOCKS6_LEGACY },
		{ "initial-data", required_argument, NULL, OPT_INITIAL_DATA },
		{ "happy-eyeballs", required_argument, NULL,
		    OPT_HAPPY_EYEBALLS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "gssapi-service", required_argument, NULL, OPT_GSS_SERVICE },
		{ "gssapi-protection", required_argument, NULL,
		    OPT_GSS_PROTECTION },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool gss_opt = false;
	int ch;

	memset(o, 0, sizeof(*o));
	o->gssapi_service = "rcmd";
	o->gssapi_prot = GSS_PROT_CONFIDENTIALITY;
	o->socks6_version = SOCKS6_VERSION;
	o->happy_eyeballs = -1;
	while ((ch = getopt_long(argc, argv, "+a:hmu:vV", longopts, NULL)) != -1) {
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
		case OPT_GSS_SERVICE:
			o->gssapi_service = optarg;
			gss_opt = true;
			break;
		case OPT_GSS_PROTECTION:
			o->gssapi_prot = parse_protection(optarg);
			gss_opt = true;
			break;
		case OPT_SOCKS6:
			o->socks6 = true;
			break;
		case OPT_SOCKS6_LEGACY:
			o->socks6 = true;
			o->socks6_version = SOCKS6_VERSION_LEGACY;
			break;
		case OPT_INITIAL_DATA:
			o->initial_data = parse_initial_data(optarg);
			break;
		case OPT_HAPPY_EYEBALLS:
			o->happy_eyeballs = parse_on_off("--happy-eyeballs",
			    optarg);
			break;
		case 'v':
			o->verbose = true;
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
	if (o->mutual && o->method == M_GSSAPI)
		die(EXIT_USAGE, "--mutual needs -a chap (-a gssapi is always"
		    " mutual)");
	if (o->mutual && o->method != M_CHAP)
		die(EXIT_USAGE, "--mutual needs -a chap");
	if (o->user != NULL && o->method == M_GSSAPI)
		die(EXIT_USAGE, "-u needs -a password or -a chap (with -a gssapi"
		    " the user is the Kerberos principal of the ticket cache)");
	if (o->user != NULL && o->method == M_NONE)
		die(EXIT_USAGE, "-u needs -a password or -a chap");
	if (o->user != NULL && (o->user[0] == '\0' || strlen(o->user) > 255))
		die(EXIT_USAGE, "the user name must be 1 to 255 bytes");
	/*
	 * SOCKS 6 here is one round trip: the password rides in the request.
	 * CHAP and GSS-API would need their multi-message exchanges carried
	 * in Authentication Data options, which nothing defines yet.
	 */
	if (o->socks6 && o->method != M_NONE && o->method != M_PASSWORD)
		die(EXIT_USAGE, "--socks6 supports -a none and -a password only"
		    " (SOCKS 6 has no CHAP or GSS-API exchange yet)");
	if (o->initial_data > 0 && !o->socks6)
		die(EXIT_USAGE, "--initial-data needs --socks6");
	if (o->happy_eyeballs >= 0 && !o->socks6)
		die(EXIT_USAGE, "--happy-eyeballs needs --socks6");
	if (gss_opt && o->method != M_GSSAPI)
		die(EXIT_USAGE, "--gssapi-service and --gssapi-protection need"
		    " -a gssapi");
	/* The proxy's host name is added: SERVICE@HOST, within 255. */
	if (o->gssapi_service[0] == '\0' || strlen(o->gssapi_service) > 64 ||
	    strchr(o->gssapi_service, '@') != NULL)
		die(EXIT_USAGE, "bad --gssapi-service '%s': want a service name"
		    " of 1 to 64 bytes without '@'", o->gssapi_service);
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
 *
 * With a GSS-API tunnel (RFC 1961 section 5) both buffers stay what they
 * are, the bytes on each side of the socket, and the wrapping happens at
 * their other end:
 *
 *	stdin  --read, tunnel_seal-->  up (MTYP 3 messages)  --> socket
 *	stdout <-- down (plain) <--tunnel_open-- wire (MTYP 3) <-- socket
 *
 * stdin is read one chunk at a time, and only when `up` has room for the
 * whole message it becomes; the socket is read into `wire` and unwrapped
 * into `down` whenever the next message surely fits there. Back-pressure
 * is the same: a full `up` stops reading stdin, a full `wire` the socket.
 */
static int
relay(int sock, bool stdin_eof)
{
	static uint8_t upbuf[RELAY_BUF], chunk[TUNNEL_CHUNK];
	struct pipe_buf up = { upbuf, 0, 0, sizeof(upbuf) };
	/* inbuf already holds whatever followed the reply: it goes first. */
	struct pipe_buf down = { inbuf.b, 0, inbuf.len, sizeof(inbuf.b) };
	const bool tunnel = tunnel_active();
	/* Room that reading stdin needs in `up`: a byte, or a message. */
	const size_t up_need = tunnel ? TUNNEL_MSG_MAX : 1;
	/* SOCKS 6 initial data may already have read stdin to its end. */
	bool in_eof = stdin_eof, sock_eof = false, shut = false;
	int send_err = 0, recv_err = 0;
	int in_fd = STDIN_FILENO, out_fd = STDOUT_FILENO;

	if (fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) != 0)
		die(EXIT_ERR, "fcntl: %s", strerror(errno));

	for (;;) {
		struct pollfd p[3];
		int n, i_in = -1, i_sock, i_out = -1;
		bool sock_in;
		ssize_t r;

		/* wire -> down: every whole message that fits. */
		if (tunnel)
			down.end += tunnel_open(down.b + down.end,
			    down.cap - down.end);
		if (tunnel && sock_eof && down.start == down.end &&
		    wire.len > 0 && recv_err == 0)
			/*
			 * `down` is empty, so any whole message would have been
			 * unwrapped: what is left is a cut one.
			 */
			die(EXIT_ERR, "the proxy closed the connection in the"
			    " middle of a GSS-API message");
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

		/* A message needs room as a whole: make it at the front. */
		if (up.start > 0 && up.cap - up.end < up_need) {
			memmove(up.b, up.b + up.start, up.end - up.start);
			up.end -= up.start;
			up.start = 0;
		}

		/* Where the socket's bytes go: `down`, or `wire` to unwrap. */
		sock_in = !sock_eof && (tunnel ? wire.len < sizeof(wire.b) :
		    down.end < down.cap);
		n = 0;
		i_sock = n;
		p[n].fd = sock;
		p[n].events = 0;
		if (sock_in)
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
		if (!in_eof && up.cap - up.end >= up_need) {
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
			if (tunnel)
				r = read(in_fd, chunk, sizeof(chunk));
			else
				r = read(in_fd, up.b + up.end, up.cap - up.end);
			if (r > 0 && tunnel)
				up.end += tunnel_seal(chunk, (size_t)r,
				    up.b + up.end, up.cap - up.end);
			else if (r > 0)
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
		/* socket -> down (or wire) */
		if ((p[i_sock].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    sock_in) {
			if (tunnel)
				r = recv(sock, wire.b + wire.len,
				    sizeof(wire.b) - wire.len, 0);
			else
				r = recv(sock, down.b + down.end,
				    down.cap - down.end, 0);
			if (r > 0 && tunnel) {
				wire.len += (size_t)r;
			} else if (r > 0) {
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
	bool stdin_eof = false;
	int fd, rc;

	protect_memory();
	/* A reader that goes away must give EPIPE, not kill us silently. */
	signal(SIGPIPE, SIG_IGN);

	parse_args(&o, argc, argv);
	make_dst(&dst, o.host, o.port);
	/* gssapi takes the user's tickets: no name, no secret to read. */
	if (o.method == M_PASSWORD || o.method == M_CHAP) {
		user = o.user != NULL ? o.user : login_name();
		get_secrets(&o, user);
	}

	if (o.socks6)
		fd = socks6_handshake(&o, user, &dst, &stdin_eof);
	else
		fd = connect_handshake(&o, user, &dst);
	rc = relay(fd, stdin_eof);
	tunnel_end();
	return rc;
}
