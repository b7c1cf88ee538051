/* SPDX-License-Identifier: ISC */
/*
 * worker.c - see worker.h.
 *
 * Every worker accepts on the same listening sockets (inherited from the
 * master); the kernel hands each connection to one of them. A worker
 * watches them through an epoll set of its own, registered with
 * EPOLLEXCLUSIVE, so that a connection wakes one worker, not all of
 * them; libev watches that set (accept_io). A worker that is not
 * accepting takes the listeners out of its set, or the kernel could hand
 * it connections that no one would take. It starts
 * accepting when the master says so (WORKER_CTL_ACCEPT). Told to drain
 * (a reload: WORKER_CTL_DRAIN on the control socket) or to stop (SIGTERM,
 * WORKER_CTL_STOP, or the master's end of the control socket closing), a
 * worker stops accepting (on a stop, once it has taken the connections
 * already queued), closes its copies of the listeners and exits
 * once its last session has ended, or ends what is left at the deadline
 * it was given (worker_drain()): reload_drain_timeout_s for a drain,
 * shutdown_timeout_s for a stop.
 */
#include "config_auto.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "auth.h"
#include "gssapi.h"
#include "gsstun.h"
#include "config.h"
#include "failtab.h"
#include "listener.h"
#include "log.h"
#include "pam.h"
#include "pool.h"
#include "quota.h"
#include "resolver.h"
#include "session.h"
#include "status.h"
#include "socks5.h"
#include "text.h"
#include "userdb.h"
#include "vcache.h"
#include "verifier.h"
#include "worker.h"

/*
 * Accept at most this many connections per wake-up, so that a worker
 * woken by a burst does not take all of it while others sleep.
 */
#define ACCEPT_BATCH 8
/* Pause accepting this long when out of file descriptors. */
#define ACCEPT_PAUSE_S 0.1
/*
 * How often a worker with sessions looks whether its load has fallen (to
 * half its peak, or to none) and, if so, hands back what the busier
 * moment left unused (pool_trim()).
 */
#define TRIM_INTERVAL_S 2.0
/* Verified-credential cache entries per worker (about 40 bytes each). */
#define VCACHE_ENTRIES 4096
/* Password checks waiting for a verifier thread, per worker. */
#define VERIFY_QUEUE_MAX 256

struct worker_listener {
	int fd;
	bool proxy;		/* proxy_protocol.listen: PROXY header first */
};

struct worker {
	struct ev_loop *loop;
	const struct config *cfg;
	struct resolver *resolver;
	int id;			/* == slot in the shared regions */
	struct quota *quota;	/* shared session counts (quota.h) */
	unsigned generation;
	int ctl_fd;		/* control socket to the master, or -1 */
	ev_io ctl_io;
	struct worker_listener *ls;
	size_t nls;
	int accept_ep;		/* epoll set of the listeners, or -1 */
	ev_io accept_io;	/* accept_ep readable */
	int accept_on;		/* the listeners are in accept_ep */
	ev_signal sigterm;
	ev_signal sigint;
	ev_signal sigusr1;
	ev_timer drain_deadline;
	ev_timer accept_pause;
	ev_timer trim;		/* runs while there are sessions, and once after */
	struct session *sessions;
	size_t nsessions;
	size_t trim_peak;	/* most sessions since the last trim */
	int accepting;		/* told to accept (WORKER_CTL_ACCEPT) */
	int draining;
	const char *deadline_end;	/* end= of sessions the deadline ends */
	const char *end;	/* set when it did: for worker_run's cleanup */
	uint64_t accept_errors;		/* for rate-limited logging */
	uint64_t refusals_unlogged[3];	/* per reason, since its last log line */
	uint64_t refusal_logged_ms[3];
	/* Authentication */
	struct auth_params auth;
	struct chap_key chap_server_key;
	struct auth_gss *gss;		/* method "gssapi", or NULL */
	struct vcache *vcache;
	struct verifier *verifier;
	struct failtab *failtab;
	struct session_env senv;	/* what the sessions get (session.h) */
};

/*
 * The verifier's lines about PAM checks (verifier.h): why the stack
 * refused or failed, a check that timed out, an abandoned one that came
 * back. With the name as claimed (escaped) and the client.
 */
static void
worker_pam_report(void *arg, enum verifier_note note, const char *user,
    const struct sockaddr *src, const char *text)
{
	char u[AUTH_USER_STRLEN], client[SOCKADDR_STRLEN], t[320];

	(void)arg;
	text_escape(u, sizeof(u), user, TEXT_CSTR);
	if (src != NULL)
		sockaddr_format(src, client, sizeof(client));
	else
		snprintf(client, sizeof(client), "-");
	text_quote(t, sizeof(t), text, TEXT_CSTR);
	if (note == VERIFIER_NOTE_LATE)
		verbose("pam: user=%s client=%s: %s", u, client, t);
	else
		logit("pam: user=%s client=%s: %s", u, client, t);
}

static int
method_configured(const struct config *cfg, uint8_t m)
{
	size_t i;

	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == m)
			return 1;
	return 0;
}

/*
 * Per-worker authentication state. Everything random (cache key, table
 * seeds) is drawn here, after fork, so no two workers share it. The
 * verifier threads, too, are started only in the worker: a fork copies
 * just the calling thread.
 */
static int
worker_auth_init(struct worker *w, const struct userdb *db,
    const struct auth_gss_keytab *kt)
{
	const struct config *cfg = w->cfg;

	w->auth.db = db;
	switch (cfg->auth.chap_mutual) {
	case CHAP_MUTUAL_REQUIRE:
		w->auth.chap_mutual = AUTH_CHAP_MUTUAL_REQUIRE;
		break;
	case CHAP_MUTUAL_DENY:
		w->auth.chap_mutual = AUTH_CHAP_MUTUAL_DENY;
		break;
	case CHAP_MUTUAL_ALLOW:
	default:
		w->auth.chap_mutual = AUTH_CHAP_MUTUAL_ALLOW;
		break;
	}
	if (cfg->auth.chap_server_secret != NULL &&
	    cfg->auth.chap_server_secret[0] != '\0') {
		chap_key_from_secret(&w->chap_server_key,
		    (const uint8_t *)cfg->auth.chap_server_secret,
		    strlen(cfg->auth.chap_server_secret));
		w->auth.chap_server_key = &w->chap_server_key;
	}
	if (method_configured(cfg, SOCKS5_METHOD_GSSAPI) && kt != NULL) {
		char err[1024];

		w->gss = auth_gss_new(kt, cfg->auth.gssapi_service,
		    cfg->auth.gssapi_levels, cfg->auth.gssapi_strip_realms,
		    cfg->auth.n_gssapi_strip_realms, err, sizeof(err));
		if (w->gss == NULL) {
			error("gssapi: %s", err);
			return -1;
		}
		w->auth.gss = w->gss;
	}
	if (!method_configured(cfg, SOCKS5_METHOD_PASSWORD))
		return 0;
	w->vcache = vcache_new(VCACHE_ENTRIES,
	    (uint64_t)cfg->auth.cache_ttl_s * 1000);
	if (w->vcache == NULL) {
		error("cannot create the credential cache");
		return -1;
	}
	w->verifier = verifier_new(w->loop, db,
	    (unsigned)cfg->auth.verify_threads, VERIFY_QUEUE_MAX, w->vcache);
	if (w->verifier == NULL) {
		error("cannot start %d password verifier threads",
		    cfg->auth.verify_threads);
		return -1;
	}
	verifier_set_failtab(w->verifier, w->failtab);
	if (cfg->auth.password_backend == CONFIG_PASSWORD_PAM) {
		/* RFC 1929 passwords go to PAM; CHAP keeps the users file. */
		struct verifier_backend b = {
			.name = "PAM",
			.check = pam_backend_check,
			.arg = cfg->auth.pam_service,
			.timeout_ms = (unsigned)cfg->auth.pam_timeout_s * 1000,
			.report = worker_pam_report,
			.report_arg = w,
		};

		if (verifier_set_backend(w->verifier, &b) == -1) {
			error("out of memory setting up PAM");
			return -1;
		}
	}
	return 0;
}

static void
worker_auth_free(struct worker *w)
{
	/* The verifier first: its threads use the cache and the users. */
	verifier_free(w->verifier);
	w->verifier = NULL;
	vcache_free(w->vcache);
	w->vcache = NULL;
	w->failtab = NULL;	/* the master's (worker_setup) */
	auth_gss_free(w->gss);
	w->gss = NULL;
	w->auth.gss = NULL;
	explicit_bzero(&w->chap_server_key, sizeof(w->chap_server_key));
}

static void
accepting(struct worker *w, int on)
{
	size_t i;

	if (on == w->accept_on)
		return;
	w->accept_on = on;
	for (i = 0; i < w->nls; i++) {
		struct epoll_event ev;

		if (w->ls[i].fd == -1)
			continue;
		if (!on) {
			(void)epoll_ctl(w->accept_ep, EPOLL_CTL_DEL,
			    w->ls[i].fd, NULL);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(w->accept_ep, EPOLL_CTL_ADD, w->ls[i].fd,
		    &ev) == -1 && errno == EINVAL) {
			/* A kernel before 4.5: every worker wakes. */
			ev.events = EPOLLIN;
			(void)epoll_ctl(w->accept_ep, EPOLL_CTL_ADD,
			    w->ls[i].fd, &ev);
		}
	}
	if (on)
		ev_io_start(w->loop, &w->accept_io);
	else
		ev_io_stop(w->loop, &w->accept_io);
}

static void
worker_accept_pause_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)loop;
	(void)revents;
	if (w->accepting && !w->draining)
		accepting(w, 1);
}

static int
client_allowed(const struct config *cfg, const union sockaddr_any *peer)
{
	size_t i;

	if (!cfg->has_clients)
		return 1;
	for (i = 0; i < cfg->n_clients; i++)
		if (cidr_match(&cfg->clients[i], &peer->sa))
			return 1;
	return 0;
}

/*
 * Count the new session against limits.max_sessions (all workers) and
 * limits.max_sessions_per_client, before a byte is read. Returns 1 when
 * admitted (the count is taken; session_free gives it back).
 */
static int
worker_admit(struct worker *w, const union sockaddr_any *peer)
{
	const struct config *cfg = w->cfg;
	char as[SOCKADDR_STRLEN];
	enum quota_verdict v;

	if (w->quota == NULL)
		return 1;
	v = quota_acquire_client(w->quota, w->id, &peer->sa,
	    cfg->limits.max_sessions, cfg->limits.max_sessions_per_client,
	    cfg->limits.client_prefix_ipv4, cfg->limits.client_prefix_ipv6);
	if (v == QUOTA_OK)
		return 1;
	status_count_refusal(v == QUOTA_OVER_GLOBAL ? STATUS_REFUSED_MAX_SESSIONS :
	    STATUS_REFUSED_MAX_SESSIONS_PER_CLIENT);
	sockaddr_format(&peer->sa, as, sizeof(as));
	/*
	 * A flood of refusals must not become a flood of log lines: at most
	 * one line a second per reason, saying how many it stands for.
	 */
	{
		int k = v == QUOTA_OVER_GLOBAL ? 0 : v == QUOTA_OVER_KEY ? 1 : 2;
		uint64_t now = util_now_ms();

		w->refusals_unlogged[k]++;
		if (now - w->refusal_logged_ms[k] < 1000 &&
		    w->refusal_logged_ms[k] != 0)
			return 0;
		w->refusal_logged_ms[k] = now;
		if (k == 0)
			logit("refused %s: limits.max_sessions (%d) reached "
			    "(%" PRIu64 " refused since the last such line)", as,
			    cfg->limits.max_sessions, w->refusals_unlogged[k]);
		else if (k == 1)
			logit("refused %s: limits.max_sessions_per_client (%d) "
			    "reached (%" PRIu64 " refused since the last such "
			    "line)", as, cfg->limits.max_sessions_per_client,
			    w->refusals_unlogged[k]);
		else
			logit("refused %s: too many distinct clients counted "
			    "at once (%" PRIu64 " refused since the last such "
			    "line)", as, w->refusals_unlogged[k]);
		w->refusals_unlogged[k] = 0;
	}
	return 0;
}

/* May `peer` send a PROXY header (proxy_protocol.trusted)? */
static int
proxy_trusted(const struct config *cfg, const union sockaddr_any *peer)
{
	size_t i;

	for (i = 0; i < cfg->n_proxy_trusted; i++)
		if (cidr_match(&cfg->proxy_trusted[i], &peer->sa))
			return 1;
	return 0;
}

/*
 * `clients`, then the limits (worker_admit()): at accept, or once a
 * PROXY header has named the client (the sessions' env->admit). Returns
 * 1 when admitted, the count taken.
 */
static int
worker_admit_client(struct worker *w, const union sockaddr_any *peer)
{
	if (!client_allowed(w->cfg, peer)) {
		char as[SOCKADDR_STRLEN];

		/* Before a byte is read: not in `clients`. */
		status_count_refusal(STATUS_REFUSED_CLIENTS);
		logit("refused %s: not in 'clients'",
		    sockaddr_format(&peer->sa, as, sizeof(as)));
		return 0;
	}
	return worker_admit(w, peer);
}

static int
worker_admit_cb(void *arg, const union sockaddr_any *peer)
{
	return worker_admit_client(arg, peer);
}

/*
 * Up to ACCEPT_BATCH connections from one listener. Returns 1 when it
 * stopped early (nothing more queued, or an error), 0 after a full batch.
 */
static int
worker_accept(struct worker *w, struct worker_listener *wl)
{
	int i;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		union sockaddr_any peer;
		socklen_t plen = sizeof(peer);
		struct session *s;
		int fd;

		fd = accept4(wl->fd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return 1;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/*
				 * Out of descriptors or memory: the pending
				 * connection stays queued. Stop watching for a
				 * moment instead of spinning on a ready fd.
				 */
				if (w->accept_errors++ % 100 == 0)
					error("accept: %s; pausing accepts",
					    strerror(errno));
				accepting(w, 0);
				ev_timer_stop(w->loop, &w->accept_pause);
				ev_timer_set(&w->accept_pause, ACCEPT_PAUSE_S, 0.);
				ev_timer_start(w->loop, &w->accept_pause);
				return 1;
			}
			error("accept: %s", strerror(errno));
			return 1;
		}
		if (wl->proxy) {
			/*
			 * Only a trusted balancer may name the client; the
			 * header does, and the session has it admitted then.
			 */
			if (!proxy_trusted(w->cfg, &peer)) {
				char as[SOCKADDR_STRLEN];

				status_count_refusal(
				    STATUS_REFUSED_PROXY_UNTRUSTED);
				logit("refused %s: not in "
				    "'proxy_protocol.trusted'", sockaddr_format(
				    &peer.sa, as, sizeof(as)));
				close(fd);
				continue;
			}
		} else if (!worker_admit_client(w, &peer)) {
			close(fd);
			continue;
		}
		/* From here the session owns the fd and the counted session. */
		s = session_new(&w->senv, fd, &peer, wl->proxy);
		if (s == NULL)
			continue;	/* session_new closed the fd */
		session_link(&w->sessions, s);
		if (++w->nsessions > w->trim_peak)
			w->trim_peak = w->nsessions;
		if (!ev_is_active(&w->trim))
			ev_timer_again(w->loop, &w->trim);
		status_session_opened();
	}
	return 0;
}

/* accept_ep is readable: a listener has a connection for us. */
static void
worker_accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	struct epoll_event ev[16];
	int i, n;

	(void)loop;
	(void)revents;
	n = epoll_wait(w->accept_ep, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);
	for (i = 0; i < n && w->accept_on; i++)
		if (ev[i].data.u32 < w->nls &&
		    w->ls[ev[i].data.u32].fd != -1)
			(void)worker_accept(w, &w->ls[ev[i].data.u32]);
}

/*
 * After a burst the pools hold spares and the heap free pages that the
 * next quiet hours will not need: hand them back once the load has
 * fallen to half its peak. Stops once the worker is idle and trimmed.
 */
static void
worker_trim_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)revents;
	if (w->nsessions == 0 || w->nsessions <= w->trim_peak / 2) {
		pool_trim();
		w->trim_peak = w->nsessions;
	}
	if (w->nsessions == 0)
		ev_timer_stop(loop, t);
}

/* Sessions tell the worker when they end (drain accounting). */
static void
worker_session_closed_cb(void *arg, struct session *s)
{
	struct worker *w = arg;

	session_unlink(&w->sessions, s);
	w->nsessions--;
	status_session_closed();
	if (w->draining && w->nsessions == 0)
		ev_break(w->loop, EVBREAK_ALL);
}

/*
 * Stop accepting, close our copies of the listeners, and exit once the
 * last session has ended. Sessions still running after timeout_s are
 * ended here, so each still gets its access log line with `end` (NULL:
 * the sessions' own default, "shutdown"); the master's kill comes only
 * later, as a backstop. A later call may shorten the deadline, never
 * lengthen it: a reload's drain (reload_drain_timeout_s) that a stop
 * overtakes ends at whichever deadline comes first, and says which.
 */
static void
worker_drain(struct worker *w, int timeout_s, const char *end)
{
	size_t i;

	if (!w->draining) {
		w->draining = 1;
		accepting(w, 0);
		ev_timer_stop(w->loop, &w->accept_pause);
		/*
		 * A stop closes the listeners for good (the master has
		 * closed its copies): whatever the kernel has queued on
		 * them would be reset, and a client, or a balancer that
		 * had already sent a connection here, would lose it. Take
		 * it first; those sessions drain with the rest. A reload's
		 * drain leaves the queues to the generation that keeps the
		 * sockets.
		 */
		for (i = 0; end == NULL && w->accepting && i < w->nls; i++) {
			int b;

			for (b = 0; w->ls[i].fd != -1 && b < 1024; b++)
				if (worker_accept(w, &w->ls[i]))
					break;
		}
		for (i = 0; i < w->nls; i++) {
			if (w->ls[i].fd != -1)
				close(w->ls[i].fd);
			w->ls[i].fd = -1;
		}
		verbose("generation %u: %s, %zu sessions open, deadline in "
		    "%d s", w->generation, end != NULL ? "draining" :
		    "stopping", w->nsessions, timeout_s);
	}
	if (w->nsessions == 0) {
		ev_break(w->loop, EVBREAK_ALL);
		return;
	}
	if (timeout_s < 0)
		timeout_s = 0;
	if (ev_is_active(&w->drain_deadline) &&
	    ev_timer_remaining(w->loop, &w->drain_deadline) <= (double)timeout_s)
		return;
	ev_timer_stop(w->loop, &w->drain_deadline);
	ev_timer_set(&w->drain_deadline, (double)timeout_s, 0.);
	ev_timer_start(w->loop, &w->drain_deadline);
	w->deadline_end = end;
}

/* A control message's timeout as a worker_drain() deadline. */
static int
ctl_timeout(const struct worker_ctl_msg *msg)
{
	return msg->timeout_s > INT32_MAX ? INT32_MAX : (int)msg->timeout_s;
}

/* SIGTERM, SIGINT: stop with this configuration's shutdown_timeout_s. */
static void
worker_stop_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
	struct worker *w = sig->data;

	(void)loop;
	(void)revents;
	worker_drain(w, w->cfg->shutdown_timeout_s, NULL);
}

/* The master's messages (worker.h); its end closing means it is gone. */
static void
worker_ctl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	int i;

	(void)revents;
	for (i = 0; i < 8; i++) {
		struct worker_ctl_msg msg;
		ssize_t r = recv(w->ctl_fd, &msg, sizeof(msg), MSG_DONTWAIT);

		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (r <= 0) {
			ev_io_stop(loop, io);
			close(w->ctl_fd);
			w->ctl_fd = -1;
			verbose("the master is gone: stopping");
			worker_drain(w, w->cfg->shutdown_timeout_s, NULL);
			return;
		}
		if ((size_t)r != sizeof(msg))
			continue;
		if (msg.cmd == WORKER_CTL_ACCEPT && !w->accepting &&
		    !w->draining) {
			w->accepting = 1;
			accepting(w, 1);
			debug("worker %d accepting (generation %u)", w->id,
			    w->generation);
		} else if (msg.cmd == WORKER_CTL_DRAIN) {
			worker_drain(w, ctl_timeout(&msg), "reload-deadline");
		} else if (msg.cmd == WORKER_CTL_STOP) {
			worker_drain(w, ctl_timeout(&msg), NULL);
		}
	}
}

static void
worker_drain_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)revents;
	if (w->deadline_end != NULL)
		logit("generation %u: drain deadline reached: ending %zu "
		    "sessions (end=%s)", w->generation, w->nsessions,
		    w->deadline_end);
	else
		verbose("shutdown timeout: ending %zu sessions", w->nsessions);
	w->end = w->deadline_end;
	ev_break(loop, EVBREAK_ALL);
}

/* SIGUSR1: the master has reopened the log file; follow it (logrotate). */
static void
worker_reopen_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
	(void)loop;
	(void)sig;
	(void)revents;
	if (log_reopen() == -1)
		error("cannot reopen the log file: %s", strerror(errno));
}

int
worker_run(const struct worker_setup *ws)
{
	const struct config *cfg = ws->cfg;
	const struct userdb *db = ws->db;
	const struct listener *ls = ws->ls;
	size_t nls = ws->nls;
	int id = ws->slot;
	struct resolver_options ropt;
	struct worker w;
	char err[256];
	size_t i;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	/* This worker's share of the big pipes its user may hold (pool.h). */
	pool_set_big_pipe_cap(pool_big_pipe_share(cfg->workers));
	w.id = id;
	w.quota = ws->quota;
	w.failtab = ws->failtab;
	w.generation = ws->generation;
	w.ctl_fd = ws->ctl_fd;
	status_attach(ws->status, id);
	signal(SIGPIPE, SIG_IGN);
	w.loop = ev_loop_new(EVFLAG_AUTO);
	if (w.loop == NULL) {
		error("cannot create the event loop");
		return 1;
	}
	memset(&ropt, 0, sizeof(ropt));
	ropt.servers = cfg->resolver.servers;
	ropt.n_servers = cfg->resolver.n_servers;
	ropt.timeout_ms = cfg->resolver.timeout_ms;
	ropt.tries = cfg->resolver.tries;
	ropt.cache_entries = RESOLVER_CACHE_ENTRIES;
	w.resolver = resolver_new(w.loop, &ropt, err, sizeof(err));
	if (w.resolver == NULL) {
		error("cannot start the resolver: %s", err);
		ev_loop_destroy(w.loop);
		return 1;
	}
	if (worker_auth_init(&w, db, ws->kt) == -1) {
		worker_auth_free(&w);
		resolver_free(w.resolver);
		ev_loop_destroy(w.loop);
		return 1;
	}
	w.senv.loop = w.loop;
	w.senv.resolver = w.resolver;
	w.senv.cfg = cfg;
	w.senv.quota = w.quota;
	w.senv.slot = w.id;
	w.senv.auth = &w.auth;
	w.senv.verifier = w.verifier;
	w.senv.failtab = w.failtab;
	w.senv.closed = worker_session_closed_cb;
	w.senv.admit = worker_admit_cb;
	w.senv.arg = &w;

	w.ls = xcalloc(nls, sizeof(*w.ls));
	w.nls = nls;
	for (i = 0; i < nls; i++) {
		w.ls[i].fd = ls[i].fd;
		/* ls[i] listens on cfg->listen[i] (listener_set_open()). */
		w.ls[i].proxy = i < ws->cfg->n_listen &&
		    ws->cfg->listen[i].proxy;
	}
	w.accept_ep = epoll_create1(EPOLL_CLOEXEC);
	if (w.accept_ep == -1) {
		error("cannot create the accept set: %s", strerror(errno));
		free(w.ls);
		worker_auth_free(&w);
		resolver_free(w.resolver);
		ev_loop_destroy(w.loop);
		return 1;
	}
	ev_io_init(&w.accept_io, worker_accept_cb, w.accept_ep, EV_READ);
	w.accept_io.data = &w;
	ev_timer_init(&w.accept_pause, worker_accept_pause_cb, ACCEPT_PAUSE_S, 0.);
	w.accept_pause.data = &w;
	ev_signal_init(&w.sigterm, worker_stop_cb, SIGTERM);
	w.sigterm.data = &w;
	ev_signal_start(w.loop, &w.sigterm);
	ev_signal_init(&w.sigint, worker_stop_cb, SIGINT);
	w.sigint.data = &w;
	ev_signal_start(w.loop, &w.sigint);
	ev_signal_init(&w.sigusr1, worker_reopen_cb, SIGUSR1);
	ev_signal_start(w.loop, &w.sigusr1);
	ev_timer_init(&w.drain_deadline, worker_drain_deadline_cb, 0., 0.);
	w.drain_deadline.data = &w;
	ev_timer_init(&w.trim, worker_trim_cb, 0., TRIM_INTERVAL_S);
	w.trim.data = &w;
	/*
	 * Reload and the status summary are the master's business; a stray
	 * SIGHUP or SIGUSR2 (systemctl kill reaches every process) must not
	 * kill us.
	 */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	if (w.ctl_fd != -1) {
		ev_io_init(&w.ctl_io, worker_ctl_cb, w.ctl_fd, EV_READ);
		w.ctl_io.data = &w;
		ev_io_start(w.loop, &w.ctl_io);
	}
	/* Without a master to wait for, accept at once (unit tests). */
	if (w.ctl_fd == -1) {
		w.accepting = 1;
		accepting(&w, 1);
	} else {
		struct worker_ctl_msg msg;

		memset(&msg, 0, sizeof(msg));
		msg.cmd = WORKER_CTL_READY;
		if (send(w.ctl_fd, &msg, sizeof(msg), MSG_NOSIGNAL) == -1)
			warning("cannot tell the master we are ready: %s",
			    strerror(errno));
	}
	debug("worker %d running (generation %u)", id, w.generation);

	ev_run(w.loop, 0);

	/* Only reached when draining is complete (or the loop broke). */
	while (w.sessions != NULL) {
		if (w.end != NULL)
			session_set_end(w.sessions, w.end);
		session_free(w.sessions);
	}
	/*
	 * The sessions' GSS-API tunnels deliver what they still hold (each
	 * ends within GSSTUN_LINGER_S of its release); then none is left.
	 */
	{
		uint64_t until = util_now_ms() + (GSSTUN_LINGER_S + 1) * 1000u;

		while (gsstun_count() > 0 && util_now_ms() < until)
			ev_run(w.loop, EVRUN_ONCE);
		gsstun_free_all();
	}
	/* After the sessions: they cancel their checks with the verifier. */
	worker_auth_free(&w);
	accepting(&w, 0);
	close(w.accept_ep);
	for (i = 0; i < w.nls; i++)
		if (w.ls[i].fd != -1)
			close(w.ls[i].fd);
	free(w.ls);
	resolver_free(w.resolver);
	ev_signal_stop(w.loop, &w.sigterm);
	ev_signal_stop(w.loop, &w.sigint);
	ev_signal_stop(w.loop, &w.sigusr1);
	/* Stopping anyway: a late SIGTERM must not turn an exit into a kill. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	ev_timer_stop(w.loop, &w.drain_deadline);
	ev_timer_stop(w.loop, &w.trim);
	pool_trim();
	if (w.ctl_fd != -1) {
		ev_io_stop(w.loop, &w.ctl_io);
		close(w.ctl_fd);
	}
	ev_loop_destroy(w.loop);
	verbose("worker %d exiting", id);
	return 0;
}
