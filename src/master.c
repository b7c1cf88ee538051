/* SPDX-License-Identifier: ISC */
/*
 * master.c - see master.h.
 *
 * The master opens the listeners, forks the workers and then only
 * supervises: it restarts a worker that dies, reloads on SIGHUP and turns
 * the other signals into actions. Signal handlers only set flags
 * (OpenSSH's received_sighup); the signals are blocked except inside
 * ppoll(), so a flag set while the loop is busy is seen on the next turn
 * and never lost.
 *
 * Generations. The workers forked from one configuration are a
 * generation (1 at start). A reload that reads a valid configuration
 * starts generation g+1 beside g: listeners that stay keep their sockets
 * (the same fds go to the new workers, so the kernel's accept queue is
 * never closed and no connection is refused), new ones are opened,
 * removed ones are closed once g+1 has taken over. The new workers set
 * themselves up and say READY, but accept only when told to: once every
 * position of g+1 is ready, the master tells them to accept and tells g,
 * over each worker's control socket, to stop accepting and drain. Until
 * then g serves alone, and everything g needs (its configuration, users,
 * listeners, status socket, log settings) is kept in m->prior, its
 * workers' positions in the table: a new generation that cannot start
 * (a worker that dies before the switch, a failed fork, no slot within
 * RELOAD_START_TIMEOUT_MS) is retired, never having accepted, and g goes
 * on serving as if the SIGHUP had not come.
 *
 * The master decides what happens and when, from the configuration and
 * the signals; its parts do it: generation.c keeps the table of workers
 * (slots, positions, spawning, reaping, back-off, control sockets,
 * draining, readiness), listener.c carries the listeners from one
 * generation to the next, privsep.c is who the workers become, daemon.c
 * the pid file and the readiness notifications, and master_load.c what
 * a configuration must pass before anything runs it.
 */
#include "config_auto.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "failtab.h"
#include "generation.h"
#include "privsep.h"
#include "quota.h"
#include "ratelimit.h"
#include "status.h"
#include "userdb.h"
#include "gssapi.h"
#include "worker.h"

/* After shutdown_timeout_s, how long workers get to log and exit. */
#define KILL_GRACE_MS 700
/*
 * Reload: the old generation stops accepting once every new worker is
 * ready (a reload is meant to be in effect within 1 s; workers are ready
 * in milliseconds). A new generation not ready this long after the
 * SIGHUP has failed to start: the old one goes on serving.
 */
#define RELOAD_START_TIMEOUT_MS 10000
/* Start: READY=1 once every worker is ready, or this long after the
 * start once at least one is. */
#define START_READY_MS 5000
/* Client sources the failed-login table (all workers') remembers. */
#define FAILTAB_ENTRIES 16384
/* Distinct keys (client networks, users) the quota table counts, at least. */
#define QUOTA_KEYS_MIN 1024

/*
 * What a reload replaces, kept until the new generation has taken over
 * (then freed) or has failed to start (then put back).
 */
struct prior {
	struct config *cfg;
	struct userdb *db;
	struct auth_gss_keytab *kt;
	struct listener_set ls;
	struct status_server *srv;	/* when the reload opened another */
	bool srv_changed;
	struct metrics_server *msrv;	/* likewise, the metrics endpoint */
	bool msrv_changed;
	bool log_changed;		/* the reload re-initialised the log */
};

static volatile sig_atomic_t received_term;
static volatile sig_atomic_t received_hup;
static volatile sig_atomic_t received_usr1;
static volatile sig_atomic_t received_usr2;
static volatile sig_atomic_t received_chld;

static const int handled_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD,
};

static void
master_signal_handler(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		received_term++;
		break;
	case SIGHUP:
		received_hup = 1;
		break;
	case SIGUSR1:
		received_usr1 = 1;
		break;
	case SIGUSR2:
		received_usr2 = 1;
		break;
	case SIGCHLD:
		received_chld = 1;
		break;
	}
}

struct master {
	struct config *cfg;
	struct userdb *db;		/* users file, or NULL */
	struct auth_gss_keytab *kt;	/* auth.gssapi_keytab, or NULL */
	const struct master_options *opt;
	char *config_path;		/* absolute when it could be made so */
	struct listener_set ls;		/* this generation's listeners */
	struct generation_table *gens;	/* the workers, by slot */
	bool gen_announced;		/* READY=1 sent for this generation */
	struct prior *prior;		/* a reload is starting one: see above */
	bool hup_deferred;		/* SIGHUP while a reload was starting */
	struct privsep ps;		/* who the workers become */
	int stopping;
	uint64_t deadline_ms;
	struct daemon daemon;		/* pid file, the starting process */
	struct quota *quota;
	struct failtab *failtab;	/* failed logins, shared by the workers */
	struct status *status;
	struct status_server *srv;
	struct metrics_server *msrv;	/* metrics_listen, or NULL */
	sigset_t waitmask;		/* mask used inside ppoll: our signals open */
};

/* Config messages during a reload go to the log, as FILE:LINE: message. */
struct log_report_ctx {
	int errors;
};

static void
log_report(void *arg, const char *file, int line, const char *msg)
{
	struct log_report_ctx *ctx = arg;
	bool warn = strncmp(msg, "warning: ", 9) == 0;
	char where[PATH_MAX + 32];

	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d", file, line);
	else
		snprintf(where, sizeof(where), "%s", file);
	if (warn) {
		warning("%s: %s", where, msg + 9);
	} else {
		ctx->errors++;
		error("%s: %s", where, msg);
	}
}

/* --- A new worker ------------------------------------------------------------ */

static void
reset_signals_in_child(void)
{
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++) {
		int sig = handled_signals[i];

		/*
		 * SIGHUP, SIGUSR1 and SIGUSR2 are never fatal to a worker,
		 * even before its loop installs its own handlers (a signal
		 * sent to the whole process group or cgroup reaches it too).
		 */
		sa.sa_handler = sig == SIGHUP || sig == SIGUSR1 ||
		    sig == SIGUSR2 ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * In a new worker: close every descriptor that belongs to the master
 * (the other workers' control sockets are closed already: generation.c),
 * and free what the worker does not use.
 */
static void
child_close_master_fds(struct master *m)
{
	/*
	 * Listeners the reload removes: the master closes them at the
	 * switch, and a copy here would keep them listening.
	 */
	if (m->prior != NULL)
		listener_set_close_dropped(&m->prior->ls, &m->ls, false);
	status_server_forget(m->srv);
	m->srv = NULL;
	metrics_server_close(m->msrv);
	m->msrv = NULL;
	if (m->prior != NULL && m->prior->srv_changed) {
		status_server_forget(m->prior->srv);
		m->prior->srv = NULL;
		m->prior->srv_changed = false;
	}
	if (m->prior != NULL && m->prior->msrv_changed) {
		metrics_server_close(m->prior->msrv);
		m->prior->msrv = NULL;
		m->prior->msrv_changed = false;
	}
	daemon_child_close(&m->daemon);
}

/*
 * Free what a reload kept. Its listeners are not closed: the caller has
 * closed those no generation uses, or handed them back.
 */
static void
prior_free(struct prior *pr)
{
	if (pr == NULL)
		return;
	listener_set_free(&pr->ls);
	userdb_free(pr->db);
	auth_gss_keytab_free(pr->kt);
	config_free(pr->cfg);
	free(pr);
}

/*
 * Free the master's memory (a worker's copy too). Descriptors stay open
 * but for the control sockets (generation_table_free()).
 */
static void
master_free(struct master *m)
{
	prior_free(m->prior);
	m->prior = NULL;
	quota_free(m->quota);
	ratelimit_shared_free();
	failtab_free(m->failtab);
	status_free(m->status);
	generation_table_free(m->gens);
	m->gens = NULL;
	listener_set_free(&m->ls);
	free(m->config_path);
	userdb_free(m->db);
	auth_gss_keytab_free(m->kt);
	config_free(m->cfg);
}

/*
 * In a new worker (generation_child_fn): shed what is the master's,
 * become the workers' user and run the worker.
 */
static int
worker_child(void *arg, int slot, unsigned gen, int ctl_fd, pid_t master_pid)
{
	struct master *m = arg;
	struct worker_setup ws;
	char tag[32];
	int status;

	reset_signals_in_child();
	child_close_master_fds(m);
	snprintf(tag, sizeof(tag), "worker %d", slot);
	log_set_tag(tag);
	privsep_drop(&m->ps, m->cfg->user, m->cfg->group);
	/*
	 * An orphaned worker drains and exits like on SIGTERM. Set
	 * after the privilege drop: the kernel clears the parent-death
	 * signal when the uid changes. Then look again: a master gone
	 * before this point sends nothing.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	if (getppid() != master_pid)
		_exit(0);
	memset(&ws, 0, sizeof(ws));
	ws.cfg = m->cfg;
	ws.db = m->db;
	ws.kt = m->kt;
	ws.ls = m->ls.ls;
	ws.nls = m->ls.n;
	ws.slot = slot;
	ws.generation = gen;
	ws.ctl_fd = ctl_fd;
	ws.quota = m->quota;
	ws.failtab = m->failtab;
	ws.status = m->status;
	status = worker_run(&ws);
	master_free(m);
	return status;
}

/* --- Listeners, signals, the log -------------------------------------------- */

/* The -P file: the listeners, then "metrics ADDR" when it is on. */
static void
write_port_file(const struct master *m)
{
	char as[SOCKADDR_STRLEN], extra[SOCKADDR_STRLEN + 16] = "";

	if (m->opt->port_file == NULL)
		return;
	if (m->msrv != NULL)
		snprintf(extra, sizeof(extra), "metrics %s\n", sockaddr_format(
		    &metrics_server_addr(m->msrv)->sa, as, sizeof(as)));
	if (listener_write_ports(m->ls.ls, m->ls.n, extra[0] != '\0' ? extra :
	    NULL, m->opt->port_file) == -1)
		error("cannot write %s: %s", m->opt->port_file,
		    strerror(errno));
}

static void
setup_signals(struct master *m)
{
	struct sigaction sa;
	sigset_t block;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_signal_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigemptyset(&block);
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++) {
		sigaction(handled_signals[i], &sa, NULL);
		sigaddset(&block, handled_signals[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &block, &m->waitmask);
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++)
		sigdelset(&m->waitmask, handled_signals[i]);
}

static void
reopen_log(struct master *m)
{
	if (log_reopen() == -1) {
		error("cannot reopen the log file: %s", strerror(errno));
		return;
	}
	privsep_chown_log(&m->ps, m->cfg);
	generation_signal(m->gens, SIGUSR1);
	logit("log file reopened");
}

/* --- Generations, reload, stop ------------------------------------------------ */

static int
resolve_workers(const struct config *cfg)
{
	long n = cfg->workers;

	if (n == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	return (int)n;
}

/* Log as `cfg` says. 0, or -1 with errno (log_init()). */
static int
log_apply(const struct config *cfg)
{
	return log_init("sockeyed", cfg->log.target, cfg->log.path,
	    cfg->log.level);
}

/*
 * Back to the log of `cfg` after trying another; when even that fails,
 * only stderr is left to say so.
 */
static void
log_restore(const struct config *cfg)
{
	if (log_apply(cfg) == -1)
		fprintf(stderr, "sockeyed: cannot reopen the log\n");
}

static bool
log_settings_differ(const struct config *a, const struct config *b)
{
	if (a->log.target != b->log.target || a->log.level != b->log.level)
		return true;
	if (a->log.target != LOG_TARGET_FILE)
		return false;
	return strcmp(a->log.path, b->log.path) != 0;
}

static bool
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Does `cfg` ask for another metrics endpoint than `srv` (NULL: none)? */
static bool
metrics_differ(const struct metrics_server *srv, const struct config *cfg)
{
	const union sockaddr_any *a = metrics_server_conf(srv);

	if (a == NULL || !cfg->has_metrics_listen)
		return (a == NULL) != !cfg->has_metrics_listen;
	return !sockaddr_equal(&a->sa, &cfg->metrics_listen.sa);
}

/* Listen for metrics as `cfg` says. The server, NULL with err when not. */
static struct metrics_server *
metrics_open(const struct master *m, const struct config *cfg, char *err,
    size_t errlen)
{
	struct metrics_server *msrv;

	msrv = metrics_server_open(&cfg->metrics_listen, m->status, err,
	    errlen);
	if (msrv != NULL) {
		char as[SOCKADDR_STRLEN];

		logit("metrics on http://%s/metrics", sockaddr_format(
		    &metrics_server_addr(msrv)->sa, as, sizeof(as)));
	}
	return msrv;
}

/* A reload failed: the service manager learns that the old one serves. */
static void
notify_reload_failed(const struct master *m)
{
	daemon_notify("READY=1\nSTATUS=reload failed; serving generation %u",
	    generation_current(m->gens));
}

/* A reload is decided: a SIGHUP that came meanwhile is acted on now. */
static void
resume_deferred_hup(struct master *m)
{
	if (m->hup_deferred) {
		m->hup_deferred = false;
		received_hup = 1;
	}
}

/*
 * SIGHUP. Everything that can fail is tried before anything running is
 * changed, so a failed reload leaves the daemon exactly as it was.
 */
static void
master_reload(struct master *m)
{
	struct log_report_ctx rctx = { 0 };
	struct config *cfg, *old_cfg = m->cfg;
	struct userdb *db;
	struct auth_gss_keytab *kt;
	struct listener_set ls = { 0 };
	struct status_server *srv = m->srv;
	struct metrics_server *msrv = m->msrv;
	struct prior *pr;
	bool log_changed;
	char err[512];
	int n, nslots, running;

	if (m->prior != NULL) {
		/* One at a time: this one is read once that one is decided. */
		logit("SIGHUP while generation %u is starting: reloading "
		    "again once it serves or has failed",
		    generation_current(m->gens));
		m->hup_deferred = true;
		return;
	}
	logit("SIGHUP: reloading %s", m->config_path);
	daemon_notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)util_now_ms() * 1000ULL);
	if (master_load(m->config_path, old_cfg, log_report, &rctx, &cfg,
	    &db, &kt) == -1) {
		error("reload failed: %s has errors (above); still serving "
		    "with the running configuration (generation %u)",
		    m->config_path, generation_current(m->gens));
		goto keep;
	}
	/*
	 * The new workers need slots beside the running generation's; the
	 * draining ones can be closed early to make room (generation_begin()),
	 * but the table cannot grow.
	 */
	n = resolve_workers(cfg);
	nslots = generation_slots(m->gens);
	running = generation_size(m->gens);
	if (n > nslots - running) {
		error("reload refused: %s: workers = %d, but only %d of the %d "
		    "worker slots (sized at start from 'workers') are left "
		    "beside the running generation's %d; restart sockeyed to "
		    "run more workers", cfg->file, n, nslots - running,
		    nslots, running);
		goto keep_new;
	}
	log_changed = log_settings_differ(old_cfg, cfg);
	if (log_changed && log_apply(cfg) == -1) {
		int e = errno;

		log_restore(old_cfg);
		error("%s: cannot open log file %s: %s; reload failed, still "
		    "serving with the running configuration", cfg->file,
		    cfg->log.path, strerror(e));
		goto keep_new;
	}
	if (str_differ(status_server_path(m->srv), cfg->status_socket)) {
		srv = NULL;
		if (cfg->status_socket != NULL && (srv = status_server_open(
		    cfg->status_socket, m->status, err, sizeof(err))) == NULL) {
			error("%s: status_socket: %s; reload failed, still "
			    "serving with the running configuration",
			    cfg->file, err);
			goto undo_log;
		}
	}
	if (metrics_differ(m->msrv, cfg)) {
		msrv = NULL;
		if (cfg->has_metrics_listen && (msrv = metrics_open(m, cfg,
		    err, sizeof(err))) == NULL) {
			error("%s: metrics_listen: %s; reload failed, still "
			    "serving with the running configuration",
			    cfg->file, err);
			if (srv != m->srv)
				status_server_close(srv);
			goto undo_log;
		}
	}
	if (listener_set_open(&ls, &m->ls, cfg) == -1) {
		error("reload failed: still serving with the running "
		    "configuration (generation %u)",
		    generation_current(m->gens));
		if (srv != m->srv)
			status_server_close(srv);
		if (msrv != m->msrv)
			metrics_server_close(msrv);
		goto undo_log;
	}

	/*
	 * Commit, keeping what runs in m->prior until the new generation
	 * has taken over (prior_drop()) or failed to start (reload_fail()).
	 * Nothing below fails.
	 */
	pr = xcalloc(1, sizeof(*pr));
	pr->cfg = old_cfg;
	pr->db = m->db;
	pr->kt = m->kt;
	pr->ls = m->ls;
	pr->srv_changed = srv != m->srv;
	pr->srv = pr->srv_changed ? m->srv : NULL;
	pr->msrv_changed = msrv != m->msrv;
	pr->msrv = pr->msrv_changed ? m->msrv : NULL;
	pr->log_changed = log_changed;
	m->prior = pr;
	m->ls = ls;
	m->srv = srv;
	m->msrv = msrv;
	m->cfg = cfg;
	m->db = db;
	m->kt = kt;
	if (log_changed)
		privsep_chown_log(&m->ps, m->cfg);
	generation_begin(m->gens, n, RELOAD_START_TIMEOUT_MS, true);
	m->gen_announced = false;
	write_port_file(m);
	if (db != NULL)
		logit("users file %s: %zu users", cfg->auth.users_file,
		    userdb_count(db));
	logit("reload: starting generation %u with %d workers",
	    generation_current(m->gens), n);
	return;

undo_log:
	if (log_changed)
		log_restore(old_cfg);
keep_new:
	userdb_free(db);
	auth_gss_keytab_free(kt);
	config_free(cfg);
keep:
	notify_reload_failed(m);
}

/*
 * The new generation has taken over, or we stop: close what only the
 * replaced configuration used and free it.
 */
static void
prior_drop(struct master *m, bool say)
{
	struct prior *pr = m->prior;

	if (pr == NULL)
		return;
	listener_set_close_dropped(&pr->ls, &m->ls, say);
	if (pr->srv_changed)
		status_server_close(pr->srv);
	if (pr->msrv_changed)
		metrics_server_close(pr->msrv);
	prior_free(pr);
	m->prior = NULL;
}

/*
 * The generation a reload started cannot start: retire its workers
 * (they never accepted) and put the running configuration back, so the
 * old generation serves on as if the SIGHUP had not come.
 */
static void
reload_fail(struct master *m, const char *why)
{
	struct prior *pr = m->prior;
	unsigned failed;
	int n;

	/* Only a reload in progress fails, and it kept what it replaced. */
	BUG_ON(pr == NULL);
	failed = generation_current(m->gens);
	n = generation_abandon(m->gens);

	error("reload failed: generation %u cannot start (%s); %d of its "
	    "workers retired; still serving with the running configuration "
	    "(generation %u)", failed, why, n, generation_current(m->gens));
	/* Listeners only the failed configuration had. */
	listener_set_close_dropped(&m->ls, &pr->ls, false);
	listener_set_free(&m->ls);
	m->ls = pr->ls;
	if (pr->srv_changed) {
		status_server_close(m->srv);
		m->srv = pr->srv;
	}
	if (pr->msrv_changed) {
		metrics_server_close(m->msrv);
		m->msrv = pr->msrv;
	}
	userdb_free(m->db);
	auth_gss_keytab_free(m->kt);
	config_free(m->cfg);
	m->cfg = pr->cfg;
	m->db = pr->db;
	m->kt = pr->kt;
	if (pr->log_changed) {
		log_restore(m->cfg);
		privsep_chown_log(&m->ps, m->cfg);
	}
	m->gen_announced = true;
	free(pr);
	m->prior = NULL;
	write_port_file(m);
	notify_reload_failed(m);
	resume_deferred_hup(m);
}

static void
begin_stop(struct master *m)
{
	m->stopping = 1;
	daemon_notify("STOPPING=1");
	/* Workers end their own sessions at the timeout; this is the backstop. */
	m->deadline_ms = util_now_ms() +
	    (uint64_t)m->cfg->shutdown_timeout_s * 1000 + KILL_GRACE_MS;
	logit("stopping: draining sessions for up to %d s",
	    m->cfg->shutdown_timeout_s);
	/* A reload still starting is abandoned with everything else. */
	prior_drop(m, false);
	m->hup_deferred = false;
	/* The workers hold their own copies; they close them now. */
	listener_set_close(&m->ls);
	generation_stop(m->gens, m->cfg->shutdown_timeout_s);
	daemon_release_starter(&m->daemon, false);
}

static void
announce_generation(struct master *m)
{
	unsigned gen = generation_current(m->gens);
	int n = generation_size(m->gens);
	int ready = generation_count_ready(m->gens);

	m->gen_announced = true;
	if (m->prior != NULL) {
		/* The switch: the new generation accepts, the old drains. */
		generation_switch(m->gens, m->cfg->reload_drain_timeout_s);
		prior_drop(m, true);
		listener_set_log(&m->ls);
	}
	if (gen == 1)
		logit("sockeyed %s started with %d workers", PACKAGE_VERSION,
		    n);
	else
		logit("reload done: generation %u is serving (%d of %d workers "
		    "ready)", gen, ready, n);
	daemon_notify("READY=1\nSTATUS=serving, generation %u, %d workers",
	    gen, n);
	daemon_release_starter(&m->daemon, true);
	resume_deferred_hup(m);
}

/*
 * A reload's new generation: failed when one of its workers could not
 * start, or when not all are ready by RELOAD_START_TIMEOUT_MS.
 */
static void
check_start(struct master *m, uint64_t now)
{
	const char *why = generation_start_failure(m->gens, now);

	if (why != NULL)
		reload_fail(m, why);
}

static void
master_loop(struct master *m)
{
	struct pollfd *pfd;
	size_t maxfds = (size_t)generation_slots(m->gens) + 16 +
	    METRICS_POLLFDS_MAX;

	pfd = xcalloc(maxfds, sizeof(*pfd));
	for (;;) {
		uint64_t now, wake = UINT64_MAX;
		struct timespec ts, *tsp = NULL;
		size_t nfd, nsrv, nmet;
		int srv_ms;

		if (received_chld) {
			received_chld = 0;
			generation_reap(m->gens);
		}
		if (received_term) {
			if (m->stopping && received_term > 1) {
				logit("second stop signal: exiting now");
				generation_signal(m->gens, SIGKILL);
				break;
			}
			if (!m->stopping)
				begin_stop(m);
		}
		if (received_hup) {
			received_hup = 0;
			if (!m->stopping)
				master_reload(m);
		}
		if (received_usr1) {
			received_usr1 = 0;
			reopen_log(m);
		}
		if (received_usr2) {
			received_usr2 = 0;
			status_log_summary(m->status);
		}

		now = util_now_ms();
		if (m->stopping) {
			if (generation_running(m->gens) == 0)
				break;
			if (now >= m->deadline_ms) {
				logit("shutdown timeout reached: killing %d "
				    "workers", generation_running(m->gens));
				generation_signal(m->gens, SIGKILL);
				break;
			}
			wake = m->deadline_ms;
		} else {
			uint64_t kw;

			check_start(m, now);
			kw = generation_tick(m->gens, now);
			if (kw < wake)
				wake = kw;
			/* A fork that failed just now. */
			check_start(m, now);
			if (!m->gen_announced) {
				uint64_t by = generation_ready_by(m->gens);

				if (generation_ready(m->gens, now))
					announce_generation(m);
				else if (by > now && by < wake)
					wake = by;
			}
		}

		/* Control sockets, the status socket, the metrics. */
		nfd = generation_pollfds(m->gens, pfd, maxfds);
		nsrv = status_server_pollfds(m->srv, pfd + nfd, maxfds - nfd);
		nmet = metrics_server_pollfds(m->msrv, pfd + nfd + nsrv,
		    maxfds - nfd - nsrv);
		srv_ms = status_server_timeout_ms(m->srv);
		if (srv_ms >= 0 && now + (uint64_t)srv_ms < wake)
			wake = now + (uint64_t)srv_ms;
		srv_ms = metrics_server_timeout_ms(m->msrv);
		if (srv_ms >= 0 && now + (uint64_t)srv_ms < wake)
			wake = now + (uint64_t)srv_ms;

		if (wake != UINT64_MAX) {
			uint64_t d = wake > now ? wake - now : 0;

			ts.tv_sec = (time_t)(d / 1000);
			ts.tv_nsec = (long)(d % 1000) * 1000000;
			tsp = &ts;
		}
		if (received_chld || received_term > (m->stopping ? 1 : 0) ||
		    received_hup || received_usr1 || received_usr2)
			continue;
		if (ppoll(pfd, nfd + nsrv + nmet, tsp, &m->waitmask) <= 0) {
			/*
			 * A timeout: the servers' deadlines are due (a
			 * deadline passed and not acted on would make
			 * every later ppoll return at once: a busy loop).
			 */
			status_server_handle(m->srv, NULL, 0);
			metrics_server_handle(m->msrv, NULL, 0);
			continue;
		}
		generation_handle(m->gens, pfd, nfd);
		status_server_handle(m->srv, pfd + nfd, nsrv);
		metrics_server_handle(m->msrv, pfd + nfd + nsrv, nmet);
	}
	free(pfd);
	/* Reap what is left so no zombie outlives us (bounded: SIGKILLed). */
	if (generation_running(m->gens) > 0) {
		uint64_t until = util_now_ms() + 1000;

		while (generation_running(m->gens) > 0 &&
		    util_now_ms() < until) {
			struct timespec ts = { 0, 10 * 1000000 };

			generation_reap(m->gens);
			nanosleep(&ts, NULL);
		}
	}
}

/* --- Start and end ---------------------------------------------------------- */

/*
 * Distinct keys (client networks and users) the quota table counts at
 * once: one of each per session, so twice limits.max_sessions, but never
 * fewer than QUOTA_KEYS_MIN (quota_new() caps the table at 2^20
 * entries). Fixed at start: a reload that raises max_sessions does not
 * grow the table.
 */
static size_t
quota_keys(const struct config *cfg)
{
	size_t k = 2 * (size_t)cfg->limits.max_sessions;

	return k < QUOTA_KEYS_MIN ? QUOTA_KEYS_MIN : k;
}

static void
master_cleanup(struct master *m)
{
	prior_drop(m, false);
	listener_set_close(&m->ls);
	status_server_close(m->srv);
	m->srv = NULL;
	metrics_server_close(m->msrv);
	m->msrv = NULL;
	daemon_pid_file_remove(&m->daemon, m->cfg->pid_file);
	daemon_release_starter(&m->daemon, false);
	master_free(m);
}

int
master_run(struct config *cfg, struct userdb *db,
    struct auth_gss_keytab *kt, const struct master_options *opt)
{
	struct log_report_ctx rctx = { 0 };
	struct master m;
	char err[512], *abs;
	int n, nslots;

	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	m.db = db;
	m.kt = kt;
	m.opt = opt;
	daemon_init(&m.daemon);
	/* Daemon mode changes to /: a reload must find the same file. */
	abs = realpath(opt->config_path != NULL ? opt->config_path : cfg->file,
	    NULL);
	m.config_path = abs != NULL ? abs : xstrdup(cfg->file);

	if (log_apply(cfg) == -1) {
		fprintf(stderr, "sockeyed: cannot open log file %s: %s\n",
		    cfg->log.path, strerror(errno));
		master_cleanup(&m);
		return 1;
	}
	if (db != NULL)
		logit("users file %s: %zu users", cfg->auth.users_file,
		    userdb_count(db));
	if (privsep_lookup(&m.ps, cfg->user, cfg->group, cfg->file, log_report,
	    &rctx) == -1)
		goto fail;
	privsep_chown_log(&m.ps, cfg);
	if (!opt->foreground &&
	    daemon_pid_file_open(&m.daemon, cfg->pid_file) == -1)
		goto fail;

	if (listener_set_open(&m.ls, NULL, cfg) == -1)
		goto fail;

	n = resolve_workers(cfg);
	nslots = generation_slot_count(n);
	m.quota = quota_new(nslots, quota_keys(cfg));
	m.status = status_new(nslots);
	m.failtab = failtab_new(FAILTAB_ENTRIES);
	/* One bandwidth bucket per user, shared by all workers. */
	if (m.quota == NULL || m.status == NULL || m.failtab == NULL ||
	    ratelimit_shared_new((size_t)cfg->limits.max_sessions) == -1) {
		error("cannot map the shared session counters: %s",
		    strerror(errno));
		goto fail;
	}
	if (cfg->status_socket != NULL && (m.srv = status_server_open(
	    cfg->status_socket, m.status, err, sizeof(err))) == NULL) {
		error("%s: status_socket: %s", cfg->file, err);
		goto fail;
	}
	if (cfg->has_metrics_listen &&
	    (m.msrv = metrics_open(&m, cfg, err, sizeof(err))) == NULL) {
		error("%s: metrics_listen: %s", cfg->file, err);
		goto fail;
	}

	if (!opt->foreground) {
		if (daemon_detach(&m.daemon,
		    cfg->log.target == LOG_TARGET_STDERR) == -1) {
			error("cannot become a daemon: %s", strerror(errno));
			goto fail;
		}
		/* Before the starting process exits: scripts look for it. */
		if (daemon_pid_file_write(&m.daemon, cfg->pid_file) == -1)
			goto fail;
	}

	setup_signals(&m);
	m.gens = generation_table_new(nslots, m.quota, m.status, worker_child,
	    &m);
	generation_begin(m.gens, n, START_READY_MS, false);
	(void)generation_tick(m.gens, util_now_ms());
	write_port_file(&m);
	listener_set_log(&m.ls);

	master_loop(&m);

	logit("stopped");
	master_cleanup(&m);
	return 0;

fail:
	/* Whoever started us should not have to guess where to look. */
	if (!daemon_starter_waits(&m.daemon) &&
	    cfg->log.target != LOG_TARGET_STDERR)
		fprintf(stderr, "sockeyed: not started; the reason is in the "
		    "log (%s)\n", cfg->log.target == LOG_TARGET_FILE ?
		    cfg->log.path : "syslog");
	master_cleanup(&m);
	return 1;
}
