/* SPDX-License-Identifier: ISC */
/*
 * text.h - bytes from outside (a client, a users file, a config file) made
 * safe to print: escaped for a log field, or quoted for a message to the
 * admin. Pure functions; every output is NUL-terminated and fits `cap`.
 */
#ifndef SOCKEYE_TEXT_H
#define SOCKEYE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* As `len`: the input is NUL-terminated, take it up to its NUL. */
#define TEXT_CSTR SIZE_MAX

/* The room text_escape() needs for `n` input bytes, NUL included. */
#define TEXT_ESCAPE_LEN(n) ((n) * 4 + 1)

/*
 * For a key=value log field: printable ASCII as is except space, '"', '='
 * and '\\'; every other byte (controls, DEL, non-ASCII) as \xHH. So a
 * value can forge neither another field nor another line, and the output
 * reads back unambiguously. Cut before an escape that does not fit whole;
 * returns `buf`.
 */
char *text_escape(char *buf, size_t cap, const void *s, size_t len);

/*
 * For a message to the admin ("FILE:LINE: bad value \"%s\""): one line of
 * printable ASCII, every other byte as '?', and cut short with "..." when
 * all of it does not fit, so that a pasted blob cannot drown the message.
 * Returns `buf`.
 */
char *text_quote(char *buf, size_t cap, const void *s, size_t len);

#endif
