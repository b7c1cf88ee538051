/* SPDX-License-Identifier: ISC */
/*
 * proxyproto.h - the pure parser for HAProxy's PROXY protocol header,
 * version 1 (a text line) and version 2 (binary), as HAProxy's
 * doc/proxy-protocol.txt has them: what a load balancer in front of the
 * daemon sends first on a connection, to say whose connection it is.
 *
 * proxy_parse() is a pure function over a byte buffer: no I/O, no malloc,
 * no logging, no globals, no configuration. It returns
 *
 *   PROXY_NEED_MORE  while `buf` is a valid prefix of some header (the
 *                    empty buffer included), and only then;
 *   PROXY_DONE       with *h filled in and *used set, see below;
 *   PROXY_MALFORMED  as soon as the bytes in `buf` can never begin a valid
 *                    header, even if the rest has not arrived: a first byte
 *                    that starts neither "PROXY " nor the v2 signature is
 *                    refused at once (a SOCKS client's 0x05 is never waited
 *                    on), and so is every later byte that no header has
 *                    there (a bad address character, a port above 65535, a
 *                    line that can no longer end within PROXY_V1_MAX).
 *
 * On anything but PROXY_DONE, *h and *used are left as they were. A
 * caller appends what it reads to its buffer and parses again until the
 * answer is not NEED_MORE. Which addresses to trust (the header is only
 * believed from configured proxies) stays with the caller.
 *
 * Version 1: "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ..." the
 * same, or "PROXY UNKNOWN" followed by anything up to the CRLF. Strict:
 * single spaces, addresses that inet_pton() accepts for the family named
 * (a TCP6 address may end in a dotted quad, ::ffff:192.0.2.1, as
 * inet_pton allows), ports in decimal 0..65535 with no leading zero and no
 * sign, the line ended by CRLF within PROXY_V1_MAX bytes (CRLF included;
 * inet_pton's longest IPv6 text is 45 characters, not the spec's 39, so a
 * TCP6 line using it can be too long, and is refused as such).
 * A NUL, a CR not followed by LF, or an LF without its CR anywhere in the
 * line is MALFORMED, "UNKNOWN"'s tail included. On DONE *used is the
 * line's length, CRLF included: never more than len.
 *
 * Version 2: the 12-byte signature "\r\n\r\n\0\r\nQUIT\n", a byte of
 * version (high nibble, must be 2) and command (low nibble: 0 LOCAL,
 * 1 PROXY; any other is MALFORMED), a byte of family (high nibble: 0
 * UNSPEC, 1 INET, 2 INET6, 3 UNIX) and protocol (low nibble: 0 UNSPEC,
 * 1 STREAM, 2 DGRAM), and the 16-bit big-endian length of what follows:
 * the address block, then TLVs.
 *
 *   - LOCAL: DONE once the 16 fixed bytes are in, family, protocol and
 *     length ignored (the spec says to discard the whole block); local.
 *   - PROXY: a family or protocol nibble other than those above is
 *     MALFORMED (the spec has receivers reject them), and so is a length
 *     shorter than the family's addresses: 12 for INET, 36 for INET6, 216
 *     for UNIX (0 for UNSPEC). INET and INET6 with STREAM are DONE once the
 *     16 fixed bytes and the 12 or 36 address bytes are in; any other
 *     combination (UNSPEC, UNIX, DGRAM, protocol UNSPEC) is local and DONE
 *     once the 16 fixed bytes are in.
 *
 * TLVs and whatever else the length covers beyond the addresses are never
 * read and need not be buffered: on a v2 DONE *used is the WHOLE header's
 * length, 16 + the length field, which MAY EXCEED `len`. The caller then
 * discards the first min(*used, len) bytes of its buffer and the next
 * *used - len bytes as they arrive; what follows them is the client's.
 *
 * *h on DONE: `version` 1 or 2; `local` true when the connection's own
 * addresses are to be used (v1 UNKNOWN, v2 LOCAL, and the v2 families and
 * protocols above), with src and dst then zeroed (AF_UNSPEC). Otherwise
 * src is the client and dst the address it connected to, AF_INET or
 * AF_INET6, ports in network order as in any sockaddr; an IPv4-mapped IPv6
 * address stays AF_INET6 (sockaddr_unmap() is the caller's).
 */
#ifndef SOCKEYE_PROXYPROTO_H
#define SOCKEYE_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockaddr.h"	/* union sockaddr_any */

enum proxy_parse {
	PROXY_NEED_MORE = 0,
	PROXY_DONE,
	PROXY_MALFORMED,
};

struct proxy_header {
	int version;		/* 1 or 2 */
	bool local;		/* use the connection's own addresses */
	union sockaddr_any src;	/* the client, when !local */
	union sockaddr_any dst;	/* the address the client connected to, when !local */
};

/* v1's longest line, CRLF included (107). */
#define PROXY_V1_MAX 107
/* The bytes needed before a v2 header's length is known. */
#define PROXY_V2_FIXED 16

/*
 * Parse the header at the start of buf[0..len); see the top of this file.
 * Never reads past buf[len - 1] nor writes past *h and *used.
 */
enum proxy_parse proxy_parse(const uint8_t *buf, size_t len,
    struct proxy_header *h, size_t *used) MUST_CHECK;

#endif
