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
 * listeners, status socket, log settings) is kept in m->prior: a new
 * generation that cannot start (a worker that dies before the switch, a
 * failed fork, no slot within RELOAD_START_TIMEOUT_MS) is retired, never
 * having accepted, and g goes on serving as if the SIGHUP had not come.
 *
 * A draining generation's sessions run on (an admin who adds a user must
 * not cut everyone's downloads and ssh sessions) until
 * reload_drain_timeout_s, from the configuration that retired it; then
 * its workers end them (end=reload-deadline) and exit. A stop (SIGTERM)
 * puts shutdown_timeout_s on every generation.
 *
 * Slots. Every live worker owns one slot in the shared regions (quota.h,
 * status.h): the only slot it writes. There are SLOTS_PER_WORKER times as
 * many slots as workers at start, so that several generations can drain
 * at once; a worker gets the lowest free slot, and the master clears a
 * slot (quota_clear_slot(), status_slot_clear()) when its worker has been
 * reaped, before anyone reuses it. The regions are mapped before the
 * first fork and cannot grow, so the number of generations that linger
 * is bounded instead: a reload that finds too few free slots for its
 * workers closes the oldest draining generations early (their sessions
 * end with end=reload-deadline, and the log says so) until they fit
 * (make_room()). A reload to more workers than fit beside the running
 * generation is refused.
 *
 * Control socket: one SOCK_SEQPACKET socketpair per worker. The worker
 * sends WORKER_CTL_READY once it is set up; the master sends
 * WORKER_CTL_ACCEPT (its generation serves), WORKER_CTL_DRAIN (reload,
 * with reload_drain_timeout_s) or WORKER_CTL_STOP (shutdown, with its
 * deadline). A worker that sees the master's end close drains and exits
 * as on SIGTERM.
 */
#include "config_auto.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "failtab.h"
#include "privsep.h"
#include "quota.h"
#include "ratelimit.h"
#include "socks5.h"
#include "status.h"
#include "userdb.h"
#include "worker.h"

/* A worker that dies sooner than this after its start counts as crashing. */
#define QUICK_DEATH_MS 2000
/* Back-off for crashing workers: 100 ms doubling, capped. */
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 10000
/* After shutdown_timeout_s, how long workers get to log and exit. */
#define KILL_GRACE_MS 700
/*
 * Reload: the old generation stops accepting once every new worker is
 * ready (DESIGN.md: a reload is in effect within 1 s; workers are ready
 * in milliseconds). A new generation not ready this long after the
 * SIGHUP has failed to start: the old one goes on serving.
 */
#define RELOAD_START_TIMEOUT_MS 10000
/*
 * A draining worker ends its own sessions at its deadline; the master
 * kills it this long after, as a backstop.
 */
#define DRAIN_KILL_GRACE_MS 5000
/* Start: READY=1 once every worker is ready, or this long after the
 * start once at least one is. */
#define START_READY_MS 5000
/* Worker slots per worker of the start configuration, plus a few. */
#define SLOTS_PER_WORKER 4
#define SLOTS_EXTRA 4
#define SLOTS_MAX 2048
/* Client sources the failed-login table (all workers') remembers. */
#define FAILTAB_ENTRIES 16384
/* Distinct keys (client networks, users) the quota table counts, at least. */
#define QUOTA_KEYS_MIN 1024

/* One worker process, by slot. */
struct wproc {
	pid_t pid;		/* 0: slot free */
	unsigned gen;
	int pos;		/* its position in the current generation, or -1 */
	int ctl;		/* master's end of the control socket, or -1 */
	uint64_t started_ms;
	bool ready;		/* said WORKER_CTL_READY */
	bool draining;		/* told to drain or stop */
	bool closing;		/* told to end its sessions now */
	uint64_t kill_at_ms;	/* draining: backstop SIGKILL, or 0 */
};

/* One of the `workers` of the current generation. */
struct position {
	int slot;		/* the worker in it, or -1 */
	int quick_deaths;	/* consecutive deaths soon after start */
	uint64_t restart_at_ms;	/* when slot == -1 */
};

/*
 * What a reload replaces, kept until the new generation has taken over
 * (then freed) or has failed to start (then put back).
 */
struct prior {
	struct config *cfg;
	struct userdb *db;
	struct listener_set ls;
	struct status_server *srv;	/* when the reload opened another */
	bool srv_changed;
	bool log_changed;		/* the reload re-initialised the log */
	struct position *pos;
	int npos;
	unsigned gen;
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
	const struct master_options *opt;
	char *config_path;		/* absolute when it could be made so */
	struct listener_set ls;		/* this generation's listeners */
	struct wproc *w;		/* by slot */
	int nslots;
	struct position *pos;		/* the current generation's workers */
	int npos;
	unsigned gen;
	unsigned gen_seq;		/* the last generation number given */
	uint64_t gen_started_ms;
	uint64_t gen_ready_by_ms;	/* see RELOAD_START_TIMEOUT_MS, START_READY_MS */
	bool gen_announced;		/* READY=1 sent for this generation */
	struct prior *prior;		/* a reload is starting gen: see above */
	char start_failure[256];	/* why gen cannot start, or "" */
	bool hup_deferred;		/* SIGHUP while a reload was starting */
	bool slot_shortage_logged;
	struct privsep ps;		/* who the workers become */
	int stopping;
	uint64_t deadline_ms;
	struct daemon daemon;		/* pid file, the starting process */
	struct quota *quota;
	struct failtab *failtab;	/* failed logins, shared by the workers */
	struct status *status;
	struct status_server *srv;
	sigset_t waitmask;		/* mask used inside ppoll: our signals open */
};

/* --- Loading (shared by -t, start and reload) ------------------------------ */

/* Only "password" and "chap" need the users file. */
static bool
needs_users(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == SOCKS5_METHOD_PASSWORD ||
		    cfg->auth.methods[i] == SOCKS5_METHOD_CHAP)
			return true;
	return false;
}

/* Keep a running value of a key that cannot change live. */
static void
keep_running(config_report_fn report, void *arg, const char *file,
    const char *key, char **newval, const char *oldval)
{
	char msg[512];

	if (strcmp(*newval, oldval) == 0)
		return;
	snprintf(msg, sizeof(msg), "warning: '%s' cannot change on reload: "
	    "still \"%s\" until sockeyed is restarted", key, oldval);
	report(arg, file, 0, msg);
	free(*newval);
	*newval = xstrdup(oldval);
}

int
master_load(const char *path, const struct config *running,
    config_report_fn report, void *arg, struct config **cfgp,
    struct userdb **dbp)
{
	struct config *cfg;
	struct userdb *db = NULL;
	struct privsep ps;
	int bad = 0;

	*cfgp = NULL;
	*dbp = NULL;
	cfg = config_load(path, report, arg);
	if (cfg == NULL)
		return -1;
	if (running != NULL) {
		keep_running(report, arg, cfg->file, "user", &cfg->user,
		    running->user);
		keep_running(report, arg, cfg->file, "group", &cfg->group,
		    running->group);
		keep_running(report, arg, cfg->file, "pid_file",
		    &cfg->pid_file, running->pid_file);
	}
	/*
	 * As root the workers become `user`:`group`, which must exist; the
	 * users file may be readable by that group (else by no group).
	 */
	if (privsep_lookup(&ps, cfg->user, cfg->group, cfg->file, report,
	    arg) == -1)
		bad = 1;
	/* The users file is read here, with the privileges we started with. */
	if (needs_users(cfg)) {
		db = userdb_load(cfg->auth.users_file, true, ps.gid,
		    report, arg);
		if (db == NULL)
			bad = 1;
	}
	if (bad) {
		userdb_free(db);
		config_free(cfg);
		return -1;
	}
	*cfgp = cfg;
	*dbp = db;
	return 0;
}

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

/* --- Privileges and children ----------------------------------------------- */

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
 * In a new worker: close every descriptor that belongs to the master or
 * to other workers (their control sockets above all: a worker holding
 * another's would hide the master's death from it), and free what the
 * worker does not use.
 */
static void
child_close_master_fds(struct master *m, int keep_slot)
{
	int i;

	for (i = 0; i < m->nslots; i++)
		if (i != keep_slot && m->w[i].ctl != -1) {
			close(m->w[i].ctl);
			m->w[i].ctl = -1;
		}
	/*
	 * Listeners the reload removes: the master closes them at the
	 * switch, and a copy here would keep them listening.
	 */
	if (m->prior != NULL)
		listener_set_close_dropped(&m->prior->ls, &m->ls, false);
	status_server_forget(m->srv);
	m->srv = NULL;
	if (m->prior != NULL && m->prior->srv_changed) {
		status_server_forget(m->prior->srv);
		m->prior->srv = NULL;
		m->prior->srv_changed = false;
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
	free(pr->pos);
	userdb_free(pr->db);
	config_free(pr->cfg);
	free(pr);
}

/* Free the master's memory (a worker's copy too); descriptors stay. */
static void
master_free(struct master *m)
{
	prior_free(m->prior);
	m->prior = NULL;
	quota_free(m->quota);
	ratelimit_shared_free();
	failtab_free(m->failtab);
	status_free(m->status);
	free(m->w);
	free(m->pos);
	listener_set_free(&m->ls);
	free(m->config_path);
	userdb_free(m->db);
	config_free(m->cfg);
}

static int
free_slot(const struct master *m)
{
	int i;

	for (i = 0; i < m->nslots; i++)
		if (m->w[i].pid == 0)
			return i;
	return -1;
}

/* Whether some worker has been told to end its sessions now. */
static bool
closing_workers(const struct master *m)
{
	int i;

	for (i = 0; i < m->nslots; i++)
		if (m->w[i].pid != 0 && m->w[i].closing)
			return true;
	return false;
}

static void start_failed(struct master *m, const char *fmt, ...)
    PRINTF_FMT(2, 3);

/*
 * A worker of the generation a reload is starting could not start or
 * died before the switch: the reload fails (the loop acts on it).
 */
static void
start_failed(struct master *m, const char *fmt, ...)
{
	va_list ap;

	if (m->prior == NULL || m->start_failure[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(m->start_failure, sizeof(m->start_failure), fmt, ap);
	va_end(ap);
}

/* Start the worker of position `p` of the current generation. */
static void
spawn_worker(struct master *m, int p)
{
	pid_t master_pid = getpid();
	struct position *pos = &m->pos[p];
	int slot = free_slot(m), sv[2];
	pid_t pid;

	if (slot == -1) {
		/*
		 * Draining workers hold every slot: wait for one to exit.
		 * Those make_room() closed early exit at once: no news.
		 */
		if (!m->slot_shortage_logged && !closing_workers(m))
			warning("all %d worker slots are held by draining "
			    "workers: starting the rest of generation %u as "
			    "they exit", m->nslots, m->gen);
		m->slot_shortage_logged = true;
		pos->restart_at_ms = UINT64_MAX;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		error("cannot create a control socket: %s", strerror(errno));
		start_failed(m, "cannot create a control socket: %s",
		    strerror(errno));
		pos->restart_at_ms = util_now_ms() + 1000;
		return;
	}
	/* Before the fork: the worker may count a session at once. */
	status_slot_start(m->status, slot, m->gen);
	pid = fork();
	if (pid == -1) {
		error("cannot fork a worker: %s", strerror(errno));
		start_failed(m, "cannot fork a worker: %s", strerror(errno));
		status_slot_clear(m->status, slot);
		close(sv[0]);
		close(sv[1]);
		pos->restart_at_ms = util_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		struct worker_setup ws;
		char tag[32];
		int status;

		reset_signals_in_child();
		close(sv[0]);
		child_close_master_fds(m, -1);
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
		ws.ls = m->ls.ls;
		ws.nls = m->ls.n;
		ws.slot = slot;
		ws.generation = m->gen;
		ws.ctl_fd = sv[1];
		ws.quota = m->quota;
		ws.failtab = m->failtab;
		ws.status = m->status;
		status = worker_run(&ws);
		master_free(m);
		exit(status);
	}
	close(sv[1]);
	if (util_set_nonblock(sv[0]) == -1)
		warning("control socket: %s", strerror(errno));
	m->w[slot].pid = pid;
	m->w[slot].gen = m->gen;
	m->w[slot].pos = p;
	m->w[slot].ctl = sv[0];
	m->w[slot].started_ms = util_now_ms();
	m->w[slot].ready = false;
	m->w[slot].draining = false;
	m->w[slot].closing = false;
	m->w[slot].kill_at_ms = 0;
	pos->slot = slot;
	verbose("worker %d started (pid %ld, generation %u)", slot, (long)pid,
	    m->gen);
}

static void
reap_children(struct master *m)
{
	uint64_t now = util_now_ms();
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct wproc *w;
		struct position *pos;
		char how[64];
		bool current;

		for (i = 0; i < m->nslots; i++)
			if (m->w[i].pid == pid)
				break;
		if (i == m->nslots)
			continue;
		w = &m->w[i];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "killed by signal %d (%s)",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(how, sizeof(how), "exited with status %d",
			    WEXITSTATUS(status));
		current = w->gen == m->gen && !w->draining && w->pos >= 0 &&
		    w->pos < m->npos && m->pos[w->pos].slot == i;
		pos = current ? &m->pos[w->pos] : NULL;
		/* The slot is free for someone else only once it is clean. */
		w->pid = 0;
		if (w->ctl != -1)
			close(w->ctl);
		w->ctl = -1;
		quota_clear_slot(m->quota, i);
		status_slot_clear(m->status, i);
		m->slot_shortage_logged = false;
		if (m->stopping || !current) {
			if (!m->stopping && WIFSIGNALED(status))
				error("worker %d (pid %ld, generation %u) %s "
				    "while draining", i, (long)pid, w->gen, how);
			else
				verbose("worker %d (pid %ld, generation %u) %s",
				    i, (long)pid, w->gen, how);
			continue;
		}
		pos->slot = -1;
		if (m->prior != NULL) {
			/* Not restarted: the reload has failed (the loop). */
			error("worker %d (pid %ld, generation %u) %s before "
			    "its generation took over", i, (long)pid, w->gen,
			    how);
			start_failed(m, "worker %d %s", i, how);
			pos->restart_at_ms = UINT64_MAX;
			continue;
		}
		status_count_worker_death(m->status);
		/*
		 * Restart at once; only a worker that keeps dying right after
		 * its start is backed off, so a crash loop cannot spin.
		 */
		if (now - w->started_ms < QUICK_DEATH_MS)
			pos->quick_deaths++;
		else
			pos->quick_deaths = 0;
		if (pos->quick_deaths <= 1) {
			pos->restart_at_ms = now;
			error("worker %d (pid %ld) %s; restarting", i,
			    (long)pid, how);
		} else {
			uint64_t delay = BACKOFF_BASE_MS;
			int k;

			for (k = 2; k < pos->quick_deaths &&
			    delay < BACKOFF_MAX_MS; k++)
				delay *= 2;
			if (delay > BACKOFF_MAX_MS)
				delay = BACKOFF_MAX_MS;
			pos->restart_at_ms = now + delay;
			error("worker %d (pid %ld) %s; restarting in %llu ms "
			    "(%d quick deaths in a row)", i, (long)pid, how,
			    (unsigned long long)delay, pos->quick_deaths);
		}
	}
	/* Positions that waited for a slot may have one now. */
	for (i = 0; i < m->npos; i++)
		if (m->pos[i].slot == -1 && m->pos[i].restart_at_ms == UINT64_MAX)
			m->pos[i].restart_at_ms = now;
}

static int
running_workers(const struct master *m)
{
	int i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->w[i].pid != 0)
			n++;
	return n;
}

static void
signal_workers(const struct master *m, int sig)
{
	int i;

	for (i = 0; i < m->nslots; i++)
		if (m->w[i].pid != 0)
			kill(m->w[i].pid, sig);
}

/* Send one control message; a worker we cannot tell is signalled. */
static void
tell_worker(struct master *m, int slot, uint8_t cmd, uint32_t timeout_s)
{
	struct worker_ctl_msg msg;
	struct wproc *w = &m->w[slot];

	memset(&msg, 0, sizeof(msg));
	msg.cmd = cmd;
	msg.timeout_s = timeout_s;
	errno = EPIPE;
	if (w->ctl != -1 && send(w->ctl, &msg, sizeof(msg), MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(msg))
		return;
	/* Its end is closed: the worker is already on its way out. */
	if (errno == EPIPE || errno == ECONNRESET) {
		debug("worker %d: control socket closed", slot);
		return;
	}
	/* SIGTERM means a stop with the worker's own shutdown_timeout_s. */
	warning("worker %d: control socket: %s; sending SIGTERM", slot,
	    strerror(errno));
	kill(w->pid, SIGTERM);
}

/* Tell a ready worker of the serving generation to accept. */
static void
worker_accept(struct master *m, int slot)
{
	tell_worker(m, slot, WORKER_CTL_ACCEPT, 0);
	status_slot_set_state(m->status, slot, STATUS_WORKER_RUNNING);
}

/*
 * Tell worker `slot` to stop accepting and drain, ending what is left
 * after timeout_s with end=reload-deadline; the master kills it if it
 * is still there DRAIN_KILL_GRACE_MS later.
 */
static void
drain_worker(struct master *m, int slot, int timeout_s)
{
	struct wproc *w = &m->w[slot];

	tell_worker(m, slot, WORKER_CTL_DRAIN, (uint32_t)timeout_s);
	w->draining = true;
	w->kill_at_ms = util_now_ms() + (uint64_t)timeout_s * 1000 +
	    DRAIN_KILL_GRACE_MS;
	if (timeout_s == 0)
		w->closing = true;
	status_slot_set_state(m->status, slot, STATUS_WORKER_DRAINING);
}

/*
 * Tell every worker of another generation that still serves to stop
 * accepting and drain, with this configuration's reload_drain_timeout_s.
 */
static void
drain_old_generations(struct master *m)
{
	int i, n = 0;

	for (i = 0; i < m->nslots; i++) {
		struct wproc *w = &m->w[i];

		if (w->pid == 0 || w->gen == m->gen || w->draining)
			continue;
		drain_worker(m, i, m->cfg->reload_drain_timeout_s);
		n++;
	}
	if (n > 0)
		logit("%d workers of older generations stop accepting and "
		    "drain their sessions (reload_drain_timeout_s %d)", n,
		    m->cfg->reload_drain_timeout_s);
}

/*
 * Tell the workers of generation `gen` to end their sessions now and
 * exit (a drain with no time left). Returns how many were told.
 */
static int
close_generation(struct master *m, unsigned gen)
{
	int i, n = 0;

	for (i = 0; i < m->nslots; i++) {
		struct wproc *w = &m->w[i];

		if (w->pid == 0 || w->closing || w->gen != gen)
			continue;
		drain_worker(m, i, 0);
		n++;
	}
	return n;
}

/*
 * Slots for `need` new workers: the free ones, plus those of workers
 * already told to end their sessions now. When they are too few, the
 * oldest draining generation is closed early (its sessions end with
 * end=reload-deadline), then the next oldest, until the new workers
 * fit; they start as the closed workers exit (reap_children()).
 */
static void
make_room(struct master *m, int need)
{
	for (;;) {
		unsigned oldest = 0;
		int i, avail = 0, n;

		for (i = 0; i < m->nslots; i++) {
			const struct wproc *w = &m->w[i];

			if (w->pid == 0 || w->closing) {
				avail++;
				continue;
			}
			if (w->draining && w->gen != m->gen &&
			    (oldest == 0 || w->gen < oldest))
				oldest = w->gen;
		}
		if (avail >= need || oldest == 0)
			return;
		n = close_generation(m, oldest);
		warning("worker slots: %d of %d free, generation %u needs %d: "
		    "closing draining generation %u early (%d workers; their "
		    "sessions end now, end=reload-deadline)", avail,
		    m->nslots, m->gen, need, oldest, n);
	}
}

/* Backstop: a draining worker still there well after its deadline. */
static uint64_t
kill_overdue(struct master *m, uint64_t now)
{
	uint64_t wake = UINT64_MAX;
	int i;

	for (i = 0; i < m->nslots; i++) {
		struct wproc *w = &m->w[i];

		if (w->pid == 0 || !w->draining || w->kill_at_ms == 0)
			continue;
		if (now >= w->kill_at_ms) {
			error("worker %d (pid %ld, generation %u) still runs "
			    "%d ms after its drain deadline: killing it", i,
			    (long)w->pid, w->gen, DRAIN_KILL_GRACE_MS);
			kill(w->pid, SIGKILL);
			w->kill_at_ms = 0;
		} else if (w->kill_at_ms < wake) {
			wake = w->kill_at_ms;
		}
	}
	return wake;
}

/* --- Listeners -------------------------------------------------------------- */

static void
write_port_file(const struct master *m)
{
	if (m->opt->port_file != NULL &&
	    listener_write_ports(m->ls.ls, m->ls.n, m->opt->port_file) == -1)
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
	signal_workers(m, SIGUSR1);
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

/* A new current generation of `n` workers (started by the loop). */
static void
new_generation(struct master *m, int n, uint64_t ready_within_ms)
{
	int i;

	free(m->pos);
	m->npos = n;
	m->pos = xcalloc((size_t)n, sizeof(*m->pos));
	for (i = 0; i < n; i++) {
		m->pos[i].slot = -1;
		m->pos[i].restart_at_ms = 0;
	}
	m->gen = ++m->gen_seq;
	m->gen_started_ms = util_now_ms();
	m->gen_ready_by_ms = m->gen_started_ms + ready_within_ms;
	m->gen_announced = false;
	m->slot_shortage_logged = false;
	/* A reload's generation shows once it serves (announce_generation). */
	if (m->prior == NULL)
		status_set_generation(m->status, m->gen);
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

/* A reload failed: the service manager learns that the old one serves. */
static void
notify_reload_failed(const struct master *m)
{
	daemon_notify("READY=1\nSTATUS=reload failed; serving generation %u",
	    m->gen);
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
	struct listener_set ls = { 0 };
	struct status_server *srv = m->srv;
	struct prior *pr;
	bool log_changed;
	char err[512];
	int n;

	if (m->prior != NULL) {
		/* One at a time: this one is read once that one is decided. */
		logit("SIGHUP while generation %u is starting: reloading "
		    "again once it serves or has failed", m->gen);
		m->hup_deferred = true;
		return;
	}
	logit("SIGHUP: reloading %s", m->config_path);
	daemon_notify("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)util_now_ms() * 1000ULL);
	if (master_load(m->config_path, old_cfg, log_report, &rctx, &cfg,
	    &db) == -1) {
		error("reload failed: %s has errors (above); still serving "
		    "with the running configuration (generation %u)",
		    m->config_path, m->gen);
		goto keep;
	}
	/*
	 * The new workers need slots beside the running generation's; the
	 * draining ones can be closed early to make room (make_room()), but
	 * the table cannot grow.
	 */
	n = resolve_workers(cfg);
	if (n > m->nslots - m->npos) {
		error("reload refused: %s: workers = %d, but only %d of the %d "
		    "worker slots (sized at start from 'workers') are left "
		    "beside the running generation's %d; restart sockeyed to "
		    "run more workers", cfg->file, n, m->nslots - m->npos,
		    m->nslots, m->npos);
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
	if (listener_set_open(&ls, &m->ls, cfg) == -1) {
		error("reload failed: still serving with the running "
		    "configuration (generation %u)", m->gen);
		if (srv != m->srv)
			status_server_close(srv);
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
	pr->ls = m->ls;
	pr->srv_changed = srv != m->srv;
	pr->srv = pr->srv_changed ? m->srv : NULL;
	pr->log_changed = log_changed;
	pr->pos = m->pos;
	pr->npos = m->npos;
	pr->gen = m->gen;
	m->prior = pr;
	m->pos = NULL;
	m->ls = ls;
	m->srv = srv;
	m->cfg = cfg;
	m->db = db;
	m->start_failure[0] = '\0';
	if (log_changed)
		privsep_chown_log(&m->ps, m->cfg);
	new_generation(m, n, RELOAD_START_TIMEOUT_MS);
	make_room(m, n);
	write_port_file(m);
	if (db != NULL)
		logit("users file %s: %zu users", cfg->auth.users_file,
		    userdb_count(db));
	logit("reload: starting generation %u with %d workers", m->gen, n);
	return;

undo_log:
	if (log_changed)
		log_restore(old_cfg);
keep_new:
	userdb_free(db);
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
	unsigned failed = m->gen;
	uint64_t now = util_now_ms();
	int i, n = close_generation(m, failed);

	error("reload failed: generation %u cannot start (%s); %d of its "
	    "workers retired; still serving with the running configuration "
	    "(generation %u)", failed, why, n, pr->gen);
	/* Listeners only the failed configuration had. */
	listener_set_close_dropped(&m->ls, &pr->ls, false);
	listener_set_free(&m->ls);
	m->ls = pr->ls;
	if (pr->srv_changed) {
		status_server_close(m->srv);
		m->srv = pr->srv;
	}
	userdb_free(m->db);
	config_free(m->cfg);
	m->cfg = pr->cfg;
	m->db = pr->db;
	if (pr->log_changed) {
		log_restore(m->cfg);
		privsep_chown_log(&m->ps, m->cfg);
	}
	free(m->pos);
	m->pos = pr->pos;
	m->npos = pr->npos;
	m->gen = pr->gen;
	m->gen_announced = true;
	free(pr);
	m->prior = NULL;
	/* A worker of the running generation that died meanwhile. */
	for (i = 0; i < m->npos; i++) {
		int s = m->pos[i].slot;

		if (s != -1 && (m->w[s].pid == 0 || m->w[s].gen != m->gen ||
		    m->w[s].pos != i || m->w[s].draining)) {
			m->pos[i].slot = -1;
			m->pos[i].restart_at_ms = now;
		}
	}
	status_set_generation(m->status, m->gen);
	write_port_file(m);
	notify_reload_failed(m);
	resume_deferred_hup(m);
}

static void
begin_stop(struct master *m)
{
	int k;

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
	for (k = 0; k < m->nslots; k++) {
		if (m->w[k].pid == 0)
			continue;
		tell_worker(m, k, WORKER_CTL_STOP,
		    (uint32_t)m->cfg->shutdown_timeout_s);
		m->w[k].draining = true;
		status_slot_set_state(m->status, k, STATUS_WORKER_STOPPING);
	}
	daemon_release_starter(&m->daemon, false);
}

/* Messages from the workers: READY, or the end of the socket. */
static void
read_control(struct master *m, int slot)
{
	struct wproc *w = &m->w[slot];
	int i;

	for (i = 0; i < 8 && w->ctl != -1; i++) {
		struct worker_ctl_msg msg;
		ssize_t r = recv(w->ctl, &msg, sizeof(msg), MSG_DONTWAIT);

		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			/* The worker is exiting; SIGCHLD does the rest. */
			close(w->ctl);
			w->ctl = -1;
			return;
		}
		if ((size_t)r == sizeof(msg) && msg.cmd == WORKER_CTL_READY &&
		    !w->ready) {
			w->ready = true;
			debug("worker %d ready", slot);
			/*
			 * A worker of the serving generation (a start or a
			 * restart) accepts at once; one of a generation that
			 * a reload is starting waits for the switch.
			 */
			if (!w->draining && w->gen == m->gen &&
			    m->prior == NULL)
				worker_accept(m, slot);
		}
	}
}

/* How many workers of the current generation have said READY. */
static int
count_ready(const struct master *m)
{
	int i, ready = 0;

	for (i = 0; i < m->npos; i++)
		if (m->pos[i].slot != -1 && m->w[m->pos[i].slot].ready)
			ready++;
	return ready;
}

/*
 * Whether the current generation counts as up: at start, once every
 * worker is ready or START_READY_MS after the start once one is; on a
 * reload, only once every position is ready.
 */
static bool
generation_ready(const struct master *m, uint64_t now)
{
	int ready = count_ready(m);

	if (ready == m->npos)
		return true;
	return m->prior == NULL && ready > 0 && now >= m->gen_ready_by_ms;
}

static void
announce_generation(struct master *m)
{
	int i, ready = count_ready(m);

	m->gen_announced = true;
	if (m->prior != NULL) {
		/* The switch: the new generation accepts, the old drains. */
		for (i = 0; i < m->npos; i++)
			worker_accept(m, m->pos[i].slot);
		drain_old_generations(m);
		prior_drop(m, true);
		status_set_generation(m->status, m->gen);
		status_count_reload(m->status);
		listener_set_log(&m->ls);
	}
	if (m->gen == 1)
		logit("sockeyed %s started with %d workers", PACKAGE_VERSION,
		    m->npos);
	else
		logit("reload done: generation %u is serving (%d of %d workers "
		    "ready)", m->gen, ready, m->npos);
	daemon_notify("READY=1\nSTATUS=serving, generation %u, %d workers",
	    m->gen, m->npos);
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
	if (m->prior == NULL)
		return;
	if (m->start_failure[0] == '\0' && now >= m->gen_ready_by_ms)
		start_failed(m, "%d of %d workers ready after %d ms",
		    count_ready(m), m->npos, RELOAD_START_TIMEOUT_MS);
	if (m->start_failure[0] != '\0')
		reload_fail(m, m->start_failure);
}

static void
master_loop(struct master *m)
{
	struct pollfd *pfd;
	int *pfd_slot;
	size_t maxfds = (size_t)m->nslots + 16;

	pfd = xcalloc(maxfds, sizeof(*pfd));
	pfd_slot = xcalloc(maxfds, sizeof(*pfd_slot));
	for (;;) {
		uint64_t now, wake = UINT64_MAX;
		struct timespec ts, *tsp = NULL;
		size_t nfd = 0, nsrv, k;
		int i, srv_ms;

		if (received_chld) {
			received_chld = 0;
			reap_children(m);
		}
		if (received_term) {
			if (m->stopping && received_term > 1) {
				logit("second stop signal: exiting now");
				signal_workers(m, SIGKILL);
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
			if (running_workers(m) == 0)
				break;
			if (now >= m->deadline_ms) {
				logit("shutdown timeout reached: killing %d "
				    "workers", running_workers(m));
				signal_workers(m, SIGKILL);
				break;
			}
			wake = m->deadline_ms;
		} else {
			uint64_t kw;

			check_start(m, now);
			kw = kill_overdue(m, now);
			if (kw < wake)
				wake = kw;
			for (i = 0; i < m->npos; i++) {
				struct position *p = &m->pos[i];

				if (p->slot != -1)
					continue;
				if (p->restart_at_ms <= now)
					spawn_worker(m, i);
				else if (p->restart_at_ms < wake)
					wake = p->restart_at_ms;
			}
			/* A fork that failed just now. */
			check_start(m, now);
			if (!m->gen_announced) {
				if (generation_ready(m, now))
					announce_generation(m);
				else if (m->gen_ready_by_ms > now &&
				    m->gen_ready_by_ms < wake)
					wake = m->gen_ready_by_ms;
			}
		}

		/* Control sockets, then the status socket. */
		for (i = 0; i < m->nslots && nfd < maxfds; i++) {
			if (m->w[i].ctl == -1)
				continue;
			pfd[nfd].fd = m->w[i].ctl;
			pfd[nfd].events = POLLIN;
			pfd[nfd].revents = 0;
			pfd_slot[nfd] = i;
			nfd++;
		}
		nsrv = status_server_pollfds(m->srv, pfd + nfd, maxfds - nfd);
		srv_ms = status_server_timeout_ms(m->srv);
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
		if (ppoll(pfd, nfd + nsrv, tsp, &m->waitmask) <= 0)
			continue;
		for (k = 0; k < nfd; k++)
			if (pfd[k].revents != 0)
				read_control(m, pfd_slot[k]);
		status_server_handle(m->srv, pfd + nfd, nsrv);
	}
	free(pfd);
	free(pfd_slot);
	/* Reap what is left so no zombie outlives us (bounded: SIGKILLed). */
	if (running_workers(m) > 0) {
		uint64_t until = util_now_ms() + 1000;

		while (running_workers(m) > 0 && util_now_ms() < until) {
			struct timespec ts = { 0, 10 * 1000000 };

			reap_children(m);
			nanosleep(&ts, NULL);
		}
	}
}

/* --- Start and end ---------------------------------------------------------- */

/*
 * Slots for the shared regions: room for the start's workers several
 * times over, since old generations keep theirs while they drain.
 */
static int
slot_count(int workers)
{
	long n = (long)workers * SLOTS_PER_WORKER + SLOTS_EXTRA;

	return n > SLOTS_MAX ? SLOTS_MAX : (int)n;
}

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
	daemon_pid_file_remove(&m->daemon, m->cfg->pid_file);
	daemon_release_starter(&m->daemon, false);
	master_free(m);
}

int
master_run(struct config *cfg, struct userdb *db,
    const struct master_options *opt)
{
	struct log_report_ctx rctx = { 0 };
	struct master m;
	char err[512], *abs;
	int n, i;

	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	m.db = db;
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
	m.nslots = slot_count(n);
	m.w = xcalloc((size_t)m.nslots, sizeof(*m.w));
	for (i = 0; i < m.nslots; i++)
		m.w[i].ctl = -1;
	m.quota = quota_new(m.nslots, quota_keys(cfg));
	m.status = status_new(m.nslots);
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
	new_generation(&m, n, START_READY_MS);
	for (i = 0; i < m.npos; i++)
		spawn_worker(&m, i);
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
