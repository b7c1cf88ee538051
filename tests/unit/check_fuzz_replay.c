/* SPDX-License-Identifier: ISC */
/*
 * check_fuzz_replay.c - replay a fuzz corpus through a libFuzzer entry point.
 *
 * Generic on purpose: it knows nothing about the harness it is linked with
 * (fuzz_socks5.c today, other parsers' harnesses later), only the libFuzzer
 * entry point. Linked with a harness compiled WITHOUT -fsanitize=fuzzer, it
 * lets plain `make check` run every seed, so a regression that makes a seed
 * abort fails the build even where clang/libFuzzer is unavailable.
 *
 * The directory is $FUZZ_CORPUS_DIR, or "$srcdir/tests/fuzz/corpus/socks5"
 * (srcdir defaults to "."; automake exports it for VPATH builds). An empty
 * or missing directory is a failure, not a pass: a broken path must not
 * turn this into a test of nothing.
 */
#include "config_auto.h"

#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Other harnesses' replays compile this file again with their own corpus
 * and environment variable (-DDEFAULT_CORPUS=... -DCORPUS_ENV=...).
 */
#ifndef DEFAULT_CORPUS
#define DEFAULT_CORPUS	"tests/fuzz/corpus/socks5"
#endif
#ifndef CORPUS_ENV
#define CORPUS_ENV	"FUZZ_CORPUS_DIR"
#endif

/* Corpus inputs are small; anything bigger is a mistake in the tree. */
#define REPLAY_MAX_INPUT (1024 * 1024)

static void
corpus_dir(char *buf, size_t cap)
{
	const char *dir = getenv(CORPUS_ENV);
	const char *srcdir = getenv("srcdir");
	int n;

	if (dir != NULL && *dir != '\0')
		n = snprintf(buf, cap, "%s", dir);
	else
		n = snprintf(buf, cap, "%s/%s",
		    srcdir != NULL && *srcdir != '\0' ? srcdir : ".",
		    DEFAULT_CORPUS);
	ck_assert_msg(n > 0 && (size_t)n < cap, "corpus path too long");
}

/*
 * Read the whole file into a heap block of exactly its size, so ASan
 * reports a harness that reads past `size`. Returns the size.
 */
static size_t
read_input(const char *path, uint8_t **out)
{
	FILE *f;
	struct stat st;
	uint8_t *buf;
	size_t n;

	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
	ck_assert_msg(fstat(fileno(f), &st) == 0, "stat %s: %s", path,
	    strerror(errno));
	ck_assert_msg(st.st_size >= 0 && st.st_size <= REPLAY_MAX_INPUT,
	    "%s: bad size %lld", path, (long long)st.st_size);
	n = (size_t)st.st_size;
	/* malloc(0) may return NULL; keep a real block for empty inputs. */
	buf = malloc(n == 0 ? 1 : n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_msg(fread(buf, 1, n, f) == n, "short read on %s", path);
	fclose(f);
	*out = buf;
	return n;
}

START_TEST(replay_corpus)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t count = 0, bytes = 0, n;
	uint8_t *data;
	DIR *d;

	corpus_dir(dir, sizeof(dir));
	d = opendir(dir);
	ck_assert_msg(d != NULL, "corpus dir %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_msg((size_t)snprintf(path, sizeof(path), "%s/%s",
		    dir, de->d_name) < sizeof(path), "path too long");
		ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
		    strerror(errno));
		if (!S_ISREG(st.st_mode))
			continue;

		n = read_input(path, &data);
		/* The harness aborts on a failed invariant; its rc is 0. */
		ck_assert_msg(LLVMFuzzerTestOneInput(data, n) == 0,
		    "%s: harness returned non-zero", path);
		free(data);
		count++;
		bytes += n;
	}
	closedir(d);
	ck_assert_msg(count > 0, "corpus dir %s holds no files", dir);
	printf("replayed %zu inputs (%zu bytes) from %s\n", count, bytes,
	    dir);
}
END_TEST

/* libFuzzer always starts with the empty input; so do we. */
START_TEST(replay_empty_input)
{
	static const uint8_t none[1];

	ck_assert_int_eq(LLVMFuzzerTestOneInput(none, 0), 0);
}
END_TEST

static Suite *
fuzz_replay_suite(void)
{
	Suite *s = suite_create("fuzz_replay");
	TCase *tc = tcase_create("corpus");

	/* A big corpus under ASan can take a while. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, replay_empty_input);
	tcase_add_test(tc, replay_corpus);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(fuzz_replay_suite(), NULL);
}
