/* SPDX-License-Identifier: ISC */
/*
 * fuzz_session.c - libFuzzer harness for the session state machine
 * (src/session.c, session_auth.c, session_cmd.c, accesslog.c), driven
 * as a worker drives it, with the network around it faked.
 *
 * One input is one session. A real session (session_new()) runs on a
 * real libev loop over a real loopback TCP connection; the harness holds
 * the client's end. The real auth methods, access rules, quotas, relay,
 * BIND and UDP ASSOCIATE run too (BIND and UDP on 127.0.0.1 sockets, and
 * UDP may only reach the harness's own sink: see the access rules).
 *
 * A header bit puts the session on a proxy_protocol listener: the
 * harness is then the balancer as well as the client, the script's first
 * client bytes are (or are not) a PROXY header, and the worker's
 * admission of the client the header names (env.admit: `clients`, then
 * the quota) is the harness's, by a rule the input chooses.
 *
 * What is faked, at link time (this file defines the functions, so the
 * real src/connector.c, src/resolver.c, auth/verifier.c and
 * src/status_counters.c are not linked):
 *
 *  - the connector: a CONNECT waits until the script says how it ends
 *    (connected: a fresh loopback connection whose far end the harness
 *    holds as "the remote"; refused, unreachable, ...; or timed out when
 *    connect.timeout_s of fake time pass), after asking the session's
 *    access check about the address, as the real one does;
 *  - the resolver: lookups (BIND's and UDP's names) wait for the script's
 *    answer (addresses, not found, failure, timeout) or time out;
 *  - the password verifier: answers at once, later (when the script
 *    says) or not at all (out of memory), with the verdict of a table of
 *    the users' plaintext passwords (no crypt, so no thread and no cost);
 *  - the status counters: the calls the session makes are checked (see
 *    the invariants) instead of counted in a shared mapping;
 *  - time: clock_gettime() and gettimeofday() are interposed.
 *    CLOCK_MONOTONIC (libev's timers, util_now_ms()) and gettimeofday()
 *    (libev's ev_now(), which the relay, UDP and the rate limits measure
 *    with) stand still but for a microsecond per loop turn (so that a
 *    zero-delay timer fires on the next turn) and what the script adds:
 *    timeouts fire without anyone sleeping, and a run does not depend
 *    on how fast the machine is. CLOCK_REALTIME is left alone: libFuzzer
 *    times its runs with it.
 *
 * The input: two header bytes (begin() and make_corpus_session.py say
 * what their bits choose), then a script of steps (see the OP_
 * list below): each step is an op byte, whose bit 7 says "do not run the
 * loop after this step" (so the next step's events land in the same loop
 * iteration: an interleaving), and its arguments. Client bytes come from
 * the script and are sent in the pieces the script cuts them into.
 * tests/fuzz/make_corpus_session.py writes the seeds and documents the
 * encoding for humans.
 *
 * Invariants, checked after every loop iteration (and abort() when one
 * fails, which libFuzzer reports as a crash):
 *
 *  - descriptors: the harness's own are still open, and the process
 *    holds no more than they, the session's and the relay pool's
 *    account for; once the session is gone, exactly as many as before
 *    it (pool spares aside);
 *  - the access log: no line while the session lives, exactly one once
 *    it is freed (none for a quiet one), whose user=, rep= and end= are
 *    the session's and whose client= is the header's client (with via=
 *    the harness's own address) when a PROXY header named one, else the
 *    harness's address (no via=); every log line is one well-formed line
 *    (nothing a client sent split it);
 *  - the state machine: each state has the handle it implies (CONNECTING
 *    a connector, BINDING a bind, RELAYING a relay and no handshake
 *    buffers, ...), buffers within bounds, a password check only in
 *    AUTH, the fakes' pending work only as the session's state allows;
 *  - counters: the quota counts one session while it lives (a PROXY
 *    session none before its admission, one for the header's client
 *    after); after it, the session, client and user counts and the relay
 *    pool's pipes and buffers in use are back where they were, nothing
 *    the session started is still pending in the fakes, and the loop has
 *    no active watcher left;
 *  - the PROXY header: the session leaves SESSION_PROXY only once the
 *    whole header (TLVs too) has been sent, read and admitted, and only
 *    for GREETING: what the SOCKS parser sees starts with the first byte
 *    after the header (the input buffer in GREETING is exactly the
 *    client's bytes after it; a state past GREETING means the greeting
 *    after the header was valid; the method chosen is that greeting's);
 *    the balancer hears nothing while the header is read; admission
 *    comes once, for the client the header names (the session's own
 *    client already) or the connection's own address after LOCAL;
 *    a session ends quiet (no access line, no session end) only when
 *    its admission was refused, its header was not valid (counted once
 *    as STATUS_REFUSED_PROXY_HEADER, which nothing else counts) or it
 *    was a health check (the client went away having sent nothing, or
 *    a LOCAL header and nothing more), and always then;
 *  - the status calls: at most one login, and only as a user whose
 *    right password or CHAP response the script has sent (nobody gets in
 *    on anything else); exactly one session end (none when quiet), from
 *    session_free(), naming the logged-in user, with the session's
 *    command and bytes; at most one CONNECT outcome; at most one
 *    refusal, and one of the admission's only when it refused.
 *
 * To check the state machine from inside, the harness reads struct
 * session through session_int.h, the session's private header (the one
 * file outside the module that does; it writes nothing there). The BIND
 * and UDP relay addresses it connects and sends to come from there too.
 *
 * Contracts the fakes hold the session to: a connector is never
 * cancelled from inside its callback, its check hook is installed before
 * the loop runs, a lookup or a password check is cancelled at most once
 * and only while pending.
 *
 * Built without -fsanitize=fuzzer, tests/unit/check_fuzz_replay.c runs
 * the seed corpus (tests/fuzz/corpus/session) through this entry point
 * under `make check`.
 *
 * A failed check prints the steps run (op numbers) and the last log
 * lines. FUZZ_SESSION_DEBUG=1 in the environment logs at debug level,
 * copies the log to stderr and prints the steps of every input.
 */
#include "config_auto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "auth.h"
#include "chap_msg.h"
#include "config.h"
#include "connector.h"
#include "failtab.h"
#include "happy.h"
#include "log.h"
#include "pool.h"
#include "proxyproto.h"
#include "quota.h"
#include "relay.h"
#include "resolver.h"
#include "session.h"
#include "session_int.h"
#include "sockaddr.h"
#include "socks5.h"
#include "status.h"
#include "userdb.h"
#include "util.h"
#include "verifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *file, int line, const char *what) NORETURN;

#define FUZZ_CHECK(cond) do {						\
		if (!(cond))						\
			fz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

/* Bounds on one input's work. */
#define MAX_STEPS	512		/* script steps */
#define MAX_ITERS	4096		/* loop iterations in all */
#define SETTLE_MAX	64		/* iterations to wait for quiet */
#define DRAIN_MAX	(256 * 1024)	/* bytes read from a side per turn */
#define CRECV_MAX	8192		/* client bytes kept (for CHAP) */

/*
 * Descriptors a live session may hold besides the client's, the
 * remote's and the relay's pipes: a BIND listener, or a UDP relay socket
 * and one outbound socket per family.
 */
#define SESSION_HIDDEN_FDS 3

/* The users (users file and the fake verifier's plaintext table). */
struct fz_user {
	const char *name;
	const char *password;		/* NULL: password login disabled */
	const char *chap;		/* CHAP secret, or NULL */
};

static const struct fz_user fz_users[] = {
	{ "alice", "alice-pw", "alice-chap" },
	{ "bob", "bob-pw", NULL },		/* limits: 1 session */
	{ "carol", NULL, "carol-chap" },	/* CHAP only */
};
#define SERVER_SECRET "server-secret"

/* Configuration variants, chosen by the first header byte. */
#define NVARIANTS 4

/*
 * The second header byte's bits for a proxy_protocol listener: PROXY
 * puts the session on one; the others choose the fake admission's rule
 * (admit(), proxy mode only). Its `clients` never has TEST-NET-3 nor
 * 2001:db8:bad::/48, and with H1_NARROW only loopback; with H1_HELD
 * another worker holds a session for HELD_CLIENT, and the limit is one
 * session per client.
 */
#define H1_PROXY	0x08
#define H1_NARROW	0x10
#define H1_HELD		0x20
#define HELD_CLIENT	"192.0.2.1"
/* Proxy mode: the client whose earlier failed logins the header books. */
#define FAILED_CLIENT	"192.0.2.7"

/* ---------------------------------------------------------------------
 * Fake time: the monotonic clocks and gettimeofday() stand at their
 * values of the first call, plus fz_offset_ns.
 * ------------------------------------------------------------------- */

static int64_t fz_offset_ns;

static void
fz_time_base(struct timespec *mono, struct timeval *real)
{
	static struct timespec mono0;
	static struct timeval real0;
	static bool have;

	if (!have) {
		(void)syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &mono0);
		(void)syscall(SYS_gettimeofday, &real0, NULL);
		have = true;
	}
	*mono = mono0;
	*real = real0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	struct timespec mono;
	struct timeval real;
	int64_t ns;

	if (id != CLOCK_MONOTONIC && id != CLOCK_MONOTONIC_COARSE &&
	    id != CLOCK_MONOTONIC_RAW && id != CLOCK_BOOTTIME)
		return (int)syscall(SYS_clock_gettime, id, ts);
	fz_time_base(&mono, &real);
	ns = (int64_t)mono.tv_nsec + fz_offset_ns % 1000000000;
	ts->tv_sec = mono.tv_sec +
	    (time_t)(fz_offset_ns / 1000000000 + ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	return 0;
}

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 31)
#define FZ_TIMEZONE void
#else
#define FZ_TIMEZONE struct timezone
#endif

int
gettimeofday(struct timeval *restrict tv, FZ_TIMEZONE *restrict tz)
{
	struct timespec mono;
	struct timeval real;
	int64_t us;

	if (tz != NULL && syscall(SYS_gettimeofday, NULL, tz) != 0)
		return -1;
	fz_time_base(&mono, &real);
	us = (int64_t)real.tv_usec + fz_offset_ns / 1000 % 1000000;
	tv->tv_sec = real.tv_sec +
	    (time_t)(fz_offset_ns / 1000000000 + us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
	return 0;
}

/* ---------------------------------------------------------------------
 * The harness's state: H lives for the process, R for one input.
 * ------------------------------------------------------------------- */

/*
 * How a fake delivers its answer from the loop: an idle watcher (a turn
 * with no I/O pending: after what has arrived) or a prepare watcher (the
 * start of the next turn: before the loop looks at any I/O).
 */
struct fz_kick {
	ev_idle idle;
	ev_prepare prep;
	void (*fn)(void *arg);
	void *arg;
};

struct resolver {
	int unused;
};

struct verifier {
	int unused;
};

struct resolver_query {
	struct resolver_query *next;
	char name[256];
	int family;
	resolver_cb cb;
	void *arg;
	struct fz_kick fire;
	ev_timer timeout;
	enum resolver_status st;
	struct resolver_result res;
};

struct verifier_job {
	struct verifier_job *next;
	enum userdb_result r;
	verifier_done_fn cb;
	void *arg;
	struct fz_kick fire;
};

struct connector {
	struct ev_loop *loop;
	struct socks5_addr dst;
	connector_cb cb;
	void *arg;
	connector_check_fn check;
	void *check_arg;
	unsigned start_iter;
	int attempts;
	int in_cb;
	struct fz_kick fire;
	ev_timer timeout;
	/* What fire delivers: an address to try, or a failure. */
	int want_ok;
	union sockaddr_any addr;
	bool has_addr;
	uint8_t rep;
	int err;
};

static struct {
	int ready;
	int debug;
	struct ev_loop *loop;
	struct config *cfg[NVARIANTS];
	struct auth_params auth[NVARIANTS];
	struct chap_key server_key;
	struct userdb *db;
	struct quota *quota;
	struct resolver resolver;
	struct verifier verifier;
	int lfd4, lfd6;			/* listeners for the loopback pairs */
	union sockaddr_any laddr4, laddr6;
	int sinkfd;			/* UDP destination, 127.0.0.1 */
	union sockaddr_any sinkaddr;
	int logfd;			/* memfd the log goes to */
	unsigned pending_seen;		/* events invoked by the loop */
	struct cidr not_clients[2];	/* admit(): never in `clients` */
	struct cidr loopback[2];	/* admit(): `clients` with H1_NARROW */
} H = { .lfd4 = -1, .lfd6 = -1, .sinkfd = -1, .logfd = -1 };

enum vmode { VMODE_PENDING = 0, VMODE_DONE, VMODE_BUSY };

static struct {
	const uint8_t *p;
	size_t n, off;
	unsigned steps, iters;
	int variant;
	bool small;			/* small socket buffers (header) */
	const struct config *cfg;
	struct session_env env;
	struct failtab *ft;
	struct session *s;
	int closed;			/* times env.closed was called */
	/* What the session was when it closed (for the access line). */
	char s_user[256];
	int s_rep;
	char s_end[64];
	char s_reset_by[16];
	/* The harness's sockets. */
	int cfd, rfd, ufd, xfd;		/* client, remote, client UDP, stranger */
	int c_stall, r_stall, c_eof, r_eof;
	int c_reset, r_reset;		/* a reset (sent or seen) on that side */
	int c_shut, r_shut;		/* the harness half-closed that side */
	int c_rst_sent, r_rst_sent;	/* the harness reset that side */
	bool peer_unseen;		/* a BIND peer the loop has not run for */
	uint64_t c_total, r_total;	/* bytes the client, the remote read */
	uint8_t crecv[CRECV_MAX];
	size_t crecv_len;
	uint8_t csent[CRECV_MAX];	/* what the client sent, in order */
	size_t csent_len;
	uint64_t csent_total;		/* all it sent (csent keeps the first) */
	unsigned creds;			/* users whose CHAP response was right */
	union sockaddr_any peer;	/* the session's client address */
	union sockaddr_any sink_from;	/* last sender the sink saw */
	bool have_sink_from;
	/* Datagrams (and payload bytes) the sink and the client got. */
	uint64_t sink_dgrams, sink_bytes, cu_dgrams, cu_bytes;
	/* The access line's dgrams_up= and dgrams_down=. */
	uint64_t log_dgrams_up, log_dgrams_down;
	/* The fakes' pending work. */
	struct connector *conn;
	struct resolver_query *queries;
	struct verifier_job *jobs;
	int fail_connector, fail_lookup;
	enum vmode vmode;
	/* The status calls (the fake status.h below). */
	int st_logins, st_ends, st_connects, st_refusals, st_auths, st_udps;
	enum status_refusal st_refusal;
	int st_auth_method;
	enum status_auth_result st_auth;
	uint64_t st_udp_up, st_udp_down;
	char st_user[256];		/* who logged in */
	int st_cmd;
	uint64_t st_up, st_down;
	/* A proxy_protocol listener (header bit H1_PROXY). */
	bool proxy;
	bool narrow, held;		/* admit()'s rule: H1_NARROW, H1_HELD */
	int admit_called;		/* env.admit calls */
	bool admitted, admit_refused;
	union sockaddr_any hdr_client;	/* whom it admitted (or refused) */
	bool hdr_named;			/* the header named it (not LOCAL) */
	size_t hdr_used;		/* the header's length, TLVs included */
	/* More of what the session was when it closed. */
	bool s_quiet;
	enum session_state s_state;
	bool c_lost;			/* bytes in flight when it reset */
	/* Accounting. */
	int fds_base;			/* before the session, pool spares aside */
	int access_lines;
	bool bob_elsewhere;		/* another worker holds bob's session */
	/* For a failure report. */
	char trace[2048];
	size_t tracelen;
	char logtail[4096];
	size_t logtail_len;
} R;

/* ---------------------------------------------------------------------
 * Failure reports
 * ------------------------------------------------------------------- */

static void
trace(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (R.tracelen + 64 >= sizeof(R.trace))
		return;
	va_start(ap, fmt);
	n = vsnprintf(R.trace + R.tracelen, sizeof(R.trace) - R.tracelen,
	    fmt, ap);
	va_end(ap);
	if (n > 0)
		R.tracelen += (size_t)n < sizeof(R.trace) - R.tracelen ?
		    (size_t)n : sizeof(R.trace) - R.tracelen - 1;
}

static void
fz_fail(const char *file, int line, const char *what)
{
	size_t i;

	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	fprintf(stderr, "variant %d, step %u, iteration %u, state %d\n",
	    R.variant, R.steps, R.iters, R.s != NULL ? (int)R.s->state : -1);
	fprintf(stderr, "steps: %.*s\n", (int)R.tracelen, R.trace);
	fprintf(stderr, "the client read %zu bytes, first:", R.crecv_len);
	for (i = 0; i < R.crecv_len && i < 96; i++)
		fprintf(stderr, " %02x", R.crecv[i]);
	fprintf(stderr, "\nlog (last lines):\n%.*s\n", (int)R.logtail_len,
	    R.logtail);
	abort();
}

/* util's BUG_ON and friends: to stderr, not into the captured log. */
static void
fz_fatal_hook(const char *file, int line, const char *func, const char *msg)
{
	fprintf(stderr, "%s:%d: %s: %s\n", file, line, func, msg);
	fprintf(stderr, "steps: %.*s\n", (int)R.tracelen, R.trace);
	fprintf(stderr, "log (last lines):\n%.*s\n", (int)R.logtail_len,
	    R.logtail);
}

/* ---------------------------------------------------------------------
 * Descriptors and sockets
 * ------------------------------------------------------------------- */

/*
 * Descriptors open now: the entries of /proc/self/fd, read through one
 * descriptor kept open (and rewound) with getdents64, so that counting
 * after every loop turn costs neither an open nor an allocation.
 */
static int
count_fds(void)
{
	static int dfd = -1;
	static char buf[8192];
	int n = 0;
	long k;

	if (dfd == -1) {
		dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		FUZZ_CHECK(dfd != -1);
	}
	FUZZ_CHECK(lseek(dfd, 0, SEEK_SET) == 0);
	while ((k = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < k) {
			const struct dirent64 *e = (const void *)(buf + off);

			if (e->d_name[0] != '.')
				n++;
			off += e->d_reclen;
		}
	}
	FUZZ_CHECK(k == 0);
	return n - 1;		/* the directory's own */
}

static void
fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	FUZZ_CHECK(fl != -1 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
}

/* Close with a reset (SO_LINGER 0): no TIME_WAIT left on loopback. */
static void
rst_close(int *fd)
{
	struct linger l = { 1, 0 };

	if (*fd == -1)
		return;
	(void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	/* EBADF: someone else closed the harness's descriptor. */
	FUZZ_CHECK(close(*fd) == 0);
	*fd = -1;
}

static void
plain_close(int *fd)
{
	if (*fd == -1)
		return;
	FUZZ_CHECK(close(*fd) == 0);
	*fd = -1;
}

static void
small_buffers(int fd)
{
	int sz = 4096;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/*
 * Small writes go out at once (no Nagle): a byte the script sends is
 * there for the next loop turn to read, not held back for an ACK.
 */
static void
nodelay(int fd)
{
	int one = 1;

	FUZZ_CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == 0);
}

static int
listen_on(const char *ip, int type, union sockaddr_any *at)
{
	socklen_t len = sizeof(*at);
	int fd;

	if (sockaddr_parse_ip(ip, 0, at) == -1)
		return -1;
	fd = socket(at->sa.sa_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, &at->sa, sockaddr_len(&at->sa)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 64) == -1) ||
	    getsockname(fd, &at->sa, &len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A loopback TCP connection: *mine for the harness (non-blocking),
 * *theirs for the session (non-blocking), *peer the address of mine.
 */
static void
tcp_pair(int family, bool small, int *mine, int *theirs,
    union sockaddr_any *peer)
{
	int lfd = family == AF_INET6 ? H.lfd6 : H.lfd4;
	const union sockaddr_any *at = family == AF_INET6 ? &H.laddr6 :
	    &H.laddr4;
	socklen_t len = sizeof(*peer);
	int c, s;

	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(c != -1);
	nodelay(c);
	if (small)
		small_buffers(c);
	FUZZ_CHECK(connect(c, &at->sa, sockaddr_len(&at->sa)) == 0);
	s = accept4(lfd, &peer->sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	FUZZ_CHECK(s != -1);
	/* The daemon's listeners pass TCP_NODELAY on (listener.c). */
	nodelay(s);
	if (small)
		small_buffers(s);
	fd_nonblock(c);
	*mine = c;
	*theirs = s;
}

/* A new remote (a connection made, a BIND peer): its counts start anew. */
static void
new_remote(int fd)
{
	rst_close(&R.rfd);
	R.rfd = fd;
	R.r_eof = R.r_reset = R.r_shut = R.r_rst_sent = 0;
	R.r_total = 0;
}

/* ---------------------------------------------------------------------
 * Delivery from the loop (struct fz_kick)
 * ------------------------------------------------------------------- */

static void
kick_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct fz_kick *k = w->data;

	(void)loop;
	(void)revents;
	k->fn(k->arg);
}

static void
kick_prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct fz_kick *k = w->data;

	(void)loop;
	(void)revents;
	k->fn(k->arg);
}

static void
kick_init(struct fz_kick *k, void (*fn)(void *), void *arg)
{
	ev_idle_init(&k->idle, kick_idle_cb);
	k->idle.data = k;
	ev_prepare_init(&k->prep, kick_prep_cb);
	k->prep.data = k;
	k->fn = fn;
	k->arg = arg;
}

/* Before the object is freed: nothing of it stays in the loop. */
static void
kick_stop(struct fz_kick *k)
{
	ev_idle_stop(H.loop, &k->idle);
	ev_prepare_stop(H.loop, &k->prep);
	ev_clear_pending(H.loop, &k->idle);
	ev_clear_pending(H.loop, &k->prep);
}

/* ---------------------------------------------------------------------
 * The fake connector
 * ------------------------------------------------------------------- */

uint8_t
connector_errno_to_rep(int err)
{
	return happy_errno_to_rep(err);
}

static void
conn_gone(struct connector *c)
{
	kick_stop(&c->fire);
	ev_timer_stop(c->loop, &c->timeout);
	ev_clear_pending(c->loop, &c->timeout);
	FUZZ_CHECK(R.conn == c);
	R.conn = NULL;
	free(c);
}

static void
conn_deliver(struct connector *c, struct connector_result *res)
{
	c->in_cb = 1;
	c->cb(c->arg, res);
	/* Freed right after the callback, which must not have cancelled. */
	conn_gone(c);
}

static void
conn_fire(void *arg)
{
	struct connector *c = arg;
	struct connector_result res;
	int mine, theirs;
	union sockaddr_any peer;

	memset(&res, 0, sizeof(res));
	res.fd = -1;
	res.attempts = c->attempts;
	if (!c->want_ok) {
		res.rep = c->rep;
		res.err = c->err;
		res.addr = c->addr;
		res.has_addr = c->has_addr;
		conn_deliver(c, &res);
		return;
	}
	/* Every candidate passes the access check first. */
	if (c->check != NULL &&
	    c->check(c->check_arg, &c->addr.sa) == CONNECTOR_DENY) {
		res.rep = SOCKS5_REP_NOT_ALLOWED;
		res.denied = 1;
		conn_deliver(c, &res);
		return;
	}
	c->attempts++;
	res.attempts = c->attempts;
	tcp_pair(AF_INET, R.small, &mine, &theirs, &peer);
	new_remote(mine);
	res.fd = theirs;
	res.rep = SOCKS5_REP_SUCCEEDED;
	res.addr = c->addr;
	res.has_addr = true;
	conn_deliver(c, &res);
}

static void
conn_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct connector *c = t->data;
	struct connector_result res;

	(void)loop;
	(void)revents;
	memset(&res, 0, sizeof(res));
	res.fd = -1;
	res.rep = SOCKS5_REP_TTL_EXPIRED;
	res.err = ETIMEDOUT;
	res.attempts = c->attempts;
	res.addr = c->addr;
	res.has_addr = c->attempts > 0;
	conn_deliver(c, &res);
}

struct connector *
connector_start(struct ev_loop *loop, struct resolver *res,
    const struct config *cfg, const struct socks5_addr *dst,
    connector_cb cb, void *arg)
{
	struct connector *c;

	FUZZ_CHECK(res == &H.resolver && cfg == R.cfg && cb != NULL);
	FUZZ_CHECK(R.conn == NULL);		/* one CONNECT a session */
	if (R.fail_connector) {
		R.fail_connector = 0;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	FUZZ_CHECK(c != NULL);
	c->loop = loop;
	c->dst = *dst;
	c->cb = cb;
	c->arg = arg;
	c->start_iter = ev_iteration(loop);
	kick_init(&c->fire, conn_fire, c);
	ev_timer_init(&c->timeout, conn_timeout_cb,
	    (double)cfg->connect.timeout_s, 0.);
	c->timeout.data = c;
	ev_timer_start(loop, &c->timeout);
	R.conn = c;
	return c;
}

void
connector_set_check(struct connector *c, connector_check_fn fn, void *arg)
{
	/* Before control returns to the loop, as connector.h asks. */
	FUZZ_CHECK(c == R.conn && ev_iteration(c->loop) == c->start_iter);
	c->check = fn;
	c->check_arg = arg;
}

void
connector_set_happy(struct connector *c, bool on)
{
	/*
	 * SOCKS 6's Happy Eyeballs option only (the harness speaks SOCKS
	 * 5): called as connector_set_check() is, and never here.
	 */
	FUZZ_CHECK(c == R.conn && ev_iteration(c->loop) == c->start_iter);
	(void)on;
	FUZZ_CHECK(0);
}

int
connector_attempts(const struct connector *c)
{
	FUZZ_CHECK(c == R.conn);
	return c->attempts;
}

void
connector_cancel(struct connector *c)
{
	FUZZ_CHECK(c == R.conn);
	FUZZ_CHECK(!c->in_cb);		/* connector.h: not from inside */
	conn_gone(c);
}

/* Start delivering (unless already on its way). */
static void
kick(struct fz_kick *k, int before_io)
{
	if (ev_is_active(&k->idle) || ev_is_active(&k->prep))
		return;
	if (before_io)
		ev_prepare_start(H.loop, &k->prep);
	else
		ev_idle_start(H.loop, &k->idle);
}

/* A candidate for a name, by the script's choice. */
static void
pick_addr(int k, uint16_t port, union sockaddr_any *out)
{
	static const char *const cand[] = {
		"127.0.0.1", "::1", "127.0.0.2", "192.0.2.1",
		"0.0.0.0", "::ffff:127.0.0.1", "64:ff9b::c000:201", "::",
	};

	FUZZ_CHECK(sockaddr_parse_ip(cand[k & 7], port, out) == 0);
}

static void
op_conn_ok(uint8_t arg)
{
	struct connector *c = R.conn;
	socklen_t len = sizeof(c->addr);

	if (c == NULL)
		return;
	memset(&c->addr, 0, sizeof(c->addr));
	if ((c->dst.atyp == SOCKS5_ATYP_IPV4 || c->dst.atyp == SOCKS5_ATYP_IPV6) &&
	    socks5_addr_to_sockaddr(&c->dst, &c->addr.sa, &len) == 0) {
		/* a literal */
	} else if (c->dst.atyp != SOCKS5_ATYP_DOMAIN ||
	    sockaddr_parse_ip(c->dst.u.name, c->dst.port, &c->addr) == -1) {
		pick_addr(arg, c->dst.port, &c->addr);
	}
	c->want_ok = 1;
	c->attempts += (arg >> 3) & 3;
	kick(&c->fire, arg & 0x80);
}

static void
op_conn_fail(uint8_t arg)
{
	static const struct {
		uint8_t rep;
		int err;
	} fails[] = {
		{ SOCKS5_REP_CONN_REFUSED, ECONNREFUSED },
		{ SOCKS5_REP_HOST_UNREACHABLE, EHOSTUNREACH },
		{ SOCKS5_REP_NET_UNREACHABLE, ENETUNREACH },
		{ SOCKS5_REP_TTL_EXPIRED, ETIMEDOUT },
		{ SOCKS5_REP_GENERAL_FAILURE, ENOMEM },
		{ SOCKS5_REP_CONN_REFUSED, ECONNRESET },
		{ SOCKS5_REP_HOST_UNREACHABLE, 0 },
		{ SOCKS5_REP_GENERAL_FAILURE, EMFILE },
	};
	struct connector *c = R.conn;

	if (c == NULL)
		return;
	c->want_ok = 0;
	c->rep = fails[arg & 7].rep;
	c->err = fails[arg & 7].err;
	c->attempts += (arg >> 3) & 3;
	c->has_addr = (arg & 0x20) != 0;
	if (c->has_addr)
		pick_addr(arg >> 4, c->dst.port, &c->addr);
	kick(&c->fire, arg & 0x80);
}

/* ---------------------------------------------------------------------
 * The fake resolver
 * ------------------------------------------------------------------- */

static void
query_unlink(struct resolver_query *q)
{
	struct resolver_query **pp;

	for (pp = &R.queries; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			kick_stop(&q->fire);
			ev_timer_stop(H.loop, &q->timeout);
			ev_clear_pending(H.loop, &q->timeout);
			return;
		}
	}
	/* Not pending: answered or cancelled already. */
	FUZZ_CHECK(!"resolver query is not pending");
}

static void
query_answer(struct resolver_query *q)
{
	struct resolver_result res = q->res;
	enum resolver_status st = q->st;
	resolver_cb cb = q->cb;
	void *arg = q->arg;

	query_unlink(q);
	free(q);
	/* The handle is dead once the callback starts (resolver.h). */
	cb(arg, st, st == RESOLVER_OK ? &res : NULL);
}

static void
query_fire(void *arg)
{
	query_answer(arg);
}

static void
query_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct resolver_query *q = t->data;

	(void)loop;
	(void)revents;
	q->st = RESOLVER_TIMEOUT;
	query_answer(q);
}

struct resolver_query *
resolver_lookup(struct resolver *r, const char *name, int family,
    resolver_cb cb, void *arg)
{
	struct resolver_query *q;
	double tmo;

	FUZZ_CHECK(r == &H.resolver && cb != NULL);
	FUZZ_CHECK(family == AF_INET || family == AF_INET6);
	FUZZ_CHECK(strlen(name) < sizeof(q->name));
	if (R.fail_lookup) {
		R.fail_lookup--;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	FUZZ_CHECK(q != NULL);
	memcpy(q->name, name, strlen(name) + 1);
	q->family = family;
	q->cb = cb;
	q->arg = arg;
	q->st = RESOLVER_TIMEOUT;
	kick_init(&q->fire, query_fire, q);
	tmo = R.cfg->resolver.timeout_ms / 1000. * R.cfg->resolver.tries;
	ev_timer_init(&q->timeout, query_timeout_cb, tmo, 0.);
	q->timeout.data = q;
	ev_timer_start(H.loop, &q->timeout);
	q->next = R.queries;
	R.queries = q;
	return q;
}

void
resolver_cancel(struct resolver_query *q)
{
	if (q == NULL)
		return;
	query_unlink(q);
	free(q);
}

bool
resolver_pref64_current(const struct resolver *r, struct happy_pref64 *out)
{
	FUZZ_CHECK(r == &H.resolver);
	/* The header's bit 3: a DNS64 resolver told us 64:ff9b::/96. */
	if (R.n < 1 || !(R.p[0] & 8))
		return false;
	memset(out, 0, sizeof(*out));
	FUZZ_CHECK(inet_pton(AF_INET6, "64:ff9b::", &out->prefix) == 1);
	out->len = 96;
	return true;
}

const char *
resolver_status_str(enum resolver_status st)
{
	switch (st) {
	case RESOLVER_OK:
		return "ok";
	case RESOLVER_NOTFOUND:
		return "not found";
	case RESOLVER_TIMEOUT:
		return "timeout";
	default:
		return "failure";
	}
}

static void
op_resolve(uint8_t arg)
{
	static const char *const v4[] = {
		"127.0.0.1", "127.0.0.2", "192.0.2.1", "0.0.0.0",
	};
	static const char *const v6[] = {
		"::1", "::ffff:127.0.0.1", "2001:db8::1", "::",
	};
	struct resolver_query *q = R.queries;
	unsigned i, k = (arg >> 5) & 3;

	for (i = 0; q != NULL && q->next != NULL && i < k; i++)
		q = q->next;
	if (q == NULL)
		return;
	memset(&q->res, 0, sizeof(q->res));
	switch (arg & 3) {
	case 0: {
		const char *const *tab = q->family == AF_INET ? v4 : v6;
		size_t n = (arg & 0x10) ? RESOLVER_MAX_ADDRS : 1 + (arg >> 3 & 1);

		q->st = RESOLVER_OK;
		for (i = 0; i < n; i++)
			FUZZ_CHECK(sockaddr_parse_ip(tab[((arg >> 2) + i) & 3],
			    0, &q->res.addrs[i]) == 0);
		q->res.n = n;
		q->res.ttl = 60;
		break;
	}
	case 1:
		q->st = RESOLVER_NOTFOUND;
		break;
	case 2:
		q->st = RESOLVER_FAIL;
		break;
	default:
		q->st = RESOLVER_TIMEOUT;
		break;
	}
	kick(&q->fire, arg & 0x80);
}

/* ---------------------------------------------------------------------
 * The fake verifier
 * ------------------------------------------------------------------- */

static enum userdb_result
verdict(const char *user, const uint8_t *pw, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fz_users); i++) {
		if (strcmp(user, fz_users[i].name) != 0)
			continue;
		if (fz_users[i].password == NULL)
			return USERDB_NO_PASSWORD;
		return len == strlen(fz_users[i].password) &&
		    memcmp(pw, fz_users[i].password, len) == 0 ? USERDB_OK :
		    USERDB_BAD_PASSWORD;
	}
	return USERDB_NO_USER;
}

static void
job_unlink(struct verifier_job *j)
{
	struct verifier_job **pp;

	for (pp = &R.jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			kick_stop(&j->fire);
			return;
		}
	}
	FUZZ_CHECK(!"verifier job is not pending");
}

static void
job_fire(void *arg)
{
	struct verifier_job *j = arg;
	verifier_done_fn cb = j->cb;
	void *cb_arg = j->arg;
	enum userdb_result r = j->r;

	job_unlink(j);
	free(j);
	cb(cb_arg, r);
}

enum verifier_status
verifier_check(struct verifier *v, const char *user, const uint8_t *pw,
    size_t pwlen, const struct sockaddr *src, verifier_done_fn cb, void *arg,
    struct verifier_job **job, enum userdb_result *result)
{
	struct verifier_job *j;

	FUZZ_CHECK(v == &H.verifier && cb != NULL && job != NULL);
	FUZZ_CHECK(pwlen <= USERDB_PASSWORD_MAX && src != NULL);
	switch (R.vmode) {
	case VMODE_DONE:
		*result = verdict(user, pw, pwlen);
		return VERIFIER_DONE;
	case VMODE_BUSY:
		return VERIFIER_BUSY;
	case VMODE_PENDING:
		break;
	}
	j = calloc(1, sizeof(*j));
	FUZZ_CHECK(j != NULL);
	j->r = verdict(user, pw, pwlen);
	j->cb = cb;
	j->arg = arg;
	kick_init(&j->fire, job_fire, j);
	j->next = R.jobs;
	R.jobs = j;
	*job = j;
	return VERIFIER_PENDING;
}

void
verifier_cancel(struct verifier *v, struct verifier_job *job)
{
	FUZZ_CHECK(v == &H.verifier);
	job_unlink(job);
	free(job);
}

static void
op_verify(uint8_t arg)
{
	struct verifier_job *j = R.jobs;

	if (j == NULL)
		return;
	if ((arg & 3) == 1)
		j->r = USERDB_ERROR;
	kick(&j->fire, arg & 0x80);
}

/* ---------------------------------------------------------------------
 * The fake status counters: what the session reports, checked
 * ------------------------------------------------------------------- */

/*
 * Whether the client has given `fz_users[i]`'s credentials: a right CHAP
 * response (only op_c_chap can compute one), or the password, somewhere
 * in what it sent (an RFC 1929 request holds it in one piece).
 */
static bool
credentials_given(size_t i)
{
	const char *pw = fz_users[i].password;

	if (R.creds & (1u << i))
		return true;
	return pw != NULL && memmem(R.csent, R.csent_len, pw,
	    strlen(pw)) != NULL;
}

void
status_user_login(const char *user)
{
	size_t i;

	FUZZ_CHECK(user != NULL && R.s != NULL && R.st_logins == 0);
	FUZZ_CHECK(strlen(user) < sizeof(R.st_user));
	R.st_logins++;
	memcpy(R.st_user, user, strlen(user) + 1);
	for (i = 0; i < ARRAY_SIZE(fz_users); i++)
		if (strcmp(user, fz_users[i].name) == 0)
			break;
	/* A user of the users file, who proved it. */
	FUZZ_CHECK(i < ARRAY_SIZE(fz_users));
	FUZZ_CHECK(credentials_given(i));
}

void
status_session_end(int socks_cmd, int rep, const char *end, const char *user,
    uint64_t bytes_up, uint64_t bytes_down)
{
	FUZZ_CHECK(R.s != NULL && R.closed == 0 && R.st_ends == 0);
	R.st_ends++;
	/* The access line's rep= and end=: a reply, or why there was none. */
	FUZZ_CHECK(rep == R.s->rep && end == R.s->end);
	FUZZ_CHECK(rep >= -1 && rep <= SOCKS5_REP_ATYP_NOT_SUPPORTED);
	/* The user it logged in as: the status's per-user count drops. */
	if (R.st_logins == 0)
		FUZZ_CHECK(user == NULL);
	else
		FUZZ_CHECK(user != NULL && strcmp(user, R.st_user) == 0);
	R.st_cmd = socks_cmd;
	R.st_up = bytes_up;
	R.st_down = bytes_down;
}

void
status_count_refusal(enum status_refusal reason)
{
	FUZZ_CHECK((unsigned)reason < STATUS_REFUSAL_COUNT);
	FUZZ_CHECK(R.s != NULL && R.st_refusals == 0);	/* one a session */
	R.st_refusals++;
	R.st_refusal = reason;
	/* The worker's (admit()'s, here), never the session's own. */
	FUZZ_CHECK(reason != STATUS_REFUSED_CLIENTS &&
	    reason != STATUS_REFUSED_MAX_SESSIONS &&
	    reason != STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT &&
	    reason != STATUS_REFUSED_PROXY_UNTRUSTED);
	if (reason == STATUS_REFUSED_PROXY_HEADER) {
		struct proxy_header h;
		size_t used = 0;

		/*
		 * Only on a proxy_protocol listener, before any header was
		 * taken, and not for one that the session has read whole.
		 */
		FUZZ_CHECK(R.proxy && R.admit_called == 0);
		FUZZ_CHECK(R.s->state == SESSION_PROXY &&
		    R.s->proxy_skip == 0);
		FUZZ_CHECK(proxy_parse(R.s->in, R.s->inlen, &h, &used) !=
		    PROXY_DONE);
	}
}

/* admit()'s refusals: counted as the worker counts them. */
static void
admit_refusal(enum status_refusal reason)
{
	FUZZ_CHECK(R.s != NULL && R.st_refusals == 0);
	R.st_refusals++;
	R.st_refusal = reason;
}

void
status_count_connect(bool connected, int family, int attempts, bool nat64,
    uint32_t ms)
{
	FUZZ_CHECK(R.s != NULL && R.st_connects == 0 && attempts >= 0);
	R.st_connects++;
	if (connected)
		FUZZ_CHECK(family == AF_INET || family == AF_INET6);
	(void)nat64;
	(void)ms;
}

void
status_count_auth(int socks_method, enum status_auth_result result)
{
	/* One verdict a session, for the method the greeting chose. */
	FUZZ_CHECK(R.s != NULL && R.st_auths == 0);
	FUZZ_CHECK(socks_method == SOCKS5_METHOD_NONE ||
	    socks_method == SOCKS5_METHOD_PASSWORD ||
	    socks_method == SOCKS5_METHOD_CHAP);
	FUZZ_CHECK((unsigned)result < STATUS_AUTH_RESULTS);
	if (socks_method == SOCKS5_METHOD_NONE)
		FUZZ_CHECK(result == STATUS_AUTH_SUCCESS);
	R.st_auths++;
	R.st_auth_method = socks_method;
	R.st_auth = result;
}

void
status_count_dns(enum status_dns_source source, enum status_dns_result result)
{
	/* The resolver is faked: nothing counts lookups. */
	(void)source;
	(void)result;
	FUZZ_CHECK(0);
}

void
status_count_udp(uint64_t dgrams_up, uint64_t dgrams_down,
    const uint64_t *drops, size_t ndrops)
{
	/* Once, as the association is freed: before status_session_end(). */
	FUZZ_CHECK(R.s != NULL && R.st_udps == 0 && ndrops == STATUS_UDP_DROPS);
	(void)drops;
	R.st_udps++;
	R.st_udp_up = dgrams_up;
	R.st_udp_down = dgrams_down;
}

/* ---------------------------------------------------------------------
 * Set-up, once per process
 * ------------------------------------------------------------------- */

static void
cfg_report(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	if (strncmp(msg, "warning: ", 9) == 0)
		return;
	fprintf(stderr, "fuzz_session: %s:%d: %s\n", file, line, msg);
}

static void
db_report(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fuzz_session: %s:%d: %s\n", file, line, msg);
}

/* The part every variant shares; %u is the sink's port. */
static const char cfg_head[] =
    "listen = [ \"127.0.0.1:1080\" ];\n"
    "log = { access = true; };\n"
    "resolver = { servers = [ \"127.0.0.1\" ]; timeout_ms = 700; tries = 2; };\n"
    "connect = { timeout_s = 10; bind_ipv4 = \"127.0.0.1\";%s };\n"
    "bind = { external_addresses = [ \"127.0.0.1\"%s ]; accept_timeout_s = 8;%s };\n"
    "udp = { idle_timeout_s = 12;%s };\n";

/*
 * The access rules keep UDP to the harness's sink (any other
 * destination is dropped, so no datagram leaves this host) and BIND to
 * peers on 127.0.0.1 and ::1; CONNECT is faked, so its rules only
 * decide what the session is told.
 */
static const char cfg_access[] =
    "access = (\n"
    "  { action = \"deny\"; to = [ \"127.0.0.3\" ]; },\n"
    "  { action = \"deny\"; users = [ \"carol\" ]; commands = [ \"bind\" ]; },\n"
    "  { action = \"allow\"; commands = [ \"connect\" ];\n"
    "    to = [ \"127.0.0.0/8\", \"::1\", \"64:ff9b::/96\" ]; },\n"
    "  { action = \"allow\"; commands = [ \"bind\" ]; to = [ \"127.0.0.1\", \"::1\" ]; },\n"
    "  { action = \"allow\"; commands = [ \"udp_associate\" ];\n"
    "    to = [ \"127.0.0.1\" ]; ports = [ \"%u\" ]; }\n"
    ");\n";

static struct config *
load_variant(int v, bool v6)
{
	char path[] = "/tmp/fuzz-session-conf.XXXXXX";
	char text[4096], access[1024];
	const char *auth, *limits, *extra;
	struct config *cfg;
	size_t len;
	int fd, n;

	snprintf(access, sizeof(access), cfg_access,
	    (unsigned)sockaddr_port(&H.sinkaddr.sa));
	switch (v) {
	case 0:
		auth = "auth = { methods = [ \"none\", \"password\", \"chap\" ]; "
		    "chap_mutual = \"allow\"; };\n";
		limits = "limits = { handshake_timeout_s = 5; idle_timeout_s = 20; };\n"
		    "user_limits = ( { users = [ \"bob\" ]; max_sessions = 1; },\n"
		    "  { users = [ \"alice\" ]; bandwidth_bps = 100000; } );\n";
		extra = access;
		break;
	case 1:
		auth = "auth = { methods = [ \"chap\", \"password\" ]; "
		    "chap_mutual = \"require\"; chap_server_secret = \""
		    SERVER_SECRET "\"; };\n";
		limits = "limits = { handshake_timeout_s = 3; idle_timeout_s = 0; "
		    "max_sessions_per_user = 1; };\n";
		extra = access;
		break;
	case 2:
		/* No access rules: CONNECT only (it is the faked one). */
		auth = "auth = { methods = [ \"password\" ]; "
		    "chap_mutual = \"deny\"; };\n";
		limits = "limits = { handshake_timeout_s = 5; idle_timeout_s = 30; "
		    "user_bandwidth_bps = 50000; };\n";
		extra = "commands = [ \"connect\" ];\n";
		break;
	default:
		auth = "auth = { methods = [ \"none\", \"chap\" ]; };\n";
		limits = "limits = { handshake_timeout_s = 4; idle_timeout_s = 10; };\n";
		extra = access;
		break;
	}
	n = snprintf(text, sizeof(text), cfg_head,
	    v6 ? " bind_ipv6 = \"::1\";" : "", v6 ? ", \"::1\"" : "",
	    v == 3 ? " require_peer_match = true;" :
	    " require_peer_match = false;",
	    v == 3 ? " strict_source = true; filtering = \"endpoint-independent\";" :
	    v == 1 ? " port_range = \"20000-60000\";" : "");
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text));
	len = (size_t)n;
	n = snprintf(text + len, sizeof(text) - len, "%s%s%s", auth, limits,
	    extra);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text) - len);
	len += (size_t)n;
	fd = mkstemp(path);
	FUZZ_CHECK(fd != -1);
	FUZZ_CHECK(write(fd, text, len) == (ssize_t)len);
	close(fd);
	cfg = config_load(path, cfg_report, NULL);
	unlink(path);
	FUZZ_CHECK(cfg != NULL);
	return cfg;
}

static void
load_users(void)
{
	char text[2048], line[USERDB_LINE_MAX];
	/* Not the hash of anything: the fake verifier decides, by plaintext. */
	const char *hash = "$5$fuzz$0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
	size_t i, len = 0, n;

	for (i = 0; i < ARRAY_SIZE(fz_users); i++) {
		struct chap_key k;

		if (fz_users[i].chap != NULL)
			chap_key_from_secret(&k,
			    (const uint8_t *)fz_users[i].chap,
			    strlen(fz_users[i].chap));
		n = userdb_format_line(line, sizeof(line), fz_users[i].name,
		    fz_users[i].password != NULL ? hash : "*",
		    fz_users[i].chap != NULL ? &k : NULL);
		FUZZ_CHECK(n > 0 && len + n < sizeof(text));
		memcpy(text + len, line, n);
		len += n;
	}
	H.db = userdb_parse("fuzz-users", text, len, db_report, NULL);
	FUZZ_CHECK(H.db != NULL);
}

static void
invoke_pending(struct ev_loop *loop)
{
	H.pending_seen += ev_pending_count(loop);
	ev_invoke_pending(loop);
}

static void
setup(void)
{
	char logpath[64];
	bool v6;
	int v;

	H.debug = getenv("FUZZ_SESSION_DEBUG") != NULL;
	signal(SIGPIPE, SIG_IGN);	/* relay.h: splice may raise it */
	H.loop = ev_loop_new(EVFLAG_AUTO);
	FUZZ_CHECK(H.loop != NULL);
	ev_set_invoke_pending_cb(H.loop, invoke_pending);

	/* The log, into a memory file the harness reads back. */
	H.logfd = memfd_create("fuzz-session-log", MFD_CLOEXEC);
	FUZZ_CHECK(H.logfd != -1);
	snprintf(logpath, sizeof(logpath), "/proc/self/fd/%d", H.logfd);
	FUZZ_CHECK(log_init("fuzz", LOG_TARGET_FILE, logpath,
	    H.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO) == 0);
	util_set_fatal_hook(fz_fatal_hook);

	H.lfd4 = listen_on("127.0.0.1", SOCK_STREAM, &H.laddr4);
	FUZZ_CHECK(H.lfd4 != -1);
	H.lfd6 = listen_on("::1", SOCK_STREAM, &H.laddr6);
	v6 = H.lfd6 != -1;
	H.sinkfd = listen_on("127.0.0.1", SOCK_DGRAM, &H.sinkaddr);
	FUZZ_CHECK(H.sinkfd != -1);

	load_users();
	for (v = 0; v < NVARIANTS; v++) {
		H.cfg[v] = load_variant(v, v6);
		H.auth[v].db = H.db;
		H.auth[v].chap_mutual =
		    H.cfg[v]->auth.chap_mutual == CHAP_MUTUAL_REQUIRE ?
		    AUTH_CHAP_MUTUAL_REQUIRE :
		    H.cfg[v]->auth.chap_mutual == CHAP_MUTUAL_DENY ?
		    AUTH_CHAP_MUTUAL_DENY : AUTH_CHAP_MUTUAL_ALLOW;
		if (H.cfg[v]->auth.chap_server_secret != NULL &&
		    H.cfg[v]->auth.chap_server_secret[0] != '\0') {
			chap_key_from_secret(&H.server_key,
			    (const uint8_t *)SERVER_SECRET,
			    strlen(SERVER_SECRET));
			H.auth[v].chap_server_key = &H.server_key;
		}
	}
	/* Slot 0 is this "worker", slot 1 another one. */
	H.quota = quota_new(2, 64);
	FUZZ_CHECK(H.quota != NULL);
	FUZZ_CHECK(cidr_parse("203.0.113.0/24", &H.not_clients[0]) == 0);
	FUZZ_CHECK(cidr_parse("2001:db8:bad::/48", &H.not_clients[1]) == 0);
	FUZZ_CHECK(cidr_parse("127.0.0.0/8", &H.loopback[0]) == 0);
	FUZZ_CHECK(cidr_parse("::1/128", &H.loopback[1]) == 0);
	H.ready = 1;
}

/* ---------------------------------------------------------------------
 * Observing: the log, the status, the harness's sockets
 * ------------------------------------------------------------------- */

static void
keep_logtail(const char *b, size_t n)
{
	if (n >= sizeof(R.logtail)) {
		b += n - sizeof(R.logtail);
		n = sizeof(R.logtail);
	}
	if (R.logtail_len + n > sizeof(R.logtail)) {
		size_t drop = R.logtail_len + n - sizeof(R.logtail);

		memmove(R.logtail, R.logtail + drop, R.logtail_len - drop);
		R.logtail_len -= drop;
	}
	memcpy(R.logtail + R.logtail_len, b, n);
	R.logtail_len += n;
	if (H.debug)
		fprintf(stderr, "%.*s", (int)n, b);
}

/* The value of `key` (" rep=") in an access line, up to a space. */
static bool
field_is(const char *line, const char *key, const char *want)
{
	const char *p = strstr(line, key);
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(key);
	n = strcspn(p, " ");
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/*
 * client= is the client a PROXY header named (the one admitted), with
 * via= the harness's own address; else the harness's address and no
 * via= (between client= and cmd=, where the line has it).
 */
static void
check_access_client(const char *line)
{
	char want[SOCKADDR_STRLEN];
	const char *client, *cmd, *via;

	sockaddr_format(R.admitted ? &R.hdr_client.sa : &R.peer.sa, want,
	    sizeof(want));
	FUZZ_CHECK(field_is(line, " client=", want));
	client = strstr(line, " client=");
	cmd = strstr(client, " cmd=");
	via = strstr(client, " via=");
	if (R.admitted && R.hdr_named) {
		FUZZ_CHECK(via != NULL && via < cmd);
		sockaddr_format(&R.peer.sa, want, sizeof(want));
		FUZZ_CHECK(field_is(via, " via=", want));
	} else {
		FUZZ_CHECK(via == NULL || via > cmd);
	}
}

static void
check_access_line(const char *line)
{
	static const char *const keys[] = {
		" client=", " cmd=", " dst=", " addr=", " rep=",
		" bytes_up=", " bytes_down=", " ms=", " attempts=", " end=",
	};
	const char *p = line;
	char rep[16];
	size_t i;

	/* Every field, in order. */
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		p = strstr(p, keys[i]);
		FUZZ_CHECK(p != NULL);
	}
	/* Written by session_free(), before env.closed: R.s_* are its. */
	FUZZ_CHECK(R.closed == 1);
	FUZZ_CHECK(field_is(line, " user=", R.s_user[0] != '\0' ? R.s_user :
	    "-"));
	if (R.s_rep >= 0)
		snprintf(rep, sizeof(rep), "%d", R.s_rep);
	else
		snprintf(rep, sizeof(rep), "-");
	FUZZ_CHECK(field_is(line, " rep=", rep));
	check_access_client(line);
	/* Every session knows why it ended. */
	FUZZ_CHECK(R.s_end[0] != '\0');
	FUZZ_CHECK(field_is(line, " end=", R.s_end));
	/* An association's datagram counts, for check_udp(). */
	if ((p = strstr(line, " dgrams_up=")) != NULL)
		R.log_dgrams_up = strtoull(p + 11, NULL, 10);
	if ((p = strstr(line, " dgrams_down=")) != NULL)
		R.log_dgrams_down = strtoull(p + 13, NULL, 10);
}

/* Read what was logged since last time; count and check the lines. */
static void
read_log(void)
{
	static char buf[65536];
	struct stat st;
	char *line, *nl;
	ssize_t n;

	FUZZ_CHECK(fstat(H.logfd, &st) == 0);
	if (st.st_size == 0)
		return;
	FUZZ_CHECK(st.st_size < (off_t)sizeof(buf));
	n = pread(H.logfd, buf, (size_t)st.st_size, 0);
	FUZZ_CHECK(n == st.st_size);
	FUZZ_CHECK(ftruncate(H.logfd, 0) == 0);
	keep_logtail(buf, (size_t)n);
	/* Whole lines only: one write(2) each. */
	FUZZ_CHECK(buf[n - 1] == '\n');
	buf[n - 1] = '\0';
	for (line = buf; line != NULL; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		/* "2026-01-01T00:00:00.000Z fuzz[123]: level: ..." */
		FUZZ_CHECK(strlen(line) > 26 && line[4] == '-' &&
		    line[10] == 'T' && line[23] == 'Z' &&
		    strncmp(line + 24, " fuzz[", 6) == 0);
		if (strstr(line, "]: info: access ") != NULL) {
			R.access_lines++;
			check_access_line(line);
		}
	}
}


/*
 * Read a TCP side until it would block (or its EOF, or a reset);
 * returns the bytes read (plus one for the end). The client's first
 * bytes are kept (`keep`).
 */
static size_t
drain_tcp(int fd, int *eof, int *reset, uint64_t *count, bool keep)
{
	uint8_t buf[16384];
	size_t total = 0;

	while (fd != -1 && !*eof && total < DRAIN_MAX) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			if (keep && R.crecv_len < sizeof(R.crecv)) {
				size_t k = sizeof(R.crecv) - R.crecv_len;

				if (k > (size_t)n)
					k = (size_t)n;
				memcpy(R.crecv + R.crecv_len, buf, k);
				R.crecv_len += k;
			}
			total += (size_t)n;
			*count += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		/* EOF, or a reset: nothing more will come. */
		if (n == -1)
			*reset = 1;
		*eof = 1;
		total++;
	}
	return total;
}

/*
 * Read datagrams: the sink's (`sink`: its senders are noted, its
 * datagrams counted) or the client's (each must carry a SOCKS UDP
 * header, FRAG 0, naming the sink: the one source the access rules
 * allow; counted with their payload).
 */
static size_t
drain_udp(int fd, bool sink)
{
	uint8_t buf[2048];
	size_t total = 0;
	int k;

	for (k = 0; fd != -1 && k < 64; k++) {
		union sockaddr_any from, src;
		socklen_t len = sizeof(from), slen = sizeof(src);
		struct socks5_udp_header h;
		size_t used = 0;
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, &from.sa, &len);

		if (n == -1)
			break;
		total += (size_t)n + 1;
		if (sink) {
			R.sink_from = from;
			R.have_sink_from = true;
			R.sink_dgrams++;
			R.sink_bytes += (size_t)n;
			continue;
		}
		FUZZ_CHECK(socks5_parse_udp_header(buf, (size_t)n, &h, &used) ==
		    SOCKS5_OK && h.frag == 0);
		FUZZ_CHECK(socks5_addr_to_sockaddr(&h.dst, &src.sa, &slen) == 0);
		sockaddr_unmap(&src);
		FUZZ_CHECK(sockaddr_equal(&src.sa, &H.sinkaddr.sa));
		R.cu_dgrams++;
		R.cu_bytes += (size_t)n - used;
	}
	return total;
}

static size_t
drain(void)
{
	size_t n = 0;

	if (!R.c_stall)
		n += drain_tcp(R.cfd, &R.c_eof, &R.c_reset, &R.c_total, true);
	if (!R.r_stall)
		n += drain_tcp(R.rfd, &R.r_eof, &R.r_reset, &R.r_total, false);
	n += drain_udp(R.ufd, false);
	n += drain_udp(R.xfd, false);
	n += drain_udp(H.sinkfd, true);
	return n;
}

/* ---------------------------------------------------------------------
 * Invariants
 * ------------------------------------------------------------------- */

static int
harness_fds(void)
{
	return (R.cfd != -1) + (R.rfd != -1) + (R.ufd != -1) + (R.xfd != -1);
}

static void
check_harness_fds(void)
{
	/* Still open: nobody closed what the harness owns. */
	FUZZ_CHECK(R.cfd == -1 || fcntl(R.cfd, F_GETFD) != -1);
	FUZZ_CHECK(R.rfd == -1 || fcntl(R.rfd, F_GETFD) != -1);
	FUZZ_CHECK(R.ufd == -1 || fcntl(R.ufd, F_GETFD) != -1);
	FUZZ_CHECK(R.xfd == -1 || fcntl(R.xfd, F_GETFD) != -1);
}

static unsigned
count_jobs(void)
{
	const struct verifier_job *j;
	unsigned n = 0;

	for (j = R.jobs; j != NULL; j = j->next)
		n++;
	return n;
}

/* Where the client's SOCKS bytes start: after the header, if any. */
static size_t
socks_start(void)
{
	return R.admitted ? R.hdr_used : 0;
}

/* What sent_greeting() found. */
enum sent {
	SENT_UNKNOWN,		/* beyond what csent keeps */
	SENT_PARTIAL,		/* not a whole greeting yet */
	SENT_OK,		/* a greeting; *method the one to choose */
	SENT_BAD,		/* not a greeting; *method NO_ACCEPTABLE */
	SENT_VERSION,		/* not SOCKS5 at all */
};

/*
 * The greeting the client has sent after the header, as the session
 * must have parsed it: whether it is whole and valid, and the method
 * the session is to choose for it.
 */
static enum sent
sent_greeting(uint8_t *method)
{
	struct socks5_greeting g;
	size_t start = socks_start(), used = 0;
	enum socks5_status st;

	*method = SOCKS5_METHOD_NO_ACCEPTABLE;
	if (start > R.csent_len)
		return SENT_UNKNOWN;
	st = socks5_parse_greeting(R.csent + start, R.csent_len - start, &g,
	    &used);
	switch (st) {
	case SOCKS5_OK:
		*method = socks5_select_method(&g, R.cfg->auth.methods,
		    R.cfg->auth.n_methods);
		return SENT_OK;
	case SOCKS5_NEED_MORE:
		return R.csent_total > R.csent_len ? SENT_UNKNOWN :
		    SENT_PARTIAL;
	case SOCKS5_ERR_VERSION:
		return SENT_VERSION;
	default:
		return SENT_BAD;
	}
}

/*
 * The PROXY header's part of a live session: what the session counts,
 * whom it takes for its client, and that it leaves SESSION_PROXY only
 * with the whole header read and admitted.
 */
static void
check_live_proxy(const struct session *s)
{
	int p4 = R.cfg->limits.client_prefix_ipv4;
	int p6 = R.cfg->limits.client_prefix_ipv6;

	FUZZ_CHECK(!s->quiet);		/* decided as it is freed */
	if (!R.proxy) {
		/* The worker counted it before session_new(). */
		FUZZ_CHECK(s->state != SESSION_PROXY && s->client_counted);
		FUZZ_CHECK(!s->has_via && !s->proxy_local &&
		    s->proxy_skip == 0 && R.admit_called == 0);
		FUZZ_CHECK(sockaddr_equal(&s->peer.sa, &R.peer.sa));
		FUZZ_CHECK(quota_total(H.quota) == 1);
		return;
	}
	if (!R.admitted) {
		/* Reading the header: the balancer's address, no count. */
		FUZZ_CHECK(s->state == SESSION_PROXY && s->proxy_skip == 0);
		FUZZ_CHECK(!s->client_counted && !s->has_via);
		FUZZ_CHECK(sockaddr_equal(&s->peer.sa, &R.peer.sa));
		FUZZ_CHECK(quota_total(H.quota) == (uint64_t)R.held);
		FUZZ_CHECK(quota_client_count(H.quota, &R.peer.sa, p4, p6) ==
		    0);
		/* Nothing consumed yet: the client's first bytes. */
		FUZZ_CHECK(s->inlen <= R.csent_len &&
		    memcmp(s->in, R.csent, s->inlen) == 0);
	} else {
		/* Admitted: one count, the header's client's. */
		FUZZ_CHECK(s->client_counted);
		FUZZ_CHECK(quota_total(H.quota) == (uint64_t)R.held + 1);
		FUZZ_CHECK(quota_client_count(H.quota, &R.hdr_client.sa, p4,
		    p6) == 1);
		FUZZ_CHECK(sockaddr_equal(&s->peer.sa, &R.hdr_client.sa));
		FUZZ_CHECK(!!s->has_via == R.hdr_named &&
		    !!s->proxy_local == !R.hdr_named);
		if (s->has_via)
			FUZZ_CHECK(sockaddr_equal(&s->via.sa, &R.peer.sa));
		if (s->state == SESSION_PROXY) {
			/* Discarding the rest (v2 TLVs) as it arrives. */
			FUZZ_CHECK(s->proxy_skip > 0 && s->inlen == 0);
			FUZZ_CHECK(s->proxy_skip <= R.hdr_used &&
			    R.hdr_used - s->proxy_skip <= R.csent_total);
		} else {
			/* Left only with all of it read. */
			FUZZ_CHECK(s->proxy_skip == 0 &&
			    R.csent_total >= R.hdr_used);
		}
	}
	/* The balancer is told nothing while its header is read. */
	if (s->state == SESSION_PROXY)
		FUZZ_CHECK(s->outlen == 0 && R.c_total == 0);
}

/*
 * No byte of a header reaches the SOCKS parser: in GREETING the input
 * holds exactly the client's bytes after the header (nothing of them
 * is consumed yet), and a session past GREETING (but for a refusal) had
 * a valid greeting there.
 */
static void
check_live_socks(const struct session *s)
{
	size_t start = socks_start();
	uint8_t method;
	enum sent g;

	if (s->state == SESSION_GREETING && start + s->inlen <= R.csent_len)
		FUZZ_CHECK(memcmp(s->in, R.csent + start, s->inlen) == 0);
	if (s->state == SESSION_PROXY || s->state == SESSION_GREETING ||
	    s->state == SESSION_CLOSING)
		return;
	g = sent_greeting(&method);
	FUZZ_CHECK(g == SENT_UNKNOWN ||
	    (g == SENT_OK && method != SOCKS5_METHOD_NO_ACCEPTABLE));
	if (g == SENT_OK && s->state == SESSION_AUTH)
		FUZZ_CHECK(method != SOCKS5_METHOD_NONE);
}

/* While the session lives. */
static void
check_live(void)
{
	const struct session *s = R.s;
	struct pool_stats ps;
	int fds, known;

	FUZZ_CHECK(R.closed == 0 && R.access_lines == 0);
	FUZZ_CHECK(s->fd != -1);
	FUZZ_CHECK((unsigned)s->state <= SESSION_UDP);
	/* The handshake's buffers exist exactly until the relay runs. */
	FUZZ_CHECK((s->state == SESSION_RELAYING) == (s->in == NULL));
	if (s->in != NULL) {
		FUZZ_CHECK(s->out == s->in + SESSION_INBUF);
		FUZZ_CHECK(s->inlen <= SESSION_INBUF);
		FUZZ_CHECK(s->outoff <= s->outlen &&
		    s->outlen <= SOCKS5_REPLY_MAX);
	}
	/* Each state's handle, and only its. */
	FUZZ_CHECK((s->state == SESSION_CONNECTING) == (s->conn != NULL));
	FUZZ_CHECK(s->conn == R.conn);
	FUZZ_CHECK((s->state == SESSION_BINDING) == (s->bind != NULL));
	FUZZ_CHECK((s->state == SESSION_UDP) == (s->udp != NULL));
	FUZZ_CHECK((s->state == SESSION_RELAYING) == (s->relay != NULL));
	if (s->state == SESSION_AUTH)
		FUZZ_CHECK(s->auth != NULL);
	if (s->auth != NULL)
		FUZZ_CHECK(s->state == SESSION_AUTH ||
		    s->state == SESSION_CLOSING);
	/* A password check or a held attempt: only in AUTH. */
	FUZZ_CHECK(count_jobs() == (s->vjob != NULL));
	FUZZ_CHECK(s->vjob == NULL || s->vjob == R.jobs);
	if (s->vjob != NULL || s->auth_held)
		FUZZ_CHECK(s->state == SESSION_AUTH);
	/* Lookups: a BIND's or an association's. */
	if (R.queries != NULL)
		FUZZ_CHECK(s->state == SESSION_BINDING ||
		    s->state == SESSION_UDP);
	/* A destination connection: from the reply that announces it on. */
	FUZZ_CHECK((s->rfd != -1) == (s->state == SESSION_REPLYING ||
	    s->state == SESSION_RELAYING));
	/* The reply given so far: none before the command, success ... */
	if (s->state <= SESSION_CONNECTING)
		FUZZ_CHECK(s->rep == -1);
	if (s->state == SESSION_REPLYING || s->state == SESSION_RELAYING ||
	    s->state == SESSION_UDP)
		FUZZ_CHECK(s->rep == SOCKS5_REP_SUCCEEDED);
	if (s->state == SESSION_BINDING)	/* ... once it listens */
		FUZZ_CHECK(s->rep == -1 || s->rep == SOCKS5_REP_SUCCEEDED);
	if (s->state == SESSION_CLOSING)	/* ... and never before a close */
		FUZZ_CHECK(s->rep != SOCKS5_REP_SUCCEEDED);
	if (s->have_req)
		FUZZ_CHECK(s->state > SESSION_REQUEST);
	if (s->user != NULL)
		FUZZ_CHECK(s->state >= SESSION_REQUEST && R.st_logins == 1);
	/* The counts, the client, the header; what the SOCKS side saw. */
	check_live_proxy(s);
	check_live_socks(s);
	/* Descriptors: no more than the session can account for. */
	pool_stats(&ps);
	fds = count_fds();
	known = R.fds_base + harness_fds() + 1 + (s->rfd != -1) +
	    2 * (int)(ps.pipes_used + ps.pipes_spare);
	FUZZ_CHECK(fds >= known);
	FUZZ_CHECK(fds <= known + SESSION_HIDDEN_FDS);
}

/* After every loop iteration. */
static void
check_step(void)
{
	check_harness_fds();
	read_log();
	if (R.s != NULL) {
		check_live();
		return;
	}
	/* One line, unless it ended quiet. */
	FUZZ_CHECK(R.closed == 1 && R.access_lines == !R.s_quiet);
	FUZZ_CHECK(R.conn == NULL && R.queries == NULL && R.jobs == NULL);
}

static void
loop_once(void)
{
	R.iters++;
	fz_offset_ns += 1000;		/* a turn takes a microsecond */
	ev_run(H.loop, EVRUN_NOWAIT);
	R.peer_unseen = false;
	check_step();
}

/* Bytes `fd` has not yet had acknowledged (its FIN counts as one). */
static int
unacked(int fd)
{
	int n = 0;

	FUZZ_CHECK(ioctl(fd, SIOCOUTQ, &n) == 0);
	return n;
}

/*
 * The loop has nothing left to do, and nothing is in flight towards a
 * side (not in the sender's socket, not in the relay, not in the
 * session's socket: a reader whose window was shut may wait for the
 * kernel's next probe): a half-close has reached that side as an end,
 * not a reset (DESIGN.md). Unless a reset came in or a bandwidth cap
 * holds bytes back.
 */
static void
check_quiet(void)
{
	const struct session *s = R.s;
	struct pool_stats ps;
	int max, bps;

	if (s == NULL || s->state != SESSION_RELAYING || R.c_rst_sent ||
	    R.r_rst_sent || R.cfd == -1 || R.rfd == -1)
		return;
	config_user_limits(s->cfg, s->user, &max, &bps);
	pool_stats(&ps);
	if (bps > 0 || ps.pipes_used > 0 || ps.bufs_used > 0)
		return;
	if (R.c_shut && !R.r_stall && unacked(R.cfd) == 0 &&
	    unacked(s->rfd) == 0)
		FUZZ_CHECK(R.r_eof && !R.r_reset);
	if (R.r_shut && !R.c_stall && unacked(R.rfd) == 0 &&
	    unacked(s->fd) == 0)
		FUZZ_CHECK(R.c_eof && !R.c_reset);
}

/* Run the loop until nothing happens any more (bounded). */
static void
settle(void)
{
	int k;

	for (k = 0; k < SETTLE_MAX && R.iters < MAX_ITERS; k++) {
		unsigned seen = H.pending_seen;
		size_t moved;

		loop_once();
		moved = drain();
		if (H.pending_seen == seen && moved == 0) {
			check_quiet();
			break;
		}
	}
}

/* ---------------------------------------------------------------------
 * The session's environment
 * ------------------------------------------------------------------- */

/*
 * Whether a proxy session that ends now is a balancer's health check:
 * the client went away having sent nothing, or a LOCAL header and
 * nothing more. `certain`: and all it sent has arrived (a reset may
 * have dropped what was still in flight: then the session saw less).
 */
static bool
health_check(const struct session *s, bool certain)
{
	if (s->end == NULL || (strcmp(s->end, "client-eof") != 0 &&
	    strcmp(s->end, "client-error") != 0))
		return false;
	if (R.c_lost)
		return !certain;
	return R.csent_total == 0 ||
	    (R.admitted && !R.hdr_named && R.csent_total == R.hdr_used);
}

/*
 * Why a proxy session ends quiet (no access line, no session end): its
 * client was refused, it had no valid header (counted), or it was a
 * health check; and it does whenever one of them is so.
 */
static void
check_quiet_why(const struct session *s)
{
	bool bad_header = R.st_refusals == 1 &&
	    R.st_refusal == STATUS_REFUSED_PROXY_HEADER;

	if (!R.proxy) {
		FUZZ_CHECK(!s->quiet);
		return;
	}
	if (s->quiet)
		FUZZ_CHECK(R.admit_refused || bad_header ||
		    health_check(s, false));
	else
		FUZZ_CHECK(!R.admit_refused && !bad_header &&
		    !health_check(s, true));
	/* A refused client or header ends the session then and there. */
	if (R.admit_refused || bad_header)
		FUZZ_CHECK(s->state == SESSION_PROXY && !s->client_counted);
	if (bad_header)
		FUZZ_CHECK(R.admit_called == 0);
}

static void
closed_cb(void *arg, struct session *s)
{
	(void)arg;
	FUZZ_CHECK(s == R.s && R.closed == 0);
	R.closed++;
	R.s_quiet = s->quiet != 0;
	R.s_state = s->state;
	check_quiet_why(s);
	/* Its last moment: what the access line must have said. */
	snprintf(R.s_user, sizeof(R.s_user), "%s",
	    s->user != NULL ? s->user : "");
	R.s_rep = s->rep;
	snprintf(R.s_end, sizeof(R.s_end), "%s", s->end != NULL ? s->end : "");
	snprintf(R.s_reset_by, sizeof(R.s_reset_by), "%s",
	    s->reset_by != NULL ? s->reset_by : "");
	/* Everything async was cancelled first (session.h). */
	FUZZ_CHECK(s->conn == NULL && s->relay == NULL && s->bind == NULL &&
	    s->udp == NULL && s->vjob == NULL);
	/* A refusal the session ended with was counted, as what it was. */
	if (strcmp(R.s_end, "access-denied") == 0)
		FUZZ_CHECK(R.st_refusals == 1 &&
		    R.st_refusal == STATUS_REFUSED_ACCESS_RULE);
	if (strcmp(R.s_end, "auth-failed") == 0)
		FUZZ_CHECK(R.st_refusals == 1 &&
		    R.st_refusal == STATUS_REFUSED_AUTH_FAILED);
	if (strcmp(R.s_end, "cmd-not-supported") == 0)
		FUZZ_CHECK(R.st_refusals == 1 &&
		    R.st_refusal == STATUS_REFUSED_COMMAND);
	if (strcmp(R.s_end, "user-max-sessions") == 0)
		FUZZ_CHECK(R.st_refusals == 1 &&
		    R.st_refusal == STATUS_REFUSED_USER_MAX_SESSIONS);
	/* An authentication's verdict was counted, as what it was. */
	if (strcmp(R.s_end, "auth-failed") == 0)
		FUZZ_CHECK(R.st_auths == 1 && R.st_auth == STATUS_AUTH_FAILURE);
	if (strcmp(R.s_end, "auth-throttled") == 0)
		FUZZ_CHECK(R.st_auths == 1 &&
		    R.st_auth == STATUS_AUTH_THROTTLED);
	if (R.st_auths == 1 && R.st_auth == STATUS_AUTH_SUCCESS)
		FUZZ_CHECK(s->state != SESSION_GREETING &&
		    s->state != SESSION_AUTH);
	if (R.st_logins == 1)
		FUZZ_CHECK(R.st_auths == 1 && R.st_auth == STATUS_AUTH_SUCCESS &&
		    R.st_auth_method != SOCKS5_METHOD_NONE);
	if (s->have_req)
		FUZZ_CHECK(R.st_auths == 1 && R.st_auth == STATUS_AUTH_SUCCESS);
	/* An association's datagrams were counted when it was freed. */
	if (s->state == SESSION_UDP)
		FUZZ_CHECK(R.st_udps == 1);
	if (R.st_udps == 1)
		FUZZ_CHECK(R.st_udp_up == s->ustats.dgrams_up &&
		    R.st_udp_down == s->ustats.dgrams_down);
	/* status_session_end() came just before, from session_free(). */
	FUZZ_CHECK(R.st_ends == !R.s_quiet);
	if (!R.s_quiet) {
		FUZZ_CHECK(R.st_cmd == (s->have_req ? s->req.cmd : -1));
		FUZZ_CHECK(R.st_up == s->stats.bytes_up &&
		    R.st_down == s->stats.bytes_down);
	}
	R.s = NULL;
}

/*
 * The worker's admission of the client a PROXY header names
 * (worker_admit_client()): `clients`, then the limits, by the rule the
 * header bits chose; the count taken when admitted.
 */
static int
admit(void *arg, const union sockaddr_any *peer)
{
	const struct config *cfg = R.cfg;
	const struct session *s = R.s;
	struct proxy_header h;
	union sockaddr_any want;
	enum quota_verdict v;
	char as[SOCKADDR_STRLEN];
	size_t used = 0, i;
	bool allowed = true;

	(void)arg;
	FUZZ_CHECK(R.proxy && s != NULL && R.admit_called == 0);
	R.admit_called++;
	/* Once, from SESSION_PROXY, the session counting nothing yet. */
	FUZZ_CHECK(s->state == SESSION_PROXY && s->proxy_skip == 0 &&
	    !s->client_counted);
	FUZZ_CHECK(quota_total(H.quota) == (uint64_t)R.held);
	/*
	 * The client has sent a whole header, which named this client
	 * (LOCAL: the connection's own address); the session has taken it
	 * for its client already, and the balancer for its via.
	 */
	FUZZ_CHECK(proxy_parse(R.csent, R.csent_len, &h, &used) ==
	    PROXY_DONE);
	if (h.local) {
		want = R.peer;
	} else {
		want = h.src;
		sockaddr_unmap(&want);
	}
	FUZZ_CHECK(sockaddr_equal(&peer->sa, &want.sa));
	FUZZ_CHECK(sockaddr_equal(&s->peer.sa, &want.sa));
	FUZZ_CHECK(!!s->has_via == !h.local && !!s->proxy_local == h.local);
	if (s->has_via)
		FUZZ_CHECK(sockaddr_equal(&s->via.sa, &R.peer.sa));
	R.hdr_client = want;
	R.hdr_named = !h.local;
	R.hdr_used = used;

	for (i = 0; i < ARRAY_SIZE(H.not_clients); i++)
		if (cidr_match(&H.not_clients[i], &peer->sa))
			allowed = false;
	if (R.narrow && !cidr_match(&H.loopback[0], &peer->sa) &&
	    !cidr_match(&H.loopback[1], &peer->sa))
		allowed = false;
	sockaddr_format(&peer->sa, as, sizeof(as));
	if (!allowed) {
		admit_refusal(STATUS_REFUSED_CLIENTS);
		logit("refused %s: not in 'clients'", as);
		R.admit_refused = true;
		return 0;
	}
	v = quota_acquire_client(H.quota, 0, &peer->sa,
	    cfg->limits.max_sessions,
	    R.held ? 1 : cfg->limits.max_sessions_per_client,
	    cfg->limits.client_prefix_ipv4, cfg->limits.client_prefix_ipv6);
	if (v != QUOTA_OK) {
		admit_refusal(v == QUOTA_OVER_GLOBAL ?
		    STATUS_REFUSED_MAX_SESSIONS :
		    STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT);
		logit("refused %s: a limit is reached", as);
		R.admit_refused = true;
		return 0;
	}
	R.admitted = true;
	return 1;
}

/* ---------------------------------------------------------------------
 * Script steps
 * ------------------------------------------------------------------- */

enum op {
	OP_C_SEND = 0,	/* LEN, LEN bytes: the client sends them */
	OP_C_SHUT,	/* the client half-closes (SHUT_WR) */
	OP_C_RESET,	/* the client resets (SO_LINGER 0, close) */
	OP_C_STALL,	/* the client stops (or resumes) reading */
	OP_C_CHAP,	/* FLAGS: a CHAP response to the server's challenge */
	OP_R_SEND,	/* LEN, LEN bytes: the remote sends them */
	OP_R_SHUT,	/* the remote half-closes */
	OP_R_RESET,	/* the remote resets */
	OP_R_STALL,	/* the remote stops (or resumes) reading */
	OP_CONN_OK,	/* ARG: the connector connects (after the check) */
	OP_CONN_FAIL,	/* ARG: the connector fails */
	OP_RESOLVE,	/* ARG: a pending lookup is answered */
	OP_VERIFY,	/* ARG: the pending password check is answered */
	OP_VMODE,	/* ARG: how the next password checks answer */
	OP_TIME,	/* ARG: fake time moves on */
	OP_LOOP,	/* ARG: run the loop ARG % 8 + 1 turns, no more */
	OP_BIND_PEER,	/* ARG: a peer connects to the BIND listener */
	OP_U_SEND,	/* ARG, LEN, LEN bytes: a datagram to the UDP relay */
	OP_SINK_REPLY,	/* ARG, LEN, LEN bytes: the destination answers */
	OP_FAIL_NEXT,	/* ARG: the next connector or lookup is refused */
	OP_END,		/* the worker ends the session (a drain deadline) */
	OP_C_PASS,	/* ARG: an RFC 1929 request for a known name */
	OP_C_REQ,	/* ARG: a SOCKS request */
	OP_BULK,	/* ARG: (ARG % 64 + 1) KiB from the client, or the
			   remote when bit 7 is set */
	OP_COUNT
};

static uint8_t
next(void)
{
	return R.off < R.n ? R.p[R.off++] : 0;
}

/* LEN then up to LEN bytes of the script: *len set, pointer returned. */
static const uint8_t *
next_data(size_t *len)
{
	const uint8_t *d;
	size_t n = next();

	if (n > R.n - R.off)
		n = R.n - R.off;
	d = R.p + R.off;
	R.off += n;
	*len = n;
	return d;
}

/*
 * Send on the client's (`remote` false) or the remote's end; returns
 * the bytes sent. Whatever does not fit now is lost, as with a peer that
 * gives up. A send can be the call that reports a reset that came in
 * (and clears it: the next recv() would only see the end): then the
 * side is marked reset, as drain_tcp() marks one it sees.
 */
static size_t
tcp_send(bool remote, const uint8_t *b, size_t n)
{
	int fd = remote ? R.rfd : R.cfd;
	ssize_t k;

	if (fd == -1 || n == 0)
		return 0;
	k = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k == -1 && errno != EAGAIN && errno != EINTR &&
	    !(errno == EPIPE && (remote ? R.r_shut : R.c_shut))) {
		if (remote)
			R.r_reset = 1;
		else
			R.c_reset = 1;
	}
	return k > 0 ? (size_t)k : 0;
}

/* The client sends; what went is kept for credentials_given(). */
static void
client_send(const uint8_t *b, size_t n)
{
	size_t k = tcp_send(false, b, n);

	R.csent_total += k;
	if (k > sizeof(R.csent) - R.csent_len)
		k = sizeof(R.csent) - R.csent_len;
	memcpy(R.csent + R.csent_len, b, k);
	R.csent_len += k;
}

/* The last 16-octet CHALLENGE the server sent (zeros when none). */
static void
server_challenge(uint8_t out[CHAP_CHALLENGE_LEN])
{
	static struct chap_msg m;
	size_t off = 2, used;
	unsigned i;

	memset(out, 0, CHAP_CHALLENGE_LEN);
	if (R.crecv_len < 2 || R.crecv[0] != SOCKS5_VERSION ||
	    R.crecv[1] != SOCKS5_METHOD_CHAP)
		return;
	while (off < R.crecv_len && chap_parse_msg(R.crecv + off,
	    R.crecv_len - off, &m, &used) == CHAP_OK) {
		for (i = 0; i < m.navas; i++)
			if (m.avas[i].att == CHAP_ATT_CHALLENGE &&
			    m.avas[i].len == CHAP_CHALLENGE_LEN)
				memcpy(out, m.avas[i].val, CHAP_CHALLENGE_LEN);
		off += used;
	}
}

/*
 * FLAGS: bits 0-1 the name (alice, carol, bob, mallory), bit 2 a wrong
 * secret, bit 3 a challenge of the client's own, bit 4 ALGORITHMS too,
 * bit 5 no name.
 */
static void
op_c_chap(uint8_t flags)
{
	static const char *const names[] = { "alice", "carol", "bob", "mallory" };
	static const uint8_t alg = CHAP_ALG_HMAC_MD5;
	const char *name = names[flags & 3], *secret = "nobody";
	size_t who = ARRAY_SIZE(fz_users);
	uint8_t chal[CHAP_CHALLENGE_LEN], resp[CHAP_HMAC_MD5_LEN], buf[256];
	struct chap_ava avas[4];
	size_t n = 0, i, len;

	for (i = 0; i < ARRAY_SIZE(fz_users); i++)
		if (strcmp(name, fz_users[i].name) == 0 &&
		    fz_users[i].chap != NULL) {
			secret = fz_users[i].chap;
			who = i;
		}
	if (flags & 4)
		secret = "wrong";
	else if (who < ARRAY_SIZE(fz_users))
		R.creds |= 1u << who;
	server_challenge(chal);
	FUZZ_CHECK(chap_hmac_md5((const uint8_t *)secret, strlen(secret),
	    chal, sizeof(chal), resp) == 0);
	if (flags & 16)
		avas[n++] = (struct chap_ava){ CHAP_ATT_ALGORITHMS, 1, &alg };
	if (!(flags & 32))
		avas[n++] = (struct chap_ava){ CHAP_ATT_USER_IDENTITY,
		    (uint8_t)strlen(name), (const uint8_t *)name };
	avas[n++] = (struct chap_ava){ CHAP_ATT_RESPONSE, sizeof(resp), resp };
	if (flags & 8)
		avas[n++] = (struct chap_ava){ CHAP_ATT_CHALLENGE, 16,
		    (const uint8_t *)"client-challenge" };
	len = chap_encode_msg(buf, sizeof(buf), avas, n);
	FUZZ_CHECK(len > 0);
	client_send(buf, len);
}

/* ARG: bits 0-1 the name (alice, bob, carol, mallory), bit 2 wrong. */
static void
op_c_pass(uint8_t arg)
{
	static const char *const names[] = { "alice", "bob", "carol", "mallory" };
	const char *name = names[arg & 3], *pw = "guess";
	uint8_t buf[3 + 2 * 255];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(fz_users); i++)
		if (strcmp(name, fz_users[i].name) == 0 &&
		    fz_users[i].password != NULL && !(arg & 4))
			pw = fz_users[i].password;
	buf[n++] = 1;
	buf[n++] = (uint8_t)strlen(name);
	memcpy(buf + n, name, strlen(name));
	n += strlen(name);
	buf[n++] = (uint8_t)strlen(pw);
	memcpy(buf + n, pw, strlen(pw));
	n += strlen(pw);
	client_send(buf, n);
}

/*
 * ARG: bits 0-1 the command (CONNECT, BIND, UDP ASSOCIATE, 9), bits 2-4
 * the destination, bits 5-6 the port (80, 0, the sink's, 65535).
 */
static void
op_c_req(uint8_t arg)
{
	static const uint8_t cmds[] = { 1, 2, 3, 9 };
	static const char *const names[] = {
		"127.0.0.1", "::1", "dst.test", "0.0.0.0", "192.0.2.1",
		"127.0.0.2", "localhost", "127.0.0.3",
	};
	const uint16_t ports[] = { 80, 0, sockaddr_port(&H.sinkaddr.sa), 65535 };
	const char *name = names[(arg >> 2) & 7];
	union sockaddr_any a;
	struct socks5_addr dst;
	uint8_t buf[SOCKS5_REQUEST_MAX];
	size_t n;

	memset(&dst, 0, sizeof(dst));
	if (sockaddr_parse_ip(name, ports[(arg >> 5) & 3], &a) == 0) {
		FUZZ_CHECK(socks5_addr_from_sockaddr(&dst, &a.sa) == 0);
	} else {
		dst.atyp = SOCKS5_ATYP_DOMAIN;
		dst.name_len = (uint8_t)strlen(name);
		memcpy(dst.u.name, name, dst.name_len + 1);
		dst.port = ports[(arg >> 5) & 3];
	}
	n = socks5_encode_request(buf, sizeof(buf), cmds[arg & 3], &dst);
	FUZZ_CHECK(n > 0);
	client_send(buf, n);
}

/*
 * A peer connects to the BIND listener; ARG bit 0: from 127.0.0.2. The
 * harness holds one peer (the remote): a peer that the loop has not yet
 * had a turn to accept is let in first, or the one the bind accepts
 * would not be the one the harness holds.
 */
static void
op_bind_peer(uint8_t arg)
{
	union sockaddr_any from;
	int fd;

	if (R.peer_unseen)
		settle();
	if (R.s == NULL || R.s->state != SESSION_BINDING || !R.s->has_bnd)
		return;
	fd = socket(R.s->bnd.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	FUZZ_CHECK(fd != -1);
	nodelay(fd);
	if (R.s->bnd.sa.sa_family == AF_INET && (arg & 1)) {
		FUZZ_CHECK(sockaddr_parse_ip("127.0.0.2", 0, &from) == 0);
		FUZZ_CHECK(bind(fd, &from.sa, sockaddr_len(&from.sa)) == 0);
	}
	if (connect(fd, &R.s->bnd.sa, sockaddr_len(&R.s->bnd.sa)) == -1)
		FUZZ_CHECK(errno == EINPROGRESS || errno == ECONNREFUSED);
	new_remote(fd);
	R.peer_unseen = true;
}

static int
udp_socket_at(const char *ip)
{
	union sockaddr_any at;

	return listen_on(ip, SOCK_DGRAM, &at);
}

/*
 * A datagram to the association's relay socket. ARG bits 0-2: the
 * destination in its header (the sink by IPv4, by name, by mapped IPv6;
 * a denied address; FRAG 1; the script's raw bytes; the sink from a
 * stranger's socket; 0.0.0.0).
 */
static void
op_u_send(uint8_t arg, const uint8_t *d, size_t len)
{
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + 256];
	struct socks5_addr dst;
	union sockaddr_any a;
	size_t n = 0;
	int fd;
	int family;

	if (R.s == NULL || R.s->state != SESSION_UDP || !R.s->has_bnd)
		return;
	family = R.s->bnd.sa.sa_family;
	memset(&dst, 0, sizeof(dst));
	switch (arg & 7) {
	case 1:
		dst.atyp = SOCKS5_ATYP_DOMAIN;
		dst.name_len = 9;
		memcpy(dst.u.name, "sink.test", 10);
		dst.port = sockaddr_port(&H.sinkaddr.sa);
		break;
	case 2:
		FUZZ_CHECK(sockaddr_parse_ip("::ffff:127.0.0.1",
		    sockaddr_port(&H.sinkaddr.sa), &a) == 0);
		dst.atyp = SOCKS5_ATYP_IPV6;
		memcpy(dst.u.ipv6, &a.sin6.sin6_addr, 16);
		dst.port = sockaddr_port(&H.sinkaddr.sa);
		break;
	case 3:
		FUZZ_CHECK(sockaddr_parse_ip("192.0.2.1", 9, &a) == 0);
		FUZZ_CHECK(socks5_addr_from_sockaddr(&dst, &a.sa) == 0);
		break;
	case 7:
		FUZZ_CHECK(sockaddr_parse_ip("0.0.0.0",
		    sockaddr_port(&H.sinkaddr.sa), &a) == 0);
		FUZZ_CHECK(socks5_addr_from_sockaddr(&dst, &a.sa) == 0);
		break;
	default:
		FUZZ_CHECK(socks5_addr_from_sockaddr(&dst,
		    &H.sinkaddr.sa) == 0);
		break;
	}
	if ((arg & 7) == 5) {
		memcpy(buf, d, len);
		n = len;
	} else {
		n = socks5_encode_udp_header(buf, sizeof(buf),
		    (arg & 7) == 4 ? 1 : 0, &dst);
		FUZZ_CHECK(n > 0);
		memcpy(buf + n, d, len);
		n += len;
	}
	if ((arg & 7) == 6) {
		if (R.xfd == -1)
			R.xfd = udp_socket_at(family == AF_INET6 ? "::1" :
			    "127.0.0.1");
		fd = R.xfd;
	} else {
		if (R.ufd == -1)
			R.ufd = udp_socket_at(family == AF_INET6 ? "::1" :
			    "127.0.0.1");
		fd = R.ufd;
	}
	FUZZ_CHECK(fd != -1);
	(void)sendto(fd, buf, n, 0, &R.s->bnd.sa, sockaddr_len(&R.s->bnd.sa));
}

/* The sink answers the last sender it saw; ARG bit 0: a stranger does. */
static void
op_sink_reply(uint8_t arg, const uint8_t *d, size_t len)
{
	int fd = H.sinkfd;

	(void)drain_udp(H.sinkfd, true);
	if (!R.have_sink_from)
		return;
	if (arg & 1) {
		if (R.xfd == -1)
			R.xfd = udp_socket_at("127.0.0.1");
		fd = R.xfd;
		FUZZ_CHECK(fd != -1);
	}
	(void)sendto(fd, d, len, 0, &R.sink_from.sa,
	    sockaddr_len(&R.sink_from.sa));
}

/* A lot of bytes at once (what fits is sent; the rest is dropped). */
static void
op_bulk(uint8_t arg)
{
	static uint8_t pattern[64 * 1024];
	size_t n = ((size_t)(arg & 63) + 1) * 1024;

	if (pattern[1] == 0) {
		size_t i;

		for (i = 0; i < sizeof(pattern); i++)
			pattern[i] = (uint8_t)(i * 7 + 1);
	}
	if (arg & 0x80)
		(void)tcp_send(true, pattern, n);
	else
		client_send(pattern, n);
}

static void
advance_time(uint8_t arg)
{
	static const uint32_t ms[] = {
		1, 10, 100, 250, 500, 999, 1000, 2000, 2001, 3000, 5000,
		8000, 10000, 15000, 30000, 300000,
	};

	fz_offset_ns += (int64_t)ms[arg & 15] * 1000000;
	ev_now_update(H.loop);
}

static void
step(void)
{
	uint8_t op = next(), arg;
	bool run = !(op & 0x80);
	const uint8_t *d;
	size_t len;

	R.steps++;
	op = (uint8_t)((op & 0x7f) % OP_COUNT);
	trace("%s%u", R.tracelen > 0 ? " " : "", op);
	switch ((enum op)op) {
	case OP_C_SEND:
		d = next_data(&len);
		client_send(d, len);
		break;
	case OP_C_SHUT:
		if (R.cfd != -1 && shutdown(R.cfd, SHUT_WR) == 0)
			R.c_shut = 1;
		break;
	case OP_C_RESET:
		if (R.cfd != -1) {
			R.c_reset = R.c_rst_sent = 1;
			/* What the reset may drop: not all was seen. */
			if (unacked(R.cfd) > 0)
				R.c_lost = true;
		}
		rst_close(&R.cfd);
		break;
	case OP_C_STALL:
		R.c_stall = !R.c_stall;
		break;
	case OP_C_CHAP:
		op_c_chap(next());
		break;
	case OP_R_SEND:
		d = next_data(&len);
		(void)tcp_send(true, d, len);
		break;
	case OP_R_SHUT:
		if (R.rfd != -1 && shutdown(R.rfd, SHUT_WR) == 0)
			R.r_shut = 1;
		break;
	case OP_R_RESET:
		if (R.rfd != -1)
			R.r_reset = R.r_rst_sent = 1;
		rst_close(&R.rfd);
		break;
	case OP_R_STALL:
		R.r_stall = !R.r_stall;
		break;
	case OP_CONN_OK:
		op_conn_ok(next());
		break;
	case OP_CONN_FAIL:
		op_conn_fail(next());
		break;
	case OP_RESOLVE:
		op_resolve(next());
		break;
	case OP_VERIFY:
		op_verify(next());
		break;
	case OP_VMODE:
		arg = next();
		R.vmode = (arg & 3) == 1 ? VMODE_DONE : (arg & 3) == 3 ?
		    VMODE_BUSY : VMODE_PENDING;
		break;
	case OP_TIME:
		advance_time(next());
		break;
	case OP_LOOP: {
		int k, n = (next() & 7) + 1;

		for (k = 0; k < n && R.iters < MAX_ITERS; k++) {
			loop_once();
			(void)drain();
		}
		run = false;
		break;
	}
	case OP_BIND_PEER:
		op_bind_peer(next());
		break;
	case OP_U_SEND:
		arg = next();
		d = next_data(&len);
		op_u_send(arg, d, len);
		break;
	case OP_SINK_REPLY:
		arg = next();
		d = next_data(&len);
		op_sink_reply(arg, d, len);
		break;
	case OP_FAIL_NEXT:
		arg = next();
		if (arg & 1)
			R.fail_connector = 1;
		else
			R.fail_lookup = 1 + (arg >> 1 & 1);
		break;
	case OP_END:
		if (R.s != NULL) {
			session_set_end(R.s, "reload-deadline");
			session_free(R.s);
		}
		break;
	case OP_C_PASS:
		op_c_pass(next());
		break;
	case OP_C_REQ:
		op_c_req(next());
		break;
	case OP_BULK:
		op_bulk(next());
		break;
	case OP_COUNT:
		break;
	}
	if (run)
		settle();
	else
		check_step();
}

/* ---------------------------------------------------------------------
 * One input
 * ------------------------------------------------------------------- */

/*
 * The header bytes. h0: bits 0-1 the configuration variant, bit 2 the
 * relay copies, bit 3 a NAT64 prefix is known (resolver_pref64_current),
 * bits 4-5 the client's earlier failed logins, bit 6 another worker holds
 * bob's session, bit 7 small socket buffers. h1: bits 0-1 how password
 * checks answer, bit 2 the client comes over IPv6, bits 3-5 a
 * proxy_protocol listener and its admission (H1_PROXY, H1_NARROW,
 * H1_HELD); bits 6-7 are free.
 */
static void
begin(const uint8_t *data, size_t size)
{
	static const unsigned failures[] = { 0, 3, 4, 12 };
	struct pool_stats ps;
	union sockaddr_any failed;
	uint8_t h0 = size > 0 ? data[0] : 0, h1 = size > 1 ? data[1] : 0;
	int family, theirs;
	unsigned k;

	memset(&R, 0, sizeof(R));
	R.p = data;
	R.n = size;
	R.off = 2;
	R.cfd = R.rfd = R.ufd = R.xfd = -1;
	R.s_rep = -1;
	R.variant = h0 & 3;
	R.cfg = H.cfg[R.variant];
	R.proxy = (h1 & H1_PROXY) != 0;
	R.narrow = R.proxy && (h1 & H1_NARROW);
	R.held = R.proxy && (h1 & H1_HELD);
	R.vmode = (h1 & 3) == 1 ? VMODE_DONE : (h1 & 3) == 3 ? VMODE_BUSY :
	    VMODE_PENDING;
	relay_force_copy((h0 & 4) != 0);

	/* Nothing is left from the last input. */
	ev_now_update(H.loop);
	FUZZ_CHECK(ev_run(H.loop, EVRUN_NOWAIT) == 0);
	(void)drain_udp(H.sinkfd, true);
	R.sink_dgrams = R.sink_bytes = 0;
	R.have_sink_from = false;
	FUZZ_CHECK(ftruncate(H.logfd, 0) == 0);
	pool_stats(&ps);
	R.fds_base = count_fds() - 2 * (int)ps.pipes_spare;

	R.ft = failtab_new(64);
	FUZZ_CHECK(R.ft != NULL);
	family = (h1 & 4) && H.lfd6 != -1 ? AF_INET6 : AF_INET;
	R.small = (h0 & 0x80) != 0;
	tcp_pair(family, R.small, &R.cfd, &theirs, &R.peer);
	/*
	 * The failed logins are the client's: behind a balancer, the one
	 * its header names (the seeds' FAILED_CLIENT), not the balancer.
	 */
	failed = R.peer;
	if (R.proxy)
		FUZZ_CHECK(sockaddr_parse_ip(FAILED_CLIENT, 0, &failed) == 0);
	for (k = 0; k < failures[(h0 >> 4) & 3]; k++)
		(void)failtab_fail(R.ft, &failed.sa, util_now_ms());
	/*
	 * The most failures: other connections from this source have
	 * booked its turns a quarter of an hour ahead (it is throttled).
	 */
	for (k = 0; (h0 & 0x30) == 0x30 && k < 1000; k++)
		if (failtab_turn_ms(R.ft, &failed.sa, util_now_ms()) ==
		    FAILTAB_THROTTLED)
			break;
	if (h0 & 0x40) {
		FUZZ_CHECK(quota_acquire_user(H.quota, 1, "bob", 1) ==
		    QUOTA_OK);
		R.bob_elsewhere = true;
	}

	/* What a worker does with an accepted connection. */
	R.env.loop = H.loop;
	R.env.resolver = &H.resolver;
	R.env.cfg = R.cfg;
	R.env.quota = H.quota;
	R.env.slot = 0;
	R.env.auth = &H.auth[R.variant];
	R.env.verifier = &H.verifier;
	R.env.failtab = R.ft;
	R.env.closed = closed_cb;
	R.env.arg = NULL;
	if (R.held) {
		union sockaddr_any held;

		FUZZ_CHECK(sockaddr_parse_ip(HELD_CLIENT, 0, &held) == 0);
		FUZZ_CHECK(quota_acquire_client(H.quota, 1, &held.sa, 0, 0,
		    R.cfg->limits.client_prefix_ipv4,
		    R.cfg->limits.client_prefix_ipv6) == QUOTA_OK);
	}
	/*
	 * A proxy_protocol listener's connection is not counted at accept:
	 * the session has its client admitted once the header names it.
	 */
	if (R.proxy)
		R.env.admit = admit;
	else
		FUZZ_CHECK(quota_acquire_client(H.quota, 0, &R.peer.sa,
		    R.cfg->limits.max_sessions,
		    R.cfg->limits.max_sessions_per_client,
		    R.cfg->limits.client_prefix_ipv4,
		    R.cfg->limits.client_prefix_ipv6) == QUOTA_OK);
	R.s = session_new(&R.env, theirs, &R.peer, R.proxy);
	FUZZ_CHECK(R.s != NULL);
	check_step();
}

/*
 * Whether a side of the harness got a reset: a recv() or send() said
 * so, or (the harness not having half-closed it) its socket is closed:
 * a peer's FIN alone leaves it in CLOSE_WAIT, while a reset that came
 * after the FIN is seen by nothing else (recv() reports the end).
 */
static bool
got_reset(int fd, int seen, int shut)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (seen)
		return true;
	if (fd == -1 || shut)
		return false;
	FUZZ_CHECK(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
	return ti.tcpi_state == TCP_CLOSE;
}

/*
 * Resets, as DESIGN.md has them: a reset is passed on as a reset, never
 * turned into a clean end, and a half-close is never turned into a
 * reset. The session says a side reset (end=reset, or the client's
 * socket failed: client-error) only when the harness reset it, and then
 * the other side got a reset too (unless the harness had half-closed or
 * reset that side itself: then it cannot tell); a session that ended
 * cleanly (closed) left no reset on either side, unless the harness
 * sent one.
 */
static void
check_resets(void)
{
	if (strcmp(R.s_end, "reset") == 0) {
		bool by_client = strcmp(R.s_reset_by, "client") == 0;

		FUZZ_CHECK(by_client || strcmp(R.s_reset_by, "remote") == 0);
		FUZZ_CHECK(by_client ? R.c_rst_sent : R.r_rst_sent);
		if (by_client && !R.r_rst_sent && !R.r_shut && R.rfd != -1)
			FUZZ_CHECK(got_reset(R.rfd, R.r_reset, R.r_shut));
		if (!by_client && !R.c_rst_sent && !R.c_shut && R.cfd != -1)
			FUZZ_CHECK(got_reset(R.cfd, R.c_reset, R.c_shut));
	} else {
		FUZZ_CHECK(R.s_reset_by[0] == '\0');
	}
	if (strcmp(R.s_end, "client-error") == 0)
		FUZZ_CHECK(R.c_rst_sent);
	if (strcmp(R.s_end, "closed") == 0 && !R.c_rst_sent && !R.r_rst_sent)
		FUZZ_CHECK(!got_reset(R.cfd, R.c_reset, R.c_shut) &&
		    !got_reset(R.rfd, R.r_reset, R.r_shut));
}

/*
 * What the client read, taken apart as a SOCKS5 client would: the
 * method chosen, that method's messages, then the replies (a BIND's
 * two). The last reply is the one the access line gave as rep= (none
 * when it said "-"), a refusal is the last word, and what follows the
 * replies is relayed data: as many bytes as bytes_down, while the
 * remote read bytes_up. Only streams read to their end: not when a
 * reset may have cut one short, nor when its end has not arrived yet
 * (bytes the session wrote are counted once in its socket's buffer;
 * with the reader's window shut, the kernel sends the rest later).
 */
static void
check_streams(void)
{
	static struct chap_msg m;
	const uint8_t *b = R.crecv;
	size_t n = R.crecv_len, off = 2, used;
	int last = -1, replies = 0, max;

	if (R.c_reset || !R.c_eof)
		return;
	if (n < 2) {
		FUZZ_CHECK(R.s_rep == -1);
		return;
	}
	FUZZ_CHECK(b[0] == SOCKS5_VERSION);
	switch (b[1]) {
	case SOCKS5_METHOD_NONE:
		break;
	case SOCKS5_METHOD_PASSWORD:
		if (n < 4) {
			FUZZ_CHECK(n == 2 && R.s_rep == -1);
			return;
		}
		FUZZ_CHECK(b[2] == 1);
		if (b[3] != 0) {
			FUZZ_CHECK(n == 4 && R.s_rep == -1);
			return;
		}
		off = 4;
		break;
	case SOCKS5_METHOD_CHAP:
		for (;;) {
			const struct chap_ava *st;
			enum chap_status cs;

			cs = chap_parse_msg(b + off, n - off, &m, &used);
			if (cs == CHAP_NEED_MORE) {
				/* Whole messages only; it ended in AUTH. */
				FUZZ_CHECK(off == n && R.s_rep == -1);
				return;
			}
			FUZZ_CHECK(cs == CHAP_OK);
			off += used;
			st = chap_msg_find(&m, CHAP_ATT_STATUS);
			if (st == NULL)
				continue;
			/*
			 * Mutual: our RESPONSE comes with a success, and the
			 * client's verdict on it may still fail the method
			 * (another CHAP message, not a SOCKS reply).
			 */
			if (chap_status_is_success(st) &&
			    (chap_msg_find(&m, CHAP_ATT_RESPONSE) == NULL ||
			    off == n || b[off] != CHAP_VERSION))
				break;
			if (chap_status_is_success(st))
				continue;
			FUZZ_CHECK(off == n && R.s_rep == -1);
			return;
		}
		break;
	case SOCKS5_METHOD_NO_ACCEPTABLE:
		FUZZ_CHECK(n == 2 && R.s_rep == -1);
		return;
	default:
		FUZZ_CHECK(!"a method the server does not have");
	}
	max = R.st_cmd == SOCKS5_CMD_BIND ? 2 : 1;
	while (replies < max) {
		struct socks5_reply r;
		enum socks5_status st;

		st = socks5_parse_reply(b + off, n - off, &r, &used);
		if (st == SOCKS5_NEED_MORE) {
			FUZZ_CHECK(off == n);	/* whole replies only */
			break;
		}
		FUZZ_CHECK(st == SOCKS5_OK);
		off += used;
		last = r.rep;
		replies++;
		if (r.rep != SOCKS5_REP_SUCCEEDED) {
			FUZZ_CHECK(off == n);	/* the last word */
			break;
		}
	}
	FUZZ_CHECK(last == R.s_rep);
	/* The control connection of an association carries nothing more. */
	if (R.st_cmd == SOCKS5_CMD_UDP_ASSOCIATE) {
		FUZZ_CHECK(R.c_total == off);
		return;
	}
	if (R.r_reset || (R.rfd != -1 && !R.r_eof))
		return;
	FUZZ_CHECK(R.c_total - off == R.st_down);
	FUZZ_CHECK(R.r_total == R.st_up);
}

/*
 * An association's counts are what the sink and the client got: every
 * datagram it says it relayed arrived, payload byte for payload byte
 * (loopback loses none; the harness reads its sockets every turn).
 */
static void
check_udp(void)
{
	if (R.st_cmd != SOCKS5_CMD_UDP_ASSOCIATE) {
		FUZZ_CHECK(R.sink_dgrams == 0 && R.cu_dgrams == 0);
		return;
	}
	FUZZ_CHECK(R.log_dgrams_up == R.sink_dgrams);
	FUZZ_CHECK(R.st_up == R.sink_bytes);
	FUZZ_CHECK(R.log_dgrams_down == R.cu_dgrams);
	FUZZ_CHECK(R.st_down == R.cu_bytes);
}

/*
 * The method the client was told (the first reply) is the one for the
 * greeting it sent after the header: the header never reached the SOCKS
 * parser, and the greeting was not taken from elsewhere.
 */
static void
check_method(void)
{
	uint8_t method;
	enum sent g;

	if (R.crecv_len < 2)
		return;
	FUZZ_CHECK(!R.proxy || R.admitted);
	g = sent_greeting(&method);
	if (g == SENT_UNKNOWN)
		return;
	FUZZ_CHECK(g == SENT_OK || g == SENT_BAD);
	FUZZ_CHECK(R.crecv[0] == SOCKS5_VERSION && R.crecv[1] == method);
}

static void
finish(void)
{
	struct pool_stats ps;
	size_t i;
	int fds;

	settle();
	if (R.s != NULL) {
		/* The worker's end: a shutdown (worker.c does the same). */
		session_set_end(R.s, "shutdown");
		session_free(R.s);
	}
	check_step();
	FUZZ_CHECK(R.s == NULL && R.closed == 1 &&
	    R.access_lines == !R.s_quiet);

	/* The peers read what is left: the session has closed its ends. */
	R.c_stall = R.r_stall = 0;
	for (i = 0; i < 64 && drain() > 0; i++)
		continue;
	check_resets();
	check_streams();
	check_udp();
	check_method();
	/* Closed while reading the header: nothing was said to the balancer. */
	if (R.s_state == SESSION_PROXY)
		FUZZ_CHECK(R.crecv_len == 0 && R.c_total == 0);

	/* Nothing of it is left: descriptors, watchers, counts. */
	rst_close(&R.cfd);
	rst_close(&R.rfd);
	plain_close(&R.ufd);
	plain_close(&R.xfd);
	FUZZ_CHECK(ev_run(H.loop, EVRUN_NOWAIT) == 0);
	pool_stats(&ps);
	FUZZ_CHECK(ps.pipes_used == 0 && ps.bufs_used == 0);
	fds = count_fds();
	FUZZ_CHECK(fds == R.fds_base + 2 * (int)ps.pipes_spare);
	/* Counts: the other worker's only, then none. */
	FUZZ_CHECK(quota_total(H.quota) == (uint64_t)R.held);
	if (R.held) {
		union sockaddr_any held;

		FUZZ_CHECK(sockaddr_parse_ip(HELD_CLIENT, 0, &held) == 0);
		quota_release_client(H.quota, 1, &held.sa,
		    R.cfg->limits.client_prefix_ipv4,
		    R.cfg->limits.client_prefix_ipv6);
	}
	FUZZ_CHECK(quota_total(H.quota) == 0);
	FUZZ_CHECK(quota_client_count(H.quota, &R.peer.sa,
	    R.cfg->limits.client_prefix_ipv4,
	    R.cfg->limits.client_prefix_ipv6) == 0);
	if (R.admit_called)
		FUZZ_CHECK(quota_client_count(H.quota, &R.hdr_client.sa,
		    R.cfg->limits.client_prefix_ipv4,
		    R.cfg->limits.client_prefix_ipv6) == 0);
	for (i = 0; i < ARRAY_SIZE(fz_users); i++)
		FUZZ_CHECK(quota_user_count(H.quota, fz_users[i].name) ==
		    (R.bob_elsewhere && strcmp(fz_users[i].name, "bob") == 0));
	if (R.bob_elsewhere)
		quota_release_user(H.quota, 1, "bob");
	FUZZ_CHECK(R.st_ends == !R.s_quiet && R.st_logins <= 1 &&
	    R.st_connects <= 1 && R.st_auths <= 1 && R.st_udps <= 1);
	failtab_free(R.ft);
	R.ft = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!H.ready)
		setup();
	begin(data, size);
	while (R.off < R.n && R.steps < MAX_STEPS && R.iters < MAX_ITERS)
		step();
	finish();
	if (H.debug)
		fprintf(stderr, "steps: %.*s\n", (int)R.tracelen, R.trace);
	return 0;
}
