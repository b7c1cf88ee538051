/* SPDX-License-Identifier: ISC */
/*
 * gssapi.c - method 0x01, GSS-API (RFC 1961) with MIT Kerberos; see
 * gssapi.h. The messages are gss_msg.h's; this file makes the GSS-API
 * calls.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_int.h"
#include "gss_msg.h"
#include "gssapi.h"

#ifdef HAVE_GSSAPI
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "gsstun.h"
#include "util.h"

struct auth_gss_keytab {
	krb5_context ctx;
	krb5_keytab kt;			/* the MEMORY: copy */
	char name[64];			/* "MEMORY:sockeye-PID-N" */
};

struct auth_gss {
	gss_cred_id_t cred;		/* acceptor, service@any host */
	unsigned levels;		/* AUTH_GSS_LEVEL_BIT() set */
	char **strip;			/* realms to strip */
	size_t n_strip;
};

enum gss_phase {
	GSS_PHASE_CONTEXT = 0,		/* MTYP 1 tokens */
	GSS_PHASE_PROTECTION,		/* MTYP 2 */
	GSS_PHASE_DONE,
};

struct gss_state {
	enum gss_phase phase;
	gss_ctx_id_t ctx;
	OM_uint32 flags;		/* the context's (ret_flags) */
	uint8_t level;			/* granted */
};

/* The tunnel's context (auth_gss_tunnel_ops). */
struct gss_tunnel {
	gss_ctx_id_t ctx;
	uint8_t level;
};

static unsigned keytab_serial;

/* "major: minor" text of a GSS-API status, into buf. */
static void
gss_status_text(OM_uint32 maj, OM_uint32 min, char *buf, size_t cap)
{
	OM_uint32 m2, ctx = 0;
	gss_buffer_desc t = GSS_C_EMPTY_BUFFER;
	size_t off = 0;
	int pass;

	buf[0] = '\0';
	for (pass = 0; pass < 2; pass++) {
		int type = pass == 0 ? GSS_C_GSS_CODE : GSS_C_MECH_CODE;
		OM_uint32 code = pass == 0 ? maj : min;

		if (code == 0)
			continue;
		ctx = 0;
		do {
			if (GSS_ERROR(gss_display_status(&m2, code, type,
			    GSS_C_NO_OID, &ctx, &t)))
				break;
			if (off < cap)
				off += (size_t)snprintf(buf + off, cap - off,
				    "%s%.*s", off > 0 ? ": " : "",
				    (int)t.length, (const char *)t.value);
			(void)gss_release_buffer(&m2, &t);
		} while (ctx != 0);
	}
}

struct auth_gss_keytab *
auth_gss_keytab_load(const char *path, const char *service, char *err,
    size_t errcap)
{
	struct auth_gss_keytab *k;
	krb5_keytab src = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	krb5_error_code rc;
	char fname[4096], held[512];
	size_t nkeys = 0, nservice = 0, hoff = 0;
	int fd;

	held[0] = '\0';
	/* A clear reason for the commonest mistakes, before krb5 words. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errcap, "cannot read %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	close(fd);
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	if ((rc = krb5_init_context(&k->ctx)) != 0) {
		snprintf(err, errcap, "cannot start Kerberos: %s",
		    error_message(rc));
		free(k);
		return NULL;
	}
	snprintf(fname, sizeof(fname), "FILE:%s", path);
	snprintf(k->name, sizeof(k->name), "MEMORY:sockeye-%ld-%u",
	    (long)getpid(), ++keytab_serial);
	if ((rc = krb5_kt_resolve(k->ctx, fname, &src)) != 0 ||
	    (rc = krb5_kt_resolve(k->ctx, k->name, &k->kt)) != 0 ||
	    (rc = krb5_kt_start_seq_get(k->ctx, src, &cur)) != 0)
		goto kerr;
	while ((rc = krb5_kt_next_entry(k->ctx, src, &e, &cur)) == 0) {
		krb5_error_code arc = krb5_kt_add_entry(k->ctx, k->kt, &e);
		char *pname = NULL;

		nkeys++;
		if (krb5_princ_size(k->ctx, e.principal) >= 1) {
			const krb5_data *c = krb5_princ_component(k->ctx,
			    e.principal, 0);

			if (c->length == strlen(service) &&
			    memcmp(c->data, service, c->length) == 0)
				nservice++;
		}
		if (krb5_unparse_name(k->ctx, e.principal, &pname) == 0) {
			if (strstr(held, pname) == NULL && hoff < sizeof(held))
				hoff += (size_t)snprintf(held + hoff,
				    sizeof(held) - hoff, "%s%s",
				    hoff > 0 ? ", " : "", pname);
			krb5_free_unparsed_name(k->ctx, pname);
		}
		krb5_free_keytab_entry_contents(k->ctx, &e);
		if (arc != 0) {
			rc = arc;
			(void)krb5_kt_end_seq_get(k->ctx, src, &cur);
			goto kerr;
		}
	}
	(void)krb5_kt_end_seq_get(k->ctx, src, &cur);
	if (rc != KRB5_KT_END)
		goto kerr;
	(void)krb5_kt_close(k->ctx, src);
	src = NULL;
	if (nkeys == 0) {
		snprintf(err, errcap, "%s holds no key", path);
		goto fail;
	}
	if (nservice == 0) {
		snprintf(err, errcap, "%s holds no key of service \"%s\" "
		    "(it has %s)", path, service, held);
		goto fail;
	}
	return k;
kerr:
	{
		const char *m = krb5_get_error_message(k->ctx, rc);

		snprintf(err, errcap, "cannot read the keytab %s: %s", path,
		    m);
		krb5_free_error_message(k->ctx, m);
	}
fail:
	if (src != NULL)
		(void)krb5_kt_close(k->ctx, src);
	auth_gss_keytab_free(k);
	return NULL;
}

void
auth_gss_keytab_free(struct auth_gss_keytab *k)
{
	if (k == NULL)
		return;
	if (k->kt != NULL)
		(void)krb5_kt_close(k->ctx, k->kt);
	krb5_free_context(k->ctx);
	free(k);
}

struct auth_gss *
auth_gss_new(const struct auth_gss_keytab *kt, const char *service,
    unsigned levels, char *const *strip_realms, size_t n_strip_realms,
    char *err, size_t errcap)
{
	struct auth_gss *g;
	OM_uint32 maj, min, m2;
	gss_buffer_desc nb;
	gss_name_t name = GSS_C_NO_NAME;
	char text[256];
	size_t i;

	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->strip = calloc(n_strip_realms + 1, sizeof(char *))) == NULL) {
		free(g);
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	g->cred = GSS_C_NO_CREDENTIAL;
	g->levels = levels;
	for (i = 0; i < n_strip_realms; i++) {
		if ((g->strip[i] = strdup(strip_realms[i])) == NULL) {
			snprintf(err, errcap, "out of memory");
			auth_gss_free(g);
			return NULL;
		}
		g->n_strip++;
	}
	/* The process-wide acceptor keytab: the master's copy. */
	maj = krb5_gss_register_acceptor_identity(kt->name);
	if (GSS_ERROR(maj)) {
		snprintf(err, errcap, "cannot use the keytab copy %s",
		    kt->name);
		auth_gss_free(g);
		return NULL;
	}
	/* "rcmd" with no host: rcmd/ANY-HOST@ANY-REALM in the keytab. */
	nb.value = (void *)(uintptr_t)service;
	nb.length = strlen(service);
	maj = gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &name);
	if (!GSS_ERROR(maj))
		maj = gss_acquire_cred(&min, name, GSS_C_INDEFINITE,
		    GSS_C_NO_OID_SET, GSS_C_ACCEPT, &g->cred, NULL, NULL);
	(void)gss_release_name(&m2, &name);
	if (GSS_ERROR(maj)) {
		gss_status_text(maj, min, text, sizeof(text));
		snprintf(err, errcap, "no acceptor credentials for service "
		    "\"%s\": %s", service, text);
		auth_gss_free(g);
		return NULL;
	}
	return g;
}

void
auth_gss_free(struct auth_gss *g)
{
	OM_uint32 min;
	size_t i;

	if (g == NULL)
		return;
	if (g->cred != GSS_C_NO_CREDENTIAL)
		(void)gss_release_cred(&min, &g->cred);
	for (i = 0; i < g->n_strip; i++)
		free(g->strip[i]);
	free(g->strip);
	free(g);
}

/* Fail with the abort message 01 FF, keeping the GSS-API's words. */
static enum auth_status
gss_abort(struct auth *a, const char *reason, OM_uint32 maj, OM_uint32 min)
{
	uint8_t ab[GSS_MSG_ABORT_LEN];

	if (maj != 0)
		gss_status_text(maj, min, a->fail_detail,
		    sizeof(a->fail_detail));
	(void)auth_out(a, ab, gss_msg_encode_abort(ab, sizeof(ab)));
	return auth_fail(a, reason);
}

/* Queue a message of type `mtyp` with `tok`; -1 when it cannot go. */
static int
gss_send(struct auth *a, uint8_t mtyp, const void *tok, size_t len)
{
	uint8_t msg[AUTH_OUT_MAX];
	size_t n = gss_msg_encode(msg, sizeof(msg), mtyp, tok, len);

	if (n == 0)
		return -1;
	return auth_out(a, msg, n);
}

/*
 * The authenticated principal as the user name: "alice@EXAMPLE.TEST",
 * or "alice" when its realm is one to strip. -1 when it has none or it
 * does not fit.
 */
static int
gss_set_user(struct auth *a, gss_name_t src)
{
	const struct auth_gss *g = a->p->gss;
	OM_uint32 maj, min;
	gss_buffer_desc t = GSS_C_EMPTY_BUFFER;
	const char *at;
	size_t len, i;
	int rc = -1;

	maj = gss_display_name(&min, src, &t, NULL);
	if (GSS_ERROR(maj))
		return -1;
	len = t.length;
	if (len == 0 || len >= sizeof(a->user) ||
	    memchr(t.value, '\0', len) != NULL)
		goto out;
	memcpy(a->user, t.value, len);
	a->user[len] = '\0';
	at = strrchr(a->user, '@');
	if (at != NULL)
		for (i = 0; i < g->n_strip; i++)
			if (strcmp(at + 1, g->strip[i]) == 0) {
				a->user[at - a->user] = '\0';
				break;
			}
	rc = a->user[0] != '\0' ? 0 : -1;
out:
	(void)gss_release_buffer(&min, &t);
	return rc;
}

/* The level to grant for `asked`, or -1 when none will do. */
static int
gss_grant(const struct auth *a, const struct gss_state *st, uint8_t asked)
{
	unsigned can = a->p->gss->levels & AUTH_GSS_LEVEL_BIT(GSS_PROT_NONE);
	int l;

	if (st->flags & GSS_C_INTEG_FLAG)
		can |= a->p->gss->levels &
		    AUTH_GSS_LEVEL_BIT(GSS_PROT_INTEGRITY);
	if ((st->flags & GSS_C_INTEG_FLAG) && (st->flags & GSS_C_CONF_FLAG))
		can |= a->p->gss->levels &
		    AUTH_GSS_LEVEL_BIT(GSS_PROT_CONFIDENTIALITY);
	/* "Selective" is per message: confidentiality covers it. */
	if (asked == GSS_PROT_SELECTIVE)
		asked = GSS_PROT_CONFIDENTIALITY;
	if (can & AUTH_GSS_LEVEL_BIT(asked))
		return asked;
	for (l = GSS_PROT_CONFIDENTIALITY; l >= GSS_PROT_NONE; l--)
		if (can & AUTH_GSS_LEVEL_BIT(l))
			return l;
	return -1;
}

static enum auth_status
gss_context_step(struct auth *a, struct gss_state *st,
    const struct gss_msg *m)
{
	OM_uint32 maj, min, m2;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	int sent;

	if (m->mtyp != GSS_MTYP_CONTEXT || m->len == 0)
		return gss_abort(a, "bad-token", 0, 0);
	in.value = (void *)(uintptr_t)m->token;
	in.length = m->len;
	maj = gss_accept_sec_context(&min, &st->ctx, a->p->gss->cred, &in,
	    GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &out, &st->flags, NULL,
	    NULL);
	if (GSS_ERROR(maj)) {
		(void)gss_release_buffer(&m2, &out);
		(void)gss_release_name(&m2, &src);
		a->check = AUTH_CHECK_BAD;
		return gss_abort(a, "bad-token", maj, min);
	}
	sent = out.length == 0 ? 0 :
	    gss_send(a, GSS_MTYP_CONTEXT, out.value, out.length);
	(void)gss_release_buffer(&m2, &out);
	if (sent == -1) {
		(void)gss_release_name(&m2, &src);
		return gss_abort(a, "token-too-large", 0, 0);
	}
	if (maj & GSS_S_CONTINUE_NEEDED)
		return AUTH_NEED_MORE;
	if (gss_set_user(a, src) == -1) {
		(void)gss_release_name(&m2, &src);
		a->check = AUTH_CHECK_BAD;
		return gss_abort(a, "bad-principal", 0, 0);
	}
	(void)gss_release_name(&m2, &src);
	a->check = AUTH_CHECK_OK;
	st->phase = GSS_PHASE_PROTECTION;
	return AUTH_NEED_MORE;
}

static enum auth_status
gss_protection_step(struct auth *a, struct gss_state *st,
    const struct gss_msg *m)
{
	OM_uint32 maj, min, m2;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	uint8_t asked, granted;
	bool nec;
	int l, sent;

	if (m->mtyp != GSS_MTYP_PROTECTION || m->len == 0)
		return gss_abort(a, "bad-protection-message", 0, 0);
	/* A one-byte token is the NEC style: the octet unwrapped. */
	nec = m->len == 1;
	if (nec) {
		asked = m->token[0];
	} else {
		in.value = (void *)(uintptr_t)m->token;
		in.length = m->len;
		maj = gss_unwrap(&min, st->ctx, &in, &out, NULL, NULL);
		if (GSS_ERROR(maj) || out.length != 1) {
			(void)gss_release_buffer(&m2, &out);
			return gss_abort(a, "bad-protection-message", maj,
			    min);
		}
		asked = ((const uint8_t *)out.value)[0];
		(void)gss_release_buffer(&m2, &out);
	}
	if (asked > GSS_PROT_SELECTIVE)
		return gss_abort(a, "bad-protection-message", 0, 0);
	if ((l = gss_grant(a, st, asked)) == -1)
		return gss_abort(a, "protection-refused", 0, 0);
	granted = (uint8_t)l;
	if (nec) {
		sent = gss_send(a, GSS_MTYP_PROTECTION, &granted, 1);
	} else {
		in.value = &granted;
		in.length = 1;
		maj = gss_wrap(&min, st->ctx, 0, GSS_C_QOP_DEFAULT, &in, NULL,
		    &out);
		if (GSS_ERROR(maj)) {
			(void)gss_release_buffer(&m2, &out);
			return gss_abort(a, "wrap-failed", maj, min);
		}
		sent = gss_send(a, GSS_MTYP_PROTECTION, out.value,
		    out.length);
		(void)gss_release_buffer(&m2, &out);
	}
	if (sent == -1)
		return gss_abort(a, "token-too-large", 0, 0);
	st->level = granted;
	st->phase = GSS_PHASE_DONE;
	return AUTH_OK;
}

static int
gss_start(struct auth *a)
{
	struct gss_state *st;

	if (a->p->gss == NULL)
		return -1;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -1;
	st->ctx = GSS_C_NO_CONTEXT;
	a->priv = st;
	return 0;
}

static enum auth_status
gss_step(struct auth *a, const uint8_t *in, size_t len, size_t *used)
{
	struct gss_state *st = a->priv;
	struct gss_msg m;
	enum auth_status s = AUTH_NEED_MORE;

	*used = 0;
	while (s == AUTH_NEED_MORE) {
		size_t n = 0;

		switch (gss_msg_parse(in + *used, len - *used, &m, &n)) {
		case GSS_MSG_NEED_MORE:
			return AUTH_NEED_MORE;
		case GSS_MSG_OK:
			break;
		default:
			return gss_abort(a, "bad-message", 0, 0);
		}
		*used += n;
		if (m.mtyp == GSS_MTYP_ABORT)
			return auth_fail(a, "client-abort");
		s = st->phase == GSS_PHASE_CONTEXT ?
		    gss_context_step(a, st, &m) :
		    gss_protection_step(a, st, &m);
	}
	return s;
}

static void
gss_free(struct auth *a)
{
	struct gss_state *st = a->priv;
	OM_uint32 min;

	if (st == NULL)
		return;
	if (st->ctx != GSS_C_NO_CONTEXT)
		(void)gss_delete_sec_context(&min, &st->ctx, GSS_C_NO_BUFFER);
	free(st);
	a->priv = NULL;
}

/*
 * Whether these bytes hold a whole context token while nothing was
 * checked yet (the session holds a failing source before it).
 */
bool
auth_gss_input_checks(const struct auth *a, const uint8_t *in, size_t len)
{
	const struct gss_state *st = a->priv;
	struct gss_msg m;
	size_t used;

	return st != NULL && st->phase == GSS_PHASE_CONTEXT &&
	    gss_msg_parse(in, len, &m, &used) == GSS_MSG_OK &&
	    m.mtyp == GSS_MTYP_CONTEXT;
}

uint8_t
auth_gss_level(const struct auth *a)
{
	const struct gss_state *st = a->priv;

	if (a->m != &auth_method_gssapi || st == NULL)
		return GSS_PROT_NONE;
	return st->level;
}

void *
auth_gss_take_tunnel(struct auth *a)
{
	struct gss_state *st = a->priv;
	struct gss_tunnel *t;

	if (a->m != &auth_method_gssapi || st == NULL ||
	    st->ctx == GSS_C_NO_CONTEXT || st->phase != GSS_PHASE_DONE)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ctx = st->ctx;
	t->level = st->level;
	st->ctx = GSS_C_NO_CONTEXT;
	return t;
}

/*
 * gss_wrap() or gss_unwrap() one chunk into `out`. At confidentiality
 * both ways must be encrypted: a client's cleartext message is refused.
 * Plain bytes the library returned are wiped before they are released.
 */
static int
tunnel_call(struct gss_tunnel *t, bool wrap, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	OM_uint32 maj, min, m2;
	gss_buffer_desc ib, ob = GSS_C_EMPTY_BUFFER;
	int conf = 0, rc = -1;

	ib.value = (void *)(uintptr_t)in;
	ib.length = len;
	if (wrap)
		maj = gss_wrap(&min, t->ctx,
		    t->level == GSS_PROT_CONFIDENTIALITY, GSS_C_QOP_DEFAULT,
		    &ib, &conf, &ob);
	else
		maj = gss_unwrap(&min, t->ctx, &ib, &ob, &conf, NULL);
	if (!GSS_ERROR(maj) && ob.length <= cap &&
	    (t->level != GSS_PROT_CONFIDENTIALITY || conf)) {
		memcpy(out, ob.value, ob.length);
		*outlen = ob.length;
		rc = 0;
	}
	if (!wrap && ob.length > 0)
		explicit_bzero(ob.value, ob.length);
	(void)gss_release_buffer(&m2, &ob);
	return rc;
}

static int
tunnel_wrap(void *arg, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *outlen)
{
	return tunnel_call(arg, true, in, len, out, cap, outlen);
}

static int
tunnel_unwrap(void *arg, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *outlen)
{
	return tunnel_call(arg, false, in, len, out, cap, outlen);
}

static void
tunnel_free(void *arg)
{
	struct gss_tunnel *t = arg;
	OM_uint32 min;

	if (t == NULL)
		return;
	if (t->ctx != GSS_C_NO_CONTEXT)
		(void)gss_delete_sec_context(&min, &t->ctx, GSS_C_NO_BUFFER);
	free(t);
}

const struct gsstun_ops auth_gss_tunnel_ops = {
	.wrap = tunnel_wrap,
	.unwrap = tunnel_unwrap,
	.free = tunnel_free,
};

const struct auth_method auth_method_gssapi = {
	.name = "gssapi",
	.id = 0x01,
	.start = gss_start,
	.step = gss_step,
	.verdict = NULL,
	.free = gss_free,
};

#else /* !HAVE_GSSAPI: what the master and the workers call, inert. */

struct auth_gss_keytab *
auth_gss_keytab_load(const char *path, const char *service, char *err,
    size_t errcap)
{
	(void)path;
	(void)service;
	snprintf(err, errcap, "this sockeyed was built without GSS-API");
	return NULL;
}

void
auth_gss_keytab_free(struct auth_gss_keytab *kt)
{
	(void)kt;
}

struct auth_gss *
auth_gss_new(const struct auth_gss_keytab *kt, const char *service,
    unsigned levels, char *const *strip_realms, size_t n_strip_realms,
    char *err, size_t errcap)
{
	(void)kt;
	(void)service;
	(void)levels;
	(void)strip_realms;
	(void)n_strip_realms;
	snprintf(err, errcap, "this sockeyed was built without GSS-API");
	return NULL;
}

void
auth_gss_free(struct auth_gss *g)
{
	(void)g;
}

uint8_t
auth_gss_level(const struct auth *a)
{
	(void)a;
	return GSS_PROT_NONE;
}

void *
auth_gss_take_tunnel(struct auth *a)
{
	(void)a;
	return NULL;
}

#endif /* HAVE_GSSAPI */
