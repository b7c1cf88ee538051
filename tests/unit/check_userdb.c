/* SPDX-License-Identifier: ISC */
/*
 * check_userdb.c - unit tests for auth/userdb.c (suite "userdb"): the line
 * parser on good, bad and hostile lines, whole files (errors with line
 * numbers, duplicates, limits), the mode check, password verification in
 * every accepted crypt(3) form, CHAP keys, and the load time of a big
 * file.
 */
#include "config_auto.h"

#include <check.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chap_msg.h"
#include "userdb.h"
#include "unit_util.h"

#define MAX_REPORTS 64

static struct {
	char file[256];
	int line;
	char msg[512];
} reports[MAX_REPORTS];
static int n_reports;

static void
collect(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	ck_assert_msg(strchr(msg, '\n') == NULL, "multi-line message: %s", msg);
	if (n_reports < MAX_REPORTS) {
		snprintf(reports[n_reports].file, sizeof(reports[0].file), "%s",
		    file);
		reports[n_reports].line = line;
		snprintf(reports[n_reports].msg, sizeof(reports[0].msg), "%s",
		    msg);
	}
	n_reports++;
}

static struct userdb *
parse(const char *text)
{
	n_reports = 0;
	return userdb_parse("users", text, strlen(text), collect, NULL);
}

/* A syntactically valid hash (never verified in the parser tests). */
#define H "$y$j9T$abcdefghijklmnop$0123456789abcdefghijklmnopqrstuvwxyzABCDE"
#define KEY "{HMAC-MD5}0805643d5a1494b8aa04fb747377c29cf0948a6bae8125cc3e4de2eda44b8c54"

/* ------------------------------------------------------------------ */
/* Lines                                                                */

static int
line(const char *s, struct userdb_line *l, char *err)
{
	return userdb_parse_line(s, strlen(s), l, err, 256);
}

START_TEST(test_line_good)
{
	static const char *const hashes[] = {
		"$y$j9T$salt$hash", "$gy$j9T$salt$hash", "$7$CU..../....salt$h",
		"$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
		"$2a$05$x", "$2y$05$x", "$6$salt$hash",
		"$6$rounds=5000$salt$hash", "$5$salt$hash", "*", "!", "!$y$x$y",
	};
	struct userdb_line l;
	char err[256];
	size_t i;

	ck_assert_int_eq(line("alice:" H, &l, err), 0);
	ck_assert_int_eq(l.kind, USERDB_LINE_USER);
	ck_assert_uint_eq(l.name_len, 5);
	ck_assert_int_eq(memcmp(l.name, "alice", 5), 0);
	ck_assert_uint_eq(l.hash_len, strlen(H));
	ck_assert(!l.has_chap);
	ck_assert(!l.password_disabled);

	ck_assert_int_eq(line("bob:" H ":" KEY, &l, err), 0);
	ck_assert(l.has_chap);
	ck_assert_uint_eq(l.hash_len, strlen(H));
	/* An empty CHAP field is no CHAP field. */
	ck_assert_int_eq(line("bob:" H ":", &l, err), 0);
	ck_assert(!l.has_chap);

	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		char buf[256];

		snprintf(buf, sizeof(buf), "u:%s", hashes[i]);
		ck_assert_msg(line(buf, &l, err) == 0, "%s: %s", buf, err);
	}
	ck_assert_int_eq(line("u:*:" KEY, &l, err), 0);
	ck_assert(l.password_disabled);
	ck_assert(l.has_chap);
	ck_assert_int_eq(line("u:!$6$s$h", &l, err), 0);
	ck_assert(l.password_disabled);

	/* Names: UTF-8, punctuation, 255 bytes. */
	ck_assert_int_eq(line("j\xc3\xb6rg.o'neil@example.com:" H, &l, err), 0);
	{
		char buf[512];

		memset(buf, 'n', 255);
		snprintf(buf + 255, sizeof(buf) - 255, ":%s", H);
		ck_assert_int_eq(line(buf, &l, err), 0);
		ck_assert_uint_eq(l.name_len, 255);
	}
}
END_TEST

START_TEST(test_line_blank_comment)
{
	struct userdb_line l;
	char err[256];

	ck_assert_int_eq(line("", &l, err), 0);
	ck_assert_int_eq(l.kind, USERDB_LINE_BLANK);
	ck_assert_int_eq(line(" \t ", &l, err), 0);
	ck_assert_int_eq(l.kind, USERDB_LINE_BLANK);
	ck_assert_int_eq(line("# alice:" H, &l, err), 0);
	ck_assert_int_eq(l.kind, USERDB_LINE_COMMENT);
	ck_assert_int_eq(line("   #x", &l, err), 0);
	ck_assert_int_eq(l.kind, USERDB_LINE_COMMENT);
}
END_TEST

START_TEST(test_line_bad)
{
	static const struct {
		const char *text;
		const char *msg;	/* a substring of the message */
	} cases[] = {
		{ "alice", "want NAME:HASH" },
		{ ":" H, "empty user name" },
		{ "alice:", "empty password hash" },
		{ "al ice:" H, "spaces or control characters" },
		{ " alice:" H, "spaces or control characters" },
		{ "al\tice:" H, "spaces or control characters" },
		{ "al\x7fice:" H, "byte 0x7f" },
		{ "alice:" H "\r", "carriage return" },
		{ "alice:plaintext", "unsupported password hash \"plaint\"" },
		{ "alice:$1$salt$md5", "unsupported password hash" },
		{ "alice:$6$", "unsupported password hash" },
		{ "alice:xx$6$salt$h", "unsupported password hash" },
		{ "alice:$6$sa lt$h", "bad character 0x20" },
		{ "alice:$6$s\xffh", "bad character 0xff" },
		{ "alice:" H ":" KEY ":x", "too many" },
		{ "alice:" H ":0805643d", "must be {HMAC-MD5}" },
		{ "alice:" H ":{HMAC-MD5}0805", "64 hex digits (4 characters" },
		{ "alice:" H ":{HMAC-MD5}zz05643d5a1494b8aa04fb747377c29cf0948a"
		    "6bae8125cc3e4de2eda44b8c54", "64 hex digits" },
		{ "alice:" H ":{hmac-md5}0805643d5a1494b8aa04fb747377c29cf0948a"
		    "6bae8125cc3e4de2eda44b8c54", "must be {HMAC-MD5}" },
	};
	struct userdb_line l;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(line(cases[i].text, &l, err) == -1, "accepted: %s",
		    cases[i].text);
		ck_assert_msg(strstr(err, cases[i].msg) != NULL,
		    "%s: got \"%s\", want \"%s\"", cases[i].text, err,
		    cases[i].msg);
		ck_assert_msg(strchr(err, '\n') == NULL && strchr(err, '\r') ==
		    NULL, "raw newline in message");
	}
}
END_TEST

START_TEST(test_line_hostile)
{
	struct userdb_line l;
	char err[256], *big;
	size_t i;

	/* NUL bytes inside a line. */
	ck_assert_int_eq(userdb_parse_line("al\0ice:" H, 7 + strlen(H), &l,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "NUL byte in the line");
	/* A name of 256 bytes. */
	big = malloc(8192);
	ck_assert_ptr_nonnull(big);
	memset(big, 'n', 256);
	snprintf(big + 256, 8192 - 256, ":%s", H);
	ck_assert_int_eq(line(big, &l, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer than 255"));
	/* A very long line. */
	memset(big, 'x', 8191);
	big[8191] = '\0';
	big[3] = ':';
	ck_assert_int_eq(line(big, &l, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "line longer than"));
	/* A long hash (under the line limit). */
	memcpy(big, "u:$6$", 5);
	memset(big + 5, 'a', 600);
	big[605] = '\0';
	ck_assert_int_eq(line(big, &l, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "hash longer than"));
	/* Quoted bytes are printable whatever the line holds. */
	memcpy(big, "\x1b[31m\x07\xff\xfe", 9);
	memset(big + 9, 0x01, 100);
	big[109] = '\0';
	ck_assert_int_eq(line(big, &l, err), -1);
	for (i = 0; err[i] != '\0'; i++)
		ck_assert_msg((unsigned char)err[i] >= 0x20 &&
		    (unsigned char)err[i] < 0x7f, "raw byte 0x%02x in \"%s\"",
		    (unsigned char)err[i], err);
	free(big);
}
END_TEST

START_TEST(test_name_valid)
{
	char err[128];

	ck_assert(userdb_name_valid("alice", 5, err, sizeof(err)));
	ck_assert(!userdb_name_valid("", 0, err, sizeof(err)));
	ck_assert(!userdb_name_valid("#x", 2, err, sizeof(err)));
	ck_assert_str_eq(err, "a user name cannot start with '#'");
	ck_assert(!userdb_name_valid("a:b", 3, err, sizeof(err)));
	ck_assert_str_eq(err, "a user name cannot contain ':'");
	ck_assert(!userdb_name_valid("a\nb", 3, err, sizeof(err)));
}
END_TEST

START_TEST(test_format_line)
{
	struct chap_key k, *kp = &k;
	struct userdb_line l;
	char buf[512], err[256];
	size_t n;

	chap_key_from_secret(&k, (const uint8_t *)"s", 1);
	n = userdb_format_line(buf, sizeof(buf), "alice", H, kp);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(buf[n - 1], '\n');
	ck_assert_int_eq(userdb_parse_line(buf, n - 1, &l, err, sizeof(err)), 0);
	ck_assert(l.has_chap);
	ck_assert_int_eq(memcmp(&l.chap, &k, sizeof(k)), 0);
	ck_assert_uint_eq(userdb_format_line(buf, sizeof(buf), "bob", H, NULL),
	    4 + strlen(H) + 1);
	/* Too small; invalid fields. */
	ck_assert_uint_eq(userdb_format_line(buf, 10, "alice", H, NULL), 0);
	ck_assert_uint_eq(userdb_format_line(buf, sizeof(buf), "a:b", H, NULL),
	    0);
	ck_assert_uint_eq(userdb_format_line(buf, sizeof(buf), "alice",
	    "plain", NULL), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files                                                                */

START_TEST(test_file_good)
{
	struct userdb *db = parse(
	    "# sockeye users\n"
	    "\n"
	    "alice:" H "\n"
	    "  # indented comment\n"
	    "bob:" H ":" KEY "\n"
	    "carol:*:" KEY);		/* no final newline */
	const struct chap_key *k;
	struct chap_key want;

	ck_assert_msg(db != NULL, "%s", n_reports > 0 ? reports[0].msg : "");
	ck_assert_uint_eq(userdb_count(db), 3);
	ck_assert(userdb_has_user(db, "alice"));
	ck_assert(userdb_has_user(db, "carol"));
	ck_assert(!userdb_has_user(db, "Alice"));
	ck_assert(!userdb_has_user(db, "alic"));
	ck_assert(!userdb_has_user(db, ""));
	ck_assert_ptr_null(userdb_chap_key(db, "alice"));
	ck_assert_ptr_null(userdb_chap_key(db, "dave"));
	k = userdb_chap_key(db, "bob");
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(chap_key_parse(KEY + 10, 64, &want), 0);
	ck_assert_int_eq(memcmp(k, &want, sizeof(want)), 0);
	ck_assert_ptr_nonnull(userdb_chap_key(db, "carol"));
	userdb_free(db);

	/* Empty files are valid (nobody gets in). */
	db = parse("");
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(userdb_count(db), 0);
	ck_assert(!userdb_has_user(db, "alice"));
	ck_assert_int_eq(userdb_verify_password(db, "alice",
	    (const uint8_t *)"x", 1), USERDB_NO_USER);
	userdb_free(db);
	userdb_free(NULL);
}
END_TEST

START_TEST(test_file_errors)
{
	struct userdb *db = parse(
	    "alice:" H "\n"			/* 1 */
	    "bob\n"				/* 2 */
	    "# fine\n"				/* 3 */
	    "carol:$1$md5$x\n"			/* 4 */
	    "alice:" H "\n"			/* 5 */
	    "dave:" H "\r\n");			/* 6 */

	ck_assert_ptr_null(db);
	ck_assert_int_eq(n_reports, 4);
	ck_assert_str_eq(reports[0].file, "users");
	ck_assert_int_eq(reports[0].line, 2);
	ck_assert_int_eq(reports[1].line, 4);
	ck_assert_int_eq(reports[2].line, 6);
	ck_assert_int_eq(reports[3].line, 5);
	ck_assert_str_eq(reports[3].msg,
	    "user \"alice\" is already listed on line 1");
}
END_TEST

START_TEST(test_file_many_errors)
{
	char *text = malloc(100 * 8);
	struct userdb *db;
	size_t i, n = 0;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 100; i++)
		n += (size_t)sprintf(text + n, "bad%zu\n", i % 10);
	n_reports = 0;
	db = userdb_parse("users", text, n, collect, NULL);
	ck_assert_ptr_null(db);
	/* Capped: the first ones, then one line saying so. */
	ck_assert_int_eq(n_reports, USERDB_MAX_ERRORS);
	ck_assert_str_eq(reports[USERDB_MAX_ERRORS - 1].msg,
	    "too many errors; not reporting any more");
	free(text);
}
END_TEST

START_TEST(test_file_binary_garbage)
{
	unsigned char text[4096];
	struct userdb *db;
	unsigned seed = 12345;
	size_t i;

	for (i = 0; i < sizeof(text); i++) {
		seed = seed * 1103515245u + 12345u;
		text[i] = (unsigned char)(seed >> 16);
	}
	n_reports = 0;
	db = userdb_parse("users", (const char *)text, sizeof(text), collect,
	    NULL);
	ck_assert_ptr_null(db);
	ck_assert_int_gt(n_reports, 0);
}
END_TEST

/* Many users with colliding-looking names: every one is found. */
START_TEST(test_file_lookup_all)
{
	size_t n = 20000, i, len = 0, cap = n * 80;
	char *text = malloc(cap), name[32];
	struct userdb *db;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "u%zu:$5$s$h%zu\n",
		    i, i);
	n_reports = 0;
	db = userdb_parse("users", text, len, collect, NULL);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(userdb_count(db), n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "u%zu", i);
		ck_assert_msg(userdb_has_user(db, name), "lost %s", name);
	}
	ck_assert(!userdb_has_user(db, "u20000"));
	ck_assert(!userdb_has_user(db, "u"));
	userdb_free(db);
	free(text);
}
END_TEST

/*
 * Load time: 200 000 users from a real file well under the budget (one
 * million load in about a second on a laptop without sanitizers; see
 * the report in sockeye-passwd(8)).
 */
START_TEST(test_file_load_time)
{
	char path[] = "/tmp/check_userdb.XXXXXX";
	size_t n = 200000, i;
	struct timespec t0, t1;
	struct userdb *db;
	double secs;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < n; i++)
		fprintf(f, "user%07zu:%s%s\n", i, H, i % 2 ? ":" KEY : "");
	ck_assert_int_eq(fclose(f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n_reports = 0;
	db = userdb_load(path, true, getegid(), collect, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(path);
	ck_assert_msg(db != NULL, "%s", n_reports > 0 ? reports[0].msg : "");
	ck_assert_uint_eq(userdb_count(db), n);
	ck_assert(userdb_has_user(db, "user0199999"));
	ck_assert_ptr_nonnull(userdb_chap_key(db, "user0000001"));
	ck_assert_ptr_null(userdb_chap_key(db, "user0000002"));
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("loaded %zu users in %.3f s\n", n, secs);
	ck_assert_msg(secs < 10.0, "loading %zu users took %.1f s", n, secs);
	userdb_free(db);
}
END_TEST

START_TEST(test_load_errors)
{
	char dir[] = "/tmp/check_userdb.XXXXXX", path[300];
	struct userdb *db;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
	n_reports = 0;
	ck_assert_ptr_null(userdb_load(path, true, getegid(), collect, NULL));
	ck_assert_int_eq(n_reports, 1);
	ck_assert_int_eq(reports[0].line, 0);
	ck_assert_str_eq(reports[0].file, path);
	ck_assert_str_eq(reports[0].msg,
	    "cannot open the users file: No such file or directory");
	n_reports = 0;
	ck_assert_ptr_null(userdb_load(dir, true, getegid(), collect, NULL));
	ck_assert_str_eq(reports[0].msg, "the users file is not a regular file");

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "alice:%s\n", H);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0644), 0);
	n_reports = 0;
	ck_assert_ptr_null(userdb_load(path, true, getegid(), collect, NULL));
	ck_assert_int_eq(n_reports, 1);
	ck_assert_ptr_nonnull(strstr(reports[0].msg, "others can access "
	    "(mode 0644)"));
	/* Without the check (sockeye-passwd check) it loads. */
	db = userdb_load(path, false, getegid(), collect, NULL);
	ck_assert_ptr_nonnull(db);
	userdb_free(db);
	ck_assert_int_eq(chmod(path, 0640), 0);
	db = userdb_load(path, true, getegid(), collect, NULL);
	ck_assert_ptr_nonnull(db);
	userdb_free(db);
	n_reports = 0;
	ck_assert_ptr_null(userdb_load(path, true, getegid() + 1, collect,
	    NULL));
	ck_assert_ptr_nonnull(strstr(reports[0].msg, "not the daemon's group"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	db = userdb_load(path, true, getegid() + 1, collect, NULL);
	ck_assert_ptr_nonnull(db);
	userdb_free(db);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_check_mode)
{
	struct stat st;
	char err[256];

	memset(&st, 0, sizeof(st));
	st.st_gid = 42;
	st.st_mode = S_IFREG | 0600;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 7, err, sizeof(err)), 0);
	st.st_mode = S_IFREG | 0400;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 7, err, sizeof(err)), 0);
	st.st_mode = S_IFREG | 0640;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 42, err, sizeof(err)), 0);
	ck_assert_int_eq(userdb_check_mode(&st, 0, 7, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "refusing a users file readable by group 42, "
	    "which is not the daemon's group (7) (mode 0640); run chmod g-r "
	    "on it, or chgrp it to the daemon's group");
	st.st_mode = S_IFREG | 0660;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 42, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "its group can write"));
	st.st_mode = S_IFREG | 0604;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 42, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "others can access (mode 0604)"));
	st.st_mode = S_IFREG | 0602;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 42, err, sizeof(err)), -1);
	st.st_mode = S_IFDIR | 0700;
	ck_assert_int_eq(userdb_check_mode(&st, 0, 42, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "not a regular file");
}
END_TEST

/* The owner: root or the user sockeyed runs as, nobody else. */
START_TEST(test_check_owner)
{
	struct stat st;
	char err[256];

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 0;
	ck_assert_int_eq(userdb_check_mode(&st, 1000, 0, err, sizeof(err)), 0);
	st.st_uid = 1000;
	ck_assert_int_eq(userdb_check_mode(&st, 1000, 0, err, sizeof(err)), 0);
	st.st_uid = 65534;
	ck_assert_int_eq(userdb_check_mode(&st, 1000, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "refusing a users file owned by uid 65534, who "
	    "could rewrite it: it must belong to root or to the user sockeyed "
	    "runs as (uid 1000); chown it to one of them");
	ck_assert_int_eq(userdb_check_mode(&st, 0, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "owned by uid 65534"));
}
END_TEST

/* Its directories: StrictModes. */
START_TEST(test_check_dir)
{
	struct stat st;
	char err[256];

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | 0755;
	ck_assert_int_eq(userdb_check_dir("/etc/sockeye", &st, 0, err,
	    sizeof(err)), 0);
	st.st_mode = S_IFDIR | 0750;
	st.st_uid = 1000;
	ck_assert_int_eq(userdb_check_dir("/d", &st, 1000, err, sizeof(err)),
	    0);
	ck_assert_int_eq(userdb_check_dir("/d", &st, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "refusing the users file: its directory /d is "
	    "owned by uid 1000, who could replace it; it must belong to root "
	    "or to the user sockeyed runs as (uid 0)");
	st.st_uid = 0;
	st.st_mode = S_IFDIR | 0777;
	ck_assert_int_eq(userdb_check_dir("/d", &st, 0, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "refusing the users file: its directory /d is "
	    "writable by others (mode 0777), who could replace it; run chmod "
	    "go-w on the directory");
	st.st_mode = S_IFDIR | 0757;
	ck_assert_int_eq(userdb_check_dir("/d", &st, 0, err, sizeof(err)), -1);
	st.st_mode = S_IFDIR | 0775;
	ck_assert_int_eq(userdb_check_dir("/d", &st, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "writable by its group (mode 0775)"));
	/* Sticky: only an entry's owner may replace it (/tmp). */
	st.st_mode = S_IFDIR | 01777;
	ck_assert_int_eq(userdb_check_dir("/tmp", &st, 0, err, sizeof(err)),
	    0);
	st.st_mode = S_IFREG | 0755;
	ck_assert_int_eq(userdb_check_dir("/f", &st, 0, err, sizeof(err)), -1);
}
END_TEST

/* userdb_load() walks the real path: a world-writable directory fails. */
START_TEST(test_load_dir_writable)
{
	char dir[] = "/tmp/check_userdb.XXXXXX", sub[300], path[320];
	struct userdb *db;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/users", sub);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "alice:%s\n", H);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
	n_reports = 0;
	db = userdb_load(path, true, getegid(), collect, NULL);
	ck_assert_msg(db != NULL, "%s", n_reports > 0 ? reports[0].msg : "");
	userdb_free(db);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	n_reports = 0;
	ck_assert_ptr_null(userdb_load(path, true, getegid(), collect, NULL));
	ck_assert_int_eq(n_reports, 1);
	ck_assert_str_eq(reports[0].file, path);
	ck_assert_ptr_nonnull(strstr(reports[0].msg, "its directory"));
	ck_assert_ptr_nonnull(strstr(reports[0].msg, "writable by others"));
	/* Not checked for sockeye-passwd check. */
	db = userdb_load(path, false, getegid(), collect, NULL);
	ck_assert_ptr_nonnull(db);
	userdb_free(db);
	/* The sticky bit makes it safe again. */
	ck_assert_int_eq(chmod(sub, 01777), 0);
	db = userdb_load(path, true, getegid(), collect, NULL);
	ck_assert_ptr_nonnull(db);
	userdb_free(db);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Verification                                                         */

/* A hash of `pw` with the given crypt prefix and (cheap) cost. */
static char *
hash_with(const char *prefix, unsigned long cost, const char *pw)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char *setting = crypt_gensalt_ra(prefix, cost, NULL, 0), *out;
	const char *r;

	ck_assert_ptr_nonnull(cd);
	ck_assert_msg(setting != NULL, "no salt for %s", prefix);
	r = crypt_r(pw, setting, cd);
	ck_assert_msg(r != NULL && r[0] != '*', "crypt failed for %s", prefix);
	out = strdup(r);
	free(setting);
	free(cd);
	return out;
}

START_TEST(test_verify_forms)
{
	static const struct {
		const char *prefix;
		unsigned long cost;
	} forms[] = {
		{ "$y$", 1 }, { "$gy$", 1 }, { "$7$", 6 }, { "$2b$", 4 },
		{ "$6$", 1000 }, { "$5$", 1000 },
	};
	char text[4096], *locked;
	size_t i, n = 0;
	struct userdb *db;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char *h = hash_with(forms[i].prefix, forms[i].cost, "pw");

		n += (size_t)snprintf(text + n, sizeof(text) - n, "u%zu:%s\n",
		    i, h);
		free(h);
	}
	/* A locked user: "!" before a hash of the right password. */
	locked = hash_with("$5$", 1000, "pw");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "locked:!%s\n"
	    "nopw:*\n", locked);
	free(locked);
	ck_assert_uint_lt(n, sizeof(text));
	db = parse(text);
	ck_assert_msg(db != NULL, "%s", n_reports > 0 ? reports[0].msg : "");
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char name[8];

		snprintf(name, sizeof(name), "u%zu", i);
		ck_assert_msg(userdb_verify_password(db, name,
		    (const uint8_t *)"pw", 2) == USERDB_OK, "%s rejected",
		    forms[i].prefix);
		ck_assert_int_eq(userdb_verify_password(db, name,
		    (const uint8_t *)"pW", 2), USERDB_BAD_PASSWORD);
		ck_assert_int_eq(userdb_verify_password(db, name,
		    (const uint8_t *)"pw ", 3), USERDB_BAD_PASSWORD);
		ck_assert_int_eq(userdb_verify_password(db, name,
		    (const uint8_t *)"p", 1), USERDB_BAD_PASSWORD);
	}
	ck_assert_int_eq(userdb_verify_password(db, "nobody",
	    (const uint8_t *)"pw", 2), USERDB_NO_USER);
	ck_assert_int_eq(userdb_verify_password(db, "nopw",
	    (const uint8_t *)"pw", 2), USERDB_NO_PASSWORD);
	ck_assert_int_eq(userdb_verify_password(db, "locked",
	    (const uint8_t *)"pw", 2), USERDB_NO_PASSWORD);
	/* A NUL would make crypt see a prefix: never OK. */
	ck_assert_int_eq(userdb_verify_password(db, "u0",
	    (const uint8_t *)"pw\0x", 4), USERDB_BAD_PASSWORD);
	ck_assert_int_eq(userdb_verify_password(db, "u0",
	    (const uint8_t *)"", 0), USERDB_BAD_PASSWORD);
	ck_assert_str_eq(userdb_result_str(USERDB_OK), "ok");
	ck_assert_str_eq(userdb_result_str(USERDB_NO_USER), "unknown-user");
	ck_assert_str_eq(userdb_result_str(USERDB_BAD_PASSWORD),
	    "bad-password");
	ck_assert_str_eq(userdb_result_str(USERDB_NO_PASSWORD),
	    "password-login-disabled");
	userdb_free(db);
}
END_TEST

START_TEST(test_hash_password)
{
	char *h = userdb_hash_password((const uint8_t *)"s3cret", 6, 0);
	char line[512];
	struct userdb *db;

	ck_assert_ptr_nonnull(h);
	/* The system default (yescrypt on Debian) */
	ck_assert_msg(h[0] == '$', "%s", h);
	snprintf(line, sizeof(line), "alice:%s\n", h);
	db = parse(line);
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(userdb_verify_password(db, "alice",
	    (const uint8_t *)"s3cret", 6), USERDB_OK);
	ck_assert_int_eq(userdb_verify_password(db, "alice",
	    (const uint8_t *)"s3cre", 5), USERDB_BAD_PASSWORD);
	userdb_free(db);
	free(h);
	ck_assert_ptr_null(userdb_hash_password((const uint8_t *)"a\0b", 3, 0));
	ck_assert_ptr_null(userdb_hash_password((const uint8_t *)"", 0, 0));
}
END_TEST

static Suite *
userdb_suite(void)
{
	Suite *s = suite_create("userdb");
	TCase *tl = tcase_create("lines");
	TCase *tf = tcase_create("files");
	TCase *tv = tcase_create("verify");

	tcase_add_test(tl, test_line_good);
	tcase_add_test(tl, test_line_blank_comment);
	tcase_add_test(tl, test_line_bad);
	tcase_add_test(tl, test_line_hostile);
	tcase_add_test(tl, test_name_valid);
	tcase_add_test(tl, test_format_line);
	suite_add_tcase(s, tl);
	tcase_set_timeout(tf, 60);
	tcase_add_test(tf, test_file_good);
	tcase_add_test(tf, test_file_errors);
	tcase_add_test(tf, test_file_many_errors);
	tcase_add_test(tf, test_file_binary_garbage);
	tcase_add_test(tf, test_file_lookup_all);
	tcase_add_test(tf, test_file_load_time);
	tcase_add_test(tf, test_load_errors);
	tcase_add_test(tf, test_check_mode);
	tcase_add_test(tf, test_check_owner);
	tcase_add_test(tf, test_check_dir);
	tcase_add_test(tf, test_load_dir_writable);
	suite_add_tcase(s, tf);
	tcase_set_timeout(tv, 60);
	tcase_add_test(tv, test_verify_forms);
	tcase_add_test(tv, test_hash_password);
	suite_add_tcase(s, tv);
	return s;
}

int
main(void)
{
	return unit_run(userdb_suite(), NULL);
}
