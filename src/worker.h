/*
 * worker.h - one worker process: an ev loop that accepts on the shared
 * listeners and runs sessions until told to stop.
 */
#ifndef SOCKEYE_WORKER_H
#define SOCKEYE_WORKER_H

#include <stddef.h>
#include "util.h"

struct config;
struct listener;
struct worker;
struct session;
struct resolver;
struct ev_loop;
struct userdb;
struct auth_params;
struct verifier;
struct failtab;

/*
 * Run the worker in the current (already forked, privilege-dropped)
 * process. `db` is the users file the master read (NULL when no method
 * needs it); the worker only reads it. Returns the process exit status when the loop has ended: after
 * SIGTERM, once every session has finished.
 */
int worker_run(const struct config *cfg, const struct userdb *db,
    const struct listener *ls, size_t nls, int id);

/* What sessions need from their worker. */
struct ev_loop *worker_loop(struct worker *w);
struct resolver *worker_resolver(struct worker *w);
const struct config *worker_config(struct worker *w);
int worker_id(struct worker *w);

/*
 * Authentication: what the methods may use (users, CHAP policy), the
 * password verifier (threads + verified-credential cache; NULL when
 * "password" is not configured) and the failed-login table.
 */
const struct auth_params *worker_auth_params(struct worker *w);
struct verifier *worker_verifier(struct worker *w);
struct failtab *worker_failtab(struct worker *w);

/* Sessions tell the worker when they end (drain accounting). */
void worker_session_closed(struct worker *w, struct session *s);

#endif
