/* SPDX-License-Identifier: ISC */
/*
 * config_parse.c - reading the file: the only user of <libconfig.h>.
 *
 * libconfig turns the file into a tree of settings (or a syntax error with
 * a line); the typed getters below read one key each, with its range, its
 * words and its default from config_keys.c's table, check its type and
 * value, and report every problem through config_report() as
 * (FILE, LINE, message). Loading carries on after a problem, so that
 * `sockeyed -t` shows an admin everything wrong with a file in one run
 * instead of one error per edit.
 *
 * libconfig 1.5 has two quirks worked around here, both using the file's
 * text, which we keep for the duration of the load:
 *  - an integer too large for 32 bits and written without an `L` suffix is
 *    silently truncated ("5000000000" reads as 705032704), which could turn
 *    a typo into a plausible limit; we re-read the literal and compare;
 *  - a list element's line is the line of the token after it, so the last
 *    element of a list whose `]` sits on its own line is reported one line
 *    late; we look back for the element's text.
 */
#include "config_auto.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_int.h"
#include "config_keys.h"
#include "text.h"
#include "util.h"

/* The file's contents, split into lines (1-based, as libconfig counts). */
struct config_text {
	char *buf;
	size_t len;
	const char **line;		/* line[i] starts line i+1 */
	size_t *line_len;
	size_t n_lines;
};

/* What config_parse_begin() read: libconfig's tree and the file's text. */
struct config_file {
	config_t cf;
	struct config_text text;
};

/*
 * struct config_node is never defined: a pointer to one is a pointer to a
 * libconfig setting under another name, so that the other parts of the
 * module see none of libconfig's types.
 */
static const config_setting_t *
config_as_setting(const struct config_node *n)
{
	return (const config_setting_t *)n;
}

static const struct config_node *
config_as_node(const config_setting_t *s)
{
	return (const struct config_node *)s;
}

/* The number of elements of a list, array or group. */
static int
config_node_length(const struct config_node *list)
{
	return config_setting_length(config_as_setting(list));
}

/* Element i (0-based, < config_node_length()) of a list, array or group. */
static const struct config_node *
config_node_elem(const struct config_node *list, int i)
{
	return config_as_node(config_setting_get_elem(config_as_setting(list),
	    (unsigned)i));
}

static bool
config_node_is_group(const struct config_node *n)
{
	return config_setting_is_group(config_as_setting(n)) != 0;
}

static void config_vreport(struct config_ctx *ctx,
    const struct config_node *n, int line, const char *tag, const char *fmt,
    va_list ap) PRINTF_FMT(5, 0);

/*
 * Pass one message, `tag` first, to the caller's callback. The line is
 * `line` when positive, else the setting's own line, else 0 (a default or
 * a missing key has no line).
 */
static void
config_vreport(struct config_ctx *ctx, const struct config_node *n, int line,
    const char *tag, const char *fmt, va_list ap)
{
	const config_setting_t *s = config_as_setting(n);
	const char *file = NULL;
	char msg[1024];
	size_t len;

	len = strlen(tag) < sizeof(msg) ? strlen(tag) : sizeof(msg) - 1;
	memcpy(msg, tag, len);
	vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
	if (s != NULL) {
		file = config_setting_source_file(s);
		if (line <= 0)
			line = config_setting_source_line(s);
	}
	if (line < 0)
		line = 0;
	/* An @include'd file is named as the directive wrote it. */
	ctx->report(ctx->arg, file != NULL ? file : ctx->path, line, msg);
}

void
config_report(struct config_ctx *ctx, const struct config_node *n, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vreport(ctx, n, line, "", fmt, ap);
	va_end(ap);
	ctx->n_errors++;
}

void
config_warn(struct config_ctx *ctx, const struct config_node *n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_vreport(ctx, n, 0, "warning: ", fmt, ap);
	va_end(ap);
}

/*
 * Read the whole file and index its lines. Returns 0, or -1 with errno.
 * Doing this ourselves, before libconfig does, also gives the admin the
 * real reason a file cannot be read ("Permission denied"), where libconfig
 * only says "file I/O error".
 */
static int
config_text_read(struct config_text *t, const char *path)
{
	struct stat st;
	size_t cap = 4096, i, start;
	FILE *fp;
	int saved;

	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	if (fstat(fileno(fp), &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	t->buf = xmalloc(cap);
	t->len = 0;
	for (;;) {
		size_t n;

		if (t->len + 1 >= cap) {
			cap *= 2;
			t->buf = xrealloc(t->buf, cap, 1);
		}
		n = fread(t->buf + t->len, 1, cap - t->len - 1, fp);
		t->len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		errno = EIO;
		goto fail;
	}
	fclose(fp);
	t->buf[t->len] = '\0';

	t->n_lines = 1;
	for (i = 0; i < t->len; i++)
		if (t->buf[i] == '\n')
			t->n_lines++;
	t->line = xcalloc(t->n_lines, sizeof(*t->line));
	t->line_len = xcalloc(t->n_lines, sizeof(*t->line_len));
	t->n_lines = 0;
	start = 0;
	for (i = 0; i <= t->len; i++) {
		if (i == t->len || t->buf[i] == '\n') {
			t->line[t->n_lines] = t->buf + start;
			t->line_len[t->n_lines] = i - start;
			t->n_lines++;
			start = i + 1;
		}
	}
	return 0;
fail:
	saved = errno;
	fclose(fp);
	free(t->buf);
	t->buf = NULL;
	errno = saved;
	return -1;
}

static void
config_text_free(struct config_text *t)
{
	free(t->buf);
	free(t->line);
	free(t->line_len);
	memset(t, 0, sizeof(*t));
}

/* Text of line `n` (1-based) of the main file, or NULL for another file. */
static const char *
config_text_line(const struct config_ctx *ctx, const config_setting_t *s,
    int n, size_t *len)
{
	const char *file = config_setting_source_file(s);

	if (file == NULL || strcmp(file, ctx->path) != 0)
		return NULL;	/* an @include'd file: its text is not kept */
	if (n < 1 || (size_t)n > ctx->file->text.n_lines)
		return NULL;
	*len = ctx->file->text.line_len[n - 1];
	return ctx->file->text.line[n - 1];
}

/* memmem(), without depending on _GNU_SOURCE. */
static const char *
config_memmem(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t i;

	if (nlen == 0)
		return hay;
	for (i = 0; i + nlen <= hlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

/*
 * The line where a string list element was written. libconfig records the
 * line of the token after it; look back (not past the list's own line) for
 * the quoted value. Escaped strings won't be found and keep libconfig's line.
 */
static int
config_elem_line(const struct config_ctx *ctx, const config_setting_t *elem)
{
	const config_setting_t *list = config_setting_parent(elem);
	int line = config_setting_source_line(elem);
	int stop = list != NULL ? config_setting_source_line(list) : 1;
	const char *val, *text;
	char needle[512];
	size_t len;
	int nlen, l;

	if (config_setting_type(elem) != CONFIG_TYPE_STRING)
		return line;
	val = config_setting_get_string(elem);
	nlen = snprintf(needle, sizeof(needle), "\"%s\"", val);
	if (nlen < 0 || (size_t)nlen >= sizeof(needle))
		return line;
	for (l = line; l >= stop && l >= 1; l--) {
		text = config_text_line(ctx, elem, l, &len);
		if (text == NULL)
			return line;
		if (config_memmem(text, len, needle, (size_t)nlen) != NULL)
			return l;
	}
	return line;
}

/*
 * Re-read the integer literal of setting `s` from the file, to catch what
 * libconfig 1.5 truncated. 0 with *out set, or -1 when the literal cannot
 * be found (then libconfig's value is trusted).
 */
static int
config_raw_int(const struct config_ctx *ctx, const config_setting_t *s,
    long long *out)
{
	const char *name = config_setting_name(s);
	const char *text, *p, *end, *hit;
	size_t len, nlen;
	char num[64];
	size_t k;

	if (name == NULL)
		return -1;
	text = config_text_line(ctx, s, config_setting_source_line(s), &len);
	if (text == NULL)
		return -1;
	nlen = strlen(name);
	end = text + len;
	for (p = text; (hit = config_memmem(p, (size_t)(end - p), name, nlen));
	    p = hit + 1) {
		const char *q = hit + nlen;

		/* A whole word: "timeout_s" must not match "x_timeout_s". */
		if (hit > text && (hit[-1] == '_' || hit[-1] == '-' ||
		    (hit[-1] >= 'a' && hit[-1] <= 'z') ||
		    (hit[-1] >= 'A' && hit[-1] <= 'Z') ||
		    (hit[-1] >= '0' && hit[-1] <= '9')))
			continue;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == end || (*q != '=' && *q != ':'))
			continue;
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		for (k = 0; q + k < end && k + 1 < sizeof(num) &&
		    q[k] != '\0' && strchr("+-0123456789abcdefABCDEFxX", q[k]) != NULL; k++)
			num[k] = q[k];
		num[k] = '\0';
		if (k == 0)
			return -1;
		{
			const char *digits = num + (num[0] == '-' || num[0] == '+');
			int base = (digits[0] == '0' &&
			    (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
			char *stop;

			*out = strtoll(num, &stop, base);
			if (stop == num)
				return -1;
			/* ERANGE saturates, which is out of every range. */
			return 0;
		}
	}
	return -1;
}

/*
 * The group of the table that `prefix` names: "" for "", "connect" for
 * "connect.", "access" for "access[2]." (a key of an entry of a list).
 */
static void
config_prefix_group(const char *prefix, char *group, size_t cap)
{
	size_t n = strcspn(prefix, ".[");

	BUG_ON(n >= cap);
	memcpy(group, prefix, n);
	group[n] = '\0';
}

/*
 * The table's entry for the key the loader is about to read. A key the
 * table lacks, or has with another type, is a bug of this build: the table
 * is what -t, the manual and the tests go by.
 */
static const struct config_key *
config_key_of(const char *prefix, const char *name, enum config_key_type type)
{
	const struct config_key *k;
	char group[64];

	config_prefix_group(prefix, group, sizeof(group));
	k = config_key_find(group, name);
	BUG_ON(k == NULL);
	BUG_ON(k->type != type);
	return k;
}

/* Unknown keys in `group` ("" or "connect." as `prefix`). */
void
config_check_keys(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix)
{
	char table[64];
	int i, n;

	if (group == NULL)
		return;
	config_prefix_group(prefix, table, sizeof(table));
	n = config_node_length(group);
	for (i = 0; i < n; i++) {
		const struct config_node *e = config_node_elem(group, i);
		const char *name = config_setting_name(config_as_setting(e));
		const struct config_key *k;
		char q[CONFIG_QUOTE_MAX];

		if (name == NULL)
			continue;
		k = config_key_find(table, name);
		if (k == NULL)
			config_error(ctx, e, "unknown key '%s%s'", prefix,
			    text_quote(q, sizeof(q), name, TEXT_CSTR));
	}
}

const struct config_node *
config_member(const struct config_node *group, const char *name)
{
	if (group == NULL)
		return NULL;
	return config_as_node(config_setting_get_member(
	    config_as_setting(group), name));
}

/* A group such as `connect`, or NULL when absent or not a group. */
const struct config_node *
config_group(struct config_ctx *ctx, const struct config_node *root,
    const char *name)
{
	const struct config_node *g = config_member(root, name);
	char prefix[64];

	(void)config_key_of("", name, CONFIG_KEY_GROUP);
	if (g == NULL)
		return NULL;
	if (!config_node_is_group(g)) {
		config_error(ctx, g, "'%s' must be a group: %s = { ... };",
		    name, name);
		return NULL;
	}
	snprintf(prefix, sizeof(prefix), "%s.", name);
	config_check_keys(ctx, g, prefix);
	return g;
}

/* An integer key in the table's range; its default when absent. */
void
config_int(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, int *out)
{
	const struct config_key *k = config_key_of(prefix, name,
	    CONFIG_KEY_INT);
	const struct config_node *n = config_member(group, name);
	const config_setting_t *s = config_as_setting(n);
	long long v, raw;
	int type;

	if (k->def != NULL) {
		char *end;

		v = strtoll(k->def, &end, 10);
		BUG_ON(*end != '\0' || v < k->min || v > k->max);
		*out = (int)v;
	}
	if (s == NULL)
		return;
	type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error(ctx, n, "'%s%s' must be an integer", prefix, name);
		return;
	}
	v = config_setting_get_int64(s);
	if (type == CONFIG_TYPE_INT && config_raw_int(ctx, s, &raw) == 0 &&
	    raw != v)
		v = raw;	/* libconfig truncated it: judge what was written */
	if (v < k->min || v > k->max) {
		config_error(ctx, n, "'%s%s' must be between %lld and %lld",
		    prefix, name, k->min, k->max);
		return;
	}
	*out = (int)v;
}

void
config_bool(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, bool *out)
{
	const struct config_key *k = config_key_of(prefix, name,
	    CONFIG_KEY_BOOL);
	const struct config_node *n = config_member(group, name);
	const config_setting_t *s = config_as_setting(n);

	if (k->def != NULL) {
		BUG_ON(strcmp(k->def, "true") != 0 &&
		    strcmp(k->def, "false") != 0);
		*out = strcmp(k->def, "true") == 0;
	}
	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_error(ctx, n, "'%s%s' must be true or false", prefix,
		    name);
		return;
	}
	*out = config_setting_get_bool(s) != 0;
}

/*
 * A string key: its value, the table's default when absent (NULL when it
 * has none), or NULL when not a string.
 */
const char *
config_string(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, const struct config_node **where)
{
	const struct config_key *k = config_key_of(prefix, name,
	    CONFIG_KEY_STRING);
	const struct config_node *n = config_member(group, name);
	const config_setting_t *s = config_as_setting(n);

	if (where != NULL)
		*where = n;
	if (s == NULL)
		return k->def;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error(ctx, n, "'%s%s' must be a string", prefix, name);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* Replace *out with a copy of the string key's value (or default). */
void
config_string_dup(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, char **out)
{
	const struct config_key *k = config_key_of(prefix, name,
	    CONFIG_KEY_STRING);
	const struct config_node *s;
	const char *v = config_string(ctx, group, prefix, name, &s);

	if (k->def != NULL && v != k->def) {
		free(*out);
		*out = xstrdup(k->def);
	}
	if (v == NULL)
		return;
	if ((k->flags & CONFIG_KEY_NOT_EMPTY) && v[0] == '\0') {
		config_error(ctx, s, "'%s%s' must not be empty", prefix, name);
		return;
	}
	free(*out);
	*out = xstrdup(v);
}

int
config_word(const char *const *words, const char *v)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return i;
	return -1;
}

/*
 * One of the table's words for the key: *out gets its index. The message
 * lists the choices so the admin need not open the manual.
 */
void
config_choice(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, int *out)
{
	const struct config_key *k = config_key_of(prefix, name,
	    CONFIG_KEY_STRING);
	const char *const *choices = k->choices;
	const struct config_node *s;
	const char *v = config_string(ctx, group, prefix, name, &s);
	char list[256], q[CONFIG_QUOTE_MAX];
	size_t len = 0;
	int i;

	BUG_ON(choices == NULL);
	if (k->def != NULL) {
		BUG_ON(config_word(choices, k->def) == -1);
		*out = config_word(choices, k->def);
	}
	if (v == NULL)
		return;
	if ((i = config_word(choices, v)) != -1) {
		*out = i;
		return;
	}
	list[0] = '\0';
	for (i = 0; choices[i] != NULL && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s\"%s\"", i == 0 ? "" :
		    choices[i + 1] == NULL ? " or " : ", ", choices[i]);
	config_error(ctx, s, "'%s%s' must be %s, not \"%s\"", prefix, name,
	    list, text_quote(q, sizeof(q), v, TEXT_CSTR));
}

/* A list key (array or list), or NULL when absent or of another type. */
static const struct config_node *
config_list(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, const char *what)
{
	const struct config_node *n = config_member(group, name);
	const config_setting_t *s = config_as_setting(n);

	(void)config_key_of(prefix, name, CONFIG_KEY_LIST);
	if (s == NULL)
		return NULL;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		config_error(ctx, n, "'%s%s' must be a list of %s, e.g. "
		    "%s = [ ... ];", prefix, name, what, name);
		return NULL;
	}
	return n;
}

/* Element i of a list of strings, or NULL (reported) when not a string. */
static const char *
config_elem(struct config_ctx *ctx, const struct config_node *list, int i,
    const char *prefix, const char *name, int *line)
{
	const config_setting_t *e = config_setting_get_elem(
	    config_as_setting(list), (unsigned)i);

	*line = config_elem_line(ctx, e);
	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		config_report(ctx, config_as_node(e), *line,
		    "'%s%s' entries must be strings", prefix, name);
		return NULL;
	}
	return config_setting_get_string(e);
}

int
config_strings_begin(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, const char *what,
    const char *empty, struct config_strings *it)
{
	const struct config_key *k = config_key_of(prefix, name,
	    CONFIG_KEY_LIST);

	memset(it, 0, sizeof(*it));
	it->prefix = prefix;
	it->name = name;
	if (config_member(group, name) == NULL) {
		/* Absent: the default goes through the caller's checks too. */
		if (k->def_list == NULL)
			return -1;
		it->def = k->def_list;
		while (it->def[it->n] != NULL)
			it->n++;
		return it->n;
	}
	if ((it->list = config_list(ctx, group, prefix, name, what)) == NULL)
		return -1;
	it->n = config_node_length(it->list);
	if (it->n == 0 && empty != NULL)
		config_error(ctx, it->list, "'%s%s' %s", prefix, name, empty);
	return it->n;
}

bool
config_strings_next(struct config_ctx *ctx, struct config_strings *it)
{
	while (it->i < it->n) {
		int i = it->i++;

		if (it->list == NULL) {
			it->v = it->def[i];
			it->line = 0;
			return true;
		}
		it->v = config_elem(ctx, it->list, i, it->prefix, it->name,
		    &it->line);
		if (it->v != NULL)
			return true;
	}
	return false;
}

int
config_groups_begin(struct config_ctx *ctx, const struct config_node *root,
    const char *name, const char *example, struct config_groups *it)
{
	const struct config_node *n = config_member(root, name);

	(void)config_key_of("", name, CONFIG_KEY_GROUPS);
	memset(it, 0, sizeof(*it));
	it->name = name;
	it->example = example;
	if (n == NULL)
		return -1;
	if (!config_setting_is_list(config_as_setting(n))) {
		config_error(ctx, n, "'%s' must be a list of groups: %s = "
		    "( { ... }, { ... } );", name, name);
		return -1;
	}
	it->list = n;
	it->n = config_node_length(n);
	return it->n;
}

const struct config_node *
config_groups_next(struct config_ctx *ctx, struct config_groups *it)
{
	while (it->i < it->n) {
		const struct config_node *g = config_node_elem(it->list, it->i);

		snprintf(it->prefix, sizeof(it->prefix), "%s[%d].", it->name,
		    it->i);
		it->i++;
		if (!config_node_is_group(g)) {
			config_error(ctx, g, "'%s' entries must be groups: %s",
			    it->name, it->example);
			continue;
		}
		config_check_keys(ctx, g, it->prefix);
		return g;
	}
	return NULL;
}

/* --- the tree's nodes -------------------------------------------------- */

int
config_node_line(const struct config_node *n)
{
	return config_setting_source_line(config_as_setting(n));
}

const char *
config_node_file(const struct config_ctx *ctx, const struct config_node *n)
{
	const char *file = config_setting_source_file(config_as_setting(n));

	return file != NULL ? file : ctx->path;
}

/* --- the file ----------------------------------------------------------- */

const struct config_node *
config_parse_begin(struct config_ctx *ctx)
{
	struct config_file *f = xcalloc(1, sizeof(*f));
	const char *path = ctx->path;

	if (config_text_read(&f->text, path) == -1) {
		char msg[256];

		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
		ctx->report(ctx->arg, path, 0, msg);
		free(f);
		return NULL;
	}

	/*
	 * No config_set_include_dir(): libconfig 1.5 prepends it even to an
	 * absolute @include path, so relative paths stay relative to the
	 * working directory, as libconfig documents.
	 */
	config_init(&f->cf);
	if (config_read_file(&f->cf, path) == CONFIG_FALSE) {
		const char *file = config_error_file(&f->cf);
		char msg[256];

		if (file == NULL)
			file = path;
		if (config_error_type(&f->cf) == CONFIG_ERR_PARSE) {
			ctx->report(ctx->arg, file, config_error_line(&f->cf),
			    config_error_text(&f->cf));
		} else {
			snprintf(msg, sizeof(msg), "cannot read: %s",
			    config_error_text(&f->cf));
			ctx->report(ctx->arg, file, 0, msg);
		}
		config_destroy(&f->cf);
		config_text_free(&f->text);
		free(f);
		return NULL;
	}
	ctx->file = f;
	return config_as_node(config_root_setting(&f->cf));
}

void
config_parse_end(struct config_ctx *ctx)
{
	if (ctx->file == NULL)
		return;
	config_destroy(&ctx->file->cf);
	config_text_free(&ctx->file->text);
	free(ctx->file);
	ctx->file = NULL;
}
