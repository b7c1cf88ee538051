/* SPDX-License-Identifier: ISC */
/*
 * passwd.c - sockeye-passwd: manage the users file of sockeyed.
 *
 *	sockeye-passwd [-f USERFILE] [-c COST] COMMAND
 *	    add [--chap] NAME | passwd [--chap] NAME | del NAME | list |
 *	    check NAME
 *
 * Passwords come from the terminal without echo (asked twice when set),
 * or as one line on stdin when stdin is not a terminal; never from argv.
 * Changes rewrite the file atomically: the new text goes to a temporary
 * file in the same directory, with the old file's mode and owner, which
 * is then renamed over it, all under an exclusive flock(2) of the old
 * file (re-checked after locking, because a rename by another writer
 * replaces the file we locked). Slow work (crypt) happens before the
 * lock is taken.
 *
 * The file format and the line parser are auth/userdb's, so what this
 * program writes is exactly what the daemon reads. Exit status: 0 done,
 * 1 refused or failed (with a message), 2 bad usage.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "chap_msg.h"
#include "userdb.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_USERS SYSCONFDIR "/sockeye/users"

static const char *progname = "sockeye-passwd";

struct users_file {
	const char *path;
	int fd;
	struct stat st;
	char *text;
	size_t len;
	bool created;
};

/* What we read, zeroed and freed on every way out (it holds hashes). */
static struct users_file *opened[2];

static void
forget_files(void)
{
	size_t i;

	for (i = 0; i < sizeof(opened) / sizeof(opened[0]); i++) {
		if (opened[i] == NULL || opened[i]->text == NULL)
			continue;
		explicit_bzero(opened[i]->text, opened[i]->len);
		free(opened[i]->text);
		opened[i]->text = NULL;
	}
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
    noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	forget_files();
	exit(1);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sockeye-passwd [-f USERFILE] [-c COST] COMMAND\n"
	    "commands:\n"
	    "  add [--chap] NAME     add a user (--chap: the password is also\n"
	    "                        the user's CHAP secret)\n"
	    "  passwd [--chap] NAME  change a user's password\n"
	    "  del NAME              remove a user\n"
	    "  list                  list the users and their methods\n"
	    "  check NAME            exit 0 if the password on stdin is right\n"
	    "options:\n"
	    "  -f USERFILE  the users file (default " DEFAULT_USERS ")\n"
	    "  -c COST      crypt cost for new hashes (default: the system's)\n"
	    "  -h           this help; -V the version\n"
	    "The password is read from the terminal without echo, or as one\n"
	    "line on stdin when stdin is not a terminal.\n");
}

/* ------------------------------------------------------------------ */
/* Reading a password                                                   */

static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

static void
restore_echo(void)
{
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		echo_off = 0;
	}
}

static void
restore_echo_and_die(int sig)
{
	restore_echo();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from fd 0 into buf (NUL-terminated); its length, or -1. */
static ssize_t
read_line(char *buf, size_t cap)
{
	size_t n = 0;
	bool toolong = false;

	for (;;) {
		char c;
		ssize_t r = read(STDIN_FILENO, &c, 1);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (n == 0 && !toolong)
				return -1;	/* EOF before any byte */
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			toolong = true;
	}
	buf[n] = '\0';
	if (toolong) {
		explicit_bzero(buf, cap);
		errno = E2BIG;
		return -2;
	}
	return (ssize_t)n;
}

static ssize_t
prompt_noecho(const char *prompt, char *buf, size_t cap)
{
	struct termios tio;
	ssize_t n;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		tio = saved_tio;
		tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tio.c_lflag |= ICANON;
		signal(SIGINT, restore_echo_and_die);
		signal(SIGTERM, restore_echo_and_die);
		signal(SIGHUP, restore_echo_and_die);
		signal(SIGTSTP, SIG_IGN);
		echo_off = 1;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
	}
	n = read_line(buf, cap);
	restore_echo();
	fputc('\n', stderr);
	return n;
}

/*
 * The password into buf (USERDB_PASSWORD_MAX + 2 bytes); returns its
 * length. `twice`: ask again on a terminal and compare.
 */
static size_t
get_password(const char *name, bool twice, char *buf, size_t cap)
{
	char again[USERDB_PASSWORD_MAX + 2], prompt[300];
	ssize_t n;

	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt), "Password for %s: ", name);
		n = prompt_noecho(prompt, buf, cap);
		if (n >= 0 && twice) {
			ssize_t m = prompt_noecho("Retype the password: ", again,
			    sizeof(again));

			if (m != n || strcmp(buf, again) != 0) {
				explicit_bzero(again, sizeof(again));
				explicit_bzero(buf, cap);
				die("the passwords do not match");
			}
			explicit_bzero(again, sizeof(again));
		}
	} else {
		n = read_line(buf, cap);
	}
	if (n == -2)
		die("password longer than %d bytes", USERDB_PASSWORD_MAX);
	if (n < 0)
		die("no password given (expected one line on stdin)");
	if (n == 0)
		die("empty password");
	if ((size_t)n > USERDB_PASSWORD_MAX)
		die("password longer than %d bytes", USERDB_PASSWORD_MAX);
	if (memchr(buf, '\0', (size_t)n) != NULL)
		die("the password contains a NUL byte");
	return (size_t)n;
}

/* ------------------------------------------------------------------ */
/* The file                                                             */

static void
read_all(struct users_file *f)
{
	size_t cap, got = 0;

	if (f->st.st_size < 0 || (unsigned long long)f->st.st_size >
	    (unsigned long long)INT32_MAX)
		die("%s: too large", f->path);
	cap = (size_t)f->st.st_size + 1;
	if ((f->text = malloc(cap)) == NULL)
		die("out of memory");
	opened[opened[0] == NULL || opened[0] == f ? 0 : 1] = f;
	for (;;) {
		ssize_t n;

		if (got + 1 >= cap) {
			char *t;

			cap *= 2;
			if ((t = realloc(f->text, cap)) == NULL)
				die("out of memory");
			f->text = t;
		}
		n = read(f->fd, f->text + got, cap - got - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("cannot read %s: %s", f->path, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	f->text[got] = '\0';
	f->len = got;
}

/*
 * Open (creating when `create`), lock exclusively and read. Loops when
 * the file was replaced between our open and our lock.
 */
static void
open_locked(struct users_file *f, bool create)
{
	for (;;) {
		struct stat now;
		int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;

		f->created = false;
		f->fd = open(f->path, flags);
		if (f->fd == -1 && errno == ENOENT && create) {
			f->fd = open(f->path, flags | O_CREAT | O_EXCL, 0600);
			if (f->fd == -1 && errno == EEXIST)
				continue;	/* someone else made it */
			if (f->fd != -1) {
				f->created = true;
				if (fchmod(f->fd, 0600) == -1)
					die("cannot chmod %s: %s", f->path,
					    strerror(errno));
			}
		}
		if (f->fd == -1)
			die("cannot open %s: %s", f->path, strerror(errno));
		if (flock(f->fd, LOCK_EX) == -1)
			die("cannot lock %s: %s", f->path, strerror(errno));
		if (fstat(f->fd, &f->st) == -1)
			die("cannot stat %s: %s", f->path, strerror(errno));
		if (!S_ISREG(f->st.st_mode))
			die("%s is not a regular file", f->path);
		if (stat(f->path, &now) == 0 && now.st_dev == f->st.st_dev &&
		    now.st_ino == f->st.st_ino)
			break;
		close(f->fd);	/* replaced meanwhile: lock the new one */
	}
	read_all(f);
}

static void
open_readonly(struct users_file *f)
{
	f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (f->fd == -1)
		die("cannot open %s: %s", f->path, strerror(errno));
	if (fstat(f->fd, &f->st) == -1)
		die("cannot stat %s: %s", f->path, strerror(errno));
	if (!S_ISREG(f->st.st_mode))
		die("%s is not a regular file", f->path);
	read_all(f);
}

/* The next line of text at *pos: start and length; false at the end. */
static bool
next_line(const struct users_file *f, size_t *pos, const char **line,
    size_t *len)
{
	const char *nl;

	if (*pos >= f->len)
		return false;
	*line = f->text + *pos;
	nl = memchr(*line, '\n', f->len - *pos);
	*len = nl != NULL ? (size_t)(nl - *line) : f->len - *pos;
	*pos += *len + (nl != NULL ? 1 : 0);
	return true;
}

/*
 * Check every line (we rewrite the file: refuse to touch a broken one)
 * and find NAME's line. Returns its offset and length, or false.
 */
static bool
find_user(const struct users_file *f, const char *name, size_t *off,
    size_t *span)
{
	size_t pos = 0, len, namelen = name != NULL ? strlen(name) : 0;
	const char *line;
	bool found = false;
	int lineno = 0;

	while (next_line(f, &pos, &line, &len)) {
		struct userdb_line l;
		char err[256];

		lineno++;
		if (userdb_parse_line(line, len, &l, err, sizeof(err)) == -1)
			die("%s:%d: %s (fix the file first)", f->path, lineno,
			    err);
		if (l.kind != USERDB_LINE_USER || name == NULL || found)
			continue;
		if (l.name_len == namelen && memcmp(l.name, name, namelen) == 0) {
			*off = (size_t)(line - f->text);
			*span = pos - *off;	/* with its newline */
			found = true;
		}
		explicit_bzero(&l.chap, sizeof(l.chap));
	}
	return found;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replace the file with head + mid + tail: a temporary file beside it
 * with the same mode and owner, fsync'd, renamed over it, the directory
 * fsync'd. Still under our lock of the old file.
 */
static void
rewrite(struct users_file *f, const char *head, size_t hlen,
    const char *mid, size_t mlen, const char *tail, size_t tlen)
{
	char tmp[4096], dir[4096];
	int fd, dfd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", f->path) >=
	    sizeof(tmp))
		die("%s: path too long", f->path);
	if ((fd = mkstemp(tmp)) == -1)
		die("cannot create a temporary file beside %s: %s", f->path,
		    strerror(errno));
	/* Owner first: a chown may clear set-id bits that chmod then sets. */
	if ((f->st.st_uid != geteuid() || f->st.st_gid != getegid()) &&
	    fchown(fd, f->st.st_uid, f->st.st_gid) == -1) {
		int e = errno;

		unlink(tmp);
		die("cannot give the new %s the owner %lu:%lu of the old one: "
		    "%s", f->path, (unsigned long)f->st.st_uid,
		    (unsigned long)f->st.st_gid, strerror(e));
	}
	if (fchmod(fd, f->created ? 0600 : f->st.st_mode & 07777) == -1 ||
	    write_all(fd, head, hlen) == -1 || write_all(fd, mid, mlen) == -1 ||
	    write_all(fd, tail, tlen) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		int e = errno;

		unlink(tmp);
		die("cannot write %s: %s", tmp, strerror(e));
	}
	if (rename(tmp, f->path) == -1) {
		int e = errno;

		unlink(tmp);
		die("cannot rename %s to %s: %s", tmp, f->path, strerror(e));
	}
	snprintf(dir, sizeof(dir), "%s", f->path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

/* "NAME:HASH[:{HMAC-MD5}KEY]\n" for a new password (slow: crypt). */
static char *
make_line(const char *name, bool chap, unsigned long cost)
{
	char pw[USERDB_PASSWORD_MAX + 2], *hash, *line;
	struct chap_key key;
	size_t len, cap;

	len = get_password(name, true, pw, sizeof(pw));
	if ((hash = userdb_hash_password((const uint8_t *)pw, len, cost)) ==
	    NULL) {
		explicit_bzero(pw, sizeof(pw));
		die("cannot hash the password%s: %s", cost != 0 ?
		    " (is the cost valid for the system's method?)" : "",
		    strerror(errno));
	}
	if (chap)
		chap_key_from_secret(&key, (const uint8_t *)pw, len);
	explicit_bzero(pw, sizeof(pw));
	cap = strlen(name) + strlen(hash) + 128;
	if ((line = malloc(cap)) == NULL)
		die("out of memory");
	if (userdb_format_line(line, cap, name, hash, chap ? &key : NULL) == 0)
		die("cannot format the entry for %s", name);
	explicit_bzero(&key, sizeof(key));
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return line;
}

static void
check_name(const char *name)
{
	char err[128];

	if (!userdb_name_valid(name, strlen(name), err, sizeof(err)))
		die("bad user name: %s", err);
}

static int
cmd_add_passwd(struct users_file *f, const char *name, bool chap, bool add,
    unsigned long cost)
{
	size_t off = 0, span = 0;
	char *line;

	check_name(name);
	/*
	 * A quick look first, so that "already exists" does not come after
	 * typing a password twice; the locked re-check below decides.
	 */
	if (access(f->path, F_OK) == 0) {
		static struct users_file peek;
		bool found;

		peek.path = f->path;
		open_readonly(&peek);
		found = find_user(&peek, name, &off, &span);
		close(peek.fd);
		explicit_bzero(peek.text, peek.len);
		free(peek.text);
		peek.text = NULL;
		if (add && found)
			die("user \"%s\" already exists in %s", name, f->path);
		if (!add && !found)
			die("no such user \"%s\" in %s", name, f->path);
	} else if (!add) {
		die("cannot open %s: %s", f->path, strerror(errno));
	}
	line = make_line(name, chap, cost);

	open_locked(f, add);
	if (find_user(f, name, &off, &span)) {
		if (add)
			die("user \"%s\" already exists in %s", name, f->path);
		rewrite(f, f->text, off, line, strlen(line), f->text + off + span,
		    f->len - off - span);
	} else {
		bool nl;

		if (!add)
			die("no such user \"%s\" in %s", name, f->path);
		nl = f->len > 0 && f->text[f->len - 1] != '\n';
		rewrite(f, f->text, f->len, "\n", nl ? 1 : 0, line,
		    strlen(line));
	}
	explicit_bzero(line, strlen(line));
	free(line);
	return 0;
}

static int
cmd_del(struct users_file *f, const char *name)
{
	size_t off = 0, span = 0;

	check_name(name);
	open_locked(f, false);
	if (!find_user(f, name, &off, &span))
		die("no such user \"%s\" in %s", name, f->path);
	rewrite(f, f->text, off, "", 0, f->text + off + span,
	    f->len - off - span);
	return 0;
}

static int
cmd_list(struct users_file *f)
{
	size_t pos = 0, len;
	const char *line;
	int lineno = 0;

	open_readonly(f);
	while (next_line(f, &pos, &line, &len)) {
		struct userdb_line l;
		char err[256];

		lineno++;
		if (userdb_parse_line(line, len, &l, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s:%d: %s\n", progname, f->path,
			    lineno, err);
			continue;
		}
		if (l.kind != USERDB_LINE_USER)
			continue;
		printf("%.*s\t%s%s%s\n", (int)l.name_len, l.name,
		    l.password_disabled ? "" : "password",
		    !l.password_disabled && l.has_chap ? "," : "",
		    l.has_chap ? "chap" : "");
		explicit_bzero(&l.chap, sizeof(l.chap));
	}
	return 0;
}

static void
report_stderr(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	if (line > 0)
		fprintf(stderr, "%s: %s:%d: %s\n", progname, file, line, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", progname, file, msg);
}

static int
cmd_check(const char *path, const char *name)
{
	char pw[USERDB_PASSWORD_MAX + 2];
	enum userdb_result r;
	struct userdb *db;
	size_t len;

	check_name(name);
	db = userdb_load(path, false, 0, report_stderr, NULL);
	if (db == NULL)
		exit(1);
	len = get_password(name, false, pw, sizeof(pw));
	r = userdb_verify_password(db, name, (const uint8_t *)pw, len);
	explicit_bzero(pw, sizeof(pw));
	userdb_free(db);
	switch (r) {
	case USERDB_OK:
		return 0;
	case USERDB_NO_USER:
		die("no such user \"%s\" in %s", name, path);
	case USERDB_NO_PASSWORD:
		die("password login is disabled for \"%s\"", name);
	case USERDB_BAD_PASSWORD:
		die("wrong password for \"%s\"", name);
	case USERDB_ERROR:
	/* Only PAM and the daemon's verifier give these. */
	case USERDB_ACCOUNT_EXPIRED:
	case USERDB_PASSWORD_EXPIRED:
	case USERDB_ACCOUNT_REFUSED:
	case USERDB_PAM_ERROR:
	case USERDB_TIMEOUT:
		break;
	}
	die("cannot check the password: crypt failed");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "cost", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct users_file f = { .path = DEFAULT_USERS, .fd = -1 };
	unsigned long cost = 0;
	const char *cmd, *name = NULL;
	bool chap = false;
	char *end;
	int ch, i;

	atexit(forget_files);
	/* Stop at the command: its own options follow it. */
	while ((ch = getopt_long(argc, argv, "+f:c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			f.path = optarg;
			break;
		case 'c':
			errno = 0;
			cost = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    optarg[0] == '-') {
				fprintf(stderr, "%s: bad cost '%s'\n", progname,
				    optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sockeye-passwd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--chap") == 0 &&
		    (strcmp(cmd, "add") == 0 || strcmp(cmd, "passwd") == 0)) {
			chap = true;
		} else if (strcmp(argv[i], "--") == 0 && i + 1 < argc &&
		    name == NULL) {
			name = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s: %s: unknown option '%s'\n",
			    progname, cmd, argv[i]);
			return 2;
		} else if (name == NULL) {
			name = argv[i];
		} else {
			fprintf(stderr, "%s: %s: unexpected argument '%s'\n",
			    progname, cmd, argv[i]);
			return 2;
		}
	}
	if (strcmp(cmd, "list") == 0) {
		if (name != NULL) {
			fprintf(stderr, "%s: list takes no argument\n", progname);
			return 2;
		}
		return cmd_list(&f);
	}
	if (strcmp(cmd, "add") != 0 && strcmp(cmd, "passwd") != 0 &&
	    strcmp(cmd, "del") != 0 && strcmp(cmd, "check") != 0) {
		fprintf(stderr, "%s: unknown command '%s'\n", progname, cmd);
		usage(stderr);
		return 2;
	}
	if (name == NULL) {
		fprintf(stderr, "%s: %s needs a user NAME\n", progname, cmd);
		return 2;
	}
	if (strcmp(cmd, "add") == 0)
		return cmd_add_passwd(&f, name, chap, true, cost);
	if (strcmp(cmd, "passwd") == 0)
		return cmd_add_passwd(&f, name, chap, false, cost);
	if (strcmp(cmd, "del") == 0)
		return cmd_del(&f, name);
	return cmd_check(f.path, name);
}
