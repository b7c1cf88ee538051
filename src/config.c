/*
 * config.c - see config.h. The only user of <libconfig.h>.
 *
 * Loading happens in two layers. libconfig turns the file into a tree of
 * settings (or a syntax error with a line), then the code below walks that
 * tree key by key, checking types and ranges and copying values into a
 * fresh struct config. Every problem goes to the caller's report callback
 * and loading carries on, so that `sockeyed -t` shows an admin everything
 * wrong with a file in one run instead of one error per edit.
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

#include "config.h"
#include "socks5.h"
#include "util.h"

/* The file's contents, split into lines (1-based, as libconfig counts). */
struct config_text {
	char *buf;
	size_t len;
	const char **line;		/* line[i] starts line i+1 */
	size_t *line_len;
	size_t n_lines;
};

/* State of one config_load() run. */
struct config_ctx {
	const char *path;
	config_report_fn report;
	void *arg;
	int n_errors;
	struct config_text text;
	struct config *cfg;
	const config_setting_t *methods;	/* auth.methods, for its line */
};

/* Longest user-written string quoted back in a message. */
#define CONFIG_QUOTE_MAX 72

/* Keys this build knows, per group. */
static const char *const config_keys_top[] = {
	"listen", "workers", "user", "group", "pid_file",
	"shutdown_timeout_s", "log", "auth", "resolver", "connect",
	"commands", "limits", "clients", "allow_open_proxy", "access",
	"user_limits", "bind", "udp", "status_socket",
	"reload_drain_timeout_s", NULL,
};
/* Keys DESIGN.md names that later builds will implement. */
static const char *const config_keys_reserved[] = {
	NULL,
};
static const char *const config_keys_log[] = {
	"target", "level", "access", NULL,
};
static const char *const config_keys_auth[] = {
	"methods", "users_file", "chap_mutual", "chap_server_secret",
	"cache_ttl_s", "verify_threads", NULL,
};
static const char *const config_keys_resolver[] = {
	"servers", "timeout_ms", "tries", NULL,
};
static const char *const config_keys_connect[] = {
	"attempt_delay_ms", "resolution_delay_ms", "first_family_count",
	"prefer_family", "timeout_s", "bind_ipv4", "bind_ipv6", NULL,
};
static const char *const config_keys_bind[] = {
	"external_addresses", "accept_timeout_s", "require_peer_match", NULL,
};
static const char *const config_keys_udp[] = {
	"idle_timeout_s", "filtering", "strict_source", "external_address",
	"port_range", NULL,
};
static const char *const config_keys_limits[] = {
	"max_sessions", "max_sessions_per_client", "handshake_timeout_s",
	"idle_timeout_s", "max_sessions_per_user", "user_bandwidth_bps",
	"client_prefix_ipv4", "client_prefix_ipv6", NULL,
};
static const char *const config_keys_access[] = {
	"action", "users", "from", "to", "to_hosts", "ports", "commands", NULL,
};
static const char *const config_keys_user_limits[] = {
	"users", "max_sessions", "bandwidth_bps", NULL,
};

static const char *const config_default_listen[] = {
	"127.0.0.1:1080", "[::1]:1080",
};

static void config_report(struct config_ctx *ctx, const config_setting_t *s,
    int line, const char *fmt, ...) PRINTF_FMT(4, 5);

/*
 * Report one problem. The line is `line` when positive, else the setting's
 * own line, else 0 (a default or a missing key has no line).
 */
static void
config_report(struct config_ctx *ctx, const config_setting_t *s, int line,
    const char *fmt, ...)
{
	const char *file = NULL;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s != NULL) {
		file = config_setting_source_file(s);
		if (line <= 0)
			line = config_setting_source_line(s);
	}
	if (line < 0)
		line = 0;
	/* An @include'd file is named as the directive wrote it. */
	ctx->report(ctx->arg, file != NULL ? file : ctx->path, line, msg);
	ctx->n_errors++;
}

#define config_error(ctx, s, ...) config_report((ctx), (s), 0, __VA_ARGS__)

static void config_warn(struct config_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...) PRINTF_FMT(3, 4);

/*
 * A value that works but is unwise: reported like an error, as
 * "warning: ...", without making the load fail.
 */
static void
config_warn(struct config_ctx *ctx, const config_setting_t *s,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_report(ctx, s, 0, "warning: %s", msg);
	ctx->n_errors--;
}

/*
 * Copy a user's string into `buf` for a message: one line (control bytes
 * become '?'), and cut short with "..." so that a pasted blob cannot drown
 * the message.
 */
static const char *
config_quote(const char *s, char *buf, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 1 < cap; i++) {
		if (o + 4 >= cap && s[i + 1] != '\0') {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	}
	buf[o] = '\0';
	return buf;
}

static bool
config_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
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
	if (n < 1 || (size_t)n > ctx->text.n_lines)
		return NULL;
	*len = ctx->text.line_len[n - 1];
	return ctx->text.line[n - 1];
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

/* Unknown and reserved keys in `group` ("" or "connect." as `prefix`). */
static void
config_check_keys(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *const *known, bool top)
{
	int i, n;

	if (group == NULL)
		return;
	n = config_setting_length(group);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group,
		    (unsigned)i);
		const char *name = config_setting_name(s);
		char q[CONFIG_QUOTE_MAX];

		if (name == NULL || config_in(name, known))
			continue;
		if (top && config_in(name, config_keys_reserved))
			config_error(ctx, s, "`%s` is not supported by this "
			    "build yet", name);
		else
			config_error(ctx, s, "unknown key '%s%s'", prefix,
			    config_quote(name, q, sizeof(q)));
	}
}

static config_setting_t *
config_member(const config_setting_t *group, const char *name)
{
	if (group == NULL)
		return NULL;
	return config_setting_get_member(group, name);
}

/* A group such as `connect`, or NULL when absent or not a group. */
static const config_setting_t *
config_group(struct config_ctx *ctx, const config_setting_t *root,
    const char *name, const char *const *known)
{
	const config_setting_t *g = config_member(root, name);
	char prefix[64];

	if (g == NULL)
		return NULL;
	if (!config_setting_is_group(g)) {
		config_error(ctx, g, "'%s' must be a group: %s = { ... };",
		    name, name);
		return NULL;
	}
	snprintf(prefix, sizeof(prefix), "%s.", name);
	config_check_keys(ctx, g, prefix, known, false);
	return g;
}

/* An integer key in [min, max]; *out keeps its default when absent. */
static void
config_int(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *name, long long min, long long max,
    int *out)
{
	const config_setting_t *s = config_member(group, name);
	long long v, raw;
	int type;

	if (s == NULL)
		return;
	type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error(ctx, s, "'%s%s' must be an integer", prefix, name);
		return;
	}
	v = config_setting_get_int64(s);
	if (type == CONFIG_TYPE_INT && config_raw_int(ctx, s, &raw) == 0 &&
	    raw != v)
		v = raw;	/* libconfig truncated it: judge what was written */
	if (v < min || v > max) {
		config_error(ctx, s, "'%s%s' must be between %lld and %lld",
		    prefix, name, min, max);
		return;
	}
	*out = (int)v;
}

static void
config_bool(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *name, bool *out)
{
	const config_setting_t *s = config_member(group, name);

	if (s == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_error(ctx, s, "'%s%s' must be true or false", prefix,
		    name);
		return;
	}
	*out = config_setting_get_bool(s) != 0;
}

/* A string key: its value, or NULL when absent or not a string. */
static const char *
config_string(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *name, const config_setting_t **where)
{
	const config_setting_t *s = config_member(group, name);

	if (where != NULL)
		*where = s;
	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error(ctx, s, "'%s%s' must be a string", prefix, name);
		return NULL;
	}
	return config_setting_get_string(s);
}

/* Replace *out with a copy of the string key's value, when present. */
static void
config_string_dup(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *name, bool nonempty, char **out)
{
	const config_setting_t *s;
	const char *v = config_string(ctx, group, prefix, name, &s);

	if (v == NULL)
		return;
	if (nonempty && v[0] == '\0') {
		config_error(ctx, s, "'%s%s' must not be empty", prefix, name);
		return;
	}
	free(*out);
	*out = xstrdup(v);
}

/*
 * One of a fixed set of words: *out gets its index. The message lists the
 * choices so the admin need not open the manual.
 */
static void
config_choice(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *name, const char *const *choices,
    int *out)
{
	const config_setting_t *s;
	const char *v = config_string(ctx, group, prefix, name, &s);
	char list[256], q[CONFIG_QUOTE_MAX];
	size_t len = 0;
	int i;

	if (v == NULL)
		return;
	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return;
		}
	}
	list[0] = '\0';
	for (i = 0; choices[i] != NULL && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s\"%s\"", i == 0 ? "" :
		    choices[i + 1] == NULL ? " or " : ", ", choices[i]);
	config_error(ctx, s, "'%s%s' must be %s, not \"%s\"", prefix, name,
	    list, config_quote(v, q, sizeof(q)));
}

/* A list key (array or list), or NULL when absent or of another type. */
static const config_setting_t *
config_list(struct config_ctx *ctx, const config_setting_t *group,
    const char *prefix, const char *name, const char *what)
{
	const config_setting_t *s = config_member(group, name);

	if (s == NULL)
		return NULL;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		config_error(ctx, s, "'%s%s' must be a list of %s, e.g. "
		    "%s = [ ... ];", prefix, name, what, name);
		return NULL;
	}
	return s;
}

/* Element i of a list of strings, or NULL (reported) when not a string. */
static const char *
config_elem(struct config_ctx *ctx, const config_setting_t *list, int i,
    const char *prefix, const char *name, int *line)
{
	const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);

	*line = config_elem_line(ctx, e);
	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		config_report(ctx, e, *line, "'%s%s' entries must be strings",
		    prefix, name);
		return NULL;
	}
	return config_setting_get_string(e);
}

static void
config_load_listen(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *s;
	char q[CONFIG_QUOTE_MAX];
	size_t i, j;
	int n, k, line;

	s = config_list(ctx, root, "", "listen", "\"IP:PORT\" strings");
	if (s == NULL) {
		if (config_member(root, "listen") != NULL)
			return;	/* reported: wrong type */
		cfg->listen = xcalloc(ARRAY_SIZE(config_default_listen),
		    sizeof(*cfg->listen));
		for (i = 0; i < ARRAY_SIZE(config_default_listen); i++) {
			BUG_ON(sockaddr_parse_hostport(config_default_listen[i],
			    &cfg->listen[i].addr) == -1);
			cfg->listen[i].line = 0;
		}
		cfg->n_listen = ARRAY_SIZE(config_default_listen);
		return;
	}
	n = config_setting_length(s);
	if (n == 0) {
		config_error(ctx, s, "'listen' must list at least one address");
		return;
	}
	cfg->listen = xcalloc((size_t)n, sizeof(*cfg->listen));
	for (k = 0; k < n; k++) {
		struct config_listen *l = &cfg->listen[cfg->n_listen];
		const char *v = config_elem(ctx, s, k, "", "listen", &line);

		if (v == NULL)
			continue;
		if (sockaddr_parse_hostport(v, &l->addr) == -1) {
			config_report(ctx, s, line, "'listen': \"%s\" is not "
			    "\"IP:PORT\" or \"[IPv6]:PORT\"",
			    config_quote(v, q, sizeof(q)));
			continue;
		}
		for (j = 0; j < cfg->n_listen; j++)
			if (sockaddr_equal(&cfg->listen[j].addr.sa, &l->addr.sa))
				break;
		/* Two binds of one address: the second would fail later. */
		if (j < cfg->n_listen && sockaddr_port(&l->addr.sa) != 0) {
			config_report(ctx, s, line, "'listen': \"%s\" is "
			    "listed twice", config_quote(v, q, sizeof(q)));
			continue;
		}
		l->line = line;
		cfg->n_listen++;
	}
}

static void
config_load_log(struct config_ctx *ctx, const config_setting_t *root)
{
	static const char *const levels[] = {
		"error", "warning", "info", "verbose", "debug", NULL,
	};
	struct config *cfg = ctx->cfg;
	const config_setting_t *g, *s;
	const char *v;
	char q[CONFIG_QUOTE_MAX];
	int level;

	g = config_group(ctx, root, "log", config_keys_log);
	v = config_string(ctx, g, "log.", "target", &s);
	if (v != NULL) {
		if (strcmp(v, "syslog") == 0) {
			cfg->log.target = LOG_TARGET_SYSLOG;
		} else if (strcmp(v, "stderr") == 0) {
			cfg->log.target = LOG_TARGET_STDERR;
		} else if (v[0] == '/') {
			cfg->log.target = LOG_TARGET_FILE;
			cfg->log.path = xstrdup(v);
		} else {
			config_error(ctx, s, "'log.target' must be \"syslog\", "
			    "\"stderr\" or an absolute path starting with "
			    "\"/\", not \"%s\"", config_quote(v, q, sizeof(q)));
		}
	}
	v = config_string(ctx, g, "log.", "level", &s);
	if (v != NULL) {
		enum log_level l;

		if (log_level_parse(v, &l) == 0) {
			cfg->log.level = l;
		} else {
			/* config_choice() words the message like every other. */
			level = -1;
			config_choice(ctx, g, "log.", "level", levels, &level);
		}
	}
	config_bool(ctx, g, "log.", "access", &cfg->log.access);
}

static const char *
config_method_name(uint8_t m)
{
	switch (m) {
	case SOCKS5_METHOD_NONE:
		return "none";
	case SOCKS5_METHOD_PASSWORD:
		return "password";
	case SOCKS5_METHOD_CHAP:
		return "chap";
	default:
		return "?";
	}
}

/*
 * Which methods this build can serve: all three. (A method that parsed
 * here but could not be served would leave a daemon that lets nobody in,
 * so an unsupported one is an error, not a warning.)
 */
static bool
config_method_supported(uint8_t m)
{
	return m == SOCKS5_METHOD_NONE || m == SOCKS5_METHOD_PASSWORD ||
	    m == SOCKS5_METHOD_CHAP;
}

/*
 * A server-wide CHAP secret in the config makes the config as sensitive
 * as the users file: refuse it in a file that everybody can read.
 */
static void
config_check_secret_mode(struct config_ctx *ctx, const config_setting_t *g)
{
	const config_setting_t *s = config_member(g, "chap_server_secret");
	const char *file;
	struct stat st;

	if (s == NULL || ctx->cfg->auth.chap_server_secret == NULL ||
	    ctx->cfg->auth.chap_server_secret[0] == '\0')
		return;
	file = config_setting_source_file(s);
	if (file == NULL)
		file = ctx->path;
	if (stat(file, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)))
		config_error(ctx, s, "'auth.chap_server_secret' is set, but "
		    "%s can be read by others (mode %04o); run chmod o-rw on "
		    "it", file, (unsigned)st.st_mode & 07777);
}

static void
config_load_auth(struct config_ctx *ctx, const config_setting_t *root)
{
	static const char *const mutual[] = {
		"allow", "require", "deny", NULL,
	};
	static const struct {
		const char *name;
		uint8_t method;
	} methods[] = {
		{ "none", SOCKS5_METHOD_NONE },
		{ "password", SOCKS5_METHOD_PASSWORD },
		{ "chap", SOCKS5_METHOD_CHAP },
	};
	struct config *cfg = ctx->cfg;
	const config_setting_t *g, *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line, choice;
	size_t i, j;

	g = config_group(ctx, root, "auth", config_keys_auth);
	s = config_list(ctx, g, "auth.", "methods", "method names");
	ctx->methods = s;
	if (s == NULL && config_member(g, "methods") == NULL &&
	    (g != NULL || config_member(root, "auth") == NULL)) {
		/* The default, ["password"], must pass the same check. */
		if (!config_method_supported(cfg->auth.methods[0]))
			config_report(ctx, g, 0, "auth method \"%s\" is not "
			    "supported by this build yet (it is the default "
			    "of auth.methods; set auth.methods = [ \"none\" ])",
			    config_method_name(cfg->auth.methods[0]));
	} else if (s != NULL) {
		n = config_setting_length(s);
		if (n == 0)
			config_error(ctx, s, "'auth.methods' must list at "
			    "least one method");
		cfg->auth.n_methods = 0;
		for (k = 0; k < n; k++) {
			const char *v = config_elem(ctx, s, k, "auth.",
			    "methods", &line);

			if (v == NULL)
				continue;
			for (i = 0; i < ARRAY_SIZE(methods); i++)
				if (strcmp(v, methods[i].name) == 0)
					break;
			if (i == ARRAY_SIZE(methods)) {
				config_report(ctx, s, line, "'auth.methods': "
				    "unknown method \"%s\" (\"none\", "
				    "\"password\" or \"chap\")",
				    config_quote(v, q, sizeof(q)));
				continue;
			}
			for (j = 0; j < cfg->auth.n_methods; j++)
				if (cfg->auth.methods[j] == methods[i].method)
					break;
			if (j < cfg->auth.n_methods) {
				config_report(ctx, s, line, "'auth.methods': "
				    "\"%s\" is listed twice", v);
				continue;
			}
			if (!config_method_supported(methods[i].method))
				config_report(ctx, s, line, "auth method "
				    "\"%s\" is not supported by this build "
				    "yet", v);
			BUG_ON(cfg->auth.n_methods >=
			    ARRAY_SIZE(cfg->auth.methods));
			cfg->auth.methods[cfg->auth.n_methods++] =
			    methods[i].method;
		}
	}
	config_string_dup(ctx, g, "auth.", "users_file", false,
	    &cfg->auth.users_file);
	choice = (int)cfg->auth.chap_mutual;
	config_choice(ctx, g, "auth.", "chap_mutual", mutual, &choice);
	cfg->auth.chap_mutual = (enum chap_mutual)choice;
	config_string_dup(ctx, g, "auth.", "chap_server_secret", false,
	    &cfg->auth.chap_server_secret);
	config_check_secret_mode(ctx, g);
	config_int(ctx, g, "auth.", "cache_ttl_s", 0, 86400,
	    &cfg->auth.cache_ttl_s);
	config_int(ctx, g, "auth.", "verify_threads", 1, 64,
	    &cfg->auth.verify_threads);
}

static void
config_load_resolver(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *g, *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;

	g = config_group(ctx, root, "resolver", config_keys_resolver);
	s = config_list(ctx, g, "resolver.", "servers", "addresses");
	if (s != NULL && (n = config_setting_length(s)) > 0) {
		cfg->resolver.servers = xcalloc((size_t)n,
		    sizeof(*cfg->resolver.servers));
		for (k = 0; k < n; k++) {
			union sockaddr_any *a =
			    &cfg->resolver.servers[cfg->resolver.n_servers];
			const char *v = config_elem(ctx, s, k, "resolver.",
			    "servers", &line);

			if (v == NULL)
				continue;
			/* "::1" is an address, never "::" port 1. */
			if (sockaddr_parse_ip(v, 53, a) == -1 &&
			    sockaddr_parse_hostport(v, a) == -1) {
				config_report(ctx, s, line, "'resolver.servers':"
				    " \"%s\" is not \"IP\", \"IP:PORT\" or "
				    "\"[IPv6]:PORT\"",
				    config_quote(v, q, sizeof(q)));
				continue;
			}
			if (sockaddr_port(&a->sa) == 0) {
				config_report(ctx, s, line, "'resolver.servers':"
				    " \"%s\": port 0 is not a DNS server",
				    config_quote(v, q, sizeof(q)));
				continue;
			}
			cfg->resolver.n_servers++;
		}
	}
	config_int(ctx, g, "resolver.", "timeout_ms", 10, 60000,
	    &cfg->resolver.timeout_ms);
	config_int(ctx, g, "resolver.", "tries", 1, 10, &cfg->resolver.tries);
}

/* connect.bind_ipv4 / bind_ipv6: "" (none) or a literal of `family`. */
static void
config_bind_addr(struct config_ctx *ctx, const config_setting_t *g,
    const char *name, int family, bool *has, union sockaddr_any *out)
{
	const config_setting_t *s;
	const char *v = config_string(ctx, g, "connect.", name, &s);
	char q[CONFIG_QUOTE_MAX];

	if (v == NULL || v[0] == '\0')
		return;
	if (sockaddr_parse_ip(v, 0, out) == -1 || out->sa.sa_family != family) {
		memset(out, 0, sizeof(*out));
		config_error(ctx, s, "'connect.%s' must be \"\" or an %s "
		    "address, not \"%s\"", name,
		    family == AF_INET ? "IPv4" : "IPv6",
		    config_quote(v, q, sizeof(q)));
		return;
	}
	*has = true;
}

static void
config_load_connect(struct config_ctx *ctx, const config_setting_t *root)
{
	static const char *const families[] = { "ipv6", "ipv4", NULL };
	struct config *cfg = ctx->cfg;
	const config_setting_t *g;
	int fam = cfg->connect.prefer_family == AF_INET ? 1 : 0;

	g = config_group(ctx, root, "connect", config_keys_connect);
	config_int(ctx, g, "connect.", "attempt_delay_ms", 10, 2000,
	    &cfg->connect.attempt_delay_ms);
	/* RFC 8305 section 5: 100 ms is the minimum, 10 ms a hard floor. */
	if (cfg->connect.attempt_delay_ms < 100)
		config_warn(ctx, config_member(g, "attempt_delay_ms"),
		    "'connect.attempt_delay_ms' = %d is below the 100 ms "
		    "minimum of RFC 8305; meant for tests only",
		    cfg->connect.attempt_delay_ms);
	config_int(ctx, g, "connect.", "resolution_delay_ms", 0, 2000,
	    &cfg->connect.resolution_delay_ms);
	config_int(ctx, g, "connect.", "first_family_count", 1, 16,
	    &cfg->connect.first_family_count);
	config_choice(ctx, g, "connect.", "prefer_family", families, &fam);
	cfg->connect.prefer_family = fam == 1 ? AF_INET : AF_INET6;
	config_int(ctx, g, "connect.", "timeout_s", 1, 3600,
	    &cfg->connect.timeout_s);
	config_bind_addr(ctx, g, "bind_ipv4", AF_INET,
	    &cfg->connect.has_bind_ipv4, &cfg->connect.bind_ipv4);
	config_bind_addr(ctx, g, "bind_ipv6", AF_INET6,
	    &cfg->connect.has_bind_ipv6, &cfg->connect.bind_ipv6);
}

static void
config_load_commands(struct config_ctx *ctx, const config_setting_t *root)
{
	static const struct {
		const char *name;
		unsigned cmd;
	} cmds[] = {
		{ "connect", SOCKS5_CMD_CONNECT },
		{ "bind", SOCKS5_CMD_BIND },
		{ "udp_associate", SOCKS5_CMD_UDP_ASSOCIATE },
	};
	struct config *cfg = ctx->cfg;
	const config_setting_t *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;
	size_t i;

	s = config_list(ctx, root, "", "commands", "command names");
	if (s == NULL)
		return;
	n = config_setting_length(s);
	if (n == 0) {
		config_error(ctx, s, "'commands' must list at least one "
		    "command");
		return;
	}
	cfg->commands = 0;
	for (k = 0; k < n; k++) {
		const char *v = config_elem(ctx, s, k, "", "commands", &line);

		if (v == NULL)
			continue;
		for (i = 0; i < ARRAY_SIZE(cmds); i++)
			if (strcmp(v, cmds[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(cmds)) {
			config_report(ctx, s, line, "'commands': unknown "
			    "command \"%s\" (\"connect\", \"bind\" or "
			    "\"udp_associate\")", config_quote(v, q, sizeof(q)));
			continue;
		}
		if (cfg->commands & CONFIG_CMD_BIT(cmds[i].cmd)) {
			config_report(ctx, s, line, "'commands': \"%s\" is "
			    "listed twice", v);
			continue;
		}
		cfg->commands |= CONFIG_CMD_BIT(cmds[i].cmd);
	}
}

/* `bind`: the BIND command (bind.h). */
static void
config_load_bind(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *g, *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;

	g = config_group(ctx, root, "bind", config_keys_bind);
	s = config_list(ctx, g, "bind.", "external_addresses", "addresses");
	if (s != NULL && (n = config_setting_length(s)) > 0) {
		cfg->bind.external = xcalloc((size_t)n,
		    sizeof(*cfg->bind.external));
		for (k = 0; k < n; k++) {
			union sockaddr_any *a =
			    &cfg->bind.external[cfg->bind.n_external];
			const char *v = config_elem(ctx, s, k, "bind.",
			    "external_addresses", &line);

			if (v == NULL)
				continue;
			if (sockaddr_parse_ip(v, 0, a) == -1) {
				config_report(ctx, s, line, "'bind.external_"
				    "addresses': \"%s\" is not an IPv4 or IPv6 "
				    "address", config_quote(v, q, sizeof(q)));
				continue;
			}
			cfg->bind.n_external++;
		}
	}
	config_int(ctx, g, "bind.", "accept_timeout_s", 1, 86400,
	    &cfg->bind.accept_timeout_s);
	config_bool(ctx, g, "bind.", "require_peer_match",
	    &cfg->bind.require_peer_match);
}

/* `udp`: the UDP ASSOCIATE command (udp.h). */
static void
config_load_udp(struct config_ctx *ctx, const config_setting_t *root)
{
	static const char *const filtering[] = {
		"address-dependent", "endpoint-independent", NULL,
	};
	struct config *cfg = ctx->cfg;
	const config_setting_t *g, *s;
	char q[CONFIG_QUOTE_MAX];
	struct port_range pr;
	const char *v;
	int choice;

	g = config_group(ctx, root, "udp", config_keys_udp);
	config_int(ctx, g, "udp.", "idle_timeout_s", 0, 86400,
	    &cfg->udp.idle_timeout_s);
	choice = (int)cfg->udp.filtering;
	config_choice(ctx, g, "udp.", "filtering", filtering, &choice);
	cfg->udp.filtering = (enum config_udp_filtering)choice;
	config_bool(ctx, g, "udp.", "strict_source", &cfg->udp.strict_source);
	v = config_string(ctx, g, "udp.", "external_address", &s);
	if (v != NULL && v[0] != '\0') {
		if (sockaddr_parse_ip(v, 0, &cfg->udp.external) == -1)
			config_error(ctx, s, "'udp.external_address' must be "
			    "\"\" or an IPv4 or IPv6 address, not \"%s\"",
			    config_quote(v, q, sizeof(q)));
		else
			cfg->udp.has_external = true;
	}
	v = config_string(ctx, g, "udp.", "port_range", &s);
	if (v != NULL && v[0] != '\0') {
		if (acl_parse_ports(v, &pr) == -1) {
			config_error(ctx, s, "'udp.port_range' must be \"\", "
			    "a port or a range such as \"40000-40999\", not "
			    "\"%s\"", config_quote(v, q, sizeof(q)));
		} else {
			cfg->udp.port_lo = pr.lo;
			cfg->udp.port_hi = pr.hi;
		}
	}
}

static void
config_load_limits(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *g;

	g = config_group(ctx, root, "limits", config_keys_limits);
	config_int(ctx, g, "limits.", "max_sessions", 1, 10000000,
	    &cfg->limits.max_sessions);
	config_int(ctx, g, "limits.", "max_sessions_per_client", 1, 10000000,
	    &cfg->limits.max_sessions_per_client);
	config_int(ctx, g, "limits.", "handshake_timeout_s", 1, 3600,
	    &cfg->limits.handshake_timeout_s);
	config_int(ctx, g, "limits.", "idle_timeout_s", 0, 2592000,
	    &cfg->limits.idle_timeout_s);
	config_int(ctx, g, "limits.", "max_sessions_per_user", 0, 10000000,
	    &cfg->limits.max_sessions_per_user);
	config_int(ctx, g, "limits.", "user_bandwidth_bps", 0, 2000000000,
	    &cfg->limits.user_bandwidth_bps);
	config_int(ctx, g, "limits.", "client_prefix_ipv4", 1, 32,
	    &cfg->limits.client_prefix_ipv4);
	config_int(ctx, g, "limits.", "client_prefix_ipv6", 1, 128,
	    &cfg->limits.client_prefix_ipv6);
}

/*
 * A list of strings from a rule (`what` says what each must be); `check`
 * validates one entry (NULL: any non-empty string). Returns the count
 * stored in *out (NULL when the key is absent).
 */
static size_t
config_rule_strings(struct config_ctx *ctx, const config_setting_t *g,
    const char *prefix, const char *name, const char *what,
    bool (*check)(const char *), char ***out)
{
	const config_setting_t *s = config_list(ctx, g, prefix, name, what);
	char q[CONFIG_QUOTE_MAX];
	size_t got = 0;
	int n, k, line;

	*out = NULL;
	if (s == NULL)
		return 0;
	n = config_setting_length(s);
	if (n == 0) {
		config_error(ctx, s, "'%s%s' must not be empty (leave the key "
		    "out to match anything)", prefix, name);
		return 0;
	}
	*out = xcalloc((size_t)n, sizeof(char *));
	for (k = 0; k < n; k++) {
		const char *v = config_elem(ctx, s, k, prefix, name, &line);

		if (v == NULL)
			continue;
		if (v[0] == '\0' || (check != NULL && !check(v))) {
			config_report(ctx, s, line, "'%s%s': \"%s\" is not %s",
			    prefix, name, config_quote(v, q, sizeof(q)), what);
			continue;
		}
		(*out)[got++] = xstrdup(v);
	}
	return got;
}

/* "example.com", "*.example.com" or "*": letters, digits, '-', '_', '.'. */
static bool
config_host_pattern_ok(const char *v)
{
	const char *p = v;

	if (strcmp(v, "*") == 0)
		return true;
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	if (*p == '\0' || strlen(p) > 253)
		return false;
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return false;
	return true;
}

static size_t
config_rule_nets(struct config_ctx *ctx, const config_setting_t *g,
    const char *prefix, const char *name, struct cidr **out)
{
	char **v;
	size_t n = config_rule_strings(ctx, g, prefix, name,
	    "a network such as \"10.0.0.0/8\" or \"2001:db8::/32\"", NULL, &v);
	size_t i, got = 0;
	char q[CONFIG_QUOTE_MAX];

	*out = NULL;
	if (v == NULL)
		return 0;
	*out = xcalloc(n > 0 ? n : 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		if (cidr_parse(v[i], &(*out)[got]) == -1)
			config_error(ctx, config_member(g, name), "'%s%s': \"%s\" "
			    "is not a network such as \"10.0.0.0/8\", "
			    "\"2001:db8::/32\" or an address", prefix, name,
			    config_quote(v[i], q, sizeof(q)));
		else
			got++;
		free(v[i]);
	}
	free(v);
	return got;
}

static void
config_load_rule(struct config_ctx *ctx, const config_setting_t *g,
    const char *prefix, struct acl_rule *r)
{
	static const char *const actions[] = { "allow", "deny", NULL };
	const config_setting_t *s;
	char **v;
	size_t i, n;
	int action = -1;
	char q[CONFIG_QUOTE_MAX];

	r->line = config_setting_source_line(g);
	config_choice(ctx, g, prefix, "action", actions, &action);
	if (config_member(g, "action") == NULL)
		config_error(ctx, g, "'%saction' is missing: \"allow\" or "
		    "\"deny\"", prefix);
	r->action = action == 1 ? ACL_DENY : ACL_ALLOW;
	if (config_member(g, "users") != NULL) {
		r->n_users = config_rule_strings(ctx, g, prefix, "users",
		    "a user name", NULL, &r->users);
		if (r->users == NULL)
			r->users = xcalloc(1, sizeof(char *));
	}
	if (config_member(g, "from") != NULL) {
		r->n_from = config_rule_nets(ctx, g, prefix, "from", &r->from);
		if (r->from == NULL)
			r->from = xcalloc(1, sizeof(*r->from));
	}
	if (config_member(g, "to") != NULL) {
		r->n_to = config_rule_nets(ctx, g, prefix, "to", &r->to);
		if (r->to == NULL)
			r->to = xcalloc(1, sizeof(*r->to));
	}
	if (config_member(g, "to_hosts") != NULL) {
		r->n_to_hosts = config_rule_strings(ctx, g, prefix, "to_hosts",
		    "a host name or pattern such as \"*.example.com\"",
		    config_host_pattern_ok, &r->to_hosts);
		if (r->to_hosts == NULL)
			r->to_hosts = xcalloc(1, sizeof(char *));
	}
	if (config_member(g, "ports") != NULL) {
		n = config_rule_strings(ctx, g, prefix, "ports",
		    "a port or range such as \"443\" or \"1024-65535\"", NULL, &v);
		r->ports = xcalloc(n > 0 ? n : 1, sizeof(*r->ports));
		for (i = 0; v != NULL && i < n; i++) {
			if (acl_parse_ports(v[i], &r->ports[r->n_ports]) == -1)
				config_error(ctx, config_member(g, "ports"),
				    "'%sports': \"%s\" is not a port (1-65535) "
				    "or a range such as \"1024-65535\"", prefix,
				    config_quote(v[i], q, sizeof(q)));
			else
				r->n_ports++;
			free(v[i]);
		}
		free(v);
	}
	if ((s = config_member(g, "commands")) != NULL) {
		n = config_rule_strings(ctx, g, prefix, "commands",
		    "a command: \"connect\", \"bind\" or \"udp_associate\"",
		    NULL, &v);
		for (i = 0; v != NULL && i < n; i++) {
			if (strcmp(v[i], "connect") == 0)
				r->commands |= CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT);
			else if (strcmp(v[i], "bind") == 0)
				r->commands |= CONFIG_CMD_BIT(SOCKS5_CMD_BIND);
			else if (strcmp(v[i], "udp_associate") == 0)
				r->commands |= CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE);
			else
				config_error(ctx, s, "'%scommands': unknown command "
				    "\"%s\" (\"connect\", \"bind\" or "
				    "\"udp_associate\")", prefix,
				    config_quote(v[i], q, sizeof(q)));
			free(v[i]);
		}
		free(v);
	}
}

/* A list of groups such as `access = ( { ... }, { ... } );`. */
static const config_setting_t *
config_group_list(struct config_ctx *ctx, const config_setting_t *root,
    const char *name)
{
	const config_setting_t *s = config_member(root, name);

	if (s == NULL)
		return NULL;
	if (!config_setting_is_list(s)) {
		config_error(ctx, s, "'%s' must be a list of groups: %s = "
		    "( { ... }, { ... } );", name, name);
		return NULL;
	}
	return s;
}

static void
config_load_access(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *s;
	int n, k;

	/* Present but wrong still counts: refuse rather than allow all. */
	cfg->has_access = config_member(root, "access") != NULL;
	if ((s = config_group_list(ctx, root, "access")) == NULL)
		return;
	n = config_setting_length(s);
	cfg->acl.rules = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*cfg->acl.rules));
	for (k = 0; k < n; k++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)k);
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "access[%d].", k);
		if (!config_setting_is_group(g)) {
			config_error(ctx, g, "'access' entries must be groups: "
			    "{ action = \"allow\"; ... }");
			continue;
		}
		config_check_keys(ctx, g, prefix, config_keys_access, false);
		config_load_rule(ctx, g, prefix, &cfg->acl.rules[cfg->acl.n_rules]);
		cfg->acl.n_rules++;
	}
}

static void
config_load_user_limits(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *s;
	int n, k;

	if ((s = config_group_list(ctx, root, "user_limits")) == NULL)
		return;
	n = config_setting_length(s);
	cfg->user_limits = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*cfg->user_limits));
	for (k = 0; k < n; k++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)k);
		struct config_user_limit *u = &cfg->user_limits[cfg->n_user_limits];
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "user_limits[%d].", k);
		if (!config_setting_is_group(g)) {
			config_error(ctx, g, "'user_limits' entries must be groups: "
			    "{ users = [ \"alice\" ]; max_sessions = 10; }");
			continue;
		}
		config_check_keys(ctx, g, prefix, config_keys_user_limits, false);
		u->line = config_setting_source_line(g);
		u->max_sessions = u->bandwidth_bps = -1;
		u->n_users = config_rule_strings(ctx, g, prefix, "users",
		    "a user name", NULL, &u->users);
		if (u->users == NULL)
			config_error(ctx, g, "'%susers' is missing: the users "
			    "these limits apply to", prefix);
		config_int(ctx, g, prefix, "max_sessions", 0, 10000000,
		    &u->max_sessions);
		config_int(ctx, g, prefix, "bandwidth_bps", 0, 2000000000,
		    &u->bandwidth_bps);
		cfg->n_user_limits++;
	}
}

void
config_user_limits(const struct config *cfg, const char *user,
    int *max_sessions, int *bandwidth_bps)
{
	size_t i, j;
	int ms = -1, bw = -1;

	for (i = 0; user != NULL && i < cfg->n_user_limits; i++) {
		const struct config_user_limit *u = &cfg->user_limits[i];

		for (j = 0; j < u->n_users; j++)
			if (strcmp(u->users[j], "*") == 0 ||
			    strcmp(u->users[j], user) == 0)
				break;
		if (j == u->n_users)
			continue;
		if (ms < 0)
			ms = u->max_sessions;
		if (bw < 0)
			bw = u->bandwidth_bps;
	}
	*max_sessions = ms >= 0 ? ms : cfg->limits.max_sessions_per_user;
	*bandwidth_bps = bw >= 0 ? bw : cfg->limits.user_bandwidth_bps;
}

static void
config_load_clients(struct config_ctx *ctx, const config_setting_t *root)
{
	struct config *cfg = ctx->cfg;
	const config_setting_t *s;
	char q[CONFIG_QUOTE_MAX];
	int n, k, line;

	/*
	 * Even a wrong `clients` counts as present: the open-proxy guard must
	 * not fire on top of the error that explains the real problem.
	 */
	cfg->has_clients = config_member(root, "clients") != NULL;
	s = config_list(ctx, root, "", "clients", "networks");
	if (s == NULL)
		return;
	n = config_setting_length(s);
	if (n == 0) {
		config_error(ctx, s, "'clients' must list at least one network "
		    "(without the key, anyone may connect)");
		return;
	}
	cfg->clients = xcalloc((size_t)n, sizeof(*cfg->clients));
	for (k = 0; k < n; k++) {
		const char *v = config_elem(ctx, s, k, "", "clients", &line);

		if (v == NULL)
			continue;
		if (cidr_parse(v, &cfg->clients[cfg->n_clients]) == -1) {
			config_report(ctx, s, line, "'clients': \"%s\" is not "
			    "a network such as \"10.0.0.0/8\", "
			    "\"2001:db8::/32\" or an address",
			    config_quote(v, q, sizeof(q)));
			continue;
		}
		cfg->n_clients++;
	}
}

/*
 * DESIGN.md "Safe by default": no authentication, reachable from other
 * hosts, and no client list is an open proxy that the internet will find
 * within hours. Refuse unless the admin says so in so many words.
 */
static void
config_check_open_proxy(struct config_ctx *ctx)
{
	const struct config *cfg = ctx->cfg;
	char addr[SOCKADDR_STRLEN];
	bool none = false;
	size_t i;

	if (cfg->has_clients || cfg->allow_open_proxy)
		return;
	for (i = 0; i < cfg->auth.n_methods; i++)
		if (cfg->auth.methods[i] == SOCKS5_METHOD_NONE)
			none = true;
	if (!none)
		return;
	for (i = 0; i < cfg->n_listen; i++)
		if (!sockaddr_is_loopback(&cfg->listen[i].addr.sa))
			break;
	if (i == cfg->n_listen)
		return;
	sockaddr_format(&cfg->listen[i].addr.sa, addr, sizeof(addr));
	config_report(ctx, ctx->methods, 0, "refusing to run an open proxy: "
	    "auth method \"none\" on non-loopback listener %s with no "
	    "`clients`; require \"password\" or \"chap\" in auth.methods, "
	    "listen only on loopback addresses, or list the allowed networks "
	    "in `clients` (or set allow_open_proxy = true if you really mean "
	    "it)", addr);
}

/*
 * status_socket: absent or "" for none, else an absolute path (the
 * daemon changes to / when it detaches, and a reload must find it).
 */
static void
config_load_status_socket(struct config_ctx *ctx, const config_setting_t *root)
{
	const config_setting_t *s;
	char q[CONFIG_QUOTE_MAX];
	const char *v = config_string(ctx, root, "", "status_socket", &s);

	if (v == NULL || v[0] == '\0')
		return;
	if (v[0] != '/') {
		config_error(ctx, s, "'status_socket' must be an absolute path, "
		    "not \"%s\"", config_quote(v, q, sizeof(q)));
		return;
	}
	ctx->cfg->status_socket = xstrdup(v);
}

static struct config *
config_new_defaults(const char *path)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->file = xstrdup(path);
	cfg->workers = 0;
	cfg->user = xstrdup("sockeye");
	cfg->group = xstrdup("sockeye");
	cfg->pid_file = xstrdup("/run/sockeye/sockeyed.pid");
	cfg->shutdown_timeout_s = 30;
	cfg->reload_drain_timeout_s = 3600;
	cfg->log.target = LOG_TARGET_SYSLOG;
	cfg->log.path = NULL;
	cfg->log.level = LOG_LEVEL_INFO;
	cfg->log.access = true;
	cfg->auth.methods[0] = SOCKS5_METHOD_PASSWORD;
	cfg->auth.n_methods = 1;
	cfg->auth.users_file = xstrdup("/etc/sockeye/users");
	cfg->auth.chap_mutual = CHAP_MUTUAL_ALLOW;
	cfg->auth.chap_server_secret = xstrdup("");
	cfg->auth.cache_ttl_s = 300;
	cfg->auth.verify_threads = 2;
	cfg->resolver.timeout_ms = 2000;
	cfg->resolver.tries = 2;
	cfg->connect.attempt_delay_ms = 250;
	cfg->connect.resolution_delay_ms = 50;
	cfg->connect.first_family_count = 1;
	cfg->connect.prefer_family = AF_INET6;
	cfg->connect.timeout_s = 30;
	cfg->commands = CONFIG_CMD_BIT(SOCKS5_CMD_CONNECT) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_BIND) |
	    CONFIG_CMD_BIT(SOCKS5_CMD_UDP_ASSOCIATE);
	cfg->bind.accept_timeout_s = 120;
	cfg->bind.require_peer_match = true;	/* RFC 1928: the peer is checked */
	cfg->udp.idle_timeout_s = 300;
	cfg->udp.filtering = CONFIG_UDP_ADDRESS_DEPENDENT;
	cfg->udp.strict_source = false;
	cfg->limits.max_sessions = 20000;
	cfg->limits.max_sessions_per_client = 1024;
	cfg->limits.client_prefix_ipv4 = 32;
	cfg->limits.client_prefix_ipv6 = 64;
	cfg->limits.handshake_timeout_s = 15;
	cfg->limits.idle_timeout_s = 7200;
	cfg->has_clients = false;
	cfg->allow_open_proxy = false;
	return cfg;
}

struct config *
config_load(const char *path, config_report_fn report, void *arg)
{
	struct config_ctx ctx;
	const config_setting_t *root;
	config_t cf;
	struct config *cfg;

	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.report = report;
	ctx.arg = arg;

	if (config_text_read(&ctx.text, path) == -1) {
		char msg[256];

		snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno));
		report(arg, path, 0, msg);
		return NULL;
	}

	/*
	 * No config_set_include_dir(): libconfig 1.5 prepends it even to an
	 * absolute @include path, so relative paths stay relative to the
	 * working directory, as libconfig documents.
	 */
	config_init(&cf);
	if (config_read_file(&cf, path) == CONFIG_FALSE) {
		const char *file = config_error_file(&cf);
		char msg[256];

		if (file == NULL)
			file = path;
		if (config_error_type(&cf) == CONFIG_ERR_PARSE) {
			report(arg, file, config_error_line(&cf),
			    config_error_text(&cf));
		} else {
			snprintf(msg, sizeof(msg), "cannot read: %s",
			    config_error_text(&cf));
			report(arg, file, 0, msg);
		}
		config_destroy(&cf);
		config_text_free(&ctx.text);
		return NULL;
	}

	cfg = ctx.cfg = config_new_defaults(path);
	root = config_root_setting(&cf);
	config_check_keys(&ctx, root, "", config_keys_top, true);

	config_load_listen(&ctx, root);
	config_int(&ctx, root, "", "workers", 0, 256, &cfg->workers);
	config_string_dup(&ctx, root, "", "user", true, &cfg->user);
	config_string_dup(&ctx, root, "", "group", true, &cfg->group);
	config_string_dup(&ctx, root, "", "pid_file", false, &cfg->pid_file);
	config_load_status_socket(&ctx, root);
	config_int(&ctx, root, "", "shutdown_timeout_s", 0, 86400,
	    &cfg->shutdown_timeout_s);
	config_int(&ctx, root, "", "reload_drain_timeout_s", 0,
	    RELOAD_DRAIN_TIMEOUT_MAX, &cfg->reload_drain_timeout_s);
	config_load_log(&ctx, root);
	config_load_auth(&ctx, root);
	config_load_resolver(&ctx, root);
	config_load_connect(&ctx, root);
	config_load_commands(&ctx, root);
	config_load_bind(&ctx, root);
	config_load_udp(&ctx, root);
	config_load_limits(&ctx, root);
	config_load_clients(&ctx, root);
	config_load_access(&ctx, root);
	config_load_user_limits(&ctx, root);
	config_bool(&ctx, root, "", "allow_open_proxy", &cfg->allow_open_proxy);
	config_check_open_proxy(&ctx);

	config_destroy(&cf);
	config_text_free(&ctx.text);
	if (ctx.n_errors > 0) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->listen);
	free(cfg->user);
	free(cfg->group);
	free(cfg->pid_file);
	free(cfg->status_socket);
	free(cfg->log.path);
	free(cfg->auth.users_file);
	if (cfg->auth.chap_server_secret != NULL) {
		/* A secret: do not leave it in freed memory. */
		explicit_bzero(cfg->auth.chap_server_secret,
		    strlen(cfg->auth.chap_server_secret));
		free(cfg->auth.chap_server_secret);
	}
	free(cfg->resolver.servers);
	free(cfg->clients);
	free(cfg->bind.external);
	acl_free(&cfg->acl);
	for (size_t i = 0; i < cfg->n_user_limits; i++) {
		for (size_t j = 0; j < cfg->user_limits[i].n_users; j++)
			free(cfg->user_limits[i].users[j]);
		free(cfg->user_limits[i].users);
	}
	free(cfg->user_limits);
	free(cfg);
}
