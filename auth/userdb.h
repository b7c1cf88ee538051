/* SPDX-License-Identifier: ISC */
/*
 * userdb.h - the users file: format, loading, lookup, verification.
 *
 * The file is text, one entry a line (documented in sockeye-passwd(8)):
 *
 *	# comment                     (also blank lines)
 *	NAME:HASH                     password login only
 *	NAME:HASH:{HMAC-MD5}KEY       password login and CHAP
 *
 * NAME is 1..255 bytes with no ':', no whitespace, no control character
 * and no leading '#'. HASH is a crypt(3) string ($y$ yescrypt, $gy$,
 * $7$ scrypt, $2b$/$2a$/$2y$ bcrypt, $6$ sha512crypt, $5$ sha256crypt),
 * or "*" or a "!"-prefixed string for "no password login". KEY is 64 hex
 * digits: the HMAC-MD5 inner and outer MD5 states of the CHAP secret
 * (chap_key_format()).
 *
 * A loaded userdb is immutable and safe to share between threads. Lookup
 * is O(1) (a keyed open-addressing hash table over the file's own bytes).
 */
#ifndef SOCKEYE_USERDB_H
#define SOCKEYE_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "chap_msg.h"

#define USERDB_NAME_MAX 255
#define USERDB_PASSWORD_MAX 255
#define USERDB_HASH_MAX 512
#define USERDB_LINE_MAX 1024
#define USERDB_CHAP_PREFIX "{HMAC-MD5}"
/* Stop reporting after this many errors in one file. */
#define USERDB_MAX_ERRORS 20

struct userdb;

/* Errors as (file, line, message); line 0 when no line applies. */
typedef void (*userdb_report_fn)(void *arg, const char *file, int line,
    const char *msg);

enum userdb_line_kind {
	USERDB_LINE_BLANK = 0,		/* empty, or only spaces and tabs */
	USERDB_LINE_COMMENT,		/* first non-blank character '#' */
	USERDB_LINE_USER,
};

/* One parsed line; name and hash point into the line. */
struct userdb_line {
	enum userdb_line_kind kind;
	const char *name;
	size_t name_len;
	const char *hash;
	size_t hash_len;
	bool password_disabled;		/* hash is "*" or starts with "!" */
	bool has_chap;
	struct chap_key chap;
};

/*
 * Parse one line (without its newline). Pure. Returns 0, or -1 with a
 * one-line message in `err` (which quotes no more than a few bytes of the
 * line, with unprintable bytes as '?').
 */
int userdb_parse_line(const char *line, size_t len, struct userdb_line *out,
    char *err, size_t errcap);

/* Whether `name` (len bytes) may be a user name; else a message. */
bool userdb_name_valid(const char *name, size_t len, char *err,
    size_t errcap);

/*
 * Write the line "NAME:HASH[:{HMAC-MD5}KEY]\n" into buf. Returns its
 * length, or 0 when it does not fit or a field is invalid.
 */
size_t userdb_format_line(char *buf, size_t cap, const char *name,
    const char *hash, const struct chap_key *chap);

/*
 * Hash a password with crypt_gensalt_ra(NULL, cost, ...): the system's
 * default method (yescrypt on Debian); cost 0 is its default cost.
 * BLOCKS (that is the point of crypt). Returns a malloc'd string, or
 * NULL with errno set. The password must hold no NUL.
 */
char *userdb_hash_password(const uint8_t *pw, size_t len, unsigned long cost);

/*
 * The users file (as fstat(2) saw it) must be a regular file owned by root
 * or by `uid` (the user sockeyed runs as), and may be read by its owner
 * and by the daemon's group, nobody else: others must have no access, and
 * group access is allowed only for `daemon_gid` and never for writing.
 * Pure. 0, or -1 with the reason in `err`.
 */
int userdb_check_mode(const struct stat *st, uid_t uid, gid_t daemon_gid,
    char *err, size_t errcap);

/*
 * One directory on the users file's path (`dir` names it in `err`): it
 * must be owned by root or `uid`, and writable by neither its group nor
 * others unless it has the sticky bit (then only an entry's owner may
 * replace the entry: /tmp is fine). OpenSSH's StrictModes. Pure. 0 or -1.
 */
int userdb_check_dir(const char *dir, const struct stat *st, uid_t uid,
    char *err, size_t errcap);

/*
 * userdb_check_dir() on every directory of realpath(path), from the
 * file's own up to "/". BLOCKS (stat). 0, or -1 with the reason in `err`.
 */
int userdb_check_path(const char *path, uid_t uid, char *err, size_t errcap);

/*
 * Load `path`: open, check it (when `check_mode`: userdb_check_mode()
 * and userdb_check_path() with geteuid()), read, parse.
 * Reports every error (up to USERDB_MAX_ERRORS) and returns NULL if there
 * was any. BLOCKS (file I/O): master and tools only.
 */
struct userdb *userdb_load(const char *path, bool check_mode, gid_t daemon_gid,
    userdb_report_fn report, void *arg);

/* Parse `len` bytes of file text (copied); `file` names it in reports. */
struct userdb *userdb_parse(const char *file, const char *text, size_t len,
    userdb_report_fn report, void *arg);

/* How many users. */
size_t userdb_count(const struct userdb *db);

/* Whether `name` is listed. */
bool userdb_has_user(const struct userdb *db, const char *name);

/*
 * A password check's verdict. The users file gives the first five; the
 * others come from a PAM stack (auth/pam.h) and from the verifier
 * (verifier.h), each a reason of its own in the log.
 */
enum userdb_result {
	USERDB_OK = 0,
	USERDB_BAD_PASSWORD,
	USERDB_NO_USER,			/* not listed */
	USERDB_NO_PASSWORD,		/* listed, password login disabled */
	USERDB_ERROR,			/* crypt failed, out of memory */
	USERDB_ACCOUNT_EXPIRED,		/* PAM: the account has expired */
	USERDB_PASSWORD_EXPIRED,	/* PAM: right, but must be changed */
	USERDB_ACCOUNT_REFUSED,		/* PAM: the account phase said no */
	USERDB_PAM_ERROR,		/* PAM: the stack failed (see its log) */
	USERDB_TIMEOUT,			/* no answer within the verifier's bound */
};

/*
 * Check a password. Runs crypt(3) even for unknown users (against a hash
 * with the cost of a real entry) so the time does not tell whether a
 * name exists, and compares in constant time. BLOCKS for as long as the
 * hash's cost says: call it off the event loop. Thread-safe.
 */
enum userdb_result userdb_verify_password(const struct userdb *db,
    const char *name, const uint8_t *pw, size_t len);

/* "ok", "bad-password", "unknown-user", ... ; never NULL. */
const char *userdb_result_str(enum userdb_result r);

/* The user's CHAP key, or NULL (unknown user, or no CHAP secret). */
const struct chap_key *userdb_chap_key(const struct userdb *db,
    const char *name);

/* Free, zeroing the hashes and keys. userdb_free(NULL) is a no-op. */
void userdb_free(struct userdb *db);

#endif
