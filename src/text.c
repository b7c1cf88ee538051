/* SPDX-License-Identifier: ISC */
/*
 * text.c - see text.h.
 */
#include "config_auto.h"

#include <string.h>

#include "text.h"

static size_t
input_len(const void *s, size_t len)
{
	return len == TEXT_CSTR ? strlen(s) : len;
}

static int
must_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\';
}

char *
text_escape(char *buf, size_t cap, const void *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s;
	size_t i, o = 0;

	if (cap == 0)
		return buf;
	len = input_len(s, len);
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (!must_escape(c)) {
			if (o + 1 >= cap)
				break;
			buf[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o] = '\0';
	return buf;
}

char *
text_quote(char *buf, size_t cap, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i, n, room;

	if (cap == 0)
		return buf;
	len = input_len(s, len);
	room = cap - 1;
	n = len;
	if (len > room)		/* leave room for the "..." */
		n = room >= 3 ? room - 3 : 0;
	for (i = 0; i < n; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	if (n < len && room >= 3) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}
