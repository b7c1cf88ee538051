/* SPDX-License-Identifier: ISC */
/*
 * config_int.h - what the parts of the config module share: the reader
 * (config_parse.c), the loader (config_load.c) and the rules
 * (config_rules.c). Not for callers: they use config.h. The key table has
 * its own header, config_keys.h.
 *
 * Everything here runs inside one config_load() call, in the master or at
 * startup; nothing blocks but config_load()'s own file reads.
 */
#ifndef SOCKEYE_CONFIG_INT_H
#define SOCKEYE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

/*
 * A setting of the parsed file: a group, a list, or a value. Opaque: only
 * config_parse.c, the one user of <libconfig.h>, looks inside. Nodes
 * belong to the parsed file and live until config_parse_end().
 */
struct config_node;

/* What config_parse_begin() read (config_parse.c's). */
struct config_file;

/* State of one config_load() run. */
struct config_ctx {
	const char *path;
	config_report_fn report;
	void *arg;
	int n_errors;
	struct config_file *file;
	struct config *cfg;
	const struct config_node *methods;	/* auth.methods, for its line */
};

/* Longest user-written string quoted back in a message. */
#define CONFIG_QUOTE_MAX 72

/* --- config_parse.c: the file ------------------------------------------ */

/*
 * Read and parse ctx->path; keep its text and tree in ctx->file. Returns
 * the root group, or NULL after reporting through ctx->report why the file
 * cannot be read or parsed (a syntax error with its FILE:LINE); those
 * reports do not count in ctx->n_errors. Blocks on the file (and its
 * @include'd files).
 */
const struct config_node *config_parse_begin(struct config_ctx *ctx);

/* Free what config_parse_begin() kept: every node and string of the file. */
void config_parse_end(struct config_ctx *ctx);

/* The line the node was written on (0: none). */
int config_node_line(const struct config_node *n);

/* The file the node was written in: ctx->path or an @include'd file. */
const char *config_node_file(const struct config_ctx *ctx,
    const struct config_node *n);

/* --- config_parse.c: reports ------------------------------------------ */

/*
 * Report one problem and count it as an error. The line is `line` when
 * positive, else the setting's own line, else 0 (a default or a missing
 * key has no line).
 */
void config_report(struct config_ctx *ctx, const struct config_node *s,
    int line, const char *fmt, ...) PRINTF_FMT(4, 5);

#define config_error(ctx, s, ...) config_report((ctx), (s), 0, __VA_ARGS__)

/*
 * A value that works but is unwise: reported like an error, as
 * "warning: ...", without making the load fail.
 */
void config_warn(struct config_ctx *ctx, const struct config_node *s,
    const char *fmt, ...) PRINTF_FMT(3, 4);

/* The index of `v` in the NULL-terminated `words`, or -1. */
int config_word(const char *const *words, const char *v);

/* --- config_parse.c: typed getters --------------------------------------
 *
 * Every key a getter reads is one of config_keys.h's table, which gives
 * its range, its words and its default; a key missing from the table, or
 * there with another type, is a bug (BUG_ON). `prefix` ("", "connect.",
 * "access[2].") names the key's group for the table and, with `name`, the
 * key in messages. An absent key takes the table's default (when it has
 * one) without a report; a value of the wrong type or out of range is
 * reported and leaves the default. Strings returned belong to the parsed
 * file or the table: valid until config_parse_end().
 */

/* Report the keys of `group` that the table lacks or reserves. */
void config_check_keys(struct config_ctx *ctx,
    const struct config_node *group, const char *prefix);

/* Member `name` of `group`, or NULL (also when group is NULL). */
const struct config_node *config_member(const struct config_node *group,
    const char *name);

/* A group such as `connect` with its keys checked, or NULL when absent or
 * not a group (reported). */
const struct config_node *config_group(struct config_ctx *ctx,
    const struct config_node *root, const char *name);

/* An integer key, in the table's range, into *out. */
void config_int(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, int *out);

void config_bool(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, bool *out);

/* A string key's value, its default when absent (NULL without one), or
 * NULL when not a string; *where (if not NULL) gets the setting, NULL
 * when absent, for messages. */
const char *config_string(struct config_ctx *ctx,
    const struct config_node *group, const char *prefix, const char *name,
    const struct config_node **where);

/* Replace *out (malloc'd, freed here) with a malloc'd copy of the value
 * or default; "" is refused for a CONFIG_KEY_NOT_EMPTY key. */
void config_string_dup(struct config_ctx *ctx,
    const struct config_node *group, const char *prefix, const char *name,
    char **out);

/* One of the key's words (config_key.choices): *out gets its index. */
void config_choice(struct config_ctx *ctx, const struct config_node *group,
    const char *prefix, const char *name, int *out);

/*
 * The strings of a list key, one at a time: those of the file, or the
 * table's default when the key is absent, so that a default passes the
 * same checks as a value written in the file.
 */
struct config_strings {
	const struct config_node *list;	/* NULL: the default's */
	const char *const *def;
	const char *prefix, *name;
	int n, i;
	const char *v;			/* the current string */
	int line;			/* its line; 0 for a default */
};

/*
 * Start on list key `name`. Returns how many elements it has, or -1 when
 * it is absent without a default, or not a list (reported, naming `what`
 * the entries must be). An empty list in the file is reported as
 * "'NAME' `empty`" when `empty` is not NULL.
 */
int config_strings_begin(struct config_ctx *ctx,
    const struct config_node *group, const char *prefix, const char *name,
    const char *what, const char *empty, struct config_strings *it);

/* The next string into it->v and it->line: false after the last. An
 * element that is not a string is reported and skipped. */
bool config_strings_next(struct config_ctx *ctx, struct config_strings *it);

/*
 * The entries of a list of groups such as `access = ( { ... }, ... );`,
 * one at a time, each with its keys checked.
 */
struct config_groups {
	const struct config_node *list;
	const char *name, *example;
	int n, i;
	char prefix[32];		/* "access[2]." for the current entry */
};

/*
 * Start on list-of-groups key `name`. Returns how many entries it has, or
 * -1 when it is absent or not a list (reported).
 */
int config_groups_begin(struct config_ctx *ctx,
    const struct config_node *root, const char *name, const char *example,
    struct config_groups *it);

/* The next entry, its keys checked and it->prefix set; NULL after the
 * last. An entry that is not a group is reported (showing `example` of
 * one) and skipped. */
const struct config_node *config_groups_next(struct config_ctx *ctx,
    struct config_groups *it);

/* --- config_load.c ------------------------------------------------------ */

/* A SOCKS command by name ("connect", "bind", "udp_associate"): its
 * CONFIG_CMD_BIT(), or 0 for another name. For `commands` and the access
 * rules' `commands`. */
unsigned config_cmd_bit(const char *name);

/* The names config_cmd_bit() knows, for messages. */
#define CONFIG_CMD_NAMES "\"connect\", \"bind\" or \"udp_associate\""

/* --- config_rules.c ----------------------------------------------------- */

/* `access`: the rules into cfg->acl. */
void config_load_access(struct config_ctx *ctx, const struct config_node *root);

/* `user_limits` into cfg->user_limits. */
void config_load_user_limits(struct config_ctx *ctx,
    const struct config_node *root);

/* `clients` into cfg->clients. */
void config_load_clients(struct config_ctx *ctx,
    const struct config_node *root);

/* After everything else: refuse an open proxy (no authentication,
 * reachable from other hosts, no client list) unless the admin said
 * allow_open_proxy. */
void config_check_open_proxy(struct config_ctx *ctx);

#endif
