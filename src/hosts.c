/* SPDX-License-Identifier: ISC */
/*
 * hosts.c - see hosts.h.
 *
 * One entry per name and address, sorted by name (then by line, so that a
 * name's addresses keep the file's order): a lookup is a binary search,
 * however long the file (ad-blocking lists run to a hundred thousand
 * lines).
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"

/* Longest name kept (longer ones cannot be DNS names: passed over). */
#define HOSTS_NAME_MAX 253
/* Longest address text: an IPv6 literal. */
#define HOSTS_ADDR_MAX 64

struct hosts_entry {
	char *name;			/* lower case, no trailing dot */
	size_t order;			/* position in the file */
	union sockaddr_any addr;
};

struct hosts {
	struct hosts_entry *e;
	size_t n;
	char *names;			/* every name, NUL-separated */
};

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static const char *
word_end(const char *p, const char *end)
{
	while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
		p++;
	return p;
}

/* An IPv4 or IPv6 literal of exactly len bytes, port 0; 0 or -1. */
static int
parse_addr(const char *s, size_t len, union sockaddr_any *out)
{
	char buf[HOSTS_ADDR_MAX];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, &out->sin.sin_addr) == 1) {
		out->sin.sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &out->sin6.sin6_addr) == 1) {
		out->sin6.sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Length of a name without its trailing dot; 0 when it is not a name. */
static size_t
name_len(const char *s, size_t len)
{
	/* Kept with a NUL, "a\0b" would answer for "a" (found by fuzz_hosts). */
	if (memchr(s, '\0', len) != NULL)
		return 0;
	if (len > 0 && s[len - 1] == '.')
		len--;
	return len <= HOSTS_NAME_MAX ? len : 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct hosts_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Two passes over the text: the first counts names and their bytes, the
 * second fills the table; the work of a line is the same in both.
 */
static size_t
scan(struct hosts *h, const char *text, size_t len, size_t *name_bytes)
{
	const char *p = text, *end = text + len;
	char *np = h->names;
	size_t n = 0;

	*name_bytes = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *hash, *w, *we;
		union sockaddr_any addr;

		if (eol == NULL)
			eol = end;
		hash = memchr(p, '#', (size_t)(eol - p));
		if (hash != NULL)
			eol = hash;
		w = skip_space(p, eol);
		we = word_end(w, eol);
		if (w < eol && parse_addr(w, (size_t)(we - w), &addr) == 0) {
			for (w = skip_space(we, eol); w < eol;
			    w = skip_space(we, eol)) {
				size_t nl, i;

				we = word_end(w, eol);
				nl = name_len(w, (size_t)(we - w));
				if (nl == 0)
					continue;
				if (h->e != NULL) {
					for (i = 0; i < nl; i++)
						np[i] = (char)(w[i] >= 'A' &&
						    w[i] <= 'Z' ? w[i] - 'A' +
						    'a' : w[i]);
					np[nl] = '\0';
					h->e[n].name = np;
					h->e[n].order = n;
					h->e[n].addr = addr;
					np += nl + 1;
				}
				*name_bytes += nl + 1;
				n++;
			}
		}
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			break;
		p++;
	}
	return n;
}

struct hosts *
hosts_parse(const char *text, size_t len)
{
	struct hosts *h = calloc(1, sizeof(*h));
	size_t bytes;

	if (h == NULL)
		return NULL;
	h->n = scan(h, text, len, &bytes);
	if (h->n == 0)
		return h;
	h->e = calloc(h->n, sizeof(*h->e));
	h->names = malloc(bytes);
	if (h->e == NULL || h->names == NULL) {
		hosts_free(h);
		return NULL;
	}
	(void)scan(h, text, len, &bytes);
	qsort(h->e, h->n, sizeof(*h->e), entry_cmp);
	return h;
}

struct hosts *
hosts_load(const char *path, char *err, size_t errlen)
{
	struct hosts *h;
	char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		if (errno == ENOENT)
			return hosts_parse("", 0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *t = cap < (64 << 20) ?
			    realloc(text, cap ? cap * 2 : 8192) : NULL;

			if (t == NULL) {
				snprintf(err, errlen, "%s: %s", path,
				    cap < (64 << 20) ? "out of memory" :
				    "larger than 64 MiB");
				free(text);
				fclose(f);
				return NULL;
			}
			text = t;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	h = hosts_parse(text != NULL ? text : "", len);
	free(text);
	if (h == NULL)
		snprintf(err, errlen, "%s: out of memory", path);
	return h;
}

size_t
hosts_lookup(const struct hosts *h, const char *name, int family,
    union sockaddr_any *out, size_t max)
{
	char key[HOSTS_NAME_MAX + 1];
	size_t nl = name_len(name, strlen(name)), lo = 0, hi, i, k = 0;

	if (h == NULL || h->n == 0 || nl == 0)
		return 0;
	for (i = 0; i < nl; i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] - 'A' + 'a' : name[i]);
	key[nl] = '\0';
	/* The first entry not below key. */
	hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(h->e[mid].name, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < h->n && k < max && strcmp(h->e[i].name, key) == 0;
	    i++)
		if (h->e[i].addr.sa.sa_family == family)
			out[k++] = h->e[i].addr;
	return k;
}

size_t
hosts_count(const struct hosts *h)
{
	return h != NULL ? h->n : 0;
}

void
hosts_free(struct hosts *h)
{
	if (h == NULL)
		return;
	free(h->e);
	free(h->names);
	free(h);
}
