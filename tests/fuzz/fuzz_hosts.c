/* SPDX-License-Identifier: ISC */
/*
 * fuzz_hosts.c - libFuzzer harness for the hosts file parser
 * (src/hosts.c: hosts_parse(), then hosts_lookup()).
 *
 * The input is the file's text. A model reads it the way hosts.h says
 * (a line is an address and its names, '#' starts a comment, a line whose
 * address does not parse is passed over, names match without regard to
 * ASCII case and to one trailing dot, a name's addresses come in the
 * file's order) and the harness checks that:
 *
 *  - hosts_count() is the number of name-address pairs the model finds;
 *  - every name of the file, looked up as written, upper-cased, with and
 *    without its trailing dot (one only is ignored: "a.." is "a."), gives
 *    exactly the model's addresses of each family, in the file's order,
 *    cut at `max`;
 *  - a name that is not in the file gives nothing.
 *
 * The text is parsed from a heap block of its exact size, so ASan
 * catches a read past its end. Failures abort(). Built without
 * -fsanitize=fuzzer, check_fuzz_replay runs the seed corpus
 * (tests/fuzz/corpus/hosts) in `make check`.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do {						\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* Names the model keeps (a fuzz input has far fewer). */
#define MODEL_MAX	4096
/* Names looked up per input: the lookups are the slow part. */
#define LOOKUPS_MAX	64
/* What hosts.c keeps: names of at most 253 bytes, addresses under 64. */
#define NAME_MAX_LEN	253
#define ADDR_MAX_LEN	63

struct pair {
	const char *name;		/* into the text */
	size_t len;			/* without one trailing dot */
	size_t wlen;			/* as written */
	union sockaddr_any addr;
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static bool
model_addr(const char *w, size_t len, union sockaddr_any *a)
{
	char buf[ADDR_MAX_LEN + 1];

	if (len == 0 || len > ADDR_MAX_LEN)
		return false;
	memcpy(buf, w, len);
	buf[len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->sin.sin_addr) == 1) {
		a->sin.sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, &a->sin6.sin6_addr) == 1) {
		a->sin6.sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* The file's name-address pairs in order; how many (all of them). */
static size_t
model(const char *text, size_t len, struct pair *out, size_t cap,
    bool *overflow)
{
	const char *p = text, *end = text + len;
	size_t n = 0;

	*overflow = false;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *hash, *w, *we;
		union sockaddr_any addr;

		if (eol == NULL)
			eol = end;
		hash = memchr(p, '#', (size_t)(eol - p));
		w = p;
		p = eol < end ? eol + 1 : end;
		if (hash != NULL)
			eol = hash;
		while (w < eol && is_space(*w))
			w++;
		for (we = w; we < eol && !is_space(*we); we++)
			;
		if (!model_addr(w, (size_t)(we - w), &addr))
			continue;
		for (;;) {
			size_t nl;

			for (w = we; w < eol && is_space(*w); w++)
				;
			if (w == eol)
				break;
			for (we = w; we < eol && !is_space(*we); we++)
				;
			nl = (size_t)(we - w);
			if (nl > 0 && w[nl - 1] == '.')
				nl--;
			/* A name has no NUL: it could never be looked up. */
			if (nl == 0 || nl > NAME_MAX_LEN ||
			    memchr(w, '\0', nl) != NULL)
				continue;
			if (n < cap) {
				out[n].name = w;
				out[n].len = nl;
				out[n].wlen = (size_t)(we - w);
				out[n].addr = addr;
			} else {
				*overflow = true;
			}
			n++;
		}
	}
	return n;
}

static bool
same_addr(const union sockaddr_any *a, const union sockaddr_any *b)
{
	return sockaddr_equal(&a->sa, &b->sa);
}

/*
 * Look `key` up for each family and compare with the model's addresses:
 * those of the names equal to it without one trailing dot.
 */
static void
check_lookup(const struct hosts *h, const struct pair *pairs, size_t n,
    const char *key)
{
	static const int families[] = { AF_INET, AF_INET6 };
	union sockaddr_any got[8], want[8];
	size_t f, i, k, nw, ng, nlen = strlen(key);
	const char *name = key;

	if (nlen > 0 && key[nlen - 1] == '.')
		nlen--;
	/* Too long or empty: no name, and nothing found. */
	if (nlen == 0 || nlen > NAME_MAX_LEN)
		n = 0;

	for (f = 0; f < 2; f++) {
		size_t max = f == 0 ? 8 : 3;	/* also a short `max` */

		nw = 0;
		for (i = 0; i < n && nw < max; i++)
			if (pairs[i].addr.sa.sa_family == families[f] &&
			    same_name(pairs[i].name, pairs[i].len, name, nlen))
				want[nw++] = pairs[i].addr;
		memset(got, 0xa5, sizeof(got));
		ng = hosts_lookup(h, key, families[f], got, max);
		FUZZ_CHECK(ng == nw);
		for (k = 0; k < ng; k++) {
			FUZZ_CHECK(got[k].sa.sa_family == families[f]);
			FUZZ_CHECK(sockaddr_port(&got[k].sa) == 0);
			FUZZ_CHECK(same_addr(&got[k], &want[k]));
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pair pairs[MODEL_MAX];
	char *text = malloc(size == 0 ? 1 : size);
	char key[NAME_MAX_LEN + 3];
	struct hosts *h;
	bool overflow;
	size_t n, i, looked = 0;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	h = hosts_parse(text, size);
	FUZZ_CHECK(h != NULL);
	n = model(text, size, pairs, MODEL_MAX, &overflow);
	FUZZ_CHECK(hosts_count(h) == n);
	if (overflow)
		n = MODEL_MAX;

	for (i = 0; i < n && looked < LOOKUPS_MAX; i++) {
		const struct pair *p = &pairs[i];
		size_t j;

		/* Each name once: the first time it appears. */
		for (j = 0; j < i; j++)
			if (same_name(pairs[j].name, pairs[j].len, p->name,
			    p->len))
				break;
		if (j < i)
			continue;
		looked++;
		/* As written, with its trailing dot if it has one. */
		memcpy(key, p->name, p->wlen);
		key[p->wlen] = '\0';
		check_lookup(h, pairs, n, key);
		/* With a trailing dot; without, unless that leaves another. */
		memcpy(key, p->name, p->len);
		key[p->len] = '.';
		key[p->len + 1] = '\0';
		check_lookup(h, pairs, n, key);
		if (p->name[p->len - 1] != '.') {
			key[p->len] = '\0';
			check_lookup(h, pairs, n, key);
		}
		/* In upper case. */
		memcpy(key, p->name, p->wlen);
		key[p->wlen] = '\0';
		for (j = 0; j < p->wlen; j++)
			key[j] = key[j] >= 'a' && key[j] <= 'z' ?
			    (char)(key[j] - 'a' + 'A') : key[j];
		check_lookup(h, pairs, n, key);
		/* A longer name that the file may not have. */
		memcpy(key, p->name, p->len);
		key[p->len] = 'q';
		key[p->len + 1] = '\0';
		check_lookup(h, pairs, n, key);
	}
	/* Names that cannot be in any table. */
	FUZZ_CHECK(hosts_lookup(h, "", AF_INET, NULL, 0) == 0);
	FUZZ_CHECK(hosts_lookup(h, ".", AF_INET6, NULL, 0) == 0);
	hosts_free(h);
	free(text);
	return 0;
}
