/* SPDX-License-Identifier: ISC */
/*
 * accesslog.c - see accesslog.h.
 */
#include "config_auto.h"

#include <inttypes.h>
#include <stdio.h>

#include "accesslog.h"
#include "gss_msg.h"
#include "auth.h"
#include "config.h"
#include "log.h"
#include "session_int.h"
#include "sockaddr.h"
#include "socks5.h"
#include "socks6.h"
#include "status.h"
#include "text.h"
#include "udp.h"
#include "util.h"

static const char *
cmd_name(const struct session *s)
{
	if (!s->have_req)
		return "-";
	/* SOCKS 6's NOOP is 0, which SOCKS 5 does not have. */
	if (s->s6 != 0 && s->req.cmd == SOCKS6_CMD_NOOP)
		return "noop";
	switch (s->req.cmd) {
	case SOCKS5_CMD_CONNECT:
		return "connect";
	case SOCKS5_CMD_BIND:
		return "bind";
	case SOCKS5_CMD_UDP_ASSOCIATE:
		return "udp_associate";
	default:
		return "unknown";
	}
}

/* The authenticated name only, escaped like a destination name, or "-". */
static void
accesslog_user(const struct session *s, char *buf, size_t cap)
{
	if (s->user != NULL)
		text_escape(buf, cap, s->user, TEXT_CSTR);
	else
		util_strlcpy(buf, "-", cap);
}

/*
 * The fields BIND and UDP ASSOCIATE add to the access line (with a
 * leading space), or "": where the peer was to connect and how many
 * strangers were turned away; the relay address, the datagrams each way
 * and the drops, each way and by reason ("frag:2,source:1", or "-").
 */
static void
accesslog_extra(const struct session *s, char *buf, size_t cap)
{
	const struct udp_stats *u = &s->ustats;
	char bnd[SOCKADDR_STRLEN];
	uint64_t up = 0, down = 0;
	size_t len;
	int i, n, any = 0;

	buf[0] = '\0';
	if (!s->have_req || (s->req.cmd != SOCKS5_CMD_BIND &&
	    s->req.cmd != SOCKS5_CMD_UDP_ASSOCIATE))
		return;
	if (s->has_bnd)
		sockaddr_format(&s->bnd.sa, bnd, sizeof(bnd));
	else
		util_strlcpy(bnd, "-", sizeof(bnd));
	if (s->req.cmd == SOCKS5_CMD_BIND) {
		snprintf(buf, cap, " bnd=%s strays=%u", bnd, s->bind_strays);
		return;
	}
	for (i = 0; i < UDP_DROP_MAX; i++) {
		if (i < UDP_DROP_FIRST_DOWN)
			up += u->drops[i];
		else
			down += u->drops[i];
	}
	n = snprintf(buf, cap, " bnd=%s dgrams_up=%" PRIu64 " dgrams_down=%"
	    PRIu64 " drops_up=%" PRIu64 " drops_down=%" PRIu64 " drops=", bnd,
	    u->dgrams_up, u->dgrams_down, up, down);
	len = n > 0 && (size_t)n < cap ? (size_t)n : cap - 1;
	for (i = 0; i < UDP_DROP_MAX && len + 1 < cap; i++) {
		if (u->drops[i] == 0)
			continue;
		n = snprintf(buf + len, cap - len, "%s%s:%" PRIu64,
		    any ? "," : "", udp_drop_name((enum udp_drop)i),
		    u->drops[i]);
		len = n > 0 && (size_t)n < cap - len ? len + (size_t)n : cap - 1;
		any = 1;
	}
	if (!any && len + 1 < cap)
		util_strlcpy(buf + len, "-", cap - len);
}

void
accesslog_session(const struct session *s)
{
	char client[SOCKADDR_STRLEN], addr[SOCKADDR_STRLEN];
	char via[SOCKADDR_STRLEN + 5];
	char dst[SOCKS5_ADDR_STRLEN], rep[16], user[AUTH_USER_STRLEN];
	char extra[512];

	if (!s->cfg->log.access)
		return;
	via[0] = '\0';
	if (s->has_via) {
		util_strlcpy(via, " via=", sizeof(via));
		sockaddr_format(&s->via.sa, via + 5, sizeof(via) - 5);
	}
	accesslog_extra(s, extra, sizeof(extra));
	accesslog_user(s, user, sizeof(user));
	sockaddr_format(&s->peer.sa, client, sizeof(client));
	if (s->has_addr)
		sockaddr_format(&s->addr.sa, addr, sizeof(addr));
	else
		util_strlcpy(addr, "-", sizeof(addr));
	if (s->have_req)
		socks5_addr_format(&s->req.dst, dst, sizeof(dst));
	else
		util_strlcpy(dst, "-", sizeof(dst));
	if (s->rep >= 0)
		snprintf(rep, sizeof(rep), "%d", s->rep);
	else
		util_strlcpy(rep, "-", sizeof(rep));
	logit("access user=%s client=%s%s cmd=%s dst=%s addr=%s rep=%s "
	    "bytes_up=%" PRIu64 " bytes_down=%" PRIu64 " ms=%" PRIu64
	    " attempts=%d end=%s%s%s%s%s%s%s",
	    user, client, via, cmd_name(s), dst, addr, rep, s->stats.bytes_up,
	    s->stats.bytes_down, util_now_ms() - s->start_ms, s->attempts,
	    s->end != NULL ? s->end : "-",
	    s->reset_by != NULL ? " reset_by=" : "",
	    s->reset_by != NULL ? s->reset_by : "",
	    s->gss_level >= 0 ? " protection=" : "",
	    s->gss_level >= 0 ? gss_prot_name((uint8_t)s->gss_level) : "",
	    s->s6 != 0 ? " proto=socks6" : "", extra);
}

/* Say which rule refused a request (the access line says rep=2). */
void
accesslog_refusal(const struct session *s)
{
	char client[SOCKADDR_STRLEN], dst[SOCKS5_ADDR_STRLEN];
	char user[AUTH_USER_STRLEN];

	status_count_refusal(STATUS_REFUSED_ACCESS_RULE);
	sockaddr_format(&s->peer.sa, client, sizeof(client));
	socks5_addr_format(&s->req.dst, dst, sizeof(dst));
	accesslog_user(s, user, sizeof(user));
	if (s->refused_line == SESSION_REFUSED_UNSPECIFIED)
		logit("refused: user=%s client=%s cmd=%s dst=%s: an "
		    "unspecified address (0.0.0.0/8 or ::, in any form) "
		    "reaches this host", user, client, cmd_name(s), dst);
	else if (s->refused_line > 0)
		logit("refused: user=%s client=%s cmd=%s dst=%s: denied by the "
		    "access rule at %s:%d", user, client, cmd_name(s), dst,
		    s->cfg->file, s->refused_line);
	else
		logit("refused: user=%s client=%s cmd=%s dst=%s: no access "
		    "rule matched", user, client, cmd_name(s), dst);
}

void
accesslog_user_limit(const struct session *s, int table_full, int max)
{
	char user[AUTH_USER_STRLEN], client[SOCKADDR_STRLEN];

	if (table_full)
		logit("refused: user=%s client=%s: too many distinct clients "
		    "and users counted at once",
		    text_escape(user, sizeof(user), s->user, TEXT_CSTR),
		    sockaddr_format(&s->peer.sa, client, sizeof(client)));
	else
		logit("refused: user=%s client=%s: %d sessions, the user's "
		    "limit (limits.max_sessions_per_user or user_limits)",
		    text_escape(user, sizeof(user), s->user, TEXT_CSTR),
		    sockaddr_format(&s->peer.sa, client, sizeof(client)), max);
}
