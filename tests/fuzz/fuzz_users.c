/* SPDX-License-Identifier: ISC */
/*
 * fuzz_users.c - libFuzzer harness for the users file (auth/userdb.c):
 * userdb_parse(), the path by which userdb_load() reads every file, and
 * userdb_parse_line(), which sockeye-passwd uses too.
 *
 * The input is the file's text. Each line is parsed on its own first;
 * then the whole file. Checks:
 *
 *  - a line: a user line's name is a valid name (userdb_name_valid()),
 *    its name and hash lie inside the line, in that order, and a line
 *    written back with userdb_format_line() parses to the same name,
 *    hash, flags and CHAP key; a refused line has a one-line message of
 *    printable ASCII (it reaches the admin's terminal and the log);
 *  - the file loads exactly when every line parses and no name is listed
 *    twice; then userdb_count() is the number of user lines, every user
 *    is found with its CHAP key (or none), and a name not listed is not;
 *  - reports: each names the file, has a line number in the file (0 for
 *    the whole file), is one line of printable ASCII, quotes no more
 *    than a few bytes of its line's password hash (from the first '$'
 *    after the name), and there are at most USERDB_MAX_ERRORS.
 *
 * No password is checked: crypt(3) at real costs would make every run
 * slow, and it is libcrypt's parser, not ours, that reads the hash.
 *
 * Failures abort(). Built without -fsanitize=fuzzer, check_fuzz_replay
 * runs the seed corpus (tests/fuzz/corpus/users) in `make check`.
 */
#include "config_auto.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap_msg.h"
#include "userdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define FILE_NAME	"fuzz-users"
/* Lines the harness keeps track of (a fuzz input has far fewer). */
#define LINES_MAX	2048
/* A message quoting this much of a line's hash gives too much away. */
#define HASH_QUOTE_MAX	20

/* Each line as userdb_parse_line() reads it alone. */
struct line {
	const char *p;
	size_t len;
	bool ok;
	struct userdb_line l;
};

struct reports {
	size_t n;
	const struct line *lines;	/* the file's, for the hash check */
	size_t n_lines;
};

static bool
printable_line(const char *msg)
{
	const unsigned char *p = (const unsigned char *)msg;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return false;
	return true;
}

static void
report(void *arg, const char *file, int line, const char *msg)
{
	struct reports *r = arg;

	r->n++;
	FUZZ_CHECK(r->n <= USERDB_MAX_ERRORS);
	FUZZ_CHECK(file != NULL && strcmp(file, FILE_NAME) == 0);
	FUZZ_CHECK(line >= 0 && (size_t)line <= r->n_lines);
	FUZZ_CHECK(msg != NULL && msg[0] != '\0');
	FUZZ_CHECK(printable_line(msg));
	/* A message about a line quotes a few bytes of its hash at most. */
	if (line >= 1) {
		const struct line *ln = &r->lines[line - 1];
		const char *colon = memchr(ln->p, ':', ln->len);
		const char *from = colon != NULL ? colon : ln->p;
		const char *h = memchr(from, '$', ln->len - (size_t)(from -
		    ln->p));
		size_t hl = h != NULL ? ln->len - (size_t)(h - ln->p) : 0;

		/*
		 * Unless the name before it has the same bytes (a name
		 * may be quoted, and "a$5$rounds=..." is a valid one).
		 */
		if (hl >= HASH_QUOTE_MAX && memmem(ln->p, (size_t)(h -
		    ln->p), h, HASH_QUOTE_MAX) == NULL)
			FUZZ_CHECK(memmem(msg, strlen(msg), h,
			    HASH_QUOTE_MAX) == NULL);
	}
}

/* One line alone: its fields, and what it reads back as. */
static void
check_line(struct line *ln)
{
	struct userdb_line again;
	char err[256], buf[USERDB_LINE_MAX + 2], name[USERDB_NAME_MAX + 1];
	char hash[USERDB_LINE_MAX + 1], e2[8];
	const struct userdb_line *l = &ln->l;
	size_t n;

	memset(err, 'Z', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	ln->ok = userdb_parse_line(ln->p, ln->len, &ln->l, err,
	    sizeof(err)) == 0;
	if (!ln->ok) {
		FUZZ_CHECK(err[0] != '\0' && err[0] != 'Z');
		FUZZ_CHECK(printable_line(err));
		return;
	}
	FUZZ_CHECK(l->kind == USERDB_LINE_BLANK ||
	    l->kind == USERDB_LINE_COMMENT || l->kind == USERDB_LINE_USER);
	if (l->kind != USERDB_LINE_USER)
		return;
	FUZZ_CHECK(l->name == ln->p);
	FUZZ_CHECK(userdb_name_valid(l->name, l->name_len, e2, sizeof(e2)));
	FUZZ_CHECK(l->hash == l->name + l->name_len + 1);
	FUZZ_CHECK(l->hash_len >= 1);
	FUZZ_CHECK(l->name_len + 1 + l->hash_len <= ln->len);
	FUZZ_CHECK(memchr(l->hash, ':', l->hash_len) == NULL);
	FUZZ_CHECK(l->password_disabled == (l->hash[0] == '*' ||
	    l->hash[0] == '!'));

	/* Written back (as sockeye-passwd would), it reads the same. */
	memcpy(name, l->name, l->name_len);
	name[l->name_len] = '\0';
	memcpy(hash, l->hash, l->hash_len);
	hash[l->hash_len] = '\0';
	n = userdb_format_line(buf, sizeof(buf), name, hash,
	    l->has_chap ? &l->chap : NULL);
	FUZZ_CHECK(n >= 2 && buf[n - 1] == '\n');
	FUZZ_CHECK(userdb_parse_line(buf, n - 1, &again, err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(again.kind == USERDB_LINE_USER);
	FUZZ_CHECK(again.name_len == l->name_len &&
	    memcmp(again.name, l->name, l->name_len) == 0);
	FUZZ_CHECK(again.hash_len == l->hash_len &&
	    memcmp(again.hash, l->hash, l->hash_len) == 0);
	FUZZ_CHECK(again.password_disabled == l->password_disabled);
	FUZZ_CHECK(again.has_chap == l->has_chap);
	if (l->has_chap)
		FUZZ_CHECK(memcmp(&again.chap, &l->chap, sizeof(l->chap)) == 0);
}

static bool
same_name(const struct userdb_line *a, const struct userdb_line *b)
{
	return a->name_len == b->name_len &&
	    memcmp(a->name, b->name, a->name_len) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct line lines[LINES_MAX];
	struct reports rep = { 0, NULL, 0 };
	char *text = malloc(size == 0 ? 1 : size);
	char name[USERDB_NAME_MAX + 2];
	size_t n = 0, off = 0, i, j, users = 0;
	bool all_ok = true, dup = false;
	struct userdb *db;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	/* The lines as userdb.c cuts them: at '\n', the last one unended. */
	while (off < size) {
		const char *nl = memchr(text + off, '\n', size - off);
		size_t len = nl != NULL ? (size_t)(nl - (text + off)) :
		    size - off;

		if (n == LINES_MAX) {
			free(text);
			return 0;	/* too many to follow: not worth it */
		}
		lines[n].p = text + off;
		lines[n].len = len;
		check_line(&lines[n]);
		all_ok = all_ok && lines[n].ok;
		if (lines[n].ok && lines[n].l.kind == USERDB_LINE_USER) {
			for (j = 0; j < n && !dup; j++)
				if (lines[j].ok &&
				    lines[j].l.kind == USERDB_LINE_USER &&
				    same_name(&lines[j].l, &lines[n].l))
					dup = true;
			users++;
		}
		n++;
		off += len + 1;
	}

	rep.lines = lines;
	rep.n_lines = n;
	db = userdb_parse(FILE_NAME, text, size, report, &rep);
	FUZZ_CHECK((db != NULL) == (all_ok && !dup));
	FUZZ_CHECK((db == NULL) == (rep.n > 0));
	if (db != NULL) {
		FUZZ_CHECK(userdb_count(db) == users);
		for (i = 0; i < n; i++) {
			const struct userdb_line *l = &lines[i].l;
			const struct chap_key *k;

			if (l->kind != USERDB_LINE_USER)
				continue;
			memcpy(name, l->name, l->name_len);
			name[l->name_len] = '\0';
			FUZZ_CHECK(userdb_has_user(db, name));
			k = userdb_chap_key(db, name);
			FUZZ_CHECK((k != NULL) == l->has_chap);
			if (k != NULL)
				FUZZ_CHECK(memcmp(k, &l->chap,
				    sizeof(*k)) == 0);
			/* One byte more is another name, unless listed. */
			if (l->name_len < USERDB_NAME_MAX) {
				bool listed = false;

				name[l->name_len] = 'x';
				name[l->name_len + 1] = '\0';
				for (j = 0; j < n && !listed; j++)
					listed = lines[j].l.kind ==
					    USERDB_LINE_USER &&
					    lines[j].l.name_len ==
					    l->name_len + 1 &&
					    memcmp(lines[j].l.name, name,
					    l->name_len + 1) == 0;
				FUZZ_CHECK(userdb_has_user(db, name) == listed);
			}
		}
		FUZZ_CHECK(!userdb_has_user(db, ""));
	}
	userdb_free(db);
	free(text);
	return 0;
}
