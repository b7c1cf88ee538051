/* SPDX-License-Identifier: ISC */
/*
 * generation.c - see generation.h.
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
 * generation is refused (master.c).
 *
 * Positions. A generation is `workers` positions; each holds one worker
 * at a time. A worker that dies is restarted in its position (at once,
 * or with back-off when it keeps dying right after its start), in
 * whichever slot is free then.
 *
 * Draining. A draining generation's sessions run on (an admin who adds
 * a user must not cut everyone's downloads and ssh sessions) until
 * reload_drain_timeout_s, from the configuration that retired it; then
 * its workers end them (end=reload-deadline) and exit. A stop (SIGTERM)
 * puts shutdown_timeout_s on every generation.
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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "generation.h"
#include "log.h"
#include "quota.h"
#include "status.h"
#include "worker.h"

/* A worker that dies sooner than this after its start counts as crashing. */
#define QUICK_DEATH_MS 2000
/* Back-off for crashing workers: 100 ms doubling, capped. */
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 10000
/*
 * A draining worker ends its own sessions at its deadline; the master
 * kills it this long after, as a backstop.
 */
#define DRAIN_KILL_GRACE_MS 5000
/* Worker slots per worker of the start configuration, plus a few. */
#define SLOTS_PER_WORKER 4
#define SLOTS_EXTRA 4
#define SLOTS_MAX 2048

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

struct generation_table {
	struct wproc *w;		/* by slot */
	int nslots;
	struct position *pos;		/* the current generation's workers */
	int npos;
	unsigned gen;
	unsigned gen_seq;		/* the last generation number given */
	uint64_t gen_ready_within_ms;
	uint64_t gen_ready_by_ms;
	/*
	 * A reload is starting `gen` beside the generation it replaces,
	 * which is kept here until the switch or the failure.
	 */
	bool replacing;
	struct position *prior_pos;
	int prior_npos;
	unsigned prior_gen;
	char start_failure[256];	/* why gen cannot start, or "" */
	bool slot_shortage_logged;
	bool stopping;
	struct quota *quota;
	struct status *status;
	generation_child_fn *child;
	void *child_arg;
	int *pfd_slot;			/* slots, by pollfd entry */
};

int
generation_slot_count(int workers)
{
	long n = (long)workers * SLOTS_PER_WORKER + SLOTS_EXTRA;

	return n > SLOTS_MAX ? SLOTS_MAX : (int)n;
}

struct generation_table *
generation_table_new(int nslots, struct quota *quota, struct status *status,
    generation_child_fn *child, void *arg)
{
	struct generation_table *t = xcalloc(1, sizeof(*t));
	int i;

	t->nslots = nslots;
	t->w = xcalloc((size_t)nslots, sizeof(*t->w));
	for (i = 0; i < nslots; i++)
		t->w[i].ctl = -1;
	t->pfd_slot = xcalloc((size_t)nslots, sizeof(*t->pfd_slot));
	t->quota = quota;
	t->status = status;
	t->child = child;
	t->child_arg = arg;
	return t;
}

void
generation_table_free(struct generation_table *t)
{
	int i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++)
		if (t->w[i].ctl != -1)
			close(t->w[i].ctl);
	free(t->w);
	free(t->pos);
	free(t->prior_pos);
	free(t->pfd_slot);
	free(t);
}

unsigned
generation_current(const struct generation_table *t)
{
	return t->gen;
}

int
generation_size(const struct generation_table *t)
{
	return t->npos;
}

int
generation_slots(const struct generation_table *t)
{
	return t->nslots;
}

/* --- Spawn and reap ---------------------------------------------------------- */

static int
free_slot(const struct generation_table *t)
{
	int i;

	for (i = 0; i < t->nslots; i++)
		if (t->w[i].pid == 0)
			return i;
	return -1;
}

/* Whether some worker has been told to end its sessions now. */
static bool
closing_workers(const struct generation_table *t)
{
	int i;

	for (i = 0; i < t->nslots; i++)
		if (t->w[i].pid != 0 && t->w[i].closing)
			return true;
	return false;
}

static void start_failed(struct generation_table *t, const char *fmt, ...)
    PRINTF_FMT(2, 3);

/*
 * A worker of the generation a reload is starting could not start or
 * died before the switch: the reload fails (the loop acts on it).
 */
static void
start_failed(struct generation_table *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->replacing || t->start_failure[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(t->start_failure, sizeof(t->start_failure), fmt, ap);
	va_end(ap);
}

/* Start the worker of position `p` of the current generation. */
static void
spawn_worker(struct generation_table *t, int p)
{
	pid_t master_pid = getpid();
	struct position *pos = &t->pos[p];
	int slot = free_slot(t), sv[2];
	pid_t pid;

	if (slot == -1) {
		/*
		 * Draining workers hold every slot: wait for one to exit.
		 * Those make_room() closed early exit at once: no news.
		 */
		if (!t->slot_shortage_logged && !closing_workers(t))
			warning("all %d worker slots are held by draining "
			    "workers: starting the rest of generation %u as "
			    "they exit", t->nslots, t->gen);
		t->slot_shortage_logged = true;
		pos->restart_at_ms = UINT64_MAX;
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		error("cannot create a control socket: %s", strerror(errno));
		start_failed(t, "cannot create a control socket: %s",
		    strerror(errno));
		pos->restart_at_ms = util_now_ms() + 1000;
		return;
	}
	/* Before the fork: the worker may count a session at once. */
	status_slot_start(t->status, slot, t->gen);
	pid = fork();
	if (pid == -1) {
		error("cannot fork a worker: %s", strerror(errno));
		start_failed(t, "cannot fork a worker: %s", strerror(errno));
		status_slot_clear(t->status, slot);
		close(sv[0]);
		close(sv[1]);
		pos->restart_at_ms = util_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		int i;

		close(sv[0]);
		/*
		 * The other workers' control sockets: a worker holding
		 * another's would hide the master's death from it.
		 */
		for (i = 0; i < t->nslots; i++)
			if (t->w[i].ctl != -1) {
				close(t->w[i].ctl);
				t->w[i].ctl = -1;
			}
		exit(t->child(t->child_arg, slot, t->gen, sv[1], master_pid));
	}
	close(sv[1]);
	if (util_set_nonblock(sv[0]) == -1)
		warning("control socket: %s", strerror(errno));
	t->w[slot].pid = pid;
	t->w[slot].gen = t->gen;
	t->w[slot].pos = p;
	t->w[slot].ctl = sv[0];
	t->w[slot].started_ms = util_now_ms();
	t->w[slot].ready = false;
	t->w[slot].draining = false;
	t->w[slot].closing = false;
	t->w[slot].kill_at_ms = 0;
	pos->slot = slot;
	verbose("worker %d started (pid %ld, generation %u)", slot, (long)pid,
	    t->gen);
}

void
generation_reap(struct generation_table *t)
{
	uint64_t now = util_now_ms();
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct wproc *w;
		struct position *pos;
		char how[64];
		bool current;

		for (i = 0; i < t->nslots; i++)
			if (t->w[i].pid == pid)
				break;
		if (i == t->nslots)
			continue;
		w = &t->w[i];
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "killed by signal %d (%s)",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(how, sizeof(how), "exited with status %d",
			    WEXITSTATUS(status));
		current = w->gen == t->gen && !w->draining && w->pos >= 0 &&
		    w->pos < t->npos && t->pos[w->pos].slot == i;
		pos = current ? &t->pos[w->pos] : NULL;
		/* The slot is free for someone else only once it is clean. */
		w->pid = 0;
		if (w->ctl != -1)
			close(w->ctl);
		w->ctl = -1;
		quota_clear_slot(t->quota, i);
		status_slot_clear(t->status, i);
		t->slot_shortage_logged = false;
		if (t->stopping || !current) {
			if (!t->stopping && WIFSIGNALED(status))
				error("worker %d (pid %ld, generation %u) %s "
				    "while draining", i, (long)pid, w->gen, how);
			else
				verbose("worker %d (pid %ld, generation %u) %s",
				    i, (long)pid, w->gen, how);
			continue;
		}
		pos->slot = -1;
		if (t->replacing) {
			/* Not restarted: the reload has failed (the loop). */
			error("worker %d (pid %ld, generation %u) %s before "
			    "its generation took over", i, (long)pid, w->gen,
			    how);
			start_failed(t, "worker %d %s", i, how);
			pos->restart_at_ms = UINT64_MAX;
			continue;
		}
		status_count_worker_death(t->status);
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
	for (i = 0; i < t->npos; i++)
		if (t->pos[i].slot == -1 && t->pos[i].restart_at_ms == UINT64_MAX)
			t->pos[i].restart_at_ms = now;
}

int
generation_running(const struct generation_table *t)
{
	int i, n = 0;

	for (i = 0; i < t->nslots; i++)
		if (t->w[i].pid != 0)
			n++;
	return n;
}

void
generation_signal(const struct generation_table *t, int sig)
{
	int i;

	for (i = 0; i < t->nslots; i++)
		if (t->w[i].pid != 0)
			kill(t->w[i].pid, sig);
}

/* --- Control sockets: accept, drain, stop ------------------------------------ */

/* Send one control message; a worker we cannot tell is signalled. */
static void
tell_worker(struct generation_table *t, int slot, uint8_t cmd,
    uint32_t timeout_s)
{
	struct worker_ctl_msg msg;
	struct wproc *w = &t->w[slot];

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
worker_accept(struct generation_table *t, int slot)
{
	tell_worker(t, slot, WORKER_CTL_ACCEPT, 0);
	status_slot_set_state(t->status, slot, STATUS_WORKER_RUNNING);
}

/*
 * Tell worker `slot` to stop accepting and drain, ending what is left
 * after timeout_s with end=reload-deadline; the master kills it if it
 * is still there DRAIN_KILL_GRACE_MS later.
 */
static void
drain_worker(struct generation_table *t, int slot, int timeout_s)
{
	struct wproc *w = &t->w[slot];

	tell_worker(t, slot, WORKER_CTL_DRAIN, (uint32_t)timeout_s);
	w->draining = true;
	w->kill_at_ms = util_now_ms() + (uint64_t)timeout_s * 1000 +
	    DRAIN_KILL_GRACE_MS;
	if (timeout_s == 0)
		w->closing = true;
	status_slot_set_state(t->status, slot, STATUS_WORKER_DRAINING);
}

/*
 * Tell every worker of another generation that still serves to stop
 * accepting and drain, with this configuration's reload_drain_timeout_s.
 */
static void
drain_old_generations(struct generation_table *t, int timeout_s)
{
	int i, n = 0;

	for (i = 0; i < t->nslots; i++) {
		struct wproc *w = &t->w[i];

		if (w->pid == 0 || w->gen == t->gen || w->draining)
			continue;
		drain_worker(t, i, timeout_s);
		n++;
	}
	if (n > 0)
		logit("%d workers of older generations stop accepting and "
		    "drain their sessions (reload_drain_timeout_s %d)", n,
		    timeout_s);
}

/*
 * Tell the workers of generation `gen` to end their sessions now and
 * exit (a drain with no time left). Returns how many were told.
 */
static int
close_generation(struct generation_table *t, unsigned gen)
{
	int i, n = 0;

	for (i = 0; i < t->nslots; i++) {
		struct wproc *w = &t->w[i];

		if (w->pid == 0 || w->closing || w->gen != gen)
			continue;
		drain_worker(t, i, 0);
		n++;
	}
	return n;
}

/*
 * Slots for `need` new workers: the free ones, plus those of workers
 * already told to end their sessions now. When they are too few, the
 * oldest draining generation is closed early (its sessions end with
 * end=reload-deadline), then the next oldest, until the new workers
 * fit; they start as the closed workers exit (generation_reap()).
 */
static void
make_room(struct generation_table *t, int need)
{
	for (;;) {
		unsigned oldest = 0;
		int i, avail = 0, n;

		for (i = 0; i < t->nslots; i++) {
			const struct wproc *w = &t->w[i];

			if (w->pid == 0 || w->closing) {
				avail++;
				continue;
			}
			if (w->draining && w->gen != t->gen &&
			    (oldest == 0 || w->gen < oldest))
				oldest = w->gen;
		}
		if (avail >= need || oldest == 0)
			return;
		n = close_generation(t, oldest);
		warning("worker slots: %d of %d free, generation %u needs %d: "
		    "closing draining generation %u early (%d workers; their "
		    "sessions end now, end=reload-deadline)", avail,
		    t->nslots, t->gen, need, oldest, n);
	}
}

/* Backstop: a draining worker still there well after its deadline. */
static uint64_t
kill_overdue(struct generation_table *t, uint64_t now)
{
	uint64_t wake = UINT64_MAX;
	int i;

	for (i = 0; i < t->nslots; i++) {
		struct wproc *w = &t->w[i];

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

/* Messages from the workers: READY, or the end of the socket. */
static void
read_control(struct generation_table *t, int slot)
{
	struct wproc *w = &t->w[slot];
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
			if (!w->draining && w->gen == t->gen &&
			    !t->replacing)
				worker_accept(t, slot);
		}
	}
}

size_t
generation_pollfds(struct generation_table *t, struct pollfd *pfd, size_t max)
{
	size_t nfd = 0;
	int i;

	for (i = 0; i < t->nslots && nfd < max; i++) {
		if (t->w[i].ctl == -1)
			continue;
		pfd[nfd].fd = t->w[i].ctl;
		pfd[nfd].events = POLLIN;
		pfd[nfd].revents = 0;
		t->pfd_slot[nfd] = i;
		nfd++;
	}
	return nfd;
}

void
generation_handle(struct generation_table *t, const struct pollfd *pfd,
    size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (pfd[k].revents != 0)
			read_control(t, t->pfd_slot[k]);
}

/* --- Generations -------------------------------------------------------------- */

void
generation_begin(struct generation_table *t, int n, uint64_t ready_within_ms,
    bool replace)
{
	int i;

	BUG_ON(replace && t->replacing);
	if (replace) {
		t->replacing = true;
		t->prior_pos = t->pos;
		t->prior_npos = t->npos;
		t->prior_gen = t->gen;
	} else {
		free(t->pos);
	}
	t->start_failure[0] = '\0';
	t->npos = n;
	t->pos = xcalloc((size_t)n, sizeof(*t->pos));
	for (i = 0; i < n; i++) {
		t->pos[i].slot = -1;
		t->pos[i].restart_at_ms = 0;
	}
	t->gen = ++t->gen_seq;
	t->gen_ready_within_ms = ready_within_ms;
	t->gen_ready_by_ms = util_now_ms() + ready_within_ms;
	t->slot_shortage_logged = false;
	/* A reload's generation shows once it serves (generation_switch()). */
	if (!t->replacing)
		status_set_generation(t->status, t->gen);
	else
		make_room(t, n);
}

uint64_t
generation_tick(struct generation_table *t, uint64_t now)
{
	uint64_t wake = kill_overdue(t, now);
	int i;

	for (i = 0; i < t->npos; i++) {
		struct position *p = &t->pos[i];

		if (p->slot != -1)
			continue;
		if (p->restart_at_ms <= now)
			spawn_worker(t, i);
		else if (p->restart_at_ms < wake)
			wake = p->restart_at_ms;
	}
	return wake;
}

/* How many workers of the current generation have said READY. */
int
generation_count_ready(const struct generation_table *t)
{
	int i, ready = 0;

	for (i = 0; i < t->npos; i++)
		if (t->pos[i].slot != -1 && t->w[t->pos[i].slot].ready)
			ready++;
	return ready;
}

/*
 * Whether the current generation counts as up: at start, once every
 * worker is ready or START_READY_MS after the start once one is; on a
 * reload, only once every position is ready.
 */
bool
generation_ready(const struct generation_table *t, uint64_t now)
{
	int ready = generation_count_ready(t);

	if (ready == t->npos)
		return true;
	return !t->replacing && ready > 0 && now >= t->gen_ready_by_ms;
}

uint64_t
generation_ready_by(const struct generation_table *t)
{
	return t->gen_ready_by_ms;
}

const char *
generation_start_failure(struct generation_table *t, uint64_t now)
{
	if (!t->replacing)
		return NULL;
	if (t->start_failure[0] == '\0' && now >= t->gen_ready_by_ms)
		start_failed(t, "%d of %d workers ready after %d ms",
		    generation_count_ready(t), t->npos,
		    (int)t->gen_ready_within_ms);
	return t->start_failure[0] != '\0' ? t->start_failure : NULL;
}

void
generation_switch(struct generation_table *t, int drain_timeout_s)
{
	int i;

	for (i = 0; i < t->npos; i++)
		worker_accept(t, t->pos[i].slot);
	drain_old_generations(t, drain_timeout_s);
	free(t->prior_pos);
	t->prior_pos = NULL;
	t->replacing = false;
	status_set_generation(t->status, t->gen);
	status_count_reload(t->status);
}

int
generation_abandon(struct generation_table *t)
{
	uint64_t now = util_now_ms();
	int i, n = close_generation(t, t->gen);

	free(t->pos);
	t->pos = t->prior_pos;
	t->npos = t->prior_npos;
	t->gen = t->prior_gen;
	t->prior_pos = NULL;
	t->replacing = false;
	/* A worker of the running generation that died meanwhile. */
	for (i = 0; i < t->npos; i++) {
		int s = t->pos[i].slot;

		if (s != -1 && (t->w[s].pid == 0 || t->w[s].gen != t->gen ||
		    t->w[s].pos != i || t->w[s].draining)) {
			t->pos[i].slot = -1;
			t->pos[i].restart_at_ms = now;
		}
	}
	status_set_generation(t->status, t->gen);
	return n;
}

void
generation_stop(struct generation_table *t, int timeout_s)
{
	int k;

	t->stopping = true;
	free(t->prior_pos);
	t->prior_pos = NULL;
	t->replacing = false;
	for (k = 0; k < t->nslots; k++) {
		if (t->w[k].pid == 0)
			continue;
		tell_worker(t, k, WORKER_CTL_STOP, (uint32_t)timeout_s);
		t->w[k].draining = true;
		status_slot_set_state(t->status, k, STATUS_WORKER_STOPPING);
	}
}
