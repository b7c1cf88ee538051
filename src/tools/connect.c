/* SPDX-License-Identifier: ISC */
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
 * This file has main, the command line, the secrets and the relay; the
 * SOCKS5 handshake is in connect_handshake.c (connect.h: what they share).
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

struct secrets secrets;
struct inbuf inbuf;

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

	fd = connect_handshake(&o, user, &dst);
	return relay(fd);
}
