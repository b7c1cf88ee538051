/* SPDX-License-Identifier: ISC */
/*
 * accesslog.h - a session's log lines for the operator: the access line
 * every session ends with, and the "refused:" lines that say which policy
 * turned a request away (the access line then says rep=2 or rep=1).
 *
 * Each writes one line through log.h at info level (logit()), from the
 * session's fields; none blocks, allocates or changes the session.
 */
#ifndef SOCKEYE_ACCESSLOG_H
#define SOCKEYE_ACCESSLOG_H

struct session;

/*
 * The access line (when log.access is on): user, client, command,
 * destination, address used, reply, bytes each way, duration, connect
 * attempts, why it ended; BIND and UDP ASSOCIATE add their own fields.
 * For session_free(), once the fds are closed and the counts final.
 */
void accesslog_session(const struct session *s);

/*
 * An access-rule refusal: which rule refused s->req (s->refused_line:
 * a deny rule's line, 0 when no rule matched, or an unspecified
 * destination), and counts it in the status (STATUS_REFUSED_ACCESS_RULE).
 */
void accesslog_refusal(const struct session *s);

/*
 * A user over limits.max_sessions_per_user (or its user_limits entry):
 * `max` sessions, or, when `table_full`, the shared count table had no
 * room. The session has an authenticated user.
 */
void accesslog_user_limit(const struct session *s, int table_full, int max);

#endif
