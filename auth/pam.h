/* SPDX-License-Identifier: ISC */
/*
 * pam.h - RFC 1929 passwords checked by a PAM service
 * (auth.password_backend = "pam").
 *
 * One check is one PAM transaction: pam_start(service, user), a
 * conversation that answers the stack's prompts with the user's name and
 * password, pam_authenticate(PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK),
 * then pam_acct_mgmt(PAM_SILENT), so that an expired or locked account is
 * refused even with the right password, and pam_end(). No session is
 * opened and no credential set: the proxy logs nobody in to this host.
 *
 * PAM calls block (files, helpers, directory servers): the verifier's
 * threads run pam_backend_check() (verifier_set_backend()), never the
 * event loop, and the verifier answers "timeout" for a stack that hangs.
 * Each check has its own handle, so checks run in parallel threads.
 *
 * The module's name is its prefix, as everywhere; pam_backend_ keeps it
 * clear of libpam's own pam_* names.
 */
#ifndef SOCKEYE_PAM_H
#define SOCKEYE_PAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "userdb.h"

/* <security/pam_appl.h>'s, for the conversation's prototype. */
struct pam_message;
struct pam_response;

/* Whether this build has PAM (configure found libpam). */
bool pam_backend_available(void);

/*
 * Check `user` and the password `pw` (`len` bytes, no NUL) with the PAM
 * service `service` (/etc/pam.d/SERVICE). `src` (NULL: none) is the
 * client, given to the stack as PAM_RHOST. BLOCKS for as long as the
 * stack takes; thread-safe. Returns USERDB_OK only when both phases
 * succeed. For a verdict the admin needs explained (an error of the
 * stack, an account refused) `why` gets one line for the log: the PAM
 * call, libpam's message for its result and the first error message the
 * stack sent, if any; else "". Never the password. Without PAM in the
 * build: USERDB_PAM_ERROR, saying so.
 */
enum userdb_result pam_backend_check(const char *service, const char *user,
    const uint8_t *pw, size_t len, const struct sockaddr *src, char *why,
    size_t whycap);

/* Which PAM call a result code came from. */
enum pam_backend_step {
	PAM_BACKEND_START = 0,	/* pam_start, pam_set_item */
	PAM_BACKEND_AUTH,	/* pam_authenticate */
	PAM_BACKEND_ACCOUNT,	/* pam_acct_mgmt */
};

/*
 * The verdict for PAM result `rc` of `step`. Pure. A wrong password or
 * an unknown name is what the client got wrong; an expired account or
 * password, or any refusal of the account phase, is the account's state;
 * anything else (no such service, a module that cannot read its data, a
 * conversation error) is USERDB_PAM_ERROR.
 */
enum userdb_result pam_backend_result(enum pam_backend_step step, int rc);

/* What the conversation answers with, and what it heard. */
struct pam_backend_conv {
	const char *user;		/* for PAM_PROMPT_ECHO_ON */
	const char *pw;			/* for PAM_PROMPT_ECHO_OFF; NUL-ended */
	char msg[160];			/* the first PAM_ERROR_MSG, or "" */
};

/*
 * The conversation function (struct pam_conv's conv; `data` is a
 * struct pam_backend_conv). Answers every PAM_PROMPT_ECHO_OFF prompt
 * with the password and every PAM_PROMPT_ECHO_ON prompt with the user
 * name, keeps the first PAM_ERROR_MSG (cut to fit) and ignores
 * PAM_TEXT_INFO. On success *resp is an array of `n` responses malloc'd
 * for libpam to free; an unknown message style, a count outside
 * 1..PAM_MAX_NUM_MSG or no memory give PAM_CONV_ERR or PAM_BUF_ERR
 * with *resp NULL and every copy of the password zeroed and freed.
 */
int pam_backend_conv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *data);

#endif
