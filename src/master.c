/*
 * master.c - see master.h.
 *
 * The master opens the listeners, forks the workers and then only
 * supervises: it restarts a worker that dies and turns signals into
 * actions. Signal handlers only set flags (OpenSSH's received_sighup);
 * the signals are blocked except inside ppoll(), so a flag set while the
 * loop is busy is seen on the next turn and never lost.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "quota.h"
#include "userdb.h"
#include "worker.h"

/* A worker that dies sooner than this after its start counts as crashing. */
#define QUICK_DEATH_MS 2000
/* Back-off for crashing workers: 100 ms doubling, capped. */
#define BACKOFF_BASE_MS 100
#define BACKOFF_MAX_MS 10000
/* After shutdown_timeout_s, how long workers get to log and exit. */
#define KILL_GRACE_MS 700

struct slot {
	pid_t pid;		/* 0: not running */
	uint64_t started_ms;
	int quick_deaths;	/* consecutive deaths soon after start */
	uint64_t restart_at_ms;	/* when pid == 0 and not stopping */
};

static volatile sig_atomic_t received_term;
static volatile sig_atomic_t received_hup;
static volatile sig_atomic_t received_usr1;
static volatile sig_atomic_t received_chld;

static const int handled_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };

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
	case SIGCHLD:
		received_chld = 1;
		break;
	}
}

struct master {
	struct config *cfg;
	struct userdb *db;		/* users file, or NULL */
	const struct master_options *opt;
	struct listener *ls;
	size_t nls;
	struct slot *slots;
	int nslots;
	uid_t uid;
	gid_t gid;
	int drop_privs;
	int stopping;
	uint64_t deadline_ms;
	int pid_file_written;
	struct quota *quota;	/* shared session counts, one slot per worker */
	sigset_t waitmask;	/* mask used inside ppoll: our signals open */
};

static int
resolve_user(struct master *m)
{
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(m->cfg->user)) == NULL) {
		error("%s: user \"%s\" does not exist (key 'user')",
		    m->cfg->file, m->cfg->user);
		return -1;
	}
	if ((gr = getgrnam(m->cfg->group)) == NULL) {
		error("%s: group \"%s\" does not exist (key 'group')",
		    m->cfg->file, m->cfg->group);
		return -1;
	}
	m->uid = pw->pw_uid;
	m->gid = gr->gr_gid;
	m->drop_privs = 1;
	return 0;
}

/* In a new worker: give up root for good before touching client traffic. */
static void
drop_privileges(const struct master *m)
{
	if (m->drop_privs) {
		if (setgroups(1, &m->gid) == -1 || setgid(m->gid) == -1 ||
		    setuid(m->uid) == -1)
			fatal("cannot drop privileges to %s:%s: %s",
			    m->cfg->user, m->cfg->group, strerror(errno));
		/* Paranoia: regaining root must be impossible now. */
		if (m->uid != 0 && setuid(0) != -1)
			fatal("privileges were not dropped");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
}

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
		 * SIGHUP and SIGUSR1 are never fatal to a worker, even before
		 * its loop installs its own handlers.
		 */
		sa.sa_handler = sig == SIGHUP || sig == SIGUSR1 ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
spawn_worker(struct master *m, int id)
{
	pid_t master_pid = getpid();
	struct slot *s = &m->slots[id];
	pid_t pid;

	pid = fork();
	if (pid == -1) {
		error("cannot fork worker %d: %s", id, strerror(errno));
		s->restart_at_ms = util_now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		char tag[32];
		int status;

		reset_signals_in_child();
		/* An orphaned worker drains and exits like on SIGTERM. */
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (getppid() != master_pid)
			_exit(0);
		snprintf(tag, sizeof(tag), "worker %d", id);
		log_set_tag(tag);
		drop_privileges(m);
		{
			struct worker_setup ws = {
				.cfg = m->cfg, .db = m->db, .ls = m->ls,
				.nls = m->nls, .slot = id, .generation = 1,
				.ctl_fd = -1, .quota = m->quota,
			};

			status = worker_run(&ws);
		}
		quota_free(m->quota);
		free(m->slots);
		free(m->ls);
		userdb_free(m->db);
		config_free(m->cfg);
		exit(status);
	}
	s->pid = pid;
	s->started_ms = util_now_ms();
	verbose("worker %d started (pid %ld)", id, (long)pid);
}

static void
reap_children(struct master *m)
{
	uint64_t now = util_now_ms();
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[64];

		for (i = 0; i < m->nslots; i++)
			if (m->slots[i].pid == pid)
				break;
		if (i == m->nslots)
			continue;
		m->slots[i].pid = 0;
		quota_clear_slot(m->quota, i);
		if (WIFSIGNALED(status))
			snprintf(how, sizeof(how), "killed by signal %d (%s)",
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(how, sizeof(how), "exited with status %d",
			    WEXITSTATUS(status));
		if (m->stopping) {
			verbose("worker %d (pid %ld) %s", i, (long)pid, how);
			continue;
		}
		/*
		 * Restart at once; only a worker that keeps dying right after
		 * its start is backed off, so a crash loop cannot spin.
		 */
		if (now - m->slots[i].started_ms < QUICK_DEATH_MS)
			m->slots[i].quick_deaths++;
		else
			m->slots[i].quick_deaths = 0;
		if (m->slots[i].quick_deaths <= 1) {
			m->slots[i].restart_at_ms = now;
			error("worker %d (pid %ld) %s; restarting", i, (long)pid, how);
		} else {
			uint64_t delay = BACKOFF_BASE_MS;
			int k;

			for (k = 2; k < m->slots[i].quick_deaths && delay < BACKOFF_MAX_MS; k++)
				delay *= 2;
			if (delay > BACKOFF_MAX_MS)
				delay = BACKOFF_MAX_MS;
			m->slots[i].restart_at_ms = now + delay;
			error("worker %d (pid %ld) %s; restarting in %llu ms "
			    "(%d quick deaths in a row)", i, (long)pid, how,
			    (unsigned long long)delay, m->slots[i].quick_deaths);
		}
	}
}

static int
running_workers(const struct master *m)
{
	int i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid != 0)
			n++;
	return n;
}

static void
signal_workers(const struct master *m, int sig)
{
	int i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid != 0)
			kill(m->slots[i].pid, sig);
}

static void
begin_stop(struct master *m)
{
	size_t i;

	m->stopping = 1;
	/* Workers end their own sessions at the timeout; this is the backstop. */
	m->deadline_ms = util_now_ms() +
	    (uint64_t)m->cfg->shutdown_timeout_s * 1000 + KILL_GRACE_MS;
	logit("stopping: draining sessions for up to %d s",
	    m->cfg->shutdown_timeout_s);
	/* The workers hold their own copies; they close them on SIGTERM. */
	for (i = 0; i < m->nls; i++)
		listener_close(&m->ls[i]);
	signal_workers(m, SIGTERM);
}

static int
check_pid_file(const struct master *m)
{
	char buf[32];
	ssize_t n;
	long pid;
	int fd;

	if ((fd = open(m->cfg->pid_file, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid > 0 && kill((pid_t)pid, 0) == 0) {
		error("%s names a running process (pid %ld): is sockeyed "
		    "already running?", m->cfg->pid_file, pid);
		return -1;
	}
	return 0;
}

static int
write_pid_file(struct master *m)
{
	char buf[32];
	int fd, n;

	fd = open(m->cfg->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		error("cannot write pid file %s: %s", m->cfg->pid_file,
		    strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		error("cannot write pid file %s: %s", m->cfg->pid_file,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	m->pid_file_written = 1;
	return 0;
}

static int
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if (chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		/* stderr stays only if it is where the log goes. */
		if (fd > 2)
			close(fd);
	}
	return 0;
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

/*
 * The log file belongs to the workers' user, so that workers, which no
 * longer have privileges, can reopen it after a rotation.
 */
static void
chown_log(const struct master *m)
{
	if (m->drop_privs && m->cfg->log.target == LOG_TARGET_FILE &&
	    chown(m->cfg->log.path, m->uid, m->gid) == -1)
		warning("cannot chown %s to %s:%s: %s", m->cfg->log.path,
		    m->cfg->user, m->cfg->group, strerror(errno));
}

static void
reopen_log(struct master *m)
{
	if (log_reopen() == -1) {
		error("cannot reopen the log file: %s", strerror(errno));
		return;
	}
	chown_log(m);
	signal_workers(m, SIGUSR1);
	logit("log file reopened");
}

static void
master_loop(struct master *m)
{
	for (;;) {
		uint64_t now, wake = UINT64_MAX;
		struct timespec ts, *tsp = NULL;
		int i;

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
			warning("SIGHUP: configuration reload is not available "
			    "in this version; restart sockeyed to apply changes");
		}
		if (received_usr1) {
			received_usr1 = 0;
			reopen_log(m);
		}

		now = util_now_ms();
		if (m->stopping) {
			if (running_workers(m) == 0)
				break;
			if (now >= m->deadline_ms) {
				logit("shutdown timeout reached: killing %d workers",
				    running_workers(m));
				signal_workers(m, SIGKILL);
				break;
			}
			wake = m->deadline_ms;
		} else {
			for (i = 0; i < m->nslots; i++) {
				struct slot *s = &m->slots[i];

				if (s->pid != 0)
					continue;
				if (s->restart_at_ms <= now)
					spawn_worker(m, i);
				else if (s->restart_at_ms < wake)
					wake = s->restart_at_ms;
			}
		}
		if (wake != UINT64_MAX) {
			uint64_t d = wake > now ? wake - now : 0;

			ts.tv_sec = (time_t)(d / 1000);
			ts.tv_nsec = (long)(d % 1000) * 1000000;
			tsp = &ts;
		}
		if (received_chld || received_term > (m->stopping ? 1 : 0) ||
		    received_hup || received_usr1)
			continue;
		ppoll(NULL, 0, tsp, &m->waitmask);
	}
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

int
master_run(struct config *cfg, struct userdb *db,
    const struct master_options *opt)
{
	struct master m = { .cfg = cfg, .db = db, .opt = opt };
	char err[512];
	size_t i;
	long n;

	if (log_init("sockeyed", cfg->log.target, cfg->log.path,
	    cfg->log.level) == -1) {
		fprintf(stderr, "sockeyed: cannot open log file %s: %s\n",
		    cfg->log.path, strerror(errno));
		userdb_free(db);
		config_free(cfg);
		return 1;
	}
	if (db != NULL)
		logit("users file %s: %zu users", cfg->auth.users_file,
		    userdb_count(db));
	if (resolve_user(&m) == -1)
		goto fail;
	chown_log(&m);
	if (!opt->foreground && check_pid_file(&m) == -1)
		goto fail;

	m.ls = xcalloc(cfg->n_listen, sizeof(*m.ls));
	for (i = 0; i < cfg->n_listen; i++) {
		if (listener_open(&m.ls[i], &cfg->listen[i].addr, err,
		    sizeof(err)) == -1) {
			error("%s:%d: %s", cfg->file, cfg->listen[i].line, err);
			goto fail;
		}
		m.nls++;
	}

	n = cfg->workers;
	if (n == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			n = 1;
	}
	m.nslots = (int)n;
	m.slots = xcalloc((size_t)m.nslots, sizeof(*m.slots));
	m.quota = quota_new(m.nslots, (size_t)cfg->limits.max_sessions);
	if (m.quota == NULL) {
		error("cannot map the session counters: %s", strerror(errno));
		goto fail;
	}

	if (!opt->foreground) {
		if (daemonize() == -1) {
			error("cannot become a daemon: %s", strerror(errno));
			goto fail;
		}
		if (write_pid_file(&m) == -1)
			goto fail;
	}

	setup_signals(&m);
	for (i = 0; i < (size_t)m.nslots; i++)
		spawn_worker(&m, (int)i);
	if (opt->port_file != NULL &&
	    listener_write_ports(m.ls, m.nls, opt->port_file) == -1)
		error("cannot write %s: %s", opt->port_file, strerror(errno));
	for (i = 0; i < m.nls; i++) {
		char as[SOCKADDR_STRLEN];

		logit("listening on %s", sockaddr_format(&m.ls[i].addr.sa,
		    as, sizeof(as)));
	}
	logit("sockeyed %s started with %d workers", PACKAGE_VERSION, m.nslots);

	master_loop(&m);

	logit("stopped");
	if (m.pid_file_written)
		unlink(cfg->pid_file);
	for (i = 0; i < m.nls; i++)
		listener_close(&m.ls[i]);
	free(m.ls);
	free(m.slots);
	quota_free(m.quota);
	userdb_free(db);
	config_free(cfg);
	return 0;

fail:
	for (i = 0; i < m.nls; i++)
		listener_close(&m.ls[i]);
	free(m.ls);
	free(m.slots);
	quota_free(m.quota);
	userdb_free(db);
	config_free(cfg);
	return 1;
}
