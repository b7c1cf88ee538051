/* SPDX-License-Identifier: ISC */
/*
 * userdb.c - see userdb.h.
 *
 * Loading keeps one copy of the file in memory and points into it: a
 * million users is one read(2), one pass that cuts fields in place, and a
 * table of 20-byte entries indexed by an open-addressing hash (load
 * factor <= 1/2, keyed with a random seed so that nobody can aim names at
 * one probe chain). Nothing is malloc'd per user.
 */
#include "config_auto.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "text.h"
#include "userdb.h"
#include "util.h"

/* The file is held in memory with 32-bit offsets. */
#define USERDB_FILE_MAX ((size_t)1 << 31)

struct userdb_entry {
	uint32_t name_off;		/* into db->text, NUL-terminated */
	uint32_t hash_off;		/* into db->text, NUL-terminated */
	uint32_t chap;			/* index + 1 into db->chap, 0: none */
	uint32_t line;
	uint16_t hash_len;
	uint8_t name_len;		/* 1..255 */
	uint8_t disabled;		/* no password login */
};

struct userdb {
	char *text;			/* the file, fields cut with NULs */
	size_t text_len;
	struct userdb_entry *e;
	size_t n, cap_e;
	struct chap_key *chap;
	size_t n_chap, cap_chap;
	uint32_t *slot;			/* entry index + 1, 0: empty */
	size_t mask;			/* slots - 1 (a power of two) */
	uint64_t seed;
	char *dummy;			/* a hash setting for unknown users */
};

/* ------------------------------------------------------------------ */
/* Line syntax                                                          */

static void seterr(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

bool
userdb_name_valid(const char *name, size_t len, char *err, size_t errcap)
{
	size_t i;

	if (len == 0) {
		seterr(err, errcap, "empty user name");
		return false;
	}
	if (len > USERDB_NAME_MAX) {
		seterr(err, errcap, "user name longer than %d bytes",
		    USERDB_NAME_MAX);
		return false;
	}
	if (name[0] == '#') {
		seterr(err, errcap, "a user name cannot start with '#'");
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == ':') {
			seterr(err, errcap, "a user name cannot contain ':'");
			return false;
		}
		if (c <= 0x20 || c == 0x7f) {
			seterr(err, errcap, "a user name cannot contain "
			    "spaces or control characters (byte 0x%02x)", c);
			return false;
		}
	}
	return true;
}

/* The crypt(3) forms we accept; the rest is refused, not guessed at. */
static const char *const hash_prefixes[] = {
	"$y$", "$gy$", "$7$", "$2b$", "$2a$", "$2y$", "$6$", "$5$",
};

static bool
hash_valid(const char *h, size_t len, bool *disabled, char *err, size_t errcap)
{
	size_t i, p;

	*disabled = false;
	if (len == 1 && h[0] == '*') {
		*disabled = true;
		return true;
	}
	if (len >= 1 && h[0] == '!') {
		/* Locked, as passwd -l does: the rest is kept for unlocking. */
		*disabled = true;
		h++;
		len--;
		if (len == 0)
			return true;
	}
	if (len > USERDB_HASH_MAX) {
		seterr(err, errcap, "password hash longer than %d bytes",
		    USERDB_HASH_MAX);
		return false;
	}
	for (p = 0; p < sizeof(hash_prefixes) / sizeof(hash_prefixes[0]); p++)
		if (len > strlen(hash_prefixes[p]) &&
		    strncmp(h, hash_prefixes[p], strlen(hash_prefixes[p])) == 0)
			break;
	if (p == sizeof(hash_prefixes) / sizeof(hash_prefixes[0])) {
		char q[64];

		text_quote(q, sizeof(q), h, len < 6 ? len : 6);
		seterr(err, errcap, "unsupported password hash \"%s\" (want "
		    "yescrypt $y$, scrypt $7$, bcrypt $2b$, sha512crypt $6$ "
		    "or sha256crypt $5$, as sockeye-passwd writes)", q);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '/' ||
		    c == '$' || c == '=' || c == ',' || c == '-')) {
			seterr(err, errcap, "bad character 0x%02x in the "
			    "password hash", c);
			return false;
		}
	}
	return true;
}

int
userdb_parse_line(const char *line, size_t len, struct userdb_line *out,
    char *err, size_t errcap)
{
	const char *c1, *c2, *chap;
	size_t i, chap_len;

	memset(out, 0, sizeof(*out));
	if (len > USERDB_LINE_MAX) {
		seterr(err, errcap, "line longer than %d bytes",
		    USERDB_LINE_MAX);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		seterr(err, errcap, "NUL byte in the line");
		return -1;
	}
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	if (i == len) {
		out->kind = USERDB_LINE_BLANK;
		return 0;
	}
	if (line[i] == '#') {
		out->kind = USERDB_LINE_COMMENT;
		return 0;
	}
	if (line[len - 1] == '\r') {
		seterr(err, errcap, "carriage return at the end of the line "
		    "(DOS line endings?)");
		return -1;
	}
	out->kind = USERDB_LINE_USER;
	c1 = memchr(line, ':', len);
	if (c1 == NULL) {
		/*
		 * A few bytes name the line; more would copy a hash that lost
		 * its ':' ("alice$y$j9T$...") into the log (fuzz_users).
		 */
		char q[20];

		text_quote(q, sizeof(q), line, len);
		seterr(err, errcap, "want NAME:HASH or NAME:HASH:%sKEY, got "
		    "\"%s\"", USERDB_CHAP_PREFIX, q);
		return -1;
	}
	out->name = line;
	out->name_len = (size_t)(c1 - line);
	if (!userdb_name_valid(out->name, out->name_len, err, errcap))
		return -1;
	out->hash = c1 + 1;
	c2 = memchr(out->hash, ':', len - out->name_len - 1);
	out->hash_len = c2 != NULL ? (size_t)(c2 - out->hash) :
	    len - out->name_len - 1;
	if (out->hash_len == 0) {
		seterr(err, errcap, "empty password hash (use \"*\" for no "
		    "password login)");
		return -1;
	}
	if (!hash_valid(out->hash, out->hash_len, &out->password_disabled,
	    err, errcap))
		return -1;
	if (c2 == NULL)
		return 0;
	chap = c2 + 1;
	chap_len = (size_t)(line + len - chap);
	if (memchr(chap, ':', chap_len) != NULL) {
		seterr(err, errcap, "too many ':'-separated fields (want "
		    "NAME:HASH or NAME:HASH:%sKEY)", USERDB_CHAP_PREFIX);
		return -1;
	}
	if (chap_len == 0)
		return 0;	/* "NAME:HASH:" is "NAME:HASH" */
	if (chap_len < strlen(USERDB_CHAP_PREFIX) ||
	    memcmp(chap, USERDB_CHAP_PREFIX, strlen(USERDB_CHAP_PREFIX)) != 0) {
		seterr(err, errcap, "the CHAP field must be %s followed by "
		    "64 hex digits", USERDB_CHAP_PREFIX);
		return -1;
	}
	chap += strlen(USERDB_CHAP_PREFIX);
	chap_len -= strlen(USERDB_CHAP_PREFIX);
	if (chap_key_parse(chap, chap_len, &out->chap) == -1) {
		seterr(err, errcap, "the CHAP key must be 64 hex digits (%zu "
		    "characters found)", chap_len);
		return -1;
	}
	out->has_chap = true;
	return 0;
}

size_t
userdb_format_line(char *buf, size_t cap, const char *name, const char *hash,
    const struct chap_key *chap)
{
	char key[CHAP_KEY_STRLEN + 1];
	struct userdb_line check;
	char err[16];
	int n;

	if (chap != NULL)
		chap_key_format(chap, key);
	n = snprintf(buf, cap, "%s:%s%s%s\n", name, hash,
	    chap != NULL ? ":" USERDB_CHAP_PREFIX : "", chap != NULL ? key : "");
	OPENSSL_cleanse(key, sizeof(key));
	if (n < 0 || (size_t)n >= cap)
		return 0;
	/* Whatever we write must read back as the same entry. */
	if (userdb_parse_line(buf, (size_t)n - 1, &check, err, sizeof(err)) ==
	    -1 || check.kind != USERDB_LINE_USER ||
	    check.name_len != strlen(name) || check.has_chap != (chap != NULL)) {
		OPENSSL_cleanse(buf, (size_t)n);
		return 0;
	}
	OPENSSL_cleanse(&check, sizeof(check));
	return (size_t)n;
}

char *
userdb_hash_password(const uint8_t *pw, size_t len, unsigned long cost)
{
	char phrase[USERDB_PASSWORD_MAX + 1], *setting, *out = NULL;
	struct crypt_data *cd;
	const char *r;

	if (len == 0 || len > USERDB_PASSWORD_MAX ||
	    memchr(pw, '\0', len) != NULL) {
		errno = EINVAL;
		return NULL;
	}
	setting = crypt_gensalt_ra(NULL, cost, NULL, 0);
	if (setting == NULL)
		return NULL;
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		free(setting);
		return NULL;
	}
	memcpy(phrase, pw, len);
	phrase[len] = '\0';
	r = crypt_r(phrase, setting, cd);
	if (r != NULL && r[0] != '*')
		out = strdup(r);
	else
		errno = EINVAL;
	OPENSSL_cleanse(phrase, sizeof(phrase));
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	free(setting);
	return out;
}

int
userdb_check_mode(const struct stat *st, uid_t uid, gid_t daemon_gid,
    char *err, size_t errcap)
{
	unsigned mode = (unsigned)st->st_mode & 07777;

	if (!S_ISREG(st->st_mode)) {
		seterr(err, errcap, "not a regular file");
		return -1;
	}
	/* Its owner can rewrite it: that must be us or root. */
	if (st->st_uid != 0 && st->st_uid != uid) {
		seterr(err, errcap, "refusing a users file owned by uid %lu, "
		    "who could rewrite it: it must belong to root or to the "
		    "user sockeyed runs as (uid %lu); chown it to one of them",
		    (unsigned long)st->st_uid, (unsigned long)uid);
		return -1;
	}
	if (mode & (S_IROTH | S_IWOTH | S_IXOTH)) {
		seterr(err, errcap, "refusing a users file that others can "
		    "access (mode %04o): it holds password hashes and CHAP "
		    "keys; run chmod o-rwx on it", mode);
		return -1;
	}
	if (mode & S_IWGRP) {
		seterr(err, errcap, "refusing a users file that its group can "
		    "write (mode %04o); run chmod g-w on it", mode);
		return -1;
	}
	if ((mode & S_IRGRP) && st->st_gid != daemon_gid) {
		seterr(err, errcap, "refusing a users file readable by group "
		    "%lu, which is not the daemon's group (%lu) (mode %04o); "
		    "run chmod g-r on it, or chgrp it to the daemon's group",
		    (unsigned long)st->st_gid, (unsigned long)daemon_gid, mode);
		return -1;
	}
	return 0;
}

int
userdb_check_dir(const char *dir, const struct stat *st, uid_t uid,
    char *err, size_t errcap)
{
	unsigned mode = (unsigned)st->st_mode & 07777;

	if (!S_ISDIR(st->st_mode)) {
		seterr(err, errcap, "refusing the users file: %s is not a "
		    "directory", dir);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != uid) {
		seterr(err, errcap, "refusing the users file: its directory "
		    "%s is owned by uid %lu, who could replace it; it must "
		    "belong to root or to the user sockeyed runs as (uid %lu)",
		    dir, (unsigned long)st->st_uid, (unsigned long)uid);
		return -1;
	}
	/*
	 * In a sticky directory only an entry's owner (or the directory's,
	 * checked above) may rename or remove it, and the entries on the
	 * path are checked in turn: /tmp (1777) is fine.
	 */
	if ((mode & (S_IWGRP | S_IWOTH)) && !(mode & S_ISVTX)) {
		seterr(err, errcap, "refusing the users file: its directory "
		    "%s is writable by %s (mode %04o), who could replace it; "
		    "run chmod %s on the directory", dir,
		    mode & S_IWOTH ? "others" : "its group", mode,
		    mode & S_IWOTH ? "go-w" : "g-w");
		return -1;
	}
	return 0;
}

int
userdb_check_path(const char *path, uid_t uid, char *err, size_t errcap)
{
	char *real, *slash;
	struct stat st;
	int rc = 0;

	if ((real = realpath(path, NULL)) == NULL) {
		seterr(err, errcap, "cannot resolve the users file's path: %s",
		    strerror(errno));
		return -1;
	}
	/* Every directory from the file's own up to "/". */
	while (rc == 0 && (slash = strrchr(real, '/')) != NULL) {
		if (slash == real)
			slash[1] = '\0';
		else
			slash[0] = '\0';
		if (stat(real, &st) == -1) {
			seterr(err, errcap, "cannot stat %s: %s", real,
			    strerror(errno));
			rc = -1;
		} else {
			rc = userdb_check_dir(real, &st, uid, err, errcap);
		}
		if (slash == real)
			break;
	}
	free(real);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The table                                                            */

static uint64_t
name_hash(const struct userdb *db, const char *s, size_t len)
{
	/* the finaliser: every input bit reaches the low bits */
	return util_mix64(util_fnv1a64(db->seed ^ UTIL_FNV1A64_INIT, s, len));
}

static const struct userdb_entry *
lookup(const struct userdb *db, const char *name, size_t len)
{
	size_t i;

	if (db == NULL || db->n == 0 || len == 0 || len > USERDB_NAME_MAX)
		return NULL;
	for (i = name_hash(db, name, len) & db->mask; db->slot[i] != 0;
	    i = (i + 1) & db->mask) {
		const struct userdb_entry *e = &db->e[db->slot[i] - 1];

		if (e->name_len == len &&
		    memcmp(db->text + e->name_off, name, len) == 0)
			return e;
	}
	return NULL;
}

struct load_ctx {
	const char *file;
	userdb_report_fn report;
	void *arg;
	int errors;
};

static void
report(struct load_ctx *ctx, int line, const char *msg)
{
	ctx->errors++;
	if (ctx->errors < USERDB_MAX_ERRORS)
		ctx->report(ctx->arg, ctx->file, line, msg);
	else if (ctx->errors == USERDB_MAX_ERRORS)
		ctx->report(ctx->arg, ctx->file, line, "too many errors; "
		    "not reporting any more");
}

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap != 0 ? *cap * 2 : 1024;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
build_table(struct userdb *db, struct load_ctx *ctx)
{
	size_t nslots = 16, k;

	while (nslots < 2 * db->n)
		nslots *= 2;
	db->slot = calloc(nslots, sizeof(*db->slot));
	if (db->slot == NULL)
		return -1;
	db->mask = nslots - 1;
	for (k = 0; k < db->n; k++) {
		struct userdb_entry *e = &db->e[k];
		const char *name = db->text + e->name_off;
		size_t i;

		for (i = name_hash(db, name, e->name_len) & db->mask;
		    db->slot[i] != 0; i = (i + 1) & db->mask) {
			const struct userdb_entry *o = &db->e[db->slot[i] - 1];

			if (o->name_len == e->name_len &&
			    memcmp(db->text + o->name_off, name,
			    e->name_len) == 0) {
				char msg[160], q[64];

				text_quote(q, sizeof(q), name, e->name_len);
				snprintf(msg, sizeof(msg), "user \"%s\" is "
				    "already listed on line %u", q, o->line);
				report(ctx, (int)e->line, msg);
				break;
			}
		}
		if (db->slot[i] == 0)
			db->slot[i] = (uint32_t)(k + 1);
	}
	return 0;
}

static int
make_dummy(struct userdb *db)
{
	size_t k;

	/*
	 * Unknown users are checked against a real entry's hash, so they
	 * cost what a known user costs (same method, same parameters).
	 */
	for (k = 0; k < db->n; k++)
		if (!db->e[k].disabled) {
			db->dummy = strdup(db->text + db->e[k].hash_off);
			return db->dummy != NULL ? 0 : -1;
		}
	db->dummy = crypt_gensalt_ra(NULL, 0, NULL, 0);
	return db->dummy != NULL ? 0 : -1;
}

void
userdb_free(struct userdb *db)
{
	if (db == NULL)
		return;
	if (db->text != NULL) {
		OPENSSL_cleanse(db->text, db->text_len);
		free(db->text);
	}
	if (db->chap != NULL) {
		OPENSSL_cleanse(db->chap, db->n_chap * sizeof(*db->chap));
		free(db->chap);
	}
	free(db->e);
	free(db->slot);
	if (db->dummy != NULL) {
		OPENSSL_cleanse(db->dummy, strlen(db->dummy));
		free(db->dummy);
	}
	free(db);
}

/* Parse db->text (ours, NUL-terminated) in place. */
static struct userdb *
parse_text(struct userdb *db, struct load_ctx *ctx)
{
	/* text_len counts our terminating NUL, which is not file text. */
	char *p = db->text, *end = db->text + db->text_len - 1;
	unsigned lineno = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct userdb_line l;
		char err[256];

		lineno++;
		if (userdb_parse_line(p, len, &l, err, sizeof(err)) == -1) {
			report(ctx, (int)lineno, err);
		} else if (l.kind == USERDB_LINE_USER) {
			struct userdb_entry *e;

			if (grow((void **)&db->e, &db->cap_e, db->n + 1,
			    sizeof(*db->e)) == -1)
				goto oom;
			e = &db->e[db->n++];
			memset(e, 0, sizeof(*e));
			e->name_off = (uint32_t)(l.name - db->text);
			e->name_len = (uint8_t)l.name_len;
			e->hash_off = (uint32_t)(l.hash - db->text);
			e->hash_len = (uint16_t)l.hash_len;
			e->disabled = l.password_disabled;
			e->line = lineno;
			/* Cut the fields: name and hash become C strings. */
			p[l.name_len] = '\0';
			((char *)l.hash)[l.hash_len] = '\0';
			if (l.has_chap) {
				if (grow((void **)&db->chap, &db->cap_chap,
				    db->n_chap + 1, sizeof(*db->chap)) == -1)
					goto oom;
				db->chap[db->n_chap++] = l.chap;
				e->chap = (uint32_t)db->n_chap;
			}
			OPENSSL_cleanse(&l.chap, sizeof(l.chap));
		}
		p += len + 1;
	}
	if (getrandom(&db->seed, sizeof(db->seed), 0) != sizeof(db->seed))
		db->seed = (uint64_t)(uintptr_t)db ^ 0x9e3779b97f4a7c15ULL;
	if (build_table(db, ctx) == -1 || make_dummy(db) == -1)
		goto oom;
	if (ctx->errors > 0) {
		userdb_free(db);
		return NULL;
	}
	return db;
oom:
	report(ctx, 0, "out of memory");
	userdb_free(db);
	return NULL;
}

struct userdb *
userdb_parse(const char *file, const char *text, size_t len,
    userdb_report_fn rep, void *arg)
{
	struct load_ctx ctx = { file, rep, arg, 0 };
	struct userdb *db;

	if (len >= USERDB_FILE_MAX) {
		report(&ctx, 0, "file too large");
		return NULL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->text = malloc(len + 1)) == NULL) {
		free(db);
		report(&ctx, 0, "out of memory");
		return NULL;
	}
	memcpy(db->text, text, len);
	db->text[len] = '\0';
	db->text_len = len + 1;
	return parse_text(db, &ctx);
}

struct userdb *
userdb_load(const char *path, bool check_mode, gid_t daemon_gid,
    userdb_report_fn rep, void *arg)
{
	struct load_ctx ctx = { path, rep, arg, 0 };
	struct userdb *db;
	struct stat st;
	char msg[512];
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(msg, sizeof(msg), "cannot open the users file: %s",
		    strerror(errno));
		report(&ctx, 0, msg);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(msg, sizeof(msg), "cannot stat the users file: %s",
		    strerror(errno));
		report(&ctx, 0, msg);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		report(&ctx, 0, "the users file is not a regular file");
		close(fd);
		return NULL;
	}
	if (check_mode && (userdb_check_mode(&st, geteuid(), daemon_gid, msg,
	    sizeof(msg)) == -1 || userdb_check_path(path, geteuid(), msg,
	    sizeof(msg)) == -1)) {
		report(&ctx, 0, msg);
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size >= USERDB_FILE_MAX) {
		report(&ctx, 0, "the users file is too large");
		close(fd);
		return NULL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->text = malloc((size_t)st.st_size + 1)) == NULL) {
		free(db);
		close(fd);
		report(&ctx, 0, "out of memory");
		return NULL;
	}
	db->text_len = (size_t)st.st_size + 1;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, db->text + got, (size_t)st.st_size - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(msg, sizeof(msg), "cannot read the users "
			    "file: %s", n == 0 ? "file shrank while reading" :
			    strerror(errno));
			report(&ctx, 0, msg);
			close(fd);
			userdb_free(db);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	db->text[got] = '\0';
	return parse_text(db, &ctx);
}

size_t
userdb_count(const struct userdb *db)
{
	return db != NULL ? db->n : 0;
}

bool
userdb_has_user(const struct userdb *db, const char *name)
{
	return lookup(db, name, strlen(name)) != NULL;
}

const struct chap_key *
userdb_chap_key(const struct userdb *db, const char *name)
{
	const struct userdb_entry *e = lookup(db, name, strlen(name));

	if (e == NULL || e->chap == 0)
		return NULL;
	return &db->chap[e->chap - 1];
}

enum userdb_result
userdb_verify_password(const struct userdb *db, const char *name,
    const uint8_t *pw, size_t len)
{
	char phrase[USERDB_PASSWORD_MAX + 1];
	const struct userdb_entry *e;
	const char *setting, *want, *r;
	struct crypt_data *cd;
	enum userdb_result res;
	bool ok, failed;

	if (db == NULL)
		return USERDB_NO_USER;
	if (len == 0 || len > USERDB_PASSWORD_MAX ||
	    memchr(pw, '\0', len) != NULL)
		return USERDB_BAD_PASSWORD;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return USERDB_ERROR;
	e = lookup(db, name, strlen(name));
	want = e != NULL && !e->disabled ? db->text + e->hash_off : db->dummy;
	setting = want;
	memcpy(phrase, pw, len);
	phrase[len] = '\0';
	r = crypt_r(phrase, setting, cd);
	failed = r == NULL || r[0] == '*';
	ok = !failed && strlen(r) == strlen(want) &&
	    CRYPTO_memcmp(r, want, strlen(want)) == 0;
	/* r points into cd: not used after this. */
	OPENSSL_cleanse(phrase, sizeof(phrase));
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	if (e == NULL)
		res = USERDB_NO_USER;
	else if (e->disabled)
		res = USERDB_NO_PASSWORD;
	else if (failed)
		res = USERDB_ERROR;
	else
		res = ok ? USERDB_OK : USERDB_BAD_PASSWORD;
	return res;
}

const char *
userdb_result_str(enum userdb_result r)
{
	switch (r) {
	case USERDB_OK:
		return "ok";
	case USERDB_BAD_PASSWORD:
		return "bad-password";
	case USERDB_NO_USER:
		return "unknown-user";
	case USERDB_NO_PASSWORD:
		return "password-login-disabled";
	case USERDB_ERROR:
		return "verify-error";
	case USERDB_ACCOUNT_EXPIRED:
		return "account-expired";
	case USERDB_PASSWORD_EXPIRED:
		return "password-expired";
	case USERDB_ACCOUNT_REFUSED:
		return "account-refused";
	case USERDB_PAM_ERROR:
		return "pam-error";
	case USERDB_TIMEOUT:
		return "timeout";
	}
	return "unknown";
}
