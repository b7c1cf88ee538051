/* SPDX-License-Identifier: ISC */
/*
 * expo_check.h - a strict checker of the Prometheus text exposition
 * format (version 0.0.4) as sockeyed writes it, shared by the metrics
 * fuzz harness (tests/fuzz/fuzz_metrics_http.c) and the metrics unit
 * test (tests/unit/check_metrics.c). Header-only (static functions), so
 * that the fuzzer, built apart from the test libraries, includes it too.
 *
 * It holds the text to what promtool and Prometheus' parser want, and to
 * what sockeyed promises on top:
 *  - every line ends in '\n'; a line is "# HELP name text", "# TYPE name
 *    type" or a sample "name{label="value",...} value"; no empty line;
 *  - a family's HELP and TYPE come once, before its samples, and a
 *    family's samples are together (never a family again after another);
 *  - names and label names are well formed, label values escaped, values
 *    numbers; no two samples with the same name and labels;
 *  - a counter's name ends in _total and its values are integers;
 *  - a histogram's series (_bucket, _sum, _count) per label set: buckets
 *    with rising le ending with +Inf, cumulative counts that never fall,
 *    _count equal to the +Inf bucket.
 * expo_check() returns NULL when the text passes, else a static message
 * naming the first problem and the line.
 */
#ifndef SOCKEYE_EXPO_CHECK_H
#define SOCKEYE_EXPO_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPO_NAME_MAX	128
#define EXPO_LINE_MAX	1024
#define EXPO_SERIES_MAX	4096
#define EXPO_FAMILIES_MAX 256

struct expo_state {
	char family[EXPO_NAME_MAX];	/* the family being written */
	char type[16];
	bool have_help, have_type, had_sample;
	char seen[EXPO_FAMILIES_MAX][EXPO_NAME_MAX];	/* families done */
	size_t nseen;
	/* Hashes of name{labels} seen, open addressing (0: empty). */
	uint64_t series[2 * EXPO_SERIES_MAX];
	size_t nseries;
	/* The histogram series being checked (labels without le). */
	char hlabels[EXPO_LINE_MAX];
	double last_le;
	uint64_t last_count;
	bool in_buckets, saw_inf;
	uint64_t inf_count;
};

static char expo_why[EXPO_LINE_MAX + 128];

static const char *
expo_fail(size_t lineno, const char *what, const char *line, size_t len)
{
	snprintf(expo_why, sizeof(expo_why), "line %zu: %s: %.*s", lineno,
	    what, (int)(len > 200 ? 200 : len), line);
	return expo_why;
}

static bool
expo_name_ok(const char *p, size_t len, bool colon)
{
	size_t i;

	if (len == 0 || len >= EXPO_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (colon && c == ':') ||
		    (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static uint64_t
expo_hash(const char *p, size_t len)
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* A value: an integer, a decimal, or +Inf / -Inf / NaN. */
static bool
expo_value_ok(const char *p, size_t len, bool integer, double *out)
{
	char buf[64];
	char *end;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return false;
	if ((len == 4 && memcmp(p, "+Inf", 4) == 0) ||
	    (len == 4 && memcmp(p, "-Inf", 4) == 0) ||
	    (len == 3 && memcmp(p, "NaN", 3) == 0))
		return !integer;
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (!integer &&
		    (p[i] == '.' || p[i] == 'e' || p[i] == '-' ||
		    p[i] == '+'))))
			return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0';
}

static bool
expo_family_seen(struct expo_state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nseen; i++)
		if (strcmp(s->seen[i], name) == 0)
			return true;
	return false;
}

/* Another series or family begins: the histogram series must be whole. */
static const char *
expo_end_buckets(struct expo_state *s, size_t lineno)
{
	if (s->in_buckets)
		return expo_fail(lineno, "a histogram series without +Inf, "
		    "_sum or _count", s->hlabels, strlen(s->hlabels));
	return NULL;
}

/* A "# HELP" or "# TYPE" line. */
static const char *
expo_comment(struct expo_state *s, const char *line, size_t len,
    size_t lineno)
{
	bool help = len > 7 && memcmp(line, "# HELP ", 7) == 0;
	bool type = len > 7 && memcmp(line, "# TYPE ", 7) == 0;
	const char *name = line + 7, *sp;
	size_t nlen;
	const char *why;

	if (!help && !type)
		return expo_fail(lineno, "a comment that is not HELP or TYPE",
		    line, len);
	sp = memchr(name, ' ', len - 7);
	if (sp == NULL)
		return expo_fail(lineno, "HELP or TYPE without text", line, len);
	nlen = (size_t)(sp - name);
	if (!expo_name_ok(name, nlen, true))
		return expo_fail(lineno, "bad family name", line, len);
	if (nlen != strlen(s->family) || memcmp(name, s->family, nlen) != 0) {
		/* A new family: the last one is done. */
		if ((why = expo_end_buckets(s, lineno)) != NULL)
			return why;
		if (s->family[0] != '\0') {
			if (s->nseen == EXPO_FAMILIES_MAX)
				return expo_fail(lineno, "too many families",
				    line, len);
			memcpy(s->seen[s->nseen++], s->family,
			    sizeof(s->family));
		}
		memcpy(s->family, name, nlen);
		s->family[nlen] = '\0';
		if (expo_family_seen(s, s->family))
			return expo_fail(lineno, "a family again", line, len);
		s->have_help = s->have_type = s->had_sample = false;
		s->type[0] = '\0';
	} else if (s->had_sample) {
		return expo_fail(lineno, "HELP or TYPE after a sample", line,
		    len);
	} else if ((help && s->have_help) || (type && s->have_type)) {
		return expo_fail(lineno, "HELP or TYPE twice", line, len);
	}
	if (help) {
		s->have_help = true;
		/* The text: no raw backslash but an escape (\\ or \n). */
		for (sp++; sp < line + len; sp++)
			if (*sp == '\\' && (sp + 1 == line + len ||
			    (sp[1] != '\\' && sp[1] != 'n')))
				return expo_fail(lineno, "bad escape in HELP",
				    line, len);
			else if (*sp == '\\')
				sp++;
		return NULL;
	}
	sp++;
	nlen = (size_t)(line + len - sp);
	if (!((nlen == 7 && memcmp(sp, "counter", 7) == 0) ||
	    (nlen == 5 && memcmp(sp, "gauge", 5) == 0) ||
	    (nlen == 9 && memcmp(sp, "histogram", 9) == 0) ||
	    (nlen == 7 && memcmp(sp, "summary", 7) == 0) ||
	    (nlen == 7 && memcmp(sp, "untyped", 7) == 0)))
		return expo_fail(lineno, "unknown TYPE", line, len);
	memcpy(s->type, sp, nlen);
	s->type[nlen] = '\0';
	s->have_type = true;
	if (strcmp(s->type, "counter") == 0 && (strlen(s->family) < 6 ||
	    strcmp(s->family + strlen(s->family) - 6, "_total") != 0))
		return expo_fail(lineno, "a counter without _total", line, len);
	return NULL;
}

/*
 * The labels of a sample, from after '{' to its '}': each checked, the
 * le label's value returned in le (NULL when none) and the others copied
 * to `rest` as they are (for grouping a histogram's series).
 */
static const char *
expo_labels(const char *p, const char *end, const char **after, char *le,
    size_t lecap, bool *has_le, char *rest, size_t restcap)
{
	size_t rlen = 0;

	*has_le = false;
	rest[0] = '\0';
	if (p < end && *p == '}') {
		*after = p + 1;
		return NULL;
	}
	for (;;) {
		const char *n0 = p, *v0;
		size_t nlen, vlen;

		while (p < end && *p != '=')
			p++;
		nlen = (size_t)(p - n0);
		if (p == end || !expo_name_ok(n0, nlen, false) ||
		    (nlen >= 2 && n0[0] == '_' && n0[1] == '_'))
			return "bad label name";
		if (++p == end || *p != '"')
			return "label value not quoted";
		v0 = ++p;
		while (p < end && *p != '"') {
			if (*p == '\\') {
				if (p + 1 == end || (p[1] != '\\' &&
				    p[1] != '"' && p[1] != 'n'))
					return "bad escape in a label value";
				p++;
			} else if ((unsigned char)*p < 0x20) {
				return "control byte in a label value";
			}
			p++;
		}
		if (p == end)
			return "label value not closed";
		vlen = (size_t)(p - v0);
		if (nlen == 2 && memcmp(n0, "le", 2) == 0) {
			if (*has_le || vlen >= lecap)
				return "bad le";
			*has_le = true;
			memcpy(le, v0, vlen);
			le[vlen] = '\0';
		} else {
			if (rlen + (size_t)(p + 1 - n0) + 1 >= restcap)
				return "labels too long";
			memcpy(rest + rlen, n0, (size_t)(p + 1 - n0));
			rlen += (size_t)(p + 1 - n0);
			rest[rlen++] = ',';
			rest[rlen] = '\0';
		}
		p++;
		if (p < end && *p == ',') {
			p++;
			if (p < end && *p == '}') {
				*after = p + 1;
				return NULL;
			}
			continue;
		}
		if (p < end && *p == '}') {
			*after = p + 1;
			return NULL;
		}
		return "labels not closed";
	}
}

static const char *
expo_sample(struct expo_state *s, const char *line, size_t len,
    size_t lineno)
{
	const char *end = line + len, *p = line, *after, *why;
	char le[64], rest[EXPO_LINE_MAX];
	size_t nlen, flen = strlen(s->family), i;
	bool has_le = false, hist = strcmp(s->type, "histogram") == 0;
	bool counter = strcmp(s->type, "counter") == 0;
	const char *suffix;
	double v = 0, lev = 0;
	uint64_t h;

	while (p < end && *p != '{' && *p != ' ')
		p++;
	nlen = (size_t)(p - line);
	if (!expo_name_ok(line, nlen, true))
		return expo_fail(lineno, "bad sample name", line, len);
	if (!s->have_type || !s->have_help)
		return expo_fail(lineno, "a sample before HELP and TYPE", line,
		    len);
	if (nlen < flen || memcmp(line, s->family, flen) != 0)
		return expo_fail(lineno, "a sample of another family", line,
		    len);
	s->had_sample = true;
	suffix = line + flen;
	if (nlen == flen) {
		if (hist)
			return expo_fail(lineno, "a histogram sample without "
			    "_bucket, _sum or _count", line, len);
		suffix = "";
	} else if (!hist || !((nlen - flen == 7 &&
	    memcmp(suffix, "_bucket", 7) == 0) || (nlen - flen == 4 &&
	    memcmp(suffix, "_sum", 4) == 0) || (nlen - flen == 6 &&
	    memcmp(suffix, "_count", 6) == 0))) {
		return expo_fail(lineno, "a sample of another family", line,
		    len);
	}
	if (p < end && *p == '{') {
		why = expo_labels(p + 1, end, &after, le, sizeof(le), &has_le,
		    rest, sizeof(rest));
		if (why != NULL)
			return expo_fail(lineno, why, line, len);
		p = after;
	} else {
		rest[0] = '\0';
	}
	if (p == end || *p != ' ')
		return expo_fail(lineno, "no value", line, len);
	p++;
	if (!expo_value_ok(p, (size_t)(end - p), counter, &v))
		return expo_fail(lineno, "bad value", line, len);
	/* No two samples alike (name and labels). */
	h = expo_hash(line, (size_t)(p - line)) | 1;
	if (s->nseries == EXPO_SERIES_MAX)
		return expo_fail(lineno, "too many samples", line, len);
	for (i = h % (2 * EXPO_SERIES_MAX); s->series[i] != 0;
	    i = (i + 1) % (2 * EXPO_SERIES_MAX))
		if (s->series[i] == h)
			return expo_fail(lineno, "a sample twice", line, len);
	s->series[i] = h;
	s->nseries++;
	if (!hist) {
		if (has_le)
			return expo_fail(lineno, "le outside a histogram", line,
			    len);
		return NULL;
	}
	if (suffix[1] == 'b') {
		uint64_t count;

		if (!has_le)
			return expo_fail(lineno, "a bucket without le", line,
			    len);
		if (!expo_value_ok(p, (size_t)(end - p), true, &v))
			return expo_fail(lineno, "a bucket count that is not "
			    "an integer", line, len);
		count = strtoull(p, NULL, 10);
		if (s->in_buckets && strcmp(rest, s->hlabels) != 0) {
			if ((why = expo_end_buckets(s, lineno)) != NULL)
				return why;
		}
		if (strcmp(le, "+Inf") == 0) {
			lev = 0;
		} else if (!expo_value_ok(le, strlen(le), false, &lev)) {
			return expo_fail(lineno, "bad le", line, len);
		}
		if (s->in_buckets) {
			if (s->saw_inf)
				return expo_fail(lineno, "a bucket after +Inf",
				    line, len);
			if (strcmp(le, "+Inf") != 0 && !(lev > s->last_le))
				return expo_fail(lineno, "le not rising", line,
				    len);
			if (count < s->last_count)
				return expo_fail(lineno, "buckets falling", line,
				    len);
		} else {
			s->in_buckets = true;
			s->saw_inf = false;
			snprintf(s->hlabels, sizeof(s->hlabels), "%s", rest);
		}
		s->last_le = lev;
		s->last_count = count;
		if (strcmp(le, "+Inf") == 0) {
			s->saw_inf = true;
			s->inf_count = count;
		}
		return NULL;
	}
	if (has_le)
		return expo_fail(lineno, "le on _sum or _count", line, len);
	if (!s->saw_inf || strcmp(rest, s->hlabels) != 0)
		return expo_fail(lineno, "_sum or _count before its buckets",
		    line, len);
	if (suffix[1] == 'c') {
		if (!expo_value_ok(p, (size_t)(end - p), true, &v) ||
		    strtoull(p, NULL, 10) != s->inf_count)
			return expo_fail(lineno, "_count is not the +Inf "
			    "bucket", line, len);
		/* The series is complete. */
		s->in_buckets = false;
	}
	return NULL;
}

static const char *
expo_check(const char *text, size_t len)
{
	struct expo_state *s = calloc(1, sizeof(*s));
	size_t off = 0, lineno = 0;
	const char *why = NULL;

	if (s == NULL)
		return "out of memory";
	if (len == 0 || text[len - 1] != '\n')
		why = "the text does not end with a newline";
	while (why == NULL && off < len) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t llen = (size_t)(nl - line);

		lineno++;
		off += llen + 1;
		if (llen == 0)
			why = expo_fail(lineno, "empty line", line, llen);
		else if (llen > EXPO_LINE_MAX)
			why = expo_fail(lineno, "line too long", line, llen);
		else if (memchr(line, '\0', llen) != NULL)
			why = expo_fail(lineno, "NUL byte", line, llen);
		else if (line[0] == '#')
			why = expo_comment(s, line, llen, lineno);
		else
			why = expo_sample(s, line, llen, lineno);
	}
	if (why == NULL)
		why = expo_end_buckets(s, lineno);
	free(s);
	return why;
}

#endif
